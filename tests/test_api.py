"""The public API: grad, value_and_grad, vjp, @differentiable, show_adjoint; caching and compilation."""
import dataclasses
import subprocess
import sys
import textwrap
import traceback

import numpy as np
import pytest

import s2sad
from s2sad import pipeline as driver
from s2sad.testing import check_grads

from . import helpers_module as hm


def f_xy(x, y):
    return np.sum(np.sin(x) * y)


def test_wrt_int_and_tuple(rng):
    x, y = rng.normal(size=3), rng.normal(size=3)
    gx = s2sad.grad(f_xy)(x, y)
    gy = s2sad.grad(f_xy, wrt=1)(x, y)
    both = s2sad.grad(f_xy, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.cos(x) * y)
    np.testing.assert_allclose(gy, np.sin(x))
    assert isinstance(both, tuple) and len(both) == 2
    np.testing.assert_allclose(both[0], gx)
    np.testing.assert_allclose(both[1], gy)


def test_value_and_grad(rng):
    x, y = rng.normal(size=3), rng.normal(size=3)
    value, g = s2sad.value_and_grad(f_xy)(x, y)
    assert value == f_xy(x, y)
    np.testing.assert_allclose(g, np.cos(x) * y)


def vector_out(x):
    return np.sin(x) * 2.0


def test_vjp_runs_forward_once_and_pulls_back_many_times(rng):
    x = rng.normal(size=4)
    value, pullback = s2sad.vjp(vector_out, x)
    np.testing.assert_allclose(value, np.sin(x) * 2.0)
    for _ in range(3):
        ct = rng.normal(size=4)
        np.testing.assert_allclose(pullback(ct), 2.0 * np.cos(x) * ct)
    # the Jacobian by rows: each unit cotangent gives one row
    rows = np.array([pullback(e) for e in np.eye(4)])
    np.testing.assert_allclose(rows, np.diag(2.0 * np.cos(x)))


def exp_out(x):
    return np.exp(x)


def exp_and_energy(x):
    y = np.exp(x)
    return y, np.sum(y * y)


def residual(x):
    return x - np.array([1.0, 2.0, 3.0])


def record_energy(p):
    return np.sum(np.sin(p.w) * p.w)


def ordered_weights(x, w):
    return np.sum(x.ravel("K") * w)


def shrink_then_dot(x, y):
    x -= 0.5 * y
    return np.sum(x * y)


@dataclasses.dataclass
class _Weights:
    w: np.ndarray


_NamedWeights = __import__("collections").namedtuple("_NamedWeights", "w")


def test_what_vjp_returns_and_keeps_is_the_callers_to_change():
    """The value returned, the cotangent given, and the arguments (records, memory order included) are not what the
    pullback reads: a caller changing them in place (`v -= 1`, `g *= lr`, `p.w -= step`) changes no later result."""
    x = np.array([0.3, -0.7, 1.1])
    v, pullback = s2sad.vjp(exp_out, x)
    v -= 1.0
    np.testing.assert_allclose(pullback(v), np.exp(x) * (np.exp(x) - 1.0))
    (y, _), pullback = s2sad.vjp(exp_and_energy, x)
    y[:] = 0.0
    np.testing.assert_allclose(pullback((np.zeros(3), 1.0)), 2.0 * np.exp(2.0 * x))
    r, pullback = s2sad.vjp(residual, x)
    g = pullback(r)
    g *= 0.1
    np.testing.assert_allclose(r, x - [1.0, 2.0, 3.0])
    for kind in (_Weights, _NamedWeights):
        p = kind(x.copy())
        _, pullback = s2sad.vjp(record_energy, p)
        p.w[:] += 1.0
        np.testing.assert_allclose(pullback(1.0).w, np.cos(x) * x + np.sin(x))
    a = np.arange(12.0).reshape(4, 3).T                     # Fortran order: ravel("K") reads it column by column
    w = np.arange(12.0) % 5
    value, pullback = s2sad.vjp(ordered_weights, a, w)
    assert value == ordered_weights(a, w)
    np.testing.assert_allclose(pullback(1.0), s2sad.grad(ordered_weights)(a, w))
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="share memory"):     # one array passed twice stays one
        s2sad.vjp(shrink_then_dot, x, x)


def test_grad_of_non_scalar_output_points_to_vjp():
    with pytest.raises(s2sad.NonScalarOutputError, match="vjp"):
        s2sad.grad(vector_out)(np.ones(3))


@s2sad.differentiable
def decorated(x):
    return x * x * 3.0


@s2sad.differentiable(wrt=(0, 1))
def decorated_two(x, y):
    return x * y + y


def test_decorator_keeps_behaviour_and_sets_default_wrt():
    assert decorated(2.0) == 12.0
    assert decorated.__name__ == "decorated"
    assert s2sad.grad(decorated)(2.0) == 12.0
    assert decorated_two(2.0, 3.0) == 9.0
    assert s2sad.grad(decorated_two)(2.0, 3.0) == (3.0, 3.0)
    assert s2sad.grad(decorated_two, wrt=1)(2.0, 3.0) == 3.0


def test_show_adjoint_prints_code_and_adjoint_source_returns_it(capsys):
    s2sad.show_adjoint(f_xy)
    printed = capsys.readouterr().out
    assert printed == s2sad.adjoint_source(f_xy)
    assert "def f_xy_value_and_grad(x, y):" in printed
    assert "x_bar" in printed and "# grad of line" in printed
    vjp_text = s2sad.adjoint_source(f_xy, kind="vjp")
    assert "def f_xy_backward(ans_bar):" in vjp_text


def test_generated_code_is_byte_identical_across_processes():
    code = textwrap.dedent("""
        import s2sad
        from tests.test_api import f_xy
        from tests.test_reverse_straightline import linalg_fn
        print(s2sad.adjoint_source(f_xy, wrt=(0, 1)) + s2sad.adjoint_source(linalg_fn, wrt=(0, 1)))
    """)
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": str(seed), "PATH": ""}).stdout for seed in (1, 2)]
    assert runs[0] == runs[1] and "def linalg_fn_value_and_grad" in runs[0]


def test_repeated_grad_calls_reuse_the_compiled_code():
    def fresh(x):
        return x * 5.0
    before = dict(driver.stats)
    assert s2sad.grad(fresh)(1.0) == 5.0
    assert s2sad.grad(fresh)(2.0) == 5.0
    assert s2sad.value_and_grad(fresh)(2.0) == (10.0, 5.0)
    assert driver.stats["transforms"] == before["transforms"] + 1
    assert driver.stats["compiles"] == before["compiles"] + 1


def test_redefined_function_gets_fresh_code(tmp_path):
    import importlib.util
    path = tmp_path / "redefining.py"
    spec = importlib.util.spec_from_file_location("redefining", path)
    module = importlib.util.module_from_spec(spec)
    for factor in (2.0, 7.0):
        path.write_text(f"def redefined(x):\n    return x * {factor}\n")
        spec.loader.exec_module(module)             # redefine in the same module
        assert s2sad.grad(module.redefined)(1.0) == factor


def test_globals_are_read_live():
    x = np.ones(3)
    np.testing.assert_allclose(s2sad.grad(hm.scaled_sum)(x), 2.0)
    old = hm.SCALE
    try:
        hm.SCALE = 5.0
        np.testing.assert_allclose(s2sad.grad(hm.scaled_sum)(x), 5.0)
    finally:
        hm.SCALE = old


def test_closures_are_bound_per_instance_and_read_live():
    f1 = hm.make_closure(np.array([1.0, 2.0]))
    f2 = hm.make_closure(np.array([3.0, 4.0]))
    np.testing.assert_allclose(s2sad.grad(f1)(np.ones(2)), [2.0, 4.0])
    np.testing.assert_allclose(s2sad.grad(f2)(np.ones(2)), [6.0, 8.0])
    inner, rebind = hm.make_rebindable()
    gradient = s2sad.grad(inner)
    np.testing.assert_allclose(gradient(np.ones(2)), [1.0, 2.0])
    rebind(np.array([10.0, 20.0]))
    np.testing.assert_allclose(gradient(np.ones(2)), [10.0, 20.0])


def test_nested_function_defined_in_a_test():
    offset = 3.0

    def nested(x):
        return (x + offset) ** 2
    check_grads(nested, (1.5,))
    assert s2sad.grad(nested)(1.5) == pytest.approx(9.0)


def mismatched(x):
    a = np.log(x)
    return np.sum(a @ np.ones(3))


def test_traceback_from_generated_code_shows_the_generated_line():
    with pytest.raises(ValueError) as info:
        s2sad.grad(mismatched)(np.ones(2))
    text = "".join(traceback.format_exception(info.value))
    assert "mismatched_value_and_grad" in text
    assert "@ _t" in text            # the generated line itself is shown, not "<string>"


def test_function_in_main_module(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import s2sad

        def f(x):
            return np.sum(np.tanh(x) ** 2)

        x = np.array([0.1, -0.4])
        g = s2sad.grad(f)(x)
        t = np.tanh(x)
        assert np.allclose(g, 2 * t * (1 - t ** 2)), g
        print("ok")
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def _scaled_square(a, b, c=1.0):
    return a * b * b * c


def test_wrt_by_parameter_name():
    """wrt names parameters as well as positions; an unknown name is an error listing the parameters."""
    assert s2sad.grad(_scaled_square, wrt="b")(2.0, 3.0) == pytest.approx(12.0)
    assert s2sad.grad(_scaled_square, wrt=("a", 1))(2.0, 3.0) == pytest.approx((9.0, 12.0))
    value, tangent = s2sad.jvp(_scaled_square, (2.0, 3.0), (None, 1.0))
    assert s2sad.value_and_grad(_scaled_square, wrt="c")(2.0, 3.0, 0.5) == pytest.approx((9.0, 18.0))
    assert tangent == pytest.approx(s2sad.grad(_scaled_square, wrt="b")(2.0, 3.0))
    with pytest.raises(s2sad.WrtError, match="its parameters: a, b, c"):
        s2sad.grad(_scaled_square, wrt="d")


# --- elementwise_grad -----------------------------------------------------------------------------------
def _sin_times(x):
    return np.sin(x) * x


def test_elementwise_grad_nested_six_deep_over_np_tanh():
    from numpy.polynomial import polynomial as P
    x = np.linspace(-2.5, 2.5, 11)
    d, p = np.tanh, np.array([0.0, 1.0])
    for k in range(1, 7):
        d = s2sad.elementwise_grad(d)
        p = P.polymul([1.0, 0.0, -1.0], P.polyder(p))          # d^k tanh = P_k(tanh), P_{k+1} = (1 - t^2) P_k'
        np.testing.assert_allclose(d(x), P.polyval(np.tanh(x), p), rtol=1e-10, atol=1e-10, err_msg=f"order {k}")


def test_elementwise_grad_of_a_user_function_against_finite_differences_and_grad():
    x = np.array([-1.3, 0.0, 0.4, 2.2])
    first = s2sad.elementwise_grad(_sin_times)
    h = 1e-6
    np.testing.assert_allclose(first(x), (_sin_times(x + h) - _sin_times(x - h)) / (2 * h), rtol=1e-8)
    second = s2sad.elementwise_grad(first)
    np.testing.assert_allclose(second(x), [s2sad.grad(s2sad.grad(_sin_times))(float(v)) for v in x], rtol=1e-12)
    assert type(first(0.3)) is float
    np.testing.assert_allclose(s2sad.grad(first)(0.3), second(np.array([0.3]))[0], rtol=1e-12)


def test_elementwise_grad_with_respect_to_one_argument():
    with pytest.raises(s2sad.WrtError):
        s2sad.elementwise_grad(np.multiply, wrt=(0, 1))
    np.testing.assert_allclose(s2sad.elementwise_grad(np.multiply, wrt=1)(np.array([2.0, 3.0]), np.ones(2)), [2.0, 3.0])


# --- has_aux ----------------------------------------------------------------------------------------------
def _loss_with_metrics(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    loss = -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    return loss, {"accuracy": np.mean((p > 0.5) == (y > 0.5)), "p": p, "n": len(y)}


def _loss_only(w, X, y):
    return _loss_with_metrics(w, X, y)[0]


def test_has_aux_returns_the_aux_and_differentiates_the_scalar_only():
    rng = np.random.default_rng(3)
    w, X, y = rng.normal(size=3), rng.normal(size=(8, 3)), (rng.random(8) > 0.5).astype(float)
    want = s2sad.grad(_loss_only)(w, X, y)
    g, aux = s2sad.grad(_loss_with_metrics, has_aux=True)(w, X, y)
    np.testing.assert_allclose(g, want, rtol=1e-12)
    assert set(aux) == {"accuracy", "p", "n"} and aux["n"] == 8
    (value, aux2), g2 = s2sad.value_and_grad(_loss_with_metrics, has_aux=True)(w, X, y)
    np.testing.assert_allclose(value, _loss_only(w, X, y), rtol=1e-14)
    np.testing.assert_allclose(g2, want, rtol=1e-12)
    np.testing.assert_allclose(aux2["p"], aux["p"])
    value, pullback, aux3 = s2sad.vjp(_loss_with_metrics, w, X, y, has_aux=True)
    np.testing.assert_allclose(pullback(2.0), 2 * want, rtol=1e-12)
    gs, _ = s2sad.grad(_loss_with_metrics, wrt=(0, 1), has_aux=True)(w, X, y)
    np.testing.assert_allclose(gs[1], s2sad.grad(_loss_only, wrt=1)(w, X, y), rtol=1e-12)


def _loss_with_predictions(w):
    pred = w * 2.0
    return np.sum(pred ** 2), pred                # the aux a bare array (was refused: "cotangent[1] has shape ()")


def test_has_aux_may_be_a_bare_array():
    w = np.array([1.0, 2.0])
    g, aux = s2sad.grad(_loss_with_predictions, has_aux=True)(w)
    np.testing.assert_allclose(g, 8.0 * w)
    np.testing.assert_allclose(aux, 2.0 * w)
    (value, aux), g = s2sad.value_and_grad(_loss_with_predictions, has_aux=True)(w)
    assert value == pytest.approx(20.0) and np.allclose(g, 8.0 * w)
    value, pullback, aux = s2sad.vjp(_loss_with_predictions, w, has_aux=True)
    np.testing.assert_allclose(pullback(0.5), 4.0 * w)


def test_has_aux_needs_a_pair_with_a_scalar_first():
    with pytest.raises(s2sad.NonScalarOutputError, match="pair"):
        s2sad.grad(_loss_only, has_aux=True)(np.ones(3), np.ones((2, 3)), np.ones(2))
    with pytest.raises(s2sad.NonScalarOutputError, match="scalar"):
        s2sad.grad(lambda_free_pair, has_aux=True)(np.ones(3))


def lambda_free_pair(x):
    return x * 2.0, 1


# --- flatten / flatten_func ------------------------------------------------------------------------------
def _dict_loss(p, X):
    return np.sum(np.tanh(X @ p["w"] + p["b"]) ** 2) + np.sum(p["layers"][0] ** 3) + p["layers"][1] ** 2


def _params():
    return {"w": np.array([[0.5, -1.0], [0.2, 0.3]]), "b": 0.1, "layers": [np.array([1.0, 2.0]), 0.7]}


def test_flatten_round_trip_keeps_types_shapes_and_order():
    p = _params()
    vector, unflatten = s2sad.flatten(p)
    np.testing.assert_array_equal(vector, [0.5, -1.0, 0.2, 0.3, 0.1, 1.0, 2.0, 0.7])
    back = unflatten(vector)
    assert list(back) == ["w", "b", "layers"] and isinstance(back["layers"], list)
    np.testing.assert_array_equal(back["w"], p["w"])
    assert np.ndim(back["b"]) == 0 and back["layers"][1] == 0.7
    with pytest.raises(ValueError, match="8 values"):
        unflatten(np.ones(7))
    with pytest.raises(TypeError):
        s2sad.flatten({"name": "w"})


def test_flatten_func_gradient_and_hessian_vector_product():
    X = np.array([[1.0, 2.0], [0.5, -1.0], [0.3, 0.2]])
    f_flat, unflatten, x0 = s2sad.flatten_func(_dict_loss, _params())
    assert f_flat(x0, X) == _dict_loss(_params(), X)
    g = s2sad.grad(f_flat)(x0, X)
    np.testing.assert_allclose(g, s2sad.flatten(s2sad.grad(_dict_loss)(_params(), X))[0], rtol=1e-12)
    check_grads(f_flat, (x0, X), order=2)


def test_flatten_func_with_scipy_minimize_over_a_dict_of_parameters():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(5)
    X, w_true = rng.normal(size=(40, 3)), np.array([1.0, -2.0, 0.5])
    y = (X @ w_true + 0.3 > 0).astype(float)

    f_flat, unflatten, x0 = s2sad.flatten_func(_logistic_loss, {"w": np.zeros(3), "b": 0.0})
    result = scipy_optimize.minimize(f_flat, x0, args=(X, y), jac=s2sad.grad(f_flat), hessp=s2sad.hvp(f_flat),
                                     method="trust-ncg")
    fitted = unflatten(result.x)
    assert result.success and set(fitted) == {"w", "b"}
    np.testing.assert_allclose(s2sad.grad(_logistic_loss)(fitted, X, y)["w"], 0.0, atol=1e-5)


def _logistic_loss(p, X, y):
    z = X @ p["w"] + p["b"]
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.01 * np.sum(p["w"] ** 2)


# --- optimizers -------------------------------------------------------------------------------------------
def _quadratic_bowl(p):
    return np.sum((p["w"] - np.array([1.0, -2.0])) ** 2) + 3.0 * (p["b"] - 0.5) ** 2


@pytest.mark.parametrize("name, settings", [("sgd", dict(step_size=0.5, num_iters=400)),
                                            ("momentum", dict(step_size=0.05, num_iters=300)),
                                            ("rmsprop", dict(step_size=0.01, num_iters=800)),
                                            ("adam", dict(step_size=0.05, num_iters=800))])
def test_optimizers_find_the_minimum_of_a_bowl_over_a_dict(name, settings):
    seen = []
    gradient = s2sad.grad(_quadratic_bowl)
    result = getattr(s2sad.optimizers, name)(gradient, {"w": np.zeros(2), "b": 0.0},
                                             callback=lambda p, i, g: seen.append(i), **settings)
    assert set(result) == {"w", "b"} and seen == list(range(settings["num_iters"]))
    np.testing.assert_allclose(result["w"], [1.0, -2.0], atol=2e-2)
    np.testing.assert_allclose(result["b"], 0.5, atol=2e-2)


def test_optimizers_pass_the_iteration_to_a_gradient_that_takes_it():
    calls = []

    def gradient(p, i):
        calls.append(i)
        return {"w": 2 * p["w"]}
    out = s2sad.optimizers.adam(gradient, {"w": np.ones(3)}, num_iters=5)
    assert calls == [0, 1, 2, 3, 4] and out["w"].shape == (3,)


def l2_by_flatten(params):
    flat, _ = s2sad.flatten(params)
    return np.dot(flat, flat)


def test_flatten_inside_differentiated_code():
    """``flat, _ = flatten(params)`` in the loss (Autograd's neural_net example's L2 penalty): the vector is
    differentiated (it was refused: no rule for s2sad.pytrees.flatten)."""
    params = {"W": np.arange(4.0).reshape(2, 2), "b": (1.5, np.array([0.5, -1.0]))}
    g = s2sad.grad(l2_by_flatten)(params)
    np.testing.assert_allclose(g["W"], 2 * params["W"])
    assert g["b"][0] == 3.0 and np.allclose(g["b"][1], [1.0, -2.0])
    tangent = s2sad.jvp(l2_by_flatten, (params,), ({"W": np.ones((2, 2)), "b": (1.0, np.ones(2))},))[1]
    assert tangent == pytest.approx(2 * (6.0 + 1.5 - 0.5))
    check_grads(lambda_free_l2, (np.array([0.3, -1.2, 2.0]),), order=2)


def lambda_free_l2(x):
    return l2_by_flatten([x, x[0] * 2.0])


def first_item_out(x):
    return x[:1] * 2.0 + np.sum(x[1:] ** 2)


def one_by_one_out(x):
    return np.reshape(np.dot(x, x), (1, 1))


def test_grad_of_an_output_with_one_item_is_the_gradient_of_that_item():
    """As Autograd (its bayesian_optimization example returns shape (1,)): one item is a scalar; more are refused."""
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(s2sad.grad(first_item_out)(x), [2.0, 4.0, 6.0])
    value, g = s2sad.value_and_grad(one_by_one_out)(x)
    assert value.shape == (1, 1) and np.allclose(g, 2 * x)
    np.testing.assert_allclose(s2sad.hessian(one_by_one_out)(x), 2 * np.eye(3))
    with pytest.raises(s2sad.NonScalarOutputError, match="shape \\(2,\\)"):
        s2sad.grad(lambda_free_two)(x)


def lambda_free_two(x):
    return x[:2] * 2.0


# --- jacobian / hessian of containers (laid out as JAX lays them out) --------------------------------------------
def _pair_out(x):
    return np.sum(x ** 2), x * 2.0


def _dict_out(x):
    return {"a": np.cumsum(x), "b": np.sum(x)}


def _dict_in(p):
    return np.sum(p["w"] ** 2) * p["b"]


def _dict_in_array_out(p):
    return p["w"] * p["b"]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_containers_has_the_value_structure_over_the_argument_structure(mode):
    x = np.array([1.0, 2.0])
    scalar, array = s2sad.jacobian(_pair_out, mode=mode)(x)       # (were raw NumPy errors)
    np.testing.assert_allclose(scalar, 2 * x)
    np.testing.assert_allclose(array, 2 * np.eye(2))
    named = s2sad.jacobian(_dict_out, mode=mode)(x)
    np.testing.assert_allclose(named["a"], [[1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(named["b"], [1.0, 1.0])
    p = {"w": np.array([1.0, 2.0]), "b": 0.5}
    J = s2sad.jacobian(_dict_in_array_out, mode=mode)(p)
    np.testing.assert_allclose(J["w"], 0.5 * np.eye(2))
    np.testing.assert_allclose(J["b"], p["w"])
    assert J["w"].shape == (2, 2) and J["b"].shape == (2,)


def test_hessian_of_a_dict_argument():
    p = {"w": np.array([1.0, 2.0]), "b": 0.5}
    H = s2sad.hessian(_dict_in)(p)
    np.testing.assert_allclose(H["w"]["w"], 2 * p["b"] * np.eye(2))
    np.testing.assert_allclose(H["w"]["b"], 2 * p["w"])
    np.testing.assert_allclose(H["b"]["w"], 2 * p["w"])
    np.testing.assert_allclose(H["b"]["b"], 0.0)


@dataclasses.dataclass
class _Params:
    w: np.ndarray
    b: float
    n: int = 2                                   # a setting: no derivative, left out of the blocks


def _record_loss(p, x):
    return np.sum(np.tanh(p.w * x + p.b) ** 2)


def _record_residual(p, x):
    return np.tanh(p.w * x + p.b)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_and_hessian_with_respect_to_a_record(mode):
    """Were errors ("no attribute 'number'", "float() argument ... not '_Params'"): a record's fields laid out
    like a dict's items, blocks shaped leaf + field."""
    p, x = _Params(np.array([0.5, -1.0]), 0.3), np.array([1.1, 0.5])
    J = s2sad.jacobian(_record_residual, mode=mode)(p, x)
    s = 1.0 - np.tanh(p.w * x + p.b) ** 2
    np.testing.assert_allclose(J.w, np.diag(s * x), rtol=1e-12)
    np.testing.assert_allclose(J.b, s, rtol=1e-12)
    H = s2sad.hessian(_record_loss)(p, x)
    eps = 1e-6

    def grad_at(dw, db):
        g = s2sad.grad(_record_loss)(_Params(p.w + dw, p.b + db), x)
        return np.concatenate([g.w, [g.b]])
    columns = [(grad_at(eps * e, 0.0) - grad_at(-eps * e, 0.0)) / (2 * eps) for e in np.eye(2)]
    columns.append((grad_at(np.zeros(2), eps) - grad_at(np.zeros(2), -eps)) / (2 * eps))
    numeric = np.stack(columns, axis=1)
    np.testing.assert_allclose(H.w.w, numeric[:2, :2], atol=1e-7)
    np.testing.assert_allclose(H.w.b, numeric[:2, 2], atol=1e-7)
    np.testing.assert_allclose(H.b.w, numeric[2, :2], atol=1e-7)
    np.testing.assert_allclose(H.b.b, numeric[2, 2], atol=1e-7)


def _sum_of_two(a, b):
    return np.sum(a + b)


def _quadratic_loss(w, X, y):
    return np.sum((X @ w - y) ** 2)


def test_gradients_of_several_arguments_are_distinct_arrays():
    """``a + b``'s adjoints are one array in the generated code: the gradients returned are distinct arrays,
    so that a change in place of one (``g *= lr``) leaves the other alone (both paths: first call and cached)."""
    a, b = np.ones(3), np.arange(3.0)
    for _ in range(3):
        ga, gb = s2sad.grad(_sum_of_two, wrt=(0, 1))(a, b)
        assert not np.shares_memory(ga, gb)
        ga *= 0.0
        assert np.array_equal(gb, np.ones(3))


def test_a_pullback_keeps_the_point_it_was_made_at():
    """The differentiated arguments changed in place after ``vjp`` (an optimizer's ``w -= lr * g``): the pullback
    still gives the gradient at the point it was made at (it read them live, mixing the two points). The data
    (not differentiated, possibly large) is not copied: documented in ``vjp``."""
    X, y, w = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([0.5, 1.0]), np.array([0.1, 0.2])
    _, pullback = s2sad.vjp(_quadratic_loss, w, X, y)
    first = pullback(1.0).copy()
    w -= 0.1 * first
    np.testing.assert_array_equal(pullback(1.0), first)


def _weighted_square(x, m):
    return np.sum(x * m * x)


def test_array_subclasses_with_their_own_operations_are_refused():
    """np.matrix (`*` a matrix product) and masked arrays (sums skip masked items) gave an elementwise array's
    derivative silently; a memory map is an array."""
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(s2sad.WrtError, match="numpy.matrix"):
        s2sad.grad(_weighted_square)(np.matrix(x), x)
    masked = np.ma.array(x, mask=[[False, True], [False, False]])
    with pytest.raises(s2sad.WrtError, match="MaskedArray"):
        s2sad.grad(_weighted_square)(x, masked)
    with pytest.raises(s2sad.WrtError, match="MaskedArray"):
        s2sad.grad(lambda p: _weighted_square(p["x"], 2.0))({"x": masked})
    with pytest.raises(s2sad.WrtError, match="numpy.matrix"):
        s2sad.jvp(_weighted_square, (x, np.matrix(x)), (x, None))


def _mixed(x, y):
    return np.sum(x ** 2 * y) + np.sum(np.sin(x * y))


def test_hessian_and_jacobian_of_an_argument_passed_by_keyword():
    """`hessian(f, wrt="y")(x, y=y)`: y is argument 1 (an IndexError, found by a probe); grad accepted it."""
    x, y = np.array([0.3, -0.7, 1.1]), np.array([0.5, 1.5, -0.4])
    np.testing.assert_allclose(s2sad.hessian(_mixed, wrt="y")(x, y=y), np.diag(-x * x * np.sin(x * y)), atol=1e-14)
    np.testing.assert_allclose(s2sad.jacobian(_mixed, wrt=1)(x, y=y), x ** 2 + x * np.cos(x * y), rtol=1e-13)
    np.testing.assert_allclose(s2sad.jacobian(_mixed, wrt=1)(y=y, x=x), x ** 2 + x * np.cos(x * y), rtol=1e-13)
    with pytest.raises(s2sad.WrtError, match="wrt=2 names no argument passed by position"):
        s2sad.jacobian(_mixed, wrt=2)(x, y)


def _loss_and_data(a):
    return np.sum(a ** 2), a


def _loss_in_a_dict(a):
    return {"s": np.sum(a ** 3)}


def test_a_pair_or_a_dict_returned_to_grad_is_a_clear_error():
    """A forgotten has_aux=True: NumPy's ValueError (an inhomogeneous array) or a TypeError from inside s2sad."""
    x = np.array([0.3, -0.7, 1.1])
    for make in (s2sad.grad, s2sad.value_and_grad, s2sad.hessian):
        with pytest.raises(s2sad.NonScalarOutputError, match="has_aux=True"):
            make(_loss_and_data)(x)
        with pytest.raises(s2sad.NonScalarOutputError, match="type dict"):
            make(_loss_in_a_dict)(x)
    with pytest.raises(s2sad.NonScalarOutputError, match="has_aux=True"):
        s2sad.hvp(_loss_and_data)(x, x)


@dataclasses.dataclass
class _Spring:
    k: np.ndarray
    rest: float


def test_flatten_names_a_record_it_is_given():
    """A dataclass inside flatten's container: a clear TypeError (NumPy's `float()` message before)."""
    with pytest.raises(TypeError, match="not a _Spring object"):
        s2sad.flatten([_Spring(np.ones(2), 0.5), {"a": 1.0}])


def test_flatten_keeps_every_leafs_precision():
    """A float32 leaf first made the whole vector float32 (a float64 leaf's 1 + 1e-9 came back 1.0)."""
    vector, unflatten = s2sad.flatten([np.ones(2, dtype=np.float32), np.array([1.0 + 1e-9])])
    assert vector.dtype == np.float64 and unflatten(vector)[1][0] == 1.0 + 1e-9


def _sines(x):
    return np.sin(x) * 2.0 + np.cos(x)


def test_a_list_cotangent_for_an_array_result():
    """pullback([1.0, -2.0, 0.5]) for an array result: computed as the array (a TypeError from `-ct` before); a
    list for a number is refused."""
    x = np.array([0.1, 0.2, 0.3])
    _, pullback = s2sad.vjp(_sines, x)
    ct = [1.0, -2.0, 0.5]
    np.testing.assert_allclose(pullback(ct), np.array(ct) * (2 * np.cos(x) - np.sin(x)), rtol=1e-14)
    _, pullback = s2sad.vjp(lambda v: np.sum(_sines(v)), x)
    with pytest.raises(ValueError, match="should be a number"):
        pullback([2.0])


def test_adjoint_source_of_a_derivative_names_the_function_to_pass():
    """show_adjoint(s2sad.grad(f)) tried to read s2sad's own wrapper (a try/except refusal in api.py)."""
    with pytest.raises(s2sad.WrtError, match="takes the function itself: adjoint_source\\(_sines\\)"):
        s2sad.adjoint_source(s2sad.grad(_sines))
    with pytest.raises(s2sad.WrtError, match="takes the function itself"):
        s2sad.show_adjoint(s2sad.hessian(_sines), mode="forward")


def test_sixteenth_session_api_crashes_are_answers_or_clear_errors():
    """Found by a probe: elementwise_grad with respect to a number of a function returning an array (a TypeError
    in runtime.like), a pullback given a tuple for a dict's cotangent (a TypeError in tree.part), float32
    Jacobians and Hessians made float64, check_grads(order=2) of a container argument (a NumPy ValueError),
    lstsq's residuals' tangent shaped () for a 1-d right-hand side (an IndexError at res[0])."""
    from collections import namedtuple
    from s2sad.testing import check_grads
    x = np.array([0.3, -0.7, 1.2])
    got = s2sad.elementwise_grad(lambda x, a: np.tanh(a * x), 1)(x, 0.8)
    assert np.allclose(got, x * (1 - np.tanh(0.8 * x) ** 2))
    _, pullback = s2sad.vjp(lambda x: {"o": x * 2, "s": np.sum(x)}, x)
    with pytest.raises(ValueError, match="is a tuple but should be a dict"):
        pullback((np.ones(3), 1.0))
    x32 = x.astype(np.float32)
    assert s2sad.hessian(lambda x: np.sum(np.tanh(x) * x ** 2))(x32).dtype == np.float32
    assert s2sad.jacobian(np.sin)(x32).dtype == np.float32
    assert s2sad.jacobian(np.sin, mode="forward")(x32).dtype == np.float32
    P = namedtuple("P", "w b")
    p = P(w=np.array([[0.1, 0.2, 0.3], [0.4, -0.5, 0.6]]), b=np.array([1.0, -2.0]))
    check_grads(lambda p, x: np.sum(np.tanh(p.w @ x) * p.b), (p, x), wrt=0, order=2)
    A = np.array([[1.0, 0.5], [0.2, 1.5], [0.3, -0.4]])
    b = np.array([0.7, -0.2, 1.1])

    def residual(b):
        return np.linalg.lstsq(A, b, rcond=None)[1][0]
    t = np.array([0.1, 0.3, -0.2])
    assert np.isclose(s2sad.jvp(residual, (b,), (t,))[1], np.dot(s2sad.grad(residual)(b), t))


def test_a_complex_tangent_or_cotangent_for_a_real_value_is_an_error_not_its_real_part():
    x = np.array([0.3, -0.7])
    with pytest.raises(ValueError, match="tangent of argument 0 is complex"):
        s2sad.jvp(vector_out, (x,), (1j * np.ones(2),))
    _, pullback = s2sad.vjp(vector_out, x)
    with pytest.raises(ValueError, match="cotangent is complex"):
        pullback(np.array([1.0 + 2.0j, 0.0]))
