"""Call sites: what a called object is to the compiler, shared by reverse mode, forward mode and the inliner.

A call on the differentiated path is one of:

- a *primitive*: an object with a registered rule (``np.sin``, ``operator.mul``, a user's own);
- a *user function*: a Python function of the user's, with no rule, differentiated from its source
  (its generated code is linked, see back/link.py);
- a *nested function*: defined inside the differentiated function and lifted (front/lift.py);
- a *checkpointed* user function (``s2sad.checkpoint``): recomputed in the backward sweep;
- something s2sad cannot tell (a method of an unknown object, a function value): refused.
"""
import builtins
import functools
import inspect
import os
import sys

import gast
import numpy as np

from . import nodes as N
from .errors import TransformError, UnsupportedSyntaxError
from .front.source import library_code, unwrap
from .markers import DERIVATIVE_ATTRIBUTE, is_checkpoint
from .rules.registry import has_rule
from .tree import called_like_a_function

__all__ = ["user_function", "is_checkpoint", "Nested", "signature_of", "differentiated_arguments", "index_value"]

_S2SAD = os.path.dirname(os.path.abspath(__file__)) + os.sep


SOURCE_MARK = "__s2sad_differentiated_from_source__"   # on s2sad's own functions meant to be read like a user's


def user_function(obj):
    """A Python function of the user's that s2sad differentiates from its source (no rule registered).

    Functions of installed libraries and of the standard library (``np.cumsum`` is written in
    Python) are primitives: they need a rule.
    """
    fn = unwrap(obj)
    if not inspect.isfunction(fn) or has_rule(obj) or has_rule(fn):
        return False                    # a rule registered in either mode is never bypassed
    if fn.__code__.co_filename.startswith("<s2sad") or getattr(fn, SOURCE_MARK, False):
        return True                     # s2sad's generated code, or s2sad code written to be differentiated
    path = fn.__code__.co_filename      # where it lives, not its module's name: a user's wave.py is the user's
    return not path.startswith(_S2SAD) and not library_code(path)     # (s2sad's own modules are no user's)


class Dynamic:
    """A call of a function known only when the code runs: a parameter or a variable holding a function
    (``act(h)``, ``f(a)(x)``, ``fs[i](x)``), a method of an object (``self.predict(w, X)``). The generated code
    asks s2sad for its derivative then (``s2sad.vjp``/``s2sad.jvp``, whatever the function is: a user's, a
    lambda, a method, a partial, a primitive with rules), so it needs s2sad at run time."""

    def __init__(self, func):
        self.func = func                   # the callee expression (an atom, or ``obj.method``)


_ARRAY_METHODS = set(dir(__import__("numpy").ndarray)) | set(dir(list)) | set(dir(dict)) | set(dir(tuple))


def _users_method(func, scope):
    """Whether ``obj.name`` is a method the class of a global or closure object ``obj`` defines in Python (a user's
    ``parser.get(w, "W")``: not a dict's ``get``, whatever its name)."""
    if not (isinstance(func.value, gast.Name) and scope.is_free(func.value.id)):
        return False
    obj = scope.lookup(func.value.id)
    if isinstance(obj, (np.ndarray, list, dict, tuple, set, str, bytes, int, float, complex, type)):
        return False
    method = inspect.getattr_static(type(obj), func.attr, None)
    return inspect.isfunction(method) and user_function(method)


def dynamic(value, op, scope):
    """A Dynamic for the call ``value`` when its function is known only at run time, else None. Methods named
    like the ones of arrays, lists and dicts stay static (their rules are looked up by name)."""
    from .analysis.ops import UNKNOWN
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) and op.primitive is not UNKNOWN \
            and not isinstance(op.primitive, type) and not has_rule(op.primitive) \
            and (called_like_a_function(op.primitive) or hasattr(op.primitive, DERIVATIVE_ATTRIBUTE)
                 or isinstance(op.primitive, functools.partial)):
        return Dynamic(value.func)          # a module's layer object called by name (`L0(x)`): its __call__; a
                                            # function s2sad made (`d = s2sad.elementwise_grad(h)`), a partial
                                            # (`total = partial(np.sum, axis=0)`): s2sad's vjp of it
    if not isinstance(value, gast.Call) or op.primitive is not UNKNOWN:
        return None
    func = value.func
    if isinstance(func, gast.Attribute):
        if func.attr in _ARRAY_METHODS and not _users_method(func, scope):
            return None
        return Dynamic(func)
    if isinstance(func, gast.Name):
        return Dynamic(func)
    return None


def varied_method(unit, callee):
    """``m`` for a call ``obj.m(...)`` whose object is being differentiated (a dataclass or an object holding
    arrays): the call becomes ``MethodCall("m")(obj, ...)``, the object an argument like the others; ``__call__``
    for ``obj(...)`` (a layer called, ``layers[i](x)``: its class's ``__call__``; a closure or partial of a
    differentiated value there is refused when the code runs, MethodCall.function); else None."""
    f = callee.func
    if isinstance(f, gast.Attribute) and isinstance(f.value, gast.Name) and f.value.id in unit.facts.varied:
        return f.attr
    if isinstance(f, gast.Name) and f.id in unit.facts.varied and f.id not in unit.facts.made:
        return "__call__"
    return None


def method_object(callee):
    """The object a varied method call (``varied_method``) is called on."""
    return callee.func.value if isinstance(callee.func, gast.Attribute) else callee.func


class MethodCall:
    """``obj.name(*args)`` as a function of ``obj`` and ``args``: what is called is looked up when the code runs
    (targets.resolve asks ``function(obj)``). A method is called with ``obj`` as ``self``; a staticmethod,
    a classmethod or a function held by the object as a field is called without it (the field holds no
    derivative: a closure or a bound method there could read the object's arrays, and is refused)."""

    def __init__(self, name):
        self.name = self.__name__ = name

    def __call__(self, obj, *args, **kwargs):
        return getattr(obj, self.name)(*args, **kwargs)

    def __eq__(self, other):
        return isinstance(other, MethodCall) and other.name == self.name

    def __hash__(self):
        return hash(("MethodCall", self.name))

    def __repr__(self):
        return f"MethodCall({self.name!r})"

    def function(self, obj, n, keywords=()):
        """A Python function of ``(obj, a0, ..., a{n-1}, **keywords)`` s2sad reads: the method of ``obj``'s
        class; for a staticmethod, a classmethod, or a plain function or ufunc held by the object as a field,
        s2sad's wrapper calling it without the object."""
        found = inspect.getattr_static(obj, self.name, None)
        in_instance = self.name in getattr(obj, "__dict__", {})
        if not in_instance and inspect.isfunction(found):
            return found
        if not in_instance and isinstance(found, staticmethod):
            return _without_object(found.__func__, (), n, keywords)
        if not in_instance and isinstance(found, classmethod):
            return _without_object(found.__func__, (type(obj),), n, keywords)
        value = getattr(obj, self.name)
        if in_instance and (isinstance(value, np.ufunc) or inspect.isfunction(value) and not value.__closure__
                            or has_rule(value)):
            return _without_object(value, (), n, keywords)
        if in_instance and called_like_a_function(value):        # a layer held as a field: `self.fc1(x)`
            return _field_called(self.name, n, keywords)
        if self.name == "__call__":
            raise UnsupportedSyntaxError(
                f"cannot differentiate a call of a {type(obj).__name__} made from a differentiated value (s2sad "
                "follows derivatives through a function's arguments, not through what a partial, a closure or a "
                "bound method holds)", hint="pass the differentiated values to the function as arguments")
        raise UnsupportedSyntaxError(
            f"cannot differentiate `{type(obj).__name__}.{self.name}(...)` on an object being differentiated: it is "
            f"a {type(value).__name__} (a bound method or a closure held by the object may read its arrays, which "
            "s2sad would take as constants)", hint="define it as a method of the class, or pass it as an argument")


WITHOUT_OBJECT = "s2sad_object"       # the wrapper's first parameter: unused, by design (no zero-gradient warning)
_wrappers = {}


def _without_object(fn, lead, n, keywords):
    """``def <name>(s2sad_object, a0, ..., k_kw=None): return _f(*lead, a0, ..., kw=k_kw)``: s2sad's source for calling a
    function found on an object without the object (cached per function and call shape)."""
    key = (id(fn), lead, n, keywords)
    cached = _wrappers.get(key)
    if cached is not None and cached[0] is fn:
        return cached[1]
    name = getattr(fn, "__name__", "function")
    name = name if name.isidentifier() else "function"
    call = ", ".join([f"_lead{k}" for k in range(len(lead))] + _passed(n, keywords))
    wrapper = _caller(name, WITHOUT_OBJECT, n, keywords, [f"return _f({call})"],
                      f"<s2sad call of {name} without the object>", {"_f": fn, **{f"_lead{k}": v for k, v in enumerate(lead)}})
    _wrappers[key] = (fn, wrapper)
    return wrapper


def _field_called(name, n, keywords):
    """``def <name>(obj, a0, ..., k_kw=None): layer = obj.<name>; return layer(a0, ..., kw=k_kw)``: s2sad's source for
    calling a callable object held as a field, differentiated through the object (the field is one of its parts)
    and through the layer's own ``__call__`` (cached per name and call shape)."""
    key = ("field", name, n, keywords)
    if key not in _wrappers:
        _wrappers[key] = (None, _caller(name, "obj", n, keywords, [f"layer = obj.{name}",
                                                                   f"return layer({', '.join(_passed(n, keywords))})"],
                                        f"<s2sad call of the field {name}>", {}))
    return _wrappers[key][1]


def _passed(n, keywords):
    """The arguments a generated caller passes on: ``a0, ..., kw=k_kw``."""
    return [f"a{k}" for k in range(n)] + [f"{k}=k_{k}" for k in keywords]


def _caller(name, first, n, keywords, body, filename, scope):
    """``def <name>(<first>, a0, ..., k_kw=None): <body>``, compiled in ``scope`` and registered, so that s2sad reads
    it like a user's function."""
    params = [first] + [f"a{k}" for k in range(n)] + [f"k_{k}=None" for k in keywords]
    text = f"def {name}({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body)
    exec(compile(text, filename, "exec"), scope)                       # noqa: S102 -- s2sad's own text
    wrapper = scope[name]
    from .front import source as front_source
    front_source.register_generated(wrapper.__code__, text, filename)
    return wrapper


def refuse_varied_callee(unit, s, callee):
    """A Dynamic call whose function itself is made from a differentiated value (a closure over it): the
    derivative cannot follow through the function value, so it is refused (both modes)."""
    from .analysis.ops import names_in
    from .errors import UnsupportedSyntaxError
    from . import nodes as N
    if set(names_in(callee.func)) & unit.facts.varied:
        text = N.unparse(callee.func)
        shown = "" if text.startswith("_") else f", `{text}`,"         # (not a temporary of s2sad's: `Net(W)(x)`)
        raise unit.error(UnsupportedSyntaxError, f"the function called here{shown} depends on a value being "
                         "differentiated (a closure or an object made from it)", s,
                         hint="pass the differentiated values to the function as arguments (an object is followed "
                              "when its class's `__init__` only stores its parameters, `self.W = W`)")


class Nested:
    """A function defined inside a differentiated function, lifted (front/lift.py): differentiated from its
    lifted tree, with the enclosing user function's globals and closure cells. Equal when the enclosing
    function and the lifted text are."""

    def __init__(self, owner, node, filename, first_line, lines, siblings=None, bindings=None):
        self.owner = owner                 # the enclosing user function object (its globals and cells)
        self.name = self.__name__ = node.name
        self.__qualname__ = f"{getattr(owner, '__qualname__', '?')}.<locals>.{node.name}"
        self._node = N.clone(node)
        self.text = N.unparse(node)
        self.filename, self.first_line, self.lines = filename, first_line, tuple(lines)
        # the functions lifted beside it (front/lift.Lifted by name): it may call them
        self.siblings = dict(siblings or {})
        # what the enclosing function's generated code binds that this one reads (an import of its body:
        # front/modules.py), for its own generated code
        read = {n.id for d in [node] + [v.node for v in self.siblings.values()] for n in N.walk(d)
                if isinstance(n, gast.Name)}
        self.bindings = {k: v for k, v in (bindings or {}).items() if k in read}
        self._key = (self.name, self.text, tuple(sorted((k, N.unparse(v.node)) for k, v in self.siblings.items())),
                     tuple(sorted((k, id(v)) for k, v in self.bindings.items())))

    def tree(self):
        return N.clone(self._node)

    def __hash__(self):
        return hash((id(self.owner), self._key))

    def __eq__(self, other):
        return isinstance(other, Nested) and self.owner is other.owner and self._key == other._key



def library_module(obj):
    """The name of the module a library's function is found in: its ``__module__``, or, for a ufunc (which names
    none), NumPy's or scipy.special's (``gammaln``) where it is that module's attribute of its name; else ""."""
    module = getattr(obj, "__module__", None)
    if isinstance(module, str):
        return module
    name = getattr(obj, "__name__", None)
    for candidate in ("numpy", "scipy.special") if isinstance(obj, np.ufunc) and isinstance(name, str) else ():
        if getattr(sys.modules.get(candidate), name, None) is obj:
            return candidate
    return ""


def nested(unit, lifted):
    """The Nested a call to the function ``lifted`` (front/lift.Lifted) defined in ``unit``'s function differentiates."""
    return Nested(unit.owner, lifted.node, unit.source.filename, unit.source.first_line, unit.source.lines,
                  siblings=unit.lifted, bindings=unit.aliases.bindings)


def signature_of(callee, lifted=None):
    """(inspect.Signature, positional parameter names) of a user function or a lifted nested one."""
    if lifted is not None:
        params = [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in lifted.params]
        return inspect.Signature(params), list(lifted.params)
    fn = unwrap(callee)
    code = fn.__code__
    positional = list(code.co_varnames[:code.co_argcount])
    return inspect.signature(fn), positional


def differentiated_arguments(unit, s, op, signature, positional, active):
    """(index, atom) of each parameter of a user function's call ``s`` that receives an active value, in order:
    positional ones by index, ``*args`` after them (its atom the tuple of what lands there), then keyword-only
    ones and ``**kw`` by name (``**kw``'s atom the dict of what lands there).
    A starred argument (``f(p, *rest)``) binds where the code runs: the arguments before it are bound, and
    nothing differentiated may be in it or after it."""
    from .front.lift import spreads_into_rest
    args, rest = op.args, None
    if args and isinstance(args[-1], gast.Starred) and isinstance(args[-1].value, gast.Name) and \
            spreads_into_rest(signature, args, list(op.kwargs)):
        args, rest = args[:-1], args[-1].value        # h(a, *items) into def h(t, *rest): rest is items, whole
    star = next((k for k, a in enumerate(args) if isinstance(a, gast.Starred)), None)
    if star is not None:
        late = [a for a in args[star:]] + list(op.kwargs.values())
        if any(isinstance(a, gast.AST) and {n.id for n in N.walk(a) if isinstance(n, gast.Name)} & active
               for a in late):
            raise unit.error(UnsupportedSyntaxError, f"cannot differentiate through the starred argument of "
                             f"`{op.label}` (or an argument after it): where its items land is known only when "
                             f"the code runs", s, hint="pass the differentiated values as ordinary arguments")
        try:
            bound = signature.bind_partial(*args[:star])
        except TypeError as exc:
            raise unit.error(TransformError, f"cannot call `{op.label}` this way: {exc}", s,
                             hint="call it with the arguments its definition takes") from None
    else:
        bound = None
    try:
        bound = bound or signature.bind(*args, **op.kwargs)
    except TypeError as exc:
        raise unit.error(TransformError, f"cannot call `{op.label}` this way: {exc}", s,
                         hint="call it with the arguments its definition takes") from None
    wrt = []
    if rest is not None and rest.id in active:
        wrt.append((len(positional), rest))
    for pname, atom in bound.arguments.items():
        # *args binds a tuple of arguments, **kwargs a dict of them (its values are what may be differentiated)
        atoms = atom if isinstance(atom, tuple) else tuple(atom.values()) if isinstance(atom, dict) else (atom,)
        if not any(isinstance(a, gast.AST) and {n.id for n in N.walk(a) if isinstance(n, gast.Name)} & active
                   for a in atoms):
            continue
        if pname in positional:
            wrt.append((positional.index(pname), atom))
        elif signature.parameters[pname].kind is inspect.Parameter.VAR_POSITIONAL:
            wrt.append((len(positional), N.tup(list(atom))))       # *args: the callee's tuple, after the others
        elif signature.parameters[pname].kind is inspect.Parameter.VAR_KEYWORD:
            wrt.append((pname, gast.Dict(keys=[N.const(k) for k in atom], values=list(atom.values()))))
        else:                                                      # keyword-only: by name, after the others
            wrt.append((pname, atom))
    order = list(signature.parameters)
    return sorted(wrt, key=lambda pair: (isinstance(pair[0], str), order.index(pair[0]) if isinstance(pair[0], str)
                                         else pair[0]))


def rest_spread(call, scope):
    """The ``*items`` of a call ``h(a, *items)`` that lands in the ``*rest`` of ``h``, a user function, whole (a
    linked call differentiates ``rest`` as that tuple: ``differentiated_arguments``), else None."""
    from .front.lift import spreads_into_rest
    last = call.args[-1] if call.args else None
    if not (isinstance(last, gast.Starred) and isinstance(last.value, gast.Name)):
        return None
    callee = scope.resolve(call.func)
    if not user_function(callee) or not spreads_into_rest(inspect.signature(callee), call.args,
                                                         [k.arg for k in call.keywords]):
        return None
    return last


def argument_kinds(unit, op, signature, positional, wrt=None):
    """What a user function's call passes, per positional parameter (-1 a number, an array's ndim, a tuple of
    item kinds, None unknown): the callee's generated code is specialised on it, differentiated arguments
    or not (a value computed from a number the callee is not differentiated by is a number too: RK4's
    state from ``x0``). Sound because the caller's kinds hold every time the call runs
    (analysis/shapes.kinds is flow-insensitive). ``wrt`` is accepted for the callers' convenience."""
    if not unit.options.specialize:
        return ()
    star = next((k for k, a in enumerate(op.args) if isinstance(a, gast.Starred)), None)
    try:
        bound = (signature.bind(*op.args, **op.kwargs) if star is None else
                 signature.bind_partial(*op.args[:star])).arguments      # (what a starred argument holds: unknown)
    except TypeError:
        return ()
    out = []
    for k, p in enumerate(positional):
        atom = bound.get(p)
        if isinstance(atom, gast.Constant):
            out.append(-1 if type(atom.value) in (int, float) else None)
        elif isinstance(atom, gast.Name):
            out.append(unit.facts.kinds.get(atom.id))
        else:
            out.append(None)
    while out and out[-1] is None:
        out.pop()
    return tuple(out)


_analyses = {}


def _analysed(callee, lifted=None, outer=None):
    """A user function read, lifted, normalized and its effects analysed, for the questions asked of it where it
    is called (``changed_arguments``, ``changed_module_state``): ``(tree, unit, effects, source)``, or ``None``
    where it cannot be read. Cached per code object (per lifted node for a function defined inside). A function
    defined inside the differentiated one (``lifted``) sees the globals and cells of ``outer``, the enclosing
    one's scope (``np.zeros_like(y)`` is then known to make a new array, not a view of ``y``)."""
    from .front import lift, normalize
    from .front.source import read
    from .analysis import effects as effects_analysis
    from .unit import Unit
    from .front.resolve import Scope, assigned_names
    from .aliases import Aliases
    key = _key(callee, lifted)
    if key is None:
        return None
    if key in _analyses:
        return _analyses[key][1]
    try:
        if lifted is not None:                      # a function defined inside: its lifted text
            from .front.source import from_text
            fn = None
            source = from_text(N.unparse(lifted.node))
            scope = Scope(outer.globals if outer is not None else {}, outer.cells if outer is not None else {},
                          assigned_names(source.tree))
        else:
            fn = unwrap(callee)
            source = read(fn)
            scope = Scope.of(fn, assigned_names(source.tree))
        namer = N.Namer(N.all_names(source.tree) | {source.tree.name})
        unit = Unit(fn=fn, owner=fn, source=source, scope=scope, namer=namer, aliases=Aliases(scope, namer), wrt=(),
                    kind="vjp")
        tree = normalize.run(lift.run(source.tree, unit), unit)
        result = (tree, unit, effects_analysis.run(tree, unit), source)
    except Exception:                                # noqa: BLE001  (its own transform reports what it refuses)
        result = None
    _analyses[key] = (lifted, result)             # (the lifted node held: its id is not reused while cached)
    return result


def _key(callee, lifted):
    """The cache key of a callee: its code object, or the id of a lifted function's node (held by the cache)."""
    return id(lifted.node) if lifted is not None else getattr(unwrap(callee), "__code__", None)


_changes = {}


def changed_arguments(callee, lifted=None, outer=None):
    """Positional parameters a user function may change in place (``x += y`` on an array argument,
    ``xs.append(v)``, ``x[i] = v``): the caller's value changes too, which s2sad's derivative code,
    differentiating a function of its arguments' values, does not reproduce. Cached."""
    from .analysis import effects as effects_analysis
    key = _key(callee, lifted)
    if key in _changes:
        return _changes[key]
    _changes[key] = frozenset()                     # recursion: assume none while looking
    analysed = _analysed(callee, lifted, outer)
    result = frozenset()
    if analysed is not None:
        tree, unit, effects, source = analysed
        try:
            params = N.params(tree)
            changed = {p for _, _, reached in source.argument_updates for p in reached}
            changes = [(m, c) for m, sites in effects.mutated.items() for c in sites
                       if not effects_analysis.fresh_where_changed(tree, unit, c, m)]   # a copy made just before
            changed |= {p for p in params if any(p in effects.classes.get(m, {m}) for m, _ in changes)}
            changed |= _passed_on_to_change(tree, unit, params, effects)
            result = frozenset(params.index(p) for p in changed if p in params)
        except Exception:                            # noqa: BLE001  (its own transform reports what it refuses)
            result = frozenset()
    _changes[key] = result
    return result


_returns = {}


def returned_arguments(callee):
    """The positional parameters (indices) whose objects, a part or a view of them, a user function may return
    (``w = v.copy(); w[0] += c; return w`` returns none: the caller may write into the result without changing
    its argument); None where the function cannot be read (any may be returned). Cached."""
    key = _key(callee, None)
    if key is None:
        return None
    if key in _returns:
        return _returns[key]
    _returns[key] = None                            # recursion: any may be returned while looking
    analysed = _analysed(callee)
    result = None
    if analysed is not None:
        tree, unit, effects, _ = analysed
        try:
            if tree.args.vararg is not None or tree.args.kwarg is not None:
                raise ValueError("*args, **kwargs")      # (positions past the named ones all land in one name)
            if any(isinstance(node, gast.FunctionDef) and node is not tree for node in N.walk(tree)):
                raise ValueError("a function defined inside")      # (its returns are not the function's)
            params = N.params(tree)
            result = frozenset(params.index(p) for p in effects.returned if p in params)
        except Exception:                            # noqa: BLE001  (its own transform reports what it refuses)
            result = None
    _returns[key] = result
    return result


_state_changes = {}


def changed_module_state(callee):
    """The names of its module (globals, closure cells) whose objects a user function changes in place
    (``STORE.append(v)``, ``BUF[:] = v``, ``CACHE[k] = v``), a few calls deep. Cached per code object."""
    key = getattr(unwrap(callee), "__code__", None)
    if key is None:
        return frozenset()
    if key in _state_changes:
        return _state_changes[key]
    _state_changes[key] = frozenset()                 # recursion: assume none while looking
    analysed = _analysed(callee)
    result = set()
    if analysed is not None:
        tree, unit, effects, _ = analysed
        scope = unit.scope
        result = {n for n in effects.mutated if scope.is_free(n)}
        for st in N.statements(tree.body):               # and what the functions it calls change
            value = st.value if isinstance(st, (gast.Assign, gast.Expr)) else None
            if isinstance(value, gast.Call):
                try:
                    inner = scope.resolve(value.func)
                except Exception:                        # noqa: BLE001
                    continue
                if user_function(inner):
                    result |= changed_module_state(inner)
    _state_changes[key] = frozenset(result)
    return _state_changes[key]


def _passed_on_to_change(tree, unit, params, effects):
    """The parameters of ``tree`` that it passes to a user function changing that argument in place (``_double(a)``
    with ``a *= 2.0`` inside): they change too."""
    from .analysis.ops import UNKNOWN, classify
    found = set()
    for s in N.statements(tree.body):
        value = s.value if isinstance(s, (gast.Assign, gast.Expr)) else None
        if not isinstance(value, gast.Call):
            continue
        op = classify(value, unit.scope)
        if op.primitive is UNKNOWN or not user_function(op.primitive):
            continue
        inner = changed_arguments(op.primitive)
        if not inner:
            continue
        try:
            signature, positional = signature_of(op.primitive, None)
            bound = signature.bind(*op.args, **op.kwargs).arguments
        except (TypeError, ValueError):
            continue
        for k in inner:
            atom = bound.get(positional[k]) if k < len(positional) else None
            if isinstance(atom, gast.Name):
                found |= {p for p in params if p in effects.classes.get(atom.id, {atom.id})}
    return found


def index_value(index, aliases):
    """The index of a subscript as a value expression (``1:`` -> ``slice(1, None)``)."""
    if isinstance(index, gast.Slice):
        parts = [index.lower, index.upper, index.step]
        while len(parts) > 2 and parts[-1] is None:      # slice(1, None), not slice(1)
            parts.pop()
        return N.call(aliases.ref(builtins.slice, "slice"), [N.clone(p) if p is not None else N.const(None)
                                                             for p in parts])
    if isinstance(index, gast.Tuple):
        return N.tup([index_value(e, aliases) for e in index.elts])
    return N.clone(index)
