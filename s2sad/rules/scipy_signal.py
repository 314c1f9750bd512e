"""Reverse and forward rules for ``scipy.signal``'s convolutions (registered only if the user imports it).

``convolve``, ``correlate`` (modes 'full', 'same', 'valid'; any number of dimensions; every ``method``),
``fftconvolve`` and ``oaconvolve`` (reverse mode over all axes only: ``axes=None``) are bilinear: a tangent is the
same convolution of one tangent with the other argument, and an adjoint is a 'valid' correlation of the cotangent,
padded with zeros to the full result, with the other argument (``correlate(x, y) == convolve(x, flip(y))``). The
rules call the same functions, so derivatives of derivatives work.
"""
import numpy as np

from ..runtime import signal_pads
from .lazy import when_imported
from .registry import jvp, vjp

MODULE = "scipy.signal"
signal = None           # the scipy.signal module, once registered (rule bodies refer to it by this name)


def register(module):
    """Register the rules for the functions of ``module`` (``scipy.signal``)."""
    global signal
    signal = module

    @vjp(signal.convolve)
    def convolve_vjp(g, ans, in1, in2, mode="full", method="auto"):
        full = np.pad(g, signal_pads(in1, in2, mode))
        return signal.correlate(full, in2, "valid", method), signal.correlate(full, in1, "valid", method)
    @jvp(signal.convolve)
    def convolve_jvp(g, ans, in1, in2, mode="full", method="auto"):
        return signal.convolve(g, in2, mode, method), signal.convolve(in1, g, mode, method)
    @vjp(signal.correlate)
    def correlate_vjp(g, ans, in1, in2, mode="full", method="auto"):
        full = np.pad(g, signal_pads(in1, in2, mode))
        return signal.convolve(full, in2, "valid", method), np.flip(signal.correlate(full, in1, "valid", method))
    @jvp(signal.correlate)
    def correlate_jvp(g, ans, in1, in2, mode="full", method="auto"):
        return signal.correlate(g, in2, mode, method), signal.correlate(in1, g, mode, method)
    @vjp(signal.fftconvolve)
    def fftconvolve_vjp(g, ans, in1, in2, mode="full", axes=None):
        full = np.pad(g, signal_pads(in1, in2, mode, axes))
        return signal.fftconvolve(full, np.flip(in2), "valid"), signal.fftconvolve(full, np.flip(in1), "valid")
    @jvp(signal.fftconvolve)
    def fftconvolve_jvp(g, ans, in1, in2, mode="full", axes=None):
        return signal.fftconvolve(g, in2, mode, axes), signal.fftconvolve(in1, g, mode, axes)
    @vjp(signal.oaconvolve)
    def oaconvolve_vjp(g, ans, in1, in2, mode="full", axes=None):
        full = np.pad(g, signal_pads(in1, in2, mode, axes))
        return signal.oaconvolve(full, np.flip(in2), "valid"), signal.oaconvolve(full, np.flip(in1), "valid")
    @jvp(signal.oaconvolve)
    def oaconvolve_jvp(g, ans, in1, in2, mode="full", axes=None):
        return signal.oaconvolve(g, in2, mode, axes), signal.oaconvolve(in1, g, mode, axes)


_FINDER = when_imported(MODULE, register)
