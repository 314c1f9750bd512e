"""Functions behind decorators: a user's ``functools.wraps`` wrapper that changes the result (differentiated
itself; through ``*args``: refused), one that returns the result unchanged (seen through), and
``functools.cache`` (seen through)."""
import functools

import numpy as np


def doubled(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 2.0 * fn(x)
    return wrapper


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@doubled
def doubled_square(x):
    return np.sum(x ** 2)


def calls_doubled_square(x):
    return doubled_square(x) + 1.0


def scaled(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 3.0 * fn(*args, **kwargs)
    return wrapper


def doubling_args(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        args = (args[0] * 2.0,) + args[1:]
        return fn(*args, **kwargs)
    return wrapper


@doubling_args
def square_of_double(x):
    return np.sum(x ** 2)


@logged
def logged_square(x):
    return np.sum(x ** 2)


@scaled
def scaled_square(x):
    return np.sum(x ** 2)


@np.errstate(divide="ignore")
def quiet_square(x):
    return np.sum(x ** 2)


@functools.cache
def cached_square(x):
    return x * x


def calls_cached_square(x):
    return cached_square(x) * 3.0
