"""Functions calling helpers of callees.py, by an imported name or as a module attribute."""
import numpy as np

from . import callees
from .callees import cube as imported_cube


def via_name(x):
    return np.sum(imported_cube(x))


def via_attribute(x):
    return np.sum(callees.cube(x))


def via_attribute_primitive(x):
    return np.sum(callees.act(x))
