"""Adjoints of containers: tuples, lists, dicts and namedtuples of arrays ("pytrees").

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
__all__ = ["AdjTuple", "AdjList", "AdjDict", "add", "adjoint_of", "part", "parts", "pack", "unattr", "attribute", "is_container",
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
    if isinstance(g, (AdjTuple, AdjList, AdjDict)) or not is_container(g):
        return g
    if isinstance(g, dict):
        return AdjDict({k: adjoint_of(v) for k, v in g.items()})
    if isinstance(g, list):
        return AdjList(adjoint_of(v) for v in g)
    return AdjTuple(adjoint_of(v) for v in g)


class AdjTuple(tuple):
    def __add__(self, other):
        return AdjTuple(add(x, y) for x, y in zip(self, other))

    __radd__ = __add__


class AdjList(list):
    def __add__(self, other):
        return AdjList(add(x, y) for x, y in zip(self, other))

    __radd__ = __add__


class AdjDict(dict):
    def __add__(self, other):
        return AdjDict({k: add(self.get(k), other.get(k)) for k in self.keys() | other.keys()})

    __radd__ = __add__


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
        chosen = set(range(n)[key])
        picks = iter(g)
        return _adjoint_of(x, [next(picks) if i in chosen else None for i in range(n)])
    key = key % n
    return _adjoint_of(x, [g if i == key else None for i in range(n)])


def attribute(obj, name):
    """``obj.name`` as a function (the primitive behind a namedtuple field read)."""
    return getattr(obj, name)


def unattr(g, obj, name):
    """Adjoint of the namedtuple field ``obj.name`` (or of the entry ``name`` of a dict read as an attribute)."""
    fields = getattr(type(obj), "_fields", None)
    if fields is None and isinstance(obj, dict) and name in obj:
        return AdjDict({name: g})                  # a result whose attributes are its keys (solve_ivp's OdeResult)
    if fields is None:
        raise TypeError(f"s2sad: cannot differentiate attribute .{name} of a {type(obj).__name__} "
                        "(only namedtuple fields are differentiable)")
    return AdjTuple(g if f == name else None for f in fields)


def appended(items, value):
    """``items.append(value)`` as a function: appends in place and returns the list."""
    items.append(value)
    return items


def append_grads(g, items=None):
    """Adjoints of ``appended(items, value)``: the list before the append, and the value."""
    if g is None:
        return None, None
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
