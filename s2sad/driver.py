"""The compiler pipeline, pass by pass, and the cache of its results.

    source --parse--> gast --fence--> --normalize--> --jumps--> --inline--> --versions--> --activity, shapes-->
           --reverse | forward--> --optimize (cleanup, fold)--> --emit--> text --compile--> function (cached)

``transform`` and ``differentiate`` below list the passes in order.
"""
import math
import types
import warnings
import weakref
from dataclasses import dataclass, field

import gast

from . import __version__
from . import nodes as N
from .aliases import Aliases
from .errors import WrtError, ZeroGradientWarning
from .analysis import activity, shapes
from .back import emit
from .front import fence, jumps, normalize, source as front_source, versions
from .front.resolve import Scope, assigned_names
from .forward import tangent
from .optimize import cleanup, fold, inline_calls
from .reverse import adjoint, assemble

# What the passes produce: reverse mode assembled two ways, or forward mode's tangent function.
KINDS = {"value_and_grad": assemble.value_and_grad, "vjp": assemble.vjp, "jvp": tangent.run}
stats = {"transforms": 0, "compiles": 0}      # counters the tests read


@dataclass
class Generated:
    """Generated code for one function, one ``wrt`` and one kind: text plus what it needs to run."""
    text: str
    name: str
    bindings: dict
    origin: str
    code: object = None                           # the compiled function object's code, once compiled
    _bound: weakref.WeakKeyDictionary = field(default_factory=weakref.WeakKeyDictionary)

    def bind(self, fn):
        """The generated function, reading ``fn``'s own globals and closure cells."""
        bound = self._bound.get(fn)
        if bound is None:
            cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
            bound, links = emit.compile_function(self.text, self.name, fn.__globals__, cells, self.bindings,
                                                 self.origin, fn.__defaults__, fn.__kwdefaults__)
            stats["compiles"] += 1
            front_source.register_generated(bound.__code__, self.text, f"<s2sad {self.name} from {self.origin}>")
            self._bound[fn] = bound                    # registered first: recursion finds it
            try:
                emit.resolve_links(links)
            except BaseException:
                del self._bound[fn]
                raise
        return bound


_cache = {}


def generate(fn, wrt, kind="value_and_grad", kinds=()):
    """Generated code for ``fn`` (cached by its code object, ``wrt``, ``kind``, ``kinds`` and s2sad's version).

    ``kinds``: per positional parameter, -1 for a Python number, an array's ndim, or None
    (unknown). Code is specialised on it: plain float arithmetic for numbers, no shape
    bookkeeping where shapes are known to match.
    """
    fn = concrete(front_source.unwrap(fn), kinds)
    key = (getattr(fn, "__code__", fn), wrt, kind, tuple(kinds), __version__)
    gen = _cache.get(key)
    if gen is None:
        gen = _cache[key] = transform(fn, wrt, kind, tuple(kinds))
    return gen


def concrete(fn, kinds=()):
    """``fn`` itself, or for a function s2sad returned (``grad(f)``) the generated code it runs for
    arguments of these ``kinds``: derivatives of derivatives differentiate generated code."""
    derivative = getattr(fn, "__s2sad_derivative__", None)
    if derivative is None:
        return fn
    inner, wrt, kind = derivative
    inner = front_source.unwrap(inner)
    return generate(inner, wrt, kind, kinds).bind(concrete(inner, kinds))


def transform(fn, wrt, kind, kinds=()):
    """Run every pass, in order, on ``fn``; ``wrt`` is a tuple of positional parameter indices."""
    stats["transforms"] += 1
    source = front_source.read(fn)                                   # parse
    fence.run(source)                                                # refuse what no pass handles
    tree = source.tree
    namer = N.Namer(N.all_names(tree) | {tree.name})
    scope = Scope.of(source.fn, assigned_names(tree))
    aliases = Aliases(scope, namer)
    _inner_derivatives(tree, scope, aliases)
    name = namer.fresh(f"{tree.name}_{kind}")
    own = (source.fn, tuple(wrt), name, tuple(kinds)) if kind in ("vjp", "jvp") else None   # recursion calls itself
    params = [a.id for a in tree.args.posonlyargs + tree.args.args]
    ndims = {p: k for p, k in zip(params, kinds) if k is not None}
    nested = adjoint.NestedDefs("jvp" if kind == "jvp" else "vjp")
    fn_tree = differentiate(source, scope, namer, aliases, wrt, "value_and_grad" if kind == "grad" else kind, name,
                            own, nested, ndims=ndims, warn=True)
    if kind == "grad":                                               # the gradient alone
        fn_tree.body[-1] = N.ret(fn_tree.body[-1].value.elts[1])
    fold.run(fn_tree, lambda n: isinstance(aliases.bindings.get(n, scope.lookup(n)), types.ModuleType),
             aliases.helpers)
    text = emit.source_text(fn_tree)                                 # emit
    origin = f"{source.filename}:{source.first_line}"
    return Generated(text=text, name=fn_tree.name, bindings=dict(aliases.bindings), origin=origin)


def differentiate(source, scope, namer, aliases, wrt, kind, name, own, nested, enclosing=frozenset(),
                  ndims=None, warn=False, seeds=(), dots=None):
    """The passes from normalization to the assembled derivative function (a gast FunctionDef).

    Also used for a function defined inside the differentiated one (``enclosing`` holds the
    outer function's local names, which the inner one may read). In forward mode such a
    function may read the outer function's active values (``seeds``), whose tangents it
    then reads under the outer function's names for them (``dots``).
    """
    tree = source.tree
    wrt_names = _wrt_names(tree, wrt, source)
    lowered = normalize.run(source, namer)                           # one operation per statement
    lowered = jumps.run(lowered, namer)                              # break/continue/return end a branch
    lowered = inline_calls.run(lowered, inline_calls.Inliner(source.fn, scope, namer))   # small helpers' bodies
    versioned = versions.run(lowered, namer)                         # no value overwritten: nothing to record
    scope = scope.with_locals(assigned_names(versioned) | enclosing)
    active = activity.run(versioned, list(wrt_names) + list(seeds), scope,   # what gets derivative code
                          functions=kind == "jvp")
    if warn:
        _warn_unused(source, wrt_names, active)
    varied = activity.varied(versioned, wrt_names, scope)            # what may share memory with an input
    same_shapes = shapes.run(versioned, scope, ndims or {}, call_results)  # where unbroadcast is a no-op
    known_ndims = shapes.ndims(versioned, scope, ndims or {}, same_shapes)   # which rule variant fits
    nested.enter(versioned, source, scope, varied, lambda *a: differentiate(*a))
    if kind == "jvp":                                                # forward mode
        return tangent.run(versioned, source, scope, active, wrt_names, aliases, name, same_shapes, own, nested,
                           known_ndims, dots)
    adj = adjoint.run(versioned, source, scope, active, wrt_names, aliases, same_shapes, varied, own, nested,
                      known_ndims)
    keep = {n.id for g in adj.grads for n in _names(g)}
    adj.backward = cleanup.run(adj.backward, keep, _pure_call(aliases))       # optimize
    return KINDS[kind](versioned, adj, aliases, name)


_results = {}


def call_results(fn, numbers):
    """What user function ``fn`` returns when the arguments flagged in ``numbers`` are Python
    numbers: True (a number), a tuple of flags (a tuple, which items are numbers), or None.

    Runs the front end and the scalar analysis on ``fn`` (cached; recursion sees None).
    """
    fn = front_source.unwrap(fn)
    key = (fn.__code__, numbers)
    if key in _results:
        return _results[key]
    _results[key] = None
    try:
        source = front_source.read(fn)
        fence.run(source)
    except Exception:                                   # the transform itself will report it, if it matters
        return None
    namer = N.Namer(N.all_names(source.tree) | {source.tree.name})
    lowered = jumps.run(normalize.run(source, namer), namer)
    versioned = versions.run(lowered, namer)
    scope = Scope.of(fn, assigned_names(versioned))
    params = [a.id for a in versioned.args.posonlyargs + versioned.args.args]
    ndims = {p: -1 for p, is_number in zip(params, numbers) if is_number}
    known = shapes.scalar_names(versioned, scope, set(ndims), ndims, call_results)
    result = versioned.body[-1].value
    if not isinstance(result, gast.Name):
        return None
    packs = [s.value for s in N.statements(versioned.body) if isinstance(s, gast.Assign) and
             isinstance(s.targets[0], gast.Name) and s.targets[0].id == result.id]
    if result.id in known:
        answer = True
    elif packs and all(isinstance(v, gast.Tuple) for v in packs) and len({len(v.elts) for v in packs}) == 1:
        answer = tuple(all(shapes._number(v.elts[k]) or isinstance(v.elts[k], gast.Name) and v.elts[k].id in known
                           for v in packs) for k in range(len(packs[0].elts)))
    else:
        answer = None
    _results[key] = answer
    return answer


def _inner_derivatives(tree, scope, aliases):
    """``s2sad.jvp(f, (x,), (v,))`` and ``s2sad.grad(f)(x)`` inside the differentiated function become
    calls of f's generated code itself, which is then differentiated like any user function."""
    from . import api

    class Rewrite(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            func = scope.resolve(node.func)
            if func is api.jvp and len(node.args) == 3 and not node.keywords \
                    and all(isinstance(a, gast.Tuple) for a in node.args[1:]):
                f = scope.resolve(node.args[0])
                primals, tangents = node.args[1].elts, node.args[2].elts
                wrt = tuple(i for i, t in enumerate(tangents) if not N.is_const(t) or t.value is not None)
                if callable(f) and len(primals) == len(tangents) and wrt:
                    return self.call(f, wrt, "jvp", [tangents[i] for i in wrt] + primals)
            outer = node.func
            if isinstance(outer, gast.Call) and len(outer.args) == 1 and scope.resolve(outer.func) in \
                    (api.grad, api.value_and_grad):
                wrt = [k.value for k in outer.keywords if k.arg == "wrt"]
                f = scope.resolve(outer.args[0])
                if callable(f) and len(outer.keywords) == len(wrt) and (not wrt or N.is_const(wrt[0])):
                    indices, _ = api._wrt(f, wrt[0].value if wrt else None)
                    kind = "grad" if scope.resolve(outer.func) is api.grad else "value_and_grad"
                    return self.call(f, indices, kind, node.args, node.keywords)
            return node

        def call(self, f, wrt, kind, args, keywords=()):
            fn = front_source.unwrap(f)
            generated = generate(fn, wrt, kind).bind(concrete(fn))
            ref = aliases.ref(generated, f"{fn.__name__}_{kind}")
            scope.cells[ref.id] = types.CellType(generated)
            return gast.Call(func=ref, args=list(args), keywords=list(keywords))
    Rewrite().visit(tree)


def _warn_unused(source, wrt_names, active):
    for w in wrt_names:
        if w not in active:
            warnings.warn(f"{source.filename}:{source.first_line}: the output of {source.tree.name}() does not "
                          f"depend on its argument `{w}`: the derivative with respect to it is zero",
                          ZeroGradientWarning, stacklevel=5)


def _names(node):
    return [n for n in gast.walk(node) if isinstance(n, gast.Name)]


def _wrt_names(tree, wrt, source):
    params = [a.id for a in tree.args.posonlyargs + tree.args.args]
    for i in wrt:
        if not -len(params) <= i < len(params):
            raise WrtError(f"wrt={i} but {tree.name}() has {len(params)} positional parameter(s) "
                             f"({', '.join(params)})")
    return [params[i] for i in wrt]


def _pure_call(aliases):
    """Fold ``math.log(2.0)`` and friends when the callee is the math module's."""
    def resolve(func):
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            owner = aliases.bindings.get(func.value.id)
            if owner is None:
                owner = aliases.scope.lookup(func.value.id)
            if owner is math:
                return getattr(math, func.attr, None)
        return None
    return resolve
