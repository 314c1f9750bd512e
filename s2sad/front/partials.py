"""``g = functools.partial(F, a, k=b)`` whose calls are all in sight: the arguments become locals and each
call of ``g`` a call of ``F``::

    g = functools.partial(model, w)              _g_0 = w
    y = g(x) + sum(map(g, data))         ->      y = model(_g_0, x) + sum(map(lambda _g_m0: model(_g_0, _g_m0), data))

so that a partial over a differentiated value is differentiated like a closure (front/lift.py): the values
it holds are ordinary locals, read at each call.

Sound when (``_rewritable``):

- ``g`` is bound once in the function, by this statement (not a parameter, not bound in a loop header,
  a nested function or a comprehension), so at every call ``g`` is the partial the statement made last,
  whose arguments are the values the locals ``_g_*`` got with it (they are bound where ``g`` was, and
  nowhere else);
- every use of ``g`` is a call ``g(...)`` without ``*``/``**``, or the function of ``map(g, xs, ...)``
  (which calls it with one item of each iterable), anywhere in the function, nested functions included;
- ``F`` is a module-level name (or a dotted name through modules) or a function defined once in this
  function: it means the same object at every call as when the partial was made;
- the partial is made without ``*``/``**``.

``partial(F, *a, **k)(*c, **d)`` is ``F(*a, *c, **{**k, **d})``: a keyword given at the call replaces the
partial's. Anything else is left alone (a partial over a differentiated value is then refused where it
is called, calls.refuse_varied_callee).
"""
import builtins
import functools

import gast

from .. import nodes as N

__all__ = ["run"]


def _is_partial(node, scope):
    return isinstance(node, gast.Call) and scope.resolve(node.func) is functools.partial and node.args \
        and not any(isinstance(a, gast.Starred) for a in node.args) and all(k.arg is not None for k in node.keywords)


def _root(node):
    while isinstance(node, gast.Attribute):
        node = node.value
    return node


def _blocks(stmts):
    yield stmts
    for s in stmts:
        if isinstance(s, (gast.If, gast.For, gast.While)):
            yield from _blocks(s.body)
            yield from _blocks(s.orelse)


def _bound_once(tree, name, s):
    """Whether the assignment ``s`` is the only binding of ``name`` in ``tree`` (nested functions included)."""
    stores = [n for n in N.walk(tree) if isinstance(n, gast.Name) and n.id == name
              and not isinstance(n.ctx, gast.Load)]
    defs = [n for n in N.walk(tree) if isinstance(n, gast.FunctionDef) and n is not tree and n.name == name]
    return len(stores) == 1 and stores[0] is s.targets[0] and not defs


def _rewritable(tree, unit, s):
    """The name the partial made by statement ``s`` is bound to, when the rewrite is sound (module docstring)."""
    if not (isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name)
            and _is_partial(s.value, unit.scope)):
        return None
    name = s.targets[0].id
    params = {a.id for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs
              + [tree.args.vararg, tree.args.kwarg] if a is not None}
    if name in params:
        return None
    if not _bound_once(tree, name, s):
        return None
    fn = s.value.args[0]
    root = _root(fn)
    if not isinstance(root, gast.Name) or (isinstance(fn, gast.Attribute) and not unit.scope.is_free(root.id)):
        return None
    if not unit.scope.is_free(root.id) or root.id in params:     # a local: a function defined once here
        local_defs = [n for n in N.walk(tree) if isinstance(n, gast.FunctionDef) and n is not tree
                      and n.name == root.id]
        bound = [n for n in N.walk(tree) if isinstance(n, gast.Name) and n.id == root.id
                 and not isinstance(n.ctx, gast.Load)]
        if root.id in params or len(local_defs) != 1 or bound:
            return None
    calls = {id(n.func) for n in N.walk(tree) if isinstance(n, gast.Call) and isinstance(n.func, gast.Name)
             and n.func.id == name and not any(isinstance(a, gast.Starred) for a in n.args)
             and all(k.arg is not None for k in n.keywords)}
    mapped = {id(n.args[0]) for n in N.walk(tree) if isinstance(n, gast.Call) and len(n.args) >= 2
              and not n.keywords and unit.scope.resolve(n.func) is builtins.map
              and isinstance(n.args[0], gast.Name) and n.args[0].id == name
              and not any(isinstance(a, gast.Starred) for a in n.args)}
    loads = [n for n in N.walk(tree) if isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load)]
    if not all(id(n) in calls or id(n) in mapped for n in loads):
        return None
    return name


class _Calls(gast.NodeTransformer):
    """``g(c, d=e)`` -> ``F(_g_0, c, k=_g_k, d=e)``; ``map(g, xs)`` -> ``map(lambda _g_m0: F(_g_0, _g_m0, ...), xs)``."""

    def __init__(self, name, fn, positional, keywords, fresh):
        self.name, self.fn, self.positional, self.keywords, self.fresh = name, fn, positional, keywords, fresh

    def call(self, args, keywords, like):
        given = {k.arg for k in keywords}
        kws = [gast.keyword(arg=k, value=N.name(v)) for k, v in self.keywords if k not in given]
        return N.located(gast.Call(func=N.clone(self.fn), args=[N.name(v) for v in self.positional] + args,
                                   keywords=kws + keywords), like)

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, gast.Name) and node.func.id == self.name:
            return self.call(node.args, node.keywords, node)
        if len(node.args) >= 2 and isinstance(node.args[0], gast.Name) and node.args[0].id == self.name:
            params = [self.fresh(f"{self.name}_m{k}") for k in range(len(node.args) - 1)]
            body = self.call([N.name(p) for p in params], [], node)
            lam = gast.Lambda(args=gast.arguments(args=[N.name(p, gast.Param()) for p in params], posonlyargs=[],
                                                  vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                                                  defaults=[]), body=body)
            node.args[0] = N.located(lam, node)
        return node


_SCOPES = (gast.Lambda, gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp, gast.IfExp, gast.BoolOp)


def _hoist(tree, unit):
    """``sum(map(functools.partial(F, a), xs))`` -> ``_p = functools.partial(F, a)`` just before the statement,
    then ``sum(map(_p, xs))``: when the partial's arguments are names and constants (evaluating them earlier
    gives the same values: nothing in between runs) and the ``map`` runs whenever the statement does (not
    inside a lambda, a comprehension or a conditional expression)."""
    def simple(e):
        return isinstance(e, gast.Name) or N.is_const(e)

    def inside(node, found, under):
        for child in gast.iter_child_nodes(node):
            if isinstance(child, gast.Call) and not under and unit.scope.resolve(child.func) is builtins.map \
                    and len(child.args) >= 2 and _is_partial(child.args[0], unit.scope) \
                    and all(simple(a) for a in child.args[0].args[1:]) \
                    and all(simple(k.value) for k in child.args[0].keywords):
                found.append(child)
            inside(child, found, under or isinstance(child, _SCOPES))
        return found
    for stmts in list(_blocks(tree.body)):
        k = 0
        while k < len(stmts):
            s = stmts[k]
            found = inside(s, [], False) if isinstance(s, (gast.Assign, gast.Return, gast.Expr, gast.AugAssign)) else []
            for call in found:
                local = unit.namer.fresh("_partial")
                stmts.insert(k, N.assign(local, call.args[0], s))
                call.args[0] = N.located(N.name(local), call)
                k += 1
            k += 1


def run(tree, unit):
    """Rewrite the partials of ``tree`` (a function) that ``_rewritable`` allows; the tree is changed in place
    (the caller passes a clone), and returned."""
    _hoist(tree, unit)
    for stmts in list(_blocks(tree.body)):
        k = 0
        while k < len(stmts):
            s = stmts[k]
            name = _rewritable(tree, unit, s)
            if name is None:
                k += 1
                continue
            call = s.value
            positional, keywords, assigns = [], [], []
            for j, a in enumerate(call.args[1:]):
                local = unit.namer.fresh(f"_{name}_{j}")
                positional.append(local)
                assigns.append(N.assign(local, a, s))
            for kw in call.keywords:
                local = unit.namer.fresh(f"_{name}_{kw.arg}")
                keywords.append((kw.arg, local))
                assigns.append(N.assign(local, kw.value, s))
            stmts[k:k + 1] = assigns
            rewriter = _Calls(name, call.args[0], positional, keywords, unit.namer.fresh)
            for i, st in enumerate(tree.body):
                tree.body[i] = rewriter.visit(st)
            k += len(assigns)
    return tree
