"""Optimizers (SGD, Adam, AdamW) and learning-rate schedules (``optim.lr_scheduler``), as ``torch.optim``."""

from . import lr_scheduler
from .lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR
from .optimizers import SGD, Adam, AdamW, Optimizer

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler", "LRScheduler", "StepLR", "CosineAnnealingLR"]
