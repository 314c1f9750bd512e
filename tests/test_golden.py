"""Golden tests: normalized code and generated derivative code, compared as text.

The expected files in tests/golden/ read like a spec. After a deliberate change to
code generation, rewrite them with ``S2SAD_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py``
and review the diff.
"""
import os
from pathlib import Path

import numpy as np
import pytest

import s2sad
from s2sad import runtime
from s2sad.front import normalize, versions
from s2sad.unit import unit_for_text

from . import golden_functions as gf

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name, text):
    path = GOLDEN / name
    if os.environ.get("S2SAD_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"no golden file {path}; run with S2SAD_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(), f"generated text differs from {path}"


NORMALIZE_INPUT = '''
def f(x, y, idx, mask):
    a, b = x.shape
    z = x.T @ y[:, 0] + x[1:, ..., None].sum(axis=0, keepdims=True)
    z += x[idx] * x[mask].mean()
    w = x.reshape(2, -1).astype(float)
    s = -1.5 if a < b <= 3 else z.max()
    t = np.sum(w, axis=(0, 1)) if not a or b else 0.0
    p, (q, r) = t, (s, -z)
    p, q = q, p
    c = d = np.array([p, q])[0]
    return z * s + t + c * d + r
'''


def _lowered(text):
    unit = unit_for_text(text, {"np": np})
    return normalize.run(unit.source.tree, unit), unit


def test_normalize_golden():
    lowered, _ = _lowered(NORMALIZE_INPUT)
    check_golden("normalize.txt", normalize.show(lowered))


def test_versions_golden():
    lowered, unit = _lowered(NORMALIZE_INPUT)
    check_golden("versions.txt", normalize.show(versions.run(lowered, unit)))


_W, _X = np.ones(3), np.ones((4, 3))


@pytest.mark.parametrize("name, fn, wrt, kind, args", [
    ("logistic_loss.txt", gf.logistic_loss, 0, "value_and_grad", (_W, _X, np.ones(4))),
    ("logistic_loss_vjp.txt", gf.logistic_loss, 0, "vjp", (_W, _X, np.ones(4))),
    ("piecewise.txt", gf.piecewise, (0, 1), "value_and_grad", (2.0, 1.0)),
    ("piecewise_generic.txt", gf.piecewise, (0, 1), "value_and_grad", None),
    ("inactive_parts.txt", gf.inactive_parts, 0, "value_and_grad", (np.ones(4), np.ones(4))),
    ("newton_while.txt", gf.newton_sqrt, (0, 1), "value_and_grad", (2.0, 1.0)),
])
def test_generated_code_golden(name, fn, wrt, kind, args):
    """Code specialised for the arguments' kinds (what grad runs), and once the generic code (no kinds known:
    a ``+`` or ``*`` might then concatenate or repeat lists, so their rules decide when the code runs)."""
    check_golden(name, s2sad.adjoint_source(fn, wrt, kind, args=args))


def test_loop_and_branch_golden():
    """A loop with a branch, specialised for float arguments (the README shows it)."""
    check_golden("soft_clipped_sum.txt", s2sad.adjoint_source(gf.soft_clipped_sum, args=(0.7, 5, 2.0)))


def test_filled_buffer_golden():
    """A buffer written item by item in a loop (the README shows it): each overwritten item is kept, put
    back in the backward sweep, and the written item's adjoint read and cleared."""
    check_golden("filled_buffer.txt", s2sad.adjoint_source(gf.filled_buffer, args=(np.ones(4), 0.8)))


def test_golden_functions_are_differentiated_correctly(rng):
    from s2sad.testing import check_grads
    X = rng.normal(size=(10, 3))
    check_grads(gf.logistic_loss, (rng.normal(size=3), X, (rng.random(10) > 0.5) * 1.0))
    for point in [(2.0, 1.0), (0.5, 1.0), (-0.5, 1.0)]:
        check_grads(gf.piecewise, point, wrt=(0, 1))
    check_grads(gf.inactive_parts, (rng.normal(size=4), rng.normal(size=4)))
    check_grads(gf.filled_buffer, (rng.normal(size=5), 0.8), wrt=(0, 1), order=2)
    da, dx0 = s2sad.grad(gf.newton_sqrt, wrt=(0, 1))(2.0, 1.0)    # converged: d sqrt(a)/da, and x0 forgotten
    assert da == pytest.approx(0.5 / np.sqrt(2.0), rel=1e-10) and abs(dx0) < 1e-10
    check_grads(gf.newton_sqrt, (2.0, 1.0), wrt=0)         # (x0: a product of near-zero factors, 1e-23)
    for x in (0.1, 0.7, 3.0):
        g = check_grads(gf.soft_clipped_sum, (x, 5, 2.0))
        hand = sum((i + 1) / (1.0 + x * (i + 1) - 2.0) if x * (i + 1) > 2.0 else i + 1 for i in range(5))
        assert g == pytest.approx(hand, rel=1e-12)


def test_normalized_function_computes_the_same_value(rng):
    """Lowering must not change behaviour: run the normalized text and compare."""
    lowered, _ = _lowered(NORMALIZE_INPUT)
    namespace = {"np": np, "_s2": runtime}
    exec(compile(normalize.show(lowered), "<normalized>", "exec"), namespace)
    exec(compile(NORMALIZE_INPUT, "<original>", "exec"), original := {"np": np})
    x, y = rng.normal(size=(2, 3)), rng.normal(size=(2, 2))
    args = (x, y, np.array([0, 1, 1]), x > 0)
    np.testing.assert_allclose(namespace["f"](*args), original["f"](*args))


def test_no_adjoint_code_for_inactive_values():
    text = s2sad.adjoint_source(gf.inactive_parts)
    backward = text.split("_s2.seed(ans)")[1]
    for inactive in ("scale_bar", "n_bar", "centred_bar", "data_bar", "_t1_bar", "_t3_bar", "_t9_bar"):
        assert inactive not in backward
    assert "zeros" not in text                       # first contributions assign, no zero-initialisation


def test_readme_shows_the_code_s2sad_prints():
    """The generated code pasted in README.md is what s2sad prints today."""
    import importlib.util
    root = Path(__file__).parent.parent
    spec = importlib.util.spec_from_file_location("quickstart", root / "examples" / "quickstart.py")
    quickstart = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quickstart)
    readme = (root / "README.md").read_text()
    assert s2sad.adjoint_source(quickstart.loss) in readme
    assert (GOLDEN / "soft_clipped_sum.txt").read_text() in readme
    assert (GOLDEN / "filled_buffer.txt").read_text() in readme
    assert s2sad.adjoint_source(quickstart.loss, mode="forward") in readme


_F64 = np.float64


@pytest.mark.parametrize("name, fn, wrt, args", [
    ("float64_loop.txt", gf.euler_recurrence, (0, 1, 2), (_F64(0.9), _F64(0.3), _F64(0.1))),
    ("packed_rates.txt", gf.packed_rates, 0, (np.array([0.9, 0.3, 0.5]), _F64(0.1))),
    ("logistic_loss_float32.txt", gf.logistic_loss, 0, tuple(np.ones(s, dtype=np.float32) for s in (3, (4, 3), 4))),
])
def test_specialised_for_the_values_users_pass(name, fn, wrt, args, monkeypatch):
    """np.float64 scalars are numbers (no shape_of, no unbroadcast: plain arithmetic), rates packed in a float64
    array are unpacked and read as numbers (a list of floats on the float route), float32 arrays get the
    float64 arrays' code; then the route: what the call converts before running that code."""
    from s2sad import api
    seen = []
    monkeypatch.setattr(api, "_on_floats", lambda fn_, floats, given, *rest: seen.append(floats) or (0.0, None))
    try:
        s2sad.value_and_grad(fn, wrt=wrt)(*args)
    except Exception:                              # noqa: BLE001 -- the gradient is not the point here
        pass
    route = "float route: " + (", ".join(type(a).__name__ for a in seen[0]) if seen else "not taken")
    check_golden(name, s2sad.adjoint_source(fn, wrt, "value_and_grad", args=args) + f"# {route}\n")
