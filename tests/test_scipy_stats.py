"""scipy.stats distributions (s2sad/rules/scipy_stats.py): each method s2sad defines gives scipy's value, and
its derivatives with respect to every continuous argument match central differences, in both modes and at
second order (check_grads). Skipped when scipy is missing."""

import numpy as np
import pytest

import s2sad
from s2sad.rules import scipy_stats
from s2sad.testing import check_grads

from .directional import assert_reads_the_lower_triangle
from .sources import load_module

stats = pytest.importorskip("scipy.stats")

X = np.array([0.35, 1.2, 2.6])            # inside every support used below
P = np.array([0.2, 0.7])
K = np.array([0.0, 1.0, 3.0])
# (distribution, method, arguments: data first, then the parameters; the indices differentiated)
CASES = [
    ("norm", m, (np.array([-0.7, 0.2, 1.9]), 0.3, 1.4), (0, 1, 2)) for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
] + [
    ("t", m, (np.array([-0.7, 0.2, 1.9]), 3.5, 0.3, 1.4), (0, 1, 2, 3))
    for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
] + [
    (d, m, (X, 0.1, 1.3), (0, 1, 2)) for d in ("expon", "laplace", "cauchy", "logistic")
    for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
    if (d, m) != ("laplace", "logsf")     # linear in x beyond loc: a zero Hessian, whose symmetry check is noise
] + [
    (d, m, (np.array([-2.0, -0.3, 0.8]), 0.1, 1.3), (0, 1, 2)) for d in ("laplace", "cauchy", "logistic")
    for m in ("cdf", "logcdf", "sf", "logsf")                                       # both sides of loc
] + [
    ("gamma", m, (X, 2.5, 0.1, 1.3), (0, 1, 2, 3)) for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
] + [
    ("gamma", m, (np.array([0.05, 0.4, 7.0]), 0.6), (0, 1)) for m in ("cdf", "sf")      # a < 1, x either side of a
] + [
    ("beta", m, (np.array([0.2, 0.55, 0.9]), 2.5, 1.7), (0, 1, 2))
    for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
] + [
    ("beta", m, (np.array([0.03, 0.5, 0.97]), 0.7, 0.4, -0.01, 1.05), (0, 1, 2, 3, 4)) for m in ("cdf", "sf")
] + [
    ("poisson", m, (K, 2.3), (1,)) for m in ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf")
] + [
    ("bernoulli", m, (np.array([0.0, 1.0, 1.0]), 0.3), (1,)) for m in ("logpmf", "pmf")
] + [
    ("bernoulli", "cdf", (np.array([-1.0, 0.0, 0.5]), 0.3), (1,)),
    ("bernoulli", "logcdf", (np.array([0.0, 0.5, 2.0]), 0.3), (1,))
] + [
    ("bernoulli", m, (np.array([0.0, 0.5, -2.0]), 0.3), (1,)) for m in ("sf", "logsf")
] + [
    ("binom", m, (K, 5.0, 0.35), (2,)) for m in ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf")
]


def _module(tmp_path, dist, method, n):
    params = ", ".join(f"a{i}" for i in range(n))
    text = (f"import numpy as np\nfrom scipy import stats\n\n\ndef f({params}, w):\n"
            f"    return np.sum(stats.{dist}.{method}({params}) * w)\n")
    return load_module(tmp_path / f"stats_{dist}_{method}.py", text).f


@pytest.mark.parametrize("dist, method, args, wrt", CASES, ids=[f"{d}.{m}" for d, m, _, _ in CASES])
def test_distribution_value_and_derivatives(dist, method, args, wrt, tmp_path):
    ours = scipy_stats.DEFINITIONS[(dist, method)]
    scipy_stats.define(getattr(stats, dist), method)          # (sets scipy.special for the definitions)
    np.testing.assert_allclose(ours(*args), getattr(getattr(stats, dist), method)(*args), rtol=1e-12, atol=1e-14)
    f = _module(tmp_path, dist, method, len(args))
    w = np.array([0.5, -1.0, 2.0])
    check_grads(f, args + (w,), wrt=wrt, order=2)


def test_multivariate_normal_and_dirichlet():
    mvn, dirichlet = stats.multivariate_normal, stats.dirichlet
    C = np.array([[2.0, 0.3], [0.3, 1.0]])
    Xs = np.array([[0.5, 1.0], [-1.0, 0.2], [0.0, 0.0]])
    m = np.array([0.1, -0.2])
    ours = scipy_stats.DEFINITIONS
    assert scipy_stats.define(dirichlet, "logpdf") is ours[("dirichlet", "logpdf")]   # the first lookup binds
    # the definitions' scipy.special (without it this test passed only after another test had looked one up)
    np.testing.assert_allclose(ours[("multivariate_normal", "logpdf")](Xs, m, C), mvn.logpdf(Xs, m, C), rtol=1e-12)
    np.testing.assert_allclose(ours[("multivariate_normal", "logpdf")](Xs[0], m, C), mvn.logpdf(Xs[0], m, C), rtol=1e-12)
    np.testing.assert_allclose(ours[("multivariate_normal", "logpdf")](Xs, m, 1.5), mvn.logpdf(Xs, m, 1.5), rtol=1e-12)
    alpha, x = np.array([1.5, 2.0, 3.5]), np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(ours[("dirichlet", "logpdf")](x, alpha), dirichlet.logpdf(x, alpha), rtol=1e-12)
    check_grads(mvn_total, (m, Xs, C), wrt=(0, 1, 2), order=2)
    check_grads(dirichlet_total, (alpha, x), wrt=(0, 1), order=2)


def mvn_total(m, Xs, C):
    S = C @ C.T                                        # any C gives a positive definite covariance
    return np.sum(stats.multivariate_normal.logpdf(Xs, m, S))


def dirichlet_total(alpha, x):
    return stats.dirichlet.logpdf(x / np.sum(x), alpha)


def bayesian_log_posterior(params, x):
    mu, log_sigma = params
    return np.sum(stats.norm.logpdf(x, mu, np.exp(log_sigma))) + stats.norm.logpdf(mu, 0.0, 10.0) \
        + stats.gamma.logpdf(np.exp(log_sigma), 2.0) + log_sigma


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_method_without_a_definition_or_a_frozen_distribution_is_refused_by_name(mode):
    derivative = (lambda f: s2sad.grad(f)(0.5)) if mode == "reverse" else (lambda f: s2sad.jvp(f, (0.5,), (1.0,)))
    for f, message in [(draws, r"`stats.norm.rvs`: s2sad has no derivative for scipy.stats norm.rvs \(it has logpdf"),
                       (quantile, r"`stats.t.ppf`: s2sad has no derivative for scipy.stats t.ppf"),
                       (frozen, r"`stats.norm\(...\)`: a frozen scipy.stats distribution")]:
        with pytest.raises(s2sad.errors.NoRuleError, match=message):
            derivative(f)


def draws(mu):
    return np.sum(stats.norm.rvs(mu, 1.0, size=3, random_state=0))


def quantile(mu):
    return stats.t.ppf(0.3, 4.0, mu)


def frozen(mu):
    return stats.norm(mu, 1.0).logpdf(0.3)


def noise_and_constants(mu):
    eps = stats.norm.rvs(size=3, random_state=0)
    return np.sum((mu + eps) ** 2) * stats.norm.ppf(0.3)


def test_methods_without_a_definition_run_where_nothing_differentiated_reaches_them():
    eps = stats.norm.rvs(size=3, random_state=0)
    expected = 2.0 * np.sum(0.5 + eps) * stats.norm.ppf(0.3)
    np.testing.assert_allclose(s2sad.grad(noise_and_constants)(0.5), expected, rtol=1e-12)
    np.testing.assert_allclose(s2sad.jvp(noise_and_constants, (0.5,), (1.0,))[1], expected, rtol=1e-12)


def test_a_log_posterior_of_several_distributions_against_differences():
    x = np.array([0.3, -1.0])
    g1 = s2sad.grad(bayesian_log_posterior)((0.2, 0.1), x)
    h = 1e-6
    fd = [(bayesian_log_posterior((0.2 + h * e0, 0.1 + h * e1), x) - bayesian_log_posterior((0.2 - h * e0, 0.1 - h * e1), x))
          / (2 * h) for e0, e1 in ((1, 0), (0, 1))]
    np.testing.assert_allclose(g1, fd, rtol=1e-6)


def gamma_density(x, a):
    return np.sum(stats.gamma.logpdf(x, a))


def poisson_mass(mu):
    return np.sum(stats.poisson.pmf(np.array([0.5, 2.0]), mu))


def mvn_of_cov(cov):
    return stats.multivariate_normal.logpdf(np.array([0.3, -0.2, 0.5]), np.zeros(3), cov)


def test_where_scipy_checks_fail_the_definitions_are_refused():
    """The definitions leave scipy's checks out (the support, integer counts, valid parameters): where scipy's
    value differs (a logpdf of -inf where the definition gave nan, a pmf of 0 at a non-integer count), refused,
    never a number scipy does not give. Inside, the same value and derivatives."""
    x = np.array([0.5, 1.5])
    np.testing.assert_allclose(s2sad.value_and_grad(gamma_density)(x, 2.0)[0], gamma_density(x, 2.0))
    with pytest.raises(s2sad.S2SadError, match="scipy's checks"):
        s2sad.grad(gamma_density)(np.array([0.5, -1.0]), 2.0)
    with pytest.raises(s2sad.S2SadError, match="scipy's checks"):
        s2sad.grad(poisson_mass)(1.3)
    with pytest.raises(s2sad.S2SadError, match="scipy's checks"):
        s2sad.jvp(poisson_mass, (1.3,), (1.0,))


def test_multivariate_normal_reads_the_lower_triangle_of_its_covariance():
    """scipy reads cov's lower triangle (as eigh(lower=True)): the gradient has none above the diagonal, and along
    any direction it is the central difference's."""
    assert_reads_the_lower_triangle(mvn_of_cov, np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]]))
