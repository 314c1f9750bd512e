"""The seven benchmark problems (tools/bench_problems.py) in forward mode and to second order:
jvp against the reverse-mode gradient, Hessian-vector products (forward over reverse) against
central differences of the gradient."""
import sys
from pathlib import Path

import numpy as np
import pytest

import s2sad
from s2sad import tree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import bench_problems as bp  # noqa: E402


def _direction(x, rng):
    leaves = [rng.normal(size=np.shape(leaf)) if isinstance(leaf, np.ndarray) else float(rng.normal())
              for leaf in tree.flatten(x)]
    return tree.unflatten(leaves, x), leaves


@pytest.mark.parametrize("key", sorted(bp.PROBLEMS))
def test_jvp_agrees_with_the_gradient(key):
    problem, rng = bp.PROBLEMS[key], np.random.default_rng(11)
    args, wrt = problem.make_args(rng)
    wrt = wrt if isinstance(wrt, tuple) else (wrt,)
    grads = s2sad.grad(problem.f, wrt=wrt)(*args)
    tangents, dot = [None] * len(args), 0.0
    for g, i in zip(grads, wrt):
        tangents[i], leaves = _direction(args[i], rng)
        dot += sum(np.vdot(a, b) for a, b in zip(tree.flatten(g), leaves))
    value, tangent = s2sad.jvp(problem.f, args, tangents)
    assert value == pytest.approx(problem.f(*args), rel=1e-12)
    assert tangent == pytest.approx(dot, rel=1e-10)


@pytest.mark.parametrize("key", sorted(bp.PROBLEMS))
def test_hessian_vector_product_matches_differences_of_the_gradient(key):
    problem, rng = bp.PROBLEMS[key], np.random.default_rng(12)
    args, wrt = problem.make_args(rng)
    i = wrt[0] if isinstance(wrt, tuple) else wrt
    gradient = s2sad.grad(problem.f, wrt=i)
    v, leaves = _direction(args[i], rng)
    tangents = [None] * len(args)
    tangents[i] = v
    hv = tree.flatten(s2sad.jvp(gradient, args, tangents)[1])
    eps, x = 1e-6, tree.flatten(args[i])
    up, down = list(args), list(args)
    up[i] = tree.unflatten([a + eps * d for a, d in zip(x, leaves)], args[i])
    down[i] = tree.unflatten([a - eps * d for a, d in zip(x, leaves)], args[i])
    for got, hi, lo in zip(hv, tree.flatten(gradient(*up)), tree.flatten(gradient(*down))):
        numeric = (np.asarray(hi) - np.asarray(lo)) / (2 * eps)
        np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-6 * (np.max(np.abs(numeric)) + 1))
