"""Functions the API tests differentiate (real source file, module-level globals)."""
import numpy as np

SCALE = 2.0


def scaled_sum(x):
    return np.sum(x * SCALE)


def make_closure(a):
    def inner(x):
        return np.sum(a * x * SCALE)
    return inner


def make_rebindable():
    weight = np.array([1.0, 2.0])

    def inner(x):
        return np.sum(weight * x)

    def rebind(value):
        nonlocal weight
        weight = value
    return inner, rebind


def kind_scale(c):
    """2.0 for a NumPy scalar, 3.0 for a Python float (tests/test_float_route.py: code s2sad runs as it is)."""
    return 2.0 if isinstance(c, np.floating) else 3.0


def scaled_by_kind(x, c):
    return x * kind_scale(c)
