r"""Pruning: zero chosen entries of a layer's parameter through a 0/1 mask, with the names
and behaviour of PyTorch's ``torch.nn.utils.prune``.

Pruning the parameter ``name`` of a module reparametrizes it:

* the Parameter moves to ``name + "_orig"`` (the same object, so an optimizer built
  earlier keeps training it);
* a buffer ``name + "_mask"`` holds the mask :math:`m` (0 or 1, in the parameter's dtype);
* ``name`` becomes a plain attribute :math:`w = w_\mathrm{orig} \odot m`, rebuilt by a
  forward pre-hook (the pruning method object itself) before every call.

Since :math:`w` is a product, :math:`\partial L / \partial w_\mathrm{orig} =
(\partial L / \partial w) \odot m`: a pruned entry gets a zero gradient, and whatever an
optimizer does to :math:`w_\mathrm{orig}`, the next forward sees it masked again.
``state_dict`` carries ``name_orig`` and ``name_mask``; ``remove`` folds the mask into the
Parameter and drops the reparametrization.

``amount`` is either an int (how many entries, or slices, to prune) or a float in
:math:`[0, 1]` (that fraction of them, ``round(amount * n)`` with Python's ``round``).
Pruning a tensor that is already pruned combines the two: the new amount is taken from
the entries (or slices) still unpruned, and the masks multiply (a ``PruningContainer``
remembers the history).

Ties: every method ranks scores with numbagrad's ``topk``, a stable sort, so among equal
scores the entry (or slice) with the lower index is pruned first. (PyTorch's ``topk``
leaves the order of ties unspecified, so masks can differ from PyTorch's only there.)
"""
from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

from ... import creation, dtypes, ops
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..module import Module
from ..parameter import Parameter

__all__ = [
    "BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
    "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask", "identity",
    "random_unstructured", "l1_unstructured", "random_structured", "ln_structured",
    "global_unstructured", "custom_from_mask", "remove", "is_pruned",
]


# ---------------------------------------------------------------- argument checks

def _validate_pruning_amount_init(amount) -> None:
    """``amount`` must be a non-negative int or a float in [0, 1] (checked when a method
    is built, before any tensor is known)."""
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount!r}. Must be int or float.")
    if isinstance(amount, numbers.Integral):
        ok = amount >= 0
    else:
        ok = 0.0 <= float(amount) <= 1.0  # also rejects NaN
    if not ok:
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")


def _compute_nparams_toprune(amount, tensor_size: int) -> int:
    if isinstance(amount, numbers.Integral):
        return int(amount)
    return round(float(amount) * tensor_size)


def _validate_pruning_amount(amount: int, tensor_size: int) -> None:
    if amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                         f"prune={tensor_size}")


def _validate_structured_pruning(t: Tensor) -> None:
    if t.ndim <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {tuple(t.shape)} with {t.ndim} dims")


def _validate_dim_arg(dim) -> None:
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")


def _validate_pruning_dim(t: Tensor, dim: int) -> int:
    """Check ``dim`` against ``t`` and return it non-negative."""
    if not -t.ndim <= dim < t.ndim:
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")
    return int(dim) % t.ndim


def _validate_norm_order(n) -> None:
    if n == "fro":
        return
    if n == "nuc":
        raise ValueError("n='nuc' (nuclear norm) is not supported: numbagrad has no singular "
                         "value decomposition")
    if isinstance(n, bool) or not isinstance(n, numbers.Real):
        raise TypeError(f"n must be a number (int, float, inf, -inf) or 'fro', got {n!r}")
    if not (n >= 0 or n == float("-inf")):
        raise ValueError(f"n must be non-negative, inf or -inf, got {n}")


def _slice_norms(t: Tensor, n, dim: int) -> Tensor:
    r"""The L-``n`` norm of every slice of ``t`` along ``dim`` (a vector of
    ``t.shape[dim]`` values): :math:`(\sum |t|^n)^{1/n}` over all the other dims; ``n=0``
    counts the non-zero entries."""
    others = [d for d in range(t.ndim) if d != dim]
    if n == 0:
        return ops.sum(ops.ne(t, 0), others)
    if not t.dtype.is_floating_point:
        t = t.to(dtypes.get_default_dtype())
    return ops.norm(t, n, others)


def _check_scores(scores, target: Tensor, what: str) -> Tensor:
    if not isinstance(scores, Tensor):
        raise TypeError(f"importance_scores must be a Tensor, got {type(scores).__name__}")
    if tuple(scores.shape) != tuple(target.shape):
        raise ValueError(f"importance_scores should have the same shape as {what}: got "
                         f"{tuple(scores.shape)}, expected {tuple(target.shape)}")
    return scores


# ---------------------------------------------------------------- the method classes

class BasePruningMethod(ABC):
    """A pruning method: ``compute_mask`` decides the mask; ``apply`` installs it on a
    module (and the instance then serves as that module's forward pre-hook).

    Subclasses set ``PRUNING_TYPE`` to ``"unstructured"`` (entries chosen one by one),
    ``"structured"`` (whole slices along ``self.dim``) or ``"global"`` (a mask for the whole
    tensor). That type tells ``PruningContainer`` which part of an already-pruned tensor a
    new method may still act on.
    """

    PRUNING_TYPE: str = "unstructured"
    _tensor_name: str | None = None

    def __call__(self, module: Module, inputs) -> None:
        """The forward pre-hook: rebuild ``module.<name>`` as ``orig * mask``."""
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The new mask for importance scores ``t``, given the mask already in place
        (``default_mask``: all ones for a tensor never pruned). Same shape as ``t``."""

    def apply_mask(self, module: Module) -> Tensor:
        """``module.<name>_orig * module.<name>_mask``, recorded by autograd (so the
        gradient reaches ``<name>_orig``)."""
        if self._tensor_name is None:
            raise RuntimeError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        if mask.dtype != orig.dtype:
            mask = mask.to(orig.dtype)
        return orig * mask

    @classmethod
    def apply(cls, module: Module, name: str, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``, ranking entries by
        ``importance_scores`` (default: the parameter itself). If ``name`` is already
        pruned, the new method acts on what is left and joins a ``PruningContainer``.
        Returns the method now hooked on the module. Nothing on the module changes when an
        argument turns out to be invalid."""
        if not isinstance(module, Module):
            raise TypeError(f"module must be a numbagrad.nn.Module, got {type(module).__name__}")
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        found = _pruning_hooks(module, name)
        if len(found) > 1:
            raise RuntimeError(f"Avoid adding multiple pruning hooks to the same tensor {name} "
                               f"of module {module}. Use a PruningContainer.")
        method = cls(*args, **kwargs)
        method._tensor_name = name

        if found:  # iterative pruning: the new amount applies to what is still unpruned
            hook_id, old = found[0]
            with no_grad():
                current = old.apply_mask(module)
                default_mask = getattr(module, name + "_mask").detach().clone()
                scores = current if importance_scores is None else _check_scores(
                    importance_scores, current, f"parameter {name} of {module}")
                mask = _combine_masks(method, scores, default_mask)
            orig = getattr(module, name + "_orig")
        else:
            orig = _parameter_to_prune(module, name)
            with no_grad():
                default_mask = creation.ones_like(orig)
                scores = orig if importance_scores is None else _check_scores(
                    importance_scores, orig, f"parameter {name} of {module}")
                mask = method.compute_mask(scores, default_mask=default_mask)
        if not isinstance(mask, Tensor) or tuple(mask.shape) != tuple(orig.shape):
            got = tuple(mask.shape) if isinstance(mask, Tensor) else type(mask).__name__
            raise RuntimeError(f"{type(method).__name__}.compute_mask returned {got}, expected "
                               f"a mask of shape {tuple(orig.shape)}")
        mask = ops.contiguous(mask.detach())
        if mask.dtype != orig.dtype:
            mask = mask.to(orig.dtype)

        # everything is valid: change the module
        if found:
            if isinstance(old, PruningContainer):
                old.add_pruning_method(method)
                method = old
            else:
                method = PruningContainer(old, method)
            del module._forward_pre_hooks[hook_id]
            module._forward_pre_hooks_with_kwargs.pop(hook_id, None)
        else:
            del module._parameters[name]
            module.register_parameter(name + "_orig", orig)
        module.register_buffer(name + "_mask", mask)
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        """``t`` times its mask (no module involved); differentiable in ``t``."""
        with no_grad():
            scores = t if importance_scores is None else _check_scores(
                importance_scores, t, "the tensor to prune")
            if default_mask is None:
                default_mask = creation.ones_like(t)
            mask = self.compute_mask(scores, default_mask=default_mask)
        return t * mask.to(t.dtype)

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: ``<name>`` becomes a Parameter again (the former
        ``<name>_orig`` object, now holding ``orig * mask``), and ``<name>_orig`` and
        ``<name>_mask`` go. The caller removes the hook (``prune.remove`` does both)."""
        if self._tensor_name is None:
            raise RuntimeError(f"Module {module} has to be pruned before pruning can be removed")
        name = self._tensor_name
        with no_grad():
            weight = self.apply_mask(module)
        module.__dict__.pop(name, None)
        orig = module._parameters.pop(name + "_orig")
        orig.data = weight
        module._buffers.pop(name + "_mask", None)
        module._non_persistent.discard(name + "_mask")
        setattr(module, name, orig)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class PruningContainer(BasePruningMethod):
    """The history of pruning methods applied to one tensor. Its mask is the previous mask
    refined by the last method, which only sees what the earlier ones left: unpruned
    entries (unstructured), slices with a non-zero entry (structured), or everything
    (global)."""

    def __init__(self, *methods: BasePruningMethod) -> None:
        self._pruning_methods: tuple = ()
        self._tensor_name = methods[0]._tensor_name if methods and isinstance(
            methods[0], BasePruningMethod) else None
        for m in methods:
            self.add_pruning_method(m)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if self._tensor_name is None:
            self._tensor_name = method._tensor_name
        elif method._tensor_name != self._tensor_name:
            raise ValueError("Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """``default_mask`` refined by the last method added, acting on the part of ``t``
        that ``default_mask`` leaves."""
        if not self._pruning_methods:
            raise RuntimeError("PruningContainer has no pruning method to compute a mask with")
        return _combine_masks(self._pruning_methods[-1], t, default_mask)

    def __repr__(self) -> str:
        return f"PruningContainer({', '.join(map(repr, self._pruning_methods))})"


def _combine_masks(method: BasePruningMethod, t: Tensor, mask: Tensor) -> Tensor:
    """Run ``method`` on the still-unpruned part of ``t`` and write its mask back there."""
    kind = method.PRUNING_TYPE
    if kind == "unstructured":
        region = ops.eq(mask, 1)  # a boolean index: the surviving entries, flattened
    elif kind == "structured":
        if not hasattr(method, "dim"):
            raise AttributeError("Pruning methods of PRUNING_TYPE 'structured' need to have "
                                 "the attribute `dim` defined.")
        _validate_structured_pruning(t)
        dim = _validate_pruning_dim(t, method.dim)
        alive = ops.ne(ops.sum(mask, [d for d in range(t.ndim) if d != dim]), 0)
        region = tuple(alive if d == dim else slice(None) for d in range(t.ndim))
    elif kind == "global":
        region = (slice(None),) * t.ndim
    else:
        raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")
    new_mask = mask.clone()
    partial = method.compute_mask(t[region], default_mask=mask[region])
    new_mask[region] = partial.to(new_mask.dtype)
    return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask stays all ones (useful to get the reparametrization)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class _AmountMethod(BasePruningMethod):
    """Shared ``__init__`` of the methods that take an ``amount``."""

    def __init__(self, amount) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount


class RandomUnstructured(_AmountMethod):
    """Prunes ``amount`` entries chosen uniformly at random (from numbagrad's global random
    stream, so ``numbagrad.manual_seed`` makes it repeat)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        size = t.numel()
        k = _compute_nparams_toprune(self.amount, size)
        _validate_pruning_amount(k, size)
        mask = default_mask.clone()
        if k:
            draw = creation.rand(size, device=t.device)
            mask.view(-1)[ops.topk(draw, k).indices] = 0
        return mask

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(_AmountMethod):
    r"""Prunes the ``amount`` entries with the smallest :math:`|t|` (the lower flat index
    first among equal magnitudes)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        size = t.numel()
        k = _compute_nparams_toprune(self.amount, size)
        _validate_pruning_amount(k, size)
        mask = default_mask.clone()
        if k:
            smallest = ops.topk(ops.abs(t).reshape(-1), k, largest=False).indices
            mask.view(-1)[smallest] = 0
        return mask

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class _StructuredMethod(_AmountMethod):
    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1) -> None:
        super().__init__(amount)
        _validate_dim_arg(dim)
        self.dim = dim

    def _slices_to_prune(self, t: Tensor, dim: int, k: int) -> Tensor:
        raise NotImplementedError

    def compute_mask(self, t, default_mask):
        _validate_structured_pruning(t)
        dim = _validate_pruning_dim(t, self.dim)
        size = t.shape[dim]
        k = _compute_nparams_toprune(self.amount, size)
        _validate_pruning_amount(k, size)
        if k == 0:
            return default_mask
        mask = default_mask.clone()
        drop = self._slices_to_prune(t, dim, k)
        mask[tuple(drop if d == dim else slice(None) for d in range(t.ndim))] = 0
        return mask


class RandomStructured(_StructuredMethod):
    """Prunes ``amount`` whole slices along ``dim`` (e.g. output channels with ``dim=0``),
    chosen at random."""

    def _slices_to_prune(self, t, dim, k):
        return ops.topk(creation.rand(t.shape[dim], device=t.device), k).indices

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(_StructuredMethod):
    r"""Prunes the ``amount`` slices along ``dim`` with the smallest L-``n`` norm
    :math:`\|t_{[i]}\|_n` taken over all the other dims (the lower index first among equal
    norms). ``n``: a non-negative number, ``inf``, ``-inf`` or ``'fro'`` (= 2)."""

    def __init__(self, amount, n, dim: int = -1) -> None:
        super().__init__(amount, dim)
        _validate_norm_order(n)
        self.n = n

    def _slices_to_prune(self, t, dim, k):
        return ops.topk(_slice_norms(t, self.n, dim), k, largest=False).indices

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Applies a given mask (multiplied into the existing one)."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        if not isinstance(mask, Tensor):
            raise TypeError(f"mask must be a Tensor, got {type(mask).__name__}")
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise ValueError(f"mask of shape {tuple(self.mask.shape)} does not match the "
                             f"tensor's shape {tuple(default_mask.shape)}")
        mask = self.mask.detach()
        if mask.device != default_mask.device:
            mask = mask.to(default_mask.device)
        return default_mask * mask.to(default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


# ---------------------------------------------------------------- helpers on modules

def _pruning_hooks(module: Module, name: str) -> list:
    return [(k, h) for k, h in module._forward_pre_hooks.items()
            if isinstance(h, BasePruningMethod) and h._tensor_name == name]


def _parameter_to_prune(module: Module, name: str) -> Parameter:
    """``module.<name>``, checked to be a Parameter that may be reparametrized."""
    kind = type(module).__name__
    if name not in module._parameters:
        if name in module._buffers or name in module._modules or name in module.__dict__:
            raise TypeError(f"'{name}' of {kind} is not a Parameter, so it cannot be pruned")
        raise AttributeError(f"'{kind}' object has no attribute '{name}'")
    p = module._parameters[name]
    if p is None:
        raise ValueError(f"parameter '{name}' of {kind} is None, so it cannot be pruned")
    for suffix in ("_orig", "_mask"):
        taken = name + suffix
        if (taken in module._parameters or taken in module._buffers
                or taken in module._modules or taken in module.__dict__):
            raise KeyError(f"attribute '{taken}' already exists")
    return p


def _current_tensor(module: Module, name: str) -> Tensor:
    """The tensor ``name`` as the next forward will see it: the Parameter, or
    ``orig * mask`` when it is pruned (computed fresh, not the attribute a previous forward
    left behind)."""
    found = _pruning_hooks(module, name)
    if found:
        return found[0][1].apply_mask(module)
    return _parameter_to_prune(module, name)


# ---------------------------------------------------------------- functional interface

def identity(module: Module, name: str) -> Module:
    """Reparametrize ``module.<name>`` with an all-ones mask (nothing pruned)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount) -> Module:
    """Prune ``amount`` random entries of ``module.<name>``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount, importance_scores=None) -> Module:
    """Prune the ``amount`` entries of ``module.<name>`` with the smallest magnitude (of
    ``importance_scores`` when given)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount, dim: int) -> Module:
    """Prune ``amount`` random slices of ``module.<name>`` along ``dim``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Module, name: str, amount, n, dim: int,
                  importance_scores=None) -> Module:
    """Prune the ``amount`` slices of ``module.<name>`` along ``dim`` with the smallest
    L-``n`` norm (of ``importance_scores`` when given)."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module: Module, name: str, mask: Tensor) -> Module:
    """Prune ``module.<name>`` with a given 0/1 ``mask``."""
    CustomFromMask.apply(module, name, mask=mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs) -> None:
    """Prune several tensors as one: the scores of all ``(module, name)`` pairs in
    ``parameters`` are pooled, ``pruning_method(**kwargs)`` (an unstructured method class,
    e.g. ``L1Unstructured`` with ``amount=0.2``) picks the entries to prune among all of them
    (only among those still unpruned), and each tensor gets its part of the mask.
    ``importance_scores``: an optional dict ``{(module, name): tensor}``."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = tuple(parameters)
    if importance_scores is None:
        importance_scores = {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    seen = set()
    for entry in parameters:
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], Module)
                and isinstance(entry[1], str)):
            raise TypeError("global_unstructured(): parameters must be (module, name) pairs, "
                            f"got {entry!r}")
        key = (id(entry[0]), entry[1])
        if key in seen:
            raise ValueError(f"global_unstructured(): ({type(entry[0]).__name__}, "
                             f"'{entry[1]}') is listed twice")
        seen.add(key)
    if not (isinstance(pruning_method, type) and issubclass(pruning_method, BasePruningMethod)):
        raise TypeError("global_unstructured(): pruning_method must be a BasePruningMethod "
                        f"subclass, got {pruning_method!r}")
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    if not parameters:
        return

    with no_grad():
        current = [_current_tensor(m, n) for m, n in parameters]
        scores, masks = [], []
        for (m, n), cur in zip(parameters, current):
            s = importance_scores.get((m, n), cur)
            scores.append(_check_scores(s, cur, f"parameter {n} of {m}").reshape(-1))
            mask = m._buffers.get(n + "_mask") if _pruning_hooks(m, n) else None
            masks.append((creation.ones_like(cur) if mask is None else mask).reshape(-1))
        container = PruningContainer(method)
        final = container.compute_mask(ops.cat(scores), ops.cat(masks))

    start = 0
    for (m, n), cur in zip(parameters, current):
        size = cur.numel()
        custom_from_mask(m, n, final[start:start + size].reshape(cur.shape))
        start += size


def remove(module: Module, name: str) -> Module:
    """Make the pruning of ``module.<name>`` permanent: ``<name>`` is a Parameter again
    holding ``orig * mask``; the hook, ``<name>_orig`` and ``<name>_mask`` are gone."""
    for hook_id, hook in _pruning_hooks(module, name):
        hook.remove(module)
        del module._forward_pre_hooks[hook_id]
        module._forward_pre_hooks_with_kwargs.pop(hook_id, None)
        return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     "can be removed")


def is_pruned(module: Module) -> bool:
    """True when ``module`` or any module inside it has a pruning hook."""
    return any(isinstance(h, BasePruningMethod)
               for _, m in module.named_modules() for h in m._forward_pre_hooks.values())
