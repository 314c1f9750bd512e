"""Reverse mode through calls to user functions, closures, and containers (tuples, lists, dicts, namedtuples).

Every gradient is checked against central finite differences (``check_grads``, which also
compares grad, value_and_grad and vjp and checks the gradient's type and structure) and
by an independent route: a hand-derived formula, a hand-written forward-mode recursion,
directional finite differences, or the same computation written without calls or
containers (whose gradient must agree).
"""
import copy
import math
from collections import namedtuple

import numpy as np
import pytest

import s2sad
from s2sad import pipeline as driver
from s2sad.testing import check_grads

from .directional import directional_check


def assert_tree_close(got, want, rtol=1e-12, atol=1e-14):
    """Same container structure and types (namedtuple, tuple, list, dict keys), close leaves."""
    assert type(got) is type(want), (type(got), type(want))
    if isinstance(want, dict):
        assert got.keys() == want.keys()
        for k in want:
            assert_tree_close(got[k], want[k], rtol, atol)
    elif isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            assert_tree_close(a, b, rtol, atol)
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# =============================================================================================
# 4. Calls to user functions
# =============================================================================================
def sq_norm(v):
    return np.sum(v * v)


def affine(x, W, b=0.0, scale=1.0):
    return scale * (W @ x + b)


def moments(v):
    m = np.mean(v)
    return m, np.mean((v - m) ** 2)


@s2sad.differentiable
def soft(v, temp=1.0):
    return np.log(np.sum(np.exp(v / temp))) * temp


def uses_helpers(x, W, b):
    h = affine(x, W, b)                          # positional, defaults for scale
    h2 = affine(x, W, scale=2.0, b=b)            # keywords, out of order
    m, var = moments(h)                          # several return values, unpacked
    return sq_norm(h2) + m * var + soft(h, temp=0.5) + soft(h2)


def uses_helpers_inlined(x, W, b):
    h = W @ x + b
    h2 = 2.0 * (W @ x + b)
    m = np.mean(h)
    var = np.mean((h - m) ** 2)
    return np.sum(h2 * h2) + m * var + np.log(np.sum(np.exp(h / 0.5))) * 0.5 + np.log(np.sum(np.exp(h2)))


def test_calls_with_positional_keyword_default_arguments_and_tuple_results(rng):
    x, W, b = rng.normal(size=3), 0.5 * rng.normal(size=(4, 3)), rng.normal(size=4)
    grads = check_grads(uses_helpers, (x, W, b), wrt=(0, 1, 2))
    want = s2sad.grad(uses_helpers_inlined, wrt=(0, 1, 2))(x, W, b)
    for g, w in zip(grads, want):
        np.testing.assert_allclose(g, w, rtol=1e-10)
    directional_check(uses_helpers, (x, W, b), (0, 1, 2), grads, rng)


def test_decorated_helper_differentiated_directly(rng):
    v = rng.normal(size=5)
    g = check_grads(soft, (v, 0.7), wrt=(0, 1))
    p = np.exp(v / 0.7) / np.sum(np.exp(v / 0.7))                  # softmax, by hand
    np.testing.assert_allclose(g[0], p, rtol=1e-12)
    lse = np.log(np.sum(np.exp(v / 0.7)))
    assert g[1] == pytest.approx(lse - np.sum(p * v) / 0.7, rel=1e-12)


def cell(h, W, x):
    return np.tanh(W @ h + x)


def calls_in_loops_and_branches(h, W, xs):
    for x in xs:
        if np.sum(x) > 0.0:
            h = cell(h, W, x)
        else:
            h = cell(h, W, -x) * 0.5
    return sq_norm(h)


def calls_in_loops_and_branches_by_hand(h, W, xs):
    """Back-propagation through time, by hand, for calls_in_loops_and_branches."""
    hs, ds = [h], []
    for x in xs:
        sign, factor = (1.0, 1.0) if np.sum(x) > 0 else (-1.0, 0.5)
        t = np.tanh(W @ hs[-1] + sign * x)
        hs.append(factor * t)
        ds.append((factor, t, sign))
    gh, gW, gxs = 2 * hs[-1], np.zeros_like(W), np.zeros_like(xs)
    for k in range(len(xs) - 1, -1, -1):
        factor, t, sign = ds[k]
        d = gh * factor * (1 - t * t)
        gW += np.outer(d, hs[k])
        gxs[k] = sign * d
        gh = W.T @ d
    return gh, gW, gxs


def test_calls_inside_loops_and_branches(rng):
    h, W = rng.normal(size=3), 0.6 * rng.normal(size=(3, 3))
    xs = rng.normal(size=(6, 3))
    xs[1] = np.abs(xs[1])
    xs[2] = -np.abs(xs[2])                                        # both branches are taken
    grads = check_grads(calls_in_loops_and_branches, (h, W, xs), wrt=(0, 1, 2))
    for g, w in zip(grads, calls_in_loops_and_branches_by_hand(h, W, xs)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-14)


B0 = np.array([0.1, -0.2])


def lin(x, W, b=B0):
    return W @ x + b


def first_large_or_sum(v):
    for i in range(len(v)):
        if v[i] > 1.0:
            return v[i] * 2.0
    return np.sum(v)


def helpers_with_control_flow(x, W):
    s = np.sum(lin(x, W) ** 2)                  # a default that is a module-level array
    k = 0
    while k < 3:
        s = s + first_large_or_sum(x * k)       # a helper with a loop and an early return, in a while loop
        k += 1
    return s


def test_helpers_with_their_own_loops_and_returns_called_in_a_while_loop(rng):
    W = rng.normal(size=(2, 3))
    for x in (np.array([0.1, 0.6, 0.3]), np.array([0.2, 0.8, -0.4])):
        gx, gW = check_grads(helpers_with_control_flow, (x, W), wrt=(0, 1))
        r = 2 * (W @ x + B0)
        expected = W.T @ r
        for k in range(3):                                       # the helper, by hand, at x * k
            v = x * k
            hits = np.flatnonzero(v > 1.0)
            if hits.size:
                expected[hits[0]] += 2.0 * k
            else:
                expected += k
        np.testing.assert_allclose(gx, expected, rtol=1e-12)
        np.testing.assert_allclose(gW, np.outer(r, x), rtol=1e-12)


def poly_pair(x, n):
    if n <= 0:
        return 1.0, 0.0
    a, b = poly_pair(x, n - 1)
    return a * x, b + a


def poly_pair_sum(x, n):
    a, b = poly_pair(x, n)                      # (x**n, 1 + x + ... + x**(n-1))
    return a + b


@pytest.mark.parametrize("n", [0, 1, 4])
def test_recursion_returning_a_tuple(n):
    g = check_grads(poly_pair_sum, (0.7, n))
    assert g == pytest.approx(n * 0.7 ** (n - 1) + sum(k * 0.7 ** (k - 1) for k in range(1, n)), rel=1e-12, abs=1e-15)


@s2sad.differentiable(wrt=(0, 1))
def weighted(a, b):
    return a * b ** 2


def calls_decorated_both_ways(x, y):
    return weighted(x, y) + weighted(y, x * 2.0)


def test_decorated_function_called_with_its_arguments_swapped():
    gx, gy = check_grads(calls_decorated_both_ways, (0.5, 1.5), wrt=(0, 1))
    # x y**2 + y (2x)**2
    assert gx == pytest.approx(1.5 ** 2 + 8 * 1.5 * 0.5, rel=1e-12)
    assert gy == pytest.approx(2 * 0.5 * 1.5 + 4 * 0.5 ** 2, rel=1e-12)


def pack_stats(v):
    return {"m": np.mean(v), "ends": [v[0], v[-1]]}


def uses_a_dict_result(x):
    st = pack_stats(x)
    return st["m"] * st["ends"][1] + st["ends"][0]


def test_helper_returning_a_dict_of_lists(rng):
    x = rng.normal(size=4)
    g = check_grads(uses_a_dict_result, (x,))
    expected = np.full(4, x[-1] / 4)
    expected[-1] += np.mean(x)
    expected[0] += 1.0
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def recursion_in_loop_and_branch(x):
    s = 0.0
    for i in range(4):
        if i % 2 == 0:
            s = s + math.sin(power(x, i))
        else:
            s = s - power(x, i + 1)
    return s


def test_recursive_helper_called_in_a_loop_and_branches():
    x = 0.8
    g = check_grads(recursion_in_loop_and_branch, (x,))
    # sin(1) + sin(x**2) - x**2 - x**4
    assert g == pytest.approx(math.cos(x ** 2) * 2 * x - 2 * x - 4 * x ** 3, rel=1e-12)


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def sum_power(x, n):
    return np.sum(power(x, n))


@pytest.mark.parametrize("n", [0, 1, 5])
def test_recursion_with_an_int_base_case(rng, n):
    g = check_grads(power, (1.3, n))
    assert g == pytest.approx(n * 1.3 ** (n - 1) if n else 0.0, rel=1e-12)
    x = rng.normal(size=3)
    g = check_grads(sum_power, (x, n))
    np.testing.assert_allclose(g, n * x ** (n - 1) if n else np.zeros(3), rtol=1e-12)


def even_f(x, n):
    if n == 0:
        return math.sin(x)
    return odd_f(x * 1.5, n - 1) + x


def odd_f(x, n):
    if n == 0:
        return math.cos(x)
    return even_f(x, n - 1) * x


def even_odd_dual(x, dx, n, even):
    """(value, derivative) by hand, forward mode."""
    if even:
        if n == 0:
            return math.sin(x), math.cos(x) * dx
        v, d = even_odd_dual(x * 1.5, dx * 1.5, n - 1, False)
        return v + x, d + dx
    if n == 0:
        return math.cos(x), -math.sin(x) * dx
    v, d = even_odd_dual(x, dx, n - 1, True)
    return v * x, d * x + v * dx


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_mutual_recursion(n):
    for fn, even in ((even_f, True), (odd_f, False)):
        g = check_grads(fn, (0.4, n))
        assert g == pytest.approx(even_odd_dual(0.4, 1.0, n, even)[1], rel=1e-12)


def two_way(x, n):
    if n <= 1:
        return x
    return two_way(x * 0.5, n - 1) + two_way(np.sin(x), n - 2)


def two_way_dual(x, dx, n):
    if n <= 1:
        return x, dx
    a, da = two_way_dual(x * 0.5, dx * 0.5, n - 1)
    b, db = two_way_dual(np.sin(x), np.cos(x) * dx, n - 2)
    return a + b, da + db


def test_recursion_with_two_recursive_calls(rng):
    x = rng.normal(size=3)
    g = check_grads(sum_two_way, (x, 5))
    np.testing.assert_allclose(g, two_way_dual(x, np.ones(3), 5)[1], rtol=1e-12)


def sum_two_way(x, n):
    return np.sum(two_way(x, n))


def counted_helper(a, b):
    return a * b + np.sin(a)


def counted_caller(x, c):
    s = counted_helper(x, c)
    for i in range(3):
        s = s + counted_helper(x, c)
    if np.sum(x) > 0.0:
        s = s + counted_helper(x * 2.0, c)
    else:
        s = s - counted_helper(x, c)
    return np.sum(s)


def counted_caller_swapped(x, c):
    return np.sum(counted_helper(c, x) + counted_helper(c, x * 3.0))


def counted_caller_both(x, c):
    return np.sum(counted_helper(x, x * c))


@pytest.fixture
def calls_not_inlined(monkeypatch):
    """Small helpers are inlined (s2sad/optimize/inline_calls.py); these tests are about calls that are not."""
    from s2sad.optimize import inline_calls
    monkeypatch.setattr(inline_calls, "MAX_STATEMENTS", 0)
    monkeypatch.setattr(driver, "_cache", {})


def test_callee_code_generated_once_per_function_and_differentiated_arguments(rng, calls_not_inlined):
    x, c = np.abs(rng.normal(size=3)), rng.normal(size=3)
    start = driver.stats["transforms"]
    g = s2sad.grad(counted_caller)(x, c)
    after_first = driver.stats["transforms"]
    assert after_first - start == 2                 # the caller, and counted_helper wrt (0,): not one per call site
    np.testing.assert_allclose(g, 4 * (c + np.cos(x)) + 2 * (c + np.cos(2 * x)), rtol=1e-12)
    g = s2sad.grad(counted_caller)(-x, c)           # the other branch: already generated
    np.testing.assert_allclose(g, 3 * (c + np.cos(x)), rtol=1e-12)
    g = s2sad.grad(counted_caller)(x, c)
    assert driver.stats["transforms"] == after_first
    g = s2sad.grad(counted_caller_swapped)(x, c)    # the caller, and counted_helper wrt (1,)
    assert driver.stats["transforms"] == after_first + 2
    np.testing.assert_allclose(g, c + 3 * c, rtol=1e-12)
    g = s2sad.grad(counted_caller_both)(x, c)       # the caller, and counted_helper wrt (0, 1)
    assert driver.stats["transforms"] == after_first + 4
    np.testing.assert_allclose(g, x * c + x * c + np.cos(x), rtol=1e-12)
    s2sad.grad(counted_caller_swapped)(c, x)
    s2sad.grad(counted_caller_both)(c, x)
    assert driver.stats["transforms"] == after_first + 4


def number_helper(a, b):
    return a * b + np.sin(a)


def number_caller(x, c):
    return np.sum(number_helper(x, c) + number_helper(x, 2.0) + number_helper(x * 0.5, c))


def test_callee_generated_once_per_kinds_of_all_its_arguments(rng, calls_not_inlined):
    """A callee is specialised on what every argument holds, differentiated or not (an inactive number makes
    the values computed from it numbers: RK4's state from ``x0``): one version per kinds, shared by the
    call sites that pass the same kinds."""
    x, c = rng.normal(size=3), rng.normal(size=3)
    start = driver.stats["transforms"]
    g = s2sad.grad(number_caller)(x, c)
    np.testing.assert_allclose(g, (c + np.cos(x)) + (2.0 + np.cos(x)) + 0.5 * (c + np.cos(0.5 * x)), rtol=1e-12)
    assert driver.stats["transforms"] - start == 3        # number_caller; number_helper for (array, array), (array, 2.0)


# =============================================================================================
# 5. Closures
# =============================================================================================
def make_model(W, scale):
    offset = np.zeros(W.shape[0])

    def model(x):
        h = np.tanh(W @ x + offset)
        return np.sum(h) * scale

    def rebind(new_W=None, new_scale=None, new_offset=None):
        nonlocal W, scale, offset
        if new_W is not None:
            W = new_W
        if new_scale is not None:
            scale = new_scale
        if new_offset is not None:
            offset = new_offset
    return model, rebind


def model_grad_by_hand(x, W, scale, offset):
    return scale * W.T @ (1 - np.tanh(W @ x + offset) ** 2)


def test_closure_reads_captured_arrays_and_parameters_live(rng):
    W, x = rng.normal(size=(2, 3)), rng.normal(size=3)
    model, rebind = make_model(W, 2.0)
    gradient = s2sad.grad(model)
    g = check_grads(model, (x,))
    np.testing.assert_allclose(g, model_grad_by_hand(x, W, 2.0, np.zeros(2)), rtol=1e-12)
    np.testing.assert_allclose(gradient(x), g, rtol=1e-12)
    W2 = rng.normal(size=(2, 3))
    rebind(new_W=W2, new_scale=-0.5)                              # rebinding after the first grad call is seen
    np.testing.assert_allclose(gradient(x), model_grad_by_hand(x, W2, -0.5, np.zeros(2)), rtol=1e-12)
    offset = rng.normal(size=2)
    rebind(new_offset=offset)
    np.testing.assert_allclose(gradient(x), model_grad_by_hand(x, W2, -0.5, offset), rtol=1e-12)
    check_grads(model, (x,))
    W2 *= 3.0                                                      # mutating a captured array in place too
    np.testing.assert_allclose(gradient(x), model_grad_by_hand(x, W2, -0.5, offset), rtol=1e-12)


def make_looped_closure(weights):
    def looped(x):
        s = 0.0
        for w in weights:
            s = s + np.sum(np.sin(w * x))
        return s
    return looped


def test_closure_capturing_a_list_used_in_a_loop(rng):
    weights = [rng.normal(size=3) for _ in range(3)]
    x = rng.normal(size=3)
    looped = make_looped_closure(weights)
    g = check_grads(looped, (x,))
    np.testing.assert_allclose(g, sum(w * np.cos(w * x) for w in weights), rtol=1e-12)
    weights.append(np.ones(3))                                     # the captured list, changed in place
    np.testing.assert_allclose(s2sad.grad(looped)(x), sum(w * np.cos(w * x) for w in weights), rtol=1e-12)


# =============================================================================================
# 6. Containers
# =============================================================================================
Params = namedtuple("Params", ["W", "b"])


def mlp(params, x):
    h = x
    for W, b in params:
        h = np.tanh(W @ h + b)
    return np.sum(h ** 2)


def mlp_by_hand(params, x):
    hs = [x]
    for W, b in params:
        hs.append(np.tanh(W @ hs[-1] + b))
    gh = 2 * hs[-1]
    grads = [None] * len(params)
    for k in range(len(params) - 1, -1, -1):
        W, b = params[k]
        d = gh * (1 - hs[k + 1] ** 2)
        grads[k] = (np.outer(d, hs[k]), d)
        gh = W.T @ d
    return grads, gh


def test_list_of_tuples_argument_gives_a_list_of_tuples(rng):
    params = [(rng.normal(size=(4, 3)), rng.normal(size=4)), (rng.normal(size=(2, 4)), rng.normal(size=2))]
    x = rng.normal(size=3)
    g, gx = check_grads(mlp, (params, x), wrt=(0, 1))
    assert type(g) is list and all(type(layer) is tuple for layer in g)
    want, want_x = mlp_by_hand(params, x)
    assert_tree_close(g, want, rtol=1e-10)
    np.testing.assert_allclose(gx, want_x, rtol=1e-10)


def namedtuple_model(p, x):
    return np.sum(np.tanh(p.W @ x + p.b) * p.b)


def test_namedtuple_argument_gives_the_same_namedtuple(rng):
    p = Params(W=rng.normal(size=(3, 2)), b=rng.normal(size=3))
    x = rng.normal(size=2)
    g = check_grads(namedtuple_model, (p, x))
    assert type(g) is Params
    t = np.tanh(p.W @ x + p.b)
    d = (1 - t ** 2) * p.b
    assert_tree_close(g, Params(W=np.outer(d, x), b=d + t), rtol=1e-12)


def namedtuple_unpacked(p, x):
    W, b = p
    return np.sum((W @ x + b) ** 2) + np.sum(p[1])


def test_namedtuple_unpacked_and_indexed(rng):
    p = Params(W=rng.normal(size=(3, 2)), b=rng.normal(size=3))
    x = rng.normal(size=2)
    g = check_grads(namedtuple_unpacked, (p, x))
    r = 2 * (p.W @ x + p.b)
    assert_tree_close(g, Params(W=np.outer(r, x), b=r + 1.0), rtol=1e-12)


def dict_model(d, x):
    h = d["W"] @ x + d["b"]
    return np.sum(h * h) * d["scale"]


def test_dict_argument_gives_a_dict_with_the_same_keys(rng):
    d = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=3), "scale": 1.5}
    x = rng.normal(size=2)
    g = check_grads(dict_model, (d, x))
    h = d["W"] @ x + d["b"]
    want = {"W": 3.0 * np.outer(h, x), "b": 3.0 * h, "scale": float(np.sum(h * h))}
    assert_tree_close(g, want, rtol=1e-12)


def dict_of_lists(d, x):
    s = 0.0
    for w in d["layers"]:
        s = s + np.sum(np.sin(w * x))
    return s + d["extra"][0] * d["extra"][1] + np.sum(d["layers"][1] ** 2)


def test_dict_of_lists_argument(rng):
    d = {"layers": [rng.normal(size=3), rng.normal(size=3)], "extra": [0.5, -2.0]}
    x = rng.normal(size=3)
    g, gx = check_grads(dict_of_lists, (d, x), wrt=(0, 1))
    w0, w1 = d["layers"]
    want = {"layers": [x * np.cos(w0 * x), x * np.cos(w1 * x) + 2 * w1], "extra": [-2.0, 0.5]}
    assert_tree_close(g, want, rtol=1e-12)
    np.testing.assert_allclose(gx, w0 * np.cos(w0 * x) + w1 * np.cos(w1 * x), rtol=1e-12)


def tuple_arg(p, x):
    W, b = p
    return np.sum(np.tanh(W @ x + b))


def test_tuple_argument_gives_a_tuple(rng):
    p = (rng.normal(size=(3, 2)), rng.normal(size=3))
    x = rng.normal(size=2)
    g = check_grads(tuple_arg, (p, x))
    d = 1 - np.tanh(p[0] @ x + p[1]) ** 2
    assert_tree_close(g, (np.outer(d, x), d), rtol=1e-12)


def container_locals(x, y):
    t = (x * 2.0, y)
    lst = [x, np.sin(y), t]
    d = {"a": lst[1], "b": t[0], "nested": [t, (y, x)]}
    a, b = d["nested"][1]
    return np.sum(d["a"] * d["b"]) + np.sum(lst[2][1] * lst[0]) + np.sum(a * b) + np.sum(lst[-1][0])


def test_tuples_lists_and_dicts_as_locals(rng):
    x, y = rng.normal(size=3), rng.normal(size=3)
    gx, gy = check_grads(container_locals, (x, y), wrt=(0, 1))
    # sum(sin(y) 2x) + sum(y x) + sum(y x) + sum(2x)
    np.testing.assert_allclose(gx, 2 * np.sin(y) + 2 * y + 2.0, rtol=1e-12)
    np.testing.assert_allclose(gy, 2 * x * np.cos(y) + 2 * x, rtol=1e-12)


def container_locals_flat(x, y):
    t = (x * 2.0, y)
    lst = [x, np.sin(y), t]
    d = {"a": lst[1], "b": t[0], "c": (y, x)}
    a, b = d["c"]
    return np.sum(d["a"] * d["b"]) + np.sum(lst[2][1] * lst[0]) + np.sum(a * b) + np.sum(lst[-1][0])


def test_tuples_lists_and_dicts_as_locals_each_literal_one_level(rng):
    x, y = rng.normal(size=3), rng.normal(size=3)
    gx, gy = check_grads(container_locals_flat, (x, y), wrt=(0, 1))
    np.testing.assert_allclose(gx, 2 * np.sin(y) + 2 * y + 2.0, rtol=1e-12)
    np.testing.assert_allclose(gy, 2 * x * np.cos(y) + 2 * x, rtol=1e-12)


def nested_literal(x):
    t = (x * 2.0, x)
    d = [[t, x]]
    return np.sum(d[0][1]) + np.sum(t[0])


def test_nested_container_literal_with_an_unused_element(rng):
    x = rng.normal(size=3)
    g = check_grads(nested_literal, (x,))
    np.testing.assert_allclose(g, np.full(3, 3.0), rtol=1e-12)


def list_of_tuples_local(x):
    pairs = [(x, 1.0), (x * x, 2.0), (np.sin(x), 3.0)]
    s = 0.0
    for v, w in pairs:
        s = s + np.sum(v) * w
    return s + np.sum(pairs[1][0])


def test_list_of_tuples_local(rng):
    x = rng.normal(size=4)
    g = check_grads(list_of_tuples_local, (x,))
    np.testing.assert_allclose(g, 1.0 + 2 * x * 2.0 + np.cos(x) * 3.0 + 2 * x, rtol=1e-12)


def tuple_out(x):
    return np.sum(x), np.sin(x) * x


def test_tuple_return_value_with_vjp(rng):
    x = rng.normal(size=3)
    value, pullback = s2sad.vjp(tuple_out, x)
    assert type(value) is tuple and value[0] == pytest.approx(np.sum(x))
    for _ in range(2):
        a, v = float(rng.normal()), rng.normal(size=3)
        np.testing.assert_allclose(pullback((a, v)), a + v * (np.cos(x) * x + np.sin(x)), rtol=1e-12)
    # against finite differences of the scalar <cotangent, f(x)>
    a, v = 0.7, rng.normal(size=3)
    check_grads(tuple_out_dot, (x, a, v))
    np.testing.assert_allclose(s2sad.grad(tuple_out_dot)(x, a, v), pullback((a, v)), rtol=1e-12)


def tuple_out_dot(x, a, v):
    s, y = tuple_out(x)
    return a * s + np.sum(v * y)


def dict_out(x, W):
    h = W @ x
    return {"mean": np.mean(h), "sq": h ** 2, "pair": (x, h)}


def test_dict_return_value_with_vjp(rng):
    x, W = rng.normal(size=3), rng.normal(size=(2, 3))
    value, pullback = s2sad.vjp(dict_out, x, W, wrt=(0, 1))
    assert type(value) is dict and set(value) == {"mean", "sq", "pair"}
    m, v, p0, p1 = 1.5, rng.normal(size=2), rng.normal(size=3), rng.normal(size=2)
    gx, gW = pullback({"mean": m, "sq": v, "pair": (p0, p1)})
    h = W @ x
    r = m / 2 + 2 * h * v + p1                                     # the cotangent of h
    np.testing.assert_allclose(gx, W.T @ r + p0, rtol=1e-12)
    np.testing.assert_allclose(gW, np.outer(r, x), rtol=1e-12)


def namedtuple_out(x):
    return Params(W=np.outer(x, x), b=np.tanh(x))


def test_namedtuple_return_value_with_vjp(rng):
    x = rng.normal(size=3)
    value, pullback = s2sad.vjp(namedtuple_out, x)
    assert type(value) is Params
    A, v = rng.normal(size=(3, 3)), rng.normal(size=3)
    g = pullback(Params(W=A, b=v))
    np.testing.assert_allclose(g, (A + A.T) @ x + v * (1 - np.tanh(x) ** 2), rtol=1e-12)


def namedtuple_local(x, W):
    p = Params(W, x * 2.0)
    q = Params(W=p.W * 0.5, b=np.sin(p.b))
    return np.sum(q.W @ x * q.b) + np.sum(p[1])


def test_namedtuple_built_as_a_local(rng):
    x, W = rng.normal(size=3), rng.normal(size=(3, 3))
    gx, gW = check_grads(namedtuple_local, (x, W), wrt=(0, 1))
    s = np.sin(2 * x)
    np.testing.assert_allclose(gx, 0.5 * W.T @ s + 0.5 * (W @ x) * np.cos(2 * x) * 2 + 2.0, rtol=1e-12)
    np.testing.assert_allclose(gW, 0.5 * np.outer(s, x), rtol=1e-12)


def list_of_namedtuples(layers, x):
    h = x
    for p in layers:
        h = np.tanh(p.W @ h + p.b)
    return np.sum(h ** 2)


def test_loop_over_a_list_of_namedtuples(rng):
    layers = [Params(rng.normal(size=(3, 2)), rng.normal(size=3)), Params(rng.normal(size=(2, 3)), rng.normal(size=2))]
    x = rng.normal(size=2)
    g = check_grads(list_of_namedtuples, (layers, x))
    want, _ = mlp_by_hand(layers, x)
    assert_tree_close(g, [Params(*w) for w in want], rtol=1e-10)


def loop_over_keys(d, x):
    s = 0.0
    for key in ["u", "v"]:
        s = s + np.sum(d[key] * x)
    return s * d["c"]


def test_loop_indexing_a_dict_argument(rng):
    d = {"u": rng.normal(size=3), "v": rng.normal(size=3), "c": 1.5}
    x = rng.normal(size=3)
    g = check_grads(loop_over_keys, (d, x))
    assert_tree_close(g, {"u": 1.5 * x, "v": 1.5 * x, "c": float(np.sum((d["u"] + d["v"]) * x))}, rtol=1e-12)


def test_loop_indexing_a_dict_argument_read_only_in_the_loop(rng):
    d = {"u": rng.normal(size=3), "v": rng.normal(size=2), "c": 1.5}
    x = rng.normal(size=3)
    want = {"u": 1.5 * x, "v": 1.5 * x[:2], "c": float(np.sum(d["u"] * x) + np.sum(d["v"] * x[:2]))}
    g = check_grads(loop_over_keys_only_sliced, (d, x))
    assert_tree_close(g, want, rtol=1e-12)


def loop_over_keys_only_sliced(d, x):
    s = 0.0
    for key in ["u", "v"]:
        v = d[key]
        s = s + np.sum(v * x[:len(v)]) * d["c"]
    return s


def mlp_by_index(params, x):
    h = x
    for i in range(len(params)):
        W, b = params[i]
        h = np.tanh(W @ h + b)
    return np.sum(h ** 2)


def test_loop_over_range_indexing_a_list_of_tuples(rng):
    params = [(rng.normal(size=(4, 3)), rng.normal(size=4)), (rng.normal(size=(2, 4)), rng.normal(size=2))]
    x = rng.normal(size=3)
    g = s2sad.grad(mlp_by_index)(params, x)
    want, _ = mlp_by_hand(params, x)
    assert_tree_close(g, want, rtol=1e-10)
    check_grads(mlp_by_index, (params, x))


def unpack_item_twice(params, d):
    a, b = params[0]
    c, e = params[0]
    f, h = d["t"]
    k, m = d["t"]
    return a * b + c * e * 3.0 + f * h + k * m * 3.0


def test_same_container_item_unpacked_twice():
    params, d = [(1.0, 2.0), (3.0, 4.0)], {"t": (5.0, 6.0)}
    gp, gd = s2sad.grad(unpack_item_twice, wrt=(0, 1))(params, d)
    assert_tree_close(gp, [(8.0, 4.0), (0.0, 0.0)])
    assert_tree_close(gd, {"t": (24.0, 20.0)})
    check_grads(unpack_item_twice, (params, d), wrt=(0, 1))


def nested_unpacking(t, x):
    a, (b, c) = t
    return a * b * c * x


def test_nested_tuple_unpacking_of_a_nested_tuple_argument():
    t = (0.5, (1.5, -2.0))
    gt, gx = check_grads(nested_unpacking, (t, 0.3), wrt=(0, 1))
    assert_tree_close(gt, (1.5 * -2.0 * 0.3, (0.5 * -2.0 * 0.3, 0.5 * 1.5 * 0.3)))
    assert gx == pytest.approx(0.5 * 1.5 * -2.0, rel=1e-12)


def dict_of_list_in_loop(d, x):
    h = x
    for W in d["Ws"]:
        h = W @ h
    return np.sum(h) * d["s"]


def test_loop_over_a_list_inside_a_dict_argument(rng):
    d = {"Ws": [rng.normal(size=(2, 2)), rng.normal(size=(2, 2))], "s": 0.5}
    x = rng.normal(size=2)
    g, gx = check_grads(dict_of_list_in_loop, (d, x), wrt=(0, 1))
    W1, W2 = d["Ws"]
    one = np.ones(2)
    want = {"Ws": [0.5 * np.outer(W2.T @ one, x), 0.5 * np.outer(one, W1 @ x)], "s": float(np.sum(W2 @ W1 @ x))}
    assert_tree_close(g, want, rtol=1e-12)
    np.testing.assert_allclose(gx, 0.5 * W1.T @ W2.T @ one, rtol=1e-12)


def comprehension_stack_axis(ws, x):
    return np.sum(np.stack([w * x for w in ws], axis=1) ** 2)


def test_comprehension_over_a_list_argument_stacked_on_an_axis(rng):
    ws = [rng.normal(size=3) for _ in range(3)]
    x = rng.normal(size=3)
    gw, gx = check_grads(comprehension_stack_axis, (ws, x), wrt=(0, 1))
    assert type(gw) is list
    assert_tree_close(gw, [2 * w * x * x for w in ws], rtol=1e-12)
    np.testing.assert_allclose(gx, sum(2 * w * w * x for w in ws), rtol=1e-12)


def collect_stack(x, W):
    hs = []
    h = x
    for i in range(3):
        h = np.tanh(W @ h)
        hs.append(h)
    H = np.stack(hs)
    return np.sum(H ** 2)


def collect_stack_by_hand(x, W):
    hs = [x]
    for i in range(3):
        hs.append(np.tanh(W @ hs[-1]))
    gh = np.zeros_like(x)
    gW = np.zeros_like(W)
    for k in range(3, 0, -1):
        gh = gh + 2 * hs[k]                                        # from H[k - 1]
        d = gh * (1 - hs[k] ** 2)
        gW += np.outer(d, hs[k - 1])
        gh = W.T @ d
    return gh, gW


def test_append_in_a_loop_then_np_stack(rng):
    x, W = rng.normal(size=3), 0.7 * rng.normal(size=(3, 3))
    gx, gW = check_grads(collect_stack, (x, W), wrt=(0, 1))
    hx, hW = collect_stack_by_hand(x, W)
    np.testing.assert_allclose(gx, hx, rtol=1e-10)
    np.testing.assert_allclose(gW, hW, rtol=1e-10)


def collect_array(x, w):
    vals = []
    for v in x:
        if v > 0.0:
            vals.append(v * v)
        else:
            vals.append(np.sin(v))
    return np.sum(np.array(vals) * w)


def test_append_in_a_loop_then_np_array(rng):
    x, w = rng.normal(size=6), rng.normal(size=6)
    gx, gw = check_grads(collect_array, (x, w), wrt=(0, 1))
    np.testing.assert_allclose(gx, np.where(x > 0, 2 * x, np.cos(x)) * w, rtol=1e-12)
    np.testing.assert_allclose(gw, np.where(x > 0, x * x, np.sin(x)), rtol=1e-12)


def comprehension_filter(x):
    ys = [np.sin(v) * v for v in x if v > 0.0]
    return sum(ys) + np.sum(np.array([v ** 3 for v in x]))


def test_list_comprehension_with_if_filter(rng):
    x = rng.normal(size=7)
    g = check_grads(comprehension_filter, (x,))
    np.testing.assert_allclose(g, np.where(x > 0, np.cos(x) * x + np.sin(x), 0.0) + 3 * x ** 2, rtol=1e-12)


def comprehension_two_fors(x, y):
    prods = [a * b for a in x for b in y]
    return np.sum(np.array(prods) ** 2)


def test_list_comprehension_with_two_fors(rng):
    x, y = rng.normal(size=3), rng.normal(size=4)
    gx, gy = check_grads(comprehension_two_fors, (x, y), wrt=(0, 1))
    # sum_ij (x_i y_j)**2, loop-free
    np.testing.assert_allclose(gx, 2 * x * np.sum(y ** 2), rtol=1e-12)
    np.testing.assert_allclose(gy, 2 * y * np.sum(x ** 2), rtol=1e-12)


def comprehension_filter_over_params(params, x):
    return sum([np.sum(W @ x + b) for W, b in params if np.sum(b) > 0])


def test_list_comprehension_with_a_filter_over_a_list_of_tuples(rng):
    params = [(rng.normal(size=(2, 3)), np.array([1.0, 0.5])), (rng.normal(size=(2, 3)), np.array([-1.0, 0.5])),
              (rng.normal(size=(2, 3)), np.array([0.2, 0.1]))]
    x = rng.normal(size=3)
    g, gx = check_grads(comprehension_filter_over_params, (params, x), wrt=(0, 1))
    kept = [np.sum(b) > 0 for _, b in params]
    want = [(np.outer(np.ones(2), x) * k, np.ones(2) * k) for k in kept]
    assert_tree_close(g, want, rtol=1e-12)
    np.testing.assert_allclose(gx, sum(W.T @ np.ones(2) for (W, b), k in zip(params, kept) if k), rtol=1e-12)


def comprehension_over_params(params, x):
    outs = [np.tanh(W @ x + b) for W, b in params]
    return np.sum(np.stack(outs) ** 2)


def test_list_comprehension_over_a_list_of_tuples(rng):
    params = [(rng.normal(size=(2, 3)), rng.normal(size=2)) for _ in range(3)]
    x = rng.normal(size=3)
    g, gx = check_grads(comprehension_over_params, (params, x), wrt=(0, 1))
    want, want_x = [], np.zeros(3)
    for W, b in params:
        t = np.tanh(W @ x + b)
        d = 2 * t * (1 - t * t)
        want.append((np.outer(d, x), d))
        want_x += W.T @ d
    assert_tree_close(g, want, rtol=1e-12)
    np.testing.assert_allclose(gx, want_x, rtol=1e-12)


def indexing_containers(params, d, i):
    W, b = params[i]
    return np.sum(params[-1][0]) * np.sum(W @ d["x"] + b) + d["s"] * params[0][1][1]


def test_indexing_into_lists_and_dicts(rng):
    params = [(rng.normal(size=(2, 3)), rng.normal(size=2)) for _ in range(3)]
    d = {"x": rng.normal(size=3), "s": 0.8}
    for i in (0, 1, 2):
        gp, gd = check_grads(indexing_containers, (params, d, i), wrt=(0, 1))
        W, b = params[i]
        c, u = np.sum(params[-1][0]), np.sum(W @ d["x"] + b)
        want = [[np.zeros((2, 3)), np.zeros(2)] for _ in range(3)]
        want[i][0] = want[i][0] + c * np.outer(np.ones(2), d["x"])
        want[i][1] = want[i][1] + c
        want[-1][0] = want[-1][0] + u
        want[0][1] = want[0][1] + np.array([0.0, d["s"]])
        assert_tree_close(gp, [tuple(w) for w in want], rtol=1e-12)
        assert_tree_close(gd, {"x": c * W.T @ np.ones(2), "s": float(params[0][1][1])}, rtol=1e-12)


def containers_through_calls(params, x):
    h = x
    for layer in params:
        h = layer_apply(layer, h)
    stats = summarize(h)
    return stats["total"] + stats["pair"][0] * stats["pair"][1]


def layer_apply(layer, h):
    W, b = layer
    return np.tanh(W @ h + b)


def summarize(h):
    return {"total": np.sum(h), "pair": (np.max(h), np.min(h))}


def test_containers_passed_to_and_returned_from_user_functions(rng):
    params = [(rng.normal(size=(3, 3)), rng.normal(size=3)) for _ in range(2)]
    x = rng.normal(size=3)
    g, gx = check_grads(containers_through_calls, (params, x), wrt=(0, 1))
    assert type(g) is list and all(type(p) is tuple for p in g)
    hs = [x]                                                       # by hand
    for W, b in params:
        hs.append(np.tanh(W @ hs[-1] + b))
    h = hs[-1]
    gh = np.ones(3)
    gh[np.argmax(h)] += np.min(h)
    gh[np.argmin(h)] += np.max(h)
    want = [None, None]
    for k in (1, 0):
        W, b = params[k]
        d = gh * (1 - hs[k + 1] ** 2)
        want[k] = (np.outer(d, hs[k]), d)
        gh = W.T @ d
    assert_tree_close(g, want, rtol=1e-10)
    np.testing.assert_allclose(gx, gh, rtol=1e-10)


# =============================================================================================
# 7. Functions and lambdas defined inside the differentiated function (in progress)
# =============================================================================================


def nested_def_constant(x):
    c = 3.0

    def h(t):
        return t * c + np.sin(t)
    return np.sum(h(x) * h(2.0 * x))


def test_nested_def_capturing_a_constant(rng):
    x = rng.normal(size=4)
    g = check_grads(nested_def_constant, (x,))
    h1, h2 = 3 * x + np.sin(x), 6 * x + np.sin(2 * x)
    np.testing.assert_allclose(g, (3 + np.cos(x)) * h2 + h1 * 2 * (3 + np.cos(2 * x)), rtol=1e-12)


def lambda_assigned(x, y):
    sq = lambda t: t * t * 0.5   # noqa: E731
    return np.sum(sq(x) + sq(np.sin(y)) * x)


def test_lambda_assigned_to_a_name_and_called(rng):
    x, y = rng.normal(size=3), rng.normal(size=3)
    gx, gy = check_grads(lambda_assigned, (x, y), wrt=(0, 1))
    np.testing.assert_allclose(gx, x + 0.5 * np.sin(y) ** 2, rtol=1e-12)
    np.testing.assert_allclose(gy, np.sin(y) * np.cos(y) * x, rtol=1e-12)


def nested_def_in_loop(x, W):
    k = 0.5

    def step(h):
        return np.tanh(W @ h) * k + h
    h = x
    for i in range(3):
        h = step(h)
    return np.sum(h ** 2)


def nested_def_in_loop_by_hand(x, W):
    hs = [x]
    for i in range(3):
        hs.append(np.tanh(W @ hs[-1]) * 0.5 + hs[-1])
    gh = 2 * hs[-1]
    for k in range(3, 0, -1):
        t = np.tanh(W @ hs[k - 1])
        gh = gh + W.T @ (gh * 0.5 * (1 - t * t))
    return gh


def test_nested_def_called_in_a_loop_reading_an_enclosing_array(rng):
    x, W = rng.normal(size=3), 0.5 * rng.normal(size=(3, 3))
    g = check_grads(nested_def_in_loop, (x, W))
    np.testing.assert_allclose(g, nested_def_in_loop_by_hand(x, W), rtol=1e-10)


def nested_def_keywords(x):
    def scaled(t, a=2.0, b=1.0):
        return a * t ** 2 + b * t
    cube = lambda t: t ** 3  # noqa: E731
    return np.sum(scaled(x) + scaled(x, b=-1.0, a=0.5) + cube(x))


def test_nested_def_with_defaults_and_keywords_and_a_lambda(rng):
    x = rng.normal(size=4)
    g = check_grads(nested_def_keywords, (x,))
    np.testing.assert_allclose(g, 4 * x + 1 + x - 1 + 3 * x ** 2, rtol=1e-12)


def test_a_user_module_named_like_a_standard_library_module_is_the_users(tmp_path, monkeypatch):
    """A user's ``wave.py`` (the standard library has a ``wave``): its functions are differentiated from their
    source, not taken for library primitives (the module's file decides, not its name)."""
    import importlib
    import sys
    (tmp_path / "wave.py").write_text("def square(x):\n    return x * x * 3.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "wave", raising=False)
    wave = importlib.import_module("wave")
    assert wave.__file__.startswith(str(tmp_path))

    def f(x):
        return wave.square(x) + 1.0
    assert s2sad.grad(f)(2.0) == 12.0
    monkeypatch.delitem(sys.modules, "wave", raising=False)


def unpack_a_ufunc_result(x):
    a, b, c = np.sin(x)
    return b * c


def unpack_rows_of_a_ufunc_result(A):
    r0, r1 = np.exp(A * 0.5)
    return np.sum(r0 * r1)


@pytest.mark.parametrize("f, shape", [(unpack_a_ufunc_result, (3,)), (unpack_rows_of_a_ufunc_result, (2, 3))])
def test_unpacking_the_array_a_ufunc_returns(f, shape):
    """``a, b, c = np.sin(x)``: the array's adjoint is built from its items' (it was a tuple with None in it: a
    TypeError in the generated code). Second order, float32 kept, and the derivative by hand."""
    x = np.random.default_rng(5).uniform(0.1, 1.0, shape)
    check_grads(f, (x,), order=2)
    assert s2sad.grad(f)(x.astype(np.float32)).dtype == np.float32
    if f is unpack_a_ufunc_result:                      # d(sin x1 sin x2) by hand
        np.testing.assert_allclose(s2sad.grad(f)(x), [0.0, np.cos(x[1]) * np.sin(x[2]), np.sin(x[1]) * np.cos(x[2])])


# --- an object of a class with __call__ (a layer), differentiated -----------------------------------------------
import dataclasses


@dataclasses.dataclass
class _Layer:
    W: np.ndarray
    b: np.ndarray

    def apply(self, x):
        return x @ self.W + self.b

    def __call__(self, x):
        return np.tanh(self.apply(x))


def _through_apply(layer, x):
    return np.sum(np.tanh(layer.apply(x)))


def _through_call(layers, x):
    for layer in layers:
        x = layer(x)
    return np.sum(layers[0](x[:, :1] * np.ones((1, 3))) ** 2) + np.sum(x)


def test_a_callable_object_is_differentiated_as_a_record_and_called():
    rng = np.random.default_rng(4)
    first, second = _Layer(rng.normal(size=(3, 2)), rng.normal(size=2)), _Layer(rng.normal(size=(2, 2)), rng.normal(size=2))
    x = rng.normal(size=(4, 3))
    g = s2sad.grad(_through_apply)(first, x)
    slope = 1 - np.tanh(x @ first.W + first.b) ** 2
    np.testing.assert_allclose(g.W, x.T @ slope, rtol=1e-12)
    np.testing.assert_allclose(g.b, slope.sum(0), rtol=1e-12)
    grads = s2sad.grad(_through_call)([first, second], x)
    h = 1e-6
    for k, layer in enumerate((first, second)):
        for field in ("W", "b"):
            value = getattr(layer, field)
            numeric = np.zeros_like(value)
            for i in np.ndindex(value.shape):
                bumped = [dataclasses.replace(l) for l in (first, second)]
                for sign in (1, -1):
                    moved = value.copy()
                    moved[i] += sign * h
                    setattr(bumped[k], field, moved)
                    numeric[i] += sign * _through_call(bumped, x) / (2 * h)
            np.testing.assert_allclose(getattr(grads[k], field), numeric, rtol=1e-6, atol=1e-8)


@dataclasses.dataclass
class _Settings:
    b: float
    w: np.ndarray
    v: np.ndarray


@dataclasses.dataclass
class _Clamp:
    w: np.ndarray
    b: float
    n: int = 2

    @staticmethod
    def clamp(t):
        return t

    def __call__(self, t):
        return t


def _through_a_layer_held_constant(theta, prm):        # (found by the fuzzer: the unoptimized pipeline gives
    pos = theta.v                                      # `prm` a tangent, `zeros_like(prm)`)
    pos = np.full(2, prm.b)
    r, z, p, total = theta.w
    r = np.ones(1)
    s = r[0] = prm.clamp(pos[1])
    return s * theta.b


def test_a_layer_held_constant_has_a_zero_tangent_in_every_pipeline():
    """jvp along ``theta`` alone: the layer's tangent inside the generated code is a record of zeros
    (``zeros_like`` gave None for an object with ``__call__``: AttributeError in the unoptimized pipeline)."""
    theta, layer = _Settings(1.5, np.arange(4.0), np.ones(4)), _Clamp(np.ones(4), -0.6)
    dtheta = _Settings(0.5, np.ones(4), np.ones(4))
    for optimized in (True, False):
        with s2sad.optimizations(optimized):
            value, tangent = s2sad.jvp(_through_a_layer_held_constant, (theta, layer), (dtheta, None))
        assert value == pytest.approx(-0.6 * 1.5, rel=1e-14)
        assert tangent == pytest.approx(-0.6 * 0.5, rel=1e-14)
    zero = s2sad.runtime.zeros_like(layer)
    assert zero.w.tolist() == [0.0] * 4 and zero.b == 0.0


class _Negated:
    def __init__(self, w):
        self.w = w

    def __neg__(self):
        return _Negated(-self.w)


class _Clamped(namedtuple("_Clamped", "scale")):
    def __new__(cls, scale):
        return super().__new__(cls, np.maximum(scale, 1e-6))


def _negated_sum(a):
    return np.sum((-a).w)


def _clamped_sum(p, x):
    return np.sum(p.scale * x)


def test_records_whose_class_has_its_own_behaviour_are_refused():
    """An object with its own operators, or a namedtuple with its own constructor, is not differentiated through its
    fields (its `-a` gave a zero gradient; a gradient built through `__new__` was clamped)."""
    with pytest.raises(s2sad.WrtError, match="defines `__neg__`"):
        s2sad.grad(_negated_sum)(_Negated(np.ones(2)))
    with pytest.raises(s2sad.WrtError, match="its own `__new__`"):
        s2sad.grad(_clamped_sum)(_Clamped(np.array([1.0, 2.0])), np.array([-8.0, 1.0]))


@dataclasses.dataclass
class _Model:
    layers: list

    def __call__(self, x):
        for i in range(len(self.layers)):
            x = self.layers[i](x)
        return x


def _model_loss(m, x):
    return np.sum(m(x))


def test_a_model_calling_its_layers_by_index_in_both_modes():
    first, second = _Layer(np.eye(2), np.zeros(2)), _Layer(2 * np.eye(2), np.ones(2))
    m, x = _Model([first, second]), np.array([0.5, -1.0])
    g = s2sad.grad(_model_loss)(m, x)
    t = _Model([_Layer(np.ones((2, 2)), np.ones(2)), _Layer(np.ones((2, 2)), np.zeros(2))])
    along = sum(np.sum(getattr(g.layers[k], f) * getattr(t.layers[k], f)) for k in range(2) for f in ("W", "b"))
    assert s2sad.jvp(_model_loss, (m, x), (t, None))[1] == pytest.approx(along, rel=1e-12)


@dataclasses.dataclass
class _Scaled:
    w: np.ndarray
    s: float


def _scaled_loss(p, x):
    return np.sum(np.sin(p.w * x)) * p.s


def _gradient_field_sum(p, x):
    g = s2sad.grad(_scaled_loss)(p, x)
    return np.sum(g.w)                            # g.s unused: its adjoint is None


def test_gradient_of_a_record_gradient_of_which_one_field_is_read():
    p, x = _Scaled(np.array([0.3, 0.8]), 1.5), np.array([1.0, 2.0])
    gg = s2sad.grad(_gradient_field_sum)(p, x)
    np.testing.assert_allclose(gg.w, -p.s * np.sin(p.w * x) * x ** 2, rtol=1e-12)
    assert gg.s == pytest.approx(np.sum(np.cos(p.w * x) * x), rel=1e-12)


_MODULE_LAYER = _Layer(np.array([[0.5, -0.2], [0.3, 0.8]]), np.array([0.1, -0.1]))


def _through_a_module_layer(x):
    return np.sum(_MODULE_LAYER(x) ** 2)


def test_a_module_layer_called_by_name_is_differentiated_through_its_call():
    x = np.array([[0.4, -1.0]])
    want = np.array([(_through_a_module_layer(x + 1e-6 * e) - _through_a_module_layer(x - 1e-6 * e)) / 2e-6
                                  for e in np.eye(2).reshape(2, 1, 2)]).reshape(1, 2)
    np.testing.assert_allclose(s2sad.grad(_through_a_module_layer)(x), want, rtol=1e-6)
    gradient = s2sad.grad(_through_a_module_layer)     # second order: the gradient of the forward code's call
    columns = [(gradient(x + 1e-6 * e) - gradient(x - 1e-6 * e)).ravel() / 2e-6 for e in np.eye(2).reshape(2, 1, 2)]
    np.testing.assert_allclose(s2sad.hessian(_through_a_module_layer)(x).reshape(2, 2), np.array(columns).T,
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(s2sad.grad(lambda t: s2sad.grad(_through_a_module_layer)(t)[0, 0])(x),
                               np.array(columns)[:, 0].reshape(1, 2), rtol=1e-5, atol=1e-7)


class _TwoLayerNet:
    def __init__(self, first, second):
        self.fc1, self.fc2 = first, second

    def __call__(self, x):
        return self.fc2(self.fc1(x))


def _net_loss(net, x):
    return np.sum(net(x) ** 2)


def test_layers_held_as_fields_and_called_through_them():
    """`self.fc1(x)`: a callable object held as a field, differentiated through the object and its own __call__."""
    rng = np.random.default_rng(7)
    net = _TwoLayerNet(_Layer(rng.normal(size=(3, 2)), rng.normal(size=2)), _Layer(rng.normal(size=(2, 2)), rng.normal(size=2)))
    x = rng.normal(size=(4, 3))
    g = s2sad.grad(_net_loss)(net, x)
    h = 1e-6
    for layer in ("fc1", "fc2"):
        for field in ("W", "b"):
            value = getattr(getattr(net, layer), field)
            numeric = np.zeros_like(value)
            for i in np.ndindex(value.shape):
                for sign in (1, -1):
                    moved = copy.deepcopy(net)
                    getattr(getattr(moved, layer), field)[i] += sign * h
                    numeric[i] += sign * _net_loss(moved, x) / (2 * h)
            np.testing.assert_allclose(getattr(getattr(g, layer), field), numeric, rtol=1e-6, atol=1e-8)


class _AddsInPlace:
    def __init__(self, b):
        self.b = b

    def __call__(self, x):
        x += self.b                               # changes the caller's array too, in Python
        return x


def _reads_what_the_layer_changed(layer, h):
    y = layer(h)
    return np.sum(y * h)


def test_a_layer_changing_its_argument_in_place_is_refused():
    layer, h = _AddsInPlace(np.array([0.5, -1.0])), np.array([1.0, 2.0])
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="changes its argument `x` in place"):
        s2sad.grad(_reads_what_the_layer_changed, wrt=1)(layer, h.copy())
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="changes its argument `x` in place"):
        s2sad.jvp(_reads_what_the_layer_changed, (layer, h.copy()), (None, np.ones(2)))
