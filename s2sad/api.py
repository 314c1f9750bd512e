"""The user-facing functions: grad, value_and_grad, vjp, jvp, jacobian, hessian, hvp, differentiable, show_adjoint.

Derivatives of derivatives never differentiate reverse-mode code: a derivative of
``grad(f, i)`` is the gradient of a *directional derivative* of ``f``, written with forward
mode (plain code, no stacks or closures)::

    d/dx_j (df/dx_i)           = grad_j  [ jvp(f)(x; e_i) ]      (grad of grad, x_i a number)
    H_i v  (jvp of grad, hvp)  = grad_i  [ jvp(f)(x; v)   ]
    vjp of grad_i, cotangent c = grad    [ jvp(f)(x; c at i) ]

(mixed partial derivatives commute for the smooth functions s2sad differentiates).
"""
from __future__ import annotations

import copy as _copy
import functools
import types
import inspect
from typing import Any, Callable, Literal, Optional, Sequence, Tuple, TypeVar, Union, overload

import numpy as np

from . import markers, pipeline, targets
from .back import entry as back_entry
from .back import floats as back_floats
from .back.entry import MISS
from .errors import NonScalarOutputError, WrtError, short_traceback, user_frames
from .front import generators
from .front.source import unwrap
from .inline import keywords_as_positions
from .markers import DERIVATIVE_ATTRIBUTE, checkpoint, stop_gradient, wrt_indices
from .options import Options
from .options import resolve as resolve_options
from .rules import registry
from .runtime import _float_dtype, distinct, like
from .tree import ARRAY_ATTRIBUTES, differentiable_field, field, fields_of, is_record, like_tree, own_behaviour

__all__ = ["grad", "elementwise_grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "differentiable", "show_adjoint",
           "adjoint_source", "stop_gradient", "checkpoint"]

_NUMBER = (float, int, np.floating, np.integer)

#: Which positional arguments to differentiate: an index, a parameter name, or a tuple of them
#: (``None``: the ``@differentiable(wrt=...)`` default, else 0).
Wrt = Union[int, str, Sequence[Union[int, str]], None]
#: The optimizations a derivative uses: ``True`` (those in force, see ``s2sad.optimizations``),
#: ``False`` (the straightforward transform), or a dict of switches such as ``{"fold": False}``.
Optimize = Union[bool, dict, Options]
F = TypeVar("F", bound=Callable[..., Any])


def _kind(a):
    """What generated code is specialised on: -1 for a number, the ndim of an array, the kinds of a
    tuple's or list's items (up to 16), else None."""
    t = type(a)
    if t is np.ndarray:                                # (complex arrays get none: numbers are real; nor do
        return a.ndim if a.dtype.kind in "fiub" else None  # object arrays, whose items are objects)
    if t is float or t is np.float64:
        return -1
    if isinstance(a, _NUMBER) and not isinstance(a, (bool, np.bool_)):
        return -1
    if (t is tuple or t is list) and len(a) <= 16:
        return tuple(map(_kind, a))
    if isinstance(a, np.ndarray):
        _refuse_array_subclass(a)
    return None


def _refuse_array_subclass(a):
    """An array of a subclass of ``np.ndarray`` with behaviour of its own (``np.matrix``: ``*`` is a matrix
    product; ``np.ma``: reductions skip masked items; a user's class) is refused: generated code computes
    an array's derivative. A memory-mapped file is an array."""
    if isinstance(a, np.ndarray) and type(a) is not np.ndarray and not isinstance(a, np.memmap):
        raise WrtError(f"an argument is a {type(a).__module__}.{type(a).__name__}, a subclass of np.ndarray whose "
                       "operations differ from an array's (np.matrix's `*` is a matrix product, a masked array's "
                       "sum skips masked items); s2sad differentiates arrays: pass np.asarray(x) (x.filled(0.0) "
                       "for a masked array, np.where(mask, 0.0, x) to keep masking in the function)")


def _kinds(args):
    return tuple(map(_kind, args))




def _check_record_fields(x, i, fname):
    """A record's or a namedtuple's differentiable field may not be named like an array attribute: generated code reads
    ``p.size``, ``p.T``, ``p.real`` as NumPy's (``np.size(p)``...), whose derivative is not the field's."""
    if isinstance(x, dict):
        for v in x.values():
            _check_record_fields(v, i, fname)
    elif isinstance(x, (tuple, list)) and not hasattr(type(x), "_fields"):
        for v in x:
            _check_record_fields(v, i, fname)
    elif is_record(x) or hasattr(type(x), "_fields"):      # a dataclass, an object, a namedtuple
        behaviour = own_behaviour(type(x))
        if behaviour is not None:
            raise WrtError(f"{fname}: argument {i} is a {type(x).__name__}, whose class {behaviour}: s2sad "
                           f"differentiates a record through its fields, and would take that for NumPy's or the "
                           f"field's own (a wrong derivative); differentiate the fields (pass them), or a plain "
                           f"dataclass holding them")
        fields = fields_of(x) if is_record(x) else {n: v for n, v in zip(x._fields, x) if differentiable_field(v)}
        for name, v in fields.items():
            if name in ARRAY_ATTRIBUTES:
                raise WrtError(f"{fname}: argument {i} is a {type(x).__name__} whose field `{name}` holds floats and "
                               f"is named like an array attribute (x.{name}): s2sad would read it as NumPy's; rename "
                               f"the field")
            _check_record_fields(v, i, fname)


_FLOAT_SCALARS = frozenset({float, np.float64, np.float32, np.float16, np.longdouble})


def _float_leaf(a):
    t = type(a)
    return t in _FLOAT_SCALARS or t is np.ndarray and a.dtype.kind == "f"


def _check_differentiable(args, wrt, fname):
    """A differentiated argument must hold floats: integers are counts and indices, not points of a
    smooth function (JAX and Autograd refuse them too); complex numbers are not supported yet."""
    for i in wrt:
        if not -len(args) <= i < len(args):
            continue                                   # the transform reports a wrt out of range
        a = args[i]
        if _float_leaf(a):
            continue                                   # the common case, quickly
        if (type(a) is tuple or type(a) is list) and all(map(_float_leaf, a)) or \
                type(a) is dict and all(map(_float_leaf, a.values())):
            continue                                   # a plain container of them (no record inside)
        _check_record_fields(a, i, fname)
        for leaf in _leaves(a):
            _refuse_array_subclass(leaf)
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
            wrapper = (f" ({fn.__name__} is a decorator's wrapper, made with functools.wraps: s2sad differentiates "
                       f"its own code; differentiate {fn.__name__}.__wrapped__, the undecorated function, or give the "
                       f"wrapper its parameters)") if getattr(fn, "__wrapped__", None) is not None else ""
            raise WrtError(f"{fname}: wrt={i} is an argument that lands in `*{code.co_varnames[n + code.co_kwonlyargcount]}`;"
                           f" s2sad differentiates with respect to the named parameters (the first {n}){wrapper}")


def _check_shape(given, expected, what):
    """``given`` (a tangent or cotangent) must have ``expected``'s structure and shapes: a mismatch is an
    error naming both, never a number computed by broadcasting. ``None`` stands for a zero cotangent of any
    part (``has_aux``: the aux gets none)."""
    if given is None:
        return
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
    if isinstance(expected, dict) and isinstance(given, (tuple, list)) \
            or isinstance(expected, (tuple, list)) and isinstance(given, dict):
        raise ValueError(f"{what} is a {type(given).__name__} but should be a {type(expected).__name__} "
                         f"({'keys ' + str(sorted(expected)) if isinstance(expected, dict) else len(expected)})")
    if isinstance(expected, (dict, tuple, list)) or isinstance(given, (dict, tuple, list)) \
            and not (isinstance(expected, np.ndarray) or isinstance(expected, _Outline) and expected.array):
        return                                         # a container against an array: the rules decide
    if np.shape(given) != np.shape(expected):
        raise ValueError(f"{what} has shape {np.shape(given)} but should have shape {np.shape(expected)}")
    if np.iscomplexobj(given) and not (expected.complex if isinstance(expected, _Outline) else np.iscomplexobj(expected)):
        raise ValueError(f"{what} is complex but the value it goes with is real: pass its real and imaginary parts "
                         f"in two calls (the derivative is linear: J(a + ib) = Ja + iJb)")


class _Outline:
    """What ``_check_shape`` needs of an array or a number: its shape (``np.shape`` reads ``.shape``), whether it
    is an array and whether complex."""
    __slots__ = ("shape", "array", "complex")

    def __init__(self, x):
        self.shape, self.array, self.complex = np.shape(x), isinstance(x, np.ndarray), np.iscomplexobj(x)


def _apart(tangent, primals):
    """A tangent array given that shares memory with a primal (``jvp(f, (x,), (x,))``, ``hvp(f)(x, x)``) copied:
    generated tangent code holds a value and its tangent apart (``effects.tangent_code_parts``)."""
    if isinstance(tangent, np.ndarray) and any(isinstance(p, np.ndarray) and np.may_share_memory(tangent, p)
                                               for p in primals):
        return tangent.copy()
    return tangent


def _positional_count(fn):
    """How many positional parameters ``fn`` has (0 where its signature cannot be read)."""
    try:
        return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                   for p in inspect.signature(unwrap(fn)).parameters.values())
    except (TypeError, ValueError):
        return 0


def _leaves_as_arrays(given, expected, what):
    """``given`` (a cotangent) with a list or tuple given for an array of ``expected`` (an ``_outline``) made an
    array (the generated code computes with it as with an array: `-ct`, `ct * 2`); one given for a number is an
    error."""
    if isinstance(expected, _Outline):
        if isinstance(given, (list, tuple)):
            if not expected.array:
                raise ValueError(f"{what} is a {type(given).__name__} but should be a number")
            return np.asarray(given, dtype=float)
        return given
    if isinstance(expected, dict) and isinstance(given, dict):
        return {k: _leaves_as_arrays(v, expected[k], f"{what}[{k!r}]") if k in expected else v
                for k, v in given.items()}
    if isinstance(expected, (tuple, list)) and isinstance(given, (tuple, list)) and len(given) == len(expected):
        items = [_leaves_as_arrays(g, e, f"{what}[{k}]") for k, (g, e) in enumerate(zip(given, expected))]
        return type(given)(items) if type(given) in (tuple, list) else items
    return given


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
        finished = tuple(like(g, args[i]) for g, i in zip(grads, wrt))
        return distinct(finished) if len(finished) > 1 else finished
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
    return pipeline.directional(t.fn, t.inner(wrt), _kinds(t.args), options, positions=t.positions, fixed=t.fixed,
                                keywords=t.kwargs)


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
def _on_floats(fn, floats, given, args, wrt, many):
    """The value and the finished gradient of ``fn(*given)``, computed as ``fn(*floats)`` (``given``'s np.float64
    values as Python floats, 1-d float64 arrays as lists of floats: three to four times faster). Sound by
    back/floats.py's conditions: a raise on floats runs again on the values given (NumPy returns inf or nan where
    floats raise); a float value is returned as NumPy would, an np.float64."""
    try:
        value, grads = fn(*floats)
        return (np.float64(value) if type(value) is float else value), _finish(grads, args, wrt, many)
    except Exception:                              # noqa: BLE001 -- NumPy's semantics decide, below
        value, grads = fn(*given)
        return value, _finish(grads, args, wrt, many)


def _wrapper(f, wrt, value_too, optimize):
    targets.refuse_made(f)
    wrt, many = wrt_indices(f, wrt)
    cache = {}                                     # (kinds, options) -> pipeline.Bound
    fname = f"{'value_and_grad' if value_too else 'grad'}({_name(f)})"
    of_derivative = _derivative(f) is not None     # grad(grad(h)): the gradient of h's directional derivative
    target = unwrap(f)
    plain_function = inspect.isfunction(target) and not registry.has_rule(target) and not registry.has_rule(f) \
        and not inspect.isgeneratorfunction(target)            # (targets.py refuses it)

    fast = [None]                                  # the per-call entry for the last arguments' shape (back/entry.py)
    built = {}                                     # (bound, kinds, types) -> its entry
    entries = optimize is True or optimize is None

    def call(*args, **kwargs):
        entry = fast[0]
        if entry is not None and not kwargs:
            out = entry(args)
            if out is not MISS:
                return out
        try:
            if of_derivative and kwargs:           # grad(grad(h))(x, scale=3.0): h's keywords by position, or held
                args, kwargs = _derivative_positions(f, args, kwargs)
                if kwargs:
                    return _wrapper(_with_keywords(f, kwargs), wrt if many else wrt[0], value_too, optimize)(*args)
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
            missing = [i for i in inner if not -len(full) <= i < len(full) and 0 <= i < _positional_count(plain)]
            if missing:
                raise WrtError(f"{fname}: wrt={missing[0]} names an argument that was not passed ({len(full)} "
                               f"given; a parameter's default is a constant): pass it to differentiate with respect "
                               f"to it")
            if len(inner) > 1 or not -len(args) <= first < len(args) or not _float_leaf(args[first]):
                _check_differentiable(args, inner, fname)             # (a float or float array needs no check)
            kinds = _kinds(full)
            entry = cache.get(id(options))             # options objects are shared: keyed by identity, kept alive
            if entry is None or entry[0] is not options:
                entry = cache[id(options)] = (options, {})
            bound = entry[1].get((kinds, plain)) if plain is not target else entry[1].get(kinds)
            if bound is None or not bound.valid():
                _check_positional(unwrap(plain), inner, fname)
                bound = pipeline.function(unwrap(plain), inner, "value_and_grad", kinds, options, warn=True)
                entry[1][(kinds, plain) if plain is not target else kinds] = bound
            if entries and not kwargs and not of_derivative and plain is target and bound.ready:
                key = (bound, kinds, tuple(map(type, args)))
                if key not in built:                   # (a few shapes kept: arguments may alternate)
                    if len(built) >= 8:
                        built.clear()
                    built[key] = back_entry.build(bound.fn, bound.checks, args, inner, many, value_too,
                                                  bound.lists, bound.floats)
                fast[0] = built[key]
            if kwargs:
                value, grads = bound.fn(*full, **kwargs)
            elif bound.floats and (bound.lists or -1 in kinds) and \
                    (floats := back_floats.converted(full, bound.lists)) is not None:   # (an np.float64 is kind -1)
                value, grads = _on_floats(bound.fn, floats, full, args, inner, many)
                return (value, grads) if value_too else grads
            else:
                value, grads = bound.fn(*full)
            if many or type(grads) is not float or type(args[inner[0]]) is not float:
                grads = _finish(grads, args, inner, many)      # (a float's gradient is returned as it is)
            return (value, grads) if value_too else grads
        except Exception as exc:                   # s2sad's own frames hidden (errors.user_frames)
            raise short_traceback(exc) from None
    functools.update_wrapper(call, unwrap(f))
    del call.__wrapped__                          # (its signature is its own: inspect reads (*args, **kwargs))
    call.__name__ = f"{'value_and_grad' if value_too else 'grad'}_{_name(f)}"
    setattr(call, DERIVATIVE_ATTRIBUTE, (f, wrt, "value_and_grad" if value_too else "grad"))
    call.__s2sad_one_gradient__ = not many        # (front/normalize.made_gradient: called inside a function)
    return call


def elementwise_grad(f: Callable[..., Any], wrt: int = 0, *, optimize: Optimize = True) -> Callable[..., Any]:
    """The derivative of each item of an elementwise function's result with respect to its item of the input.

    For ``f`` elementwise in argument ``wrt`` (item ``k`` of the result depends on item ``k`` of ``x``
    only, like ``np.tanh``), ``elementwise_grad(f)(x)`` is the derivative at every item of ``x``: the
    Jacobian times a vector of ones, computed in forward mode in one run over the whole array. It can
    be differentiated again: ``elementwise_grad(elementwise_grad(np.tanh))`` is the second derivative
    at every item. For an ``f`` that is not elementwise the result is the sum of the Jacobian's columns.

    Args:
        f: The function, or a function s2sad returned (to differentiate again).
        wrt: The index of the (one) argument to differentiate.
        optimize: Which optimizations to use (see ``s2sad.optimizations``).

    Returns:
        A function taking ``f``'s arguments and returning an array shaped like ``f``'s result (a number
        for a number).

    Raises:
        WrtError: ``wrt`` is a tuple, or the argument holds integers.
        TransformError: ``f`` uses a construct s2sad cannot differentiate (raised at the first call).

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> d_tanh = s2sad.elementwise_grad(np.tanh)
        >>> x = np.array([0.0, 0.5, 1.0])
        >>> np.allclose(d_tanh(x), 1 - np.tanh(x) ** 2)
        True
        >>> d2_tanh = s2sad.elementwise_grad(d_tanh)
        >>> np.allclose(d2_tanh(x), -2 * np.tanh(x) * (1 - np.tanh(x) ** 2))
        True
    """
    wrt, many = wrt_indices(f, wrt)
    if many:
        raise WrtError("elementwise_grad differentiates with respect to one argument (wrt an index)")
    fname = f"elementwise_grad({_name(f)})"

    def call(*args, **kwargs):
        if kwargs and _derivative(f) is not None:
            args, kwargs = _derivative_positions(f, args, kwargs)
        if kwargs:                                 # f's keyword arguments, held as a partial's
            return elementwise_grad(_with_keywords(f, kwargs), wrt[0], optimize=optimize)(*args)
        try:
            options = resolve_options(optimize)
            _check_differentiable(args, wrt, fname)
            plain, extra = _as_plain(call, args, options)
            full = tuple(args) + tuple(extra)
            out = plain(*full)
            return like(out, args[wrt[0]]) if np.ndim(args[wrt[0]]) == 0 and np.ndim(out) == 0 else out
        except Exception as exc:
            raise short_traceback(exc) from None
    functools.update_wrapper(call, unwrap(f))
    del call.__wrapped__                          # (its signature is its own: inspect reads (*args, **kwargs))
    call.__name__ = f"elementwise_grad_{_name(f)}"
    setattr(call, DERIVATIVE_ATTRIBUTE, (f, wrt, "elementwise_grad"))
    return call


def value_and_grad(f: Callable[..., Any], wrt: Wrt = None, *, optimize: Optimize = True,
                   has_aux: bool = False) -> Callable[..., Tuple[Any, Any]]:
    """The value of a scalar function and its gradient, from one run of the generated code.

    ``value_and_grad(f)(*args)`` returns ``(f(*args), gradient)``: the generated function runs the
    forward sweep (computing the value) and the backward sweep (the adjoints) in one call.

    Args:
        f: A Python function returning a scalar (a float or a 0-d array). Its source is read on the
            first call; the generated code is cached per kind of argument (number, array of each ndim).
        wrt: The positional argument(s) to differentiate: an index, a parameter name, or a tuple of
            them (the gradient is then a tuple). Default: the ``@differentiable(wrt=...)`` default, else 0.
        optimize: ``True`` (the optimizations in force), ``False`` (the straightforward transform), or
            a dict of switches such as ``{"fold": False}`` (see ``s2sad.optimizations``).
        has_aux: ``f`` returns ``(scalar, aux)`` (metrics, predictions, ...): only the scalar is
            differentiated, and the result is ``((scalar, aux), gradient)``.

    Returns:
        A function taking ``f``'s arguments and returning ``(value, gradient)``. The gradient has the
        type, shape and dtype of its argument (a float32 array gets a float32 gradient, a float a float).

    Raises:
        NonScalarOutputError: ``f`` does not return a scalar (use ``vjp`` or ``jacobian``).
        WrtError: ``wrt`` names no parameter, or the argument holds integers or complex numbers.
        TransformError: ``f`` uses a construct s2sad cannot differentiate; the message names the file,
            line and construct (``UnsupportedSyntaxError``, ``NoRuleError``).
        SourceUnavailableError: ``f``'s source cannot be read (a C function with no rule, ``exec``).

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def loss(w, x):
        ...     return np.sum((x * w - 1.0) ** 2)
        >>> value, g = s2sad.value_and_grad(loss)(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
        >>> float(value), g
        (53.0, array([12., 56.]))
    """
    return _with_aux(f, wrt, True, optimize) if has_aux else _wrapper(f, wrt, True, optimize)


def grad(f: Callable[..., Any], wrt: Wrt = None, *, optimize: Optimize = True,
         has_aux: bool = False) -> Callable[..., Any]:
    """The gradient of a scalar-valued Python function, as generated source code (reverse mode).

    ``grad(f)(*args)`` is the gradient of ``f`` at ``args`` with respect to argument ``wrt``. On the
    first call s2sad reads ``f``'s source, writes its adjoint as Python code and compiles it; later
    calls with the same kinds of arguments run that code directly. Loops, branches, calls to your own
    functions, containers and in-place writes to arrays are differentiated as written. The result can
    be differentiated again (``grad(grad(f))``, ``hessian``, ``hvp``).

    Args:
        f: A Python function returning a scalar (a float or a 0-d array).
        wrt: The positional argument(s) to differentiate: an index, a parameter name, or a tuple of
            them (the gradient is then a tuple). Default: the ``@differentiable(wrt=...)`` default, else 0.
        optimize: ``True`` (the optimizations in force), ``False`` (the straightforward transform), or
            a dict of switches such as ``{"fold": False}`` (see ``s2sad.optimizations``).
        has_aux: ``f`` returns ``(scalar, aux)``: only the scalar is differentiated, and the result is
            ``(gradient, aux)``.

    Returns:
        A function taking ``f``'s arguments and returning the gradient, shaped and typed like the
        argument (a tuple of gradients for a tuple ``wrt``; a container's gradient is the same container).

    Raises:
        NonScalarOutputError: ``f`` does not return a scalar (use ``vjp`` or ``jacobian``).
        WrtError: ``wrt`` names no parameter, or the argument holds integers or complex numbers.
        TransformError: ``f`` uses a construct s2sad cannot differentiate; the message names the file,
            line and construct (``UnsupportedSyntaxError``, ``NoRuleError``).
        SourceUnavailableError: ``f``'s source cannot be read (a C function with no rule, ``exec``).

    Examples:
        >>> import math
        >>> import numpy as np
        >>> import s2sad
        >>> def f(x, y):
        ...     total = 0.0
        ...     for i in range(3):
        ...         if i > 0:
        ...             total = total + math.sin(x * y) * i
        ...     return total
        >>> s2sad.grad(f)(1.0, 2.0) == 3 * 2.0 * math.cos(2.0)
        True
        >>> s2sad.grad(f, wrt=(0, 1))(1.0, 2.0) == (3 * 2.0 * math.cos(2.0), 3 * math.cos(2.0))
        True
        >>> s2sad.grad(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0], dtype=np.float32))
        array([ 3., 12.], dtype=float32)
    """
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
    del call.__wrapped__                          # (its signature is its own: inspect reads (*args, **kwargs))
    call.__name__ = fname
    return call


@user_frames
def vjp(f: Callable[..., Any], *args: Any, wrt: Wrt = None, optimize: Optimize = True, has_aux: bool = False,
        **kwargs: Any) -> Union[Tuple[Any, Callable[[Any], Any]], Tuple[Any, Callable[[Any], Any], Any]]:
    """Run ``f``'s forward sweep once and return its value with a pullback (a vector-Jacobian product).

    ``value, vjp_fn = vjp(f, *args)``: ``vjp_fn(cotangent)`` pulls a cotangent shaped like the value
    back to the argument(s) ``wrt``, i.e. computes ``cotangent @ J``. It can be called many times; each
    call runs only the backward sweep. ``f`` may return an array, a number or a container of them.

    Args:
        f: The function (its source is read).
        *args: The arguments to evaluate ``f`` at.
        wrt: The positional argument(s) to differentiate (an index, a name, or a tuple of them).
        optimize: Which optimizations to use (see ``s2sad.optimizations``).
        has_aux: ``f`` returns ``(value, aux)``: the result is ``(value, vjp_fn, aux)`` and only
            ``value`` is pulled back.
        **kwargs: Keyword arguments passed to ``f`` (not differentiated).

    Returns:
        ``(value, vjp_fn)``, or ``(value, vjp_fn, aux)`` with ``has_aux=True``. ``vjp_fn`` keeps copies of the
        differentiated arguments' arrays (an optimizer may change them in place before calling it); the other
        arguments, data that may be large, are kept as they are: change them in place only after the last call.
        The same holds for what the function reads from its module and its objects (a global array, a layer's
        weights): ``vjp_fn`` reads them when it runs, so a change between ``vjp`` and ``vjp_fn`` is seen.

    Raises:
        ValueError: (from ``vjp_fn``) the cotangent's structure or shape differs from the value's.
        WrtError: ``wrt`` names no parameter, or the argument holds integers or complex numbers.
        TransformError: ``f`` uses a construct s2sad cannot differentiate.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def f(x):
        ...     return np.array([x[0] * x[1], np.sin(x[0])])
        >>> value, pullback = s2sad.vjp(f, np.array([0.0, 2.0]))
        >>> value
        array([0., 0.])
        >>> pullback(np.array([1.0, 0.0]))
        array([2., 0.])
        >>> pullback(np.array([0.0, 1.0]))
        array([1., 0.])
    """
    if has_aux:
        out, pullback = vjp(f, *args, wrt=wrt, optimize=optimize, **kwargs)
        value, aux = _split_aux(out, f"vjp({_name(f)}, has_aux=True)", scalar=False)
        return value, lambda cotangent: pullback((cotangent, None)), aux
    wrt, many = wrt_indices(f, wrt)
    options = resolve_options(optimize)
    _check_differentiable(args, wrt, f"vjp({_name(f)})")
    if not _shared_across_owners(args + tuple(kwargs.values())):   # (the pullback reads them: a caller may
        memo = {}                                                 # change what it differentiates in place first)
        args = tuple(_kept(a, memo) if i in wrt else a for i, a in enumerate(args))
        if memo:                                  # another argument viewing or holding a copied one gets the copy
            args = tuple(a if i in wrt else _kept(a, memo, copy=False) for i, a in enumerate(args))
            kwargs = {k: _kept(v, memo, copy=False) for k, v in kwargs.items()}
    derivative = _derivative(f)
    if derivative is not None and kwargs:         # vjp(grad(h), x, scale=3.0): h's keywords by position, or held
        args, kwargs = _derivative_positions(f, args, kwargs)
        if kwargs:
            return vjp(_with_keywords(f, kwargs), *args, wrt=wrt if many else wrt[0], optimize=options)
    if derivative is not None and _single(derivative)[2] == "elementwise_grad":
        plain, extra = _as_plain(f, args, options)     # J·1 as plain code: P(*args, ones) (a function like any)
        return vjp(plain, *args, *extra, wrt=wrt if many else wrt[0], optimize=options)
    if derivative is not None:                    # vjp of grad(h, i): grad of h's derivative along the cotangent
        i = _single(derivative)[1][0]
        value = f(*args, **kwargs)
        directions = [None] * len(args)
        directions[i] = args[i]
        directional, i, extra = _along(derivative, args, directions, options)

        @user_frames
        def vjp_fn(cotangent):
            if _complex_in(cotangent) and not _complex_in(value):
                raise ValueError(f"vjp({_name(f)}): the cotangent is complex but the value it goes with is real: "
                                 f"pass its real and imaginary parts in two calls (the derivative is linear)")
            return grad(directional, wrt=wrt if many else wrt[0], optimize=options)(*args, *extra,
                                                                                     like(cotangent, args[i]))
        return value, vjp_fn
    t = targets.resolve(f, args, kwargs)
    args, inner = t.args, t.inner(wrt)
    _check_positional(t.fn, inner, f"vjp({_name(f)})")
    bound = pipeline.function(t.fn, inner, "vjp", _kinds(args), options, True)
    value, backward = bound.fn(*args, **t.kwargs)
    outline = _outline(value)                     # the pullback keeps the value's shapes, not the value
    value = _kept(value)                          # (what the backward sweep reads: the caller may change its copy)
    name = _name(f)
    real = not _complex_in(value)

    def vjp_fn(cotangent):
        try:
            if real and _complex_in(cotangent):
                raise ValueError(f"vjp({name}): the cotangent is complex but the value it goes with is real: pass "
                                 f"its real and imaginary parts in two calls (the derivative is linear)")
            cotangent = _kept(cotangent)          # (the gradient may be the cotangent itself, `x - target`)
            cotangent = _leaves_as_arrays(cotangent, outline, f"vjp({name}): the cotangent")
            _check_shape(cotangent, outline, f"vjp({name}): the cotangent")
            return _finish(backward(cotangent), args, inner, many)
        except Exception as exc:
            raise short_traceback(exc) from None
    return value, vjp_fn


def _kept(a, memo=None, copy=True, depth=0):
    """``a`` as the pullback of ``vjp`` keeps it: its arrays copied (in lists, tuples, dicts, namedtuples and
    records too: a record is copied with its fields' arrays copied), so that a change the caller makes in place
    afterwards does not reach the point the pullback is at. With ``memo`` (id of an array owning its memory ->
    its copy), arrays sharing memory share it in the copies too (``vjp(f, x, x)``, ``x`` and ``x.T``); with
    ``copy`` False only arrays viewing memory copied before are replaced (by the same view of the copy)."""
    if type(a) is np.ndarray:
        return _kept_array(a, memo, copy)
    if depth >= 64:
        return a
    if memo is not None and id(a) in memo and isinstance(a, (list, dict)) or is_record(a) and memo and id(a) in memo:
        return memo[id(a)][1]                          # (one list passed twice stays one: `vjp(f, L, L)`)
    if type(a) is tuple or isinstance(a, tuple) and hasattr(type(a), "_fields"):
        items = [_kept(v, memo, copy, depth + 1) for v in a]
        return a if all(k is v for k, v in zip(items, a)) else type(a)(*items) if type(a) is not tuple \
            else tuple(items)
    if type(a) is list:
        if not copy:
            return a
        kept = [_kept(v, memo, copy, depth + 1) for v in a]
    elif isinstance(a, dict):
        if not copy:
            return a
        kept = _copy.copy(a)                           # (an OrderedDict, a defaultdict keep their type)
        kept.update({k: _kept(v, memo, copy, depth + 1) for k, v in a.items()})
    elif is_record(a):
        if not copy:
            return a
        kept = _copy.copy(a)
        for name, v in fields_of(a).items():
            object.__setattr__(kept, name, _kept(v, memo, copy, depth + 1))    # (a frozen dataclass, __slots__)
    else:
        return a
    if memo is not None:
        memo[id(a)] = (a, kept)
    return kept


def _leaves(x, depth=0):
    """The arrays and numbers ``x`` holds, in lists, tuples, dicts and records too (each container once)."""
    if isinstance(x, (np.ndarray, np.generic, int, float, complex)):
        yield x
    elif depth < 64 and isinstance(x, (list, tuple)):
        for v in x:
            yield from _leaves(v, depth + 1)
    elif depth < 64 and isinstance(x, dict):
        for v in x.values():
            yield from _leaves(v, depth + 1)
    elif depth < 64 and is_record(x):
        for v in fields_of(x).values():
            yield from _leaves(v, depth + 1)


def _complex_in(x):
    """Whether ``x`` holds a complex number or array (in containers and records too)."""
    return any(np.iscomplexobj(v) for v in _leaves(x))


def _owner(a):
    """The array owning the memory of the array ``a`` (``a`` itself, or its base's base ...)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _shared_across_owners(values):
    """Whether two arrays among ``values`` (in containers and records too) that own no common memory may still
    share some (``np.frombuffer``, ``as_strided`` and ``sliding_window_view`` views, whose memory no array of theirs
    owns): ``vjp`` then keeps its arguments as they are, for the code to see them as Python does."""
    roots = {}
    for a in _leaves(values):
        if type(a) is np.ndarray:
            roots.setdefault(id(_owner(a)), {})[id(a)] = a
    groups = [list(g.values()) for g in roots.values()]
    return any(np.may_share_memory(a, b) for k, g in enumerate(groups) for h in groups[k + 1:] for a in g for b in h)


def _kept_array(a, memo, copy):
    """A copy of the array ``a`` (memory order kept: `x.ravel("K")` reads it); with ``memo``, the same view of one
    copy of the array owning ``a``'s memory (arrays sharing memory share it in the copies)."""
    if memo is None:
        return a.copy(order="K") if copy else a
    root = _owner(a)
    entry = memo.get(id(root))
    if entry is None:
        if not copy:
            return a
        if root.base is not None or not (root.flags.c_contiguous or root.flags.f_contiguous):
            return a.copy(order="K")                   # (memory s2sad does not own a copy of: a copy of its own)
        entry = memo[id(root)] = (root, root.copy(order="K"))
    root_copy = entry[1]
    if a is root:
        return root_copy
    offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return np.ndarray(a.shape, a.dtype, buffer=root_copy, offset=offset, strides=a.strides)


def _single(derivative):
    inner, wrt, kind = derivative
    if kind not in ("grad", "elementwise_grad"):
        raise WrtError(f"s2sad differentiates a function grad(f) or elementwise_grad(f) made again, not {kind}"
                       f"({_name(inner)}) (differentiate grad(f), and compute the value beside it)")
    if len(wrt) != 1:
        raise WrtError(f"s2sad differentiates grad(f) again when it is taken with respect to one argument, not "
                       f"{kind}({_name(inner)}, wrt={wrt!r}) (one grad per argument)")
    return derivative


@user_frames
def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *,
        optimize: Optimize = True) -> Tuple[Any, Any]:
    """Forward mode: the value of ``f`` and its directional derivative (a Jacobian-vector product).

    ``jvp(f, primals, tangents)`` runs generated tangent code, which computes each value and its
    tangent side by side (no stack, no backward sweep).

    Args:
        f: The function (its source is read), or a function s2sad returned (``jvp`` of ``grad(f)`` is a
            Hessian-vector product).
        primals: The arguments, one entry per positional parameter.
        tangents: One entry per primal, shaped like it (a container's tangent is the same container of
            tangents); ``None`` marks an argument held constant. Only arguments with a tangent are
            differentiated.
        optimize: Which optimizations to use (see ``s2sad.optimizations``).

    Returns:
        ``(f(*primals), tangent of the value)``; the tangent is shaped like the value.

    Raises:
        WrtError: the numbers of primals and tangents differ, every tangent is ``None``, or a
            differentiated argument holds integers.
        ValueError: a tangent's shape differs from its primal's.
        TransformError: ``f`` uses a construct s2sad cannot differentiate.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def f(x, scale):
        ...     return scale * x ** 2
        >>> s2sad.jvp(f, (np.array([1.0, 3.0]), 2.0), (np.array([1.0, 0.0]), None))
        (array([ 2., 18.]), array([4., 0.]))
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
    dots = [_apart(like(tangents[i], primals[i]), primals) for i in wrt]
    derivative = _derivative(f)
    if derivative is not None and _single(derivative)[2] == "elementwise_grad":
        plain, extra = _as_plain(f, primals, options)  # J·1 as plain code: P(*primals, ones), ones held fixed
        return jvp(plain, primals + tuple(extra), tangents + (None,) * len(extra), optimize=options)
    if derivative is not None:                    # jvp of grad(h, i): grad_i of h's derivative along the tangents
        directional, i, extra = _along(derivative, primals, tangents, options)
        g = grad(directional, wrt=i, optimize=options)(*primals, *extra, *dots)
        return f(*primals), like(g, primals[i])
    second = getattr(f, _SECOND_ORDER, None)
    if second is not None:                        # jvp of hessian(h, i) or hvp(h, i): the same of h's derivative
        return f(*primals), _second_order_tangent(second, primals, tangents, dots, options)
    t = targets.resolve(f, primals)
    inner = t.inner(wrt)
    _check_positional(t.fn, inner, f"jvp({_name(f)})")
    bound = pipeline.function(t.fn, inner, "jvp", _kinds(t.args), options, True)
    value, tangent = bound.fn(*dots, *t.args, **t.kwargs)
    return value, like(tangent, value)


_SECOND_ORDER = "_s2sad_second_order"           # on hessian(h)'s and hvp(h)'s functions: ("hessian" or "hvp", h, i)


def _second_order_tangent(second, primals, tangents, dots, options):
    """The tangent of ``hessian(h, i)(*primals)`` (or ``hvp(h, i)(*primals)``, the vector right after argument
    ``i``) along ``tangents``: the Hessian (the Hessian-vector product) of ``D``, ``h``'s derivative along the
    tangents of ``h``'s own arguments, taken as a function of them with the directions fixed; for ``hvp`` the
    vector's own tangent adds ``hvp(h)`` along it (the product is linear in the vector)."""
    what, h, i = second
    if what == "hessian":
        args, arg_tangents, arg_dots = primals, tangents, dots
    else:
        args = primals[:i + 1] + primals[i + 2:]
        arg_tangents = tangents[:i + 1] + tangents[i + 2:]
        arg_dots = [like(t, p) for t, p in zip(arg_tangents, args) if t is not None]
    plain, extra = _as_plain(h, args, options)
    J = tuple(k for k, t in enumerate(arg_tangents) if t is not None)
    if what == "hessian":
        directional = _directional(plain, J, tuple(args) + tuple(extra), options)
        return hessian(directional, wrt=i, optimize=options)(*args, *extra, *arg_dots)
    v, v_dot = primals[i + 1], tangents[i + 1]
    total = None
    if J:
        directional = _directional(plain, J, tuple(args) + tuple(extra), options)
        total = hvp(directional, wrt=i, optimize=options)(*args[:i + 1], v, *args[i + 1:], *extra, *arg_dots)
    if v_dot is not None:
        along_v = hvp(h, wrt=i, optimize=options)(*args[:i + 1], like(v_dot, v), *args[i + 1:])
        total = along_v if total is None else total + along_v
    return like(total, args[i])


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
    pieces = [np.asarray(p) for p in pieces]
    kinds = {p.dtype.kind for p in pieces}         # float32 pieces stay float32 (as grad's and hvp's do)
    dtype = np.result_type(*pieces) if kinds <= {"f"} else float
    return np.stack([p.astype(dtype, copy=False) for p in pieces], axis=-1 if columns else 0).reshape(shape)


def _container(x):
    return isinstance(x, (dict, list, tuple)) or is_record(x)


def _leaf_layout(x):
    """(shape, size) of each leaf of ``x`` (a number, an array, or containers and records of them), in the order
    ``tree.like_tree`` visits them."""
    out = []
    like_tree(None, x, lambda g, v: out.append((np.shape(v), int(np.size(v)))))
    return out


def _tree_basis(x):
    """The unit tangents of ``x``, a number, an array or a container or record of them (each shaped like ``x``)."""
    if not _container(x):
        return list(_basis(x))
    layout = _leaf_layout(x)
    n = sum(size for _, size in layout)
    out = []
    for k in range(n):
        vector, at = np.eye(1, n, k)[0], iter(np.cumsum([0] + [size for _, size in layout]))
        leaves = iter([vector[a:a + size].reshape(shape) if shape else vector[a]
                       for (shape, size), a in zip(layout, at)])
        out.append(like_tree(None, x, lambda g, v: next(leaves)))
    return out


def _flat(g, x):
    """``g`` (shaped like ``x``; None where nothing flowed) as one float vector, in ``_leaf_layout(x)``'s order."""
    parts = []
    like_tree(g, x, lambda gl, v: parts.append(np.zeros(np.size(v)) if gl is None else np.ravel(np.asarray(gl, float))))
    return np.concatenate(parts) if parts else np.zeros(0)


def _tree_jacobian(value, x, pieces, columns):
    """The Jacobian of a function with a container or record among its ``value`` and the argument ``x``, as JAX
    lays it out: the value's structure, each leaf holding ``x``'s structure of blocks shaped ``leaf.shape +
    x_leaf.shape``. ``pieces``: its columns (tangents shaped like the value, one per unit tangent of ``x``:
    ``_tree_basis``) or its rows (gradients shaped like ``x``, one per unit cotangent of the value)."""
    out_layout, in_layout = _leaf_layout(value), _leaf_layout(x)
    shape = (sum(n for _, n in out_layout), sum(n for _, n in in_layout))
    if columns:
        matrix = np.stack([_flat(t, value) for t in pieces], axis=1) if pieces else np.zeros(shape)
    else:
        matrix = np.stack([_flat(g, x) for g in pieces]) if pieces else np.zeros(shape)
    out_at = iter(zip(np.cumsum([0] + [n for _, n in out_layout]), out_layout))

    def row_block(_, o):
        a, (o_shape, m) = next(out_at)
        in_at = iter(zip(np.cumsum([0] + [n for _, n in in_layout]), in_layout))

        def block(_, i):
            b, (i_shape, n) = next(in_at)
            return matrix[a:a + m, b:b + n].reshape(tuple(o_shape) + tuple(i_shape))
        return like_tree(None, x, block)
    return like_tree(None, value, row_block)


def jacobian(f: Callable[..., Any], wrt: Wrt = 0, mode: Literal["reverse", "forward"] = "reverse", *,
             optimize: Optimize = True) -> Callable[..., Any]:
    """The Jacobian of an array- or number-valued function.

    ``jacobian(f)(*args)`` has shape ``f(*args).shape + args[wrt].shape``. ``mode="reverse"`` builds it
    a row at a time (one forward sweep, then a backward sweep per output element: cheaper for few
    outputs); ``mode="forward"`` a column at a time (a tangent run per input element: cheaper for few
    inputs). Containers (dicts, lists, tuples, namedtuples) among the value and the argument give the
    value's structure holding the argument's structure of blocks, each shaped ``leaf.shape + x_leaf.shape``
    (as JAX lays it out), and so does ``hessian`` of a container argument.

    Args:
        f: The function (its source is read).
        wrt: The argument index (or name); a tuple gives a tuple of Jacobians.
        mode: ``"reverse"`` or ``"forward"``.
        optimize: Which optimizations to use (see ``s2sad.optimizations``).

    Returns:
        A function taking ``f``'s arguments and returning the Jacobian (a float array).

    Raises:
        ValueError: ``mode`` is neither ``"reverse"`` nor ``"forward"``.
        WrtError: ``wrt`` names no parameter, or the argument holds integers.
        TransformError: ``f`` uses a construct s2sad cannot differentiate.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def f(x):
        ...     return np.array([x[0] * x[1], x[0] + 3 * x[1]])
        >>> s2sad.jacobian(f)(np.array([2.0, 5.0]))
        array([[5., 2.],
               [1., 3.]])
        >>> s2sad.jacobian(f, mode="forward")(np.array([2.0, 5.0]))
        array([[5., 2.],
               [1., 3.]])
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"jacobian mode must be 'reverse' or 'forward', got {mode!r}")
    if getattr(f, _SECOND_ORDER, None) is not None:
        mode = "forward"                           # hessian(h), hvp(h): differentiated again by jvp only
    indices, many = wrt_indices(f, wrt)

    @user_frames
    def jac(*args, **kwargs):
        args, kwargs = _keywords_as_positions(f, args, kwargs)
        if kwargs:                                 # f's keyword arguments, held as a partial's
            return jacobian(_with_keywords(f, kwargs), wrt, mode, optimize=optimize)(*args)
        _check_differentiable(args, indices, f"jacobian({_name(f)})")
        missing = [i for i in indices if not -len(args) <= i < len(args)]
        if missing:
            raise WrtError(f"jacobian({_name(f)}): wrt={missing[0]} names no argument passed by position "
                           f"({len(args)} given); pass it by position")
        blocks = []
        for i in indices:
            x = args[i]
            if mode == "forward":
                value, columns = None, []
                for e in _tree_basis(x):
                    tangents = [None] * len(args)
                    tangents[i] = e
                    value, column = jvp(f, args, tangents, optimize=optimize)
                    columns.append(column)
                if value is None:                      # (an empty argument)
                    value = f(*args)
                if _container(value) or _container(x):
                    blocks.append(_tree_jacobian(value, x, columns, columns=True))
                else:
                    blocks.append(_stack(columns, np.shape(value), np.shape(x), columns=True))
            else:
                value, pullback = vjp(f, *args, wrt=i, optimize=optimize)
                rows = [pullback(e) for e in _tree_basis(value)]
                if _container(value) or _container(x):
                    blocks.append(_tree_jacobian(value, x, rows, columns=False))
                else:
                    blocks.append(_stack(rows, np.shape(value), np.shape(x), columns=False))
        return tuple(blocks) if many else blocks[0]
    jac.__name__ = f"jacobian_{_name(f)}"
    setattr(jac, "_s2sad_jacobian", ("jacobian", f, indices))
    return jac


def _keywords_as_positions(f, args, kwargs):
    """``(args, kwargs)`` with the keyword arguments naming ``f``'s next positional parameters moved into ``args``
    (``hessian(f, wrt="y")(x, y=y)``: ``y`` is argument 1, the one differentiated)."""
    args, kwargs = keywords_as_positions(unwrap(f), args, kwargs)
    return tuple(args), kwargs


def _derivative_positions(f, args, kwargs):
    """``(args, kwargs)`` for a derivative s2sad returned (``grad(grad(h, 1))``) with the keyword arguments naming
    the positional parameters of the function it differentiates placed by position (the defaults of those left
    out between them given): a derivative's ``wrt`` counts positions, so that ``k=`` may be the one differentiated.
    Unchanged where that cannot be done (a keyword-only or unknown parameter)."""
    inner = f
    while _derivative(inner) is not None:
        inner = _derivative(inner)[0]
    try:
        params = list(inspect.signature(unwrap(inner)).parameters.values())
    except (TypeError, ValueError):
        return args, kwargs
    given = dict(zip([p.name for p in params], args))
    if len(args) > len(params) or any(k in given or k not in {p.name for p in params} for k in kwargs):
        return args, kwargs
    given.update(kwargs)
    placed = []
    for p in params[:max(i for i, p in enumerate(params) if p.name in given) + 1]:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or p.name not in given and p.default is p.empty:
            return args, kwargs
        placed.append(given[p.name] if p.name in given else p.default)
    return tuple(placed), {}


def _with_keywords(f, kwargs):
    """``f`` with keyword arguments held: a derivative s2sad returned (``grad(h, i)``) becomes the same derivative
    of ``h`` with them held, so that it is still known for one (a partial of it would be read as code)."""
    derivative = _derivative(f)
    if derivative is not None and derivative[2] in ("grad", "elementwise_grad"):
        inner, index, kind = derivative
        make = grad if kind == "grad" else elementwise_grad           # (grad(grad(h)): h's keywords held, down)
        return make(_with_keywords(inner, kwargs), index[0] if len(index) == 1 else index)
    return functools.partial(f, **kwargs)


def hessian(f: Callable[..., Any], wrt: Wrt = 0, *, optimize: Optimize = True) -> Callable[..., Any]:
    """The matrix of second derivatives of a scalar-valued function.

    ``hessian(f)(*args)`` has shape ``x.shape + x.shape`` for ``x = args[wrt]``. Each column is the
    gradient of a directional derivative (forward mode over reverse mode): the generated code is plain
    code, never reverse mode applied to reverse-mode code.

    Args:
        f: A function returning a scalar (its source is read).
        wrt: The index (or name) of one argument.
        optimize: Which optimizations to use (see ``s2sad.optimizations``).

    Returns:
        A function taking ``f``'s arguments and returning the Hessian.

    Raises:
        WrtError: ``wrt`` is a tuple, names no parameter, or the argument holds integers.
        NonScalarOutputError: ``f`` does not return a scalar.
        TransformError: ``f`` uses a construct s2sad cannot differentiate.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def f(x):
        ...     return x[0] ** 2 * x[1] + np.sum(x ** 3)
        >>> s2sad.hessian(f)(np.array([1.0, 2.0]))
        array([[10.,  2.],
               [ 2., 12.]])
    """
    index, _ = wrt_indices(f, wrt)
    if len(index) != 1:
        raise WrtError("hessian takes one argument index as wrt")
    columns = jacobian(grad(f, index[0], optimize=optimize), index[0], mode="forward", optimize=optimize)

    @user_frames
    def hess(*args, **kwargs):
        args, kwargs = _keywords_as_positions(f, args, kwargs)
        if kwargs:                                 # f's keyword arguments, held as a partial's
            return hessian(functools.partial(f, **kwargs), index[0], optimize=optimize)(*args)
        _check_differentiable(args, index, f"hessian({_name(f)})")
        return columns(*args)
    hess.__name__ = f"hessian_{_name(f)}"
    setattr(hess, _SECOND_ORDER, ("hessian", f, index[0]))
    return hess


def hvp(f: Callable[..., Any], wrt: Wrt = 0, *, optimize: Optimize = True) -> Callable[..., Any]:
    """A Hessian-vector product of a scalar-valued function, without forming the Hessian.

    ``hvp(f, wrt=k)`` returns ``product``; ``product(*args)`` with the vector ``v`` inserted right after
    argument ``k`` (``hvp(f)(x, v, *rest)`` for ``wrt=0``) is the Hessian of ``f`` with respect to
    argument ``k`` times ``v``, at the cost of a few gradients. That is the order
    ``scipy.optimize.minimize`` uses for ``hessp(x, p, *args)``, so
    ``minimize(f, x0, args=(c,), method="Newton-CG", jac=s2sad.grad(f), hessp=s2sad.hvp(f))`` is correct.

    Args:
        f: A function returning a scalar (its source is read).
        wrt: The index (or name) of one argument.
        optimize: Which optimizations to use (see ``s2sad.optimizations``).

    Returns:
        A function of ``f``'s arguments and ``v`` returning ``H @ v``, shaped like argument ``k``.

    Raises:
        WrtError: ``wrt`` is a tuple, or too few values are passed to the product.
        ValueError: ``v``'s shape differs from argument ``k``'s.
        TransformError: ``f`` uses a construct s2sad cannot differentiate.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def f(x, c):
        ...     return c * np.sum(x ** 4)
        >>> s2sad.hvp(f)(np.array([1.0, 2.0]), np.array([1.0, 1.0]), 0.5)
        array([ 6., 24.])
    """
    index, _ = wrt_indices(f, wrt)
    if len(index) != 1:
        raise WrtError("hvp takes one argument index as wrt")
    k = index[0]
    gradient = grad(f, k, optimize=optimize)

    @user_frames
    def product(*args_and_v, **kwargs):
        if kwargs:                                 # f's keyword arguments, held as a partial's
            return hvp(functools.partial(f, **kwargs), k, optimize=optimize)(*args_and_v)
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
    setattr(product, _SECOND_ORDER, ("hvp", f, k))
    return product


def differentiable(fn: Optional[F] = None, *, wrt: Wrt = 0) -> Union[F, Callable[[F], F]]:
    """Mark a function as differentiable: ``@differentiable`` or ``@differentiable(wrt=(0, 1))``.

    Calling the decorated function runs the original, unchanged. ``wrt`` becomes the default of
    ``grad``, ``value_and_grad`` and ``vjp`` for it, and says what ``s2sad compile``
    exports.

    Args:
        fn: The function (when used as ``@differentiable`` without parentheses).
        wrt: The default argument(s) to differentiate: an index, a name, or a tuple of them.

    Returns:
        The wrapped function, or (with ``fn=None``) a decorator.

    Raises:
        WrtError: ``wrt`` is not an index, a parameter name, or a non-empty tuple of them.

    Examples:
        >>> import s2sad
        >>> @s2sad.differentiable(wrt=(0, 1))
        ... def area(w, h):
        ...     return w * h
        >>> area(2.0, 3.0)
        6.0
        >>> s2sad.grad(area)(2.0, 3.0)
        (3.0, 2.0)
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
def adjoint_source(f: Callable[..., Any], wrt: Wrt = None,
                   kind: Literal["value_and_grad", "grad", "vjp"] = "value_and_grad",
                   args: Optional[Sequence[Any]] = None, mode: Literal["reverse", "forward"] = "reverse", *,
                   optimize: Optimize = True) -> str:
    """The generated derivative code of ``f``, as a string of Python source.

    Reverse mode: ``kind="value_and_grad"`` (both sweeps in one function), ``"grad"``, or ``"vjp"``
    (the forward sweep returning a closure that runs the backward sweep). ``mode="forward"``: the
    tangent code ``jvp`` runs. With example ``args``, the code specialised for them (plain float
    arithmetic where arguments are numbers), as ``grad`` runs it for such arguments. The code calls
    s2sad's runtime helpers through the alias ``_s2``.

    Args:
        f: The function (its source is read).
        wrt: The argument(s) to differentiate.
        kind: Which reverse-mode function to write.
        args: Example arguments; only their kinds (number, array ndim, container) matter.
        mode: ``"reverse"`` or ``"forward"``.
        optimize: Which optimizations to use (see ``s2sad.optimizations``).

    Returns:
        The source text.

    Raises:
        ValueError: ``mode`` is neither ``"reverse"`` nor ``"forward"``.
        TransformError: ``f`` uses a construct s2sad cannot differentiate.

    Examples:
        >>> import s2sad
        >>> def f(x):
        ...     return x * x
        >>> print(s2sad.adjoint_source(f, args=(1.0,)))
        def f_value_and_grad(x):
            ans = x * x
            ans_bar = 1.0
            # grad of line 2: return x * x
            x_bar = ans_bar * x * 2
            return (ans, x_bar)
        <BLANKLINE>
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"mode must be 'reverse' or 'forward', got {mode!r}")
    made = _derivative(f) or getattr(f, _SECOND_ORDER, None)
    if made is not None:                           # (grad(h): (h, wrt, kind); hessian(h): (kind, h, wrt))
        inner = made[1] if isinstance(made[0], str) else made[0]
        raise WrtError(f"adjoint_source takes the function itself: adjoint_source({_name(inner)}) is the code "
                       f"s2sad.grad runs for it; a derivative of a derivative runs the gradient of that code's "
                       f"directional derivative (forward mode: mode='forward' shows it)")
    wrt, _ = wrt_indices(f, wrt)
    kinds = _kinds(args or ())
    generators.refuse_alone(unwrap(f))
    return pipeline.generate(unwrap(f), wrt, "jvp" if mode == "forward" else kind, kinds,
                             resolve_options(optimize)).text


@user_frames
def show_adjoint(f: Callable[..., Any], wrt: Wrt = None,
                 kind: Literal["value_and_grad", "grad", "vjp"] = "value_and_grad",
                 args: Optional[Sequence[Any]] = None, mode: Literal["reverse", "forward"] = "reverse", *,
                 optimize: Optimize = True) -> None:
    """Print the generated derivative code of ``f``: ``adjoint_source``'s text.

    Each block of the backward sweep starts with a comment pointing at the line of ``f`` it
    differentiates.

    Args:
        f: The function (its source is read).
        wrt: The argument(s) to differentiate.
        kind: ``"value_and_grad"``, ``"grad"`` or ``"vjp"`` (see ``adjoint_source``).
        args: Example arguments; only their kinds (number, array ndim, container) matter.
        mode: ``"reverse"`` or ``"forward"``.
        optimize: Which optimizations to use (see ``s2sad.optimizations``).

    Raises:
        ValueError: ``mode`` is neither ``"reverse"`` nor ``"forward"``.
        TransformError: ``f`` uses a construct s2sad cannot differentiate.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def f(x):
        ...     return np.sum(np.sin(x))
        >>> s2sad.show_adjoint(f)
        def f_value_and_grad(x):
            _t1 = np.sin(x)
            ans = np.sum(_t1)
            # grad of line 2: return np.sum(np.sin(x))
            _t1_bar = _s2.unreduce(1.0, _t1)
            x_bar = _t1_bar * np.cos(x)
            return (ans, x_bar)
        >>> s2sad.show_adjoint(f, mode="forward")
        def f_jvp(x_dot, x):
            # line 2: return np.sum(np.sin(x))
            ans = np.sum(np.sin(x))
            ans_dot = np.sum(x_dot * np.cos(x))
            return (ans, ans_dot)
    """
    print(adjoint_source(f, wrt, kind, args, mode, optimize=optimize), end="")


markers.API.update(grad=grad, value_and_grad=value_and_grad, jvp=jvp, elementwise_grad=elementwise_grad, vjp=vjp,
                   jacobian=jacobian, hessian=hessian, hvp=hvp)
