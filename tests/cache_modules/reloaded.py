"""Functions whose code a test replaces in place (``f.__code__ = ...``, what IPython's autoreload does when
the file is edited) after a first derivative."""
import numpy as np


def helper(v):
    return v * v


def top(x):
    return np.sum(helper(x) + x)


def cubed(x):
    return x ** 3
