"""Rules for derivatives taken inside differentiated code (``s2sad.jvp(f, ...)``, ``s2sad.grad(f)(x)``):
see s2sad/nested.py. Every one is computed by s2sad when the generated code runs."""
from .. import api
from ..nested import (grad_call, grad_call_args_grad, grad_call_tangent, jvp_primals_grad, jvp_primals_tangent,
                      jvp_tangents_grad, jvp_tangents_tangent)
from .registry import jvp, nondiff, vjp

@vjp(grad_call)
def grad_call_vjp(g, ans, f, wrt, *args): return None, None, grad_call_args_grad(g, f, wrt, args)
@jvp(grad_call)
def grad_call_jvp(g, ans, f, wrt, *args): return None, None, grad_call_tangent(g, f, wrt, args)
@vjp(api.jvp)
def jvp_vjp(g, ans, f, primals, tangents, *, optimize=True):
    return None, jvp_primals_grad(g, f, primals, tangents), jvp_tangents_grad(g, f, primals, tangents)
@jvp(api.jvp)
def jvp_jvp(g, ans, f, primals, tangents, *, optimize=True):
    return None, jvp_primals_tangent(g, f, primals, tangents), jvp_tangents_tangent(g, f, primals, tangents)

nondiff(api.grad, api.value_and_grad, api.hvp, api.jacobian, api.hessian)
