"""Reverse rules for NumPy: elementwise functions, reductions, products, shapes.

Linear algebra (``np.linalg``) is in linalg.py.
"""
import operator

import numpy as np

from ..runtime import (astype, atleast_grads, cast_grad, clip_masks, concatenate_grads, dot_x_grad, dot_y_grad,
                       einsum_grads, extremum_grad, hstack_grads, inner_grads, matmul_x_grad, matmul_y_grad,
                       prod_grad, reduced_size, safe_log, stack_grads, std_grad, tensordot_grads, trace_grad,
                       transpose_grad, unarray, unbroadcast, unreduce, unreshape, vstack_grads)
from . import python
from .registry import attribute, method, nondiff, vjp

# --- binary arithmetic (same rules as the Python operators) ---
vjp(np.add)(python.add_vjp)
vjp(np.subtract)(python.sub_vjp)
vjp(np.multiply)(python.mul_vjp)
vjp(np.divide)(python.truediv_vjp)
vjp(np.negative)(python.neg_vjp)
vjp(np.positive)(python.pos_vjp)
vjp(np.mod)(python.mod_vjp)
@vjp(np.power)
def power_vjp(g, ans, x, y): return unbroadcast(g * y * np.power(x, y - 1), x), unbroadcast(g * ans * safe_log(x), y)
@vjp(np.float_power)
def float_power_vjp(g, ans, x, y): return unbroadcast(g * y * np.float_power(x, y - 1), x), unbroadcast(g * ans * safe_log(x), y)
@vjp(np.maximum)
def maximum_vjp(g, ans, x, y): return unbroadcast(g * (x >= y), x), unbroadcast(g * (x < y), y)
@vjp(np.minimum)
def minimum_vjp(g, ans, x, y): return unbroadcast(g * (x <= y), x), unbroadcast(g * (x > y), y)
@vjp(np.arctan2)
def arctan2_vjp(g, ans, y, x): return unbroadcast(g * x / (x * x + y * y), y), unbroadcast(-g * y / (x * x + y * y), x)
@vjp(np.hypot)
def hypot_vjp(g, ans, x, y): return unbroadcast(g * x / ans, x), unbroadcast(g * y / ans, y)
@vjp(np.logaddexp)
def logaddexp_vjp(g, ans, x, y): return unbroadcast(g * np.exp(x - ans), x), unbroadcast(g * np.exp(y - ans), y)
@vjp(np.logaddexp2)
def logaddexp2_vjp(g, ans, x, y): return unbroadcast(g * np.exp2(x - ans), x), unbroadcast(g * np.exp2(y - ans), y)
@vjp(np.where)
def where_vjp(g, ans, condition, x, y): return None, unbroadcast(np.where(condition, g, 0.0), x), unbroadcast(np.where(condition, 0.0, g), y)
@vjp(np.clip)
def clip_vjp(g, ans, a, a_min=None, a_max=None, out=None, min=None, max=None):
    below, above = clip_masks(a, a_min, a_max, min, max)
    return (unbroadcast(g * ~(below | above), a), unbroadcast(g * below, a_min), unbroadcast(g * above, a_max),
            None, unbroadcast(g * below, min), unbroadcast(g * above, max))

# --- unary elementwise ---
@vjp(np.sin)
def sin_vjp(g, ans, x): return g * np.cos(x)
@vjp(np.cos)
def cos_vjp(g, ans, x): return -g * np.sin(x)
@vjp(np.tan)
def tan_vjp(g, ans, x): return g * (1.0 + ans * ans)
@vjp(np.arcsin)
def arcsin_vjp(g, ans, x): return g / np.sqrt(1.0 - x * x)
@vjp(np.arccos)
def arccos_vjp(g, ans, x): return -g / np.sqrt(1.0 - x * x)
@vjp(np.arctan)
def arctan_vjp(g, ans, x): return g / (1.0 + x * x)
@vjp(np.sinh)
def sinh_vjp(g, ans, x): return g * np.cosh(x)
@vjp(np.cosh)
def cosh_vjp(g, ans, x): return g * np.sinh(x)
@vjp(np.tanh)
def tanh_vjp(g, ans, x): return g * (1.0 - ans * ans)
@vjp(np.arcsinh)
def arcsinh_vjp(g, ans, x): return g / np.sqrt(x * x + 1.0)
@vjp(np.arccosh)
def arccosh_vjp(g, ans, x): return g / np.sqrt(x * x - 1.0)
@vjp(np.arctanh)
def arctanh_vjp(g, ans, x): return g / (1.0 - x * x)
@vjp(np.exp)
def exp_vjp(g, ans, x): return g * ans
@vjp(np.exp2)
def exp2_vjp(g, ans, x): return g * ans * np.log(2.0)
@vjp(np.expm1)
def expm1_vjp(g, ans, x): return g * (ans + 1.0)
@vjp(np.log)
def log_vjp(g, ans, x): return g / x
@vjp(np.log1p)
def log1p_vjp(g, ans, x): return g / (1.0 + x)
@vjp(np.log2)
def log2_vjp(g, ans, x): return g / (x * np.log(2.0))
@vjp(np.log10)
def log10_vjp(g, ans, x): return g / (x * np.log(10.0))
@vjp(np.sqrt)
def sqrt_vjp(g, ans, x): return g * 0.5 / ans
@vjp(np.cbrt)
def cbrt_vjp(g, ans, x): return g / (3.0 * ans * ans)
@vjp(np.square)
def square_vjp(g, ans, x): return g * 2.0 * x
@vjp(np.reciprocal)
def reciprocal_vjp(g, ans, x): return -g * ans * ans
@vjp(np.absolute, np.fabs)
def absolute_vjp(g, ans, x): return g * np.sign(x)
@vjp(np.sinc)
def sinc_vjp(g, ans, x): return g * np.where(x == 0, 0.0, (np.cos(np.pi * x) - ans) / np.where(x == 0, 1.0, x))
@vjp(np.deg2rad)
def deg2rad_vjp(g, ans, x): return g * (np.pi / 180.0)
@vjp(np.rad2deg)
def rad2deg_vjp(g, ans, x): return g * (180.0 / np.pi)
@vjp(np.real)
def real_vjp(g, ans, x): return g
@vjp(np.asarray, np.array, np.ascontiguousarray)
def asarray_vjp(g, ans, x, dtype=None, order=None, *, copy=None, ndmin=0, subok=False, device=None, like=None):
    return unarray(g, x, ans)
@vjp(np.copy)
def copy_vjp(g, ans, a, order="K", subok=False): return unarray(g, a)
@vjp(astype)
def astype_vjp(g, ans, x, dtype, order="K", casting="unsafe", subok=True, copy=True): return cast_grad(g, x, ans)

nondiff(np.sign, np.floor, np.ceil, np.round, np.rint, np.trunc, np.fix, np.floor_divide,
        np.isnan, np.isinf, np.isfinite, np.signbit, np.heaviside,
        np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
        np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
        np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero, np.searchsorted,
        np.shape, np.ndim, np.size, np.result_type, np.any, np.all, np.count_nonzero,
        np.zeros, np.ones, np.empty, np.full, np.eye, np.identity, np.arange, np.linspace,
        np.zeros_like, np.ones_like, np.empty_like, np.tri, np.triu_indices, np.tril_indices,
        np.isclose, np.allclose, np.array_equal)

# --- reductions ---
@vjp(np.sum)
def sum_vjp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False): return unreduce(g, a, axis, keepdims)
@vjp(np.mean)
def mean_vjp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False): return unreduce(g / reduced_size(a, axis), a, axis, keepdims)
@vjp(np.prod)
def prod_vjp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False): return prod_grad(g, ans, a, axis, keepdims)
@vjp(np.max, np.min)
def max_vjp(g, ans, a, axis=None, out=None, keepdims=False): return extremum_grad(g, ans, a, axis, keepdims)
@vjp(np.var)
def var_vjp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return unreduce(g, a, axis, keepdims) * 2.0 * (a - np.mean(a, axis, keepdims=True)) / (reduced_size(a, axis) - ddof)
@vjp(np.std)
def std_vjp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return std_grad(g, ans, a, axis, ddof, keepdims)

# --- products ---
@vjp(operator.matmul, np.matmul)
def matmul_vjp(g, ans, x, y): return matmul_x_grad(g, x, y), matmul_y_grad(g, x, y)
@vjp(np.dot)
def dot_vjp(g, ans, a, b): return dot_x_grad(g, a, b), dot_y_grad(g, a, b)
# ... where the arguments' ndims are known
@vjp(operator.matmul, np.matmul, np.dot, ndims=(2, 2))
def matmul_mm_vjp(g, ans, x, y): return g @ y.T, x.T @ g
@vjp(operator.matmul, np.matmul, np.dot, ndims=(2, 1))
def matmul_mv_vjp(g, ans, x, y): return np.outer(g, y), x.T @ g
@vjp(operator.matmul, np.matmul, np.dot, ndims=(1, 2))
def matmul_vm_vjp(g, ans, x, y): return y @ g, np.outer(x, g)
@vjp(operator.matmul, np.matmul, np.dot, ndims=(1, 1))
def matmul_vv_vjp(g, ans, x, y): return g * y, g * x
@vjp(np.inner)
def inner_vjp(g, ans, a, b):
    a_bar, b_bar = inner_grads(g, a, b)
    return a_bar, b_bar
@vjp(np.outer)
def outer_vjp(g, ans, a, b): return np.reshape(g @ np.ravel(b), np.shape(a)), np.reshape(np.ravel(a) @ g, np.shape(b))
@vjp(np.tensordot)
def tensordot_vjp(g, ans, a, b, axes=2):
    a_bar, b_bar = tensordot_grads(g, a, b, axes)
    return a_bar, b_bar
@vjp(np.einsum)
def einsum_vjp(g, ans, subscripts, *operands, optimize=False): return None, einsum_grads(g, subscripts, operands)
@vjp(np.trace)
def trace_vjp(g, ans, a, offset=0, axis1=0, axis2=1): return trace_grad(g, a, offset, axis1, axis2)

# --- shapes ---
@vjp(np.transpose)
def transpose_vjp(g, ans, a, axes=None): return transpose_grad(g, axes)
@vjp(np.reshape)
def reshape_vjp(g, ans, a, shape=None, order="C", *, newshape=None, copy=None): return unreshape(g, a, order)
@vjp(np.ravel)
def ravel_vjp(g, ans, a, order="C"): return unreshape(g, a, order)
@vjp(np.squeeze, np.expand_dims)
def squeeze_vjp(g, ans, a, axis=None): return np.reshape(g, np.shape(a))
@vjp(np.atleast_1d, np.atleast_2d)
def atleast_vjp(g, ans, *arys): return atleast_grads(g, arys)
@vjp(np.swapaxes)
def swapaxes_vjp(g, ans, a, axis1, axis2): return np.swapaxes(g, axis1, axis2)
@vjp(np.moveaxis)
def moveaxis_vjp(g, ans, a, source, destination): return np.moveaxis(g, destination, source)
@vjp(np.concatenate)
def concatenate_vjp(g, ans, arrays, axis=0): return concatenate_grads(g, arrays, axis)
@vjp(np.stack)
def stack_vjp(g, ans, arrays, axis=0): return stack_grads(g, arrays, axis)
@vjp(np.hstack)
def hstack_vjp(g, ans, tup): return hstack_grads(g, tup)
@vjp(np.vstack)
def vstack_vjp(g, ans, tup): return vstack_grads(g, tup)
@vjp(np.broadcast_to)
def broadcast_to_vjp(g, ans, array, shape): return unbroadcast(g, array)

# --- ndarray methods and attributes: x.sum(0) differentiates like np.sum(x, 0) ---
for _name in ("sum", "mean", "prod", "max", "min", "var", "std", "dot", "clip", "trace", "ravel",
              "squeeze", "swapaxes", "copy", "argmax", "argmin", "argsort", "nonzero", "any", "all", "round"):
    method(_name, getattr(np, _name))
method("flatten", np.ravel)
method("reshape", np.reshape, packs_varargs=True)
method("transpose", np.transpose, packs_varargs=True)
method("astype", astype)
attribute("T", np.transpose)
attribute("real", np.real)
for _name in ("shape", "ndim", "size"):
    attribute(_name, getattr(np, _name))
