"""The user-facing functions: grad, value_and_grad, vjp, jvp, jacobian, hessian, hvp, differentiable, show_adjoint.

Derivatives of derivatives never differentiate reverse-mode code: a derivative of
``grad(f, i)`` is the gradient of a *directional derivative* of ``f``, written with forward
mode (plain code, no stacks or closures)::

    d/dx_j (df/dx_i)           = grad_j  [ jvp(f)(x; e_i) ]      (grad of grad, x_i a number)
    H_i v  (jvp of grad, hvp)  = grad_i  [ jvp(f)(x; v)   ]
    vjp of grad_i, cotangent c = grad    [ jvp(f)(x; c at i) ]

(mixed partial derivatives commute for the smooth functions s2sad differentiates).
"""
import functools
import inspect

import numpy as np

from . import markers, pipeline, targets
from .errors import NonScalarOutputError, WrtError, short_traceback, user_frames
from .front import generators
from .front.source import unwrap
from .markers import DERIVATIVE_ATTRIBUTE, checkpoint, stop_gradient, wrt_indices
from .options import resolve as resolve_options
from .rules import registry
from .runtime import _float_dtype, like
from .tree import field, fields_of, is_record

__all__ = ["grad", "elementwise_grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "differentiable", "show_adjoint",
           "adjoint_source", "stop_gradient", "checkpoint"]

_NUMBER = (float, int, np.floating, np.integer)


def _kind(a):
    """What generated code is specialised on: -1 for a number, the ndim of an array, the kinds of a
    tuple's or list's items (up to 16), else None."""
    t = type(a)
    if t is float or t is np.ndarray:
        return -1 if t is float else a.ndim
    if isinstance(a, _NUMBER) and not isinstance(a, (bool, np.bool_)):
        return -1
    if (t is tuple or t is list) and len(a) <= 16:
        return tuple(map(_kind, a))
    return None


def _kinds(args):
    return tuple(map(_kind, args))


def _check_differentiable(args, wrt, fname):
    """A differentiated argument must hold floats: integers are counts and indices, not points of a
    smooth function (JAX and Autograd refuse them too); complex numbers are not supported yet."""
    for i in wrt:
        if not -len(args) <= i < len(args):
            continue                                   # the transform reports a wrt out of range
        a = args[i]
        if type(a) is float or type(a) is np.ndarray and a.dtype.kind == "f":
            continue                                   # the common case, quickly
        for leaf in _leaves(a):
            kind = np.result_type(leaf).kind if isinstance(leaf, (np.ndarray, np.generic)) else \
                "b" if isinstance(leaf, bool) else "i" if isinstance(leaf, int) else \
                "c" if isinstance(leaf, complex) else "f" if isinstance(leaf, float) else None
            if kind in ("i", "u", "b"):
                what = "booleans" if kind == "b" else "integers"
                raise WrtError(f"{fname}: argument {i} is differentiated but holds {what} ({leaf!r:.40}); pass "
                               f"a float (e.g. {float(np.ravel(leaf)[0]) if np.size(leaf) else 0.0!r} or "
                               f"x.astype(float)), or leave it out of wrt")
            if kind == "c":
                raise WrtError(f"{fname}: argument {i} is complex; s2sad differentiates real floats only")


def _check_positional(fn, inner, fname):
    """``wrt`` must name parameters: an argument that lands in ``*args`` is refused (s2sad would differentiate
    the whole tuple)."""
    code = getattr(fn, "__code__", None)
    if code is None or not code.co_flags & inspect.CO_VARARGS:
        return
    n = code.co_argcount
    for i in inner:
        if i >= n or i < 0:
            raise WrtError(f"{fname}: wrt={i} is an argument that lands in `*{code.co_varnames[n + code.co_kwonlyargcount]}`;"
                           f" s2sad differentiates with respect to the named parameters (the first {n})")


def _check_shape(given, expected, what):
    """``given`` (a tangent or cotangent) must have ``expected``'s structure and shapes: a mismatch is an
    error naming both, never a number computed by broadcasting."""
    if isinstance(expected, dict) and isinstance(given, dict):
        if set(given) != set(expected):
            raise ValueError(f"{what} has keys {sorted(given)} but should have {sorted(expected)}")
        for key in expected:
            _check_shape(given[key], expected[key], f"{what}[{key!r}]")
        return
    if isinstance(expected, (tuple, list)) and isinstance(given, (tuple, list)):
        if len(given) != len(expected):
            raise ValueError(f"{what} has {len(given)} items but should have {len(expected)}")
        for k, (g, e) in enumerate(zip(given, expected)):
            _check_shape(g, e, f"{what}[{k}]")
        return
    if is_record(expected) and given is not None:
        if type(given) is not type(expected) and not isinstance(given, dict):
            raise ValueError(f"{what} is a {type(given).__name__} but should be a {type(expected).__name__}")
        for name, value in fields_of(expected).items():
            _check_shape(field(given, name), value, f"{what}.{name}")
        return
    if isinstance(expected, (dict, tuple, list)) or isinstance(given, (dict, tuple, list)) \
            and not (isinstance(expected, np.ndarray) or isinstance(expected, _Outline) and expected.array):
        return                                         # a container against an array: the rules decide
    if np.shape(given) != np.shape(expected):
        raise ValueError(f"{what} has shape {np.shape(given)} but should have shape {np.shape(expected)}")


class _Outline:
    """What ``_check_shape`` needs of an array or a number: its shape (``np.shape`` reads ``.shape``)."""
    __slots__ = ("shape", "array")

    def __init__(self, x):
        self.shape, self.array = np.shape(x), isinstance(x, np.ndarray)


def _outline(x):
    """``x`` with every array and number replaced by its ``_Outline`` (containers kept as containers)."""
    if isinstance(x, dict):
        return {k: _outline(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(_outline(v) for v in x) if type(x) in (tuple, list) else [_outline(v) for v in x]
    return _Outline(x)


def _leaves(x):
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in _leaves(v)]
    if isinstance(x, (tuple, list)):
        return [leaf for v in x for leaf in _leaves(v)]
    if is_record(x):
        return [leaf for v in fields_of(x).values() for leaf in _leaves(v)]
    return [x]


def _finish(grads, args, wrt, many):
    if many and len(wrt) == 1:
        grads = (grads,)                       # generated code returns one gradient bare
    if many:
        return tuple(like(g, args[i]) for g, i in zip(grads, wrt))
    return like(grads, args[wrt[0]])


def _name(f):
    return getattr(f, "__name__", "f")


# --- derivatives of derivatives --------------------------------------------------------------------
def _derivative(f):
    """(inner function, wrt, kind) when ``f`` is a function s2sad returned, else None."""
    return getattr(unwrap(f), DERIVATIVE_ATTRIBUTE, None) or getattr(f, DERIVATIVE_ATTRIBUTE, None)


def _directional(inner, wrt, args, options):
    """The directional derivative of ``inner`` as plain generated code: ``D(*args, *tangents)`` is
    ``jvp(inner)(args; tangents at wrt)``'s tangent (pipeline.directional)."""
    t = targets.resolve(inner, args)
    return pipeline.directional(t.fn, t.inner(wrt), _kinds(t.args), options, positions=t.positions, fixed=t.fixed)


def _as_plain(f, args, options):
    """``(P, extra)`` with ``P(*args, *extra) == f(*args)`` and ``P`` plain code s2sad differentiates like
    any function: ``f`` itself, or for ``f = grad(h, i)`` (``x_i`` a number) the directional derivative of
    (the plain form of) ``h`` along 1.0 at ``i``."""
    derivative = _derivative(f)
    if derivative is None:
        return f, ()
    inner, (i,), kind = _single(derivative)
    if kind == "elementwise_grad":                # J·1: the derivative at every item of an elementwise function
        direction = np.ones(np.shape(args[i]), dtype=_float_dtype(args[i])) if np.ndim(args[i]) else 1.0
    elif _kind(args[i]) != -1:
        raise NonScalarOutputError(f"grad needs a function that returns a scalar, but grad({_name(inner)}) returns "
                                   f"the gradient of an array argument; use s2sad.hessian, s2sad.hvp, or "
                                   f"s2sad.elementwise_grad for an elementwise function")
    else:
        direction = 1.0
    plain, extra = _as_plain(inner, args, options)
    return _directional(plain, (i,), tuple(args) + tuple(extra), options), extra + (direction,)


def _along(derivative, args, directions, options):
    """For ``f = grad(h, i)``: ``(D, i, extra)`` with ``D(*args, *extra, *directions)`` the tangent of ``h`` at
    ``args`` along ``directions`` (one per index in ``J``); its gradient with respect to ``i`` is the
    derivative of ``f`` along the directions (the Hessian is symmetric)."""
    inner, (i,), kind = _single(derivative)
    plain, extra = _as_plain(inner, args, options)
    J = tuple(k for k, d in enumerate(directions) if d is not None)
    return _directional(plain, J, tuple(args) + tuple(extra), options), i, extra


# --- the generated function for a call ---------------------------------------------------------------
def _wrapper(f, wrt, value_too, optimize):
    wrt, many = wrt_indices(f, wrt)
    cache = {}                                     # (kinds, options) -> pipeline.Bound
    fname = f"{'value_and_grad' if value_too else 'grad'}({_name(f)})"
    of_derivative = _derivative(f) is not None     # grad(grad(h)): the gradient of h's directional derivative
    target = unwrap(f)
    plain_function = inspect.isfunction(target) and not registry.has_rule(target) and not registry.has_rule(f) \
        and not inspect.isgeneratorfunction(target)            # (targets.py refuses it)

    def call(*args, **kwargs):
        try:
            options = resolve_options(optimize)
            inner = wrt
            if of_derivative:
                plain, extra = _as_plain(f, args, options)
                full = args + tuple(extra)
            elif plain_function and not kwargs:
                plain, full = target, args
            else:                                      # a method, a partial, a primitive, keywords (targets.py)
                t = targets.resolve(f, args, kwargs)
                plain, full, kwargs, args = t.fn, t.args, t.kwargs, t.args
                inner = t.inner(wrt)
            first = inner[0]
            if len(inner) > 1 or not -len(args) <= first < len(args) or type(args[first]) is not float:
                _check_differentiable(args, inner, fname)             # (a float needs no check)
            kinds = _kinds(full)
            entry = cache.get(id(options))             # options objects are shared: keyed by identity, kept alive
            if entry is None or entry[0] is not options:
                entry = cache[id(options)] = (options, {})
            bound = entry[1].get((kinds, plain)) if plain is not target else entry[1].get(kinds)
            if bound is None or not bound.valid():
                _check_positional(unwrap(plain), inner, fname)
                bound = pipeline.function(unwrap(plain), inner, "value_and_grad", kinds, options, warn=True)
                entry[1][(kinds, plain) if plain is not target else kinds] = bound
            value, grads = bound.fn(*full, **kwargs) if kwargs else bound.fn(*full)
            if many or type(grads) is not float or type(args[inner[0]]) is not float:
                grads = _finish(grads, args, inner, many)      # (a float's gradient is returned as it is)
            return (value, grads) if value_too else grads
        except Exception as exc:                   # s2sad's own frames hidden (errors.user_frames)
            raise short_traceback(exc) from None
    functools.update_wrapper(call, unwrap(f))
    call.__wrapped__ = None
    call.__name__ = f"{'value_and_grad' if value_too else 'grad'}_{_name(f)}"
    setattr(call, DERIVATIVE_ATTRIBUTE, (f, wrt, "value_and_grad" if value_too else "grad"))
    return call


def elementwise_grad(f, wrt=0, *, optimize=True):
    """``elementwise_grad(f)(x)``: for ``f`` elementwise in argument ``wrt`` (item ``k`` of the result depends on
    item ``k`` of ``x`` only, like ``np.tanh``), the derivative of each item of the result with respect to its
    item of ``x``: the Jacobian times a vector of ones, computed in forward mode. It can be differentiated
    again: ``elementwise_grad(elementwise_grad(np.tanh))`` is the second derivative at every item.

    For an ``f`` that is not elementwise it is the sum of the Jacobian's columns (``jvp`` along ones)."""
    wrt, many = wrt_indices(f, wrt)
    if many:
        raise WrtError("elementwise_grad differentiates with respect to one argument (wrt an index)")
    fname = f"elementwise_grad({_name(f)})"

    def call(*args):
        try:
            options = resolve_options(optimize)
            _check_differentiable(args, wrt, fname)
            plain, extra = _as_plain(call, args, options)
            full = tuple(args) + tuple(extra)
            return like(plain(*full), args[wrt[0]]) if np.ndim(args[wrt[0]]) == 0 else plain(*full)
        except Exception as exc:
            raise short_traceback(exc) from None
    functools.update_wrapper(call, unwrap(f))
    call.__wrapped__ = None
    call.__name__ = f"elementwise_grad_{_name(f)}"
    setattr(call, DERIVATIVE_ATTRIBUTE, (f, wrt, "elementwise_grad"))
    return call


def value_and_grad(f, wrt=None, *, optimize=True, has_aux=False):
    """``value_and_grad(f)(*args)`` returns ``(f(*args), gradient)``.

    ``wrt`` is a positional parameter index (default 0, or the decorator's) or a tuple
    of them (the gradient is then a tuple). ``f`` must return a scalar. ``optimize=False``
    uses the straightforward transform (see ``s2sad.optimizations``). ``has_aux=True``: ``f``
    returns ``(scalar, aux)`` (metrics, predictions, ...), only the scalar is differentiated, and
    the result is ``((scalar, aux), gradient)``.
    """
    return _with_aux(f, wrt, True, optimize) if has_aux else _wrapper(f, wrt, True, optimize)


def grad(f, wrt=None, *, optimize=True, has_aux=False):
    """``grad(f)(*args)``: the gradient of scalar-valued ``f`` with respect to argument ``wrt``
    (an index or a tuple of indices; default 0), shaped and typed like that argument.
    ``has_aux=True``: ``f`` returns ``(scalar, aux)``; the result is ``(gradient, aux)``."""
    return _with_aux(f, wrt, False, optimize) if has_aux else _wrapper(f, wrt, False, optimize)


def _split_aux(out, fname, scalar=True):
    """``(value, aux)`` from what ``f`` with ``has_aux=True`` returned, or an error saying what is wrong."""
    if not (isinstance(out, tuple) and len(out) == 2):
        raise NonScalarOutputError(f"{fname} has has_aux=True, so it must return a pair (scalar, aux); it returned "
                                   f"{type(out).__name__}{f' of {len(out)} items' if isinstance(out, tuple) else ''}")
    if scalar and np.ndim(out[0]) != 0:
        raise NonScalarOutputError(f"{fname}: the first item of what it returns must be a scalar (it is "
                                   f"differentiated), not of shape {np.shape(out[0])}")
    return out


def _with_aux(f, wrt, value_too, optimize):
    """grad / value_and_grad of ``f`` returning ``(scalar, aux)``: the scalar pulled back by ``vjp`` with a
    cotangent of 1 for it and none for ``aux`` (aux is computed once, by the same forward sweep)."""
    fname = f"{'value_and_grad' if value_too else 'grad'}({_name(f)}, has_aux=True)"

    def call(*args, **kwargs):
        value, pullback, aux = vjp(f, *args, wrt=wrt, optimize=optimize, has_aux=True, **kwargs)
        _split_aux((value, aux), fname)
        grads = pullback(1.0)
        return ((value, aux), grads) if value_too else (grads, aux)
    functools.update_wrapper(call, unwrap(f))
    call.__wrapped__ = None
    call.__name__ = fname
    return call


@user_frames
def vjp(f, *args, wrt=None, optimize=True, has_aux=False, **kwargs):
    """Run ``f``'s forward sweep once: returns ``(value, vjp_fn)``.

    ``vjp_fn(cotangent)`` pulls a cotangent shaped like the value back to the
    argument(s) ``wrt``; it can be called many times. ``has_aux=True``: ``f`` returns
    ``(value, aux)``; the result is ``(value, vjp_fn, aux)`` and only ``value`` is pulled back.
    """
    if has_aux:
        out, pullback = vjp(f, *args, wrt=wrt, optimize=optimize, **kwargs)
        value, aux = _split_aux(out, f"vjp({_name(f)}, has_aux=True)", scalar=False)
        return value, lambda cotangent: pullback((cotangent, None)), aux
    wrt, many = wrt_indices(f, wrt)
    options = resolve_options(optimize)
    _check_differentiable(args, wrt, f"vjp({_name(f)})")
    derivative = _derivative(f)
    if derivative is not None:                    # vjp of grad(h, i): grad of h's derivative along the cotangent
        i = _single(derivative)[1][0]
        value = f(*args, **kwargs)
        directions = [None] * len(args)
        directions[i] = args[i]
        directional, i, extra = _along(derivative, args, directions, options)

        @user_frames
        def vjp_fn(cotangent):
            return grad(directional, wrt=wrt if many else wrt[0], optimize=options)(*args, *extra,
                                                                                     like(cotangent, args[i]))
        return value, vjp_fn
    t = targets.resolve(f, args, kwargs)
    args, inner = t.args, t.inner(wrt)
    _check_positional(t.fn, inner, f"vjp({_name(f)})")
    bound = pipeline.function(t.fn, inner, "vjp", _kinds(args), options, True)
    value, backward = bound.fn(*args, **t.kwargs)
    outline = _outline(value)                     # the pullback keeps the value's shapes, not the value
    name = _name(f)

    def vjp_fn(cotangent):
        try:
            _check_shape(cotangent, outline, f"vjp({name}): the cotangent")
            return _finish(backward(cotangent), args, inner, many)
        except Exception as exc:
            raise short_traceback(exc) from None
    return value, vjp_fn


def _single(derivative):
    inner, wrt, kind = derivative
    if kind not in ("grad", "elementwise_grad") or len(wrt) != 1:
        raise WrtError(f"s2sad can differentiate grad(f) with respect to one argument again, not {kind}(f, wrt={wrt!r})")
    return derivative


@user_frames
def jvp(f, primals, tangents, *, optimize=True):
    """Forward mode: ``(f(*primals), tangent of the value)`` along ``tangents``.

    ``tangents`` has one entry per primal, shaped like it (a container's tangent is the same
    container of tangents); ``None`` marks an argument that is held constant. Only the
    arguments with a tangent are differentiated.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise WrtError(f"jvp needs one tangent per primal: got {len(primals)} primal(s) and {len(tangents)} "
                       f"tangent(s) (use None for an argument held constant)")
    wrt = tuple(i for i, t in enumerate(tangents) if t is not None)
    if not wrt:
        raise WrtError("jvp needs at least one tangent that is not None")
    options = resolve_options(optimize)
    _check_differentiable(primals, wrt, f"jvp({_name(f)})")
    for i in wrt:
        _check_shape(tangents[i], primals[i], f"jvp({_name(f)}): the tangent of argument {i}")
    dots = [like(tangents[i], primals[i]) for i in wrt]
    derivative = _derivative(f)
    if derivative is not None:                    # jvp of grad(h, i): grad_i of h's derivative along the tangents
        directional, i, extra = _along(derivative, primals, tangents, options)
        g = grad(directional, wrt=i, optimize=options)(*primals, *extra, *dots)
        return f(*primals), like(g, primals[i])
    t = targets.resolve(f, primals)
    inner = t.inner(wrt)
    _check_positional(t.fn, inner, f"jvp({_name(f)})")
    bound = pipeline.function(t.fn, inner, "jvp", _kinds(t.args), options, True)
    value, tangent = bound.fn(*dots, *t.args, **t.kwargs)
    return value, like(tangent, value)


def _basis(x):
    """The unit tangents of ``x`` (a number or an array), each shaped like ``x``."""
    x = np.asarray(x, dtype=float) if not isinstance(x, np.ndarray) or x.dtype.kind not in "fc" else x
    for k in range(x.size):
        e = np.zeros(x.size, dtype=x.dtype)
        e[k] = 1
        yield e.reshape(x.shape) if x.ndim else e[0].item()


def _stack(pieces, out_shape, in_shape, columns):
    """Jacobian pieces (columns: one per input element; else rows: one per output element) put
    together with shape ``out_shape + in_shape``."""
    shape = tuple(out_shape) + tuple(in_shape)
    if not pieces:
        return np.zeros(shape)
    pieces = [np.asarray(p, dtype=float) for p in pieces]
    return np.stack(pieces, axis=-1 if columns else 0).reshape(shape)


def jacobian(f, wrt=0, mode="reverse", *, optimize=True):
    """``jacobian(f)(*args)``: the Jacobian of ``f`` (array or number valued) with respect to argument
    ``wrt`` (an array or a number), shaped ``f(*args).shape + args[wrt].shape``.

    ``mode="reverse"`` builds it a row at a time (one forward sweep, a backward sweep per output
    element); ``mode="forward"`` a column at a time (a tangent run per input element). A tuple
    ``wrt`` gives a tuple of Jacobians.
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"jacobian mode must be 'reverse' or 'forward', got {mode!r}")
    indices, many = wrt_indices(f, wrt)

    @user_frames
    def jac(*args):
        _check_differentiable(args, indices, f"jacobian({_name(f)})")
        blocks = []
        for i in indices:
            in_shape = np.shape(args[i])
            if mode == "forward":
                value, columns = None, []
                for e in _basis(args[i]):
                    tangents = [None] * len(args)
                    tangents[i] = e
                    value, column = jvp(f, args, tangents, optimize=optimize)
                    columns.append(column)
                out_shape = np.shape(value) if value is not None else np.shape(f(*args))
                blocks.append(_stack(columns, out_shape, in_shape, columns=True))
            else:
                value, pullback = vjp(f, *args, wrt=i, optimize=optimize)
                rows = [pullback(e) for e in _basis(value)]
                blocks.append(_stack(rows, np.shape(value), in_shape, columns=False))
        return tuple(blocks) if many else blocks[0]
    jac.__name__ = f"jacobian_{_name(f)}"
    return jac


def hessian(f, wrt=0, *, optimize=True):
    """``hessian(f)(*args)``: the matrix of second derivatives of scalar-valued ``f`` with respect to
    argument ``wrt``, shaped ``x.shape + x.shape`` (one gradient of a directional derivative per column)."""
    index, _ = wrt_indices(f, wrt)
    if len(index) != 1:
        raise WrtError("hessian takes one argument index as wrt")
    columns = jacobian(grad(f, index[0], optimize=optimize), index[0], mode="forward", optimize=optimize)

    @user_frames
    def hess(*args):
        _check_differentiable(args, index, f"hessian({_name(f)})")
        return columns(*args)
    hess.__name__ = f"hessian_{_name(f)}"
    return hess


def hvp(f, wrt=0, *, optimize=True):
    """``hvp(f, wrt=k)`` returns ``product(*args)`` computing the Hessian of scalar-valued ``f`` with
    respect to argument ``k`` times a vector ``v``, without forming the Hessian.

    ``v`` is passed right after the argument it multiplies: ``hvp(f)(x, v, *rest)`` for ``wrt=0``,
    the order ``scipy.optimize.minimize`` uses for ``hessp(x, p, *args)``, so
    ``minimize(f, x0, args=(c,), jac=s2sad.grad(f), hessp=s2sad.hvp(f))`` is correct.
    """
    index, _ = wrt_indices(f, wrt)
    if len(index) != 1:
        raise WrtError("hvp takes one argument index as wrt")
    k = index[0]
    gradient = grad(f, k, optimize=optimize)

    @user_frames
    def product(*args_and_v):
        position = k if k >= 0 else len(args_and_v) - 1 + k
        if not 0 <= position < len(args_and_v) - 1:
            raise WrtError(f"hvp(f, wrt={k}) needs the arguments of f and the vector v right after argument {k}; "
                           f"got {len(args_and_v)} value(s)")
        args = list(args_and_v[:position + 1]) + list(args_and_v[position + 2:])
        v = args_and_v[position + 1]
        _check_differentiable(args, (position,), f"hvp({_name(f)})")
        _check_shape(v, args[position], f"hvp({_name(f)}): the vector v (multiplying argument {k})")
        tangents = [None] * len(args)
        tangents[position] = v
        return jvp(gradient, args, tangents, optimize=optimize)[1]
    product.__name__ = f"hvp_{_name(f)}"
    return product


def differentiable(fn=None, *, wrt=0):
    """Mark a function as differentiable (``@differentiable`` or ``@differentiable(wrt=(0, 1))``).

    Calling the decorated function runs the original, unchanged. ``wrt`` becomes the
    default of ``grad``/``value_and_grad``/``vjp`` for it, and of ``s2sad compile``.
    """
    if fn is None:
        return lambda f: differentiable(f, wrt=wrt)
    wrt_indices(fn, wrt)                            # validate early

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    wrapper.__s2sad_wrt__ = wrt
    return wrapper


@user_frames
def adjoint_source(f, wrt=None, kind="value_and_grad", args=None, mode="reverse", *, optimize=True):
    """The generated derivative code of ``f`` as a string.

    Reverse mode: ``kind="value_and_grad"`` (both sweeps in one function), ``"grad"`` or ``"vjp"``
    (the forward sweep returning a closure that runs the backward sweep). ``mode="forward"``: the
    tangent code ``jvp`` runs. With example ``args``, the code specialised for them (plain
    float arithmetic where arguments are numbers), as ``grad`` runs it for such arguments.
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"mode must be 'reverse' or 'forward', got {mode!r}")
    wrt, _ = wrt_indices(f, wrt)
    kinds = _kinds(args or ())
    generators.refuse_alone(unwrap(f))
    return pipeline.generate(unwrap(f), wrt, "jvp" if mode == "forward" else kind, kinds,
                             resolve_options(optimize)).text


@user_frames
def show_adjoint(f, wrt=None, kind="value_and_grad", args=None, mode="reverse", *, optimize=True):
    """Print the generated derivative code of ``f`` (for example ``args``, if given);
    ``mode="forward"`` prints the tangent code."""
    print(adjoint_source(f, wrt, kind, args, mode, optimize=optimize), end="")


markers.API.update(grad=grad, value_and_grad=value_and_grad, jvp=jvp)
