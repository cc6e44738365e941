"""Optimizers (SGD with momentum/Nesterov/weight decay, Adam, AdamW) and learning-rate schedules.

An optimizer holds the parameters it updates: Tensors (or float numpy arrays) in any structure —
a Module's ``parameters()``, a list, or a dict/list/tuple tree such as the functional models' parameter
dict. Updates are numpy arithmetic on the parameters' arrays, **in place**, outside the graph. Two ways
to hand it the gradients:

    # modules: gradients accumulated in .grad by backward()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss = F.cross_entropy(model(x), y); loss.backward()
    opt.step(); opt.zero_grad()

    # functions: gradients returned by tg.value_and_grad, with the structure of the parameters
    params = models.lenet5_init(seed=0)
    opt = optim.Adam(params, lr=1e-3)
    loss, grads = tg.value_and_grad(loss_fn)(params, x, y)
    params = opt.step(grads)          # updates in place; returns the same structure for convenience

The update rules, the defaults and the order of floating-point operations follow ``torch.optim``, so a
few steps from the same start agree with PyTorch's to rounding. Schedules (:class:`StepLR`,
:class:`CosineAnnealingLR`) set ``optimizer.lr`` once per ``scheduler.step()``, as in PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .tensor import Tensor
from .transforms import _flatten


class Optimizer:
    """Base class: holds the parameters and per-parameter state; subclasses define ``_update``."""

    def __init__(self, params: Any, lr: float) -> None:
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or lr < 0:
            raise ValueError(f"{type(self).__name__}: lr must be a non-negative number, got {lr!r}")
        if hasattr(params, "named_parameters"):  # a Module
            params = dict(params.named_parameters())
        elif not isinstance(params, (dict, list, tuple)) and isinstance(params, Iterable):
            params = list(params)
        leaves, _ = _flatten(params)
        if not leaves:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for path, p in leaves:
            arr = p.data if isinstance(p, Tensor) else p
            if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
                raise TypeError(
                    f"{type(self).__name__}: parameter {path or '0'} must be a float Tensor or numpy array, "
                    f"got {type(p).__name__}" + (f" of dtype {arr.dtype}" if isinstance(arr, np.ndarray) else "")
                )
            if not arr.flags.writeable:
                raise ValueError(
                    f"{type(self).__name__}: parameter {path or '0'} is read-only; it cannot be updated in place"
                )
        self.tree = params
        self.paths = [path for path, _ in leaves]
        self.params = [p for _, p in leaves]
        self.lr = float(lr)
        self.initial_lr = float(lr)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]
        self.steps = 0

    def zero_grad(self) -> None:
        """Clear ``.grad`` of every Tensor parameter."""
        for p in self.params:
            if isinstance(p, Tensor):
                p.grad = None

    def step(self, grads: Any = None) -> Any:
        """Update every parameter in place.

        ``grads``: None to use each Tensor's ``.grad`` (parameters whose ``.grad`` is None are skipped, as
        in PyTorch; returns None), or gradients with the parameters' structure (Tensors or arrays, e.g.
        from ``tg.value_and_grad``; returns the parameter structure, so ``params = opt.step(grads)`` reads
        naturally).
        """
        name = type(self).__name__
        if grads is None:
            gs = [p.grad if isinstance(p, Tensor) else None for p in self.params]
            if all(g is None for g in gs):
                raise ValueError(f"{name}.step: no parameter has a .grad; call backward() first or pass grads")
        else:
            leaves, _ = _flatten(list(grads) if _is_iterator(grads) else grads)
            if len(leaves) != len(self.params):
                raise ValueError(f"{name}.step: got {len(leaves)} gradients for {len(self.params)} parameters")
            gs = [g for _, g in leaves]
        self.steps += 1
        for i, (p, g) in enumerate(zip(self.params, gs)):
            if g is None:
                continue
            arr = p.data if isinstance(p, Tensor) else p
            garr = g.data if isinstance(g, Tensor) else np.asarray(g)
            if garr.shape != arr.shape:
                raise ValueError(
                    f"{name}.step: gradient for parameter {self.paths[i] or i} has shape {garr.shape}, "
                    f"the parameter {arr.shape}"
                )
            if garr.dtype != arr.dtype:
                raise TypeError(
                    f"{name}.step: gradient for parameter {self.paths[i] or i} is {garr.dtype}, "
                    f"the parameter {arr.dtype}"
                )
            self._update(arr, garr, self.state[i])
        return None if grads is None else self.tree

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        raise NotImplementedError


def _is_iterator(x: Any) -> bool:
    return not isinstance(x, (dict, list, tuple, Tensor, np.ndarray)) and isinstance(x, Iterable)


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    g <- g + wd * p;  b <- mu * b + (1 - dampening) * g  (b = g at the first step);
    g <- g + mu * b (nesterov) or b;  p <- p - lr * g.
    """

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: momentum and weight_decay must be >= 0, got {momentum}, {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        self.momentum, self.dampening = float(momentum), float(dampening)
        self.weight_decay, self.nesterov = float(weight_decay), bool(nesterov)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= self.momentum
                buf += (1.0 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; ``weight_decay`` adds wd * p to the gradient (L2).

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)   (amsgrad: v replaced by its running max).
    """

    decoupled = False

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"{type(self).__name__}: betas must lie in [0, 1), got {betas}")
        if eps < 0 or weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: eps and weight_decay must be >= 0, got {eps}, {weight_decay}")
        self.betas = (float(b1), float(b2))
        self.eps, self.weight_decay, self.amsgrad = float(eps), float(weight_decay), bool(amsgrad)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        b1, b2 = self.betas
        if self.weight_decay:
            if self.decoupled:
                p *= 1.0 - self.lr * self.weight_decay
            else:
                g = g + self.weight_decay * p
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p), scratch=np.empty_like(p))
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(p)
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
        p -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): p <- p (1 - lr wd) before the Adam step."""

    decoupled = True

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


# -------------------------------------------------------------------- learning-rate schedules
class LRScheduler:
    """Sets ``optimizer.lr`` to ``lr_at(epoch)``; call ``step()`` once per epoch (after the optimizer's steps).

    As in PyTorch, constructing the scheduler sets epoch 0's rate, and ``last_epoch`` counts the steps.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.initial_lr
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> list[float]:
        return [self.optimizer.lr]


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        if step_size <= 0:
            raise ValueError(f"StepLR: step_size must be positive, got {step_size}")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2 (SGDR without restarts)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1) -> None:
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max}")
        self.T_max, self.eta_min = int(T_max), float(eta_min)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "LRScheduler", "StepLR", "CosineAnnealingLR"]
