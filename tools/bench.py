#!/usr/bin/env python
"""Benchmark s2sad against a hand-written gradient, autograd, JAX and PyTorch.

    python tools/bench.py                                # everything, printed as tables
    python tools/bench.py --markdown docs/benchmarks.md  # ... and written as the report
    python tools/bench.py --quick                        # short timing budgets (a smoke test)
    python tools/bench.py --problems mlp,gmm --tools s2sad,hand,jax
    python tools/bench.py --variants float32,list        # only some input variants
    python tools/bench.py --check-only                   # no timing: check every gradient, count lines

Seven problems (``tools/bench_problems.py``), each a plain Python/NumPy function plus a
careful hand-written reverse-mode gradient, checked against central finite differences
when the benchmark starts, each on several kinds of input (``--variants``: Python floats,
``np.float64`` scalars, parameters packed in one array or in a list of floats, for the
scalar problems; float64 and float32 arrays for the array problems), each variant with a
hand-written gradient taking the same inputs. Every (tool, problem, variant) runs in its
own fresh process, ``python tools/bench.py --tool TOOL --problem PROBLEM --variant V --json``,
with BLAS and XLA pinned to one thread. The tool's first result is checked against the
hand-written gradient (the variant's tolerance, float32 included; s2sad's float32 gradients
must be float32): a wrong gradient is reported and never timed, a program s2sad refuses is
reported as refused. Then:

* primal time (the tool's own forward evaluation) and value-and-gradient time: medians
  of repeated timings (timeit-style: gc off, calls batched so a sample lasts >= 10 ms,
  the repeat count chosen so each measurement takes about ``--budget`` seconds);
* first call: the time of the very first value-and-gradient call in the fresh process
  minus a normal call (s2sad: the source transformation and compilation; JAX jit:
  tracing and XLA compilation, with a timeout ``--jit-timeout``);
* stored bytes: what the forward sweep keeps alive for the backward sweep (see
  :func:`retained_bytes`);
* the gradient's largest error relative to the hand-written one;
* (s2sad) the lines of its generated ``value_and_grad`` code over the hand-written gradient's.

Tools: ``s2sad``, ``hand``, ``autograd``, ``jax`` (eager), ``jax-jit``, ``torch`` (eager).
A tool that is not installed is skipped; one that fails on a problem is reported so.
Install the comparison tools with ``pip install -e ".[bench]"`` (PyTorch exactly
``torch==2.13.0``, the CPU wheel; other specs pull the CUDA packages).
"""
import os

# Pin every BLAS / OpenMP / XLA thread pool to one thread before anything imports numpy.
_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "JAX_PLATFORMS": "cpu",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}
os.environ.update(_THREAD_ENV)

import argparse                    # noqa: E402
import datetime                    # noqa: E402
import gc                          # noqa: E402
import json                        # noqa: E402
import math                        # noqa: E402
import platform                    # noqa: E402
import queue                       # noqa: E402
import statistics                  # noqa: E402
import subprocess                  # noqa: E402
import sys                         # noqa: E402
import tempfile                    # noqa: E402
import threading                   # noqa: E402
import time                        # noqa: E402
import traceback                   # noqa: E402
import tracemalloc                 # noqa: E402
import types                       # noqa: E402
from importlib import metadata     # noqa: E402
from pathlib import Path           # noqa: E402

import numpy as np                 # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]     # this checkout's s2sad, not an installed one
import bench_problems as bp        # noqa: E402

TOOLS = ["s2sad", "hand", "autograd", "jax", "jax-jit", "torch"]
TOOL_NAMES = {"s2sad": "s2sad", "hand": "hand-written", "autograd": "autograd", "jax": "JAX eager",
              "jax-jit": "JAX jit", "torch": "PyTorch eager"}
TOOL_PACKAGES = {"autograd": "autograd", "jax": "jax", "jax-jit": "jax", "torch": "torch"}
GOALS = {"ratio_hand": 1.2, "ratio_primal": 3.0, "transform": 0.150, "bytes": 1.5,
         "hand_primal": 2.5}      # gradient / primal <= 3 applies where the hand-written one is <= 2.5
SEED = 0
PREFIX = "BENCH "


# =============================================================================================
# Measuring
# =============================================================================================
def bench(fn, budget, min_repeats=5, sample_time=0.01, warm=True):
    """Median seconds per call of ``fn()``: timeit-style (gc off, calls batched into samples of
    at least ``sample_time``), with as many samples as fit in ``budget`` seconds (at least
    ``min_repeats``, 3 when one call alone is slower than a third of the budget)."""
    if warm:
        fn()
    number = 1
    while True:                                             # timeit.autorange
        t = _run(fn, number)
        if t >= sample_time or number >= 10 ** 7:
            break
        number *= 10 if t < sample_time / 10 else 2
    per_sample = max(t, 1e-9)
    repeats = int(budget / per_sample)
    repeats = max(min(repeats, 2000), 3 if per_sample > budget / 3 else min_repeats)
    samples = [t / number]
    for _ in range(repeats - 1):
        samples.append(_run(fn, number) / number)
    return {"median": statistics.median(samples), "min": min(samples), "number": number,
            "repeats": len(samples)}


def _run(fn, number):
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def _mark(obj, seen):
    """Ids of everything reachable from ``obj`` through containers and array bases."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            if o.base is not None:
                stack.append(o.base)
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
        elif isinstance(o, dict):
            stack.extend(o.values())


_NOT_COUNTED = (type(None), bool, types.ModuleType, type, types.BuiltinFunctionType, types.CodeType)


def retained_bytes(pullback, inputs):
    """Bytes a pullback closure keeps alive, not counting its inputs.

    A recursive walk from the closure: a function counts itself, its closure tuple and its
    cells, then whatever the cells hold (nested pullback closures included; never its
    globals or code); containers count themselves and their items; arrays count
    ``sys.getsizeof`` (header plus data when they own it, so a view counts its header only)
    and lead on to their base; numbers, strings and other objects count ``sys.getsizeof``.
    Every object is counted once, and nothing reachable from ``inputs`` (the function's
    arguments, which the caller keeps anyway) is counted.
    """
    seen = set()
    _mark(inputs, seen)
    total = 0
    stack = [pullback]
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, _NOT_COUNTED):
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        if isinstance(o, np.ndarray):
            if o.base is not None:
                stack.append(o.base)
        elif isinstance(o, (list, tuple, set, frozenset)):
            stack.extend(o)
        elif isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, types.FunctionType):
            for cell in o.__closure__ or ():
                if id(cell) in seen:
                    continue
                seen.add(id(cell))
                total += sys.getsizeof(cell)
                try:
                    stack.append(cell.cell_contents)
                except ValueError:                  # an empty cell
                    pass
            if o.__closure__:
                total += sys.getsizeof(o.__closure__)
        elif isinstance(o, types.MethodType):
            stack.append(o.__self__)
            stack.append(o.__func__)
    return total


def retained_by_name(pullback, inputs, top=8):
    """The largest of ``pullback``'s captured variables: ``[[name, bytes], ...]`` (each walked on its own)."""
    cells = zip(pullback.__code__.co_freevars, pullback.__closure__ or ())
    sizes = []
    for name, cell in cells:
        try:
            contents = cell.cell_contents
        except ValueError:
            continue
        size = retained_bytes(contents, inputs)
        if size:
            sizes.append([name, size])
    sizes.sort(key=lambda item: -item[1])
    return sizes[:top], len(sizes)


def traced_retained(make):
    """tracemalloc's count of the bytes allocated by ``make()`` and still alive while its result is."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = make()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del result
    return after - before


# =============================================================================================
# One tool on one problem (the child process)
# =============================================================================================
class Reporter:
    """The child's side of the protocol: the result so far, re-sent after every stage."""

    def __init__(self, tool, problem, variant):
        self.result = {"tool": tool, "problem": problem, "variant": variant}

    def stage(self, name):
        self._send({"stage": name})

    def update(self, **items):
        self.result.update(items)
        self._send({"result": self.result})

    def _send(self, message):
        sys.stdout.write(PREFIX + json.dumps(message) + "\n")
        sys.stdout.flush()


class WrongGradient(Exception):
    """A tool's gradient is not the hand-written one: it is reported, never timed."""


def run_child(tool, key, variant, budget, check_only=False):
    case = Case(key, variant, check_only)
    out = Reporter(tool, key, variant)
    try:
        RUNNERS[tool](case, budget, out)
        out.update(ok=True)
    except Exception as exc:                                       # reported, not raised
        out.update(ok=False, error=f"{type(exc).__name__}: {exc}".strip()[:2000],
                   traceback=traceback.format_exc()[-4000:])
        if isinstance(exc, WrongGradient):
            out.update(wrong=True)
        elif tool == "s2sad" and _is_refusal(exc):
            out.update(refused=True)


def _is_refusal(exc):
    """An error s2sad raises on purpose (it refuses the program, naming the construct)."""
    from s2sad.errors import S2SadError
    return isinstance(exc, S2SadError)


class Case:
    """One problem on one kind of input (``bench_problems.Variant``), as a child process runs it."""

    def __init__(self, key, variant, check_only):
        self.key, self.variant, self.check_only = key, variant, check_only
        self.spec = bp.variant(key, variant)
        self.f, self.hand = self.spec.f, self.spec.hand


def _problem_setup(case):
    args, wrt = case.spec.make_args(np.random.default_rng(SEED))
    hand_value, hand_grads = bp.hand_value_and_grad(case.spec)(*args)
    return args, wrt, hand_value, hand_grads


def _timings(out, case, primal, value_and_grad, budget, check, jit=False):
    """first call (fresh process), ``check`` of its result (a wrong gradient is never timed), then
    primal and value-and-gradient medians (not with ``--check-only``).

    ``jit``: the first calls compile (stages the parent gives ``--jit-timeout``)."""
    out.stage("compile" if jit else "first-call")
    start = time.perf_counter()
    value, grads = value_and_grad()
    first = time.perf_counter() - start
    out.update(first_call=first)
    out.stage("check")
    check(value, grads)
    if case.check_only:
        return value, grads
    if jit:
        out.stage("compile-primal")
        start = time.perf_counter()
        primal()
        out.update(primal_first_call=time.perf_counter() - start)
    out.stage("primal")
    out.update(primal=bench(primal, budget * 0.35))
    out.stage("grad")
    grad = bench(value_and_grad, budget, warm=False)              # the first call warmed it
    out.update(grad=grad, first_extra=first - grad["median"])
    return value, grads


def _checker(out, case, hand_value, hand_grads, dtype=None):
    """The check of a tool's first result against the hand-written one: value and gradient within the
    variant's tolerance (``bench_problems.compare``; with ``dtype``, the gradient's arrays of that dtype)."""
    def check(value, grads):
        value = float(np.asarray(value.detach() if hasattr(value, "detach") else value))
        value_error = abs(value - float(hand_value)) / max(abs(float(hand_value)), 1e-300)
        error, problem = bp.compare(grads, hand_grads, case.variant, dtype)
        out.update(value_error=value_error, grad_error=error)
        if problem is None and not value_error <= bp.tolerance(case.variant):
            problem = f"value {value!r} differs from the hand-written {float(hand_value)!r} by {value_error:.1e}"
        if problem is not None:
            raise WrongGradient(f"{problem}; not timed")
    return check


def run_s2sad(case, budget, out):
    import s2sad
    out.update(version=_version("s2sad"), hand_lines=bp.hand_lines(case.spec))
    args, wrt, hand_value, hand_grads = _problem_setup(case)
    f = case.f
    f(*args)                                   # numpy's own first-call costs are not s2sad's
    vg = s2sad.value_and_grad(f, wrt=wrt)
    dtype = np.float32 if case.variant == "float32" else None
    _timings(out, case, lambda: f(*args), lambda: vg(*args), budget, _checker(out, case, hand_value, hand_grads, dtype))
    if "first_extra" in out.result:
        out.update(transform=out.result["first_extra"])
    out.stage("lines")
    out.update(generated_lines=bp.code_lines(s2sad.api.adjoint_source(f, wrt, "value_and_grad", args)))
    if case.check_only:
        return
    out.stage("bytes")
    s2sad.vjp(f, *args, wrt=wrt)               # transform the vjp kind before counting
    value, vjp_fn = s2sad.vjp(f, *args, wrt=wrt)
    cells = dict(zip(vjp_fn.__code__.co_freevars, vjp_fn.__closure__ or ()))
    backward = cells["backward"].cell_contents if "backward" in cells else vjp_fn
    out.update(stored_bytes=retained_bytes(backward, args), stored_by_name=retained_by_name(backward, args),
               traced_bytes=traced_retained(lambda: s2sad.vjp(f, *args, wrt=wrt)))


def run_hand(case, budget, out):
    out.update(version="", hand_lines=bp.hand_lines(case.spec))
    args, wrt, hand_value, hand_grads = _problem_setup(case)
    f = case.f
    vg = bp.hand_value_and_grad(case.spec)
    f(*args)
    value, grads = _timings(out, case, lambda: f(*args), lambda: vg(*args), budget,
                            _checker(out, case, hand_value, hand_grads))
    out.update(fd_error=bp.directional_check(f, args, wrt, grads, np.random.default_rng(1)))
    if case.check_only:
        return
    out.stage("bytes")
    value, pullback = case.hand(*args)
    out.update(stored_bytes=retained_bytes(pullback, args), stored_by_name=retained_by_name(pullback, args),
               traced_bytes=traced_retained(lambda: case.hand(*args)))


def _split(args, wrt):
    return ((wrt,) if isinstance(wrt, int) else tuple(wrt)), isinstance(wrt, int)


def run_autograd(case, budget, out):
    import autograd
    import autograd.numpy as anp
    out.update(version=_version("autograd"))
    args, wrt, hand_value, hand_grads = _problem_setup(case)
    f = bp.rebind(case.f, np=anp, math=bp.MathLike(anp))
    idx, single = _split(args, wrt)
    if single:
        vg_fn = autograd.value_and_grad(f, idx[0])
        value_and_grad = lambda: vg_fn(*args)                       # noqa: E731
    else:
        def packed(wrt_values, *rest):
            full = list(rest)
            for i, v in zip(idx, wrt_values):
                full[i] = v
            return f(*full)
        vg_fn = autograd.value_and_grad(packed, 0)
        wrt_values = tuple(args[i] for i in idx)
        value_and_grad = lambda: vg_fn(wrt_values, *args)           # noqa: E731
    f(*args)
    _timings(out, case, lambda: f(*args), value_and_grad, budget, _checker(out, case, hand_value, hand_grads))


def _jax():
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    return jax, jnp


def _to_jax(args, wrt, jnp):
    """Arrays as JAX arrays; differentiated Python floats as 0-d float64 JAX arrays (like PyTorch's 0-d tensors)."""
    idx = (wrt,) if isinstance(wrt, int) else tuple(wrt)

    def convert(x, differentiated):
        if isinstance(x, np.ndarray):
            return jnp.asarray(x)
        if isinstance(x, (list, tuple)):
            return type(x)(convert(v, differentiated) for v in x)
        if isinstance(x, float) and differentiated:
            return jnp.asarray(x, dtype=jnp.float64)
        return x
    return [convert(a, i in idx) for i, a in enumerate(args)]


def run_jax(case, budget, out):
    jax, jnp = _jax()
    out.update(version=_version("jax"))
    args, wrt, hand_value, hand_grads = _problem_setup(case)
    f = bp.rebind(case.f, np=jnp, math=bp.MathLike(jnp))
    jargs = _to_jax(args, wrt, jnp)
    vg = jax.value_and_grad(f, argnums=wrt)
    block = jax.block_until_ready
    _timings(out, case, lambda: block(f(*jargs)), lambda: block(vg(*jargs)), budget,
             _checker(out, case, hand_value, hand_grads))
    if case.check_only:
        return
    out.stage("bytes")
    idx, _ = _split(args, wrt)

    def partial(*wrt_values):
        full = list(jargs)
        for i, v in zip(idx, wrt_values):
            full[i] = v
        return f(*full)
    _, vjp_fn = jax.vjp(partial, *(jargs[i] for i in idx))
    leaves = jax.tree_util.tree_leaves(vjp_fn)
    inputs = {id(leaf) for leaf in jax.tree_util.tree_leaves(jargs)}
    out.update(stored_bytes=int(sum(getattr(leaf, "nbytes", 0) for leaf in leaves if id(leaf) not in inputs)))


def run_jax_jit(case, budget, out):
    jax, jnp = _jax()
    out.update(version=_version("jax"))
    args, wrt, hand_value, hand_grads = _problem_setup(case)
    f = bp.rebind(case.f, np=jnp, math=bp.MathLike(jnp))
    jargs = _to_jax(args, wrt, jnp)
    idx, _ = _split(args, wrt)
    # Non-differentiated Python numbers are compile-time constants; everything else is traced.
    static = {i: a for i, a in enumerate(args) if i not in idx and type(a) in (int, float)}
    dynamic = [i for i in range(len(args)) if i not in static]

    def g(*dyn):
        full = [None] * len(args)
        for i, a in static.items():
            full[i] = a
        for i, a in zip(dynamic, dyn):
            full[i] = a
        return f(*full)
    argnums = tuple(dynamic.index(i) for i in idx)
    vg = jax.jit(jax.value_and_grad(g, argnums=argnums if len(idx) > 1 else argnums[0]))
    primal = jax.jit(g)
    dyn = [jargs[i] for i in dynamic]
    block = jax.block_until_ready
    _timings(out, case, lambda: block(primal(*dyn)), lambda: block(vg(*dyn)), budget,
             _checker(out, case, hand_value, hand_grads), jit=True)
    if "first_extra" in out.result:
        out.update(compile=out.result["first_extra"])


def _to_torch(x, torch, requires_grad=False):
    if isinstance(x, np.ndarray):
        t = torch.from_numpy(x.copy())
        return t.requires_grad_(True) if requires_grad and t.is_floating_point() else t
    if isinstance(x, (list, tuple)):
        return type(x)(_to_torch(v, torch, requires_grad) for v in x)
    if isinstance(x, float) and requires_grad:
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)
    if isinstance(x, np.floating):             # a constant np.float64: torch functions take floats, not it
        return float(x)
    return x


def _leaves(x):
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in _leaves(v)]
    return [x]


def run_torch(case, budget, out):
    import torch
    torch.set_num_threads(1)
    out.update(version=_version("torch"))
    args, wrt, hand_value, hand_grads = _problem_setup(case)
    f = bp.rebind(case.f, np=bp.TorchNumpy(torch), math=bp.MathLike(torch))
    idx, single = _split(args, wrt)
    targs = [_to_torch(a, torch, requires_grad=i in idx) for i, a in enumerate(args)]
    wrt_leaves = [_leaves(targs[i]) for i in idx]
    flat = [leaf for leaves in wrt_leaves for leaf in leaves]

    def value_and_grad():
        value = f(*targs)
        grads = iter(torch.autograd.grad(value, flat))
        structured = [_rebuild(targs[i], grads) for i in idx]
        return value, structured[0] if single else tuple(structured)

    def primal():
        with torch.no_grad():
            return f(*targs)
    f(*targs)
    _timings(out, case, primal, value_and_grad, budget, _checker(out, case, hand_value, hand_grads))
    if case.check_only:
        return
    out.stage("bytes")
    inputs = {leaf.untyped_storage().data_ptr() for leaf in _leaves(targs) if isinstance(leaf, torch.Tensor)}
    saved = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in inputs:
            saved[storage.data_ptr()] = storage.nbytes()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        f(*targs)
    out.update(stored_bytes=int(sum(saved.values())))


def _rebuild(template, grads):
    if isinstance(template, (list, tuple)):
        return type(template)(_rebuild(v, grads) for v in template)
    return next(grads)


RUNNERS = {"s2sad": run_s2sad, "hand": run_hand, "autograd": run_autograd, "jax": run_jax,
           "jax-jit": run_jax_jit, "torch": run_torch}


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


# =============================================================================================
# The parent: startup checks, one process per (problem, tool), the report
# =============================================================================================
def case_key(key, variant):
    return f"{key}/{variant}"


def split_case(ck):
    key, variant = ck.split("/", 1)
    return key, variant


def case_label(ck):
    key, variant = split_case(ck)
    return f"{key} ({variant})"


def check_references(cks):
    """Every hand-written gradient against central differences (and its value against the function's)."""
    for ck in cks:
        key, variant = split_case(ck)
        v = bp.variant(key, variant)
        args, wrt = v.make_args(np.random.default_rng(SEED))
        hand_value, hand_grads = bp.hand_value_and_grad(v)(*args)
        value = v.f(*args)
        err = bp.directional_check(v.f, args, wrt, hand_grads, np.random.default_rng(1))
        value_err = abs(value - hand_value) / max(abs(value), 1e-300)
        ok = err < bp.fd_tolerance(variant) and value_err < bp.tolerance(variant)
        status = "ok" if ok else "FAILED"
        print(f"  hand-written {case_label(ck):24s} vs central differences: rel. error {err:.1e}, "
              f"value {value_err:.1e}  {status}")
        if not ok:
            raise SystemExit(f"the hand-written gradient of {case_label(ck)} is wrong: "
                             "fix tools/bench_problems.py first")


def run_in_child(tool, ck, budget, jit_timeout, stage_timeout, check_only=False):
    """Run one (tool, problem, variant) in a fresh process; returns its result dict (with ``error`` on failure
    or timeout)."""
    key, variant = split_case(ck)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--tool", tool, "--problem", key, "--variant", variant,
           "--json", "--budget", repr(budget)] + (["--check-only"] if check_only else [])
    with tempfile.TemporaryFile("w+") as err_file:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err_file, text=True, cwd=str(ROOT))
        lines = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout] + [lines.put(None)],
                                  daemon=True)
        reader.start()
        result = {"tool": tool, "problem": key, "variant": variant}
        stage, stage_start = "start", time.perf_counter()
        while True:
            limit = jit_timeout if stage.startswith("compile") else stage_timeout
            left = limit - (time.perf_counter() - stage_start)
            try:
                line = lines.get(timeout=max(left, 0.0))
            except queue.Empty:
                proc.kill()
                proc.wait()
                result.update(ok=False, timeout=stage, error=f"timeout: {stage} took more than {limit:.0f} s")
                return result
            if line is None:
                break
            if not line.startswith(PREFIX):
                continue
            message = json.loads(line[len(PREFIX):])
            if "stage" in message:
                stage, stage_start = message["stage"], time.perf_counter()
            if "result" in message:
                result = message["result"]
        proc.wait()
        if "ok" not in result:
            err_file.seek(0)
            tail = err_file.read()[-1500:]
            result.update(ok=False, error=f"process exited with code {proc.returncode} in stage {stage}: {tail}")
        return result


ROUND_TOOLS = ("s2sad", "hand")


def merge_rounds(rounds):
    """One result from several fresh-process runs of the same tool and problem.

    Per timing the smallest of the rounds' medians (interference from the rest of the machine
    only ever adds time); the first-call figures the median of the rounds'; a failing round wins."""
    for r in rounds:
        if not r.get("ok"):
            return dict(r, rounds=len(rounds))
    merged = dict(rounds[0], rounds=len(rounds))
    for key in ("primal", "grad"):
        timed = [r[key] for r in rounds if r.get(key)]
        if timed:
            merged[key] = dict(min(timed, key=lambda m: m["median"]), round_medians=[m["median"] for m in timed])
    for key in ("first_call", "first_extra", "transform", "compile"):
        values = [r[key] for r in rounds if r.get(key) is not None]
        if values:
            merged[key] = statistics.median(values)
            merged[key + "_rounds"] = values
    return merged


def available(tool):
    package = TOOL_PACKAGES.get(tool)
    if package is None:
        return True
    try:
        metadata.version(package)
        return True
    except metadata.PackageNotFoundError:
        return False


def machine_info():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    info = {
        "cpu": cpu, "cores": os.cpu_count(), "usable_cores": affinity,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(), "numpy": np.__version__,
        "blas": _blas(),
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "s2sad": _version("s2sad"), "commit": _git_commit(),
    }
    for package in ("autograd", "jax", "jaxlib", "torch"):
        info[package] = _version(package) or "not installed"
    return info


def _blas():
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:
        return "?"


def _git_commit():
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "s2sad"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return commit + (" (s2sad/ modified)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


# ---- formatting ------------------------------------------------------------------------------
def fmt_time(seconds):
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if abs(seconds) < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if abs(seconds) < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_bytes(n):
    if n is None:
        return "—"
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


def _median(result, key):
    m = result.get(key)
    return m["median"] if m else None


def fmt_ratio(r):
    if r is None or not math.isfinite(r):
        return "—"
    return f"{r:.0f}" if r >= 100 else f"{r:.3g}" if r >= 10 else f"{r:.2f}"


def fmt_goal_ratio(r, limit):
    """Two decimals, three when two would round onto the limit itself."""
    text = f"{r:.2f}"
    return f"{r:.3f}" if float(text) == limit and r != limit else text


def goal(value, limit, text):
    if value is None:
        return "—"
    return f"{text} {'met' if value <= limit else '**missed**'}"


def _failed(result):
    return result is None or not result.get("ok")


def base_cases(cks):
    """The cases of the run on their problem's reference input (Python floats, float64 arrays)."""
    return [ck for ck in cks if split_case(ck)[1] == bp.PROBLEMS[split_case(ck)[0]].base]


def headline_rows(results, cks):
    rows = []
    for ck in base_cases(cks):
        key = split_case(ck)[0]
        r = results.get(ck, {})
        s, h = r.get("s2sad"), r.get("hand")
        problem = bp.PROBLEMS[key]
        row = {"problem": f"{key}: {problem.title}", "key": key}
        if s is None or h is None:
            rows.append(row)
            continue
        primal, sg, hg = _median(s, "primal"), _median(s, "grad"), _median(h, "grad")
        row.update(primal=fmt_time(primal), s2sad=fmt_time(sg), hand=fmt_time(hg))
        if _failed(s):
            why = s.get("error") or "?"
            row["status"] = f"**{'REFUSED' if s.get('refused') else 'FAILING'}**: {why.splitlines()[0][:120]}"
        else:
            row["status"] = f"ok (error vs hand {s['grad_error']:.0e})"
        if sg and hg:
            row["ratio_hand"] = goal(sg / hg, GOALS["ratio_hand"], fmt_goal_ratio(sg / hg, GOALS["ratio_hand"]))
        if sg and primal:
            text = fmt_goal_ratio(sg / primal, GOALS["ratio_primal"])
            if hg and hg / primal > GOALS["hand_primal"]:          # the issue: "wherever the hand-written gradient
                row["ratio_primal"] = (f"{text} (n/a: hand-written "    # is <= 2.5" (the figure stays shown)
                                       f"{hg / primal:.2f})")
            else:
                row["ratio_primal"] = goal(sg / primal, GOALS["ratio_primal"], text)
        if s.get("transform") is not None:
            row["transform"] = goal(s["transform"], GOALS["transform"], fmt_time(s["transform"]))
        row["lines"] = _lines(s, h)
        sb, hb = s.get("stored_bytes"), h.get("stored_bytes")
        if sb is not None and hb:
            row["bytes"] = goal(sb / hb, GOALS["bytes"], f"{fmt_bytes(sb)} / {fmt_bytes(hb)} = {fmt_goal_ratio(sb / hb, GOALS['bytes'])}x")
        rows.append(row)
    return rows


GOAL_LABELS = {"ratio_hand": "s2sad / hand ≤ 1.2", "ratio_primal": "gradient / primal ≤ 3",
               "transform": "first-call transform ≤ 150 ms", "bytes": "stored ≤ 1.5x hand-written"}


def missed_goals(rows):
    """(problem key, goal, measured figure, reason) for every goal missed in this run.

    Reasons are data, next to the problems (``bench_problems.MISSED_REASONS``): only those of
    goals actually missed are shown; a missed goal nobody explained says so.
    """
    out = []
    for row in rows:
        for goal_key in GOAL_LABELS:
            cell = row.get(goal_key, "")
            if cell.endswith("**missed**"):
                reason = bp.MISSED_REASONS.get((row["key"], goal_key), "reason not yet analysed")
                out.append((row["key"], goal_key, cell[:-len("**missed**")].strip(), reason))
    return out


def missed_section(rows):
    missed = missed_goals(rows)
    lines = ["## Goals missed, and why\n"]
    if not missed:
        return lines + ["Every goal is met.\n"]
    lines.append("For each goal missed in this run: the measured figure, and what the generated code does that "
                 "the hand-written gradient does not (reasons kept in `tools/bench_problems.py`, "
                 "`MISSED_REASONS`).\n")
    for key, goal_key, figure, reason in missed:
        lines.append(f"- **{key}**, {GOAL_LABELS[goal_key]}: measured {figure}. {reason}")
    return lines + [""]


HEADLINE = [("problem", "problem"), ("primal", "primal (NumPy)"), ("s2sad", "s2sad value_and_grad"),
            ("hand", "hand-written"), ("ratio_hand", "s2sad / hand (goal ≤ 1.2)"),
            ("ratio_primal", "gradient / primal (goal ≤ 3)"), ("transform", "first-call transform (goal ≤ 150 ms)"),
            ("bytes", "stored: s2sad / hand (goal ≤ 1.5x)"), ("lines", "lines: generated / hand-written"),
            ("status", "s2sad gradient")]


def _lines(s, h):
    """'generated / hand-written = ratio' from the s2sad (and hand-written) results."""
    gl = (s or {}).get("generated_lines")
    hl = (s or {}).get("hand_lines") or (h or {}).get("hand_lines")
    return f"{gl} / {hl} = {gl / hl:.2f}" if gl and hl else "—"


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(r, what, hand=None):
    if r is None:
        return "not run"
    value = _median(r, what)
    if value is None:
        return _failure(r) if not r.get("ok") else "—"
    text = fmt_time(value)
    if hand:
        text += f" ({fmt_ratio(value / hand)}x)"
    return text


def _failure(r):
    """Why a tool has no figure: s2sad refused the program, the gradient was wrong (never timed), or it failed."""
    if r.get("refused"):
        return "**refused**: " + _short_error(r)
    if r.get("wrong"):
        return "**WRONG** (not timed): " + (r.get("error") or "?").split(":", 1)[-1].strip()[:120]
    return "fails: " + _short_error(r)


def _short_error(r):
    error = r.get("error") or "?"
    if r.get("timeout"):
        return error
    if "TracerBoolConversionError" in error or "ConcretizationTypeError" in error:
        return "cannot: Python control flow on a traced value (" + error.split(":", 1)[0] + ")"
    first = error.splitlines()[0]
    name = first.split(":", 1)[0]
    return name if len(first) > 60 else first


VARIANTS_INTRO = """Every problem also runs on the other kinds of input a user passes (`--variants` selects them;
`tools/bench_problems.py`, `Variant`): scalar problems on Python floats (their reference input),
`np.float64` scalars (what indexing a float64 array gives), their parameters packed in one float64 array
(`recurrence` reads `theta[0]`, `theta[1]`, `theta[2]` in its loop; `rk4` unpacks
`alpha, beta, delta, gamma = theta`) and the same packed functions given a list of Python floats; array
problems on float64 arrays (their reference) and float32 arrays. Each variant has its own hand-written
gradient taking the same inputs: it converts them the way a human would (scalars and packed parameters to
Python floats once, at the entry) and returns the gradient shaped like the differentiated argument.
Before anything is timed, every tool's first result is checked against the hand-written gradient: every
component within 1e-9 of the largest one (float32: 1e-4, and s2sad's gradient arrays must be float32); a
wrong gradient is reported and never timed, and a program s2sad refuses is shown as *refused*.
*lines* counts the non-blank, non-comment, non-docstring lines of s2sad's generated `value_and_grad`
code (`s2sad.show_adjoint(f, wrt, args=...)`, called helpers inlined) and of the hand-written gradient's
own functions (the variant's wrapper, the reference gradient and its helpers)."""


def variants_section(results, cks, tools, args):
    """The table of every problem on every input variant: s2sad / hand-written, the check, the lines."""
    lines = ["## Input variants\n", VARIANTS_INTRO + "\n"]
    header = ["problem", "input", "s2sad", "hand-written", "s2sad / hand", "gradient / primal", "s2sad's gradient",
              "lines: generated / hand-written"]
    others = [t for t in TOOLS if t in tools and t not in ROUND_TOOLS]
    header[5:5] = [f"{TOOL_NAMES[t]} / hand" for t in others]
    table = []
    for ck in cks:
        key, variant = split_case(ck)
        r = results.get(ck, {})
        s, h = r.get("s2sad"), r.get("hand")
        sg, hg = (_median(s, "grad") if s else None), (_median(h, "grad") if h else None)
        primal = _median(s, "primal") if s else None
        row = [key, variant,
               _cell(s, "grad") if s else "not run", _cell(h, "grad") if h else "not run",
               fmt_ratio(sg / hg) if sg and hg else "—"]
        for t in others:
            o = r.get(t)
            og = _median(o, "grad") if o else None
            row.append(fmt_ratio(og / hg) if og and hg else "not run" if o is None else
                       "—" if o.get("ok") else _failure(o))
        row.append(fmt_ratio(sg / primal) if sg and primal else "—")
        if s is None:
            row.append("not run")
        elif s.get("ok"):
            row.append(f"= hand-written (error {s['grad_error']:.0e})")
        else:
            row.append(_failure(s))
        row.append(_lines(s, h))
        table.append(row)
    lines.append(md_table(header, table))
    lines.append("")
    return lines


def report(results, cks, tools, info, args):
    """The markdown report."""
    out = []
    w = out.append
    w("# Benchmarks\n")
    w("Generated by `python tools/bench.py " + " ".join(args.command_line) + "`"
      + " (the problems and the hand-written gradients are in `tools/bench_problems.py`)."
      + (" **--check-only: nothing was timed**; the gradients were checked and the lines counted." if args.check_only
         else "") + "\n")
    w("Reproduce: `pip install -e \".[bench]\"` (autograd, JAX on CPU, PyTorch 2.13.0 CPU), then "
      "`python tools/bench.py --markdown docs/benchmarks.md` (every input variant: well over half an hour; "
      "`--quick` for a smoke test, `--check-only` to check every gradient without timing, "
      "`--problems`/`--variants`/`--tools` to select). Numbers move from machine to machine and run to run; the ratios are "
      "the point.\n")
    w("## Machine\n")
    w(md_table(["", ""], [
        ["CPU", f"{info['cpu']} ({info['cores']} logical cores, {info['usable_cores']} usable); every tool pinned to one thread"],
        ["OS", info["os"]], ["Python", info["python"]], ["NumPy", f"{info['numpy']} (BLAS: {info['blas']})"],
        ["s2sad", f"{info['s2sad']} (commit {info['commit']})"],
        ["autograd", info["autograd"]], ["JAX / jaxlib", f"{info['jax']} / {info['jaxlib']} (CPU, float64)"],
        ["PyTorch", f"{info['torch']} (CPU, float64)"], ["date", info["date"]],
        ["timing", f"{args.budget:g} s per gradient measurement; s2sad and hand-written: best of "
         f"{args.rounds} fresh-process round(s)" + (" (--quick: indicative only)" if args.quick else "")],
    ]))
    w("")
    w("## Goals\n")
    w("On each problem's reference input (Python floats, float64 arrays; the other inputs are under *Input "
      "variants*). Times are medians per call. *gradient / primal* is s2sad's `value_and_grad` time over the plain NumPy "
      "function's (the goal applies where the hand-written gradient takes at most 2.5 times the primal, as the issue "
      "sets it; elsewhere the figure is shown with the hand-written one's, *n/a*); *first-call transform* is the first `value_and_grad` call in a fresh process minus a normal "
      "call; *stored* is what the forward sweep keeps for the backward sweep (method below).\n")
    rows = headline_rows(results, cks)
    w(md_table([h for _, h in HEADLINE], [[row.get(k, "—") for k, _ in HEADLINE] for row in rows]))
    w("")
    met = sum(row.get(k, "").endswith(" met") for row in rows for k in ("ratio_hand", "ratio_primal", "transform", "bytes"))
    missed = sum(row.get(k, "").endswith("**missed**") for row in rows for k in ("ratio_hand", "ratio_primal", "transform", "bytes"))
    failing = [row["problem"].split(":")[0] for row in rows if row.get("status", "").startswith("**")]
    w(f"Goals met: {met}, missed: {missed}. "
      + (f"s2sad fails on: {', '.join(failing)}." if failing else "s2sad computes every gradient correctly."))
    w("")
    for line in missed_section(rows):
        w(line)
    for line in variants_section(results, cks, tools, args):
        w(line)

    w("## Value-and-gradient time, every tool\n")
    w("In parentheses: the time over the hand-written gradient's. JAX jit excludes compilation (next table).\n")
    shown = [t for t in TOOLS if t in tools]
    table = []
    for ck in cks:
        hand = _median(results.get(ck, {}).get("hand") or {}, "grad")
        table.append([case_label(ck)] + [_cell(results.get(ck, {}).get(t), "grad", hand) for t in shown])
    w(md_table(["problem"] + [TOOL_NAMES[t] for t in shown], table))
    w("")

    w("## Gradient over primal, every tool\n")
    w("Each tool's value-and-gradient time over its own primal evaluation (NumPy for s2sad and the hand-written "
      "gradient; autograd's wrapped NumPy; JAX eager, JAX jit, PyTorch under `no_grad`). The primal times are in "
      "parentheses.\n")
    table = []
    for ck in cks:
        row = [case_label(ck)]
        for t in shown:
            r = results.get(ck, {}).get(t)
            g, p = (_median(r, "grad"), _median(r, "primal")) if r else (None, None)
            row.append(f"{fmt_ratio(g / p)} ({fmt_time(p)})" if g and p else _cell(r, "grad"))
        table.append(row)
    w(md_table(["problem"] + [TOOL_NAMES[t] for t in shown], table))
    w("")

    w("## First call\n")
    w("The first value-and-gradient call in a fresh process minus a normal call: s2sad's source transformation "
      "and compilation; JAX jit's tracing and XLA compilation of the gradient "
      f"(given up after {args.jit_timeout:g} s); for the others, first-use costs of the library.\n")
    table = []
    for ck in cks:
        row = [case_label(ck)]
        for t in shown:
            r = results.get(ck, {}).get(t)
            if r is None:
                row.append("not run")
            elif r.get("first_extra") is not None:
                extra = r["first_extra"]
                row.append(fmt_time(extra) if extra > 1e-4 else "≈ 0")
            elif r.get("timeout"):
                row.append(r["error"])
            else:
                row.append(_failure(r))
        table.append(row)
    w(md_table(["problem"] + [TOOL_NAMES[t] for t in shown], table))
    w("")

    w("## Stored for the backward sweep\n")
    w("s2sad and hand-written: the bytes the pullback closure keeps alive (walk described below) and, in "
      "parentheses, tracemalloc's count of the bytes the forward sweep allocated that are still alive while the "
      "pullback is. JAX: the residual arrays in `jax.vjp`'s pullback (eager). PyTorch: the storages the autograd "
      "graph saves (`saved_tensors_hooks`). Inputs are never counted.\n")
    mem_tools = [t for t in ("s2sad", "hand", "jax", "torch") if t in tools]
    table = []
    for ck in cks:
        row = [case_label(ck)]
        for t in mem_tools:
            r = results.get(ck, {}).get(t) or {}
            b = r.get("stored_bytes")
            text = fmt_bytes(b)
            if r.get("traced_bytes") is not None:
                text += f" ({fmt_bytes(r['traced_bytes'])})"
            row.append(text)
        table.append(row)
    w(md_table(["problem"] + [TOOL_NAMES[t] for t in mem_tools], table))
    w("")

    if "s2sad" in tools or "hand" in tools:
        w("The largest captured variables of each pullback closure (each walked on its own; a `*_stack` list "
          "holds one entry per loop iteration):\n")
        table = []
        for ck in cks:
            row = [case_label(ck)]
            for t in ("s2sad", "hand"):
                r = results.get(ck, {}).get(t) or {}
                names, count = r.get("stored_by_name") or ([], 0)
                text = ", ".join(f"`{n}` {fmt_bytes(b)}" for n, b in names)
                if count > len(names):
                    text += f", … ({count} variables)"
                row.append(text or "—")
            table.append(row)
        w(md_table(["problem", "s2sad keeps", "hand-written keeps"], table))
        w("")

    w("## Gradient errors\n")
    w("Largest absolute difference from the hand-written gradient over the largest hand-written component "
      "(in the variant's precision: float32 rows are float32 arithmetic against float32 arithmetic). A tool "
      "whose error is above the variant's tolerance (1e-9; float32 1e-4) is marked **WRONG** and was not timed. "
      "The hand-written gradients themselves are checked against central differences (float64, at the "
      "variant's point) along random directions at startup.\n")
    table = []
    for ck in cks:
        row = [case_label(ck)]
        h = results.get(ck, {}).get("hand") or {}
        row.append(f"{h['fd_error']:.1e}" if h.get("fd_error") is not None else "—")
        for t in shown:
            r = results.get(ck, {}).get(t)
            if t == "hand":
                continue
            if r is None:
                row.append("not run")
            elif r.get("grad_error") is not None:
                row.append(f"{r['grad_error']:.1e}" + (" **WRONG**" if r.get("wrong") else ""))
            else:
                row.append(_failure(r))
        table.append(row)
    w(md_table(["problem", "hand vs central differences"] + [TOOL_NAMES[t] for t in shown if t != "hand"], table))
    w("")

    errors = [(ck, t, r) for ck in cks for t in shown
              for r in [results.get(ck, {}).get(t)] if r is not None and not r.get("ok")]
    if errors:
        w("## Failures\n")
        for ck, t, r in errors:
            what = "refused" if r.get("refused") else "wrong gradient, not timed" if r.get("wrong") else "failed"
            w(f"- **{TOOL_NAMES[t]}** on `{case_label(ck)}` ({what}): {(r.get('error') or '?').splitlines()[0][:400]}")
        w("")

    w("## Problems\n")
    w(md_table(["key", "problem", "differentiated with respect to", "inputs (reference first)"], [row + [
        ", ".join(bp.PROBLEMS[row[0]].variants)] for row in [
        ["recurrence", "x ← x + h (a sin x − b x² + c), 1000 steps on Python floats, `math.sin`; returns the last x",
         "a, b, c (floats)"],
        ["taylor", "sin x by its Taylor series, `for` loop with `break` once a term is below 1e-16 (x = 3: 22 terms)", "x (float)"],
        ["logreg", "mean binary cross-entropy of a logistic regression, X 1000×20", "w (20,)"],
        ["mlp", "tanh MLP 64-128-128-10, batch 256, softmax cross-entropy, params a list of (W, b)", "params"],
        ["gmm", "ADBench's GMM objective with the Wishart prior, d=10, k=25, n=1000, vectorised over points; "
                "L from icf by an integer index array", "alphas, means, icf"],
        ["rnn", "tanh RNN, 50 steps in a Python loop, input 16, hidden 64, output 4, batch 32, MSE of per-step predictions",
         "(Wx, Wh, b, Wy, by)"],
        ["rk4", "RK4 on Lotka-Volterra (a helper function returns both rates), 500 steps of h = 0.01 on Python floats, "
                "squared distance of the final state from (1, 1)", "the four rates (floats)"],
    ]]))
    w("")
    w("## Method\n")
    w("""- **One process per tool, problem and input variant**: `python tools/bench.py --tool TOOL --problem PROBLEM
  --variant VARIANT --json`. Each tool's first result is checked against the variant's hand-written gradient
  before anything is timed (see *Input variants*).
  OMP/OpenBLAS/MKL threads are pinned to 1 before NumPy is imported, XLA gets
  `--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1`, PyTorch `torch.set_num_threads(1)`.
- **Timing**: `time.perf_counter`, gc disabled while timing, calls batched so that one sample lasts at least
  10 ms, as many samples as fit in the budget (at least 5, or 3 for calls slower than a third of it); the
  median is reported. JAX results are `block_until_ready`'d. s2sad and the hand-written gradient, whose
  ratio is a goal, run in several fresh processes each, alternating (`--rounds`); their smallest median is
  reported (the machine's other work only ever adds time), and the median of their first-call figures.
- **The same user code for every tool**: the problem functions are written once with `np` and `math`; autograd,
  JAX and PyTorch run the very same code objects with `np` re-bound to `autograd.numpy`, `jax.numpy` or a thin
  NumPy-named shim over torch functions, and `math` to a dispatcher sending arrays/tracers to the library's
  `sin`, `log`, ... (`tools/bench_problems.py`, `rebind`). Each tool gets the variant's inputs: s2sad, the
  hand-written code and autograd as they are; JAX and PyTorch as their own arrays (float32 kept), with
  differentiated numbers (floats, `np.float64`, the items of a list) as 0-d float64 arrays/tensors and, for
  PyTorch, constant `np.float64` numbers as Python floats. JAX jit traces the array arguments and treats
  non-differentiated Python numbers as constants.
- **Hand-written gradients** are reverse mode, written for speed with the same forward computations as the
  user's function: they keep what the backward sweep reads (see each `*_hand` docstring) and use batched
  matmuls where a loop can be avoided (RNN weight gradients, GMM). Their `value_and_grad` is
  `value, pullback = f_hand(*args); pullback(1.0)`.
- **Stored bytes** (s2sad and hand-written): `s2sad.vjp(f, *args)` runs the forward sweep and returns a
  pullback; the closure of the generated backward function is walked recursively: a function counts itself,
  its closure tuple and cells and what they hold (nested pullbacks of called functions included); lists,
  tuples and dicts count `sys.getsizeof` and their items; arrays count `sys.getsizeof` (data included when
  they own it: a view counts only its header and leads on to its base); floats and ints count
  `sys.getsizeof` (24 and 28 bytes). Each object is counted once; objects reachable from the arguments are not
  counted. The hand-written pullback closures are walked the same way. The tracemalloc figure is the growth of
  traced memory across the forward sweep while its result is alive (a cross-check that includes allocator
  slack such as over-allocated lists). s2sad's `value_and_grad` keeps the same values in local variables;
  its `vjp` code is what is measured.
- **Goals** (the issue): s2sad / hand ≤ 1.2 on every problem, gradient / primal ≤ 3 wherever the hand-written
  gradient takes at most 2.5x the primal (elsewhere shown, marked *n/a*, and not counted), first-call transform
  ≤ 150 ms, stored bytes ≤ 1.5× the hand-written gradient's.
""")
    return "\n".join(out)


def console_summary(results, cks, tools):
    rows = headline_rows(results, cks)
    print()
    for row in rows:
        print(f"{row['problem']}")
        for k, label in HEADLINE[1:]:
            if k in row:
                print(f"    {label:42s} {row[k]}")
    for key, goal_key, figure, reason in missed_goals(rows):
        print(f"missed: {key} {GOAL_LABELS[goal_key]}: {figure}: {reason[:110]}{'...' if len(reason) > 110 else ''}")
    print()
    shown = [t for t in TOOLS if t in tools]
    print(f"{'gradient time':24s}" + "".join(f"{TOOL_NAMES[t]:>24s}" for t in shown))
    for ck in cks:
        hand = _median(results.get(ck, {}).get("hand") or {}, "grad")
        print(f"{case_label(ck):24s}" + "".join(f"{_cell(results.get(ck, {}).get(t), 'grad', hand)[:23]:>24s}" for t in shown))


def parse_list(text, allowed, what):
    items = [s.strip() for s in text.split(",") if s.strip()]
    out = []
    for item in items:
        if item == "jax" and what == "tool":
            out += ["jax", "jax-jit"]
        elif item in allowed:
            out.append(item)
        else:
            raise SystemExit(f"unknown {what} {item!r}; choose from {', '.join(allowed)}")
    return list(dict.fromkeys(out))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short timing budgets (a smoke test)")
    parser.add_argument("--problems", default=",".join(bp.PROBLEMS), help="comma-separated: " + ",".join(bp.PROBLEMS))
    parser.add_argument("--variants", default=",".join(bp.VARIANTS),
                        help="comma-separated input variants: " + ",".join(bp.VARIANTS) + " (each problem runs on those "
                             "it has; float and float64 are the reference inputs)")
    parser.add_argument("--check-only", action="store_true",
                        help="no timing: check every selected tool's gradient against the hand-written one, count "
                             "lines, and report (for tests)")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help="comma-separated: " + ",".join(TOOLS) + " (jax means jax eager and jax-jit)")
    parser.add_argument("--markdown", metavar="PATH", help="write the report there (e.g. docs/benchmarks.md)")
    parser.add_argument("--json-out", metavar="PATH", help="write all raw results there")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds per gradient measurement (default 1.5, --quick 0.15)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="fresh-process runs of s2sad and the hand-written gradient per problem, alternating "
                             "(default 3, --quick 1); the smallest median is reported")
    parser.add_argument("--jit-timeout", type=float, default=90.0, help="give up a JAX jit compile after this (s)")
    parser.add_argument("--stage-timeout", type=float, default=300.0, help="give up any other stage after this (s)")
    parser.add_argument("--tool", help=argparse.SUPPRESS)            # child mode
    parser.add_argument("--problem", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.command_line = list(sys.argv[1:] if argv is None else argv)
    if args.budget is None:
        args.budget = 0.15 if args.quick else 1.5
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3

    if args.tool:                                                     # child
        run_child(args.tool, args.problem, args.variant or bp.PROBLEMS[args.problem].base, args.budget,
                  args.check_only)
        return

    keys = parse_list(args.problems, list(bp.PROBLEMS), "problem")
    variants = parse_list(args.variants, list(bp.VARIANTS), "variant")
    cks = [case_key(key, variant) for key, variant in bp.cases(keys, variants)]
    if not cks:
        raise SystemExit(f"none of the problems {', '.join(keys)} has the variants {', '.join(variants)}")
    if args.check_only:
        args.rounds = 1
    tools = parse_list(args.tools, TOOLS, "tool")
    missing = [t for t in tools if not available(t)]
    if missing:
        print(f"not installed, skipped: {', '.join(missing)} (pip install -e '.[bench]')")
        tools = [t for t in tools if t not in missing]
    info = machine_info()
    print(f"{info['cpu']}, Python {info['python']}, NumPy {info['numpy']}, s2sad {info['s2sad']}")
    print("checking the hand-written gradients:")
    check_references(cks)
    results = {}
    for ck in cks:
        # s2sad and the hand-written gradient (the goals' figures) run --rounds times, alternating
        order = [t for t in ROUND_TOOLS if t in tools] * args.rounds + [t for t in tools if t not in ROUND_TOOLS]
        rounds = {}
        for tool in order:
            start = time.perf_counter()
            r = run_in_child(tool, ck, args.budget, args.jit_timeout, args.stage_timeout, args.check_only)
            rounds.setdefault(tool, []).append(r)
            status = ("ok" if r.get("ok") else "REFUSED: " if r.get("refused") else "WRONG: " if r.get("wrong")
                      else "FAILED: ")
            if not r.get("ok"):
                status += (r.get("error") or "?").splitlines()[0][:150]
            print(f"  {case_label(ck):24s} {tool:9s} grad {fmt_time(_median(r, 'grad')):>10s}   "
                  f"({time.perf_counter() - start:5.1f} s)  {status}", flush=True)
        results[ck] = {tool: merge_rounds(rounds[tool]) for tool in tools}
    end_commit = _git_commit()
    if end_commit != info["commit"]:
        info["commit"] = f"{info['commit']} at the start, {end_commit} at the end: s2sad changed during the run"
    console_summary(results, cks, tools)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"info": info, "results": results}, indent=1))
    if args.markdown:
        path = Path(args.markdown)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report(results, cks, tools, info, args))
        print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
