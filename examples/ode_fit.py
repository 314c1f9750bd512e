"""Fitting the four rates of a Lotka-Volterra predator-prey model to noisy counts.

    dx/dt = a x - b x y        (prey)
    dy/dt = c x y - d y        (predators)

The loss integrates the ODE with a classical Runge-Kutta (RK4) loop written in plain NumPy: a
helper for the right-hand side, a Python loop over time steps, and the states written one row at a
time into a preallocated trajectory array. s2sad differentiates the whole loop (the backward sweep
runs the time steps in reverse), so scipy.optimize.minimize gets the exact gradient of the
discretised loss. The rates are fitted on a log scale (they stay positive); the data are the
solution for the true rates with multiplicative noise, compared on a log scale too.

The example checks the gradient once against central finite differences (it prints the largest
relative error), fits, and plots the data with the initial and fitted trajectories and the loss
curve to docs/gallery/ode_fit.png when matplotlib is installed
(`python3 -m pip install -e ".[examples]"`; scipy is needed too).

Run:  python3 examples/ode_fit.py [--fast] [--out PATH]
      (--fast: fewer time steps and iterations, as CI runs it; its plot goes to a temporary directory
      unless --out is given)
"""
import argparse
import os
import tempfile

import numpy as np

import s2sad
from s2sad.testing import numerical_grad


def lotka_volterra(state, rates):
    x, y = state[0], state[1]
    a, b, c, d = rates[0], rates[1], rates[2], rates[3]
    return np.array([a * x - b * x * y, c * x * y - d * y])


def rk4(state0, rates, dt, steps):
    """The trajectory, one row per time step (steps + 1 rows), by the classical Runge-Kutta method."""
    trajectory = np.zeros((steps + 1, 2))
    trajectory[0] = state0
    state = state0
    for i in range(steps):
        k1 = lotka_volterra(state, rates)
        k2 = lotka_volterra(state + 0.5 * dt * k1, rates)
        k3 = lotka_volterra(state + 0.5 * dt * k2, rates)
        k4 = lotka_volterra(state + dt * k3, rates)
        state = state + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        trajectory[i + 1] = state
    return trajectory


def loss(log_rates, state0, dt, steps, every, data):
    """Mean squared difference of the logs of the counts, at every ``every``-th step."""
    trajectory = rk4(state0, np.exp(log_rates), dt, steps)
    observed = trajectory[every::every]
    return np.mean((np.log(observed) - np.log(data)) ** 2)


def plot(times, data, observed_times, initial, fitted, losses, out):
    try:
        import matplotlib
    except ImportError:
        print('\nmatplotlib is not installed, so no plot: python3 -m pip install -e ".[examples]"')
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [2.2, 1]})
    for k, (name, color) in enumerate([("prey", "tab:blue"), ("predators", "tab:red")]):
        left.plot(observed_times, data[:, k], "o", color=color, ms=4, alpha=0.7, label=f"{name} (data)")
        left.plot(times, initial[:, k], ":", color=color, lw=1.2)
        left.plot(times, fitted[:, k], "-", color=color, lw=2, label=f"{name} (fitted)")
    left.set_xlabel("time")
    left.set_ylabel("population")
    left.set_title("Lotka-Volterra: data, initial guess (dotted), fit")
    left.legend(fontsize=8, ncol=2, loc="upper center")
    right.semilogy(losses, lw=2)
    right.set_xlabel("L-BFGS iteration")
    right.set_ylabel("loss")
    right.set_title("loss")
    for ax in (left, right):
        ax.grid(alpha=0.3)
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
    true_rates = np.array([1.0, 0.1, 0.075, 1.5])
    state0 = np.array([10.0, 5.0])
    t_end, steps, every = (10.0, 100, 5) if fast else (10.0, 500, 10)
    dt = t_end / steps
    rng = np.random.default_rng(0)
    clean = rk4(state0, true_rates, dt, steps)[every::every]
    data = clean * np.exp(0.1 * rng.standard_normal(clean.shape))
    args = (state0, dt, steps, every, data)

    start = np.log(np.array([0.6, 0.15, 0.05, 1.0]))
    gradient = s2sad.grad(loss)(start, *args)
    differences = numerical_grad(loss, (start,) + args, 0)
    error = np.max(np.abs(gradient - differences)) / np.max(np.abs(differences))
    print(f"gradient vs central differences at the initial guess: max relative error {error:.1e}")
    assert error < 1e-6, error

    losses = [loss(start, *args)]
    result = minimize(loss, start, args=args, jac=s2sad.grad(loss), method="L-BFGS-B",
                      callback=lambda x: losses.append(loss(x, *args)), options={"maxiter": 30 if fast else 200})
    fitted_rates = np.exp(result.x)
    print(f"loss {losses[0]:.3g} -> {result.fun:.3g} in {result.nit} iterations")
    print(f"{'':>8} {'a':>7} {'b':>7} {'c':>7} {'d':>7}")
    for label, rates in [("true", true_rates), ("start", np.exp(start)), ("fitted", fitted_rates)]:
        print(f"{label:>8}" + "".join(f"{r:>8.3f}" for r in rates))
    assert result.fun < 0.5 * losses[0]
    if not fast:
        np.testing.assert_allclose(fitted_rates, true_rates, rtol=0.1)

    times = np.linspace(0.0, t_end, steps + 1)
    plot(times, data, times[every::every], rk4(state0, np.exp(start), dt, steps),
         rk4(state0, fitted_rates, dt, steps), losses, out or default_out("ode_fit", fast))


def default_out(name, fast):
    """docs/gallery/<name>.png; a temporary file in fast mode, so that CI leaves the pictures alone."""
    if fast:
        return os.path.join(tempfile.gettempdir(), "s2sad-gallery", f"{name}.png")
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "gallery", f"{name}.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fewer steps and iterations (CI)")
    parser.add_argument("--out", help="where to write the plot (default: docs/gallery/ode_fit.png)")
    args = parser.parse_args()
    main(args.fast, args.out)
