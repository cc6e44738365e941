"""The Tensor and the reverse-mode walk: the whole autograd engine.

A :class:`Tensor` wraps a numpy array. When a registered op (see :mod:`tinygrad_cnn.registry`) runs on
tensors that require gradients, the result remembers a :class:`Node`: the op, its input tensors and its
attributes. ``backward()`` visits those nodes from the output back to the leaves in reverse topological
order and, at each one, calls the op's vector-Jacobian products (VJPs). VJPs are written with registered
ops too, so under ``create_graph=True`` the backward pass is itself recorded and can be differentiated.

Arithmetic operators and op methods (``x + y``, ``x.relu()``, ...) are attached to :class:`Tensor` by the
modules that define the ops, so that each op lives in one place; this file only knows the engine.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from operator import itemgetter
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .registry import Op

ArrayLike = Any  # anything np.asarray accepts

_grad_enabled = True
_creation_order = itertools.count()
_anomaly = False
_scope: tuple[str, ...] = ()
_in_backward_of: str | None = None  # under detect_anomaly: the op whose VJP is running


class Node:
    """How a tensor was made: ``op(*inputs, **attrs)``, recorded inside the scope ``scope``.

    After a backward pass without ``retain_graph`` the inputs are replaced by :class:`Ghost` records that
    keep only what a graph drawing needs (shape, dtype, name, producer), so the arrays can be freed.
    """

    __slots__ = ("op", "inputs", "attrs", "saved", "scope", "freed", "seq")

    def __init__(self, op: Op, inputs: tuple[Tensor, ...], attrs: dict[str, Any], saved: Any = None) -> None:
        self.op = op
        self.inputs = inputs
        self.attrs = attrs
        self.saved = saved  # what a `saves=True` op's forward kept for its VJPs
        self.scope = _scope
        self.freed = False
        self.seq = next(_creation_order)

    def free(self) -> None:
        self.inputs = tuple([t if t._node is None and t.requires_grad else Ghost(t) for t in self.inputs])
        self.saved = None
        self.freed = True

    def __repr__(self) -> str:
        return f"Node({self.op.name}, inputs={[tuple(t.shape) for t in self.inputs]})"


class Ghost:
    """What a freed node still knows about one of its inputs."""

    __slots__ = ("shape", "dtype", "name", "_node", "requires_grad", "grad", "data")

    def __init__(self, t: Tensor) -> None:
        self.shape, self.dtype, self.name = t.data.shape, t.data.dtype, t.name
        self._node, self.requires_grad = t._node, t.requires_grad
        self.grad = self.data = None


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)``. Python scalars and lists become
    float32; float arrays keep their dtype (float32 and float64 are fully supported); integer and
    boolean arrays are kept as data (labels, indices, masks) and can never require gradients.
    """

    __slots__ = ("data", "_grad", "_node", "requires_grad", "name", "_retains_grad", "__weakref__")
    __array_ufunc__ = None  # make `ndarray * Tensor` call Tensor.__rmul__ instead of dropping the graph

    def __init__(
        self,
        data: ArrayLike,
        requires_grad: bool = False,
        dtype: np.typing.DTypeLike | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, np.ndarray):
            arr = data if dtype is None else data.astype(dtype, copy=False)
        else:
            arr = np.asarray(data, dtype=np.float32 if dtype is None else dtype)
        if arr.dtype == object:
            raise TypeError(f"Tensor: cannot hold an object array (from {type(data).__name__})")
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                f"Tensor: requires_grad=True needs a floating-point dtype, got {arr.dtype} "
                f"(shape {arr.shape}); integer and boolean tensors are data, not parameters"
            )
        self.data: np.ndarray = arr
        self._grad: Tensor | None = None
        self._node: Node | None = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._retains_grad = False

    @classmethod
    def _make(cls, data: np.ndarray, node: Node | None = None) -> Tensor:
        """Wrap an op's output array without conversion (the engine's fast path)."""
        t = object.__new__(cls)
        t.data, t._grad, t._node, t.name, t._retains_grad = data, None, node, None, False
        t.requires_grad = node is not None
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
        return self.data.size

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

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
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
        """The same data, cut from the graph."""
        return Tensor._make(self.data)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()")
        return bool(self.data)

    __hash__ = object.__hash__  # == builds a boolean tensor, so hash by identity

    # ---------------------------------------------------------------- gradients
    @property
    def grad(self) -> Tensor | None:
        """Gradient accumulated by ``backward()`` (a Tensor), or None. Assign None to clear it."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | ArrayLike | None) -> None:
        if value is not None:
            value = value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=self.dtype))
            if value.shape != self.shape:
                raise ValueError(f"grad: assigned shape {value.shape} does not match the tensor's {self.shape}")
        self._grad = value

    def retain_grad(self) -> Tensor:
        """Keep the gradient of this non-leaf tensor in ``.grad`` during ``backward()``."""
        self._retains_grad = True
        return self

    def requires_grad_(self, flag: bool = True) -> Tensor:
        if flag and self.dtype.kind != "f":
            raise TypeError(f"requires_grad_: needs a floating-point dtype, got {self.dtype}")
        if not flag and self._node is not None:
            raise ValueError("requires_grad_(False): only leaves can stop requiring grad; use detach()")
        self.requires_grad = flag
        return self

    def backward(
        self, grad: Tensor | ArrayLike | None = None, create_graph: bool = False, retain_graph: bool | None = None
    ) -> None:
        """Accumulate d(self)/d(leaf), contracted with ``grad``, into every leaf's ``.grad``.

        ``grad`` defaults to 1 and may be omitted only for a scalar. With ``create_graph=True`` the
        backward pass is recorded, so the gradients can be differentiated again. The graph's saved
        inputs are released afterwards unless ``retain_graph`` (default: ``create_graph``) is true.
        """
        leaves = _backprop([self], [grad], None, create_graph, retain_graph)
        for leaf, g in leaves.values():
            if leaf._grad is None:
                leaf._grad = g
            elif create_graph:
                leaf._grad = leaf._grad + g
            else:
                leaf._grad = Tensor._make(leaf._grad.data + g.data)

    def __repr__(self) -> str:
        if self.data.size <= 16:
            body = np.array2string(self.data, precision=4, separator=", ", suppress_small=True)
        else:
            body = f"<{self.data.size} values>"
        extra = f"shape={self.shape}, dtype={self.dtype}"
        if self._node is not None:
            extra += f", op={self._node.op.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}, {extra})"


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
    g = grad if isinstance(grad, Tensor) else Tensor._make(np.asarray(grad, dtype=root.dtype))
    if g.shape != root.shape:
        raise ValueError(f"backward: grad has shape {g.shape} but the output has shape {root.shape}")
    return g


def _backprop(
    roots: Sequence[Tensor],
    cotangents: Sequence[Tensor | ArrayLike | None],
    targets: Sequence[Tensor] | None,
    create_graph: bool,
    retain_graph: bool | None,
) -> dict[int, tuple[Tensor, Tensor]]:
    """Propagate cotangents from ``roots``; return {id: (tensor, grad)} for the targets (default: the leaves)."""
    global _grad_enabled, _in_backward_of
    for r in roots:
        if not r.requires_grad:
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

    before = _grad_enabled
    _grad_enabled = create_graph
    try:
        for r, c in zip(roots, cotangents):
            accumulate(r, _as_cotangent(r, c))
        for t in reversed(order):
            node = t._node
            g = grads.pop(id(t), None)
            if g is not None:  # else: not on a path from the roots that carries gradient
                if wanted is not None and id(t) in wanted:
                    found[id(t)] = (t, g)
                if t._retains_grad:
                    t._grad = g
                op, inputs = node.op, node.inputs
                attrs = {**node.attrs, "saved": node.saved} if op.saves else node.attrs
                for i, vjp in enumerate(op.vjps):
                    inp = inputs[i]
                    if vjp is None or not inp.requires_grad:
                        continue
                    if _anomaly:
                        _in_backward_of, outer = op.name, _in_backward_of
                        try:
                            gi = vjp(g, t, *inputs, **attrs)
                        finally:
                            _in_backward_of = outer
                    else:
                        gi = vjp(g, t, *inputs, **attrs)
                    if gi.data.shape != inp.data.shape:
                        raise RuntimeError(
                            f"{op.name}: the VJP for input {i} returned shape {gi.shape}, expected {inp.shape}"
                        )
                    if gi.data.dtype != inp.data.dtype:
                        gi = gi.astype(inp.dtype)
                    if _anomaly and gi.dtype.kind == "f" and not np.isfinite(gi.data).all():
                        raise FloatingPointError(
                            f"detect_anomaly: the backward of '{op.name}' produced NaN/inf in the gradient of input "
                            f"{i} (shape {inp.shape}); incoming gradient finite: {bool(np.isfinite(g.data).all())}"
                        )
                    accumulate(inp, gi)
            if not retain:
                node.free()
    finally:
        _grad_enabled = before
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

    Like ``torch.autograd.grad``. ``inputs`` may be leaves or intermediate tensors of the graph.
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        cots = [grad_outputs] * len(outs) if len(outs) == 1 or grad_outputs is None else None
        if cots is None:
            raise ValueError("gradients: give one grad_output per output")
    else:
        cots = list(grad_outputs)
    for t in ins:
        if not t.requires_grad:
            raise ValueError(f"gradients: an input (shape {t.shape}) does not require grad")
    found = _backprop(outs, cots, ins, create_graph, retain_graph)
    result = tuple(found[id(t)][1] if id(t) in found else None for t in ins)
    if not allow_unused and any(g is None for g in result):
        i = next(i for i, g in enumerate(result) if g is None)
        raise ValueError(f"gradients: input {i} (shape {ins[i].shape}) is not used by the outputs; pass allow_unused=True")
    return result


# -------------------------------------------------------------------- modes
class _Mode:
    """A context manager that is also a decorator, switching one module flag."""

    def __init__(self, flag: str, value: bool) -> None:
        self.flag, self.value = flag, value
        self.saved: list[bool] = []

    def __enter__(self) -> None:
        self.saved.append(globals()[self.flag])
        globals()[self.flag] = self.value

    def __exit__(self, *exc: object) -> None:
        globals()[self.flag] = self.saved.pop()

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapper


def no_grad() -> _Mode:
    """Context manager and decorator: ops inside record no graph (inference, optimizer updates)."""
    return _Mode("_grad_enabled", False)


def enable_grad() -> _Mode:
    """Context manager and decorator: turn recording back on inside a ``no_grad`` region."""
    return _Mode("_grad_enabled", True)


def is_grad_enabled() -> bool:
    return _grad_enabled


def detect_anomaly() -> _Mode:
    """Context manager and decorator: raise at the first op whose forward or backward makes NaN/inf."""
    return _Mode("_anomaly", True)


@contextlib.contextmanager
def scope(name: str) -> Iterator[None]:
    """Name a block of the model: ops recorded inside carry the scope (graph drawings cluster by it)."""
    global _scope
    saved = _scope
    _scope = saved + (str(name),)
    try:
        yield
    finally:
        _scope = saved


def _record(op: Op, inputs: tuple[Tensor, ...], attrs: dict[str, Any], out: np.ndarray, saved: Any = None) -> Tensor:
    """Wrap an op's output, recording a node when gradients are on and some input requires them."""
    if _anomaly and out.dtype.kind == "f" and not np.isfinite(out).all():
        bad_in = [i for i, t in enumerate(inputs) if t.dtype.kind == "f" and not np.isfinite(t.data).all()]
        during = f" inside the backward of '{_in_backward_of}'" if _in_backward_of else ""
        raise FloatingPointError(
            f"detect_anomaly: the forward of '{op.name}'{during} produced NaN/inf (output shape {out.shape}, input shapes "
            f"{[t.shape for t in inputs]})" + (f"; inputs {bad_in} were already non-finite" if bad_in else "")
        )
    if _grad_enabled:
        for t in inputs:
            if t.requires_grad:
                return Tensor._make(out, Node(op, inputs, attrs, saved))
    return Tensor._make(out)
