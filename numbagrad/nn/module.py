"""``Module``: the base of every layer and model, and the containers.

A Module keeps its parameters, buffers and sub-modules in three ordered dicts filled by
``__setattr__``; everything else (``parameters()``, ``state_dict()``, ``to()``,
``train()``...) walks those dicts recursively, with PyTorch's names and dotted keys.

Forward hooks (``register_forward_pre_hook`` / ``register_forward_hook``) let code outside
a layer see or replace its inputs and outputs; pruning uses a pre-hook to rebuild a masked
weight before every call. They live in two more ordered dicts, keyed by the id of the
``RemovableHandle`` that registration returns, and are not part of ``state_dict``.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Iterator

from ..tensor import Tensor
from .parameter import Parameter


class _IncompatibleKeys(tuple):
    """``(missing_keys, unexpected_keys)`` as returned by ``load_state_dict``."""

    def __new__(cls, missing, unexpected):
        t = super().__new__(cls, (missing, unexpected))
        return t

    @property
    def missing_keys(self):
        return self[0]

    @property
    def unexpected_keys(self):
        return self[1]

    def __repr__(self) -> str:
        if not self[0] and not self[1]:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self[0]}, unexpected_keys={self[1]})"


class RemovableHandle:
    """Returned by hook registration: ``handle.remove()`` unregisters the hook (a second
    call does nothing). Also a context manager that removes the hook on exit."""

    _next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None) -> None:
        # weak, so a handle kept by the caller does not keep a deleted module alive
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.extra_dict_ref = None if extra_dict is None else weakref.ref(extra_dict)
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        for ref in (self.hooks_dict_ref, self.extra_dict_ref):
            d = ref() if ref is not None else None
            if d is not None:
                d.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<RemovableHandle id={self.id}>"


_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks",
               "_forward_hooks_with_kwargs")


class Module:
    """Base class of layers and models: subclass it, assign layers and Parameters as
    attributes in ``__init__``, and write ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        for name in _HOOK_DICTS:
            object.__setattr__(self, name, OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  "\"forward\" function")

    def __call__(self, *args, **kwargs):
        # Two dict truth tests are all a hook-free call pays (this runs for every layer).
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        """Pre-hooks, ``forward``, then forward hooks, each group in registration order.
        The dicts are copied first, so a hook may remove itself (or others) while running."""
        with_kw = self._forward_pre_hooks_with_kwargs
        for hid, hook in tuple(self._forward_pre_hooks.items()):
            if hid in with_kw:
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {res}.")
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        out = self.forward(*args, **kwargs)
        with_kw = self._forward_hooks_with_kwargs
        for hid, hook in tuple(self._forward_hooks.items()):
            res = hook(self, args, kwargs, out) if hid in with_kw else hook(self, args, out)
            if res is not None:
                out = res
        return out

    # ---- hooks ----

    def _add_hook(self, store: str, hook, prepend: bool, with_kwargs: bool) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        hooks = getattr(self, store)
        extra = getattr(self, store + "_with_kwargs")
        handle = RemovableHandle(hooks, extra_dict=extra)
        hooks[handle.id] = hook
        if with_kwargs:
            extra[handle.id] = True
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward``. Returning ``None`` keeps
        the input; returning a tuple replaces ``args``, any other value becomes the single
        argument. With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs)`` and
        may return ``(new_args, new_kwargs)``. ``prepend=True`` runs it before the hooks
        already registered. Returns a handle whose ``remove()`` unregisters it."""
        return self._add_hook("_forward_pre_hooks", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every ``forward`` (``args`` as given to
        ``forward``, after any pre-hook); a non-``None`` return replaces the output. With
        ``with_kwargs=True`` the hook is ``hook(module, args, kwargs, output)``."""
        return self._add_hook("_forward_hooks", hook, prepend, with_kwargs)

    # ---- copying and pickling ----

    def __getstate__(self):
        """The instance dict, with plain-attribute tensors that belong to a graph (such as
        a pruned weight ``orig * mask``, rebuilt by a pre-hook) detached, so ``deepcopy``
        and ``pickle`` of such a module work."""
        state = self.__dict__.copy()
        for k, v in state.items():
            if isinstance(v, Tensor) and v.grad_fn is not None:
                state[k] = v.detach()
        return state

    def __setstate__(self, state) -> None:
        self.__dict__.update(state)
        for name in _HOOK_DICTS:  # modules pickled before hooks existed
            if name not in self.__dict__:
                object.__setattr__(self, name, OrderedDict())

    # ---- attribute registration ----

    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign to a Module before Module.__init__() call")
        params, bufs, mods = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self.__dict__.pop(name, None)
            bufs.pop(name, None)
            mods.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            self.__dict__.pop(name, None)
            params.pop(name, None)
            bufs.pop(name, None)
            mods[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter "
                                f"'{name}' (numbagrad.nn.Parameter or None expected)")
            params[name] = None
        elif name in bufs:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(Tensor or None expected)")
            bufs[name] = value
        elif name in mods:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (Module or None expected)")
            mods[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if "." in name or not name:
            raise KeyError(f"parameter name can't contain \".\" or be empty, got '{name}'")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (numbagrad.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True):
        if "." in name or not name:
            raise KeyError(f"buffer name can't contain \".\" or be empty, got '{name}'")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (Tensor or None required)")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        mod = self
        for part in target.split(".") if target else []:
            if part not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no attribute `{part}`")
            mod = mod._modules[part]
        return mod

    # ---- iteration ----

    def named_modules(self, memo=None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named(self, store: str, prefix: str, recurse: bool):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mp, m in mods:
            for name, t in getattr(m, store).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{mp}.{name}" if mp else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        yield from self._named("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True):
        yield from self._named("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes and gradients ----

    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.zero_()

    def apply(self, fn) -> Module:
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- state ----

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """Parameters and persistent buffers by dotted name, sharing memory (detached)."""
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy tensors into parameters and buffers; PyTorch's missing/unexpected/size
        errors when ``strict``."""
        from ..autograd.grad_mode import no_grad

        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for k, target in own.items():
            if k not in state_dict:
                continue
            src = state_dict[k]
            if not isinstance(src, Tensor):
                errors.append(f'While copying the parameter named "{k}", expected a Tensor '
                              f"in the state dict but got {type(src).__name__}.")
                continue
            if src.shape != target.shape:
                errors.append(f"size mismatch for {k}: copying a param with shape "
                              f"{src.shape} from checkpoint, the shape in current model is "
                              f"{target.shape}.")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for k, target in own.items():
                if k in state_dict:
                    src = state_dict[k]
                    if assign:
                        self._assign(k, src)
                    else:
                        target.copy_(src.to(target.device))
        return _IncompatibleKeys(missing, unexpected)

    def _assign(self, key: str, value: Tensor) -> None:
        mod_path, _, name = key.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name in mod._parameters:
            mod._parameters[name] = value if isinstance(value, Parameter) else \
                Parameter(value, mod._parameters[name].requires_grad)
        else:
            mod._buffers[name] = value

    # ---- device and dtype ----

    def _apply_tensors(self, fn) -> Module:
        """Convert every parameter in place (the Parameter objects stay the same, so an
        optimizer built before ``to()`` keeps working) and replace every buffer."""
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    new = fn(p.detach())
                    if new._data is not p._data:
                        p.data = new
                        if p._grad is not None:
                            p._grad = fn(p._grad)
            for name, b in m._buffers.items():
                if b is not None:
                    m._buffers[name] = fn(b)
        return self

    def to(self, *args, **kwargs) -> Module:
        """``to(device)``, ``to(dtype)`` (floating tensors only), or both."""
        from .. import dtypes

        dt = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        for a in args:
            if isinstance(a, dtypes.dtype):
                dt = a
            elif isinstance(a, Tensor):
                dt, dev = a.dtype, a.device
            else:
                dev = a
        if dt is not None and not dtypes.as_dtype(dt).is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                            f"desired dtype={dt}")

        def conv(t):
            out = t
            if dev is not None:
                out = out.to(dev)
            if dt is not None and out.dtype.is_floating_point:
                out = out.to(dt)
            return out

        return self._apply_tensors(conv)

    def float(self) -> Module:
        from .. import dtypes

        return self.to(dtypes.float32)

    def double(self) -> Module:
        from .. import dtypes

        return self.to(dtypes.float64)

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device=None) -> Module:
        return self.to(device or "cuda")

    # ---- printing ----

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        for name, m in self._modules.items():
            r = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {r}")
        main = type(self).__name__ + "("
        if extra and not lines:
            return main + extra + ")"
        body = ([extra] if extra else []) + lines
        if not body:
            return main + ")"
        return main + "\n  " + "\n  ".join(body) + "\n)"

    def __dir__(self):
        return sorted(set(list(super().__dir__()) + list(self._parameters)
                          + list(self._buffers) + list(self._modules)))


class Sequential(Module):
    """Modules applied one after another; ``Sequential(a, b)`` or from an OrderedDict."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        mods = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(mods[idx]))
        if not -len(mods) <= idx < len(mods):
            raise IndexError(f"index {idx} is out of range")
        return mods[idx][1]

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters the parent module sees."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(mods[idx])
        return mods[idx]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[idx]
        self.add_module(key, module)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)


class ModuleDict(Module):
    """A dict of modules whose parameters the parent module sees."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules) -> None:
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self.add_module(k, m)

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)
