"""Modules (``nn.Module``, layers, containers) and weight initialisation (``nn.init``), as ``torch.nn``."""

from . import init
from .modules import *  # noqa: F403  (the modules' __all__)
from .modules import __all__ as _modules_all

__all__ = [*_modules_all, "init"]
