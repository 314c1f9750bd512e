"""Derivatives one order above the former limits of runtime helpers: np.prod's third derivative (prod_partials),
np.einsum's fourth (einsum_directions), np.gradient's second in its spacings (gradient_spacing_tangent), and
Hessians and Hessian-vector products through np.linalg.norm, cholesky and solve.

Each is checked against central differences of the order below (rel 1e-6) and against an independent route at
tight tolerance: a closed form, a brute-force sum, or the same function written without the construct.
"""
import itertools

import numpy as np
import pytest

import s2sad

from .test_higher_order import EPS, central     # noqa: F401  (central differences, shared)


def along(f, x, v, eps=EPS):
    """The central difference of f at x along v."""
    return (np.asarray(f(x + eps * v)) - np.asarray(f(x - eps * v))) / (2 * eps)


# --- np.prod: third order (prod_partials) -------------------------------------------------------------------
def prod_of_three(x):
    return np.prod(np.array([x, x * x, 2.0 + x]))          # 2 x^3 + x^4


@pytest.mark.parametrize("x", [0.7, -1.3, 0.0, -2.0])       # 0 and -2: zeros in the array
def test_prod_third_order_scalar(x):
    g2 = s2sad.grad(s2sad.grad(prod_of_three))
    g3 = s2sad.grad(g2)
    assert g3(x) == pytest.approx(12 + 24 * x, rel=1e-10, abs=1e-10)
    assert g3(x) == pytest.approx(central(g2, x), rel=1e-6, abs=1e-6)
    assert s2sad.jvp(g2, (x,), (1.0,))[1] == pytest.approx(12 + 24 * x, rel=1e-10, abs=1e-10)
    assert s2sad.grad(g3)(x) == pytest.approx(24.0, rel=1e-10)


def test_prod_third_order_lambda():
    g3 = s2sad.grad(s2sad.grad(s2sad.grad(lambda x: np.prod(np.array([x, x * x, 2.0 + x])))))
    assert g3(0.4) == pytest.approx(12 + 24 * 0.4, rel=1e-10)


U5 = np.array([0.3, -1.1, 0.8, 0.5, -0.4])
V5 = np.array([-0.7, 0.2, 1.3, -0.6, 0.9])


def prod_sum(a):
    return np.prod(a)


def prod_along_u(a):
    return s2sad.jvp(prod_sum, (a,), (U5[:a.size],))[1]


def prod_along_uv(a):
    return s2sad.jvp(prod_along_u, (a,), (V5[:a.size],))[1]


def brute_third(a, u, v):
    """sum over distinct i, j, k of u[i] v[j] prod_{l not in {i, j, k}} a[l], at each k."""
    n = a.size
    out = np.zeros(n)
    for i, j, k in itertools.permutations(range(n), 3):
        out[k] += u[i] * v[j] * np.prod([a[m] for m in range(n) if m not in (i, j, k)])
    return out


@pytest.mark.parametrize("a", [np.array([1.5, 0.4, -2.0, 0.7, 3.0]), np.array([1.5, 0.0, -2.0, 0.7, 3.0]),
                               np.array([0.0, 1.2, 0.0, -0.8, 0.6]), np.array([0.0, 0.0, 0.0, 1.1])])
def test_prod_third_order_array(a):
    u, v = U5[:a.size], V5[:a.size]
    third = s2sad.grad(prod_along_uv)(a)
    expected = brute_third(a, u, v)
    np.testing.assert_allclose(third, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s2sad.hessian(prod_along_u)(a) @ v, expected, rtol=1e-10, atol=1e-12)
    hess = s2sad.hessian(prod_sum)
    np.testing.assert_allclose(third, along(hess, a, u) @ v, rtol=1e-6, atol=1e-7)


A34 = np.array([[1.2, 0.0, -0.5, 2.0], [0.3, 0.8, 1.1, -0.7], [0.0, 0.0, 1.5, 0.9]])   # zeros, one row two
D34 = np.array([[0.5, -0.3, 0.2, 0.1], [0.4, 0.6, -0.2, 0.3], [-0.1, 0.7, 0.2, -0.5]])


def rows_product(a):
    return np.sum(np.sin(np.prod(a, axis=1)))


def rows_product_written_out(a):
    return np.sum(np.sin(a[:, 0] * a[:, 1] * a[:, 2] * a[:, 3]))


def rows_along(a):
    return s2sad.jvp(rows_product, (a,), (D34,))[1]


def rows_along_written_out(a):
    return s2sad.jvp(rows_product_written_out, (a,), (D34,))[1]


def rows_along_twice(a):
    return s2sad.jvp(rows_along, (a,), (D34[::-1],))[1]


def rows_along_twice_written_out(a):
    return s2sad.jvp(rows_along_written_out, (a,), (D34[::-1],))[1]


def test_prod_third_order_with_an_axis():
    third = s2sad.grad(rows_along_twice)(A34)
    np.testing.assert_allclose(third, s2sad.grad(rows_along_twice_written_out)(A34), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(third, along(s2sad.grad(rows_along), A34, D34[::-1]), rtol=1e-6, atol=1e-7)


# --- np.einsum: fourth order (einsum_directions) ----------------------------------------------------------------
def einsum_three(x):
    a = np.array([x, x * x, 1.0])
    b = np.array([2.0 * x, np.sin(x), x ** 3])
    return np.einsum("i,i,i->", a, b, a)                    # 2 x^3 + x^4 sin x + x^3


def einsum_three_written_out(x):
    return x * (2.0 * x) * x + (x * x) * np.sin(x) * (x * x) + x ** 3


@pytest.mark.parametrize("x", [0.7, -1.2])
def test_einsum_fourth_order_scalar(x):
    g3 = s2sad.grad(s2sad.grad(s2sad.grad(einsum_three)))
    g4 = s2sad.grad(g3)
    plain4 = s2sad.grad(s2sad.grad(s2sad.grad(s2sad.grad(einsum_three_written_out))))
    # Leibniz: (x^4 sin x)'''' = (x^4 - 72 x^2 + 24) sin x + (96 x - 16 x^3) cos x; the cubes contribute nothing
    s, c = np.sin(x), np.cos(x)
    closed = (24 - 72 * x ** 2 + x ** 4) * s + (96 * x - 16 * x ** 3) * c
    assert g4(x) == pytest.approx(closed, rel=1e-10)
    assert g4(x) == pytest.approx(plain4(x), rel=1e-10)
    assert g4(x) == pytest.approx(central(g3, x), rel=1e-6)
    assert s2sad.jvp(g3, (x,), (1.0,))[1] == pytest.approx(closed, rel=1e-10)


X33 = np.array([[0.4, -0.3, 0.8], [0.1, 0.9, -0.5], [-0.6, 0.2, 0.3]])
E1, E2, E3 = (np.random.default_rng(k).standard_normal((3, 3)) for k in (1, 2, 3))


def chain(x):
    return np.einsum("ij,jk,kl,li->", x, x, np.sin(x), x)


def chain_written_out(x):
    return np.trace(x @ x @ np.sin(x) @ x)


def chain_1(x):
    return s2sad.jvp(chain, (x,), (E1,))[1]


def chain_2(x):
    return s2sad.jvp(chain_1, (x,), (E2,))[1]


def chain_3(x):
    return s2sad.jvp(chain_2, (x,), (E3,))[1]


def plain_1(x):
    return s2sad.jvp(chain_written_out, (x,), (E1,))[1]


def plain_2(x):
    return s2sad.jvp(plain_1, (x,), (E2,))[1]


def plain_3(x):
    return s2sad.jvp(plain_2, (x,), (E3,))[1]


def test_einsum_fourth_order_array():
    fourth = s2sad.grad(chain_3)(X33)
    np.testing.assert_allclose(fourth, s2sad.grad(plain_3)(X33), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fourth, along(s2sad.grad(chain_2), X33, E3), rtol=1e-6, atol=1e-7)


# --- np.gradient: second order in its spacings (gradient_spacing_tangent) --------------------------------------
F4 = np.array([1.0, 4.0, 2.0, 5.0, 3.5])
S4 = float(np.sum(np.gradient(F4) ** 2))


def spaced(h):
    return np.sum(np.gradient(F4, h) ** 2)                 # S / h^2


@pytest.mark.parametrize("h", [0.5, 1.7])
def test_gradient_second_and_third_order_in_the_spacing(h):
    g1 = s2sad.grad(spaced)
    g2 = s2sad.grad(g1)
    assert g2(h) == pytest.approx(6 * S4 / h ** 4, rel=1e-10)
    assert g2(h) == pytest.approx(central(g1, h), rel=1e-6)
    assert s2sad.jvp(g1, (h,), (1.0,))[1] == pytest.approx(6 * S4 / h ** 4, rel=1e-10)
    assert s2sad.grad(g2)(h) == pytest.approx(-24 * S4 / h ** 5, rel=1e-10)


G2D = np.array([[1.0, 2.5, 0.5, 3.0], [2.0, -1.0, 1.5, 0.0], [0.5, 1.0, 4.0, 2.0]])


def two_spacings(h1, h2):
    d0, d1 = np.gradient(G2D, h1, h2)
    return np.sum(d0 ** 2 * d1)


def test_gradient_mixed_second_order_in_two_spacings():
    d0, d1 = np.gradient(G2D)
    k = np.sum(d0 ** 2 * d1)                               # the function is k / (h1^2 h2)
    h1, h2 = 0.8, 1.3
    mixed = s2sad.grad(s2sad.grad(two_spacings, wrt=0), wrt=1)
    assert mixed(h1, h2) == pytest.approx(2 * k / (h1 ** 3 * h2 ** 2), rel=1e-10)
    assert mixed(h1, h2) == pytest.approx(central(lambda b: s2sad.grad(two_spacings, wrt=0)(h1, b), h2), rel=1e-6)
    second = s2sad.grad(s2sad.grad(two_spacings, wrt=1), wrt=1)
    assert second(h1, h2) == pytest.approx(2 * k / (h1 ** 2 * h2 ** 3), rel=1e-10)


def values_and_spacing(a, h):
    return np.sum(np.gradient(np.array([a, a * a, 1.0, np.sin(a), 2.0]), h) ** 3)


def values_and_spacing_written_out(a, h):
    f = np.array([a, a * a, 1.0, np.sin(a), 2.0])
    d = np.array([f[1] - f[0], (f[2] - f[0]) / 2, (f[3] - f[1]) / 2, (f[4] - f[2]) / 2, f[4] - f[3]]) / h
    return np.sum(d ** 3)


def test_gradient_mixed_second_order_in_values_and_spacing():
    a, h = 0.6, 0.9
    for i, j in ((0, 1), (1, 0), (1, 1), (0, 0)):
        got = s2sad.grad(s2sad.grad(values_and_spacing, wrt=i), wrt=j)(a, h)
        plain = s2sad.grad(s2sad.grad(values_and_spacing_written_out, wrt=i), wrt=j)(a, h)
        assert got == pytest.approx(plain, rel=1e-10)
        first = s2sad.grad(values_and_spacing, wrt=i)
        numeric = central(lambda b: first(*((a, b) if j == 1 else (b, h))), h if j == 1 else a)
        assert got == pytest.approx(numeric, rel=1e-6)
    third = s2sad.grad(s2sad.grad(s2sad.grad(values_and_spacing, wrt=1), wrt=0), wrt=1)(a, h)
    plain = s2sad.grad(s2sad.grad(s2sad.grad(values_and_spacing_written_out, wrt=1), wrt=0), wrt=1)(a, h)
    assert third == pytest.approx(plain, rel=1e-10)


# --- Hessians and Hessian-vector products through np.linalg.norm, cholesky and solve -------------------------
SPD = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
X3 = np.array([0.3, -0.7, 0.5])
V3 = np.array([1.0, 0.5, -0.2])


def norm_poly(x):
    return np.linalg.norm(x) ** 3 + np.linalg.norm(x)


def chol_logdet(x):
    return np.sum(np.log(np.diag(np.linalg.cholesky(SPD + np.outer(x, x)))))     # log det / 2


def chol_cubes(x):
    return np.sum(np.linalg.cholesky(SPD + np.outer(x, np.sin(x)) + np.outer(np.sin(x), x)) ** 3)


M2 = np.array([[3.0, 0.4], [-0.2, 2.0]])
B2 = np.array([1.0, -2.0])


def solve_sq(x):
    return np.sum(np.linalg.solve(M2 + np.diag(x * x), B2 + x) ** 2)


def solve_sq_written_out(x):                               # Cramer's rule
    a, b, c, d = M2[0, 0] + x[0] * x[0], M2[0, 1], M2[1, 0], M2[1, 1] + x[1] * x[1]
    r0, r1 = B2[0] + x[0], B2[1] + x[1]
    det = a * d - b * c
    return ((d * r0 - b * r1) / det) ** 2 + ((a * r1 - c * r0) / det) ** 2


def _closed_hessian(name, x):
    if name == "norm_poly":                                # phi(r) = r^3 + r
        r = np.linalg.norm(x)
        return (3 * r + 1 / r) * np.eye(x.size) + (3 / r - 1 / r ** 3) * np.outer(x, x)
    if name == "chol_logdet":                              # log(1 + x' A^-1 x) / 2 + const
        inv = np.linalg.inv(SPD)
        b = inv @ x
        q = x @ b
        return inv / (1 + q) - 2 * np.outer(b, b) / (1 + q) ** 2
    if name == "solve_sq":
        return s2sad.hessian(solve_sq_written_out)(x)
    return None


@pytest.mark.parametrize("f, x", [(norm_poly, X3), (chol_logdet, X3), (chol_cubes, X3),
                                  (solve_sq, np.array([0.4, -0.9]))], ids=lambda p: getattr(p, "__name__", ""))
def test_hessian_and_hvp_through_linalg(f, x):
    v = V3[:x.size]
    hess = s2sad.hessian(f)(x)
    np.testing.assert_allclose(hess, central(s2sad.grad(f), x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(hess, s2sad.jacobian(s2sad.grad(f), mode="reverse")(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s2sad.hvp(f)(x, v), hess @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s2sad.hvp(f)(x, v), along(s2sad.grad(f), x, v), rtol=1e-6, atol=1e-7)
    closed = _closed_hessian(f.__name__, x)
    if closed is not None:
        np.testing.assert_allclose(hess, closed, rtol=1e-10, atol=1e-12)


W23 = np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.3]])


def tanh_layer(x):
    return np.sum(np.tanh(W23 @ x) ** 2)


def tanh_layer_along(x):
    return s2sad.jvp(tanh_layer, (x,), (V3,))[1]


def test_third_order_of_a_vector_function_as_the_hessian_of_a_directional_derivative():
    """The derivative of hessian(F) along v is the Hessian of F's derivative along v (s2sad.jvp of a hessian
    itself is refused: see the report)."""
    third = s2sad.hessian(tanh_layer_along)(X3)
    np.testing.assert_allclose(third, along(s2sad.hessian(tanh_layer), X3, V3), rtol=1e-6, atol=1e-8)
    # F = sum_i tanh(z_i)^2 with z = W x; with t = tanh z, s = 1 - t^2: (t^2)''' = -16 t s^2 + 8 t^3 s, so the
    # third derivative along v is W' diag((t^2)''' * (W v)) W
    t = np.tanh(W23 @ X3)
    sech2 = 1 - t ** 2
    d3 = -16 * t * sech2 ** 2 + 8 * t ** 3 * sech2
    wv = W23 @ V3
    np.testing.assert_allclose(third, W23.T @ np.diag(d3 * wv) @ W23, rtol=1e-10, atol=1e-12)
