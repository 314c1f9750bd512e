"""Bayesian linear regression with scipy.stats log-densities, fitted through scipy.optimize over a dict.

The model: y ~ Normal(X w + b, sigma), with priors w ~ Normal(0, 2), b ~ Normal(0, 5) and
sigma ~ Gamma(2, scale=0.5); the parameters live in a dict {"w", "b", "log_sigma"}. The log
posterior is written with `scipy.stats.norm.logpdf` and `scipy.stats.gamma.logpdf` directly;
s2sad differentiates them from their definitions (s2sad/rules/scipy_stats.py). The example

1. finds the posterior mode with `scipy.optimize.minimize` (trust-ncg: `jac` and `hessp` from s2sad)
   over the dict flattened by `s2sad.flatten_func`;
2. checks the gradient there against central differences, and the Hessian-vector product against
   differences of the gradient;
3. takes the Laplace approximation of the posterior (the inverse Hessian at the mode, `s2sad.hessian`)
   and prints each parameter with its posterior standard deviation beside the true values.

Needs scipy (`python3 -m pip install -e ".[examples]"`).
Run:  python3 examples/bayesian_regression.py [--fast]
"""
import argparse

import numpy as np
from scipy import optimize, stats

import s2sad


def log_posterior(params, X, y):
    w, b, log_sigma = params["w"], params["b"], params["log_sigma"]
    sigma = np.exp(log_sigma)
    likelihood = np.sum(stats.norm.logpdf(y, X @ w + b, sigma))
    prior = np.sum(stats.norm.logpdf(w, 0.0, 2.0)) + stats.norm.logpdf(b, 0.0, 5.0) \
        + stats.gamma.logpdf(sigma, 2.0, scale=0.5) + log_sigma          # (+ log_sigma: the change of variable)
    return likelihood + prior


def negative_log_posterior(params, X, y):
    return -log_posterior(params, X, y)


def main(fast=False):
    rng = np.random.default_rng(0)
    n, d = (40, 3) if fast else (200, 5)
    w_true, b_true, sigma_true = rng.normal(size=d), 0.7, 0.4
    X = rng.normal(size=(n, d))
    y = X @ w_true + b_true + sigma_true * rng.normal(size=n)

    start = {"w": np.zeros(d), "b": 0.0, "log_sigma": 0.0}
    f, unflatten, x0 = s2sad.flatten_func(negative_log_posterior, start)
    result = optimize.minimize(f, x0, args=(X, y), jac=s2sad.grad(f), hessp=s2sad.hvp(f), method="trust-ncg")
    assert result.success, result.message
    mode = unflatten(result.x)

    h = 1e-6
    differences = np.array([(f(result.x + h * e, X, y) - f(result.x - h * e, X, y)) / (2 * h) for e in np.eye(x0.size)])
    gradient = s2sad.grad(f)(result.x, X, y)
    np.testing.assert_allclose(gradient, differences, atol=1e-5)
    v = rng.normal(size=x0.size)
    hv = (s2sad.grad(f)(result.x + h * v, X, y) - s2sad.grad(f)(result.x - h * v, X, y)) / (2 * h)
    np.testing.assert_allclose(s2sad.hvp(f)(result.x, v, X, y), hv, rtol=1e-5, atol=1e-6)

    covariance = np.linalg.inv(s2sad.hessian(f)(result.x, X, y))
    sd = unflatten(np.sqrt(np.diag(covariance)))
    print(f"posterior mode after {result.nit} trust-ncg steps; |gradient| = {np.max(np.abs(gradient)):.1e} "
          f"(central differences agree)")
    print(f"{'parameter':>12} {'mode':>9} {'sd':>7} {'true':>7}")
    for k in range(d):
        print(f"{f'w[{k}]':>12} {mode['w'][k]:9.3f} {sd['w'][k]:7.3f} {w_true[k]:7.3f}")
    print(f"{'b':>12} {mode['b']:9.3f} {sd['b']:7.3f} {b_true:7.3f}")
    print(f"{'sigma':>12} {np.exp(mode['log_sigma']):9.3f} {'':>7} {sigma_true:7.3f}")
    within = np.abs(mode["w"] - w_true) < 4 * sd["w"]
    assert within.all(), "the true weights lie within four posterior standard deviations"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a smaller data set (CI)")
    main(parser.parse_args().fast)
