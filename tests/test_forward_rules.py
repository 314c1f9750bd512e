"""Forward mode, primitive by primitive: every registered forward rule, through the compiler.

The cases are test_rule_table.py's ``SPEC`` (one line per primitive: shapes, domains, fixed
arguments, keywords) plus ``EXTRA`` below (broadcasting a (3, 1) array with a (4,) one, a
Python float with an array). For each case a tiny module ``f(p0, p1, ...) = prim(...)`` is
written to a temporary file, and ``s2sad.jvp`` along random directions (``None`` for the
fixed arguments: masks, conditions) is checked twice:

* against central differences of ``f`` along the same directions (float64);
* against reverse mode: ``<u, jvp(v)> == <vjp(u), v>`` with ``s2sad.vjp`` of the same module.

The value must be ``f``'s, and the tangent must have the value's structure, type and shape.
Cases with several differentiable arguments are also checked with a tangent for the first
one only (the others ``None``). A meta-test fails when a forward rule of s2sad's tables has
no case. Then float32 inputs (the tangent stays float32) and integer inputs (differentiated
as floats).
"""
import collections
import importlib.util
import math
import re

import numpy as np
import pytest

import s2sad
from s2sad.rules import registry

from . import test_rule_table as table

SEED = 20240918
EPS = 1e-6
RTOL, ATOL = 1e-5, 1e-7             # as test_rule_table.py
real, pos, nonzero, case = table.real, table.pos, table.nonzero, table.case

# Broadcasting beyond table.BROADCAST_PAIRS: (3, 1) with (4,), and a Python float with an array.
EXTRA_PAIRS = [((3, 1), (4,)), ((4,), (3, 1)), ((), (4,)), ((3, 1), ())]
EXTRA = [
    (np.add,        [case(real(*a), real(*b)) for a, b in EXTRA_PAIRS]),
    (np.multiply,   [case(real(*a), real(*b)) for a, b in EXTRA_PAIRS]),
    (np.subtract,   [case(real(*a), real(*b)) for a, b in EXTRA_PAIRS]),
    (np.divide,     [case(real(*a), nonzero(*b)) for a, b in EXTRA_PAIRS]),
    (np.power,      [case(pos(*a), real(*b)) for a, b in EXTRA_PAIRS]),
    (np.maximum,    [case(real(*a), real(*b)) for a, b in EXTRA_PAIRS]),
    (np.arctan2,    [case(real(*a), real(*b)) for a, b in EXTRA_PAIRS]),
    (np.logaddexp,  [case(real(*a), real(*b)) for a, b in EXTRA_PAIRS]),
    (np.where,      [case(table.mask(3, 1), real(4), real(3, 1)), case(table.mask(4), real(), real(3, 1))]),
    (np.clip,       [case(real(3, 1), real(4), 0.5)]),
    (np.hypot,      [case(real(3, 1), real(4))]),
]



CASES = [(prim, c) for prim, cases in table.SPEC + EXTRA for c in cases]
IDS = [f"{table.readable(prim)}({c!r})" for prim, c in CASES]


# --- arguments as parameters of the generated module ---------------------------------------------
class TreeArg:
    """A namedtuple of differentiable arguments passed as one parameter (``p.w``)."""

    def __init__(self, spec):
        self.spec = spec

    def sample(self, rng):
        return table.sample(self.spec, rng)

    def direction(self, rng):
        return table.rebuild(self.spec, [a.direction(rng) for a in self.spec])


def module_text(prim, c):
    """Source of ``f(p0, ...)`` returning ``prim`` applied to the case's arguments, and its parameters."""
    params = []

    def render(spec):
        if isinstance(spec, table.Arg):
            params.append(spec)
            name = f"p{len(params) - 1}"
            return f"0.5 * ({name} + np.swapaxes({name}, -1, -2))" if spec.symmetric else name
        if isinstance(spec, tuple) and hasattr(type(spec), "_fields"):
            params.append(TreeArg(spec))
            return f"p{len(params) - 1}"
        if isinstance(spec, table.Src):
            return spec.text
        if isinstance(spec, list):
            return "[" + ", ".join(render(s) for s in spec) + "]"
        if isinstance(spec, tuple) and any(isinstance(s, table.Arg) for s in spec):
            return "(" + ", ".join(render(s) for s in spec) + ("," if len(spec) == 1 else "") + ")"
        return table.literal(spec)

    args = [render(a) for a in c.args]
    kwargs = [f"{k}={render(v)}" for k, v in c.kwargs.items()]
    if prim in table._INFIX:
        expr = table._INFIX[prim].format(*args)
    else:
        expr = f"{table.readable(prim)}({', '.join(args + kwargs)})"
    names = ", ".join(f"p{i}" for i in range(len(params)))
    return table._PRELUDE + f"def f({names}):\n    y = {expr}\n    return y\n", params


def load(tmp_path, text, name="f"):
    return table.load_function(tmp_path, text, name)


# --- trees of values: leaves, moving along a direction, pairing --------------------------------------
def leaves(x):
    if isinstance(x, dict):
        return [leaf for k in x for leaf in leaves(x[k])]
    if isinstance(x, (tuple, list)):
        return [leaf for v in x for leaf in leaves(v)]
    return [x]


def moved(x, v, t):
    """``x + t * v`` for a tree ``x`` (``v`` None: ``x`` itself)."""
    if v is None:
        return x
    if isinstance(x, dict):
        return {k: moved(x[k], v[k], t) for k in x}
    if isinstance(x, (tuple, list)):
        return table.rebuild(x, [moved(a, b, t) for a, b in zip(x, v)])
    out = np.asarray(x, dtype=float) + t * np.asarray(v, dtype=float)
    return float(out) if isinstance(x, (float, int)) and not isinstance(x, bool) else out


def numbers(x):
    """``x`` as a float64 array, or complex128 for a complex one (np.fft)."""
    return np.asarray(x, dtype=complex if np.iscomplexobj(x) else float)


def pairing(u, y):
    """<u, y>; Re(sum(u * y)) for complex values (test_rule_table.pairing)."""
    return sum(float(np.real(np.sum(numbers(a) * numbers(b)))) for a, b in zip(leaves(u), leaves(y)))


def random_like(value, rng):
    if isinstance(value, dict):
        return {k: random_like(v, rng) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return table.rebuild(value, [random_like(v, rng) for v in value]) if isinstance(value, tuple) \
            else [random_like(v, rng) for v in value]
    if isinstance(value, np.ndarray) and np.iscomplexobj(value):
        return rng.standard_normal(value.shape) + 1j * rng.standard_normal(value.shape)
    if isinstance(value, np.ndarray):
        return rng.standard_normal(value.shape)
    return float(rng.standard_normal())


def assert_like(tangent, value, where="the value"):
    """The tangent has the value's structure, type and shape, and a floating dtype."""
    if isinstance(value, (tuple, list, dict)):
        assert type(tangent) is type(value), f"tangent of {where} is a {type(tangent).__name__}, " \
                                             f"value a {type(value).__name__}"
        assert len(tangent) == len(value)
        keys = value.keys() if isinstance(value, dict) else range(len(value))
        for k in keys:
            assert_like(tangent[k], value[k], f"{where}[{k!r}]")
    elif isinstance(value, np.ndarray):
        assert isinstance(tangent, np.ndarray), f"tangent of {where} is a {type(tangent).__name__}, value an ndarray"
        assert tangent.shape == value.shape, f"tangent of {where} has shape {tangent.shape}, value {value.shape}"
        assert tangent.dtype.kind == ("c" if value.dtype.kind == "c" else "f")
        if value.dtype.kind in "fc":
            assert tangent.dtype == value.dtype, f"tangent of {where} is {tangent.dtype}, value {value.dtype}"
    else:
        assert np.ndim(tangent) == 0 and np.result_type(tangent).kind == "f", (tangent, value)
        if type(value) is float:
            assert type(tangent) is float, f"tangent of a float is a {type(tangent).__name__}"


def check_jvp(f, values, tangents, rng, rtol=RTOL, atol=ATOL, reverse=True):
    """jvp of ``f`` against central differences and (``reverse``) ``s2sad.vjp``; returns the tangent."""
    value, tangent = s2sad.jvp(f, values, tangents)
    expected = f(*values)
    for got, want in zip(leaves(value), leaves(expected)):
        np.testing.assert_array_equal(got, want, err_msg="jvp changed the value")
    assert_like(tangent, expected)
    up = f(*[moved(x, v, EPS) for x, v in zip(values, tangents)])
    down = f(*[moved(x, v, -EPS) for x, v in zip(values, tangents)])
    for got, a, b in zip(leaves(tangent), leaves(up), leaves(down)):
        numeric = (numbers(a) - numbers(b)) / (2 * EPS)
        np.testing.assert_allclose(numbers(got), numeric, rtol=rtol, atol=atol,
                                   err_msg="jvp differs from central differences")
    if not reverse:
        return tangent
    wrt = tuple(i for i, t in enumerate(tangents) if t is not None)
    _, pullback = s2sad.vjp(f, *values, wrt=wrt)
    u = random_like(expected, rng)
    grads = pullback(u)
    reverse = sum(pairing(grads[k], tangents[i]) for k, i in enumerate(wrt))
    np.testing.assert_allclose(pairing(u, tangent), reverse, rtol=1e-9, atol=1e-12,
                               err_msg="<u, jvp(v)> differs from <vjp(u), v>")
    return tangent


# --- the table -----------------------------------------------------------------------------------
@pytest.mark.parametrize("prim, c", CASES, ids=IDS)
def test_jvp(prim, c, tmp_path):
    text, params = module_text(prim, c)
    f = load(tmp_path, text)
    rng = np.random.default_rng(SEED)
    values = [p.sample(rng) for p in params]
    tangents = [None if isinstance(p, table.Fixed) else p.direction(rng) for p in params]
    if c.refuses:               # refused in reverse mode: forward mode refuses too, gives NaN, or is right
        try:
            value, tangent = s2sad.jvp(f, values, tangents)
        except NotImplementedError:
            return
        if any(np.isnan(leaf).any() for leaf in _leaves(tangent)):      # (svd's extra singular vectors)
            return
        check_jvp(f, values, tangents, rng, reverse=False)
        if prim is np.einsum:   # no reverse mode to compare with: einsum is linear in each operand
            terms = [f(*[t if i == k else x for i, x in enumerate(values)]) for k, t in enumerate(tangents)]
            np.testing.assert_allclose(tangent, sum(terms), rtol=1e-12, atol=1e-14)
        return
    check_jvp(f, values, tangents, rng)
    active = [i for i, t in enumerate(tangents) if t is not None]
    if len(active) > 1:                                 # the first argument alone, the others held constant
        only = [t if i == active[0] else None for i, t in enumerate(tangents)]
        check_jvp(f, values, only, rng)


def test_every_forward_rule_has_a_case():
    covered = {registry._key(prim) for prim, _ in table.SPEC + EXTRA}
    # s2sad's own tables, not the rules other tests register for their own primitives, nor the tables with
    # tests of their own (as in test_rule_table.py: the runtime helpers' and fixed_point's rules in
    # tests/test_helper_rules.py, scipy.special's)
    own_tests = {"s2sad.rules.helpers", "s2sad.rules.implicit", "s2sad.rules.scipy_special", "s2sad.rules.nested",
                 "s2sad.rules.scipy_integrate", "s2sad.rules.scipy_linalg", "s2sad.rules.scipy_signal"}
    ours = [prim for prim, rule in registry.registered_jvps()
            if (getattr(rule, "__module__", None) or "").startswith("s2sad.rules.")
            and rule.__module__ not in own_tests]
    assert len(ours) > 100
    covered |= {registry._key(prim) for prim in table.LOSSY_CASTS}      # (a hand formula: test_lossy_casts)
    missing = [table.readable(prim) for prim in ours if registry._key(prim) not in covered]
    assert not missing, f"forward rules with no case in test_rule_table.SPEC or {__file__}: {', '.join(missing)}"


def test_every_case_has_a_forward_rule():
    without = sorted({table.readable(prim) for prim, _ in CASES if registry.jvp_rule(prim)[0] is None})
    assert not without, f"primitives with cases but no forward rule: {', '.join(without)}"


def test_elementwise_rules_are_shared_with_reverse_mode():
    for prim in (np.sin, np.add, np.multiply, np.maximum, math.exp, abs):
        rule, elementwise = registry.jvp_rule(prim)
        assert elementwise and rule is registry.vjp_rule(prim), table.readable(prim)
    for prim in (np.sum, np.matmul, np.linalg.solve, np.reshape):
        rule, elementwise = registry.jvp_rule(prim)
        assert rule is not None and not elementwise and rule is not registry.vjp_rule(prim), table.readable(prim)


# --- float32 and integer inputs ------------------------------------------------------------------
FLOAT32 = ["np.sin(x)", "np.exp(x) * y", "x / y", "np.tanh(x @ W)", "np.sum(x * y, axis=0)",
           "np.mean(x ** 2)", "np.maximum(x, y)", "np.linalg.norm(x)", "x.T", "np.where(x > 0, x, y)",
           "np.reshape(x, (-1,))", "np.concatenate([x, y])", "np.var(x, axis=1, ddof=1)",
           "np.sum(np.square(x)) * 2.0"]


@pytest.mark.parametrize("expr", FLOAT32)
def test_float32_inputs_give_float32_tangents(expr, tmp_path):
    f = load(tmp_path, f"import numpy as np\n\n\ndef f(x, y, W):\n    return {expr}\n")
    rng = np.random.default_rng(SEED)
    x, y, W = rng.standard_normal((3, 2)), rng.uniform(0.5, 2.0, (3, 2)), rng.standard_normal((2, 2))
    vx, vy = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    if not re.search(r"\by\b", expr):
        vy = None                                        # a tangent for an unused argument warns
    x32, y32, W32, vx32 = (a.astype(np.float32) for a in (x, y, W, vx))
    vy32 = None if vy is None else vy.astype(np.float32)
    value, tangent = s2sad.jvp(f, (x32, y32, W32), (vx32, vy32, None))
    expected = f(x32, y32, W32)
    assert np.result_type(expected) == np.float32
    assert np.result_type(tangent) == np.float32, f"a float32 function has a {np.result_type(tangent)} tangent"
    assert np.shape(tangent) == np.shape(expected)
    if isinstance(expected, np.ndarray):
        assert isinstance(tangent, np.ndarray)
    # the same points and directions in float64: float32 rounding is all that differs
    _, exact = s2sad.jvp(f, tuple(a.astype(float) for a in (x32, y32, W32)),
                         (vx32.astype(float), None if vy is None else vy32.astype(float), None))
    np.testing.assert_allclose(tangent, exact, rtol=1e-4, atol=1e-5)
    check_jvp(f, (x, y, W), (vx, vy, None), rng)             # and the float64 tangent itself


def int_poly(x, n):
    return np.sum(x ** 3) * n + n


def test_integer_arguments_are_refused_with_a_hint_to_pass_floats(rng):
    """Integers are counts and indices, not points of a smooth function (JAX and Autograd refuse them too)."""
    x = np.array([1, -2, 3])
    with pytest.raises(s2sad.WrtError, match="pass a float"):
        s2sad.jvp(int_poly, (x, 2), (np.array([1, 0, 2]), None))
    with pytest.raises(s2sad.WrtError, match="pass a float"):
        s2sad.jvp(int_poly, (x.astype(float), 2), (None, 1))       # wrt the int n
    value, tangent = s2sad.jvp(int_poly, (x.astype(float), 2.0), (None, 1.0))
    assert type(tangent) is type(value) and tangent == pytest.approx(np.sum(x ** 3) + 1.0, rel=1e-14)   # (np.float64)
    check_jvp(int_poly, (x.astype(float), 2.0), (np.array([0.3, -1.0, 0.5]), 0.7), rng)


def _leaves(x):
    if isinstance(x, (tuple, list)):
        return [leaf for item in x for leaf in _leaves(item)]
    return [np.asarray(x, dtype=float)] if x is not None else []


def _pinv_hermitian(A):
    P = np.linalg.pinv(A, hermitian=True)
    return np.sum(P * P) + np.sum(A * A * A)


def test_a_rule_assigning_its_parameter_does_not_rebind_the_callers_name():
    """pinv's forward rule writes `g = from_triangle(g, 'L') if hermitian else g`: inlined, that rebound the
    tangent of `A` itself, which the later `A * A * A` then read (a wrong tangent, silently; lstsq's
    `a = real_only(a)` made a global `A` local, an UnboundLocalError; found by a probe). A parameter the rule
    assigns is the rule's own local from there on (inline.inline)."""
    A = np.array([[2.0, 0.3], [0.3, 1.5]])
    T = np.array([[0.1, 0.2], [0.0, -0.3]])
    assert np.isclose(s2sad.jvp(_pinv_hermitian, (A,), (T,))[1], np.sum(s2sad.grad(_pinv_hermitian)(A) * T))



def _nanmax_of_scaled(x, c):
    return np.nanmax(c * x) + np.sum(np.nanmax((c * x).reshape(2, 3), axis=1))


def _entropy(p):
    return -np.sum(np.nan_to_num(p * np.log(p)))


def test_a_nan_tangent_where_the_value_is_skipped_stays_out():
    """nanmax's and nan_to_num's forward rules multiplied the tangent by a 0/1 mask: a NaN tangent where the value
    was NaN (skipped) or not finite (replaced) made the whole tangent NaN (0 * NaN; found by a probe)."""
    x = np.array([0.3, -0.7, 1.2, 0.5, -1.1, 0.9])
    c = np.array([1.0, np.nan, 2.0, np.nan, 0.5, 1.5])
    v = np.array([1.0, 1.0, 1.0, 1.0, 0.5, -1.0])
    _, t = s2sad.jvp(_nanmax_of_scaled, (x, c), (v, None))
    assert t == pytest.approx(c[2] * v[2] + c[2] * v[2] + c[5] * v[5], rel=1e-12)
    p = np.array([0.0, 0.3, 0.7])
    _, t = s2sad.jvp(_entropy, (p,), (np.array([0.0, 1.0, 0.0]),))
    assert t == pytest.approx(-(np.log(0.3) + 1.0), rel=1e-12)
