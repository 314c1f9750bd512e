"""Where loops are reversed: the backward sweep of ``for``/``while``, and what the forward sweep records.

A loop's backward sweep runs its iterations in reverse::

    for i in range(n):                 i_range = range(n)
        h = np.tanh(W @ h)     ->      i_count = 0
                                       for i in i_range:
                                           i_count += 1
                                           _t1 = W @ h
                                           h_stack.append(h)         # h is overwritten, and read later
                                           h = np.tanh(_t1)
                                       ...
                                       for _k in range(i_count - 1, -1, -1):
                                           i = i_range[_k]
                                           _t1_bar = h_bar * (1.0 - h * h)
                                           h = h_stack.pop()         # h as it was before the overwrite
                                           h_bar = W.T @ _t1_bar ...

Values are restored, not snapshotted: before an in-loop assignment overwrites a
variable the backward sweep reads, the forward sweep pushes the old value; after
that assignment's adjoint, the backward sweep pops it back. So at every point the
backward sweep sees the primal state of the matching point of the forward sweep,
whatever the branches, breaks and nesting. Only variables the backward sweep
actually reads are pushed. Iteration counts (and a ``range`` object, so the loop
index is recomputed instead of stored) are kept per loop; inside an outer loop they
are pushed once per inner loop run.
"""
import collections
import itertools
from dataclasses import dataclass, field

import gast

from .. import nodes as N
from .. import runtime, tree
from ..analysis.ops import names_in
from ..errors import UnsupportedSyntaxError

_ids = itertools.count()


@dataclass
class LoopPlan:
    """The names one loop's sweeps use."""
    node: object
    counter: str
    index: str
    nested: bool
    range_name: str = None
    target_names: list = field(default_factory=list)


class Marker:
    """Placeholders in generated statements, resolved once we know what the backward sweep reads."""

    PREFIX = "__s2sad_marker__"

    def __init__(self):
        self.table = {}

    def make(self, kind, name, extra=None):
        key = next(_ids)
        self.table[key] = (kind, name, extra)
        return gast.Expr(value=gast.Call(func=N.name(self.PREFIX), args=[N.const(key)], keywords=[]))

    def get(self, stmt):
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
                and N.is_name(stmt.value.func, self.PREFIX):
            return self.table[stmt.value.args[0].value]
        return None


def range_call(node, scope):
    """Whether a loop's iterable is a call of the builtin ``range``."""
    return isinstance(node, gast.Call) and scope.resolve(node.func) is range


def plan(sweep, s, nested):
    namer = sweep.namer
    names = [n.id for n in gast.walk(s.target) if isinstance(n, gast.Name)] if isinstance(s, gast.For) else []
    base = names[0] if len(names) == 1 else "loop"
    p = LoopPlan(node=s, counter=namer.fresh(f"{base}_count"), index=namer.fresh("_k"), nested=nested,
                 target_names=names)
    if isinstance(s, gast.For) and range_call(s.iter, sweep.scope) and len(names) == 1:
        p.range_name = namer.fresh(f"{base}_range")
    return p


def backward(sweep, s, defined):
    """The backward sweep of loop ``s``; updates ``defined`` (the adjoints assigned so far)."""
    p = plan(sweep, s, nested=sweep.loop_depth > 0)
    sweep.plans[id(s)] = p
    sweep.loop_depth += 1
    sweep.loop_assigned.append({n.id for n in gast.walk(s) if isinstance(n, gast.Name)
                                and isinstance(n.ctx, gast.Store)})
    start = set(defined)
    sweep.loop_tops.append({id(st) for st in s.body})
    sweep.plans_stack.append(p)
    for _ in range(len(sweep.active) + 2):              # reaches a fixed point in two rounds
        d = set(start)
        sweep.recomputes.append([])
        body = sweep.block(s.body, d)
        recomputes = sweep.recomputes.pop()
        body += target_adjoint(sweep, s, p, d)
        carried = d - start
        if not carried:
            break
        start |= carried                                   # adjoints that flow into the previous iteration
    sweep.loop_depth -= 1
    sweep.loop_assigned.pop()
    sweep.loop_tops.pop()
    sweep.plans_stack.pop()
    inits = [N.assign(sweep.bar(n), sweep.zeros(n)) for n in sorted(start - defined)]
    if sweep.loop_depth == 0:                    # adjoints updated in place start as private copies
        owned = sweep.helper(runtime.owned)
        inits += [N.assign(sweep.bar(n), N.call(N.clone(owned), [N.name(sweep.bar(n))]))
                  for n in sorted(sweep.owned_buffers & defined)]
        sweep.owned_buffers.clear()
    resets = [N.assign(sweep.bar(n), sweep.zeros(n)) for n in sorted(start - d)]
    defined |= start
    prefix = [sweep.markers.make("target", t, p) for t in p.target_names] + recomputes
    loop = gast.For(target=N.store(p.index),
                    iter=N.call(sweep.aliases.ref(range, "range"), [N.binop(N.name(p.counter), gast.Sub(), N.const(1)),
                                                  N.const(-1), N.const(-1)]),
                    body=prefix + body + resets, orelse=[], type_comment=None)
    N.located(loop, s)
    records = [sweep.markers.make("pop_record", n) for n in _records(p)] if p.nested else []
    return records + inits + [loop]


def _records(p):
    return [p.counter] + ([p.range_name] if p.range_name else [])


def target_adjoint(sweep, s, p, defined):
    """Adjoints of the loop variable flow into the sequence it was taken from (``xs[_k]``)."""
    if not isinstance(s, gast.For):
        return []
    out = []
    if isinstance(s.target, gast.Tuple) and not isinstance(s.iter, gast.Call):
        # for a, b in pairs: the element pairs[_k] is the tuple (a, b)
        names = [t.id for t in s.target.elts]
        live = [n in sweep.active and n in defined for n in names]
        if any(live) and set(names_in(s.iter)) & sweep.active:
            element = N.call(sweep.helper(tree.pack),
                             [N.name(sweep.bar(n)) if ok else N.const(None) for n, ok in zip(names, live)])
            unindex = sweep.aliases.ref(runtime.unindex, "unindex")
            sweep.contribute(s.iter, N.call(unindex, [element, N.clone(s.iter), N.name(p.index)]), defined, out)
        defined.difference_update(names)
        return out
    pairs = _target_sources(sweep, s)
    for name, (seq, index) in pairs.items():
        if name in sweep.active and name in defined and seq is not None:
            bar = N.name(sweep.bar(name))
            idx = index(N.name(p.index))
            unindex = sweep.aliases.ref(runtime.unindex, "unindex")
            sweep.contribute(seq, N.call(unindex, [bar, N.clone(seq), idx]), defined, out)
            defined.discard(name)
    return out


def _target_sources(sweep, s):
    """For each loop variable, the sequence atom it is an element of and its index, if known."""
    target, it = s.target, s.iter
    names = [t.id for t in target.elts] if isinstance(target, gast.Tuple) else [target.id]
    plain = lambda k: k                                   # noqa: E731
    if isinstance(it, gast.Call):
        func = sweep.scope.resolve(it.func)
        if func is range:
            return {names[0]: (None, None)}
        if func is enumerate and len(names) == 2 and len(it.args) == 1:
            return {names[0]: (None, None), names[1]: (it.args[0], plain)}
        if func is zip and len(names) == len(it.args):
            return {n: (a, plain) for n, a in zip(names, it.args)}
        if func is reversed and len(names) == 1 and len(it.args) == 1:
            return {names[0]: (it.args[0], lambda k: gast.UnaryOp(op=gast.USub(), operand=N.add(k, N.const(1))))}
        return {n: (None, None) for n in names}
    if len(names) == 1:
        return {names[0]: (it, plain)}
    return {n: (None, None) for n in names}


def check_iterable(sweep, s):
    """A loop over a differentiated value must be one whose elements we can index."""
    if not isinstance(s, gast.For):
        return
    if isinstance(s.target, gast.Tuple) and not isinstance(s.iter, gast.Call):
        return
    pairs = _target_sources(sweep, s)
    for name, (seq, _) in pairs.items():
        if name in sweep.active and seq is None and set(names_in(s.iter)) & sweep.active:
            raise sweep.source.error(UnsupportedSyntaxError, "cannot differentiate a loop over this iterable", s,
                                     hint="loop over a list, tuple or array, or over range/enumerate/zip/reversed of them")


# --- forward sweep -------------------------------------------------------------------------
def forward(sweep, stmts, needed, depth=0):
    """The forward sweep: the primal with counters, hoisted ranges and pushes of what ``needed`` holds."""
    out = []
    for s in stmts:
        if isinstance(s, (gast.For, gast.While)):
            p = sweep.plans.get(id(s))
            if p is None:                                   # a loop with no derivative code
                s.body = forward(sweep, s.body, needed, depth + 1)
                out.append(s)
                continue
            if p.range_name:
                out.append(N.located(N.assign(p.range_name, s.iter), s))
                s.iter = N.name(p.range_name)
            counted = not (p.range_name and not _breaks(s.body))     # a range run to its end: its length
            if counted:
                out.append(N.located(N.assign(p.counter, N.const(0)), s))
            count = [gast.AugAssign(target=N.store(p.counter), op=gast.Add(), value=N.const(1))] if counted else []
            pushes = [_push(sweep, t, "target") for t in p.target_names if t in needed and not p.range_name
                      and not _index_target(sweep, s, t)]
            s.body = count + pushes + forward(sweep, s.body, needed, depth + 1)
            out.append(s)
            if not counted:
                length = N.call(sweep.aliases.ref(len, "len"), [N.name(p.range_name)])
                out.append(N.located(N.assign(p.counter, length), s))
            if p.nested:
                out.extend(_push(sweep, n, "record") for n in _records(p))
            continue
        if isinstance(s, gast.If):
            s.body = forward(sweep, s.body, needed, depth) or [gast.Pass()]
            s.orelse = forward(sweep, s.orelse, needed, depth)
        elif isinstance(s, gast.FunctionDef):                   # def h(...): then its generated vjp(s)
            out.append(s)
            if sweep.nested is not None:
                out.extend(sweep.nested.trees.get(s.name, []))
            continue
        elif isinstance(s, gast.Assign):
            if id(s) in sweep.calls:                          # y = f(x) -> y, y_pullback = f_vjp(x)
                pullback, link = sweep.calls[id(s)]
                s.targets = [N.tup([s.targets[0], N.store(pullback)], gast.Store())]
                s.value.func = link
            if depth and id(s) not in sweep.invariant and id(s) not in sweep.recomputed:
                out.extend(_push(sweep, n) for n in _stored(s) if n in needed)
        out.append(s)
    return out


def _breaks(stmts):
    """Whether a ``break`` in ``stmts`` (not in a loop inside them) may end their loop early."""
    for st in stmts:
        if isinstance(st, gast.Break):
            return True
        if isinstance(st, gast.If) and (_breaks(st.body) or _breaks(st.orelse)):
            return True
    return False


def _index_target(sweep, s, name):
    return isinstance(s.iter, gast.Call) and sweep.scope.resolve(s.iter.func) is enumerate \
        and isinstance(s.target, gast.Tuple) and s.target.elts[0].id == name


def _stored(s):
    return [n.id for t in s.targets for n in gast.walk(t)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]


def _stack(sweep, name, kind):
    key = (kind, name)
    if key not in sweep.stacks:
        sweep.stacks[key] = sweep.namer.derived(name, "stack")
    return sweep.stacks[key]


def _push(sweep, name, kind="restore"):
    value = N.name(name)
    if kind == "restore" and name in sweep.shape_only:       # read back only for its shape
        value = N.call(sweep.helper(runtime.shape_of), [value])
    return gast.Expr(value=N.call(N.attr(_stack(sweep, name, kind), "append"), [value]))


# positions of runtime helpers' arguments that are read only for their shape
SHAPE_ONLY = {"unbroadcast": 1, "unreduce": 1, "reduced_size": 0, "zeros_like": 0}


def shape_only_reads(sweep, backward):
    """Names every read of which, in the backward sweep, is a shape-only argument of a helper."""
    helpers = sweep.aliases.helpers
    shape_reads, all_reads = {}, {}
    for s in backward:
        for n in gast.walk(s):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                all_reads[n.id] = all_reads.get(n.id, 0) + 1
            if isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and helpers is not None \
                    and N.is_name(n.func.value, helpers) and n.func.attr in SHAPE_ONLY:
                k = SHAPE_ONLY[n.func.attr]
                if k < len(n.args) and isinstance(n.args[k], gast.Name):
                    shape_reads[n.args[k].id] = shape_reads.get(n.args[k].id, 0) + 1
    return {name for name, count in shape_reads.items() if all_reads.get(name) == count}


def _pop(sweep, name, kind="restore"):
    return N.assign(name, N.call(N.attr(_stack(sweep, name, kind), "pop")))


def expand_needed(sweep, needed):
    """What the backward sweep reads, including the reads its recomputations need."""
    needed = set(needed)
    changed = True
    while changed:
        changed = False
        for kind, name, stmt in sweep.markers.table.values():
            if kind == "recompute" and name in needed:
                reads = set(names_in(stmt.value))
                if not reads <= needed:
                    needed |= reads
                    changed = True
    return needed


MAX_RECOMPUTED = 3          # operations computed again for one stored value at most


def recompute_cheap(sweep, backward, needed):
    """Compute cheap in-loop values on numbers again in the backward sweep instead of storing them.

    ``t = a * b`` (noted by ``_Backward.note_cheap``) is computed again right before the
    backward sweep's first read of ``t`` in its block (where its restore marker is), when

    * each operand is at hand: a constant, a name the loop leaves alone, a ``range`` loop's
      index, a name the backward sweep restores anyway, or another such value assigned
      before ``t`` in the same block (itself computed again, or else restored);
    * no restored operand is restored between that first read and ``t``'s restore marker
      (so it holds the value it had when ``t`` was computed), and every read of ``t`` lies
      in between.

    * computing it again takes at most ``MAX_RECOMPUTED`` operations (chains of values
      nothing else keeps are computed again whole).

    ``t`` is then neither pushed nor popped. Returns the new ``needed``.
    """
    if not sweep.cheap:
        return needed
    reads = collections.Counter(n.id for s in backward for n in gast.walk(s)
                                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load))
    home = {}                                   # candidate -> (block, its restore marker)

    def collect(block):
        for s in block:
            if isinstance(s, (gast.For, gast.If)):
                collect(s.body)
                collect(s.orelse)
            elif _restore_of(sweep, s) in sweep.cheap:
                home[_restore_of(sweep, s)] = (block, s)
    collect(backward)
    decided, pinned, required, used = {}, set(), set(), set()

    def position(t):
        block, marker = home[t]
        return next(i for i, s in enumerate(block) if s is marker)

    def later(a, t):
        """``a`` is a candidate assigned before ``t`` in ``t``'s block (computed again, or restored)."""
        return a in home and home[a][0] is home[t][0] and position(a) > position(t) and a not in pinned

    def cost(t, budget=MAX_RECOMPUTED):
        """Operations computed again for ``t`` (itself and what it needs that nothing else keeps), or None."""
        stmt, changing, ranges = sweep.cheap[t]
        total = 1
        for a in set(_loads(stmt.value)) & changing - ranges:
            if later(a, t) and a not in needed:
                more = cost(a, budget - total)
                if more is None:
                    return None
                total += more
            elif a not in needed or decided.get(a) is True:
                return None
        return total if total <= budget else None

    def attempt(t):
        block, marker = home[t]
        stmt, changing, ranges = sweep.cheap[t]
        if cost(t) is None:
            return False
        r = position(t)
        operands = set(_loads(stmt.value)) & changing - ranges
        restored = {a for a in operands if not later(a, t)}
        first = [i for i in range(r) if t in _loads(block[i])]
        if not first:
            return False
        j = first[0]
        inside = sum(_loads(s).count(t) for s in block[j:r])
        if inside != reads[t] or any(_restore_of(sweep, n) in restored for s in block[j:r] for n in gast.walk(s)
                                     if isinstance(n, gast.stmt)):
            return False
        block.insert(j, N.clone(stmt))
        for a in _loads(stmt.value):
            reads[a] += 1
            used.add(a)
        pinned.update(restored & set(home))
        required.update(operands - restored)
        return True

    for t in sorted(home, key=lambda t: (id(home[t][0]), position(t))):
        if t in needed or t in required:
            decided[t] = t not in pinned and attempt(t)
    accepted = {t for t, ok in decided.items() if ok}
    if not accepted:
        return needed
    return expand_needed(sweep, (set(needed) | required | used) - accepted)


def _loads(node):
    return [n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)]


def _restore_of(sweep, stmt):
    m = sweep.markers.get(stmt)
    return m[1] if m is not None and m[0] == "restore" else None


def resolve_markers(sweep, stmts, needed):
    """Replace markers in the backward sweep by pops (for what is needed) or nothing."""
    out = []
    for s in stmts:
        m = sweep.markers.get(s)
        if m is not None:
            kind, name, p = m
            if kind == "restore" and name in needed:
                out.append(_pop(sweep, name))
            elif kind == "unappend" and name in needed:
                sweep.unappended.add(name)
                out.append(gast.Expr(value=N.call(N.attr(name, "pop"))))
            elif kind == "recompute" and name in needed:
                out.append(p)
            elif kind == "pop_record":
                out.append(_pop(sweep, name, "record"))
            elif kind == "target" and name in needed:
                if p.range_name:
                    out.append(N.assign(name, gast.Subscript(value=N.name(p.range_name), slice=N.name(p.index),
                                                             ctx=gast.Load())))
                elif _index_target(sweep, p.node, name):
                    out.append(N.assign(name, N.name(p.index)))
                else:
                    out.append(_pop(sweep, name, "target"))
            continue
        if isinstance(s, gast.If):
            s.body = resolve_markers(sweep, s.body, needed) or [gast.Pass()]
            s.orelse = resolve_markers(sweep, s.orelse, needed)
        elif isinstance(s, gast.For):
            s.body = resolve_markers(sweep, s.body, needed) or [gast.Pass()]
            _simplify_header(s)
        out.append(s)
    return out


def _simplify_header(loop):
    """``for _k in range(n - 1, -1, -1)`` -> ``for _ in range(n)`` when the body never reads ``_k``."""
    index = loop.target.id
    if not index.startswith("_k") or not isinstance(loop.iter, gast.Call) or len(loop.iter.args) != 3:
        return
    if any(isinstance(n, gast.Name) and n.id == index for s in loop.body for n in gast.walk(s)):
        return
    loop.target = N.store("_")
    loop.iter.args = [loop.iter.args[0].left]


def stack_inits(sweep):
    """``x_stack = []`` for every stack, at the top of the forward sweep."""
    return [N.assign(stack, gast.List(elts=[], ctx=gast.Load())) for stack in sweep.stacks.values()]


def none_inits(sweep, forward_stmts, params):
    # A restored variable first assigned inside a loop has no old value at its first push.
    """Pushed variables that may be unassigned when first pushed start as None."""
    assigned = set(params)
    for s in forward_stmts:
        if isinstance(s, gast.Assign):
            assigned.update(_stored(s))
        elif isinstance(s, (gast.For, gast.While)):
            break
    pushed = {name for kind, name in sweep.stacks if kind == "restore" and name not in assigned}
    return [N.assign(n, N.const(None)) for n in sorted(pushed)]
