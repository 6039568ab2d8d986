"""Compilation helpers for the CPU kernels: serial/parallel variants and an on-disk cache.

Every kernel body is compiled twice, lazily: serially (small arrays, where starting the
thread pool costs more than the work) and with ``parallel=True`` (``prange`` split over
threads). Only the variants a program actually calls get compiled.
``error_model='numpy'`` makes float division by zero give inf/nan as in numpy instead of
raising.

Compiled kernels are cached on disk (Numba's ``cache=True``) so a second process loads
them in milliseconds instead of compiling for seconds. Numba's own cache keys a function by
its source file only, which goes wrong here twice: a kernel does not notice an edit to the
scalar math it inlines from ``kernels/scalar.py``, and kernels stamped out by a factory
share one entry. So every kernel gets its own qualified name (``_variant``), and the
``KernelCacheLocator`` below stamps every cache entry with a hash of *all* of
``kernels/``: any edit there invalidates every cached kernel. Set ``NUMBAGRAD_CACHE=0`` to
compile without the cache; ``NUMBA_CACHE_DIR`` moves it.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import types

from numba import njit
from numba.core import caching, config

# Below this many elements (of work) a kernel runs on one thread. Measured on 2 cores with
# tbb: starting the pool costs ~9-12 us per call, so a flat copy ran 3.6 us serially and
# 11.9 us threaded at 32K elements, 9.5 vs 12.7 us at 64K, and the threaded one won only
# from ~256K. Every kernel called with more work than this is compiled a second time with
# ``parallel=True`` (1-2 s each), so the threshold also decides how much a first training
# step compiles. ``NUMBAGRAD_PARALLEL_MIN`` overrides it (the tests lower it to reach the
# threaded variants on small arrays).
PARALLEL_MIN = int(os.environ.get("NUMBAGRAD_PARALLEL_MIN", 1 << 17))

# At most this many elements per parallel chunk of a strided kernel.
CHUNK = 1 << 14

CACHE = os.environ.get("NUMBAGRAD_CACHE", "1") not in ("0", "false", "no")

_KERNELS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_KERNELS_PKG = __name__.rsplit(".", 2)[0]  # "numbagrad.kernels"
_stamp = None


def _tree_stamp() -> str:
    """A hash of every .py file under kernels/ except kernels/cuda (names and contents)."""
    global _stamp
    if _stamp is None:
        h = hashlib.sha256()
        for root, dirs, files in os.walk(_KERNELS_DIR):
            dirs[:] = sorted(d for d in dirs if d != "cuda")  # CPU kernels never import it
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    h.update(os.path.relpath(path, _KERNELS_DIR).encode())
                    with open(path, "rb") as f:
                        h.update(f.read())
        _stamp = h.hexdigest()
    return _stamp


def cache_dir() -> str:
    if config.CACHE_DIR:
        return os.path.join(config.CACHE_DIR, "numbagrad-kernels")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "numbagrad", "kernels")


class KernelCacheLocator(caching._CacheLocator):
    """Numba cache locator for numbagrad's kernels (other functions are left to Numba)."""

    def __init__(self, py_func, py_file):
        self._lineno = py_func.__code__.co_firstlineno
        self._path = cache_dir()

    def ensure_cache_path(self):
        os.makedirs(self._path, exist_ok=True)
        tempfile.TemporaryFile(dir=self._path).close()  # raises if not writable

    def get_cache_path(self):
        return self._path

    def get_source_stamp(self):
        return _tree_stamp()

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        if not getattr(py_func, "__module__", "").startswith(_KERNELS_PKG):
            return None
        self = cls(py_func, py_file)
        try:
            self.ensure_cache_path()
        except OSError:
            return None
        return self


if KernelCacheLocator not in caching.CacheImpl._locator_classes:
    caching.CacheImpl._locator_classes.insert(0, KernelCacheLocator)


def _variant(fn, suffix: str, globals_=None):
    """A copy of ``fn`` with its own name (so its own cache entry), optionally with extra
    globals (how the factories bind the scalar function a template calls)."""
    g = fn.__globals__ if globals_ is None else {**fn.__globals__, **globals_}
    new = types.FunctionType(fn.__code__, g, fn.__name__ + suffix, fn.__defaults__,
                             fn.__closure__)
    new.__qualname__ = fn.__qualname__ + suffix
    new.__module__ = fn.__module__
    new.__doc__ = fn.__doc__
    return new


def _opts(kw, par):
    opts = dict(error_model="numpy", nogil=True, cache=CACHE)
    if par:
        opts["parallel"] = True
    opts.update(kw)
    return opts


def serial(fn=None, **kw):
    """``njit`` with the kernel options (decorator, with or without keywords)."""
    if fn is None:
        return lambda f: njit(**_opts(kw, False))(f)
    return njit(**_opts(kw, False))(fn)


def parallel(fn=None, **kw):
    """``njit(parallel=True)`` with the kernel options, under a distinct name."""
    if fn is None:
        return lambda f: njit(**_opts(kw, True))(_variant(f, "_par"))
    return njit(**_opts(kw, True))(_variant(fn, "_par"))


class Kernel:
    """A kernel body compiled serially and in parallel; called with the variant that fits.

    ``name`` and ``globals_`` instantiate a template: the body is copied under
    ``<body>_<name>`` with ``globals_`` added to what it sees (e.g. ``_f``, the scalar
    function of an elementwise op).
    """

    __slots__ = ("py", "_ser", "_par", "_opts")

    def __init__(self, py, name: str = "", globals_=None, **opts):
        if name or globals_:
            py = _variant(py, f"_{name}" if name else "", globals_)
        self.py = py
        self._opts = opts
        self._ser = None
        self._par = None

    def pick(self, n):
        if n >= PARALLEL_MIN:  # read at each call, so it can be changed at run time
            if self._par is None:
                self._par = njit(**_opts(self._opts, True))(_variant(self.py, "_par"))
            return self._par
        if self._ser is None:
            self._ser = njit(**_opts(self._opts, False))(self.py)
        return self._ser
