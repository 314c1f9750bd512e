"""Generated code as a written module holds it: the same after an edit elsewhere in the source.

The driver numbers a function's temporaries in order (``_t1``, ``_t2``, ...) and its comments cite
source lines (``# grad of line 23: ...``). In a file kept under version control that makes one new
operation renumber every later temporary of the function, and one new line (a comment even)
rewrite every later comment. ``stable`` renames each temporary after the variable the statement
that first computes it assigns (``_t4 = x * _t3; y = _t4 * 2`` becomes ``_y2 = x * _y1; y = _y2 * 2``;
those of a second statement assigning ``y`` are ``_y2_1, _y2_2, ...``), with the names derived from it
(``_t4_bar`` becomes ``_y2_bar``), and drops the line numbers from the comments:

>>> print(stable('''def f_jvp(x_dot, x):
...     # line 12: y = np.sin(x) * 2.0
...     _t1 = np.sin(x)
...     _t1_dot = x_dot * np.cos(x)
...     y = _t1 * 2.0
...     y_dot = _t1_dot * 2.0
...     _t2 = y + x
...     return (_t2, y_dot + x_dot)
... '''), end="")
def f_jvp(x_dot, x):
    # tangent of: y = np.sin(x) * 2.0
    _y1 = np.sin(x)
    _y1_dot = x_dot * np.cos(x)
    y = _y1 * 2.0
    y_dot = _y1_dot * 2.0
    _t1 = y + x
    return (_t1, y_dot + x_dot)

The renaming is a consistent renaming of the function's local names to names nothing else in it
uses, so the code computes what it computed. A refusal the code raises at run time (an in-place
update of an array another name may share) keeps its ``file:line``, the file without its folder.
"""
import ast
import os
import re

from . import names as text_names

_TEMP = re.compile(r"_t\d+")
_DERIVED = re.compile(r"(_t\d+)(_\w+)")
_WHERE = re.compile(r"(.+\.py):(\d+): ")        # a refusal raised where the code runs: "/abs/model.py:12: ..."
_COMMENTS = [(re.compile(r"^(\s*)# grad of line \d+: ", re.M), r"\1# grad of: "),
             (re.compile(r"^(\s*)# line \d+: ", re.M), r"\1# tangent of: ")]


def stable(text):
    """``text`` (one generated function) with its temporaries named after the variables they compute
    and no source line numbers in its comments."""
    for pattern, replacement in _COMMENTS:
        text = pattern.sub(replacement, text)
    text = _file_names(text)
    tree = ast.parse(text)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return text
    local = text_names.local_names(text)
    derived = {}                                   # "_t4_bar" -> ("_t4", "_bar")
    for name in local:
        m = _DERIVED.fullmatch(name)
        if m:
            derived[name] = m.groups()
    temps = {name for name in local if _TEMP.fullmatch(name)} | {base for base, _ in derived.values()}
    if not temps:
        return text
    old = temps | set(derived)
    if any(isinstance(node, (ast.Global, ast.Nonlocal)) and old & set(node.names) for node in ast.walk(tree)):
        return text                                # (the driver writes none; renaming them is not needed)
    anchors = list(_anchors(tree.body[0].body, temps))
    kept = temps - {temp for temp, _ in anchors}   # no variable to name it after (`_t1 = []` filled by appends)
    used = _identifiers(tree) - (old - kept - {name for name, (base, _) in derived.items() if base in kept})
    bases, counts = {}, {}
    for temp, stem in anchors:
        k = counts.get(stem, 0)
        while True:
            k += 1
            new = f"_{stem}{k}"
            if new not in used and all(new + suffix not in used for base, suffix in derived.values() if base == temp):
                break
        counts[stem] = k
        bases[temp] = new
        used |= {new} | {new + suffix for base, suffix in derived.values() if base == temp}
    mapping = dict(bases)
    mapping.update({name: bases[base] + suffix for name, (base, suffix) in derived.items() if base in bases})
    return text_names.rename(text, mapping)


def _file_names(text):
    """``text`` with the source files that the refusals it raises at run time cite named without their
    folder (``_s2.unshared(x, 'model.py:12: ...')``): the written module is the same on every machine."""
    spots = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            m = _WHERE.match(node.value)
            if m and os.path.isabs(m.group(1)):
                new = os.path.basename(m.group(1)) + node.value[len(m.group(1)):]
                spots.append((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, repr(new)))
    if not spots:
        return text
    lines = text.splitlines(keepends=True)
    for line, col, end_line, end_col, new in sorted(spots, reverse=True):
        first, last = lines[line - 1].encode(), lines[end_line - 1].encode()
        lines[line - 1:end_line] = [(first[:col] + new.encode() + last[end_col:]).decode()]
    return "".join(lines)


def _anchors(body, temps):
    """(temporary, the stem of its new name) for each temporary, in the order they are first computed:
    the temporaries computed for the n-th statement assigning ``y`` are named ``_y1, _y2, ...`` (n = 1)
    or ``_y<n>_1, _y<n>_2, ...``, so a new one renames only those of its own statement."""
    pending, seen, out, assigned = [], set(), [], {}
    for stmt in _statements(body):
        if _is_placeholder(stmt):                  # ``_t5 = None`` before a loop: not where it is computed
            continue
        for name in _targets(stmt):
            derived = _DERIVED.fullmatch(name)
            base = name if name in temps else derived.group(1) if derived else None
            if base is None:
                assigned[name] = n = assigned.get(name, 0) + 1
                variable = name.lstrip("_") or "t"
                stem = f"{variable}{n}_" if n > 1 else variable + ("_" if variable[-1].isdigit() else "")
                out += [(temp, stem) for temp in pending]
                pending = []
            elif base not in seen:             # (``_t2_bar = ...`` with no ``_t2`` computes it too)
                seen.add(base)
                pending.append(base)
    out += [(temp, "t") for temp in pending]          # computed for no assignment (``return _t3``)
    return out


def _statements(body):
    """Every statement of ``body`` in the order of the text, nested ones after the one holding them."""
    for stmt in body:
        yield stmt
        for field in ("body", "orelse", "finalbody"):
            yield from _statements(getattr(stmt, field, None) or [])
        for handler in getattr(stmt, "handlers", None) or []:
            yield from _statements(handler.body)


def _targets(stmt):
    """The names ``stmt`` assigns, left to right."""
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        targets = [stmt.target]
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in stmt.items if item.optional_vars is not None]
    else:
        return []
    return [node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Store)]


def _is_placeholder(stmt):
    return isinstance(stmt, ast.Assign) and isinstance(stmt.value, (ast.Constant, ast.List)) and \
        (getattr(stmt.value, "value", 0) is None or (isinstance(stmt.value, ast.List) and not stmt.value.elts))


def _identifiers(tree):
    """Every name ``tree`` reads, binds or takes as a parameter."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names
