"""What ``grad``/``jvp``/``vjp``/``hvp``/``hessian`` accept besides plain functions: bound methods, static and
class methods, ``functools.partial``, callable objects, primitives with rules (``np.tanh``, ``np.sum``,
``math.sin``), and differentiated arguments passed by keyword (s2sad/targets.py). Each checked against
central differences or a hand-derived formula, in both modes and at second order."""
import functools
import math

import numpy as np
import pytest

import s2sad
from s2sad.testing import numerical_grad

W = np.array([0.3, -0.5])
X = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.1]])


class Model:
    def __init__(self, scale):
        self.scale = scale

    def loss(self, w, X):
        return np.sum(np.tanh(X @ w) * self.scale)

    def __call__(self, w, X):
        return np.sum(np.tanh(X @ w) * self.scale) * 2.0

    @staticmethod
    def cubes(w):
        return np.sum(w ** 3)

    @classmethod
    def sines(cls, w):
        return np.sum(np.sin(w))


def weighted(w, X, c=1.0):
    return np.sum((X @ w) ** 2) * c


MODEL = Model(1.5)
CASES = [
    ("bound method", MODEL.loss, (W, X)),
    ("callable object", MODEL, (W, X)),
    ("static method", Model.cubes, (W,)),
    ("class method", Model.sines, (W,)),
    ("partial with a keyword", functools.partial(weighted, X=X, c=2.0), (W,)),
    ("partial of a partial", functools.partial(functools.partial(weighted, c=0.5), X=X), (W,)),
    ("np.sum", np.sum, (W,)),
    ("lambda over a primitive", lambda v: np.sum(np.sin(v) * v), (W,)),
]


@pytest.mark.parametrize("name, f, args", CASES, ids=[c[0] for c in CASES])
def test_callables_in_both_modes_and_at_second_order(name, f, args):
    want = numerical_grad(f, args, 0)
    np.testing.assert_allclose(s2sad.grad(f)(*args), want, rtol=1e-6, atol=1e-9)
    value, pullback = s2sad.vjp(f, *args)
    np.testing.assert_allclose(pullback(1.0), want, rtol=1e-6, atol=1e-9)
    v = np.array([0.7, -1.1])
    _, slope = s2sad.jvp(f, args, (v,) + (None,) * (len(args) - 1))
    np.testing.assert_allclose(slope, want @ v, rtol=1e-6)
    gradient = s2sad.grad(f)
    h = 1e-6
    hv = (gradient(W + h * v, *args[1:]) - gradient(W - h * v, *args[1:])) / (2 * h)
    np.testing.assert_allclose(s2sad.hvp(f)(W, v, *args[1:]), hv, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("f, x, want", [(np.tanh, 0.5, 1 - np.tanh(0.5) ** 2), (math.sin, 0.5, math.cos(0.5)),
                                        (np.exp, 0.2, np.exp(0.2))])
def test_primitives_with_rules_are_differentiated(f, x, want):
    assert s2sad.grad(f)(x) == pytest.approx(want, rel=1e-12)
    assert s2sad.jvp(f, (x,), (2.0,))[1] == pytest.approx(2.0 * want, rel=1e-12)
    second = s2sad.grad(s2sad.grad(f))(x)
    assert second == pytest.approx((s2sad.grad(f)(x + 1e-6) - s2sad.grad(f)(x - 1e-6)) / 2e-6, rel=1e-5)


def test_differentiated_argument_passed_by_keyword():
    want0, want1 = numerical_grad(weighted, (W, X), 0), numerical_grad(weighted, (W, X), 1)
    np.testing.assert_allclose(s2sad.grad(weighted)(w=W, X=X), want0, rtol=1e-6)
    np.testing.assert_allclose(s2sad.grad(weighted, wrt=1)(W, X=X), want1, rtol=1e-6)
    g0, g1 = s2sad.grad(weighted, wrt=(0, 1))(X=X, w=W)
    np.testing.assert_allclose(g0, want0, rtol=1e-6)
    np.testing.assert_allclose(g1, want1, rtol=1e-6)
    value, pullback = s2sad.vjp(weighted, W, X=X, c=3.0)
    np.testing.assert_allclose(pullback(1.0), 3.0 * want0, rtol=1e-6)


def test_the_object_a_method_is_bound_to_is_read_live():
    model = Model(1.0)
    g = s2sad.grad(model.loss)
    first = g(W, X)
    model.scale = 3.0
    np.testing.assert_allclose(g(W, X), 3.0 * first, rtol=1e-12)
