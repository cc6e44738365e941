"""The registered primitives, grouped by kind. Importing this package fills the registry."""

from . import elementwise, matmul, movement, reduction  # noqa: F401  (registration happens on import)
from . import common, conv, conv_algorithms, normalization, planner, pool  # noqa: F401,E402

__all__ = ["elementwise", "matmul", "movement", "reduction", "common", "conv", "conv_algorithms", "normalization", "planner", "pool"]
