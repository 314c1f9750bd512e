"""Reverse and forward rules for NumPy (each forward rule right after its reverse rule): elementwise functions, reductions, products, shapes.

Linear algebra (``np.linalg``) is in linalg.py.
"""
import math
import operator

import numpy as np

from ..runtime import arange_grads, arange_tangent, broadcast, linspace_grads, linspace_tangent
from ..runtime import rollaxis_inverse, sorted_like, uncumsum, unsort
from ..runtime import corrcoef_grads, corrcoef_tangent, cov_divisor, cov_turns, cov_grads, cov_rows, cov_tangent
from ..runtime import corrected, scalar_base, vander_powers, zeros_like
from ..runtime import choose_grads, choose_index, extract_source, insert_source, select_default, select_grads, select_masks
from ..runtime import block_grads, broadcast_arrays_grads, broadcast_tangents
from ..runtime import quantile_apply, quantile_q_grad, quantile_q_tangent, quantile_spread
from ..runtime import (derivative_coefficients, interp_fp_grad, interp_segments, meshgrid_grads, meshgrid_tangents,
                       polyval_coefficients_grad, spaced_by_dx, trapezoid_grads, underived)
from ..runtime import angle_unit, conj_sign, real_like, real_only, real_zero
from ..calls import SOURCE_MARK
from ..runtime import (average_weights, checked_cross, diff_tangent, full_pads, item, kron_layout, median_grad,
                       median_tangent, nonzero_checked, pad_source, partition_source, regather, gradient_grad, gradient_spacing_grads, gradient_spacing_tangent, source_index, sources_of, undiff,
                       ungather, ungather_each, unitem, unsplit, unweight, sinc_derivative, to_list, tolist_grad,
                       view_of)
from ..runtime import (astype, atleast_tangents, cast_tangent, copy_like, einsum_tangent, reshape_like, atleast_grads, cast_grad, clip_masks, concatenate_grads, dot_x_grad, dot_y_grad,
                       einsum_grads, extremum_grad, extremum_initial_grad, hstack_grads, inner_grads, matmul_x_grad, matmul_y_grad,
                       prod_grad, reduced_size, safe_log, scaled_power, stack_grads, std_grad, tensordot_grads, trace_grad,
                       transpose_grad, unarray, unbroadcast, unreduce, unreshape, vstack_grads)
from . import python
from .registry import attribute, definer, elementwise, explainer, jvp, method, nondiff, vjp

LN2, LN10 = math.log(2.0), math.log(10.0)     # Python floats: they keep float32 arrays float32

# --- binary arithmetic (same rules as the Python operators) ---
elementwise(np.add)(python.add_vjp)
elementwise(np.subtract)(python.sub_vjp)
elementwise(np.multiply)(python.mul_vjp)
elementwise(np.divide)(python.truediv_vjp)
elementwise(np.negative)(python.neg_vjp)
elementwise(np.positive)(python.pos_vjp)
elementwise(np.mod)(python.mod_vjp)
elementwise(np.fmod)(python.mod_vjp)              # x - y trunc(x / y): the same derivatives as mod's
@elementwise(np.power)
def power_vjp(g, ans, x, y): return unbroadcast(scaled_power(g * y, x, y - 1), x), unbroadcast(g * ans * safe_log(x), y)
@elementwise(np.float_power)
def float_power_vjp(g, ans, x, y): return unbroadcast(scaled_power(g * y, x, y - 1), x), unbroadcast(g * ans * safe_log(x), y)
@elementwise(np.maximum)
def maximum_vjp(g, ans, x, y): return unbroadcast(g * (x >= y), x), unbroadcast(g * (x < y), y)
@elementwise(np.minimum)
def minimum_vjp(g, ans, x, y): return unbroadcast(g * (x <= y), x), unbroadcast(g * (x > y), y)
@elementwise(np.fmax)                              # as maximum, but a NaN loses
def fmax_vjp(g, ans, x, y): return unbroadcast(g * ((x >= y) | np.isnan(y)), x), unbroadcast(g * ~((x >= y) | np.isnan(y)), y)
@elementwise(np.fmin)
def fmin_vjp(g, ans, x, y): return unbroadcast(g * ((x <= y) | np.isnan(y)), x), unbroadcast(g * ~((x <= y) | np.isnan(y)), y)
@elementwise(np.arctan2)
def arctan2_vjp(g, ans, y, x): return unbroadcast(g * x / (x * x + y * y), y), unbroadcast(-g * y / (x * x + y * y), x)
@elementwise(np.hypot)
def hypot_vjp(g, ans, x, y):                # (the ratio first: g * x overflows where the derivative does not)
    return unbroadcast(g * (x / (ans + (ans == 0))), x), unbroadcast(g * (y / (ans + (ans == 0))), y)
@elementwise(np.logaddexp)
def logaddexp_vjp(g, ans, x, y): return unbroadcast(g * np.exp(x - ans), x), unbroadcast(g * np.exp(y - ans), y)
@elementwise(np.logaddexp2)
def logaddexp2_vjp(g, ans, x, y): return unbroadcast(g * np.exp2(x - ans), x), unbroadcast(g * np.exp2(y - ans), y)
@elementwise(np.where)
def where_vjp(g, ans, condition, x, y): return None, unbroadcast(np.where(condition, g, 0.0), x), unbroadcast(np.where(condition, 0.0, g), y)
@elementwise(np.clip)
def clip_vjp(g, ans, a, a_min=None, a_max=None, out=None, min=None, max=None):
    below, above = clip_masks(a, a_min, a_max, min, max)
    return (unbroadcast(g * ~(below | above), a), unbroadcast(g * below, a_min), unbroadcast(g * above, a_max),
            None, unbroadcast(g * below, min), unbroadcast(g * above, max))

# --- unary elementwise ---
@elementwise(np.sin)
def sin_vjp(g, ans, x): return g * np.cos(x)
@elementwise(np.cos)
def cos_vjp(g, ans, x): return -g * np.sin(x)
@elementwise(np.tan)
def tan_vjp(g, ans, x): return g * (1.0 + ans * ans)
@elementwise(np.arcsin)
def arcsin_vjp(g, ans, x): return g / np.sqrt(1.0 - x * x)
@elementwise(np.arccos)
def arccos_vjp(g, ans, x): return -g / np.sqrt(1.0 - x * x)
@elementwise(np.arctan)
def arctan_vjp(g, ans, x): return g / (1.0 + x * x)
@elementwise(np.sinh)
def sinh_vjp(g, ans, x): return g * np.cosh(x)
@elementwise(np.cosh)
def cosh_vjp(g, ans, x): return g * np.sinh(x)
@elementwise(np.tanh)
def tanh_vjp(g, ans, x): return g * (1.0 - ans * ans)
@elementwise(np.arcsinh)
def arcsinh_vjp(g, ans, x): return g / np.sqrt(x * x + 1.0)
@elementwise(np.arccosh)
def arccosh_vjp(g, ans, x): return g / np.sqrt(x * x - 1.0)
@elementwise(np.arctanh)
def arctanh_vjp(g, ans, x): return g / (1.0 - x * x)
@elementwise(np.exp)
def exp_vjp(g, ans, x): return g * ans
@elementwise(np.exp2)
def exp2_vjp(g, ans, x): return g * ans * LN2
@elementwise(np.expm1)
def expm1_vjp(g, ans, x): return g * (ans + 1.0)
@elementwise(np.log)
def log_vjp(g, ans, x): return g / x
@elementwise(np.log1p)
def log1p_vjp(g, ans, x): return g / (1.0 + x)
@elementwise(np.log2)
def log2_vjp(g, ans, x): return g / (x * LN2)
@elementwise(np.log10)
def log10_vjp(g, ans, x): return g / (x * LN10)
@elementwise(np.sqrt)
def sqrt_vjp(g, ans, x): return g * 0.5 / ans
@elementwise(np.cbrt)
def cbrt_vjp(g, ans, x): return g / (3.0 * ans * ans)
@elementwise(np.square)
def square_vjp(g, ans, x): return g * 2.0 * x
@elementwise(np.reciprocal)
def reciprocal_vjp(g, ans, x): return -g * ans * ans
@elementwise(np.fabs)
def fabs_vjp(g, ans, x): return g * np.sign(x)
@elementwise(np.sinc)
def sinc_vjp(g, ans, x): return g * sinc_derivative(x, 1)
@elementwise(np.deg2rad)
def deg2rad_vjp(g, ans, x): return g * (np.pi / 180.0)
@elementwise(np.rad2deg, np.degrees)
def rad2deg_vjp(g, ans, x): return g * (180.0 / np.pi)
@vjp(np.real_if_close)                             # the identity, or the real part where that was taken
def real_if_close_vjp(g, ans, a, tol=100): return real_like(g, a)
@jvp(np.real_if_close)
def real_if_close_jvp(g, ans, a, tol=100): return real_like(g, ans)
@elementwise(np.radians)
def radians_vjp(g, ans, x): return g * (np.pi / 180.0)
@elementwise(np.nan_to_num)                        # NaN and infinities become constants
def nan_to_num_vjp(g, ans, x, copy=True, nan=0.0, posinf=None, neginf=None): return np.where(np.isfinite(x), g, 0.0)[()]

# --- complex numbers (a complex cotangent is dL/da - i dL/db, JAX's convention: see runtime.real_like) ---
@elementwise(np.real)
def real_vjp(g, ans, x): return np.real(g)
@vjp(np.imag)
def imag_vjp(g, ans, val): return real_like(-1j * np.real(g), val)
@jvp(np.imag)
def imag_jvp(g, ans, val): return np.imag(g)
@elementwise(np.conj, np.conjugate)
def conj_vjp(g, ans, x): return np.conj(g)
@vjp(np.absolute)
def absolute_vjp(g, ans, x): return np.real(g) * conj_sign(x, ans)
@jvp(np.absolute)
def absolute_jvp(g, ans, x): return np.real(conj_sign(x, ans) * g)
@elementwise(np.heaviside)               # 0 or 1 by x's sign, h0 where x is 0: only h0's derivative there
def heaviside_vjp(g, ans, x, h0): return unbroadcast(0.0 * g, x), unbroadcast(g * (x == 0), h0)
@elementwise(np.copysign)
def copysign_vjp(g, ans, x, y): return unbroadcast(g * np.copysign(1.0, x) * np.copysign(1.0, y), x), unbroadcast(0.0 * g, y)
@elementwise(np.sign)                   # 0 for real values; a complex z's sign z/|z| varies: refused, not taken as 0
def sign_vjp(g, ans, x): return real_zero(x, "np.sign")
@vjp(np.angle)
def angle_vjp(g, ans, z, deg=False): return real_like(-1j * np.real(g) * angle_unit(deg) / nonzero_checked(z, "np.angle"), z)
@jvp(np.angle)
def angle_jvp(g, ans, z, deg=False): return np.imag(g / nonzero_checked(z, "np.angle")) * angle_unit(deg)
@vjp(np.asarray, np.array, np.ascontiguousarray)
def asarray_vjp(g, ans, x, dtype=None, order=None, *, copy=None, ndmin=0, subok=False, device=None, like=None):
    return unarray(g, x, ans)
@jvp(np.asarray, np.ascontiguousarray)
def asarray_jvp(g, ans, x, dtype=None, order=None, *, copy=None, ndmin=0, subok=False, device=None, like=None):
    return cast_tangent(g, ans)
@jvp(np.array)                          # a new array: its tangent too (a write into it must not reach x's)
def array_jvp(g, ans, x, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):
    return cast_tangent(copy_like(g), ans)
@elementwise(np.float64)
def float64_vjp(g, ans, x): return g
@vjp(np.float32, np.float16, np.longdouble)     # a cast: the gradient back in x's dtype
def float32_vjp(g, ans, x): return cast_grad(g, x, ans)
@jvp(np.float32, np.float16, np.longdouble)
def float32_jvp(g, ans, x): return cast_tangent(g, ans)
@vjp(np.copy)
def copy_vjp(g, ans, a, order="K", subok=False): return unarray(g, a)
@jvp(np.copy)
def copy_jvp(g, ans, a, order="K", subok=False): return copy_like(g)
@vjp(astype)
def astype_vjp(g, ans, x, dtype, order="K", casting="unsafe", subok=True, copy=True): return cast_grad(g, x, ans)
@jvp(astype)
def astype_jvp(g, ans, x, dtype, order="K", casting="unsafe", subok=True, copy=True): return cast_tangent(g, ans)
if hasattr(np, "astype"):                          # NumPy 2.1's function
    @vjp(np.astype)
    def np_astype_vjp(g, ans, x, dtype, /, *, copy=True, device=None): return cast_grad(g, x, ans)
    @jvp(np.astype)
    def np_astype_jvp(g, ans, x, dtype, /, *, copy=True, device=None): return cast_tangent(g, ans)

nondiff(real_zero)
nondiff(np.floor, np.ceil, np.round, np.rint, np.trunc, np.fix, np.floor_divide,
        np.isnan, np.isinf, np.isfinite, np.signbit,
        np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
        np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
        np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero, np.searchsorted,
        np.shape, np.ndim, np.size, np.result_type, np.any, np.all, np.count_nonzero,
        np.zeros, np.ones, np.empty, np.eye, np.identity,
        np.tri, np.triu_indices, np.tril_indices,
        np.isclose, np.allclose, np.array_equal, np.iscomplexobj, np.isrealobj, np.iscomplex, np.isreal)
for _helper in (real_like, conj_sign, derivative_coefficients, cov_rows, cov_tangent, corrcoef_tangent):     # differentiated from their source (runtime.py)
    setattr(_helper, SOURCE_MARK, True)
nondiff(corrected, angle_unit, rollaxis_inverse, partition_source, np.argpartition, cov_divisor, cov_turns, vander_powers,
        np.digitize, insert_source, extract_source, select_masks, select_default, choose_index)

# --- constructors that carry a derivative ---
@vjp(np.linspace)
def linspace_vjp(g, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    start_bar, stop_bar = linspace_grads(g, start, stop, num, endpoint, retstep, axis)
    return start_bar, stop_bar
@jvp(np.linspace)
def linspace_jvp(g, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    return (linspace_tangent(g, zeros_like(stop), num, endpoint, retstep, axis),
            linspace_tangent(zeros_like(start), g, num, endpoint, retstep, axis))
@vjp(np.logspace)                                 # base ** linspace(start, stop): (one base; an array of them refused)
def logspace_vjp(g, ans, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    start_bar, stop_bar = linspace_grads(g * ans * np.log(scalar_base(base)), start, stop, num, endpoint, False, axis)
    return start_bar, stop_bar, None, None, np.sum(g / scalar_base(base) * ans * np.linspace(start, stop, num, endpoint, axis=axis))
@jvp(np.logspace)
def logspace_jvp(g, ans, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    return (ans * np.log(scalar_base(base)) * linspace_tangent(g, zeros_like(stop), num, endpoint, False, axis),
            ans * np.log(scalar_base(base)) * linspace_tangent(zeros_like(start), g, num, endpoint, False, axis), None, None,
            g / scalar_base(base) * ans * np.linspace(start, stop, num, endpoint, axis=axis))
@vjp(np.geomspace)                                # start (stop / start) ** t
def geomspace_vjp(g, ans, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    start_bar, stop_bar = linspace_grads(g * ans, start, stop, num, endpoint, False, axis)
    return start_bar / real_only(start, "np.geomspace"), stop_bar / real_only(stop, "np.geomspace")
@jvp(np.geomspace)
def geomspace_jvp(g, ans, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    return (ans * linspace_tangent(np.divide(g, real_only(start, "np.geomspace")), zeros_like(stop), num, endpoint, False, axis),
            ans * linspace_tangent(zeros_like(start), np.divide(g, real_only(stop, "np.geomspace")), num, endpoint, False, axis))
@vjp(np.vander)                                   # x_i ** p_j by column
def vander_vjp(g, ans, x, N=None, increasing=False):
    return np.sum(scaled_power(g * vander_powers(x, N, increasing), np.reshape(x, (-1, 1)), vander_powers(x, N, increasing) - 1), 1)
@jvp(np.vander)
def vander_jvp(g, ans, x, N=None, increasing=False):
    return scaled_power(np.reshape(g, (-1, 1)) * vander_powers(x, N, increasing), np.reshape(x, (-1, 1)), vander_powers(x, N, increasing) - 1)
@vjp(np.full)
def full_vjp(g, ans, shape, fill_value, dtype=None, order="C", *, device=None, like=None):
    return None, unbroadcast(cast_grad(g, fill_value, ans), fill_value)
@jvp(np.full)
def full_jvp(g, ans, shape, fill_value, dtype=None, order="C", *, device=None, like=None):
    return None, cast_tangent(broadcast(g, ans), ans)
@vjp(np.full_like)
def full_like_vjp(g, ans, a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return None, unbroadcast(cast_grad(g, fill_value, ans), fill_value)
@jvp(np.full_like)
def full_like_jvp(g, ans, a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return None, cast_tangent(broadcast(g, ans), ans)
@vjp(np.arange)
def arange_vjp(g, ans, start, stop=None, step=None, dtype=None, *, device=None, like=None):
    start_bar, stop_bar, step_bar = arange_grads(g, ans, start, stop, step)
    return start_bar, stop_bar, step_bar
@jvp(np.arange)
def arange_jvp(g, ans, start, stop=None, step=None, dtype=None, *, device=None, like=None):
    return arange_tangent(g, ans, "start", stop), arange_tangent(g, ans, "stop", stop), arange_tangent(g, ans, "step", stop)

nondiff(np.zeros_like, np.ones_like, np.empty_like)

# --- reductions ---
@vjp(np.sum)
def sum_vjp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=0):
    return unreduce(g, a, axis, keepdims), None, None, None, None, unbroadcast(cast_grad(g, initial, ans), initial)
@jvp(np.sum)
def sum_jvp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=0):
    return np.sum(g, axis, keepdims=keepdims), None, None, None, None, cast_tangent(broadcast(g, ans), ans)
@vjp(np.mean)
def mean_vjp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False): return unreduce(g / reduced_size(a, axis), a, axis, keepdims)
@jvp(np.mean)
def mean_jvp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False): return np.mean(g, axis, keepdims=keepdims)
@vjp(np.prod)
def prod_vjp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False): return prod_grad(g, ans, a, axis, keepdims)
@jvp(np.prod)
def prod_jvp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    return np.sum(g * prod_grad(np.ones_like(ans), ans, a, axis, keepdims), axis, keepdims=keepdims)
@vjp(np.max, np.min, np.amax, np.amin, np.nanmax, np.nanmin)    # (initial: where it attains the result, its share)
def max_vjp(g, ans, a, axis=None, out=None, keepdims=False, initial=None):
    return (extremum_grad(g, ans, a, axis, keepdims, initial), None, None, None,
            unbroadcast(extremum_initial_grad(g, ans, a, axis, keepdims, initial), initial))
@jvp(np.max, np.min, np.amax, np.amin, np.nanmax, np.nanmin)
def max_jvp(g, ans, a, axis=None, out=None, keepdims=False, initial=None):  # (a NaN tangent nanmax skipped: not 0 * NaN)
    w = extremum_grad(np.ones_like(ans), ans, a, axis, keepdims, initial)
    return (np.sum(np.where(w != 0, g * w, 0.0), axis, keepdims=keepdims), None, None, None,
            g * extremum_initial_grad(np.ones_like(ans), ans, a, axis, keepdims, initial))
@vjp(np.var)
def var_vjp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None):
    return unreduce(np.real(g), a, axis, keepdims) * 2.0 * np.conj(a - np.mean(a, axis, keepdims=True)) / (reduced_size(a, axis) - corrected(ddof, correction))
@jvp(np.var)
def var_jvp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None):
    return np.sum(np.real(g * 2.0 * np.conj(a - np.mean(a, axis, keepdims=True))), axis, keepdims=keepdims) / (reduced_size(a, axis) - corrected(ddof, correction))
@vjp(np.std)
def std_vjp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None):
    return std_grad(g, ans, real_only(a, "np.std"), axis, corrected(ddof, correction), keepdims)
@jvp(np.std)
def std_jvp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None):     # zero where the std is
    slope = np.sum(g * (real_only(a, "np.std") - np.mean(a, axis, keepdims=True)), axis, keepdims=keepdims) / (reduced_size(a, axis) - corrected(ddof, correction))
    return np.where(ans == 0, 0.0, slope / np.where(ans == 0, 1.0, ans))

# --- products ---
@vjp(operator.matmul, np.matmul)
def matmul_vjp(g, ans, x, y): return matmul_x_grad(g, x, y), matmul_y_grad(g, x, y)
@jvp(operator.matmul, np.matmul)
def matmul_jvp(g, ans, x, y): return g @ y, x @ g
@vjp(np.dot)
def dot_vjp(g, ans, a, b): return dot_x_grad(g, a, b), dot_y_grad(g, a, b)
@jvp(np.dot)
def dot_jvp(g, ans, a, b): return np.dot(g, b), np.dot(a, g)
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
@jvp(np.inner)
def inner_jvp(g, ans, a, b): return np.inner(g, b), np.inner(a, g)
if hasattr(np, "vecdot"):                          # NumPy 2.0's generalized ufuncs (real arguments: they conjugate)
    @vjp(np.vecdot)
    def vecdot_vjp(g, ans, x1, x2, axis=-1):
        return (unbroadcast(np.expand_dims(g, axis) * real_only(x2, "np.vecdot"), x1),
                unbroadcast(np.expand_dims(g, axis) * real_only(x1, "np.vecdot"), x2))
    @jvp(np.vecdot)
    def vecdot_jvp(g, ans, x1, x2, axis=-1):
        return np.vecdot(g, real_only(x2, "np.vecdot"), axis=axis), np.vecdot(real_only(x1, "np.vecdot"), g, axis=axis)
if hasattr(np, "matvec"):                          # NumPy 2.2's
    @vjp(np.matvec)
    def matvec_vjp(g, ans, x1, x2):
        return (unbroadcast(g[..., :, None] * real_only(x2, "np.matvec")[..., None, :], x1),
                unbroadcast(np.matvec(np.swapaxes(real_only(x1, "np.matvec"), -1, -2), g), x2))
    @jvp(np.matvec)
    def matvec_jvp(g, ans, x1, x2): return np.matvec(g, real_only(x2, "np.matvec")), np.matvec(real_only(x1, "np.matvec"), g)
    @vjp(np.vecmat)
    def vecmat_vjp(g, ans, x1, x2):
        return (unbroadcast(np.matvec(real_only(x2, "np.vecmat"), g), x1),
                unbroadcast(real_only(x1, "np.vecmat")[..., :, None] * g[..., None, :], x2))
    @jvp(np.vecmat)
    def vecmat_jvp(g, ans, x1, x2): return np.vecmat(g, real_only(x2, "np.vecmat")), np.vecmat(real_only(x1, "np.vecmat"), g)
@vjp(np.outer)
def outer_vjp(g, ans, a, b): return np.reshape(g @ np.ravel(b), np.shape(a)), np.reshape(np.ravel(a) @ g, np.shape(b))
@jvp(np.outer)
def outer_jvp(g, ans, a, b): return np.outer(g, b), np.outer(a, g)
@vjp(np.tensordot)
def tensordot_vjp(g, ans, a, b, axes=2):
    a_bar, b_bar = tensordot_grads(g, a, b, axes)
    return a_bar, b_bar
@jvp(np.tensordot)
def tensordot_jvp(g, ans, a, b, axes=2): return np.tensordot(g, b, axes), np.tensordot(a, g, axes)
@vjp(np.einsum)                          # (an array first: the sublist form, np.einsum(a, [0, 1], b, [1]): refused)
def einsum_vjp(g, ans, subscripts, *operands, optimize=False):
    return (None if isinstance(subscripts, str) else underived("np.einsum's first operand in its sublist form"),
            einsum_grads(g, subscripts, operands))
@jvp(np.einsum)
def einsum_jvp(g, ans, subscripts, *operands, optimize=False):
    return (None if isinstance(subscripts, str) else underived("np.einsum's first operand in its sublist form"),
            einsum_tangent(g, subscripts, operands))
@vjp(np.trace)
def trace_vjp(g, ans, a, offset=0, axis1=0, axis2=1): return trace_grad(g, a, offset, axis1, axis2)
@jvp(np.trace)
def trace_jvp(g, ans, a, offset=0, axis1=0, axis2=1): return np.trace(g, offset, axis1, axis2)

# --- shapes ---
@vjp(np.transpose)
def transpose_vjp(g, ans, a, axes=None): return transpose_grad(g, axes)
@jvp(np.transpose)
def transpose_jvp(g, ans, a, axes=None): return np.transpose(g, axes)
@vjp(np.reshape)
def reshape_vjp(g, ans, a, shape=None, order="C", *, newshape=None, copy=None): return unreshape(g, a, order)
@jvp(np.reshape)
def reshape_jvp(g, ans, a, shape=None, order="C", *, newshape=None, copy=None): return reshape_like(g, a, ans, order)
@vjp(np.ravel)
def ravel_vjp(g, ans, a, order="C"): return unreshape(g, a, order)
@jvp(np.ravel)
def ravel_jvp(g, ans, a, order="C"): return reshape_like(g, a, ans, order)
@vjp(np.squeeze, np.expand_dims)
def squeeze_vjp(g, ans, a, axis=None): return np.reshape(g, np.shape(a))
@jvp(np.squeeze, np.expand_dims)
def squeeze_jvp(g, ans, a, axis=None): return np.reshape(g, np.shape(ans))
@vjp(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def atleast_vjp(g, ans, *arys): return atleast_grads(g, arys)
@jvp(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def atleast_jvp(g, ans, *arys): return atleast_tangents(g, ans)
@vjp(np.swapaxes)
def swapaxes_vjp(g, ans, a, axis1, axis2): return np.swapaxes(g, axis1, axis2)
@jvp(np.swapaxes)
def swapaxes_jvp(g, ans, a, axis1, axis2): return np.swapaxes(g, axis1, axis2)
@vjp(np.rollaxis)                                 # a permutation of the axes: transposed back
def rollaxis_vjp(g, ans, a, axis, start=0): return np.transpose(g, rollaxis_inverse(np.ndim(a), axis, start))
@jvp(np.rollaxis)
def rollaxis_jvp(g, ans, a, axis, start=0): return np.rollaxis(g, axis, start)
@vjp(np.moveaxis)
def moveaxis_vjp(g, ans, a, source, destination): return np.moveaxis(g, destination, source)
@jvp(np.moveaxis)
def moveaxis_jvp(g, ans, a, source, destination): return np.moveaxis(g, source, destination)
@vjp(np.concatenate)
def concatenate_vjp(g, ans, arrays, axis=0): return concatenate_grads(g, arrays, axis)
@jvp(np.concatenate)
def concatenate_jvp(g, ans, arrays, axis=0): return np.concatenate(g, axis)
@vjp(np.stack)
def stack_vjp(g, ans, arrays, axis=0): return stack_grads(g, arrays, axis)
@jvp(np.stack)
def stack_jvp(g, ans, arrays, axis=0): return np.stack(g, axis)
@vjp(np.hstack)
def hstack_vjp(g, ans, tup): return hstack_grads(g, tup)
@jvp(np.hstack)
def hstack_jvp(g, ans, tup): return np.hstack(g)
@vjp(np.vstack)
def vstack_vjp(g, ans, tup): return vstack_grads(g, tup)
@jvp(np.vstack)
def vstack_jvp(g, ans, tup): return np.vstack(g)
@vjp(np.broadcast_arrays)
def broadcast_arrays_vjp(g, ans, *args, subok=False): return broadcast_arrays_grads(g, args)
@jvp(np.broadcast_arrays)
def broadcast_arrays_jvp(g, ans, *args, subok=False): return broadcast_tangents(g, ans)
@vjp(np.block)                                    # each leaf's items, where np.block put them
def block_vjp(g, ans, arrays): return block_grads(g, arrays)
@jvp(np.block)
def block_jvp(g, ans, arrays): return np.block(g)
@vjp(np.broadcast_to)
def broadcast_to_vjp(g, ans, array, shape): return unbroadcast(g, array)
@jvp(np.broadcast_to)
def broadcast_to_jvp(g, ans, array, shape): return np.broadcast_to(g, shape)

@vjp(np.cumsum)
def cumsum_vjp(g, ans, a, axis=None, dtype=None, out=None): return uncumsum(g, a, axis)
@jvp(np.cumsum)
def cumsum_jvp(g, ans, a, axis=None, dtype=None, out=None): return np.cumsum(g, axis)
@vjp(np.sort)
def sort_vjp(g, ans, a, axis=-1, kind=None, order=None, stable=None): return unsort(g, a, axis)
@jvp(np.sort)
def sort_jvp(g, ans, a, axis=-1, kind=None, order=None, stable=None): return sorted_like(g, a, axis)

# --- moving, copying and zeroing items (each item of the result is an item of the argument, or 0) ---
@vjp(np.flip)
def flip_vjp(g, ans, m, axis=None): return np.flip(g, axis)
@jvp(np.flip)
def flip_jvp(g, ans, m, axis=None): return np.flip(g, axis)
@vjp(np.fliplr)
def fliplr_vjp(g, ans, m): return np.fliplr(g)
@jvp(np.fliplr)
def fliplr_jvp(g, ans, m): return np.fliplr(g)
@vjp(np.flipud)
def flipud_vjp(g, ans, m): return np.flipud(g)
@jvp(np.flipud)
def flipud_jvp(g, ans, m): return np.flipud(g)
@vjp(np.roll)
def roll_vjp(g, ans, a, shift, axis=None): return np.reshape(np.roll(g, np.negative(shift), axis), np.shape(a))
@jvp(np.roll)
def roll_jvp(g, ans, a, shift, axis=None): return np.roll(g, shift, axis)
@vjp(np.rot90)
def rot90_vjp(g, ans, m, k=1, axes=(0, 1)): return np.rot90(g, -k, axes)
@jvp(np.rot90)
def rot90_jvp(g, ans, m, k=1, axes=(0, 1)): return np.rot90(g, k, axes)
@vjp(np.tril)
def tril_vjp(g, ans, m, k=0): return ungather(g, m, source_index(np.tril, m, k))
@jvp(np.tril)
def tril_jvp(g, ans, m, k=0): return np.tril(g, k)
@vjp(np.triu)
def triu_vjp(g, ans, m, k=0): return ungather(g, m, source_index(np.triu, m, k))
@jvp(np.triu)
def triu_jvp(g, ans, m, k=0): return np.triu(g, k)
@vjp(np.diag)
def diag_vjp(g, ans, v, k=0): return ungather(g, v, source_index(np.diag, v, k))
@jvp(np.diag)
def diag_jvp(g, ans, v, k=0): return np.diag(g, k)
@vjp(np.gradient)                                 # linear in f, proportional to 1 / h (uniform spacings)
def gradient_vjp(g, ans, f, *varargs, axis=None, edge_order=1):
    return gradient_grad(g, f, varargs, axis, edge_order), gradient_spacing_grads(g, ans, f, varargs, axis, edge_order)
@jvp(np.gradient)
def gradient_jvp(g, ans, f, *varargs, axis=None, edge_order=1):
    return (np.gradient(g, *varargs, axis=axis, edge_order=edge_order),
            gradient_spacing_tangent(g, ans, f, varargs, axis, edge_order))
@vjp(np.partition)                                # each item from the item of a of its rank along axis
def partition_vjp(g, ans, a, kth, axis=-1, kind="introselect", order=None): return ungather(g, a, partition_source(a, ans, axis)), None
@jvp(np.partition)
def partition_jvp(g, ans, a, kth, axis=-1, kind="introselect", order=None): return regather(g, partition_source(a, ans, axis)), None
@vjp(np.diagonal)
def diagonal_vjp(g, ans, a, offset=0, axis1=0, axis2=1): return ungather(g, a, source_index(np.diagonal, a, offset, axis1, axis2))
@jvp(np.diagonal)
def diagonal_jvp(g, ans, a, offset=0, axis1=0, axis2=1): return np.diagonal(g, offset, axis1, axis2)
@vjp(np.take)
def take_vjp(g, ans, a, indices, axis=None, out=None, mode="raise"):
    return ungather(g, a, source_index(np.take, a, indices, axis, None, mode)), None
@jvp(np.take)
def take_jvp(g, ans, a, indices, axis=None, out=None, mode="raise"): return np.take(g, indices, axis, None, mode), None
@vjp(np.take_along_axis)
def take_along_axis_vjp(g, ans, arr, indices, axis=-1):
    return ungather(g, arr, source_index(np.take_along_axis, arr, indices, axis)), None
@jvp(np.take_along_axis)
def take_along_axis_jvp(g, ans, arr, indices, axis=-1): return np.take_along_axis(g, indices, axis), None
@vjp(np.tile)
def tile_vjp(g, ans, A, reps): return ungather(g, A, source_index(np.tile, A, reps))
@jvp(np.tile)
def tile_jvp(g, ans, A, reps): return np.tile(g, reps)
@vjp(np.repeat)
def repeat_vjp(g, ans, a, repeats, axis=None): return ungather(g, a, source_index(np.repeat, a, repeats, axis)), None
@jvp(np.repeat)
def repeat_jvp(g, ans, a, repeats, axis=None): return np.repeat(g, repeats, axis), None
@vjp(np.pad)
def pad_vjp(g, ans, array, pad_width, mode="constant", constant_values=0, reflect_type="even", stat_length=None, end_values=0):
    return ungather(g, array, pad_source(array, pad_width, mode, reflect_type))
@jvp(np.pad)
def pad_jvp(g, ans, array, pad_width, mode="constant", constant_values=0, reflect_type="even", stat_length=None, end_values=0):
    return regather(g, pad_source(array, pad_width, mode, reflect_type))
@vjp(np.insert)                                   # arr's items and the values, where np.insert put them
def insert_vjp(g, ans, arr, obj, values, axis=None):
    arr_bar, values_bar = ungather_each(g, (arr, values), insert_source(arr, obj, values, axis))
    return arr_bar, None, cast_grad(values_bar, values, ans)     # (none into an integer array: truncated)
@jvp(np.insert)
def insert_jvp(g, ans, arr, obj, values, axis=None):
    return (np.insert(g, obj, np.zeros_like(values, dtype=ans.dtype), axis), None,
            cast_tangent(np.insert(np.zeros_like(arr, dtype=ans.dtype), obj, g, axis), ans))
@vjp(np.extract)
def extract_vjp(g, ans, condition, arr): return None, ungather(g, arr, extract_source(condition, arr))
@jvp(np.extract)
def extract_jvp(g, ans, condition, arr): return None, np.extract(condition, g)
@vjp(np.select)                                   # the first choice whose condition holds, else the default
def select_vjp(g, ans, condlist, choicelist, default=0):
    choicelist_bar, default_bar = select_grads(g, condlist, choicelist, default)
    return None, choicelist_bar, default_bar
@jvp(np.select)
def select_jvp(g, ans, condlist, choicelist, default=0):
    return None, np.select(condlist, g, 0.0), np.where(select_default(condlist, choicelist, default), g, 0.0)
@vjp(np.choose)
def choose_vjp(g, ans, a, choices, out=None, mode="raise"): return None, choose_grads(g, a, choices, mode)
@jvp(np.choose)
def choose_jvp(g, ans, a, choices, out=None, mode="raise"): return None, np.choose(a, g, mode=mode)
@vjp(np.bincount)                                 # the sums of the weights by bin: each weight's bin
def bincount_vjp(g, ans, x, weights=None, minlength=0): return None, np.asarray(g)[x]
@jvp(np.bincount)
def bincount_jvp(g, ans, x, weights=None, minlength=0): return None, np.bincount(x, g, minlength)
@vjp(np.column_stack)
def column_stack_vjp(g, ans, tup): return ungather_each(g, tup, sources_of(np.column_stack, tup))
@jvp(np.column_stack)
def column_stack_jvp(g, ans, tup): return np.column_stack(g)
@vjp(np.dstack)
def dstack_vjp(g, ans, tup): return ungather_each(g, tup, sources_of(np.dstack, tup))
@jvp(np.dstack)
def dstack_jvp(g, ans, tup): return np.dstack(g)

# --- differences and cumulative products ---
@vjp(np.diff)
def diff_vjp(g, ans, a, n=1, axis=-1, prepend=None, append=None):
    return (undiff(g, a, n, axis, prepend, append), None, None, undiff(g, a, n, axis, prepend, append, 0),
            undiff(g, a, n, axis, prepend, append, 2))
@jvp(np.diff)
def diff_jvp(g, ans, a, n=1, axis=-1, prepend=None, append=None):
    return (diff_tangent(g, n, axis, prepend, append, a, 1), None, None, diff_tangent(g, n, axis, prepend, append, a, 0),
            diff_tangent(g, n, axis, prepend, append, a, 2))
@vjp(np.cumprod)
def cumprod_vjp(g, ans, a, axis=None, dtype=None, out=None):
    return np.reshape(uncumsum(g * ans, ans, axis) / np.reshape(nonzero_checked(a, "np.cumprod"), np.shape(ans)), np.shape(a))
@jvp(np.cumprod)
def cumprod_jvp(g, ans, a, axis=None, dtype=None, out=None):
    return ans * np.cumsum(np.reshape(g / nonzero_checked(a, "np.cumprod"), np.shape(ans)), axis)

# --- more reductions ---
@vjp(np.nansum)
def nansum_vjp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    return np.where(np.isnan(a), 0.0, unreduce(g, a, axis, keepdims))
@jvp(np.nansum)
def nansum_jvp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    return np.sum(np.where(np.isnan(a), 0.0, g), axis, keepdims=keepdims)
@vjp(np.nanmean)
def nanmean_vjp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    counted = ~np.isnan(a)
    return np.where(counted, unreduce(g, a, axis, keepdims) / np.sum(counted, axis, keepdims=True, dtype=np.asarray(a).dtype), 0.0)
@jvp(np.nanmean)
def nanmean_jvp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    counted = ~np.isnan(a)
    return np.sum(np.where(counted, g, 0.0), axis, keepdims=keepdims) / np.sum(counted, axis, keepdims=keepdims, dtype=np.asarray(a).dtype)
@vjp(np.median)
def median_vjp(g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False): return median_grad(g, a, axis, keepdims)
@jvp(np.median)
def median_jvp(g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False): return median_tangent(g, a, axis, keepdims)
@vjp(np.ptp)                                      # max - min: each extremum's adjoint (ties share it)
def ptp_vjp(g, ans, a, axis=None, out=None, keepdims=False):
    return (extremum_grad(g, np.max(a, axis, keepdims=keepdims), a, axis, keepdims)
            - extremum_grad(g, np.min(a, axis, keepdims=keepdims), a, axis, keepdims))
@jvp(np.ptp)
def ptp_jvp(g, ans, a, axis=None, out=None, keepdims=False):
    w = (extremum_grad(np.ones_like(ans), np.max(a, axis, keepdims=keepdims), a, axis, keepdims)
         - extremum_grad(np.ones_like(ans), np.min(a, axis, keepdims=keepdims), a, axis, keepdims))
    return np.sum(np.where(w != 0, g * w, 0.0), axis, keepdims=keepdims)
@vjp(np.nanvar)                                   # np.var of the items that are not NaN (they get no adjoint)
def nanvar_vjp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None):
    counted = ~np.isnan(a)
    spread = unreduce(g, a, axis, keepdims) * 2.0 * (real_only(a, "np.nanvar") - np.nanmean(a, axis, keepdims=True))
    return np.where(counted, spread, 0.0) / (np.sum(counted, axis, keepdims=True, dtype=np.asarray(a).dtype) - corrected(ddof, correction))
@jvp(np.nanvar)
def nanvar_jvp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None):
    counted = ~np.isnan(a)
    spread = np.where(counted, np.asarray(g) * 2.0 * (real_only(a, "np.nanvar") - np.nanmean(a, axis, keepdims=True)), 0.0)
    return np.sum(spread, axis, keepdims=keepdims) / (np.sum(counted, axis, keepdims=keepdims, dtype=np.asarray(a).dtype) - corrected(ddof, correction))
@vjp(np.nanstd)                                   # sqrt(nanvar): zero where the std is
def nanstd_vjp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None):
    counted = ~np.isnan(a)
    spread = unreduce(np.where(ans == 0, 0.0, g / np.where(ans == 0, 1.0, ans)), a, axis, keepdims) * (
        real_only(a, "np.nanstd") - np.nanmean(a, axis, keepdims=True))
    return np.where(counted, spread, 0.0) / (np.sum(counted, axis, keepdims=True, dtype=np.asarray(a).dtype) - corrected(ddof, correction))
@jvp(np.nanstd)
def nanstd_jvp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None):
    counted = ~np.isnan(a)
    spread = np.where(counted, np.asarray(g) * (real_only(a, "np.nanstd") - np.nanmean(a, axis, keepdims=True)), 0.0)
    slope = np.sum(spread, axis, keepdims=keepdims) / (np.sum(counted, axis, keepdims=keepdims, dtype=np.asarray(a).dtype) - corrected(ddof, correction))
    return np.where(ans == 0, 0.0, slope / np.where(ans == 0, 1.0, ans))
@vjp(np.nancumsum)                                # np.cumsum with NaN read as 0
def nancumsum_vjp(g, ans, a, axis=None, dtype=None, out=None): return np.where(np.isnan(a), 0.0, uncumsum(g, a, axis))[()]
@jvp(np.nancumsum)
def nancumsum_jvp(g, ans, a, axis=None, dtype=None, out=None): return np.cumsum(np.where(np.isnan(a), 0.0, g), axis)
@vjp(np.quantile)                                 # (1 - f) x[k] + f x[k + 1] of the sorted items, k + f = (n - 1) q
def quantile_vjp(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                 weights=None, interpolation=None):
    return (quantile_spread(g, a, q, axis, keepdims, "value", method, weights, interpolation),
            quantile_q_grad(g, a, a, q, axis, keepdims, "value", method, weights, interpolation))
@jvp(np.quantile)
def quantile_jvp(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                 weights=None, interpolation=None):
    return (quantile_apply(g, a, q, axis, keepdims, "value", method, weights, interpolation),
            quantile_apply(a, a, q, axis, keepdims, "slope", method, weights, interpolation) * quantile_q_tangent(g, q, ans))
@vjp(np.percentile)                               # np.quantile at q / 100
def percentile_vjp(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                   weights=None, interpolation=None):
    return (quantile_spread(g, a, np.asarray(q) / 100.0, axis, keepdims, "value", method, weights, interpolation),
            quantile_q_grad(g, a, a, np.asarray(q) / 100.0, axis, keepdims, "value", method, weights, interpolation) / 100.0)
@jvp(np.percentile)
def percentile_jvp(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                   weights=None, interpolation=None):
    return (quantile_apply(g, a, np.asarray(q) / 100.0, axis, keepdims, "value", method, weights, interpolation),
            quantile_apply(a, a, np.asarray(q) / 100.0, axis, keepdims, "slope", method, weights, interpolation)
            * quantile_q_tangent(g / 100.0, q, ans))
@vjp(np.nanquantile)                              # np.quantile of the items that are not NaN
def nanquantile_vjp(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                    weights=None, interpolation=None):
    return (quantile_spread(g, a, q, axis, keepdims, "value", method, weights, interpolation, True),
            quantile_q_grad(g, a, a, q, axis, keepdims, "value", method, weights, interpolation, True))
@jvp(np.nanquantile)
def nanquantile_jvp(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                    weights=None, interpolation=None):
    return (quantile_apply(g, a, q, axis, keepdims, "value", method, weights, interpolation, True),
            quantile_apply(a, a, q, axis, keepdims, "slope", method, weights, interpolation, True) * quantile_q_tangent(g, q, ans))
@vjp(np.nanpercentile)                            # np.nanquantile at q / 100
def nanpercentile_vjp(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                      weights=None, interpolation=None):
    return (quantile_spread(g, a, np.asarray(q) / 100.0, axis, keepdims, "value", method, weights, interpolation, True),
            quantile_q_grad(g, a, a, np.asarray(q) / 100.0, axis, keepdims, "value", method, weights, interpolation, True) / 100.0)
@jvp(np.nanpercentile)
def nanpercentile_jvp(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                      weights=None, interpolation=None):
    return (quantile_apply(g, a, np.asarray(q) / 100.0, axis, keepdims, "value", method, weights, interpolation, True),
            quantile_apply(a, a, np.asarray(q) / 100.0, axis, keepdims, "slope", method, weights, interpolation, True)
            * quantile_q_tangent(g / 100.0, q, ans))
@vjp(np.nanmedian)                                # the median of the items that are not NaN
def nanmedian_vjp(g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return quantile_spread(g, a, 0.5, axis, keepdims, "value", "linear", None, None, True)
@jvp(np.nanmedian)
def nanmedian_jvp(g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return quantile_apply(g, a, 0.5, axis, keepdims, "value", "linear", None, None, True)
@vjp(np.cov)                                      # x x^T / divisor, x the centered observations (runtime.cov_rows)
def cov_vjp(g, ans, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    m_bar, y_bar = cov_grads(g, m, y, rowvar, cov_divisor(m, y, rowvar, bias, ddof, fweights, aweights))
    return m_bar, y_bar
@jvp(np.cov)
def cov_jvp(g, ans, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    n = cov_divisor(m, y, rowvar, bias, ddof, fweights, aweights)
    return (np.reshape(cov_tangent(g, m, y, rowvar, 0, n), np.shape(ans)),
            np.reshape(cov_tangent(g, m, y, rowvar, 1, n), np.shape(ans)))
@vjp(np.corrcoef)
def corrcoef_vjp(g, ans, x, y=None, rowvar=True, *, dtype=None):
    x_bar, y_bar = corrcoef_grads(g, x, y, rowvar)
    return x_bar, y_bar
@jvp(np.corrcoef)
def corrcoef_jvp(g, ans, x, y=None, rowvar=True, *, dtype=None):
    return (np.reshape(corrcoef_tangent(g, x, y, rowvar, 0), np.shape(ans)),
            np.reshape(corrcoef_tangent(g, x, y, rowvar, 1), np.shape(ans)))
@vjp(np.average)
def average_vjp(g, ans, a, axis=None, weights=None, returned=False, *, keepdims=False):
    w = average_weights(a, weights, axis, returned)
    spread = unreduce(g, a, axis, keepdims) / np.sum(w, axis, keepdims=True)
    return spread * w, None, unweight(spread * (a - unreduce(ans, a, axis, keepdims)), weights, axis)
@jvp(np.average)
def average_jvp(g, ans, a, axis=None, weights=None, returned=False, *, keepdims=False):
    w = average_weights(a, weights, axis, returned)
    total = np.sum(w, axis, keepdims=keepdims)
    return (np.sum(g * w, axis, keepdims=keepdims) / total, None,
            np.sum(average_weights(a, g, axis, returned) * (a - unreduce(ans, a, axis, keepdims)), axis, keepdims=keepdims) / total)

# --- more products ---
@vjp(np.vdot)                                     # vdot(a, b) = sum(conj(a) * b)
def vdot_vjp(g, ans, a, b):
    return np.reshape(np.conj(g * np.ravel(b)), np.shape(a)), np.reshape(g * np.conj(np.ravel(a)), np.shape(b))
@jvp(np.vdot)
def vdot_jvp(g, ans, a, b): return np.vdot(g, b), np.vdot(a, g)
@vjp(np.kron)
def kron_vjp(g, ans, a, b):
    split, sa, sb, to_a, to_b = kron_layout(a, b)
    parts = np.reshape(g, split)
    return (np.reshape(np.einsum(to_a, parts, np.reshape(b, sb)), np.shape(a)),
            np.reshape(np.einsum(to_b, parts, np.reshape(a, sa)), np.shape(b)))
@jvp(np.kron)
def kron_jvp(g, ans, a, b): return np.kron(g, b), np.kron(a, g)
@vjp(np.cross)
def cross_vjp(g, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    g = checked_cross(g, a, b, axisa, axisb, axisc, axis)
    return unbroadcast(np.cross(b, g), a), unbroadcast(np.cross(g, a), b)
@jvp(np.cross)
def cross_jvp(g, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    return np.cross(g, b, axisa, axisb, axisc, axis), np.cross(a, g, axisa, axisb, axisc, axis)
@vjp(np.convolve)
def convolve_vjp(g, ans, a, v, mode="full"):
    full = np.pad(g, full_pads(a, v, mode))
    return np.correlate(full, v, "valid"), np.correlate(full, a, "valid")
@jvp(np.convolve)
def convolve_jvp(g, ans, a, v, mode="full"): return np.convolve(g, v, mode), np.convolve(a, g, mode)
@vjp(np.correlate)
def correlate_vjp(g, ans, a, v, mode="valid"):
    full = np.pad(g, full_pads(a, v, mode, True))
    return np.correlate(full, np.flip(v), "valid"), np.flip(np.correlate(full, a, "valid"))
@jvp(np.correlate)
def correlate_jvp(g, ans, a, v, mode="valid"): return np.correlate(g, v, mode), np.correlate(a, g, mode)

# --- pieces ---
@vjp(np.split, np.array_split)
def split_vjp(g, ans, ary, indices_or_sections, axis=0): return unsplit(g, ary, indices_or_sections, axis), None
@vjp(np.hsplit)
def hsplit_vjp(g, ans, ary, indices_or_sections): return unsplit(g, ary, indices_or_sections, 1 if np.ndim(ary) > 1 else 0), None
@jvp(np.hsplit)
def hsplit_jvp(g, ans, ary, indices_or_sections): return np.hsplit(g, indices_or_sections), None
@vjp(np.vsplit)
def vsplit_vjp(g, ans, ary, indices_or_sections): return unsplit(g, ary, indices_or_sections, 0), None
@jvp(np.vsplit)
def vsplit_jvp(g, ans, ary, indices_or_sections): return np.vsplit(g, indices_or_sections), None
@vjp(np.dsplit)
def dsplit_vjp(g, ans, ary, indices_or_sections): return unsplit(g, ary, indices_or_sections, 2), None
@jvp(np.dsplit)
def dsplit_jvp(g, ans, ary, indices_or_sections): return np.dsplit(g, indices_or_sections), None
@jvp(np.split, np.array_split)
def split_jvp(g, ans, ary, indices_or_sections, axis=0): return np.array_split(g, indices_or_sections, axis), None
@vjp(view_of)
def view_of_vjp(g, ans, x): return g
@jvp(view_of)
def view_of_jvp(g, ans, x): return g
@vjp(to_list)
def to_list_vjp(g, ans, x): return tolist_grad(g, x)
@jvp(to_list)
def to_list_jvp(g, ans, x): return to_list(g)
@vjp(item)
def item_vjp(g, ans, x, *args): return unitem(g, x, *args)
@jvp(item)
def item_jvp(g, ans, x, *args): return item(g, *args)

# --- interpolation, polynomials, quadrature, grids (each linear in its samples or coefficients) ---
@vjp(np.interp)                          # x: its segment's slope s; fp and xp: the segment's two ends (xp's: -s times fp's)
def interp_vjp(g, ans, x, xp, fp, left=None, right=None, period=None):
    j, inside, kept = interp_segments(x, xp, left, right, period)
    s = inside * (np.asarray(fp)[j + 1] - np.asarray(fp)[j]) / (np.asarray(xp)[j + 1] - np.asarray(xp)[j])
    return (cast_grad(g * s, x), -interp_fp_grad(g * s, x, xp, xp, kept), interp_fp_grad(g, x, xp, fp, kept),
            np.sum(g * (np.asarray(x) < xp[0])), np.sum(g * (np.asarray(x) > xp[-1])), None)
@jvp(np.interp)
def interp_jvp(g, ans, x, xp, fp, left=None, right=None, period=None):
    j, inside, kept = interp_segments(x, xp, left, right, period)
    s = inside * (np.asarray(fp)[j + 1] - np.asarray(fp)[j]) / (np.asarray(xp)[j + 1] - np.asarray(xp)[j])
    return (g * s, -s * np.interp(x, xp, g), np.interp(x, xp, g) * kept, g * (np.asarray(x) < xp[0]),
            g * (np.asarray(x) > xp[-1]), None)
@vjp(np.polyval)
def polyval_vjp(g, ans, p, x):
    return polyval_coefficients_grad(g, p, x), unbroadcast(g * np.polyval(derivative_coefficients(p), x), x)
@jvp(np.polyval)
def polyval_jvp(g, ans, p, x): return np.polyval(g, x), g * np.polyval(derivative_coefficients(p), x)
@vjp(np.trapezoid)                       # sum of d * (lo + hi) / 2 along the axis: bilinear in y and the steps
def trapezoid_vjp(g, ans, y, x=None, dx=1.0, axis=-1):
    y_bar, x_bar, dx_bar = trapezoid_grads(g, y, x, dx, axis)
    return y_bar, x_bar, dx_bar, None
@jvp(np.trapezoid)
def trapezoid_jvp(g, ans, y, x=None, dx=1.0, axis=-1):
    return (np.trapezoid(g, x, dx, axis), np.trapezoid(y, g, axis=axis),
            np.trapezoid(y, dx=g, axis=axis) * spaced_by_dx(x), None)
@vjp(np.append)                          # np.concatenate of the two (both flattened when axis is None)
def append_vjp(g, ans, arr, values, axis=None):
    arr_bar, values_bar = concatenate_grads(g, (arr, values), axis)
    return arr_bar, values_bar, None
@jvp(np.append)
def append_jvp(g, ans, arr, values, axis=None):
    return np.append(g, np.zeros_like(values, dtype=ans.dtype), axis), np.append(np.zeros_like(arr, dtype=ans.dtype), g, axis), None
@vjp(np.meshgrid)
def meshgrid_vjp(g, ans, *xi, copy=True, sparse=False, indexing="xy"): return meshgrid_grads(g, xi, indexing)
@jvp(np.meshgrid)
def meshgrid_jvp(g, ans, *xi, copy=True, sparse=False, indexing="xy"): return meshgrid_tangents(g, xi, ans, indexing)

# --- ndarray methods and attributes: x.sum(0) differentiates like np.sum(x, 0) ---
for _name in ("sum", "mean", "prod", "max", "min", "var", "std", "dot", "clip", "trace", "ravel",
              "squeeze", "swapaxes", "copy", "argmax", "argmin", "argsort", "nonzero", "any", "all", "round",
              "cumsum", "cumprod", "diagonal", "repeat", "take"):
    method(_name, getattr(np, _name))
method("flatten", np.ravel)
method("reshape", np.reshape, packs_varargs=True)
method("transpose", np.transpose, packs_varargs=True)
method("astype", astype)
method("item", item)
method("tolist", to_list)
method("view", view_of)
attribute("T", np.transpose)
attribute("real", np.real)
attribute("imag", np.imag)
method("conj", np.conj)
method("conjugate", np.conj)
for _name in ("shape", "ndim", "size"):
    attribute(_name, getattr(np, _name))


# --- ufunc methods: np.add.reduce is np.sum along axis 0 by default, and so on (differentiated from these sources;
# an `out` the caller gives is refused at the call: analysis/effects.writes_out) ---
def add_reduce(array, axis=0, dtype=None, out=None, keepdims=False):
    return np.sum(array, axis, dtype, None, keepdims)


def multiply_reduce(array, axis=0, dtype=None, out=None, keepdims=False):
    return np.prod(array, axis, dtype, None, keepdims)


def maximum_reduce(array, axis=0, dtype=None, out=None, keepdims=False):
    return np.max(array, axis, None, keepdims)


def minimum_reduce(array, axis=0, dtype=None, out=None, keepdims=False):
    return np.min(array, axis, None, keepdims)


def add_accumulate(array, axis=0, dtype=None, out=None):
    return np.cumsum(array, axis, dtype)


def multiply_accumulate(array, axis=0, dtype=None, out=None):
    return np.cumprod(array, axis, dtype)


def add_outer(a, b):
    return np.add(np.reshape(a, np.shape(a) + (1,) * np.ndim(b)), b)


def subtract_outer(a, b):
    return np.subtract(np.reshape(a, np.shape(a) + (1,) * np.ndim(b)), b)


def multiply_outer(a, b):
    return np.multiply(np.reshape(a, np.shape(a) + (1,) * np.ndim(b)), b)


def divide_outer(a, b):
    return np.divide(np.reshape(a, np.shape(a) + (1,) * np.ndim(b)), b)


UFUNC_METHODS = {(np.add, "reduce"): add_reduce, (np.multiply, "reduce"): multiply_reduce,
                 (np.maximum, "reduce"): maximum_reduce, (np.minimum, "reduce"): minimum_reduce,
                 (np.add, "accumulate"): add_accumulate, (np.multiply, "accumulate"): multiply_accumulate,
                 (np.add, "outer"): add_outer, (np.subtract, "outer"): subtract_outer,
                 (np.multiply, "outer"): multiply_outer, (np.divide, "outer"): divide_outer}
for _definition in UFUNC_METHODS.values():
    setattr(_definition, SOURCE_MARK, True)


@definer
def ufunc_method(obj, attr):
    """``np.add.reduce`` and the other ufunc methods above, as their definitions; another method of a ufunc as
    itself (refused by ``ufunc_method_refusal`` where a differentiated value reaches it); None for anything else."""
    if not isinstance(obj, np.ufunc) or attr not in ("reduce", "accumulate", "reduceat", "outer", "at"):
        return None
    return UFUNC_METHODS.get((obj, attr)) or getattr(obj, attr)


@explainer
def ufunc_method_refusal(obj, label):
    if not isinstance(getattr(obj, "__self__", None), np.ufunc):
        return None
    have = ", ".join(f"np.{u.__name__}.{m}" for u, m in UFUNC_METHODS)
    return (f"cannot differentiate `{label}`: s2sad has no derivative for this ufunc method (it has {have})",
            "write it with NumPy functions that have rules (np.sum, np.cumsum, indexing), or register a rule with "
            f"`@s2sad.rules.vjp({label})`")
