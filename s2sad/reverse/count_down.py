"""Reverse mode, last: a backward loop over a range counts its index down instead of zipping the range in::

    for n, _t1 in zip(reversed(n_range[:len(_t1_stack)]), reversed(_t1_stack)):      n = 1 + len(_t1_stack) * 2
        ...                                                                 ->       for _t1 in reversed(_t1_stack):
                                                                                         n = n - 2
                                                                                         ...

as a person writes it (``n -= 2``). Zipping a range with a list costs a tuple and two iterator steps per
iteration, a subtraction a fraction of that: a 16-step scalar loop's backward sweep took 1.6 us zipped and
0.6 us counted. Only top-level backward loops over a range the forward sweep binds once, zipped with one
stack, are changed: the loop then walks a list alone, which Python does fastest (with more stacks the zip stays,
and one iterator fewer in it saves about what the subtraction costs; a loop over the range alone walks it as
fast as it counts).
"""
import gast

from .. import nodes as N
from .assemble import _live_in
from .last_iteration import index_kept
from .ranges import bound_once, loop_index, walked_range


def run(backward, forward, keep, unit):
    """``backward`` with its top-level loops over ranges counting their index; ``keep``: names read after the
    backward sweep (the gradients, the value)."""
    ranges = bound_once(forward, unit)
    out = []
    for i, loop in enumerate(backward):
        index, r = loop_index(loop, ranges, unit) if isinstance(loop, gast.For) else (None, None)
        if index is None or not isinstance(loop.target, gast.Tuple) or len(loop.target.elts) != 2 \
                or not counted_down(loop.body, index, _live_in(backward[i + 1:]) | set(keep)):
            out.append(loop)
            continue
        count = walked_range(loop.iter.args[0], unit)[1] or N.call(unit.aliases.ref(len, "len"), [N.name(r)])
        start, step = _start_and_step(ranges[r], r)
        out.append(N.located(N.assign(index, _after_last(start, count, step)), loop))
        loop.target, loop.iter = loop.target.elts[1], loop.iter.args[1]
        loop.body.insert(0, N.located(N.assign(index, _step_down(index, step)), loop))
        out.append(loop)
    return out


def counted_down(body, index, live_after):
    """Soundness condition (tests/test_soundness.py): the counter takes the values the header gave, in every
    iteration, if nothing in the loop's body binds the index (the decrement at its top is then the only write),
    and it ends at the range's first item after one iteration or more, as the header left it; after none the
    header left the index alone and the counter sets it to that item: nothing after the loop may read it."""
    return index not in live_after and index_kept(body, index)


def _start_and_step(call, r):
    """The range's start and step, as literals where its call spells them as int literals, else ``r.start``."""
    args = call.args
    start = N.const(0) if len(args) == 1 else args[0] if _int(args[0]) else N.attr(r, "start")
    step = N.const(1) if len(args) < 3 else args[2] if _int(args[2]) else N.attr(r, "step")
    return N.clone(start), N.clone(step)


def _int(node):
    return isinstance(node, gast.Constant) and type(node.value) is int


def _after_last(start, count, step):
    """``start + count * step``: the item after the last one the forward loop took (start + (count - 1) * step),
    so that the decrement at the top of the body gives that one first."""
    scaled = count if _int(step) and step.value == 1 else gast.BinOp(left=count, op=gast.Mult(), right=step)
    return scaled if _int(start) and start.value == 0 else gast.BinOp(left=start, op=gast.Add(), right=scaled)


def _step_down(index, step):
    if _int(step) and step.value < 0:
        return gast.BinOp(left=N.name(index), op=gast.Add(), right=N.const(-step.value))
    return gast.BinOp(left=N.name(index), op=gast.Sub(), right=N.clone(step))
