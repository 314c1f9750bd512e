"""What the forward sweep records is an analysis returning plain data (analysis/record.py): which value,
assigned at which of the user's lines, and why it is pushed, kept as its shape, or not recorded."""
import numpy as np

from s2sad import pipeline
from s2sad.analysis.record import Decision, Plan
from s2sad.options import reference


def powers(a, n):
    b = a * a
    for i in range(n):
        a = a * b
    return a


def test_plan_says_what_is_recorded_where_and_why():
    plan = pipeline.record_plan(powers, wrt=(0,), kinds=(-1, -1))
    line = powers.__code__.co_firstlineno
    assert f"line {line + 3}: a: push (read by the backward sweep afterwards, may be overwritten)" in plan
    for entry in plan.splitlines():
        assert entry.startswith("line ") or "computed again" in entry, entry
        assert any(reason in entry for reason in (
            "(not read by the backward sweep after this point)", "(assigned once, outside loops)",
            "(the same value on every iteration)", "(read for its shape only)",
            "(read by the backward sweep afterwards, may be overwritten)",
            "(the list is read by the backward sweep afterwards)", "computed again")), entry


def test_straightforward_plan_pushes_every_value_read_after_it_may_be_overwritten():
    """With every optimization off the only "none" is a value nothing reads afterwards."""
    plan = pipeline.record_plan(powers, wrt=(0,), kinds=(-1, -1), options=reference())
    reasons = {entry.split(" (", 1)[1] for entry in plan.splitlines()}
    assert reasons <= {"not read by the backward sweep after this point)",
                       "read by the backward sweep afterwards, may be overwritten)"}, reasons
    assert "push" in plan


def test_invariant_value_in_a_loop_is_not_recorded_and_says_why():
    def scaled_sum(x, c, n):
        s = 0.0
        for i in range(n):
            k = np.sin(c)
            s = s + k * x
        return s
    plan = pipeline.record_plan(scaled_sum, wrt=(0,), kinds=(-1, -1, -1))
    assert "k: none (the same value on every iteration)" in plan, plan


def test_plan_is_plain_data():
    plan = Plan()
    plan.decisions[1] = Decision("x", "push", "why", 7)
    assert plan.dump() == "line 7: x: push (why)"
