"""Links from generated code to the generated code of the functions it calls.

A call ``y = g(a, b)`` on the differentiated path becomes ``y, y_pullback = g_vjp(a, b)`` in the
forward sweep and ``a_bar, b_bar = y_pullback(y_bar)`` in the backward sweep. ``g_vjp`` is g's own
generated code, produced once per (function, differentiated arguments, argument kinds, options)
and shared by every caller. In the caller's code it is a name bound to a ``Link``: plain data that
the pipeline resolves when the caller is bound (after the caller itself is registered, so
recursion and mutual recursion terminate).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    """The generated code of ``target`` (a user function, or a calls.Nested) of one ``kind``."""
    target: object
    wrt: tuple
    kind: str                   # "vjp" (reverse mode) or "jvp" (forward mode)
    kinds: tuple = ()
    options: object = None

    def __repr__(self):
        name = getattr(self.target, "__qualname__", repr(self.target))
        return f"<s2sad {self.kind} of {name} wrt {self.wrt}>"
