"""``scipy.stats`` distributions, differentiated from definitions written here in NumPy and ``scipy.special``.

``norm.logpdf(x, loc, scale)`` (``from scipy.stats import norm``, or ``scipy.stats.norm``, or
``stats.norm``) is read as ``norm_logpdf(x, loc, scale)`` below: a plain function s2sad differentiates
from its source like the user's own, so every argument (``x``, ``loc``, ``scale``, shapes) gets its
derivative, in both modes and to any order, through functions that have rules. Each definition
gives scipy's value (tests/test_scipy_stats.py compares them). The cdfs of the gamma, beta and t
distributions (and of the Poisson and binomial, through them) go through ``scipy.special.gammainc``,
``betainc`` and ``stdtr``, whose derivatives with respect to the shape parameters are taken by quadrature
(s2sad/incomplete.py). A method not defined here (``rvs``, ``ppf``, ``multivariate_normal.cdf``) has no
derivative: it is refused where a differentiated value reaches it.

Registered with the resolver (rules/registry.py ``definer``) when s2sad is imported, without importing
scipy: the definitions are looked up only when user code names a scipy.stats distribution.
"""
import sys

import numpy as np

from ..calls import SOURCE_MARK
from ..runtime import scipy_value
from .registry import definer, explainer

special = None          # scipy.special, set at the first lookup (the definitions' bodies read it)
LOG_2PI = np.log(2.0 * np.pi)


# --- continuous ---
def norm_logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scipy_value(-0.5 * z * z - np.log(scale) - 0.5 * LOG_2PI, "norm", "logpdf", (x, loc, scale,))


def norm_pdf(x, loc=0.0, scale=1.0):
    return scipy_value(np.exp(norm_logpdf(x, loc, scale)), "norm", "pdf", (x, loc, scale,))


def norm_cdf(x, loc=0.0, scale=1.0):
    return scipy_value(special.ndtr((x - loc) / scale), "norm", "cdf", (x, loc, scale,))


def norm_logcdf(x, loc=0.0, scale=1.0):
    return scipy_value(special.log_ndtr((x - loc) / scale), "norm", "logcdf", (x, loc, scale,))


def norm_sf(x, loc=0.0, scale=1.0):
    return scipy_value(special.ndtr((loc - x) / scale), "norm", "sf", (x, loc, scale,))


def norm_logsf(x, loc=0.0, scale=1.0):
    return scipy_value(special.log_ndtr((loc - x) / scale), "norm", "logsf", (x, loc, scale,))


def t_logpdf(x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scipy_value((special.gammaln(0.5 * (df + 1.0)) - special.gammaln(0.5 * df) - 0.5 * np.log(df * np.pi)
            - np.log(scale) - 0.5 * (df + 1.0) * np.log1p(z * z / df)), "t", "logpdf", (x, df, loc, scale,))


def t_pdf(x, df, loc=0.0, scale=1.0):
    return scipy_value(np.exp(t_logpdf(x, df, loc, scale)), "t", "pdf", (x, df, loc, scale,))


def t_cdf(x, df, loc=0.0, scale=1.0):
    return scipy_value(special.stdtr(df, (x - loc) / scale), "t", "cdf", (x, df, loc, scale,))


def t_logcdf(x, df, loc=0.0, scale=1.0):
    return scipy_value(np.log(t_cdf(x, df, loc, scale)), "t", "logcdf", (x, df, loc, scale,))


def t_sf(x, df, loc=0.0, scale=1.0):
    return scipy_value(special.stdtr(df, (loc - x) / scale), "t", "sf", (x, df, loc, scale,))


def t_logsf(x, df, loc=0.0, scale=1.0):
    return scipy_value(np.log(t_sf(x, df, loc, scale)), "t", "logsf", (x, df, loc, scale,))


def expon_logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scipy_value(np.where(z >= 0.0, -z - np.log(scale), -np.inf), "expon", "logpdf", (x, loc, scale,))


def expon_pdf(x, loc=0.0, scale=1.0):
    return scipy_value(np.exp(expon_logpdf(x, loc, scale)), "expon", "pdf", (x, loc, scale,))


def expon_cdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scipy_value(np.where(z >= 0.0, -np.expm1(-np.maximum(z, 0.0)), 0.0), "expon", "cdf", (x, loc, scale,))


def expon_logcdf(x, loc=0.0, scale=1.0):
    return scipy_value(np.log(expon_cdf(x, loc, scale)), "expon", "logcdf", (x, loc, scale,))


def expon_sf(x, loc=0.0, scale=1.0):
    return scipy_value(np.exp(expon_logsf(x, loc, scale)), "expon", "sf", (x, loc, scale,))


def expon_logsf(x, loc=0.0, scale=1.0):
    return scipy_value(-np.maximum((x - loc) / scale, 0.0), "expon", "logsf", (x, loc, scale,))


def laplace_logpdf(x, loc=0.0, scale=1.0):
    return scipy_value(-np.abs((x - loc) / scale) - np.log(2.0 * scale), "laplace", "logpdf", (x, loc, scale,))


def laplace_pdf(x, loc=0.0, scale=1.0):
    return scipy_value(np.exp(laplace_logpdf(x, loc, scale)), "laplace", "pdf", (x, loc, scale,))


def laplace_cdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scipy_value(np.where(z < 0.0, 0.5 * np.exp(np.minimum(z, 0.0)), 1.0 - 0.5 * np.exp(-np.maximum(z, 0.0))), "laplace", "cdf", (x, loc, scale,))


def laplace_logcdf(x, loc=0.0, scale=1.0):
    return scipy_value(np.log(laplace_cdf(x, loc, scale)), "laplace", "logcdf", (x, loc, scale,))


def laplace_sf(x, loc=0.0, scale=1.0):
    return scipy_value(laplace_cdf(2.0 * loc - x, loc, scale), "laplace", "sf", (x, loc, scale,))


def laplace_logsf(x, loc=0.0, scale=1.0):
    return scipy_value(np.log(laplace_sf(x, loc, scale)), "laplace", "logsf", (x, loc, scale,))


def cauchy_logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scipy_value(-np.log(np.pi * scale) - np.log1p(z * z), "cauchy", "logpdf", (x, loc, scale,))


def cauchy_pdf(x, loc=0.0, scale=1.0):
    return scipy_value(np.exp(cauchy_logpdf(x, loc, scale)), "cauchy", "pdf", (x, loc, scale,))


def cauchy_cdf(x, loc=0.0, scale=1.0):
    return scipy_value(0.5 + np.arctan((x - loc) / scale) / np.pi, "cauchy", "cdf", (x, loc, scale,))


def cauchy_logcdf(x, loc=0.0, scale=1.0):
    return scipy_value(np.log(cauchy_cdf(x, loc, scale)), "cauchy", "logcdf", (x, loc, scale,))


def cauchy_sf(x, loc=0.0, scale=1.0):
    return scipy_value(0.5 - np.arctan((x - loc) / scale) / np.pi, "cauchy", "sf", (x, loc, scale,))


def cauchy_logsf(x, loc=0.0, scale=1.0):
    return scipy_value(np.log(cauchy_sf(x, loc, scale)), "cauchy", "logsf", (x, loc, scale,))


def logistic_logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scipy_value(-z - 2.0 * np.logaddexp(0.0, -z) - np.log(scale), "logistic", "logpdf", (x, loc, scale,))


def logistic_pdf(x, loc=0.0, scale=1.0):
    return scipy_value(np.exp(logistic_logpdf(x, loc, scale)), "logistic", "pdf", (x, loc, scale,))


def logistic_cdf(x, loc=0.0, scale=1.0):
    return scipy_value(special.expit((x - loc) / scale), "logistic", "cdf", (x, loc, scale,))


def logistic_logcdf(x, loc=0.0, scale=1.0):
    return scipy_value(-np.logaddexp(0.0, -(x - loc) / scale), "logistic", "logcdf", (x, loc, scale,))


def logistic_sf(x, loc=0.0, scale=1.0):
    return scipy_value(special.expit(-(x - loc) / scale), "logistic", "sf", (x, loc, scale,))


def logistic_logsf(x, loc=0.0, scale=1.0):
    return scipy_value(-np.logaddexp(0.0, (x - loc) / scale), "logistic", "logsf", (x, loc, scale,))


def gamma_logpdf(x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scipy_value(special.xlogy(a - 1.0, z) - z - special.gammaln(a) - np.log(scale), "gamma", "logpdf", (x, a, loc, scale,))


def gamma_pdf(x, a, loc=0.0, scale=1.0):
    return scipy_value(np.exp(gamma_logpdf(x, a, loc, scale)), "gamma", "pdf", (x, a, loc, scale,))


def gamma_cdf(x, a, loc=0.0, scale=1.0):
    return scipy_value(special.gammainc(a, np.maximum((x - loc) / scale, 0.0)), "gamma", "cdf", (x, a, loc, scale,))


def gamma_logcdf(x, a, loc=0.0, scale=1.0):
    return scipy_value(np.log(gamma_cdf(x, a, loc, scale)), "gamma", "logcdf", (x, a, loc, scale,))


def gamma_sf(x, a, loc=0.0, scale=1.0):
    return scipy_value(special.gammaincc(a, np.maximum((x - loc) / scale, 0.0)), "gamma", "sf", (x, a, loc, scale,))


def gamma_logsf(x, a, loc=0.0, scale=1.0):
    return scipy_value(np.log(gamma_sf(x, a, loc, scale)), "gamma", "logsf", (x, a, loc, scale,))


def beta_logpdf(x, a, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scipy_value((special.xlogy(a - 1.0, z) + special.xlog1py(b - 1.0, -z) - special.gammaln(a) - special.gammaln(b)
            + special.gammaln(a + b) - np.log(scale)), "beta", "logpdf", (x, a, b, loc, scale,))


def beta_pdf(x, a, b, loc=0.0, scale=1.0):
    return scipy_value(np.exp(beta_logpdf(x, a, b, loc, scale)), "beta", "pdf", (x, a, b, loc, scale,))


def beta_cdf(x, a, b, loc=0.0, scale=1.0):
    return scipy_value(special.betainc(a, b, np.clip((x - loc) / scale, 0.0, 1.0)), "beta", "cdf", (x, a, b, loc, scale,))


def beta_logcdf(x, a, b, loc=0.0, scale=1.0):
    return scipy_value(np.log(beta_cdf(x, a, b, loc, scale)), "beta", "logcdf", (x, a, b, loc, scale,))


def beta_sf(x, a, b, loc=0.0, scale=1.0):
    return scipy_value(special.betainc(b, a, np.clip((loc + scale - x) / scale, 0.0, 1.0)), "beta", "sf", (x, a, b, loc, scale,))


def beta_logsf(x, a, b, loc=0.0, scale=1.0):
    return scipy_value(np.log(beta_sf(x, a, b, loc, scale)), "beta", "logsf", (x, a, b, loc, scale,))


# --- discrete (derivatives with respect to the continuous parameters) ---
def poisson_logpmf(k, mu, loc=0):
    k = k - loc
    return scipy_value(special.xlogy(k, mu) - special.gammaln(k + 1.0) - mu, "poisson", "logpmf", (k, mu, loc,))


def poisson_pmf(k, mu, loc=0):
    return scipy_value(np.exp(poisson_logpmf(k, mu, loc)), "poisson", "pmf", (k, mu, loc,))


def poisson_cdf(k, mu, loc=0):
    k = np.floor(k - loc)
    return scipy_value(np.where(k >= 0.0, special.gammaincc(np.maximum(k, 0.0) + 1.0, mu), 0.0), "poisson", "cdf", (k, mu, loc,))


def poisson_logcdf(k, mu, loc=0):
    return scipy_value(np.log(poisson_cdf(k, mu, loc)), "poisson", "logcdf", (k, mu, loc,))


def poisson_sf(k, mu, loc=0):
    k = np.floor(k - loc)
    return scipy_value(np.where(k >= 0.0, special.gammainc(np.maximum(k, 0.0) + 1.0, mu), 1.0), "poisson", "sf", (k, mu, loc,))


def poisson_logsf(k, mu, loc=0):
    return scipy_value(np.log(poisson_sf(k, mu, loc)), "poisson", "logsf", (k, mu, loc,))


def bernoulli_logpmf(k, p, loc=0):
    k = k - loc
    return scipy_value(special.xlogy(k, p) + special.xlog1py(1.0 - k, -p), "bernoulli", "logpmf", (k, p, loc,))


def bernoulli_pmf(k, p, loc=0):
    return scipy_value(np.exp(bernoulli_logpmf(k, p, loc)), "bernoulli", "pmf", (k, p, loc,))


def bernoulli_cdf(k, p, loc=0):
    k = k - loc
    return scipy_value(np.where(k < 0.0, 0.0, np.where(k < 1.0, 1.0 - p, 1.0)), "bernoulli", "cdf", (k, p, loc,))


def bernoulli_sf(k, p, loc=0):
    k = k - loc
    return scipy_value(np.where(k < 0.0, 1.0, np.where(k < 1.0, p, 0.0)), "bernoulli", "sf", (k, p, loc,))


def bernoulli_logcdf(k, p, loc=0):
    return scipy_value(np.log(bernoulli_cdf(k, p, loc)), "bernoulli", "logcdf", (k, p, loc,))


def bernoulli_logsf(k, p, loc=0):
    return scipy_value(np.log(bernoulli_sf(k, p, loc)), "bernoulli", "logsf", (k, p, loc,))


def binom_logpmf(k, n, p, loc=0):
    k = k - loc
    return scipy_value((special.gammaln(n + 1.0) - special.gammaln(k + 1.0) - special.gammaln(n - k + 1.0)
            + special.xlogy(k, p) + special.xlog1py(n - k, -p)), "binom", "logpmf", (k, n, p, loc,))


def binom_pmf(k, n, p, loc=0):
    return scipy_value(np.exp(binom_logpmf(k, n, p, loc)), "binom", "pmf", (k, n, p, loc,))


def binom_cdf(k, n, p, loc=0):
    k = np.floor(k - loc)
    inner = np.clip(k, 0.0, n - 1.0)
    return scipy_value(np.where(k < 0.0, 0.0, np.where(k >= n, 1.0, special.betainc(n - inner, inner + 1.0, 1.0 - p))), "binom", "cdf", (k, n, p, loc,))


def binom_logcdf(k, n, p, loc=0):
    return scipy_value(np.log(binom_cdf(k, n, p, loc)), "binom", "logcdf", (k, n, p, loc,))


def binom_sf(k, n, p, loc=0):
    k = np.floor(k - loc)
    inner = np.clip(k, 0.0, n - 1.0)
    return scipy_value(np.where(k < 0.0, 1.0, np.where(k >= n, 0.0, special.betainc(inner + 1.0, n - inner, p))), "binom", "sf", (k, n, p, loc,))


def binom_logsf(k, n, p, loc=0):
    return scipy_value(np.log(binom_sf(k, n, p, loc)), "binom", "logsf", (k, n, p, loc,))


# --- multivariate ---
def multivariate_normal_logpdf(x, mean=0.0, cov=1.0):
    deviation = x - mean
    d = np.shape(deviation)[-1]
    if np.ndim(cov) == 0:
        covariance = cov * np.eye(d)
    elif np.ndim(cov) == 1:                              # (scipy: the diagonal)
        covariance = np.diag(cov)
    else:                                                # (scipy reads the lower triangle only)
        covariance = np.tril(cov) + np.swapaxes(np.tril(cov, -1), -1, -2)
    solved = np.swapaxes(np.linalg.solve(covariance, np.swapaxes(np.atleast_2d(deviation), -1, -2)), -1, -2)
    distance = np.sum(np.reshape(solved, np.shape(deviation)) * deviation, axis=-1)
    return scipy_value(-0.5 * (d * LOG_2PI + np.linalg.slogdet(covariance)[1] + distance), "multivariate_normal", "logpdf", (x, mean, cov,))


def multivariate_normal_pdf(x, mean=0.0, cov=1.0):
    return scipy_value(np.exp(multivariate_normal_logpdf(x, mean, cov)), "multivariate_normal", "pdf", (x, mean, cov,))


def dirichlet_logpdf(x, alpha):
    return scipy_value((np.sum(special.xlogy(alpha - 1.0, x), axis=0) + special.gammaln(np.sum(alpha))
            - np.sum(special.gammaln(alpha))), "dirichlet", "logpdf", (x, alpha,))


def dirichlet_pdf(x, alpha):
    return scipy_value(np.exp(dirichlet_logpdf(x, alpha)), "dirichlet", "pdf", (x, alpha,))


DISTRIBUTIONS = ("norm", "t", "expon", "laplace", "cauchy", "logistic", "gamma", "beta", "poisson", "bernoulli",
                 "binom", "multivariate_normal", "dirichlet")
METHODS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "logpmf", "pmf")
DEFINITIONS = {}
for _dist in DISTRIBUTIONS:
    for _method in METHODS:
        _fn = globals().get(f"{_dist}_{_method}")
        if _fn is not None:
            setattr(_fn, SOURCE_MARK, True)
            DEFINITIONS[(_dist, _method)] = _fn


@definer
def define(obj, attr):
    """The definition of ``obj.attr`` for a distribution object of ``scipy.stats`` (None: not one of ours)."""
    global special
    if not (type(obj).__module__ or "").startswith("scipy.stats") or attr.startswith("_"):
        return None
    stats = sys.modules.get("scipy.stats")
    name = getattr(obj, "name", None) or type(obj).__name__.replace("_gen", "")
    if stats is None or getattr(stats, name, None) is not obj:
        return None                                      # a frozen distribution, a user's subclass: not these
    if special is None:
        import scipy.special
        special = scipy.special
    found = DEFINITIONS.get((name, attr))
    if found is None and callable(getattr(obj, attr, None)):
        return getattr(obj, attr)           # (a library method: refused where a differentiated value reaches it)
    return found


@explainer
def explain(obj, label):
    """Why a scipy.stats distribution (called: a frozen distribution) or one of its other methods has no derivative."""
    owner = getattr(obj, "__self__", obj)
    if not (type(owner).__module__ or "").startswith("scipy.stats"):
        return None
    name = getattr(owner, "name", None) or type(owner).__name__.replace("_gen", "")
    defined = ", ".join(method for dist, method in DEFINITIONS if dist == name)
    if owner is obj:
        return (f"cannot differentiate `{label}(...)`: a frozen scipy.stats distribution has no derivative in s2sad",
                f"call the method with the parameters instead: `{label}.{(defined or 'logpdf').split(',')[0]}(x, ...)`")
    method = getattr(obj, "__name__", label.rsplit(".", 1)[-1])
    return (f"cannot differentiate `{label}`: s2sad has no derivative for scipy.stats {name}.{method}"
            + (f" (it has {defined})" if defined else ""),
            f"register a rule with `@s2sad.rules.vjp({label})`, or write the function with NumPy and scipy.special")
