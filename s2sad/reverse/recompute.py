"""Compute cheap values again in the backward sweep instead of recording them (switch ``recompute``).

A value assigned in a loop and read by the backward sweep would be pushed every iteration and
popped again. When it is one cheap operation on numbers (``_t2 = term * x``), or an item read by
the loop's index from a container the loop leaves alone (``_t1 = x[i]``), the backward sweep can
compute it again right before its first read instead::

    for i in i_range:                         for i in reversed(i_range):
        _t1 = x[i]                                _t1 = x[i]             # computed again
        _t2 = _t1 * w                             w_bar = w_bar + s_bar * _t1
        s = s + _t2                               ...

Sound when, for the assignment ``t = e`` of a name assigned nowhere else:

* every read of ``t`` in the backward sweep comes before its restore point, in the same block
  (the same iteration, after ``t = e`` in forward order), so the value computed again is the
  only one any read can see;
* each operand of ``e`` holds, where ``t`` is computed again, the value it had at ``t = e``: it is
  constant in the loops around (assigned in none of them, never changed in place), or the
  index of one of them (the backward loop gives it back), or a value no assignment changes
  between ``t = e`` and that point (no restore of it lies between the new statement and the
  restore point of ``t``); the record plan (analysis/record.py) then keeps such operands as
  it keeps any value the backward sweep reads.

The restore point of ``t`` goes (nothing pushed, nothing popped). Chains work: ``_t2 = _t1 * w``
computed again reads ``_t1``, which is then computed again before it.
"""
import gast

from .. import nodes as N
from ..analysis import record
from ..analysis.ops import names_in
from .sweep import Restore, RestoreItem, Unappend

_ARITHMETIC = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)
MAX_CHAIN = 2       # a value computed again reads at most one other value computed again (a push and a pop
                    # cost about two operations on numbers: a longer chain costs more than it saves)


def run(fn, backward, unit):
    """Insert recomputations into ``backward.body`` (in place); returns {name: reason} for the ones done."""
    if not unit.options.recompute:
        return {}
    forward = fn.body[:-1]
    loops_of, sites = _loops(forward)
    params = set(N.params(fn))
    reads = {n.id for n in N.walk(N.tup([]) if not backward.body else _Module(backward.body))
             if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    points = {}                                   # name -> (its restore point, the block holding it)
    for block in _blocks(backward.body):
        for p in block:
            if isinstance(p, Restore):
                points.setdefault(p.name, []).append((p, block))
    chosen = []                                   # (statement, the names it assigns)
    depth = {}                                    # name -> how many operations computing it again takes
    for s in _statements(forward):
        names = _candidate(s, sites, params, loops_of, unit)
        if not names or any(len(points.get(t, ())) != 1 for t in names):
            continue
        if unit.options.invariant and record.invariant(s, loops_of[id(s)], unit, backward):
            continue                              # the same value every iteration: the last one is read, free
        if len({id(points[t][0][1]) for t in names}) != 1:
            continue                              # their restore points in different blocks
        cost = 1 + max((depth.get(a, 0) for a in _operands(s.value)), default=0)
        if cost > MAX_CHAIN:
            continue                              # cheaper to record than to compute a chain again
        if all(available(a, s, loops_of, unit, reads, [t for _, ts in chosen for t in ts])
               for a in _operands(s.value)):
            chosen.append((s, names))
            depth.update({t: cost for t in names})
    done = {}
    loads = _loads(backward.body)                 # name -> its reads in the whole backward sweep, kept up to date
    statements = N.StatementNames()     # (each statement's reads, worked out once: recompute only inserts
                                        # statements and removes restore points)
    for statement, names in reversed(chosen):     # last first: a chain's later links read the earlier ones
        block = points[names[0]][0][1]
        restores = [points[t][0][0] for t in names]
        where = _window(block, restores, names, _operands(statement.value), loads, statements)
        if where is None:
            continue
        again = N.located(gast.Assign(targets=[N.clone(statement.targets[0])],
                                      value=_square(N.clone(statement.value), unit.facts.numbers),
                                      type_comment=None), statement)
        block.insert(where, again)
        for name, k in _loads([again]).items():
            loads[name] = loads.get(name, 0) + k
        for point in restores:
            block.remove(point)
        for t in names:
            done[t] = "one cheap operation, computed again before its first read"
    return done


def _square(value, numbers):
    """``x ** 2`` of a number computed again as ``x * x``: a multiplication, not a call of ``pow`` (the product is
    the correctly rounded square, ``pow``'s may be an ulp away; the forward sweep computed ``x ** 2`` without
    overflowing, so ``x * x`` is finite there too)."""
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Pow) and isinstance(value.left, gast.Name) \
            and squared(value, numbers):
        return gast.BinOp(left=value.left, op=gast.Mult(), right=N.clone(value.left))
    return value


def squared(value, numbers):
    """Soundness condition of ``_square`` (tests/test_soundness.py): ``value`` is ``x ** 2``, ``x`` a number."""
    return value.left.id in numbers and isinstance(value.right, gast.Constant) and type(value.right.value) is int \
        and value.right.value == 2


class _Module(gast.AST):
    _fields = ("body",)

    def __init__(self, body):
        super().__init__()
        self.body = body


def _statements(stmts):
    for s in stmts:
        yield s
        if isinstance(s, (gast.If, gast.For, gast.While)):
            yield from _statements(s.body)
            yield from _statements(s.orelse)


def _blocks(stmts):
    yield stmts
    for s in stmts:
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(s, (gast.If, gast.For, gast.While)) and inner:
                yield from _blocks(inner)


def _loops(stmts):
    """id(statement) -> enclosing forward loops; name -> its assignments (loop headers included)."""
    loops_of, sites = {}, {}

    def walk(block, loops):
        for s in block:
            loops_of[id(s)] = loops
            if isinstance(s, gast.Assign):
                for n in N.walk(s.targets[0]):
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                        sites.setdefault(n.id, []).append(s)
            elif isinstance(s, gast.For):
                sites.setdefault(s.target.id, []).append(s)
            if isinstance(s, (gast.For, gast.While)):
                walk(s.body, loops + (s,))
                walk(s.orelse, loops)
            elif isinstance(s, gast.If):
                walk(s.body, loops)
                walk(s.orelse, loops)
    walk(stmts, ())
    return loops_of, sites


def _candidate(s, sites, params, loops_of, unit):
    """The names ``s`` assigns, when ``s`` is a cheap pure operation in a loop and their only assignment:
    one arithmetic operation on numbers, or an item read from a container the loops leave alone by an
    index they give (``W, b = layers[k]`` too)."""
    if not (isinstance(s, gast.Assign) and loops_of.get(id(s))):
        return None
    target = s.targets[0]
    if isinstance(target, gast.Name):
        names = [target.id]
    elif isinstance(target, (gast.Tuple, gast.List)) and all(isinstance(t, gast.Name) for t in target.elts):
        names = [t.id for t in target.elts]
    else:
        return None
    if len(set(names)) != len(names) or any(len(sites.get(t, ())) != 1 or t in params or t in unit.facts.mutated
                                            for t in names):
        return None
    value = s.value
    numbers = unit.facts.numbers
    if isinstance(value, gast.BinOp) and isinstance(value.op, _ARITHMETIC) or \
            isinstance(value, gast.UnaryOp) and isinstance(value.op, (gast.USub, gast.UAdd)):
        operands = [value.left, value.right] if isinstance(value, gast.BinOp) else [value.operand]
        if len(names) == 1 and names[0] in numbers and all(
                isinstance(a, gast.Constant) and type(a.value) in (int, float)
                or isinstance(a, gast.Name) and a.id in numbers for a in operands):
            return names
        return None
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):
        changing = _assigned_in(loops_of[id(s)], unit)
        container = value.value.id
        held = {container} | set(unit.facts.aliases.get(container, ()))     # (a name holding the same object too)
        if container not in changing and not held & set(unit.facts.mutated):
            index = names_in(value.slice)
            headers = {loop.target.id for loop in loops_of[id(s)] if isinstance(loop, gast.For)}
            if all(n in headers or n not in changing for n in index):
                return names
    return None


def _assigned_in(loops, unit):
    names = set()
    for loop in loops:
        names |= record.stored_in(loop, unit)
    return names


def _operands(value):
    return sorted(set(names_in(value)))


def available(a, s, loops_of, unit, reads, chosen):
    """Whether operand ``a`` of ``s`` can be read again cheaply where ``s``'s value is computed again: a cost
    condition, not a soundness one (whatever the new statement reads, the record plan keeps), so that
    computing one value again does not make another one recorded."""
    loops = loops_of[id(s)]
    headers = {loop.target.id for loop in loops if isinstance(loop, gast.For)}
    if a in headers or a in chosen:
        return True
    if a not in _assigned_in(loops, unit) and not ({a} | set(unit.facts.aliases.get(a, ()))) & set(unit.facts.mutated):
        return True                                # constant in the loops around
    return a in reads                              # read by the backward sweep anyway: kept anyway


def _loads(stmts):
    counts = {}
    for s in stmts:
        for n in N.walk(s):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                counts[n.id] = counts.get(n.id, 0) + 1
    return counts


def _window(block, points, names, operands, loads, statements):
    """Where in ``block`` to compute ``names`` again (before their first read), or None when a read of one
    lies outside ``block`` before its restore point, or an operand is restored in between (``loads``: each
    name's reads in the whole backward sweep)."""
    k = min(block.index(p) for p in points)
    first = first_read_if_all_inside(block, k, names, loads, statements)
    if first is None or not operands_unchanged(block, first, k, operands):
        return None
    return first


def first_read_if_all_inside(block, k, names, loads, statements):
    """The index of the first statement of ``block`` before ``k`` reading one of ``names``, provided every
    read of them in the whole backward sweep (``loads``: name -> its reads there) lies there (else None)."""
    names = set(names)
    total = sum(loads.get(n, 0) for n in names)
    first, inside = None, 0
    for i in range(k):
        reads = statements.reads(block[i])
        count = sum(reads.get(n, 0) for n in names)
        if count and first is None:
            first = i
        inside += count
    return first if first is not None and inside == total else None


def operands_unchanged(block, first, k, operands):
    """Whether no statement of ``block`` from ``first`` up to ``k`` restores or assigns an operand."""
    for i in range(first, k):
        for n in N.walk(block[i]):
            if isinstance(n, (Restore, RestoreItem, Unappend)) and n.name in operands:
                return False
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and n.id in operands:
                return False
    return True
