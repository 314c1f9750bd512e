"""fuzzgen: random Python/NumPy programs of the kind s2sad's users write.

This is the program generator of ``tools/fuzz.py`` (the differential fuzzer). It is the
*specification of what users write*: it produces every construct in the list below whether
or not s2sad supports it (a refused construct is counted as "unsupported" by the fuzzer).

Model
-----
A program is Python source text built from a small typed model. Every variable in scope has a
type and a magnitude bound:

    ("S",)            a scalar float (Python ``float`` or ``np.float64``)
    ("I",)            an int (loop index, counter, int argument) with known min/max value
    ("V", n)          a 1-d float array of length n
    ("M", r, c)       a 2-d float array
    ("L", n)          a list of n scalars
    ("T", n)          a tuple of n scalars
    ("D", items)      a dict str -> scalar / 1-d array (items: ((key, type), ...))
    ("FN", params, ret, defaults, names)   a callable (module-level helper, closure, lambda)

Expressions are generated for a requested type (``Gen.expr``), by productions that only
combine values of the right types and shapes, so that programs are *correct by construction*:
indexes are within known lengths (ints carry their max value), names are defined on every
path (a variable created inside a block is forgotten when the block ends, unless every branch
of an if/else defines it), functions with a restricted domain are only applied to values in
it (``np.log(1.0 + t * t)``, ``np.sqrt(t * t + 0.5)``, ``t / (2.0 + np.cos(u))``, powers of
possibly negative bases only with integer exponents), and magnitudes stay small (each
expression carries a bound on its absolute value; large ones are squashed with tanh/sin, loop
updates of loop-carried values are additive or contractive). Whatever slips through is caught by
the fuzzer's trial run, which discards the program.

Each statement kind and each expression production has a tunable weight (``STMT_WEIGHTS``,
``EXPR_WEIGHTS``, ``PROGRAM_WEIGHTS``; ``--weights`` in fuzz.py overrides them), and each
program boosts a random "theme" of a few statement kinds so that programs combine several
features in depth. The features a program uses are recorded (``Program.features``) so that
the fuzzer can say which constructs the wrong derivatives involve.

Names: the main function is ``f__U`` and helpers ``h1__U``, ... The fuzzer replaces the ``__U``
suffix with a unique tag for every module it writes (s2sad caches generated code per code
object and reads source with ``inspect``), and strips it in reproducers.
"""
import contextlib
import random
import re
from dataclasses import dataclass, field

_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_ASSIGN = re.compile(r"^\s*[A-Za-z_][\w, ]*=(?!=)")

SUFFIX = "__U"

S = ("S",)
I = ("I",)


def V(n):
    return ("V", n)


def M(r, c):
    return ("M", r, c)


def L(n):
    return ("L", n)


def T(n):
    return ("T", n)


# ---------------------------------------------------------------------------------------------
# Weights (tunable)

STMT_WEIGHTS = {
    "assign": 7, "reassign": 3, "augassign": 3, "reassign_arg": 2, "unpack": 1.5, "swap": 0.5,
    "if": 4, "if_define": 1.5, "nested_if_return": 0.7, "early_return": 1,
    "for_range": 3, "for_array": 2, "for_rows": 1, "for_list": 1, "for_zip": 1, "for_enumerate": 1,
    "for_reversed": 1, "for_else": 0.7, "while_counter": 1, "while_data": 1.2, "taylor": 0.5,
    "nested_loop": 1, "list_append": 2, "listcomp": 1.2, "tuple": 1, "dict": 1, "closure": 1.2,
    "lambda": 1, "array_write": 0.5, "helper_unpack": 0.8, "logistic": 0.6, "function_values": 0.6,
    "chained_write": 0.4, "star_args": 0.8, "kwargs_call": 0.6, "star_unpack": 0.5, "partial": 0.5,
    "map_call": 0.5, "dict_iter": 0.5, "for_generator": 0.4, "bucket_append": 0.6, "rebuilt_each_step": 0.6,
    "record_rebuilt": 0.8,
}

EXPR_WEIGHTS = {
    "var": 7, "lit": 2, "elem": 3, "float_cast": 0.5, "reduce": 3, "unary_np": 3, "unary_math": 2,
    "safe_log": 1, "safe_sqrt": 1, "safe_exp": 1, "safe_div": 1.5, "power": 1.5, "neg": 1,
    "arith": 7, "kink": 1.5, "ifexp": 0.7, "call": 2.5, "int_mix": 0.6, "trig2": 0.5, "genexp": 0.8,
}

PROGRAM_WEIGHTS = {
    "array_output": 0.15,       # probability that the program returns an array (jvp/vjp checks only)
    "helpers": 0.6,             # probability of module-level helpers
    "recursive_helper": 0.25,   # probability of a recursive helper
    "global_const": 0.25,       # probability of module-level constants
    "npfloat_arg": 0.25,        # probability that a scalar argument is passed as np.float64
    "container_arg": 0.12,      # probability of a list/tuple/dict argument
    "int_arg": 0.35,            # probability of a trailing int argument with a default
    "record_arg": 0.12,         # probability that the first argument is a record (dataclass, plain object,
                                # namedtuple) with methods; later arguments are records with half this
    "varargs_helpers": 0.3,     # probability of module-level `*rest` and `**kw` helpers
    "generator_helper": 0.25,   # probability of a module-level generator function
}

MAXMAG = 20.0
MAX_LINES = 30

SCALAR_NAMES = ["a", "b", "c", "s", "t", "u", "y", "z", "r", "q", "p", "acc", "total", "val", "tmp", "e", "w0",
                "lam", "prod", "d1", "alpha", "beta", "loss"]
VEC_NAMES = ["v", "w", "y", "z", "h", "r", "q", "vs", "out", "grad", "feat", "pos", "vel", "k1"]
MAT_NAMES = ["A", "B", "W", "P", "Q", "K", "G"]
LIST_NAMES = ["xs", "ys", "vals", "terms", "parts", "items"]
TUPLE_NAMES = ["pair", "tp", "res", "pq"]
DICT_NAMES = ["d", "params", "cfg", "st"]
INT_NAMES = ["n", "m", "k", "steps", "depth"]
LOOP_INDEX = ["i", "j", "k", "idx", "it"]
LOOP_VALUE = ["v", "xi", "el", "wi", "row", "ui"]
FN_NAMES = ["g", "inner", "step", "scale", "phi", "act", "mix"]
LAMBDA_NAMES = ["sq", "soft", "lin", "bump", "fl"]

LITERALS = [0.5, 1.5, 2.0, -0.5, 0.25, 3.0, -1.0, 0.1, 0.7, -0.3, 1.0, 0.2, -2.0]


def star_helper_lines(name, form):
    """``def name(t, *rest)`` in one of three forms (bounded: each extra argument adds at most 1.6)."""
    head = f"def {name}(t, *rest):"
    if form == 0:
        return [head, "    s = t", "    for r in rest:", "        s = s + 0.5 * np.sin(r)", "    return s"]
    if form == 1:
        return [head, "    return t + sum(np.tanh(r) for r in rest) / (1 + len(rest))"]
    return [head, "    total = t", "    for k, r in enumerate(rest):", "        total = total + (k + 1) * 0.5 * math.atan(r)",
            "    return total"]


def kw_helper_lines(name, form):
    """``def name(t, **kw)``: form 0 reads ``kw["scale"]`` and ``kw.get("shift", 0.0)``; the others walk kw."""
    head = f"def {name}(t, **kw):"
    if form == 0:
        return [head, "    return t * kw['scale'] + kw.get('shift', 0.0)"]
    if form == 1:
        return [head, "    s = t", "    for key, val in kw.items():", "        s = s + 0.5 * np.sin(val)", "    return s"]
    return [head, "    return t * (1.0 + sum(np.tanh(v) for v in kw.values()))"]


RECORD_NAMES = ["Params", "Model", "Layer", "State", "Coeffs"]
RECORD_ARGS = ["model", "theta", "prm"]
METHOD_NAMES = ["predict", "energy", "residual", "score", "forward"]
STATIC_NAMES = ["sq", "soft", "clamp2"]
CLASS_NAMES = ["scaled", "half", "unit"]


# ---------------------------------------------------------------------------------------------
# Expressions: text, precedence (for minimal parentheses) and a bound on the magnitude

ATOM, POW, UNARY, MUL, ADD, CMP, NOT, AND, OR, IFEXP = 100, 90, 80, 70, 60, 50, 40, 30, 20, 10


@dataclass
class E:
    text: str
    prec: int = ATOM
    mag: float = 1.0

    def at(self, prec):
        """The text, parenthesized if it binds less tightly than ``prec``."""
        return self.text if self.prec >= prec else f"({self.text})"


def binop(a, op, b, mag):
    prec = {"+": ADD, "-": ADD, "*": MUL, "/": MUL, "@": MUL}[op]
    return E(f"{a.at(prec)} {op} {b.at(prec + 1)}", prec, mag)


def shown(name):
    """How code names a callable Var: ``model.__call__`` is called as ``model(...)``."""
    return name[:-len(".__call__")] if name.endswith(".__call__") else name


def call(fn, *args, mag=1.0):
    return E(f"{fn}({', '.join(a if isinstance(a, str) else a.text for a in args)})", ATOM, mag)


def lit(c):
    text = repr(float(c))
    return E(text, UNARY if c < 0 else ATOM, abs(c))


@dataclass
class Var:
    name: str
    ty: tuple
    mag: float = 1.0
    lo: int = 0                 # ints: the smallest and largest value
    hi: int = 0
    readonly: bool = False      # loop variables, counters, globals, outer variables inside a closure
    pinned: bool = False        # read by a closure or lambda: its type must not change
    is_arg: bool = False


@dataclass
class ArgSpec:
    """A parameter of the generated main function and how the fuzzer samples its value."""
    name: str
    kind: str                   # float npfloat vec mat int list tuple dict
    shape: tuple = ()
    value: int = 0              # int arguments: the value passed (or the default)
    passed: bool = True         # int arguments: passed explicitly (else the default is used)
    keys: tuple = ()            # dict arguments: keys (values are floats)
    cls: str = ""               # record arguments: the class's name (with SUFFIX)
    form: str = ""              # record arguments: dataclass, plain or namedtuple
    fields: tuple = ()          # record arguments: (name, kind, shape, value) per field; kind float, vec or int

    @property
    def differentiable(self):
        return self.kind != "int"


@dataclass
class Program:
    source: str                 # module text; function names end with SUFFIX
    name: str                   # the main function's name (with SUFFIX)
    args: list                  # ArgSpec per parameter
    output: str                 # "scalar" or "array"
    features: set = field(default_factory=set)


class Gen:
    """Generates one program. ``Gen(seed).program()``."""

    def __init__(self, rng, stmt_weights=None, expr_weights=None, program_weights=None):
        self.rng = rng
        self.sw = dict(STMT_WEIGHTS, **(stmt_weights or {}))
        self.ew = dict(EXPR_WEIGHTS, **(expr_weights or {}))
        self.pw = dict(PROGRAM_WEIGHTS, **(program_weights or {}))
        self.features = set()
        self.gen_helpers = []
        self.lines = []
        self.indent = 0
        self.scopes = []          # list of dict name -> Var (innermost last)
        self.loops = []           # per enclosing loop: {"continue": allowed, "break": allowed}
        self.trip = 1             # product of enclosing loop trip counts (for magnitude bounds)
        self.in_closure = False
        self.fn_ret = S           # the return type of the function being generated
        self.fn_depth = 0         # 0: main function body level, >0 inside helper generation
        self.budget = MAX_LINES
        self.helper_count = 0
        self.lambda_names = set()
        self.partials = set()     # names of functools.partial objects
        self.unused = set()       # names defined but not read yet (preferred by the productions)
        self.aliases = set()      # names that may share memory with a module-level array

    # ------------------------------------------------------------------ utilities
    def chance(self, p):
        return self.rng.random() < p

    def pick(self, weights):
        """A key of ``weights`` (a dict name -> weight), drawn with probability proportional to weight."""
        items = [(k, w) for k, w in weights.items() if w > 0]
        total = sum(w for _, w in items)
        x = self.rng.random() * total
        for k, w in items:
            x -= w
            if x < 0:
                return k
        return items[-1][0]

    def emit(self, text):
        self.lines.append("    " * self.indent + text)
        m = _ASSIGN.match(text)
        read = text[m.end():] if m else text
        names = _IDENT.findall(read)
        self.unused.difference_update(names)
        self.unused.difference_update(_DOTTED.findall(read))      # record fields and methods: `p.w`, `self.f`
        self.unused.difference_update(n + ".__call__" for n in names)                         # `model(t)`
        if m and self.aliases.intersection(names):     # may share memory with a module-level array
            self.aliases.update(_IDENT.findall(text[:m.end()]))

    def in_place_ok(self, var):
        """In-place updates (``v += ...``, ``v[i] = ...``) only on arrays that cannot share memory
        with a module-level constant or a helper's parameter: generated programs are pure functions."""
        return var.ty[0] != "V" or (var.name not in self.aliases and not (var.is_arg and self.fn_depth_or_closure()))

    def fn_depth_or_closure(self):
        return self.fn_depth > 0 or self.in_closure

    def lookup(self, name):
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def visible(self):
        seen = {}
        for scope in self.scopes:
            seen.update(scope)
        return list(seen.values())

    def of_type(self, ty, pred=None):
        return [v for v in self.visible() if v.ty == ty and (pred is None or pred(v))]

    def define(self, name, ty, mag=1.0, **kw):
        var = Var(name, ty, min(mag, 1e6), **kw)
        self.scopes[-1][name] = var
        if not kw.get("readonly") or ty[0] == "FN":
            self.unused.add(name)
        return var

    def choose(self, vs):
        """One of variables ``vs``, preferring values not read yet (so that little code is dead)."""
        fresh = [v for v in vs if v.name in self.unused]
        if fresh and self.chance(0.65):
            return self.rng.choice(fresh)
        return self.rng.choice(vs)

    def depends(self, text):
        """Whether expression ``text`` reads a variable (not only literals and module constants)."""
        names = {v.name for v in self.visible() if v.ty[0] != "FN" and v.name not in self.module_scope}
        return any(n in names for n in _IDENT.findall(text))

    def fresh(self, pool, ty):
        """A name for a new variable of type ``ty``: unused, or (at function body level, 20%) a reused
        name whose old value is dropped ("the same name reused for different values")."""
        taken = {v.name for v in self.visible()} | self.lambda_names
        if len(self.scopes) == self.base_depth and self.chance(0.2):
            reusable = [v.name for v in self.scopes[-1].values()
                        if not v.pinned and not v.readonly and v.ty[0] != "FN" and v.name in pool]
            if reusable:
                self.features.add("name_reuse")
                return self.rng.choice(reusable)
        free = [n for n in pool if n not in taken]
        if free:
            return self.rng.choice(free)
        base = self.rng.choice(pool)
        k = 2
        while f"{base}{k}" in taken:
            k += 1
        return f"{base}{k}"

    def writable(self, ty=None):
        """Variables that may be assigned here (with the same type)."""
        out = []
        for v in self.visible():
            if v.readonly or v.ty[0] == "FN" or (ty is not None and v.ty != ty):
                continue
            if self.in_closure and self.lookup(v.name) is not self.scopes[-1].get(v.name):
                continue
            out.append(v)
        return out

    # ------------------------------------------------------------------ expressions
    def expr(self, ty, depth=2):
        kind = ty[0]
        if kind == "S":
            return self.scalar(depth)
        if kind == "V":
            return self.vector(ty[1], depth)
        if kind == "M":
            return self.matrix(ty[1], ty[2], depth)
        if kind == "I":
            return self.integer()
        raise ValueError(ty)

    def squash(self, e):
        """``e`` with a bounded magnitude (for values that may otherwise grow)."""
        if e.mag <= MAXMAG:
            return e
        f = self.rng.choice(["np.tanh", "np.sin", "np.cos"])
        return call(f, e, mag=1.0)

    def scalar(self, depth=2):
        e = self._scalar(depth)
        return self.squash(e)

    def _scalar(self, depth):
        w = dict(self.ew)
        if depth <= 0:
            w = {k: self.ew[k] for k in ("var", "lit", "elem")}
        callables = [v for v in self.visible() if v.ty[0] == "FN" and v.ty[2] in (S, T(2))]
        if not callables:
            w["call"] = 0
        elif "call" in w and any(v.name in self.unused for v in callables):
            w["call"] *= 4
        ints = self.of_type(I)
        if not ints:
            w["int_mix"] = 0
        for _ in range(20):
            kind = self.pick(w)
            e = getattr(self, "s_" + kind)(depth)
            if e is not None:
                return e
        return lit(0.5)

    def s_var(self, depth):
        vs = self.of_type(S)
        if not vs:
            return None
        v = self.choose(vs)
        return E(v.name, ATOM, v.mag)

    def s_lit(self, depth):
        return lit(self.rng.choice(LITERALS))

    def s_elem(self, depth):
        """A scalar read from an array, list, tuple or dict."""
        choices = []
        for v in self.visible():
            k = v.ty[0]
            if k == "V":
                n = v.ty[1]
                choices.append(lambda v=v, n=n: self._index_vec(v, n))
            elif k == "M":
                choices.append(lambda v=v: self._index_mat(v))
            elif k in ("L", "T") and v.ty[1] > 0:
                n = v.ty[1]
                choices.append(lambda v=v, n=n: E(f"{v.name}[{self.rng.randrange(-1, n)}]", ATOM, v.mag))
            elif k == "D":
                keys = [key for key, t in v.ty[1] if t == S]
                if keys:
                    choices.append(lambda v=v, keys=keys: E(f"{v.name}[{self.rng.choice(keys)!r}]", ATOM, v.mag))
        if not choices:
            return None
        self.features.add("indexing")
        return self.rng.choice(choices)()

    def _index_vec(self, v, n):
        idx = [i for i in self.of_type(I) if 0 <= i.lo and i.hi < n]
        if idx and self.chance(0.45):
            i = self.rng.choice(idx)
            self.features.add("index_by_loop_var")
            if i.hi + 1 < n and self.chance(0.25):
                return E(f"{v.name}[{i.name} + 1]", ATOM, v.mag)
            return E(f"{v.name}[{i.name}]", ATOM, v.mag)
        k = self.rng.randrange(-1, n)
        return E(f"{v.name}[{k}]", ATOM, v.mag)

    def _index_mat(self, v):
        r, c = v.ty[1], v.ty[2]
        i, j = self.rng.randrange(r), self.rng.randrange(c)
        if self.chance(0.3):
            return E(f"{v.name}[{i}][{j}]", ATOM, v.mag)
        return E(f"{v.name}[{i}, {j}]", ATOM, v.mag)

    def s_float_cast(self, depth):
        vs = [v for v in self.visible() if v.ty[0] == "V"]
        if not vs:
            return None
        v = self.rng.choice(vs)
        self.features.add("float_cast")
        return E(f"float({v.name}[{self.rng.randrange(v.ty[1])}])", ATOM, v.mag)

    def s_reduce(self, depth):
        """Reductions of arrays and lists to a scalar."""
        kinds = [v for v in self.visible() if v.ty[0] in ("V", "M", "L")]
        if depth > 1 and self.chance(0.4) or not kinds:
            n = self.rng.choice([2, 3, 4])
            a = self.vector(n, depth - 1)
        else:
            src = self.rng.choice(kinds)
            if src.ty[0] == "L":
                self.features.add("list")
                op = self.rng.choice(["sum", "sum", "max", "min", "np_sum"])
                if op == "np_sum":
                    return E(f"np.sum(np.array({src.name}))", ATOM, src.mag * src.ty[1])
                if op in ("max", "min"):
                    self.features.add("kink")
                return E(f"{op}({src.name})", ATOM, src.mag * (src.ty[1] if op == "sum" else 1))
            if src.ty[0] == "M":
                r, c = src.ty[1], src.ty[2]
                op = self.rng.choice(["np.sum", ".sum", "np.mean", ".mean", "trace", "np.max", "pairwise", "einsum"])
                if op == "pairwise":          # an (r, r2, c) intermediate: more axes than any argument
                    others = [v for v in self.visible() if v.ty[0] == "M" and v.ty[2] == c]
                    o = self.rng.choice(others)
                    self.features.add("broadcast3")
                    if self.chance(0.5):
                        return E(f"np.sum(np.tanh({src.name}[:, None, :] - {o.name}[None, :, :]) ** 2)", ATOM,
                                 r * o.ty[1] * c)
                    return E(f"np.sum(np.sum(({src.name}[:, None, :] * {o.name}[None, :, :]) ** 2, axis=2) "
                             f"* 0.1)", ATOM, 0.1 * r * o.ty[1] * c * (src.mag * o.mag) ** 2)
                if op == "einsum":
                    others = [v for v in self.visible() if v.ty[0] == "M" and v.ty[1] == c]
                    self.features.add("einsum")
                    if others and self.chance(0.6):
                        o = self.rng.choice(others)
                        return E(f"np.sum(np.einsum('ij,jk->ik', {src.name}, {o.name}))", ATOM,
                                 src.mag * o.mag * r * c * o.ty[2])
                    return E(f"np.einsum('ij,ij->', {src.name}, {src.name})", ATOM, src.mag ** 2 * r * c)
                if op == "trace" and r == c:
                    return E(f"np.trace({src.name})", ATOM, src.mag * r)
                if op == "np.max":
                    self.features.add("kink")
                    return E(f"np.max({src.name})", ATOM, src.mag)
                if op.startswith("."):
                    return E(f"{src.name}{op}()", ATOM, src.mag * r * c)
                return E(f"{op if op != 'trace' else 'np.sum'}({src.name})", ATOM, src.mag * r * c)
            n = src.ty[1]
            a = E(src.name, ATOM, src.mag)
        op = self.pick({"np.sum": 3, ".sum": 2, "np.mean": 2, ".mean": 1, "dot": 2, "matmul": 1.5, "prod": 0.7,
                        "max": 0.8, "min": 0.5, "norm": 0.4, "sum_builtin": 0.5, "dot_method": 0.5,
                        "axis_none": 0.6, "logsumexp": 0.6})
        if op == "np.sum":
            return E(f"np.sum({a.text})", ATOM, a.mag * n)
        if op == "axis_none":               # a reduction over every axis, spelt out (a number)
            self.features.add("axis_none")
            return E(f"np.{self.rng.choice(['sum', 'mean'])}({a.text}, axis=None)", ATOM, a.mag * n)
        if op == "logsumexp":               # np.max(..., keepdims=True) and np.squeeze of it: numbers
            self.features.add("axis_none")
            self.features.add("kink")
            m = f"np.max({a.text}, axis=None, keepdims=True)"
            return E(f"(np.log(np.sum(np.exp({a.at(ADD)} - {m}), axis=None)) + np.squeeze({m}, axis=None))",
                     ATOM, a.mag + 2.0)
        if op == ".sum":
            return E(f"{a.at(ATOM)}.sum()", ATOM, a.mag * n)
        if op == "np.mean":
            return E(f"np.mean({a.text})", ATOM, a.mag)
        if op == ".mean":
            return E(f"{a.at(ATOM)}.mean()", ATOM, a.mag)
        if op in ("dot", "matmul", "dot_method"):
            b = self.vector(n, depth - 1)
            self.features.add("dot")
            if op == "dot":
                return E(f"np.dot({a.text}, {b.text})", ATOM, a.mag * b.mag * n)
            if op == "dot_method":
                return E(f"{a.at(ATOM)}.dot({b.text})", ATOM, a.mag * b.mag * n)
            return binop(a, "@", b, a.mag * b.mag * n)
        if op == "prod":
            if a.mag > 1.6:
                a = call("np.tanh", a)
            return E(f"np.prod({a.text})", ATOM, a.mag ** n)
        if op in ("max", "min"):
            self.features.add("kink")
            if self.chance(0.5):
                return E(f"{a.at(ATOM)}.{op}()", ATOM, a.mag)
            return E(f"np.{op}({a.text})", ATOM, a.mag)
        if op == "norm":
            self.features.add("kink")
            return E(f"np.linalg.norm({a.text})", ATOM, a.mag * n ** 0.5)
        if op == "sum_builtin":
            return E(f"sum({a.text})", ATOM, a.mag * n)
        return E(f"np.sum({a.text})", ATOM, a.mag * n)

    def s_unary_np(self, depth):
        a = self.scalar(depth - 1)
        f = self.rng.choice(["np.sin", "np.cos", "np.tanh", "np.arctan", "np.sinh"])
        if f == "np.sinh" and a.mag > 3:
            f = "np.tanh"
        mag = {"np.sinh": 11.0}.get(f, 1.6)
        return call(f, a, mag=mag)

    def s_unary_math(self, depth):
        a = self.scalar(depth - 1)
        self.features.add("math")
        f = self.rng.choice(["math.sin", "math.cos", "math.tanh", "math.atan", "math.erf", "math.asin_safe",
                             "math.cosh"])
        if f == "math.asin_safe":
            return call("math.asin", E(f"0.5 * math.tanh({a.text})", MUL, 0.5), mag=0.6)
        if f == "math.cosh":
            if a.mag > 3:
                return call("math.cosh", E(f"math.sin({a.text})"), mag=1.6)
            return call(f, a, mag=11.0)
        return call(f, a, mag=1.6)

    def s_safe_log(self, depth):
        a = self.scalar(depth - 1)
        form = self.rng.randrange(5)
        mag = 1.0 + 2 * (abs(a.mag) ** 0.5 + 1)
        if form == 0:
            return E(f"np.log(1.0 + {a.at(MUL)} * {a.at(MUL + 1)})", ATOM, mag)
        if form == 1:
            self.features.add("math")
            return E(f"math.log(1.0 + {a.at(POW + 1)} ** 2)", ATOM, mag)
        if form == 2:
            return E(f"np.log1p({a.at(MUL)} * {a.at(MUL + 1)})", ATOM, mag)
        if form == 3:
            self.features.add("math")
            return E(f"math.log(2.0 + math.cos({a.text}))", ATOM, 1.1)
        return E(f"np.log(np.cosh({self.squash(a).text}))", ATOM, 1.6)

    def s_safe_sqrt(self, depth):
        a = self.scalar(depth - 1)
        form = self.rng.randrange(4)
        mag = a.mag + 1.0
        if form == 0:
            return E(f"np.sqrt({a.at(MUL)} * {a.at(MUL + 1)} + 0.5)", ATOM, mag)
        if form == 1:
            self.features.add("math")
            return E(f"math.sqrt(1.0 + {a.at(POW + 1)} ** 2)", ATOM, mag)
        if form == 2:
            self.features.add("math")
            return E(f"math.hypot({a.text}, 1.0)", ATOM, mag)
        self.features.add("power")
        return E(f"({a.at(MUL)} * {a.at(MUL + 1)} + 0.5) ** 0.5", POW, mag)

    def s_safe_exp(self, depth):
        a = self.scalar(depth - 1)
        form = self.rng.randrange(4)
        if form == 0:
            return E(f"np.exp(np.tanh({a.text}))", ATOM, 2.8)
        if form == 1 and a.mag <= 6:
            return E(f"np.exp(0.3 * {a.at(MUL + 1)})", ATOM, 2.718 ** (0.3 * a.mag))
        if form == 2:
            self.features.add("math")
            return E(f"math.exp(-{a.at(POW + 1)} ** 2)", ATOM, 1.0)
        self.features.add("math")
        return E(f"math.exp(0.5 * math.sin({a.text}))", ATOM, 1.7)

    def s_safe_div(self, depth):
        a = self.scalar(depth - 1)
        b = self.scalar(depth - 1)
        form = self.rng.randrange(5)
        if form == 0:
            return E(f"{a.at(MUL)} / (1.0 + {b.at(MUL)} * {b.at(MUL + 1)})", MUL, a.mag)
        if form == 1:
            return E(f"{a.at(MUL)} / (2.0 + np.cos({b.text}))", MUL, a.mag)
        if form == 2:
            return E(f"1.0 / (1.0 + {a.at(MUL)} * {a.at(MUL + 1)})", MUL, 1.0)
        if form == 3:
            return E(f"{a.at(MUL)} / {self.rng.choice(['2.0', '3.0', '4.0', '1.5'])}", MUL, a.mag)
        return E(f"{a.at(MUL)} / (1.5 + math.tanh({b.text}))", MUL, 2 * a.mag)

    def s_power(self, depth):
        self.features.add("power")
        a = self.scalar(depth - 1)
        form = self.pick({"sq": 3, "cube": 1.5, "neg_sq": 1.5, "neg_lit": 1, "base2": 1, "sign_k": 1,
                          "int_var": 0.7, "pow_fn": 0.5, "half": 0.5})
        if form == "sq":
            return E(f"{a.at(POW + 1)} ** 2", POW, a.mag ** 2)
        if form == "cube":
            if a.mag > 3:
                a = call("np.sin", a)
            return E(f"{a.at(POW + 1)} ** 3", POW, a.mag ** 3)
        if form == "neg_sq":
            self.features.add("negative_literal")
            return E(f"-{a.at(POW + 1)} ** 2", UNARY, a.mag ** 2)
        if form == "neg_lit":
            self.features.add("negative_literal")
            c = self.rng.choice(["(-0.5) ** 2", "(-1.5) ** 3", "(-2.0) ** 2", "(-0.5) ** 3"])
            return binop(E(c, POW, 3.4), "*", a, 3.4 * a.mag)
        if form == "base2":
            if a.mag > 5:
                a = call("np.tanh", a)
            return E(f"2.0 ** {a.at(UNARY)}", POW, 2 ** a.mag)
        if form == "sign_k":
            ints = self.of_type(I)
            k = self.rng.choice(ints).name if ints and self.chance(0.7) else str(self.rng.randrange(1, 4))
            self.features.add("negative_literal")
            return binop(E(f"(-1.0) ** {k}", POW, 1.0), "*", a, a.mag)
        if form == "int_var":
            ints = [i for i in self.of_type(I) if 0 <= i.lo and i.hi <= 4]
            if ints and a.mag <= 1.6:
                i = self.rng.choice(ints)
                return E(f"{a.at(POW + 1)} ** {i.name}", POW, max(1.0, a.mag ** i.hi))
            return E(f"{a.at(POW + 1)} ** 2", POW, a.mag ** 2)
        if form == "pow_fn":
            self.features.add("math")
            return E(f"math.pow({a.text}, 2)", ATOM, a.mag ** 2)
        return E(f"(1.0 + {a.at(MUL)} * {a.at(MUL + 1)}) ** 1.5", POW, (1 + a.mag ** 2) ** 1.5)

    def s_neg(self, depth):
        a = self.scalar(depth - 1)
        if a.text.startswith("-"):
            return E(f"-({a.text})", UNARY, a.mag)
        return E(f"-{a.at(UNARY)}", UNARY, a.mag)

    def s_arith(self, depth):
        a = self.scalar(depth - 1)
        b = self.scalar(depth - 1)
        op = self.rng.choice(["+", "+", "-", "*", "*"])
        if op == "*":
            if a.mag * b.mag > MAXMAG:
                b = call("np.tanh", b)
            return binop(a, "*", b, a.mag * b.mag)
        return binop(a, op, b, a.mag + b.mag)

    def s_kink(self, depth):
        self.features.add("kink")
        a = self.scalar(depth - 1)
        form = self.pick({"abs": 2, "np.abs": 1, "max": 1.5, "min": 1, "np.maximum": 1, "clip": 0.7,
                          "sign": 0.3, "floor": 0.2})
        if form == "abs":
            return call("abs", a, mag=a.mag)
        if form == "np.abs":
            return call("np.abs", a, mag=a.mag)
        if form in ("max", "min", "np.maximum"):
            b = self.scalar(depth - 1) if self.chance(0.6) else lit(self.rng.choice([0.0, 0.5, -0.5]))
            return call(form, a, b, mag=max(a.mag, b.mag))
        if form == "clip":
            return E(f"np.clip({a.text}, -0.5, 0.8)", ATOM, 0.8)
        if form == "sign":
            return binop(call("np.sign", a), "*", E(f"np.sin({a.text})"), 1.0)
        return binop(E(f"np.floor({a.text})"), "+", E(f"np.sin({a.text})"), a.mag + 2)

    def s_ifexp(self, depth):
        self.features.add("ifexp")
        a = self.scalar(depth - 1)
        b = self.scalar(depth - 1)
        c = self.cond(depth - 1)
        return E(f"{a.at(IFEXP + 1)} if {c.at(IFEXP + 1)} else {b.at(IFEXP)}", IFEXP, max(a.mag, b.mag))

    def s_call(self, depth):
        fns = [v for v in self.visible() if v.ty[0] == "FN" and v.ty[2] in (S, T(2))]
        if not fns:
            return None
        fn = self.choose(fns)
        text = self.call_text(fn, depth)
        if fn.ty[2] == T(2):
            self.features.add("tuple")
            return E(f"{text}[{self.rng.randrange(2)}]", ATOM, fn.mag)
        return E(text, ATOM, fn.mag)

    def call_text(self, fn, depth):
        """A call of callable variable ``fn`` with arguments of its parameter types; keyword
        arguments and defaults sometimes."""
        params, defaults, names = fn.ty[1], fn.ty[3], fn.ty[4]
        parts = []
        use_kw = False
        for k, (pty, name) in enumerate(zip(params, names)):
            if pty == I:                     # recursion depth
                depth_arg = str(self.rng.randint(1, 3))
                parts.append(f"{name}={depth_arg}" if use_kw else depth_arg)
                continue
            has_default = name in defaults
            if has_default and self.chance(0.5):
                use_kw = True
                continue                     # rely on the default
            e = self.expr(pty, max(depth - 1, 0))
            # (keywords are refused for functions known only at run time: a record's methods, a partial)
            kw_ok = fn.name not in self.lambda_names and "." not in fn.name and fn.name not in self.partials
            if (use_kw or (self.chance(0.25) and kw_ok)):
                use_kw = True
                parts.append(f"{name}={e.text}")
                self.features.add("kwargs")
            else:
                parts.append(e.text)
        if fn.name in self.lambda_names:
            self.features.add("lambda")
        if fn.name in self.module_scope and parts and self.chance(0.12):
            # a module-level helper's arguments spread from a display: f(*(a, b)), f(**{'x': a, 'y': b})
            if not use_kw and self.chance(0.4):        # (every part positional: they follow the names)
                pairs = list(zip(names, parts))
                self.features.add("kw_spread")
                return f"{shown(fn.name)}(**{{{', '.join(f'{k!r}: {v}' for k, v in pairs)}}})"
            if not use_kw:
                self.features.add("star_spread")
                opener, closer = ("(", ",)") if self.chance(0.5) else ("[", "]")
                return f"{shown(fn.name)}(*{opener}{', '.join(parts)}{closer})"
        return f"{shown(fn.name)}({', '.join(parts)})"

    def s_int_mix(self, depth):
        ints = self.of_type(I)
        i = self.rng.choice(ints)
        form = self.rng.randrange(3)
        if form == 0:
            return E(f"0.5 * {i.name}", MUL, 0.5 * max(abs(i.lo), abs(i.hi)))
        if form == 1:
            return E(f"float({i.name})", ATOM, max(abs(i.lo), abs(i.hi)))
        a = self.scalar(depth - 1)
        return E(f"({i.name} + 1) * {a.at(MUL + 1)}", MUL, a.mag * (abs(i.hi) + 1))

    def s_trig2(self, depth):
        a = self.scalar(depth - 1)
        b = self.scalar(depth - 1)
        self.features.add("math")
        if self.chance(0.5):
            return E(f"math.atan2({a.text}, 1.5 + {b.at(MUL)} * {b.at(MUL + 1)})", ATOM, 1.6)
        self.features.add("kink")
        return E(f"math.hypot({a.text}, {b.text})", ATOM, a.mag + b.mag)

    def s_genexp(self, depth):
        vs = [v for v in self.visible() if v.ty[0] in ("V", "L")]
        if not vs:
            return None
        src = self.rng.choice(vs)
        self.features.add("genexp")
        name = self.rng.choice([n for n in LOOP_VALUE if not self.lookup(n)] or ["el9"])
        self.scopes.append({})
        self.define(name, S, src.mag, readonly=True)
        body = self.scalar(1)
        self.scopes.pop()
        n = src.ty[1]
        form = self.pick({"sum": 4, "max": 1, "map": 1, "filter": 1, "sorted": 1, "key": 1, "fsum": 0.5,
                          "nested": 0.7, "enumerate": 0.7, "generator": 1.5 if self.gen_helpers else 0})
        self.features.add(f"genexp_{form}")
        if form == "generator":                    # a module-level generator function, used up at once
            g = self.rng.choice(self.gen_helpers)
            c = self.scalar(1)
            if self.chance(0.5):
                return E(f"sum({g}({src.name}, {c.text}))", ATOM, 1.5 * c.mag * n)
            return E(f"max({g}({src.name}, {c.text}))", ATOM, 1.5 * c.mag)
        if form == "max":
            self.features.add("kink")
            return E(f"{self.rng.choice(['max', 'min'])}({body.text} for {name} in {src.name})", ATOM, body.mag)
        if form == "map":
            self.features.add("lambda")
            return E(f"sum(map(lambda {name}: {body.text}, {src.name}))", ATOM, body.mag * n)
        if form == "filter":
            self.features.add("kink")
            return E(f"sum(filter(lambda {name}: {name} > 0.1, {src.name}))", ATOM, src.mag * n)
        if form == "sorted":
            self.features.add("kink")
            k = self.rng.randrange(n)
            rev = ", reverse=True" if self.chance(0.5) else ""
            return E(f"sorted([{body.text} for {name} in {src.name}]{rev})[{k}]", ATOM, body.mag)
        if form == "key":
            self.features.add("kink")
            f = self.rng.choice(["max", "min"])
            return E(f"{f}({src.name}, key=lambda {name}: abs({name} - 0.3))", ATOM, src.mag)
        if form == "fsum":
            self.features.add("math")
            return E(f"math.fsum({body.text} for {name} in {src.name})", ATOM, body.mag * n)
        if form == "nested":
            other = self.rng.choice(["o1", "o2"])
            return E(f"sum({name} * {other} for {name} in {src.name} for {other} in {src.name} if {name} > {other})",
                     ATOM, src.mag * src.mag * n * n)
        if form == "enumerate":
            idx = self.rng.choice(["j1", "j2"])
            return E(f"sum(({idx} + 1) * ({body.text}) for {idx}, {name} in enumerate({src.name}))", ATOM,
                     body.mag * n * (n + 1))
        return E(f"sum({body.text} for {name} in {src.name})", ATOM, body.mag * n)

    # vectors --------------------------------------------------------------------------------
    def vector(self, n, depth=2):
        e = self._vector(n, depth)
        return self.squash_vec(e)

    def squash_vec(self, e):
        if e.mag <= MAXMAG:
            return e
        return call("np.tanh", e, mag=1.0)

    def _vector(self, n, depth):
        w = {"var": 6, "build": 1.5, "slice": 2, "matvec": 1.5 if depth > 0 else 0, "unary": 3 if depth > 0 else 0,
             "binary": 4 if depth > 0 else 0, "scalar_bcast": 2 if depth > 0 else 0, "kink": 1 if depth > 0 else 0,
             "where": 0.8 if depth > 0 else 0, "cumsum": 0.4 if depth > 0 else 0, "concat": 0.6 if depth > 0 else 0,
             "call": 1.5 if depth > 0 else 0, "from_list": 0.7, "reduce_axis": 0.7, "sort": 0.15 if depth > 0 else 0,
             "rearrange": 0.6 if depth > 0 else 0, "diag": 0.3}
        for _ in range(20):
            kind = self.pick(w)
            e = getattr(self, "v_" + kind)(n, depth)
            if e is not None:
                return e
        return self.v_build(n, depth)

    def v_var(self, n, depth):
        vs = self.of_type(V(n))
        if not vs:
            return None
        v = self.choose(vs)
        return E(v.name, ATOM, v.mag)

    def v_build(self, n, depth):
        form = self.rng.randrange(5)
        s = self.scalar(max(depth - 1, 0))
        if form == 0:
            return E(f"np.full({n}, {s.text})", ATOM, s.mag)
        if form == 1:
            return E(f"np.linspace(0.0, {s.text}, {n})", ATOM, s.mag)
        if form == 2 and n <= 4:
            elems = [s] + [self.scalar(max(depth - 2, 0)) for _ in range(n - 1)]
            self.rng.shuffle(elems)
            return E(f"np.array([{', '.join(e.text for e in elems)}])", ATOM, max(e.mag for e in elems))
        if form == 3:
            return E(f"np.ones({n}) * {s.at(MUL + 1)}", MUL, s.mag)
        return E(f"np.arange({n}) * {s.at(MUL + 1)}", MUL, s.mag * n)

    def v_slice(self, n, depth):
        opts = []
        for v in self.visible():
            if v.ty[0] == "V":
                m = v.ty[1]
                if m == n:
                    opts.append(E(f"{v.name}[::-1]", ATOM, v.mag))
                    opts.append(E(f"{v.name}[:]", ATOM, v.mag))
                if m == n + 1:
                    opts.append(E(f"{v.name}[1:]", ATOM, v.mag))
                    opts.append(E(f"{v.name}[:-1]", ATOM, v.mag))
                if m >= n + 1 and n >= 1:
                    k = self.rng.randrange(m - n + 1)
                    opts.append(E(f"{v.name}[{k}:{k + n}]", ATOM, v.mag))
                if m == 2 * n:
                    opts.append(E(f"{v.name}[::2]", ATOM, v.mag))
            elif v.ty[0] == "M":
                r, c = v.ty[1], v.ty[2]
                if r == n:
                    opts.append(E(f"{v.name}[:, {self.rng.randrange(c)}]", ATOM, v.mag))
                if c == n:
                    opts.append(E(f"{v.name}[{self.rng.randrange(r)}]", ATOM, v.mag))
                    opts.append(E(f"{v.name}[{self.rng.randrange(r)}, :]", ATOM, v.mag))
                    idx = [i for i in self.of_type(I) if 0 <= i.lo and i.hi < r]
                    if idx:
                        opts.append(E(f"{v.name}[{self.rng.choice(idx).name}]", ATOM, v.mag))
                if r * c == n:
                    opts.append(E(f"{v.name}.ravel()", ATOM, v.mag))
                    opts.append(E(f"{v.name}.reshape(-1)", ATOM, v.mag))
        if not opts:
            return None
        self.features.add("slicing")
        return self.rng.choice(opts)

    def v_matvec(self, n, depth):
        ms = [v for v in self.visible() if v.ty[0] == "M" and n in (v.ty[1], v.ty[2])]
        if not ms:
            return None
        m = self.rng.choice(ms)
        r, c = m.ty[1], m.ty[2]
        self.features.add("matmul")
        if r == n and (c != n or self.chance(0.5)):
            x = self.vector(c, depth - 1)
            if self.chance(0.6):
                return binop(E(m.name), "@", x, m.mag * x.mag * c)
            return E(f"np.dot({m.name}, {x.text})", ATOM, m.mag * x.mag * c)
        x = self.vector(r, depth - 1)
        if self.chance(0.5):
            return binop(x, "@", E(m.name), m.mag * x.mag * r)
        return binop(E(f"{m.name}.T"), "@", x, m.mag * x.mag * r)

    def v_unary(self, n, depth):
        a = self.vector(n, depth - 1)
        form = self.pick({"np.sin": 2, "np.cos": 1, "np.tanh": 2, "exp": 1, "log1p": 1, "sqrt": 1, "neg": 1,
                          "sq": 1, "recip": 1, "arctan": 0.5, "power3": 0.4})
        if form in ("np.sin", "np.cos", "np.tanh"):
            return call(form, a, mag=1.0)
        if form == "arctan":
            return call("np.arctan", a, mag=1.6)
        if form == "exp":
            if a.mag > 6:
                a = call("np.tanh", a)
            return E(f"np.exp(0.3 * {a.at(MUL + 1)})", ATOM, 2.718 ** (0.3 * a.mag))
        if form == "log1p":
            return E(f"np.log1p({a.at(MUL)} * {a.at(MUL + 1)})", ATOM, 1 + 2 * a.mag ** 0.5)
        if form == "sqrt":
            return E(f"np.sqrt({a.at(MUL)} * {a.at(MUL + 1)} + 0.5)", ATOM, a.mag + 1)
        if form == "neg":
            return E(f"-{a.at(UNARY)}", UNARY, a.mag)
        if form == "sq":
            self.features.add("power")
            return E(f"{a.at(POW + 1)} ** 2", POW, a.mag ** 2)
        if form == "power3":
            self.features.add("power")
            if a.mag > 2:
                a = call("np.tanh", a)
            return E(f"{a.at(POW + 1)} ** 3", POW, a.mag ** 3)
        return E(f"1.0 / (1.0 + {a.at(MUL)} * {a.at(MUL + 1)})", MUL, 1.0)

    def v_binary(self, n, depth):
        a = self.vector(n, depth - 1)
        b = self.vector(n, depth - 1)
        op = self.rng.choice(["+", "-", "*", "*", "/"])
        if op == "/":
            return E(f"{a.at(MUL)} / (1.5 + np.cos({b.text}))", MUL, 2 * a.mag)
        if op == "*":
            if a.mag * b.mag > MAXMAG:
                b = call("np.tanh", b)
            return binop(a, "*", b, a.mag * b.mag)
        return binop(a, op, b, a.mag + b.mag)

    def v_scalar_bcast(self, n, depth):
        a = self.vector(n, depth - 1)
        s = self.scalar(depth - 1)
        self.features.add("broadcast")
        op = self.rng.choice(["+", "-", "*", "*"])
        if op == "*":
            if a.mag * s.mag > MAXMAG:
                s = call("np.tanh", s)
            return binop(s, "*", a, a.mag * s.mag) if self.chance(0.5) else binop(a, "*", s, a.mag * s.mag)
        return binop(a, op, s, a.mag + s.mag)

    def v_kink(self, n, depth):
        self.features.add("kink")
        a = self.vector(n, depth - 1)
        form = self.rng.choice(["maximum0", "maximum", "minimum", "clip", "abs", "abs_method"])
        if form == "maximum0":
            return E(f"np.maximum({a.text}, 0.0)", ATOM, a.mag)
        if form in ("maximum", "minimum"):
            b = self.vector(n, depth - 1) if self.chance(0.5) else self.scalar(depth - 1)
            return E(f"np.{form}({a.text}, {b.text})", ATOM, max(a.mag, b.mag))
        if form == "clip":
            return E(f"np.clip({a.text}, -0.5, 0.8)", ATOM, 0.8)
        if form == "abs":
            return E(f"np.abs({a.text})", ATOM, a.mag)
        return E(f"abs({a.text})", ATOM, a.mag)

    def v_where(self, n, depth):
        self.features.add("where")
        a = self.vector(n, depth - 1)
        b = self.vector(n, depth - 1) if self.chance(0.6) else self.scalar(depth - 1)
        t = self.rng.choice(["0.0", "0.0", "0.3", "-0.2"])
        if self.chance(0.3):
            s = self.scalar(depth - 1)
            t = s.at(CMP + 1)
        cmp = self.rng.choice([">", "<"])
        return E(f"np.where({a.at(CMP + 1)} {cmp} {t}, {a.text}, {b.text})", ATOM, max(a.mag, b.mag))

    def v_cumsum(self, n, depth):
        a = self.vector(n, depth - 1)
        return E(f"np.cumsum({a.text})", ATOM, a.mag * n)

    def v_concat(self, n, depth):
        if n < 2:
            return None
        k = self.rng.randrange(1, n)
        a = self.vector(k, depth - 1)
        b = self.vector(n - k, depth - 1)
        self.features.add("concatenate")
        if self.chance(0.2):
            return E(f"np.hstack([{a.text}, {b.text}])", ATOM, max(a.mag, b.mag))
        return E(f"np.concatenate([{a.text}, {b.text}])", ATOM, max(a.mag, b.mag))

    def v_call(self, n, depth):
        fns = [v for v in self.visible() if v.ty[0] == "FN" and v.ty[2] == V(n)]
        if not fns:
            return None
        fn = self.rng.choice(fns)
        return E(self.call_text(fn, depth), ATOM, fn.mag)

    def v_from_list(self, n, depth):
        ls = self.of_type(L(n))
        if not ls:
            return None
        self.features.add("list")
        v = self.rng.choice(ls)
        return E(f"np.array({v.name})", ATOM, v.mag)

    def v_reduce_axis(self, n, depth):
        ms = [v for v in self.visible() if v.ty[0] == "M" and n in (v.ty[1], v.ty[2])]
        if not ms:
            return None
        m = self.rng.choice(ms)
        r, c = m.ty[1], m.ty[2]
        axis = 0 if c == n else 1
        op = self.rng.choice(["np.sum", "np.mean", ".sum", ".mean", "np.max"])
        if op == "np.max":
            self.features.add("kink")
            return E(f"np.max({m.name}, axis={axis})", ATOM, m.mag)
        count = r if axis == 0 else c
        mag = m.mag * (count if "sum" in op else 1)
        if op.startswith("."):
            return E(f"{m.name}{op}(axis={axis})", ATOM, mag)
        return E(f"{op}({m.name}, axis={axis})", ATOM, mag)

    def v_rearrange(self, n, depth):
        """Functions that move, copy or zero items, differences, cumulative products, convolutions."""
        self.features.add("rearrange")
        form = self.rng.choice(["flip", "roll", "take", "pad", "repeat", "tile", "diff", "cumprod", "convolve",
                                "median", "take_method"])
        if form == "flip":
            a = self.vector(n, depth - 1)
            return E(f"np.flip({a.text})", ATOM, a.mag)
        if form == "roll":
            a = self.vector(n, depth - 1)
            return E(f"np.roll({a.text}, {self.rng.choice([1, -1, 2])})", ATOM, a.mag)
        if form in ("take", "take_method"):
            a = self.vector(n, depth - 1)
            idx = [self.rng.randrange(n) for _ in range(n)]
            if form == "take_method" and a.prec == ATOM:
                return E(f"{a.text}.take({idx})", ATOM, a.mag)
            return E(f"np.take({a.text}, {idx})", ATOM, a.mag)
        if form == "pad" and n >= 3:
            a = self.vector(n - 2, depth - 1)
            mode = self.rng.choice(["", ", mode='edge'", ", mode='reflect'"]) if n >= 4 else ""
            return E(f"np.pad({a.text}, 1{mode})", ATOM, a.mag)
        if form == "repeat" and n % 2 == 0:
            a = self.vector(n // 2, depth - 1)
            return E(f"np.repeat({a.text}, 2)", ATOM, a.mag)
        if form == "tile" and n % 2 == 0:
            a = self.vector(n // 2, depth - 1)
            return E(f"np.tile({a.text}, 2)", ATOM, a.mag)
        if form == "diff":
            a = self.vector(n + 1, depth - 1)
            return E(f"np.diff({a.text})", ATOM, 2 * a.mag)
        if form == "cumprod":
            a = self.vector(n, depth - 1)
            return E(f"np.cumprod(1.0 + 0.5 * np.tanh({a.text}))", ATOM, 1.5 ** n)
        if form == "convolve" and n >= 2:
            k = self.rng.randrange(1, n)
            a = self.vector(n - k + 1, depth - 1)
            b = self.vector(k, depth - 1)
            return E(f"np.convolve({a.text}, {b.text})", ATOM, a.mag * b.mag * k)
        if form == "median":
            ms = [v for v in self.visible() if v.ty[0] == "M" and v.ty[2] == n]
            if ms:
                self.features.add("kink")
                m = self.rng.choice(ms)
                return E(f"np.median({m.name}, axis=0)", ATOM, m.mag)
        return None

    def v_diag(self, n, depth):
        ms = [v for v in self.visible() if v.ty[0] == "M" and min(v.ty[1], v.ty[2]) == n]
        if not ms:
            return None
        m = self.rng.choice(ms)
        self.features.add("rearrange")
        return E(f"np.diag({m.name})" if self.chance(0.5) else f"{m.name}.diagonal()", ATOM, m.mag)

    def v_sort(self, n, depth):
        self.features.add("kink")
        a = self.vector(n, depth - 1)
        return E(f"np.sort({a.text})", ATOM, a.mag)

    # matrices -------------------------------------------------------------------------------
    def matrix(self, r, c, depth=2):
        e = self._matrix(r, c, depth)
        if e.mag > MAXMAG:
            e = call("np.tanh", e, mag=1.0)
        return e

    def _matrix(self, r, c, depth):
        w = {"var": 6, "outer": 1.5, "stack": 1, "transpose": 1, "unary": 2 if depth > 0 else 0,
             "binary": 2 if depth > 0 else 0, "bcast": 1.5 if depth > 0 else 0, "matmul": 1 if depth > 0 else 0,
             "reshape": 0.5, "full": 0.4, "where": 0.5 if depth > 0 else 0, "tri": 0.4 if depth > 0 else 0}
        for _ in range(20):
            kind = self.pick(w)
            e = getattr(self, "m_" + kind)(r, c, depth)
            if e is not None:
                return e
        return self.m_outer(r, c, depth)

    def m_tri(self, r, c, depth):
        """Triangles, a diagonal matrix, flips (functions that move or zero items)."""
        self.features.add("rearrange")
        form = self.rng.choice(["tril", "triu", "diag", "flipud", "rot90"])
        if form == "diag" and r == c:
            v = self.vector(r, depth - 1)
            return E(f"np.diag({v.text})", ATOM, v.mag)
        if form == "rot90" and r != c:
            m = self.matrix(c, r, depth - 1)
            return E(f"np.rot90({m.text})", ATOM, m.mag)
        m = self.matrix(r, c, depth - 1)
        if form in ("tril", "triu"):
            return E(f"np.{form}({m.text}{self.rng.choice(['', ', 1', ', -1'])})", ATOM, m.mag)
        return E(f"np.flipud({m.text})", ATOM, m.mag)

    def m_var(self, r, c, depth):
        vs = self.of_type(M(r, c))
        if not vs:
            return None
        v = self.choose(vs)
        return E(v.name, ATOM, v.mag)

    def m_outer(self, r, c, depth):
        a = self.vector(r, max(depth - 1, 0))
        b = self.vector(c, max(depth - 1, 0))
        self.features.add("outer")
        if self.chance(0.25):
            return E(f"{a.at(ATOM)}[:, None] * {b.at(ATOM)}[None, :]", MUL, a.mag * b.mag)
        return E(f"np.outer({a.text}, {b.text})", ATOM, a.mag * b.mag)

    def m_stack(self, r, c, depth):
        if r > 4:
            return None
        rows = [self.vector(c, max(depth - 2, 0)) for _ in range(r)]
        self.features.add("stack")
        if self.chance(0.3):
            return E(f"np.vstack([{', '.join(x.text for x in rows)}])", ATOM, max(x.mag for x in rows))
        return E(f"np.stack([{', '.join(x.text for x in rows)}])", ATOM, max(x.mag for x in rows))

    def m_transpose(self, r, c, depth):
        vs = self.of_type(M(c, r))
        if not vs:
            return None
        v = self.rng.choice(vs)
        self.features.add("transpose")
        return E(f"{v.name}.T" if self.chance(0.7) else f"np.transpose({v.name})", ATOM, v.mag)

    def m_unary(self, r, c, depth):
        a = self.matrix(r, c, depth - 1)
        f = self.rng.choice(["np.sin", "np.tanh", "np.cos"])
        if self.chance(0.2):
            return E(f"{a.at(POW + 1)} ** 2", POW, a.mag ** 2)
        return call(f, a, mag=1.0)

    def m_binary(self, r, c, depth):
        a = self.matrix(r, c, depth - 1)
        b = self.matrix(r, c, depth - 1)
        op = self.rng.choice(["+", "-", "*"])
        if op == "*":
            return binop(a, op, b, a.mag * b.mag)
        return binop(a, op, b, a.mag + b.mag)

    def m_bcast(self, r, c, depth):
        a = self.matrix(r, c, depth - 1)
        self.features.add("broadcast")
        form = self.rng.randrange(3)
        if form == 0:
            v = self.vector(c, depth - 1)
            return binop(a, "*", v, a.mag * v.mag)
        if form == 1:
            v = self.vector(r, depth - 1)
            return E(f"{a.at(ADD)} + {v.at(ATOM)}[:, None]", ADD, a.mag + v.mag)
        s = self.scalar(depth - 1)
        return binop(s, "*", a, a.mag * s.mag)

    def m_matmul(self, r, c, depth):
        k = self.rng.choice([2, 3, 4])
        ms = [v for v in self.visible() if v.ty[0] == "M" and v.ty[1] == r]
        if ms:
            a = self.rng.choice(ms)
            k = a.ty[2]
            a = E(a.name, ATOM, a.mag)
        else:
            a = self.matrix(r, k, depth - 1)
        b = self.matrix(k, c, depth - 1)
        self.features.add("matmul")
        return binop(a, "@", b, a.mag * b.mag * k)

    def m_reshape(self, r, c, depth):
        n = r * c
        if n > 12:
            return None
        s = self.scalar(max(depth - 1, 0))
        self.features.add("reshape")
        vs = self.of_type(M(c, r))
        if vs and self.chance(0.5):
            v = self.rng.choice(vs)
            return E(f"{v.name}.reshape({r}, {c})", ATOM, v.mag)
        return E(f"np.linspace(-1.0, {s.text}, {n}).reshape({r}, {c})", ATOM, max(1.0, s.mag))

    def m_full(self, r, c, depth):
        s = self.scalar(max(depth - 1, 0))
        return E(f"np.full(({r}, {c}), {s.text})", ATOM, s.mag)

    def m_where(self, r, c, depth):
        a = self.matrix(r, c, depth - 1)
        self.features.add("where")
        return E(f"np.where({a.at(CMP + 1)} > 0.0, {a.text}, 0.5 * {a.at(MUL + 1)})", ATOM, a.mag)

    # ints and conditions --------------------------------------------------------------------
    def integer(self):
        ints = self.of_type(I)
        if ints and self.chance(0.6):
            return E(self.rng.choice(ints).name)
        return E(str(self.rng.randint(1, 3)))

    def cond(self, depth=1):
        """A boolean condition: comparisons of computed values with constants or each other, chained
        comparisons, and/or/not, int tests. It reads some variable (no constant conditions)."""
        for _ in range(6):
            c = self._cond(depth)
            if self.depends(c.text) and not re.search(r"\b(\w+) [<>]=? \1\b", c.text):
                return c
        return c

    def _cond(self, depth=1):
        self.features.add("compare")
        form = self.pick({"const": 5, "two": 2, "chained": 1, "and": 1 if depth > 0 else 0,
                          "or": 0.7 if depth > 0 else 0, "not": 0.5 if depth > 0 else 0, "int": 0.8, "abs": 0.5,
                          "array": 0.7})
        if form == "const":
            a = self.scalar(max(depth, 1))
            t = self.rng.choice([0.0, 0.0, 0.5, -0.5, 0.2, 1.0, -0.3]) * min(a.mag, 3.0) ** 0.5
            t = round(t, 2)
            op = self.rng.choice([">", "<", ">=", "<="])
            return E(f"{a.at(CMP + 1)} {op} {lit(t).text}", CMP)
        if form == "two":
            a = self.scalar(max(depth, 1))
            b = self.scalar(max(depth, 1))
            return E(f"{a.at(CMP + 1)} {self.rng.choice(['>', '<'])} {b.at(CMP + 1)}", CMP)
        if form == "chained":
            a = self.scalar(max(depth, 1))
            lo = self.rng.choice(["0.0", "-0.5", "-1.0"])
            hi = self.rng.choice(["1.0", "0.5", "2.0"])
            self.features.add("chained_compare")
            return E(f"{lo} < {a.at(CMP + 1)} < {hi}", CMP)
        if form in ("and", "or"):
            self.features.add("boolop")
            a = self.cond(depth - 1)
            b = self.cond(depth - 1)
            prec = AND if form == "and" else OR
            return E(f"{a.at(prec + 1)} {form} {b.at(prec + 1)}", prec)
        if form == "not":
            self.features.add("boolop")
            a = self.cond(depth - 1)
            return E(f"not {a.at(NOT)}", NOT)
        if form == "int":
            ints = self.of_type(I)
            if ints:
                i = self.rng.choice(ints)
                if self.chance(0.2):                      # membership in a set of ints (a display or a comprehension)
                    self.features.add("set")
                    return E(self.rng.choice([f"{i.name} in {{{i.lo}, {i.hi}}}",
                                              f"{i.name} not in {{k * 2 for k in range({i.hi + 1})}}"]), CMP)
                return E(self.rng.choice([f"{i.name} % 2 == 0", f"{i.name} > {i.lo}", f"{i.name} == {i.hi}",
                                          f"{i.name} < {max(i.lo + 1, i.hi)}"]), CMP)
            return self.cond(0)
        if form == "abs":
            a = self.scalar(max(depth, 1))
            self.features.add("kink")
            return E(f"abs({a.text}) < {self.rng.choice(['0.5', '1.0', '0.8'])}", CMP)
        n = self.rng.choice([2, 3, 4])
        a = self.vector(n, 1)
        self.features.add("array_compare")
        return E(self.rng.choice([f"np.sum({a.text}) > 0.0", f"np.all({a.at(CMP + 1)} > -1.0)",
                                  f"np.any({a.at(CMP + 1)} > 0.5)", f"{a.at(ATOM)}[0] > {a.at(ATOM)}[-1]"]), CMP)

    # ------------------------------------------------------------------ statements
    def block(self, count, trip=1, loop=None):
        """Generate a nested block of ``count`` statements (at least one line)."""
        self.indent += 1
        self.scopes.append({})
        if loop is not None:
            self.loops.append(loop)
        old_trip = self.trip
        self.trip *= trip
        start = len(self.lines)
        for _ in range(count):
            self.statement()
        if len(self.lines) == start:
            self.budget += 1
            self.assign_stmt(simple=True)
        self.trip = old_trip
        if loop is not None:
            self.loops.pop()
        scope = self.scopes.pop()
        self.indent -= 1
        return scope

    def statement(self):
        if len(self.lines) >= self.budget:
            return                       # the line budget is soft: nested blocks still get a body
        w = dict(self.sw)
        for k in self.theme:
            w[k] = w.get(k, 0) * 4
        nested = self.indent - self.base_indent
        compound = ("for", "while", "nested", "if", "taylor", "list_append", "closure", "array_write", "dict")
        if nested >= 3 or len(self.lines) > self.budget - 4:
            for k in list(w):
                if k.startswith(compound):
                    w[k] = 0
        elif nested == 2:
            for k in list(w):
                if k.startswith(compound):
                    w[k] *= 0.2
        if len(self.loops) >= 2:
            for k in list(w):
                if k.startswith(("for", "while", "nested", "taylor", "list_append")):
                    w[k] = 0
        if len(self.scopes) > self.base_depth:       # inside a block: update the values outside it
            for k in ("reassign", "augassign", "reassign_arg"):
                w[k] = w.get(k, 0) * 3
            w["assign"] *= 0.4
        if self.in_closure:
            for k in ("closure", "lambda", "early_return", "nested_if_return", "reassign_arg", "helper_unpack"):
                w[k] = 0
        if self.fn_depth > 0:
            w["closure"] = 0
        for _ in range(20):
            kind = self.pick(w)
            if getattr(self, "st_" + kind)() is not False:
                return
        self.assign_stmt()

    # simple statements
    def assign_stmt(self, simple=False):
        ty = self.rng.choice(self.value_types())
        e = self.expr(ty, 1 if simple else self.rng.choice([1, 2, 2, 3]))
        name = self.fresh(self.pool(ty), ty)
        old = self.lookup(name)
        if old is not None and old.ty != ty and self.scopes[-1].get(name) is not old:
            name = self.fresh(self.pool(ty) + [name + "2"], ty)
        self.emit(f"{name} = {e.text}")
        self.define(name, ty, e.mag)

    def value_types(self):
        tys = [S, S, S]
        for v in self.visible():
            if v.ty[0] in ("V", "M"):
                tys.append(v.ty)
        if self.chance(0.2):
            tys.append(V(self.rng.choice([2, 3, 4])))
        return tys

    def pool(self, ty):
        return {"S": SCALAR_NAMES, "V": VEC_NAMES, "M": MAT_NAMES, "L": LIST_NAMES, "T": TUPLE_NAMES,
                "D": DICT_NAMES, "I": INT_NAMES}[ty[0]]

    def st_assign(self):
        self.assign_stmt()

    def update_expr(self, var):
        """A new value for ``var`` computed from its old one (bounded inside loops)."""
        ty = var.ty
        old = E(var.name, ATOM, var.mag)
        if self.trip > 1:                       # loop-carried: additive or contractive
            form = self.rng.randrange(4)
            hidden, var.ty = var.ty, ("hidden",)  # the increment does not read the variable itself
            inc = self.expr(ty, 1)
            var.ty = hidden
            if form == 0:
                return binop(old, "+", inc, var.mag + self.trip * inc.mag)
            if form == 1:
                return binop(E(f"0.5 * {var.name}", MUL, var.mag), "+", inc, var.mag + 2 * inc.mag)
            if form == 2:
                f = "np.tanh" if ty != S or self.chance(0.5) else "math.tanh"
                if f == "math.tanh":
                    self.features.add("math")
                return binop(E(f"{f}({var.name})"), "+", inc, 1 + inc.mag * 2)
            return binop(E(f"np.sin({var.name})"), "*", call("np.tanh", inc), 1.0)
        saved = var.readonly
        e = self.expr(ty, 2)
        if e.text == var.name:
            e = self.expr(ty, 2)
        if var.name not in e.text and self.chance(0.7) or e.text == var.name:
            op = self.rng.choice(["+", "*", "-"])
            if op == "*":
                e = self.squash_any(e, ty)
                return binop(old, "*", e, var.mag * e.mag)
            return binop(old, op, e, var.mag + e.mag)
        var.readonly = saved
        return e

    def squash_any(self, e, ty):
        if e.mag <= 3:
            return e
        return call("np.tanh", e, mag=1.0)

    def st_reassign(self):
        vs = [v for v in self.writable() if v.ty[0] in ("S", "V", "M")]
        if not vs:
            return False
        var = self.rng.choice(vs)
        e = self.update_expr(var)
        e = self.squash(e) if var.ty == S else (self.squash_vec(e) if var.ty[0] == "V" else e)
        self.emit(f"{var.name} = {e.text}")
        var.mag = max(var.mag, e.mag) if self.trip > 1 or len(self.scopes) > self.base_depth else e.mag
        self.features.add("reassign")

    def st_reassign_arg(self):
        vs = [v for v in self.writable() if v.is_arg and v.ty[0] in ("S", "V", "M")]
        if not vs:
            return False
        var = self.rng.choice(vs)
        self.features.add("reassign_arg")
        e = self.update_expr(var)
        e = self.squash(e) if var.ty == S else (self.squash_vec(e) if var.ty[0] == "V" else e)
        self.emit(f"{var.name} = {e.text}")
        var.mag = max(var.mag, e.mag)

    def st_augassign(self):
        vs = [v for v in self.writable() if v.ty[0] in ("S", "V") and self.in_place_ok(v)]
        if not vs:
            return False
        var = self.rng.choice(vs)
        op = self.pick({"+=": 4, "-=": 2, "*=": 2, "/=": 1.5})
        self.features.add("augassign")
        if op in ("+=", "-="):
            inc = self.expr(var.ty if self.chance(0.7) else S, 2)
            self.emit(f"{var.name} {op} {inc.text}")
            var.mag = var.mag + self.trip * inc.mag
        elif op == "*=":
            s = self.scalar(1)
            form = self.rng.randrange(3)
            if form == 0:
                self.emit(f"{var.name} *= 1.0 + 0.3 * np.tanh({s.text})")
                var.mag *= 1.3 ** self.trip
            elif form == 1:
                self.emit(f"{var.name} *= {self.rng.choice(['0.5', '0.9', '1.1', '-0.8', '1.5'])}")
                var.mag *= 1.5 ** self.trip
            else:
                self.emit(f"{var.name} *= np.cos({s.text})")
        else:
            s = self.scalar(1)
            self.emit(f"{var.name} /= {self.rng.choice(['2.0 + np.sin', '1.5 + np.tanh', '1.0 + np.exp'])}({s.text})")
            var.mag *= 2.0 ** self.trip
        if var.mag > 1e4:
            var.mag = 1e4

    def st_unpack(self):
        vs = [v for v in self.visible() if (v.ty[0] == "V" and v.ty[1] in (2, 3, 4)) or v.ty[0] == "T"]
        if not vs:
            return False
        src = self.rng.choice(vs)
        n = src.ty[1]
        names = []
        taken = set()
        for _ in range(n):
            nm = self.fresh([x for x in SCALAR_NAMES if x not in taken], S)
            old = self.lookup(nm)
            if old is not None and (old.ty != S and self.scopes[-1].get(nm) is not old):
                return False
            taken.add(nm)
            names.append(nm)
        if len(set(names)) != n or src.name in names:
            return False
        self.features.add("unpack")
        value, mag = src.name, src.mag
        if src.ty[0] == "V" and self.chance(0.4):      # a, b = q / s, np.tanh(q): one array, then unpacked
            e = self.vector(n, 1)
            if not set(names) & set(_IDENT.findall(e.text)):
                value, mag = e.text, e.mag
                self.features.add("unpack_expression")
        self.emit(f"{', '.join(names)} = {value}")
        for nm in names:
            self.define(nm, S, mag)

    def st_swap(self):
        vs = self.writable(S)
        if len(vs) < 2:
            return False
        a, b = self.rng.sample(vs, 2)
        self.features.add("swap")
        self.emit(f"{a.name}, {b.name} = {b.name}, {a.name} + {self.rng.choice(['0.5', '1.0'])} * {b.name}")
        m = max(a.mag, b.mag)
        a.mag, b.mag = 2 * m, 2 * m

    def st_tuple(self):
        n = self.rng.choice([2, 2, 3])
        elems = [self.scalar(1) for _ in range(n)]
        name = self.fresh(TUPLE_NAMES, T(n))
        self.features.add("tuple")
        self.emit(f"{name} = ({', '.join(e.text for e in elems)})")
        self.define(name, T(n), max(e.mag for e in elems))

    def st_dict(self):
        keys = self.rng.sample(["w", "b", "scale", "shift", "rate", "lo"], self.rng.choice([2, 3]))
        items = []
        texts = []
        mags = []
        for k in keys:
            if self.chance(0.25):
                n = self.rng.choice([3, 4])
                e = self.vector(n, 1)
                items.append((k, V(n)))
            else:
                e = self.scalar(1)
                items.append((k, S))
            texts.append(f"{k!r}: {e.text}")
            mags.append(e.mag)
        name = self.fresh(DICT_NAMES, ("D", tuple(items)))
        self.features.add("dict")
        if self.chance(0.25) and all(t == S for _, t in items):      # the same dict, as a comprehension
            self.features.add("dictcomp")
            values = [t.split(": ", 1)[1] for t in texts]
            self.emit(f"{name} = {{key: value for key, value in zip({keys!r}, [{', '.join(values)}])}}")
        else:
            self.emit(f"{name} = {{{', '.join(texts)}}}")
        var = self.define(name, ("D", tuple(items)), max(mags))
        if self.chance(0.3) and self.trip == 1:
            k = self.rng.choice(["extra", "bias"])
            e = self.scalar(1)
            self.emit(f"{name}[{k!r}] = {e.text}")
            var.ty = ("D", tuple(items) + ((k, S),))
            var.mag = max(var.mag, e.mag)
            self.features.add("dict_write")
        arrays = [(k, t) for k, t in var.ty[1] if t != S]
        if arrays and self.chance(0.35) and self.trip == 1:   # an item updated in place (`d['w'] += e`: the array
            k, t = self.rng.choice(arrays)                     # object itself changes, which anything else holding
            e = self.vector(t[1], 1) if isinstance(t, tuple) and len(t) > 1 and isinstance(t[1], int) \
                else self.scalar(1)                            # it sees: an alias read after is refused)
            held = None
            if self.chance(0.2):
                held = self.fresh(VEC_NAMES, t)
                if self.lookup(held) is not None:
                    held = None
                else:
                    self.emit(f"{held} = {name}[{k!r}]")
            op = self.rng.choice(["+=", "-=", "*="])
            self.emit(f"{name}[{k!r}] {op} {e.text if op != '*=' else '0.5 * np.tanh(' + e.text + ')'}")
            var.mag = var.mag + e.mag
            self.features.add("item_update")
            if held is not None:
                self.emit(f"{name}[{k!r}] = {name}[{k!r}] + 0.1 * np.sum({held})")
                self.features.add("item_update_held")
        if self.chance(0.4):                 # use it right away: a loop over the dict
            acc = self.fresh(SCALAR_NAMES, S)
            old = self.lookup(acc)
            if old is not None and old.ty != S:
                return
            self.emit(f"{acc} = 0.0")
            if self.chance(0.5):
                self.emit(f"for key in {name}:")
                self.indent += 1
                self.emit(f"{acc} = {acc} + np.sum({name}[key])")
            else:
                self.emit(f"for key, item in {name}.items():")
                self.indent += 1
                self.emit(f"{acc} = {acc} + np.sum(item) * {self.rng.choice(['0.5', '1.5'])}")
            self.indent -= 1
            self.features.add("for_dict")
            self.define(acc, S, var.mag * 4 * len(var.ty[1]))

    def st_array_write(self):
        n = self.rng.choice([3, 4])
        name = self.fresh(VEC_NAMES, V(n))
        old = self.lookup(name)
        if old is not None and old.ty != V(n):
            return False
        self.features.add("array_write")
        if self.chance(0.25):                               # np.add.at / np.subtract.at into a copy (repeats add up)
            src = self.vector(n, 1)
            e = self.scalar(1)
            i, j = self.rng.randrange(n), self.rng.randrange(n)
            ufunc = self.rng.choice(["add", "subtract"])
            self.features.add("ufunc_at")
            self.emit(f"{name} = ({src.text}).copy()" if src.prec < ATOM else f"{name} = {src.text}.copy()")
            self.emit(f"np.{ufunc}.at({name}, [{i}, {j}, {i}], {e.text})")
            self.define(name, V(n), src.mag + 2 * e.mag)
        elif self.chance(0.5):
            self.emit(f"{name} = np.zeros({n})")
            i = self.rng.choice([x for x in LOOP_INDEX if not self.lookup(x)] or ["ii"])
            self.emit(f"for {i} in range({n}):")
            self.scopes.append({})
            self.define(i, I, lo=0, hi=n - 1, readonly=True)
            e = self.scalar(1)
            self.scopes.pop()
            self.indent += 1
            self.emit(f"{name}[{i}] = {e.text}")
            self.indent -= 1
            self.define(name, V(n), e.mag)
        else:
            src = self.vector(n, 1)
            e = self.scalar(1)
            copier = self.rng.choice(["copy()", "copy()", "astype(float)", "flatten()"])   # (each makes a copy)
            if copier != "copy()":
                self.features.add("method_copy")
            self.emit(f"{name} = np.array({src.text}, dtype=float)" if self.chance(0.3) else
                      f"{name} = ({src.text}).{copier}" if src.prec < ATOM else f"{name} = {src.text}.{copier}")
            self.emit(f"{name}[{self.rng.randrange(n)}] = {e.text}")
            self.define(name, V(n), max(src.mag, e.mag))

    # control flow
    def st_if(self):
        c = self.cond(self.rng.choice([1, 1, 2]))
        self.features.add("if")
        self.emit(f"if {c.text}:")
        self.block(self.rng.randint(1, 3))
        if self.chance(0.3):
            self.features.add("elif")
            c2 = self.cond(1)
            self.emit(f"elif {c2.text}:")
            self.block(self.rng.randint(1, 2))
        if self.chance(0.6):
            self.emit("else:")
            self.block(self.rng.randint(1, 2))

    def st_if_define(self):
        """if/else where every branch defines the same new variable (usable after the if)."""
        ty = self.rng.choice([S, S, S] + [v.ty for v in self.visible() if v.ty[0] == "V"])
        name = self.fresh(self.pool(ty), ty)
        old = self.lookup(name)
        if old is not None and old.ty != ty and self.scopes[-1].get(name) is not old:
            return False
        c = self.cond(1)
        self.features.add("if")
        self.emit(f"if {c.text}:")
        mags = []
        branches = 2 + (1 if self.chance(0.3) else 0)
        for b in range(branches):
            if b == 1 and branches == 3:
                self.emit(f"elif {self.cond(1).text}:")
                self.features.add("elif")
            elif b == branches - 1:
                self.emit("else:")
            self.indent += 1
            self.scopes.append({})
            if self.chance(0.4):
                self.statement()
            e = self.expr(ty, 2)
            self.budget += 1
            self.emit(f"{name} = {e.text}")
            mags.append(e.mag)
            self.scopes.pop()
            self.indent -= 1
        self.define(name, ty, max(mags))

    def st_early_return(self):
        if self.fn_ret[0] == "FN":
            return False
        c = self.cond(1)
        e = self.expr(self.fn_ret, 2) if self.fn_ret[0] != "T" else None
        if e is None:
            return False
        self.features.add("early_return")
        if self.loops:
            self.features.add("return_in_loop")
        self.emit(f"if {c.text}:")
        self.indent += 1
        self.emit(f"return {e.text}")
        self.indent -= 1

    def st_nested_if_return(self):
        if self.fn_ret[0] in ("T", "FN"):
            return False
        c1, c2 = self.cond(1), self.cond(1)
        self.features.update({"early_return", "nested_return", "if"})
        self.emit(f"if {c1.text}:")
        self.indent += 1
        self.scopes.append({})
        if self.chance(0.5):
            self.statement()
        self.emit(f"if {c2.text}:")
        self.indent += 1
        self.emit(f"return {self.expr(self.fn_ret, 2).text}")
        self.indent -= 1
        if self.chance(0.5):
            self.emit(f"return {self.expr(self.fn_ret, 1).text}")
        self.scopes.pop()
        self.indent -= 1

    def _loop_var(self, pool):
        free = [n for n in pool if self.lookup(n) is None]
        return self.rng.choice(free) if free else pool[0] + str(len(self.lines))

    def _range_spec(self):
        """(text, lo, hi, trip) for a ``range`` loop."""
        ints = [i for i in self.of_type(I) if i.lo >= 1 and i.hi <= 5 and not i.name.startswith(("i", "j", "k"))]
        form = self.rng.randrange(6)
        if ints and self.chance(0.35):
            n = self.rng.choice(ints)
            self.features.add("range_int_arg")
            return f"range({n.name})", 0, n.hi - 1, n.hi
        n = self.rng.randint(2, 4)
        if form == 0:
            return f"range(1, {n + 1})", 1, n, n
        if form == 1:
            self.features.add("reversed")
            return f"range({n - 1}, -1, -1)", 0, n - 1, n
        if form == 2:
            self.features.add("reversed")
            return f"reversed(range({n}))", 0, n - 1, n
        if form == 3:                                # a step: counted down by it in the backward sweep
            self.features.add("range_step")
            return f"range(1, {2 * n}, 2)", 1, 2 * n - 1, n
        return f"range({n})", 0, n - 1, n

    @contextlib.contextmanager
    def _in_loop(self, loop_vars, trip, allow_break=True, allow_continue=True):
        """The body of a loop: indented, its variables in scope, its jumps allowed, its trip count multiplied."""
        self.indent += 1
        self.scopes.append(dict(loop_vars))
        self.loops.append({"break": allow_break, "continue": allow_continue})
        old_trip = self.trip
        self.trip *= trip
        yield
        self.trip = old_trip
        self.loops.pop()
        self.scopes.pop()
        self.indent -= 1

    def st_for_range(self, allow_break=True):
        spec, lo, hi, trip = self._range_spec()
        i = self._loop_var(LOOP_INDEX)
        self.features.add("for_range")
        self.emit(f"for {i} in {spec}:")
        self._loop_body({i: Var(i, I, lo=lo, hi=hi, readonly=True)}, trip, allow_break)

    def _loop_body(self, loop_vars, trip, allow_break=True, allow_continue=True, count=None):
        with self._in_loop(loop_vars, trip, allow_break, allow_continue):
            start = len(self.lines)
            count = count or self.rng.randint(1, 3)
            jumps = self.rng.random()
            for k in range(count):
                self.statement()
                if k == 0 and count > 1 and jumps < 0.3:
                    self._jump(allow_break, allow_continue)
            if len(self.lines) == start:
                self.budget += 1
                self.st_reassign() if self.writable(S) else self.assign_stmt(simple=True)

    def _jump(self, allow_break, allow_continue):
        kinds = []
        if allow_break:
            kinds.append("break")
        if allow_continue:
            kinds.append("continue")
        if not kinds:
            return
        k = self.rng.choice(kinds)
        c = self.cond(1)
        self.features.add(k)
        self.emit(f"if {c.text}:")
        self.indent += 1
        self.emit(k)
        self.indent -= 1

    def st_for_array(self):
        vs = [v for v in self.visible() if v.ty[0] == "V"]
        if not vs:
            return False
        src = self.rng.choice(vs)
        n = src.ty[1]
        it = E(src.name, ATOM, src.mag)
        if self.chance(0.3):
            it = self.vector(n, 1)
        v = self._loop_var(["v", "xi", "el", "wi", "ui"])
        self.features.add("for_array")
        self.emit(f"for {v} in {it.text}:")
        self._loop_body({v: Var(v, S, it.mag, readonly=True)}, n)

    def st_for_rows(self):
        ms = [v for v in self.visible() if v.ty[0] == "M"]
        if not ms:
            return False
        m = self.rng.choice(ms)
        row = self._loop_var(["row", "r_", "line"])
        self.features.add("for_rows")
        self.emit(f"for {row} in {m.name}:")
        self._loop_body({row: Var(row, V(m.ty[2]), m.mag, readonly=True)}, m.ty[1])

    def st_for_list(self):
        ls = [v for v in self.visible() if v.ty[0] in ("L", "T")]
        if not ls:
            return False
        src = self.rng.choice(ls)
        v = self._loop_var(["v", "el", "term", "item"])
        self.features.add("for_list")
        self.emit(f"for {v} in {src.name}:")
        self._loop_body({v: Var(v, S, src.mag, readonly=True)}, src.ty[1])

    def st_for_zip(self):
        seqs = [v for v in self.visible() if v.ty[0] in ("V", "L")]
        by_len = {}
        for s in seqs:
            by_len.setdefault(s.ty[1], []).append(s)
        options = [g for g in by_len.values()]
        if not options:
            return False
        group = self.rng.choice(options)
        a = self.rng.choice(group)
        b = self.rng.choice(group)
        bt = E(b.name, ATOM, b.mag)
        if b is a or self.chance(0.3):
            bt = self.vector(a.ty[1], 1)
        u, w = self._loop_var(["u", "p1", "xa"]), self._loop_var(["w_", "q1", "xb"])
        self.features.add("for_zip")
        strict = ", strict=True" if self.chance(0.3) else ""          # (the lengths agree by construction)
        self.emit(f"for {u}, {w} in zip({a.name}, {bt.text}{strict}):")
        self._loop_body({u: Var(u, S, a.mag, readonly=True), w: Var(w, S, bt.mag, readonly=True)}, a.ty[1])

    def st_for_enumerate(self):
        seqs = [v for v in self.visible() if v.ty[0] in ("V", "L")]
        if not seqs:
            return False
        a = self.rng.choice(seqs)
        i, v = self._loop_var(LOOP_INDEX), self._loop_var(["v", "xi", "el"])
        self.features.add("for_enumerate")
        start = self.rng.choice([0, 0, 1, 2])
        spelled = "" if start == 0 else self.rng.choice([f", {start}", f", start={start}"])
        if start:
            self.features.add("enumerate_start")
        self.emit(f"for {i}, {v} in enumerate({a.name}{spelled}):")
        self._loop_body({i: Var(i, I, lo=start, hi=start + a.ty[1] - 1, readonly=True),
                         v: Var(v, S, a.mag, readonly=True)}, a.ty[1])

    def st_for_reversed(self):
        seqs = [v for v in self.visible() if v.ty[0] in ("V", "L")]
        if not seqs:
            return False
        a = self.rng.choice(seqs)
        v = self._loop_var(["v", "el", "xi"])
        self.features.add("reversed")
        self.features.add("for_" + ("list" if a.ty[0] == "L" else "array"))
        self.emit(f"for {v} in reversed({a.name}):" if a.ty[0] == "L" or self.chance(0.5)
                  else f"for {v} in {a.name}[::-1]:")
        self._loop_body({v: Var(v, S, a.mag, readonly=True)}, a.ty[1])

    def st_for_else(self):
        spec, lo, hi, trip = self._range_spec()
        i = self._loop_var(LOOP_INDEX)
        self.features.update({"for_else", "for_range", "break"})
        self.emit(f"for {i} in {spec}:")
        with self._in_loop({i: Var(i, I, lo=lo, hi=hi, readonly=True)}, trip):
            self.statement()
            self.budget += 3
            self._jump(True, False)
        self.emit("else:")
        self.block(1)

    def st_nested_loop(self):
        n1, n2 = self.rng.randint(2, 3), self.rng.randint(2, 3)
        i, j = self._loop_var(["i", "a_i"]), self._loop_var(["j", "b_j"])
        ms = [v for v in self.visible() if v.ty[0] == "M"]
        self.features.add("nested_loop")
        if ms and self.chance(0.5):
            m = self.rng.choice(ms)
            n1, n2 = m.ty[1], m.ty[2]
        self.emit(f"for {i} in range({n1}):")
        with self._in_loop({i: Var(i, I, lo=0, hi=n1 - 1, readonly=True)}, n1):
            if self.chance(0.4):
                self.statement()
            self.emit(f"for {j} in range({n2}):")
            self._loop_body({j: Var(j, I, lo=0, hi=n2 - 1, readonly=True)}, n2)

    def st_while_counter(self):
        k = self._loop_var(["k", "it", "cnt", "step_i"])
        n = self.rng.randint(2, 4)
        first = self.chance(0.35)
        self.features.add("while")
        self.emit(f"{k} = 0")
        self.emit(f"while {k} < {n}:")
        self.indent += 1
        if first:
            self.emit(f"{k} += 1")
        self.indent -= 1
        lo, hi = (1, n) if first else (0, n - 1)
        self._loop_body({k: Var(k, I, lo=lo, hi=hi, readonly=True)}, n, allow_continue=first)
        if not first:
            self.indent += 1
            self.budget += 1
            self.emit(f"{k} += 1")
            self.indent -= 1
        if self.loops and self.chance(0.3):
            # `while ... else:` inside another loop: the else's break/continue are the outer loop's
            outer = self.loops[-1]
            self.features.add("while_else")
            self.emit("else:")
            self.indent += 1
            self.budget += 1
            start = len(self.lines)
            self.statement()
            if outer["break"] or outer["continue"]:
                self._jump(outer["break"], outer["continue"])
            if len(self.lines) == start:                 # (nothing emitted: a statement the else can hold)
                self.st_reassign() if self.writable(S) else self.assign_stmt(simple=True)
            if len(self.lines) == start:
                self.emit("pass")
            self.indent -= 1

    def st_while_data(self):
        """``while s < LIMIT and k < N``: data-dependent termination, bounded by a counter."""
        k = self._loop_var(["k", "it", "cnt"])
        n = self.rng.randint(3, 8)
        svars = self.writable(S)
        if svars and self.chance(0.5):
            s = self.rng.choice(svars)
            sname = s.name
        else:
            sname = self.fresh(SCALAR_NAMES, S)
            old = self.lookup(sname)
            if old is not None and old.ty != S:
                return False
            init = self.scalar(1)
            self.emit(f"{sname} = {init.text}")
            s = self.define(sname, S, init.mag)
        self.features.update({"while", "while_data"})
        limit = self.rng.choice(["3.0", "2.0", "4.0", "1.5"])
        self.emit(f"{k} = 0")
        form = self.rng.randrange(3)
        if form == 0:
            self.emit(f"while {sname} < {limit} and {k} < {n}:")
        elif form == 1:
            self.emit(f"while {k} < {n} and {sname} < {limit}:")
        else:
            self.emit(f"while {sname} < {limit}:")
        self.indent += 1
        inc = self.scalar(1)
        self.emit(f"{sname} = {sname} + {self.rng.choice(['0.4', '0.6', '0.3'])} + {inc.at(MUL)} * {inc.at(MUL + 1)}")
        self.emit(f"{k} += 1")
        if form == 2:
            self.emit(f"if {k} >= {n}:")
            self.emit(f"    break")
        self.indent -= 1
        s.mag = max(s.mag, float(limit)) + 0.6 + inc.mag ** 2
        s.readonly = True
        self._loop_body({k: Var(k, I, lo=1, hi=n, readonly=True)}, n, allow_continue=True, count=self.rng.randint(1, 2))
        s.readonly = False

    def st_taylor(self):
        """A series summed until its terms are small (a while loop with a data-dependent break)."""
        xs = self.of_type(S)
        if not xs:
            return False
        x = self.rng.choice(xs)
        names = {}
        for role, pool in (("term", ["term", "tk"]), ("total", ["total", "series", "ssum"]), ("k", ["k", "kk", "nk"])):
            nm = self._loop_var(pool)
            names[role] = nm
        self.features.update({"while", "while_data", "taylor"})
        arg = f"np.tanh({x.name})" if x.mag > 1.5 else x.name
        tm, tt, k = names["term"], names["total"], names["k"]
        self.emit(f"{tm} = {arg}")
        self.emit(f"{tt} = 0.0")
        self.emit(f"{k} = 1")
        if self.chance(0.5):
            self.emit(f"while abs({tm}) > 0.01 and {k} < 12:")
        else:
            self.emit(f"while {k} < 12:")
            self.emit(f"    if abs({tm}) < 0.01:")
            self.emit(f"        break")
            self.features.add("break")
        self.indent += 1
        self.emit(f"{tt} = {tt} + {tm}")
        self.emit(f"{tm} = -{tm} * {arg} * {arg} / ((2 * {k}) * (2 * {k} + 1))")
        self.emit(f"{k} += 1")
        self.indent -= 1
        self.define(tm, S, 2.0)
        self.define(tt, S, 2.0)
        self.define(k, I, lo=1, hi=12)

    def st_function_values(self):
        """Functions as values: a list of activations applied in a loop, or a function chosen by a branch."""
        vs = [v for v in self.writable() if v.ty[0] in ("S", "V") and not v.readonly]
        if not vs:
            return False
        z = self.rng.choice(vs)
        self.features.add("function_values")
        if self.chance(0.6) and len(self.loops) < 2:
            acts = self.rng.sample(["np.tanh", "np.sin", "lambda v: 0.5 * v", "lambda v: v / (1.0 + v * v)",
                                    "math.tanh" if z.ty == S else "np.cos"], self.rng.choice([2, 3]))
            name = self.fresh(["acts", "layers", "fns"], ("FNLIST",))
            act = self._loop_var(["act", "fn", "phi"])
            self.emit(f"{name} = [{', '.join(acts)}]")
            self.emit(f"for {act} in {name}:")
            self.indent += 1
            self.emit(f"{z.name} = {act}({z.name})")
            self.indent -= 1
            self.define(name, ("FNLIST",), 1.0, readonly=True)
            z.mag = max(z.mag, 1.0)
            return
        fn = self.fresh(["fn", "phi", "act"], ("FNVAL",))
        c = self.cond(0)
        self.emit(f"{fn} = np.sin if {c.text} else np.tanh")
        self.emit(f"{z.name} = {fn}({z.name}) * 1.5")
        self.define(fn, ("FNVAL",), 1.0, readonly=True)
        z.mag = 1.5

    def st_logistic(self):
        """The logistic function written in steps (``e = np.exp(-z)`` ... ``p = 1.0 / (1.0 + e)``), the
        pattern s2sad fuses, sometimes with ``z`` updated in between."""
        vs = [v for v in self.writable() if v.ty[0] in ("S", "V")]
        if not vs:
            return False
        z = self.rng.choice(vs)
        arg = z.name if z.mag <= 5 else f"np.tanh({z.name})"
        e = self.fresh(["e", "ez", "en"], z.ty)
        p = self.fresh(["p", "prob", "sig"], z.ty)
        exp = "math.exp" if z.ty == S and self.chance(0.3) else "np.exp"
        if exp == "math.exp":
            self.features.add("math")
        self.features.add("logistic")
        self.emit(f"{e} = {exp}(-{arg})")
        if self.chance(0.5) and not z.readonly:
            new = self.update_expr(z)
            new = self.squash(new) if z.ty == S else self.squash_vec(new)
            self.emit(f"{z.name} = {new.text}")
            z.mag = max(z.mag, new.mag)
            self.features.add("reassign")
        self.emit(f"{p} = 1.0 / (1.0 + {e})")
        self.define(e, z.ty, 2.718 ** min(z.mag, 5.0))
        self.define(p, z.ty, 1.0)

    def st_bucket_append(self):
        """Lists held in a list or a dict, appended to through it (``b[i % 2].append(e)``, ``b['a'].append(e)``),
        then summed: Python changes the list the container holds."""
        name = self.fresh(LIST_NAMES, L(0))
        out = self.fresh(SCALAR_NAMES, S)
        if self.lookup(name) is not None or self.lookup(out) is not None and self.lookup(out).ty != S:
            return False
        keyed = self.chance(0.5)
        self.features.update({"list", "append", "bucket_append"})
        self.emit(f"{name} = {{'a': [], 'b': []}}" if keyed else f"{name} = [[] for _ in range(2)]")
        n = self.rng.randint(2, 4)
        i = self._loop_var(LOOP_INDEX)
        self.emit(f"for {i} in range({n}):")
        with self._in_loop({i: Var(i, I, lo=0, hi=n - 1, readonly=True)}, n, False, False):
            e = self.scalar(2)
            self.budget += 3
            slot = f"('a' if {i} % 2 == 0 else 'b')" if keyed else f"{i} % 2"
            self.emit(f"{name}[{slot}].append({e.text})")
        first, second = ("'a'", "'b'") if keyed else ("0", "1")
        self.emit(f"{out} = sum({name}[{first}]) + 0.5 * sum({name}[{second}])")
        self.define(out, S, e.mag * n)
        return True

    def st_record_rebuilt(self):
        """``theta = Params(w=theta.w * e, b=e2, n=theta.n)``: a dataclass argument made again from differentiated
        values (in a loop: a state stepped forward), its fields then read as before (tree.new_record)."""
        specs = [r for r in getattr(self, "records", ()) if r.form in ("dataclass", "plain") and self.fn_depth == 0
                 and self.lookup(r.name) is not None]      # (a plain class: its __init__ only stores)
        if not specs:
            return False
        spec = self.rng.choice(specs)
        parts = []
        for fname, kind, shape, _ in spec.fields:
            if kind == "int":
                parts.append((fname, f"{spec.name}.{fname}"))
            elif kind == "vec":
                parts.append((fname, self.squash_vec(self.vector(shape[0], 1)).text))
            else:
                parts.append((fname, self.squash(self.scalar(1)).text))
        keyword = self.chance(0.5)
        text = ", ".join(f"{f}={e}" if keyword else e for f, e in parts)
        self.features.add("record_rebuilt")
        self.emit(f"{spec.name} = {spec.cls}({text})")

    def st_rebuilt_each_step(self):
        """A list or an array made new at the top of each iteration, filled from the one before, then taking its
        place (``nxt = np.zeros(n); nxt[0] = e; nxt[1:] = cur[:-1] * c; cur = nxt``, or ``new = []; for v in cur:
        new.append(...)``; ``cur = new``): the new object is no other name's yet (effects.holders_of_fresh)."""
        vecs = [v for v in self.visible() if v.ty[0] == "V" and 2 <= v.ty[1] <= 4]
        fresh = [n for n in ("nxt", "nbuf", "new_v") if self.lookup(n) is None]
        if not vecs or not fresh or self.lookup("el") is not None:
            return False
        src = self.rng.choice(vecs)
        n, nxt = src.ty[1], fresh[0]
        as_list = self.chance(0.5)
        cur = self._new_name(LIST_NAMES, L(n)) if as_list else self._new_name(VEC_NAMES, V(n))
        if cur is None or cur == src.name and as_list:
            return False
        self.features.update({"rebuilt_each_step", "list" if as_list else "array_write"})
        c = self.rng.choice(["0.5", "0.8", "0.9"])
        self.emit(f"{cur} = [{', '.join(f'{src.name}[{k}]' for k in range(n))}]" if as_list else f"{cur} = {src.name} * 1.0")
        i = self._loop_var(LOOP_INDEX)
        steps = self.rng.randint(2, 3)
        self.emit(f"for {i} in range({steps}):")
        with self._in_loop({i: Var(i, I, lo=0, hi=steps - 1, readonly=True)}, steps, False, False):
            e = self.squash_any(self.scalar(1), S)
            self.budget += 3
            if as_list:
                self.emit(f"{nxt} = []")
                self.emit(f"for el in {cur}:")
                self.emit(f"    {nxt}.append(el * {c} + 0.1 * {e.text})")
            else:
                self.emit(f"{nxt} = np.zeros({n})")
                self.emit(f"{nxt}[0] = {e.text}")
                self.emit(f"{nxt}[1:] = {cur}[:-1] * {c}")
            self.emit(f"{cur} = {nxt}")
        if as_list:
            out = self._new_name(SCALAR_NAMES, S)
            if out is not None:
                self.emit(f"{out} = sum({cur})")
                self.define(out, S, src.mag * n + e.mag)
        else:
            self.define(cur, V(n), src.mag + e.mag)
        return True

    def st_list_append(self):
        """``xs = []``; a loop appending; then ``np.stack(xs)`` / ``np.array(xs)`` / ``sum(xs)``."""
        name = self.fresh(LIST_NAMES, L(0))
        if self.lookup(name) is not None:
            return False
        srcs = [v for v in self.visible() if v.ty[0] in ("V", "M")]
        self.features.update({"list", "append"})
        self.emit(f"{name} = []")
        elem_vec = self.chance(0.3)
        conditional = self.chance(0.2) and not elem_vec
        if srcs and self.chance(0.5):
            src = self.rng.choice(srcs)
            n = src.ty[1]
            v = self._loop_var(["v", "row", "el"])
            self.emit(f"for {v} in {src.name}:")
            lv = {v: Var(v, S if src.ty[0] == "V" else V(src.ty[2]), src.mag, readonly=True)}
            self.features.add("for_array" if src.ty[0] == "V" else "for_rows")
        else:
            n = self.rng.randint(2, 4)
            i = self._loop_var(LOOP_INDEX)
            self.emit(f"for {i} in range({n}):")
            lv = {i: Var(i, I, lo=0, hi=n - 1, readonly=True)}
            self.features.add("for_range")
        with self._in_loop(lv, n, False, False):
            m = self.rng.choice([2, 3])
            if self.chance(0.4):
                self.statement()
            e = self.vector(m, 1) if elem_vec else self.scalar(2)
            self.budget += 3
            if conditional:
                self.emit(f"if {self.cond(1).text}:")
                self.emit(f"    {name}.append({e.text})")
            else:
                self.emit(f"{name}.append({e.text})")
        if elem_vec:
            out = self.fresh(MAT_NAMES, M(n, m))
            if self.lookup(out) is not None and self.lookup(out).ty != M(n, m):
                out = out + "2"
            self.emit(f"{out} = {self.rng.choice(['np.stack', 'np.array', 'np.vstack'])}({name})")
            self.define(out, M(n, m), e.mag)
            self.features.add("stack")
        elif conditional:
            out = self.fresh(SCALAR_NAMES, S)
            if self.lookup(out) is not None and self.lookup(out).ty != S:
                return
            self.emit(f"{out} = {self.rng.choice(['sum', 'np.sum'])}({name})")
            self.define(out, S, e.mag * n)
        else:
            self.define(name, L(n), e.mag)
            if self.chance(0.6):
                out = self.fresh(VEC_NAMES, V(n))
                if self.lookup(out) is not None and self.lookup(out).ty != V(n):
                    return
                self.emit(f"{out} = {self.rng.choice(['np.array', 'np.stack', 'np.asarray'])}({name})")
                self.define(out, V(n), e.mag)

    def st_listcomp(self):
        seqs = [v for v in self.visible() if v.ty[0] in ("V", "L")]
        name = self.fresh(LIST_NAMES, L(0))
        if self.lookup(name) is not None:
            return False
        self.features.update({"listcomp", "list"})
        v = self._loop_var(["v", "el", "t_"])
        form = self.rng.randrange(3)
        if seqs and form < 2:
            src = self.rng.choice(seqs)
            n = src.ty[1]
            self.scopes.append({v: Var(v, S, src.mag, readonly=True)})
            e = self.scalar(2)
            self.scopes.pop()
            if form == 1 and self.chance(0.5):
                self.scopes.append({v: Var(v, S, src.mag, readonly=True)})
                c = self.cond(0)
                self.scopes.pop()
                self.emit(f"{name} = [{e.text} for {v} in {src.name} if {c.text}]")
                out = self.fresh(SCALAR_NAMES, S)
                if self.lookup(out) is not None and self.lookup(out).ty != S:
                    return
                self.emit(f"{out} = sum({name})")
                self.define(out, S, e.mag * n)
                return
            self.emit(f"{name} = [{e.text} for {v} in {src.name}]")
        elif form == 2 and self.chance(0.3) and [v_ for v_ in self.visible() if v_.ty[0] == "V"]:
            src = self.rng.choice([v_ for v_ in self.visible() if v_.ty[0] == "V"])
            n = src.ty[1]
            self.features.add("tolist")
            e = E(f"({src.name} * 1.0).tolist()" if self.chance(0.5) else f"{src.name}.tolist()", ATOM, src.mag)
            self.emit(f"{name} = {e.text}")
        else:
            n = self.rng.randint(2, 4)
            i = self._loop_var(LOOP_INDEX)
            self.scopes.append({i: Var(i, I, lo=0, hi=n - 1, readonly=True)})
            e = self.scalar(2)
            self.scopes.pop()
            self.emit(f"{name} = [{e.text} for {i} in range({n})]")
        self.define(name, L(n), e.mag)

    def st_closure(self):
        """A function defined inside the function, reading outer variables (perhaps differentiated ones,
        perhaps reassigned before the def, or after it: closures read them live)."""
        name = self.rng.choice([n for n in FN_NAMES if self.lookup(n) is None] or ["g9"])
        nparams = self.rng.choice([1, 1, 2])
        ptys = [self.rng.choice([S, S, V(3)]) for _ in range(nparams)]
        ret = S if self.chance(0.75) else (ptys[0] if ptys[0][0] == "V" else S)
        pnames = ["t", "u"][:nparams]
        default = None
        if self.chance(0.3) and ptys[-1] == S:
            default = self.rng.choice(["0.5", "2.0", "1.0"])
        sig = ", ".join(pn + (f"={default}" if default and k == nparams - 1 else "") for k, pn in enumerate(pnames))
        self.features.add("closure")
        self.emit(f"def {name}({sig}):")
        # generate the body: outer variables are readable (and get pinned), not writable
        outer = self.visible()
        self.indent += 1
        saved = (self.in_closure, self.loops, self.trip, self.fn_ret, self.base_depth, self.base_indent)
        self.in_closure, self.loops, self.trip, self.fn_ret = True, [], 1, ret
        self.scopes.append({pn: Var(pn, t, 1.5, is_arg=True) for pn, t in zip(pnames, ptys)})
        self.base_depth, self.base_indent = len(self.scopes), self.indent
        ro = [(v, v.readonly) for v in outer]
        for v in outer:
            v.readonly = True
        nbody = self.rng.choice([0, 0, 1, 2])
        for _ in range(nbody):
            self.statement()
        e = self.expr(ret, 2)
        if not any(pn in "\n".join(self.lines[-8:]) + e.text for pn in pnames):
            e = binop(E(pnames[0], ATOM, 1.5), "*", self.squash_any(e, ret), 1.5 * e.mag)
        self.budget += 1
        self.emit(f"return {e.text}")
        body_text = "\n".join(self.lines[-20:])
        for v, r in ro:
            v.readonly = r
            if v.name in body_text:
                v.pinned = True
        self.scopes.pop()
        self.in_closure, self.loops, self.trip, self.fn_ret, self.base_depth, self.base_indent = saved
        self.indent -= 1
        defaults = {pnames[-1]: default} if default else {}
        self.define(name, ("FN", tuple(ptys), ret, defaults, tuple(pnames)), e.mag, readonly=True)

    def st_lambda(self):
        name = self.rng.choice([n for n in LAMBDA_NAMES if self.lookup(n) is None] or ["lam9"])
        self.lambda_names.add(name)
        nparams = self.rng.choice([1, 1, 2])
        pnames = ["t", "u"][:nparams]
        outer = self.visible()
        self.scopes.append({pn: Var(pn, S, 1.5, is_arg=True) for pn in pnames})
        form = self.rng.randrange(4)
        if form == 0:
            e = E("t * t", MUL, 2.25)
        elif form == 1:
            e = E("t / (1.0 + abs(t))", MUL, 1.0)
            self.features.add("kink")
        else:
            e = self.scalar(2)
            if not any(pn in _IDENT.findall(e.text) for pn in pnames):
                e = binop(E(pnames[-1], ATOM, 1.5), self.rng.choice(["*", "+"]), e, 1.5 * e.mag + 1.5)
        self.scopes.pop()
        self.features.add("lambda")
        for v in outer:
            if v.name in e.text:
                v.pinned = True
        self.emit(f"{name} = lambda {', '.join(pnames)}: {e.text}")
        self.define(name, ("FN", tuple(S for _ in pnames), S, {}, tuple(pnames)), e.mag, readonly=True)

    def st_helper_unpack(self):
        fns = [v for v in self.visible() if v.ty[0] == "FN" and v.ty[2][0] == "T"]
        if not fns:
            return False
        fn = self.rng.choice(fns)
        n = fn.ty[2][1]
        names = []
        for _ in range(n):
            nm = self.fresh([x for x in SCALAR_NAMES if x not in names], S)
            old = self.lookup(nm)
            if old is not None and old.ty != S and self.scopes[-1].get(nm) is not old:
                return False
            names.append(nm)
        if len(set(names)) != n:
            return False
        self.features.update({"unpack", "tuple"})
        self.emit(f"{', '.join(names)} = {self.call_text(fn, 2)}")
        for nm in names:
            self.define(nm, S, fn.mag)

    # ------------------------------------------------------------------ calling conventions and iteration forms
    def _new_name(self, pool, ty):
        """A fresh name for a value of type ``ty`` (None if it would clash with a visible one of another type)."""
        name = self.fresh(pool, ty)
        old = self.lookup(name)
        if old is not None and old.ty != ty and self.scopes[-1].get(name) is not old:
            return None
        return name

    def st_chained_write(self):
        """``v[0] = v[-1] = e`` (and ``s = v[i] = e``) on a new array or a copy."""
        n = self.rng.choice([3, 4])
        name = self._new_name(VEC_NAMES, V(n))
        if name is None:
            return False
        srcs = [v for v in self.visible() if v.ty == V(n)]
        if srcs and self.chance(0.6):
            src = self.rng.choice(srcs)
            self.emit(f"{name} = {src.name}.copy()" if self.chance(0.7) else f"{name} = np.array({src.name}, dtype=float)")
            mag = src.mag
        else:
            self.emit(f"{name} = np.zeros({n})" if self.chance(0.5) else f"{name} = np.ones({n}) * 0.5")
            mag = 1.0
        self.scopes.append({})
        e = self.scalar(2)
        self.scopes.pop()
        self.features.update({"chained_write", "array_write"})
        i, j = self.rng.sample(range(-1, n), 2)
        form = self.rng.randrange(3)
        if form == 0:
            self.emit(f"{name}[{i}] = {name}[{j}] = {e.text}")
        elif form == 1:
            k = self.rng.randrange(n)
            self.emit(f"{name}[{i}] = {name}[{j}] = {name}[{k}] = {e.text}")
        else:
            s = self._new_name(SCALAR_NAMES, S)
            if s is None or s == name:
                self.emit(f"{name}[{i}] = {name}[{j}] = {e.text}")
            else:
                self.emit(f"{s} = {name}[{i}] = {e.text}")
                self.define(s, S, e.mag)
        self.define(name, V(n), max(mag, e.mag))

    def _star_helper(self, kind):
        """A callable taking ``*rest`` (kind FNSTAR) or ``**kw`` (FNKW): a module-level one, else a nested
        one defined here (in the main function only)."""
        fns = [v for v in self.visible() if v.ty[0] == kind]
        if fns:
            return self.rng.choice(fns)
        if self.fn_depth > 0 or self.in_closure or self.indent - self.base_indent > 1 or not self.nested_star:
            return None                     # nested ones rarely: s2sad refuses a nested def with *rest or **kw
        name = self.rng.choice([n for n in (["gather", "collect", "fold"] if kind == "FNSTAR" else
                                            ["scaled", "shifted", "apply_kw"]) if self.lookup(n) is None] or [None])
        if name is None:
            return None
        form = self.rng.randrange(3)
        for line in (star_helper_lines if kind == "FNSTAR" else kw_helper_lines)(name, form):
            self.emit(line)
        self.budget += 2
        self.features.add("closure")
        return self.define(name, (kind, form), 3.0, readonly=True)

    def st_star_args(self):
        """Calls of ``def h(t, *rest)``: ``h(a, b, c)``, ``h(*pair)``, ``h(e, *xs)``."""
        fn = self._star_helper("FNSTAR")
        if fn is None:
            return False
        seqs = [v for v in self.visible() if v.ty[0] in ("T", "L", "V") and v.ty[1] >= 1]
        form = self.pick({"explicit": 6, "const_star": 2.5, "star": 2.5 if seqs else 0})
        if form == "const_star":            # h(e, *consts): what the star spreads is not differentiated
            consts = self._new_name(["consts", "coefs", "knots"], T(2))
            if consts is None:
                return False
            e = self.scalar(1)
            c = [self.rng.choice(LITERALS) for _ in range(self.rng.choice([1, 2, 3]))]
            self.emit(f"{consts} = ({', '.join(repr(v) for v in c)}{',' if len(c) == 1 else ''})")
            self.define(consts, T(len(c)), max(abs(v) for v in c), readonly=True)
            text, count, mag = f"{fn.name}({e.text}, *{consts})", len(c) + 1, max(e.mag, 3.0)
        elif form == "star":                # h(*pair), h(e, *xs): refused when the spread values are differentiated
            src = self.rng.choice(seqs)
            count, mag = src.ty[1], src.mag
            if self.chance(0.5):
                text = f"{fn.name}(*{src.name})"
            else:
                e = self.scalar(1)
                text = f"{fn.name}({e.text}, *{src.name})"
                count, mag = count + 1, max(mag, e.mag)
        else:
            es = [self.scalar(1) for _ in range(self.rng.randint(1, 4))]
            text = f"{fn.name}({', '.join(e.text for e in es)})"
            count, mag = len(es), max(e.mag for e in es)
        out = self._new_name(SCALAR_NAMES, S)
        if out is None:
            return False
        self.features.add("star_args")
        self.emit(f"{out} = {text}")
        self.define(out, S, mag * count + 2.0 * count * count)

    def st_kwargs_call(self):
        """Calls of ``def h(t, **kw)``: keywords, ``**{...}`` and ``**d`` of a dict of numbers."""
        fn = self._star_helper("FNKW")
        if fn is None:
            return False
        t = self.scalar(1)
        first = f"t={t.text}" if self.chance(0.3) else t.text
        # what lands in **kw: a differentiated value or a constant (inlined or linked by the name `kw`)
        scalar = lambda: self.scalar(1) if self.chance(0.4) else lit(self.rng.choice(LITERALS))
        dicts = [v for v in self.visible() if v.ty[0] == "D" and all(ty == S for _, ty in v.ty[1])]
        if fn.ty[1] == 0:                                    # reads kw["scale"], kw.get("shift", 0.0)
            a = self.squash_any(scalar(), S)
            if self.chance(0.2):            # `**` of a display: its keys are known (front/spreads.py)
                text = f"{fn.name}({first}, **{{'scale': {a.text}}})"
                mag = t.mag * a.mag
            elif self.chance(0.5):
                b = scalar()
                text = f"{fn.name}({first}, shift={b.text}, scale={a.text})"
                mag = t.mag * a.mag + b.mag
            else:
                text = f"{fn.name}({first}, scale={a.text})"
                mag = t.mag * a.mag
        elif dicts and self.chance(0.15):
            d = self.rng.choice(dicts)
            text = f"{fn.name}({first}, **{d.name})"
            mag = t.mag * (1 + d.mag * len(d.ty[1]))
        else:
            es = [scalar() for _ in range(self.rng.randint(1, 3))]
            keys = self.rng.sample(["lr", "mu", "gamma", "eps"], len(es))
            text = f"{fn.name}({first}, {', '.join(f'{k}={e.text}' for k, e in zip(keys, es))})"
            mag = t.mag * (1 + sum(e.mag for e in es))
        out = self._new_name(SCALAR_NAMES, S)
        if out is None:
            return False
        self.features.add("kwargs_helper")
        self.emit(f"{out} = {text}")
        self.define(out, S, mag + 2.0)

    def st_star_unpack(self):
        """``a, *rest = xs``, ``*init, last = v``, ``a, *mid, b = pair``."""
        srcs = [v for v in self.visible() if v.ty[0] in ("V", "L", "T") and v.ty[1] >= 2]
        if not srcs:
            return False
        src = self.rng.choice(srcs)
        n = src.ty[1]
        form = self.rng.choice(["head", "tail"] + (["both"] if n >= 3 else []))
        nscal = 2 if form == "both" else 1
        rest = self._new_name(LIST_NAMES, L(n - nscal))
        if rest is None:
            return False
        names = []
        for _ in range(nscal):
            nm = self._new_name([x for x in SCALAR_NAMES if x not in names], S)
            if nm is None or nm in names or nm == src.name:
                return False
            names.append(nm)
        self.features.add("star_unpack")
        if form == "head":
            self.emit(f"{names[0]}, *{rest} = {src.name}")
        elif form == "tail":
            self.emit(f"*{rest}, {names[0]} = {src.name}")
        else:
            self.emit(f"{names[0]}, *{rest}, {names[1]} = {src.name}")
        for nm in names:
            self.define(nm, S, src.mag)
        self.define(rest, L(n - nscal), src.mag)

    def st_partial(self):
        """``ph = functools.partial(h, e)`` (or a keyword bound), called later."""
        fns = [v for v in self.visible() if v.ty[0] == "FN" and len(v.ty[1]) >= 2 and I not in v.ty[1]
               and all(t[0] in ("S", "V") for t in v.ty[1])]
        if not fns:
            return False
        fn = self.rng.choice(fns)
        if "." in fn.name and not self.chance(0.1):    # a bound method of a differentiated record: refused
            return False
        name = self.rng.choice([n for n in ["ph", "pf", "bound", "fixed"] if self.lookup(n) is None] or [None])
        if name is None:
            return False
        ptys, ret, defaults, names = fn.ty[1], fn.ty[2], fn.ty[3], fn.ty[4]
        # the bound value mostly constant: s2sad refuses a partial binding a differentiated value
        bound = (lambda ty: self.expr(ty, 1) if self.chance(0.2) else
                 lit(self.rng.choice(LITERALS)) if ty == S else E(f"np.full({ty[1]}, 0.5)"))
        if self.chance(0.7):
            e = bound(ptys[0])
            self.emit(f"{name} = functools.partial({shown(fn.name)}, {e.text})")
            ptys, names = ptys[1:], names[1:]
        else:
            e = bound(ptys[-1])
            self.emit(f"{name} = functools.partial({shown(fn.name)}, {names[-1]}={e.text})")
            ptys, names = ptys[:-1], names[:-1]
        defaults = {k: v for k, v in defaults.items() if k in names}
        if fn.name in self.lambda_names:
            self.lambda_names.add(name)
        self.partials.add(name)
        self.features.add("partial")
        self.define(name, ("FN", ptys, ret, defaults, names), fn.mag, readonly=True)

    def st_map_call(self):
        """``sum(map(fn, xs))``, ``list(map(fn, xs))``, ``sum(map(fn2, xs, ys))``."""
        seqs = [v for v in self.visible() if v.ty[0] in ("V", "L") and v.ty[1] >= 1]
        if not seqs:
            return False
        src = self.rng.choice(seqs)
        n = src.ty[1]

        def required(v):
            return [t for t, nm in zip(v.ty[1], v.ty[4]) if nm not in v.ty[3]]
        fns = [v for v in self.visible() if v.ty[0] == "FN" and v.ty[2] == S and required(v) in ([S], [S, S])
               and I not in v.ty[1]]
        if fns and self.chance(0.75):
            fn = self.choose(fns)
            fname, mag = shown(fn.name), fn.mag
            if fn.name in self.lambda_names:
                self.features.add("lambda")
            seqs2 = [src.name]
            if len(required(fn)) == 2:
                same = [v for v in self.visible() if v.ty[0] in ("V", "L") and v.ty[1] == n]
                seqs2.append(self.rng.choice(same).name)
        else:
            fname, mag = self.rng.choice(["np.tanh", "np.sin", "math.atan", "math.cos"]), 1.6
            seqs2 = [src.name]
        call_text = f"map({fname}, {', '.join(seqs2)})"
        self.features.add("map")
        if self.chance(0.4):
            out = self._new_name(LIST_NAMES, L(n))
            if out is None:
                return False
            self.emit(f"{out} = list({call_text})")
            self.define(out, L(n), mag)
        else:
            out = self._new_name(SCALAR_NAMES, S)
            if out is None:
                return False
            self.emit(f"{out} = sum({call_text})")
            self.define(out, S, mag * n)

    def st_dict_iter(self):
        """Dict comprehensions and loops over ``.items()`` / ``.values()`` of a dict built here."""
        dicts = [v for v in self.visible() if v.ty[0] == "D"]
        if not dicts:
            seqs = [v for v in self.visible() if v.ty[0] in ("V", "L") and 1 <= v.ty[1] <= 4]
            if not seqs:
                return False
            src = self.rng.choice(seqs)
            name = self._new_name(DICT_NAMES, ("D", ()))
            if name is None:
                return False
            keys = ["a", "b", "c", "d"][:src.ty[1]]
            v = self._loop_var(["v", "el", "xi"])
            self.scopes.append({v: Var(v, S, src.mag, readonly=True)})
            e = self.scalar(1)
            self.scopes.pop()
            if v not in _IDENT.findall(e.text):
                e = binop(E(v, ATOM, src.mag), "*", self.squash_any(e, S), src.mag * min(e.mag, 3.0))
            self.emit(f"{name} = {{k: {e.text} for k, {v} in zip({keys!r}, {src.name})}}")
            d = self.define(name, ("D", tuple((k, S) for k in keys)), e.mag)
            self.features.update({"dictcomp", "dict"})
        else:
            d = self.rng.choice(dicts)
        self.features.add("dict_iter")
        form = self.rng.randrange(6)
        nkeys = max(1, len(d.ty[1]))
        if form == 0:                                    # a new dict from the old one's items
            name = self._new_name(DICT_NAMES, d.ty)
            if name is None or name == d.name:
                return
            f = self.rng.choice(["np.tanh", "np.sin"])
            c = self.rng.choice(["0.5", "1.5", "2.0"])
            if c == "2.0":                               # each item read by its key, beside it (no new draw)
                self.emit(f"{name} = {{key: {f}({d.name}[key]) * {c} for key in {d.name}}}")
            else:
                self.emit(f"{name} = {{key: {f}(val) * {c} for key, val in {d.name}.items()}}")
            self.define(name, d.ty, float(c))
            return
        if self.chance(0.3) and not d.readonly and not d.is_arg and d.name not in self.aliases \
                and not self.in_closure and d.ty[1] and all(t == S for _, t in d.ty[1]):
            c = self.squash_any(self.scalar(1), S)       # walk a copy of the keys, write each item
            self.emit(f"for key in {self.rng.choice(['list', 'sorted', 'tuple'])}({d.name}):")
            self.emit(f"    {d.name}[key] = 0.5 * {d.name}[key] + np.tanh({c.text})")
            self.features.add("dict_written_over_copied_keys")
            d.mag = 0.5 * d.mag + 1.0
            return
        acc = self._new_name(SCALAR_NAMES, S)
        if acc is None:
            return
        if form == 1:
            self.emit(f"{acc} = sum(np.sum(val) for val in {d.name}.values())")
        elif form == 2:
            self.emit(f"{acc} = 0.0")
            self.emit(f"for val in {d.name}.values():")
            self.emit(f"    {acc} = {acc} + 0.5 * np.sum(val)")
        elif form == 3:
            self.emit(f"{acc} = 0.0")
            self.emit(f"for key, val in {d.name}.items():")
            self.emit(f"    {acc} = {acc} + np.sum(np.sin(val))")
        elif form == 4:                                  # the keys in order, each item read by its key
            self.emit(f"{acc} = 0.0")
            self.emit(f"for key in sorted({d.name}{', reverse=True' if self.rng.random() < 0.5 else ''}):")
            self.emit(f"    {acc} = {acc} * 0.5 + np.sum(np.cos({d.name}[key]))")
            self.features.add("sorted_keys")
        else:                                            # the largest key, the item of the smallest key
            self.emit(f"{acc} = np.sum({d.name}[max({d.name})]) - 0.5 * np.sum({d.name}[min({d.name})])")
            self.features.add("sorted_keys")
        self.features.add("for_dict")
        self.define(acc, S, d.mag * 4 * nkeys)

    def st_for_generator(self):
        """A module-level generator function consumed by a ``for`` loop."""
        seqs = [v for v in self.visible() if v.ty[0] in ("V", "L")]
        if not self.gen_helpers or not seqs:
            return False
        src = self.rng.choice(seqs)
        g = self.rng.choice(self.gen_helpers)
        c = self.squash_any(self.scalar(1), S)
        e = self._loop_var(["e_", "yv", "gv"])
        self.features.update({"for_generator", "generator_fn"})
        self.emit(f"for {e} in {g}({src.name}, {c.text}):")
        self._loop_body({e: Var(e, S, max(c.mag, src.mag + 1.2), readonly=True)}, src.ty[1])

    # ------------------------------------------------------------------ functions
    def function(self, name, params, ret, nstmts, is_main=False, first=None, members=()):
        """Lines of one function definition. ``params``: list of (name, type, default text or None,
        Var kwargs); ``first``: a parameter not in the model (a method's ``self`` or ``cls``); ``members``:
        Vars of records' fields and methods, in scope as ``p.w``, ``self.predict``."""
        self.lines = []
        self.indent = 1
        self.scopes = [dict(self.module_scope), {}]
        for pname, ty, default, kw in params:
            self.scopes[-1][pname] = Var(pname, ty, kw.get("mag", 1.5), lo=kw.get("lo", 0), hi=kw.get("hi", 0),
                                         is_arg=True, readonly=(ty == I or ty[0] == "R"))
        for var in members:                          # a record's fields and methods: `p.w`, `self.predict`
            self.scopes[-1][var.name] = var
            self.unused.add(var.name)
        self.base_depth, self.base_indent = len(self.scopes), 1
        self.loops, self.trip, self.fn_ret, self.in_closure = [], 1, ret, False
        self.recent = []
        self.budget = self.rng.randint(6, MAX_LINES - 8) if is_main else self.rng.randint(3, 8)
        for _ in range(nstmts):
            self.statement()
        self.emit(f"return {self.final_return(ret).text}")
        sig = ", ".join(p + (f"={d}" if d is not None else "") for p, _, d, _ in params)
        if first is not None:
            sig = first + (", " + sig if sig else "")
        return [f"def {name}({sig}):"] + self.lines

    def final_return(self, ret):
        """The returned value: the latest values computed, reduced and combined, so that most of the
        function is live."""
        top = [v for v in self.scopes[-1].values() if v.ty[0] in ("S", "V", "M", "L", "T", "D")]
        unused = [v for v in top if v.name in self.unused]
        top = (unused[-3:] + [v for v in top[-3:] if v not in unused])[:4]
        self.rng.shuffle(top)
        if ret[0] == "T":
            parts = [self.scalar(1).text for _ in range(ret[1])]
            return E(", ".join(parts), IFEXP)
        if ret[0] == "V":
            n = ret[1]
            terms = [E(v.name, ATOM, v.mag) for v in top if v.ty == ret][:2]
            if not terms:
                terms = [self.vector(n, 2)]
            e = terms[0]
            for t in terms[1:]:
                e = binop(e, "+", t, e.mag + t.mag)
            if self.chance(0.5):
                s = self.scalar(1)
                e = binop(e, "*", s, e.mag * s.mag) if s.mag < 5 else binop(e, "+", s, e.mag + s.mag)
            return self.squash_vec(e)
        terms = [self.reduce_var(v) for v in top]
        terms = [t for t in terms if t is not None]
        if not terms or self.chance(0.3):
            terms.append(self.scalar(2))
        e = terms[0]
        for t in terms[1:]:
            if self.chance(0.2) and e.mag * t.mag < MAXMAG:
                e = binop(e, "*", t, e.mag * t.mag)
            else:
                e = binop(e, self.rng.choice(["+", "+", "-"]), t, e.mag + t.mag)
        return e

    def reduce_var(self, v):
        k = v.ty[0]
        if k == "S":
            return E(v.name, ATOM, v.mag)
        if k == "V":
            return self.rng.choice([E(f"np.sum({v.name})", ATOM, v.mag * v.ty[1]),
                                    E(f"{v.name}.sum()", ATOM, v.mag * v.ty[1]),
                                    E(f"np.dot({v.name}, {v.name})", ATOM, v.mag ** 2 * v.ty[1]),
                                    E(f"np.mean({v.name} ** 2)", ATOM, v.mag ** 2)])
        if k == "M":
            return self.rng.choice([E(f"np.sum({v.name})", ATOM, v.mag * v.ty[1] * v.ty[2]),
                                    E(f"{v.name}.mean()", ATOM, v.mag),
                                    E(f"np.sum({v.name} ** 2)", ATOM, v.mag ** 2 * v.ty[1] * v.ty[2])])
        if k == "L":
            return E(f"sum({v.name})", ATOM, v.mag * v.ty[1])
        if k == "T":
            return E(f"{v.name}[0] * {v.name}[-1]", MUL, v.mag ** 2)
        if k == "D":
            keys = [key for key, t in v.ty[1]]
            key = self.rng.choice(keys)
            return E(f"np.sum({v.name}[{key!r}])", ATOM, v.mag * 4)
        return None

    def helper(self):
        """A module-level helper: small or large, defaults, keyword parameters, tuple results,
        calls of earlier helpers."""
        self.helper_count += 1
        name = f"h{self.helper_count}{SUFFIX}"
        nparams = self.rng.choice([1, 2, 2, 3])
        n = self.rng.choice([3, 3, 4])
        params = []
        ptys = []
        pnames = ["t", "u", "w"][:nparams]
        for pn in pnames:
            ty = self.rng.choice([S, S, S, V(n)])
            params.append((pn, ty, None, {}))
            ptys.append(ty)
        defaults = {}
        if self.chance(0.4):
            params.append(("c", S, self.rng.choice(["2.0", "0.5", "1.0", "-1.0"]), {"mag": 2.0}))
            ptys.append(S)
            defaults["c"] = params[-1][2]
            self.features.add("default_args")
        form = self.rng.random()
        ret = S
        if form < 0.15:
            ret = T(2)
            self.features.add("tuple_return")
        elif form < 0.3 and any(t[0] == "V" for t in ptys):
            ret = next(t for t in ptys if t[0] == "V")
        size = self.rng.choice([0, 0, 1, 2, 4])
        self.features.add("helper_large" if size >= 2 else "helper")
        saved = self.theme
        self.theme = [k for k in self.theme if not k.startswith(("closure", "lambda"))]
        self.fn_depth += 1
        lines = self.function(name, params, ret, size)
        self.fn_depth -= 1
        self.theme = saved
        fn = Var(name, ("FN", tuple(ptys), ret, defaults, tuple(p[0] for p in params)), 3.0, readonly=True)
        self.module_scope[name] = fn
        return lines

    def generator_helper(self):
        """A generator function over a sequence and a number, sometimes ending early with ``return``."""
        name = f"g{len(self.gen_helpers) + 1}{SUFFIX}"
        self.features.add("generator_fn")
        step = self.rng.choice(["np.sin", "np.tanh", "math.atan", "np.cos"])
        body = [f"def {name}(t, c):", "    for i, e in enumerate(t):"]
        if self.chance(0.4):
            body += [f"        if i == {self.rng.choice([1, 2])}:", "            return"]
        body += [f"        yield {step}(e) * c" if self.chance(0.6) else f"        yield (e - 0.3 * i) * {step}(c)"]
        self.gen_helpers.append(name)
        return body

    def recursive_helper(self):
        self.helper_count += 1
        name = f"h{self.helper_count}{SUFFIX}"
        ty = self.rng.choice([S, S, V(3)])
        self.features.add("recursion")
        self.scopes = [dict(self.module_scope), {"t": Var("t", ty, 1.5)}]
        self.lines, self.indent = [], 1
        e = self.expr(ty, 1)
        step = self.rng.choice(["np.sin", "np.tanh", "np.cos"])
        nxt = f"{step}({e.text}) + 0.5 * t" if self.chance(0.5) else f"0.8 * {step}({e.text})"
        if self.chance(0.5):
            body = [f"def {name}(t, d):", "    if d == 0:", "        return t",
                    f"    return {name}({nxt}, d - 1)" if self.chance(0.6) else
                    f"    return 0.5 * t + {name}({nxt}, d - 1)"]
        else:
            body = [f"def {name}(t, d):", f"    return t if d == 0 else {name}({nxt}, d - 1)"]
        self.module_scope[name] = Var(name, ("FN", (ty, I), ty, {}, ("t", "d")), 3.0, readonly=True)
        return body

    def varargs_helpers(self):
        """Module-level ``def hs1(t, *rest)`` and ``def hk1(t, **kw)``."""
        lines = []
        for kind, prefix, make in (("FNSTAR", "hs", star_helper_lines), ("FNKW", "hk", kw_helper_lines)):
            if self.chance(0.75):
                self.helper_count += 1
                name = f"{prefix}{self.helper_count}{SUFFIX}"
                form = self.rng.randrange(3)
                lines.append(make(name, form))
                self.module_scope[name] = Var(name, (kind, form), 3.0, readonly=True)
        return lines

    def record_class(self, argname):
        """A class for a record argument: a dataclass (sometimes frozen), a plain class whose ``__init__``
        stores its arguments, or a namedtuple; float and float-array fields, an int setting; methods reading
        ``self.w`` and calling each other, a ``@staticmethod``, a ``@classmethod``. Returns (module lines,
        ArgSpec, type of the argument, members: the Vars ``arg.w``, ``arg.predict``, ...)."""
        rng = self.rng
        form = self.pick({"dataclass": 5, "plain": 3, "namedtuple": 2})
        base = rng.choice([n for n in RECORD_NAMES if n + SUFFIX not in self.module_scope] or ["Rec"])
        cname = base + SUFFIX
        self.module_scope[cname] = Var(cname, ("CLASS",), 1.0, readonly=True)
        n = rng.choice([3, 4])
        fields = [("w", "vec", (n,), 0), ("b", "float", (), 0)]
        if form == "namedtuple":
            fields = rng.choice([[("u", "float", (), 0), ("v", "float", (), 0)],
                                 [("w", "vec", (n,), 0), ("b", "float", (), 0)],
                                 [("u", "float", (), 0), ("v", "float", (), 0), ("s", "float", (), 0)]])
        else:
            if self.chance(0.4):
                fields.append(rng.choice([("scale", "float", (), 0), ("v", "vec", (n,), 0)]))
            rng.shuffle(fields)
            if self.chance(0.6):
                fields.append(("n", "int", (), rng.choice([2, 3])))
        ftype = {"float": lambda f: S, "vec": lambda f: V(f[2][0]), "int": lambda f: I}
        self.features.update({"record", {"dataclass": "dataclass", "plain": "plain_class",
                                         "namedtuple": "namedtuple_arg"}[form]})
        spec = ArgSpec(argname, "record", cls=cname, form=form, fields=tuple(fields))

        def field_vars(owner):
            out = []
            for f in fields:
                kw = {"lo": f[3], "hi": f[3]} if f[1] == "int" else {}
                out.append(Var(f"{owner}.{f[0]}", ftype[f[1]](f), 1.5, readonly=True, **kw))
            return out
        if form == "namedtuple":
            self.module_imports.add("from collections import namedtuple")
            lines = [f"{cname} = namedtuple({cname!r}, {[f[0] for f in fields]!r})"]
            ty = T(len(fields)) if all(f[1] == "float" for f in fields) else ("R", cname)
            return lines, spec, ty, field_vars(argname)
        if form == "dataclass":
            self.module_imports.add("from dataclasses import dataclass")
            lines = ["@dataclass(frozen=True)" if self.chance(0.3) else "@dataclass", f"class {cname}:"]
            annot = {"float": "float", "vec": "np.ndarray", "int": "int"}
            lines += [f"    {f[0]}: {annot[f[1]]}" + (f" = {f[3]}" if f[1] == "int" else "") for f in fields]
        else:
            lines = [f"class {cname}:", f"    def __init__(self, {', '.join(f[0] for f in fields)}):"]
            lines += [f"        self.{f[0]} = {f[0]}" for f in fields]
        # methods: each sees the fields (self.w) and the methods before it (self.predict)
        self_members = field_vars("self")
        cls_members = []
        arg_members = field_vars(argname)
        kinds = ["method"] + [rng.choice(["method", "method", "static", "class"]) for _ in range(rng.choice([0, 1, 2]))]
        if self.chance(0.3):
            kinds.insert(0, "static")
        if self.chance(0.3):
            kinds.append("call")               # a layer: `model(t)` calls `__call__`
        rng.shuffle(kinds)
        used = set()
        saved_theme = self.theme
        self.theme = [k for k in self.theme if not k.startswith(("closure", "lambda", "star_", "kwargs"))]
        for kind in kinds:
            pool = {"method": METHOD_NAMES, "static": STATIC_NAMES, "class": CLASS_NAMES, "call": ["__call__"]}[kind]
            mname = rng.choice([m for m in pool if m not in used] or [None])
            if mname is None:
                continue
            used.add(mname)
            nparams = rng.choice([0, 1, 1, 2]) if kind in ("method", "call") else rng.choice([1, 1, 2])
            ptys = [rng.choice([S, S, V(n)]) for _ in range(nparams)]
            params = [(pn, ty, None, {}) for pn, ty in zip(["t", "u"], ptys)]
            ret = S if self.chance(0.75) else V(n)
            members = {"method": self_members, "call": self_members, "static": [], "class": cls_members}[kind]
            first = {"method": "self", "call": "self", "static": None, "class": "cls"}[kind]
            self.fn_depth += 1
            self.aliases.update({"self", "cls"})
            body = self.function(mname, params, ret, rng.choice([0, 0, 1, 2]), first=first, members=list(members))
            self.fn_depth -= 1
            deco = {"method": [], "call": [], "static": ["@staticmethod"], "class": ["@classmethod"]}[kind]
            lines += [""] + ["    " + line for line in deco + body]
            fty = ("FN", tuple(ptys), ret, {}, tuple(pn for pn, _, _, _ in params))
            text = "\n".join(body)
            if "self." in text and kind in ("method", "call") and any(f"self.{m}(" in text for m in used):
                self.features.add("method_calls_method")
            self.features.add({"method": "method", "call": "layer_call", "static": "staticmethod",
                               "class": "classmethod"}[kind])
            self_members.append(Var(f"self.{mname}", fty, 3.0, readonly=True))
            arg_members.append(Var(f"{argname}.{mname}", fty, 3.0, readonly=True))
            if kind in ("static", "class"):
                cls_members.append(Var(f"cls.{mname}", fty, 3.0, readonly=True))
                arg_members.append(Var(f"{cname}.{mname}", fty, 3.0, readonly=True))
        self.theme = saved_theme
        return lines, spec, ("R", cname), arg_members

    def program(self):
        """Generate the whole module: imports, constants, helpers, the main function ``f__U``."""
        rng = self.rng
        kinds = list(self.sw)
        self.theme = rng.sample(kinds, rng.choice([2, 3, 4]))
        self.module_scope = {}
        self.module_imports = set()
        self.nested_star = self.chance(0.01)          # nested `def h(t, *rest)` / `(t, **kw)`: refused by s2sad
        self.class_lines = []
        self.members = []
        self.records = []                             # ArgSpecs of the record arguments (st_record_rebuilt)
        module = ["import math", "import numpy as np", ""]
        if self.chance(self.pw["global_const"]):
            self.features.add("global")
            if self.chance(0.5):
                c = rng.choice([0.5, 0.3, 1.5, -0.7])
                module.append(f"SCALE = {c!r}")
                self.module_scope["SCALE"] = Var("SCALE", S, abs(c), readonly=True)
            else:
                n = rng.choice([3, 4])
                vals = ", ".join(repr(round(rng.uniform(-1, 1), 2)) for _ in range(n))
                module.append(f"W0 = np.array([{vals}])")
                self.module_scope["W0"] = Var("W0", V(n), 1.0, readonly=True)
                self.aliases.add("W0")
            module.append("")
        helpers = []
        self.gen_helpers = []
        if self.chance(self.pw["generator_helper"]):
            helpers.append(self.generator_helper())
        if self.chance(self.pw["varargs_helpers"]):
            helpers += self.varargs_helpers()
        if self.chance(self.pw["recursive_helper"]):
            helpers.append(self.recursive_helper())
        if self.chance(self.pw["helpers"]):
            for _ in range(rng.choice([1, 1, 2])):
                helpers.append(self.helper())
        for h in helpers:
            module += h + ["", ""]
        args, params = self.main_params()
        for c in self.class_lines:
            module += c + ["", ""]
        output = "array" if self.chance(self.pw["array_output"]) else "scalar"
        ret = S
        if output == "array":
            vec_args = [a for a in args if a.kind == "vec"]
            ret = V(vec_args[0].shape[0] if vec_args else rng.choice([3, 4]))
            self.features.add("array_output")
        self.fn_depth = 0
        nstmts = rng.randint(3, 8)
        module += self.function("f" + SUFFIX, params, ret, nstmts, is_main=True, members=self.members)
        if any("functools.partial(" in line for line in module):
            self.module_imports.add("import functools")
        module[2:2] = sorted(self.module_imports)            # after `import math`, `import numpy as np`
        return Program(source="\n".join(module) + "\n", name="f" + SUFFIX, args=args, output=output,
                       features=set(self.features))

    def main_params(self):
        """The main function's parameters: the first is always differentiable (a float or an array),
        then up to three more; a trailing int with a default sometimes."""
        rng = self.rng
        names = iter(["x", "a", "b", "y", "c"])
        args, params = [], []

        def add(kind, shape=(), keys=()):
            name = next(names)
            if kind in ("float", "npfloat"):
                ty = S
            elif kind == "vec":
                ty = V(shape[0])
            elif kind == "mat":
                ty = M(*shape)
            elif kind == "list":
                ty = L(shape[0])
            elif kind == "tuple":
                ty = T(shape[0])
            else:
                ty = ("D", tuple((k, S) for k in keys))
            if kind == "npfloat":
                self.features.add("np_float64_arg")
            if kind in ("list", "tuple", "dict"):
                self.features.add("container_arg")
            args.append(ArgSpec(name, kind, shape, keys=keys))
            params.append((name, ty, None, {"mag": 1.5}))

        def add_record():
            name = rng.choice([n for n in RECORD_ARGS if n not in [a.name for a in args]])
            lines, spec, ty, members = self.record_class(name)
            self.records.append(spec)
            self.class_lines.append(lines)
            self.members += members
            self.aliases.add(name)                 # `v = model.w; v += 1` would change the caller's record
            args.append(spec)
            params.append((name, ty, None, {"mag": 1.5}))

        first = rng.choice(["float", "vec", "vec", "mat", "float"])
        scalar_kind = lambda: "npfloat" if self.chance(self.pw["npfloat_arg"]) else "float"
        shape = {"vec": (rng.choice([3, 4]),), "mat": rng.choice([(2, 3), (3, 3)])}.get(first, ())
        if self.chance(self.pw["record_arg"]):
            add_record()
        else:
            add(scalar_kind() if first == "float" else first, shape)
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
            k = rng.choice(["float", "float", "vec", "mat"])
            if self.chance(self.pw["container_arg"]):
                k = rng.choice(["list", "tuple", "dict"])
            if self.chance(self.pw["record_arg"] / 2) and len(self.class_lines) < 2:
                k = "record"
            if k == "record":
                add_record()
            elif k == "float":
                add(scalar_kind())
            elif k == "vec":
                add("vec", (rng.choice([3, 4]),))
            elif k == "mat":
                add("mat", rng.choice([(2, 3), (3, 3)]))
            elif k == "dict":
                add("dict", keys=tuple(rng.sample(["w", "b", "scale"], 2)))
            else:
                add(k, (rng.choice([2, 3]),))
        if self.chance(self.pw["int_arg"]):
            value = rng.choice([2, 3])
            name = rng.choice(["n", "steps", "m"])
            args.append(ArgSpec(name, "int", value=value, passed=self.chance(0.6)))
            params.append((name, I, str(value), {"lo": value, "hi": value}))
            self.features.add("int_arg")
        return args, params


def generate(seed, stmt_weights=None, expr_weights=None, program_weights=None):
    """The program for ``seed`` (any hashable value; deterministic)."""
    rng = random.Random(repr(seed))
    return Gen(rng, stmt_weights, expr_weights, program_weights).program()


if __name__ == "__main__":
    import sys
    for k in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
        p = generate(("demo", k))
        print(p.source)
        print("#", [(a.name, a.kind, a.shape) for a in p.args], p.output, sorted(p.features))
        print("# " + "-" * 70)
