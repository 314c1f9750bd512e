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


def value_and_grad(fn, adj, aliases):
    name = aliases.namer.fresh(f"{fn.name}_value_and_grad")
    seed = N.call(aliases.ref(runtime.seed, "seed"), [N.clone(adj.result)])
    start = [N.assign(adj.seed, seed)] if adj.active_output else [gast.Expr(value=seed)]
    body = list(adj.forward) + start + list(adj.backward) + [N.ret(N.tup([N.clone(adj.result), _grads(adj)]))]
    return _with_params(fn, name, body)


def vjp(fn, adj, aliases):
    name = aliases.namer.fresh(f"{fn.name}_vjp")
    backward_name = aliases.namer.fresh(f"{fn.name}_backward")
    backward = N.function(backward_name, [adj.seed], list(adj.backward) + [N.ret(_grads(adj))])
    body = list(adj.forward) + [backward, N.ret(N.tup([N.clone(adj.result), N.name(backward_name)]))]
    return _with_params(fn, name, body)


def _with_params(fn, name, body):
    new = gast.FunctionDef(name=name, args=N.clone(fn.args), body=body, decorator_list=[], returns=None,
                           type_comment=None, type_params=[])
    for a in new.args.args + new.args.posonlyargs + new.args.kwonlyargs:
        a.annotation = None
    return new
