"""Derivative rules: the registry, and s2sad's tables of rules by section.

Where is the rule for ``np.tanh``? In ``numpy.py``, section "unary elementwise".
Users register rules for their own primitives with the same decorators::

    from s2sad import rules

    @rules.vjp(my_function)
    def my_function_vjp(g, ans, x): return g * 2 * x

    @rules.jvp(my_function)
    def my_function_jvp(g, ans, x): return g * 2 * x

Where are the rules for s2sad's own runtime helpers (for derivatives of derivatives)? In ``helpers.py``.
"""
from .registry import attribute, elementwise, is_nondiff, jvp, jvp_rule, method, nondiff, vjp, vjp_rule  # noqa: F401
from . import python, numpy, linalg, containers, helpers, implicit  # noqa: E402,F401  (registers the tables)
from . import scipy_special  # noqa: E402,F401  (registers when scipy.special is imported; never imports it)
