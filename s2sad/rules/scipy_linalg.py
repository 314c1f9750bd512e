"""Reverse and forward rules for ``scipy.linalg`` (registered only if the user imports it; rules/lazy.py).

Each derivative is written with functions that have rules themselves (scipy.linalg's solves, expm,
solve_sylvester, and the small linear helpers of runtime.py, whose rules are in rules/helpers.py), so
derivatives of derivatives work.

What a function reads is what it is differentiated as: ``solve_triangular`` reads one triangle of ``a`` (not
its diagonal with ``unit_diagonal``), ``cholesky`` and ``cho_factor`` the triangle ``lower`` names, ``solve``
and ``inv`` with ``assume_a`` the entries that structure uses; the entries not read get a zero derivative.
``cho_factor``'s ``c`` holds ``a``'s own entries in the triangle without the factor (LAPACK leaves them):
their derivative is ``a``'s. ``overwrite_a``/``overwrite_b`` are refused (the rules have no such parameter):
an argument overwritten in place may be one the gradient still needs. A vector right-hand side with a stack
of matrices is refused at run time (runtime.checked_system).

The expm derivative is the block of ``expm([[A, E], [0, A]])`` (Higham, Functions of Matrices, 3.1), the
sqrtm derivative solves ``S dS + dS S = dA`` (``solve_sylvester``).
"""
import numpy as np

from ..runtime import (checked_system, cofactor, det_grad, factor_placed, flipped, frechet_blocks, from_triangle, lower_factor,
                       lower_half, matmul_like_solve, off_factor, solve_a_grad, structured, structured_grad,
                       to_triangle, transposed_if, triangular_part, unbroadcast, uplo, upper_right)
from .lazy import when_imported
from .registry import jvp, vjp

MODULE = "scipy.linalg"
linalg = None           # the scipy.linalg module, once registered (rule bodies refer to it by this name)
KEPT = None             # 1.0 where cho_factor's c keeps a's entries in its other triangle (scipy <= 1.17), 0.0 where
                        # it zeroes them (1.18): the derivative of those entries is a's, or none


def _kept(module):
    """What this scipy's cho_factor leaves in c's other triangle: a's entries (1.0) or zeros (0.0); None for
    anything else (cho_factor then gets no rule: a refusal, not a guess)."""
    other = module.cho_factor(np.array([[4.0, 2.0], [2.0, 3.0]]))[0][1, 0]
    return 1.0 if other == 2.0 else 0.0 if other == 0.0 else None


def register(module):
    """Register the rules for the functions of ``module`` (``scipy.linalg``)."""
    global linalg, KEPT
    linalg = module
    KEPT = _kept(module)

    # (a forward rule's locals are computed for every argument's tangent g: they do not read g)
    # --- triangular systems: a's triangle (without its diagonal for unit_diagonal), trans 0/'N', 1/'T', 2/'C' ---
    @vjp(linalg.solve_triangular)
    def solve_triangular_vjp(g, ans, a, b, trans=0, lower=False, unit_diagonal=False, *, check_finite=True):
        m = checked_system(a, b, "scipy.linalg.solve_triangular")
        b_bar = linalg.solve_triangular(m, g, flipped(trans), lower, unit_diagonal)
        a_bar = triangular_part(transposed_if(solve_a_grad(b_bar, ans), trans), lower, unit_diagonal)
        return unbroadcast(a_bar, a), unbroadcast(b_bar, b)
    @jvp(linalg.solve_triangular)
    def solve_triangular_jvp(g, ans, a, b, trans=0, lower=False, unit_diagonal=False, *, check_finite=True):
        m = checked_system(a, b, "scipy.linalg.solve_triangular")
        return (-linalg.solve_triangular(m, matmul_like_solve(transposed_if(triangular_part(g, lower, unit_diagonal),
                                                                            trans), ans), trans, lower, unit_diagonal),
                linalg.solve_triangular(m, g, trans, lower, unit_diagonal))

    # --- general systems and inverses; assume_a picks the entries read (runtime.structured) ---
    @vjp(linalg.solve)
    def solve_vjp(g, ans, a, b, lower=False, *, check_finite=True, assume_a=None, transposed=False):
        m = structured(checked_system(a, b, "scipy.linalg.solve"), assume_a, lower, "scipy.linalg.solve")
        b_bar = linalg.solve(m, g, transposed=flipped(transposed))
        a_bar = structured_grad(transposed_if(solve_a_grad(b_bar, ans), transposed), assume_a, lower,
                                "scipy.linalg.solve")
        return unbroadcast(a_bar, a), unbroadcast(b_bar, b)
    @jvp(linalg.solve)
    def solve_jvp(g, ans, a, b, lower=False, *, check_finite=True, assume_a=None, transposed=False):
        m = structured(checked_system(a, b, "scipy.linalg.solve"), assume_a, lower, "scipy.linalg.solve")
        return (-linalg.solve(m, matmul_like_solve(transposed_if(structured(g, assume_a, lower, "scipy.linalg.solve"),
                                                                  transposed), ans), transposed=transposed),
                linalg.solve(m, g, transposed=transposed))
    @vjp(linalg.inv)
    def inv_vjp(g, ans, a, *, check_finite=True, assume_a=None, lower=False):
        ans_t = np.swapaxes(ans, -1, -2)
        return structured_grad(-ans_t @ g @ ans_t, assume_a, lower, "scipy.linalg.inv")
    @jvp(linalg.inv)
    def inv_jvp(g, ans, a, *, check_finite=True, assume_a=None, lower=False):
        return -ans @ structured(g, assume_a, lower, "scipy.linalg.inv") @ ans
    @vjp(linalg.det)
    def det_vjp(g, ans, a, *, check_finite=True): return det_grad(g, ans, a)
    @jvp(linalg.det)
    def det_jvp(g, ans, a, *, check_finite=True): return np.sum(cofactor(a) * g, axis=(-2, -1))

    # --- Cholesky: L L^T = the symmetric matrix of a's triangle `lower`; dL = L Φ(L^-1 dA L^-T) ---
    # (Φ: the lower triangle with its diagonal halved, runtime.lower_half; cholesky returns L^T unless lower)
    @vjp(linalg.cholesky)
    def cholesky_vjp(g, ans, a, lower=False, *, check_finite=True):
        l = lower_factor(ans, lower)
        p = lower_half(np.swapaxes(l, -1, -2) @ lower_factor(g, lower))
        s = linalg.solve_triangular(l, np.swapaxes(linalg.solve_triangular(l, p, 1, True), -1, -2), 1, True)
        return to_triangle(s, uplo(lower))              # s = (L^-T Φ(L^T L_bar) L^-1)^T; to_triangle sums both
    @jvp(linalg.cholesky)
    def cholesky_jvp(g, ans, a, lower=False, *, check_finite=True):
        l = lower_factor(ans, lower)
        y = linalg.solve_triangular(l, from_triangle(g, uplo(lower)), 0, True)              # L^-1 dA
        inner = linalg.solve_triangular(l, np.swapaxes(y, -1, -2), 0, True)                 # L^-1 dA L^-T
        return factor_placed(l @ lower_half(inner), lower)

    # --- cho_factor: (c, lower), c the factor in triangle `lower` and a's own entries (KEPT) in the other ---
    if KEPT is not None:
        _register_cho_factor()

    # --- cho_solve((c, lower), b): (L L^T)^-1 b, L = lower_factor(c, lower); dS = dL L^T + L dL^T ---
    @vjp(linalg.cho_solve)
    def cho_solve_vjp(g, ans, c_and_lower, b, *, check_finite=True):
        c = checked_system(c_and_lower[0], b, "scipy.linalg.cho_solve")
        b_bar = linalg.cho_solve((c, c_and_lower[1]), g)
        s_bar = solve_a_grad(b_bar, ans)                                        # -b_bar x^T: the adjoint of S
        c_bar = factor_placed((s_bar + np.swapaxes(s_bar, -1, -2)) @ lower_factor(c, c_and_lower[1]), c_and_lower[1])
        return (unbroadcast(c_bar, c_and_lower[0]), None), unbroadcast(b_bar, b)
    @jvp(linalg.cho_solve)
    def cho_solve_jvp(g, ans, c_and_lower, b, *, check_finite=True):
        c = checked_system(c_and_lower[0], b, "scipy.linalg.cho_solve")
        l = lower_factor(c, c_and_lower[1])
        return (-linalg.cho_solve((c, c_and_lower[1]),
                                  lower_factor(g[0], c_and_lower[1]) @ (np.swapaxes(l, -1, -2) @ ans)
                                  + l @ (np.swapaxes(lower_factor(g[0], c_and_lower[1]), -1, -2) @ ans)),
                linalg.cho_solve((c, c_and_lower[1]), g))

    # --- matrix functions: expm (the Fréchet derivative as a block of a larger expm), sqrtm ---
    @vjp(linalg.expm)
    def expm_vjp(g, ans, A): return upper_right(linalg.expm(frechet_blocks(np.swapaxes(A, -1, -2), g)))
    @jvp(linalg.expm)
    def expm_jvp(g, ans, A): return upper_right(linalg.expm(frechet_blocks(A, g)))
    @vjp(linalg.sqrtm)
    def sqrtm_vjp(g, ans, A):
        s_t = np.swapaxes(ans, -1, -2)
        return linalg.solve_sylvester(s_t, s_t, g)
    @jvp(linalg.sqrtm)
    def sqrtm_jvp(g, ans, A): return linalg.solve_sylvester(ans, ans, g)

    # --- Sylvester equations: a X + X b = q ---
    @vjp(linalg.solve_sylvester)
    def solve_sylvester_vjp(g, ans, a, b, q):
        q_bar = linalg.solve_sylvester(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2), g)
        return (unbroadcast(-q_bar @ np.swapaxes(ans, -1, -2), a), unbroadcast(-np.swapaxes(ans, -1, -2) @ q_bar, b),
                unbroadcast(q_bar, q))
    @jvp(linalg.solve_sylvester)
    def solve_sylvester_jvp(g, ans, a, b, q):
        return (-linalg.solve_sylvester(a, b, g @ ans), -linalg.solve_sylvester(a, b, ans @ g),
                linalg.solve_sylvester(a, b, g))


def _register_cho_factor():
    @vjp(linalg.cho_factor)
    def cho_factor_vjp(g, ans, a, lower=False, *, check_finite=True):
        l = lower_factor(ans[0], lower)
        p = lower_half(np.swapaxes(l, -1, -2) @ lower_factor(g[0], lower))
        s = linalg.solve_triangular(l, np.swapaxes(linalg.solve_triangular(l, p, 1, True), -1, -2), 1, True)
        return to_triangle(s, uplo(lower)) + KEPT * off_factor(g[0], lower)     # as cholesky's, plus a's entries
    @jvp(linalg.cho_factor)
    def cho_factor_jvp(g, ans, a, lower=False, *, check_finite=True):
        l = lower_factor(ans[0], lower)
        y = linalg.solve_triangular(l, from_triangle(g, uplo(lower)), 0, True)
        inner = linalg.solve_triangular(l, np.swapaxes(y, -1, -2), 0, True)
        tangent = (factor_placed(l @ lower_half(inner), lower) + KEPT * off_factor(g, lower), None)
        return tangent


_FINDER = when_imported(MODULE, register)
