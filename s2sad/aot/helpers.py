"""The runtime helpers a standalone module calls, copied from s2sad's own source.

Generated code calls helpers as ``_s2.unbroadcast(...)``. A standalone module defines
``_s2`` itself: a function holding the source of every helper the module's code calls
(and of what those helpers call, transitively) returns them as a namespace. Inside it the
helpers reach each other, NumPy and ``math`` by the names they use in s2sad, without
clashing with the user's names at module level.
"""
import ast
import builtins
import importlib
import inspect
import sys
import textwrap
import types

from .. import errors, incomplete, runtime, tree
from . import names as text_names, support

SOURCES = (errors, tree, incomplete, runtime, support)         # where helpers come from, in the order they are written
PUBLIC = (runtime, support)                         # where ``_s2.NAME`` is looked up


def lookup(name):
    """The helper ``_s2.name`` denotes."""
    for module in PUBLIC:
        if hasattr(module, name):
            return getattr(module, name)
    raise LookupError(f"s2sad has no runtime helper {name!r}")


class _Constant:
    """A module-level value a helper reads (``_ABSENT = object()``, a cache ``_draws = {}``, a table): copied as
    the assignment that makes it, from the helper's module."""

    def __init__(self, module, name):
        self.__module__, self.__name__ = module.__name__, name
        self.statement = next((st for st in ast.parse(inspect.getsource(module)).body if isinstance(st, ast.Assign)
                               and [getattr(t, "id", None) for t in st.targets] == [name]), None)
        if self.statement is None:
            raise RuntimeError(f"runtime value {module.__name__}.{name} is not bound by one module-level assignment")
        self.line = self.statement.lineno

    def __eq__(self, other):
        return isinstance(other, _Constant) and (self.__module__, self.__name__) == (other.__module__, other.__name__)

    def __hash__(self):
        return hash((self.__module__, self.__name__))


def _line(obj):
    return obj.line if isinstance(obj, _Constant) else inspect.getsourcelines(obj)[1]


def factory_source(used, factory, version):
    """The source of ``def factory():`` returning the helpers in ``used`` as a namespace."""
    copied, imports = _closure([lookup(name) for name in sorted(used)])
    order = sorted(copied, key=lambda obj: (SOURCES.index(sys.modules[obj.__module__]), _line(obj)))
    taken = {obj.__name__ for obj in order}
    clash = taken & (set(imports) | {"types"})
    if clash:
        raise RuntimeError(f"runtime helper names clash with the imports of the helpers: {sorted(clash)}")
    imports["types"] = "import types"
    body = [f'"""The s2sad {version} runtime helpers the functions above call, as one namespace."""',
            import_block(imports.values())]
    body += [copied[obj].strip() for obj in order]
    returned = "".join(f"\n    {name}={name}," for name in sorted(used))
    body += [f"return types.SimpleNamespace({returned}\n)"]
    return f"def {factory}():\n" + textwrap.indent("\n\n".join(body), "    ", str.strip) + "\n"


def import_block(statements):
    """Import statements sorted, the standard library's first, a blank line before the others."""
    def module(statement):
        return statement.split()[1].split(".")[0]

    def order(statement):                          # ``import x`` before ``from x import y``
        return statement.startswith("from"), statement.split()[1], statement
    stdlib = sorted((s for s in statements if module(s) in sys.stdlib_module_names), key=order)
    others = sorted((s for s in statements if module(s) not in sys.stdlib_module_names), key=order)
    return "\n\n".join("\n".join(group) for group in (stdlib, others) if group)


def _closure(objs):
    """Source of every helper in ``objs`` and of everything they call: {object: source}, {name: import}."""
    copied, imports, todo = {}, {}, list(objs)
    while todo:
        obj = todo.pop()
        if obj in copied:
            continue
        text, needs = _source(obj)
        copied[obj] = text
        for name, value in needs.items():
            if isinstance(value, types.ModuleType):
                statement = f"import {value.__name__}" + (f" as {name}" if name != value.__name__ else "")
                if imports.setdefault(name, statement) != statement:
                    raise RuntimeError(f"runtime helpers bind {name!r} to different modules")
            else:
                todo.append(value)
    names = [obj.__name__ for obj in copied]
    if len(set(names)) != len(names):
        raise RuntimeError("two runtime helpers copied into one namespace have the same name")
    return copied, imports


def _source(obj):
    """``obj``'s source, without its imports of other s2sad modules, and what it reads: {name: object}."""
    if isinstance(obj, _Constant):
        module = sys.modules[obj.__module__]
        text = ast.unparse(obj.statement)
        needs = {name: vars(module)[name] for name in text_names.global_names(text) - {obj.__name__}
                 if name in vars(module)}
        return text, {name: _needed(module, name, value) for name, value in needs.items()}
    if getattr(obj, "__module__", "").split(".")[0] != "s2sad" or not (inspect.isfunction(obj) or inspect.isclass(obj)):
        raise RuntimeError(f"runtime helper {obj!r} is not a function or class of s2sad")
    module = sys.modules[obj.__module__]
    text = textwrap.dedent(inspect.getsource(obj))
    needs, drop = {}, set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.level:          # ``from .tree import add``: a sibling helper
            source = importlib.import_module(importlib.util.resolve_name("." * node.level + (node.module or ""),
                                                                          module.__package__))
            for alias in node.names:
                needs[alias.asname or alias.name] = getattr(source, alias.name)
            drop.update(range(node.lineno, node.end_lineno + 1))
    text = text_names.without_lines(text, drop)
    for name in text_names.global_names(text) - set(needs):
        if name in vars(module):
            needs[name] = vars(module)[name]
        elif not hasattr(builtins, name):
            raise RuntimeError(f"runtime helper {obj.__qualname__} reads unknown name {name!r}")
    needs = {name: _needed(module, name, value) for name, value in needs.items()}
    for name, value in needs.items():
        if not isinstance(value, types.ModuleType) and value.__name__ != name:
            raise RuntimeError(f"runtime helper {obj.__qualname__} reaches {value.__name__} as {name!r}")
    return text, needs


def _needed(module, name, value):
    """What a helper reading ``name`` of ``module`` needs copied: the module, function or class itself, else the
    module-level assignment that makes the value (a sentinel, a cache, a table)."""
    if isinstance(value, types.ModuleType) or inspect.isfunction(value) or inspect.isclass(value):
        return value
    return _Constant(module, name)
