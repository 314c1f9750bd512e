"""Iteration the way people write it: generator expressions, dict comprehensions, ``map``/``filter`` (with
lambdas), ``zip``/``enumerate``/``reversed`` in any nesting, ``list``/``tuple``/``dict`` of iterators,
``sorted``/``max``/``min`` with ``key=``, ``d.items()``/``.values()``.

Each program is checked against central differences, forward against reverse mode, second derivatives,
and against a twin written with plain loops (an independent route to the same number)."""
import math

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads

X = np.array([0.3, -0.8, 1.1, 0.45])


def gen_sum(x):
    return sum(v * v for v in x)


def gen_sum_loop(x):
    s = 0.0
    for v in x:
        s = s + v * v
    return s


def nested_gen_with_condition(x):
    return sum(a * b for a in x for b in x if a > b)


def nested_gen_with_condition_loop(x):
    s = 0.0
    for a in x:
        for b in x:
            if a > b:
                s = s + a * b
    return s


def zip_pairs(x):
    pairs = list(zip(x, x[::-1]))
    return sum(a * np.sin(b) for a, b in pairs)


def zip_pairs_loop(x):
    s = 0.0
    n = len(x)
    for i in range(n):
        s = s + x[i] * np.sin(x[n - 1 - i])
    return s


def enumerate_zip(x):
    s = 0.0
    for i, (a, b) in enumerate(zip(x, np.cos(x))):
        s = s + (i + 1) * a * b
    return s


def enumerate_zip_loop(x):
    s = 0.0
    c = np.cos(x)
    for i in range(len(x)):
        s = s + (i + 1) * x[i] * c[i]
    return s


def reversed_enumerate(x):
    s = 0.0
    for i, v in reversed(list(enumerate(x))):
        s = s * 0.5 + i * v * v
    return s


def reversed_enumerate_loop(x):
    s = 0.0
    for i in range(len(x) - 1, -1, -1):
        s = s * 0.5 + i * x[i] * x[i]
    return s


def dict_comprehension(x):
    d = {k: x[i] ** 2 for i, k in enumerate("abcd")}
    d2 = {k: v * 2.0 for k, v in d.items() if k != "b"}
    return d["a"] + d2["c"] * d["d"] + sum(d2.values())


def dict_comprehension_loop(x):
    a, b, c, d = x[0] ** 2, x[1] ** 2, x[2] ** 2, x[3] ** 2
    return a + 2.0 * c * d + 2.0 * (a + c + d)


def dict_from_zip_later_keys_win(x):
    d = dict(zip(["p", "q", "p"], [x[0], x[1], x[2]]))
    return d["p"] * d["q"]


def dict_from_zip_later_keys_win_loop(x):
    return x[2] * x[1]


def map_lambda_and_function(x):
    return sum(map(lambda v: v * v, x)) + sum(map(np.sin, x)) + sum(map(lambda a, b: a * b, x, x[1:]))


def map_lambda_and_function_loop(x):
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] * x[i] + np.sin(x[i])
        if i + 1 < len(x):
            s = s + x[i] * x[i + 1]
    return s


def filter_positive(x):
    return sum(filter(lambda v: v > 0, x)) + math.fsum(v * 3.0 for v in x)


def filter_positive_loop(x):
    s = 0.0
    for v in x:
        if v > 0:
            s = s + v
        s = s + v * 3.0
    return s


def sorted_with_key(x):
    top = sorted(x, key=lambda v: abs(v), reverse=True)[:2]
    return top[0] * 2.0 + top[1]


def sorted_with_key_loop(x):
    order = np.argsort(-np.abs(x), kind="stable")
    return x[order[0]] * 2.0 + x[order[1]]


def max_min_of_iterables(x):
    return max(v * v for v in x) - min(x, key=lambda v: (v - 0.5) ** 2) + max(x[0], x[1], x[2])


def max_min_of_iterables_loop(x):
    sq = x * x
    near = x[int(np.argmin((x - 0.5) ** 2))]
    return sq[int(np.argmax(sq))] - near + x[int(np.argmax(x[:3]))]


def tuple_of_generator(x):
    t = tuple(v * 2.0 for v in x)
    return t[0] * t[3] + any(v > 5 for v in x) + all(v < 5 for v in x)


def tuple_of_generator_loop(x):
    return 4.0 * x[0] * x[3] + 1.0


def set_membership(x):
    s = 0.0
    for i in range(4):
        if i in {0, 2, 3} and i not in {2 * k for k in range(1, 3)}:
            s = s + x[i] ** 2 * len({1, 2})
    return s


def set_membership_loop(x):
    return 2.0 * (x[0] ** 2 + x[3] ** 2)


PAIRS = [(set_membership, set_membership_loop), (gen_sum, gen_sum_loop), (nested_gen_with_condition, nested_gen_with_condition_loop),
         (zip_pairs, zip_pairs_loop), (enumerate_zip, enumerate_zip_loop),
         (reversed_enumerate, reversed_enumerate_loop), (dict_comprehension, dict_comprehension_loop),
         (dict_from_zip_later_keys_win, dict_from_zip_later_keys_win_loop),
         (map_lambda_and_function, map_lambda_and_function_loop), (filter_positive, filter_positive_loop),
         (sorted_with_key, sorted_with_key_loop), (max_min_of_iterables, max_min_of_iterables_loop),
         (tuple_of_generator, tuple_of_generator_loop)]


@pytest.mark.parametrize("f, twin", PAIRS, ids=[f.__name__ for f, _ in PAIRS])
def test_iteration_forms_against_differences_and_a_twin_with_plain_loops(f, twin):
    assert f(X) == pytest.approx(twin(X), rel=1e-12)
    check_grads(f, (X,), order=2)
    np.testing.assert_allclose(s2sad.grad(f)(X), s2sad.grad(twin)(X), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s2sad.grad(f, optimize=False)(X), s2sad.grad(twin)(X), rtol=1e-10, atol=1e-12)


def generator_kept_in_a_variable(x):
    squares = (v * v for v in x)
    return sum(squares) + sum(squares)           # the second sum sees an exhausted generator


def zip_kept_in_a_variable(x):
    pairs = zip(x, x)
    return sum(a * b for a, b in pairs)


@pytest.mark.parametrize("f, what", [(generator_kept_in_a_variable, "generator expression"),
                                     (zip_kept_in_a_variable, "makes an iterator")])
def test_iterators_kept_in_variables_are_refused_not_answered(f, what):
    """An iterator is used up by its first consumer; s2sad lowers iterators to lists, which are not, so it
    accepts them only where they are consumed at once."""
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=what):
        s2sad.grad(f)(X)


def set_of_differentiated_values(x):
    return sum({x[0], 2.0})


def test_a_set_of_differentiated_values_is_refused():
    """A set of constants is a constant; a set of differentiated values has no order for a derivative."""
    with pytest.raises(s2sad.NoRuleError, match="set"):
        s2sad.grad(set_of_differentiated_values)(X)


# --- generator functions: their items computed at once where the iterator is used up at once ------------
def squares(xs):
    for v in xs:
        yield v * v


def scaled_until(xs, c):
    for i, v in enumerate(xs):
        if i == 3:
            return
        yield c * np.sin(v)


def generator_sum(x):
    return sum(squares(x)) + sum(scaled_until(x, x[1]))


def generator_sum_loop(x):
    return float(np.sum(x * x) + x[1] * np.sum(np.sin(x[:3])))


def generator_in_a_for_loop(x):
    def pairs(v):
        for a, b in zip(v, v[1:]):
            yield a * b * x[0]
    s = 0.0
    for p in pairs(x):
        s = s + np.tanh(p)
    return s + np.sum(np.array(list(squares([1.0, 2.0])))) * x[2]


def generator_in_a_for_loop_loop(x):
    return float(np.sum(np.tanh(x[:-1] * x[1:] * x[0]))) + 5.0 * x[2]


@pytest.mark.parametrize("f, twin", [(generator_sum, generator_sum_loop),
                                     (generator_in_a_for_loop, generator_in_a_for_loop_loop)])
def test_generator_functions_against_differences_and_a_twin(f, twin):
    assert f(X) == pytest.approx(twin(X), rel=1e-12)
    check_grads(f, (X,), order=2)
    np.testing.assert_allclose(s2sad.grad(f)(X), s2sad.grad(twin)(X), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s2sad.jvp(f, (X,), (X,))[1], s2sad.jvp(twin, (X,), (X,))[1], rtol=1e-10)


def generator_kept(x):
    g = squares(x)
    return sum(g) + sum(g)                       # the second sum sees an exhausted iterator


def endless(c):
    k = 0.0
    while True:
        yield c * k
        k = k + 1.0


def generator_endless(x):
    s = 0.0
    for v in endless(x[0]):
        if v > 2.0:
            break
        s = s + v
    return s


@pytest.mark.parametrize("f, what", [(generator_kept, "used up at once"), (generator_endless, "may stop early")])
def test_generator_functions_are_refused_where_their_items_cannot_be_computed_first(f, what):
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=what):
        s2sad.grad(f)(X)


def generator_as_a_value(x, make=squares):
    return sum(make(x))


def test_a_generator_function_differentiated_on_its_own_or_as_a_value_is_refused():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="generator function"):
        s2sad.grad(squares)(X)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="generator function"):
        s2sad.grad(generator_as_a_value)(X)


def zip_of_a_starred_tuple(u, v):
    total = 0.0
    for a, b in zip(*(u, v)):
        total = total + np.sum(a * b)
    return total


def zip_of_a_starred_tuple_of_expressions(x, y):
    total = 0.0
    for a, b in zip(*(-x, y)):
        total = total + np.sum(a * b)
    return total


def zip_of_a_starred_tuple_twin(u, v):
    n = min(len(u), len(v))
    return float(np.sum(u[:n] * v[:n]))


@pytest.mark.parametrize("f", [zip_of_a_starred_tuple, zip_of_a_starred_tuple_of_expressions])
def test_zip_of_starred_rows_of_different_lengths(f):
    """``zip(*(u, v))`` stops at the shorter row: the longer row's other items get a zero gradient. It gave them
    the last adjoint, broadcast (wrong: [3, 3] for [3, 0]), and crashed for a row computed from x (``-x``): the
    Autograd gmm example, found re-measuring issue 12's examples."""
    u, v = np.array([1.0, 2.0]), np.array([3.0])
    sign = -1.0 if f is zip_of_a_starred_tuple_of_expressions else 1.0
    gu, gv = s2sad.grad(f, wrt=(0, 1))(u, v)
    np.testing.assert_allclose(gu, [3.0 * sign, 0.0])
    np.testing.assert_allclose(gv, [1.0 * sign])
    twin = s2sad.grad(zip_of_a_starred_tuple_twin, wrt=(0, 1))(u, v)
    np.testing.assert_allclose(gu, twin[0] * sign) and np.testing.assert_allclose(gv, twin[1] * sign)
    rng = np.random.default_rng(3)
    check_grads(f, (rng.normal(size=3), rng.normal(size=2)), wrt=(0, 1), order=2)
    check_grads(f, (rng.normal(size=(3, 2)), rng.normal(size=(4, 2))), wrt=(0, 1), order=2)


def extremes_and_order_of_a_dict(x, d):
    k = max(d)                                   # the largest key, not d[i] for a position i
    j = min(d, key=lambda q: d[q])
    total = 0.0
    for key in sorted(d):
        total = total + d[key] * x * (key + 1)
    return x * k + d[j] * x + total


def test_max_min_and_sorted_of_a_dict_walk_its_keys():
    """``max(d)``, ``min(d, key=...)``, ``sorted(d)`` walk the keys (through ``_s2.sequence``): they were read as
    positions (``d[0]``: a KeyError, or the value at key 0 where the keys are 0, 1, ...)."""
    d = {0: 5.0, 1: 3.0, 3: -1.0}
    value, (gx, gd) = s2sad.value_and_grad(extremes_and_order_of_a_dict, wrt=(0, 1))(0.5, d)
    assert value == pytest.approx(extremes_and_order_of_a_dict(0.5, d), rel=1e-14)
    assert gx == pytest.approx(3 + -1.0 + (5.0 * 1 + 3.0 * 2 - 1.0 * 4), rel=1e-14)
    assert gd == {0: pytest.approx(0.5), 1: pytest.approx(1.0), 3: pytest.approx(0.5 + 2.0)}
    check_grads(extremes_and_order_of_a_dict, (0.5, d))


def copies_a_dict(x, d):
    e = dict(d)                                  # a mapping's own pairs (read d[0] before: an IndexError)
    pairs = [("a", x * 2.0), ("b", x), ("a", x * x)]
    f = dict(pairs)                              # later keys win
    return e["a"] * x + np.sum(e["b"]) + f["a"] * f["b"]


def copies_a_dict_twin(x, d):
    return d["a"] * x + np.sum(d["b"]) + x * x * x


def test_dict_of_a_dict_and_of_pairs():
    """``dict(d)`` of a mapping copies its pairs (``_s2.pairs_of``); ``dict(pairs)`` keeps the last value of a key:
    against the same program without them, finite differences, both modes, second order."""
    d = {"a": 1.5, "b": np.array([0.3, -0.2])}
    assert copies_a_dict(0.7, d) == pytest.approx(copies_a_dict_twin(0.7, d), rel=1e-14)
    got, want = s2sad.grad(copies_a_dict, wrt=(0, 1))(0.7, d), s2sad.grad(copies_a_dict_twin, wrt=(0, 1))(0.7, d)
    assert got[0] == pytest.approx(want[0], rel=1e-14)
    assert got[1]["a"] == pytest.approx(want[1]["a"], rel=1e-14)
    np.testing.assert_allclose(got[1]["b"], want[1]["b"], rtol=1e-14)
    check_grads(copies_a_dict, (0.7, d), wrt=(0, 1))
    check_grads(copies_a_dict, (0.7, d), wrt=0, order=2)
    with s2sad.optimizations(False):
        check_grads(copies_a_dict, (0.7, d), wrt=(0, 1))
