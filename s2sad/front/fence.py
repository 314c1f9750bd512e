"""Refuse, before any transformation, the syntax s2sad cannot differentiate.

Each refusal names the user's file and line, the construct, and what to do instead.
Everything that passes the fence is something the later passes handle.
"""
import gast

from ..errors import UnsupportedSyntaxError

# construct -> (what it is, what to do)
_REFUSED = {
    gast.For: ("`for` loops are not supported yet", "vectorise the loop with NumPy operations"),
    gast.AsyncFor: ("async loops cannot be differentiated", None),
    gast.While: ("`while` loops are not supported yet", "vectorise the loop with NumPy operations"),
    gast.Break: ("`break` is not supported yet", None),
    gast.Continue: ("`continue` is not supported yet", None),
    gast.Try: ("try/except cannot be differentiated", "move the try/except outside the differentiated function"),
    gast.With: ("`with` blocks cannot be differentiated", "move the `with` block outside the differentiated function"),
    gast.AsyncWith: ("async `with` cannot be differentiated", None),
    gast.Global: ("`global` statements cannot be differentiated", "pass the value as an argument and return the new one"),
    gast.Nonlocal: ("`nonlocal` statements cannot be differentiated", "pass the value as an argument and return the new one"),
    gast.Delete: ("`del` is not supported in differentiated code", "drop the `del` statement"),
    gast.Import: ("imports inside a differentiated function are not supported", "import at module level"),
    gast.ImportFrom: ("imports inside a differentiated function are not supported", "import at module level"),
    gast.ClassDef: ("class definitions inside a differentiated function are not supported", "define the class at module level"),
    gast.FunctionDef: ("nested function definitions are not supported yet", "define the helper at module level and register a rule for it"),
    gast.AsyncFunctionDef: ("async functions cannot be differentiated", None),
    gast.Lambda: ("lambdas are not supported yet", "use a NumPy expression instead"),
    gast.ListComp: ("list comprehensions are not supported yet", "use a NumPy expression instead"),
    gast.SetComp: ("set comprehensions are not supported", None),
    gast.DictComp: ("dict comprehensions are not supported yet", None),
    gast.GeneratorExp: ("generator expressions are not supported yet", "use a NumPy expression instead"),
    gast.Yield: ("generators cannot be differentiated", "return a value instead of yielding"),
    gast.YieldFrom: ("generators cannot be differentiated", "return a value instead of yielding"),
    gast.Await: ("`await` cannot be differentiated", None),
    gast.NamedExpr: ("assignment expressions (`:=`) are not supported", "assign in a separate statement"),
    gast.Starred: ("starred expressions (`*args`) are not supported", "pass the arguments one by one"),
    gast.Dict: ("dict literals are not supported yet", None),
    gast.Set: ("set literals are not supported", None),
}
if hasattr(gast, "Match"):
    _REFUSED[gast.Match] = ("`match` statements are not supported", "use if/elif")


def run(source):
    """Raise UnsupportedSyntaxError for the first construct the passes cannot handle."""
    fn = source.tree
    args = fn.args
    if args.vararg is not None or args.kwarg is not None:
        raise source.error(UnsupportedSyntaxError, "functions with *args or **kwargs parameters cannot be differentiated",
                           fn, hint="name each parameter")
    for stmt in fn.body:
        _check(source, stmt, outer=fn)
    _check_returns(source, fn.body)


def _check(source, node, outer):
    for child in gast.walk(node):
        if child is outer:
            continue
        entry = _REFUSED.get(type(child))
        if entry is not None:
            what, hint = entry
            where = child if getattr(child, "lineno", None) else node
            raise source.error(UnsupportedSyntaxError, what, where, hint=hint)
        if isinstance(child, gast.Call):
            for kw in child.keywords:
                if kw.arg is None:
                    raise source.error(UnsupportedSyntaxError, "`**kwargs` in calls is not supported", node,
                                       hint="pass the keyword arguments one by one")


def _check_returns(source, body):
    """One `return`, as the last statement: early returns come with control-flow support."""
    for i, stmt in enumerate(body):
        for node in gast.walk(stmt):
            if isinstance(node, gast.Return) and not (node is stmt and i == len(body) - 1):
                raise source.error(UnsupportedSyntaxError, "a `return` before the end of the function is not supported yet",
                                   node, hint="assign the result to a variable and return it at the end")
    if not body or not isinstance(body[-1], gast.Return) or body[-1].value is None:
        last = body[-1] if body else source.tree
        raise source.error(UnsupportedSyntaxError, "a differentiated function must end with `return <value>`", last)
