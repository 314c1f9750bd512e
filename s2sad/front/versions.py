"""Give every value its own name, so nothing the backward sweep reads is overwritten.

Outside loops, a name assigned a second time on the same path gets a new
version (``x`` -> ``x_1``); where the branches of an ``if`` end with different
versions, they are merged under one name (the branch that assigned gives its last
version the old name back). The backward sweep can then read most primal values
directly, with no stack.

Inside a loop a name keeps one version: the one current when the loop starts (the
loop overwrites it every iteration anyway; analysis/record.py decides what the
backward sweep needs recorded). Normalization already made sure that no statement
reads the name it assigns.

Sound because a renamed program computes the same values: every read is renamed to
the version its reaching assignment writes (inside a loop, all reaching assignments
write the same version), and where two versions reach one point (after an ``if``) a
copy makes them one. Switch: ``versions`` (options.py).

>>> from s2sad.front.normalize import show
>>> from s2sad.unit import unit_for_text
>>> unit = unit_for_text('''
... def f(x, c):
...     y = x * 2
...     if c:
...         y = y * x
...     x = y + 1
...     return x
... ''')
>>> from s2sad.front import normalize
>>> print(show(run(normalize.run(unit.source.tree, unit), unit)))
def f(x, c):
    y = x * 2
    if c:
        _t1 = y * x
        y = _t1
    x_1 = y + 1
    return x_1
"""
import gast

from .. import nodes as N


def own_targets(fn, unit):
    """``i = x[0]; for i in range(3): ...``: a loop whose target is a name an assignment (or the parameters) also
    writes gets a target of its own, copied into the name first thing in each iteration (``for i_1 in range(3):
    i = i_1``), an assignment like any other in a loop. (The index of a range loop is no value being
    differentiated; written straight into ``i``, which ``i = x[0]`` also writes, it left ``i``'s adjoint flowing
    to ``x[0]`` after the loop had replaced ``i``: a wrong gradient, and a wrong tangent.) A loop that runs no
    iteration leaves the name as it was. Run whether or not ``versions`` is."""
    written = set(N.params(fn)) | {n.id for st in N.statements(fn.body) if isinstance(st, gast.Assign)
                                   for n in N.walk(st.targets[0])
                                   if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    for loop in N.statements(fn.body):
        if isinstance(loop, gast.For) and isinstance(loop.target, gast.Name) and loop.target.id in written:
            user = loop.target.id
            own = unit.namer.fresh(user)
            loop.target = N.located(N.store(own), loop.target)
            loop.body = [N.assign(user, N.name(own), loop)] + list(loop.body)
    return fn


def run(fn, unit):
    """Return a copy of the normalized FunctionDef ``fn`` with single assignment on every path."""
    fn = N.clone(fn)
    args = fn.args
    current = {a.id: a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
    versions = _Versions(unit.namer)
    fn.body, _ = versions.block(fn.body, current)
    for user, names in versions.made.items():      # what each user name became (analysis/effects.py reads it)
        unit.versions.setdefault(user, set()).update(names)
    return fn


class _Versions:
    def __init__(self, namer):
        self.namer = namer
        self.in_loop = 0
        self.made = {}           # user name -> the names its versions got

    def block(self, stmts, current):
        current = dict(current)
        out = []
        for s in stmts:
            if isinstance(s, (gast.For, gast.While)):
                if isinstance(s, gast.For):
                    s.iter = self.load(s.iter, current)
                    self.in_loop += 1
                    s.target = self.store(s.target, current)
                else:
                    self.in_loop += 1
                s.body, current = self.block(s.body, current)
                s.orelse, current = self.block(s.orelse, current)
                self.in_loop -= 1
                out.append(s)
                continue
            if isinstance(s, gast.FunctionDef):
                current[s.name] = s.name                # its body is versioned when it is differentiated
                out.append(s)
                continue
            if isinstance(s, gast.If):
                s.test = self.load(s.test, current)
                body, then_cur = self.block(s.body, current)
                orelse, else_cur = self.block(s.orelse, current)
                current = self.merge(current, body, then_cur, orelse, else_cur)
                s.body, s.orelse = body or [gast.Pass()], orelse
                out.append(s)
                continue
            if isinstance(s, gast.Assign):
                s.value = self.load(s.value, current)
                s.targets = [self.store(t, current) for t in s.targets]
            else:
                for field in ("value", "test", "msg", "exc", "cause"):
                    if getattr(s, field, None) is not None:
                        setattr(s, field, self.load(getattr(s, field), current))
            out.append(s)
        return out, current

    def load(self, expr, current, bound=frozenset()):
        """Reads renamed to their current versions; not a lambda's (or a comprehension's) own names inside it."""
        if isinstance(expr, gast.Lambda):
            args = expr.args
            for d in list(args.defaults) + [d for d in args.kw_defaults if d is not None]:
                self.load(d, current, bound)              # evaluated where the lambda is made
            own = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs} | \
                {a.id for a in (args.vararg, args.kwarg) if a is not None}
            self.load(expr.body, current, bound | own)
            return expr
        if isinstance(expr, (gast.ListComp, gast.SetComp, gast.GeneratorExp, gast.DictComp)):
            bound = bound | {n.id for g in expr.generators for n in N.walk(g.target) if isinstance(n, gast.Name)}
        if isinstance(expr, gast.Name):
            if isinstance(expr.ctx, gast.Load) and expr.id in current and expr.id not in bound:
                expr.id = current[expr.id]
            return expr
        for child in gast.iter_child_nodes(expr):
            self.load(child, current, bound)
        return expr

    def store(self, target, current):
        if isinstance(target, gast.Name):
            user = target.id
            if self.in_loop:                    # every assignment reaching a read in a loop writes one version
                target.id = current.get(user, user)
            else:
                target.id = self.namer.fresh(user) if user in current else user
            current[user] = target.id
            self.made.setdefault(user, set()).add(target.id)
        elif isinstance(target, (gast.Tuple, gast.List)):
            target.elts = [self.store(t, current) for t in target.elts]
        else:                                   # x[i] = v mutates x, it does not rebind it
            self.load(target, current)
        return target

    def merge(self, before, body, then_cur, orelse, else_cur):
        merged = dict(before)
        for user in sorted(set(then_cur) | set(else_cur)):
            v1, v2 = then_cur.get(user), else_cur.get(user)
            if v1 == v2 or v2 is None or v1 is None:
                merged[user] = v1 or v2     # same version, or defined on one path only
                continue
            old = before.get(user)
            # one branch assigned: its last version takes the old name back (a copy of the old value in
            # the other branch would read it where it may not be bound); nothing in that branch reads
            # the old version after the new one is assigned, since reads there refer to the newest
            if v2 == old:
                _rename(body, v1, old)
                merged[user] = old
            elif v1 == old:
                _rename(orelse, v2, old)
                merged[user] = old
            else:                           # both assigned: the else-branch adopts the then-branch's name
                _rename(orelse, v2, v1)
                merged[user] = v1
        return merged


def _rename(stmts, old, new):
    for s in stmts:
        for n in N.walk(s):
            if isinstance(n, gast.Name) and n.id == old:
                n.id = new
