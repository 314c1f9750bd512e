"""Forward mode: tangent statements interleaved with the primal ones.

Each active ``y = op(a, b)`` is followed by ``y_dot = ...``: the forward rule of ``op`` (rules/,
beside its reverse rule) inlined once per argument being differentiated, with ``g`` bound to
that argument's tangent; the contributions add up. Branches and loops keep their shape (a
lowered loop reads its element by index, so the tangent reads the same index of the
sequence's tangent); a call of a user function calls that function's own tangent code, which
returns ``(value, tangent)``. Nothing is recorded: there is no backward sweep. Normalization
made sure no statement reads the name it assigns, so a rule's arguments still hold their
values when the tangent statement runs after the primal one.

>>> import numpy as np
>>> from s2sad.unit import unit_for_text
>>> from s2sad.front import normalize
>>> unit = unit_for_text('''
... def f(x, y):
...     a = np.sin(x)
...     z = a * y
...     return z
... ''', {"np": np}, kind="jvp")
>>> fn = normalize.run(unit.source.tree, unit)
>>> unit.facts.active = frozenset({"x", "a", "z"})
>>> unit.name = "f_jvp"
>>> from s2sad.back.emit import source_text
>>> print(source_text(run(fn, unit)), end="")
def f_jvp(x_dot, x, y):
    # line 2: a = np.sin(x)
    a = np.sin(x)
    a_dot = x_dot * np.cos(x)
    # line 3: z = a * y
    z = a * y
    z_dot = _s2.broadcast(a_dot * y, z)
    return (z, z_dot)
"""
import functools
import operator

import gast

from .. import nodes as N
from .. import calls, nested, runtime
from ..analysis import shapes as shape_facts
from ..analysis.ops import APPEND, COPY, DICT, PACK, UNKNOWN, classify, names_in
from ..back.link import Link
from ..errors import NoRuleError, TransformError, UnsupportedSyntaxError
from ..front.source import unwrap
from .. import inline as inlining
from ..inline import RuleError, bind, inline
from ..rules.registry import explain, jvp_rule, vjp_rule

def run(fn, unit):
    """The tangent function of the normalized function ``fn``: its parameters are the tangents of the
    ``wrt`` parameters, then ``fn``'s own; it returns ``(value, tangent of the value)``."""
    t = _Tangent(unit)
    *body, ret = fn.body
    params = N.params(fn)
    wrt = unit.wrt_names
    # a parameter held constant that becomes active (y = y * x with y reassigned) starts from a zero tangent
    out = [N.assign(t.dot(p), t.zeros(N.name(p))) for p in params if p in t.active and p not in wrt]
    out += t.block(body)
    result = ret.value
    out.append(N.ret(N.tup([N.clone(result), t.tangent_of(result)])))
    args = N.clone(fn.args)
    dots = [N.name(t.dot(w), gast.Param()) for w in wrt]
    if args.posonlyargs:
        args.posonlyargs = dots + args.posonlyargs
    else:
        args.args = dots + args.args
    for a in args.args + args.posonlyargs + args.kwonlyargs:
        a.annotation = None
    return gast.FunctionDef(name=unit.name, args=args, body=out, decorator_list=[], returns=None,
                            type_comment=None, type_params=[])


class _Tangent:
    def __init__(self, unit):
        self.unit = unit
        self.active = unit.facts.active
        self.dots = {}
        self.owned = set()       # names whose tangent is, here, a private buffer (written into in place)

    def dot(self, name):
        if name not in self.dots:
            self.dots[name] = self.unit.namer.derived(name, "dot")
        return self.dots[name]

    def is_active(self, atom):
        return isinstance(atom, gast.Name) and atom.id in self.active

    def zeros(self, atom):
        """The zero tangent of ``atom``."""
        if isinstance(atom, gast.Constant) or isinstance(atom, gast.Name) and atom.id in self.unit.facts.numbers:
            return N.const(0.0)
        if isinstance(atom, (gast.Tuple, gast.List)):
            return type(atom)(elts=[self.zeros(e) for e in atom.elts], ctx=gast.Load())
        if isinstance(atom, gast.Dict):
            return gast.Dict(keys=[N.clone(k) for k in atom.keys], values=[self.zeros(v) for v in atom.values])
        return N.call(self.unit.aliases.ref(runtime.zeros_like, "zeros_like"), [N.clone(atom)])

    def tangent_of(self, atom):
        """The tangent of an atom: its ``_dot`` name if active, else zeros."""
        if self.is_active(atom):
            return N.name(self.dot(atom.id))
        if isinstance(atom, (gast.Tuple, gast.List)):
            return type(atom)(elts=[self.tangent_of(e) for e in atom.elts], ctx=gast.Load())
        if isinstance(atom, gast.Dict):
            return gast.Dict(keys=[N.clone(k) for k in atom.keys], values=[self.tangent_of(v) for v in atom.values])
        return self.zeros(atom)

    # --- blocks ---------------------------------------------------------------------------
    def block(self, stmts):
        out = []
        commented = None
        for s in stmts:
            if isinstance(s, gast.If):
                before = set(self.owned)
                body = self.block(s.body)
                after_body, self.owned = self.owned, before
                orelse = self.block(s.orelse)
                self.owned &= after_body
                out.append(N.if_(s.test, body or [gast.Pass()], orelse, like=s))
                continue
            if isinstance(s, (gast.While, gast.For)):
                out.extend(self.own_before_loop(s))
                stored = _stored(s)
                self.owned -= stored
                body = self.block(s.body)
                self.owned -= stored
                orelse = self.block(s.orelse)
                if isinstance(s, gast.While):
                    out.append(N.located(gast.While(test=s.test, body=body, orelse=orelse), s))
                else:
                    out.append(N.located(gast.For(target=s.target, iter=s.iter, body=body, orelse=orelse,
                                                  type_comment=None), s))
                continue
            produced = self.statement(s)
            if produced != [s] and not isinstance(s, gast.FunctionDef):
                line = self.unit.source.file_line(s)
                if line != commented:
                    produced.insert(0, N.comment(f"line {line}: {self.unit.source.text(s)}"))
                    commented = line
            out.extend(produced)
        return out

    def statement(self, s):
        from ..reverse.adjoints import nondiff_method_check
        check = nondiff_method_check(self.unit, s)       # (g.all() of an object defining all itself: refused)
        if check is not None:
            return [check] + self.statement_tangent(s)
        return self.statement_tangent(s)

    def statement_tangent(self, s):
        if isinstance(s, gast.Assign):
            tangent = self.assign(s)
            if tangent and getattr(tangent[-1], "replaces_primal", False):
                return [N.located(t, s) for t in tangent]         # a call returning the value with its tangent
            return [s] + [N.located(t, s) for t in tangent]
        if isinstance(s, gast.Expr) and isinstance(s.value, gast.Call):
            return [s] + self.expression(s)
        return [s]

    # --- writes into arrays, lists and dicts ---------------------------------------------------------
    def own(self, name):
        """``x_dot = owned_tangent(x_dot, x)``: a private copy to write into (another tangent may share it)."""
        self.owned.add(name)
        helper = self.unit.aliases.ref(runtime.owned_tangent, "owned_tangent")
        return N.assign(self.dot(name), N.call(helper, [N.name(self.dot(name)), N.name(name)]))

    def own_before_loop(self, loop):
        """Tangents written into in a loop that never rebinds them get their private copy once, before it."""
        stored = _stored(loop)
        written = sorted({s.targets[0].value.id for s in N.statements(loop.body) if isinstance(s, gast.Assign)
                          and isinstance(s.targets[0], gast.Subscript) and isinstance(s.targets[0].value, gast.Name)})
        return [N.located(self.own(x), loop) for x in written
                if x in self.active and x not in stored and x not in self.owned]

    def item_write(self, s):
        """``x[idx] = v``: ``x_dot[idx] = v_dot`` into a tangent buffer this code owns."""
        target = s.targets[0]
        x = target.value.id
        if x not in self.active:
            return []
        out = [] if x in self.owned else [self.own(x)]
        if set(names_in(s.value)) & self.active:
            value = self.tangent_of(s.value)
        elif isinstance(self.unit.facts.kinds.get(x), int) and self.unit.facts.kinds[x] >= 0:
            value = N.const(0.0)                       # (into an array: broadcast)
        else:                                          # (d[k] = []: an item of a dict or a list gets its own zero)
            value = self.zeros(s.value)
        if not isinstance(value, gast.Constant):        # (x an integer array: the value written is truncated)
            value = N.call(self.unit.aliases.ref(runtime.written_tangent, "written_tangent"), [value, N.name(x)])
        out.append(N.assign(gast.Subscript(value=N.name(self.dot(x)), slice=N.clone(target.slice), ctx=gast.Store()),
                            value))
        return out

    # --- one assignment ----------------------------------------------------------------------
    def assign(self, s):
        target = s.targets[0]
        if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
            return self.item_write(s)
        if isinstance(target, (gast.Subscript, gast.Attribute)):
            return []                     # refused by analysis/effects.py where it matters
        names = [n.id for n in N.walk(target) if isinstance(n, gast.Name)]
        self.owned.difference_update(names)
        if not any(n in self.active for n in names):
            return []
        value = s.value
        op = classify(value, self.unit.scope)
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
        called = [value.func] if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) else []
        if not any(set(names_in(a)) & self.active for a in list(op.args) + list(op.kwargs.values()) + called):
            return [N.assign(self.tangent_target(target), self.zeros(target))]     # (`layer(x)`: the layer counts)
        from ..reverse.adjoints import sequence_aware
        op = sequence_aware(self.unit, op)
        rule, elementwise = jvp_rule(op.primitive) if op.primitive is not UNKNOWN else (None, False)
        callee = self.callee(s, op)
        if rule is None and callee is not None:
            return self.user_call(s, op, target, callee)
        if rule is None:
            raise self.no_rule(s, op)
        from ..reverse.adjoints import numpy_method_check
        check = numpy_method_check(self.unit, s, op)       # (g.mean() of an object defining mean itself: refused)
        return ([check] if check is not None else []) + self.apply_rule(s, op, rule, elementwise, target)

    def tangent_target(self, target):
        if isinstance(target, gast.Name):
            return N.store(self.dot(target.id))
        return N.tup([self.tangent_target(t) if isinstance(t, gast.Tuple) or t.id in self.active else N.store("_")
                      for t in target.elts], gast.Store())

    def apply_rule(self, s, op, rule, elementwise, target):
        """Inline the forward rule once per argument being differentiated; add the contributions."""
        from ..reverse.adjoints import refuse_underived, shape_checked, users_rule
        unit = self.unit
        ans = N.name(target.id) if isinstance(target, gast.Name) else N.tup([N.name(t.id) for t in target.elts])
        args = list(op.args)
        if op.primitive is operator.getitem and rule is jvp_rule(operator.getitem)[0] and self.is_active(args[0]):
            index = gast.Subscript(value=N.name(self.dot(args[0].id)), slice=N.clone(args[1]), ctx=gast.Load())
            return [N.assign(self.tangent_target(target), index)]     # (`L_dot[:]` as written: `L_dot[slice(None,
            # None)]` was taken for an item of the list by the kinds, its adjoint at second order for a number)
        if op.primitive is operator.getitem:
            args[1] = calls.index_value(args[1], unit.aliases)
        kwargs = op.kwargs
        if users_rule(rule):                       # (its own names for the function's parameters)
            args, kwargs = inlining.users_arguments(op.primitive, args, kwargs)
        try:
            mapping = bind(rule, N.name("g"), ans, args, kwargs)
        except RuleError as exc:
            raise unit.error(TransformError, f"cannot differentiate this call to `{op.label}`: {exc}", s,
                             hint="check the arguments; s2sad supports the ones its rule for this function "
                                  "takes") from None
        params = list(inlining.signature(rule).parameters.values())[2:]
        like = shape_facts.result_like(s.value, unit.scope, unit.facts.shapes) \
            if isinstance(ans, gast.Name) and unit.options.specialize else None
        same_shape = None
        if like is not None:
            cls = unit.facts.shapes.get(like, like)
            same_shape = lambda _ans, name: unit.facts.shapes.get(name, name) == cls   # noqa: E731
        prelude, terms = [], []
        for param in params:
            if param.kind not in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD, param.VAR_POSITIONAL):
                break
            atom = mapping.get(param.name)
            if atom is None:
                continue
            if param.kind is param.VAR_POSITIONAL:     # (an item may be a literal holding active values: (x, 3.0))
                if not any(set(names_in(e)) & self.active for e in atom.elts):
                    continue
                g = N.tup([self.tangent_of(e) if set(names_in(e)) & self.active else N.const(None) for e in atom.elts])
            elif set(names_in(atom)) & self.active:
                g = self.tangent_of(atom) if not isinstance(atom, gast.Name) else N.name(self.dot(atom.id))
            else:
                continue
            try:
                sequences = inlining.sequences_of(unit)
                if isinstance(atom, gast.Name) and atom.id in sequences and isinstance(g, gast.Name):
                    sequences = sequences | {g.id}             # (the tangent of a list is a list)
                g = inlining.as_arrays(op.primitive, [g], unit.aliases, sequences)[0]
                stmts, results = inline(rule, g, ans, inlining.as_arrays(op.primitive, args, unit.aliases, sequences), kwargs,
                                        unit.aliases, same_shape, tangent=elementwise, drop_defaults=True)
            except (OSError, TypeError, NameError, SyntaxError, RuleError) as exc:
                name = getattr(rule, "__qualname__", repr(rule))
                raise unit.error(TransformError, f"the forward rule {name} for `{op.label}` cannot be used: "
                                 f"{exc}", s, hint="a rule must be a function defined in a .py file, with "
                                                   "straight-line assignments followed by one `return`") from None
            if param.name not in results:
                raise unit.error(NoRuleError, f"the forward rule for `{op.label}` gives no tangent for its "
                                 f"argument `{param.name}`, which depends on the differentiated input here", s,
                                 hint=f"make {getattr(rule, '__qualname__', 'the rule')} return one for it (None if "
                                      f"it has none)")
            term = results.get(param.name)
            if term is None:
                continue
            refuse_underived(unit, s, op, [(atom, term)])
            if users_rule(rule) and isinstance(ans, gast.Name):
                term = shape_checked(unit, s, op, rule, term, ans, "a tangent",
                                     unit.aliases.ref(runtime.rule_shaped, "rule_shaped"))
            if unit.options.specialize:                # real_only(x) of a real number: x
                stmts = inlining.drop_real_checks(stmts, unit.facts.numbers)
                term = inlining.drop_real_checks([term], unit.facts.numbers)[0]
            prelude.extend(stmts)
            terms.append(term)
        if not terms:
            return [N.assign(self.tangent_target(target), self.zeros(ans))]
        total = terms[0]
        kind = unit.facts.kinds.get(target.id) if isinstance(target, gast.Name) else None
        container = not (type(kind) is int or elementwise and op.primitive not in (max, min))
        for term in terms[1:]:                     # a tuple's or list's tangent (builtin max of tuples or records too)
            # adds item by item (`+` would join them: np.linalg.lstsq's two tuples); numbers, arrays (and what an
            # elementwise function gives): `+`
            total = N.call(self.unit.aliases.ref(runtime.added, "added"), [total, term]) if container \
                else N.add(total, term)
        return prelude + [N.assign(self.tangent_target(target), total)]

    # --- calls to the user's functions ------------------------------------------------------------
    def callee(self, s, op):
        value = s.value
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) and value.func.id in self.unit.lifted:
            return self.unit.lifted[value.func.id]
        if op.primitive is not UNKNOWN and calls.user_function(op.primitive):
            return op.primitive
        return calls.dynamic(value, op, self.unit.scope)

    def dynamic_call(self, s, target, callee):
        """``y = f(a, b)`` with ``f`` known only at run time: ``y, y_dot = s2sad.jvp(f, (a, b), (a_dot, None))``."""
        unit = self.unit
        value = s.value
        method = calls.varied_method(unit, callee)      # obj.m(...) with obj differentiated: m(obj, ...)
        if method is None:
            calls.refuse_varied_callee(unit, s, callee)
        func = unit.aliases.ref(calls.MethodCall(method), f"{method}_method") if method else N.clone(callee.func)
        args = ([N.clone(calls.method_object(callee))] if method else []) + value.args
        if value.keywords:
            if any(set(names_in(k.value)) & self.active for k in value.keywords):
                raise unit.error(UnsupportedSyntaxError, "a differentiated value is passed by keyword to "
                                 f"`{N.unparse(callee.func)}`, a function known only when the code runs", s,
                                 hint="pass it by position")
            bind_keywords = unit.aliases.ref(functools.partial, "partial")
            func = N.call(bind_keywords, [func], {k.arg: N.clone(k.value) for k in value.keywords})
        primals = N.tup([N.clone(a) for a in args])
        tangents = N.tup([self.no_tangents_for(a, s, callee) if isinstance(a, gast.Starred) else
                          self.tangent_of(a) if set(names_in(a)) & self.active else N.const(None)
                          for a in args])
        call = N.call(unit.aliases.ref(nested.dynamic_jvp, "s2sad_jvp"), [func, primals, tangents])
        both = N.assign(N.tup([N.as_store(N.clone(target)), self.tangent_target(target)], gast.Store()), call)
        both.replaces_primal = True
        return [both]

    def no_tangents_for(self, starred, s, callee):
        """``*[None] * len(xs)`` for an argument ``*xs`` holding nothing differentiated (else refused)."""
        if set(names_in(starred.value)) & self.active:
            raise self.unit.error(UnsupportedSyntaxError, f"a differentiated value is passed with `*` to "
                                  f"`{N.unparse(callee.func)}`, a function known only when the code runs", s,
                                  hint="pass the items one by one")
        count = N.call(self.unit.aliases.ref(len, "len"), [N.clone(starred.value)])
        nones = gast.BinOp(left=gast.List(elts=[N.const(None)], ctx=gast.Load()), op=gast.Mult(), right=count)
        return gast.Starred(value=nones, ctx=gast.Load())

    def user_call(self, s, op, target, callee):
        """``y = g(a, b)``: ``y, y_dot = g_jvp(a_dot, a, b)`` with g's own tangent code."""
        unit = self.unit
        if isinstance(callee, calls.Dynamic):
            return self.dynamic_call(s, target, callee)
        lifted = callee if hasattr(callee, "node") else None
        signature, positional = calls.signature_of(callee, lifted)
        wrt = calls.differentiated_arguments(unit, s, op, signature, positional, self.active)
        indices = tuple(i for i, _ in wrt)
        kinds = calls.argument_kinds(unit, op, signature, positional, indices)
        if lifted is not None:
            link_target = calls.nested(unit, lifted)
            name = lifted.node.name
        else:
            link_target = unwrap(callee)
            name = N.identifier(link_target.__name__)
        if unit.own is not None and unit.own == (link_target, indices, "jvp", kinds):
            func = N.name(unit.name)
        else:
            link = Link(target=link_target, wrt=indices, kind="jvp", kinds=kinds, options=unit.options)
            unit.links.append(link)
            func = unit.aliases.ref(link, f"{name}_jvp")
        call = N.call(func, [self.tangent_of(atom) if not isinstance(atom, tuple) else N.tup(
            [self.tangent_of(a) for a in atom]) for _, atom in wrt] + [N.clone(a) for a in s.value.args],
            {k.arg: N.clone(k.value) for k in s.value.keywords})
        both = N.assign(N.tup([N.as_store(N.clone(target)), self.tangent_target(target)], gast.Store()), call)
        both.replaces_primal = True
        return [both]

    # --- statements that change a value in place -----------------------------------------------------
    def expression(self, s):
        """``items.append(v)``: ``items_dot.append(v_dot)``."""
        op = classify(s.value, self.unit.scope)
        if op.primitive is APPEND:
            items, item = op.args
            if not self.is_active(items):
                return []
            call = N.call(N.attr(N.name(self.dot(items.id)), "append"), [self.tangent_of(item)])
            return [N.located(gast.Expr(value=call), s)]
        return []                          # refused by analysis/effects.py where it matters

    def no_rule(self, s, op):
        label = op.label
        if op.primitive is UNKNOWN:
            return self.unit.error(NoRuleError, f"cannot differentiate `{label}` in forward mode: s2sad cannot tell "
                                   "which function it is", s,
                                   hint="call a module-level function, or register rules with "
                                        "`@s2sad.rules.vjp(function)` and `@s2sad.rules.jvp(function)`")
        explained = explain(op.primitive, label)
        if explained is not None:
            return self.unit.error(NoRuleError, explained[0], s, hint=explained[1])
        if vjp_rule(op.primitive) is not None:
            return self.unit.error(NoRuleError, f"`{label}` has a reverse rule but no forward rule", s,
                                   hint=f"register one with `@s2sad.rules.jvp({label})`")
        return self.unit.error(NoRuleError, f"cannot differentiate `{label}`: no derivative rule", s,
                               hint=f"register one with `@s2sad.rules.jvp({label})`")


def _stored(loop):
    """Names a loop (its body, header included) binds."""
    return {n.id for n in N.walk(loop) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


__all__ = ["run", "UnsupportedSyntaxError"]
