"""Reverse mode through control flow: branches, loops of every kind, jumps, and what the forward sweep records.

Every gradient is checked twice: against central finite differences (``check_grads``,
which also compares grad, value_and_grad and vjp) and by an independent route: a
hand-derived formula, a loop-free NumPy expression of the same function, a hand-written
forward-mode (tangent) recurrence, or directional finite differences. Input points are
chosen so that every branch and every way out of a loop is taken.
"""
import math
import re

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads

from .directional import directional_check


# =============================================================================================
# 1. Branches
# =============================================================================================
def piecewise(x):
    if x > 1.0:
        y = x ** 3
    elif x > 0.0:
        if x < 0.5:
            y = math.sin(x)
        else:
            y = x * x - x
    else:
        y = -2.0 * x + math.exp(x)
    return y * x


def piecewise_derivative(x):
    if x > 1.0:
        return 4 * x ** 3
    if x > 0.0:
        return math.sin(x) + x * math.cos(x) if x < 0.5 else 3 * x * x - 2 * x
    return -4.0 * x + math.exp(x) + x * math.exp(x)


@pytest.mark.parametrize("x", [1.7, 0.3, 0.8, -0.6])
def test_nested_if_elif_else(x):
    g = check_grads(piecewise, (x,))
    assert type(g) is float
    assert g == pytest.approx(piecewise_derivative(x), rel=1e-12)


def array_branches(x, W):
    if np.sum(x) > 0.0:
        h = np.tanh(W @ x)
    elif x[0] > -0.5:
        h = W @ (x * x)
    else:
        h = -W @ x
    return np.sum(h * h)


def array_branches_grads(x, W):
    if np.sum(x) > 0.0:
        h = np.tanh(W @ x)
        d = 2 * h * (1 - h * h)
        return W.T @ d, np.outer(d, x)
    if x[0] > -0.5:
        h = W @ (x * x)
        return (W.T @ (2 * h)) * 2 * x, np.outer(2 * h, x * x)
    h = -W @ x
    return -W.T @ (2 * h), -np.outer(2 * h, x)


@pytest.mark.parametrize("x", [[0.5, 0.2, 0.1], [0.1, -0.4, -0.3], [-0.9, 0.2, 0.1]])
def test_branches_on_array_conditions(rng, x):
    x = np.array(x)
    W = rng.normal(size=(4, 3))
    gx, gW = check_grads(array_branches, (x, W), wrt=(0, 1))
    hx, hW = array_branches_grads(x, W)
    np.testing.assert_allclose(gx, hx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gW, hW, rtol=1e-10, atol=1e-12)


def cond_expr(x, y):
    a = x * y if x > y else x + y
    b = (math.sin(x) if y > 0 else math.cos(x)) if x > 0 else y ** 2
    return a * b


def cond_expr_grads(x, y):
    a, ax, ay = (x * y, y, x) if x > y else (x + y, 1.0, 1.0)
    if x > 0:
        b, bx, by = (math.sin(x), math.cos(x), 0.0) if y > 0 else (math.cos(x), -math.sin(x), 0.0)
    else:
        b, bx, by = y ** 2, 0.0, 2 * y
    return ax * b + a * bx, ay * b + a * by


@pytest.mark.parametrize("x, y", [(1.2, 0.5), (0.5, 1.2), (0.7, -0.3), (-0.4, 0.3), (-0.4, -0.9)])
def test_nested_conditional_expressions(x, y):
    g = check_grads(cond_expr, (x, y), wrt=(0, 1))
    assert g == pytest.approx(cond_expr_grads(x, y), rel=1e-12)


def logic(x, y):
    if (x > 0 and y > 0) or not (x > -1.0):
        r = x * y
    elif x > 0 or y < -1.0:
        r = x - y * y
    else:
        r = x ** 2 + y
    z = r * x if not (r > 0) and y != 0.0 else r + y
    return z


def logic_grads(x, y):
    if (x > 0 and y > 0) or x <= -1.0:
        r, rx, ry = x * y, y, x
    elif x > 0 or y < -1.0:
        r, rx, ry = x - y * y, 1.0, -2 * y
    else:
        r, rx, ry = x ** 2 + y, 2 * x, 1.0
    if r <= 0 and y != 0.0:
        return rx * x + r, ry * x
    return rx, ry + 1.0


@pytest.mark.parametrize("x, y", [(1.0, 2.0), (-2.0, 0.5), (0.5, -0.5), (-0.5, -2.0), (-0.5, 0.3), (0.2, 1.5)])
def test_and_or_not_in_conditions(x, y):
    g = check_grads(logic, (x, y), wrt=(0, 1))
    assert g == pytest.approx(logic_grads(x, y), rel=1e-12)


def one_branch(x):
    y = x * 2.0
    if x > 0.0:
        z = math.exp(x)
        y = y + z
    if x > 0.0:
        y = y * z
    return y


@pytest.mark.parametrize("x", [0.7, -0.3])
def test_variable_assigned_in_one_branch_used_after(x):
    g = check_grads(one_branch, (x,))
    e = math.exp(x)
    expected = (2 + e) * e + (2 * x + e) * e if x > 0 else 2.0
    assert g == pytest.approx(expected, rel=1e-12)


def assigned_or_returned(x, w):
    if x[0] < -1.0:
        return np.sum(w * 3.0)
    else:
        t = np.exp(w * x)
    return np.sum(t * w)


@pytest.mark.parametrize("x0", [-1.5, 0.4])
def test_variable_assigned_in_the_branch_that_does_not_return(rng, x0):
    x = np.array([x0, 0.3, -0.2])
    w = rng.normal(size=3)
    gx, gw = check_grads(assigned_or_returned, (x, w), wrt=(0, 1))
    if x0 < -1.0:
        np.testing.assert_allclose(gx, 0.0)
        np.testing.assert_allclose(gw, 3.0)
    else:
        t = np.exp(w * x)
        np.testing.assert_allclose(gx, w * w * t, rtol=1e-12)
        np.testing.assert_allclose(gw, t + w * x * t, rtol=1e-12)


# =============================================================================================
# 2. Loops
# =============================================================================================
# --- for over range, any start/stop/step ------------------------------------------------------
def range_sum(x, start, stop, step):
    s = 0.0
    for i in range(start, stop, step):
        s = s + x[i] * x[i] * (i + 1)
    return s


@pytest.mark.parametrize("start, stop, step", [(0, 6, 1), (1, 6, 2), (5, -1, -1), (5, 0, -2), (-1, -6, -2),
                                               (2, 2, 1), (4, 1, 1), (0, 6, -1)])
def test_range_start_stop_step(rng, start, stop, step):
    x = rng.normal(size=6)
    g = check_grads(range_sum, (x, start, stop, step))
    idx = np.arange(start, stop, step)
    expected = np.zeros(6)
    np.add.at(expected, idx, 2 * x[idx] * (idx + 1))            # loop-free, by hand
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=0)


def range_one_arg(x, n):
    s = 0.0
    for i in range(n):
        s = s + math.cos(x * i)
    return s


@pytest.mark.parametrize("n", [0, 1, 4])
def test_range_one_argument_including_zero_iterations(n):
    g = check_grads(range_one_arg, (0.7, n))
    assert g == pytest.approx(sum(-i * math.sin(0.7 * i) for i in range(n)), abs=1e-12)


def data_bounds(x):
    s = 0.0
    for i in range(len(x)):
        s = s + math.sin(x[i]) * i
    for j in range(x.shape[0] - 1, -1, -2):
        s = s + x[j] ** 3
    return s


@pytest.mark.parametrize("n", [0, 1, 5, 6])
def test_range_bounds_computed_from_data(rng, n):
    x = rng.normal(size=n)
    g = check_grads(data_bounds, (x,))
    expected = np.cos(x) * np.arange(n)
    expected[n - 1::-2] += 3 * x[n - 1::-2] ** 2 if n else 0.0
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-15)
    assert g.shape == (n,)


# --- for over arrays, lists, tuples, zip, enumerate, reversed -------------------------------
def rows(X, w):
    s = 0.0
    for row in X:
        s = s + np.tanh(row @ w)
    return s


def test_for_over_rows_of_a_matrix(rng):
    X, w = rng.normal(size=(5, 3)), rng.normal(size=3)
    gX, gw = check_grads(rows, (X, w), wrt=(0, 1))
    d = 1 - np.tanh(X @ w) ** 2                                    # the loop-free version, by hand
    np.testing.assert_allclose(gw, X.T @ d, rtol=1e-12)
    np.testing.assert_allclose(gX, np.outer(d, w), rtol=1e-12)


def power_series(x, coeffs):
    s = 0.0
    p = 1.0
    for c in coeffs:
        s = s + c * p
        p = p * x
    return s


@pytest.mark.parametrize("kind", [list, tuple])
def test_for_over_a_list_or_tuple_argument(kind):
    coeffs = kind([0.5, -1.2, 2.0, 0.3])
    x = 0.8
    gx, gc = check_grads(power_series, (x, coeffs), wrt=(0, 1))
    assert type(gc) is kind and all(type(v) is float for v in gc)
    k = np.arange(4)
    assert gx == pytest.approx(float(np.sum(k[1:] * np.array(coeffs[1:]) * x ** (k[1:] - 1))), rel=1e-12)
    np.testing.assert_allclose(list(gc), x ** k, rtol=1e-12)


def test_for_over_an_empty_list_runs_zero_times():
    g = check_grads(power_series, (0.8, []))
    assert g == 0.0


def over_tuple_literal(x):
    s = 0.0
    for a in (x, 2.0 * x, np.sin(x)):
        s = s + np.sum(a * a)
    return s


def test_for_over_a_tuple_of_arrays(rng):
    x = rng.normal(size=4)
    g = check_grads(over_tuple_literal, (x,))
    np.testing.assert_allclose(g, 2 * x + 8 * x + 2 * np.sin(x) * np.cos(x), rtol=1e-12)


def zipped(x, y):
    s = 0.0
    for a, b in zip(x, y):
        s = s + a * b * b
    for a, b in zip(x[1:], x[:-1]):
        s = s + (a - b) ** 2
    return s


def test_for_over_zip(rng):
    x, y = rng.normal(size=5), rng.normal(size=5)
    gx, gy = check_grads(zipped, (x, y), wrt=(0, 1))
    d = np.diff(x)
    expected_x = y * y
    expected_x[1:] += 2 * d
    expected_x[:-1] -= 2 * d
    np.testing.assert_allclose(gx, expected_x, rtol=1e-12)
    np.testing.assert_allclose(gy, 2 * x * y, rtol=1e-12)


def zip_unequal(x, ys):
    s = 0.0
    for a, b in zip(x, ys):                    # stops at the shorter one
        s = s + a * b
    return s


def test_zip_of_an_array_and_a_shorter_list(rng):
    x = rng.normal(size=5)
    ys = [0.5, -2.0, 1.5]
    gx, gy = check_grads(zip_unequal, (x, ys), wrt=(0, 1))
    np.testing.assert_allclose(gx, [0.5, -2.0, 1.5, 0.0, 0.0], rtol=1e-12)
    assert type(gy) is list
    np.testing.assert_allclose(gy, x[:3], rtol=1e-12)


def enumerated(x, W):
    s = 0.0
    for i, v in enumerate(x):
        s = s + v ** 2 * (i + 1)
    for i, row in enumerate(W):
        s = s + np.sum(row * x) * i
    return s


def test_for_over_enumerate(rng):
    x, W = rng.normal(size=4), rng.normal(size=(3, 4))
    gx, gW = check_grads(enumerated, (x, W), wrt=(0, 1))
    i = np.arange(3)
    np.testing.assert_allclose(gx, 2 * x * np.arange(1, 5) + i @ W, rtol=1e-12)
    np.testing.assert_allclose(gW, np.outer(i, x), rtol=1e-12)


def horner(t, coeffs):
    p = 0.0
    for c in reversed(coeffs):
        p = p * t + c
    return p


@pytest.mark.parametrize("t", [0.7, -1.3])
def test_for_over_reversed_horner(rng, t):
    coeffs = rng.normal(size=5)
    gt, gc = check_grads(horner, (t, coeffs), wrt=(0, 1))
    P = np.polynomial.Polynomial(coeffs)                          # the same polynomial, differentiated by NumPy
    assert gt == pytest.approx(P.deriv()(t), rel=1e-12)
    np.testing.assert_allclose(gc, t ** np.arange(5), rtol=1e-12)


def reversed_range(x):
    s = 0.0
    for i in reversed(range(len(x))):
        s = s * 0.5 + x[i] * i
    return s


def test_for_over_reversed_range(rng):
    x = rng.normal(size=5)
    g = check_grads(reversed_range, (x,))
    i = np.arange(5)
    np.testing.assert_allclose(g, i * 0.5 ** i, rtol=1e-12)       # x[i] is halved once per later step (i of them)


def step_from_data(x, k):
    s = 0.0
    for i in range(0, len(x), k):
        s = s + x[i] * float(i)
    return s


@pytest.mark.parametrize("k", [1, 3, 10])
def test_range_step_from_an_argument(rng, k):
    x = rng.normal(size=7)
    g = check_grads(step_from_data, (x, k))
    expected = np.zeros(7)
    expected[::k] = np.arange(7)[::k]
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def last_items(x, y):
    s = 0.0
    for a, b in zip(x, y):
        s = s + a * b
    for i in range(len(x)):
        s = s + x[i]
    return s * a + b * i


def last_items_grads(x, y):
    n = len(x)
    s = x @ y + np.sum(x)
    gx, gy = (y + 1) * x[-1], x * x[-1]
    gx[-1] += s
    gy[-1] += n - 1
    return gx, gy


def test_loop_variables_read_after_the_loop(rng):
    x, y = rng.normal(size=4), rng.normal(size=4)
    gx, gy = s2sad.grad(last_items, wrt=(0, 1))(x, y)
    hx, hy = last_items_grads(x, y)
    np.testing.assert_allclose(gx, hx, rtol=1e-12)
    np.testing.assert_allclose(gy, hy, rtol=1e-12)


def test_loop_variables_read_after_the_loop_with_vjp(rng):
    x, y = rng.normal(size=4), rng.normal(size=4)
    hx, hy = last_items_grads(x, y)
    _, pullback = s2sad.vjp(last_items, x, y, wrt=(0, 1))
    gx, gy = pullback(1.0)
    np.testing.assert_allclose(gx, hx, rtol=1e-12)
    np.testing.assert_allclose(gy, hy, rtol=1e-12)
    gx, gy = check_grads(last_items, (x, y), wrt=(0, 1))


# --- while with data-dependent termination -----------------------------------------------------
def newton_sqrt(a):
    y = a if a > 1.0 else 1.0
    while abs(y * y - a) > 1e-12 * a:
        y = 0.5 * (y + a / y)
    return y


@pytest.mark.parametrize("a", [0.3, 2.0, 50.0])
def test_while_newton_iterations(a):
    g = check_grads(newton_sqrt, (a,))
    assert g == pytest.approx(0.5 / math.sqrt(a), rel=1e-9)


def halving(x, y):
    while abs(x) > 0.1:
        x = x * 0.5
        y = y * x
    return y + x


@pytest.mark.parametrize("x, y, k", [(0.05, 1.3, 0), (0.7, 1.3, 3), (-3.0, 0.8, 5)])
def test_while_halving_until_small(x, y, k):
    n = 0
    t = x
    while abs(t) > 0.1:                    # k: the number of halvings, counted independently
        t, n = t / 2, n + 1
    assert n == k
    gx, gy = check_grads(halving, (x, y), wrt=(0, 1))
    scale = 2.0 ** (k * (k + 1) / 2)       # y_k = y x**k / 2**(k(k+1)/2), x_k = x / 2**k
    assert gy == pytest.approx(x ** k / scale, rel=1e-12)
    assert gx == pytest.approx((y * k * x ** (k - 1) / scale if k else 0.0) + 0.5 ** k, rel=1e-12)


def positive_prefix_product(x):
    i = 0
    p = 1.0
    while i < len(x):
        if x[i] < 0.0:
            break
        p = p * x[i]
        i += 1
    return p


@pytest.mark.parametrize("x", [[0.5, 2.0, -1.0, 3.0], [0.5, 2.0, 1.5], [-1.0, 2.0]])
def test_while_with_break(x):
    x = np.array(x)
    g = check_grads(positive_prefix_product, (x,))
    m = len(x) if (x >= 0).all() else int(np.argmax(x < 0))
    expected = np.zeros_like(x)
    for k in range(m):
        expected[k] = np.prod(np.delete(x[:m], k))
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def while_else_return(x):
    i = 0
    while i < len(x):
        if x[i] > 1.0:
            return x[i] ** 2
        i += 1
    else:
        return np.sum(x)


@pytest.mark.parametrize("x, expected", [([0.2, 1.5, 3.0], [0.0, 3.0, 0.0]), ([0.2, 0.5], [1.0, 1.0])])
def test_while_else_with_return(x, expected):
    g = check_grads(while_else_return, (np.array(x),))
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def while_never(x):
    while x > 10.0:
        x = math.sqrt(x)
    return x * x


def test_while_that_runs_zero_times():
    assert check_grads(while_never, (1.5,)) == pytest.approx(3.0, rel=1e-12)
    assert check_grads(while_never, (20.0,)) == pytest.approx(1.0, rel=1e-12)   # one step: sqrt(x)**2


# --- break, continue, for ... else ----------------------------------------------------------------
def sum_until_large(x, thr):
    s = 0.0
    for v in x:
        if v > thr:
            break
        s = s + v * v
    return s


@pytest.mark.parametrize("thr", [0.5, 10.0, -10.0])
def test_break(thr):
    x = np.array([0.2, -0.4, 0.9, 0.1])
    g = check_grads(sum_until_large, (x, thr))
    m = int(np.argmax(x > thr)) if (x > thr).any() else len(x)
    expected = np.where(np.arange(4) < m, 2 * x, 0.0)
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def skip_negative(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] < 0.0:
            continue
        s = s + x[i] ** 3
    return s


def test_continue(rng):
    x = rng.normal(size=7)
    g = check_grads(skip_negative, (x,))
    np.testing.assert_allclose(g, np.where(x >= 0, 3 * x ** 2, 0.0), rtol=1e-12)


def first_large(x, thr):
    for i in range(len(x)):
        if x[i] > thr:
            r = x[i] * 3.0 + np.sum(x[:i])
            break
    else:
        r = np.sum(x * x)
    return r


@pytest.mark.parametrize("thr", [0.5, 5.0])
def test_for_else(thr):
    x = np.array([0.2, -0.4, 0.9, 1.1])
    g = check_grads(first_large, (x, thr))
    if (x > thr).any():
        i = int(np.argmax(x > thr))
        expected = np.zeros(4)
        expected[:i] = 1.0
        expected[i] = 3.0
    else:
        expected = 2 * x
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def continue_break_else(x):
    s = 0.0
    for v in x:
        if v < 0:
            continue
        if v > 1.5:
            break
        s = s + v ** 2
    else:
        s = s * 2.0
    return s


@pytest.mark.parametrize("x", [[0.2, -1.0, 2.0, 0.5], [0.2, -1.0, 0.5], [-0.3, 3.0]])
def test_continue_break_and_else_in_one_loop(x):
    x = np.array(x)
    g = check_grads(continue_break_else, (x,))
    stop = int(np.argmax(x > 1.5)) if (x > 1.5).any() else len(x)
    factor = 1.0 if stop < len(x) else 2.0
    expected = np.where((np.arange(len(x)) < stop) & (x >= 0), 2 * x * factor, 0.0)
    np.testing.assert_allclose(g, expected, rtol=1e-12)


# --- nested loops ---------------------------------------------------------------------------
def triangle(x):
    s = 0.0
    for i in range(len(x)):
        for j in range(i):
            s = s + x[i] * x[j]
    return s


def test_nested_loop_inner_bound_from_outer_index(rng):
    x = rng.normal(size=5)
    g = check_grads(triangle, (x,))
    np.testing.assert_allclose(g, np.sum(x) - x, rtol=1e-12)      # d/dx of (sum(x)**2 - sum(x**2)) / 2


def inner_break(x):
    s = 0.0
    for i in range(len(x)):
        for j in range(len(x)):
            if j > i:
                break
            s = s + x[i] * x[j]
    return s


def test_break_out_of_the_inner_loop_only(rng):
    x = rng.normal(size=5)
    g = check_grads(inner_break, (x,))
    M = np.tril(np.ones((5, 5)))                                   # s = x^T M x, M lower triangular with diagonal
    np.testing.assert_allclose(g, (M + M.T) @ x, rtol=1e-12)


def strided_triangle(x):
    n = len(x)
    s = 0.0
    for i in range(n):
        for j in range(i, n, 2):
            s = s + x[i] * x[j] ** 2
    return s


@pytest.mark.parametrize("n", [1, 4, 5])
def test_nested_loop_with_step(rng, n):
    x = rng.normal(size=n)
    g = check_grads(strided_triangle, (x,))
    i, j = np.indices((n, n))
    M = ((j >= i) & ((j - i) % 2 == 0)).astype(float)            # s = sum M_ij x_i x_j**2, loop-free
    np.testing.assert_allclose(g, M @ x ** 2 + 2 * x * (M.T @ x), rtol=1e-12)


def while_then_for(x, w):
    total = 0.0
    scale = 1.0
    while scale > 0.1:
        for v in x:
            total = total + scale * math.tanh(v * w)
        scale = scale * 0.5
    return total


def test_for_nested_in_while(rng):
    x = rng.normal(size=3)
    gx, gw = check_grads(while_then_for, (x, 0.7), wrt=(0, 1))
    c = 1.0 + 0.5 + 0.25 + 0.125
    d = 1 - np.tanh(x * 0.7) ** 2
    np.testing.assert_allclose(gx, c * 0.7 * d, rtol=1e-12)
    assert gw == pytest.approx(c * float(np.sum(x * d)), rel=1e-12)


def loops_three_deep(A, v):
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(i + 1):
            for k in range(j, A.shape[1]):
                s = s + A[i, k] * v[j] * v[k]
    return s


def test_three_nested_loops_against_a_loop_free_version(rng):
    A, v = rng.normal(size=(3, 4)), rng.normal(size=4)
    gA, gv = check_grads(loops_three_deep, (A, v), wrt=(0, 1))
    i, j, k = np.indices((3, 4, 4))
    M = ((j <= i) & (k >= j)).astype(float)                      # s = sum M_ijk A_ik v_j v_k
    np.testing.assert_allclose(gA, np.einsum("ijk,j,k->ik", M, v, v), rtol=1e-12)
    Ai = np.broadcast_to(A[:, None, :], (3, 4, 4))
    gv_expected = np.einsum("ijk,ijk,k->j", M, Ai, v) + np.einsum("ijk,ijk,j->k", M, Ai, v)
    np.testing.assert_allclose(gv, gv_expected, rtol=1e-12)


# --- return inside loops and branches ------------------------------------------------------
def return_in_loop(x, thr):
    for i in range(len(x)):
        if x[i] > thr:
            return x[i] * np.sum(x[:i] ** 2)
        elif x[i] < -thr:
            return -x[i]
    return np.sum(x)


@pytest.mark.parametrize("x", [[0.1, 0.3, 1.2, -2.0], [0.1, -1.5, 2.0], [0.1, 0.2, -0.3]])
def test_return_inside_a_loop(x):
    x = np.array(x)
    g = check_grads(return_in_loop, (x, 1.0))
    expected = np.ones_like(x)
    for i, v in enumerate(x):
        if v > 1.0:
            expected = np.zeros_like(x)
            expected[:i] = 2 * x[:i] * v
            expected[i] = np.sum(x[:i] ** 2)
            break
        if v < -1.0:
            expected = np.zeros_like(x)
            expected[i] = -1.0
            break
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def return_in_nested_loop(X):
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if X[i, j] > 1.5:
                return X[i, j] ** 2 + np.sum(X[i])
    return np.sum(X ** 3)


@pytest.mark.parametrize("hit", [(1, 2), None])
def test_return_inside_a_nested_loop(rng, hit):
    X = rng.uniform(-1, 1, size=(3, 4))
    if hit:
        X[hit] = 2.0
        X[2, 0] = 3.0                                              # a later candidate that must not be reached
    g = check_grads(return_in_nested_loop, (X,))
    if hit:
        expected = np.zeros_like(X)
        expected[hit[0]] = 1.0
        expected[hit] += 2 * X[hit]
    else:
        expected = 3 * X ** 2
    np.testing.assert_allclose(g, expected, rtol=1e-12)


# --- loop-carried arrays and scalar recurrences ----------------------------------------------
def rnn(h0, W, U, xs):
    h = h0
    for x in xs:
        h = np.tanh(W @ h + U @ x)
    return np.sum(h ** 2)


def rnn_bptt(h0, W, U, xs):
    """Back-propagation through time, written by hand."""
    hs = [h0]
    for x in xs:
        hs.append(np.tanh(W @ hs[-1] + U @ x))
    gh = 2 * hs[-1]
    gW, gU, gxs = np.zeros_like(W), np.zeros_like(U), np.zeros_like(xs)
    for t in range(len(xs) - 1, -1, -1):
        d = gh * (1 - hs[t + 1] ** 2)
        gW += np.outer(d, hs[t])
        gU += np.outer(d, xs[t])
        gxs[t] = U.T @ d
        gh = W.T @ d
    return gh, gW, gU, gxs


@pytest.mark.parametrize("steps", [0, 1, 6])
def test_rnn_loop_carried_array(rng, steps):
    h0 = rng.normal(size=4)
    W, U = 0.5 * rng.normal(size=(4, 4)), rng.normal(size=(4, 3))
    xs = rng.normal(size=(steps, 3))
    grads = check_grads(rnn, (h0, W, U, xs), wrt=(0, 1, 2, 3))
    for got, want in zip(grads, rnn_bptt(h0, W, U, xs)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    directional_check(rnn, (h0, W, U, xs), (0, 1, 2, 3), grads, rng)


def lyapunov(x0, r):
    x = x0
    total = 0.0
    for _ in range(1000):
        x = r * x * (1.0 - x)
        total = total + math.log(abs(r * (1.0 - 2.0 * x)))
    return total / 1000


def lyapunov_tangent(x0, r, dx0, dr):
    """Forward mode by hand: the tangent of lyapunov along (dx0, dr)."""
    x, dx, dtotal = x0, dx0, 0.0
    for _ in range(1000):
        x, dx = r * x * (1.0 - x), dr * x * (1.0 - x) + r * (1.0 - 2.0 * x) * dx
        u = r * (1.0 - 2.0 * x)
        dtotal += (dr * (1.0 - 2.0 * x) - 2.0 * r * dx) / u
    return dtotal / 1000


@pytest.mark.parametrize("x0, r", [(0.3, 2.5), (0.3, 3.2)])
def test_thousand_step_logistic_map_in_python_floats(x0, r):
    gx0, gr = check_grads(lyapunov, (x0, r), wrt=(0, 1))
    assert type(gx0) is float and type(gr) is float
    assert gx0 == pytest.approx(lyapunov_tangent(x0, r, 1.0, 0.0), rel=1e-9, abs=1e-15)
    assert gr == pytest.approx(lyapunov_tangent(x0, r, 0.0, 1.0), rel=1e-9)


# =============================================================================================
# 3. What the forward sweep records
# =============================================================================================
def straight_line(x, W):
    h = np.tanh(W @ x)
    y = h * x + np.sin(h)
    return np.sum(y * y)


def test_straight_line_function_records_nothing():
    for kind in ("value_and_grad", "vjp"):
        text = s2sad.adjoint_source(straight_line, wrt=(0, 1), kind=kind)
        assert "_stack" not in text and ".pop(" not in text and ".append(" not in text, text


def invariant_reads(x, W, n):
    acc = np.zeros(3)
    for i in range(n):
        acc = acc + W @ x
    return np.sum(acc * acc)


def invariant_overwrite(x, n):
    y = x
    for i in range(n):
        y = np.sin(x) * 3.0
    return np.sum(y)


@pytest.mark.parametrize("n", [0, 3])
def test_loop_reading_only_invariant_values_is_differentiated(rng, n):
    x, W = rng.normal(size=3), rng.normal(size=(3, 3))
    gx, gW = check_grads(invariant_reads, (x, W, n), wrt=(0, 1))
    d = 2 * n * n * (W @ x)                                        # acc = n W x
    np.testing.assert_allclose(gx, W.T @ d, rtol=1e-12)
    np.testing.assert_allclose(gW, np.outer(d, x), rtol=1e-12)
    g = check_grads(invariant_overwrite, (x, n))
    np.testing.assert_allclose(g, 3 * np.cos(x) if n else np.ones(3), rtol=1e-12)


@pytest.mark.xfail(strict=True, reason="BUG: a loop whose body reads only loop-invariant values still pushes "
                                       "values on stacks (only for their shapes), instead of recording only the count")
@pytest.mark.parametrize("fn, wrt", [(invariant_reads, (0, 1)), (invariant_overwrite, 0)],
                         ids=["accumulate", "overwrite"])
def test_loop_reading_only_invariant_values_records_only_the_count(fn, wrt):
    for kind in ("value_and_grad", "vjp"):
        text = s2sad.adjoint_source(fn, wrt=wrt, kind=kind)
        assert re.search(r"\bi_count\b", text), text                # the count is kept ...
        assert "_stack" not in text and ".pop(" not in text, text    # ... and nothing else


def test_loop_carried_value_read_by_the_backward_sweep_is_stacked():
    text = s2sad.adjoint_source(rnn, wrt=(0, 1, 2, 3))
    stacks = set(re.findall(r"\b(\w+_stack)\b", text))
    assert any(s.startswith("h") for s in stacks), text             # h is overwritten, and tanh' reads it
    assert re.search(r"\bh\w*_stack\.append\(h\w*\)", text), text
    assert re.search(r"\bfor .*\bh\w*_prev\b.* in zip\(.*\breversed\(h\w*_stack\)", text), text   # read back in reverse


def test_nested_loop_ranges_are_recorded_per_inner_run():
    """The inner loop's range depends on the outer index: it is recorded once per inner loop run."""
    text = s2sad.adjoint_source(triangle)
    assert re.search(r"\bj_range\w*_stack\.append\(j_range\w*\)", text), text      # once per inner loop run
    assert re.search(r"\bfor .*\bj_range\b.* in zip\(.*\breversed\(j_range\w*_stack\)", text), text   # read back
    assert "j_count" not in text                                                  # no break: no count


def test_vjp_pullback_can_be_called_twice(rng):
    h0 = rng.normal(size=4)
    W, U = 0.5 * rng.normal(size=(4, 4)), rng.normal(size=(4, 3))
    xs = rng.normal(size=(5, 3))
    value, pullback = s2sad.vjp(rnn, h0, W, U, xs, wrt=(0, 1, 2, 3))
    first = pullback(1.0)
    second = pullback(1.0)
    third = pullback(2.0)
    for a, b, c, want in zip(first, second, third, rnn_bptt(h0, W, U, xs)):
        np.testing.assert_allclose(a, want, rtol=1e-10)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(c, 2 * want, rtol=1e-10)


def rnn_states(h0, W, xs):
    h = h0
    for x in xs:
        h = np.tanh(W @ h + x)
    return h


def test_vjp_of_a_loop_with_vector_output_pulls_back_many_cotangents(rng):
    h0, W, xs = rng.normal(size=3), 0.5 * rng.normal(size=(3, 3)), rng.normal(size=(4, 3))
    value, pullback = s2sad.vjp(rnn_states, h0, W, xs)
    np.testing.assert_allclose(value, rnn_states(h0, W, xs))
    eps = 1e-6
    jac = np.array([(rnn_states(h0 + eps * e, W, xs) - rnn_states(h0 - eps * e, W, xs)) / (2 * eps)
                    for e in np.eye(3)]).T                         # columns: d h / d h0_k
    for _ in range(2):                                              # twice: the stacks are not consumed
        rows = np.array([pullback(e) for e in np.eye(3)])
        np.testing.assert_allclose(rows, jac, rtol=1e-6, atol=1e-8)
