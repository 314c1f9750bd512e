"""Derivatives of derivatives, Jacobians, Hessians, user rules, stop_gradient, checkpoint, fixed_point.

Every result is checked against finite differences and an independent route (closed forms,
forward against reverse, Hessian symmetry, hvp against hessian @ v).
"""
import dataclasses
import math
import types
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.special

import s2sad
from s2sad import rules
from s2sad.testing import check_grads, numerical_grad

EPS = 1e-6


def central(f, x, eps=EPS):
    """Central differences of f (number or array valued) at x (number or array): shape out + in."""
    if isinstance(x, float):
        return (np.asarray(f(x + eps)) - np.asarray(f(x - eps))) / (2 * eps)
    cols = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        e = e.reshape(x.shape)
        cols.append((np.asarray(f(x + e), dtype=float) - np.asarray(f(x - e), dtype=float)) / (2 * eps))
    return np.stack(cols, axis=-1).reshape(np.shape(f(x)) + x.shape)


# --- scalar functions to third order ----------------------------------------------------------
def x_tanh(x):
    return math.tanh(x) * x


def poly_exp(x):
    return x ** 3 * math.exp(-x) + 2.0 * x


@pytest.mark.parametrize("x", [-1.1, 0.3, 0.7, 2.0])
def test_third_order_x_tanh_closed_form(x):
    t = math.tanh(x)
    s = 1 - t * t
    d1 = t + x * s
    d2 = 2 * s - 2 * x * t * s
    d3 = -6 * t * s - 2 * x * s * s + 4 * x * t * t * s
    g1 = s2sad.grad(x_tanh)
    g2 = s2sad.grad(g1)
    g3 = s2sad.grad(g2)
    assert g1(x) == pytest.approx(d1, rel=1e-12)
    assert g2(x) == pytest.approx(d2, rel=1e-12)
    assert g3(x) == pytest.approx(d3, rel=1e-11, abs=1e-13)
    assert g3(x) == pytest.approx(central(g2, x), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("x", [0.4, 1.5])
def test_third_order_every_route_agrees(x):
    """grad∘grad∘grad, jvp of grad∘grad, jvp of jvp of grad: one number."""
    g2 = s2sad.grad(s2sad.grad(poly_exp))
    third = s2sad.grad(g2)(x)
    assert s2sad.jvp(g2, (x,), (1.0,))[1] == pytest.approx(third, rel=1e-12)
    # d3/dx3 (x^3 e^-x) = e^-x (-x^3 + 9x^2 - 18x + 6)
    assert third == pytest.approx(math.exp(-x) * (-x ** 3 + 9 * x ** 2 - 18 * x + 6), rel=1e-11)


def poly_exp_slope(x):
    value, slope = s2sad.jvp(poly_exp, (x,), (1.0,))
    return slope


def poly_exp_grad_call(x):
    return s2sad.grad(poly_exp)(x) * 1.0


@pytest.mark.parametrize("x", [0.4, 1.5])
def test_grad_of_jvp_and_of_a_grad_call(x):
    second = math.exp(-x) * (x ** 3 - 6 * x ** 2 + 6 * x)
    assert s2sad.grad(poly_exp_slope)(x) == pytest.approx(second, rel=1e-12)
    assert s2sad.grad(poly_exp_grad_call)(x) == pytest.approx(second, rel=1e-12)
    assert s2sad.jvp(poly_exp_slope, (x,), (1.0,))[1] == pytest.approx(second, rel=1e-12)


# --- Hessians through loops, branches, calls, closures, recursion ---------------------------------
def helper(a, b):
    return a * np.sin(b)


def loops_branches_calls(x, W):
    s = 0.0
    h = x
    for i in range(3):
        h = np.tanh(W @ h) + helper(h, x * (i + 1))
        if np.sum(h) > 0.0:
            s = s + np.sum(h ** 2)
        else:
            s = s - np.sum(np.sin(h))
    k = 0
    while s > 10.0 and k < 5:
        s = s * 0.5
        k += 1
    return s


def with_closure(x, y):
    def inner(z):
        return z * y + np.sin(z)
    return np.sum(inner(x) * inner(2.0 * x))


def rec(x, n):
    if n == 0:
        return x
    return np.sin(rec(x, n - 1)) * x


def recursive(x):
    return np.sum(rec(x, 3))


XP = np.array([0.0, 1.0, 2.0, 3.0])


def interpolated(v):                     # np.interp along x, fp and the sample points xp
    at = np.interp(v[:3] * 1.1, XP, v[3:7] ** 2)
    moved = np.interp(np.array([1.5, 2.9, 3.7]), np.cumsum(np.exp(v[:4])), np.array([1.0, 3.0, 2.0, 5.0]))
    return np.sum(at ** 2) + np.sum(moved ** 2)


def polynomial(v):
    return np.sum(np.polyval(v[:3], v[3:]) ** 2)


def quadrature(v):                       # np.trapezoid along y, the sample points x and the step dx
    along_x = np.trapezoid(np.sin(v[:4]) ** 2, np.cumsum(np.exp(v[3:])))
    return along_x ** 2 + np.trapezoid(v[:4] ** 2, dx=v[4]) ** 2


def gridded(v):
    X, Y = np.meshgrid(v[:3], v[3:] ** 2)
    A, B, C = np.meshgrid(v[:2], v[2:4], v[4:], indexing="ij", sparse=True)
    return np.sum(np.sin(X * Y)) + np.sum((A + B * C) ** 2) + np.sum(np.append(v[:2], np.sin(v[2:])) ** 3)


def powers_and_remainders(v):
    return (pow(v[0], 3.0) * pow(2.0, v[1]) + pow(v[2], v[3]) + math.fmod(v[0] * 3.0, 1.3) * v[1]
            + np.sum(np.fmod(v[2:] * 5, 0.7) ** 2))


def seven_in_range(rng):
    return (rng.uniform(0.3, 1.2, 7),)


CASES = {
    "interp": (interpolated, seven_in_range),
    "polyval": (polynomial, seven_in_range),
    "trapezoid": (quadrature, seven_in_range),
    "meshgrid_append": (gridded, seven_in_range),
    "pow_fmod": (powers_and_remainders, seven_in_range),
    "loops_branches_calls": (loops_branches_calls, lambda rng: (rng.normal(size=3), rng.normal(size=(3, 3)) / 2)),
    "closure": (with_closure, lambda rng: (rng.normal(size=4), rng.normal(size=4))),
    "recursion": (recursive, lambda rng: (rng.normal(size=3),)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hessian_matches_differences_of_the_gradient(name):
    f, make = CASES[name]
    args = make(np.random.default_rng(1))
    H = s2sad.hessian(f)(*args)
    gradient = s2sad.grad(f)
    numeric = central(lambda x: gradient(x, *args[1:]), args[0])
    np.testing.assert_allclose(H, numeric, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    v = np.random.default_rng(2).normal(size=args[0].shape)
    np.testing.assert_allclose(s2sad.hvp(f)(args[0], v, *args[1:]), H @ v, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_grads_to_second_order(name):
    f, make = CASES[name]
    check_grads(f, make(np.random.default_rng(3)), order=2)


def logistic(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def test_logistic_regression_hessian_closed_form():
    rng = np.random.default_rng(4)
    X, y, w = rng.normal(size=(30, 4)), (rng.random(30) > 0.5).astype(float), rng.normal(size=4)
    p = 1 / (1 + np.exp(-X @ w))
    expected = X.T @ (X * (p * (1 - p))[:, None]) / len(y)
    np.testing.assert_allclose(s2sad.hessian(logistic)(w, X, y), expected, rtol=1e-10, atol=1e-13)


# --- Jacobians -----------------------------------------------------------------------------------------
def vector_map(x, A):
    y = np.tanh(A @ x)
    return y * x[0] + np.sum(x ** 2)


def scalar_to_vector(t):
    return np.array([np.sin(t), t * t, np.exp(t)])


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_both_modes(mode):
    rng = np.random.default_rng(5)
    x, A = rng.normal(size=4), rng.normal(size=(3, 4))
    J = s2sad.jacobian(vector_map, mode=mode)(x, A)
    assert J.shape == (3, 4)
    np.testing.assert_allclose(J, central(lambda z: vector_map(z, A), x), rtol=1e-6, atol=1e-8)
    other = s2sad.jacobian(vector_map, mode="forward" if mode == "reverse" else "reverse")(x, A)
    np.testing.assert_allclose(J, other, rtol=1e-12, atol=1e-14)
    dA = s2sad.jacobian(vector_map, wrt=1, mode=mode)(x, A)
    assert dA.shape == (3, 3, 4)
    np.testing.assert_allclose(dA, central(lambda B: vector_map(x, B), A), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_a_scalar_argument_and_a_tuple_wrt(mode):
    J = s2sad.jacobian(scalar_to_vector, mode=mode)(0.4)
    np.testing.assert_allclose(J, [np.cos(0.4), 0.8, np.exp(0.4)], rtol=1e-12)
    rng = np.random.default_rng(6)
    x, A = rng.normal(size=4), rng.normal(size=(3, 4))
    Jx, JA = s2sad.jacobian(vector_map, wrt=(0, 1), mode=mode)(x, A)
    np.testing.assert_allclose(Jx, s2sad.jacobian(vector_map)(x, A), rtol=1e-12)
    assert JA.shape == (3, 3, 4)


def test_jacobian_mode_is_checked():
    with pytest.raises(ValueError, match="mode"):
        s2sad.jacobian(vector_map, mode="sideways")


# --- user rules -------------------------------------------------------------------------------------
namespace = {}
exec("def opaque_cube(x):\n    return x * x * x\n", namespace)      # a function s2sad cannot read
opaque_cube = namespace["opaque_cube"]
exec("def opaque_square(x):\n    return x * x\n", namespace)
opaque_square = namespace["opaque_square"]


@rules.vjp(opaque_cube)
def opaque_cube_vjp(g, ans, x): return g * 3.0 * x * x
@rules.jvp(opaque_cube)
def opaque_cube_jvp(g, ans, x): return g * 3.0 * x * x


def uses_cube(x):
    return opaque_cube(np.sin(x)) + x


def uses_square(x):
    return opaque_square(x) + x


def test_user_rules_in_both_modes_and_to_second_order():
    x = 0.8
    s, c = math.sin(x), math.cos(x)
    assert s2sad.grad(uses_cube)(x) == pytest.approx(3 * s * s * c + 1, rel=1e-12)
    assert s2sad.jvp(uses_cube, (x,), (1.0,))[1] == pytest.approx(3 * s * s * c + 1, rel=1e-12)
    second = 6 * s * c * c - 3 * s ** 3
    assert s2sad.grad(s2sad.grad(uses_cube))(x) == pytest.approx(second, rel=1e-11)
    assert s2sad.hessian(uses_cube)(x) == pytest.approx(second, rel=1e-11)


@rules.elementwise(scipy.special.dawsn)       # a ufunc: its out=, where=, ... defaults are no arguments of the rule
def dawsn_rule(g, ans, x): return g * (1.0 - 2.0 * x * ans)


def uses_dawsn(x):
    return np.sum(scipy.special.dawsn(x) * x)


def test_a_user_rule_for_a_ufunc_takes_its_arguments_only():
    x = np.array([0.3, 1.5])
    d = scipy.special.dawsn(x)
    np.testing.assert_allclose(s2sad.grad(uses_dawsn)(x), d + x * (1.0 - 2.0 * x * d), rtol=1e-12)


exec("def opaque_scale(x):\n    return 2.0 * x\n", namespace)
opaque_scale = namespace["opaque_scale"]


@rules.vjp(opaque_scale)
def opaque_scale_vjp(g, ans, x): return np.sum(g * 2.0)          # a mistake: summed, not shaped like x
@rules.jvp(opaque_scale)
def opaque_scale_jvp(g, ans, x): return np.sum(g * 2.0)


def uses_scale(x):
    return np.sum(opaque_scale(x) * x)


def test_a_user_rule_giving_another_shape_is_an_error_not_a_broadcast():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(s2sad.TransformError, match=r"opaque_scale_vjp .* shape \(\) for `x`, of shape \(3,\)"):
        s2sad.grad(uses_scale)(x)
    with pytest.raises(s2sad.TransformError, match=r"opaque_scale_jvp .* shape \(\) for the result, of shape \(3,\)"):
        s2sad.jvp(uses_scale, (x,), (np.ones(3),))
    assert s2sad.grad(uses_scale)(np.float64(1.5)) == pytest.approx(6.0)     # a number: shapes agree


def test_a_function_with_neither_source_nor_rule_is_an_error():
    with pytest.raises(s2sad.SourceUnavailableError, match="opaque_square"):
        s2sad.grad(uses_square)(0.5)
    with pytest.raises(s2sad.SourceUnavailableError, match="opaque_square"):
        s2sad.jvp(uses_square, (0.5,), (1.0,))


def reverse_only_rule_user(x):
    return only_reverse(x) * 2.0


def forward_only_rule_user(x):
    return only_forward(x) * 2.0


def only_reverse(x):
    return x * x


def only_forward(x):
    return x * x




@rules.vjp(only_reverse)
def only_reverse_vjp(g, ans, x): return g * 2.0 * x
@rules.jvp(only_forward)
def only_forward_jvp(g, ans, x): return g * 2.0 * x


def test_a_registered_rule_is_never_bypassed():
    """A function with a rule in one mode only: the other mode says so instead of reading its source."""
    assert s2sad.grad(reverse_only_rule_user)(1.5) == pytest.approx(6.0)
    with pytest.raises(s2sad.NoRuleError, match="no forward rule"):
        s2sad.jvp(reverse_only_rule_user, (1.5,), (1.0,))
    assert s2sad.jvp(forward_only_rule_user, (1.5,), (1.0,))[1] == pytest.approx(6.0)
    with pytest.raises(s2sad.NoRuleError, match="no reverse rule"):
        s2sad.grad(forward_only_rule_user)(1.5)


# --- stop_gradient, checkpoint, fixed_point, the zero-gradient warning ------------------------------
def stopped(x, y):
    return np.sum(x * s2sad.stop_gradient(x * 3.0)) + y


def test_stop_gradient_both_modes():
    x = np.array([1.0, -2.0])
    np.testing.assert_allclose(s2sad.grad(stopped)(x, 1.0), 3.0 * x)
    v = np.array([0.5, 1.0])
    assert s2sad.jvp(stopped, (x, 1.0), (v, None))[1] == pytest.approx(np.dot(3.0 * x, v))


def block(x, W):
    h = np.tanh(W @ x)
    h = np.tanh(W @ h)
    return np.tanh(W @ h)


checkpointed_block = s2sad.checkpoint(block)


def deep(x, W):
    for _ in range(4):
        x = block(x, W)
    return np.sum(x ** 2)


def deep_checkpointed(x, W):
    for _ in range(4):
        x = checkpointed_block(x, W)
    return np.sum(x ** 2)


def stored_bytes(pullback, skip):
    """Bytes of the arrays a pullback keeps alive (closures walked recursively), inputs not counted (the
    pullback's own copies of them, its ``args``, neither)."""
    seen, total = {id(s) for s in skip}, 0
    cells = dict(zip(pullback.__code__.co_freevars, pullback.__closure__ or ()))
    if "args" in cells:
        seen |= {id(a) for a in cells["args"].cell_contents}
    stack = [pullback]
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            total += o.nbytes
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
        elif isinstance(o, types.FunctionType):
            for cell in o.__closure__ or ():
                try:
                    stack.append(cell.cell_contents)
                except ValueError:
                    pass
    return total


def test_checkpoint_recomputes_instead_of_storing():
    rng = np.random.default_rng(7)
    x, W = rng.normal(size=40), rng.normal(size=(40, 40)) / 6
    plain = s2sad.grad(deep, wrt=(0, 1))(x, W)
    again = s2sad.grad(deep_checkpointed, wrt=(0, 1))(x, W)
    for a, b in zip(plain, again):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    check_grads(deep_checkpointed, (x, W), wrt=0)
    kept_plain = stored_bytes(s2sad.vjp(deep, x, W, wrt=(0, 1))[1], (x, W))
    kept_checkpointed = stored_bytes(s2sad.vjp(deep_checkpointed, x, W, wrt=(0, 1))[1], (x, W))
    assert kept_checkpointed * 2 < kept_plain, (kept_checkpointed, kept_plain)
    text = s2sad.adjoint_source(deep_checkpointed, wrt=(0, 1), kind="vjp")
    assert "checkpoint_rerun(block_vjp" in text.split("def deep_checkpointed_backward")[1]   # run again backward


def contraction(a, x):
    return 0.5 * np.cos(x) + a


def solved(a):
    x = s2sad.fixed_point(contraction, a, np.zeros_like(a))
    return np.sum(x ** 2)


def test_fixed_point_by_the_implicit_function_theorem():
    a = np.array([0.1, 0.3, -0.2])
    g = s2sad.grad(solved)(a)
    np.testing.assert_allclose(g, central(solved, a), rtol=1e-6, atol=1e-8)
    x = s2sad.fixed_point(contraction, a, np.zeros_like(a))
    # closed form: dx/da = 1 / (1 + 0.5 sin x), elementwise
    np.testing.assert_allclose(g, 2 * x / (1 + 0.5 * np.sin(x)), rtol=1e-8)
    v = np.array([1.0, 2.0, -1.0])
    assert s2sad.jvp(solved, (a,), (v,))[1] == pytest.approx(np.dot(g, v), rel=1e-8)
    assert "fixed_point_adjoint" in s2sad.adjoint_source(solved)        # no unrolled iterations


def test_fixed_point_of_float32_values():
    """float32 parameters: the adjoint iteration stalled a few units of float32 precision short of the default
    tol=1e-10 and was reported as not converging (a probe): a tolerance below the values' precision is raised to it."""
    a = np.array([0.1, 0.3, -0.2])
    g32 = s2sad.grad(solved)(a.astype(np.float32))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, s2sad.grad(solved)(a), rtol=2e-6)
    assert s2sad.jvp(solved, (a.astype(np.float32),), (np.ones(3, np.float32),))[1] == pytest.approx(g32.sum(), rel=2e-6)


def diverging(a, x):
    return 2.0 * x + a


def test_fixed_point_that_does_not_converge_says_so():
    with pytest.raises(s2sad.FixedPointError, match="did not converge"):
        s2sad.fixed_point(diverging, 1.0, 0.0, max_iter=50)


def ignores_y(x, y):
    return x * 2.0


def test_warning_when_the_output_does_not_depend_on_a_wrt_argument():
    with pytest.warns(s2sad.ZeroGradientWarning, match="does not depend on its argument `y`") as caught:
        assert s2sad.grad(ignores_y, wrt=1)(1.0, 3.0) == 0.0
    assert caught[0].filename == __file__                 # the warning points at the user's call, not at s2sad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s2sad.grad(ignores_y, wrt=0)(1.0, 3.0)


# --- the tangent code itself -------------------------------------------------------------------------
def test_show_adjoint_forward_mode(capsys):
    s2sad.show_adjoint(x_tanh, mode="forward", args=(0.5,))
    text = capsys.readouterr().out
    assert text.startswith("def x_tanh_jvp(x_dot, x):")
    assert "x_dot * (1.0 - _t1 * _t1)" in text
    assert "_s2." not in text                                         # plain float arithmetic
    assert "# line" in text


# --- second derivatives through the non-linear adjoint helpers (rules/helpers.py) -----------------------
def std_of_squares(x):
    return np.std(x * x, axis=0, ddof=1).sum()


def det_of_gram(a):
    return np.linalg.det(a @ a.T + np.eye(3))


def logdet_of_gram(a):
    return np.linalg.slogdet(a @ a.T + np.eye(3))[1]


def inner_squared(x, y):
    return np.sum(np.inner(x * x, y) ** 2)


def tensordot_squared(x, y):
    return np.sum(np.tensordot(x * x, y, 1) ** 2)


def einsum_squared(x, y):
    return np.sum(np.einsum("ij,jk->ik", np.sin(x), y) ** 2)


def norms_mixed(x, y):
    return np.linalg.norm(x * y) ** 3 + np.linalg.norm(np.sin(x[0]), 1) * np.linalg.norm(y, "fro") \
        + np.sum(np.linalg.norm(x * x, axis=1, keepdims=True) * y)


def products(x, y):
    return np.prod(x) ** 2 + np.sum(np.prod(np.sin(x) * y, axis=1) * y[:, 0]) + np.sum(np.prod(x, axis=(0,)))


SECOND_ORDER = [(products, [(2, 3), (2, 3)]), (norms_mixed, [(2, 3), (2, 3)]), (std_of_squares, [(4, 3)]), (det_of_gram, [(3, 3)]),
                (logdet_of_gram, [(3, 3)]),
                (inner_squared, [(2, 3), (4, 3)]), (tensordot_squared, [(2, 3), (3, 4)]),
                (einsum_squared, [(2, 3), (3, 4)])]


@pytest.mark.parametrize("f, shapes", SECOND_ORDER, ids=[f.__name__ for f, _ in SECOND_ORDER])
def test_second_order_through_helpers_that_are_not_linear(f, shapes):
    rng = np.random.default_rng(8)
    args = tuple(rng.normal(size=s) for s in shapes)
    for i in range(len(args)):
        check_grads(f, args, wrt=i, order=2)


def rnn_like(Wh, Wx, xs):
    h = np.zeros(3)
    predictions = []
    for x in xs:
        h = np.tanh(Wx @ x + Wh @ h)
        predictions.append(np.sum(h))
    total = 0.0
    for p in predictions:
        total = total + p * p
    return total


def test_hessian_through_a_list_built_in_a_loop():
    """The gradient's code pops the list it rebuilds (``predictions.pop()``): forward mode follows."""
    rng = np.random.default_rng(9)
    args = (rng.normal(size=(3, 3)) / 2, rng.normal(size=(3, 2)), rng.normal(size=(4, 2)))
    check_grads(rnn_like, args, order=2)


def _scaled_rosenbrock(x, c):
    return np.sum(c * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_scipy_minimize_pairing_with_args_is_correct():
    """scipy calls ``jac(x, *args)`` and ``hessp(x, p, *args)``: the README's pairing must be right
    with ``args=`` (the vector goes right after the argument it multiplies)."""
    scipy_optimize = pytest.importorskip("scipy.optimize")
    x = np.array([-1.2, 1.0, 0.7, 1.4])
    c = 50.0
    p = np.array([0.3, -0.2, 0.5, 0.1])
    hessp = s2sad.hvp(_scaled_rosenbrock)
    H = s2sad.hessian(_scaled_rosenbrock)(x, c)
    np.testing.assert_allclose(hessp(x, p, c), H @ p, rtol=1e-10)
    numeric = central(lambda y: s2sad.grad(_scaled_rosenbrock)(y, c), x) @ p
    np.testing.assert_allclose(hessp(x, p, c), numeric, rtol=1e-6)
    x0 = np.array([1.3, 0.7, 0.8, 1.9])
    result = scipy_optimize.minimize(_scaled_rosenbrock, x0, args=(c,), method="Newton-CG",
                                     jac=s2sad.grad(_scaled_rosenbrock), hessp=hessp, options={"xtol": 1e-10})
    np.testing.assert_allclose(result.x, np.ones(4), atol=1e-6)


def test_hvp_refuses_a_vector_of_the_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        s2sad.hvp(_scaled_rosenbrock)(np.ones(4), np.ones(3), 2.0)


def test_readme_scipy_recipe_with_args_runs_and_is_right():
    """The README's `minimize(..., args=(X, y), jac=s2sad.grad(loss), hessp=s2sad.hvp(loss))` block, run as
    written: scipy passes the extra arguments after the vector, and the answer is the true minimum."""
    pytest.importorskip("scipy.optimize")
    import pathlib
    import re as _re
    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = [b for b in _re.findall(r"```python\n(.*?)```", readme, _re.S)
              if "minimize(" in b and "args=" in b and "flatten_func" not in b]     # (flatten: tests/test_api.py)
    assert len(blocks) == 1, "the README shows one scipy recipe with args="
    from examples.quickstart import loss
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 3))
    p = 1.0 / (1.0 + np.exp(-(X @ np.array([1.0, -2.0, 0.5]))))
    y = (rng.random(200) < p).astype(float)                       # labels drawn: not separable
    scope = {"s2sad": s2sad, "loss": loss, "w0": np.zeros(3), "X": X, "y": y}
    exec(blocks[0], scope)                          # noqa: S102 -- the README's own code
    result = scope["result"]
    assert result.success, result.message
    w = result.x
    gradient = central(lambda v: loss(v, X, y), w)
    np.testing.assert_allclose(gradient, 0.0, atol=1e-6)          # a stationary point, by differences
    v = np.array([0.3, -0.2, 0.5])
    hv = central(lambda u: s2sad.grad(loss)(u, X, y), w) @ v
    np.testing.assert_allclose(s2sad.hvp(loss)(w, v, X, y), hv, rtol=1e-6)


def test_hessian_through_norm_against_the_closed_form():
    """f = |x|^3: H = 3 (|x| I + x x^T / |x|), forward-over-reverse and reverse-over-forward alike."""
    x = np.array([0.3, -0.8, 1.1])
    f = lambda v: np.linalg.norm(v) ** 3            # noqa: E731
    r = np.linalg.norm(x)
    np.testing.assert_allclose(s2sad.hessian(f)(x), 3 * (r * np.eye(3) + np.outer(x, x) / r), rtol=1e-12)
    np.testing.assert_allclose(s2sad.hvp(f)(x, x), 3 * (r * x + x * r), rtol=1e-12)
    # max |v|^2 is v[2]^2 near x: its Hessian is 2 at (2, 2), 0 elsewhere
    np.testing.assert_allclose(s2sad.hvp(lambda v: np.linalg.norm(v, np.inf) ** 2)(x, x), [0.0, 0.0, 2 * 1.1], rtol=1e-12)


def test_hessian_of_a_product_with_a_zero_element():
    """prod(x) * x[0] with x[0] = 0: d2/dx0^2 = 2 x1 x2 x3 and every other entry of row 0 is 0 (no division
    by the zero element), against the hand-derived Hessian."""
    x = np.array([0.0, -0.8, 1.1, 0.5])
    H = s2sad.hessian(lambda v: np.prod(v) * v[0])(x)
    want = np.zeros((4, 4))
    want[0, 0] = 2 * x[1] * x[2] * x[3]
    np.testing.assert_allclose(H, want, atol=1e-15)
    check_grads(lambda v: np.prod(v * v[::-1]), (np.array([0.0, -0.8, 0.0, 0.5]),), order=2)


def sinc_of(x):
    return np.sinc(x)


def test_sinc_second_and_third_derivatives_at_zero():
    """The first derivative of sinc is 0 at 0 by a special case; its derivative there is -π²/3, not the
    special case's 0 (runtime.sinc_derivative: a series near 0, a recurrence elsewhere)."""
    g2 = s2sad.grad(s2sad.grad(sinc_of))
    g3 = s2sad.grad(g2)
    np.testing.assert_allclose(g2(0.0), -np.pi ** 2 / 3, rtol=1e-14)
    assert g3(0.0) == 0.0
    x, h = 0.7, 1e-3
    third = (np.sinc(x + 2 * h) - 2 * np.sinc(x + h) + 2 * np.sinc(x - h) - np.sinc(x - 2 * h)) / (2 * h ** 3)
    np.testing.assert_allclose(g3(x), third, rtol=1e-5)
    check_grads(sum_of_sinc, (np.array([0.0, 1e-7, 0.3, -2.5]),), order=2)


def sum_of_sinc(x):
    return np.sum(np.sinc(x))


def squared_entry(p):
    return p["w"] ** 2


def value_plus_slope(p):
    value, slope = s2sad.jvp(squared_entry, (p,), ({"w": 1.0},))
    return value + slope


def test_gradient_through_a_nested_jvp_of_a_dict_adds_the_two_dict_gradients():
    # d/dw (w**2 + 2 w) = 2 w + 2: the value's and the slope's gradients are dicts, added key by key
    assert s2sad.grad(value_plus_slope)({"w": 1.5}) == {"w": pytest.approx(5.0)}


# --- `a * b` where the analysis cannot rule out a list times an int (runtime.repetition_*) -----------
# scipy.special.logsumexp's result may be anything as far as the analysis knows, so `c * x` takes the
# rules of sequence repetition (which multiply numbers and arrays when the code runs); third order runs
# reverse mode over the forward rule's forward rule, _s2.repetition_cross, and fourth order over its
# adjoint, _s2.repetition_cross_grad.
def scipy_times_x(x):
    c = scipy.special.logsumexp(np.array([x, 1.0]))
    return c * x


def scipy_times_array(v):
    c = scipy.special.logsumexp(v)
    return c * v


def scipy_times_array_caller(x):
    return np.sum(scipy_times_array(x * np.array([0.3, -0.2, 0.9])) * np.array([1.0, -2.0, 0.5]))


def scipy_times_array_inline(x):         # the same function, written so that plain `*` rules apply
    v = x * np.array([0.3, -0.2, 0.9])
    return np.sum(np.log(np.sum(np.exp(v))) * v * np.array([1.0, -2.0, 0.5]))


@pytest.mark.parametrize("x", [0.3, 1.7])
def test_third_and_fourth_order_through_a_product_that_may_repeat_a_sequence(x):
    s = 1.0 / (1.0 + math.exp(1.0 - x))           # c = log(e^x + e), c' = s
    c2, c3 = s * (1 - s), s * (1 - s) * (1 - 2 * s)
    c4 = c2 * (1 - 6 * s + 6 * s * s)
    g2 = s2sad.grad(s2sad.grad(scipy_times_x))
    g3, g4 = s2sad.grad(g2), s2sad.grad(s2sad.grad(g2))
    assert g3(x) == pytest.approx(c3 * x + 3 * c2, rel=1e-12)
    assert g4(x) == pytest.approx(c4 * x + 4 * c3, rel=1e-11)
    assert s2sad.jvp(g2, (x,), (1.0,))[1] == pytest.approx(g3(x), rel=1e-12)
    assert s2sad.jvp(g3, (x,), (1.0,))[1] == pytest.approx(g4(x), rel=1e-12)
    assert g3(x) == pytest.approx(central(g2, x), rel=1e-6)
    assert g4(x) == pytest.approx(central(g3, x), rel=1e-6)


def test_third_order_through_a_product_that_may_repeat_a_sequence_with_arrays():
    g2 = s2sad.grad(s2sad.grad(scipy_times_array_caller))
    g3 = s2sad.grad(g2)
    x = 0.7
    third = g3(x)
    assert third == pytest.approx(s2sad.grad(s2sad.grad(s2sad.grad(scipy_times_array_inline)))(x), rel=1e-12)
    assert third == pytest.approx(s2sad.jvp(g2, (x,), (1.0,))[1], rel=1e-12)
    assert third == pytest.approx(central(g2, x), rel=1e-6)
    assert s2sad.grad(g3)(x) == pytest.approx(central(g3, x), rel=1e-6)
    low = g3(np.float32(x))
    assert low.dtype == np.float32 and low == pytest.approx(third, rel=1e-5)


# Helpers that land in forward-mode code without rules in both modes (tools/rule_closure.py lists them):
# a derivative of such code that reaches one is refused (NoRuleError naming it), never computed wrong.
KNOWN_GAPS = {
    "s2sad.integrate.no_second_order_in_time": "second order in an ODE solver's time points (refused on purpose)",
}


def test_every_helper_on_a_forward_path_has_rules_in_both_modes():
    import os
    import pathlib
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, str(root / "tools" / "rule_closure.py")], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)}, timeout=600)   # its own process: it imports scipy
    found = {line.split(":")[0] for line in done.stdout.splitlines() if ": no " in line}
    assert done.stdout.strip().endswith("helpers without rules in both modes"), done.stdout + done.stderr
    assert "s2sad.runtime.repetition_cross" not in found and "s2sad.runtime.linspace_tangent" not in found
    new = sorted(found - set(KNOWN_GAPS))
    assert not new, f"helpers on a forward path without rules in both modes: {new}"


@pytest.mark.parametrize("fn", ["linspace_ends", "arange_from"])
def test_third_order_through_constructors_whose_tangent_helpers_have_forward_rules(fn):
    f = globals()[fn]
    g2 = s2sad.grad(s2sad.grad(f))
    g3 = s2sad.grad(g2)
    x = 0.7
    # linspace: samples a x + b x^2 (b = k/3, a = 1 - b), whose squares' third derivatives are 12ab + 24b^2 x;
    # arange(0.7, 5): five samples x + k, each cube's third derivative 6
    expected = {"linspace_ends": sum(12 * (1 - k / 3) * (k / 3) + 24 * (k / 3) ** 2 * x for k in range(4)),
                "arange_from": 30.0}[fn]
    assert g3(x) == pytest.approx(expected, rel=1e-12)
    assert g3(x) == pytest.approx(s2sad.jvp(g2, (x,), (1.0,))[1], rel=1e-12)
    assert g3(x) == pytest.approx(central(g2, x), rel=1e-6)


def linspace_ends(x):
    return np.sum(np.linspace(x, x ** 2, 4) ** 2)


def arange_from(x):
    return np.sum(np.arange(x, 5.0, 1.0) ** 3)


SYSTEM = np.array([[3.0, 0.3, 0.2], [0.1, 2.0, 0.4], [0.5, 0.2, 1.5]])


def scipy_solve_shifted(x):
    return np.sum(scipy.linalg.solve(SYSTEM + x * np.eye(3), np.array([1.0, 2.0, -1.0])) ** 2)


def numpy_solve_shifted(x):
    return np.sum(np.linalg.solve(SYSTEM + x * np.eye(3), np.array([1.0, 2.0, -1.0])) ** 2)


def test_third_order_through_scipy_linalg_solve():
    """scipy.linalg.solve's forward rule calls _s2.matmul_like_solve, which needs a forward rule of its own at
    third order; np.linalg.solve's rules are an independent route."""
    g2 = s2sad.grad(s2sad.grad(scipy_solve_shifted))
    g3 = s2sad.grad(g2)
    x = 0.4
    assert g3(x) == pytest.approx(s2sad.grad(s2sad.grad(s2sad.grad(numpy_solve_shifted)))(x), rel=1e-10)
    assert g3(x) == pytest.approx(s2sad.jvp(g2, (x,), (1.0,))[1], rel=1e-10)
    assert g3(x) == pytest.approx(central(g2, x), rel=1e-6)


# --- x ** y where a derivative's coefficient vanishes at x = 0 (runtime.scaled_power) --------------------
def power_zero(x):
    return np.sum(x ** 0.0 * x)


def power_one(x):
    return np.sum(np.power(x, 1.0) * x[::-1])


def square_of_a_number(x):
    return x ** 2 + 3.0 * x


def squares_of_an_array(x):
    return np.sum((x * np.array([1.0, 0.0, -2.0])) ** 2)


def test_powers_whose_derivative_coefficient_vanishes_at_zero():
    """d(x**0)/dx is 0 and x**2's third derivative is 0 also at x = 0, where x ** (y - 1) is infinite: 0, not
    NaN (0 * inf) nor ZeroDivisionError; the Hessian's other entries are not spoiled either."""
    x = np.array([0.0, 1.5, -0.5])
    np.testing.assert_array_equal(s2sad.grad(power_zero)(x), np.ones(3))
    np.testing.assert_array_equal(s2sad.jacobian(power_zero, mode="forward")(x), np.ones(3))
    expected = 2.0 * np.fliplr(np.eye(3))        # sum x_i x_(2-i) = 2 x_0 x_2 + x_1^2
    np.testing.assert_array_equal(s2sad.hessian(power_one)(x), expected)
    np.testing.assert_allclose(s2sad.hessian(power_one)(x), central(s2sad.grad(power_one), x), atol=1e-8)
    g2 = s2sad.grad(s2sad.grad(square_of_a_number))
    assert s2sad.grad(g2)(0.0) == 0.0 and s2sad.jvp(g2, (0.0,), (1.0,))[1] == 0.0
    g2 = s2sad.grad(s2sad.grad(squares_of_an_array))
    assert s2sad.grad(g2)(0.0) == 0.0 and s2sad.grad(g2)(0.7) == 0.0
    assert s2sad.grad(g2)(np.float32(0.0)).dtype == np.float32
    assert g2(0.0) == pytest.approx(2.0 * (1.0 + 4.0), rel=1e-14)
    g = s2sad.grad(power_zero_times_x)                 # x ** 0.0 * x is x: derivatives 1, 0, 0, 0 also at 0
    assert (g(0.0), s2sad.grad(g)(0.0), s2sad.grad(s2sad.grad(g))(0.0), s2sad.grad(s2sad.grad(s2sad.grad(g)))(0.0)) \
        == (1.0, 0.0, 0.0, 0.0)


def power_zero_times_x(x):
    return x ** 0.0 * x


EINSUM_A = np.array([[1.0, 0.3, 0.2], [0.1, 2.0, 0.4], [0.5, 0.2, 1.5]])
EINSUM_B = np.array([1.0, 2.0, -1.0])


def einsum_form(x):
    return np.einsum("i,ij,j->", x * EINSUM_B, EINSUM_A, np.sin(x * EINSUM_B)) * x


def matmul_form(x):
    return (x * EINSUM_B) @ EINSUM_A @ np.sin(x * EINSUM_B) * x


def test_third_order_through_einsum():
    """einsum_tangent's forward rule: two directions on two different operands (runtime.einsum_directions)."""
    g2 = s2sad.grad(s2sad.grad(einsum_form))
    g3 = s2sad.grad(g2)
    for x in (0.7, -1.3):
        assert g3(x) == pytest.approx(s2sad.grad(s2sad.grad(s2sad.grad(matmul_form)))(x), rel=1e-12)
        assert g3(x) == pytest.approx(s2sad.jvp(g2, (x,), (1.0,))[1], rel=1e-12)
        assert g3(x) == pytest.approx(central(g2, x), rel=1e-6)
    assert g3(np.float32(0.7)).dtype == np.float32


def quartic_and_cubic(x, c):
    return 0.1 * np.sum(x ** 4) + c * np.sum(x ** 3)


def test_jvp_of_a_hessian_and_of_a_hessian_vector_product():
    """hessian(h) and hvp(h) differentiated again in forward mode (the Hessian of h's derivative along the
    tangents): against the closed form H = diag(1.2 x^2 + 6 c x) and central differences."""
    x, v, u = np.array([0.3, -0.2, 0.5]), np.array([0.4, 1.0, -0.3]), np.array([-0.2, 0.3, 0.6])
    c, dc = 1.3, 0.5
    H, P = s2sad.hessian(quartic_and_cubic), s2sad.hvp(quartic_and_cubic)
    value, tangent = s2sad.jvp(H, (x, c), (v, dc))
    np.testing.assert_allclose(value, np.diag(1.2 * x ** 2 + 6 * c * x), rtol=1e-13)
    np.testing.assert_allclose(tangent, np.diag(2.4 * x * v + 6 * c * v + 6 * dc * x), rtol=1e-12, atol=1e-14)
    h = 1e-5
    np.testing.assert_allclose(tangent, (H(x + h * v, c + h * dc) - H(x - h * v, c - h * dc)) / (2 * h), atol=1e-8)
    value, tangent = s2sad.jvp(P, (x, u, c), (v, 0.7 * v, dc))
    np.testing.assert_allclose(value, (1.2 * x ** 2 + 6 * c * x) * u, rtol=1e-13)
    np.testing.assert_allclose(tangent, (2.4 * x * v + 6 * c * v + 6 * dc * x) * u
                               + (1.2 * x ** 2 + 6 * c * x) * 0.7 * v, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(s2sad.jacobian(P, mode="forward")(x, u, c),
                               np.diag((2.4 * x + 6 * c) * u), rtol=1e-12, atol=1e-14)


def _third(x):
    return np.sum(np.sin(x) * x[0])


def _vector_valued(x):
    return np.sin(x) * x[0]


def test_jacobian_of_hessian_and_hvp_runs_in_forward_mode_and_reverse_over_them_is_refused_clearly():
    """jacobian(hessian(f)) and jacobian(hvp(f)) use their jvp (reverse mode read s2sad's own loop and failed
    with "wrt=0 is an argument that lands in *args"); grad of them, and jacobian(jacobian(g)), say what works."""
    x, v = np.array([0.3, 0.7]), np.array([0.5, -1.0])
    H = s2sad.hessian(_third)
    third = s2sad.jacobian(H)(x)
    eps = 1e-5
    numeric = np.stack([(H(x + eps * e) - H(x - eps * e)) / (2 * eps) for e in np.eye(2)], axis=-1)
    np.testing.assert_allclose(third, numeric, atol=1e-8)
    np.testing.assert_allclose(s2sad.jacobian(s2sad.hvp(_third))(x, v), np.einsum("ijk,j->ik", third, v), atol=1e-12)
    with pytest.raises(s2sad.TransformError, match=r"hvp\(_third\) is not differentiated again in reverse mode"):
        s2sad.grad(s2sad.hvp(_third))
    with pytest.raises(s2sad.TransformError, match=r"jacobian\(_vector_valued\) is not differentiated again"):
        s2sad.jacobian(s2sad.jacobian(_vector_valued))(x)


def _product(y):
    return y[0] * y[1]


def _grad_of_a_literal(x):
    g = s2sad.grad(_product)((x, 3.0))          # a tuple literal passed to a nested gradient
    return g[1]                                 # = x


def _sin_of_nested_grad(x):                    # autograd's test_tuple.py::test_nested_higher_order
    return np.sum(np.sin(np.array(s2sad.grad(_product)((x, x)))))


def test_forward_mode_through_a_nested_gradient_of_a_literal():
    """The tangent of a tuple literal among a nested grad call's arguments was taken as zero (jvp 0, hessian 0)."""
    assert s2sad.jvp(_grad_of_a_literal, (0.7,), (1.0,))[1] == pytest.approx(1.0)
    x = 0.7
    assert s2sad.jvp(_sin_of_nested_grad, (x,), (1.0,))[1] == pytest.approx(2 * np.cos(x))
    assert s2sad.hessian(_sin_of_nested_grad)(x) == pytest.approx(-2 * np.sin(x))
    assert s2sad.grad(_sin_of_nested_grad)(x) == pytest.approx(2 * np.cos(x))


def _h(x):
    return np.sum(np.sin(x) * x)


_DH = s2sad.grad(_h)                            # made once at module level, called inside (Autograd's hess-vector
_DH_MANY = s2sad.grad(_h, wrt=(0,))             # products are written this way)


def _uses_a_module_level_gradient(x):
    return np.sum(_DH(x) ** 2)


def _uses_it_inline(x):
    return np.sum(s2sad.grad(_h)(x) ** 2)


def _uses_a_module_level_gradient_tuple(x):
    return np.sum(_DH_MANY(x)[0] ** 2)


def test_a_gradient_made_at_module_level_is_differentiated_where_it_is_called():
    """Was refused: "no derivative rule for ..._DH"."""
    x = np.array([0.3, 0.9])
    want = s2sad.grad(_uses_it_inline)(x)
    np.testing.assert_allclose(s2sad.grad(_uses_a_module_level_gradient)(x), want, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(_uses_a_module_level_gradient_tuple)(x), want, rtol=1e-12)
    check_grads(_uses_a_module_level_gradient, (x,))


def _two(a, b):
    return a * b


def _nested_wrt_one_tuple(x):
    return s2sad.grad(_two, wrt=(1,))(x, 3.0)[0] * x        # d/db (a b) = a: x * x


def _nested_wrt_two(x):
    return s2sad.grad(_two, wrt=(0, 1))(x, x)[0]


def test_a_nested_gradient_with_a_wrt_tuple():
    """wrt=(k,) gives its 1-tuple; several indices are refused at the line (was a NotImplementedError raised
    from the generated code)."""
    assert s2sad.grad(_nested_wrt_one_tuple)(0.7) == pytest.approx(1.4)
    assert s2sad.jvp(_nested_wrt_one_tuple, (0.7,), (1.0,))[1] == pytest.approx(1.4)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="several arguments") as caught:
        s2sad.grad(_nested_wrt_two)(0.7)
    assert "test_higher_order.py" in str(caught.value)


def _sine_sum(x, k=2.0, scale=1.0, *, power=1.0):
    return np.sum(np.sin(k * x) * scale) ** power


@pytest.mark.parametrize("bound, k, scale", [
    (dict(power=1.0, k=3.0), 3.0, 1.0),           # a keyword-only parameter's default left, k bound by keyword
    (dict(scale=5.0), 2.0, 5.0),                  # k's default sits before the bound scale
])
def test_second_order_of_a_partial_with_keywords(bound, k, scale):
    import functools
    p = functools.partial(_sine_sum, **bound)
    x = np.array([-2.0, 0.3, 1.0])
    exact = -k * k * scale * np.sin(k * x)
    np.testing.assert_allclose(np.diag(s2sad.hessian(p)(x)), exact, rtol=1e-12)
    np.testing.assert_allclose(s2sad.hvp(p)(x, np.ones(3)), exact, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(s2sad.grad(p))(0.5), -k * k * scale * np.sin(k * 0.5), rtol=1e-12)


def _scaled_power_sum(x, scale=1.0, power=2):
    return np.sum(scale * x ** power)


def test_second_order_functions_take_the_functions_keyword_arguments():
    x = np.array([0.3, -0.7, 1.1])
    want = np.diag(18.0 * x)                      # scale 3, power 3
    np.testing.assert_allclose(s2sad.hessian(_scaled_power_sum)(x, scale=3.0, power=3), want, rtol=1e-12)
    np.testing.assert_allclose(s2sad.hvp(_scaled_power_sum)(x, np.ones(3), scale=3.0, power=3), want @ np.ones(3),
                               rtol=1e-12)
    np.testing.assert_allclose(s2sad.jacobian(s2sad.grad(_scaled_power_sum))(x, scale=3.0, power=3), want, rtol=1e-12)
    np.testing.assert_allclose(s2sad.jacobian(_scaled_power_sum)(x, scale=3.0, power=3), 9.0 * x ** 2, rtol=1e-12)


namespace = {}
exec("import numpy as np\n"
     "def opaque_polar(x, y):\n    return np.hypot(x, y), np.arctan2(y, x)\n", namespace)
opaque_polar = namespace["opaque_polar"]


@rules.vjp(opaque_polar)
def opaque_polar_vjp(g, ans, x, y):
    gr, gt = g
    r, t = ans
    return gr * x / r - gt * y / r ** 2, gr * y / r + gt * x / r ** 2


def polar_angle_only(x, y):
    r, t = opaque_polar(x, y)
    return 3.0 * t


def polar_angle_indexed(x, y):
    res = opaque_polar(x, y)
    return 3.0 * res[1] * res[1]


def test_a_user_rule_gets_zeros_for_a_result_not_used():
    """A rule of a function returning two values got None for the adjoint of the one not used (`gr * x`: a
    TypeError); it gets zeros shaped like that result, as Autograd's and JAX's rules do."""
    x, y = 0.8, 0.6
    gx, gy = s2sad.grad(polar_angle_only, wrt=(0, 1))(x, y)
    assert (gx, gy) == (pytest.approx(-3.0 * y / (x * x + y * y)), pytest.approx(3.0 * x / (x * x + y * y)))
    t = np.arctan2(y, x)
    gx, gy = s2sad.grad(polar_angle_indexed, wrt=(0, 1))(x, y)
    assert (gx, gy) == (pytest.approx(-6.0 * t * y / (x * x + y * y)), pytest.approx(6.0 * t * x / (x * x + y * y)))


@dataclasses.dataclass(frozen=True)
class _Layer:
    W: np.ndarray
    b: float
    n: int = 3                       # a setting: no derivative


def _layer_loss(p, x):
    return np.sum(np.tanh(x @ p.W + p.b) ** 2) * p.n


def _scalar_methods(x):
    return x.astype(np.float64) ** 2 + (x / 0.0 if x < -10 else 0.0)


def test_check_grads_of_records_and_numpy_scalars():
    """check_grads raised a TypeError on a dataclass argument (float() of the record), and made an np.float64 a
    Python float for the differences (`x.astype` then failed): records are checked field by field, NumPy
    scalars stay NumPy scalars."""
    p, x = _Layer(np.array([0.3, -0.2]), 0.1), np.array([[1.0, 2.0], [0.5, -1.0]])
    g = check_grads(_layer_loss, (p, x), wrt=0, order=2)
    assert type(g) is _Layer and g.n == 3
    check_grads(_layer_loss, (p, x), wrt=(0, 1))
    check_grads(_scalar_methods, (np.float64(0.5),), order=2)
    numeric = numerical_grad(_layer_loss, (p, x), 0)         # the differences themselves, field by field
    assert type(numeric) is _Layer and numeric.n == 3
    np.testing.assert_allclose(numeric.W, g.W, rtol=1e-6)
    assert numeric.b == pytest.approx(g.b, rel=1e-6)


def _powers(x, y):
    s = 0.0
    for i in range(3):
        s = s + x * y ** i
    return s


def test_check_grads_by_parameter_name():
    """check_grads(f, args, wrt="y") indexed the arguments with the name (a TypeError): names are positions, as
    for s2sad.grad; a tuple mixing names and positions too."""
    assert check_grads(_powers, (0.7, 1.2), wrt="y", order=2) == pytest.approx(0.7 * (1 + 2 * 1.2))
    gx, gy = check_grads(_powers, (0.7, 1.2), wrt=("x", 1))
    assert gx == pytest.approx(1 + 1.2 + 1.2 ** 2) and gy == pytest.approx(0.7 * (1 + 2 * 1.2))


def _kept_dims(x):
    return np.sum(np.sin(x), keepdims=True)


def _zero_d_written(a):
    b = a.copy()
    b[()] = np.sin(b)
    return b * a


def test_check_grads_of_an_output_of_one_item_and_a_0d_argument():
    """check_grads pulled back 1.0 through an output of shape (1,) (refused: a cotangent of the wrong shape) and
    moved a 0-d argument to a NumPy scalar (`b[()] = ...` then failed)."""
    np.testing.assert_allclose(check_grads(_kept_dims, (np.array([0.3, 0.5]),), order=2), np.cos([0.3, 0.5]))
    assert check_grads(_zero_d_written, (np.array(0.7),), order=2) == pytest.approx(np.sin(0.7) + 0.7 * np.cos(0.7))


class _Quantizer:
    def quantize(self, x):
        return np.round(x * 4.0) / 4.0


_QUANTIZE = _Quantizer().quantize


@rules.vjp(_QUANTIZE)
def _quantize_vjp(g, ans, x):                    # straight-through: the rule, not the method's source (0), counts
    return g


def _uses_quantize(x):
    return np.sum(_QUANTIZE(x) * x)


def test_a_rule_registered_for_a_bound_method_held_by_a_global_is_used():
    """A bound method held by a global is called as its class's function with the object; where a rule is
    registered for it, the rule is used, not the method's source (found by a probe: the rule was bypassed)."""
    x = np.array([0.3, -0.7, 1.2])
    np.testing.assert_allclose(s2sad.grad(_uses_quantize)(x), _QUANTIZE(x) + x)


def _scaled_sin(x, scale=1.0):
    return np.sum(np.sin(x * scale) * x)


def _meta_keyword(z, s):
    return s2sad.grad(_scaled_sin)(z, scale=s)          # the keyword was dropped: scale=1.0's derivative


def _meta_keyword_constant(z):
    return s2sad.grad(_scaled_sin)(z, scale=3.0)


def _scaled_sin_items(x, scale=1.0):
    return np.sin(x * scale) * x


def test_keyword_arguments_of_a_derivative_are_held_inside_code_and_by_the_api():
    z, s = 0.5, 3.0
    dz = 2 * s * math.cos(s * z) - s * s * math.sin(s * z) * z       # d/dz of d/dz sin(s z) z
    assert s2sad.grad(_meta_keyword)(z, s) == pytest.approx(dz, rel=1e-12)
    assert s2sad.jvp(_meta_keyword, (z, s), (1.0, 0.0))[1] == pytest.approx(dz, rel=1e-12)
    assert s2sad.grad(_meta_keyword_constant)(z) == pytest.approx(dz, rel=1e-12)
    assert s2sad.grad(s2sad.grad(_scaled_sin))(z, scale=s) == pytest.approx(dz, rel=1e-12)
    x, c = np.array([0.4, 1.3]), np.array([1.0, -0.5])
    H = np.diag(2 * s * np.cos(s * x) - s * s * x * np.sin(s * x))
    value, pullback = s2sad.vjp(s2sad.grad(_scaled_sin), x, scale=s)
    np.testing.assert_allclose(value, s2sad.grad(_scaled_sin)(x, s), rtol=1e-12)
    np.testing.assert_allclose(pullback(c), c @ H, rtol=1e-12)
    second = s2sad.elementwise_grad(s2sad.elementwise_grad(_scaled_sin_items))(x, scale=s)
    np.testing.assert_allclose(second, np.diag(H), rtol=1e-12)
    mixed = s2sad.grad(s2sad.grad(_scaled_sin, 1), 0)(z, scale=s)      # (wrt the keyword's position: an IndexError)
    assert mixed == pytest.approx(2 * z * math.cos(s * z) - z * z * s * math.sin(s * z), rel=1e-11)
    third = s2sad.grad(s2sad.grad(s2sad.grad(_scaled_sin)))(z, scale=s)       # (the keywords held down the chain)
    assert third == pytest.approx(-3 * s * s * math.sin(s * z) - s ** 3 * math.cos(s * z) * z, rel=1e-11)


def _halving_step_in_place(a, x):
    x *= 0.5                          # x = 0.5 x + a, changed in place and returned: fixed point 2a
    x += a
    return x


def _halving_fixed_point(a):
    return np.sum(s2sad.fixed_point(_halving_step_in_place, a, np.zeros(3)) ** 2)


def test_fixed_point_of_a_step_changing_its_x_in_place():
    """The iteration compared the new x with itself (the same array) and stopped after one step."""
    a = np.array([0.3, -0.7, 1.1])
    x0 = np.zeros(3)
    np.testing.assert_allclose(s2sad.fixed_point(_halving_step_in_place, a, x0), 2 * a, rtol=1e-9)
    assert not np.any(x0)
    value, g = s2sad.value_and_grad(_halving_fixed_point)(a)
    assert value == pytest.approx(np.sum(4 * a * a), rel=1e-9)
    np.testing.assert_allclose(g, 8 * a, rtol=1e-8)
