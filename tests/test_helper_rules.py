"""The helpers' rules, checked rule by rule: every primitive whose reverse or forward rule is registered by
s2sad/rules/helpers.py (the runtime helpers that generated code and other rules call: unbroadcast, unreduce,
uncumsum, ungather, cast_grad, ...) and the plain helpers of s2sad/rules/scipy_integrate.py.

These rules are what derivatives of derivatives are made of (a second derivative differentiates the code
that the first-order rules emit), so each gets what tests/test_rule_table.py gives NumPy's rules:

* ``test_vjp``: for a random cotangent ``g`` shaped like the helper's result and a random direction ``v``
  for each differentiable argument, ``<rule(g, ans, *args)[i], v>`` equals the central difference of
  ``<g, helper(..., x_i + eps v, ...)>`` (``None`` in a rule's result is zero, and is checked as such);
* ``test_jvp``: ``rule(v, ans, *args)[i]`` (the contribution of argument ``i`` along ``v``) equals the
  central difference of ``helper(..., x_i + eps v, ...)``;
* ``test_float32``: float32 arguments keep float32 adjoints and tangents, equal to the float64 ones to
  float32 precision;
* that every function a forward rule's body calls has rules in both modes (what makes the derivatives of the
  tangent code the rule emits exist) is checked, for every rule module, by tools/rule_closure.py
  (tests/test_higher_order.py).

``SPEC`` has one line per helper; arguments are written as in test_rule_table.py (``real(2, 3)`` is
differentiable, anything else is passed as it is and not differentiated), plus ``at_point(fn, i)``: a
value computed from argument ``i`` where the case is sampled (a reduction's result, a norm), held fixed
while the other arguments move (the rules give partial derivatives). ``refuses(case)``: the helper or its
rule must raise (NotImplementedError, or the exception given), never give a number. The meta-test fails
when a helper with a rule has no SPEC line; rules that take functions (fixed_point, grad_call, s2sad.jvp,
the ODE time tangents) are listed in ``EXERCISED`` with the tests that run them.
"""
import ast
import dataclasses
import functools
import importlib
import inspect
import textwrap

import numpy as np
import pytest

import s2sad
from s2sad import runtime
from s2sad.rules import registry
from s2sad import tree
from s2sad.tree import AdjFields, field_tangent

from . import test_rule_table as table

integrate = pytest.importorskip("scipy.integrate")        # registers rules/scipy_integrate.py
from s2sad.integrate import ivp_part, ivp_tangent, tangent_items, tangent_items_grad  # noqa: E402

SEED = 20240919
EPS, RTOL, ATOL = table.EPS, table.RTOL, table.ATOL
get = table.get                                  # (a path into nested arguments, dicts too)
real, pos, nonzero, at, case, Arg, Fixed = table.real, table.pos, table.nonzero, table.at, table.case, table.Arg, \
    table.Fixed
HELPER_MODULES = ("s2sad.rules.helpers", "s2sad.rules.implicit", "s2sad.rules.nested", "s2sad.rules.scipy_integrate")


class AtPoint:
    """A fixed argument computed from argument ``index`` where the case is sampled (``np.max(x)`` for
    extremum_grad's ``ans``); ``diff=True``: differentiated too, as an independent argument."""

    def __init__(self, fn, index, diff=False):
        self.fn, self.index, self.diff = fn, index, diff

    def __repr__(self):
        return f"at_point({self.index})"


def at_point(fn, index, diff=False):
    return AtPoint(fn, index, diff)


class Refuses:
    def __init__(self, c, exc=NotImplementedError):
        self.c, self.exc = c, exc

    def __repr__(self):
        return f"refuses:{self.c!r}"


def refuses(c, exc=NotImplementedError):
    return Refuses(c, exc)


def Z(*shape):
    return np.zeros(shape)


_r = np.random.default_rng(7)
X4, X5, X23, X24 = (_r.standard_normal(s) for s in ((4,), (5,), (2, 3), (2, 4)))
TIES = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
F23 = np.asfortranarray(np.zeros((2, 3)))
SOURCE = np.array([[0, 2, -1], [2, 1, 3]])                       # gathered from 4 items (-1: a zero put there)
SOURCE6 = np.array([[0, 5, -1], [3, 3, 1]])                      # from two arrays of 2 and 4 items
NAN4 = np.array([0.3, np.nan, -1.2, 2.0])
MASK = np.array([[True, False, True], [False, True, False]])
Pair = table.Pair


@dataclasses.dataclass
class Rec:
    w: np.ndarray
    n: int


def _spec_of(tree):
    return s2sad.flatten(tree)[1].spec


TREE = {"a": np.zeros(3), "b": (0.0, np.zeros((2, 2)))}
TREE_SPEC = _spec_of(TREE)


def _norm(*args, **kwargs):
    return lambda x: np.linalg.norm(x, *args, **kwargs)


SPEC = [
    # --- broadcasting and reductions ---
    (runtime.unbroadcast,       [case(real(2, 3), Z(3)), case(real(2, 3), Z(2, 1)), case(real(4), 0.0),
                                 case(real(2, 3), Z(2, 3)), case(real(4, 2, 3), Z(2, 1))]),
    (runtime.broadcast,         [case(real(3), Z(2, 3)), case(real(), Z(4)), case(real(2, 1), Z(2, 3)),
                                 case(real(2, 3), Z(2, 3))]),
    (runtime.unreduce,          [case(real(), Z(2, 3)), case(real(3), Z(2, 3), 0), case(real(2, 1), Z(2, 3), 1, True),
                                 case(real(2), Z(2, 3, 4), (1, 2)), case(real(4), Z(2, 3, 4), (0, 1), False)]),
    (runtime.extremum_grad,     [case(real(), np.max(X23), X23), case(real(3), np.max(X23, 0), X23, 0),
                                 case(real(2, 1), np.min(X23, 1, keepdims=True), X23, 1, True),
                                 case(real(2), TIES.max(1), TIES, 1),
                                 case(real(3), np.max(X23, 0, initial=0.4), X23, 0, False, 0.4),
                                 case(real(2), TIES.max(1, initial=3.0), TIES, 1, False, 3.0)]),
    (runtime.extremum_initial_grad, [case(real(3), np.max(X23, 0, initial=0.4), X23, 0, False, 0.4),
                                     case(real(2, 1), TIES.max(1, initial=3.0, keepdims=True), TIES, 1, True, 3.0),
                                     case(real(), np.min(X23, initial=-9.0), X23, None, False, -9.0),
                                     case(real(), np.max(X23), X23)]),
    (runtime.prod_grad,         [case(real(), at_point(np.prod, 2), real(4)),
                                 case(real(3), at_point(lambda x: np.prod(x, 0), 2), real(2, 3), 0),
                                 case(real(2), at_point(lambda x: np.prod(x, (1, 2)), 2), real(2, 3, 2), (1, 2)),
                                 case(real(2, 1), at_point(lambda x: np.prod(x, 1, keepdims=True), 2),
                                      at([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0]]), 1, True)]),
    # prod_partials(x, axis, c1, ...): np.prod's derivatives of order two and higher (zeros in x: no quotient)
    (runtime.prod_partials,     [case(real(4), None, real(4)), case(real(3)),
                                 case(at([1.5, 0.0, -2.0, 0.0]), None, real(4), real(4)),
                                 case(at([[0.0, 0.0, 2.0], [1.5, -0.5, 0.0]]), 1, real(2, 3), real(3), real(2, 1)),
                                 case(real(2, 3, 2), (0, 2), real(2, 3, 2), real(2, 3, 2), real(2, 3, 2)),
                                 refuses(case(real(3), None, Z(3), Z(3), Z(3), Z(3), Z(3), Z(3), Z(3)))]),
    (runtime.unsum,             [case(real(2, 3), [Z(3), Z(2, 3), 0.0]), case(real(3), Z(4, 3)), case(real(), [0.0, 0.0])]),
    # --- indexing, sequences, copies ---
    (runtime.unindex,           [case(real(), Z(4), 2), case(real(2), Z(5), slice(1, 3)),
                                 case(real(3, 3), Z(4, 3), np.array([0, 2, 0])),
                                 case(real(2), Z(2, 3), (np.array([0, 1]), np.array([2, 2]))),
                                 case(real(3), Z(2, 3), MASK), case(real(3), [Z(3), Z(2)], 0)]),
    (runtime.added_at,          [case(real(4), np.array([0, 2, 2, 1]), real(4)), case(real(3), np.array([1, 1]), real(), -1.0),
                                 case(real(3, 3), (np.array([[0], [1]]), np.array([[0, 1]])), real(2, 2)),
                                 case(real(2, 3), (0, np.array([2, 2])), real(2))]),
    (runtime.product_items,     [case([real(2), real()]), case([real(2, 3), real(3)], [Z(2, 1)]), case(real(3, 2)),
                                 case([real(), real()], [Z(2)])]),
    (runtime.diagonal_filled,   [case(real(3, 3), real(3)), case(real(3, 3), real()), case(real(4, 2), real(2)),
                                 case(real(5, 2), real(2), True), case(real(3, 3), real(2))]),
    (runtime.diagonal_values,   [case(real(3, 3), Z(3)), case(real(3, 3), 0.0), case(real(5, 2), Z(2), True),
                                 case(real(3, 3), Z(2))]),
    (runtime.make_dict,         [case(["a", "b"], [real(3), real()]), case(["a", "b", "a"], [real(2), real(), real(2)])]),
    (runtime.dict_get,          [case({"a": real(3), "b": real()}, "a", real(3)), case({"a": real(3)}, "c", real(2))]),
    (runtime.dict_get_grad,     [case(real(3), {"a": Z(3), "b": Z()}, "a")]),
    (runtime.dict_default_grad, [case(real(2), {"a": Z(3)}, "c"), case(real(2), {"a": Z(2)}, "a")]),
    (runtime.dict_get_tangent,  [case({"a": real(3), "b": real()}, {"a": Z(3), "b": Z()}, "a", Z(3)),
                                 case({"a": real(3)}, {"a": Z(3)}, "c", Z(2))]),
    (runtime.dict_values_grad,  [case({"a": real(3), "b": real()}, ["a", "b"]),
                                 case({"a": real(2), "b": real()}, ["a", "b", "a"])]),
    (runtime.retyped,           [case([real(), real(3)], [0.0, Z(3)]), case((real(2), real()), (Z(2), 0.0)),
                                 case([real(), real(), real()], Z(3))]),
    (runtime.uncumsum,          [case(real(4), Z(4)), case(real(6), Z(2, 3)), case(real(2, 3), Z(2, 3), 1),
                                 case(real(2, 3, 2), Z(2, 3, 2), 0), case(real(1), Z(), -1)]),
    (runtime.recumsum,          [case(real(2, 3), Z(2, 3)), case(real(2, 3), Z(2, 3), 0), case(real(4), Z(4), -1),
                                 case(real(), Z(), 0)]),
    (runtime.unsort,            [case(real(2, 3), X23), case(real(2, 3), X23, 0), case(real(6), X23, None),
                                 case(real(4), X4), case(real(2, 3), TIES)]),
    (runtime.sorted_like,       [case(real(2, 3), X23), case(real(2, 3), X23, 0), case(real(2, 3), X23, None),
                                 case(real(3), X23), case(real(2, 3), TIES, 1)]),
    (runtime.added,             [case(real(3), real(3)), case([real(), real(2)], [real(), real(2)]),
                                 case((real(2),), (real(2),))]),
    (runtime.unzip,             [case([(real(), real(2)), (real(), real(2)), (real(), real(2))])]),
    (runtime.unzip_grad,        [case([(real(), real(), real()), (real(2), real(2), real(2))], [(0.0, Z(2))] * 3),
                                 case([(real(), real()), None], [(0.0, 0.0), (0.0, 0.0)])]),
    (runtime.written_tangent,   [case(real(3), Z(5)), case(real(), np.zeros(3, dtype=int))]),
    (runtime.owned_tangent,     [case(real(3)), case([real(), real(2)]), case(real(2, 3), Z(2, 3)),
                                 case({"a": real(2)}), case(real(3), np.zeros(3, dtype=int))]),
    (runtime.sequence,          [case([real(), real(3)]), case((real(2), real(2))), case(real(3, 2))]),
    (runtime.pairs_of,          [case({"a": real(3), "b": real()})]),
    (runtime.pairs_grad,        [case([(real(), real(3)), (real(), real())], {"a": Z(3), "b": Z()}),
                                 case([real(2), real()], [Z(2), Z()])]),
    (runtime.pairs_tangent,     [case({"a": real(3), "b": real()}, {"a": Z(3), "b": Z()}),
                                 case([real(2), real()], [Z(2), Z()])]),
    (runtime.sequence_grad,     [case([real(), real(2)], [0.0, Z(2)]), case(real(3), Z(3)), case(real(2), {"a": 1.0})]),
    (runtime.owned,             [case(real(3)), case([real(), real(2)]), case((real(), real()))]),
    (runtime.copy_like,         [case(real(3)), case([real(), real(2)]), case({"a": real(2)})]),
    (runtime.safe_log,          [case(pos(4)), case(at([-1.0, 2.0])), case(pos())]),
    # --- casts and shapes ---
    (runtime.cast_grad,         [case(real(3), Z(3)), case(real(), 0.0), case(real(2, 3), Z(2, 3), Z(2, 3)),
                                 case(real(3), Z(3), np.zeros(3, dtype=int))]),
    (runtime.cast_tangent,      [case(real(3), Z(3)), case(real(), np.float64(0.0)), case(real(3), np.zeros(3, dtype=int))]),
    (runtime.unreshape,         [case(real(6), Z(2, 3)), case(real(6), Z(2, 3), "F"), case(real(3, 2), Z(2, 3), "A"),
                                 case(real(6), F23, "A"), case(real(6), F23, "K")]),
    (runtime.reshape_like,      [case(real(2, 3), Z(2, 3), Z(6)), case(real(2, 3), Z(2, 3), Z(3, 2), "F"),
                                 case(real(2, 3), F23, Z(6), "K")]),
    (runtime.transpose_grad,    [case(real(2, 3)), case(real(2, 3, 4), (1, 0, 2)), case(real(2, 3, 4), (2, 0, 1)),
                                 case(real(2, 3, 4), (-1, 0, 1))]),
    (runtime.trace_grad,        [case(real(), Z(3, 3)), case(real(), Z(3, 4), 1), case(real(2), Z(2, 3, 3), 0, 1, 2),
                                 case(real(2), Z(3, 2, 3), 0, 2, 0), case(real(3), Z(4, 3, 4), -1, 0, -1)]),
    # --- products in forward rules ---
    # (a stack of matrices with a stack of vectors: the rule raises; checked_system refuses such systems first)
    (runtime.matmul_like_solve, [case(real(3, 3), real(3)), case(real(3, 3), real(3, 2)), case(real(2, 3, 3), real(2, 3, 2)),
                                 refuses(case(real(2, 3, 3), real(2, 3)), ValueError)]),
    (runtime.einsum_tangent,    [case([real(2, 3), real(3, 4)], "ij,jk->ik", [real(2, 3), real(3, 4)]),
                                 case([real(2, 3), None], "ij,jk->ik", [real(2, 3), real(3, 4)]),
                                 case([None, real(3)], "ij,j->i", (real(2, 3), real(3))),
                                 case([real(3, 3)], "ii->i", [real(3, 3)])]),
    (runtime.einsum_directions, [case("ij,jk->ik", [real(2, 3), real(3, 4)], [real(2, 3), None], [None, real(3, 4)]),
                                 case("i,i->", [real(3), real(3)], [real(3), real(3)], [None, real(3)]),
                                 case("ij,j,k->ik", [real(2, 3), real(3), real(3)], [real(2, 3), None, None],
                                      [None, real(3), None], [None, None, real(3)]),
                                 case("i,i,i,i->", [real(3), real(3), real(3), real(3)], [real(3), real(3), None, None],
                                      [None, real(3), real(3), None], [real(3), None, None, real(3)],
                                      [real(3), real(3), real(3), real(3)]),
                                 refuses(case("i->", [real(3)], [Z(3)], [Z(3)], [Z(3)], [Z(3)], [Z(3)], [Z(3)],
                                              [Z(3)]))]),
    # --- + and * on sequences, constructors ---
    (runtime.concatenation_tangent, [case(real(3), Z(3), Z(2, 3), Z(2, 3), 0), case(real(2, 1), Z(2, 1), Z(3), Z(2, 3), 0),
                                     case(real(), 0.0, Z(3), Z(3), 1),
                                     case([real(), real(2)], [0.0, Z(2)], [0.0], [0.0, Z(2), 0.0], 0),
                                     case((real(), real()), (0.0,), (0.0, 0.0), (0.0, 0.0, 0.0), 1)]),
    (runtime.repetition_tangent, [case(real(3), real(3), real(3), Z(3), 0),
                                  case(real(3), real(2, 3), real(3), Z(2, 3), 1),
                                  case(real(2, 1), real(2, 1), real(3), Z(2, 3), 0),
                                  case(real(), real(), real(), 0.0, 0),
                                  case([real(), real(2)], [0.0, Z(2)], 2, [0.0, Z(2), 0.0, Z(2)], 0),
                                  case([real()], 3, [0.0], [0.0, 0.0, 0.0], 1)]),
    (runtime.repetition_cross,  [case(real(3), real(3), Z(3), Z(3), Z(3), 0, 1),
                                 case(real(3), real(2, 3), Z(3), Z(2, 3), Z(2, 3), 0, 1),
                                 case(real(2, 3), real(3), Z(2, 3), Z(3), Z(2, 3), 1, 0),
                                 case(real(2), real(2), Z(2), Z(2), Z(2), 0, 0)]),
    (runtime.repetition_cross_grad, [case(real(2, 3), real(3), Z(3), Z(3), Z(2, 3), Z(2, 3), 0, 1),
                                     case(real(3), real(3), Z(3), Z(3), Z(3), Z(3), 1, 0),
                                     case(real(2, 3), real(2, 3), Z(2, 1), Z(2, 3), Z(2, 1), Z(2, 3), 1, 0),
                                     case(real(3), real(3), Z(3), Z(3), Z(3), Z(3), 0, 0)]),
    (runtime.scaled_power,      [case(real(3), pos(3), real(3)), case(real(2, 3), pos(3), 2.0), case(real(), pos(), 1.5),
                                 case(at([0.0, 1.5, -2.0]), at([0.0, 0.0, 0.7]), 2.0)]),
    (runtime.arange_tangent,    [case(real(), np.arange(0.5, 5.0), "start", 5.0),
                                 case(real(), np.arange(0.0, 3.0, 0.5), "step"),
                                 case(real(), np.arange(5.0), "stop"), case(real(), np.arange(5), "step"),
                                 case(real(), np.arange(4.0), "start")]),
    (runtime.linspace_tangent,  [case(real(), real(), 5), case(real(3), real(3), 4, False),
                                 case(real(2), real(2), 3, True, False, 1),
                                 refuses(case(real(), real(), 5, True, True))]),
    # det's derivative (the cofactor matrix; its tangent is differentiated from its source)
    (runtime.cofactor,          [case(table.wc(3)), case(table.wc(2, 3))]),
    # pinv's result, checked against a cutoff that would drop a singular value (the identity in p)
    (runtime.uncut,             [case(real(3, 2), np.eye(3)[:, :2]),
                                 case(real(3, 3), np.diag([3.0, 2.0, 1.0]), 0.1),
                                 refuses(case(real(3, 3), np.diag([3.0, 2.0, 1.0]), 0.5))]),
    # np.meshgrid's tangents along its arguments' (t: a list with a None for an argument without one)
    (runtime.meshgrid_tangents, [case([real(3), real(2)], [Z(3), Z(2)], [Z(2, 3), Z(2, 3)]),
                                 case([real(3), None, real(4)], [Z(3), Z(2), Z(4)], [Z(3, 2, 4)] * 3, "ij"),
                                 case([real(3), real(2)], [Z(3), Z(2)], [Z(1, 3), Z(2, 1)])]),
    # np.gradient's tangent along its spacings (t: their tangents, ans: its result, f: read for its shape)
    (runtime.gradient_spacing_tangent, [case((real(),), real(5), Z(5), (pos(),)),
                                        case((real(), real()), (real(4, 3), real(4, 3)), Z(4, 3), (pos(), pos())),
                                        case((real(),), (real(4, 3), real(4, 3)), Z(4, 3), (pos(),)),
                                        case((real(),), real(4, 3), Z(4, 3), (pos(),), 1),
                                        case((None, real()), (real(4, 3), real(4, 3)), Z(4, 3), (pos(), pos()))]),
    # --- gathers, differences, medians, weights, pieces ---
    (runtime.ungather,          [case(real(2, 3), Z(2, 2), SOURCE), case(real(3), Z(4), np.array([3, 3, 0])),
                                 case(real(), Z(3), np.array([1, 1]))]),
    (runtime.regather,          [case(real(2, 2), SOURCE), case(real(4), np.array([3, 3, 0, -1]))]),
    (runtime.ungather_each,     [case(real(2, 3), [Z(2), Z(2, 2)], SOURCE6)]),
    (runtime.regather_each,     [case([real(2), real(2, 2)], SOURCE6)]),
    (runtime.undiff,            [case(real(4), Z(5)), case(real(3), Z(5), 2), case(real(2, 3), Z(2, 4)),
                                 case(real(1, 4), Z(2, 4), 1, 0), case(real(5), Z(5), 1, -1, 0.0),
                                 case(real(5), Z(5), 1, -1, 0.0, None, 0), case(real(2, 2), Z(2, 2), 1, 1, None, 0.5, 2)]),
    (runtime.diff_tangent,      [case(real(5)), case(real(5), 2), case(real(2, 4), 1, 0),
                                 case(real(5), 1, -1, None, 0.0), case(real(), 1, -1, None, 0.0, Z(5), 2),
                                 case(real(2, 1), 2, 1, real(2, 1), None, Z(2, 3), 0)]),
    (runtime.one_if_none,       [case(real(3)), case(real())]),
    (runtime.masked_exp,        [case(real(3)), case(real(2, 3), np.array([1.0, 0.0, 2.0]))]),
    (runtime.nonzero_checked,   [case(nonzero(3), "x"), case(nonzero(), "x"), refuses(case(at([1.0, 0.0]), "x"))]),
    (runtime.checked_cross,     [case(real(3), Z(3), Z(3)), case(real(4, 3), Z(4, 3), Z(3)),
                                 refuses(case(real(2), Z(2), Z(2))), refuses(case(real(3), Z(3), Z(3), 0))]),
    (runtime.polygamma,         [case(0, pos(3)), case(1, pos()), case(2, pos(2, 3)), case(0, at([-1.5, 0.3, 25.0])),
                                 case(1, at([-0.5, 2.0, 40.0])), case(3, at(0.7)), case(2, at([-1.3, 0.4])),
                                 refuses(case(4, at([-0.5, 1.0])))]),
    (runtime.vector_rows,       [case(real(2, 3)), case(real(2, 3, 4), 1), case(real(2, 3, 4), (0, 2)), case(real(), None),
                                 case(real(2, 3), -1), case(real(2, 3, 4), (2, 0))]),
    (runtime.scalar_base,       [case(pos()), case(pos(), "np.logspace"), refuses(case(pos(2)))]),
    (runtime.broadcast_tangents, [case((real(3), None), (Z(2, 3), Z(2, 3))), case((real(2, 1), real()), (Z(2, 3), Z(2, 3))),
                                  case((None, real(1, 3)), (Z(4, 3), Z(4, 3)))]),
    (runtime.quantile_apply,    [case(real(5), X5, 0.3), case(real(5), X5, at([0.3, 0.7])), case(real(2, 3), X23, at(0.7), 1),
                                 case(real(2, 4), X24, at([[0.1, 0.7], [0.95, 0.3]]), None, True),
                                 case(real(2, 4), X24, at([0.3]), 1, False, "slope"), case(real(4), X4, at(0.6), 0, False, "zero"),
                                 case(real(4), NAN4, 0.5, None, False, "value", "linear", None, None, True),
                                 refuses(case(real(5), X5, 0.3, None, False, "value", "nearest"))]),
    (runtime.quantile_q_tangent, [case(real(), 0.3, Z()), case(real(2), Z(2), Z(2, 3)), case(real(2), Z(2), Z(2, 1, 1))]),
    (runtime.median_grad,       [case(real(), X5), case(real(3), X23, 0), case(real(2, 1), X24, 1, True), case(real(), X4)]),
    (runtime.median_tangent,    [case(real(5), X5), case(real(2, 3), X23, 0), case(real(2, 4), X24, 1, True),
                                 case(real(4), X4)]),
    (runtime.average_weights,   [case(Z(4), pos(4)), case(Z(2, 3), pos(3), 1), case(Z(3, 2), pos(3), 0),
                                 case(Z(2, 3), pos(2, 3)),
                                 refuses(case(Z(3), pos(3), None, True))]),
    (runtime.unweight,          [case(real(4), Z(4)), case(real(2, 3), Z(3), 1), case(real(3, 2), Z(3), 0),
                                 case(real(2, 3), Z(2, 3))]),
    (runtime.unsplit,           [case([real(2), real(2), real(2)], Z(6), 3),
                                 case([real(1, 2), None, real(2, 2)], Z(4, 2), np.array([1, 2])),
                                 case([real(2, 3), real(2, 3)], Z(2, 6), 2, 1), case([real(2), real(1)], Z(3), 2)]),
    (runtime.picked,            [case(real(3), True), case(real(), False), case(real(2), np.True_)]),
    (runtime.unitem,            [case(real(), Z(1)), case(real(), Z(4), 2), case(real(), Z(2, 3), 1, 2),
                                 case(real(), Z(2, 3), (1, 0))]),
    (runtime.atleast_tangents,  [case([real(3)], Z(1, 3)), case([real(), real(3)], [Z(1), Z(3)]),
                                 case([None, real(3)], [Z(1), Z(1, 3)])]),
    (runtime.sinc_derivative,   [case(real(4), 1), case(real(3), 2), case(at([0.0, 0.5]), 1), case(at([0.0, 1e-3]), 3)]),
    # --- parameter vectors ---
    (runtime.unflatten_vector,  [case(real(8), TREE_SPEC), case(real(3), _spec_of([0.0, Z(2)]))]),
    (runtime.flatten_values,    [case({"a": real(3), "b": (real(), real(2, 2))}, TREE_SPEC),
                                 case([real(), real(2)], _spec_of([0.0, Z(2)]))]),
    # --- symmetric eigenproblems ---
    (runtime.eigengaps,         [case(at([1.0, 2.5, 4.0])), case(at([[0.0, 1.0, 3.0], [-1.0, 2.0, 2.5]])),
                                 refuses(case(at([1.0, 1.0, 2.0])))]),
    (runtime.from_triangle,     [case(real(3, 3)), case(real(2, 3, 3), "U"), case(real(3, 3), "u")]),
    (runtime.to_triangle,       [case(real(3, 3)), case(real(2, 3, 3), "U"), case(real(3, 3), "l")]),
    (field_tangent,             [case(Pair(real(3), real()), Z(3), Pair(Z(3), 0.0), "w"),
                                 case(Pair(real(2, 3), real(3)), Z(3), Pair(Z(2, 3), Z(3)), "b"),
                                 case(AdjFields({"w": real(3)}), Z(3), Rec(Z(3), 2), "w"),
                                 case(AdjFields({"w": real(3), "n": real()}), 2, Rec(Z(3), 2), "n")]),
    # --- scipy.linalg's helpers ---
    (runtime.checked_system,    [case(real(3, 3), Z(3), "solve"), case(real(2, 3, 3), Z(2, 3, 2), "solve"),
                                 refuses(case(real(3, 2), Z(3), "solve")), refuses(case(real(2, 3, 3), Z(3), "solve"))]),
    (runtime.transposed_if,     [case(real(2, 3), 0), case(real(2, 3), 1), case(real(2, 2, 3), "T"), case(real(2, 3), "N")]),
    (runtime.triangular_part,   [case(real(3, 3)), case(real(3, 3), True), case(real(2, 3, 3), False, True),
                                 case(real(3, 3), True, True)]),
    (runtime.structured,        [case(real(3, 3)), case(real(3, 3), "sym"), case(real(3, 3), "pos", True),
                                 case(real(4, 4), "tridiagonal"), case(real(3, 3), "diagonal"),
                                 case(real(3, 3), "upper triangular"), refuses(case(real(3, 3), "banded"))]),
    (runtime.structured_grad,   [case(real(3, 3)), case(real(3, 3), "sym"), case(real(3, 3), "her", True),
                                 case(real(4, 4), "tridiagonal"), case(real(3, 3), "lower triangular"),
                                 refuses(case(real(3, 3), "diagonal", False, "scipy.linalg.inv"))]),
    (runtime.lower_factor,      [case(real(3, 3)), case(real(3, 3), True), case(real(2, 3, 3))]),
    (runtime.factor_placed,     [case(real(3, 3)), case(real(3, 3), True), case(real(2, 3, 3))]),
    (runtime.off_factor,        [case(real(3, 3)), case(real(3, 3), True), case(real(2, 3, 3), True)]),
    (runtime.lower_half,        [case(real(3, 3)), case(real(2, 3, 3))]),
    (runtime.frechet_blocks,    [case(real(3, 3), real(3, 3)), case(real(2, 2, 2), real(2, 2, 2))]),
    (runtime.upper_right,       [case(real(4, 4)), case(real(2, 6, 6))]),
    (runtime.block_trace,       [case(real(4, 4)), case(real(2, 6, 6))]),
    (runtime.as_columns,        [case(real(3), Z(3)), case(real(3, 2), Z(3, 2)), case(real(2, 3), Z(3))]),
    (runtime.from_columns,      [case(real(3, 1), Z(3)), case(real(3, 2), Z(3, 2)), case(real(2, 3, 1), Z(3))]),
    # --- scipy.integrate's helpers (rules/scipy_integrate.py) ---
    (tangent_items,             [case((Z(2), 3, 0.5), (real(2), None, real())), case([0.5, Z(2)], [real(), real(2)])]),
    (tangent_items_grad,        [case((real(2), real(), real()), (Z(2), 3, 0.5))]),
    (ivp_tangent,               [case(real(2, 3), real(3)), case(real(2, 3), None)]),
    (ivp_part,                  [case({"y": real(2, 3), "t": real(3)}, "y"), case({"y": real(2), "t": real(3)}, "t")]),
    # --- derivatives taken inside differentiated code (rules/nested.py) ---
    (importlib.import_module("s2sad.nested").float_directions,
                                [case((real(), 0.0, real(2)), (1.0, 3, Z(2))), case((real(3), None), (Z(3), 0.5)),
                                 case(({"w": real(2, 2)},), ({"w": Z(2, 2)},))]),
]

SPEC_PRIMS = {registry._key(prim) for prim, _ in SPEC}


def name_of(prim):
    return getattr(prim, "__name__", repr(prim))


# --- trees of arguments: lists, tuples, namedtuples and dicts ------------------------------------------
def _items(x):
    return list(x.items()) if isinstance(x, dict) else list(enumerate(x))


def _rebuild(like, values):
    if isinstance(like, dict):
        return type(like)(zip(like.keys(), values))
    return table.rebuild(like, values)


def _is_tree(x):
    return isinstance(x, (list, tuple, dict))


def _sample(spec, rng):
    if isinstance(spec, Arg):
        return spec.sample(rng)
    if _is_tree(spec):
        return _rebuild(spec, [_sample(v, rng) for _, v in _items(spec)])
    return spec


def sample_case(c, rng):
    """The case's arguments and keywords, sampled (``at_point`` ones computed from the others)."""
    args = [_sample(a, rng) for a in c.args]
    args = [a.fn(args[a.index]) if isinstance(a, AtPoint) else a for a in args]
    kwargs = {k: _sample(v, rng) for k, v in c.kwargs.items()}
    return args, kwargs


def diff_leaves(spec, path=()):
    """(path, spec) of every differentiable argument in a (nested) argument list."""
    if isinstance(spec, Fixed):
        return []
    if isinstance(spec, Arg) or (isinstance(spec, AtPoint) and spec.diff):
        return [(path, spec)]
    if _is_tree(spec):
        return [leaf for k, v in _items(spec) for leaf in diff_leaves(v, path + (k,))]
    return []


def replace(tree, path, value):
    if not path:
        return value
    items = _items(tree)
    return _rebuild(tree, [replace(v, path[1:], value) if k == path[0] else v for k, v in items])


def direction(spec, value, rng):
    if isinstance(spec, Arg):
        return spec.direction(rng)
    v = rng.standard_normal(np.shape(value))
    return float(v) if np.ndim(value) == 0 else v


def moved(x, v, t):
    out = np.asarray(x, dtype=float) + t * np.asarray(v, dtype=float)
    return float(out) if isinstance(x, float) else out


def random_like(value, rng):
    """A random cotangent shaped like ``value`` (None where it holds no floats)."""
    if value is None:
        return None
    if _is_tree(value):
        return _rebuild(value, [random_like(v, rng) for _, v in _items(value)])
    if isinstance(value, np.ndarray):
        dtype = value.dtype if value.dtype.kind == "f" else np.float64
        return rng.standard_normal(value.shape).astype(dtype)
    if isinstance(value, (float, np.floating)):
        return type(value)(rng.standard_normal()) if isinstance(value, np.floating) else float(rng.standard_normal())
    return None


def pairing(g, y):
    """<g, y> over trees; None on either side is zero."""
    if g is None or y is None or isinstance(g, str):
        return 0.0
    if isinstance(g, dict):
        return sum(pairing(v, y.get(k)) for k, v in g.items())
    if isinstance(g, (list, tuple)):
        assert len(g) == len(y), f"a cotangent of {len(g)} items paired with {len(y)}"
        return sum(pairing(a, b) for a, b in zip(g, y))
    return float(np.sum(np.asarray(g, dtype=float) * np.asarray(y, dtype=float)))


def assert_shaped_like(d, x, where):
    """A derivative ``d`` (None: zero, anywhere in a tree) has ``x``'s structure and shapes, and floats."""
    if d is None:
        return
    if _is_tree(x):
        assert _is_tree(d), f"{where}: a {type(d).__name__} for a {type(x).__name__}"
        for k, v in _items(x):
            assert_shaped_like(d.get(k) if isinstance(d, dict) else d[k], v, f"{where}[{k!r}]")
        return
    assert np.shape(d) == np.shape(x), f"{where} has shape {np.shape(d)}, the value {np.shape(x)}"
    assert np.result_type(d).kind == "f", f"{where} has dtype {np.result_type(d)}"


def entry_of(rule, result, path):
    """The rule's entry for the argument at ``path`` (the rule's return conventions: a tuple literal has one
    entry per positional argument, *args included); None stands for zero."""
    entries = list(result) if table.returns_tuple(rule) else [result]
    params = [p for p in inspect.signature(rule).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)][2:]
    i, rest = path[0], path[1:]
    for k, p in enumerate(params):
        if k == i or (p.kind is p.VAR_POSITIONAL and i >= k):
            entry = entries[k] if k < len(entries) else None
            rest = ((i - k),) + rest if p.kind is p.VAR_POSITIONAL else rest
            for j in rest:
                if entry is None:
                    return None
                entry = entry.get(j) if isinstance(entry, dict) else entry[j]
            return entry
    return None


def _id(prim, k, c):
    return f"{name_of(prim)}-{k}"


def _cases(mode):
    out = []
    for prim, cases in SPEC:
        has = registry.vjp_rule(prim) if mode == "vjp" else registry.jvp_rule(prim)[0]
        if has is not None:
            out += [pytest.param(prim, c, id=_id(prim, k, c)) for k, c in enumerate(cases)]
    return out


def _refused(prim, c, rule):
    args, kwargs = sample_case(c.c, np.random.default_rng(SEED))
    with pytest.raises(c.exc):
        ans = prim(*args, **kwargs)
        rule(random_like(ans, np.random.default_rng(SEED)), ans, *args, **kwargs)


# --- (a) reverse rules against central differences ----------------------------------------------------
@pytest.mark.parametrize("prim, c", _cases("vjp"))
def test_vjp(prim, c):
    rule = registry.vjp_rule(prim)
    if isinstance(c, Refuses):
        return _refused(prim, c, rule)
    rng = np.random.default_rng(SEED)
    args, kwargs = sample_case(c, rng)
    ans = prim(*args, **kwargs)
    g = random_like(ans, rng)
    result = rule(g, ans, *args, **kwargs)
    found = diff_leaves(list(c.args))
    assert found, "a case needs a differentiable argument"
    for path, spec in found:
        x = get(args, path)
        where = f"{name_of(prim)}: the adjoint of argument {'/'.join(map(str, path))} ({spec!r})"
        adj = entry_of(rule, result, path)
        assert_shaped_like(adj, x, where)
        v = direction(spec, x, rng)
        up = prim(*replace(args, path, moved(x, v, EPS)), **kwargs)
        down = prim(*replace(args, path, moved(x, v, -EPS)), **kwargs)
        numeric = (pairing(g, up) - pairing(g, down)) / (2 * EPS)
        np.testing.assert_allclose(pairing(adj, v), numeric, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{where}: <rule adjoint, v> differs from finite differences")


# --- (b) forward rules against central differences ----------------------------------------------------
def _difference(up, down):
    if up is None:
        return None
    if _is_tree(up):
        return _rebuild(up, [_difference(u, down[k] if not isinstance(down, dict) else down.get(k))
                             for k, u in _items(up)])
    if isinstance(up, str) or np.result_type(up).kind not in "fc":
        return None
    return (np.asarray(up, dtype=float) - np.asarray(down, dtype=float)) / (2 * EPS)


def _assert_tangent(t, numeric, where):
    if numeric is None:
        assert t is None or not np.any(t), f"{where}: a tangent where the value holds no floats"
        return
    if _is_tree(numeric):
        for k, n in _items(numeric):
            item = None if t is None else t.get(k) if isinstance(t, dict) else t[k]
            _assert_tangent(item, n, f"{where}[{k!r}]")
        return
    if t is not None:
        assert np.shape(t) == np.shape(numeric), f"{where} has shape {np.shape(t)}, the value {np.shape(numeric)}"
    np.testing.assert_allclose(np.zeros_like(numeric) if t is None else np.asarray(t, dtype=float), numeric,
                               rtol=RTOL, atol=ATOL, err_msg=f"{where} differs from central differences")


def _tangent_tree(spec, value, rng):
    """A direction for the differentiable leaves of one argument; None elsewhere."""
    if isinstance(spec, Arg) and not isinstance(spec, Fixed) or isinstance(spec, AtPoint) and spec.diff:
        return direction(spec, value, rng)
    if _is_tree(spec):
        return _rebuild(value, [_tangent_tree(s, value[k] if not isinstance(value, dict) else value.get(k), rng)
                                for k, s in _items(spec)])
    return None


def _moved_tree(x, v, t):
    if v is None:
        return x
    if _is_tree(x):
        return _rebuild(x, [_moved_tree(a, v[k] if not isinstance(v, dict) else v.get(k), t) for k, a in _items(x)])
    return moved(x, v, t)


class _Broadcast(ast.NodeTransformer):
    """What the compiler does to an elementwise rule in forward mode: ``unbroadcast(e, x)`` becomes
    ``broadcast(e, ans)`` (inline.py)."""
    def __init__(self, ans):
        self.ans = ans

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "unbroadcast" and len(node.args) == 2:
            return ast.Call(ast.Name("_broadcast", ast.Load()), [node.args[0], ast.Name(self.ans, ast.Load())], [])
        return node


@functools.lru_cache(maxsize=None)
def only_entry(rule, i, elementwise=False):
    """The rule computing only its entry for argument ``i``: the compiler inlines each entry of a forward rule
    where that argument's tangent is (a rule's other entries need not accept that tangent)."""
    fn = ast.parse(textwrap.dedent(inspect.getsource(rule))).body[0]
    fn.decorator_list = []
    returned = fn.body[-1]
    entries = returned.value.elts if isinstance(returned.value, ast.Tuple) else [returned.value]
    returned.value = entries[i] if i < len(entries) else ast.Constant(None)
    if elementwise:
        fn = _Broadcast(fn.args.args[1].arg).visit(fn)
    namespace = dict(rule.__globals__, **inspect.getclosurevars(rule).nonlocals, _broadcast=runtime.broadcast)
    exec(compile(ast.fix_missing_locations(ast.Module([fn], [])), f"<{fn.name}, entry {i}>", "exec"), namespace)
    return namespace[fn.name]


@pytest.mark.parametrize("prim, c", _cases("jvp"))
def test_jvp(prim, c):
    rule = registry.jvp_rule(prim)[0]
    if isinstance(c, Refuses):
        return _refused(prim, c, rule)
    rng = np.random.default_rng(SEED)
    args, kwargs = sample_case(c, rng)
    ans = prim(*args, **kwargs)
    active = sorted({path[0] for path, _ in diff_leaves(list(c.args))})
    assert active, "a case needs a differentiable argument"
    for i in active:
        t = _tangent_tree(c.args[i], args[i], rng)
        tangent = only_entry(rule, i, registry.jvp_rule(prim)[1])(t, ans, *args, **kwargs)
        up = prim(*replace(args, (i,), _moved_tree(args[i], t, EPS)), **kwargs)
        down = prim(*replace(args, (i,), _moved_tree(args[i], t, -EPS)), **kwargs)
        _assert_tangent(tangent, _difference(up, down), f"{name_of(prim)}: the tangent along argument {i}")


# --- float32 arguments keep float32 derivatives ----------------------------------------------------------
def _float32(x):
    if _is_tree(x) and not hasattr(x, "_fields") or isinstance(x, dict):
        return _rebuild(x, [_float32(v) for _, v in _items(x)])
    return table._float32(x)


def _float_leaves(d, x):
    """(derivative leaf, value leaf) pairs where the value is a float32 array or number."""
    if d is None:
        return []
    if _is_tree(x):
        return [p for k, v in _items(x) for p in _float_leaves(d.get(k) if isinstance(d, dict) else d[k], v)]
    return [(d, x)] if np.result_type(x) == np.float32 else []


FIRST = [(prim, next(c for c in cases if not isinstance(c, Refuses))) for prim, cases in SPEC]
FLOAT64_BY_DEFINITION = {
    runtime.linspace_tangent: "np.linspace's result is float64 whatever comes in (test_rule_table.FLOAT64_BY_DEFINITION)",
    runtime.unitem: "its g is the cotangent of x.item(), a Python float: a float32 one does not occur",
}


@pytest.mark.parametrize("prim, c", [pytest.param(p, c, id=name_of(p)) for p, c in FIRST
                                     if p not in FLOAT64_BY_DEFINITION])
def test_float32(prim, c):
    """The first case of each helper with float32 arguments (and cotangent): the adjoint and the tangent of a
    float32 argument are float32, and equal the float64 ones to float32 precision."""
    args, kwargs = sample_case(c, np.random.default_rng(SEED))
    args32 = [_float32(a) for a in args]
    ans, ans32 = prim(*args, **kwargs), prim(*args32, **kwargs)
    g = random_like(ans, np.random.default_rng(SEED + 1))
    g32 = _float32(g)
    rule = registry.vjp_rule(prim)
    jrule = registry.jvp_rule(prim)[0]
    for path, spec in diff_leaves(list(c.args)):
        checks = []
        if rule is not None:
            checks.append(("adjoint", entry_of(rule, rule(g32, ans32, *args32, **kwargs), path),
                           entry_of(rule, rule(g, ans, *args, **kwargs), path), get(args32, path)))
        if jrule is not None and len(path) == 1:
            i = path[0]
            t = _tangent_tree(c.args[i], args[i], np.random.default_rng(SEED + 2))
            checks.append(("tangent", only_entry(jrule, i, registry.jvp_rule(prim)[1])(_float32(t), ans32, *args32, **kwargs),
                           only_entry(jrule, i, registry.jvp_rule(prim)[1])(t, ans, *args, **kwargs), ans32))
        for what, got, want, like in checks:              # (a tangent is shaped like the result)
            for d32, x32 in _float_leaves(got, like):
                assert np.result_type(d32) == np.float32, \
                    f"{name_of(prim)}: the {what} of a float32 argument is {np.result_type(d32)}"
            for d32, d64 in zip(_leaves(got), _leaves(want)):
                np.testing.assert_allclose(np.asarray(d32, dtype=float), np.asarray(d64, dtype=float),
                                           rtol=2e-3, atol=2e-4)


def _leaves(x):
    if x is None or isinstance(x, str):
        return []
    if _is_tree(x):
        return [leaf for _, v in _items(x) for leaf in _leaves(v)]
    return [x]


# --- (c) second order ---------------------------------------------------------------------------------------
# That the functions a forward rule calls have rules in both modes (so tangent code differentiates again) is
# checked for every rule module by tools/rule_closure.py (tests/test_higher_order.py::
# test_every_helper_on_a_forward_path_has_rules_in_both_modes), which lists the known gaps (refused by name, never
# a wrong number; the one left: solve_ivp's times, below). A former gap, np.prod's third derivative (prod_partials):
def _helper_rules():
    """(primitive, rule, mode) for every rule the helper modules register."""
    return [(prim, rule, mode) for mode, pairs in (("vjp", registry.registered_vjps()), ("jvp", registry.registered_jvps()))
            for prim, rule in pairs if getattr(rule, "__module__", None) in HELPER_MODULES]


def _third_derivative_of_a_product(x):
    return np.prod(np.array([x, x * x, x + 1.0, 2.0]))


def test_third_derivative_of_a_product():
    """2 x^4 + 2 x^3: the second derivative 24 x^2 + 12 x, the third (through prod_partials' rules) 48 x + 12."""
    second = s2sad.grad(s2sad.grad(_third_derivative_of_a_product))
    assert second(0.7) == pytest.approx(24 * 0.7 ** 2 + 12 * 0.7, rel=1e-12)
    assert s2sad.grad(second)(0.7) == pytest.approx(48 * 0.7 + 12, rel=1e-12)


def _solve_ivp_at_times(t_eval):
    sol = integrate.solve_ivp(_decay, (0.0, 3.0), [2.0], t_eval=t_eval, args=(0.7,), rtol=1e-10, atol=1e-10)
    return np.sum(sol.y ** 2)


def _decay(t, y, k):
    return -k * y


def test_second_derivatives_in_solve_ivp_times_are_refused():
    """solve_ivp_time_tangent's rules refuse (no_second_order_in_time): the first derivative is right."""
    te = np.array([1.0, 2.0, 3.0])
    expected = np.sum(2 * (2.0 * np.exp(-0.7 * te)) ** 2 * -0.7)       # d/dt of sum(y(t)^2)
    assert s2sad.jvp(_solve_ivp_at_times, (te,), (np.ones(3),))[1] == pytest.approx(expected, rel=1e-7)
    with pytest.raises(NotImplementedError, match="second derivatives .* times"):
        s2sad.hvp(_solve_ivp_at_times)(te, np.ones(3))


# --- the meta-tests: every helper rule has a case, or named tests --------------------------------------------
# Rules of the helper modules for primitives that take functions or run a solver (a direct check against
# differences of the primitive makes no sense there): the tests, "module::name", that run them.
EXERCISED = {
    runtime.tolist_grad: ["tests.test_regressions::test_tolist_to_second_order"],            # (lists: a tree)
    **{helper: ["tests.test_records::test_dataclasses_made_inside_differentiated_code"]       # records, to 2nd order
       for helper in (tree.new_record, tree.new_record_grads, tree.new_record_tangent, tree.record_adjoint)},
    importlib.import_module("s2sad.nested").dynamic_jvp:
        ["tests.test_calls_containers::test_a_module_layer_called_by_name_is_differentiated_through_its_call"],
    runtime.sequence_tangent: ["tests.test_regressions::test_hessian_vector_product_matches_differences_of_the_gradient",
                               "tests.test_regressions::test_forward_mode_agrees_with_reverse_mode"],
    runtime.rule_shaped: ["tests.test_higher_order::test_user_rules_in_both_modes_and_to_second_order",
                          "tests.test_higher_order::test_a_user_rule_giving_another_shape_is_an_error_not_a_broadcast"],
    runtime.scipy_value: ["tests.test_scipy_stats::test_distribution_value_and_derivatives",
                          "tests.test_scipy_stats::test_where_scipy_checks_fail_the_definitions_are_refused"],
    s2sad.fixed_point: ["tests.test_higher_order::test_fixed_point_by_the_implicit_function_theorem",
                        "tests.test_higher_order::test_fixed_point_that_does_not_converge_says_so",
                        "tests.test_nested_second_order::test_fixed_point_of_an_array_second_order",
                        "tests.test_nested_second_order::test_fixed_point_third_order"],
    s2sad.jvp: ["tests.test_higher_order::test_grad_of_jvp_and_of_a_grad_call",
                "tests.test_higher_order::test_gradient_through_a_nested_jvp_of_a_dict_adds_the_two_dict_gradients",
                "tests.test_nested_second_order::test_jvp_call_second_order"],
    importlib.import_module("s2sad.nested").grad_call: ["tests.test_higher_order::test_grad_of_jvp_and_of_a_grad_call",
                                                        "tests.test_nested_second_order::test_grad_call_second_order"],
    integrate.odeint: ["tests.test_odeint::test_odeint_second_derivatives_match_differences_of_the_gradient",
                       "tests.test_odeint::test_odeint_gradient_with_respect_to_the_times"],
    integrate.solve_ivp: ["tests.test_odeint::test_solve_ivp_first_and_second_derivatives",
                          "tests.test_odeint::test_solve_ivp_with_respect_to_the_times_and_through_sol_t"],
    importlib.import_module("s2sad.integrate").odeint_time_tangent: ["tests.test_odeint::test_what_is_refused_says_so"],
    importlib.import_module("s2sad.integrate").solve_ivp_time_tangent:
        ["tests.test_helper_rules::test_second_derivatives_in_solve_ivp_times_are_refused"],
}


def _helper_primitives():
    return {registry._key(prim): prim for prim, _, _ in _helper_rules()}


def test_every_helper_rule_has_a_case():
    """A primitive whose reverse or forward rule is registered by rules/helpers.py, rules/implicit.py,
    rules/nested.py or rules/scipy_integrate.py has a SPEC line here, or named tests in EXERCISED."""
    ours = _helper_primitives()
    assert len(ours) > 80
    listed = SPEC_PRIMS | {registry._key(p) for p in EXERCISED}
    missing = sorted(name_of(p) for k, p in ours.items() if k not in listed)
    assert not missing, f"helper rules with no case in {__file__}'s SPEC (or EXERCISED): {', '.join(missing)}"


def test_every_case_is_a_helper_with_a_rule_and_every_named_test_exists():
    ours = _helper_primitives()
    strays = [name_of(p) for p, _ in SPEC if registry._key(p) not in ours]
    strays += [name_of(p) for p in EXERCISED if registry._key(p) not in ours]
    assert not strays, f"listed here but without a rule from the helper modules: {', '.join(strays)}"
    names = [name_of(p) for p, _ in SPEC]
    assert len(set(names)) == len(names), "a helper listed twice in SPEC"
    empty = [name_of(p) for p, cases in SPEC if all(isinstance(c, Refuses) for c in cases)]
    assert not empty, f"SPEC lines with no checked case: {', '.join(empty)}"
    for p, tests in EXERCISED.items():
        for test in tests:
            module, name = test.split("::")
            assert callable(getattr(importlib.import_module(module), name, None)), f"{name_of(p)}: no test {test}"


def test_polygamma_matches_scipy():
    """runtime.polygamma (math.lgamma's and math.gamma's derivatives, NumPy only) against scipy.special, from tiny
    to large arguments and, for n <= 3, negative ones (by reflection)."""
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([np.geomspace(1e-8, 1e4, 500), -np.linspace(0.01, 9.99, 400)])
    x = x[np.abs(x - np.round(x)) > 1e-3]                      # (away from the poles at 0, -1, -2, ...)
    for n in range(6):
        xs = x if n <= 3 else x[x > 0]
        np.testing.assert_allclose(runtime.polygamma(n, xs), special.polygamma(n, xs), rtol=1e-12, atol=0,
                                   err_msg=f"polygamma({n}, x)")
    assert runtime.polygamma(0, 1.0) == pytest.approx(-np.euler_gamma, rel=1e-15)
    assert type(runtime.polygamma(0, 2.0)) is float and runtime.polygamma(1, np.float32(2.0)).dtype == np.float32
    assert np.isnan(runtime.polygamma(0, 0.0)) and np.isnan(runtime.polygamma(1, -3.0))
