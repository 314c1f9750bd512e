"""Resolve the names of a user function to the objects they denote.

Rules are looked up by object, not by spelling, so ``import numpy as onp`` and
``from numpy import exp`` find the same rule as ``np.exp``.

>>> import numpy as onp
>>> def f(x):
...     return onp.linalg.solve(x, x)
>>> scope = Scope.of(f)
>>> import gast
>>> scope.resolve(gast.parse("onp.linalg.solve").body[0].value) is onp.linalg.solve
True
"""
import builtins
import types

import gast

from .. import nodes as N

MISSING = object()


class Scope:
    """The names a function can see: its locals, closure cells, globals and builtins, and the names
    the generated code binds itself (``bindings``, shared with ``aliases.Aliases``).

    Globals and cells are read when asked, so the answer is the current binding. Every answer
    about a global, a cell or a builtin is remembered in ``resolved`` (name -> the object, or
    MISSING): generated code is reused only while each of them still holds (see cache.py).
    """

    def __init__(self, globals_, cells=None, local_names=(), bindings=None, resolved=None):
        self.globals = globals_
        self.cells = dict(cells or {})
        self.locals = frozenset(local_names)
        self.bindings = bindings if bindings is not None else {}
        self.resolved = resolved if resolved is not None else {}

    @classmethod
    def of(cls, fn, local_names=()):
        cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
        return cls(fn.__globals__, cells, local_names)

    def with_locals(self, names):
        """The same scope (bindings and record of resolutions shared) with other local names."""
        return Scope(self.globals, self.cells, names, self.bindings, self.resolved)

    def lookup(self, name):
        """The object bound to the free name ``name``, or MISSING."""
        if name in self.locals:
            return MISSING
        if name in self.bindings:
            return self.bindings[name]
        if name in self.cells:
            try:
                value = self.cells[name].cell_contents
            except ValueError:          # empty cell: assigned later in the enclosing function
                value = MISSING
            self.resolved[("cell", name)] = value
            return value
        if name in self.globals:
            value = self.globals[name]
        else:
            value = getattr(builtins, name, MISSING)
        self.resolved[("global", name)] = value
        return value

    def is_free(self, name):
        return name not in self.locals

    def resolve(self, node):
        """The object a Name or a dotted Attribute chain denotes, or MISSING.

        Attribute chains are followed through modules only, so no user property runs.
        """
        if isinstance(node, gast.Name):
            return self.lookup(node.id)
        if isinstance(node, gast.Attribute):
            base = self.resolve(node.value)
            if isinstance(base, types.ModuleType):
                value = getattr(base, node.attr, MISSING)
                self.resolved[("attr", (base, node.attr))] = value     # module.attr may be rebound too
                return value
            if base is not MISSING and not isinstance(base, type):
                from ..rules.registry import definition               # scipy.stats.norm.logpdf: a definition
                found = definition(base, node.attr)                    # (the cache checks the registry's version)
                if found is not None:
                    return found
        return MISSING


def assigned_names(fn_tree):
    """Parameters and every name the function body binds (its Python locals)."""
    names = set()
    args = fn_tree.args
    for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
        if a is not None:
            names.add(a.id)
    for node in N.walk(fn_tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            names.add(node.id)
        elif isinstance(node, (gast.FunctionDef, gast.ClassDef)) and node is not fn_tree:
            names.add(node.name)
        elif isinstance(node, (gast.Import, gast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names
