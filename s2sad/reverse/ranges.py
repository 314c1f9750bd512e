"""Backward loops over a ``range``: which names hold one, and which backward loop walks one (by its header).

The forward sweep lowers ``for i in range(a, b, s)`` to ``i_range = range(a, b, s)`` and ``for i in i_range``;
its backward loop walks ``reversed(i_range)`` (``reversed(i_range[:count])`` where it may stop early), alone or
zipped with stacks. last_iteration.py and count_down.py rewrite such loops.
"""
import gast

from .. import nodes as N


def bound_once(forward, unit):
    """name -> the ``range(...)`` call it holds, for names the forward sweep binds once (at its top level)."""
    stores = {}
    for s in forward:
        for n in N.walk(s):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                stores[n.id] = stores.get(n.id, 0) + 1
    out = {}
    for s in forward:
        if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
                and stores[s.targets[0].id] == 1 and isinstance(s.value, gast.Call) and not s.value.keywords \
                and 1 <= len(s.value.args) <= 3 and resolves(s.value.func, range, unit):
            out[s.targets[0].id] = s.value
    return out


def resolves(func, obj, unit):
    try:
        return unit.scope.resolve(func) is obj
    except Exception:                                          # noqa: BLE001
        return False


def loop_index(loop, ranges, unit):
    """(the index name, the range's name) of a backward loop over ``reversed(r)`` or ``zip(reversed(r), ...)``
    (``r`` one of ``ranges``, maybe sliced ``r[:count]``), else (None, None)."""
    target, it = loop.target, loop.iter
    if isinstance(it, gast.Call) and resolves(it.func, zip, unit) and it.args \
            and isinstance(target, gast.Tuple) and target.elts:
        target, it = target.elts[0], it.args[0]
    walked = walked_range(it, unit)
    if not (isinstance(target, gast.Name) and walked is not None and walked[0] in ranges):
        return None, None
    return target.id, walked[0]


def walked_range(it, unit):
    """(range name, the count expression or None for all of it) of ``reversed(r)`` / ``reversed(r[:count])``."""
    if not (isinstance(it, gast.Call) and resolves(it.func, reversed, unit) and len(it.args) == 1 and not it.keywords):
        return None
    r, count = it.args[0], None
    if isinstance(r, gast.Subscript) and isinstance(r.slice, gast.Slice) and r.slice.lower is None \
            and r.slice.step is None and r.slice.upper is not None:
        r, count = r.value, r.slice.upper
    return (r.id, count) if isinstance(r, gast.Name) else None
