"""The compiler: every pass, in order, over one unit of work; and the cache of what it produced.

    source --parse--> gast --fence--> --lift--> --normalize--> --jumps--> --spreads--> --inline-->
           --versions--> --spreads--> --sequences--> --effects, activity, shapes-->
           --reverse (sweep, record, realize, last_iteration, assemble) | forward (tangent)-->
           --cleanup, fold--> --emit--> text --compile--> function (cached, keyed by meaning)

``differentiate`` lists the passes; ``generate`` is the cache in front of it; ``Generated.bind``
compiles the text against the user's globals and closure cells and resolves the links to the
generated code of the functions it calls.
"""
import builtins
import threading
import types
import weakref

import gast

from .version import __version__
from . import nodes as N
from . import calls, runtime
from .aliases import Aliases
from .analysis import activity, effects as effects_analysis, module_state, record, shapes
from .back import emit, floats as back_floats
from .back.link import Link
from .errors import SourceUnavailableError, UnsupportedSyntaxError, WrtError, ZeroGradientWarning
from .forward import tangent
from .front import defaults, fence, jumps, lift, normalize, sequences, source as front_source, spreads, versions
from .front.resolve import MISSING, Scope, assigned_names
from .optimize import cleanup, fold, hoist, inline_calls
from .options import Options
from .reverse import assemble, count_down, last_iteration, realize, recompute, sweep
from .rules import registry
from .unit import Facts, Unit
from .tree import record_class

stats = {"transforms": 0, "compiles": 0}      # counters the tests read


# --- the passes, in order -------------------------------------------------------------------------
def differentiate(unit):
    """Run every pass on ``unit``; returns the generated FunctionDef."""
    tree = unit.source.tree
    fence.run(unit.source)                                            # refuse what no pass handles
    tree = defaults.run(tree, unit)                                   # if p is None: p = [] (then p.append(...))
    tree = lift.run(tree, unit)                                       # nested functions take outer locals as arguments
    tree = normalize.run(tree, unit)                                  # one operation per statement
    tree = jumps.run(tree, unit)                                      # break/continue/return end a branch
    tree = spreads.run(tree, unit, lambda: _kinds(tree, unit))        # f(*p), f(**d) item by item
    if unit.options.inline:
        tree = inline_calls.run(tree, unit)                           # small helpers' bodies
    if unit.options.hoist:
        tree = hoist.run(tree, unit)                                  # loop-invariant items, read before the loop
    tree = versions.own_targets(tree, unit)                           # i = x[0]; for i in range(3): a target of its own
    if unit.options.versions:
        tree = versions.run(tree, unit)                               # a new name per assignment outside loops
    tree = spreads.run(tree, unit, lambda: _kinds(tree, unit), final=True)   # what inlining, versions made known
    if unit.options.specialize:
        tree = sequences.run(tree, unit, lambda: _kinds(tree, unit))   # loops over known arrays, lists, tuples
    unit.scope = unit.scope.with_locals(assigned_names(tree))
    analyze(tree, unit)                                               # effects, activity, shapes
    if unit.mode == "forward":
        fn = tangent.run(tree, unit)
    else:
        backward, _ = sweep.run(tree, unit)                           # adjoints, with restore points
        backward.recomputed = recompute.run(tree, backward, unit)     # cheap values computed again
        plan = record.run(tree, backward, unit)                       # what the forward sweep records
        unit.plan = plan
        realized = realize.run(tree, backward, plan, unit)            # pushes and pops
        if unit.options.cleanup:                                      # constants, copies, dead code
            keep = {backward.bars[w] for w in unit.wrt_names}
            realized.backward = cleanup.run(realized.backward, keep, _pure_call(unit), _broadcasts(unit))
        result = tree.body[-1].value
        keep = {backward.bars[w] for w in unit.wrt_names} | {n.id for n in N.walk(result) if isinstance(n, gast.Name)}
        if unit.options.last_iteration:                               # a backward loop's last, unread updates
            realized.backward = last_iteration.run(realized.backward, realized.forward, keep, unit)
        if unit.options.iterate:                                      # loops over ranges count their index down
            realized.backward = count_down.run(realized.backward, realized.forward, keep, unit)
        fn = assemble.run(tree, realized, backward, unit)             # value_and_grad | grad | vjp
    if unit.options.fold:
        numbers = unit.facts.numbers | {bar for name, bar in backward.bars.items() if name in unit.facts.numbers} \
            if unit.mode != "forward" else frozenset()
        fn = fold.run(fn, lambda n: isinstance(unit.scope.lookup(n), types.ModuleType), unit.aliases.helpers, numbers)
    return fn


def _kinds(tree, unit):
    return shapes.kinds(tree, unit.scope.with_locals(assigned_names(tree)), unit.kinds, call_results)


def _broadcasts(unit):
    """Whether a call broadcasts its first argument linearly (cleanup.scale_early)."""
    def broadcast(func):
        try:
            return unit.scope.resolve(func) is runtime.unreduce
        except Exception:                                     # noqa: BLE001
            return False
    return broadcast


def _pure_call(unit):
    """Fold ``math.log(2.0)`` and friends when the callee is the math module's."""
    import math

    def resolve(func):
        obj = unit.scope.resolve(func)
        if getattr(obj, "__module__", None) == "math" or (callable(obj) and getattr(math, getattr(obj, "__name__", ""),
                                                                                  None) is obj):
            return obj
        return None
    return resolve


def _drop_list_checks(tree, unit, arrays):
    """``_s2.same_length(x, ...)`` before ``x[a:b] = v`` (front/normalize.py) checks a list's length: where ``x`` is
    known to be an array (whose slice keeps its shape), or the code is specialised and ``x`` an array, it goes."""
    def keep(st):
        call = st.value if isinstance(st, gast.Expr) else None
        return not (isinstance(call, gast.Call) and call.args and isinstance(call.args[0], gast.Name)
                    and call.args[0].id in arrays and unit.scope.resolve(call.func) is runtime.same_length)

    for block in N.blocks(tree.body):
        block[:] = [st for st in block if keep(st)]


def _made_by_calls(tree, scope):
    """Names that may hold a call's result (``f = curried(w)``, through copies): a function value made in the code,
    which calls.varied_method does not take for an input object called (``layer(x)``). An object a class makes
    (``l1 = Dense(W1)``, a record: tree.record_class) is one: its ``l1(x)`` is its class's ``__call__``."""
    made, changed = set(), True
    while changed:
        changed = False
        for s in N.statements(tree.body):
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and s.targets[0].id not in made \
                    and (isinstance(s.value, gast.Lambda) or isinstance(s.value, gast.Call)
                         and not record_class(scope.resolve(s.value.func)) or isinstance(s.value, gast.Name)
                         and s.value.id in made):
                made.add(s.targets[0].id)
                changed = True
    return frozenset(made)


def analyze(tree, unit):
    """The facts the differentiation passes read (unit.facts), as plain data."""
    value_kinds = shapes.kinds(tree, unit.scope, unit.kinds, call_results)
    effects_analysis.follow_copies(tree, unit, value_kinds)          # `y = z; y += e`: z's later reads
    effects = effects_analysis.run(tree, unit, value_kinds)
    varied, active = activity.run(tree, unit, effects)
    free = {n for n in varied | active if unit.scope.is_free(n)}
    if free:                    # a global's object a change through a local name may reach: analysis/effects.check
        varied, active = varied - free, active - free      # refuses it where the global is read again
    params = N.params(tree)
    ndims = {p: k for p, k in zip(params, unit.kinds) if k is not None}
    classes = shapes.run(tree, unit.scope, ndims, call_results, [n for n, k in value_kinds.items() if k == -1])
    numbers = frozenset(n for n, c in classes.items() if c == shapes.SCALAR and n != shapes.SCALAR) | \
        frozenset(n for n, k in value_kinds.items() if k == -1)
    arrays = frozenset(n for n, k in value_kinds.items() if isinstance(k, int) and k >= 0)
    _drop_list_checks(tree, unit, arrays)
    effects_analysis.check_writes(tree, unit, varied, effects, numbers, active, arrays)   # refusals, first
    effects_analysis.check_methods(tree, unit, varied, value_kinds)
    effects_analysis.guard_keys(tree, unit, varied)
    module_state.check(unit, frozenset(u for u, vs in unit.versions.items() if (set(vs) | {u}) & varied) | varied)
    effects_analysis.pass_read_only(tree, unit, varied, active, numbers, effects)
    numbers_only = frozenset(n for n, k in value_kinds.items() if isinstance(k, tuple) and k
                             and all(i == -1 for i in k))          # a list or tuple of numbers holds no array
    effects_analysis.check(tree, unit, effects, varied, numbers, arrays, numbers_only)
    sequences, ints = shapes.containers(tree, unit.scope, unit.kinds, value_kinds)
    facts = Facts(active=active, varied=varied, mutated=frozenset(effects.mutated), containers=sequences,
                  ints=ints, aliases=dict(effects.classes), made=_made_by_calls(tree, unit.scope))
    stores, loads = {}, {}
    for n in N.walk(tree):
        if isinstance(n, gast.Name):
            table = loads if isinstance(n.ctx, gast.Load) else stores
            table[n.id] = table.get(n.id, 0) + 1
    facts.loads = loads
    facts.definitions = {s.targets[0].id: s for s in N.statements(tree.body) if isinstance(s, gast.Assign)
                         and isinstance(s.targets[0], gast.Name) and stores.get(s.targets[0].id) == 1}
    if unit.options.specialize:                   # numbers, shape classes and ndims, from the arguments' kinds
        facts.shapes, facts.numbers, facts.kinds = classes, numbers, value_kinds
        facts.ndims = shapes.ndims(tree, unit.scope, ndims, classes)
        for n, k in value_kinds.items():
            if isinstance(k, int) and n not in facts.ndims:
                facts.ndims[n] = 0 if k == -1 else k
    unit.facts = facts
    if unit.warn:
        for w in unit.wrt_names:
            if w not in active and w != calls.WITHOUT_OBJECT:
                import warnings
                warnings.warn(f"{unit.source.filename}:{unit.source.first_line}: the output of "
                              f"{unit.source.tree.name}() does not depend on its argument `{w}`: the derivative "
                              f"with respect to it is zero", ZeroGradientWarning, stacklevel=_user_frame())


def _user_frame():
    """The stack level of the innermost frame outside s2sad (a warning points at the user's call)."""
    import os
    import sys
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


_results = {}


def call_results(fn, numbers):
    """What user function ``fn`` returns when the arguments flagged in ``numbers`` are Python
    numbers: True (a number), a tuple of flags (a tuple, which items are numbers), or None."""
    fn = front_source.unwrap(fn)
    key = (fn.__code__, numbers)
    if key in _results:
        return _results[key]
    _results[key] = None
    try:
        unit = new_unit(fn, (), "value_and_grad", (), Options())
        fence.run(unit.source)
        tree = jumps.run(normalize.run(lift.run(unit.source.tree, unit), unit), unit)
        tree = versions.run(tree, unit)
    except Exception:                                   # noqa: BLE001  (the transform itself will report it)
        return None
    scope = unit.scope.with_locals(assigned_names(tree))
    params = N.params(tree)
    ndims = {p: -1 for p, is_number in zip(params, numbers) if is_number}
    known = shapes.scalar_names(tree, scope, set(ndims), ndims, call_results)
    result = tree.body[-1].value
    if not isinstance(result, gast.Name):
        return None
    packs = [s.value for s in N.statements(tree.body) if isinstance(s, gast.Assign) and
             isinstance(s.targets[0], gast.Name) and s.targets[0].id == result.id]
    if result.id in known:
        answer = True
    elif packs and all(isinstance(v, gast.Tuple) for v in packs) and len({len(v.elts) for v in packs}) == 1:
        answer = tuple(all(shapes._number(v.elts[k]) or isinstance(v.elts[k], gast.Name) and v.elts[k].id in known
                           for v in packs) for k in range(len(packs[0].elts)))
    else:
        answer = None
    _results[key] = answer
    return answer


# --- units ----------------------------------------------------------------------------------------
def new_unit(target, wrt, kind, kinds, options, warn=False):
    """A unit of work for ``target``: a Python function (decorated or generated), or a calls.Nested."""
    if isinstance(target, calls.Nested):
        source = front_source.of_nested(target)
        owner = target.owner
        fn = None
        bindings = target.bindings
    else:
        fn = front_source.unwrap(target)
        source = front_source.read(fn)
        owner = fn
        bindings = {}
    fn_args = source.tree.args
    if fn_args.vararg is not None:                 # the arguments past the positional ones are *args, a tuple
        n = len(fn_args.posonlyargs) + len(fn_args.args)
        kinds = tuple(kinds[:n]) + (None,) * (n - len(kinds)) + (tuple(kinds[n:]),) if len(kinds) > n \
            else tuple(kinds)
    scope = Scope.of(owner, assigned_names(source.tree)) if owner is not None else Scope({}, {}, ())
    scope.bindings.update(bindings)
    namer = N.Namer(N.all_names(source.tree) | {source.tree.name})
    unit = Unit(fn=fn, owner=owner, source=source, scope=scope, namer=namer, aliases=Aliases(scope, namer),
                wrt=tuple(wrt), kind=kind, kinds=tuple(kinds), options=options)
    unit.warn = warn
    unit.discard = namer.fresh("_")
    params = unit.params
    for i in unit.wrt:
        if isinstance(i, str) and i in unit.keyword_params:
            continue                              # a linked call's keyword-only or **kw parameter, by name
        if isinstance(i, str) or not -len(params) <= i < len(params):
            raise WrtError(f"wrt={i} but {source.tree.name}() has {len(params)} positional parameter(s) "
                           f"({', '.join(params)})")
    unit.wrt = tuple(i if isinstance(i, str) else i % len(params) for i in unit.wrt)
    suffix = {"value_and_grad": "value_and_grad", "grad": "grad", "vjp": "vjp", "jvp": "jvp"}[kind]
    unit.name = namer.fresh(f"{source.tree.name}_{suffix}")
    return unit


# --- generated code and its cache ----------------------------------------------------------------
_GONE = object()                               # dict.get's default: never an object a name was resolved to


class Checks:
    """What a generated function's meaning rests on: names in globals dicts, the builtins and closure
    cells that must still hold the objects its transform resolved. ``valid()`` runs on every call, so
    each group is checked with one C-level loop."""
    __slots__ = ("_names", "_absent", "_cells", "_defaults", "_broken", "_fast", "_registry")

    def __init__(self, registry_version=None):
        self._names = {}       # id(dict) -> (dict, {name: object})   the name must hold that object
        self._absent = {}      # id(dict) -> (dict, set of names)      the name must stay undefined there
        self._cells = {}       # id(cell) -> (cell, object)
        self._defaults = {}    # id(function) -> (function, __defaults__, __kwdefaults__, __code__): the defaults
        #                        and the code the transform read, not replaced since (assigning one of those
        #                        attributes is the only way to change them: IPython's autoreload assigns __code__)
        self._broken = False   # a resolved cell the owner does not have: never valid
        self._registry = registry_version     # if given, also: no rule registered since

    @classmethod
    def of(cls, resolved, owner, registry_version=None, callee_defaults=()):
        """The checks for names ``resolved`` ((where, name) -> object) against ``owner``'s globals and cells
        (and, given ``registry_version``, that the rule registry has not changed since; ``callee_defaults``:
        (function, __defaults__, __kwdefaults__, __code__) of the function differentiated and of those the
        transform resolved, as it saw them)."""
        self = cls(registry_version)
        cells = dict(zip(owner.__code__.co_freevars, owner.__closure__ or ())) if owner is not None else {}
        g = owner.__globals__ if owner is not None else {}
        b = builtins.__dict__
        if owner is not None and type(owner) is types.FunctionType and (owner.__defaults__ or owner.__kwdefaults__):
            self._defaults[id(owner)] = (owner, owner.__defaults__, owner.__kwdefaults__, owner.__code__)
        for fn, positional, keywords, code in callee_defaults:   # (an inlined callee's defaults are filled in where
            self._defaults[id(fn)] = (fn, positional, keywords, code)    # it was called)
        for (where, name), obj in resolved.items():
            if isinstance(name, str) and name.startswith("__s2sad"):
                continue                        # s2sad's own markers in the generated code (comments)
            if where == "attr":                 # module.attr: the module's namespace must still hold it
                module, attr = name
                if obj is MISSING:
                    self._absent.setdefault(id(module.__dict__), (module.__dict__, set()))[1].add(attr)
                else:
                    self._require(module.__dict__, attr, obj)
            elif where == "cell":
                cell = cells.get(name)
                if cell is None:
                    self._broken = True
                else:
                    self._cells[id(cell)] = (cell, obj)
            elif name in g:
                self._require(g, name, obj)
            else:                               # a builtin (or undefined): not shadowed by a global since
                self._absent.setdefault(id(g), (g, set()))[1].add(name)
                if obj is MISSING:
                    self._absent.setdefault(id(b), (b, set()))[1].add(name)
                else:
                    self._require(b, name, obj)
        return self.freeze()

    def _require(self, d, name, obj):
        self._names.setdefault(id(d), (d, {}))[1][name] = obj


    def merge(self, other):
        """Also require what ``other`` requires (the checks of linked generated code)."""
        for d, names in other._names.values():
            for name, obj in names.items():
                self._require(d, name, obj)
        for d, names in other._absent.values():
            self._absent.setdefault(id(d), (d, set()))[1].update(names)
        self._cells.update(other._cells)
        self._defaults.update(other._defaults)
        self._broken = self._broken or other._broken
        return self.freeze()

    def freeze(self):
        """Compile ``valid``: one expression ``d0.get(n0, GONE) is o0 and ... and c0.cell_contents is k0``
        (a third of the time of a generic loop over the same checks; it runs on every call)."""
        if self._broken:
            self._fast = _never
            return self
        space = {}
        text = (f"def valid():\n    try:\n        return {self.condition(space, '')}\n"
                f"    except ValueError:\n        return slow()\n")     # an empty cell: compare with MISSING
        held, cells = self._held()
        space["slow"] = lambda: (self._registry is None or registry._version[0] == self._registry) and all(d.get(n, _GONE) is o for d, n, o in held) and \
            all(_cell(c) is o for c, o in cells) and \
            all(f.__defaults__ is p and f.__kwdefaults__ is k and f.__code__ is c for f, p, k, c in self._defaults.values())
        exec(compile(text, "<s2sad cache checks>", "exec"), space)
        self._fast = space["valid"]
        return self

    def _held(self):
        held = [(d, name, obj) for d, names in self._names.values() for name, obj in names.items()]
        held += [(d, name, _GONE) for d, names in self._absent.values() for name in names]
        return held, list(self._cells.values())

    def condition(self, space, prefix):
        """The checks as one expression over names it puts in ``space`` (each starting with ``prefix``), for
        code that writes them inline (``valid`` here, a per-call entry): True while every check holds; an empty
        closure cell raises ValueError (the caller decides); None when the checks can never hold."""
        if self._broken:
            return None
        held, cells = self._held()
        space[f"{prefix}GONE"], space[f"{prefix}R"] = _GONE, registry._version
        terms = [f"{prefix}R[0] == {self._registry!r}"] if self._registry is not None else []
        for i, (d, name, obj) in enumerate(held):
            space[f"{prefix}d{i}"], space[f"{prefix}o{i}"] = d, obj
            terms.append(f"{name!r} not in {prefix}d{i}" if obj is _GONE else    # (no method call: half the time)
                         f"{prefix}d{i}.get({name!r}, {prefix}GONE) is {prefix}o{i}")
        for j, (cell, obj) in enumerate(cells):
            space[f"{prefix}c{j}"], space[f"{prefix}k{j}"] = cell, obj
            terms.append(f"{prefix}c{j}.cell_contents is {prefix}k{j}")
        for j, (fn, positional, keywords, code) in enumerate(self._defaults.values()):
            space[f"{prefix}f{j}"], space[f"{prefix}p{j}"], space[f"{prefix}q{j}"] = fn, positional, keywords
            space[f"{prefix}e{j}"] = code
            terms.append(f"{prefix}f{j}.__code__ is {prefix}e{j}" + (
                f" and {prefix}f{j}.__defaults__ is {prefix}p{j} and {prefix}f{j}.__kwdefaults__ is {prefix}q{j}"
                if positional is not None or keywords is not None else
                f" and {prefix}f{j}.__defaults__ is None and {prefix}f{j}.__kwdefaults__ is None"))
        return " and ".join(terms) or "True"

    def valid(self):
        """Every check at once (this runs on every call)."""
        return self._fast()


def _never():
    return False


class Bound:
    """A generated function compiled against one owner, and the checks that keep it valid: every name
    its transform (and the transforms of the generated code it links to) resolved still denotes the
    same object, and no rule was registered since."""
    __slots__ = ("fn", "checks", "gen", "ready", "floats", "lists", "__weakref__")

    def __init__(self, fn, checks, gen, floats=False):
        self.fn, self.checks, self.gen = fn, checks, gen
        self.ready = False            # its links to other generated functions are filled in
        self.floats = floats          # np.float64 arguments may run as Python floats (back/floats.py)
        self.lists = gen.lists if floats else ()                      # ... and 1-d float64 arrays as lists

    def valid(self):
        return self.checks.valid()


class Generated:
    """Generated code for one target, ``wrt``, kind, argument kinds and options: text, what it binds,
    and what it resolved (so that it is used only while those names mean the same objects)."""

    def __init__(self, text, name, bindings, origin, resolved, registry_version, owner_defaults=True, floats=False,
                 callee_defaults=(), tangents=None):
        self.text, self.name, self.bindings, self.origin = text, name, bindings, origin
        self.tangents = tangents               # tangent code: how many tangents its first parameters are
        self.callee_defaults = callee_defaults  # (function, __defaults__, __kwdefaults__, __code__), as the transform
        #                                         saw them: the function differentiated and those it resolved
        self.floats = floats                   # the float route is switched on (options.floats)
        self.lists = back_floats.listed(text) if floats else ()     # parameters it may pass as lists (text only)
        self.resolved = resolved               # (where, name) -> object, as the transform saw them
        self.registry_version = registry_version
        self.owner_defaults = owner_defaults   # the owner's parameter defaults apply (its own code)
        self._bound = weakref.WeakKeyDictionary()

    def still_valid(self, owner):
        return registry.version() == self.registry_version and \
            Checks.of(self.resolved, owner, callee_defaults=self.callee_defaults).valid()

    def bind(self, owner):
        """The generated function, reading ``owner``'s own globals and closure cells (a Bound)."""
        key = owner if owner is not None else _NO_OWNER
        bound = self._bound.get(key)
        if bound is not None and bound.ready and bound.valid():
            return bound
        with _lock:                    # another thread may be filling in the links: wait for it
            bound = self._bound.get(key)
            if bound is not None and bound.valid():     # ready, or this thread's own recursion
                return bound
            return self._bind(owner, key)

    def _bind(self, owner, key):
        cells = dict(zip(owner.__code__.co_freevars, owner.__closure__ or ())) if owner is not None else {}
        fn_globals = owner.__globals__ if owner is not None else {"__builtins__": builtins}
        defaults = (owner.__defaults__, owner.__kwdefaults__) if owner is not None and self.owner_defaults \
            else (None, None)
        fn, links = emit.compile_function(self.text, self.name, fn_globals, cells, self.bindings, self.origin,
                                          *defaults)
        stats["compiles"] += 1
        if self.tangents is not None:          # (analysis/effects.tangent_code_parts reads it)
            fn.__s2sad_tangents__ = self.tangents
        front_source.register_generated(fn.__code__, self.text, f"<s2sad {self.name} from {self.origin}>")
        floats = self.floats and back_floats.safe(self.text, back_floats.denoter(self.bindings, self.resolved,
                                                                                   fn_globals, cells))
        bound = Bound(fn, Checks.of(self.resolved, owner, self.registry_version, self.callee_defaults), self, floats)
        self._bound[key] = bound                       # registered first: recursion finds it
        try:
            linked = emit.resolve_links(links, resolve_link)
        except BaseException:
            del self._bound[key]
            raise
        for other in linked:
            bound.checks.merge(other.checks)
            bound.floats = bound.floats and other.floats
        bound.ready = True
        return bound


class _NoOwner:
    pass


_NO_OWNER = _NoOwner()


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return MISSING


_cache = {}
_lock = threading.RLock()
_ENTRIES = 16             # generated versions kept per (code, wrt, kind, kinds, options): one per closure, say


def forget():
    """Drop every cached transform (tests that change a pass use it; the cache otherwise keys by meaning)."""
    with _lock:
        _cache.clear()
        _directionals.clear()


def _identity(target):
    """What identifies a target's source: its code object (kept alive by the cache), or the nested text."""
    if isinstance(target, calls.Nested):
        return ("nested", id(target.owner.__code__), target.name, target.text)
    fn = front_source.unwrap(target)
    code = getattr(fn, "__code__", None)
    return ("code", id(code), code) if code is not None else ("object", id(fn), fn)


def _owner(target):
    if isinstance(target, calls.Nested):
        return target.owner
    return front_source.unwrap(target)


def generate(target, wrt, kind="value_and_grad", kinds=(), options=None, warn=False):
    """Generated code for ``target`` (a cache hit while the names it resolved still mean the same)."""
    options = options or Options()
    key = (_identity(target), tuple(wrt), kind, tuple(kinds), options.key(), __version__)
    owner = _owner(target)
    entries = _cache.get(key, ())
    for gen in entries:
        if gen.still_valid(owner):
            return gen
    with _lock:
        for gen in _cache.get(key, ()):
            if gen.still_valid(owner):
                return gen
        gen = transform(target, wrt, kind, kinds, options, warn)
        # entries for other owners (closures of one factory) stay: each is checked against its owner
        _cache[key] = list(_cache.get(key, ()))[-(_ENTRIES - 1):] + [gen]
        return gen


def record_plan(target, wrt=(0,), kinds=(), options=None):
    """What the reverse sweep of ``target`` records and why, as text: one line per value the backward
    sweep needs after it may be overwritten ("push", "shape", "none" with the reason), then the values
    computed again instead of recorded."""
    unit = new_unit(target, tuple(wrt), "value_and_grad", tuple(kinds), options or Options(), False)
    differentiate(unit)
    lines = [unit.plan.dump()] if unit.plan.decisions else []
    lines += [f"{name}: computed again ({why})" for name, why in sorted(unit.plan.recomputed.items())]
    return "\n".join(lines)


def transform(target, wrt, kind, kinds=(), options=None, warn=False):
    """Run the compiler on ``target`` (no cache)."""
    stats["transforms"] += 1
    options = options or Options()
    unit = new_unit(target, wrt, kind, kinds, options, warn)
    unit.own = (_link_target(target), unit.wrt, "vjp" if kind == "vjp" else "jvp" if kind == "jvp" else None,
                tuple(kinds))
    version = registry.version()
    fn_tree = differentiate(unit)
    text = emit.source_text(fn_tree)
    origin = f"{unit.source.filename}:{unit.source.first_line}"
    resolved = dict(unit.scope.resolved)
    return Generated(text=text, name=fn_tree.name, bindings=dict(unit.aliases.bindings), origin=origin,
                     resolved=resolved, registry_version=version,
                     owner_defaults=not isinstance(target, calls.Nested),
                     floats=options.floats and back_floats.may_run_again(unit.facts),
                     callee_defaults=tuple((f, f.__defaults__, f.__kwdefaults__, f.__code__)
                                           for f in [_link_target(target)] + list(resolved.values()) if type(f) is types.FunctionType),
                     tangents=len(unit.wrt) if kind == "jvp" else None)


def _link_target(target):
    return target if isinstance(target, calls.Nested) else front_source.unwrap(target)


def resolve_link(link):
    """The compiled generated function a Link names (a Bound)."""
    gen = generate(link.target, link.wrt, link.kind, link.kinds, link.options)
    return gen.bind(_owner(link.target))


def function(target, wrt, kind, kinds=(), options=None, warn=False):
    """The compiled generated function for ``target`` (generated and bound on first use): a Bound."""
    gen = generate(target, wrt, kind, kinds, options, warn)
    return gen.bind(_owner(target))


# --- directional derivatives: how derivatives of derivatives avoid differentiating reverse-mode code --
_directionals = {}


def directional(inner, wrt, kinds, options, positions=None, fixed=None, keywords=None):
    """A generated function ``D(*args, *tangents)`` returning the tangent of ``inner`` at ``args`` along
    ``tangents`` (one per index in ``wrt``): forward-mode code, plain enough to be differentiated again
    in either mode. Its source is registered, so s2sad reads it like a user function.

    ``fixed``: parameter position -> value that ``inner`` gets and ``D`` does not take (a bound method's
    object, a partial's arguments; targets.py); ``keywords``: the values ``inner`` gets by keyword (a partial's
    ``k=b`` of a keyword-only parameter or ``**kw``), passed by ``D`` as they are; ``positions``: where each of
    ``D``'s arguments goes."""
    options = options or Options()
    fixed = dict(fixed or {})
    keywords = dict(keywords or {})
    positions = tuple(positions) if positions is not None else tuple(k for k in range(len(kinds)) if k not in fixed)
    held = tuple(sorted(fixed.items()))
    held_kw = tuple(sorted(keywords.items()))
    key = (id(inner), tuple((k, id(v)) for k, v in held + held_kw), positions, tuple(wrt), tuple(kinds), options.key())
    entry = _directionals.get(key)
    if entry is not None and entry[0] is inner and all(a is b for (_, a), (_, b) in zip(entry[1], held + held_kw)) \
            and entry[3].valid():
        return entry[2]
    with _lock:
        import inspect
        params = [p.name for p in inspect.signature(inner).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:len(kinds)]   # the ones passed
        if len(params) < len(kinds):
            params = params + [f"_a{k}" for k in range(len(params), len(kinds))]
        namer = N.Namer(set(params) | {"_jvp"})
        dots = [namer.fresh(f"{params[i]}_dot") for i in wrt]
        held_names = {k: namer.fresh(f"_{params[k]}") for k in fixed}
        kw_names = {k: namer.fresh(f"_{k}") for k in keywords}
        own = [params[k] for k in positions]
        passed = [held_names.get(k, params[k]) for k in range(len(params))] + [f"{k}={v}" for k, v in kw_names.items()]
        base = getattr(inner, "__name__", "f")
        name = namer.fresh(f"{base if base.isidentifier() else 'lambda_'}_along")
        text = (f"def {name}({', '.join(own + dots)}):\n"
                f"    return _jvp({', '.join(dots + passed)})[1]\n")
        link = Link(target=inner, wrt=tuple(wrt), kind="jvp", kinds=tuple(kinds[:len(params)]), options=options)
        owner = _owner(inner)
        fn_globals = owner.__globals__ if owner is not None else {"__builtins__": builtins}
        bindings = {"_jvp": link, **{held_names[k]: v for k, v in fixed.items()},
                    **{kw_names[k]: v for k, v in keywords.items()}}
        fn, links = emit.compile_function(text, name, fn_globals, {}, bindings, f"directional derivative of "
                                          f"{getattr(inner, '__qualname__', name)}")
        front_source.register_generated(fn.__code__, text, f"<s2sad {name}>")
        linked = emit.resolve_links(links, resolve_link)
        if len(_directionals) > 4096:              # closures made in a loop: do not keep them all alive
            _directionals.clear()
        _directionals[key] = (inner, held + held_kw, fn, linked[0])
        return fn
