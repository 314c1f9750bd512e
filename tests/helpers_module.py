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
