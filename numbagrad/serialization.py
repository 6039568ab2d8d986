"""Checkpoints: ``numbagrad.save(obj, path)`` and ``numbagrad.load(path, map_location=None)``.

What can be saved: nested ``dict`` / ``OrderedDict`` (keys ``str`` or ``int``), ``list`` and
``tuple`` of Tensors (any dtype and shape, 0-d included; a ``Parameter`` is saved as a
plain tensor), numpy arrays and scalars, ``int``, ``float`` (inf and nan too), ``bool``,
``str`` and ``None``: everything in the state dicts of a model, an optimizer and a
scheduler. Anything else raises ``TypeError`` naming where it sits, e.g.
``obj['optimizer']['state'][0]['step']``.

File format: a zip archive laid out like numpy's ``.npz`` (uncompressed), readable with
``numpy.load(path, allow_pickle=False)``:

* ``__structure__.npy``: uint8 bytes of a UTF-8 JSON document
  ``{"format": "numbagrad", "version": 1, "root": <node>}``;
* ``a0.npy``, ``a1.npy``, ...: the raw data of the tensors and arrays, as ``.npy``
  (dtype, shape, bytes).

A node is JSON ``null``/``true``/``false``/an integer/a string/a finite float for itself,
a JSON list for a ``list``, or an object with one tag: ``{"$tuple": [...]}``,
``{"$dict": [[key, node], ...]}``, ``{"$odict": [...]}``, ``{"$float": "inf"}``,
``{"$tensor": "a0", "device": "cpu", "requires_grad": false}``, ``{"$ndarray": "a1"}``,
``{"$npscalar": "a2"}``. Loading builds only these types, and no pickle is written or
read, so opening a checkpoint cannot run code. Tensors that share one array are stored
once and share memory again after loading.

Writing is atomic: the archive goes to a temporary file in the target's directory, is
flushed and ``fsync``-ed, then ``os.replace``-d over the target, and the directory is
``fsync``-ed. A save interrupted at any moment (even by SIGKILL or a power cut) leaves the
previous checkpoint intact; at worst a stray ``.<name>.*.tmp`` file remains beside it.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import zipfile
from collections import OrderedDict

import numpy as np

from .backend import device as _device
from .tensor import Tensor

__all__ = ["save", "load"]

_FORMAT, _VERSION = "numbagrad", 1
_STRUCTURE = "__structure__"


# ------------------------------------------------------------------ encoding


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._by_data: dict[int, str] = {}   # id(tensor._data) -> array name
        self._keep: list = []                # keeps those ids valid while saving
        self._open: set[int] = set()         # containers on the current path (cycles)

    def _add(self, arr: np.ndarray) -> str:
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"dtype {arr.dtype} cannot be saved")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = np.require(arr, requirements="C")  # loads back C-contiguous
        return name

    def node(self, obj, where: str):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, Tensor):
            key = id(obj._data)
            name = self._by_data.get(key)
            if name is None:
                name = self._add(obj.detach().cpu().numpy())
                self._by_data[key] = name
                self._keep.append(obj._data)
            return {"$tensor": name, "device": str(obj.device),
                    "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"$ndarray": self._checked(obj, where)}
        if isinstance(obj, np.generic):
            return {"$npscalar": self._checked(np.asarray(obj), where)}
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"$float": repr(obj)}
        if type(obj) in (list, tuple, dict, OrderedDict):
            if id(obj) in self._open:
                raise ValueError(f"numbagrad.save: {where} contains itself")
            self._open.add(id(obj))
            try:
                return self._container(obj, where)
            finally:
                self._open.discard(id(obj))
        raise TypeError(f"numbagrad.save: cannot save {where}: an object of type "
                        f"{type(obj).__module__}.{type(obj).__qualname__}. Supported: "
                        "Tensor, numpy array or scalar, int, float, bool, str, None, and "
                        "dict / OrderedDict / list / tuple of these")

    def _checked(self, arr: np.ndarray, where: str) -> str:
        try:
            return self._add(arr)
        except TypeError as e:
            raise TypeError(f"numbagrad.save: cannot save {where}: {e}") from None

    def _container(self, obj, where: str):
        if isinstance(obj, list):
            return [self.node(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"$tuple": [self.node(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        items = []
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(f"numbagrad.save: cannot save {where}: dict key {k!r} of type "
                                f"{type(k).__name__} (keys must be str or int)")
            items.append([k, self.node(v, f"{where}[{k!r}]")])
        return {"$odict" if type(obj) is OrderedDict else "$dict": items}


def _write_archive(f, structure: dict, arrays: dict) -> None:
    doc = json.dumps(structure, allow_nan=False, separators=(",", ":")).encode()
    members = {_STRUCTURE: np.frombuffer(doc, dtype=np.uint8), **arrays}
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        for name, arr in members.items():
            with z.open(name + ".npy", mode="w", force_zip64=True) as m:
                np.lib.format.write_array(m, arr, allow_pickle=False)


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(obj, f) -> None:
    """Write ``obj`` (a checkpoint: nested dicts/lists/tuples of tensors and plain values)
    to the path ``f`` atomically, or to an open binary file object."""
    enc = _Encoder()
    structure = {"format": _FORMAT, "version": _VERSION, "root": enc.node(obj, "obj")}
    if hasattr(f, "write"):
        _write_archive(f, structure, enc.arrays)
        return
    path = os.path.abspath(os.fspath(f))
    directory, base = os.path.split(path)
    tmp = os.path.join(directory, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_archive(fh, structure, enc.arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


# ------------------------------------------------------------------ decoding


class _Decoder:
    def __init__(self, npz, map_location) -> None:
        self.npz = npz
        self.map_location = map_location
        self.arrays: dict[str, np.ndarray] = {}

    def _array(self, name) -> np.ndarray:
        if not isinstance(name, str) or name == _STRUCTURE or name not in self.npz.files:
            raise ValueError(f"corrupt checkpoint: missing array {name!r}")
        if name not in self.arrays:
            self.arrays[name] = self.npz[name]
        return self.arrays[name]

    def _device(self, saved: str):
        m = self.map_location
        if m is None:
            return _device(saved)
        if isinstance(m, dict):
            return _device(m.get(saved, saved))
        return _device(m)

    def node(self, n):
        if n is None or isinstance(n, (bool, int, float, str)):
            return n
        if isinstance(n, list):
            return [self.node(v) for v in n]
        if not isinstance(n, dict) or not n:
            raise ValueError(f"corrupt checkpoint: unexpected node {n!r:.80}")
        if "$tensor" in n:
            return self._tensor(n)
        if len(n) != 1:
            raise ValueError(f"corrupt checkpoint: unexpected node {n!r:.80}")
        tag, v = next(iter(n.items()))
        if tag == "$tuple" and isinstance(v, list):
            return tuple(self.node(x) for x in v)
        if tag in ("$dict", "$odict") and isinstance(v, list):
            out = OrderedDict() if tag == "$odict" else {}
            for pair in v:
                if not (isinstance(pair, list) and len(pair) == 2
                        and isinstance(pair[0], (str, int)) and not isinstance(pair[0], bool)):
                    raise ValueError("corrupt checkpoint: bad dict entry")
                out[pair[0]] = self.node(pair[1])
            return out
        if tag == "$float" and v in ("inf", "-inf", "nan"):
            return float(v)
        if tag == "$ndarray":
            return self._array(v).copy()
        if tag == "$npscalar":
            return self._array(v)[()]
        raise ValueError(f"corrupt checkpoint: unknown tag {tag!r}")

    def _tensor(self, n: dict) -> Tensor:
        from .creation import from_numpy

        arr = self._array(n["$tensor"])
        t = from_numpy(arr)
        dev = self._device(n.get("device", "cpu"))
        if dev.type != "cpu":
            t = t.to(dev)
        if n.get("requires_grad"):
            t.requires_grad_(True)
        return t


def load(f, map_location=None):
    """Read a checkpoint written by ``save``. ``map_location``: None (each tensor back on
    the device it was saved from), a device such as ``"cpu"``, or a dict mapping saved
    device names to new ones (``{"cuda:0": "cpu"}``)."""
    if callable(map_location) and not isinstance(map_location, dict):
        raise TypeError("numbagrad.load: map_location must be None, a device or a dict of "
                        "device names (callables are not supported)")
    src = f if hasattr(f, "read") else os.fspath(f)
    try:
        npz = np.load(src, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise ValueError(f"numbagrad.load: {f!r} is not a numbagrad checkpoint: {e}") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ValueError(f"numbagrad.load: {f!r} is not a numbagrad checkpoint (a bare .npy)")
    with npz:
        if _STRUCTURE not in npz.files:
            raise ValueError(f"numbagrad.load: {f!r} is not a numbagrad checkpoint")
        try:
            doc = json.loads(npz[_STRUCTURE].tobytes().decode())
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"corrupt checkpoint {f!r}: {e}") from None
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise ValueError(f"numbagrad.load: {f!r} is not a numbagrad checkpoint")
        if doc.get("version") != _VERSION:
            raise ValueError(f"numbagrad.load: checkpoint format version {doc.get('version')} "
                             f"is not supported (this numbagrad reads version {_VERSION})")
        return _Decoder(npz, map_location).node(doc["root"])

