"""One exception hierarchy for everything s2sad refuses.

Transform-time errors carry the user's file and line, the construct, and what
to do about it, so the message reads like a compiler diagnostic::

    model.py:12: cannot differentiate `np.frobnicate(x)`: no derivative rule for numpy.frobnicate
      hint: register one with `@s2sad.rules.vjp(np.frobnicate)`
"""


class S2SadError(Exception):
    """Base class of every error s2sad raises on purpose."""


class SourceUnavailableError(S2SadError):
    """The function's source code cannot be read (REPL, exec, C extension)."""


class TransformError(S2SadError):
    """A construct in the user's code that s2sad cannot differentiate.

    ``filename``/``lineno`` point into the user's source; ``construct`` is the
    offending source text; ``hint`` says what to do instead.
    """

    def __init__(self, message, *, filename=None, lineno=None, construct=None, hint=None):
        self.reason = message
        self.filename = filename
        self.lineno = lineno
        self.construct = construct
        self.hint = hint
        super().__init__(self._format())

    @classmethod
    def from_message(cls, text, extra=""):
        """The error ``str()`` of which was ``text``, with ``extra`` added to its reason: a refusal decided at
        transform time but raised where the code runs (``runtime.unshared``)."""
        head, _, hint = text.partition("\n  hint: ")
        filename = lineno = construct = None
        where, sep, rest = head.partition(": ")
        name, _, line = where.rpartition(":")
        if sep and name and line.isdigit():
            filename, lineno, head = name, int(line), rest
        if head.endswith("`") and ": `" in head:
            head, _, construct = head.rpartition(": `")
            construct = construct[:-1]
        return cls(head + extra, filename=filename, lineno=lineno, construct=construct, hint=hint or None)

    def _format(self):
        where = f"{self.filename}:{self.lineno}: " if self.filename else ""
        what = f" `{self.construct}`" if self.construct else ""
        text = f"{where}{self.reason}{':' if what else ''}{what}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UnsupportedSyntaxError(TransformError):
    """Python syntax that the differentiated path does not support (yet)."""


class NoRuleError(TransformError):
    """A call on the differentiated path to a function with no derivative rule."""


class UnsupportedValueError(S2SadError, NotImplementedError):
    """A value, met when the generated code runs, that a rule's derivative does not hold for (a complex value
    where the rule is for real ones, a write whose index repeats a position). The message starts with the
    user's file and line and ends with the statement."""


class WrtError(S2SadError, ValueError):
    """A ``wrt`` that is not a parameter index (or a tuple of them) of the function."""


class NonScalarOutputError(S2SadError, ValueError):
    """``grad`` was asked for the gradient of a function that does not return a scalar."""


class ZeroGradientWarning(UserWarning):
    """The differentiated output does not depend on a ``wrt`` argument: its derivative is zero."""


# --- short tracebacks --------------------------------------------------------------------------------
_PACKAGE = __file__.rsplit("/", 1)[0].rsplit("\\", 1)[0]


def user_frames(fn):
    """Decorate a public entry point: an exception leaving it carries a traceback without s2sad's own frames
    (the user's and the generated code's stay), as JAX filters its tracebacks. ``S2SAD_TRACEBACK=full``
    in the environment keeps every frame."""
    import functools

    @functools.wraps(fn)
    def entry(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise short_traceback(exc) from None
    return entry


def short_traceback(exc):
    """``exc`` with a traceback without s2sad's own frames (unless ``S2SAD_TRACEBACK=full``), noted so; an error
    raised inside generated code names the user's line whose derivative code raised it."""
    import os
    where = None if isinstance(exc, TransformError) and exc.filename else _user_line(exc.__traceback__)
    if type(exc).__name__ == "LinAlgError" and _in_generated_code(exc.__traceback__):   # an inverse the derivative
        place, code = where.split(": `", 1) if where is not None else ("s2sad", None)     # needs is singular
        cause, exc = exc, UnsupportedValueError(
            f"{place}: the derivative {'of this line ' if code else ''}needs to solve with a singular matrix at "
            f"these values (NumPy raised LinAlgError: {exc})" + (f": `{code}" if code else ""))
        exc.__cause__, exc.__traceback__ = cause, cause.__traceback__
        where = None
    elif where is not None and isinstance(exc, (ZeroDivisionError, OverflowError)):
        cause, exc = exc, UnsupportedValueError(          # Python floats raise where NumPy gives inf or nan
            f"{where.split(': `')[0]}: the derivative of this line is infinite or undefined at these values "
            f"(computing it on Python floats raised {type(exc).__name__}: {exc}): `{where.split(': `', 1)[1]}")
        exc.__cause__, exc.__traceback__ = cause, cause.__traceback__
        where = None
    elif isinstance(exc, ValueError) and ("read-only" in str(exc) or "output array is not acceptable" in str(exc)) \
            and _passes_through(exc.__traceback__, "opaque_call"):
        cause, exc = exc, UnsupportedValueError(         # code s2sad does not see into changed an array in place
            f"{where.split(': `')[0] + ': ' if where else ''}code s2sad does not see into (a method of an object, a "
            f"function run for its effects) changes an array it was given in place ({exc}), which s2sad cannot "
            f"differentiate")
        exc.__cause__, exc.__traceback__ = cause, cause.__traceback__
    elif where is not None and isinstance(exc, UnsupportedValueError) and len(exc.args) == 1 \
            and str(exc.args[0]).startswith("s2sad: "):    # a rule's refusal of these values: at the user's line
        location, code = where.split(": `", 1)
        cause, exc = exc, UnsupportedValueError(f"{location}: {exc.args[0][len('s2sad: '):]}: `{code}")
        exc.__cause__, exc.__traceback__ = cause, cause.__traceback__
        where = None
    if os.environ.get("S2SAD_TRACEBACK", "").lower() == "full":
        return exc
    if hasattr(exc, "add_note") and not any("S2SAD_TRACEBACK" in n for n in getattr(exc, "__notes__", ())):
        if isinstance(exc, ValueError) and "read-only" in str(exc):
            exc.add_note("s2sad makes the arrays that code it does not see into receives (a plot, a log line, a "
                         "method of an object, a function run for its effects) read-only while it runs, and this code "
                         "writes into one: the derivative could not follow that. Work on a copy there (`a = a.copy()`), "
                         "or pass s2sad.stop_gradient(...) of the value")
        if where is not None:
            exc.add_note(f"raised by the derivative code of {where}")
        exc.add_note("(s2sad's own frames are hidden from this traceback; S2SAD_TRACEBACK=full shows them)")
    return exc.with_traceback(_without_internal_frames(exc.__traceback__))


def _in_generated_code(tb):
    """Whether the traceback ``tb`` passes through code s2sad generated."""
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith("<s2sad "):
            return True
        tb = tb.tb_next
    return False


def _passes_through(tb, name):
    """Whether a frame of the traceback ``tb`` runs a function called ``name`` (s2sad's ``runtime.opaque_call``)."""
    while tb is not None:
        if tb.tb_frame.f_code.co_name == name:
            return True
        tb = tb.tb_next
    return False


def _user_line(tb):
    """``file:line: `statement``` of the user's statement whose derivative code raised, for an error raised
    inside generated code: the comment ``# grad of line N: ...`` (``# line N: ...``) nearest above the line of
    the innermost generated frame; the file is the one its name gives (``<s2sad f_jvp #1 from model.py:3>``)."""
    import linecache
    import re
    found = None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.startswith("<s2sad ") and " from " in name and name.count("<") == 1:   # (not code of code)
            found = (name, tb.tb_lineno)
        tb = tb.tb_next
    if found is None:
        return None
    name, lineno = found
    user_file = name[:-1].rsplit(" from ", 1)[1].rsplit(":", 1)[0]
    for text in reversed(linecache.getlines(name)[:lineno]):
        m = re.match(r"\s*# (?:grad of )?line (\d+): (.*)", text)
        if m:
            return f"{user_file}:{m.group(1)}: `{m.group(2).strip()}`"
    return None


def _without_internal_frames(tb):
    import types
    frames = []
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_PACKAGE):
            frames.append(tb)
        tb = tb.tb_next
    out = None
    for t in reversed(frames):
        out = types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out
