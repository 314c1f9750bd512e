"""Derivatives taken inside differentiated code: ``s2sad.jvp(f, ...)`` and ``s2sad.grad(f)(x)`` as primitives.

A user function may itself call s2sad (a gradient penalty, a Newton step, a slope). To the
compiler such a call is a primitive whose rules are derivatives of ``f`` one order up, computed
by s2sad when the generated code runs. They never differentiate reverse-mode code: each is the
gradient or tangent of ``A = along_all(f, tangents, args)``, plain forward-mode code with
``A(*args, *tangents) == jvp(f, args, tangents)[1]`` (pipeline.directional)::

    y = grad(f, k)(*args)          vjp: args_bar = grad_args  [ jvp(f)(args; y_bar at k) ]
                                   jvp: y_dot    = grad_call(A, k, *args, *args_dot)
    v, t = jvp(f, primals, tans)   vjp: primals_bar = vjp(f)(v_bar) + grad_primals [ t_bar . jvp(f)(primals; tans) ]
                                        tans_bar    = vjp(f)(t_bar)
                                   jvp: v_dot = jvp(f, primals, primals_dot)[1]
                                        t_dot = jvp(A, primals + tans, primals_dot + None)[1] + jvp(f, primals, tans_dot)[1]

The forward rules emit ``grad_call`` and ``s2sad.jvp`` again, on ``A``, so every order has rules.
Code calling these helpers needs s2sad at run time (``s2sad compile`` refuses it).
"""
import numpy as np

from .tree import AdjTuple, add, adjoint_of, is_record

__all__ = ["along_all", "dynamic_vjp", "float_directions", "float_directions_grad", "grad_call", "grad_call_args_grad",
           "grad_index", "jvp_primals_grad", "jvp_tangents_grad", "no_directions"]


def unchanged_arguments(f, args):
    """A function known only at run time (a method, a layer's ``__call__``) that changes an array or a list it is
    given in place (``x += b``) is refused: the caller's value changes too in Python, and the caller may read it
    again, which s2sad cannot tell here (a function called by name is checked where it is called, as then)."""
    from . import calls, targets
    try:
        target = targets.resolve(f, args)
        changed = calls.changed_arguments(target.fn)
        params = calls.signature_of(target.fn)[1] if changed else ()
    except Exception:                              # noqa: BLE001 -- not a function s2sad reads (one s2sad made:
        return                                     # its arguments are left as they are), or its own error later
    for k in sorted(changed):
        value = target.args[k] if k < len(target.args) else None
        if isinstance(value, (np.ndarray, list, dict)):
            from .errors import UnsupportedSyntaxError
            raise UnsupportedSyntaxError(
                f"`{getattr(target.fn, '__qualname__', 'the function')}` changes its argument `{params[k]}` in place "
                f"(the caller's value changes too), which cannot be differentiated where it is called as a value "
                f"(a method, a layer)", hint=f"make it build a new value (`{params[k]} = {params[k]} + ...`)")


def dynamic_vjp(f, wrt, *args, **kwargs):
    """``(f(*args, **kwargs), pullback)`` for a function known only at run time (calls.Dynamic): the pullback
    returns the adjoints of the arguments at ``wrt`` (one bare, several as a tuple), as a linked vjp does."""
    from .api import vjp
    unchanged_arguments(f, args)
    value, pullback = vjp(f, *args, wrt=wrt[0] if len(wrt) == 1 else tuple(wrt), **kwargs)
    if len(wrt) == 1:               # the gradients as adjoints: containers and records added item by item
        return value, lambda g: adjoint_of(pullback(g))
    return value, lambda g: AdjTuple(adjoint_of(a) for a in pullback(g))


def dynamic_jvp(f, primals, tangents):
    """``s2sad.jvp(f, primals, tangents)`` for a function known only at run time (``unchanged_arguments`` first)."""
    from .api import jvp
    unchanged_arguments(f, primals)
    return jvp(f, primals, tangents)


def grad_index(f, wrt):
    """The position ``s2sad.grad(f, wrt)`` differentiates: ``wrt`` an index, a parameter's name, or None for
    ``f``'s own default (``@s2sad.differentiable(wrt=...)``, else 0); one argument only."""
    from .markers import wrt_indices
    positions, many = wrt_indices(f, wrt)
    if many or len(positions) != 1:
        from .errors import UnsupportedValueError
        raise UnsupportedValueError(f"s2sad.grad({getattr(f, '__name__', 'f')}, wrt={wrt!r})(...) inside "
                                    "differentiated code: a nested gradient with respect to several arguments is "
                                    "not supported (one s2sad.grad call per argument: `wrt=0`, then `wrt=1`)")
    return positions[0]


def grad_call(f, wrt, *args):
    """``s2sad.grad(f, wrt)(*args)`` as a function of ``args`` (the primitive behind that call)."""
    from .api import grad
    return grad(f, grad_index(f, wrt))(*args)


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
    if api._derivative(f) is not None:
        from .errors import UnsupportedValueError
        raise UnsupportedValueError("the derivative of a gradient of a function s2sad made (s2sad.grad(g) inside "
                                    "differentiated code, g = s2sad.grad(h)) is not supported: a gradient of a "
                                    "gradient taken inside the function is differentiated once")
    return api._directional(f, wrt, args, None)


_ALONG = {}         # (id(direction), number of arguments, J) -> (direction, A): one A per directional derivative


def along_all(f, tangents, args):
    """``A`` with ``A(*args, *tangents) == jvp(f, args, tangents)[1]``: plain generated code taking every argument
    and a tangent for each (None ones, and those of arguments that hold no floats, ignored), so that
    ``grad_call(A, k, *args, *tangents)`` and ``jvp(A, args + tangents, ...)`` need no picking of items."""
    n = len(args)
    J = tuple(k for k in _floats(args) if tangents[k] is not None)
    direction = _directional(f, J, args) if J else None
    key = (id(direction), n, J)
    entry = _ALONG.get(key)
    if entry is not None and entry[0] is direction:
        return entry[1]
    import builtins
    from .back import emit
    from .front import source
    names = [f"a{k}" for k in range(n)] + [f"d{k}" for k in range(n)]
    used = ", ".join([f"a{k}" for k in range(n)] + [f"d{k}" for k in J])
    name = f"{getattr(f, '__name__', 'f') if getattr(f, '__name__', 'f').isidentifier() else 'f'}_along_all"
    text = f"def {name}({', '.join(names)}):\n    return {f'_along({used})' if J else '0.0'}\n"
    fn, _ = emit.compile_function(text, name, {"__builtins__": builtins}, {}, {"_along": direction},
                                  f"tangent of {getattr(f, '__qualname__', name)} along every argument")
    source.register_generated(fn.__code__, text, f"<s2sad {name}>")
    if len(_ALONG) > 4096:                       # functions made in a loop: do not keep them all alive
        _ALONG.clear()
    _ALONG[key] = (direction, fn)
    return fn


def float_directions(d, args):
    """The tangents ``d`` of ``args`` with None where they move nothing: where ``d`` or ``args`` holds no floats
    (a constant's 0.0 beside an int), so that ``jvp(f, args, float_directions(d, args))`` is accepted."""
    if d is None:
        return (None,) * len(args)
    keep = _floats(args)
    return tuple(v if k in keep else None for k, v in enumerate(d))


def float_directions_grad(g, args):
    """Adjoint of ``d`` in ``float_directions(d, args)`` (the same items kept), as an adjoint."""
    return AdjTuple(float_directions(g, args))


def no_directions(args):
    """A tangent for every item of ``args``: None (held constant)."""
    return (None,) * len(args)


def grad_call_args_grad(g, f, wrt, args):
    """Adjoints of ``args`` in ``y = grad(f, wrt)(*args)`` given ``y``'s adjoint ``g``."""
    from .api import grad
    wrt = grad_index(f, wrt)
    positions = _floats(args)
    direction = _directional(f, (wrt,), args)
    from .runtime import zeros_like
    from .tree import like_tree                  # g as a full tangent of the argument (a field or item of the
    g = like_tree(g, args[wrt], lambda gl, xl: zeros_like(xl) if gl is None else gl)   # gradient unused: None)
    grads = grad(direction, wrt=positions)(*args, g)
    return _spread(map(adjoint_of, grads), positions, len(args))           # wrt a tuple: a tuple of gradients


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
