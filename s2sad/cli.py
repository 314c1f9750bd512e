"""The command line: ``s2sad compile`` writes standalone gradient modules, ``s2sad show`` prints generated code.

    s2sad compile model.py [-o out.py] [--mode reverse|forward|both] [--function NAME ...] [--check]
    s2sad show model.py:loss [--wrt 0,1] [--mode reverse|forward]

A problem in the user's code prints ``file:line: reason`` on one line and exits 2, leaving
no output file behind; ``compile --check`` exits 1 when the output is missing or stale.
"""
import argparse
import hashlib
import os
import shlex
import sys
import tempfile
from pathlib import Path

from . import aot, unit as units
from .version import __version__
from .errors import S2SadError, TransformError

ERROR, STALE = 2, 1


class CommandError(Exception):
    """A problem with the command itself (a missing file, an unknown mode): its message is printed as is."""


def main(argv=None):
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    args.rerun = " ".join(shlex.quote(a) for a in argv if a != "--check")
    try:
        return args.run(args)
    except CommandError as exc:
        print(f"s2sad {args.command}: {exc}", file=sys.stderr)
    except S2SadError as exc:
        print(_one_line(exc, args), file=sys.stderr)
    return ERROR


def _parser():
    parser = argparse.ArgumentParser(prog="s2sad", description="Source-to-source automatic differentiation.")
    parser.add_argument("--version", action="version", version=f"s2sad {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    compile_ = commands.add_parser("compile", help="write a standalone module of gradients",
                                   description="Write a module defining grad_<name> and value_and_grad_<name> "
                                               "for the @differentiable functions of MODULE; it imports "
                                               "neither s2sad nor MODULE.")
    compile_.add_argument("module", help="the Python file to differentiate")
    compile_.add_argument("-o", "--output", help="the file to write (default: MODULE_grad.py beside MODULE)")
    compile_.add_argument("--mode", choices=("reverse", "forward", "both"), default="reverse")
    compile_.add_argument("--function", action="extend", nargs="+", metavar="NAME",
                          help="export only these functions (default: every @differentiable one)")
    compile_.add_argument("--check", action="store_true",
                          help="write nothing; exit 1 if the output is missing or not what compile would write")
    compile_.set_defaults(run=compile_command)

    show = commands.add_parser("show", help="print the generated derivative code of a function")
    show.add_argument("target", metavar="MODULE:FUNCTION")
    show.add_argument("--wrt", type=_wrt, help="positional parameter indices, e.g. 0 or 0,1 "
                                               "(default: the decorator's, else 0)")
    show.add_argument("--mode", choices=("reverse", "forward"), default="reverse")
    show.set_defaults(run=show_command)
    return parser


def compile_command(args):
    source = _existing(args.module)
    modes = _modes(("reverse", "forward") if args.mode == "both" else (args.mode,))
    output = Path(args.output) if args.output else source.with_name(f"{source.stem}_grad.py")
    if output.resolve() == source.resolve():
        raise CommandError(f"the output {output} is the input itself")
    module = aot.load(source)
    exports = aot.exports(module, args.function)
    name = Path(os.path.relpath(source.resolve(), output.resolve().parent)).as_posix()
    text = aot.module_text(exports, modes, name, hashlib.sha256(source.read_bytes()).hexdigest())
    current = output.read_text(encoding="utf-8") if output.is_file() else None
    if args.check:
        if current != text:
            state = "missing" if current is None else "stale"
            print(f"{output} is {state}: run `s2sad {args.rerun}`", file=sys.stderr)
            return STALE
        return 0
    if current != text:
        _write(output, text)
    public = ", ".join(prefix + e.name for e in exports for m in modes for prefix in aot.MODES[m].prefixes)
    print(f"wrote {output}: {public}" if current != text else f"{output} is up to date: {public}")
    return 0


def show_command(args):
    path, sep, name = args.target.rpartition(":")
    if not sep or not path or not name:
        raise CommandError(f"expected MODULE:FUNCTION, got {args.target!r}")
    source = _existing(path)
    (mode,) = _modes((args.mode,))
    (export,) = aot.exports(aot.load(source), [name])
    text = aot.derivative_code(export.fn, export.wrt if args.wrt is None else args.wrt, aot.MODES[mode].kind)
    print(_highlighted(text, sys.stdout), end="")
    return 0


def _wrt(text):
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _existing(path):
    source = Path(path)
    if not source.is_file():
        raise CommandError(f"{path}: no such file")
    if source.suffix != ".py":
        raise CommandError(f"{path}: not a Python file (.py)")
    return source


def _modes(names):
    """``names``, checked: each must be in MODES, and the driver must generate its kind of code."""
    for name in names:
        mode = aot.MODES.get(name)
        if mode is None or mode.kind not in units.KINDS:
            raise CommandError(f"--mode {name}: {name} mode is not available in this version of s2sad")
    return names


def _write(output, text):
    """Write ``text`` to ``output`` all at once: a temporary file beside it, renamed over it."""
    try:
        fd, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(temporary, output)
    except BaseException:
        os.unlink(temporary)
        raise


def _one_line(exc, args):
    """``file:line: reason`` (with the hint after it), the file relative to the current directory."""
    if isinstance(exc, TransformError) and exc.filename:
        construct = f": `{exc.construct}`" if exc.construct else ""
        hint = f" (hint: {exc.hint})" if exc.hint else ""
        return f"{_relative(exc.filename)}:{exc.lineno}: {exc.reason}{construct}{hint}"
    target = getattr(args, "module", None) or args.target
    return f"{target}: " + " ".join(str(exc).split())


def _relative(filename):
    path = os.path.abspath(filename)
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _highlighted(text, stream):
    """``text`` coloured as Python when ``stream`` is a terminal and pygments is installed."""
    if not stream.isatty():
        return text
    try:
        from pygments import highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return text
    return highlight(text, PythonLexer(), TerminalFormatter())
