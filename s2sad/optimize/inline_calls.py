"""Inline small user functions at their call sites, before differentiation.

Differentiated as a call, ``k1x, k1y = rates(x, y, a)`` gets the helper's own generated
vjp, and every call (every loop iteration) builds a pullback closure that the backward
sweep keeps. Inlined, the helper's operations become the caller's: recorded only where
the backward sweep needs them, and simplified with the rest.

>>> from s2sad.front.normalize import show
>>> from s2sad.unit import unit_for_text
>>> def rates(x, y, a):
...     return a * x - x * y, x * y - y
>>> unit = unit_for_text('''
... def f(x, y, a):
...     k1x, k1y = rates(x, y, a)
...     return k1x + k1y
... ''', {"rates": rates})
>>> unit.fn = unit.owner = lambda: None
>>> Inliner.eligible = lambda self, callee: True      # a doctest's functions count as s2sad's, not a user's
>>> print(show(run(unit.source.tree, unit)))
def f(x, y, a):
    _t1 = a * x
    _t2 = x * y
    k1x = _t1 - _t2
    _t4 = x * y
    k1y = _t4 - y
    return k1x + k1y

What is inlined: a Python function of the user's (no rule registered for it) that lives in
the caller's module (same globals, so its names mean the same there), has no closure, is
neither recursive nor mutually recursive, and is small once normalized. Its parameters become
the call's arguments (``*args`` the tuple and ``**kw`` the dict Python would make of the rest,
keyword-only ones bound by name or to their literal defaults), its locals get fresh
names prefixed with the helper's name, and every inlined statement gets the call's source
location, so the backward sweep's ``# grad of line N`` comment cites the call.
"""
import builtins
import inspect
import types

import gast

from .. import nodes as N
from ..analysis.ops import classify
from ..calls import is_checkpoint, user_function
from ..front import fence, jumps, normalize, source as front_source
from ..front.lift import spreads_into_rest

MAX_STATEMENTS = 60            # lowered statements of a helper, nested ones included


def run(fn, unit):
    """A copy of the normalized, jump-structured FunctionDef ``fn`` with eligible calls inlined (switch ``inline``).

    Sound: the inlined statements compute what the call computed (the helper reads the same
    globals, has no closure, and its names are renamed apart from the caller's).
    """
    inliner = Inliner(unit)
    if inliner.caller is None:
        return fn
    fn = N.clone(fn)
    fn.body = inliner.block(fn.body, (inliner.caller,))
    return fn


class Inliner:
    def __init__(self, unit):
        self.unit = unit
        self.caller = front_source.unwrap(unit.fn) if unit.fn is not None else None
        self.scope = unit.scope
        self.namer = unit.namer
        self._sources = {}                  # callee -> its Source, or None when it cannot be inlined

    def eligible(self, callee):
        """A user function of the caller's module, without closure, not (mutually) recursive."""
        return _user_function(callee) and callee.__globals__ is self.caller.__globals__ \
            and not callee.__closure__ and not _recursive(callee)

    # --- walking the caller --------------------------------------------------------------
    def block(self, stmts, chain):
        out = []
        for s in stmts:
            if isinstance(s, (gast.If, gast.For, gast.While)):
                s.body = self.block(s.body, chain)
                s.orelse = self.block(s.orelse, chain)
            elif isinstance(s, gast.Assign) and isinstance(s.value, gast.Call):
                inlined = self.call(s, chain)
                if inlined is not None:
                    out.extend(inlined)
                    continue
            out.append(s)
        return out

    def call(self, s, chain):
        """The statements replacing ``s``, an assignment of a call, or None to keep the call."""
        op = classify(s.value, self.scope)
        callee = front_source.unwrap(op.primitive) if inspect.isfunction(op.primitive) else None
        if not inspect.isfunction(callee) or callee in chain or not self.eligible(callee) \
                or is_checkpoint(op.primitive):          # s2sad.checkpoint: its intermediates are not to be stored
            return None
        source = self.source_of(callee)
        if source is None:
            return None
        arguments = _bind(callee, op.args, op.kwargs, self.unit.aliases.ref(builtins.tuple, "tuple"))
        if arguments is None:
            return None
        body = self.expand(s, callee, source, arguments)
        if body is None:
            return None
        return self.block(body, chain + (callee,))

    def source_of(self, callee):
        if callee not in self._sources:
            self._sources[callee] = _readable(callee)
        return self._sources[callee]

    # --- one call site ---------------------------------------------------------------------
    def expand(self, s, callee, source, arguments):
        for name in N.all_names(source.tree):
            self.namer.reserve(name)
        source = front_source.Source(fn=callee, tree=N.clone(source.tree), filename=source.filename,
                                     first_line=source.first_line, lines=source.lines)
        sub = _SubUnit(self.unit, source)
        try:
            lowered = jumps.run(normalize.run(source.tree, sub), sub)
        except Exception:                   # noqa: BLE001  (the call is then differentiated as a call)
            return None
        if changes_in_place(source, lowered) or sum(1 for _ in N.statements(lowered.body)) > MAX_STATEMENTS:
            return None
        *body, ret = lowered.body
        if not isinstance(ret, gast.Return) or ret.value is None or any(
                isinstance(n, (gast.Return, gast.FunctionDef, gast.Lambda, gast.Global, gast.Nonlocal, gast.Yield,
                               gast.YieldFrom)) for st in body for n in N.walk(st)):
            return None
        params = [a.id for a in lowered.args.posonlyargs + lowered.args.args + lowered.args.kwonlyargs
                  + [lowered.args.vararg, lowered.args.kwarg] if a is not None]
        written = {n.id for st in body for n in N.walk(st) if isinstance(n, gast.Name)
                   and isinstance(n.ctx, (gast.Store, gast.Del))}
        own = set(params) | set(written)
        if self._shadowed({n.id for st in lowered.body for n in N.walk(st) if isinstance(n, gast.Name)} - own):
            return None
        user_names = N.all_names(self._source_tree(callee))
        renames, prelude = {}, []
        for p in params:
            atom = arguments[p]
            if p in written or not isinstance(atom, (gast.Name, gast.Constant)):
                renames[p] = N.name(self.namer.fresh(f"{callee.__name__}_{p}"))
                prelude.append(N.assign(renames[p].id, N.clone(atom)))
            else:
                renames[p] = atom
        for name in sorted(set(written) - set(params)):
            if name in user_names:                              # the helper's own locals; temporaries are fresh
                renames[name] = N.name(self.namer.fresh(f"{callee.__name__}_{name}"))
        body = [_Rename(renames).visit(st) for st in body]
        result = _Rename(renames).visit(ret.value)
        inlined_locals = {renames[n].id if n in renames else n for n in written}
        body = prelude + body
        body += self.bind_result(s.targets[0], result, body, inlined_locals)
        for st in body:
            for n in N.walk(st):
                if isinstance(n, gast.stmt) or hasattr(n, "lineno"):
                    N.located(n, s)
        return body

    def bind_result(self, target, result, body, inlined_locals):
        """Statements giving ``target`` the helper's result; may rename the helper's locals in ``body``."""
        names_in_body = {n.id for st in body for n in N.walk(st) if isinstance(n, gast.Name)}
        defs = {}
        for st in body:                                     # top-level single assignments
            if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name):
                defs.setdefault(st.targets[0].id, []).append(st)
        counts = {}
        for st in body:
            for n in N.walk(st):
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                    counts[n.id] = counts.get(n.id, 0) + 1

        def renamable(local, new):
            return isinstance(local, gast.Name) and local.id in inlined_locals and new not in names_in_body

        if isinstance(target, gast.Name):
            if renamable(result, target.id):
                _rename_in(body, result.id, target.id)
                return []
            return [N.assign(target.id, result)]
        elts = target.elts if isinstance(target, (gast.Tuple, gast.List)) else None
        pack = defs.get(result.id) if isinstance(result, gast.Name) else None
        if elts and all(isinstance(e, gast.Name) for e in elts) and len({e.id for e in elts}) == len(elts) \
                and pack and len(pack) == 1 and counts.get(result.id) == 1 and body and body[-1] is pack[0] \
                and isinstance(pack[0].value, (gast.Tuple, gast.List)) and len(pack[0].value.elts) == len(elts) \
                and not {e.id for e in elts} & names_in_body - {result.id}:
            body.pop()                                      # ans = (a, b) then k1, k2 = ans: k1 = a, k2 = b
            out = []
            for e, item in zip(elts, pack[0].value.elts):
                if renamable(item, e.id) and counts.get(item.id) == 1 and \
                        sum(1 for x in pack[0].value.elts if isinstance(x, gast.Name) and x.id == item.id) == 1:
                    _rename_in(body, item.id, e.id)
                else:
                    out.append(N.assign(e.id, item))
            return out
        return [gast.Assign(targets=[target], value=result, type_comment=None)]

    def _shadowed(self, free):
        """Whether a name the helper reads from its module is a local or closure variable of the caller's."""
        cells = set(self.caller.__code__.co_freevars)
        return bool(free & (set(self.scope.locals) | cells))

    def _source_tree(self, callee):
        return self._sources[callee].tree


class _Rename(gast.NodeTransformer):
    def __init__(self, renames):
        self.renames = renames

    def visit_Name(self, node):
        new = self.renames.get(node.id)
        if new is None:
            return node
        if isinstance(new, gast.Name):
            return N.name(new.id, node.ctx)
        return N.clone(new)


def _rename_in(stmts, old, new):
    for st in stmts:
        for n in N.walk(st):
            if isinstance(n, gast.Name) and n.id == old:
                n.id = new


def _readable(callee):
    """The helper's Source when it can be inlined (parsed, accepted by the fence), else None."""
    try:
        source = front_source.read(callee)
        fence.run(source)
    except Exception:                       # noqa: BLE001  (left as a call: its own transform reports it)
        return None
    return source


def _bind(callee, args, kwargs, tuple_ref=None):
    """Parameter name -> argument atom (literal defaults filled in), or None when it does not fit (a starred
    argument, ``f(v, *args)``, stands for a number of arguments known only where the code runs, unless the
    arguments before it fill the positional parameters exactly and it lands in ``*rest`` whole: then
    ``rest`` is ``tuple(args)``, as Python makes it)."""
    spread = None
    if tuple_ref is not None and spreads_into_rest(inspect.signature(callee), args, list(kwargs)):
        spread, args = args[-1].value, args[:-1]
    if any(isinstance(a, gast.Starred) for a in args) or None in kwargs:
        return None
    try:
        bound = inspect.signature(callee).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return None
    out = dict(bound.arguments)
    for name, param in inspect.signature(callee).parameters.items():
        if param.kind is inspect.Parameter.VAR_POSITIONAL and spread is not None:
            out[name] = gast.Call(func=N.clone(tuple_ref), args=[N.clone(spread)], keywords=[])
        elif param.kind is inspect.Parameter.VAR_POSITIONAL:      # *args: the tuple Python makes of the rest
            out[name] = gast.Tuple(elts=list(out.get(name, ())), ctx=gast.Load())
        elif param.kind is inspect.Parameter.VAR_KEYWORD:       # **kw: the dict Python makes of the rest
            extra = out.get(name, {})
            out[name] = gast.Dict(keys=[N.const(k) for k in extra], values=list(extra.values()))
        elif name not in out:
            default = param.default
            if default is None or type(default) in (bool, int, float, str):
                out[name] = N.const(default)
            else:
                return None
    if not all(isinstance(a, gast.AST) for a in out.values()):
        return None
    return out


def _user_function(obj):
    return user_function(obj)


def changes_in_place(source, lowered):
    """Whether a helper changes anything in place (``t += ...``, ``t[i] = ...``). Such a helper is not
    inlined (sound only without): changes in place are checked against a function's own statements
    (analysis/effects.py: a callee changing its argument, another name holding the array), which an
    inlined body's statements are not."""
    return bool(source.walked_views or source.walked_updates or source.argument_updates or source.inplace_updates or source.nested_writes
                or any(isinstance(n, gast.Subscript) and isinstance(n.ctx, gast.Store) for n in N.walk(lowered)))


class _SubUnit:
    """What normalize and jumps read of a unit, for a helper being inlined into the caller's."""

    def __init__(self, unit, source):
        self.source, self.scope, self.namer, self.aliases = source, unit.scope, unit.namer, unit.aliases
        self.lifted = {}                  # (a helper with functions defined inside is not inlined)

    def error(self, cls, message, node, hint=None):
        return self.source.error(cls, message, node, hint=hint)


_calls = {}


def _recursive(fn):
    """Whether ``fn`` may call itself again, directly or through other user functions of its module."""
    seen, todo = set(), list(_called(fn))
    while todo:
        g = todo.pop()
        if g is fn:
            return True
        if g not in seen:
            seen.add(g)
            todo.extend(_called(g))
    return False


def _called(fn):
    """The user functions ``fn``'s code names (as globals), unwrapped."""
    key = (fn.__code__, id(fn.__globals__))
    if key not in _calls:
        names, codes = set(), [fn.__code__]
        while codes:
            code = codes.pop()
            names.update(code.co_names)
            codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        found = []
        for name in sorted(names):
            obj = fn.__globals__.get(name)
            if inspect.isfunction(obj):
                obj = front_source.unwrap(obj)
                if inspect.isfunction(obj) and _user_function(obj):
                    found.append(obj)
        _calls[key] = found
    return _calls[key]
