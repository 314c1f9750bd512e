"""The optimizations the performance goals rest on, checked in the generated code (no timings)."""
import re

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads

from . import optimized_functions as of


def code(f, args, wrt=0, optimize=True):
    return s2sad.adjoint_source(f, wrt=wrt, args=args, optimize=optimize)


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
    assert "seed" not in text and "ans_bar" not in text      # a mean over all axes is a number: no seed check,
    assert "_t11_bar = -1.0 / _s2.reduced_size(_t11)" in text   # and its adjoint 1.0 written where it is read


@pytest.mark.parametrize("args", [(0.9, 0.3, 0.1), (np.float64(2.0), 1.0, 0.5)])
def test_specialised_versions_are_cached_per_argument_kind(args):
    from s2sad import pipeline as driver
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


# --- inlining small helpers -------------------------------------------------------------------
@pytest.fixture
def not_inlined(monkeypatch):
    """The same functions differentiated with calls kept as calls (each helper its own vjp)."""
    from s2sad import pipeline as driver
    from s2sad.optimize import inline_calls

    def grads(f, args, wrt):
        with monkeypatch.context() as m:
            m.setattr(inline_calls, "MAX_STATEMENTS", 0)
            m.setattr(driver, "_cache", {})
            text = code(f, args, wrt)
            value, g = s2sad.value_and_grad(f, wrt=wrt)(*args)
        return text, value, g
    return grads


def test_small_helper_is_inlined_no_pullback_closures(not_inlined):
    args = (1.1, 0.4, 2.0, 0.5)
    text = code(of.rk2, args, wrt=(0, 1))
    code_lines = "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))
    assert "pullback" not in text and "rates" not in code_lines
    assert "alpha * x" in text                              # the helper's operations, in the caller
    assert "# grad of line" in text and "= rates(x + h * k1x, y + h * k1y, alpha, beta)" in text
    stacks = {line.split(" = ")[0].strip() for line in text.splitlines() if line.strip().endswith("_stack = []")}
    assert len(stacks) <= 8                                 # floats only: no stacks of closures
    g = check_grads(of.rk2, args, wrt=(0, 1))
    called_text, value, g_called = not_inlined(of.rk2, args, (0, 1))
    assert "pullback" in called_text                        # the independent route: the helper's own vjp
    np.testing.assert_allclose(g, g_called, rtol=1e-12)
    assert value == of.rk2(*args)


@pytest.mark.parametrize("x0", [0.3, 2.5])                  # both branches of soft_step
def test_inlined_helpers_with_early_return_defaults_swaps_and_nesting(x0, not_inlined):
    rng = np.random.default_rng(3)
    args = (x0, rng.normal(size=4), 0.2)
    text = code(of.helper_calls, args, wrt=(0, 1, 2))
    assert "pullback" not in text and "_vjp" not in text
    g = check_grads(of.helper_calls, args, wrt=(0, 1, 2))
    _, value, g_called = not_inlined(of.helper_calls, args, (0, 1, 2))
    for a, b in zip(g, g_called):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(value, of.helper_calls(*args), rtol=1e-15)
    from .directional import directional_check
    directional_check(of.helper_calls, args, (0, 1, 2), g, rng)


def test_recursive_and_mutually_recursive_helpers_are_not_inlined():
    text = code(of.recursive_callers, (0.7,))
    assert "power_vjp" in text and "is_even_poly_vjp" in text and "is_odd_poly_vjp" in text
    g = check_grads(of.recursive_callers, (0.7,))
    x = 0.7
    # power: x^3; is_even_poly(x, 4) = 2(x + 2(x + x)) = 10x; is_odd_poly(x, 3) = x + 2(x + x) = 5x
    np.testing.assert_allclose(g, 3 * x * x + 10.0 + 5.0, rtol=1e-12)


def test_closure_helper_is_not_inlined():
    x = np.array([0.5, -1.0, 2.0])
    text = code(of.calls_closure, (x,))
    assert "pullback" in text
    g = check_grads(of.calls_closure, (x,))
    np.testing.assert_allclose(g, 6.0 * x + np.cos(x), rtol=1e-12)


def test_copy_propagation_is_one_pass():
    """A chain of copies goes in one call, not one restart per copy (transform time on large sweeps)."""
    import gast
    from s2sad.optimize import cleanup
    n = 300
    src = "a0 = g * 2\n" + "".join(f"a{i} = a{i - 1}\n" for i in range(1, n)) + f"out = a{n - 1} + 1\n"
    stmts, changed = cleanup._propagate_copies(gast.parse(src).body, {"out"})
    assert changed and len(stmts) == 2
    assert cleanup.N.unparse(stmts[1]) == "out = a0 + 1"


# --- recomputing cheap values on numbers instead of storing them ----------------------------------
def _stacks(text):
    return {line.split(" = ")[0].strip() for line in text.splitlines() if line.strip().endswith("_stack = []")}


def test_recurrence_stores_x_and_sin_x_only():
    text = code(of.recurrence, (0.9, 0.3, 0.1), wrt=(0, 1, 2))
    assert len(_stacks(text)) == 2 and "x_stack" in _stacks(text)     # x * x is computed again
    g = check_grads(of.recurrence, (0.9, 0.3, 0.1), wrt=(0, 1, 2))
    from .directional import directional_check
    directional_check(of.recurrence, (0.9, 0.3, 0.1), (0, 1, 2), g, np.random.default_rng(5))


def test_taylor_series_stores_one_value_per_term():
    text = code(of.taylor_sin, (3.0,))
    assert len(_stacks(text)) == 1                 # (n + 1) * (n + 2) from the range, -term * x from the stored one
    assert "for _t1 in reversed(_t1_stack):" in text   # read back in reverse, as many as were pushed, the index
    assert "n = 1 + len(_t1_stack) * 2" in text and "n = n - 2" in text   # counted down (count_down.py):
    assert "n_count" not in text and "zip" not in text                     # no count kept besides, no zip
    g = check_grads(of.taylor_sin, (3.0,))
    np.testing.assert_allclose(g, np.cos(3.0), rtol=1e-12)


def test_rk2_stores_the_stage_points_only():
    text = code(of.rk2, (1.1, 0.4, 2.0, 0.5), wrt=(0, 1))
    # the state and the midpoint (the stage point) are kept; the products are computed again
    assert _stacks(text) == {"x_stack", "y_stack", "_t2_stack", "_t4_stack"}, _stacks(text)
    g = check_grads(of.rk2, (1.1, 0.4, 2.0, 0.5), wrt=(0, 1))
    stored = s2sad.grad(of.rk2, wrt=(0, 1), optimize={"recompute": False})(1.1, 0.4, 2.0, 0.5)
    np.testing.assert_allclose(g, stored, rtol=1e-13)


def test_rk2_invariant_products_are_neither_recorded_nor_computed_again():
    """``0.5 * h`` is the same every step: the backward sweep reads its last value (switch ``invariant``)
    rather than computing it again each step (switch ``recompute``, which leaves such values alone)."""
    text = code(of.rk2, (1.1, 0.4, 2.0, 0.5), wrt=(0, 1))
    backward = text.split("for _ in reversed", 1)[1] if "for _ in reversed" in text else text.split("reversed(", 1)[1]
    assert "= 0.5 * h" not in backward, backward      # (the comments quote the line)
    without = s2sad.grad(of.rk2, wrt=(0, 1), optimize={"invariant": False})(1.1, 0.4, 2.0, 0.5)
    np.testing.assert_allclose(check_grads(of.rk2, (1.1, 0.4, 2.0, 0.5), wrt=(0, 1)), without, rtol=1e-13)


def test_names_assigned_before_a_loop_are_not_initialised_to_none():
    text = code(of.rk2, (1.1, 0.4, 2.0, 0.5), wrt=(0, 1))
    assert "x = None" not in text and "y = None" not in text, text


def test_a_name_first_assigned_in_a_loop_starts_as_none_for_its_first_push():
    def f(x, n):
        for i in range(n):
            t = x * x              # first bound here: its first push reads a name nothing bound yet
            x = t * 0.5 + x
        return x
    assert "t = None" in code(f, (0.3, 3)) or "t_stack" not in code(f, (0.3, 3))
    check_grads(f, (0.3, 3))
    check_grads(f, (0.3, 0))


@pytest.mark.parametrize("f, args, wrt", [
    (of.recompute_hazards, (0.7, 0.3), (0, 1)),
    (of.recompute_nested, (0.9, 0.8, 4), (0, 1)),
    (of.recompute_nested, (0.3, 0.5, 4), (0, 1)),
])
def test_recomputed_values_see_the_operands_they_were_computed_from(f, args, wrt):
    """Operands overwritten later in the iteration, read from the previous one, in branches and inner loops."""
    g = check_grads(f, args, wrt=wrt)
    from .directional import directional_check
    directional_check(f, args, wrt, g, np.random.default_rng(6))
    stored = s2sad.grad(f, wrt=wrt, optimize={"recompute": False})(*args)    # the independent route: all stored
    plain = s2sad.grad(f, wrt=wrt, optimize=False)(*args)
    for a, b, c in zip(g, stored, plain):
        np.testing.assert_allclose(a, b, rtol=1e-13)
        np.testing.assert_allclose(a, c, rtol=1e-13)


# --- the logistic function's adjoint from its value; the pullback keeping less -------------------
def test_logistic_adjoint_is_written_from_p_alone():
    rng = np.random.default_rng(7)
    args = (rng.normal(size=3), rng.normal(size=(6, 3)), (rng.random(6) > 0.5) * 1.0)
    text = code(of.logistic, args)
    assert "_t11_bar * (y - p)" in text and "p_bar" not in text       # the cross-entropy too: one pass
    g = check_grads(of.logistic, args)
    from .directional import directional_check
    directional_check(of.logistic, args, (0,), (g,), rng)
    text = code(of.sigmoid_squared_error, args)
    assert "p_bar * p * (1.0 - p)" in text and "_t4_bar" not in text
    check_grads(of.sigmoid_squared_error, args)


CROSS_ENTROPIES = ["logistic", "cross_entropy_terms_swapped", "cross_entropy_of_floats", "cross_entropy_in_a_loop"]


@pytest.mark.parametrize("name", CROSS_ENTROPIES)
def test_cross_entropy_of_a_logistic_adjoint_in_one_pass(name):
    """``y * log(p) + (1 - y) * log(1 - p)`` of ``p = 1 / (1 + exp(-z))``: ``z_bar = c_bar * (y - p)``
    (reverse/adjoints._cross_entropy), against the unfused code, forward mode and differences; with the labels
    differentiated too, not fused (their adjoint is needed)."""
    f = getattr(of, name)
    rng = np.random.default_rng(12)
    args = {"cross_entropy_of_floats": (0.3, -0.7, 1.0),
            "cross_entropy_in_a_loop": (rng.normal(size=3), rng.normal(size=(6, 3)), rng.random(6))}.get(
        name, (rng.normal(size=3), rng.normal(size=(6, 3)), rng.random(6)))
    if name != "cross_entropy_in_a_loop":            # (in a loop: p is stacked, the terms' adjoints written out)
        assert "* (y - p)" in s2sad.adjoint_source(f, wrt=0, args=args)
    fused = s2sad.grad(f)(*args)
    np.testing.assert_allclose(fused, s2sad.grad(f, optimize={"fuse": False})(*args), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fused, s2sad.grad(f, optimize=False)(*args), rtol=1e-12, atol=1e-15)
    check_grads(f, args, wrt=(0, 2), order=2)
    assert "(y - p)" not in s2sad.adjoint_source(f, wrt=(0, 2), args=args)


def test_logistic_not_fused_when_its_temporaries_are_read_again():
    rng = np.random.default_rng(8)
    args = (rng.normal(size=5), rng.normal(size=5))
    text = code(of.sigmoid_reused, args, wrt=(0, 1))
    assert "p * (1.0 - p)" not in text
    check_grads(of.sigmoid_reused, args, wrt=(0, 1))


def test_logistic_of_numbers_in_a_loop():
    text = code(of.sigmoid_scalar_loop, (0.4, 0.3), wrt=(0, 1))
    assert "* (1.0 - s)" in text
    g = check_grads(of.sigmoid_scalar_loop, (0.4, 0.3), wrt=(0, 1))
    from .directional import directional_check
    directional_check(of.sigmoid_scalar_loop, (0.4, 0.3), (0, 1), g, np.random.default_rng(9))


def test_pullback_computes_one_operation_values_again_instead_of_keeping_them():
    rng = np.random.default_rng(10)
    args = (rng.normal(size=3), rng.normal(size=(6, 3)), (rng.random(6) > 0.5) * 1.0)
    unfused = {"fuse": False}                       # (fused, the pullback reads p and y only)
    text = s2sad.adjoint_source(of.logistic, wrt=0, kind="vjp", args=args, optimize=unfused)
    backward = text.split("def logistic_backward")[1]
    assert "_t8 = 1 - p" in backward and "_t7 = 1 - y" in backward
    value, pullback = s2sad.vjp(of.logistic, *args, optimize=unfused)
    from s2sad import api, options, pipeline
    _, backward = pipeline.function(of.logistic, (0,), "vjp", api._kinds(args),
                                    options.resolve(unfused)).fn(*args)
    assert set(backward.__code__.co_freevars) & {"_t7", "_t8"} == set()   # 1 - y, 1 - p computed again
    g = s2sad.grad(of.logistic)(*args)
    for ct in (1.0, -2.5):
        np.testing.assert_allclose(pullback(ct), ct * g, rtol=1e-12)
    np.testing.assert_allclose(g, check_grads(of.logistic, args), rtol=1e-12)


def test_pullback_keeps_only_the_shape_of_a_loop_value_read_for_its_shape():
    rng = np.random.default_rng(11)
    layers = [(rng.normal(size=(4, 5)), rng.normal(size=5)), (rng.normal(size=(5, 3)), rng.normal(size=3))]
    x = rng.normal(size=(6, 4))
    from s2sad import api, pipeline
    _, backward = pipeline.function(of.dense_layers, (0, 1), "vjp", api._kinds((layers, x))).fn(layers, x)
    kept = dict(zip(backward.__code__.co_freevars, (c.cell_contents for c in backward.__closure__)))
    import re
    temps = {k: v for k, v in kept.items() if re.fullmatch(r"_t\d+(_stack|_shape)?", k)}
    assert [s.shape for s in kept["_t3_stack"]] == [(6, 5), (6, 3)]     # h @ W's shape in each layer, not the array
    assert not any(isinstance(v, np.ndarray) or isinstance(v, list) and any(isinstance(i, np.ndarray) for i in v)
                   for v in temps.values())
    g = check_grads(of.dense_layers, (layers, x), wrt=(0, 1))
    value, pullback = s2sad.vjp(of.dense_layers, layers, x, wrt=(0, 1))

    def flat(tree):
        if isinstance(tree, (list, tuple)):
            return np.concatenate([flat(t) for t in tree])
        return np.ravel(tree)
    np.testing.assert_allclose(flat(pullback(2.0)), 2.0 * flat(g), rtol=1e-12)


def test_fold_puts_single_use_temporaries_back_into_expressions():
    import gast
    from s2sad import nodes as N
    from s2sad.optimize import fold
    text = code(of.logistic, (np.ones(3), np.ones((2, 3)), np.ones(2)))
    assert "p = 1.0 / (1.0 + np.exp(-(X @ w)))" in text          # the user's line again
    aliased = gast.parse("def f(xs):\n    ys = xs\n    _t1 = xs[0]\n    ys.pop()\n    return _t1\n").body[0]
    assert "_t1 = xs[0]" in N.unparse(fold.run(aliased, lambda name: False))   # not moved past a change in place
    helpers = gast.parse("def f(g, x):\n    _t1 = _s2.unreduce(g, x)\n    return _s2.unbroadcast(_t1, x)\n").body[0]
    assert "_t1 = _s2.unreduce(g, x)" in N.unparse(fold.run(helpers, lambda name: True))   # helper calls stay apart


def test_a_range_run_to_its_end_is_not_counted():
    text = code(of.range_to_the_end, (0.7, 5))
    assert "i_count" not in text and "i_range[:" not in text                  # its range says how many
    check_grads(of.range_to_the_end, (0.7, 5))
    text = code(of.range_with_break, (0.7, 5))
    assert "i_count" not in text and "for s, _t1 in zip(reversed(s_stack)" in text   # a break may end it early:
    # the stacks hold one value per iteration run (their length is the count)
    counted = code(of.range_with_break, (0.7, 5), optimize={"iterate": False})
    assert "i_count += 1" in counted                   # (or a count of its own, with stacks popped)
    for x in (0.3, 0.7, 1.4):
        check_grads(of.range_with_break, (x, 5))


def _stepper(a, b, x0):
    x = x0
    for _ in range(30):
        x = x + 0.01 * (a * x - b * x * x)
    return x * x


def packed_rates(theta, x0):
    a, b = theta                              # numbers read from a 1-d array
    return _stepper(a, b, x0)


def test_a_callee_is_specialised_on_its_inactive_arguments_too(monkeypatch):
    """``x0`` is not differentiated, but the state computed from it is a number: the callee's code is plain
    arithmetic on numbers, not the generic code (one stack per value, helper calls) it was before."""
    import linecache
    from s2sad import pipeline
    from s2sad.optimize import inline_calls
    monkeypatch.setattr(inline_calls, "MAX_STATEMENTS", 0)
    pipeline.forget()
    theta = np.array([1.1, 0.4])
    check_grads(packed_rates, (theta, 0.5))
    texts = ["".join(lines[2]) for name, lines in list(linecache.cache.items())
             if name.startswith("<s2sad _stepper_vjp")]
    assert texts and all("_s2." not in t for t in texts), texts


def _items_in_a_loop(theta, x0):
    x = x0
    for t in range(5):
        x = x * theta[0] + theta[2] * np.sin(x)
    return x


def _items_after_an_unpacking(theta, x0):
    a, b, c = theta                                 # theta_bar holds None for b before the loop's backward sweep
    x = x0 * a + c
    for t in range(4):
        x = x * theta[0] + np.cos(x) * theta[2]
    return x


def _items_after_the_loop_too(theta, x0):
    a, b, c = theta
    x = x0 * a
    for t in range(4):
        x = x * theta[0] + np.cos(x) * theta[2]
    return x * theta[1] + c                          # theta_bar made before the loop's backward sweep


@pytest.mark.parametrize("f", [_items_in_a_loop, _items_after_an_unpacking, _items_after_the_loop_too])
@pytest.mark.parametrize("container", [list, tuple])
def test_a_list_of_numbers_read_in_a_loop_adds_its_adjoint_item_by_item(f, container):
    """accumulate: ``theta_bar[2] += g`` on a private list of numbers (``runtime.number_zeros``/``owned_numbers``:
    a tuple's adjoint becomes a list, None items zeros), not one ``index_add`` call per read."""
    theta = container([0.9, 0.3, 0.5])
    text = s2sad.adjoint_source(f, args=(theta, 0.2), optimize={"hoist": False})     # (hoisted: read once)
    assert "index_add" not in text and "theta_bar[2] += " in text
    with s2sad.optimizations(hoist=False):
        assert s2sad.grad(f)(theta, 0.2) == pytest.approx(s2sad.grad(f)(theta, 0.2))
    g = s2sad.grad(f)(theta, 0.2)
    assert type(g) is container and all(type(v) is float for v in g)
    eps = 1e-6
    for k in range(3):
        up, down = list(theta), list(theta)
        up[k] += eps
        down[k] -= eps
        assert g[k] == pytest.approx((f(container(up), 0.2) - f(container(down), 0.2)) / (2 * eps), rel=1e-6, abs=1e-9)


def test_items_a_loop_reads_but_never_changes_are_read_before_it():
    """hoist: ``theta[0]`` in a 1000-step loop is read once; its adjoint adds up in a local number and goes into
    ``theta_bar`` once after the backward loop (no per-iteration write into theta_bar)."""
    theta = np.array([0.9, 0.3, 0.5])
    text = code(_items_in_a_loop, (theta, 0.2))
    forward, backward = text.split("for t in t_range:", 1)
    assert "theta[0]" in forward and "theta[2]" in forward and "theta[" not in re.split(r"\n    for ", backward)[0]
    assert "theta_bar[" not in text and "index_add" not in text
    check_grads(_items_in_a_loop, (theta, 0.2), order=2)
    check_grads(_items_in_a_loop, ([0.9, 0.3, 0.5], 0.2))


LOG_SOFTMAXES = ["softmax_cross_entropy", "log_softmax_over_columns", "log_softmax_in_a_loop"]


@pytest.mark.parametrize("name", LOG_SOFTMAXES)
def test_log_softmax_adjoint_in_one_pass(name):
    """``x - m - log(sum(exp(x - m), axis, keepdims=True))``: ``x_bar = g - softmax * sum(g, axis, keepdims=True)``
    (reverse/adjoints._log_softmax), ``m`` getting nothing; against the unfused code (within rounding: the unfused
    ``m`` gets two terms that cancel), the straightforward pipeline, forward mode and differences, at second
    order; and the softmax cross-entropy's gradient against the closed form ``X.T @ (softmax - Y) / n``."""
    f = getattr(of, name)
    rng = np.random.default_rng(5)
    W, X = rng.normal(size=(4, 3)), rng.normal(size=(6, 4))
    Y = np.eye(3)[rng.integers(0, 3, size=6)] if name != "log_softmax_over_columns" else rng.random((6, 3))
    text = s2sad.adjoint_source(f, wrt=0, args=(W, X, Y))
    assert "np.sum(" in text and "keepdims=True)" in text and "extremum_grad" not in text
    fused = s2sad.grad(f)(W, X, Y)
    np.testing.assert_allclose(fused, s2sad.grad(f, optimize={"fuse": False})(W, X, Y), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fused, s2sad.grad(f, optimize=False)(W, X, Y), rtol=1e-12, atol=1e-14)
    check_grads(f, (W, X, Y), wrt=(0, 1), order=2)
    if name == "softmax_cross_entropy":
        logits = X @ W
        softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
        softmax /= softmax.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(fused, X.T @ (softmax - Y) / 6, rtol=1e-13, atol=1e-15)


def test_kinds_follow_constant_slices_and_array_metadata():
    """A constant slice of a list keeps the kinds of the items it keeps (an unknown one gives none: the kind
    of a slice is a list's, never an item's); an array's ``shape`` is numbers, ``x.T`` and ``np.zeros(...,
    dtype=x.dtype)`` arrays of known axes."""
    from s2sad.analysis import shapes
    from s2sad.front.resolve import Scope
    from s2sad.front.source import from_text
    src = from_text('''
def f(params, xs, n):
    first = params[:1]
    rest = params[1:]
    some = params[:n]
    k = -1
    most = params[:k]
    h = np.zeros((xs.shape[1], 3), dtype=xs.dtype)
    t = xs.T
    return h
''')
    names = {"params", "xs", "n", "first", "rest", "some", "k", "most", "h", "t"}
    got = shapes.kinds(src.tree, Scope({"np": np}, local_names=names), (((-1, -1), (2, 1), (2, 1)), 2, None))
    assert got["first"] == ((-1, -1),) and got["rest"] == ((2, 1), (2, 1)) and got["most"] == ((-1, -1), (2, 1))
    assert "some" not in got
    assert got["h"] == 2 and got["t"] == 2


def rnn_steps(W, xs, h):
    for x_t in xs:
        h = np.tanh(x_t + h @ W)
    return np.sum(h * h)


def test_a_loop_over_an_array_or_a_list_walks_it_directly_and_pushes_need_no_none():
    rng = np.random.default_rng(5)
    W, xs, h = 0.5 * rng.normal(size=(3, 3)), rng.normal(size=(4, 2, 3)), np.zeros((2, 3))
    for args in [(W, xs, h), (W, list(xs), h)]:
        text = code(rnn_steps, args)
        assert "sequence" not in text and "range(len(xs))" in text and "x_t = xs[_k]" in text
        assert " = None" not in text           # shapes pushed just after their binding, read by the stack's walk
        check_grads(rnn_steps, args)
    walked = code(rnn_steps, (W, iter(xs), h))    # a generator: its items, listed, are walked
    assert "_s2.sequence(xs)" in walked
    np.testing.assert_allclose(s2sad.grad(rnn_steps)(W, iter(xs), h), s2sad.grad(rnn_steps)(W, xs, h), rtol=1e-12)


def test_a_shape_every_iteration_shares_is_read_from_the_last_not_pushed():
    rng = np.random.default_rng(6)
    W, xs, h = 0.5 * rng.normal(size=(3, 3)), rng.normal(size=(4, 2, 3)), np.zeros((2, 3))
    U = rng.normal(size=(3, 3))

    def steps(W, xs, h, U):
        for x_t in xs:
            h = np.tanh(x_t @ U + h @ W)       # x_t @ U: (2, 3) on every step; h @ W: h's shape may change
        return np.sum(h * h)
    for kind in ("value_and_grad", "vjp"):
        text = s2sad.adjoint_source(steps, (0, 3), kind, (W, xs, h, U))
        pushed = re.findall(r"(\w+)_stack\.append\(_s2\.shape_of", text)
        assert len(pushed) == 1                 # h @ W's shape, each step; x_t @ U's not
        assert "= x_t @ U" in text and "_stack.append(x_t @ U)" not in text
    check_grads(steps, (W, xs, h, U), wrt=(0, 3))
    check_grads(steps, (W, xs, np.zeros((1, 3)), U), wrt=(0, 3))     # h broadcast on the first step
    value, pullback = s2sad.vjp(steps, W, xs[:0], h, U, wrt=(0, 3))   # no step at all
    np.testing.assert_allclose(pullback(1.0)[1], np.zeros((3, 3)))


def pairwise(x, means, w):
    d = x[:, None, :] - means[None, :, :]            # (n, k, d): more axes than any argument
    e = w * d + d                                    # w broadcast: the sum's adjoint needs w * d's shape only
    return np.sum(np.sum(e ** 2, axis=2))


def test_a_large_intermediate_read_only_for_its_shape_is_released_after_its_last_read():
    rng = np.random.default_rng(7)
    args = (rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))
    for kind in ("value_and_grad", "vjp"):
        text = s2sad.adjoint_source(pairwise, (0, 1, 2), kind, args)
        assert "    e = _t3 + d\n    _t3 = _s2.shape_of(_t3)\n" in text      # released after its last read
        assert "_t3_shape" not in text
    check_grads(pairwise, args, wrt=(0, 1, 2))
    value, pullback = s2sad.vjp(pairwise, *args, wrt=(0, 1, 2))
    for a, b in zip(pullback(1.0), s2sad.grad(pairwise, wrt=(0, 1, 2))(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
