"""Each optimization states the condition under which it is sound (in its docstring, as one function);
here each condition is dropped in turn and a program that needs it gets a wrong derivative (or a crash),
while with the condition in place the same program matches finite differences.

A condition no test can break would be either unnecessary or untested: both are worth knowing.
"""
import ast
import math
import copy
import functools
from dataclasses import dataclass

import gast
import numpy as np
import pytest

import s2sad
from s2sad import api, pipeline, runtime
from s2sad import nodes as N
from s2sad import inline as inline_module
from s2sad.analysis import activity, effects, record, shapes
from s2sad.front import lift, partials, sequences, spreads, versions
from s2sad.optimize import cleanup, fold, hoist, inline_calls
from s2sad.reverse import adjoints, assemble, last_iteration, realize, recompute, sweep
from s2sad.rules import registry
from s2sad.testing import numerical_grad

from . import helpers_module, regression_programs
from .regression_programs import CASES, REFUSED
from .test_inplace_updates import buffers_one_array_then_swapped     # effects.distinct_buffers (_new_binding)
from .test_inplace_updates import unpacked_then_updated               # runtime._reaches
from .test_inplace_updates import walk_what_may_be_the_array          # runtime._reaches, for a walk
from .test_optimizations import _items_in_a_loop                      # runtime.number_zeros

SCALE = 5.0          # helpers_module.SCALE is 2.0: a helper inlined into this module must not read this one


# --- programs that need one condition each ---------------------------------------------------------
def read_in_an_empty_loop(theta, x):            # hoist._runs: theta[5] is never read
    for t in range(0):
        a = theta[5]
        x = x * a
    return x * x


def read_then_rebound(theta, x):                # hoist.invariant_read: `a` is bound again in the loop
    for t in range(3):
        a = theta[0]
        a = a * x
        x = x + a
    return x


def while_true_reading_its_test_value(y):      # sweep.entered: the body reads what the test's statements bound
    while True:
        k = math.floor(y)
        if k < 5:
            y = y * k + 0.5
        else:
            break
    return y


def while_true_differentiating_its_test_value(y):   # sweep.entered: undoing the test's statements is work
    while True:
        t = np.sin(y) * 2.0
        if t > -1.0:
            y = y * 1.3 + t
        else:
            break
    return y


def walked_list_rebound(x):                      # sequences.walked_directly: the loop walks the first list
    xs = [x, 2.0 * x]
    s = 0.0
    for v in xs:
        s = s + v * v
        xs = [s, s]
    return s


def shape_changes_each_iteration(x, c):         # record.shape_fixed: t is (1,), then (3,)
    s = 0.0
    for k in range(1, 4, 2):
        t = x[:k] * 2.0
        s = s + np.sum((t + c) ** 2)
    return s


def outer_read_by_its_adjoint(x, y):             # assemble.releasable: t's value is read by the backward sweep
    t = x[:, None] * y[None, :]
    return np.sum(np.sin(t))


def copy_read_twice_in_a_branch(x):             # cleanup._reassigned_before_read (regression program
    for i in range(1):                           # fz_copy_read_in_a_branch_after_the_source_changes, with
        if x < 0.25:                             # hypot's two contributions no longer equal, so not merged)
            break
    else:
        x += math.hypot(x, 1.0 * x) if 1.0 else 2.0
    return x


def inner_loop_rebinds_the_index(x, y):          # last_iteration.index_kept: `if _:` after `for _ in ...`
    for idx in range(3):                         # (stacks popped: iterate off; seed 100000 found it in the vjp
        y = np.tanh(y) * x                       # of a tangent code, regression fz_inner_loop_rebinds_the_...)
        for it in range(2):
            x = x * 0.9 + 0.1 * y
    return x


def cube_computed_again(x, y):                    # recompute.squared: x ** 3 is not x * x
    s = 0.0
    for i in range(3):
        x = x * 0.9
        s = s + y * x ** 3
    return s


def power_of_itself(x):                          # adjoints.same_contribution: x's two contributions differ
    return x ** x


def seed_updated_in_a_loop(x):                   # fold.seed_folds: x_bar = 1.0, then updated
    for i in range(3):
        x = x * x + 0.5
    return x


def reassigned_outside_loops(x):                 # record.assigned_once (with versions off)
    y = x * x
    y = np.sin(y)
    return y * y


def loop_value(x):                               # record.outside_loops
    s = 0.0
    for i in range(3):
        t = x * (i + 1.0)
        s = s + t * t
    return s


def loop_carried_operand(x):                     # record.operands_fixed
    s = x
    for i in range(3):
        t = np.sin(s)
        s = s * t
    return s


def draws_in_loop(x):                            # record.may_draw
    np.random.seed(0)
    s = x
    for i in range(3):
        r = np.random.uniform(0.5, 1.5)
        s = s * r + x
    return s


def list_read_for_its_values(xs, c):             # record.shape_only
    total = 0.0
    for i in range(3):
        v = xs * (c + i)
        total = total + np.sum(v * v)
    return total


def operand_restored_before_read(x):             # recompute.operands_unchanged
    s = x
    w = x
    for i in range(3):
        t = s * s
        s = s + 1.0
        w = w * t
    return w


def updated_through_a_dict(x):                   # runtime.unshared: y and x one array (kinds unknown from a dict)
    d = {"x": x * 1.0}
    x = d["x"]
    y = x
    y *= 2.0
    return np.sum(y * x)


def held_by_a_dict_comprehension(x):              # effects._holding_items_of: the new dict holds `a`
    a = x * 1.0
    d = {k: v for k, v in zip(["a", "b"], [a, x * 2.0])}
    a += 1.0                                     # changes d["a"] too
    return np.sum(d["a"] * x)


def bound_after_the_update_in_a_loop(x):          # effects._unbound_at: z holds y from the second iteration on
    y = x * 1.0
    for i in range(2):
        y += x
        if i == 0:
            z = y
    return np.sum(z * x)


def _rest_weighted(t, *rest):
    return t + sum(np.arctan(r) * (k + 1) for k, r in enumerate(rest))


def spread_after_an_extra_argument(x):          # lift.spreads_into_rest (inlining): x[0] lands in rest too
    return _rest_weighted(x[0], x[1], *x) ** 2


def cross_entropy_of_labels(w, X, y):            # adjoints._labels_constant: y is differentiated too
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def item_returned_by_a_call(x):                  # effects._returns_itself: next(iter(xs)) is an item, `a`
    a = x * 3.0
    xs = [a, x * 2.0]
    v = next(iter(xs))
    v += 1.0                                     # changes a too
    return np.sum(a * x)


def _first_argument_itself(value, unit):
    has = isinstance(value, gast.Call) and value.args and isinstance(value.args[0], gast.Name)
    return value.args[0] if has else None


def _holding_nothing(value, unit):
    made = isinstance(value, gast.Call) and getattr(value.func, "attr", "") == "make_dict"
    return gast.Name("_nothing", gast.Load(), None, None) if made else None


def walk_a_growing_list(xs):                     # runtime.walked: Python's loop walks the items added too
    xs = list(xs)
    s = 0.0
    for v in xs:
        xs += [v * 0.5]
        s = s + v
        if len(xs) > 6:
            break
    return s


def pop_after_read(x):                           # fold._changes_in_place
    ys = [2.0, 3.0]
    y = x * (ys[0] + ys.pop(0))
    return y * ys[0]


def uses_other_modules_helper(x):                # inline_calls: a helper of another module keeps its globals
    return helpers_module.scaled_sum(x) * SCALE


def carried_through_loop(a, x):                  # versions: one version per name inside loops
    for i in range(3):
        a = a * x
    return a


def logistic_of_a_changing_value(z):             # adjoints.unchanged_between (fuse)
    s = 0.0
    for i in range(2):
        e = np.exp(-z)
        z = z * 3.0
        p = 1.0 / (1.0 + e)
        s = s + np.sum(p * z)
    return s


def append_through_alias(x):                     # activity.holders
    ys = []
    zs = ys
    zs.append(x * x)
    return np.sum(np.stack(ys))


def items_read_in_loop(x):                       # adjoints accumulate: the buffer is a private copy
    c = x * 2.0
    s = 0.0
    for i in range(3):
        s = s + x[i] * x[i]
    z = x + c                                    # x_bar and c_bar start as one array (z_bar)
    return s + np.sum(z * z)


def write_after_shared_adjoint(x):               # adjoints._item_write: x_bar is a private copy
    y = x * 1.0
    c = x * 2.0
    y[0] = x[1] * 3.0
    z = y + c                                    # y_bar and c_bar start as one array (z_bar)
    return np.sum(z * z)


def write_into_a_shared_tangent(x):              # forward: the tangent written into is a private copy
    y = x + 0.0                                  # y_dot may be x_dot itself
    y[0] = 5.0
    return np.sum(y * x)


def read_then_overwritten(x):                    # record: what a write overwrote is put back
    y = x * 1.0
    s = np.sum(y * y)                            # its adjoint reads y as it was before the write
    y[0] = 3.0 * x[1]
    return s + y[0] * y[1]


def read_through_an_alias_before_the_write(x):   # record.holders_of: a view sees the write too
    y = x * 1.0
    z = y
    s = np.sum(z * z)
    y[0] = 2.0 * x[2]
    return s + np.sum(y)


MASK = True


def transposed_then_written(x):              # effects._metadata: x.T is a view (x.shape is not)
    y = x * 1.0
    t = y.T
    y[0] = x[1] * 2.0
    return np.sum(t * x.T)


def abs_of_a_complex_number(x):                  # inline.drop_real_checks: only for real numbers
    z = np.exp(1j * x) * 2.0
    return abs(z) * x


def indexed_by_a_module_bool(x):                 # shapes._never_bool: x[True] is x[None], not x[1]
    y = x[MASK]
    return np.sum(y * x[1])


def indexed_by_a_comparison(x):                  # shapes._never_bool: a comparison is a mask
    m = x[0] > 0
    y = x[m]
    return np.sum(np.sin(y) * x[1])


class _Everything:
    def __contains__(self, name):
        return True


_ALWAYS_NAMES = _Everything()
_DROP_REAL = inline_module.drop_real_checks


# --- the conditions ----------------------------------------------------------------------------------
@dataclass
class Condition:
    owner: object                # the module or class holding the condition's function
    name: str
    dropped: object              # what the function becomes without the condition
    program: object
    args: tuple
    wrt: tuple = (0,)
    optimize: object = True
    refused: bool = False        # with the condition in place, s2sad refuses the program (not a wrong number)
    nondiff: tuple = ()          # primitives registered as having no derivative for the test (as a user may)
    mode: str = "reverse"        # or "forward": checked through jvp


def view_row_then_update(x):                     # effects._scalar_item: x[0] of a 2-d array is a view
    y = x * 1.0
    r = y[0]
    y *= 2.0
    return np.sum(r * r)


def rows_unpacked_then_update(x):                # effects._scalar_item(rows=True): a, b = X[t] are numbers only
    y = x * 1.0                                  # where X[t] is a row; y[0:2] unpacks into two views
    a, b = y[0:2]
    y *= 2.0
    return np.sum(a * b)


def columns_then_update(x):                      # effects._advanced_index: y[:, 1:] is a view, y[:, [0, 2]] a copy
    y = x * 1.0
    r = y[:, 1:]
    c = y[:, [0, 2]]
    y *= 2.0
    return np.sum(r * r) + np.sum(c * c)


def rebound_in_the_other_branch(x):              # effects.follows: only later in the changed name's own block
    y = x * 1.0
    v = y[:2]
    total = 0.0
    for i in range(2):
        if i == 0:
            y *= 2.0                             # changes v too: v is read below on this path
        else:
            v = y[:2] * 1.0
        total = total + np.sum(v * v)
    return total


def _always(value):
    return lambda *args, **kwargs: value


def _store_ignoring_loops(original):
    def store(self, target, current):
        depth, self.in_loop = self.in_loop, 0
        try:
            return original(self, target, current)
        finally:
            self.in_loop = depth
    return store


def _eligible_any_module(self, callee):
    return inline_calls._user_function(callee) and not callee.__closure__ and not inline_calls._recursive(callee)


def _partial_model(w, d):
    return np.sum(np.tanh(w * d))


def partial_rebound(w):                            # front/partials._bound_once
    g = functools.partial(_partial_model, w)
    a = g(np.array([0.1, 0.2, 0.3]))
    g = functools.partial(_partial_model, w * w)
    return a + g(np.array([-0.5, 0.4, 1.0]))


def cross_entropy_mean_over_rows(w, X, y):       # adjoints._whole_reduction: a mean over axis 1, weighted rows
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    rows = np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=1)
    return np.sum(rows * np.array([1.0, 2.0, -3.0]))


def log_softmax_of_a_changed_input(z):          # adjoints._softmax_operands_kept: x changes between x - m's
    x = z * 1.0
    out = 0.0
    for k in range(2):
        m = np.max(x, axis=1, keepdims=True)
        t = x - m
        x = x * 1.5
        e = np.exp(x - m)
        lp = t - np.log(np.sum(e, axis=1, keepdims=True))
        out = out + np.sum(lp * np.array([[1.0, -2.0, 0.5]]))
    return out


def _with_a_default(a, b=1.0):
    return np.sum(a * b)


def dict_grown_after_its_display(x):              # front/spreads._only_read: the key b added after the display
    # (the condition in place: the keys are _with_a_default's parameters, read with their defaults)
    d = {"a": x * 2.0}
    d["b"] = np.sin(x)
    return _with_a_default(**d)


def _three_arrays(a, b, c):
    return np.sum(a * b * np.sin(c))


def list_grown_after_its_display(x):              # front/spreads._only_read: three items, the display has two
    parts = [x, x * 2.0]
    parts.append(np.cos(x))
    return _three_arrays(*parts)


def loops_inside_a_loop(x):                      # realize.read_in_order: the inner stack fills across outer iterations
    for i in range(2):
        for j in range(3):
            x = np.sin(x) * 1.1 + 0.1 * i
    return x


def pushed_before_the_loop_too(x):               # realize.read_in_order (versions off): x_stack has one more value
    x = x * x
    for i in range(3):
        x = np.sin(x) * 1.2
    return x


def read_again_after_its_restore(x):            # realize.rotatable: t = y * y reads the y before tanh's
    y = x
    for i in range(3):
        t = y * y
        y = np.tanh(t)
    return y


def carried_into_a_differentiated_start(h0, W):  # last_iteration.skippable: h_bar after the loop is h0's
    h = h0
    for i in range(3):
        h = np.tanh(h @ W * (i + 1.0))
    return np.sum(h)


def pushed_before_its_assignment(a, x):           # realize.push_passes: x's push may not pass `x = ...`
    for i in range(3):
        y = x * a
        x = np.sin(y)
    return x


def _all_names(tree, scope):
    return {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)}


CONDITIONS = {
    "effects: a new object is held only by names a statement after it was made gave it to": Condition(
        effects, "holders_of_fresh", lambda fn, unit, change, name: {name},
        regression_programs.same_array_appended_each_iteration, (np.array([0.5, 0.3]),), refused=True),
    "effects: a list walked by a loop is written at the item the iteration read, nowhere else": Condition(
        effects, "_writes_the_walked_item", lambda fn, change, seq: True,
        regression_programs.list_item_written_while_walked, (np.array([0.5, 2.0, 3.0]),), refused=True),
    "effects: a container made inside a literal or an append is an object of its own": Condition(
        effects, "_made_inside", lambda value, s, items=False: set(),
        regression_programs.list_item_appended_through_a_name, (0.7,), refused=True),
    "iterate: a push moves up only past assignments that leave its name": Condition(
        realize, "push_passes", lambda s, value: isinstance(s, gast.Assign), pushed_before_its_assignment,
        (0.9, 0.4), (0, 1)),
    "own names: a temporary the backward sweep reads before assigning keeps its name": Condition(
        assemble, "own_name_sound", _always(True), *CASES["break_under_nested_if"]),
    "last_iteration: an update skipped in the last backward iteration is read by nothing after it": Condition(
        last_iteration, "skippable", lambda j, body, live_after, index, unit: True,
        carried_into_a_differentiated_start, (np.array([0.3, -0.5]), np.array([[0.5, 0.2], [-0.3, 0.8]])), (0, 1)),
    "iterate: a stack read by iteration is pushed once per iteration of a loop in no other loop": Condition(
        realize, "read_in_order", _always(True), loops_inside_a_loop, (0.7,)),
    "iterate: the value an assignment made is pushed only where nothing reads the one before": Condition(
        realize, "rotatable", _always(True), read_again_after_its_restore, (0.7,)),
    "iterate: ... and by nothing else": Condition(
        realize, "read_in_order", lambda loop, stack, pushed, uses: not loop.nested and stack in pushed,
        pushed_before_the_loop_too, (0.7,), optimize={"versions": False}),
    "fuse: the cross-entropy's adjoint is a number only after a reduction over every axis": Condition(
        adjoints, "_whole_reduction", _always(True), cross_entropy_mean_over_rows,
        (np.array([0.3, -0.7]), np.arange(18.0).reshape(3, 3, 2) / 9.0 - 1.0,
         np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]))),
    "fuse: the log-softmax's two differences read the same values": Condition(
        adjoints, "_softmax_operands_kept", _always(True), log_softmax_of_a_changed_input,
        (np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]]),)),
    "link: a spread argument lands in *rest whole": Condition(
        lift, "spreads_into_rest", _always(True), spread_after_an_extra_argument, (np.array([0.3, -0.4, 0.8]),),
        optimize=False, refused=True),
    "spreads: a dict's keys from its display only while nothing changes them": Condition(
        spreads, "_only_read", _all_names, dict_grown_after_its_display, (np.array([0.3, -0.5]),)),
    "spreads: a list's length from its kind only for a display or a parameter": Condition(
        spreads, "_made_whole", lambda tree: {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)},
        regression_programs.fz_spread_of_a_comprehension, (0.6, np.array([-0.6, -1.1, 0.9])), (0, 1)),
    "spreads: a list's length from its kind only while nothing changes it": Condition(
        spreads, "_only_read", _all_names, list_grown_after_its_display, (np.array([0.3, -0.5]),)),
    "record: assigned once": Condition(record, "assigned_once", _always(True), reassigned_outside_loops, (0.7,),
                                       optimize={"versions": False}),
    "record: outside loops": Condition(record, "outside_loops", _always(True), loop_value, (0.7,),
                                       optimize={"recompute": False}),
    "record: operands fixed in the loop": Condition(record, "operands_fixed", _always(True), loop_carried_operand,
                                                    (0.7,)),
    "record: no random draw": Condition(record, "may_draw", _always(False), draws_in_loop, (0.7,),
                                        nondiff=(np.random.uniform,)),
    "record: a shape read from the last iteration only where every iteration has it": Condition(
        record, "shape_fixed", _always(True), shape_changes_each_iteration,
        (np.array([0.3, -0.5, 0.8]), np.array([0.1, 0.2, -0.4])), (0, 1)),
    "record: read for its shape only": Condition(
        record, "shape_only", lambda name, order, unit: name not in unit.facts.mutated, list_read_for_its_values,
        (np.array([0.5, -1.0]), 0.3)),
    "record: read after the point": Condition(record._Order, "read_after", _always(False), loop_value, (0.7,),
                                              optimize={"recompute": False}),
    "recompute: operands unchanged before the read": Condition(recompute, "operands_unchanged", _always(True),
                                                               operand_restored_before_read, (0.7,)),
    "assemble: an array released after its last read only if the backward sweep reads its shape alone": Condition(
        assemble, "releasable", _always(True), outer_read_by_its_adjoint,
        (np.array([0.3, -0.5, 0.8]), np.array([0.1, 0.7])), (0, 1)),
    "sequences: a loop walks a name directly only while it is bound once, unchanged": Condition(
        sequences, "walked_directly", _always(True), walked_list_rebound, (0.7,)),
    "fold: a seed written into its reads only where it is bound once": Condition(
        fold, "seed_folds", _always(True), seed_updated_in_a_loop, (0.3,)),
    "fold: nothing changes a value in between": Condition(fold, "_changes_in_place", _always(False), pop_after_read,
                                                          (1.5,)),
    "inline: the helper's own globals": Condition(inline_calls.Inliner, "eligible", _eligible_any_module,
                                                  uses_other_modules_helper, (np.array([1.0, -2.0]),)),
    "inline: no change in place": Condition(inline_calls, "changes_in_place", _always(False),
                                            *REFUSED["fz_inlined_helper_changes_argument"][:3], refused=True),
    "versions: one version inside loops": Condition(versions._Versions, "store",
                                                    _store_ignoring_loops(versions._Versions.store),
                                                    carried_through_loop, (0.9, 1.1), (0, 1)),
    "fuse: z unchanged between -z and p": Condition(adjoints, "unchanged_between", _always(True),
                                                    logistic_of_a_changing_value, (np.array([0.3, -1.2]),)),
    "activity: changes through aliases": Condition(activity, "holders", lambda classes, name: {name},
                                                   append_through_alias, (0.7,), refused=True),
    "cleanup: pops are effects": Condition(cleanup, "_has_effect", _always(False), *CASES["fz_pops_are_effects"]),
    "last iteration: told by an index nothing in the loop rebinds": Condition(
        last_iteration, "index_kept", lambda body, index: True, inner_loop_rebinds_the_index, (0.7, 0.4),
        optimize={"iterate": False}),
    "recompute: only a square is computed again as a product": Condition(
        recompute, "squared", _always(True), cube_computed_again, (0.7, 1.3), (0, 1)),
    "adjoints: only equal contributions merged": Condition(
        adjoints, "same_contribution", lambda a, b: getattr(a[0], "id", 0) == getattr(b[0], "id", 1),
        power_of_itself, (0.7,)),
    "cleanup: the copied name unchanged up to the last read": Condition(
        cleanup, "_reassigned_before_read", _always(False), copy_read_twice_in_a_branch, (1.2467,)),
    "writes: a copy before the loop only if the loop leaves the name": Condition(
        sweep, "_assigned", lambda loop: set(), *CASES["fz_array_written_in_a_loop_from_a_broadcast_adjoint"]),
    "updates: a value another name holds is a number": Condition(runtime, "unshared", _always(None),
                                                                 updated_through_a_dict, (np.array([0.5, -1.0]),),
                                                                 refused=True),
    "updates: no name read afterwards reaches the changed array": Condition(
        runtime, "_reaches", _always(False), unpacked_then_updated, (np.array([[0.4, -1.1], [0.3, 0.2]]), 1.3),
        refused=True),
    "updates: a name bound only after the update holds nothing there": Condition(
        effects, "_unbound_at", _always(True), bound_after_the_update_in_a_loop, (np.array([0.3, -0.5]),),
        refused=True),
    "inline: a spread argument lands in *rest whole": Condition(
        inline_calls, "spreads_into_rest", _always(True), spread_after_an_extra_argument,
        (np.array([0.3, -0.4, 0.8]),), refused=True),
    "fuse: the cross-entropy's labels carry no derivative": Condition(
        adjoints, "_labels_constant", _always(True), cross_entropy_of_labels,
        (np.array([0.3, -0.2]), np.array([[0.5, 1.0], [-1.5, 0.2], [0.7, 0.7]]), np.array([0.2, 0.9, 0.4])), (0, 2)),
    "effects: only helpers returning their first argument or a view of it return it": Condition(
        effects, "_returns_itself", _first_argument_itself, item_returned_by_a_call, (np.array([0.3, 0.5]),),
        refused=True),
    "effects: a dict made from a list holds its items": Condition(
        effects, "_holding_items_of", _holding_nothing, held_by_a_dict_comprehension, (np.array([0.3, 0.5]),),
        refused=True),
    "updates: the object a loop walks does not reach the changed array": Condition(
        runtime, "_reaches", _always(False), walk_what_may_be_the_array, (np.array([0.3, -0.4, 0.8, 0.5]), -0.5),
        refused=True),
    "updates: a walked sequence is an array or a tuple": Condition(runtime, "walked", _always(None),
                                                                   walk_a_growing_list, ([0.5, 1.5],), refused=True),
    "accumulate: a private buffer": Condition(runtime, "owned", lambda buf: buf, items_read_in_loop,
                                              (np.array([0.5, -1.0, 2.0]),)),
    "writes: the adjoint written into is private": Condition(runtime, "owned", lambda buf: buf,
                                                             write_after_shared_adjoint, (np.array([0.5, -1.0, 2.0]),)),
    "writes: the tangent written into is private": Condition(runtime, "owned_tangent", lambda t, x=None: t,
                                                             write_into_a_shared_tangent,
                                                             (np.array([0.5, -1.0, 2.0]),), mode="forward"),
    "writes: what a write overwrote is put back": Condition(record, "shape_only", _always(True), read_then_overwritten,
                                                            (np.array([0.5, -1.0, 2.0]),)),
    "effects: only a number read from an array is a new object": Condition(
        effects, "_scalar_item", lambda node, kinds, rows=False: isinstance(node, gast.Subscript), view_row_then_update,
        (np.array([[0.5, -1.0], [2.0, 0.3]]),), refused=True),
    "effects: only a row read from a 2-d array unpacks into numbers": Condition(
        effects, "_scalar_item", lambda node, kinds, rows=False: isinstance(node, gast.Subscript),
        rows_unpacked_then_update, (np.array([[0.5, -1.0], [2.0, 0.3], [1.5, 0.7]]),), refused=True),
    "effects: only an index by an array (or a list) makes a new array": Condition(
        effects, "_advanced_index", lambda node, kinds: isinstance(node, gast.Subscript), columns_then_update,
        (np.array([[0.5, -1.0, 0.2], [2.0, 0.3, -0.4]]),), refused=True),
    "effects: a rebinding on every path after the change": Condition(
        effects, "follows", _always(True), rebound_in_the_other_branch, (np.array([0.5, -1.0, 2.0]),), refused=True),
    "rules: a complex value's check is dropped only for real numbers": Condition(
        inline_module, "drop_real_checks",
        lambda nodes, numbers: _DROP_REAL(nodes, _ALWAYS_NAMES), abs_of_a_complex_number, (0.7,), refused=True),
    "effects: only an attribute without a derivative is a new object": Condition(
        effects, "_metadata", _always(True), transposed_then_written, (np.arange(6.0).reshape(2, 3) + 1,),
        refused=True),
    "kinds: a bool index is a mask, not an item": Condition(shapes, "_never_bool", _always(True),
                                                          indexed_by_a_module_bool, (np.array([0.5, -1.0, 2.0]),)),
    "kinds: a comparison index is a mask, not an item": Condition(shapes, "_never_bool", _always(True),
                                                                  indexed_by_a_comparison,
                                                                  (np.array([0.5, -1.0, 2.0]),)),
    "effects: rotating buffers are bound only to new objects": Condition(
        effects, "_new_binding", _always(True), buffers_one_array_then_swapped, (np.array([0.3, 1.0, -0.4, 0.8, 0.2]),),
        refused=True),
    "partials: the partial's name is bound once": Condition(
        partials, "_bound_once", _always(True), partial_rebound, (np.array([0.3, -0.7, 1.1]),), refused=True),
    "accumulate: a tuple of numbers' adjoint written item by item is a list": Condition(
        runtime, "number_zeros", runtime.zeros_like, _items_in_a_loop, ((0.9, 0.3, 0.5), 0.2),
        optimize={"hoist": False}),
    "hoist: the loop runs": Condition(hoist, "_runs", lambda iterable, ranges, unit: True, read_in_an_empty_loop,
                                      (np.array([0.5, 1.0, 2.0]), 0.3), wrt=(1,)),
    "hoist: bound once, never written": Condition(hoist, "invariant_read", lambda *a: True, read_then_rebound,
                                                  (np.array([0.5, 1.0, 2.0]), 0.3), wrt=(0, 1)),
    "sweep: a while loop replays its body only, where its test's statements need no undoing (read)": Condition(
        sweep, "entered", _always(True), while_true_reading_its_test_value, (1.7,)),
    "sweep: a while loop replays its body only, where its test's statements need no undoing (adjoint)": Condition(
        sweep, "entered", _always(True), while_true_differentiating_its_test_value, (1.7,)),
    "writes: reads through another name count": Condition(record, "holders_of", lambda name, unit: [name],
                                                          read_through_an_alias_before_the_write,
                                                          (np.array([0.5, -1.0, 2.0]),)),
}


def _error(f, args, wrt, optimize, mode="reverse"):
    """How far s2sad's gradient is from central differences (inf when it raises)."""
    pipeline.forget()
    try:
        if mode == "forward":                      # the gradient a column at a time, by jvp
            grads = tuple(s2sad.jacobian(f, wrt=i, mode="forward", optimize=optimize)(*copy.deepcopy(args))
                          for i in wrt)
            grads = grads if len(wrt) > 1 else grads[0]
        else:
            grads = s2sad.grad(f, wrt=wrt, optimize=optimize)(*copy.deepcopy(args))
    except Exception:                              # noqa: BLE001 -- a crash counts as a failure here
        return np.inf
    grads = grads if len(wrt) > 1 else (grads,)
    worst = 0.0
    for g, i in zip(grads, wrt):
        want = numerical_grad(lambda *a: f(*copy.deepcopy(a)), args, i)
        scale = 1.0 + np.max(np.abs(want))
        worst = max(worst, float(np.max(np.abs(np.asarray(g) - want))) / scale)
    return worst


@pytest.mark.parametrize("label", sorted(CONDITIONS))
def test_dropping_the_condition_gives_a_wrong_derivative(label, monkeypatch):
    c = CONDITIONS[label]
    for primitive in c.nondiff:
        monkeypatch.setitem(registry._NONDIFF, primitive, True)
    if c.refused:
        with pytest.raises(s2sad.S2SadError):
            s2sad.grad(c.program, wrt=c.wrt, optimize=c.optimize)(*c.args)
    else:
        assert _error(c.program, c.args, c.wrt, c.optimize, c.mode) < 1e-6, "right with the condition in place"
    with monkeypatch.context() as m:
        m.setattr(c.owner, c.name, c.dropped)
        assert _error(c.program, c.args, c.wrt, c.optimize, c.mode) > 1e-3, f"{label}: still right without the condition"
    pipeline.forget()


def test_specialised_code_is_used_only_for_the_argument_kinds_it_was_made_for(monkeypatch):
    """specialize: code generated for numbers (plain arithmetic, no unbroadcast) must not run on arrays
    that broadcast (the cache key holds the argument kinds)."""
    def scaled(x, c):
        t = x * c
        return np.sum(t * t)
    x, c = np.array([1.0, 2.0]), np.array([[3.0], [-1.0], [0.5]])
    want = numerical_grad(scaled, (x, c), 0)
    g = s2sad.grad(scaled)
    g(1.5, 2.0)
    np.testing.assert_allclose(g(x, c), want, rtol=1e-6)             # with the kinds in the key
    first = []

    def kinds_of_the_first_call(args, original=api._kinds):           # the condition dropped: the cache
        if not first:                                                 # ignores the kinds of later calls
            first.append(original(args))
        return first[0]
    with monkeypatch.context() as m:
        m.setattr(api, "_kinds", kinds_of_the_first_call)
        pipeline.forget()
        g = s2sad.grad(scaled)
        g(1.5, 2.0)
        try:
            wrong = g(x, c)
        except Exception:                          # noqa: BLE001 -- a crash counts as a failure here
            wrong = None
        assert wrong is None or not np.allclose(wrong, want, rtol=1e-6)
    pipeline.forget()


@pytest.mark.parametrize("helper", sorted(effects._FIRST_ONLY, key=lambda f: f.__name__), ids=lambda f: f.__name__)
def test_helpers_returning_their_first_argument_only_never_return_the_second(helper):
    """effects._FIRST_ONLY: these helpers give back ``g`` (or a view of it, or a new array), never the
    argument they read for its shape or dtype; the points-to analysis relies on it."""
    rng = np.random.default_rng(0)
    if helper in _FIRST_ONLY_CALLS:
        for args in _FIRST_ONLY_CALLS[helper](rng):
            out = helper(*args)
            for other in args[1:]:
                for held in (out if isinstance(out, list) else [out]):
                    assert held is not other and not (isinstance(other, np.ndarray) and np.shares_memory(held, other)), \
                        helper.__name__
        return
    for g_shape, x_shape in [((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 3)), ((), (3,)), ((2, 3), (2, 3)), ((), ())]:
        g, x = rng.normal(size=g_shape), rng.normal(size=x_shape)
        try:
            out = helper(g, x)
        except (ValueError, s2sad.S2SadError):     # shapes this helper is never called with, or refuses
            continue
        assert out is not x and not np.shares_memory(out, x), (helper.__name__, g_shape, x_shape)


def _first_only_calls():
    """Calls of the _FIRST_ONLY helpers taking more than ``(g, x)``, as the generated code makes them."""
    def reshape_like(rng):
        x = rng.normal(size=6)
        ans = x.reshape(2, 3)
        return [(rng.normal(size=6), x, ans), (rng.normal(size=(2, 3)), ans, x, "F"), (rng.normal(size=6), x, x)]

    def unreshape(rng):
        x = rng.normal(size=(2, 3))
        return [(rng.normal(size=6), x), (rng.normal(size=6), x, "F"), (rng.normal(size=(2, 3)), x)]

    def transpose_grad(rng):
        return [(rng.normal(size=(2, 3)),), (rng.normal(size=(2, 3, 4)), (2, 0, 1))]

    def transposed_if(rng):
        return [(rng.normal(size=(3, 3)), 0), (rng.normal(size=(3, 3)), 1)]

    def atleast_tangents(rng):
        x = rng.normal(size=3)
        return [((rng.normal(size=3),), np.atleast_2d(x)), ((rng.normal(size=3), None), [np.atleast_2d(x), x])]

    def repetition_tangent(rng):
        a, b = rng.normal(size=3), 2.0
        items = [rng.normal(size=2), 1.5]
        return [(rng.normal(size=3), a, b, a * b, 0), (0.5, a, b, a * b, 1), (items, items, 2, items * 2, 0),
                (0.25, 3, [a, 1.0], [a, 1.0] * 3, 0)]

    def concatenation_tangent(rng):
        a, b = [rng.normal(size=2)], [1.5, rng.normal(size=2)]
        x, y = rng.normal(size=3), rng.normal(size=(2, 3))
        return [(rng.normal(size=3), x, y, x + y, 0), ([rng.normal(size=2)], a, b, a + b, 0),
                ([0.5, rng.normal(size=2)], a, b, a + b, 1)]
    return {getattr(runtime, f.__name__): f for f in (reshape_like, unreshape, transpose_grad, transposed_if,
                                                      atleast_tangents, repetition_tangent, concatenation_tangent)}


_FIRST_ONLY_CALLS = _first_only_calls()


def test_scaling_before_a_broadcast_needs_the_broadcast_read_once(monkeypatch):
    """cleanup.scaled_once: ``v = unreduce(a, x)`` read as ``v * 2`` and again as ``v``: scaling ``a`` would change
    the second read. No program s2sad generates reads such a broadcast twice (one operation per statement, each
    rule reads its adjoint once or without a factor), so the condition is dropped on statements built here."""
    text = "v = unreduce(a, x)\ny = v * 2\nz = v + 1.0\n"
    env = {"unreduce": runtime.unreduce, "a": np.array([1.5, -0.5]), "x": np.ones((3, 2))}

    def run(stmts):
        space = dict(env)
        module = ast.fix_missing_locations(gast.gast_to_ast(gast.Module(body=stmts, type_ignores=[])))
        exec(compile(module, "<statements>", "exec"), space)
        return space["y"], space["z"]

    def scaled():
        stmts = gast.parse(text).body
        cleanup.scale_early(stmts, lambda func: isinstance(func, gast.Name) and func.id == "unreduce")
        return run(stmts)
    want = run(gast.parse(text).body)
    np.testing.assert_array_equal(scaled()[1], want[1])
    monkeypatch.setattr(cleanup, "scaled_once", lambda name, c, stores, loads: True)
    assert not np.array_equal(scaled()[1], want[1])


def _run_folded(text, numbers, env):
    """``text``'s statements folded (optimize/fold.py, with ``numbers``), run; its namespace afterwards."""
    from s2sad.optimize import fold
    fn = gast.parse("def f():\n" + "".join("    " + line + "\n" for line in text.splitlines())).body[0]
    fold._negations(fn.body, *fold._counts(fn), numbers)
    fold._merge_sums(fn.body, numbers, lambda expr: True)
    module = ast.fix_missing_locations(gast.gast_to_ast(gast.Module(body=fn.body, type_ignores=[])))
    space = dict(env)
    exec(compile(module, "<statements>", "exec"), space)
    return space


def test_a_negation_is_folded_only_while_its_operand_is_unchanged(monkeypatch):
    """fold.negation_folds: ``_t1 = -y`` read after ``y`` changes must keep the old ``-y``."""
    from s2sad.optimize import fold
    text = "_t1 = -y\na = a + _t1 * b\ny = 5.0\nc = c + _t1 * b\n"
    numbers = {"_t1", "y", "a", "b", "c"}
    env = {"y": 2.0, "a": 1.0, "b": 3.0, "c": 1.0}
    want = _run_folded(text, set(), env)
    assert _run_folded(text, numbers, env)["c"] == want["c"] == -5.0
    everywhere = (lambda stmts, i, t, y, stores, loads, numbers:
                  [n for s in stmts[i + 1:] for n in gast.walk(s) if isinstance(n, gast.BinOp)
                   and isinstance(n.op, gast.Add) and fold._first_factor(n.right) == t])
    monkeypatch.setattr(fold, "negation_folds", everywhere)
    assert _run_folded(text, numbers, env)["c"] != want["c"]


def test_sums_merge_only_past_statements_that_leave_the_first_term_alone(monkeypatch):
    """fold.merge_passes: ``v = v + a`` merged into a later update computes ``a`` there: nothing between may
    assign what it reads."""
    from s2sad.optimize import fold
    text = "v = v + a * 2.0\na = 10.0\nv = v + b\n"
    numbers = {"v", "a", "b"}
    env = {"v": 1.0, "a": 2.0, "b": 3.0}
    want = _run_folded(text, set(), env)["v"]
    assert _run_folded(text, numbers, env)["v"] == want == 8.0
    monkeypatch.setattr(fold, "merge_passes", lambda s, v, added, names: N.is_comment(s)
                        or isinstance(s, gast.Assign) and v not in fold._reads(s) | fold._writes(s))   # (not `a`)
    assert _run_folded(text, numbers, env)["v"] != want


def test_a_push_read_just_after_its_binding_needs_no_none_only_while_the_backward_sweep_reads_it_from_its_stack():
    """realize.read_unbound: ``_t3 = None`` before a loop is left out only for a name the backward sweep reads
    where its own loop header bound it; a read anywhere else (a zero adjoint for its shape, a pop) needs it."""
    def parse(text):
        return gast.parse(text).body
    assert not realize.read_unbound(parse("for _k, _t3 in zip(a, b):\n    g = f(_t3)"), "_t3")
    assert realize.read_unbound(parse("z = zeros_like(_t3)\nfor _k, _t3 in zip(a, b):\n    g = f(_t3)"), "_t3")
    assert realize.read_unbound(parse("for _k in a:\n    g = f(_t3)\n    _t3 = s.pop()"), "_t3")
    assert realize.read_unbound(parse("for _t3 in reversed(_t3):\n    g = f(_t3)"), "_t3")


def test_a_constant_temporary_is_written_into_its_reads_only_where_it_is_bound_once(monkeypatch):
    """fold.constant_folds: ``_t1 = -1`` written where ``_t1`` is read; a name bound again (here to 3.0) keeps
    its reads (and so does a seed bound again: fold.seed_folds, the same way)."""
    from s2sad.optimize import fold

    def folded(text):
        fn = gast.parse("def f():\n" + "".join("    " + line + "\n" for line in text.splitlines())).body[0]
        fold._constants(fn.body, fold._counts(fn)[0])
        module = ast.fix_missing_locations(gast.gast_to_ast(gast.Module(body=fn.body, type_ignores=[])))
        space = {"x": 5.0}
        exec(compile(module, "<statements>", "exec"), space)
        return space["r"], N.unparse(fn)
    value, text = folded("_t1 = -1\ny = x * _t1\nr = y + _t1")
    assert value == -6.0 and "_t1" not in text                      # folded: x * -1, y + -1
    assert folded("_t1 = 2.0\ny = x * _t1\n_t1 = 3.0\nr = y + _t1")[0] == 13.0
    monkeypatch.setattr(fold, "constant_folds", lambda body, i, name, stores: True)
    assert folded("_t1 = 2.0\ny = x * _t1\n_t1 = 3.0\nr = y + _t1")[0] != 13.0


def test_a_backward_loop_counts_its_index_down_only_where_the_header_alone_binds_it_and_nothing_reads_it_after(
        monkeypatch):
    """count_down.counted_down: ``for n, v in zip(reversed(r[:len(st)]), reversed(st))`` becomes ``n = start +
    len(st) * step`` and ``for v in reversed(st): n = n - step``. A body that binds ``n`` would throw the count
    off; after no iteration the header leaves ``n`` alone where the counter sets it to ``start``. Both break
    without the condition (no program found that reaches either: the front end renames a loop variable its body
    binds, and a value the loop may change is restored after it)."""
    from types import SimpleNamespace
    import builtins
    from s2sad.reverse import count_down

    unit = SimpleNamespace(scope=SimpleNamespace(resolve=lambda f: getattr(builtins, f.id)),
                           aliases=SimpleNamespace(ref=lambda obj, name: N.name(name)))

    def run(body, st, rewrite=True):
        backward = gast.parse(body).body
        if rewrite:
            backward = count_down.run(backward, gast.parse("r = range(1, 9, 2)").body, {"out"}, unit)
        module = ast.fix_missing_locations(gast.gast_to_ast(gast.Module(body=backward, type_ignores=[])))
        space = {"r": range(1, 9, 2), "st": st, "acc": 0.0, "n": 5}
        exec(compile(module, "<backward>", "exec"), space)
        return space["out"], N.unparse(gast.Module(body=backward, type_ignores=[]))
    plain = "for n, v in zip(reversed(r[:len(st)]), reversed(st)):\n    acc = acc + n * v\nout = acc\n"
    value, text = run(plain, [1.0, 2.0])
    assert value == run(plain, [1.0, 2.0], rewrite=False)[0] == 3 * 2.0 + 1 * 1.0
    assert "n = 1 + len(st) * 2" in text and "for v in reversed(st):" in text and "n = n - 2" in text
    rebinds = "for n, v in zip(reversed(r[:len(st)]), reversed(st)):\n    n = n + 10\n    acc = acc + n * v\nout = acc\n"
    read_after = "for n, v in zip(reversed(r[:len(st)]), reversed(st)):\n    acc = acc + n * v\nout = acc + n\n"
    for body, st in ((rebinds, [1.0, 2.0]), (read_after, [])):
        assert run(body, st)[0] == run(body, st, rewrite=False)[0]
        assert "zip" in run(body, st)[1]
    monkeypatch.setattr(count_down, "counted_down", lambda body, index, live_after: True)
    for body, st in ((rebinds, [1.0, 2.0]), (read_after, [])):
        assert run(body, st)[0] != run(body, st, rewrite=False)[0]


def _returns_itself(x):
    return x


def _returns_views(x):
    return x[1:] + 0.0 * x[0], x.T


def _returns_a_list(x):
    y = x * 2.0
    return [x, y, x[:2]]


def _written_copy(x):
    z = x.copy()
    z[1] = z[0] * z[1]
    return z


def _returns_a_dict(x):
    return {"a": x[::-1], "b": x[0], "c": x}


def _leaves_of(value):
    if isinstance(value, dict):
        return _leaves_of(list(value.values()))
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves_of(v)]
    return [value] if isinstance(value, np.ndarray) else []


@pytest.mark.parametrize("f", [_returns_itself, _returns_views, _returns_a_list, _written_copy, _returns_a_dict],
                         ids=lambda f: f.__name__)
def test_tangent_code_keeps_values_and_tangents_apart(f):
    """effects.tangent_code_parts: the value of s2sad's tangent code holds no object of a tangent argument, and its
    tangent none of a primal argument (the points-to analysis of tangent code differentiated again relies on it)."""
    x, x_dot = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.25, -3.0])
    for optimized in (True, False):
        with s2sad.optimizations(optimized):
            bound = pipeline.function(f, (0,), "jvp", (1,), s2sad.options.resolve(optimized), True)
            value, tangent = bound.fn(x_dot, x)
        assert bound.fn.__s2sad_tangents__ == 1
        for leaf in _leaves_of(value):
            assert not np.shares_memory(leaf, x_dot), f.__name__
        for leaf in _leaves_of(tangent):
            assert not np.shares_memory(leaf, x), f.__name__


def test_a_copy_written_after_a_call_of_tangent_code_keeps_its_second_derivative(monkeypatch):
    """hvp of `y = helper(x); y[0] = ...` with helper returning a copy: refused before, naming s2sad's own tangent
    code (found by a probe); the value and tangent of `helper_jvp` are told apart (tangent_code_parts)."""
    x, v = np.array([0.5, -0.3]), np.array([1.0, 0.0])
    want = np.array([0.5 + 2 * x[1] ** 2, 4 * x[0] * x[1]])      # f = x0^2 / 4 + x0^2 x1^2: H e0
    np.testing.assert_allclose(s2sad.hvp(regression_programs.copy_written_after_a_helper)(x, v), want, rtol=1e-13)
    monkeypatch.setattr(effects, "tangent_code_parts", lambda *args: None)
    pipeline.forget()
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="the same object"):
        s2sad.hvp(regression_programs.copy_written_after_a_helper)(x, v)
    pipeline.forget()


def test_a_tangent_given_as_its_own_primal_is_held_apart():
    """jvp(f, (x,), (x,)) and hvp(f)(x, x): the tangent argument is copied, so that tangent code's value and tangent
    never share an object (tangent_code_parts)."""
    x = np.array([0.5, -0.3])
    want = np.array([0.5 + 2 * x[1] ** 2, 4 * x[0] * x[1]]) * x[0] + np.array([4 * x[0] * x[1], 2 * x[0] ** 2]) * x[1]
    np.testing.assert_allclose(s2sad.hvp(regression_programs.copy_written_after_a_helper)(x, x), want, rtol=1e-13)
    assert np.array_equal(x, [0.5, -0.3])
