"""Walk what a ``for`` loop walks directly where the arguments' kinds show it can be indexed.

Normalization writes ``for v in xs`` as a walk over ``_t6 = _s2.sequence(xs)`` by index, since only
where the code runs is it known whether ``xs`` is a list, tuple or array (then ``sequence`` gives
``xs`` itself) or some other iterable (then a list of its items). Where the kinds say ``xs`` is an
array of one axis or more, a list or a tuple, ``sequence(xs)`` is ``xs``, and the loop reads ``xs``::

    _t6 = _s2.sequence(xs)          ->   (gone)
    _t7 = len(_t6)                       _t7 = len(xs)
    ...  x_t = _t6[_k]                   ...  x_t = xs[_k]

Sound when ``_t6`` is bound once and ``xs`` never rebound or changed in place (no assignment,
augmented assignment or item assignment to it, no method call on it): every read of ``_t6`` then
sees the object ``sequence`` returned, which is ``xs``'s. (``kinds`` holds where the code runs: the
generated code is specialised on the arguments' kinds, and checked against them on entry.)
"""
import gast

from .. import nodes as N, runtime


def run(tree, unit, kinds_of):
    """Drop ``t = _s2.sequence(x)`` where ``x`` is known to be an array, list or tuple (``kinds_of()``)."""
    calls = [s for s in _statements(tree.body) if _sequence_of(s, unit) is not None]
    if not calls:
        return tree
    kinds = kinds_of()
    stores, changed = _stores(tree)
    params = {a.id for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs}
    renames = {}
    for s in calls:
        t, x = s.targets[0].id, _sequence_of(s, unit)
        if walked_directly(t, x, kinds, stores, changed, params):
            renames[t] = x
    for t in renames:                       # _t9 = sequence(_t7), _t7 = sequence(x): both read x
        while renames[t] in renames:
            renames[t] = renames[renames[t]]
    if renames:
        tree.body = _rewrite(tree.body, renames)
    return tree


def walked_directly(t, x, kinds, stores, changed, params):
    """Soundness condition (tests/test_soundness.py): ``x`` is an array of one axis or more, a list or a tuple
    (its kind), ``t`` bound once, ``x`` bound once (or a parameter never bound) and never changed in place."""
    kind = kinds.get(x)
    indexable = isinstance(kind, tuple) or isinstance(kind, int) and kind >= 1
    return indexable and stores.get(t) == 1 and x not in changed and stores.get(x, 0) == (x not in params)


def _sequence_of(s, unit):
    """``x`` for ``t = _s2.sequence(x)`` (``x`` a name), else None."""
    if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
            and isinstance(s.value, gast.Call) and len(s.value.args) == 1 and not s.value.keywords \
            and isinstance(s.value.args[0], gast.Name) and unit.scope.resolve(s.value.func) is runtime.sequence:
        return s.value.args[0].id
    return None


def _statements(body):
    for s in body:
        yield s
        for field in ("body", "orelse", "finalbody"):
            yield from _statements(getattr(s, field, None) or [])
        for h in getattr(s, "handlers", None) or []:
            yield from _statements(h.body)


def _stores(tree):
    """How many times each name is bound, and the names changed in place (item or attribute assignment,
    augmented assignment, a method call)."""
    stores, changed = {}, set()
    for n in N.walk(tree):
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del)):
            stores[n.id] = stores.get(n.id, 0) + 1
        elif isinstance(n, (gast.Subscript, gast.Attribute)) and isinstance(n.ctx, (gast.Store, gast.Del)) \
                and isinstance(n.value, gast.Name):
            changed.add(n.value.id)
        elif isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            changed.add(n.target.id)
        elif isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and isinstance(n.func.value, gast.Name):
            changed.add(n.func.value.id)
    return stores, changed


def _rewrite(body, renames):
    out = []
    for s in body:
        if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
                and s.targets[0].id in renames:
            continue
        for n in N.walk(s):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in renames:
                n.id = renames[n.id]
        out.append(s)
        for field in ("body", "orelse", "finalbody"):
            if getattr(s, field, None):
                setattr(s, field, _rewrite(getattr(s, field), renames))
        for h in getattr(s, "handlers", None) or []:
            h.body = _rewrite(h.body, renames)
    return out
