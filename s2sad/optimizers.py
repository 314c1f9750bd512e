"""Gradient-descent optimizers over parameters held in containers (dicts, lists, tuples of arrays), the ones
Autograd ships, with its calling convention so that its examples run unchanged::

    params = s2sad.optimizers.adam(s2sad.grad(objective), params, step_size=0.01, num_iters=500,
                                   callback=report)

``gradient(params, i)`` gives the gradient at ``params`` on iteration ``i`` (a function of one argument is
called with the parameters only); ``callback(params, i, g)``, when given, runs after each gradient. Each
returns the parameters after ``num_iters`` steps, in the container they came in. Nothing here is
differentiated: the loops run on flat vectors (s2sad.flatten).
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Optional, TypeVar

import numpy as np

from .markers import DERIVATIVE_ATTRIBUTE
from .pytrees import flatten

__all__ = ["sgd", "momentum", "rmsprop", "adam"]

P = TypeVar("P")
#: ``gradient(params, i)`` or ``gradient(params)``: the gradient at ``params``, shaped like them.
Gradient = Callable[..., Any]
#: ``callback(params, i, g)``: called after each gradient.
Callback = Callable[[Any, int, Any], Any]


def _flat(gradient, x0, callback):
    """The optimizer's view: a vector, the gradient and callback taking vectors, and the way back."""
    x, unflatten = flatten(x0)
    takes_iteration = _takes_iteration(gradient)

    def g(v, i):
        params = unflatten(v)
        out = gradient(params, i) if takes_iteration else gradient(params)
        flat = flatten(out)[0]
        if flat.shape != v.shape:
            raise ValueError(f"the gradient has {flat.size} values, the parameters {v.size}")
        if callback is not None:
            callback(params, i, out)
        return flat
    return x.astype(float), g, unflatten


def _takes_iteration(gradient):
    """Whether ``gradient`` takes the iteration number after the parameters (for ``s2sad.grad(objective)``:
    whether ``objective`` does, as Autograd's ``objective(params, iter)``)."""
    fn = (getattr(gradient, DERIVATIVE_ATTRIBUTE, None) or (gradient,))[0]
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


def sgd(gradient: Gradient, x0: P, callback: Optional[Callback] = None, num_iters: int = 200,
        step_size: float = 0.1, mass: float = 0.9) -> P:
    """Stochastic gradient descent with momentum ``mass`` (Autograd's ``sgd``).

    Args:
        gradient: ``gradient(params, i)`` (or ``gradient(params)``) returning the gradient at ``params``
            on iteration ``i``, in the same container, e.g. ``s2sad.grad(objective)``.
        x0: The starting parameters: an array, or dicts, lists and tuples of arrays and numbers.
        callback: ``callback(params, i, g)``, called after each gradient, when given.
        num_iters: The number of steps.
        step_size: The learning rate.
        mass: The momentum: the velocity is ``mass v - (1 - mass) g``.

    Returns:
        The parameters after ``num_iters`` steps, in the container ``x0`` came in.

    Raises:
        ValueError: the gradient does not have as many values as the parameters.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def objective(x):
        ...     return np.sum((x - 3.0) ** 2)
        >>> x = s2sad.optimizers.sgd(s2sad.grad(objective), np.zeros(2), step_size=0.5, num_iters=300)
        >>> np.allclose(x, 3.0)
        True
    """
    x, g, unflatten = _flat(gradient, x0, callback)
    velocity = np.zeros_like(x)
    for i in range(num_iters):
        velocity = mass * velocity - (1.0 - mass) * g(x, i)
        x = x + step_size * velocity
    return unflatten(x)


def momentum(gradient: Gradient, x0: P, callback: Optional[Callback] = None, num_iters: int = 200,
             step_size: float = 0.1, mass: float = 0.9) -> P:
    """Heavy-ball momentum: ``v = mass v - step_size g``, ``x = x + v``.

    Args:
        gradient: ``gradient(params, i)`` (or ``gradient(params)``) returning the gradient at ``params``
            on iteration ``i``, in the same container, e.g. ``s2sad.grad(objective)``.
        x0: The starting parameters: an array, or dicts, lists and tuples of arrays and numbers.
        callback: ``callback(params, i, g)``, called after each gradient, when given.
        num_iters: The number of steps.
        step_size: The learning rate.
        mass: The momentum.

    Returns:
        The parameters after ``num_iters`` steps, in the container ``x0`` came in.

    Raises:
        ValueError: the gradient does not have as many values as the parameters.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def objective(params):
        ...     return (params["a"] - 1.0) ** 2 + np.sum(params["b"] ** 2)
        >>> fit = s2sad.optimizers.momentum(s2sad.grad(objective), {"a": 0.0, "b": np.ones(2)}, step_size=0.05)
        >>> bool(abs(fit["a"] - 1.0) < 1e-4), bool(np.all(np.abs(fit["b"]) < 1e-4))
        (True, True)
    """
    x, g, unflatten = _flat(gradient, x0, callback)
    velocity = np.zeros_like(x)
    for i in range(num_iters):
        velocity = mass * velocity - step_size * g(x, i)
        x = x + velocity
    return unflatten(x)


def rmsprop(gradient: Gradient, x0: P, callback: Optional[Callback] = None, num_iters: int = 100,
            step_size: float = 0.1, gamma: float = 0.9, eps: float = 1e-8) -> P:
    """Root mean square propagation (Autograd's ``rmsprop``).

    Args:
        gradient: ``gradient(params, i)`` (or ``gradient(params)``) returning the gradient at ``params``
            on iteration ``i``, in the same container, e.g. ``s2sad.grad(objective)``.
        x0: The starting parameters: an array, or dicts, lists and tuples of arrays and numbers.
        callback: ``callback(params, i, g)``, called after each gradient, when given.
        num_iters: The number of steps.
        step_size: The learning rate.
        gamma: The decay of the running average of squared gradients.
        eps: Added to the root mean square before dividing.

    Returns:
        The parameters after ``num_iters`` steps, in the container ``x0`` came in.

    Raises:
        ValueError: the gradient does not have as many values as the parameters.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def objective(x):
        ...     return np.sum(x ** 2)
        >>> x = s2sad.optimizers.rmsprop(s2sad.grad(objective), np.array([1.0, -2.0]), step_size=0.01, num_iters=500)
        >>> bool(np.all(np.abs(x) < 0.05))
        True
    """
    x, g, unflatten = _flat(gradient, x0, callback)
    avg_sq = np.ones_like(x)
    for i in range(num_iters):
        gi = g(x, i)
        avg_sq = gamma * avg_sq + (1.0 - gamma) * gi ** 2
        x = x - step_size * gi / (np.sqrt(avg_sq) + eps)
    return unflatten(x)


def adam(gradient: Gradient, x0: P, callback: Optional[Callback] = None, num_iters: int = 100,
         step_size: float = 0.001, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> P:
    """Adam (Kingma and Ba, 2015), with bias-corrected moments (Autograd's ``adam``).

    Args:
        gradient: ``gradient(params, i)`` (or ``gradient(params)``) returning the gradient at ``params``
            on iteration ``i``, in the same container, e.g. ``s2sad.grad(objective)``.
        x0: The starting parameters: an array, or dicts, lists and tuples of arrays and numbers.
        callback: ``callback(params, i, g)``, called after each gradient, when given.
        num_iters: The number of steps.
        step_size: The learning rate.
        b1: The decay of the first moment.
        b2: The decay of the second moment.
        eps: Added to the second moment's root before dividing.

    Returns:
        The parameters after ``num_iters`` steps, in the container ``x0`` came in.

    Raises:
        ValueError: the gradient does not have as many values as the parameters.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def objective(w, i):                    # Autograd's convention: the iteration number second
        ...     return np.sum((w - np.array([1.0, 2.0])) ** 2)
        >>> seen = []
        >>> w = s2sad.optimizers.adam(s2sad.grad(objective), np.zeros(2), step_size=0.1, num_iters=400,
        ...                           callback=lambda w, i, g: seen.append(i))
        >>> np.allclose(w, [1.0, 2.0], atol=1e-3), len(seen)
        (True, 400)
    """
    x, g, unflatten = _flat(gradient, x0, callback)
    m, v = np.zeros_like(x), np.zeros_like(x)
    for i in range(num_iters):
        gi = g(x, i)
        m = b1 * m + (1.0 - b1) * gi
        v = b2 * v + (1.0 - b2) * gi ** 2
        m_hat = m / (1.0 - b1 ** (i + 1))
        v_hat = v / (1.0 - b2 ** (i + 1))
        x = x - step_size * m_hat / (np.sqrt(v_hat) + eps)
    return unflatten(x)
