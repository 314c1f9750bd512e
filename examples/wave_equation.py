"""Shaping a wave: the initial displacement that a 1-d wave equation carries to a target at time T.

The string u(x, t) on [0, 1], held at both ends, obeys u_tt = c(x)^2 u_xx, with a slower region in
the middle (c = 0.6 there, 1 elsewhere), and starts at rest from u(x, 0) = u0(x). The simulation is
the textbook leapfrog scheme in a Python time loop: a helper makes each new field by writing the
interior of a zero array from the two previous ones, and the loop stores every frame in a
preallocated array. The loss compares the last frame with a target (a single bump, right of
centre) and adds a small penalty on the roughness of u0; s2sad differentiates it through all the
time steps, with respect to the whole initial field, and scipy's L-BFGS minimises it. Starting
from rest, a bump splits into two half-height pulses running apart, so u0 is not just the target.

The example checks the gradient once against central finite differences along random directions
(it prints the largest relative error), optimises u0, and plots the initial fields, the final
fields against the target and the optimised evolution to docs/gallery/wave_equation.png when matplotlib
is installed (`python3 -m pip install -e ".[examples]"`; scipy is needed too).

Run:  python3 examples/wave_equation.py [--fast] [--out PATH]
      (--fast: a coarser grid and fewer iterations, as CI runs it; its plot goes to a temporary
      directory unless --out is given)
"""
import argparse
import os
import tempfile

import numpy as np

import s2sad


def leapfrog_step(u, u_prev, courant2):
    """The next field of u_tt = c^2 u_xx: u_next = 2 u - u_prev + (c dt / dx)^2 (second difference of u)."""
    u_next = np.zeros_like(u)
    u_next[1:-1] = 2.0 * u[1:-1] - u_prev[1:-1] + courant2[1:-1] * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return u_next


def simulate(u0, courant2, steps):
    """All the frames, u0 first; the string starts at rest (u_prev = u0) and is held at both ends."""
    frames = np.zeros((steps + 1, u0.size))
    frames[0] = u0
    u_prev, u = u0, u0
    for t in range(steps):
        u, u_prev = leapfrog_step(u, u_prev, courant2), u
        frames[t + 1] = u
    return frames


def loss(u0, courant2, steps, target, smoothing):
    final = simulate(u0, courant2, steps)[-1]
    roughness = np.sum(np.diff(u0) ** 2)
    return np.mean((final - target) ** 2) + smoothing * roughness


def setup(n):
    x = np.linspace(0.0, 1.0, n)
    speed = np.where(np.abs(x - 0.5) < 0.15, 0.6, 1.0)
    dx = x[1] - x[0]
    dt = 0.9 * dx                                   # the Courant number c dt / dx stays <= 0.9
    steps = int(round(0.8 / dt))                    # until T = 0.8
    target = np.exp(-((x - 0.65) / 0.05) ** 2)
    target[0] = target[-1] = 0.0
    return x, (speed * dt / dx) ** 2, steps, target, speed


def plot(x, speed, guess, u0, frames_guess, frames, target, losses, out):
    try:
        import matplotlib
    except ImportError:
        print('\nmatplotlib is not installed, so no plot: python3 -m pip install -e ".[examples]"')
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    slow = speed < 1.0
    for ax in axes[:2]:
        ax.axvspan(x[slow][0], x[slow][-1], color="0.92", label="slow region (c = 0.6)")
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
    axes[0].plot(x, guess, ":", color="0.3", lw=1.5, label="initial guess (the target)")
    axes[0].plot(x, u0, color="tab:blue", lw=2, label="optimised u0")
    axes[0].set_title("initial displacement u(x, 0)")
    axes[0].legend(fontsize=8, loc="upper left")
    axes[1].plot(x, target, color="k", lw=3, alpha=0.3, label="target")
    axes[1].plot(x, frames_guess[-1], ":", color="0.3", lw=1.5, label="from the guess")
    axes[1].plot(x, frames[-1], color="tab:blue", lw=2, label="from optimised u0")
    axes[1].set_title(f"u(x, T) after {len(frames) - 1} steps  (loss {losses[0]:.1e} -> {losses[-1]:.1e})")
    axes[1].legend(fontsize=8, loc="upper left")
    limit = np.max(np.abs(frames))
    image = axes[2].imshow(frames, aspect="auto", origin="lower", cmap="RdBu_r", vmin=-limit, vmax=limit,
                           extent=[x[0], x[-1], 0, len(frames) - 1], interpolation="nearest")
    axes[2].set_xlabel("x")
    axes[2].set_ylabel("time step")
    axes[2].set_title("optimised evolution u(x, t)")
    fig.colorbar(image, ax=axes[2])
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
    n, iterations = (60, 40) if fast else (200, 400)
    x, courant2, steps, target, speed = setup(n)
    args = (courant2, steps, target, 1e-3)
    guess = target.copy()

    rng = np.random.default_rng(0)
    gradient = s2sad.grad(loss)(guess, *args)
    h, errors = 1e-6, []
    for _ in range(3):
        v = rng.standard_normal(n)
        difference = (loss(guess + h * v, *args) - loss(guess - h * v, *args)) / (2 * h)
        errors.append(abs(gradient @ v - difference) / abs(difference))
    print(f"n = {n}, {steps} time steps: gradient vs central differences along 3 random directions: "
          f"max relative error {max(errors):.1e}")
    assert max(errors) < 1e-6, errors

    losses = [loss(guess, *args)]
    result = minimize(loss, guess, args=args, jac=s2sad.grad(loss), method="L-BFGS-B",
                      callback=lambda u: losses.append(loss(u, *args)), options={"maxiter": iterations})
    print(f"loss {losses[0]:.3e} -> {result.fun:.3e} in {result.nit} L-BFGS iterations")
    assert result.fun < 0.1 * losses[0]
    plot(x, speed, guess, result.x, simulate(guess, courant2, steps), simulate(result.x, courant2, steps), target,
         losses, out or default_out("wave_equation", fast))


def default_out(name, fast):
    """docs/gallery/<name>.png; a temporary file in fast mode, so that CI leaves the pictures alone."""
    if fast:
        return os.path.join(tempfile.gettempdir(), "s2sad-gallery", f"{name}.png")
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "gallery", f"{name}.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a coarser grid and fewer iterations (CI)")
    parser.add_argument("--out", help="where to write the plot (default: docs/gallery/wave_equation.png)")
    args = parser.parse_args()
    main(args.fast, args.out)
