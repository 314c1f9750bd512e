"""Newton-CG on the n-dimensional Rosenbrock function, with derivatives from s2sad.

scipy.optimize.minimize(method="Newton-CG") needs the gradient (jac) and Hessian-vector
products (hessp, called as hessp(x, p)). s2sad.grad(f) gives the first; s2sad.hvp(f),
called as hvp(f)(x, v) (the vector right after the argument it multiplies, as scipy passes it),
gives the second by forward mode over the generated gradient code, without ever forming the
n x n Hessian. The example checks both against central finite differences
(of f and of the gradient; it prints the largest relative errors) and against scipy's hand-written
rosen_der and rosen_hess_prod, then minimises with each pair and prints the iterations. It plots
the path of Newton-CG on the 2-d Rosenbrock function's contours, and the function value per
iteration in n dimensions, to docs/gallery/newton_cg.png when matplotlib is installed.

Needs scipy (`python3 -m pip install -e ".[examples]"`, which installs matplotlib too).
Run:  python3 examples/newton_cg.py [--fast] [--out PATH]
      (--fast: n = 10, as CI runs it; its plot goes to a temporary directory unless --out is given)
"""
import argparse
import os
import tempfile
import time

import numpy as np

import s2sad


def rosenbrock(x):
    """sum of 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2; its minimum is 0 at x = (1, ..., 1)."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def main(fast=False, out=None):
    try:
        from scipy.optimize import minimize, rosen_der, rosen_hess_prod
    except ImportError:
        print('This example needs scipy: python3 -m pip install -e ".[examples]"')
        return
    n = 10 if fast else 100
    jac, hessp = s2sad.grad(rosenbrock), s2sad.hvp(rosenbrock)

    rng = np.random.default_rng(0)
    x, p = rng.standard_normal(n), rng.standard_normal(n)
    h, basis = 1e-6, np.eye(n)
    differences = np.array([(rosenbrock(x + h * e) - rosenbrock(x - h * e)) / (2 * h) for e in basis])
    error = np.max(np.abs(jac(x) - differences)) / np.max(np.abs(differences))
    print(f"gradient vs central differences: max relative error {error:.1e}")
    assert error < 1e-6, error
    differences = (jac(x + h * p) - jac(x - h * p)) / (2 * h)
    error = np.max(np.abs(hessp(x, p) - differences)) / np.max(np.abs(differences))
    print(f"Hessian-vector product vs differences of gradients: max relative error {error:.1e}")
    assert error < 1e-6, error
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

    paths = {}
    for size, start in [(2, np.array([-1.2, 1.0])), (n, x0)]:
        path = [start]
        minimize(rosenbrock, start, method="Newton-CG", jac=jac, hessp=hessp, options={"xtol": 1e-10},
                 callback=lambda xk: path.append(np.copy(xk)))
        paths[size] = np.array(path)
    plot(paths[2], paths[n], out or default_out("newton_cg", fast))


def plot(path2, path_n, out):
    try:
        import matplotlib
    except ImportError:
        print('\nmatplotlib is not installed, so no plot: python3 -m pip install -e ".[examples]"')
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.3, 1]})
    x1, x2 = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-1, 3, 200))
    values = 100.0 * (x2 - x1 ** 2) ** 2 + (1.0 - x1) ** 2
    left.contour(x1, x2, np.log10(values + 1e-3), levels=20, cmap="viridis", linewidths=0.8)
    left.plot(path2[:, 0], path2[:, 1], "o-", color="tab:red", ms=4, lw=1.5,
              label=f"Newton-CG ({len(path2) - 1} steps)")
    left.plot(1.0, 1.0, "k*", ms=12, label="minimum (1, 1)")
    left.set_xlabel("x1")
    left.set_ylabel("x2")
    left.set_title("2-d Rosenbrock: contours of log10 f and the path")
    left.legend(loc="lower right", fontsize=9)
    right.semilogy([rosenbrock(x) + 1e-300 for x in path_n], "o-", ms=3)
    right.set_xlabel("Newton-CG iteration")
    right.set_title(f"f in {path_n.shape[1]} dimensions")
    right.grid(alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=72)
    print(f"\nplot written to {out}")


def default_out(name, fast):
    """docs/gallery/<name>.png; a temporary file in fast mode, so that CI leaves the pictures alone."""
    if fast:
        return os.path.join(tempfile.gettempdir(), "s2sad-gallery", f"{name}.png")
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "gallery", f"{name}.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="n = 10 (CI)")
    parser.add_argument("--out", help="where to write the plot (default: docs/gallery/newton_cg.png)")
    args = parser.parse_args()
    main(args.fast, args.out)
