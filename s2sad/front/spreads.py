"""Spread arguments whose length or keys are known, passed item by item.

``f(*p)`` and ``f(**d)`` hand a callee a number of arguments that Python counts where the code runs;
the passes after this one (inlining, linking, the rules) bind arguments to parameters where the code
is written. So a spread is written out when what it holds is known here::

    y = f(*params)           ->   params_0, params_1 = params      # params: a tuple of two (its kind)
                                  y = f(params_0, params_1)
    r = np.hypot(*_t1)       ->   _t1_0, _t1_1 = _t1               # np.hypot takes two
                                  r = np.hypot(_t1_0, _t1_1)
    y = g(x, **opts)         ->   opts_a = opts['a']               # opts = {'a': .., 'b': ..} or dict(a=.., b=..)
                                  opts_b = opts['b']               # (which becomes the display)
                                  y = g(x, a=opts_a, b=opts_b)

The length of ``*p`` comes from the arguments' kinds (the generated code is specialised on them, and a
list's or tuple's kind lists its items) or, when ``p`` is the call's only spread, from a callee that
takes a fixed number of positional arguments (a Python function without defaults or ``*args``, a
ufunc); the unpacking checks the count where the code runs, as Python's call would. The keys of
``**d`` come from the one dict display ``d`` is bound to, when every other use of ``d`` only reads an
item (so nothing adds or removes a key), or from a callee whose parameters are all required and
named (the call binds exactly those); a display made for the call alone is not built (``g(x,
**{'a': u})`` is ``g(x, a=u)``). Into a user function's ``*rest``::

    y = h(*x)                ->   x_0 = x[0]                       # def h(t, *rest); x an array of any length
                                  x_rest = x[1:]
                                  y = h(x_0, *x_rest)
    y = h(x_0, *x_rest)      ->   x_rest_items = tuple(x_rest)     # the call not inlined (the last run, after
                                                                   # inlining and versions): linked
                                  y = h(x_0, *x_rest_items)        # with rest the tuple it is

What stays a spread is refused later if it carries derivatives (``analysis.effects.check_writes``); a
``**`` spread left after the last run here is refused.
"""
import collections
import inspect
import types

import gast
import numpy as np

from .. import nodes as N
from .. import runtime
from ..errors import UnsupportedSyntaxError
from .resolve import assigned_names


def run(tree, unit, kinds_of, final=False):
    """Write out the spreads of ``tree`` (normal form) whose length or keys are known (``kinds_of()``: what each
    name holds, asked only when there is a spread); with ``final``, refuse a ``**`` spread left over."""
    scope = unit.scope.with_locals(assigned_names(tree))
    kinds, displays, loads = {}, {}, collections.Counter()
    if any(isinstance(n, gast.Starred) and isinstance(n.ctx, gast.Load) or isinstance(n, gast.keyword)
           and n.arg is None for n in N.walk(tree)):
        read_only, made = _only_read(tree, scope), _made_whole(tree)
        displays = {n: keys for n, keys in _dict_displays(tree, scope).items() if n in read_only}
        kinds = {n: k for n, k in kinds_of().items()                  # a list's length holds while nothing changes
                 if not isinstance(k, tuple) or n in read_only and n in made}   # it (an array's ndim always holds)
        loads.update(n.id for n in N.walk(tree) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load))
    tree.body = _block(tree.body, unit, scope, kinds, displays, loads, final)
    return tree


_READERS = frozenset({len, tuple, list, sum, zip, enumerate, reversed, sorted, min, max, any, all, map, filter,
                      iter, isinstance})


def _only_read(tree, scope):
    """The names every use of which reads: an assignment to the name itself, an item read (``p[0]``), a spread
    (``*p``, ``**p``), an argument of a builtin that reads (``len(p)``), of NumPy or of s2sad's runtime helpers;
    so neither the length of a list nor the keys of a dict bound to one change (``p.append``, ``p[k] = v``,
    ``q = p``, a user function receiving it are other uses)."""
    reads = {id(a) for a in N.walk(tree.args)}
    for node in N.walk(tree):
        if isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Load):
            reads.add(id(node.value))
        elif isinstance(node, (gast.Starred, gast.keyword)):
            reads.add(id(node.value))
        elif isinstance(node, gast.Assign):
            reads.update(id(t) for t in node.targets)
        elif isinstance(node, gast.Call) and _reads_only(node.func, scope):
            reads.update(id(a) for a in node.args)
    names = {n.id for n in N.walk(tree) if isinstance(n, gast.Name)}
    names -= {n.id for n in N.walk(tree) if isinstance(n, gast.Name) and id(n) not in reads}
    return names


def _made_whole(tree):
    """The names bound only as parameters or to list and tuple displays (``p = [a, b]``): a container whose
    length is that of its display, not one another name may hold and change (``p = q`` after ``q = []``, which
    a list comprehension is lowered to, then ``q.append(v)``). Other bindings (a loop's target, an unpacking)
    give a kind that disagrees, which ``shapes.kinds`` drops."""
    made, otherwise = set(N.params(tree)), set()
    for s in N.statements(tree.body):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            whole = isinstance(s.value, (gast.List, gast.Tuple)) and not any(isinstance(e, gast.Starred)
                                                                             for e in s.value.elts)
            (made if whole else otherwise).add(s.targets[0].id)
    return made - otherwise


def _reads_only(func, scope):
    if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) and func.value.id == "_s2":
        return True
    obj = scope.resolve(func)
    try:
        return obj in _READERS or (getattr(obj, "__module__", None) or "").startswith("numpy")
    except TypeError:
        return False


def _block(stmts, unit, scope, kinds, displays, loads, final):
    out = []
    for s in stmts:
        for field in ("body", "orelse"):
            if not isinstance(s, gast.FunctionDef) and getattr(s, field, None):
                setattr(s, field, _block(getattr(s, field), unit, scope, kinds, displays, loads, final))
        call = s.value if isinstance(s, (gast.Assign, gast.Expr)) and isinstance(s.value, gast.Call) else None
        if call is not None and _display_keys(call, scope) is not None:     # dict(a=x): the display {'a': x}
            s.value = N.located(gast.Dict(keys=[N.const(k.arg) for k in call.keywords],
                                          values=[k.value for k in call.keywords]), call)
            call = None
        if call is not None and out and _inline_display(call, out[-1], loads):
            out.pop()                      # {'a': x} made just for this call: its values passed as they are
        if call is not None:
            out.extend(_spread_items(call, s, unit, scope, kinds))
            out.extend(_spread_keys(call, s, unit, scope, displays))
            if final:
                out.extend(_rest_as_tuple(call, s, unit, scope))
            if final and any(k.arg is None for k in call.keywords):
                raise unit.error(UnsupportedSyntaxError, "`**` in a call whose keys s2sad cannot tell here (it can for "
                                 "a dict written out in this function, or `dict(k=v)`, and only read; or a callee "
                                 "whose parameters are all required)", call if getattr(call, "lineno", None) else s,
                                 hint="pass the keyword arguments one by one")
        out.append(s)
    return out


# --- f(*p) ------------------------------------------------------------------------------------
def _spread_items(call, stmt, unit, scope, kinds):
    """The unpackings that write ``call``'s ``*p`` arguments out (``call.args`` rewritten in place)."""
    starred = [a for a in call.args if isinstance(a, gast.Starred)]
    unpack, args = [], []
    for a in call.args:
        n = _length(a, call, starred, scope, kinds) if isinstance(a, gast.Starred) else None
        if n is None:
            args.append(a)
            continue
        items = [unit.namer.fresh(f"{a.value.id}_{k}") for k in range(n)]
        target = N.tup([N.store(i) for i in items], gast.Store())
        unpack.append(N.located(N.assign(target, N.clone(a.value)), stmt))
        args.extend(N.name(i) for i in items)
    call.args = args
    return unpack + _head_items(call, stmt, unit, scope, kinds)


def _head_items(call, stmt, unit, scope, kinds):
    """``h(*x)`` into ``def h(t, *rest)`` with ``x`` an array of a length known only where the code runs: ``x_0 =
    x[0]; x_rest = x[1:]; h(x_0, *x_rest)``, the positional parameters the spread reaches filled by its first
    items and the rest landing in ``*rest`` whole (inlined as ``rest = tuple(x_rest)``, or linked as that tuple).
    An array too short raises an IndexError where Python's call raises a TypeError."""
    from ..calls import user_function
    last = call.args[-1] if call.args else None
    if not (isinstance(last, gast.Starred) and isinstance(last.value, gast.Name)) \
            or any(isinstance(a, gast.Starred) for a in call.args[:-1]) or any(k.arg is None for k in call.keywords):
        return []
    kind = kinds.get(last.value.id)
    callee = scope.resolve(call.func)
    if not (type(kind) is int and kind >= 1 and user_function(callee)):
        return []
    params = _parameters(callee)
    positional = _fixed_positional(params, {k.arg for k in call.keywords})
    if positional is None or not any(p.kind is p.VAR_POSITIONAL for p in params):
        return []
    head = len(positional) - (len(call.args) - 1)
    if head <= 0:
        return []
    name = last.value.id
    items = [unit.namer.fresh(f"{name}_{k}") for k in range(head)]
    rest = unit.namer.fresh(f"{name}_rest")
    reads = [N.located(N.assign(N.store(item), gast.Subscript(value=N.name(name), slice=N.const(k),
                                                            ctx=gast.Load())), stmt) for k, item in enumerate(items)]
    tail = gast.Subscript(value=N.name(name), slice=gast.Slice(lower=N.const(head), upper=None, step=None),
                          ctx=gast.Load())
    reads.append(N.located(N.assign(N.store(rest), tail), stmt))
    call.args[-1:] = [N.name(i) for i in items] + [gast.Starred(value=N.name(rest), ctx=gast.Load())]
    return reads


def _length(arg, call, starred, scope, kinds):
    """How many items ``*arg`` holds, when known here: from its kind, or from what the callee takes."""
    if not isinstance(arg.value, gast.Name):
        return None
    kind = kinds.get(arg.value.id)
    if isinstance(kind, tuple):
        return len(kind)
    if len(starred) != 1 or any(k.arg is None for k in call.keywords):
        return None
    takes = _positional_count(scope.resolve(call.func), {k.arg for k in call.keywords})
    if takes is None or takes < len(call.args) - 1:
        return None
    return takes - (len(call.args) - 1)


def _parameters(callee):
    """The parameters of a Python function or bound method, else None (a builtin, a ufunc, a class...)."""
    if not isinstance(callee, (types.FunctionType, types.MethodType)):
        return None
    try:
        return list(inspect.signature(callee).parameters.values())
    except (TypeError, ValueError):
        return None


def _positional_count(callee, keywords):
    """How many positional arguments ``callee`` takes, when that is one number: a ufunc's inputs, a Python
    function's (or bound method's) positional parameters when none has a default, none is ``*args`` and no
    keyword names one; else None."""
    if isinstance(callee, np.ufunc):
        return callee.nin if not keywords & {"out"} else None
    params = _parameters(callee)
    positional = _fixed_positional(params, keywords)
    if positional is None or any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return len(positional)


def _fixed_positional(params, keywords):
    """The positional parameters among ``params`` when none has a default and none of ``keywords`` names one (so
    the arguments a call passes by position fill them in order, all of them), else None."""
    if params is None:
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.default is not p.empty for p in positional) or keywords & {p.name for p in positional}:
        return None
    return positional


def _rest_as_tuple(call, stmt, unit, scope):
    """``h(a, *v)`` into ``def h(t, *rest)`` with ``v`` landing in ``rest`` whole, the call not inlined: ``v_items =
    tuple(v); h(a, *v_items)``, so that the linked call differentiates ``rest`` as the tuple it is (its adjoint
    and tangent tuples, turned into ``v``'s by ``tuple``'s rules)."""
    from ..calls import rest_spread
    last = rest_spread(call, scope)
    if last is None:
        return []
    items = unit.namer.fresh(f"{last.value.id}_items")
    made = N.located(N.assign(N.store(items), N.call(unit.aliases.ref(tuple, "tuple"), [N.clone(last.value)])), stmt)
    last.value = N.name(items)
    return [made]


# --- f(**d) -----------------------------------------------------------------------------------
def _display_keys(value, scope):
    """The keys of a dict display with string keys, ``{'a': x}``, or of ``dict(a=x)``; else None."""
    if isinstance(value, gast.Dict) and all(isinstance(k, gast.Constant) and isinstance(k.value, str)
                                            for k in value.keys):
        return [k.value for k in value.keys]
    if isinstance(value, gast.Call) and not value.args and all(k.arg is not None for k in value.keywords) \
            and scope.resolve(value.func) is dict:
        return [k.arg for k in value.keywords]
    return None


def _dict_displays(tree, scope):
    """name -> the keys of the one dict display it is bound to (string constants, each once); ``run`` keeps those
    of the names nothing changes (``_only_read``)."""
    bound, others = {}, set(N.params(tree))
    for s in N.statements(tree.body):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            name = s.targets[0].id
            keys = _display_keys(s.value, scope)
            if name in bound or keys is None:
                others.add(name)
            else:
                bound[name] = keys
    return {n: keys for n, keys in bound.items() if n not in others and len(set(keys)) == len(keys)}


def _inline_display(call, previous, loads):
    """``_t = {'a': x}`` just before ``f(**_t)``, ``_t`` read nowhere else: ``f(a=x)`` (``call`` rewritten)."""
    if not (isinstance(previous, gast.Assign) and isinstance(previous.targets[0], gast.Name)
            and isinstance(previous.value, gast.Dict) and loads[previous.targets[0].id] == 1):
        return False
    name, display = previous.targets[0].id, previous.value
    spread = [k for k in call.keywords if k.arg is None and isinstance(k.value, gast.Name) and k.value.id == name]
    keys = [k.value for k in display.keys if isinstance(k, gast.Constant) and isinstance(k.value, str)]
    named = {k.arg for k in call.keywords if k.arg is not None}
    if not spread or len(keys) != len(display.keys) or len(set(keys)) != len(keys) or set(keys) & named:
        return False
    at = call.keywords.index(spread[0])
    call.keywords[at:at + 1] = [gast.keyword(arg=k, value=v) for k, v in zip(keys, display.values)]
    return True


def _spread_keys(call, stmt, unit, scope, displays):
    """The item reads (``d_a = d['a']``) that write ``call``'s ``**d`` keywords out as ``a=d_a`` where the keys of
    ``d`` are known (``call.keywords`` rewritten in place: arguments stay atoms, as the normal form has them);
    else, for the call's one ``**d`` into a Python function without ``**kw`` of its own, one read per parameter
    the call leaves (``_keywords_of``)."""
    if not any(k.arg is None for k in call.keywords):
        return []
    named = {k.arg for k in call.keywords if k.arg is not None}
    reads, keywords = [], []
    for k in call.keywords:
        keys = displays.get(k.value.id) if k.arg is None and isinstance(k.value, gast.Name) else None
        if keys is None or set(keys) & named:
            keywords.append(k)
            continue
        named |= set(keys)
        for key in keys:
            reads.append(_item_read(k.value, key, inspect.Parameter.empty, stmt, unit))
            keywords.append(gast.keyword(arg=key, value=N.name(reads[-1].targets[0].id)))
    call.keywords = keywords
    left = [k for k in call.keywords if k.arg is None]
    if len(left) == 1 and isinstance(left[0].value, gast.Name) \
            and not any(isinstance(a, gast.Starred) for a in call.args):
        reads += _keywords_of(call, left[0], stmt, unit, scope)
    return reads


def _keywords_of(call, spread, stmt, unit, scope):
    """``f(x, **d)`` -> ``f(x, a=d_a, b=d_b)`` with ``d_a = d['a']`` for a required parameter ``a`` and ``d_b =
    _s2.dict_get(d, 'b', 1.0)`` for one with a literal default, after ``_s2.check_keywords(d, ('a', 'b'), 'f')``
    (Python's TypeError for any other key), when ``f`` is a Python function taking no ``**kw`` of its own and
    each parameter the call leaves has a literal default or none."""
    callee = scope.resolve(call.func)
    params = _parameters(callee)
    if params is None or any(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in params):
        return []
    rest = params[len(call.args):]
    if any(p.kind is p.POSITIONAL_ONLY for p in rest) or any(
            p.default is not p.empty and type(p.default) not in (bool, int, float, str, type(None)) for p in rest):
        return []
    named = {k.arg for k in call.keywords if k.arg is not None}
    names = gast.Tuple(elts=[N.const(p.name) for p in rest if p.name not in named], ctx=gast.Load())
    check = N.call(unit.aliases.ref(runtime.check_keywords, "check_keywords"),
                   [N.clone(spread.value), names, N.const(getattr(callee, "__name__", "f"))])
    reads = [N.located(gast.Expr(value=check), stmt)]
    keywords = [k for k in call.keywords if k is not spread]
    for p in rest:
        if p.name not in named:
            reads.append(_item_read(spread.value, p.name, p.default, stmt, unit))
            keywords.append(gast.keyword(arg=p.name, value=N.name(reads[-1].targets[0].id)))
    call.keywords = keywords
    return reads


def _item_read(d, key, default, stmt, unit):
    """``d_key = d['key']`` (``default`` empty: none), or ``d_key = _s2.dict_get(d, 'key', default)``."""
    item = unit.namer.fresh(f"{d.id}_{key}")
    if default is inspect.Parameter.empty:
        read = gast.Subscript(value=N.clone(d), slice=N.const(key), ctx=gast.Load())
    else:
        read = N.call(unit.aliases.ref(runtime.dict_get, "dict_get"), [N.clone(d), N.const(key), N.const(default)])
    return N.located(N.assign(N.store(item), read), stmt)
