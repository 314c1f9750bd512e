"""Adjoints of containers: tuples, lists, dicts and namedtuples of arrays ("pytrees"), and of records
(dataclass instances and plain objects whose attributes hold arrays).

The adjoint of a container is a container of the same shape whose ``+`` adds
element by element, so generated code accumulates with a plain ``x_bar = x_bar + c``
whatever ``x`` holds. ``None`` stands for an element whose adjoint is zero (nothing
flowed into it); ``like`` turns it into real zeros when the gradient is handed back.

>>> t = AdjTuple((1.0, None)) + (2.0, 3.0)
>>> t, type(t).__name__
((3.0, 3.0), 'AdjTuple')
>>> AdjDict({"w": None}) + {"w": 2.0}
{'w': 2.0}
"""
import dataclasses
import functools
import inspect
import textwrap
import types

import numpy as np

__all__ = ["AdjTuple", "AdjList", "AdjDict", "AdjFields", "add", "is_record", "fields_of", "adjoint_of", "part", "parts", "pack", "unattr", "attribute", "is_container",
           "container_unindex", "appended", "append_grads"]


def add(a, b):
    """``a + b`` for adjoints, where None is zero and containers add element by element."""
    if a is None:
        return b
    if b is None:
        return a
    if is_container(a) or is_container(b):
        return adjoint_of(a) + adjoint_of(b)
    return a + b


def adjoint_of(g):
    """A plain container (a user's cotangent, a rule's tuple) as an adjoint that adds element by element."""
    if isinstance(g, (AdjTuple, AdjList, AdjDict, AdjFields)):
        return g
    if not is_container(g):
        return AdjFields({k: adjoint_of(v) for k, v in fields_of(g).items()}) if is_record(g) else g
    if isinstance(g, dict):
        return AdjDict({k: adjoint_of(v) for k, v in g.items()})
    if isinstance(g, list):
        return AdjList(adjoint_of(v) for v in g)
    return AdjTuple(adjoint_of(v) for v in g)


class AdjTuple(tuple):
    def __add__(self, other):
        if other is None:                  # (None: an adjoint nothing flowed into)
            return self
        return AdjTuple(add(x, y) for x, y in zip(self, other))

    __radd__ = __add__


class AdjList(list):
    def __add__(self, other):
        if other is None:                  # (None: an adjoint nothing flowed into)
            return self
        return AdjList(add(x, y) for x, y in zip(self, other))

    __radd__ = __add__


class AdjDict(dict):
    def __add__(self, other):
        if other is None:                  # (None: an adjoint nothing flowed into)
            return self
        return AdjDict({k: add(self.get(k), other.get(k)) for k in self.keys() | other.keys()})

    __radd__ = __add__


class AdjFields(dict):
    """The adjoint (or tangent) of a record: its fields' adjoints by name, added field by field; ``g.w``
    reads a field as ``record.w`` does (None: nothing flowed into it)."""
    def __add__(self, other):
        if other is None:                  # (None: an adjoint nothing flowed into)
            return self
        other = adjoint_of(other)          # (a record of the user's type: a gradient s2sad's API returned)
        return AdjFields({k: add(self.get(k), other.get(k)) for k in self.keys() | other.keys()})

    __radd__ = __add__

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def is_record(x):
    """A dataclass instance or a plain object with attributes: not a container, array, number, function,
    class or module (an object of a user's class defining ``__call__``, a layer, is one)."""
    if isinstance(x, (tuple, list, dict, np.ndarray, np.generic, float, int, complex, str, bytes, type,
                      types.ModuleType)) or callable(x) and not called_like_a_function(x):
        return False
    return hasattr(type(x), "__dataclass_fields__") or hasattr(x, "__dict__")


def called_like_a_function(x):
    """An object of a user's class whose ``__call__`` is a method written in Python (``layer(x)``), not a
    function, a partial, a ufunc or one of s2sad's own callables."""
    kind = type(x)
    return isinstance(getattr(kind, "__call__", None), types.FunctionType) and \
        (getattr(kind, "__module__", None) or "builtins").split(".")[0] not in ("s2sad", "functools", "numpy",
                                                                               "scipy", "builtins")


def differentiable_field(v, depth=0):
    if isinstance(v, (np.ndarray, np.generic)):
        return v.dtype.kind in "fc"
    if isinstance(v, (float, int)):
        return type(v) is float
    if isinstance(v, (tuple, list, dict)):
        return True
    return depth < 8 and is_record(v)


def fields_of(x, depth=0):
    """A record's fields that may carry a derivative (floats, float arrays, containers, records), by name:
    a dataclass's declared fields, a plain object's attributes. Its other fields (ints and integer arrays,
    strings, functions) are settings: a gradient of the record holds them unchanged."""
    declared = getattr(type(x), "__dataclass_fields__", None)      # (dataclasses.fields, without the import)
    names = [n for n, f in declared.items() if getattr(f._field_type, "name", "_FIELD") == "_FIELD"] \
        if declared is not None else list(vars(x))
    return {n: getattr(x, n) for n in names if differentiable_field(getattr(x, n), depth)}


def _slots_and_attributes(x):
    names = list(getattr(x, "__dict__", ()))
    return names + [n for n in getattr(type(x), "__dataclass_fields__", ()) if n not in names and hasattr(x, n)]


def field(g, name):
    """Field ``name`` of a record's adjoint or tangent: an AdjFields, a record of the same type (a tangent
    the user passes), or None (nothing flowed)."""
    if g is None:
        return None
    return g.get(name) if isinstance(g, dict) else getattr(g, name, None)


def is_container(x):
    return isinstance(x, (tuple, list, dict))


def _adjoint_of(x, items):
    if isinstance(x, dict):
        return AdjDict(items)
    if isinstance(x, list):
        return AdjList(items)
    return AdjTuple(items)


def pack(*items):
    """The adjoint of a tuple whose element adjoints are ``items`` (None where zero)."""
    return AdjTuple(adjoint_of(v) for v in items)


def part(g, key, x):
    """The adjoint of element ``x`` found at ``g[key]``: zeros when nothing flowed into it."""
    item = None if g is None else g[key]
    if item is None:
        from .runtime import zeros_like
        return zeros_like(x)
    if type(item) is float:
        return item
    return adjoint_of(item)


def parts(g, likes):
    """``part(g, i, x)`` for each ``x`` of ``likes``, in one tuple (``None`` for an ``x`` that is None)."""
    return tuple(None if x is None else part(g, i, x) for i, x in enumerate(likes))


def container_unindex(g, x, key):
    """Adjoint of ``x[key]`` for a container ``x``: ``g`` at ``key``, None elsewhere."""
    g = adjoint_of(g)
    if isinstance(x, dict):
        return AdjDict({k: (g if k == key else None) for k in x})
    n = len(x)
    if isinstance(key, slice):
        items = [None] * n                  # g's items in the slice's order (a negative step walks backwards)
        for i, item in zip(range(n)[key], g):
            items[i] = item
        return _adjoint_of(x, items)
    key = key % n
    return _adjoint_of(x, [g if i == key else None for i in range(n)])


def attribute(obj, name):
    """``obj.name`` as a function (the primitive behind a field read of a namedtuple or a record; a record's
    adjoint or tangent held as AdjFields has no entry where nothing flowed)."""
    if isinstance(obj, AdjFields):
        return obj.get(name)
    return getattr(obj, name)


def stored(obj, name):
    """Whether ``obj.name`` is a value the object holds (a field: its derivative is the field's), not one its class
    computes (a property, ``functools.cached_property``, ``__getattr__``: refused, the code computing it is not
    seen) or a class attribute (a constant: no derivative, None)."""
    kind = type(obj)
    attribute = getattr(kind, name, None) if not isinstance(obj, tuple) or name not in getattr(kind, "_fields", ()) \
        else None
    slot = isinstance(attribute, types.MemberDescriptorType)        # a field held in a slot (`slots=True`)
    computed = attribute is not None and not slot and (isinstance(attribute, (property, functools.cached_property))
                                                       or hasattr(attribute, "__get__") and not callable(attribute))
    if computed or attribute is None and not _holds(obj, name) and hasattr(kind, "__getattr__"):
        from .errors import UnsupportedValueError
        raise UnsupportedValueError(f"s2sad: `.{name}` of a {kind.__name__} is computed by its class (a property or "
                                    "__getattr__), which s2sad does not see into; read the fields it computes from "
                                    "(or make it a method called with them)")
    if attribute is not None and not slot and not _holds(obj, name):
        return None                                   # a class attribute: the same for every object, no derivative
    return True


def property_getter(obj, name):
    """The getter of ``obj.name`` when the object's class computes it with a ``@property`` written in Python, else
    None: its derivative is the getter's, which s2sad differentiates as a method of the object (``unattr``,
    ``field_tangent``; first order: ``computed_flat`` refuses a derivative of that derivative)."""
    kind = type(obj)
    if isinstance(obj, tuple) and name in getattr(kind, "_fields", ()) or name in getattr(obj, "__dict__", ()):
        return None
    attribute = getattr(kind, name, None)
    return attribute.fget if isinstance(attribute, property) and isinstance(attribute.fget, types.FunctionType) \
        else None


def computed_flat(obj, name, zero=None):
    """``zero`` (a rule's entry for ``obj``, flat in it: a field's tangent or adjoint is linear in the object's and
    does not depend on its value); refused where ``obj.name`` is a property, whose derivative does."""
    if property_getter(obj, name) is not None:
        from .errors import UnsupportedValueError
        raise UnsupportedValueError(f"s2sad: `.{name}` of a {type(obj).__name__} is a property: its first derivative "
                                    "is followed (its getter's), a higher one is not yet; read the fields it computes "
                                    "from (or make it a method called with them)")
    return zero


def _holds(obj, name):
    fields = getattr(type(obj), "_fields", None)
    if isinstance(obj, tuple) and fields is not None:
        return name in fields
    return name in getattr(obj, "__dict__", ()) or name in getattr(type(obj), "__dataclass_fields__", ()) \
        or isinstance(obj, dict) and name in obj


def unattr(g, obj, name):
    """Adjoint of the field ``obj.name`` of a namedtuple (a tuple of adjoints) or a record (its fields'
    adjoints by name); a class attribute has none; a property's is its getter's, another computed one is refused
    (``stored``)."""
    getter = property_getter(obj, name)
    if getter is not None:
        from .nested import dynamic_vjp
        return dynamic_vjp(getter, (0,), obj)[1](g)
    constant = stored(obj, name) is None          # (a class attribute: nothing flows to the object)
    fields = getattr(type(obj), "_fields", None)
    if fields is not None:
        return AdjTuple(g if f == name and not constant else None for f in fields)
    if constant:
        return AdjFields({})
    if isinstance(obj, dict) and name in obj:
        return AdjDict({name: g})                  # a result whose attributes are its keys (solve_ivp's OdeResult)
    if is_record(obj):
        return AdjFields({name: adjoint_of(g)})
    raise TypeError(f"s2sad: cannot differentiate attribute .{name} of a {type(obj).__name__} "
                    "(namedtuple fields, dataclass fields and plain objects' attributes are differentiable)")


def field_tangent(t, ans, obj, name):
    """Tangent of the field ``obj.name`` (``ans``) given the tangent ``t`` of ``obj``: a record's setting
    (an int, a string: not in ``fields_of``) has none, whatever the tangent record passed holds there; a
    property's is its getter's."""
    getter = property_getter(obj, name)
    if getter is not None:
        from .nested import dynamic_jvp
        return dynamic_jvp(getter, (obj,), (t,))[1]
    if is_record(obj) and not differentiable_field(ans) or stored(obj, name) is None:
        from .runtime import zeros_like                # (a class attribute: a constant)
        return zeros_like(ans)
    fields = getattr(type(obj), "_fields", ())
    if (type(t) is tuple or type(t) is AdjTuple) and name in fields:   # a rule's tangent of a namedtuple result,
        return t[fields.index(name)]                  # as a plain tuple (np.linalg.slogdet(a).logabsdet); a zero one
    return attribute(t, name)


def appended(items, value):
    """``items.append(value)`` as a function: appends in place and returns the list."""
    items.append(value)
    return items


def append_grads(g, items=None):
    """Adjoints of ``appended(items, value)``: the list before the append, and the value (where nothing flowed
    into the list, a list of rows none of which was read: 0.0, a zero the value's rules compute with)."""
    if g is None or type(g) is float:              # (0.0: a list appended to a list nothing flowed into)
        return None, 0.0
    return AdjList(g[:-1]), adjoint_of(g[-1])


def like_tree(g, x, leaf):
    """``g`` shaped as ``x`` (a container), each leaf converted by ``leaf(g_leaf, x_leaf)``."""
    if isinstance(x, dict):
        return {k: like_tree(None if g is None else g.get(k), v, leaf) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        items = [like_tree(None if g is None else g[i], v, leaf) for i, v in enumerate(x)]
        if isinstance(x, list):
            return items
        if hasattr(type(x), "_fields"):
            return type(x)(*items)
        return tuple(items)
    if is_record(x):                              # a copy of the record whose differentiable fields hold g's
        out = object.__new__(type(x))
        for name in _slots_and_attributes(x):
            object.__setattr__(out, name, getattr(x, name))
        for name, v in fields_of(x).items():
            object.__setattr__(out, name, like_tree(field(g, name), v, leaf))
        return out
    return leaf(g, x)


def zeros_tree(x, leaf_zeros):
    return like_tree(None, x, lambda g, v: leaf_zeros(v))


def flatten(x):
    """The leaves of a container (arrays and numbers), in a fixed order."""
    if isinstance(x, dict):
        return [leaf for k in x for leaf in flatten(x[k])]
    if isinstance(x, (tuple, list)):
        return [leaf for v in x for leaf in flatten(v)]
    return [x]


def unflatten(leaves, like):
    """The inverse of ``flatten``: a container shaped like ``like`` holding ``leaves``."""
    it = iter(leaves)

    def build(x):
        if isinstance(x, dict):
            return {k: build(v) for k, v in x.items()}
        if isinstance(x, (tuple, list)):
            items = [build(v) for v in x]
            if isinstance(x, list):
                return items
            return type(x)(*items) if hasattr(type(x), "_fields") else tuple(items)
        return next(it)
    return build(like)


_OPERATORS = ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__", "__matmul__",
              "__rmatmul__", "__neg__", "__pos__", "__abs__", "__float__", "__int__", "__index__", "__array__",
              "__array_ufunc__", "__array_function__", "__getitem__", "__iadd__", "__isub__", "__imul__",
              "__itruediv__", "__ifloordiv__", "__imod__", "__ipow__", "__imatmul__", "__invert__", "__lshift__",
              "__rlshift__", "__rshift__", "__rrshift__", "__and__", "__rand__", "__or__", "__ror__", "__xor__",
              "__rxor__", "__round__", "__trunc__", "__floor__", "__ceil__", "__complex__", "__getattribute__")
_own_behaviours = {}


def own_behaviour(cls):
    """What a record's class does that its fields do not say, else None: its own operators (``-a``, ``a * k``,
    ``a[0]``, ``np.asarray(a)``), a descriptor computing an attribute (``@property`` is refused where it is read),
    a namedtuple's own ``__new__`` (s2sad builds gradients and tangents through the constructor). Per class."""
    if cls not in _own_behaviours:
        _own_behaviours[cls] = next((found for klass in cls.__mro__ for found in [_own_in(klass)] if found), None)
    return _own_behaviours[cls]


_NAMEDTUPLE_MADE = frozenset({"__doc__", "__slots__", "_fields", "_field_defaults", "__new__", "_make", "_replace",
                              "__repr__", "_asdict", "__getnewargs__", "__match_args__", "__module__", "__qualname__",
                              "__orig_bases__", "__annotations__", "__annotate__", "__static_attributes__",
                              "__firstlineno__", "__weakref__", "__dict__"})


def _own_in(klass):
    own = vars(klass)
    if klass in (object, tuple):
        return None
    made = _NAMEDTUPLE_MADE | set(own["_fields"]) if "_fields" in own and "_make" in own else frozenset()
    hit = next((n for n in _OPERATORS if n in own and n not in made), None)    # (a namedtuple class: what
    if hit is not None:                                                         # namedtuple made is tuple's own;
        return f"defines `{hit}`"                                               # what the user added counts)
    if "__new__" in own and issubclass(klass, tuple) and "__new__" not in made:
        return "defines its own `__new__`"
    for name, value in own.items():
        if name in made:
            continue
        if made and name in ARRAY_ATTRIBUTES:          # (a tuple's `p.mean()`, `p.T` are read as NumPy's)
            return f"defines `{name}`, named like an array's"
        kind = type(value)
        if not name.startswith("__") and hasattr(kind, "__get__") and kind.__module__ != "builtins" \
                and not isinstance(value, (staticmethod, classmethod, property)):
            return f"computes its attribute `{name}` with a descriptor ({kind.__name__})"
        if isinstance(value, property) and name in ARRAY_ATTRIBUTES:     # (`p.real`, `p.T` read as NumPy's)
            return f"computes its attribute `{name}`, named like an array's, with a property"
    return None


def plain_dataclass(cls):
    """Whether ``cls(*values)`` only stores ``values`` in its fields: a dataclass with the ``__init__`` dataclasses
    writes (every field an argument of it, no ``__post_init__``), whose class adds no behaviour of its own
    (``own_behaviour``). Its objects made inside differentiated code are records like the ones passed in."""
    if not (isinstance(cls, type) and hasattr(cls, "__dataclass_fields__")) or own_behaviour(cls) is not None \
            or hasattr(cls, "__post_init__") or not getattr(cls.__dataclass_params__, "init", False):
        return False
    init = cls.__dict__.get("__init__")
    if init is None or getattr(getattr(init, "__code__", None), "co_filename", None) != "<string>":
        return False                                   # (an __init__ written by hand, or inherited)
    fields = list(cls.__dataclass_fields__.values())
    return all(f.init and f._field_type is dataclasses._FIELD and f.name not in ARRAY_ATTRIBUTES for f in fields)


# the names of an array's attributes and methods: a field, a property or a method so named is read as NumPy's
ARRAY_ATTRIBUTES = frozenset(n for n in dir(np.ndarray) if not n.startswith("_"))


def record_class(cls):
    """Whether ``cls(*values)`` only stores ``values`` as its attributes: a plain dataclass, or a class whose
    own ``__init__`` does nothing else (``record_parameters``). Its objects made inside differentiated code are
    records like the ones passed in."""
    return record_parameters(cls) is not None


NO_DEFAULT = object()        # (a parameter without a literal default: it must be given)


def record_parameters(cls):
    """For a record class (``record_class``): its constructor's parameters as ``(parameter, attribute, default)``
    in order (``NO_DEFAULT`` where the default is missing or not a literal), else None. A class with an
    ``__init__`` of its own qualifies when its body only stores each parameter once, ``self.W = W`` (a docstring
    aside), in attributes not named like an array's, and the class adds no behaviour (``own_behaviour``, no
    ``__new__``/``__setattr__``/``__slots__``, no other ``__init__`` up its bases)."""
    if not isinstance(cls, type):
        return None
    init = getattr(cls, "__init__", None)             # (cached per class and __init__: one replaced is read again)
    got = _record_parameters.get(cls)
    if got is None or got[0] is not init:
        got = _record_parameters[cls] = (init, _parameters_of(cls))
    return got[1]


_record_parameters = {}
_LITERALS = (int, float, bool, str, type(None))


def _parameters_of(cls):
    if type(cls).__call__ is not type.__call__:       # (a metaclass making the object its own way)
        return None
    if plain_dataclass(cls):
        return [(name, name, f.default if type(f.default) in _LITERALS else NO_DEFAULT)
                for name, f in cls.__dataclass_fields__.items() if f._field_type is dataclasses._FIELD]
    owners = [k for k in cls.__mro__[:-1] if "__init__" in vars(k)]       # (maybe inherited, maybe calling its base's)
    if hasattr(cls, "__dataclass_fields__") or own_behaviour(cls) \
            or (getattr(cls, "__module__", "") or "").split(".")[0] in ("builtins", "numpy", "scipy", "s2sad") \
            or any(k.__dict__.get(n) for k in cls.__mro__[:-1] for n in ("__new__", "__setattr__", "__slots__",
                                                                           "__getattr__", "__delattr__")):
        return None
    got = _init_stores(owners) if owners else None
    if got is None:
        return None
    params, stored, defaults = got
    attributes = [stored[p] for p in params]
    if len(set(attributes)) != len(attributes) or set(attributes) & ARRAY_ATTRIBUTES or any(
            hasattr(inspect.getattr_static(cls, a, None), "__set__") or a.startswith("__") for a in attributes):
        return None                                   # (a property's setter, a mangled name: not a plain store)
    return [(p, stored[p], d) for p, d in zip(params, defaults)]


def _init_stores(owners):
    """(parameters, parameter -> the attribute it is stored in, literal defaults or NO_DEFAULT) of the ``__init__``
    of ``owners[0]`` (the classes up a record class's bases defining one, in order), when its body only stores
    each parameter once (``self.W = W``, ``self.W: T = W``, ``self.W, self.b = W, b``, a docstring and ``pass``
    aside), after, first, ``super().__init__(a, b)`` given parameters the base's ``__init__`` stores in turn;
    ``object``'s stores nothing. Else None."""
    if not owners:
        return [], {}, []
    init = vars(owners[0])["__init__"]
    if not isinstance(init, types.FunctionType) or hasattr(init, "__wrapped__"):
        return None                                   # (a decorated __init__: its source is not what runs)
    import ast
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
    except (OSError, TypeError, SyntaxError):
        return None
    fn = tree.body[0] if tree.body and isinstance(tree.body[0], ast.FunctionDef) else None
    if fn is None or fn.decorator_list or fn.args.posonlyargs or fn.args.vararg or fn.args.kwonlyargs \
            or fn.args.kwarg or not fn.args.args:
        return None
    me, params = fn.args.args[0].arg, [a.arg for a in fn.args.args[1:]]
    if me in params:
        return None
    body = fn.body[1:] if fn.body and isinstance(fn.body[0], ast.Expr) and isinstance(fn.body[0].value, ast.Constant) \
        and isinstance(fn.body[0].value.value, str) else fn.body
    stored = {}
    call = body[0].value if body and isinstance(body[0], ast.Expr) else None
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "__init__" \
            and isinstance(call.func.value, ast.Call) and isinstance(call.func.value.func, ast.Name) \
            and call.func.value.func.id == "super" and not call.func.value.args and not call.func.value.keywords:
        base = _init_stores(owners[1:])               # super().__init__(W): the next __init__ up the bases
        given = [a.id for a in call.args if isinstance(a, ast.Name) and a.id in params]
        if base is None or call.keywords or len(given) != len(call.args) or len(given) != len(base[0]) \
                or len(set(given)) != len(given):
            return None
        stored = {p: base[1][q] for p, q in zip(given, base[0])}
        body = body[1:]
    pairs = []                                        # (attribute node, value node)
    for st in body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Tuple) \
                and isinstance(st.value, ast.Tuple) and len(st.targets[0].elts) == len(st.value.elts):
            pairs.extend(zip(st.targets[0].elts, st.value.elts))
        elif isinstance(st, ast.Assign) and len(st.targets) == 1:
            pairs.append((st.targets[0], st.value))
        elif isinstance(st, ast.AnnAssign) and st.value is not None:
            pairs.append((st.target, st.value))
        elif not isinstance(st, ast.Pass):
            return None
    for target, value in pairs:
        if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == me
                and isinstance(value, ast.Name) and value.id in params and value.id not in stored):
            return None
        stored[value.id] = target.attr
    if set(stored) != set(params):
        return None
    defaults = list(init.__defaults__ or ())
    defaults = [NO_DEFAULT] * (len(params) - len(defaults)) + [d if type(d) in _LITERALS else NO_DEFAULT
                                                               for d in defaults]
    return params, stored, defaults


def record_fields_in_order(cls):
    """The attributes a record class (``record_class``) stores, in its constructor's order."""
    _still_a_record(cls)
    return [attribute for _, attribute, _ in record_parameters(cls)]


def new_record(cls, *values):
    """``cls(*values)`` for a record class (``record_class``): what the user's call makes (a class changed since
    its derivative code was written, its ``__init__`` replaced, is refused where the code runs)."""
    _still_a_record(cls)
    return cls(*values)


def _still_a_record(cls):
    if not record_class(cls):
        from .errors import UnsupportedValueError
        raise UnsupportedValueError(f"s2sad: the class {cls.__name__} changed since its derivative code was written "
                                    "(its __init__ now does more than store its parameters); make the objects before "
                                    "differentiating, or keep the class as it was")


def new_record_grads(g, cls, values):
    """Adjoints of ``values`` in ``new_record(cls, *values)`` given the record's adjoint ``g``: its fields'."""
    names = record_fields_in_order(cls)
    return [field(g, name) if differentiable_field(v) else None for name, v in zip(names, values)]


def record_adjoint(h, cls, values):
    """The record adjoint holding ``h`` (one adjoint per value, as ``new_record_grads`` gives them) in the fields
    of ``cls`` (the adjoint of ``g`` in ``new_record_grads``; linear)."""
    names = record_fields_in_order(cls)
    return AdjFields({name: adjoint_of(a) for name, v, a in zip(names, values, h or ())
                      if a is not None and differentiable_field(v)})


def new_record_tangent(t, ans, values):
    """Tangent of ``new_record(cls, *values)``: a record of ``ans``'s class holding the values' tangents (``t``, one
    per value; zeros where None), its settings as ``ans`` holds them."""
    from .runtime import zeros_like
    out = object.__new__(type(ans))
    for name in _slots_and_attributes(ans):
        object.__setattr__(out, name, getattr(ans, name))
    for name, v, tv in zip(record_fields_in_order(type(ans)), values, t):
        if differentiable_field(v):
            object.__setattr__(out, name, zeros_like(v) if tv is None else tv)
    return out
