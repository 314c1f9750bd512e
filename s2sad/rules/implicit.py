"""Rules for ``s2sad.fixed_point`` (the implicit function theorem; see s2sad/implicit.py). The forward rule's
``fixed_point_tangent`` is a fixed point itself, differentiated from its source: every order has rules."""
from ..implicit import fixed_point, fixed_point_adjoint, fixed_point_tangent, tangent_step
from ..runtime import underived
from .registry import jvp, nondiff, vjp

@vjp(fixed_point)
def fixed_point_vjp(g, ans, f, a, x0, tol=1e-10, max_iter=1000):
    return underived("the function it is given"), fixed_point_adjoint(g, ans, f, a, tol, max_iter), None
@jvp(fixed_point)
def fixed_point_jvp(g, ans, f, a, x0, tol=1e-10, max_iter=1000):
    return underived("the function it is given"), fixed_point_tangent(g, ans, f, a, tol, max_iter), None

nondiff(tangent_step)
