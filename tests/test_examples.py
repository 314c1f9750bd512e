"""The gallery examples (examples/*.py) as tests: they are real programs, so they test s2sad.

Each gallery loss, at a small size, is checked by s2sad.testing.check_grads to second order (central
differences, forward against reverse, Hessian-vector products against differences of gradients).
.ci/run runs every script in its fast mode (each checks its own gradient against finite
differences); here one script runs so, in a subprocess, to check the convention they share: --fast,
--out, the picture written when matplotlib is installed and a pointer to it otherwise.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from s2sad.testing import check_grads

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def load(name):
    """examples/<name>.py as a module (under its own name prefixed, so it shadows nothing)."""
    spec = importlib.util.spec_from_file_location(f"s2sad_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ode_fit_loss_through_rk4_loop():
    ode_fit = load("ode_fit")
    rates, state0 = np.array([1.0, 0.1, 0.075, 1.5]), np.array([10.0, 5.0])
    data = ode_fit.rk4(state0, rates, 0.2, 12)[3::3] * np.exp(0.1 * np.random.default_rng(0).standard_normal((4, 2)))
    check_grads(ode_fit.loss, (np.log(rates * 0.8), state0, 0.2, 12, 3, data), order=2)


def test_bbvi_elbo_with_cholesky_written_in_place():
    bbvi = load("bbvi")
    eps = np.random.default_rng(0).standard_normal((30, 2))
    check_grads(bbvi.negative_elbo, (np.array([-1.0, 2.0, 0.3, -0.2, 0.4]), eps), order=2)


def test_wave_equation_loss_through_leapfrog_loop():
    wave = load("wave_equation")
    x, courant2, steps, target, _ = wave.setup(25)
    u0 = np.random.default_rng(0).standard_normal(25)
    check_grads(wave.loss, (u0, courant2, steps, target, 1e-3), order=2)


def test_lens_spot_size_through_snell_and_newton_loop():
    lens = load("lens")
    check_grads(lens.spot_size, (np.array([0.1, 0.01, -0.1, 0.0]), np.linspace(-1.0, 1.0, 9)), order=2)


def test_gallery_script_runs_fast_and_writes_its_picture(tmp_path):
    out = tmp_path / "bbvi.png"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, str(EXAMPLES / "bbvi.py"), "--fast", "--out", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "max relative error" in done.stdout
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "pip install" in done.stdout
    else:
        assert out.stat().st_size > 1000


def test_fluid_loss_through_projection_and_semi_lagrangian_advection():
    fluid = load("fluid")
    smoke, target = fluid.setup(6)
    velocity = 0.3 * np.random.default_rng(0).standard_normal(2 * 36)
    check_grads(fluid.loss, (velocity, smoke, target, 2))         # to first order: its hvp takes seconds to generate
