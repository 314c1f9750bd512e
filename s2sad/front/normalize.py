"""Lower a function to one operation per statement.

After this pass every statement is one of::

    name = <simple>                      # one operation on atoms, never reading ``name`` itself
    name1, name2 = <simple>              # unpacking the result of one operation (reading neither name)
    name[<index>] = atom                 # an item store
    if name: ... else: ...               # the test is a name no statement of the branches assigns
    for name in name: ...                # a loop over a range object (see "Loops" below)
    while True: ...                      # ``while c: B`` becomes ``while True: <c>; if c: B else: break``
    <call>                               # an expression statement kept for its side effect
    def name(...): ...                   # a function defined here (lowered when it is differentiated)
    assert atom, atom / raise ...
    return atom

An *atom* is a Name, a Constant, a reference to a module attribute (``np.pi``), or a
tuple/list literal of atoms. A *simple* expression applies one operation to atoms:
``a + b``, ``-a``, ``a < b``, ``f(a, k=b)``, ``a.sum(axis=0)``, ``a[1:, i]``, ``a.T``,
``(a, b)``. Conditional expressions and ``and``/``or`` become ``if`` statements; ``x += y``
becomes ``x = x + y``.

A statement never reads the name it assigns: ``a = a * c`` becomes ``_t = a * c; a = _t``.
So a rule's arguments still hold their values when the statement's result is assigned, in
both the forward sweep (tangents are computed after the primal) and the backward sweep.

Loops. Every ``for`` runs over a ``range`` object bound to a name just before it; the element
is read by index, so the backward sweep can send each element's adjoint to its place::

    for x in xs: B          ->   _r = range(len(xs)); for _k in _r: x = xs[_k]; B
    for i in range(n): B    ->   _r = range(n); for i in _r: B
    for i, x in enumerate(xs), zip(a, b), reversed(xs), d.items(): likewise by index

A sequence that is not a plain name the loop leaves alone is bound to a fresh name first;
one that may not be indexable (a generator, a dict, a call's result) goes through
``_s2.sequence`` (a list of its items, or the sequence itself).

>>> import numpy as np
>>> from s2sad.unit import unit_for_text
>>> unit = unit_for_text('''
... def f(x, y):
...     z = -np.mean(y * np.log(x) + 1) if y > 0 else x.T @ x
...     for v in x:
...         z = z * v
...     return z
... ''', {"np": np})
>>> print(show(run(unit.source.tree, unit)))
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
    _t7 = _s2.sequence(x)
    _t8 = len(_t7)
    v_range = range(_t8)
    for _k in v_range:
        v = _t7[_k]
        _t9 = z * v
        z = _t9
    return z
"""
import builtins
import collections
import inspect
import types

import gast
import numpy as np

from .. import markers, nested, nodes as N
from .. import runtime
from .. import calls
from ..calls import index_value
from ..errors import UnsupportedSyntaxError
from ..tree import ARRAY_ATTRIBUTES
from ..views import NUMPY_VIEW_NAMES
from . import generators
from .resolve import MISSING, assigned_names

__all__ = ["run", "show"]


def run(tree, unit):
    """Return a new FunctionDef whose body is in one-operation-per-statement form.

    Reads ``unit.source`` (error locations), ``unit.scope`` (``range``, ``zip``, ... as the user's
    function sees them), ``unit.namer`` and ``unit.aliases`` (the lowered loops call ``len`` and
    ``range`` through names the generated code binds itself).
    """
    if any(isinstance(n, (gast.Set, gast.SetComp)) for n in N.walk(tree)):
        tree = _SetsAsCalls(unit).visit(N.clone(tree))
    lowered = _Lowering(tree, unit)
    body = lowered.block(tree.body)
    new = gast.FunctionDef(name=tree.name, args=N.clone(tree.args), body=body, decorator_list=[],
                           returns=None, type_comment=None, type_params=[])
    return N.located(new, tree)


class _SetsAsCalls(gast.NodeTransformer):
    """``{a, b}`` -> ``set([a, b])`` and ``{e for ...}`` -> ``set([e for ...])``: the builtin ``set`` has no
    derivative rule, so a set of constants is a constant and a set of differentiated values is refused
    (a set has no order for a derivative to follow)."""

    def __init__(self, unit):
        self.unit = unit

    def _call(self, node, items):
        func = self.unit.aliases.ref(set, "set")
        return N.located(gast.Call(func=func, args=[items], keywords=[]), node)

    def visit_Set(self, node):
        self.generic_visit(node)
        return self._call(node, N.located(gast.List(elts=node.elts, ctx=gast.Load()), node))

    def visit_SetComp(self, node):
        self.generic_visit(node)
        return self._call(node, N.located(gast.ListComp(elt=node.elt, generators=node.generators), node))


_VIEWS = {"T", "reshape", "ravel", "transpose", "view", "squeeze", "swapaxes", "real", "flat", "diagonal"}
_FRESH_HELPERS = (runtime.owned, runtime.owned_tangent, runtime.zeros_like, runtime.copy_like, runtime.item_of,
                  runtime.written_grad)          # s2sad's helpers returning a new array (generated code differentiated)
_VIEW_FUNCTIONS = NUMPY_VIEW_NAMES | {"stop_gradient"}
# NumPy and SciPy functions giving a tuple or a list of results (``U, s, Vt = np.linalg.svd(A)``): their rules
# take the results' adjoints one by one; every other one gives one array (normalize's ``one_array``)
_SEVERAL_RESULTS = frozenset({
    "svd", "eig", "eigh", "qr", "slogdet", "lstsq", "lu", "lu_factor", "cho_factor", "schur", "qz", "polar", "rq",
    "hessenberg", "ldl", "split", "array_split", "hsplit", "vsplit", "dsplit", "unstack", "meshgrid",
    "broadcast_arrays", "gradient", "histogram", "histogram2d", "histogramdd", "unique", "unique_all",
    "unique_counts", "unique_inverse", "nonzero", "where", "indices", "unravel_index", "triu_indices",
    "tril_indices", "diag_indices", "ix_", "atleast_1d", "atleast_2d", "atleast_3d", "divmod", "frexp", "modf",
    "polyfit", "quad", "dblquad", "tplquad", "nquad", "fixed_quad", "quadrature", "romberg", "odeint",
    "solve_ivp", "minimize", "root", "fsolve", "curve_fit", "kstest", "ttest_ind", "pearsonr", "spearmanr",
    "linregress", "eig_banded", "eigh_tridiagonal", "svds", "eigs", "eigsh", "mode", "describe",
    "find_peaks", "butter", "cheby1", "ellip", "freqz", "welch", "periodogram", "stft", "istft"})
_ARRAY_METHODS = ARRAY_ATTRIBUTES - {"nonzero", "tolist", "item"}


def _resizes(loop, name):
    """Whether the body of ``loop`` (a ``for`` over the dict ``name``'s keys or items) may add or remove keys: it
    rebinds ``name``, writes an item of it at a key other than the loop's own (``d[k] = v`` keeps the size), calls
    one of its methods, or deletes from it."""
    target = loop.target
    if isinstance(loop.iter, gast.Call) and isinstance(loop.iter.func, gast.Name) and loop.iter.func.id == "enumerate" \
            and isinstance(target, gast.Tuple) and len(target.elts) == 2:
        target = target.elts[1]                        # for i, (k, v) in enumerate(d.items())
    target = target.elts[0] if isinstance(target, gast.Tuple) and target.elts else target
    key = target.id if isinstance(target, gast.Name) else None
    for node in N.walk(gast.Module(body=list(loop.body) + list(loop.orelse), type_ignores=[])):
        if isinstance(node, gast.Name) and node.id == name and not isinstance(node.ctx, gast.Load):
            return True
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) and node.value.id == name \
                and not isinstance(node.ctx, gast.Load) and not (isinstance(node.slice, gast.Name)
                                                                and node.slice.id == key):
            return True
        if isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name) and node.value.id == name \
                and node.attr not in ("get", "keys", "values", "items", "copy"):
            return True
        if isinstance(node, gast.Name) and node.id == key and not isinstance(node.ctx, gast.Load):
            return True                                # (the key rebound: `d[k] = v` may then add one)
    return False


def _jumps_out(stmts):
    """Whether ``stmts`` hold a ``break`` or ``continue`` of the loop around them (not one of a loop inside)."""
    for st in stmts:
        if isinstance(st, (gast.Break, gast.Continue)):
            return True
        if isinstance(st, (gast.If, gast.With, gast.Try)) and _jumps_out(
                list(getattr(st, "body", [])) + list(getattr(st, "orelse", [])) + list(getattr(st, "finalbody", []))
                + [h for handler in getattr(st, "handlers", []) for h in handler.body]):
            return True
        if isinstance(st, (gast.For, gast.While)) and _jumps_out(st.orelse):
            return True
    return False


def _op_text(op):
    """How an augmented assignment's operator reads in a message (``+`` of ``y += e``)."""
    return {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/"}.get(type(op), "op")


def _view_sources(value, scope, local_names):
    """The variables an assigned value may share memory with: ``x``, ``x[i]``, ``x.T``, ``x.reshape(..)``,
    ``np.asarray(x)``, a tuple of them, either of ``a if c else b`` or ``a or b``, or any argument of a call of
    a function that is not NumPy's (a user function may return its argument)."""
    if isinstance(value, gast.Name):
        return {value.id}
    if isinstance(value, gast.IfExp):
        return _view_sources(value.body, scope, local_names) | _view_sources(value.orelse, scope, local_names)
    if isinstance(value, gast.BoolOp):
        return set().union(*[_view_sources(v, scope, local_names) for v in value.values])
    if isinstance(value, (gast.Tuple, gast.List)):
        return set().union(*[_view_sources(e, scope, local_names) for e in value.elts]) if value.elts else set()
    if isinstance(value, gast.Subscript):
        return _view_sources(value.value, scope, local_names)
    func = value.func if isinstance(value, gast.Call) else value
    if isinstance(func, gast.Attribute) and func.attr in _VIEWS and isinstance(func.value, gast.Name) \
            and func.value.id in local_names:
        return {func.value.id}
    if isinstance(value, gast.Call) and isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
            and func.value.id in local_names and N.may_not_copy(value):
        return {func.value.id}                            # a.astype(float, copy=False): a itself
    if isinstance(value, gast.Call):
        obj = scope.resolve(value.func)
        module = (getattr(obj, "__module__", None) or "")
        name = getattr(obj, "__name__", "")
        args = [n.id for a in list(value.args) + [k.value for k in value.keywords] for n in N.walk(a)
                if isinstance(n, gast.Name) and n.id in local_names]
        if isinstance(obj, type(abs)) and module == "math" or isinstance(obj, __import__("numpy").ufunc):
            return set()
        if module.split(".")[0] == "numpy" and name not in _VIEW_FUNCTIONS and not N.may_not_copy(value):
            return set()                                  # NumPy returns a new array (unless told it need not)
        if obj in (len, float, int, abs, sum, round, range, bool, str) or obj in _FRESH_HELPERS:
            return set()
        return set(args)
    return set()


def show(fn_tree):
    """The source text of a gast function (for doctests and golden tests)."""
    return N.unparse(fn_tree)


_NEW_ARRAYS = {np.array, np.zeros, np.ones, np.full, np.linspace, np.arange, np.concatenate, np.stack, np.hstack,
               np.vstack, np.outer, np.where, np.cumsum, np.cumprod, np.diff, np.sort, np.tile, np.repeat}


def _may_walk(it, resolve):
    """The names whose objects a ``for`` loop over ``it`` may read as it goes: those of the object itself, of the
    objects a view (``x[::-1]``, ``x.T``) or a lazy iterator (``reversed(x)``, ``zip(x, y)``, a generator) reads;
    not of operands of an operator, of a list comprehension, of a ufunc or of a NumPy function that makes a new
    array (``np.array([a, x[0]])``), which make a new object first. Other calls: every name in them."""
    if isinstance(it, gast.Name):
        return [it.id]
    if isinstance(it, (gast.Subscript, gast.Attribute)):
        return _may_walk(it.value, resolve)
    if isinstance(it, gast.Call) and not any(k.arg == "copy" for k in it.keywords):
        func = resolve(it.func)
        try:
            if isinstance(func, np.ufunc) or func in _NEW_ARRAYS:
                return []
        except TypeError:                         # an unhashable callable
            pass
    if isinstance(it, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant, gast.ListComp, gast.SetComp,
                       gast.DictComp)):
        return []
    if isinstance(it, (gast.List, gast.Tuple)):             # holds its items: each may be the changed object
        return [n for e in it.elts for n in _may_walk(e.value if isinstance(e, gast.Starred) else e, resolve)]
    if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id in ("reversed", "enumerate", "zip",
                                                                                         "iter"):
        return [n for a in it.args for n in _may_walk(a.value if isinstance(a, gast.Starred) else a, resolve)]
    return [n.id for n in N.walk(it) if isinstance(n, gast.Name)]


def _walked_and_updated(loop):
    """The names a ``for`` loop walks directly (``x``, ``reversed(x)``, ``enumerate(x)``, ``zip(x, y)``) that its
    body changes with ``x op= e`` (and that are not the loop's own variable)."""
    it = loop.iter
    walked = [it] if isinstance(it, gast.Name) else \
        [a for a in it.args if isinstance(a, gast.Name)] if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) \
        and it.func.id in ("reversed", "enumerate", "zip") and not it.keywords else []
    if any(isinstance(n, (gast.Global, gast.Nonlocal)) for st in loop.body for n in N.walk(st)):
        return set()
    updated = _augmented(loop.body)
    return {n.id for n in walked} & updated - {n.id for n in N.walk(loop.target) if isinstance(n, gast.Name)}


def _exits_early(stmts):
    """Whether ``stmts`` (a loop's body) hold a ``break`` of that loop or a ``return`` (not in a function defined
    there)."""
    todo = list(stmts)
    while todo:
        node = todo.pop()
        if isinstance(node, (gast.Break, gast.Return)):
            return True
        if isinstance(node, (gast.FunctionDef, gast.Lambda)):
            continue
        if isinstance(node, (gast.For, gast.While)):          # (a break there ends that loop; a return, this one)
            todo.extend(n for n in N.walk(gast.Module(body=node.body + node.orelse, type_ignores=[]))
                        if isinstance(n, gast.Return))
            continue
        todo.extend(gast.iter_child_nodes(node))
    return False


def _augmented(stmts):
    """The names ``name op= e`` (``+ - * /``) changes in ``stmts`` (not in functions defined there: their names
    are their own, and they read the enclosing names when called, as lifted arguments)."""
    updated, todo = set(), list(stmts)
    while todo:
        node = todo.pop()
        if isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name) and \
                isinstance(node.op, (gast.Add, gast.Sub, gast.Mult, gast.Div)):
            updated.add(node.target.id)
        if not isinstance(node, (gast.FunctionDef, gast.Lambda)):
            todo.extend(gast.iter_child_nodes(node))
    return updated


def _item_append(call):
    """Whether ``call`` is ``c[k].append(v)`` (``c`` a name)."""
    func = call.func
    return isinstance(func, gast.Attribute) and func.attr == "append" and isinstance(func.value, gast.Subscript) \
        and isinstance(func.value.value, gast.Name) and len(call.args) == 1 and not call.keywords \
        and not isinstance(call.args[0], gast.Starred)


def same_object(name, seq):
    """``name is seq``: whether ``name`` still holds the object a loop walks (its sequence ``seq``), so that
    ``name op= e`` changes what the loop reads next."""
    return gast.Compare(left=N.name(name), ops=[gast.Is()], comparators=[N.name(seq)])


def _stores(stmts):
    return {n.id for s in stmts for n in N.walk(s) if isinstance(n, gast.Name)
            and isinstance(n.ctx, (gast.Store, gast.Del))}


class _Lowering:
    def __init__(self, tree, unit):
        self.tree = tree
        self.source = unit.source
        self.scope = unit.scope
        self.namer = unit.namer
        self.aliases = unit.aliases
        self.locals = assigned_names(tree)
        self.result = None       # the name returned values are assigned to
        self.shares = {}         # name -> the variables whose memory it may share (copies, views, call results)
        self.outer_held = {}     # name -> the module's or enclosing function's object it may hold (`r = RUNNING`)
        self.iterating = []      # the names the enclosing ``for`` loops iterate over
        self.tracking = set()    # names whose sequence the loop header being lowered keeps (see stmt_For)
        self.tracked = []        # (name, sequence name) noted by sequence() for the header being lowered
        self.walks = []          # (name, its sequence's name) for each enclosing loop walking a name it updates
        self.holders = []        # (root, holder, names) for the enclosing loops' other walks (walk_holders)
        self.out = None          # the statement list being filled
        self.loop_depth = 0
        self.nesting = 0         # inside how many ifs and loops the statement being lowered is
        self.rebound = set()     # parameters surely given a new value already (at the top level)
        self.stmt_ = None        # the user statement being lowered (for locations and errors)
        self.nested_functions = unit.lifted      # name -> front/lift.Lifted
        self.used_up = set()     # ids of generator-function calls whose iterator is used up at once

    def error(self, message, node, hint=None):
        return self.source.error(UnsupportedSyntaxError, message, node, hint=hint)

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
            self.refuse_namespaces(s)
            method = getattr(self, "stmt_" + type(s).__name__, None)
            if method is None:
                raise self.error(f"`{type(s).__name__}` statements are not supported", s)
            method(s)
        finally:
            self.stmt_ = outer

    def refuse_namespaces(self, s):
        """``globals()["BUF"]``, ``vars(mod)``, ``mod.__dict__``: a namespace read as a dict reaches the module's
        objects by a name s2sad does not see (its checks of what the code changes in place follow names)."""
        if isinstance(s, gast.FunctionDef):
            return
        for n in N.walk(s):
            if isinstance(n, gast.Attribute) and n.attr == "__dict__" or isinstance(n, gast.Call) and \
                    isinstance(n.func, gast.Name) and self.scope.resolve(n.func) in (builtins.globals, builtins.vars,
                                                                                    builtins.locals):
                what = "__dict__" if isinstance(n, gast.Attribute) else f"{n.func.id}()"
                raise self.error(f"`{what}` reads a namespace as a dict, which differentiated code does not "
                                 "support (s2sad follows the module's objects by their names)", s,
                                 hint="read the object by its name (`BUF`, `mod.BUF`)")

    def stmt_FunctionDef(self, s):
        """A function defined here is kept as written; it is lowered when it is differentiated."""
        self.emit(N.clone(s))

    def stmt_Assign(self, s):
        targets = s.targets
        if isinstance(s.value, gast.Call) and (write := self.written_back(s.value)) is not None:   # r = np.add.at(..)
            self.stmt_Assign(N.located(write, s))
            s = N.located(gast.Assign(targets=targets, value=N.const(None), type_comment=None), s)   # (it gives None)
        sources = _view_sources(s.value, self.scope, self.locals)  # y = x, x[i], x.T, np.asarray(x): y may be x
        pairs = list(zip(targets[0].elts, s.value.elts)) if len(targets) == 1 and isinstance(targets[0], gast.Tuple) \
            and isinstance(s.value, gast.Tuple) and len(targets[0].elts) == len(s.value.elts) else \
            [(t, s.value) for t in targets]
        outer = {t.id: self.outer_object(v) for t, v in pairs if isinstance(t, gast.Name)}   # r, s = BUF, 2.0
        for t in targets:
            for n in N.walk(t):
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                    if self.nesting:                       # in a branch or loop: what it may share adds up
                        self.shares[n.id] = self.shares.get(n.id, set()) | (set(sources) - {n.id})
                    else:
                        self.shares[n.id] = set(sources) - {n.id}
                    if outer.get(n.id) is not None:
                        self.outer_held[n.id] = outer[n.id]
                    elif not self.nesting:
                        self.outer_held.pop(n.id, None)
                    if not self.nesting and n.id not in sources:
                        self.rebound.add(n.id)
        if isinstance(s.value, gast.Lambda) and len(targets) == 1 and isinstance(targets[0], gast.Name):
            lam = s.value                                    # f = lambda x: e  ->  def f(x): return e
            ret = N.located(gast.Return(value=lam.body), s)
            self.stmt_FunctionDef(N.located(gast.FunctionDef(
                name=targets[0].id, args=lam.args, body=[ret], decorator_list=[], returns=None,
                type_comment=None, type_params=[]), s))
            return
        if len(targets) > 1:                                   # a = b = expr, v[0] = v[-1] = 0.0: left to right
            first = self.assign_to(targets[0], s.value) if isinstance(targets[0], gast.Name) else None
            if first is None:                                  # the value once, then each target from it
                first = self.atom(s.value)
                self.assign_atom(targets[0], first)
            for t in targets[1:]:
                self.assign_atom(t, first)
            return
        self.assign_to(targets[0], s.value)

    def outer_object(self, value):
        """The text of the object of the module or of an enclosing function (an array, list, dict or record:
        ``RUNNING``, ``K.buf``, a closure's buffer) whose memory ``value`` may be, or view (``BUF.reshape(..)``,
        ``BUF.T``, ``np.asarray(BUF)``), else None."""
        from ..analysis.module_state import _returned_object, module_object
        if isinstance(value, gast.Call):               # `r = K.get()`: a user function returning a module's array
            try:
                if _returned_object(value, self.scope) is not None:
                    return N.unparse(value)
            except Exception:                           # noqa: BLE001  (a callee s2sad cannot read)
                pass
        while True:                                    # (`BUF[0]` may be a number: analysis/effects.py checks
            if isinstance(value, gast.Attribute) and value.attr in _VIEWS:     # it where the code runs)
                value = value.value
            elif isinstance(value, gast.Call) and value.args and getattr(
                    self.scope.resolve(value.func), "__name__", None) in _VIEW_FUNCTIONS | {"asarray", "asanyarray"}:
                value = value.args[0]
            elif isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and value.func.attr in _VIEWS:
                value = value.func.value
            else:
                break
        if not isinstance(value, (gast.Name, gast.Attribute)) or isinstance(value, gast.Name) and value.id in self.locals:
            return None
        try:
            return N.unparse(value) if module_object(value, self.scope) is not None else None
        except Exception:                               # noqa: BLE001  (a name s2sad cannot look up)
            return None

    def check_shared(self, name, s):
        """``y op= e`` updates an array or a list in place, which s2sad lowers to ``y = y op e``: note it for
        analysis/effects.py, which checks whether another name may hold the object and read it afterwards
        (points-to classes on the lowered code), and whether a ``for`` loop around walks it. Refused where ``y``
        may hold an object of the module or an enclosing function (``r = RUNNING; r += x``): Python changes it,
        for the next call to see; the lowered code would not."""
        op = _op_text(s.op)
        params = set(N.params(self.tree)) - self.rebound
        reach, todo = {name}, [name]
        while todo:                                    # what the name may share memory with, transitively
            for other in self.shares.get(todo.pop(), ()):
                if other not in reach:
                    reach.add(other)
                    todo.append(other)
        outer = next((self.outer_held[n] for n in sorted(reach) if n in self.outer_held), None)
        if outer is not None:                          # (analysis/effects.py follows the other ways, points-to)
            from ..analysis.effects import outer_change_text
            message, hint = outer_change_text(name, op, outer)
            raise self.error(message, s, hint=hint)
        if reach & params:
            self.source.argument_updates.append((s, name, sorted(reach & params)))
        self.source.inplace_updates.append((s, name, op))     # checked again with the points-to analysis
        walks = [n for n, _ in self.walks]
        if name in walks and self.iterating.count(name) == walks.count(name):
            self.source.walked_updates.append((s, name, op))      # the walked sequence follows: stmt_AugAssign
        elif name in self.iterating:
            self.source.walked_views.append((s, name, op))
            holders = [(root, holder) for root, holder, names in self.holders if name in names]
            if len(holders) == sum(1 for n in self.iterating if n == name):     # every walk of it held
                self.source.walked_holders[id(s)] = holders

    def stmt_AnnAssign(self, s):
        if s.value is not None:
            self.assign_to(s.target, s.value)

    def stmt_AugAssign(self, s):
        target = s.target
        if isinstance(target, gast.Name):
            self.check_shared(target.id, s)
            # `for v in x: ... x op= e`: Python changes the walked object while x still holds it, which s2sad
            # computes as x = x op e: the loop's sequence becomes the new x then (x an array or a tuple, checked
            # by analysis/effects.py)
            seqs = [seq for n, seq in self.walks if n == target.id]
            if seqs:
                self.source.walked_sequences[id(s)] = seqs        # kept right here: no other holder of x
            held = [self.temp(same_object(target.id, seq)) for seq in seqs]
            self.assign_to(target, gast.BinOp(left=N.name(target.id), op=s.op, right=s.value))
            for seq, hit in zip(seqs, held):
                self.emit(N.if_(hit, [N.assign(N.store(seq), N.name(target.id))], [], like=s))
            return
        if isinstance(target, gast.Subscript):
            if not isinstance(target.value, gast.Name):
                self.source.nested_writes.append((s, _root(target)))
            self.item_update(s, target, s.op, s.value)
            return
        raise self.error("augmented assignment to this target is not supported", s,
                         hint="build a new value instead of mutating an object")

    def item_update(self, s, target, op, value, check=None):
        """``c[i] op= value`` (``target``: ``c[i]``) as ``item = c[i]; new = item op value; c[i] = new``
        (``check(item, c, refusal)`` first, if given: ``check`` is a pair (function, refusal))."""
        obj, index = self.atom(target.value), self.index(target.slice)
        item = self.temp(gast.Subscript(value=obj, slice=index, ctx=gast.Load()))
        if check is not None:
            fn, refusal = check
            self.emit(gast.Expr(value=gast.Call(func=self.aliases.ref(fn, fn.__name__),
                                                args=[N.clone(item), N.clone(obj), N.const(str(refusal))],
                                                keywords=[])))
        new = self.temp(gast.BinOp(left=item, op=op, right=self.atom(value)))
        if isinstance(obj, gast.Name):
            # `c[i] op= e` changes the object c[i] holds in place (an array in a list or dict; an array's item
            # or row is written back as well): noted as an update of `item` into `new`, so that
            # analysis/effects.py checks who else may hold that object (c itself aside: item_updates)
            update = N.located(gast.AugAssign(target=N.store(item.id), op=op, value=value), s)
            self.source.item_updates[id(update)] = (obj.id, N.unparse(target), new.id)
            self.source.inplace_updates.append((update, item.id, _op_text(op)))
        self.emit(N.assign(gast.Subscript(value=N.clone(obj), slice=N.clone(index), ctx=gast.Store()), new))

    def stmt_Expr(self, s):
        value = s.value
        if isinstance(value, gast.Constant):                   # docstring or bare literal
            return
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                and self.is_setdefault(value.func.value):
            value = gast.Call(func=gast.Attribute(value=self.setdefault(value.func.value), attr=value.func.attr,
                                                  ctx=gast.Load()), args=value.args, keywords=value.keywords)
        if isinstance(value, gast.Call) and _item_append(value):
            # `c[k].append(v)` changes the list that c[k] holds, which s2sad would see only through a name holding
            # it: computed as the update `c[k] += [v]` (the same for a list, which runtime.a_list checks), so that
            # what c holds is seen to change, with item updates' checks (analysis/effects.py)
            held = N.unparse(value.func.value)
            refusal = self.error(f"`{held}.append` is differentiated where `{held}` is a list in a list or dict",
                                 s, hint=f"build the list under a name of its own, then put it in")
            self.item_update(s, value.func.value, gast.Add(), gast.List(elts=[value.args[0]], ctx=gast.Load()),
                             check=(runtime.a_list, refusal))
        elif isinstance(value, gast.Call) and (write := self.written_back(value)) is not None:
            self.stmt_Assign(N.located(write, s))
        elif isinstance(value, gast.Call):
            self.emit(gast.Expr(value=self.simple(value)))
        else:
            self.atom(value)                                   # evaluated for its errors only

    def written_back(self, call):
        """``np.add.at(y, idx, v)`` (``np.subtract.at``), ``np.fill_diagonal(y, v)`` on a name ``y``: as the write
        ``y[...] = _s2.added_at(y, idx, v)`` (``_s2.diagonal_filled(y, v)``) of a changed copy, which s2sad follows
        as any write into ``y`` (who else holds ``y`` checked alike); else None."""
        if not call.args or not isinstance(call.args[0], gast.Name) or any(isinstance(a, gast.Starred)
                                                                           for a in call.args):
            return None
        func = self.scope.resolve(call.func)
        if getattr(func, "__name__", None) == "at" and getattr(func, "__self__", None) in (np.add, np.subtract) \
                and len(call.args) == 3 and not call.keywords:
            helper = gast.Call(func=self.aliases.ref(runtime.added_at, "added_at"), args=list(call.args),
                               keywords=[] if func.__self__ is np.add else [gast.keyword(arg="sign",
                                                                                         value=N.const(-1.0))])
        elif func is np.fill_diagonal and len(call.args) + len(call.keywords) in (2, 3):
            helper = gast.Call(func=self.aliases.ref(runtime.diagonal_filled, "diagonal_filled"),
                               args=list(call.args), keywords=list(call.keywords))
        else:
            return None
        target = gast.Subscript(value=N.name(call.args[0].id), slice=gast.Constant(value=Ellipsis, kind=None),
                                ctx=gast.Store())
        return gast.Assign(targets=[target], value=helper, type_comment=None)

    def stmt_Pass(self, s):
        pass

    def stmt_Return(self, s):
        if self.result is None:                      # every return of an expression shares one name
            several = sum(isinstance(n, gast.Return) for n in _own_nodes(self.tree)) > 1
            if isinstance(s.value, gast.Name) and not several:
                self.emit(N.ret(N.clone(s.value)))
                return
            self.result = self.namer.fresh("ans")
        self.assign_to(N.store(self.result), s.value)
        self.emit(N.ret(N.name(self.result)))

    def stmt_If(self, s):
        test = self.condition(s.test, s.body + s.orelse)
        self.nesting += 1
        body, orelse = self.block(s.body), self.block(s.orelse)
        self.nesting -= 1
        self.emit(N.if_(test, body or [gast.Pass()], orelse))

    def condition(self, test, branches):
        """The test of an ``if`` as a name no statement of its branches assigns (or a constant)."""
        atom = self.atom(test)
        if isinstance(atom, gast.Name) and atom.id in _stores(branches):
            atom = self.temp(atom)
        return atom

    # --- loops ------------------------------------------------------------------------
    def stmt_For(self, s):
        self.refuse_lazy_walk_changed(s)
        if _exits_early(s.body) and any(self.generator_call(n) for n in N.walk(s.iter)):
            raise self.error("a loop that may stop early (`break`, `return`) walks a generator function's items, which "
                             "s2sad takes all first (Python runs the generator only as far as the loop goes: the "
                             "items after may fail or be NaN)", s,
                             hint="walk a list of the items the loop needs, or compute them in the loop")
        body_stores = _stores(s.body)
        self.tracking, self.tracked = _walked_and_updated(s), []
        header, elements = self.loop_header(s, body_stores)
        tracked, self.tracking = self.tracked, set()
        target = s.target
        plain = isinstance(target, gast.Name) and target.id not in body_stores and elements is None
        if plain:
            index = target.id
        else:
            index = self.namer.fresh("_k")
        range_name = self.namer.fresh(f"{target.id if isinstance(target, gast.Name) else 'loop'}_range")
        self.emit(N.assign(range_name, header))
        saved, self.out = self.out, []
        if not plain:
            value = N.name(index) if elements is None else elements(N.name(index))
            self.assign_to(target, value)
        prefix, self.out = self.out, saved
        roots = [n for n in _may_walk(s.iter, self.scope.resolve) if n in self.locals]
        walked = roots + [m for n in roots for m in self.shares.get(n, ())]
        holders = self.walk_holders(s, roots, tracked)
        self.iterating.extend(walked)
        self.walks.extend(tracked)
        self.holders.extend(holders)
        self.loop_depth += 1
        self.nesting += 1
        body = prefix + self.block(s.body)
        self.nesting -= 1
        self.loop_depth -= 1
        del self.iterating[len(self.iterating) - len(walked):]
        del self.walks[len(self.walks) - len(tracked):]
        del self.holders[len(self.holders) - len(holders):]
        self.emit(gast.For(target=N.store(index), iter=N.name(range_name), body=body or [gast.Pass()],
                           orelse=self.block(s.orelse), type_comment=None))

    def refuse_lazy_walk_changed(self, s):
        """``for v in map(f, L): L[1] = ...`` (or ``filter``, ``iter``, a generator expression, a generator
        function's iterator, and ``zip``, ``enumerate``, ``reversed`` or a dict's view inside another:
        ``enumerate(zip(L, M))``): Python's iterator reads ``L`` (and what ``f`` or the generator reads) as the loop
        goes, after the body's changes; s2sad takes the items first (``_s2.sequence``). Sound either way only when
        the body changes none of what it reads: in place, through any name that may share its memory (``M = L``,
        ``tail = a[1:]``, ``rows = [a, b]``), or by rebinding a name it reads when it runs (a lambda's or a
        generator's free name; a name read when the iterator is made, ``map(f, L)``'s ``f`` and ``L``, is read
        once). (``zip(L, M)`` itself, ``enumerate(L)``, ``d.items()`` are walked by index, reading ``L[k]`` as the
        loop goes, as Python does; ``list(map(f, L))`` takes the items first in Python too.)"""
        it = s.iter
        lazy, now, later = [], set(), set()

        def visit(n, top, deferred, at_once=False):
            if isinstance(n, gast.Call) and self.scope.resolve(n.func) in _TAKEN_AT_ONCE:
                at_once = True                   # list(...), sorted(...): the items taken at once, by Python too
            if self._lazy(n, top) and not at_once:   # (but read as the loop goes by a map over them: counted)
                lazy.append(n)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                (later if deferred else now).add(n.id)
            if isinstance(n, gast.Lambda):
                bound = {a.id for a in n.args.args + n.args.kwonlyargs}
                for d in n.args.defaults + n.args.kw_defaults:
                    if d is not None:
                        visit(d, False, deferred, at_once)
                later.update({m.id for m in N.walk(n.body) if isinstance(m, gast.Name)} - bound)
                return
            if isinstance(n, (gast.GeneratorExp, gast.ListComp, gast.SetComp, gast.DictComp)):
                visit(n.generators[0].iter, False, deferred, at_once)    # (read when the expression is made)
                bound = {m.id for g in n.generators for m in N.walk(g.target) if isinstance(m, gast.Name)}
                rest = [n.elt] if hasattr(n, "elt") else [n.key, n.value]
                rest += [c for g in n.generators for c in g.ifs] + [g.iter for g in n.generators[1:]]
                later.update({m.id for r in rest for m in N.walk(r) if isinstance(m, gast.Name)} - bound)
                return
            if isinstance(n, gast.Call) and self.generator_call(n) and isinstance(n.func, gast.Name) \
                    and n.func.id in self.nested_functions:        # (its closure's names, lifted: read as it runs)
                later.update(m.id for a in n.args for m in N.walk(a) if isinstance(m, gast.Name))
            for child in gast.iter_child_nodes(n):
                visit(child, False, deferred, at_once)
        visit(it, True, False)
        if not lazy:
            return
        from ..analysis.effects import IN_PLACE_METHODS
        in_place, rebound = set(), _stores(s.body)
        for n in N.walk(gast.Module(body=s.body, type_ignores=[])):
            if isinstance(n, (gast.Subscript, gast.Attribute)) and isinstance(n.ctx, gast.Store):
                in_place.add(_root(n))
            elif isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and n.func.attr in IN_PLACE_METHODS:
                in_place.add(_root(n.func.value))
            elif isinstance(n, gast.AugAssign):
                in_place.add(_root(n.target))
            if isinstance(n, gast.Call):
                in_place.update(_root(a) for a in self.written_arguments(n))
        sharing = self.sharing_classes()
        reached = {m for name in (now | later) & self.locals for m in sharing.get(name, {name})}
        both = sorted((in_place & reached) | (rebound & later & self.locals))
        if both:
            raise self.error(f"this loop walks a lazy iterator reading what `{both[0]}` holds, which its body "
                             f"changes: Python reads the changed values as the loop goes, s2sad would read them first", s,
                             hint=f"walk a list made first (`for v in list(map(...))`), or leave `{both[0]}` "
                                  f"unchanged in the loop")

    def written_arguments(self, call):
        """The arguments a call may write into: ``np.add.at(a, ...)`` (and NumPy's other functions changing their
        first argument), ``out=``, and those a user's function changes in place (``calls.changed_arguments``)."""
        from .. import calls
        func = self.scope.resolve(call.func)
        out = [k.value for k in call.keywords if k.arg == "out"]
        if call.args and (func in _WRITING_FIRST or getattr(func, "__name__", None) == "at"
                          and isinstance(getattr(func, "__self__", None), np.ufunc)):
            out.append(call.args[0])
        elif func is not MISSING and calls.user_function(func):
            changed = calls.changed_arguments(func)
            out.extend(a for k, a in enumerate(call.args) if k in changed)
        return [a for a in out if not isinstance(a, gast.Starred)]

    def _lazy(self, n, top):
        """Whether the iterable part ``n`` of a loop's header is an iterator read as the loop goes that s2sad takes
        the items of first (``top``: the header's whole iterable, which zip/enumerate/reversed/views walk by
        index)."""
        if isinstance(n, gast.GeneratorExp):
            return True
        if not isinstance(n, gast.Call):
            return False
        if self.generator_call(n) or self.scope.resolve(n.func) in (builtins.map, builtins.filter, builtins.iter):
            return True                   # (zip(map(f, L), M) too)
        return not top and (self.scope.resolve(n.func) in (builtins.zip, builtins.enumerate, builtins.reversed)
                            or self.mapping_view(n) is not None and not self._enumerated(n))

    def _enumerated(self, view):
        """Whether ``view`` (a dict's view) is the argument of the loop header's own ``enumerate``: walked by its
        keys, its values read as the loop goes (``mapping_walk``)."""
        it = self.stmt_.iter if isinstance(self.stmt_, gast.For) else None
        return isinstance(it, gast.Call) and self.scope.resolve(it.func) is builtins.enumerate and it.args \
            and it.args[0] is view

    def sharing_classes(self):
        """name -> the local names that may share its object or memory, anywhere in the function (``M = L``,
        ``tail = a[1:]``, ``rows = [a, b]``, and back): the classes of the links every assignment makes."""
        if not hasattr(self, "_sharing"):
            links = collections.defaultdict(set)
            for st in N.walk(self.tree):
                if isinstance(st, gast.Assign):
                    sources = _view_sources(st.value, self.scope, self.locals) & self.locals
                    for t in st.targets:
                        for m in N.walk(t):
                            if isinstance(m, gast.Name) and sources:
                                links[m.id] |= sources
                                for src in sources:
                                    links[src].add(m.id)
            classes = {}
            for name in list(links):
                if name in classes:
                    continue
                group, todo = {name}, [name]
                while todo:
                    for other in links[todo.pop()]:
                        if other not in group:
                            group.add(other)
                            todo.append(other)
                for m in group:
                    classes[m] = group
            self._sharing = classes
        return self._sharing

    def range_names(self):
        """The names the function binds once, to a ``range(...)`` of the builtin (s2sad's own lowered loops)."""
        if not hasattr(self, "_ranges"):
            bound = collections.Counter(n.id for n in N.walk(self.tree) if isinstance(n, gast.Name)
                                        and not isinstance(n.ctx, gast.Load))
            self._ranges = {st.targets[0].id for st in N.statements(self.tree.body)
                            if isinstance(st, gast.Assign) and len(st.targets) == 1
                            and isinstance(st.targets[0], gast.Name) and bound[st.targets[0].id] == 1
                            and isinstance(st.value, gast.Call) and not st.value.keywords
                            and self.scope.resolve(st.value.func) is builtins.range}
        return self._ranges

    def dict_names(self):
        """The names every binding of which makes a new dict (``{...}``, a dict comprehension, ``dict(...)``): a
        ``for`` loop over one walks its keys (``for k in d`` as ``for k in d.keys()``: a new list, so that writes
        ``d[k] = v`` in the loop, which Python allows, are no change of what the loop walks)."""
        if not hasattr(self, "_dicts"):
            stores = collections.Counter(n.id for n in N.walk(self.tree) if isinstance(n, gast.Name)
                                         and not isinstance(n.ctx, gast.Load))
            def pairs(st):                    # (name, value) of `d = {}` and of `a, d = [], {}`
                if not (isinstance(st, gast.Assign) and len(st.targets) == 1):
                    return []
                target, value = st.targets[0], st.value
                if isinstance(target, gast.Tuple) and isinstance(value, gast.Tuple) \
                        and len(target.elts) == len(value.elts):
                    return list(zip(target.elts, value.elts))
                return [(target, value)]
            made = collections.Counter(
                target.id for st in N.statements(self.tree.body) for target, value in pairs(st)
                if isinstance(target, gast.Name)
                and (isinstance(value, (gast.Dict, gast.DictComp)) or isinstance(value, gast.Call)
                     and self.scope.resolve(value.func) is builtins.dict))
            params = set(N.params(self.tree))
            self._dicts = {n for n, k in made.items() if stores[n] == k and n not in params}
        return self._dicts

    def walk_holders(self, loop, roots, tracked):
        """``(root, holder, names)`` for each name a loop walks (not item by item, ``tracked``) whose object, or one
        sharing its memory (``names``), the body changes with ``op=``: ``holder = root`` is emitted before the
        loop, so that the check of such a change (analysis/effects.py) can tell, where the code runs, whether
        the walked object and the changed one share memory (a walk of another array changes nothing)."""
        updated = _augmented(loop.body)
        out = []
        for root in roots:
            names = {root} | set(self.shares.get(root, ()))
            if root in {n for n, _ in tracked} or not names & updated:
                continue
            holder = self.temp(N.name(root))
            out.append((root, holder.id, names))
        return out

    def loop_header(self, s, body_stores):
        """The ``range`` the lowered loop runs over, and how the element is read from the index.

        Returns ``(range call, element)`` where ``element(k)`` builds the element's expression
        from the index ``k`` (None: the index is the element, a ``range`` loop).
        """
        it = s.iter
        if isinstance(it, gast.Call) and len(it.args) == 1 and [k.arg for k in it.keywords] == ["start"] \
                and self.scope.resolve(it.func) is builtins.enumerate:
            it = gast.Call(func=it.func, args=[it.args[0], it.keywords[0].value], keywords=[])   # start=k: positional
        strict = False
        if isinstance(it, gast.Call) and [k.arg for k in it.keywords] == ["strict"] \
                and isinstance(it.keywords[0].value, gast.Constant) and it.keywords[0].value.value in (False, True) \
                and self.scope.resolve(it.func) is builtins.zip:
            strict = it.keywords[0].value.value          # strict=True: the lengths checked before the loop
            it = gast.Call(func=it.func, args=list(it.args), keywords=[])
        func = self.scope.resolve(it.func) if isinstance(it, gast.Call) and not it.keywords \
            and not any(isinstance(a, gast.Starred) for a in it.args) else None
        if func is builtins.range:
            return gast.Call(func=self.builtin("range"), args=[self.atom(a) for a in it.args], keywords=[]), None
        if isinstance(it, gast.Name) and it.id in self.range_names():
            return N.name(it.id), None                     # `r = range(n)` bound once: a range loop (generated code)
        if func is builtins.enumerate and 1 <= len(it.args) <= 2:
            mapping = self.mapping_view(it.args[0])
            if mapping is not None:                   # enumerate(d.items()): the keys first, the values as it goes
                header, item = self.mapping_walk(s, it.args[0], mapping)
            else:
                seq = self.sequence(it.args[0], body_stores)
                header, item = self.length_range([seq]), lambda k: self.item(seq, k)
            start = self.atom(it.args[1]) if len(it.args) == 2 else None

            def element(k):
                count = k if start is None else gast.BinOp(left=k, op=gast.Add(), right=N.clone(start))
                return N.tup([count, item(k)])
            return header, element
        if func is builtins.zip and it.args:
            seqs = [self.sequence(a, body_stores) for a in it.args]
            return self.length_range(seqs, strict), lambda k: N.tup([self.item(q, k) for q in seqs])
        if func is builtins.reversed and len(it.args) == 1:
            seq = self.sequence(it.args[0], body_stores)
            length = self.temp(gast.Call(func=self.builtin("len"), args=[seq], keywords=[]))
            last = self.temp(gast.BinOp(left=length, op=gast.Sub(), right=N.const(1)))
            header = gast.Call(func=self.builtin("range"), args=[last, N.const(-1), N.const(-1)], keywords=[])
            return header, lambda k: self.item(seq, k)
        mapping = self.mapping_view(it)
        if mapping is None and isinstance(it, gast.Name) and it.id in self.dict_names() and not _resizes(s, it.id):
            mapping = self.atom(it), "keys"                 # for k in d, d a dict made here: d.keys()
        if mapping is not None:
            return self.mapping_walk(s, it, mapping)
        seq = self.sequence(it, body_stores)
        return self.length_range([seq]), lambda k: self.item(seq, k)

    def mapping_walk(self, s, it, mapping):
        """The header and the item of a loop over a dict's view ``it`` (``mapping``: its dict and method): the keys
        taken first (refused where the body adds or removes one: Python raises), each value read as the loop goes,
        after the body's writes, as Python's view reads it."""
        obj, method = mapping
        if isinstance(it, gast.Call) and isinstance(it.func.value, gast.Name) and _resizes(s, it.func.value.id):
            raise self.error(f"a loop over `{it.func.value.id}.{method}()` that adds or removes keys of "
                             f"`{it.func.value.id}` (Python raises RuntimeError: the dictionary changed size during "
                             f"iteration)", s, hint=f"walk a copy of the keys: `for k in list({it.func.value.id}):`")
        keys = self.temp(gast.Call(func=self.aliases.ref(runtime.keys_of, "keys_of"), args=[obj], keywords=[]))
        if method == "keys":
            return self.length_range([keys]), lambda k: self.item(keys, k)
        if method == "values":
            return self.length_range([keys]), lambda k: gast.Subscript(
                value=N.clone(obj), slice=self.item(keys, k), ctx=gast.Load())
        return self.length_range([keys]), lambda k: N.tup([
            self.item(keys, k), gast.Subscript(value=N.clone(obj), slice=self.item(keys, k), ctx=gast.Load())])

    def mapping_view(self, it):
        """``d.items()``, ``d.keys()``, ``d.values()`` on a local name: (d, method), else None."""
        if isinstance(it, gast.Call) and not it.args and not it.keywords and isinstance(it.func, gast.Attribute) \
                and it.func.attr in ("items", "keys", "values") and not self._module_chain(it.func):
            return self.atom(it.func.value), it.func.attr
        return None

    def sequence(self, node, body_stores):
        """A fresh name holding a sequence that can be indexed, with the iterable's items in order
        (``_s2.sequence``: the value itself for a list, tuple, array or range, else a list of its items).

        A name the loop body changes in place (``for v in x: x *= 2``): its sequence is noted, for
        stmt_AugAssign to update it where Python would change the object the loop walks."""
        if isinstance(node, gast.Name) and node.id in self.tracking:
            seq = self.temp(gast.Call(func=self.aliases.ref(runtime.sequence, "sequence"), args=[self.atom(node)],
                                      keywords=[]))
            self.tracked.append((node.id, seq.id))
            return seq
        if isinstance(node, (gast.List, gast.Tuple)) and not any(isinstance(e, gast.Starred) for e in node.elts):
            return self.temp(node)
        as_list = self.iterable_list(node)
        if as_list is not None:
            return as_list
        helper = self.aliases.ref(runtime.sequence, "sequence")
        return self.temp(gast.Call(func=helper, args=[self.atom(node)], keywords=[]))

    def item(self, seq, k):
        return gast.Subscript(value=N.clone(seq), slice=N.clone(k), ctx=gast.Load())

    def length_range(self, seqs, strict=False):
        """``range(n)`` over the shortest of ``seqs`` (``zip(..., strict=True)``: over their one length)."""
        lengths = [self.temp(gast.Call(func=self.builtin("len"), args=[N.clone(q)], keywords=[])) for q in seqs]
        shortest = self.aliases.ref(runtime.zip_length, "zip_length") if strict else self.builtin("min")
        n = lengths[0] if len(lengths) == 1 else self.temp(gast.Call(func=shortest, args=lengths, keywords=[]))
        return gast.Call(func=self.builtin("range"), args=[n], keywords=[])

    def builtin(self, name):
        """The builtin ``name`` under a name the generated code binds to it (the user may rebind ``len``)."""
        return self.aliases.ref(getattr(builtins, name), name)

    def stmt_While(self, s):
        """``while c: B else: E`` -> ``while True: <c>; if c: B else: E; break``."""
        saved, self.out = self.out, []
        test = self.atom(s.test)
        condition, self.out = self.out, saved
        self.loop_depth += 1
        self.nesting += 1
        body = self.block(s.body)
        self.nesting -= 1
        self.loop_depth -= 1
        if N.is_const(test) and test.value is True and not condition and not s.orelse:
            self.emit(gast.While(test=N.const(True), body=body or [gast.Pass()], orelse=[]))
            return
        if isinstance(test, gast.Name) and test.id in _stores(s.body + s.orelse):
            saved, self.out = self.out, condition
            test = self.temp(test)
            condition, self.out = self.out, saved
        if _jumps_out(s.orelse):              # `else: break` acts on the loop around: the else after the loop,
            finished = self.namer.temp()      # run when the test failed (not after a break in the body)
            self.emit(N.located(N.assign(finished, N.const(False)), s))
            stop = [N.located(N.assign(finished, N.const(True)), s), gast.Break()]
            loop_body = condition + [N.if_(test, body or [gast.Pass()], stop, like=s)]
            self.emit(gast.While(test=N.const(True), body=loop_body, orelse=[]))
            self.emit(N.if_(N.name(finished),
                            self.block(s.orelse), [], like=s))
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
                simple = self.simple(value)
                if N.is_name(simple, target.id):              # a = a: nothing to do
                    return N.name(target.id)
                if target.id in _loads(simple):               # a = a * c  ->  _t = a * c; a = _t
                    simple = self.temp(simple)
                self.emit(N.assign(N.store(target.id), simple))
            return N.name(target.id)
        if isinstance(target, (gast.Tuple, gast.List)):
            if any(isinstance(t, gast.Starred) for t in target.elts):
                return self.starred_unpack(target, value)
            if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts) \
                    and not any(isinstance(e, gast.Starred) for e in value.elts):
                # a, b = b, a: evaluate every right-hand side before binding any target
                atoms = [self.atom(e) for e in value.elts]
                bound = {n.id for n in N.walk(target) if isinstance(n, gast.Name)}
                atoms = [self.temp(a) if any(isinstance(n, gast.Name) and n.id in bound for n in N.walk(a))
                         else a for a in atoms]
                for t, a in zip(target.elts, atoms):
                    self.assign_atom(t, a)
                return N.tup([N.clone(a) for a in atoms])
            if self.is_unzip(value):                              # a, b = zip(*pairs): used up at once
                value = self.unzipped(value)
            flat = all(isinstance(t, gast.Name) for t in target.elts) and \
                len({t.id for t in target.elts}) == len(target.elts)
            if flat:
                simple = self.simple(value)
                if {t.id for t in target.elts} & set(_loads(simple)) or self.one_array(simple, len(target.elts)):
                    simple = self.temp(simple)       # (a, b = q / s: the rules' `ans` is the array, not `(a, b)`)
                self.emit(N.assign(N.tup([N.store(t.id) for t in target.elts], gast.Store()), simple))
                return N.tup([N.name(t.id) for t in target.elts])
            whole = self.temp(value)
            self.unpack(target, whole)
            return whole
        if isinstance(target, gast.Subscript):
            if not isinstance(target.value, gast.Name):      # x[i][j] = v: a write through a part of x
                self.source.nested_writes.append((self.stmt_, _root(target)))
            obj, index = self.atom(target.value), self.index(target.slice)
            written = self.atom(value)
            if isinstance(written, gast.Name) and isinstance(obj, gast.Name) and written.id == obj.id:
                written = self.temp(written)     # `a[::-1] = a`: the value written under a name of its own (its
                #                                  adjoint is read before the write clears the array's, not after)
            if isinstance(target.slice, gast.Slice) and isinstance(obj, gast.Name):   # `lst[1:] = [v]`: a list's
                refusal = self.error("a slice assignment that changes a list's length is not differentiated",  # length
                                     self.stmt_, hint="build the new list: `lst = lst[:1] + [v]`")
                self.emit(gast.Expr(value=gast.Call(
                    func=self.aliases.ref(runtime.same_length, "same_length"),
                    args=[N.clone(obj), index_value(index, self.aliases), N.clone(written), N.const(str(refusal))],
                    keywords=[])))
            self.emit(N.assign(gast.Subscript(value=obj, slice=index, ctx=gast.Store()), written))
            return None
        if isinstance(target, gast.Attribute):
            raise self.error("assigning to an attribute is not supported in differentiated code", self.stmt_,
                             hint="build a new value instead of mutating an object")
        raise self.error("this assignment target is not supported", self.stmt_)

    def starred_unpack(self, target, value):
        """``a, *rest, z = xs`` -> ``_t = sequence(xs); a = _t[0]; rest = [_t[1:-1] items]; z = _t[-1]``."""
        elts = target.elts
        star = next(k for k, t in enumerate(elts) if isinstance(t, gast.Starred))
        after = len(elts) - star - 1
        seq = self.sequence(value, set())
        for k, t in enumerate(elts[:star]):
            self.assign_to(t, gast.Subscript(value=N.clone(seq), slice=N.const(k), ctx=gast.Load()))
        upper = N.const(-after) if after else None
        middle = gast.Subscript(value=N.clone(seq), slice=gast.Slice(lower=N.const(star), upper=upper, step=None),
                                ctx=gast.Load())
        self.assign_to(elts[star].value, gast.Call(func=self.builtin("list"), args=[middle], keywords=[]))
        for j, t in enumerate(elts[star + 1:]):
            self.assign_to(t, gast.Subscript(value=N.clone(seq), slice=N.const(j - after), ctx=gast.Load()))
        return seq

    def starred_display(self, node):
        """``[*xs, y]`` -> ``list(xs) + [y]``; ``(*xs, y)`` -> ``tuple(list(xs) + [y])`` (concatenation)."""
        pieces, run = [], []
        for e in node.elts:
            if isinstance(e, gast.Starred):
                if run:
                    pieces.append(gast.List(elts=run, ctx=gast.Load()))
                    run = []
                pieces.append(gast.Call(func=self.builtin("list"), args=[e.value], keywords=[]))   # list(xs)
            else:
                run.append(e)
        if run:
            pieces.append(gast.List(elts=run, ctx=gast.Load()))
        total = pieces[0]
        for p in pieces[1:]:
            total = gast.BinOp(left=total, op=gast.Add(), right=p)
        if isinstance(node, gast.Tuple):
            total = gast.Call(func=self.builtin("tuple"), args=[total], keywords=[])
        return self.simple(total) if not isinstance(total, gast.List) else self.atom(total)

    def returns_tuples(self, func, obj, n):
        """Whether every ``return`` of the user's (or nested) function called as ``func`` gives a tuple display of
        ``n`` items (``return a, b``): what ``a, b = f(x)`` unpacks item by item."""
        if obj is MISSING:
            found = [st for st in N.walk(self.tree) if isinstance(st, gast.FunctionDef)
                     and isinstance(func, gast.Name) and st.name == func.id]
            tree = found[0] if len(found) == 1 else None
        else:
            try:
                from .source import read
                tree = read(obj).tree
            except Exception:                                # noqa: BLE001 -- not readable: not known to
                tree = None
        if tree is None:
            return False
        returns = [r for r in _own_nodes(tree) if isinstance(r, gast.Return)]
        return bool(returns) and all(isinstance(r.value, gast.Tuple) and len(r.value.elts) == n and not any(
            isinstance(e, gast.Starred) for e in r.value.elts) for r in returns)

    def one_array(self, simple, n_targets=0):
        """Whether an operation gives one array (unpacked by the statement: ``a, b = q / s``, ``a, _ =
        np.cumsum(q)``): an operator, a NumPy function or array method other than the ones giving several
        results. Its rules take the array as ``ans`` and its adjoint or tangent as a whole, so it is bound to a
        name first; a function giving a tuple (``U, s, Vt = np.linalg.svd(A)``, a user's) keeps its targets.
        So is an object a class makes (not a tuple's): unpacking it is checked as any object's."""
        if isinstance(simple, (gast.BinOp, gast.UnaryOp)):
            return True
        if not isinstance(simple, gast.Call):
            return False
        func = simple.func
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id in self.locals and func.attr in _ARRAY_METHODS:
            return True
        obj = self.scope.resolve(func)
        if isinstance(obj, np.ufunc):
            return obj.nout == 1
        if isinstance(obj, type) and not issubclass(obj, tuple):
            return True                      # (u, v = Pair(a): an object, unpacked through its class's __iter__)
        if obj in (np.atleast_1d, np.atleast_2d, np.atleast_3d) and len(simple.args) == 1 or obj is builtins.abs:
            return True                      # (one argument: one array; abs(x) of an array, NumPy's abs)
        if obj is np.linalg.svd and any(k.arg == "compute_uv" and N.is_const(k.value) and k.value.value is False
                                         for k in simple.keywords):
            return True                      # (the singular values only)
        if obj is MISSING or calls.user_function(obj):
            return not self.returns_tuples(func, obj, n_targets)    # (a user's function giving one array: its
            #                                  adjoint is the array's; one giving `return a, b` keeps its targets)
        module = getattr(obj, "__module__", None) or ""
        return module.split(".")[0] in ("numpy", "scipy") and callable(obj) and not isinstance(obj, type) \
            and getattr(obj, "__name__", "") not in _SEVERAL_RESULTS

    def assign_atom(self, target, atom):
        if isinstance(target, gast.Name):
            self.emit(N.assign(N.store(target.id), N.clone(atom)))
        else:
            self.assign_to(target, atom)

    def unpack(self, target, whole):
        """(a, (b, c)) = whole  ->  a, _t = whole; b, c = _t  (every target bound once)"""
        elts, nested, seen = [], [], set()
        for t in target.elts:
            if isinstance(t, gast.Name) and t.id not in seen:
                elts.append(N.store(t.id))
                seen.add(t.id)
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
        if isinstance(node, (gast.Tuple, gast.List)):
            if any(isinstance(e, gast.Starred) for e in node.elts):
                return self.temp(node)
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
        if isinstance(node, (gast.Name, gast.Constant)):
            return self.atom(node)
        if isinstance(node, (gast.Tuple, gast.List)):
            if any(isinstance(e, gast.Starred) for e in node.elts):
                return self.starred_display(node)
            return self.atom(node)
        if isinstance(node, gast.JoinedStr):
            return N.clone(node)              # f-strings are never differentiated
        if isinstance(node, gast.Lambda):
            return N.clone(node)              # a function value (analysis/effects.py: none made from a varied value)
        if isinstance(node, gast.Dict):
            if any(k is None for k in node.keys):
                raise self.error("`**` in a dict literal is not supported", self.stmt_, hint="write out the keys")
            return gast.Dict(keys=[self.atom(k) for k in node.keys], values=[self.atom(v) for v in node.values])
        if isinstance(node, gast.ListComp):
            return self.listcomp(node)
        if isinstance(node, gast.DictComp):
            return self.dictcomp(node)
        if isinstance(node, gast.GeneratorExp):
            raise self.error("a generator expression is supported only where it is used up at once (an argument of "
                             "sum, min, max, any, all, sorted, list, tuple, dict, zip, enumerate, map, or the "
                             "iterable of a `for`)", self.stmt_,
                             hint="write a list comprehension `[...]` to keep the values")
        raise self.error(f"`{type(node).__name__}` expressions are not supported", self.stmt_)

    def listcomp(self, node):
        """``[f(x) for x in xs if c]`` -> ``_t = []; for x in xs: if c: _t.append(f(x))``.

        The loop variables get fresh names: a comprehension has its own scope.
        """
        result = self.namer.temp()
        self.emit(N.assign(result, gast.List(elts=[], ctx=gast.Load())))
        renames = {}
        for gen in node.generators:
            for n in N.walk(gen.target):
                if isinstance(n, gast.Name):
                    renames[n.id] = self.namer.fresh(f"_{n.id}")
        node = N.clone(node)
        for sub in [node.elt] + [x for gen in node.generators for x in [gen.target, *gen.ifs]] + \
                [gen.iter for gen in node.generators[1:]]:
            for n in N.walk(sub):
                if isinstance(n, gast.Name) and n.id in renames:
                    n.id = renames[n.id]
        self.locals = self.locals | set(renames.values()) | {result}
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

    # --- iteration: what iterates is lowered to a list, then to a loop (Python's order is kept) ----------
    def iterable_list(self, node):
        """A fresh name holding a list of the items ``node`` iterates over, when ``node`` makes an iterator
        (a generator expression, ``zip``/``enumerate``/``reversed``/``map``/``filter``, ``list(...)``, a
        dict's ``items()``/``keys()``/``values()``); else None."""
        if isinstance(node, gast.GeneratorExp):
            return self.listcomp(gast.ListComp(elt=node.elt, generators=node.generators))
        if isinstance(node, gast.ListComp):
            return self.listcomp(node)
        if id(node) not in self.used_up and self.generator_call(node):
            # list(g(...)): its items, whether g's code is differentiated (front/generators.py: it returns
            # their list) or run as it is (it returns a generator)
            self.used_up.add(id(node))
            return self.temp(gast.Call(func=self.aliases.ref(builtins.list, "list"), args=[node], keywords=[]))
        if self.is_unzip(node):
            return self.unzipped(node)
        if not isinstance(node, gast.Call) or node.keywords or any(isinstance(a, gast.Starred) for a in node.args):
            return None
        obj = self.scope.resolve(node.func)
        if obj in (builtins.zip, builtins.enumerate, builtins.reversed) or self.is_mapping_view(node):
            item = self.namer.fresh("_item")
            return self.listcomp(gast.ListComp(elt=N.name(item), generators=[_each(item, node)]))
        if obj is builtins.list and len(node.args) == 1:
            inner = self.iterable_list(node.args[0])
            if inner is not None:
                return inner
            return self.temp(gast.Call(func=N.clone(node.func), args=[self.atom(node.args[0])], keywords=[]))
        if obj is builtins.map and len(node.args) >= 2:
            return self.listcomp(self.map_as_listcomp(node.args[0], node.args[1:]))
        if obj is builtins.filter and len(node.args) == 2:
            item = self.namer.fresh("_item")
            keep = N.name(item) if N.is_const(node.args[0]) and node.args[0].value is None else \
                self.applied(node.args[0], [N.name(item)])
            return self.listcomp(gast.ListComp(elt=N.name(item), generators=[_each(item, node.args[1], [keep])]))
        return None

    def is_unzip(self, node):
        """``zip(*rows)``: the rows' items regrouped (a transpose of a list of tuples)."""
        return isinstance(node, gast.Call) and len(node.args) == 1 and isinstance(node.args[0], gast.Starred) \
            and not node.keywords and self.scope.resolve(node.func) is builtins.zip

    def unzipped(self, node):
        return self.temp(gast.Call(func=self.aliases.ref(runtime.unzip, "unzip"), args=[node.args[0].value],
                                   keywords=[]))

    def is_mapping_view(self, node):
        return isinstance(node, gast.Call) and not node.args and not node.keywords \
            and isinstance(node.func, gast.Attribute) and node.func.attr in ("items", "keys", "values") \
            and not self._module_chain(node.func)

    def map_as_listcomp(self, function, iterables):
        """``map(f, a, b)`` -> ``[f(_a, _b) for _a, _b in zip(a, b)]`` (a lambda's body written in place)."""
        if isinstance(function, gast.Lambda):
            args = function.args
            if args.vararg or args.kwarg or args.kwonlyargs or args.defaults or args.posonlyargs \
                    or len(args.args) != len(iterables):
                raise self.error("this lambda cannot be mapped", self.stmt_, hint="map a function defined with `def`")
            names = [a.id for a in args.args]
            elt = N.clone(function.body)
        else:
            names = [self.namer.fresh("_item") for _ in iterables]
            elt = self.applied(function, [N.name(n) for n in names])
        if len(iterables) == 1:
            return gast.ListComp(elt=elt, generators=[_each(names[0], iterables[0])])
        target = gast.Tuple(elts=[N.store(n) for n in names], ctx=gast.Store())
        zipped = gast.Call(func=self.builtin("zip"), args=list(iterables), keywords=[])
        return gast.ListComp(elt=elt, generators=[gast.comprehension(target=target, iter=zipped, ifs=[], is_async=0)])

    def applied(self, function, args):
        """``function(*args)`` as an expression (a lambda's body with its parameters replaced)."""
        if isinstance(function, gast.Lambda):
            params = function.args
            if params.vararg or params.kwarg or params.kwonlyargs or params.posonlyargs \
                    or len(params.args) != len(args):
                raise self.error("this lambda cannot be applied here", self.stmt_, hint="use a function defined with `def`")
            body = N.clone(function.body)
            mapping = {p.id: a for p, a in zip(params.args, args)}
            for n in N.walk(body):
                if isinstance(n, gast.Name) and n.id in mapping and isinstance(n.ctx, gast.Load):
                    n.id = mapping[n.id].id
            return body
        return gast.Call(func=N.clone(function), args=args, keywords=[])

    def iteration_call(self, node):
        """Calls that consume or make iterators, lowered (None: an ordinary call)."""
        if any(isinstance(a, gast.Starred) for a in node.args):
            return None
        obj = self.scope.resolve(node.func)
        plain = not node.keywords
        try:
            consumer = obj in _CONSUMERS
        except TypeError:
            consumer = False
        if not consumer and not (isinstance(node.func, gast.Attribute) and node.func.attr == "join"):
            return None
        if obj in (builtins.zip, builtins.enumerate, builtins.reversed, builtins.map, builtins.filter):
            raise self.error(f"`{node.func.id if isinstance(node.func, gast.Name) else 'this'}(...)` makes an "
                             f"iterator; s2sad supports it where it is used up at once (a `for` loop, or an argument "
                             f"of list, sum, dict, ...)", self.stmt_, hint="wrap it in `list(...)` to keep the items")
        if obj is builtins.list and plain and len(node.args) <= 1:
            if not node.args:
                return gast.List(elts=[], ctx=gast.Load())
            inner = self.iterable_list(node.args[0])
            if inner is not None:
                return inner
            return gast.Call(func=N.clone(node.func), args=[self.atom(node.args[0])], keywords=[])   # rules.python
        if obj in (builtins.max, builtins.min) and len(node.args) >= 3 and plain:
            value = self.atom(node.args[0])         # max(a, b, c) -> max(max(a, b), c)
            for a in node.args[1:]:
                value = self.temp(gast.Call(func=N.clone(node.func), args=[value, self.atom(a)], keywords=[]))
            return value
        if obj in (builtins.max, builtins.min) and len(node.args) >= 2 and [k.arg for k in node.keywords] == ["key"]:
            node = gast.Call(func=node.func, args=[gast.List(elts=list(node.args), ctx=gast.Load())],
                             keywords=node.keywords)         # max(a, b, key=f) is max([a, b], key=f)
        if obj in (builtins.max, builtins.min) and len(node.args) == 1 and "default" in [k.arg for k in node.keywords] \
                and isinstance(node.args[0], (gast.List, gast.Tuple)) and node.args[0].elts \
                and not any(isinstance(e, gast.Starred) for e in node.args[0].elts):
            node = gast.Call(func=node.func, args=node.args,   # a display with items: `default` is never used
                             keywords=[k for k in node.keywords if k.arg != "default"])
        if obj in (builtins.max, builtins.min) and len(node.args) == 1 and \
                all(k.arg == "key" for k in node.keywords):
            items = self.listed(node.args[0])
            keys = self.keys_of(items, node.keywords[0].value) if node.keywords else items
            best = self.aliases.ref(runtime.first_best, "first_best")
            index = self.temp(gast.Call(func=best, args=[keys, N.const(obj is builtins.max)], keywords=[]))
            return gast.Subscript(value=N.clone(items), slice=index, ctx=gast.Load())
        if obj is builtins.sorted and len(node.args) == 1 and all(k.arg in ("key", "reverse") for k in node.keywords):
            items = self.listed(node.args[0])
            kw = {k.arg: k.value for k in node.keywords}
            keys = self.keys_of(items, kw["key"]) if "key" in kw else items
            reverse = self.atom(kw["reverse"]) if "reverse" in kw else N.const(False)
            order = self.temp(gast.Call(func=self.aliases.ref(runtime.sort_order, "sort_order"),
                                        args=[keys, N.const(None), reverse], keywords=[]))
            k = self.namer.fresh("_i")
            return self.listcomp(gast.ListComp(elt=gast.Subscript(value=N.clone(items), slice=N.name(k), ctx=gast.Load()),
                                               generators=[_each(k, order)]))
        if obj is builtins.dict and plain and len(node.args) == 1:     # dict(pairs), or dict(d): d's own pairs
            pairs = self.iterable_list(node.args[0]) or self.temp(gast.Call(
                func=self.aliases.ref(runtime.pairs_of, "pairs_of"), args=[self.atom(node.args[0])], keywords=[]))
            return self.made_dict(pairs)
        args = [self.iterable_list(a) or self.atom(a) if i == 0 else self.atom(a) for i, a in enumerate(node.args)]
        keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value)) for k in node.keywords]
        func = N.clone(node.func) if not isinstance(node.func, gast.Attribute) or self._module_chain(node.func) \
            else gast.Attribute(value=self.atom(node.func.value), attr=node.func.attr, ctx=gast.Load())
        return gast.Call(func=func, args=args, keywords=keywords)

    def listed(self, node):
        """An atom holding ``node``'s items as something indexable: a list, a tuple or an array as it is, a
        comprehension as the list it makes, anything else through ``_s2.sequence`` (a dict's keys: ``max(d)``
        and ``sorted(d)`` compare and return keys, not ``d[0]``)."""
        if isinstance(node, (gast.List, gast.Tuple)) and not any(isinstance(e, gast.Starred) for e in node.elts):
            return self.atom(node)
        return self.sequence(node, ())

    def keys_of(self, items, key):
        """``[key(v) for v in items]`` (a lambda's body written in place): the keys ``sorted``/``max`` compare."""
        item = self.namer.fresh("_item")
        return self.listcomp(gast.ListComp(elt=self.applied(key, [N.name(item)]), generators=[_each(item, items)]))

    def made_dict(self, pairs):
        """``dict(pairs)`` -> ``_s2.make_dict(keys, values)``: keys carry no derivative, values do."""
        keys, values = self.namer.fresh("_keys"), self.namer.fresh("_values")
        pair = self.namer.fresh("_pair")
        self.emit(N.assign(keys, self.listcomp(gast.ListComp(
            elt=gast.Subscript(value=N.name(pair), slice=N.const(0), ctx=gast.Load()), generators=[_each(pair, pairs)]))))
        self.emit(N.assign(values, self.listcomp(gast.ListComp(
            elt=gast.Subscript(value=N.name(pair), slice=N.const(1), ctx=gast.Load()), generators=[_each(pair, pairs)]))))
        self.locals = self.locals | {keys, values}
        return gast.Call(func=self.aliases.ref(runtime.make_dict, "make_dict"), args=[N.name(keys), N.name(values)],
                         keywords=[])

    def dictcomp(self, node):
        """``{k: v for ...}`` -> a list of ``(k, v)`` pairs, then ``_s2.make_dict`` (later keys win, as in Python)."""
        pairs = self.listcomp(gast.ListComp(elt=gast.Tuple(elts=[node.key, node.value], ctx=gast.Load()),
                                            generators=node.generators))
        return self.made_dict(pairs)

    def index(self, node):
        """A subscript index with atoms in every position (slices, None, ..., tuples)."""
        if isinstance(node, gast.Slice):
            return gast.Slice(**{k: (self.atom(getattr(node, k)) if getattr(node, k) is not None else None)
                                 for k in ("lower", "upper", "step")})
        if isinstance(node, gast.Tuple):
            return N.tup([self.index(e) for e in node.elts])
        return self.atom(node)

    def generator_call(self, node):
        """Whether ``node`` calls a generator function (rewritten by front/generators.py, or a nested one)."""
        if not isinstance(node, gast.Call):
            return False
        func = node.func
        if isinstance(func, gast.Name) and func.id in self.nested_functions:
            return generators.is_generator(self.nested_functions[func.id].node)
        if isinstance(func, gast.Name) and func.id in self.scope.cells:
            return False           # a function value, called through nested.py (targets.py refuses generators)
        obj = self.scope.resolve(func)
        obj = getattr(obj, "__wrapped__", obj)
        return inspect.isgeneratorfunction(obj)

    def bound_method_call(self, node):
        """``hb(x)`` where a global or closure name holds a user's bound method (``hb = c.h``): ``C.h(c, x)``, with the
        function and the object bound by the generated code (as ``c.h(x)`` is differentiated)."""
        from ..calls import user_function
        from ..rules.registry import has_rule
        try:
            method = self.scope.resolve(node.func)
        except Exception:                                  # noqa: BLE001  (a name s2sad cannot look up)
            return node
        if not isinstance(method, types.MethodType) or isinstance(method.__self__, type) \
                or not user_function(method.__func__) or has_rule(method):     # (a rule registered for it: used)
            return node
        func = self.aliases.ref(method.__func__, N.identifier(method.__func__.__name__))
        obj = self.aliases.ref(method.__self__, N.identifier(type(method.__self__).__name__.lower()))
        return N.located(gast.Call(func=func, args=[obj] + list(node.args), keywords=list(node.keywords)), node)

    def call(self, node):
        node = self.derivative_call(node)
        if isinstance(node, gast.Call) and isinstance(node.func, (gast.Name, gast.Attribute)):
            node = self.bound_method_call(node)
        if isinstance(node, gast.Tuple):              # a module-level grad(h, wrt=(k,)) called: its 1-tuple
            return gast.Tuple(elts=[self.temp(node.elts[0])], ctx=gast.Load())
        literal_getattr = len(node.args) in (2, 3) and not node.keywords and isinstance(node.args[1], gast.Constant) \
            and isinstance(node.args[1].value, str) and node.args[1].value.isidentifier() \
            and self.scope.resolve(node.func) is builtins.getattr
        if literal_getattr and len(node.args) == 2:                          # getattr(p, "a") is p.a
            return gast.Attribute(value=self.atom(node.args[0]), attr=node.args[1].value, ctx=gast.Load())
        if literal_getattr and isinstance(node.args[2], (gast.Constant, gast.Name)):
            # getattr(p, "a", d): p.a if it has one (d a constant or a name: evaluating it only when p has no `a`
            # changes nothing Python would do)
            obj = self.atom(node.args[0])
            has = gast.Call(func=self.builtin("hasattr"), args=[N.clone(obj), N.clone(node.args[1])], keywords=[])
            return self.atom(gast.IfExp(test=has, body=gast.Attribute(value=N.clone(obj), attr=node.args[1].value,
                                                                      ctx=gast.Load()), orelse=node.args[2]))
        # (s2sad's own output, differentiated again, was checked when it was made)
        if id(node) not in self.used_up and self.generator_call(node) and not self.source.filename.startswith("<s2sad"):
            raise self.error("a generator function's iterator is supported only where it is used up at once (the "
                             "iterable of a `for`, or an argument of sum, list, tuple, zip, enumerate, ...)",
                             self.stmt_, hint="wrap the call in `list(...)` to keep the items")
        lowered = self.iteration_call(node)
        if lowered is not None:
            return lowered
        if self.is_setdefault(node):
            return self.setdefault(node)
        func = node.func
        if isinstance(func, gast.Attribute) and not self._module_chain(func):
            func = gast.Attribute(value=self.atom(func.value), attr=func.attr, ctx=gast.Load())
        elif not isinstance(func, (gast.Name, gast.Attribute)):
            func = self.atom(func)
        else:
            func = N.clone(func)
        args = []
        for a in node.args:
            if isinstance(a, gast.Starred) and isinstance(a.value, (gast.List, gast.Tuple)) \
                    and not any(isinstance(e, gast.Starred) for e in a.value.elts):
                args.extend(self.atom(e) for e in a.value.elts)      # f(*[a, b]) is f(a, b)
            elif isinstance(a, gast.Starred):                        # f(*xs): no derivative through xs
                args.append(gast.Starred(value=self.atom(a.value), ctx=gast.Load()))    # (analysis/effects.py)
            else:
                args.append(self.atom(a))
        keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value)) for k in node.keywords]
        return gast.Call(func=func, args=args, keywords=keywords)

    def is_setdefault(self, node):
        return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
            and node.func.attr == "setdefault" and isinstance(node.func.value, gast.Name) \
            and node.func.value.id in self.dict_names() and len(node.args) in (1, 2) and not node.keywords \
            and not any(isinstance(a, gast.Starred) for a in node.args)

    def setdefault(self, node):
        """``d.setdefault(k, v)`` of a dict made here: ``if k not in d: d[k] = v``, then ``d[k]`` (``v`` evaluated
        first either way, as the call's argument is), which s2sad follows as item writes and reads
        (``d.setdefault(k, []).append(v)`` as ``d[k].append(v)``)."""
        d, args = node.func.value.id, node.args
        key = self.atom(args[0])
        key = self.temp(key) if not isinstance(key, (gast.Name, gast.Constant)) else key
        value = self.atom(args[1]) if len(args) == 2 else N.const(None)
        missing = self.temp(gast.Compare(left=N.clone(key), ops=[gast.NotIn()], comparators=[N.name(d)]))
        saved, self.out = self.out, []
        self.assign_to(gast.Subscript(value=N.name(d, gast.Store()), slice=N.clone(key), ctx=gast.Store()), value)
        store, self.out = self.out, saved
        self.emit(N.if_(missing, store, []))
        return gast.Subscript(value=N.name(d), slice=N.clone(key), ctx=gast.Load())

    def derivative_call(self, node):
        """``s2sad.grad(f, wrt=k)(*args)`` -> ``_s2.grad_call(f, k, *args)``: a primitive with rules (nested.py)."""
        inner = node.func
        if isinstance(inner, gast.Name) and inner.id in self.locals:
            inner = self.local_gradient(inner.id) or inner        # g = s2sad.grad(h); g(x): as s2sad.grad(h)(x)
        if isinstance(inner, (gast.Name, gast.Attribute)) and not any(isinstance(a, gast.Starred) for a in node.args):
            made = self.made_gradient(inner)          # hv = s2sad.grad(h) at module level, hv(x) called here
            if made is not None and node.keywords:
                node = self.keywords_placed(node, made[0])
            if made is not None:
                helper = self.aliases.ref(nested.grad_call, "grad_call")
                target = self.aliases.ref(made[0], getattr(made[0], "__name__", "f"))
                call = gast.Call(func=helper, args=[target, N.const(made[1])] + list(node.args), keywords=[])
                return call if made[2] else gast.Tuple(elts=[call], ctx=gast.Load())     # (wrt=(k,): a 1-tuple)
        if not (isinstance(inner, gast.Call) and markers.API and self.scope.resolve(inner.func) is markers.API["grad"]):
            return node
        if len(inner.args) != 1 or any(k.arg != "wrt" for k in inner.keywords) or \
                any(isinstance(a, gast.Starred) for a in node.args):
            return node
        if node.keywords:
            try:
                fn = self.scope.resolve(inner.args[0])
            except Exception:                         # noqa: BLE001  (a function value: its signature unknown)
                fn = MISSING
            node = self.keywords_placed(node, fn)
        wrt = inner.keywords[0].value if inner.keywords else (inner.args[1] if len(inner.args) > 1 else
                                                              self.default_wrt(inner.args[0]))
        helper = self.aliases.ref(nested.grad_call, "grad_call")
        if isinstance(wrt, (gast.Tuple, gast.List)):     # wrt=(k,): its 1-tuple; several: refused here, at its line
            if len(wrt.elts) != 1:
                raise self.error("a nested gradient with respect to several arguments (`wrt=(0, 1)`) inside "
                                 "differentiated code is not supported", self.stmt_,
                                 hint="one s2sad.grad call per argument: `s2sad.grad(f, wrt=0)(...)`")
            return gast.Tuple(elts=[gast.Call(func=helper, args=[inner.args[0], wrt.elts[0]] + list(node.args),
                                              keywords=[])], ctx=gast.Load())
        return gast.Call(func=helper, args=[inner.args[0], wrt] + list(node.args), keywords=[])

    def keywords_placed(self, node, fn):
        """``node`` (a call of ``s2sad.grad(fn)``) with its keyword arguments placed by position in ``fn``'s
        parameters, the literal defaults of those left out between them given (a nested gradient's arguments are
        positional: ``_s2.grad_call(fn, k, *args)``); refused where that cannot be done."""
        refusal = self.error("keyword arguments of a gradient taken inside differentiated code are supported where "
                             "they name the function's positional parameters (with literal defaults between)",
                             self.stmt_, hint="pass them by position")
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            raise refusal from None
        given = dict(zip([p.name for p in params], node.args))
        for k in node.keywords:
            if k.arg is None or k.arg in given or k.arg not in {p.name for p in params}:
                raise refusal
            given[k.arg] = k.value
        last = max(i for i, p in enumerate(params) if p.name in given)
        args = []
        for p in params[:last + 1]:
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                raise refusal
            if p.name in given:
                args.append(given[p.name])
            elif p.default is not p.empty and type(p.default) in (bool, int, float, str, type(None)):
                args.append(N.const(p.default))
            else:
                raise refusal
        return N.located(gast.Call(func=node.func, args=args, keywords=[]), node)

    def local_gradient(self, name):
        """The call ``s2sad.grad(h, ...)`` the local ``name`` holds wherever it is read: its one binding, whose
        arguments are constants and names bound nowhere else in the function (globals, parameters never
        assigned, locals bound once) -- so ``name(x)`` is ``s2sad.grad(h, ...)(x)``. Else None."""
        if not markers.API:
            return None
        binds = [n for n in N.walk(self.tree) if isinstance(n, gast.Name) and n.id == name
                 and not isinstance(n.ctx, gast.Load)]
        if len(binds) != 1:
            return None
        st = next((s for s in N.statements(self.tree.body) if isinstance(s, gast.Assign) and len(s.targets) == 1
                   and s.targets[0] is binds[0]), None)
        value = st.value if st is not None else None
        if not (isinstance(value, gast.Call) and self.scope.resolve(value.func) is markers.API["grad"]):
            return None
        counts = collections.Counter(n.id for n in N.walk(self.tree) if isinstance(n, gast.Name)
                                     and not isinstance(n.ctx, gast.Load))
        parts = list(value.args) + [k.value for k in value.keywords]
        if not all(N.is_const(a) or isinstance(a, gast.Name) and counts[a.id] <= 1 for a in parts):
            return None
        return N.clone(value)

    def default_wrt(self, func):
        """The ``wrt`` of ``s2sad.grad(func)`` given none: ``func``'s own (``@s2sad.differentiable(wrt=...)``) as a
        constant where ``func`` is known here, else None (nested.grad_index reads it when the code runs)."""
        if isinstance(func, gast.Name) and func.id in self.locals:
            return N.const(None)               # a function value: read when the code runs
        try:
            obj = self.scope.resolve(func)
        except Exception:                      # noqa: BLE001  (a function value: read when the code runs)
            return N.const(None)
        if obj is MISSING:
            return N.const(None)
        default = getattr(obj, "__s2sad_wrt__", 0)
        if isinstance(default, (tuple, list)) and all(isinstance(k, int) for k in default):
            return gast.Tuple(elts=[N.const(k) for k in default], ctx=gast.Load())
        return N.const(default) if isinstance(default, (int, str)) else N.const(None)

    def made_gradient(self, func):
        """``(h, k, single)`` when ``func`` (a global or a module's attribute) denotes ``s2sad.grad(h, wrt=k)`` of a
        Python function ``h`` (one argument differentiated; ``single``: not given as ``wrt=(k,)``), else None."""
        if isinstance(func, gast.Name) and func.id in self.locals:
            return None
        try:
            obj = self.scope.resolve(func)
        except Exception:                      # noqa: BLE001  (unresolved here: a call like any other)
            return None
        spec = getattr(obj, markers.DERIVATIVE_ATTRIBUTE, None) if callable(obj) else None
        single = getattr(obj, "__s2sad_one_gradient__", None)
        if not (isinstance(spec, tuple) and len(spec) == 3 and spec[2] == "grad" and inspect.isfunction(spec[0])
                and single in (True, False) and isinstance(spec[1], tuple) and len(spec[1]) == 1
                and isinstance(spec[1][0], int)):
            return None
        return spec[0], spec[1][0], single

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
        rest = [gast.Compare(left=lf, ops=[o], comparators=[r]) for lf, o, r in parts[1:]]
        return self.boolop(gast.BoolOp(op=gast.And(), values=[first] + rest))

    def boolop(self, node, result=None):
        """``a and b`` -> ``_t = a; if _t: r = b else: r = _t`` (short-circuit kept)."""
        first = self.atom(node.values[0])
        if isinstance(first, gast.Name) and (result is None or first.id == result):
            first = self.temp(first) if first.id == result else first
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
        if isinstance(test, gast.Name) and test.id == result:
            test = self.temp(test)
        result = result or self.namer.temp()
        self.emit(N.if_(test, self.block_assign(result, node.body), self.block_assign(result, node.orelse)))
        return N.name(result)

    def block_assign(self, target, value):
        saved, self.out = self.out, []
        self.assign_to(N.store(target), value)
        out, self.out = self.out, saved
        return out


_WRITING_FIRST = {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis}  # (into args[0])
_TAKEN_AT_ONCE = {builtins.list, builtins.tuple, builtins.sorted, builtins.set, builtins.frozenset, builtins.dict,
                  np.array, np.asarray, np.stack, np.concatenate}     # (their argument's items, all, before they return)


_CONSUMERS = {builtins.sum, builtins.min, builtins.max, builtins.any, builtins.all, builtins.sorted, builtins.list,
              builtins.tuple, builtins.set, builtins.frozenset, builtins.dict, builtins.zip, builtins.enumerate,
              builtins.reversed, builtins.map, builtins.filter, __import__("math").fsum}


def _each(name, iterable, ifs=()):
    """The comprehension clause ``for name in iterable if ...``."""
    return gast.comprehension(target=N.store(name), iter=iterable, ifs=list(ifs), is_async=0)


def _root(node):
    while isinstance(node, (gast.Subscript, gast.Attribute)):
        node = node.value
    return node.id if isinstance(node, gast.Name) else None


def _loads(node):
    return [n.id for n in N.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)]


def _own_nodes(fn):
    """The nodes of ``fn`` outside the functions and lambdas defined inside it."""
    todo = list(fn.body)
    while todo:
        node = todo.pop()
        yield node
        for child in gast.iter_child_nodes(node):
            if not isinstance(child, (gast.FunctionDef, gast.Lambda)):
                todo.append(child)
