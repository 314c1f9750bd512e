"""Fold single-use temporaries back into the one expression that reads them.

Normalization gives every operation its own statement, which the passes need; the
finished code reads better, and runs faster in CPython, with a temporary that is read
once written in place: ``_t3 = x ** 2; _t4 = b * _t3`` becomes ``_t4 = b * x ** 2``.
The values computed are the same, in the same order: a temporary is folded only when

- it is one of s2sad's temporaries (``_t3``, ``_t3_bar``, ``_t3_dot``), assigned once and read
  once in the whole function, later in the same block, by a simple statement (an
  assignment, an expression statement or a ``return``) or a branch's test;
- its expression has no effects: arithmetic, comparisons, constants, names, indexing,
  and calls of functions of modules (``np.sin``, ``math.cos``) or of ``abs``/``float``/``slice``
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

_SAFE_BUILTINS = {"abs", "float", "slice"}
_TEMPORARY = re.compile(r"_t\d+(_(bar|dot)(_\d+)*)?")
_PURE_NODES = (gast.Name, gast.Constant, gast.BinOp, gast.UnaryOp, gast.Compare, gast.Tuple, gast.Subscript,
               gast.Slice, gast.Attribute, gast.Call, gast.keyword, gast.Load, gast.operator, gast.unaryop,
               gast.cmpop, gast.expr_context)


def run(fn, is_module, helpers="_s2"):
    """Fold ``fn``'s single-use temporaries; ``is_module(name)``: whether a free name denotes a module;
    ``helpers``: the name of s2sad's runtime helpers in ``fn``."""
    stores, loads = _counts(fn)
    once = {n for n, k in loads.items() if k == 1 and stores.get(n) == 1}
    params = {a.id for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
    local = set(stores) | params
    pure = _Pure(local, lambda name: name != helpers and is_module(name))
    changed = True
    while changed:
        changed = _fold_blocks(fn.body, once - params, pure)
    return fn


def _counts(fn):
    stores, loads = {}, {}
    for node in gast.walk(fn):
        if isinstance(node, gast.Name):
            table = loads if isinstance(node.ctx, gast.Load) else stores
            table[node.id] = table.get(node.id, 0) + 1
    return stores, loads


class _Pure:
    def __init__(self, local, is_module):
        self.local, self.is_module = local, is_module

    def __call__(self, expr):
        for node in gast.walk(expr):
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
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def _writes(s):
    return {n.id for n in gast.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del))}


def _changes_in_place(s, local):
    """Whether ``s`` may change a value in place: ``x[i] = v``, ``x.attr = v``, or a method call on a
    local (``items.pop()``); any name may be another name's alias, so none is safe then."""
    targets = s.targets if isinstance(s, gast.Assign) else [s.target] if isinstance(s, gast.AugAssign) else []
    if any(isinstance(t, (gast.Subscript, gast.Attribute)) for t in targets):
        return True
    return any(isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
               and isinstance(node.func.value, gast.Name) and node.func.value.id in local for node in gast.walk(s))


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
