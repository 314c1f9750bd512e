"""Fixed points, differentiated through the implicit function theorem.

``x = fixed_point(f, a, x0)`` iterates ``x = f(a, x)`` to convergence. Its derivative
does not unroll the iterations: at the solution ``x* = f(a, x*)``, so
``dx* = (I - ∂f/∂x)⁻¹ ∂f/∂a da``. The backward sweep iterates the adjoint fixed point
``w = g + (∂f/∂x)ᵀ w`` and returns ``(∂f/∂a)ᵀ w``; forward mode iterates the tangent
``t = ∂f/∂a ȧ + ∂f/∂x t``. Both converge when the forward iteration does (``f`` is a
contraction in ``x`` near ``x*``). Rules: rules/implicit.py.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

import numpy as np

from .calls import SOURCE_MARK
from .errors import S2SadError


A = TypeVar("A")
X = TypeVar("X")


class FixedPointError(S2SadError):
    """The iteration did not converge within ``max_iter`` steps."""


def _distance(new, old):
    new, old = np.asarray(new, dtype=float), np.asarray(old, dtype=float)
    return float(np.max(np.abs(new - old), initial=0.0)), float(np.max(np.abs(new), initial=0.0))


def _precision(x):
    """The smallest relative change worth asking of values like ``x``: a few units of their float precision
    (float32: about 1e-6, where an iteration stalls short of a float64 ``tol``; float64: far below any ``tol``)."""
    dtype = np.asarray(x).dtype
    return 8.0 * float(np.finfo(dtype).eps) if dtype.kind == "f" else 0.0


def _iterate(step, x, tol, max_iter, what):
    for _ in range(max_iter):
        new = step(x.copy() if isinstance(x, np.ndarray) else x)      # (a step changing its x in place and
        change, size = _distance(new, x)                                  # returning it: compared with the old x)
        x = new
        if change <= max(tol, _precision(new)) * (1.0 + size):
            return x
    raise FixedPointError(f"fixed_point: the {what} did not converge in {max_iter} iterations "
                          f"(last change {change:.3g}); is f a contraction in x?")


def fixed_point(f: Callable[[A, X], X], a: A, x0: X, tol: float = 1e-10, max_iter: int = 1000) -> X:
    """The ``x`` with ``x == f(a, x)``, found by iterating ``x = f(a, x)`` from ``x0``.

    Differentiated code that calls it gets the derivative from the implicit function theorem: the
    backward sweep iterates the adjoint fixed point ``w = g + (∂f/∂x)ᵀ w`` and returns ``(∂f/∂a)ᵀ w``
    (forward mode iterates the tangent), instead of unrolling the forward iterations. Both converge when
    the forward iteration does (``f`` a contraction in ``x`` near the solution).

    Args:
        f: A user function ``f(a, x)`` (its source is read to differentiate it).
        a: Its parameters, differentiable: a number, an array or a container of them.
        x0: The starting point (a number or an array).
        tol: Stop when the largest change is at most ``tol * (1 + max|x|)`` (``tol`` at least eight units of
            the values' precision: about 1e-6 for float32).
        max_iter: The most iterations.

    Returns:
        The fixed point, like ``x0``.

    Raises:
        FixedPointError: the iteration did not converge in ``max_iter`` steps.

    Examples:
        >>> import math
        >>> import s2sad
        >>> def step(a, x):                # x = a cos(x)
        ...     return a * math.cos(x)
        >>> def solution(a):
        ...     return s2sad.fixed_point(step, a, 0.0)
        >>> x = solution(0.5)
        >>> abs(x - 0.5 * math.cos(x)) < 1e-9
        True
        >>> exact = math.cos(x) / (1 + 0.5 * math.sin(x))    # implicit differentiation by hand
        >>> abs(s2sad.grad(solution)(0.5) - exact) < 1e-9
        True
    """
    return _iterate(lambda x: f(a, x), x0, tol, max_iter, "iteration")


def fixed_point_adjoint(g, x, f, a, tol=1e-10, max_iter=1000):
    """Adjoint of ``a`` in ``x = fixed_point(f, a, x0)`` given the adjoint ``g`` of ``x``."""
    from .api import vjp
    _differentiable_point(x)
    _, pullback = vjp(f, a, x, wrt=(0, 1))
    w = _iterate(lambda w: g + pullback(w)[1], g, tol, max_iter, "adjoint iteration")
    return pullback(w)[0]


def fixed_point_tangent(g, x, f, a, tol=1e-10, max_iter=1000):
    """Tangent of ``x = fixed_point(f, a, x0)`` given the tangent ``g`` of ``a``: itself a fixed point,
    ``t = ∂f/∂a g + ∂f/∂x t``. Written as one (calls.SOURCE_MARK), it is differentiated from this source by
    fixed_point's own rules, so derivatives of any order go through the implicit function theorem."""
    _differentiable_point(x)
    return fixed_point(tangent_step(f), (g, x, a), 0.0 * x, tol, max_iter)


def _differentiable_point(x):
    """The fixed point is differentiated as a number or an array (a tuple of them is refused: it would be added
    and scaled as a sequence)."""
    if not isinstance(x, (float, int, np.ndarray, np.generic)):
        from .errors import UnsupportedValueError
        raise UnsupportedValueError(f"s2sad: fixed_point's solution is a {type(x).__name__}; it is differentiated "
                                    f"as a number or an array (start from np.array([...]) and unpack the result)")


_STEPS = {}        # id(f) -> (f, step): one step function per f, so that its generated code is reused


def tangent_step(f):
    """``step(p, t)`` with ``p = (g, x, a)``: the tangent of ``f`` at ``(a, x)`` along ``(g, t)``, the map whose
    fixed point is ``fixed_point_tangent``."""
    entry = _STEPS.get(id(f))
    if entry is not None and entry[0] is f:
        return entry[1]
    from .api import jvp

    def step(p, t):
        g, x, a = p
        return jvp(f, (a, x), (g, t))[1]
    setattr(step, SOURCE_MARK, True)
    if len(_STEPS) > 4096:                       # functions made in a loop: do not keep them all alive
        _STEPS.clear()
    _STEPS[id(f)] = (f, step)
    return step


setattr(fixed_point_tangent, SOURCE_MARK, True)
