"""The per-call entry written for one shape of arguments (s2sad/back/entry.py): the same results as the general
path for every kind of argument, used only for arguments of that shape and while the generated code is valid."""
import math
import sys

import numpy as np
import pytest

import s2sad
from s2sad import api

SCALE = 2.0


def scaled(x, y):
    return SCALE * x * y + math.sin(x)


def of_arrays(x, y):
    return np.sum(x * y) + np.sum(np.tanh(x))


def of_pair(p, y):
    a, b = p
    return np.sum(a * y) + np.sum(b * b)


def of_list(p, y):
    return p[0] * y + p[1] * p[1]


def of_log(x):
    return math.log(x) if x > 0 else np.log(x)


CASES = [
    (scaled, (0.5, 1.5), 0), (scaled, (np.float64(0.5), 1.5), 0), (scaled, (np.float32(0.5), np.float32(1.5)), 0),
    (scaled, (0.5, 1.5), (0, 1)), (of_arrays, (np.ones(3), np.arange(3.0)), 0),
    (of_arrays, (np.ones(3, np.float32), np.arange(3.0, dtype=np.float32)), (0, 1)),
    (of_pair, ((np.ones(2), np.arange(2.0)), np.ones(2)), 0), (of_list, ([0.5, 1.5], 2.0), (0, 1)),
]


@pytest.mark.parametrize("k", range(len(CASES)))
@pytest.mark.parametrize("value_too", [False, True])
def test_the_entry_gives_what_the_general_path_gives(k, value_too, monkeypatch):
    f, args, wrt = CASES[k]
    make = s2sad.value_and_grad if value_too else s2sad.grad
    want = make(f, wrt, optimize={})(*args)          # (a dict of switches: never an entry)
    d = make(f, wrt)
    first = d(*args)
    monkeypatch.setattr(api, "_kinds", _general_path_taken)
    second = d(*args)                                # the entry: the general path is not taken
    for got in (first, second):
        _same(got, want)


def _general_path_taken(args):
    raise AssertionError("the general path ran")


def _same(got, want):
    if isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    assert type(got) is type(want), (got, want)
    if isinstance(want, np.ndarray):
        assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_other_shapes_take_the_general_path(monkeypatch):
    d = s2sad.grad(of_arrays)
    d(np.ones(3), np.arange(3.0))
    calls = []
    kinds = api._kinds
    monkeypatch.setattr(api, "_kinds", lambda args: calls.append(args) or kinds(args))
    d(np.ones(3), np.arange(3.0))
    assert not calls
    np.testing.assert_allclose(d(np.ones((2, 2)), np.ones((2, 2))), 1.0 + (1 - np.tanh(1.0) ** 2))   # 2-d: general
    assert len(calls) == 1
    np.testing.assert_allclose(d(np.ones(3, np.float32), np.ones(3, np.float32)), 1.0 + (1 - np.tanh(1.0) ** 2),
                               rtol=1e-6)                                                          # float32: general
    with pytest.raises(s2sad.WrtError):
        d(np.arange(3), np.ones(3))                   # integers differentiated: refused, as always
    with pytest.raises(s2sad.WrtError):
        s2sad.grad(scaled)(1, 2.0)


def test_a_rebound_global_reaches_the_entry(monkeypatch):
    d = s2sad.grad(scaled)
    assert d(0.5, 1.5) == d(0.5, 1.5) == SCALE * 1.5 + math.cos(0.5)
    monkeypatch.setattr(sys.modules[__name__], "SCALE", 3.0)
    assert d(0.5, 1.5) == 3.0 * 1.5 + math.cos(0.5)


def test_the_float_route_falls_back_to_numpy_where_floats_raise():
    """np.float64 arguments run as Python floats (back/floats.py); where floats raise, NumPy's semantics decide."""
    d = s2sad.value_and_grad(of_log)
    for _ in range(2):
        value, g = d(np.float64(2.0))
        assert type(value) is np.float64 and type(g) is np.float64 and g == 0.5
    with np.errstate(all="ignore"):
        for _ in range(2):
            value, g = d(np.float64(-1.0))
            assert np.isnan(value)


def test_optimizations_switched_in_a_block_reach_the_entry():
    d = s2sad.grad(of_arrays)
    x, y = np.ones(3), np.arange(3.0)
    want = d(x, y)
    with s2sad.optimizations(False):
        np.testing.assert_allclose(d(x, y), want)
    np.testing.assert_allclose(d(x, y), want)


def uses_abs(x):
    return abs(x) * x


def test_a_builtin_shadowed_after_the_entry_was_built_is_seen(monkeypatch):
    """The entry writes the cache checks in line; a global shadowing a builtin the code resolved (an absent
    name's check) must still send the call to a new transform."""
    d = s2sad.grad(uses_abs)
    assert d(-2.0) == d(-2.0) == 4.0                    # d/dx (|x| x) = 2 |x|
    monkeypatch.setattr(sys.modules[__name__], "abs", lambda v: v * v, raising=False)
    assert d(-2.0) == 3 * 4.0                            # d/dx x^3 = 3x^2
    monkeypatch.undo()
    assert d(-2.0) == 4.0


def test_a_closure_cell_rebound_after_the_entry_was_built_is_seen():
    def make():
        def inner(v):
            return v * v

        def f(x):
            return inner(x) + x
        return f, lambda new: f.__closure__[0].__setattr__("cell_contents", new)
    f, rebind = make()
    d = s2sad.grad(f)
    assert d(3.0) == d(3.0) == 7.0
    rebind(lambda v: v * v * v)
    assert d(3.0) == 28.0
    rebind(None)
    del f.__closure__[0].cell_contents                   # an empty cell: the general path, never stale code:
    with pytest.raises(NameError):                       # Python's own error, as calling f would raise
        d(3.0)
