"""The optimizations the performance goals rest on, checked in the generated code (no timings)."""
import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads

from . import optimized_functions as of


def code(f, args, wrt=0):
    return s2sad.adjoint_source(f, wrt=wrt, args=args)


def backward_of(text):
    return text.split("_bar = ", 1)[1]


def test_scalar_code_is_plain_arithmetic():
    """Float arguments: no helper calls, no seed check, no unbroadcast in the loop."""
    text = code(of.recurrence, (0.9, 0.3, 0.1), wrt=(0, 1, 2))
    assert "_s2." not in text
    assert "ans_bar = 1.0" in text or "x_bar = 1.0" in text
    check_grads(of.recurrence, (0.9, 0.3, 0.1), wrt=(0, 1, 2))


def test_no_stack_traffic_outside_loops_and_no_zero_initialisation():
    rng = np.random.default_rng(0)
    args = (rng.normal(size=4), rng.normal(size=4))
    text = code(of.straight, args)
    assert "_stack" not in text and ".pop(" not in text and ".append(" not in text
    assert "zeros" not in text                     # the first contribution assigns
    check_grads(of.straight, args)


def test_no_adjoint_statements_for_inactive_values():
    text = code(of.straight, (np.ones(3), np.ones(3)))
    assert "scale_bar" not in text and "data_bar" not in text


def test_indexing_in_a_loop_adds_in_place_and_rereads_instead_of_storing():
    rng = np.random.default_rng(1)
    args = (rng.normal(size=5), rng.normal(size=5))
    text = code(of.dot_loop, args, wrt=(0, 1))
    assert "x_bar[i] += " in text and "w_bar[i] += " in text   # O(1) per iteration
    assert "_stack" not in text                                  # x[i], w[i] read again, s only at the end
    g = check_grads(of.dot_loop, args, wrt=(0, 1))
    np.testing.assert_allclose(g[0], args[1], rtol=1e-12)
    np.testing.assert_allclose(g[1], args[0], rtol=1e-12)


def test_loop_invariant_statement_is_not_recorded():
    text = code(of.invariant_in_loop, (np.ones(3), 1.5, 4))
    assert "k_stack" not in text
    g = check_grads(of.invariant_in_loop, (np.ones(3), 1.5, 4), wrt=(0, 1))
    np.testing.assert_allclose(g[0], np.full(3, 4 * 3.0))


def test_matmul_with_known_ndims_is_pulled_back_directly():
    rng = np.random.default_rng(2)
    args = (rng.normal(size=3), rng.normal(size=(6, 3)), (rng.random(6) > 0.5) * 1.0)
    text = code(of.logistic, args)
    assert "w_bar = X.T @ " in text and "matmul" not in text
    assert "ans_bar = 1.0" in text                # a mean over all axes is a number: no seed check


@pytest.mark.parametrize("args", [(0.9, 0.3, 0.1), (2, 1, 0.5)])
def test_specialised_versions_are_cached_per_argument_kind(args):
    from s2sad import driver
    g = s2sad.grad(of.recurrence, wrt=(0, 1, 2))
    g(*args)
    before = driver.stats["transforms"]
    g(*args)
    g(*args)
    assert driver.stats["transforms"] == before


@pytest.mark.parametrize("x0", [0.3, 1.4])
def test_adjoint_reset_on_both_branches_is_not_carried_to_the_previous_iteration(x0):
    """``t`` assigned on both branches of an ``if`` in a loop: its adjoint restarts each iteration."""
    g = check_grads(of.branch_join_in_loop, (x0, 0.2), wrt=(0, 1))
    from .directional import directional_check
    directional_check(of.branch_join_in_loop, (x0, 0.2), (0, 1), g, np.random.default_rng(4))


def test_reassigned_number_parameter_stays_a_number():
    """``x = x + ...`` on a float parameter: plain arithmetic, no shape bookkeeping."""
    text = code(of.branch_join_in_loop, (0.3, 0.2), wrt=(0, 1))
    assert "_s2." not in text


def test_copy_propagation_is_one_pass():
    """A chain of copies goes in one call, not one restart per copy (transform time on large sweeps)."""
    import gast
    from s2sad.optimize import cleanup
    n = 300
    src = "a0 = g * 2\n" + "".join(f"a{i} = a{i - 1}\n" for i in range(1, n)) + f"out = a{n - 1} + 1\n"
    stmts, changed = cleanup._propagate_copies(gast.parse(src).body, {"out"})
    assert changed and len(stmts) == 2
    assert cleanup.N.unparse(stmts[1]) == "out = a0 + 1"
