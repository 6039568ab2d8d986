"""Kernels that fill new arrays: ranges, identity, and the random number generators.

Random numbers come from Numba's own generator (a Mersenne Twister per thread, seeded by
``seed``); the fills run on one thread so a seed gives the same numbers every run.
"""
from __future__ import annotations

import numpy as np

from ._jit import serial


@serial
def _seed(s):
    np.random.seed(s)


@serial
def _uniform(out, lo, hi):
    for i in range(out.size):
        out[i] = lo + (hi - lo) * np.random.random()


@serial
def _normal(out, mean, std):
    for i in range(out.size):
        out[i] = mean + std * np.random.standard_normal()


@serial
def _randint(out, lo, hi):
    for i in range(out.size):
        out[i] = np.random.randint(lo, hi)


@serial
def _perm(out):
    n = out.size
    for i in range(n):
        out[i] = i
    for i in range(n - 1, 0, -1):
        j = np.random.randint(0, i + 1)
        t = out[i]
        out[i] = out[j]
        out[j] = t


@serial
def _arange(out, start, step):
    for i in range(out.size):
        out[i] = start + i * step


@serial
def _eye(out):
    n, m = out.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = 1 if i == j else 0


def seed(s):
    """Seed the generator the random fills use."""
    _seed(np.int64(s) % (2**32))


def uniform_(out, lo=0.0, hi=1.0):
    """Fill a C-contiguous float ``out`` with U[lo, hi)."""
    if out.size:
        _uniform(out.reshape(-1), float(lo), float(hi))
    return out


def normal_(out, mean=0.0, std=1.0):
    """Fill a C-contiguous float ``out`` with N(mean, std^2)."""
    if out.size:
        _normal(out.reshape(-1), float(mean), float(std))
    return out


def randint_(out, lo, hi):
    """Fill a C-contiguous integer ``out`` with integers in [lo, hi)."""
    if out.size:
        _randint(out.reshape(-1), np.int64(lo), np.int64(hi))
    return out


def randperm_(out):
    """Fill an int64 ``out`` with a random permutation of 0..n-1."""
    if out.size:
        _perm(out.reshape(-1))
    return out


def arange_(out, start, step):
    """``out[i] = start + i * step`` (computed in float64 or int64, then stored)."""
    if out.size:
        if out.dtype.kind == "f":
            _arange(out.reshape(-1), float(start), float(step))
        else:
            _arange(out.reshape(-1), np.int64(start), np.int64(step))
    return out


def eye_(out):
    """Identity pattern into a 2-D ``out``."""
    if out.size:
        _eye(out)
    return out


__all__ = ["seed", "uniform_", "normal_", "randint_", "randperm_", "arange_", "eye_"]


def empty(shape, dtype):
    """An uninitialized C-contiguous host array (the CPU 'allocator')."""
    return np.empty(shape, dtype)


def zeros(shape, dtype):
    """A zero-filled C-contiguous host array."""
    return np.zeros(shape, dtype)


def empty_like(x):
    """An uninitialized C-contiguous array with ``x``'s shape and dtype."""
    return np.empty(x.shape, x.dtype)


__all__ += ["empty", "zeros", "empty_like"]
