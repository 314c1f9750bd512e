"""The user-facing functions: grad, value_and_grad, vjp, differentiable, show_adjoint."""
import functools

import numpy as np

from . import driver
from .front.source import unwrap
from .errors import WrtError
from .runtime import like

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "differentiable", "show_adjoint",
           "adjoint_source", "stop_gradient", "checkpoint"]


def _wrt(f, wrt):
    """Normalize ``wrt`` to (tuple of indices, whether to return a tuple)."""
    if wrt is None:
        wrt = getattr(f, "__s2sad_wrt__", 0)
    if isinstance(wrt, (int, np.integer)) and not isinstance(wrt, bool):
        return (int(wrt),), False
    if isinstance(wrt, (tuple, list)) and wrt and all(isinstance(i, (int, np.integer)) for i in wrt):
        return tuple(int(i) for i in wrt), True
    raise WrtError(f"wrt must be an int or a non-empty tuple of ints, got {wrt!r}")


def _as_float(args, wrt):
    """Integer inputs in ``wrt`` are differentiated as floats."""
    for i in wrt:
        if not -len(args) <= i < len(args):
            continue                            # the transform reports a wrt out of range
        a = args[i]
        if type(a) is int or (type(a) is np.ndarray and a.dtype.kind in "iub"):
            args = list(args)
            args[i] = float(a) if type(a) is int else a.astype(float)
    return args


def _finish(grads, args, wrt, many):
    if many and len(wrt) == 1:
        grads = (grads,)                       # generated code returns one gradient bare
    if many:
        return tuple(like(g, args[i]) for g, i in zip(grads, wrt))
    return like(grads, args[wrt[0]])


_NUMBER_TYPES = frozenset({float, int})


def _kind(a, _numbers=_NUMBER_TYPES, _array=np.ndarray):
    """What generated code is specialised on: -1 for a Python number, the ndim of an array, the
    kinds of a tuple's or list's items (up to 16), else None."""
    t = type(a)
    if t in _numbers:
        return -1
    if t is _array:
        return a.ndim
    if (t is tuple or t is list) and len(a) <= 16:
        return tuple(map(_kind, a))
    return None


def _kinds(args):
    return tuple(map(_kind, args))


def _function(f, wrt, kind, kinds=()):
    """The generated function for ``f`` (compiled and bound on first use, then reused)."""
    user_fn = driver.concrete(unwrap(f), kinds)       # grad(f) given: the generated code it runs
    return driver.generate(user_fn, wrt, kind, kinds).bind(user_fn)


def _wrapper(f, wrt, value_too):
    """The function ``grad``/``value_and_grad`` return: a dictionary lookup, then generated code."""
    wrt, many = _wrt(f, wrt)
    first = wrt[0]
    compiled = {}                                  # kinds of the arguments -> generated function
    floats = {}                                    # argument types, all float -> generated function

    def call(*args, **kwargs):
        fn = floats.get(tuple(map(type, args)))    # Python floats only: the types say it all
        if fn is None:
            args = _as_float(args, wrt)
            key = tuple(map(_kind, args))
            fn = compiled.get(key)
            if fn is None:
                fn = compiled[key] = _function(f, wrt, "value_and_grad", key)
                if all(type(a) is float for a in args):
                    floats[tuple(map(type, args))] = fn
        value, grads = fn(*args, **kwargs)
        grads = _finish(grads, args, wrt, many) if many else like(grads, args[first])
        return (value, grads) if value_too else grads
    functools.update_wrapper(call, unwrap(f))
    call.__wrapped__ = None
    call.__name__ = f"{'value_and_grad' if value_too else 'grad'}_{getattr(f, '__name__', 'f')}"
    call.__s2sad_derivative__ = (f, wrt, "value_and_grad" if value_too else "grad")   # differentiable again
    return call


def value_and_grad(f, wrt=None):
    """``value_and_grad(f)(*args)`` returns ``(f(*args), gradient)``.

    ``wrt`` is a positional parameter index (default 0, or the decorator's) or a tuple
    of them (the gradient is then a tuple). ``f`` must return a scalar.
    """
    return _wrapper(f, wrt, value_too=True)


def grad(f, wrt=None):
    """``grad(f)(*args)``: the gradient of scalar-valued ``f`` with respect to argument ``wrt``."""
    return _wrapper(f, wrt, value_too=False)


def vjp(f, *args, wrt=None, **kwargs):
    """Run ``f``'s forward sweep once: returns ``(value, vjp_fn)``.

    ``vjp_fn(cotangent)`` pulls a cotangent shaped like the value back to the
    argument(s) ``wrt``; it can be called many times.
    """
    wrt, many = _wrt(f, wrt)
    args = _as_float(args, wrt)
    value, backward = _function(f, wrt, "vjp", _kinds(args))(*args, **kwargs)

    def vjp_fn(cotangent):
        return _finish(backward(cotangent), args, wrt, many)
    return value, vjp_fn


def jvp(f, primals, tangents):
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
    args = _as_float(primals, wrt)
    dots = [like(tangents[i], args[i]) for i in wrt]
    value, tangent = _function(f, wrt, "jvp", _kinds(args))(*dots, *args)
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


def jacobian(f, wrt=0, mode="reverse"):
    """``jacobian(f)(*args)``: the Jacobian of ``f`` (array or number valued) with respect to argument
    ``wrt`` (an array or a number), shaped ``f(*args).shape + args[wrt].shape``.

    ``mode="reverse"`` builds it a row at a time (one forward sweep, a backward sweep per output
    element); ``mode="forward"`` a column at a time (a tangent run per input element). A tuple
    ``wrt`` gives a tuple of Jacobians.
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"jacobian mode must be 'reverse' or 'forward', got {mode!r}")
    indices, many = _wrt(f, wrt)

    def jac(*args):
        args = _as_float(args, indices)
        blocks = []
        for i in indices:
            in_shape = np.shape(args[i])
            if mode == "forward":
                fn = _function(f, (i,), "jvp", _kinds(args))
                value = None
                columns = []
                for e in _basis(args[i]):
                    value, column = fn(e, *args)
                    columns.append(column)
                out_shape = np.shape(value) if value is not None else np.shape(f(*args))
                blocks.append(_stack(columns, out_shape, in_shape, columns=True))
            else:
                value, pullback = vjp(f, *args, wrt=i)
                rows = [pullback(e) for e in _basis(value)]
                blocks.append(_stack(rows, np.shape(value), in_shape, columns=False))
        return tuple(blocks) if many else blocks[0]
    jac.__name__ = f"jacobian_{getattr(f, '__name__', 'f')}"
    return jac


def hessian(f, wrt=0):
    """``hessian(f)(*args)``: the matrix of second derivatives of scalar-valued ``f`` with respect to
    argument ``wrt``, shaped ``x.shape + x.shape``; forward mode over the reverse-mode gradient."""
    index, _ = _wrt(f, wrt)
    if len(index) != 1:
        raise WrtError("hessian takes one argument index as wrt")
    return jacobian(grad(f, index[0]), index[0], mode="forward")


def hvp(f, wrt=0):
    """``hvp(f, wrt=k)`` returns ``product(*args)`` computing the Hessian of scalar-valued ``f`` with
    respect to argument ``k`` times a vector ``v``, without forming the Hessian.

    ``v`` is passed right after the argument it multiplies: ``hvp(f)(x, v, *rest)`` for ``wrt=0``,
    the order ``scipy.optimize.minimize`` uses for ``hessp(x, p, *args)``, so
    ``minimize(f, x0, args=(c,), jac=s2sad.grad(f), hessp=s2sad.hvp(f))`` is correct.
    """
    index, _ = _wrt(f, wrt)
    if len(index) != 1:
        raise WrtError("hvp takes one argument index as wrt")
    k = index[0]
    gradient = grad(f, k)

    def product(*args_and_v):
        position = k if k >= 0 else len(args_and_v) - 1 + k
        if not 0 <= position < len(args_and_v) - 1:
            raise WrtError(f"hvp(f, wrt={k}) needs the arguments of f and the vector v right after argument {k}; "
                           f"got {len(args_and_v)} value(s)")
        args = list(args_and_v[:position + 1]) + list(args_and_v[position + 2:])
        v = args_and_v[position + 1]
        if np.shape(v) != np.shape(args[position]):
            raise ValueError(f"hvp: the vector has shape {np.shape(v)} but argument {k} of "
                             f"{getattr(f, '__name__', 'f')} has shape {np.shape(args[position])}")
        tangents = [None] * len(args)
        tangents[position] = v
        return jvp(gradient, args, tangents)[1]
    product.__name__ = f"hvp_{getattr(f, '__name__', 'f')}"
    return product


def differentiable(fn=None, *, wrt=0):
    """Mark a function as differentiable (``@differentiable`` or ``@differentiable(wrt=(0, 1))``).

    Calling the decorated function runs the original, unchanged. ``wrt`` becomes the
    default of ``grad``/``value_and_grad``/``vjp`` for it, and of ``s2sad compile``.
    """
    if fn is None:
        return lambda f: differentiable(f, wrt=wrt)
    _wrt(fn, wrt)                                   # validate early

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    wrapper.__s2sad_wrt__ = wrt
    return wrapper


def adjoint_source(f, wrt=None, kind="value_and_grad", args=None, mode="reverse"):
    """The generated derivative code of ``f`` as a string.

    Reverse mode: ``kind="value_and_grad"`` (both sweeps in one function) or ``"vjp"`` (the
    forward sweep returning a closure that runs the backward sweep). ``mode="forward"``: the
    tangent code ``jvp`` runs. With example ``args``, the code specialised for them (plain
    float arithmetic where arguments are numbers), as ``grad`` runs it for such arguments.
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"mode must be 'reverse' or 'forward', got {mode!r}")
    wrt, _ = _wrt(f, wrt)
    kinds = _kinds(args or ())
    return driver.generate(driver.concrete(unwrap(f), kinds), wrt, "jvp" if mode == "forward" else kind, kinds).text


def show_adjoint(f, wrt=None, kind="value_and_grad", args=None, mode="reverse"):
    """Print the generated derivative code of ``f`` (for example ``args``, if given);
    ``mode="forward"`` prints the tangent code."""
    print(adjoint_source(f, wrt, kind, args, mode), end="")


def checkpoint(fn):
    """Mark user function ``fn`` (as a decorator, or ``g = checkpoint(f)``) so that reverse mode stores
    none of its intermediates: the backward sweep runs its forward sweep again where it needs them.
    Memory for time: what the caller stores for a call is then only the call's arguments."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    wrapper.__s2sad_checkpoint__ = True
    return wrapper


def stop_gradient(x):
    """``x`` itself, through which no derivative flows (a constant to the differentiated code)."""
    return x
