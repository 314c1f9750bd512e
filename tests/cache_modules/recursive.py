"""A recursive helper (never inlined) that tests/test_cache.py rebinds."""
import numpy as np


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def double_power(x, n):
    if n == 0:
        return 1.0
    return 2.0 * x * double_power(x, n - 1)


def uses_power(x):
    return np.sum(power(x, 3))
