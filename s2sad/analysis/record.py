"""What the forward sweep records for the backward sweep: a plan, as plain data, with the reason for each entry.

The backward sweep (reverse/sweep.py) marks, after the adjoint of each assignment, a restore
point: from there on it needs the assigned name as it was before the assignment. The
straightforward way to honour every restore point is a stack: push the old value before the
assignment, pop it at the restore point. This analysis reads the finished backward sweep and
decides, for each restore point, whether that is needed:

``"none"``, because the name is never read by the backward sweep at or before... anywhere
    (always sound: no read can see the difference);
``"none"``, because the name is assigned once, outside every loop (switch ``single``): no other
    assignment can overwrite it, so every read sees that one value;
``"none"``, because the value is the same on every iteration (switch ``invariant``): a
    statement in a loop whose operands no enclosing loop assigns or changes in place, with no
    effects (a registered rule, a copy, a literal), the only assignment of its name;
``"shape"``, because every read of the name is for its shape only (switch ``shape_only``):
    ``unbroadcast(g, x)``, ``zeros_like(x)``, ... keep ``shape_of(x)`` instead of ``x``;
``"last"``, because every read is for its shape only and the shape is the same on every iteration
    (switches ``shape_only`` and ``invariant``): nothing is recorded; the backward sweep reads the
    value the last iteration left (a pullback keeps its ``shape_of``);
``"push"`` otherwise.

Each ``"none"`` above states its soundness condition, one function each below;
tests/test_soundness.py drops each one and sees a wrong derivative. With every switch off, the plan is the straightforward one:
every value the backward sweep reads is pushed wherever it may be overwritten.

Loop counts: a loop that may stop early (``break``, ``while``) counts its iterations; inside
another loop the count is pushed at each exit and popped before its backward loop.
"""
import collections
import operator
from dataclasses import dataclass, field

import gast
import numpy as np

from .. import nodes as N
from .. import runtime
from .ops import APPEND, COPY, DICT, PACK, UNKNOWN, classify, names_in
from .shapes import _elementwise, _is_in


@dataclass
class Decision:
    name: str
    how: str              # "push", "shape" or "none"
    why: str
    line: int = 0         # the user's line assigning the value


@dataclass
class Plan:
    decisions: dict = field(default_factory=dict)      # id(Restore/Unappend point) -> Decision
    counts: dict = field(default_factory=dict)         # id(forward loop) -> whether its count is pushed per exit
    reads: frozenset = frozenset()                     # primal names the backward sweep reads
    recomputed: dict = field(default_factory=dict)     # name -> why it is computed again (reverse/recompute.py)

    def dump(self):
        """The decisions as text, one per restore point in backward-sweep order (for tests and debugging)."""
        return "\n".join(f"line {d.line}: {d.name}: {d.how} ({d.why})" for d in self.decisions.values())


# positions of runtime helpers' arguments that are read only for their shape (and dtype)
SHAPE_ONLY = {runtime.unbroadcast: 1, runtime.unreduce: 1, runtime.reduced_size: 0, runtime.zeros_like: 0,
              runtime.rule_shaped: 1}


def run(fn, backward, unit):
    """The record plan for the forward function ``fn`` (normalized) and its backward sweep."""
    from ..reverse.sweep import Restore, RestoreItem, Unappend
    options = unit.options
    forward = fn.body[:-1]
    primal = _primal_names(fn, backward)
    sites, enclosing = _sites(forward)
    order = _Order(backward.body, primal, unit, _captured(forward, backward))
    plan = Plan(recomputed=dict(backward.recomputed))
    params = set(N.params(fn))
    for p in order.points:
        if p.name not in sites:                         # a call's pullback: assigned by the call
            sites[p.name].append(p.site)
    items = [p for p in order.points if isinstance(p, RestoreItem)]
    for p in items + [p for p in order.points if not isinstance(p, RestoreItem)]:
        name, site = p.name, p.site
        line = unit.source.file_line(site) if getattr(site, "lineno", None) else 0
        if isinstance(p, RestoreItem):
            holders = holders_of(name, unit)                              # a view of it sees the write too
            if not any(order.read_after(p, other, objects=True) for other in holders):
                plan.decisions[id(p)] = Decision(name, "none", "not read by the backward sweep after this point "
                                                 "(nor any name holding the same object)", line)
            elif options.shape_only and all(shape_only(other, order, unit, writes_kept=True) for other in holders) \
                    and not any(order.read_after(p, other, objects=True) and not order.read_after(p, other)
                                for other in holders):      # (a pullback reading the object reads its values)
                plan.decisions[id(p)] = Decision(name, "none", "read for its shape only, which a write keeps", line)
            else:
                plan.decisions[id(p)] = Decision(name, "push", "read by the backward sweep afterwards, and this "
                                                 "write overwrites part of it", line)
                order.reads[name].append(order.where[id(p)])      # putting x[idx] back reads x there
                order.index_read(p)                                # ... and idx
            continue
        if isinstance(p, Unappend):                # (`M = L; M.append(v)`: the sweep reading L sees the item too;
            others = holders_of(name, unit) if not enclosing.get(id(site)) else [name]   # in a loop, the names
            if any(order.read_after(p, other, objects=True) for other in others):        # are rebound: its own)
                plan.decisions[id(p)] = Decision(name, "push", "the list (or a name holding it) is read by the "
                                                 "backward sweep afterwards", line)
            else:
                plan.decisions[id(p)] = Decision(name, "none", "not read by the backward sweep after this point "
                                                 "(nor any name holding the same list)", line)
            continue
        if not order.read_after(p):               # sound: nothing can see whether it is restored
            plan.decisions[id(p)] = Decision(name, "none", "not read by the backward sweep after this point", line)
            continue
        once = assigned_once(name, sites, params)
        loops = enclosing.get(id(site), ())
        if options.single and once and outside_loops(loops):
            plan.decisions[id(p)] = Decision(name, "none", "assigned once, outside loops", line)
            continue
        if options.invariant and once and invariant(site, loops, unit, backward):
            plan.decisions[id(p)] = Decision(name, "none", "the same value on every iteration", line)
            continue
        if options.shape_only and shape_only(name, order, unit):
            if options.invariant and once and shape_fixed(site, loops, unit, sites):
                plan.decisions[id(p)] = Decision(name, "last", "read for its shape only, the same on every "
                                                 "iteration: the last iteration's value has it", line)
            else:
                plan.decisions[id(p)] = Decision(name, "shape", "read for its shape only", line)
            continue
        plan.decisions[id(p)] = Decision(name, "push", "read by the backward sweep afterwards, may be overwritten", line)
    plan.decisions = {id(p): plan.decisions[id(p)] for p in order.points}     # in backward-sweep order
    plan.reads = frozenset(order.count)
    for loop in backward.loops.values():
        plan.counts[id(loop.node)] = loop.count is not None and loop.nested
    return plan


class _Order:
    """The backward sweep in execution order: where each primal name is read, and the restore points.

    A restore point matters only if a read of its name can run after it: a read later in the text,
    or any read inside a loop around it (the loop runs it again). Nothing else runs after it.
    """

    def __init__(self, stmts, primal, unit, captured=None):
        from ..reverse.sweep import Restore, RestoreItem, Unappend
        self.captured = captured or {}                 # a pullback's name -> the names its call was passed
        self.reads = collections.defaultdict(list)     # name -> [(position, loops around the read)]
        self.object_reads = collections.defaultdict(list)   # name -> reads of the object it holds there, not of
        #                                                     the name (a pullback reading what its call returned)
        self.count, self.shape = collections.Counter(), collections.Counter()
        self.points, self.where = [], {}               # restore points; id(point) -> (position, loops)
        self.primal, self.unit = primal, unit
        self.position = 0
        self._kinds = (Restore, RestoreItem, Unappend)
        self.block(stmts, ())

    def block(self, stmts, loops):
        for s in stmts:
            self.position += 1
            if isinstance(s, self._kinds):
                self.points.append(s)
                self.where[id(s)] = (self.position, loops)     # (putting x[idx] back reads idx: index_read)
            elif isinstance(s, gast.For):
                self.expression(s.iter, loops)
                self.block(s.body, loops + (id(s),))
            elif isinstance(s, gast.If):
                self.expression(s.test, loops)
                self.block(s.body, loops)
                self.block(s.orelse, loops)
            else:
                self.expression(s, loops)

    def expression(self, node, loops):
        for n in N.walk(node):
            if isinstance(n, gast.Call):
                k = _lookup(SHAPE_ONLY, self.unit.scope.resolve(n.func))
                if k is not None and k < len(n.args) and isinstance(n.args[k], gast.Name) \
                        and n.args[k].id in self.primal:
                    self.shape[n.args[k].id] += 1
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in self.primal:
                self.count[n.id] += 1
                self.reads[n.id].append((self.position, loops))
                given, returned = self.captured.get(n.id, ((), ()))
                for held in given:                           # a pullback reads what its call was passed
                    self.reads[held].append((self.position, loops))
                for held in returned:                        # ... and the objects it returned (their names may be
                    self.object_reads[held].append((self.position, loops))    # rebound: their objects are read)

    def index_read(self, point):
        """Putting ``x[idx]`` back at ``point`` (a write pushed) reads ``idx`` there."""
        kept, (self.position, loops) = self.position, self.where[id(point)]
        self.expression(point.index, loops)
        self.position = kept

    def read_after(self, point, name=None, objects=False):
        """Whether ``name`` (the point's own, by default) may be read after ``point`` in the backward sweep (with
        ``objects``, the object it holds too: a change in place of it is seen by such reads, a rebinding not)."""
        position, loops = self.where[id(point)]
        reads = list(self.reads.get(name or point.name, ())) + \
            (list(self.object_reads.get(name or point.name, ())) if objects else [])
        return any(p > position or set(around) & set(loops) for p, around in reads)


def _captured(forward, backward):
    """A pullback's name -> the names its call was passed and the names it assigned (``y, y_pullback = f_vjp(L)``):
    calling the pullback in the backward sweep reads those objects as they are then (the callee's derivative code
    holds what it was given, and what it returned: a buffer it filled row by row, ``X[t] = A @ X[t - 1]``), so a
    change in place after the call (``L.append``, ``a[0] = v``, ``X[0] = 0.0``) must be undone before it, as
    before any other read of them."""
    captured = {}
    for s in N.statements(forward):
        call = backward.calls.get(id(s))
        if call is not None and isinstance(s, gast.Assign):
            returned = [n.id for t in s.targets for n in N.walk(t) if isinstance(n, gast.Name)]
            captured[call.pullback] = ([n for n in names_in(s.value) if n != call.pullback],
                                       [n for n in returned if n != call.pullback])
    return captured


def _primal_names(fn, backward):
    names = set(N.params(fn))
    for s in N.statements(fn.body):
        for n in N.walk(s):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                names.add(n.id)
    for call in backward.calls.values():
        names.add(call.pullback)
        if call.rng:
            names.add(call.rng)
    return names


def _sites(stmts):
    """name -> forward statements assigning it (loop headers included); id(statement) -> enclosing loops."""
    sites, enclosing = collections.defaultdict(list), {}

    def walk(block, loops):
        for s in block:
            enclosing[id(s)] = loops
            if isinstance(s, gast.Assign):
                for n in N.walk(s.targets[0]):
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                        sites[n.id].append(s)
            elif isinstance(s, gast.For):
                sites[s.target.id].append(s)
                walk(s.body, loops + (s,))
                walk(s.orelse, loops)
            elif isinstance(s, gast.While):
                walk(s.body, loops + (s,))
                walk(s.orelse, loops)
            elif isinstance(s, gast.If):
                walk(s.body, loops)
                walk(s.orelse, loops)
            elif isinstance(s, gast.FunctionDef):
                sites[s.name].append(s)
    walk(stmts, ())
    return sites, enclosing


def _lookup(table, obj):
    try:
        return table.get(obj)
    except TypeError:
        return None


def may_draw(primitive):
    """Whether a primitive may give another value for the same arguments (a random draw)."""
    owner = getattr(primitive, "__self__", None)
    module = getattr(primitive, "__module__", None) or getattr(type(owner), "__module__", "") or ""
    return module.startswith(("numpy.random", "random"))


# --- the conditions, one function each (tests/test_soundness.py drops each one and sees a wrong derivative)
def assigned_once(name, sites, params):
    """Whether ``name`` has one assignment in the whole function (a parameter counts as one)."""
    return len(sites.get(name, ())) + (name in params) == 1


def holders_of(name, unit):
    """The names that may hold ``name``'s object (``name`` included): a write through ``name`` changes
    what each of them reads (analysis/effects.py)."""
    return sorted(unit.facts.aliases.get(name, {name}))


def outside_loops(loops):
    """Whether a statement runs at most once: no loop encloses it."""
    return not loops


def shape_only(name, order, unit, writes_kept=False):
    """Whether every read of ``name`` by the backward sweep is for its shape, and nothing changes it in
    place (``append`` changes a list's length: its shape at the restore point is not its shape now).
    With ``writes_kept``: changes in place are writes ``name[idx] = v``, which keep an array's shape
    but not a list's or a dict's, so ``name`` must be known to be an array."""
    if order.shape.get(name, 0) != order.count.get(name, 0):
        return False
    if writes_kept:
        kind = unit.facts.kinds.get(name)
        return isinstance(kind, int) and kind >= 1
    return name not in unit.facts.mutated


def invariant(site, loops, unit, backward):
    """Whether an in-loop assignment, its name's only one, gives the same value on every iteration of
    its enclosing loops: a plain assignment with no effects (a registered rule, a copy, a literal;
    no call differentiated with its own pullback, no random draw), that builds no new list or dict
    each iteration, whose operands no enclosing loop assigns or changes in place."""
    if not loops or not isinstance(site, gast.Assign) or not isinstance(site.targets[0], gast.Name):
        return False
    if id(site) in backward.calls:
        return False
    op = classify(site.value, unit.scope)
    if op.primitive is UNKNOWN or op.primitive is APPEND or may_draw(op.primitive):
        return False
    from ..rules.registry import vjp_rule
    if not (op.nondiff or op.primitive in (COPY, PACK, DICT) or vjp_rule(op.primitive) is not None):
        return False
    if isinstance(site.value, (gast.List, gast.Dict)) or site.targets[0].id in unit.facts.mutated:
        return False                                # a new list each iteration, changed in place afterwards
    return operands_fixed(site, loops, unit)


_PRODUCTS = (operator.matmul, np.matmul, np.dot)


def shape_fixed(site, loops, unit, sites):
    """Whether an in-loop assignment, its name's only one, gives an array of the same shape and dtype on every
    iteration of its enclosing loops: an elementwise operation or a matrix product (no keywords) whose operands
    are constants, numbers or arrays no enclosing loop binds, a range loop's index, or values of such
    assignments that come before it in the innermost loop's body; or ``xs[k]`` of such an array ``xs`` by
    such indices. (Kinds tell numbers and arrays from lists; a shape and dtype computed from operands whose
    shapes and dtypes do not change does not change.)"""
    kinds = unit.facts.kinds
    if not loops or not isinstance(site, gast.Assign) or not isinstance(site.targets[0], gast.Name) \
            or not isinstance(kinds.get(site.targets[0].id), int) or kinds[site.targets[0].id] < 0:
        return False
    body = loops[-1].body
    changing = set().union(*(stored_in(loop, unit) for loop in loops))
    indices = {loop.target.id for loop in loops if isinstance(loop, gast.For) and isinstance(loop.target, gast.Name)
               and kinds.get(loop.target.id) == -1}                 # a range loop's index: an int

    def fixed(node, before):
        if isinstance(node, gast.Constant):
            return type(node.value) in (int, float)
        if not isinstance(node, gast.Name) or not isinstance(kinds.get(node.id), int):
            return False
        if node.id not in changing or node.id in indices:
            return True
        assigned = sites.get(node.id, ())
        return len(assigned) == 1 and any(s is assigned[0] for s in body[:before]) \
            and fixed_value(assigned[0], next(i for i, s in enumerate(body) if s is assigned[0]))

    def fixed_value(s, at):
        if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)):
            return False
        op = classify(s.value, unit.scope)
        if op.kwargs or any(not isinstance(a, gast.AST) for a in op.args):
            return False
        if op.primitive is operator.getitem:
            base, index = op.args
            items = index.elts if isinstance(index, gast.Tuple) else [index]
            return isinstance(base, gast.Name) and base.id not in changing and isinstance(kinds.get(base.id), int) \
                and kinds[base.id] >= len(items) and all(
                    isinstance(i, gast.Constant) and type(i.value) is int or isinstance(i, gast.Name) and i.id in indices
                    for i in items)
        if not (_elementwise(op.primitive) and getattr(op.primitive, "nout", 1) == 1
                or _is_in(op.primitive, _PRODUCTS) and len(op.args) == 2):
            return False
        return all(fixed(a, at) for a in op.args)

    at = next((i for i, s in enumerate(body) if s is site), None)
    return at is not None and fixed_value(site, at)


def stored_in(loop, unit):
    """The names a forward loop assigns (its header's included), worked out once per loop and transform (the
    forward loops do not change between the analyses and reverse/realize.py)."""
    got = unit.facts.loop_stores.get(id(loop))
    if got is None or got[0] is not loop:
        got = unit.facts.loop_stores[id(loop)] = (loop, frozenset(
            n.id for n in N.walk(loop) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)))
    return got[1]


def operands_fixed(site, loops, unit):
    """Whether no enclosing loop assigns an operand of ``site`` (its target included) or changes one in place."""
    changing = set()
    for loop in loops:
        changing |= stored_in(loop, unit)
    operands = set(names_in(site.value))
    held = set().union(operands, *(unit.facts.aliases.get(n, ()) for n in operands))   # (B = A; A[t] = v: B too)
    if operands & changing or held & set(unit.facts.mutated):
        return False
    return not any(_module_data(n, unit) for n in operands) or not any(_may_change_state(loop, unit) for loop in loops)


def _module_data(name, unit):
    """Whether ``name`` is a free name holding an object a call may change (a module's list, array, object)."""
    from .effects import _holds_data
    return unit.scope.is_free(name) and _holds_data(unit.scope.lookup(name))


def _may_change_state(loop, unit):
    """Whether ``loop`` calls a function that may change a module's object (a user function, a method, anything
    without a rule): ``bump()`` setting ``STATE.k`` the loop reads."""
    from ..rules.registry import has_rule
    for n in N.walk(loop):
        if isinstance(n, gast.Call):
            op = classify(n, unit.scope)
            if op.primitive is UNKNOWN or op.primitive is APPEND or not (op.nondiff or has_rule(op.primitive)
                                                                           or op.primitive in (COPY, PACK, DICT)):
                return True
    return False
