"""The Tensor and the reverse-mode walk: the whole autograd engine.

A :class:`Tensor` wraps a numpy array. When a registered op (see :mod:`tinygrad_cnn.core.registry`) runs on
tensors that require gradients, the result remembers a :class:`Node`: the op, its input tensors and its
attributes. ``backward()`` visits those nodes from the output back to the leaves in reverse topological
order and, at each one, calls the op's vector-Jacobian products (VJPs). VJPs are written with registered
ops too, so under ``create_graph=True`` the backward pass is itself recorded and can be differentiated.

Engine state (grad mode, anomaly mode, the scope, transform nesting) belongs to the calling thread
(:class:`EngineState`): a new thread starts with gradients on, and ``no_grad()`` or ``backward()`` in one
thread never changes what another records.

In-place writes (``add_``, ``-=``, ``copy_``, the optimizers, ``load_state_dict``) bump the tensor's
version. Every write takes a stamp from the same counter that numbers the nodes, so a node knows an input
was written after it was recorded when that input's stamp is newer than the node; ``backward()`` then
raises instead of differentiating at the new values.

Arithmetic operators and op methods (``x + y``, ``x.relu()``, ...) are the ops' functions, attached to
:class:`Tensor` from one table (``tinygrad_cnn/methods.py``) and declared in the class body for editors and
type checkers; this file only knows the engine.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import weakref
import functools
import itertools
import zlib
from operator import itemgetter
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .registry import Op

ArrayLike = Any  # anything np.asarray accepts


class EngineState:
    """The engine's state as one thread (or asyncio task) sees it: grad mode, anomaly mode, the scope, the
    nesting of transforms. Instances are never changed: a mode makes a new state and sets it in a
    ``ContextVar``, so each thread has its own and a new thread starts from the defaults, whatever the
    thread that started it was doing. Leaving a mode restores only the field that mode set, so modes that
    end out of order (a generator suspended inside ``no_grad()``) cannot undo each other."""

    __slots__ = ("grad_enabled", "anomaly", "scope", "in_backward_of", "transform_depth")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.scope: tuple[str, ...] = ()
        self.in_backward_of: str | None = None  # under detect_anomaly: the op whose VJP is running
        self.transform_depth = 0  # how many tg.grad / value_and_grad calls surround this one

    def replace(self, **changes: Any) -> EngineState:
        """A copy with ``changes``."""
        new = _new(EngineState)
        new.grad_enabled, new.anomaly, new.scope = self.grad_enabled, self.anomaly, self.scope
        new.in_backward_of, new.transform_depth = self.in_backward_of, self.transform_depth
        for k, v in changes.items():
            setattr(new, k, v)
        return new


_DEFAULT_STATE = EngineState()
_current: contextvars.ContextVar[EngineState] = contextvars.ContextVar("tinygrad_cnn_state", default=_DEFAULT_STATE)
_get_state = _current.get  # one call per op, about as cheap as reading a global
_set_state = _current.set


def engine_state() -> EngineState:
    """This thread's (or asyncio task's) engine state."""
    return _get_state()


def _set_field(field: str, value: Any) -> None:
    """Set one field of this thread's state, leaving the others as they are now."""
    _set_state(_get_state().replace(**{field: value}))


# Numbers nodes and in-place writes in one order (next() on a count is atomic under the GIL).
_clock = itertools.count()
_last_write = -1  # the clock at the latest in-place write in any thread: backward skips its checks when older
_write_lock = threading.Lock()


def _write_stamp() -> int:
    """A clock value for an in-place write; ``_last_write`` only ever grows, whichever thread writes."""
    global _last_write
    with _write_lock:
        stamp = next(_clock)
        if stamp > _last_write:
            _last_write = stamp
    return stamp


class _Version:
    """How often a tensor's data was written in place (``count``) and the clock at the last write (``stamp``).

    Tensors whose arrays share memory (a view and its base, ``detach()``) share one ``_Version``.
    """

    __slots__ = ("count", "stamp", "sharers")

    def __init__(self) -> None:
        self.count, self.stamp = 0, -1
        self.sharers: list[weakref.ref[Tensor]] | None = None  # the tensors that share it, while alive

    def __getstate__(self) -> tuple[int, int]:  # a copy or pickle shares memory with nothing
        return self.count, self.stamp

    def __setstate__(self, state: tuple[int, int]) -> None:
        self.count, self.stamp = state
        self.sharers = None

    def shared_with_another(self, t: Tensor) -> bool:
        """Whether a tensor other than ``t`` still alive shares this counter (and so ``t``'s memory)."""
        return self.sharers is not None and any(r() is not None and r() is not t for r in self.sharers)


class Node:
    """How a tensor was made: ``op(*inputs, **attrs)``, recorded inside the scope ``scope``.

    After a backward pass without ``retain_graph`` the inputs are replaced by :class:`Ghost` records that
    keep only what a graph drawing needs (shape, dtype, name, producer), so the arrays can be freed.
    """

    __slots__ = ("op", "inputs", "attrs", "saved", "scope", "freed", "seq", "prints")

    def __init__(self, op: Op, inputs: tuple[Tensor, ...], attrs: dict[str, Any], saved: Any = None,
                 scope: tuple[str, ...] = ()) -> None:
        self.op = op
        self.inputs = inputs
        self.attrs = attrs
        self.saved = saved  # what a `saves=True` op's forward kept for its VJPs
        self.scope = scope
        self.freed = False
        self.seq = next(_clock)
        self.prints: tuple[int, ...] | None = None  # under detect_anomaly: checksums of the arrays it read

    def free(self) -> None:
        self.inputs = tuple([t if t._node is None and t._requires_grad else Ghost(t) for t in self.inputs])
        self.saved = None
        self.prints = None
        self.freed = True

    def __repr__(self) -> str:
        return f"Node({self.op.name}, inputs={[tuple(t.shape) for t in self.inputs]})"


class Ghost:
    """What a freed node still knows about one of its inputs."""

    __slots__ = ("shape", "dtype", "name", "_node", "_requires_grad")
    grad = data = None

    def __init__(self, t: Tensor) -> None:
        data = t.data
        self.shape = data.shape
        self.dtype = data.dtype
        self.name = t.name
        self._node = t._node
        self._requires_grad = t._requires_grad

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @property
    def node(self) -> Node | None:
        return self._node


_new = object.__new__


# -------------------------------------------------------------------- the dtype policy at the boundary
_REFUSED_KINDS = {
    "c": "complex numbers are not supported (split real and imaginary parts into two float tensors)",
    "U": "strings are not numbers", "S": "bytes are not numbers", "M": "datetimes are not numbers",
    "m": "timedeltas are not numbers", "V": "structured (record) arrays are not supported; pass one field",
    "O": "object arrays are not supported",
}


def check_dtype(dtype: np.dtype, who: str, shape: tuple[int, ...] = ()) -> None:
    """Raise TypeError unless ``dtype`` is one a tensor may hold: float32, float64, integers or bool."""
    kind = dtype.kind
    if kind in "iub" or (kind == "f" and dtype.itemsize in (4, 8)):
        return
    if kind == "f":
        raise TypeError(
            f"{who}: {dtype} is not supported (shape {shape}); tensors compute in float32 or float64 "
            f"({'float16 sums lose precision and overflow' if dtype.itemsize == 2 else 'extended precision is not'}); "
            "convert with .astype(np.float32)"
        )
    raise TypeError(f"{who}: cannot hold dtype {dtype} (shape {shape}): {_REFUSED_KINDS.get(kind, 'not a number')}")


def as_array(data: ArrayLike, dtype: np.typing.DTypeLike | None = None, who: str = "Tensor") -> np.ndarray:
    """``data`` as a plain ndarray a tensor may hold, following the dtype policy (see docs/engine.md).

    numpy arrays keep their dtype and are not copied; ``np.matrix`` becomes a plain 2-D array. Python
    numbers, numpy scalars and (nested) lists become float32 unless ``dtype`` is given. ``None``,
    masked arrays, non-numeric, complex, float16 and extended-precision data raise TypeError.
    """
    if data is None:
        raise TypeError(f"{who}: got None instead of an array or number")
    if isinstance(data, np.ma.MaskedArray):
        raise TypeError(
            f"{who}: masked arrays are refused (their mask would be dropped); "
            "pass m.filled(value) or m.compressed() instead"
        )
    if isinstance(data, np.ndarray):
        arr = data if type(data) is np.ndarray else np.asarray(data)  # np.matrix and other subclasses
        if dtype is not None:  # an explicit conversion: float16 data may become float32, say
            target = np.dtype(dtype)
            check_dtype(target, who, arr.shape)
            if arr.dtype.kind not in "biuf":
                check_dtype(arr.dtype, who, arr.shape)
            arr = arr.astype(target, copy=False)
    else:
        if isinstance(data, (str, bytes)):
            raise TypeError(f"{who}: cannot hold a {type(data).__name__} ({data!r:.40}); strings are not numbers")
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{who}: cannot convert {type(data).__name__} to an array: {e}") from None
        check_dtype(arr.dtype, who, arr.shape)
        target = np.dtype(np.float32 if dtype is None else dtype)
        check_dtype(target, who, arr.shape)
        arr = arr.astype(target, copy=False)
    check_dtype(arr.dtype, who, arr.shape)
    return arr


class ElementCount(int):
    """``Tensor.size``: numpy's element count, an int; calling it (PyTorch's ``size()``) is a TypeError that
    points to ``.shape``. Arithmetic on it gives plain ints."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Tensor.size is numpy's element count (an int); for PyTorch's size() use .shape "
                        "(and .shape[d] for size(d))")

    def __repr__(self) -> str:
        return int.__repr__(self)

    def __reduce__(self) -> Any:  # pickles (and deep-copies) as a plain int
        return (int, (int(self),))


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)``. Python numbers, numpy scalars and lists
    become float32; numpy arrays keep their dtype and are not copied. float32 and float64 are the
    computing dtypes; integer and boolean tensors are data (labels, indices, masks) and never require
    gradients. Everything else is refused (see :func:`as_array` and the dtype policy in docs/engine.md).

    The attributes are numpy's (``shape``, ``ndim``, ``dtype``, and ``size``, the element count as an int);
    the PyTorch names sit beside them (``view``, ``unsqueeze``, ``dim=``/``keepdim=``, ``float(t)``, ...),
    except ``size()``: ``t.size`` is numpy's int, so ``t.size()`` raises a TypeError pointing to ``.shape``.
    """

    __slots__ = ("data", "_grad", "_node", "_requires_grad", "name", "_retains_grad", "_vc", "__weakref__")
    __array_ufunc__ = None  # make `ndarray * Tensor` call Tensor.__rmul__ instead of dropping the graph

    def __init__(
        self,
        data: ArrayLike,
        requires_grad: bool = False,
        dtype: np.typing.DTypeLike | None = None,
        name: str | None = None,
    ) -> None:
        source = data if isinstance(data, Tensor) else None
        arr = as_array(data.data if source is not None else data, dtype)
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                f"Tensor: requires_grad=True needs a floating-point dtype, got {arr.dtype} "
                f"(shape {arr.shape}); integer and boolean tensors are data, not parameters"
            )
        self.data: np.ndarray = arr
        self._grad: Tensor | None = None
        self._node: Node | None = None
        self._requires_grad = bool(requires_grad)
        self.name = name
        self._retains_grad = False
        self._vc: _Version | None = None
        if source is not None and arr is source.data:
            _share_version(self, source)  # same memory: writes through either are seen by both

    @staticmethod
    def _make(data: np.ndarray, node: Node | None = None) -> Tensor:
        """Wrap an op's output array without conversion (the engine's fast path)."""
        t = _new(Tensor)
        t.data = data
        t._grad = None
        t._node = node
        t._requires_grad = node is not None
        t.name = None
        t._retains_grad = False
        t._vc = None
        return t

    # ---------------------------------------------------------------- array-like attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        """numpy's element count (an int); ``t.size()`` raises a TypeError pointing to ``.shape``."""
        return ElementCount(self.data.size)

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def op(self) -> str | None:
        """Name of the op that produced this tensor (None for a leaf)."""
        return None if self._node is None else self._node.op.name

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def node(self) -> Node | None:
        """The :class:`Node` that recorded how this tensor was made (None for a leaf): its ``op``, ``inputs``,
        ``attrs`` and ``scope``, for tools that walk the graph (graph drawings)."""
        return self._node

    wrap = _make  # the public name of the fast path: ``Tensor.wrap(array)`` wraps an op's output, no checks

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor. Settable on leaves only (float dtypes for True)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    @property
    def _version(self) -> int:
        """How many in-place writes made through the library this tensor's data has seen."""
        return 0 if self._vc is None else self._vc.count

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied; writing into it bypasses the version counter)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(f"item: only a one-element tensor converts to a Python number, got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """The same data (shared memory and version counter), cut from the graph."""
        t = Tensor._make(self.data)
        _share_version(t, self)
        return t

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()")
        return bool(self.data)

    def _scalar(self, who: str) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(f"{who}: only a one-element tensor converts to a Python number, got shape {self.shape}")
        return self.data.item()

    def __float__(self) -> float:
        return float(self._scalar("float()"))

    def __int__(self) -> int:
        return int(self._scalar("int()"))

    def __format__(self, spec: str) -> str:
        """``f"{loss:.3f}"`` formats a one-element tensor as its number; an empty spec gives ``str(t)``."""
        if not spec:
            return str(self)
        if self.data.size != 1:
            raise TypeError(f"format: the spec {spec!r} needs a one-element tensor, got shape {self.shape}; "
                            "format .numpy() or .tolist() instead")
        return format(self.data.item(), spec)

    __hash__ = object.__hash__  # == builds a boolean tensor, so hash by identity

    if TYPE_CHECKING:  # the methods ops provide, attached from the table in tinygrad_cnn/methods.py
        @property
        def T(self) -> Tensor: ...
        def __add__(self, b: Tensor | float) -> Tensor: ...
        def __eq__(self, b: Any) -> Tensor: ...
        def __ge__(self, b: Any) -> Tensor: ...
        def __getitem__(self, index: Any) -> Tensor: ...
        def __gt__(self, b: Any) -> Tensor: ...
        def __le__(self, b: Any) -> Tensor: ...
        def __lt__(self, b: Any) -> Tensor: ...
        def __matmul__(self, b: Tensor) -> Tensor: ...
        def __mul__(self, b: Tensor | float) -> Tensor: ...
        def __ne__(self, b: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __pow__(self, exponent: float) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __rpow__(self, base: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __sub__(self, b: Tensor | float) -> Tensor: ...
        def __truediv__(self, b: Tensor | float) -> Tensor: ...
        def abs(self) -> Tensor: ...
        def adaptive_avg_pool2d(self, output_size: Any) -> Tensor: ...
        def add(self, b: Tensor | float) -> Tensor: ...
        def argmax(self, axis: int | None = None, keepdims: bool | None = None, *, dim: int | None = None, keepdim: bool | None = None) -> Tensor: ...
        def argmin(self, axis: int | None = None, keepdims: bool | None = None, *, dim: int | None = None, keepdim: bool | None = None) -> Tensor: ...
        def astype(self, dtype: np.typing.DTypeLike) -> Tensor: ...
        def avg_pool1d(self, kernel_size: int, stride: int | None = None, padding: int = 0) -> Tensor: ...
        def avg_pool2d(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor: ...
        def broadcast_to(self, shape: tuple[int, ...]) -> Tensor: ...
        def clamp(self, min: Any = None, max: Any = None) -> Tensor: ...
        def maximum(self, other: Any) -> Tensor: ...
        def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]: ...
        def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]: ...
        def minimum(self, other: Any) -> Tensor: ...
        def clip(self, min: Any = None, max: Any = None) -> Tensor: ...
        def clone(self) -> Tensor: ...
        def conv1d(self, w: Tensor, b: Tensor | None = None, stride: int | tuple[int] = 1, padding: Any = 0, dilation: int | tuple[int] = 1, groups: int = 1) -> Tensor: ...
        def conv2d(self, w: Tensor, b: Tensor | None = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor: ...
        def conv_transpose2d(self, w: Tensor, b: Tensor | None = None, stride: Any = 1, padding: Any = 0, output_padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor: ...
        def conv_transpose1d(self, w: Tensor, b: Tensor | None = None, stride: Any = 1, padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor: ...
        def cross_entropy(self, target: Tensor | np.ndarray | list[int], reduction: Any = 'mean', ignore_index: int = -100) -> Tensor: ...
        def div(self, b: Tensor | float) -> Tensor: ...
        def double(self) -> Tensor: ...
        def draw(self, *others: Tensor, **kwargs: Any) -> Any: ...
        def erf(self) -> Tensor: ...
        def exp(self) -> Tensor: ...
        def expand_dims(self, axis: int | None = None, *, dim: int | None = None) -> Tensor: ...
        def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor: ...
        def flip(self, axis: Any = None, *, dims: Any = None) -> Tensor: ...
        def float(self) -> Tensor: ...
        def global_avg_pool2d(self, keepdims: bool = False) -> Tensor: ...
        def log(self) -> Tensor: ...
        def log_softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor: ...
        def logsumexp(self, axis: Any = -1, keepdims: bool | None = None, *, dim: Any = None, keepdim: bool | None = None) -> Tensor: ...
        def matmul(self, b: Tensor) -> Tensor: ...
        def max(self, axis: Any = None, keepdims: bool | None = None, *, dim: Any = None, keepdim: bool | None = None) -> Any: ...
        def max_pool1d(self, kernel_size: int, stride: int | None = None, padding: int = 0) -> Tensor: ...
        def max_pool2d(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor: ...
        def mean(self, axis: Any = None, keepdims: bool | None = None, *, dim: Any = None, keepdim: bool | None = None) -> Tensor: ...
        def min(self, axis: Any = None, keepdims: bool | None = None, *, dim: Any = None, keepdim: bool | None = None) -> Any: ...
        def mse_loss(self, target: Tensor | np.ndarray, reduction: Any = 'mean') -> Tensor: ...
        def mul(self, b: Tensor | float) -> Tensor: ...
        def neg(self) -> Tensor: ...
        def pad(self, pad_width: Any, value: float = 0.0) -> Tensor: ...
        def permute(self, *axes: Any) -> Tensor: ...
        def pow(self, exponent: float) -> Tensor: ...
        def relu(self) -> Tensor: ...
        def reshape(self, *shape: Any) -> Tensor: ...
        def sigmoid(self) -> Tensor: ...
        def softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor: ...
        def sqrt(self) -> Tensor: ...
        def square(self) -> Tensor: ...
        def squeeze(self, axis: Any = None, *, dim: Any = None) -> Tensor: ...
        def sub(self, b: Tensor | float) -> Tensor: ...
        def sum(self, axis: Any = None, keepdims: bool | None = None, *, dim: Any = None, keepdim: bool | None = None) -> Tensor: ...
        def sum_to(self, shape: tuple[int, ...]) -> Tensor: ...
        def swapaxes(self, axis1: int, axis2: int) -> Tensor: ...
        def t(self) -> Tensor: ...
        def tanh(self) -> Tensor: ...
        def transpose(self, axes: tuple[int, ...] | None = None) -> Tensor: ...
        def unsqueeze(self, dim: int) -> Tensor: ...
        def var(self, axis: Any = None, keepdims: bool | None = None, ddof: int | None = None, *, dim: Any = None, keepdim: bool | None = None, correction: int | None = None) -> Tensor: ...
        def view(self, *shape: Any) -> Tensor: ...
        def where(self, a: Any, b: Any) -> Tensor: ...

    # ---------------------------------------------------------------- gradients
    @property
    def grad(self) -> Tensor | None:
        """Gradient accumulated by ``backward()`` (a Tensor), or None. Assign None to clear it."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | ArrayLike | None) -> None:
        if value is not None:
            value = value if isinstance(value, Tensor) else Tensor(as_array(value, self.dtype, "grad"))
            if value.shape != self.shape:
                raise ValueError(f"grad: assigned shape {value.shape} does not match the tensor's {self.shape}")
            if value.dtype != self.dtype:
                raise TypeError(f"grad: assigned dtype {value.dtype} does not match the tensor's {self.dtype}")
        self._grad = value

    def retain_grad(self) -> Tensor:
        """Keep the gradient of this non-leaf tensor in ``.grad`` during ``backward()``."""
        self._retains_grad = True
        return self

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf (in place); returns the tensor."""
        flag = bool(flag)
        if self._node is not None:
            if not flag:
                raise ValueError(
                    f"requires_grad: only leaves can stop requiring grad; this tensor (shape {self.shape}) was "
                    f"computed by '{self._node.op.name}'; use .detach() for the same data cut from the graph"
                )
            return self
        if flag and self.dtype.kind != "f":
            raise TypeError(f"requires_grad: needs a floating-point dtype, got {self.dtype} (shape {self.shape})")
        self._requires_grad = flag
        return self

    def backward(
        self, grad: Tensor | ArrayLike | None = None, create_graph: bool = False, retain_graph: bool | None = None
    ) -> None:
        """Accumulate d(self)/d(leaf), contracted with ``grad``, into every leaf's ``.grad``.

        ``grad`` defaults to 1 and may be omitted only for a scalar. With ``create_graph=True`` the
        backward pass is recorded, so the gradients can be differentiated again. The graph's saved
        inputs are released afterwards unless ``retain_graph`` (default: ``create_graph``) is true.
        Each leaf's ``.grad`` is an array of its own (never shared with another leaf or with ``grad``).
        """
        leaves = _backprop([self], [grad], None, create_graph, retain_graph)
        for leaf, g in _unaliased(leaves.values(), create_graph, [grad]):
            if leaf._grad is None:
                leaf._grad = g
            elif create_graph:
                leaf._grad = leaf._grad + g
            else:
                leaf._grad = Tensor._make(leaf._grad.data + g.data)

    # ---------------------------------------------------------------- in-place updates
    def add_(self, other: Tensor | ArrayLike, alpha: float = 1.0) -> Tensor:
        """``self += alpha * other`` in place (see :meth:`_inplace` for the rules)."""
        if alpha != 1.0:
            other = other * alpha if isinstance(other, Tensor) else np.multiply(_operand_array(other, "add_"), alpha)
        return self._inplace("add_", other, np.add, lambda a, b: a + b)

    def sub_(self, other: Tensor | ArrayLike, alpha: float = 1.0) -> Tensor:
        """``self -= alpha * other`` in place."""
        if alpha != 1.0:
            other = other * alpha if isinstance(other, Tensor) else np.multiply(_operand_array(other, "sub_"), alpha)
        return self._inplace("sub_", other, np.subtract, lambda a, b: a - b)

    def mul_(self, other: Tensor | ArrayLike) -> Tensor:
        """``self *= other`` in place."""
        return self._inplace("mul_", other, np.multiply, lambda a, b: a * b)

    def div_(self, other: Tensor | ArrayLike) -> Tensor:
        """``self /= other`` in place (true division; an integer tensor cannot hold the result)."""
        return self._inplace("div_", other, np.true_divide, lambda a, b: a / b)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Clip to ``[min, max]`` in place; the gradient passes where ``min <= x <= max`` (as PyTorch's)."""
        if min is None and max is None:
            raise ValueError("clamp_: give min, max or both")
        for bound in (min, max):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float, np.number))):
                raise TypeError(f"clamp_: bounds must be numbers, got {type(bound).__name__}")
        if min is not None and max is not None and min > max:
            raise ValueError(f"clamp_: min ({min}) is greater than max ({max})")

        def clip(arr: np.ndarray, _: Any, out: np.ndarray | None = None, casting: str = "same_kind") -> np.ndarray:
            return np.clip(arr, min, max, out=out, casting=casting)

        def clip_graph(a: Tensor, _: Any) -> Tensor:
            if min is not None:
                a = (a < min).where(min, a)
            if max is not None:
                a = (a > max).where(max, a)
            return a

        return self._inplace("clamp_", 0, clip, clip_graph)

    def zero_(self) -> Tensor:
        """Set every element to 0 in place."""
        return self.fill_(0)

    def fill_(self, value: float | int | bool) -> Tensor:
        """Set every element to ``value`` in place (the gradient to the old values is 0)."""
        if isinstance(value, Tensor):
            if value.size != 1:
                raise ValueError(f"fill_: the value must be a number or a one-element tensor, got shape {value.shape}")
            value = value.item()
        if isinstance(value, np.ndarray) or not isinstance(value, (int, float, bool, np.number, np.bool_)):
            raise TypeError(f"fill_: the value must be a number, got {type(value).__name__}")
        if self.dtype.kind in "iub" and not float(value).is_integer():
            raise TypeError(f"fill_: {value!r} does not fit the tensor's integer dtype {self.dtype} exactly")
        return self._inplace("fill_", np.full(self.shape, value, self.dtype), _assign, _replace_graph)

    def copy_(self, src: Tensor | ArrayLike) -> Tensor:
        """Copy ``src`` (broadcast to this tensor's shape, cast to its dtype) into this tensor, in place.

        The gradient flows to ``src`` when it requires grad (the old values get 0). Float data is not copied
        into an integer tensor (that would truncate); use ``.astype`` explicitly.
        """
        return self._inplace("copy_", src, _assign, _replace_graph)

    def set_(self, array: ArrayLike) -> Tensor:
        """Replace this tensor's data by ``array`` (any shape; a float dtype if it requires grad), in place.

        The tensor object stays the same (optimizers and modules holding it keep working) and its version
        is bumped. ``Module.to(dtype)`` and checkpoint loading use it. Not allowed on a tensor computed
        by an op while gradients are recorded.
        """
        arr = as_array(array.data if isinstance(array, Tensor) else array, who="set_")
        if self._node is not None and _get_state().grad_enabled:
            raise RuntimeError(f"set_: this tensor was computed by '{self._node.op.name}'; set_ works on leaves")
        if self._requires_grad and arr.dtype.kind != "f":
            raise TypeError(f"set_: a tensor that requires grad needs float data, got {arr.dtype}")
        if self._vc is not None and self._vc.sharers is not None:  # the new array shares memory with nothing
            fresh = _Version()
            fresh.count = self._vc.count
            self._vc = fresh
        self.data = arr
        self._bump()
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def _bump(self) -> None:
        vc = self._vc
        if vc is None:
            vc = self._vc = _Version()
        vc.count += 1
        vc.stamp = _write_stamp()

    def _inplace(self, name: str, other: Any, ufunc: Callable[..., Any], graph: Callable[[Tensor, Any], Tensor]) -> Tensor:
        """Apply an in-place update.

        Rules (as PyTorch's): while gradients are recorded, a leaf that requires grad cannot be changed in
        place (wrap parameter updates in ``no_grad()``). When the update itself must be recorded (this
        tensor or ``other`` requires grad and grad mode is on), the op is recorded out of place and this
        tensor object takes the result: its old value stays in the graph, and any earlier node that read
        this tensor raises at ``backward()``. That needs this tensor to share its memory with no other live
        tensor (a view would not see the new value). Otherwise the array is written in place. Either way
        the version is bumped. The result must keep this tensor's shape and dtype kind.
        """
        other_t = other if isinstance(other, Tensor) else None
        if _get_state().grad_enabled and (self._requires_grad or (other_t is not None and other_t._requires_grad)):
            if self._node is None and self._requires_grad:
                raise RuntimeError(
                    f"{name}: a leaf tensor that requires grad{_label(self)} cannot be changed in place while "
                    "gradients are recorded; update parameters inside `with tg.no_grad():` (as the optimizers "
                    "do), or use the out-of-place op"
                )
            if self._vc is not None and self._vc.shared_with_another(self):
                raise RuntimeError(
                    f"{name}: this tensor{_label(self)} shares memory with another live tensor (a view of it, or "
                    "the tensor it views), which would not see a recorded in-place update: use the out-of-place op"
                )
            old = Tensor._make(self.data, self._node)
            old._requires_grad, old.name, old._vc = self._requires_grad, self.name, self._vc
            fresh = _Version()
            fresh.count = self._version + 1
            fresh.stamp = _write_stamp()
            if other_t is self:  # x += x: the old value, twice
                other = old
            elif other_t is None and not isinstance(other, (bool, int, float)):
                other = Tensor._make(_operand_array(other, name))
            new = graph(old, other)
            self._check_result(name, new.data)
            if new.dtype != self.dtype:
                new = new.astype(self.dtype)
            self.data, self._node, self._requires_grad, self._vc = new.data, new._node, new._requires_grad, fresh
            return self
        arr = self.data
        if not arr.flags.writeable:
            raise ValueError(
                f"{name}: the tensor's array{_label(self)} is read-only (a broadcast view or a read-only buffer); "
                "write into a copy (Tensor(x.numpy().copy()))"
            )
        src = other_t.data if other_t is not None else other
        if type(src) is not np.ndarray or src.shape != arr.shape:  # the optimizers' case needs no checks here
            src = _operand_array(src, name)
            try:
                result_shape = np.broadcast_shapes(arr.shape, src.shape)
            except ValueError:
                raise ValueError(f"{name}: shapes {arr.shape} and {src.shape} cannot be broadcast together") from None
            self._check_result(name, None, result_shape)
        try:
            ufunc(arr, src, out=arr, casting="same_kind")
        except TypeError as e:  # numpy's UFuncTypeError: the result's kind does not fit (float into int)
            raise TypeError(
                f"{name}: the result (from {arr.dtype} and {np.asarray(src).dtype}) cannot be stored in this "
                f"tensor's dtype {arr.dtype}: {e}"
            ) from None
        self._bump()
        return self

    def _check_result(self, name: str, out: np.ndarray | None, shape: tuple[int, ...] | None = None) -> None:
        shape = out.shape if out is not None else shape
        if shape != self.shape:
            raise ValueError(f"{name}: the result has shape {shape}, but the tensor being updated has {self.shape}")
        if out is not None and self.dtype.kind != "f" and out.dtype.kind == "f":
            raise TypeError(f"{name}: a {out.dtype} result cannot be stored in this tensor's dtype {self.dtype}")

    def __repr__(self) -> str:
        if self.data.size <= 16:
            body = np.array2string(self.data, precision=4, separator=", ", suppress_small=True)
        else:
            body = f"<{self.data.size} values>"
        extra = f"shape={self.shape}, dtype={self.dtype}"
        if self._node is not None:
            extra += f", op={self._node.op.name}"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}, {extra})"


def _assign(arr: np.ndarray, src: Any, out: np.ndarray | None = None, casting: str = "same_kind") -> None:
    np.copyto(arr, src, casting=casting)


def _replace_graph(old: Tensor, src: Tensor) -> Tensor:
    """``src`` in ``old``'s place, broadcast and cast to it, as a recorded op: gradient 0 to ``old``, and the
    gradient (summed over broadcast axes) to ``src``."""
    everywhere = Tensor._make(np.ones(old.shape, dtype=bool))
    return everywhere.where(src.astype(old.dtype) if src.dtype != old.dtype else src, old)


def _operand_array(x: Any, who: str) -> np.ndarray:
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return np.asarray(x)
    return as_array(x, who=who) if not isinstance(x, np.ndarray) else as_array(x, None, who)


def _label(t: Tensor) -> str:
    return f" ('{t.name}', shape {t.shape})" if t.name else f" (shape {t.shape})"


def _share_version(view: Tensor, base: Tensor) -> None:
    """Make ``view`` and ``base`` (whose arrays share memory) bump one version counter."""
    vc = base._vc
    if vc is None:
        vc = base._vc = _Version()
    if vc.sharers is None:
        vc.sharers = [weakref.ref(base)]
    else:
        vc.sharers = [r for r in vc.sharers if r() is not None]
    vc.sharers.append(weakref.ref(view))
    view._vc = vc


def _unaliased(pairs: Any, create_graph: bool, cotangents: Sequence[Any]) -> Iterator[tuple[Tensor, Tensor]]:
    """The (tensor, grad) pairs with every grad an array of its own: writable, owning its memory, and not
    handed to another tensor (``a + b`` hands one gradient to both; ``grad=`` is the caller's tensor)."""
    seen = {id(c.data) for c in cotangents if isinstance(c, Tensor)}
    for t, g in pairs:
        arr = g.data
        if id(arr) in seen or arr.base is not None or not arr.flags.writeable or not arr.flags.owndata:
            g = (g + 0) if create_graph else Tensor._make(arr.copy())
        seen.add(id(g.data))
        yield t, g


# -------------------------------------------------------------------- the reverse-mode walk
def _toposort(roots: Sequence[Tensor]) -> list[Tensor]:
    """Non-leaf tensors reachable from ``roots``, producers before consumers.

    A node is always created after its inputs, so creation order (``Node.seq``) is a topological order:
    collect what is reachable (iteratively, so depth is no limit) and sort by it.
    """
    stack = [r for r in roots if r._node is not None]
    seen = {id(r) for r in stack}
    found: list[tuple[int, Tensor]] = []
    while stack:
        t = stack.pop()
        node = t._node
        if node.freed:
            raise RuntimeError(
                f"backward: the graph through '{node.op.name}' (output shape {t.shape}) was already freed by an "
                "earlier backward(); pass retain_graph=True to the first backward() to go through it twice"
            )
        found.append((node.seq, t))
        for p in node.inputs:
            if p._node is not None and id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    found.sort(key=itemgetter(0))
    return [t for _, t in found]


def _as_cotangent(root: Tensor, grad: Tensor | ArrayLike | None) -> Tensor:
    if grad is None:
        if root.data.size != 1:
            raise ValueError(
                f"backward: the output has shape {root.shape}; gradients can be implied only for a scalar "
                "output, so pass grad= (an array of the output's shape), or reduce it first (e.g. .sum())"
            )
        return Tensor._make(np.ones(root.shape, dtype=root.dtype))
    if isinstance(grad, Tensor):
        g = grad
        if g.dtype != root.dtype and g.dtype.kind == "f" and root.dtype.kind == "f":
            g = g.astype(root.dtype)  # as PyTorch: a float cotangent is cast to the output's dtype
    else:  # a copy: the caller's array never becomes a .grad
        g = Tensor._make(np.array(as_array(grad, root.dtype, "backward"), copy=True))
    if g.shape != root.shape:
        raise ValueError(f"backward: grad has shape {g.shape} but the output has shape {root.shape}")
    if g.dtype != root.dtype:
        raise TypeError(f"backward: grad has dtype {g.dtype} but the output has dtype {root.dtype}")
    return g


def _stale(node: Node, t: Tensor) -> None:
    """Raise if an input or the output of ``node`` was written in place after the node was recorded."""
    seq = node.seq
    for i, inp in enumerate(node.inputs):
        vc = inp._vc
        if vc is not None and vc.stamp > seq:
            raise RuntimeError(
                f"backward: input {i} of '{node.op.name}'{_label(inp)} was modified by an in-place operation "
                f"(now at version {vc.count}) after '{node.op.name}' used it; its gradient would be computed at "
                "the new values. Compute the loss again after the update, or update a copy (out of place)"
            )
    vc = t._vc
    if vc is not None and vc.stamp > seq:
        raise RuntimeError(
            f"backward: the output of '{node.op.name}'{_label(t)} was modified by an in-place operation (now at "
            f"version {vc.count}) after it was computed, and its backward needs it. Use the out-of-place op"
        )


def _fingerprint(arrays: Sequence[Any]) -> tuple[int, ...]:
    return tuple(zlib.adler32(np.ascontiguousarray(a).view(np.uint8).reshape(-1)) if isinstance(a, np.ndarray) else 0
                 for a in arrays)


def _node_arrays(node: Node, out: np.ndarray) -> list[Any]:
    saved = node.saved
    extra = list(saved) if isinstance(saved, (tuple, list)) else [saved]
    return [t.data for t in node.inputs] + [out] + extra


def _check_prints(node: Node, t: Tensor) -> None:
    """Under detect_anomaly: raise if an array the node read was changed behind the version counters."""
    now = _fingerprint(_node_arrays(node, t.data))
    for i, (a, b) in enumerate(zip(node.prints, now)):
        if a != b:
            n = len(node.inputs)
            what = f"input {i}" if i < n else "the output" if i == n else "an array it saved for its backward"
            raise RuntimeError(
                f"detect_anomaly: {what} of '{node.op.name}' was changed after the op ran, without an in-place "
                "method (a write into .data or .numpy()); the gradient would be computed from the new values"
            )


def _backprop(
    roots: Sequence[Tensor],
    cotangents: Sequence[Tensor | ArrayLike | None],
    targets: Sequence[Tensor] | None,
    create_graph: bool,
    retain_graph: bool | None,
) -> dict[int, tuple[Tensor, Tensor]]:
    """Propagate cotangents from ``roots``; return {id: (tensor, grad)} for the targets (default: the leaves)."""
    for r in roots:
        if not r._requires_grad:
            raise ValueError(
                f"backward: the output (shape {r.shape}) does not require grad: no input had requires_grad=True, "
                "or it was computed under no_grad()"
            )
    retain = create_graph if retain_graph is None else retain_graph
    wanted = None if targets is None else {id(t) for t in targets}
    order = _toposort(roots)
    grads: dict[int, Tensor] = {}
    found: dict[int, tuple[Tensor, Tensor]] = {}

    def add(a: Tensor | None, b: Tensor) -> Tensor:
        if a is None:
            return b
        return a + b if create_graph else Tensor._make(a.data + b.data)

    def accumulate(t: Tensor, g: Tensor) -> None:
        key = id(t)
        if t._node is not None:
            grads[key] = add(grads.get(key), g)
        elif wanted is None or key in wanted:
            prev = found.get(key)
            found[key] = (t, add(None if prev is None else prev[1], g))

    st = _get_state()
    anomaly = st.anomaly
    # Only when something was written in place after the oldest node here can a node be stale.
    check_versions = bool(order) and _last_write > order[0]._node.seq
    during = st if st.grad_enabled == create_graph else st.replace(grad_enabled=create_graph)
    _set_state(during)
    try:
        for r, c in zip(roots, cotangents):
            accumulate(r, _as_cotangent(r, c))
        for t in reversed(order):
            node = t._node
            g = grads.pop(id(t), None)
            if g is not None:  # else: not on a path from the roots that carries gradient
                if check_versions:
                    _stale(node, t)
                if node.prints is not None:
                    _check_prints(node, t)
                if wanted is not None and id(t) in wanted:
                    found[id(t)] = (t, g)
                if t._retains_grad:
                    t._grad = g
                op, inputs = node.op, node.inputs
                attrs = {**node.attrs, "saved": node.saved} if op.saves else node.attrs
                for i, vjp in enumerate(op.vjps):
                    inp = inputs[i]
                    if vjp is None or not inp._requires_grad:
                        continue
                    if anomaly:
                        outer = _get_state().in_backward_of
                        _set_field("in_backward_of", op.name)
                        try:
                            gi = vjp(g, t, *inputs, **attrs)
                        finally:
                            _set_field("in_backward_of", outer)
                    else:
                        gi = vjp(g, t, *inputs, **attrs)
                    if gi.data.shape != inp.data.shape:
                        raise RuntimeError(
                            f"{op.name}: the VJP for input {i} returned shape {gi.shape}, expected {inp.shape}"
                        )
                    if gi.data.dtype != inp.data.dtype:
                        raise RuntimeError(
                            f"{op.name}: the VJP for input {i} returned dtype {gi.dtype}, but the input is "
                            f"{inp.dtype} (shape {inp.shape}); a VJP must return its input's dtype"
                        )
                    if anomaly and gi.dtype.kind == "f" and not np.isfinite(gi.data).all():
                        raise FloatingPointError(
                            f"detect_anomaly: the backward of '{op.name}' produced NaN/inf in the gradient of input "
                            f"{i} (shape {inp.shape}); incoming gradient finite: {bool(np.isfinite(g.data).all())}"
                        )
                    accumulate(inp, gi)
            if not retain:
                node.free()
    finally:  # the state as it was, unless a VJP left another mode entered (then only grad mode is restored)
        _set_state(st if _get_state() is during else _get_state().replace(grad_enabled=st.grad_enabled))
    return found


def gradients(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | ArrayLike | Sequence[Tensor | ArrayLike | None] | None = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(inputs) contracted with ``grad_outputs``, returned rather than stored in ``.grad``.

    Like ``torch.autograd.grad``. ``inputs`` may be leaves or intermediate tensors of the graph. Each
    returned gradient is an array of its own.
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        cots = [grad_outputs] * len(outs) if len(outs) == 1 or grad_outputs is None else None
        if cots is None:
            raise ValueError("gradients: give one grad_output per output")
    else:
        cots = list(grad_outputs)
    if len(cots) != len(outs):
        raise ValueError(f"gradients: {len(outs)} outputs but {len(cots)} grad_outputs")
    for t in ins:
        if not isinstance(t, Tensor):
            raise TypeError(f"gradients: inputs must be Tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise ValueError(f"gradients: an input (shape {t.shape}) does not require grad")
    found = _backprop(outs, cots, ins, create_graph, retain_graph)
    owned = dict((id(t), g) for t, g in _unaliased(found.values(), create_graph, cots))
    result = tuple(owned.get(id(t)) for t in ins)
    if not allow_unused and any(g is None for g in result):
        i = next(i for i, g in enumerate(result) if g is None)
        raise ValueError(f"gradients: input {i} (shape {ins[i].shape}) is not used by the outputs; pass allow_unused=True")
    return result


# -------------------------------------------------------------------- modes (per thread)
class _Mode:
    """A context manager that is also a decorator, setting one field of this thread's :class:`EngineState`.

    One object may be entered by several threads, and nested: the values to restore are kept per thread.
    """

    def __init__(self, flag: str, value: bool) -> None:
        self.flag, self.value = flag, value
        self._saved = threading.local()

    def __enter__(self) -> None:
        saved = self._saved.__dict__.setdefault("stack", [])
        saved.append(getattr(_get_state(), self.flag))
        _set_field(self.flag, self.value)

    def __exit__(self, *exc: object) -> None:
        _set_field(self.flag, self._saved.stack.pop())

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapper


def no_grad() -> _Mode:
    """Context manager and decorator: ops inside record no graph in this thread (inference, updates)."""
    return _Mode("grad_enabled", False)


def enable_grad() -> _Mode:
    """Context manager and decorator: turn recording back on (this thread) inside a ``no_grad`` region."""
    return _Mode("grad_enabled", True)


def is_grad_enabled() -> bool:
    """Whether ops called from this thread record the graph now."""
    return _get_state().grad_enabled


def is_anomaly_enabled() -> bool:
    """Whether ``detect_anomaly()`` is on in this thread."""
    return _get_state().anomaly


def detect_anomaly() -> _Mode:
    """Context manager and decorator: raise at the first op whose forward or backward makes NaN/inf, and
    check at backward that no array a node read was changed behind the version counters (this thread)."""
    return _Mode("anomaly", True)


@contextlib.contextmanager
def scope(name: str) -> Iterator[None]:
    """Name a block of the model: ops recorded inside (in this thread) carry the scope; drawings cluster by it."""
    outer = _get_state().scope
    _set_field("scope", outer + (str(name),))
    try:
        yield
    finally:
        _set_field("scope", outer)


@contextlib.contextmanager
def transform_level() -> Iterator[int]:
    """Count one more function transform around the code inside; yields how many surround it (this thread)."""
    outer = _get_state().transform_depth
    _set_field("transform_depth", outer + 1)
    try:
        yield outer
    finally:
        _set_field("transform_depth", outer)


def check_forward(op: Op, inputs: Sequence[Tensor], out: np.ndarray) -> None:
    """Under detect_anomaly: raise if ``op``'s forward made NaN/inf, saying whether its inputs already had them."""
    if out.dtype.kind == "f" and not np.isfinite(out).all():
        bad_in = [i for i, t in enumerate(inputs) if t.dtype.kind == "f" and not np.isfinite(t.data).all()]
        during = _get_state().in_backward_of
        where = f" inside the backward of '{during}'" if during else ""
        raise FloatingPointError(
            f"detect_anomaly: the forward of '{op.name}'{where} produced NaN/inf (output shape {out.shape}, input "
            f"shapes {[t.shape for t in inputs]})" + (f"; inputs {bad_in} were already non-finite" if bad_in else "")
        )


def fingerprint(node: Node, out: np.ndarray) -> None:
    """Under detect_anomaly: remember checksums of the arrays ``node``'s VJPs will read."""
    node.prints = _fingerprint(_node_arrays(node, out))


def share_views(result: Tensor, inputs: Sequence[Tensor]) -> None:
    """An op returned a view (``result.data.base`` is set): share the version of the input it views."""
    out = result.data
    for t in inputs:
        if np.may_share_memory(out, t.data):
            _share_version(result, t)
            return


__all__ = [
    "EngineState", "engine_state", "Node", "Ghost", "check_dtype", "as_array", "ElementCount", "Tensor",
    "gradients", "no_grad", "enable_grad", "is_grad_enabled", "is_anomaly_enabled", "detect_anomaly", "scope",
    "transform_level", "check_forward", "fingerprint", "share_views",
]
