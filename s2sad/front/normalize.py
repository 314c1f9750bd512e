"""Lower a function to one operation per statement.

After this pass every statement is one of::

    name = <simple>                      # one operation on atoms
    name1, name2 = <simple>              # unpacking the result of one operation
    name[<index>] = atom                 # a store (refused later if it is on the differentiated path)
    if atom: ... else: ...
    <call>                               # an expression statement kept for its side effect
    assert atom, atom / raise ...
    return atom

An *atom* is a Name, a Constant, a reference to a module attribute (``np.pi``),
or a tuple/list literal of atoms. A *simple* expression applies one operation
to atoms: ``a + b``, ``-a``, ``a < b``, ``f(a, k=b)``, ``a.sum(axis=0)``,
``a[1:, i]``, ``a.T``, ``(a, b)``. Conditional expressions and ``and``/``or``
become ``if`` statements; ``x += y`` becomes ``x = x + y``.

>>> from s2sad.front.source import from_text
>>> from s2sad.nodes import Namer
>>> print(show(run(from_text('''
... def f(x, y):
...     z = -np.mean(y * np.log(x) + 1) if y > 0 else x.T @ x
...     return z
... '''), Namer(["f", "x", "y", "z", "np"]))))
def f(x, y):
    _t1 = y > 0
    if _t1:
        _t2 = np.log(x)
        _t3 = y * _t2
        _t4 = _t3 + 1
        _t5 = np.mean(_t4)
        z = -_t5
    else:
        _t6 = x.T
        z = _t6 @ x
    return z
"""
import gast

from .. import nodes as N
from ..errors import UnsupportedSyntaxError
from .resolve import assigned_names

__all__ = ["run", "show"]


def run(source, namer):
    """Return a new FunctionDef whose body is in one-operation-per-statement form."""
    fn = source.tree
    lowered = _Lowering(source, namer)
    body = lowered.block(fn.body)
    new = gast.FunctionDef(name=fn.name, args=fn.args, body=body, decorator_list=[],
                           returns=None, type_comment=None, type_params=[])
    return N.located(new, fn)


_VIEWS = {"T", "reshape", "ravel", "transpose", "view", "squeeze", "swapaxes", "real"}


def _view_source(value):
    """The variable an assigned value may share memory with (``x``, ``x[i]``, ``x.T``, ``x.reshape(..)``)."""
    if isinstance(value, gast.Name):
        return value.id
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):
        return value.value.id
    func = value.func if isinstance(value, gast.Call) else value
    if isinstance(func, gast.Attribute) and func.attr in _VIEWS and isinstance(func.value, gast.Name):
        return func.value.id
    return None


def show(fn_tree):
    """The source text of a gast function (for doctests and golden tests)."""
    return N.unparse(fn_tree)


class _Lowering:
    def __init__(self, source, namer):
        self.source = source
        self.namer = namer
        self.locals = assigned_names(source.tree)
        self.result = None       # the name returned values are assigned to
        self.shares = {}         # name -> the variable whose memory it may share (plain copies and views)
        self.out = None          # the statement list being filled
        self.stmt_ = None        # the user statement being lowered (for locations and errors)

    # --- statements ---------------------------------------------------------------
    def block(self, stmts):
        saved, self.out = self.out, []
        for s in stmts:
            self.statement(s)
        out, self.out = self.out, saved
        return out

    def emit(self, node):
        self.out.append(N.located(node, self.stmt_))

    def statement(self, s):
        outer, self.stmt_ = self.stmt_, s
        try:
            method = getattr(self, "stmt_" + type(s).__name__, None)
            if method is None:
                raise self.source.error(UnsupportedSyntaxError,
                                        f"`{type(s).__name__}` statements are not supported", s)
            method(s)
        finally:
            self.stmt_ = outer

    def stmt_FunctionDef(self, s):
        """A function defined here is kept as written; its derivative is generated where it is called."""
        reads = N.free_loads(s)
        counts = {}
        for n in gast.walk(self.source.tree):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                counts[n.id] = counts.get(n.id, 0) + 1
        for name in sorted(reads):
            if counts.get(name, 0) > 1:
                raise self.source.error(UnsupportedSyntaxError, f"the function `{s.name}` reads `{name}`, which is "
                                        f"assigned more than once in the enclosing function", s,
                                        hint=f"pass `{name}` to `{s.name}` as an argument")
        self.emit(N.clone(s))

    def stmt_Assign(self, s):
        targets = s.targets
        for t in targets:                      # y = x, y = x[i], y = x.T, y = x.reshape(...): y may share x's memory
            if isinstance(t, gast.Name):
                self.shares.pop(t.id, None)
                source = _view_source(s.value)
                if source is not None:
                    self.shares[t.id] = source
        if isinstance(s.value, gast.Lambda) and len(targets) == 1 and isinstance(targets[0], gast.Name):
            lam = s.value                                    # f = lambda x: e  ->  def f(x): return e
            ret = N.located(gast.Return(value=lam.body), s)
            self.stmt_FunctionDef(N.located(gast.FunctionDef(
                name=targets[0].id, args=lam.args, body=[ret], decorator_list=[], returns=None,
                type_comment=None, type_params=[]), s))
            return
        if len(targets) > 1:                                   # a = b = expr
            first = self.assign_to(targets[0], s.value)
            for t in targets[1:]:
                self.assign_atom(t, first)
            return
        self.assign_to(targets[0], s.value)

    def check_shared(self, name, s):
        """``y op= e`` updates an array in place: note it where ``y`` shares memory with a
        variable that is read afterwards (s2sad lowers it to ``y = y op e``)."""
        other = self.shares.get(name)
        if other is None:
            return
        later = [n for n in gast.walk(self.source.tree) if isinstance(n, gast.Name) and n.id == other
                 and isinstance(n.ctx, gast.Load) and (n.lineno, n.col_offset) > (s.lineno, s.col_offset)]
        if later:                                  # refused later unless `other` is known to be a number
            op = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/"}.get(type(s.op), "op")
            self.source.shared_updates.append((s, name, other, op))

    def stmt_AnnAssign(self, s):
        if s.value is not None:
            self.assign_to(s.target, s.value)

    def stmt_AugAssign(self, s):
        target = s.target
        if isinstance(target, gast.Name):
            self.check_shared(target.id, s)
            self.assign_to(target, gast.BinOp(left=N.name(target.id), op=s.op, right=s.value))
            return
        if isinstance(target, gast.Subscript):
            obj, index = self.atom(target.value), self.index(target.slice)
            old = self.temp(gast.Subscript(value=obj, slice=index, ctx=gast.Load()))
            new = self.temp(gast.BinOp(left=old, op=s.op, right=self.atom(s.value)))
            self.emit(N.assign(gast.Subscript(value=N.clone(obj), slice=N.clone(index), ctx=gast.Store()), new))
            return
        raise self.source.error(UnsupportedSyntaxError, "augmented assignment to this target is not supported", s,
                                hint="build a new value instead of mutating an object")

    def stmt_Expr(self, s):
        value = s.value
        if isinstance(value, gast.Constant):                   # docstring or bare literal
            return
        if isinstance(value, gast.Call):
            self.emit(gast.Expr(value=self.simple(value)))
        else:
            self.atom(value)                                   # evaluated for its errors only

    def stmt_Pass(self, s):
        pass

    def stmt_Return(self, s):
        several = sum(isinstance(n, gast.Return) for n in gast.walk(self.source.tree)) > 1
        if isinstance(s.value, gast.Name) and not several:
            self.emit(N.ret(N.clone(s.value)))
            return
        if self.result is None:                      # every return of an expression shares one name
            self.result = self.namer.fresh("ans")
        self.assign_to(N.store(self.result), s.value)
        self.emit(N.ret(N.name(self.result)))

    def stmt_If(self, s):
        test = self.atom(s.test)
        self.emit(N.if_(test, self.block(s.body) or [gast.Pass()], self.block(s.orelse)))

    def stmt_For(self, s):
        iterable = self.simple(s.iter) if isinstance(s.iter, gast.Call) else self.atom(s.iter)
        target, prefix = self.loop_target(s.target)
        body = prefix + self.block(s.body)
        self.emit(gast.For(target=target, iter=iterable, body=body or [gast.Pass()],
                           orelse=self.block(s.orelse), type_comment=None))

    def loop_target(self, target):
        """A Name or a flat tuple of Names, and the statements that unpack deeper targets."""
        if isinstance(target, gast.Name):
            return N.store(target.id), []
        if isinstance(target, (gast.Tuple, gast.List)) and all(isinstance(t, gast.Name) for t in target.elts):
            return N.tup([N.store(t.id) for t in target.elts], gast.Store()), []
        tmp = self.namer.temp()
        unpack = gast.Assign(targets=[target], value=N.name(tmp), type_comment=None)
        return N.store(tmp), self.block([N.located(unpack, self.stmt_)])

    def stmt_While(self, s):
        """``while c: B else: E`` -> ``while True: <c>; if c: B else: E; break``."""
        saved, self.out = self.out, []
        test = self.atom(s.test)
        condition, self.out = self.out, saved
        body = self.block(s.body)
        if N.is_const(test) and test.value is True and not condition and not s.orelse:
            self.emit(gast.While(test=N.const(True), body=body or [gast.Pass()], orelse=[]))
            return
        stop = self.block(s.orelse) + [gast.Break()]
        loop_body = condition + [N.if_(test, body or [gast.Pass()], stop, like=s)]
        self.emit(gast.While(test=N.const(True), body=loop_body, orelse=[]))

    def stmt_Break(self, s):
        self.emit(gast.Break())

    def stmt_Continue(self, s):
        self.emit(gast.Continue())

    def stmt_Assert(self, s):
        test = self.atom(s.test)
        msg = self.atom(s.msg) if s.msg is not None else None
        self.emit(gast.Assert(test=test, msg=msg))

    def stmt_Raise(self, s):
        self.emit(N.clone(s))

    # --- assignment -----------------------------------------------------------------
    def assign_to(self, target, value):
        """Lower ``target = value``; returns an atom holding the assigned value."""
        if isinstance(target, gast.Name):
            if isinstance(value, gast.IfExp):
                self.ifexp(value, target.id)
            elif isinstance(value, gast.BoolOp):
                self.boolop(value, target.id)
            else:
                self.emit(N.assign(N.store(target.id), self.simple(value)))
            return N.name(target.id)
        if isinstance(target, (gast.Tuple, gast.List)):
            if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts) \
                    and not any(isinstance(e, gast.Starred) for e in value.elts):
                # a, b = b, a: evaluate every right-hand side before binding any target
                atoms = [self.atom(e) for e in value.elts]
                bound = {n.id for n in gast.walk(target) if isinstance(n, gast.Name)}
                atoms = [self.temp(a) if any(isinstance(n, gast.Name) and n.id in bound for n in gast.walk(a))
                         else a for a in atoms]
                for t, a in zip(target.elts, atoms):
                    self.assign_atom(t, a)
                return N.tup([N.clone(a) for a in atoms])
            whole = self.temp(value) if not all(isinstance(t, gast.Name) for t in target.elts) else None
            if whole is None:
                self.emit(N.assign(N.tup([N.store(t.id) for t in target.elts], gast.Store()), self.simple(value)))
                return N.tup([N.name(t.id) for t in target.elts])
            self.unpack(target, whole)
            return whole
        if isinstance(target, gast.Subscript):
            obj, index = self.atom(target.value), self.index(target.slice)
            self.emit(N.assign(gast.Subscript(value=obj, slice=index, ctx=gast.Store()), self.atom(value)))
            return None
        if isinstance(target, gast.Attribute):
            raise self.source.error(UnsupportedSyntaxError, "assigning to an attribute is not supported in differentiated code",
                                    self.stmt_, hint="build a new value instead of mutating an object")
        raise self.source.error(UnsupportedSyntaxError, "this assignment target is not supported", self.stmt_)

    def assign_atom(self, target, atom):
        if isinstance(target, gast.Name):
            self.emit(N.assign(N.store(target.id), N.clone(atom)))
        else:
            self.assign_to(target, atom)

    def unpack(self, target, whole):
        """(a, (b, c)) = whole  ->  a, _t = whole; b, c = _t"""
        elts = []
        nested = []
        for t in target.elts:
            if isinstance(t, gast.Name):
                elts.append(N.store(t.id))
            else:
                tmp = self.namer.temp()
                elts.append(N.store(tmp))
                nested.append((t, N.name(tmp)))
        self.emit(N.assign(N.tup(elts, gast.Store()), whole))
        for t, tmp in nested:
            self.assign_to(t, tmp)

    # --- expressions ------------------------------------------------------------------
    def temp(self, value):
        """Emit ``_tN = <simple(value)>`` and return the Name ``_tN``."""
        where = value
        value = self.simple(value)
        tmp = self.namer.temp()
        stmt = N.assign(N.store(tmp), value)
        if getattr(where, "lineno", None) and self.stmt_ is not None and where.lineno != self.stmt_.lineno:
            self.out.append(N.located(stmt, where))       # a sub-expression on a continuation line
        else:
            self.emit(stmt)
        return N.name(tmp)

    def atom(self, node):
        """An atom with the value of ``node``, emitting statements for its operations."""
        if isinstance(node, (gast.Name, gast.Constant)):
            return N.clone(node)
        if isinstance(node, gast.Attribute) and self._module_chain(node):
            return N.clone(node)
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)) \
                and isinstance(node.operand, gast.Constant) and isinstance(node.operand.value, (int, float, complex)):
            value = node.operand.value
            return N.const(-value if isinstance(node.op, gast.USub) else +value)
        if isinstance(node, (gast.Tuple, gast.List)):
            kind = type(node)
            return kind(elts=[self.atom(e) for e in node.elts], ctx=gast.Load())
        if isinstance(node, (gast.BoolOp, gast.IfExp)) or isinstance(node, gast.Compare) and len(node.ops) > 1:
            return self.simple(node)              # already lowered into a fresh name
        return self.temp(node)

    def _module_chain(self, node):
        """Whether ``node`` is ``name.attr...`` with a root that is not a local variable."""
        while isinstance(node, gast.Attribute):
            node = node.value
        return isinstance(node, gast.Name) and node.id not in self.locals

    def simple(self, node):
        """A simple expression (one operation on atoms) with the value of ``node``."""
        if isinstance(node, gast.BinOp):
            return gast.BinOp(left=self.atom(node.left), op=node.op, right=self.atom(node.right))
        if isinstance(node, gast.UnaryOp):
            if isinstance(node.operand, gast.Constant):
                folded = self.atom(node)
                if isinstance(folded, gast.Constant):
                    return folded
            return gast.UnaryOp(op=node.op, operand=self.atom(node.operand))
        if isinstance(node, gast.Compare):
            return self.compare(node)
        if isinstance(node, gast.BoolOp):
            return self.boolop(node)
        if isinstance(node, gast.IfExp):
            return self.ifexp(node)
        if isinstance(node, gast.Call):
            return self.call(node)
        if isinstance(node, gast.Subscript):
            return gast.Subscript(value=self.atom(node.value), slice=self.index(node.slice), ctx=gast.Load())
        if isinstance(node, gast.Attribute):
            if self._module_chain(node):
                return self.atom(node)
            return gast.Attribute(value=self.atom(node.value), attr=node.attr, ctx=gast.Load())
        if isinstance(node, (gast.Name, gast.Constant, gast.Tuple, gast.List)):
            return self.atom(node)
        if isinstance(node, gast.JoinedStr):
            return N.clone(node)              # f-strings are never differentiated
        if isinstance(node, gast.Dict):
            if any(k is None for k in node.keys):
                raise self.source.error(UnsupportedSyntaxError, "`**` in a dict literal is not supported", self.stmt_,
                                        hint="write out the keys")
            return gast.Dict(keys=[self.atom(k) for k in node.keys], values=[self.atom(v) for v in node.values])
        if isinstance(node, gast.ListComp):
            return self.listcomp(node)
        raise self.source.error(UnsupportedSyntaxError, f"`{type(node).__name__}` expressions are not supported",
                                self.stmt_)

    def listcomp(self, node):
        """``[f(x) for x in xs if c]`` -> ``_t = []; for x in xs: if c: _t.append(f(x))``.

        The loop variables get fresh names: a comprehension has its own scope.
        """
        result = self.namer.temp()
        self.emit(N.assign(result, gast.List(elts=[], ctx=gast.Load())))
        renames = {}
        for gen in node.generators:
            for n in gast.walk(gen.target):
                if isinstance(n, gast.Name):
                    renames[n.id] = self.namer.fresh(f"_{n.id}")
        node = N.clone(node)
        for sub in [node.elt] + [x for gen in node.generators for x in [gen.target, *gen.ifs]] + \
                [gen.iter for gen in node.generators[1:]]:
            for n in gast.walk(sub):
                if isinstance(n, gast.Name) and n.id in renames:
                    n.id = renames[n.id]
        self.locals = self.locals | set(renames.values())
        append = gast.Expr(value=gast.Call(func=N.attr(result, "append"), args=[node.elt], keywords=[]))
        inner = [N.located(append, self.stmt_)]
        for gen in reversed(node.generators):
            for cond in reversed(gen.ifs):
                inner = [N.located(gast.If(test=cond, body=inner, orelse=[]), self.stmt_)]
            inner = [N.located(gast.For(target=gen.target, iter=gen.iter, body=inner, orelse=[], type_comment=None),
                               self.stmt_)]
        for stmt in inner:
            self.statement(stmt)
        return N.name(result)

    def index(self, node):
        """A subscript index with atoms in every position (slices, None, ..., tuples)."""
        if isinstance(node, gast.Slice):
            return gast.Slice(**{k: (self.atom(getattr(node, k)) if getattr(node, k) is not None else None)
                                 for k in ("lower", "upper", "step")})
        if isinstance(node, gast.Tuple):
            return N.tup([self.index(e) for e in node.elts])
        return self.atom(node)

    def call(self, node):
        func = node.func
        if isinstance(func, gast.Attribute) and not self._module_chain(func):
            func = gast.Attribute(value=self.atom(func.value), attr=func.attr, ctx=gast.Load())
        elif not isinstance(func, (gast.Name, gast.Attribute)):
            func = self.atom(func)
        else:
            func = N.clone(func)
        args = [self.atom(a) for a in node.args]
        keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value)) for k in node.keywords]
        return gast.Call(func=func, args=args, keywords=keywords)

    def compare(self, node):
        if len(node.ops) == 1:
            return gast.Compare(left=self.atom(node.left), ops=node.ops, comparators=[self.atom(node.comparators[0])])
        # a < b < c  ->  (a < b) and (b < c), with b evaluated once
        left = self.atom(node.left)
        parts = []
        for op, right in zip(node.ops, node.comparators):
            right = self.atom(right) if not parts else right
            parts.append((left, op, right))
            left = right
        first = gast.Compare(left=parts[0][0], ops=[parts[0][1]], comparators=[parts[0][2]])
        rest = [gast.Compare(left=l, ops=[o], comparators=[r]) for l, o, r in parts[1:]]
        return self.boolop(gast.BoolOp(op=gast.And(), values=[first] + rest))

    def boolop(self, node, result=None):
        """``a and b`` -> ``_t = a; if _t: r = b else: r = _t`` (short-circuit kept)."""
        first = self.atom(node.values[0])
        result = result or self.namer.temp()
        rest = node.values[1:]
        rest_value = rest[0] if len(rest) == 1 else gast.BoolOp(op=node.op, values=rest)
        evaluate_rest = self.block_assign(result, rest_value)
        keep_first = [N.located(N.assign(result, N.clone(first)), self.stmt_)]
        if isinstance(node.op, gast.And):
            self.emit(N.if_(first, evaluate_rest, keep_first))
        else:
            self.emit(N.if_(first, keep_first, evaluate_rest))
        return N.name(result)

    def ifexp(self, node, result=None):
        test = self.atom(node.test)
        result = result or self.namer.temp()
        self.emit(N.if_(test, self.block_assign(result, node.body), self.block_assign(result, node.orelse)))
        return N.name(result)

    def block_assign(self, target, value):
        saved, self.out = self.out, []
        self.emit(N.assign(N.store(target), self.simple(value)))
        out, self.out = self.out, saved
        return out
