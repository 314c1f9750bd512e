"""Second and third derivatives of functions that call s2sad.fixed_point, s2sad.grad(h)(x) or s2sad.jvp(h, ...).

Each derivative (grad of grad, hessian, jvp of grad, hvp) is checked two ways: against central differences of
the derivative one order down, and against an independent route at a tight tolerance, the same function
written without the construct (the fixed point unrolled into a plain loop of enough iterations, the inner
derivative written out by hand) and differentiated by s2sad as plain code.
"""
import dataclasses

import numpy as np
import pytest

import s2sad

H = 1e-5
TOL = 1e-13                       # the fixed points converge to this, so routes agree far below 1e-9


def central(fn, x, h=H):
    """Central differences of ``fn`` (a number or an array) at ``x``: a number, or one column per item of ``x``."""
    if np.ndim(x) == 0:
        return (fn(x + h) - fn(x - h)) / (2 * h)
    columns = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = h
        columns.append((np.asarray(fn(x + e)) - np.asarray(fn(x - e))) / (2 * h))
    return np.stack(columns, axis=-1)


def every_second_derivative(f, x, v):
    """grad of grad (a number) or hessian (an array), and the jvp of grad and hvp along ``v``."""
    gradient = s2sad.grad(f)
    second = s2sad.grad(gradient)(x) if np.ndim(x) == 0 else s2sad.hessian(f)(x)
    along = s2sad.jvp(gradient, (x,), (v,))[1]
    product = s2sad.hvp(f)(x, v)
    return second, along, product


def check_second_order(f, reference, x, v):
    """``f``'s second derivatives against differences of its gradient and against ``reference``'s (the same
    function written without the construct)."""
    second, along, product = every_second_derivative(f, x, v)
    expected, expected_along, expected_product = every_second_derivative(reference, x, v)
    np.testing.assert_allclose(second, central(s2sad.grad(f), x), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(second, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(along, expected_along, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(product, expected_product, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(along, np.dot(second, v), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(product, along, rtol=1e-12, atol=1e-14)


# --- fixed_point, a number: z = cos(a z) / 2 ------------------------------------------------------------
def half_cos(a, z):
    return np.cos(a * z) * 0.5


def solved_number(a):
    z = s2sad.fixed_point(half_cos, a, 0.3, tol=TOL)
    return z * z + a * z


def unrolled_number(a):
    z = 0.3
    for _ in range(60):                  # |d step / dz| < 0.2 here: 60 iterations reach the fixed point exactly
        z = np.cos(a * z) * 0.5
    return z * z + a * z


@pytest.mark.parametrize("a", [0.7, 1.3])
def test_fixed_point_of_a_number_second_order(a):
    check_second_order(solved_number, unrolled_number, a, 1.0)


def test_fixed_point_third_order():
    g2 = s2sad.grad(s2sad.grad(solved_number))
    third = s2sad.grad(g2)(0.7)
    assert third == pytest.approx(central(g2, 0.7), rel=1e-6)
    assert third == pytest.approx(s2sad.grad(s2sad.grad(s2sad.grad(unrolled_number)))(0.7), rel=1e-10)
    assert third == pytest.approx(s2sad.jvp(g2, (0.7,), (1.0,))[1], rel=1e-12)


# --- fixed_point, arrays: x = tanh(W x + a) / 2 ----------------------------------------------------------
W = np.array([[0.3, -0.2, 0.1], [0.1, 0.4, -0.3], [-0.2, 0.1, 0.2]])


def layer(a, x):
    return np.tanh(W @ x + a) * 0.5


def solved_array(a):
    x = s2sad.fixed_point(layer, a, np.zeros(3), tol=TOL)
    return np.sum(x ** 2) + np.sum(np.sin(x) * a)


def unrolled_array(a):
    x = np.zeros(3)
    for _ in range(80):                  # a contraction by about 0.3: 80 iterations reach it exactly
        x = np.tanh(W @ x + a) * 0.5
    return np.sum(x ** 2) + np.sum(np.sin(x) * a)


def test_fixed_point_of_an_array_second_order():
    check_second_order(solved_array, unrolled_array, np.array([0.2, -0.5, 0.9]), np.array([1.0, -2.0, 0.5]))


def layer_of(p, x):
    return np.tanh(p["W"] @ x + p["b"]) * 0.5


def solved_dict(p):
    x = s2sad.fixed_point(layer_of, p, np.zeros(3), tol=TOL)
    return np.sum(x ** 2) + np.sum(x * p["b"])


def unrolled_dict(p):
    x = np.zeros(3)
    for _ in range(80):
        x = np.tanh(p["W"] @ x + p["b"]) * 0.5
    return np.sum(x ** 2) + np.sum(x * p["b"])


def test_fixed_point_of_a_dict_parameter_second_order():
    p = {"W": W, "b": np.array([0.2, -0.5, 0.9])}
    dp = {"W": np.full((3, 3), 0.3) - np.eye(3), "b": np.array([1.0, -2.0, 0.5])}
    along = s2sad.jvp(s2sad.grad(solved_dict), (p,), (dp,))[1]
    expected = s2sad.jvp(s2sad.grad(unrolled_dict), (p,), (dp,))[1]
    assert set(along) == {"W", "b"}
    for key in along:
        np.testing.assert_allclose(along[key], expected[key], rtol=1e-10, atol=1e-12)
        moved = [{k: p[k] + s * H * dp[k] for k in p} for s in (1, -1)]
        difference = (s2sad.grad(solved_dict)(moved[0])[key] - s2sad.grad(solved_dict)(moved[1])[key]) / (2 * H)
        np.testing.assert_allclose(along[key], difference, rtol=1e-6, atol=1e-9)


@dataclasses.dataclass
class _Contraction:
    a: float
    b: float


def _cosine_step(p, x):
    return p.a * np.cos(x) + p.b


def solved_record(p):
    return s2sad.fixed_point(_cosine_step, p, 0.0, tol=TOL) ** 2


def test_fixed_point_of_a_record_parameter_second_order():
    """The second order of a fixed point whose parameters are a dataclass crashed adding the record gradient the
    API returned to the record's adjoint (`'Prm' object has no attribute 'keys'`; found by a probe)."""
    p = _Contraction(0.6, 0.2)
    x = 0.0
    for _ in range(500):
        x = 0.6 * np.cos(x) + 0.2
    d = 1 + 0.6 * np.sin(x)
    dxdb = 1 / d
    want_bb = 2 * dxdb ** 2 + 2 * x * (-0.6 * np.cos(x) * dxdb ** 2 / d)    # by hand: d2/db2 of x(b) ** 2
    hv = s2sad.hvp(solved_record)(p, _Contraction(0.0, 1.0))
    assert hv.b == pytest.approx(want_bb, rel=1e-8)


def _pair_step(p, x):
    u, v = x
    return (0.5 * np.cos(v) + p, 0.3 * np.sin(u) * p)


def solved_pair(a):
    u, v = s2sad.fixed_point(_pair_step, a, (0.0, 0.0), tol=TOL)
    return u + 2 * v


def test_fixed_point_of_a_tuple_is_refused_when_differentiated():
    """A tuple solution was added and scaled as a sequence (a raw broadcasting error from the derivative code)."""
    assert solved_pair(0.7) == pytest.approx(solved_pair(0.7))
    with pytest.raises(s2sad.UnsupportedValueError, match="fixed_point's solution is a tuple"):
        s2sad.grad(solved_pair)(0.7)
    with pytest.raises(s2sad.UnsupportedValueError, match="fixed_point's solution is a tuple"):
        s2sad.jvp(solved_pair, (0.7,), (1.0,))


# --- a function that calls s2sad.grad(h)(...) --------------------------------------------------------------
def cubic_sine(x, c):
    return np.sum(c * x ** 3) + np.sin(np.sum(x))


def through_grad_call(x):
    return np.sum(np.sin(s2sad.grad(cubic_sine)(x, 1.5)))


def gradient_by_hand(x):
    return np.sum(np.sin(3 * 1.5 * x ** 2 + np.cos(np.sum(x)) * np.ones_like(x)))


@pytest.mark.parametrize("x, v", [(0.4, 1.0), (np.array([0.4, -1.1, 0.7]), np.array([1.0, 0.5, -2.0]))])
def test_grad_call_second_order(x, v):
    check_second_order(through_grad_call, gradient_by_hand, x, v)


def scaled_power(n, x, c):
    return c * x ** n


def grad_call_with_wrt_and_an_int(x):
    return s2sad.grad(scaled_power, wrt=1)(3, x, x * 2.0) * x


def grad_call_with_wrt_by_hand(x):
    return 3 * (x * 2.0) * x ** 2 * x               # d/dx of c x^3 is 3 c x^2, with c = 2x


def test_grad_call_with_a_wrt_and_an_int_argument():
    check_second_order(grad_call_with_wrt_and_an_int, grad_call_with_wrt_by_hand, 0.8, 1.0)
    assert s2sad.grad(s2sad.grad(grad_call_with_wrt_and_an_int))(0.8) == pytest.approx(12 * 6 * 0.8 ** 2, rel=1e-12)


# --- a function that calls s2sad.jvp(h, ...) ---------------------------------------------------------------
def weighted_sine(x, c, n):
    return np.sum(c * np.sin(x) * x) * n


def through_jvp(x):
    # the tangent depends on x too (both of jvp's rules are used), and the int n is held constant
    value, slope = s2sad.jvp(weighted_sine, (x, 1.5, 3), (x ** 2, None, None))
    return 0.5 * value + slope


def jvp_by_hand(x):
    value = np.sum(1.5 * np.sin(x) * x) * 3
    slope = np.sum(1.5 * (np.cos(x) * x + np.sin(x)) * x ** 2) * 3
    return 0.5 * value + slope


@pytest.mark.parametrize("x, v", [(0.4, 1.0), (np.array([0.4, -1.1, 0.7]), np.array([1.0, 0.5, -2.0]))])
def test_jvp_call_second_order(x, v):
    check_second_order(through_jvp, jvp_by_hand, x, v)


def test_jvp_call_first_order_with_an_int_primal():
    # forward mode over a jvp call whose primals hold an int: its tangent (a 0.0 beside the int) is dropped
    assert s2sad.jvp(through_jvp, (0.4,), (1.0,))[1] == pytest.approx(s2sad.grad(jvp_by_hand)(0.4), rel=1e-12)


def slope_only(x):
    # only the tangents are differentiated: the value's tangent is None
    value, slope = s2sad.jvp(weighted_sine, (0.7, 1.5, 3), (x * x, None, None))
    return value + slope * x


def slope_only_by_hand(x):
    return np.sin(0.7) * 0.7 * 4.5 + 4.5 * (np.cos(0.7) * 0.7 + np.sin(0.7)) * x ** 3


def test_jvp_call_differentiated_in_its_tangents_only():
    check_second_order(slope_only, slope_only_by_hand, 0.4, 1.0)
    g2 = s2sad.grad(s2sad.grad(slope_only))
    assert s2sad.grad(g2)(0.4) == pytest.approx(6 * 4.5 * (np.cos(0.7) * 0.7 + np.sin(0.7)), rel=1e-12)


@s2sad.differentiable(wrt=1)
def _cubed_in_b(a, b):
    return np.sum(a ** 2 * b ** 3)


_A = np.array([0.5, -1.0, 2.0])


def _slope_sum(b):
    return np.sum(s2sad.grad(_cubed_in_b)(_A, b))             # the decorator's wrt=1: 3 a^2 b^2


def _slope_by_name(b):
    return np.sum(s2sad.grad(_cubed_in_b, wrt="b")(_A, b))


def test_a_nested_gradient_takes_the_decorators_wrt_and_names():
    """`s2sad.grad(f)` inside differentiated code with f's `@differentiable(wrt=1)`: it differentiated argument 0
    (found by a probe: 6 a b^2 for 6 a^2 b); `wrt="b"` raised a NameError."""
    b = np.array([1.5, 0.7, -0.4])
    want = 6 * _A ** 2 * b
    for f in (_slope_sum, _slope_by_name):
        np.testing.assert_allclose(s2sad.grad(f)(b), want, rtol=1e-12)
        np.testing.assert_allclose(s2sad.jvp(f, (b,), (np.ones(3),))[1], np.sum(want), rtol=1e-12)


_TANH_SLOPE = s2sad.elementwise_grad(np.tanh)


def _slopes_weighted(x):
    local = s2sad.grad(lambda z: np.sum(np.sin(z) * z))
    return np.sum(_TANH_SLOPE(x) * x) + np.sum(s2sad.elementwise_grad(np.tanh)(x)) + np.sum(local(x) ** 2)


def test_functions_s2sad_made_called_inside_differentiated_code():
    """A module's `elementwise_grad(np.tanh)`, one made inline, a gradient held in a local variable: each
    differentiated through s2sad's own vjp/jvp (a NoRuleError naming np.tanh, and a ValueError from inspect)."""
    x = np.array([0.3, -0.7, 1.1])
    t = np.tanh(x)
    slope, curve = 1 - t ** 2, -2 * t * (1 - t ** 2)
    inner = np.sin(x) + x * np.cos(x)
    want = slope + x * curve + curve + 2 * inner * (2 * np.cos(x) - x * np.sin(x))
    np.testing.assert_allclose(s2sad.grad(_slopes_weighted)(x), want, rtol=1e-10)
    d = np.array([1.0, 2.0, -0.5])
    np.testing.assert_allclose(s2sad.jvp(_slopes_weighted, (x,), (d,))[1], want @ d, rtol=1e-10)


def _slope_through_a_name(b):
    h = _cubed_in_b
    return np.sum(s2sad.grad(h)(_A, b))                    # h's own wrt=1 (it took 0 when h was a name)


def _slope_held_in_a_variable(b):
    g = s2sad.grad(_cubed_in_b, wrt=1)
    return np.sum(g(_A, b) * b)


def test_a_nested_gradient_through_a_local_name():
    """`h = f; s2sad.grad(h)(...)` took argument 0 instead of f's `wrt=1`, and `g = s2sad.grad(f); g(x)` crashed
    in inspect at second order (found by a probe)."""
    b = np.array([1.5, 0.7, -0.4])
    np.testing.assert_allclose(s2sad.grad(_slope_through_a_name)(b), 6 * _A ** 2 * b, rtol=1e-12)
    want = 9 * _A ** 2 * b ** 2                           # d/db of 3 a^2 b^3
    np.testing.assert_allclose(s2sad.grad(_slope_held_in_a_variable)(b), want, rtol=1e-12)
    np.testing.assert_allclose(s2sad.hvp(_slope_held_in_a_variable)(b, np.ones(3)), 18 * _A ** 2 * b, rtol=1e-12)


def _gradient_of_a_closure(x):
    g = s2sad.grad(lambda z, k=x: np.sum(np.sin(z * k)))       # k is x: g depends on it
    return np.sum(g(2.0 * x))


def test_a_gradient_of_a_function_made_from_a_differentiated_value_is_refused():
    """`g = s2sad.grad(lambda z, k=x: ...)` then `g(...)`: the dependence through the function was dropped (a
    wrong gradient; found by a probe)."""
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="of a function made from a value being differentiated"):
        s2sad.grad(_gradient_of_a_closure)(np.array([0.37, -0.81, 1.23]))
