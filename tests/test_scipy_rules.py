"""Rules for ``scipy.special`` (s2sad/rules/scipy_special.py), skipped when scipy is missing.

Each function is checked on a Python float and on arrays: ``s2sad.grad`` and ``s2sad.jvp``
against central differences, against each other and against the derivative by hand;
second derivatives with ``grad(grad(f))`` (floats) and ``s2sad.hessian`` (arrays) against
differences of the gradient. Then logsumexp with ``axis``/``keepdims``, the arguments its
rules refuse, import styles, and that ``import s2sad`` does not import scipy.
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads

from .sources import load_module

special = pytest.importorskip("scipy.special")

EPS = 1e-6
RTOL, ATOL = 1e-6, 1e-8


def real(rng, shape):
    return rng.standard_normal(shape)


def pos(rng, shape):
    return rng.uniform(0.5, 3.0, shape)


def prob(rng, shape):                                   # logit's domain (0, 1)
    return rng.uniform(0.1, 0.9, shape)


# name: (domain, first derivative by hand, second derivative by hand)
UNARY = {
    "expit": (real, lambda x: special.expit(x) * (1 - special.expit(x)),
              lambda x: special.expit(x) * (1 - special.expit(x)) * (1 - 2 * special.expit(x))),
    "logit": (prob, lambda x: 1 / (x * (1 - x)), lambda x: (2 * x - 1) / (x * (1 - x)) ** 2),
    "log_expit": (real, lambda x: special.expit(-x), lambda x: -special.expit(x) * special.expit(-x)),
    "erf": (real, lambda x: 2 / np.sqrt(np.pi) * np.exp(-x ** 2), lambda x: -4 * x / np.sqrt(np.pi) * np.exp(-x ** 2)),
    "erfc": (real, lambda x: -2 / np.sqrt(np.pi) * np.exp(-x ** 2), lambda x: 4 * x / np.sqrt(np.pi) * np.exp(-x ** 2)),
    "gamma": (pos, lambda x: special.gamma(x) * special.digamma(x),
              lambda x: special.gamma(x) * (special.digamma(x) ** 2 + special.polygamma(1, x))),
    "gammaln": (pos, special.digamma, lambda x: special.polygamma(1, x)),
    "digamma": (pos, lambda x: special.polygamma(1, x), lambda x: special.polygamma(2, x)),
    "expm1": (real, np.exp, np.exp),
    "log1p": (pos, lambda x: 1 / (1 + x), lambda x: -1 / (1 + x) ** 2),
    "ndtr": (real, lambda x: _phi(x), lambda x: -x * _phi(x)),
    "log_ndtr": (real, lambda x: _phi(x) / special.ndtr(x),
                 lambda x: -x * _phi(x) / special.ndtr(x) - (_phi(x) / special.ndtr(x)) ** 2),
    "ndtri": (prob, lambda p: 1 / _phi(special.ndtri(p)), lambda p: special.ndtri(p) / _phi(special.ndtri(p)) ** 2),
    "j0": (pos, lambda x: -special.j1(x), lambda x: -0.5 * (special.j0(x) - special.jv(2, x))),
    "j1": (pos, lambda x: 0.5 * (special.j0(x) - special.jv(2, x)),
           lambda x: 0.25 * (special.jv(3, x) - 3 * special.j1(x))),
    "y0": (pos, lambda x: -special.y1(x), lambda x: -0.5 * (special.y0(x) - special.yn(2, x))),
    "y1": (pos, lambda x: 0.5 * (special.y0(x) - special.yn(2, x)),
           lambda x: 0.25 * (special.yn(3, x) - 3 * special.y1(x))),
    "erfinv": (prob, lambda x: 0.5 * np.sqrt(np.pi) * np.exp(special.erfinv(x) ** 2),
               lambda x: 0.5 * np.pi * special.erfinv(x) * np.exp(2 * special.erfinv(x) ** 2)),
    "erfcinv": (prob, lambda x: -0.5 * np.sqrt(np.pi) * np.exp(special.erfcinv(x) ** 2),
                lambda x: 0.5 * np.pi * special.erfcinv(x) * np.exp(2 * special.erfcinv(x) ** 2)),
    "rgamma": (pos, lambda x: -special.rgamma(x) * special.digamma(x),
               lambda x: special.rgamma(x) * (special.digamma(x) ** 2 - special.polygamma(1, x))),
    "i0": (real, special.i1, lambda x: 0.5 * (special.i0(x) + special.iv(2, x))),
    "i1": (real, lambda x: 0.5 * (special.i0(x) + special.iv(2, x)),
           lambda x: 0.5 * (special.i1(x) + 0.5 * (special.iv(1, x) + special.iv(3, x)))),
}


def _phi(x):
    return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
# name: (domains, d/dx, d/dy by hand)
BINARY = {
    "xlogy": ((real, pos), lambda x, y: np.log(y), lambda x, y: x / y),
    "xlog1py": ((real, pos), lambda x, y: np.log1p(y), lambda x, y: x / (1 + y)),
    "betaln": ((pos, pos), lambda x, y: special.digamma(x) - special.digamma(x + y),
               lambda x, y: special.digamma(y) - special.digamma(x + y)),
    "beta": ((pos, pos), lambda x, y: special.beta(x, y) * (special.digamma(x) - special.digamma(x + y)),
             lambda x, y: special.beta(x, y) * (special.digamma(y) - special.digamma(x + y))),
}

SOURCE = "import numpy as np\nfrom scipy import special\n\n\n" + "".join(
    f"def {name}_scalar(x):\n    return special.{name}(x)\n\n\n"
    f"def {name}_array(x, w):\n    return np.sum(special.{name}(x) * w)\n\n\n" for name in UNARY) + "".join(
    f"def {name}_scalar(x, y):\n    return special.{name}(x, y)\n\n\n"
    f"def {name}_array(x, y, w):\n    return np.sum(special.{name}(x, y) * w)\n\n\n" for name in BINARY) + textwrap.dedent("""
    def polygamma_scalar(x, n):
        return special.polygamma(n, x)


    def polygamma_array(x, w):
        return np.sum(special.polygamma(2, x) * w)


    def logsumexp_all(a):
        return special.logsumexp(a)


    def logsumexp_sq(a, axis, keepdims, w):
        return np.sum(special.logsumexp(a, axis=axis, keepdims=keepdims) ** 2 * w)


    def logsumexp_positional(a, w):
        return np.sum(special.logsumexp(a, 1) * w)


    def logsumexp_b(a, b):
        return special.logsumexp(a, b=b)


    def logsumexp_sign(a):
        lse, sign = special.logsumexp(a, return_sign=True)
        return lse * sign


    def bessel_jy(x, w):
        return np.sum((special.jv(1.5, x) + special.jv(0, x) * special.yn(2, x) + special.yn(0, x)) * w)


    def bessel_mix(x, w):
        return np.sum((special.iv(1.5, x) + special.ive(0, x) * x + special.multigammaln(x[0] + 3.0, 2)) * w)
    def softmax_mix(a, w):
        return np.sum(special.softmax(a, axis=1) * w) + np.sum(special.log_softmax(a, axis=0) * w ** 2)
    def entropy(p):
        return -np.sum(special.xlogy(p, p))


    def log_likelihood(w, X, y):
        z = X @ w
        return np.sum(y * special.log_expit(z) + (1 - y) * special.log_expit(-z)) - special.logsumexp(w)
    """)


@pytest.fixture(scope="module")
def fns(tmp_path_factory):
    """The functions above, written to a real file (s2sad reads their source)."""
    return load_module(tmp_path_factory.mktemp("scipy_rules") / "scipy_functions.py", SOURCE)


def central(f, x, v, eps=EPS):
    return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)


def derivative_of_grad(grad_f, x, *rest):
    """d/dx of a gradient of a function of a float, by central differences."""
    return (grad_f(x + EPS, *rest) - grad_f(x - EPS, *rest)) / (2 * EPS)


def hessian_by_differences(grad_f, x, *rest):
    """Columns of the Hessian of an array function: central differences of its gradient."""
    h = np.zeros(x.shape + x.shape)
    for k in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[k] = 1.0
        h[(...,) + k] = central(lambda z: grad_f(z, *rest), x, e)
    return h


# --- elementwise functions of one argument ---------------------------------------------------------
@pytest.mark.parametrize("name", UNARY)
def test_unary_scalar(name, fns, rng):
    domain, d1, d2 = UNARY[name]
    f = getattr(fns, f"{name}_scalar")
    x = float(domain(rng, ()))
    g = s2sad.grad(f)(x)
    assert isinstance(g, float)
    np.testing.assert_allclose(g, central(f, x, 1.0), rtol=RTOL, atol=ATOL)       # finite differences
    np.testing.assert_allclose(g, d1(x), rtol=1e-12)                                # by hand
    value, tangent = s2sad.jvp(f, (x,), (1.0,))
    assert value == f(x)
    np.testing.assert_allclose(tangent, g, rtol=1e-12)                              # forward == reverse
    gg = s2sad.grad(s2sad.grad(f))(x)
    np.testing.assert_allclose(gg, derivative_of_grad(s2sad.grad(f), x), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gg, d2(x), rtol=1e-10)
    np.testing.assert_allclose(s2sad.jvp(s2sad.grad(f), (x,), (1.0,))[1], gg, rtol=1e-12)   # forward over reverse


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", [(4,), (2, 3)])
def test_unary_array(name, shape, fns, rng):
    domain, d1, d2 = UNARY[name]
    f = getattr(fns, f"{name}_array")
    x, w, v = domain(rng, shape), rng.standard_normal(shape), rng.standard_normal(shape)
    check_grads(f, (x, w), order=2)                         # grad, vjp, jvp and Hessian-vector products
    g = s2sad.grad(f)(x, w)
    np.testing.assert_allclose(g, w * d1(x), rtol=1e-12)
    _, tangent = s2sad.jvp(f, (x, w), (v, None))
    np.testing.assert_allclose(tangent, central(lambda z: f(z, w), x, v), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(tangent, np.sum(g * v), rtol=1e-10)
    h = s2sad.hessian(f)(x, w)
    np.testing.assert_allclose(h, hessian_by_differences(s2sad.grad(f), x, w), rtol=RTOL, atol=1e-7)
    np.testing.assert_allclose(h.reshape(x.size, x.size), np.diag((w * d2(x)).ravel()), rtol=1e-10, atol=1e-12)


def test_gammaln_third_and_fourth_derivatives(fns):
    """digamma' = polygamma(1, .), whose derivative is polygamma(2, .): any order works."""
    f, x = fns.gammaln_scalar, 1.7
    third = s2sad.grad(s2sad.grad(s2sad.grad(f)))
    np.testing.assert_allclose(third(x), special.polygamma(2, x), rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(third)(x), special.polygamma(3, x), rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(third)(x), derivative_of_grad(third, x), rtol=RTOL)


def test_digamma_is_psi():
    assert special.psi is special.digamma             # one object, so one rule serves both names


# --- polygamma: differentiable in x, not in the order n --------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_polygamma_scalar(n, fns):
    f, x = fns.polygamma_scalar, 1.3
    np.testing.assert_allclose(s2sad.grad(f)(x, n), special.polygamma(n + 1, x), rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(f)(x, n), central(lambda z: f(z, n), x, 1.0), rtol=RTOL)
    np.testing.assert_allclose(s2sad.jvp(f, (x, n), (1.0, None))[1], special.polygamma(n + 1, x), rtol=1e-12)
    gg = s2sad.grad(s2sad.grad(f))(x, n)
    np.testing.assert_allclose(gg, special.polygamma(n + 2, x), rtol=1e-12)
    np.testing.assert_allclose(gg, derivative_of_grad(s2sad.grad(f), x, n), rtol=RTOL)


def test_polygamma_array(fns, rng):
    x, w = pos(rng, (2, 3)), rng.standard_normal((2, 3))
    check_grads(fns.polygamma_array, (x, w), order=2)
    np.testing.assert_allclose(s2sad.grad(fns.polygamma_array)(x, w), w * special.polygamma(3, x), rtol=1e-12)
    h = s2sad.hessian(fns.polygamma_array)(x, w)
    np.testing.assert_allclose(h, hessian_by_differences(s2sad.grad(fns.polygamma_array), x, w), rtol=RTOL, atol=1e-6)


# --- functions of two arguments, broadcasting ------------------------------------------------------
@pytest.mark.parametrize("name", BINARY)
def test_binary_scalar(name, fns, rng):
    (dx, dy), hand_x, hand_y = BINARY[name]
    f = getattr(fns, f"{name}_scalar")
    x, y = float(dx(rng, ())), float(dy(rng, ()))
    gx, gy = s2sad.grad(f, wrt=(0, 1))(x, y)
    np.testing.assert_allclose((gx, gy), (hand_x(x, y), hand_y(x, y)), rtol=1e-12)
    np.testing.assert_allclose(gx, central(lambda z: f(z, y), x, 1.0), rtol=RTOL)
    np.testing.assert_allclose(gy, central(lambda z: f(x, z), y, 1.0), rtol=RTOL)
    np.testing.assert_allclose(s2sad.jvp(f, (x, y), (0.3, -0.7))[1], 0.3 * gx - 0.7 * gy, rtol=1e-12)
    dyy = s2sad.grad(s2sad.grad(f, wrt=1), wrt=1)(x, y)
    np.testing.assert_allclose(dyy, derivative_of_grad(lambda z, a: s2sad.grad(f, wrt=1)(a, z), y, x), rtol=RTOL)
    dxy = s2sad.grad(s2sad.grad(f, wrt=0), wrt=1)(x, y)               # mixed: d/dy log(y) = 1/y, ...
    np.testing.assert_allclose(dxy, derivative_of_grad(lambda z, a: s2sad.grad(f)(a, z), y, x), rtol=RTOL)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("x_shape, y_shape", [((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((), (2, 3))])
def test_binary_array(name, x_shape, y_shape, fns, rng):
    (dx, dy), _, _ = BINARY[name]
    f = getattr(fns, f"{name}_array")
    x, y = dx(rng, x_shape), dy(rng, y_shape)
    x = float(x) if x_shape == () else x
    w = rng.standard_normal(np.broadcast_shapes(x_shape, y_shape))
    check_grads(f, (x, y, w), wrt=(0, 1), order=2)
    h = s2sad.hessian(f, wrt=1)(x, y, w)
    by_differences = hessian_by_differences(lambda z, a, b: s2sad.grad(f, wrt=1)(a, z, b), y, x, w)
    np.testing.assert_allclose(h, by_differences, rtol=RTOL, atol=1e-7)


def test_xlogy_at_zero(fns):
    """xlogy(0, y) = 0 (scipy's definition), and x log(y) is linear in x: d/dx at x = 0 is log(y)."""
    f = fns.xlogy_scalar
    assert f(0.0, 2.5) == 0.0
    gx, gy = s2sad.grad(f, wrt=(0, 1))(0.0, 2.5)
    np.testing.assert_allclose(gx, np.log(2.5), rtol=1e-12)
    np.testing.assert_allclose(gx, central(lambda z: f(z, 2.5), 0.0, 1.0), rtol=RTOL)
    assert gy == 0.0


def test_entropy(fns, rng):
    """-sum p log p: d/dp = -(log p + 1), d2 = -1/p (both arguments of xlogy are p)."""
    p = rng.uniform(0.1, 1.0, 5)
    np.testing.assert_allclose(s2sad.grad(fns.entropy)(p), -(np.log(p) + 1), rtol=1e-12)
    np.testing.assert_allclose(s2sad.hessian(fns.entropy)(p), np.diag(-1 / p), rtol=1e-12, atol=1e-14)


# --- logsumexp -------------------------------------------------------------------------------------
def softmax(a, axis):
    return np.exp(a - special.logsumexp(a, axis=axis, keepdims=True))


@pytest.mark.parametrize("shape", [(5,), (3, 4)])
def test_logsumexp_all(shape, fns, rng):
    a = 3 * rng.standard_normal(shape)
    check_grads(fns.logsumexp_all, (a,), order=2)
    np.testing.assert_allclose(s2sad.grad(fns.logsumexp_all)(a), softmax(a, None), rtol=1e-12)
    v = rng.standard_normal(shape)
    _, tangent = s2sad.jvp(fns.logsumexp_all, (a,), (v,))
    np.testing.assert_allclose(tangent, central(fns.logsumexp_all, a, v), rtol=RTOL)
    np.testing.assert_allclose(tangent, np.sum(softmax(a, None) * v), rtol=1e-12)
    s = softmax(a, None).ravel()                        # Hessian by hand: diag(s) - s s^T
    h = s2sad.hessian(fns.logsumexp_all)(a).reshape(a.size, a.size)
    np.testing.assert_allclose(h, np.diag(s) - np.outer(s, s), rtol=1e-10, atol=1e-14)


def test_logsumexp_float(fns):
    assert isinstance(s2sad.grad(fns.logsumexp_all)(0.7), float)
    np.testing.assert_allclose(s2sad.grad(fns.logsumexp_all)(0.7), 1.0)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_axis_keepdims(axis, keepdims, fns, rng):
    a = 2 * rng.standard_normal((3, 4))
    w = rng.standard_normal(np.shape(special.logsumexp(a, axis=axis, keepdims=keepdims)))
    check_grads(fns.logsumexp_sq, (a, axis, keepdims, w), order=2)
    lse = special.logsumexp(a, axis=axis, keepdims=True)
    by_hand = 2 * np.reshape(special.logsumexp(a, axis=axis, keepdims=keepdims) * w, np.shape(lse)) * softmax(a, axis)
    np.testing.assert_allclose(s2sad.grad(fns.logsumexp_sq)(a, axis, keepdims, w), by_hand, rtol=1e-10)
    v = rng.standard_normal(a.shape)
    _, tangent = s2sad.jvp(fns.logsumexp_sq, (a, axis, keepdims, w), (v, None, None, None))
    np.testing.assert_allclose(tangent, central(lambda z: fns.logsumexp_sq(z, axis, keepdims, w), a, v), rtol=RTOL)
    h = s2sad.hessian(fns.logsumexp_sq)(a, axis, keepdims, w)
    np.testing.assert_allclose(h, hessian_by_differences(s2sad.grad(fns.logsumexp_sq), a, axis, keepdims, w),
                               rtol=RTOL, atol=1e-7)


def test_logsumexp_positional_axis_and_3d(fns, rng):
    a, w = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4))
    check_grads(fns.logsumexp_positional, (a, w), order=2)
    check_grads(fns.logsumexp_sq, (a, (0, 2), True, rng.standard_normal((1, 3, 1))), order=2)


def test_logsumexp_is_stable(fns):
    a = np.array([1000.0, 1000.0, -1000.0])             # exp(a) overflows; the softmax weights do not
    np.testing.assert_allclose(s2sad.grad(fns.logsumexp_all)(a), [0.5, 0.5, 0.0], atol=1e-300)
    np.testing.assert_allclose(s2sad.hessian(fns.logsumexp_all)(a)[:2, :2], [[0.25, -0.25], [-0.25, 0.25]])


def test_logsumexp_with_weights_and_the_sign_refused(fns):
    a, b = np.array([0.3, -0.5, 1.2]), np.array([0.5, 1.0, 2.0])
    e = np.exp(a) * b / np.sum(np.exp(a) * b)
    np.testing.assert_allclose(s2sad.grad(fns.logsumexp_b, wrt=(0, 1))(a, b), (e, e / b), rtol=1e-12)
    check_grads(fns.logsumexp_b, (a, b), order=2)
    for derivative in (lambda: s2sad.grad(fns.logsumexp_sign)(np.zeros(3)),
                       lambda: s2sad.jvp(fns.logsumexp_sign, (np.zeros(3),), (np.ones(3),))):
        with pytest.raises(s2sad.UnsupportedValueError, match="return_sign=True"):
            derivative()


def test_in_a_model(fns, rng):
    """log_expit and logsumexp together, in a function of a weight vector."""
    X, y, w = rng.standard_normal((6, 3)), (rng.random(6) > 0.5) * 1.0, rng.standard_normal(3)
    check_grads(fns.log_likelihood, (w, X, y), order=2)


# --- how users import scipy, and how s2sad does not ------------------------------------------------
def run(code):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_importing_s2sad_does_not_import_scipy():
    run("import s2sad, sys; assert 'scipy' not in sys.modules, sorted(m for m in sys.modules if 'scipy' in m)")


IMPORT_STYLES = """
    import math
    import numpy as np
    import scipy
    import scipy.special as sc
    from scipy.special import expit
    from scipy import special


    def f(x):
        return expit(x) + sc.erf(x) + special.gammaln(x) + scipy.special.logsumexp(np.array([x, 2 * x]))
    """
CHECK = """
    import sys
    sys.path.insert(0, {folder!r})
    {first}
    import numpy as np
    from scipy import special
    from styles import f
    import s2sad
    from s2sad.rules import scipy_special
    assert scipy_special._FINDER not in sys.meta_path        # the finder has left, the loader is as it was
    assert "exec_module" not in vars(special.__spec__.loader)
    x = 1.3
    by_hand = (special.expit(x) * (1 - special.expit(x)) + 2 / np.sqrt(np.pi) * np.exp(-x * x) + special.digamma(x)
               + (np.exp(x) + 2 * np.exp(2 * x)) / (np.exp(x) + np.exp(2 * x)))
    assert abs(s2sad.grad(f)(x) - by_hand) < 1e-12, (s2sad.grad(f)(x), by_hand)
    """


@pytest.mark.parametrize("first", ["import s2sad", "import scipy.special"])
def test_rules_registered_whichever_is_imported_first(first, tmp_path):
    (tmp_path / "styles.py").write_text(textwrap.dedent(IMPORT_STYLES))
    run(CHECK.format(folder=str(tmp_path), first=first))


def test_an_unexpected_scipy_breaks_nothing():
    """A scipy.special without the functions (an old or broken scipy): a warning, and s2sad still imports."""
    run("""
        import sys, types, warnings
        sys.modules["scipy.special"] = types.ModuleType("scipy.special")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import s2sad
        assert any("no derivative rules for scipy.special" in str(w.message) for w in caught), caught
        """)


@pytest.mark.parametrize("name", ["bessel_mix", "bessel_jy", "softmax_mix"])
def test_bessel_multigammaln_softmax_to_second_order(name, fns, rng):
    x = rng.uniform(0.5, 2.0, (2, 3))
    check_grads(getattr(fns, name), (x, rng.standard_normal((2, 3))), order=2)


# Tested elsewhere in this file (beyond UNARY and BINARY), or in tests/test_incomplete.py (quadrature helpers).
TESTED_HERE = {"psi", "polygamma", "logsumexp", "iv", "ive", "jv", "yn", "multigammaln", "softmax", "log_softmax"}
TESTED_IN_INCOMPLETE = {"gammainc", "gammaincc", "betainc", "stdtr", "gammainc_d", "gamma_density_d", "betainc_d",
                        "beta_density_d", "stdtr_d", "t_density_d"}


def test_every_scipy_special_rule_has_a_test():
    """The meta-test of this table: a rule registered by rules/scipy_special.py that no test names fails it."""
    from s2sad.rules import registry
    ours = {getattr(prim, "__name__", repr(prim)) for prim, rule in registry.registered_vjps()
            if getattr(rule, "__module__", None) == "s2sad.rules.scipy_special"}
    assert len(ours) > 20
    untested = ours - set(UNARY) - set(BINARY) - TESTED_HERE - TESTED_IN_INCOMPLETE
    assert not untested, f"scipy.special rules without a test: {sorted(untested)}"


def test_logsumexp_a_zero_weight_masks_a_large_item(fns):
    """0 * exp(a - ans) at the masked item was NaN (its exp overflows): a zero weight gives that item no weight."""
    a, b = np.array([0.3, 800.0, 1.1]), np.array([1.0, 0.0, 1.0])
    e = np.exp(a[[0, 2]]) / np.sum(np.exp(a[[0, 2]]))
    np.testing.assert_allclose(s2sad.grad(fns.logsumexp_b)(a, b), [e[0], 0.0, e[1]], rtol=1e-12)
    assert s2sad.jvp(fns.logsumexp_b, (a, b), (np.ones(3), None))[1] == pytest.approx(1.0, rel=1e-12)
