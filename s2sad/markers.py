"""What user code and the compiler both need to know about s2sad's own API, with no other s2sad import.

A leaf module: the markers users put in their code (``stop_gradient``, ``checkpoint``), the one
normalisation of ``wrt``, and the recognisers the compiler uses to spot them. Rule tables and
the compiler import it; it imports nothing of s2sad but ``errors``, so there is no cycle.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

import numpy as np

from .errors import WrtError

__all__ = ["stop_gradient", "checkpoint", "is_checkpoint", "wrt_indices", "DERIVATIVE_ATTRIBUTE"]

# a function s2sad returned (``grad(f)``) carries (f, wrt, kind) under this attribute
DERIVATIVE_ATTRIBUTE = "__s2sad_derivative__"

# the API's operators by name, filled in by api.py: the front end recognises ``s2sad.grad(f)(x)`` in user code
API = {}

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def stop_gradient(x: T) -> T:
    """``x`` itself, through which no derivative flows: a constant to the differentiated code.

    Calling it outside differentiated code does nothing. Inside, the value is used as computed but
    contributes no derivative (as ``jax.lax.stop_gradient`` and ``torch.Tensor.detach``).

    Args:
        x: Any value (a number, an array, a container).

    Returns:
        ``x``, unchanged.

    Examples:
        >>> import s2sad
        >>> def f(x):
        ...     return x * s2sad.stop_gradient(x)
        >>> f(3.0), s2sad.grad(f)(3.0)
        (9.0, 3.0)
    """
    return x


def checkpoint(fn: F) -> F:
    """Mark user function ``fn`` so that reverse mode stores none of its intermediates.

    Use it as a decorator or as ``g = checkpoint(f)``. The backward sweep runs ``fn``'s forward sweep
    again where it needs its intermediates: memory for time, what the caller stores for a call being
    only the call's arguments. The random number generators the function can reach (NumPy's global
    one, Python's ``random``, and NumPy ``Generator``/``RandomState`` objects passed to it or among its
    globals) are rewound for the second run, so it sees the same draws. Calling the marked function
    runs ``fn`` unchanged; derivatives are the same as without the mark.

    Args:
        fn: A Python function (its source is read when it is differentiated).

    Returns:
        A wrapper that calls ``fn``, carrying the mark.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> __name__ = "model"   # this doctest runs in s2sad's namespace: make its functions a user module's
        >>> @s2sad.checkpoint
        ... def layer(x):
        ...     return np.tanh(x) * 2.0
        >>> def loss(x):
        ...     return np.sum(layer(layer(x)))
        >>> x = np.array([0.1, 0.2])
        >>> with_mark = s2sad.grad(loss)(x)
        >>> inner = np.tanh(x) * 2.0
        >>> np.allclose(with_mark, 2 * (1 - np.tanh(inner) ** 2) * 2 * (1 - np.tanh(x) ** 2))
        True
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    wrapper.__s2sad_checkpoint__ = True
    return wrapper


def is_checkpoint(obj):
    """Whether ``obj`` (or a function it wraps) was marked with ``checkpoint``."""
    while obj is not None:
        if getattr(obj, "__s2sad_checkpoint__", False):
            return True
        obj = getattr(obj, "__wrapped__", None)
    return False


def wrt_indices(f, wrt):
    """Normalize ``wrt`` to (tuple of positional indices, whether the caller asked for a tuple).

    ``None`` means the decorator's default (``@differentiable(wrt=...)``), else 0.
    """
    if wrt is None:
        wrt = getattr(f, "__s2sad_wrt__", 0)
    if isinstance(wrt, str) or isinstance(wrt, (tuple, list)) and any(isinstance(i, str) for i in wrt):
        names = wrt if isinstance(wrt, (tuple, list)) else [wrt]
        found = tuple(_position(f, n) if isinstance(n, str) else n for n in names)
        return wrt_indices(f, found if isinstance(wrt, (tuple, list)) else found[0])
    if isinstance(wrt, (int, np.integer)) and not isinstance(wrt, (bool, np.bool_)):
        return (int(wrt),), False
    if isinstance(wrt, (tuple, list)) and wrt and all(isinstance(i, (int, np.integer))
                                                      and not isinstance(i, (bool, np.bool_)) for i in wrt):
        return tuple(int(i) for i in wrt), True
    raise WrtError(f"wrt must be an int, a parameter name, or a non-empty tuple of them, got {wrt!r}")


def _position(f, name):
    """The position of the parameter ``name`` of ``f`` (positional parameters only)."""
    import inspect
    target = f
    while getattr(target, "__wrapped__", None) is not None:
        target = target.__wrapped__
    try:
        params = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        raise WrtError(f"wrt={name!r}: cannot read the parameters of {f!r}; give a position") from None
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if name not in positional:
        raise WrtError(f"wrt={name!r}: {getattr(target, '__name__', 'the function')} has no positional parameter "
                       f"of that name (its parameters: {', '.join(positional) or 'none'})")
    return positional.index(name)
