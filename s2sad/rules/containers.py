"""Reverse rules for containers: namedtuple fields and list appends (indexing is in python.py)."""
from ..tree import attribute, unattr
from .registry import vjp

@vjp(attribute)
def attribute_vjp(g, ans, obj, name): return unattr(g, obj, name), None
