"""Compile every CUDA kernel signature the simulator suite launched into PTX for a real GPU.

The simulator runs kernel bodies as Python, so it cannot tell whether numba-cuda can type
and compile them. ``NUMBAGRAD_CUDA_RECORD=<file>`` makes each launch record its kernel and
argument types; this script (run without ``NUMBA_ENABLE_CUDASIM``) compiles each pair with
``numba.cuda.compile_ptx``, which needs NVVM (``pip install numbagrad[cuda]``) but no GPU.

    python tests/cuda_ptx.py RECORD_FILE [--cc 9.0] [--jobs N]
"""
from __future__ import annotations

import argparse
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor


def _compile(batch, cc):
    from types import SimpleNamespace

    import numba.cuda.dispatcher as dispatcher
    from numba import cuda
    from numba.core import types

    # A device function called from a kernel is compiled for "the current device"; with no
    # GPU (and no driver) there is none, so name the target here.
    dispatcher.get_current_device = lambda: SimpleNamespace(compute_capability=cc)

    from numbagrad.kernels import cuda as kcuda  # noqa: F401  (fills the registry)
    from numbagrad.kernels.cuda._jit import CudaKernel

    fails = []
    for name, argtypes in batch:
        k = CudaKernel.registry.get(name)
        if k is None:
            fails.append((name, str(argtypes), "no such kernel in the registry"))
            continue
        try:
            cuda.compile_ptx(k.py, types.void(*argtypes), cc=cc)
        except Exception as e:  # noqa: BLE001
            fails.append((name, str(argtypes), f"{type(e).__name__}: {str(e)[:2000]}"))
    return fails


def compile_recorded(path, cc=(9, 0), jobs=2):
    with open(path, "rb") as f:
        sigs = sorted(pickle.load(f), key=lambda s: (s[0], str(s[1])))
    batches = [sigs[i::jobs] for i in range(jobs)]
    if jobs == 1:
        return len(sigs), _compile(sigs, cc)
    with ProcessPoolExecutor(jobs) as ex:
        results = list(ex.map(_compile, batches, [cc] * jobs))
    return len(sigs), [f for r in results for f in r]


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("record")
    ap.add_argument("--cc", default="9.0")
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    a = ap.parse_args(argv)
    cc = tuple(int(v) for v in a.cc.split("."))
    n, fails = compile_recorded(a.record, cc, a.jobs)
    for name, sig, err in fails:
        print(f"FAIL {name}{sig}\n    {err}\n")
    print(f"{n - len(fails)}/{n} kernel signatures compiled to PTX for sm_{cc[0]}{cc[1]}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
