"""Run the same small programs through s2sad, Autograd, JAX and PyTorch, and print what each does.

    python tools/compare.py            # a Markdown table (docs/comparison.md shows its last output)

Each program is written once per tool in that tool's array library (``numpy``, ``autograd.numpy``,
``jax.numpy``, ``torch``), statement for statement. A cell says ``ok`` when the tool's gradient
matches central finite differences of the NumPy program (relative error below 1e-6), else the
exception it raised (its type and the start of its message) or ``wrong``. ``x.copy()`` is written
``anp.array(x)``, ``jnp.array(x)`` and ``torch.clone(x)``. A tool that is not
installed is reported as such. Nothing is timed (see tools/bench.py for that).
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))                     # this checkout's s2sad, whatever is installed

import numpy as np                                 # noqa: E402

import s2sad                                       # noqa: E402


# --- the programs, in NumPy (s2sad differentiates these very functions) ------------------------------
def filled_buffer(x):
    """In-place writes: a buffer filled in a loop, each item read by the next."""
    h = np.zeros(len(x))
    for t in range(1, len(x)):
        h[t] = np.tanh(0.5 * h[t - 1] + x[t])
    return np.sum(h ** 2)


def accumulate(x):
    """An in-place update of a copy (`+=` on an array)."""
    y = x.copy()
    for k in range(3):
        y += np.sin(y) * 0.5
    return np.sum(y * y)


def taylor_sin(x):
    """A `while` loop whose exit depends on the values (sin by its Taylor series)."""
    term = x[0]
    total = term
    n = 1
    while abs(term) > 1e-12:
        term = -term * x[0] * x[0] / ((2 * n) * (2 * n + 1))
        total = total + term
        n += 1
    return total * x[1]


def branch(x):
    """A Python `if` on a value computed from the input."""
    s = np.sum(x)
    if s > 0:
        return np.sum(np.exp(x)) * s
    return np.sum(x ** 2)


PROGRAMS = [filled_buffer, accumulate, taylor_sin, branch]
X = np.array([0.3, -0.7, 1.1])


# --- the same programs for each tool -----------------------------------------------------------------
def versions_for(xp, zeros, tanh, sin, exp, copy):
    """The four programs written with a tool's array functions (the statements are the NumPy ones)."""
    def filled_buffer(x):
        h = zeros(len(x))
        for t in range(1, len(x)):
            h[t] = tanh(0.5 * h[t - 1] + x[t])
        return xp.sum(h ** 2)

    def accumulate(x):
        y = copy(x)
        for k in range(3):
            y += sin(y) * 0.5
        return xp.sum(y * y)

    def taylor_sin(x):
        term = x[0]
        total = term
        n = 1
        while abs(term) > 1e-12:
            term = -term * x[0] * x[0] / ((2 * n) * (2 * n + 1))
            total = total + term
            n += 1
        return total * x[1]

    def branch(x):
        s = xp.sum(x)
        if s > 0:
            return xp.sum(exp(x)) * s
        return xp.sum(x ** 2)
    return [filled_buffer, accumulate, taylor_sin, branch]


def numeric(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def outcome(compute, expected):
    try:
        g = np.asarray(compute(), dtype=float)
    except Exception as exc:                       # the point is to report what each tool raises
        message = " ".join(str(exc).split())
        message = message[:90] + ("..." if len(message) > 90 else "")
        return f"fails: {type(exc).__name__}: {message}".replace("|", "\\|")
    error = np.max(np.abs(g - expected)) / max(1.0, np.max(np.abs(expected)))
    return "ok" if error < 1e-6 else f"wrong (error {error:.2g})"


def s2sad_column(expected):
    return [outcome(lambda f=f: s2sad.grad(f)(X.copy()), e) for f, e in zip(PROGRAMS, expected)]


def autograd_column(expected):
    import autograd
    import autograd.numpy as anp
    fs = versions_for(anp, anp.zeros, anp.tanh, anp.sin, anp.exp, anp.array)     # (anp.copy has no VJP)
    return [outcome(lambda f=f: autograd.grad(f)(X.copy()), e) for f, e in zip(fs, expected)]


def jax_columns(expected):
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    fs = versions_for(jnp, jnp.zeros, jnp.tanh, jnp.sin, jnp.exp, jnp.array)
    eager = [outcome(lambda f=f: jax.grad(f)(jnp.asarray(X)), e) for f, e in zip(fs, expected)]
    jitted = [outcome(lambda f=f: jax.jit(jax.grad(f))(jnp.asarray(X)), e) for f, e in zip(fs, expected)]
    return eager, jitted


def torch_column(expected):
    import torch
    fs = versions_for(torch, lambda n: torch.zeros(n, dtype=torch.float64), torch.tanh, torch.sin, torch.exp,
                      torch.clone)

    def grad(f):
        x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
        f(x).backward()
        return x.grad.numpy()
    return [outcome(lambda f=f: grad(f), e) for f, e in zip(fs, expected)]


def guarded(column, expected, width=1):
    try:
        return column(expected)
    except ImportError as exc:
        missing = [f"not installed ({exc.name})"] * len(PROGRAMS)
        return (missing,) * width if width > 1 else missing


def main():
    expected = [numeric(f, X) for f in PROGRAMS]
    columns = {"s2sad": s2sad_column(expected), "Autograd": guarded(autograd_column, expected)}
    columns["JAX (jax.grad)"], columns["JAX (jax.jit(jax.grad))"] = guarded(jax_columns, expected, width=2)
    columns["PyTorch (backward)"] = guarded(torch_column, expected)
    names = list(columns)
    print("| program | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for k, f in enumerate(PROGRAMS):
        print(f"| `{f.__name__}`: {f.__doc__} | " + " | ".join(columns[n][k] for n in names) + " |")
    print()
    print("Versions: " + ", ".join(_versions()) + f"; Python {sys.version.split()[0]}.")


def _versions():
    import importlib.metadata as md
    for name in ("numpy", "autograd", "jax", "torch"):
        try:
            yield f"{name} {md.version(name)}"
        except md.PackageNotFoundError:
            yield f"{name} not installed"
    yield f"s2sad {s2sad.__version__}"


if __name__ == "__main__":
    main()
