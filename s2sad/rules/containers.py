"""Reverse and forward rules for containers: namedtuple and record fields (indexing is in python.py; s2sad.flatten's
vectors in helpers.py)."""
from ..tree import attribute, field_tangent, unattr
from .registry import jvp, vjp

@vjp(attribute)
def attribute_vjp(g, ans, obj, name): return unattr(g, obj, name), None
@jvp(attribute)
def attribute_jvp(g, ans, obj, name): return field_tangent(g, ans, obj, name), None
