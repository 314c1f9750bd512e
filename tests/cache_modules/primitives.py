"""A user's primitive that gets a registered rule after a first derivative (tests/test_cache.py)."""
import numpy as np


def my_prim(x):
    return np.sin(x)


def uses_prim(x):
    return np.sum(my_prim(x) * 2.0)
