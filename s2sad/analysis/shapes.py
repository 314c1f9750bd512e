"""Which values provably have the same shape (so ``unbroadcast`` between them is a no-op).

Only names assigned once count (a name merged from two branches may differ).
Elementwise functions keep their argument's shape; a binary elementwise operation
with a Python number keeps the other operand's shape, and two operands of the same
shape give a result of that shape. The analysis returns a dict from variable name
to a representative name of its shape class.

>>> from s2sad.front.source import from_text
>>> from s2sad.front.resolve import Scope
>>> import numpy as np
>>> src = from_text('''
... def f(x, y):
...     a = np.exp(x)
...     b = 1.0 + a
...     c = b * y
...     return c
... ''')
>>> classes = run(src.tree, Scope({"np": np}, local_names={"x", "y", "a", "b", "c"}))
>>> classes["b"] == classes["x"], classes.get("c") == classes["x"]
(True, False)

Values known to be numbers (Python floats and ints, NumPy scalars) share the class
``SCALAR``: with ``y`` a float argument, ``c = b * y`` has the shape of ``b``.

>>> classes = run(src.tree, Scope({"np": np}, local_names={"x", "y", "a", "b", "c"}), ndims={"y": -1})
>>> classes["c"] == classes["x"], classes["y"] == SCALAR
(True, True)
"""
import collections
import copy
import math
import operator
import types

import gast
import numpy as np

from .. import nodes as N
from ..front.resolve import MISSING
from .ops import COPY, classify

_ELEMENTWISE = {operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.mod,
                operator.neg, operator.pos, abs}


def _elementwise(primitive):
    if isinstance(primitive, np.ufunc):
        return primitive.signature is None          # not a generalized ufunc (np.matmul, np.vecdot, np.matvec)
    if _is_math(primitive):
        return True
    try:
        return primitive in _ELEMENTWISE
    except TypeError:
        return False


SCALAR = "()"                      # the class of numbers; sorts first, so it represents its class
_REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.min, np.var, np.std, np.linalg.norm,
               np.dot, np.inner, np.vdot, np.trace}
_NUMBERS = {len, float, int, math.floor, math.ceil, math.trunc}


def _number(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float, bool)


def _same_shape_operand(value, scope, find, scalar=lambda n: False, ndims=None):
    """A name (or SCALAR) whose shape ``value`` provably has, or None."""
    op = classify(value, scope)
    primitive = op.primitive
    if primitive is operator.getitem and ndims and isinstance(op.args[0], gast.Name) \
            and isinstance(ndims.get(op.args[0].id), int) and ndims[op.args[0].id] >= 1:
        index = op.args[1]
        items = index.elts if isinstance(index, gast.Tuple) else [index]
        whole = all(isinstance(i, gast.Constant) and type(i.value) is int
                    or isinstance(i, gast.Name) and scalar(i.id) for i in items)
        if whole and len(items) == ndims[op.args[0].id]:
            return SCALAR                               # x[i, j] of a 2-D array: a number
    if _is_math(primitive) or _is_in(primitive, _NUMBERS):
        return SCALAR
    if _is_in(primitive, _REDUCTIONS) and len(op.args) == 1 and not op.kwargs:
        if primitive in (np.dot, np.inner, np.vdot, np.trace):
            return None
        return SCALAR                                  # a reduction over every axis
    if primitive in (np.dot, np.inner) and len(op.args) == 2 and all(scalar(a.id) if isinstance(a, gast.Name)
                                                                   else _number(a) for a in op.args):
        return SCALAR
    if op.kwargs:
        return None
    if primitive is COPY:
        arg = op.args[0]
        if _number(arg) or isinstance(arg, gast.Name) and scalar(arg.id):
            return SCALAR
        if isinstance(arg, gast.Attribute) and type(scope.resolve(arg)) in (int, float):
            return SCALAR                              # math.pi, np.e
        return arg.id if isinstance(arg, gast.Name) else None
    if not _elementwise(primitive):
        return None
    names = [a.id for a in op.args if isinstance(a, gast.Name)]
    numbers = [a for a in op.args if _number(a)]
    if len(names) + len(numbers) != len(op.args):
        return None
    classes = {SCALAR if scalar(n) else find(n) for n in names} - {SCALAR}
    if not classes:
        return SCALAR
    if len(classes) == 1:
        return next(n for n in names if not scalar(n) and find(n) in classes)
    return None


def _is_math(primitive):
    """A function of ``math`` taking and giving numbers (elementwise, a number; not ``math.prod`` and
    ``math.sumprod``, whose items may be arrays: ``math.prod([A, c])`` is an array)."""
    return isinstance(primitive, types.BuiltinFunctionType) and getattr(primitive, "__module__", None) == "math" \
        and primitive.__name__ not in ("prod", "sumprod")


def _is_in(primitive, table):
    try:
        return primitive in table
    except TypeError:
        return False


def result_like(value, scope, classes):
    """For one statement's value: a name (or SCALAR) with the shape of its result, or None.

    Unlike ``run``'s classes this holds for a name assigned on several branches too,
    since it speaks of this one assignment.
    """
    return _same_shape_operand(value, scope, lambda n: classes.get(n, n), lambda n: classes.get(n) == SCALAR)


def scalar_names(fn, scope, scalar_params, ndims=None, call_results=None):
    """Names every assignment of which gives a number, given the parameters that are numbers.

    An optimistic fixed point: assume every local is a number, then drop a name as soon as
    one of its assignments may give something else. ``call_results(function, numbers)``
    tells what a user function returns when the arguments flagged in ``numbers`` are
    numbers: True (a number), a tuple of flags (a tuple of which those items are numbers),
    or None (unknown).
    """
    params = [a.id for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
    definitions = collections.defaultdict(list)
    ranges = _range_names(fn, scope)

    def collect(stmts):
        for s in stmts:
            if isinstance(s, (gast.If, gast.While)):
                collect(s.body)
                collect(s.orelse)
            elif isinstance(s, gast.For):
                targets = s.target.elts if isinstance(s.target, gast.Tuple) else [s.target]
                is_range = isinstance(s.iter, gast.Call) and scope.resolve(s.iter.func) is range or \
                    isinstance(s.iter, gast.Name) and s.iter.id in ranges
                for t in targets:
                    definitions[t.id].append("range" if is_range else None)
                collect(s.body)
                collect(s.orelse)
            elif isinstance(s, gast.Assign):
                target = s.targets[0]
                if isinstance(target, gast.Name):
                    definitions[target.id].append(s.value)
                elif isinstance(target, gast.Tuple) and all(isinstance(t, gast.Name) for t in target.elts):
                    for k, t in enumerate(target.elts):
                        definitions[t.id].append(("item", s.value, k))
                else:
                    for n in N.walk(target):
                        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                            definitions[n.id].append(None)
            elif isinstance(s, gast.FunctionDef):
                definitions[s.name].append(None)
            elif isinstance(s, gast.Expr):                  # items.append(...) and other in-place calls
                for n in N.walk(s):
                    if isinstance(n, gast.Attribute) and isinstance(n.value, gast.Name):
                        definitions[n.value.id].append(None)
    collect(fn.body)
    known = {p for p in params if p in scalar_params} | {n for n in definitions if n not in params}
    changed = True
    while changed:
        changed = False
        for name in sorted(known):                      # a parameter's reassignments must give numbers too
            for value in definitions[name]:
                if value == "range" or _gives_number(value, scope, known, ndims, call_results):
                    continue
                known.discard(name)
                changed = True
                break
    return frozenset(known)


def _range_names(fn, scope):
    """Names every assignment of which is a ``range(...)`` call (the lowered loops' ranges)."""
    values = collections.defaultdict(list)
    for s in N.statements(fn.body):
        if isinstance(s, gast.Assign):
            for n in N.walk(s.targets[0]):
                if isinstance(n, gast.Name):
                    values[n.id].append(s.value if isinstance(s.targets[0], gast.Name) else None)
    ranges = {n for n, vs in values.items() if all(isinstance(v, gast.Call) and scope.resolve(v.func) is range
                                                   for v in vs)}
    grown = True
    while grown:                                  # `r2 = r` of a range name (a loop over a range name, lowered)
        more = {n for n, vs in values.items() if n not in ranges and all(
            isinstance(v, gast.Call) and scope.resolve(v.func) is range or isinstance(v, gast.Name) and v.id in ranges
            for v in vs)}
        grown = bool(more)
        ranges |= more
    return ranges


def _gives_number(value, scope, known, ndims, call_results):
    if value is None:
        return False
    item = None
    if isinstance(value, tuple):                       # ("item", call, k): the k-th of an unpacked result
        _, value, item = value
    if isinstance(value, gast.Call) and call_results is not None:
        op = classify(value, scope)
        if callable(op.primitive) and getattr(op.primitive, "__code__", None) is not None and not op.kwargs:
            numbers = tuple(_number(a) or isinstance(a, gast.Name) and a.id in known for a in op.args)
            result = call_results(op.primitive, numbers)
            if item is None:
                return result is True
            return isinstance(result, tuple) and item < len(result) and result[item]
    if item is not None:
        return False
    return _same_shape_operand(value, scope, lambda n: n, lambda n: n in known, ndims) == SCALAR


def run(fn, scope, ndims=None, call_results=None, numbers=()):
    """Shape classes: ``ndims`` gives, per parameter, -1 (a Python number) or an array's ndim;
    ``numbers``: names known (by ``kinds``) to hold numbers."""
    ndims = dict(ndims or {})
    parent = {SCALAR: SCALAR}

    def find(a):
        while parent.get(a, a) != a:
            a = parent[a]
        return a

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    def visit(stmts):
        for s in stmts:
            if isinstance(s, (gast.If, gast.For, gast.While)):
                visit(s.body)
                visit(s.orelse)
            elif isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                    and assigned[s.targets[0].id] == 1 and s.targets[0].id not in params:   # a parameter has
                # its argument's value too
                operand = _same_shape_operand(s.value, scope, find, lambda n: find(n) == SCALAR)
                if operand is not None:
                    union(s.targets[0].id, operand)
    assigned = collections.Counter(n.id for n in N.walk(fn) if isinstance(n, gast.Name)
                                   and isinstance(n.ctx, gast.Store))
    params = set(N.params(fn))
    scalar_params = {p for p, k in ndims.items() if k == -1}    # (a 0-d array changes in place); reassigned: below
    for p in [p for p in ndims if assigned[p]]:
        del ndims[p]                                    # reassigned: its shape may change
    for name in scalar_names(fn, scope, scalar_params, ndims, call_results) | set(numbers):
        union(name, SCALAR)
    visit(fn.body)
    return {name: find(name) for name in parent}


_MATMUL_NDIM = {(2, 2): 2, (2, 1): 1, (1, 2): 1, (1, 1): 0}


def ndims(fn, scope, param_ndims, classes):
    """Known numbers of dimensions: parameters' (as specialised), numbers' (0), and what follows
    from them through elementwise operations, ``@``, transposes, full reductions, unpacking and
    loops over rows.

    A name assigned several times (a loop-carried array) is known when every assignment agrees:
    optimistic first (assignments not yet understood are skipped), then checked.
    """
    assigned = collections.Counter(n.id for n in N.walk(fn) if isinstance(n, gast.Name)
                                   and isinstance(n.ctx, gast.Store))
    fixed = {p: (0 if k == -1 else k) for p, k in param_ndims.items() if not assigned[p] and isinstance(k, int)}
    fixed.update({n: 0 for n, c in classes.items() if c == SCALAR and n != SCALAR})
    items = {p: k for p, k in param_ndims.items() if not assigned[p] and isinstance(k, tuple)}
    definitions = collections.defaultdict(list)       # name -> ("value", expr) | ("ndim", int) | ("unknown",)
    for p in N.params(fn):                             # a reassigned parameter also holds its argument
        if assigned[p]:
            k = param_ndims.get(p)
            definitions[p].append(("ndim", 0 if k == -1 else k) if isinstance(k, int) else ("unknown",))
    for s in N.statements(fn.body):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            definitions[s.targets[0].id].append(("value", s.value))
        elif isinstance(s, gast.Assign):
            targets = s.targets[0].elts if isinstance(s.targets[0], gast.Tuple) else []
            kinds = items.get(s.value.id) if isinstance(s.value, gast.Name) else None
            for i, t in enumerate(targets):
                k = kinds[i] if isinstance(kinds, tuple) and len(kinds) == len(targets) else None
                definitions[getattr(t, "id", None)].append(("ndim", 0 if k == -1 else k) if isinstance(k, int)
                                                           else ("unknown",))
        elif isinstance(s, gast.For):
            targets = s.target.elts if isinstance(s.target, gast.Tuple) else [s.target]
            for i, t in enumerate(targets):
                definitions[t.id].append(("row", s.iter, i if isinstance(s.target, gast.Tuple) else None))
        elif isinstance(s, gast.Expr):
            for n in N.walk(s):
                if isinstance(n, gast.Attribute) and isinstance(n.value, gast.Name):
                    definitions[n.value.id].append(("unknown",))

    def evaluate(d, known):
        if d[0] == "value":
            return _ndim_of(d[1], scope, known)
        if d[0] == "ndim":
            return d[1]
        if d[0] == "row" and isinstance(d[1], gast.Name):
            seq = items.get(d[1].id)
            if seq and all(k == seq[0] for k in seq):
                element = seq[0] if d[2] is None else (seq[0][d[2]] if isinstance(seq[0], tuple)
                                                        and d[2] < len(seq[0]) else None)
                return (0 if element == -1 else element) if isinstance(element, int) else None
            nd = known.get(d[1].id)
            return nd - 1 if d[2] is None and isinstance(nd, int) and nd >= 1 else None
        return None

    known = dict(fixed)
    for _ in range(6):                                 # optimistic: agreeing assignments that are understood
        changed = False
        for name, defs in definitions.items():
            if name is None or name in fixed or any(d[0] == "unknown" for d in defs):
                continue
            values = {evaluate(d, known) for d in defs} - {None}
            if len(values) == 1 and known.get(name) != next(iter(values)):
                known[name] = next(iter(values))
                changed = True
        if not changed:
            break
    while True:                                        # checked: every assignment must agree
        wrong = [n for n, defs in definitions.items() if n in known and n not in fixed
                 and any(evaluate(d, known) != known[n] for d in defs)]
        if not wrong:
            return known
        for n in wrong:
            del known[n]


def _item_ndims(targets, kinds, known, assigned):
    if not isinstance(kinds, tuple) or len(kinds) != len(targets):
        return
    for t, k in zip(targets, kinds):
        if isinstance(t, gast.Name) and isinstance(k, int) and assigned[t.id] == 1:
            known[t.id] = 0 if k == -1 else k


def _ndim_of(value, scope, known):
    op = classify(value, scope)
    def nd(a):
        if _number(a):
            return 0
        return known.get(a.id) if isinstance(a, gast.Name) else None
    if op.kwargs:
        return None
    if op.primitive is COPY:
        return nd(op.args[0])
    if _is_in(op.primitive, {np.zeros, np.ones, np.empty}) and op.args and isinstance(op.args[0], gast.Tuple):
        return len(op.args[0].elts)
    if _is_in(op.primitive, {operator.matmul, np.matmul, np.dot}) and len(op.args) == 2:
        return _MATMUL_NDIM.get((nd(op.args[0]), nd(op.args[1])))
    if _is_in(op.primitive, {np.transpose}) and len(op.args) == 1:
        return nd(op.args[0])
    if _is_in(op.primitive, _REDUCTIONS) and len(op.args) == 1 and op.primitive not in (np.dot, np.inner, np.vdot):
        return 0 if op.primitive is not np.trace else None
    if _elementwise(op.primitive):
        dims = [nd(a) for a in op.args]
        if dims and all(d is not None for d in dims):
            return max(dims)
    return None


# --- which values may be lists or tuples (where ``+`` concatenates and ``*`` repeats) ----------------
_ARRAY_RESULTS = {np.sum, np.mean, np.prod, np.max, np.min, np.std, np.var, np.any, np.all, np.dot, np.matmul,
                  np.outer, np.inner, np.tensordot, np.einsum, np.transpose, np.reshape, np.ravel, np.concatenate,
                  np.stack, np.hstack, np.vstack, np.array, np.asarray, np.zeros, np.ones, np.full, np.zeros_like,
                  np.ones_like, np.full_like, np.empty, np.eye, np.identity, np.linspace, np.arange, np.clip,
                  np.cumsum, np.cumprod, np.diff, np.trace, np.linalg.norm, np.linalg.det, np.linalg.inv,
                  np.linalg.solve, np.linalg.cholesky, np.squeeze, np.expand_dims, np.swapaxes, np.moveaxis,
                  np.broadcast_to, np.copy, np.diag, np.sort, np.flip, np.roll, np.tile, np.repeat, np.kron, np.cross,
                  np.abs, np.sign, np.floor, np.ceil, np.round, len, float, int, abs, bool, math.floor, math.ceil}


def _root(node):
    while isinstance(node, gast.Attribute):
        node = node.value
    return node.id if isinstance(node, gast.Name) else ""


_INT_OPS = (gast.Add, gast.Sub, gast.Mult, gast.FloorDiv, gast.Mod, gast.Pow, gast.LShift, gast.RShift,
            gast.BitAnd, gast.BitOr, gast.BitXor)


def _same(a, b):
    """The same variable on both sides (``w * w``): a sequence times an int needs two different values."""
    return isinstance(a, gast.Name) and isinstance(b, gast.Name) and a.id == b.id


def containers(fn, scope, kinds, known=None):
    """``(sequences, ints)``: names that may hold a list or a tuple, and names that may hold a Python ``int``
    (over-approximations: sound for choosing the rules of ``+`` and ``*``, which concatenate two sequences
    and repeat a sequence an ``int`` number of times, but add and multiply numbers and arrays, NumPy's
    included: ``[1, 2] + np.ones(2)`` is an array).

    A name is known not to be a sequence when every assignment of it gives a number or an array: an
    argument whose kind says so, a global holding one, ``a + b`` unless both may be sequences, ``a * b``
    unless one may be a sequence and the other an ``int``, other operators, ufuncs, ``math``, NumPy
    functions known to return an array; a ``range`` loop's index (an ``int``). Everything else may be.
    A name is known not to be an ``int`` when every assignment of it gives a float, an array or a
    sequence: NumPy's results are never Python ints (``np.int64`` repeats nothing).
    """
    import operator as op_
    from .ops import COPY, PACK, DICT, classify
    params = N.params(fn)
    definitions = collections.defaultdict(list)
    for p, k in zip(params, kinds):
        definitions[p].append(("kind", k))
    for p in params[len(kinds):]:
        definitions[p].append(("kind", None))
    if fn.args.vararg is not None:               # *args is a tuple, whatever the call passes
        definitions[fn.args.vararg.id] = [("kind", ())]
    ranges = _range_names(fn, scope)
    for s in N.statements(fn.body):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Name):
                definitions[target.id].append(("value", s.value))
            else:
                for n in N.walk(target):
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                        definitions[n.id].append(("unknown",))
        elif isinstance(s, gast.For):
            definitions[s.target.id].append(("int",) if isinstance(s.iter, gast.Name) and s.iter.id in ranges
                                            else ("unknown",))
        elif isinstance(s, gast.FunctionDef):
            definitions[s.name].append(("function",))
    seqs, ints = set(), set()
    known = known or {}

    def free(value):
        obj = scope.resolve(value)
        return obj

    def may(value, table):
        """Whether ``value`` may be a sequence (``table`` is seqs) or a Python int (``table`` is ints)."""
        want_seq = table is seqs
        if isinstance(value, (gast.List, gast.Tuple)):
            return want_seq
        if isinstance(value, gast.Name):
            k = known.get(value.id)
            if isinstance(k, int):
                return not want_seq and k == -1      # a number may be an int; an array is neither
            if isinstance(k, tuple):
                return want_seq
            if value.id in definitions:
                return value.id in table
            obj = free(value)                        # a global: what it holds now (the cache checks it still does)
            if obj is MISSING:
                return True
            return isinstance(obj, (list, tuple)) if want_seq else type(obj) is int
        if isinstance(value, gast.Constant):
            return isinstance(value.value, (tuple, list)) if want_seq else type(value.value) is int
        if isinstance(value, gast.Attribute) and scope.is_free(_root(value)):      # np.pi, a module's list
            obj = free(value)
            return obj is MISSING or (isinstance(obj, (list, tuple)) if want_seq else type(obj) is int)
        op = classify(value, scope)
        if op.primitive in (PACK, DICT):
            return want_seq
        if op.primitive is op_.getitem:             # an item of an array is an array or a number
            return may(op.args[0], table) or not want_seq and may(op.args[0], seqs)
        if op.primitive is COPY:
            return any(may(a, table) for a in op.args)
        if op.primitive is op_.add:
            if want_seq:
                return all(may(a, seqs) for a in op.args)
            return all(may(a, ints) for a in op.args)
        if op.primitive is op_.mul:
            a, b = op.args
            if want_seq:
                return not _same(a, b) and (may(a, seqs) and may(b, ints) or may(b, seqs) and may(a, ints))
            return may(a, ints) and may(b, ints)
        if isinstance(value, gast.BinOp):             # int op int is an int for these; @ and / never are
            return not want_seq and isinstance(value.op, _INT_OPS) and all(may(a, ints) for a in op.args)
        if isinstance(value, gast.UnaryOp):
            return not want_seq and not isinstance(value.op, gast.Not) and all(may(a, ints) for a in op.args)
        if isinstance(value, gast.Compare):
            return False                            # a bool (or an array of them)
        if isinstance(op.primitive, np.ufunc) or _is_math(op.primitive) or _is_in(op.primitive, _ARRAY_RESULTS):
            if want_seq:
                return False
            if op.primitive is abs:
                return any(may(a, ints) for a in op.args)
            return _is_in(op.primitive, (len, int, math.floor, math.ceil, math.trunc))
        return True

    changed = True
    while changed:
        changed = False
        for table in (seqs, ints):
            for name, defs in definitions.items():
                if name in table:
                    continue
                k = known.get(name)
                if isinstance(k, int) and (table is seqs or k != -1) or isinstance(k, tuple) and table is ints:
                    continue
                for d in defs:
                    if d[0] == "unknown" or \
                            d[0] == "kind" and (d[1] is None or (isinstance(d[1], tuple) if table is seqs
                                                               else d[1] == -1)) or \
                            d[0] == "int" and table is ints or d[0] == "value" and may(d[1], table):
                        table.add(name)
                        changed = True
                        break
    return frozenset(seqs), frozenset(ints)


# --- kinds of values: a number, an array of known ndim, a list or tuple of known items --------------
def kinds(fn, scope, param_kinds, call_results=None):
    """What every local holds, as far as the arguments' kinds tell: -1 a number, ``n >= 0`` an array of
    ``n`` dimensions, a tuple of kinds a list or tuple with items of those kinds (None in it: an item
    not known), and no entry when unknown.

    Flow-insensitive and checked: a name gets a kind only when every assignment of it gives that
    kind (a reassigned parameter's argument counts as one), evaluated with the kinds found so far
    (an optimistic start, then every name whose assignments disagree is dropped until they all agree;
    so a loop-carried value keeps the kind its assignments preserve). Sound when each rule below is:
    ``sequence(x)`` is ``x``, ``zeros_like(x)`` has ``x``'s axes, and so are s2sad's copies of an array (``copy_like``, ``owned``, ``owned_tangent``: a
    number stays one except through ``copy_like``); ``x[i]`` of a tuple kind is the item (or the common item kind), of an
    ``n``-d array with ``k`` integer indices (and slices) an ``n - k``-d array (each ``None`` one axis
    more); ``np.einsum``'s result has as many axes as its output's letters; a slice of a tuple kind with
    constant bounds the items it keeps; an array's ``shape`` is ``ndim`` numbers, its ``T`` an array of as many axes;
    arithmetic and ufuncs broadcast;
    full reductions, ``len``, ``float`` and ``math`` give numbers; a range loop's index is a number.
    """
    from .ops import COPY, PACK, classify
    params = N.params(fn)
    assigned = collections.Counter(n.id for n in N.walk(fn) if isinstance(n, gast.Name)
                                   and isinstance(n.ctx, gast.Store))
    given = {p: k for p, k in zip(params, param_kinds) if k is not None}
    fixed = {p: k for p, k in given.items() if not assigned[p]}
    definitions = collections.defaultdict(list)
    for p in params:
        if assigned[p]:
            definitions[p].append(("kind", given.get(p)))
    ranges = _range_names(fn, scope)
    for s in N.statements(fn.body):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Name):
                definitions[target.id].append(("value", s.value))
            elif isinstance(target, (gast.Tuple, gast.List)):
                for k, t in enumerate(target.elts):
                    if isinstance(t, gast.Name):
                        definitions[t.id].append(("item", s.value, k, len(target.elts)))
        elif isinstance(s, gast.For):
            definitions[s.target.id].append(("range",) if isinstance(s.iter, gast.Name) and s.iter.id in ranges
                                            else ("kind", None))
        elif isinstance(s, gast.FunctionDef):
            definitions[s.name].append(("kind", None))

    def of(node, known):
        if isinstance(node, gast.Name):
            if node.id not in known and scope.is_free(node.id):     # a module's number (the cache checks the
                value = scope.resolve(node)                          # global still holds the same object)
                return -1 if isinstance(value, (int, float, np.integer, np.floating)) else None
            return known.get(node.id)
        if isinstance(node, gast.Constant):
            return -1 if type(node.value) in (int, float, bool) else None
        if isinstance(node, (gast.Tuple, gast.List)):
            return tuple(of(e, known) for e in node.elts)
        if isinstance(node, gast.Attribute) and scope.is_free(_root(node)):
            return -1 if type(scope.resolve(node)) in (int, float) else None
        if isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name) \
                and isinstance(known.get(node.value.id), int) and known[node.value.id] >= 0:
            nd = known[node.value.id]                    # an array's metadata
            return {"shape": (-1,) * nd, "ndim": -1, "size": -1, "T": nd}.get(node.attr)
        op = classify(node, scope)
        args = [of(a, known) if isinstance(a, gast.AST) else None for a in op.args]
        if op.primitive is COPY:
            return args[0]
        if op.primitive is PACK:
            return tuple(args)
        if op.primitive is operator.getitem:
            return _item_kind(args[0], op.args[1], known)
        if op.primitive is runtime_sequence:
            return args[0]
        if op.primitive in runtime_copies and args and isinstance(args[0], int) \
                and (args[0] >= 0 or op.primitive is not runtime_copies[0]):
            return args[0]                               # a copy of an array (owned: of a number, the number)
        if op.primitive is runtime_zeros_like and len(args) == 1 and isinstance(args[0], int):
            return args[0]                               # zeros shaped like an array (a number's: 0.0)
        if op.primitive is runtime_cast_tangent and len(args) == 2 and isinstance(args[1], int) and args[1] >= 1:
            return args[1]                               # a tangent shaped like the array it is of
        if call_results is not None and callable(op.primitive) and getattr(op.primitive, "__code__", None) \
                is not None and not op.kwargs and getattr(op.primitive, "__module__", "") != "s2sad.runtime":
            result = call_results(op.primitive, tuple(a == -1 for a in args))
            return -1 if result is True else (tuple(-1 if r else None for r in result)
                                               if isinstance(result, tuple) else None)
        if "dtype" in op.kwargs and not _real_dtype(op.kwargs["dtype"], scope) \
                and not _dtype_of_kind(_defined_as(op.kwargs["dtype"]), known):
            return None                                  # complex values are never given a kind
        if op.primitive is np.einsum and op.args and isinstance(op.args[0], gast.Constant) \
                and isinstance(op.args[0].value, str) and "->" in op.args[0].value and "." not in op.args[0].value \
                and not op.kwargs:
            letters = op.args[0].value.split("->")[1].strip()
            return len(letters) if letters else None      # its output's letters (a 0-d result: not given one)
        made = _constructed(op.primitive, args)
        if made is not None and set(op.kwargs) <= {"dtype"}:
            return made
        if _full_reduction(op) and len(args) == 1 and op.kwargs:
            if _is_true(op.kwargs.get("keepdims")):
                return args[0] if isinstance(args[0], int) and args[0] >= 0 else None
            return -1                                    # over every axis (axis=None): a number
        if op.primitive is np.squeeze and len(args) == 1 and set(op.kwargs) <= {"axis"} \
                and _constant_none(op.kwargs.get("axis")) and _all_ones(_defined_as(op.args[0])):
            return -1                                    # np.squeeze(m) of m = np.max(x, keepdims=True)
        if op.kwargs:
            return None
        if _is_math(op.primitive) or _is_in(op.primitive, _NUMBERS):
            return -1
        if _is_in(op.primitive, _REDUCTIONS) and len(args) == 1 and op.primitive not in (np.dot, np.inner, np.vdot,
                                                                                          np.trace):
            return -1                                    # over every axis, of whatever it is given: a number
        if _is_in(op.primitive, {np.copy, copy.copy, copy.deepcopy}) and len(args) == 1:
            return args[0]
        if op.primitive in (sum, min, max) and len(args) == 1:
            return _first_item_kind(args[0])
        if op.primitive in (min, max) and len(args) >= 2 and all(a == -1 for a in args):
            return -1
        if _is_in(op.primitive, {operator.matmul, np.matmul, np.dot}) and len(args) == 2:
            dims = tuple(0 if a == -1 else a for a in args)
            return _MATMUL_NDIM.get(dims) if dims != (0, 0) else -1
        if _elementwise(op.primitive) or _is_in(op.primitive, _COMPARISONS):
            if args and all(isinstance(a, int) for a in args):
                return max(args) if max(args) >= 0 else -1
            return None
        if op.primitive is np.transpose and len(args) == 1 and isinstance(args[0], int):
            return args[0]
        return None

    def _constructed(primitive, args):
        """Arrays made from numbers and shapes: ``np.array``/``np.asarray`` of a known kind, ``np.arange`` and
        ``np.linspace`` of numbers (1-d), ``np.zeros``/``ones``/``empty``/``full`` of a shape (as many axes as
        it has numbers), ``np.zeros_like`` and friends (their argument's axes)."""
        if _is_in(primitive, {np.array, np.asarray}) and len(args) == 1:
            return _array_kind(args[0])
        if _is_in(primitive, {np.arange, np.linspace}) and args and all(a == -1 for a in args):
            return 1
        if _is_in(primitive, {np.zeros, np.ones, np.empty, np.full}) and args:
            shape = args[0]
            if shape == -1:
                return 1
            if isinstance(shape, tuple) and all(k == -1 for k in shape):
                return len(shape)
            return None
        if _is_in(primitive, {np.zeros_like, np.ones_like, np.empty_like, np.full_like}) and args \
                and isinstance(args[0], int):
            return max(args[0], 0)
        return None

    def _array_kind(arg):
        """``np.array(arg)``: an array of arg's kind, a list of numbers (or of arrays of one kind) one more."""
        if isinstance(arg, int):
            return max(arg, 0)
        if isinstance(arg, tuple) and arg and all(isinstance(k, int) and k == arg[0] for k in arg):
            return arg[0] + 1 if arg[0] >= 0 else 1
        return None

    def _first_item_kind(arg):
        """``sum(arg)``, ``min(arg)``, ``max(arg)``: the kind of arg's items (numbers for a 1-d array)."""
        if isinstance(arg, int) and arg >= 1:
            return arg - 1 if arg > 1 else -1
        if isinstance(arg, tuple) and arg and all(k == -1 for k in arg):
            return -1
        return None

    def _item_kind(base, index, known):
        if isinstance(index, gast.Call) and not index.keywords and 1 <= len(index.args) <= 3 \
                and scope.resolve(index.func) is slice:      # L[slice(a, b)], as derivative code writes `L[a:b]`
            bounds = [None if N.is_const(a) and a.value is None else a for a in index.args]
            bounds = [None] + bounds if len(bounds) == 1 else bounds + [None] * (3 - len(bounds))
            index = gast.Slice(lower=bounds[0], upper=bounds[1], step=bounds[2])
        if isinstance(base, tuple):
            if isinstance(index, gast.Slice):            # a list's or tuple's slice: the kinds of the items it keeps
                bounds = [_constant_int(b) for b in (index.lower, index.upper, index.step)]
                if any(b is _UNKNOWN for b in bounds) or bounds[2] == 0:
                    return None
                return base[slice(*bounds)]
            if isinstance(index, gast.Constant) and type(index.value) is int and -len(base) <= index.value < len(base):
                return base[index.value]
            return base[0] if base and all(k == base[0] for k in base) else None
        if isinstance(base, int) and base >= 1:
            items = index.elts if isinstance(index, gast.Tuple) else [index]
            new = sum(1 for i in items if isinstance(i, gast.Constant) and i.value is None)   # x[:, None]: a new axis

            def integer(i):                          # (a bool adds an axis: never one)
                return isinstance(i, gast.Constant) and type(i.value) is int \
                    or of(i, known) == -1 and _never_bool(i, scope, definitions, given)
            ints = [i for i in items if not isinstance(i, gast.Slice) and not (isinstance(i, gast.Constant)
                                                                               and i.value is None)]
            if len(items) - new <= base and all(integer(i) for i in ints):
                ndim = base + new - len(ints)        # x[:, 0]: each integer takes an axis away, each None adds one
                return ndim if ndim > 0 else -1
        return None

    def _full_reduction(op):
        return _is_in(op.primitive, _REDUCTIONS) and op.primitive not in (np.dot, np.inner, np.vdot, np.trace) \
            and _over_every_axis(op.kwargs)

    def _all_ones(node):
        """A value every axis of which has length one: ``np.max(x, axis=None, keepdims=True)``."""
        if not isinstance(node, gast.Call):
            return False
        op = classify(node, scope)
        return len(op.args) == 1 and _full_reduction(op) and _is_true(op.kwargs.get("keepdims"))

    def _defined_as(node):
        """What a name bound once, not a parameter, is bound to (else the node itself)."""
        if isinstance(node, gast.Name) and len(definitions.get(node.id, ())) == 1 and node.id not in given \
                and definitions[node.id][0][0] == "value":
            return definitions[node.id][0][1]
        return node

    def _constant_int(node):
        """None for no bound, the int a bound is (a constant, or a name bound once, to one), else _UNKNOWN."""
        if node is None:
            return None
        node = _defined_as(node)
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) and isinstance(node.operand, gast.Constant):
            node = gast.Constant(value=-node.operand.value if type(node.operand.value) is int else None, kind=None)
        return node.value if isinstance(node, gast.Constant) and type(node.value) is int else _UNKNOWN

    def evaluate(d, known):
        if d[0] == "range":
            return -1
        if d[0] == "kind":
            return d[1]
        if d[0] == "value":
            return of(d[1], known)
        whole = of(d[1], known)
        if isinstance(whole, tuple) and len(whole) == d[3]:
            return whole[d[2]]
        if isinstance(whole, int) and whole >= 1:           # unpacking an array: its rows
            return whole - 1 if whole > 1 else -1
        return None

    known = dict(fixed)
    for _ in range(8):                                   # optimistic: agreeing definitions that are understood
        changed = False
        for name, defs in definitions.items():
            if name in fixed:
                continue
            values = {evaluate(d, known) for d in defs} - {None}
            if len(values) == 1 and known.get(name) != next(iter(values)):
                known[name] = next(iter(values))
                changed = True
        if not changed:
            break
    while True:                                          # checked: every definition must agree
        wrong = [n for n, defs in definitions.items() if n in known and n not in fixed
                 and any(evaluate(d, known) != known[n] for d in defs)]
        if not wrong:
            return known
        for n in wrong:
            del known[n]


_UNKNOWN = object()


def _constant_none(node):
    return node is None or isinstance(node, gast.Constant) and node.value is None


def _is_true(node):
    return isinstance(node, gast.Constant) and node.value is True


def _over_every_axis(kwargs):
    """A reduction's keywords that leave it over every axis: ``axis=None``, ``dtype``, ``keepdims``."""
    return set(kwargs) <= {"dtype", "axis", "keepdims"} and _constant_none(kwargs.get("axis")) \
        and (kwargs.get("keepdims") is None or isinstance(kwargs["keepdims"], gast.Constant)
             and type(kwargs["keepdims"].value) is bool)


def _dtype_of_kind(node, known):
    """``x.dtype`` of a value with a kind: a real dtype (complex values are given none)."""
    return isinstance(node, gast.Attribute) and node.attr == "dtype" and isinstance(node.value, gast.Name) \
        and isinstance(known.get(node.value.id), int)


def _real_dtype(node, scope):
    """Whether a ``dtype=`` argument names a real (or integer, bool) dtype, as far as it can be resolved."""
    value = node.value if isinstance(node, gast.Constant) else scope.resolve(node) \
        if isinstance(node, (gast.Name, gast.Attribute)) else MISSING
    try:
        return np.dtype(value).kind in "fiub"
    except TypeError:
        return False


def _never_bool(node, scope, definitions, given, seen=frozenset()):
    """Whether a number used as an index is proved not a bool: ``x[True]`` is a mask (a new axis of one
    or zero rows), not the item ``x[1]``. Proved for int and float constants, parameters (a bool argument
    is not given the kind of a number), range indices, ``len``/``int``/``round``/``math.floor``... results,
    a module's int or float, and arithmetic and ``min``/``max`` of such values (``np.True_ + np.True_``
    is a bool, so the operands must be proved too); not for comparisons, ``not``, ``np.all``, items of
    arrays (their dtype is not known)."""
    if isinstance(node, gast.Constant):
        return type(node.value) in (int, float)
    if isinstance(node, gast.Name):
        if node.id in seen:
            return True                              # a loop-carried value: proved by its other definitions
        if node.id not in definitions:
            if node.id in given:                     # an unassigned parameter
                return True
            value = scope.resolve(node) if scope.is_free(node.id) else MISSING
            return isinstance(value, (int, float, np.integer, np.floating)) and \
                not isinstance(value, (bool, np.bool_))
        seen = seen | {node.id}
        return all(d == ("kind", given.get(node.id)) and node.id in given or d == ("range",)
                   or d[0] == "value" and _never_bool(d[1], scope, definitions, given, seen)
                   for d in definitions[node.id])
    if isinstance(node, (gast.BinOp, gast.UnaryOp)):
        if isinstance(getattr(node, "op", None), (gast.Not, gast.BitAnd, gast.BitOr, gast.BitXor, gast.Invert)):
            return False
        operands = [node.left, node.right] if isinstance(node, gast.BinOp) else [node.operand]
        return all(_never_bool(o, scope, definitions, given, seen) for o in operands)
    if isinstance(node, gast.Call):
        function = scope.resolve(node.func) if isinstance(node.func, (gast.Name, gast.Attribute)) else MISSING
        if function in (len, int, float, round, math.floor, math.ceil, math.trunc, operator.index,
                        np.argmax, np.argmin):
            return True
        if function in (min, max, abs):
            return not node.keywords and all(_never_bool(a, scope, definitions, given, seen) for a in node.args)
    return False


_COMPARISONS = {operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne}


def _runtime_sequence():
    from .. import runtime
    return runtime.sequence


runtime_sequence = _runtime_sequence()


def _runtime_copies():
    from .. import runtime
    return (runtime.copy_like, runtime.owned, runtime.owned_tangent)   # (copy_like of a number: a 0-d array)


runtime_copies = _runtime_copies()
runtime_cast_tangent = __import__("s2sad.runtime", fromlist=["cast_tangent"]).cast_tangent
runtime_zeros_like = __import__("s2sad.runtime", fromlist=["zeros_like"]).zeros_like
