"""Dataclasses and plain objects holding arrays as differentiated arguments ("records").

The gradient with respect to a record is a record of the same type (a copy whose float and float-array
fields hold their gradients; ints, strings and functions are settings, copied unchanged). Each case is
checked against central differences on every leaf and, independently, by forward mode (a jvp with a
tangent record must equal the gradient's inner product with it) and by an hvp against differences of
gradients.
"""
import copy
import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads


@dataclass(frozen=True)
class Layer:
    W: np.ndarray
    b: np.ndarray
    name: str = "layer"


@dataclass
class Net:
    layers: list
    scale: float
    depth: int = 2


class Plain:
    def __init__(self, w, c):
        self.w = w
        self.c = c
        self.label = "plain"


class Model:
    def __init__(self, w, b, act=np.tanh):
        self.w = w
        self.b = b
        self.act = act                          # a function held as a field: a setting

    @staticmethod
    def square(r):
        return r * r

    @classmethod
    def halved(cls, r):
        return 0.5 * r

    def predict(self, X):
        return self.act(X @ self.w + self.b)

    def loss(self, X, y):
        return np.mean(self.halved(self.square(self.predict(X) - y)))


def net_loss(net, x):
    h = x
    for layer in net.layers:
        h = np.tanh(h @ layer.W + layer.b)
    return net.scale * np.sum(h ** 2) / net.depth


def unpacked_field_loss(p, x):             # the fuzzer's (seed 51000): a field unpacked, one item unused, gave nan
    a, b, c = p.w
    return b * np.sum(x) + c * p.c


def plain_loss(p, x):
    return np.sum(np.sin(p.w * x) * p.c) + p.c ** 2


RNG = np.random.default_rng(7)
X = RNG.normal(size=(5, 3))
NET = Net([Layer(RNG.normal(size=(3, 4)), RNG.normal(size=4)), Layer(RNG.normal(size=(4, 2)), RNG.normal(size=2), "out")],
          0.7)
PLAIN = Plain(RNG.normal(size=3), 0.4)


def _leaves(r):
    """Paths to every float leaf of a record (as getter/setter pairs over deep copies)."""
    if isinstance(r, Net):
        for i, layer in enumerate(r.layers):
            for f in ("W", "b"):
                yield ("layers", i, f)
        yield ("scale",)
    else:
        yield ("w",)
        yield ("c",)


def _get(r, path):
    v = r
    for p in path:
        v = v[p] if isinstance(p, int) else getattr(v, p)
    return v


def _with(r, path, value):
    """A deep copy of ``r`` with the leaf at ``path`` replaced (frozen dataclasses rebuilt)."""
    r = copy.deepcopy(r)
    if len(path) == 1:
        setattr(r, path[0], value)
        return r
    layer = r.layers[path[1]]
    r.layers[path[1]] = dataclasses.replace(layer, **{path[2]: value})
    return r


def _numerical(f, record, x, eps=1e-6):
    out = {}
    for path in _leaves(record):
        v = _get(record, path)
        arr = np.array(v, dtype=float)
        g = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            up, down = arr.copy(), arr.copy()
            up[idx] += eps
            down[idx] -= eps
            cast = (lambda a: float(a)) if isinstance(v, float) else (lambda a: a)
            g[idx] = (f(_with(record, path, cast(up)), x) - f(_with(record, path, cast(down)), x)) / (2 * eps)
        out[path] = g
    return out


@pytest.mark.parametrize("f, record", [(net_loss, NET), (plain_loss, PLAIN), (unpacked_field_loss, PLAIN)],
                         ids=["dataclass", "plain", "unpacked field"])
def test_gradient_is_a_record_of_the_same_type_matching_differences(f, record):
    g = s2sad.grad(f)(record, X[0] if f is not net_loss else X)
    assert type(g) is type(record)
    want = _numerical(f, record, X[0] if f is not net_loss else X)
    for path, num in want.items():
        np.testing.assert_allclose(_get(g, path), num, rtol=1e-6, atol=1e-8, err_msg=str(path))
    if f is net_loss:
        assert [layer.name for layer in g.layers] == ["layer", "out"] and g.depth == 2   # settings kept
        assert type(g.layers[0]) is Layer and isinstance(g.scale, float)
    else:
        assert g.label == "plain"


def _tangent(record, rng):
    if isinstance(record, Net):
        return Net([Layer(rng.normal(size=L.W.shape), rng.normal(size=L.b.shape)) for L in record.layers],
                   float(rng.normal()))
    return Plain(rng.normal(size=record.w.shape), float(rng.normal()))


def _inner(g, t, record):
    return sum(float(np.sum(np.asarray(_get(g, p)) * np.asarray(_get(t, p)))) for p in _leaves(record))


@pytest.mark.parametrize("f, record", [(net_loss, NET), (plain_loss, PLAIN), (unpacked_field_loss, PLAIN)],
                         ids=["dataclass", "plain", "unpacked field"])
def test_forward_mode_agrees_with_reverse(f, record):
    x = X[0] if f is not net_loss else X
    t = _tangent(record, np.random.default_rng(3))
    value, tangent = s2sad.jvp(f, (record, x), (t, np.zeros_like(x)))
    assert value == pytest.approx(f(record, x))
    assert tangent == pytest.approx(_inner(s2sad.grad(f)(record, x), t, record), rel=1e-10)


@pytest.mark.parametrize("f, record", [(net_loss, NET), (plain_loss, PLAIN), (unpacked_field_loss, PLAIN)],
                         ids=["dataclass", "plain", "unpacked field"])
def test_hvp_matches_differences_of_gradients(f, record):
    x = X[0] if f is not net_loss else X
    t = _tangent(record, np.random.default_rng(4))
    hv = s2sad.hvp(f)(record, t, x)
    assert type(hv) is type(record)
    eps = 1e-5

    def shifted(e):
        r = copy.deepcopy(record)
        for p in _leaves(record):
            new = _get(record, p) + e * _get(t, p)
            r = _with(r, p, float(new) if isinstance(_get(record, p), float) else new)
        return r
    up, down = s2sad.grad(f)(shifted(eps), x), s2sad.grad(f)(shifted(-eps), x)
    for p in _leaves(record):
        np.testing.assert_allclose(_get(hv, p), (_get(up, p) - _get(down, p)) / (2 * eps), rtol=1e-5, atol=1e-7,
                                   err_msg=str(p))


def test_method_differentiated_with_respect_to_its_object():
    """``grad(Model.loss)(model, X, y)``: the gradient is a Model; ``grad(model.loss)`` differentiates ``X``."""
    model = Model(RNG.normal(size=3), 0.3)
    y = RNG.normal(size=5)
    g = s2sad.grad(Model.loss)(model, X, y)
    assert type(g) is Model
    eps = 1e-6
    for i in range(3):
        e = np.eye(3)[i] * eps
        num = (Model(model.w + e, model.b).loss(X, y) - Model(model.w - e, model.b).loss(X, y)) / (2 * eps)
        assert g.w[i] == pytest.approx(num, rel=1e-6)
    num = (Model(model.w, model.b + eps).loss(X, y) - Model(model.w, model.b - eps).loss(X, y)) / (2 * eps)
    assert g.b == pytest.approx(num, rel=1e-6)
    gx = s2sad.grad(model.loss)(X, y)
    assert gx.shape == X.shape


def test_method_calls_on_the_differentiated_object_to_second_order():
    """Methods calling methods, a staticmethod, a classmethod and a field holding np.tanh, on the object being
    differentiated: jvp against the gradient, hvp against differences of gradients."""
    model = Model(RNG.normal(size=3), 0.3)
    y = RNG.normal(size=5)
    g = s2sad.grad(Model.loss)(model, X, y)
    t = Model(RNG.normal(size=3), 0.5)
    _, tangent = s2sad.jvp(Model.loss, (model, X, y), (t, None, None))
    assert tangent == pytest.approx(np.dot(g.w, t.w) + g.b * t.b, rel=1e-10)
    hv = s2sad.hvp(Model.loss)(model, t, X, y)
    eps = 1e-5
    up = s2sad.grad(Model.loss)(Model(model.w + eps * t.w, model.b + eps * t.b), X, y)
    down = s2sad.grad(Model.loss)(Model(model.w - eps * t.w, model.b - eps * t.b), X, y)
    np.testing.assert_allclose(hv.w, (up.w - down.w) / (2 * eps), rtol=1e-6, atol=1e-8)
    assert hv.b == pytest.approx((up.b - down.b) / (2 * eps), rel=1e-6, abs=1e-8)
    assert hv.act is np.tanh


def test_a_closure_held_by_the_differentiated_object_is_refused():
    """A closure held as a field may read the object's own arrays, which s2sad would take as constants."""
    model = Model(RNG.normal(size=3), 0.3)
    scale = 2.0

    def closing(z):
        return np.tanh(z * scale)
    model.act = closing
    with pytest.raises(s2sad.S2SadError, match="closure held by the object"):
        s2sad.grad(Model.loss)(model, X, RNG.normal(size=5))


def test_a_tangent_of_another_type_is_refused():
    with pytest.raises(ValueError, match="should be a Plain"):
        s2sad.hvp(plain_loss)(PLAIN, NET, X[0])


def test_integer_fields_are_settings_not_refused():
    """A record's int field is a setting: the record is still differentiable, the field copied."""
    g = s2sad.grad(net_loss)(NET, X)
    assert g.depth == NET.depth and type(g.depth) is int


@dataclass
class Sized:
    w: np.ndarray
    size: float


def test_a_float_field_named_like_an_array_attribute_is_refused():
    """``p.size`` is read as NumPy's ``np.size(p)`` (no derivative): a float field of that name would get a
    zero gradient, so differentiating such a record (or namedtuple) is refused, naming the field."""
    from collections import namedtuple
    Pair = namedtuple("Pair", ["w", "T"])

    def f(p, x):
        return np.sum(p.w * x) * p.size

    def g(p, x):
        return np.sum(p.w * x) * p.T
    x = np.array([0.5, 0.25])
    with pytest.raises(s2sad.S2SadError, match="field `size`"):
        s2sad.grad(f)(Sized(np.array([1.0, 2.0]), 3.0), x)
    with pytest.raises(s2sad.S2SadError, match="field `T`"):
        s2sad.grad(g)(Pair(np.array([1.0, 2.0]), 3.0), x)
    assert s2sad.grad(f, wrt=1)(Sized(np.array([1.0, 2.0]), 3.0), x) == pytest.approx([3.0, 6.0])


# --- what a class computes or defines, which s2sad does not see into (each gave a wrong number, silently) ---------
class _WithProperty:
    def __init__(self, w):
        self.w = w

    @property
    def w2(self):
        return self.w * self.w


class _WithConstant:
    K = 2.5                                     # a class attribute: the same for every object

    def __init__(self, w):
        self.w = w


class _Base:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def f(self, x):
        return self.a * x


class _Child(_Base):
    def f(self, x):
        return super().f(x) + self.b * x


class _Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def __iter__(self):
        return iter((self.a, self.b))


class _Gaussian:                                # methods named like an array's
    def __init__(self, mu, log_s):
        self.mu, self.log_s = mu, log_s

    def mean(self):
        return self.mu

    def all(self, x):
        return x ** 2


def _reads_a_property(m):
    return m.w2


class _WithCachedProperty:
    def __init__(self, w):
        self.w = w

    @functools.cached_property
    def w2(self):
        return self.w * self.w


def _reads_a_cached_property(m):
    return m.w2


def _reads_a_class_constant(c, x):
    return c.K * c.w ** 2 * x


def _calls_super(c, x):
    return c.f(x)


def _unpacks_an_object(p):
    a, b = p
    return a * b


def _calls_its_mean(g):
    return g.mean() ** 2


def _calls_its_all(x, g):
    return np.sum(g.all(x))


def _reads_by_getattr(p):
    return getattr(p, "w") ** 2


def _reads_by_a_computed_name(p, name):
    return getattr(p, name) ** 2


def test_what_a_class_computes_is_refused_and_its_constants_carry_no_derivative():
    # a property's derivative is its getter's (refused before: a probe's false refusal); its second is refused
    # (the rules of a field's tangent are flat in the object; a property's is not: a wrong Hessian without this)
    assert s2sad.grad(_reads_a_property)(_WithProperty(3.0)).w == pytest.approx(6.0)
    assert s2sad.jvp(_reads_a_property, (_WithProperty(3.0),), (_WithProperty(1.0),))[1] == pytest.approx(6.0)
    with pytest.raises(s2sad.S2SadError, match="is a property: its first derivative is followed"):
        s2sad.hvp(_reads_a_property)(_WithProperty(3.0), _WithProperty(1.0))
    with pytest.raises(s2sad.S2SadError, match="computes its attribute `w2` with a descriptor"):
        s2sad.grad(_reads_a_cached_property)(_WithCachedProperty(3.0))
    c = _WithConstant(2.0)                      # d/dw = 2 K w x; forward mode took K's tangent from the tangent object
    assert s2sad.grad(_reads_a_class_constant)(c, 1.0).w == pytest.approx(10.0)
    assert s2sad.jvp(_reads_a_class_constant, (c, 1.0), (_WithConstant(1.0), None))[1] == pytest.approx(10.0)
    with pytest.raises(s2sad.S2SadError, match=r"`super\(\)`"):
        s2sad.grad(_calls_super)(_Child(2.0, 3.0), 0.5)
    with pytest.raises(s2sad.S2SadError, match="own __iter__"):
        s2sad.grad(_unpacks_an_object)(_Pair(2.0, 3.0))
    with pytest.raises(s2sad.S2SadError, match=r"`\.mean\(\)` of a _Gaussian is its own method"):
        s2sad.grad(_calls_its_mean)(_Gaussian(0.7, 0.1))
    for run in (lambda: s2sad.grad(_calls_its_all)(np.array([0.3, 0.5]), _Gaussian(0.7, 0.1)),
                lambda: s2sad.jvp(_calls_its_all, (np.array([0.3, 0.5]), _Gaussian(0.7, 0.1)), (np.ones(2), None))):
        with pytest.raises(s2sad.S2SadError, match=r"`\.all\(\)` of a _Gaussian is its own method"):
            run()
    assert s2sad.grad(_reads_by_getattr)(_WithConstant(3.0)).w == pytest.approx(6.0)   # was 0
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="getattr"):
        s2sad.grad(_reads_by_a_computed_name)(_WithConstant(3.0), "w")


from collections import namedtuple                      # noqa: E402

_State = namedtuple("_State", ["a", "b"])


def _rebuilt_in_a_branch(s, k):
    if k > 0:
        s = _State(s.a * k, s.b)
    return s.a ** 2 + s.b


def test_a_namedtuple_held_constant_and_rebuilt_in_a_branch():
    """Forward mode with the namedtuple's tangent None: its zero tangent (a plain tuple of zeros) read by field
    name raised AttributeError (found by a probe; hvp and hessian too)."""
    s, k = _State(1.0, 0.3), 2.0
    assert s2sad.jvp(_rebuilt_in_a_branch, (s, k), (None, 1.0))[1] == pytest.approx(2 * k)
    assert s2sad.hessian(_rebuilt_in_a_branch, wrt=1)(s, k) == pytest.approx(2.0)
    assert s2sad.hvp(_rebuilt_in_a_branch, wrt=1)(s, k, 1.0) == pytest.approx(2.0)


@dataclass
class _Motion:
    x: np.ndarray
    v: np.ndarray
    steps: int = 0


@dataclass(frozen=True)
class _Spring:
    k: float
    m: float


@dataclass
class _Checked:
    w: float

    def __post_init__(self):
        self.w = max(self.w, 0.0)


def _leapfrog(k, x0):
    p = _Spring(k, m=2.0)
    s = _Motion(x0, np.zeros_like(x0))
    for _ in range(20):
        a = -p.k / p.m * s.x
        s = _Motion(s.x + 0.05 * s.v, v=s.v + 0.05 * a, steps=s.steps + 1)
    return np.sum(s.x ** 2) + 0.5 * p.m * np.sum(s.v ** 2) + s.steps * 0.0


def _checked_weight(w):
    return _Checked(w).w * 2.0


def test_dataclasses_made_inside_differentiated_code():
    """`State(x + dt * v, ...)` of differentiated values (a NoRuleError before; found by a probe): a record made
    by the class's own __init__ is differentiated through its fields, to any order; a class whose __init__ does
    more (__post_init__) stays refused."""
    k, x0, h = 1.3, np.array([0.5, -0.2]), 1e-5
    slope = (_leapfrog(k + h, x0) - _leapfrog(k - h, x0)) / (2 * h)
    curvature = (_leapfrog(k + 1e-4, x0) - 2 * _leapfrog(k, x0) + _leapfrog(k - 1e-4, x0)) / 1e-8
    assert s2sad.grad(_leapfrog)(k, x0) == pytest.approx(slope, rel=1e-7)
    assert s2sad.jvp(_leapfrog, (k, x0), (1.0, None))[1] == pytest.approx(slope, rel=1e-7)
    assert s2sad.hessian(_leapfrog)(k, x0) == pytest.approx(curvature, rel=1e-5)
    assert s2sad.grad(s2sad.grad(_leapfrog))(k, x0) == pytest.approx(curvature, rel=1e-5)
    across = [(_leapfrog(k, x0 + h * e) - _leapfrog(k, x0 - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(s2sad.grad(_leapfrog, wrt=1)(k, x0), across, rtol=1e-7)
    with s2sad.optimizations(False):
        assert s2sad.grad(_leapfrog)(k, x0) == pytest.approx(slope, rel=1e-7)
    with pytest.raises(s2sad.NoRuleError, match="_Checked"):
        s2sad.grad(_checked_weight)(0.5)


@dataclass(slots=True)
class _Slotted:
    w: np.ndarray
    b: float
    n: int = 2


def _slotted_loss(p, x):
    return np.sum(np.tanh(p.w * x + p.b)) * p.n


def test_a_dataclass_with_slots_is_a_record():
    """`@dataclass(slots=True)`: its fields are slots, read as fields (refused as "computed by its class" before;
    found by a probe)."""
    p, x = _Slotted(np.array([0.5, -1.0]), 0.3), 0.7
    slope = (1 - np.tanh(p.w * x + p.b) ** 2) * p.n
    g = s2sad.grad(_slotted_loss)(p, x)
    assert type(g) is _Slotted and g.n == 2
    np.testing.assert_allclose(g.w, slope * x, rtol=1e-14)
    assert g.b == pytest.approx(slope.sum(), rel=1e-14)
    tangent = s2sad.jvp(_slotted_loss, (p, x), (_Slotted(np.ones(2), 1.0), None))[1]
    assert tangent == pytest.approx(np.sum(slope * x) + slope.sum(), rel=1e-14)


@dataclass
class _Transposed:
    T: np.ndarray


def _made_with_an_array_attribute_name(x):
    return np.sum(_Transposed(x * 2.0).T)


def test_a_dataclass_with_a_field_named_like_an_array_attribute_made_inside_is_refused():
    """`o.T` is read as NumPy's transpose: a TypeError from inside s2sad before (found by a probe)."""
    with pytest.raises(s2sad.NoRuleError, match="making a `_Transposed` from values being differentiated"):
        s2sad.grad(_made_with_an_array_attribute_name)(np.array([0.3, -0.8]))
    with pytest.raises(s2sad.NoRuleError, match="making a `_Checked`"):
        s2sad.grad(_checked_weight)(0.5)


@dataclass
class _Counted:
    x: np.ndarray
    n: int


def _rebuilt_with_a_setting(x):
    s = _Counted(x, 3)
    s2 = _Counted(s.x * s.n, s.n + 1)
    return np.sum(s2.x ** 2)                          # 9 sum(x^2)


def test_a_record_with_a_setting_rebuilt_at_second_order_in_both_pipelines():
    """The unoptimized pipeline's hvp added two None adjoints of the int setting (a TypeError; found by a probe)."""
    x, v = np.array([0.3, -0.5, 1.2]), np.array([1.0, 2.0, 3.0])
    for optimized in (True, False):
        with s2sad.optimizations(optimized):
            np.testing.assert_allclose(s2sad.hvp(_rebuilt_with_a_setting)(x, v), 18 * v, rtol=1e-14)


class _Linear:
    """A layer as course notebooks write it: an ``__init__`` storing its parameters, a ``__call__``."""

    def __init__(self, W, b=0.0, act="tanh"):
        self.bias = b                       # (stored in another order, under other names)
        self.weight = W
        self.act = act

    def __call__(self, x):
        z = x @ self.weight + self.bias
        return np.tanh(z) if self.act == "tanh" else z

    def energy(self, x):
        return np.sum(self(x) ** 2)


class _Sine:                                # (its subclass inherits this __init__)
    def __init__(self, W):
        self.W = W


class _SineLayer(_Sine):
    def __call__(self, x):
        return np.sin(x @ self.W)


class _Doubling:
    def __init__(self, W, b):
        self.W = W
        self.b = b * 2.0                    # computes what it stores: not a record

    def __call__(self, x):
        return x @ self.W + self.b


@dataclass
class _Dense:
    W: np.ndarray

    def __call__(self, x):
        return np.tanh(x @ self.W)


def _plain_layers(W, b, x):
    first = _Linear(b=b, W=W)
    second = _Linear(W.T * 0.5, act="linear")
    h = _SineLayer(W)(second(x))
    return first.energy(x) + np.sum(second(h) * b) + np.sum(_Dense(W)(x)) + first.weight[0, 1] * first.bias


def _computing_layer(W, b, x):
    layer = _Doubling(W, b)
    return np.sum(layer(x))


def test_objects_of_plain_classes_made_inside_differentiated_code():
    """`layer = Linear(W, b)` of a class whose own `__init__` only stores its parameters was refused (only
    dataclasses were followed), and a dataclass's object made inside and called by name (`l1 = Dense(W);
    l1(x)`) was refused as a closure (probes). Both are records now, to second order; a class whose
    `__init__` computes what it stores stays refused, naming the user's line."""
    W, b, x = np.array([[0.5, -0.2], [0.1, 0.3]]), 0.7, np.array([1.0, -0.5])
    for wrt in (0, 1, 2):
        check_grads(_plain_layers, (W, b, x), wrt=wrt, order=2)
    with s2sad.optimizations(False):
        check_grads(_plain_layers, (W, b, x), wrt=(0, 1, 2))
    with pytest.raises(s2sad.S2SadError, match=r"test_records.py:\d+: the function called here, `layer`"):
        s2sad.grad(_computing_layer)(W, b, x)
    assert s2sad.grad(_computing_layer, wrt=2)(W, b, x) == pytest.approx(W.sum(axis=1))


class _Validated:
    def __init__(self, s):
        self.s = s                          # through the property's setter below

    @property
    def s(self):
        return self._s

    @s.setter
    def s(self, value):
        self._s = value * 2.0


def _doubling_init(cls):
    init = cls.__init__

    @functools.wraps(init)
    def wrapped(self, w):
        init(self, w * 2.0)
    cls.__init__ = wrapped
    return cls


@_doubling_init
class _Decorated:
    def __init__(self, w):
        self.w = w


class _DoublingMeta(type):
    def __call__(cls, w):
        return super().__call__(w * 2.0)


class _Made(metaclass=_DoublingMeta):
    def __init__(self, w):
        self.w = w


class _Looked:
    def __init__(self, w):
        self.w = w

    def __getattribute__(self, name):
        value = object.__getattribute__(self, name)
        return value * 2.0 if name == "w" else value


class _Real:
    def __init__(self, w):
        self.w = w

    @property
    def real(self):
        return self.w * 3.0


class _Inverted:
    def __init__(self, w):
        self.w = w

    def __invert__(self):
        return _Inverted(1.0 / self.w)


@pytest.mark.parametrize("loss", ["_validated_loss", "_decorated_loss", "_made_loss", "_looked_loss", "_real_loss",
                                  "_inverted_loss"])
def test_classes_that_make_or_read_objects_their_own_way_are_refused(loss):
    """Objects made inside differentiated code whose class does more than store its parameters, in ways the source
    of its __init__ does not show (found by a probe, each a wrong derivative: 0, or half of it): a property setter
    stored through, a decorated __init__, a metaclass's __call__, __getattribute__, a property named like an array
    attribute, the operator ~. Each is refused; the plain function still runs."""
    f = globals()[loss]
    assert np.isfinite(f(1.5))
    with pytest.raises(s2sad.S2SadError):
        s2sad.grad(f)(1.5)


def _validated_loss(w):
    return _Validated(w).s ** 2


def _decorated_loss(w):
    return _Decorated(w).w ** 2


def _made_loss(w):
    return _Made(w).w ** 2


def _looked_loss(w):
    return _Looked(w).w ** 2


def _real_loss(w):
    return _Real(w).real ** 2


def _inverted_loss(w):
    return (~_Inverted(w)).w ** 2
