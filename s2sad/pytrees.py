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
from __future__ import annotations

from typing import Any, Callable, Tuple

import numpy as np

from .calls import SOURCE_MARK
from .runtime import LeafSpec, TreeSpec, flatten_values, unflatten_vector
from .tree import is_record, like_tree

__all__ = ["flatten", "flatten_func", "TreeSpec"]


def _refuse_records(tree):
    """A dataclass or an object (a record) is not laid out as a vector: its class may hold settings and methods that
    a vector of its fields cannot give back."""
    if isinstance(tree, dict):
        for v in tree.values():
            _refuse_records(v)
    elif isinstance(tree, (list, tuple)):
        for v in tree:
            _refuse_records(v)
    elif is_record(tree):
        raise TypeError(f"flatten takes dicts, lists, tuples and namedtuples of arrays and numbers, not a "
                        f"{type(tree).__name__} object: flatten its fields (`[p.w, p.b]`, or a dict of them)")


def _spec(tree):
    _refuse_records(tree)
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


def flatten(tree: Any) -> Tuple[np.ndarray, Unflatten]:
    """Every array and number of a container one after another in a float vector, and the way back.

    Args:
        tree: Dicts, lists, tuples and namedtuples (nested) of arrays and numbers. Dicts are laid out in
            their key order.

    Returns:
        ``(vector, unflatten)``: a 1-d float array, and a function giving the container back (same
        structure and shapes; a NumPy scalar for a number) from a vector of that length.

    Raises:
        TypeError: a leaf is neither an array nor a number (a string, a bool, ``None``).

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> vector, unflatten = s2sad.flatten([np.zeros(2), {"b": 1.5}])
        >>> vector
        array([0. , 0. , 1.5])
        >>> unflatten(np.arange(3.0))
        [array([0., 1.]), {'b': np.float64(2.0)}]
    """
    spec = _spec(tree)
    return flatten_values(tree, spec), Unflatten(spec)


setattr(flatten, SOURCE_MARK, True)     # inside differentiated code, the vector is differentiated (flatten_values)


def flatten_func(f: Callable[..., Any], example: Any) -> Tuple[Callable[..., Any], Unflatten, np.ndarray]:
    """A function of a container of parameters turned into a function of one vector, for optimizers.

    ``f_flat(vector, *args) == f(unflatten(vector), *args)``, differentiable by s2sad (its gradient is
    a vector), so ``scipy.optimize.minimize`` can fit parameters held in a dict or a list::

        f_flat, unflatten, x0 = s2sad.flatten_func(loss, params)
        result = scipy.optimize.minimize(f_flat, x0, args=(X, y), jac=s2sad.grad(f_flat))
        params = unflatten(result.x)

    Args:
        f: A function ``f(params, *args)`` (its source is read when it is differentiated).
        example: A container shaped like the ``params`` ``f`` takes (see ``flatten``).

    Returns:
        ``(f_flat, unflatten, x0)``, ``x0`` being the flattened ``example``.

    Raises:
        TypeError: a leaf of ``example`` is neither an array nor a number.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> __name__ = "model"   # this doctest runs in s2sad's namespace: make its functions a user module's
        >>> def loss(params, x):
        ...     return np.sum((params["w"] * x + params["b"]) ** 2)
        >>> f_flat, unflatten, x0 = s2sad.flatten_func(loss, {"w": np.ones(2), "b": 0.5})
        >>> x0
        array([1. , 1. , 0.5])
        >>> s2sad.grad(f_flat)(x0, np.array([1.0, 2.0]))
        array([ 3., 10.,  8.])
    """
    x0, unflatten = flatten(example)
    spec = unflatten.spec

    def f_flat(vector, *args):
        params = unflatten_vector(vector, spec)
        return f(params, *args)
    setattr(f_flat, SOURCE_MARK, True)          # differentiated from its source, like the user's own functions
    return f_flat, unflatten, x0

