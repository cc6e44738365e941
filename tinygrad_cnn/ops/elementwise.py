"""Elementwise primitives: arithmetic with numpy broadcasting, and the pointwise nonlinearities.

Binary ops broadcast as numpy does; each VJP sums the gradient back over the broadcast axes
(``sum_to``) so it has its input's shape. Python numbers take the tensor's dtype; an integer tensor
meeting a float one is promoted to the float dtype, and float32 meeting float64 gives float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import Sample, as_tensor, register_op, tensor_method
from ..tensor import Tensor

# ---------------------------------------------------------------- input domains for the test samples
def normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape)


def positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.5, 2.0, shape)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)


def kinked(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal values kept at least 0.1 from 0, where relu's derivative jumps."""
    x = rng.standard_normal(shape)
    return x + 0.1 * np.where(x >= 0, 1.0, -1.0)


def boolean(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.random(shape) < 0.5


_SHAPES = {
    1: [((),), ((5,),), ((3, 4),), ((2, 3, 4),)],
    2: [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (2, 3)), ((5,), ())],
    3: [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (3, 4)), ((2, 3), (), (3,))],
}


def _samples_from_domain(*domain: Any, attrs: list[dict[str, Any]] | None = None) -> Any:
    def samples(rng: np.random.Generator) -> list[Sample]:
        return [
            Sample(tuple(np.asarray(d(rng, s)) for d, s in zip(domain, shapes)), a)
            for a in (attrs or [{}])
            for shapes in _SHAPES[len(domain)]
        ]

    return samples


# ---------------------------------------------------------------- checks and dtype rules
def broadcast_shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    """numpy's broadcast of ``shapes``; ValueError naming the clashing axis otherwise."""
    ndim = max(len(s) for s in shapes)
    out = []
    for axis in range(-ndim, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(sizes) > 1:
            raise ValueError(
                f"shapes {' and '.join(str(s) for s in shapes)} cannot be broadcast together "
                f"(axis {axis}: sizes {sorted(sizes)})"
            )
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def _check_broadcast(*arrays: np.ndarray, **attrs: Any) -> None:
    if len(arrays) == 2:
        s, t = arrays[0].shape, arrays[1].shape
        if s == t or not s or not t:
            return
    broadcast_shape(*(a.shape for a in arrays))


def _join(d1: np.dtype, d2: np.dtype) -> np.dtype:
    f1, f2 = d1.kind == "f", d2.kind == "f"
    if f1 != f2:
        return d1 if f1 else d2
    return np.result_type(d1, d2)


def _operand_dtype(x: Any) -> np.dtype | None:
    if isinstance(x, (Tensor, np.ndarray)):
        return x.dtype
    if isinstance(x, (bool, np.bool_)):
        return None
    if isinstance(x, (int, np.integer)):
        return None
    if isinstance(x, (float, np.floating)):
        return np.dtype(np.float32)  # a Python float alone does not upgrade a float tensor
    raise TypeError(f"expected a Tensor, array or number, got {type(x).__name__}")


def operands(*xs: Any) -> list[Tensor] | tuple[Tensor, ...]:
    """Tensors of one common dtype from tensors, arrays and Python numbers."""
    if len(xs) == 2:  # the common cases, without the general dtype search
        a, b = xs
        if type(a) is Tensor:
            if type(b) is Tensor:
                if a.data.dtype == b.data.dtype:
                    return xs
            elif (type(b) is float or type(b) is int) and a.data.dtype.kind == "f":
                return a, Tensor._make(np.array(b, dtype=a.data.dtype))
        elif type(b) is Tensor and (type(a) is float or type(a) is int) and b.data.dtype.kind == "f":
            return Tensor._make(np.array(a, dtype=b.data.dtype)), b
    dt: np.dtype | None = None
    for x in xs:
        d = _operand_dtype(x)
        if d is not None:
            dt = d if dt is None else _join(dt, d)
    if dt is None:  # only Python ints and bools: int tensors take the first tensor's dtype
        dt = next((x.dtype for x in xs if isinstance(x, Tensor)), np.dtype(np.float32))
    out = []
    for x in xs:
        t = as_tensor(x, dt)
        out.append(t if t.dtype == dt else t.astype(dt))
    return out


# ---------------------------------------------------------------- binary arithmetic
_add = register_op(
    "add", np.add,
    vjps=(lambda g, out, a, b: g.sum_to(a.shape), lambda g, out, a, b: g.sum_to(b.shape)),
    formula="z = a + b;  da = g,  db = g  (summed over broadcast axes)",
    kind="elementwise", check=_check_broadcast, domain=(normal, normal),
    samples=_samples_from_domain(normal, normal),
)
_sub = register_op(
    "sub", np.subtract,
    vjps=(lambda g, out, a, b: g.sum_to(a.shape), lambda g, out, a, b: (-g).sum_to(b.shape)),
    formula="z = a - b;  da = g,  db = -g",
    kind="elementwise", check=_check_broadcast, domain=(normal, normal),
    samples=_samples_from_domain(normal, normal),
)
_mul = register_op(
    "mul", np.multiply,
    vjps=(lambda g, out, a, b: (g * b).sum_to(a.shape), lambda g, out, a, b: (g * a).sum_to(b.shape)),
    formula="z = a * b;  da = g * b,  db = g * a",
    kind="elementwise", check=_check_broadcast, domain=(normal, normal),
    samples=_samples_from_domain(normal, normal),
)
_div = register_op(
    "div", np.divide,
    vjps=(lambda g, out, a, b: (g / b).sum_to(a.shape), lambda g, out, a, b: (-g * out / b).sum_to(b.shape)),
    formula="z = a / b;  da = g / b,  db = -g * z / b",
    kind="elementwise", check=_check_broadcast, domain=(normal, away_from_zero),
    samples=_samples_from_domain(normal, away_from_zero),
)


@tensor_method(name="__add__")
def add(a: Tensor | float, b: Tensor | float) -> Tensor:
    """a + b with numpy broadcasting."""
    return _add(*operands(a, b))


@tensor_method(name="__sub__")
def sub(a: Tensor | float, b: Tensor | float) -> Tensor:
    """a - b with numpy broadcasting."""
    return _sub(*operands(a, b))


@tensor_method(name="__mul__")
def mul(a: Tensor | float, b: Tensor | float) -> Tensor:
    """a * b with numpy broadcasting."""
    return _mul(*operands(a, b))


@tensor_method(name="__truediv__")
def div(a: Tensor | float, b: Tensor | float) -> Tensor:
    """a / b with numpy broadcasting."""
    return _div(*operands(a, b))


Tensor.__radd__ = lambda self, other: add(other, self)  # type: ignore[method-assign]
Tensor.__rsub__ = lambda self, other: sub(other, self)  # type: ignore[method-assign]
Tensor.__rmul__ = lambda self, other: mul(other, self)  # type: ignore[method-assign]
Tensor.__rtruediv__ = lambda self, other: div(other, self)  # type: ignore[method-assign]
for _name, _fn in (("add", add), ("sub", sub), ("mul", mul), ("div", div)):
    setattr(Tensor, _name, _fn)


# ---------------------------------------------------------------- unary
def _pow_vjp(g: Tensor, out: Tensor, x: Tensor, *, exponent: float) -> Tensor:
    if exponent == 0:
        return g * 0.0
    return g * exponent * x ** (exponent - 1)


def _check_exponent(x: np.ndarray, *, exponent: float) -> None:
    if not isinstance(exponent, (int, float, np.integer, np.floating)) or isinstance(exponent, bool):
        raise TypeError(
            f"the exponent must be a Python number, got {type(exponent).__name__}; "
            "for a tensor exponent write (y * x.log()).exp()"
        )


_neg = register_op(
    "neg", np.negative, vjps=(lambda g, out, x: -g,), formula="y = -x;  dx = -g",
    kind="elementwise", domain=(normal,), samples=_samples_from_domain(normal),
)
_pow = register_op(
    "pow", lambda x, *, exponent: np.power(x, np.asarray(exponent, dtype=x.dtype)),
    vjps=(_pow_vjp,), formula="y = x^c (constant c);  dx = g * c * x^(c-1)",
    kind="elementwise", check=_check_exponent, domain=(positive,),
    samples=_samples_from_domain(positive, attrs=[{"exponent": c} for c in (2, 3, 0.5, -1.5, 1, 0)]),
)
_exp = register_op(
    "exp", np.exp, vjps=(lambda g, out, x: g * out,), formula="y = e^x;  dx = g * y",
    kind="elementwise", domain=(normal,), samples=_samples_from_domain(normal),
)
_log = register_op(
    "log", np.log, vjps=(lambda g, out, x: g / x,), formula="y = ln x;  dx = g / x",
    kind="elementwise", domain=(positive,), samples=_samples_from_domain(positive),
)


def _relu_vjp(g: Tensor, out: Tensor, x: Tensor) -> Tensor:
    return g * Tensor._make((x.data > 0).astype(g.dtype))


_relu = register_op(
    "relu", lambda x: np.maximum(x, np.zeros((), dtype=x.dtype)), vjps=(_relu_vjp,),
    formula="y = max(x, 0);  dx = g * [x > 0]",
    kind="elementwise", domain=(kinked,), samples=_samples_from_domain(kinked),
)


def _sigmoid_forward(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


_sigmoid = register_op(
    "sigmoid", _sigmoid_forward, vjps=(lambda g, out, x: g * out * (1 - out),),
    formula="y = 1 / (1 + e^-x);  dx = g * y * (1 - y)",
    kind="elementwise", domain=(normal,), samples=_samples_from_domain(normal),
)
_tanh = register_op(
    "tanh", np.tanh, vjps=(lambda g, out, x: g * (1 - out * out),),
    formula="y = tanh x;  dx = g * (1 - y^2)",
    kind="elementwise", domain=(normal,), samples=_samples_from_domain(normal),
)


def _check_dtype(x: np.ndarray, *, dtype: np.dtype) -> None:
    if np.dtype(dtype).kind not in "fiub":
        raise TypeError(f"cannot cast to {np.dtype(dtype)}")


_cast = register_op(
    "cast", lambda x, *, dtype: x.astype(dtype), vjps=(lambda g, out, x, *, dtype: g.astype(x.dtype),),
    formula="y = x as dtype;  dx = g as x's dtype",
    kind="elementwise", check=_check_dtype, domain=(normal,),
    samples=_samples_from_domain(normal, attrs=[{"dtype": np.dtype(np.float64)}]),
)


@tensor_method(name="__neg__")
def neg(x: Tensor) -> Tensor:
    """-x."""
    return _neg(x)


def pow(x: Tensor, exponent: float) -> Tensor:
    """x ** c for a constant number c."""
    if isinstance(exponent, Tensor):
        raise TypeError("pow: the exponent must be a Python number; for a tensor exponent write (y * x.log()).exp()")
    return _pow(as_tensor(x), exponent=exponent)


Tensor.__pow__ = pow  # type: ignore[method-assign]
Tensor.pow = pow  # type: ignore[attr-defined]
Tensor.__rpow__ = lambda self, base: (self * float(np.log(base))).exp()  # type: ignore[method-assign]
Tensor.neg = neg  # type: ignore[attr-defined]


@tensor_method
def exp(x: Tensor) -> Tensor:
    """e ** x."""
    return _exp(x)


@tensor_method
def log(x: Tensor) -> Tensor:
    """Natural logarithm."""
    return _log(x)


@tensor_method
def relu(x: Tensor) -> Tensor:
    """max(x, 0)."""
    return _relu(x)


@tensor_method
def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e ** -x), computed without overflow."""
    return _sigmoid(x)


@tensor_method
def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _tanh(x)


@tensor_method
def astype(x: Tensor, dtype: np.typing.DTypeLike) -> Tensor:
    """The tensor converted to ``dtype`` (differentiable between float dtypes)."""
    dtype = np.dtype(dtype)
    return x if x.dtype == dtype else _cast(x, dtype=dtype)


Tensor.float = lambda self: astype(self, np.float32)  # type: ignore[attr-defined]
Tensor.double = lambda self: astype(self, np.float64)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- where
_where = register_op(
    "where", np.where,
    vjps=(None,
          lambda g, out, c, a, b: where(c, g, 0.0).sum_to(a.shape),
          lambda g, out, c, a, b: where(c, 0.0, g).sum_to(b.shape)),
    formula="y = cond ? a : b;  da = cond ? g : 0,  db = cond ? 0 : g",
    kind="elementwise", check=_check_broadcast, domain=(boolean, normal, normal),
    samples=_samples_from_domain(boolean, normal, normal),
)


def where(cond: Tensor | np.ndarray, a: Tensor | float, b: Tensor | float) -> Tensor:
    """Elementwise ``a`` where ``cond`` is true, else ``b`` (all three broadcast together)."""
    c = as_tensor(cond)
    if c.dtype != np.bool_:
        raise TypeError(f"where: the condition must be a boolean tensor, got {c.dtype}")
    return _where(c, *operands(a, b))


Tensor.where = lambda self, a, b: where(self, a, b)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- comparisons (not differentiable)
def _compare(ufunc: np.ufunc, symbol: str) -> Any:
    def compare(a: Tensor, b: Any) -> Tensor:
        x, y = operands(a, b)
        if x.shape != y.shape:
            try:
                broadcast_shape(x.shape, y.shape)
            except ValueError as e:
                raise ValueError(f"{symbol}: {e}") from None
        return Tensor._make(ufunc(x.data, y.data))

    compare.__doc__ = f"Elementwise a {symbol} b as a boolean tensor (no gradient)."
    return compare


eq, ne = _compare(np.equal, "=="), _compare(np.not_equal, "!=")
lt, le = _compare(np.less, "<"), _compare(np.less_equal, "<=")
gt, ge = _compare(np.greater, ">"), _compare(np.greater_equal, ">=")
for _name, _fn in (("eq", eq), ("ne", ne), ("lt", lt), ("le", le), ("gt", gt), ("ge", ge)):
    setattr(Tensor, f"__{_name}__", _fn)
