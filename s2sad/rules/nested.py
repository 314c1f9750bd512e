"""Rules for derivatives taken inside differentiated code (``s2sad.jvp(f, ...)``, ``s2sad.grad(f)(x)``):
see s2sad/nested.py. Every one is computed by s2sad when the generated code runs. The forward rules emit
``grad_call`` and ``s2sad.jvp`` again (on ``along_all``'s plain function), so derivatives of any order have rules."""
from .. import api
from ..api import jvp as s2sad_jvp
from ..nested import (along_all, dynamic_jvp, float_directions, float_directions_grad, grad_call, grad_call_args_grad,
                      grad_index, jvp_primals_grad, jvp_tangents_grad, no_directions)
from ..runtime import underived, zeros_like
from .registry import jvp, nondiff, vjp

@vjp(grad_call)
def grad_call_vjp(g, ans, f, wrt, *args): return underived("the function it is given"), None, grad_call_args_grad(g, f, wrt, args)
@jvp(grad_call)
def grad_call_jvp(g, ans, f, wrt, *args):
    return underived("the function it is given"), None, grad_call(along_all(f, g, args), grad_index(f, wrt), *args, *g)
@vjp(api.jvp, dynamic_jvp)                         # (dynamic_jvp: api.jvp after a check, in generated code)
def jvp_vjp(g, ans, f, primals, tangents, *, optimize=True):
    return underived("the function it is given"), jvp_primals_grad(g, f, primals, tangents), jvp_tangents_grad(g, f, primals, tangents)
@jvp(api.jvp, dynamic_jvp)
def jvp_jvp(g, ans, f, primals, tangents, *, optimize=True):
    return (underived("the function it is given"), (s2sad_jvp(f, primals, float_directions(g, primals))[1],
                   s2sad_jvp(along_all(f, tangents, primals), primals + tangents,
                             float_directions(g, primals) + no_directions(tangents))[1]),
            (zeros_like(ans[0]), s2sad_jvp(f, primals, float_directions(g, tangents))[1]))   # (the tangent is linear
#                                                                    in them, the value does not depend on them)

# --- float_directions: a selection of items, linear -----------------------------------------------------------
@vjp(float_directions)
def float_directions_vjp(g, ans, d, args): return float_directions_grad(g, args), None
@jvp(float_directions)
def float_directions_jvp(g, ans, d, args): return float_directions(g, args), None

nondiff(api.grad, api.value_and_grad, api.hvp, api.jacobian, api.hessian, along_all, no_directions, grad_index)
