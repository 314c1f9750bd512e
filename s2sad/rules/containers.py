"""Reverse and forward rules for containers: namedtuple and record fields (indexing is in python.py; s2sad.flatten's
vectors in helpers.py)."""
from ..tree import (AdjTuple, attribute, field_tangent, new_record, new_record_grads, new_record_tangent,
                    record_adjoint, unattr)
from .registry import jvp, vjp

@vjp(attribute)
def attribute_vjp(g, ans, obj, name): return unattr(g, obj, name), None
@jvp(attribute)
def attribute_jvp(g, ans, obj, name): return field_tangent(g, ans, obj, name), None
@vjp(new_record)                                  # a dataclass made inside: its fields' adjoints, by name
def new_record_vjp(g, ans, cls, *values): return None, new_record_grads(g, cls, values)
@jvp(new_record)
def new_record_jvp(g, ans, cls, *values): return None, new_record_tangent(g, ans, values)
@vjp(new_record_grads)                            # linear in the adjoint: fields to values and back
def new_record_grads_vjp(h, ans, g, cls, values): return record_adjoint(h, cls, values), None, None
@jvp(new_record_grads)
def new_record_grads_jvp(t, ans, g, cls, values): return new_record_grads(t, cls, values), None, None
@vjp(new_record_tangent)
def new_record_tangent_vjp(h, ans, t, record, values): return AdjTuple(new_record_grads(h, type(record), values)), None, None
@jvp(new_record_tangent)
def new_record_tangent_jvp(u, ans, t, record, values): return new_record_tangent(u, record, values), None, None
@vjp(record_adjoint)
def record_adjoint_vjp(h, ans, g, cls, values): return new_record_grads(h, cls, values), None, None
@jvp(record_adjoint)
def record_adjoint_jvp(t, ans, g, cls, values): return record_adjoint(t, cls, values), None, None
