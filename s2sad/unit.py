"""One unit of work: a function to differentiate, how, and what the passes learned about it.

Every pass has the signature ``run(tree, unit) -> tree`` (an analysis: ``run(tree, unit) -> facts``)
and reads what it needs from the unit: the parsed source (for error locations), the names in
scope, the namer (fresh names never collide), the aliases generated code uses, what to
differentiate, the options, and the facts earlier analyses recorded as plain data.
"""
from dataclasses import dataclass, field

from .options import Options

MODES = ("reverse", "forward")
KINDS = ("value_and_grad", "grad", "vjp", "jvp")


@dataclass
class Facts:
    """What the analyses found, as plain data (name sets and dicts)."""
    active: frozenset = frozenset()        # analysis/activity.py: names that get derivative code
    varied: frozenset = frozenset()        # names that may depend on (and share memory with) a wrt input
    numbers: frozenset = frozenset()       # analysis/shapes.py: names that always hold a number
    shapes: dict = field(default_factory=dict)   # name -> representative of its shape class
    ndims: dict = field(default_factory=dict)    # name -> known number of dimensions
    definitions: dict = field(default_factory=dict)   # name assigned once -> its (top-level) assignment
    loads: dict = field(default_factory=dict)    # name -> how many times the function reads it
    mutated: frozenset = frozenset()       # names whose object a statement changes in place
    aliases: dict = field(default_factory=dict)   # analysis/effects.py: name -> names that may hold the same object
    containers: frozenset = frozenset()    # names that may hold a list or tuple (+ concatenates, * repeats)
    ints: frozenset = frozenset()          # names that may hold a Python int (a sequence * an int repeats it)
    kinds: dict = field(default_factory=dict)    # name -> -1 a number, an array's ndim, a tuple of item kinds
    loop_stores: dict = field(default_factory=dict)   # id(forward loop) -> (loop, names it assigns): record.stored_in
    made: frozenset = frozenset()          # names that may hold what a call made (a closure, a partial), not an input


@dataclass
class Unit:
    fn: object                 # the user's function object (None for a function defined inside another)
    owner: object              # the user function whose globals and closure cells the generated code reads
    source: object             # front/source.Source: the parsed tree, file name and lines
    scope: object              # front/resolve.Scope: names -> objects (recorded for the cache)
    namer: object              # nodes.Namer
    aliases: object            # aliases.Aliases: names the generated code binds itself
    wrt: tuple                 # indices of the positional parameters to differentiate
    kind: str                  # one of KINDS
    kinds: tuple = ()          # per positional parameter: -1 a number, an array's ndim, a tuple for containers, None
    options: Options = field(default_factory=Options)
    name: str = ""             # the generated function's name
    lifted: dict = field(default_factory=dict)   # functions defined inside: name -> front/lift.Lifted
    facts: Facts = field(default_factory=Facts)
    links: list = field(default_factory=list)    # back/link.Link objects the generated code calls
    own: tuple = None          # (target, wrt, kind, kinds) of the generated function itself: recursion calls it
    warn: bool = False         # warn when the output does not depend on a wrt argument
    discard: str = "_"         # a name for values the generated code does not use (not one of the user's)
    plan: object = None        # analysis/record.Plan of the reverse sweep (for tests and debugging)
    versions: dict = field(default_factory=dict)   # front/versions.py: user name -> the names it became
    guarded: set = field(default_factory=set)      # analysis/effects.py's runtime checks: id() of each, and
    #                                                (id(statement checked), check)

    @property
    def mode(self):
        return "forward" if self.kind == "jvp" else "reverse"

    def error(self, cls, message, node, hint=None):
        """An exception pointing at ``node`` in the user's file."""
        return self.source.error(cls, message, node, hint=hint)

    @property
    def params(self):
        """The parameters ``wrt`` counts: the positional ones, then ``*args`` (a tuple) if there is one."""
        args = self.source.tree.args
        return [a.id for a in args.posonlyargs + args.args] + ([args.vararg.id] if args.vararg is not None else [])

    @property
    def keyword_params(self):
        """The keyword-only parameters, then ``**kw`` (a dict) if there is one: a linked call differentiates
        them by name (``wrt`` holds the name), after the positional ones."""
        args = self.source.tree.args
        return [a.id for a in args.kwonlyargs] + ([args.kwarg.id] if args.kwarg is not None else [])

    @property
    def wrt_names(self):
        params = self.params
        return [i if isinstance(i, str) else params[i] for i in self.wrt]


def unit_for_text(text, globals_=None, wrt=(0,), kind="value_and_grad", kinds=(), options=None):
    """A unit for a function given as source text (doctests and golden tests)."""
    from . import nodes as N
    from .aliases import Aliases
    from .front.resolve import Scope, assigned_names
    from .front.source import from_text
    source = from_text(text)
    scope = Scope(dict(globals_ or {}), local_names=assigned_names(source.tree))
    namer = N.Namer(N.all_names(source.tree) | {source.tree.name} | set(globals_ or {}))
    unit = Unit(fn=None, owner=None, source=source, scope=scope, namer=namer, aliases=Aliases(scope, namer),
                wrt=tuple(wrt), kind=kind, kinds=tuple(kinds), options=options or Options())
    unit.discard = namer.fresh("_")
    return unit
