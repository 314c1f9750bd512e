"""Which values provably have the same shape (so ``unbroadcast`` between them is a no-op).

Only names assigned once count (a name merged from two branches may differ).
Elementwise functions keep their argument's shape; a binary elementwise operation
with a Python number keeps the other operand's shape, and two operands of the same
shape give a result of that shape. The analysis returns a dict from variable name
to a representative name of its shape class.

>>> from s2sad.front.source import from_text
>>> from s2sad.front.resolve import Scope
>>> import numpy as np
>>> src = from_text('''
... def f(x, y):
...     a = np.exp(x)
...     b = 1.0 + a
...     c = b * y
...     return c
... ''')
>>> classes = run(src.tree, Scope({"np": np}, local_names={"x", "y", "a", "b", "c"}))
>>> classes["b"] == classes["x"], classes.get("c") == classes["x"]
(True, False)
"""
import collections
import operator
import types

import gast
import numpy as np

from .ops import COPY, classify

_ELEMENTWISE = {operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.mod,
                operator.neg, operator.pos, abs}


def _elementwise(primitive):
    if isinstance(primitive, np.ufunc):
        return True
    if isinstance(primitive, types.BuiltinFunctionType) and getattr(primitive, "__module__", None) == "math":
        return True
    try:
        return primitive in _ELEMENTWISE
    except TypeError:
        return False


def _same_shape_operand(value, scope, find):
    """A name whose shape ``value`` provably has, or None."""
    op = classify(value, scope)
    if op.kwargs:
        return None
    if op.primitive is COPY:
        return op.args[0].id if isinstance(op.args[0], gast.Name) else None
    if not _elementwise(op.primitive):
        return None
    names = [a.id for a in op.args if isinstance(a, gast.Name)]
    numbers = [a for a in op.args if isinstance(a, gast.Constant) and type(a.value) in (int, float, bool)]
    if len(names) + len(numbers) != len(op.args) or not names:
        return None
    if len({find(n) for n in names}) == 1:
        return names[0]
    return None


def result_like(value, scope, classes):
    """For one statement's value: a name with the shape of its result, or None.

    Unlike ``run``'s classes this holds for a name assigned on several branches too,
    since it speaks of this one assignment.
    """
    return _same_shape_operand(value, scope, lambda n: classes.get(n, n))


def run(fn, scope):
    parent = {}

    def find(a):
        while parent.get(a, a) != a:
            a = parent[a]
        return a

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    def visit(stmts):
        for s in stmts:
            if isinstance(s, (gast.If, gast.For, gast.While)):
                visit(s.body)
                visit(s.orelse)
            elif isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                    and assigned[s.targets[0].id] == 1:
                operand = _same_shape_operand(s.value, scope, find)
                if operand is not None:
                    union(s.targets[0].id, operand)
    assigned = collections.Counter(n.id for n in gast.walk(fn) if isinstance(n, gast.Name)
                                   and isinstance(n.ctx, gast.Store))
    visit(fn.body)
    return {name: find(name) for name in parent}
