"""Real losses of real arguments through complex intermediates (np.fft, np.real/np.imag/np.conj/np.abs/np.angle,
complex products): every derivative against central differences, forward against reverse, and second order
(Hessian-vector products against differences of the gradient). A complex cotangent is dL/da - i dL/db (JAX's
convention, see runtime.real_like); these tests check only what it gives for the real arguments."""
import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads

RNG = np.random.default_rng(7)
H8 = RNG.standard_normal(8) + 1j * RNG.standard_normal(8)
H5 = RNG.standard_normal(5) + 1j * RNG.standard_normal(5)
H34 = RNG.standard_normal((3, 4)) + 1j * RNG.standard_normal((3, 4))


def parseval(x):
    return np.sum(np.abs(np.fft.fft(x)) ** 2)


def filtered(x, W):
    return np.sum(np.real(np.fft.ifft(np.fft.fft(x) * H8)) * W)


def filtered_imag(x, W):
    return np.sum(np.imag(np.fft.ifft(np.fft.fft(x, 8) * H8, 6)) * W)


def rfft_round_trip_odd(x, W):
    return np.sum(np.fft.irfft(np.fft.rfft(x) * H5, 9) * W)


def rfft_round_trip_even(x, W):
    return np.sum(np.fft.irfft(np.fft.rfft(x, norm="ortho") * H5, norm="ortho") * W)


def irfft_of_a_complex_square(x, W):
    z = np.fft.rfft(x)
    return np.sum(np.fft.irfft(z * z, 7) * W)


def cross_spectrum(x, W):
    return np.sum(np.imag(np.fft.ifft2(np.fft.fft2(x) * np.conj(np.fft.fft2(x * x)))) * W)


def phases(x, W):
    return np.sum(np.angle(np.fft.fft(x) + 3.0) * W) + np.sum(np.angle(np.fft.fft(x) * 1j + 2.0, True))


def fftn_of_exp(x):
    return np.sum(np.abs(np.fft.fftn(np.exp(1j * x) + 2.0, s=(4, 5), axes=(0, 2))))


def ifftn_mixed(x):
    z = np.fft.ifftn(x * (1.0 - 0.5j), axes=(1, 0), norm="forward")
    return np.sum(np.real(z * np.conj(z) * z))


def conj_product(x, y):
    return np.real(np.sum(np.conj(x * (1 + 2j)) * np.fft.fft(y)))


def complex_vdot(x, y):
    return np.real(np.vdot(np.fft.fft(x), np.fft.fft(y) * H8)) + np.imag(np.vdot(np.fft.fft(y), x * 1j))


def attributes_and_methods(x, W):
    z = np.fft.fft(x) * H8
    return np.sum(np.imag(z) * W) + np.sum(z.conj().real ** 2) + np.sum(np.real(np.conjugate(z) * 1j) * W) \
        + np.sum(z.imag * z.real * W)            # (`.imag` had no rule: a probe)


def real_of_real(x, W):
    return np.sum(np.real(x * H8) * np.real(np.imag(x * H8) * H8) * W)


def absolute_through_a_product(x):
    z = np.fft.fft(x) * H8
    r = np.abs(z)
    return np.sum(np.real(r * H8) * r)


def variance_of_a_spectrum(x, W):
    return np.var(np.fft.fft(x) * H8) + np.sum(np.var(np.fft.fft2(np.outer(x, W)) + 1j, axis=0, ddof=1) * W)


def shifted_spectrum(x, W):
    z = np.fft.fftshift(np.fft.fft(x)) * np.fft.fftshift(np.fft.fftfreq(8))
    return np.sum(np.abs(np.fft.ifftshift(z) + 1.0) * W)


CASES = [(variance_of_a_spectrum, [(8,), (8,)]), (shifted_spectrum, [(8,), (8,)]), (parseval, [(8,)]), (filtered, [(8,), (8,)]), (filtered_imag, [(7,), (6,)]),
         (rfft_round_trip_odd, [(8,), (9,)]), (rfft_round_trip_even, [(8,), (8,)]),
         (irfft_of_a_complex_square, [(6,), (7,)]), (cross_spectrum, [(3, 4), (3, 4)]), (phases, [(5,), (5,)]),
         (fftn_of_exp, [(3, 2, 4)]), (ifftn_mixed, [(3, 4)]), (conj_product, [(8,), (8,)]),
         (complex_vdot, [(8,), (8,)]), (attributes_and_methods, [(8,), (8,)]), (real_of_real, [(8,), (8,)]),
         (absolute_through_a_product, [(8,)])]


@pytest.mark.parametrize("f, shapes", CASES, ids=[f.__name__ for f, _ in CASES])
def test_real_loss_through_complex_values(f, shapes):
    rng = np.random.default_rng(11)
    args = [rng.standard_normal(s) for s in shapes]
    wrt = (0, 1) if f in (conj_product, complex_vdot) else 0
    check_grads(f, args, wrt=wrt, order=2)


def test_parseval_against_the_closed_form():
    """sum |fft(x)|^2 = n sum x^2: the gradient is 2 n x, the Hessian 2 n I; float32 stays float32."""
    x = np.random.default_rng(3).standard_normal(8)
    np.testing.assert_allclose(s2sad.grad(parseval)(x), 16 * x, rtol=1e-12)
    np.testing.assert_allclose(s2sad.hvp(parseval)(x, x), 16 * x, rtol=1e-12)
    g32 = s2sad.grad(parseval)(x.astype(np.float32))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, 16 * x, rtol=1e-5)


REFUSED = {"np.linalg.norm": lambda x: np.linalg.norm(np.fft.fft(x)),
           "np.std": lambda x: np.std(np.fft.fft(x)),
           "np.linalg.svd": lambda x: np.sum(np.linalg.svd(np.fft.fft2(np.reshape(x, (2, 2))), compute_uv=False)),
           "np.linalg.qr": lambda x: np.sum(np.abs(np.linalg.qr(np.fft.fft2(np.reshape(x, (2, 2))))[1])),
           "np.linalg.eigvalsh": lambda x: np.sum(np.linalg.eigvalsh(np.fft.fft2(np.reshape(x, (2, 2))))),
           "np.linalg.slogdet": lambda x: np.linalg.slogdet(np.fft.fft2(np.reshape(x, (2, 2))) + 3.0)[1],
           "np.linalg.pinv": lambda x: np.sum(np.abs(np.linalg.pinv(np.fft.fft2(np.reshape(x, (2, 2))) + 3.0)))}


@pytest.mark.parametrize("what", sorted(REFUSED))
def test_rules_for_real_arguments_refuse_complex_ones(what):
    x = np.array([0.3, -1.2, 0.7, 2.0])
    with pytest.raises(NotImplementedError, match="complex"):
        s2sad.grad(REFUSED[what])(x)
    with pytest.raises(NotImplementedError, match="complex"):
        s2sad.jvp(REFUSED[what], (x,), (np.ones(4),))


def test_builtin_abs_and_np_sign_of_complex_values_are_refused():
    """The builtin abs's rule and np.sign's zero hold for real values only: of a complex value they would be
    wrong (|z|'s derivative has the conjugate; z/|z| varies), so they are refused; np.abs is the route."""
    import s2sad
    h = np.array([1 + 2j, 0.5 - 1j, 2j])
    x = np.array([0.3, -0.7, 1.1])

    def builtin_abs(x):
        return np.sum(abs(x * h))

    def sign(x):
        return np.sum(np.real(np.sign(x * h + 1.0)))

    def np_abs(x):
        return np.sum(np.abs(x * h))
    for f in (builtin_abs, sign):
        with pytest.raises(NotImplementedError, match="complex"):
            s2sad.grad(f)(x)
    np.testing.assert_allclose(s2sad.grad(np_abs)(x), np.abs(h) * np.sign(x), rtol=1e-12)


def scaled_spectrum(s, w):
    c = np.fft.rfft(w)
    return np.sum(np.real(c * s * c))


def spectrum_weights(x, w):
    return np.sum(np.fft.irfftn(np.fft.rfftn(x) * w, s=x.shape, axes=(0, 1)) * x)


@pytest.mark.filterwarnings("error")
def test_a_real_argument_multiplied_into_a_complex_value_gets_the_real_part_without_warnings():
    """``s * c`` with s real and c complex: s's gradient is Re(sum(g * c)) (JAX's convention), for a float, a NumPy
    scalar (float32 kept) and an array; it used to be cast with a ComplexWarning (and a Python float would fail)."""
    w = np.array([0.3, -1.0, 2.0, 0.5])
    expected = np.sum(np.real(np.fft.rfft(w) ** 2))
    for s in (1.5, np.float64(1.5), np.float32(1.5)):
        g = s2sad.grad(scaled_spectrum)(s, w)
        assert (type(g) is np.float32) == (type(s) is np.float32) and isinstance(g, (float, np.float32))
        assert np.isclose(g, expected, rtol=1e-6)
    rng = np.random.default_rng(5)
    x, W = rng.standard_normal((3, 5)), rng.standard_normal((3, 3))
    check_grads(spectrum_weights, (x, W), wrt=(0, 1), order=2)


def close_to_real(x):
    z = np.fft.ifft(np.fft.fft(x))                   # complex, with imaginary parts at rounding level
    return np.sum(np.real_if_close(z) ** 2) + np.sum(np.abs(np.real_if_close(z * (1 + 1j))) ** 2)


def test_real_if_close_of_complex_values():
    check_grads(close_to_real, (np.random.default_rng(4).standard_normal(6),), order=2)
