"""Rules for ``scipy.integrate.odeint`` and ``scipy.integrate.solve_ivp``: the adjoint method (s2sad/integrate.py).

Registered only if the user imports scipy.integrate, as for scipy.special (rules/scipy_special.py): ``import
s2sad`` never imports scipy. The reverse rules integrate the adjoint ODE backwards (no unrolled solver steps);
the forward rules integrate the tangent ODE with the state. What is supported, and what is refused, is listed in
s2sad/integrate.py.
"""

from .. import integrate
from ..integrate import (check_ivp, ivp_one, ivp_part, ivp_tangent, max_step_of, no_second_order_in_time,
                         odeint_grads, odeint_tangent,
                         odeint_time_tangent, refuse_full_output, solve_ivp_grads, solve_ivp_state_tangent,
                         solve_ivp_time_tangent, tangent_items, tangent_items_grad)
from .lazy import when_imported
from ..runtime import underived
from .registry import jvp, nondiff, vjp

MODULE = "scipy.integrate"


def register(module):
    """Register the rules for ``odeint`` and ``solve_ivp`` of ``module`` (``scipy.integrate``)."""
    integrate.solvers = module

    # --- odeint(func, y0, t, args=(), ..., rtol, atol, ..., tfirst): adjoints of y0, t, args ---
    @vjp(module.odeint)
    def odeint_vjp(g, ans, func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None, rtol=None,
                   atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0, mxhnil=0, mxordn=12,
                   mxords=5, printmessg=0, tfirst=False):
        grads = odeint_grads(g, ans, func, y0, t, args, rtol, atol, full_output, tfirst, mxstep, hmax)
        return underived("the function it is given"), grads[0], grads[1], grads[2]
    @jvp(module.odeint)
    def odeint_jvp(g, ans, func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None, rtol=None,
                   atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0, mxhnil=0, mxordn=12,
                   mxords=5, printmessg=0, tfirst=False):
        return (underived("the function it is given"),
                odeint_tangent(func, y0, t, args, g, None, rtol, atol, full_output, tfirst, mxstep, hmax),
                odeint_time_tangent(ans, func, y0, t, args, g, rtol, atol, full_output, tfirst, mxstep, hmax),
                odeint_tangent(func, y0, t, args, None, g, rtol, atol, full_output, tfirst, mxstep, hmax))

    # --- solve_ivp(fun, t_span, y0, method, t_eval, ...): adjoints of t_span, y0, t_eval, args through sol.y ---
    @vjp(module.solve_ivp)
    def solve_ivp_vjp(g, ans, fun, t_span, y0, method="RK45", t_eval=None, dense_output=False, events=None,
                      vectorized=False, args=None, *, rtol=1e-3, atol=1e-6, max_step=None, first_step=None, jac=None):
        grads = solve_ivp_grads(g, ans, fun, t_span, y0, method, t_eval, events, vectorized, args, rtol, atol, max_step)
        return underived("the function it is given"), grads[0], grads[1], None, grads[2], None, None, None, grads[3]
    @jvp(module.solve_ivp)
    def solve_ivp_jvp(g, ans, fun, t_span, y0, method="RK45", t_eval=None, dense_output=False, events=None,
                      vectorized=False, args=None, *, rtol=1e-3, atol=1e-6, max_step=None, first_step=None, jac=None):
        return (underived("the function it is given"),
                solve_ivp_time_tangent(ans, fun, t_span, y0, method, t_eval, events, vectorized, args, g, None, rtol,
                                       atol, max_step),
                ivp_tangent(solve_ivp_state_tangent(fun, t_span, y0, method, t_eval, events, vectorized, args, g,
                                                    None, rtol, atol, max_step), None, ans),
                None,
                solve_ivp_time_tangent(ans, fun, t_span, y0, method, t_eval, events, vectorized, args, None, g, rtol,
                                       atol, max_step),
                None, None, None,
                ivp_tangent(solve_ivp_state_tangent(fun, t_span, y0, method, t_eval, events, vectorized, args,
                                                    None, g, rtol, atol, max_step), None, ans))


# --- the helpers the forward rules' code calls (for second derivatives, which s2sad takes reverse over forward) ---
@vjp(tangent_items)
def tangent_items_vjp(g, ans, args, args_dot): return None, tangent_items_grad(g, args)
@jvp(tangent_items)
def tangent_items_jvp(g, ans, args, args_dot): return None, tangent_items(args, g)
@vjp(tangent_items_grad)
def tangent_items_grad_vjp(h, ans, g, args): return tangent_items(args, h), None
@jvp(tangent_items_grad)
def tangent_items_grad_jvp(h, ans, g, args): return tangent_items_grad(h, args), None
@vjp(ivp_tangent)
def ivp_tangent_vjp(g, ans, y_dot, t_dot, sol=None): return ivp_part(g, "y"), ivp_part(g, "t"), None
@jvp(ivp_tangent)
def ivp_tangent_jvp(g, ans, y_dot, t_dot, sol=None): return ivp_tangent(g, None), ivp_tangent(None, g), None
@vjp(ivp_part)
def ivp_part_vjp(h, ans, g, key): return ivp_one(h, key), None
@jvp(ivp_part)
def ivp_part_jvp(h, ans, g, key): return ivp_part(h, key), None
nondiff(refuse_full_output, check_ivp, max_step_of)

# --- second derivatives with respect to the times: refused when the backward sweep reaches them ---
@vjp(odeint_time_tangent)
def odeint_time_tangent_vjp(g, ans, ys, func, y0, t, args, t_dot, *rest):
    return (no_second_order_in_time(g), None, no_second_order_in_time(g), no_second_order_in_time(g),
            no_second_order_in_time(g), no_second_order_in_time(g))
@jvp(odeint_time_tangent)
def odeint_time_tangent_jvp(g, ans, ys, func, y0, t, args, t_dot, *rest):
    return (no_second_order_in_time(g), None, no_second_order_in_time(g), no_second_order_in_time(g),
            no_second_order_in_time(g), no_second_order_in_time(g))
@vjp(solve_ivp_time_tangent)
def solve_ivp_time_tangent_vjp(g, ans, sol, fun, t_span, y0, method="RK45", t_eval=None, events=None,
                               vectorized=False, args=None, t_span_dot=None, t_eval_dot=None, *rest):
    return (no_second_order_in_time(g), None, no_second_order_in_time(g), no_second_order_in_time(g), None,
            no_second_order_in_time(g), None, None, no_second_order_in_time(g), no_second_order_in_time(g),
            no_second_order_in_time(g))
@jvp(solve_ivp_time_tangent)
def solve_ivp_time_tangent_jvp(g, ans, sol, fun, t_span, y0, method="RK45", t_eval=None, events=None,
                               vectorized=False, args=None, t_span_dot=None, t_eval_dot=None, *rest):
    return (no_second_order_in_time(g), None, no_second_order_in_time(g), no_second_order_in_time(g), None,
            no_second_order_in_time(g), None, None, no_second_order_in_time(g), no_second_order_in_time(g),
            no_second_order_in_time(g))


_FINDER = when_imported(MODULE, register)
