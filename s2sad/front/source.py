"""Read a function's source and parse it into a gast tree.

>>> def square(x):
...     return x * x
>>> src = read(square)
>>> src.tree.name, src.text(src.tree.body[0])
('square', 'return x * x')
"""
import inspect
import linecache
import os
import textwrap
from dataclasses import dataclass, field

import gast

from ..errors import SourceUnavailableError, UnsupportedSyntaxError


@dataclass
class Source:
    """A parsed user function and the way back to its file."""

    fn: object                 # the user's (undecorated) function object
    tree: gast.FunctionDef     # decorators stripped
    filename: str
    first_line: int            # file line number of the snippet's line 1
    lines: list = field(repr=False)   # the snippet's source lines, dedented
    # (statement, name, other, op): ``name op= ...`` where name may share memory with ``other``
    shared_updates: list = field(default_factory=list, repr=False)
    # (statement, name, parameters): ``name op= ...`` where name may be those arguments (changed in place)
    argument_updates: list = field(default_factory=list, repr=False)

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
        """An exception of class ``cls`` pointing at ``node`` in the user's file."""
        return cls(message, filename=self.filename, lineno=self.file_line(node),
                   construct=self.text(node), hint=hint)


def unwrap(fn):
    """The user's own function behind ``@differentiable`` and ``functools.wraps`` layers."""
    while True:
        inner = getattr(fn, "__wrapped__", None)
        if inner is None:
            return fn
        fn = inner


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
    return Source(fn=None, tree=tree, filename=nested.filename, first_line=nested.first_line,
                  lines=list(nested.lines))


_generated = {}     # code object of a compiled generated function -> (its source text, file name)


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
    if not inspect.isfunction(fn):
        raise SourceUnavailableError(
            f"cannot differentiate {name!r}: it is not a Python function "
            f"(s2sad reads source code; for a builtin or C extension register a rule "
            f"with `@s2sad.rules.vjp`)")
    filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    if filename and os.path.exists(filename):      # an edited file is read again, whatever its mtime says
        linecache.updatecache(filename, fn.__globals__)
    try:
        lines, first_line = inspect.getsourcelines(fn)
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
    if not isinstance(tree, gast.FunctionDef):
        # inspect returns the whole line for a lambda; lambdas come with calls to user functions.
        raise UnsupportedSyntaxError(
            "lambdas cannot be differentiated directly yet", filename=filename, lineno=first_line,
            construct=lines[0].strip(), hint="define the function with `def`")
    tree.decorator_list = []
    return Source(fn=fn, tree=tree, filename=filename, first_line=first_line,
                  lines=snippet.splitlines())
