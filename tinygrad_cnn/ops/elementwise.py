"""Elementwise primitives: arithmetic with numpy broadcasting, and the pointwise nonlinearities.

Binary ops broadcast as numpy does; each VJP sums the gradient back over the broadcast axes
(``sum_to``) so it has its input's shape.

Dtypes follow PyTorch. Tensors of different dtypes meet at the higher category (bool < integer < float),
within a category at numpy's common type (float32 and float64 give float64, through a differentiable
cast). Python and numpy scalars are weak: they take the tensor's dtype, except that a float scalar turns
an integer or boolean tensor into float32 and an int scalar turns a boolean tensor into int64.
Float-valued ops (exp, log, sigmoid, tanh, true division, float powers) give float32 for integer and
boolean inputs; integer-valued ones (add, mul, neg, relu, integer powers) keep the integer dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.registry import Sample, as_tensor, is_int, register_op
from ..core.tensor import Tensor

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
    out = np.result_type(d1, d2)
    if out.kind == "f" and not f1:  # uint64 with a signed integer: numpy would pick float64
        raise TypeError(f"no integer dtype holds both {d1} and {d2} (numpy would compute in {out}); cast one first")
    return out


_KINDS = "biuf"  # the dtype kinds the engine computes with: bool, signed and unsigned integers, floats
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2}
_FLOAT32, _INT64, _BOOL = np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_)


def _scalar_category(x: Any) -> int | None:
    """0 (bool), 1 (integer) or 2 (float) for a Python or numpy scalar; None for tensors and arrays."""
    if isinstance(x, (Tensor, np.ndarray)):
        return None
    if isinstance(x, (bool, np.bool_)):
        return 0
    if isinstance(x, (int, np.integer)):
        return 1
    if isinstance(x, (float, np.floating)):
        return 2
    raise TypeError(f"expected a Tensor, array or real number, got {type(x).__name__}")


def result_dtype(*xs: Any) -> np.dtype:
    """The dtype that tensors, arrays and weak scalars ``xs`` meet at (see the module docstring)."""
    dt: np.dtype | None = None
    weak = -1
    for x in xs:
        cat = _scalar_category(x)
        if cat is None:
            d = x.dtype
            if d.kind not in _KINDS or (d.kind == "f" and d not in _FLOAT_DTYPES):
                raise TypeError(f"unsupported dtype {d.name} (shape {x.shape}); the engine computes with bool, "
                                "integer, float32 and float64 tensors (float16 is not supported)")
            dt = d if dt is None else _join(dt, d)
        elif cat > weak:
            weak = cat
    if dt is None:  # scalars only: PyTorch's defaults
        return (_BOOL, _INT64, _FLOAT32)[max(weak, 0)]
    if weak > _CATEGORY[dt.kind]:
        return _INT64 if weak == 1 else _FLOAT32
    return dt


def _scalar_array(x: Any, dt: np.dtype, name: str) -> np.ndarray:
    """A weak scalar as a 0-d array of ``dt``; OverflowError when an integer does not fit ``dt``."""
    if dt.kind in "iu" and isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        info = np.iinfo(dt)
        if not info.min <= int(x) <= info.max:
            raise OverflowError(f"{name}: the integer {int(x)} does not fit the tensor's dtype {dt} "
                                f"(range [{info.min}, {info.max}]); cast the tensor first")
    return np.asarray(x, dtype=dt)


def pair(a: Any, b: Any, name: str) -> tuple[Tensor, Tensor] | list[Tensor]:
    """``operands(a, b, name=name)``, with the common cases (same dtypes; a float tensor and a Python number)
    first, without the general dtype search."""
    if type(a) is Tensor:
        if type(b) is Tensor:
            if a.data.dtype == b.data.dtype:
                return a, b
        elif (type(b) is float or type(b) is int) and a.data.dtype.kind == "f":
            return a, Tensor.wrap(np.array(b, dtype=a.data.dtype))
    elif type(b) is Tensor and (type(a) is float or type(a) is int) and b.data.dtype.kind == "f":
        return Tensor.wrap(np.array(a, dtype=b.data.dtype)), b
    return operands(a, b, name=name)


def operands(*xs: Any, name: str = "operands") -> list[Tensor] | tuple[Tensor, ...]:
    """Tensors of one common dtype (:func:`result_dtype`) from tensors, arrays and Python/numpy scalars."""
    try:
        dt = result_dtype(*xs)
    except TypeError as e:
        raise TypeError(f"{name}: {e}") from None
    out = []
    for x in xs:
        if isinstance(x, Tensor):
            out.append(x if x.dtype == dt else astype(x, dt))
        elif isinstance(x, np.ndarray):
            t = as_tensor(x)  # refuses masked arrays, turns matrices into plain arrays
            out.append(t if t.dtype == dt else Tensor.wrap(t.data.astype(dt)))
        else:
            out.append(Tensor.wrap(_scalar_array(x, dt, name)))
    return out


def _check_not_bool(x: np.ndarray, **attrs: Any) -> None:
    if x.dtype.kind == "b":
        raise TypeError(f"not supported for a boolean tensor (shape {x.shape}); use ~ / logical operations "
                        "on masks, or cast to an integer or float dtype first")


# ---------------------------------------------------------------- binary arithmetic
_add = register_op(
    "add", np.add,
    vjps=(lambda g, out, a, b: g.sum_to(a.shape), lambda g, out, a, b: g.sum_to(b.shape)),
    formula="z = a + b;  da = g,  db = g  (summed over broadcast axes)",
    kind="elementwise", check=_check_broadcast, domain=(normal, normal),
    samples=_samples_from_domain(normal, normal),
)


def _true_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b; integer and boolean operands divide in float32 (true division is float-valued)."""
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return np.divide(a, b)
    return np.divide(a, b, dtype=np.float32)


_sub = register_op(
    "sub", np.subtract,
    vjps=(lambda g, out, a, b: g.sum_to(a.shape), lambda g, out, a, b: (-g).sum_to(b.shape)),
    formula="z = a - b;  da = g,  db = -g",
    kind="elementwise", check=_check_broadcast, domain=(normal, normal),  # bools: numpy raises
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
    "div", _true_divide,
    vjps=(lambda g, out, a, b: (g / b).sum_to(a.shape), lambda g, out, a, b: (-g * out / b).sum_to(b.shape)),
    formula="z = a / b;  da = g / b,  db = -g * z / b",
    kind="elementwise", check=_check_broadcast, domain=(normal, away_from_zero),
    samples=_samples_from_domain(normal, away_from_zero),
)


def add(a: Tensor | float, b: Tensor | float) -> Tensor:
    """a + b with numpy broadcasting."""
    return _add(*pair(a, b, "add"))


def sub(a: Tensor | float, b: Tensor | float) -> Tensor:
    """a - b with numpy broadcasting (booleans cannot be subtracted, as in PyTorch)."""
    for v in (a, b):
        if isinstance(v, (bool, np.bool_)) or (isinstance(v, (Tensor, np.ndarray)) and v.dtype.kind == "b"):
            what = f"a boolean tensor of shape {v.shape}" if isinstance(v, (Tensor, np.ndarray)) else f"the bool {v!r}"
            raise TypeError(f"sub: subtracting with {what} is not supported (as in PyTorch); use ^ / logical "
                            "operations on masks, or cast to an integer or float dtype first")
    return _sub(*pair(a, b, "sub"))


def mul(a: Tensor | float, b: Tensor | float) -> Tensor:
    """a * b with numpy broadcasting."""
    return _mul(*pair(a, b, "mul"))


def div(a: Tensor | float, b: Tensor | float) -> Tensor:
    """a / b with numpy broadcasting; true division, so integer and boolean operands give float32."""
    x, y = pair(a, b, "div")
    if x.data.dtype.kind != "f":  # integers cannot require grad: convert without recording
        x, y = Tensor.wrap(x.data.astype(np.float32)), Tensor.wrap(y.data.astype(np.float32))
    return _div(x, y)




# ---------------------------------------------------------------- unary
def _pow_vjp(g: Tensor, out: Tensor, x: Tensor, *, exponent: float) -> Tensor:
    if exponent == 0:
        return g * 0.0
    return g * exponent * x ** (exponent - 1)


def _check_exponent(x: np.ndarray, *, exponent: float) -> None:
    if not isinstance(exponent, (int, float, np.integer, np.floating)) or isinstance(exponent, (bool, np.bool_)):
        raise TypeError(
            f"the exponent must be a Python number or a Tensor, got {type(exponent).__name__}"
        )
    if x.dtype.kind != "f" and is_int(exponent) and exponent < 0:
        raise ValueError(f"integers to negative integer powers are not allowed ({x.dtype} tensor of shape {x.shape} "
                         f"** {exponent}); use a float exponent or cast the tensor to a float dtype first")


def _pow_forward(x: np.ndarray, *, exponent: float) -> np.ndarray:
    """x ** c: float tensors keep their dtype; integers to a float power give float32; integer powers of
    integers keep the integer dtype (booleans give int64), wrapping on overflow as PyTorch."""
    if x.dtype.kind == "f":
        return np.power(x, np.asarray(exponent, dtype=x.dtype))
    if not is_int(exponent):
        return np.power(x.astype(np.float32), np.float32(exponent))
    dt = _INT64 if x.dtype.kind == "b" else x.dtype
    info = np.iinfo(dt)
    if int(exponent) <= info.max:
        return np.power(x.astype(dt, copy=False), np.asarray(exponent, dtype=dt))
    return np.power(x.astype(np.int64), np.int64(exponent)).astype(dt)


def _rpow_dtype(y: np.ndarray, base: Any) -> np.dtype:
    if y.dtype.kind == "b" and isinstance(base, (bool, np.bool_)):
        raise TypeError(f"a boolean base to a boolean tensor power (shape {y.shape}) is not supported")
    return result_dtype(y, base)


def _check_rpow(y: np.ndarray, *, base: float) -> None:
    dt = _rpow_dtype(y, base)
    if dt.kind != "f" and y.size and y.min() < 0:
        raise ValueError(f"integers to negative integer powers are not allowed (base {base!r} ** a {y.dtype} tensor of "
                         f"shape {y.shape} with negative entries); use a float base or cast the tensor first")
    _scalar_array(base, dt, "rpow")


def _rpow_forward(y: np.ndarray, *, base: float) -> np.ndarray:
    """b ** y elementwise (numpy's power: exact for integer results, nan for a negative base to a fractional power)."""
    dt = _rpow_dtype(y, base)
    return np.power(np.asarray(base, dtype=dt), y.astype(dt, copy=False))


def _rpow_vjp(g: Tensor, out: Tensor, y: Tensor, *, base: float) -> Tensor:
    """g * b^y * ln b, with ln b a constant: nan for b < 0 (b^y is not differentiable in y there, as PyTorch);
    for b = 0, 0 where y >= 0 and -inf where y < 0 (PyTorch's rule)."""
    if base > 0:
        log_b = np.asarray(np.log(float(base)), dtype=y.dtype)
    elif base == 0:
        log_b = np.where(y.data >= 0, 0.0, -np.inf).astype(y.dtype)
    else:
        log_b = np.asarray(np.nan, dtype=y.dtype)
    return g * out * Tensor.wrap(log_b)


def _float_unary(fn: Any, doc: str) -> Any:
    def forward(x: np.ndarray) -> np.ndarray:
        return fn(x if x.dtype.kind == "f" else x.astype(np.float32))

    forward.__doc__ = doc
    return forward


_neg = register_op(
    "neg", np.negative, vjps=(lambda g, out, x: -g,), formula="y = -x;  dx = -g",
    kind="elementwise", domain=(normal,), samples=_samples_from_domain(normal),  # numpy itself refuses bools
)
_pow = register_op(
    "pow", _pow_forward,
    vjps=(_pow_vjp,), formula="y = x^c (constant c);  dx = g * c * x^(c-1)",
    kind="elementwise", check=_check_exponent, domain=(positive,),
    samples=_samples_from_domain(positive, attrs=[{"exponent": c} for c in (2, 3, 0.5, -1.5, 1, 0)]),
)
_rpow = register_op(
    "rpow", _rpow_forward,
    vjps=(_rpow_vjp,), formula="y = b^x (constant b);  dx = g * y * ln b  (0 where b = 0 and x >= 0, as PyTorch)",
    kind="elementwise", check=_check_rpow, domain=(normal,),
    samples=_samples_from_domain(normal, attrs=[{"base": b} for b in (2.0, 0.5, float(np.e), 3)]),
)
def _quiet_power(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x ** y, nan for a negative base to a fractional power and inf for 0 to a negative one (as PyTorch,
    without numpy's warnings)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.power(x, y)


def _pow_tensor_dx(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """g * y * x^(y-1), 0 where y = 0 (where x^(y-1) is computed as x^1, so that 0^-1 = inf never appears)."""
    zero = Tensor.wrap(y.data == 0)
    return where(zero, 0.0, g * y * _pow_tensor(x, where(zero, 1.0, y - 1))).sum_to(x.shape)


def _pow_tensor_dy(g: Tensor, out: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """g * x^y * ln x, 0 where x = 0 and y >= 0 (where ln x is computed as ln 1, so that 0 * -inf never appears)."""
    zero = Tensor.wrap(np.broadcast_to((x.data == 0) & (y.data >= 0), out.shape))
    return where(zero, 0.0, g * out * _log(where(zero, 1.0, x))).sum_to(y.shape)


_pow_tensor = register_op(
    "pow_tensor", lambda x, y: _quiet_power(x, y),
    vjps=(lambda g, out, x, y: _pow_tensor_dx(g, x, y), lambda g, out, x, y: _pow_tensor_dy(g, out, x, y)),
    formula="z = x^y (both tensors);  dx = g * y * x^(y-1) (0 where y = 0),  dy = g * z * ln x (0 where x = 0, y >= 0)",
    kind="elementwise", check=_check_broadcast, domain=(positive, normal),
    samples=_samples_from_domain(positive, normal),
)
_exp = register_op(
    "exp", _float_unary(np.exp, "e ** x"), vjps=(lambda g, out, x: g * out,), formula="y = e^x;  dx = g * y",
    kind="elementwise", domain=(normal,), samples=_samples_from_domain(normal),
)
_log = register_op(
    "log", _float_unary(np.log, "ln x"), vjps=(lambda g, out, x: g / x,), formula="y = ln x;  dx = g / x",
    kind="elementwise", domain=(positive,), samples=_samples_from_domain(positive),
)


def _relu_vjp(g: Tensor, out: Tensor, x: Tensor) -> Tensor:
    passes = np.not_equal(out.data, 0)  # y = max(x, 0) != 0 is not (x <= 0): a NaN input passes g, as PyTorch
    if np.isfinite(g.data).all():  # for a finite g the (fast) product is the select
        return g * Tensor.wrap(passes.astype(g.dtype))
    return where(Tensor.wrap(passes), g, 0.0)  # inf/NaN in g: x <= 0 still gets exactly 0 (PyTorch's select)


_relu = register_op(
    "relu", lambda x: np.maximum(x, np.zeros((), dtype=x.dtype)), vjps=(_relu_vjp,),
    formula="y = max(x, 0);  dx = g * [not x <= 0]  (0 at x <= 0; NaN passes g, as PyTorch)",
    kind="elementwise", check=_check_not_bool, domain=(kinked,), samples=_samples_from_domain(kinked),
)


def _sigmoid_forward(x: np.ndarray) -> np.ndarray:
    x = x if x.dtype.kind == "f" else x.astype(np.float32)
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


_sigmoid = register_op(
    "sigmoid", _sigmoid_forward, vjps=(lambda g, out, x: g * out * (1 - out),),
    formula="y = 1 / (1 + e^-x);  dx = g * y * (1 - y)",
    kind="elementwise", domain=(normal,), samples=_samples_from_domain(normal),
)
_tanh = register_op(
    "tanh", _float_unary(np.tanh, "tanh x"), vjps=(lambda g, out, x: g * (1 - out * out),),
    formula="y = tanh x;  dx = g * (1 - y^2)",
    kind="elementwise", domain=(normal,), samples=_samples_from_domain(normal),
)

# erf: FreeBSD's s_erf.c (Sun's fdlibm, as in Go's math.Erf), vectorised. Rational approximations on
# [0, 0.84375), [0.84375, 1.25), [1.25, 1/0.35) and [1/0.35, 6); 1 from 6 on; odd in x.
_ERX = 8.45062911510467529297e-01  # erf(1) rounded to 24 bits
_EFX, _EFX8 = 1.28379167095512586316e-01, 1.02703333676410069053e+00  # 2/sqrt(pi) - 1, and 8 times it
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
       1.32494738004321644526e-04, -3.96022827877536812320e-06)
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)
_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
       1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
       -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
       -8.12874355063065934246e+01, -9.81432934416914548592e+00)
_SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
       6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
       6.57024977031928170135e+00, -6.04244152148580987438e-02)
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
       -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
       -4.83519191608651397019e+02)
_SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
       3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
       -2.24409524465858183362e+01)


def _poly(c: tuple[float, ...], s: np.ndarray) -> np.ndarray:
    """c[0] + c[1] s + c[2] s^2 + ... by Horner's rule."""
    out = np.full_like(s, c[-1])
    for a in c[-2::-1]:
        out = out * s + a
    return out


def _erf_forward(x: np.ndarray) -> np.ndarray:
    """erf x = 2/sqrt(pi) * integral_0^x e^(-t^2) dt, to about 1 ulp in float64 (fdlibm's algorithm; float32
    computes in float64 and rounds once; float32 for integer and boolean tensors); erf(+-inf) = +-1, erf(nan)
    = nan, erf(-0) = -0."""
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    xd = np.asarray(x, dtype=np.float64)
    a = np.abs(xd)
    # |x| < 0.84375: x + x R(x^2); below 2^-28 R is 2/sqrt(pi) - 1 (scaled by 8 for subnormals)
    # (each branch sees |x| clipped to its range, so that no branch overflows where it is not used)
    b = np.minimum(a, 0.84375)
    z = b * b
    small = np.where(b < 2.848094538889218e-306, 0.125 * (8.0 * b + _EFX8 * b), b + _EFX * b)
    y0 = np.where(b < 2.0 ** -28, small, b + b * (_poly(_PP, z) / _poly(_QQ, z)))
    # 0.84375 <= |x| < 1.25: erx + P(s) / Q(s), s = |x| - 1
    s = np.clip(a, 0.84375, 1.25) - 1.0
    y1 = _ERX + _poly(_PA, s) / _poly(_QA, s)
    # 1.25 <= |x| < 6: 1 - e^(-x^2 - 0.5625 + R(1/x^2) / S(1/x^2)) / |x|, with x^2 split as in fdlibm
    t = np.clip(a, 1.25, 6.0)  # keeps 1/t^2 and the exponentials finite where this branch is not used
    w = 1.0 / (t * t)
    low = t < 1 / 0.35
    rs = np.where(low, _poly(_RA, w) / _poly(_SA, w), _poly(_RB, w) / _poly(_SB, w))
    hi = (t.view(np.uint64) & np.uint64(0xFFFFFFFF00000000)).view(np.float64)  # t to its upper 32 bits
    y2 = 1.0 - np.exp(-hi * hi - 0.5625) * np.exp((hi - t) * (hi + t) + rs) / t
    y = np.where(a < 0.84375, y0, np.where(a < 1.25, y1, np.where(a < 6.0, y2, 1.0)))
    y = np.where(np.isnan(xd), xd, np.copysign(y, xd))
    return y.astype(dt, copy=False)


def _erf_vjp(g: Tensor, out: Tensor, x: Tensor) -> Tensor:
    return g * (-(x * x)).exp() * (2 / np.sqrt(np.pi))


_erf = register_op(
    "erf", _erf_forward, vjps=(_erf_vjp,),
    formula="y = erf x = 2/sqrt(pi) * int_0^x e^(-t^2) dt;  dx = g * 2/sqrt(pi) * e^(-x^2)",
    kind="elementwise", domain=(normal,), samples=_samples_from_domain(normal),
)


def _unsupported_dtype(x_dtype: np.dtype, dt: np.dtype) -> str:
    return (f"cannot cast {x_dtype} to {dt.name}: the engine computes with float32 and float64 (float16 is "
            "refused by its dtype policy), integers and booleans")


def _check_dtype(x: np.ndarray, *, dtype: np.dtype) -> None:
    dt = np.dtype(dtype)
    if dt.kind in "biu":
        raise TypeError(f"the cast op converts to float32 or float64 only; for {dt.name} use astype, which cuts the "
                        "graph (integer and boolean tensors have no gradient)")
    if dt not in _FLOAT_DTYPES:
        raise TypeError(_unsupported_dtype(x.dtype, dt))


_cast = register_op(
    "cast", lambda x, *, dtype: x.astype(dtype), vjps=(lambda g, out, x, *, dtype: g.astype(x.dtype),),
    formula="y = x as dtype (float32 or float64);  dx = g as x's dtype",
    kind="elementwise", check=_check_dtype, domain=(normal,),
    samples=_samples_from_domain(normal, attrs=[{"dtype": np.dtype(np.float64)}]),
)


def neg(x: Tensor) -> Tensor:
    """-x (not for booleans, as PyTorch)."""
    return _neg(x)


def pow(x: Tensor, exponent: float) -> Tensor:
    """x ** c for a constant number c, or x ** y for a tensor y (both differentiable, broadcast; PyTorch's
    gradient conventions: dx is 0 where y = 0, dy is 0 where x = 0 and y >= 0).

    Float tensors keep their dtype; integer and boolean tensors give float32 for a float c, and keep their
    dtype for an int c >= 0 (booleans give int64); an integer tensor to a negative int power raises ValueError.
    """
    if isinstance(exponent, (Tensor, np.ndarray)):
        x, y = pair(x, exponent, "pow")
        if x.dtype.kind != "f":  # integer and boolean tensors: computed as float32, as for a float exponent
            x, y = astype(x, np.float32), astype(y, np.float32)
        return _pow_tensor(x, y)
    x = as_tensor(x)
    if isinstance(exponent, np.generic):
        exponent = exponent.item()
    if isinstance(exponent, bool):  # a weak scalar like any other: x ** True is x, as PyTorch
        if x.dtype.kind == "b":
            return x if exponent else Tensor.wrap(np.ones(x.shape, dtype=np.bool_))
        exponent = int(exponent)
    return _pow(x, exponent=exponent)


def rpow(base: float, y: Tensor) -> Tensor:
    """base ** y for a constant number ``base`` and a tensor exponent ``y`` (``2 ** t``).

    Values are numpy's power (exact integer results, 1 for 0 ** 0, nan for a negative base to a fractional
    power); the gradient is y-independent ln(base) times the output, PyTorch's rule at base 0 and nan for a
    negative base. The dtype follows the weak-scalar rule: a float base makes an integer tensor float32.
    """
    if isinstance(base, np.ndarray):
        if base.ndim:
            raise TypeError(f"rpow: the base must be a number, got an array of shape {base.shape}; "
                            "for an array base write (y * Tensor(base).log()).exp()")
        base = base.item()
    elif isinstance(base, np.generic):
        base = base.item()
    return _rpow(as_tensor(y), base=base)




def exp(x: Tensor) -> Tensor:
    """e ** x (float32 for integer and boolean tensors)."""
    return _exp(x)


def log(x: Tensor) -> Tensor:
    """Natural logarithm (float32 for integer and boolean tensors)."""
    return _log(x)


def relu(x: Tensor) -> Tensor:
    """max(x, 0); integer tensors keep their dtype, booleans are refused (as PyTorch)."""
    return _relu(x)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e ** -x), computed without overflow (float32 for integer and boolean tensors)."""
    return _sigmoid(x)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent (float32 for integer and boolean tensors)."""
    return _tanh(x)


def erf(x: Tensor) -> Tensor:
    """The Gauss error function erf x = 2/sqrt(pi) * integral_0^x e^(-t^2) dt, to about 1 ulp (fdlibm's
    algorithm; float32 for integer and boolean tensors); its derivative is 2/sqrt(pi) * e^(-x^2)."""
    return _erf(x)


def astype(x: Tensor, dtype: np.typing.DTypeLike) -> Tensor:
    """The tensor converted to ``dtype``.

    Between float32 and float64 the conversion is a differentiable ``cast``. To an integer or boolean dtype
    it cuts the graph: the result is data and never requires grad. Other dtypes (float16, complex, ...) are
    refused with a TypeError.
    """
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"astype: {dtype!r} is not a dtype") from None
    if dt == x.dtype:
        return x
    if dt.kind in "biu":
        return Tensor.wrap(x.data.astype(dt))
    if dt not in _FLOAT_DTYPES:
        raise TypeError(f"astype: {_unsupported_dtype(x.dtype, dt)} (shape {x.shape})")
    return _cast(x, dtype=dt)




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
    return _where(c, *pair(a, b, "where"))




# ---------------------------------------------------------------- comparisons (not differentiable)
def _compare(ufunc: np.ufunc, symbol: str) -> Any:
    def compare(a: Tensor, b: Any) -> Tensor:
        try:
            x, y = pair(a, b, symbol)
        except OverflowError:  # an int beyond the tensor's range: numpy compares it exactly
            return Tensor.wrap(ufunc(a.data, b))
        if x.shape != y.shape:
            try:
                broadcast_shape(x.shape, y.shape)
            except ValueError as e:
                raise ValueError(f"{symbol}: {e}") from None
        return Tensor.wrap(ufunc(x.data, y.data))

    compare.__doc__ = f"Elementwise a {symbol} b as a boolean tensor (no gradient)."
    return compare


eq, ne = _compare(np.equal, "=="), _compare(np.not_equal, "!=")
lt, le = _compare(np.less, "<"), _compare(np.less_equal, "<=")
gt, ge = _compare(np.greater, ">"), _compare(np.greater_equal, ">=")


# ---------------------------------------------------------------- PyTorch's clamp and clone (composites)
def _check_bound(name: str, bound: Any) -> None:
    if bound is not None and not isinstance(bound, Tensor) and (
            isinstance(bound, (bool, np.bool_)) or not isinstance(bound, (int, float, np.integer, np.floating))):
        raise TypeError(f"{name}: bounds must be numbers or tensors, got {bound!r} ({type(bound).__name__})")


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Out-of-place clip to ``[min, max]`` (numbers or tensors, broadcast), composed of ``where``: the
    gradient passes where ``min <= x <= max``, as in PyTorch (at a bound too), and goes to a tensor bound
    where it was chosen. ``min > max`` gives ``max`` everywhere, as in PyTorch; ``clamp_`` is the in-place
    form. A NaN in ``x`` or in a bound gives NaN there with no gradient to anything (as PyTorch: its mask
    ``min <= x <= max`` is false at NaN)."""
    if min is None and max is None:
        raise ValueError("clamp: give min, max or both")
    _check_bound("clamp", min)
    _check_bound("clamp", max)
    x = as_tensor(x)
    y = x
    if min is not None:
        y = where(y < min, min, y)
    if max is not None:
        y = where(y > max, max, y)
    if y.dtype.kind == "f":
        nan = np.isnan(x.data) if x.dtype.kind == "f" else False
        for bound in (min, max):
            b = bound.data if isinstance(bound, Tensor) else bound
            if b is not None and np.asarray(b).dtype.kind == "f":
                nan = nan | np.isnan(b)
        if np.any(nan):
            y = where(Tensor.wrap(np.broadcast_to(nan, y.shape)), Tensor.wrap(np.array(np.nan, y.dtype)), y)
    return y


clip = clamp


def clone(x: Tensor) -> Tensor:
    """A copy in a new array that stays in the graph (the gradient flows back to ``x``), as PyTorch's clone:
    ``x * 1`` for float tensors (exact, -0.0 and NaN included), a plain copy for integer and boolean ones."""
    x = as_tensor(x)
    if x.dtype.kind != "f":
        return Tensor.wrap(x.data.copy())
    return mul(x, 1.0)


__all__ = [
    "normal", "positive", "away_from_zero", "kinked", "boolean", "broadcast_shape", "result_dtype", "pair",
    "operands", "add", "sub", "mul", "div", "neg", "pow", "rpow", "exp", "log", "relu", "sigmoid", "tanh", "astype",
    "erf", "where", "eq", "ne", "lt", "le", "gt", "ge", "clamp", "clip", "clone",
]
