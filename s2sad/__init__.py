"""s2sad: source-to-source automatic differentiation for Python and NumPy.

    @s2sad.differentiable
    def loss(w, X, y): ...

    s2sad.grad(loss)(w, X, y)        # gradient with respect to w
    s2sad.show_adjoint(loss)         # the generated code
"""
__version__ = "0.1.0"

from . import rules  # noqa: E402  (registers the rule tables)
from .implicit import FixedPointError, fixed_point  # noqa: E402
from .api import (adjoint_source, checkpoint, differentiable, grad, hessian, hvp, jacobian, jvp, show_adjoint,  # noqa: E402
                  stop_gradient, value_and_grad, vjp)  # noqa: E402
from .errors import (NoRuleError, NonScalarOutputError, S2SadError, SourceUnavailableError,  # noqa: E402
                     TransformError, UnsupportedSyntaxError, WrtError, ZeroGradientWarning)

__all__ = ["differentiable", "grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "stop_gradient", "checkpoint", "fixed_point", "FixedPointError", "show_adjoint", "adjoint_source", "rules",
           "S2SadError", "SourceUnavailableError", "TransformError", "UnsupportedSyntaxError", "NoRuleError",
           "NonScalarOutputError", "WrtError", "ZeroGradientWarning"]
