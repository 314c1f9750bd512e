"""Everything a standalone gradient module holds, gathered from the generated code.

Starting from the generated code of each exported function, ``gather`` follows the links to
the generated vjp code of the user functions it calls (each (function, wrt, kinds) once, so
recursion ends) and sorts every name the code reads, in the context of the user function
it came from, into:

- a link to another generated function, or the runtime helpers (``_s2.NAME``);
- a module to import, or a library object to import from its module (``from math import sin``);
- a number, string or tuple of them, copied in;
- a user function the code calls undifferentiated, whose source is copied in (and read the same way).

Anything else (an array, an object, a user class) cannot be carried along: an error at the
line that reads it, telling the user to pass it as an argument.
"""
import ast
import builtins
import inspect
import math
import os
import sys
import sysconfig
import textwrap
import types
from dataclasses import dataclass, field

import numpy as np

from .. import calls, pipeline, runtime
from ..back.link import Link
from ..errors import S2SadError, TransformError
from ..front.source import unwrap
from . import names as text_names


class StandaloneError(TransformError):
    """Something the user's code reads that a standalone module cannot hold."""


@dataclass(frozen=True)
class Import:
    module: str
    name: str

    def statement(self):
        return f"import {self.module}" + ("" if self.name == self.module else f" as {self.name}")


@dataclass(frozen=True)
class FromImport:
    module: str
    attr: str
    name: str

    def statement(self):
        if self.module == "builtins" and self.attr == self.name:
            return None                                  # the builtin itself
        return f"from {self.module} import {self.attr}" + ("" if self.name == self.attr else f" as {self.name}")


@dataclass(frozen=True)
class Constant:
    name: str
    literal: str                                         # compared as text: 1, 1.0 and True differ


@dataclass(frozen=True)
class Namespace:
    """A module of the user's, read as ``name.attr``: the standalone module holds a namespace of those attributes."""
    name: str
    module: object


@dataclass(frozen=True)
class Function:
    name: str
    fn: object

    def source(self):
        """The function's source without s2sad's decorators (calling it runs the original either way),
        as ``ast.unparse`` prints it: without comments and in one layout, so editing those in the user's
        file leaves the written module alone."""
        node = ast.parse(textwrap.dedent(inspect.getsource(self.fn))).body[0]
        node.decorator_list = [d for d in node.decorator_list if not _is_s2sad(_root(d), self.fn)]
        return ast.unparse(node) + "\n"


@dataclass
class Unit:
    """One generated function of the standalone module."""
    fn: object                       # the user function it differentiates
    generated: object                # the driver's Generated
    links: dict = field(default_factory=dict)     # name the text reads -> key of the Unit it denotes
    helpers: str = None              # the name the text reads the runtime helpers through
    helper_names: set = field(default_factory=set)   # names the text reads that denote a runtime helper itself
    #                                                  (s2sad code differentiated from its source calls them so)


@dataclass
class Program:
    units: dict = field(default_factory=dict)     # (fn, wrt, kind, kinds) -> Unit, in the order reached
    globals: dict = field(default_factory=dict)   # name -> Import | FromImport | Constant | Function
    readers: dict = field(default_factory=dict)   # name -> the first user function found reading it
    helpers: set = field(default_factory=set)     # runtime helpers read as _s2.NAME
    members: dict = field(default_factory=dict)   # Namespace name -> {attribute: source text of its value}


def gather(entries):
    """The Program holding the generated code of ``entries`` ((user function, wrt, kind) triples)."""
    program = Program()
    todo = [_key(fn, wrt, kind) for fn, wrt, kind in entries]
    for key in todo:                                  # grows while it runs: breadth first
        if key in program.units:
            continue
        target, wrt, kind, kinds = key
        fn = target.owner if isinstance(target, calls.Nested) else target     # whose names the code reads
        try:
            gen = pipeline.generate(target, wrt, kind, kinds)
        except S2SadError as exc:
            if isinstance(exc, TransformError) and exc.filename:
                raise
            raise StandaloneError(" ".join(str(exc).split()), filename=fn.__code__.co_filename,
                                  lineno=fn.__code__.co_firstlineno) from None
        unit = program.units[key] = Unit(fn, gen)
        for name in sorted(text_names.global_names(gen.text)):
            if name == gen.name:
                unit.links[name] = key                    # recursion
            elif isinstance(gen.bindings.get(name), Link):
                link = gen.bindings[name]
                unit.links[name] = _key(link.target, link.wrt, link.kind, link.kinds)
                todo.append(unit.links[name])
            elif gen.bindings.get(name) is runtime:
                unit.helpers = name
                program.helpers |= text_names.attributes(gen.text, name)
            elif _runtime_helper(name, gen.bindings.get(name, getattr(fn, "__globals__", {}).get(name))):
                unit.helper_names.add(name)               # (rules/scipy_stats.py's scipy_value)
                program.helpers.add(name)
            elif name in gen.bindings:
                _add(program, _classify(name, gen.bindings[name], fn), fn, gen.text)
            else:
                _read(program, name, fn, gen.text)
    return program


def _runtime_helper(name, value):
    """Whether ``value`` (read as ``name``) is the runtime helper of that name (which the standalone module's
    helpers hold)."""
    return value is not None and callable(value) and getattr(runtime, name, None) is value


def _key(fn, wrt, kind, kinds=()):
    return (fn if isinstance(fn, calls.Nested) else unwrap(fn), tuple(wrt), kind, tuple(kinds))


def _read(program, name, fn, text):
    """Put what ``fn`` sees as ``name`` (a closure cell or a global) into the program; a builtin needs
    nothing, and an unknown name fails in the standalone module as it fails in the original. ``text`` is
    the code that reads it."""
    cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    if name in cells:
        try:
            value = cells[name].cell_contents
        except ValueError:
            raise _error(fn, name, f"`{name}` is not assigned yet when the gradient would read it") from None
        _add(program, _classify(name, value, fn, enclosing=True), fn, text)
    elif name in fn.__globals__:
        _add(program, _classify(name, fn.__globals__[name], fn), fn, text)


def _add(program, entry, fn, text):
    """Put ``entry`` (read by ``fn``, in ``text``) into the program, and what it reads in turn if it is a
    user function, or the attributes ``text`` reads from it if it is a user module. A name of Python's builtins
    bound to something else (``from numpy import all, max``) is refused: the standalone module's helpers, in the
    same namespace, call the builtin."""
    if hasattr(builtins, entry.name) and not (isinstance(entry, FromImport) and entry.module == "builtins"):
        raise _error(fn, entry.name, f"`{entry.name}` here is not Python's builtin `{entry.name}`, which the "
                                     f"standalone module's helpers call too, and a standalone module holds one",
                     hint=f"import the module and call it through it (`np.{entry.name}`)")
    known = program.globals.setdefault(entry.name, entry)
    reader = program.readers.setdefault(entry.name, fn)
    if known != entry:
        filename, line = _where(reader, entry.name)
        raise _error(fn, entry.name, f"`{entry.name}` here is not the `{entry.name}` {reader.__name__} reads at "
                                     f"{os.path.basename(filename)}:{line}, and a standalone module holds one",
                     hint="rename one of them")
    if known is entry and isinstance(entry, Function):
        source = entry.source()
        for name in sorted(text_names.global_names(source)):
            _read(program, name, entry.fn, source)
    if isinstance(entry, Namespace):
        _members(program, entry, fn, text)


def _members(program, entry, fn, text):
    """The attributes ``text`` reads from the user module ``entry``, each as a constant's literal or the
    name of what the program holds for it (a copied function, an import)."""
    if text_names.bare_reads(text, entry.name):
        raise _error(fn, entry.name, f"`{entry.name}` is the module {entry.module.__name__}, read here other than "
                                     f"as `{entry.name}.NAME`, and a standalone module cannot import it",
                     hint="import the functions you use from it by name")
    _add(program, FromImport("types", "SimpleNamespace", "SimpleNamespace"), fn, None)
    members = program.members.setdefault(entry.name, {})
    for attr in sorted(text_names.attributes(text, entry.name)):
        if attr in members or not hasattr(entry.module, attr):     # (a missing one fails as in the original)
            continue
        member = _classify(attr, getattr(entry.module, attr), fn, shown=f"{entry.name}.{attr}")
        if isinstance(member, Namespace):
            raise _error(fn, entry.name, f"`{entry.name}.{attr}` is the module {member.module.__name__}, "
                                         f"which a standalone module cannot import",
                         hint="import the functions you use from it by name")
        if isinstance(member, Constant):
            members[attr] = member.literal
        else:
            _add(program, member, fn, None)
            members[attr] = member.name


def _classify(name, value, fn, enclosing=False, shown=None):
    """What the standalone module holds for ``value``, which ``fn`` reads as ``name`` (a global, or
    a variable of the ``enclosing`` function, or an attribute of a module it reads, ``shown`` as
    ``module.name`` in errors)."""
    shown = shown or name
    if isinstance(value, types.ModuleType):
        if value.__name__.split(".")[0] == "s2sad":
            raise _needs_s2sad(fn, shown)
        origin = _origin(value)
        if origin == "user":
            return Namespace(name, value)
        if origin != "library":
            raise _error(fn, shown, f"`{shown}` is the module {value.__name__}, which a standalone module cannot "
                                   f"import", hint="import the functions you use from it by name")
        return Import(value.__name__, name)
    if _is_constant(value):
        return Constant(name, _literal(value))
    inner = unwrap(value)
    if inspect.isfunction(inner) and _origin(inner) == "user":
        if inner.__name__ != name:
            raise _error(fn, shown, f"`{shown}` is the function {inner.__name__} under another name",
                         hint=f"call it as `{shown[:len(shown) - len(name)]}{inner.__name__}`")
        return Function(name, inner)
    if (getattr(inner, "__module__", None) or "").split(".")[0] == "s2sad":
        raise _needs_s2sad(fn, shown)
    where = _importable(value)
    if where is None:
        kind = type(value).__qualname__ if type(value).__module__ == "builtins" else \
            f"{type(value).__module__}.{type(value).__qualname__}"
        what = "a class" if isinstance(value, type) else (f"a {kind} of the enclosing function" if enclosing
                                                          else f"a global {kind}")
        raise _error(fn, shown, f"`{shown}` is {what}; a standalone module copies only numbers, strings and "
                                f"tuples of them",
                     hint=f"pass `{shown}` to {fn.__name__} as an argument")
    return FromImport(*where, name)


def _needs_s2sad(fn, shown):
    return _error(fn, shown, f"the derivative here calls s2sad's `{shown}` at run time (the adjoint ODE solver of "
                             f"scipy.integrate, fixed_point's, a nested derivative), which a standalone module cannot "
                             f"hold", hint="differentiate this function with s2sad.grad instead")


def _is_constant(value):
    if value is None or type(value) in (bool, int, float, complex, str):
        return True
    return type(value) is tuple and all(_is_constant(v) for v in value)


def _literal(value):
    """Source text that evaluates to ``value`` (a constant)."""
    if type(value) is tuple:
        items = [_literal(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if type(value) in (float, complex) and not all(map(math.isfinite, (value.real, value.imag))):
        return f"{type(value).__name__}({str(value)!r})"
    return repr(value)


def _importable(value):
    """(module, name) such that ``from module import name`` gives ``value`` (a library's object), else None."""
    module_name = calls.library_module(value)     # (a ufunc names none: NumPy's or scipy.special's)
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)     # (NumPy 2.0's ufuncs
    if not module_name or not isinstance(name, str) or not name.isidentifier():           # have no qualname)
        return None
    module = sys.modules.get(module_name)
    if module is None or _origin(module) != "library" or getattr(module, name, None) is not value:
        return None
    return module_name, name


def _origin(obj):
    """"s2sad", "library" (importable wherever the user's code runs) or "user" (the user's own files).

    Like ``reverse.adjoint.user_function`` but for modules too, and a function with a registered
    rule is still the user's: called undifferentiated, its source is copied like any other.
    """
    module_name = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "") or ""
    root = module_name.split(".")[0]
    if root == "s2sad":
        return "s2sad"
    if root in sys.stdlib_module_names:
        return "library"
    path = obj.__code__.co_filename if inspect.isfunction(obj) else getattr(obj, "__file__", None)
    if path is None:
        return "library"                               # a builtin module
    path = os.path.realpath(path)
    installed = {os.path.realpath(p) for key, p in sysconfig.get_paths().items() if key.endswith(("stdlib", "lib"))}
    if any(part in ("site-packages", "dist-packages") for part in path.split(os.sep)) or \
            any(path.startswith(p + os.sep) for p in installed):
        return "library"
    return "user"


def _root(expr):
    """The name a decorator expression starts from: ``s2sad`` in ``@s2sad.differentiable(wrt=1)``."""
    while isinstance(expr, (ast.Call, ast.Attribute)):
        expr = expr.func if isinstance(expr, ast.Call) else expr.value
    return expr.id if isinstance(expr, ast.Name) else None


def _is_s2sad(name, fn):
    value = fn.__globals__.get(name, getattr(builtins, name or "", None))
    return value is not None and _origin(value) == "s2sad"


def _error(fn, name, reason, hint=None):
    """A StandaloneError at the first line of ``fn`` that reads ``name``."""
    filename, line = _where(fn, name)
    return StandaloneError(reason, filename=filename, lineno=line, hint=hint)


def _where(fn, name):
    """The file and first line where ``fn`` reads ``name`` (``module.attr`` too; its first line if it is
    not found)."""
    lines, first = inspect.getsourcelines(fn)
    tree = ast.parse(textwrap.dedent("".join(lines)))
    for node in ast.walk(tree):                      # the body's reads, not the decorators'
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            node.decorator_list = []
    reads = [node.lineno for node in ast.walk(tree) if (isinstance(node, ast.Name) and node.id == name) or
             (isinstance(node, ast.Attribute) and "." in name and ast.unparse(node) == name)]
    return inspect.getsourcefile(fn), first - 1 + min(reads, default=1)
