"""``DistributedDataParallel``: the same model on every rank, gradients averaged by MPI.

Each rank runs the model on its own slice of the global batch. After ``backward`` every
rank holds the average of all ranks' gradients, so identical optimizers keep identical
weights. How the averaging overlaps with the backward sweep:

1. At wrap time the ranks compare their models' (name, shape, dtype) lists, then rank 0's
   parameters and buffers are broadcast to everyone.
2. The trainable parameters, in **reverse order of registration** (roughly the order in
   which backward produces their gradients), are packed into *buckets* of about
   ``bucket_cap_mb`` megabytes, one flat host buffer each.
3. ``forward`` arms the buckets. Each parameter carries a post-accumulate-grad hook, which
   autograd calls once that parameter's ``.grad`` is final for this backward. When the
   last gradient of a bucket arrives, the bucket's gradients are copied into its flat
   buffer and a non-blocking ``MPI_Iallreduce`` starts, while backward goes on with the
   earlier layers. Buckets start in bucket order on every rank (MPI requires the same
   order of collectives everywhere), so a bucket that is ready early waits for the
   buckets before it.
4. A callback queued with the autograd engine runs when the sweep ends: it starts any
   bucket still waiting, waits for all requests, divides by the world size and copies
   the averages back into each ``.grad``. So ``loss.backward()`` returns with averaged
   gradients, and the user's ``optimizer.step()`` needs no change.

**Unused parameters.** A parameter that received no gradient in a backward (on this
rank) counts as ready when the sweep ends, with its current ``.grad`` (zeros when it has
none), so no rank waits for a gradient that never comes. Its ``.grad`` afterwards holds
the average over ranks, and is a zero tensor (not ``None``) if no rank used it.
A backward that reaches *none* of the parameters on one rank while others do would still
leave the others waiting: every rank must backpropagate into the model in a synced step.

**Gradient accumulation.** Inside ``with ddp.no_sync():`` forward/backward pairs only
accumulate local gradients; the next forward/backward outside it averages the sums.
"""
from __future__ import annotations

import weakref
from contextlib import contextmanager

import numpy as np

from ..autograd import engine
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..tensor import Tensor
from .module import Module

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """Parameters of one dtype whose gradients travel in one flat buffer."""

    __slots__ = ("params", "offsets", "buf", "pending", "request")

    def __init__(self, params: list, dtype) -> None:
        self.params = params
        self.offsets = []
        n = 0
        for p in params:
            self.offsets.append(n)
            n += p.numel()
        self.buf = np.empty(n, dtype)
        self.pending = len(params)
        self.request = None


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the MPI ranks (module docstring).

    ``numbagrad.distributed.init()`` must have been called. The wrapped model is
    ``ddp.module``; ``ddp.state_dict()`` has PyTorch's ``module.`` prefix.
    ``broadcast_buffers``: copy rank 0's buffers (such as BatchNorm's running statistics)
    to every rank at the start of each forward. ``device_ids``, ``output_device`` and
    ``find_unused_parameters`` are accepted for compatibility: unused parameters are always
    handled.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, bucket_cap_mb: float = 25,
                 find_unused_parameters: bool = False) -> None:
        super().__init__()
        from .. import distributed as dist

        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps a Module, got "
                            f"{type(module).__name__}")
        if bucket_cap_mb <= 0:
            raise ValueError(f"bucket_cap_mb must be positive, got {bucket_cap_mb}")
        comm = dist._comm()
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = bucket_cap_mb
        self._dist = dist
        self._comm = comm
        self._world = comm.Get_size()
        self._check_same_model()
        self._sync_module_states()
        self._build_buckets()
        self._in_no_sync = False
        self._expect = False      # the coming backward averages gradients
        self._queued = False      # the end-of-backward callback is queued
        self._next = 0            # the next bucket to start
        ref = weakref.ref(self)

        def hook(p, ref=ref):
            ddp = ref()
            if ddp is not None and ddp._expect:
                ddp._mark_ready(p)

        self._hook_handles = [p.register_post_accumulate_grad_hook(hook)
                              for p in self._params]

    # ---- wrap time ----

    def _check_same_model(self) -> None:
        """Every rank must hold the same parameters and buffers (names, shapes, dtypes):
        compare all ranks' lists and raise the same error on every rank if they differ."""
        mine = [("parameter", n, tuple(p.shape), p.dtype.name, p.requires_grad)
                for n, p in self.module.named_parameters()]
        mine += [("buffer", n, tuple(b.shape), b.dtype.name, False)
                 for n, b in self.module.named_buffers()]
        everyone = self._comm.allgather(mine)
        diffs = []
        for r, theirs in enumerate(everyone):
            if theirs == everyone[0]:
                continue
            a, b = {x[:2]: x for x in everyone[0]}, {x[:2]: x for x in theirs}
            found = [f"  {key[0]} '{key[1]}': rank 0 has {_describe(a.get(key))}, "
                     f"rank {r} has {_describe(b.get(key))}"
                     for key in a.keys() | b.keys() if a.get(key) != b.get(key)]
            diffs += found or [f"  rank {r} registers the same tensors in a different order"]
        if diffs:
            raise RuntimeError(
                f"DistributedDataParallel: the model differs across ranks (seen on rank "
                f"{self._comm.Get_rank()} of {self._world}); every rank must build the same "
                "model:\n" + "\n".join(sorted(set(diffs))[:20]))

    def _sync_module_states(self) -> None:
        if self._world == 1:
            return
        with no_grad():
            for t in list(self.module.parameters()) + list(self.module.buffers()):
                self._dist.broadcast(t, 0)

    def _build_buckets(self) -> None:
        seen = set()
        params = []
        for p in self.module.parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                params.append(p)
        params.reverse()
        cap = int(self.bucket_cap_mb * 1024 * 1024)
        open_ = {}  # (dtype, device) -> [params, bytes so far] of the bucket being filled
        order = []  # every bucket, in the order it was opened
        for p in params:
            key = (p.dtype, p.device)
            cur = open_.get(key)
            size = p.numel() * p.element_size()
            if cur is not None and cur[1] + size > cap:
                cur = None
            if cur is None:
                cur = open_[key] = [[], 0]
                order.append(cur)
            cur[0].append(p)
            cur[1] += size
        self._buckets = [_Bucket(rec[0], rec[0][0]._data.dtype) for rec in order]
        self._params = params
        self._where = {}  # id(param) -> (bucket index, position in it)
        for bi, b in enumerate(self._buckets):
            for j, p in enumerate(b.params):
                self._where[id(p)] = (bi, j)
        self._ready = [False] * len(params)
        self._slot = {id(p): i for i, p in enumerate(params)}

    # ---- each step ----

    def forward(self, *args, **kwargs):
        if self.broadcast_buffers and self._world > 1:
            bufs = list(self.module.buffers())
            if bufs:
                with no_grad():
                    for b in bufs:
                        self._dist.broadcast(b, 0)
        if is_grad_enabled() and not self._in_no_sync and self._params:
            self._arm()
        else:
            self._expect = False
        return self.module(*args, **kwargs)

    def _arm(self) -> None:
        for b in self._buckets:
            b.pending = len(b.params)
            b.request = None
        self._ready = [False] * len(self._params)
        self._next = 0
        self._queued = False
        self._expect = True

    def _mark_ready(self, p: Tensor) -> None:
        i = self._slot[id(p)]
        if self._ready[i]:
            return
        self._ready[i] = True
        if not self._queued:
            engine.queue_callback(self._finish)
            self._queued = True
        bi, _ = self._where[id(p)]
        self._buckets[bi].pending -= 1
        while self._next < len(self._buckets) and self._buckets[self._next].pending == 0:
            self._start(self._buckets[self._next])
            self._next += 1

    def _start(self, b: _Bucket) -> None:
        """Pack the bucket's gradients into its buffer and start its all-reduce."""
        from mpi4py import MPI

        buf = b.buf
        for p, off in zip(b.params, b.offsets):
            g = p.grad
            n = p.numel()
            if g is None:
                buf[off:off + n] = 0
            elif type(g._data) is np.ndarray:
                buf[off:off + n] = g._data.reshape(-1)
            else:
                buf[off:off + n] = g._host().reshape(-1)
        b.request = self._comm.Iallreduce(MPI.IN_PLACE, buf, op=MPI.SUM)

    def _finish(self) -> None:
        """End of backward: start the buckets still waiting (unused parameters), wait for
        every all-reduce and write the averages into ``.grad``."""
        from mpi4py import MPI

        self._expect = False
        self._queued = False
        while self._next < len(self._buckets):
            self._start(self._buckets[self._next])
            self._next += 1
        MPI.Request.Waitall([b.request for b in self._buckets])
        for b in self._buckets:
            b.request = None
            buf = b.buf
            np.multiply(buf, buf.dtype.type(1.0 / self._world), out=buf)
            for p, off in zip(b.params, b.offsets):
                avg = buf[off:off + p.numel()].reshape(p._data.shape)
                g = p.grad
                if g is None or g._requires_grad:
                    p.grad = _tensor_on(avg.copy(), p)
                elif type(g._data) is np.ndarray:
                    np.copyto(g._data, avg)
                    g._version[0] += 1
                else:
                    with no_grad():
                        g.data.copy_(_tensor_on(avg, p))

    @contextmanager
    def no_sync(self):
        """Within this context forward/backward only accumulate local gradients; the first
        synced backward after it averages the accumulated sums."""
        old = self._in_no_sync
        self._in_no_sync = True
        try:
            yield
        finally:
            self._in_no_sync = old

    def extra_repr(self) -> str:
        return f"world_size={self._world}, buckets={len(self._buckets)}"


def _describe(entry) -> str:
    if entry is None:
        return "nothing"
    kind, _, shape, dtype, rg = entry
    extra = "" if kind == "buffer" else f", requires_grad={rg}"
    return f"shape {list(shape)} {dtype}{extra}"


def _tensor_on(arr: np.ndarray, like: Tensor) -> Tensor:
    from .. import creation

    t = creation.from_numpy(np.ascontiguousarray(arr))
    return t if like.device.type == "cpu" else t.to(like.device)


from .pipeline import Pipeline, pipeline_from_sequential  # noqa: E402,F401  (re-export)
