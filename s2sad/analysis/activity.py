"""Activity: which values may depend on a ``wrt`` input (*varied*) and, of those, which reach the output (*active*).

Only active values get derivative code. The analysis is flow-insensitive over names: a name is
varied when any of its assignments may carry a derivative from a varied name, so it
over-approximates, which is the sound direction (a value wrongly thought active costs derivative
code that adds zero; one wrongly thought inactive would drop a derivative).

Derivatives flow from the names an operation reads to the names it assigns, except through
operations registered as having no derivative (comparisons, ``np.floor``, ``len``, ...) and from
an index to the indexed value. A change in place (``xs.append(v)``, ``x[i] = v``) flows into every
name that may hold the same object (analysis/effects.py).

>>> from s2sad.unit import unit_for_text
>>> from s2sad.front import normalize
>>> import numpy as np
>>> unit = unit_for_text('''
... def f(x, y):
...     a = np.sin(x)
...     b = np.cos(y)
...     n = np.shape(x)
...     c = a * b
...     d = a + 1
...     return c
... ''', {"np": np})
>>> varied, active = run(normalize.run(unit.source.tree, unit), unit)
>>> sorted(varied), sorted(active)
(['a', 'c', 'd', 'x'], ['a', 'c', 'x'])
"""
import builtins
import operator

import gast

from .. import nodes as N
from . import effects as effects_analysis
from .ops import APPEND, classify, names_in


def run(fn, unit, effects=None):
    """``(varied, active)`` name sets of the normalized function ``fn`` for ``unit.wrt``."""
    effects = effects or effects_analysis.run(fn, unit)
    flows = list(_flows(fn.body, unit, effects))
    varied = _reach(flows, set(unit.wrt_names), forward=True)
    results = {n for s in N.statements(fn.body) if isinstance(s, gast.Return) for n in names_in(s.value)}
    useful = _reach(flows, results, forward=False)
    return frozenset(varied), frozenset(varied & useful)


def _reach(flows, start, forward):
    """Names reached from ``start`` along flows (sources -> targets, or back when not ``forward``)."""
    edges = {}
    for targets, sources in flows:
        here, there = (sources, targets) if forward else (targets, sources)
        for h in here:
            edges.setdefault(h, set()).update(there)
    reached = set(start)
    todo = list(start)
    while todo:
        for n in edges.get(todo.pop(), ()):
            if n not in reached:
                reached.add(n)
                todo.append(n)
    return reached


LOSSY = (builtins.str, builtins.repr, builtins.format, builtins.ascii, builtins.eval, builtins.exec, builtins.compile)


def lossy(value, scope):
    """Whether ``value`` turns its operands into text (or runs text as code): a derivative cannot follow,
    so where such a value reaches the output it is refused, not taken as constant (``float(repr(x))``)."""
    if isinstance(value, gast.JoinedStr):
        return True
    return isinstance(value, gast.Call) and _is_in(scope.resolve(value.func), LOSSY)


def _is_in(obj, table):
    try:
        return obj in table
    except TypeError:
        return False


def holders(classes, name):
    """Every name that may hold the object ``name`` holds (effects' points-to classes): a change in place
    through one of them is a change of all of them."""
    return set(classes.get(name, {name}))


def _flows(stmts, unit, effects):
    """(targets, sources) pairs: derivatives may flow from sources to targets."""
    classes = effects.classes
    for s in N.statements(stmts):
        if isinstance(s, gast.Assign) and lossy(s.value, unit.scope):     # followed, to be refused if used
            yield {n.id for n in N.walk(s.targets[0]) if isinstance(n, gast.Name)}, set(names_in(s.value))
            continue
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, (gast.Subscript, gast.Attribute)):    # x[i] = v: x (and its aliases) hold v
                root = target.value
                while isinstance(root, (gast.Subscript, gast.Attribute)):
                    root = root.value
                if isinstance(root, gast.Name):
                    yield holders(classes, root.id), set(names_in(s.value))
                continue
            op = classify(s.value, unit.scope)
            if op.nondiff:
                continue
            if op.primitive is operator.getitem:
                sources = set(names_in(op.args[0]))
            else:
                sources = set(names_in(s.value))
            yield {n.id for n in N.walk(target) if isinstance(n, gast.Name)}, sources
        elif isinstance(s, gast.Expr) and isinstance(s.value, gast.Call):
            value = s.value
            op = classify(value, unit.scope)
            if op.primitive is APPEND:
                items, item = op.args
                for n in names_in(items):
                    yield holders(classes, n), set(names_in(item))
            elif isinstance(value.func, gast.Attribute) and value.func.attr in effects_analysis.IN_PLACE_METHODS:
                receiver = set(names_in(value.func.value))
                for n in receiver:
                    yield holders(classes, n), set(names_in(value)) - {n}
