"""Reverse mode, one statement at a time: the adjoint statements of ``y = op(x1, x2)``.

For an active ``y`` whose adjoint is defined, the rule of ``op`` (rules/) is inlined with
``g = y_bar`` and each result is added into the adjoint of the matching argument; a call of a
user function calls its linked vjp's pullback instead. Then the statement consumes ``y_bar`` and
says, with a ``Restore``, that from here on the backward sweep needs ``y`` as it was before.

>>> import numpy as np
>>> from s2sad.unit import unit_for_text
>>> from s2sad.front import normalize
>>> from s2sad.reverse import sweep
>>> unit = unit_for_text('''
... def f(x):
...     y = np.sin(x)
...     z = y * x
...     return z
... ''', {"np": np})
>>> fn = normalize.run(unit.source.tree, unit)
>>> unit.facts.active = frozenset({"x", "y", "z"})
>>> backward, _ = sweep.run(fn, unit)
>>> print("\\n".join(N.unparse(s) for s in backward.body if isinstance(s, gast.Assign)))
y_bar = _s2.unbroadcast(z_bar * x, y)
x_bar = _s2.unbroadcast(z_bar * y, x)
x_bar = x_bar + y_bar * np.cos(x)
"""
import functools
import math
import operator
import types

import gast
import numpy as np

from .. import nodes as N
from .. import calls, markers, nested, runtime, tree
from ..analysis import shapes as shape_facts
from ..analysis.effects import resolved_or_none
from ..analysis.ops import APPEND, COPY, DICT, PACK, UNKNOWN, classify, names_in
from ..back.link import Link
from ..errors import NoRuleError, TransformError, UnsupportedSyntaxError
from ..front.source import unwrap
from .. import inline as inlining
from ..inline import RuleError, bind, inline
from ..rules.registry import explain, jvp_rule, vjp_rule
from ..runtime import concatenation, repetition
from ..runtime import checkpoint_rerun, rng_state


def assign(sweep, s, defined):
    """Backward statements for the assignment ``s``; updates ``defined``."""
    target = s.targets[0]
    if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
        return _item_write(sweep, s, defined)
    if isinstance(target, (gast.Subscript, gast.Attribute)):
        return []                         # refused by analysis/effects.py where it matters
    names = [n.id for n in N.walk(target) if isinstance(n, gast.Name)]
    out = []
    live = [n in sweep.active and n in defined for n in names]
    if any(live):
        if isinstance(target, gast.Name):
            g, ans = N.name(sweep.bar(target.id)), N.name(target.id)
        else:
            g = N.tup([N.name(sweep.bar(n)) if ok else N.const(None) for n, ok in zip(names, live)])
            ans = N.tup([N.name(n) for n in names])
        defined.difference_update(names)              # the overwritten value's adjoint starts from zero
        _value(sweep, s, g, ans, defined, out)
    else:
        defined.difference_update(names)
        _note_call(sweep, s)
    call = sweep.calls.get(id(s))
    restored = list(names)
    if call is not None:                  # what the forward sweep's call assigns besides the result
        restored.append(call.rng if call.checkpoint is not None else call.pullback)
    from .sweep import Restore
    return out + [Restore(n, s) for n in restored]


def _item_write(sweep, s, defined):
    """``x[idx] = v``: ``v`` receives the part of ``x_bar`` it was written to, which is then zero (the values it
    overwrote got no further); then ``x[idx]`` is put back as it was (a RestoreItem).

    ``x_bar`` is changed in place, so it must be a buffer the backward sweep owns: a private copy made
    before the outermost loop that does not assign ``x`` (see ``Sweep.own``) or right here. analysis/effects.py refuses
    writes it cannot follow (into an argument, into a value another name may hold and read afterwards)."""
    from .sweep import RestoreItem
    target = s.targets[0]
    x, v = target.value, s.value
    idx = calls.index_value(target.slice, sweep.unit.aliases)        # 1:3 -> slice(1, 3)
    out = []
    if x.id in sweep.active and x.id in defined:
        bar = sweep.bar(x.id)
        if set(names_in(v)) & sweep.active:
            grad = N.call(_helper(sweep, runtime.written_grad), [N.name(bar), N.clone(idx), N.clone(v), N.name(x.id)])
            contribute(sweep, v, grad, defined, out)
        copy = sweep.own(x.id) if sweep.enclosing else \
            N.assign(bar, N.call(_helper(sweep, runtime.owned), [N.name(bar)]))
        if copy is not None:
            out.append(copy)
        out.append(N.assign(bar, N.call(_helper(sweep, runtime.cleared), [N.name(bar), N.clone(idx)])))
    return out + [RestoreItem(x.id, idx, s)]


def _value(sweep, s, g, ans, defined, out):
    op = classify(s.value, sweep.unit.scope)
    if op.nondiff:
        return
    if op.primitive is COPY:
        if isinstance(g, gast.Tuple):                   # a, b = t: t's adjoint, an array or a container
            g = N.call(_helper(sweep, runtime.unpack_grad), [N.clone(op.args[0])] + g.elts)
        contribute(sweep, op.args[0], g, defined, out)
        return
    one_array = isinstance(s.value, gast.Call) and isinstance(op.primitive, np.ufunc) and op.primitive.nout == 1
    if isinstance(g, gast.Tuple) and (one_array or isinstance(s.value, (gast.Attribute, gast.Subscript, gast.BinOp,
                                                                         gast.UnaryOp))):
        # a, b = p.w / d["w"] / x[0] / x * 2.0: the value's adjoint from its items' (an array's, where the value
        # is one: the rule of `.w` or `*` takes an array, not a tuple with None in it). The value is computed
        # again from its operands, which hold here what they held when the statement ran (as a rule's do); so is
        # `a, b = np.sin(x)`, a ufunc's one array (pure and elementwise: cheap to compute again).
        g = N.call(_helper(sweep, runtime.unpack_grad), [N.clone(s.value)] + g.elts)
    if op.primitive in (PACK, DICT):
        keys = op.keys if op.primitive is DICT else [N.const(i) for i in range(len(op.args))]
        for key, elt in zip(keys, op.args):
            if set(names_in(elt)) & sweep.active:
                contribute(sweep, elt, N.call(_helper(sweep, tree.part), [N.clone(g), N.clone(key), N.clone(elt)]),
                           defined, out)
        return
    if sweep.unit.options.fuse and isinstance(g, gast.Name) and (_logistic(sweep, s, g, defined, out)
                                                                  or _cross_entropy(sweep, s, g, defined, out)
                                                                  or _log_softmax(sweep, s, g, defined, out)):
        return
    apply_rule(sweep, s, op, g, ans, defined, out)


def sequence_aware(unit, op):
    """``a + b`` where both may be lists or tuples, ``a * b`` where one may be and the other may be an
    ``int``: the rules of concatenation and repetition (which also handle numbers and arrays, deciding
    when the code runs). Any other ``+`` and ``*`` add and multiply (NumPy's included)."""
    def seq(a):
        return isinstance(a, (gast.List, gast.Tuple)) or isinstance(a, gast.Name) and (
            a.id in unit.facts.containers or unit.scope.is_free(a.id)
            and isinstance(unit.scope.lookup(a.id), (list, tuple)))      # a module's list (`C + [x]`)

    def integer(a):
        return isinstance(a, gast.Constant) and type(a.value) is int or \
            isinstance(a, gast.Name) and a.id in unit.facts.ints
    if op.primitive is operator.add and len(op.args) == 2 and all(seq(a) for a in op.args):
        op.primitive = concatenation
    elif op.primitive is operator.mul and len(op.args) == 2:
        a, b = op.args
        same = isinstance(a, gast.Name) and isinstance(b, gast.Name) and a.id == b.id
        if not same and (seq(a) and integer(b) or seq(b) and integer(a)):
            op.primitive = repetition
    return op


def numpy_method_check(unit, s, op):
    """A check that the object of a method call differentiated with NumPy's rule (``g.mean()``) is no object whose
    class defines that method itself (``runtime.numpy_method``), where its kind is unknown here; else None."""
    value = s.value
    if not (isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and op.args
            and isinstance(op.args[0], gast.Name) and op.label == f".{value.func.attr}()"):
        return None
    kind = unit.facts.kinds.get(op.args[0].id)    # (a parameter never rebound has its argument's kind here)
    if kind is not None:                         # an array, a number, a list or tuple: NumPy's (or Python's) method
        return None
    check = N.call(unit.aliases.ref(runtime.numpy_method, "numpy_method"), [N.name(op.args[0].id),
                                                                            N.const(value.func.attr)])
    return N.located(gast.Expr(value=check), s)


def nondiff_method_check(unit, s):
    """``numpy_method_check`` for a method call NumPy's table says has no derivative (``g.all()``,
    ``g.round()``) on a value being differentiated, or with one: no backward code reads it, so the check goes before
    the call (else None)."""
    value = s.value if isinstance(s, (gast.Assign, gast.Expr)) else None
    if not (isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute)):
        return None
    op = classify(value, unit.scope)
    if not op.nondiff or not any(isinstance(n, gast.Name) and n.id in unit.facts.varied for n in N.walk(value)):
        return None
    return numpy_method_check(unit, s, op)


def apply_rule(sweep, s, op, g, ans, defined, out):
    unit = sweep.unit
    check = numpy_method_check(unit, s, op)
    if check is not None:
        out.append(check)
    op = sequence_aware(unit, op)
    arg_ndims = tuple(unit.facts.ndims.get(a.id) if isinstance(a, gast.Name) else None for a in op.args)
    rule = vjp_rule(op.primitive, arg_ndims if unit.options.specialize else None) \
        if op.primitive is not UNKNOWN else None
    callee = _callee(sweep, s, op)
    if rule is None and callee is not None:
        return user_call(sweep, s, op, g, defined, out, callee)
    if rule is None:
        raise no_rule(sweep, s, op)
    args = list(op.args)
    if op.primitive is operator.getitem:
        raw_index = args[1]
        args[1] = calls.index_value(args[1], unit.aliases)
        element = isinstance(ans, gast.Name) and ans.id in unit.facts.numbers
        if _accumulate_in_place(sweep, args[0], args[1], g, defined, out, raw_index if element else None):
            return
    kwargs = op.kwargs
    if users_rule(rule):                           # (its own names for the function's parameters)
        args, kwargs = inlining.users_arguments(op.primitive, args, kwargs)
        if isinstance(g, gast.Tuple) and isinstance(ans, gast.Tuple):   # an unused result's adjoint: zeros, as
            zeros = _helper(sweep, runtime.zeros_like)                   # Autograd and JAX give it (not None)
            g = N.tup([N.call(zeros, [N.clone(a)]) if N.is_const(e) and e.value is None else e
                       for e, a in zip(g.elts, ans.elts)])
    try:
        mapping = bind(rule, g, ans, args, kwargs)
        like = shape_facts.result_like(s.value, unit.scope, unit.facts.shapes) \
            if isinstance(ans, gast.Name) and unit.options.specialize else None
        prelude, results = inline(rule, g, ans, inlining.as_arrays(op.primitive, args, unit.aliases, inlining.sequences_of(unit)), kwargs,
                                  unit.aliases, _shaped_like(unit, like))
        if unit.options.specialize:                    # real_only(x) of a real number: x
            prelude = inlining.drop_real_checks(prelude, unit.facts.numbers)
            results = dict(zip(results, inlining.drop_real_checks(list(results.values()), unit.facts.numbers)))
    except RuleError as exc:
        raise unit.error(TransformError, f"cannot differentiate this call to `{op.label}`: {exc}", s,
                         hint="check the arguments; s2sad supports the ones its rule for this function takes") from None
    except (OSError, TypeError, NameError, SyntaxError) as exc:
        name = getattr(rule, "__qualname__", repr(rule))
        raise unit.error(TransformError, f"the derivative rule {name} for `{op.label}` cannot be used: {exc}",
                         s, hint="a rule must be a function defined in a .py file, with straight-line "
                                 "assignments followed by one `return`") from None
    _check_complete(unit, s, op, rule, mapping, results, sweep.active)
    contributions = [(mapping[p], r) for p, r in results.items()
                     if r is not None and set(names_in(mapping[p])) & sweep.active]
    refuse_underived(unit, s, op, contributions)
    if users_rule(rule):
        contributions = [(atom, shape_checked(unit, s, op, rule, expr, atom, "an adjoint", _helper(sweep, runtime.rule_shaped)))
                         for atom, expr in contributions]
    if contributions:
        out.extend(N.located(p, s) for p in prelude)
    for atom, expr in merge_duplicates(contributions):
        contribute(sweep, atom, expr, defined, out)


def merge_duplicates(contributions):
    """Two equal contributions to one adjoint (``t * t``: ``g * t`` from either side) as one, doubled:
    ``t_bar = _t1_bar * t * 2``. Exact where the adjoint starts here (``e + e`` is ``e * 2`` in floating point,
    infinities and NaNs included); after an earlier contribution ``a + (e + e)`` replaces ``(a + e) + e`` (a
    rounding apart). Sound: the rule's expressions have no effects (straight-line rule bodies), so computing one
    once gives what computing it twice gave, where ``same_contribution``."""
    merged = []
    for atom, expr in contributions:
        twin = next((k for k, other in enumerate(merged) if same_contribution(other, (atom, expr))), None)
        if twin is None:
            merged.append((atom, expr))
        else:
            merged[twin] = (atom, N.binop(merged[twin][1], gast.Mult(), N.const(2)))
    return merged


def same_contribution(a, b):
    """Soundness condition of ``merge_duplicates`` (tests/test_soundness.py): two ``(atom, expression)`` pairs add
    the same expression into the adjoint of the same name."""
    return isinstance(a[0], gast.Name) and isinstance(b[0], gast.Name) and a[0].id == b[0].id \
        and gast.dump(a[1]) == gast.dump(b[1])


def users_rule(rule):
    """Whether ``rule`` is a user's (registered outside s2sad), whose results the generated code checks."""
    return not (getattr(rule, "__module__", None) or "s2sad").startswith("s2sad")


def shape_checked(unit, s, op, rule, expr, like, what, helper):
    """``rule_shaped(expr, like, message)``: a user rule's adjoint of ``like`` (or tangent of the result ``like``)
    checked to have its shape where the code runs (a mistake there would be broadcast into a wrong number)."""
    if not isinstance(like, gast.Name):
        return expr
    name = getattr(rule, "__qualname__", repr(rule))
    subject = "the result" if what == "a tangent" else f"`{like.id}`"
    message = str(unit.error(TransformError, f"the rule {name} for `{op.label}` gave {what} of shape {{shape}} "
                             f"for {subject}, of shape {{like}}", s,
                             hint="a vjp rule returns each argument's adjoint shaped like the argument, a jvp rule "
                                  "each argument's contribution to the tangent shaped like the result"))
    return N.call(helper, [expr, N.clone(like), N.const(message)])


FUNCTION_GIVEN = "the function it is given"      # rules' underived(...) for a function argument (fixed_point's f)


def refuse_underived(unit, s, op, contributions):
    """A rule's ``underived(what)`` for an argument that is differentiated here: refused at the user's line (an
    explicit None would be a zero, silently)."""
    for _, contribution in contributions:
        if isinstance(contribution, gast.IfExp):      # `None if ... else underived(...)`: refused if either may be
            contribution = contribution.orelse if not isinstance(contribution.body, gast.Call) else contribution.body
        expr = contribution
        if isinstance(expr, gast.Call) and isinstance(expr.func, (gast.Attribute, gast.Name)) \
                and getattr(expr.func, "attr", getattr(expr.func, "id", None)) == "underived":
            what = expr.args[0].value if expr.args and isinstance(expr.args[0], gast.Constant) else "an argument"
            label = "s2sad.grad" if op.label.endswith("grad_call") else op.label
            hint = "hold that argument constant (s2sad.stop_gradient) if its derivative is not needed"
            if what == FUNCTION_GIVEN:
                hint = "pass the differentiated values to the function as its arguments: what it reads from an " \
                       "object, a partial or a closure is not differentiated through it"
            raise unit.error(NoRuleError, f"s2sad has no derivative of `{label}` with respect to {what}, which "
                             "depends on the differentiated input here", s, hint=hint)


def _check_complete(unit, s, op, rule, mapping, results, active):
    """A rule gives a derivative (or an explicit None: none) for every argument that carries one here;
    an argument past the entries it returns gets no derivative, which would be a silent zero: refused."""
    for param in list(inlining.signature(rule).parameters.values())[2:]:
        if param.kind not in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD, param.VAR_POSITIONAL):
            break
        atom = mapping.get(param.name)
        if atom is not None and set(names_in(atom)) & active and param.name not in results:
            raise unit.error(NoRuleError, f"the rule for `{op.label}` gives no derivative for its argument "
                             f"`{param.name}`, which depends on the differentiated input here", s,
                             hint=f"make {getattr(rule, '__qualname__', 'the rule')} return one for it (None if it "
                                  f"has none)")


def _shaped_like(unit, like):
    """Whether a variable provably has the shape of the current statement's result."""
    if like is None:
        return None
    cls = unit.facts.shapes.get(like, like)
    return lambda _ans, name: unit.facts.shapes.get(name, name) == cls


# --- calls of user functions ------------------------------------------------------------------
def _callee(sweep, s, op):
    """The user function or lifted nested function ``s`` calls, or None."""
    value = s.value
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) and value.func.id in sweep.unit.lifted:
        return sweep.unit.lifted[value.func.id]
    if op.primitive is not UNKNOWN and calls.user_function(op.primitive):
        return op.primitive
    return calls.dynamic(value, op, sweep.unit.scope)


def _note_call(sweep, s):
    """A call whose result's adjoint is zero here still gets its vjp in the forward sweep (the decision is
    made per statement, so every path through the loop agrees)."""
    if id(s) in sweep.calls or not isinstance(s.value, gast.Call):
        return
    names = [n.id for n in N.walk(s.targets[0]) if isinstance(n, gast.Name)]
    if not set(names) & sweep.active:
        return
    op = classify(s.value, sweep.unit.scope)
    if op.nondiff or (op.primitive is not UNKNOWN and vjp_rule(op.primitive) is not None):
        return
    callee = _callee(sweep, s, op)
    if callee is not None:
        _link_call(sweep, s, op, callee)


def _link_call(sweep, s, op, callee):
    """``sweep.calls[id(s)]``: how the forward sweep calls ``callee`` at ``s``, and the pullback's name."""
    if id(s) in sweep.calls:
        return sweep.calls[id(s)]
    unit = sweep.unit
    if isinstance(callee, calls.Dynamic):
        return _dynamic_call(sweep, s, callee)
    lifted = callee if not callable(callee) or hasattr(callee, "node") else None
    signature, positional = calls.signature_of(callee, lifted)
    wrt = calls.differentiated_arguments(unit, s, op, signature, positional, sweep.active)
    indices = tuple(i for i, _ in wrt)
    if not indices:
        return None
    target = s.targets[0]
    base = target.id if isinstance(target, gast.Name) else "call"
    pullback = unit.namer.derived(base, "pullback")
    kinds = calls.argument_kinds(unit, op, signature, positional, indices)
    link = _link(sweep, callee, indices, kinds, lifted)
    if lifted is None and calls.is_checkpoint(op.primitive):
        rng = unit.namer.derived(base, "rng")
        call = Call(pullback=pullback, func=None, checkpoint=link, rng=rng, wrt=wrt)
    else:
        call = Call(pullback=pullback, func=link, wrt=wrt)
    sweep.calls[id(s)] = call
    return call


def _link(sweep, callee, indices, kinds, lifted):
    unit = sweep.unit
    if lifted is not None:
        name = lifted.node.name
        target = calls.nested(unit, lifted)
    else:
        target = unwrap(callee)
        name = N.identifier(target.__name__)
    own = unit.own
    if own is not None and own == (target, indices, "vjp", kinds):
        return N.name(unit.name)                       # recursion: the generated function calls itself
    link = Link(target=target, wrt=indices, kind="vjp", kinds=kinds, options=unit.options)
    unit.links.append(link)
    return unit.aliases.ref(link, f"{name}_vjp")


def _dynamic_call(sweep, s, callee):
    """``y, y_pullback = s2sad_vjp(f, wrt, a, b)`` for a function known only at run time (calls.Dynamic)."""
    unit = sweep.unit
    value = s.value
    method = calls.varied_method(unit, callee)          # obj.m(...) with obj differentiated: m(obj, ...)
    if method is None:
        calls.refuse_varied_callee(unit, s, callee)
    for k in value.keywords:
        if set(names_in(k.value)) & sweep.active:
            raise unit.error(UnsupportedSyntaxError, f"a differentiated value is passed by keyword (`{k.arg}=`) to "
                             f"`{N.unparse(callee.func)}`, a function known only when the code runs", s,
                             hint="pass it by position")
    args = ([N.clone(calls.method_object(callee))] if method else []) + value.args
    wrt = [(k, a) for k, a in enumerate(args) if set(names_in(a)) & sweep.active]
    if not wrt:
        return None
    target = s.targets[0]
    base = target.id if isinstance(target, gast.Name) else "call"
    helper = unit.aliases.ref(nested.dynamic_vjp, "s2sad_vjp")
    func = unit.aliases.ref(calls.MethodCall(method), f"{method}_method") if method else N.clone(callee.func)
    call = Call(pullback=unit.namer.derived(base, "pullback"), func=helper, wrt=wrt,
                lead=[func, N.tup([N.const(k) for k, _ in wrt])] + args[:1 if method else 0])
    sweep.calls[id(s)] = call
    return call


class Call:
    """A call of a user function on the differentiated path: ``y, pullback = f_vjp(...)`` in the forward sweep."""

    def __init__(self, pullback, func, wrt, checkpoint=None, rng=None, lead=()):
        self.pullback, self.func, self.wrt, self.checkpoint, self.rng = pullback, func, wrt, checkpoint, rng
        self.lead = list(lead)             # arguments before the call's own (a dynamic call's function, wrt)


def user_call(sweep, s, op, g, defined, out, callee):
    """``y = f(a, b)`` with ``f`` a user function: its pullback, from the linked vjp."""
    call = _link_call(sweep, s, op, callee)
    if call is None:
        return
    unit = sweep.unit
    if call.checkpoint is not None:               # run the callee's forward sweep again, with the same draws
        rerun = N.call(_helper(sweep, checkpoint_rerun), [N.clone(call.checkpoint), N.name(call.rng)]
                       + [N.clone(a) for a in s.value.args], {k.arg: N.clone(k.value) for k in s.value.keywords})
        out.append(N.assign(N.tup([N.store(unit.discard), N.store(call.pullback)], gast.Store()), rerun))
    result = N.call(N.name(call.pullback), [g])
    atoms = [atom for _, atom in call.wrt]
    if len(atoms) == 1:
        contribute(sweep, atoms[0], result, defined, out)
        return
    # a pullback returns one adjoint per differentiated argument: unpack it, straight into adjoints
    # not assigned yet, else into fresh names added afterwards
    targets, direct, pending = [], set(), []
    for atom in atoms:
        if isinstance(atom, gast.Name) and atom.id not in defined and atom.id not in direct:
            targets.append(N.store(sweep.bar(atom.id)))
            direct.add(atom.id)
        else:
            part = unit.namer.fresh(sweep.bar(atom.id)) if isinstance(atom, gast.Name) else unit.namer.temp()
            targets.append(N.store(part))
            pending.append((atom, part))
    out.append(N.assign(N.tup(targets, gast.Store()), result))
    defined.update(direct)
    for atom, part in pending:
        contribute(sweep, atom, N.name(part), defined, out)


# --- statements kept for their effect ---------------------------------------------------------
def expression(sweep, s, defined):
    """``items.append(v)``: the list's adjoint gives its last element to ``v``; other calls: none."""
    from .sweep import Unappend
    op = classify(s.value, sweep.unit.scope) if isinstance(s.value, gast.Call) else None
    if op is None or op.primitive is not APPEND:
        return []                                   # analysis/effects.py refused the ones that matter
    items, value = op.args
    if not isinstance(items, gast.Name):
        return []
    out = []
    if items.id in sweep.active and items.id in defined:
        rest = sweep.unit.namer.temp()
        parts = N.call(_helper(sweep, tree.append_grads), [N.name(sweep.bar(items.id))])
        out.append(N.assign(N.tup([N.store(sweep.bar(items.id)), N.store(rest)], gast.Store()), parts))
        contribute(sweep, value, N.name(rest), defined, out)
    return out + [Unappend(items.id, s)]


# --- accumulation -----------------------------------------------------------------------------
def contribute(sweep, atom, expr, defined, out):
    """Add ``expr`` into the adjoint of ``atom`` (a name, or a literal of names)."""
    if isinstance(atom, gast.Name):
        if atom.id not in sweep.active or isinstance(expr, gast.Constant) and expr.value is None:   # (an item of a
            return                                      # literal given no adjoint: `(c, lower)`'s flag)
        bar = sweep.bar(atom.id)
        if atom.id in defined:
            out.append(N.assign(bar, N.add(N.name(bar), expr)))
        else:
            out.append(N.assign(bar, expr))
            defined.add(atom.id)
        return
    if isinstance(atom, gast.Dict):                 # what a call passed into **kw: its adjoint is a dict
        parts = sweep.unit.namer.temp()
        out.append(N.assign(parts, expr))
        for key, value in zip(atom.keys, atom.values):
            if set(names_in(value)) & sweep.active:
                contribute(sweep, value, N.call(_helper(sweep, tree.part), [N.name(parts), N.clone(key),
                                                                            N.clone(value)]), defined, out)
        return
    if isinstance(atom, (gast.Tuple, gast.List)):
        elts = atom.elts
        if isinstance(expr, (gast.Tuple, gast.List)) and len(expr.elts) == len(elts):
            for e, x in zip(elts, expr.elts):
                contribute(sweep, e, x, defined, out)
            return
        active = [bool(set(names_in(e)) & sweep.active) for e in elts]
        ids = [e.id for e, a in zip(elts, active) if a and isinstance(e, gast.Name)]
        if len(set(ids)) == len(ids) == sum(active) and all(isinstance(e, gast.Name) for e in elts) \
                and not set(ids) & defined:    # each adjoint assigned once, none accumulated
            # one statement, no temporary holding every part until the function returns
            likes = gast.Tuple(elts=[N.clone(e) if a else N.const(None) for e, a in zip(elts, active)],
                               ctx=gast.Load())
            unused = "_" if "_" not in sweep.unit.namer.taken else sweep.unit.namer.temp()
            targets = [N.name(sweep.bar(e.id), gast.Store()) if a else N.name(unused, gast.Store())
                       for e, a in zip(elts, active)]
            out.append(N.assign(gast.Tuple(elts=targets, ctx=gast.Store()),
                                N.call(_helper(sweep, tree.parts), [expr, likes])))
            defined.update(e.id for e, a in zip(elts, active) if a)
            return
        parts = sweep.unit.namer.temp()
        out.append(N.assign(parts, expr))
        for i, e in enumerate(elts):
            if set(names_in(e)) & sweep.active:
                contribute(sweep, e, N.call(_helper(sweep, tree.part), [N.name(parts), N.const(i), N.clone(e)]),
                           defined, out)


def _accumulate_in_place(sweep, x, idx, g, defined, out, element_index=None):
    """``y = x[i]`` in a loop that leaves ``x`` alone: add ``y_bar`` into ``x_bar[i]`` in place.

    O(size of y) per iteration instead of O(size of x). Sound because ``x_bar`` is then a buffer
    the backward sweep owns (a private copy made before the outermost loop, see sweep.py), no
    other adjoint or primal value shares its memory, and ``x`` keeps its shape in the loop.
    Switch: ``accumulate``.
    """
    unit = sweep.unit
    if not (unit.options.accumulate and sweep.enclosing and isinstance(x, gast.Name) and x.id in sweep.active
            and x.id in defined and x.id not in unit.facts.numbers):
        return False
    assigned = {n.id for loop in sweep.enclosing for n in N.walk(loop) if isinstance(n, gast.Name)
                and isinstance(n.ctx, gast.Store)}
    if x.id in assigned or x.id in unit.facts.mutated:
        return False
    sweep.own(x.id)                                  # before the outermost loop: x is assigned in none
    kind = unit.facts.kinds.get(x.id)
    numbers = isinstance(kind, tuple) and kind and all(k == -1 for k in kind) and isinstance(element_index, gast.Constant) \
        and type(element_index.value) is int and -len(kind) <= element_index.value < len(kind)
    if numbers:                                      # one number of a list or tuple of numbers: an AdjList of numbers
        sweep.numbered.add(x.id)
    if element_index is not None and ((unit.facts.ndims.get(x.id) or 0) >= 1 or numbers):   # one number of an array
        target = gast.Subscript(value=N.name(sweep.bar(x.id)), slice=N.clone(element_index), ctx=gast.Store())
        out.append(gast.AugAssign(target=target, op=gast.Add(), value=N.clone(g)))
        return True
    call = N.call(_helper(sweep, runtime.index_add), [N.name(sweep.bar(x.id)), idx, N.clone(g)])
    out.append(N.assign(sweep.bar(x.id), call))
    return True


def _logistic(sweep, s, g, defined, out):
    """``p = 1 / (1 + exp(-z))`` (four statements once normalized): ``z_bar = p_bar * p * (1 - p)``.

    Written from ``p`` alone, so neither ``exp(-z)`` nor ``1 + exp(-z)`` is kept for the backward
    sweep. Sound when the chain's statements come before ``p``'s in its block and nothing between
    ``-z`` and ``p`` assigns ``z`` (``z_bar`` then still denotes the adjoint of the ``z`` that was
    negated). Other reads of the chain's values keep their own adjoint statements. Switch: ``fuse``.
    """
    found = _logistic_input(sweep, s)
    if found is None:
        return False
    name, _ = found
    p = s.targets[0].id
    contribute(sweep, N.name(name), N.binop(N.binop(N.clone(g), gast.Mult(), N.name(p)), gast.Mult(),
                                            N.binop(N.const(1.0), gast.Sub(), N.name(p))), defined, out)
    return True


def _cross_entropy(sweep, s, g, defined, out):
    """``c = y * log(p) + (1 - y) * log(1 - p)`` with ``p = 1 / (1 + exp(-z))`` (the binary cross-entropy of a
    logistic, in either order): ``z_bar = c_bar * (y - p)`` in one pass, as a careful human writes it, instead of
    ``p_bar = c_bar * (y / p - (1 - y) / (1 - p))`` then ``p_bar * p * (1 - p)``.

    Sound when: every statement of the two terms and of ``p``'s chain comes before ``c``'s in its block, and
    nothing from the first of them up to ``c`` assigns ``y``, ``p`` or ``z`` (the names denote the values the
    terms read); ``y`` carries no derivative (``_labels_constant``: its adjoint is not written); each
    temporary of the terms is read once (they get no adjoint of their own, so no other read may need one).
    Other reads of ``p`` keep their adjoints (added into ``z_bar`` through ``p``'s own statement)."""
    value, unit = s.value, sweep.unit
    if not (isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add)
            and isinstance(value.left, gast.Name) and isinstance(value.right, gast.Name)):
        return False
    terms = [_cross_entropy_term(unit, value.left.id), _cross_entropy_term(unit, value.right.id)]
    if None in terms or {t[0] for t in terms} != {"y", "1-y"} or len({t[1:3] for t in terms}) != 1:
        return False
    y, p = terms[0][1:3]
    statements = terms[0][3] + terms[1][3]
    definition = unit.facts.definitions.get(p)
    found = _logistic_input(sweep, definition) if definition is not None else None
    if found is None or not _labels_constant(sweep, y):
        return False
    z, chain = found
    block = sweep.blocks[-1]
    at = {id(t): k for k, t in enumerate(block)}
    everything = statements + chain + [definition]
    if any(id(t) not in at for t in everything):
        return False
    first = min(everything, key=lambda t: at[id(t)])
    after_p = block[at[id(definition)] + 1] if at[id(definition)] + 1 < len(block) else s
    if not (unchanged_between(block, first, s, y) and unchanged_between(block, after_p, s, p)
            and unchanged_between(block, chain[-1], s, z)):
        return False
    _scalar_adjoint(sweep, g, s.targets[0].id)
    contribute(sweep, N.name(z), N.binop(N.clone(g), gast.Mult(), N.binop(N.name(y), gast.Sub(), N.name(p))),
               defined, out)
    return True


def _scalar_adjoint(sweep, g, c):
    """``g = _s2.unreduce(s, c)`` (``c``'s adjoint from ``np.mean(c)`` or ``np.sum(c)``) emitted earlier in this
    block and ``g`` assigned nowhere else there: ``g = s``, the number itself, since the fused cross-entropy
    ``g * (y - p)`` is read where ``y - p`` has ``c``'s shape (``c`` is an elementwise function of ``y`` and ``p``)
    and the product broadcasts it as ``unreduce`` did, without an array of ``c``'s size (logistic regression's
    mean). Sound when the reduction was over every axis (``_whole_reduction``): over one axis, ``s`` is an array
    that broadcasts against ``c`` only after ``unreduce`` puts that axis back."""
    emitted = sweep.emitted[-1] if sweep.emitted else []
    stores = [n for t in emitted for n in N.walk(t) if isinstance(n, gast.Name) and n.id == g.id
              and isinstance(n.ctx, gast.Store)]
    definition = next((t for t in emitted if isinstance(t, gast.Assign) and len(t.targets) == 1
                       and isinstance(t.targets[0], gast.Name) and t.targets[0].id == g.id), None)
    if len(stores) != 1 or definition is None or not isinstance(definition.value, gast.Call):
        return
    call = definition.value
    if N.unparse(call.func) != N.unparse(_helper(sweep, runtime.unreduce)) or not _whole_reduction(call) \
            or not (isinstance(call.args[1], gast.Name) and call.args[1].id == c):
        return
    definition.value = call.args[0]


def _whole_reduction(call):
    """Whether ``_s2.unreduce(...)`` undoes a reduction over every axis (no axis and no keepdims given)."""
    return len(call.args) == 2 and not call.keywords


def _log_softmax(sweep, s, g, defined, out):
    """``lp = x - m - log(sum(exp(x - m), axis, keepdims=True))`` (the log-softmax, shifted by any ``m``, a name or a
    number; five statements once normalized): ``x_bar += lp_bar - softmax * sum(lp_bar, axis, keepdims=True)`` with
    ``softmax = e / s`` from the forward sweep's own ``e = exp(x - m)`` and ``s = sum(e, ...)``, as a careful human
    writes it; ``m`` gets nothing from it (exactly: the log-softmax does not depend on the shift), where the
    statement by statement adjoint sends ``m`` two terms that cancel up to rounding and ``np.max``'s rule spreads
    them back.

    Sound when: the five statements (``t = x - m``, ``u = x - m``, ``e = exp(u)``, ``s = sum(e, axis,
    keepdims=True)``, ``l = log(s)``) come before ``lp = t - l`` in its block, ``t``, ``u``, ``l``, ``e`` and
    ``s`` are read once (by the next statement of the chain: no other adjoint flows into them), ``x`` and ``m``
    are not assigned from the first of them up to ``lp`` (both differences read the same values, and ``x`` is
    the one whose adjoint this is), and ``e`` and ``s`` are not assigned after their statements up to ``lp``
    (the backward sweep reads them there)."""
    value, unit = s.value, sweep.unit
    if not (isinstance(value, gast.BinOp) and isinstance(value.op, gast.Sub)
            and isinstance(value.left, gast.Name) and isinstance(value.right, gast.Name)):
        return False
    once = functools.partial(_single_use, unit)

    def difference(d):                      # x - m: (x, m), m a name or a number
        v = d.value if d is not None else None
        ok = isinstance(v, gast.BinOp) and isinstance(v.op, gast.Sub) and isinstance(v.left, gast.Name) \
            and (isinstance(v.right, gast.Name) or isinstance(v.right, gast.Constant)
                 and type(v.right.value) in (int, float))
        return (v.left.id, v.right.id if isinstance(v.right, gast.Name) else v.right.value) if ok else None

    def call_of(d, functions):
        v = d.value if d is not None else None
        ok = isinstance(v, gast.Call) and v.args and isinstance(v.args[0], gast.Name) \
            and unit.scope.resolve(v.func) in functions
        return v if ok else None
    d_t, d_l = once(value.left.id), once(value.right.id)
    log = call_of(d_l, (np.log,))
    if difference(d_t) is None or log is None or len(log.args) != 1 or log.keywords:
        return False
    d_s = once(log.args[0].id)
    total = call_of(d_s, (np.sum,))
    if total is None:
        return False
    keywords = {k.arg: k.value for k in total.keywords}
    axis = total.args[1] if len(total.args) == 2 else keywords.get("axis")
    keepdims = keywords.get("keepdims")
    if axis is None or not (isinstance(axis, gast.Constant) and type(axis.value) is int) or len(total.args) > 2 \
            or set(keywords) - {"axis", "keepdims"} or not (isinstance(keepdims, gast.Constant)
                                                             and keepdims.value is True):
        return False
    d_e = once(total.args[0].id)
    exp = call_of(d_e, (np.exp,))
    if exp is None or len(exp.args) != 1 or exp.keywords:
        return False
    d_u = once(exp.args[0].id)
    if difference(d_u) is None or difference(d_u) != difference(d_t):
        return False
    x, m = difference(d_t)
    if not _constant_along(unit, m, axis.value):
        return False
    block = sweep.blocks[-1]
    at = {id(t): k for k, t in enumerate(block)}
    chain = [d_t, d_u, d_e, d_s, d_l]
    if any(id(t) not in at or at[id(t)] > at[id(s)] for t in chain):
        return False
    e, total_name = d_e.targets[0].id, d_s.targets[0].id
    if not _softmax_operands_kept(block, chain, s, x, m):
        return False
    softmax = N.binop(N.name(e), gast.Div(), N.name(total_name))
    summed = N.call(N.attr(unit.aliases.ref(np, "np"), "sum"), [N.clone(g)],
                    {"axis": N.clone(axis), "keepdims": N.const(True)})
    fused = N.binop(N.clone(g), gast.Sub(), N.binop(softmax, gast.Mult(), summed))
    contribute(sweep, N.name(x), N.call(_helper(sweep, runtime.unbroadcast), [fused, N.name(x)]), defined, out)
    return True


_KEEPDIMS_REDUCTIONS = (np.max, np.amax, np.min, np.amin, np.mean, np.sum, np.median)


def _constant_along(unit, m, axis):
    """Whether the shift ``m`` of a log-softmax over ``axis`` is the same all along that axis, so that the
    log-softmax does not depend on it: a number, or one reduction over that axis with ``keepdims=True``
    (``np.max(x, axis=1, keepdims=True)``, also as a method, also through ``stop_gradient``). A per-class bias
    ``x - b - log(sum(exp(x - b), axis=1, ...))`` does depend on ``b``."""
    if not isinstance(m, str) or m in unit.facts.numbers:
        return True
    d = unit.facts.definitions.get(m)
    value = d.value if d is not None else None
    for _ in range(3):                                     # through stop_gradient and a copy
        if isinstance(value, gast.Call) and value.args and resolved_or_none(unit, value.func) is markers.stop_gradient:
            value = value.args[0]
        elif isinstance(value, gast.Name) and unit.facts.definitions.get(value.id) is not None:
            value = unit.facts.definitions[value.id].value
    if not isinstance(value, gast.Call):
        return False
    keywords = {k.arg: k.value for k in value.keywords}
    method = isinstance(value.func, gast.Attribute) and value.func.attr in ("max", "min", "mean", "sum") \
        and not isinstance(resolved_or_none(unit, value.func.value), types.ModuleType)
    if not method and resolved_or_none(unit, value.func) not in _KEEPDIMS_REDUCTIONS:
        return False
    given = value.args[0 if method else 1] if len(value.args) > (0 if method else 1) else keywords.get("axis")
    keepdims = keywords.get("keepdims")
    return isinstance(given, gast.Constant) and given.value == axis and isinstance(keepdims, gast.Constant) \
        and keepdims.value is True


def _softmax_operands_kept(block, chain, s, x, m):
    """Whether nothing from the first statement of the log-softmax ``chain`` up to ``s`` assigns ``x`` or ``m``, and
    nothing after ``e = exp(u)`` and ``s = sum(e, ...)`` (``chain[2]``, ``chain[3]``) up to ``s`` assigns those."""
    at = {id(t): k for k, t in enumerate(block)}
    first = min(chain, key=lambda t: at[id(t)])
    shift_kept = not isinstance(m, str) or unchanged_between(block, first, s, m)      # (a number: nothing assigns it)
    return unchanged_between(block, first, s, x) and shift_kept and \
        all(unchanged_between(block, block[at[id(d)] + 1], s, d.targets[0].id) for d in chain[2:4])


def _labels_constant(sweep, y):
    """Whether the labels ``y`` of a fused cross-entropy carry no derivative (the fused adjoint writes none)."""
    return y not in sweep.active


def _cross_entropy_term(unit, name):
    """``("y", y, p, statements)`` when ``name`` is ``y * log(p)``, ``("1-y", y, p, statements)`` when it is
    ``(1 - y) * log(1 - p)`` (factors in either order, each temporary read once), else None."""
    defined = functools.partial(_single_use, unit)

    def one_minus(n):                         # n = 1 - m: m
        d = defined(n)
        v = d.value if d is not None else None
        ok = isinstance(v, gast.BinOp) and isinstance(v.op, gast.Sub) and _is_one(v.left) \
            and isinstance(v.right, gast.Name)
        return (v.right.id, d) if ok else (None, None)

    d = defined(name)
    v = d.value if d is not None else None
    if not (isinstance(v, gast.BinOp) and isinstance(v.op, gast.Mult) and isinstance(v.left, gast.Name)
            and isinstance(v.right, gast.Name)):
        return None
    for factor, logged in ((v.left.id, v.right.id), (v.right.id, v.left.id)):
        dl = defined(logged)
        lv = dl.value if dl is not None else None
        if not (isinstance(lv, gast.Call) and len(lv.args) == 1 and not lv.keywords
                and isinstance(lv.args[0], gast.Name) and unit.scope.resolve(lv.func) in (np.log, math.log)):
            continue
        inner = lv.args[0].id
        y, dy = one_minus(factor)
        p, dp = one_minus(inner)
        if y is not None and p is not None:
            return ("1-y", y, p, [d, dl, dy, dp])
        return ("y", factor, inner, [d, dl])
    return None


def _logistic_input(sweep, s):
    """``(z, chain)`` when ``s`` is ``p = 1 / (1 + exp(-z))`` (its three temporaries each read once; ``chain``
    their statements, ``-z``'s last), with nothing between ``-z`` and ``p`` assigning ``z``; else None."""
    value = s.value
    unit = sweep.unit
    if not (isinstance(value, gast.BinOp) and isinstance(value.op, gast.Div) and _is_one(value.left)
            and isinstance(value.right, gast.Name)):
        return None
    chain, name = [], value.right.id
    for step in ("add", "exp", "neg"):
        d = _single_use(unit, name)
        if d is None:
            return None
        v = d.value
        if step == "add" and isinstance(v, gast.BinOp) and isinstance(v.op, gast.Add):
            name = v.right.id if _is_one(v.left) and isinstance(v.right, gast.Name) else \
                v.left.id if _is_one(v.right) and isinstance(v.left, gast.Name) else None
        elif step == "exp" and isinstance(v, gast.Call) and len(v.args) == 1 and not v.keywords \
                and unit.scope.resolve(v.func) in (np.exp, math.exp) and isinstance(v.args[0], gast.Name):
            name = v.args[0].id
        elif step == "neg" and isinstance(v, gast.UnaryOp) and isinstance(v.op, gast.USub):
            name = v.operand.id if isinstance(v.operand, gast.Name) else None
        else:
            return None
        if name is None:
            return None
        chain.append(d)
    if not unchanged_between(sweep.blocks[-1], chain[-1], s, name):
        return None
    return name, chain


def unchanged_between(block, first, last, name):
    """Whether ``first`` and ``last`` are statements of ``block``, in that order, and none of the statements
    from ``first`` up to ``last`` assigns ``name`` or may change an object in place (``z[0] = 5.0``, ``w.x = v``,
    a call run for its effect: ``name`` or a name holding its object may be the one changed)."""
    at = {id(t): k for k, t in enumerate(block)}
    if id(first) not in at or id(last) not in at or at[id(first)] > at[id(last)]:
        return False
    return not any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, (gast.Store, gast.Del))
                   or isinstance(n, (gast.Subscript, gast.Attribute)) and isinstance(n.ctx, (gast.Store, gast.Del))
                   or isinstance(n, (gast.Expr, gast.AugAssign))
                   for t in block[at[id(first)]:at[id(last)]] for n in N.walk(t))


def _single_use(unit, name):
    """The one statement assigning ``name`` when ``name`` is read once in the function, else None."""
    d = unit.facts.definitions.get(name)
    return d if d is not None and read_once(unit, name) else None


def read_once(unit, name):
    """Whether ``name`` is read once in the function. For the logistic chain a cost condition, not a soundness
    one: a temporary read elsewhere too is kept anyway, so fusing would save nothing."""
    return unit.facts.loads.get(name) == 1


def _is_one(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float) and node.value == 1


def _helper(sweep, fn):
    return sweep.unit.aliases.ref(fn, N.identifier(fn.__name__))


def no_rule(sweep, s, op):
    unit = sweep.unit
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
        return unit.error(NoRuleError, what, s, hint=hint)
    obj = op.primitive
    explained = explain(obj, op.label)
    if explained is not None:
        return unit.error(NoRuleError, explained[0], s, hint=explained[1])
    module = calls.library_module(obj)            # (a ufunc names none: NumPy's or scipy.special's)
    qual = f"{module}.{getattr(obj, '__qualname__', None) or getattr(obj, '__name__', repr(obj))}"
    if jvp_rule(obj)[0] is not None:
        what = f"`{op.label}` has a forward rule but no reverse rule"
    else:
        what = f"cannot differentiate `{op.label}`: no derivative rule for {qual.lstrip('.')}"
    return unit.error(NoRuleError, what, s, hint=f"register one with `@s2sad.rules.vjp({op.label})`")
