"""Second order (Hessian-vector products against differences of the gradient, forward against reverse) on every
case of the np.linalg rules whose forward rules call helpers differentiated from their source (runtime.py's
svd_tangent, qr_tangent, lstsq_tangent, matrix_power_tangent/grad, norm_grad_any/norm_tangent_any: every ord), not only the first case test_rule_table takes."""
import numpy as np
import scipy.linalg
import pytest

import s2sad

from s2sad.testing import check_grads
from .directional import assert_reads_the_lower_triangle
from .test_rule_table import EPS, RTOL, SPEC, compiled_case, readable, test_rule_in_float32

PRIMS = (np.linalg.norm, np.linalg.svd, np.linalg.qr, np.linalg.lstsq, np.linalg.matrix_power)
CASES = [pytest.param(prim, c, id=f"{readable(prim)}({c!r})")
         for prim, cases in SPEC if prim in PRIMS for c in cases[1:] if not c.refuses]


@pytest.mark.parametrize("prim, c", CASES)
def test_second_order(prim, c, tmp_path):
    f, args, wrt = compiled_case(prim, c, tmp_path)
    check_grads(f, args, wrt=wrt, rtol=RTOL, eps=EPS, order=2)


@pytest.mark.parametrize("prim, c", CASES)
def test_float32(prim, c):
    """The same cases with float32 arguments: the adjoints stay float32 and agree with the float64 ones."""
    test_rule_in_float32(prim, c)


def eigenvalues_only(x, A):
    w, V = np.linalg.eigh(A @ A.T + np.eye(4))
    return np.sum(w * x)


def eigenvectors_only(x, A):
    w, V = np.linalg.eigh(A @ A.T + np.eye(4))
    return np.sum(np.abs(V[:, 0]) * x)


def trace_by_eigenvalues(A):
    w, V = np.linalg.eigh(A @ A.T)
    return np.sum(w)


@pytest.mark.parametrize("f", [eigenvalues_only, eigenvectors_only])
def test_eigh_with_one_of_its_outputs_unread(f):
    """``w, V = eigh(S)`` with only w (or only V) read: the other's adjoint is None (it crashed in the rule)."""
    rng = np.random.default_rng(2)
    check_grads(f, (rng.normal(size=4), rng.normal(size=(4, 4))), wrt=(0, 1), order=2)


def test_eigenvalues_alone_at_equal_eigenvalues():
    """sum(eigh(A A')[0]) = trace(A A'): the gradient 2A also where all eigenvalues are equal (A = I), since
    eigenvalues alone need no eigengaps (eigenvectors there are refused, never a wrong number)."""
    import s2sad
    np.testing.assert_allclose(s2sad.grad(trace_by_eigenvalues)(np.eye(3)), 2.0 * np.eye(3), atol=1e-12)
    with pytest.raises(NotImplementedError, match="equal, or nearly equal, eigenvalues"):
        s2sad.grad(lambda_free_eigenvector)(np.eye(3))


def trace_of_a_symmetric_part(A):
    return np.sum(np.linalg.eigvalsh(A + A.T))


def squared_singular_values(A):
    return np.sum(np.linalg.svd(A, compute_uv=False) ** 2)


def test_second_derivatives_at_eigenvalues_equal_up_to_rounding_are_refused():
    """Eigenvalues (singular values) equal but for rounding: the second derivative through the eigenvectors
    divides rounding error by a gap of rounding error (the Hessian of a trace, 0, came out O(1)); refused, as
    for exactly equal ones. A gap well above rounding is answered, and right."""
    import s2sad
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    v = rng.standard_normal((3, 3))
    for spectrum, ok in (([1.0, 1.0, 0.5], False), ([1.0, 1.0 + 1e-3, 0.5], True)):
        a = q @ np.diag(spectrum) @ q.T / 2.0
        for f, want in ((trace_of_a_symmetric_part, 0.0 * v), (squared_singular_values, 2.0 * v)):
            b = a if f is trace_of_a_symmetric_part else 2.0 * a
            if ok:
                np.testing.assert_allclose(s2sad.hvp(f)(b, v), want, atol=1e-7)
            else:
                with pytest.raises(NotImplementedError, match="nearly equal"):
                    s2sad.hvp(f)(b, v)


def lambda_free_eigenvector(A):
    w, V = np.linalg.eigh(A @ A.T)
    return np.sum(V[:, 0] ** 3)


def det_of(a):
    return np.linalg.det(a)


def scipy_det_of(a):
    return scipy.linalg.det(a)


def pinv_cut(a):
    return np.sum(np.linalg.pinv(a, rcond=0.3) ** 2)


def pinv_hermitian(a):
    return np.sum(np.linalg.pinv(a, hermitian=True) * np.arange(9.0).reshape(3, 3))


def test_det_at_a_singular_matrix_is_its_cofactor_matrix():
    """det's derivative is the cofactor matrix, also where det is 0 (det(a) inv(a)^T: scipy.linalg.det returns
    exactly 0 there, and its gradient came out 0)."""
    import s2sad
    a = np.array([[1.0, 2.0, 0.5], [2.0, 4.0, 1.0], [0.3, -1.0, 2.0]])     # rank 2
    cof = np.array([[9.0, -3.7, -3.2], [-4.5, 1.85, 1.6], [0.0, 0.0, 0.0]])
    for f in (det_of, scipy_det_of):
        np.testing.assert_allclose(s2sad.grad(f)(a), cof, atol=1e-12)
        t = np.arange(9.0).reshape(3, 3) / 9.0
        np.testing.assert_allclose(s2sad.jvp(f, (a,), (t,))[1], np.sum(cof * t), atol=1e-12)


def test_second_derivatives_of_det_at_a_singular_matrix():
    """det is a polynomial: its second derivative exists at a singular matrix, where the cofactor's derivative
    through the inverse raised NumPy's LinAlgError. A 2x2 cofactor is linear: exact there; larger ones are refused
    with a message (a raw LinAlgError from the derivative code before)."""
    import s2sad
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    v = np.array([[0.3, -0.1], [0.2, 0.5]])
    np.testing.assert_allclose(s2sad.hvp(det_of)(a, v), [[v[1, 1], -v[1, 0]], [-v[0, 1], v[0, 0]]], atol=1e-12)
    b = np.array([[1.0, 2.0, 0.5], [2.0, 4.0, 1.0], [0.3, -1.0, 2.0]])     # rank 2
    with pytest.raises(s2sad.UnsupportedValueError, match="singular matrix"):
        s2sad.hvp(det_of)(b, np.eye(3))


def test_pinv_with_a_cutoff_that_drops_a_singular_value_is_refused():
    """pinv(a, rcond) past a singular value is the pseudo-inverse of a matrix of lower rank: the constant-rank rule
    gave a wrong gradient; refused. hermitian=True reads the lower triangle only."""
    import s2sad
    a = np.array([[3.0, 0.2, 0.0], [0.1, 2.0, 0.3], [0.0, 0.2, 0.5]])
    with pytest.raises(NotImplementedError, match="cutoff"):
        s2sad.grad(pinv_cut)(a)
    assert_reads_the_lower_triangle(pinv_hermitian, a @ a.T + np.eye(3), seed=3)


def _cho_solved_sum(a):
    A = np.diag([a * a, 1.0]) + 3.0 * np.eye(2)
    return np.sum(scipy.linalg.cho_solve(scipy.linalg.cho_factor(A), np.ones(2)))


def test_third_derivative_through_cho_factor_and_cho_solve():
    """The factor's `lower` flag, carried in the tuple `(c, lower)`, gets no adjoint (it was `None + None`)."""
    second = s2sad.grad(s2sad.grad(_cho_solved_sum))
    h = 1e-4
    want = (second(0.5 + h) - second(0.5 - h)) / (2 * h)
    assert s2sad.grad(second)(0.5) == pytest.approx(want, rel=1e-6)
    assert s2sad.jvp(second, (0.5,), (1.0,))[1] == pytest.approx(want, rel=1e-6)


def _singular_values_of_an_outer_product(x):
    return np.sum(np.linalg.svd(np.outer(x, x), compute_uv=False))          # |x|^2: rank one


def test_singular_vectors_of_a_lower_rank_matrix_are_refused():
    """Second derivatives through the singular values of a matrix of rank one: its vectors' derivatives divide by
    the zero singular values (the Hessian came out O(1) rounding error, asymmetric; exactly 2 I). The gradient,
    through the values alone, stays."""
    x = np.array([0.6, -1.3, 0.4])
    np.testing.assert_allclose(s2sad.grad(_singular_values_of_an_outer_product)(x), 2 * x, rtol=1e-12)
    with pytest.raises(s2sad.errors.UnsupportedValueError, match="zero \\(or nearly zero\\) singular value"):
        s2sad.hessian(_singular_values_of_an_outer_product)(x)
