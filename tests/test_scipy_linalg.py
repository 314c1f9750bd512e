"""Rules for ``scipy.linalg`` (s2sad/rules/scipy_linalg.py), skipped when scipy is missing.

Witnesses for each function: ``check_grads`` at order 2 (reverse mode against central differences,
forward against reverse, Hessian-vector products against differences of the gradient, and their
symmetry); forward mode against central differences; an independent route (the same function written
with NumPy, which s2sad differentiates with np.linalg's rules, or the derivative by hand); the Hessian
against differences of the gradient; float32 arguments get float32 gradients. Entries of ``a`` a function
does not read (the other triangle, a unit diagonal, what ``assume_a`` leaves out) get a zero derivative,
which central differences confirm. Then batches, refusals, and the lazy registration.
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2sad
from s2sad import runtime as rt
from s2sad.rules import registry
from s2sad.testing import check_grads

from .sources import load_module

linalg = pytest.importorskip("scipy.linalg")


def _batched():
    try:
        linalg.inv(np.stack([np.eye(2), np.eye(2)]))
        return True
    except ValueError:
        return False


# scipy 1.17 gave inv an assume_a and took stacks of matrices in inv/solve/cholesky...; older scipy (the oldest
# Python's CI run has 1.15) takes neither: those cases are skipped there, the others run
INV_STRUCTURES = "assume_a" in __import__("inspect").signature(linalg.inv).parameters
BATCHED = _batched()
needs_inv_structures = pytest.mark.skipif(not INV_STRUCTURES, reason="scipy.linalg.inv has no assume_a before 1.17")
needs_batches = pytest.mark.skipif(not BATCHED, reason="scipy.linalg takes stacks of matrices from 1.17 on")

EPS = 1e-6
RTOL, ATOL = 1e-6, 1e-8

SOURCE = '''
import numpy as np
import scipy.linalg as sl
from scipy.linalg import cho_factor, cho_solve

from s2sad.rules.scipy_linalg import KEPT             # what this scipy's cho_factor leaves in c's other triangle


def solve_triangular(a, b, w, trans, lower, unit):
    return np.sum(sl.solve_triangular(a, b, trans, lower, unit) * w)


def solve_triangular_keywords(a, b, w):
    return np.sum(sl.solve_triangular(a, b, trans="T", lower=True, unit_diagonal=True, check_finite=False) * w)


def np_triangular(a, b, w, trans, lower, unit):
    if lower:
        t = np.tril(a, -1) if unit else np.tril(a)
    else:
        t = np.triu(a, 1) if unit else np.triu(a)
    if unit:
        t = t + np.eye(a.shape[0])
    if trans in (1, 2, "T", "C"):
        t = t.T
    return np.sum(np.linalg.solve(t, b) * w)


def solve(a, b, w, assume_a, lower, transposed):
    return np.sum(sl.solve(a, b, lower, assume_a=assume_a, transposed=transposed) * w)


def solve_plain(a, b, w):
    return np.sum(sl.solve(a, b) * w)


def structured(a, assume_a, lower):
    if assume_a in ("sym", "symmetric", "pos", "positive definite", "her", "hermitian"):
        if lower:
            return np.tril(a) + np.tril(a, -1).T
        return np.triu(a) + np.triu(a, 1).T
    if assume_a == "diagonal":
        return np.diag(np.diagonal(a))
    if assume_a == "tridiagonal":
        return np.triu(np.tril(a, 1), -1)
    if assume_a == "upper triangular":
        return np.triu(a)
    if assume_a == "lower triangular":
        return np.tril(a)
    return a


def np_solve(a, b, w, assume_a, lower, transposed):
    m = structured(a, assume_a, lower)
    if transposed:
        m = m.T
    return np.sum(np.linalg.solve(m, b) * w)


def inv(a, w, assume_a, lower):
    return np.sum(sl.inv(a, assume_a=assume_a, lower=lower) * w)


def np_inv(a, w, assume_a, lower):
    return np.sum(np.linalg.inv(structured(a, assume_a, lower)) * w)


def det(a):
    return sl.det(a)


def log_det(a):
    return np.log(np.abs(sl.det(a)))


def cholesky(a, w, lower):
    return np.sum(sl.cholesky(a, lower=lower) * w)


def np_cholesky(a, w, lower):
    factor = np.linalg.cholesky(structured(a, "pos", lower))
    if not lower:
        factor = factor.T
    return np.sum(factor * w)


def cho_pair(a, b, w, lower):
    c, low = cho_factor(a, lower)
    return np.sum(cho_solve((c, low), b) * w)


def cho_nested(a, b, w):
    return np.sum(cho_solve(cho_factor(a, lower=True), b) * w)


def np_cho(a, b, w, lower):
    return np.sum(np.linalg.solve(structured(a, "pos", lower), b) * w)


def cho_c(a, w, lower):
    c, low = cho_factor(a, lower=lower)
    return np.sum(c * w)


def np_cho_c(a, w, lower):
    factor = np.linalg.cholesky(structured(a, "pos", lower))
    if lower:
        return np.sum((factor + KEPT * np.triu(a, 1)) * w)
    return np.sum((factor.T + KEPT * np.tril(a, -1)) * w)


def cho_solve_factor(c, b, w, lower):
    return np.sum(cho_solve((c, lower), b) * w)


def gaussian_nll(a, y):
    c = cho_factor(a, lower=True)
    alpha = cho_solve(c, y)
    return 0.5 * np.sum(y * alpha) + np.sum(np.log(np.diagonal(c[0])))


def expm(a, w):
    return np.sum(sl.expm(a) * w)


def expm_path(t, a, b, w):
    return np.sum(np.multiply(sl.expm(a + t * b), w))


def sqrtm(a, w):
    return np.sum(sl.sqrtm(a) * w)


def sylvester(a, b, q, w):
    return np.sum(sl.solve_sylvester(a, b, q) * w)


def overwrite_b(a, b):
    return np.sum(sl.solve_triangular(a, b, overwrite_b=True))


def overwrite_a(a):
    return np.sum(sl.cholesky(a, overwrite_a=True))


def sqrtm_disp(a):
    return np.sum(sl.sqrtm(a, disp=False)[0])
'''


@pytest.fixture(scope="module")
def fns(tmp_path_factory):
    """The functions above, written to a real file (s2sad reads their source)."""
    return load_module(tmp_path_factory.mktemp("scipy_linalg") / "scipy_linalg_functions.py", SOURCE)


def central(f, x, v, eps=EPS):
    return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)


def hessian_by_differences(grad_f, x, *rest):
    """Columns of the Hessian: central differences of the gradient."""
    h = np.zeros(x.shape + x.shape)
    for k in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[k] = 1.0
        h[(...,) + k] = central(lambda z: grad_f(z, *rest), x, e)
    return h


def with_arg(args, i, value):
    args = list(args)
    args[i] = value
    return args


def witnesses(f, args, wrt, rng, reference=None, order=2):
    """check_grads; forward mode against central differences; a reference function's gradient (the same
    function written another way) against s2sad's."""
    wrt = tuple(wrt)
    check_grads(f, args, wrt=wrt, order=order)
    grads = s2sad.grad(f, wrt=wrt)(*args)
    for i, g in zip(wrt, grads):
        v = rng.standard_normal(np.shape(args[i]))
        tangents = [None] * len(args)
        tangents[i] = v
        value, tangent = s2sad.jvp(f, args, tangents)
        assert value == f(*args)
        np.testing.assert_allclose(tangent, central(lambda z: f(*with_arg(args, i, z)), args[i], v),
                                   rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(tangent, np.sum(g * v), rtol=1e-9, atol=1e-12)
        if reference is not None:
            np.testing.assert_allclose(g, s2sad.grad(reference, wrt=i)(*args), rtol=1e-9, atol=1e-12)
    return grads


def well_conditioned(rng, n=4):
    return rng.standard_normal((n, n)) + n * np.eye(n)


def positive_definite(rng, n=4):
    p = rng.standard_normal((n, n))
    return p @ p.T + n * np.eye(n)


def one_triangle_kept(s, lower, rng):
    """``s`` (symmetric) with junk in the triangle ``lower`` says is not read."""
    junk = rng.standard_normal(s.shape)
    return s + (np.triu(junk, 1) if lower else np.tril(junk, -1))


# --- solve_triangular -------------------------------------------------------------------------------
@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("unit", [False, True])
@pytest.mark.parametrize("b_shape", [(4,), (4, 2)])
def test_solve_triangular(trans, lower, unit, b_shape, fns, rng):
    a = well_conditioned(rng)
    b, w = rng.standard_normal(b_shape), rng.standard_normal(b_shape)
    args = (a, b, w, trans, lower, unit)
    a_bar, b_bar = witnesses(fns.solve_triangular, args, (0, 1), rng, reference=fns.np_triangular)
    unread = ~np.tri(4, k=-1 if unit else 0, dtype=bool) if lower else np.tri(4, k=0 if unit else -1, dtype=bool)
    assert np.all(a_bar[unread] == 0)
    assert np.any(a_bar[~unread] != 0)


def test_solve_triangular_keywords_hessian(fns, rng):
    a, b, w = well_conditioned(rng, 3), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    witnesses(fns.solve_triangular_keywords, (a, b, w), (0, 1), rng)
    h = s2sad.hessian(fns.solve_triangular_keywords)(a, b, w)
    np.testing.assert_allclose(h, hessian_by_differences(s2sad.grad(fns.solve_triangular_keywords), a, b, w),
                               rtol=RTOL, atol=1e-7)
    np.testing.assert_allclose(h, s2sad.hessian(fns.np_triangular)(a, b, w, "T", True, True), rtol=1e-9, atol=1e-12)


# --- solve, inv, det --------------------------------------------------------------------------------
STRUCTURES = [None, "gen", "general", "diagonal", "tridiagonal", "upper triangular", "lower triangular",
              "sym", "symmetric", "pos", "positive definite", "her", "hermitian"]


@pytest.mark.parametrize("assume_a", STRUCTURES)
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("transposed", [False, True])
def test_solve(assume_a, lower, transposed, fns, rng):
    a = one_triangle_kept(positive_definite(rng), lower, rng) if assume_a in (
        "sym", "symmetric", "pos", "positive definite", "her", "hermitian") else well_conditioned(rng)
    b, w = rng.standard_normal(4), rng.standard_normal(4)
    args = (a, b, w, assume_a, lower, transposed)
    a_bar, _ = witnesses(fns.solve, args, (0, 1), rng, reference=fns.np_solve)
    read = np.abs(s2sad.grad(fns.np_solve)(*args)) > 0
    assert np.all(a_bar[~read] == 0)


@pytest.mark.parametrize("b_shape", [(3,), (3, 1), (3, 2)])
def test_solve_hessian(b_shape, fns, rng):
    a, b, w = well_conditioned(rng, 3), rng.standard_normal(b_shape), rng.standard_normal(b_shape)
    witnesses(fns.solve_plain, (a, b, w), (0, 1), rng)
    h = s2sad.hessian(fns.solve_plain)(a, b, w)
    np.testing.assert_allclose(h, hessian_by_differences(s2sad.grad(fns.solve_plain), a, b, w), rtol=RTOL, atol=1e-7)
    np.testing.assert_allclose(h, s2sad.hessian(fns.np_solve)(a, b, w, None, False, False), rtol=1e-9, atol=1e-12)
    hb = s2sad.hessian(fns.solve_plain, wrt=1)(a, b, w)                    # linear in b
    np.testing.assert_allclose(hb, 0.0, atol=1e-12)


@needs_inv_structures
@pytest.mark.parametrize("assume_a", [None, "gen", "upper triangular", "lower triangular", "sym", "pos", "her"])
@pytest.mark.parametrize("lower", [False, True])
def test_inv(assume_a, lower, fns, rng):
    a = one_triangle_kept(positive_definite(rng), lower, rng) if assume_a in ("sym", "pos", "her") \
        else well_conditioned(rng)
    args = (a, rng.standard_normal((4, 4)), assume_a, lower)
    a_bar = witnesses(fns.inv, args, (0,), rng, reference=fns.np_inv)[0]
    read = np.abs(s2sad.grad(fns.np_inv)(*args)) > 0
    assert np.all(a_bar[~read] == 0)
    h = s2sad.hessian(fns.inv)(*args)
    np.testing.assert_allclose(h, hessian_by_differences(s2sad.grad(fns.inv), *args), rtol=RTOL, atol=1e-7)


def test_det(fns, rng):
    a = well_conditioned(rng, 3)
    g = witnesses(fns.det, (a,), (0,), rng)[0]
    np.testing.assert_allclose(g, np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-12)       # by hand
    witnesses(fns.log_det, (a,), (0,), rng)
    h = s2sad.hessian(fns.log_det)(a)                   # d2 log|det| = -tr(A^-1 dA A^-1 dA)
    inv_a = np.linalg.inv(a)
    np.testing.assert_allclose(h, -np.einsum("li,jk->ijkl", inv_a, inv_a), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h, hessian_by_differences(s2sad.grad(fns.log_det), a), rtol=RTOL, atol=1e-7)


# --- Cholesky ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("lower", [False, True])
def test_cholesky(lower, fns, rng):
    a = one_triangle_kept(positive_definite(rng), lower, rng)
    args = (a, rng.standard_normal((4, 4)), lower)
    a_bar = witnesses(fns.cholesky, args, (0,), rng, reference=fns.np_cholesky)[0]
    assert np.all((np.triu(a_bar, 1) if lower else np.tril(a_bar, -1)) == 0)       # the triangle not read
    h = s2sad.hessian(fns.cholesky)(*args)
    np.testing.assert_allclose(h, hessian_by_differences(s2sad.grad(fns.cholesky), *args), rtol=RTOL, atol=1e-7)


def test_cho_factor_other_triangle_is_what_the_rules_take(rng):
    """What cho_factor's c holds outside the factor: a's own entries (scipy <= 1.17, LAPACK leaves them) or
    zeros (scipy 1.18): the rules' derivative of those entries is a's, or none (rules/scipy_linalg.KEPT)."""
    from s2sad.rules import scipy_linalg
    a = one_triangle_kept(positive_definite(rng), True, rng)
    for lower in (False, True):
        c, _ = linalg.cho_factor(a, lower=lower)
        other = np.triu if lower else np.tril
        want = other(a, 1 if lower else -1) * scipy_linalg.KEPT
        np.testing.assert_array_equal(other(c, 1 if lower else -1), want)
    assert scipy_linalg.KEPT in (0.0, 1.0)


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("b_shape", [(4,), (4, 3)])
def test_cho_factor_and_solve(lower, b_shape, fns, rng):
    a = one_triangle_kept(positive_definite(rng), lower, rng)
    b, w = rng.standard_normal(b_shape), rng.standard_normal(b_shape)
    a_bar, _ = witnesses(fns.cho_pair, (a, b, w, lower), (0, 1), rng, reference=fns.np_cho)
    assert np.all((np.triu(a_bar, 1) if lower else np.tril(a_bar, -1)) == 0)
    witnesses(fns.cho_nested, (a, b, w), (0, 1), rng)


@pytest.mark.parametrize("lower", [False, True])
def test_cho_factor_c(lower, fns, rng):
    """Every entry of c: the factor's triangle, and a's own entries in the other."""
    a = one_triangle_kept(positive_definite(rng), lower, rng)
    witnesses(fns.cho_c, (a, rng.standard_normal((4, 4)), lower), (0,), rng, reference=fns.np_cho_c)


@pytest.mark.parametrize("lower", [False, True])
def test_cho_solve_with_respect_to_the_factor(lower, fns, rng):
    """cho_solve reads c's triangle `lower` only (the other may hold anything)."""
    c = np.tril(rng.standard_normal((4, 4)), -1) + np.diag(rng.uniform(1.0, 2.0, 4))
    c = (c if lower else c.T) + (np.triu if lower else np.tril)(rng.standard_normal((4, 4)), 1 if lower else -1)
    b, w = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    c_bar, _ = witnesses(fns.cho_solve_factor, (c, b, w, lower), (0, 1), rng)
    assert np.all((np.triu(c_bar, 1) if lower else np.tril(c_bar, -1)) == 0)
    factor = np.tril(c) if lower else np.triu(c).T                            # by hand: x = (L L^T)^-1 b
    x = np.linalg.solve(factor @ factor.T, b)
    b_bar = np.linalg.solve(factor @ factor.T, w)
    l_bar = -(b_bar @ x.T + x @ b_bar.T) @ factor
    np.testing.assert_allclose(c_bar, np.tril(l_bar) if lower else np.tril(l_bar).T, rtol=1e-10, atol=1e-12)


def test_gaussian_negative_log_likelihood(fns, rng):
    """A Gaussian process's marginal likelihood, as written with cho_factor: c[0] read directly too."""
    a, y = positive_definite(rng, 5), rng.standard_normal(5)
    g = witnesses(fns.gaussian_nll, (a, y), (0, 1), rng)[0]
    inv_a = np.linalg.inv(a)
    alpha = inv_a @ y                                   # by hand, on the lower triangle read
    full = 0.5 * (inv_a - np.outer(alpha, alpha))
    np.testing.assert_allclose(g, np.tril(full + full.T) - np.diag(np.diagonal(full)), rtol=1e-9, atol=1e-12)
    h = s2sad.hessian(fns.gaussian_nll)(a, y)
    np.testing.assert_allclose(h, hessian_by_differences(s2sad.grad(fns.gaussian_nll), a, y), rtol=RTOL, atol=1e-6)


# --- expm, sqrtm, solve_sylvester ---------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 3])
def test_expm(n, fns, rng):
    a, w = 0.5 * rng.standard_normal((n, n)), rng.standard_normal((n, n))
    g = witnesses(fns.expm, (a, w), (0,), rng)[0]
    np.testing.assert_allclose(g, linalg.expm_frechet(a.T, w, compute_expm=False), rtol=1e-10, atol=1e-12)
    v = rng.standard_normal((n, n))
    _, tangent = s2sad.jvp(fns.expm, (a, w), (v, None))
    np.testing.assert_allclose(tangent, np.sum(w * linalg.expm_frechet(a, v, compute_expm=False)), rtol=1e-10)
    h = s2sad.hessian(fns.expm)(a, w)
    np.testing.assert_allclose(h, hessian_by_differences(s2sad.grad(fns.expm), a, w), rtol=RTOL, atol=1e-7)


def test_expm_third_order(fns, rng):
    """The block [[A, E], [0, A]] trick nests: the third derivative of t -> sum(expm(A + t B) * W), against
    differences of the second and the series expm(A + t B) = sum (A + t B)^k / k! (A, B commute here)."""
    a, w = 0.4 * np.diag([1.0, -0.5, 0.3]), rng.standard_normal((3, 3))
    b = np.diag([0.7, 0.2, -0.4])

    second = s2sad.grad(s2sad.grad(fns.expm_path))
    third = s2sad.grad(second)
    t = 0.3
    np.testing.assert_allclose(third(t, a, b, w), central(lambda z: second(z, a, b, w), t, 1.0), rtol=RTOL)
    by_hand = np.sum(w * np.diag(np.diagonal(b) ** 3 * np.exp(np.diagonal(a + t * b))))
    np.testing.assert_allclose(third(t, a, b, w), by_hand, rtol=1e-9)
    a2 = a + 0.2 * rng.standard_normal((3, 3))          # not commuting: against differences only
    np.testing.assert_allclose(third(t, a2, b, w), central(lambda z: second(z, a2, b, w), t, 1.0), rtol=RTOL)


def test_sqrtm(fns, rng):
    a, w = positive_definite(rng, 3), rng.standard_normal((3, 3))
    g = witnesses(fns.sqrtm, (a, w), (0,), rng)[0]
    s = linalg.sqrtm(a)                                 # by hand: vec(dS) = (I (x) S + S^T (x) I)^-1 vec(dA)
    k = np.kron(np.eye(3), s) + np.kron(s.T, np.eye(3))
    jac = np.linalg.inv(k)                              # column-major vec
    np.testing.assert_allclose(g.ravel(order="F"), jac.T @ w.ravel(order="F"), rtol=1e-9, atol=1e-12)
    h = s2sad.hessian(fns.sqrtm)(a, w)
    np.testing.assert_allclose(h, hessian_by_differences(s2sad.grad(fns.sqrtm), a, w), rtol=RTOL, atol=1e-7)


def test_sqrtm_nonsymmetric(fns, rng):
    a = positive_definite(rng, 3) + 0.3 * rng.standard_normal((3, 3))
    witnesses(fns.sqrtm, (a, rng.standard_normal((3, 3))), (0,), rng)


def test_solve_sylvester(fns, rng):
    a, b = well_conditioned(rng, 3), well_conditioned(rng, 2)
    q, w = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    grads = witnesses(fns.sylvester, (a, b, q, w), (0, 1, 2), rng)
    k = np.kron(np.eye(2), a) + np.kron(b.T, np.eye(3))   # by hand: vec(aX + Xb) = K vec(X)
    q_bar = np.linalg.solve(k.T, w.ravel(order="F")).reshape((3, 2), order="F")
    x = linalg.solve_sylvester(a, b, q)
    np.testing.assert_allclose(grads[2], q_bar, rtol=1e-10)
    np.testing.assert_allclose(grads[0], -q_bar @ x.T, rtol=1e-10)
    np.testing.assert_allclose(grads[1], -x.T @ q_bar, rtol=1e-10)


# --- float32 in, float32 out ------------------------------------------------------------------------
def float32_cases(fns, rng):
    s = positive_definite(rng, 3)
    a, w3, b = well_conditioned(rng, 3), rng.standard_normal((3, 3)), rng.standard_normal((3, 2))
    return [
        (fns.solve_triangular, (a, b, b, "T", True, False), (0, 1)),
        (fns.solve, (a, b, b, None, False, False), (0, 1)),
        (fns.solve, (s, b, b, "pos", True, False), (0, 1)),
        *([(fns.inv, (a, w3, None, False), (0,))] if INV_STRUCTURES else []),
        (fns.det, (a,), (0,)),
        (fns.cholesky, (s, w3, False), (0,)),
        (fns.cho_pair, (s, b, b, True), (0, 1)),
        (fns.cho_c, (s, w3, False), (0,)),
        (fns.expm, (0.5 * a / 3, w3), (0,)),
        (fns.sqrtm, (s, w3), (0,)),
        (fns.sylvester, (a, a, w3, w3), (0, 1, 2)),
    ]


def test_float32_stays_float32(fns, rng):
    for f, args, wrt in float32_cases(fns, rng):
        args32 = [x.astype(np.float32) if isinstance(x, np.ndarray) else x for x in args]
        grads32 = s2sad.grad(f, wrt=wrt)(*args32)
        grads64 = s2sad.grad(f, wrt=wrt)(*args)
        for i, g32, g64 in zip(wrt, grads32, grads64):
            assert g32.dtype == np.float32, (f.__name__, i, g32.dtype)
            np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-4, err_msg=f.__name__)
        tangents = [np.ones_like(x) if k == wrt[0] else None for k, x in enumerate(args32)]
        hv = s2sad.hvp(f, wrt=wrt[0])(*args32[:wrt[0] + 1], tangents[wrt[0]], *args32[wrt[0] + 1:])
        assert hv.dtype == np.float32, (f.__name__, hv.dtype)


# --- stacks of matrices -----------------------------------------------------------------------------
@needs_batches
def test_batches(fns, rng):
    stack = np.stack([well_conditioned(rng, 3) for _ in range(2)])
    spd = np.stack([positive_definite(rng, 3) for _ in range(2)])
    w = rng.standard_normal((2, 3, 3))
    witnesses(fns.inv, (stack, w, None, False), (0,), rng)
    witnesses(fns.cholesky, (spd, w, True), (0,), rng)
    witnesses(fns.expm, (0.3 * stack / 3, w), (0,), rng)
    witnesses(fns.solve_plain, (stack, rng.standard_normal((3, 2)), rng.standard_normal((2, 3, 2))), (0, 1), rng)
    witnesses(fns.solve_triangular, (stack[0], rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 3, 2)), 0,
                                     True, False), (0, 1), rng)
    witnesses(fns.cho_pair, (spd[0], rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 3, 2)), False), (0, 1),
              rng)


# --- refusals ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, args, message", [
    ("overwrite_b", (np.eye(3), np.ones(3)), "overwrite_b"),
    ("overwrite_a", (np.eye(3),), "overwrite_a"),
    ("sqrtm_disp", (np.eye(3),), "disp"),
])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_refused_arguments(fn, args, message, mode, fns):
    f = getattr(fns, fn)
    with pytest.raises(s2sad.TransformError, match=message):
        if mode == "reverse":
            s2sad.grad(f)(*args)
        else:
            s2sad.jvp(f, args, (np.ones_like(args[0]),) + (None,) * (len(args) - 1))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_refused_at_run_time(mode, fns):
    stack, vector = np.stack([np.eye(3) * 2, np.eye(3) * 3]), np.ones(3)
    cases = [(fns.solve_plain, (stack, vector, np.ones((2, 3))), "stack of matrices")] * BATCHED + \
            [(fns.inv, (np.eye(3) * 2, np.ones((3, 3)), "diagonal", False), "assume_a='diagonal'")] * INV_STRUCTURES + [
             (fns.solve, (np.eye(3) * 2, vector, vector, "banded", False, False), "assume_a='banded'"),
             (fns.solve_plain, (np.array([[2.0]]), vector, vector), r"not for shapes \(1, 1\) and \(3,\)")]
    for f, args, message in cases:
        with pytest.raises(NotImplementedError, match=message):
            if mode == "reverse":
                s2sad.grad(f)(*args)
            else:
                s2sad.jvp(f, args, (np.ones_like(args[0]),) + (None,) * (len(args) - 1))


# --- registered when scipy.linalg is imported, whichever comes first --------------------------------
def run(code):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_importing_s2sad_does_not_import_scipy_linalg_or_signal():
    run("import s2sad, sys; assert not {'scipy.linalg', 'scipy.signal'} & set(sys.modules)")


CHECK = """
    import sys
    {first}
    import numpy as np
    import scipy.linalg
    from scipy.signal import convolve
    import s2sad
    from s2sad.rules import registry, scipy_linalg, scipy_signal
    for name in ("solve_triangular", "cho_factor", "cho_solve", "cholesky", "solve", "inv", "det", "expm", "sqrtm",
                 "solve_sylvester"):
        assert registry.vjp_rule(getattr(scipy.linalg, name)) is not None, name
        assert registry.jvp_rule(getattr(scipy.linalg, name))[0] is not None, name
    assert registry.vjp_rule(convolve) is not None
    for finder in (scipy_linalg._FINDER, scipy_signal._FINDER):
        assert finder not in sys.meta_path
    assert "exec_module" not in vars(scipy.linalg.__spec__.loader)
    """


@pytest.mark.parametrize("first", ["import s2sad", "import scipy.linalg", "import scipy.signal", "import scipy.stats"])
def test_rules_registered_whichever_is_imported_first(first):
    run(CHECK.format(first=first))


# --- the rules of the runtime helpers the rules call (rules/helpers.py) -----------------------------
HELPER_CASES = [(rt.checked_system, (np.zeros((3, 2)), "fn"), (3, 3)),
                (rt.transposed_if, ("T",), (2, 3)), (rt.transposed_if, (0,), (2, 3)),
                (rt.triangular_part, (True, True), (3, 3)), (rt.triangular_part, (False, False), (2, 3, 3)),
                (rt.structured, ("sym", True, "scipy.linalg.solve"), (3, 3)),
                (rt.structured, ("pos", False, "scipy.linalg.inv"), (3, 3)),
                (rt.structured, ("tridiagonal", False, "scipy.linalg.solve"), (4, 4)),
                (rt.structured, ("diagonal", False, "scipy.linalg.solve"), (3, 3)),
                (rt.structured, ("upper triangular", False, "scipy.linalg.solve"), (3, 3)),
                (rt.structured, (None, False, "scipy.linalg.solve"), (3, 3)),
                (rt.structured_grad, ("her", False, "scipy.linalg.solve"), (3, 3)),
                (rt.structured_grad, ("lower triangular", False, "scipy.linalg.solve"), (3, 3)),
                (rt.lower_factor, (False,), (3, 3)), (rt.lower_factor, (True,), (3, 3)),
                (rt.factor_placed, (False,), (3, 3)), (rt.off_factor, (True,), (3, 3)),
                (rt.off_factor, (False,), (3, 3)),
                (rt.lower_half, (), (2, 3, 3)), (rt.upper_right, (), (4, 4)), (rt.block_trace, (), (2, 4, 4))]


@pytest.mark.parametrize("helper, rest, shape", HELPER_CASES, ids=[f"{c[0].__name__}{c[1]}" for c in HELPER_CASES])
def test_helper_rules_are_each_others_adjoints(helper, rest, shape, rng):
    """Each helper is linear in its first argument: its forward rule is the helper itself, and its reverse
    rule is the transpose, <f(t), h> == <t, f*(h)> (the rules called as plain functions)."""
    t = rng.standard_normal(shape)
    out = helper(t, *rest)
    h = rng.standard_normal(np.shape(out))
    forward = registry.jvp_rule(helper)[0](t, out, t, *rest)
    backward = registry.vjp_rule(helper)(h, out, t, *rest)
    forward = forward[0] if isinstance(forward, tuple) else forward
    backward = backward[0] if isinstance(backward, tuple) else backward
    np.testing.assert_allclose(forward, out, rtol=1e-15)
    np.testing.assert_allclose(np.sum(out * h), np.sum(t * backward), rtol=1e-12)


def test_frechet_blocks_rules(rng):
    a, e, h = rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.standard_normal((6, 6))
    out = rt.frechet_blocks(a, e)
    a_bar, e_bar = registry.vjp_rule(rt.frechet_blocks)(h, out, a, e)
    np.testing.assert_allclose(np.sum(out * h), np.sum(a * a_bar) + np.sum(e * e_bar), rtol=1e-12)
    by_a, by_e = registry.jvp_rule(rt.frechet_blocks)[0](a, out, a, e)[0], registry.jvp_rule(rt.frechet_blocks)[0](
        e, out, a, e)[1]
    np.testing.assert_allclose(by_a + by_e, out, rtol=1e-15)
    np.testing.assert_allclose(linalg.expm(out)[:3, 3:], linalg.expm_frechet(a, e, compute_expm=False), rtol=1e-10)


def test_an_unexpected_scipy_linalg_breaks_nothing():
    """A scipy.linalg without the functions (an old or broken scipy): a warning, and s2sad still imports."""
    run("""
        import sys, types, warnings
        sys.modules["scipy.linalg"] = types.ModuleType("scipy.linalg")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import s2sad
        assert any("no derivative rules for scipy.linalg" in str(w.message) for w in caught), caught
        """)
