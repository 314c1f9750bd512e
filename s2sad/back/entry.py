"""A per-call entry written as code for one kind of arguments: what ``value_and_grad`` / ``grad`` check and
convert on every call, specialised once, so that a cached call costs little more than the generated
function itself.

The general path (s2sad/api.py) works out the arguments' kinds, looks the generated code up, checks it
is still valid, picks the float route and converts the gradient, for any arguments. Once it has served a
call, ``build`` writes a function for arguments of exactly that shape, say a float and a tuple of two
float64 arrays::

    def entry(args):                                     # the caller's positional arguments, a tuple
        if len(args) != 2:
            return MISS
        a0, a1 = args
        if not (type(a0) is float and type(a1) is tuple and len(a1) == 2 and type(a1[0]) is ndarray
                and a1[0].ndim == 1 and a1[0].dtype is d0 and ...):
            return MISS                                  # other arguments: the general path
        try:
            if options() is not o or not (C_d0.get('range', C_GONE) is C_o0 and ...):
                return MISS                              # other optimizations, or a name rebound
        except ValueError:
            return MISS                                  # an empty closure cell: the general path decides
        value, grads = fn(a0, a1)
        return value, (g if type(g := grads) is float else like(g, a0))

Every guard is one the general path would decide the same way for such arguments (their kinds, the
float route's conditions, the gradient's conversion); anything else returns MISS and takes that path. The
cache checks (pipeline.Checks: the names the transform resolved still hold the same objects) are written in
line, as the general path's ``valid()`` evaluates them: the entry is built for a bound function whose links
are filled in, so its checks no longer change.
"""
import numpy as np

from .. import options as options_module
from ..runtime import distinct, like
from . import floats as back_floats

MISS = object()          # "not for these arguments": the caller takes the general path


def build(fn, checks, args, wrt, many, value_too, lists, floats):
    """The entry for arguments shaped like ``args`` (a tuple), or None where the general path must run
    every time (keywords, containers it does not write guards for, an integer differentiated)."""
    space = {"MISS": MISS, "fn": fn, "like": like, "distinct": distinct, "ndarray": np.ndarray, "float64": np.float64,
             "float32": np.float32, "options": options_module._current.get, "o": options_module._current.get()}
    valid = checks.condition(space, "C_")
    if space["o"] is None or valid is None:
        return None
    guards, names = [], [f"a{i}" for i in range(len(args))]
    for name, a in zip(names, args):
        g = _guard(name, a, space)
        if g is None:
            return None
        guards.append(g)
    for i in wrt:
        if not _differentiable(args[i]):
            return None
    route = floats and back_floats.converted(args, lists) is not None       # as the general path decides
    if route:                                 # (a later int past 2**53, or a str naming a dtype: the general path)
        guards += [f"-9007199254740992 <= {n} <= 9007199254740992" for n, a in zip(names, args) if type(a) is int]
        if any(type(a) is str for a in args):
            return None
    if route:
        passed = [f"float({n})" if type(a) is np.float64 else f"{n}.tolist()" if i in lists and type(a) is np.ndarray
                  and a.ndim == 1 and a.dtype == np.float64 else n for i, (n, a) in enumerate(zip(names, args))]
    else:
        passed = names
    finish = [_finished(f"g{k}", names[i], args[i], space) for k, i in enumerate(wrt)]
    unpack = "    g0 = grads\n" if len(wrt) == 1 else f"    {', '.join(f'g{k}' for k in range(len(wrt)))} = grads\n"
    grads = (f"distinct(({', '.join(finish)},))" if len(finish) > 1 else f"({finish[0]},)") if many else finish[0]
    out = f"(value, {grads})" if value_too else grads
    body = (f"def entry(args):\n"
            f"    if len(args) != {len(args)}:\n"
            f"        return MISS\n"
            f"    {', '.join(names)}{',' if len(names) == 1 else ''} = args\n"
            f"    if not ({' and '.join(guards) or 'True'}):\n"
            f"        return MISS\n"
            f"    try:\n"
            f"        if options() is not o or not ({valid}):\n"
            f"            return MISS\n"
            f"    except ValueError:\n"
            f"        return MISS\n")
    if route:
        body += (f"    try:\n"
                 f"        value, grads = fn({', '.join(passed)})\n"
                 f"    except Exception:\n"                  # NumPy's semantics decide (api._on_floats)
                 f"        value, grads = fn({', '.join(names)})\n"
                 f"    else:\n"
                 f"        value = float64(value) if type(value) is float else value\n")
    else:
        body += f"    value, grads = fn({', '.join(names)})\n"
    body += unpack + f"    return {out}\n"
    exec(compile(body, "<s2sad entry>", "exec"), space)
    return space["entry"]


def _guard(name, a, space):
    """An expression true exactly for values of ``a``'s type and shape of kind (None: none written)."""
    t = type(a)
    if t in (float, int, bool, np.float64, np.float32, np.float16) or a is None:
        if a is None:
            return f"{name} is None"
        key = f"T{len(space)}"
        space[key] = t
        return f"type({name}) is {key}"
    if t is np.ndarray:
        if a.dtype.kind not in "fiub":
            return None
        key = f"D{len(space)}"
        space[key] = a.dtype
        return f"type({name}) is ndarray and {name}.ndim == {a.ndim} and {name}.dtype is {key}"
    if (t is tuple or t is list) and 0 < len(a) <= 16:
        items = [_guard(f"{name}[{k}]", item, space) for k, item in enumerate(a)]
        if any(g is None for g in items):
            return None
        return f"type({name}) is {t.__name__} and len({name}) == {len(a)} and " + " and ".join(items)
    return None


def _differentiable(a):
    t = type(a)
    if t is float or t is np.float64 or t is np.float32 or t is np.float16:
        return True
    if t is np.ndarray:
        return a.dtype.kind == "f"
    if t is tuple or t is list:
        return len(a) > 0 and all(map(_differentiable, a))
    return False


def _finished(g, name, a, space):
    """The gradient ``g`` of argument ``name`` (like ``a``) as api._finish returns it."""
    t = type(a)
    if t is float:
        return f"({g} if type({g}) is float else like({g}, {name}))"
    if t is np.float64 or t is np.float32:                   # as runtime.like, for the float route's floats
        return f"({t.__name__}({g}) if type({g}) is float else like({g}, {name}))"
    if t is np.ndarray:
        return (f"({g} if type({g}) is ndarray and {g}.dtype is {name}.dtype and {g}.shape == {name}.shape "
                f"and {g}.base is None else like({g}, {name}))")
    if (t is tuple or t is list) and len(a) <= 4:           # item by item, as runtime.like does
        items = [_finished(f"{g}[{k}]", f"{name}[{k}]", item, space) for k, item in enumerate(a)]
        made = f"({', '.join(items)},)" if t is tuple else f"[{', '.join(items)}]"
        return f"({made} if isinstance({g}, (tuple, list)) and len({g}) == {len(a)} else like({g}, {name}))"
    return f"like({g}, {name})"
