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
