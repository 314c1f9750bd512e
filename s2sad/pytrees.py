"""Parameters held in containers ("pytrees": dicts, lists, tuples and namedtuples of arrays and numbers) as one
vector, for optimizers that take a vector (``scipy.optimize.minimize``).

>>> import numpy as np
>>> vector, unflatten = flatten({"w": np.ones((2, 2)), "b": 0.5})
>>> vector
array([1. , 1. , 1. , 1. , 0.5])
>>> unflatten(vector * 2)["b"]
np.float64(1.0)

``unflatten`` has derivative rules (the cotangent of a container, laid out as a vector), so a function of
the vector that unflattens it first is differentiated like any other: ``flatten_func`` builds one.
"""
import numpy as np

from .calls import SOURCE_MARK
from .runtime import LeafSpec, TreeSpec, flatten_values, unflatten_vector
from .tree import like_tree

__all__ = ["flatten", "flatten_func", "TreeSpec"]


def _spec(tree):
    sizes = []

    def leaf(_, x):
        if not isinstance(x, (int, float, np.ndarray, np.generic)) or isinstance(x, (bool, np.bool_)):
            raise TypeError(f"flatten takes containers of arrays and numbers, not {type(x).__name__}")
        sizes.append(int(np.size(x)))
        return LeafSpec(np.shape(x), not isinstance(x, np.ndarray))
    skeleton = like_tree(None, tree, leaf)
    return TreeSpec(skeleton, sizes)


class Unflatten:
    """``unflatten(vector)``: the container ``flatten`` was given, holding the values of ``vector``."""

    def __init__(self, spec):
        self.spec = spec

    def __call__(self, vector):
        return unflatten_vector(vector, self.spec)

    def __repr__(self):
        return f"<unflatten: {self.spec!r}>"


def flatten(tree):
    """``(vector, unflatten)``: every array and number of ``tree`` one after another in a float vector (dicts in
    their key order), and the function giving the container back from such a vector."""
    spec = _spec(tree)
    return flatten_values(tree, spec), Unflatten(spec)


def flatten_func(f, example):
    """``(f_flat, unflatten, x0)`` for ``f(params, *args)`` whose ``params`` is a container shaped like
    ``example``: ``f_flat(vector, *args) == f(unflatten(vector), *args)``, differentiable by s2sad (its
    gradient is a vector), and ``x0`` the flattened ``example``::

        f_flat, unflatten, x0 = s2sad.flatten_func(loss, params)
        result = scipy.optimize.minimize(f_flat, x0, args=(X, y), jac=s2sad.grad(f_flat))
        params = unflatten(result.x)
    """
    x0, unflatten = flatten(example)
    spec = unflatten.spec

    def f_flat(vector, *args):
        params = unflatten_vector(vector, spec)
        return f(params, *args)
    setattr(f_flat, SOURCE_MARK, True)          # differentiated from its source, like the user's own functions
    return f_flat, unflatten, x0

