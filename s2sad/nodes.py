"""Every AST node s2sad builds is built here (gast flavour), so node layout lives in one file."""
import ast
import math
import sys
from collections import deque

import gast

_LOC = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def name(id_, ctx=None):
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def store(id_):
    return name(id_, gast.Store())


def const(value):
    return gast.Constant(value=value, kind=None)


def attr(value, attr_name):
    if isinstance(value, str):
        value = name(value)
    return gast.Attribute(value=value, attr=attr_name, ctx=gast.Load())


def dotted(path):
    """``dotted("np.linalg.solve")`` -> the Attribute chain."""
    head, *rest = path.split(".")
    node = name(head)
    for part in rest:
        node = attr(node, part)
    return node


def call(func, args=(), keywords=None):
    if isinstance(func, str):
        func = dotted(func)
    kws = [gast.keyword(arg=k, value=v) for k, v in (keywords or {}).items()]
    return gast.Call(func=func, args=list(args), keywords=kws)


def binop(left, op, right):
    return gast.BinOp(left=left, op=op, right=right)


def add(left, right):
    return binop(left, gast.Add(), right)


def tup(elts, ctx=None):
    return gast.Tuple(elts=list(elts), ctx=ctx or gast.Load())


def assign(target, value, like=None):
    if isinstance(target, str):
        target = store(target)
    node = gast.Assign(targets=[target], value=value, type_comment=None)
    return located(node, like) if like is not None else node


def ret(value):
    return gast.Return(value=value)


def if_(test, body, orelse, like=None):
    node = gast.If(test=test, body=body, orelse=orelse)
    return located(node, like) if like is not None else node


def located(node, like):
    """Give ``node`` the source location of ``like`` (a user statement)."""
    for field in _LOC:
        if hasattr(like, field):
            setattr(node, field, getattr(like, field))
    return node


def identifier(name):
    """``name`` if it can name a variable, else ``lambda_`` (a lambda's ``__name__`` is ``<lambda>``)."""
    return name if isinstance(name, str) and name.isidentifier() else "lambda_"


def walk(node):
    """Every node of a syntax tree, ``node`` first: ``ast.walk``'s nodes in ``ast.walk``'s order (breadth first,
    fields in declaration order), in half its time (no generator per node). The transform walks trees tens of
    thousands of times; a test checks the order against ``ast.walk``."""
    todo = deque((node,))
    pop, push = todo.popleft, todo.append
    while todo:
        n = pop()
        for field in n._fields:
            v = getattr(n, field, None)
            if isinstance(v, ast.AST):
                push(v)
            elif isinstance(v, list):
                for item in v:
                    if isinstance(item, ast.AST):
                        push(item)
        yield n


def clone(node):
    """A deep copy of a syntax tree (or a list of them): its nodes and lists copied, other values shared (names,
    constants; what ``copy.deepcopy`` copies alike, in half the time)."""
    if isinstance(node, gast.AST):
        new = node.__class__.__new__(node.__class__)
        new.__dict__.update({k: clone(v) if isinstance(v, (gast.AST, list, tuple)) else v
                             for k, v in node.__dict__.items()})
        return new
    if isinstance(node, list):
        return [clone(v) for v in node]
    if isinstance(node, tuple):
        return tuple(clone(v) for v in node)
    return node


class CopyingTransformer(gast.NodeTransformer):
    """A NodeTransformer that leaves the tree it visits as it was: ``visit`` returns a transformed copy, made
    in the same pass (``clone`` then a transformer walks the tree twice). A ``visit_X`` method gets the
    original node and returns a new one, or ``self.generic_visit(node)``'s copy (changed as it likes)."""

    def generic_visit(self, node):
        new = node.__class__.__new__(node.__class__)
        new.__dict__.update(node.__dict__)
        for field in node._fields:
            old = getattr(node, field, None)
            if isinstance(old, list):
                items = []
                for item in old:
                    if isinstance(item, ast.AST):
                        item = self.visit(item)
                        if item is None:
                            continue
                        if not isinstance(item, ast.AST):
                            items.extend(item)
                            continue
                    items.append(item)
                setattr(new, field, items)
            elif isinstance(old, ast.AST):
                item = self.visit(old)
                if item is None:
                    delattr(new, field)
                else:
                    setattr(new, field, item)
        return new


def replace_reads(node, name, by):
    """``node`` with each read of ``name`` replaced by a copy of ``by`` (in place where it can be; returned)."""
    class Replace(gast.NodeTransformer):
        def visit_Name(self, n):
            return clone(by) if n.id == name and isinstance(n.ctx, gast.Load) else n
    return Replace().visit(node)


class StatementNames:
    """Each statement's reads (name -> how many times) and writes (the names it binds or deletes), worked out
    once per statement; ``forget(s)`` a statement that changed. For passes that ask of the same statements
    many times while inserting or removing others."""

    def __init__(self):
        self.table = {}

    def _of(self, s):
        got = self.table.get(id(s))
        if got is None or got[0] is not s:
            reads, writes = {}, set()
            for n in walk(s):
                if isinstance(n, gast.Name):
                    if isinstance(n.ctx, gast.Load):
                        reads[n.id] = reads.get(n.id, 0) + 1
                    elif isinstance(n.ctx, (gast.Store, gast.Del)):
                        writes.add(n.id)
            got = self.table[id(s)] = (s, reads, writes)
        return got

    def reads(self, s):
        return self._of(s)[1]

    def writes(self, s):
        return self._of(s)[2]

    def forget(self, s):
        self.table.pop(id(s), None)


def as_store(node):
    """A copy of a Name/Tuple/List expression usable as an assignment target."""
    node = clone(node)
    for n in walk(node):
        if isinstance(n, (gast.Name, gast.Tuple, gast.List)):
            n.ctx = gast.Store()
    return node


def as_load(node):
    node = clone(node)
    for n in walk(node):
        if isinstance(n, (gast.Name, gast.Tuple, gast.List, gast.Subscript, gast.Attribute)):
            n.ctx = gast.Load()
    return node


def is_name(node, id_=None):
    return isinstance(node, gast.Name) and (id_ is None or node.id == id_)


def is_const(node, value=None):
    return isinstance(node, gast.Constant) and (value is None or node.value == value)


def function(fn_name, params, body, defaults=()):
    args = gast.arguments(args=[name(p, gast.Param()) for p in params], posonlyargs=[],
                          vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                          defaults=list(defaults))
    return gast.FunctionDef(name=fn_name, args=args, body=body, decorator_list=[],
                            returns=None, type_comment=None, type_params=[])


# Comments cannot live in an AST; a marker statement carries one to the emitter,
# which turns it into a `# ...` line (see back/emit.py).
COMMENT_PREFIX = "__s2sad_comment__"


def comment(text):
    marker = gast.Expr(value=gast.Call(func=name(COMMENT_PREFIX), args=[const(text)], keywords=[]))
    return marker


def is_comment(stmt):
    return (isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call)
            and is_name(stmt.value.func, COMMENT_PREFIX))


class Namer:
    """Deterministic fresh names that never collide with the user's.

    >>> n = Namer({"x", "x_bar", "_t1"})
    >>> n.temp(), n.derived("x", "bar"), n.derived("y", "bar")
    ('_t2', 'x_bar_1', 'y_bar')
    """

    def __init__(self, taken=()):
        self.taken = set(taken)
        self._temps = 0

    def reserve(self, ident):
        self.taken.add(ident)

    def fresh(self, base):
        candidate, k = base, 0
        while candidate in self.taken:
            k += 1
            candidate = f"{base}_{k}"
        self.taken.add(candidate)
        return candidate

    def temp(self):
        while True:
            self._temps += 1
            candidate = f"_t{self._temps}"
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate

    def derived(self, base, suffix):
        return self.fresh(f"{base}_{suffix}")


def statements(stmts):
    """Every statement in ``stmts``, nested ones (in branches and loops) included, in order; not those of
    functions defined there (each is differentiated on its own)."""
    for s in stmts:
        yield s
        if not isinstance(s, gast.FunctionDef):
            for field in ("body", "orelse"):
                yield from statements(getattr(s, field, None) or [])


def blocks(stmts):
    """``stmts`` and every statement list nested in it (branches' and loops' bodies and ``else`` parts), outer
    first: a caller may change a list in place when it gets it (the walk then goes into what the list holds)."""
    yield stmts
    for st in stmts:
        if isinstance(st, (gast.If, gast.For, gast.While)):
            yield from blocks(st.body)
            yield from blocks(st.orelse)


def free_loads(fn):
    """The names a function definition (or a lambda) reads from outside itself, with Python's scopes: not its
    parameters or locals (names it stores, functions and classes it defines, imports), and what a function, lambda
    or comprehension inside it reads that is neither its own nor theirs (a local of a nested function, a
    comprehension's variable, hides nothing of the enclosing one)."""
    return _free_in(fn)[0]


def local_names(fn):
    """The names a function definition binds in its own scope: its parameters, the names it stores, the functions
    and classes it defines and its imports (not a nested function's locals, not a comprehension's variables)."""
    return _free_in(fn)[1]


_COMPREHENSIONS = (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)


def _free_in(scope):
    own, loads, inner = set(), set(), []
    if isinstance(scope, (gast.FunctionDef, gast.Lambda)):
        args = scope.args
        own.update(a.id for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]
                   if a is not None)
        todo = list(scope.body) if isinstance(scope.body, list) else [scope.body]
    else:                                           # a comprehension: its targets; its first iterable is read outside
        own.update(n.id for g in scope.generators for n in walk(g.target) if isinstance(n, gast.Name))
        todo = [scope.elt] if not isinstance(scope, gast.DictComp) else [scope.key, scope.value]
        todo += [g.iter for g in scope.generators[1:]] + [c for g in scope.generators for c in g.ifs]
    while todo:
        n = todo.pop()
        if isinstance(n, (gast.FunctionDef, gast.ClassDef)):
            own.add(n.name)
            todo.extend(n.decorator_list)           # (evaluated here, as a function's defaults are)
            if isinstance(n, gast.FunctionDef):
                todo.extend(list(n.args.defaults) + [d for d in n.args.kw_defaults if d is not None])
                inner.append(n)
            else:
                todo.extend(n.bases)
                inner.append(gast.FunctionDef(name=n.name, args=gast.arguments(
                    args=[], posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
                    body=n.body, decorator_list=[], returns=None, type_comment=None, type_params=[]))
            continue
        if isinstance(n, gast.Lambda):
            todo.extend(list(n.args.defaults) + [d for d in n.args.kw_defaults if d is not None])
            inner.append(n)
            continue
        if isinstance(n, _COMPREHENSIONS):
            todo.append(n.generators[0].iter)
            inner.append(n)
            continue
        if isinstance(n, gast.Name):
            (loads if isinstance(n.ctx, gast.Load) else own).add(n.id)
        elif isinstance(n, (gast.Import, gast.ImportFrom)):
            own.update((a.asname or a.name).split(".")[0] for a in n.names)
        for field in n._fields:
            v = getattr(n, field, None)
            if isinstance(v, ast.AST):
                todo.append(v)
            elif isinstance(v, list):
                todo.extend(item for item in v if isinstance(item, ast.AST))
    for node in inner:
        loads |= _free_in(node)[0]
    return loads - own, own


def all_names(tree):
    return {n.id for n in walk(tree) if isinstance(n, gast.Name)}


def unparse(node):
    """Source text of a gast node (statement, expression, or function), via ``ast.unparse``."""
    tree = gast.gast_to_ast(node)
    if isinstance(tree, ast.stmt):
        tree = ast.Module(body=[tree], type_ignores=[])
    elif isinstance(tree, ast.expr):
        tree = ast.Expression(body=tree)
    _negative_literals(tree)
    return _Unparser().visit(tree) if _Unparser is not None else ast.unparse(tree)


def _negative(node):
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and \
        (node.value < 0 or node.value == 0 and math.copysign(1.0, node.value) < 0)


def _negative_literals(tree):
    """``Constant(-0.5)`` -> ``-(0.5)`` as an operator, so precedence is kept: ``ast.unparse`` prints a
    negative constant bare, and ``(-0.5) ** 2`` would come out as ``-0.5 ** 2`` (which is ``-(0.5 ** 2)``).
    In place (``tree`` is the fresh copy ``gast_to_ast`` made). Statements without a line number get line 1:
    ``ast.unparse`` looks theirs up for type comments (what ``ast.fix_missing_locations`` did, in this walk)."""
    def operator(c):
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-c.value))
    for n in walk(tree):
        if isinstance(n, ast.stmt) and getattr(n, "lineno", None) is None:
            n.lineno = 1
        for field in n._fields:
            v = getattr(n, field, None)
            if isinstance(v, list):
                for k, item in enumerate(v):
                    if _negative(item):
                        v[k] = operator(item)
            elif _negative(v):
                setattr(n, field, operator(v))


_Unparser = None
if sys.version_info < (3, 11):
    class _Unparser(ast._Unparser):
        """Python 3.11's spelling on 3.10 (``a, b = t``, not ``(a, b) = t``): generated code is the
        same text on every supported Python."""

        def visit_Assign(self, node):
            for target in node.targets:
                self.set_precedence(ast._Precedence.TUPLE, target)
            super().visit_Assign(node)

        def _for_helper(self, fill, node):
            self.set_precedence(ast._Precedence.TUPLE, node.target)
            super()._for_helper(fill, node)

        def visit_Tuple(self, node):
            with self.delimit_if("(", ")", len(node.elts) == 0 or self.get_precedence(node) > ast._Precedence.TUPLE):
                self.items_view(self.traverse, node.elts)


def params(fn):
    """The names of a function definition's parameters: positional, ``*args``, keyword-only, ``**kwargs``."""
    args = fn.args
    return [a.id for a in args.posonlyargs + args.args + [args.vararg] + args.kwonlyargs + [args.kwarg]
            if a is not None]


def may_not_copy(call):
    """Whether the call ``call`` passes ``copy=`` other than ``True`` (``np.array(y, copy=None)``, ``copy=False``:
    NumPy 2 returns ``y`` itself where it can)."""
    return any(k.arg == "copy" and not (isinstance(k.value, gast.Constant) and k.value.value is True)
               for k in call.keywords)
