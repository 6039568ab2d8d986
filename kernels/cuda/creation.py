r"""CUDA kernels that fill new arrays: ranges, identity, and the random number generators.

Random numbers come from ``numba.cuda.random``'s xoroshiro128+ generator, one state per
thread of a launch. The states live on the device in this module (``_RNG``): ``seed(s)``
allocates them from the memory pool and initialises them *on the device* (one thread per
state), state :math:`t` from SplitMix64 of :math:`(s, t)`:

.. math::
    z_t = s + (t + 1)\,\phi,\qquad (s_0, s_1) = (\mathrm{mix}(z_t),\ \mathrm{mix}(z_t + \phi))

with :math:`\phi` = ``0x9E3779B97F4A7C15`` and ``mix`` SplitMix64's finalizer (Vigna's
recommended way to seed xoroshiro; streams that start 2^64 draws apart, as
``create_xoroshiro128p_states`` makes them, would need a host-side jump per state). A
launch needing more states than exist re-creates them from the seed and a generation
counter, so a seed followed by the same calls gives the same numbers every run. The values
differ from the CPU backend's Mersenne Twister; the distributions are the same.

Every random fill is a grid-stride loop whose thread ``t`` draws from state ``t``; the RNG
launches use at most ``_RNG_MAX_BLOCKS`` blocks so the state array stays small (2 MiB).
``randperm_`` writes the identity in parallel, then shuffles it with Fisher-Yates on one
device thread (O(n), serial: fine for the sizes a permutation of samples has).
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from ._jit import CudaKernel, device
from ._runtime import BLOCK, SIM, cuda, grid
from .array import CudaArray
from .elementwise import copy, fill

with warnings.catch_warnings():  # under the simulator it warns about 'nopython=False'
    warnings.simplefilter("ignore", DeprecationWarning)
    from numba.cuda import uint64
    from numba.cuda.random import (
        xoroshiro128p_dtype,
        xoroshiro128p_normal_float64,
        xoroshiro128p_uniform_float64,
    )

_RNG_MAX_BLOCKS = 512  # at most 512 * 256 = 131072 states on a GPU


def _mix(z):
    """SplitMix64's finalizer of a uint64."""
    z = (z ^ (z >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> uint64(27))) * uint64(0x94D049BB133111EB)
    return z ^ (z >> uint64(31))


_mix_d = device(_mix)


def _rng_init(states, seed):
    for t in range(cuda.grid(1), states.size, cuda.gridsize(1)):
        z = uint64(seed) + (uint64(t) + uint64(1)) * uint64(0x9E3779B97F4A7C15)
        s0 = _mix_d(z)
        s1 = _mix_d(z + uint64(0x9E3779B97F4A7C15))
        if s0 == uint64(0) and s1 == uint64(0):
            s1 = uint64(1)
        states[t]["s0"] = s0
        states[t]["s1"] = s1


def _uniform(states, out, lo, hi):
    t = cuda.grid(1)
    for i in range(t, out.size, cuda.gridsize(1)):
        out[i] = lo + (hi - lo) * xoroshiro128p_uniform_float64(states, t)


def _normal(states, out, mean, std):
    t = cuda.grid(1)
    for i in range(t, out.size, cuda.gridsize(1)):
        out[i] = mean + std * xoroshiro128p_normal_float64(states, t)


def _randint(states, out, lo, r):
    """``lo + floor(u r)`` with ``u`` uniform in [0, 1) (exact for ranges below 2^53)."""
    t = cuda.grid(1)
    for i in range(t, out.size, cuda.gridsize(1)):
        k = int(xoroshiro128p_uniform_float64(states, t) * r)
        if k >= r:
            k = r - 1
        out[i] = lo + k


def _iota(out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = i


def _shuffle(states, out):
    """Fisher-Yates on one thread: for i = n-1..1 swap out[i] with out[j], j in [0, i]."""
    if cuda.grid(1) == 0:
        for i in range(out.size - 1, 0, -1):
            j = int(xoroshiro128p_uniform_float64(states, 0) * (i + 1))
            if j > i:
                j = i
            t = out[i]
            out[i] = out[j]
            out[j] = t


def _arange(out, start, step):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = start + i * step


def _eye(out, s0, s1, n, m):
    for k in range(cuda.grid(1), n * m, cuda.gridsize(1)):
        i = k // m
        j = k - i * m
        out[i * s0 + j * s1] = 1 if i == j else 0


_rng_init_k = CudaKernel(_rng_init)
_uniform_k = CudaKernel(_uniform)
_normal_k = CudaKernel(_normal)
_randint_k = CudaKernel(_randint)
_iota_k = CudaKernel(_iota)
_shuffle_k = CudaKernel(_shuffle)
_arange_k = CudaKernel(_arange)
_eye_k = CudaKernel(_eye)


# ------------------------------------------------------------------------ generator state

_RNG = {"seed": None, "gen": 0, "states": None, "size": 0}


def _quiet(fn, *args):
    """Run ``fn`` silencing the simulator's uint64 overflow warnings (wrap-around is the
    intended arithmetic of the generator; on a GPU nothing is emitted)."""
    if not SIM:
        return fn(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def _rng_grid(n):
    """``(blocks, threads)`` for a random fill of ``n`` items (bounded number of states)."""
    b, t = grid(n)
    return min(b, _RNG_MAX_BLOCKS), t


def _max_states():
    return grid(1 << 30)[1] if SIM else _RNG_MAX_BLOCKS * BLOCK


def _make_states(nstates):
    s = _RNG["seed"]
    if s is None:
        s = _RNG["seed"] = int.from_bytes(os.urandom(8), "little")
    key = (s + _RNG["gen"] * 0xD1B54A32D192ED03) % (1 << 64)
    _RNG["gen"] += 1
    st = CudaArray.empty((nstates,), xoroshiro128p_dtype)
    _quiet(_rng_init_k.launch, *grid(nstates), st.flat(), np.uint64(key))
    _RNG["states"] = st
    _RNG["size"] = nstates


def _states(nthreads):
    """The device states (a numba array) for a launch of ``nthreads`` threads."""
    if _RNG["states"] is None or _RNG["size"] < nthreads:
        _make_states(max(nthreads, _max_states()))
    return _RNG["states"].dev


def rng_launch(kernel, n, *args):
    """Launch a random kernel ``kernel(states, *args)`` over ``n`` items."""
    g = _rng_grid(n)
    _quiet(kernel.launch, *g, _states(g[0] * g[1]), *args)


# ------------------------------------------------------------------------ launchers


def _fill_out(out, fn):
    """Run ``fn(flat)`` on ``out``'s elements; through a C-contiguous temporary if needed."""
    if out.flags.c_contiguous:
        fn(out.flat())
    else:
        tmp = CudaArray.empty(out.shape, out.dtype)
        fn(tmp.flat())
        copy(out, tmp)
    return out


def seed(s):
    """Seed the generator the random fills use (re-creates the device states)."""
    _RNG["seed"] = int(s) % (1 << 64)
    _RNG["gen"] = 0
    _make_states(_max_states())


def uniform_(out, lo=0.0, hi=1.0):
    """Fill a float ``out`` with U[lo, hi) (computed in float64, then stored)."""
    if out.size:
        _fill_out(out, lambda f: rng_launch(_uniform_k, f.size, f, float(lo), float(hi)))
    return out


def normal_(out, mean=0.0, std=1.0):
    """Fill a float ``out`` with N(mean, std^2) (Box-Muller in float64)."""
    if out.size:
        _fill_out(out, lambda f: rng_launch(_normal_k, f.size, f, float(mean), float(std)))
    return out


def randint_(out, lo, hi):
    """Fill an integer ``out`` with integers in [lo, hi)."""
    if out.size:
        lo = int(lo)
        hi = int(hi)
        if hi <= lo:
            raise ValueError("empty range for randrange()")
        _fill_out(out, lambda f: rng_launch(_randint_k, f.size, f, np.int64(lo),
                                            np.int64(hi - lo)))
    return out


def randperm_(out):
    """Fill an integer ``out`` with a random permutation of 0..n-1."""
    if out.size:
        def run(f):
            _iota_k.launch(*grid(f.size), f)
            _quiet(_shuffle_k.launch, 1, 1, _states(1), f)
        _fill_out(out, run)
    return out


def arange_(out, start, step):
    """``out[i] = start + i * step`` (computed in float64 or int64, then stored)."""
    if out.size:
        if out.dtype.kind == "f":
            a, b = float(start), float(step)
        else:
            a, b = np.int64(start), np.int64(step)
        _fill_out(out, lambda f: _arange_k.launch(*grid(f.size), f, a, b))
    return out


def eye_(out):
    """Identity pattern into a 2-D ``out`` (any strides)."""
    if out.size:
        n, m = out.shape
        it = out.itemsize
        s0, s1 = out.strides
        if s0 < 0 or s1 < 0:
            raise ValueError("eye_: negative strides are not supported")
        _eye_k.launch(*grid(n * m), out.flat(), s0 // it, s1 // it, n, m)
    return out


__all__ = ["seed", "uniform_", "normal_", "randint_", "randperm_", "arange_", "eye_"]


def empty(shape, dtype):
    """An uninitialized C-contiguous device array (from the caching pool)."""
    return CudaArray.empty(shape, dtype)


def zeros(shape, dtype):
    """A zero-filled C-contiguous device array."""
    return fill(CudaArray.empty(shape, dtype), 0)


def empty_like(x):
    """An uninitialized C-contiguous array with ``x``'s shape and dtype."""
    return CudaArray.empty(x.shape, x.dtype)


__all__ += ["empty", "zeros", "empty_like"]
