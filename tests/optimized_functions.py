"""Functions whose generated code tests/test_optimizations.py inspects."""
import math

import numpy as np


def recurrence(a, b, x0):
    x = x0
    for t in range(200):
        x = x + 0.01 * (a * math.sin(x) - b * x * x)
    return x


def dot_loop(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * w[i]
    return s


def logistic(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def straight(x, data):
    scale = np.max(data)
    y = np.tanh(x) * scale
    z = y * y + x
    return np.sum(z)


def invariant_in_loop(x, c, n):
    total = 0.0
    for i in range(n):
        k = c * 2.0
        total = total + k * x
    return np.sum(total)


def branch_join_in_loop(x, c):
    for i in range(6):
        if x > 1.0:
            t = 1.0 + math.tanh(x - 1.0)
        else:
            t = x * 1.5
        x = t + c
    return x
