"""What a piece of generated or copied source reads from its module, and renaming those reads.

Generated functions, user functions and runtime helpers all end up in one module, so the
writer needs to know which names each piece reads from the module's namespace (to put
them there) and which it binds itself (to avoid them when it picks a name):

>>> text = "def f_vjp(x, k=K):\\n    y = np.sin(x) * f_vjp(x - 1)[0]\\n    return len(y)\\n"
>>> sorted(global_names(text)), sorted(local_names(text))
(['K', 'f_vjp', 'len', 'np'], ['k', 'x', 'y'])
>>> print(rename(text, {"f_vjp": "f_vjp_2", "np": "numpy"}), end="")
def f_vjp_2(x, k=K):
    y = numpy.sin(x) * f_vjp_2(x - 1)[0]
    return len(y)
"""
import ast
import re
import symtable

_DEF = re.compile(r"(?:async\s+)?def\s+|class\s+")


def _tables(text):
    top = symtable.symtable(text, "<s2sad>", "exec")
    stack, nested = list(top.get_children()), []
    while stack:
        table = stack.pop()
        nested.append(table)
        stack.extend(table.get_children())
    return top, nested


def global_names(text):
    """Names ``text`` reads from its module: at its top level (defaults, decorators, base
    classes) and inside its functions, including a function's reads of its own name."""
    top, nested = _tables(text)
    names = {s.get_name() for s in top.get_symbols()
             if s.is_referenced() and not s.is_assigned() and not s.is_imported()}
    for table in nested:
        names |= {s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()}
    return names


def local_names(text):
    """Names ``text`` binds inside its functions and classes (a module-level name must not be one of them)."""
    _, nested = _tables(text)
    return {s.get_name() for table in nested for s in table.get_symbols() if s.is_local() or s.is_parameter()}


def attributes(text, name):
    """The attributes ``text`` reads from ``name``: {"unbroadcast", ...} for ``_s2.unbroadcast(...)``."""
    return {node.attr for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id == name}


def bare_reads(text, name):
    """Whether ``text`` reads ``name`` other than as ``name.attr`` (passes it on, calls it, assigns it)."""
    tree = ast.parse(text)
    owners = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    return any(isinstance(node, ast.Name) and node.id == name and id(node) not in owners for node in ast.walk(tree))


def rename(text, mapping):
    """``text`` with the names in ``mapping`` renamed where they are read, defined or are parameters; comments
    and layout stay as they are."""
    spots = []                                     # (line, byte column, old, new)
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Name) and node.id in mapping:
            spots.append((node.lineno, node.col_offset, node.id, mapping[node.id]))
        elif isinstance(node, ast.arg) and node.arg in mapping:
            spots.append((node.lineno, node.col_offset, node.arg, mapping[node.arg]))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in mapping:
            line = text.splitlines()[node.lineno - 1].encode()
            keyword = _DEF.match(line[node.col_offset:].decode())
            spots.append((node.lineno, node.col_offset + len(keyword.group().encode()), node.name, mapping[node.name]))
    lines = text.splitlines(keepends=True)
    for lineno, col, old, new in sorted(spots, reverse=True):
        line = lines[lineno - 1].encode()
        lines[lineno - 1] = (line[:col] + new.encode() + line[col + len(old.encode()):]).decode()
    return "".join(lines)


def without_lines(text, numbers):
    """``text`` without the lines numbered (from 1) in ``numbers``: imports or decorators a copy leaves out."""
    return "".join(line for i, line in enumerate(text.splitlines(keepends=True), 1) if i not in numbers)
