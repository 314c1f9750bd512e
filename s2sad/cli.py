"""The command line: ``s2sad compile`` writes standalone gradient modules, ``s2sad show`` prints generated code.

    s2sad compile model.py [-o out.py] [--mode reverse|forward|both] [--function NAME ...] [--check]
    s2sad show model.py:loss [--wrt 0,1] [--mode reverse|forward]

Each mode has its own module beside MODULE: ``MODULE_grad.py`` (reverse: grad_, value_and_grad_)
and ``MODULE_jvp.py`` (forward: jvp_); ``--mode both`` writes both, and ``-o FILE`` puts every
requested function in FILE.

A problem in the user's code prints ``file:line: reason`` on one line and exits 2, leaving
no output file behind (``S2SAD_TRACEBACK=full`` prints s2sad's traceback before it);
``compile --check`` exits 1 when an output is missing or stale.
"""
import argparse
import difflib
import hashlib
import io
import os
import shlex
import sys
import tempfile
import tokenize
import traceback
from pathlib import Path

from . import aot, unit as units
from .version import __version__
from .errors import S2SadError, TransformError

ERROR, STALE = 2, 1
SUFFIXES = {"reverse": "_grad", "forward": "_jvp"}     # MODULE.py -> MODULE_grad.py, MODULE_jvp.py


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
        _traceback_if_asked()
        print(f"s2sad {args.command}: {exc}", file=sys.stderr)
    except S2SadError as exc:
        _traceback_if_asked()
        print(_one_line(exc, args), file=sys.stderr)
    return ERROR


def _traceback_if_asked():
    """With ``S2SAD_TRACEBACK=full`` in the environment, print the traceback of the error being handled
    (s2sad's own frames: for reporting a bug in s2sad); the one-line message follows it."""
    if os.environ.get("S2SAD_TRACEBACK", "").lower() == "full":
        traceback.print_exc(file=sys.stderr)


def _parser():
    parser = argparse.ArgumentParser(prog="s2sad", description="Source-to-source automatic differentiation.",
                                     epilog="A problem in your code prints `file:line: reason` and exits 2 "
                                            "(S2SAD_TRACEBACK=full in the environment also prints s2sad's "
                                            "traceback).")
    parser.add_argument("--version", action="version", version=f"s2sad {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    compile_ = commands.add_parser("compile", help="write standalone modules of derivatives (grad_, jvp_)",
                                   description="Write modules of the derivatives of the @differentiable "
                                               "functions of MODULE that import neither s2sad nor MODULE: "
                                               "MODULE_grad.py defines grad_<name> and value_and_grad_<name> "
                                               "(--mode reverse), MODULE_jvp.py defines jvp_<name> (--mode "
                                               "forward); --mode both writes both files. A module in a "
                                               "package is imported as part of it (relative imports work).")
    compile_.add_argument("module", help="the Python file to differentiate")
    compile_.add_argument("-o", "--output", help="the one file to write, holding every mode asked for "
                                                 "(default: MODULE_grad.py and/or MODULE_jvp.py beside MODULE)")
    compile_.add_argument("--mode", choices=("reverse", "forward", "both"), default="reverse",
                          help="reverse: grad_<name>, value_and_grad_<name> in MODULE_grad.py; forward: "
                               "jvp_<name> in MODULE_jvp.py; both: both files (default: reverse)")
    compile_.add_argument("--function", action="extend", nargs="+", metavar="NAME",
                          help="export only these functions (default: every @differentiable one)")
    compile_.add_argument("--check", action="store_true",
                          help="write nothing; exit 1 if an output is missing or not what compile would write")
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
    if args.output:
        outputs = [(Path(args.output), modes)]
    else:
        outputs = [(source.with_name(f"{source.stem}{SUFFIXES[m]}.py"), (m,)) for m in modes]
    for output, _ in outputs:
        if output.resolve() == source.resolve():
            raise CommandError(f"the output {output} is the input itself")
    module = aot.load(source)
    exports = aot.exports(module, args.function)
    digest = source_digest(source.read_bytes())
    status = 0
    for output, output_modes in outputs:
        name = Path(os.path.relpath(source.resolve(), output.resolve().parent)).as_posix()
        text = aot.module_text(exports, output_modes, name, digest)
        current = _read(output)
        if args.check:
            if current != text:
                print(f"{output} is {_staleness(current, text)}: run `s2sad {args.rerun}`", file=sys.stderr)
                status = STALE
            continue
        if current != text:
            _write(output, text)
        public = ", ".join(prefix + e.name for e in exports for m in output_modes
                           for prefix in aot.MODES[m].prefixes)
        print(f"wrote {output}: {public}" if current != text else f"{output} is up to date: {public}")
    return status


def source_digest(data):
    """The sha256 of a Python source's tokens: comments, blank lines and spacing aside, so an edit of
    those alone leaves the written module as it was."""
    try:
        tokens = [(tokenize.tok_name[t.type], t.string if t.type not in (tokenize.INDENT, tokenize.DEDENT,
                                                                         tokenize.NEWLINE) else "")
                  for t in tokenize.tokenize(io.BytesIO(data).readline)
                  if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING)]
    except (tokenize.TokenError, SyntaxError):
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha256(repr(tokens).encode()).hexdigest()


def _staleness(current, text):
    """Why ``current`` (the output's text, or None) is not ``text``: how much differs, and where."""
    if current is None:
        return "missing"
    old, new = current.splitlines(), text.splitlines()
    blocks = [b for b in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes() if b[0] != "equal"]
    if len(old) == len(new) and [b[1:] for b in blocks] == [(1, 2, 1, 2)] and old[1].startswith("# sha256 of"):
        return "stale, but only the source hash in its header differs (the code is the same)"
    if not blocks:
        return "stale (its line endings differ)"
    lines = sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in blocks)
    count = f"{lines} lines differ" if lines != 1 else "1 line differs"
    return f"stale ({count}, from line {blocks[0][3] + 1})"


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
    """Write ``text`` to ``output`` all at once: a temporary file beside it, renamed over it. It gets
    the permissions ``open`` would give it: those of the file it replaces, else 0666 less the umask."""
    try:
        mode = output.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    try:
        fd, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror}") from None
    try:
        os.chmod(temporary, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(temporary, output)
    except BaseException:
        os.unlink(temporary)
        raise


def _read(output):
    """The text of the file ``output``, or None if there is none."""
    if not output.is_file():
        return None
    try:
        return output.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {output}: {getattr(exc, 'strerror', None) or exc}") from None


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
