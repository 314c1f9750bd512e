"""A user module that tests/test_cli.py compiles to a standalone gradient module."""
import math

import numpy as np
from numpy import tanh

import s2sad

DECAY = 0.5
LABEL = "damped"
CLIP = (1.0, (2.0, "x"))


def halve(n):
    return n // 2


@s2sad.differentiable
def damped(x, n=4):
    """A loop with a branch on Python floats; calls a user function it does not differentiate."""
    total = 0.0
    for i in range(n + halve(n)):
        y = x * (i + 1)
        if y > CLIP[0]:
            y = CLIP[0] + math.log(y)
        total = total + y * DECAY ** i
    return total


def log1pexp(z):
    return np.log(1.0 + np.exp(z))


@s2sad.differentiable(wrt=(0, 1))
def logistic(w, b, X, y):
    """Arrays, a helper function of this module, two differentiated arguments."""
    z = X @ w + b
    return np.mean(log1pexp(z) - y * z) + 0.1 * np.sum(tanh(w) ** 2)


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def up(x, n):
    if n == 0:
        return x
    return down(1.5 * x, n - 1)


def down(x, n):
    if n == 0:
        return x
    return up(np.sin(x), n - 1)


@s2sad.differentiable
def poly(x):
    """Recursion and mutual recursion."""
    return power(x, 3) + up(x, 3)


def mix(a, b):
    return a * np.sin(b)


@s2sad.differentiable(wrt=(0, 1))
def both(x, y):
    """One helper differentiated with respect to different arguments at two calls."""
    return mix(x, 2.0) + mix(3.0, y)


def undecorated(x):
    return x ** 3


@s2sad.differentiable
def buffered(x):
    """A buffer written item by item: the backward sweep puts back what a write overwrote (runtime.item_of, which
    reads a module-level sentinel the standalone module copies)."""
    h = np.zeros(len(x) + 1)
    for t in range(len(x)):
        h[t + 1] = np.tanh(x[t] + 0.5 * h[t])
    return np.sum(h ** 2)


@s2sad.checkpoint
def block(h):
    return np.tanh(h) * 2.0


@s2sad.differentiable
def checkpointed(x):
    """A checkpointed helper (its random generators' states kept: runtime.rng_state's cache copied)."""
    return np.sum(block(x) ** 2)


@s2sad.differentiable
def squares(x):
    """A list comprehension (forward mode: a temporary filled by appends, named after no variable)."""
    return sum([v * v for v in x])
