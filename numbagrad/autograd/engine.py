"""The backward sweep.

``run_backward`` walks the graph from the outputs' nodes to the leaves:

1. discover every node reachable from the roots (iterative DFS: no recursion limit) and
   count, for each node, how many edges point at it;
2. when only some inputs' gradients are wanted (``autograd.grad``), keep just the nodes
   that lie on a path to one of them;
3. run the nodes in topological order (a node runs once every edge into it has delivered
   its gradient; contributions are summed in a dict), calling each Function's
   ``backward`` with grad mode set to ``create_graph``;
4. reduce each returned gradient to its input's shape (un-broadcasting happens here, once,
   for every op), check it, and pass it on; leaves' ``AccumulateGrad`` nodes write
   ``.grad`` (``backward``) or hand the gradient back (``grad``);
5. free each node's saved tensors after it ran, unless ``retain_graph``;
6. run the callbacks queued during the sweep (``queue_callback``), once, in order.

A leaf's first gradient becomes its ``.grad``. ``AccumulateGrad`` copies it unless the
engine knows the array has no other owner ("owned" below): it was made by the backward
just run (not the incoming gradient passed through, not a view, not returned twice) and
nothing else refers to it. Owned gradients are kept as they are, which saves a copy of
every parameter's gradient per step (memory and time), as PyTorch does when it "steals"
a gradient whose use count is one.
"""
from __future__ import annotations

import sys

import numpy as np

from .function import AccumulateGrad
from .grad_mode import set_grad_enabled


def _refs(t) -> tuple:
    """References to the Tensor ``t`` and to its array."""
    return sys.getrefcount(t), sys.getrefcount(t._data)


def _probe_frame(gi) -> tuple:  # stands where ``_owned`` stands in the engine's calls
    return _refs(gi)


def _probe_sole_refs() -> tuple:
    """``_refs`` of a gradient that nothing outside the engine holds, counted through the
    same chain of calls as in the engine (its loop variable, the tuple the backward
    returned, ``_owned``), so the numbers fit the running Python version."""
    from .function import Tensor

    t = Tensor._make(np.empty(1))
    held = (t,)  # noqa: F841  (the tuple a backward returned)
    return _probe_frame(t)


_SOLE = None


def _owned(gi, g) -> bool:
    """True when ``gi``, returned by a backward that received ``g``, owns its array and
    nothing outside the engine holds it (numpy arrays only: a device array's views do not
    show in its reference count)."""
    global _SOLE
    if gi is g or gi._data is g._data or type(gi._data) is not np.ndarray or \
            gi._data.base is not None:
        return False
    if _SOLE is None:
        _SOLE = _probe_sole_refs()
    rt, ra = _refs(gi)
    return rt <= _SOLE[0] and ra <= _SOLE[1]


_callbacks: list = []  # queued by hooks during a ``backward`` sweep, run when it ends


def queue_callback(fn) -> None:
    """Run ``fn()`` once the current ``backward`` sweep has finished (PyTorch's
    ``Variable._execution_engine.queue_callback``). Meant to be called from a hook that
    runs during backward, such as a post-accumulate-grad hook; data-parallel training uses
    it to wait for its gradient all-reduces before ``backward()`` returns. If the sweep
    fails, the queued callbacks are dropped."""
    _callbacks.append(fn)


def _run_callbacks() -> None:
    try:
        while _callbacks:
            _callbacks.pop(0)()
    finally:
        _callbacks.clear()  # a failing callback drops the rest


def _node_of(t):
    if t.grad_fn is not None:
        return t.grad_fn
    if t._requires_grad:
        return t._accumulator()
    return None


def sum_to(g, shape: tuple, who: str = "", index: int = 0):
    """Sum a broadcast gradient back to ``shape`` (differentiable: uses ``sum``/``reshape``)."""
    gs = g.shape
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    ok = lead >= 0 and all(s == 1 or s == n for s, n in zip(shape, gs[lead:]))
    if not ok:
        raise RuntimeError(
            f"Function {who} returned an invalid gradient at index {index} - got "
            f"{list(gs)} but expected shape compatible with {list(shape)}")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and gs[lead + i] != 1)
    if dims:
        g = g.sum(dim=dims, keepdim=True)
    return g.reshape(shape)


def _discover(roots):
    """Post-order of the nodes reachable from ``roots`` and the edge count into each."""
    deps = {}
    order = []
    seen = set()
    stack = [(r, False) for r in roots]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for e in node.next_edges:
            if e is not None:
                deps[e] = deps.get(e, 0) + 1
                if id(e) not in seen:
                    stack.append((e, False))
    return order, deps


def run_backward(outputs, grad_outputs, retain_graph: bool, create_graph: bool,
                 inputs=None):
    """Backpropagate ``grad_outputs`` from ``outputs``.

    With ``inputs`` None, leaf gradients accumulate into ``.grad``. Otherwise the
    gradients reaching ``inputs`` are returned (a list, None where none arrived) and no
    ``.grad`` is touched.
    """
    roots = []
    for i, t in enumerate(outputs):
        node = _node_of(t)
        if node is None:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn")
        roots.append(node)

    order, deps = _discover(roots)

    targets = {}
    if inputs is not None:
        for k, t in enumerate(inputs):
            node = _node_of(t)
            targets.setdefault(node, []).append(k)
        needed = {}
        for node in order:  # children come before parents in post-order
            needed[node] = node in targets or any(
                e is not None and needed.get(e, False) for e in node.next_edges)
        # count only edges between needed nodes
        deps = {}
        for node in order:
            if needed[node]:
                for e in node.next_edges:
                    if e is not None and needed[e]:
                        deps[e] = deps.get(e, 0) + 1
    else:
        needed = None

    grads = {}
    owned = set()  # ids of the Tensors in ``grads`` whose arrays nothing else refers to
    for node, g in zip(roots, grad_outputs):
        grads[node] = grads[node] + g if node in grads else g

    captured = [None] * (len(inputs) if inputs is not None else 0)
    ready = []
    for node in roots:
        if deps.get(node, 0) == 0 and node not in ready:
            if needed is None or needed[node]:
                ready.append(node)

    try:
        _sweep(ready, grads, owned, deps, needed, targets, captured, inputs, retain_graph,
               create_graph)
    except BaseException:
        _callbacks.clear()
        raise
    if _callbacks:
        _run_callbacks()
    return captured


def _sweep(ready, grads, owned, deps, needed, targets, captured, inputs, retain_graph,
           create_graph) -> None:
    """Step 3-5 of the module docstring: run the nodes as their gradients complete."""
    with set_grad_enabled(create_graph):
        while ready:
            node = ready.pop()
            g = grads.pop(node, None)
            g_owned = g is not None and id(g) in owned
            owned.discard(id(g))
            if node in targets:
                for k in targets[node]:
                    captured[k] = g
            if type(node) is AccumulateGrad:
                if inputs is None and g is not None:
                    node.accumulate(g, create_graph, g_owned and node not in targets)
                continue
            if needed is not None and not any(
                    e is not None and needed[e] for e in node.next_edges):
                continue
            retained = getattr(node, "_retained", None)
            if retained is not None and g is not None:
                _retain(retained, g, create_graph)
            if g is None:
                in_grads = (None,) * len(node.next_edges)
            else:
                in_grads = node.backward(node, g)
                if not isinstance(in_grads, tuple):
                    in_grads = (in_grads,)
                if not retain_graph:
                    node._release()
            edges = node.next_edges
            if len(in_grads) < len(edges):
                raise RuntimeError(
                    f"function {node.name()} returned an incorrect number of gradients "
                    f"(expected {len(edges)}, got {len(in_grads)})")
            for i, e in enumerate(edges):
                if e is None or (needed is not None and not needed[e]):
                    continue
                gi = in_grads[i]
                if gi is not None:
                    shape, dt = node.input_meta[i]
                    if gi._data.shape != shape:
                        gi = sum_to(gi, shape, node.name(), i)
                    if gi._data.dtype != dt:
                        gi = gi.to(dt)
                    if e in grads:
                        old = grads[e]
                        owned.discard(id(old))
                        gi = old + gi
                        del old
                        if not create_graph:
                            owned.add(id(gi))
                    elif not create_graph and type(e) is AccumulateGrad and \
                            sum(x is in_grads[i] for x in in_grads) == 1 and _owned(gi, g):
                        owned.add(id(gi))
                    grads[e] = gi
                deps[e] -= 1
                if deps[e] == 0:
                    ready.append(e)


def _retain(ref, g, create_graph):
    t = ref()
    if t is None:
        return
    if not create_graph:
        g = g.detach()
    t._grad = g if t._grad is None else t._grad + g
