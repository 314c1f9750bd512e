"""The functions docs/how-it-works.md walks through; tools/docgen.py runs s2sad on them to write that page."""
import numpy as np


def power_sum(x, n):
    y = np.sin(x)
    for i in range(n):
        y = y * x + 1.0
    return np.sum(y ** 2)


def shared_update(x):
    y = x
    for k in range(2):
        y += 1.0
        x = x * 0.5
    return np.sum(x * y)


# --- refused constructs, one per function: docs/limits.md shows each with what s2sad says ------------------
# (the docstring's first line is the heading, the rest says why s2sad refuses it)
def uses_try(x):
    """`try`/`except`

    Which statements ran before an exception is known only at run time, and a handler can resume
    anywhere; the backward sweep would have to replay a path it cannot reconstruct.
    """
    try:
        y = np.log(x)
    except FloatingPointError:
        y = x
    return np.sum(y)


def uses_global(x):
    """`global` and `nonlocal`

    A write to a global changes state other code reads after the call: the derivative of that
    reader with respect to the write would be lost.
    """
    global calls
    calls = 1
    return np.sum(x * 2.0)


def walks_while_changing(x):
    """Changing an array that a loop walks through a view

    `x[1:]` is a view: the loop's items change as `x` does, and the derivative code, which tracks
    names, not memory, would read the wrong values.
    """
    for v in x[1:]:
        x += v
    return np.sum(x)


def frexp_mantissa(x):
    """A function with no derivative rule

    `np.frexp` is written in C: s2sad cannot read its source, so it needs a rule, and registering
    one (`s2sad.rules.vjp`) is the fix the message gives.
    """
    m, e = np.frexp(x)
    return np.sum(m)


def closure_as_value(x):
    """A function reading a differentiated value, used as a value

    Where the function goes (a list, another function) decides what its result is combined
    with; s2sad follows derivatives through calls it sees (`map(scale, x)` is one of them), not
    through function values.
    """
    scale = lambda v: v * x
    return np.sum(apply_each(scale, x))


def apply_each(fn, xs):
    return [fn(v) for v in xs]


def generator_kept(x):
    """A generator kept in a variable

    Its items are computed when it is advanced, anywhere later in the function; s2sad supports
    generators used up at once.
    """
    squares = (v * v for v in x)
    first = next(squares)
    return first + sum(squares)


REFUSED = [uses_try, uses_global, walks_while_changing, frexp_mantissa, closure_as_value, generator_kept]
