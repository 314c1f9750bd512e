"""Reverse mode, step four: put the sweeps together into the functions users call.

``<f>_value_and_grad(*params)`` runs both sweeps and returns ``(value, gradient)``;
``<f>_grad`` returns the gradient alone; ``<f>_vjp(*params)`` runs the forward sweep and returns
``(value, <f>_backward)``, a closure that runs the backward sweep for any cotangent, as often as
asked (on its own copies of what the forward sweep recorded).
"""
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
    value = N.clone(result)
    if isinstance(result, gast.Name) and result.id in realized.restored and realized.backward:
        kept = unit.namer.fresh("value")            # the backward sweep restores the result's name
        start.insert(0, N.assign(kept, N.name(result.id)))
        value = N.name(kept)
    body = realized.inits + realized.forward + start + realized.backward
    returned = _grads(grads) if unit.kind == "grad" else N.tup([value, _grads(grads)])
    return _function(fn, unit.name, body + [N.ret(returned)])


def _vjp(fn, realized, unit, result, grads, seed):
    backward_name = unit.namer.fresh(f"{fn.name}_backward")
    body = list(realized.backward)
    copies = _own_copies(body, realized, unit, fn)
    inner = N.function(backward_name, [seed], copies + body + [N.ret(_grads(grads))])
    forward = realized.inits + realized.forward
    return _function(fn, unit.name, forward + [inner, N.ret(N.tup([N.clone(result), N.name(backward_name)]))])


def _own_copies(stmts, realized, unit, fn):
    """Names the backward sweep assigns or changes (stacks it pops, values it restores, lists it
    shortens) become the closure's own copies, so that it can run again."""
    assigned = {n.id for s in stmts for n in gast.walk(s) if isinstance(n, gast.Name)
                and isinstance(n.ctx, gast.Store)}
    stacks = set(realized.stacks.values())
    primal = set(N.params(fn)) | {n.id for s in fn.body for n in gast.walk(s) if isinstance(n, gast.Name)
                                  and isinstance(n.ctx, gast.Store)}
    renames, copies = {}, []
    for name in sorted(stacks):
        renames[name] = unit.namer.fresh(name)
        copies.append(N.assign(renames[name], N.call(unit.aliases.ref(list, "list"), [N.name(name)])))
    for name in sorted(realized.unappended - stacks):     # a list the backward sweep shortens (None: never made)
        renames[name] = unit.namer.fresh(name)
        copies.append(N.assign(renames[name], N.call(unit.aliases.ref(runtime.copied, "copied"), [N.name(name)])))
    for name in sorted((primal & assigned) - set(renames)):
        renames[name] = unit.namer.fresh(name)
        copies.append(N.assign(renames[name], N.name(name)))
    for s in stmts:
        for n in gast.walk(s):
            if isinstance(n, gast.Name) and n.id in renames:
                n.id = renames[n.id]
    return copies


def _function(fn, name, body):
    new = gast.FunctionDef(name=name, args=N.clone(fn.args), body=body, decorator_list=[], returns=None,
                           type_comment=None, type_params=[])
    for a in new.args.args + new.args.posonlyargs + new.args.kwonlyargs:
        a.annotation = None
    return new
