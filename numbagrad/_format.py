"""PyTorch-style printing: ``tensor([[1.0000, 2.5000]], requires_grad=True)``."""
from __future__ import annotations

import numpy as np


def _float_formatter(vals):
    finite = vals[np.isfinite(vals)]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.4f}"
    integral = np.all(finite == np.round(finite))
    nz = np.abs(finite[finite != 0])
    amax = nz.max() if nz.size else 0.0
    amin = nz.min() if nz.size else 0.0
    ratio_big = nz.size and amax / amin > 1000
    if integral and not ratio_big and amax <= 1e8:
        width = max(len(f"{v:.0f}.") for v in finite)
        return lambda v: (_special(v) or f"{v:.0f}.").rjust(width)
    if ratio_big or amax > 1e8 or (nz.size and amin < 1e-4):
        width = max(len(f"{v:.4e}") for v in finite)
        return lambda v: (_special(v) or f"{v:.4e}").rjust(width)
    width = max(len(f"{v:.4f}") for v in finite)
    return lambda v: (_special(v) or f"{v:.4f}").rjust(width)


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _body(arr: np.ndarray, indent: int) -> str:
    if arr.dtype.kind == "f":
        fmt = _float_formatter(arr.astype(np.float64)) if arr.size else str
    elif arr.dtype.kind == "b":
        fmt = lambda v: "True" if v else "False"  # noqa: E731
        width = 5 if (arr.size and not arr.all()) else 4
        base = fmt
        fmt = lambda v: base(v).rjust(width)  # noqa: E731
    else:
        width = max((len(str(v)) for v in arr.reshape(-1)), default=1)
        fmt = lambda v: str(v).rjust(width)  # noqa: E731
    summarize = arr.size > 1000

    def rec(a, ind):
        if a.ndim == 0:
            return fmt(a.item() if a.dtype.kind != "f" else float(a))
        if a.ndim == 1:
            items = list(a)
            if summarize and len(items) > 6:
                parts = [fmt(v) for v in items[:3]] + [" ..."] + [fmt(v) for v in items[-3:]]
            else:
                parts = [fmt(v) for v in items]
            return "[" + ", ".join(parts) + "]"
        rows = list(range(a.shape[0]))
        if summarize and len(rows) > 6:
            rows = rows[:3] + [None] + rows[-3:]
        sep = "," + "\n" * (a.ndim - 1) + " " * (ind + 1)
        parts = ["..." if r is None else rec(a[r], ind + 1) for r in rows]
        return "[" + sep.join(parts) + "]"

    return rec(arr, indent)


def format_tensor(t) -> str:
    arr = t._host()
    prefix = "tensor("
    if arr.size == 0 and arr.ndim == 1:
        body = "[]"
    elif arr.size == 0:
        body = "[]"
    else:
        body = _body(arr, len(prefix))
    extras = []
    if t._device.type != "cpu":
        extras.append(f"device='{t._device}'")
    default_float = arr.dtype.kind == "f" and arr.dtype == _default_np()
    if arr.size == 0 and arr.ndim != 1:
        extras.append(f"size={tuple(arr.shape)}")
    if not (default_float or arr.dtype == np.int64 or arr.dtype == np.bool_):
        extras.append(f"dtype=numbagrad.{t.dtype.name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return prefix + ", ".join([body] + extras) + ")"


def _default_np():
    from .dtypes import get_default_dtype

    return get_default_dtype().np
