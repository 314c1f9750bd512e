"""The functions docs/how-it-works.md walks through; tools/docs.py runs s2sad on them to write that page."""
import numpy as np


def power_sum(x, n):
    y = np.sin(x)
    for i in range(n):
        y = y * x + 1.0
    return np.sum(y ** 2)


def shared_update(x):
    y = x
    y += 1.0
    return np.sum(x * y)
