"""Which primitive a normalized statement applies, and to which atoms.

>>> import gast, numpy as np
>>> from s2sad.front.resolve import Scope
>>> op = classify(gast.parse("x.sum(axis=0)").body[0].value, Scope({"np": np}, local_names={"x"}))
>>> op.primitive is np.sum, [N.unparse(a) for a in op.args], sorted(op.kwargs)
(True, ['x'], ['axis'])
"""
import builtins
import operator
from dataclasses import dataclass, field

import gast
import numpy as np

from .. import nodes as N
from .. import tree
from ..front.resolve import MISSING
from ..rules import registry


class Marker:
    """A pseudo-primitive for statements that are not calls of an object."""

    def __init__(self, label):
        self.label = label

    def __repr__(self):
        return self.label


COPY = Marker("copy")              # y = x
PACK = Marker("pack")              # y = (a, b) / [a, b]
DICT = Marker("dict")              # y = {"a": a, "b": b}   (args: the values; keys in Op.keys)
APPEND = Marker("append")          # items.append(v)        (args: items, v)
UNKNOWN = Marker("unknown")        # a call or attribute s2sad cannot resolve to an object
NONDIFF_ATTRIBUTES = {"dtype", "itemsize", "nbytes", "strides", "flags", "__class__", "__name__"}

BINOPS = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul, gast.Div: operator.truediv,
          gast.Pow: operator.pow, gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod,
          gast.MatMult: operator.matmul, gast.BitAnd: operator.and_, gast.BitOr: operator.or_,
          gast.BitXor: operator.xor, gast.LShift: operator.lshift, gast.RShift: operator.rshift}
UNARYOPS = {gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Not: operator.not_, gast.Invert: operator.invert}
COMPARES = {gast.Lt: operator.lt, gast.LtE: operator.le, gast.Gt: operator.gt, gast.GtE: operator.ge,
            gast.Eq: operator.eq, gast.NotEq: operator.ne, gast.Is: operator.is_, gast.IsNot: operator.is_not,
            gast.In: operator.contains, gast.NotIn: operator.contains}
registry.nondiff(operator.lshift, operator.rshift)


@dataclass
class Op:
    primitive: object
    args: list                               # positional atoms (or index/value expressions)
    kwargs: dict = field(default_factory=dict)
    label: str = ""                          # how the user spelled it, for messages
    keys: list = None                        # for DICT: the key atoms
    integral: bool = False                   # a NumPy call asked for an integer or bool result (``dtype=int``)

    @property
    def nondiff(self):
        return self.integral or self.primitive is not UNKNOWN and not isinstance(self.primitive, Marker) \
            and registry.is_nondiff(self.primitive)


def classify(value, scope):
    """The Op a simple expression applies."""
    if isinstance(value, (gast.Name, gast.Constant)) or _module_ref(value, scope):
        return Op(COPY, [value], label="copy")
    if isinstance(value, (gast.Tuple, gast.List)):
        return Op(PACK, list(value.elts), label="literal")
    if isinstance(value, gast.Dict):
        return Op(DICT, list(value.values), label="dict literal", keys=list(value.keys))
    if isinstance(value, gast.BinOp):
        return Op(BINOPS[type(value.op)], [value.left, value.right], label=type(value.op).__name__)
    if isinstance(value, gast.UnaryOp):
        return Op(UNARYOPS[type(value.op)], [value.operand], label=type(value.op).__name__)
    if isinstance(value, gast.Compare):
        return Op(COMPARES[type(value.ops[0])], [value.left, value.comparators[0]], label="comparison")
    if isinstance(value, gast.Subscript):
        return Op(operator.getitem, [value.value, value.slice], label="indexing")
    if isinstance(value, gast.Attribute):
        primitive = registry.attribute_primitive(value.attr)
        if primitive is not None:
            return Op(primitive, [value.value], label=f".{value.attr}")
        if value.attr in NONDIFF_ATTRIBUTES:
            return Op(builtins.getattr, [value.value], label=f".{value.attr}")
        if value.attr in tree.ARRAY_ATTRIBUTES:
            return Op(UNKNOWN, [value.value], label=f"attribute .{value.attr}")
        # any other field: a namedtuple's (refused at run time for other objects)
        return Op(tree.attribute, [value.value, N.const(value.attr)], label=f".{value.attr}")
    if isinstance(value, gast.Call):
        return _classify_call(value, scope)
    if isinstance(value, gast.JoinedStr):
        return Op(builtins.str, [], label="f-string")
    return Op(UNKNOWN, [], label=type(value).__name__)


registry.nondiff(builtins.getattr)


def _module_ref(node, scope):
    """Whether ``node`` is ``module.attr...`` (a function of a module), not a method of a value (a global
    array's ``W0.sum``, a global list's ``HIST.append`` are methods, looked up by name like a local's)."""
    if not isinstance(node, gast.Attribute):
        return False
    root = node
    while isinstance(root, gast.Attribute):
        root = root.value
    if not (isinstance(root, gast.Name) and scope.is_free(root.id)):
        return False
    if isinstance(node.value, gast.Name) and isinstance(scope.lookup(node.value.id), (np.ndarray, list, dict, set)):
        return False                         # a global array's or list's method (``HIST.append(v)``)
    return True


def _classify_call(call, scope):
    op = _classify_plain_call(call, scope)
    dtype = op.kwargs.get("dtype")
    if dtype is not None and _integral(dtype, scope) and (op.label.startswith(".") or _numpy(op.primitive)):
        op.integral = True                  # np.sum(x, dtype=int), x.cumsum(dtype=np.int32): piecewise constant
    return op


def _classify_plain_call(call, scope):
    func = call.func
    kwargs = {k.arg: k.value for k in call.keywords}
    args = list(call.args)
    if isinstance(func, gast.Attribute) and not _module_ref(func, scope):
        entry = registry.method_primitive(func.attr)
        label = f".{func.attr}()"
        if func.attr == "append" and len(args) == 1 and not kwargs:
            return Op(APPEND, [func.value, args[0]], label=label)
        if entry is None:
            return Op(UNKNOWN, [func.value] + args, kwargs, label=f"method {label}")
        primitive, packs = entry
        if packs and len(args) > 1:
            args = [N.tup(args)]
        return Op(primitive, [func.value] + args, kwargs, label=label)
    obj = scope.resolve(func)
    label = _dotted(func)
    if obj is MISSING:
        return Op(UNKNOWN, args, kwargs, label=label)
    if isinstance(obj, type) and issubclass(obj, tuple) and hasattr(obj, "_fields") and tree.own_behaviour(obj) is None:
        fields = _namedtuple_fields(obj, args, kwargs)       # P(a, b=c): packs its fields
        if fields is not None:
            return Op(PACK, fields, label=label)
    if isinstance(obj, type) and tree.record_class(obj):
        fields = _record_fields(obj, args, kwargs)           # State(x, v=v): a record of them (tree.new_record)
        if fields is not None:
            return Op(tree.new_record, [func] + fields, label=label)
    return Op(obj, args, kwargs, label=label)


def _integral(node, scope):
    """Whether the ``dtype=`` argument ``node`` names an integer or bool dtype (``int``, ``np.int32``, ``"i4"``)."""
    value = node.value if isinstance(node, gast.Constant) else scope.resolve(node) \
        if isinstance(node, (gast.Name, gast.Attribute)) else None
    try:
        kind = np.dtype(value).kind if value is not None and value is not MISSING else None
    except TypeError:
        return False
    return kind in ("i", "u", "b")


def _numpy(obj):
    """NumPy's own function, or s2sad's stand-in for one (``np.add.reduce``'s, in s2sad/rules/numpy.py)."""
    module = getattr(obj, "__module__", None) or ("numpy" if isinstance(obj, np.ufunc) else "")
    return module.split(".")[0] == "numpy" or module == "s2sad.rules.numpy" \
        or isinstance(getattr(obj, "__self__", None), np.ufunc)


def _dotted(func):
    """The source text of a callee: ``np.linalg.norm`` spelt from its names (the common case, quickly), else
    unparsed."""
    parts, node = [], func
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, gast.Name):
        return ".".join([node.id] + parts[::-1])
    return N.unparse(func)


def _namedtuple_fields(cls, args, kwargs):
    defaults = getattr(cls, "_field_defaults", {})
    values = dict(zip(cls._fields, args))
    if len(args) > len(cls._fields) or set(kwargs) - set(cls._fields) or set(kwargs) & set(values):
        return None
    values.update(kwargs)
    out = []
    for f in cls._fields:
        if f in values:
            out.append(values[f])
        elif f in defaults and type(defaults[f]) in (int, float, bool, str, type(None)):
            out.append(N.const(defaults[f]))
        else:
            return None
    return out


def _record_fields(cls, args, kwargs):
    """The values of a record class's attributes in ``cls(*args, **kwargs)``, in its constructor's order (a literal
    default where none is given), else None."""
    params = tree.record_parameters(cls)
    names = [p for p, _, _ in params]
    values = dict(zip(names, args))
    if len(args) > len(names) or set(kwargs) - set(names) or set(kwargs) & set(values):
        return None
    values.update(kwargs)
    out = []
    for name, _, default in params:
        if name in values:
            out.append(values[name])
        elif default is not tree.NO_DEFAULT:
            out.append(N.const(default))
        else:
            return None
    return out


def names_in(node):
    """The variable names an atom (or index expression) reads (inside a lambda, not its own parameters)."""
    names, lambdas = [], False
    for n in N.walk(node):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
            names.append(n.id)
        elif isinstance(n, gast.Lambda):
            lambdas = True
    return _names_outside_lambda_params(node, frozenset()) if lambdas else names


def _names_outside_lambda_params(node, bound):
    if isinstance(node, gast.Lambda):
        args = node.args
        own = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs} | \
            {a.id for a in (args.vararg, args.kwarg) if a is not None}
        return [n for d in list(args.defaults) + [d for d in args.kw_defaults if d is not None]
                for n in _names_outside_lambda_params(d, bound)] + _names_outside_lambda_params(node.body, bound | own)
    if isinstance(node, gast.Name):
        return [node.id] if isinstance(node.ctx, gast.Load) and node.id not in bound else []
    return [n for child in gast.iter_child_nodes(node) for n in _names_outside_lambda_params(child, bound)]
