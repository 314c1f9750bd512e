"""Reverse and forward rules for ``np.fft``.

Cotangents of complex values follow JAX's convention (runtime.real_like): a transform that is complex-linear in its
argument has its plain transpose as adjoint. The DFT matrix is symmetric, so the adjoint of ``fft`` is ``fft`` again
(``ifft`` likewise, with the same ``norm``), cut or padded back to the argument's length where ``n`` (``s``) padded or
cut it. ``rfft`` keeps the first n // 2 + 1 entries of ``fft`` of a real argument: its adjoint pads them with zeros
and keeps the real part. ``irfft`` reads a half spectrum with weights 1, 2, ..., 2 (1 at n / 2): its adjoint is
those weights times ``ifft`` of the (real) cotangent. ``rfftn`` is ``rfft`` along the last axis then ``fftn`` along
the others, and its adjoint the adjoints in the reverse order (``irfftn`` likewise).
"""
import numpy as np

from ..calls import SOURCE_MARK
from ..runtime import (fft_axes, fft_pads, fft_resized, irfft_weights, irfftn_grad, lengths_of, real_like, rfft_length,
                       rfftn_grad)
from .registry import jvp, nondiff, vjp

nondiff(fft_axes, fft_pads, irfft_weights, lengths_of, rfft_length)
for _helper in (fft_resized, rfftn_grad, irfftn_grad):
    setattr(_helper, SOURCE_MARK, True)          # differentiated from their source (runtime.py)

# --- one axis ---
@vjp(np.fft.fft)
def fft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    axes = fft_axes(a, axis)
    return real_like(fft_resized(np.fft.fft(g, None, axis, norm), lengths_of(a, axes), axes), a)
@jvp(np.fft.fft)
def fft_jvp(g, ans, a, n=None, axis=-1, norm=None, out=None): return np.fft.fft(g, n, axis, norm)
@vjp(np.fft.ifft)
def ifft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    axes = fft_axes(a, axis)
    return real_like(fft_resized(np.fft.ifft(g, None, axis, norm), lengths_of(a, axes), axes), a)
@jvp(np.fft.ifft)
def ifft_jvp(g, ans, a, n=None, axis=-1, norm=None, out=None): return np.fft.ifft(g, n, axis, norm)
@vjp(np.fft.rfft)                                 # (the imaginary part of a complex argument is discarded)
def rfft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    axes = fft_axes(a, axis)
    full = np.fft.fft(fft_resized(g, rfft_length(a, n, axis), axes), None, axis, norm)
    return np.real(fft_resized(full, lengths_of(a, axes), axes))
@jvp(np.fft.rfft)
def rfft_jvp(g, ans, a, n=None, axis=-1, norm=None, out=None): return np.fft.rfft(np.real(g), n, axis, norm)
@vjp(np.fft.irfft)
def irfft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    axes = fft_axes(a, axis)
    length, w = irfft_weights(a, n, axis)
    half = fft_resized(np.fft.ifft(np.real(g), None, axis, norm), (length // 2 + 1,), axes)
    return real_like(fft_resized(w * half, lengths_of(a, axes), axes), a)
@jvp(np.fft.irfft)
def irfft_jvp(g, ans, a, n=None, axis=-1, norm=None, out=None): return np.fft.irfft(g, n, axis, norm)

# --- several axes ---
@vjp(np.fft.fftn)
def fftn_vjp(g, ans, a, s=None, axes=None, norm=None, out=None):
    along = fft_axes(a, axes, s)
    return real_like(fft_resized(np.fft.fftn(g, None, along, norm), lengths_of(a, along), along), a)
@jvp(np.fft.fftn)
def fftn_jvp(g, ans, a, s=None, axes=None, norm=None, out=None): return np.fft.fftn(g, s, axes, norm)
@vjp(np.fft.ifftn)
def ifftn_vjp(g, ans, a, s=None, axes=None, norm=None, out=None):
    along = fft_axes(a, axes, s)
    return real_like(fft_resized(np.fft.ifftn(g, None, along, norm), lengths_of(a, along), along), a)
@jvp(np.fft.ifftn)
def ifftn_jvp(g, ans, a, s=None, axes=None, norm=None, out=None): return np.fft.ifftn(g, s, axes, norm)
@vjp(np.fft.fft2)
def fft2_vjp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    along = fft_axes(a, axes, s)
    return real_like(fft_resized(np.fft.fftn(g, None, along, norm), lengths_of(a, along), along), a)
@jvp(np.fft.fft2)
def fft2_jvp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None): return np.fft.fft2(g, s, axes, norm)
@vjp(np.fft.ifft2)
def ifft2_vjp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    along = fft_axes(a, axes, s)
    return real_like(fft_resized(np.fft.ifftn(g, None, along, norm), lengths_of(a, along), along), a)
@jvp(np.fft.ifft2)
def ifft2_jvp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None): return np.fft.ifft2(g, s, axes, norm)

# --- real transforms over several axes: rfft along the last axis and fftn along the others (irfftn: the reverse) ---
@vjp(np.fft.rfftn)
def rfftn_vjp(g, ans, a, s=None, axes=None, norm=None, out=None): return rfftn_grad(g, a, s, fft_axes(a, axes, s), norm)
@jvp(np.fft.rfftn)
def rfftn_jvp(g, ans, a, s=None, axes=None, norm=None, out=None): return np.fft.rfftn(np.real(g), s, axes, norm)
@vjp(np.fft.rfft2)
def rfft2_vjp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None): return rfftn_grad(g, a, s, fft_axes(a, axes, s), norm)
@jvp(np.fft.rfft2)
def rfft2_jvp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None): return np.fft.rfft2(np.real(g), s, axes, norm)
@vjp(np.fft.irfftn)
def irfftn_vjp(g, ans, a, s=None, axes=None, norm=None, out=None): return irfftn_grad(g, a, s, fft_axes(a, axes, s), norm)
@jvp(np.fft.irfftn)
def irfftn_jvp(g, ans, a, s=None, axes=None, norm=None, out=None): return np.fft.irfftn(g, s, axes, norm)
@vjp(np.fft.irfft2)
def irfft2_vjp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None): return irfftn_grad(g, a, s, fft_axes(a, axes, s), norm)
@jvp(np.fft.irfft2)
def irfft2_jvp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None): return np.fft.irfft2(g, s, axes, norm)

# --- moving the zero frequency, frequencies ---
@vjp(np.fft.fftshift)
def fftshift_vjp(g, ans, x, axes=None): return np.fft.ifftshift(g, axes)
@jvp(np.fft.fftshift)
def fftshift_jvp(g, ans, x, axes=None): return np.fft.fftshift(g, axes)
@vjp(np.fft.ifftshift)
def ifftshift_vjp(g, ans, x, axes=None): return np.fft.fftshift(g, axes)
@jvp(np.fft.ifftshift)
def ifftshift_jvp(g, ans, x, axes=None): return np.fft.ifftshift(g, axes)
nondiff(np.fft.fftfreq, np.fft.rfftfreq)
