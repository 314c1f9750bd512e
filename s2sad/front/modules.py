"""Local names for modules and library functions: ``xp = np``, ``la = np.linalg``, ``at = np.add.at``, bound once,
read as what they name.

Array-API style code names its module locally (``xp = np; return xp.sum(xp.sin(x))``). Rules are found
by the object a call's name resolves to (front/resolve.py), which a local name does not: each read of such
a name is replaced by the expression it was bound to, and the binding dropped::

    xp = np                        ->
    return xp.sum(xp.sin(x))       ->      return np.sum(np.sin(x))

Sound where the name is bound once, by a statement of the function's own body (not in a branch or loop),
to an expression that resolves to a module or a library's function through the function's globals and closure
(a module's attributes are read when the function runs, as the replaced reads do), and is read only after that
statement, and is no parameter and bound nowhere else (nested functions included).

>>> from s2sad.front.normalize import show
>>> from s2sad.unit import unit_for_text
>>> import numpy as np
>>> unit = unit_for_text('''
... def f(x):
...     la = np.linalg
...     y = x * 2
...     return la.norm(y)
... ''', {"np": np})
>>> print(show(run(unit.source.tree, unit)))
def f(x):
    y = x * 2
    return np.linalg.norm(y)
"""
import types

import gast
import numpy as np

from .. import nodes as N
from .. import runtime
from ..errors import UnsupportedSyntaxError


def run(tree, unit):
    """``tree`` with the reads of local module names replaced (a copy; ``tree`` itself if there are none)."""
    stored = _stored(tree)
    found = _module_names(tree, unit, stored)
    passed = _module_parameters(tree, unit)
    found.update({name: ref for name, (_, ref) in passed.items()})
    found.update(_imported(tree, unit, stored))
    if not found:
        return tree
    tree = N.clone(tree)
    keep = []
    for s in tree.body:
        if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
                and s.targets[0].id in found or isinstance(s, (gast.Import, gast.ImportFrom)):
            continue
        keep.append(s)
    tree.body = keep
    for node in N.walk(tree):
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.Name) and value.id in found and isinstance(value.ctx, gast.Load):
                setattr(node, field, N.located(N.clone(found[value.id]), value))
            elif isinstance(value, list):
                value[:] = [N.located(N.clone(found[v.id]), v) if isinstance(v, gast.Name) and v.id in found
                            and isinstance(v.ctx, gast.Load) else v for v in value]
    checks = [N.located(gast.Expr(value=N.call(unit.aliases.ref(runtime.module_argument, "module_argument"),
                                               [N.name(name), N.clone(ref), N.const(name)])), tree.body[0])
              for name, (_, ref) in sorted(passed.items())]
    tree.body = checks + tree.body
    return tree


def _module_parameters(tree, unit):
    """name -> (module, the expression the generated code names it by) for each parameter whose default is a module
    (``def f(x, xp=np)``) and that the function never rebinds: read as that module, with a check where the code
    runs that the module passed is the default (``runtime.module_argument``)."""
    fn = getattr(unit, "fn", None)
    if fn is None or not tree.body or not hasattr(fn, "__defaults__"):
        return {}
    args = tree.args
    positional = [a.id for a in args.posonlyargs + args.args]
    defaults = dict(zip(positional[len(positional) - len(fn.__defaults__ or ()):], fn.__defaults__ or ()))
    defaults.update(fn.__kwdefaults__ or {})
    own = {id(a) for a in args.posonlyargs + args.args + args.kwonlyargs}
    stored = {n.id for n in N.walk(tree) if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)
              and id(n) not in own}                 # (a nested function's or lambda's parameter of that name too)
    out = {}
    for name, value in defaults.items():
        if isinstance(value, types.ModuleType) and name not in stored:
            preferred = next((k for k, v in fn.__globals__.items() if v is value and k.isidentifier()),
                             value.__name__.split(".")[-1])
            out[name] = (value, unit.aliases.ref(value, preferred))
    return out


def _stored(tree):
    """name -> how often ``tree`` binds it (2 for a parameter or a nested definition: never a module name)."""
    stored = {}
    for node in N.walk(tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            stored[node.id] = stored.get(node.id, 0) + 1
        elif isinstance(node, gast.arguments):
            for a in node.posonlyargs + node.args + node.kwonlyargs + [node.vararg, node.kwarg]:
                if a is not None:
                    stored[a.id] = stored.get(a.id, 0) + 2        # a parameter: never a module name here
        elif isinstance(node, (gast.FunctionDef, gast.ClassDef)) and node is not tree:
            stored[node.name] = stored.get(node.name, 0) + 2
    return stored


def _imported(tree, unit, stored):
    """name -> the expression generated code names it by, for each name an import of the function's own body
    binds (``import numpy as np``, ``from scipy.special import gammaln``): the import runs here, as the function
    would run it (the module is imported once, a function's attributes read when it runs are the same), and reads
    of the name become reads of what it bound. Sound where the name is bound nowhere else in the function and
    read only after the import (before it, Python raises UnboundLocalError); else refused."""
    import importlib
    fn = getattr(unit, "fn", None)
    package = (getattr(fn, "__globals__", None) or {}).get("__package__")
    found = {}
    for k, s in enumerate(tree.body):
        if not isinstance(s, (gast.Import, gast.ImportFrom)):
            continue
        bound = []
        try:
            if isinstance(s, gast.Import):
                for a in s.names:
                    module = importlib.import_module(a.name)
                    if a.asname is None:           # ``import numpy.linalg`` binds ``numpy``
                        bound.append((a.name.split(".")[0], importlib.import_module(a.name.split(".")[0])))
                    else:
                        bound.append((a.asname, module))
            else:
                module = importlib.import_module("." * s.level + (s.module or ""), package if s.level else None)
                for a in s.names:
                    if a.name == "*":
                        raise unit.error(UnsupportedSyntaxError, "`from ... import *` inside a differentiated "
                                         "function is not supported", s, hint="import the names it uses")
                    if not hasattr(module, a.name):
                        importlib.import_module(f"{module.__name__}.{a.name}")
                    bound.append((a.asname or a.name, getattr(module, a.name)))
        except ImportError as e:
            raise unit.error(UnsupportedSyntaxError, f"this import fails ({e})", s) from None
        for name, obj in bound:
            loaded = [n for st in tree.body[:k] for n in N.walk(st) if isinstance(n, gast.Name) and n.id == name]
            if stored.get(name) or name in found or loaded:
                raise unit.error(UnsupportedSyntaxError, f"`{name}` is bound by an import here and also bound or read "
                                 "elsewhere in the function, which is not supported", s,
                                 hint="import at module level")
            found[name] = unit.aliases.local(name, obj)
    return found


def _module_names(tree, unit, stored):
    """name -> the expression (a global name or an attribute chain of one) each local module name stands for."""
    found = {}
    for k, s in enumerate(tree.body):
        if not (isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name)):
            continue
        name = s.targets[0].id
        if stored.get(name) != 1 or not _global_chain(s.value, stored) or not _named_by_it(unit.scope.resolve(s.value)):
            continue
        earlier = [n for st in tree.body[:k + 1] for n in N.walk(st)
                   if isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load)]
        if not earlier:
            found[name] = s.value
    return found


def _named_by_it(obj):
    """A module, or a library's function (``np.add.at``, ``np.sum``, ``math.exp``): what s2sad finds rules for by the
    object a call's name resolves to (a user's function differentiated from its source works under any name)."""
    if isinstance(obj, (types.ModuleType, np.ufunc, types.BuiltinFunctionType)):
        return True
    module = getattr(obj, "__module__", None) or ""
    return callable(obj) and not isinstance(obj, type) and module.split(".")[0] in ("numpy", "scipy", "math")


def _global_chain(node, stored):
    """Whether ``node`` is ``a`` or ``a.b.c`` with ``a`` bound nowhere in the function (``stored``: the names it binds,
    parameters and nested definitions among them): a global or a cell."""
    while isinstance(node, gast.Attribute):
        node = node.value
    return isinstance(node, gast.Name) and node.id not in stored
