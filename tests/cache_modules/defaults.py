"""Functions whose defaults a test replaces (``f.__defaults__ = ...``) after a first derivative."""


def scaled(x, c=3.0):
    return c * x ** 2


def scaled_by_keyword(x, *, c=3.0):
    return c * x ** 2


def calls_scaled(x):                         # scaled inlined here, with its default filled in
    return scaled(x) + 1.0


def loops(x, n=3):
    s = 0.0
    for i in range(n):
        s = s + x ** 2 * (i + 1)
    return s
