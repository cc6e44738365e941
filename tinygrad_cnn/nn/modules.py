"""Modules: layers that own their parameters, with PyTorch's names, signatures and parameter layouts.

    import tinygrad_cnn.nn as nn
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(6 * 14 * 14, 10))
    loss = F.cross_entropy(model(x), y)
    loss.backward()                      # fills p.grad for p in model.parameters()
    opt.step(); opt.zero_grad()

A parameter is an :class:`Parameter` (whatever its ``requires_grad``) or any floating-point Tensor with
``requires_grad=True`` assigned as a module attribute; a module assigned as an attribute is a child, named by
the attribute (``Sequential`` and ``ModuleList`` name them "0", "1", ..., ``ModuleDict`` by its keys).
``named_parameters()`` and ``state_dict()`` use dotted paths ("conv1.weight"), the same keys the
functional models in :mod:`tinygrad_cnn.models` use, so parameters move freely between the two styles.
Each module's ``forward`` runs inside ``tg.scope(name)`` (the attribute name; the class name for the
outermost module), so graph drawings cluster the recorded ops by layer.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from .. import functional as F
from . import init
from ..core.registry import is_int
from ..core.tensor import Tensor, no_grad, scope
from ..ops.common import int_tuple
from ..ops.conv import conv_pads
from ..ops.pool import adaptive_output_size
from ..ops.resize import interpolate_args

IntOrPair = int | tuple[int, int]

ForwardHook = Callable[["Module", tuple[Any, ...], Any], None]
_global_hooks: list[ForwardHook] = []  # run after every module's forward (register_module_forward_hook)


class RemovableHandle:
    """What ``register_*_hook`` returns: ``handle.remove()`` takes the hook out again."""

    def __init__(self, hooks: list[ForwardHook], hook: ForwardHook) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def register_module_forward_hook(hook: ForwardHook) -> RemovableHandle:
    """Call ``hook(module, inputs, output)`` after every module's forward, as PyTorch's function of this name
    (``models.summary`` uses it). Process-wide: remove it with the returned handle."""
    _global_hooks.append(hook)
    return RemovableHandle(_global_hooks, hook)


class Parameter(Tensor):
    """``Parameter(data, requires_grad=True)``: a leaf Tensor that a Module registers as a parameter when it is
    assigned as an attribute, as ``torch.nn.Parameter`` (also with ``requires_grad=False``). ``data`` is an
    array (not copied) or a Tensor (its array is shared, as in PyTorch)."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of all layers and models: override ``forward``; call the module to run it."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_name", None)
        object.__setattr__(self, "_forward_hooks", [])
        object.__setattr__(self, "training", True)

    # ---------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes such as {name!r}"
            )
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:  # reassigning a buffer keeps it a buffer, as in PyTorch
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}.{name}: a buffer must be a Tensor or None, "
                                f"got {type(value).__name__}")
            buffers[name] = value
            object.__setattr__(self, name, value)
            return
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Module):
            self._modules[name] = value
            object.__setattr__(value, "_name", name)
        elif isinstance(value, Parameter) or (isinstance(value, Tensor) and value.requires_grad):
            if not value.is_leaf:
                raise ValueError(
                    f"{type(self).__name__}.{name}: a parameter must be a leaf tensor (created directly, not "
                    "computed); use .detach() and requires_grad_()"
                )
            self._parameters[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__.get("_buffers", {}).pop(name, None)
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    # ---------------------------------------------------------------- running
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with scope(self._name or type(self).__name__):
            out = self.forward(*args, **kwargs)
        for hook in _global_hooks:
            hook(self, args, out)
        hooks = self.__dict__.get("_forward_hooks")
        if hooks:
            for hook in list(hooks):
                res = hook(self, args, out)
                if res is not None:  # as PyTorch: a forward hook may replace the output
                    out = res
        return out

    def register_forward_hook(self, hook: ForwardHook) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after this module's forward (after the process-wide hooks);
        a hook that returns something other than None replaces the output, as in PyTorch. Returns a handle
        whose ``remove()`` takes the hook out again."""
        if not callable(hook):
            raise TypeError(f"register_forward_hook: expected a callable, got {type(hook).__name__}")
        hooks = self.__dict__.get("_forward_hooks")
        if hooks is None:
            hooks = []
            object.__setattr__(self, "_forward_hooks", hooks)
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def train(self, mode: bool = True) -> Module:
        """Switch this module and its children to training mode (Dropout active); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode (Dropout is the identity); returns self."""
        return self.train(False)

    # ---------------------------------------------------------------- traversal
    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``, "" at the top) and every descendant, by dotted path, each once."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            kids = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, parameter) pairs, this module's own first, each shared tensor once."""
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mname, m in mods:
            for pname, p in m._parameters.items():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep ``tensor`` as state that is not trained (batch norm's running statistics): it is an attribute,
        is listed by ``named_buffers()``, follows ``to(dtype)`` when floating point and, when ``persistent``,
        is saved and loaded by ``state_dict()`` / ``load_state_dict()`` with the parameters."""
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"register_buffer: the name must be a non-empty string without dots, got {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"register_buffer: {type(self).__name__} already has a parameter or module {name!r}")
        self._buffers[name] = tensor
        if not persistent:
            object.__setattr__(self, "_non_persistent", self.__dict__.get("_non_persistent", set()) | {name})
        object.__setattr__(self, name, tensor)

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs of the buffers that are not None, each shared tensor once."""
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mname, m in mods:
            for bname, b in m.__dict__.get("_buffers", {}).items():
                if b is None or id(b) in seen:
                    continue
                seen.add(id(b))
                yield (f"{mname}.{bname}" if mname else bname), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _named_state(self) -> Iterator[tuple[str, Tensor]]:
        """What state_dict holds, in PyTorch's order: per module, its parameters then its persistent buffers."""
        seen: set[int] = set()
        for mname, m in self.named_modules():
            skip = m.__dict__.get("_non_persistent", set())
            own = list(m._parameters.items()) + [(k, b) for k, b in m.__dict__.get("_buffers", {}).items()
                                                 if b is not None and k not in skip]
            for k, t in own:
                if id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{mname}.{k}" if mname else k), t

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return int(sum(p.size for p in self.parameters()))

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad`` (to None, as PyTorch's default ``set_to_none=True``; with
        ``set_to_none=False`` an existing gradient is replaced by zeros instead)."""
        if not set_to_none:
            for p in self.parameters():
                if p.grad is not None:
                    p.grad = np.zeros_like(p.data)
            return
        for p in self.parameters():
            p.grad = None

    # ---------------------------------------------------------------- state
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """{dotted name: copy of the array} of every parameter and persistent buffer, in PyTorch's order
        (each module's parameters, then its buffers, module by module)."""
        return OrderedDict((k, p.data.copy()) for k, p in self._named_state())

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays (or Tensors) into the parameters and persistent buffers, in place.

        Shapes and dtypes must match exactly (nothing is cast). With ``strict`` every parameter and buffer
        must be given and no other key may appear; otherwise the missing and unexpected keys are returned.
        """
        own = dict(self._named_state())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(
                f"load_state_dict: {type(self).__name__} state does not match: missing keys {missing}, "
                f"unexpected keys {unexpected}"
            )
        for k, p in own.items():
            if k not in state:
                continue
            v = state[k]
            arr = v.data if isinstance(v, Tensor) else np.asarray(v)
            if arr.shape != p.shape:
                raise ValueError(f"load_state_dict: {k} has shape {arr.shape}, the module's has shape {p.shape}")
            if arr.dtype != p.dtype:
                raise TypeError(
                    f"load_state_dict: {k} has dtype {arr.dtype}, the module's has dtype {p.dtype} "
                    "(convert the model with .to(dtype) or the state explicitly)"
                )
        with no_grad():  # through Tensor.copy_: the parameters' versions are bumped
            for k, p in own.items():
                if k in state:
                    v = state[k]
                    p.copy_(v.data if isinstance(v, Tensor) else np.asarray(v))
        return IncompatibleKeys(missing, unexpected)

    def to(self, dtype: np.typing.DTypeLike) -> Module:
        """Convert every parameter and floating-point buffer to a float ``dtype`` (e.g. float64 for gradcheck),
        **in place**; returns self.

        Each parameter stays the same Tensor object (its data is replaced through ``Tensor.set_``, which bumps
        its version), so optimizers made earlier keep updating it (their state follows the new dtype at their
        next step). A parameter's ``.grad`` is converted too.
        """
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"Module.to: expected a numpy float dtype, got {dtype!r}") from None
        if dtype.kind != "f":
            raise TypeError(f"Module.to: parameters must stay floating point, got {dtype}")
        if dtype.itemsize not in (4, 8):  # checked before any parameter changes
            raise TypeError(f"Module.to: tensors compute in float32 or float64, got {dtype}")
        with no_grad():
            for p in self.parameters():
                if p.dtype != dtype:
                    grad = p.grad
                    p.grad = None
                    p.set_(p.data.astype(dtype))
                    if grad is not None:
                        p.grad = grad.data.astype(dtype)
            for b in self.buffers():
                if b.dtype.kind == "f" and b.dtype != dtype:
                    b.set_(b.data.astype(dtype))
        return self

    # ---------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        if self._modules:
            for name, m in self._modules.items():
                child = repr(m).replace("\n", "\n  ")
                lines.append(f"  ({name}): {child}")
            return "\n".join(lines) + "\n)"
        return lines[0] + ")"


def _pair(v: IntOrPair, what: str) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v), int(v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(i, (int, np.integer)) for i in v):
        return int(v[0]), int(v[1])
    raise TypeError(f"{what}: expected an int or a pair of ints, got {v!r}")


def _param(arr: np.ndarray, name: str) -> Tensor:
    return Tensor(arr, requires_grad=True, name=name)


# -------------------------------------------------------------------- layers with parameters
class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features); PyTorch's default initialisation."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 rng: init.RngLike = None, dtype: np.typing.DTypeLike = np.float32) -> None:
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(
                f"Linear: in_features and out_features must be positive, got {in_features}, {out_features}"
            )
        self.in_features, self.out_features = int(in_features), int(out_features)
        w, b = init.default_weight_and_bias((out_features, in_features), bias, rng, dtype)
        self.weight = _param(w, "weight")
        self.bias = None if b is None else _param(b, "bias")

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
"""The ``padding_mode`` values of Conv1d and Conv2d, as PyTorch's."""


def _check_padding_mode(cls: str, padding_mode: Any) -> str:
    if not isinstance(padding_mode, str) or padding_mode not in PADDING_MODES:
        raise ValueError(f"{cls}: padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, "
                         f"got {padding_mode!r}")
    return padding_mode


def _pad_mode(x: Tensor, pads: tuple[tuple[int, int], ...], mode: str, who: str) -> Tensor:
    """x padded on its last ``len(pads)`` axes by (before, after) ``pads`` in ``mode`` ('reflect', 'replicate' or
    'circular') with ``F.pad`` (the one place for padding modes: a gather, whose gradient adds the padded copies'
    gradients onto the entries they copy). PyTorch's flat pad tuple lists the last axis first, which is its
    ``_reversed_padding_repeated_twice``. Errors name ``who``."""
    flat = tuple(e for p in reversed(pads) for e in p)
    try:
        return F.pad(x, flat, mode=mode)
    except ValueError as e:
        raise ValueError(f"{who}: padding_mode={mode!r}, padding {pads}: {e}") from None


class _ConvNd(Module):
    _dims = 2
    _transposed = False  # ConvTranspose*: weight (C_in, C_out/groups, *k)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros", *,
                 rng: init.RngLike = None, dtype: np.typing.DTypeLike = np.float32) -> None:
        super().__init__()
        cls = type(self).__name__
        self.padding_mode = _check_padding_mode(cls, padding_mode)
        if in_channels <= 0 or out_channels <= 0 or groups <= 0:
            raise ValueError(
                f"{cls}: channels and groups must be positive, got {in_channels}, {out_channels}, {groups}"
            )
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{cls}: groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}"
            )
        if self._dims == 2:
            kernel = _pair(kernel_size, f"{cls}: kernel_size")
        else:
            if not isinstance(kernel_size, (int, np.integer)):
                raise TypeError(f"{cls}: kernel_size must be an int, got {kernel_size!r}")
            kernel = (int(kernel_size),)
        self.in_channels, self.out_channels, self.kernel_size = int(in_channels), int(out_channels), kernel
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, int(groups)
        if self._transposed:  # weight (C_in, C_out/groups, *k); torch's fan_in is weight.shape[1] * prod(k)
            shape = (self.in_channels, self.out_channels // self.groups) + kernel
            gen = init.as_rng(rng)
            w, _ = init.default_weight_and_bias(shape, False, gen, dtype)
            fan_in, _ = init.calculate_fan_in_and_fan_out(shape)
            bound = 1.0 / float(np.sqrt(fan_in))
            b = init.uniform((self.out_channels,), -bound, bound, gen, dtype) if bias else None
        else:
            w, b = init.default_weight_and_bias((out_channels, in_channels // groups) + kernel, bias, rng, dtype)
        self.weight = _param(w, "weight")
        self.bias = None if b is None else _param(b, "bias")

    def _padded(self, x: Tensor) -> tuple[Tensor, Any]:
        """The input and the padding to convolve it with: for padding_mode 'zeros' x and ``self.padding``; for
        the other modes x padded in that mode (per side, as PyTorch's ``_reversed_padding_repeated_twice``)
        and padding 0."""
        if self.padding_mode == "zeros" or not isinstance(x, Tensor) or x.ndim != self._dims + 2:
            return x, self.padding  # (a malformed input is worded by the functional conv)
        cls, nd = type(self).__name__, self._dims
        where = f"input {x.shape}, weight {self.weight.shape}"
        s = int_tuple(cls, "stride", self.stride, nd, 1, where)
        d = int_tuple(cls, "dilation", self.dilation, nd, 1, where)
        pads = conv_pads(cls, self.padding, self.kernel_size, s, d, where)
        if not any(e for p in pads for e in p):
            return x, 0
        return _pad_mode(x, pads, self.padding_mode, cls), 0

    def extra_repr(self) -> str:
        k = self.kernel_size if self._dims == 2 else self.kernel_size[0]
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={k}, stride={self.stride}"
        if self.padding != 0:
            s += f", padding={self.padding!r}"
        if self.dilation != 1:
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", 0) != 0:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        s += "" if self.bias is not None else ", bias=False"
        return s + ("" if self.padding_mode == "zeros" else f", padding_mode={self.padding_mode!r}")


class Conv2d(_ConvNd):
    """2-D cross-correlation over (N, C_in, H, W); weight (C_out, C_in/groups, kH, kW), bias (C_out,).

    ``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
    padding_mode='zeros')``; padding takes an int, a pair, ((top, bottom), (left, right)), 'valid' or 'same'.
    ``padding_mode`` 'reflect', 'replicate' or 'circular' pads the input that way first and convolves with
    padding 0, as PyTorch. Weights and bias start as U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """

    _dims = 2

    def forward(self, x: Tensor) -> Tensor:
        x, padding = self._padded(x)
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=padding,
                        dilation=self.dilation, groups=self.groups)


class Conv1d(_ConvNd):
    """1-D cross-correlation over (N, C_in, L); weight (C_out, C_in/groups, k), bias (C_out,); ``padding_mode``
    as Conv2d's."""

    _dims = 1

    def forward(self, x: Tensor) -> Tensor:
        x, padding = self._padded(x)
        return F.conv1d(x, self.weight, self.bias, stride=self.stride, padding=padding,
                        dilation=self.dilation, groups=self.groups)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", *, rng: init.RngLike = None,
                 dtype: np.typing.DTypeLike = np.float32) -> None:
        cls = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f"{cls}: only padding_mode='zeros' is supported (as in PyTorch), got {padding_mode!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, rng=rng, dtype=dtype)
        self.output_padding = output_padding

    def _output_padding(self, x: Tensor, output_size: Any) -> Any:
        """``self.output_padding``, or the one that makes the output ``output_size`` (its last ``nd`` entries,
        so (N, C, *size) works too), as PyTorch's ``_output_padding``."""
        if output_size is None:
            return self.output_padding
        cls, nd = type(self).__name__, self._dims
        if isinstance(output_size, Tensor) or not isinstance(output_size, (tuple, list)) or \
                len(output_size) not in (nd, nd + 2) or not all(is_int(e) for e in output_size):
            raise TypeError(f"{cls}: output_size must be a tuple of {nd} (or {nd + 2}) ints, got {output_size!r}")
        if not isinstance(x, Tensor) or x.ndim != nd + 2:
            return self.output_padding  # the functional conv words the error
        where = f"input {x.shape}, weight {self.weight.shape}"
        s = int_tuple(cls, "stride", self.stride, nd, 1, where)
        p = int_tuple(cls, "padding", self.padding, nd, 0, where)
        d = int_tuple(cls, "dilation", self.dilation, nd, 1, where)
        size, ops = tuple(int(e) for e in output_size[-nd:]), []
        for n, want, si, pi, di, k in zip(x.shape[2:], size, s, p, d, self.kernel_size):
            lo = (n - 1) * si - 2 * pi + di * (k - 1) + 1
            if not lo <= want <= lo + si - 1:
                raise ValueError(f"{cls}: output_size {tuple(output_size)} is not reachable from input {x.shape}: "
                                 f"each size must lie in [min, min + stride - 1], here min = {lo} and stride {si}")
            ops.append(want - lo)
        return tuple(ops)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C_in, L) (the input-gradient of Conv1d, an upsampling layer);
    weight (C_in, C_out/groups, k), bias (C_out,), PyTorch's arguments and default initialisation:

    ``ConvTranspose1d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
    bias=True, dilation=1)``. Output length (L - 1)s - 2p + d(k - 1) + output_padding + 1; ``forward(x,
    output_size=...)`` picks the output_padding that gives that length instead.
    """

    _dims = 1

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        return F.conv_transpose1d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                                  output_padding=self._output_padding(x, output_size), groups=self.groups,
                                  dilation=self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C_in, H, W) (the input-gradient of Conv2d, an upsampling layer);
    weight (C_in, C_out/groups, kH, kW), bias (C_out,), PyTorch's arguments and default initialisation
    (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C_out/groups * kH * kW, torch's fan of this layout):

    ``ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
    bias=True, dilation=1)``; ``forward(x, output_size=...)`` as PyTorch's.
    """

    _dims = 2

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        return F.conv_transpose2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                                  output_padding=self._output_padding(x, output_size), dilation=self.dilation,
                                  groups=self.groups)


# -------------------------------------------------------------------- pooling
class _Pool(Module):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool):
    """Maximum over kH x kW windows of (N, C, H, W); stride defaults to the kernel size; pads with -inf."""

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool):
    """Mean over kH x kW windows; zero padding counts in the mean (PyTorch's default)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class MaxPool1d(_Pool):
    """Maximum over windows of (N, C, L)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding)


class AvgPool1d(_Pool):
    """Mean over windows of (N, C, L)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding)


class _AdaptivePool(Module):
    """An adaptive pooling of (N, C, H, W) to ``output_size`` (an int or a pair; None keeps that size),
    checked when the module is made."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        adaptive_output_size(type(self).__name__, output_size)
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptivePool):
    """Mean over PyTorch's adaptive bins [floor(i H/h), ceil((i+1) H/h)) x [floor(j W/w), ceil((j+1) W/w))
    (``F.adaptive_avg_pool2d``)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)


class AdaptiveMaxPool2d(_AdaptivePool):
    """Maximum over PyTorch's adaptive bins; the gradient goes to each bin's first maximum
    (``F.adaptive_max_pool2d``)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_max_pool2d(x, self.output_size)


class Upsample(Module):
    """``F.interpolate`` of (N, C, H, W) to ``size`` or by ``scale_factor``, mode 'nearest' or 'bilinear'
    (as ``torch.nn.Upsample``); the arguments are checked when the module is made."""

    def __init__(self, size: int | tuple[int, int] | None = None,
                 scale_factor: float | tuple[float, float] | None = None, mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        interpolate_args(size, scale_factor, mode, align_corners, recompute_scale_factor, name="Upsample")
        self.size = size
        self.scale_factor = (tuple(float(s) for s in scale_factor) if isinstance(scale_factor, (tuple, list))
                             else None if scale_factor is None else float(scale_factor))
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


# -------------------------------------------------------------------- parameter-free layers
class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class Sigmoid(Module):
    """1 / (1 + e^-x)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh x."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class _Activation(Module):
    """An elementwise activation of ``tinygrad_cnn.functional`` with its keyword arguments, checked when the
    module is made (by one call on an empty tensor)."""

    fn: Any = None

    def __init__(self, **kwargs: float) -> None:
        super().__init__()
        self.kwargs = kwargs
        type(self).fn(Tensor(np.zeros(0, np.float32)), **kwargs)

    def forward(self, x: Tensor) -> Tensor:
        return type(self).fn(x, **self.kwargs)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.kwargs.items())


class LeakyReLU(_Activation):
    """x for x > 0, negative_slope * x otherwise (``F.leaky_relu``)."""

    fn = staticmethod(F.leaky_relu)

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__(negative_slope=negative_slope)


class ELU(_Activation):
    """x for x > 0, alpha (e^x - 1) otherwise (``F.elu``)."""

    fn = staticmethod(F.elu)

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=alpha)


class Softplus(_Activation):
    """log(1 + e^(beta x)) / beta, linear above the threshold (``F.softplus``)."""

    fn = staticmethod(F.softplus)

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta=beta, threshold=threshold)


class Hardtanh(_Activation):
    """x clipped to [min_val, max_val] (``F.hardtanh``)."""

    fn = staticmethod(F.hardtanh)

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__(min_val=min_val, max_val=max_val)


class SiLU(_Activation):
    """x * sigmoid(x) (``F.silu``)."""

    fn = staticmethod(F.silu)


class Mish(_Activation):
    """x * tanh(softplus(x)) (``F.mish``)."""

    fn = staticmethod(F.mish)


class ReLU6(_Activation):
    """min(max(x, 0), 6) (``F.relu6``)."""

    fn = staticmethod(F.relu6)


class Hardswish(_Activation):
    """x * relu6(x + 3) / 6 (``F.hardswish``)."""

    fn = staticmethod(F.hardswish)


class GELU(_Activation):
    """x * Phi(x): 0.5 x (1 + erf(x / sqrt 2)), or with ``approximate="tanh"``
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (``F.gelu``)."""

    fn = staticmethod(F.gelu)

    def __init__(self, approximate: str = "none") -> None:
        super().__init__(approximate=approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.kwargs['approximate']!r}"  # GELU(approximate='none'), as PyTorch


class Identity(Module):
    """Returns its input."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Flatten(Module):
    """Merge axes start_dim..end_dim (default: all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


def _check_p(p: Any, who: str) -> float:
    ok = isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(p, (bool, np.bool_))
    if not ok or not 0.0 <= float(p) <= 1.0:  # NaN fails the comparison too
        raise ValueError(f"{who}: p must be a number in [0, 1], got {p!r}")
    return float(p)


def _generator(rng: Any, who: str) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{who}: rng must be a numpy Generator, got {type(rng).__name__}")
    return rng


def dropout(x: Tensor, p: float, rng: np.random.Generator) -> Tensor:
    """Inverted dropout with the generator ``rng``: ``F.dropout(x, p, rng=rng)`` (see there)."""
    return F.dropout(x, p, rng=_generator(rng, "dropout"))


def dropout2d(x: Tensor, p: float, rng: np.random.Generator) -> Tensor:
    """Channel dropout with the generator ``rng``: ``F.dropout2d(x, p, rng=rng)`` (see there)."""
    return F.dropout2d(x, p, rng=_generator(rng, "dropout2d"))


class Dropout2d(Module):
    """Zero whole channels with probability p while training, scaling the rest by 1/(1-p); identity in eval."""

    def __init__(self, p: float = 0.5, *, rng: init.RngLike = None) -> None:
        super().__init__()
        self.p = _check_p(p, "Dropout2d")
        self.rng = init.as_rng(rng)

    def forward(self, x: Tensor) -> Tensor:
        return dropout2d(x, self.p, self.rng) if self.training else x

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout(Module):
    """Zero each element with probability p while training and scale the rest by 1/(1-p); identity in eval.

    The masks come from ``rng`` (a Generator or seed; None: the default generator), so runs repeat.
    """

    def __init__(self, p: float = 0.5, *, rng: init.RngLike = None) -> None:
        super().__init__()
        self.p = _check_p(p, "Dropout")
        self.rng = init.as_rng(rng)

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.rng) if self.training else x

    def extra_repr(self) -> str:
        return f"p={self.p}"


# -------------------------------------------------------------------- normalisation
def _positive(who: str, what: str, v: Any) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{who}: {what} must be a positive int, got {v!r}")
    return int(v)


def _check_eps(who: str, eps: Any) -> None:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not np.isfinite(eps) or eps < 0:
        raise ValueError(f"{who}: eps must be a finite number >= 0, got {eps!r}")


class _BatchNorm(Module):
    """PyTorch's batch norm: ``weight`` (ones) and ``bias`` (zeros) when ``affine``; buffers
    ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` when
    ``track_running_stats``. Training mode normalises with the batch statistics and updates the running
    ones; evaluation mode normalises with the running ones (or with the batch's, without running stats).
    ``momentum=None`` averages all batches so far (cumulative moving average)."""

    _ndims: tuple[int, ...] = (2, 3)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, *, dtype: np.typing.DTypeLike = np.float32) -> None:
        super().__init__()
        cls = type(self).__name__
        self.num_features = _positive(cls, "num_features", num_features)
        _check_eps(cls, eps)
        if momentum is not None and (isinstance(momentum, bool) or not isinstance(momentum, (int, float))
                                     or not 0 <= momentum <= 1):
            raise ValueError(f"{cls}: momentum must be None or a number in [0, 1], got {momentum!r}")
        self.eps, self.momentum = float(eps), None if momentum is None else float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        c = self.num_features
        self.weight = _param(np.ones(c, dtype=dtype), "weight") if affine else None
        self.bias = _param(np.zeros(c, dtype=dtype), "bias") if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(c, dtype=dtype), name="running_mean"))
            self.register_buffer("running_var", Tensor(np.ones(c, dtype=dtype), name="running_var"))
            self.register_buffer("num_batches_tracked", Tensor(np.zeros((), dtype=np.int64),
                                                               name="num_batches_tracked"))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, variance 1, no batches seen."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def forward(self, x: Tensor) -> Tensor:
        cls = type(self).__name__
        if not isinstance(x, Tensor) or x.ndim not in self._ndims:
            dims = " or ".join(f"{n}-D" for n in self._ndims)
            raise ValueError(f"{cls}: expected a {dims} input, got shape {getattr(x, 'shape', x)}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{cls}: expected {self.num_features} channels (dimension 1), got input of shape "
                             f"{x.shape}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or self.running_mean is None, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) inputs over N (and L), per channel (see :func:`F.batch_norm`)."""

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) inputs over N, H and W, per channel (see :func:`F.batch_norm`)."""

    _ndims = (4,)


class LayerNorm(Module):
    """Layer norm over the trailing ``normalized_shape`` dimensions; ``weight`` (ones) and ``bias`` (zeros)
    of that shape when ``elementwise_affine`` (``bias=False`` drops the bias), as PyTorch."""

    def __init__(self, normalized_shape: int | tuple[int, ...] | list[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, *,
                 dtype: np.typing.DTypeLike = np.float32) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
        if not isinstance(shape, (tuple, list)) or not shape or any(
                isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be a positive int or a non-empty sequence of them, "
                             f"got {normalized_shape!r}")
        _check_eps("LayerNorm", eps)
        self.normalized_shape, self.eps = tuple(int(d) for d in shape), float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        affine = self.elementwise_affine
        self.weight = _param(np.ones(self.normalized_shape, dtype=dtype), "weight") if affine else None
        self.bias = _param(np.zeros(self.normalized_shape, dtype=dtype), "bias") if affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps:g}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Group norm: ``num_channels`` in ``num_groups`` groups, each normalised over its channels and positions;
    per-channel ``weight`` (ones) and ``bias`` (zeros) when ``affine``, as PyTorch."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, *,
                 dtype: np.typing.DTypeLike = np.float32) -> None:
        super().__init__()
        self.num_groups = _positive("GroupNorm", "num_groups", num_groups)
        self.num_channels = _positive("GroupNorm", "num_channels", num_channels)
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels {num_channels} must be divisible by num_groups {num_groups}")
        _check_eps("GroupNorm", eps)
        self.eps, self.affine = float(eps), bool(affine)
        self.weight = _param(np.ones(num_channels, dtype=dtype), "weight") if affine else None
        self.bias = _param(np.zeros(num_channels, dtype=dtype), "bias") if affine else None

    def forward(self, x: Tensor) -> Tensor:
        if isinstance(x, Tensor) and x.ndim >= 2 and x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected {self.num_channels} channels (dimension 1), got input of shape "
                             f"{x.shape}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps:g}, affine={self.affine}"


class Sequential(Module):
    """Modules applied in order: ``Sequential(m0, m1, ...)`` (named "0", "1", ...) or ``Sequential({name: m})``."""

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            items: Iterable[tuple[str, Any]] = modules[0].items()
        else:
            items = ((str(i), m) for i, m in enumerate(modules))
        for name, m in items:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: entry {name!r} is a {type(m).__name__}, not a Module")
            setattr(self, name, m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, i: int | str) -> Module:
        if isinstance(i, str):
            return self._modules[i]
        return list(self._modules.values())[i]

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(Module):
    """A list of registered child modules, named "0", "1", ... (``named_parameters`` gives "layers.0.weight"),
    as ``torch.nn.ModuleList``; it has no ``forward`` of its own: iterate over it in the parent's."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _set_all(self, mods: list[Module]) -> None:
        for i, m in enumerate(mods):
            if not isinstance(m, Module):
                raise TypeError(f"ModuleList: entry {i} is a {type(m).__name__}, not a Module")
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m
            object.__setattr__(m, "_name", str(i))

    def _index(self, i: Any) -> int:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"ModuleList indices must be integers or slices, not {type(i).__name__}")
        n = len(self._modules)
        j = int(i) + n if i < 0 else int(i)
        if not 0 <= j < n:
            raise IndexError(f"ModuleList index {i} is out of range for {n} modules")
        return j

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __getitem__(self, i: int | slice) -> Any:
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return ModuleList(mods[i])
        return mods[self._index(i)]

    def __setitem__(self, i: int, m: Module) -> None:
        mods = list(self._modules.values())
        mods[self._index(i)] = m
        self._set_all(mods)

    def __delitem__(self, i: int | slice) -> None:
        mods = list(self._modules.values())
        if isinstance(i, slice):
            del mods[i]
        else:
            del mods[self._index(i)]
        self._set_all(mods)

    def append(self, m: Module) -> ModuleList:
        self._set_all([*self._modules.values(), m])
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        self._set_all([*self._modules.values(), *modules])
        return self

    def insert(self, index: int, m: Module) -> None:
        mods = list(self._modules.values())
        mods.insert(index, m)
        self._set_all(mods)


class ModuleDict(Module):
    """An ordered dict of registered child modules, named by their (string) keys, as ``torch.nn.ModuleDict``.

    The children live in ``_modules`` only (not as instance attributes, so a key such as "keys" cannot hide
    a method); ``md.name`` still reads a child whose key is not a method's name."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getattr__(self, name: str) -> Any:  # only called when normal lookup fails
        mods = self.__dict__.get("_modules")
        if mods is not None and name in mods:
            return mods[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or module {name!r}")

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, m: Module) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict keys must be strings, got {type(key).__name__}")
        if not key or "." in key:
            raise KeyError(f"ModuleDict: key {key!r} must be a non-empty string without '.'")
        if not isinstance(m, Module):
            raise TypeError(f"ModuleDict: entry {key!r} is a {type(m).__name__}, not a Module")
        self._modules[key] = m
        object.__setattr__(m, "_name", key)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> list[str]:
        return list(self._modules.keys())

    def values(self) -> list[Module]:
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        return list(self._modules.items())

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        items = modules.items() if isinstance(modules, Mapping) else modules
        for entry in items:
            if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
                raise TypeError(f"ModuleDict.update: expected (key, module) pairs, got {entry!r}")
            self[entry[0]] = entry[1]


# -------------------------------------------------------------------- activations over a dimension, losses
def _softmax_dim(dim: Any, who: str) -> int | None:
    if dim is not None and (isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer))):
        raise TypeError(f"{who}: dim must be an int (or None), got {dim!r}")
    return None if dim is None else int(dim)


def _implicit_dim(x: Tensor, who: str) -> int:
    """PyTorch's legacy choice when ``dim`` is None: 0 for 0-, 1- and 3-d inputs, else 1 (with a warning)."""
    import warnings

    warnings.warn(f"{who}: implicit dimension choice is deprecated; pass dim", UserWarning, stacklevel=3)
    return 0 if x.ndim in (0, 1, 3) else 1


class Softmax(Module):
    """``F.softmax`` along ``dim`` (as ``torch.nn.Softmax``; dim=None picks PyTorch's legacy dimension)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = _softmax_dim(dim, "Softmax")

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, _implicit_dim(x, "Softmax") if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``F.log_softmax`` along ``dim`` (as ``torch.nn.LogSoftmax``)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = _softmax_dim(dim, "LogSoftmax")

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, _implicit_dim(x, "LogSoftmax") if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


def _check_reduction(reduction: Any, who: str) -> str:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return str(reduction)


class CrossEntropyLoss(Module):
    """``loss_fn(logits, target)`` = ``F.cross_entropy`` (logits (N, C), integer targets (N,)), as
    ``torch.nn.CrossEntropyLoss(ignore_index=-100, reduction="mean")``."""

    def __init__(self, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__()
        if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index, (int, np.integer)):
            raise TypeError(f"CrossEntropyLoss: ignore_index must be an int, got {ignore_index!r}")
        self.ignore_index = int(ignore_index)
        self.reduction = _check_reduction(reduction, "CrossEntropyLoss")

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(logits, target, self.reduction, self.ignore_index)

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"


class MSELoss(Module):
    """``loss_fn(pred, target)`` = ``F.mse_loss`` (same shapes), as ``torch.nn.MSELoss(reduction="mean")``."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _check_reduction(reduction, "MSELoss")

    def forward(self, pred: Tensor, target: Any) -> Tensor:
        return F.mse_loss(pred, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


__all__ = [
    "Module", "Parameter", "Linear", "Conv2d", "Conv1d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool2d",
    "AvgPool2d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Upsample", "ReLU",
    "Sigmoid", "Tanh", "LeakyReLU", "ELU", "Softplus", "Hardtanh", "SiLU", "Mish", "ReLU6", "Hardswish", "GELU",
    "Identity", "Flatten", "Dropout", "Dropout2d", "Sequential", "ModuleList", "ModuleDict", "Softmax",
    "LogSoftmax", "CrossEntropyLoss", "MSELoss", "dropout", "dropout2d", "IncompatibleKeys",
    "register_module_forward_hook", "RemovableHandle", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm",
]
