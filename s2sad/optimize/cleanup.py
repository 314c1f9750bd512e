"""Clean up derivative code: fold constants, drop multiplications by one, remove dead statements.

Rules are written for the general case (``g * y * x ** (y - 1)``); at a call
site with ``y = 2`` that folds to ``g * 2 * x``.

>>> import gast
>>> from s2sad.nodes import unparse
>>> stmts = gast.parse("a_bar = g * 2 * x ** (2 - 1)\\nb = a_bar * 1.0\\nunused = a_bar + 1").body
>>> print("\\n".join(unparse(s) for s in run(stmts, keep={"b"})))
a_bar = g * 2 * x
b = a_bar
"""
import math
import operator

import gast

from .. import nodes as N

_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul, gast.Div: operator.truediv,
         gast.Pow: operator.pow}


def run(stmts, keep, pure_call=None, broadcast=None):
    """Simplify a straight-line/branching statement list; ``keep`` are names read afterwards.

    ``pure_call(func_node)`` may return a function that is safe to evaluate on constants
    (``math.log``), for folding ``math.log(2.0)``; ``broadcast(func_node)``: whether the call
    broadcasts its first argument (``unreduce``), for scaling before it (``scale_early``).
    """
    changed = True
    while changed:
        simplifier = _Simplify(pure_call)
        stmts = [simplifier.visit(s) for s in stmts]
        stmts, propagated = _propagate_copies(stmts, set(keep))
        stmts, removed = _dead_code(stmts, set(keep))
        changed = simplifier.changed or propagated or removed
    if broadcast is not None:
        scale_early(stmts, broadcast)
    return stmts


_EXACT_SCALES = (2, -2, 4, -4, 0.5, -0.5, 0.25, -0.25, -1)     # powers of two and -1: exact in every float format


def scale_early(stmts, broadcast):
    """``v = unreduce(a, x, axis)`` read once, as ``v * 2``: ``v = unreduce(a * 2, x, axis)`` and ``v`` there, so
    that the number scales the reduced array ``a``, not its broadcast over ``x`` (``sqsum_bar * 2``, not a pass
    over the (n, k, d) array). In place; the values are the same, bit for bit (see ``scaled_once``)."""
    stores, loads = {}, {}
    for s in stmts:
        for n in N.walk(s):
            if isinstance(n, gast.Name):
                table = loads if isinstance(n.ctx, gast.Load) else stores
                table[n.id] = table.get(n.id, 0) + 1
    defs = {s.targets[0].id: s for s in N.statements(stmts) if isinstance(s, gast.Assign) and len(s.targets) == 1
            and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.Call) and s.value.args
            and not s.value.keywords and broadcast(s.value.func)}
    scales = {}

    class _Unscale(gast.NodeTransformer):
        def visit_BinOp(self, node):
            self.generic_visit(node)
            for name, c in ((node.left, node.right), (node.right, node.left)):
                if isinstance(node.op, gast.Mult) and isinstance(name, gast.Name) and name.id in defs \
                        and name.id not in scales and isinstance(c, gast.Constant) \
                        and scaled_once(name.id, c.value, stores, loads):
                    scales[name.id] = c.value
                    return name
            return node
    for s in stmts:
        _Unscale().visit(s)
    for name, c in scales.items():
        call = defs[name].value
        call.args[0] = gast.BinOp(left=call.args[0], op=gast.Mult(), right=N.const(c))


def scaled_once(name, c, stores, loads):
    """Soundness condition of ``scale_early`` (tests/test_soundness.py): the broadcast is assigned once and read
    once (the read that drops the factor is its only one), and the factor is exact in every float format, so
    that scaling before or after the broadcast (and a cast to the array's float type) rounds alike."""
    return stores.get(name) == 1 and loads.get(name) == 1 and type(c) in (int, float) and c in _EXACT_SCALES


def _number(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float)


def _is(node, value):
    return _number(node) and node.value == value


def _boolean(node):
    return isinstance(node, (gast.Compare, gast.BoolOp)) or \
        isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Not) or \
        isinstance(node, gast.BinOp) and isinstance(node.op, (gast.BitAnd, gast.BitOr, gast.BitXor))


class _Simplify(gast.NodeTransformer):
    def __init__(self, pure_call):
        self.pure_call = pure_call
        self.changed = False

    def _done(self, node):
        self.changed = True
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right, op = node.left, node.right, type(node.op)
        if _number(left) and _number(right) and op in _FOLD:
            try:
                return self._done(N.const(_FOLD[op](left.value, right.value)))
            except (ArithmeticError, ValueError):
                return node
        # ``(x > 0) * 1.0`` turns booleans into numbers: keep multiplications of comparisons
        if (op is gast.Mult or op is gast.Div or op is gast.Pow) and _is(right, 1) and not _boolean(left):
            return self._done(left)
        if op is gast.Mult and _is(left, 1) and not _boolean(right):
            return self._done(right)
        if op in (gast.Add, gast.Sub) and _is(right, 0):
            return self._done(left)
        if op is gast.Add and _is(left, 0):
            return self._done(right)
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub):
            if _number(node.operand):
                return self._done(N.const(-node.operand.value))
            if isinstance(node.operand, gast.UnaryOp) and isinstance(node.operand.op, gast.USub):
                return self._done(node.operand.operand)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if self.pure_call and node.args and all(_number(a) for a in node.args) and not node.keywords:
            fn = self.pure_call(node.func)
            if fn is not None:
                try:
                    value = fn(*[a.value for a in node.args])
                except (ArithmeticError, ValueError):
                    return node
                if type(value) is float and math.isfinite(value):
                    return self._done(N.const(value))
        return node


def _is_copy(s, target=None, source=None):
    return isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.Name) \
        and (target is None or s.targets[0].id == target) and (source is None or s.value.id == source)


def _propagate_copies(stmts, keep):
    """``a = b`` followed by reads of ``a`` -> reads of ``b``, when ``b`` keeps its value meanwhile.

    ``b = a`` after the copy is then ``b = b`` and goes. Loop bodies are handled like the
    top level for names that occur nowhere else. One pass over the statements, with the
    names of each statement collected once (copies are many in large backward sweeps).
    """
    everywhere = {}
    for s in stmts:
        for n in N.walk(s):
            if isinstance(n, gast.Name):
                everywhere[n.id] = everywhere.get(n.id, 0) + 1
    return _propagate_block(stmts, keep, everywhere)


class _Names:
    """How often each name occurs in one statement, and which names it assigns."""

    def __init__(self, s):
        self.count, self.stores = {}, set()
        for n in N.walk(s):
            if isinstance(n, gast.Name):
                self.count[n.id] = self.count.get(n.id, 0) + 1
                if isinstance(n.ctx, gast.Store):
                    self.stores.add(n.id)


def _propagate_block(stmts, keep, everywhere):
    info = [_Names(s) for s in stmts]
    occurrences, counts = {}, {}
    for names in info:
        for name, k in names.count.items():
            occurrences[name] = occurrences.get(name, 0) + k
    for s in stmts:
        for n in N.walk(s):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                counts[n.id] = counts.get(n.id, 0) + 1
    removed, changed = set(), False
    for i, s in enumerate(stmts):
        if i in removed:
            continue
        if isinstance(s, (gast.For, gast.If)):
            inner = False
            for field in ("body", "orelse"):
                block, block_changed = _propagate_block(getattr(s, field), keep, everywhere)
                if block_changed:
                    setattr(s, field, block or [gast.Pass()])
                    inner = True
            if inner:
                changed = True
                _recount(occurrences, info[i], _Names(s))
                info[i] = _Names(s)
            continue
        if not _is_copy(s):
            continue
        a, b = s.targets[0].id, s.value.id
        if a in keep or counts.get(a) != 1 or occurrences.get(a) != everywhere.get(a) or a == b:
            continue
        if any(a in info[k].count for k in range(i) if k not in removed):
            continue                                    # read before it is set: a previous iteration's value
        later = [k for k in range(i + 1, len(stmts)) if k not in removed and not _is_copy(stmts[k], target=b, source=a)]
        reads = [k for k in later if a in info[k].count]
        last_read = reads[-1] if reads else -1
        if _reassigned_before_read(stmts, info, later, last_read, b):
            continue
        for k in reads:
            for n in N.walk(stmts[k]):
                if isinstance(n, gast.Name) and n.id == a:
                    n.id = b
            new = _Names(stmts[k])
            _recount(occurrences, info[k], new, everywhere)
            info[k] = new
        dropped = [i] + [k for k in range(i + 1, len(stmts)) if k not in removed and k not in later]
        for k in dropped:
            _recount(occurrences, info[k], _Names(gast.Pass()), everywhere)
            for name in info[k].stores:
                counts[name] -= 1
        removed.update(dropped)
        changed = True
    return [s for k, s in enumerate(stmts) if k not in removed], changed


def _reassigned_before_read(stmts, info, later, last_read, b):
    """Whether ``b`` may change before the last read of the copy: an assignment of ``b`` in a statement
    before that read, or inside the reading statement when it is a branch or a loop (``if c: a_bar = a_bar
    + t_bar; a_bar = a_bar + t_bar`` with ``t_bar`` a copy of ``a_bar``). An assignment in a simple reading
    statement is fine: its right side is read first."""
    return any(b in info[k].stores for k in later
               if k < last_read or k == last_read and not isinstance(stmts[k], (gast.Assign, gast.AugAssign,
                                                                                  gast.Expr, gast.Return)))


def _recount(occurrences, old, new, everywhere=None):
    for table in (occurrences, everywhere) if everywhere is not None else (occurrences,):
        for name, k in old.count.items():
            table[name] = table.get(name, 0) - k
        for name, k in new.count.items():
            table[name] = table.get(name, 0) + k


def _reads(node):
    return {n.id for n in N.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def _dead_code(stmts, live):
    """Drop assignments whose targets are never read (backward-sweep code is pure), and loops and
    branches left with nothing to do."""
    removed = False
    out = []
    for s in reversed(stmts):
        if isinstance(s, gast.For):               # what one iteration reads may be needed by another
            body, r = _dead_code(s.body, set(live) | _reads(s))
            removed |= r
            bound = {n.id for n in N.walk(s.target) if isinstance(n, gast.Name)}
            if not any(not N.is_comment(x) and not isinstance(x, gast.Pass) for x in body):
                if not bound & live:              # (a header that restores a value read afterwards stays)
                    removed = True
                    continue
                body = [gast.Pass()]
            s.body = body
            live |= _reads(s)
            out.append(s)
            continue
        if isinstance(s, gast.If):
            body, r1 = _dead_code(s.body, set(live))
            orelse, r2 = _dead_code(s.orelse, set(live))
            removed |= r1 or r2
            if not any(not N.is_comment(x) and not isinstance(x, gast.Pass) for x in body + orelse):
                removed = True
                continue
            s.body, s.orelse = body or [gast.Pass()], orelse
            live |= _reads(s)
            out.append(s)
            continue
        if isinstance(s, gast.Assign):
            targets = {n.id for t in s.targets for n in N.walk(t) if isinstance(n, gast.Name)}
            if not targets & live and not _has_effect(s.value):
                removed = True
                continue
            for t in s.targets:
                if isinstance(t, gast.Name):
                    live.discard(t.id)
            live |= _reads(s.value)
            out.append(s)
            continue
        live |= _reads(s)
        out.append(s)
    out.reverse()
    return _drop_orphan_comments(out), removed


def _has_effect(value):
    """Whether evaluating ``value`` changes something: a method call (``h_stack.pop()`` shortens the stack
    the next pop reads from), which dead-code removal must keep even when its result is unused."""
    return any(isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and isinstance(n.func.value, gast.Name)
               and n.func.attr in ("pop", "append", "extend", "insert", "remove", "clear")
               for n in N.walk(value))


def _drop_orphan_comments(stmts):
    out = []
    for i, s in enumerate(stmts):
        if N.is_comment(s):
            nxt = stmts[i + 1] if i + 1 < len(stmts) else None
            if nxt is None or N.is_comment(nxt):
                continue
        out.append(s)
    return out
