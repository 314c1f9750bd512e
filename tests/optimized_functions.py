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


def sigmoid_squared_error(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return np.mean((p - y) ** 2)


def cross_entropy_terms_swapped(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.sum(np.log(1 - p) * (1 - y) + np.log(p) * y)


def cross_entropy_of_floats(w, b, y):
    p = 1.0 / (1.0 + math.exp(-(w * 2.0 + b)))
    return -(y * math.log(p) + (1.0 - y) * math.log(1.0 - p))


def cross_entropy_in_a_loop(w, X, y):
    total = 0.0
    for k in range(2):
        p = 1.0 / (1.0 + np.exp(-(X @ w) * (k + 1)))
        total = total - np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return total


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


# --- small helpers, inlined at their call sites (s2sad/optimize/inline_calls.py) ------------
def rates(x, y, alpha, beta):
    return alpha * x - beta * x * y, beta * x * y - y


def rk2(alpha, beta, x, y):
    h = 0.05
    for step in range(40):
        k1x, k1y = rates(x, y, alpha, beta)
        k2x, k2y = rates(x + h * k1x, y + h * k1y, alpha, beta)
        x = x + 0.5 * h * (k1x + k2x)
        y = y + 0.5 * h * (k1y + k2y)
    return (x - 1.0) ** 2 + y * y


def soft_step(x, limit=1.0):
    if x > limit:
        return limit + math.tanh(x - limit)
    x = x * 1.5
    return x


def swap(a, b):
    return b, a


def outer_helper(v, w):
    return inner_helper(v) * w


def inner_helper(v):
    return np.sin(v) + v * v


def helper_calls(x, w, c):
    total = 0.0
    for i in range(6):
        x = soft_step(x) + c
        x, c = swap(x, c)
        total = total + x * c
    return total + np.sum(outer_helper(w, w))


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def is_even_poly(x, n):
    if n == 0:
        return x
    return 2.0 * is_odd_poly(x, n - 1)


def is_odd_poly(x, n):
    if n == 0:
        return x * x
    return x + is_even_poly(x, n - 1)


def recursive_callers(x):
    return power(x, 3) + is_even_poly(x, 4) + is_odd_poly(x, 3)


def make_scaled(k):
    def scaled(v):
        return k * v * v
    return scaled


scaled_by_three = make_scaled(3.0)


def calls_closure(x):
    return np.sum(scaled_by_three(x) + np.sin(x))


# --- values on numbers computed again in the backward sweep (loops.recompute_cheap) ----------
def taylor_sin(x):
    term = x
    total = x
    for n in range(1, 60, 2):
        term = -term * x * x / ((n + 1) * (n + 2))
        total = total + term
        if abs(term) < 1e-16:
            break
    return total


def recompute_hazards(x, c):
    a = 0.5
    total = 0.0
    for i in range(5):
        t = a * x                  # the previous iteration's a, and x before its update
        a = x * c + 0.1
        x = x * 0.9 + t
        total = total + t * a
    return total + x


def recompute_nested(x, c, n):
    total = 0.0
    for i in range(n):
        u = x * c
        if u > 0.5:
            v = u * u
            x = x - 0.1 * v
        else:
            v = u + 1.0
            x = x + 0.05 * v
        for j in range(3):
            w = x * (j + 1.0)
            total = total + w * v
    return total


# --- the logistic function written from its value ------------------------------------------------
def sigmoid_reused(z, w):
    e = np.exp(-(z * w))
    p = 1.0 / (1.0 + e)               # e is read again below: not written from p alone
    return np.sum(p + e * e)


def sigmoid_scalar_loop(x, c):
    total = 0.0
    for i in range(4):
        s = 1.0 / (math.exp(-(x * (i + 1) - c)) + 1.0)
        total = total + s * s
    return total


def dense_layers(layers, x):
    h = x
    for W, b in layers:
        h = np.tanh(h @ W + b)
    return np.sum(h * h)


def range_to_the_end(x, n):
    s = x
    for i in range(n):
        s = math.sin(s) * x + i
    return s


def range_with_break(x, n):
    s = x
    for i in range(n):
        s = math.sin(s) * x + i
        if s > 2.0:
            break
    return s


def softmax_cross_entropy(W, X, Y):               # the MLP's last layer: log-softmax shifted by the row maximum
    logits = X @ W
    m = np.max(logits, axis=1, keepdims=True)
    log_probs = logits - m - np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_probs, axis=1))


def log_softmax_over_columns(W, X, Y):            # axis 0, shifted by a constant, read twice afterwards
    logits = X @ W
    lp = logits - 1.5 - np.log(np.sum(np.exp(logits - 1.5), axis=0, keepdims=True))
    return np.sum(lp * Y) + 0.3 * np.sum(lp * lp)


def log_softmax_in_a_loop(W, X, Y):               # the chain inside a loop body, its input changing per step
    total = 0.0
    h = X
    for k in range(2):
        z = h @ W
        m = np.max(z, axis=1, keepdims=True)
        lp = z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
        total = total + np.sum(Y * lp)
        h = np.tanh(h) * 0.5
    return total
