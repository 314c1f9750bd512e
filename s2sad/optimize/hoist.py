"""Items of an argument that a loop reads but never changes, read once before the loop.

``for t in range(1000): x = x + h * (theta[0] * math.sin(x) - ...)`` reads the same ``theta[0]`` every
iteration; read in the loop, its adjoint goes into ``theta_bar[0]`` every iteration of the backward
sweep. Read once before the loop (what a careful human writes: ``a, b, c = theta`` first), its adjoint
adds up in a local number and goes into ``theta_bar`` once.

>>> from s2sad.front.normalize import show
>>> from s2sad.unit import unit_for_text
>>> unit = unit_for_text('''
... def f(theta, x):
...     for t in range(3):
...         a = theta[0]
...         x = x * a
...     return x
... ''', {})
>>> unit.kinds = (1, -1)
>>> print(show(run(unit.source.tree, unit)))
def f(theta, x):
    a = theta[0]
    for t in range(3):
        x = x * a
    return x

Soundness condition (``invariant_read``): the statement is ``v = p[k]`` with ``k`` an int constant and ``p``
a parameter holding a 1-d array or a sequence with a number at ``k`` (its kind: ``v`` is a number), that the function never binds and never writes
into, and that the loop reads only this way (no call sees it: none can change it); ``v`` is bound by this
statement only; the statement is at the top of the body of a ``for`` loop over a ``range`` of constants that
is not empty, before any statement that may leave the iteration (``break``, ``continue``, ``return``), so the
first iteration reads it for sure: read before the loop, it raises only where the loop would.
Switch: ``hoist``.
"""
import gast

from .. import nodes as N

__all__ = ["run"]


def run(fn, unit):
    params = list(N.params(fn))
    kinds = dict(zip(params, unit.kinds))
    stores, writes = {}, set()
    for n in N.walk(fn):
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del)):
            stores[n.id] = stores.get(n.id, 0) + 1
        if isinstance(n, (gast.Subscript, gast.Attribute)) and not isinstance(n.ctx, gast.Load):
            root = n.value
            while isinstance(root, (gast.Subscript, gast.Attribute)):
                root = root.value
            if isinstance(root, gast.Name):
                writes.add(root.id)
    ranges = {s.targets[0].id: s.value for s in N.statements(fn.body) if isinstance(s, gast.Assign)
              and isinstance(s.targets[0], gast.Name) and stores.get(s.targets[0].id) == 1}

    def hoisted(block):
        out = []
        for s in block:
            for field_ in ("body", "orelse"):
                if isinstance(s, (gast.If, gast.For, gast.While)):
                    setattr(s, field_, hoisted(getattr(s, field_)))
            if isinstance(s, gast.For) and _runs(s.iter, ranges, unit):
                moved = [st for st in _leading(s.body) if invariant_read(st, s, kinds, stores, writes)]
                if moved:
                    s.body = [st for st in s.body if not any(st is m for m in moved)] or [gast.Pass()]
                    out.extend(moved)
            out.append(s)
        return out
    if unit.kinds:
        fn.body = hoisted(fn.body)
    return fn


def _leading(body):
    """The statements of a loop body that the first iteration runs for sure: those before the first one that may
    leave the iteration (or skip what follows). (front/jumps.py already moves what follows a ``break``,
    ``continue`` or ``return`` into the other branch, so no test can break this without breaking that pass:
    it is kept so that this pass does not rest on another's output.)"""
    out = []
    for st in body:
        if isinstance(st, (gast.If, gast.For, gast.While, gast.Break, gast.Continue, gast.Return)) or \
                any(isinstance(n, (gast.Break, gast.Continue, gast.Return, gast.Yield)) for n in N.walk(st)):
            break
        out.append(st)
    return out


def _runs(iterable, ranges, unit):
    """``range(...)`` of int constants with at least one item (directly, or a name bound once to it)."""
    if isinstance(iterable, gast.Name):
        iterable = ranges.get(iterable.id)
    if not (isinstance(iterable, gast.Call) and unit.scope.resolve(iterable.func) is range and not iterable.keywords
            and all(isinstance(a, gast.Constant) and type(a.value) is int for a in iterable.args)):
        return False
    try:
        return len(range(*(a.value for a in iterable.args))) > 0
    except (TypeError, ValueError):
        return False


def invariant_read(st, loop, kinds, stores, writes):
    """The soundness condition (module docstring) for moving ``st`` out of ``loop``."""
    if not (isinstance(st, gast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], gast.Name)
            and isinstance(st.value, gast.Subscript) and isinstance(st.value.value, gast.Name)):
        return False
    p, k = st.value.value.id, st.value.slice
    kind = kinds.get(p)
    if not (isinstance(k, gast.Constant) and type(k.value) is int and (kind == 1 or isinstance(kind, tuple)
                                                                      and -len(kind) <= k.value < len(kind)
                                                                      and kind[k.value] == -1)):
        return False                                 # a number (a row would be a view a call could change)
    if stores.get(p, 0) or p in writes or stores.get(st.targets[0].id) != 1:
        return False
    reads = [n for n in N.walk(loop) if isinstance(n, gast.Name) and n.id == p]
    parents = {id(c): n for n in N.walk(loop) for c in gast.iter_child_nodes(n)}
    return all(isinstance(parents.get(id(r)), gast.Subscript) and parents[id(r)].value is r
               and isinstance(parents[id(r)].slice, gast.Constant) for r in reads)
