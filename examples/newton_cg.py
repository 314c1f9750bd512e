"""Newton-CG on the n-dimensional Rosenbrock function, with derivatives from s2sad.

scipy.optimize.minimize(method="Newton-CG") needs the gradient (jac) and Hessian-vector
products (hessp, called as hessp(x, p)). s2sad.grad(f) gives the first; s2sad.hvp(f),
called as hvp(f)(x, v) (the vector right after the argument it multiplies, as scipy passes it), gives the second by forward mode over the generated gradient code,
without ever forming the n x n Hessian. The example checks both against scipy's hand-written
rosen_der and rosen_hess_prod, then minimises with each pair and prints the iterations.

Needs scipy (`python3 -m pip install -e ".[examples]"`).
Run:  python3 examples/newton_cg.py [--fast]       (--fast: n = 10, as CI runs it)
"""
import sys
import time

import numpy as np

import s2sad


def rosenbrock(x):
    """sum of 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2; its minimum is 0 at x = (1, ..., 1)."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def main(fast=False):
    try:
        from scipy.optimize import minimize, rosen_der, rosen_hess_prod
    except ImportError:
        print('This example needs scipy: python3 -m pip install -e ".[examples]"')
        return
    n = 10 if fast else 100
    jac, hessp = s2sad.grad(rosenbrock), s2sad.hvp(rosenbrock)

    rng = np.random.default_rng(0)
    x, p = rng.standard_normal(n), rng.standard_normal(n)
    np.testing.assert_allclose(jac(x), rosen_der(x), rtol=1e-12)
    np.testing.assert_allclose(hessp(x, p), rosen_hess_prod(x, p), rtol=1e-12)
    print(f"n = {n}: s2sad's gradient and Hessian-vector product match scipy's rosen_der and rosen_hess_prod\n")

    x0 = np.linspace(-1.5, 1.5, n)
    print(f"{'derivatives':<12} {'iterations':>10} {'f evals':>8} {'gradients':>9} {'H @ p':>6} "
          f"{'max |x - 1|':>12} {'time':>8}")
    for label, (jac_fn, hessp_fn) in [("s2sad", (jac, hessp)), ("scipy", (rosen_der, rosen_hess_prod))]:
        start = time.perf_counter()
        result = minimize(rosenbrock, x0, method="Newton-CG", jac=jac_fn, hessp=hessp_fn, options={"xtol": 1e-10})
        seconds = time.perf_counter() - start
        assert result.success, result.message
        print(f"{label:<12} {result.nit:>10} {result.nfev:>8} {result.njev:>9} {result.nhev:>6} "
              f"{np.max(np.abs(result.x - 1.0)):>12.1e} {seconds * 1e3:>6.0f} ms")
    print("\n(s2sad generated its code during the check above: the times are the minimisations alone)")


if __name__ == "__main__":
    main(fast="--fast" in sys.argv[1:])
