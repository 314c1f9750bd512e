"""Derivatives of three distribution functions with respect to their shape parameters, by quadrature.

``scipy.special.gammainc(a, x)``, ``betainc(a, b, x)`` and ``stdtr(df, x)`` integrate a density p up to x: the
gamma density t^(a-1) e^-t / Γ(a) over (0, x], the beta density t^(a-1) (1-t)^(b-1) / B(a, b) over (0, x],
Student's t density over (-inf, x]. Their derivatives with respect to x are densities; with respect to the shape
parameters they have no closed form, but the derivative passes under the integral: ∂^α F = ∫ ∂^α p dt. A partial
derivative of p is p times the complete Bell polynomial (``_bell``) of the partial derivatives of log p (logs,
powers and polygammas), so one routine serves every order; the integral is taken by double-exponential
quadrature (tanh-sinh over a finite interval, exp-sinh over a half line), which keeps double precision with the
integrable log and power singularities at the ends. Where x lies past the bulk of the distribution the integral
is taken over the other side: ∂^α of ∫ p over the whole support is ∂^α 1 = 0, so ∂^α F = -∫_x^end ∂^α p, with
no cancellation.

The helpers come in pairs closed under differentiation (their rules are in rules/scipy_special.py):
``gammainc_d(a, x, i)`` is ∂_a^i gammainc(a, x) (i ≥ 1) and ``gamma_density_d(a, x, i, n)`` is ∂_a^i ∂_x^n p(x; a);
likewise ``betainc_d(a, b, x, i, j)`` / ``beta_density_d(a, b, x, i, j, n)`` and ``stdtr_d(df, x, i)`` /
``t_density_d(df, x, i, n)``. scipy is imported when one is called, never by ``import s2sad``.
"""
import itertools
import math

import numpy as np

def _tanh_sinh(h=1.0 / 24.0, top=6.0):
    """Nodes u in (0, 1), their complements 1 - u, and weights w: ∫_0^1 f ≈ Σ w f(u)."""
    tau = np.arange(-top, top + h / 2.0, h)
    s = np.pi * np.sinh(tau)
    with np.errstate(over="ignore"):
        u, v = 1.0 / (1.0 + np.exp(-s)), 1.0 / (1.0 + np.exp(s))
    return u, v, h * np.pi * np.cosh(tau) * u * v


def _exp_sinh(h=1.0 / 24.0, top=5.0):
    """Nodes s in (0, inf) and weights w: ∫_0^inf f ≈ Σ w f(s)."""
    tau = np.arange(-top, top + h / 2.0, h)
    s = np.exp(0.5 * np.pi * np.sinh(tau))
    return s, h * 0.5 * np.pi * np.cosh(tau) * s


def _log_nodes(u, v):
    """log u, accurate at both ends (from 1 - u where u is near 1)."""
    with np.errstate(divide="ignore"):
        return np.where(u < 0.5, np.log(np.maximum(u, 1e-300)), np.log1p(-v))


def _bell(ell, alpha):
    """∂^alpha exp(L) / exp(L), for L whose partial derivative ∂^beta L (|beta| ≥ 1) is ``ell(beta)``."""
    lmemo, ymemo = {}, {}

    def d(beta):
        if beta not in lmemo:
            lmemo[beta] = ell(beta)
        return lmemo[beta]

    def y(al):
        if not any(al):
            return 1.0
        if al not in ymemo:
            k = next(i for i, c in enumerate(al) if c)
            rest = al[:k] + (al[k] - 1,) + al[k + 1:]
            total = 0.0
            for beta in itertools.product(*(range(c + 1) for c in rest)):
                coef = math.prod(math.comb(r, b) for r, b in zip(rest, beta))
                up = beta[:k] + (beta[k] + 1,) + beta[k + 1:]
                total = total + coef * y(tuple(r - b for r, b in zip(rest, beta))) * d(up)
            ymemo[al] = total
        return ymemo[al]
    return y(tuple(alpha))


def _log_derivative(q):
    """∂^q log t at t = 1 times t^q: (-1)^(q-1) (q-1)!."""
    return (-1.0) ** (q - 1) * math.factorial(q - 1)


def _pointwise(fn, *args, chunk=512):
    """``fn`` on the broadcast flattened arguments, ``chunk`` points at a time (each takes a few hundred quadrature
    nodes); the result has their shape and floating dtype."""
    arrays = np.broadcast_arrays(*[np.asarray(a) for a in args])
    dtype = np.result_type(*arrays, np.float32) if all(a.dtype.kind == "f" for a in arrays) else np.float64
    flat = [a.astype(np.float64).reshape(-1) for a in arrays]
    out = np.empty(flat[0].shape, dtype=np.float64)
    for lo in range(0, out.size, chunk):
        out[lo:lo + chunk] = fn(*[f[lo:lo + chunk, None] for f in flat])
    out = out.reshape(arrays[0].shape).astype(dtype, copy=False)
    return out[()] if out.ndim == 0 else out


# --- gamma: p(t; a) = t^(a-1) e^-t / Γ(a) on t > 0; variables (a, t) ---
def _gamma_ell(a, t, log_t):
    from scipy import special

    def ell(beta):
        p, q = beta
        if q == 0:
            return log_t - special.digamma(a) if p == 1 else -special.polygamma(p - 1, a)
        if p == 0:
            return (a - 1.0) * _log_derivative(q) / t ** q - (1.0 if q == 1 else 0.0)
        return _log_derivative(q) / t ** q if p == 1 else 0.0
    return ell


def gamma_density_d(a, x, i, n):
    """∂_a^i ∂_x^n of the gamma density x^(a-1) e^-x / Γ(a) (0 for x ≤ 0)."""
    from scipy import special

    def points(a, x):
        t = np.where(x > 0.0, x, 1.0)
        log_t = np.log(t)
        value = np.exp((a - 1.0) * log_t - t - special.gammaln(a)) * _bell(_gamma_ell(a, t, log_t), (i, n))
        return np.where(x > 0.0, value, 0.0)[:, 0]
    return _pointwise(points, a, x)


def gammainc_d(a, x, i):
    """∂_a^i gammainc(a, x), i ≥ 1: ∫_0^x ∂_a^i p for x ≤ a (t = x u^(1/a) takes out t^(a-1)), -∫_x^inf beyond."""
    from scipy import special
    u, v, w = _tanh_sinh()
    s, ws = _exp_sinh()
    log_u = _log_nodes(u, v)

    def points(a, x):
        safe = np.where(x > 0.0, x, 1.0)
        log_t = np.log(safe) + log_u / a                     # lower: t = x u^(1/a)
        t = np.exp(log_t)
        lower = np.exp(a * np.log(safe) - special.gammaln(a + 1.0))[:, 0] * np.sum(
            w * np.exp(-t) * _bell(_gamma_ell(a, t, log_t), (i, 0)), axis=1)
        t = safe + s                                          # upper: t = x + s
        log_t = np.log(t)
        density = np.exp((a - 1.0) * log_t - t - special.gammaln(a))
        upper = -np.sum(ws * density * _bell(_gamma_ell(a, t, log_t), (i, 0)), axis=1)
        return np.where(x[:, 0] <= 0.0, 0.0, np.where(x[:, 0] <= a[:, 0], lower, upper))
    return _pointwise(points, a, x)


# --- beta: p(t; a, b) = t^(a-1) (1-t)^(b-1) / B(a, b) on 0 < t < 1; variables (a, b, t) ---
def _beta_ell(a, b, t, log_t, log_1mt):
    from scipy import special

    def ell(beta):
        p, r, q = beta
        if q == 0:
            if p + r == 1:
                both = special.digamma(a + b)
                return log_t - special.digamma(a) + both if p else log_1mt - special.digamma(b) + both
            return (special.polygamma(p + r - 1, a + b) - (special.polygamma(p - 1, a) if r == 0 else 0.0)
                    - (special.polygamma(r - 1, b) if p == 0 else 0.0))
        of_t = _log_derivative(q) / t ** q                     # ∂^q log t
        of_1mt = -math.factorial(q - 1) / (1.0 - t) ** q       # ∂^q log(1 - t)
        if p + r == 0:
            return (a - 1.0) * of_t + (b - 1.0) * of_1mt
        return (of_t if p else of_1mt) if p + r == 1 else 0.0
    return ell


def beta_density_d(a, b, x, i, j, n):
    """∂_a^i ∂_b^j ∂_x^n of the beta density (0 outside 0 < x < 1)."""
    from scipy import special

    def points(a, b, x):
        inside = (x > 0.0) & (x < 1.0)
        t = np.where(inside, x, 0.5)
        log_t, log_1mt = np.log(t), np.log1p(-t)
        value = (np.exp((a - 1.0) * log_t + (b - 1.0) * log_1mt - special.betaln(a, b))
                 * _bell(_beta_ell(a, b, t, log_t, log_1mt), (i, j, n)))
        return np.where(inside, value, 0.0)[:, 0]
    return _pointwise(points, a, b, x)


def betainc_d(a, b, x, i, j):
    """∂_a^i ∂_b^j betainc(a, b, x), i + j ≥ 1: ∫_0^x ∂p for x up to the mean a / (a + b) (t = x u^(1/a)),
    -∫_x^1 ∂p beyond (1 - t = (1 - x) u^(1/b))."""
    from scipy import special
    u, v, w = _tanh_sinh()
    log_u = _log_nodes(u, v)

    def points(a, b, x):
        inside = (x > 0.0) & (x < 1.0)
        safe = np.where(inside, x, 0.5)
        log_t = np.log(safe) + log_u / a                       # lower
        t = np.exp(log_t)
        log_1mt = np.log1p(-t)
        lower = np.exp(a * np.log(safe) - np.log(a) - special.betaln(a, b))[:, 0] * np.sum(
            w * np.exp((b - 1.0) * log_1mt) * _bell(_beta_ell(a, b, t, log_t, log_1mt), (i, j, 0)), axis=1)
        log_1mt = np.log1p(-safe) + log_u / b                  # upper
        r = np.exp(log_1mt)
        log_t = np.log1p(-r)
        upper = -np.exp(b * np.log1p(-safe) - np.log(b) - special.betaln(a, b))[:, 0] * np.sum(
            w * np.exp((a - 1.0) * log_t) * _bell(_beta_ell(a, b, 1.0 - r, log_t, log_1mt), (i, j, 0)), axis=1)
        return np.where(inside[:, 0], np.where(x[:, 0] <= (a / (a + b))[:, 0], lower, upper), 0.0)
    return _pointwise(points, a, b, x)


# --- Student's t: p(t; df) = Γ((df+1)/2) / (Γ(df/2) sqrt(df π)) (1 + t²/df)^(-(df+1)/2); variables (df, t) ---
def _rising(p, r):
    return math.prod(range(p, p + r))


def _t_ell(df, t):
    """log p = gammaln((df+1)/2) - gammaln(df/2) - log(π)/2 + (df/2) log df - ((df+1)/2) log(df + t²); the
    derivatives of log(df + t²) through z = t + i sqrt(df), df + t² = z z̄."""
    from scipy import special
    z = t + 1j * np.sqrt(df)

    def m(p, q):                       # ∂_df^p ∂_t^q log(df + t²)
        if p == 0:
            return np.log(df + t * t) if q == 0 else 2.0 * _log_derivative(q) * np.real(z ** -q)
        total = sum(math.comb(q, r) * _rising(p, r) * _rising(p, q - r) * np.real(z ** -(p + r) * np.conj(z) ** -(p + q - r))
                    for r in range(q + 1))
        return _log_derivative(p) * (-1.0) ** q * total

    def ell(beta):
        p, q = beta
        value = -0.5 * (df + 1.0) * m(p, q) - (0.5 * p * m(p - 1, q) if p else 0.0)
        if q == 0:
            value = value + 2.0 ** -p * (special.polygamma(p - 1, 0.5 * (df + 1.0)) - special.polygamma(p - 1, 0.5 * df))
            value = value + (0.5 * (np.log(df) + 1.0) if p == 1 else 0.5 * (-1.0) ** p * math.factorial(p - 2) * df ** (1 - p))
        return value
    return ell


def _t_density(df, t):
    from scipy import special
    return np.exp(special.gammaln(0.5 * (df + 1.0)) - special.gammaln(0.5 * df) - 0.5 * np.log(df * np.pi)
                  - 0.5 * (df + 1.0) * np.log1p(t * t / df))


def t_density_d(df, x, i, n):
    """∂_df^i ∂_x^n of Student's t density."""
    return _pointwise(lambda df, x: (_t_density(df, x) * _bell(_t_ell(df, x), (i, n)))[:, 0], df, x)


def stdtr_d(df, x, i):
    """∂_df^i stdtr(df, x), i ≥ 1: the tail ∫_|x|^inf ∂p (p and its df-derivatives are even in t): that for x < 0,
    minus it for x ≥ 0."""
    s, ws = _exp_sinh()

    def points(df, x):
        t = np.abs(x) + s
        tail = np.sum(ws * _t_density(df, t) * _bell(_t_ell(df, t), (i, 0)), axis=1)
        return np.where(x[:, 0] < 0.0, tail, -tail)
    return _pointwise(points, df, x)
