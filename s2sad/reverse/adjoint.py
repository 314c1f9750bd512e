"""Reverse mode: a forward sweep (the primal) and a backward sweep of adjoint statements.

The backward sweep walks the statements in reverse order. For each active
``y = op(x1, x2)`` it inlines ``op``'s rule with ``g = y_bar`` and adds each
result into the adjoint of the matching argument. The first contribution to an
adjoint assigns it (no zero-initialisation); later ones add to it with ``+``,
never in place, since adjoints may share arrays. Branches are replayed with the
same condition; an adjoint assigned on one branch only is set to zero on the
other. Since versioning gave every value its own name, the backward sweep reads
primal values directly: nothing is recorded.

>>> from s2sad.front.source import from_text
>>> from s2sad.front.resolve import Scope
>>> from s2sad.nodes import Namer
>>> from s2sad.aliases import Aliases
>>> import numpy as np
>>> src = from_text('''
... def f(x):
...     y = np.sin(x)
...     z = y * x
...     return z
... ''')
>>> scope = Scope({"np": np}, local_names={"x", "y", "z"})
>>> namer = Namer({"f", "x", "y", "z", "np"})
>>> adj = run(src.tree, src, scope, {"x", "y", "z"}, ["x"], Aliases(scope, namer))
>>> print("\\n".join(N.unparse(s) for s in adj.backward if not N.is_comment(s)))
y_bar = _s2.unbroadcast(z_bar * x, y)
x_bar = _s2.unbroadcast(z_bar * y, x)
x_bar = x_bar + y_bar * np.cos(x)
"""
import builtins
import collections
import inspect
import math
import operator
import sys
import sysconfig
from dataclasses import dataclass

import gast
import numpy as np

from .. import nodes as N
from .. import runtime, tree
from ..analysis import shapes as shape_facts
from ..analysis.ops import APPEND, COPY, DICT, PACK, UNKNOWN, classify, names_in
from ..errors import NoRuleError, TransformError, UnsupportedSyntaxError
from ..inline import RuleError, bind, inline
from ..back.link import Deferred
from ..front import source as front_source
from ..front.source import unwrap
from ..rules import vjp_rule
from ..rules.registry import has_rule, jvp_rule
from . import loops


@dataclass
class Adjoint:
    forward: list          # primal statements (the forward sweep)
    backward: list         # adjoint statements (the backward sweep), reads ``seed``
    result: gast.expr      # the atom the function returns
    seed: str              # name of the output's adjoint, the backward sweep's input
    active_output: bool    # whether the output depends on any wrt argument at all
    grads: list            # one expression per wrt parameter: its adjoint
    restored: set = frozenset()   # primal names the backward sweep restores (pops)
    popped: set = frozenset()     # lists the backward sweep shortens again (undoing appends)
    scalar_result: bool = False   # the output is known to be a number
    params: tuple = ()            # the function's parameter names
    shape_only: set = frozenset()  # primal names the backward sweep reads only for their shape


class NestedDefs:
    """Functions defined inside the differentiated function, and the vjps generated for them.

    A call ``y = h(a)`` to such a function on the differentiated path gets ``h_vjp``,
    generated from h's own source and placed right after ``def h`` in the forward sweep,
    so that it reads the enclosing function's variables as h does.
    """

    def __init__(self, kind="vjp"):
        self.kind = kind        # "vjp", or "jvp" for forward mode
        self.defs = {}          # name -> (FunctionDef, source, scope, enclosing locals, enclosing varied names)
        self.generated = {}     # (name, wrt) -> name of the generated vjp
        self.trees = {}         # name -> generated vjp FunctionDefs to place after ``def name``
        self.differentiate = None

    def enter(self, fn_tree, source, scope, varied, differentiate):
        self.differentiate = differentiate
        enclosing = frozenset(scope.locals)
        for s in N.statements(fn_tree.body):
            if isinstance(s, gast.FunctionDef):
                self.defs[s.name] = (s, source, scope, enclosing, varied)

    def link(self, name, wrt, sweep, call):
        key = (name, wrt)
        if key in self.generated:
            return self.generated[key]
        node, source, scope, enclosing, varied = self.defs[name]
        captured = sorted(N.free_loads(node) & varied - {name})
        if captured:
            raise sweep.source.error(UnsupportedSyntaxError, f"the function `{name}` defined here reads "
                                     f"`{captured[0]}`, which is being differentiated", node,
                                     hint=f"pass `{captured[0]}` to `{name}` as an argument")
        vjp_name = sweep.namer.fresh(f"{name}_{self.kind}")
        self.generated[key] = vjp_name                  # before generating: recursion links to it
        inner_source = front_source.Source(fn=None, tree=N.clone(node), filename=source.filename,
                                           first_line=source.first_line, lines=source.lines)
        tree = self.differentiate(inner_source, scope, sweep.namer, sweep.aliases, wrt, self.kind, vjp_name,
                                  (name, wrt, vjp_name), self, enclosing)
        self.trees.setdefault(name, []).append(tree)
        return vjp_name


def user_function(obj):
    """A Python function of the user's that s2sad differentiates from its source (no rule registered).

    Functions of installed libraries and of the standard library (``np.cumsum`` is written in
    Python) are primitives: they need a rule.
    """
    fn = unwrap(obj)
    if not inspect.isfunction(fn) or has_rule(obj) or has_rule(fn):
        return False                    # a rule registered in either mode is never bypassed
    root = (getattr(fn, "__module__", None) or "").split(".")[0]
    if root in sys.stdlib_module_names or root == "s2sad":
        return False
    path = fn.__code__.co_filename
    return not any(part in path for part in ("site-packages", "dist-packages", sysconfig.get_paths()["stdlib"]))


def is_checkpoint(obj):
    """Whether ``obj`` (or a function it wraps) was marked with ``s2sad.checkpoint``."""
    while obj is not None:
        if getattr(obj, "__s2sad_checkpoint__", False):
            return True
        obj = getattr(obj, "__wrapped__", None)
    return False


def nested_signature(node):
    """The signature of a function defined inside the differentiated one, and its positional parameters."""
    positional = [a.id for a in node.args.posonlyargs + node.args.args]
    params = [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in positional]
    defaults = node.args.defaults
    params = [p.replace(default=None) if i >= len(params) - len(defaults) else p for i, p in enumerate(params)]
    params += [inspect.Parameter(a.id, inspect.Parameter.KEYWORD_ONLY, default=None) for a in node.args.kwonlyargs]
    return inspect.Signature(params), positional


def differentiated_arguments(sweep, s, op, signature, positional):
    """(index, atom) of each positional parameter of a user function's call ``s`` that receives an
    active value, in order; an active value passed to ``*args`` or a keyword-only parameter is refused."""
    try:
        bound = signature.bind(*op.args, **op.kwargs)
    except TypeError as exc:
        raise sweep.source.error(TransformError, f"cannot call `{op.label}` this way: {exc}", s,
                                 hint="call it with the arguments its definition takes") from None
    wrt = []
    for pname, atom in bound.arguments.items():
        if not isinstance(atom, gast.AST) or not set(names_in(atom)) & sweep.active:
            continue
        if pname not in positional:
            raise sweep.source.error(UnsupportedSyntaxError, f"cannot differentiate through the `*args`/"
                                     f"keyword-only parameter `{pname}` of `{op.label}`", s,
                                     hint="make it an ordinary positional parameter")
        wrt.append((positional.index(pname), atom))
    return sorted(wrt, key=lambda pair: pair[0])


def index_value(index, aliases):
    """The index of a subscript as a value expression (``1:`` -> ``slice(1, None)``)."""
    if isinstance(index, gast.Slice):
        parts = [index.lower, index.upper, index.step]
        while len(parts) > 2 and parts[-1] is None:      # slice(1, None), not slice(1)
            parts.pop()
        return N.call(aliases.ref(builtins.slice, "slice"), [N.clone(p) if p is not None else N.const(None)
                                                             for p in parts])
    if isinstance(index, gast.Tuple):
        return N.tup([index_value(e, aliases) for e in index.elts])
    return N.clone(index)


def run(fn, source, scope, active, wrt_names, aliases, shapes=None, varied=None, own=None, nested=None,
        ndims=None):
    """Differentiate the normalized, versioned function ``fn`` in reverse mode.

    ``shapes``: shape classes (analysis/shapes.py), to drop no-op ``unbroadcast`` calls.
    """
    *forward, ret = fn.body
    result = ret.value
    sweep = _Backward(source, scope, active, aliases, shapes or {}, varied or active)
    sweep.own = own
    sweep.nested = nested
    sweep.ndims = ndims or {}
    sweep.check_mutations(forward)
    sweep.check_shared_updates()
    sweep.assign_counts = collections.Counter(n.id for n in gast.walk(fn) if isinstance(n, gast.Name)
                                              and isinstance(n.ctx, gast.Store))
    sweep.load_counts = collections.Counter(n.id for n in gast.walk(fn) if isinstance(n, gast.Name)
                                            and isinstance(n.ctx, gast.Load))
    sweep.definitions = {s.targets[0].id: s for s in N.statements(forward) if isinstance(s, gast.Assign)
                         and isinstance(s.targets[0], gast.Name) and sweep.assign_counts[s.targets[0].id] == 1}
    seed = sweep.bar(result.id) if isinstance(result, gast.Name) else aliases.namer.fresh("ans_bar")
    active_output = isinstance(result, gast.Name) and result.id in active
    defined = {result.id} if active_output else set()
    backward = sweep.block(forward, defined) if active_output else []
    grads = [N.name(sweep.bar(w)) if w in defined else sweep.zeros(w) for w in wrt_names]
    # What the backward sweep reads decides what the forward sweep records.
    params = [a.id for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
    primal = set(params) | {n.id for s in forward for n in gast.walk(s)
                            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    primal |= {pullback for pullback, _ in sweep.calls.values()}
    # Only reads at or after the first backward loop can see a restored value; reads before it
    # (of statements after the loops) see the final one.
    first_loop = next((i for i, st in enumerate(backward) if isinstance(st, (gast.For, gast.While))), len(backward))
    needed = {n.id for s in backward[first_loop:] for n in gast.walk(s)
              if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)} & primal
    needed = loops.expand_needed(sweep, needed)
    needed = loops.recompute_cheap(sweep, backward, needed)
    backward = loops.resolve_markers(sweep, backward, needed)
    sweep.shape_only = loops.shape_only_reads(sweep, backward)
    forward = loops.forward(sweep, forward, needed)
    forward = loops.stack_inits(sweep) + loops.none_inits(sweep, forward, params) + forward
    restored = {name for kind, name in sweep.stacks if kind == "restore"}
    popped = set(sweep.unappended)
    scalar = isinstance(result, gast.Name) and sweep.shapes.get(result.id) == shape_facts.SCALAR
    return Adjoint(forward=forward, backward=backward, result=result, seed=seed,
                   active_output=active_output, grads=grads, restored=restored, popped=popped,
                   scalar_result=scalar, params=tuple(params), shape_only=set(sweep.shape_only))


def _is_one(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float) and node.value == 1


CHEAP_BINOPS = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)

IN_PLACE_METHODS = {"sort", "fill", "put", "partition", "resize", "setfield", "itemset", "byteswap", "setflags",
                    "append", "extend", "insert", "remove", "pop", "clear", "reverse", "update", "setdefault",
                    "popitem", "__setitem__", "__iadd__", "__imul__"}


class _Backward:
    def __init__(self, source, scope, active, aliases, shapes, varied):
        self.shapes = shapes
        self.varied = varied
        self.source = source
        self.scope = scope
        self.active = active
        self.aliases = aliases
        self.namer = aliases.namer
        self.bars = {}
        self.loop_depth = 0
        self.plans = {}                 # id(loop) -> loops.LoopPlan
        self.markers = loops.Marker()
        self.stacks = {}                # (kind, primal name) -> stack name
        self.calls = {}                 # id(statement) -> (pullback name, link to the callee's vjp)
        self.unappended = set()         # lists whose appends the backward sweep undoes
        self.own = None                 # (function, wrt, name): the generated function itself
        self.loop_assigned = []         # per enclosing loop: the names its body assigns
        self.invariant = set()          # id(in-loop assignment) that gives the same value every iteration
        self.owned_buffers = set()      # adjoints updated in place in a loop (owned by the backward sweep)
        self.recomputed = set()         # id(in-loop assignment) read again in the backward sweep, not stored
        self.recomputes = []            # per enclosing loop: markers of the reads to redo each iteration
        self.loop_tops = []             # per enclosing loop: ids of its body's top-level statements
        self.plans_stack = []           # the enclosing loops' plans
        self.ndims = {}                 # known numbers of dimensions
        self.shape_only = set()         # primal names the backward sweep reads only for their shape
        self.assign_counts = {}
        self.nested = None              # NestedDefs
        self.local_lists = set()
        self.cheap = {}                 # name -> (in-loop statement on numbers, loop-assigned names, range targets)

    def bar(self, name):
        if name not in self.bars:
            self.bars[name] = self.namer.derived(name, "bar")
        return self.bars[name]

    # --- blocks ------------------------------------------------------------------------
    def block(self, stmts, defined):
        """Adjoint statements for ``stmts`` in reverse order; updates ``defined`` in place."""
        out = []
        commented = None
        for s in reversed(stmts):
            restores = []
            if isinstance(s, gast.If):
                produced = self.branch(s, defined)
            elif isinstance(s, (gast.For, gast.While)):
                loops.check_iterable(self, s)
                produced = loops.backward(self, s, defined)
            elif isinstance(s, gast.Assign):
                produced = self.assign(s, defined)
                stored = [n.id for t in s.targets for n in gast.walk(t)
                          if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]
                if id(s) in self.calls:
                    stored.append(self.calls[id(s)][0])
                defined.difference_update(stored)         # the old value's adjoint starts from zero
                if self.loop_depth and self.loop_invariant(s):
                    self.invariant.add(id(s))
                elif self.loop_depth and self.recomputable(s):
                    self.recomputed.add(id(s))
                    self.recomputes[-1].append(self.markers.make("recompute", stored[0], N.clone(s)))
                elif self.loop_depth:
                    restores = [self.markers.make("restore", n) for n in stored]
                    self.note_cheap(s)
            elif isinstance(s, gast.Expr):
                produced, restores = self.expression_statement(s, defined)
            else:
                produced = []
            if produced:
                line = self.source.file_line(s)
                if isinstance(s, (gast.If, gast.For, gast.While)):
                    commented = None
                elif line != commented:
                    out.append(N.comment(f"grad of line {line}: {self.source.text(s)}"))
                    commented = line
                out.extend(produced)
            out.extend(restores)
        return out

    def branch(self, s, defined):
        then_defined, else_defined = set(defined), set(defined)
        body = self.block(s.body, then_defined)
        orelse = self.block(s.orelse, else_defined)
        for missing, into in ((then_defined - else_defined, orelse), (else_defined - then_defined, body)):
            for name in sorted(missing):
                into.append(N.assign(self.bar(name), self.zeros(name)))
        # an adjoint that both branches reset (their statements assign the name) is not carried over
        defined.intersection_update(then_defined | else_defined)
        defined |= then_defined | else_defined
        if not body and not orelse:
            return []
        return [N.if_(N.clone(s.test), body or [gast.Pass()], orelse, like=s)]

    def helper(self, fn):
        return self.aliases.ref(fn, fn.__name__)

    def zeros(self, name):
        if self.shapes.get(name) == shape_facts.SCALAR:
            return N.const(0.0)
        return N.call(self.aliases.ref(runtime.zeros_like, "zeros_like"), [N.name(name)])

    # --- one statement -----------------------------------------------------------------------
    def assign(self, s, defined):
        target = s.targets[0]
        if isinstance(target, (gast.Subscript, gast.Attribute)):
            return []                                   # check_mutations refused the ones that matter
        if isinstance(target, gast.Name):
            if target.id not in self.active or target.id not in defined:
                return []
            g, ans = N.name(self.bar(target.id)), N.name(target.id)
        else:
            names = [t.id for t in target.elts]
            live = [n in self.active and n in defined for n in names]
            if not any(live):
                return []
            g = N.tup([N.name(self.bar(n)) if ok else N.const(None) for n, ok in zip(names, live)])
            ans = N.tup([N.name(n) for n in names])
        op = classify(s.value, self.scope)
        if op.nondiff:
            return []
        out = []
        if op.primitive is COPY:
            if isinstance(g, gast.Tuple):                  # a, b = t: t's adjoint is a container
                g = N.call(self.helper(tree.pack), g.elts)
            self.contribute(op.args[0], g, defined, out)
        elif op.primitive in (PACK, DICT):
            keys = op.keys if op.primitive is DICT else [N.const(i) for i in range(len(op.args))]
            for key, elt in zip(keys, op.args):
                self.contribute(elt, N.call(self.helper(tree.part), [N.clone(g), N.clone(key), N.clone(elt)]),
                                defined, out)
        elif not self.sigmoid(s, g, defined, out):
            self.apply_rule(s, op, g, ans, defined, out)
        return out

    def sigmoid(self, s, g, defined, out):
        """``p = 1 / (1 + exp(-z))`` (four statements once normalized): ``z_bar += p_bar * p * (1 - p)``.

        Written from ``p`` alone, so neither ``exp(-z)`` nor ``1 + exp(-z)`` is kept for the
        backward sweep. Only when those temporaries are read nowhere else.
        """
        value = s.value
        if not (isinstance(value, gast.BinOp) and isinstance(value.op, gast.Div) and _is_one(value.left)
                and isinstance(value.right, gast.Name) and isinstance(g, gast.Name)):
            return False
        chain, name = [], value.right.id
        for step in ("add", "exp", "neg"):
            d = self.definitions.get(name)
            if d is None or self.load_counts[name] != 1:
                return False
            v = d.value
            if step == "add" and isinstance(v, gast.BinOp) and isinstance(v.op, gast.Add):
                name = v.right.id if _is_one(v.left) and isinstance(v.right, gast.Name) else \
                    v.left.id if _is_one(v.right) and isinstance(v.left, gast.Name) else None
            elif step == "exp" and isinstance(v, gast.Call) and len(v.args) == 1 and not v.keywords \
                    and self.scope.resolve(v.func) in (np.exp, math.exp) and isinstance(v.args[0], gast.Name):
                name = v.args[0].id
            elif step == "neg" and isinstance(v, gast.UnaryOp) and isinstance(v.op, gast.USub):
                name = v.operand.id if isinstance(v.operand, gast.Name) else None
            else:
                return False
            if name is None:
                return False
            chain.append(d)
        one = N.const(1.0)
        self.contribute(N.name(name), N.binop(N.binop(N.clone(g), gast.Mult(), N.name(s.targets[0].id)), gast.Mult(),
                                   N.binop(one, gast.Sub(), N.name(s.targets[0].id))), defined, out)
        return True

    def apply_rule(self, s, op, g, ans, defined, out):
        arg_ndims = tuple(self.ndims.get(a.id) if isinstance(a, gast.Name) else None for a in op.args)
        rule = vjp_rule(op.primitive, arg_ndims) if op.primitive is not UNKNOWN else None
        if rule is None and user_function(op.primitive):
            return self.user_call(s, op, g, defined, out)
        if op.primitive is UNKNOWN and isinstance(s.value, gast.Call) and isinstance(s.value.func, gast.Name) \
                and self.nested is not None and s.value.func.id in self.nested.defs:
            return self.nested_call(s, op, g, defined, out)
        if rule is None:
            raise self.no_rule(s, op)
        args = list(op.args)
        if op.primitive is operator.getitem:
            raw_index = args[1]
            args[1] = self.index_value(args[1])
            element = isinstance(ans, gast.Name) and self.shapes.get(ans.id) == shape_facts.SCALAR
            if self.accumulate_in_place(args[0], args[1], g, defined, out, raw_index if element else None):
                return
        try:
            mapping = bind(rule, g, ans, args, op.kwargs)
            like = shape_facts.result_like(s.value, self.scope, self.shapes) if isinstance(ans, gast.Name) else None
            prelude, results = inline(rule, g, ans, args, op.kwargs, self.aliases, self.shaped_like(like))
        except RuleError as exc:
            raise self.source.error(TransformError, f"cannot differentiate this call to `{op.label}`: {exc}", s,
                                    hint="check the arguments; s2sad supports the ones its rule for this function takes") from None
        except (OSError, TypeError, NameError, SyntaxError) as exc:
            name = getattr(rule, "__qualname__", repr(rule))
            raise self.source.error(TransformError, f"the derivative rule {name} for `{op.label}` cannot be used: {exc}",
                                    s, hint="a rule must be a function defined in a .py file, with straight-line "
                                            "assignments followed by one `return`") from None
        contributions = [(mapping[p], r) for p, r in results.items()
                         if r is not None and set(names_in(mapping[p])) & self.active]
        if contributions:
            out.extend(N.located(p, s) for p in prelude)
        for atom, expr in contributions:
            self.contribute(atom, expr, defined, out)

    def accumulate_in_place(self, x, idx, g, defined, out, element_index=None):
        """``y = x[i]`` in a loop that leaves ``x`` alone: add ``y_bar`` into ``x_bar[i]`` in place.

        O(size of y) per iteration instead of O(size of x). ``x_bar`` is a buffer the backward
        sweep owns (zeros, or a copy made before the loop), so no other value sees the update.
        """
        if not (self.loop_depth and isinstance(x, gast.Name) and x.id in self.active and x.id in defined):
            return False
        if x.id in set().union(*self.loop_assigned) or self.shapes.get(x.id) == shape_facts.SCALAR:
            return False
        self.owned_buffers.add(x.id)
        if element_index is not None:                  # one number: x_bar[i] += g
            target = gast.Subscript(value=N.name(self.bar(x.id)), slice=N.clone(element_index), ctx=gast.Store())
            out.append(gast.AugAssign(target=target, op=gast.Add(), value=N.clone(g)))
            return True
        call = N.call(self.helper(runtime.index_add), [N.name(self.bar(x.id)), idx, N.clone(g)])
        out.append(gast.Expr(value=call))
        return True

    def user_call(self, s, op, g, defined, out):
        """``y = f(a, b)`` with f a user function: f's generated vjp, linked, gives a pullback."""
        callee = unwrap(op.primitive)
        positional = callee.__code__.co_varnames[:callee.__code__.co_argcount]

        signature = inspect.signature(callee)
        try:
            bound = signature.bind(*op.args, **op.kwargs).arguments
        except TypeError:
            bound = {}
        # specialised on which *differentiated* arguments are numbers: one callee per
        # (function, differentiated arguments) for array code, plain arithmetic for scalar code
        numbers = {positional.index(p) for p, atom in bound.items() if p in positional
                   and isinstance(atom, gast.AST) and self.is_number(atom) and set(names_in(atom)) & self.active}
        kinds = tuple(-1 if i in numbers else None for i in range(max(numbers) + 1)) if numbers else ()

        def link(indices):
            own = self.own
            if own is not None and not isinstance(own[0], str) and callee.__code__ is unwrap(own[0]).__code__ \
                    and indices == own[1] and kinds == own[3]:
                return N.name(own[2])                  # recursion: the generated function calls itself
            return self.aliases.ref(Deferred(callee, indices, kinds), f"{callee.__name__}_vjp")
        self.call_through(s, op, g, defined, out, signature, positional, link)

    def is_number(self, atom):
        """Whether an atom is known to hold a Python number (for specialising callees)."""
        if isinstance(atom, gast.Constant):
            return type(atom.value) in (int, float)
        return isinstance(atom, gast.Name) and self.shapes.get(atom.id) == shape_facts.SCALAR

    def nested_call(self, s, op, g, defined, out):
        """``y = h(a)`` with h defined inside the function: h's vjp is generated next to it."""
        name = s.value.func.id
        signature, positional = nested_signature(self.nested.defs[name][0])

        def link(indices):
            own = self.own
            if own is not None and own[0] == name and indices == own[1]:
                return N.name(own[2])
            return N.name(self.nested.link(name, indices, self, s))
        self.call_through(s, op, g, defined, out, signature, positional, link)

    def call_through(self, s, op, g, defined, out, signature, positional, link):
        wrt = differentiated_arguments(self, s, op, signature, positional)
        if not wrt:
            return
        indices = tuple(i for i, _ in wrt)
        target = s.targets[0]
        base = target.id if isinstance(target, gast.Name) else "call"
        pullback = self.namer.derived(base, "pullback")
        if is_checkpoint(op.primitive):          # recompute the callee's forward sweep here, store nothing
            rerun = N.call(link(indices), [N.clone(a) for a in s.value.args],
                           {k.arg: N.clone(k.value) for k in s.value.keywords})
            out.append(N.assign(N.tup([N.store("_"), N.store(pullback)], gast.Store()), rerun))
        else:
            self.calls[id(s)] = (pullback, link(indices))
        call = N.call(N.name(pullback), [g])
        atoms = [atom for _, atom in wrt]
        if len(atoms) == 1:
            self.contribute(atoms[0], call, defined, out)
            return
        # a pullback returns one adjoint per differentiated argument, never None: unpack it,
        # straight into adjoints not assigned yet, else into fresh names added afterwards
        targets, direct, pending = [], set(), []
        for atom in atoms:
            if isinstance(atom, gast.Name) and atom.id not in defined and atom.id not in direct:
                targets.append(N.store(self.bar(atom.id)))
                direct.add(atom.id)
            else:
                part = self.namer.fresh(self.bar(atom.id)) if isinstance(atom, gast.Name) else self.namer.temp()
                targets.append(N.store(part))
                pending.append((atom, part))
        out.append(N.assign(N.tup(targets, gast.Store()), call))
        defined.update(direct)
        for atom, part in pending:
            self.contribute(atom, N.name(part), defined, out)

    def shaped_like(self, like):
        """Whether a variable provably has the shape of the current statement's result."""
        if like is None:
            return None
        cls = self.shapes.get(like, like)
        return lambda _ans, name: self.shapes.get(name, name) == cls

    def no_rule(self, s, op):
        if op.primitive is UNKNOWN:
            if op.label.startswith("method"):
                method = op.label.split(".")[1].rstrip("()")
                what = f"cannot differentiate the {op.label}: no rule for this method"
                hint = (f"call the NumPy function instead (np.{method}(x)), or register a rule with "
                        f"`@s2sad.rules.vjp(np.{method})` and map the method to it with "
                        f"`s2sad.rules.method(\"{method}\", np.{method})`")
            elif op.label.startswith("attribute"):
                attr = op.label.split(".")[1]
                what = f"cannot differentiate the {op.label}: no rule for this attribute"
                hint = (f"use a NumPy function instead, or register one with `@s2sad.rules.vjp(function)` and "
                        f"`s2sad.rules.attribute(\"{attr}\", function)`")
            else:
                what = f"cannot differentiate a call to `{op.label}`: s2sad cannot tell which function it is"
                hint = "call a module-level function, or register a rule with `@s2sad.rules.vjp(function)`"
            return self.source.error(NoRuleError, what, s, hint=hint)
        obj = op.primitive
        qual = f"{getattr(obj, '__module__', None) or ''}.{getattr(obj, '__qualname__', getattr(obj, '__name__', repr(obj)))}".lstrip(".")
        if jvp_rule(obj)[0] is not None:
            what = f"`{op.label}` has a forward rule but no reverse rule"
            hint = f"register one with `@s2sad.rules.vjp({op.label})`"
        else:
            what = f"cannot differentiate `{op.label}`: no derivative rule for {qual}"
            hint = f"register one with `@s2sad.rules.vjp({op.label})`, or mark it with `s2sad.rules.nondiff({op.label})`"
        return self.source.error(NoRuleError, what, s, hint=hint)

    def loop_invariant(self, s):
        """Whether an in-loop assignment gives the same value on every iteration (nothing to restore).

        Its operands are assigned in no enclosing loop, it calls nothing with effects, and its
        target is assigned nowhere else.
        """
        target = s.targets[0]
        if not isinstance(target, gast.Name) or self.assign_counts.get(target.id, 0) != 1 or id(s) in self.calls:
            return False
        op = classify(s.value, self.scope)
        if op.primitive is UNKNOWN or op.primitive is APPEND or user_function(op.primitive):
            return False
        if not (op.nondiff or op.primitive in (COPY, PACK, DICT) or vjp_rule(op.primitive) is not None):
            return False
        changing = set().union(*self.loop_assigned)
        return not set(names_in(s.value)) & changing

    def recomputable(self, s):
        """``t = x[i]`` at the top of a loop body, ``x`` unchanged by the loop, ``i`` its index:
        cheaper to read again at the start of each backward iteration than to store."""
        target = s.targets[0]
        if not (isinstance(target, gast.Name) and self.assign_counts.get(target.id, 0) == 1
                and id(s) in self.loop_tops[-1] and isinstance(s.value, gast.Subscript)
                and isinstance(s.value.value, gast.Name)):
            return False
        changing = set().union(*self.loop_assigned)
        indices = {n for p in self.plans_stack for n in p.target_names if p.range_name}
        if s.value.value.id in changing:
            return False
        return all(n in indices or n not in changing for n in names_in(s.value.slice))

    def note_cheap(self, s):
        """``t = a * b`` on numbers in a loop: computing it again in the backward sweep costs
        less than a push and a pop (loops.recompute_cheap decides where it can)."""
        target, value = s.targets[0], s.value
        if not (isinstance(target, gast.Name) and self.assign_counts.get(target.id, 0) == 1
                and self.shapes.get(target.id) == shape_facts.SCALAR and id(s) not in self.calls):
            return
        if isinstance(value, gast.BinOp) and isinstance(value.op, CHEAP_BINOPS):
            operands = [value.left, value.right]
        elif isinstance(value, gast.UnaryOp) and isinstance(value.op, (gast.USub, gast.UAdd)):
            operands = [value.operand]
        else:
            return
        for a in operands:
            if not (isinstance(a, gast.Constant) and type(a.value) in (int, float) or isinstance(a, gast.Name)
                    and self.shapes.get(a.id) == shape_facts.SCALAR):
                return
        ranges = {n for p in self.plans_stack if p.range_name for n in p.target_names}
        self.cheap[target.id] = (s, set().union(*self.loop_assigned), ranges)

    def expression_statement(self, s, defined):
        """``items.append(v)``: the list's adjoint loses its last element to ``v``; other calls: none."""
        op = classify(s.value, self.scope) if isinstance(s.value, gast.Call) else None
        if op is None or op.primitive is not APPEND:
            return [], []                               # check_mutations refused the ones that matter
        items, value = op.args
        restore = [self.markers.make("unappend", items.id)]
        if items.id not in self.active or items.id not in defined:
            return [], restore
        out = []
        parts = N.call(self.helper(tree.append_grads), [N.name(self.bar(items.id)), N.clone(items)])
        rest = self.namer.temp()
        out.append(N.assign(N.tup([N.store(self.bar(items.id)), N.store(rest)], gast.Store()), parts))
        self.contribute(value, N.name(rest), defined, out)
        return out, restore

    def check_shared_updates(self):
        """``y = x; y *= 2`` changes x in place when it is an array: refuse unless x is a number."""
        for s, name, other, op in self.source.shared_updates:
            if self.shapes.get(other) == shape_facts.SCALAR:
                continue
            raise self.source.error(UnsupportedSyntaxError, f"`{name} {op}=` would change `{other}` too (they share "
                                    f"memory), which cannot be differentiated", s,
                                    hint=f"write `{name} = {name} {op} ...` to make a new array")

    def check_mutations(self, stmts, top=True):
        """Refuse in-place changes to values that depend on a wrt input (they may share memory with it)."""
        if top:
            self.local_lists = {s.targets[0].id for s in N.statements(stmts) if isinstance(s, gast.Assign)
                                and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.List)}
        for s in stmts:
            if isinstance(s, (gast.If, gast.For, gast.While)):
                self.check_mutations(s.body, top=False)
                self.check_mutations(s.orelse, top=False)
                continue
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], (gast.Subscript, gast.Attribute)):
                if set(names_in(s.targets[0].value)) & self.varied:
                    raise self.source.error(
                        UnsupportedSyntaxError, "writing into an array that is being differentiated is not supported",
                        s, hint="build a new array instead (np.where, np.concatenate, or arithmetic with a mask)")
                continue
            value = s.value if isinstance(s, (gast.Assign, gast.Expr)) else None
            if not isinstance(value, gast.Call):
                continue
            op = classify(value, self.scope)
            touched = {n for a in list(op.args) + list(op.kwargs.values()) for n in names_in(a)} & self.varied
            if not touched or op.nondiff:
                continue
            if "out" in op.kwargs:
                raise self.source.error(UnsupportedSyntaxError, "`out=` writes into an array in place, which cannot be "
                                        "differentiated", s, hint="drop `out=` and use the returned value")
            if op.primitive is APPEND and op.args[0].id in self.local_lists:
                continue                                # appending to a list this function built
            receiver_mutates = isinstance(value.func, gast.Attribute) and value.func.attr in IN_PLACE_METHODS \
                and set(names_in(value.func.value)) & self.varied
            unknown = op.primitive is UNKNOWN or vjp_rule(op.primitive) is None
            if receiver_mutates or isinstance(s, gast.Expr) and unknown:
                raise self.source.error(UnsupportedSyntaxError,
                                        "a call that may modify a value being differentiated in place", s,
                                        hint="use a function that returns a new value (in-place updates cannot be "
                                             "differentiated)")

    def index_value(self, index):
        return index_value(index, self.aliases)

    # --- accumulation -----------------------------------------------------------------------
    def contribute(self, atom, expr, defined, out):
        """Add ``expr`` into the adjoint of ``atom`` (a name, or a literal of names)."""
        if isinstance(atom, gast.Name):
            if atom.id not in self.active:
                return
            bar = self.bar(atom.id)
            if atom.id in defined:
                out.append(N.assign(bar, N.add(N.name(bar), expr)))
            else:
                out.append(N.assign(bar, expr))
                defined.add(atom.id)
            return
        if isinstance(atom, (gast.Tuple, gast.List)):
            elts = atom.elts
            if isinstance(expr, (gast.Tuple, gast.List)) and len(expr.elts) == len(elts):
                for e, x in zip(elts, expr.elts):
                    self.contribute(e, x, defined, out)
                return
            if all(isinstance(e, gast.Name) and (e.id not in self.active or e.id not in defined) for e in elts) \
                    and len({e.id for e in elts}) == len(elts):
                targets = [N.store(self.bar(e.id)) if e.id in self.active else N.store("_") for e in elts]
                out.append(N.assign(N.tup(targets, gast.Store()), expr))
                defined.update(e.id for e in elts if e.id in self.active)
                return
            parts = self.namer.temp()
            out.append(N.assign(parts, expr))
            for i, e in enumerate(elts):
                self.contribute(e, N.call(self.helper(tree.part), [N.name(parts), N.const(i), N.clone(e)]),
                                defined, out)
