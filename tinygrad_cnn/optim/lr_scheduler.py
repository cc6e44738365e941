"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: each sets ``optimizer.lr`` once per ``step()``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizers import Optimizer, check_hyperparameter, check_positive_int


class LRScheduler:
    """Sets ``optimizer.lr`` to ``lr_at(epoch)``; call ``step()`` once per epoch (after the optimizer's steps).

    As in PyTorch, constructing the scheduler sets epoch 0's rate, and ``last_epoch`` counts the steps.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        who = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{who}: expected an Optimizer, got {type(optimizer).__name__}")
        if not isinstance(last_epoch, (int, np.integer)) or isinstance(last_epoch, (bool, np.bool_)) or last_epoch < -1:
            raise ValueError(f"{who}: last_epoch must be an integer >= -1, got {last_epoch!r}")
        self.optimizer = optimizer
        self.base_lr = optimizer.initial_lr
        self.last_epoch = int(last_epoch)
        self.step()

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        epoch = self.last_epoch + 1
        try:
            lr = self.lr_at(epoch)
        except OverflowError:
            lr = math.inf
        try:
            self.optimizer.lr = lr
        except ValueError as e:  # the optimizer keeps its rate and the schedule its epoch
            raise ValueError(f"{type(self).__name__}: the rate for epoch {epoch} is invalid: {e}") from None
        self.last_epoch = epoch

    def get_last_lr(self) -> list[float]:
        return [self.optimizer.lr]


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = check_positive_int("StepLR", "step_size", step_size)
        self.gamma = check_hyperparameter("StepLR", "gamma", gamma, 0.0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2 (SGDR without restarts)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1) -> None:
        self.T_max = check_positive_int("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = check_hyperparameter("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


__all__ = ["LRScheduler", "StepLR", "CosineAnnealingLR"]
