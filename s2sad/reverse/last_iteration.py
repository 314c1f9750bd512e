"""Reverse mode, after clean-up: work a backward loop's last iteration does for nobody, skipped.

A loop-carried adjoint is read by the next backward iteration; after the last one (the forward
loop's first iteration) only what follows the loop reads it. When nothing does, as for the input of
an MLP's first layer when the input is not differentiated, its last update is wasted work (there a
matrix product as large as the layer's)::

    for _k, h_prev in zip(reversed(loop_range), reversed(h_stack)):
        ...
        W_bar = _s2.matmul_y_grad(_t5_bar, h, W)
        if _k:                                   # not the last backward iteration
            h_bar = _s2.matmul_x_grad(_t5_bar, h, W)

as a person writes it (``if i: d = (d @ W.T) * ...``). Only top-level backward loops over a
``range`` whose index the header binds are changed.
"""
import gast
import numpy as np

from .. import nodes as N
from .. import runtime
from .assemble import _live_in
from .ranges import bound_once, loop_index

_PURE_HELPERS = frozenset({runtime.matmul_x_grad, runtime.matmul_y_grad, runtime.unbroadcast, runtime.unreduce,
                           runtime.dot_x_grad, runtime.dot_y_grad})
_EXPRESSIONS = (gast.Name, gast.Constant, gast.BinOp, gast.UnaryOp, gast.Compare, gast.Tuple, gast.Subscript,
                gast.Slice, gast.Attribute, gast.Call, gast.keyword, gast.expr_context, gast.operator, gast.unaryop,
                gast.cmpop)


def run(backward, forward, keep, unit):
    """``backward`` with the last-iteration-only dead updates of its top-level loops guarded; ``keep``: names read
    after the backward sweep (the gradients, the value)."""
    ranges = bound_once(forward, unit)
    for i, loop in enumerate(backward):
        if not isinstance(loop, gast.For):
            continue
        index, r = loop_index(loop, ranges, unit)
        first = None if r is None or len(ranges[r].args) == 1 else N.attr(r, "start")
        if index is None or not index_kept(loop.body, index):
            continue
        live_after = _live_in(backward[i + 1:]) | set(keep)
        guarded = [skippable(j, loop.body, live_after, index, unit) for j in range(len(loop.body))]
        if not any(guarded):
            continue
        test = N.name(index) if first is None else \
            gast.Compare(left=N.name(index), ops=[gast.NotEq()], comparators=[first])
        body, run_ = [], []
        for s, skip in zip(loop.body, guarded):
            if skip:
                run_.append(s)
                continue
            if run_:
                body.append(N.if_(N.clone(test), run_, [], like=run_[0]))
                run_ = []
            body.append(s)
        if run_:
            body.append(N.if_(N.clone(test), run_, [], like=run_[0]))
        loop.body = body
    return backward


def index_kept(body, index):
    """Soundness condition (tests/test_soundness.py): nothing in the loop's body binds its index (an inner loop
    with the same discarded target ``_`` would), so ``if _k:`` reads the header's value, the iteration's."""
    return not any(isinstance(n, gast.Name) and n.id == index and isinstance(n.ctx, (gast.Store, gast.Del))
                   for s in body for n in N.walk(s))


def skippable(j, body, live_after, index, unit):
    """Soundness condition (tests/test_soundness.py): ``body[j]``, skipped in the loop's last iteration, is an
    assignment of one name that nothing after the loop reads (``live_after``) nor any statement after it in
    the body that runs in that iteration, computed without changing anything (arithmetic, indexing, NumPy
    ufuncs, the pure adjoint helpers). Reads of it before ``body[j]`` belong to a next iteration: there is none."""
    s = body[j]
    if not (isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name)):
        return False
    name = s.targets[0].id
    if name in live_after or name == index or not _pure(s.value, unit):
        return False
    for later in body[j + 1:]:
        if any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load) for n in N.walk(later)) \
                and not (skippable(body.index(later), body, live_after, index, unit)):
            return False
    return True


def _pure(expr, unit):
    for n in N.walk(expr):
        if not isinstance(n, _EXPRESSIONS):
            return False
        if isinstance(n, gast.Call):
            try:
                f = unit.scope.resolve(n.func)
            except Exception:                                  # noqa: BLE001 -- unknown: not pure
                return False
            if not (f in _PURE_HELPERS or isinstance(f, np.ufunc) and not n.keywords):
                return False
    return True
