"""Optimizers (SGD with momentum/Nesterov/weight decay, Adam, AdamW); the schedules are in lr_scheduler.py.

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
:class:`CosineAnnealingLR`) set every param group's ``lr`` once per ``scheduler.step()``, as in PyTorch.

Param groups, as PyTorch's: ``SGD([{"params": model.fc.parameters(), "lr": 0.1}, {"params": rest}], lr=0.01,
momentum=0.9)`` gives each group its own hyperparameters (missing ones fall back to the constructor's);
``opt.param_groups[i]["lr"] = ...`` takes effect (checked) at the next step. ``opt.lr`` (and ``opt.momentum``,
``opt.betas``, ...) **reads the first group's** value and **sets every group's** when assigned.
``opt.state_dict()`` is ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}`` with numpy
arrays (copies); ``load_state_dict`` into an optimizer over the same parameters continues bit-identically.
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


class _Hyper:
    """A hyperparameter read as an attribute (``opt.lr``, ``opt.momentum``): reads the **first** param group's
    value; setting it checks the value and sets it in **every** group (as one would for a single group)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return obj.param_groups[0][self.name]

    def __set__(self, obj: Any, value: Any) -> None:
        obj._set_hyper(self.name, value)


class Optimizer:
    """Base class: holds the parameters, their param groups and per-parameter state; subclasses define
    ``_check_group`` (the hyperparameter checks) and ``_update``.

    ``params`` is either a parameter structure (above) — one group with the defaults — or, as in PyTorch, a
    list of dicts ``[{"params": [...], "lr": 0.1}, {"params": [...]}]``: each dict is a param group whose
    hyperparameters fall back to the constructor's defaults (other keys are kept, as in PyTorch). With groups,
    ``step(grads)`` takes a list with one gradient structure per group. ``opt.param_groups[i]["lr"]`` (or any
    hyperparameter) may be changed between steps; the new value is checked and used at the next step.
    ``opt.lr`` (and ``opt.momentum``, ``opt.betas``, ...) reads the first group's value and, when set, sets
    it in every group. ``state_dict()``/``load_state_dict()`` have PyTorch's structure.
    """

    lr = _Hyper()

    def __init__(self, params: Any, defaults: Mapping[str, Any] | float) -> None:
        name = type(self).__name__
        if not isinstance(defaults, Mapping):  # the former Optimizer(params, lr)
            defaults = {"lr": defaults}
        self.defaults = self._check_group(name, dict(defaults))
        if _is_iterator(params) and not hasattr(params, "named_parameters"):
            params = list(params)  # an iterator (model.parameters()) is read once
        specs = _group_specs(params)
        grouped = specs is not None
        if specs is None:
            specs = [{"params": params}]
        trees, groups = [], []
        for gi, spec in enumerate(specs):
            where = f"param_groups[{gi}] " if grouped else ""
            tree = _param_tree(spec["params"], name, grouped)
            leaves, _ = tree_flatten(tree)
            if not leaves:
                raise ValueError(f"{name}: got an empty parameter list"
                                 + (f" in param_groups[{gi}]" if grouped else ""))
            for path, p in leaves:
                arr = p.data if isinstance(p, Tensor) else p
                if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
                    raise TypeError(
                        f"{name}: {where}parameter {path or '0'} must be a float Tensor or numpy array, "
                        f"got {type(p).__name__}" + (f" of dtype {arr.dtype}" if isinstance(arr, np.ndarray) else "")
                    )
                if not arr.flags.writeable:
                    raise ValueError(f"{name}: {where}parameter {path or '0'} is read-only; it cannot be updated "
                                     "in place")
            group = {k: v for k, v in spec.items() if k != "params"}
            for k, v in self.defaults.items():
                group.setdefault(k, v)
            group = self._check_group(f"{name}: param_groups[{gi}]" if grouped else name, group)
            trees.append(tree)
            groups.append((group, [p for _, p in leaves]))
        self.tree = trees if grouped else trees[0]
        leaves, _ = tree_flatten(self.tree)
        _check_distinct(name, leaves)
        self.paths = [path for path, _ in leaves]
        self.params = [p for _, p in leaves]
        self.param_groups: list[dict[str, Any]] = []
        self._group_of: list[int] = []
        for gi, (group, ps) in enumerate(groups):
            self.param_groups.append({"params": ps, **group})
            self._group_of.extend([gi] * len(ps))
        self._checked: list[Any] = [self._snapshot(g) for g in self.param_groups]
        self.state: list[dict[str, Any]] = [{} for _ in self.params]
        self.steps = 0

    # ---------------------------------------------------------------- hyperparameters
    def _check_group(self, who: str, group: dict[str, Any]) -> dict[str, Any]:
        """``group`` with its hyperparameters checked (ValueError naming ``who``) and normalised; subclasses
        extend it. Other keys are returned unchanged."""
        group["lr"] = check_hyperparameter(who, "lr", group.get("lr"))
        return group

    def _snapshot(self, group: dict[str, Any]) -> tuple[Any, ...]:
        return tuple((k, type(v), v) for k, v in group.items() if k in self.defaults)

    def _set_hyper(self, key: str, value: Any) -> None:
        name = type(self).__name__
        checked = [self._check_group(name, {**g, key: value})[key] for g in self.param_groups]  # all, then set
        for g, v in zip(self.param_groups, checked):
            g[key] = v

    def _check_groups(self) -> None:
        """Check the groups changed since the last step (``param_groups[i]["lr"] = ...``), before any update."""
        for gi, g in enumerate(self.param_groups):
            snap = self._snapshot(g)
            if snap != self._checked[gi]:
                for k in self.defaults:
                    if k not in g:
                        raise ValueError(f"{type(self).__name__}: param_groups[{gi}] has no {k!r}")
                g.update(self._check_group(f"{type(self).__name__}: param_groups[{gi}]", dict(g)))
                self._checked[gi] = self._snapshot(g)

    @property
    def initial_lr(self) -> float:
        """The first group's ``initial_lr`` (set by the first schedule), else its current lr."""
        g = self.param_groups[0]
        return g.get("initial_lr", g["lr"])

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear ``.grad`` of every Tensor parameter (to None, as PyTorch's default; with
        ``set_to_none=False`` an existing gradient is zeroed instead)."""
        for p in self.params:
            if isinstance(p, Tensor):
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = np.zeros_like(p.data)

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """PyTorch's structure: ``{"state": {index: {name: value}}, "param_groups": [{hyperparameters...,
        "params": [indices]}]}``, indices numbering the parameters across the groups in order; parameters
        not stepped yet have no entry. Arrays are copies (numpy)."""
        state: dict[int, dict[str, Any]] = {}
        for i, st in enumerate(self.state):
            if st:
                state[i] = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in st.items()
                            if k not in self._scratch_keys}
        groups, i = [], 0
        for g in self.param_groups:
            packed = {k: (list(v) if isinstance(v, list) else v) for k, v in g.items() if k != "params"}
            packed["params"] = list(range(i, i + len(g["params"])))
            i += len(g["params"])
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    _scratch_keys: frozenset[str] = frozenset()

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Load a ``state_dict()`` (this library's or one with PyTorch's structure and numpy arrays): the
        groups' hyperparameters and every parameter's state, copied (cast to the parameter's dtype, as
        PyTorch). The groups must have the same sizes; everything is checked before anything changes."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups'")
        saved = list(state_dict["param_groups"])
        if len(saved) != len(self.param_groups):
            raise ValueError(f"{name}: the state has {len(saved)} param groups, the optimizer "
                             f"{len(self.param_groups)}")
        index: dict[Any, int] = {}
        new_groups, i = [], 0
        for gi, (sg, g) in enumerate(zip(saved, self.param_groups)):
            if not isinstance(sg, Mapping) or "params" not in sg:
                raise ValueError(f"{name}: param_groups[{gi}] must be a dict with 'params'")
            ids = list(sg["params"])
            if len(ids) != len(g["params"]):
                raise ValueError(f"{name}: param_groups[{gi}] has {len(ids)} parameters, the optimizer's "
                                 f"{len(g['params'])}")
            for k in ids:
                if k in index:
                    raise ValueError(f"{name}: parameter index {k!r} appears twice")
                index[k] = i
                i += 1
            missing = [k for k in self.defaults if k not in sg]
            if missing:
                raise ValueError(f"{name}: param_groups[{gi}] lacks {missing}")
            ng = self._check_group(f"{name}: param_groups[{gi}]", {k: v for k, v in sg.items() if k != "params"})
            new_groups.append({"params": g["params"], **ng})
        new_state: list[dict[str, Any]] = [{} for _ in self.params]
        for k, st in dict(state_dict["state"]).items():
            if k not in index:
                raise ValueError(f"{name}: state for parameter {k!r}, which no param group lists")
            j = index[k]
            p = self.params[j]
            arr = p.data if isinstance(p, Tensor) else p
            out = {}
            for key, v in dict(st).items():
                if isinstance(v, Tensor):
                    v = v.data
                if isinstance(v, np.ndarray):
                    if v.shape != arr.shape:
                        raise ValueError(f"{name}: state {key!r} of parameter {_path_name(self.paths[j])} has shape "
                                         f"{v.shape}, the parameter {arr.shape}")
                    v = np.array(v, dtype=arr.dtype if v.dtype.kind == "f" else v.dtype, copy=True)
                out[key] = v
            new_state[j] = out
        self.param_groups = new_groups
        self._checked = [self._snapshot(g) for g in new_groups]
        self.state = new_state

    # ---------------------------------------------------------------- stepping
    def step(self, grads: Any = None) -> Any:
        """Update every parameter in place.

        ``grads``: None to use each Tensor's ``.grad`` (parameters whose ``.grad`` is None are skipped, as
        in PyTorch; returns None), or gradients with the parameters' structure (Tensors or arrays, e.g.
        from ``tg.value_and_grad``), matched by key and position within that structure; returns the
        parameter structure, so ``params = opt.step(grads)`` reads naturally. Everything is checked before
        any parameter changes.
        """
        name = type(self).__name__
        self._check_groups()
        if grads is None:
            gs = [p.grad if isinstance(p, Tensor) else None for p in self.params]
            if all(g is None for g in gs):
                raise ValueError(f"{name}.step: no parameter has a .grad; call backward() first or pass grads")
        else:
            gs = self._match(grads)
        work = []
        groups, group_of = self.param_groups, self._group_of
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
            work.append((p, arr, garr, state, groups[group_of[i]]))
        self.steps += 1
        with no_grad():
            for p, arr, garr, state, group in work:
                for k, v in state.items():
                    if isinstance(v, np.ndarray) and v.dtype != arr.dtype:
                        state[k] = v.astype(arr.dtype)
                self._update(p, arr, garr, state, group)
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

    def _update(self, p: Tensor | np.ndarray, arr: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        """Update parameter ``p`` (its array ``arr``) from gradient ``g`` with its ``group``'s hyperparameters;
        write only through ``_sub``/``_scale``."""
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


def _group_specs(params: Any) -> list[dict[str, Any]] | None:
    """PyTorch's param groups: a list/tuple of dicts each with a "params" key; else None."""
    if isinstance(params, (list, tuple)) and params and all(isinstance(g, dict) and "params" in g for g in params):
        return list(params)
    return None


def _param_tree(params: Any, name: str, in_group: bool = False) -> Any:
    """A parameter structure as the optimizer keeps it: a Module's or (name, p) pairs as a dict, an iterator
    as a list (and in a param group, a single Tensor/array as a one-element list, as PyTorch)."""
    if hasattr(params, "named_parameters"):  # a Module
        return dict(params.named_parameters())
    if in_group and isinstance(params, (Tensor, np.ndarray)):
        return [params]
    if not isinstance(params, (dict, list, tuple)) and isinstance(params, Iterable):
        params = list(params)
    if isinstance(params, list) and params and all(_is_named_pair(x) for x in params):
        params = _pairs_to_dict(params, f"{name}: parameter", ValueError)  # named_parameters() pairs
    return params


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

    momentum = _Hyper()
    dampening = _Hyper()
    weight_decay = _Hyper()
    nesterov = _Hyper()

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    def _check_group(self, who: str, group: dict[str, Any]) -> dict[str, Any]:
        momentum = check_hyperparameter(who, "momentum", group.get("momentum"))
        dampening = check_hyperparameter(who, "dampening", group.get("dampening"), 0.0, 1.0)
        weight_decay = check_hyperparameter(who, "weight_decay", group.get("weight_decay"))
        nesterov = _flag(who, "nesterov", group.get("nesterov"))
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"{who}: Nesterov momentum requires a momentum > 0 and zero dampening, got momentum={momentum}, "
                f"dampening={dampening}"
            )
        group = super()._check_group(who, group)
        group.update(momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
        return group

    def _update(self, p: Tensor | np.ndarray, arr: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        if weight_decay:
            g = g + weight_decay * arr
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                buf += (1.0 - group["dampening"]) * g
            g = g + momentum * buf if group["nesterov"] else buf
        self._sub(p, g, group["lr"])


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; ``weight_decay`` adds wd * p to the gradient (L2).

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)   (amsgrad: v replaced by its running max).
    """

    decoupled = False
    betas = _Hyper()
    eps = _Hyper()
    weight_decay = _Hyper()
    amsgrad = _Hyper()
    _scratch_keys = frozenset({"scratch"})  # a work buffer, not state: left out of state_dict()

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    def _check_group(self, who: str, group: dict[str, Any]) -> dict[str, Any]:
        betas = group.get("betas")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{who}: betas must be a pair (beta1, beta2), got {betas!r}")
        b1 = check_hyperparameter(who, "betas[0]", betas[0], 0.0, 1.0, high_open=True)
        b2 = check_hyperparameter(who, "betas[1]", betas[1], 0.0, 1.0, high_open=True)
        eps = check_hyperparameter(who, "eps", group.get("eps"), 0.0, low_open=True)
        weight_decay = check_hyperparameter(who, "weight_decay", group.get("weight_decay"))
        amsgrad = _flag(who, "amsgrad", group.get("amsgrad"))
        group = super()._check_group(who, group)
        group.update(betas=(b1, b2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        return group

    def _update(self, p: Tensor | np.ndarray, arr: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        b1, b2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]
        if weight_decay:
            if self.decoupled:
                self._scale(p, arr, 1.0 - lr * weight_decay)
            else:
                g = g + weight_decay * arr
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(arr), exp_avg_sq=np.zeros_like(arr))
        tmp = state.get("scratch")
        if tmp is None:
            tmp = state["scratch"] = np.empty_like(arr)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(arr)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]  # in place: no temporaries
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1.0 - b2**t)
        tmp += group["eps"]
        np.divide(m, tmp, out=tmp)
        tmp *= lr / (1.0 - b1**t)
        self._sub(p, tmp)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): p <- p (1 - lr wd) before the Adam step."""

    decoupled = True

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


# -------------------------------------------------------------------- learning-rate schedules
__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "check_hyperparameter", "check_positive_int"]
