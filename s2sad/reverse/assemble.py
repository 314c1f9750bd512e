"""Reverse mode, step four: put the sweeps together into the functions users call.

``<f>_value_and_grad(*params)`` runs both sweeps and returns ``(value, gradient)``;
``<f>_grad`` returns the gradient alone; ``<f>_vjp(*params)`` runs the forward sweep and returns
``(value, <f>_backward)``, a closure that runs the backward sweep for any cotangent, as often as
asked (on its own copies of what the forward sweep recorded).
"""
import re

import gast

from .. import nodes as N
from .. import runtime


def run(fn, realized, backward, unit):
    """The generated FunctionDef for ``unit.kind`` from the realized sweeps of ``fn``."""
    result = fn.body[-1].value
    grads = [N.name(backward.bars[w]) for w in unit.wrt_names]
    active_output = isinstance(result, gast.Name) and result.id in unit.facts.active
    seed = backward.bars.get(result.id) if isinstance(result, gast.Name) and result.id in backward.bars \
        else unit.namer.fresh("ans_bar")
    if unit.kind == "vjp":
        return _vjp(fn, realized, unit, result, grads, seed)
    return _value_and_grad(fn, realized, unit, result, grads, seed, active_output)


def _grads(grads):
    return grads[0] if len(grads) == 1 else N.tup(grads)


def _value_and_grad(fn, realized, unit, result, grads, seed, active_output):
    if isinstance(result, gast.Name) and result.id in unit.facts.numbers:
        start = [N.assign(seed, N.const(1.0))] if active_output else []
    else:
        check = N.call(unit.aliases.ref(runtime.seed, "seed"), [N.clone(result)])
        start = [N.assign(seed, check)] if active_output else [gast.Expr(value=check)]
    _own_temporaries(realized.backward, realized.inits + realized.forward, unit)
    value = N.clone(result)
    if isinstance(result, gast.Name) and result.id in realized.restored and realized.backward:
        kept = unit.namer.fresh("value")            # the backward sweep restores the result's name
        start.insert(0, N.assign(kept, N.name(result.id)))
        value = N.name(kept)
    elif isinstance(result, gast.Name) and realized.backward and unit.facts.mutated \
            & ({result.id} | set(unit.facts.aliases.get(result.id, ()))):
        kept = unit.namer.fresh("value")            # the backward sweep puts back items written into its object
        start.insert(0, N.assign(kept, N.call(unit.aliases.ref(runtime.copy_like, "copy_like"), [N.name(result.id)])))
        value = N.name(kept)
    forward, _ = _released(realized.forward, realized.backward, unit, result) if unit.options.shape_only \
        else (realized.forward, set())
    body = realized.inits + forward + start + realized.backward
    returned = _grads(grads) if unit.kind == "grad" else N.tup([value, _grads(grads)])
    return _function(fn, unit.name, body + [N.ret(returned)])


def _released(forward, backward, unit, result):
    """An array the backward sweep reads only for its shape (``unbroadcast(g, _t7)``) is released after the forward
    sweep's last read of it: ``_t7 = _s2.shape_of(_t7)`` there (names released at one point in one statement), so
    that large intermediates are not all alive at once (switch ``shape_only``): those with more axes than any
    argument (a broadcast's or an outer product's result, ``x[:, None, :] - means[None, :, :]``; GMM: 1.37 ->
    1.11 times the hand-written gradient's time, the page faults of fresh memory). Sound where ``releasable``."""
    shape_reads, reads = _shape_reads(backward, unit)
    widest = max([k for k in unit.kinds if isinstance(k, int)], default=0)
    stores, functions = {}, []
    for s in forward + backward:
        for n in N.walk(s):
            if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del)):
                stores[n.id] = stores.get(n.id, 0) + 1
            elif isinstance(n, (gast.FunctionDef, gast.Lambda)):
                functions.append(n)
    enclosed = {n.id for f in functions for n in N.walk(f) if isinstance(n, gast.Name)}   # read later, maybe
    after = {}                                       # index of the forward statement after which -> names
    loads = [_loads(s) for s in forward]
    for i, s in enumerate(forward):
        if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name):
            name = s.targets[0].id
            kind = unit.facts.kinds.get(name)
            wider = isinstance(kind, int) and kind > widest      # more axes than any argument: a broadcast's, an
            if wider and releasable(name, s, stores, shape_reads, reads, enclosed, unit) \
                    and name != getattr(result, "id", None):    # outer product's, the largest values there are
                last = max([j for j in range(i + 1, len(forward)) if name in loads[j]], default=i)
                after.setdefault(last, []).append(name)
    if not after:
        return forward, set()
    shape_of = unit.aliases.ref(runtime.shape_of, "shape_of")
    out = []
    for i, s in enumerate(forward):
        out.append(s)
        names = after.get(i)
        if names:
            values = [N.call(N.clone(shape_of), [N.name(n)]) for n in names]
            out.append(N.located(gast.Assign(targets=[N.tup([N.store(n) for n in names], gast.Store())
                                                      if len(names) > 1 else N.store(names[0])],
                                             value=N.tup(values) if len(names) > 1 else values[0]), s))
    return out, {n for names in after.values() for n in names}


def releasable(name, site, stores, shape_reads, reads, enclosed, unit):
    """Soundness condition of ``_released`` (tests/test_soundness.py): ``name`` is bound once, by the top-level
    statement ``site`` of the forward sweep (so the backward sweep sees that value), to a value computed there
    (an operation or a call, not a name or an item: releasing a view frees nothing; not a number), and every
    read of it in the backward sweep is for its shape and dtype, which ``shape_of`` keeps (it gives back
    anything but an array as it is); no function defined in the forward sweep reads it (``enclosed``: it may run
    after the release)."""
    return name not in enclosed and stores.get(name) == 1 and unit.facts.kinds.get(name) != -1 and name not in unit.facts.numbers \
        and isinstance(site.value, (gast.Call, gast.BinOp, gast.UnaryOp)) \
        and shape_reads.get(name, 0) > 0 and shape_reads[name] == reads.get(name, 0)


def _shape_reads(stmts, unit):
    """How many times ``stmts`` read each name as an argument read for its shape only, and in all."""
    from ..analysis.record import SHAPE_ONLY
    shape_reads, reads = {}, {}
    for s in stmts:
        for n in N.walk(s):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                reads[n.id] = reads.get(n.id, 0) + 1
            if isinstance(n, gast.Call):
                try:
                    k = SHAPE_ONLY.get(unit.scope.resolve(n.func))
                except TypeError:
                    k = None
                if k is not None and k < len(n.args) and isinstance(n.args[k], gast.Name):
                    shape_reads[n.args[k].id] = shape_reads.get(n.args[k].id, 0) + 1
    return shape_reads, reads


def _loads(s):
    return {n.id for n in N.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def _vjp(fn, realized, unit, result, grads, seed):
    backward_name = unit.namer.fresh(f"{fn.name}_backward")
    released, shapes_now = _released(realized.forward, realized.backward, unit, result) \
        if unit.options.shape_only else (realized.forward, set())     # (before the pullback's names are chosen)
    body = list(realized.backward)
    copies = _own_copies(body, realized, unit, fn)
    _private_puts_kept(body, copies, unit)
    # shapes first: a value read only for its shape is then no longer read, so not computed again
    shapes = _shapes_only(body, fn, unit, result, shapes_now) if unit.options.shape_only else []
    again = _computed_again(body, fn, unit, shapes_now) if unit.options.recompute else []
    inner_body = copies + again + body + [N.ret(_grads(grads))]
    if realized.written:
        # the backward sweep puts overwritten items back into the arrays themselves (views of them see it
        # too) and notes what it replaced; on the way out it writes that again, leaving every array as the
        # forward sweep did, so that the pullback can run again
        redo = unit.aliases.ref(runtime.redo, "redo")
        inner_body = [N.assign(REDO, gast.List(elts=[], ctx=gast.Load())),
                      gast.Try(body=inner_body, handlers=[], orelse=[],
                               finalbody=[gast.Expr(value=N.call(N.clone(redo), [N.name(REDO)]))])]
    inner = N.function(backward_name, [seed], inner_body)
    # a restored array read only for its shape: the pullback keeps its last value's shape, not the array
    read = {n.id for n in N.walk(inner) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    last = [N.assign(n, N.call(unit.aliases.ref(runtime.shape_of, "shape_of"), [N.name(n)]))
            for n in sorted(realized.shape_only - {result.id if isinstance(result, gast.Name) else None})
            if n in read]                   # (not one the backward sweep reads from the stack it iterates)
    forward = realized.inits + released + shapes + last
    return _function(fn, unit.name, forward + [inner, N.ret(N.tup([N.clone(result), N.name(backward_name)]))])


REDO = "_rewrites"            # what a pullback's put_item calls replaced, written again on its way out
_CHEAP = (gast.Add, gast.Sub, gast.Mult, gast.Div)


def _single_top_level(fn):
    """name -> its assignment, for names assigned exactly once, by a top-level statement."""
    stores = {}
    for n in N.walk(fn):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            stores[n.id] = stores.get(n.id, 0) + 1
    return {s.targets[0].id: s for s in fn.body if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
            and stores.get(s.targets[0].id) == 1}, stores


def _computed_again(stmts, fn, unit, released=frozenset()):
    """Values one arithmetic operation away from what the pullback keeps anyway (``1 - p``, ``1 - y``
    with ``y`` an argument) are computed again by the pullback instead of kept (switch ``recompute``).

    Sound: such a value and its operands are assigned once, at the top level of the forward sweep
    (or are arguments never reassigned), and nothing changes them in place, so when the pullback runs
    they hold the values the forward sweep computed with (not one the forward sweep ``released``, which then holds
    its shape). Chosen only where every operand is kept anyway: one value dropped, none added.
    """
    top, stores = _single_top_level(fn)
    assigned = {n.id for s in stmts for n in N.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    read = {n.id for s in stmts for n in N.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    params = {p for p in N.params(fn) if p not in stores}

    def operands(value):
        if isinstance(value, gast.BinOp) and isinstance(value.op, _CHEAP):
            return [value.left, value.right]
        if isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
            return [value.operand]
        return None

    changed = {n for m in unit.facts.mutated for n in unit.facts.aliases.get(m, {m})} | set(released)
    candidates = {}
    for name in sorted(read - assigned - changed):
        s = top.get(name)
        ops = operands(s.value) if s is not None else None
        if ops is None or not all(isinstance(a, gast.Constant) and type(a.value) in (int, float)
                                  or isinstance(a, gast.Name) and a.id not in assigned and a.id not in changed
                                  and (a.id in params or a.id in top) for a in ops):
            continue
        candidates[name] = {a.id for a in ops if isinstance(a, gast.Name)}
    chosen, pinned = [], set()
    for s in fn.body:                              # in forward order: an operand is decided before its user
        name = s.targets[0].id if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) else None
        if name in candidates and name not in pinned and \
                candidates[name] <= params | (read - assigned - {c.targets[0].id for c in chosen}):
            chosen.append(s)
            pinned |= candidates[name]
    return [N.clone(s) for s in chosen]


def _shapes_only(stmts, fn, unit, result, released=frozenset()):
    """Arrays the pullback reads only for their shape (``unbroadcast(g, x)``): it keeps their shapes, not the
    arrays (switch ``shape_only``). Sound: those reads see only the shape and dtype, which ``shape_of`` keeps."""
    assigned = {n.id for s in stmts for n in N.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    top, _ = _single_top_level(fn)
    surely = (set(N.params(fn)) | set(top)) - assigned - {result.id if isinstance(result, gast.Name) else None} \
        - released                                   # (already a shape: the forward sweep released it)
    shape_reads, all_reads = _shape_reads(stmts, unit)
    out = []
    for name in sorted(surely):
        if shape_reads.get(name) and shape_reads[name] == all_reads.get(name):
            shape = unit.namer.fresh(f"{name}_shape")
            out.append(N.assign(shape, N.call(unit.aliases.ref(runtime.shape_of, "shape_of"), [N.name(name)])))
            for s in stmts:
                for n in N.walk(s):
                    if isinstance(n, gast.Name) and n.id == name:
                        n.id = shape
    return out


def _private_puts_kept(stmts, copies, unit):
    """A list the pullback shortens is its own copy (``hist_1 = _s2.copied(hist)``): items it puts back there need
    not be written again on the way out (``_rewrites``), and could not be: the list is shorter then."""
    private = {c.targets[0].id for c in copies if isinstance(c.value, gast.Call)
               and unit.scope.resolve(c.value.func) is runtime.copied}
    for n in N.walk(gast.Module(body=stmts, type_ignores=[])):
        if isinstance(n, gast.Call) and len(n.args) == 4 and isinstance(n.args[0], gast.Name) \
                and n.args[0].id in private and isinstance(n.args[3], gast.Name) and n.args[3].id == REDO \
                and unit.scope.resolve(n.func) is runtime.put_item:
            del n.args[3]


def _own_copies(stmts, realized, unit, fn):
    """Names the backward sweep assigns or changes (stacks it pops, values it restores, lists it
    shortens, arrays it writes back into) become the closure's own copies, so that it can run again."""
    assigned = {n.id for s in stmts for n in N.walk(s) if isinstance(n, gast.Name)
                and isinstance(n.ctx, gast.Store)}
    stacks = set(realized.stacks.values()) - realized.iterated     # (one the sweep only iterates stays as it is)
    primal = set(N.params(fn)) | {n.id for s in fn.body for n in N.walk(s) if isinstance(n, gast.Name)
                                  and isinstance(n.ctx, gast.Store)}
    renames, copies = {}, []
    for name in sorted(stacks):
        renames[name] = unit.namer.fresh(name)
        copies.append(N.assign(renames[name], N.call(unit.aliases.ref(list, "list"), [N.name(name)])))
    for name in sorted(realized.unappended - stacks):     # a list the backward sweep shortens (None: never made)
        renames[name] = unit.namer.fresh(name)
        copies.append(N.assign(renames[name], N.call(unit.aliases.ref(runtime.copied, "copied"), [N.name(name)])))
    live = _live_in(stmts)
    for name in sorted((primal & assigned) - set(renames)):
        renames[name] = unit.namer.fresh(name)
        if name in live:                              # read before the backward sweep assigns it
            copies.append(N.assign(renames[name], N.name(name)))
    for s in stmts:
        for n in N.walk(s):
            if isinstance(n, gast.Name) and n.id in renames:
                n.id = renames[n.id]
    return copies


_TEMPORARY = re.compile(r"_t\d+")


def _own_temporaries(stmts, forward, unit):
    """Temporaries both sweeps assign (``_t5 = n + 2`` computed again in the backward sweep) get a new name in the
    backward sweep when it assigns them before every read: each name then has one assignment, which
    optimize/fold.py can fold into its one reader (``term_bar / ((n + 1) * (n + 2))``). In place.

    Sound: the backward sweep runs after the forward one and reads such a name only after assigning it (it is
    not live into the backward sweep, a loop's body counted as running again), so its reads there see only its
    own assignments, whatever the name."""
    assigned = {n.id for s in stmts for n in N.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    forward_assigned = {n.id for s in forward for n in N.walk(s) if isinstance(n, gast.Name)
                        and isinstance(n.ctx, gast.Store)}
    headers = {n.id for s in N.statements(stmts) if isinstance(s, gast.For) for n in N.walk(s.target)
               if isinstance(n, gast.Name)}                     # (bound by a loop's header: nothing to fold)
    live = _live_in(stmts)
    shared = {n for n in assigned & forward_assigned if _TEMPORARY.fullmatch(n) and own_name_sound(n, live)} - headers
    renames = {n: unit.namer.temp() for n in sorted(shared)}
    for s in stmts:
        for n in N.walk(s):
            if isinstance(n, gast.Name) and n.id in renames:
                n.id = renames[n.id]


def own_name_sound(name, live):
    """Soundness condition of ``_own_temporaries`` (tests/test_soundness.py): the backward sweep never reads the
    name before assigning it (``live``: the names it may read first), so its reads see only its own values."""
    return name not in live


def _live_in(stmts):
    """Names ``stmts`` may read before assigning them (a loop's body counted as running again)."""
    live = set()

    def block(body, bound):
        bound = set(bound)
        for s in body:
            if isinstance(s, gast.If):
                _reads(s.test, bound, live)
                bound |= block(s.body, bound) & block(s.orelse, bound)
            elif isinstance(s, (gast.For, gast.While)):
                _reads(s.iter if isinstance(s, gast.For) else s.test, bound, live)
                inner = bound | ({n.id for n in N.walk(s.target) if isinstance(n, gast.Name)}
                                 if isinstance(s, gast.For) else set())
                block(s.body, inner)
            elif isinstance(s, gast.Assign):
                _reads(s.value, bound, live)
                for t in s.targets:
                    if not isinstance(t, (gast.Name, gast.Tuple, gast.List)):
                        _reads(t, bound, live)
                bound |= {n.id for t in s.targets for n in N.walk(t) if isinstance(n, gast.Name)
                          and isinstance(n.ctx, gast.Store)}
            else:
                _reads(s, bound, live)
        return bound
    block(stmts, set())
    return live


def _reads(node, bound, live):
    for n in N.walk(node):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id not in bound:
            live.add(n.id)


def _function(fn, name, body):
    new = gast.FunctionDef(name=name, args=N.clone(fn.args), body=body, decorator_list=[], returns=None,
                           type_comment=None, type_params=[])
    for a in new.args.args + new.args.posonlyargs + new.args.kwonlyargs:
        a.annotation = None
    return new
