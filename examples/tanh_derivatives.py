"""The first six derivatives of tanh, two ways: s2sad.elementwise_grad nested six deep over np.tanh
(the whole grid of points in one call, as Autograd's tutorial plots it), and s2sad.grad applied to
its own output six times over math.tanh (one point at a time).

grad(f) is a generated Python function, so grad(grad(f)) differentiates that code, and so
on. The example times each order (building the k-th derivative transforms the code of the
(k-1)-th, which grows with k), checks both routes against the closed forms
d^k tanh/dx^k = P_k(tanh x), with P_0(t) = t and P_{k+1}(t) = P_k'(t) (1 - t^2), and plots
the derivatives on [-3, 3] to docs/gallery/tanh_derivatives.png when matplotlib is installed
(`python3 -m pip install -e ".[examples]"`).

Run:  python3 examples/tanh_derivatives.py [--fast] [--out PATH]
      (--fast: orders 1-4 on a coarse grid, as CI runs it; its plot goes to a temporary directory
      unless --out is given)
"""
import argparse
import math
import os
import tempfile
import time

import numpy as np
from numpy.polynomial import Polynomial

import s2sad


def f(x):
    return math.tanh(x)


def derivatives(order):
    """[f', f'', ...] up to ``order``, each one grad of the previous, with the time its first call took."""
    result, d = [], f
    for _ in range(order):
        d = s2sad.grad(d)
        start = time.perf_counter()
        d(0.0)                                          # the first call generates the code
        result.append((d, time.perf_counter() - start))
    return result


def elementwise_derivatives(order):
    """[np.tanh', np.tanh'', ...] up to ``order`` by nested s2sad.elementwise_grad: each takes an array."""
    result, d = [], np.tanh
    for _ in range(order):
        d = s2sad.elementwise_grad(d)
        result.append(d)
    return result


def closed_forms(order):
    """P_k with d^k tanh/dx^k = P_k(tanh x), k = 1..order."""
    p, one_minus_t2 = Polynomial([0, 1]), Polynomial([1, 0, -1])
    forms = []
    for _ in range(order):
        p = p.deriv() * one_minus_t2
        forms.append(p)
    return forms


def plot(ds, xs, out):
    try:
        import matplotlib
    except ImportError:
        print('\nmatplotlib is not installed, so no plot: python3 -m pip install -e ".[examples]"')
        return
    matplotlib.use("Agg")                               # no display needed
    import matplotlib.pyplot as plt
    rows = (len(ds) + 2) // 3
    fig, axes = plt.subplots(rows, 3, figsize=(10, 3 * rows), sharex=True, squeeze=False)
    for k, ((d, _), ax) in enumerate(zip(ds, axes.flat), 1):
        ax.plot(xs, np.tanh(xs), color="0.7", lw=1)
        ax.plot(xs, d(xs), lw=2)                        # the whole grid in one call
        ax.set_title(f"order {k}")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(ds):]:
        ax.set_visible(False)
    fig.suptitle("derivatives of tanh (grey) by nested s2sad.elementwise_grad")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=80, bbox_inches="tight")
    print(f"\nplot written to {out}")


def main(fast=False, out=None):
    order, points = (4, 31) if fast else (6, 601)
    ds = derivatives(order)
    forms = closed_forms(order)
    samples = [-2.0, -0.5, 0.0, 0.3, 1.5]
    print(f"{'order':>5} {'first call':>11}" + "".join(f"{f'x = {x}':>14}" for x in samples))
    for k, ((d, seconds), p) in enumerate(zip(ds, forms), 1):
        values = [d(x) for x in samples]
        exact = [p(math.tanh(x)) for x in samples]
        np.testing.assert_allclose(values, exact, rtol=1e-10, atol=1e-10, err_msg=f"order {k}")
        print(f"{k:>5} {seconds * 1e3:>8.0f} ms" + "".join(f"{v + 0.0:>14.6f}" for v in values))
    terms = " ".join(f"{c:+.0f} t^{i}" for i, c in enumerate(forms[-1].coef) if c)
    print(f"\nall match the closed forms P_k(tanh x); P_{order}(t) = {terms}")
    xs = np.linspace(-3, 3, points)
    eds = elementwise_derivatives(order)
    for k, (d, p, (g, _)) in enumerate(zip(eds, forms, ds), 1):
        np.testing.assert_allclose(d(xs), p(np.tanh(xs)), rtol=1e-10, atol=1e-10, err_msg=f"elementwise order {k}")
        np.testing.assert_allclose(d(np.array(samples)), [g(x) for x in samples], rtol=1e-10, atol=1e-10)
    print(f"nested elementwise_grad over np.tanh agrees on all {points} points, and with nested grad")
    plot([(d, None) for d in eds], xs, out or default_out("tanh_derivatives", fast))


def default_out(name, fast):
    """docs/gallery/<name>.png; a temporary file in fast mode, so that CI leaves the pictures alone."""
    if fast:
        return os.path.join(tempfile.gettempdir(), "s2sad-gallery", f"{name}.png")
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "gallery", f"{name}.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="orders 1-4 on a coarse grid (CI)")
    parser.add_argument("--out", help="where to write the plot (default: docs/gallery/tanh_derivatives.png)")
    args = parser.parse_args()
    main(args.fast, args.out)
