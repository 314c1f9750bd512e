"""Reverse mode, step one: the backward sweep, as statements with restore points.

The backward sweep walks the forward statements in reverse order and emits, for each, its
adjoint statements (reverse/adjoints.py), then a ``Restore(name, site)``: the point from which on
the backward sweep needs ``name`` as it was *before* ``site`` assigned it. Whether that needs a
stack (a push before ``site`` in the forward sweep, a pop at the restore point) or nothing is
decided afterwards, from what the finished backward sweep reads (analysis/record.py), and put in
place by reverse/realize.py. So at every point of the backward sweep each primal value it reads
is the one the forward sweep had at the matching point, whatever the branches and loops.

Branches are replayed with the same test (a name no statement of the branches assigns, see
front/normalize.py). Loops run their iterations in reverse (``Loop`` below): a ``range`` loop
over its range reversed, other loops a recorded number of times.

Adjoints are *defined* or not: the first contribution to an adjoint assigns it, later ones add
(no zero-initialisation); an assignment of ``y`` consumes ``y_bar`` (the adjoint of the value it
overwrote starts from zero). Where control flow joins with an adjoint defined on one path only,
the other path gets explicit zeros (reading the primal for its shape: a read like any other, so
the record plan keeps what it needs).
"""
from dataclasses import dataclass, field

import gast

from .. import nodes as N
from .. import runtime
from . import adjoints


class Restore(gast.stmt):
    """From here on (in the backward sweep) ``name`` must hold its value from before ``site``."""
    _fields = ()

    def __init__(self, name, site):
        super().__init__()
        self.name, self.site = name, site


class RestoreItem(gast.stmt):
    """From here on ``name[index]`` must hold what it held before ``site`` (``name[index] = v``) wrote it."""
    _fields = ()

    def __init__(self, name, index, site):
        super().__init__()
        self.name, self.index, self.site = name, index, site


class Unappend(gast.stmt):
    """From here on the list ``name`` must be as it was before ``site`` appended to it."""
    _fields = ()

    def __init__(self, name, site):
        super().__init__()
        self.name, self.site = name, site


@dataclass
class Loop:
    """How one forward loop is replayed backward."""
    node: object                 # the forward For/While
    count: str = None            # name of its iteration count (None: the length of its range)
    nested: bool = False         # inside another loop: the count is recorded at each exit
    backward: object = None      # the backward loop (its header gives the loop variable each iteration)
    entry: object = None         # a while loop's ``if c:`` whose body each backward iteration replays (``entered``)

    def replayed(self):
        """The forward block one backward iteration undoes: the loop's body, or the body its test lets in."""
        return self.entry.body if self.entry is not None else self.node.body


@dataclass
class Backward:
    body: list                   # the backward sweep (with Restore/Unappend points)
    defined: set                 # adjoints defined at the function's entry
    calls: dict = field(default_factory=dict)    # id(forward statement) -> adjoints.Call
    loops: dict = field(default_factory=dict)    # id(forward loop) -> Loop
    bars: dict = field(default_factory=dict)     # primal name -> its adjoint's name
    recomputed: dict = field(default_factory=dict)   # primal name -> why it is computed again, not recorded


class Sweep:
    """Builds the backward sweep of one function (reverse/adjoints.py does single statements)."""

    def __init__(self, unit):
        self.unit = unit
        self.active = unit.facts.active
        self.bars = {}               # primal name -> adjoint name
        self.calls = {}              # id(statement) -> adjoints.Call
        self.loops = {}              # id(loop) -> Loop
        self.enclosing = []          # the forward loops around the statement being differentiated
        self.owned = {}              # id(loop) -> adjoints updated in place inside it, copied before it
        self.numbered = set()        # ... of which lists of numbers, written item by item (x_bar[2] += g)
        self.blocks = []             # the forward blocks around the statement being differentiated
        self.emitted = []            # ... and the backward statements emitted for each so far
        self.forward = []            # the forward function's statements (``reads``)
        self._reads = None

    def reads(self, name):
        """The Name nodes reading ``name`` anywhere in the forward function."""
        if self._reads is None:
            self._reads = {}
            for s in self.forward:
                for n in N.walk(s):
                    if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Store):
                        self._reads.setdefault(n.id, []).append(n)
        return self._reads.get(name, ())

    def bar(self, name):
        if name not in self.bars:
            self.bars[name] = self.unit.namer.derived(name, "bar")
        return self.bars[name]

    def own(self, name):
        """Make ``name``'s adjoint a private buffer for an update in place at the current statement: a copy
        made before the outermost enclosing loop that does not assign ``name`` (its adjoint then only
        accumulates inside that loop, keeping the copy's memory), else (assigned in every enclosing loop:
        the adjoint is made afresh each iteration, maybe as another adjoint's alias or a read-only
        broadcast) a copy at the statement itself, returned for the caller to emit (else None)."""
        for loop in self.enclosing:
            if name not in _assigned(loop):
                self.owned.setdefault(id(loop), set()).add(name)
                return None
        owned = self.unit.aliases.ref(runtime.owned, "owned")
        return N.assign(self.bar(name), N.call(owned, [N.name(self.bar(name))]))

    def zeros(self, name):
        """The zero adjoint of ``name`` (reading ``name`` for its shape, unless it is a number)."""
        if name in self.unit.facts.numbers:
            return N.const(0.0)
        return N.call(self.unit.aliases.ref(runtime.zeros_like, "zeros_like"), [N.name(name)])

    # --- blocks ---------------------------------------------------------------------------
    def block(self, stmts, defined):
        """Backward statements of ``stmts`` (in reverse order); updates ``defined`` in place."""
        out = []
        commented = None
        self.blocks.append(stmts)
        self.emitted.append(out)
        for s in reversed(stmts):
            if isinstance(s, gast.If):
                produced = self.branch(s, defined)
            elif isinstance(s, (gast.For, gast.While)):
                produced = self.loop(s, defined)
            elif isinstance(s, gast.Assign):
                produced = adjoints.assign(self, s, defined)
            elif isinstance(s, gast.Expr):
                produced = adjoints.expression(self, s, defined)
            else:                                    # def, break, continue, pass, assert, raise
                produced = []
            code = [p for p in produced if not isinstance(p, (Restore, RestoreItem, Unappend))]
            if code and not isinstance(s, (gast.If, gast.For, gast.While)):
                line = self.unit.source.file_line(s)
                if line != commented:
                    out.append(N.comment(f"grad of line {line}: {self.unit.source.text(s)}"))
                    commented = line
            elif isinstance(s, (gast.If, gast.For, gast.While)):
                commented = None
            out.extend(produced)
        self.blocks.pop()
        self.emitted.pop()
        return out

    def branch(self, s, defined):
        then_defined, else_defined = set(defined), set(defined)
        body = self.block(s.body, then_defined)
        orelse = self.block(s.orelse, else_defined)
        for missing, into in ((then_defined - else_defined, orelse), (else_defined - then_defined, body)):
            for name in sorted(missing):
                into.append(N.assign(self.bar(name), self.zeros(name)))
        defined.clear()
        defined.update(then_defined | else_defined)
        if not body and not orelse:
            return []
        return [N.if_(N.clone(s.test), body or [gast.Pass()], orelse, like=s)]

    def loop(self, s, defined):
        """The backward sweep of a loop: its iterations in reverse."""
        unit = self.unit
        nested = bool(self.enclosing)
        breaks = isinstance(s, gast.While) or _may_break(s.body)
        base = s.target.id if isinstance(s, gast.For) else "loop"
        count = unit.namer.fresh(f"{base}_count") if breaks else None
        self.loops[id(s)] = Loop(node=s, count=count, nested=nested)
        self.enclosing.append(s)
        start = set(defined)
        for _ in range(len(self.active) + 2):        # a fixed point: adjoints carried to the previous iteration
            end = set(start)
            body = self.block(s.body, end)
            if end <= start:
                break
            start |= end
        self.enclosing.pop()
        if isinstance(s, gast.While) and unit.options.iterate and entered(s, body, self.calls, self.reads):
            self.loops[id(s)].entry = s.body[-1]     # count the entries into the test's branch, replay only those
            body = body[0].body
        owned = self.owned.pop(id(s), set())       # adjoints updated in place start as private copies
        numbered = owned & self.numbered           # list adjoints with a number at every item (not tuples)
        before = [N.assign(self.bar(n), self.zeros(n)) for n in sorted(start - defined - numbered)]
        before += [N.assign(self.bar(n), N.call(unit.aliases.ref(runtime.number_zeros, "number_zeros"), [N.name(n)]))
                   for n in sorted((start - defined) & numbered)]
        before += [N.assign(self.bar(n), N.call(unit.aliases.ref(runtime.owned_numbers, "owned_numbers"),
                                                [N.name(self.bar(n))])) for n in sorted(defined & numbered)]
        if (owned - self.numbered) & defined:
            helper = unit.aliases.ref(runtime.owned, "owned")
            before += [N.assign(self.bar(n), N.call(N.clone(helper), [N.name(self.bar(n))]))
                       for n in sorted((owned - self.numbered) & defined)]
        resets = [N.assign(self.bar(n), self.zeros(n)) for n in sorted(start - end)]
        defined.clear()
        defined.update(start)
        reversed_ = unit.aliases.ref(reversed, "reversed")
        if isinstance(s, gast.For):
            header = N.name(s.iter.id)
            if count is not None:
                header = gast.Subscript(value=header, slice=gast.Slice(lower=None, upper=N.name(count), step=None),
                                        ctx=gast.Load())
            target = N.store(s.target.id)
            iterable = N.call(reversed_, [header])
        else:
            target = N.store(unit.discard)
            iterable = N.call(unit.aliases.ref(range, "range"), [N.name(count)])
        back = N.located(gast.For(target=target, iter=iterable, body=(body + resets) or [gast.Pass()], orelse=[],
                                  type_comment=None), s)
        self.loops[id(s)].backward = back
        out = before + [back]
        if isinstance(s, gast.For):
            out.append(Restore(s.target.id, s))
        return out


def run(fn, unit):
    """The backward sweep of the normalized function ``fn`` (its last statement returns the result)."""
    *forward, ret = fn.body
    sweep = Sweep(unit)
    sweep.forward = fn.body
    result = ret.value
    defined = {result.id} if isinstance(result, gast.Name) and result.id in unit.facts.active else set()
    for name in defined | set(unit.wrt_names):
        sweep.bar(name)
    body = sweep.block(forward, defined)          # (restore points even with nothing to differentiate)
    for w in unit.wrt_names:                    # a gradient that nothing flowed into: zeros
        if w not in defined:
            body.append(N.assign(sweep.bar(w), sweep.zeros(w)))
            defined.add(w)
    return Backward(body=body, defined=defined, calls=sweep.calls, loops=sweep.loops, bars=sweep.bars), sweep


def entered(loop, body, calls, reads):
    """Soundness condition of replaying a ``while`` loop's entries into its body only (``Sweep.loop``): the
    normalized ``while True: <c>; if c: B else: break`` (front/normalize.py) runs ``<c>`` once more than ``B``, and
    its backward sweep ``body`` walks every test, ``if c: <B backward>`` then ``<c>``'s restore points. The tests
    can be skipped, the loop counting the entries into ``B`` instead (``for y in reversed(y_stack)``, not
    ``for _t1 in reversed(_t1_stack): if _t1:``), when undoing ``<c>`` asks for nothing: ``body`` is that ``if``
    alone with no ``else`` (no adjoint defined on one branch only), then restore points only; ``<c>`` makes no
    call with a pullback (``calls``), and the names it assigns are read nowhere but in ``<c>`` and the test
    (``reads``: name -> the statements reading it), so no restore point of theirs is needed anywhere."""
    *test, branch = loop.body
    if not (isinstance(branch, gast.If) and isinstance(branch.test, gast.Name) and len(branch.orelse) == 1
            and isinstance(branch.orelse[0], gast.Break)):
        return False
    if not body or not isinstance(body[0], gast.If) or body[0].orelse \
            or not all(isinstance(p, Restore) for p in body[1:]):
        return False
    inside = {id(n) for s in test for n in N.walk(s)} | {id(branch.test)}
    for s in test:
        if not isinstance(s, gast.Assign) or id(s) in calls:
            return False
        for n in N.walk(s.targets[0]):
            if isinstance(n, gast.Name) and any(id(r) not in inside for r in reads(n.id)):
                return False
    return True


def _assigned(loop):
    """The names a forward loop assigns (its variable included)."""
    return {n.id for n in N.walk(loop) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _may_break(stmts):
    """Whether a ``break`` in ``stmts`` (not in a loop inside them) may end their loop early."""
    for st in stmts:
        if isinstance(st, gast.Break):
            return True
        if isinstance(st, gast.If) and (_may_break(st.body) or _may_break(st.orelse)):
            return True
    return False
