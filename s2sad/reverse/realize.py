"""Reverse mode, step three: put the record plan in place.

The forward sweep gets the pushes the plan asks for (``h_stack.append(h)`` before an assignment
of ``h``), the loop counts, and the calls of linked vjps (``y, y_pullback = f_vjp(a)``); the
backward sweep gets the matching pops at its restore points (``h = h_stack.pop()``) and drops
the others::

    for i in i_range:                 for i in i_range:
        h = np.tanh(W @ h)     ->         _t1 = W @ h
                                          h_stack.append(h)
                                          h = np.tanh(_t1)
    ...                               for i in reversed(i_range):
                                          _t1_bar = h_bar * (1.0 - h * h)
                                          h = h_stack.pop()
                                          ...
"""
from dataclasses import dataclass, field

import gast

from .. import nodes as N
from .. import runtime
from ..runtime import rng_state
from . import adjoints
from .sweep import Restore, RestoreItem, Unappend


@dataclass
class Realized:
    forward: list             # the forward sweep
    backward: list            # the backward sweep
    stacks: dict = field(default_factory=dict)     # (kind, name) -> stack name
    restored: set = field(default_factory=set)     # primal names the backward sweep pops
    shape_only: set = field(default_factory=set)   # ... of which it reads only the shape
    unappended: set = field(default_factory=set)   # lists the backward sweep shortens
    iterated: set = field(default_factory=set)     # stacks the backward sweep reads by iterating them, never pops
    written: set = field(default_factory=set)      # arrays/lists/dicts the backward sweep writes back into
    inits: list = field(default_factory=list)      # statements starting the forward sweep


def run(fn, backward, plan, unit):
    r = _Realize(unit, backward, plan)
    forward = r.forward(fn.body[:-1])
    back = r.backward(backward.body)
    inits = [N.assign(stack, gast.List(elts=[], ctx=gast.Load())) for stack in r.stacks.values()]
    params = set(N.params(fn))
    iterated, rotated, counted = iterate(forward, back, backward.loops, set(r.stacks.values()), unit) \
        if unit.options.iterate else (set(), set(), set())
    restores = {stack for (kind, _), stack in r.stacks.items() if kind == "restore"}
    forward = hoist_pushes(forward, restores)
    shape_only = {n for n in r.shape_only if all(d.how in ("shape", "last") for d in plan.decisions.values()
                                                 if d.name == n)}
    # the backward sweep reads these after the forward sweep (the shapes: those it reads other than from a stack
    # its loop header walks, as vjp's ``x = shape_of(x)`` on the way out does)
    read_after = {n for n in shape_only if read_unbound(back, n)} | r.unappended | r.written
    unbound = sorted(n for n in r.maybe_unbound(fn.body[:-1], plan, back) if n not in params
                     and (n not in rotated or n in read_after))   # (a rotated push reads what was just assigned)
    inits += [N.assign(n, N.const(None)) for n in unbound]
    inits += [N.assign(loop.count, N.const(0)) for loop in backward.loops.values()   # a loop in a branch not
              if loop.count is not None and loop.count not in counted         # taken: counted 0 times
              and _inside_compound(fn.body[:-1], loop.node)]
    return Realized(forward=forward, backward=back, stacks=r.stacks, restored=r.restored, unappended=r.unappended,
                    inits=inits, shape_only=shape_only, written=r.written, iterated=iterated)


class _Realize:
    def __init__(self, unit, backward, plan):
        self.unit, self.info, self.plan = unit, backward, plan
        self.stacks = {}
        self.restored, self.unappended, self.shape_only, self.written = set(), set(), set(), set()
        self.last = set()         # names read for a shape every iteration shares: the last value's, not pushed
        self.site_pushes = {}         # id(forward site) -> [(name, how)]
        from ..analysis.record import Decision  # noqa: F401  (the plan's entries)
        self.item_pushes = {}         # id(forward site) -> [(name, index)]: what a write overwrites
        for p in _points(backward.body):
            d = plan.decisions[id(p)]
            if isinstance(p, Restore) and d.how in ("push", "shape"):
                self.site_pushes.setdefault(id(p.site), []).append((p.name, d.how))
            if isinstance(p, RestoreItem) and d.how == "push":
                self.item_pushes.setdefault(id(p.site), []).append((p.name, p.index))
        self.backward_loops = {id(loop.backward): loop for loop in backward.loops.values()}

    def stack(self, name, kind="restore"):
        key = (kind, name)
        if key not in self.stacks:
            self.stacks[key] = self.unit.namer.derived(name, "stack")
        return self.stacks[key]

    def push(self, name, how="push", kind="restore"):
        value = N.name(name)
        if how == "shape":
            value = N.call(self.unit.aliases.ref(runtime.shape_of, "shape_of"), [value])
        return gast.Expr(value=N.call(N.attr(self.stack(name, kind), "append"), [value]))

    def pop(self, name, kind="restore"):
        return N.assign(name, N.call(N.attr(self.stack(name, kind), "pop")))

    # --- forward sweep -----------------------------------------------------------------------
    def forward(self, stmts):
        out = []
        for s in stmts:
            pushes = [self.push(n, how) for n, how in sorted(set(self.site_pushes.get(id(s), [])))]
            if isinstance(s, (gast.For, gast.While)):
                out.extend(N.located(p, s) for p in pushes)
                out.extend(self.loop(s))
                continue
            if isinstance(s, gast.If):
                s.body = self.forward(s.body) or [gast.Pass()]
                s.orelse = self.forward(s.orelse)
                out.append(s)
                continue
            out.extend(N.located(p, s) for p in pushes)
            for name, index in self.item_pushes.get(id(s), ()):
                saved = N.call(self.unit.aliases.ref(runtime.item_of, "item_of"), [N.name(name), N.clone(index)])
                out.append(N.located(gast.Expr(value=N.call(N.attr(self.stack(name, "item"), "append"), [saved])), s))
            call = self.info.calls.get(id(s))
            if call is not None:
                out.extend(self.call(s, call))
                continue
            check = adjoints.nondiff_method_check(self.unit, s)
            if check is not None:
                out.append(check)
            out.append(s)
        return out

    def loop(self, s):
        loop = self.info.loops.get(id(s))
        s.body = self.forward(s.body)
        if loop is None or loop.count is None:
            return [s]
        count = loop.count                         # (counting the iterations the backward sweep replays)
        counted = loop.entry if loop.entry is not None else s
        counted.body = [gast.AugAssign(target=N.store(count), op=gast.Add(), value=N.const(1))] + counted.body
        out = [N.located(N.assign(count, N.const(0)), s), s]
        if self.plan.counts.get(id(s)):
            out.append(N.located(self.push(count, kind="count"), s))
        return out

    def call(self, s, call):
        """``y = f(a)`` -> ``y, y_pullback = f_vjp(a)``; a checkpointed call keeps its arguments' generators' states."""
        if call.checkpoint is not None:
            states = N.call(self.unit.aliases.ref(rng_state, "rng_state"), [N.clone(s.value.func)]
                            + [N.clone(a) for a in s.value.args], {k.arg: N.clone(k.value) for k in s.value.keywords})
            return [N.located(N.assign(call.rng, states), s), s]
        target = s.targets[0]
        s.targets = [N.tup([N.as_store(target), N.store(call.pullback)], gast.Store())]
        s.value = gast.Call(func=N.clone(call.func), args=call.lead + s.value.args, keywords=s.value.keywords)
        return [s]

    # --- backward sweep ----------------------------------------------------------------------
    def backward(self, stmts):
        out = []
        for s in stmts:
            if isinstance(s, Restore):
                d = self.plan.decisions[id(s)]
                if d.how in ("push", "shape"):
                    out.append(self.pop(s.name))
                    self.restored.add(s.name)
                if d.how in ("shape", "last"):
                    self.shape_only.add(s.name)
                if d.how == "last":
                    self.last.add(s.name)
                continue
            if isinstance(s, RestoreItem):
                if self.plan.decisions[id(s)].how == "push":
                    popped = N.call(N.attr(self.stack(s.name, "item"), "pop"))
                    args = [N.name(s.name), N.clone(s.index), popped]
                    if self.unit.kind == "vjp":                # a pullback undoes these on its way out
                        from .assemble import REDO
                        args.append(N.name(REDO))
                    out.append(gast.Expr(value=N.call(self.unit.aliases.ref(runtime.put_item, "put_item"), args)))
                    self.written.add(s.name)
                continue
            if isinstance(s, Unappend):
                if self.plan.decisions[id(s)].how == "push":
                    out.append(gast.Expr(value=N.call(N.attr(s.name, "pop"))))
                    self.unappended.add(s.name)
                continue
            if isinstance(s, gast.If):
                s.body = self.backward(s.body)
                s.orelse = self.backward(s.orelse)
                if not _code(s.body) and not _code(s.orelse):
                    continue                                   # nothing left to do on either branch
                s.body = s.body or [gast.Pass()]
            elif isinstance(s, gast.For):
                s.body = self.backward(s.body) or [gast.Pass()]
                loop = self.backward_loops.get(id(s))
                if loop is not None and self.plan.counts.get(id(loop.node)):
                    out.append(self.pop(loop.count, kind="count"))
                if loop is not None:
                    _simplify_header(s, self.unit.discard)
            out.append(s)
        return out

    def maybe_unbound(self, stmts, plan, backward=()):
        """Names the first push or a zero adjoint (``zeros_like(x)``, for its shape) may read before anything
        bound them: an assignment inside a loop or branch may be the first, unless a statement outside every
        loop and branch assigned the name before it (and no ``del`` unbound it since). They start as None.
        (Every other read of the backward sweep reads a value the forward sweep read or assigned there.)"""
        inside, bound = set(), set()
        for s in stmts:
            stored = {n.id for n in N.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
            deleted = {n.id for n in N.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Del)}
            if isinstance(s, (gast.If, gast.For, gast.While)):
                inside |= stored - bound
            if isinstance(s, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.Expr)):
                bound |= stored               # (a statement that surely runs to its end)
            bound -= deleted
        pushed = {name for pushes in self.site_pushes.values() for name, _ in pushes}
        if self.unit.kind == "vjp":
            pushed |= self.last            # the pullback keeps its shape on the way out: bound even with no iteration
        zeros = {n.args[0].id for s in backward for n in N.walk(s) if isinstance(n, gast.Call) and n.args
                 and isinstance(n.args[0], gast.Name) and self.unit.scope.resolve(n.func) is runtime.zeros_like}
        return (pushed | zeros) & inside


def iterate(forward, back, loops, stacks, unit):
    """Stacks read by iterating them reversed, as a person writes it, instead of one pop per value::

        for _ in reversed(t_range):                  for x, _t1_prev in zip(reversed(x_stack), reversed(_t1_stack)):
            x = x_stack.pop()               ->           ...
            ...                                          _t1 = _t1_prev
            _t1 = _t1_stack.pop()

    (a value popped first in the body is bound by the header itself). Returns the stacks so read.

    Sound where ``read_in_order`` holds (with the pop a top-level statement of the backward loop's body).
    """
    uses, in_back = _mentions(forward + back), _mentions(back)     # (iterate keeps every name's count)
    iterated, rotated, counted = set(), set(), set()
    for loop in loops.values():
        if loop.backward is None:
            continue
        pushed = _pushed_every_iteration(loop.replayed())
        body = loop.backward.body
        items = {}                                       # index of the pop in the body -> (name, stack)
        for i, s in enumerate(body):
            stack = _popped(s)
            if stack in stacks and s.targets[0].id != _target(loop) and read_in_order(loop, stack, pushed, uses):
                items[i] = (s.targets[0].id, stack)
        if not items:
            continue
        target, iterable = loop.backward.target, loop.backward.iter
        targets, iterables = [], []
        if isinstance(loop.node, gast.For) and target.id != unit.discard:
            targets.append(target)
            iterables.append(iterable)
        reversed_ = unit.aliases.ref(reversed, "reversed")
        in_loop = _mentions([loop.backward])
        dropped, kept = set(), {}                        # pops dropped, pops replaced by a copy
        for i in sorted(items):
            name, stack = items[i]
            bound = name
            if _names(body[:i], name):                     # the body reads or writes it before the pop
                replayed = loop.replayed()
                site = _push_site(replayed, stack, name)
                if site is not None and rotatable(name, body, i, in_back.get(name, 0), in_loop.get(name, 0)):
                    push = replayed.pop(site - 1)              # push the value the assignment made, not the one before
                    replayed.insert(site, push)
                    rotated.add(name)
                else:
                    bound = unit.namer.derived(name, "prev")
                    kept[i] = N.located(N.assign(name, N.name(bound)), body[i])
            if bound == name:
                dropped.add(i)
            targets.append(N.store(bound))
            iterables.append(N.call(N.clone(reversed_), [N.name(stack)]))
            iterated.add(stack)
        loop.backward.body = [kept.get(i, s) for i, s in enumerate(body) if i not in dropped] or [gast.Pass()]
        if loop.count is not None and not loop.nested:   # the iteration count: a stack's length, not counted
            length = N.call(unit.aliases.ref(len, "len"), [N.name(items[min(items)][1])])
            iterables = [N.replace_reads(it, loop.count, length) for it in iterables]
            counted.add(loop.count)
        if len(targets) == 1:
            loop.backward.target, loop.backward.iter = targets[0], iterables[0]
        else:
            loop.backward.target = N.tup(targets, gast.Store())
            loop.backward.iter = N.call(unit.aliases.ref(zip, "zip"), iterables)
    if counted:
        _drop_counts(forward, counted)
    return iterated, rotated, counted


def _drop_counts(stmts, counts):
    """Take out ``n_count = 0`` and ``n_count += 1`` of counts a stack's length gives (``iterate``): a loop pushing a
    stack once in every iteration it starts (``read_in_order``) counts them as ``n_count += 1`` at the top of its
    body does, so ``len(stack)`` is the count; nothing else reads it."""
    def counting(s):
        target = s.targets[0] if isinstance(s, gast.Assign) and len(s.targets) == 1 else \
            s.target if isinstance(s, gast.AugAssign) else None
        return isinstance(target, gast.Name) and target.id in counts
    for block in N.blocks(stmts):
        block[:] = [s for s in block if not counting(s)]


def rotatable(name, body, i, in_back, in_loop):
    """Soundness condition of pushing the value an assignment made rather than the one it replaced (``iterate``):
    the backward loop's header then binds ``name`` to the iteration's own value, which the body reads until the
    restore point ``body[i]``; after it the old way gave the previous value. Sound when nothing after the
    restore point in the body, and nothing in the backward sweep outside the loop, names ``name`` (it is
    named ``in_back`` times in the whole backward sweep, ``in_loop`` times in the loop)."""
    return not _names(body[i + 1:], name) and in_back == in_loop


def _push_site(stmts, stack, name):
    """The index of the top-level assignment of ``name`` the push of ``stack`` comes right before (with only other
    pushes between), else None."""
    for j, s in enumerate(stmts):
        if _pushes(s) == stack:
            for k in range(j + 1, len(stmts)):
                if _pushes(stmts[k]) is None:
                    stored = stmts[k].targets[0] if isinstance(stmts[k], gast.Assign) and len(stmts[k].targets) == 1 \
                        else None
                    if k == j + 1 and stored is not None and name in _stored_names(stored):
                        return k
                    return None
    return None


def _stored_names(target):
    return {n.id for n in N.walk(target) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)} \
        if isinstance(target, (gast.Name, gast.Tuple, gast.List)) else set()


def _pushes(s):
    """The list ``s`` appends to (``stack.append(v)``), else None."""
    if isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) and isinstance(s.value.func, gast.Attribute) \
            and s.value.func.attr == "append" and isinstance(s.value.func.value, gast.Name):
        return s.value.func.value.id
    return None


def _names(stmts, name):
    return any(isinstance(n, gast.Name) and n.id == name for s in stmts for n in N.walk(s))


def _mentions(stmts):
    counts = {}
    for s in stmts:
        for n in N.walk(s):
            if isinstance(n, gast.Name):
                counts[n.id] = counts.get(n.id, 0) + 1
    return counts


def hoist_pushes(stmts, stacks):
    """Each push of a value (``x_stack.append(x)``) moved up past the assignments before it that do not assign
    ``x``, so that the assignment it stood before can take its temporary's value directly (optimize/fold.py:
    ``x = x + h * (...)``, not ``_t8 = ...; x_stack.append(x); x = _t8``). The same object is pushed: nothing
    between binds ``x`` (a change in place between is seen by both, as the push keeps the object itself)."""
    out = []
    for s in stmts:
        for field_ in ("body", "orelse"):
            inner = getattr(s, field_, None)
            if isinstance(s, (gast.For, gast.While, gast.If)) and inner:
                setattr(s, field_, hoist_pushes(inner, stacks))
        out.append(s)
        value = _pushed_value(s, stacks)
        if value is None:
            continue
        k = len(out) - 1
        while k > 0 and push_passes(out[k - 1], value):
            out[k - 1], out[k] = out[k], out[k - 1]
            k -= 1
    return out


def push_passes(s, value):
    """Soundness condition of ``hoist_pushes`` (tests/test_soundness.py): the push of ``value`` moves up past
    ``s`` only when ``s`` is an assignment that does not bind ``value`` (nor write into it), so the push
    still keeps the object the name held before the assignment it was made for."""
    return isinstance(s, gast.Assign) and value not in _stored_names_of(s)


def _pushed_value(s, stacks):
    """The name ``s`` pushes on a restore stack (``stack.append(x)``, ``stack.append(_s2.shape_of(x))``), else None."""
    if _pushes(s) not in stacks or len(s.value.args) != 1:
        return None
    value = s.value.args[0]
    if isinstance(value, gast.Call) and len(value.args) == 1 and isinstance(value.func, gast.Attribute) \
            and value.func.attr == "shape_of":
        value = value.args[0]
    return value.id if isinstance(value, gast.Name) else None


def _stored_names_of(s):
    return {n.id for t in s.targets for n in N.walk(t) if isinstance(n, gast.Name)}


def read_in_order(loop, stack, pushed, uses):
    """Soundness condition of ``iterate`` (tests/test_soundness.py): the forward loop is inside no other loop,
    pushes ``stack`` in a top-level statement of the block each backward iteration replays (its body, or a
    ``while`` loop's entered branch: ``Loop.replayed``) before anything that may end an iteration early
    (``pushed``: every iteration replayed pushes exactly once), and nothing but that push and the backward
    loop's pop names the stack (``uses``). Then the stack holds one value per backward iteration, the last
    iteration's on top, and the k-th item of its reversed order is what the k-th pop would have given."""
    return not loop.nested and stack in pushed and uses.get(stack) == 2


def _pushed_every_iteration(stmts):
    """The stacks top-level statements of a loop body push before any statement that may end the iteration."""
    pushed = set()
    for s in stmts:
        if any(isinstance(n, (gast.Break, gast.Continue, gast.Return)) for n in N.walk(s)):
            break
        if _pushes(s) is not None:
            pushed.add(_pushes(s))
    return pushed


def _popped(s):
    """The stack ``name = stack.pop()`` pops, else None."""
    if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
            and isinstance(s.value, gast.Call) and not s.value.args and isinstance(s.value.func, gast.Attribute) \
            and s.value.func.attr == "pop" and isinstance(s.value.func.value, gast.Name):
        return s.value.func.value.id
    return None


def _target(loop):
    return getattr(loop.node.target, "id", None) if isinstance(loop.node, gast.For) else None


def read_unbound(stmts, name, bound=False):
    """Soundness condition for leaving out ``x = None`` before a loop whose pushes read ``x`` just after binding
    it (tests/test_soundness.py): whether the backward sweep ``stmts`` reads ``name`` other than inside a
    ``for`` whose header binds it (a read there sees what the header bound, even when the forward loop ran
    no iteration, so never an unbound name)."""
    for s in stmts:
        if isinstance(s, gast.For):
            binds = bound or name in {n.id for n in N.walk(s.target) if isinstance(n, gast.Name)}
            if any(isinstance(n, gast.Name) and n.id == name for n in N.walk(s.iter)) and not bound:
                return True
            if read_unbound(s.body, name, binds) or read_unbound(s.orelse, name, bound):
                return True
        elif isinstance(s, (gast.If, gast.While)):
            test = s.test
            if not bound and any(isinstance(n, gast.Name) and n.id == name for n in N.walk(test)):
                return True
            if read_unbound(s.body, name, bound) or read_unbound(s.orelse, name, bound):
                return True
        elif not bound and any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load)
                               for n in N.walk(s)):
            return True
    return False


def _inside_compound(stmts, node):
    """Whether ``node`` is nested in a branch or loop of ``stmts`` (not a top-level statement)."""
    return not any(s is node for s in stmts)


def _points(stmts):
    for s in stmts:
        if isinstance(s, (Restore, RestoreItem, Unappend)):
            yield s
        for field_ in ("body", "orelse"):
            yield from _points(getattr(s, field_, None) or [])


def _code(stmts):
    return any(not isinstance(s, gast.Pass) and not N.is_comment(s) for s in stmts)


def _simplify_header(loop, discard):
    """``for i in reversed(r)`` whose body never reads ``i``: ``for _ in range(len(r))`` is the same count."""
    index = loop.target.id
    if index == discard or any(isinstance(n, gast.Name) and n.id == index for s in loop.body for n in N.walk(s)):
        return
    loop.target = N.store(discard)
