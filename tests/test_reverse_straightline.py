"""Reverse mode on straight-line code: every gradient against finite differences,
and against a hand-derived formula where one is short."""
import math
from math import sin as msin

import re

import numpy as np
import numpy as onp
import pytest
from numpy import exp as nexp

import s2sad
from s2sad.testing import check_grads


# --- Python arithmetic on floats -------------------------------------------------------
def poly(x, y):
    z = x * y + x ** 3 - y / x
    w = -z + 2.0 * (x - y) % 5.0
    return w * +x


def test_python_arithmetic():
    check_grads(poly, (1.3, 0.7), wrt=(0, 1))
    gx = s2sad.grad(poly)(1.3, 0.7)
    assert isinstance(gx, float)


def floordiv_and_mod(x):
    return x // 2.0 + x % 0.5 + x


def test_floordiv_contributes_nothing():
    assert s2sad.grad(floordiv_and_mod)(3.3) == pytest.approx(2.0)


def math_chain(x, y):
    a = math.sin(x) * math.cos(y) + math.tan(x / 3)
    b = math.asin(x / 4) + math.acos(y / 3) + math.atan(x) + math.atan2(y, x)
    c = math.sinh(x) + math.cosh(y) + math.tanh(x * y)
    d = math.exp(x) + math.expm1(y) + math.log(x) + math.log(y, 3.0) + math.log1p(x) + math.log2(x) + math.log10(y)
    e = math.sqrt(x) + math.pow(x, y) + math.hypot(x, y) + math.erf(x - y)
    return a + b + c + d + e + msin(x)


def test_math_functions():
    check_grads(math_chain, (0.9, 1.4), wrt=(0, 1))


def builtins_fn(x, y):
    return abs(x - y) + max(x, y) * min(x, 2.0 * y) + sum([x, y, x * y]) + float(x)


def test_builtins():
    check_grads(builtins_fn, (0.9, 1.4), wrt=(0, 1))
    check_grads(builtins_fn, (1.9, 0.4), wrt=(0, 1))


# --- NumPy ----------------------------------------------------------------------------------
def logistic(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def test_logistic_regression_matches_hand_formula(rng):
    X = rng.normal(size=(30, 4))
    y = (rng.random(30) > 0.5).astype(float)
    w = rng.normal(size=4)
    g = check_grads(logistic, (w, X, y))
    p = 1 / (1 + np.exp(-X @ w))
    np.testing.assert_allclose(g, X.T @ (p - y) / len(y), rtol=1e-12)


def aliases(x):
    return onp.sum(nexp(x) * onp.linalg.norm(x))


def test_import_aliases(rng):
    check_grads(aliases, (rng.normal(size=5),))


def broadcasting(a, b, c):
    return np.sum((a + b) * c - a / (1.0 + b ** 2) + np.maximum(a, c) - np.minimum(b, c))


@pytest.mark.parametrize("shapes", [((3, 4), (4,), (3, 1)), ((2, 3), (1, 3), ()), ((), (5,), (2, 1))])
def test_broadcasting(rng, shapes):
    args = [rng.normal(size=s) if s else float(rng.normal()) for s in shapes]
    check_grads(broadcasting, args, wrt=(0, 1, 2))


def reductions(x):
    a = np.sum(x, axis=0) + np.mean(x, axis=1, keepdims=True).sum()
    b = x.sum(axis=1).prod() + x.max() + np.min(x, axis=0).sum()
    c = np.var(x) + np.std(x, axis=0).sum() + x.var(ddof=1) + x.mean()
    return np.sum(a) + b + c


def test_reductions(rng):
    check_grads(reductions, (rng.normal(size=(3, 4)),))


def products(A, B, v):
    a = np.sum(A @ B) + v @ A @ B @ v + np.dot(v, v) + np.inner(v, v) + np.sum(np.outer(v, v))
    b = np.einsum("ij,jk->", A, B) + np.einsum("ij,j->i", A, v).sum() + np.tensordot(A, B.T, axes=2)
    return a + b + np.trace(A @ B) + A.dot(B).sum()


def test_products(rng):
    check_grads(products, (rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), rng.normal(size=3)), wrt=(0, 1, 2))


def shapes_fn(x, y):
    a = np.transpose(x).reshape(6) + x.T.ravel() + np.squeeze(x[None]).reshape(-1)
    b = np.concatenate([x, y], axis=0).sum(0) + np.stack([x, y]).sum(axis=(0, 1))
    c = np.hstack([x, y]).sum() + np.vstack([x, y]).mean() + np.expand_dims(x, 0).sum()
    return np.sum(a * a) + np.sum(b ** 2) + c + np.array([x[0, 0], y[1, 2], 3.0]).sum()


def test_shape_functions(rng):
    check_grads(shapes_fn, (rng.normal(size=(2, 3)), rng.normal(size=(2, 3))), wrt=(0, 1))


def indexing(x, i):
    a = x[0] + x[-1] + x[1:3].sum() + x[::2].sum() + x[:, 0].sum()
    b = x[None, 1, ..., ::-1].sum() + x[np.array([0, 0, 2])].sum() + x[x > 0].sum()
    return np.sum(a) + b + x[i, 1] * x[1, i]


def test_indexing(rng):
    check_grads(indexing, (rng.normal(size=(4, 3)), 2))


def elementwise(x):
    a = np.sin(x) + np.cos(x) + np.tan(x) + np.arcsin(x / 2) + np.arccos(x / 2) + np.arctan(x)
    b = np.sinh(x) + np.cosh(x) + np.tanh(x) + np.exp(x) + np.expm1(x) + np.log(x + 2) + np.log1p(x + 1)
    c = np.log2(x + 2) + np.log10(x + 2) + np.sqrt(x + 2) + np.square(x) + np.reciprocal(x + 3) + np.power(x + 2, 1.5)
    d = np.negative(x) + np.absolute(x) + np.sign(x) + np.clip(x, -0.5, 0.5) + np.arctan2(x, 2.0) + np.hypot(x, 1.0)
    e = np.logaddexp(x, 0.5) + np.sinc(x) + np.where(x > 0, x ** 2, -x) + np.abs(x)
    return np.sum(a + b + c + d + e)


def test_elementwise(rng):
    check_grads(elementwise, (rng.uniform(-0.9, 0.9, size=7),))


def linalg_fn(A, b):
    S = A @ A.T + 3 * np.eye(3)
    x = np.linalg.solve(S, b)
    sign, logdet = np.linalg.slogdet(S)
    L = np.linalg.cholesky(S)
    return np.sum(x ** 2) + logdet + np.linalg.det(S) + np.sum(np.linalg.inv(S)) + np.sum(L) + np.linalg.norm(A)


def test_linalg(rng):
    check_grads(linalg_fn, (rng.normal(size=(3, 3)), rng.normal(size=3)), wrt=(0, 1))


# --- normalization constructs ------------------------------------------------------------------
def constructs(x, y):
    a, b = x * 2, y + 1
    a, b = b, a
    t = (a, b)
    c, d = t
    z = x
    z += y
    z *= 2
    u = a if y > 0 else b
    v = x if (x > 0 and y > 0) or x < -1 else -x
    w = 1 if 0 < y < 2 else 0
    return c * d + z + u + v * w


def test_normalization_constructs():
    check_grads(constructs, (1.5, 0.7), wrt=(0, 1))
    check_grads(constructs, (-1.5, -0.7), wrt=(0, 1))


def keywords_defaults(x, scale=2.0, *, shift=1.0):
    return np.sum(np.clip(x, a_min=-1.0, a_max=1.0) * scale + shift)


def test_keywords_and_defaults(rng):
    x = rng.normal(size=4)
    check_grads(keywords_defaults, (x,))
    check_grads(keywords_defaults, (x, 3.0), wrt=(0, 1))
    assert s2sad.grad(keywords_defaults)(x, shift=5.0) is not None


# --- types and dtypes ------------------------------------------------------------------
def cube_sum(x):
    return np.sum(x ** 3)


def test_float32_gradient_keeps_dtype():
    x = np.arange(3, dtype=np.float32)
    g = s2sad.grad(cube_sum)(x)
    assert g.dtype == np.float32 and g.shape == (3,)
    np.testing.assert_allclose(g, 3 * x ** 2)


def square(x):
    return x * x


def test_int_argument_is_refused_with_a_hint_to_pass_a_float():
    with pytest.raises(s2sad.WrtError, match=r"pass a float \(e\.g\. 3\.0"):
        s2sad.grad(square)(3)
    with pytest.raises(s2sad.WrtError, match="integers"):
        s2sad.grad(square)(np.array([1, 2]))
    with pytest.raises(s2sad.WrtError, match="booleans"):
        s2sad.grad(square)(True)
    with pytest.raises(s2sad.WrtError, match="complex"):
        s2sad.grad(square)(1.0 + 2.0j)
    g = s2sad.grad(square)(3.0)
    assert type(g) is float and g == 6.0


def _total(x):
    return np.sum(x * x)


@pytest.mark.parametrize("call, name", [
    (lambda x: s2sad.jvp(_total, (x,), (np.ones(2),)), "jvp(_total)"),
    (lambda x: s2sad.vjp(_total, x), "vjp(_total)"),
    (lambda x: s2sad.hvp(_total)(x, np.ones(2)), "hvp(_total)"),
    (lambda x: s2sad.hessian(_total)(x), "hessian(_total)"),
    (lambda x: s2sad.jacobian(_total)(x), "jacobian(_total)"),
    (lambda x: s2sad.jacobian(_total, mode="forward")(x), "jacobian(_total)"),
    (lambda x: s2sad.value_and_grad(_total)(x), "value_and_grad(_total)"),
])
def test_every_entry_point_refuses_integer_arguments_naming_itself(call, name):
    with pytest.raises(s2sad.WrtError, match=re.escape(name) + ".*holds integers.*pass a float"):
        call(np.array([1, 2]))
    with pytest.raises(s2sad.WrtError, match="complex"):
        call(np.array([1.0 + 1j, 2.0]))


def _double(x):
    return 2.0 * x


def test_tangents_cotangents_and_hvp_vectors_of_the_wrong_shape_are_errors_not_numbers():
    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match=r"jvp\(_double\): the tangent of argument 0 has shape \(3,\) but should "
                                         r"have shape \(2,\)"):
        s2sad.jvp(_double, (x,), (np.ones(3),))
    with pytest.raises(ValueError, match=r"the cotangent has shape \(3,\) but should have shape \(2,\)"):
        s2sad.vjp(_double, x)[1](np.ones(3))
    with pytest.raises(ValueError, match=r"the cotangent has shape \(\) but should have shape \(2,\)"):
        s2sad.vjp(_double, x)[1](1.0)                                 # no silent broadcasting either
    with pytest.raises(ValueError, match=r"hvp\(_total\): the vector v .* has shape \(3,\)"):
        s2sad.hvp(_total)(x, np.ones(3))
    np.testing.assert_allclose(s2sad.vjp(_double, x)[1](np.ones(2)), [2.0, 2.0])


def test_inactive_argument_gets_zeros(rng):
    def only_y(x, y):
        return np.sum(y * 2.0)
    g = s2sad.grad(only_y)(np.ones(3), np.ones(3))
    assert g.shape == (3,) and not g.any()
