"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: each sets every param group's ``lr`` once per
``step()``, scaled from that group's own initial rate."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizers import Optimizer, check_hyperparameter, check_positive_int


class LRScheduler:
    """Sets each param group's ``lr`` to ``lr_at(epoch, base_lr)``, from that group's own initial rate; call
    ``step()`` once per epoch (after the optimizer's steps).

    As in PyTorch, constructing the scheduler records each group's ``initial_lr`` (if no schedule has yet)
    and sets epoch 0's rates, ``base_lrs`` holds the groups' initial rates and ``last_epoch`` counts the
    steps. (PyTorch refuses ``last_epoch >= 0`` for groups without ``initial_lr``; here their current rate is
    taken.) The rates follow the closed forms below, so a rate set by hand is replaced at the next step.
    ``state_dict()``/``load_state_dict()`` save and restore the schedule (not the optimizer: save both).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        who = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{who}: expected an Optimizer, got {type(optimizer).__name__}")
        if not isinstance(last_epoch, (int, np.integer)) or isinstance(last_epoch, (bool, np.bool_)) or last_epoch < -1:
            raise ValueError(f"{who}: last_epoch must be an integer >= -1, got {last_epoch!r}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self._last_lr: list[float] = [group["lr"] for group in optimizer.param_groups]
        self.step()

    @property
    def base_lr(self) -> float:
        """The first group's initial rate."""
        return self.base_lrs[0]

    def lr_at(self, epoch: int, base_lr: float | None = None) -> float:
        """The rate at ``epoch`` for a group whose initial rate is ``base_lr`` (default: the first group's)."""
        raise NotImplementedError

    def step(self) -> None:
        epoch = self.last_epoch + 1
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise ValueError(f"{type(self).__name__}: the optimizer has {len(groups)} param groups, the schedule "
                             f"{len(self.base_lrs)}")
        lrs = []
        for base in self.base_lrs:
            try:
                lr = self.lr_at(epoch, base)
            except OverflowError:
                lr = math.inf
            try:  # every rate checked before any is set: the optimizer keeps its rates and the schedule its epoch
                lrs.append(check_hyperparameter(type(self.optimizer).__name__, "lr", lr))
            except ValueError as e:
                raise ValueError(f"{type(self).__name__}: the rate for epoch {epoch} is invalid: {e}") from None
        for group, lr in zip(groups, lrs):
            group["lr"] = lr
        self._last_lr = lrs
        self.last_epoch = epoch

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` set, one per param group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer, as PyTorch's: ``{"base_lrs", "last_epoch", "_last_lr", and the
        schedule's arguments}``."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` (the keys must be this schedule's), and set the optimizer's rates to
        the ones this schedule last set, so that a schedule made anew and loaded continues where it was
        (making it set epoch 0's rates)."""
        who = f"{type(self).__name__}.load_state_dict"
        own = {k for k in self.__dict__ if k != "optimizer"}
        unknown = [k for k in state_dict if k not in own]
        if unknown:
            raise ValueError(f"{who}: unknown keys {unknown}")
        last = state_dict.get("last_epoch", self.last_epoch)
        if not isinstance(last, (int, np.integer)) or isinstance(last, (bool, np.bool_)) or last < -1:
            raise ValueError(f"{who}: last_epoch must be an integer >= -1, got {last!r}")
        for key in ("base_lrs", "_last_lr"):
            if key in state_dict and len(state_dict[key]) != len(self.optimizer.param_groups):
                raise ValueError(f"{who}: {key} has {len(state_dict[key])} rates, the optimizer "
                                 f"{len(self.optimizer.param_groups)} param groups")
        self.__dict__.update({k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in state_dict.items()})
        for group, lr in zip(self.optimizer.param_groups, getattr(self, "_last_lr", [])):
            group["lr"] = lr


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = check_positive_int("StepLR", "step_size", step_size)
        self.gamma = check_hyperparameter("StepLR", "gamma", gamma, 0.0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int, base_lr: float | None = None) -> float:
        base = self.base_lrs[0] if base_lr is None else base_lr
        return base * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2 (SGDR without restarts)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1) -> None:
        self.T_max = check_positive_int("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = check_hyperparameter("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int, base_lr: float | None = None) -> float:
        base = self.base_lrs[0] if base_lr is None else base_lr
        return self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


__all__ = ["LRScheduler", "StepLR", "CosineAnnealingLR"]
