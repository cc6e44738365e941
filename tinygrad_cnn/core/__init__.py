"""The engine: the Tensor and the backward walk, the engine state, the op registry, function transforms,
parameter trees and finite-difference checks. Nothing here imports from outside ``core``."""

from .gradcheck import GradcheckError, gradcheck, gradgradcheck, jacobian_error, vjp_function
from .registry import REGISTRY, Op, Sample, as_tensor, is_int, op_table, register_op, tensor_method
from .tensor import (EngineState, Tensor, detect_anomaly, enable_grad, engine_state, gradients, is_anomaly_enabled,
                     is_grad_enabled, no_grad, scope)
from .transforms import grad, value_and_grad
from .tree import tree_flatten

__all__ = [
    "Tensor", "gradients", "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled",
    "scope", "EngineState", "engine_state", "REGISTRY", "Op", "Sample", "register_op", "tensor_method", "as_tensor",
    "is_int", "op_table", "grad", "value_and_grad", "tree_flatten", "gradcheck", "gradgradcheck", "GradcheckError",
    "jacobian_error", "vjp_function",
]
