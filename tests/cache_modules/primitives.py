"""A user's primitive that gets a registered rule after a first derivative (tests/test_cache.py)."""
import numpy as np


def my_prim(x):
    return np.sin(x)


def uses_prim(x):
    return np.sum(my_prim(x) * 2.0)


SCALE = 2.0


def scaled(x):
    return SCALE * np.sin(x)


def uses_scaled(x):
    return np.sum(scaled(x) * x)


def scaled_vjp(g, ans, x):           # registered by the test: a rule reading a global of its module
    return g * SCALE * np.cos(x)


def scaled_jvp(t, ans, x):
    return t * SCALE * np.cos(x)
