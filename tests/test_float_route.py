"""The float route (back/floats.py): np.float64 arguments run through the generated code as Python floats.

Two witnesses for every program: the value and gradient on the route are bit-identical to the same generated
code run on the np.float64 values (``floats`` off), and to central differences. Then each soundness condition
is dropped in turn and a program that needs it gets a value other than NumPy's.
"""
import math
import re
import warnings

import numpy as np
import pytest

import s2sad
from s2sad import api, pipeline
from s2sad.back import floats
from s2sad.testing import numerical_grad

from . import helpers_module
from .optimized_functions import taylor_sin as taylor


def recurrence(a, b, x0):
    x = x0
    for t in range(50):
        x = x + 0.01 * (a * math.sin(x) - b * x ** 2)
    return x


def mixed(x, c, w):
    """np.float64 scalars with a float64 array, NumPy and math functions, a branch."""
    s = np.sum(np.tanh(w * x)) + math.exp(-c * x)
    if s > 0:
        s = s * c - x / (1.0 + c * c)
    return s * np.sqrt(x * x + 1.0)


PROGRAMS = [
    (recurrence, (0.9, 0.3, 0.1), (0, 1, 2)),
    (taylor, (0.7,), 0),
    (mixed, (0.4, 1.3, np.array([0.5, -1.0, 2.0])), (0, 1)),
]


def _float64(args):
    return tuple(np.float64(a) if type(a) is float else a for a in args)


def _routed(monkeypatch):
    taken = []
    original = api._on_floats

    def spy(fn, converted, given, *rest):
        taken.append(converted)
        return original(fn, converted, given, *rest)
    monkeypatch.setattr(api, "_on_floats", spy)
    return taken


@pytest.mark.parametrize("f, args, wrt", PROGRAMS, ids=lambda v: getattr(v, "__name__", ""))
def test_the_route_is_taken_and_changes_no_bit(f, args, wrt, monkeypatch):
    args = _float64(args)
    taken = _routed(monkeypatch)
    value, grads = s2sad.value_and_grad(f, wrt=wrt)(*args)
    assert taken and all(type(a) is not np.float64 for a in taken[0])
    with s2sad.optimizations(floats=False):
        off_value, off_grads = s2sad.value_and_grad(f, wrt=wrt)(*args)
    assert len(taken) == 1                                 # switched off: not taken
    assert type(value) is np.float64 and value == off_value == f(*args)
    for g, h, i in zip(np.atleast_1d(grads), np.atleast_1d(off_grads), np.atleast_1d(wrt)):
        assert type(g) is np.float64 and g == h           # bit-identical to the np.float64 run
        assert g == pytest.approx(numerical_grad(f, args, int(i)), rel=1e-6, abs=1e-9)


# --- each condition dropped ---------------------------------------------------------------------------
def divided(x, y):
    return x / y


def test_a_raise_on_floats_runs_again_on_the_values_given(monkeypatch):
    """Condition 1: NumPy gives inf where a float division raises."""
    x, y = np.float64(1.0), np.float64(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, g = s2sad.value_and_grad(divided)(x, y)
        assert value == divided(x, y) == np.inf and g == np.inf

        def no_fallback(fn, converted, given, args, wrt, many):
            value, grads = fn(*converted)
            return value, api._finish(grads, args, wrt, many)
        monkeypatch.setattr(api, "_on_floats", no_fallback)
        pipeline.forget()
        with pytest.raises(ZeroDivisionError):
            s2sad.value_and_grad(divided)(x, y)
    pipeline.forget()


def root_size(x, y):
    return x * abs(y ** 0.5)


def test_a_fractional_power_keeps_numpy_semantics(monkeypatch):
    """Condition 2: (-4.0) ** 0.5 is a complex number, np.float64(-4.0) ** 0.5 is nan."""
    x, y = np.float64(3.0), np.float64(-4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = root_size(x, y)
        value, g = s2sad.value_and_grad(root_size)(x, y)
        assert np.isnan(want) and np.isnan(value) and np.isnan(g)
        monkeypatch.setattr(floats, "_integral", lambda node: True)
        pipeline.forget()
        value, g = s2sad.value_and_grad(root_size)(x, y)
        assert not np.isnan(value) and not np.isnan(g)          # |2j| * 3.0 and |2j|
    pipeline.forget()


def rounded(x):
    return x * round(x, 1)


def test_round_keeps_numpy_semantics(monkeypatch):
    """Condition 2: round(2.15, 1) is 2.1 (the decimal value, exactly), round(np.float64(2.15), 1) is 2.2."""
    x = np.float64(2.15)
    value, g = s2sad.value_and_grad(rounded)(x)
    assert value == rounded(x) and g == round(x, 1) == 2.2
    monkeypatch.setattr(floats, "_ALLOWED_BUILTINS", floats._ALLOWED_BUILTINS | {round})
    pipeline.forget()
    value, g = s2sad.value_and_grad(rounded)(x)
    assert g == 2.1 and value != rounded(x)
    pipeline.forget()


SETTINGS = {"rate": np.float32(1.5)}                   # a global dict holding a float32 value


def scaled_by_a_setting(x):
    return x * SETTINGS["rate"]


def test_float32_values_in_a_global_dict_keep_the_float64_promotion(monkeypatch):
    """Condition 3: np.float32 * np.float64 is float64, np.float32 * float is float32; a list or dict may hold
    one (or be given one after the code was made)."""
    x = np.float64(1.1)
    value, g = s2sad.value_and_grad(scaled_by_a_setting)(x)
    assert type(value) is np.float64 and value == scaled_by_a_setting(x) and g == np.float64(np.float32(1.5))
    real = floats._trusted
    monkeypatch.setattr(floats, "_trusted", lambda obj, depth=0: True if isinstance(obj, dict) else real(obj, depth))
    pipeline.forget()
    value, g = s2sad.value_and_grad(scaled_by_a_setting)(x)
    assert type(value) is not np.float64 and value != scaled_by_a_setting(x)
    pipeline.forget()


W32 = np.array([0.1, 0.7, -0.3], dtype=np.float32)


def scaled_by_a_global(c):
    return np.sum(W32 * c)


def scaled(w, c):
    return np.sum(w * c)


def sine_scaled(k, c):
    return np.sum(np.sin(k) * c) + c * c


@pytest.mark.parametrize("f, args, wrt", [(scaled_by_a_global, (np.float64(0.3),), 0),
                                          (scaled, (W32, np.float64(0.3)), 1),
                                          (sine_scaled, (np.array([1, 2, 3], np.int8), np.float64(0.7)), 1),
                                          (sine_scaled, (np.array([1, 2, 3], np.uint16), np.float64(0.7)), 1),
                                          (sine_scaled, (np.array([True, False]), np.float64(0.7)), 1),
                                          (sine_scaled, (np.int8(3), np.float64(0.7)), 1)],
                         ids=["global", "argument", "int8", "uint16", "bool", "int8 scalar"])
def test_float32_arrays_keep_the_float64_promotion(f, args, wrt, monkeypatch):
    """Condition 3: float32 array * np.float64 is float64, float32 array * float is float32 (and so for the
    float16 and float32 values NumPy's functions make of booleans and 8- and 16-bit integers: np.sin(int8))."""
    want = f(*args)
    value, _ = s2sad.value_and_grad(f, wrt=wrt)(*args)
    assert value.dtype == want.dtype == np.float64 and value == want
    monkeypatch.setattr(floats, "dtype_kept", lambda dtype: True)
    pipeline.forget()
    value, _ = s2sad.value_and_grad(f, wrt=wrt)(*args)
    assert value.dtype != want.dtype or value != want
    pipeline.forget()


def test_user_code_s2sad_did_not_generate_sees_the_values_given(monkeypatch):
    """Condition 4: helpers_module.kind_scale (called as it is, on a value not differentiated) tells an np.float64
    from a float."""
    x, c = np.float64(0.5), np.float64(2.0)
    want = helpers_module.scaled_by_kind(x, c)
    value, g = s2sad.value_and_grad(helpers_module.scaled_by_kind)(x, c)
    assert value == want and g == pytest.approx(numerical_grad(helpers_module.scaled_by_kind, (x, c), 0))
    monkeypatch.setattr(floats, "_trusted", lambda obj, depth=0: True)
    pipeline.forget()
    value, _ = s2sad.value_and_grad(helpers_module.scaled_by_kind)(x, c)
    assert value != want
    pipeline.forget()


def test_what_blocks_the_route():
    """Each construct the conditions name makes ``safe`` false; plain arithmetic does not."""
    def denote(name):
        table = {"np": np, "math": math, "W32": W32, "helper": helpers_module.kind_scale, "isinstance": isinstance}
        if name in table:
            return table[name]
        raise KeyError(name)
    ok = "def g(x):\n    y = x * x / 3.0 - np.sin(x) + math.exp(x) ** 2\n    return y\n"
    assert floats.safe(ok, denote)
    for body in ["y = x ** 0.5", "y = x ** x", "y = x % 2.0", "y = x // 2.0", "y = W32 * x", "y = helper(x)",
                 "y = isinstance(x, float)", "y = np.float32(x)", "y = np.asarray(x, 'f4')", "y = x.astype(np.float32)",
                 "y = [helper][0](x)"]:
        assert not floats.safe(f"def g(x):\n    {body}\n    return y\n", denote), body
    assert floats.converted((np.float64(1.0), np.ones(2))) == (1.0, pytest.approx(np.ones(2)))
    assert floats.converted((1.0, np.ones(2))) is None                   # nothing to convert
    assert floats.converted((np.float64(1.0), W32)) is None
    assert floats.converted((np.float64(1.0), np.float32(2.0))) is None
    assert floats.converted((np.float64(1.0), [1.0])) is None            # containers are not looked into


def counted_then_divided(x, counts, y):
    counts[0] = counts[0] + 1.0
    return x * counts[0] / y


def test_code_that_changes_an_argument_is_not_run_twice(monkeypatch):
    """Condition 1, second half: running again after a raise must find the arguments as they were."""
    x, y = np.float64(2.0), np.float64(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counts = np.zeros(1)
        s2sad.value_and_grad(counted_then_divided)(x, counts, y)
        assert counts[0] == 1.0
        monkeypatch.setattr(floats, "may_run_again", lambda facts: True)
        pipeline.forget()
        counts = np.zeros(1)
        s2sad.value_and_grad(counted_then_divided)(x, counts, y)
        assert counts[0] == 2.0
    pipeline.forget()


# --- 1-d float64 arrays read item by item run as lists of floats -----------------------------------------
def packed_recurrence(theta, x0):
    x = x0
    for t in range(40):
        x = x + 0.01 * (theta[0] * math.sin(x) - theta[1] * x ** 2 + theta[-1])
    return x


def unpacked(theta, y):
    a, b, c = theta
    return a * math.sin(b * y) + c


def partly_unpacked(theta, y):
    acc, c, b = theta
    return c * y


@pytest.mark.parametrize("f, args", [(packed_recurrence, (np.array([0.9, 0.3, 0.5]), 0.1)),
                                     (unpacked, (np.array([0.9, 0.3, 0.5]), 0.7)),
                                     (partly_unpacked, (np.array([0.9, 0.3, 0.5]), 0.7))],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_packed_parameters_run_as_lists(f, args, monkeypatch):
    taken = _routed(monkeypatch)
    value, g = s2sad.value_and_grad(f)(*args)
    looped = f is packed_recurrence                       # (without a loop the array is kept: floats.listed)
    assert bool(taken) == looped and (not looped or type(taken[0][0]) is list)
    with s2sad.optimizations(floats=False):
        off_value, off_g = s2sad.value_and_grad(f)(*args)
    assert value == off_value == f(*args) and type(value) is np.float64
    assert g.dtype == np.float64 and g.shape == (3,) and np.array_equal(g, off_g)
    np.testing.assert_allclose(g, numerical_grad(f, args, 0), rtol=1e-6, atol=1e-9)


def repeated(theta):
    s = 0.0
    for k in range(2):
        s = s + (theta * 2)[1] + theta[0]
    return s


def test_an_array_used_as_an_array_stays_one(monkeypatch):
    """``listed``: ``theta * 2`` would repeat a list."""
    theta = np.array([0.9, 0.3, 0.5])
    assert s2sad.value_and_grad(repeated)(theta)[0] == repeated(theta)
    monkeypatch.setattr(floats, "listed", lambda text: (0,))
    pipeline.forget()
    assert s2sad.value_and_grad(repeated)(theta)[0] != repeated(theta)
    pipeline.forget()


def counted(x):
    n = (x > 0.0) + (x > 1.0)          # np.True_ + np.True_ is np.True_ (1); True + True is 2
    return x * n + x ** 2


def inverted(x):
    if ~(x > 1.0):                     # ~np.True_ is np.False_; ~True is -2 (true)
        return x ** 2
    return x ** 3


def compared_by_identity(x):
    if (x > 0.0) is True:              # np.True_ is not True
        return x ** 2
    return x ** 3


def items_counted(p):
    t = 0.0
    for i in range(3):
        t = t + p[0] * ((p[1] > 0.0) + (p[2] > 0.0)) * (i + 1)
    return t


def scaled_when_up(x):
    up = x > 1.0
    if up and not x > 3.0:             # tested, negated, a condition: the same for a bool and an np.bool_
        return x + np.where(up, x, 0.0)
    return x ** 3


@pytest.mark.parametrize("f, x", [(counted, np.float64(1.5)), (inverted, np.float64(1.5)),
                                  (items_counted, np.array([1.0, 0.5, 0.25]))],
                         ids=["sum of comparisons", "inverted", "list items"])
def test_comparisons_keep_numpy_booleans(f, x, monkeypatch):
    """Condition 5: a comparison of np.float64 values is an np.bool_, which adds, inverts and compares by
    identity unlike a Python bool (found by a probe: wrong branch, wrong value and derivative)."""
    want = f(x)
    value, g = s2sad.value_and_grad(f)(x)
    assert value == want
    h = 1e-6                            # (differences of np.float64 values: a float's would compute as Python)
    steps = np.eye(np.size(x)).reshape((-1,) + np.shape(x)) * h
    np.testing.assert_allclose(g, np.reshape([(f(x + d) - f(x - d)) / (2 * h) for d in steps], np.shape(x)),
                               rtol=1e-6)
    monkeypatch.setattr(floats, "_truth_like", lambda *a, **k: True)
    pipeline.forget()
    value, _ = s2sad.value_and_grad(f)(x)
    assert value != want
    pipeline.forget()


def test_comparisons_tested_or_multiplied_keep_the_route():
    text = s2sad.api.adjoint_source(scaled_when_up, (0,), "value_and_grad", (np.float64(2.0),))
    assert floats.safe(text, lambda name: {"np": np, "_s2": s2sad.runtime}[name])


def sqrt_of_bytes(x):
    w = np.sqrt(np.array([3, 5, 7], dtype="uint8"))          # float16: its product with a float stays float16
    return np.sin(np.sum(w * x) * 50.0)


def exp_of_a_mask(x):
    return np.sin(np.exp(x > 0.1) * x * 100.0)               # np.exp of a boolean: float16


def largest_of_comparisons(x):
    t = max(x > 0.0, x > 1.0)                                # an np.bool_ given back as it is: True + True
    return x * (t + t)


def masked_where(x):
    up = x > 1.0
    if up and not x > 3.0:                                   # tested, negated, read as a truth value: the same
        return np.where(x > 0.5, x * x, x)
    return x


@pytest.mark.parametrize("f", [sqrt_of_bytes, exp_of_a_mask, largest_of_comparisons], ids=lambda f: f.__name__)
def test_small_floats_made_inside_keep_the_float64_promotion(f, monkeypatch):
    """Conditions 3 and 5: booleans and 8/16-bit integers made inside the function (a dtype string, a comparison of
    arrays) become float16 under NumPy's functions, and `max` of comparisons gives an np.bool_ back (found by a
    probe: wrong values and derivatives)."""
    x = np.float64(0.3)
    want = f(x)
    value, _ = s2sad.value_and_grad(f)(x)
    assert value == want
    monkeypatch.setattr(floats, "_DTYPE_TEXT", re.compile("^$"))
    monkeypatch.setattr(floats, "_reads_truth", lambda *args: True)
    monkeypatch.setattr(floats, "_trusted", lambda obj, depth=0: True)      # (np.array is not on its allow-list)
    pipeline.forget()
    value, _ = s2sad.value_and_grad(f)(x)
    assert value != want
    pipeline.forget()


def test_a_comparison_read_as_a_truth_value_keeps_the_route():
    text = s2sad.api.adjoint_source(masked_where, (0,), "value_and_grad", (np.float64(0.7),))
    assert floats.safe(text, lambda name: {"np": np, "_s2": s2sad.runtime}[name])


def noisy(x):
    noise = np.random.normal()
    if x ** 2 > 1e300:                                       # floats raise (overflow), NumPy gives inf
        return noise * x * 1e-200
    return noise * x


def test_random_draws_keep_the_route_off(monkeypatch):
    """Condition 1: a call raising on floats runs again on the values given; with a random draw the second run
    drew other numbers (found by a probe)."""
    x = np.float64(1e200)
    np.random.seed(0)
    want = noisy(x)
    np.random.seed(0)
    assert s2sad.value_and_grad(noisy)(x)[0] == want
    monkeypatch.setattr(floats, "_trusted", lambda obj, depth=0: True)      # (its allow-list leaves draws out)
    pipeline.forget()
    np.random.seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert s2sad.value_and_grad(noisy)(x)[0] != want
    pipeline.forget()


def product_of_comparisons(x, y):
    z = (x > 0.0) * (y > 0.0)                                 # np.True_ * np.True_ is np.True_: z + z is 1
    return x * (z + z)


def identical(x, y):
    return x * x if x is y else x + x                         # one float per conversion: never identical


def class_named(x):
    return x * 3.0 if x.__class__ is np.float64 else x * 2.0


@pytest.mark.parametrize("f, args", [(product_of_comparisons, (np.float64(0.7), np.float64(0.2))),
                                     (identical, (np.float64(0.7),) * 2), (class_named, (np.float64(0.7),)),
                                     (compared_by_identity, (np.float64(0.5),))],
                         ids=["product of comparisons", "is", "__class__", "is True"])
def test_the_objects_themselves_keep_the_route_off(f, args):
    """Conditions 5 and 6 (found by a probe: each gave another value on floats)."""
    value, _ = s2sad.value_and_grad(f)(*args)
    assert value == f(*args)


ITEMS = iter([])
FROZEN = frozenset({np.float32(0.7)})


def finite_weighted(x):
    return x * x * np.exp(np.isfinite(x))                   # np.exp of a NumPy boolean: float16


def printed_length(x):
    return x * len(str((x,)))                               # 'np.float64(0.7)' against '0.7'


def scaled_by_a_frozenset(x):
    return min(FROZEN) * x * x                              # a float32 held by a frozenset


def compared_exactly(x, n):
    return x * x if x < n else x ** 3                       # 2**53 < 2**53 + 1 for a float, not for np.float64


def compared_to_a_list(x):
    return x * 3.0 if x == [0.7] else x * 2.0               # np.float64(0.7) == [0.7] is array([True])


def added_in_place(x, a):
    np.add(a, 1.0, a)                                       # `out` by position: a run again would add twice
    return np.sum(a) * x + np.arctan(1.0 / (x - 0.5))       # x = 0.5: ZeroDivisionError on floats


def flagged(x, flag):
    return x * x * np.exp(flag)                             # np.exp(True): float16


@pytest.mark.parametrize("f, args", [(finite_weighted, (np.float64(0.7),)), (printed_length, (np.float64(0.7),)),
                                     (scaled_by_a_frozenset, (np.float64(0.7),)),
                                     (compared_exactly, (np.float64(2.0 ** 53), 2 ** 53 + 1)),
                                     (compared_to_a_list, (np.float64(0.7),)), (flagged, (np.float64(0.7), True))],
                         ids=["isfinite", "str", "frozenset", "big int", "list", "bool argument"])
def test_the_allow_list_keeps_the_route_off(f, args, monkeypatch):
    """Condition 4 as an allow-list, and the int, bool and comparison checks (found by a probe: each gave another
    value on floats)."""
    want = f(*args)
    assert s2sad.value_and_grad(f)(*args)[0] == want
    if f not in (compared_to_a_list, scaled_by_a_frozenset):
        monkeypatch.setattr(floats, "_trusted", lambda obj, depth=0: True)
        monkeypatch.setattr(floats, "converted", lambda a, lists=(): tuple(float(v) if type(v) is np.float64 else v
                                                                          for v in a))
        pipeline.forget()
        assert s2sad.value_and_grad(f)(*args)[0] != want
        pipeline.forget()


def test_an_out_argument_keeps_the_route_off():
    """A run again after a raise on floats would change the array a second time (found by a probe)."""
    a, b = np.array([1.0, 2.0]), np.array([1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = added_in_place(np.float64(0.5), a)
        assert s2sad.value_and_grad(added_in_place, wrt=0)(np.float64(0.5), b)[0] == want
    assert np.array_equal(a, b)


PAIR = (0.7,)


def compared_to_a_computed_int(x):
    n = 2 ** 60 + 1
    return x * 2.0 if x < n else x * 3.0                    # Python compares 2.0**60 < 2**60 + 1 exactly


def compared_to_a_tuple(x):
    return x * 3.0 if x == PAIR else x * 2.0                # np.float64(0.7) == (0.7,) is array([True])


def exp_of_a_default(x, b=True):
    return x * x * np.exp(b)                                # a default the function computes with: float16


def exp_of_a_test(x):
    return x * x * np.exp(math.isfinite(x))                 # a boolean from math: float16 under np.exp


def summed_as(x, dt):
    return np.sum(x, dtype=dt) * x                          # a dtype passed as a string


@pytest.mark.parametrize("f, args", [(compared_to_a_computed_int, (np.float64(2.0 ** 60),)),
                                     (compared_to_a_tuple, (np.float64(0.7),)),
                                     (exp_of_a_default, (np.float64(0.7),)), (exp_of_a_test, (np.float64(0.7),)),
                                     (summed_as, (np.float64(0.7), "float16"))],
                         ids=["computed int", "tuple", "default", "math boolean", "dtype string"])
def test_more_of_what_keeps_the_route_off(f, args):
    """Found by a second probe of the allow-list: each gave another value on floats."""
    assert s2sad.value_and_grad(f, wrt=0)(*args)[0] == f(*args)


def test_a_later_call_with_an_int_past_two_to_the_53_leaves_the_fast_entry():
    g = s2sad.value_and_grad(compared_exactly)
    g(np.float64(2.0 ** 60), 3)
    x, n = np.float64(2.0 ** 60), 2 ** 60 + 1
    assert g(x, n)[0] == compared_exactly(x, n)
