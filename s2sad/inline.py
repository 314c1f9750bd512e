"""Inline a rule's body at a call site, so generated code shows the math.

A rule is a real function (see rules/registry.py). Its parameters are replaced
by the call site's atoms, its locals get fresh names, and the names it reads
from its own module (``np``, ``math``, runtime helpers) become aliases the
generated code controls.

>>> import numpy as np
>>> from s2sad.rules import vjp_rule
>>> from s2sad.nodes import Namer, name
>>> from s2sad.aliases import Aliases
>>> from s2sad.front.resolve import Scope
>>> aliases = Aliases(Scope({"np": np}), Namer({"x", "y", "y_bar", "np"}))
>>> stmts, results = inline(vjp_rule(np.sin), name("y_bar"), name("y"), [name("x")], {}, aliases)
>>> N.unparse(results["x"])
'y_bar * np.cos(x)'
"""
import builtins
import functools
import inspect
import operator
import sys
import textwrap

import gast
import numpy as np

from . import nodes as N
from . import runtime


@functools.lru_cache(maxsize=None)
def signature(fn):
    """``inspect.signature`` of a rule or of a module-level callee a rule calls (kept: rules are applied once
    per operation, and their functions live as long as their modules)."""
    return inspect.signature(fn)


class RuleError(Exception):  # noqa: N818  (reported by the caller as a TransformError)
    """A call site's arguments do not fit the rule (reported against the user's line)."""


@functools.lru_cache(maxsize=None)
def _parsed(rule):
    from .front.source import EXEC_FILENAMES
    if getattr(getattr(rule, "__code__", None), "co_filename", None) in EXEC_FILENAMES:
        raise OSError("could not get source code (the rule was defined by exec() or at the prompt)")
    source = textwrap.dedent(inspect.getsource(rule))
    tree = gast.parse(source).body[0]
    params = [p.name for p in inspect.signature(rule).parameters.values()]
    written = [a.id for a in tree.args.posonlyargs + tree.args.args] + [a.id for a in tree.args.kwonlyargs] \
        if isinstance(tree, gast.FunctionDef) else None
    if rule.__name__ != "<lambda>" and (written is None or tree.name != rule.__name__ or not set(written) <= set(params)):
        # the file changed since the rule was imported: its lines now hold another function (inlining it
        # would differentiate with another rule)
        raise OSError(f"the source file of {rule.__qualname__} changed since it was imported")
    body = tree.body
    if not body or not isinstance(body[-1], gast.Return):
        raise TypeError(f"rule {rule.__qualname__} must end with a return statement")
    for stmt in body[:-1]:
        if not isinstance(stmt, gast.Assign):
            raise TypeError(f"rule {rule.__qualname__}: only assignments may precede the return")
    local_names = {n.id for s in body[:-1] for t in s.targets for n in N.walk(t) if isinstance(n, gast.Name)}
    return body, params, frozenset(local_names)


def _const_node(value):
    if isinstance(value, tuple):
        return N.tup([_const_node(v) for v in value])
    if value is None or isinstance(value, (bool, int, float, complex, str)):
        return N.const(value)
    raise TypeError(f"a rule default must be a literal, got {value!r}")


def keywords_as_positions(fn, args, kwargs):
    """``(args, kwargs)`` of a call of ``fn`` with the keyword arguments naming its next positional parameters moved
    into ``args`` (``p(a=x, b=y)`` is ``p(x, y)``): a user's rule takes the function's arguments in its order,
    under names of its own. Unchanged where ``fn``'s signature cannot be read."""
    if not kwargs:
        return args, kwargs
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return args, kwargs
    args, kwargs = list(args), dict(kwargs)
    for p in params[len(args):]:
        if p.kind is not p.POSITIONAL_OR_KEYWORD or p.name not in kwargs:
            break
        args.append(kwargs.pop(p.name))
    return args, kwargs


def users_arguments(fn, args, kwargs):
    """``(args, kwargs)`` for a user's rule of ``fn``: the defaults of ``fn``'s parameters the call leaves out given
    (literals: the rule's own defaults may differ, ``p7(x, k=3.0)`` with ``p7_vjp(g, ans, x, k=2.0)``), then the
    keywords naming its next positional parameters moved into ``args`` (``keywords_as_positions``)."""
    if isinstance(fn, np.ufunc):                  # (its out=, where=, casting=... are NumPy's: no rule takes them)
        return keywords_as_positions(fn, args, kwargs)
    try:
        params = list(inspect.signature(fn).parameters.values())
        given = inspect.signature(fn).bind_partial(*args, **kwargs).arguments
    except (TypeError, ValueError):
        return args, kwargs
    kwargs = dict(kwargs)
    for p in params:
        if p.name not in given and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is not p.empty \
                and type(p.default) in (bool, int, float, str, type(None)):
            kwargs[p.name] = N.const(p.default)
    return keywords_as_positions(fn, args, kwargs)


def bind(rule, g, ans, args, kwargs):
    """Map each rule parameter to an expression node. Raises RuleError when the call does not fit."""
    sig = signature(rule)
    try:
        bound = sig.bind(g, ans, *args, **kwargs)
    except TypeError as exc:
        raise RuleError(str(exc)) from None
    bound.apply_defaults()
    mapping = {}
    for pname, param in sig.parameters.items():
        value = bound.arguments.get(pname)
        if param.kind is param.VAR_POSITIONAL:
            mapping[pname] = N.tup(list(value))
        elif param.kind is param.VAR_KEYWORD:
            if value:
                raise RuleError(f"unexpected keyword argument(s) {', '.join(sorted(value))}")
        elif isinstance(value, gast.AST):
            mapping[pname] = value
        else:
            mapping[pname] = _const_node(value)
    return mapping


def inline(rule, g, ans, args, kwargs, aliases, same_shape=None, tangent=False, drop_defaults=False):
    """Inline ``rule`` for one call site.

    Returns ``(statements, results)``: the rule's local assignments (renamed), and
    a dict from parameter name to the expression of that parameter's adjoint
    (``None`` where the rule gives none). Only the leading positional parameters
    after ``g, ans`` have adjoints, as many as the rule's return has entries.

    ``same_shape(a, b)`` tells whether two variables provably have the same shape;
    ``unbroadcast(e, x)`` is then dropped where ``x`` has the shape of ``ans`` (a
    rule's first argument to ``unbroadcast`` always has the shape of ``g``).

    ``tangent``: the rule is an elementwise rule used in forward mode, ``g`` the tangent
    of one argument ``x``; ``unbroadcast(e, x)`` then becomes ``broadcast(e, ans)``
    (dropped likewise where ``x`` has the shape of ``ans``).

    ``drop_defaults``: where the rule passes on one of its parameters that the call site
    left at its default (``np.sum(g, axis, keepdims=keepdims)``), leave it out
    (``np.sum(g)``); a rule's defaults are those of the function it is for.
    """
    body, params, local_names = _parsed(rule)
    mapping = bind(rule, g, ans, args, kwargs)
    defaulted = _defaulted(rule, g, ans, args, kwargs) if drop_defaults else frozenset()
    renamed = {}
    for local in sorted(local_names):
        renamed[local] = aliases.namer.fresh("_" + local.lstrip("_"))
    globals_ = rule.__globals__

    current = dict(mapping)               # a parameter the rule assigns (`a = real_only(a)`) is its own local after

    def substitute(node):                 # a copy: the rule's parsed body is shared by every call site
        if defaulted:
            node = _DropDefaults(defaulted, rule).visit(N.clone(node))
        return _fold(_Substitute(current, renamed, globals_, aliases, ans, same_shape, tangent,
                                 _user_module(rule)).visit(node))

    stmts = []
    for s in body[:-1]:
        stmts.append(substitute(s))
        for n in N.walk(s.targets[0]):
            if isinstance(n, gast.Name) and n.id in local_names:
                current.pop(n.id, None)
    returned = body[-1].value
    entries = returned.elts if isinstance(returned, gast.Tuple) else [returned]
    results = {}
    for pname, entry in zip(params[2:], entries):
        results[pname] = None if N.is_const(entry) and entry.value is None else substitute(entry)
    return stmts, results


def _defaulted(rule, g, ans, args, kwargs):
    """The rule's parameters the call site did not pass (they take the rule's defaults)."""
    try:
        given = signature(rule).bind(g, ans, *args, **kwargs).arguments
    except TypeError:
        return frozenset()
    return frozenset(p for p in signature(rule).parameters if p not in given)


class _DropDefaults(gast.NodeTransformer):
    """``np.sum(g, axis, keepdims=keepdims)`` -> ``np.sum(g)`` when axis and keepdims were not given
    and the callee's defaults are the rule's (checked on the callee's signature)."""

    def __init__(self, defaulted, rule):
        self.defaulted, self.rule = defaulted, rule
        self.defaults = {p.name: p.default for p in signature(rule).parameters.values()}

    def _callee_defaults(self, func):
        obj = _resolve(func, self.rule.__globals__)
        try:
            params = list(signature(obj).parameters.values())
        except (TypeError, ValueError):             # no signature, or an unhashable callee
            return None
        return params

    def _same_default(self, param, arg):
        if param is None or param.default is inspect.Parameter.empty:
            return False
        if repr(param.default) == "<no value>":         # NumPy's "not given": its documented default
            return True
        return type(param.default) is type(self.defaults[arg]) and param.default == self.defaults[arg]

    def visit_Call(self, node):
        self.generic_visit(node)
        params = self._callee_defaults(node.func)
        if params is None:
            return node
        by_name = {p.name: p for p in params}
        node.keywords = [k for k in node.keywords if not (N.is_name(k.value) and k.value.id in self.defaulted
                                                          and self._same_default(by_name.get(k.arg), k.value.id))]
        if not node.keywords:
            while node.args and len(node.args) <= len(params) and N.is_name(node.args[-1]) \
                    and node.args[-1].id in self.defaulted \
                    and self._same_default(params[len(node.args) - 1], node.args[-1].id):
                node.args.pop()
        return node


def _resolve(func, globals_):
    if isinstance(func, gast.Name):
        return globals_.get(func.id, getattr(builtins, func.id, None))
    if isinstance(func, gast.Attribute):
        base = _resolve(func.value, globals_)
        return getattr(base, func.attr, None) if base is not None else None
    return None


def _user_module(rule):
    """The module a rule the user registered is defined in (None for s2sad's own rules): the generated code binds
    the objects its globals hold, so the cached code is valid only while the module's names still hold them
    (``SCALE = 5.0`` after a first gradient must give a new one)."""
    module = sys.modules.get(getattr(rule, "__module__", None) or "")
    if module is None or module.__name__.startswith("s2sad.") or getattr(module, "__dict__", None) is not \
            rule.__globals__:
        return None
    return module


class _Substitute(N.CopyingTransformer):
    def __init__(self, mapping, renamed, globals_, aliases, ans, same_shape, tangent=False, module=None):
        self.mapping, self.renamed, self.globals, self.aliases = mapping, renamed, globals_, aliases
        self.ans, self.same_shape, self.tangent, self.module = ans, same_shape, tangent, module

    def _callee(self, func):
        if isinstance(func, gast.Name) and func.id not in self.mapping and func.id not in self.renamed:
            return self.globals.get(func.id)
        return None

    def visit_Call(self, node):
        callee = self._callee(node.func)
        if callee is runtime.unbroadcast and self.same_shape is not None and len(node.args) == 2:
            target = node.args[1]
            atom = self.mapping.get(target.id) if isinstance(target, gast.Name) else None
            if isinstance(atom, gast.Name) and isinstance(self.ans, gast.Name) \
                    and self.same_shape(self.ans.id, atom.id):
                return self.visit(node.args[0])
        if callee is runtime.unbroadcast and self.tangent and len(node.args) == 2:
            return N.call(self.aliases.ref(runtime.broadcast, "broadcast"), [self.visit(node.args[0]),
                                                                                 N.clone(self.ans)])
        node = self.generic_visit(node)
        if callee is runtime.scaled_power and len(node.args) == 3 and not node.keywords and _plain_power(*node.args):
            c, x, p = node.args                # `g * 2 * x ** (2 - 1)`, which the clean-up folds to `g * 2 * x`
            return gast.BinOp(left=c, op=gast.Mult(), right=gast.BinOp(left=x, op=gast.Pow(), right=p))
        if callee is not None and getattr(callee, "__module__", None) == runtime.__name__:
            _drop_default_args(node, callee)
        return node

    def visit_Name(self, node):
        if not isinstance(node.ctx, gast.Load) and node.id in self.renamed:
            return N.name(self.renamed[node.id], type(node.ctx)())       # (a parameter assigned: the rule's local)
        if node.id in self.mapping:
            return N.clone(self.mapping[node.id])
        if node.id in self.renamed:
            return N.name(self.renamed[node.id], type(node.ctx)())
        if node.id in self.globals:
            if self.module is not None:            # checked on every call (pipeline.Checks, "attr")
                self.aliases.scope.resolved[("attr", (self.module, node.id))] = self.globals[node.id]
            return self.aliases.ref(self.globals[node.id], node.id)
        if hasattr(builtins, node.id):
            return self.aliases.ref(getattr(builtins, node.id), node.id)
        raise NameError(f"rule uses unknown name {node.id!r}")


def _plain_power(c, x, p):
    """Whether ``_s2.scaled_power(c, x, p)`` can be written ``c * x ** p``: the exponent is a constant, and
    either it is not negative (``x ** p`` is finite, so the product is 0 where ``c`` is: the helper's guard),
    or ``c`` is ``g * k`` with ``k`` a nonzero constant: the pow rules' ``scaled_power(g * y, x, y - 1)`` for a
    constant ``y`` other than 0, whose coefficient is 0 only where the tangent or adjoint ``g`` is (at ``x = 0``
    that stays ``0 * inf``, as before the helper). The helper's own rule writes its coefficient
    ``c * p * g`` so that it never looks like that: ``c`` may be a structural 0 there (``x ** 0.0``'s)."""
    value = _number_value(p)
    if value is None:
        return False
    if value >= 0:
        return True
    return isinstance(c, gast.BinOp) and isinstance(c.op, gast.Mult) and _number_value(c.right) not in (None, 0)


def _number_value(node):
    """The value of a numeric constant expression (``2 - 1``, ``-0.5``), else None."""
    if isinstance(node, gast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        value = _number_value(node.operand)
        return None if value is None else (-value if isinstance(node.op, gast.USub) else value)
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Add, gast.Sub, gast.Mult)):
        left, right = _number_value(node.left), _number_value(node.right)
        if left is None or right is None:
            return None
        return {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul}[type(node.op)](left, right)
    return None


def _drop_default_args(call, callee):
    """``_s2.unreduce(g, x, None, False)`` -> ``_s2.unreduce(g, x)``."""
    params = list(signature(callee).parameters.values())
    while call.args and len(call.args) <= len(params):
        param, last = params[len(call.args) - 1], call.args[-1]
        if param.default is inspect.Parameter.empty or not N.is_const(last) \
                or type(last.value) is not type(param.default) or last.value != param.default:
            break
        call.args.pop()


class _Fold(gast.NodeTransformer):
    """``(a, b)[1]`` -> ``b``: a rule indexing a cotangent tuple the call site spelled out."""

    def visit_Subscript(self, sub):
        self.generic_visit(sub)
        if isinstance(sub.value, (gast.Tuple, gast.List)) and N.is_const(sub.slice) \
                and isinstance(sub.slice.value, int) and -len(sub.value.elts) <= sub.slice.value < len(sub.value.elts):
            return sub.value.elts[sub.slice.value]
        return sub


def _fold(node):
    return _Fold().visit(node)


def drop_real_checks(nodes, numbers):
    """``real_only(x, what)`` (a rule's refusal of complex values) is ``x`` where ``x`` is known to be a real
    number (``numbers``: kinds of floats and real arrays' items, complex values never get one): the
    generated code for floats stays plain arithmetic. Rewrites ``nodes`` (statements or expressions) in
    place and returns the (possibly replaced) expressions."""
    drop = _DropRealChecks(numbers)
    return [drop.visit(n) if n is not None else None for n in nodes]


class _DropRealChecks(gast.NodeTransformer):
    def __init__(self, numbers):
        self.numbers = numbers

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        name = func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", None)
        if name == "real_only" and node.args and isinstance(node.args[0], gast.Name) \
                and node.args[0].id in self.numbers:
            return node.args[0]
        return node


def _reductions():
    import numpy as np
    return {np.sum, np.mean, np.var, np.std, np.prod, np.max, np.min, np.amax, np.amin, np.ptp, np.median,
            np.average, np.cumsum, np.cumprod, np.diff, np.sort, np.linalg.norm}


def sequences_of(unit):
    """The names known to hold a list or tuple (analysis/shapes.kinds: a tuple of item kinds); those that may
    (analysis/shapes.containers) where the code is not specialised to its arguments' kinds."""
    known = frozenset(n for n, k in unit.facts.kinds.items() if isinstance(k, tuple))
    scope = unit.scope
    free = frozenset(n for n, v in list(scope.globals.items()) + list(scope.cells.items())     # a module's list
                     if n not in scope.locals and isinstance(v, (list, tuple)))              # (the cache checks it)
    return known | free if unit.options.specialize else known | free | unit.facts.containers


_ARITHMETIC = frozenset([operator.add, operator.sub, operator.mul, operator.truediv, operator.pow])
# (an operator whose rule is still its own after ``reverse.adjoints.sequence_aware``: a list operand meets an array)


def as_arrays(primitive, atoms, aliases, sequences=frozenset()):
    """A ufunc's list or tuple arguments as arrays (``np.asarray([a, b])``), as the ufunc itself reads them:
    a rule's own arithmetic on them (``1.0 + x`` in log1p's, ``x >= y`` in maximum's) would otherwise add to,
    or compare, a list. So are names that may hold a list or tuple (``sequences``) passed to a ufunc, or as the
    array a reduction reads (``np.var(xs)``); ``np.asarray`` of an array is that array."""
    import numpy as np
    if isinstance(primitive, np.ufunc) or primitive in _ARITHMETIC:   # (`x ** P`: NumPy reads the list P as an array)
        return [N.call(aliases.ref(np.asarray, "asarray"), [a])
                if isinstance(a, (gast.List, gast.Tuple)) or isinstance(a, gast.Name) and a.id in sequences else a
                for a in atoms]
    try:
        reduction = primitive in _reductions()
    except TypeError:                                  # an unhashable primitive
        reduction = False
    if reduction and atoms and isinstance(atoms[0], gast.Name) and atoms[0].id in sequences:
        return [N.call(aliases.ref(np.asarray, "asarray"), [atoms[0]])] + list(atoms[1:])
    return atoms
