"""The op registry: the single list of primitives.

A primitive is a numpy forward plus one hand-derived vector-Jacobian product (VJP) per input, written
with registered ops so that gradients of gradients work. Each entry also carries a one-line formula
(used by docs and graph labels), its kind, an input check that raises clear errors before numpy can,
and sample inputs that the test suite runs gradcheck and gradgradcheck over.

Register your own op the same way and it behaves like a built-in::

    softplus = register_op(
        "softplus",
        lambda x: np.logaddexp(0.0, x),
        vjps=[lambda g, out, x: g * x.sigmoid()],
        formula="y = log(1 + e^x);  dx = g * sigmoid(x)",
    )
    y = softplus(t)

A VJP receives the incoming gradient ``g`` (a Tensor of the output's shape), the output ``out``, the op's
inputs as Tensors and its attributes as keywords, and returns the gradient for its input (same shape).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .tensor import Node, Tensor, _get_state, check_dtype, check_forward, fingerprint, share_views

VJP = Callable[..., Tensor]
_make = Tensor._make


class Sample(NamedTuple):
    """One test case for an op: input arrays and attribute keywords."""

    inputs: tuple[np.ndarray, ...]
    attrs: dict[str, Any] = {}


def _no_samples(rng: np.random.Generator) -> list[Sample]:
    return []


@dataclass(eq=False, slots=True)
class Op:
    """A registered primitive. Call it on Tensors (plus attribute keywords) to apply it."""

    name: str
    forward: Callable[..., np.ndarray]
    vjps: tuple[VJP | None, ...]
    formula: str = ""
    kind: str = "custom"
    check: Callable[..., None] | None = None
    samples: Callable[[np.random.Generator], list[Sample]] = _no_samples
    domain: tuple[Callable[[np.random.Generator, tuple[int, ...]], np.ndarray], ...] | None = None
    saves: bool = False
    doc: str = field(default="", repr=False)
    input_names: tuple[str, ...] = ()  # for graph labels and errors: ("a", "b"), ("x",), ...
    nin: int = field(init=False, repr=False)  # how many tensor inputs: len(vjps)

    def __post_init__(self) -> None:
        self.nin = len(self.vjps)

    @property
    def arity(self) -> int:
        """How many tensor inputs the op takes."""
        return self.nin

    def __call__(self, *inputs: Tensor, **attrs: Any) -> Tensor:
        arrays = [t.data for t in inputs if type(t) is Tensor]
        if len(arrays) != self.nin:  # a subclass of Tensor, something else, or the wrong count
            if not all(isinstance(t, Tensor) for t in inputs):
                kinds = [type(t).__name__ for t in inputs]
                raise TypeError(f"{self.name}: inputs must be Tensors, got {kinds}")
            arrays = [t.data for t in inputs]
            if len(arrays) != self.nin:
                raise TypeError(f"{self.name}: takes {self.nin} tensor input(s), got {len(inputs)}")
        if self.check is not None:
            try:
                self.check(*arrays, **attrs)
            except (ValueError, TypeError, IndexError) as e:
                raise type(e)(f"{self.name}: {e}") from None
        try:
            out = self.forward(*arrays, **attrs)
        except (ValueError, TypeError, IndexError) as e:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise type(e)(f"{self.name}: forward failed on input shapes {shapes}: {e}") from e
        saved = None
        if self.saves:
            out, saved = out
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        # Record a node when this thread records and some input requires grad (see tensor.py).
        st = _get_state()
        if st.anomaly:
            check_forward(self, inputs, out)
        result = None
        if st.grad_enabled:
            for t in inputs:
                if t._requires_grad:
                    node = Node(self, inputs, attrs, saved, st.scope)
                    result = _make(out, node)
                    if st.anomaly:
                        fingerprint(node, out)
                    break
        if result is None:
            result = _make(out)
        if out.base is not None:  # a view of an input shares that input's version counter
            share_views(result, inputs)
        else:
            for a in arrays:
                if a is out:  # an op that hands back its input array (an identity)
                    share_views(result, inputs)
                    break
        return result


REGISTRY: dict[str, Op] = {}


def _names_from_vjps(vjps: tuple[VJP | None, ...]) -> tuple[str, ...]:
    """The inputs' names as the VJPs spell them (``vjp(g, out, a, b)``: ``a``, ``b``), else ``x`` / ``in0``..."""
    for vjp in vjps:
        if vjp is None:
            continue
        try:
            params = inspect.signature(vjp).parameters.values()
        except (TypeError, ValueError):
            break
        names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][2:]
        if len(names) == len(vjps):
            return tuple(names)
        break
    return ("x",) if len(vjps) == 1 else tuple(f"in{i}" for i in range(len(vjps)))


def register_op(
    name: str,
    forward: Callable[..., np.ndarray],
    vjps: Sequence[VJP | None],
    formula: str = "",
    *,
    kind: str = "custom",
    check: Callable[..., None] | None = None,
    samples: Callable[[np.random.Generator], list[Sample]] | None = None,
    domain: Sequence[Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]] | None = None,
    saves: bool = False,
    inputs: Sequence[str] | None = None,
    replace: bool = False,
) -> Op:
    """Add a primitive to the registry and return it.

    ``vjps[i](g, out, *inputs, **attrs)`` is the gradient for input ``i`` (None: not differentiable in
    that input). ``check(*arrays, **attrs)`` raises ValueError/TypeError for bad input; the message is
    prefixed with the op's name. ``samples(rng)`` returns :class:`Sample` test cases; for elementwise
    ops ``domain`` gives, per input, ``(rng, shape) -> array`` drawing valid values. With
    ``saves=True`` the forward returns ``(out, saved)`` and every VJP receives ``saved=`` (e.g. the
    argmax positions of a max-pool); the engine drops it with the rest of the graph after backward.
    ``inputs`` names the tensor inputs (graph labels show them); by default the names the VJPs give them.
    """
    if name in REGISTRY and not replace:
        raise ValueError(f"register_op: an op named {name!r} is already registered (pass replace=True)")
    vjps = tuple(vjps)
    names = tuple(inputs) if inputs is not None else _names_from_vjps(vjps)
    if len(names) != len(vjps):
        raise ValueError(f"register_op: {name!r} has {len(vjps)} inputs but {len(names)} input names {names}")
    op = Op(name, forward, vjps, formula, kind, check, samples or _no_samples,
            None if domain is None else tuple(domain), saves, forward.__doc__ or "", names)
    REGISTRY[name] = op
    return op


def tensor_method(fn: Callable | None = None, *, name: str | None = None) -> Callable:
    """Decorator for your own ops: also make ``fn`` a Tensor method (``my_op(x)`` and ``x.my_op()`` are one
    function). The built-in methods come from the table in ``tinygrad_cnn/methods.py``."""

    def attach(f: Callable) -> Callable:
        setattr(Tensor, name or f.__name__, f)
        return f

    return attach if fn is None else attach(fn)


def is_int(v: Any) -> bool:
    """True for Python and numpy integers (``Tensor.size`` included); bools are not integers here
    (``reshape(True, 3)`` is refused)."""
    return type(v) is int or isinstance(v, np.integer) or (isinstance(v, int) and not isinstance(v, bool))


def as_tensor(x: Any, dtype: np.dtype | None = None) -> Tensor:
    """``x`` if it is a Tensor, else a constant Tensor of ``x`` (Python numbers take ``dtype``)."""
    if isinstance(x, Tensor):
        return x
    if type(x) is np.ndarray:
        check_dtype(x.dtype, "as_tensor", x.shape)
        return Tensor._make(x)
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return Tensor._make(np.asarray(x, dtype=dtype if dtype is not None else np.float32))
    return Tensor(x, dtype=dtype)


def op_table() -> str:
    """The registry as a markdown table (name, kind, inputs, formula), for the docs."""
    rows = ["| op | kind | inputs | formula (forward; VJP) |", "|---|---|---|---|"]
    for op in sorted(REGISTRY.values(), key=lambda o: (o.kind, o.name)):
        n = len(op.vjps)
        diff = "".join("d" if v is not None else "-" for v in op.vjps)
        formula = op.formula.replace("|", "\\|")
        rows.append(f"| `{op.name}` | {op.kind} | {n} ({diff}) | {formula} |")
    return "\n".join(rows) + "\n"


__all__ = [
    "VJP", "Sample", "Op", "REGISTRY", "register_op", "tensor_method", "is_int", "as_tensor", "op_table",
]
