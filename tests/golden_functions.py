"""Functions whose generated code is pinned by tests/test_golden.py (line numbers matter: append only)."""
import math

import numpy as np


def logistic_loss(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def piecewise(x, y):
    if x > y:
        z = math.sin(x) * y
    elif x > 0:
        z = x * x
    else:
        z = y
    return z * x


def inactive_parts(x, data):
    scale = np.max(data) * 2.0
    n = data.shape[0]
    centred = data - np.mean(data)
    return np.sum(np.tanh(x) * scale) / n + float(np.sum(centred))


def soft_clipped_sum(x, n, limit):
    total = 0.0
    for i in range(n):
        y = x * (i + 1)
        if y > limit:
            y = limit + math.log(1.0 + y - limit)
        total = total + y
    return total


def filled_buffer(x, w):
    h = np.zeros(len(x))
    for t in range(1, len(x)):
        h[t] = np.tanh(w * h[t - 1] + x[t])
    return np.sum(h ** 2)


def euler_recurrence(a, b, x0):
    """A scalar loop; the README's benchmark recurrence on np.float64 scalars (read from an array)."""
    x = x0
    for t in range(100):
        x = x + 0.01 * (a * math.sin(x) - b * x ** 2)
    return x


def packed_rates(theta, x0):
    """Rates packed in one float64 array: unpacked, and read by index in the loop."""
    alpha, beta, gamma = theta
    x = x0
    for t in range(100):
        x = x + 0.01 * (alpha * x - beta * x * x + theta[2] * math.cos(x))
    return x * gamma


def newton_sqrt(a, x0):
    """Newton's iteration for the square root of ``a``, to a tolerance: a while loop whose backward sweep
    replays only the iterations that ran (the failed test undoes nothing)."""
    x = x0
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x
