"""Closures made by one factory share one code object but not one meaning (tests/test_cache.py)."""
import numpy as np


def square(v):
    return v * v


def cube(v):
    return v * v * v


def make_loss(fn):
    """``loss(x) = sum(fn(x))``: the closure calls the function it captured."""
    def loss(x):
        return np.sum(fn(x))
    return loss


def make_scaled(c):
    """``scaled(x) = sum(c * x * x)``: the closure captures a number or an array."""
    def scaled(x):
        return np.sum(c * x * x)
    return scaled
