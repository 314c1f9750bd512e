"""``scipy.integrate.odeint`` and ``solve_ivp`` differentiated by the adjoint method (s2sad/integrate.py,
s2sad/rules/scipy_integrate.py).

Witnesses: central differences of the loss (the solver at rtol = atol = 1e-10, so differences are accurate),
reverse mode against forward mode, closed forms (exponential decay; ``y' = A y`` through ``expm`` and its Fréchet
derivative), second derivatives (``hvp``, ``grad`` of ``grad``, ``hessian``) against differences of the gradient.
Then the generated code (an adjoint solve, no unrolled steps), float32, and what is refused.
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2sad

integrate = pytest.importorskip("scipy.integrate")
linalg = pytest.importorskip("scipy.linalg")
odeint, solve_ivp = integrate.odeint, integrate.solve_ivp

T = np.linspace(0.0, 2.0, 6)
DATA = np.cos(np.outer(T, [1.0, 2.0]))


def differences(f, x, h=1e-5):
    """Central differences of scalar ``f`` at ``x`` (a float or an array)."""
    if np.ndim(x) == 0:
        return (f(x + h) - f(x - h)) / (2 * h)
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def grad_differences(gradient, x, v, h=1e-5):
    """Central differences of a gradient along ``v``: a Hessian-vector product."""
    return (gradient(x + h * v) - gradient(x - h * v)) / (2 * h)


# --- a forced, damped oscillator -------------------------------------------------------------------------
def forcing(t):
    return np.sin(t)


def oscillator(y, t, theta):
    return np.array([y[1], -theta[0] * y[0] - theta[1] * y[1] + forcing(t)])


def fit(theta, y0):
    ys = odeint(oscillator, y0, T, args=(theta,), rtol=1e-10, atol=1e-10)
    return np.sum((ys - DATA) ** 2)


THETA, Y0 = np.array([1.3, 0.4]), np.array([0.5, -0.2])


def test_odeint_gradient_matches_differences_and_forward_mode():
    g_theta, g_y0 = s2sad.grad(fit, wrt=(0, 1))(THETA, Y0)
    np.testing.assert_allclose(g_theta, differences(lambda th: fit(th, Y0), THETA), rtol=1e-6)
    np.testing.assert_allclose(g_y0, differences(lambda y: fit(THETA, y), Y0), rtol=1e-6)
    v, w = np.array([0.3, -0.7]), np.array([-1.1, 0.4])
    value, tangent = s2sad.jvp(fit, (THETA, Y0), (v, w))
    assert value == pytest.approx(fit(THETA, Y0))
    assert tangent == pytest.approx(g_theta @ v + g_y0 @ w, rel=1e-7)


def test_odeint_second_derivatives_match_differences_of_the_gradient():
    v = np.array([0.3, -0.7])
    gradient = s2sad.grad(fit)
    np.testing.assert_allclose(s2sad.hvp(fit)(THETA, v, Y0), grad_differences(lambda th: gradient(th, Y0), THETA, v),
                               rtol=1e-6)
    gradient_y0 = s2sad.grad(fit, wrt=1)
    np.testing.assert_allclose(s2sad.hvp(fit, wrt=1)(THETA, Y0, v),
                               grad_differences(lambda y: gradient_y0(THETA, y), Y0, v), rtol=1e-6)
    H = s2sad.hessian(fit)(THETA, Y0)
    np.testing.assert_allclose(H, H.T, rtol=1e-7)
    np.testing.assert_allclose(H @ v, s2sad.hvp(fit)(THETA, v, Y0), rtol=1e-7)


def test_odeint_gradient_with_respect_to_the_times():
    def at_times(t):
        return np.sum((odeint(oscillator, Y0, t, args=(THETA,), rtol=1e-10, atol=1e-10) - DATA) ** 2)
    g = s2sad.grad(at_times)(T)
    np.testing.assert_allclose(g, differences(at_times, T), rtol=1e-6, atol=1e-9)
    v = np.linspace(1.0, -1.0, len(T))
    assert s2sad.jvp(at_times, (T,), (v,))[1] == pytest.approx(g @ v, rel=1e-7)


# --- closed forms ----------------------------------------------------------------------------------------
def decay(y, t, k):
    return -k * y


def decayed(k, y0, t):
    return np.sum(odeint(decay, y0, t, args=(k,), rtol=1e-10, atol=1e-10))


def test_exponential_decay_against_its_closed_form():
    k, y0, t = 0.7, 2.0, np.array([0.5, 1.0, 1.5, 3.0])
    y = y0 * np.exp(-k * (t - t[0]))
    g_k, g_y0, g_t = s2sad.grad(decayed, wrt=(0, 1, 2))(k, y0, t)
    assert isinstance(g_k, float) and isinstance(g_y0, float)
    assert g_k == pytest.approx(np.sum(-(t - t[0]) * y), rel=1e-7)
    assert g_y0 == pytest.approx(np.sum(y / y0), rel=1e-7)
    # y(t_i) moves at its rate -k y_i with t_i; moving t_0 shifts every later value by +k y_i
    np.testing.assert_allclose(g_t, np.r_[np.sum(k * y[1:]), -k * y[1:]], rtol=1e-7)
    assert s2sad.jvp(decayed, (k, y0, t), (1.0, None, None))[1] == pytest.approx(g_k, rel=1e-7)
    second = np.sum((t - t[0]) ** 2 * y)
    assert s2sad.grad(s2sad.grad(decayed))(k, y0, t) == pytest.approx(second, rel=1e-6)
    assert s2sad.hvp(decayed)(k, 1.0, y0, t) == pytest.approx(second, rel=1e-6)
    assert s2sad.grad(s2sad.grad(decayed, wrt=0), wrt=1)(k, y0, t) == pytest.approx(np.sum(-(t - t[0]) * y / y0),
                                                                                      rel=1e-6)


def decay_slope(k, y0, t):
    return s2sad.jvp(decayed, (k, y0, t), (1.0, None, None))[1]


def ivp_decay(t, y, k):
    return -k * y


def ivp_decayed(k, y0, t):
    return np.sum(solve_ivp(ivp_decay, (t[0], t[-1]), [y0], t_eval=t, args=(k,), rtol=1e-10, atol=1e-10).y)


def ivp_decay_slope(k, y0, t):
    return s2sad.jvp(ivp_decayed, (k, y0, t), (1.0, None, None))[1]


@pytest.mark.filterwarnings("ignore::s2sad.ZeroGradientWarning")
@pytest.mark.parametrize("slope", [decay_slope, ivp_decay_slope])
def test_derivatives_of_a_forward_mode_slope_against_the_closed_form(slope):
    """Forward over forward and reverse over forward through the tangent ODE (whose helpers have rules)."""
    k, y0, t = 0.7, 2.0, np.array([0.0, 0.5, 1.0, 1.5])
    y = y0 * np.exp(-k * t)
    assert slope(k, y0, t) == pytest.approx(np.sum(-t * y), rel=1e-7)
    assert s2sad.jvp(slope, (k, y0, t), (1.0, None, None))[1] == pytest.approx(np.sum(t ** 2 * y), rel=1e-6)
    assert s2sad.grad(slope)(k, y0, t) == pytest.approx(np.sum(t ** 2 * y), rel=1e-6)
    assert s2sad.grad(slope, wrt=1)(k, y0, t) == pytest.approx(np.sum(-t * y / y0), rel=1e-6)


def linear(y, t, A):
    return A @ y


W = np.array([[1.0, -2.0, 0.5], [0.3, 0.0, 1.0], [-1.0, 1.0, 2.0], [0.2, 0.7, -0.4]])
TL = np.array([0.0, 0.4, 1.0, 1.7])


def weighted(A, y0):
    return np.sum(W * odeint(linear, y0, TL, args=(A,), rtol=1e-10, atol=1e-10))


def test_linear_system_against_expm_and_its_frechet_derivative():
    rng = np.random.default_rng(0)
    A, y0 = 0.5 * rng.standard_normal((3, 3)), rng.standard_normal(3)
    g_A, g_y0 = s2sad.grad(weighted, wrt=(0, 1))(A, y0)
    np.testing.assert_allclose(g_y0, sum(linalg.expm(A * t).T @ w for t, w in zip(TL, W)), rtol=1e-7)
    expected = np.zeros((3, 3))
    for j, k in np.ndindex(3, 3):
        E = np.zeros((3, 3))
        E[j, k] = 1.0
        expected[j, k] = sum(w @ linalg.expm_frechet(A * t, E * t, compute_expm=False) @ y0 for t, w in zip(TL, W))
    np.testing.assert_allclose(g_A, expected, rtol=1e-7, atol=1e-10)
    D = rng.standard_normal((3, 3))
    along = sum(w @ linalg.expm_frechet(A * t, D * t, compute_expm=False) @ y0 for t, w in zip(TL, W))
    assert s2sad.jvp(weighted, (A, y0), (D, None))[1] == pytest.approx(along, rel=1e-7)


# --- what a right-hand side may be ---------------------------------------------------------------------------
def spring(t, y, p):
    return [y[1], -p["w"] ** 2 * y[0] - p["c"] * y[1]]        # a list, tfirst, parameters in a dict


def springy(p, y0):
    ys = odeint(spring, y0, T, args=(p,), rtol=1e-10, atol=1e-10, tfirst=True)
    return np.sum(ys[:, 0] ** 2) + ys[-1, 1]


def test_tfirst_a_list_valued_right_hand_side_and_dict_parameters():
    p, y0 = {"w": 1.5, "c": 0.2}, np.array([1.0, 0.0])
    g_p, g_y0 = s2sad.grad(springy, wrt=(0, 1))(p, y0)
    assert set(g_p) == {"w", "c"}
    for key in p:
        assert g_p[key] == pytest.approx(differences(lambda x: springy({**p, key: x}, y0), p[key]), rel=1e-6)
    np.testing.assert_allclose(g_y0, differences(lambda y: springy(p, y), y0), rtol=1e-6)
    v = np.array([0.3, 1.0])
    np.testing.assert_allclose(s2sad.hvp(springy, wrt=1)(p, y0, v),
                               grad_differences(lambda y: s2sad.grad(springy, wrt=1)(p, y), y0, v), rtol=1e-6)


def logistic(y, t, r, K, unused):
    return r * y * (1.0 - y / K)


def test_several_arguments_a_count_among_them_and_a_scalar_state():
    def grown(r, K):
        return np.sum(odeint(logistic, 0.1, T, args=(r, K, 3), rtol=1e-10, atol=1e-10))
    g_r, g_K = s2sad.grad(grown, wrt=(0, 1))(0.8, 2.0)
    assert g_r == pytest.approx(differences(lambda r: grown(r, 2.0), 0.8), rel=1e-6)
    assert g_K == pytest.approx(differences(lambda K: grown(0.8, K), 2.0), rel=1e-6)
    assert s2sad.jvp(grown, (0.8, 2.0), (1.0, -0.5))[1] == pytest.approx(g_r - 0.5 * g_K, rel=1e-7)


RATE = 0.7


def test_a_lambda_right_hand_side_and_times_that_decrease():
    def from_lambda(y0):
        return np.sum(odeint(lambda y, t: -RATE * y, y0, T, rtol=1e-10, atol=1e-10))
    np.testing.assert_allclose(s2sad.grad(from_lambda)(np.array([2.0])), [np.sum(np.exp(-RATE * T))], rtol=1e-7)
    backwards = T[::-1]

    def going_back(k):
        return np.sum(odeint(lambda y, t, k: -k * y, 2.0, backwards, args=(k,), rtol=1e-10, atol=1e-10))
    s = backwards - backwards[0]
    assert s2sad.grad(going_back)(RATE) == pytest.approx(np.sum(-s * 2.0 * np.exp(-RATE * s)), rel=1e-7)

    def closing_over(k):
        return np.sum(odeint(lambda y, t: -k * y, 2.0, T))
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="lambda reads `k`"):
        s2sad.grad(closing_over)(RATE)                    # (a derivative through a closure would be lost: refused)


def test_float32_parameters_get_float32_gradients():
    k = np.array([0.7], dtype=np.float32)

    def f(k):
        return np.sum(odeint(decay, np.array([1.0, 2.0]), T, args=(k,)))
    g = s2sad.grad(f)(k)
    assert g.dtype == np.float32
    assert g[0] == pytest.approx(np.sum(-3.0 * T * np.exp(-0.7 * T)), rel=1e-4)


def test_generated_code_solves_the_adjoint_ode_with_the_callers_tolerances():
    text = s2sad.adjoint_source(fit)
    assert "odeint_grads(ys_bar, ys, oscillator, y0, " in text and "1e-10, 1e-10" in text
    assert "for " not in text                                     # no unrolled solver steps
    forward = s2sad.adjoint_source(fit, kind="jvp", mode="forward")
    assert "odeint_tangent(oscillator, y0, " in forward


# --- solve_ivp -----------------------------------------------------------------------------------------------
def forced(t, y, theta):
    return np.array([y[1], -theta[0] * y[0] - theta[1] * y[1] + forcing(t)])


def ivp_fit(theta, y0):
    sol = solve_ivp(forced, (0.0, 2.0), y0, t_eval=T, args=(theta,), rtol=1e-10, atol=1e-10)
    return np.sum((sol.y - DATA.T) ** 2)


def test_solve_ivp_first_and_second_derivatives():
    g_theta, g_y0 = s2sad.grad(ivp_fit, wrt=(0, 1))(THETA, Y0)
    np.testing.assert_allclose(g_theta, differences(lambda th: ivp_fit(th, Y0), THETA), rtol=1e-6)
    np.testing.assert_allclose(g_y0, differences(lambda y: ivp_fit(THETA, y), Y0), rtol=1e-6)
    # the same problem as odeint's: the same gradient
    np.testing.assert_allclose(g_theta, s2sad.grad(fit)(THETA, Y0), rtol=1e-7)
    v, w = np.array([0.3, -0.7]), np.array([-1.1, 0.4])
    assert s2sad.jvp(ivp_fit, (THETA, Y0), (v, w))[1] == pytest.approx(g_theta @ v + g_y0 @ w, rel=1e-7)
    gradient = s2sad.grad(ivp_fit)
    np.testing.assert_allclose(s2sad.hvp(ivp_fit)(THETA, v, Y0),
                               grad_differences(lambda th: gradient(th, Y0), THETA, v), rtol=1e-6)


def test_solve_ivp_with_respect_to_the_times_and_through_sol_t():
    def timed(t0, t_eval):
        sol = solve_ivp(forced, (t0, 2.5), Y0, method="DOP853", t_eval=t_eval, args=(THETA,), rtol=1e-10, atol=1e-10)
        return np.sum(sol.y[0] * sol.t) + np.sum(sol.y[1] ** 2)
    te = np.array([0.3, 0.9, 1.4, 2.0])
    g_t0, g_te = s2sad.grad(timed, wrt=(0, 1))(0.1, te)
    assert g_t0 == pytest.approx(differences(lambda t0: timed(t0, te), 0.1), rel=1e-6)
    np.testing.assert_allclose(g_te, differences(lambda t: timed(0.1, t), te), rtol=1e-6)
    v = np.array([1.0, -2.0, 0.5, 0.3])
    assert s2sad.jvp(timed, (0.1, te), (0.7, v))[1] == pytest.approx(0.7 * g_t0 + g_te @ v, rel=1e-7)


def test_solve_ivp_with_respect_to_t_span_as_a_tuple():
    def spanned(t0, k):
        sol = solve_ivp(lambda_free_decay, (t0, 3.0), [2.0], t_eval=[1.0, 2.0, 3.0], args=(k,), rtol=1e-10,
                        atol=1e-10)
        return np.sum(sol.y)
    y = 2.0 * np.exp(-0.7 * (np.array([1.0, 2.0, 3.0]) - 0.5))
    g_t0, g_k = s2sad.grad(spanned, wrt=(0, 1))(0.5, 0.7)
    assert g_t0 == pytest.approx(np.sum(0.7 * y), rel=1e-7)
    assert g_k == pytest.approx(np.sum(-(np.array([1.0, 2.0, 3.0]) - 0.5) * y), rel=1e-7)


def lambda_free_decay(t, y, k):
    return -k * y


# --- refusals ----------------------------------------------------------------------------------------------
def test_what_is_refused_says_so():
    def with_info(k):
        ys, info = odeint(decay, 1.0, T, args=(k,), full_output=1)
        return np.sum(ys)
    with pytest.raises(NotImplementedError, match="full_output"):
        s2sad.grad(with_info)(0.7)

    def no_t_eval(k):
        return np.sum(solve_ivp(lambda_free_decay, (0.0, 1.0), [1.0], args=(k,)).y)
    with pytest.raises(NotImplementedError, match="t_eval"):
        s2sad.grad(no_t_eval)(0.7)
    with pytest.raises(NotImplementedError, match="t_eval"):
        s2sad.jvp(no_t_eval, (0.7,), (1.0,))

    def with_events(k):
        return np.sum(solve_ivp(lambda_free_decay, (0.0, 1.0), [1.0], t_eval=T / 2, args=(k,), events=crossing).y)
    with pytest.raises(NotImplementedError, match="events"):
        s2sad.grad(with_events)(0.7)

    def as_a_list(k):
        return np.sum(solve_ivp(lambda_free_decay, (0.0, 1.0), [1.0], t_eval=T / 2, args=[k]).y)
    with pytest.raises(NotImplementedError, match="args is a tuple"):
        s2sad.grad(as_a_list)(0.7)

    def vectorized(k):
        return np.sum(solve_ivp(lambda_free_decay, (0.0, 1.0), [1.0], t_eval=T / 2, args=(k,), vectorized=True).y)
    with pytest.raises(NotImplementedError, match="vectorized"):
        s2sad.grad(vectorized)(0.7)

    def lsoda_option(k):
        return np.sum(solve_ivp(lambda_free_decay, (0.0, 1.0), [1.0], method="LSODA", t_eval=T / 2, args=(k,),
                                min_step=1e-8).y)
    with pytest.raises(s2sad.TransformError, match="min_step"):
        s2sad.grad(lsoda_option)(0.7)

    def twice_in_time(t):
        return np.sum(odeint(decay, 2.0, t, args=(0.7,), rtol=1e-10, atol=1e-10))
    with pytest.raises(NotImplementedError, match="second derivatives .* times"):
        s2sad.hvp(twice_in_time)(T, np.ones_like(T))


def scaled(y, t, p):
    return -p["w"] * p["n"] * y


def test_an_args_entry_holding_floats_and_integers_is_refused():
    def loss(w, n):
        return np.sum(odeint(scaled, 1.0, T, args=({"w": w, "n": n},)))
    with pytest.raises(NotImplementedError, match="floats and integers together"):
        s2sad.grad(loss)(1.5, 3)
    with pytest.raises(NotImplementedError, match="floats and integers together"):
        s2sad.jvp(loss, (1.5, 3), (1.0, None))
    assert s2sad.grad(loss)(1.5, 3.0) == pytest.approx(differences(lambda w: loss(w, 3.0), 1.5), rel=1e-5)


def test_the_helper_rules_are_the_transposes_of_their_linear_helpers():
    """tangent_items and ivp_tangent/ivp_part are linear selections; their rules (used by derivatives of derivatives
    through the tangent ODE) give the transpose: <g, f(d)> == <f_vjp(g), d>, and the forward rule is f itself."""
    from s2sad.integrate import ivp_part, ivp_tangent, tangent_items, tangent_items_grad
    from s2sad.rules import jvp_rule, vjp_rule

    def pair(a, b):
        if a is None or b is None:
            return 0.0
        if isinstance(a, dict):
            return sum(pair(a[k], b.get(k)) for k in a)
        if isinstance(a, tuple):
            return sum(pair(x, y) for x, y in zip(a, b))
        return float(np.sum(np.asarray(a) * np.asarray(b)))
    args = (np.ones(2), 3, {"a": 1.0}, oscillator)
    d = (np.array([1.0, 2.0]), 0.0, {"a": 0.5}, None)
    g = (np.array([3.0, -1.0]), 7.0, {"a": 2.0}, None)
    selected = tangent_items(args, d)
    assert selected[1] is None and selected[3] is None
    back = vjp_rule(tangent_items)(g, selected, args, d)[1]
    assert pair(g, selected) == pytest.approx(pair(back, d)) and back[1] is None
    assert pair(vjp_rule(tangent_items_grad)(d, back, g, args)[0], g) == pytest.approx(pair(d, back))
    assert jvp_rule(tangent_items)[0](d, selected, args, d)[1] == selected
    y_dot, t_dot, h = np.arange(6.0).reshape(2, 3), np.ones(3), {"y": np.full((2, 3), 0.5), "t": np.arange(3.0)}
    tangent = ivp_tangent(y_dot, t_dot)
    assert tangent.y is y_dot and tangent.t is t_dot and (tangent + tangent).y[1, 2] == 10.0
    y_bar, t_bar, _ = vjp_rule(ivp_tangent)(h, tangent, y_dot, t_dot)
    assert pair(h, dict(tangent)) == pytest.approx(pair(y_bar, y_dot) + pair(t_bar, t_dot))
    assert pair(vjp_rule(ivp_part)(y_bar, None, h, "y")[0], h) == pytest.approx(pair(y_bar, ivp_part(h, "y")))


def crossing(t, y, k):
    return y[0] - 0.5


def test_rules_register_whether_scipy_integrate_is_imported_before_or_after_s2sad():
    for first, then in (("import s2sad", "from scipy.integrate import odeint"),
                        ("from scipy.integrate import odeint", "import s2sad")):
        code = f"""
            {first}
            {then}
            import numpy as np
            import sys
            sys.path.insert(0, {str(__import__('pathlib').Path(__file__).parent)!r})
            from test_odeint import decayed
            g = s2sad.grad(decayed)(0.7, 2.0, np.array([0.0, 1.0]))
            assert abs(g - (-2.0 * np.exp(-0.7))) < 1e-7, g
            """
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr


def decay_in_place(y, t, k):
    y *= -k                           # the solver's own state changed: what it computes is no solution of an ODE
    return y


def fit_decay_in_place(k):
    return np.sum(odeint(decay_in_place, np.array([1.0, 0.5]), T, args=(k,))[-1] ** 2)


def test_a_right_hand_side_changing_its_state_in_place_is_refused():
    """The adjoint sweep also ran it on the solution's rows, which it changed: a gradient matching nothing."""
    k = np.array([0.7, 1.3])
    for derivative in (lambda: s2sad.grad(fit_decay_in_place)(k),
                       lambda: s2sad.jvp(fit_decay_in_place, (k,), (np.ones(2),))):
        with pytest.raises(s2sad.UnsupportedValueError, match="changes its argument y in place"):
            derivative()
