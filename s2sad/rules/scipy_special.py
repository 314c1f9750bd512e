"""Reverse and forward rules for ``scipy.special`` (registered only if the user imports scipy).

scipy is not a dependency of s2sad, and ``import s2sad`` does not import it: the rules are
registered when ``scipy.special`` is imported (at once if it already was), by a finder on
``sys.meta_path`` that only watches for that one module and removes itself afterwards.

A derivative is written with functions that have rules themselves (digamma' is
``polygamma(1, x)``, polygamma's is ``polygamma(n + 1, x)``), so higher derivatives work.
``logsumexp`` with ``return_sign=True`` is refused where the code runs (the sign carries no
derivative); weights ``b=`` are differentiated (both ``a``'s and ``b``'s derivatives).
"""

import numpy as np

from ..incomplete import beta_density_d, betainc_d, gamma_density_d, gammainc_d, stdtr_d, t_density_d
from ..runtime import masked_exp, one_if_none, unbroadcast, underived, unreduce, weights_like
from .lazy import when_imported
from .registry import elementwise, jvp, nondiff, vjp

MODULE = "scipy.special"
special = None          # the scipy.special module, once registered (rule bodies refer to it by this name)


def register(module):
    """Register the rules for the functions of ``module`` (``scipy.special``)."""
    global special
    special = module

    # --- logistic ---
    @elementwise(special.expit)
    def expit_vjp(g, ans, x): return g * ans * (1.0 - ans)
    @elementwise(special.logit)
    def logit_vjp(g, ans, x): return g / (x * (1.0 - x))
    if hasattr(special, "log_expit"):                   # scipy >= 1.8
        @elementwise(special.log_expit)
        def log_expit_vjp(g, ans, x): return g * special.expit(-x)

    # --- error function ---
    @elementwise(special.erf)
    def erf_vjp(g, ans, x): return g * (2.0 / np.sqrt(np.pi)) * np.exp(-x * x)
    @elementwise(special.erfc)
    def erfc_vjp(g, ans, x): return -g * (2.0 / np.sqrt(np.pi)) * np.exp(-x * x)

    # --- gamma family (digamma is also special.psi) ---
    @elementwise(special.gamma)
    def gamma_vjp(g, ans, x): return g * ans * special.digamma(x)
    @elementwise(special.gammaln)
    def gammaln_vjp(g, ans, x): return g * special.digamma(x)
    @elementwise(special.digamma)
    def digamma_vjp(g, ans, x): return g * special.polygamma(1, x)
    @elementwise(special.polygamma)
    def polygamma_vjp(g, ans, n, x): return None, unbroadcast(g * special.polygamma(n + 1, x), x)

    # --- x log y: 0 where x == 0 (scipy's definition); d/dx is still log(y), x log(y) being linear in x ---
    @elementwise(special.xlogy)
    def xlogy_vjp(g, ans, x, y): return unbroadcast(g * np.log(y), x), unbroadcast(g * x / y, y)
    @elementwise(special.xlog1py)
    def xlog1py_vjp(g, ans, x, y): return unbroadcast(g * np.log1p(y), x), unbroadcast(g * x / (1.0 + y), y)

    # --- scipy's own expm1 and log1p (not NumPy's ufuncs) ---
    @elementwise(special.expm1)
    def expm1_vjp(g, ans, x): return g * (ans + 1.0)
    @elementwise(special.log1p)
    def log1p_vjp(g, ans, x): return g / (1.0 + x)

    # --- the normal distribution's functions ---
    @elementwise(special.ndtr)
    def ndtr_vjp(g, ans, x): return g * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
    @elementwise(special.log_ndtr)
    def log_ndtr_vjp(g, ans, x): return g * np.exp(-0.5 * x * x - ans) / np.sqrt(2.0 * np.pi)
    @elementwise(special.erfinv)
    def erfinv_vjp(g, ans, x): return g * 0.5 * np.sqrt(np.pi) * np.exp(ans * ans)
    @elementwise(special.erfcinv)
    def erfcinv_vjp(g, ans, x): return -g * 0.5 * np.sqrt(np.pi) * np.exp(ans * ans)
    @elementwise(special.rgamma)
    def rgamma_vjp(g, ans, x): return -g * ans * special.digamma(x)
    nondiff(special.gammasgn)
    @elementwise(special.ndtri)
    def ndtri_vjp(g, ans, p): return g * np.sqrt(2.0 * np.pi) * np.exp(0.5 * ans * ans)

    # --- beta function, modified Bessel functions (iv' = (iv(v - 1) + iv(v + 1)) / 2, for any order) ---
    @elementwise(special.betaln)
    def betaln_vjp(g, ans, a, b):
        both = special.digamma(a + b)
        return unbroadcast(g * (special.digamma(a) - both), a), unbroadcast(g * (special.digamma(b) - both), b)
    @elementwise(special.beta)
    def beta_vjp(g, ans, a, b):
        both = special.digamma(a + b)
        return unbroadcast(g * ans * (special.digamma(a) - both), a), unbroadcast(g * ans * (special.digamma(b) - both), b)
    @elementwise(special.iv)                       # (with respect to the order v: none, refused where v varies)
    def iv_vjp(g, ans, v, x):
        return underived("the order of scipy.special.iv"), unbroadcast(g * 0.5 * (special.iv(v - 1, x) + special.iv(v + 1, x)), x)
    @elementwise(special.ive)
    def ive_vjp(g, ans, v, x):
        return underived("the order of scipy.special.ive"), \
            unbroadcast(g * (0.5 * (special.ive(v - 1, x) + special.ive(v + 1, x)) - np.sign(x) * ans), x)
    @elementwise(special.jv)                       # Bessel functions: J_v' = (J_{v-1} - J_{v+1}) / 2, Y likewise
    def jv_vjp(g, ans, v, x):
        return underived("the order of scipy.special.jv"), unbroadcast(g * 0.5 * (special.jv(v - 1, x) - special.jv(v + 1, x)), x)
    @elementwise(special.j0)
    def j0_vjp(g, ans, x): return -g * special.j1(x)
    @elementwise(special.j1)
    def j1_vjp(g, ans, x): return g * 0.5 * (special.j0(x) - special.jv(2, x))
    @elementwise(special.yn)
    def yn_vjp(g, ans, n, x): return None, unbroadcast(g * 0.5 * (special.yn(n - 1, x) - special.yn(n + 1, x)), x)
    @elementwise(special.y0)
    def y0_vjp(g, ans, x): return -g * special.y1(x)
    @elementwise(special.y1)
    def y1_vjp(g, ans, x): return g * 0.5 * (special.y0(x) - special.yn(2, x))
    @elementwise(special.i0)
    def i0_vjp(g, ans, x): return g * special.iv(1, x)
    @elementwise(special.i1)
    def i1_vjp(g, ans, x): return g * 0.5 * (special.iv(0, x) + special.iv(2, x))
    @elementwise(special.multigammaln)
    def multigammaln_vjp(g, ans, a, d): return g * np.sum(special.digamma(np.expand_dims(a, -1) - 0.5 * np.arange(d)), -1), None

    # --- distribution functions: x-derivatives are densities; shape derivatives by quadrature (s2sad/incomplete.py) ---
    @elementwise(special.gammainc)
    def gammainc_vjp(g, ans, a, x): return unbroadcast(g * gammainc_d(a, x, 1), a), unbroadcast(g * gamma_density_d(a, x, 0, 0), x)
    @elementwise(special.gammaincc)
    def gammaincc_vjp(g, ans, a, x): return unbroadcast(-g * gammainc_d(a, x, 1), a), unbroadcast(-g * gamma_density_d(a, x, 0, 0), x)
    @elementwise(special.betainc)
    def betainc_vjp(g, ans, a, b, x):
        return (unbroadcast(g * betainc_d(a, b, x, 1, 0), a), unbroadcast(g * betainc_d(a, b, x, 0, 1), b),
                unbroadcast(g * beta_density_d(a, b, x, 0, 0, 0), x))
    @elementwise(special.stdtr)
    def stdtr_vjp(g, ans, df, t): return unbroadcast(g * stdtr_d(df, t, 1), df), unbroadcast(g * t_density_d(df, t, 0, 0), t)

    # --- softmax along an axis ---
    @vjp(special.softmax)
    def softmax_vjp(g, ans, x, axis=None): return ans * (g - np.sum(g * ans, axis, keepdims=True))
    @jvp(special.softmax)
    def softmax_jvp(g, ans, x, axis=None): return ans * (g - np.sum(g * ans, axis, keepdims=True))
    @vjp(special.log_softmax)
    def log_softmax_vjp(g, ans, x, axis=None): return g - np.exp(ans) * np.sum(g, axis, keepdims=True)
    @jvp(special.log_softmax)
    def log_softmax_jvp(g, ans, x, axis=None): return g - np.sum(np.exp(ans) * g, axis, keepdims=True)

    # --- reductions: softmax weights b exp(a - ans); no return_sign= (refused, see above) ---
    @vjp(special.logsumexp)
    def logsumexp_vjp(g, ans, a, axis=None, b=None, keepdims=False, return_sign=False):
        s = weights_like(a, b, return_sign)          # (a zero weight masks its item: masked_exp)
        d, w = a - unreduce(ans, s, axis, keepdims), unreduce(g, s, axis, keepdims)
        return unbroadcast(w * one_if_none(b) * masked_exp(d, b), a), None, unbroadcast(w * np.exp(d), b)
    @jvp(special.logsumexp)
    def logsumexp_jvp(g, ans, a, axis=None, b=None, keepdims=False, return_sign=False):
        d = a - unreduce(ans, weights_like(a, b, return_sign), axis, keepdims)
        return (np.sum(g * masked_exp(d, b) * one_if_none(b), axis, keepdims=keepdims), None,
                np.sum(g * np.exp(d), axis, keepdims=keepdims))


# --- the quadrature helpers' own rules: each derivative is another member of the same family, so any order works ---
@elementwise(gammainc_d)
def gammainc_d_vjp(g, ans, a, x, i):
    return unbroadcast(g * gammainc_d(a, x, i + 1), a), unbroadcast(g * gamma_density_d(a, x, i, 0), x), None
@elementwise(gamma_density_d)
def gamma_density_d_vjp(g, ans, a, x, i, n):
    return unbroadcast(g * gamma_density_d(a, x, i + 1, n), a), unbroadcast(g * gamma_density_d(a, x, i, n + 1), x), None, None
@elementwise(betainc_d)
def betainc_d_vjp(g, ans, a, b, x, i, j):
    return (unbroadcast(g * betainc_d(a, b, x, i + 1, j), a), unbroadcast(g * betainc_d(a, b, x, i, j + 1), b),
            unbroadcast(g * beta_density_d(a, b, x, i, j, 0), x), None, None)
@elementwise(beta_density_d)
def beta_density_d_vjp(g, ans, a, b, x, i, j, n):
    return (unbroadcast(g * beta_density_d(a, b, x, i + 1, j, n), a), unbroadcast(g * beta_density_d(a, b, x, i, j + 1, n), b),
            unbroadcast(g * beta_density_d(a, b, x, i, j, n + 1), x), None, None, None)
@elementwise(stdtr_d)
def stdtr_d_vjp(g, ans, df, t, i): return unbroadcast(g * stdtr_d(df, t, i + 1), df), unbroadcast(g * t_density_d(df, t, i, 0), t), None
@elementwise(t_density_d)
def t_density_d_vjp(g, ans, df, t, i, n):
    return unbroadcast(g * t_density_d(df, t, i + 1, n), df), unbroadcast(g * t_density_d(df, t, i, n + 1), t), None, None


_FINDER = when_imported(MODULE, register)
