"""Read a function's source and parse it into a gast tree.

>>> def square(x):
...     return x * x
>>> src = read(square)
>>> src.tree.name, src.text(src.tree.body[0])
('square', 'return x * x')
"""
import dis
import functools
import inspect
import linecache
import os
import re
import textwrap
import tokenize
import types
import weakref
from dataclasses import dataclass, field

import gast

from . import generators
from .. import nodes as N
from ..errors import SourceUnavailableError, UnsupportedSyntaxError


@dataclass
class Source:
    """A parsed user function and the way back to its file."""

    fn: object                 # the user's (undecorated) function object
    tree: gast.FunctionDef     # decorators stripped
    filename: str
    first_line: int            # file line number of the snippet's line 1
    lines: list = field(repr=False)   # the snippet's source lines, dedented
    # (statement, name, op): ``name op= ...`` in a ``for`` loop walking ``name`` other than item by item
    walked_views: list = field(default_factory=list, repr=False)
    # (statement, name, parameters): ``name op= ...`` where name may be those arguments (changed in place)
    argument_updates: list = field(default_factory=list, repr=False)
    # (statement, name, op): every ``name op= ...`` (analysis/effects.py checks who else holds the object)
    inplace_updates: list = field(default_factory=list, repr=False)
    item_updates: dict = field(default_factory=dict, repr=False)   # id(`item op= e` of `c[i] op= e`) -> (c, 'c[i]', new)
    walked_updates: list = field(default_factory=list, repr=False)   # (statement, name, op): `x op= e` in `for v in x`
    walked_sequences: dict = field(default_factory=dict, repr=False)  # id(such a statement) -> the loops' sequences
    # id(a walked_views statement) -> [(user name, name holding what a loop around it walks, from its start)]
    walked_holders: dict = field(default_factory=dict, repr=False)
    # (statement, root name): ``x[i][j] = v``, a write through a part of ``x``
    nested_writes: list = field(default_factory=list, repr=False)

    def file_line(self, node):
        """The line in the user's file where ``node`` starts."""
        return getattr(node, "lineno", 1) + self.first_line - 1

    def text(self, node):
        """The user's source of ``node`` on one line (for comments and error messages)."""
        start = getattr(node, "lineno", None)
        if start is None:
            from ..nodes import unparse
            return unparse(node)
        end = getattr(node, "end_lineno", start) or start
        if start == end and getattr(node, "col_offset", None) is not None and node.end_col_offset is not None:
            return self.lines[start - 1][node.col_offset:node.end_col_offset].strip()
        chunk = " ".join(line.strip() for line in self.lines[start - 1:end])
        return chunk if len(chunk) <= 100 else chunk[:97] + "..."

    def error(self, cls, message, node, hint=None):
        """An exception of class ``cls`` pointing at ``node`` in the user's file. In forward-mode code s2sad wrote
        (differentiated again: a second derivative), the user's line its ``# line N: ...`` comment names."""
        user = _user_line(self, node)
        if user is not None:
            filename, lineno, construct = user
            return cls(f"{message} (in the forward-mode code s2sad wrote for this line, differentiated again: "
                       f"`{self.text(node)}`)", filename=filename, lineno=lineno, construct=construct, hint=hint)
        return cls(message, filename=self.filename, lineno=self.file_line(node),
                   construct=self.text(node), hint=hint)


_GENERATED_FROM = re.compile(r"<s2sad \S+ from ([^<>]+):\d+>$")      # (a user's file, not generated code again)
_LINE_COMMENT = re.compile(r"\s*# line (\d+): (.*)$")


def _user_line(source, node):
    """(file, line, text) of the user's line that generated code at ``node`` was written for, else None."""
    found = _GENERATED_FROM.match(source.filename or "")
    at = getattr(node, "lineno", None)
    if found is None or at is None:
        return None
    for line in reversed(source.lines[:at]):
        comment = _LINE_COMMENT.match(line)
        if comment is not None:
            return found.group(1), int(comment.group(1)), comment.group(2).strip()
    return None


def unwrap(fn):
    """The user's own function behind the layers that call it unchanged: s2sad's own (``@differentiable``,
    ``@checkpoint``) and ``functools.cache``/``lru_cache``. Any other ``functools.wraps`` layer (a user's decorator
    may scale, clip or log the result) is differentiated itself, from its source. A bound method stays bound (a
    ``@checkpoint`` method's ``obj.m``: the method of ``obj``, not the function without its ``self``)."""
    if isinstance(fn, types.MethodType):
        inner = unwrap(fn.__func__)
        return fn if inner is fn.__func__ else types.MethodType(inner, fn.__self__)
    while True:
        inner = getattr(fn, "__wrapped__", None)
        if inner is None or not _transparent(fn):
            return fn
        fn = inner


_S2SAD = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_STDLIB = __import__("sysconfig").get_paths()["stdlib"]


def library_code(path):
    """Whether code from the file ``path`` is the standard library's (frozen modules too) or an installed
    package's, not the user's."""
    return path.startswith("<frozen") or any(part in path for part in ("site-packages", "dist-packages", _STDLIB))


def _transparent(wrapper):
    """Whether ``wrapper`` returns what its ``__wrapped__`` function returns, for the same arguments: s2sad's own
    wrappers, ``functools.cache``, a library's (``np.errstate`` as a decorator), and a user's wrapper whose every
    ``return`` gives the result of calling the wrapped function with the wrapper's own ``*args, **kwargs`` (a
    timing or logging decorator). A user's wrapper doing anything else with the result is differentiated itself."""
    if isinstance(wrapper, functools._lru_cache_wrapper):
        return True
    code = getattr(wrapper, "__code__", None)
    if code is None or code.co_filename.startswith(_S2SAD):
        return code is not None
    if library_code(code.co_filename):
        return True                                  # a library's wrapper (np.errstate, contextlib)
    return _passes_through(wrapper)


def _passes_through(wrapper):
    """Whether every ``return`` of ``wrapper`` returns ``f(*args, **kwargs)`` (or a name assigned it once), ``f``
    the closure's ``__wrapped__`` and ``args``, ``kwargs`` the wrapper's own star parameters."""
    import ast
    code = wrapper.__code__
    if not code.co_flags & inspect.CO_VARARGS:
        return False
    try:
        tree = ast.parse(textwrap.dedent("".join(inspect.getsourcelines(code)[0]))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return False
    if not isinstance(tree, ast.FunctionDef) or tree.args.vararg is None:
        return False
    cells = dict(zip(code.co_freevars, wrapper.__closure__ or ()))
    star, stars = tree.args.vararg.arg, tree.args.kwarg.arg if tree.args.kwarg is not None else None

    def wrapped_call(node):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in cells):
            return False
        try:
            if cells[node.func.id].cell_contents is not wrapper.__wrapped__:
                return False
        except ValueError:
            return False
        plain = [a for a in node.args if not isinstance(a, ast.Starred)]
        spread = [a.value.id for a in node.args if isinstance(a, ast.Starred) and isinstance(a.value, ast.Name)]
        keywords = [k for k in node.keywords if k.arg is not None]
        return not plain and spread == [star] and not keywords and \
            [k.value.id for k in node.keywords if k.arg is None and isinstance(k.value, ast.Name)] == ([stars] if stars else [])
    assigned = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned.setdefault(node.targets[0].id, []).append(node.value)
        if isinstance(node, ast.Name) and node.id in (star, stars) and not isinstance(node.ctx, ast.Load):
            return False                             # (the arguments passed on are not the ones given)
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.value, ast.Name) \
                and node.value.id == stars and (not isinstance(node.ctx, ast.Load) or isinstance(node, ast.Attribute)):
            return False                             # kwargs["c"] = ..., kwargs.update(...)
    returns = [n for n in ast.walk(tree) if isinstance(n, ast.Return)]
    return bool(returns) and all(
        wrapped_call(r.value) or isinstance(r.value, ast.Name) and len(assigned.get(r.value.id, [])) == 1
        and wrapped_call(assigned[r.value.id][0]) for r in returns)


def from_text(text, filename="<text>", fn=None):
    """A Source for a function given as text (golden tests, doctests)."""
    snippet = textwrap.dedent(text).strip("\n") + "\n"
    tree = gast.parse(snippet).body[0]
    tree.decorator_list = []
    return Source(fn=fn, tree=tree, filename=filename, first_line=1, lines=snippet.splitlines())


def of_nested(nested):
    """The Source of a function defined inside another (calls.Nested): its lifted tree, with the
    enclosing function's file, lines and line numbers."""
    tree = nested.tree()
    siblings = getattr(nested, "siblings", {})
    called, todo = [], [tree]
    while todo:                                   # the functions lifted beside it that it calls, transitively
        for n in N.walk(todo.pop()):
            if isinstance(n, gast.Name) and n.id in siblings and n.id != tree.name and n.id not in called:
                called.append(n.id)
                todo.append(siblings[n.id].node)
    # defined first in its body, as they were beside it (lifted: they read none of the outer locals)
    tree.body = [N.clone(siblings[n].node) for n in called] + tree.body
    return Source(fn=None, tree=tree, filename=nested.filename, first_line=nested.first_line,
                  lines=list(nested.lines))


_read = weakref.WeakKeyDictionary()   # code object -> the Source it was read from (a later edit of the file
                                      # does not change what that code computes)
_generated = {}     # code object of a compiled generated function -> (its source text, file name)


EXEC_FILENAMES = frozenset({"<string>", "<stdin>", "<console>"})     # code from exec(), eval(), the prompt


def register_generated(code, text, filename):
    """Remember the source of a generated function, so that it can be differentiated again."""
    _generated[code] = (text, filename)


def read(fn):
    """Parse ``fn``'s source. Raises SourceUnavailableError when there is none to read."""
    fn = unwrap(fn)
    name = getattr(fn, "__qualname__", repr(fn))
    generated = _generated.get(getattr(fn, "__code__", None))
    if generated is not None:                       # s2sad's own output: derivatives of derivatives
        text, filename = generated
        return from_text(text, filename, fn)
    wrapped = getattr(fn, "__wrapped__", None)
    if wrapped is not None and inspect.isfunction(fn) and fn.__code__.co_flags & (inspect.CO_VARARGS |
                                                                                   inspect.CO_VARKEYWORDS):
        raise UnsupportedSyntaxError(
            f"cannot differentiate {name!r}: it is a decorator's wrapper (`{fn.__code__.co_name}`, made with "
            f"functools.wraps) that passes on `*args`/`**kwargs`; s2sad differentiates the wrapper's own code (a "
            f"decorator may change the result), and not through `*args`",
            filename=fn.__code__.co_filename, lineno=fn.__code__.co_firstlineno, construct=f"def {fn.__code__.co_name}",
            hint=f"differentiate the undecorated function (`{name}.__wrapped__`), or give the wrapper the function's "
                 f"own parameters")
    if not inspect.isfunction(fn):
        raise SourceUnavailableError(
            f"cannot differentiate {name!r}: it is not a Python function "
            f"(s2sad reads source code; for a builtin or C extension register a rule "
            f"with `@s2sad.rules.vjp`)")
    known = _read.get(fn.__code__)
    if known is not None:                          # read before: the text this code object was made from
        return Source(fn=fn, tree=N.clone(known.tree), filename=known.filename,
                      first_line=known.first_line, lines=known.lines)
    filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    if fn.__code__.co_filename in EXEC_FILENAMES:   # shared by every exec: what linecache holds may be another's
        raise SourceUnavailableError(
            f"cannot read the source of function {name!r} (defined in {fn.__code__.co_filename}): "
            f"s2sad transforms source code, so define the function in a .py file, "
            f"not in the interactive prompt, exec() or eval()")
    if filename and os.path.exists(filename):      # an edited file is read again, whatever its mtime says
        linecache.updatecache(filename, fn.__globals__)
    if fn.__name__ == "<lambda>":
        source = _read_lambda(fn, filename, name)
        _read[fn.__code__] = Source(fn=None, tree=N.clone(source.tree), filename=filename,
                                    first_line=source.first_line, lines=source.lines)
        return source
    try:
        lines, first_line = inspect.getsourcelines(fn.__code__)   # (the function's would follow __wrapped__)
    except (tokenize.TokenError, SyntaxError) as exc:          # the file no longer reads as Python: edited since
        raise SourceUnavailableError(
            f"the source of {name!r} in {filename} changed since the function was defined (it no longer reads as "
            f"Python): s2sad would differentiate the new text, not what the function computes\n  hint: reload the "
            f"module (importlib.reload) or run the program again") from exc
    except (OSError, TypeError) as exc:
        raise SourceUnavailableError(
            f"cannot read the source of function {name!r} (defined in {fn.__code__.co_filename}): "
            f"s2sad transforms source code, so define the function in a .py file, "
            f"not in the interactive prompt, exec() or eval()") from exc
    snippet = textwrap.dedent("".join(lines))
    try:
        module = gast.parse(snippet)
    except SyntaxError as exc:
        hint = "define the function with `def` in a .py file" if fn.__name__ == "<lambda>" else None
        raise SourceUnavailableError(
            f"cannot parse the source of {name!r} at {filename}:{first_line}: {exc.msg}"
            + (f"\n  hint: {hint}" if hint else "")) from exc
    tree = module.body[0]
    if isinstance(tree, gast.AsyncFunctionDef):
        raise UnsupportedSyntaxError("async functions cannot be differentiated", filename=filename,
                                     lineno=first_line, construct=f"async def {tree.name}",
                                     hint="differentiate a plain `def` function and await outside it")
    if not isinstance(tree, gast.FunctionDef) or tree.name != fn.__code__.co_name:
        raise SourceUnavailableError(f"cannot find the definition of {name!r} at {filename}:{first_line}")
    if not _compiles_to(snippet, fn):
        raise SourceUnavailableError(
            f"the source of {name!r} in {filename} changed since the function was defined: s2sad would "
            f"differentiate the new text, not what the function computes\n  hint: reload the module "
            f"(importlib.reload) or run the program again")
    tree.decorator_list = []
    generators.as_lists(tree)                      # generator functions build and return lists
    source = Source(fn=fn, tree=tree, filename=filename, first_line=first_line, lines=snippet.splitlines())
    _read[fn.__code__] = Source(fn=None, tree=N.clone(tree), filename=filename, first_line=first_line,
                                lines=source.lines)
    return source


def _read_lambda(fn, filename, name):
    """A lambda as a function ``def <name>(<its parameters>): return <its body>``, named after the variable
    it is assigned to (else ``lambda_``); node positions are the file's. Among the lambdas starting on
    its line, the one whose code is ``fn``'s."""
    code = fn.__code__
    lines = linecache.getlines(filename, fn.__globals__)
    if not lines:
        raise SourceUnavailableError(
            f"cannot read the source of the lambda {name!r} (defined in {code.co_filename}): s2sad transforms "
            f"source code, so define it in a .py file, not in the interactive prompt, exec() or eval()")
    try:
        module = gast.parse("".join(lines))
    except SyntaxError as exc:
        raise SourceUnavailableError(f"cannot parse {filename}: {exc.msg}") from exc
    named = {}
    for node in N.walk(module):
        if isinstance(node, gast.Assign) and isinstance(node.value, gast.Lambda) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name):
            named[id(node.value)] = node.targets[0].id
        elif isinstance(node, gast.keyword) and isinstance(node.value, gast.Lambda) and node.arg:
            named[id(node.value)] = node.arg
    found = [node for node in N.walk(module) if isinstance(node, gast.Lambda) and node.lineno == code.co_firstlineno
             and _lambda_compiles_to(node, fn)]
    if len(found) != 1:
        raise SourceUnavailableError(
            f"cannot tell which lambda on {filename}:{code.co_firstlineno} is {name!r}"
            + (" (its source changed since it was defined)" if not found else " (several compile alike)")
            + "\n  hint: define it with `def`, or one lambda per line")
    lam = found[0]
    tree = gast.FunctionDef(name=named.get(id(lam), "lambda_"), args=lam.args,
                            body=[gast.Return(value=lam.body)], decorator_list=[], returns=None,
                            type_comment=None, type_params=[])
    for node in (tree, tree.body[0]):
        for field_ in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            setattr(node, field_, getattr(lam, field_))
    return Source(fn=fn, tree=tree, filename=filename, first_line=1, lines=[line.rstrip("\n") for line in lines])


def _lambda_compiles_to(lam, fn):
    import ast
    text = "(" + ast.unparse(gast.gast_to_ast(N.clone(lam))) + ")\n"
    return _compiles_to(text, fn)


_FUTURE_FLAGS = 0
for _feature in __import__("__future__").all_feature_names:
    _FUTURE_FLAGS |= getattr(__import__("__future__"), _feature).compiler_flag


def _compiles_to(snippet, fn):
    """Whether the source text ``snippet`` compiles to ``fn``'s code (a file edited after its module was
    imported no longer does). Free variables are made cells of an enclosing function, as they were."""
    code = fn.__code__
    free = code.co_freevars
    if free:
        text = (f"def __s2sad_enclosing__():\n    {' = '.join(free)} = None\n" + textwrap.indent(snippet, "    ")
                + f"    return {', '.join(free)}\n")
    else:
        text = snippet
    try:
        compiled = compile(text, code.co_filename, "exec", flags=code.co_flags & _FUTURE_FLAGS, dont_inherit=True)
    except SyntaxError:
        return False
    if free:
        compiled = next(c for c in compiled.co_consts if isinstance(c, types.CodeType))
    candidates = [c for c in compiled.co_consts if isinstance(c, types.CodeType) and c.co_name == code.co_name]
    return any(_same_code(c, code) for c in candidates)


_SKIPPED = {"CACHE", "PUSH_NULL", "PRECALL", "NOP", "RESUME", "COPY_FREE_VARS", "MAKE_CELL", "EXTENDED_ARG"}
_JUMPS = set(dis.hasjrel) | set(dis.hasjabs)


def _instructions(code):
    """``code``'s instructions as (operation, argument) pairs, free of what depends on the module the
    function was compiled in (a call on an imported module compiles to LOAD_ATTR, else LOAD_METHOD) or
    on offsets (jump targets)."""
    out = []
    instructions = [ins for ins in dis.get_instructions(code) if ins.opname not in _SKIPPED]
    for k, ins in enumerate(instructions):
        name = "LOAD_ATTR" if ins.opname == "LOAD_METHOD" else ins.opname
        arg = None if ins.opcode in _JUMPS or isinstance(ins.argval, types.CodeType) else ins.argval
        following = instructions[k + 1] if k + 1 < len(instructions) else None
        if name == "LOAD_CONST" and following is not None and (       # where the function was defined
                following.opname == "MAKE_FUNCTION"                      # its qualified name (3.10)
                or following.opname == "STORE_NAME" and following.argval in ("__qualname__", "__firstlineno__")):
            arg = None
        out.append((name, arg if not isinstance(arg, float) or arg == arg else "nan"))
    return out


def _same_code(a, b):
    if a.co_varnames != b.co_varnames or _instructions(a) != _instructions(b):
        return False
    nested_a = [c for c in a.co_consts if isinstance(c, types.CodeType)]
    nested_b = [c for c in b.co_consts if isinstance(c, types.CodeType)]
    return len(nested_a) == len(nested_b) and all(_same_code(x, y) for x, y in zip(nested_a, nested_b))