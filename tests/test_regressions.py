"""Every program that once got a wrong derivative or a crash (tests/regression_programs.py), checked in
every mode and with optimizations on and off: the gradient against central differences, forward mode
against reverse mode, Hessian-vector products against differences of the gradient, and the optimized
pipeline against the straightforward one. And the programs s2sad must refuse, refused."""
import copy
import dataclasses
import math

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads, numerical_grad

from .regression_programs import CASES, FIRST_ORDER, REFUSED


def _flat(g):
    if isinstance(g, dict):
        return np.concatenate([_flat(g[k]) for k in sorted(g)]) if g else np.zeros(0)
    if isinstance(g, (tuple, list)):
        return np.concatenate([_flat(x) for x in g]) if len(g) else np.zeros(0)
    return np.ravel(np.asarray(g, dtype=float))


def _flat_tree(x):
    if isinstance(x, dict):
        return np.concatenate([_flat_tree(x[k]) for k in sorted(x)])
    if isinstance(x, (list, tuple)):
        return np.concatenate([_flat_tree(v) for v in x]) if len(x) else np.zeros(0)
    return np.ravel(np.asarray(x, dtype=float))


def _direction(x, rng):
    if isinstance(x, dict):
        return {k: _direction(v, rng) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_direction(v, rng) for v in x)
    return rng.normal(size=np.shape(x)) if isinstance(x, np.ndarray) else float(rng.normal())


@pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "straightforward"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_differences(name, optimize):
    f, args, wrt = CASES[name]
    value, grads = s2sad.value_and_grad(f, wrt=wrt, optimize=optimize)(*copy.deepcopy(args))
    np.testing.assert_allclose(value, f(*copy.deepcopy(args)), rtol=1e-12)
    for g, i in zip(grads, wrt):
        want = numerical_grad(lambda *a: f(*copy.deepcopy(a)), args, i)
        np.testing.assert_allclose(_flat(g), _flat(want), rtol=1e-5, atol=1e-6, err_msg=f"argument {i}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_optimized_and_straightforward_pipelines_agree(name):
    f, args, wrt = CASES[name]
    fast = s2sad.grad(f, wrt=wrt)(*args)
    plain = s2sad.grad(f, wrt=wrt, optimize=False)(*args)
    np.testing.assert_allclose(_flat(fast), _flat(plain), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "straightforward"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_mode_agrees_with_reverse_mode(name, optimize):
    f, args, wrt = CASES[name]
    rng = np.random.default_rng(0)
    grads = s2sad.grad(f, wrt=wrt, optimize=optimize)(*args)
    tangents = [None] * len(args)
    for i in wrt:
        tangents[i] = _direction(args[i], rng)
    value, tangent = s2sad.jvp(f, args, tangents, optimize=optimize)
    np.testing.assert_allclose(value, f(*copy.deepcopy(args)), rtol=1e-12)
    expected = sum(float(np.dot(_flat_tree(g), _flat_tree(tangents[i]))) for g, i in zip(grads, wrt))
    assert float(tangent) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hessian_vector_product_matches_differences_of_the_gradient(name):
    f, args, wrt = CASES[name]
    i = wrt[0]
    v = _direction(args[i], np.random.default_rng(1))
    got = s2sad.hvp(f, wrt=i)(*args[:i + 1], v, *args[i + 1:])
    gradient = s2sad.grad(f, wrt=i)
    eps = 1e-5
    up, down = list(args), list(args)
    up[i] = args[i] + eps * np.asarray(v) if isinstance(args[i], np.ndarray) else args[i] + eps * v
    down[i] = args[i] - eps * np.asarray(v) if isinstance(args[i], np.ndarray) else args[i] - eps * v
    want = (np.asarray(gradient(*up)) - np.asarray(gradient(*down))) / (2 * eps)
    np.testing.assert_allclose(_flat(got), _flat(want), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(FIRST_ORDER))
def test_first_order_programs_match_differences_and_forward_mode(name):
    f, args, wrt = FIRST_ORDER[name]
    for optimize in (True, False):
        value, grads = s2sad.value_and_grad(f, wrt=wrt, optimize=optimize)(*copy.deepcopy(args))
        np.testing.assert_allclose(value, f(*copy.deepcopy(args)), rtol=1e-12)
        for g, i in zip(grads if len(wrt) > 1 else (grads,), wrt):
            np.testing.assert_allclose(_flat(g), _flat(numerical_grad(f, copy.deepcopy(args), i)), rtol=1e-6,
                                       atol=1e-8)
            v = _direction(args[i], np.random.default_rng(2))
            tangents = [None] * len(args)
            tangents[i] = v
            _, tangent = s2sad.jvp(f, args, tangents, optimize=optimize)
            np.testing.assert_allclose(tangent, np.dot(_flat(g), _flat(v)), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_not_answered(name):
    f, args, wrt, reason = REFUSED[name]
    with pytest.raises(s2sad.S2SadError, match=reason):
        s2sad.grad(f, wrt=wrt)(*args)
    with pytest.raises(s2sad.S2SadError, match=reason):
        s2sad.jvp(f, args, [a if k in wrt else None for k, a in enumerate(args)])


def test_the_adjoint_of_a_float32_mean_is_float32():
    """``ans_bar = 1.0`` (a Python float: weak) spread over a float32 array by np.mean/np.sum's adjoint is a
    float32 array, so the backward sweep of float32 code runs in float32 (it ran in float64, then cast)."""
    from s2sad import runtime
    x = np.linspace(0.0, 1.0, 1000, dtype=np.float32)
    assert runtime.unreduce(-1.0 / 1000, x).dtype == np.float32          # the broadcast path
    assert runtime.unreduce(2.0, x[:10]).dtype == np.float32             # the small-array path
    assert runtime.unreduce(2.0, np.arange(3)).dtype == np.float64       # integers' adjoint is float
    assert runtime.unreduce(np.float64(2.0), x).dtype == np.float64      # a strong float64 stays float64


def test_a_rule_whose_file_changed_since_import_is_not_inlined_from_other_lines(tmp_path, monkeypatch):
    """Rules are inlined from their source text, read from their file when first used: if the file changed
    since the import (an edit while a long campaign runs), the rule's line may now hold another function.
    Seen in a fuzz campaign: np.sort's adjoint inlined from np.cumsum's rule three lines above. Refused."""
    import importlib
    import sys
    from s2sad import inline
    path = tmp_path / "fz_rule_module.py"
    path.write_text("import numpy as np\n\n\ndef square(x):\n    return x * x\n\n\n"
                    "def square_vjp(g, ans, x):\n    return 2.0 * g * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("fz_rule_module")
    try:
        body, params, _ = inline._parsed(module.square_vjp)            # read while the file is as imported
        assert params == ["g", "ans", "x"]
        path.write_text("import numpy as np\n\n\ndef square(x):\n    return x * x\n\n\n"
                        "def cube_vjp(g, ans, x):\n    return 3.0 * g * x * x\n\n\n"
                        "def square_vjp(g, ans, x):\n    return 2.0 * g * x\n")
        import os
        os.utime(path, (1, 1))                                         # another mtime: linecache reads it again
        fresh = type(module.square_vjp)(module.square_vjp.__code__, module.square_vjp.__globals__, "square_vjp")
        with pytest.raises(OSError, match="changed since it was imported"):
            inline._parsed(fresh)
    finally:
        sys.modules.pop("fz_rule_module", None)


@pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "straightforward"])
def test_a_list_of_floats_where_numpy_reads_an_array(optimize):
    """np.maximum, np.var, np.std of a list: their rules' own arithmetic (``x >= y``, ``x * 2``) read the list as
    an array too (it raised TypeError); every route gives the array's derivatives."""
    from .regression_programs import list_to_numpy_functions as f
    xs, v = [0.7, -0.4, 1.3], [0.3, 1.0, -0.5]
    want = s2sad.grad(f, optimize=optimize)(np.array(xs))
    np.testing.assert_allclose(want, numerical_grad(f, (np.array(xs),), 0), rtol=1e-6)
    np.testing.assert_allclose(s2sad.grad(f, optimize=optimize)(xs), want, rtol=1e-12)
    np.testing.assert_allclose(s2sad.jvp(f, (xs,), (v,))[1], want @ np.array(v), rtol=1e-12)
    np.testing.assert_allclose(s2sad.hvp(f)(xs, v), s2sad.hvp(f)(np.array(xs), np.array(v)), rtol=1e-12)


def test_the_mean_of_an_empty_array_has_an_empty_gradient():
    def f(x):
        return np.mean(x ** 2)
    with np.errstate(all="ignore"):
        for x in (np.zeros(0), np.zeros((0, 3))):
            value, g = s2sad.value_and_grad(f)(x)
            assert np.isnan(value) and g.shape == x.shape


def _empty_product(x):
    return np.prod(x[:0]) + np.sum(x)


def _float_power_zero(x):
    return np.sum(np.float_power(x, 0.0) + x)


def _math_pow_zero(x):
    return math.pow(x, 0.0) + x


def _clip_equal_bounds(x):
    return np.sum(np.clip(x, 3.0, 3.0)) + np.sum(x)


def _hypot_at_the_origin(x):
    return np.sum(np.hypot(x, np.array([0.0, 4.0])))


def _math_hypot_at_the_origin(x):
    return math.hypot(x, 0.0) + x


def _einsum_broadcast_operand(y):
    return np.sum(np.einsum("ij,ij->i", np.arange(1.0, 13.0).reshape(3, 4), y))


@pytest.mark.parametrize("f, x, want", [
    (_empty_product, np.array([0.5, 2.0, 3.0]), np.ones(3)),                    # the empty product's adjoint
    (_float_power_zero, np.array([0.0, 2.0]), np.ones(2)),                       # x ** 0: 0 at x = 0, not nan
    (_math_pow_zero, 0.0, 1.0),
    (_clip_equal_bounds, np.array([2.0, 3.0, 4.0]), np.ones(3)),                 # constant on both sides of 3
    (_hypot_at_the_origin, np.array([0.0, 3.0]), np.array([0.0, 0.6])),          # the subgradient 0, as norm's
    (_math_hypot_at_the_origin, 0.0, 1.0),
    (_einsum_broadcast_operand, np.ones((1, 4)), np.array([[15.0, 18.0, 21.0, 24.0]])),  # a broadcast axis summed
], ids=lambda v: getattr(v, "__name__", "")[1:] if callable(v) else "")
def test_derivatives_at_edge_points_in_both_modes(f, x, want):
    np.testing.assert_allclose(s2sad.grad(f)(x), want, rtol=1e-12)
    direction = np.linspace(0.5, 1.5, np.size(x)).reshape(np.shape(x)) if np.ndim(x) else 1.0
    assert s2sad.jvp(f, (x,), (direction,))[1] == pytest.approx(np.sum(want * direction), rel=1e-12)


def _larger_than_nothing(x):
    return max(x, float("nan")) * x + min(x, float("nan"))


def test_builtin_max_and_min_follow_pythons_choice_at_nan():
    """max(x, nan) is x (Python keeps the first unless a later one is greater): its adjoint went to the NaN."""
    assert s2sad.grad(_larger_than_nothing)(0.7) == pytest.approx(2 * 0.7 + 1.0, rel=1e-14)
    assert s2sad.jvp(_larger_than_nothing, (0.7,), (1.0,))[1] == pytest.approx(2 * 0.7 + 1.0, rel=1e-14)


def _cube_at_default(x, y=2.0):
    return x * y ** 3


def test_wrt_an_argument_not_passed_is_a_clear_error():
    """wrt naming a parameter left at its default: an IndexError from inside s2sad (found by a probe)."""
    for wrt in ("y", 1, (0, 1)):
        with pytest.raises(s2sad.WrtError, match="was not passed"):
            s2sad.grad(_cube_at_default, wrt=wrt)(1.5)


def _through_lists(x):
    v = x.tolist()
    return sum(v) * v[0] + np.sum(np.array(x.reshape(2, 2).tolist()) ** 2)


def test_tolist_to_second_order():
    """`x.tolist()`: no rule before (its hint named `np.tolist`, which does not exist)."""
    x = np.array([1.0, 2.0, 0.5, -1.0])
    want = np.array([sum(x) + x[0], x[0], x[0], x[0]]) + 2 * x
    np.testing.assert_allclose(s2sad.grad(_through_lists)(x), want, rtol=1e-14)
    assert s2sad.jvp(_through_lists, (x,), (np.ones(4),))[1] == pytest.approx(want.sum(), rel=1e-14)
    np.testing.assert_allclose(s2sad.hvp(_through_lists)(x, np.ones(4)), [7.0, 3.0, 3.0, 3.0], rtol=1e-14)


@dataclasses.dataclass(order=True)
class _Ordered:
    a: float
    b: float


def _largest_of_pairs(x):
    best = max((x[0], x[1]), (x[1], x[0]))
    top = max(_Ordered(x[0], x[1]), _Ordered(x[1], x[0]))
    return 3.0 * best[0] + best[1] + top.a * top.b


def test_builtin_max_of_tuples_and_records():
    """max of two tuples or two ordered dataclasses: a TypeError (an adjoint times a bool) before; the adjoint goes
    to the one Python returns (found by a probe)."""
    x = np.array([0.7, 0.2])
    want = np.array([3.0 + x[1], 1.0 + x[0]])
    np.testing.assert_allclose(s2sad.grad(_largest_of_pairs)(x), want, rtol=1e-14)
    assert s2sad.jvp(_largest_of_pairs, (x,), (np.ones(2),))[1] == pytest.approx(want.sum(), rel=1e-14)


def test_getattr_with_a_default_of_a_record_argument():
    from s2sad.testing import check_grads
    f, args, _ = CASES["getattr_with_a_default"]
    check_grads(f, args, wrt=1, order=2)


def test_getattr_with_a_default_python_evaluates_first_is_not_skipped():
    from .regression_programs import _Config, getattr_default_evaluated_first as f
    with pytest.raises(AttributeError):
        f(np.ones(2), _Config())
    with pytest.raises((AttributeError, s2sad.S2SadError)):
        s2sad.grad(f)(np.ones(2), _Config())


def test_rules_into_integers_and_rounded_initials():
    from .regression_programs import rules_into_integers_and_rounded_initials as f
    x, c = np.array([-1.0, -0.5, -2.0]), 1.0
    gx, gc = s2sad.grad(f, wrt=(0, 1))(x, c)
    np.testing.assert_allclose(gx, [1.0, 1.0, 1.0])
    assert gc == pytest.approx(6.0)                        # only m's initial (3c, float32-rounded) carries one
    _, t = s2sad.jvp(f, (x, c), (None, 1.0))
    assert t == pytest.approx(6.0)


def test_forward_rules_of_cov_and_nanvar_take_lists():
    """cov's, corrcoef's and nanvar's forward rules computed `0.0 * y` / `g * 2.0` of a list (a TypeError)."""
    def along(a):
        return float(np.corrcoef(np.array([a, 1.0, 2.5]), [1.0, 2.0, 4.0])[0, 1]) + float(np.nanvar([a, np.nan, 2.0, 1.0]))
    eps = 1e-6
    want = (along(0.3 + eps) - along(0.3 - eps)) / (2 * eps)
    assert s2sad.grad(_corr_and_nanvar)(0.3) == pytest.approx(want, rel=1e-6)
    assert s2sad.jvp(_corr_and_nanvar, (0.3,), (1.0,))[1] == pytest.approx(want, rel=1e-6)


def _corr_and_nanvar(a):
    return np.corrcoef(np.array([a, 1.0, 2.5]), [1.0, 2.0, 4.0])[0, 1] + np.nanvar([a, np.nan, 2.0, 1.0])
