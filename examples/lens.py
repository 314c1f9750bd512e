"""Designing a lens: the shape of both surfaces of a glass lens optimised to focus parallel rays.

In the plane, rays travel along x at heights y in [-1, 1] and meet a glass lens (refractive index
1.5) whose surfaces are x = a1 y^2 + a2 y^4 (front) and x = d + b1 y^2 + b2 y^4 (back). The ray
tracer is plain NumPy on arrays of rays: each surface refracts by the vector form of Snell's law in
a helper, and the point where a ray leaves the glass is found by Newton's method in a Python loop
(the ray is tilted inside, so its meeting point with the back surface has no closed form). The loss
is the mean squared height at which the rays cross the screen x = 4; s2sad differentiates the whole
trace, the Newton iterations included, with respect to the four coefficients (a1, a2, b1, b2), and
scipy's trust-region Newton-CG minimises it with that gradient and s2sad.hvp's Hessian-vector
products (a trust region, because the full step of a quasi-Newton method from the starting lens
lands on lenses that reflect the outer rays totally, where the loss is NaN). The starting lens has
parabolic faces: it focuses past the screen, with spherical aberration (the outer rays cross the
axis before the inner ones); the optimised quartic terms correct it.

The example checks the gradient once against central finite differences, and the Hessian-vector
product against differences of gradients (it prints the largest relative errors), optimises the
lens, and plots the rays through the lens before and after to
docs/gallery/lens.png when matplotlib is installed (`python3 -m pip install -e ".[examples]"`;
scipy is needed too).

Run:  python3 examples/lens.py [--fast] [--out PATH]
      (--fast: fewer rays and iterations, as CI runs it; its plot goes to a temporary directory unless
      --out is given)
"""
import argparse
import os
import tempfile

import numpy as np

import s2sad
from s2sad.testing import numerical_grad

GLASS = 1.5          # refractive index of the lens (air: 1)
THICKNESS = 0.4      # on the axis
SCREEN = 4.0         # where the rays should meet


def surface(y, c2, c4):
    return c2 * y ** 2 + c4 * y ** 4


def slope(y, c2, c4):
    return 2.0 * c2 * y + 4.0 * c4 * y ** 3


def normals(y, c2, c4):
    """Unit normals (one row per ray) of the surface x = c2 y^2 + c4 y^4, pointing back at -x."""
    n = np.stack([-np.ones_like(y), slope(y, c2, c4)], axis=1)
    return n / np.sqrt(np.sum(n ** 2, axis=1, keepdims=True))


def refract(direction, normal, eta):
    """Snell's law for unit directions (rows) through a surface with unit normals facing the incoming
    rays; eta = n_before / n_after."""
    cos_in = -np.sum(direction * normal, axis=1, keepdims=True)
    cos_out = np.sqrt(1.0 - eta ** 2 * (1.0 - cos_in ** 2))
    return eta * direction + (eta * cos_in - cos_out) * normal


def trace(coefficients, heights, newton_steps=6):
    """Where each ray enters and leaves the lens, and its direction after it."""
    a2, a4, b2, b4 = coefficients[0], coefficients[1], coefficients[2], coefficients[3]
    entry = np.stack([surface(heights, a2, a4), heights], axis=1)
    incoming = np.zeros((heights.size, 2))
    incoming[:, 0] = 1.0
    inside = refract(incoming, normals(heights, a2, a4), 1.0 / GLASS)
    # the back surface: solve entry + s * inside = (THICKNESS + surface(y), y) for s by Newton's method
    s = (THICKNESS - entry[:, 0]) / inside[:, 0]
    for _ in range(newton_steps):
        y = entry[:, 1] + s * inside[:, 1]
        gap = entry[:, 0] + s * inside[:, 0] - THICKNESS - surface(y, b2, b4)
        s = s - gap / (inside[:, 0] - slope(y, b2, b4) * inside[:, 1])
    exit_point = entry + s[:, None] * inside
    outgoing = refract(inside, normals(exit_point[:, 1], b2, b4), GLASS)
    return entry, exit_point, outgoing


def spot_size(coefficients, heights):
    """Mean squared height at which the rays cross the screen."""
    entry, exit_point, outgoing = trace(coefficients, heights)
    on_screen = exit_point[:, 1] + (SCREEN - exit_point[:, 0]) * outgoing[:, 1] / outgoing[:, 0]
    return np.mean(on_screen ** 2)


def plot(designs, out):
    try:
        import matplotlib
    except ImportError:
        print('\nmatplotlib is not installed, so no plot: python3 -m pip install -e ".[examples]"')
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 1, figsize=(10, 6.4), sharex=True)
    heights = np.linspace(-0.95, 0.95, 15)
    y = np.linspace(-1.05, 1.05, 100)
    for ax, (title, coefficients) in zip(axes, designs):
        a2, a4, b2, b4 = coefficients
        outline = np.concatenate([surface(y, a2, a4), THICKNESS + surface(y[::-1], b2, b4)])
        ax.fill(outline, np.concatenate([y, y[::-1]]), color="tab:cyan", alpha=0.35, lw=1.5, ec="tab:blue")
        entry, exit_point, outgoing = trace(np.asarray(coefficients), heights)
        end = exit_point + (SCREEN + 1.8 - exit_point[:, :1]) / outgoing[:, :1] * outgoing
        for k in range(heights.size):
            xs = [-1.0, entry[k, 0], exit_point[k, 0], end[k, 0]]
            ys = [heights[k], entry[k, 1], exit_point[k, 1], end[k, 1]]
            ax.plot(xs, ys, color="tab:red", lw=0.8)
        ax.axvline(SCREEN, color="k", lw=1, ls="--")
        ax.plot(SCREEN, 0.0, "k*", ms=10)
        ax.set_title(f"{title}: rms spot {np.sqrt(spot_size(np.asarray(coefficients), np.linspace(-1, 1, 41))):.1e}"
                     f"  (a1, a2, b1, b2 = {', '.join(f'{c:.4f}' for c in coefficients)})", fontsize=10)
        ax.set_ylim(-1.2, 1.2)
        ax.set_ylabel("y")
    axes[-1].set_xlabel("x   (the screen is the dashed line)")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=80)
    print(f"\nplot written to {out}")


def main(fast=False, out=None):
    try:
        from scipy.optimize import minimize
    except ImportError:
        print('This example needs scipy: python3 -m pip install -e ".[examples]"')
        return
    heights = np.linspace(-1.0, 1.0, 21 if fast else 41)
    start = np.array([0.1, 0.0, -0.1, 0.0])

    gradient = s2sad.grad(spot_size)(start, heights)
    differences = numerical_grad(spot_size, (start, heights), 0)
    error = np.max(np.abs(gradient - differences)) / np.max(np.abs(differences))
    print(f"gradient vs central differences at the starting lens: max relative error {error:.1e}")
    assert error < 1e-6, error

    v = np.array([1.0, -1.0, 0.5, 2.0])
    h, gradient_at = 1e-6, s2sad.grad(spot_size)
    product = s2sad.hvp(spot_size)(start, v, heights)
    differences = (gradient_at(start + h * v, heights) - gradient_at(start - h * v, heights)) / (2 * h)
    error = np.max(np.abs(product - differences)) / np.max(np.abs(differences))
    print(f"Hessian-vector product vs differences of gradients: max relative error {error:.1e}")
    assert error < 1e-6, error

    result = minimize(spot_size, start, args=(heights,), jac=s2sad.grad(spot_size), hessp=s2sad.hvp(spot_size),
                      method="trust-ncg", options={"maxiter": 6 if fast else 12})
    print(f"rms spot on the screen: {np.sqrt(spot_size(start, heights)):.2e} -> {np.sqrt(result.fun):.2e} "
          f"in {result.nit} trust-region iterations")
    print("coefficients (a1, a2, b1, b2):", np.round(result.x, 5))
    assert result.fun < 1e-6 * spot_size(start, heights)
    plot([("starting lens", start), ("optimised lens", result.x)], out or default_out("lens", fast))


def default_out(name, fast):
    """docs/gallery/<name>.png; a temporary file in fast mode, so that CI leaves the pictures alone."""
    if fast:
        return os.path.join(tempfile.gettempdir(), "s2sad-gallery", f"{name}.png")
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "gallery", f"{name}.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fewer rays and iterations (CI)")
    parser.add_argument("--out", help="where to write the plot (default: docs/gallery/lens.png)")
    args = parser.parse_args()
    main(args.fast, args.out)
