"""Pipeline model parallelism over MPI ranks (``numbagrad.nn.pipeline``), GPipe schedule.

A model is cut into consecutive *stages*; stage ``i`` lives on rank ``i`` and the world
size equals the number of stages. Each rank builds a :class:`Pipeline` around its own
stage (or calls :func:`pipeline_from_sequential` on the full ``nn.Sequential``)::

    dist.init()
    pipe = pipeline_from_sequential(model, split=[2, 3, 2], num_microbatches=4)
    loss = pipe.train_step(x, y, nn.functional.mse_loss)   # same float on every rank
    optimizer.step(); optimizer.zero_grad()                 # each rank: its own stage

**Schedule.** The batch is cut along its first dimension into ``M`` micro-batches. Every
micro-batch first runs forward through all stages (activations travel rank ``i`` ->
``i+1`` with ``send``/``recv``), then every micro-batch runs backward, in reverse order
(gradients of the activations travel rank ``i+1`` -> ``i``). With 3 stages and M = 4
(``Fk``/``Bk``: forward/backward of micro-batch ``k``; time runs to the right)::

    rank 0 | F0 F1 F2 F3                   B3 B2 B1 B0
    rank 1 |    F0 F1 F2 F3          B3 B2 B1 B0
    rank 2 |       F0 F1 F2 F3 B3 B2 B1 B0

The empty slots are the pipeline "bubble": its share of the step is about
``(S - 1) / (M + S - 1)`` for ``S`` stages, so more micro-batches keep the ranks busier,
at the price of holding the activations of all ``M`` micro-batches until their backward.

**Gradients.** ``loss_fn(output, target)`` must return the *mean* over the micro-batch
(as numbagrad's losses do by default). The loss of a micro-batch of ``n_k`` samples out
of ``N`` is scaled by ``n_k / N`` before its backward, so the gradients accumulated over
the micro-batches equal those of the mean loss of the whole batch, and the returned loss
is that full-batch mean. Gradients accumulate into ``.grad`` like ``loss.backward()``:
zero them between steps (``optimizer.zero_grad()``).

**Micro-batch sizes.** When ``N`` is not a multiple of ``M`` the first ``N % M``
micro-batches get one sample more (as ``numpy.array_split``); ``N < M`` is an error.

**Messages.** Before each activation its shape and dtype travel as a small pickled
header, so stages may change the shape (and dtype) of the activation and micro-batches
may differ in size; the gradient sent back has the shape of that activation, known to
both sides. Activations and targets must be single tensors. Received activations are CPU
tensors (moved to the device of the stage's first parameter when that is not the CPU).
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .module import Module, Sequential

__all__ = ["Pipeline", "pipeline_from_sequential"]

_TAG_FORWARD = 11
_TAG_BACKWARD = 12


def _split_sizes(n: int, m: int) -> list:
    """Sizes of ``m`` micro-batches of an ``n``-sample batch (the first ``n % m`` one
    larger)."""
    if n < m:
        raise ValueError(f"Pipeline: the batch has {n} samples, fewer than "
                         f"num_microbatches={m}")
    q, r = divmod(n, m)
    return [q + 1 if k < r else q for k in range(m)]


def _chunks(t: Tensor, sizes: list, what: str) -> list:
    if not isinstance(t, Tensor):
        raise TypeError(f"Pipeline: {what} must be a numbagrad Tensor, got "
                        f"{type(t).__name__}")
    if t.ndim == 0 or t.shape[0] != sum(sizes):
        raise ValueError(f"Pipeline: {what} has shape {list(t.shape)}, expected "
                         f"{sum(sizes)} samples along the first dimension")
    out, start = [], 0
    for s in sizes:
        out.append(t[start:start + s])
        start += s
    return out


class Pipeline(Module):
    """This rank's stage of a model split across the MPI ranks (module docstring).

    ``stage``: the module of this rank (rank ``i`` holds stage ``i``; the world size is
    the number of stages). ``num_microbatches``: how many micro-batches each batch is cut
    into. ``numbagrad.distributed.init()`` must have been called.

    * ``train_step(x, y, loss_fn)``: forward and backward of all micro-batches with the
      GPipe schedule; returns the full-batch loss as a float on every rank. ``x`` is read
      on rank 0 only and ``y`` on the last rank only (other ranks may pass ``None``).
    * ``forward(x, broadcast=False)`` (or ``pipe(x)``): inference without gradients,
      micro-batched the same way. Returns the output (all micro-batches concatenated) on
      the last rank and ``None`` elsewhere; with ``broadcast=True`` every rank gets it.

    Attributes: ``module`` (the stage), ``rank``, ``num_stages``, ``is_first``,
    ``is_last``.
    """

    def __init__(self, stage: Module, num_microbatches: int = 1) -> None:
        super().__init__()
        from .. import distributed as dist

        if not isinstance(stage, Module):
            raise TypeError(f"Pipeline: the stage must be a Module, got "
                            f"{type(stage).__name__}")
        if int(num_microbatches) != num_microbatches or num_microbatches < 1:
            raise ValueError(f"Pipeline: num_microbatches must be a positive integer, got "
                             f"{num_microbatches!r}")
        comm = dist._comm()
        self.module = stage
        self.num_microbatches = int(num_microbatches)
        self._dist = dist
        self._comm = comm
        self.rank = comm.Get_rank()
        self.num_stages = comm.Get_size()

    @property
    def is_first(self) -> bool:
        return self.rank == 0

    @property
    def is_last(self) -> bool:
        return self.rank == self.num_stages - 1

    # ---- messages between neighbouring stages ----

    def _device(self):
        for p in self.module.parameters():
            return p.device
        return None

    def _send_activation(self, out: Tensor) -> None:
        if not isinstance(out, Tensor):
            raise TypeError(f"Pipeline: stage {self.rank} returned "
                            f"{type(out).__name__}; a stage must return one Tensor")
        self._comm.send((tuple(out.shape), out.dtype.name), dest=self.rank + 1,
                        tag=_TAG_FORWARD)
        self._dist.send(out.detach(), self.rank + 1, tag=_TAG_FORWARD)

    def _recv_activation(self) -> Tensor:
        from .. import creation

        shape, dtype = self._comm.recv(source=self.rank - 1, tag=_TAG_FORWARD)
        buf = creation.empty(*shape, dtype=dtype)
        self._dist.recv(buf, self.rank - 1, tag=_TAG_FORWARD)
        dev = self._device()
        if dev is not None and dev.type != "cpu":
            buf = buf.to(dev)
        return buf

    def _send_grad(self, inp: Tensor) -> None:
        from .. import creation

        g = inp.grad
        if g is None:  # the stage did not depend on its input (or nothing needed grad)
            g = creation.zeros(*inp.shape, dtype=inp.dtype.name)
        self._dist.send(g, self.rank - 1, tag=_TAG_BACKWARD)

    def _recv_grad(self, out: Tensor) -> Tensor:
        from .. import creation

        g = creation.empty(*out.shape, dtype=out.dtype.name)
        self._dist.recv(g, self.rank + 1, tag=_TAG_BACKWARD)
        if out.device.type != "cpu":
            g = g.to(out.device)
        return g

    # ---- training ----

    def _sizes(self, x) -> list:
        """Micro-batch sizes: rank 0 knows the batch and tells everyone."""
        sizes = None
        if self.is_first:
            if not isinstance(x, Tensor):
                raise TypeError(f"Pipeline: rank 0 needs the input batch x as a Tensor, "
                                f"got {type(x).__name__}")
            if x.ndim == 0:
                raise ValueError("Pipeline: x must have a batch dimension")
            try:
                sizes = _split_sizes(x.shape[0], self.num_microbatches)
            except ValueError as e:
                sizes = e
        sizes = self._comm.bcast(sizes, root=0)
        if isinstance(sizes, ValueError):  # raised on every rank, not only rank 0
            raise ValueError(str(sizes))
        return sizes

    def train_step(self, x, y, loss_fn) -> float:
        """Forward and backward of one batch with the GPipe schedule; accumulates the
        stage's parameter gradients and returns the mean loss of the batch on every rank.

        ``x`` (rank 0) and ``y`` (last rank) are split into micro-batches along their
        first dimension; ``loss_fn(output, target)`` is called on the last rank once per
        micro-batch and must return that micro-batch's mean loss (a scalar Tensor)."""
        sizes = self._sizes(x)
        total = sum(sizes)
        xs = _chunks(x, sizes, "x") if self.is_first else None
        ys = _chunks(y, sizes, "y") if self.is_last else None

        saved = []  # (stage input or None, stage output or scaled loss) per micro-batch
        loss_sum = 0.0
        for k, n in enumerate(sizes):
            # a received activation is a leaf that requires grad: its .grad is what
            # this stage sends back to the previous one
            inp = xs[k] if self.is_first else self._recv_activation().requires_grad_(True)
            out = self.module(inp)
            if self.is_last:
                loss = loss_fn(out, ys[k])
                if not isinstance(loss, Tensor) or loss.numel() != 1:
                    raise TypeError("Pipeline: loss_fn must return a scalar Tensor (the mean "
                                    "loss of the micro-batch)")
                scaled = loss * (n / total)
                loss_sum += float(scaled.item())
                saved.append((inp, scaled))
            else:
                self._send_activation(out)
                saved.append((inp, out))

        for k in reversed(range(len(sizes))):
            inp, out = saved[k]
            saved[k] = None  # let this micro-batch's graph go once it is done
            if self.is_last:
                if out.requires_grad:
                    out.backward()
            else:
                g = self._recv_grad(out)
                if out.requires_grad:
                    out.backward(g)
            if not self.is_first:
                self._send_grad(inp)

        return float(self._comm.bcast(loss_sum if self.is_last else None,
                                      root=self.num_stages - 1))

    # ---- inference ----

    def forward(self, x=None, broadcast: bool = False):
        """Run the batch through the pipeline without gradients (micro-batched). Returns
        the concatenated output on the last rank, ``None`` elsewhere; every rank gets it
        (a CPU tensor) when ``broadcast`` is true."""
        from .. import creation
        from ..ops.shape import cat

        sizes = self._sizes(x)
        xs = _chunks(x, sizes, "x") if self.is_first else None
        outs = []
        with no_grad():
            for k in range(len(sizes)):
                inp = xs[k] if self.is_first else self._recv_activation()
                out = self.module(inp)
                if self.is_last:
                    outs.append(out)
                else:
                    self._send_activation(out)
        result = cat(outs, 0) if self.is_last else None
        if broadcast and self.num_stages > 1:
            arr = result._host() if self.is_last else None
            arr = self._comm.bcast(arr, root=self.num_stages - 1)
            result = result if self.is_last else creation.from_numpy(np.ascontiguousarray(arr))
        return result

    def extra_repr(self) -> str:
        return (f"stage={self.rank} of {self.num_stages}, "
                f"num_microbatches={self.num_microbatches}")


def pipeline_from_sequential(seq: Sequential, split, num_microbatches: int = 1) -> Pipeline:
    """Cut ``seq`` into stages and wrap this rank's stage in a :class:`Pipeline`.

    ``split`` lists how many consecutive layers each stage gets (``[2, 3, 2]``: layers
    0-1 on rank 0, 2-4 on rank 1, 5-6 on rank 2); its length must equal the world size and
    its sum ``len(seq)``, each count at least 1. Each rank keeps a new ``nn.Sequential`` of
    its layers, with their original names and the *same* Parameter objects (so a
    ``state_dict`` of the stage has the full model's keys for those layers)."""
    from .. import distributed as dist

    if not isinstance(seq, Sequential):
        raise TypeError(f"pipeline_from_sequential needs an nn.Sequential, got "
                        f"{type(seq).__name__}")
    try:
        split = [int(s) for s in split]
    except TypeError:
        raise TypeError(f"pipeline_from_sequential: split must be a list of layer counts "
                        f"per stage, got {split!r}") from None
    world = dist.get_world_size()
    if len(split) != world:
        raise ValueError(f"pipeline_from_sequential: split {split} has {len(split)} stages "
                         f"but the world size is {world} (one stage per rank)")
    if any(s < 1 for s in split):
        raise ValueError(f"pipeline_from_sequential: every stage needs at least one layer, "
                         f"got split {split}")
    if sum(split) != len(seq):
        raise ValueError(f"pipeline_from_sequential: split {split} covers {sum(split)} "
                         f"layers but the Sequential has {len(seq)}")
    rank = dist.get_rank()
    start = sum(split[:rank])
    items = list(seq._modules.items())[start:start + split[rank]]
    return Pipeline(Sequential(OrderedDict(items)), num_microbatches)
