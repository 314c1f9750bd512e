"""One name defined twice in one file: two code objects, two meanings."""
import numpy as np


def target(x):
    return np.sum(np.sin(x))


first_target = target


def target(x):        # noqa: F811  (redefined on purpose)
    return np.sum(np.cos(x) * 3.0)
