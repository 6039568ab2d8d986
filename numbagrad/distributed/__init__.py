"""Data-parallel training on MPI (``numbagrad.distributed``), with PyTorch's names.

Install the extra: ``pip install "numbagrad[distributed]"`` (``mpi4py`` and the ``mpich``
wheel, which ships ``mpiexec``). Start one process per rank::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 mpiexec -n 4 python train_script.py

and call ``init()`` (or ``init_process_group("mpi")``) first in each. Then

* ``get_rank()``, ``get_world_size()``, ``barrier()``, ``destroy_process_group()``;
* collectives on tensors, **in place**: ``all_reduce``, ``broadcast``, ``all_gather``,
  ``all_gather_into_tensor``, ``reduce_scatter``, ``reduce_scatter_tensor``, ``send``,
  ``recv``. MPI reads and writes the tensor's own numpy array through the buffer
  interface, so a contiguous CPU tensor is never copied.

**GPU tensors** are staged through the host: copied to a numpy array, communicated, and
copied back into the device array. CUDA-aware MPI (passing device pointers to MPI) is not
supported yet.

**Threads.** Each rank should compute on one core: ``init()`` sets Numba's thread count
to 1 (``threads=None`` keeps it). BLAS reads its thread count only when numpy loads, so
set ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1`` in the environment of ``mpiexec``;
otherwise ranks sharing cores spend their time waiting for each other.

**Failures.** An exception that reaches the top of any rank would leave the other ranks
waiting forever in their next collective. ``init()`` therefore installs a
``sys.excepthook`` that prints the traceback (with the rank) and then calls
``MPI.COMM_WORLD.Abort(1)``, which ends every rank of the job with a non-zero exit
status within moments. ``destroy_process_group()`` restores the previous hook.
"""
from __future__ import annotations

import sys

import numpy as np

from ..tensor import Tensor

__all__ = ["ReduceOp", "Work", "init", "init_process_group", "is_available", "is_initialized",
           "get_rank", "get_world_size", "barrier", "destroy_process_group", "all_reduce",
           "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter",
           "reduce_scatter_tensor", "send", "recv"]

_MISSING = ("numbagrad.distributed needs mpi4py and an MPI library: install the extra with "
            "pip install \"numbagrad[distributed]\" (mpi4py and mpich)")


def is_available() -> bool:
    """True when mpi4py can be imported (MPI itself starts only in ``init``)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def _MPI():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(_MISSING) from e
    return MPI


class ReduceOp:
    """How ``all_reduce`` and ``reduce_scatter`` combine the ranks' values. ``AVG`` is a sum
    divided by the world size (floating-point tensors only)."""

    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"
    PRODUCT = "product"


class _State:
    comm = None          # MPI.COMM_WORLD once initialized
    old_hook = None      # the sys.excepthook that init() replaced


_state = _State()


def _abort_on_error(exc_type, exc, tb) -> None:
    """``sys.excepthook`` of an initialized rank: show the error, then end the whole job."""
    comm = _state.comm
    rank = comm.Get_rank() if comm is not None else "?"
    try:
        sys.stderr.write(f"[numbagrad.distributed] rank {rank}: uncaught exception, "
                         "aborting all ranks\n")
        (_state.old_hook or sys.__excepthook__)(exc_type, exc, tb)
        sys.stderr.flush()
        sys.stdout.flush()
    finally:
        if comm is not None:
            comm.Abort(1)


def init(backend: str = "mpi", *, threads: int | None = 1) -> None:
    """Join the job started by ``mpiexec``: start MPI, set Numba's thread count to
    ``threads`` (None: leave it) and install the abort-on-error ``sys.excepthook``
    (module docstring). Calling it again does nothing."""
    if backend != "mpi":
        raise ValueError(f"numbagrad.distributed supports the 'mpi' backend only, got "
                         f"{backend!r}")
    MPI = _MPI()
    if _state.comm is not None:
        return
    _state.comm = MPI.COMM_WORLD
    if threads is not None:
        import numba

        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    _state.old_hook = sys.excepthook
    sys.excepthook = _abort_on_error


def init_process_group(backend: str = "mpi", **kwargs) -> None:
    """PyTorch's name for ``init``. ``init_method``, ``world_size`` and ``rank`` are
    accepted only as the values ``mpiexec`` already gave (MPI decides them)."""
    world_size = kwargs.pop("world_size", None)
    rank = kwargs.pop("rank", None)
    kwargs.pop("init_method", None)
    kwargs.pop("timeout", None)
    threads = kwargs.pop("threads", 1)
    if kwargs:
        raise TypeError(f"init_process_group: unexpected arguments {sorted(kwargs)}")
    init(backend, threads=threads)
    if world_size not in (None, -1) and world_size != get_world_size():
        raise ValueError(f"world_size={world_size} but mpiexec started "
                         f"{get_world_size()} ranks")
    if rank not in (None, -1) and rank != get_rank():
        raise ValueError(f"rank={rank} but MPI gave this process rank {get_rank()}")


def is_initialized() -> bool:
    return _state.comm is not None


def _comm():
    if _state.comm is None:
        _MPI()  # the clearer error first when mpi4py is missing
        raise RuntimeError("Default process group has not been initialized, please make sure "
                           "to call numbagrad.distributed.init() (or init_process_group)")
    return _state.comm


def get_rank() -> int:
    return _comm().Get_rank()


def get_world_size() -> int:
    return _comm().Get_size()


def barrier() -> None:
    _comm().Barrier()


def destroy_process_group() -> None:
    """Forget the process group and restore ``sys.excepthook``. MPI itself stays up until
    the process exits (mpi4py finalizes it then), so ``init()`` may be called again."""
    if _state.comm is None:
        return
    if sys.excepthook is _abort_on_error:
        sys.excepthook = _state.old_hook or sys.__excepthook__
    _state.comm = None
    _state.old_hook = None


# ------------------------------------------------------------------ buffers


def _check(t, what: str = "tensor") -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{what} must be a numbagrad Tensor, got {type(t).__name__}")


class _Buf:
    """The numpy array MPI works on for a tensor, and how to put the result back.

    A contiguous CPU tensor lends its own array (no copy, nothing to put back). A
    non-contiguous CPU tensor or a GPU tensor is copied into a contiguous host array, and
    ``done()`` copies the result back into the tensor."""

    __slots__ = ("t", "arr", "staged")

    def __init__(self, t: Tensor, read: bool = True) -> None:
        _check(t)
        self.t = t
        data = t._data
        if type(data) is np.ndarray and data.flags.c_contiguous:
            self.arr, self.staged = data, False
        elif type(data) is np.ndarray:
            self.arr = np.ascontiguousarray(data) if read else np.empty(data.shape, data.dtype)
            self.staged = True
        else:  # a device array: stage through the host
            self.arr = t._host() if read else np.empty(t.shape, data.dtype)
            self.staged = True

    def done(self) -> None:
        """Write the result into the tensor (if it was staged) and bump its version."""
        t = self.t
        if self.staged:
            if type(t._data) is np.ndarray:
                t._data[...] = self.arr
            else:
                from .. import creation
                from ..autograd.grad_mode import no_grad

                with no_grad():
                    t.data.copy_(creation.from_numpy(self.arr).to(t.device))
        t._version[0] += 1


def _mpi_op(op):
    MPI = _MPI()
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX,
             ReduceOp.MIN: MPI.MIN, ReduceOp.PRODUCT: MPI.PROD}
    if op not in table:
        raise ValueError(f"unknown reduce op {op!r}; use numbagrad.distributed.ReduceOp")
    return table[op]


def _check_avg(op, arr: np.ndarray) -> None:
    if op == ReduceOp.AVG and arr.dtype.kind != "f":
        raise TypeError(f"ReduceOp.AVG needs a floating-point tensor, got {arr.dtype}")


def _average(arr: np.ndarray, n: int) -> None:
    np.multiply(arr, arr.dtype.type(1.0 / n), out=arr)


class Work:
    """The handle of a collective started with ``async_op=True``: ``wait()`` finishes it
    (and writes staged results back); ``is_completed()`` polls."""

    def __init__(self, request, finish) -> None:
        self._request = request
        self._finish = finish
        self._done = False

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def wait(self, timeout=None) -> bool:
        if not self._done:
            self._request.Wait()
            self._complete()
        return True

    def _complete(self) -> None:
        self._done = True
        self._finish()


def _finish_or_work(request, finish, async_op: bool):
    if async_op:
        return Work(request, finish)
    request.Wait()
    finish()
    return None


# ------------------------------------------------------------------ collectives


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` across ranks with ``op``; every rank gets the result in place."""
    comm = _comm()
    b = _Buf(tensor)
    _check_avg(op, b.arr)
    MPI = _MPI()
    req = comm.Iallreduce(MPI.IN_PLACE, b.arr, op=_mpi_op(op))
    n = comm.Get_size()

    def finish():
        if op == ReduceOp.AVG:
            _average(b.arr, n)
        b.done()

    return _finish_or_work(req, finish, async_op)


def broadcast(tensor: Tensor, src: int = 0, group=None, async_op: bool = False):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every rank."""
    comm = _comm()
    _check_rank(src, comm, "src")
    b = _Buf(tensor, read=comm.Get_rank() == src)
    return _finish_or_work(comm.Ibcast(b.arr, root=src), b.done, async_op)


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """``tensor_list[r]`` = rank ``r``'s ``tensor``, on every rank (one tensor per rank, each
    of ``tensor``'s shape and dtype). Gathered into one contiguous array, then copied."""
    comm = _comm()
    n = comm.Get_size()
    if len(tensor_list) != n:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors, the world "
                         f"size is {n}")
    for i, t in enumerate(tensor_list):
        _check(t, f"tensor_list[{i}]")
        if t.shape != tensor.shape or t.dtype is not tensor.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] is {t.dtype} {list(t.shape)}, "
                             f"expected {tensor.dtype} {list(tensor.shape)}")
    src = _Buf(tensor)
    out = np.empty((n,) + src.arr.shape, src.arr.dtype)
    req = comm.Iallgather(src.arr, out)

    def finish():
        for r, t in enumerate(tensor_list):
            b = _Buf(t, read=False)
            b.arr[...] = out[r]
            b.done()

    return _finish_or_work(req, finish, async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None,
                           async_op: bool = False):
    """Concatenate every rank's ``input_tensor`` along the first dimension into
    ``output_tensor`` (shape ``(world * n, ...)``, or ``(world, n, ...)`` stacked)."""
    comm = _comm()
    n = comm.Get_size()
    _check(output_tensor, "output_tensor")
    src = _Buf(input_tensor)
    if output_tensor.numel() != n * input_tensor.numel() or \
            output_tensor.dtype is not input_tensor.dtype:
        raise ValueError(f"all_gather_into_tensor: output is {output_tensor.dtype} "
                         f"{list(output_tensor.shape)}, expected {input_tensor.dtype} with "
                         f"{n} x {input_tensor.numel()} elements")
    out = _Buf(output_tensor, read=False)
    req = comm.Iallgather(src.arr, out.arr)
    return _finish_or_work(req, out.done, async_op)


def reduce_scatter(output: Tensor, input_list: list, op=ReduceOp.SUM, group=None,
                   async_op: bool = False):
    """Rank ``r`` gets the ``op``-combination over ranks of ``input_list[r]`` in
    ``output``. The list is packed into one contiguous array first."""
    comm = _comm()
    n = comm.Get_size()
    if len(input_list) != n:
        raise ValueError(f"reduce_scatter: input_list has {len(input_list)} tensors, the "
                         f"world size is {n}")
    for i, t in enumerate(input_list):
        _check(t, f"input_list[{i}]")
        if t.shape != output.shape or t.dtype is not output.dtype:
            raise ValueError(f"reduce_scatter: input_list[{i}] is {t.dtype} {list(t.shape)}, "
                             f"expected {output.dtype} {list(output.shape)}")
    send_buf = np.stack([_Buf(t).arr for t in input_list]) if n else None
    return _reduce_scatter(comm, send_buf, output, op, async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op=ReduceOp.SUM, group=None,
                          async_op: bool = False):
    """Like ``reduce_scatter`` with the inputs concatenated along the first dimension of
    ``input`` (``world`` times ``output``'s size)."""
    comm = _comm()
    n = comm.Get_size()
    _check(output, "output")
    if input.numel() != n * output.numel() or input.dtype is not output.dtype:
        raise ValueError(f"reduce_scatter_tensor: input is {input.dtype} {list(input.shape)}, "
                         f"expected {output.dtype} with {n} x {output.numel()} elements")
    return _reduce_scatter(comm, _Buf(input).arr, output, op, async_op)


def _reduce_scatter(comm, send_arr, output, op, async_op):
    out = _Buf(output, read=False)
    _check_avg(op, out.arr)
    req = comm.Ireduce_scatter_block(send_arr, out.arr, op=_mpi_op(op))
    n = comm.Get_size()

    def finish():
        if op == ReduceOp.AVG:
            _average(out.arr, n)
        out.done()

    return _finish_or_work(req, finish, async_op)


def _check_rank(r: int, comm, what: str) -> None:
    if not 0 <= r < comm.Get_size():
        raise ValueError(f"{what}={r} is not a rank of this job (world size "
                         f"{comm.Get_size()})")


def send(tensor: Tensor, dst: int, group=None, tag: int = 0) -> None:
    """Send ``tensor`` to rank ``dst`` (blocks until the buffer may be reused)."""
    comm = _comm()
    _check_rank(dst, comm, "dst")
    comm.Send(_Buf(tensor).arr, dest=dst, tag=tag)


def recv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0) -> int:
    """Receive into ``tensor`` from rank ``src`` (any rank when None); returns the sender."""
    MPI = _MPI()
    comm = _comm()
    if src is not None:
        _check_rank(src, comm, "src")
    b = _Buf(tensor, read=False)
    status = MPI.Status()
    comm.Recv(b.arr, source=MPI.ANY_SOURCE if src is None else src, tag=tag, status=status)
    b.done()
    return status.Get_source()
