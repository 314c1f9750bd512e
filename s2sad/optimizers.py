"""Gradient-descent optimizers over parameters held in containers (dicts, lists, tuples of arrays), the ones
Autograd ships, with its calling convention so that its examples run unchanged::

    params = s2sad.optimizers.adam(s2sad.grad(objective), params, step_size=0.01, num_iters=500,
                                   callback=report)

``gradient(params, i)`` gives the gradient at ``params`` on iteration ``i`` (a function of one argument is
called with the parameters only); ``callback(params, i, g)``, when given, runs after each gradient. Each
returns the parameters after ``num_iters`` steps, in the container they came in. Nothing here is
differentiated: the loops run on flat vectors (s2sad.flatten).
"""
import inspect

import numpy as np

from .markers import DERIVATIVE_ATTRIBUTE
from .pytrees import flatten

__all__ = ["sgd", "momentum", "rmsprop", "adam"]


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


def sgd(gradient, x0, callback=None, num_iters=200, step_size=0.1, mass=0.9):
    """Stochastic gradient descent with momentum ``mass`` (Autograd's ``sgd``)."""
    x, g, unflatten = _flat(gradient, x0, callback)
    velocity = np.zeros_like(x)
    for i in range(num_iters):
        velocity = mass * velocity - (1.0 - mass) * g(x, i)
        x = x + step_size * velocity
    return unflatten(x)


def momentum(gradient, x0, callback=None, num_iters=200, step_size=0.1, mass=0.9):
    """Heavy-ball momentum: ``v = mass v - step g``, ``x = x + v``."""
    x, g, unflatten = _flat(gradient, x0, callback)
    velocity = np.zeros_like(x)
    for i in range(num_iters):
        velocity = mass * velocity - step_size * g(x, i)
        x = x + velocity
    return unflatten(x)


def rmsprop(gradient, x0, callback=None, num_iters=100, step_size=0.1, gamma=0.9, eps=1e-8):
    """Root mean square propagation (Autograd's ``rmsprop``)."""
    x, g, unflatten = _flat(gradient, x0, callback)
    avg_sq = np.ones_like(x)
    for i in range(num_iters):
        gi = g(x, i)
        avg_sq = gamma * avg_sq + (1.0 - gamma) * gi ** 2
        x = x - step_size * gi / (np.sqrt(avg_sq) + eps)
    return unflatten(x)


def adam(gradient, x0, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, eps=1e-8):
    """Adam (Kingma and Ba, 2015), with bias-corrected moments (Autograd's ``adam``)."""
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
