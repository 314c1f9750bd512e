"""s2sad: source-to-source automatic differentiation for Python and NumPy.

    @s2sad.differentiable
    def loss(w, X, y): ...

    s2sad.grad(loss)(w, X, y)        # gradient with respect to w
    s2sad.show_adjoint(loss)         # the generated code
"""
from .version import __version__

from . import rules
from .api import (adjoint_source, differentiable, elementwise_grad, grad, hessian, hvp, jacobian, jvp, show_adjoint,
                  value_and_grad, vjp)
from .errors import (NoRuleError, NonScalarOutputError, S2SadError, SourceUnavailableError, TransformError,
                     UnsupportedSyntaxError, UnsupportedValueError, WrtError, ZeroGradientWarning)
from .implicit import FixedPointError, fixed_point
from .markers import checkpoint, stop_gradient
from .options import OPTIMIZATIONS, optimizations
from .pytrees import flatten, flatten_func
from . import optimizers
from .rules import tables as _tables     # noqa: E402,F401  (registers the rule tables, last: they refer to the API)

__all__ = ["differentiable", "grad", "elementwise_grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "stop_gradient",
           "checkpoint", "fixed_point", "flatten", "flatten_func", "optimizers", "FixedPointError", "show_adjoint", "adjoint_source", "rules", "optimizations",
           "OPTIMIZATIONS", "S2SadError", "SourceUnavailableError", "TransformError", "UnsupportedSyntaxError",
           "NoRuleError", "UnsupportedValueError", "NonScalarOutputError", "WrtError", "ZeroGradientWarning"]
