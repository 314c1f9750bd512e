"""A loop with a data-dependent exit: sin(x) by its Taylor series, summed until the terms are tiny.

The number of iterations depends on x, so s2sad's adjoint records how many times the
`while` loop ran and replays it backwards. The derivative of the truncated series is
(up to the truncation error) cos(x).

Run:  python examples/taylor_sin.py [--fast]
"""
import math
import sys

import s2sad
from s2sad.testing import check_grads


def taylor_sin(x):
    """sin(x) = x - x**3/3! + x**5/5! - ..., stopping when a term drops below 1e-12."""
    term = x
    total = x
    n = 1
    while True:
        term = -term * x * x / ((n + 1) * (n + 2))
        n = n + 2
        total = total + term
        if abs(term) < 1e-12:
            break
    return total


def loss(x, target):
    """Squared distance of taylor_sin(x) from target (calls taylor_sin: differentiated too)."""
    return (taylor_sin(x) - target) ** 2


def main(fast=False):
    print("Generated adjoint of taylor_sin:\n")
    s2sad.show_adjoint(taylor_sin, args=(0.5,))   # the code grad runs for a float argument

    print(f"\n{'x':>6} {'taylor_sin':>20} {'math.sin':>20} {'d/dx':>20} {'math.cos':>20}")
    for x in [0.0, 0.5, 1.0, 2.0, -3.0, 6.0]:
        value, slope = s2sad.value_and_grad(taylor_sin)(x)
        print(f"{x:6.2f} {value:20.15f} {math.sin(x):20.15f} {slope:20.15f} {math.cos(x):20.15f}")
        assert abs(value - math.sin(x)) < 1e-10 and abs(slope - math.cos(x)) < 1e-10
    check_grads(taylor_sin, (1.3,))
    check_grads(loss, (0.7, 0.5))
    print("gradients checked against finite differences: OK")

    # Gradient descent on (taylor_sin(x) - 0.5)**2, starting from x = 0: converges to pi/6.
    x, target, rate = 0.0, 0.5, 0.5
    steps = 10 if fast else 25
    value_and_grad = s2sad.value_and_grad(loss)
    losses = []
    print(f"\nsolving taylor_sin(x) = {target} by gradient descent:")
    for step in range(steps):
        value, g = value_and_grad(x, target)
        losses.append(value)
        if step % (2 if fast else 5) == 0:
            print(f"  step {step:3d}: x = {x:.12f}  loss = {value:.3e}")
        x = x - rate * g
    print(f"  final:    x = {x:.12f}  loss = {loss(x, target):.3e}   (pi/6 = {math.pi / 6:.12f})")
    assert loss(x, target) < losses[0]


if __name__ == "__main__":
    main(fast="--fast" in sys.argv)
