"""A small MLP on two moons, trained by plain gradient descent.

The parameters are a list of (W, b) tuples; the gradient s2sad returns has the same
structure, so one line of Python updates them all. The forward pass is a Python loop
over the hidden layers that calls a helper function, which s2sad differentiates too.

Run:  python examples/mlp.py [--fast]
"""
import sys

import numpy as np

import s2sad
from s2sad.testing import check_grads


def two_moons(n, noise, rng):
    """n points on two interleaved half circles; labels 0 and 1."""
    t = rng.uniform(0, np.pi, size=n)
    y = rng.integers(0, 2, size=n)
    X = np.stack([np.cos(t), np.sin(t)], axis=1)
    X[y == 1] = np.stack([1 - np.cos(t[y == 1]), 0.5 - np.sin(t[y == 1])], axis=1)
    return X + noise * rng.normal(size=X.shape), y


def init_params(sizes, rng):
    return [(rng.normal(size=(m, n)) / np.sqrt(m), np.zeros(n)) for m, n in zip(sizes[:-1], sizes[1:])]


def layer(W, b, h):
    return np.tanh(h @ W + b)


def predict(params, X):
    """The logits: tanh hidden layers, then a linear output layer."""
    h = X
    for W, b in params[:-1]:
        h = layer(W, b, h)
    W, b = params[-1]
    return h @ W + b


def loss(params, X, Y):
    """Softmax cross-entropy against one-hot labels Y."""
    logits = predict(params, X)
    m = np.max(logits, axis=1, keepdims=True)
    log_probs = logits - m - np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_probs, axis=1))


def main(fast=False):
    rng = np.random.default_rng(0)

    # Check the gradient once, on a tiny network and batch.
    X, y = two_moons(6, 0.1, rng)
    check_grads(loss, (init_params([2, 5, 2], rng), X, np.eye(2)[y]))
    print("gradient of a list of (W, b) tuples checked against finite differences: OK")

    n, steps, every = (200, 300, 50) if fast else (500, 3000, 300)
    X, y = two_moons(n, 0.1, rng)
    Y = np.eye(2)[y]
    params = init_params([2, 32, 2], rng)        # one hidden layer; add sizes for more
    value_and_grad = s2sad.value_and_grad(loss)
    rate = 0.5
    losses = []
    for step in range(steps + 1):
        value, grads = value_and_grad(params, X, Y)
        losses.append(value)
        if step % every == 0:
            print(f"step {step:5d}: loss = {value:.4f}")
        params = [(W - rate * gW, b - rate * gb) for (W, b), (gW, gb) in zip(params, grads)]

    accuracy = np.mean(np.argmax(predict(params, X), axis=1) == y)
    print(f"training accuracy: {accuracy:.1%}")
    assert losses[-1] < losses[0]


if __name__ == "__main__":
    main(fast="--fast" in sys.argv)
