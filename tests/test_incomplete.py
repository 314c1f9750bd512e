"""Shape-parameter derivatives of gammainc, betainc and stdtr by quadrature (s2sad/incomplete.py), the rules of
scipy.special built on them (rules/scipy_special.py) and the scipy.stats cdfs that use them.

Two witnesses: mpmath's derivatives of the same functions at 30 digits (an independent implementation: numerical
differentiation of arbitrary-precision incomplete gamma/beta functions), and central differences of scipy's own
values through s2sad, in both modes and to third order. Skipped without scipy or mpmath.
"""
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import s2sad
from s2sad import incomplete
from s2sad.testing import check_grads

from .sources import load_module

special = pytest.importorskip("scipy.special")
mp = pytest.importorskip("mpmath")
mp.mp.dps = 30

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-9


def close(got, ref):
    ref = float(ref)
    assert abs(got - ref) <= RTOL * max(abs(ref), 1e-6), (got, ref)


@pytest.mark.parametrize("a", [0.1, 0.5, 2.5, 10.0, 60.0])
@pytest.mark.parametrize("x", [1e-3, 0.3, 2.4, 2.6, 12.0, 70.0])       # either side of a: both integrals
def test_gammainc_shape_derivatives(a, x):
    for i in (1, 2, 3):
        close(incomplete.gammainc_d(a, x, i), mp.diff(lambda s: mp.gammainc(s, 0, x, regularized=True), a, i))


@pytest.mark.parametrize("a, b", [(0.3, 0.5), (1.0, 1.0), (2.5, 3.0), (8.0, 0.5)])
@pytest.mark.parametrize("x", [1e-4, 0.1, 0.5, 0.8, 0.999])
def test_betainc_shape_derivatives(a, b, x):
    for i, j in [(1, 0), (0, 1), (2, 0), (1, 1), (0, 2), (2, 1)]:
        close(incomplete.betainc_d(a, b, x, i, j),
              mp.diff(lambda p, q: mp.betainc(p, q, 0, x, regularized=True), (a, b), (i, j)))


def t_cdf(df, x):
    df, x = mp.mpf(df), mp.mpf(x)
    tail = mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + x * x), regularized=True) / 2
    return tail if x < 0 else 1 - tail


def t_pdf(df, x):
    return mp.gamma((df + 1) / 2) / (mp.gamma(df / 2) * mp.sqrt(df * mp.pi)) * (1 + x * x / df) ** (-(df + 1) / 2)


@pytest.mark.parametrize("df", [0.5, 1.0, 3.0, 30.0])
@pytest.mark.parametrize("x", [-20.0, -2.0, -0.3, 0.4, 3.0, 50.0])
def test_stdtr_df_derivatives_and_density_derivatives(df, x):
    for i in (1, 2, 3):
        close(incomplete.stdtr_d(df, x, i), mp.diff(lambda d: t_cdf(d, x), df, i))
    for i, n in [(0, 1), (1, 0), (1, 1), (2, 1), (0, 3), (1, 2)]:
        close(incomplete.t_density_d(df, x, i, n), mp.diff(t_pdf, (df, x), (i, n)))


def test_gamma_and_beta_density_derivatives():
    for a, x in [(2.5, 1.3), (0.5, 3.0)]:
        for i, n in [(0, 1), (1, 0), (1, 1), (2, 2), (0, 3)]:
            close(incomplete.gamma_density_d(a, x, i, n),
                  mp.diff(lambda s, t: t ** (s - 1) * mp.exp(-t) / mp.gamma(s), (a, x), (i, n)))
    for a, b, x in [(2.5, 1.3, 0.3), (0.5, 3.0, 0.8)]:
        for i, j, n in [(0, 0, 1), (1, 0, 0), (0, 1, 1), (1, 1, 1), (0, 0, 3), (2, 0, 1)]:
            close(incomplete.beta_density_d(a, b, x, i, j, n),
                  mp.diff(lambda p, q, t: t ** (p - 1) * (1 - t) ** (q - 1) / mp.beta(p, q), (a, b, x), (i, j, n)))


def test_outside_the_support_and_dtypes():
    assert incomplete.gammainc_d(2.0, -1.0, 1) == 0.0 and incomplete.gamma_density_d(2.0, 0.0, 1, 1) == 0.0
    assert incomplete.betainc_d(2.0, 3.0, 1.5, 1, 0) == 0.0 and incomplete.beta_density_d(2.0, 3.0, -0.5, 0, 1, 0) == 0.0
    x32 = np.array([[0.5, 1.5], [2.0, 4.0]], dtype=np.float32)
    got = incomplete.gammainc_d(np.float32(2.0), x32, 1)
    assert got.dtype == np.float32 and got.shape == (2, 2)
    np.testing.assert_allclose(got, [[incomplete.gammainc_d(2.0, float(v), 1) for v in row] for row in x32], rtol=1e-6)
    big = np.linspace(0.1, 5.0, 1300)                   # more points than one chunk
    np.testing.assert_allclose(incomplete.stdtr_d(3.0, big, 1)[::97], [incomplete.stdtr_d(3.0, v, 1) for v in big[::97]],
                               rtol=1e-13)


SOURCE = """
import numpy as np
from scipy import special, stats


def gammainc_total(a, x, w):
    return np.sum(special.gammainc(a, x) * w) + np.sum(special.gammaincc(a * 0.5, x) * w ** 2)


def betainc_total(a, b, x, w):
    return np.sum(special.betainc(a, b, x) * w)


def stdtr_total(df, x, w):
    return np.sum(special.stdtr(df, x) * w)


def t_log_likelihood(df, x):
    return np.sum(stats.t.logcdf(x, df)) + np.sum(stats.t.logsf(x, df * 1.5))
"""


@pytest.fixture(scope="module")
def fns(tmp_path_factory):
    return load_module(tmp_path_factory.mktemp("incomplete") / "incomplete_functions.py", SOURCE)


def test_rules_against_differences_both_modes_second_order(fns):
    w = np.array([0.5, -1.0, 2.0])
    check_grads(fns.gammainc_total, (np.array([0.7, 2.5, 4.0]), np.array([0.4, 3.0, 2.0]), w), wrt=(0, 1), order=2)
    check_grads(fns.betainc_total, (np.array([0.7, 2.5, 4.0]), np.array([1.5, 0.6, 3.0]), np.array([0.2, 0.5, 0.9]), w),
                wrt=(0, 1, 2), order=2)
    check_grads(fns.stdtr_total, (np.array([0.8, 3.0, 12.0]), np.array([-1.2, 0.3, 2.5]), w), wrt=(0, 1), order=2)
    check_grads(fns.gammainc_total, (2.5, 1.5, 1.0), wrt=(0, 1), order=2)       # floats


def test_third_order_against_mpmath(fns):
    """grad(grad(grad(·))) with respect to df: the helpers' rules call the next member of their family."""
    x = np.array([-1.5, 0.3, 2.0])
    third = s2sad.grad(s2sad.grad(s2sad.grad(fns.t_log_likelihood)))(3.5, x)
    expected = sum(mp.diff(lambda d: mp.log(t_cdf(d, v)) + mp.log(1 - t_cdf(1.5 * d, v)), 3.5, 3) for v in x)
    close(third, expected)


def test_mixed_second_derivative_of_betainc_against_mpmath(fns):
    x, w = np.array([0.2, 0.7]), np.ones(2)
    both = s2sad.grad(lambda a, b: s2sad.grad(fns.betainc_total, wrt=1)(a, b, x, w), wrt=0)(2.0, 1.5)
    close(both, sum(mp.diff(lambda p, q: mp.betainc(p, q, 0, v, regularized=True), (2.0, 1.5), (1, 1)) for v in x))
    tangent = s2sad.jvp(lambda a: s2sad.grad(fns.betainc_total, wrt=1)(a, 1.5, x, w), (2.0,), (1.0,))[1]
    close(tangent, both)


def test_float32_stays_float32(fns):
    a, x, w = (np.array(v, dtype=np.float32) for v in ([0.7, 2.5], [0.4, 3.0], [1.0, 1.0]))
    ga, gx = s2sad.grad(fns.gammainc_total, wrt=(0, 1))(a, x, w)
    assert ga.dtype == gx.dtype == np.float32
    ga64 = s2sad.grad(fns.gammainc_total)(a.astype(float), x.astype(float), w.astype(float))
    np.testing.assert_allclose(ga, ga64, rtol=1e-5)


def test_standalone_module_carries_the_quadrature(tmp_path):
    """``s2sad compile`` copies the helpers into the written module, which then runs without s2sad."""
    (tmp_path / "tmodel.py").write_text(SOURCE)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "s2sad", "compile", "tmodel.py", "--function", "t_log_likelihood"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "tmodel_grad.py").read_text()
    assert "import s2sad" not in text and "def stdtr_d" in text
    (tmp_path / "tmodel.py").unlink()                     # the written module needs neither s2sad nor the source
    code = textwrap.dedent("""
        import sys
        sys.modules["s2sad"] = None
        import numpy as np
        from tmodel_grad import grad_t_log_likelihood
        print(repr(grad_t_log_likelihood(3.5, np.array([-1.5, 0.3, 2.0]))))
    """)
    ran = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    x = np.array([-1.5, 0.3, 2.0])
    expected = sum(mp.diff(lambda d: mp.log(t_cdf(d, v)) + mp.log(1 - t_cdf(1.5 * d, v)), 3.5) for v in x)
    close(float(ran.stdout), expected)
