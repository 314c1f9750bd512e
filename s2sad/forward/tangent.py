"""Forward mode: tangent statements interleaved with the primal ones.

Each active ``y = op(a, b)`` is followed by ``y_dot = ...``: the forward rule of
``op`` (rules/, beside its reverse rule) inlined once per argument being
differentiated, with ``g`` bound to that argument's tangent; the contributions add
up. Branches and loops keep their shape (a loop over an active array walks its
tangent alongside); a call to a user function calls that function's own tangent
code, which returns ``(value, tangent)``. Nothing is recorded: there is no
backward sweep.

>>> from s2sad.front.source import from_text
>>> from s2sad.front.resolve import Scope
>>> from s2sad.nodes import Namer
>>> from s2sad.aliases import Aliases
>>> import numpy as np
>>> src = from_text('''
... def f(x, y):
...     a = np.sin(x)
...     z = a * y
...     return z
... ''')
>>> scope = Scope({"np": np}, local_names={"x", "y", "a", "z"})
>>> namer = Namer({"f", "x", "y", "a", "z", "np"})
>>> fn = run(src.tree, src, scope, {"x", "a", "z"}, ["x"], Aliases(scope, namer), "f_jvp")
>>> print("\\n".join(N.unparse(s) for s in fn.body if not N.is_comment(s)))
a = np.sin(x)
a_dot = x_dot * np.cos(x)
z = a * y
z_dot = _s2.broadcast(a_dot * y, z)
return (z, z_dot)
"""
import builtins
import inspect
import operator

import gast

from .. import nodes as N
from .. import runtime
from ..analysis import shapes as shape_facts
from ..analysis.ops import APPEND, COPY, DICT, PACK, UNKNOWN, classify, names_in
from ..back.link import Deferred
from ..errors import NoRuleError, TransformError, UnsupportedSyntaxError
from ..front.source import unwrap
from ..inline import RuleError, bind, inline
from ..rules.registry import jvp_rule, vjp_rule
from ..reverse.adjoint import differentiated_arguments, index_value, nested_signature, user_function


_GETITEM_JVP = jvp_rule(operator.getitem)[0]


class TangentLink(Deferred):
    """A user function's tangent code, compiled when first needed (see back/link.py)."""

    _instances = {}
    kind = "jvp"

    def resolve(self):
        from ..driver import generate
        return generate(self.fn, self.wrt, "jvp", self.kinds).bind(self.fn)

    def __repr__(self):
        return f"<s2sad jvp of {self.fn.__qualname__} wrt {self.wrt}>"


def run(fn, source, scope, active, wrt_names, aliases, name, shapes=None, own=None, nested=None, ndims=None,
        dots=None):
    """The tangent function of the normalized, versioned function ``fn``.

    Its parameters are the tangents of the ``wrt`` parameters, then ``fn``'s own;
    it returns ``(value, tangent of the value)``.
    """
    sweep = _Tangent(source, scope, active, aliases, shapes or {}, own, nested, ndims or {})
    if dots is not None:
        sweep.dots = dots                # a function defined inside another: the outer tangents' names
    *body, ret = fn.body
    params = [a.id for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
    # a parameter held constant that becomes active (y = y * x in a loop) starts from a zero tangent
    out = [N.assign(sweep.dot(p), sweep.zeros(N.name(p))) for p in params if p in active and p not in wrt_names]
    out += sweep.block(body)
    if nested is not None:
        _place_nested(out, nested)
    result = ret.value
    tangent = sweep.tangent_of(result)
    out.append(N.ret(N.tup([N.clone(result), tangent])))
    args = N.clone(fn.args)
    dots = [N.name(sweep.dot(w), gast.Param()) for w in wrt_names]
    if args.posonlyargs:
        args.posonlyargs = dots + args.posonlyargs
    else:
        args.args = dots + args.args
    for a in args.args + args.posonlyargs + args.kwonlyargs:
        a.annotation = None
    return gast.FunctionDef(name=name, args=args, body=out, decorator_list=[], returns=None,
                            type_comment=None, type_params=[])


class _Tangent:
    def __init__(self, source, scope, active, aliases, shapes, own, nested, ndims):
        self.source, self.scope, self.active, self.aliases = source, scope, active, aliases
        self.namer = aliases.namer
        self.shapes, self.own, self.nested, self.ndims = shapes, own, nested, ndims
        self.dots = {}

    def dot(self, name):
        if name not in self.dots:
            self.dots[name] = self.namer.derived(name, "dot")
        return self.dots[name]

    def is_active(self, atom):
        return isinstance(atom, gast.Name) and atom.id in self.active

    def zeros(self, atom):
        """The zero tangent of ``atom``."""
        if isinstance(atom, gast.Constant) or isinstance(atom, gast.Name) and \
                self.shapes.get(atom.id) == shape_facts.SCALAR:
            return N.const(0.0)
        return N.call(self.aliases.ref(runtime.zeros_like, "zeros_like"), [N.clone(atom)])

    def tangent_of(self, atom):
        """The tangent of an atom: its ``_dot`` name if active, else zeros."""
        if self.is_active(atom):
            return N.name(self.dot(atom.id))
        if isinstance(atom, (gast.Tuple, gast.List)):
            return type(atom)(elts=[self.tangent_of(e) for e in atom.elts], ctx=gast.Load())
        return self.zeros(atom)

    # --- blocks ---------------------------------------------------------------------------
    def block(self, stmts):
        out = []
        commented = None
        for s in stmts:
            if isinstance(s, gast.If):
                out.append(N.if_(s.test, self.block(s.body) or [gast.Pass()], self.block(s.orelse), like=s))
                continue
            if isinstance(s, gast.While):
                out.append(N.located(gast.While(test=s.test, body=self.block(s.body), orelse=self.block(s.orelse)), s))
                continue
            if isinstance(s, gast.For):
                out.append(self.loop(s))
                continue
            if isinstance(s, gast.FunctionDef) and s.name in self.active:
                out.extend([s, self.function_tangent(s)])
                continue
            produced = self.statement(s)
            if produced != [s] and not isinstance(s, gast.FunctionDef):
                line = self.source.file_line(s)
                if line != commented:
                    out.append(N.comment(f"line {line}: {self.source.text(s)}"))
                    commented = line
            out.extend(produced)
        return out

    def loop(self, s):
        """``for v in xs`` with ``v`` active walks ``xs``'s tangent alongside: ``zip(xs, xs_dot)``."""
        body = self.block(s.body)
        orelse = self.block(s.orelse)
        targets = [t.id for t in s.target.elts] if isinstance(s.target, gast.Tuple) else [s.target.id]
        if not any(t in self.active for t in targets):
            return N.located(gast.For(target=s.target, iter=s.iter, body=body, orelse=orelse, type_comment=None), s)
        it = s.iter
        func = self.scope.resolve(it.func) if isinstance(it, gast.Call) else None
        if func is enumerate and len(targets) == 2:
            tangent_iter, tangent_target = self.iter_tangent(it.args[0], s), N.store(self.dot(targets[1]))
        elif len(targets) == 1:
            tangent_iter, tangent_target = self.iter_tangent(it, s), N.store(self.dot(targets[0]))
        else:
            tangent_iter = self.iter_tangent(it, s)
            tangent_target = N.tup([N.store(self.dot(t)) for t in targets], gast.Store())
        pairs = N.call(self.aliases.ref(builtins.zip, "zip"), [N.clone(it), tangent_iter])
        target = N.tup([N.clone(s.target), tangent_target], gast.Store())
        return N.located(gast.For(target=target, iter=pairs, body=body, orelse=orelse, type_comment=None), s)

    def iter_tangent(self, it, loop):
        """What a loop over ``it`` walks in step with it: ``xs_dot`` for ``xs``, ``reversed(xs_dot)``
        for ``reversed(xs)``, ``zip(a_dot, b_dot)`` for ``zip(a, b)``."""
        if isinstance(it, (gast.Name, gast.Tuple, gast.List)):
            return self.tangent_of(it)
        func = self.scope.resolve(it.func) if isinstance(it, gast.Call) else None
        if func in (reversed, zip) and not it.keywords:
            return N.call(self.aliases.ref(func, func.__name__), [self.iter_tangent(a, loop) for a in it.args])
        raise self.source.error(UnsupportedSyntaxError, "forward mode cannot follow this loop's iterable", loop,
                                hint="loop over a variable, range(...), enumerate, zip or reversed of variables")

    def function_tangent(self, s):
        """``def h(a): ...`` reading active values (a pullback, say): its tangent is its own tangent code
        ``h_jvp(a_dot, a)``, with respect to every parameter, reading the outer tangents it needs."""
        from ..front.source import Source
        node, source, scope, enclosing, _ = self.nested.defs[s.name]
        positional = [a.id for a in node.args.posonlyargs + node.args.args]
        if node.args.defaults or node.args.vararg or node.args.kwonlyargs or node.args.kwarg:
            raise self.source.error(UnsupportedSyntaxError, f"forward mode cannot differentiate the function `{s.name}` "
                                    "defined here, which reads values being differentiated, with default, * or "
                                    "keyword-only parameters", s, hint="give it plain positional parameters")
        jvp_name = self.namer.fresh(f"{s.name}_jvp")
        self.dots[s.name] = jvp_name
        wrt = tuple(range(len(positional)))
        inner = Source(fn=None, tree=N.clone(node), filename=source.filename, first_line=source.first_line,
                       lines=source.lines)
        seeds = sorted(N.free_loads(node) & self.active)
        return self.nested.differentiate(inner, scope, self.namer, self.aliases, wrt, "jvp", jvp_name,
                                         (s.name, wrt, jvp_name), self.nested, enclosing, None, False, seeds,
                                         self.dots)

    def value_call(self, s, target):
        """``r = h(a)`` with ``h`` an active function value: ``r, r_dot = h_dot(a_dot, a)``."""
        call = s.value
        if call.keywords or any(isinstance(a, gast.Starred) for a in call.args):
            raise self.source.error(UnsupportedSyntaxError, "forward mode calls a differentiated function value with "
                                    "positional arguments only", s, hint="pass the arguments by position")
        return self.value_and_tangent(target, N.call(N.name(self.dot(call.func.id)),
                                                     [self.tangent_of(a) for a in call.args]
                                                     + [N.clone(a) for a in call.args]))

    def value_and_tangent(self, target, call):
        """``y, y_dot = call``: one statement giving the value with its tangent, in place of the primal's."""
        both = N.assign(N.tup([N.as_store(N.clone(target)), self.tangent_target(target)], gast.Store()), call)
        both.replaces_primal = True
        return [both]

    def statement(self, s):
        if isinstance(s, gast.Assign):
            tangent = [N.located(t, s) for t in self.assign(s)]
            if tangent and getattr(tangent[-1], "replaces_primal", False):
                return tangent                           # a call that returns the value with its tangent
            return [s] + tangent
        if isinstance(s, gast.Expr) and isinstance(s.value, gast.Call):
            return [s] + self.expression_statement(s)
        return [s]

    # --- one assignment ----------------------------------------------------------------------
    def assign(self, s):
        target = s.targets[0]
        if isinstance(target, (gast.Subscript, gast.Attribute)):
            if set(names_in(target.value)) & self.active:
                raise self.source.error(UnsupportedSyntaxError, "writing into an array that is being "
                                        "differentiated is not supported", s,
                                        hint="build a new array instead (np.where, np.concatenate, or arithmetic "
                                             "with a mask)")
            return []
        names = [target.id] if isinstance(target, gast.Name) else [t.id for t in target.elts]
        if not any(n in self.active for n in names):
            return []
        value = s.value
        popped = self.pop(value)
        if popped is not None:
            return [N.assign(self.tangent_target(target), popped)]
        op = classify(value, self.scope)
        if op.nondiff:
            return [N.assign(self.tangent_target(target), self.zeros(target))]
        if op.primitive is COPY:
            return [N.assign(self.tangent_target(target), self.tangent_of(op.args[0]))]
        if op.primitive is PACK:
            elts = [self.tangent_of(e) for e in op.args]
            if isinstance(value, gast.Call):                     # a namedtuple: the same type
                tangent = N.call(N.clone(value.func), elts)
            else:
                tangent = type(value)(elts=elts, ctx=gast.Load())
            return [N.assign(self.tangent_target(target), tangent)]
        if op.primitive is DICT:
            return [N.assign(self.tangent_target(target),
                             gast.Dict(keys=[N.clone(k) for k in op.keys], values=[self.tangent_of(v) for v in op.args]))]
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) and value.func.id in self.active:
            return self.value_call(s, target)
        if not any(set(names_in(a)) & self.active for a in list(op.args) + list(op.kwargs.values())):
            return [N.assign(self.tangent_target(target), self.zeros(target))]
        rule, elementwise = jvp_rule(op.primitive) if op.primitive is not UNKNOWN else (None, False)
        if rule is None and op.primitive is not UNKNOWN and user_function(op.primitive):
            return self.user_call(s, op, target)
        if op.primitive is UNKNOWN and isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
                and self.nested is not None and value.func.id in self.nested.defs:
            return self.nested_call(s, op, target)
        if rule is None:
            raise self.no_rule(s, op)
        return self.apply_rule(s, op, rule, elementwise, target)

    def tangent_target(self, target):
        if isinstance(target, gast.Name):
            return N.store(self.dot(target.id))
        return N.tup([N.store(self.dot(t.id)) if t.id in self.active else N.store("_") for t in target.elts],
                     gast.Store())

    def pop(self, value):
        """``x = stack.pop()`` (generated code's stacks): ``x_dot = stack_dot.pop()``."""
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and value.func.attr == "pop" \
                and not value.args and self.is_active(value.func.value):
            return N.call(N.attr(N.name(self.dot(value.func.value.id)), "pop"))
        return None

    def apply_rule(self, s, op, rule, elementwise, target):
        """Inline the forward rule once per argument being differentiated; add the contributions."""
        ans = N.name(target.id) if isinstance(target, gast.Name) else N.tup([N.name(t.id) for t in target.elts])
        args = list(op.args)
        if op.primitive is operator.getitem and rule is _GETITEM_JVP and self.is_active(args[0]):
            index = gast.Subscript(value=N.name(self.dot(args[0].id)), slice=N.clone(args[1]), ctx=gast.Load())
            return [N.assign(self.tangent_target(target), index)]
        if op.primitive is operator.getitem:
            args[1] = index_value(args[1], self.aliases)
        try:
            mapping = bind(rule, N.name("g"), ans, args, op.kwargs)
        except RuleError as exc:
            raise self.source.error(TransformError, f"cannot differentiate this call to `{op.label}`: {exc}", s,
                                    hint="check the arguments; s2sad supports the ones its rule for this function "
                                         "takes") from None
        params = list(inspect.signature(rule).parameters.values())[2:]
        like = shape_facts.result_like(s.value, self.scope, self.shapes) if isinstance(ans, gast.Name) else None
        same_shape = None
        if like is not None:
            cls = self.shapes.get(like, like)
            same_shape = lambda _ans, name: self.shapes.get(name, name) == cls   # noqa: E731
        prelude, terms = [], []
        for param in params:
            if param.kind not in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD, param.VAR_POSITIONAL):
                break
            atom = mapping.get(param.name)
            if atom is None:
                continue
            if param.kind is param.VAR_POSITIONAL:
                if not any(self.is_active(e) for e in atom.elts):
                    continue
                g = N.tup([N.name(self.dot(e.id)) if self.is_active(e) else N.const(None) for e in atom.elts])
            elif set(names_in(atom)) & self.active:
                if not isinstance(atom, gast.Name):
                    g = self.tangent_of(atom)
                else:
                    g = N.name(self.dot(atom.id))
            else:
                continue
            try:
                stmts, results = inline(rule, g, ans, args, op.kwargs, self.aliases, same_shape, tangent=elementwise,
                                        drop_defaults=True)
            except (OSError, TypeError, NameError, SyntaxError, RuleError) as exc:
                name = getattr(rule, "__qualname__", repr(rule))
                raise self.source.error(TransformError, f"the forward rule {name} for `{op.label}` cannot be used: "
                                        f"{exc}", s, hint="a rule must be a function defined in a .py file, with "
                                                          "straight-line assignments followed by one `return`") from None
            term = results.get(param.name)
            if term is None:
                continue
            prelude.extend(stmts)
            terms.append(term)
        if not terms:
            return [N.assign(self.tangent_target(target), self.zeros(ans))]
        total = terms[0]
        for term in terms[1:]:
            total = N.add(total, term)
        return prelude + [N.assign(self.tangent_target(target), total)]

    # --- calls to the user's functions ------------------------------------------------------------
    def user_call(self, s, op, target):
        """``y = g(a, b)``: ``y, y_dot = g_jvp(a_dot, a, b)`` with g's own tangent code."""
        callee = unwrap(op.primitive)
        positional = callee.__code__.co_varnames[:callee.__code__.co_argcount]
        signature = inspect.signature(callee)

        def link(indices, kinds):
            own = self.own
            if own is not None and not isinstance(own[0], str) and callee.__code__ is unwrap(own[0]).__code__ \
                    and indices == own[1] and kinds == own[3]:
                return N.name(own[2])
            return self.aliases.ref(TangentLink(callee, indices, kinds), f"{callee.__name__}_jvp")
        return self.call_through(s, op, target, signature, positional, link)

    def nested_call(self, s, op, target):
        name = s.value.func.id
        signature, positional = nested_signature(self.nested.defs[name][0])

        def link(indices, kinds):
            own = self.own
            if own is not None and own[0] == name and indices == own[1]:
                return N.name(own[2])
            return N.name(self.nested.link(name, indices, self, s))
        return self.call_through(s, op, target, signature, positional, link)

    def call_through(self, s, op, target, signature, positional, link):
        wrt = differentiated_arguments(self, s, op, signature, positional)
        indices = tuple(i for i, _ in wrt)
        numbers = {i for i, atom in wrt if isinstance(atom, gast.Name) and self.shapes.get(atom.id) == shape_facts.SCALAR}
        kinds = tuple(-1 if i in numbers else None for i in range(max(numbers) + 1)) if numbers else ()
        func = link(indices, kinds)
        call = N.call(func, [self.tangent_of(atom) for _, atom in wrt] + [N.clone(a) for a in s.value.args],
                      {k.arg: N.clone(k.value) for k in s.value.keywords})
        return self.value_and_tangent(target, call)

    # --- statements that change a value in place -----------------------------------------------------
    def expression_statement(self, s):
        """``items.append(v)``: ``items_dot.append(v_dot)``; ``items.pop()`` and ``_s2.index_add(buf, i, g)``
        likewise."""
        value = s.value
        popped = self.pop(value)
        if popped is not None:                             # items.pop(): the generated code's stacks
            return [N.located(gast.Expr(value=popped), s)]
        op = classify(value, self.scope)
        if op.primitive is APPEND:
            items, item = op.args
            if not self.is_active(items):
                return []
            call = N.call(N.attr(N.name(self.dot(items.id)), "append"), [self.tangent_of(item)])
            return [N.located(gast.Expr(value=call), s)]
        if op.primitive is runtime.index_add:
            buf, idx, g = op.args
            if not self.is_active(buf):
                return []
            call = N.call(self.aliases.ref(runtime.index_add, "index_add"),
                          [N.name(self.dot(buf.id)), N.clone(idx), self.tangent_of(g)])
            return [N.located(gast.Expr(value=call), s)]
        touched = {n for a in list(op.args) + list(op.kwargs.values()) for n in names_in(a)} & self.active
        if touched and not op.nondiff:
            raise self.source.error(UnsupportedSyntaxError, "a call that may modify a value being differentiated "
                                    "in place", s, hint="use a function that returns a new value (in-place updates "
                                                        "cannot be differentiated)")
        return []

    def no_rule(self, s, op):
        label = op.label
        if op.primitive is UNKNOWN:
            return self.source.error(NoRuleError, f"cannot differentiate `{label}` in forward mode: s2sad cannot tell "
                                     "which function it is", s,
                                     hint="call a module-level function, or register rules with "
                                          "`@s2sad.rules.vjp(function)` and `@s2sad.rules.jvp(function)`")
        if vjp_rule(op.primitive) is not None:
            return self.source.error(NoRuleError, f"`{label}` has a reverse rule but no forward rule", s,
                                     hint=f"register one with `@s2sad.rules.jvp({label})`")
        return self.source.error(NoRuleError, f"cannot differentiate `{label}`: no derivative rule", s,
                                 hint=f"register one with `@s2sad.rules.jvp({label})`")


def _place_nested(stmts, nested):
    """Put the tangent code generated for a function defined inside right after its ``def``."""
    i = 0
    while i < len(stmts):
        s = stmts[i]
        for field in ("body", "orelse"):
            if isinstance(s, (gast.If, gast.For, gast.While)):
                _place_nested(getattr(s, field), nested)
        if isinstance(s, gast.FunctionDef) and s.name in nested.trees:
            stmts[i + 1:i + 1] = nested.trees[s.name]
            i += len(nested.trees[s.name])
        i += 1
