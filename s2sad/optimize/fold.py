"""Fold single-use temporaries back into the one expression that reads them.

Normalization gives every operation its own statement, which the passes need; the
finished code reads better, and runs faster in CPython, with a temporary that is read
once written in place: ``_t3 = x ** 2; _t4 = b * _t3`` becomes ``_t4 = b * x ** 2``.
The values computed are the same, in the same order: a temporary is folded only when

- it is one of s2sad's temporaries (``_t3``, ``_t3_bar``, ``_t3_dot``), assigned once and read
  once in the whole function, later in the same block, by a simple statement (an
  assignment, an expression statement or a ``return``) or a branch's test;
- its expression has no effects: arithmetic, comparisons, constants, names, indexing,
  and calls of functions of modules (``np.sin``, ``math.cos``) or of ``abs``/``float``/``slice``/``len``
  (not s2sad's runtime helpers: ``_s2.unbroadcast(_s2.unreduce(...))`` reads worse than two lines);
- nothing between the two statements assigns a name it reads, and nothing there may change
  a value in place (no branch, loop, call statement, method call or item assignment: a
  list may have two names).

>>> import gast
>>> from s2sad import nodes as N
>>> fn = gast.parse('''
... def f(x, b):
...     _t3 = x ** 2
...     _t4 = b * _t3
...     return _t4
... ''').body[0]
>>> print(N.unparse(run(fn, lambda name: False)))
def f(x, b):
    return b * x ** 2
"""
import builtins
import re

import gast

from .. import nodes as N

_SAFE_BUILTINS = {"abs", "float", "slice", "len"}
_TEMPORARY = re.compile(r"_t\d+(_(bar|dot)(_\d+)*)?")
_PURE_NODES = (gast.Name, gast.Constant, gast.BinOp, gast.UnaryOp, gast.Compare, gast.Tuple, gast.Subscript,
               gast.Slice, gast.Attribute, gast.Call, gast.keyword, gast.Load, gast.operator, gast.unaryop,
               gast.cmpop, gast.expr_context)


def run(fn, is_module, helpers="_s2", numbers=frozenset()):
    """Fold ``fn``'s single-use temporaries; ``is_module(name)``: whether a free name denotes a module;
    ``helpers``: the name of s2sad's runtime helpers in ``fn``; ``numbers``: names that always hold numbers
    (for them, ``t = -y`` is folded into its uses as subtractions and consecutive ``v = v + a`` merged)."""
    stores, loads = _counts(fn)
    params = {a.id for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
    once = {n for n, k in loads.items() if k == 1 and stores.get(n) == 1}
    pure = _Pure(set(stores) | params, lambda name: name != helpers and is_module(name))
    changed = True
    while changed:
        changed = _fold_blocks(fn.body, once - params, pure)
    _plain_tests(fn.body)
    stores, loads = _counts(fn)
    _seeds(fn.body, stores)
    _constants(fn.body, stores)
    if numbers:
        stores, loads = _counts(fn)
        for block in _blocks(fn.body):
            _negations(block, stores, loads, numbers)
            _merge_sums(block, numbers, pure)
    return fn


def _plain_tests(stmts):
    """The loops and branches normalization wrote as a person writes them, in every block (exact: Python runs
    both forms alike, the test evaluated as often, at the same points)::

        while True:                      while c:
            if c:                  ->        B
                B
            else:
                break

        if c:                      ->    if not c:
            pass                             E
        else:
            E
    """
    for s in stmts:
        for block in (getattr(s, "body", None), getattr(s, "orelse", None)):
            if isinstance(s, (gast.If, gast.For, gast.While)) and block:
                _plain_tests(block)
        if isinstance(s, gast.While) and N.is_const(s.test) and s.test.value is True and not s.orelse \
                and len(s.body) == 1 and isinstance(s.body[0], gast.If) and len(s.body[0].orelse) == 1 \
                and isinstance(s.body[0].orelse[0], gast.Break):
            s.test, s.body = s.body[0].test, s.body[0].body
        elif isinstance(s, gast.If) and all(isinstance(b, gast.Pass) for b in s.body) and s.orelse:
            s.test, s.body, s.orelse = gast.UnaryOp(op=gast.Not(), operand=s.test), s.orelse, []


def _seeds(body, stores):
    """``ans_bar = 1.0`` (an adjoint bound once, to a number, in the function's own block) written into its
    reads: ``_t11_bar = -1.0 / n``. Left where a read multiplies by it (``1.0 * x`` reads worse than
    ``ans_bar * x``, and ``x`` alone may be an int). Exact: every read is later in the block (a seed is
    bound before the backward sweep reads it), so each read there saw that number."""
    for i, s in enumerate(body):
        if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
                and s.targets[0].id.endswith("_bar") and isinstance(s.value, gast.Constant) \
                and type(s.value.value) is float and seed_folds(body, i, s.targets[0].id, stores):
            body[i + 1:] = [N.replace_reads(t, s.targets[0].id, s.value) for t in body[i + 1:]]
            del body[i]
            return


def _constants(body, stores):
    """A temporary bound once, in the function's own block, to a number (``_t1 = -1``) written where it is read
    (``params[:-1]``, ``slice(None, -1)``). Exact where ``constant_folds``."""
    i = 0
    while i < len(body):
        s = body[i]
        if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
                and _TEMPORARY.fullmatch(s.targets[0].id) and constant_folds(body, i, s.targets[0].id, stores):
            body[i + 1:] = [N.replace_reads(t, s.targets[0].id, s.value) for t in body[i + 1:]]
            del body[i]
            continue
        i += 1


def constant_folds(body, i, name, stores):
    """Soundness condition of ``_constants`` (tests/test_soundness.py): ``body[i]`` binds ``name`` to a number
    (``-1``, ``2.5``), ``name`` is bound nowhere else and read nowhere before ``body[i]``: every read sees it."""
    value = body[i].value
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
        value = value.operand
    if not (isinstance(value, gast.Constant) and type(value.value) in (int, float)) or stores.get(name) != 1:
        return False
    return not any(isinstance(n, gast.Name) and n.id == name for t in body[:i] for n in N.walk(t))


def seed_folds(body, i, name, stores):
    """Soundness condition of ``_seeds`` (tests/test_soundness.py): ``name`` (bound by ``body[i]``) is bound
    nowhere else and read nowhere before ``body[i]``; and (for reading) no read multiplies by it."""
    if stores.get(name) != 1:
        return False
    if any(isinstance(n, gast.Name) and n.id == name for t in body[:i] for n in N.walk(t)):
        return False
    return not any(_multiplies(node, name) for t in body[i + 1:] for node in N.walk(t))


def _multiplies(node, name):
    return isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult) and any(
        isinstance(side, gast.Name) and side.id == name for side in (node.left, node.right))


def _negations(stmts, stores, loads, numbers):
    """``t = -y`` of numbers, each read of ``t`` the first factor of a term added (``a + t * b``): ``a - y * b``
    there and no ``t`` (exact: ``a + (-y) * b`` and ``a - y * b`` round alike), in one block. Sound where
    ``negation_folds``."""
    i = 0
    while i < len(stmts):
        s = stmts[i]
        if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
                and isinstance(s.value, gast.UnaryOp) and isinstance(s.value.op, gast.USub) \
                and isinstance(s.value.operand, gast.Name):
            t, y = s.targets[0].id, s.value.operand.id
            sites = negation_folds(stmts, i, t, y, stores, loads, numbers)
            if sites is not None:
                for add in sites:
                    add.op = gast.Sub()
                    factor = add
                    while True:                            # the chain's first factor: t, now y
                        parent, factor = factor, factor.right if factor is add else factor.left
                        if isinstance(factor, gast.Name):
                            setattr(parent, "right" if parent is add else "left", N.name(y))
                            break
                del stmts[i]
                continue
        i += 1


def negation_folds(stmts, i, t, y, stores, loads, numbers):
    """Soundness condition of ``_negations`` (tests/test_soundness.py): ``t`` and ``y`` are numbers, ``t`` one of
    s2sad's temporaries assigned once, and every read of ``t`` comes later in this block, in a simple
    statement, as the first factor of a term added, with no assignment of ``y`` from ``t``'s up to the last
    one. Returns those additions (else None)."""
    if not (t in numbers and y in numbers and stores.get(t) == 1 and _TEMPORARY.fullmatch(t)):
        return None
    sites, found = [], 0
    for s in stmts[i + 1:]:
        if found == loads.get(t, 0):
            break
        reads = sum(1 for n in N.walk(s) if isinstance(n, gast.Name) and n.id == t)
        if reads and not isinstance(s, (gast.Assign, gast.AugAssign, gast.Expr)):
            return None
        here = [n for n in N.walk(s) if isinstance(n, gast.BinOp) and isinstance(n.op, gast.Add)
                and _first_factor(n.right) == t]
        if len(here) != reads:
            return None
        sites += here
        found += reads
        if y in _writes(s) and found != loads.get(t, 0):
            return None
    return sites if sites and found == loads.get(t, 0) else None


def _first_factor(term):
    while isinstance(term, gast.BinOp) and isinstance(term.op, gast.Mult):
        term = term.left
    return term.id if isinstance(term, gast.Name) else None


def _merge_sums(stmts, numbers, pure):
    """``v = v + a`` then, later in the block, ``v = v - b`` (numbers, nothing between naming ``v`` or assigning
    what ``a`` reads, ``b`` not reading ``v``): one ``v = v + a - b`` in the second's place, the same
    operations in the same order (in one block)."""
    i = 0
    names = N.StatementNames()
    while i < len(stmts):
        v = _accumulated(stmts[i], numbers, pure)
        if v is None:
            i += 1
            continue
        added = stmts[i].value.right
        j = i + 1
        while j < len(stmts) and merge_passes(stmts[j], v, added, names):
            j += 1
        if j < len(stmts) and _accumulated(stmts[j], numbers, pure) == v and v not in _reads(stmts[j].value.right):
            stmts[j].value = gast.BinOp(left=stmts[i].value, op=stmts[j].value.op, right=stmts[j].value.right)
            names.forget(stmts[j])
            del stmts[i]
            continue
        i += 1


def merge_passes(s, v, added, names):
    """Soundness condition of ``_merge_sums`` (tests/test_soundness.py): ``s``, between ``v = v + a`` and the
    update it merges into, neither names ``v`` nor assigns what ``a`` reads (``a`` is computed later, there)."""
    if N.is_comment(s):
        return True
    if not isinstance(s, gast.Assign):
        return False
    reads, writes = names.reads(s), names.writes(s)
    return v not in reads and v not in writes and not writes & _reads(added)


def _accumulated(s, numbers, pure):
    """``v`` of ``v = v + a`` or ``v = v - a`` (a number, ``a`` pure and not reading ``v``), else None."""
    if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
            and s.targets[0].id in numbers and isinstance(s.value, gast.BinOp) \
            and isinstance(s.value.op, (gast.Add, gast.Sub)) \
            and isinstance(s.value.left, gast.Name) and s.value.left.id == s.targets[0].id \
            and s.targets[0].id not in _reads(s.value.right) and pure(s.value.right):
        return s.targets[0].id
    return None


def _counts(fn):
    stores, loads = {}, {}
    for node in N.walk(fn):
        if isinstance(node, gast.Name):
            table = loads if isinstance(node.ctx, gast.Load) else stores
            table[node.id] = table.get(node.id, 0) + 1
    return stores, loads


class _Pure:
    def __init__(self, local, is_module):
        self.local, self.is_module = local, is_module

    def __call__(self, expr):
        for node in N.walk(expr):
            if not isinstance(node, _PURE_NODES):
                return False
            if isinstance(node, gast.Call) and not self.callee(node.func):
                return False
        return True

    def callee(self, func):
        if isinstance(func, gast.Name):
            return func.id not in self.local and func.id in _SAFE_BUILTINS and hasattr(builtins, func.id)
        root = func
        while isinstance(root, gast.Attribute):
            root = root.value
        return isinstance(root, gast.Name) and root.id not in self.local and self.is_module(root.id)


def _blocks(stmts):
    """``stmts`` and every block nested in its branches and loops (not in functions defined there)."""
    yield stmts
    for s in stmts:
        if isinstance(s, (gast.If, gast.For, gast.While)):
            for inner in (s.body, s.orelse):
                if inner:
                    yield from _blocks(inner)


def _fold_blocks(stmts, once, pure):
    changed = False
    for s in stmts:
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(s, (gast.If, gast.For, gast.While, gast.FunctionDef)) and inner:
                changed |= _fold_blocks(inner, once, pure)
    i = 0
    while i < len(stmts):
        s = stmts[i]
        if _candidate(s, once) and pure(s.value):
            j = _use(stmts, i, s.targets[0].id, _reads(s.value), pure.local)
            if j is not None:
                _substitute(stmts[j], s.targets[0].id, s.value)
                del stmts[i]
                changed = True
                continue
        i += 1
    return changed


def _candidate(s, once):
    return isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
        and s.targets[0].id in once and _TEMPORARY.fullmatch(s.targets[0].id) is not None


def _use(stmts, i, name, reads, local):
    """The index of the statement after ``i`` in this block that reads ``name``, if folding is safe."""
    for j in range(i + 1, len(stmts)):
        s = stmts[j]
        if isinstance(s, gast.If) and name in _reads(s.test):       # a branch's test is read before its body
            return j if not _changes_in_place(gast.Expr(value=s.test), local) else None
        if name in _reads(s):
            simple = isinstance(s, (gast.Assign, gast.Expr, gast.Return, gast.AugAssign))
            return j if simple and not _changes_in_place(s, local) else None
        if N.is_comment(s):
            continue
        if not isinstance(s, gast.Assign) or _writes(s) & reads or _changes_in_place(s, local):
            return None
    return None


def _reads(node):
    return {n.id for n in N.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def _writes(s):
    return {n.id for n in N.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del))}


def _changes_in_place(s, local):
    """Whether ``s`` may change a value in place: ``x[i] = v``, ``x.attr = v``, or a method call on a
    local (``items.pop()``); any name may be another name's alias, so none is safe then."""
    targets = s.targets if isinstance(s, gast.Assign) else [s.target] if isinstance(s, gast.AugAssign) else []
    if any(isinstance(t, (gast.Subscript, gast.Attribute)) for t in targets):
        return True
    return any(isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
               and isinstance(node.func.value, gast.Name) and node.func.value.id in local for node in N.walk(s))


def _substitute(s, name, expr):
    class Replace(gast.NodeTransformer):
        def visit_Name(self, node):
            if node.id == name and isinstance(node.ctx, gast.Load):
                return expr
            return node
    if isinstance(s, gast.If):
        s.test = Replace().visit(s.test)
    else:
        Replace().visit(s)
