"""Runtime helpers only standalone modules call (copied into them with the others).

``s2sad.grad`` converts integer arguments in ``wrt`` to floats before differentiating;
a written ``grad_<name>`` does the same with ``as_float``.
"""
import numpy as np


def as_float(a):
    """An argument differentiated as a float: a Python int or an integer or boolean array becomes float."""
    if type(a) is int:
        return float(a)
    if type(a) is np.ndarray and a.dtype.kind in "iub":
        return a.astype(float)
    return a
