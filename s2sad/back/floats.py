"""The float route: ``np.float64`` arguments run through generated code as Python floats.

Arithmetic on a NumPy scalar costs three to four times a Python float's (every ``*`` goes through
NumPy's scalar machinery), and everything computed from one is again a NumPy scalar: a loop over
an ``np.float64`` read from an array ran at a third of the speed of the same loop over floats. A
careful human converts such values with ``float(x)`` once, at the entry. ``grad`` does the same,
when that cannot change a result.

Soundness condition (``safe``, checked on the generated text and what its names denote, and at the
call on the arguments, ``converted``). ``np.float64`` is a subclass of ``float`` and both hold an
IEEE double: ``+ - * /``, comparisons, ``abs``, ``math`` functions and every NumPy function give
bit-identical results on either. They differ only where

1. an operator on floats raises (``/`` or ``%`` by zero, ``**`` overflowing, ``0.0 ** -1``) while
   NumPy returns inf or nan: the converted call raising anything is run again on the arguments as
   given (``api``), so the user sees NumPy's results and warnings. Running again is sound because the
   code changes nothing in place (``may_run_again``), draws no random numbers (a second run would draw
   others: ``_draws``) and
   puts no value where user code keeps it (no list or dict it did not make: condition 4);
2. ``x ** y`` of a negative float and a non-integral ``y`` is a complex number (NumPy: nan): no
   ``**`` or ``pow`` whose exponent is not an integral constant; ``%``, ``//`` and ``divmod`` are
   left alone too (NumPy's and Python's floor division are written separately), and ``round`` (with
   ``ndigits``, Python rounds the decimal value exactly, NumPy scales: ``round(2.15, 1)`` is 2.1, of
   ``np.float64(2.15)`` 2.2);
3. NumPy's promotion treats a Python float as "weak": ``float32_array * x`` stays float32 for a
   float but becomes float64 for an ``np.float64``: no arrays of another float dtype among the
   arguments, no names denoting such arrays or float types other than float64, no dtype strings, no
   names denoting a list, dict or set (which may hold float32 values, or be given some later);
4. code s2sad did not generate sees the value (a user function called as it is, a method of a
   user object, ``str``/``repr``/``isinstance``/``next``, a list, dict or frozenset the user keeps,
   SciPy's distributions): every name the code reads must be on an allow-list (``_trusted``): generated
   code and s2sad's helpers, ``math``'s functions, NumPy's float ufuncs and a few functions reading truth
   values, ``abs``/``min``/``max``/``len``/``range``/``zip``/... among the builtins, and constants (numbers,
   float64 arrays, tuples of such); an int passed or written beyond 2**53 (Python compares it exactly),
   a bool passed or written as an operand (NumPy's functions make float16 of it), a complex constant
   (Python's complex division rounds otherwise) keep the route off too;
5. a comparison of floats is a Python ``bool``, of ``np.float64`` an ``np.bool_``, and the two compute
   differently (``np.True_ + np.True_`` is ``np.True_``, ``~np.True_`` is ``np.False_``, ``is True``
   tells them apart, ``max`` and ``abs`` give them back as they are); a comparison of arrays is a boolean
   array, of which NumPy's functions make float16 (condition 3); a product of two is a count or a truth
   value: a comparison's result (or a name holding it) may only be tested (``if``, ``while``, ``not``,
   ``and``/``or`` so used), or passed to a function that reads it as a truth value or a count
   (``np.where``'s condition, ``np.any``, ``np.sum``, ``float``, ..., ``_MASK_CALLS``) or to s2sad's own
   helpers (``_truth_like``);
6. the objects differ: ``x is y`` (one float per conversion), ``x.__class__``, ``repr(x)`` and f-strings
   tell a float from an np.float64: no ``is``, no dunder attribute, no formatted string.

Dropping any one of these gives a value or derivative other than NumPy's (tests/test_float_route.py).
Switch: ``floats`` (``s2sad.optimizations(floats=False)``).
"""
import ast
import builtins
import random
import re
import types

import numpy as np

from .. import nodes as N
from .link import Link

_TRUSTED = {"numpy", "scipy", "math", "cmath", "s2sad", "builtins"}
_SAFE_METHODS = {"append", "pop", "extend", "insert", "reverse", "items", "keys", "values", "get", "copy", "index",
                 "count", "setdefault", "update"}
_DTYPE_TEXT = re.compile(r"^[<>=|]?(f2|f4|e|f|g|f16|c8|F|float16|float32|half|single|longdouble|float128|"
                         r"complex64|csingle|clongdouble|"
                         r"\?|b1|bool|bool_|i1|u1|i2|u2|b|B|h|H|int8|uint8|int16|uint16|byte|ubyte|short|ushort)$")
# (booleans and 8- and 16-bit integers: NumPy's functions make float16 and float32 of them, condition 3)
_MATH_NOT_FLOAT = {"isnan", "isinf", "isfinite", "isclose", "floor", "ceil", "trunc", "factorial", "comb", "perm",
                   "isqrt", "gcd", "lcm", "prod", "sumprod"}
_MASK_CALLS = {np.where, np.any, np.all, np.sum, np.count_nonzero, np.logical_and, np.logical_or, np.logical_not,
               np.logical_xor, builtins.float, builtins.int, builtins.len}


def may_run_again(facts):
    """Condition 1: a call that raised on floats can run again on the values given when the generated code
    changes no object in place (its arguments and what they hold are as they were)."""
    return not facts.mutated


def dtype_kept(dtype):
    """Condition 3: NumPy computes with an array of ``dtype`` and a Python float as with an np.float64 (the
    result is float64 either way): float64, and integers of 32 or 64 bits. Not booleans or smaller integers,
    which NumPy's functions turn into smaller floats (``np.sin`` of int8 or bool is float16, of int16
    float32), whose product with a float stays small."""
    return dtype.kind in "iu" and dtype.itemsize >= 4 or dtype == np.float64


def _integral(node):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and float(node.value).is_integer()


def _draws(obj):
    """Whether ``obj`` draws random numbers: NumPy's and Python's random modules, generators, and their methods."""
    owner = getattr(obj, "__self__", None)
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None) or ""
    return isinstance(obj, (np.random.Generator, np.random.RandomState, random.Random)) or \
        isinstance(owner, (np.random.Generator, np.random.RandomState, random.Random)) or \
        module == "random" or module.startswith("numpy.random")


_ALLOWED_BUILTINS = {builtins.abs, builtins.min, builtins.max, builtins.len, builtins.range, builtins.reversed,
                     builtins.zip, builtins.enumerate, builtins.float, builtins.sum, builtins.list, builtins.tuple}
_COUNTS = {np.where, np.sum, np.count_nonzero}              # (of truth values: the same numbers either way)


def _float_ufunc(obj):
    """A NumPy ufunc computing float64 from float64 (``np.sin``, ``np.add``; not ``np.isfinite``, whose booleans
    become float16 under the next function, condition 3)."""
    return isinstance(obj, np.ufunc) and "d" * obj.nin + "->" + "d" * obj.nout in obj.types


def _trusted(obj, depth=0):
    """Condition 4, an allow-list: what a name of the generated code may denote. Values: numbers, float64 (or 32/64-bit
    integer) arrays and NumPy scalars, strings that name no dtype, None, tuples of such, NumPy's, SciPy's, ``math``'s
    and s2sad's modules (their attributes are checked in turn). Functions: s2sad's generated code and helpers,
    ``math``'s functions, NumPy's float ufuncs (``_float_ufunc``) and ``_ALLOWED_BUILTINS``: code whose result on a
    Python float is NumPy's on an np.float64. Nothing else (a user's function, ``str``, ``next``, SciPy's
    distributions, a frozenset, a dtype class)."""
    if isinstance(obj, Link):
        return True
    if type(obj) is tuple:                                   # a table of constants, or of functions
        return depth < 3 and len(obj) <= 1000 and all(_trusted(v, depth + 1) for v in obj)
    if isinstance(obj, type) and issubclass(obj, np.generic):
        return obj is np.float64 or issubclass(obj, np.integer) and dtype_kept(np.dtype(obj))
    if isinstance(obj, types.ModuleType):
        return obj.__name__.split(".")[0] in _TRUSTED and not _draws(obj)
    if isinstance(obj, (np.ndarray, np.generic)):
        return dtype_kept(obj.dtype)
    if type(obj) in (int, float, type(None)) or obj is Ellipsis:
        return type(obj) is not int or abs(obj) <= 2 ** 53     # (Python compares a larger int exactly)
    if type(obj) is str:
        return not _DTYPE_TEXT.match(obj)
    if isinstance(obj, types.BuiltinFunctionType) and getattr(obj, "__module__", None) == "math":
        return obj.__name__ not in _MATH_NOT_FLOAT          # (booleans become float16 under NumPy's functions,
                                                            # ints past 2**53 compare exactly with a float)
    if _float_ufunc(obj) or any(obj is f for f in _ALLOWED_BUILTINS) or any(obj is f for f in _COUNTS) \
            or obj is np.clip:
        return True
    if isinstance(obj, types.FunctionType):
        code = obj.__code__.co_filename
        return code.startswith("<s2sad") or (obj.__module__ or "").split(".")[0] == "s2sad" and not _draws(obj)
    return False


def _attribute_chain(node):
    """``a.b.c`` -> ("a", ["b", "c"]), ``a`` -> ("a", []), else None."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return (node.id, attrs[::-1]) if isinstance(node, ast.Name) else None


def _resolved(node, denote):
    """What a name, or an attribute chain from one, denotes (``np.linalg.norm``); ``None`` for a local of the
    generated code, an attribute a value lacks, or another expression."""
    chain = _attribute_chain(node)
    if chain is None:
        return None
    try:
        obj = denote(chain[0])
    except KeyError:
        return None
    for attr in chain[1]:
        obj = getattr(obj, attr, None)
    return obj


def safe(text, denote):
    """Whether the generated function ``text`` may run on Python floats where the user passed ``np.float64``
    (the module docstring's conditions 1-6). ``denote(name)``: the object a free name of the text denotes,
    or ``KeyError`` for a local of the generated code."""
    tree = ast.parse(text)
    nodes = list(N.walk(tree))                       # (one walk: the checks below read the nodes several times)
    local = {n.id for n in nodes if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    local |= {a.arg for n in nodes if isinstance(n, ast.arguments)
              for a in n.posonlyargs + n.args + n.kwonlyargs + [n.vararg, n.kwarg] if a is not None}
    local |= {n.name for n in nodes if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    called = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
    parents = {child: node for node in nodes for child in ast.iter_child_nodes(node)}

    def denote_free(name):
        if name in local:
            raise KeyError(name)
        return denote(name)
    for node in nodes:
        if isinstance(node, ast.Compare) and not _safe_comparison(node, parents, tree, denote_free) \
                or isinstance(node, ast.arguments) and not _safe_defaults(node) \
                or isinstance(node, ast.Call) and not _safe_call(node, denote_free) \
                or not _safe_operation(node, parents) \
                or not _names_trusted(node, denote_free, called):
            return False
    return True


def _safe_comparison(node, parents, tree, denote):
    """Conditions 5 and 6 for a comparison: its result only tested or read as a truth value; no ``is`` (one float
    per conversion), ``==``/``in`` (``np.float64(0.7) == (0.7,)`` is an array) or display compared with."""
    return _truth_like(node, parents, tree, denote) \
        and not any(isinstance(op, (ast.Is, ast.IsNot, ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops) \
        and not any(isinstance(v, (ast.List, ast.Tuple, ast.Set, ast.Dict)) for v in [node.left] + node.comparators)


def _safe_defaults(arguments):
    """Condition 4 for the parameters' defaults (values the function computes with): trusted constants, no bool."""
    return all(isinstance(d, ast.Constant) and type(d.value) is not bool and _trusted(d.value)
               for d in arguments.defaults + [k for k in arguments.kw_defaults if k is not None])


def _safe_call(call, denote):
    """Conditions 1 and 4 for a call: a callee named (not made at run time: ``f(a)(x)``, ``fs[0](x)``), and no ufunc
    given ``out`` (a run again would change the array a second time)."""
    if not isinstance(call.func, (ast.Name, ast.Attribute)):
        return False
    obj = _resolved(call.func, denote)
    return not (isinstance(obj, np.ufunc) and (len(call.args) > obj.nin or call.keywords))


def _safe_operation(node, parents):
    """Conditions 2, 3 and 6 for an operation or a constant: no ``**`` with a non-integral exponent or an int base
    (``2 ** 60``: an int past 2**53, compared exactly), no ``%``/``//``, no ``not`` or bool as an operand (NumPy's
    functions make float16 of a boolean), no complex constant (Python's complex division rounds otherwise), no int
    past 2**53, no dtype string, no dunder attribute or f-string (the objects themselves)."""
    if isinstance(node, (ast.BinOp, ast.AugAssign)):
        exponent = node.right if isinstance(node, ast.BinOp) else node.value
        return not (isinstance(node.op, ast.Pow) and (not _integral(exponent) or isinstance(node, ast.BinOp)
                                                      and isinstance(node.left, ast.Constant)
                                                      and type(node.left.value) is int)
                    or isinstance(node.op, (ast.Mod, ast.FloorDiv)))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not isinstance(parents.get(node), (ast.Call, ast.BinOp))
    if isinstance(node, ast.Constant):
        value = node.value
        return not (type(value) is complex or type(value) is int and abs(value) > 2 ** 53
                    or type(value) is bool and isinstance(parents.get(node), (ast.Call, ast.BinOp, ast.UnaryOp))
                    or type(value) is str and _DTYPE_TEXT.match(value))
    return not (isinstance(node, ast.Attribute) and node.attr.startswith("__") or isinstance(node, ast.JoinedStr))


def _names_trusted(node, denote, called):
    """Condition 4: a free name, and an attribute chain from one, denote what ``_trusted`` allows; a method only of
    a local value's ``_SAFE_METHODS`` (a stack's ``append``)."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        try:
            return _trusted(denote(node.id))
        except KeyError:
            return True                                  # a local of the generated code
    if not isinstance(node, ast.Attribute):
        return True
    chain = _attribute_chain(node)
    if chain is None:
        return not isinstance(node.ctx, ast.Load) or node.attr in _SAFE_METHODS
    try:
        obj = denote(chain[0])
    except KeyError:                                     # a method of a local value (a stack, an array)
        return node.attr in _SAFE_METHODS or id(node) not in called
    for attr in chain[1]:
        if not isinstance(obj, types.ModuleType):
            return False                                 # an attribute of a user object
        obj = getattr(obj, attr, None)
        if not _trusted(obj):
            return False
    return True


def _reads_truth(call, arg, denote):
    """Whether ``call`` reads its argument ``arg`` (a comparison) as a truth value or a count: one of
    ``_MASK_CALLS`` (``np.where`` only as its condition), or one of s2sad's helpers (``_s2.*``)."""
    chain = _attribute_chain(call.func)
    if chain is not None and chain[0] == "_s2":
        return True
    obj = _resolved(call.func, denote)
    found = next((f for f in _MASK_CALLS if obj is f), None)
    return found is not None and (found is not np.where or call.args[:1] == [arg])


def _truth_like(node, parents, tree, denote, depth=0):
    """Condition 5: the value of ``node`` (a comparison) is used only where a Python ``bool`` and an ``np.bool_``
    give the same: tested, negated with ``not``, passed to a call reading a truth value (``_reads_truth``);
    through ``and``/``or`` and names assigned from it (every read of such a name so used)."""
    up = parents.get(node)
    if isinstance(up, (ast.If, ast.While, ast.IfExp, ast.Assert)) and up.test is node:
        return True
    if isinstance(up, ast.UnaryOp) and isinstance(up.op, ast.Not) or \
            isinstance(up, ast.Call) and node is not up.func and _reads_truth(up, node, denote):
        return True
    if isinstance(up, ast.BoolOp) and depth < 8:
        return _truth_like(up, parents, tree, denote, depth + 1)
    if isinstance(up, ast.Assign) and up.value is node and len(up.targets) == 1 \
            and isinstance(up.targets[0], ast.Name) and depth < 8:
        name = up.targets[0].id
        return all(_truth_like(n, parents, tree, denote, depth + 1) for n in N.walk(tree)
                   if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load))
    return False


def listed(text):
    """Positions of the parameters of the generated function ``text`` that may run as lists of floats where the
    user passed a 1-d float64 array (``converted``): the code only reads them item by item (``p[2]``, ``p[-1]``,
    ``a, b, c = p``, ``len(p)``) and makes their adjoint (``_s2.zeros_like(p)``, ``_s2.unpack_grad(p, ...)``,
    ``_s2.unindex(g, p, k)``),
    which a list of the same floats answers alike (a Python float where NumPy gives an np.float64: the route's
    conditions). Anything else (``p * 2``, ``np.sum(p)``, ``p[1:]``) keeps the array, and so does code without a
    loop (the list pays off only where items are read many times)."""
    tree = ast.parse(text)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    if not any(isinstance(n, (ast.For, ast.While)) for n in N.walk(fn)):
        return ()                      # each item read once: making the list would cost more than it saves
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    parents = {}
    for node in N.walk(fn):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    stores = {}
    for node in N.walk(fn):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            stores[node.id] = stores.get(node.id, 0) + 1
    constants = {n.targets[0].id for n in N.walk(fn) if isinstance(n, ast.Assign) and len(n.targets) == 1
                 and isinstance(n.targets[0], ast.Name) and stores[n.targets[0].id] == 1 and _int_constant(n.value)}
    bad = set()
    for node in N.walk(fn):
        if not (isinstance(node, ast.Name) and node.id in params):
            continue
        if not isinstance(node.ctx, ast.Load):
            bad.add(node.id)                                  # rebound: not the argument everywhere
            continue
        up = parents.get(node)
        if isinstance(up, ast.Subscript) and up.value is node and isinstance(up.ctx, ast.Load) \
                and (_int_constant(up.slice) or isinstance(up.slice, ast.Name) and up.slice.id in constants):
            continue
        if isinstance(up, ast.Assign) and up.value is node and all(isinstance(t, ast.Tuple) for t in up.targets):
            continue
        if isinstance(up, ast.Call) and len(up.args) == 3 and up.args[1] is node and isinstance(up.func, ast.Attribute) \
                and isinstance(up.func.value, ast.Name) and up.func.value.id == "_s2" and up.func.attr == "unindex" \
                and (_int_constant(up.args[2]) or isinstance(up.args[2], ast.Name) and up.args[2].id in constants):
            continue                                          # the adjoint of p[k]: a list's, like(...) makes it an array
        if isinstance(up, ast.Call) and node in up.args[:1] and (
                isinstance(up.func, ast.Name) and up.func.id == "len" or isinstance(up.func, ast.Attribute)
                and isinstance(up.func.value, ast.Name) and up.func.value.id == "_s2"
                and up.func.attr in ("zeros_like", "unpack_grad")):
            continue
        bad.add(node.id)
    return tuple(i for i, p in enumerate(params) if p not in bad and any(
        isinstance(n, ast.Name) and n.id == p for n in N.walk(fn) if n is not fn))


def _int_constant(node):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def denoter(bindings, resolved, fn_globals, cells):
    """``denote`` for ``safe``: the generated code's own bindings, then what its transform resolved, then the
    owner's closure cells and globals, then the builtins."""
    names = {}
    for (where, name), obj in resolved.items():
        if where != "attr" and isinstance(name, str):
            names[name] = obj
    missing = object()

    def denote(name):
        if name in bindings:
            return bindings[name]
        if name in names:
            return names[name]
        if name in cells:
            try:
                return cells[name].cell_contents
            except ValueError:
                raise KeyError(name) from None
        obj = fn_globals.get(name, missing)
        if obj is missing:
            obj = builtins.__dict__.get(name, missing)
        if obj is missing:
            raise KeyError(name)
        return obj
    return denote


def converted(args, lists=()):
    """``args`` with each ``np.float64`` a Python float, and each 1-d float64 array at a position in ``lists``
    (``listed``) a list of floats; None when there is nothing to convert or when an argument could make the
    route unsound (condition 3: an array of another float dtype, a float32 scalar, a container or object,
    whose items are not looked at)."""
    found = False
    out = []
    for i, a in enumerate(args):
        t = type(a)
        if t is np.float64:
            found = True
            a = float(a)
        elif t is float or t is int and abs(a) <= 2 ** 53 or a is None or t is str and not _DTYPE_TEXT.match(a):
            pass                                      # (a bool: NumPy's functions make float16 of it)
        elif t is np.ndarray:
            if not dtype_kept(a.dtype):
                return None
            if i in lists and a.ndim == 1 and a.dtype == np.float64:
                found = True
                a = a.tolist()
        elif not isinstance(a, np.integer) or not dtype_kept(a.dtype):
            return None
        out.append(a)
    return tuple(out) if found else None

