"""A vanilla RNN, unrolled by a Python loop over time, learns to predict the next value of a noisy sine.

    h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b),   prediction_t = h_t @ Wy + by

The loss appends one prediction per time step to a list and stacks them; s2sad's adjoint
runs the loop backwards (backpropagation through time), reading each step's saved state.

Run:  python examples/rnn.py [--fast]
"""
import sys

import numpy as np

import s2sad
from s2sad.testing import check_grads


def noisy_sines(batch, steps, rng, noise=0.05):
    """Inputs (steps, batch, 1): sine waves with random phase and frequency plus noise;
    targets: the clean wave one step ahead."""
    phase = rng.uniform(0, 2 * np.pi, size=(1, batch, 1))
    freq = rng.uniform(0.2, 0.4, size=(1, batch, 1))
    t = np.arange(steps + 1).reshape(-1, 1, 1)
    wave = np.sin(phase + freq * t)
    return wave[:-1] + noise * rng.normal(size=(steps, batch, 1)), wave[1:]


def init_params(hidden, rng):
    return (rng.normal(size=(1, hidden)),                          # Wx
            rng.normal(size=(hidden, hidden)) / np.sqrt(hidden),   # Wh
            np.zeros(hidden),                                      # b
            rng.normal(size=(hidden, 1)) / np.sqrt(hidden),        # Wy
            np.zeros(1))                                           # by


def rnn_loss(params, xs, targets):
    """Mean squared error of the one-step-ahead predictions."""
    Wx, Wh, b, Wy, by = params
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    predictions = []
    for x_t in xs:
        h = np.tanh(x_t @ Wx + h @ Wh + b)
        predictions.append(h @ Wy + by)
    return np.mean((np.stack(predictions) - targets) ** 2)


def main(fast=False):
    rng = np.random.default_rng(0)

    # Check the gradient once, on a short sequence and a small state.
    xs, targets = noisy_sines(3, 5, rng)
    check_grads(rnn_loss, (init_params(4, rng), xs, targets))
    print("gradient through 5 unrolled time steps checked against finite differences: OK")

    batch, steps, every = (32, 150, 25) if fast else (64, 1500, 150)
    xs, targets = noisy_sines(batch, 20, rng)
    params = init_params(16, rng)
    value_and_grad = s2sad.value_and_grad(rnn_loss)
    rate = 0.1
    losses = []
    for step in range(steps + 1):
        value, grads = value_and_grad(params, xs, targets)
        losses.append(value)
        if step % every == 0:
            print(f"step {step:5d}: loss = {value:.5f}")
        params = tuple(p - rate * g for p, g in zip(params, grads))

    test_xs, test_targets = noisy_sines(batch, 20, rng)
    print(f"loss on fresh sequences: {rnn_loss(params, test_xs, test_targets):.5f}"
          f"  (predicting 'no change' scores {np.mean((test_xs - test_targets) ** 2):.5f})")
    assert losses[-1] < losses[0]


if __name__ == "__main__":
    main(fast="--fast" in sys.argv)
