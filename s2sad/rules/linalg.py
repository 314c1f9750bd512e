"""Reverse rules for ``np.linalg``."""
import numpy as np

from ..runtime import cholesky_grad, det_grad, norm_grad, slogdet_grad, solve_a_grad
from .registry import vjp

@vjp(np.linalg.solve)
def solve_vjp(g, ans, a, b):
    b_bar = np.linalg.solve(np.swapaxes(a, -1, -2), g)
    return solve_a_grad(b_bar, ans), b_bar
@vjp(np.linalg.inv)
def inv_vjp(g, ans, a): return -np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2)
@vjp(np.linalg.det)
def det_vjp(g, ans, a): return det_grad(g, ans, a)
@vjp(np.linalg.slogdet)
def slogdet_vjp(g, ans, a): return slogdet_grad(g[1], a)
@vjp(np.linalg.cholesky)
def cholesky_vjp(g, ans, a): return cholesky_grad(g, ans)
@vjp(np.linalg.norm)
def norm_vjp(g, ans, x, ord=None, axis=None, keepdims=False): return norm_grad(g, ans, x, ord, axis, keepdims)
