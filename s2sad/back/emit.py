"""Print generated functions as source, and compile them so tracebacks show generated lines.

Generated code is compiled from text registered in ``linecache`` under a
descriptive file name, so a traceback (and pdb) from inside a gradient shows
the generated line, not ``<string>``.
"""
import ast
import itertools
import linecache
import re
import types

from .. import nodes as N
from .link import Link

_COMMENT = re.compile(rf"^(\s*){N.COMMENT_PREFIX}\((['\"])(.*)\2\)$")
_serial = itertools.count(1)


def _no_empty_blocks(node):
    """A block holding only comments gets a ``pass`` (a comment alone is not a statement)."""
    import gast
    for n in N.walk(node):
        for field in ("body", "orelse"):
            block = getattr(n, field, None)
            if isinstance(block, list) and block and all(N.is_comment(s) for s in block) \
                    and isinstance(n, (gast.For, gast.While, gast.If, gast.FunctionDef)):
                block.append(gast.Pass())


def source_text(fn_tree):
    """The source of a generated FunctionDef, with its comment markers turned into comments."""
    _no_empty_blocks(fn_tree)
    lines = []
    for line in N.unparse(fn_tree).splitlines():
        m = _COMMENT.match(line)
        if m:
            text = ast.literal_eval(m.group(2) + m.group(3) + m.group(2))
            line = f"{m.group(1)}# {text}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def compile_function(text, name, fn_globals, cells, bindings, origin, defaults=None, kwdefaults=None):
    """Compile the function ``name`` defined in ``text``.

    ``cells``: the user's closure cells by name (read live); ``bindings``: values for the
    aliases the generated code introduced (``_s2``, ``np``, ...). The function sees the
    user's globals dict itself, so later changes to globals are seen.
    """
    outer = sorted(set(cells) | set(bindings))
    header = f"def __s2sad_factory__({', '.join(outer)}):\n"
    body = "".join("    " + line + "\n" if line else "\n" for line in text.splitlines())
    full = header + body + f"    return {name}\n"
    filename = f"<s2sad {name} #{next(_serial)} from {origin}>"
    linecache.cache[filename] = (len(full), None, full.splitlines(True), filename)
    module_code = compile(full, filename, "exec")
    factory_code = next(c for c in module_code.co_consts if isinstance(c, types.CodeType))
    inner = next(c for c in factory_code.co_consts if isinstance(c, types.CodeType) and c.co_name == name)
    own = types.CellType()                     # a recursive function refers to itself by name
    closure = tuple(cells[v] if v in cells else own if v == name else types.CellType(bindings[v])
                    for v in inner.co_freevars)
    fn = types.FunctionType(inner, fn_globals, name, defaults, closure or None)
    own.cell_contents = fn
    if kwdefaults:
        fn.__kwdefaults__ = dict(kwdefaults)
    links = [cell for cell in closure if isinstance(_contents(cell), Link)]     # (a user's cell may be empty)
    return fn, links


def _contents(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return None


def resolve_links(cells, resolve):
    """Fill the cells that hold links to other generated functions (after the caller is registered);
    ``resolve(link)`` gives a pipeline.Bound. Returns the Bound objects."""
    linked = []
    for cell in cells:
        if isinstance(cell.cell_contents, Link):
            bound = resolve(cell.cell_contents)
            cell.cell_contents = bound.fn
            linked.append(bound)
    return linked
