"""Derivatives taken inside differentiated code: ``s2sad.jvp(f, ...)`` and ``s2sad.grad(f)(x)`` as primitives.

A user function may itself call s2sad (a gradient penalty, a Newton step, a slope). To the
compiler such a call is a primitive whose rules are derivatives of ``f`` one order up, computed
by s2sad when the generated code runs. They never differentiate reverse-mode code: each is the
gradient of a *directional derivative* of ``f`` (pipeline.directional), plain forward-mode code::

    y = grad(f, k)(*args)          vjp: args_bar = grad_args  [ jvp(f)(args; y_bar at k) ]
                                   jvp: y_dot    = grad_k     [ jvp(f)(args; args_dot)  ]
    v, t = jvp(f, primals, tans)   vjp: primals_bar = vjp(f)(v_bar) + grad_primals [ t_bar . jvp(f)(primals; tans) ]
                                        tans_bar    = vjp(f)(t_bar)
                                   jvp: (jvp(f)(primals; primals_dot), jvp(D)(primals, tans; primals_dot, tans_dot))

Code calling these helpers needs s2sad at run time (``s2sad compile`` refuses it).
"""
import numpy as np

from .tree import AdjTuple, add, adjoint_of, is_record

__all__ = ["dynamic_vjp", "grad_call", "grad_call_args_grad", "grad_call_tangent", "jvp_primals_grad", "jvp_tangents_grad",
           "jvp_primals_tangent", "jvp_tangents_tangent"]


def dynamic_vjp(f, wrt, *args, **kwargs):
    """``(f(*args, **kwargs), pullback)`` for a function known only at run time (calls.Dynamic): the pullback
    returns the adjoints of the arguments at ``wrt`` (one bare, several as a tuple), as a linked vjp does."""
    from .api import vjp
    value, pullback = vjp(f, *args, wrt=wrt[0] if len(wrt) == 1 else tuple(wrt), **kwargs)
    if len(wrt) == 1:               # the gradients as adjoints: containers and records added item by item
        return value, lambda g: adjoint_of(pullback(g))
    return value, lambda g: AdjTuple(adjoint_of(a) for a in pullback(g))


def grad_call(f, wrt, *args):
    """``s2sad.grad(f, wrt)(*args)`` as a function of ``args`` (the primitive behind that call)."""
    from .api import grad
    return grad(f, wrt)(*args)


def _floats(args):
    """Positions of the arguments that hold floats (what can be differentiated)."""
    out = []
    for k, a in enumerate(args):
        if isinstance(a, (float, np.floating)) or isinstance(a, np.ndarray) and a.dtype.kind == "f":
            out.append(k)
        elif isinstance(a, (tuple, list, dict)) or is_record(a):
            out.append(k)
    return tuple(out)


def _spread(values, positions, n):
    """A tuple adjoint of ``n`` items: ``values`` at ``positions``, None elsewhere."""
    items = [None] * n
    for k, v in zip(positions, values):
        items[k] = v
    return AdjTuple(items)


def _directional(f, wrt, args):
    from . import api
    return api._directional(f, wrt, args, None)


def grad_call_args_grad(g, f, wrt, args):
    """Adjoints of ``args`` in ``y = grad(f, wrt)(*args)`` given ``y``'s adjoint ``g``."""
    from .api import grad
    if not isinstance(wrt, (int, np.integer)):
        raise NotImplementedError("s2sad.grad(f, wrt=(...))(...) inside differentiated code: use one wrt index")
    positions = _floats(args)
    direction = _directional(f, (wrt,), args)
    grads = grad(direction, wrt=positions)(*args, g)
    return _spread(map(adjoint_of, grads), positions, len(args))           # wrt a tuple: a tuple of gradients


def grad_call_tangent(t, f, wrt, args):
    """Tangent of ``y = grad(f, wrt)(*args)`` given the tangents ``t`` of ``args`` (None: held constant)."""
    from .api import grad
    J = tuple(k for k, d in enumerate(t) if d is not None)
    direction = _directional(f, J, args)
    return grad(direction, wrt=wrt)(*args, *[t[k] for k in J])


def jvp_primals_grad(g, f, primals, tangents):
    """Adjoint of ``primals`` in ``(value, tangent) = s2sad.jvp(f, primals, tangents)``, given ``g``."""
    from .api import grad, vjp
    g_value, g_tangent = (None, None) if g is None else tuple(g)
    positions = _floats(primals)
    total = [None] * len(primals)
    if g_value is not None and positions:
        _, pullback = vjp(f, *primals, wrt=positions)
        for k, v in zip(positions, pullback(g_value)):
            total[k] = adjoint_of(v)                # a container's or a record's gradient, as an adjoint
    J = tuple(k for k, d in enumerate(tangents) if d is not None)
    if g_tangent is not None and positions and J:
        direction = _directional(f, J, primals)
        _, pullback = vjp(direction, *primals, *[tangents[k] for k in J], wrt=positions)
        for k, v in zip(positions, pullback(g_tangent)):
            total[k] = add(total[k], adjoint_of(v))     # (containers' and records' gradients add item by item)
    return AdjTuple(total)


def jvp_tangents_grad(g, f, primals, tangents):
    """Adjoint of ``tangents`` in ``(value, tangent) = s2sad.jvp(f, primals, tangents)``, given ``g``."""
    from .api import vjp
    g_tangent = None if g is None else tuple(g)[1]
    J = tuple(k for k, d in enumerate(tangents) if d is not None)
    if g_tangent is None or not J:
        return AdjTuple([None] * len(tangents))
    _, pullback = vjp(f, *primals, wrt=J)
    return _spread(map(adjoint_of, pullback(g_tangent)), J, len(tangents))


def jvp_primals_tangent(dp, f, primals, tangents):
    """Tangent of ``(value, tangent) = s2sad.jvp(f, primals, tangents)`` along the tangents ``dp`` of the
    primals (a tuple, None where held constant): ``(jvp(f)(primals; dp), jvp(D)(primals, tangents; dp, 0))``."""
    from .api import jvp
    dp = tuple(dp)
    if all(d is None for d in dp):
        return AdjTuple([None, None])
    d_value = jvp(f, primals, dp)[1]
    J = tuple(k for k, d in enumerate(tangents) if d is not None)
    if not J:
        return AdjTuple([d_value, None])
    direction = _directional(f, J, primals)
    inner = tuple(primals) + tuple(tangents[k] for k in J)
    d_tangent = jvp(direction, inner, dp + (None,) * len(J))[1]
    return AdjTuple([d_value, d_tangent])


def jvp_tangents_tangent(dt, f, primals, tangents):
    """Tangent of ``(value, tangent) = s2sad.jvp(f, primals, tangents)`` along the tangents ``dt`` of the
    tangents: the value does not move, the tangent moves by ``jvp(f)(primals; dt)`` (it is linear in them)."""
    from .api import jvp
    dt = tuple(dt)
    if all(d is None for d in dt):
        return AdjTuple([None, None])
    return AdjTuple([None, jvp(f, primals, dt)[1]])
