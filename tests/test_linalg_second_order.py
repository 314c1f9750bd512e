"""Second order (Hessian-vector products against differences of the gradient, forward against reverse) on every
case of the np.linalg rules whose forward rules call helpers differentiated from their source (runtime.py's
svd_tangent, qr_tangent, lstsq_tangent, matrix_power_tangent/grad, norm_grad_any/norm_tangent_any: every ord), not only the first case test_rule_table takes."""
import numpy as np
import pytest

from s2sad.testing import check_grads
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
    with pytest.raises(NotImplementedError, match="equal eigenvalues"):
        s2sad.grad(lambda_free_eigenvector)(np.eye(3))


def lambda_free_eigenvector(A):
    w, V = np.linalg.eigh(A @ A.T)
    return np.sum(V[:, 0] ** 3)
