"""Links from generated code to the generated code of the user functions it calls.

A call ``y = g(a, b)`` on the differentiated path becomes ``y, y_pullback = g_vjp(a, b)``
in the forward sweep and ``a_bar, b_bar = y_pullback(y_bar)`` in the backward sweep.
``g_vjp`` is g's own generated code, produced once per (function, differentiated
arguments) and shared by every caller. The link is resolved when the caller is bound,
after the caller itself is registered, so recursion and mutual recursion terminate.
"""


class Deferred:
    """A generated function that is compiled when first needed."""

    _instances = {}
    kind = "vjp"               # the kind of generated code it links to (forward mode's links: "jvp")

    def __new__(cls, fn, wrt, kinds=()):
        key = (fn, wrt, kinds)
        if key not in cls._instances:
            obj = super().__new__(cls)
            obj.fn, obj.wrt, obj.kinds = fn, wrt, kinds
            cls._instances[key] = obj
        return cls._instances[key]

    def resolve(self):
        from ..driver import generate
        return generate(self.fn, self.wrt, "vjp", self.kinds).bind(self.fn)

    def __repr__(self):
        return f"<s2sad vjp of {self.fn.__qualname__} wrt {self.wrt}>"
