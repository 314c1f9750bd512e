"""Stirring smoke into a ring: the initial velocity of a 2-d fluid optimised through the simulation.

A square of smoke sits in a periodic 2-d box of fluid. The simulation is a small Stam-style
stable-fluids solver in plain NumPy: each step makes the velocity divergence-free (a pressure
found by Jacobi iterations in a loop, neighbours by np.roll), then moves the velocity and the smoke
along the flow by semi-Lagrangian advection (each cell looks back along the velocity and
interpolates bilinearly between the four cells around that point, found by np.floor, integer
indices and fancy indexing). The loss compares the smoke after the last step with a target, a
ring; s2sad differentiates the whole simulation with respect to the initial velocity field (two
values per cell) and scipy's L-BFGS minimises it, so the fluid learns to stir the square into the
ring. (The gradient flows through the interpolation weights; the integer cell indices are
piecewise constant.)

The example checks the gradient once against central finite differences along random directions
(it prints the largest relative error), optimises the initial velocity, and plots the smoke at
the start with the optimised velocity, half-way, at the end, and the target to
docs/gallery/fluid.png when matplotlib is installed (`python3 -m pip install -e ".[examples]"`;
scipy is needed too).

Run:  python3 examples/fluid.py [--fast] [--out PATH]
      (--fast: a coarser grid and fewer iterations, as CI runs it; its plot goes to a temporary
      directory unless --out is given)
"""
import argparse
import os
import tempfile

import numpy as np

import s2sad


def project(vx, vy, iterations=20):
    """The divergence-free part of the velocity (vx, vy): subtract the gradient of a pressure p that
    solves laplacian(p) = div(v), by Jacobi iterations (periodic box, unit cells)."""
    divergence = 0.5 * (np.roll(vx, -1, axis=1) - np.roll(vx, 1, axis=1)
                        + np.roll(vy, -1, axis=0) - np.roll(vy, 1, axis=0))
    p = np.zeros(vx.shape)
    for _ in range(iterations):
        neighbours = np.roll(p, 1, axis=0) + np.roll(p, -1, axis=0) + np.roll(p, 1, axis=1) + np.roll(p, -1, axis=1)
        p = (neighbours - divergence) / 4.0
    vx = vx - 0.5 * (np.roll(p, -1, axis=1) - np.roll(p, 1, axis=1))
    vy = vy - 0.5 * (np.roll(p, -1, axis=0) - np.roll(p, 1, axis=0))
    return vx, vy


def advect(field, vx, vy):
    """``field`` carried one time step along the velocity: each cell takes the value found at
    (cell - velocity), interpolated bilinearly between the four cells around it (periodic)."""
    rows, cols = field.shape
    row_index, col_index = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    source_x = col_index - vx
    source_y = row_index - vy
    left = np.floor(source_x).astype(int)
    top = np.floor(source_y).astype(int)
    right_weight = source_x - left
    bottom_weight = source_y - top
    left, right = np.mod(left, cols), np.mod(left + 1, cols)
    top, bottom = np.mod(top, rows), np.mod(top + 1, rows)
    upper = (1.0 - right_weight) * field[top, left] + right_weight * field[top, right]
    lower = (1.0 - right_weight) * field[bottom, left] + right_weight * field[bottom, right]
    return (1.0 - bottom_weight) * upper + bottom_weight * lower


def step(vx, vy, smoke):
    vx, vy = project(vx, vy)
    vx, vy = advect(vx, vx, vy), advect(vy, vx, vy)
    return vx, vy, advect(smoke, vx, vy)


def simulate(velocity, smoke, steps):
    """The smoke after ``steps`` steps from the initial velocity (shape (2, n, n): x then y components)."""
    vx, vy = velocity[0], velocity[1]
    for _ in range(steps):
        vx, vy, smoke = step(vx, vy, smoke)
    return smoke


def loss(velocity_flat, smoke, target, steps):
    velocity = np.reshape(velocity_flat, (2,) + smoke.shape)
    final = simulate(velocity, smoke, steps)
    return np.mean((final - target) ** 2)


def setup(n):
    y, x = np.meshgrid(np.linspace(-1, 1, n), np.linspace(-1, 1, n), indexing="ij")
    smoke = ((np.abs(x) < 0.35) & (np.abs(y) < 0.35)).astype(float)
    radius = np.sqrt(x ** 2 + y ** 2)
    target = np.exp(-((radius - 0.6) / 0.12) ** 2)
    return smoke, target


def plot(velocity, smoke, target, steps, losses, out):
    try:
        import matplotlib
    except ImportError:
        print('\nmatplotlib is not installed, so no plot: python3 -m pip install -e ".[examples]"')
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    frames = [smoke]
    vx, vy, s = velocity[0], velocity[1], smoke
    for _ in range(steps):
        vx, vy, s = step(vx, vy, s)
        frames.append(s)
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.6))
    shown = [(frames[0], "smoke at t = 0, optimised velocity"), (frames[steps // 2], f"t = {steps // 2}"),
             (frames[-1], f"t = {steps} (loss {losses[0]:.1e} -> {losses[-1]:.1e})"), (target, "target")]
    for ax, (image, title) in zip(axes, shown):
        ax.imshow(image, cmap="magma", vmin=0.0, vmax=1.0, origin="lower", interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    n = smoke.shape[0]
    every = max(1, n // 16)
    rows, cols = np.mgrid[0:n:every, 0:n:every]
    axes[0].quiver(cols, rows, velocity[0][::every, ::every], velocity[1][::every, ::every], color="tab:cyan",
                   angles="xy", scale_units="xy", scale=1.0)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=70)
    print(f"\nplot written to {out}")


def main(fast=False, out=None):
    try:
        from scipy.optimize import minimize
    except ImportError:
        print('This example needs scipy: python3 -m pip install -e ".[examples]"')
        return
    n, steps, iterations = (16, 6, 15) if fast else (40, 16, 150)
    smoke, target = setup(n)
    args = (smoke, target, steps)
    rng = np.random.default_rng(0)
    start = 0.01 * rng.standard_normal(2 * n * n)

    gradient = s2sad.grad(loss)(start, *args)
    # a small step: the bilinear interpolation has kinks where a point looked up crosses a cell
    # boundary, and a larger step would straddle some of them (the differences then converge slowly)
    h, errors = 1e-7, []
    for _ in range(3):
        v = rng.standard_normal(start.size)
        difference = (loss(start + h * v, *args) - loss(start - h * v, *args)) / (2 * h)
        errors.append(abs(gradient @ v - difference) / abs(difference))
    print(f"{n} x {n} cells, {steps} steps: gradient vs central differences along 3 random directions: "
          f"max relative error {max(errors):.1e}")
    assert max(errors) < 1e-6, errors

    losses = [loss(start, *args)]
    result = minimize(loss, start, args=args, jac=s2sad.grad(loss), method="L-BFGS-B",
                      callback=lambda v: losses.append(loss(v, *args)), options={"maxiter": iterations})
    print(f"loss {losses[0]:.3e} -> {result.fun:.3e} in {result.nit} L-BFGS iterations")
    assert result.fun < 0.7 * losses[0]
    plot(np.reshape(result.x, (2, n, n)), smoke, target, steps, losses, out or default_out("fluid", fast))


def default_out(name, fast):
    """docs/gallery/<name>.png; a temporary file in fast mode, so that CI leaves the pictures alone."""
    if fast:
        return os.path.join(tempfile.gettempdir(), "s2sad-gallery", f"{name}.png")
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "gallery", f"{name}.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a coarser grid and fewer iterations (CI)")
    parser.add_argument("--out", help="where to write the plot (default: docs/gallery/fluid.png)")
    args = parser.parse_args()
    main(args.fast, args.out)
