"""Forward mode (``s2sad.jvp``) through control flow, calls, containers and partial tangents; the
generated tangent code itself; errors.

Every tangent is checked against central differences and against reverse mode
(``check_jvp``: ``<u, jvp(v)> == <vjp(u), v>`` with ``s2sad.vjp``; ``check``: also
``np.vdot(grad(f)(x), v)`` for a scalar output), and where there is one, a hand-derived
formula. Input points are chosen so that every branch and every way out of a loop is taken.
The primitives one by one are in test_forward_rules.py.
"""
import collections
import inspect
import math
import re
import warnings

import numpy as np
import pytest

import s2sad
from s2sad import pipeline as driver
from s2sad.errors import NoRuleError, UnsupportedSyntaxError, WrtError, ZeroGradientWarning
from s2sad.rules import registry

from .test_forward_rules import assert_like, check_jvp, pairing


def check(f, values, tangents, rng):
    """check_jvp, and for a scalar output also the gradient paired with the tangents."""
    tangent = check_jvp(f, values, tangents, rng)
    value = f(*values)
    if np.ndim(value) == 0 and not isinstance(value, (tuple, list, dict)):
        wrt = tuple(i for i, t in enumerate(tangents) if t is not None)
        grads = s2sad.grad(f, wrt=wrt)(*values)
        reverse = sum(pairing(g, tangents[i]) for g, i in zip(grads, wrt))
        assert float(tangent) == pytest.approx(reverse, rel=1e-10, abs=1e-12)
    return tangent


def jvp_text(f, wrt=(0,), kinds=()):
    return driver.generate(f, wrt, "jvp", kinds).text


# =============================================================================================
# 1. Control flow
# =============================================================================================
def range_loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + np.sin(x * i) / (i + 1)
    return s


@pytest.mark.parametrize("n", [0, 1, 4])
def test_loop_over_range(rng, n):
    x, v = rng.normal(size=3), rng.normal(size=3)
    _, t = s2sad.jvp(range_loop, (x, n), (v, None))
    want = sum(np.cos(x * i) * i * v / (i + 1) for i in range(n)) if n else 0.0
    np.testing.assert_allclose(t, want, rtol=1e-12, atol=1e-15)
    if n:                                                  # no iteration: the output is the constant 0.0
        check(range_loop, (x, n), (v, None), rng)


def rows(X, w):
    total = 0.0
    for row in X:
        total = total + np.tanh(row @ w)
    return total


def test_loop_over_the_rows_of_an_array(rng):
    X, w = rng.normal(size=(4, 3)), rng.normal(size=3)
    V, u = rng.normal(size=(4, 3)), rng.normal(size=3)
    t = check(rows, (X, w), (V, u), rng)
    d = 1 - np.tanh(X @ w) ** 2
    assert t == pytest.approx(np.sum(d * (V @ w + X @ u)), rel=1e-12)
    check(rows, (X, w), (V, None), rng)                  # only the array walked by the loop
    check(rows, (X, w), (None, u), rng)                  # only the vector the rows meet


def weighted_rows(X):
    acc = np.zeros(X.shape[1])
    for i, row in enumerate(X):
        acc = acc + (i + 1.0) * row ** 2
    return acc


def test_enumerate(rng):
    X, V = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    t = check(weighted_rows, (X,), (V,), rng)
    np.testing.assert_allclose(t, np.sum(np.arange(1.0, 4.0)[:, None] * 2 * X * V, axis=0), rtol=1e-12)


def zipped(xs, ys):
    acc = 0.0
    for a, b in zip(xs, ys):
        acc = acc + a * np.exp(b)
    return acc


def test_zip(rng):
    xs, ys, vx, vy = rng.normal(size=(4, 5))
    t = check(zipped, (xs, ys), (vx, vy), rng)
    assert t == pytest.approx(np.sum(vx * np.exp(ys) + xs * np.exp(ys) * vy), rel=1e-12)
    check(zipped, (xs, ys), (None, vy), rng)
    check(zipped, (xs, ys), (vx, None), rng)


def newton_sqrt(x):
    y = x
    while abs(y * y - x) > 1e-12 * x:
        y = 0.5 * (y + x / y)
    return y


@pytest.mark.parametrize("x", [0.3, 2.0, 50.0])
def test_while_with_a_data_dependent_exit(rng, x):
    value, t = s2sad.jvp(newton_sqrt, (x,), (1.0,))
    assert type(t) is float
    assert t == pytest.approx(0.5 / math.sqrt(x), rel=1e-9)     # Newton converged: d sqrt
    check(newton_sqrt, (x,), (0.7,), rng)


def taylor_sin(x):
    term = x
    total = x
    k = 1
    while True:
        term = -term * x * x / ((2 * k) * (2 * k + 1))
        total = total + term
        if abs(term) < 1e-16:
            break
        k = k + 1
    return total


def test_while_true_with_break(rng):
    for x in (0.4, 2.5):
        _, t = s2sad.jvp(taylor_sin, (x,), (1.0,))
        assert t == pytest.approx(math.cos(x), rel=1e-12, abs=1e-14)
        check(taylor_sin, (x,), (1.0,), rng)


def break_continue(x, limit):
    total = 0.0
    for i in range(10):
        if i % 3 == 1:
            continue
        total = total + x[i % 4] ** 2 * (i + 1)
        if total > limit:
            break
    else:
        total = total * 2.0
    return total


@pytest.mark.parametrize("limit", [3.0, 1e9])              # leaves by break / runs out and takes the else
def test_break_continue_and_for_else(rng, limit):
    x = np.array([0.8, -0.6, 1.1, 0.4])
    v = rng.normal(size=4)
    check(break_continue, (x, limit), (v, None), rng)


def early_return(x):
    s = np.sum(x)
    if s > 0.0:
        return np.sum(x ** 2)
    y = np.exp(x)
    if s < -1.0:
        return np.sum(y)
    return np.sum(y * x)


@pytest.mark.parametrize("x", [[0.5, 0.2], [-0.9, -0.4], [0.3, -0.6]])
def test_early_return(rng, x):
    check(early_return, (np.array(x),), (rng.normal(size=2),), rng)


def active_on_one_branch(x, flag):
    if flag:
        y = np.sin(x) * 2.0
    else:
        y = 3.0
    z = y * x
    return z


@pytest.mark.parametrize("flag", [True, False])
def test_a_variable_active_on_one_branch_only(rng, flag):
    x, v = rng.normal(size=3), rng.normal(size=3)
    t = check(active_on_one_branch, (x, flag), (v, None), rng)
    want = (2 * np.cos(x) * x + 2 * np.sin(x)) * v if flag else 3.0 * v
    np.testing.assert_allclose(t, want, rtol=1e-12)


def branch_on_data(x):
    if x > 1.0:
        y = x ** 3
    elif x > 0.0:
        y = math.sin(x)
    else:
        y = 2.0
    return y * x


@pytest.mark.parametrize("x, want", [(1.5, 4 * 1.5 ** 3), (0.5, math.sin(0.5) + 0.5 * math.cos(0.5)), (-0.5, 2.0)])
def test_branches_on_a_float(rng, x, want):
    _, t = s2sad.jvp(branch_on_data, (x,), (1.0,))
    assert type(t) is float and t == pytest.approx(want, rel=1e-12)
    check(branch_on_data, (x,), (1.0,), rng)


def nested_loops(x, W):
    acc = 0.0
    for i in range(3):
        for j in range(i, 3):
            acc = acc + x[i] * x[j] * W[i, j]
        acc = acc * 0.9
    return acc


def test_nested_loops(rng):
    x, W, v, V = rng.normal(size=3), rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=(3, 3))
    check(nested_loops, (x, W), (v, V), rng)
    check(nested_loops, (x, W), (v, None), rng)


def recurrence(h, W, xs):
    for x in xs:
        h = np.tanh(W @ h + x)
    return h


def test_loop_carried_array_with_an_array_output(rng):
    h, W, xs = rng.normal(size=3), 0.5 * rng.normal(size=(3, 3)), rng.normal(size=(4, 3))
    t = check(recurrence, (h, W, xs), (rng.normal(size=3), rng.normal(size=(3, 3)), rng.normal(size=(4, 3))), rng)
    assert t.shape == (3,)


def scalar_carry(s, x):
    for i in range(3):
        s = s * x + 1.0
    return s


def test_loop_carried_variable_that_becomes_active_in_the_loop(rng):
    h, W, xs = rng.normal(size=3), 0.5 * rng.normal(size=(3, 3)), rng.normal(size=(4, 3))
    check(recurrence, (h, W, xs), (None, None, rng.normal(size=(4, 3))), rng)
    _, t = s2sad.jvp(scalar_carry, (2.0, 0.5), (None, 1.0))    # s = ((2x + 1)x + 1)x + 1
    assert t == pytest.approx(6 * 0.5 ** 2 + 2 * 0.5 + 1, rel=1e-12)
    layers = [(rng.normal(size=(3, 3)), rng.normal(size=3)) for _ in range(2)]
    dirs = [(rng.normal(size=(3, 3)), rng.normal(size=3)) for _ in range(2)]
    check(list_of_layers, (layers, rng.normal(size=3)), (dirs, None), rng)


# =============================================================================================
# 2. Calls to user functions
# =============================================================================================
def helper(a, b, c, k):
    return a * np.sin(b) + c * k


def calls_helper(x, y, c):
    u = helper(x, y, c, 2.0)                   # a, b active; c, k not
    w = helper(y, 0.5, x, c)                   # a active, b constant, c active
    return np.sum(u * w)


def test_helper_with_active_and_inactive_arguments(rng):
    x, y, c = rng.normal(size=(3, 4))
    check(calls_helper, (x, y, c), (rng.normal(size=4), rng.normal(size=4), None), rng)
    check(calls_helper, (x, y, c), (None, rng.normal(size=4), None), rng)
    check(calls_helper, (x, y, c), (rng.normal(size=4), None, rng.normal(size=4)), rng)


def stats(v):
    m = np.mean(v)
    return m, np.mean((v - m) ** 2)


def uses_stats(x):
    m, var = stats(x)
    both = stats(x * 2.0)
    return m * var + both[1]


def test_helper_returning_a_tuple(rng):
    x, v = rng.normal(size=5), rng.normal(size=5)
    t = check(uses_stats, (x,), (v,), rng)
    m, var = np.mean(x), np.var(x)
    dm, dvar = np.mean(v), np.mean(2 * (x - m) * (v - np.mean(v)))
    assert t == pytest.approx(dm * var + m * dvar + 4 * dvar, rel=1e-12)


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


@pytest.mark.parametrize("n", [0, 1, 5])
def test_recursion(n):
    value, t = s2sad.jvp(power, (1.3, n), (1.0, None))
    assert value == pytest.approx(1.3 ** n)
    assert t == pytest.approx(n * 1.3 ** (n - 1) if n else 0.0, rel=1e-12)
    if n:
        check(power, (1.3, n), (0.5, None), np.random.default_rng(0))


def ping(x, n):
    if n == 0:
        return x
    return pong(np.sin(x), n - 1)


def pong(x, n):
    if n == 0:
        return x
    return ping(x * x + 0.5, n - 1)


def test_mutual_recursion(rng):
    x, v = rng.normal(size=3), rng.normal(size=3)
    for n in (1, 2, 5):
        check(ping, (x, n), (v, None), rng)
    _, t = s2sad.jvp(ping, (x, 2), (v, None))
    np.testing.assert_allclose(t, 2 * np.sin(x) * np.cos(x) * v, rtol=1e-12)


def with_closures(x, y, scale):
    def inner(a, b):
        return a * np.exp(b) * scale           # reads an inactive enclosing value

    square = lambda t: t * t                   # noqa: E731
    h = inner(x, y)
    return np.sum(square(h) + inner(y, 0.5))


def test_functions_defined_inside(rng):
    x, y = rng.normal(size=(2, 3))
    check(with_closures, (x, y, 0.7), (rng.normal(size=3), rng.normal(size=3), None), rng)
    check(with_closures, (x, y, 0.7), (None, rng.normal(size=3), None), rng)


def affine(x, W, b=0.0, scale=1.0):
    return scale * (W @ x + b)


def keywords_and_defaults(x, W, b):
    h1 = affine(x, W)                          # defaults
    h2 = affine(x, W, scale=2.0, b=b)          # keywords, out of order
    h3 = affine(W=W, x=h1)                     # everything by keyword
    return np.sum(np.tanh(h1) * h2) + np.sum(h3)


def test_keyword_arguments_and_defaults(rng):
    x, W, b = rng.normal(size=3), rng.normal(size=(3, 3)), rng.normal(size=3)
    check(keywords_and_defaults, (x, W, b), (rng.normal(size=3), rng.normal(size=(3, 3)), rng.normal(size=3)), rng)
    check(keywords_and_defaults, (x, W, b), (None, None, rng.normal(size=3)), rng)


@s2sad.differentiable
def decorated(x, y):
    return np.sum(x * y)


def calls_decorated(x):
    return decorated(x, x * 2.0) + decorated(np.ones(3), x)


def test_decorated_helper_and_differentiating_it_directly(rng):
    x, v = rng.normal(size=3), rng.normal(size=3)
    check(calls_decorated, (x,), (v,), rng)
    check(decorated, (x, 2.0 * x), (v, None), rng)


# =============================================================================================
# 3. Containers
# =============================================================================================
Pair = collections.namedtuple("Pair", "w b")


def tuple_param(p, X):
    W, b = p
    return np.tanh(X @ W + b)


def list_of_layers(layers, x):
    for W, b in layers:
        x = np.tanh(W @ x + b)
    return x


def dict_param(d):
    return d["a"] * np.sin(d["b"]) + d["a"][0]


def namedtuple_param(p, X):
    return np.sum(np.tanh(X @ p.w + p.b))


def test_tuple_list_dict_namedtuple_arguments(rng):
    W, b, X = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(4, 3))
    check(tuple_param, ((W, b), X), ((rng.normal(size=(3, 2)), rng.normal(size=2)), None), rng)
    check(tuple_param, ((W, b), X), (None, rng.normal(size=(4, 3))), rng)
    layers = [(rng.normal(size=(3, 3)), rng.normal(size=3)) for _ in range(2)]
    dirs = [(rng.normal(size=(3, 3)), rng.normal(size=3)) for _ in range(2)]
    check(list_of_layers, (layers, rng.normal(size=3)), (dirs, rng.normal(size=3)), rng)
    d = {"a": rng.normal(size=3), "b": rng.normal(size=3)}
    check(dict_param, (d,), ({"a": rng.normal(size=3), "b": rng.normal(size=3)},), rng)
    check(namedtuple_param, (Pair(W, b), X), (Pair(rng.normal(size=(3, 2)), rng.normal(size=2)), None), rng)


def tuple_out(x):
    return np.sin(x), np.sum(x) * 2.0


def list_out(x):
    return [x * 2.0, np.cos(x)]


def dict_out(x, y):
    return {"s": np.sum(x * y), "v": x - y}


def namedtuple_out(x):
    return Pair(x * 3.0, np.sum(x))


def nested_out(x):
    return (x, [x * x, {"k": np.exp(x)}])


@pytest.mark.parametrize("f", [tuple_out, list_out, dict_out, namedtuple_out, nested_out])
def test_container_outputs_give_tangents_of_the_same_structure(rng, f):
    n = len(inspect.signature(f).parameters)
    values = [rng.normal(size=3) for _ in range(n)]
    tangents = [rng.normal(size=3) for _ in range(n)]
    value, t = s2sad.jvp(f, values, tangents)
    assert type(t) is type(value)
    check_jvp(f, values, tangents, rng)            # assert_like checks the structure all the way down


def builds_a_list(x, n):
    out = []
    for i in range(n):
        out.append(x * (i + 1.0))
    out.append(np.sin(x))
    return np.stack(out), sum(out)


def stacked(x, n):
    return builds_a_list(x, n)[0]


def summed(x, n):
    out = []
    for i in range(n):
        out.append(x * (i + 1.0))
    out.append(np.sin(x))
    return sum(out)


def test_list_built_with_append(rng):
    x, v = rng.normal(size=3), rng.normal(size=3)
    _, (t_stack, t_sum) = s2sad.jvp(builds_a_list, (x, 3), (v, None))
    np.testing.assert_allclose(t_stack, np.stack([v, 2 * v, 3 * v, np.cos(x) * v]), rtol=1e-12)
    np.testing.assert_allclose(t_sum, 6 * v + np.cos(x) * v, rtol=1e-12)
    check_jvp(builds_a_list, (x, 3), (v, None), rng, reverse=False)     # reverse mode: see the test below
    check_jvp(stacked, (x, 3), (v, None), rng)
    check_jvp(summed, (x, 3), (v, None), rng)


def list_used_twice(x):
    out = [x, x * 2.0]
    a = np.stack(out)
    b = np.stack(out)
    return np.sum(a) + np.sum(b)


def test_reverse_mode_agrees_with_forward_mode_on_a_list_used_twice(rng):
    x, v = rng.normal(size=2), rng.normal(size=2)
    _, t = s2sad.jvp(list_used_twice, (x,), (v,))
    assert t == pytest.approx(6 * np.sum(v), rel=1e-12)
    np.testing.assert_allclose(s2sad.grad(list_used_twice)(x), [6.0, 6.0])
    check_jvp(builds_a_list, (x, 3), (v, None), rng)


def indexes_containers(x, y):
    t = (x, y, 2.0)
    items = [x * 2.0, y]
    d = {"p": x, "q": items}
    return t[0] * t[1] * t[2] + items[-1] + d["q"][0] * d["p"]


def test_indexing_into_containers(rng):
    x, y = rng.normal(size=(2, 3))
    t = check(indexes_containers, (x, y), (np.ones(3), None), rng)
    np.testing.assert_allclose(t, 2.0 * y + 4.0 * x, rtol=1e-12)
    check(indexes_containers, (x, y), (rng.normal(size=3), rng.normal(size=3)), rng)


def container_through_a_helper(p, x):
    q = swap(p)
    return np.sum(q[0] * x) + q[1]["c"]


def swap(p):
    a, b = p
    return b * 2.0, {"c": np.sum(a ** 2)}


def test_containers_passed_to_and_returned_from_helpers(rng):
    a, b, x = rng.normal(size=(3, 3))
    check(container_through_a_helper, ((a, b), x), ((rng.normal(size=3), rng.normal(size=3)), None), rng)


# =============================================================================================
# 4. Which arguments, which outputs
# =============================================================================================
def three_args(x, y, z):
    return np.sum(np.sin(x) * y) + z ** 2


def test_only_some_arguments_have_tangents(rng):
    x, y, v, u = rng.normal(size=(4, 3))
    _, tx = s2sad.jvp(three_args, (x, y, 1.5), (v, None, None))
    _, ty = s2sad.jvp(three_args, (x, y, 1.5), (None, u, None))
    value, tz = s2sad.jvp(three_args, (x, y, 1.5), (None, None, 1.0))
    _, tall = s2sad.jvp(three_args, (x, y, 1.5), (v, u, 1.0))
    assert tx == pytest.approx(np.sum(np.cos(x) * v * y), rel=1e-12)
    assert ty == pytest.approx(np.sum(np.sin(x) * u), rel=1e-12)
    assert tz == pytest.approx(3.0, rel=1e-12) and type(tz) is type(value)      # the value's type (np.float64)
    assert tall == pytest.approx(tx + ty + tz, rel=1e-12)
    check(three_args, (x, y, 1.5), (v, None, 0.3), rng)


def int_loop(x, n):
    s = x
    for i in range(n):
        s = s * x + i
    return s


def test_wrt_an_int_argument_is_refused_but_ints_held_constant_are_fine(rng):
    with pytest.raises(s2sad.WrtError, match="pass a float"):
        s2sad.jvp(int_loop, (2, 3), (1, None))
    value, t = s2sad.jvp(int_loop, (2.0, 3), (1.0, None))          # s = x^4 + x + 2
    assert value == int_loop(2, 3)
    assert type(t) is float and t == pytest.approx(4 * 8 + 1, rel=1e-14)
    value, t = s2sad.jvp(three_args, (np.array([1, 2]), np.array([0.5, 0.5]), 3.0), (None, None, 1.0))
    assert type(t) is type(value) and t == 6.0                      # (np.float64, as the value)
    x = np.array([1.0, 2.0, 3.0])
    value, t = s2sad.jvp(int_loop, (x, 2), (np.ones(3), None))
    assert t.dtype == np.float64
    np.testing.assert_allclose(t, 3 * x ** 2, rtol=1e-14)               # s = x^3 + 1
    check(int_loop, (x, 2), (rng.normal(size=3), None), rng)


def ignores_x(x, c):
    return np.ones(3) * c


def test_output_that_does_not_depend_on_the_argument():
    with pytest.warns(ZeroGradientWarning, match="does not depend on its argument `x`"):
        value, t = s2sad.jvp(ignores_x, (np.ones(2), 2.0), (np.ones(2), None))
    assert isinstance(t, np.ndarray) and t.shape == (3,) and t.dtype == np.float64 and not t.any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZeroGradientWarning)
        value, t = s2sad.jvp(ignores_x, (1.0, 2.0), (1.0, None))
    assert isinstance(t, np.ndarray) and t.shape == (3,) and not t.any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # depends on x, though the tangent is zero here (y = 0)
        value, t = s2sad.jvp(three_args, (np.ones(2), np.zeros(2), 1.0), (np.ones(2), None, None))
    assert t == 0.0


def scalar_and_array(x):
    return np.sum(x ** 2), x * 2.0


def test_scalar_and_array_outputs(rng):
    x, v = rng.normal(size=3), rng.normal(size=3)
    _, (ts, ta) = s2sad.jvp(scalar_and_array, (x,), (v,))
    assert np.ndim(ts) == 0 and ts == pytest.approx(2 * np.dot(x, v), rel=1e-12)
    np.testing.assert_allclose(ta, 2 * v, rtol=1e-15)
    _, t = s2sad.jvp(newton_sqrt, (4.0,), (1.0,))
    assert type(t) is float
    _, t = s2sad.jvp(np_float_out, (np.array([0.5, 0.2]),), (np.ones(2),))
    assert np.ndim(t) == 0 and not isinstance(t, np.ndarray)


def np_float_out(x):
    return np.sum(x) * 1.5


def test_jvp_arguments_are_checked():
    with pytest.raises(WrtError, match="one tangent per primal"):
        s2sad.jvp(three_args, (1.0, 2.0, 3.0), (1.0,))
    with pytest.raises(WrtError, match="at least one tangent"):
        s2sad.jvp(three_args, (1.0, 2.0, 3.0), (None, None, None))


# =============================================================================================
# 5. The generated code
# =============================================================================================
def straight(x, y):
    a = np.sin(y)
    b = a * x
    c = np.exp(b)
    return c + a


def test_no_tangent_for_inactive_values_and_no_zeros():
    text = jvp_text(straight, (0,), (1, 1))
    assert text.startswith("def straight_jvp(x_dot, x, y):")
    assert "a_dot" not in text and "y_dot" not in text         # a = sin(y) does not depend on x
    assert re.search(r"^\s+b_dot = .*x_dot", text, re.M)
    assert "zeros" not in text and "= 0.0" not in text
    assert text.rstrip().endswith("return (ans, ans_dot)")
    both = jvp_text(straight, (0, 1), (1, 1))
    assert both.startswith("def straight_jvp(x_dot, y_dot, x, y):")
    assert "a_dot = y_dot * np.cos(y)" in both


def poly(x, c):
    y = c * x * x + math.sin(x)
    z = y / (1.0 + x) - abs(x) ** 0.5
    return z


def test_plain_float_arithmetic_for_python_numbers():
    text = jvp_text(poly, (0,), (-1, -1))
    assert "_s2." not in text, text
    assert "np." not in text
    assert "math.cos(x)" in text
    rng = np.random.default_rng(0)
    check(poly, (0.7, 1.3), (1.0, None), rng)
    check(poly, (-0.4, 1.3), (1.0, 0.5), rng)
    # the same function on arrays needs broadcasting helpers
    assert "_s2." in jvp_text(poly, (0,), (1, 1))


def test_line_comments_cite_the_users_lines():
    text = jvp_text(straight, (0,), (1, 1))
    lines, first = inspect.getsourcelines(straight)
    for k, src in enumerate(lines[1:], start=first + 1):
        src = src.strip()
        if src.startswith("a ="):
            assert f"# line {k}: {src}" not in text        # inactive: no tangent, so no comment
        else:
            assert f"# line {k}: {src}" in text, (k, src, text)
    comments = re.findall(r"# line (\d+):", text)
    assert comments == sorted(comments, key=int) and len(set(comments)) == len(comments)


def test_loops_and_branches_keep_their_shape():
    text = jvp_text(rows, (0, 1), (2, 1))
    assert re.search(r"for _k\w* in row_range:\n(\s+#.*\n)?\s+row = (\w+)\[_k\w*\]\n\s+row_dot = \2_dot\[_k\w*\]", text), text
    text = jvp_text(active_on_one_branch, (0,), (1, -1))
    assert text.count("if flag:") == 1
    assert re.search(r"else:\n(\s+# line \d+: y = 3.0\n)?\s+y = 3.0\n\s+y_dot = 0.0\n", text), text  # a needed zero
    text = jvp_text(range_loop, (0,), (1, -1))
    assert "i_range = range(n)" in text and "for i in i_range:" in text and "i_dot" not in text


def test_calls_use_the_callees_own_tangent_code(monkeypatch):
    from s2sad import pipeline as driver
    from s2sad.optimize import inline_calls
    monkeypatch.setattr(inline_calls, "MAX_STATEMENTS", 0)          # small helpers are inlined otherwise
    monkeypatch.setattr(driver, "_cache", {})
    text = jvp_text(calls_helper, (0, 1), (1, 1, 1))
    assert re.search(r"\(u, u_dot\) = helper_jvp\w*\(x_dot, y_dot, x, y, c, 2\.0\)|u, u_dot = helper_jvp", text), text
    code = [line for line in text.splitlines() if not line.strip().startswith("#")]
    assert not any("helper(" in line for line in code)


def test_generated_code_is_deterministic():
    assert jvp_text(calls_helper, (0, 1), (1, 1, 1)) == jvp_text(calls_helper, (0, 1), (1, 1, 1))
    assert jvp_text(nested_loops, (0, 1), (1, 2)) == driver.transform(nested_loops, (0, 1), "jvp", (1, 2)).text


# =============================================================================================
# 6. Errors
# =============================================================================================
def reverse_only_prim(x):
    return x * 3.0


@registry.vjp(reverse_only_prim)
def reverse_only_prim_vjp(g, ans, x): return g * 3.0


def calls_reverse_only(x):
    y = reverse_only_prim(x) + 1.0
    return y


def test_a_primitive_with_a_reverse_rule_only():
    assert s2sad.grad(calls_reverse_only)(2.0) == 3.0
    with pytest.raises(NoRuleError) as info:
        s2sad.jvp(calls_reverse_only, (2.0,), (1.0,))
    message = str(info.value)
    line = inspect.getsourcelines(calls_reverse_only)[1] + 1
    assert f"test_forward.py:{line}:" in message
    assert "reverse_only_prim" in message and "y = reverse_only_prim(x) + 1.0" in message
    assert "@s2sad.rules.jvp(reverse_only_prim)" in message
    assert s2sad.rules.jvp is registry.jvp                 # the hint names an API that exists


def both_modes_prim(x):
    return x * 3.0


@s2sad.rules.vjp(both_modes_prim)
def both_modes_prim_vjp(g, ans, x): return g * 3.0


@s2sad.rules.jvp(both_modes_prim)
def both_modes_prim_jvp(g, ans, x): return g * 3.0


def calls_both_modes(x):
    return both_modes_prim(x) * x


def test_a_users_forward_rule_is_inlined(rng):
    assert "g" not in re.findall(r"\w+", jvp_text(calls_both_modes, (0,), (-1,)))
    check(calls_both_modes, (0.7,), (1.0,), rng)
    check(calls_both_modes, (rng.normal(size=3),), (rng.normal(size=3),), rng)


def writes_into_active(x):
    y = x * 2.0
    y[0] = 1.0
    return y


def writes_into_inactive(x, c):
    buf = np.zeros(3)
    buf[1] = c
    return x * buf


def test_writing_into_an_active_array():
    """``y[0] = 1.0`` into a differentiated array: its tangent there is zero (tests/test_writes.py has more)."""
    _, t = s2sad.jvp(writes_into_active, (np.ones(3),), (np.ones(3),))
    np.testing.assert_array_equal(t, [0.0, 2.0, 2.0])
    _, t = s2sad.jvp(writes_into_inactive, (np.ones(3), 2.0), (np.ones(3), None))   # an inactive buffer
    np.testing.assert_array_equal(t, [0.0, 2.0, 0.0])
    _, t = s2sad.jvp(writes_into_inactive, (np.ones(3), 2.0), (None, 1.0))
    np.testing.assert_array_equal(t, [0.0, 1.0, 0.0])


# --- a primitive with a tuple result and two differentiated arguments ------------------------------------
def _sum_and_product(a, b):
    return a + b, a * b


@pytest.fixture
def tuple_primitive():
    from s2sad import rules
    from s2sad.rules import registry
    saved = dict(registry._VJP), dict(registry._JVP)

    @rules.vjp(_sum_and_product)
    def _vjp(g, ans, a, b): return g[0] + g[1] * b, g[0] + g[1] * a

    @rules.jvp(_sum_and_product)
    def _jvp(g, ans, a, b): return tangent_pair(g, b), tangent_pair(g, a)
    yield
    registry._VJP.clear(), registry._VJP.update(saved[0]), registry._JVP.clear(), registry._JVP.update(saved[1])
    registry._changed()


def tangent_pair(g, other):
    return (g, g * other)


def uses_the_pair(x, y):
    s, p = _sum_and_product(x, y)
    return s * 2.0 + p


def test_tangents_of_a_tuple_result_are_added_item_by_item(tuple_primitive):
    """Two arguments' contributions to a tuple tangent were joined with `+` (tuple concatenation), so the
    result kept the first argument's only: np.linalg.lstsq's forward mode was wrong (forward/tangent.py)."""
    value, tangent = s2sad.jvp(uses_the_pair, (0.5, 2.0), (1.0, 1.0))
    assert tangent == pytest.approx((2.0 + 2.0) + (2.0 + 0.5))


def _scaled_square(a, b):                     # a primitive (think: a C function)
    return a * b ** 2


@s2sad.rules.vjp(_scaled_square)
def _scaled_square_vjp(g, ans, b, a):         # the rule's own names for the arguments, taken in order
    return g * a ** 2, g * 2 * b * a


@s2sad.rules.jvp(_scaled_square)
def _scaled_square_jvp(t, ans, b, a):
    return t * a ** 2, 2 * t * b * a


def _called_by_keywords(a, b):
    return np.sum(_scaled_square(b=b, a=a))


def test_a_users_rule_takes_keyword_arguments_in_the_functions_order():
    """`p(a=x, b=y)` with a rule `p_vjp(g, ans, b, a)`: the keywords were bound to the rule's parameters by name
    (each adjoint given to the other argument; found by a probe)."""
    a, b = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    ga, gb = s2sad.grad(_called_by_keywords, wrt=(0, 1))(a, b)
    np.testing.assert_allclose(ga, b ** 2, rtol=1e-14)
    np.testing.assert_allclose(gb, 2 * a * b, rtol=1e-14)
    assert s2sad.jvp(_called_by_keywords, (a, b), (np.ones(2), np.ones(2)))[1] == pytest.approx(np.sum(b ** 2 + 2 * a * b))


def _cubed(x, k=3.0):                         # a primitive whose default the rule does not share
    return x ** k


@s2sad.rules.vjp(_cubed)
def _cubed_vjp(g, ans, x, k=2.0):
    return g * k * x ** (k - 1)


@s2sad.rules.jvp(_cubed)
def _cubed_jvp(t, ans, x, k=2.0):
    return t * k * x ** (k - 1)


def _cubed_by_default(x):
    return np.sum(_cubed(x))


def test_a_users_rule_gets_the_functions_defaults():
    """`p(x)` with `p(x, k=3.0)` and a rule `(g, ans, x, k=2.0)`: the rule took its own default (2x for 3x^2;
    found by a probe)."""
    x = np.array([0.3, -0.4, 1.2])
    np.testing.assert_allclose(s2sad.grad(_cubed_by_default)(x), 3 * x ** 2, rtol=1e-14)
    assert s2sad.jvp(_cubed_by_default, (x,), (np.ones(3),))[1] == pytest.approx(np.sum(3 * x ** 2))


def test_a_users_rule_with_star_args_is_refused_where_it_is_registered():
    """`def p_vjp(g, ans, *args)`: the first adjoint went to every argument (found by a probe)."""
    with pytest.raises(TypeError, match="takes \\*args or \\*\\*kwargs"):
        s2sad.rules.vjp(_cubed)(lambda g, ans, *args: (g, g))
    with pytest.raises(TypeError, match="takes \\*args or \\*\\*kwargs"):
        s2sad.rules.jvp(_cubed)(lambda g, ans, x, **kw: g)
