"""Numba kernels for numbagrad, one namespace per device.

``kernels.cpu`` holds ``@njit`` kernels and the thin launchers that allocate their
outputs. Kernels know nothing about tensors or graphs: numpy arrays in, numpy arrays out.
A later ``kernels.cuda`` mirrors the same public names with ``@cuda.jit`` kernels.
"""
