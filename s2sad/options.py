"""The optimization switches: every optimization can be turned off on its own.

With every switch off, the transform is the straightforward one: each call site is differentiated
as a call, every value the backward sweep reads that may have been overwritten is recorded on a
stack, shapes are never assumed, and the code is printed as the passes built it. That reference
pipeline is what the fuzzer compares the optimized one against, and what a user can turn to when
a derivative looks suspicious::

    with s2sad.optimizations(False):              # everything off
        g = s2sad.grad(f)(x)
    with s2sad.optimizations(recompute=False):    # one optimization off
        g = s2sad.grad(f)(x)
    s2sad.grad(f, optimize=False)(x)              # the same, for one derivative

    S2SAD_OPTIMIZE=0 python train.py              # from the environment: all off
    S2SAD_OPTIMIZE=-fold,-inline python train.py  # ... or some

Each switch names the module that implements it; its docstring states when skipping work is sound.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
from dataclasses import dataclass, fields, replace
from typing import Iterator, Optional

__all__ = ["Options", "OPTIMIZATIONS", "optimizations", "current", "reference"]


@dataclass(frozen=True)
class Options:
    """One flag per optimization (True: on)."""
    versions: bool = True        # front/versions.py: a new name per assignment outside loops, so nothing is recorded there
    inline: bool = True          # optimize/inline_calls.py: small helpers of the same module inlined before differentiation
    specialize: bool = True      # analysis/shapes.py: numbers and ndims of values, from the arguments' kinds
    single: bool = True          # analysis/record.py: a value assigned once, outside loops, is never recorded
    invariant: bool = True       # analysis/record.py: a loop-invariant value is not recorded per iteration
    recompute: bool = True       # analysis/record.py: cheap values on numbers computed again instead of recorded
    iterate: bool = True         # reverse/realize.py: a stack a loop pushes once per iteration read by iterating it reversed, not popped (reverse/count_down.py: a range's index then counted down; reverse/sweep.py: a while loop replays only its body's runs)
    last_iteration: bool = True  # reverse/last_iteration.py: a loop-carried adjoint nothing reads after the backward loop skipped in its last iteration
    shape_only: bool = True      # analysis/record.py: a value read only for its shape is recorded as its shape
    accumulate: bool = True      # reverse/adjoints.py: x_bar[i] += g in place, on a buffer the backward sweep owns
    fuse: bool = True            # reverse/adjoints.py: the logistic function's adjoint written from its value, and a logistic's cross-entropy's in one pass
    cleanup: bool = True         # optimize/cleanup.py: constant folding, copy propagation, dead code
    fold: bool = True            # optimize/fold.py: single-use temporaries folded back into expressions
    hoist: bool = True           # optimize/hoist.py: items of an argument a loop reads but never changes, read before it
    floats: bool = True          # back/floats.py: np.float64 arguments run as Python floats where that changes nothing

    def key(self):
        return tuple(getattr(self, f.name) for f in fields(self))

    def __hash__(self):                  # computed once: options key the caches every call looks up
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash(self.key())
            object.__setattr__(self, "_hash", h)
        return h


OPTIMIZATIONS = tuple(f.name for f in fields(Options))


def _from_environment():
    text = os.environ.get("S2SAD_OPTIMIZE", "").strip()
    if not text or text.lower() in ("1", "on", "true", "all"):
        return Options()
    if text.lower() in ("0", "off", "false", "none"):
        return reference()
    flags = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        on = not part.startswith("-")
        name = part.lstrip("+-")
        if name not in OPTIMIZATIONS:
            raise ValueError(f"S2SAD_OPTIMIZE: unknown optimization {name!r}; the names are {', '.join(OPTIMIZATIONS)}")
        flags[name] = on
    return replace(Options(), **flags)


def reference():
    """Every optimization off: the straightforward transform."""
    return _REFERENCE


_REFERENCE = Options(**{name: False for name in OPTIMIZATIONS})


_current = contextvars.ContextVar("s2sad_options", default=None)


def current():
    """The options in force here (the innermost ``optimizations`` context, else the environment's)."""
    value = _current.get()
    if value is None:
        value = _from_environment()
        _current.set(value)
    return value


def resolve(optimize):
    """The options for a derivative made with ``optimize=`` (True: the current ones)."""
    if optimize is True or optimize is None:
        return current()
    if optimize is False:
        return reference()
    if isinstance(optimize, Options):
        return optimize
    if isinstance(optimize, dict):
        _check(optimize)
        return replace(current(), **optimize)
    raise TypeError(f"optimize must be True, False or a dict of optimization names, got {optimize!r}")


def _check(flags):
    unknown = sorted(set(flags) - set(OPTIMIZATIONS))
    if unknown:
        raise ValueError(f"unknown optimization(s) {', '.join(unknown)}; the names are {', '.join(OPTIMIZATIONS)}")


@contextlib.contextmanager
def optimizations(enabled: Optional[bool] = None, **flags: bool) -> Iterator[Options]:
    """Switch optimizations inside a ``with`` block.

    ``optimizations(False)`` turns them all off (the straightforward transform, which records every
    value the backward sweep reads wherever it may be overwritten), ``optimizations(fold=False)`` one of
    them, ``optimizations(False, fold=True)`` all but one. Derivatives made (or first called) inside the
    block use these settings; generated code is cached per setting. The names are in
    ``s2sad.OPTIMIZATIONS``; the environment variable ``S2SAD_OPTIMIZE`` (``0``, or ``-fold,-inline``)
    sets the default.

    Args:
        enabled: ``True``: start from every optimization on; ``False``: from every one off; ``None``:
            from the settings in force.
        **flags: One switch per optimization name (``versions``, ``inline``, ``fold``, ...).

    Yields:
        The options in force inside the block.

    Raises:
        ValueError: a flag names no optimization.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def f(x):
        ...     return np.sum(np.exp(x) * x)
        >>> x = np.array([0.5, 1.0])
        >>> with s2sad.optimizations(False):
        ...     reference = s2sad.grad(f)(x)
        >>> np.allclose(reference, s2sad.grad(f)(x))
        True
        >>> with s2sad.optimizations(fold=False) as options:
        ...     options.fold, options.inline
        (False, True)
    """
    _check(flags)
    base = current() if enabled is None else (Options() if enabled else reference())
    token = _current.set(replace(base, **flags))
    try:
        yield _current.get()
    finally:
        _current.reset(token)
