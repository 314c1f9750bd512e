"""Objects of a module (its lists, dicts, arrays, records), changed in place by differentiated code and read back.

The derivative code differentiates a function of its arguments' values: a value being differentiated kept in an
object of a module (``Reg.items.append(v)``, ``state.STORE.append(v)`` in a helper, ``b = K.buf; b += x``) and
read back from there (``Reg.items[-1]``, ``last()``, ``K.buf``) reaches the result on a path the derivative does
not follow: a zero or partial gradient, silently. ``check`` refuses such a change where the object it changes
is one the function, or a user function it calls, reads.

Objects are compared by identity: the one a name or an attribute chain from a free name denotes, reached through
modules, classes' own attributes and objects' ``__dict__`` (no user code runs: no property, no
``__getattr__``). A change nothing reads back (a log) is allowed; plain names of the function's own module
(``HIST.append(v)``) are checked by analysis/effects.py as before.
"""
import builtins
import inspect
import types

import gast
import numpy as np

from .. import nodes as N
from ..errors import UnsupportedSyntaxError
from ..front.resolve import MISSING
from ..tree import is_record
from .effects import IN_PLACE_METHODS, before_or_around

def module_object(node, scope):
    """The object a free name, or an attribute chain from one, denotes when it is data a change in place may reach
    (a list, dict, set, array or record of a module, a class or a module-level object), else None."""
    chain = []
    while isinstance(node, gast.Attribute) or _getattr_call(node, scope):
        chain.append(node.attr if isinstance(node, gast.Attribute) else node.args[1].value)
        node = node.value if isinstance(node, gast.Attribute) else node.args[0]
    if not isinstance(node, gast.Name) or not scope.is_free(node.id):
        return None
    obj = scope.lookup(node.id)
    for attr in reversed(chain):
        obj = _attribute(obj, attr)
        if obj is MISSING:
            return None
    return obj if _data(obj) else None


def _getattr_call(node, scope):
    """``getattr(X, "name")`` with the name a constant: the attribute chain ``X.name``."""
    if not (isinstance(node, gast.Call) and len(node.args) == 2 and not node.keywords
            and isinstance(node.args[1], gast.Constant) and isinstance(node.args[1].value, str)):
        return False
    try:
        return scope.resolve(node.func) is builtins.getattr
    except Exception:                                   # noqa: BLE001
        return False


def _attribute(obj, attr):
    if isinstance(obj, types.ModuleType):
        return vars(obj).get(attr, MISSING)
    if isinstance(obj, type):
        return next((vars(k)[attr] for k in obj.__mro__ if attr in vars(k)), MISSING)
    if _data(obj) and hasattr(obj, "__dict__"):
        return vars(obj).get(attr, MISSING)
    return MISSING


def _data(obj):
    return isinstance(obj, (list, dict, set, np.ndarray)) or is_record(obj) and not isinstance(obj, types.ModuleType)


def _reads(tree, scope):
    """id -> object: the module objects ``tree`` reads (by a name or an attribute chain), not counting the object
    a change in place names (``STORE.append(v)`` reads nothing back)."""
    changed = {id(m) for _, _, node in _changes(tree, scope) for m in N.walk(node)}
    found = {}
    for n in N.walk(tree):
        if isinstance(n, (gast.Name, gast.Attribute)) and isinstance(n.ctx, gast.Load) and id(n) not in changed:
            obj = module_object(n, scope)
            if obj is not None:
                found[id(obj)] = obj
    return found


def _changes(tree, scope):
    """``(statement, object, node)`` for each change in place in ``tree`` of a module object: a method changing its
    object (``Reg.items.append(v)``), an item or attribute written (``K.buf[0] = v``), or either through a local
    name assigned from one (``b = K.buf; b += x``, ``s = mod.STORE; s.append(v)``)."""
    held = {}                                          # local name -> the module object it was assigned
    for s in N.walk(tree):
        if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name):
            obj = module_object(s.value, scope) if isinstance(s.value, (gast.Attribute, gast.Call)) else None
            obj = obj if obj is not None else _returned_object(s.value, scope)
            if obj is not None:
                held[s.targets[0].id] = obj

    def denoted(node):
        if isinstance(node, gast.Name) and node.id in held and not scope.is_free(node.id):
            return held[node.id]
        return module_object(node, scope)
    out = []
    for s in N.walk(tree):
        targets = []
        if isinstance(s, gast.Call) and isinstance(s.func, gast.Attribute) and s.func.attr in IN_PLACE_METHODS:
            targets = [s.func.value]
        elif isinstance(s, (gast.Assign, gast.AugAssign)):
            for t in (s.targets if isinstance(s, gast.Assign) else [s.target]):
                if isinstance(t, (gast.Subscript, gast.Attribute)):
                    targets.append(t.value)
                elif isinstance(s, gast.AugAssign) and isinstance(t, gast.Name):
                    targets.append(t)
        for t in targets:
            obj = denoted(t)
            if obj is not None and (not isinstance(s, gast.Call) or isinstance(obj, (list, dict, set, np.ndarray))):
                out.append((s, obj, t))              # (a record's own methods: runtime.opaque_call watches them)
    return out


def _returned_object(value, scope):
    """The module object a user function called here returns (``b = get_buf()`` with ``return K.buf``), else
    None."""
    from .. import calls
    if not isinstance(value, gast.Call) or not isinstance(value.func, (gast.Name, gast.Attribute)):
        return None
    try:
        fn = scope.resolve(value.func)
        if fn is MISSING and isinstance(value.func, gast.Attribute):      # K.get() of a class's static or class
            owner = scope.resolve(value.func.value)                        # method
            if isinstance(owner, type):
                found = inspect.getattr_static(owner, value.func.attr, None)
                fn = found.__func__ if isinstance(found, (staticmethod, classmethod)) else MISSING
    except Exception:                                   # noqa: BLE001
        return None
    analysed = calls._analysed(fn) if fn is not MISSING and calls.user_function(fn) else None
    if analysed is None:
        return None
    _, unit, _, source = analysed
    for r in N.walk(source.tree):
        if isinstance(r, gast.Return) and r.value is not None:
            obj = module_object(r.value, unit.scope)
            if obj is not None:
                return obj
    return None


def _callees(tree, scope, depth):
    """The user functions ``tree`` calls by name or through a module (``last()``, ``helpers.put(v)``), with their
    analysis (calls._analysed), ``depth`` calls deep."""
    from .. import calls
    found = []
    if depth <= 0:
        return found
    for n in N.walk(tree):
        if isinstance(n, gast.Call) and isinstance(n.func, (gast.Name, gast.Attribute)):
            try:
                fn = scope.resolve(n.func)
            except Exception:                           # noqa: BLE001  (a local, or unresolved)
                continue
            if fn is not MISSING and calls.user_function(fn):
                analysed = calls._analysed(fn)
                if analysed is not None:
                    found.append((n, fn, analysed))
    return found


_REACHED = {}


def _reached(tree, scope, depth=3, seen=None):
    """``(reads, changes, kept)`` of ``tree`` and the user functions it calls (``depth`` deep), module objects by
    id: those read, those changed in place, and those changed with a value computed from the function's own names
    (a change storing only constants and the module's own values, a counter `N["n"] += 1`, keeps no derivative)."""
    seen = set() if seen is None else seen
    reads = _reads(tree, scope)
    changes, kept = {}, {}
    for st, obj, _ in _changes(tree, scope):
        changes[id(obj)] = obj
        if any(isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and not scope.is_free(n.id)
               for n in N.walk(st)):
            kept[id(obj)] = obj
    for call, fn, (_, unit, _, source) in _callees(tree, scope, depth):
        code = getattr(fn, "__code__", None)
        given = any(isinstance(n, gast.Name) and not scope.is_free(n.id)          # (`coeffs(3)` caching what it
                    for a in list(call.args) + [k.value for k in call.keywords] for n in N.walk(a))   # makes of 3)
        if code in seen:
            continue
        seen.add(code)
        key = (code, depth - 1)
        if key not in _REACHED:                     # (per code object: what it reads and changes of its modules)
            _REACHED[key] = _reached(source.tree, unit.scope, depth - 1, seen)
        more_reads, more_changes, more_kept = _REACHED[key]
        reads.update(more_reads)
        changes.update(more_changes)
        if given:
            kept.update(more_kept)
    return reads, changes, kept


def check(unit, varied_users):
    """Refuse, in the user's function (its source, ``unit.source.tree``), a change in place of a module object
    that involves a value being differentiated (``varied_users``: the user's names that may hold one) -- made
    here, or by a user function called with such a value -- where that object is read by the function or a user
    function it calls."""
    tree, scope = unit.source.tree, unit.scope
    aliasing = {id(s.value) for s in N.walk(tree) if isinstance(s, gast.Assign) and len(s.targets) == 1
                and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.Attribute)}   # `b = K.buf`
    calls_ = _callees(tree, scope, 1)
    _check_checkpoints(unit, tree, scope, calls_)
    found = []

    def callees_read():                     # what the user functions called here read (worked out once, if asked)
        if not found:
            reads = {}
            for _, _, (_, u, _, source) in calls_:
                reads.update(_reached(source.tree, u.scope)[0])
            found.append(reads)
        return found[0]
    for s, obj, node in _changes(tree, scope):
        if not {n.id for n in N.walk(s) if isinstance(n, gast.Name)} & varied_users:
            continue
        in_change = {id(n) for n in N.walk(s)}            # (`b += x` reads `b`: the change itself)
        others = [n for n in N.walk(tree) if isinstance(n, (gast.Name, gast.Attribute))
                  and isinstance(n.ctx, gast.Load) and id(n) not in in_change and id(n) not in aliasing
                  and module_object(n, scope) is obj]
        if others or id(obj) in callees_read():
            raise unit.error(UnsupportedSyntaxError, f"`{N.unparse(node)}` is an object of a module (or a class) "
                             "changed in place with a value being differentiated, and read again: the derivative "
                             "does not follow what a module keeps", _statement(tree, s),
                             hint="return the value from the function instead of keeping it")
    if not calls_:
        return
    _check_changed_after_read(unit, tree, scope, calls_, varied_users)
    reads = None
    for call, fn, (_, u, _, source) in calls_:
        if not {n.id for a in list(call.args) + [k.value for k in call.keywords] for n in N.walk(a)
                if isinstance(n, gast.Name)} & varied_users:
            continue
        _, _, changed = _reached(source.tree, u.scope)
        if not changed:
            continue
        if reads is None:
            reads = {**_reads(tree, scope), **callees_read()}
        if set(changed) & set(reads):
            raise unit.error(UnsupportedSyntaxError, f"`{N.unparse(call.func)}` changes an object of a module that "
                             "this function (or a function it calls) reads again, when given a value being "
                             "differentiated: the derivative does not follow what a module keeps",
                             _statement(tree, call), hint="return the value from the function instead of keeping it")


def _check_checkpoints(unit, tree, scope, calls_):
    """A checkpointed function runs again in the backward sweep: one that changes an object of a module that it (or
    a function it calls) reads (a call counter, ``TICK[0] += 1``) would see another value the second time."""
    from ..markers import is_checkpoint
    for call, fn, (_, u, _, source) in calls_:
        if not is_checkpoint(fn):
            continue
        reads, changes, _ = _reached(source.tree, u.scope)
        if set(reads) & set(changes):
            raise unit.error(UnsupportedSyntaxError, f"`{N.unparse(call.func)}`, checkpointed, changes an object of a "
                             "module that it reads: the backward sweep runs it again, and it would see the changed "
                             "object", _statement(tree, call), hint="drop the checkpoint, or keep the state outside")


def _statement(tree, node):
    """The innermost statement of ``tree`` holding ``node`` (for the error's line)."""
    found = node
    for s in N.walk(tree):                 # (outer statements first: the last one found is the innermost)
        if isinstance(s, gast.stmt) and not isinstance(s, gast.FunctionDef) and any(m is node for m in N.walk(s)):
            found = s
    return found


def _check_changed_after_read(unit, tree, scope, calls_, varied_users):
    """A user function (given values being differentiated or not: ``bump(t)``) changing a module object that a
    computation being differentiated read before the call, or in a loop around it (``c = GA * x``): the
    backward sweep reads the object where it differentiates that computation, and would see the new values."""
    for call, fn, (_, u, _, source) in calls_:
        _, changed, _ = _reached(source.tree, u.scope)
        if not changed:
            continue
        at = _statement(tree, call)
        for t in before_or_around(tree.body, at):
            names = {n.id for n in N.walk(t) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
            if not names & varied_users:
                continue
            if any(isinstance(n, (gast.Name, gast.Attribute)) and isinstance(n.ctx, gast.Load)
                   and id(module_object(n, scope)) in changed for n in N.walk(t)):
                raise unit.error(UnsupportedSyntaxError, f"`{N.unparse(call.func)}` changes an object of a module "
                                 "that a computation being differentiated read before: the derivative code would "
                                 "read the changed values", at,
                                 hint="pass the values to the function and return new ones instead")
