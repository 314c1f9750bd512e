"""The one way to register a derivative rule; used by s2sad's own tables and by users.

A reverse rule is a plain function ``rule(g, ans, *args, **kwargs)`` returning the
adjoint of each leading positional argument (a tuple, or a single value when the
first argument is the only differentiable one; ``None`` for an argument with no
derivative). The compiler inlines its body into the generated code, so a rule is
straight-line code ending in ``return``::

    @vjp(np.sin)
    def sin_vjp(g, ans, x): return g * np.cos(x)

    @vjp(my_c_function)                       # a user's primitive
    def my_c_function_vjp(g, ans, x, y): return g * y, g * x

A forward rule has the same signature; ``g`` is then the *tangent* of one argument and
the rule returns, per leading positional argument, that argument's contribution to the
tangent of the result (the contributions of the arguments being differentiated are
added)::

    @jvp(my_c_function)
    def my_c_function_jvp(g, ans, x, y): return g * y, x * g

An elementwise function's Jacobian is diagonal, so one rule serves both modes:
``@elementwise(np.sin)`` registers it as the reverse and the forward rule. In forward
mode ``unbroadcast(e, x)`` (sum ``e`` down to ``x``'s shape) becomes ``broadcast(e, ans)``
(expand ``e`` to the result's shape).
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, TypeVar

R = TypeVar("R", bound=Callable[..., Any])

_VJP = {}          # primitive object -> reverse rule
_JVP = {}          # primitive object -> forward rule
_ELEMENTWISE = set()  # primitives whose forward rule is their reverse rule (unbroadcast -> broadcast)
_VJP_NDIM = {}     # (primitive, argument ndims) -> reverse rule for arguments of those ndims
_NONDIFF = {}      # primitive object -> True: contributes no derivative
_METHODS = {}      # ndarray method name -> (primitive, packs_varargs)
_ATTRIBUTES = {}   # ndarray attribute name -> primitive applied to the array


_version = [0]     # bumped by every registration: generated code made before a new rule is not reused


def version():
    return _version[0]


def _changed():
    _version[0] += 1


def _key(obj):
    try:
        hash(obj)
        return obj
    except TypeError:
        return ("id", id(obj))


def _check_users_rule(rule):
    """A user's rule names the function's parameters one by one: its results are matched to them by position
    (``*args`` took the first adjoint for all of them)."""
    if (getattr(rule, "__module__", None) or "s2sad").startswith("s2sad"):
        return
    import inspect
    try:
        params = inspect.signature(rule).parameters.values()
    except (TypeError, ValueError):
        return
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        raise TypeError(f"the rule {getattr(rule, '__qualname__', rule)} takes *args or **kwargs: name the "
                        f"function's parameters one by one (`def p_vjp(g, ans, x, y, k=1.0)`), its results are "
                        f"matched to them in order")


def vjp(*primitives: Any, ndims: Optional[Sequence[int]] = None) -> Callable[[R], R]:
    """Decorator: register the decorated function as the reverse-mode rule of each primitive.

    The rule is ``rule(g, ans, *args, **kwargs)``: ``g`` the adjoint of the result, ``ans`` the result,
    then the primitive's arguments. It returns the adjoint of each leading positional argument (a
    tuple, or one value when only the first argument is differentiable; ``None`` for an argument with
    no derivative). Its body is inlined into the generated code, so it is straight-line code ending in
    ``return``, calling functions that have rules themselves (then derivatives of derivatives work).
    Registering a rule invalidates generated code made before it.

    Args:
        *primitives: The functions (a user's C function, a NumPy function, ...) the rule is for.
        ndims: Use the rule only where the arguments are known to have these numbers of dimensions
            (``ndims=(2, 1)``: ``X.T @ g`` instead of a rule that handles every case).

    Returns:
        A decorator returning the rule unchanged.

    Raises:
        TypeError: no primitive is given.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> __name__ = "model"   # this doctest runs in s2sad's namespace: make its functions a user module's
        >>> def softplus(x):                  # say, a compiled function s2sad cannot read
        ...     return np.logaddexp(0.0, x)
        >>> @s2sad.rules.vjp(softplus)
        ... def softplus_vjp(g, ans, x):
        ...     return g * np.exp(x - ans)
        >>> def f(x):
        ...     return np.sum(softplus(x))
        >>> x = np.array([-1.0, 0.0, 2.0])
        >>> np.allclose(s2sad.grad(f)(x), 1 / (1 + np.exp(-x)))
        True
    """
    if not primitives:
        raise TypeError("vjp() needs the primitive(s) the rule is for, e.g. @vjp(np.sin)")

    def register(rule):
        _check_users_rule(rule)
        _changed()
        for p in primitives:
            if ndims is not None:
                _VJP_NDIM[(_key(p), tuple(ndims))] = rule
                continue
            _VJP[_key(p)] = rule
            _NONDIFF.pop(_key(p), None)
        return rule
    return register


def jvp(*primitives: Any) -> Callable[[R], R]:
    """Decorator: register the decorated function as the forward-mode rule of each primitive.

    The rule has a reverse rule's signature ``rule(g, ans, *args, **kwargs)``; ``g`` is then the
    *tangent* of one argument, and the rule returns, per leading positional argument, that argument's
    contribution to the tangent of the result (the contributions of the differentiated arguments are
    added). Forward mode is what ``s2sad.jvp``, ``s2sad.hessian``, ``s2sad.hvp`` and
    ``grad(grad(f))`` use.

    Args:
        *primitives: The functions the rule is for.

    Returns:
        A decorator returning the rule unchanged.

    Raises:
        TypeError: no primitive is given.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> __name__ = "model"   # this doctest runs in s2sad's namespace: make its functions a user module's
        >>> def scaled_product(x, y):           # a primitive of two arguments
        ...     return 3.0 * x * y
        >>> @s2sad.rules.jvp(scaled_product)
        ... def scaled_product_jvp(g, ans, x, y):
        ...     return 3.0 * g * y, 3.0 * x * g
        >>> s2sad.jvp(scaled_product, (2.0, 5.0), (1.0, 0.0))
        (30.0, 15.0)
    """
    if not primitives:
        raise TypeError("jvp() needs the primitive(s) the rule is for, e.g. @jvp(np.sin)")

    def register(rule):
        _check_users_rule(rule)
        _changed()
        for p in primitives:
            _JVP[_key(p)] = rule
            _ELEMENTWISE.discard(_key(p))
            _NONDIFF.pop(_key(p), None)
        return rule
    return register


def elementwise(*primitives: Any) -> Callable[[R], R]:
    """Decorator: the rule of an elementwise function, used as its reverse and its forward rule.

    An elementwise function's Jacobian is diagonal, so ``g * f'(x)`` serves both modes; in forward mode
    ``unbroadcast(e, x)`` (sum ``e`` down to ``x``'s shape) becomes ``broadcast(e, ans)``.

    Args:
        *primitives: The elementwise functions the rule is for.

    Returns:
        A decorator returning the rule unchanged.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> __name__ = "model"   # this doctest runs in s2sad's namespace: make its functions a user module's
        >>> def cube(x):
        ...     return x ** 3
        >>> @s2sad.rules.elementwise(cube)
        ... def cube_rule(g, ans, x):
        ...     return g * 3.0 * x ** 2
        >>> s2sad.grad(lambda x: np.sum(cube(x)))(np.array([1.0, 2.0]))
        array([ 3., 12.])
        >>> s2sad.jvp(cube, (np.array([1.0, 2.0]),), (np.ones(2),))[1]
        array([ 3., 12.])
    """
    def register(rule):
        vjp(*primitives)(rule)
        jvp(*primitives)(rule)
        for p in primitives:
            _ELEMENTWISE.add(_key(p))
        return rule
    return register


def nondiff(*primitives: Any) -> None:
    """Register primitives whose output carries no derivative (floor, sign, argmax, shape, ...).

    Differentiated code treats their results as constants.

    Args:
        *primitives: The functions.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> __name__ = "model"   # this doctest runs in s2sad's namespace: make its functions a user module's
        >>> def bucket(x):
        ...     return np.floor(x * 4.0)
        >>> s2sad.rules.nondiff(bucket)
        >>> s2sad.grad(lambda x: x * bucket(x))(1.3)
        5.0
    """
    _changed()
    for p in primitives:
        _NONDIFF[_key(p)] = True
        _VJP.pop(_key(p), None)
        _JVP.pop(_key(p), None)


def method(name: str, primitive: Callable[..., Any], packs_varargs: bool = False) -> None:
    """Declare that the array method ``x.name(*args)`` differentiates like ``primitive(x, *args)``.

    Args:
        name: The method's name (``"cumsum"``).
        primitive: A function with rules (``np.cumsum``).
        packs_varargs: The method takes a shape as separate arguments (``x.reshape(2, 3)`` is
            ``np.reshape(x, (2, 3))``).
    """
    _changed()
    _METHODS[name] = (primitive, packs_varargs)


def attribute(name: str, primitive: Callable[..., Any]) -> None:
    """Declare that the array attribute ``x.name`` differentiates like ``primitive(x)`` (``x.T`` is
    ``np.transpose(x)``).

    Args:
        name: The attribute's name.
        primitive: A function of one argument with rules.
    """
    _changed()
    _ATTRIBUTES[name] = primitive


def vjp_rule(primitive, ndims=None):
    """The rule for ``primitive``; for arguments of known ``ndims`` the rule specialised to them, if any."""
    if ndims is not None:
        rule = _VJP_NDIM.get((_key(primitive), tuple(ndims)))
        if rule is not None:
            return rule
    return _VJP.get(_key(primitive))


def jvp_rule(primitive):
    """The forward rule for ``primitive`` and whether it is an elementwise rule shared with reverse mode."""
    key = _key(primitive)
    return _JVP.get(key), key in _ELEMENTWISE


def has_rule(primitive):
    """Whether ``primitive`` has a rule of its own in either mode (it is then never traced into)."""
    key = _key(primitive)
    return key in _VJP or key in _JVP or key in _NONDIFF


def registered_jvps():
    return list(_JVP.items())


def registered_ndim_vjps():
    return list(_VJP_NDIM.items())


def is_nondiff(primitive):
    return _key(primitive) in _NONDIFF


def method_primitive(name):
    return _METHODS.get(name)


def attribute_primitive(name):
    return _ATTRIBUTES.get(name)


def registered_vjps():
    """Every (primitive, rule) pair, for the rule-table test."""
    return list(_VJP.items())


def registered_nondiff():
    return list(_NONDIFF)


_DEFINERS = []     # functions (object, attribute) -> a Python function that defines object.attribute, or None


def definer(fn):
    """Register ``fn(obj, attr)``: for an object that is not a module (``scipy.stats.norm``), the plain Python
    function that ``obj.attr`` is differentiated as (from its source), or None. rules/scipy_stats.py."""
    _changed()
    _DEFINERS.append(fn)
    return fn


def _first(fns, obj, name):
    """The first answer other than None of ``fn(obj, name)`` over ``fns``, else None."""
    for fn in fns:
        found = fn(obj, name)
        if found is not None:
            return found
    return None


_EXPLAINERS = []    # functions (object, label) -> (what, hint) saying why a function with no rule has none, or None


def explainer(fn):
    """Register ``fn(obj, label)``: for a library function with no rule, the message and hint of its refusal
    (``label`` is how the user's code names it), or None. rules/scipy_stats.py."""
    _EXPLAINERS.append(fn)
    return fn


def explain(obj, label):
    """Why ``obj`` (called as ``label``) has no derivative, as (what, hint), when an explainer knows, else None."""
    return _first(_EXPLAINERS, obj, label)


def definition(obj, attr):
    """What ``obj.attr`` is differentiated as, when a definer knows it, else None."""
    return _first(_DEFINERS, obj, attr)
