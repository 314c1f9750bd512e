"""Reverse and forward rules for ``np.linalg``."""
import numpy as np

from ..runtime import (as_columns, cholesky_grad, det_grad, from_columns, slogdet_grad, slogdet_tangent,
                       unbroadcast)
from ..runtime import cofactor, lstsq_grads, lstsq_tangent, pinv_grad, uncut
from ..runtime import eigengaps, eigh_grad, from_triangle, qr_grad, qr_tangent, svd_grad, svd_tangent, to_triangle
from ..runtime import matrix_power_grad, matrix_power_tangent, norm_axes, norm_grad_any, norm_tangent_any, real_only
from .. import runtime
from ..calls import SOURCE_MARK
from .registry import jvp, nondiff, vjp

# Helpers of forward rules with no rules of their own, written from primitives that have rules: the compiler
# differentiates them from their source (second order: the gradient or tangent of forward-mode code).
for _helper in (matrix_power_tangent, matrix_power_grad, svd_tangent, qr_tangent, lstsq_tangent, norm_grad_any,
                runtime.cofactor_tangent, runtime.cofactor2, runtime.multi_dot_tangent,
                norm_tangent_any, runtime._mT, runtime._thin_svd, runtime._nan_columns, runtime._reduced_qr,
                runtime._lstsq_parts, runtime._svd_last):
    setattr(_helper, SOURCE_MARK, True)
nondiff(norm_axes)

# --- rules that hold for real arguments only (complex ones are refused) ---
@vjp(real_only)
def real_only_vjp(h, ans, a, what): return h, None
@jvp(real_only)
def real_only_jvp(t, ans, a, what): return t, None

# a 1-d b is one column (as_columns), any other b a stack of matrices; a and b broadcast against each other
@vjp(np.linalg.solve)
def solve_vjp(g, ans, a, b):
    col = np.linalg.solve(np.swapaxes(a, -1, -2), as_columns(g, b))
    return unbroadcast(-(col @ np.swapaxes(as_columns(ans, b), -1, -2)), a), unbroadcast(from_columns(col, b), b)
@jvp(np.linalg.solve)
def solve_jvp(g, ans, a, b):
    return (-from_columns(np.linalg.solve(a, g @ as_columns(ans, b)), b),
            from_columns(np.linalg.solve(a, as_columns(g, b)), b))
@vjp(np.linalg.inv)
def inv_vjp(g, ans, a): return -np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2)
@jvp(np.linalg.inv)
def inv_jvp(g, ans, a): return -ans @ g @ ans
@vjp(np.linalg.matrix_power)
def matrix_power_vjp(g, ans, a, n): return matrix_power_grad(g, a, n), None
@jvp(np.linalg.matrix_power)
def matrix_power_jvp(g, ans, a, n): return matrix_power_tangent(g, a, n), None
@vjp(np.linalg.det)
def det_vjp(g, ans, a): return det_grad(g, ans, a)
@jvp(np.linalg.det)
def det_jvp(g, ans, a): return np.sum(cofactor(a) * g, axis=(-2, -1))
@vjp(np.linalg.slogdet)
def slogdet_vjp(g, ans, a): return slogdet_grad(g[1], real_only(a, "np.linalg.slogdet"))
@jvp(np.linalg.slogdet)
def slogdet_jvp(g, ans, a):
    tangent = (np.zeros_like(ans[0]), np.trace(np.linalg.solve(real_only(a, "np.linalg.slogdet"), g), axis1=-2, axis2=-1))
    return tangent
@vjp(np.linalg.cholesky)                 # (NumPy reads a's lower triangle only, as eigh's UPLO="L")
def cholesky_vjp(g, ans, a): return to_triangle(cholesky_grad(g, real_only(ans, "np.linalg.cholesky")), "L")
@jvp(np.linalg.cholesky)
def cholesky_jvp(g, ans, a):             # L Φ(L⁻¹ s L⁻ᵀ), s the symmetric matrix of g's lower triangle, Φ the lower
    low = real_only(ans, "np.linalg.cholesky")          # triangle with a halved diagonal
    inner = np.linalg.solve(low, np.swapaxes(np.linalg.solve(low, from_triangle(g, "L")), -1, -2))
    return low @ (np.tril(inner) - 0.5 * np.eye(np.shape(ans)[-1]) * inner)
@vjp(np.linalg.norm)
def norm_vjp(g, ans, x, ord=None, axis=None, keepdims=False): return norm_grad_any(g, ans, x, ord, axis, keepdims)
@jvp(np.linalg.norm)
def norm_jvp(g, ans, x, ord=None, axis=None, keepdims=False): return norm_tangent_any(g, ans, x, ord, axis, keepdims)

@vjp(np.linalg.multi_dot)                # a chain of matrix products (a 1-d first or last array: a row, a column)
def multi_dot_vjp(g, ans, arrays, *, out=None): return runtime.multi_dot_grads(g, arrays)
@jvp(np.linalg.multi_dot)
def multi_dot_jvp(g, ans, arrays, *, out=None): return runtime.multi_dot_tangent(g, arrays)

if hasattr(np.linalg, "vector_norm"):     # NumPy 2.0's: the norm of the items along axis (all of them: None), merged
    @vjp(np.linalg.vector_norm)
    def vector_norm_vjp(g, ans, x, axis=None, keepdims=False, ord=2):
        rows = runtime.vector_rows(x, axis)
        return runtime.vector_unrows(norm_grad_any(np.reshape(g, np.shape(rows)[:-1]), np.reshape(ans, np.shape(rows)[:-1]),
                                                   rows, ord, -1), x, axis)
    @jvp(np.linalg.vector_norm)
    def vector_norm_jvp(g, ans, x, axis=None, keepdims=False, ord=2):
        rows = runtime.vector_rows(x, axis)
        return np.reshape(norm_tangent_any(runtime.vector_rows(g, axis), np.reshape(ans, np.shape(rows)[:-1]), rows, ord, -1),
                          np.shape(ans))
    @vjp(np.linalg.matrix_norm)              # np.linalg.norm over the last two axes
    def matrix_norm_vjp(g, ans, x, keepdims=False, ord="fro"): return norm_grad_any(g, ans, x, ord, (-2, -1), keepdims)
    @jvp(np.linalg.matrix_norm)
    def matrix_norm_jvp(g, ans, x, keepdims=False, ord="fro"): return norm_tangent_any(g, ans, x, ord, (-2, -1), keepdims)

# --- symmetric eigenproblems (only the UPLO triangle of a is read) ---
@vjp(np.linalg.eigh)
def eigh_vjp(g, ans, a, UPLO="L"): return eigh_grad(g, ans[0], real_only(ans[1], "np.linalg.eigh"), UPLO)
@jvp(np.linalg.eigh)
def eigh_jvp(g, ans, a, UPLO="L"):
    inner = np.swapaxes(real_only(ans[1], "np.linalg.eigh"), -1, -2) @ from_triangle(g, UPLO) @ ans[1]
    tangent = (np.diagonal(inner, 0, -2, -1), ans[1] @ (eigengaps(ans[0]) * inner))    # (w, v)'s tangent
    return tangent
@vjp(np.linalg.eigvalsh)
def eigvalsh_vjp(g, ans, a, UPLO="L"):
    v = np.linalg.eigh(real_only(a, "np.linalg.eigvalsh"), UPLO)[1]
    return to_triangle(v @ (g[..., :, None] * np.swapaxes(v, -1, -2)), UPLO)
@jvp(np.linalg.eigvalsh)
def eigvalsh_jvp(g, ans, a, UPLO="L"):
    v = np.linalg.eigh(real_only(a, "np.linalg.eigvalsh"), UPLO)[1]
    return np.sum(v * (from_triangle(g, UPLO) @ v), axis=-2)

# --- pseudo-inverse (of a matrix of constant rank; Golub and Pereyra) ---
@vjp(np.linalg.pinv)                     # (hermitian=True reads a's lower triangle only, as eigh's UPLO="L")
def pinv_vjp(g, ans, a, rcond=None, hermitian=False, *, rtol=None):
    read = from_triangle(a, "L") if hermitian else a
    grad = pinv_grad(g, uncut(ans, read, rcond, rtol), real_only(read, "np.linalg.pinv"))
    return to_triangle(grad, "L") if hermitian else grad
@jvp(np.linalg.pinv)
def pinv_jvp(g, ans, a, rcond=None, hermitian=False, *, rtol=None):
    g = from_triangle(g, "L") if hermitian else g
    read = from_triangle(a, "L") if hermitian else a
    p, pt, gt = real_only(uncut(ans, read, rcond, rtol), "np.linalg.pinv"), np.swapaxes(ans, -1, -2), np.swapaxes(g, -1, -2)
    return (-p @ g @ p + p @ pt @ gt @ (np.eye(np.shape(a)[-2], dtype=p.dtype) - read @ p)
            + (np.eye(np.shape(a)[-1], dtype=p.dtype) - p @ read) @ gt @ pt @ p)

# --- singular values and vectors (thin, or square; real, distinct singular values) ---
@vjp(np.linalg.svd)
def svd_vjp(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    return svd_grad(g, ans, real_only(a, "np.linalg.svd"), full_matrices, compute_uv, hermitian)
@jvp(np.linalg.svd)
def svd_jvp(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    tangent = svd_tangent(g, ans, real_only(a, "np.linalg.svd"), full_matrices, compute_uv, hermitian)
    return tangent

# --- QR (mode 'reduced' or 'r', at least as many rows as columns) ---
@vjp(np.linalg.qr)
def qr_vjp(g, ans, a, mode="reduced"): return qr_grad(g, ans, real_only(a, "np.linalg.qr"), mode)
@jvp(np.linalg.qr)
def qr_jvp(g, ans, a, mode="reduced"):
    tangent = qr_tangent(g, ans, real_only(a, "np.linalg.qr"), mode)
    return tangent

# --- least squares (the solution and the residuals; a of constant rank) ---
@vjp(np.linalg.lstsq)
def lstsq_vjp(g, ans, a, b, rcond=None):
    a_bar, b_bar = lstsq_grads(g, ans, real_only(a, "np.linalg.lstsq"), b, rcond)
    return a_bar, b_bar
@jvp(np.linalg.lstsq)
def lstsq_jvp(g, ans, a, b, rcond=None):
    a = real_only(a, "np.linalg.lstsq")
    return lstsq_tangent(g, None, ans, a, b, rcond), lstsq_tangent(None, g, ans, a, b, rcond)
