"""Generator functions as functions that return lists.

A generator function whose every ``yield`` is a statement (``yield v``) is rewritten to build the list
of what it yields and return it::

    def squares(xs):                 def squares(xs):
        for x in xs:                     _yielded = []
            yield x * x        ->        for x in xs:
                                             _yielded.append(x * x)
                                         return _yielded

The same values in the same order, computed eagerly instead of one at a time. That is the generator's
meaning only where its iterator is used up at once, with nothing running between two items (a ``for``
loop over it, or an argument of ``sum``, ``list``, ``zip``, ...): front/normalize.py accepts calls of such
functions only there. ``yield`` as an expression (``x = yield``) and ``yield from`` are left for the
fence to refuse, and so is a generator with a ``while True`` loop (it may never end: its items cannot
all be computed first).
"""
import gast

from .. import nodes as N

MARK = "s2sad_generator"          # attribute set on a rewritten FunctionDef


def as_lists(tree):
    """Rewrite ``tree`` (a FunctionDef) and the functions defined in it, in place; returns ``tree``."""
    for node in list(N.walk(tree)):
        if isinstance(node, gast.FunctionDef) and _own_yields(node):
            _rewrite(node)
    return tree


def is_generator(node):
    return getattr(node, MARK, None) is not None


def refuse_alone(fn):
    """Raise when ``fn`` (a function object) is a generator function: differentiated on its own, its value
    would be a list where the user's code gives an iterator."""
    import inspect
    if not inspect.isgeneratorfunction(fn):
        return
    from ..errors import UnsupportedSyntaxError
    from .source import read
    message = ("a generator function is differentiated where it is called in differentiated code and its items "
               "are used up at once (a `for` loop, sum, list, ...), not on its own or as a function value")
    hint = "differentiate a function that uses it up, e.g. one returning `sum(gen(x))`"
    source = read(fn)
    first = getattr(source.tree, MARK, None)
    if first is None:                               # not rewritten: the fence names the construct
        from . import fence
        fence.run(source)
    raise source.error(UnsupportedSyntaxError, message, first if first is not None else source.tree, hint=hint)


def _own(node):
    """The nodes of ``node``'s body, not those of the functions and lambdas defined in it."""
    stack = list(node.body)
    while stack:
        n = stack.pop()
        yield n
        if not isinstance(n, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            stack.extend(gast.iter_child_nodes(n))


def _own_yields(node):
    return [n for n in _own(node) if isinstance(n, (gast.Yield, gast.YieldFrom))]


def _rewrite(fn):
    yields = _own_yields(fn)
    statements = {id(n.value) for n in _own(fn) if isinstance(n, gast.Expr)}
    if any(isinstance(y, gast.YieldFrom) or id(y) not in statements for y in yields):
        return                                         # the fence refuses what is left
    if any(isinstance(n, gast.While) and isinstance(n.test, gast.Constant) and n.test.value for n in _own(fn)):
        return                                         # `while True: yield ...`: endless, so not eager
    taken = {n.id for n in N.walk(fn) if isinstance(n, gast.Name)} | {a.id for a in fn.args.args}
    name, k = "_yielded", 0
    while name in taken:
        k += 1
        name = f"_yielded_{k}"
    first = None
    for n in _own(fn):
        if isinstance(n, gast.Expr) and isinstance(n.value, gast.Yield):
            first = n if first is None or (n.lineno, n.col_offset) < (first.lineno, first.col_offset) else first
            item = n.value.value if n.value.value is not None else N.const(None)
            n.value = N.located(gast.Call(func=gast.Attribute(value=N.name(name), attr="append", ctx=gast.Load()),
                                          args=[item], keywords=[]), n)
        elif isinstance(n, gast.Return):               # a generator's return ends it (its value is not an item)
            n.value = _copy(name)
    start = N.located(N.assign(name, gast.List(elts=[], ctx=gast.Load())), fn.body[0])
    # with a return inside, every return gives a copy (the analysis then sees no name holding the list it
    # is still appending to)
    early = any(isinstance(n, gast.Return) for n in _own(fn))
    end = [N.located(gast.Return(value=_copy(name) if early else N.name(name)), fn.body[-1])] \
        if not isinstance(fn.body[-1], gast.Return) else []
    fn.body = [start] + fn.body + end
    setattr(fn, MARK, first)


def _copy(name):
    """``name[:]``"""
    return gast.Subscript(value=N.name(name), slice=gast.Slice(lower=None, upper=None, step=None), ctx=gast.Load())
