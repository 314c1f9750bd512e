"""Activity: which values depend on a ``wrt`` input *and* reach the output.

Only active values get derivative code. Integer and boolean results of
non-differentiable operations (comparisons, ``np.shape``, ``len``) are never active.

>>> from s2sad.front.source import from_text
>>> from s2sad.front.resolve import Scope
>>> import numpy as np
>>> src = from_text('''
... def f(x, y):
...     a = np.sin(x)
...     b = np.cos(y)
...     n = np.shape(x)
...     c = a * b
...     d = a + 1
...     return c
... ''')
>>> sorted(run(src.tree, ["x"], Scope({"np": np}, local_names={"x", "y", "a", "b", "n", "c", "d"})))
['a', 'c', 'x']
"""
import operator

import gast

from .. import nodes as N

from .ops import APPEND, classify, names_in


def varied(fn, wrt_names, scope):
    """Names whose value may depend on a ``wrt`` input (whether or not it reaches the output).

    Writes into such values are refused: an array may share memory with an input.
    """
    flows = list(_flows(fn.body, scope))
    return frozenset(_reach(flows, set(wrt_names), forward=True))


def run(fn, wrt_names, scope, functions=False):
    """The set of active variable names of the normalized, versioned function ``fn``.

    ``functions``: a function defined inside ``fn`` that reads active values is itself active
    (forward mode gives it a tangent: its own tangent code).
    """
    flows = list(_flows(fn.body, scope))
    if functions:
        flows += [({s.name}, N.free_loads(s)) for s in N.statements(fn.body) if isinstance(s, gast.FunctionDef)]
    reached = _reach(flows, set(wrt_names), forward=True)
    useful = _reach(flows, {n for stmt in _returns(fn.body) for n in names_in(stmt.value)}, forward=False)
    return frozenset(reached & useful)


def _reach(flows, start, forward):
    """Names reached from ``start`` along flows (sources -> targets, or back when not ``forward``)."""
    reached = set(start)
    changed = True
    while changed:
        changed = False
        for targets, sources in flows:
            here, there = (sources, targets) if forward else (targets, sources)
            if here & reached and not there <= reached:
                reached |= there
                changed = True
    return reached


def _flows(stmts, scope):
    """(targets, sources) pairs: derivatives may flow from sources to targets."""
    for s in stmts:
        if isinstance(s, gast.If):
            yield from _flows(s.body, scope)
            yield from _flows(s.orelse, scope)
        elif isinstance(s, (gast.For, gast.While)):
            if isinstance(s, gast.For):
                yield from _loop_target_flows(s, scope)
            yield from _flows(s.body, scope)
            yield from _flows(s.orelse, scope)
        elif isinstance(s, gast.Expr) and isinstance(s.value, gast.Call):
            op = classify(s.value, scope)
            if op.primitive is APPEND:                         # items.append(v): items now holds v
                yield set(names_in(op.args[0])), set(names_in(op.args[1]))
        elif isinstance(s, gast.Assign):
            target = s.targets[0]
            op = classify(s.value, scope)
            if op.nondiff:
                continue
            # Every name the expression reads may carry a derivative (conservative: a call
            # s2sad cannot resolve stays active and is refused later), except an index.
            sources = set(names_in(op.args[0] if _is_getitem(op) else s.value))
            if isinstance(target, gast.Subscript):         # x[i] = v: x now holds v's derivative
                yield set(names_in(target.value)), sources
            else:
                yield {n.id for n in gast.walk(target) if isinstance(n, gast.Name)}, sources


def _loop_target_flows(s, scope):
    """``for x in xs``: x carries xs's derivative (not so a range index or an enumerate count)."""
    targets = [t.id for t in s.target.elts] if isinstance(s.target, gast.Tuple) else [s.target.id]
    it = s.iter
    func = scope.resolve(it.func) if isinstance(it, gast.Call) else None
    if func is range:
        return
    if func is enumerate and len(targets) == 2:
        yield {targets[1]}, set(names_in(it))
        return
    if func is zip and len(targets) == len(it.args):
        for t, a in zip(targets, it.args):
            yield {t}, set(names_in(a))
        return
    yield set(targets), set(names_in(it))


def _is_getitem(op):
    return op.primitive is operator.getitem


def _returns(stmts):
    for s in stmts:
        if isinstance(s, gast.Return):
            yield s
        elif isinstance(s, (gast.If, gast.For, gast.While)):
            yield from _returns(s.body)
            yield from _returns(s.orelse)
