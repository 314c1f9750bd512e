"""Structure jumps so that the backward sweep can mirror the control flow.

After this pass:

- the function has one ``return``, its last statement; an early ``return v`` becomes
  ``ans = v`` with the rest of the function moved into the branches that go on;
- inside a loop, ``break`` and ``continue`` only end a branch: the statements after an
  ``if`` that may jump move into its branches that fall through;
- a ``return`` inside a loop sets a flag and breaks; after the loop, the flag decides;
- ``for ... else`` runs its ``else`` under a flag set by ``break``.

>>> from s2sad.front.normalize import show
>>> from s2sad.unit import unit_for_text
>>> unit = unit_for_text('''
... def f(x, n):
...     for i in n:
...         if x > 3:
...             return x
...         x = x * 2
...     return -x
... ''')
>>> print(show(run(unit.source.tree, unit)))
def f(x, n):
    _returned = False
    for i in n:
        if x > 3:
            ans = x
            _returned = True
            break
        else:
            x = x * 2
    if _returned:
        pass
    else:
        ans = -x
    return ans
"""
import gast

from .. import nodes as N

_LOOPS = (gast.For, gast.While)
_TERMINAL = (gast.Break, gast.Continue, gast.Return)


def run(fn, unit):
    """Return a copy of the normalized FunctionDef ``fn`` with structured jumps."""
    namer = unit.namer
    fn = N.clone(fn)
    body = fn.body
    final = body[-1] if body and isinstance(body[-1], gast.Return) else None
    if final is not None and not _contains(body[:-1], gast.Return) and not _has_loop_jumps(body[:-1]):
        return fn                                         # already structured: the common case
    jumps = _Jumps(namer, _common_result(body))
    body = jumps.loops(body, in_loop=False)
    body = jumps.structure(body)
    fn.body = jumps.single_return(body)
    return fn


def _contains(stmts, kind, into_loops=True):
    for s in stmts:
        for node in _walk_stmts(s, into_loops):
            if isinstance(node, kind):
                return True
    return False


def _walk_stmts(stmt, into_loops=True):
    yield stmt
    if isinstance(stmt, gast.If):
        for s in stmt.body + stmt.orelse:
            yield from _walk_stmts(s, into_loops)
    elif isinstance(stmt, _LOOPS) and into_loops:
        for s in stmt.body + stmt.orelse:
            yield from _walk_stmts(s, into_loops)


def _has_loop_jumps(stmts):
    """Whether a break/continue, or a loop's else clause, needs structuring."""
    return any(isinstance(s, (gast.Break, gast.Continue)) or isinstance(s, _LOOPS) and s.orelse
               for st in stmts for s in _walk_stmts(st))


def may_jump(stmts):
    """Whether ``stmts`` contain a break/continue/return that leaves this block (not an inner loop's)."""
    return _contains(stmts, _TERMINAL, into_loops=False)


def falls_through(stmts):
    if not stmts:
        return True
    last = stmts[-1]
    if isinstance(last, _TERMINAL):
        return False
    if isinstance(last, gast.If):
        return falls_through(last.body) or falls_through(last.orelse)
    return True


def _common_result(stmts):
    """The name every ``return`` returns, if they all return the same name."""
    values = {n.value.id if isinstance(n.value, gast.Name) else None
              for s in stmts for n in N.walk(s) if isinstance(n, gast.Return)}
    return values.pop() if len(values) == 1 else None


class _Jumps:
    def __init__(self, namer, result=None):
        self.namer = namer
        self.result = result
        self.returned = None

    def result_name(self):
        if self.result is None:
            self.result = self.namer.fresh("ans")
        return self.result

    # --- phase 1: returns and else-clauses of loops -----------------------------------------
    def loops(self, stmts, in_loop):
        out = []
        for s in stmts:
            if isinstance(s, gast.If):
                s.body = self.loops(s.body, in_loop)
                s.orelse = self.loops(s.orelse, in_loop)
            elif isinstance(s, _LOOPS):
                out.extend(self.loop(s, in_loop))
                continue
            elif isinstance(s, gast.Return) and in_loop:
                out.extend(self.return_from_loop(s))
                continue
            out.append(s)
        return out

    def loop(self, s, in_loop):
        before, after = [], []
        s.body = self.loops(s.body, in_loop=True)
        if s.orelse:
            orelse = self.loops(s.orelse, in_loop)
            s.orelse = []
            if _contains(s.body, gast.Break, into_loops=False):
                broke = self.namer.fresh("_broke")
                before.append(N.located(N.assign(broke, N.const(False)), s))
                _mark_breaks(s.body, broke)
                after.append(N.if_(N.name(broke), [gast.Pass()], orelse, like=s))
            else:
                after.extend(orelse)
        if self.returned is not None and _sets(s.body, self.returned):
            before.append(N.located(N.assign(self.returned, N.const(False)), s))
            exit_ = [gast.Break()] if in_loop else [N.ret(N.name(self.result_name()))]
            after.insert(0, N.if_(N.name(self.returned), exit_, [], like=s))
        return before + [s] + after

    def return_from_loop(self, s):
        if self.returned is None:
            self.returned = self.namer.fresh("_returned")
        result = self.result_name()
        out = []
        if not N.is_name(s.value, result):
            out.append(N.located(N.assign(result, s.value), s))
        out += [N.located(N.assign(self.returned, N.const(True)), s), gast.Break()]
        return out

    # --- phase 2: what follows a jump moves into the branches that go on ---------------------
    def structure(self, stmts):
        out = []
        for i, s in enumerate(stmts):
            if isinstance(s, _TERMINAL):
                out.append(s)
                return out                                  # the rest is unreachable
            if isinstance(s, _LOOPS):
                s.body = self.structure(s.body)
            if isinstance(s, gast.If):
                s.body = self.structure(s.body)
                s.orelse = self.structure(s.orelse)
                rest = stmts[i + 1:]
                if rest and (may_jump(s.body) or may_jump(s.orelse)):
                    out.extend(self.push_rest(s, self.structure(rest)))
                    return out
            out.append(s)
        return out

    def push_rest(self, s, rest):
        """``if t: A else: B`` followed by ``rest``, where a branch may jump: ``rest`` moves to the end of
        every path through the branches that falls through (into nested ``if``s too). Returns the
        statements replacing ``s`` (the test is copied first when ``rest`` assigns it: the backward
        sweep reads the test after the branches)."""
        out = []
        if isinstance(s.test, gast.Name) and s.test.id in _stores(rest):
            copy = self.namer.temp()
            out.append(N.located(N.assign(copy, N.name(s.test.id)), s))
            s.test = N.name(copy)
        s.body = self.append(s.body, rest) or [gast.Pass()]
        s.orelse = self.append(s.orelse, rest)
        return out + [s]

    def append(self, block, rest):
        if not falls_through(block):
            return block
        if block and isinstance(block[-1], gast.If) and (may_jump(block[-1].body) or may_jump(block[-1].orelse)):
            return block[:-1] + self.push_rest(block[-1], rest)
        return _drop_pass(block) + N.clone(rest)

    # --- phase 3: one return, at the end -------------------------------------------------------
    def single_return(self, stmts):
        result = self.result_name()
        body = _returns_to_assignments(stmts, result)
        return body + [N.ret(N.name(result))]


def _stores(stmts):
    return {n.id for s in stmts for n in N.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _drop_pass(stmts):
    return [s for s in stmts if not isinstance(s, gast.Pass)]


def _sets(stmts, flag):
    return any(isinstance(n, gast.Name) and n.id == flag and isinstance(n.ctx, gast.Store)
               for s in stmts for n in N.walk(s))


def _mark_breaks(stmts, flag):
    """Insert ``flag = True`` before each break that leaves this loop."""
    for s in stmts:
        if isinstance(s, gast.If):
            _mark_breaks(s.body, flag)
            _mark_breaks(s.orelse, flag)
    top = [k for k, s in enumerate(stmts) if isinstance(s, gast.Break)]
    for k in reversed(top):
        stmts.insert(k, N.assign(flag, N.const(True)))


def _returns_to_assignments(stmts, result):
    out = []
    for s in stmts:
        if isinstance(s, gast.Return):
            if not N.is_name(s.value, result):
                out.append(N.located(N.assign(result, s.value), s))
            return out
        if isinstance(s, gast.If):
            s.body = _returns_to_assignments(s.body, result) or [gast.Pass()]
            s.orelse = _returns_to_assignments(s.orelse, result)
        elif isinstance(s, _LOOPS):
            s.body = _returns_to_assignments(s.body, result)
        out.append(s)
    return out
