"""Functions defined inside the differentiated function: every outer local they read becomes a parameter.

A nested function reads its enclosing function's variables when it is *called*; passing their
values at each call site computes the same thing (lambda lifting)::

    a = x * 2                            a = x * 2
    def g(t):                    ->      def g(t, a, c):
        return t * a + c                     return t * a + c
    y = g(x) + g(1.0)                    y = g(x, a, c) + g(1.0, a, c)

The lifted function reads no local of the enclosing one, so it can be differentiated on its
own, like a module-level function (its generated code reads the enclosing function's globals
and closure cells), and the variables it reads are ordinary arguments at each call: their
derivatives flow back through the call, and renaming (front/versions.py) sees every read.
A call site also passes every default explicitly, evaluated where the function is defined.

Sound for direct calls (``g(...)``), to any depth of nesting and recursion: a lifted
function reads the same values its closure would have, since nothing assigns an enclosing
variable while a nested function runs (``nonlocal`` is refused by the fence). A nested
function used as a value (passed on, stored, returned) is refused when it reads outer
locals: its calls elsewhere could not be given them.

>>> from s2sad.front.normalize import show
>>> from s2sad.unit import unit_for_text
>>> unit = unit_for_text('''
... def f(x, c):
...     a = x * 2
...     def g(t, k=2.0):
...         return t * a + c * k
...     return g(x) + g(1.0, k=3.0)
... ''')
>>> print(show(run(unit.source.tree, unit)))
def f(x, c):
    a = x * 2
<BLANKLINE>
    def g(t, k, a, c):
        return t * a + c * k
    return g(x, 2.0, a, c) + g(1.0, 3.0, a, c)
>>> sorted(unit.lifted)
['g']
"""
import builtins
import inspect
from dataclasses import dataclass

import gast

from .. import nodes as N
from ..errors import UnsupportedSyntaxError
from .resolve import assigned_names

__all__ = ["run", "Lifted"]


@dataclass
class Lifted:
    """A function defined inside the differentiated one, after lifting."""
    node: gast.FunctionDef          # the lifted definition (its extra parameters last)
    params: list                    # its own positional parameters, then the lifted ones
    extra: list                     # the enclosing function's locals it reads, passed at each call


def run(tree, unit):
    """Lift the functions defined in ``tree``'s blocks; records them in ``unit.lifted``.

    Functions defined inside those are lifted in turn when their parent is differentiated.
    """
    from . import modules, partials
    tree = modules.run(tree, unit)                     # xp = np; xp.sum(x) -> np.sum(x)
    if any(isinstance(n, gast.Call) and partials._is_partial(n, unit.scope) for n in N.walk(tree)):
        tree = partials.run(N.clone(tree), unit)       # functools.partial(F, a)(x) -> F(a, x) where all calls are seen
    if not any(isinstance(s, gast.FunctionDef) or _is_lambda(s) for s in _block_statements(tree.body)):
        return tree
    tree = N.clone(tree)
    tree.body = _lambdas_to_defs(tree.body)
    _rename_redefinitions(tree, unit)
    found = [s for s in _block_statements(tree.body) if isinstance(s, gast.FunctionDef)]
    defs = {s.name: s for s in found}
    if len(defs) != len(found):
        raise unit.error(UnsupportedSyntaxError, "two functions of the same name defined in one function", found[-1],
                         hint="give each function its own name")
    rebound = sorted(_bound_otherwise(tree) & set(defs))
    if rebound:                      # `for act in fns: act(x)` beside `def act(...)`: which one a call means varies
        node = defs[rebound[0]]
        raise unit.error(UnsupportedSyntaxError, f"`{rebound[0]}` names the function defined here and is also "
                         f"assigned in this function", node, hint="give the function its own name")
    tree.body = [_Mapped(unit, set(defs)).visit(s) for s in tree.body]    # map(g, xs): calls of g
    outer = assigned_names(tree) - set(defs)
    # The outer locals each one reads, with those of the nested functions it calls (a fixed point).
    reads = {name: set(_free(node) & outer) for name, node in defs.items()}
    calls = {name: _free(node) & set(defs) for name, node in defs.items()}
    recursive = sorted(name for name, node in defs.items() if name in N.free_loads(node))
    if recursive:                    # (lifted, its calls of itself would name a local of the enclosing function)
        raise unit.error(UnsupportedSyntaxError, f"the function `{recursive[0]}` defined here calls itself",
                         defs[recursive[0]], hint="define it at module level (recursion is differentiated there), "
                                                  "passing what it reads from this function as arguments")
    changed = True
    while changed:
        changed = False
        for name in defs:
            more = reads[name].union(*[reads[c] for c in calls[name]])
            if more != reads[name]:
                reads[name] = more
                changed = True
    reads = {name: sorted(r) for name, r in reads.items()}
    for name, node in defs.items():
        shadowed = sorted(assigned_names(node) & set(defs))
        params = {a.id for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                  + [node.args.vararg, node.args.kwarg] if a is not None}
        if shadowed and not set(shadowed) & params:   # inside it, `phi(t)` means its own local: renamed
            _rename_locals(node, {old: unit.namer.fresh(old) for old in shadowed})
            shadowed = []
        if shadowed:                 # a parameter named like the function lifted beside it (callers may name it)
            what = "its own name" if shadowed[0] == name else "the name of a function defined beside it"
            raise unit.error(UnsupportedSyntaxError, f"the function `{name}` defined here gives `{shadowed[0]}`, "
                             f"{what}, another meaning inside it", node,
                             hint=f"rename the parameter `{shadowed[0]}` of `{name}`")
        _check(unit, node)
        _refuse_escapes(unit, tree, name, reads[name], _packs(node))
        hidden = sorted(set(reads[name]) & N.local_names(node))
        if hidden:                    # its own `u` would be passed where a callee needs the enclosing `u`
            raise unit.error(UnsupportedSyntaxError, f"the function `{name}` defined here has its own `{hidden[0]}` "
                             f"and calls a function that reads the enclosing `{hidden[0]}`", node,
                             hint=f"rename the parameter or local `{hidden[0]}` of `{name}`")
    rewriter = _Calls(unit, defs, reads, {name: _signature(node) for name, node in defs.items()})
    tree.body = [rewriter.visit(s) for s in tree.body]          # every call, nested definitions' included
    for name, node in defs.items():
        packed = [N.name(a.id, gast.Param()) for a in (node.args.vararg, node.args.kwarg) if a is not None]
        node.args.args = node.args.posonlyargs + node.args.args + packed + [N.name(e, gast.Param()) for e in reads[name]]
        node.args.posonlyargs = []
        node.args.vararg = node.args.kwarg = None       # *args: a tuple, **kwargs: a dict, packed at each call
        node.args.defaults = []
        unit.lifted[name] = Lifted(node=node, params=[a.id for a in node.args.args], extra=list(reads[name]))
    return tree


def spreads_into_rest(signature, args, keywords):
    """Whether a call's last argument ``*rest`` (``args``: its positional arguments, ``keywords``: the names it
    passes by keyword, None for ``**``) lands in the callee's ``*args`` whole, as ``tuple(rest)``: the other
    positional arguments fill exactly the positional parameters before it, none is starred, and no keyword
    names a positional parameter."""
    params = list(signature.parameters.values())
    positional = {p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)}
    return bool(args) and isinstance(args[-1], gast.Starred) and any(p.kind is p.VAR_POSITIONAL for p in params) \
        and len(args) - 1 == len(positional) and not any(isinstance(a, gast.Starred) for a in args[:-1]) \
        and not any(k is None or k in positional for k in keywords)


def _rename_locals(node, renamed):
    """Rename the locals ``renamed`` (old -> new) throughout the body of the function ``node`` (functions defined
    inside it too): a name assigned in a function is its local everywhere in it, so every occurrence means it."""
    for stmt in node.body:
        for n in N.walk(stmt):
            if isinstance(n, gast.Name) and n.id in renamed:
                n.id = renamed[n.id]
            elif isinstance(n, gast.FunctionDef) and n.name in renamed:
                n.name = renamed[n.name]


def _rename_redefinitions(tree, unit):
    """``def g`` (or ``g = lambda ...``) more than once: each one in the function's own body (not inside a branch
    or loop) is a new function from there on, so it gets a fresh name (``g_1``), and so do the calls after it,
    up to the next statement that may define ``g`` again. Refused where a call could mean either of two: after
    a ``def g`` in a branch or loop that follows one in the body, or inside that statement; and a function
    defined inside that reads a redefined name (it would see whichever is bound when it runs)."""
    names = [s.name for s in _block_statements(tree.body) if isinstance(s, gast.FunctionDef)]
    redefined = {n for n in names if names.count(n) > 1}
    if not redefined:
        return
    read = {n.id for n in N.walk(tree) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    for s in _block_statements(tree.body):          # never called nor read: each its own name, wherever it is
        if isinstance(s, gast.FunctionDef) and s.name in redefined - read:
            s.name = unit.namer.fresh(s.name)
    redefined &= read
    if not redefined:
        return
    for s in _block_statements(tree.body):
        if isinstance(s, gast.FunctionDef) and N.free_loads(s) & redefined:
            name = sorted(N.free_loads(s) & redefined)[0]
            raise unit.error(UnsupportedSyntaxError, f"the function `{s.name}` defined here calls `{name}`, which "
                             f"is defined twice in this function", s, hint="give each function its own name")
    current, ambiguous = {}, {}
    for s in tree.body:
        if isinstance(s, gast.FunctionDef):
            if s.name in redefined:
                ambiguous.pop(s.name, None)
                current[s.name] = unit.namer.fresh(s.name)
                s.name = current[s.name]
            continue
        inside = {d.name for d in _block_statements([s]) if isinstance(d, gast.FunctionDef)} & redefined
        loads = [n for n in N.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)]
        for n in loads:
            if n.id in ambiguous or n.id in inside and n.id in current:
                raise unit.error(UnsupportedSyntaxError, f"`{n.id}` may mean either of two functions defined in "
                                 f"this function here", ambiguous.get(n.id, s), hint="give each function its own name")
            if n.id in current and n.id not in inside:
                n.id = current[n.id]
        for name in inside:
            if name in current:
                ambiguous[name] = s
                del current[name]


def _bound_otherwise(tree):
    """The names ``tree``'s body binds other than by ``def`` (parameters, assignments, loop targets,
    imports), outside the functions defined in it."""
    names = {a.id for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs
             + [tree.args.vararg, tree.args.kwarg] if a is not None}
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (gast.FunctionDef, gast.ClassDef, gast.Lambda)):
            continue
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            names.add(node.id)
        elif isinstance(node, (gast.Import, gast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        stack.extend(gast.iter_child_nodes(node))
    return names


def _is_lambda(s):
    return isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
        and isinstance(s.value, gast.Lambda)


def _lambdas_to_defs(stmts):
    """``f = lambda x: e``  ->  ``def f(x): return e`` (in every block)."""
    out = []
    for s in stmts:
        if _is_lambda(s):
            lam = s.value
            ret = N.located(gast.Return(value=lam.body), s)
            s = N.located(gast.FunctionDef(name=s.targets[0].id, args=lam.args, body=[ret], decorator_list=[],
                                           returns=None, type_comment=None, type_params=[]), s)
        elif isinstance(s, (gast.If, gast.For, gast.While)):
            s.body = _lambdas_to_defs(s.body)
            s.orelse = _lambdas_to_defs(s.orelse)
        out.append(s)
    return out


def _block_statements(stmts):
    """Statements of the function's blocks (branches and loops), not those of functions defined there."""
    for s in stmts:
        yield s
        if isinstance(s, (gast.If, gast.For, gast.While)):
            yield from _block_statements(s.body)
            yield from _block_statements(s.orelse)


def _free(node):
    """The names a function definition reads from outside itself (nested definitions included)."""
    return N.free_loads(node) - {node.name}


def _check(unit, node):
    args = node.args
    if args.kwonlyargs:
        raise unit.error(UnsupportedSyntaxError, f"the function `{node.name}` defined here has keyword-only "
                         "parameters", node, hint="give it plain positional parameters (`*args` and `**kwargs` work)")
    for d in args.defaults:
        if not N.is_const(d) or type(d.value) not in (int, float, bool, str, type(None)):
            raise unit.error(UnsupportedSyntaxError, f"the function `{node.name}` defined here has a default that is "
                             "not a literal", node, hint="pass the value at each call, or use a literal default")


def _signature(node):
    positional = [a.id for a in node.args.posonlyargs + node.args.args]
    defaults = dict(zip(positional[len(positional) - len(node.args.defaults):], node.args.defaults))
    params = [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                default=defaults[p].value if p in defaults else inspect.Parameter.empty)
              for p in positional]
    if node.args.vararg is not None:
        params.append(inspect.Parameter(node.args.vararg.id, inspect.Parameter.VAR_POSITIONAL))
    if node.args.kwarg is not None:
        params.append(inspect.Parameter(node.args.kwarg.id, inspect.Parameter.VAR_KEYWORD))
    return inspect.Signature(params)


def _packs(node):
    """Whether the function ``node`` has ``*args`` or ``**kwargs`` (lifted: a tuple and a dict parameter)."""
    return node.args.vararg is not None or node.args.kwarg is not None


def _refuse_escapes(unit, tree, name, extra, packs=False):
    """A nested function reading outer locals may only be called directly; so may one with ``*args`` or
    ``**kwargs``, which its lifted form takes as a tuple and a dict that only a direct call packs."""
    if not extra and not packs:
        return
    called = {id(n.func) for n in N.walk(tree) if isinstance(n, gast.Call)}
    for n in N.walk(tree):
        if isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load) and id(n) not in called:
            where = next((s for s in N.statements(tree.body) if any(m is n for m in N.walk(s))), tree)
            if not extra:
                raise unit.error(UnsupportedSyntaxError, f"the function `{name}` defined here has `*args` or "
                                 f"`**kwargs` and is used as a value, not called", where,
                                 hint=f"call `{name}` directly, or give it plain parameters")
            raise unit.error(UnsupportedSyntaxError, f"the function `{name}` defined here reads `{extra[0]}` of the "
                             f"enclosing function and is used as a value, not called", where,
                             hint=f"call `{name}` directly, or pass `{extra[0]}` to it as an argument")


class _Mapped(gast.NodeTransformer):
    """``map(g, xs, ys)`` -> ``map(lambda _g_m0, _g_m1: g(_g_m0, _g_m1), xs, ys)`` for a function ``g`` defined here:
    the same calls, each a direct call (lifted like any other), where ``g`` itself as a value could not be
    given the outer locals it reads. ``g`` is bound once (by its ``def``: checked before), so the lambda's
    ``g`` is the function ``map`` was given."""

    def __init__(self, unit, names):
        self.unit, self.names = unit, names

    def visit_Call(self, node):
        self.generic_visit(node)
        if len(node.args) >= 2 and not node.keywords and isinstance(node.args[0], gast.Name) \
                and node.args[0].id in self.names and not any(isinstance(a, gast.Starred) for a in node.args) \
                and self.unit.scope.resolve(node.func) is builtins.map:
            name = node.args[0].id
            params = [self.unit.namer.fresh(f"_{name}_m{k}") for k in range(len(node.args) - 1)]
            call = N.located(gast.Call(func=N.name(name), args=[N.name(p) for p in params], keywords=[]), node)
            lam = gast.Lambda(args=gast.arguments(args=[N.name(p, gast.Param()) for p in params], posonlyargs=[],
                                                  vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                                                  defaults=[]), body=call)
            node.args[0] = N.located(lam, node)
        return node


class _Calls(gast.NodeTransformer):
    """``g(a, k=b)`` -> ``g(a, b, <g's outer locals>)``: every parameter passed by position; ``g(a, *rest)`` into
    ``def g(t, *more)`` passes ``tuple(rest)`` as ``more``."""

    def __init__(self, unit, defs, reads, signatures):
        self.unit, self.defs, self.reads, self.signatures = unit, defs, reads, signatures

    def visit_Call(self, node):
        self.generic_visit(node)
        if not (isinstance(node.func, gast.Name) and node.func.id in self.defs):
            return node
        name = node.func.id
        signature = self.signatures[name]
        spread = None
        if spreads_into_rest(signature, node.args, [k.arg for k in node.keywords]):
            spread = node.args[-1].value              # g(a, *rest) for def g(t, *more): more = tuple(rest)
            node = gast.Call(func=node.func, args=node.args[:-1], keywords=node.keywords)
        if any(isinstance(a, gast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise self.unit.error(UnsupportedSyntaxError, f"`*args`/`**kwargs` in a call of the function `{name}` "
                                  "defined here", node, hint="pass the arguments one by one, or spread `*` into "
                                  "its `*args` only after its other positional parameters")
        try:
            bound = signature.bind(*node.args, **{k.arg: k.value for k in node.keywords})
        except TypeError as exc:
            raise self.unit.error(UnsupportedSyntaxError, f"cannot call `{name}` this way: {exc}", node) from None
        bound.apply_defaults()
        args = []
        for p, v in bound.arguments.items():
            kind = self.signatures[name].parameters[p].kind
            if kind is inspect.Parameter.VAR_POSITIONAL and spread is not None:
                v = N.located(N.call(self.unit.aliases.ref(builtins.tuple, "tuple"), [spread]), node)
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                v = N.located(gast.Tuple(elts=list(v), ctx=gast.Load()), node)
            elif kind is inspect.Parameter.VAR_KEYWORD:
                v = N.located(gast.Dict(keys=[N.const(k) for k in v], values=list(v.values())), node)
            args.append(v if isinstance(v, gast.AST) else N.const(v))
        return gast.Call(func=node.func, args=args + [N.name(e) for e in self.reads[name]], keywords=[])
