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
``"push"`` otherwise.

Each ``"none"`` above states its soundness condition; tests/test_record.py checks each one fails
when its condition is dropped. With every switch off, the plan is the straightforward one:
every value the backward sweep reads is pushed wherever it may be overwritten.

Loop counts: a loop that may stop early (``break``, ``while``) counts its iterations; inside
another loop the count is pushed at each exit and popped before its backward loop.
"""
import collections
from dataclasses import dataclass, field

import gast

from .. import nodes as N
from .. import runtime
from .ops import APPEND, COPY, DICT, PACK, UNKNOWN, classify, names_in


@dataclass
class Decision:
    name: str
    how: str              # "push", "shape" or "none"
    why: str


@dataclass
class Plan:
    decisions: dict = field(default_factory=dict)      # id(Restore/Unappend point) -> Decision
    counts: dict = field(default_factory=dict)         # id(forward loop) -> whether its count is pushed per exit
    reads: frozenset = frozenset()                     # primal names the backward sweep reads

    def dump(self, points):
        """A compact text of the decisions, in backward-sweep order (for tests and debugging)."""
        return "\n".join(f"{d.name}: {d.how} ({d.why})" for d in (self.decisions[id(p)] for p in points))


# positions of runtime helpers' arguments that are read only for their shape (and dtype)
SHAPE_ONLY = {runtime.unbroadcast: 1, runtime.unreduce: 1, runtime.reduced_size: 0, runtime.zeros_like: 0}


def run(fn, backward, unit):
    """The record plan for the forward function ``fn`` (normalized) and its backward sweep."""
    from ..reverse.sweep import Restore, Unappend
    options = unit.options
    forward = fn.body[:-1]
    primal = _primal_names(fn, backward)
    sites, enclosing = _sites(forward)
    loop_nodes = {id(loop.backward): loop for loop in backward.loops.values() if loop.backward is not None}
    reads, shape_reads, inside = _reads(backward.body, primal, unit, loop_nodes)
    points = [p for p in _walk(backward.body) if isinstance(p, (Restore, Unappend))]
    for p in points:
        if p.name not in sites:                         # a call's pullback: assigned by the call
            sites[p.name].append(p.site)
    plan = Plan(reads=frozenset(reads))
    mutated = unit.facts.mutated
    params = set(N.params(fn))
    for p in points:
        name, site = p.name, p.site
        if isinstance(p, Unappend):
            how = "push" if name in reads else "none"
            plan.decisions[id(p)] = Decision(name, how, "the list is read by the backward sweep" if name in reads
                                             else "the list is not read by the backward sweep")
            continue
        count = reads.get(name, 0)
        if isinstance(site, gast.For):                  # the loop variable: the backward loop gives it back
            count -= inside.get((id(site), name), 0)
        if count <= 0:
            plan.decisions[id(p)] = Decision(name, "none", "not read by the backward sweep")
            continue
        assigned = len(sites.get(name, ())) + (name in params)
        if options.single and assigned == 1 and not enclosing.get(id(site)) and name not in mutated:
            plan.decisions[id(p)] = Decision(name, "none", "assigned once, outside loops")
            continue
        if options.invariant and assigned == 1 and _invariant(site, enclosing.get(id(site), ()), unit, backward):
            plan.decisions[id(p)] = Decision(name, "none", "the same value on every iteration")
            continue
        if options.shape_only and shape_reads.get(name, 0) == reads.get(name, 0) and name not in mutated:
            plan.decisions[id(p)] = Decision(name, "shape", "read for its shape only")
            continue
        plan.decisions[id(p)] = Decision(name, "push", "read by the backward sweep, may be overwritten")
    for loop in backward.loops.values():
        plan.counts[id(loop.node)] = loop.count is not None and loop.nested
    return plan


def _primal_names(fn, backward):
    names = set(N.params(fn))
    for s in N.statements(fn.body):
        for n in gast.walk(s):
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
                for n in gast.walk(s.targets[0]):
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


def _walk(stmts):
    for s in stmts:
        yield s
        for field_ in ("body", "orelse"):
            yield from _walk(getattr(s, field_, None) or [])


def _reads(stmts, primal, unit, loop_nodes):
    """Counts of the backward sweep's reads of primal names: all, shape-only ones, and per
    (forward loop, name) the reads inside that loop's backward loop body."""
    reads, shape_reads, inside = collections.Counter(), collections.Counter(), collections.Counter()
    shape_helpers = {}
    for fn, k in SHAPE_ONLY.items():
        shape_helpers[fn] = k

    def visit(node, loops):
        if isinstance(node, gast.For) and id(node) in loop_nodes:
            visit_children(node.iter, loops)
            for s in node.body:
                visit(s, loops + (loop_nodes[id(node)].node,))
            return
        if isinstance(node, gast.Call):
            helper = unit.scope.resolve(node.func)
            k = _lookup(shape_helpers, helper)
            if k is not None and k < len(node.args) and isinstance(node.args[k], gast.Name) \
                    and node.args[k].id in primal:
                shape_reads[node.args[k].id] += 1
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in primal:
            reads[node.id] += 1
            for loop in loops:
                inside[(id(loop), node.id)] += 1
        visit_children(node, loops)

    def visit_children(node, loops):
        for child in gast.iter_child_nodes(node):
            visit(child, loops)

    for s in stmts:
        visit(s, ())
    return reads, shape_reads, inside


def _lookup(table, obj):
    try:
        return table.get(obj)
    except TypeError:
        return None


def _random(primitive):
    """Whether a primitive may give another value for the same arguments (a random draw)."""
    owner = getattr(primitive, "__self__", None)
    module = getattr(primitive, "__module__", None) or getattr(type(owner), "__module__", "") or ""
    return module.startswith(("numpy.random", "random"))


def _invariant(site, loops, unit, backward):
    """Whether an in-loop assignment gives the same value on every iteration of its enclosing loops."""
    if not loops or not isinstance(site, gast.Assign) or not isinstance(site.targets[0], gast.Name):
        return False
    if id(site) in backward.calls:
        return False
    op = classify(site.value, unit.scope)
    if op.primitive is UNKNOWN or op.primitive is APPEND or _random(op.primitive):
        return False
    from ..rules.registry import vjp_rule
    if not (op.nondiff or op.primitive in (COPY, PACK, DICT) or vjp_rule(op.primitive) is not None):
        return False
    changing = set()
    for loop in loops:
        for n in gast.walk(loop):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                changing.add(n.id)
        if isinstance(loop, gast.For):
            changing.add(loop.target.id)
    operands = set(names_in(site.value))
    return not operands & (changing | set(unit.facts.mutated))
