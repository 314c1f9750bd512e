"""The ``p=None`` default idiom: a parameter that defaults to None, made a new object when it is None, then changed
in place::

    def simulate(x, trajectory=None):       def simulate(x, trajectory=None):
        if trajectory is None:        ->        _s2.none_argument(trajectory, "sim.py:2: this function ...")
            trajectory = []                     trajectory = []
        for k in range(3):                      for k in range(3):
            x = step(x)                             x = step(x)
            trajectory.append(x)                    trajectory.append(x)

A change in place of an argument cannot be differentiated (analysis/effects.py refuses it): the caller's object
would hold values of the forward sweep. Called with None (the default: the common case), the function changes
only the object it made, which the analysis follows. So the test goes: the code takes the branch, and a check
where the code runs refuses any other value with the reason (``runtime.none_argument``).

Sound: with ``p`` None, the rewritten function runs what the original runs; with any other value it runs nothing.
Done only where it matters (else a caller passing a list of its own would be refused for nothing): a parameter whose
default is None, tested by ``if p is None:`` (no ``else``) among the function's own statements, the branch binding
``p``, ``p`` read nowhere before that test, and changed in place somewhere (``p.append(...)``, ``p[k] = ...``,
``p += ...``: analysis/effects.py's ``IN_PLACE_METHODS``). ``p = [] if p is None else p`` is the same test.
"""
import gast

from .. import nodes as N
from .. import runtime


def run(tree, unit):
    """``tree`` with the idiom rewritten for each parameter that has it (a copy; ``tree`` itself if none has)."""
    fn = getattr(unit, "fn", None)
    if fn is None:
        return tree
    changed = _changed_in_place(tree)
    found = {}
    for name in _none_defaults(tree, fn) & changed:
        k = _idiom(tree, name)
        if k is not None:
            found[k] = name
    if not found:
        return tree
    tree = N.clone(tree)
    body = []
    for k, s in enumerate(tree.body):
        if k not in found:
            body.append(s)
            continue
        name = found[k]
        where = f"{unit.source.filename}:{unit.source.file_line(s)}"
        check = N.call(unit.aliases.ref(runtime.none_argument, "none_argument"),
                       [N.name(name), N.const(f"{where}: this function changes its argument `{name}` in place")])
        body.append(N.located(gast.Expr(value=check), s))
        if isinstance(s, gast.If):
            body.extend(s.body)
        else:                                              # p = <new> if p is None else p
            value = s.value
            s.value = value.body if _is_none_test(value.test, name) else value.orelse
            body.append(s)
    tree.body = body
    return tree


def _none_defaults(tree, fn):
    """The parameters of ``tree`` whose default is None."""
    args = tree.args
    positional = [a.id for a in args.posonlyargs + args.args]
    defaults = fn.__defaults__ or ()
    names = {p for p, d in zip(positional[len(positional) - len(defaults):], defaults) if d is None}
    names |= {k for k, d in (fn.__kwdefaults__ or {}).items() if d is None}
    return names


def _is_none_test(test, name, negated=False):
    """Whether ``test`` is ``name is None`` (``name is not None`` when ``negated``)."""
    op = gast.IsNot if negated else gast.Is
    return isinstance(test, gast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], op) \
        and isinstance(test.left, gast.Name) and test.left.id == name \
        and isinstance(test.comparators[0], gast.Constant) and test.comparators[0].value is None


def _idiom(tree, name):
    """The index in ``tree.body`` of the statement testing ``name`` for None and binding it, with ``name`` read
    nowhere before it; else None."""
    for k, s in enumerate(tree.body):
        if isinstance(s, gast.If) and _is_none_test(s.test, name) and not s.orelse \
                and any(_binds(t, name) for t in s.body):
            return k
        if isinstance(s, gast.Assign) and len(s.targets) == 1 and _binds(s, name) \
                and isinstance(s.value, gast.IfExp) and (
                    _is_none_test(s.value.test, name) and _is_name(s.value.orelse, name)
                    or _is_none_test(s.value.test, name, negated=True) and _is_name(s.value.body, name)):
            return k
        if _mentions([s], name):
            return None
    return None


def _is_name(node, name):
    return isinstance(node, gast.Name) and node.id == name


def _binds(s, name):
    return isinstance(s, gast.Assign) and any(_is_name(t, name) for t in s.targets)


def _mentions(stmts, name):
    return any(isinstance(n, gast.Name) and n.id == name for s in stmts for n in N.walk(s))


def _changed_in_place(tree):
    """The names the function changes in place syntactically: ``p.append(...)`` (a method that changes its
    object), ``p[k] = v``, ``p.a = v``, ``p[k] += v``, ``p += v``."""
    from ..analysis.effects import IN_PLACE_METHODS
    names = set()
    for n in N.walk(tree):
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and n.func.attr in IN_PLACE_METHODS \
                and isinstance(n.func.value, gast.Name):
            names.add(n.func.value.id)
        elif isinstance(n, gast.AugAssign):
            names.add(_root(n.target))
        elif isinstance(n, gast.Assign):
            for t in n.targets:
                for item in t.elts if isinstance(t, (gast.Tuple, gast.List)) else [t]:
                    if isinstance(item, (gast.Subscript, gast.Attribute)):
                        names.add(_root(item))
    return names


def _root(target):
    while isinstance(target, (gast.Subscript, gast.Attribute)):
        target = target.value
    return target.id if isinstance(target, gast.Name) else None
