"""What a callable handed to ``grad``/``jvp``/``vjp`` becomes: a Python function with source, some of whose
parameters may be fixed, and the arguments to call it with.

- a plain function (or a lambda): itself;
- a bound method ``model.loss``: the function ``Model.loss`` with ``self`` fixed to ``model``;
- ``functools.partial(f, a, k=b)``: ``f`` with its first parameter fixed to ``a`` and ``k`` to ``b``;
- an object with a ``__call__`` method: that method, with ``self`` fixed to the object;
- ``calls.MethodCall("m")`` (generated code's ``obj.m(...)`` on an object being differentiated): the method
  ``m`` of the object's class, the object its first argument;
- a primitive with derivative rules (``np.tanh``, ``np.sum``, a user's primitive): a one-line function
  calling it, written by s2sad and read like a user's (``def tanh(a0): return _primitive(a0)``), so that
  the primitive's rules apply as anywhere else.

Arguments passed by keyword to positional parameters become positional (``grad(f)(w=w, X=X)``).
``wrt`` counts the arguments of the call the user writes; ``Target.inner`` maps each of them to the
function's own parameter position.
"""
import functools
import inspect
import types
from dataclasses import dataclass, field

from .calls import MethodCall
from .errors import TransformError
from .front import generators, source as front_source
from .front.source import unwrap
from .rules import registry

__all__ = ["Target", "resolve"]


@dataclass
class Target:
    fn: object                       # a Python function s2sad can read
    args: tuple                      # its positional arguments, fixed ones included
    kwargs: dict = field(default_factory=dict)
    positions: tuple = ()            # for each argument of the user's call, its position in ``args``
    fixed: dict = field(default_factory=dict)   # position -> value s2sad passes (``self``, a partial's)

    def inner(self, wrt):
        """The user's argument indices ``wrt`` as positions of ``fn``'s parameters."""
        n = len(self.positions)
        return tuple(self.positions[i if i >= 0 else n + i] if -n <= i < n else i for i in wrt)


def refuse_made(f):
    """``jacobian(g)``, ``hessian(h)`` and ``hvp(h)`` are s2sad's loops over vjp/jvp calls, not code to read: refused
    in reverse mode with what works instead (jvp of hessian and hvp is defined, api._second_order_tangent); so is
    ``np.vectorize(g)``, NumPy's loop over ``g``."""
    import numpy as np
    if isinstance(f, np.vectorize):
        raise TransformError(f"np.vectorize({getattr(f.pyfunc, '__name__', 'f')}) is not differentiated (NumPy's "
                             f"loop over the function, with its own signature handling)",
                             hint="call the function on arrays directly (NumPy's operations are elementwise), or "
                                  "loop over the items in your code")
    made = getattr(f, "_s2sad_second_order", None) or getattr(f, "_s2sad_jacobian", None)
    if made is not None:
        name = f"{made[0]}({getattr(made[1], '__name__', made[1])})"
        raise TransformError(f"{name} is not differentiated again in reverse mode",
                             hint="s2sad.jvp of it, or s2sad.jacobian(..., mode='forward')" if made[0] != "jacobian"
                             else "for second derivatives of a scalar function, s2sad.hessian(f) or "
                                  "s2sad.jacobian(s2sad.grad(f))")


def resolve(f, args=(), kwargs=None):
    """The Target for calling ``f(*args, **kwargs)``."""
    kwargs = dict(kwargs or {})
    prefix, fixed_kw = (), {}
    refuse_made(f)
    while True:
        if registry.has_rule(f):                  # np.sum's __wrapped__ is NumPy's inner function, without rules
            break
        f = unwrap(f)
        if isinstance(f, functools.partial):
            prefix = tuple(f.args) + prefix           # the inner partial's arguments come first
            fixed_kw = {**f.keywords, **fixed_kw}
            f = f.func
        elif isinstance(f, types.MethodType):
            prefix = (f.__self__,) + prefix
            f = f.__func__
        elif isinstance(f, (staticmethod, classmethod)):
            f = f.__func__
        elif isinstance(f, MethodCall) and args:         # obj.m(...) on an object being differentiated
            f = f.function(args[0], len(args) - 1, tuple(kwargs))
        elif not inspect.isroutine(f) and not isinstance(f, type) and callable(f) \
                and inspect.isfunction(getattr(type(f), "__call__", None)):
            prefix = (f,) + prefix
            f = type(f).__call__
        else:
            break
    if not registry.has_rule(f):
        generators.refuse_alone(f)                # its list of items is not the iterator it returns
    if registry.has_rule(f):                      # a primitive (np.sum is a Python function, with a rule)
        merged = {**fixed_kw, **kwargs}
        caller = _primitive_caller(f, len(prefix) + len(args), tuple(merged))
        full = prefix + tuple(args) + tuple(merged.values())
        held = {k: v for k, v in enumerate(full) if not len(prefix) <= k < len(prefix) + len(args)}
        return Target(fn=caller, args=full, positions=tuple(range(len(prefix), len(prefix) + len(args))),
                      fixed=held)                 # (the keywords too: `partial(np.max, axis=0)`'s axis)
    if not inspect.isfunction(f) or not prefix and not fixed_kw and not kwargs:
        return Target(fn=f, args=tuple(args), kwargs=kwargs, positions=tuple(range(len(args))))
    return _bind(f, prefix, fixed_kw, tuple(args), kwargs)


def _in_order(fn, prefix, fixed_kw, args, kwargs):
    """The fixed values first, then the user's arguments (a function taking ``*args``): the fixed ones are
    held (a derivative of a derivative passes them again)."""
    return Target(fn=fn, args=prefix + args, kwargs={**fixed_kw, **kwargs},
                  positions=tuple(range(len(prefix), len(prefix) + len(args))), fixed=dict(enumerate(prefix)))


def _bind(fn, prefix, fixed_kw, args, kwargs):
    """Place the fixed values and the user's arguments on ``fn``'s parameters."""
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = [p.name for p in positional]
    values, fixed = {}, {}
    for k, v in enumerate(prefix):
        if k >= len(names):
            return _in_order(fn, prefix, fixed_kw, args, kwargs)
        values[names[k]] = v
        fixed[k] = v
    for name, v in fixed_kw.items():
        if name in names:
            values[name] = v
            fixed[names.index(name)] = v
    free = [n for n in names if n not in values]
    user_positions = []
    for k, v in enumerate(args):
        if k < len(free):
            values[free[k]] = v
            user_positions.append(names.index(free[k]))
        else:                                     # more arguments than parameters: *args, or the call reports it
            return _in_order(fn, prefix, fixed_kw, args, kwargs)
    rest = {}
    for name, v in {**{k: v for k, v in fixed_kw.items() if k not in names}, **kwargs}.items():
        if name in names and name not in values:
            values[name] = v
            user_positions.append(names.index(name))
        else:
            rest[name] = v
    last = max((names.index(n) for n in values), default=-1)
    full = []
    for p in positional[:last + 1]:
        if p.name in values:
            full.append(values[p.name])
        elif p.default is not p.empty:           # a default before a fixed value: passed, and held like it
            fixed[len(full)] = p.default
            full.append(p.default)
        else:                                     # a missing argument: the call reports it
            return Target(fn=fn, args=prefix + args, kwargs={**fixed_kw, **kwargs},
                          positions=tuple(range(len(prefix), len(prefix) + len(args))))
    # ``wrt=i``: the i-th parameter the user gives, by position or by keyword, in the signature's order
    return Target(fn=fn, args=tuple(full), kwargs=rest, positions=tuple(sorted(user_positions)), fixed=fixed)


_callers = {}


def _primitive_caller(primitive, n, keywords):
    """``def <name>(a0, ..., k_kw, ...): return _primitive(a0, ..., kw=k_kw, ...)``: s2sad's source for a call of
    a primitive (its rules then apply as in any user function). Cached per primitive and call shape."""
    key = (registry._key(primitive), n, keywords)
    caller = _callers.get(key)
    if caller is not None:
        return caller
    name = getattr(primitive, "__name__", "primitive")
    name = name if name.isidentifier() else "primitive"
    positional = [f"a{k}" for k in range(n)]
    params = positional + [f"k_{k}" for k in keywords]
    call = ", ".join(positional + [f"{k}=k_{k}" for k in keywords])
    filename = f"<s2sad call of {name}>"
    text = f"def {name}({', '.join(params)}):\n    return _primitive({call})\n"
    scope = {"_primitive": primitive}
    exec(compile(text, filename, "exec"), scope)                       # noqa: S102 -- s2sad's own text
    caller = scope[name]
    front_source.register_generated(caller.__code__, text, filename)
    _callers[key] = caller
    return caller
