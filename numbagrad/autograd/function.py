"""``Function``: one op's forward and backward, stated once.

The shape is PyTorch's ``torch.autograd.Function``::

    class Exp(Function):
        save_output = True                      # backward reads ctx.output

        @staticmethod
        def forward(ctx, x):                    # Tensors in, a raw array out
            return x._device.kernels.exp_forward(x._data)

        @staticmethod
        def backward(ctx, grad):                # Tensors in, Tensors out
            return grad * ctx.output            # differentiable numbagrad ops

``forward`` runs the kernels on the raw arrays; ``backward`` is written with numbagrad
ops, so when the engine runs it with ``create_graph=True`` the backward records a graph of
its own and can be differentiated again.

The ``ctx`` object *is* the graph node: an instance of the Function's class that holds the
saved tensors, one edge per input (the producer node of that input, or the input's
``AccumulateGrad`` if it is a leaf), and the input shapes the engine checks gradients
against. A saved output is kept as its raw array and rebuilt as a Tensor on access, so the
node does not hold its own output Tensor (no reference cycle).
"""
from __future__ import annotations

import weakref

from .grad_mode import _state

Tensor = None  # numbagrad.tensor sets this once its class exists (it imports this module)

FREED = ("Trying to backward through the graph a second time (or directly access saved "
         "tensors after they have already been freed). Saved intermediate values of the "
         "graph are freed when you call .backward() or autograd.grad(). Specify "
         "retain_graph=True if you need to backward through the graph a second time or if "
         "you need to access saved tensors after calling backward.")


def _modified(t, node, v_saved, v_now, what="output 0"):
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{t.dtype.name} tensor of shape {list(t.shape)}], which is "
        f"{what} of {node.name()}, is at version {v_now}; expected version {v_saved} instead."
    )


class Function:
    """Base class of every differentiable op. See the module docstring."""

    save_output = False  # keep the output for backward (ctx.output)
    is_view = False      # forward returns a view of its first argument's memory
    has_extra = False    # forward returns (array, extra) and apply returns (Tensor, extra)
    moves_device = False  # forward sets ctx.out_device: the output lives on another device

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    # ---- ctx API used inside forward/backward ----

    def save_for_backward(self, *tensors) -> None:
        self._saved = tuple([None if t is None else (t, t._version[0]) for t in tensors])

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None:
            raise RuntimeError(FREED)
        out = []
        for item in self._saved:
            if item is None:
                out.append(None)
                continue
            t, v = item
            if t._version[0] != v:
                what = "an input" if t.grad_fn is not self else "output 0"
                raise _modified(t, self, v, t._version[0], what)
            out.append(t)
        return tuple(out)

    @property
    def output(self):
        """The forward's output as a Tensor whose ``grad_fn`` is this node."""
        if self._out is None:
            raise RuntimeError(FREED)
        data, version, v0, device = self._out
        if version[0] != v0:
            raise _modified(Tensor._make(data), self, v0, version[0])
        return Tensor._make(data, True, self, version, None, device)

    # ---- graph node API used by the engine ----

    def name(self) -> str:
        return f"{type(self).__name__}Backward0"

    @property
    def next_functions(self) -> tuple:
        """``(node, 0)`` per tensor input, as in PyTorch (None for inputs without grad)."""
        return tuple((e, 0) for e, m in zip(self.next_edges, self.input_meta) if m is not None)

    def _release(self) -> None:
        self._saved = None
        self._out = None

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on the arguments and, if grad mode is on and an input requires
        grad, record this call as a node of the graph.

        This runs once per op, so it is written for speed: one pass over the arguments
        collects what the node needs, with no generator expressions (each op call used to
        spend about a third of its time here)."""
        ctx = cls.__new__(cls)
        ctx._saved = ()
        ctx._out = None
        enabled = _state.enabled
        track = False
        device = None
        needs = []
        edges = []
        meta = []
        for a in args:
            if isinstance(a, Tensor):
                d = a._device
                if device is None:
                    device = d
                elif d is not device:
                    raise RuntimeError(
                        f"{cls.__name__.lower()}: expected all tensors to be on the same "
                        f"device, but found at least two devices, {device} and {d}!")
                r = a._requires_grad
                needs.append(r)
                if r and enabled:
                    track = True
                    edges.append(a.grad_fn or a._accum or a._accumulator())
                else:
                    edges.append(None)
                meta.append((a._data.shape, a._data.dtype))
            else:
                needs.append(False)
                edges.append(None)
                meta.append(None)
        ctx.needs_input_grad = tuple(needs) if track else ()
        data = cls.forward(ctx, *args, **kwargs)
        extra = None
        if cls.has_extra:
            data, extra = data
        if cls.moves_device:
            device = ctx.out_device
        version = view_base = None
        if cls.is_view:
            base = args[0]
            version = base._version
            view_base = base if base._base is None else base._base
        if track and data.dtype.kind == "f":
            out = Tensor._make(data, True, ctx, version, view_base, device)
            ctx.next_edges = tuple(edges)
            ctx.input_meta = tuple(meta)
            if cls.save_output:
                ctx._out = (data, out._version, out._version[0], device)
        else:
            out = Tensor._make(data, False, None, version, view_base, device)
        return (out, extra) if cls.has_extra else out


class AccumulateGrad:
    """The node at a leaf tensor: adds the incoming gradient into ``leaf.grad``.

    The leaf keeps its node (created once, on the leaf's first use in a recorded op) and
    the node refers back to the leaf weakly, so there is no reference cycle. A leaf that
    nobody holds any more has no ``.grad`` anyone could read, and its gradient is dropped.
    After writing ``.grad`` it calls the leaf's post-accumulate-grad hooks, if any.
    """

    __slots__ = ("_leaf", "_post_hooks", "__weakref__")
    next_edges = ()
    input_meta = ()

    def __init__(self, variable):
        self._leaf = weakref.ref(variable)
        self._post_hooks = None  # {handle id: hook}, see Tensor.register_post_accumulate_grad_hook

    @property
    def variable(self):
        """The leaf tensor (None once it is gone)."""
        return self._leaf()

    def name(self) -> str:
        return "AccumulateGrad"

    next_functions = ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"

    def accumulate(self, g, create_graph: bool, owned: bool = False) -> None:
        """Add ``g`` into ``.grad``. ``owned``: the engine vouches that nothing else refers
        to ``g``'s array, so a first gradient is kept as it is instead of copied."""
        v = self._leaf()
        if v is None:
            return
        if g.dtype != v.dtype:
            g = g.to(v.dtype)
        if v._grad is None:
            if create_graph:
                v._grad = g
            elif owned:
                v._grad = Tensor._make(g._data, device=v._device)
            else:  # a private copy: the same array may also flow to other leaves
                v._grad = Tensor._make(v._device.kernels.identity_forward(g._data),
                                       device=v._device)
        elif create_graph or v._grad._requires_grad:
            v._grad = v._grad + g
        else:
            k = v._device.kernels
            k.add(v._grad._data, g._data, out=v._grad._data)
            v._grad._version[0] += 1
        if self._post_hooks:  # the leaf's gradient for this backward is now final
            for hook in tuple(self._post_hooks.values()):
                hook(v)
