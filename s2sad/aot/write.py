"""The text of a standalone gradient module, section by section:

    header: source file, its hash, s2sad's version; docstring naming the exported functions
    imports the code reads (the user's, and the modules derivative rules name)
    constants copied from the user's modules
    user functions the derivative code calls undifferentiated
    the user's modules the code reads attributes of (``helpers.cube``), as namespaces of those attributes
    the exported functions (per mode, see MODES): grad_<name>, value_and_grad_<name>
    the generated derivative code (value_and_grad of each exported function, the vjps it links),
        its temporaries named so that an edit elsewhere leaves it alone (stable.py)
    the runtime helpers, built as the namespace ``_s2``

Every section is sorted or in the order the code was reached from the exported functions,
so the same input gives the same bytes.
"""
import ast
import copy
from dataclasses import dataclass
from typing import Callable

from ..version import __version__
from . import helpers, names as text_names
from .stable import stable
from .gather import Constant, Function, StandaloneError, gather


@dataclass(frozen=True)
class Export:
    """A user function whose derivatives the module exports."""
    name: str
    fn: object            # the user's function (undecorated)
    wrt: tuple            # positional parameter indices
    many: bool            # gradients as a tuple (``wrt`` was given as a tuple)


@dataclass(frozen=True)
class Mode:
    """One way of differentiating: the driver's kind of generated code, and the public functions on top of it."""
    kind: str
    prefixes: tuple       # of the public names: "grad_" -> grad_<name>
    exports: Callable     # (export, parameters, generated function, helpers) -> source of the public functions
    helpers: tuple        # the runtime helpers the public functions call


def reverse_exports(export, params, target, helpers_name):
    """``grad_<name>`` and ``value_and_grad_<name>``, returning what s2sad's functions of that name return."""
    names = _param_names(params)
    taken = set(names) | {target, helpers_name}
    value = _fresh("value", taken)
    grads = [_fresh(f"{names[i]}_bar", taken) for i in export.wrt]
    wrt = [names[i] for i in export.wrt]
    unpacked = f"({', '.join(grads)})" if len(grads) > 1 else grads[0]
    liked = [f"{helpers_name}.like({g}, {x})" for g, x in zip(grads, wrt)]
    result = f"({', '.join(liked)}{',' if len(liked) == 1 else ''})" if export.many else liked[0]
    signature, call = ast.unparse(params), _call_args(params)
    respect = " and ".join(dict.fromkeys(wrt))
    body = [f"{x} = {helpers_name}.as_float({x})" for x in dict.fromkeys(wrt)]
    body += [f"{value}, {unpacked} = {target}({call})", f"return ({value}, {result})"]
    return (f"def grad_{export.name}({signature}):\n"
            f'    """The gradient of {export.name} with respect to {respect}, '
            f'as s2sad.grad({export.name}) returns it."""\n'
            f"    return value_and_grad_{export.name}({call})[1]\n\n\n"
            f"def value_and_grad_{export.name}({signature}):\n"
            f'    """{export.name}\'s value and its gradient with respect to {respect}, '
            f'as s2sad.value_and_grad({export.name}) returns them."""\n'
            + "".join(f"    {line}\n" for line in body))


def forward_exports(export, params, target, helpers_name):
    """``jvp_<name>(*params, <x>_dot=...)``: the value and its tangent along the tangents of the ``wrt``
    parameters (keyword-only), as ``s2sad.jvp`` returns them."""
    n = len(export.wrt)
    user = copy.deepcopy(params)                     # the generated function's parameters: tangents first
    dots = (user.posonlyargs + user.args)[:n]
    if user.posonlyargs:
        user.posonlyargs = user.posonlyargs[n:]
    else:
        user.args = user.args[n:]
    call = ", ".join([d.arg for d in dots] + [a for a in [_call_args(user)] if a])
    names = _param_names(user)
    wrt = [names[i] for i in export.wrt]
    taken = set(names) | {d.arg for d in dots} | {target, helpers_name}
    value, tangent = _fresh("value", taken), _fresh("tangent", taken)
    body = [f"{x} = {helpers_name}.as_float({x})" for x in dict.fromkeys(wrt)]
    body += [f"{d.arg} = {helpers_name}.like({d.arg}, {x})" for d, x in zip(dots, wrt)]
    body += [f"{value}, {tangent} = {target}({call})",
             f"return ({value}, {helpers_name}.like({tangent}, {value}))"]
    user.kwonlyargs, user.kw_defaults = user.kwonlyargs + dots, user.kw_defaults + [None] * n
    along = ", ".join(d.arg for d in dots)
    return (f"def jvp_{export.name}({ast.unparse(user)}):\n"
            f'    """{export.name}\'s value and its derivative along {along} (the tangent of '
            f'{" and ".join(dict.fromkeys(wrt))}), as s2sad.jvp({export.name}, ...) returns them."""\n'
            + "".join(f"    {line}\n" for line in body))


# Each way of differentiating: the driver's kind of generated code, and the public functions written for it.
MODES = {"reverse": Mode("value_and_grad", ("grad_", "value_and_grad_"), reverse_exports, ("as_float", "like")),
         "forward": Mode("jvp", ("jvp_",), forward_exports, ("as_float", "like"))}


def module_text(exports, modes, source_name, digest):
    """The standalone module exporting ``exports`` in ``modes`` (names of MODES)."""
    program = gather([(e.fn, e.wrt, MODES[m].kind) for e in exports for m in modes])
    public = [prefix + e.name for e in exports for m in modes for prefix in MODES[m].prefixes]
    texts = {key: stable(unit.generated.text) for key, unit in program.units.items()}
    unit_names, helpers_name, factory = _choose_names(program, texts, public)
    units = []
    for key, unit in program.units.items():
        renames = {name: unit_names[target] for name, target in unit.links.items()}
        renames[unit.generated.name] = unit_names[key]
        if unit.helpers:
            renames[unit.helpers] = helpers_name
        renames.update({name: f"{helpers_name}.{name}" for name in unit.helper_names})
        units.append(text_names.rename(texts[key], {a: b for a, b in renames.items() if a != b}))
    public_code = []
    for export in exports:
        for m in modes:
            key = (export.fn, export.wrt, MODES[m].kind, ())
            params = ast.parse(program.units[key].generated.text).body[0].args
            public_code.append(MODES[m].exports(export, params, unit_names[key], helpers_name))
    functions = sorted((g for g in program.globals.values() if isinstance(g, Function)),
                       key=lambda g: (g.fn.__module__, g.fn.__code__.co_firstlineno, g.name))
    constants = sorted((g for g in program.globals.values() if isinstance(g, Constant)), key=lambda c: c.name)
    imports = [s for g in program.globals.values() if hasattr(g, "statement") and (s := g.statement())]
    sections = [helpers.import_block(imports), "\n".join(f"{c.name} = {c.literal}" for c in constants)]
    sections += [f.source() for f in functions]
    sections.append("\n".join(f"{name} = SimpleNamespace({', '.join(f'{a}={v}' for a, v in sorted(members.items()))})"
                              for name, members in sorted(program.members.items())))
    sections += public_code + units
    used = program.helpers.union(*(MODES[m].helpers for m in modes))
    sections += [helpers.factory_source(used, factory, __version__),
                 f"{helpers_name} = {factory}()"]
    body = "\n\n\n".join(s.strip("\n") for s in sections if s)
    return _header(source_name, digest, public) + "\n\n" + body + "\n"


def derivative_code(fn, wrt, kind):
    """The generated code of ``fn`` and of every function it links to, as ``s2sad show`` prints it."""
    return "\n\n".join(unit.generated.text for unit in gather([(fn, wrt, kind)]).units.values())


def _header(source_name, digest, public):
    return (f"# Generated by s2sad {__version__} from {source_name}; do not edit.\n"
            f"# sha256 of {source_name}'s tokens (comments and layout aside): {digest}\n"
            f"# `s2sad compile` rewrites this file; `s2sad compile --check` tells whether it is current.\n"
            f'"""Standalone derivatives of {source_name}: {", ".join(public)}.\n\n'
            f"They run without s2sad: this module holds the derivative code of every function involved\n"
            f'and the s2sad runtime helpers that code calls.\n"""')


def _choose_names(program, texts, public):
    """Module-level names for the generated functions, the helpers and their factory: the
    generated names where free, else numbered; never a name some function binds locally."""
    clash = sorted(set(public) & set(program.globals))
    if clash:
        raise StandaloneError(f"the code reads a global named `{clash[0]}`, the name of an exported function",
                              hint="rename that global")
    taken = set(program.globals) | set(public)
    for text in texts.values():
        taken |= text_names.local_names(text)
    for g in program.globals.values():
        if isinstance(g, Function):
            taken |= text_names.local_names(g.source())
    unit_names = {}
    for key, unit in program.units.items():
        unit_names[key] = name = _fresh(unit.generated.name, taken)
        taken.add(name)
    helpers_name = _fresh("_s2", taken)
    taken.add(helpers_name)
    return unit_names, helpers_name, _fresh(f"{helpers_name}_helpers", taken)


def _fresh(base, taken):
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    return name


def _param_names(params):
    return [a.arg for a in params.posonlyargs + params.args]


def _call_args(params):
    """The arguments that pass a function's parameters on to another function with the same parameters."""
    args = _param_names(params)
    if params.vararg:
        args.append(f"*{params.vararg.arg}")
    args += [f"{a.arg}={a.arg}" for a in params.kwonlyargs]
    if params.kwarg:
        args.append(f"**{params.kwarg.arg}")
    return ", ".join(args)
