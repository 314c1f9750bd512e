"""Module globals that tests/test_cache.py rebinds (always through monkeypatch, so they are restored)."""
import numpy as np

act = np.tanh


def uses_act(x):
    return np.sum(act(x))


WEIGHTS = np.array([1.0, 2.0, 3.0])


def weighted(x):
    return np.sum(np.sin(WEIGHTS * x))


def helper(v):
    return v * v


def helper_cubed(v):
    return v * v * v


def uses_helper(x):
    return np.sum(helper(x) + x)


def uses_abs(x):
    return np.sum(abs(x) * 3.0)


def square_for_abs(v):
    return v * v


lambda_square = lambda v: v * v       # noqa: E731  (a module-level lambda, as a user may bind one)
