"""Refuse, before any transformation, the syntax s2sad cannot differentiate.

Each refusal names the user's file and line, the construct, and what to do instead.
Everything that passes the fence is something the later passes handle.
"""
import gast

from .. import nodes as N
from ..errors import UnsupportedSyntaxError

# construct -> (what it is, what to do)
_REFUSED = {
    gast.AsyncFor: ("async loops cannot be differentiated", "use a plain `for` loop"),
    gast.Try: ("try/except cannot be differentiated", "move the try/except outside the differentiated function"),
    gast.With: ("`with` blocks cannot be differentiated", "move the `with` block outside the differentiated function"),
    gast.AsyncWith: ("async `with` cannot be differentiated", "move it outside the differentiated function"),
    gast.Global: ("`global` statements cannot be differentiated", "pass the value as an argument and return the new one"),
    gast.Nonlocal: ("`nonlocal` statements cannot be differentiated", "pass the value as an argument and return the new one"),
    gast.Delete: ("`del` is not supported in differentiated code", "drop the `del` statement"),
    gast.Import: ("imports inside a branch, a loop or a nested function are not supported",
                  "import at module level or at the top of the function's body"),
    gast.ImportFrom: ("imports inside a branch, a loop or a nested function are not supported",
                      "import at module level or at the top of the function's body"),
    gast.ClassDef: ("class definitions inside a differentiated function are not supported", "define the class at module level"),
    gast.AsyncFunctionDef: ("async functions cannot be differentiated", "define the helper at module level without async"),
    gast.Yield: ("generators cannot be differentiated", "return a value instead of yielding"),
    gast.YieldFrom: ("generators cannot be differentiated", "return a value instead of yielding"),
    gast.Await: ("`await` cannot be differentiated", "await outside the differentiated function"),
    gast.NamedExpr: ("assignment expressions (`:=`) are not supported", "assign in a separate statement"),
}
if hasattr(gast, "TryStar"):
    _REFUSED[gast.TryStar] = ("try/except* cannot be differentiated",
                              "move the try/except outside the differentiated function")
if hasattr(gast, "Match"):
    _REFUSED[gast.Match] = ("`match` statements are not supported", "use if/elif")


def run(source):
    """Raise UnsupportedSyntaxError for the first construct the passes cannot handle."""
    fn = source.tree
    for stmt in fn.body:
        if isinstance(stmt, (gast.Import, gast.ImportFrom)):
            continue                    # the function's own imports: front/modules.py reads them as what they bind
        _check(source, stmt, outer=fn)
    _check_returns(source, fn.body)
    for node in N.walk(fn):
        if isinstance(node, gast.FunctionDef) and node is not fn:
            if node.decorator_list:
                raise source.error(UnsupportedSyntaxError, "decorated functions defined inside a differentiated "
                                   "function are not supported", node, hint="define it at module level")



def _check(source, node, outer):
    for child in N.walk(node):
        if child is outer:
            continue
        entry = _REFUSED.get(type(child))
        if entry is not None:
            what, hint = entry
            where = child if getattr(child, "lineno", None) else node
            raise source.error(UnsupportedSyntaxError, what, where, hint=hint)


def _check_returns(source, body):
    """A differentiated function returns a value (``return`` may stand anywhere)."""
    returns = [n for s in body for n in N.walk(s) if isinstance(n, gast.Return)]
    nested = [n for s in body for n in N.walk(s) if isinstance(n, gast.FunctionDef)]
    inner = {id(r) for f in nested for r in N.walk(f) if isinstance(r, gast.Return)}
    if not [r for r in returns if id(r) not in inner]:
        returns = []
    for node in returns:
        if node.value is None:
            raise source.error(UnsupportedSyntaxError, "a differentiated function must return a value", node,
                               hint="write `return <value>`")
    if not returns:
        last = body[-1] if body else source.tree
        raise source.error(UnsupportedSyntaxError, "a differentiated function must end with `return <value>`", last)
