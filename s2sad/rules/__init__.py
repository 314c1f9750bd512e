"""Derivative rules: the registry, and s2sad's tables of rules by section.

Where is the rule for ``np.tanh``? In ``numpy.py``, section "unary elementwise".
Users register rules for their own primitives with the same decorators::

    from s2sad import rules

    @rules.vjp(my_function)
    def my_function_vjp(g, ans, x): return g * 2 * x

    @rules.jvp(my_function)
    def my_function_jvp(g, ans, x): return g * 2 * x

Where are the rules for s2sad's own runtime helpers (for derivatives of derivatives)? In ``helpers.py``.
The tables are registered by ``tables.py``, which ``s2sad/__init__.py`` imports last: importing
this package (the registry) runs none of them.
"""
from .registry import attribute, elementwise, is_nondiff, jvp, jvp_rule, method, nondiff, vjp, vjp_rule  # noqa: F401
