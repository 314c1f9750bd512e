"""fuzz: the differential program fuzzer for s2sad.

    python tools/fuzz.py [--programs N | --seconds T] [--seed S] [--jobs J] [--out DIR]
                         [--checks reverse,forward,fwd-rev,hvp,grad-grad,unopt] [--report FILE] [-v]
                         [--minimize K] [--minimize-seconds S] [--timeout S] [--weights JSON]
                         [--engine s2sad|fd|fd-bug]

Generates random Python/NumPy programs of the kind users write (``tools/fuzzgen.py``), runs s2sad
on each, checks every derivative against an independent witness, minimizes the failures and
writes a runnable reproducer for each. The last line of output is always

    fuzz: P passed, W wrong, E errors, U unsupported of N

and the exit status is 0 iff W == 0 and E == 0. Everything is deterministic for a given seed:
program ``i`` of a campaign is generated and checked from ``(seed, i)`` alone, whatever the
number of worker processes.

Design
======

Programs and statuses
---------------------
Each program is generated as source text, written to a module file of its own (a unique file
and unique function names per program *and* per minimization candidate: s2sad reads source with
``inspect`` and caches generated code per code object) and imported. A program's status is the
worst of its checks' outcomes: "wrong" (a derivative disagrees with its witness) > "error"
(s2sad raised anything that is not a deliberate refusal, or timed out) > "unsupported" (s2sad
refused with an ``S2SadError`` or ``NotImplementedError``) > "passed".

The checks
----------
``reverse``    value_and_grad / grad (and vjp, with a random cotangent) against central finite
               differences of every input component; the value must equal f(x) and the gradient
               have the argument's type and shape (float, array, or the same container).
``forward``    jvp along a random direction against the directional central difference.
``fwd-rev``    the jvp equals <gradient, direction> (both exact: tight tolerance).
``hvp``        s2sad.hvp(f, wrt=0) against differences of finite-difference gradients (and,
               when those are too noisy and the gradient is verified, differences of s2sad's own
               gradient). The call goes through ``hvp_call``: the convention (``(x0, v, *rest)``
               or the old ``(*args, v)``) is detected at start-up on a known function.
``grad-grad``  grad(grad(f)) for a scalar first argument, against the same second differences.
``unopt``      the gradient and jvp computed inside ``with s2sad.optimizations(False):`` equal the
               optimized ones (skipped when s2sad has no such switch). When a program fails another
               check and the switch exists, each name of ``s2sad.OPTIMIZATIONS`` is switched off
               alone and the ones whose removal makes the failing check pass are blamed.
Array-valued programs (some are generated) get reverse (vjp only), forward and fwd-rev.

Inputs away from ties
---------------------
Finite differences are meaningless where a branch flips inside the step. So each program is
also compiled in an *instrumented* copy (never shown to s2sad): every comparison and every kink
function (abs, max/min, np.maximum/minimum, clip, sign, floor, np.max/min reductions, sort,
norm, hypot, %, //, ...) is replaced by a call to a ``Recorder`` that computes the same value
and logs (a) the margin, min |a - b| / max(1, |a|, |b|) over elements (the distance to the
kink), and (b) the outcome (which side, which element) into a *trace*. Inputs are sampled
U(-1.5, 1.5) and resampled (up to ``INPUT_TRIES`` times, then the program is discarded and
another generated; discarded programs do not count) until the smallest margin exceeds
``MARGIN`` and f is finite with |f| <= 1e6. Then every finite-difference evaluation runs the
instrumented copy and its trace must equal the trace at x: the stencil provably stays on one
smooth piece of the program (a mismatch also means resampling). Gradients larger than 1e4 are
rejected too.

Tolerances
----------
Each witness is computed twice, independently: Richardson-extrapolated central differences
with relative step 1e-4 (error O(h^4)) and plain central differences with relative step 1e-6
(steps relative to max(1, |x_i|)). A derivative is "wrong" only when it differs from *both*
estimates by more than ``max(RTOL * scale + atol, 10 * |w1 - w2|)``: the two estimates agree
much better with each other than with s2sad. ``scale`` is the witness's max norm, ``atol``
grows with |f| (cancellation). Checks between two exact AD routes (fwd-rev, unopt) use
``EXACT_RTOL`` relative to the magnitudes involved.

Minimization
------------
A failing program is delta-debugged on its AST: delete statements, replace compound statements
by their bodies, drop else branches, replace expressions by a sub-expression or a literal,
shrink integer literals (loop counts), drop keyword arguments and unused parameters. A
candidate is kept when it still runs, its inputs are still away from ties, and the *same* check
still fails *the same way* (wrong stays wrong, an error keeps its exception type). Minimization
is bounded in time per failure and in the number of failures minimized per run (the rest are
written unminimized).

Self-test
---------
``--engine fd`` replaces s2sad by a deliberately correct "AD" made of finite differences with
other steps than the witnesses: a campaign must then report zero wrong (no false alarms).
``--engine fd-bug`` adds a 1% error to one gradient component and to jvp: it must be reported.
"""
import argparse
import ast
import contextlib
import copy
import functools
import importlib.util
import json
import linecache
import math
import multiprocessing
import operator
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
import types
import warnings
from dataclasses import dataclass, field

import numpy as np

# the s2sad of this checkout, not whichever one is installed (or none): the campaign checks the code beside it
sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)), os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
import fuzzgen  # noqa: E402

CHECKS = ("reverse", "forward", "fwd-rev", "hvp", "grad-grad", "unopt")
STATUS_ORDER = {"passed": 0, "unsupported": 1, "error": 2, "wrong": 3}

# Input selection
MARGIN = 1e-3             # smallest distance of any comparison/kink to its tie
INPUT_TRIES = 8           # input samples per program before it is discarded
PROGRAM_TRIES = 200       # generated programs per campaign slot before giving up
MAX_VALUE = 1e6           # |f| above this: resample
MAX_GRAD = 1e4            # gradient components above this: resample
MAX_INTERMEDIATE = 1e8    # an assigned value above this: rounding can hide what differences measure; resample

# Finite differences and tolerances
STEP_RICHARDSON = 1e-4
STEP_PLAIN = 1e-6
RTOL = 1e-4
ATOL = 1e-8               # times (1 + |f|); the noise rule widens it where differences are noisy
RELIABLE_ATOL = 1e-7      # times (1 + |f|): witnesses disagreeing more than this (and 0.1 RTOL) -> resample
NOISE_FACTOR = 10.0
EXACT_RTOL = 1e-9
EXACT_ATOL = 1e-12        # times (1 + |f|)
VALUE_RTOL = 1e-9

CALL_TIMEOUT = 20.0       # seconds for one s2sad call


# =============================================================================================
# Outcomes

class Refused(Exception):
    """s2sad refused deliberately (S2SadError or NotImplementedError)."""


class Crashed(Exception):
    """s2sad raised something it should not have (or timed out)."""


class Tie(Exception):
    """The inputs are too close to a branch/kink for finite differences."""


class Invalid(Exception):
    """The program does not run cleanly on these inputs (or at all)."""


class CallTimeout(Exception):
    pass


@dataclass
class CheckOutcome:
    kind: str
    status: str               # passed wrong error refused skipped
    detail: str = ""
    got: object = None
    want: object = None
    exc_type: str = ""
    reason: str = ""          # refusals: the construct/reason
    call: str = ""            # the s2sad call that failed or disagreed

    @property
    def failed(self):
        return self.status in ("wrong", "error")

    def signature(self):
        return (self.kind, self.status, self.exc_type if self.status == "error" else "")


# =============================================================================================
# Values: flattening, copying, sampling, printing

@dataclass
class PortableRecord:
    """A record or namedtuple argument as it travels between processes (its class lives in a module loaded
    from a temporary file, which pickle cannot import): ``rehome`` makes it an instance again."""
    name: str                 # the class's name without the loader's suffix
    form: str                 # namedtuple, dataclass or plain
    attrs: dict               # attribute (field) name -> value


def portable(x):
    if is_namedtuple(x):
        return PortableRecord(class_base(type(x).__name__), "namedtuple", dict(zip(type(x)._fields, x)))
    if is_record(x):
        form = "dataclass" if hasattr(type(x), "__dataclass_fields__") else "plain"
        return PortableRecord(class_base(type(x).__name__), form, dict(vars(x)))
    return x


def portable_case(case):
    plan = copy.copy(case.plan)
    plan.tangents = [portable(t) for t in plan.tangents]
    plan.hv = portable(plan.hv)
    return Case(case.source, case.name, case.specs, [portable(a) for a in case.args], plan, case.output, case.kinds)


def is_record(x):
    """A record argument: a dataclass instance or a plain object whose attributes hold the values (a layer
    whose class defines ``__call__`` too; not a function)."""
    return hasattr(x, "__dict__") and not isinstance(x, (tuple, list, dict, np.ndarray, np.generic, float, int, str,
                                                          type, PortableRecord, types.FunctionType,
                                                          types.MethodType, functools.partial))


def is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _floaty(v):
    return (isinstance(v, (float, np.floating)) and not isinstance(v, bool)) or \
        (isinstance(v, np.ndarray) and v.dtype.kind == "f")


def record_fields(x):
    """A record's differentiable fields (floats and float arrays), by name, in the order it holds them (a
    dataclass's field order); its other attributes (ints) are settings a gradient holds unchanged."""
    return {k: v for k, v in vars(x).items() if _floaty(v)}


def class_base(name):
    """A generated class's name without the unique suffix the loader gave it (``Params_p3a0_1_2``: Params)."""
    return name.split("_", 1)[0]


def _record_with(x, values):
    """A copy of record ``x`` (same type, settings unchanged) whose differentiable fields hold ``values``."""
    out = object.__new__(type(x))
    for k, v in vars(x).items():
        object.__setattr__(out, k, values.get(k, v))
    return out


def flat(x):
    """The float leaves of ``x`` (a number, an array, a list/tuple/dict of them, or a record) as one vector."""
    if isinstance(x, dict):
        return np.concatenate([flat(v) for v in x.values()]) if x else np.zeros(0)
    if isinstance(x, (list, tuple)):
        return np.concatenate([flat(v) for v in x]) if x else np.zeros(0)
    if is_record(x):
        fields = record_fields(x)
        return np.concatenate([flat(v) for v in fields.values()]) if fields else np.zeros(0)
    return np.ravel(np.asarray(x, dtype=float))


def flat_like(g, x):
    """The leaves of gradient ``g`` in the order of ``x``'s leaves; ValueError if the structure or
    type differs from ``x``'s (a float's gradient is a float, an array's an array of its shape, a
    record's a record of its type holding the same settings)."""
    if isinstance(x, dict):
        if not isinstance(g, dict) or list(g.keys()) != list(x.keys()) and set(g) != set(x):
            raise ValueError(f"gradient of a dict should be a dict with keys {list(x)}, got {_short(g)}")
        return np.concatenate([flat_like(g[k], x[k]) for k in x]) if x else np.zeros(0)
    if isinstance(x, (list, tuple)):
        if type(g) is not type(x) or len(g) != len(x):
            raise ValueError(f"gradient of a {type(x).__name__} of {len(x)} should be the same, got {_short(g)}")
        return np.concatenate([flat_like(gi, xi) for gi, xi in zip(g, x)]) if x else np.zeros(0)
    if is_record(x):
        if type(g) is not type(x):
            raise ValueError(f"gradient of a {type(x).__name__} should be a {type(x).__name__}, got {_short(g)}")
        fields = record_fields(x)
        for k, v in vars(x).items():
            if k not in fields and getattr(g, k, None) is not v and getattr(g, k, None) != v:
                raise ValueError(f"gradient of a {type(x).__name__}: its setting .{k} should stay {v!r}, got "
                                 f"{_short(getattr(g, k, None))}")
        return np.concatenate([flat_like(getattr(g, k, None), v) for k, v in fields.items()]) if fields \
            else np.zeros(0)
    if isinstance(x, np.ndarray):
        if not isinstance(g, np.ndarray) or g.shape != x.shape or g.dtype.kind != "f":
            raise ValueError(f"gradient of an array {x.shape} should be a float array of that shape, got {_short(g)}")
        return np.ravel(g).astype(float)
    if isinstance(x, (float, int)) and not isinstance(x, bool):
        if isinstance(g, np.ndarray) or not isinstance(g, (float, np.floating)):
            raise ValueError(f"gradient of a float should be a float, got {_short(g)}")
        return np.array([float(g)])
    return np.ravel(np.asarray(g, dtype=float))


def unflat(z, x):
    """``z`` (a vector) put back into the structure and types of ``x``; returns (value, rest of z)."""
    if isinstance(x, dict):
        out = {}
        for k, v in x.items():
            out[k], z = unflat(z, v)
        return out, z
    if isinstance(x, (list, tuple)):
        items = []
        for v in x:
            item, z = unflat(z, v)
            items.append(item)
        if is_namedtuple(x):
            return type(x)(*items), z
        return (tuple(items) if isinstance(x, tuple) else items), z
    if is_record(x):
        values = {}
        for k, v in record_fields(x).items():
            values[k], z = unflat(z, v)
        return _record_with(x, values), z
    if isinstance(x, np.ndarray):
        n = x.size
        return np.array(z[:n], dtype=float).reshape(x.shape), z[n:]
    if isinstance(x, np.floating):
        return type(x)(z[0]), z[1:]
    return float(z[0]), z[1:]


def fresh(args):
    """A deep copy of the arguments (programs may update arrays in place: ``a += ...``)."""
    return [copy.deepcopy(a) if isinstance(a, (np.ndarray, list, dict, tuple)) or is_record(a) else a for a in args]


def rehome(x, namespace, suffix):
    """``x`` with its records and namedtuples remade as instances of the classes of the same name in
    ``namespace`` (another load of the program, or its instrumented copy, whose methods must be the ones
    that run); anything else unchanged."""
    if isinstance(x, PortableRecord):
        cls = namespace[x.name + suffix]
        if x.form == "namedtuple":
            return cls(*x.attrs.values())
        out = object.__new__(cls)
        for k, v in x.attrs.items():
            object.__setattr__(out, k, v)
        return out
    if is_namedtuple(x) or is_record(x):
        cls = namespace.get(class_base(type(x).__name__) + suffix)
        if cls is None or cls is type(x):
            return x
        if is_namedtuple(x):
            return cls(*[rehome(v, namespace, suffix) for v in x])
        out = object.__new__(cls)
        for k, v in vars(x).items():
            object.__setattr__(out, k, v)
        return out
    return x


def home(f, args, plan=None):
    """``args`` (and the plan's directions) rehomed into the module of the loaded program function ``f``."""
    ns, suffix = f.__globals__, f.__name__[1:]           # f is f{suffix}
    args = [rehome(a, ns, suffix) for a in args]
    if plan is None:
        return args
    plan = copy.copy(plan)
    plan.tangents = [None if t is None else rehome(t, ns, suffix) for t in plan.tangents]
    plan.hv = rehome(plan.hv, ns, suffix)
    return args, plan


def _short(v):
    text = repr(v)
    return text if len(text) < 120 else text[:117] + "..."


def srepr(v, indent=0):
    """Source text that rebuilds ``v`` exactly (floats with repr precision)."""
    if isinstance(v, np.ndarray):
        return f"np.array({v.tolist()!r})"
    if isinstance(v, np.floating):
        return f"np.float64({float(v)!r})"
    if isinstance(v, float):
        return repr(v)
    if is_namedtuple(v):
        return f"{class_base(type(v).__name__)}(" + ", ".join(srepr(x) for x in v) + ")"
    if isinstance(v, tuple):
        return "(" + ", ".join(srepr(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(srepr(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {srepr(x)}" for k, x in v.items()) + "}"
    if isinstance(v, PortableRecord):
        if v.form == "dataclass":
            return f"{v.name}(" + ", ".join(f"{k}={srepr(x)}" for k, x in v.attrs.items()) + ")"
        return f"{v.name}(" + ", ".join(srepr(x) for x in v.attrs.values()) + ")"
    if is_record(v):
        if hasattr(type(v), "__dataclass_fields__"):
            return f"{class_base(type(v).__name__)}(" + ", ".join(f"{k}={srepr(x)}" for k, x in vars(v).items()) + ")"
        return f"{class_base(type(v).__name__)}(" + ", ".join(srepr(x) for x in vars(v).values()) + ")"
    return repr(v)


def sample_arg(spec, rng, namespace=None, suffix=""):
    u = lambda shape=None: rng.uniform(-1.5, 1.5, shape)
    if spec.kind == "float":
        return float(u())
    if spec.kind == "npfloat":
        return np.float64(u())
    if spec.kind in ("vec", "mat"):
        return u(spec.shape)
    if spec.kind == "list":
        return [float(v) for v in u(spec.shape)]
    if spec.kind == "tuple":
        return tuple(float(v) for v in u(spec.shape))
    if spec.kind == "dict":
        return {k: float(u()) for k in spec.keys}
    if spec.kind == "record":                # an instance of the program's own class
        cls = namespace[spec.cls.replace(fuzzgen.SUFFIX, suffix)]
        values = {name: (float(u()) if kind == "float" else u(shape) if kind == "vec" else value)
                  for name, kind, shape, value in spec.fields}
        return cls(**values) if spec.form == "dataclass" else cls(*values.values())
    return spec.value


def random_like(x, rng):
    """A random direction shaped like ``x`` (floats for numbers; a record of its type for a record)."""
    if isinstance(x, dict):
        return {k: random_like(v, rng) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        items = [random_like(v, rng) for v in x]
        if is_namedtuple(x):
            return type(x)(*items)
        return tuple(items) if isinstance(x, tuple) else items
    if is_record(x):
        return _record_with(x, {k: random_like(v, rng) for k, v in record_fields(x).items()})
    if isinstance(x, np.ndarray):
        return rng.standard_normal(x.shape)
    return float(rng.standard_normal())


# =============================================================================================
# Loading programs: a unique module file and unique function names for every load

class Loader:
    """Writes each program (or candidate) to a module file of its own and imports it."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="s2sad-fuzz-")
        self.count = 0
        self.loaded = []

    def load(self, source, tag):
        """Import ``source`` (names ending in ``fuzzgen.SUFFIX`` made unique); returns (module, suffix)."""
        self.count += 1
        tag = re.sub(r"\W", "_", str(tag))
        suffix = f"_{tag}_{os.getpid()}_{self.count}"
        modname = f"fz{suffix}"
        path = os.path.join(self.root, modname + ".py")
        with open(path, "w") as fh:
            fh.write(source.replace(fuzzgen.SUFFIX, suffix))
        spec = importlib.util.spec_from_file_location(modname, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        self.loaded.append((modname, path))
        spec.loader.exec_module(module)
        return module, suffix

    def instrumented(self, source, suffix):
        """The instrumented copy of ``source`` (run only by the fuzzer, never by s2sad)."""
        text = source.replace(fuzzgen.SUFFIX, suffix)
        tree = Instrument().visit(ast.parse(text))
        ast.fix_missing_locations(tree)
        recorder = Recorder()
        namespace = {"__name__": f"fzi{suffix}", "_fz": recorder}
        exec(compile(tree, f"<instrumented{suffix}>", "exec"), namespace)
        return namespace, recorder

    def cleanup(self):
        for modname, path in self.loaded:
            sys.modules.pop(modname, None)
            try:
                os.remove(path)
            except OSError:
                pass
            linecache.cache.pop(path, None)
        self.loaded = []

    def close(self):
        self.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)


# =============================================================================================
# Instrumentation: comparisons and kinks report their margin and outcome

KINKS = {
    "abs": "abs", "np.abs": "abs", "np.absolute": "abs", "np.fabs": "abs", "math.fabs": "abs", "np.sign": "abs",
    "np.heaviside": "abs",
    "max": "pymax", "min": "pymin",
    "np.maximum": "pair", "np.minimum": "pair", "np.fmax": "pair", "np.fmin": "pair",
    "np.clip": "clip",
    "np.floor": "int", "np.ceil": "int", "np.trunc": "int", "math.floor": "int", "math.ceil": "int",
    "math.trunc": "int", "int": "int", "np.fix": "int",
    "round": "round", "np.round": "round", "np.rint": "round", "np.around": "round",
    "np.max": "reduce_max", "np.amax": "reduce_max", "np.min": "reduce_min", "np.amin": "reduce_min",
    "np.argmax": "reduce_max", "np.argmin": "reduce_min", "np.nanmax": "reduce_max", "np.nanmin": "reduce_min",
    "np.sort": "sort", "np.median": "sort", "np.argsort": "sort",
    "np.linalg.norm": "norm", "math.hypot": "norm", "np.hypot": "norm",
    "np.mod": "mod", "np.fmod": "mod", "np.remainder": "mod", "math.fmod": "mod", "np.floor_divide": "mod",
}
METHOD_KINKS = {"max": "reduce_max", "min": "reduce_min", "argmax": "reduce_max", "argmin": "reduce_min",
                "clip": "clip", "round": "round", "sort": "sort"}
MODULE_NAMES = {"np", "numpy", "math"}

_OPS = {"Lt": operator.lt, "LtE": operator.le, "Gt": operator.gt, "GtE": operator.ge, "Eq": operator.eq,
        "NotEq": operator.ne, "Is": operator.is_, "IsNot": operator.is_not,
        "In": lambda a, b: a in b, "NotIn": lambda a, b: a not in b}


class Instrument(ast.NodeTransformer):
    """Rewrites comparisons, kink calls, ``%`` and ``//`` into calls of the recorder ``_fz``."""

    def _site(self, node):
        return f"{getattr(node, 'lineno', 0)}:{getattr(node, 'col_offset', 0)}"

    @staticmethod
    def _fz(attr):
        return ast.Attribute(value=ast.Name(id="_fz", ctx=ast.Load()), attr=attr, ctx=ast.Load())

    def visit_Compare(self, node):
        self.generic_visit(node)
        ops = tuple(type(op).__name__ for op in node.ops)
        return ast.copy_location(ast.Call(func=self._fz("cmp"), args=[ast.Constant(self._site(node)),
                                 ast.Constant(ops), node.left, *node.comparators], keywords=[]), node)

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        name = None
        try:
            text = ast.unparse(func)
        except Exception:
            text = ""
        if text in KINKS:
            name = KINKS[text]
        elif isinstance(func, ast.Attribute) and func.attr in METHOD_KINKS and \
                not (isinstance(func.value, ast.Name) and func.value.id in MODULE_NAMES):
            name = "method_" + METHOD_KINKS[func.attr]
        if name is None:
            return node
        return ast.copy_location(ast.Call(func=self._fz("kink"), args=[ast.Constant(self._site(node)),
                                 ast.Constant(name), func, *node.args], keywords=node.keywords), node)

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (ast.Mod, ast.FloorDiv)):
            return ast.copy_location(ast.Call(func=self._fz("binop"), args=[ast.Constant(self._site(node)),
                                     ast.Constant(type(node.op).__name__), node.left, node.right], keywords=[]), node)
        return node

    def visit_Assign(self, node):
        self.generic_visit(node)
        node.value = ast.copy_location(ast.Call(func=self._fz("value"), args=[node.value], keywords=[]), node.value)
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (ast.Mod, ast.FloorDiv)):
            target = copy.deepcopy(node.target)
            target.ctx = ast.Load()
            value = ast.Call(func=self._fz("binop"), args=[ast.Constant(self._site(node)),
                             ast.Constant(type(node.op).__name__), target, node.value], keywords=[])
            return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)
        return node


def _floatish(x):
    return isinstance(x, (float, np.floating)) or (isinstance(x, np.ndarray) and x.dtype.kind in "fc")


def _gap(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(all="ignore"):
        m = np.abs(a - b) / np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    return float(np.min(m)) if m.size else None


def _outcome(r):
    if isinstance(r, np.ndarray):
        return (r.shape, r.tobytes())
    if isinstance(r, (bool, np.bool_)):
        return bool(r)
    return r if isinstance(r, (int, np.integer)) else repr(r)


def _to_int_gap(x, half=False):
    x = np.asarray(x, dtype=float)
    y = x - 0.5 if half else x
    d = np.abs(y - np.round(y))
    return float(np.min(d)) if d.size else None


def _sorted_gap(a, axis, top):
    """Gap between the largest two (``top``) or smallest two values along ``axis`` (relative)."""
    a = np.asarray(a, dtype=float)
    if axis is None:
        a = a.ravel()
        axis = 0
    if a.shape[axis] < 2:
        return None
    s = np.sort(a, axis=axis)
    if top:
        x, y = np.take(s, -1, axis=axis), np.take(s, -2, axis=axis)
    else:
        x, y = np.take(s, 0, axis=axis), np.take(s, 1, axis=axis)
    return _gap(x, y)


class Recorder:
    """Logs, while the instrumented program runs, the smallest margin to a tie and the trace of
    outcomes (which branch, which side of each kink, which element of each max)."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.margin = math.inf
        self.trace = []
        self.peak = 0.0                 # the largest magnitude any assignment stored

    def value(self, v):
        """``v`` unchanged; its magnitude noted (a huge intermediate makes differences meaningless)."""
        if _floatish(v):
            with np.errstate(all="ignore"):
                m = float(np.max(np.abs(v), initial=0.0))
            if not m <= self.peak:
                self.peak = m if m == m else math.inf
        return v

    def note(self, site, margin, outcome):
        if margin is not None and not (margin >= 0):      # NaN: treat as a tie
            margin = 0.0
        if margin is not None:
            self.margin = min(self.margin, margin)
        self.trace.append((site, outcome))

    def cmp(self, site, ops, *vals):
        result = True
        for op, a, b in zip(ops, vals, vals[1:]):
            r = _OPS[op](a, b)
            margin = _gap(a, b) if op in ("Lt", "LtE", "Gt", "GtE", "Eq", "NotEq") and \
                (_floatish(a) or _floatish(b)) else None
            self.note(site, margin, _outcome(r))
            if len(ops) == 1:
                return r
            if not r:
                return r
            result = r
        return result

    def binop(self, site, op, a, b):
        r = operator.mod(a, b) if op == "Mod" else operator.floordiv(a, b)
        if _floatish(a) or _floatish(b):
            with np.errstate(all="ignore"):
                q = np.asarray(a, dtype=float) / np.asarray(b, dtype=float)
            self.note(site, _to_int_gap(q), _outcome(np.floor(q)))
        return r

    def kink(self, site, name, fn, *args, **kw):
        if name in ("pymax", "pymin") and len(args) == 1 and not isinstance(args[0], (np.ndarray, list, tuple)):
            args = (list(args[0]),)                 # a generator: materialize it once
        result = fn(*args, **kw)
        try:
            margin, outcome = self._margin(name, fn, args, kw, result)
        except Exception:                            # cannot tell: treat as a tie (conservative)
            margin, outcome = 0.0, None
        if margin is not None or outcome is not None:
            self.note(site, margin, outcome)
        return result

    def _margin(self, name, fn, args, kw, result):
        method = name.startswith("method_")
        base = name[len("method_"):] if method else name
        if method:
            args = (fn.__self__,) + tuple(args)
        if base == "abs":
            a = args[0]
            if not _floatish(a):
                return None, None
            a = np.asarray(a, dtype=float)
            return _gap(a, 0.0), _outcome(a > 0)
        if base in ("pymax", "pymin"):
            vals = list(args) if len(args) > 1 else list(args[0])
            if not any(_floatish(v) for v in vals) or len(vals) < 2:
                return None, None
            vals = [float(v) for v in vals]
            order = sorted(range(len(vals)), key=lambda k: vals[k], reverse=base == "pymax")
            return _gap(vals[order[0]], vals[order[1]]), order[0]
        if base == "pair":
            a, b = args[0], args[1]
            return _gap(*np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))), \
                _outcome(np.asarray(np.asarray(a, float) > np.asarray(b, float)))
        if base == "clip":
            a = np.asarray(args[0], dtype=float)
            lo = kw.get("a_min", kw.get("min", args[1] if len(args) > 1 else None))
            hi = kw.get("a_max", kw.get("max", args[2] if len(args) > 2 else None))
            gaps = [g for g in (_gap(a, lo) if lo is not None else None, _gap(a, hi) if hi is not None else None)
                    if g is not None]
            lo_side = a < lo if lo is not None else np.zeros(a.shape, bool)
            hi_side = a > hi if hi is not None else np.zeros(a.shape, bool)
            return (min(gaps) if gaps else None), (_outcome(np.asarray(lo_side)), _outcome(np.asarray(hi_side)))
        if base == "int":
            if not _floatish(args[0]):
                return None, None
            return _to_int_gap(args[0]), _outcome(np.asarray(result))
        if base == "round":
            if not _floatish(args[0]):
                return None, None
            ndigits = kw.get("decimals", kw.get("ndigits", args[1] if len(args) > 1 else 0)) or 0
            scaled = np.asarray(args[0], dtype=float) * 10.0 ** ndigits
            return _to_int_gap(scaled, half=True), _outcome(np.asarray(result))
        if base in ("reduce_max", "reduce_min"):
            a = args[0]
            axis = kw.get("axis", args[1] if len(args) > 1 else None)
            if isinstance(axis, tuple):
                return 0.0, None
            top = base == "reduce_max"
            arr = np.asarray(a, dtype=float)
            which = np.argmax(arr, axis=axis) if top else np.argmin(arr, axis=axis)
            return _sorted_gap(arr, axis, top), _outcome(np.asarray(which))
        if base == "sort":
            arr = np.asarray(args[0], dtype=float)
            if arr.ndim == 0 or arr.shape[-1] < 2:
                return None, None
            s = np.sort(arr, axis=-1)
            d = np.diff(s, axis=-1) / np.maximum(1.0, np.maximum(np.abs(s[..., 1:]), np.abs(s[..., :-1])))
            return float(np.min(d)), _outcome(np.argsort(arr, axis=-1))
        if base == "norm":
            vals = [np.asarray(v, dtype=float) for v in args[:2]] if fn in (math.hypot, np.hypot) else \
                [np.asarray(args[0], dtype=float)]
            if fn in (math.hypot, np.hypot):
                r = np.sqrt(sum(v * v for v in np.broadcast_arrays(*vals)))
                return _gap(r, 0.0), None
            if kw.get("ord", args[1] if len(args) > 1 else None) is not None:
                return 0.0, None                     # other norms have more kinks: refuse to judge
            return _gap(np.sqrt(np.sum(vals[0] ** 2)), 0.0), None
        if base == "mod":
            a, b = args[0], args[1]
            if not (_floatish(a) or _floatish(b)):
                return None, None
            q = np.asarray(a, dtype=float) / np.asarray(b, dtype=float)
            return _to_int_gap(q), _outcome(np.floor(q))
        return 0.0, None


# =============================================================================================
# Engines: s2sad, and deliberately correct finite-difference "AD" for self-testing

@contextlib.contextmanager
def time_limit(seconds):
    """Raise CallTimeout if the block runs longer than ``seconds`` (SIGALRM; main thread only)."""
    if seconds is None or seconds <= 0 or not hasattr(signal, "setitimer"):
        yield
        return

    def handler(signum, frame):
        raise CallTimeout(f"timed out after {seconds:g} s")
    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class S2SadEngine:
    """The engine under test: s2sad's public API, with the hvp convention detected at start-up."""

    name = "s2sad"
    exact = True

    def __init__(self, loader):
        import s2sad
        self.s = s2sad
        self.refusals = (s2sad.S2SadError, NotImplementedError)
        self.loader = loader
        self._hvp_convention = None

    # -- the API, one adapter each
    def value_and_grad(self, f, wrt, args):
        return self.s.value_and_grad(f, wrt=wrt)(*args)

    def grad(self, f, wrt, args):
        return self.s.grad(f, wrt=wrt)(*args)

    def vjp(self, f, args, wrt):
        return self.s.vjp(f, *args, wrt=wrt)

    def jvp(self, f, primals, tangents):
        return self.s.jvp(f, primals, tangents)

    def hvp(self, f, args, v):
        return hvp_call(self.s.hvp(f, wrt=0), args, v, self.hvp_convention())

    def grad_grad(self, f, args):
        return self.s.grad(self.s.grad(f, wrt=0), wrt=0)(*args)

    # -- the optimization switch (being built): feature-detected
    @property
    def has_optimizations(self):
        return hasattr(self.s, "optimizations")

    @property
    def optimization_names(self):
        return tuple(getattr(self.s, "OPTIMIZATIONS", ()))

    def optimizations(self, *args, **kwargs):
        return self.s.optimizations(*args, **kwargs)

    def hvp_convention(self):
        """"new": ``hvp(f, wrt=0)(x0, v, *rest)``; "old": ``(*args, v)``; detected once on
        f(x, c) = x**3 + c*x*x at x=2, c=3, v=0.5 (H v = (6x + 2c) v = 9)."""
        if self._hvp_convention is None:
            self._hvp_convention = "new"
            module, suffix = self.loader.load(f"def probe{fuzzgen.SUFFIX}(x, c):\n    return x ** 3 + c * x * x\n",
                                              "probe")
            probe = getattr(module, "probe" + suffix)
            for convention in ("new", "old"):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        got = float(hvp_call(self.s.hvp(probe, wrt=0), [2.0, 3.0], 0.5, convention))
                    if abs(got - 9.0) < 1e-9:
                        self._hvp_convention = convention
                        break
                except Exception:
                    continue
        return self._hvp_convention


def hvp_call(product, args, v, convention):
    """THE one place that knows how s2sad.hvp's product is called: the vector right after the
    differentiated argument (wrt=0), as scipy's ``hessp(x, p, *args)``; or, before that change
    lands, last."""
    if convention == "new":
        return product(args[0], v, *args[1:])
    return product(*args, v)


class FDEngine:
    """A deliberately correct 'AD' made of Richardson-extrapolated finite differences (steps other
    than the witnesses'), for the fuzzer's self-test: it must produce zero wrong. ``bug=True``
    adds a 1% error to the first gradient component and to jvp, which must be caught."""

    refusals = (NotImplementedError,)
    exact = False                 # fwd-rev and unopt compare two approximations: FD-level tolerance
    has_optimizations = True
    optimization_names = ("fake_fold", "fake_inline")

    def __init__(self, loader, bug=False):
        self._bug = bug
        self.name = "fd-bug" if bug else "fd"
        self.disabled = set()

    @property
    def bug(self):
        """The injected bug belongs to the fake optimization ``fake_fold`` (to test the blame)."""
        return self._bug and "fake_fold" not in self.disabled

    @contextlib.contextmanager
    def optimizations(self, *args, **kwargs):
        old = set(self.disabled)
        if args and args[0] is False:
            self.disabled |= set(self.optimization_names)
        self.disabled |= {k for k, v in kwargs.items() if v is False}
        try:
            yield
        finally:
            self.disabled = old

    H = 7e-5

    def _d(self, fun, z, d, h):
        return (4 * (fun(z + h / 2 * d) - fun(z - h / 2 * d)) / h - (fun(z + h * d) - fun(z - h * d)) / (2 * h)) / 3

    def _grad_flat(self, f, args, wrt):
        xs = [args[k] for k in wrt]
        z0 = np.concatenate([flat(x) for x in xs])

        def g(z):
            return np.asarray(f(*_replace(args, wrt, z)), dtype=float)
        out = np.zeros(z0.size)
        for i in range(z0.size):
            e = np.zeros(z0.size)
            e[i] = 1.0
            out[i] = self._d(g, z0, e, self.H * max(1.0, abs(z0[i])))
        if self.bug and out.size:
            out[0] *= 1.01
        return out

    def _grads(self, f, wrt, args):
        many = isinstance(wrt, tuple)
        ks = wrt if many else (wrt,)
        z = self._grad_flat(f, args, ks)
        grads = []
        for k in ks:
            g, z = unflat(z, args[k])
            grads.append(float(g) if isinstance(g, np.floating) else g)
        return tuple(grads) if many else grads[0]

    def value_and_grad(self, f, wrt, args):
        return f(*fresh(args)), self._grads(lambda *a: f(*fresh(a)), wrt, args)

    def grad(self, f, wrt, args):
        return self._grads(lambda *a: f(*fresh(a)), wrt, args)

    def vjp(self, f, args, wrt):
        value = f(*fresh(args))

        def pullback(u):
            return self._grads(lambda *a: float(np.sum(np.asarray(f(*fresh(a))) * u)), wrt, args)
        return value, pullback

    def jvp(self, f, primals, tangents):
        ks = tuple(k for k, t in enumerate(tangents) if t is not None)
        z0 = np.concatenate([flat(primals[k]) for k in ks])
        d = np.concatenate([flat(tangents[k]) for k in ks])
        g = lambda z: np.asarray(f(*fresh(_replace(primals, ks, z))), dtype=float)
        h = self.H * max(1.0, float(np.max(np.abs(z0)))) / max(1e-300, float(np.max(np.abs(d))))
        t = self._d(g, z0, d, h)
        if self.bug:
            t = t * 1.01
        value = f(*fresh(primals))
        return value, (float(t) if np.ndim(value) == 0 else t)

    def hvp(self, f, args, v):
        gradient = lambda z: self._grad_flat(lambda *a: f(*fresh(a)), _replace(args, (0,), z), (0,))
        z0, d = flat(args[0]), flat(v)
        h = 2e-4 * max(1.0, float(np.max(np.abs(z0)))) / max(1e-300, float(np.max(np.abs(d))))
        hv = self._d(gradient, z0, d, h)
        out, _ = unflat(hv, args[0])
        return float(out) if isinstance(out, np.floating) else out

    def grad_grad(self, f, args):
        return self.hvp(f, args, 1.0)


def _replace(args, ks, z):
    """``args`` with the arguments at indices ``ks`` rebuilt from the flat vector ``z``."""
    out = list(args)
    for k in ks:
        out[k], z = unflat(z, args[k])
    return out


def make_engine(name, loader):
    if name == "s2sad":
        return S2SadEngine(loader)
    if name in ("fd", "fd-bug"):
        return FDEngine(loader, bug=name == "fd-bug")
    raise ValueError(f"unknown engine {name!r}")


# =============================================================================================
# Witnesses: finite differences on the instrumented copy, with the trace checked at every point

class Evaluator:
    """Runs the instrumented program at perturbed inputs; raises Tie when the trace (the branches
    and kink sides taken) differs from the one at the base point."""

    def __init__(self, fi, recorder, args, output):
        self.fi, self.rec, self.args, self.output = fi, recorder, list(args), output
        self.base_trace = None
        self.evals = 0

    def run(self, args):
        self.rec.reset()
        with np.errstate(all="ignore"):
            out = self.fi(*fresh(args))
        self.evals += 1
        return out, self.rec.margin, self.rec.trace

    def base(self):
        out, margin, trace = self.run(self.args)
        self.base_trace = trace
        if self.rec.peak > MAX_INTERMEDIATE:
            raise Tie(f"an intermediate value of {self.rec.peak:.2g}: rounding hides what differences measure")
        return out, margin

    def at(self, args):
        out, _, trace = self.run(args)
        if trace != self.base_trace:
            raise Tie("a finite-difference step changes a branch or kink side")
        out = np.asarray(out, dtype=float)
        if not np.all(np.isfinite(out)):
            raise Tie("non-finite value at a finite-difference point")
        return out

    def function(self, ks, project=None):
        """z -> the output (flattened; or projected on cotangent ``project``) with args ``ks`` from z."""
        def g(z):
            out = self.at(_replace(self.args, ks, z))
            return np.array([float(np.sum(out * project))]) if project is not None else np.ravel(out)
        return g


def _central(g, z, d, h):
    return (g(z + h * d) - g(z - h * d)) / (2 * h)


def _richardson(g, z, d, h):
    return (4 * _central(g, z, d, h / 2) - _central(g, z, d, h)) / 3


def fd_gradient(g, z, step, richardson):
    """Per-component central differences of scalar ``g`` at ``z`` (relative step)."""
    out = np.zeros(z.size)
    for i in range(z.size):
        e = np.zeros(z.size)
        e[i] = 1.0
        h = step * max(1.0, abs(z[i]))
        out[i] = (_richardson if richardson else _central)(g, z, e, h)[0]
    return out


def fd_directional(g, z, d, step, richardson):
    h = step * max(1.0, float(np.max(np.abs(z)))) / max(1e-300, float(np.max(np.abs(d))))
    return (_richardson if richardson else _central)(g, z, d, h)


def fd_pair_gradient(g, z):
    return fd_gradient(g, z, STEP_RICHARDSON, True), fd_gradient(g, z, STEP_PLAIN, False)


def fd_pair_directional(g, z, d):
    return fd_directional(g, z, d, STEP_RICHARDSON, True), fd_directional(g, z, d, STEP_PLAIN, False)


BLIND = 1e-6          # the largest derivative two all-zero finite differences are not taken to contradict


def judge(got, w1, w2, atol, rtol=RTOL):
    """(ok, info). Wrong only if ``got`` differs from both witnesses by more than the tolerance,
    and by much more than the witnesses differ from each other."""
    got = np.ravel(np.asarray(got, dtype=float))
    w1, w2 = np.ravel(w1), np.ravel(w2)
    if got.shape != w1.shape:
        return False, f"shape {got.shape} where {w1.shape} was expected"
    scale = float(max(np.max(np.abs(w1), initial=0.0), np.max(np.abs(w2), initial=0.0)))
    noise = float(np.max(np.abs(w1 - w2), initial=0.0))
    tol = max(rtol * scale + atol, NOISE_FACTOR * noise)
    if not np.all(np.isfinite(got)):
        return False, "non-finite derivative"
    d1 = float(np.max(np.abs(got - w1), initial=0.0))
    d2 = float(np.max(np.abs(got - w2), initial=0.0))
    err = min(d1, d2)
    if not np.any(w1) and not np.any(w2) and err <= BLIND * (1.0 + atol / ATOL):
        # both differences are exactly zero: the perturbation was lost in rounding (a value of 1e7 added
        # and subtracted again), so they cannot tell a tiny derivative from none
        return True, f"finite differences see no change; |derivative| {err:.3g} is below what they resolve"
    info = f"max abs error {err:.3g} (tolerance {tol:.3g}, witness scale {scale:.3g}, witness noise {noise:.3g})"
    return err <= tol, info


def exact_close(a, b, scale, atol, exact=True):
    """Two exact AD routes agree: |a - b| <= EXACT_RTOL * scale + atol (FD-level tolerance for the
    self-test engines, which are not exact)."""
    if not exact:
        scale, atol = scale * 10 * RTOL / EXACT_RTOL, atol * 10 * ATOL / EXACT_ATOL
    a, b = np.ravel(np.asarray(a, dtype=float)), np.ravel(np.asarray(b, dtype=float))
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False, 0.0
    err = float(np.max(np.abs(a - b), initial=0.0))
    return err <= EXACT_RTOL * scale + atol, err


# =============================================================================================
# Plans and witnesses per program

@dataclass
class Plan:
    """What to check with which arguments and directions (all deterministic)."""
    wrt: tuple                 # differentiated arguments (reverse: wrt; forward: the tangents)
    many: bool                 # pass wrt as a tuple (gradient is a tuple)
    tangents: list             # per argument: a direction or None
    cot: object = None         # array output: cotangent for vjp; scalar output: a number or None
    hv: object = None          # direction for hvp (shaped like argument 0), or None
    output: str = "scalar"

    def wrt_arg(self):
        return self.wrt if self.many else self.wrt[0]


def applicable(checks, prog_output, args):
    out = []
    for kind in checks:
        if kind in ("hvp", "grad-grad") and prog_output != "scalar":
            continue
        if kind == "grad-grad" and not isinstance(args[0], (float, np.floating)):
            continue
        out.append(kind)
    return out


def make_plan(rng, specs, args, output, output_value):
    diff = [k for k, s in enumerate(specs) if s.differentiable and k < len(args)]
    others = [k for k in diff if k != 0]
    chosen = [0] + [k for k in others if rng.random() < 0.5]
    many = len(chosen) > 1 or rng.random() < 0.2
    tangents = [random_like(args[k], rng) if k in chosen else None for k in range(len(args))]
    if output == "array":
        cot = rng.standard_normal(np.shape(output_value))
    else:
        cot = float(rng.uniform(0.5, 2.0)) * (1 if rng.random() < 0.5 else -1) if rng.random() < 0.35 else None
    hv = random_like(args[0], rng)
    if isinstance(hv, float):
        hv = float(np.sign(hv) or 1.0) * (0.5 + abs(hv) % 1.0)
    return Plan(tuple(chosen), many, tangents, cot, hv, output)


@dataclass
class Witness:
    value: object = None
    fscale: float = 1.0
    grad: tuple = None         # (w1, w2) flat over the wrt leaves (reverse; array output: J^T u)
    dirv: tuple = None         # (w1, w2) directional derivative (forward)
    hvp: tuple = None          # (w1, w2) flat over argument 0's leaves
    hvp_points: list = field(default_factory=list)    # (h, scale) for differences of s2sad's gradient


def _reliable(pair, fscale):
    """The two finite-difference estimates must agree well within the tolerance, else these inputs
    are no good for checking (a steep or badly conditioned spot): resample."""
    w1, w2 = np.ravel(pair[0]), np.ravel(pair[1])
    scale = float(max(np.max(np.abs(w1), initial=0.0), np.max(np.abs(w2), initial=0.0)))
    if float(np.max(np.abs(w1 - w2), initial=0.0)) > 0.1 * RTOL * scale + RELIABLE_ATOL * fscale:
        raise Tie("finite differences unreliable here")


def compute_witness(ev, plan, kinds):
    """Finite-difference witnesses for the checks ``kinds``; raises Tie / Invalid."""
    w = Witness()
    value, margin = ev.base()
    w.value = value
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.max(np.abs(arr), initial=0.0) > MAX_VALUE:
        raise Tie("value not finite or too large")
    if margin < MARGIN:
        raise Tie(f"margin {margin:.2g} to a branch or kink")
    w.fscale = 1.0 + float(np.max(np.abs(arr), initial=0.0))
    z = np.concatenate([flat(ev.args[k]) for k in plan.wrt])
    need = set(kinds)
    if need & {"reverse", "fwd-rev", "unopt", "hvp", "grad-grad"}:
        proj = plan.cot if plan.output == "array" else None
        g = ev.function(plan.wrt, project=proj) if proj is not None else ev.function(plan.wrt)
        w.grad = fd_pair_gradient(g, z)
        if np.max(np.abs(w.grad[0]), initial=0.0) > MAX_GRAD:
            raise Tie("gradient too large")
        _reliable(w.grad, w.fscale)
    if need & {"forward", "fwd-rev", "unopt"}:
        d = np.concatenate([flat(plan.tangents[k]) for k in plan.wrt])
        w.dirv = fd_pair_directional(ev.function(plan.wrt), z, d)
        _reliable(w.dirv, w.fscale)
    if need & {"hvp", "grad-grad"} and plan.output == "scalar":
        z0, v = flat(ev.args[0]), flat(plan.hv)
        g0 = ev.function((0,))

        def grad_r(zz):
            return fd_gradient(g0, zz, STEP_RICHARDSON, True)

        def grad_c(zz):
            return fd_gradient(g0, zz, STEP_RICHARDSON, False)
        w.hvp = (fd_directional(grad_r, z0, v, 2 * STEP_RICHARDSON, True),
                 fd_directional(grad_c, z0, v, STEP_RICHARDSON, False))
        # the points where differences of s2sad's own gradient would be taken: on the same piece?
        for step, rich in ((STEP_RICHARDSON, True), (STEP_PLAIN, False)):
            fd_directional(g0, z0, v, step, rich)
    return w


# =============================================================================================
# The checks

class Ctx:
    """One program, its inputs, plan and witnesses, while its checks run."""

    def __init__(self, engine, f, args, plan, witness, timeout):
        self.engine, self.f, self.args, self.plan, self.w = engine, f, list(args), plan, witness
        self.timeout = timeout
        self.results = {}         # exact results other checks compare: grad, jvp, ...
        self.outcomes = {}

    def call(self, fn, *args):
        """Run an s2sad call: Refused for a deliberate refusal, Crashed for anything else."""
        try:
            with time_limit(self.timeout), warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                return fn(*args)
        except self.engine.refusals as e:
            raise Refused(e) from e
        except (Refused, Crashed):
            raise
        except BaseException as e:          # includes CallTimeout; KeyboardInterrupt goes on
            if isinstance(e, KeyboardInterrupt):
                raise
            raise Crashed(e) from e


_KEEP_NAMES = {"max", "min", "abs", "sum", "float", "int", "len", "range", "zip", "enumerate", "reversed", "sorted",
               "list", "tuple", "dict", "round", "map", "filter", "print", "isinstance", "iter", "next"}


def refusal_reason(e):
    """The construct/reason of a refusal: the exception's ``reason``, else its message's first line
    without the ``file:line:`` part; the program's own variable names replaced by `_` so that the
    same refusal groups together (library names such as `np.cumsum` are kept)."""
    reason = getattr(e, "reason", None)
    if not reason:
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        reason = re.sub(r"^\S+:\d+:\s*", "", text)
    reason = re.sub(r" \(here it holds [^)]*\)+", "", reason)      # the value seen when the code ran
    reason = re.sub(r"`([A-Za-z_]\w*)( [-+*/@]?=)?`",
                    lambda m: m.group(0) if m.group(1) in _KEEP_NAMES else f"`_{m.group(2) or ''}`", reason)
    return f"{type(e).__name__}: {reason}"


def run_step(kind, call_text, fn):
    """Run one step of a check; exceptions become outcomes."""
    try:
        return fn()
    except Refused as r:
        e = r.__cause__
        return CheckOutcome(kind, "refused", detail=str(e).splitlines()[0] if str(e) else "", exc_type=type(e).__name__,
                            reason=refusal_reason(e), call=call_text)
    except Crashed as c:
        e = c.__cause__
        tb = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-6:])
        return CheckOutcome(kind, "error", detail=f"{type(e).__name__}: {e}\n{tb}", exc_type=type(e).__name__,
                            call=call_text)


def worst(kind, outcomes):
    order = {"wrong": 4, "error": 3, "refused": 2, "skipped": 1, "passed": 0}
    outcomes = [o for o in outcomes if o is not None]
    if not outcomes:
        return CheckOutcome(kind, "passed")
    return max(outcomes, key=lambda o: order[o.status])


def _value_ok(ctx, value, what):
    a, b = np.asarray(value, dtype=float), np.asarray(ctx.w.value, dtype=float)
    if a.shape != b.shape or not np.allclose(a, b, rtol=VALUE_RTOL, atol=1e-10 * ctx.w.fscale):
        return CheckOutcome("", "wrong", detail=f"{what} returned value {_short(value)}, f(x) = {_short(ctx.w.value)}",
                            got=value, want=ctx.w.value)
    return None


def check_reverse(ctx):
    p, f, args = ctx.plan, ctx.f, ctx.args
    wrt = p.wrt_arg()
    outs = []
    atol = ATOL * ctx.w.fscale

    def grads_flat(grads):
        gs = grads if p.many else (grads,)
        if p.many and (not isinstance(grads, tuple) or len(grads) != len(p.wrt)):
            raise ValueError(f"wrt={wrt!r} should give a tuple of {len(p.wrt)} gradients, got {_short(grads)}")
        return np.concatenate([flat_like(g, args[k]) for g, k in zip(gs, p.wrt)])

    def compare(got, call_text, scale_by=1.0):
        try:
            flat_got = grads_flat(got)
        except ValueError as e:
            return CheckOutcome("reverse", "wrong", detail=str(e), got=got, call=call_text)
        ok, info = judge(flat_got, ctx.w.grad[0] * scale_by, ctx.w.grad[1] * scale_by, atol * abs(scale_by))
        if not ok:
            return CheckOutcome("reverse", "wrong", detail=info, got=flat_got, want=ctx.w.grad[0] * scale_by,
                                call=call_text)
        return flat_got

    if p.output == "scalar":
        call_vg = f"s2sad.value_and_grad(f, wrt={wrt!r})(*args)"

        def vg():
            value, grads = ctx.call(ctx.engine.value_and_grad, f, wrt, fresh(args))
            bad = _value_ok(ctx, value, "value_and_grad")
            if bad:
                bad.kind, bad.call = "reverse", call_vg
                return bad
            r = compare(grads, call_vg)
            if isinstance(r, CheckOutcome):
                return r
            ctx.results["grad"] = r
            return None
        outs.append(run_step("reverse", call_vg, vg))
        call_g = f"s2sad.grad(f, wrt={wrt!r})(*args)"

        def g_only():
            r = compare(ctx.call(ctx.engine.grad, f, wrt, fresh(args)), call_g)
            if isinstance(r, CheckOutcome):
                return r
            ctx.results.setdefault("grad", r)
            return None
        outs.append(run_step("reverse", call_g, g_only))
        if p.cot is not None:
            call_v = f"s2sad.vjp(f, *args, wrt={wrt!r})[1]({p.cot!r})"

            def vjp():
                value, pullback = ctx.call(ctx.engine.vjp, f, fresh(args), wrt)
                bad = _value_ok(ctx, value, "vjp")
                if bad:
                    bad.kind, bad.call = "reverse", call_v
                    return bad
                r = compare(ctx.call(pullback, p.cot), call_v, scale_by=p.cot)
                return r if isinstance(r, CheckOutcome) else None
            outs.append(run_step("reverse", call_v, vjp))
    else:
        call_v = f"s2sad.vjp(f, *args, wrt={wrt!r})[1](u)"

        def vjp():
            value, pullback = ctx.call(ctx.engine.vjp, f, fresh(args), wrt)
            bad = _value_ok(ctx, value, "vjp")
            if bad:
                bad.kind, bad.call = "reverse", call_v
                return bad
            r = compare(ctx.call(pullback, np.array(p.cot)), call_v)
            if isinstance(r, CheckOutcome):
                return r
            ctx.results["grad"] = r
            return None
        outs.append(run_step("reverse", call_v, vjp))
    return worst("reverse", outs)


def check_forward(ctx):
    p = ctx.plan
    call_text = "s2sad.jvp(f, args, tangents)"

    def step():
        value, tangent = ctx.call(ctx.engine.jvp, ctx.f, fresh(ctx.args), fresh(p.tangents))
        bad = _value_ok(ctx, value, "jvp")
        if bad:
            bad.kind, bad.call = "forward", call_text
            return bad
        if np.shape(tangent) != np.shape(ctx.w.value):
            return CheckOutcome("forward", "wrong", detail=f"tangent shape {np.shape(tangent)}, value shape "
                                f"{np.shape(ctx.w.value)}", got=tangent, call=call_text)
        ok, info = judge(tangent, ctx.w.dirv[0], ctx.w.dirv[1], ATOL * ctx.w.fscale)
        if not ok:
            return CheckOutcome("forward", "wrong", detail=info, got=tangent, want=ctx.w.dirv[0], call=call_text)
        ctx.results["jvp"] = np.ravel(np.asarray(tangent, dtype=float))
        return None
    return worst("forward", [run_step("forward", call_text, step)])


def check_fwd_rev(ctx):
    p = ctx.plan
    if "grad" not in ctx.results or "jvp" not in ctx.results:
        return CheckOutcome("fwd-rev", "skipped", detail="needs both reverse and forward results")
    g = ctx.results["grad"]
    d = np.concatenate([flat(p.tangents[k]) for k in p.wrt])
    rhs = float(np.dot(g, d))
    jv = ctx.results["jvp"]
    lhs = float(np.sum(jv * np.ravel(p.cot))) if p.output == "array" else float(jv[0])
    scale = float(np.sum(np.abs(g) * np.abs(d))) + abs(lhs)
    ok, err = exact_close(lhs, rhs, scale, EXACT_ATOL * ctx.w.fscale, ctx.engine.exact)
    if not ok:
        what = "u . jvp" if p.output == "array" else "jvp"
        return CheckOutcome("fwd-rev", "wrong", detail=f"{what} = {lhs!r} but <gradient, tangent> = {rhs!r} "
                            f"(error {err:.3g})", got=lhs, want=rhs, call="s2sad.jvp vs s2sad.grad")
    return CheckOutcome("fwd-rev", "passed")


def check_hvp(ctx):
    p = ctx.plan
    call_text = "s2sad.hvp(f, wrt=0)(args[0], v, *args[1:])"

    def step():
        hv = ctx.call(ctx.engine.hvp, ctx.f, fresh(ctx.args), copy.deepcopy(p.hv))
        try:
            got = flat_like(hv, ctx.args[0])
        except ValueError as e:
            return CheckOutcome("hvp", "wrong", detail=str(e), got=hv, call=call_text)
        return _second_order(ctx, "hvp", got, 1.0, call_text)
    return worst("hvp", [run_step("hvp", call_text, step)])


def _second_order(ctx, kind, got, divide, call_text):
    w1, w2 = ctx.w.hvp[0] / divide, ctx.w.hvp[1] / divide
    atol = 10 * ATOL * ctx.w.fscale
    ok, info = judge(got, w1, w2, atol)
    if ok:
        return None
    noise = float(np.max(np.abs(w1 - w2), initial=0.0))
    scale = float(np.max(np.abs(w1), initial=0.0))
    if noise > RTOL * scale + atol and ctx.outcomes.get("reverse") is not None and \
            ctx.outcomes["reverse"].status == "passed":
        # second differences too noisy: differences of s2sad's (verified) gradient instead
        z0, v = flat(ctx.args[0]), flat(ctx.plan.hv) if kind == "hvp" else np.ones(1)

        def g(z):
            args = _replace(ctx.args, (0,), z)
            return flat_like(ctx.call(ctx.engine.grad, ctx.f, 0, fresh(args)), ctx.args[0])
        a1 = fd_directional(g, z0, v, STEP_RICHARDSON, True)
        a2 = fd_directional(g, z0, v, STEP_PLAIN, False)
        ok, info2 = judge(got, a1, a2, atol)
        if ok:
            return None
        info += f"; against differences of s2sad.grad: {info2}"
        w1 = a1
    return CheckOutcome(kind, "wrong", detail=info, got=got, want=w1, call=call_text)


def check_grad_grad(ctx):
    call_text = "s2sad.grad(s2sad.grad(f, wrt=0), wrt=0)(*args)"
    v = float(ctx.plan.hv)

    def step():
        gg = ctx.call(ctx.engine.grad_grad, ctx.f, fresh(ctx.args))
        if isinstance(gg, np.ndarray) or not isinstance(gg, (float, np.floating)):
            return CheckOutcome("grad-grad", "wrong", detail=f"second derivative should be a float, got {_short(gg)}",
                                got=gg, call=call_text)
        return _second_order(ctx, "grad-grad", np.array([float(gg)]), v, call_text)
    return worst("grad-grad", [run_step("grad-grad", call_text, step)])


def check_unopt(ctx, fresh_f):
    """The unoptimized pipeline (on a fresh copy of the module) agrees with the optimized one."""
    e = ctx.engine
    if not e.has_optimizations:
        return CheckOutcome("unopt", "skipped", detail="s2sad has no optimizations switch yet")
    if "grad" not in ctx.results and "jvp" not in ctx.results:
        return CheckOutcome("unopt", "skipped", detail="no optimized result to compare with")
    f2 = fresh_f()
    args2, plan2 = home(f2, ctx.args, ctx.plan)          # records: instances of the fresh module's classes
    sub = Ctx(e, f2, args2, plan2, ctx.w, ctx.timeout)
    sub.outcomes = {}
    call_text = "with s2sad.optimizations(False): ..."

    def step():
        subs = {}
        try:
            with e.optimizations(False):
                if "grad" in ctx.results:
                    subs["grad"] = check_reverse(sub)
                if "jvp" in ctx.results:
                    subs["jvp"] = check_forward(sub)
        except (Refused, Crashed):
            raise
        except Exception as exc:
            raise Crashed(exc) from exc
        for key, o in subs.items():
            if key not in sub.results:           # the unoptimized pipeline failed where the optimized one did not
                return CheckOutcome("unopt", o.status if o.status != "passed" else "error",
                                    detail=f"unoptimized {key}: {o.detail}", exc_type=o.exc_type, reason=o.reason,
                                    got=o.got, want=o.want, call=call_text + " " + o.call)
            a, b = ctx.results[key], sub.results[key]
            scale = float(np.max(np.abs(a), initial=0.0)) + float(np.max(np.abs(b), initial=0.0))
            ok, err = exact_close(a, b, scale, EXACT_ATOL * ctx.w.fscale, e.exact)
            if not ok:
                return CheckOutcome("unopt", "wrong", detail=f"optimized and unoptimized {key} differ by {err:.3g}",
                                    got=a, want=b, call=call_text)
        return None
    return worst("unopt", [run_step("unopt", call_text, step)])


CHECK_FUNCTIONS = {"reverse": check_reverse, "forward": check_forward, "fwd-rev": check_fwd_rev,
                   "hvp": check_hvp, "grad-grad": check_grad_grad}
DEPENDS = {"fwd-rev": ("reverse", "forward"), "unopt": ("reverse", "forward"), "hvp": ("reverse",),
           "grad-grad": ("reverse",)}


def with_dependencies(kinds):
    """``kinds`` and the checks whose results they compare (fwd-rev needs reverse and forward...)."""
    out = set(kinds)
    for k in kinds:
        out.update(DEPENDS.get(k, ()))
    return tuple(k for k in CHECKS if k in out)


def run_checks(ctx, kinds, fresh_f):
    """Run checks ``kinds`` (in CHECKS order) on ``ctx``; returns {kind: CheckOutcome}."""
    for kind in CHECKS:
        if kind not in kinds:
            continue
        if kind == "unopt":
            outcome = check_unopt(ctx, fresh_f)
        else:
            outcome = CHECK_FUNCTIONS[kind](ctx)
        outcome.kind = kind
        ctx.outcomes[kind] = outcome
    return ctx.outcomes


# =============================================================================================
# One program: generate, choose inputs away from ties, check

@dataclass
class Config:
    seed: int = 1
    checks: tuple = CHECKS
    engine: str = "s2sad"
    timeout: float = CALL_TIMEOUT
    weights: dict = field(default_factory=dict)
    minimize_seconds: float = 20.0
    verbose: bool = False


@dataclass
class Case:
    """A program with its inputs and plan: everything needed to run its checks again."""
    source: str
    name: str
    specs: list
    args: list
    plan: Plan
    output: str
    kinds: list


@dataclass
class ProgramResult:
    index: int
    status: str
    case: Case = None
    features: list = field(default_factory=list)
    outcomes: dict = field(default_factory=dict)
    discarded: int = 0
    seconds: float = 0.0
    blame: dict = field(default_factory=dict)       # check kind -> list of optimization names or text


_STATE = {}


def worker_init(config):
    """Per process: the loader (temp dir) and the engine."""
    warnings.simplefilter("ignore")
    loader = Loader()
    _STATE["loader"] = loader
    _STATE["engine"] = make_engine(config.engine, loader)
    _STATE["config"] = config


def _state(config):
    if not _STATE or _STATE.get("config") is not config:
        worker_init(config)
    return _STATE["loader"], _STATE["engine"]


def program_status(outcomes):
    statuses = {o.status for o in outcomes.values()}
    if "wrong" in statuses:
        return "wrong"
    if "error" in statuses:
        return "error"
    if "refused" in statuses:
        return "unsupported"
    return "passed"


def load_case(loader, source, name, tag):
    module, suffix = loader.load(source, tag)
    f = getattr(module, name.replace(fuzzgen.SUFFIX, suffix))
    namespace, recorder = loader.instrumented(source, suffix)
    fi_own = namespace[name.replace(fuzzgen.SUFFIX, suffix)]

    def fi(*args):                  # records as instances of the instrumented copy's classes: its methods run
        return fi_own(*[rehome(a, namespace, suffix) for a in args])
    return f, fi, recorder


def trial(f, fi, recorder, args, output):
    """Run the original and the instrumented program at ``args``: both must run cleanly (no
    floating-point warning), agree exactly, and return a finite number (or 1-d array)."""
    try:
        with np.errstate(all="raise", under="ignore"), warnings.catch_warnings(), time_limit(5.0):
            warnings.simplefilter("error")
            out = f(*fresh(args))
            again = f(*fresh(args))
            recorder.reset()
            out_i = fi(*fresh(args))
    except Exception as e:
        raise Invalid(f"{type(e).__name__}: {e}")
    if not np.array_equal(np.asarray(out), np.asarray(again)):
        raise Invalid("not a pure function (a second call returns something else)")
    if output == "scalar":
        if np.ndim(out) != 0 or isinstance(out, (bool, np.bool_)) or not isinstance(out, (float, np.floating, int)):
            raise Invalid(f"scalar program returned {_short(out)}")
    else:
        if not isinstance(out, np.ndarray) or out.ndim != 1 or out.dtype.kind != "f":
            raise Invalid(f"array program returned {_short(out)}")
    if not np.array_equal(np.asarray(out), np.asarray(out_i)):
        raise Invalid("the instrumented copy computes something else")
    if not np.all(np.isfinite(out)) or np.max(np.abs(out), initial=0.0) > MAX_VALUE:
        raise Tie("value not finite or too large")
    return out


def choose_inputs(loader, prog, kinds, rng, tag):
    """Inputs, plan and witnesses for ``prog``; None if no good inputs were found."""
    f, fi, recorder = load_case(loader, prog.source, prog.name, tag)
    for _ in range(INPUT_TRIES):
        args = [sample_arg(s, rng, f.__globals__, f.__name__[1:]) for s in prog.args if s.passed]
        try:
            out = trial(f, fi, recorder, args, prog.output)
            plan = make_plan(rng, prog.args, args, prog.output, out)
            ev = Evaluator(fi, recorder, args, prog.output)
            witness = compute_witness(ev, plan, applicable(kinds, prog.output, args))
        except Invalid:
            return None                         # broken program (by construction this is rare)
        except Tie:
            continue
        return f, args, plan, witness
    return None


def run_program(index, config):
    """Generate program ``index`` of the campaign (regenerating until one has good inputs), check it."""
    loader, engine = _state(config)
    t0 = time.time()
    discarded = 0
    try:
        for attempt in range(PROGRAM_TRIES):
            prog = fuzzgen.generate((config.seed, index, attempt), *_weights(config))
            rng = np.random.default_rng([config.seed & 0xFFFFFFFF, index, attempt])
            chosen = choose_inputs(loader, prog, with_dependencies(config.checks), rng, f"p{index}a{attempt}")
            if chosen is None:
                discarded += 1
                continue
            f, args, plan, witness = chosen
            kinds = applicable(config.checks, prog.output, args)
            case = Case(prog.source, prog.name, prog.args, args, plan, prog.output, kinds)
            ctx = Ctx(engine, f, args, plan, witness, config.timeout)
            fresh_f = lambda: load_case(loader, prog.source, prog.name, f"p{index}u")[0]
            outcomes = run_checks(ctx, applicable(with_dependencies(kinds), prog.output, args), fresh_f)
            outcomes = {k: o for k, o in outcomes.items() if k in kinds}   # dependencies ran, not reported
            status = program_status(outcomes)
            result = ProgramResult(index, status, portable_case(case), sorted(prog.features), _portable(outcomes),
                                   discarded)
            if status in ("wrong", "error") and engine.has_optimizations:
                result.blame = blame(loader, engine, case, witness, outcomes, config)
            result.seconds = time.time() - t0
            return result
        raise RuntimeError(f"no usable program for slot {index} after {PROGRAM_TRIES} tries")
    finally:
        loader.cleanup()


def _weights(config):
    w = config.weights or {}
    return w.get("stmt"), w.get("expr"), w.get("program")


def _portable(outcomes):
    """Outcomes that survive pickling (got/want as arrays or reprs)."""
    out = {}
    for k, o in outcomes.items():
        o = copy.copy(o)
        for attr in ("got", "want"):
            v = getattr(o, attr)
            if not isinstance(v, (type(None), float, int, np.ndarray, np.floating, tuple, list, dict)) or \
                    is_namedtuple(v):
                setattr(o, attr, repr(v))
        out[k] = o
    return out


def rerun(loader, engine, case, kind, tag, config, witness=None):
    """Run check ``kind`` (with the checks it depends on) on ``case``, in a fresh module."""
    f, fi, recorder = load_case(loader, case.source, case.name, tag)
    args, plan = home(f, case.args, case.plan)          # records: instances of this load's classes
    case = Case(case.source, case.name, case.specs, args, plan, case.output, case.kinds)
    if witness is None:
        try:
            trial(f, fi, recorder, case.args, case.output)
            ev = Evaluator(fi, recorder, case.args, case.output)
            witness = compute_witness(ev, case.plan, [kind] + list(DEPENDS.get(kind, ())))
        except (Invalid, Tie) as e:
            return None, e
    kinds = set([kind]) | set(DEPENDS.get(kind, ()))
    kinds &= set(case.kinds) | {kind}
    ctx = Ctx(engine, f, case.args, case.plan, witness, config.timeout)
    outcomes = run_checks(ctx, kinds, lambda: load_case(loader, case.source, case.name, tag + "u")[0])
    return outcomes.get(kind), witness


def blame(loader, engine, case, witness, outcomes, config):
    """For each failing check: which single optimization, switched off, makes it pass."""
    out = {}
    for kind, o in outcomes.items():
        if not o.failed or kind == "unopt":
            continue
        try:
            with engine.optimizations(False):
                again, _ = rerun(loader, engine, case, kind, f"b{kind}0", config, witness)
            if again is not None and again.failed:
                out[kind] = "fails with every optimization off too"
                continue
            names = []
            for name in engine.optimization_names:
                with engine.optimizations(**{name: False}):
                    again, _ = rerun(loader, engine, case, kind, f"b{kind}{name}", config, witness)
                if again is not None and again.status == "passed":
                    names.append(name)
            out[kind] = names or "passes with all optimizations off, but no single one is to blame"
        except Exception as e:                     # the switch itself misbehaving must not stop the campaign
            out[kind] = f"could not tell ({type(e).__name__}: {e})"
    return out


# =============================================================================================
# Minimization (delta debugging on the AST)

def _count_nodes(tree):
    return sum(1 for _ in ast.walk(tree)) + sum(n.value for n in ast.walk(tree)
                                                if isinstance(n, ast.Constant) and type(n.value) is int)


def _edited(node, op, arg):
    """``node`` (a copy) after edit ``op``: None to delete it, a list of statements to inline."""
    if op == "delete":
        return None
    if op == "inline":
        return getattr(node, arg)
    if op == "child":
        return getattr(node, arg[0]) if arg[1] is None else getattr(node, arg[0])[arg[1]]
    if op in ("const", "int"):
        return ast.copy_location(ast.Constant(arg), node)
    if op == "drop_else":
        node.orelse = []
    elif op == "drop_kw":
        node.keywords = [k for j, k in enumerate(node.keywords) if j != arg]
    return node


def _fill_empty(tree):
    for node in ast.walk(tree):
        for fld in ("body", "orelse", "finalbody"):
            body = getattr(node, fld, None)
            if isinstance(body, list) and fld == "body" and not body and not isinstance(node, ast.Module):
                body.append(ast.Pass())
    return tree


def edits(tree, main_name):
    """The candidate edits of ``tree``, largest first: (op, node index, argument)."""
    stmts, blocks, exprs, ints = [], [], [], []
    index = {}
    for i, node in enumerate(_preorder(tree)):
        index[id(node)] = i
    # a record class's fields and __init__ stay: the arguments (and the reproducer's) are made with them
    kept = {id(d) for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for n in c.body
            if isinstance(n, ast.AnnAssign) or isinstance(n, ast.FunctionDef) and n.name == "__init__"
            for d in ast.walk(n)}
    for node in _preorder(tree):
        i = index[id(node)]
        if id(node) in kept:
            continue
        if isinstance(node, ast.stmt):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if isinstance(node, ast.FunctionDef) and node.name == main_name:
                continue
            stmts.append(("delete", i, None))
            if isinstance(node, (ast.If, ast.For, ast.While)):
                blocks.append(("inline", i, "body"))
                if node.orelse:
                    blocks.append(("inline", i, "orelse"))
                    blocks.append(("drop_else", i, None))
        elif isinstance(node, ast.expr) and not isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del)):
            if isinstance(node, ast.Constant):
                if type(node.value) is int and node.value > 1:
                    ints.append(("int", i, node.value - 1))
                    if node.value > 2:
                        ints.append(("int", i, 1))
                continue
            if isinstance(node, (ast.Name, ast.Starred, ast.Slice, ast.Attribute, ast.Lambda)):
                continue
            for fld, val in ast.iter_fields(node):
                if fld == "func":
                    continue
                if isinstance(val, ast.expr) and not isinstance(val, ast.Slice):
                    exprs.append(("child", i, (fld, None)))
                elif isinstance(val, list):
                    for j, item in enumerate(val):
                        if isinstance(item, ast.expr) and not isinstance(item, ast.Starred):
                            exprs.append(("child", i, (fld, j)))
            if not isinstance(node, (ast.Tuple, ast.List, ast.Dict, ast.Lambda)):
                exprs.append(("const", i, 1.0))
                exprs.append(("const", i, 0.5))
            if isinstance(node, ast.Call) and node.keywords:
                for j in range(len(node.keywords)):
                    exprs.append(("drop_kw", i, j))
    return stmts + blocks + exprs + ints


def _preorder(tree):
    out = []

    def walk(node):
        out.append(node)
        for child in ast.iter_child_nodes(node):
            walk(child)
    walk(tree)
    return out


def apply_edit(source, edit):
    tree = ast.parse(source)
    op, target, arg = edit
    nodes = _preorder(tree)                    # the numbering ``edits`` used
    node = nodes[target]
    parent_fields = _parents(tree)
    replacement = _edited(copy.deepcopy(node), op, arg)
    parent, fld, j = parent_fields[id(node)]
    if j is None:
        if replacement is None or isinstance(replacement, list):
            return None
        setattr(parent, fld, replacement)
    else:
        items = getattr(parent, fld)
        if replacement is None:
            del items[j]
        elif isinstance(replacement, list):
            items[j:j + 1] = replacement
        else:
            items[j] = replacement
    _fill_empty(tree)
    ast.fix_missing_locations(tree)
    try:
        return ast.unparse(tree) + "\n"
    except Exception:
        return None


def _parents(tree):
    out = {}
    for parent in _preorder(tree):
        for fld, val in ast.iter_fields(parent):
            if isinstance(val, ast.AST):
                out[id(val)] = (parent, fld, None)
            elif isinstance(val, list):
                for j, item in enumerate(val):
                    if isinstance(item, ast.AST):
                        out[id(item)] = (parent, fld, j)
    return out


def unused_params(case):
    """Indices of main-function parameters (not the first) that the body never reads."""
    tree = ast.parse(case.source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == case.name)
    names = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
    params = [a.arg for a in fn.args.args]
    return [k for k, p in enumerate(params) if k > 0 and p not in names and k < len(case.args)]


def drop_param(case, k):
    """``case`` without parameter ``k`` (and its input, tangent and wrt entry)."""
    tree = ast.parse(case.source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == case.name)
    params = fn.args.args
    ndefaults = len(fn.args.defaults)
    first_default = len(params) - ndefaults
    if k >= first_default:
        del fn.args.defaults[k - first_default]
    del params[k]
    plan = copy.deepcopy(case.plan)
    if k in plan.wrt and len(plan.wrt) == 1:
        return None
    plan.wrt = tuple(i - (i > k) for i in plan.wrt if i != k)
    plan.many = plan.many if len(plan.wrt) > 1 else plan.many
    plan.tangents = [t for i, t in enumerate(plan.tangents) if i != k]
    args = [a for i, a in enumerate(case.args) if i != k]
    specs = [s for i, s in enumerate(case.specs) if i != k]
    return Case(ast.unparse(tree) + "\n", case.name, specs, args, plan, case.output, case.kinds)


def minimize(result, config, seconds):
    """Shrink the failing program of ``result`` while the same check fails the same way."""
    loader, engine = _state(config)
    case = result.case
    failing = [o for o in result.outcomes.values() if o.failed]
    order = {"wrong": 0, "error": 1}
    target = sorted(failing, key=lambda o: (order[o.status], CHECKS.index(o.kind)))[0]
    signature = target.signature()
    deadline = time.time() + seconds
    tested = 0
    seen = set()

    def still_fails(c):
        nonlocal tested
        tested += 1
        try:
            o, _ = rerun(loader, engine, c, target.kind, f"m{result.index}n{tested}", config)
        except Exception:
            return None
        finally:
            loader.cleanup()
        if o is not None and o.signature() == signature:
            return o
        return None

    best, best_outcome = case, target
    best_size = _count_nodes(ast.parse(case.source))
    improved = True
    try:
        while improved and time.time() < deadline:
            improved = False
            for k in reversed(unused_params(best)):
                cand = drop_param(best, k)
                if cand is not None and time.time() < deadline:
                    o = still_fails(cand)
                    if o is not None:
                        best, best_outcome, improved = cand, o, True
            pos = 0
            cands = edits(ast.parse(best.source), best.name)
            while pos < len(cands) and time.time() < deadline:
                edit = cands[pos]
                pos += 1
                src = apply_edit(best.source, edit)
                if src is None or src in seen:
                    continue
                seen.add(src)
                try:
                    size = _count_nodes(ast.parse(src))
                except SyntaxError:
                    continue
                if size >= best_size:
                    continue
                cand = Case(src, best.name, best.specs, best.args, best.plan, best.output, best.kinds)
                o = still_fails(cand)
                if o is not None:
                    best, best_outcome, best_size, improved = cand, o, size, True
                    cands = edits(ast.parse(best.source), best.name)
                    pos = max(0, pos - 1)
    finally:
        loader.cleanup()
    return best, best_outcome, tested


def minimize_task(payload):
    """Pool task: minimize one failure and compute its blame again; returns (index, case, outcome, blame, n, s)."""
    result, config, seconds = payload
    loader, engine = _state(config)
    t0 = time.time()
    try:
        case, outcome, n = minimize(result, config, seconds) if seconds > 0 else \
            (result.case, _first_failure(result), 0)
        blamed = {}
        if engine.has_optimizations and case is not result.case:
            witness = None
            try:
                f, fi, rec = load_case(loader, case.source, case.name, f"mb{result.index}")
                args, plan = home(f, case.args, case.plan)
                witness = compute_witness(Evaluator(fi, rec, args, case.output), plan, case.kinds)
                outs = {outcome.kind: outcome}
                blamed = blame(loader, engine, case, witness, outs, config)
            except Exception:
                blamed = result.blame
            finally:
                loader.cleanup()
        else:
            blamed = result.blame
        return result.index, case, _portable({"x": outcome})["x"], blamed, n, time.time() - t0
    except Exception as e:
        return result.index, result.case, _first_failure(result), result.blame, -1, time.time() - t0


def _first_failure(result):
    order = {"wrong": 0, "error": 1}
    failing = [o for o in result.outcomes.values() if o.failed]
    return sorted(failing, key=lambda o: (order[o.status], CHECKS.index(o.kind)))[0]


# =============================================================================================
# Reproducers

REPRO_HELPERS = '''

def _fields(x):
    """A record's float and float-array fields (a dataclass instance or a plain object); None otherwise."""
    if not hasattr(x, '__dict__') or isinstance(x, (np.ndarray, np.generic, float, int, tuple, list, dict)):
        return None
    return {k: v for k, v in vars(x).items()
            if isinstance(v, float) or (isinstance(v, np.ndarray) and v.dtype.kind == 'f')}


def _show(x):
    """``x`` printed with its records' fields (a record's repr may not show them)."""
    if isinstance(x, (list, tuple)) and not hasattr(type(x), '_fields'):
        return type(x)(_show(v) for v in x)
    if _fields(x) is not None:
        return type(x).__name__ + '(' + ', '.join(f'{k}={v!r}' for k, v in vars(x).items()) + ')'
    return x


def _leaves(x):
    if isinstance(x, dict):
        return [l for v in x.values() for l in _leaves(v)]
    if isinstance(x, (list, tuple)):
        return [l for v in x for l in _leaves(v)]
    if _fields(x) is not None:
        return [l for v in _fields(x).values() for l in _leaves(v)]
    return list(np.ravel(np.asarray(x, dtype=float)))


def _rebuild(z, x):
    if isinstance(x, dict):
        out = {}
        for k, v in x.items():
            out[k], z = _rebuild(z, v)
        return out, z
    if isinstance(x, (list, tuple)):
        items = []
        for v in x:
            item, z = _rebuild(z, v)
            items.append(item)
        if hasattr(type(x), '_fields'):
            return type(x)(*items), z
        return (tuple(items) if isinstance(x, tuple) else items), z
    if _fields(x) is not None:
        out = object.__new__(type(x))
        out.__dict__.update(vars(x))
        for k, v in _fields(x).items():
            out.__dict__[k], z = _rebuild(z, v)
        return out, z
    if isinstance(x, np.ndarray):
        return np.array(z[:x.size]).reshape(x.shape), z[x.size:]
    return type(x)(z[0]) if isinstance(x, np.floating) else float(z[0]), z[1:]


def _with(args, k, z):
    args = [copy.deepcopy(a) for a in args]
    args[k] = _rebuild(np.asarray(z, dtype=float), args[k])[0]
    return args


def fd_grad(fun, args, k, h=1e-6):
    """Central differences of scalar fun(*args) with respect to argument k (any structure)."""
    z = np.array(_leaves(args[k]))
    out = []
    for i in range(z.size):
        e = np.zeros(z.size)
        e[i] = h * max(1.0, abs(z[i]))
        out.append((fun(*_with(args, k, z + e)) - fun(*_with(args, k, z - e))) / (2 * e[i]))
    return _rebuild(np.array(out), args[k])[0]


def fd_jvp(fun, args, tangents, h=1e-6):
    """Central difference of fun(*args) along tangents (None: held constant)."""
    def moved(t):
        out = [copy.deepcopy(a) for a in args]
        for k, d in enumerate(tangents):
            if d is not None:
                out[k] = _rebuild(np.array(_leaves(args[k])) + t * np.array(_leaves(d)), args[k])[0]
        return np.asarray(fun(*out), dtype=float)
    return (moved(h) - moved(-h)) / (2 * h)


def fd_hvp(fun, args, v, h=1e-4):
    """Differences of finite-difference gradients (argument 0) along v."""
    def g(t):
        z = np.array(_leaves(args[0])) + t * np.array(_leaves(v))
        return np.array(_leaves(fd_grad(fun, _with(args, 0, z), 0, h=1e-4)))
    return (g(h) - g(-h)) / (2 * h)
'''


def _repro_check_code(kind, case, outcome):
    p = case.plan
    wrt = p.wrt_arg()
    lines = []
    if kind in ("reverse", "fwd-rev", "unopt"):
        if case.output == "scalar":
            lines += [f"    value, got = s2sad.value_and_grad(f, wrt={wrt!r})(*copy.deepcopy(args))",
                      f"    want = [fd_grad(f, args, k) for k in {tuple(p.wrt)!r}]"]
        else:
            lines += [f"    value, pullback = s2sad.vjp(f, *copy.deepcopy(args), wrt={wrt!r})",
                      "    got = pullback(u)",
                      f"    want = [fd_grad(lambda *a: float(np.dot(f(*a), u)), args, k) for k in {tuple(p.wrt)!r}]"]
        lines += ["    print('s2sad value:        ', value)", "    print('f(*args):           ', f(*copy.deepcopy(args)))",
                  "    print('s2sad gradient:     ', _show(got))", "    print('finite differences: ', _show(want))"]
    if kind in ("forward", "fwd-rev", "unopt"):
        lines += ["    value, tangent = s2sad.jvp(f, copy.deepcopy(args), tangents)",
                  "    print('s2sad.jvp value:    ', value)", "    print('f(*args):           ', f(*copy.deepcopy(args)))",
                  "    print('s2sad.jvp tangent:  ', tangent)",
                  "    print('finite differences: ', fd_jvp(f, args, tangents))"]
    if kind == "fwd-rev":
        if case.output == "scalar":
            lines += [f"    dot = sum(np.dot(_leaves(g), _leaves(tangents[k])) for g, k in zip("
                      f"{'got' if p.many else '(got,)'}, {tuple(p.wrt)!r}))",
                      "    print('<grad, tangent>:    ', dot)"]
    if kind == "hvp":
        lines += ["    got = s2sad.hvp(f, wrt=0)(args[0], v, *args[1:])   # the vector right after argument 0",
                  "    print('s2sad.hvp:          ', _show(got))",
                  "    print('finite differences: ', _show(fd_hvp(f, args, v)))"]
    if kind == "grad-grad":
        lines += ["    got = s2sad.grad(s2sad.grad(f, wrt=0), wrt=0)(*args)",
                  "    print('s2sad:              ', got)",
                  "    print('finite differences: ', fd_hvp(f, args, 1.0))"]
    if kind == "unopt":                   # the same calls through the unoptimized pipeline
        call = f"s2sad.grad(f, wrt={wrt!r})(*copy.deepcopy(args))" if case.output == "scalar" else \
            f"s2sad.vjp(f, *copy.deepcopy(args), wrt={wrt!r})[1](u)"
        lines += ["    with s2sad.optimizations(False):",
                  f"        print('unoptimized grad:   ', _show({call}))",
                  "        print('unoptimized jvp:    ', s2sad.jvp(f, copy.deepcopy(args), tangents))"]
    return "\n".join(lines)


def write_reproducer(out_dir, config, result, case, outcome, blamed, minimized):
    os.makedirs(out_dir, exist_ok=True)
    kind = outcome.kind
    name = f"{outcome.status}_{kind}_s{config.seed}_p{result.index:05d}.py"
    path = os.path.join(out_dir, name)
    src = case.source.replace(fuzzgen.SUFFIX, "").rstrip() + "\n"
    fname = case.name.replace(fuzzgen.SUFFIX, "")
    p = case.plan
    doc = [f"s2sad fuzz reproducer: {outcome.status} in check `{kind}`",
           f"campaign seed {config.seed}, program {result.index}; {'minimized' if minimized else 'not minimized'}",
           f"engine: {config.engine}", "",
           f"failing call: {outcome.call}"]
    if outcome.status == "wrong":
        doc += [f"s2sad returned:  {_short_np(outcome.got)}", f"witness says:    {_short_np(outcome.want)}",
                f"({outcome.detail})"]
    else:
        doc += ["exception:", *["    " + line for line in outcome.detail.strip().splitlines()[-12:]]]
    if blamed:
        doc += ["", f"optimization to blame: {blamed.get(kind, blamed)}"]
    doc += ["", "Run: python " + name]
    body = [
        '"""' + "\n".join(doc).replace('"""', "'''").replace("\\", "\\\\") + '\n"""',
        "import copy",
        "import math",
        "import warnings",
        "",
        "import numpy as np",
        "",
        "import s2sad",
        "",
        "# ---- the program " + "-" * 60,
        src.replace("import math\nimport numpy as np\n", "").strip("\n"),
        "",
        "",
        "# ---- inputs " + "-" * 65,
        *([f"f = {fname}"] if fname != "f" else []),
        f"args = [{', '.join(srepr(a) for a in case.args)}]",
        f"tangents = [{', '.join(srepr(t) if t is not None else 'None' for t in p.tangents)}]",
        f"v = {srepr(p.hv)}",
        f"u = {srepr(p.cot) if p.output == 'array' else 'None'}",
        REPRO_HELPERS,
        "",
        "def main():",
        "    warnings.simplefilter('ignore', s2sad.ZeroGradientWarning)",
        _repro_check_code(kind, case, outcome),
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
        "",
    ]
    with open(path, "w") as fh:
        fh.write("\n".join(body))
    return path


def _short_np(v):
    if isinstance(v, np.ndarray):
        with np.printoptions(precision=10, threshold=20):
            return repr(v)
    return _short(v)


# =============================================================================================
# Campaign

def run_campaign(config, programs, seconds, jobs):
    """Run the programs (in a pool of ``jobs`` processes; 0 = in this process) and return the
    results in index order."""
    results = {}
    start = time.time()
    deadline = start + seconds if seconds else None

    def more(i):
        if programs is not None and i >= programs:
            return False
        return deadline is None or time.time() < deadline

    worker_init(config)      # here first: an engine that cannot be made (s2sad not importable) stops the campaign
    if jobs <= 0:            # with its error, where a pool would restart failing workers without end
        i = 0
        while more(i):
            results[i] = run_program(i, config)
            _progress(config, results[i])
            i += 1
        return [results[k] for k in sorted(results)]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, initializer=worker_init, initargs=(config,), maxtasksperchild=150) as pool:
        pending = {}
        i = 0
        while True:
            while len(pending) < 2 * jobs and more(i):
                pending[i] = pool.apply_async(run_program, (i, config))
                i += 1
            if not pending:
                break
            done = [k for k, r in pending.items() if r.ready()]
            if not done:
                time.sleep(0.005)
                continue
            for k in sorted(done):
                results[k] = pending.pop(k).get()
                _progress(config, results[k])
    return [results[k] for k in sorted(results)]


def _progress(config, r):
    if config.verbose:
        fails = ", ".join(f"{k}:{o.status}" for k, o in r.outcomes.items() if o.status not in ("passed",))
        print(f"  program {r.index:5d} {r.status:11s} {r.seconds:5.2f}s  {fails}", flush=True)


def minimize_failures(results, config, out_dir, jobs, max_minimize, seconds):
    """Write a reproducer per failing program; the first ``max_minimize`` are minimized first."""
    failing = [r for r in results if r.status in ("wrong", "error")]
    failing.sort(key=lambda r: (0 if r.status == "wrong" else 1, r.index))
    to_min = [r for r in failing[:max_minimize]] if seconds > 0 else []
    done = {}
    if to_min:
        payloads = [(r, config, seconds) for r in to_min]
        if jobs <= 0:
            for pl in payloads:
                out = minimize_task(pl)
                done[out[0]] = out
        else:
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(min(jobs, len(payloads)), initializer=worker_init, initargs=(config,),
                          maxtasksperchild=4) as pool:
                for out in pool.imap(minimize_task, payloads):
                    done[out[0]] = out
    paths = []
    for r in sorted(failing, key=lambda r: r.index):
        if r.index in done:
            _, case, outcome, blamed, n, _ = done[r.index]
            minimized = n > 0 and case is not r.case and case.source != r.case.source
        else:
            case, outcome, blamed, minimized = r.case, _first_failure(r), r.blame, False
        paths.append((r, write_reproducer(out_dir, config, r, case, outcome, blamed, minimized), minimized))
    return paths


def summarize(results, config, elapsed, paths, jobs):
    n = len(results)
    counts = {s: sum(1 for r in results if r.status == s) for s in STATUS_ORDER}
    per_check = {k: {s: 0 for s in ("passed", "wrong", "error", "refused", "skipped")} for k in config.checks}
    reasons = {}
    features_bad = {}
    features_all = {}
    for r in results:
        for k, o in r.outcomes.items():
            if k in per_check:
                per_check[k][o.status] += 1
        for reason in sorted({o.reason for o in r.outcomes.values() if o.status == "refused"}):
            reasons[reason] = reasons.get(reason, 0) + 1
        for feat in r.features:
            features_all[feat] = features_all.get(feat, 0) + 1
            if r.status in ("wrong", "error"):
                features_bad.setdefault(feat, [0, 0])[0 if r.status == "wrong" else 1] += 1
    discarded = sum(r.discarded for r in results)
    lines = [f"fuzz: engine {config.engine}, seed {config.seed}, {n} programs ({discarded} generated programs "
             f"discarded: no inputs away from ties or not runnable), {jobs} job(s), {elapsed:.1f} s"]
    lines.append("")
    lines.append(f"{'check':10s} {'passed':>7s} {'wrong':>6s} {'error':>6s} {'refused':>8s} {'skipped':>8s}")
    for k, c in per_check.items():
        lines.append(f"{k:10s} {c['passed']:7d} {c['wrong']:6d} {c['error']:6d} {c['refused']:8d} {c['skipped']:8d}")
    if "unopt" in per_check and per_check["unopt"]["skipped"] == n and n:
        lines.append("(unopt: s2sad has no `optimizations` switch yet: skipped)")
    lines.append("")
    if reasons:
        lines.append("refusals (programs) by construct/reason:")
        for reason, c in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {c:5d}  {reason[:150]}")
        lines.append("")
    errors = {}
    for r in results:
        for o in r.outcomes.values():
            if o.status == "error":
                key = o.detail.splitlines()[0][:120] if o.detail else o.exc_type
                key = re.sub(r"_p\d+a\d+_\d+_\d+", "", key)
                errors[key] = errors.get(key, 0) + 1
    if errors:
        lines.append("errors (checks) by exception:")
        for key, c in sorted(errors.items(), key=lambda kv: -kv[1])[:25]:
            lines.append(f"  {c:5d}  {key}")
        lines.append("")
    if features_bad:
        lines.append("features of failing programs (wrong, error / programs with the feature):")
        rows = sorted(features_bad.items(), key=lambda kv: -(kv[1][0] + kv[1][1]) / features_all[kv[0]])
        for feat, (w, e) in rows[:20]:
            lines.append(f"  {feat:20s} {w:4d} {e:4d} / {features_all[feat]}")
        lines.append("")
    blames = [(r.index, r.blame) for r in results if r.blame]
    if blames:
        lines.append("optimizations to blame:")
        for idx, b in blames[:30]:
            lines.append(f"  program {idx}: {b}")
        lines.append("")
    if paths:
        nmin = sum(1 for _, _, m in paths if m)
        lines.append(f"reproducers ({len(paths)} written, {nmin} minimized):")
        for r, path, m in paths:
            lines.append(f"  {path}")
        lines.append("")
    lines.append(f"fuzz: {counts['passed']} passed, {counts['wrong']} wrong, {counts['error']} errors, "
                 f"{counts['unsupported']} unsupported of {n}")
    return lines, per_check, reasons, counts


def write_report(path, config, results, per_check, reasons, counts, elapsed):
    n = len(results)
    out = [f"# s2sad fuzz report", "",
           f"`python tools/fuzz.py --seed {config.seed} --programs {n}` (engine {config.engine}), {elapsed:.0f} s.", "",
           f"**{counts['passed']} passed, {counts['wrong']} wrong, {counts['error']} errors, "
           f"{counts['unsupported']} unsupported of {n} programs.**", "",
           "| check | passed | wrong | error | refused | skipped |", "|---|---|---|---|---|---|"]
    for k, c in per_check.items():
        out.append(f"| {k} | {c['passed']} | {c['wrong']} | {c['error']} | {c['refused']} | {c['skipped']} |")
    out += ["", "## Refusals by construct", "", "| programs | reason |", "|---|---|"]
    for reason, c in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(f"| {c} | {reason.replace('|', '/')[:200]} |")
    feats = {}
    for r in results:
        for feat in r.features:
            row = feats.setdefault(feat, {"programs": 0, "wrong": 0, "error": 0, "unsupported": 0})
            row["programs"] += 1
            if r.status in row:
                row[r.status] += 1
    out += ["", "## Constructs (generator features)", "",
            "| feature | programs | wrong | error | unsupported |", "|---|---|---|---|---|"]
    for feat, row in sorted(feats.items(), key=lambda kv: -kv[1]["programs"]):
        out.append(f"| {feat} | {row['programs']} | {row['wrong']} | {row['error']} | {row['unsupported']} |")
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--programs", type=int, default=None, help="number of programs (default 100, or unbounded "
                    "with --seconds)")
    ap.add_argument("--seconds", type=float, default=None, help="generate programs for this long")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="fuzz-failures", help="directory for reproducers")
    ap.add_argument("--checks", default=",".join(CHECKS), help="comma-separated subset of " + ",".join(CHECKS))
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (0: run in this process)")
    ap.add_argument("--report", default=None, help="write a markdown summary to this file")
    ap.add_argument("--minimize", type=int, default=4, help="minimize at most this many failures (the rest are "
                    "written unminimized); 0: none")
    ap.add_argument("--minimize-seconds", type=float, default=15.0, help="time budget per minimized failure")
    ap.add_argument("--timeout", type=float, default=CALL_TIMEOUT, help="seconds allowed for one s2sad call")
    ap.add_argument("--weights", default=None, help='JSON overriding generator weights, e.g. '
                    '\'{"stmt": {"while_data": 5}, "expr": {"kink": 0}, "program": {"array_output": 0.3}}\'')
    ap.add_argument("--engine", default="s2sad", choices=("s2sad", "fd", "fd-bug"),
                    help="self-test: 'fd' is a correct finite-difference 'AD' (expect 0 wrong), 'fd-bug' a wrong one")
    ap.add_argument("-v", "--verbose", action="store_true")
    opts = ap.parse_args(argv)
    checks = tuple(c.strip() for c in opts.checks.split(",") if c.strip())
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        ap.error(f"unknown checks {unknown}; choose from {','.join(CHECKS)}")
    programs = opts.programs if opts.programs is not None else (None if opts.seconds else 100)
    config = Config(seed=opts.seed, checks=checks, engine=opts.engine, timeout=opts.timeout,
                    weights=json.loads(opts.weights) if opts.weights else {}, verbose=opts.verbose)
    if os.path.isdir(opts.out):
        for name in os.listdir(opts.out):
            if name.endswith(".py") and name.startswith(("wrong_", "error_")):
                os.remove(os.path.join(opts.out, name))
    t0 = time.time()
    results = run_campaign(config, programs, opts.seconds, opts.jobs)
    t1 = time.time()
    paths = minimize_failures(results, config, opts.out, opts.jobs, opts.minimize, opts.minimize_seconds)
    elapsed = time.time() - t0
    lines, per_check, reasons, counts = summarize(results, config, elapsed, paths, max(opts.jobs, 1))
    lines[0] += f" (checking {t1 - t0:.1f} s, minimizing and writing reproducers {time.time() - t1:.1f} s)"
    if opts.report:
        write_report(opts.report, config, results, per_check, reasons, counts, elapsed)
        lines.insert(-1, f"report written to {opts.report}")
    print("\n".join(lines), flush=True)
    if _STATE.get("loader"):
        _STATE["loader"].close()
    return 0 if counts["wrong"] == 0 and counts["error"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
