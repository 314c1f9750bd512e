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
"""

_VJP = {}          # primitive object -> reverse rule
_NONDIFF = {}      # primitive object -> True: contributes no derivative
_METHODS = {}      # ndarray method name -> (primitive, packs_varargs)
_ATTRIBUTES = {}   # ndarray attribute name -> primitive applied to the array


def _key(obj):
    try:
        hash(obj)
        return obj
    except TypeError:
        return ("id", id(obj))


def vjp(*primitives):
    """Decorator: register the decorated function as the reverse rule of each primitive."""
    if not primitives:
        raise TypeError("vjp() needs the primitive(s) the rule is for, e.g. @vjp(np.sin)")

    def register(rule):
        for p in primitives:
            _VJP[_key(p)] = rule
            _NONDIFF.pop(_key(p), None)
        return rule
    return register


def nondiff(*primitives):
    """Register primitives whose output carries no derivative (floor, sign, argmax, shape, ...)."""
    for p in primitives:
        _NONDIFF[_key(p)] = True
        _VJP.pop(_key(p), None)


def method(name, primitive, packs_varargs=False):
    """``x.name(*args)`` differentiates like ``primitive(x, *args)``.

    ``packs_varargs``: the method takes a shape as separate arguments
    (``x.reshape(2, 3)`` is ``np.reshape(x, (2, 3))``).
    """
    _METHODS[name] = (primitive, packs_varargs)


def attribute(name, primitive):
    """``x.name`` differentiates like ``primitive(x)`` (``x.T`` is ``np.transpose(x)``)."""
    _ATTRIBUTES[name] = primitive


def vjp_rule(primitive):
    return _VJP.get(_key(primitive))


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
