"""What may share memory, and what changes a value in place.

Two names *may alias* when one is assigned from the other by an operation that can return
the same object or a view of it (``b = a``, ``b = a[i]``, ``b = a.T``, ``a, b = t``,
``t = (a, b)``, ``xs.append(v)``, a loop's sequence, a call's result and its arguments).
The classes are computed flow-insensitively by union-find, so they over-approximate.

A statement *mutates* a name when it changes the object the name holds: ``x[i] = v``,
``xs.append(v)``, a method of a local that is known to work in place (``sort``, ``fill``,
``extend``, ...), or an ``out=`` argument.

Why it matters: derivatives of a value flow along its name. A change made through one name
while another name holding the same object is read afterwards would be seen by the reads but
not by the derivative code. ``check`` refuses that (for values that carry derivatives), and
activity (analysis/activity.py) lets a change through a name flow into its whole class.

>>> from s2sad.unit import unit_for_text
>>> from s2sad.front import normalize
>>> unit = unit_for_text('''
... def f(x):
...     xs = []
...     ys = xs
...     xs.append(x)
...     return ys
... ''')
>>> facts = run(normalize.run(unit.source.tree, unit), unit)
>>> sorted(facts.classes["xs"]), sorted(facts.mutated)
(['xs', 'ys'], ['xs'])
"""
import builtins
import collections
import copy
import operator
import types
from dataclasses import dataclass, field

import gast
import numpy as np

from .. import nodes as N
from .. import markers, runtime, tree
from ..errors import UnsupportedSyntaxError
from ..front.resolve import MISSING, assigned_names
from ..views import NUMPY_VIEWS
from .ops import APPEND, PACK, UNKNOWN, classify, names_in
from .ops import _module_ref as ops_module_ref

IN_PLACE_METHODS = {"sort", "fill", "put", "partition", "resize", "setfield", "itemset", "byteswap", "setflags",
                    "append", "extend", "insert", "remove", "pop", "clear", "reverse", "update", "setdefault",
                    "popitem", "__setitem__", "__iadd__", "__imul__", "add", "discard", "shuffle"}


@dataclass
class Effects:
    classes: dict = field(default_factory=dict)     # name -> names whose objects a change through it may change
    mutated: dict = field(default_factory=dict)     # name -> list of statements changing its object in place
    returned: frozenset = frozenset()               # parameters whose objects (or parts) a `return` may give back


def run(fn, unit, kinds=None):
    """Which names may hold the same object, and the changes in place, of the normalized function ``fn``
    (``kinds``: analysis/shapes.kinds, when known, tells a number read from an array from a view of it).

    A points-to analysis, flow-insensitive (so it over-approximates): every name may point to a set of
    abstract objects (a parameter's, one per statement that may make a new object), and an object
    may contain others (``c = [a, b]``, ``c.append(a)``, ``c[i] = a``). ``b = a`` and views (``a[i]``,
    ``a.T``, a call that may return its argument) point to what ``a`` points to, and an item read
    from a container to what it contains. A change through a name reaches every name pointing to
    one of its objects or to a container holding one (``classes``).
    """
    points = collections.defaultdict(set)                # name -> abstract objects
    contents = collections.defaultdict(set)              # object -> objects it may contain
    mutated = {}
    for p in N.params(fn):
        points[p].add(("param", p))
    for n in N.walk(fn):                                 # a global or closure value: the module's object
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and unit.scope.is_free(n.id) \
                and _holds_data(unit.scope.lookup(n.id)):
            points[n.id].add(("free", n.id))
    rules = []                                           # (target names, source objects function) to iterate
    literal = set()                                      # objects made by a list, tuple or dict literal

    def objects(node):
        names = _names_reaching(node, kinds)
        return set().union(*[points[n] for n in names]) if names else set()

    for s in N.statements(fn.body):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, (gast.Subscript, gast.Attribute)):
                for n in _root_names(target.value):
                    mutated.setdefault(n, []).append(s)
                    if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name) and kinds \
                            and type(kinds.get(n)) is int and kinds[n] >= 1:
                        continue                         # an array's items are numbers: `a[i] = v` copies v's
                    rules.append(("contain", n, s.value, _made_inside(s.value, s)))   # x[i] = v: x now holds v
                continue
            targets = [n.id for n in N.walk(target) if isinstance(n, gast.Name)]
            value = s.value
            site = ("site", id(s))
            _note_in_place_method(value, s, unit, mutated, rules)     # t = d.setdefault(k, []), t = xs.pop()
            if isinstance(value, (gast.Tuple, gast.List, gast.Dict)) and isinstance(target, gast.Name):
                for t in targets:
                    points[t].add(site)
                literal.add(site)                                # a list, tuple or dict: its items are not views
                rules.append(("contain-site", site, value, _made_inside(value, s, items=True)))
            elif isinstance(target, gast.Name) and (_scalar_item(value, kinds) or _metadata(value, unit)
                                                    or _advanced_index(value, kinds)):
                points[target.id].add(site)                      # a number read from an array, x.shape: new objects
            elif isinstance(target, gast.Tuple) and all(isinstance(t, gast.Name) for t in target.elts) \
                    and (isinstance(value, gast.Name) and kinds and kinds.get(value.id) == 1
                         or _scalar_item(value, kinds, rows=True)):
                for t in targets:                                # a, b, c = x with x 1-d, a, b = X[t] with X 2-d:
                    points[t].add(site)                          # numbers, no views of x
            elif isinstance(target, gast.Name) and _new_container_of(value, unit) is not None:
                points[target.id].add(site)                      # list(xs), sorted(xs), dict(d), copy.copy(c): a
                literal.add(site)                                # new container holding what xs holds: its items
                rules.append(("rows-of", site, _new_container_of(value, unit)))     # (an array's rows: views of it;
                rules.append(("copy-of", site, _new_container_of(value, unit)))     # a list's items, a dict's keys)
            elif isinstance(target, gast.Name) and _holding_items_of(value, unit) is not None:
                points[target.id].add(site)                      # a new dict of the items of a list
                literal.add(site)
                rules.append(("copy-of", site, _holding_items_of(value, unit)))
            elif isinstance(target, gast.Name) and isinstance(value, (gast.Subscript, gast.Attribute)):
                rules.append(("item", target.id, value.value))   # a view, or an item of a container
            elif isinstance(target, gast.Name) and isinstance(value, gast.Name):
                rules.append(("copy", target.id, value))
            elif tangent_code_parts(value, target, unit) is not None:
                for k, (t, names) in enumerate(zip(targets, tangent_code_parts(value, target, unit))):
                    points[t].add(site + (k,))                   # y, y_dot = g_jvp(a_dot, a): y may be a's
                    if names:                                    # object, y_dot a_dot's, never the other's
                        rules.append(("item", t, N.tup([N.name(n) for n in names])))
                        rules.extend(("copy", t, N.name(n)) for n in names)
            else:
                sources = _may_return(value, unit, kinds)
                itself = _returns_itself(value, unit)
                for t in targets:
                    points[t].add(site)                          # a new object, or ...
                    if itself is not None and isinstance(target, gast.Name):
                        rules.append(("copy", t, itself))        # ... its first argument or a view of it
                    elif sources:                                 # ... one of the arguments (or a part of one;
                        rules.append(("item", t, N.tup([N.name(n) for n in sources])))   # a list or dict itself
                        if isinstance(target, gast.Name):                 # too: _s2.sequence(xs) is xs)
                            rules.extend(("copy", t, N.name(n)) for n in sources)
                copied = _copied(value, unit)
                if copied is not None and isinstance(target, gast.Name):
                    rules.append(("copy-of", site, copied))      # a copy holds what the original holds
                joined = _joined_sequences(value, kinds)
                if joined is not None and isinstance(target, gast.Name):
                    literal.add(site)                            # t + (y,), [y] * 3: a new list or tuple holding
                    for part in joined:                          # the items of both
                        rules.append(("copy-of", site, part) if isinstance(part, gast.Name)
                                     else ("contain-site", site, part, _made_inside(part, s, items=True)))
            _note_out(s.value, unit, mutated)
        elif isinstance(s, gast.Expr) and isinstance(s.value, gast.Call):
            value = s.value
            op = classify(value, unit.scope)
            if op.primitive is APPEND:
                items, item = op.args
                for n in names_in(items):
                    mutated.setdefault(n, []).append(s)
                    rules.append(("contain", n, item, _made_inside(item, s)))
            else:
                _note_in_place_method(value, s, unit, mutated, rules)
            _note_out(value, unit, mutated)
    changed = True
    while changed:
        changed = False
        for kind, a, b, *made in rules:
            if kind == "copy":
                new = points[b.id] - points[a]
                if new:
                    points[a] |= new
                    changed = True
            elif kind == "item":                     # a view of b, or something b contains
                found = set()
                for o in objects(b):
                    found |= contents[o] if o in literal else {o} | contents[o]
                new = found - points[a]
                if new:
                    points[a] |= new
                    changed = True
            elif kind == "contain":                  # the objects of name a now contain those of b
                for o in list(points[a]):
                    new = (objects(b) | made[0]) - contents[o]
                    if new:
                        contents[o] |= new
                        changed = True
            elif kind == "contain-site":
                new = (objects(b) | made[0]) - contents[a]
                if new:
                    contents[a] |= new
                    changed = True
            elif kind == "rows-of":                  # list(b) of an array b holds its rows, views of b (of a list,
                new = {o for o in objects(b) if o not in literal} - contents[a]    # tuple or dict made here: its
                if new:                                                            # items, copy-of; keys hold none)
                    contents[a] |= new
                    changed = True
            elif kind == "copy-of":                  # a copy of b: the same contents; a list's copy is a list
                originals = objects(b)
                new = set().union(*[contents[o] for o in originals]) - contents[a] if originals else set()
                if new:
                    contents[a] |= new
                    changed = True
                if originals and originals <= literal and a not in literal:
                    literal.add(a)
                    changed = True
    returned, todo = set(), [o for r in N.walk(fn) if isinstance(r, gast.Return) and r.value is not None
                             for n in _may_return(r.value, unit, kinds) for o in points[n]]
    while todo:                                      # a returned object and everything it may contain
        o = todo.pop()
        if o not in returned:
            returned.add(o)
            todo.extend(contents.get(o, ()))
    holders = collections.defaultdict(set)           # object -> objects that may contain it
    for o, inside in contents.items():
        for i in inside:
            holders[i].add(o)
    affected = {}
    for name in list(points):
        reach, todo = set(points[name]), list(points[name])
        while todo:
            for h in holders.get(todo.pop(), ()):
                if h not in reach:
                    reach.add(h)
                    todo.append(h)
        affected[name] = frozenset(n for n, objs in points.items() if objs & reach) | {name}
    return Effects(classes=affected, mutated=mutated,
                   returned=frozenset(o[1] for o in returned if o[0] == "param"))


def single_values(fn):
    """{name: value} for the names of ``fn`` bound exactly once, by ``name = value`` (no loop target, unpacking,
    ``op=`` or ``del`` of them anywhere): what the name holds wherever it is bound. Normalize's temporaries are
    (``_t4 = _s2.sequence(v)``); the analyses follow them back to the user's values through this map."""
    bindings, values = {}, {}
    for n in N.walk(fn):
        if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load):
            bindings[n.id] = bindings.get(n.id, 0) + 1
    for st in N.statements(fn.body):
        if isinstance(st, gast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], gast.Name):
            values[st.targets[0].id] = st.value
    return {name: v for name, v in values.items() if bindings.get(name) == 1}


def through_temporaries(name, single, limit=8):
    """The value a chain of temporaries bound once ends in (``_t9 = _t4``, ``_t4 = _s2.sequence(v)``:
    ``_s2.sequence(v)``), or the Name node of the first name that is not such a temporary; None for a name that
    is not a temporary bound once."""
    value = single.get(name) if name.startswith("_") else None
    for _ in range(limit):
        if not (isinstance(value, gast.Name) and value.id.startswith("_") and value.id in single):
            break
        value = single[value.id]
    return value


def _writes_the_walked_item(fn, change, seq, single):
    """Whether ``change`` is ``xs[i] = v`` inside a loop that reads ``seq[i]`` (``seq`` the sequence of ``xs`` a
    ``for`` loop walks) before it, with ``i`` the loop's own index (its target, or an item of a ``range`` it
    walks): the item the iteration has read already, which no later iteration reads again. A later item written,
    or the list grown, would be read by the walk as Python's iterator reads it: refused."""
    if not (isinstance(change, gast.Assign) and isinstance(change.targets[0], gast.Subscript)
            and isinstance(change.targets[0].slice, gast.Name)):
        return False
    one = single.get                          # the value of a name bound once, else None
    walked = through_temporaries(seq, single)  # seq: the sequence a loop walks (`_t1 = _s2.sequence(xs)`), no other
    if not (isinstance(walked, gast.Call) and isinstance(walked.func, gast.Attribute)
            and walked.func.attr == "sequence"):
        return False                          # name holding the list (`b = a`: read after the loop, as Python
                                              # changed it)

    def value_of(it, hops=0):                 # through names bound once (`r2 = r`, `r = range(n)`)
        while isinstance(it, gast.Name) and hops < 8:
            it, hops = one(it.id), hops + 1
        return it

    def counts_up(it):                        # range(...) itself, or s2sad's sequence of one
        it = value_of(it)
        if isinstance(it, gast.Call) and isinstance(it.func, gast.Attribute) and it.func.attr == "sequence" \
                and len(it.args) == 1:
            it = value_of(it.args[0])
        return isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id == "range"

    for loop in N.statements(fn.body):
        if not (isinstance(loop, gast.For) and isinstance(loop.target, gast.Name) and counts_up(loop.iter)):
            continue
        body = list(N.statements(loop.body))
        if not any(st is change for st in body):
            continue
        k = loop.target.id
        if any(isinstance(n, gast.Name) and n.id == k and not isinstance(n.ctx, gast.Load) for st in body
               for n in N.walk(st)):
            return False

        def index_of_loop(name, depth=0):     # name holds the loop's index: k itself, a copy, R[k] of a range
            value = one(name)
            if name == k:
                return True
            if depth > 4 or value is None:
                return False
            if isinstance(value, gast.Name):
                return index_of_loop(value.id, depth + 1)
            return isinstance(value, gast.Subscript) and isinstance(value.slice, gast.Name) \
                and value.slice.id == k and counts_up(value.value)
        idx = change.targets[0].slice.id
        if not index_of_loop(idx):
            return False
        position = next(j for j, st in enumerate(body) if st is change)
        return any(isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name) and n.value.id == seq
                   and isinstance(n.slice, gast.Name) and index_of_loop(n.slice.id)
                   for st in body[:position] for n in N.walk(st))
    return False


def _reads(fn, unit, varied=frozenset()):
    """The reads of names in ``fn`` (name -> the ids of its ``Name`` nodes), but for the object of a log call
    (``_log_call``): what such calls leave in it reaches no value the function computes."""
    skip = {id(st.value.func.value) for st in N.walk(fn) if _log_call(st, unit, varied)}
    reads = collections.defaultdict(set)
    for n in N.walk(fn):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and id(n) not in skip:
            reads[n.id].add(id(n))
    return reads


def _log_call(st, unit, varied):
    """A method of an object called as a statement of its own, its result dropped, given a value being
    differentiated (``TR.record("loss", l)``), that s2sad does not see into: it runs through
    ``runtime.opaque_call`` (``pass_read_only``), which watches what else the function reads (the arguments it
    reads again or that may hold what it reads again, the module's objects it reads), so whatever the method does
    with what its object holds is seen there or never read again."""
    if not isinstance(st, gast.Expr) or not isinstance(st.value, gast.Call):
        return False
    call = st.value
    if not isinstance(call.func, gast.Attribute) or not isinstance(call.func.value, gast.Name) \
            or call.func.value.id in varied or _module_ref(call.func, unit) and not _holds_data(
                unit.scope.lookup(call.func.value.id)):
        return False
    values = list(call.args) + [k.value for k in call.keywords]
    return any(n in varied for a in values for n in names_in(a)) and opaque(classify(call, unit.scope))


def _read_elsewhere(reads, name, s):
    """Whether the function (``reads``: ``_reads`` of it) reads ``name`` other than as the object of the call ``s``
    (a log ``HIST.append(v)`` that the function never reads back changes nothing it computes)."""
    call = s.value if isinstance(s.value, gast.Call) else None
    receiver = call.func.value if call is not None and isinstance(call.func, gast.Attribute) else \
        call.func if call is not None and isinstance(call.func, gast.Name) else None   # (`TR(v)`: the object called)
    own = {id(n) for n in N.walk(receiver)} if receiver is not None else set()
    return bool(reads.get(name, set()) - own)


def _holds_data(obj):
    """Whether a global or closure value is data a change in place could reach (an array, a list, a dict, an
    object), not a module, a function or a class (whose names the code calls)."""
    return isinstance(obj, np.ndarray) or (not callable(obj) or tree.called_like_a_function(obj)) and not isinstance(
        obj, (types.ModuleType, int, float, complex, str, bytes, type(None)))


def _note_in_place_method(value, s, unit, mutated, rules):
    """``c.method(args)`` changing ``c`` in place (``IN_PLACE_METHODS``): ``c`` is changed at ``s``, and holds the
    arguments (and the containers made in them: ``d.setdefault(k, [])``) from then on."""
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
            and value.func.attr in IN_PLACE_METHODS and not _module_ref(value.func, unit):
        for n in _root_names(value.func.value):
            mutated.setdefault(n, []).append(s)
            for a in value.args:
                rules.append(("contain", n, a, _made_inside(a, s)))


# calls making a new container holding the argument's items (tuple(t) is t itself: neither changes in place)
_NEW_CONTAINERS = {builtins.list, builtins.tuple, builtins.sorted, builtins.dict, copy.copy}
_MADE = (gast.List, gast.Tuple, gast.Dict, gast.Set, gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)


def _made_inside(value, s, items=False):
    """One abstract object (per statement ``s``) for the containers made inside ``value`` (``c.append([])``,
    ``x[i] = []``; with ``items``, inside the items of the literal ``value``: ``[[]]``'s inner list), which a
    container then holds: an item read from it (``b = c[0]``) points to it, so a change through ``b`` reaches
    every name holding ``c``. Without it, ``b`` would point to no object at all."""
    parts = (value.elts if isinstance(value, (gast.List, gast.Tuple, gast.Set)) else
             [v for v in value.values if v is not None] if isinstance(value, gast.Dict) else []) if items else [value]
    if any(isinstance(n, _MADE) for part in parts for n in N.walk(part)):
        return {("made", id(s))}
    return set()


def _joined_sequences(value, kinds):
    """The operands of ``value`` when it joins lists or tuples (``t + (y,)``, ``xs + ys``, ``[y] * n``: a literal
    operand, or a name whose kind is a list or tuple), else None. The result is a new sequence holding their
    items (a number operand, a repetition count, holds none)."""
    if not (isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Mult))):
        return None
    parts = [value.left, value.right]
    sequence = [isinstance(p, (gast.List, gast.Tuple)) or isinstance(p, gast.Name) and kinds is not None
                and isinstance(kinds.get(p.id), tuple) for p in parts]
    if not any(sequence):
        return None                  # (with a list on one side, a name on the other is a list too, whatever its
    return [p for p, q in zip(parts, sequence) if q or isinstance(p, gast.Name)]   # kind is known to be: its items)


def _new_container_of(value, unit):
    """The argument of ``list(xs)``, ``sorted(xs)``, ``dict(d)``, ``copy.copy(c)`` (one positional argument, a name),
    else None: a new list or dict (so a change of it changes no other name's), holding ``xs``'s items."""
    if not isinstance(value, gast.Call) or len(value.args) != 1 or value.keywords \
            or not isinstance(value.args[0], gast.Name):
        return None
    try:
        return value.args[0] if unit.scope.resolve(value.func) in _NEW_CONTAINERS else None
    except TypeError:
        return None


_HOLDING_ITEMS = {runtime.make_dict: 1}       # a new container holding the items of the argument at that place


def _holding_items_of(value, unit):
    """The name whose items the new container ``value`` holds (``make_dict(keys, values)``: ``values``), else
    None: the container itself is no object of the arguments, its items are theirs."""
    if not isinstance(value, gast.Call) or value.keywords:
        return None
    try:
        at = _HOLDING_ITEMS.get(unit.scope.resolve(value.func))
    except TypeError:
        return None
    held = value.args[at] if at is not None and len(value.args) > at else None
    return held if isinstance(held, gast.Name) else None


def _copied(value, unit):
    """The name ``value`` copies (``x.copy()``, ``owned(x)``, ...), else None."""
    if not isinstance(value, gast.Call) or not value.args and not isinstance(value.func, gast.Attribute):
        return None
    if isinstance(value.func, gast.Attribute) and value.func.attr == "copy" and not value.args \
            and isinstance(value.func.value, gast.Name) and not _module_ref(value.func, unit):
        return value.func.value
    try:
        copying = unit.scope.resolve(value.func) in _COPIES
    except TypeError:
        return None
    return value.args[0] if copying and value.args and isinstance(value.args[0], gast.Name) else None


def _root_names(node):
    """``x`` for ``x``, ``x[i]``, ``x.a[i]``: the names whose objects a change through ``node`` reaches."""
    while isinstance(node, (gast.Subscript, gast.Attribute)):
        node = node.value
    return [node.id] if isinstance(node, gast.Name) else []


def _resolves_to(node, unit, obj):
    try:
        return unit.scope.resolve(node) is obj
    except Exception:                              # noqa: BLE001  (a local, or unresolved)
        return False


def _indexed_by_value(node, unit):
    """Whether ``node[...]`` may compute with what is inside the brackets (``np.r_[x, y]``, ``np.c_``, ``np.mgrid``, an
    object's ``__getitem__``) rather than select items by it: ``node`` denotes a global or module attribute that is
    not an array, list, tuple, dict or string (an item's index carries no derivative; a float index into an
    array is an error, a float key a lookup)."""
    if not (isinstance(node, gast.Name) and unit.scope.is_free(node.id) or _module_ref(node, unit)):
        return False
    try:
        obj = unit.scope.resolve(node)
    except Exception:                              # noqa: BLE001  (unresolved: decided where the code runs)
        return False
    return obj is not MISSING and not isinstance(obj, (np.ndarray, list, tuple, dict, str, bytes, range, type))


def _module_ref(node, unit):
    """ops._module_ref in ``unit``'s scope: ``module.attr...``, not a method of a value (a global list's
    ``HIST.append``)."""
    return ops_module_ref(node, unit.scope)


def _note_out(value, unit, mutated):
    if isinstance(value, gast.Call):
        for k in value.keywords:
            if k.arg == "out":
                for n in names_in(k.value):
                    mutated.setdefault(n, []).append(value)


_VIEWS = NUMPY_VIEWS | {runtime.sequence, tree.attribute, builtins.min, builtins.max, builtins.list, builtins.tuple,
                        builtins.sorted, builtins.reversed, builtins.iter, builtins.next, operator.getitem,
                        runtime.view_of}          # (list(y) of a list of arrays: the same arrays)
_SELF_METHODS = {"conj", "conjugate"}                # a real array's y.conj() is y itself (np.conj(y) is a copy)


_FRESH = {runtime.owned, runtime.owned_tangent, runtime.item_of, runtime.zeros_like,
          runtime.written_grad, runtime.copy_like, runtime.make_dict}
_COPIES = {runtime.owned, runtime.owned_tangent, runtime.copy_like}
_FIRST_ONLY = {runtime.unbroadcast, runtime.broadcast, runtime.cast_tangent, runtime.cast_grad,   # g or a view of
               runtime.written_tangent, runtime.rule_shaped, runtime.sequence_tangent, runtime.owned_tangent,
               runtime.reshape_like, runtime.unreshape, runtime.transpose_grad, runtime.transposed_if,
               runtime.atleast_tangents, runtime.repetition_tangent, runtime.concatenation_tangent}
                                                    # it, never the argument they read for its shape or dtype


def _returns_itself(value, unit):
    """The name ``value`` returns itself or a view of (never an item it holds), else None: a call of a
    _FIRST_ONLY helper (``_s2.broadcast(g, ans)`` is ``g`` or ``np.broadcast_to(g, ...)``) on a name."""
    if not isinstance(value, gast.Call) or not value.args or not isinstance(value.args[0], gast.Name):
        return None
    try:
        return value.args[0] if unit.scope.resolve(value.func) in _FIRST_ONLY else None
    except TypeError:
        return None


def _new_object(primitive):
    """Whether a call of ``primitive`` always returns a new object, never an argument or a view of one."""
    if isinstance(primitive, np.ufunc):
        return True
    try:
        if primitive in _FRESH:
            return True
    except TypeError:
        pass
    try:
        if primitive in _VIEWS:
            return False
    except TypeError:
        return False
    module = getattr(primitive, "__module__", None) or ""
    if module == "math" or module.split(".")[0] == "numpy":
        return True
    return primitive in (builtins.len, builtins.float, builtins.int, builtins.abs, builtins.sum, builtins.round,
                         builtins.bool, builtins.str, builtins.repr, builtins.range, builtins.isinstance,
                         builtins.divmod, builtins.pow, builtins.print)


def follows(a, m, chains, blocks):
    """Whether every path going on from statement ``m`` runs statement ``a``: ``a`` comes later in ``m``'s own
    block with no jump (break, continue, return) between. Sound because a block runs in order unless it
    jumps; the check of in-place updates (``check``) then takes ``a`` as a new binding on every such path."""
    (block, k), (block_a, j) = chains[id(m)][-1], chains[id(a)][-1]
    return block == block_a and j > k and not any(
        isinstance(n, (gast.Break, gast.Continue, gast.Return)) for s in blocks[block][k + 1:j] for n in N.walk(s))


def _is_in(primitive, table):
    try:
        return primitive in table
    except TypeError:                     # an unhashable primitive
        return False


def _scalar_item(node, kinds, rows=False):
    """Whether ``node`` reads one number from an array (``x[2]``, ``m[i, -1]`` where ``x``, ``m`` are known to
    have 1 and 2 axes and the indices are numbers): NumPy returns a new scalar, never a view. Sound when the
    kinds (analysis/shapes.py) are: an int kind is the argument's or value's number of axes, -1 a number.
    ``rows``: whether ``node`` reads a 1-d row of numbers instead (``X[t]`` with ``X`` 2-d), whose items
    (``a, b = X[t]``) are numbers."""
    ndim, index = _array_index(node, kinds)
    return ndim is not None and len(index) == ndim - (1 if rows else 0) and all(_integer(i, kinds) for i in index)


def _array_index(node, kinds):
    """``(ndim, indices)`` of ``node``, ``x[i, j, ...]`` with ``x`` known to be an array of ``ndim >= 1`` axes (the
    kinds), else ``(None, None)``."""
    if not (isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name)) or not kinds:
        return None, None
    ndim = kinds.get(node.value.id)
    if type(ndim) is not int or ndim < 1:
        return None, None
    return ndim, node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]


def _advanced_index(node, kinds):
    """Whether ``node`` indexes an array with an integer or boolean array (``A[idx]``, ``A[:, idx]``, ``A[m]``
    where ``idx``, ``m`` are known to be arrays of at least one axis, or a list display): NumPy's advanced
    indexing, which always makes a new array, never a view."""
    ndim, index = _array_index(node, kinds)
    return ndim is not None and any(isinstance(i, gast.List) or isinstance(i, gast.Name) and type(kinds.get(i.id)) is int
               and kinds[i.id] >= 1 for i in index)


def _integer(node, kinds):
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        node = node.operand
    if isinstance(node, gast.Constant):
        return type(node.value) is int
    return isinstance(node, gast.Name) and kinds.get(node.id) == -1


def _names_reaching(node, kinds):
    """``names_in(node)``, leaving out arrays a number is read from (``_scalar_item``): the value holds no part
    of them."""
    if _scalar_item(node, kinds):
        return []
    if isinstance(node, (gast.Tuple, gast.List)):
        return sorted({n for e in node.elts for n in _names_reaching(e, kinds)})
    return names_in(node)


def _metadata(value, unit):
    """``x.shape``, ``x.ndim``, ``x.size``, ``x.dtype``: an attribute with no derivative is a new object (a tuple,
    a number, a dtype), never a view of ``x`` (``x.T``, ``x.real`` are)."""
    return isinstance(value, gast.Attribute) and classify(value, unit.scope).nondiff


def tangent_code_parts(value, target, unit):
    """For ``y, y_dot = g_jvp(t1, ..., a1, ...)``, a call of s2sad's tangent code for ``g`` (its first parameters
    the tangents): the names whose objects ``y`` may hold (the primal arguments'), and those ``y_dot`` may hold
    (the tangents'); else None.

    Soundness condition: generated tangent code computes its value from the primal arguments alone (the user's
    statements, unchanged), and each tangent from tangents and new objects (rules and runtime helpers read primal
    values for shapes, dtypes and factors, and return the tangent, a view of it or a new array): so the value
    never holds a tangent argument's object, nor the tangent a primal argument's (tests/test_soundness.py)."""
    if not (isinstance(target, gast.Tuple) and len(target.elts) == 2
            and all(isinstance(t, gast.Name) for t in target.elts)
            and isinstance(value, gast.Call) and isinstance(value.func, gast.Name)
            and not any(isinstance(a, gast.Starred) for a in value.args)):
        return None
    try:
        count = getattr(unit.scope.resolve(value.func), "__s2sad_tangents__", None)
    except Exception:                                   # noqa: BLE001  (not resolved here: a call like any other)
        return None
    if type(count) is not int or count > len(value.args):
        return None
    primals = list(value.args[count:]) + [k.value for k in value.keywords]
    tangents = value.args[:count]
    return sorted({n for a in primals for n in names_in(a)}), sorted({n for a in tangents for n in names_in(a)})


def _may_return(value, unit, kinds=None):
    """The names whose objects (or parts of them, or views of them) ``value`` may evaluate to."""
    if _scalar_item(value, kinds) or _metadata(value, unit) or _advanced_index(value, kinds):
        return []
    if isinstance(value, (gast.Subscript, gast.Attribute)):
        return names_in(value.value)
    if isinstance(value, (gast.Name, gast.Tuple, gast.List, gast.Dict)):
        return names_in(value)
    if isinstance(value, gast.Call):
        if len(value.args) >= 2 and _resolves_to(value.func, unit, runtime.opaque_call):
            return _may_return(gast.Call(func=value.args[0], args=value.args[2:], keywords=value.keywords), unit,
                               kinds)    # pass_read_only's wrapper: what the call it runs may return
        if isinstance(value.func, gast.Attribute) and value.func.attr == "copy" and not value.args \
                and not value.keywords and not _module_ref(value.func, unit):
            return []                    # x.copy(): a new array, list or dict (a list's or dict's items are x's:
            #                              an item changed in place, `d["w"] *= 2`, is checked by _check_updates)
        if isinstance(value.func, gast.Attribute) and value.func.attr in ("flatten", "tolist", "astype") \
                and all(k.arg != "copy" for k in value.keywords) and isinstance(value.func.value, gast.Name) \
                and len(value.args) < 5 \
                and (kinds and type(kinds.get(value.func.value.id)) is int and kinds[value.func.value.id] >= 0
                     or _module_array(value.func.value.id, unit)):
            return []                    # an array's copy (astype copies unless told not to: `copy` is its fifth
            #                              parameter), a list of numbers
        if isinstance(value.func, gast.Attribute) and value.func.attr in _SELF_METHODS \
                and not _module_ref(value.func, unit):
            return names_in(value.func.value)
        op = classify(value, unit.scope)
        if op.primitive is markers.stop_gradient and op.args:
            return names_in(op.args[0])  # its argument itself (no derivative, the same object)
        if _new_for_its_order(op):
            return []
        if op.nondiff or (op.primitive is not UNKNOWN and not isinstance(op.primitive, type(APPEND))
                          and _new_object(op.primitive) and not N.may_not_copy(value)):
            return []
        names = set()
        if _is_in(op.primitive, _FIRST_ONLY) and op.args:
            return names_in(op.args[0])
        returned = _returned_arguments(op, value)
        for k, a in enumerate(list(op.args) + list(op.kwargs.values())):
            if returned is None or k in returned:
                names.update(names_in(a))
        if isinstance(value.func, gast.Attribute) and not _module_ref(value.func, unit):
            names.update(names_in(value.func.value))
        if isinstance(value.func, gast.Name) and not unit.scope.is_free(value.func.id):
            names.add(value.func.id)
        return sorted(names)
    return []                        # operators build new objects (list + list is a new list)


_ORDERS = {np.diff: ("n", 1, 1), np.polyder: ("m", 1, 1), np.polyint: ("m", 1, 1),   # (its order: keyword,
           np.linalg.matrix_power: ("n", 1, None)}                                        # position, default)


def _new_for_its_order(op):
    """``np.diff(x)``, ``np.diff(x, 2)``, ``np.linalg.matrix_power(A, 3)``: a new array, its order a constant other
    than the one for which NumPy returns the argument itself (0 for a difference or a derivative, 1 for a power;
    views.NUMPY_VIEWS lists them as views for that case)."""
    try:
        entry = _ORDERS.get(op.primitive)
    except TypeError:
        return False
    if entry is None:
        return False
    keyword, position, default = entry
    order = op.kwargs.get(keyword, op.args[position] if len(op.args) > position else None)
    value = order.value if isinstance(order, gast.Constant) else default if order is None else None
    same = 1 if op.primitive is np.linalg.matrix_power else 0
    return isinstance(value, int) and not isinstance(value, bool) and value != same


def _copied_from(fn, unit, change, container, arrays):
    """The names whose items the list or dict ``container`` holds at ``change`` because it is their shallow copy
    (``d = p.copy()``, ``list(xs)``, ``dict(p)``; not an array's copy), through the copies followed on the way."""
    found = _fresh_binding(fn, unit, change, container)
    if found is None:
        return set()
    value = found[0].value
    if not _list_copy(value, unit):
        return set()
    source = value.func.value if isinstance(value.func, gast.Attribute) else value.args[0]
    array = isinstance(source, gast.Name) and (source.id in arrays or _module_array(source.id, unit))
    return set() if array else set(names_in(source))


def _module_array(name, unit):
    """Whether ``name`` is a global or closure name holding an array (whose copies and flattenings are new)."""
    return unit.scope.is_free(name) and type(unit.scope.lookup(name)) is np.ndarray


def _returned_arguments(op, call):
    """For a call of a user function with positional arguments only: the positions of the arguments it may return
    (calls.returned_arguments); else None (any argument may be returned)."""
    from .. import calls
    if op.primitive is UNKNOWN or op.kwargs or any(isinstance(a, gast.Starred) for a in call.args) \
            or isinstance(call.func, gast.Attribute) or not calls.user_function(op.primitive) \
            or len(op.args) != len(call.args):
        return None
    return calls.returned_arguments(op.primitive)


def fresh_where_changed(fn, unit, change, name):
    """Whether, at the change in place ``change`` of ``name``, ``name`` surely holds a new object: the nearest
    assignment of ``name`` before it (in its block, else before the block) makes one, or copies a name whose
    nearest assignment before that does (``y = _t7``), and no loop around the change rebinds any of those names
    after that assignment (another iteration would reach the change with it)."""
    return _fresh_binding(fn, unit, change, name) is not None


def holders_of_fresh(fn, unit, change, name):
    """The names that may hold (or hold a container holding) the object ``name`` holds at ``change``, when that is
    a new object (``_fresh_binding``: made by the statement ``r`` in the current iteration of every loop around
    ``change`` that ``r`` is in); else None. Sound: a new object can only be reached through statements run after
    it was made and before ``change``: those after ``r`` and before ``change`` in the text, and the bodies of the
    loops around ``change`` that ``r`` is not in. Followed through them to a fixed point: any assignment computed
    from a name holding it (a view, an item, a list's copy holding its items, ``make_dict``), and a container given
    it (``c[k] = v``, ``c.append(v)``). (``new = {}`` at the top of a loop body, then ``params = new`` at its end:
    the next iteration's ``new`` is a new dict that ``params``, the old one, does not hold.)"""
    found = _fresh_binding(fn, unit, change, name)
    if found is None:
        return None
    made, loops_after, followed = found
    stmts = list(N.statements(fn.body))
    at = {id(s): k for k, s in enumerate(stmts)}
    if id(made) not in at or id(change) not in at:
        return None
    region = stmts[at[id(made)] + 1:at[id(change)] + 1]
    for loop in loops_after:
        region.extend(N.statements(loop.body))
    reach, grown = set(followed), True
    while grown:
        grown = False
        for s in region:
            gained = set()
            if isinstance(s, gast.Assign):
                target = s.targets[0]
                if isinstance(target, (gast.Subscript, gast.Attribute)):
                    if set(names_in(s.value)) & reach:
                        gained.update(_root_names(target.value))
                elif set(names_in(s.value)) & reach:      # anything computed from it may hold it (a copy of a
                    gained.update(n.id for n in N.walk(target) if isinstance(n, gast.Name))   # list holds its items)
            elif isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) and isinstance(s.value.func, gast.Attribute) \
                    and set(names_in(s.value)) & reach:
                gained.update(_root_names(s.value.func.value))            # c.append(v), c.update(d), ...
            if gained - reach:
                reach |= gained
                grown = True
    return reach


def _path_to(stmts, target, path=()):
    """``[(block, k), ...]``, outermost first: the blocks holding ``target`` (a statement) and its place in each
    (``block[k]`` holds or is it), else None."""
    for k, s in enumerate(stmts):
        if s is target:
            return list(path) + [(stmts, k)]
        for field_ in ("body", "orelse"):
            found = _path_to(getattr(s, field_, None) or [], target, tuple(path) + ((stmts, k),))
            if found:
                return found
    return None


def _fresh_binding(fn, unit, change, name):
    """``(r, loops_after, followed)`` for fresh_where_changed: the assignment making the new object, the loops
    around ``change`` that it is not in, and the names copied on the way (``y = _t7``); else None."""
    path = _path_to(fn.body, change)
    if not path:
        return None
    loops_after, followed = [], {name}
    for stmts, k in reversed(path):
        holder = stmts[k]                          # a loop around the change (an assignment before it is not in it)
        if isinstance(holder, (gast.For, gast.While)) and holder is not change:
            loops_after.append(holder)
        for s in reversed(stmts[:k]):
            targets = [n.id for n in N.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]
            if name not in targets:
                continue
            if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
                    and isinstance(s.value, gast.Name) and s.value.id not in followed:
                name = s.value.id                  # `y = _t7` (normalize's temporary): what _t7 holds there
                followed.add(name)
                continue
            if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)) \
                    or _may_return(s.value, unit) and not (_list_copy(s.value, unit) and _list_change(change)):
                return None
            if any(followed & {n.id for n in N.walk(L) if isinstance(n, gast.Name)
                               and isinstance(n.ctx, gast.Store)} for L in loops_after):
                return None
            return s, loops_after, followed
    return None


_LIST_METHODS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "reverse", "sort"})


def _list_copy(value, unit):
    """Whether ``value`` is ``list(x)``, ``dict(x)`` or ``x.copy()``: a new list or dict (holding ``x``'s items)."""
    if not isinstance(value, gast.Call):
        return False
    if isinstance(value.func, gast.Attribute) and value.func.attr == "copy" and not value.args and not value.keywords:
        return True
    return len(value.args) == 1 and not value.keywords and (_resolves_to(value.func, unit, builtins.list)
                                                           or _resolves_to(value.func, unit, builtins.dict))


def _list_change(change):
    """Whether the statement ``change`` changes a list or dict itself (``xs.append(v)``, ``d[k] = v``), not an
    object it holds: a new one from ``list(x)``, ``x.copy()`` is then a new object for it (``x``'s items are shared,
    and not changed by it; an item's own change in place, ``d[k] *= 2``, is checked by _check_updates)."""
    if isinstance(change, gast.Assign) and isinstance(change.targets[0], gast.Subscript):
        return True
    call = change.value if isinstance(change, gast.Expr) else None
    return isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr in _LIST_METHODS


def check(fn, unit, effects, varied, numbers=frozenset(), arrays=frozenset(), numbers_only=frozenset()):
    """Refuse a change in place, through one name, of an object that carries derivatives and that
    another name may hold at that point: one assigned from it earlier on the way there, or in an
    earlier iteration of a loop around both, unless the changed name was given a new object (a
    literal, a NumPy result) in between (``xs = []`` at the top of a loop body makes the list each
    iteration changes a new one).

    ... and that name is read after the change through that binding (later, or in a later iteration).

    Sound: then every read after a change reads it through the changed name itself, or through a
    name assigned from it afterwards, and derivatives follow the same names. (Reads of the other name
    before the change see the values from before it, which is what its adjoint stands for; the
    backward sweep puts changed items back before it reads them, see reverse/adjoints.py.)
    """
    order, loops, chains, blocks = {}, {}, {}, {}

    def walk(stmts, enclosing, chain):
        blocks[id(stmts)] = stmts
        for k, s in enumerate(stmts):
            here = chain + ((id(stmts), k),)
            order[id(s)], loops[id(s)], chains[id(s)] = len(order), enclosing, here
            if isinstance(s, (gast.For, gast.While)):
                walk(s.body, enclosing + (id(s),), here)
                walk(s.orelse, enclosing, here)
            elif isinstance(s, gast.If):
                walk(s.body, enclosing, here)
                walk(s.orelse, enclosing, here)
    walk(fn.body, (), ())
    assigned_at, fresh_at = {}, {}
    for s in N.statements(fn.body):
        if isinstance(s, gast.Assign):
            for n in N.walk(s.targets[0]):
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                    assigned_at.setdefault(n.id, []).append(s)
            if isinstance(s.targets[0], gast.Name) and not _may_return(s.value, unit):
                fresh_at.setdefault(s.targets[0].id, []).append(s)     # a new object: an earlier alias is cut

    def dominates(r, m):
        """Whether statement ``r`` runs before ``m`` whenever ``m`` runs (an ancestor block, earlier)."""
        block, k = chains[id(r)][-1]
        return any(b == block and j > k for b, j in chains[id(m)][:-1]) or \
            chains[id(m)][-1][0] == block and chains[id(m)][-1][1] > k

    def cut(name, a, m, loop=None):
        """A new object for ``name`` between the alias ``a`` and the change ``m`` (inside ``loop``, if given)."""
        return any(dominates(r, m) and (loop is not None and loop in loops[id(r)] or
                                        loop is None and order[id(r)] > order[id(a)])
                   for r in fresh_at.get(name, ()) if id(r) in order)

    reads_at = {}
    for s in N.statements(fn.body):
        if isinstance(s, (gast.For, gast.While, gast.If)):
            parts = [s.iter] if isinstance(s, gast.For) else [s.test]
        else:
            parts = [s]
        for part in parts:
            for n in N.walk(part):
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                    reads_at.setdefault(n.id, []).append(s)

    def rebound(other, m, r, loop=None):
        """Whether ``other`` gets a new binding on the way from ``m`` to ``r`` (within an iteration of ``loop``):
        an assignment that runs before ``r`` whenever ``r`` runs, or one that runs after ``m`` whenever the
        code goes on from ``m`` (``feat = x[:]`` after ``x /= ...`` in one branch, read after the branches)."""
        return any(id(a) in order and (dominates(a, r) and order[id(a)] < order[id(r)]
                                       and (loop in loops[id(a)] if loop is not None else order[id(a)] > order[id(m)])
                                       or follows(a, m, chains, blocks) and (loop is not None or order[id(a)] < order[id(r)]))
                   for a in assigned_at.get(other, ()))

    def read_later(other, m):
        """Whether ``other`` may be read after the change ``m`` through the binding it had there: later in the
        text with no new binding in between, or in a later iteration of a loop around both (the same)."""
        for r in reads_at.get(other, ()):
            if r is m or id(r) not in order:
                continue
            if order[id(r)] > order[id(m)] and not rebound(other, m, r):
                return True
            shared = [L for L in loops[id(m)] if L in loops[id(r)]]
            if shared and order[id(r)] <= order[id(m)] and not rebound(other, m, r, shared[-1]):
                return True
        return False

    params = set(N.params(fn))
    loop_of = {id(s): s for s in N.statements(fn.body) if isinstance(s, (gast.For, gast.While))}
    deleted = {n.id for n in N.walk(fn) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Del)}

    def bound(name, st):
        """Whether ``name`` surely has a binding when ``st`` runs: a parameter, an assignment that runs before
        ``st`` whenever it does, or the target of a loop around it (and no ``del`` of it anywhere)."""
        if name in deleted or id(st) not in order:
            return False
        if name not in assigned_at and name not in bound_otherwise and unit.scope.is_free(name):
            return True                              # a global or closure value (its objects: run's "free")
        return name in params or any(id(a) in order and dominates(a, st) for a in assigned_at.get(name, ())) or \
            any(isinstance(loop_of.get(L), gast.For) and name in names_in(loop_of[L].target) for L in loops[id(st)])

    bound_otherwise = set(params)                  # bound by a statement other than an assignment
    for st in N.statements(fn.body):
        header = st.target if isinstance(st, gast.For) else st.test if isinstance(st, (gast.If, gast.While)) \
            else gast.Pass() if isinstance(st, gast.Assign) else st
        bound_otherwise.update(n.id for n in N.walk(header) if isinstance(n, gast.Name)
                               and not isinstance(n.ctx, gast.Load))
        if isinstance(st, (gast.FunctionDef, gast.ClassDef)):
            bound_otherwise.add(st.name)

    def unbound(name, st):
        binders = assigned_at.get(name, ())
        if name in bound_otherwise or any(id(a) not in order for a in binders) or not binders and unit.scope.is_free(name):
            return False
        return _unbound_at(st, binders, order, loops)

    _check_updates(unit, fn, effects, varied, order, read_later, bound, numbers, arrays, numbers_only, unbound)
    distinct = distinct_buffers(fn, unit, effects)
    single = single_values(fn)
    for name, changes in effects.mutated.items():
        if not effects.classes.get(name, {name}) & varied:
            continue
        for change in changes:
            if id(change) not in order:
                continue
            reach = holders_of_fresh(fn, unit, change, name)
            for other in sorted(effects.classes.get(name, {name}) - {name}):
                if distinct.get(name, name) == distinct.get(other, other):
                    continue                                     # never the same object (distinct_buffers)
                if reach is not None and other not in reach:
                    continue                                     # a new object `other` cannot hold yet
                if _writes_the_walked_item(fn, change, other, single):
                    continue                                     # `for i, v in enumerate(xs): xs[i] = ...`
                if other not in assigned_at and unit.scope.is_free(other) and read_later(other, change):
                    raise unit.error(UnsupportedSyntaxError, f"`{name}` is changed in place while `{other}`, a value "
                                     "of the module or an enclosing function, may hold the same object, which cannot "
                                     "be differentiated", change,
                                     hint=f"work on a copy (`{name} = {other}.copy()`) or build a new value")
                for a in _alias_makers(other, name, assigned_at, effects, unit, single):
                    if id(a) not in order:                       # inside a function defined here
                        continue
                    shared = [L for L in loops[id(change)] if L in loops[id(a)]]
                    before = order[id(a)] < order[id(change)] and not cut(name, a, change)
                    carried = bool(shared) and not cut(name, a, change, shared[-1])
                    if (before or carried) and read_later(other, change):
                        held = _source_name(other, single)
                        holder = f"`{held}` may hold the same object" if not held.startswith("_") and held != name \
                            else "another value holds the same object (the sequence a `for` loop walks, a result)"
                        shown = next((u for u, vs in unit.versions.items() if name in vs), name)   # (d, not d_1)
                        raise unit.error(UnsupportedSyntaxError, f"`{shown}` is changed in place while {holder}, "
                                         f"which cannot be differentiated", change,
                                         hint=f"build a new value (`{shown} = {shown} + [...]`, `np.concatenate`, "
                                              f"`np.where`) instead of changing it in place")


def _alias_makers(other, name, assigned_at, effects, unit, single):
    """The statements after which ``other`` may hold an object ``name`` holds: an assignment of ``other``, one of
    ``name`` that may give it another name's object (``z = y``, ``z = y[1:]``: in a loop, the next iteration's
    change through ``z`` reaches ``y``; not ``z = owned(z)``, which keeps ``z``'s own), and a change of ``other``
    that makes it hold more (``hist.append(y)``: the next iteration's ``y[i] = v`` changes what ``hist`` holds)."""
    def sources(value, depth=0):          # the names whose objects value may be, through temporaries
        found = set()
        for n in _may_return(value, unit):
            if n.startswith("_") and n in single and depth < 8:
                found |= sources(single[n], depth + 1)
            else:
                found.add(n)
        return found
    return [*assigned_at.get(other, ()),
            *(a for a in assigned_at.get(name, ())
              if (sources(a.value) - {name}) & effects.classes.get(other, {other})),
            *effects.mutated.get(other, ())]


def _permutations(fn):
    """The swaps ``a, b = b, a`` (``a, b, c = c, a, b``...) of ``fn``: a run of statements ``name = name`` in one
    block (as normalized: ``_t = a; _t2 = b; a = _t2; b = _t``, or with one temporary in generated code,
    interleaved with the tangents' own swap) after which names hold each other's objects from before it.
    Yields (the run's statements, the cycles: lists of names that traded their objects among themselves).
    The names on a cycle are rebound together: the run reads every old object before its end and no
    statement between can fail or jump."""
    def simple(st):
        return isinstance(st, gast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], gast.Name) \
            and isinstance(st.value, gast.Name)
    for stmts in N.blocks(fn.body):
        k = 0
        while k < len(stmts):
            if not simple(stmts[k]):
                k += 1
                continue
            j = k
            while j < len(stmts) and simple(stmts[j]):
                j += 1
            run, held = stmts[k:j], {}
            for st in run:
                held[st.targets[0].id] = held.get(st.value.id, st.value.id)    # the name whose old object it holds
            moved = {n: m for n, m in held.items() if m != n}
            cycles, seen = [], set()
            for start in moved:
                path, n = [], start
                while n in moved and n not in path and n not in seen:
                    path.append(n)
                    n = moved[n]
                if n in path:
                    cycles.append(path[path.index(n):])
                seen.update(path)
            if cycles:
                yield run, cycles
            k = j


def distinct_buffers(fn, unit, effects):
    """{name: group}: names of arrays that never hold the same object at the same time, although the
    points-to classes (``run``) put them together because they trade objects: rotating buffers,
    ``prev, cur = cur, prev`` in a loop, with one of them changed in place.

    Soundness condition: in a group, every binding of every name is either a new object (a NumPy result,
    a copy: ``_may_return`` finds no name it may return) or part of a swap after which the names of a cycle
    of the group hold each other's objects from before it (``_permutations``); no name of the
    group is a parameter (two arguments may be one object), none is bound any other way (a ``for``
    target, a tuple target, ``nonlocal``), and every change in place through one of them changes its own
    object (``name[i] = v``, ``name.fill(v)``, ``out=name``), never an object inside it (``name[0][i] = v``
    would change an item that another name's object may hold too). Then each binding keeps the objects of the group pairwise
    distinct: a new object is distinct from every other, and a permutation of distinct objects is
    distinct. A change through one of them never changes what another holds (tests/test_soundness.py).
    """
    swaps = list(_permutations(fn))
    if not swaps:
        return {}
    parent = {}

    def find(n):
        while parent.setdefault(n, n) != n:
            n = parent[n]
        return n
    for _, cycles in swaps:
        for cycle in cycles:
            for n in cycle[1:]:
                parent[find(n)] = find(cycle[0])
    swap_writes = {}                                      # id(statement) -> the group of the name it rebinds
    for run, cycles in swaps:
        on_cycle = {n for cycle in cycles for n in cycle}
        for st in run:
            if st.targets[0].id in on_cycle:
                swap_writes[id(st)] = find(st.targets[0].id)
    groups = collections.defaultdict(set)
    for n in list(parent):
        groups[find(n)].add(n)
    bad = set()
    params = set(N.params(fn))
    assigns = {}
    for st in N.statements(fn.body):
        if isinstance(st, gast.Assign):
            for t in st.targets:
                for n in N.walk(t):
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                        assigns[id(n)] = st
    # a temporary bound once, to a new object, and read once: `_t = owned_tangent(a_dot, a); a_dot = _t`
    stores, loads = collections.Counter(), collections.Counter()
    for n in N.walk(fn):
        if isinstance(n, gast.Name):
            (stores if isinstance(n.ctx, gast.Store) else loads)[n.id] += 1
    handed = {st.targets[0].id for st in N.statements(fn.body)
              if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) and stores[st.targets[0].id] == 1
              and loads[st.targets[0].id] == 1 and st.targets[0].id not in params and not _may_return(st.value, unit)}
    for n in N.walk(fn):
        if isinstance(n, (gast.Nonlocal, gast.Global)):
            bad.update(find(x) for x in n.names if x in parent)
        if not isinstance(n, gast.Name) or n.id not in parent:
            continue
        root = find(n.id)
        if n.id in params:
            bad.add(root)
        if not isinstance(n.ctx, gast.Store):
            continue
        st = assigns.get(id(n))
        if st is None or not (isinstance(st.targets[0], gast.Name) and st.targets[0] is n):
            bad.add(root)                                 # a for target, a tuple target, a nested function's
        elif id(st) in swap_writes:
            if swap_writes[id(st)] != root:
                bad.add(root)
        elif not _new_binding(st, unit, handed):
            bad.add(root)                                 # may be another name's object (or a view of one)
    for root, names in groups.items():
        for n in names:
            if not all(_changes_itself(change, n) for change in effects.mutated.get(n, ())):
                bad.add(root)
    return {n: ("distinct", root) for root, names in groups.items() if root not in bad for n in names}


def _new_binding(st, unit, handed):
    """Whether the assignment ``st`` binds a new object (a NumPy result, a copy), or one that a temporary bound
    once to a new object hands over (``handed``: it is read nowhere else)."""
    return not _may_return(st.value, unit) or isinstance(st.value, gast.Name) and st.value.id in handed


def _changes_itself(change, name):
    """Whether the change in place ``change`` (effects.mutated) changes ``name``'s own object, not one inside it."""
    if isinstance(change, gast.Assign):
        target = change.targets[0]
        return isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name) and target.value.id == name
    call = change.value if isinstance(change, gast.Expr) else change
    if not isinstance(call, gast.Call):
        return False
    outs = [k.value for k in call.keywords if k.arg == "out"]
    if any(names_in(o) == [name] and not (isinstance(o, gast.Name) and o.id == name) for o in outs):
        return False
    if isinstance(call.func, gast.Attribute) and names_in(call.func.value) == [name]:
        return isinstance(call.func.value, gast.Name)
    return True


def guard(unit, fn, lowered, name, refusal, arrays, check=runtime.unshared, others=(), bound=None, user=None):
    """``refusal`` for ``y op= e`` (lowered to the statements ``lowered``, which read ``y`` as ``name``) that
    is right when ``y`` holds an immutable value, or (``others``, each bound for sure there by ``bound``) when
    none of ``others`` holds memory of ``y``: raised now when ``y`` surely holds an array and there are no
    such names, else checked when the code runs (``runtime.unshared`` before the first statement reading
    ``name``), so that an update of a number, which no other name can see, is differentiated."""
    first = next((st for st in lowered if id(st) not in unit.guarded
                  and name in names_in(st.value if isinstance(st, gast.Assign) else st)), None)
    if first is not None and others and not all(bound(other, first) for other in others):
        others = ()
    if check is runtime.unshared and name in arrays and not others or first is None:
        raise refusal
    if (id(first), check, tuple(others)) in unit.guarded:        # checked already
        return
    call = N.located(gast.Expr(value=N.call(unit.aliases.ref(check, check.__name__),
                                            [N.name(name), N.const(str(refusal))] + ([
                                                gast.Tuple(elts=[N.const(user(o)) for o in others], ctx=gast.Load())] if others else [])
                                            + [N.name(o) for o in others])), first)
    if not _insert_before(fn.body, first, call):
        raise refusal
    unit.guarded.update(((id(first), check, tuple(others)), id(call)))


def _insert_before(stmts, target, new):
    for block in N.blocks(stmts):
        for k, st in enumerate(block):
            if st is target:
                block.insert(k, new)
                return True
    return False


def _lowered_copies(fn, located, updates):
    """``(s, name, op, statements)`` for each update ``(s, name, op)`` and each copy of the statements it was
    lowered to: the code after a branch that returns is copied into both branches (front/jumps.py), so one
    user statement may be lowered in several places, each checked on its own."""
    block_of = {id(st): id(block) for block in N.blocks(fn.body) for st in block}
    for s, name, op in updates:
        groups = {}
        for st in located.get((getattr(s, "lineno", None), getattr(s, "col_offset", None)), []):
            groups.setdefault(block_of.get(id(st)), []).append(st)
        for statements in groups.values():
            yield s, name, op, statements


def follow_copies(fn, unit, kinds):
    """``y = z`` then ``y += e`` (``y[i] = v``) with ``z`` read afterwards: Python changes the object both names
    hold, so ``z`` then reads the changed value. At the top of the function body, the reads of ``z`` after the
    change (up to a new binding of either name) are renamed to the name of the changed value (the update's
    result, the written array), which makes the program one without the shared object for the checks and
    passes after.

    Sound when ``z`` and ``y`` hold the same object for sure at the change: every binding of both is a
    statement at the top of the function body (none in a loop or a branch), the copy ``y = z`` is one of them
    and neither name is bound again between it and the change; the change itself at the top of the body; an
    update ``y op= e`` only on a known array (a number or a tuple makes a new object, a list is left to the
    checks); a renamed read neither in a compound statement (a loop may run it before the change's next
    binding) nor in the statements another update was lowered to (their checks read the names they update)."""
    updates = unit.source.inplace_updates
    top = fn.body
    position = {id(st): i for i, st in enumerate(top)}
    bound_at, nested = {}, set()
    for st in N.statements(fn.body):
        names = [n.id for n in N.walk(st if not isinstance(st, (gast.For, gast.While, gast.If)) else
                                         (st.target if isinstance(st, gast.For) else gast.Pass()))
                 if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)]
        for name in names:
            if id(st) in position and not isinstance(st, gast.For):
                bound_at.setdefault(name, []).append(position[id(st)])
            else:
                nested.add(name)
    for st in N.statements(fn.body):
        if isinstance(st, gast.FunctionDef):
            nested.add(st.name)

    def unbound_between(name, start, end, nested_ok=False):    # no binding of name strictly between start and end
        return (nested_ok or name not in nested) and not any(start < k < end for k in bound_at.get(name, ()))
    copies = [(i, st.targets[0].id, st.value.id) for i, st in enumerate(top) if isinstance(st, gast.Assign)
              and len(st.targets) == 1 and isinstance(st.targets[0], gast.Name) and isinstance(st.value, gast.Name)]

    params = list(N.params(fn))

    def array(name, at, depth=0, loop=False):
        """``name`` holds an array at ``at``: known, or bound last by a copy of a name that does (``loop``: its
        bindings inside the loop at ``at`` are updates in place, which keep it one)."""
        if isinstance(kinds.get(name), int) and kinds[name] >= 0 or depth > 8 or name in nested and not loop:
            return isinstance(kinds.get(name), int) and kinds[name] >= 0
        last = max([k for k in bound_at.get(name, ()) if k < at], default=None)
        if last is None and name in params:            # the argument itself
            kind = unit.kinds[params.index(name)] if params.index(name) < len(unit.kinds) else None
            return isinstance(kind, int) and kind >= 0
        source = next((b for i, a, b in copies if i == last and a == name), None)
        return source is not None and unbound_between(source, last, at) and array(source, last, depth + 1)
    located = {}
    for st in N.statements(fn.body):
        located.setdefault((getattr(st, "lineno", None), getattr(st, "col_offset", None)), []).append(st)
    lowered = [(s, name, here) for s, name, op, here in _lowered_copies(fn, located, updates)]
    update_reads = {id(n) for _, _, here in lowered for st in here for n in N.walk(st) if isinstance(n, gast.Name)}
    events = []                                       # (position, the object's name before, its name after)
    for s, name, here in lowered:
        versions = unit.versions.get(name, set()) | {name}
        final = [st for st in here if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name)
                 and st.targets[0].id in versions]
        reads = [n.id for st in here for n in N.walk(st.value if isinstance(st, gast.Assign) else st)
                 if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in versions]
        if final and reads and id(final[-1]) in position and array(reads[0], position[id(final[-1])]) \
                and all(id(st) in position for st in here):
            events.append((position[id(final[-1])], reads[0], final[-1].targets[0].id))
    for i, st in enumerate(top):
        if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Subscript) \
                and isinstance(st.targets[0].value, gast.Name):
            events.append((i, st.targets[0].value.id, st.targets[0].value.id))
    finals = {id(st): name for s, name, here in lowered for st in here if isinstance(st, gast.Assign)
              and isinstance(st.targets[0], gast.Name) and st.targets[0].id == name}
    loop_updated = {}                                 # top-level loop position -> names only updated in it
    for at, loop in enumerate(top):                   # `y = z; for ...: y += e`, z read after the loop
        if not isinstance(loop, (gast.For, gast.While)):
            continue
        inside = {id(b) for b in N.statements(loop.body)}
        binders = {}
        for st in N.statements(loop.body):
            for n in N.walk(st if not isinstance(st, (gast.For, gast.While, gast.If)) else
                               (st.target if isinstance(st, gast.For) else gast.Pass())):
                if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load):
                    binders.setdefault(n.id, []).append(st)
        bound_elsewhere = {n.id for st in N.statements(fn.body) if id(st) not in inside and id(st) not in position
                           for n in N.walk(st) if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)}
        for name, sts in binders.items():
            if all(finals.get(id(st)) == name for st in sts) and name not in bound_elsewhere \
                    and array(name, at, loop=True):
                loop_updated.setdefault(at, set()).add(name)
                events.append((at, name, name))
    for at, before, after in sorted(events):
        in_loop = before in loop_updated.get(at, ())
        if (before in nested or after in nested) and not in_loop:
            continue
        group, grown = {before}, True
        while grown:
            grown = False
            for i, a, b in copies:
                if i < at and (a in group) != (b in group) and unbound_between(a, i, at, a == before and in_loop) \
                        and unbound_between(b, i, at, b == before and in_loop) and \
                        (b in group and a != after or a in group and b != after):
                    group |= {a, b}
                    grown = True
        ends = [k for k in bound_at.get(after, ()) if k > at]
        for other in sorted(group - {after}):         # (``before`` too: reads renamed by an earlier change)
            if in_loop and any(isinstance(n, gast.Name) and n.id == other for n in N.walk(top[at])):
                continue                              # read (or bound) in the loop: not followed
            end = min([k for k in bound_at.get(other, ()) if k > at] + ends + [len(top)])
            loads = [n for st in top[at + 1:end + 1] for n in N.walk(st) if isinstance(n, gast.Name)
                     and n.id == other and isinstance(n.ctx, gast.Load)]
            compound = {id(n) for st in top[at + 1:end + 1] if isinstance(st, (gast.For, gast.While))
                        for n in N.walk(st)}
            if not loads or other in nested or any(id(n) in compound or id(n) in update_reads for n in loads):
                continue
            for n in loads:
                n.id = after


def _source_name(name, single, depth=0):
    """The user's name a temporary holds (``_t4 = _s2.sequence(v)``, ``_t7 = v``: ``v``; ``_t3 = buf[1]``:
    ``buf[1]``), else ``name``."""
    value = through_temporaries(name, single)
    if depth > 8 or value is None:
        return name
    if isinstance(value, gast.Call) and len(value.args) == 1:
        value = value.args[0]
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
            and isinstance(value.slice, (gast.Constant, gast.Name)):
        root = _source_name(value.value.id, single, depth + 1)
        return name if root.startswith("_") else f"{root}[{N.unparse(value.slice)}]"
    if isinstance(value, gast.Name):
        return value.id if not value.id.startswith("_") else _source_name(value.id, single, depth + 1)
    return name


def _unbound_at(st, binders, order, loops):
    """Whether a name whose bindings are the assignments ``binders`` surely has none when ``st`` runs: each
    comes after ``st`` in the text and in no loop around it (so no path reaches ``st`` through one). Then the
    name holds nothing an update at ``st`` could change."""
    return all(order[id(a)] > order[id(st)] and not set(loops[id(a)]) & set(loops[id(st)]) for a in binders)


def _check_updates(unit, fn, effects, varied, order, read_later, bound, numbers, arrays=frozenset(),
                   numbers_only=frozenset(), unbound=None):
    """``y op= e`` changes an array or a list in place (Python), which s2sad computes as ``y = y op e``: the
    same, unless another name holds the object and is read afterwards (a dict or list holding it, a view,
    a copy of the reference). The points-to classes say which names may (containers and views count);
    where they may, the code checks when it runs that ``y`` holds a number (never shared) or that none of
    those names reaches ``y``'s memory then (``runtime.unshared``, when each is bound for sure there), and
    refuses otherwise."""
    if not unit.source.inplace_updates:
        return
    args = fn.args                         # parameters with a default object (made once, shared by the calls;
    positional = args.posonlyargs + args.args   # `None`, a number, a string: no object a change reaches)
    defaulted = {a.id for a, d in zip(positional[len(positional) - len(args.defaults):], args.defaults)
                 if not isinstance(d, gast.Constant)} | \
        {a.id for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None and not isinstance(d, gast.Constant)}
    params = set(N.params(fn))
    located = {}
    for st in N.statements(fn.body):
        located.setdefault((getattr(st, "lineno", None), getattr(st, "col_offset", None)), []).append(st)
    user_of = {v: u for u, vs in unit.versions.items() for v in vs}

    def user(name):
        return user_of.get(name, name)
    for s, name, op, here in _lowered_copies(fn, located, unit.source.inplace_updates):
        here = [st for st in here if id(st) in order]
        versions = unit.versions.get(name, set()) | {name}
        # the value changed, read by one of the statements there (`x *= np.tanh(c)` is lowered to
        # `_t1 = np.tanh(c)`, `_t2 = x * _t1`, `x_1 = _t2`)
        reads = [n.id for st in here for n in N.walk(st) if isinstance(n, gast.Name)
                 and isinstance(n.ctx, gast.Load) and n.id in versions]
        container, shown_target, made = unit.source.item_updates.get(id(s), (None, name, None))
        final = [st for st in here if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name)
                 and st.targets[0].id in (versions if made is None else {made})]     # (the item's update: `new`)
        if not reads or not final:
            continue
        old, m = reads[0], final[-1]
        if old in numbers:                    # (differentiated or not: the value itself would be wrong)
            continue
        followed = {v for q in unit.source.walked_sequences.get(id(s), ()) for v in unit.versions.get(q, set()) | {q}}
        if container is not None:             # `c[i] op= e`: written back into c[i] (the same slot in both readings)
            if container in arrays:
                continue                      # an array's item or row: a write into the array (record.py's)
            followed |= unit.versions.get(container, set()) | {container, made}   # (new: what c[i] then holds)
            if container not in numbers:      # ... but no other item of c may hold (memory of) the same object
                alone = unit.error(UnsupportedSyntaxError, f"`{shown_target} {op}=` changes the object that item "
                                   f"holds in place, and another item of `{user(container)}` holds it too, which "
                                   "cannot be differentiated", s,
                                   hint=f"build a new value: `{shown_target} = {shown_target} {op} ...`")
                guard(unit, fn, here, old, alone, arrays, check=runtime.alone_in, others=(container,),
                      bound=lambda other, st: True, user=user)
        held = set(effects.classes.get(old, {old}))
        if container is not None:             # `d = p.copy(); d["w"] *= 2`: the item is p["w"]'s object too
            held |= _copied_from(fn, unit, m, container, arrays)
        outer = _outer_objects(unit, fn, held)
        if outer:                             # `r = BUF; r += x` (a view, a conditional, a helper returning it):
            message, hint = outer_change_text(shown_target, op, outer[0])     # (Python changes BUF, s2sad computes
            guard(unit, fn, here, old, unit.error(UnsupportedSyntaxError, message, s, hint=hint), arrays,  # r = r + x;
                  others=outer, bound=lambda other, st: True, user=lambda other: other)   # checked where the code
            continue                          # runs: what `r` holds then reaches BUF's memory; a number read from
            #                                   it, `lam = W0[3]`, or another binding of `r` does not)
        passed = params - held if held & params else set()     # an argument's object: the caller may have passed
        others = [other for other in sorted((held | passed) - versions - followed)     # it twice (f(x, x)), or a
                  if other not in numbers and (other not in numbers_only or old not in arrays) and read_later(other, m)
                  and not (unbound and unbound(other, m))]       # view of it (checked when it runs); (holding
        aliased = [other for other in others if other not in passed]            # nothing at the change: unbound)
        # (a walked sequence follows the update: front/normalize.py)
        defaults = [p for p in defaulted if p in effects.classes.get(old, {old}) and p not in numbers]
        reading = next((st for st in here if old in names_in(st.value if isinstance(st, gast.Assign) else st)), None)
        if defaults and reading is not None and fresh_where_changed(fn, unit, reading, old):
            defaults = []                     # (`w = w * 2.0` before `w += 1.0`: a new object, surely)
        if container is None and defaults and not aliased:   # a default object: the next call would see the change
            refusal = unit.error(UnsupportedSyntaxError, f"`{shown_target} {op}=` changes the default value of "
                                 f"`{defaults[0]}` in place (every later call sees it in Python; s2sad's call leaves "
                                 "it as it was), which cannot be differentiated", s,
                                 hint=f"write `{shown_target} = {shown_target} {op} ...` to make a new array")
            guard(unit, fn, here, old, refusal, arrays, bound=bound, user=user)
        if others:
            single = single_values(fn)
            shown = lambda o: user(_source_name(o, single))         # noqa: E731  (a temporary: the name it holds)
            others.sort(key=lambda o: shown(o).startswith("_"))    # (the user's names first, for the message)
            refusal = unit.error(UnsupportedSyntaxError, f"`{shown_target} {op}=` would change `{shown(others[0])}` "
                                 "too (they share memory), which cannot be differentiated", s,
                                 hint=f"write `{shown_target} = {shown_target} {op} ...` to make a new array")
            if container is None:
                guard(unit, fn, here, old, refusal, arrays, others=others, bound=bound, user=shown)
            elif all(bound(other, m) for other in others):   # (c an array when the code runs: a write into it,
                guard(unit, fn, here, old, refusal, arrays, check=runtime.item_unshared,  # which they all see)
                      others=[container] + others, bound=bound, user=shown)
            else:                             # some not bound for sure there: only c an array will do
                guard(unit, fn, here, old, refusal, arrays, check=runtime.item_unshared, others=[container],
                      bound=lambda other, st: True, user=shown)


def outer_change_text(name, op, outer):
    """The refusal of ``name op= e`` changing ``outer``, an object of the module or of an enclosing function (here
    and in front/normalize.py's ``check_shared``, which sees attribute chains: ``b = K.buf``): message, hint."""
    return (f"`{name} {op}=` changes in place `{outer}`, an object of the module or of an enclosing function, which "
            f"is not supported in differentiated code (the next call would read it changed)",
            f"work on a copy (`{name} = {outer}.copy()`) and return it")


def _outer_objects(unit, fn, names):
    """Those of ``names`` (a points-to class) that are no local of ``fn`` and denote an array, list, dict or record of
    the module or of an enclosing function: an object that outlives the call, whose change in place Python keeps
    for the next call (and the backward sweep may read changed)."""
    from .module_state import module_object
    local = assigned_names(fn)
    return sorted(n for n in names if n not in local and module_object(gast.Name(id=n, ctx=gast.Load(), annotation=None,
                                                                                   type_comment=None), unit.scope)
                  is not None)


def opaque(op):
    """A call whose result carries no derivative that the generated code runs as it is, and that might change
    its arguments: not a primitive with a rule or a registered constant (NumPy's, s2sad's: ``out=`` is refused),
    not ``append`` on a local list. (A user function's changes in place are refused by ``_check_callee_changes``,
    but what it passes on to a plot or a method is not seen.)"""
    from ..rules import registry
    if op.primitive is APPEND or op.nondiff:
        return False
    return op.primitive is UNKNOWN or not registry.has_rule(op.primitive)


_WRITING_MODULES = ("numpy", "scipy", "heapq", "_heapq", "random", "bisect", "_bisect")


def _library(primitive):
    """A NumPy or SciPy function (or ufunc, or a ufunc's method), or one of the standard library's that change
    their list (``heapq.heappush``, ``random.shuffle``, ``bisect.insort``): one without a rule may well write into
    an argument (``np.copyto``, ``np.put``, ``np.add.at``), refused by name rather than run with read-only
    arguments (``np.add.at`` writes into a read-only array regardless, and a list is not made read-only)."""
    if isinstance(primitive, np.ufunc) or isinstance(getattr(primitive, "__self__", None), np.ufunc):
        return True
    module = getattr(primitive, "__module__", None) or getattr(type(primitive), "__module__", None) or ""
    return module.split(".")[0] in _WRITING_MODULES


_OVERWRITES = ("overwrite_input", "overwrite_a", "overwrite_b")


def _overwrites(op):
    """The keyword (``overwrite_input`` of np.median/quantile/percentile, scipy.linalg's ``overwrite_a``/``_b``)
    that lets the call change its argument array in place, given other than False; else None."""
    for name in _OVERWRITES:
        value = op.kwargs.get(name)
        if value is not None and not (isinstance(value, gast.Constant) and value.value is False):
            return name
    if op.primitive is UNKNOWN or not _library(op.primitive):
        return None
    from ..inline import signature
    try:
        positional = [p.name for p in signature(op.primitive).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return None
    for name in _OVERWRITES:                      # (np.median(a, None, None, True): by position)
        if name in positional and len(op.args) > positional.index(name):
            value = op.args[positional.index(name)]
            if not (isinstance(value, gast.Constant) and value.value is False):
                return name
    return None


def writes_out(op, method):
    """Whether the call ``op`` writes its result into an array it is given: ``out=``, or ``out`` passed by
    position (``np.multiply(y, 3.0, y)``: a ufunc's arguments past its inputs; ``np.dot(A, x, y)``,
    ``y.sum(0, None, out)``: the parameter ``out`` of the function's or the array method's signature).
    ``method``: the name of the method called (``op.args[0]`` its object, a method s2sad knows as NumPy's),
    else None."""
    def given(atom):                               # (`out=None`, as a rule passes it on, writes nowhere)
        return not (isinstance(atom, gast.Constant) and atom.value is None)
    if "out" in op.kwargs:
        return given(op.kwargs["out"])
    primitive = op.primitive
    if isinstance(primitive, np.ufunc):
        return any(given(a) for a in op.args[primitive.nin:])
    if primitive is UNKNOWN or method is None and not _library(primitive) \
            and not (getattr(primitive, "__module__", None) or "").startswith("s2sad.rules"):
        return False                               # (a user's function may name a parameter `out`; s2sad's
        #                                            definitions of library functions, np.add.reduce's, may not)
    target = getattr(np.ndarray, method, None) if method is not None else primitive
    from ..inline import signature
    try:
        params = list(signature(target).parameters.values())
    except (TypeError, ValueError):                # (NumPy 2.0's C functions and methods have none)
        at = _OUT_AT.get((method is not None, method or getattr(primitive, "__name__", None)))
        return at is not None and len(op.args) > at and given(op.args[at])
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return "out" in positional and len(op.args) > positional.index("out") and given(op.args[positional.index("out")]) \
        and not any(p.kind is p.VAR_POSITIONAL for p in params[:positional.index("out")])


# where `out` is passed by position to NumPy's functions and array methods that have no signature to read (the
# method's object first): (is a method, name) -> index
_OUT_AT = {(False, "dot"): 2, **{(True, m): 3 for m in ("sum", "prod", "mean", "std", "var", "cumsum", "cumprod",
                                                        "clip", "take", "compress")},
           **{(True, m): 2 for m in ("max", "min", "argmax", "argmin", "round", "dot", "any", "all", "choose")},
           (True, "trace"): 5}


def pass_read_only(fn, unit, varied, active, numbers=frozenset(), effects=None):
    """Calls s2sad does not see into (a plot, a log line, a method of a user's object, a user function run as it
    is) whose result carries no derivative and that receive values being differentiated run through
    ``_s2.opaque_call``: ``ax.plot(w)`` becomes ``_s2.opaque_call(ax.plot, w)``, which makes every array the
    call receives (also inside containers, records and the method's object) read-only while it runs, and checks
    that the containers and records it received hold the same objects afterwards. A change in place there
    then raises instead of leaving the derivative code reading values it did not compute. (A call whose result
    is differentiated has a rule or is refused; ``x.sort()``, ``out=``, NumPy functions without a rule are
    refused: check_writes.) Watched there: what it receives that the function reads again, or that may hold
    (``effects.classes``) what the function reads again (``acc = Acc(lst); acc.push(x); lst[0]``), and the objects of
    its module the function reads again (``ACC.push(x)`` appending to ``STORE``, read back)."""
    helper = unit.aliases.ref(runtime.opaque_call, "opaque_call")
    reads = _reads(fn, unit, varied)
    classes = effects.classes if effects is not None else {}
    bound = {n.id for n in N.walk(fn) if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)}
    module_data = sorted(n for n in reads if n not in bound and unit.scope.is_free(n)   # (a lambda's parameter is
                         and _holds_data(unit.scope.lookup(n)))                          # no module's name)

    def guarded(block):
        for s in block:
            for field_ in ("body", "orelse"):
                if isinstance(s, (gast.If, gast.For, gast.While)):
                    guarded(getattr(s, field_))
            value = s.value if isinstance(s, (gast.Assign, gast.Expr)) else None
            if not isinstance(value, gast.Call) or isinstance(s, gast.Assign) and \
                    {n.id for t in s.targets for n in N.walk(t) if isinstance(n, gast.Name)} & active:
                continue
            op = classify(value, unit.scope)
            inputs = [a for a in list(value.args) + [k.value for k in value.keywords] if not isinstance(a, gast.Starred)]
            if isinstance(value.func, gast.Attribute) and not _module_ref(value.func, unit):
                inputs.append(value.func.value)
            touched = [a for a in inputs if set(names_in(a)) & varied]      # (a number too: it may be kept,
            receiver = value.func.value if isinstance(value.func, gast.Attribute) else None   # `self.total = ...`)
            # the constants a derivative read before (`obj.w` before `obj.reset()`, another object's array, a
            # closure's or a lambda's, a module's): their arrays read-only too (runtime.ReadOnly)
            read = _constants_read_before(fn, s, varied, numbers, unit) if opaque(op) else []
            if not opaque(op) or not touched and not read:
                continue
            if touched:                       # (given a value being differentiated: what it may keep, below)
                if isinstance(receiver, gast.Name) and receiver not in inputs and unit.scope.is_free(receiver.id) \
                        and not isinstance(unit.scope.lookup(receiver.id), types.ModuleType):
                    inputs.append(receiver)                        # (a module's object: `BOX.put(v)`)
                touched += [a for a in inputs if isinstance(a, gast.Name) and a not in touched
                            and any(_read_elsewhere(reads, m, s) for m in classes.get(a.id, {a.id}))]
                # objects read again, or holding one (they must hold what they held: runtime.opaque_call; a log
                # the function never reads back may keep it), and the module's objects read again
                touched += [N.name(m) for m in module_data if _read_elsewhere(reads, m, s)
                            and m not in {a.id for a in touched if isinstance(a, gast.Name)}]
            taken = {a.id for a in touched if isinstance(a, gast.Name)}
            constants = [N.name(n) for n in read if n not in taken]
            held = gast.Tuple(elts=[N.clone(a) for a in touched] + ([N.call(
                unit.aliases.ref(runtime.ReadOnly, "ReadOnly"), [N.tup(constants)])] if constants else []),
                ctx=gast.Load())
            s.value = N.located(gast.Call(func=N.clone(helper), args=[value.func, held] + list(value.args),
                                          keywords=list(value.keywords)), value)
    guarded(fn.body)


def _constants_read_before(fn, s, varied, numbers, unit):
    """The names holding constants (not being differentiated, not numbers) that an operation with a rule computing
    with a value being differentiated reads before ``s`` (earlier, or in a loop around ``s``): the backward sweep
    reads them again, so code run at ``s`` that s2sad does not see into must not change them. (A call run as it
    is, a plot or a log, is no such operation.)"""
    found = set()
    for u in before_or_around(fn.body, s):
        if not isinstance(u, gast.Assign) or isinstance(u.value, gast.Call) and opaque(classify(u.value, unit.scope)):
            continue
        names = {n.id for n in N.walk(u.value) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
        if names & varied:
            found |= names - varied - set(numbers)
    bound = set(N.params(fn)) | _bound_before(fn, s)          # (a name bound later in a loop around `s` may
    return sorted(n for n in found if n in bound or unit.scope.is_free(n))     # not be bound yet when it runs)


def _bound_before(fn, s):
    """The names that the statements before ``s`` in its block, and before the statement holding it in each block
    around it, assign: bound whenever ``s`` runs."""
    return {n.id for block, k in _path_to(fn.body, s) or () for st in block[:k] if isinstance(st, gast.Assign)
            for t in st.targets for n in N.walk(t) if isinstance(n, gast.Name)}


def _check_callee_state(unit, s, op, fn, varied):
    """A user function given a value being differentiated that changes an object of its module (``STORE.append(v)``)
    which this function reads: the derivative does not follow what the module keeps (refused at the call)."""
    from .. import calls
    if op.primitive is UNKNOWN or not calls.user_function(op.primitive) \
            or not {n for a in list(op.args) + list(op.kwargs.values()) for n in names_in(a)} & varied:
        return
    read = {n.id for n in N.walk(fn) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
            and unit.scope.is_free(n.id) and _holds_data(unit.scope.lookup(n.id))}      # (a module's data read here)
    if not read:
        return
    kept = sorted(n for n in calls.changed_module_state(op.primitive) & read
                  if unit.scope.lookup(n) is _lookup_in(op.primitive, n))
    if kept:
        raise unit.error(UnsupportedSyntaxError, f"`{op.label}` changes `{kept[0]}`, an object of its module this "
                         "function reads, when given a value being differentiated: the derivative does not follow "
                         "what a module keeps", s, hint="return the value from the function instead of keeping it")


def _lookup_in(fn, name):
    """What ``name`` denotes for the function ``fn`` (its globals, or its closure)."""
    fn = getattr(fn, "__wrapped__", fn)
    cells = dict(zip(getattr(getattr(fn, "__code__", None), "co_freevars", ()), getattr(fn, "__closure__", None) or ()))
    if name in cells:
        try:
            return cells[name].cell_contents
        except ValueError:
            return None
    return getattr(fn, "__globals__", {}).get(name)


def before_or_around(body, s):
    """The simple statements of ``body`` that may run before ``s``: those earlier in order, and those of every loop
    around ``s`` (another iteration runs them before ``s`` again)."""
    statements = list(N.statements(body))
    k = next((j for j, t in enumerate(statements) if t is s), None)
    if k is None:
        return []
    around = [t for loop in statements if isinstance(loop, (gast.For, gast.While))
              and any(t is s for t in N.statements(loop.body)) for t in N.statements(loop.body)]
    return [u for u in statements[:k] + around if u is not s and not isinstance(u, (gast.For, gast.While, gast.If))]


def _read_by_a_derivative_before(fn, s, held, varied):
    """Whether a statement reading a name of ``held`` and a value being differentiated runs before ``s`` (earlier,
    or anywhere in a loop around ``s``): the backward sweep reads ``held``'s object there."""
    for u in before_or_around(fn.body, s):
        names = {n.id for n in N.walk(u) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
        if names & held and names & varied:
            return True
    return False


def _check_callee_changes(unit, s, op, numbers, fn=None, effects=None, in_loop=False, arrays=frozenset(),
                          varied=frozenset()):
    """A user function that changes an argument in place (``t += ...`` on the caller's array): the caller's
    value changes too, which the derivative code does not reproduce. Refused unless what is passed there
    is a number (which no change in place reaches)."""
    from .. import calls
    value = s.value
    lifted = unit.lifted.get(value.func.id) if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
        else None
    if lifted is None and (op.primitive is UNKNOWN or not calls.user_function(op.primitive)):
        return
    changed = calls.changed_arguments(op.primitive, lifted, unit.scope)
    if not changed:
        return
    signature, positional = calls.signature_of(op.primitive, lifted)
    try:
        bound = signature.bind(*op.args, **op.kwargs).arguments
    except TypeError:
        return
    from .module_state import module_object
    rerun = calls.is_checkpoint(op.primitive)
    for k in sorted(changed):
        atom = bound.get(positional[k]) if k < len(positional) else None
        if atom is None or isinstance(atom, gast.Constant) and type(atom.value) in (int, float, bool):
            continue
        if isinstance(atom, gast.Name) and atom.id in numbers:
            continue
        if isinstance(atom, gast.Name) and fn is not None and atom.id not in assigned_names(fn) \
                and module_object(atom, unit.scope) is not None:     # bump(BUF, x): the module's array changed
            raise unit.error(UnsupportedSyntaxError, f"`{op.label}` changes its argument `{positional[k]}` in place, "
                             f"and `{atom.id}` passed there is an object of the module or of an enclosing function "
                             f"(the next call would read it changed), which is not supported in differentiated code",
                             s, hint=f"pass a copy (`{atom.id}.copy()`) and use the result")
        if rerun:                                   # run again in the backward sweep: from the changed argument
            raise unit.error(UnsupportedSyntaxError, f"`{op.label}`, checkpointed, changes its argument "
                             f"`{positional[k]}` in place: the backward sweep runs it again from the changed value, "
                             f"which cannot be differentiated", s,
                             hint=f"make `{op.label}` build a new value (`{positional[k]} = {positional[k]} + ...`)")
        if isinstance(atom, gast.Name) and fn is not None:
            aliases = effects.classes.get(atom.id, {atom.id}) if effects is not None else {atom.id}
            returned = {n.id for t in getattr(s, "targets", ()) for n in N.walk(t) if isinstance(n, gast.Name)}
            aliases = set(aliases) - returned          # what the call returns is what s2sad computes too
            if (not in_loop and not _read_after(fn, s, aliases) or in_loop and not _read_again(fn, s, aliases)) \
                    and (atom.id in varied or not _read_by_a_derivative_before(fn, s, set(aliases) | {atom.id}, varied)):
                continue                            # a value nothing reads afterwards: the change changes nothing
        refusal = unit.error(UnsupportedSyntaxError, f"`{op.label}` changes its argument `{positional[k]}` in "
                             f"place (the caller's value changes too), which cannot be differentiated", s,
                             hint=f"make `{op.label}` build a new value (`{positional[k]} = {positional[k]} + ...`) "
                                  f"instead of changing its argument")
        if not isinstance(atom, gast.Name) or fn is None:
            raise refusal
        guard(unit, fn, [s], atom.id, refusal, arrays)       # passed a number, the change makes a new one


def _read_after(fn, s, names, start=None):
    """Whether a statement after ``s`` (outside loops) reads one of ``names``: the statements after it in the
    text (a compound statement's header comes before its body, so an enclosing `if` is not)."""
    stmts = list(N.statements(fn.body))
    after = stmts[next(i for i, st in enumerate(stmts) if st is (start or s)) + 1:]
    if start is not None:                          # what follows a loop: not its own body
        inside = {id(b) for b in N.statements(start.body)}
        after = [st for st in after if id(st) not in inside]
    return any(isinstance(n, gast.Name) and n.id in names and isinstance(n.ctx, gast.Load)
               for st in after for n in N.walk(_header(st)))


def _read_again(fn, s, names):
    """``_read_after`` for ``s`` at the top of the body of a loop that is in no other loop (else: True). In order:
    the body after ``s``, then what follows the loop, then the next iteration (the loop's header, its body up
    to ``s`` and ``s`` itself); a name a top-level assignment rebinds on the way no longer holds the object (followed only when
    the body has no break/continue/return, which could skip the rebinding)."""
    loops = [st for st in N.statements(fn.body) if isinstance(st, (gast.For, gast.While))
             and any(b is s for b in N.statements(st.body))]
    if len(loops) != 1 or not any(b is s for b in loops[0].body):
        return True
    loop = loops[0]
    jumps = any(isinstance(n, (gast.Break, gast.Continue, gast.Return)) for b in loop.body for n in N.walk(b))
    live = set(names)

    def scan(block):
        for st in block:
            if any(isinstance(n, gast.Name) and n.id in live and isinstance(n.ctx, gast.Load) for n in N.walk(st)):
                return True
            if not jumps and isinstance(st, gast.Assign):
                live.difference_update(n.id for t in st.targets for n in ([t] if isinstance(t, gast.Name) else
                                       t.elts if isinstance(t, gast.Tuple) else []) if isinstance(n, gast.Name))
        return False
    i = next(k for k, b in enumerate(loop.body) if b is s)
    if scan(loop.body[i + 1:]) or _read_after(fn, s, live, start=loop):
        return True
    if isinstance(loop, gast.While) and any(isinstance(n, gast.Name) and n.id in live for n in N.walk(loop.test)):
        return True
    return scan(loop.body[:i + 1])             # (``s`` itself reads its arguments again)


def _header(st):
    """What a statement itself reads: a compound statement's test or iterable (its body is listed apart)."""
    if isinstance(st, gast.For):
        return st.iter
    if isinstance(st, (gast.If, gast.While)):
        return st.test
    return st


def _runs_its_arguments_now(func):
    """Whether a call of ``func`` uses a function passed to it before it returns, without keeping it
    (``sorted(xs, key=lambda v: ...)``): the lambda sees the values bound at the call."""
    if getattr(func, "__module__", "") == "s2sad.runtime":
        return True
    try:
        return func in (sorted, max, min, map, filter, sum, any, all, list, tuple)
    except TypeError:
        return False


def _makes_a_derivative(func, unit):
    """Whether ``func`` denotes one of s2sad's functions making a derivative function (``s2sad.grad``, ...)."""
    try:
        obj = unit.scope.resolve(func)
    except Exception:                                   # noqa: BLE001  (not resolved: none of them)
        return False
    return any(obj is made for made in markers.API.values())


def guard_keys(fn, unit, varied):
    """Keys and indices that may depend on a value being differentiated (``{a: v}``, ``d[k] = v``, ``{k: v for
    ...}``, ``dict(zip(ks, vs))``) get a check where the code runs (``runtime.constant_key``): keys carry no
    derivative, so a float or an object being differentiated used as a key, read back (``for k in d``), would give
    none. A string, an int or a tuple of them (the keys of a dict walked, ``k + "2"``) passes. In place."""
    from .. import calls
    check = unit.aliases.ref(runtime.constant_key, "constant_key")

    def keys(s):
        if isinstance(s, gast.Assign) and isinstance(s.value, gast.Dict):
            return [k for k in s.value.keys if k is not None and set(names_in(k)) & varied]
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript) \
                and set(names_in(s.targets[0].slice)) & varied:
            return [calls.index_value(s.targets[0].slice, unit.aliases)]
        if isinstance(s, gast.Assign) and isinstance(s.value, gast.Call) and s.value.args \
                and set(names_in(s.value.args[0])) & varied and _resolves_to(s.value.func, unit, runtime.make_dict):
            return [s.value.args[0]]                    # ({k: v for ...}, dict(pairs): the list of keys, each checked)
        return []
    for block in N.blocks(fn.body):                      # (each block changed in place, its checks put first)
        block[:] = [t for s in block for t in [N.located(gast.Expr(value=N.call(N.clone(check), [N.clone(k)])), s)
                                               for k in keys(s)] + [s]]


def refuse_calls_it_cannot_follow(fn, unit, varied):
    """Refuse, at the user's line, calls and reads whose derivative s2sad cannot follow and would otherwise miss
    (a wrong number, not an error): ``super()``, ``getattr`` by a name known only when the code runs, a function
    made by ``np.vectorize``, and brackets that compute with a value being differentiated (``np.r_[x, x]``); and
    (a clear error, not one from the generated code) einsum's ``...`` in reverse mode."""
    for s in N.statements(fn.body):                    # P(size=x): a namedtuple's field named like an array
        if isinstance(s, gast.Assign) and isinstance(s.value, gast.Call):     # attribute, read as NumPy's
            cls = unit.scope.resolve(s.value.func)
            op = classify(s.value, unit.scope) if isinstance(cls, type) and hasattr(cls, "_fields") else None
            clash = [f for f, a in zip(getattr(cls, "_fields", ()), op.args if op is not None and op.primitive is PACK
                                       else ()) if f in tree.ARRAY_ATTRIBUTES and set(names_in(a)) & varied]
            if clash:
                raise unit.error(UnsupportedSyntaxError, f"the field `{clash[0]}` of a {cls.__name__} holds a value "
                                 f"being differentiated and is named like an array attribute (`p.{clash[0]}` is read "
                                 "as NumPy's)", s, hint="rename the field")
    vectorized = {s.targets[0].id for s in N.statements(fn.body) if isinstance(s, gast.Assign)
                  and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.Call)
                  and _resolves_to(s.value.func, unit, np.vectorize)}
    for s in N.statements(fn.body):
        call = s.value if isinstance(s, (gast.Assign, gast.Expr)) else None
        for n in N.walk(call if call is not None else gast.Pass()):
            if isinstance(n, gast.Attribute) and n.attr == "__dict__" and set(names_in(n.value)) & varied:
                raise unit.error(UnsupportedSyntaxError, "`__dict__` of a value being differentiated: s2sad follows "
                                 "its fields by name, not through the dict of its attributes", s,
                                 hint="read the fields by name (`m.w1`), or keep the arrays in a dict field")
            if isinstance(n, gast.UnaryOp) and isinstance(n.op, gast.Invert) and set(names_in(n)) & varied \
                    or isinstance(n, gast.BinOp) and isinstance(n.op, (gast.LShift, gast.RShift)) \
                    and set(names_in(n)) & varied:
                raise unit.error(UnsupportedSyntaxError, "`~`, `<<` or `>>` of a value being differentiated: NumPy's "
                                 "are bitwise (no derivative), an object's own may compute anything, which s2sad "
                                 "does not see into", s, hint="call a method or a function instead of the operator")
            if isinstance(n, gast.BinOp) and isinstance(n.op, (gast.BitOr, gast.BitAnd, gast.BitXor)) \
                    and set(names_in(n)) & varied:
                raise unit.error(UnsupportedSyntaxError, "`|`, `&` or `^` of a value being differentiated (a dict "
                                 "or set merged): s2sad does not follow derivatives through it", s,
                                 hint="build the dict key by key (`d = dict(d); d['k'] = v`)")
        if isinstance(call, gast.Call) and call.args and set(names_in(call.args[0])) & varied \
                and _makes_a_derivative(call.func, unit):
            raise unit.error(UnsupportedSyntaxError, f"`{N.unparse(call.func)}` of a function made from a value "
                             "being differentiated (a closure, a default, a bound method of an object being "
                             "differentiated): the derivative cannot follow through the function value", s,
                             hint="pass the differentiated values to the function as arguments")
        if isinstance(call, gast.Call) and _changes_its_first_argument(call, unit):
            raise unit.error(UnsupportedSyntaxError, f"`{N.unparse(call.func)}(...)` changes its first argument in "
                             "place, called as a function, which s2sad does not follow", s,
                             hint="write it as Python does: `c[k] = v`, `c.append(v)`, `d.update(e)`")
        if isinstance(call, gast.Call) and _resolves_to(call.func, unit, builtins.super):
            raise unit.error(UnsupportedSyntaxError, "`super()` in a method s2sad differentiates is not supported (the "
                             "method runs as a function of its object, without its class's cell)", s,
                             hint="call the base class's method by name: `Base.f(self, x)`")
        if isinstance(call, gast.Call) and call.args and set(names_in(call.args[0])) & varied \
                and _resolves_to(call.func, unit, builtins.getattr):
            raise unit.error(UnsupportedSyntaxError, "`getattr` of a value being differentiated with a name known "
                             "only when the code runs: s2sad cannot tell which field it reads", s,
                             hint="read the field by name (`p.a`), or keep the values in a dict (`p[name]`)")
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Name) and call.func.id in vectorized \
                and any(set(names_in(a)) & varied for a in list(call.args) + [k.value for k in call.keywords]):
            raise unit.error(UnsupportedSyntaxError, "a function made by `np.vectorize` is called on a value being "
                             "differentiated, which s2sad does not differentiate (NumPy's own loop)", s,
                             hint="call the function on arrays directly (NumPy's operations are elementwise), or "
                                  "loop over the items in your code")
        if isinstance(call, gast.Call) and unit.mode != "forward" and call.args \
                and isinstance(call.args[0], gast.Constant) and isinstance(call.args[0].value, str) \
                and "." in call.args[0].value and _resolves_to(call.func, unit, np.einsum) \
                and any(set(names_in(a)) & varied for a in call.args[1:]):
            raise unit.error(UnsupportedSyntaxError, "the reverse-mode derivative of `np.einsum` with `...` is not "
                             "supported", s, hint="spell out the axes (`'bi,bi->b'`, not `'...i,...i->...'`), or use "
                                                 "forward mode (s2sad.jvp)")
        if isinstance(s, gast.Assign) and isinstance(s.value, gast.Subscript) \
                and set(names_in(s.value.slice)) & varied and _indexed_by_value(s.value.value, unit):
            raise unit.error(UnsupportedSyntaxError, f"`{N.unparse(s.value.value)}[...]` computes with a value being "
                             "differentiated inside its brackets, which s2sad cannot follow", s,
                             hint="np.concatenate / np.column_stack for np.r_ / np.c_; a call for an object's [...]")


_CHANGING_FUNCTIONS = {operator.setitem, operator.delitem, operator.iadd, operator.isub, operator.imul,
                       operator.itruediv, operator.ipow, operator.imatmul, operator.ior, operator.iand, operator.ixor,
                       operator.iconcat}


def _changes_its_first_argument(call, unit):
    """``operator.setitem(c, k, v)``, ``list.append(c, v)``, ``dict.__setitem__(d, k, v)``, ``np.ndarray.fill(a, 0)``:
    a function (or a type's method called through the type) changing its first argument in place."""
    try:
        func = unit.scope.resolve(call.func)
        if func is runtime.opaque_call and call.args:  # (pass_read_only's wrapper: the function it calls)
            func = unit.scope.resolve(call.args[0])
        if func is MISSING and isinstance(call.func, gast.Attribute) and isinstance(call.func.value, gast.Name) \
                and call.func.value.id in ("list", "dict", "set", "bytearray"):
            func = getattr(getattr(builtins, call.func.value.id), call.func.attr, None)   # (`list.append`)
    except Exception:                                  # noqa: BLE001 -- not known: not one of these
        return False
    if _is_in(func, _CHANGING_FUNCTIONS):
        return True
    owner = getattr(func, "__objclass__", None)        # a method descriptor: `list.append`, `np.ndarray.fill`
    name = getattr(func, "__name__", "")
    return owner in (list, dict, set, bytearray, np.ndarray) and (
        name in IN_PLACE_METHODS or name.startswith("__i") or name in ("__setitem__", "__delitem__"))


_ARRAY_ONLY_METHODS = frozenset(dir(np.ndarray)) - frozenset(dir(list)) - frozenset(dir(dict)) - frozenset(dir(tuple))


def check_methods(fn, unit, varied, kinds):
    """Refuse what the method rules would read wrongly (a refusal, never a wrong number):

    - a method that changes its object in place taken as a value (``push = out.append``, ``getattr(a, "fill")``,
      ``call(cb=out.append)``): the change, made where the value is called, is not seen;
    - an array method called on a module or a class held by a name whose kind is not known, given a value being
      differentiated (``xp = np; xp.take(x, idx)``, ``type(x).take(x, idx)``): ``x`` is the array there, not the
      indices the method's rule takes it for (``runtime.an_object`` checks it where the code runs)."""
    called = {id(n.func) for n in N.walk(fn) if isinstance(n, gast.Call)}
    guards = {}
    for s in list(N.statements(fn.body)):
        for node in N.walk(s):
            taken = None
            if isinstance(node, gast.Attribute) and isinstance(node.ctx, gast.Load) and id(node) not in called \
                    and node.attr in IN_PLACE_METHODS and not _module_ref(node, unit):
                taken = N.unparse(node)
            elif isinstance(node, gast.Call) and _resolves_to(node.func, unit, builtins.getattr) \
                    and len(node.args) >= 2 and isinstance(node.args[1], gast.Constant) \
                    and node.args[1].value in IN_PLACE_METHODS and not _module_ref(
                        gast.Attribute(value=node.args[0], attr=node.args[1].value, ctx=gast.Load()), unit):
                taken = f"{N.unparse(node.args[0])}.{node.args[1].value}"
            if taken is not None:
                raise unit.error(UnsupportedSyntaxError, f"`{taken}` changes its object in place and is taken here as "
                                 "a value: a change made where it is called is not followed by the derivative", s,
                                 hint=f"call `{taken}(...)` itself where the change is made")
        value = s.value if isinstance(s, (gast.Assign, gast.Expr)) else None
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                and isinstance(value.func.value, gast.Name) and value.func.attr in _ARRAY_ONLY_METHODS \
                and not unit.scope.is_free(value.func.value.id) and value.func.value.id not in varied \
                and kinds.get(value.func.value.id) is None \
                and any(set(names_in(a)) & varied for a in list(value.args) + [k.value for k in value.keywords]):
            refusal = unit.error(UnsupportedSyntaxError, f"`.{value.func.attr}(...)` is called on a module or a "
                                 "class (`xp = np`, `type(x)`), given a value being differentiated: it is not the "
                                 "array method its rule differentiates", s,
                                 hint=f"call the function itself (`np.{value.func.attr}(...)`)")
            guards[id(s)] = N.located(gast.Expr(value=N.call(unit.aliases.ref(runtime.an_object, "an_object"),
                                                             [N.clone(value.func.value), N.const(str(refusal))])), s)
    if guards:                      # where the object's kind is not known: checked where the code runs
        for block in N.blocks(fn.body):
            block[:] = [g for st in block for g in ([guards[id(st)]] if id(st) in guards else []) + [st]]


def resolved_or_none(unit, node):
    """What a name or a module's attribute chain denotes in ``unit``'s scope; None for a local or what cannot be
    resolved."""
    try:
        return unit.scope.resolve(node)
    except Exception:                                  # noqa: BLE001  (a local)
        return None


def _check_constant_changed(fn, unit, s, value, op, varied, effects):
    """A value that carries no derivative, changed in place (``A.fill(2.0)``, ``np.put(A, i, v)``, ``out=A``,
    ``A.sort()``) after a computation being differentiated read it (``c = A * x``), or in a loop around such a
    computation: the backward sweep, which reads ``A`` where it differentiates ``c``, would see the new values (a
    wrong gradient, silently). Refused; a change before every such read is fine (the read sees what the sweep
    sees)."""
    method = value.func.attr if isinstance(value.func, gast.Attribute) and not _module_ref(value.func, unit) \
        else None
    if op.primitive is APPEND:
        return
    if method == "shuffle" and len(op.args) > 1 and isinstance(op.args[1], gast.Name):
        changed = op.args[1].id                       # rng.shuffle(c): c, not the generator
    elif method in IN_PLACE_METHODS and isinstance(value.func.value, gast.Name):
        changed = value.func.value.id
    elif method is None and isinstance(value.func, gast.Attribute) and value.func.attr in IN_PLACE_METHODS \
            and isinstance(resolved_or_none(unit, value.func.value), type) and op.args \
            and isinstance(op.args[0], gast.Name):
        changed = op.args[0].id                       # np.ndarray.sort(c), list.append(c, v): the method by its class
    elif writes_out(op, method):
        out = op.kwargs.get("out") if "out" in op.kwargs else None
        changed = out.id if isinstance(out, gast.Name) else next(
            (a.id for a in reversed(op.args) if isinstance(a, gast.Name)), None)
    elif _library(op.primitive) and op.args and isinstance(op.args[0], gast.Name) and isinstance(s, gast.Expr):
        changed = op.args[0].id                       # np.put(A, i, v), np.copyto(A, B), np.fill_diagonal(A, v)
    else:
        return
    if changed is None:
        return
    if _read_by_a_derivative_before(fn, s, set(effects.classes.get(changed, {changed})), varied):
        label = N.unparse(value.func) if method is None else f"{changed}.{method}"
        raise unit.error(UnsupportedSyntaxError, f"`{label}(...)` changes `{changed}` in place after a computation "
                         "being differentiated read it: the derivative code would read the changed values", s,
                         hint=f"work on a copy (`{changed} = {changed}.copy()` before the change)")


def check_writes(fn, unit, varied, effects, numbers=frozenset(), active=frozenset(), arrays=frozenset()):
    """Refuse changes in place that the derivative code cannot follow (a refusal, never a wrong number).

    - ``x[i] = v`` into a value that carries derivatives (x may share memory with an input);
    - a method that works in place, or ``out=``, on such a value (``append`` to a list built here is fine);
    - a NumPy or SciPy function without a rule, its result unused, receiving such a value (``np.copyto``);
      other code s2sad does not see into runs with its arrays read-only instead (``pass_read_only``);
    - ``y op= e`` where ``y`` may share memory with another variable read later (``y = x; y *= 2``
      changes ``x`` in Python), unless that variable holds a number (``numbers``);
    - a change in place of a parameter (the caller's value, which its derivative code does not see change).
    """
    from ..calls import rest_spread
    from ..rules import registry
    from .activity import lossy
    for s in N.statements(fn.body):
        for node in N.walk(s):
            if isinstance(node, gast.Call) and unit.scope.resolve(node.func) in (builtins.eval, builtins.exec,
                                                                                   builtins.compile):
                raise unit.error(UnsupportedSyntaxError, f"`{node.func.id if isinstance(node.func, gast.Name) else 'eval'}` "
                                 "runs text as code, which s2sad cannot see into to differentiate", s,
                                 hint="write the expression as code")
        if isinstance(s, gast.Assign) and lossy(s.value, unit.scope) and \
                {n.id for n in N.walk(s.targets[0]) if isinstance(n, gast.Name)} & active:
            raise unit.error(UnsupportedSyntaxError, "a value being differentiated goes through text (str, repr, "
                             "format, an f-string) on its way to the result; the derivative cannot follow it", s,
                             hint="keep the number a number (use it directly, or stop_gradient if it is meant "
                                  "to be a constant)")
    user_of = {v: u for u, vs in unit.versions.items() for v in vs}
    fn_params = set(N.params(fn))
    reads = _reads(fn, unit, varied)

    def versions_of(user):
        return unit.versions.get(user, set()) | ({user} if user in fn_params else set())
    for s in N.statements(fn.body):
        if isinstance(s, gast.FunctionDef):       # a function defined here: lifted (its outer reads are its
            continue                              # parameters), checked where it is differentiated
        immediate = {id(a) for node in N.walk(s) if isinstance(node, gast.Call)
                     and _runs_its_arguments_now(unit.scope.resolve(node.func))
                     for a in list(node.args) + [k.value for k in node.keywords]}
        linked_rest = rest_spread(s.value, unit.scope) if isinstance(s, gast.Assign) and \
            isinstance(s.value, gast.Call) else None        # linked as the tuple it is
        own = [n for part in ([s] if not isinstance(s, (gast.If, gast.For, gast.While)) else
                              [getattr(s, f) for f in ("test", "target", "iter") if getattr(s, f, None) is not None])
               for n in N.walk(part)]            # (a branch's or loop's statements are visited on their own)
        for node in own:
            if isinstance(node, gast.Starred) and set(names_in(node.value)) & active and node is not linked_rest:
                raise unit.error(UnsupportedSyntaxError, "a value being differentiated is passed with `*` "
                                 f"(`*{N.unparse(node.value)}`), which s2sad cannot follow", s,
                                 hint="pass the items one by one, or pass the sequence itself")
            if isinstance(node, gast.Lambda):
                params = {a.id for a in node.args.args + node.args.posonlyargs + node.args.kwonlyargs}
                captured = set(names_in(node.body)) - params
                if captured & varied:
                    raise unit.error(UnsupportedSyntaxError, f"this lambda reads `{sorted(captured & varied)[0]}`, "
                                     "which is being differentiated, and is used as a value: s2sad cannot follow "
                                     "the derivative through it", s,
                                     hint="pass that value to the function as an argument, or call a `def` "
                                          "function directly")
                late = sorted(user_of.get(n, n) for n in captured if id(node) not in immediate
                              and len(versions_of(user_of.get(n, n))) > 1)
                if late:                      # Python reads the name when the lambda runs: which version then?
                    raise unit.error(UnsupportedSyntaxError, f"this lambda reads `{late[0]}`, which is assigned more "
                                     "than once in this function, and is kept as a value: it would see whichever "
                                     "value is bound when it runs, which s2sad does not follow", s,
                                     hint=f"pass `{late[0]}` to the lambda as an argument, or give each value its "
                                          f"own name")
    looped = {id(st) for loop in N.statements(fn.body) if isinstance(loop, (gast.For, gast.While))
              for st in N.statements(loop.body)}
    write_hint = "build a new array instead (np.where, np.concatenate, or arithmetic with a mask)"
    in_place = "a call that may modify a value being differentiated in place"
    in_place_hint = "use a function that returns a new value (in-place updates cannot be differentiated)"
    local = assigned_names(fn)
    for s, root in unit.source.nested_writes:
        if root in varied or set(names_in(s)) & varied:
            raise unit.error(UnsupportedSyntaxError, "writing into a part of a part (`x[i][j] = v`) of a value "
                             "being differentiated is not supported", s,
                             hint="write `x[i, j] = v` for an array, or build the row and write it whole")
    refuse_calls_it_cannot_follow(fn, unit, varied)
    for s in N.statements(fn.body):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript) \
                and isinstance(s.targets[0].value, gast.Name) and s.targets[0].value.id in local:
            held = effects.classes.get(s.targets[0].value.id, {s.targets[0].value.id})
            outer = _outer_objects(unit, fn, held)          # `d = DICT; d["k"] = ...`, `r = BUF; r[1:] = ...`
            if outer and fresh_where_changed(fn, unit, s, s.targets[0].value.id):
                outer = []                                  # (`d = DICT.copy(); d["k"] = v`: a new dict's slot)
            if outer and (set(names_in(s.value)) & varied or any(reads.get(n) for n in held | set(outer))):
                raise unit.error(UnsupportedSyntaxError, f"writing into `{outer[0]}` (through "
                                 f"`{s.targets[0].value.id}`), which belongs to the module or an enclosing function "
                                 "and is read here too, is not supported in differentiated code (the derivative "
                                 "would read it changed, the next call too)", s,
                                 hint=f"work on a local copy (`{s.targets[0].value.id} = {outer[0]}.copy()`)")
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], (gast.Subscript, gast.Attribute)):
            target = s.targets[0]
            if not (set(_root_names(target.value)) | set(names_in(s.value))) & varied:
                continue                                    # nothing being differentiated is involved
            if isinstance(target, gast.Attribute):
                raise unit.error(UnsupportedSyntaxError, "writing into an attribute of a value being "
                                 "differentiated is not supported", s, hint="build a new object instead")
            if not isinstance(target.value, gast.Name):
                raise unit.error(UnsupportedSyntaxError, "writing into a part of a part (`x[i][j] = v`) of a value "
                                 "being differentiated is not supported", s,
                                 hint="write `x[i, j] = v` for an array, or build the row and write it whole")
            if target.value.id not in local:
                raise unit.error(UnsupportedSyntaxError, f"writing into `{target.value.id}`, which belongs to the "
                                 "module or an enclosing function, is not supported in differentiated code", s,
                                 hint=f"work on a local copy (`{target.value.id} = {target.value.id}.copy()`)")
            continue
        value = s.value if isinstance(s, (gast.Assign, gast.Expr)) else None
        if not isinstance(value, gast.Call):
            continue
        op = classify(value, unit.scope)
        if not (isinstance(s, gast.Expr) and op.primitive is APPEND):
            _check_callee_changes(unit, s, op, numbers, fn, effects, id(s) in looped, arrays, varied)
            _check_callee_state(unit, s, op, fn, varied)
        touched = {n for a in list(op.args) + list(op.kwargs.values()) for n in names_in(a)} & varied
        if isinstance(value.func, gast.Attribute) and not _module_ref(value.func, unit):
            receiver = set(names_in(value.func.value)) & varied
        else:
            receiver = set()
        if not touched and not receiver:
            _check_constant_changed(fn, unit, s, value, op, varied, effects)
            continue
        method = value.func.attr if isinstance(value.func, gast.Attribute) and not _module_ref(value.func, unit) \
            else None
        if writes_out(op, method):
            raise unit.error(UnsupportedSyntaxError, "`out` (by keyword or by position) writes into an array in "
                             "place, which cannot be differentiated", s, hint="drop `out=` and use the returned value")
        overwritten = _overwrites(op)
        if overwritten:
            raise unit.error(UnsupportedSyntaxError, f"`{overwritten}=True` lets the function reorder or overwrite "
                             "the array it is given, which the derivative reads again", s,
                             hint=f"drop `{overwritten}=` (it only saves a copy)")
        held = [n for n in _root_names(value.func.value) if n not in local and _read_elsewhere(reads, n, s)] \
            if method in IN_PLACE_METHODS and touched else []
        if method in IN_PLACE_METHODS and not held:      # `L = LIST; L.append(v)`, LIST or L read elsewhere
            for root in _root_names(value.func.value):
                names = effects.classes.get(root, {root}) if root in local else set()
                outer = _outer_objects(unit, fn, names)
                if outer and any(_read_elsewhere(reads, n, s) for n in names):
                    held = outer
                    break
        if held:                              # HIST.append(v) with HIST a global list read here: not followed
            raise unit.error(UnsupportedSyntaxError, f"`.{method}` changes `{held[0]}`, a value of the module or an "
                             "enclosing function: not supported in differentiated code", s,
                             hint=f"build a local copy (`{held[0]} = list({held[0]})` first) and return it")
        if op.primitive is APPEND:
            continue
        if receiver and value.func.attr in IN_PLACE_METHODS:
            raise unit.error(UnsupportedSyntaxError, in_place, s, hint=in_place_hint)
        if isinstance(s, gast.Expr) and opaque(op) and _library(op.primitive):    # np.copyto(buf, x), ...
            raise unit.error(UnsupportedSyntaxError, in_place, s, hint=in_place_hint)
        # any other call s2sad does not see into gets its arguments read-only (pass_read_only)
    def number(user):             # every version of the user's name holds a number (front/versions.py)
        return all(v in numbers for v in unit.versions.get(user, set()) | {user})
    located = {}
    for st in N.statements(fn.body):
        located.setdefault((getattr(st, "lineno", None), getattr(st, "col_offset", None)), []).append(st)
    def version_read(lowered, name):     # the version of ``name`` the statements ``name op= e`` became read
        versions = unit.versions.get(name, set()) | {name}
        read = [n.id for st in lowered for n in N.walk(st.value if isinstance(st, gast.Assign) else st)
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in versions]
        return read[0] if read else None
    for s, name, op, lowered in _lowered_copies(fn, located, unit.source.walked_views):   # `for v in x[1:]: x op= e`
        if number(name):
            continue
        refusal = unit.error(UnsupportedSyntaxError, f"`{name} {op}=` changes `{name}` in place while a `for` "
                             "loop walks it, which cannot be differentiated", s,
                             hint=f"write `{name} = {name} {op} ...` to make a new array")
        version = version_read(lowered, name)
        if version is None:
            raise refusal
        # what each loop around walks, held from its start (front/normalize.walk_holders): the change is seen
        # by the walk only if that object shares memory with the changed one, checked where the code runs
        holders = dict((holder, root) for root, holder in unit.source.walked_holders.get(id(s), ()))
        guard(unit, fn, lowered, version, refusal, arrays, others=sorted(holders),
              bound=lambda other, st: True, user=lambda holder: holders.get(holder, holder))
    for s, name, op, lowered in _lowered_copies(fn, located, unit.source.walked_updates):   # `for v in x: x op= e`
        version = version_read(lowered, name)
        if version in arrays:
            continue
        refusal = unit.error(UnsupportedSyntaxError, f"`{name} {op}=` changes `{name}` in place while a `for` loop "
                             "walks it, which cannot be differentiated unless it is an array or a tuple", s,
                             hint=f"write `{name} = {name} {op} ...` and walk a copy")
        if version is None:
            raise refusal
        guard(unit, fn, lowered, version, refusal, arrays, runtime.walked)
    params = set(N.params(fn))
    for name in sorted(effects.mutated):
        reached = sorted(set(effects.classes.get(name, {name})) & params & varied)
        for change in effects.mutated[name]:
            if reached and not fresh_where_changed(fn, unit, change, name):    # (`z = z.copy()` first: a new object)
                arg = name if name in reached else reached[0]
                through = "" if name == arg else f" (through `{name}`, which may hold the same object)"
                raise unit.error(UnsupportedSyntaxError, f"this function changes its argument `{arg}` in place"
                                 f"{through}, which cannot be differentiated", change,
                                 hint=f"work on a copy (`{arg} = {arg}.copy()`) or build a "
                                      f"new value")
