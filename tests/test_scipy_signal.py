"""Rules for ``scipy.signal``'s convolutions (s2sad/rules/scipy_signal.py), skipped when scipy is missing.

``convolve``, ``correlate``, ``fftconvolve`` and ``oaconvolve`` in every mode, in one, two and three dimensions, with
either argument the larger, and every ``method``: ``check_grads`` at order 2 (reverse mode against central
differences, forward against reverse, Hessian-vector products), forward mode against central differences,
and the derivative by hand (the functions are bilinear: the Jacobian with respect to one argument is found
column by column, by convolving unit arrays, and its transpose applied to the weights is the gradient).
The Hessian against differences of the gradient; float32 stays float32; refusals.
"""

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads

from .sources import load_module

signal = pytest.importorskip("scipy.signal")

EPS = 1e-6
RTOL, ATOL = 1e-6, 1e-8

SOURCE = '''
import numpy as np
import scipy.signal
from scipy import signal
from scipy.signal import fftconvolve, oaconvolve


def convolve(x, y, w, mode, method):
    return np.sum(signal.convolve(x, y, mode, method) * w)


def correlate(x, y, w, mode, method):
    return np.sum(scipy.signal.correlate(x, y, mode=mode, method=method) * w)


def fft(x, y, w, mode):
    return np.sum(fftconvolve(x, y, mode) * w)


def overlap_add(x, y, w, mode):
    return np.sum(oaconvolve(x, y, mode=mode) * w)


def fft_squared(x, k):
    return np.sum(fftconvolve(x, k, "same") ** 2) + np.sum(oaconvolve(x, x) * np.cos(x[0]))


def fft_axes(x, y, w):
    return np.sum(fftconvolve(x, y, axes=0) * w)


def smooth_then_square(x, k):
    y = signal.convolve(x, k, mode="same")
    return np.sum(y * y) + np.sum(signal.correlate(x, y, mode="valid") ** 2)
'''


@pytest.fixture(scope="module")
def fns(tmp_path_factory):
    return load_module(tmp_path_factory.mktemp("scipy_signal") / "scipy_signal_functions.py", SOURCE)


def central(f, x, v, eps=EPS):
    return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)


def with_arg(args, i, value):
    args = list(args)
    args[i] = value
    return args


def by_hand(fn, x, y, w, i, *options):
    """The gradient of sum(fn(x, y, ...) * w) with respect to argument i (0 or 1): fn is linear in it."""
    args = [x, y]
    grad = np.zeros(np.shape(args[i]))
    for k in np.ndindex(grad.shape):
        e = np.zeros(grad.shape)
        e[k] = 1.0
        grad[k] = np.sum(fn(*with_arg(args, i, e), *options) * w)
    return grad


SHAPES = [((7,), (3,)), ((3,), (7,)), ((5,), (5,)), ((6,), (4,)), ((4, 5), (2, 3)), ((2, 3), (4, 5)),
          ((4, 3), (4, 2)), ((3, 4, 2), (2, 2, 2))]


def out_shape(fn, x, y, *options):
    return np.shape(fn(x, y, *options))


def check(f, scipy_fn, x, y, options, rng, order=2):
    w = rng.standard_normal(out_shape(scipy_fn, x, y, *options))
    args = (x, y, w) + tuple(options)
    check_grads(f, args, wrt=(0, 1), order=order)
    grads = s2sad.grad(f, wrt=(0, 1))(*args)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, by_hand(scipy_fn, x, y, w, i, *options), rtol=1e-9, atol=1e-12)
        v = rng.standard_normal(np.shape(args[i]))
        tangents = [None] * len(args)
        tangents[i] = v
        _, tangent = s2sad.jvp(f, args, tangents)
        np.testing.assert_allclose(tangent, central(lambda z: f(*with_arg(args, i, z)), args[i], v),
                                   rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(tangent, np.sum(g * v), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_convolve(shapes, mode, method, fns, rng):
    x, y = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    if mode == "valid" and not (all(a >= b for a, b in zip(*shapes)) or all(a <= b for a, b in zip(*shapes))):
        with pytest.raises(ValueError):
            signal.convolve(x, y, mode, method)
        return
    check(fns.convolve, signal.convolve, x, y, (mode, method), rng)


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_correlate(shapes, mode, method, fns, rng):
    x, y = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    if mode == "valid" and not (all(a >= b for a, b in zip(*shapes)) or all(a <= b for a, b in zip(*shapes))):
        return
    check(fns.correlate, signal.correlate, x, y, (mode, method), rng)


@pytest.mark.parametrize("shapes", SHAPES[:5], ids=str)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_fftconvolve_and_oaconvolve(shapes, mode, fns, rng):
    x, y = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    check(fns.fft, signal.fftconvolve, x, y, (mode,), rng)
    check(fns.overlap_add, signal.oaconvolve, x, y, (mode,), rng)


def test_hessian(fns, rng):
    """A function quadratic in x through convolve and correlate: its Hessian against differences of the
    gradient, and against the Hessian of the same function written with np.convolve (1-d)."""
    x, k = rng.standard_normal(6), rng.standard_normal(3)
    check_grads(fns.smooth_then_square, (x, k), wrt=(0, 1), order=2)
    h = s2sad.hessian(fns.smooth_then_square)(x, k)
    columns = [central(lambda z: s2sad.grad(fns.smooth_then_square)(z, k), x, e) for e in np.eye(6)]
    np.testing.assert_allclose(h, np.stack(columns, axis=-1), rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(h, h.T, rtol=1e-10, atol=1e-10)
    hk = s2sad.hessian(fns.smooth_then_square, wrt=1)(x, k)
    columns = [central(lambda z: s2sad.grad(fns.smooth_then_square, wrt=1)(x, z), k, e) for e in np.eye(3)]
    np.testing.assert_allclose(hk, np.stack(columns, axis=-1), rtol=RTOL, atol=1e-6)


def test_fftconvolve_hessian(fns, rng):
    x, k = rng.standard_normal(6), rng.standard_normal(3)
    check_grads(fns.fft_squared, (x, k), wrt=(0, 1), order=2)
    h = s2sad.hessian(fns.fft_squared)(x, k)
    columns = [central(lambda z: s2sad.grad(fns.fft_squared)(z, k), x, e) for e in np.eye(6)]
    np.testing.assert_allclose(h, np.stack(columns, axis=-1), rtol=RTOL, atol=1e-6)


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_float32_stays_float32(method, fns, rng):
    x, y = rng.standard_normal((5, 4)), rng.standard_normal((2, 3))
    for f, scipy_fn, options in [(fns.convolve, signal.convolve, ("same", method)),
                                 (fns.correlate, signal.correlate, ("valid", method)),
                                 (fns.fft, signal.fftconvolve, ("full",)),
                                 (fns.overlap_add, signal.oaconvolve, ("valid",))]:
        w = rng.standard_normal(out_shape(scipy_fn, x, y, *options))
        g64 = s2sad.grad(f, wrt=(0, 1))(x, y, w, *options)
        x32, y32, w32 = x.astype(np.float32), y.astype(np.float32), w.astype(np.float32)
        g32 = s2sad.grad(f, wrt=(0, 1))(x32, y32, w32, *options)
        for a, b in zip(g32, g64):
            assert a.dtype == np.float32
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
        hv = s2sad.hvp(f, wrt=1)(x32, y32, np.ones_like(y32), w32, *options)
        assert hv.dtype == np.float32


def test_fftconvolve_over_some_axes_is_refused_in_reverse_mode(fns, rng):
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((2, 3))
    w = rng.standard_normal(signal.fftconvolve(x, y, axes=0).shape)
    with pytest.raises(NotImplementedError, match="axes"):
        s2sad.grad(fns.fft_axes)(x, y, w)
    _, tangent = s2sad.jvp(fns.fft_axes, (x, y, w), (np.ones_like(x), None, None))   # linear: forward is exact
    np.testing.assert_allclose(tangent, central(lambda z: fns.fft_axes(z, y, w), x, np.ones_like(x)), rtol=RTOL)
