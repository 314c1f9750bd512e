"""Quick start: differentiate a small logistic-regression loss, print the generated code, check it.

Run:  python examples/quickstart.py
"""
import numpy as np

import s2sad
from s2sad.testing import check_grads


@s2sad.differentiable
def loss(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def main():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=100) > 0).astype(float)
    w = np.zeros(3)

    print("Generated adjoint of loss(w, X, y) with respect to w:\n")
    s2sad.show_adjoint(loss)

    value, g = s2sad.value_and_grad(loss)(w, X, y)
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    hand = X.T @ (p - y) / len(y)                     # the gradient derived by hand
    check_grads(loss, (w, X, y))                      # against central finite differences
    assert np.allclose(g, hand, rtol=1e-12), (g, hand)
    print(f"\nloss = {value:.6f}")
    print(f"s2sad gradient      = {g}")
    print(f"hand-derived        = {hand}")
    print("gradient checked against finite differences and the hand-derived formula: OK")

    for step in range(200):                           # a few steps of gradient descent
        w = w - 0.5 * s2sad.grad(loss)(w, X, y)
    print(f"after 200 steps of gradient descent: loss = {loss(w, X, y):.4f}, w = {np.round(w, 2)}")


if __name__ == "__main__":
    main()
