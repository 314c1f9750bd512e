"""The names generated code uses for things the user's code did not name.

A rule body says ``np.cos(x)`` and ``unbroadcast(g, x)``; the generated code
must reach the same objects whatever the user imported. Runtime helpers are
reached through one alias, ``_s2``; other objects (modules such as ``np`` or
``math``) under the rule's own name when the user's function sees that name
bound to the same object, or is not using it, and under a fresh name otherwise.

>>> import numpy as np, math
>>> from s2sad.nodes import Namer
>>> from s2sad.front.resolve import Scope
>>> aliases = Aliases(Scope({"np": math}), Namer({"np"}))
>>> gast_unparse(aliases.ref(np, "np")), sorted(aliases.bindings)
('_np', ['_np'])
"""
import types

from . import nodes as N
from . import runtime

HELPERS = "_s2"


def gast_unparse(node):
    return N.unparse(node)


class Aliases:
    def __init__(self, scope, namer):
        self.scope = scope
        self.namer = namer
        self.bindings = scope.bindings   # name in generated code -> object (bound by the compiled function)
        self._names = {}          # id(object) -> name
        self.helpers = None

    def ref(self, obj, preferred):
        """An expression that denotes ``obj`` in generated code."""
        if getattr(runtime, getattr(obj, "__name__", ""), None) is obj and callable(obj) \
                and getattr(obj, "__module__", "").startswith("s2sad."):
            return N.attr(self.helpers_name(), obj.__name__)
        key = id(obj)
        if key not in self._names:
            self._names[key] = self._choose(obj, preferred)
        return N.name(self._names[key])

    def local(self, name, obj):
        """An expression that denotes ``obj``, which the user's function binds to its local ``name`` (an import
        of its body): ``name`` itself where no other object has it in generated code (the function reads no
        global of that name: the local shadows it everywhere in it)."""
        if self.bindings.get(name, obj) is obj:
            self.bindings[name] = obj
            self._names.setdefault(id(obj), name)
            return N.name(name)
        return self.ref(obj, name)

    def helpers_name(self):
        if self.helpers is None:
            self.helpers = self._choose(runtime, HELPERS)
        return self.helpers

    def _choose(self, obj, preferred):
        if preferred in self.namer.taken and preferred not in self.scope.locals \
                and self.scope.lookup(preferred) is obj:      # (looked up, and so checked, only then)
            return preferred               # the user's own (live) binding of the same object
        if preferred in self.namer.taken or preferred in self.bindings:
            name = self.namer.fresh("_" + preferred.lstrip("_"))
        else:
            name = preferred
            self.namer.reserve(name)
        self.bindings[name] = obj
        return name


def is_module(obj):
    return isinstance(obj, types.ModuleType)
