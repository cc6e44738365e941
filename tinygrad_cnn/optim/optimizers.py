"""Optimizers (SGD with momentum/Nesterov/weight decay, Adam, AdamW) and learning-rate schedules.

An optimizer holds the parameters it updates: Tensors (or float numpy arrays) in any structure —
a Module's ``parameters()`` or ``named_parameters()``, a list, or a dict/list/tuple tree such as the
functional models' parameter dict. Each parameter may appear only once (the same Tensor, or arrays sharing
memory, twice would be updated twice). Updates are numpy arithmetic on the parameters' arrays, **in place**,
outside the graph; Tensor parameters are written through their in-place methods (``sub_``, ``mul_``) under
``no_grad()``, so their version counters record every step. Two ways to hand it the gradients:

    # modules: gradients accumulated in .grad by backward()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss = F.cross_entropy(model(x), y); loss.backward()
    opt.step(); opt.zero_grad()

    # functions: gradients returned by tg.value_and_grad, with the structure of the parameters
    params = models.lenet5_init(seed=0)
    opt = optim.Adam(params, lr=1e-3)
    loss, grads = tg.value_and_grad(loss_fn)(params, x, y)
    params = opt.step(grads)          # updates in place; returns the same structure for convenience

Gradients passed to ``step(grads)`` are matched to the parameters **by key and structure**: a dict of
parameters needs a dict of gradients with the same keys (in any order; a list of ``(key, gradient)`` pairs
also works), a list needs a list of the same length. Unknown, missing or repeated keys raise ValueError
naming them; a ``None`` gradient skips its parameter.

Hyperparameters are checked when the optimizer or schedule is made (and ``lr`` whenever it is set): they
must be finite numbers in range, else ValueError naming the optimizer, the argument and the value.

Parameters may change dtype in place (``Module.to(np.float64)``, ``Tensor.set_``) after the optimizer was
made: its state (momentum buffers, Adam's moments) is converted to the new dtype at the next step.

The update rules, the defaults and the order of floating-point operations follow ``torch.optim``, so a
few steps from the same start agree with PyTorch's to rounding. Schedules (:class:`StepLR`,
:class:`CosineAnnealingLR`) set ``optimizer.lr`` once per ``scheduler.step()``, as in PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..core.tensor import Tensor, no_grad
from ..core.tree import tree_flatten


# -------------------------------------------------------------------- argument checks
def check_hyperparameter(who: str, arg: str, value: Any, low: float | None = 0.0, high: float | None = None, *,
           low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a float, after checking it is a finite real number in the given range (ValueError)."""
    lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
    hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
    if low is not None and high is not None:
        where = f" in {lo}, {hi}"
    elif low is not None:
        where = f" {'>' if low_open else '>='} {low:g}"
    elif high is not None:
        where = f" {'<' if high_open else '<='} {high:g}"
    else:
        where = ""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if ok:
        v = float(value)
        ok = math.isfinite(v)
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v < high if high_open else v <= high
    if not ok:
        raise ValueError(f"{who}: {arg} must be a finite number{where}, got {value!r}")
    return v


def check_positive_int(who: str, arg: str, value: Any) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)) or value <= 0:
        raise ValueError(f"{who}: {arg} must be a positive integer, got {value!r}")
    return int(value)


def _flag(who: str, arg: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{who}: {arg} must be True or False, got {value!r}")
    return bool(value)


def _root(arr: np.ndarray) -> np.ndarray:
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _path_name(path: str) -> str:
    return repr(path or "0")


_MISSING = object()


class Optimizer:
    """Base class: holds the parameters and per-parameter state; subclasses define ``_update``."""

    def __init__(self, params: Any, lr: float) -> None:
        name = type(self).__name__
        self.lr = lr  # checked by the property
        if hasattr(params, "named_parameters"):  # a Module
            params = dict(params.named_parameters())
        elif not isinstance(params, (dict, list, tuple)) and isinstance(params, Iterable):
            params = list(params)
        if isinstance(params, list) and params and all(_is_named_pair(x) for x in params):
            params = _pairs_to_dict(params, f"{name}: parameter", ValueError)  # named_parameters() pairs
        leaves, _ = tree_flatten(params)
        if not leaves:
            raise ValueError(f"{name}: got an empty parameter list")
        for path, p in leaves:
            arr = p.data if isinstance(p, Tensor) else p
            if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
                raise TypeError(
                    f"{name}: parameter {path or '0'} must be a float Tensor or numpy array, "
                    f"got {type(p).__name__}" + (f" of dtype {arr.dtype}" if isinstance(arr, np.ndarray) else "")
                )
            if not arr.flags.writeable:
                raise ValueError(f"{name}: parameter {path or '0'} is read-only; it cannot be updated in place")
        _check_distinct(name, leaves)
        self.tree = params
        self.paths = [path for path, _ in leaves]
        self.params = [p for _, p in leaves]
        self.initial_lr = self.lr
        self.state: list[dict[str, Any]] = [{} for _ in self.params]
        self.steps = 0

    @property
    def lr(self) -> float:
        """The learning rate (a finite number >= 0; schedules set it)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_hyperparameter(type(self).__name__, "lr", value)

    def zero_grad(self) -> None:
        """Clear ``.grad`` of every Tensor parameter."""
        for p in self.params:
            if isinstance(p, Tensor):
                p.grad = None

    def step(self, grads: Any = None) -> Any:
        """Update every parameter in place.

        ``grads``: None to use each Tensor's ``.grad`` (parameters whose ``.grad`` is None are skipped, as
        in PyTorch; returns None), or gradients with the parameters' structure (Tensors or arrays, e.g.
        from ``tg.value_and_grad``), matched by key and position within that structure; returns the
        parameter structure, so ``params = opt.step(grads)`` reads naturally. Everything is checked before
        any parameter changes.
        """
        name = type(self).__name__
        if grads is None:
            gs = [p.grad if isinstance(p, Tensor) else None for p in self.params]
            if all(g is None for g in gs):
                raise ValueError(f"{name}.step: no parameter has a .grad; call backward() first or pass grads")
        else:
            gs = self._match(grads)
        work = []
        for i, (p, g) in enumerate(zip(self.params, gs)):
            if g is None:
                continue
            arr = p.data if isinstance(p, Tensor) else p
            if isinstance(g, Tensor):
                garr = g.data
            elif isinstance(g, (np.ndarray, np.generic)):
                garr = np.asarray(g)
            else:
                raise TypeError(f"{name}.step: gradient for parameter {_path_name(self.paths[i])} must be a Tensor "
                                f"or numpy array, got {type(g).__name__}")
            if garr.shape != arr.shape:
                raise ValueError(f"{name}.step: gradient for parameter {_path_name(self.paths[i])} has shape "
                                 f"{garr.shape}, the parameter {arr.shape}")
            if garr.dtype != arr.dtype:
                raise TypeError(f"{name}.step: gradient for parameter {_path_name(self.paths[i])} is {garr.dtype}, "
                                f"the parameter {arr.dtype}")
            if arr.dtype.kind != "f" or not arr.flags.writeable:
                raise ValueError(
                    f"{name}.step: parameter {_path_name(self.paths[i])} is no longer a writable float array "
                    f"({arr.dtype}, writeable={arr.flags.writeable})"
                )
            state = self.state[i]
            for k, v in state.items():  # the parameter may have been replaced by set_ since the state was made
                if isinstance(v, np.ndarray) and v.shape != arr.shape:
                    raise ValueError(
                        f"{name}.step: parameter {_path_name(self.paths[i])} changed shape to {arr.shape} "
                        f"since its optimizer state ({k}, {v.shape}) was made"
                    )
            work.append((p, arr, garr, state))
        self.steps += 1
        with no_grad():
            for p, arr, garr, state in work:
                for k, v in state.items():
                    if isinstance(v, np.ndarray) and v.dtype != arr.dtype:
                        state[k] = v.astype(arr.dtype)
                self._update(p, arr, garr, state)
        return None if grads is None else self.tree

    def _match(self, grads: Any) -> list[Any]:
        """The gradients as a list aligned with ``self.params``, matched by key and structure."""
        name = type(self).__name__
        out: list[Any] = []
        problems: dict[str, list[str]] = {"unknown": [], "missing": [], "repeated": [], "structure": []}

        def walk(ptree: Any, gtree: Any, path: str) -> None:
            if isinstance(ptree, dict):
                if gtree is not _MISSING and not isinstance(gtree, Mapping):
                    pairs = _pairs(gtree, path, problems["repeated"]) if _is_pair_sequence(gtree) else None
                    if pairs is not None:
                        gtree = pairs
                    else:
                        problems["structure"].append(
                            f"at {_path_name(path) if path else 'the top'} the parameters are a dict, "
                            f"the gradients a {type(gtree).__name__}"
                        )
                        gtree = _MISSING
                if gtree is not _MISSING:
                    for k in gtree:
                        if k not in ptree:
                            problems["unknown"].append(f"{path}.{k}" if path else str(k))
                for k, v in ptree.items():
                    sub = f"{path}.{k}" if path else str(k)
                    if gtree is not _MISSING and k not in gtree:
                        problems["missing"].append(sub)
                    walk(v, _MISSING if gtree is _MISSING or k not in gtree else gtree[k], sub)
                return
            if isinstance(ptree, (list, tuple)):
                if gtree is not _MISSING:
                    if _is_iterator(gtree):
                        gtree = list(gtree)
                    if not isinstance(gtree, (list, tuple)):
                        problems["structure"].append(
                            f"at {_path_name(path) if path else 'the top'} the parameters are a "
                            f"{type(ptree).__name__}, the gradients a {type(gtree).__name__}"
                        )
                        gtree = _MISSING
                    elif len(gtree) != len(ptree):
                        problems["structure"].append(
                            f"got {len(gtree)} gradients for {len(ptree)} parameters"
                            + (f" at {_path_name(path)}" if path else "")
                        )
                        gtree = _MISSING
                for j, v in enumerate(ptree):
                    walk(v, _MISSING if gtree is _MISSING else gtree[j], f"{path}[{j}]")
                return
            if gtree is not _MISSING and isinstance(gtree, (dict, list, tuple)):
                problems["structure"].append(
                    f"the gradient for {_path_name(path)} is a {type(gtree).__name__}, not an array or Tensor"
                )
                gtree = _MISSING
            out.append(None if gtree is _MISSING else gtree)

        walk(self.tree, grads, "")
        msgs = []
        if problems["structure"]:
            msgs.append("; ".join(problems["structure"]))
        for kind in ("unknown", "missing", "repeated"):
            if problems[kind]:
                msgs.append(f"{kind} keys {problems[kind]}")
        if msgs:
            raise ValueError(f"{name}.step: the gradients do not match the parameters: " + "; ".join(msgs))
        return out

    def _update(self, p: Tensor | np.ndarray, arr: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        """Update parameter ``p`` (its array ``arr``) from gradient ``g``; write only through ``_sub``/``_scale``."""
        raise NotImplementedError

    @staticmethod
    def _sub(p: Tensor | np.ndarray, delta: np.ndarray, alpha: float = 1.0) -> None:
        """p -= alpha * delta, in place (through ``Tensor.sub_`` for a Tensor, so its version is bumped)."""
        if isinstance(p, Tensor):
            p.sub_(delta, alpha=alpha)
        elif alpha == 1.0:
            p -= delta
        else:
            p -= alpha * delta

    @staticmethod
    def _scale(p: Tensor | np.ndarray, arr: np.ndarray, factor: float) -> None:
        """p *= factor, in place, computed in the parameter's dtype."""
        f = arr.dtype.type(factor)
        if isinstance(p, Tensor):
            p.mul_(f)
        else:
            p *= f


def _is_iterator(x: Any) -> bool:
    return not isinstance(x, (dict, list, tuple, Tensor, np.ndarray, str, bytes)) and isinstance(x, Iterable)


def _is_named_pair(x: Any) -> bool:
    return isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str)


def _is_pair_sequence(x: Any) -> bool:
    """A list/tuple/iterator of (key, gradient) pairs (only asked where the parameters are a dict)."""
    return isinstance(x, (list, tuple)) or _is_iterator(x)


def _pairs(x: Any, path: str, repeated: list[str]) -> dict[Any, Any] | None:
    """(key, gradient) pairs as a dict (repeated keys listed in ``repeated``); None if ``x`` is not such pairs."""
    items = list(x)
    if not all(isinstance(it, (tuple, list)) and len(it) == 2 and isinstance(it[0], (str, int)) for it in items):
        return None
    out: dict[Any, Any] = {}
    for k, v in items:
        if k in out:
            repeated.append(f"{path}.{k}" if path else str(k))
        out[k] = v
    return out


def _pairs_to_dict(x: list[tuple[str, Any]], what: str, error: type[Exception]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in x:
        if k in out:
            raise error(f"{what} name {k!r} is repeated")
        out[k] = v
    return out


def _check_distinct(name: str, leaves: list[tuple[str, Any]]) -> None:
    """ValueError when a parameter appears twice: the same Tensor, the same array, or arrays sharing memory."""
    by_object: dict[int, str] = {}
    by_root: dict[int, list[tuple[str, np.ndarray]]] = {}
    for path, p in leaves:
        arr = p.data if isinstance(p, Tensor) else p
        for key in {id(p), id(arr)}:
            if key in by_object:
                what = "Tensor" if isinstance(p, Tensor) and id(p) == key else "array"
                raise ValueError(
                    f"{name}: the same parameter ({what}) appears twice, as {_path_name(by_object[key])} and "
                    f"{_path_name(path)}; pass each parameter once"
                )
        by_object[id(p)] = path
        by_object[id(arr)] = path
        group = by_root.setdefault(id(_root(arr)), [])
        for other_path, other in group:
            if np.shares_memory(arr, other):
                raise ValueError(
                    f"{name}: parameters {_path_name(other_path)} and {_path_name(path)} share memory (one is a "
                    "view of the other); each would be updated twice. Pass each parameter once"
                )
        group.append((path, arr))


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    g <- g + wd * p;  b <- mu * b + (1 - dampening) * g  (b = g at the first step);
    g <- g + mu * b (nesterov) or b;  p <- p - lr * g.
    """

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        momentum = check_hyperparameter("SGD", "momentum", momentum)
        dampening = check_hyperparameter("SGD", "dampening", dampening, 0.0, 1.0)
        weight_decay = check_hyperparameter("SGD", "weight_decay", weight_decay)
        nesterov = _flag("SGD", "nesterov", nesterov)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got momentum={momentum}, "
                f"dampening={dampening}"
            )
        super().__init__(params, lr)
        self.momentum, self.dampening = momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov

    def _update(self, p: Tensor | np.ndarray, arr: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * arr
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= self.momentum
                buf += (1.0 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        self._sub(p, g, self.lr)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; ``weight_decay`` adds wd * p to the gradient (L2).

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)   (amsgrad: v replaced by its running max).
    """

    decoupled = False

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        who = type(self).__name__
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{who}: betas must be a pair (beta1, beta2), got {betas!r}")
        b1 = check_hyperparameter(who, "betas[0]", betas[0], 0.0, 1.0, high_open=True)
        b2 = check_hyperparameter(who, "betas[1]", betas[1], 0.0, 1.0, high_open=True)
        eps = check_hyperparameter(who, "eps", eps, 0.0, low_open=True)
        weight_decay = check_hyperparameter(who, "weight_decay", weight_decay)
        amsgrad = _flag(who, "amsgrad", amsgrad)
        super().__init__(params, lr)
        self.betas = (b1, b2)
        self.eps, self.weight_decay, self.amsgrad = eps, weight_decay, amsgrad

    def _update(self, p: Tensor | np.ndarray, arr: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        b1, b2 = self.betas
        if self.weight_decay:
            if self.decoupled:
                self._scale(p, arr, 1.0 - self.lr * self.weight_decay)
            else:
                g = g + self.weight_decay * arr
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(arr), exp_avg_sq=np.zeros_like(arr),
                         scratch=np.empty_like(arr))
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(arr)
        state["step"] += 1
        t = state["step"]
        m, v, tmp = state["exp_avg"], state["exp_avg_sq"], state["scratch"]  # in place: no temporaries
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1.0 - b2**t)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1.0 - b1**t)
        self._sub(p, tmp)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): p <- p (1 - lr wd) before the Adam step."""

    decoupled = True

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


# -------------------------------------------------------------------- learning-rate schedules
__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "check_hyperparameter", "check_positive_int"]
