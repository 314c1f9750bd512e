"""Black-box variational inference: a Gaussian fitted to a banana-shaped 2-d density.

The target is known only through its log density (up to a constant): x1 ~ Normal(0, 1.5) and,
given x1, x2 ~ Normal(0.4 x1^2 + 0.5 x1 - 1, 0.5), a curved, tilted ridge. The approximation
q = Normal(mean, L L^T) has a full covariance through its Cholesky factor L, built from five
numbers by writing into a zero matrix. The evidence lower bound

    ELBO = E_q[log p(z)] + entropy(q),    z = mean + L eps,  eps ~ Normal(0, I)

is estimated with a batch of standard normal draws eps (the reparameterisation trick), so its
gradient with respect to the five numbers is the gradient of an ordinary NumPy function of them,
which s2sad writes. s2sad.optimizers.adam follows it with fresh draws at each step.

The example checks the gradient once against central finite differences (it prints the largest
relative error), fits q, and plots the target's contours with q's 1- and 2-sigma ellipses and the
ELBO curve to docs/gallery/bbvi.png when matplotlib is installed
(`python3 -m pip install -e ".[examples]"`).

Run:  python3 examples/bbvi.py [--fast] [--out PATH]
      (--fast: fewer steps, as CI runs it; its plot goes to a temporary directory unless --out is given)
"""
import argparse
import os
import tempfile

import numpy as np

import s2sad
from s2sad.testing import numerical_grad


def log_normal(x, mean, std):
    return -0.5 * ((x - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)


def log_target(z):
    """The banana's log density at each row of z (shape (n, 2))."""
    x1, x2 = z[:, 0], z[:, 1]
    return log_normal(x1, 0.0, 1.5) + log_normal(x2, 0.4 * x1 ** 2 + 0.5 * x1 - 1.0, 0.5)


def unpack(params):
    """The mean and the lower-triangular Cholesky factor of q's covariance from five numbers."""
    mean = params[:2]
    L = np.zeros((2, 2))
    L[0, 0] = np.exp(params[2])
    L[1, 1] = np.exp(params[3])
    L[1, 0] = params[4]
    return mean, L


def elbo(params, eps):
    """Monte Carlo estimate of the ELBO with the standard normal draws eps (shape (n, 2))."""
    mean, L = unpack(params)
    z = mean + eps @ L.T
    entropy = np.sum(np.log(np.diag(L))) + np.log(2 * np.pi * np.e)      # of Normal(mean, L L^T) in 2-d
    return np.mean(log_target(z)) + entropy


def negative_elbo(params, eps):
    return -elbo(params, eps)


def plot(start, params, history, out):
    try:
        import matplotlib
    except ImportError:
        print('\nmatplotlib is not installed, so no plot: python3 -m pip install -e ".[examples]"')
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.3, 1]})
    x1, x2 = np.meshgrid(np.linspace(-5, 5, 200), np.linspace(-3.5, 6, 200))
    density = np.exp(log_target(np.stack([x1.ravel(), x2.ravel()], axis=1))).reshape(x1.shape)
    left.contourf(x1, x2, density, levels=12, cmap="Blues")
    angle = np.linspace(0, 2 * np.pi, 200)
    circle = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    mean, L = unpack(start)
    ellipse = mean + circle @ L.T
    left.plot(ellipse[:, 0], ellipse[:, 1], ":", color="0.3", lw=1.5, label="q at the start: 1 sigma")
    mean, L = unpack(params)
    for k, style in [(1, "-"), (2, "--")]:
        ellipse = mean + k * circle @ L.T
        left.plot(ellipse[:, 0], ellipse[:, 1], style, color="tab:red", lw=2, label=f"q: {k} sigma")
    left.plot(*mean, "x", color="tab:red", ms=8)
    left.set_xlabel("x1")
    left.set_ylabel("x2")
    left.set_title("target density and the fitted Gaussian q")
    left.legend(loc="upper center", fontsize=9)
    steps = np.arange(len(history))
    right.plot(steps, history, color="0.75", lw=0.8, label="per step (its own draws)")
    window = max(1, len(history) // 20)
    smooth = np.convolve(history, np.ones(window) / window, mode="valid")
    right.plot(steps[window - 1:], smooth, lw=2, label=f"mean of {window} steps")
    right.set_ylim(np.percentile(history, 2) - 0.5, max(history) + 0.2)
    right.set_xlabel("Adam step")
    right.set_title("ELBO estimate")
    right.legend(fontsize=9, loc="lower right")
    right.grid(alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=80)
    print(f"\nplot written to {out}")


def main(fast=False, out=None):
    rng = np.random.default_rng(0)
    samples, steps = (200, 400) if fast else (500, 1500)
    start = np.array([-2.0, 3.0, 0.0, 0.0, 0.0])         # mean (-2, 3), identity covariance
    params = start

    eps = rng.standard_normal((samples, 2))
    gradient = s2sad.grad(negative_elbo)(params, eps)
    differences = numerical_grad(negative_elbo, (params, eps), 0)
    error = np.max(np.abs(gradient - differences)) / np.max(np.abs(differences))
    print(f"gradient vs central differences at the start: max relative error {error:.1e}")
    assert error < 1e-6, error

    value_and_gradient = s2sad.value_and_grad(negative_elbo)
    history = []

    def gradient_step(params, i):
        value, g = value_and_gradient(params, rng.standard_normal((samples, 2)))
        history.append(-value)
        return g

    params = s2sad.optimizers.adam(gradient_step, params, step_size=0.05 if fast else 0.02, num_iters=steps)
    mean, L = unpack(params)
    covariance = L @ L.T
    check = rng.standard_normal((20000, 2))
    print(f"ELBO {np.mean(history[:10]):.2f} (first 10 steps) -> {elbo(params, check):.3f} (20000 fresh draws)")
    print(f"q: mean {np.round(mean, 3)}, covariance {np.round(covariance, 3).tolist()}")
    # the moments of the target, for comparison: E x1 = 0, E x2 = 0.4 * 1.5^2 - 1 = -0.1, cov(x1, x2) = 0.5 * 1.5^2
    print("target: mean [0, -0.1], var x1 = 2.25, cov(x1, x2) = 1.125 (q, fitted by KL(q||p), is narrower)")
    assert np.mean(history[-20:]) > np.mean(history[:10])
    plot(start, params, history, out or default_out("bbvi", fast))


def default_out(name, fast):
    """docs/gallery/<name>.png; a temporary file in fast mode, so that CI leaves the pictures alone."""
    if fast:
        return os.path.join(tempfile.gettempdir(), "s2sad-gallery", f"{name}.png")
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "gallery", f"{name}.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fewer steps (CI)")
    parser.add_argument("--out", help="where to write the plot (default: docs/gallery/bbvi.png)")
    args = parser.parse_args()
    main(args.fast, args.out)
