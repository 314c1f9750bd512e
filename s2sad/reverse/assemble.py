"""Put the sweeps together into the functions users call.

``<f>_value_and_grad(*params)`` runs both sweeps and returns ``(value, gradient)``;
``<f>_vjp(*params)`` runs the forward sweep and returns ``(value, <f>_backward)``,
a closure that runs the backward sweep for any cotangent, as often as asked.
"""
import gast

from .. import nodes as N
from .. import runtime


def _grads(adj):
    return adj.grads[0] if len(adj.grads) == 1 else N.tup(adj.grads)


def value_and_grad(fn, adj, aliases, name):
    if adj.scalar_result:
        start = [N.assign(adj.seed, N.const(1.0))] if adj.active_output else []
    else:
        seed = N.call(aliases.ref(runtime.seed, "seed"), [N.clone(adj.result)])
        start = [N.assign(adj.seed, seed)] if adj.active_output else [gast.Expr(value=seed)]
    result = N.clone(adj.result)
    if isinstance(result, gast.Name) and result.id in adj.restored and adj.backward:
        value = aliases.namer.fresh("value")                 # the backward sweep restores the result's name
        start.insert(0, N.assign(value, result))
        result = N.name(value)
    body = list(adj.forward) + start + list(adj.backward) + [N.ret(N.tup([result, _grads(adj)]))]
    return _with_params(fn, name, body)


def vjp(fn, adj, aliases, name):
    backward_name = aliases.namer.fresh(f"{fn.name}_backward")
    # The backward sweep pops stacks and restores primal values; a pullback may run many
    # times, so it works on its own copies of them.
    backward_body = list(adj.backward)
    copies = _own_copies(backward_body, adj, aliases)
    shapes = _shapes_only(backward_body, adj, aliases)
    again = _computed_again(backward_body, adj)
    backward = N.function(backward_name, [adj.seed], copies + again + backward_body + [N.ret(_grads(adj))])
    # a restored array read only for its shape: the pullback keeps its last value's shape
    result = adj.result.id if isinstance(adj.result, gast.Name) else None
    last = [N.assign(n, N.call(aliases.ref(runtime.shape_of, "shape_of"), [N.name(n)]))
            for n in sorted(adj.shape_only & adj.restored - {result}) if n in _free(backward)]
    body = list(adj.forward) + shapes + last + [backward, N.ret(N.tup([N.clone(adj.result), N.name(backward_name)]))]
    return _with_params(fn, name, body)


def _free(function):
    """Names a generated function reads and does not assign (what its closure keeps)."""
    stored = {n.id for n in gast.walk(function) if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Param))}
    return {n.id for n in gast.walk(function) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)} - stored


_CHEAP = (gast.Add, gast.Sub, gast.Mult, gast.Div)


def _computed_again(stmts, adj):
    """Values one arithmetic operation away from what the pullback keeps anyway (``1 - p``,
    ``1 - y`` with ``y`` an argument) are computed again by the pullback instead of kept."""
    stores = {}
    for s in adj.forward:
        for n in gast.walk(s):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                stores[n.id] = stores.get(n.id, 0) + 1
    top = {s.targets[0].id: s for s in adj.forward if isinstance(s, gast.Assign)
           and isinstance(s.targets[0], gast.Name) and stores.get(s.targets[0].id) == 1}
    assigned = {n.id for s in stmts for n in gast.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    read = {n.id for s in stmts for n in gast.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    params = {p for p in adj.params if p not in stores}

    def operands(value):
        if isinstance(value, gast.BinOp) and isinstance(value.op, _CHEAP):
            return [value.left, value.right]
        if isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
            return [value.operand]
        return None

    candidates = {}
    for name in sorted(read - assigned):
        s = top.get(name)
        ops = operands(s.value) if s is not None else None
        if ops is None or not all(isinstance(a, gast.Constant) and type(a.value) in (int, float)
                                  or isinstance(a, gast.Name) and a.id not in assigned
                                  and (a.id in params or a.id in top) for a in ops):
            continue
        candidates[name] = {a.id for a in ops if isinstance(a, gast.Name)}
    # only when every operand is kept anyway (or an argument): one value dropped, none added;
    # in forward order, so an operand was decided (and is then kept for good) before its user
    chosen, pinned = [], set()
    for s in adj.forward:
        name = s.targets[0].id if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) else None
        if name in candidates and name not in pinned and \
                candidates[name] <= params | (read - assigned - {c.targets[0].id for c in chosen}):
            chosen.append(s)
            pinned |= candidates[name]
    return [N.clone(s) for s in chosen]


def _shapes_only(stmts, adj, aliases):
    """Arrays the pullback reads only for their shape: it keeps their shapes, not the arrays."""
    from .loops import shape_only_reads

    class _Sweep:                                  # what shape_only_reads needs
        pass
    sweep = _Sweep()
    sweep.aliases = aliases
    assigned = {n.id for s in stmts for n in gast.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    surely = set(adj.params) | {n.id for st in adj.forward if isinstance(st, gast.Assign)
                                for n in gast.walk(st.targets[0]) if isinstance(n, gast.Name)}
    names = sorted((shape_only_reads(sweep, stmts) & surely) - assigned
                   - {adj.result.id if isinstance(adj.result, gast.Name) else None})
    out = []
    for name in names:
        shape = aliases.namer.fresh(f"{name}_shape")
        out.append(N.assign(shape, N.call(aliases.ref(runtime.shape_of, "shape_of"), [N.name(name)])))
        for s in stmts:
            for n in gast.walk(s):
                if isinstance(n, gast.Name) and n.id == name:
                    n.id = shape
    return out


def _own_copies(stmts, adj, aliases):
    assigned = {n.id for s in stmts for n in gast.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    stacks = {n.func.value.id for s in stmts for n in gast.walk(s)
              if isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and n.func.attr == "pop"
              and isinstance(n.func.value, gast.Name)} - set(adj.popped)
    renames, copies = {}, []
    for name in sorted(stacks):
        renames[name] = aliases.namer.fresh(name)
        copies.append(N.assign(renames[name], N.call(N.attr(name, "copy"))))
    primal = {n.id for s in adj.forward for n in gast.walk(s) if isinstance(n, gast.Name)
              and isinstance(n.ctx, gast.Store)} | set(adj.params)
    for name in sorted((set(adj.restored) | primal) & assigned & _live_in(stmts) - set(renames)):
        renames[name] = aliases.namer.fresh(name)
        copies.append(N.assign(renames[name], N.name(name)))
    for name in sorted(adj.popped):
        renames[name] = aliases.namer.fresh(name)
        copies.append(N.assign(renames[name], N.call(N.attr(name, "copy"))))
    for s in stmts:
        for n in gast.walk(s):
            if isinstance(n, gast.Name) and n.id in renames:
                n.id = renames[n.id]
    return copies


def _live_in(stmts):
    """Names read in ``stmts`` before anything in them surely assigns them."""
    live = set()

    def loads(node, definite):
        for n in gast.walk(node):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id not in definite:
                live.add(n.id)

    def stores(node):
        return {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}

    def block(body, definite):
        definite = set(definite)
        for s in body:
            if isinstance(s, gast.If):
                loads(s.test, definite)
                definite |= block(s.body, definite) & block(s.orelse, definite)
            elif isinstance(s, (gast.For, gast.While)):
                loads(s.iter if isinstance(s, gast.For) else s.test, definite)
                block(s.body, definite | (stores(s.target) if isinstance(s, gast.For) else set()))
            elif isinstance(s, gast.Assign):
                loads(s.value, definite)
                for t in s.targets:
                    if not isinstance(t, (gast.Name, gast.Tuple)):
                        loads(t, definite)
                definite |= {n for t in s.targets for n in stores(t)}
            else:
                loads(s, definite)
        return definite
    block(stmts, set())
    return live


def _with_params(fn, name, body):
    new = gast.FunctionDef(name=name, args=N.clone(fn.args), body=body, decorator_list=[], returns=None,
                           type_comment=None, type_params=[])
    for a in new.args.args + new.args.posonlyargs + new.args.kwonlyargs:
        a.annotation = None
    return new
