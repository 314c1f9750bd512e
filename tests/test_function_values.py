"""Functions as values inside differentiated code: a list of activations, a default argument holding a
function, a curried call ``f(a)(x)``, a function passed to a helper, lambdas as arguments, methods of an
object calling each other. s2sad asks for the callee's derivative when the generated code runs
(calls.Dynamic). Checked against central differences, forward against reverse, second order, and a twin
calling the functions directly."""
import functools

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads

W = np.array([0.3, -0.5])
X = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.1]])


class Model:
    def __init__(self, scale):
        self.scale = scale

    def predict(self, w, X):
        return np.tanh(X @ w) * self.scale

    def loss(self, w, X):
        return np.sum(self.predict(w, X) ** 2)


MODEL = Model(1.5)
ACTIVATIONS = [np.tanh, lambda v: v * v, np.sin]


def layered(w):
    h = w
    for act in ACTIVATIONS:
        h = act(h)
    return np.sum(h)


def layered_twin(w):
    return np.sum(np.sin(np.tanh(w) ** 2))


def with_default(w, nonlinearity=np.tanh):
    return np.sum(nonlinearity(w) * w)


def with_default_twin(w):
    return np.sum(np.tanh(w) * w)


def curried(a):
    return lambda v: v * a


def uses_curried(w):
    return np.sum(curried(2.0)(w) * w)


def uses_curried_twin(w):
    return np.sum(2.0 * w * w)


def apply(f, w):
    return np.sum(f(w))


def passes_functions(w):
    return apply(np.sin, w) + apply(lambda v: v ** 3, w)


def passes_functions_twin(w):
    return np.sum(np.sin(w)) + np.sum(w ** 3)


def global_method(w):
    return MODEL.loss(w, X)


def global_method_twin(w):
    return np.sum((np.tanh(X @ w) * 1.5) ** 2)


def method_of_an_argument(w, model):
    return model.loss(w, X) + np.sum(model.predict(w, X))


def method_of_an_argument_twin(w, model):
    p = np.tanh(X @ w) * 1.5
    return np.sum(p ** 2) + np.sum(p)


def lambda_mapping_inside_a_lambda(w):        # the inner lambda reads `w` of the outer one (lifted: a parameter)
    scaled = lambda t: t * sum(map(lambda wi: w[0] * wi, w))
    return scaled(w[1]) + np.sum(w)


def lambda_mapping_inside_a_lambda_twin(w):
    return w[1] * w[0] * np.sum(w) + np.sum(w)


PAIRS = [(layered, layered_twin, ()), (with_default, with_default_twin, ()), (uses_curried, uses_curried_twin, ()),
         (lambda_mapping_inside_a_lambda, lambda_mapping_inside_a_lambda_twin, ()),
         (passes_functions, passes_functions_twin, ()), (global_method, global_method_twin, ()),
         (method_of_an_argument, method_of_an_argument_twin, (MODEL,))]


@pytest.mark.parametrize("f, twin, rest", PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_function_values_against_differences_and_a_twin(f, twin, rest):
    args = (W,) + rest
    assert f(*args) == pytest.approx(twin(*args), rel=1e-12)
    check_grads(f, args, order=2)
    np.testing.assert_allclose(s2sad.grad(f)(*args), s2sad.grad(twin)(*args), rtol=1e-10)
    np.testing.assert_allclose(s2sad.grad(f, optimize=False)(*args), s2sad.grad(twin)(*args), rtol=1e-10)


def test_methods_calling_methods_of_the_same_object():
    check_grads(MODEL.loss, (W, X), order=2)


def closes_over_a_differentiated_value(w):
    scale = w[0] * 2.0
    f = curried(scale)                      # a function made from a value being differentiated
    return np.sum(f(w))


def lambda_reading_a_differentiated_value(w):
    a = w * 2.0
    return apply(lambda v: v * a, w)


def differentiated_value_by_keyword(w):
    return np.sum(keyword_helper(1.0, t=w))


def keyword_helper(c, t):
    return t * c


FORWARD_OF = keyword_helper


def calls_a_function_value_by_keyword(w):
    f = FORWARD_OF
    return np.sum(f(1.0, t=w))


def partial_model(w, d):
    return np.sum(np.tanh(w * d))


PARTIAL_DATA = [np.array([0.1, 0.2]), np.array([-0.5, 0.4])]


def partial_over_a_differentiated_value(w):      # issue 12: front/partials.py
    g = functools.partial(partial_model, w)
    return sum(map(g, PARTIAL_DATA))


def partial_called_directly(w):
    g = functools.partial(partial_model, np.sin(w))
    total = 0.0
    for d in PARTIAL_DATA:
        total = total + g(d) * g(d=d * 2.0)
    return total + sum(g(d) for d in PARTIAL_DATA)


def partial_with_keywords(w):
    g = functools.partial(scaled_model, scale=w[0], d=PARTIAL_DATA[0])
    ww = w * w
    return g(w) + g(w * 2.0, scale=3.0) + sum(map(functools.partial(partial_model, ww), PARTIAL_DATA))


def partial_of_a_nested_function(w):
    a = w ** 2

    def inner(u, d):
        return np.sum(np.tanh(u * d) * a)
    g = functools.partial(inner, w)
    return sum(map(g, PARTIAL_DATA)) + g(PARTIAL_DATA[1] * 3.0)


def scaled_model(w, d, scale=1.0):
    return np.sum(np.tanh(w * d)) * scale


def partial_over_a_differentiated_value_twin(w):
    return partial_model(w, PARTIAL_DATA[0]) + partial_model(w, PARTIAL_DATA[1])


def partial_called_directly_twin(w):
    s = np.sin(w)
    total = 0.0
    for d in PARTIAL_DATA:
        total = total + partial_model(s, d) * partial_model(s, d * 2.0)
    return total + partial_model(s, PARTIAL_DATA[0]) + partial_model(s, PARTIAL_DATA[1])


def partial_with_keywords_twin(w):
    return (scaled_model(w, PARTIAL_DATA[0], w[0]) + scaled_model(w * 2.0, PARTIAL_DATA[0], 3.0)
            + partial_model(w * w, PARTIAL_DATA[0]) + partial_model(w * w, PARTIAL_DATA[1]))


def partial_of_a_nested_function_twin(w):
    a = w ** 2
    return (np.sum(np.tanh(w * PARTIAL_DATA[0]) * a) + np.sum(np.tanh(w * PARTIAL_DATA[1]) * a)
            + np.sum(np.tanh(w * PARTIAL_DATA[1] * 3.0) * a))


def closure_mapped(w):                           # front/lift._Mapped: map(g, xs) calls g directly
    def g(d):
        return partial_model(w, d) * w[0]
    return sum(map(g, PARTIAL_DATA))


def closure_mapped_twin(w):
    return (partial_model(w, PARTIAL_DATA[0]) + partial_model(w, PARTIAL_DATA[1])) * w[0]


PARTIALS = [partial_over_a_differentiated_value, partial_called_directly, partial_with_keywords,
            partial_of_a_nested_function, closure_mapped]


@pytest.mark.parametrize("f", PARTIALS, ids=[f.__name__ for f in PARTIALS])
def test_a_partial_over_a_differentiated_value(f):
    """``g = functools.partial(model, w)`` called directly or mapped: against the same program with the calls
    written out, finite differences, both modes, second order."""
    twin = globals()[f.__name__ + "_twin"]
    w = np.array([0.3, -0.7])
    assert f(w) == pytest.approx(twin(w), rel=1e-14)
    np.testing.assert_allclose(s2sad.grad(f)(w), s2sad.grad(twin)(w), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(s2sad.jacobian(f, mode="forward")(w), s2sad.grad(twin)(w), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(s2sad.hessian(f)(w), s2sad.hessian(twin)(w), rtol=1e-12, atol=1e-12)
    check_grads(f, (w,), order=2)


def partial_over_a_differentiated_value_passed_on(w):
    g = functools.partial(partial_model, w)
    return apply_to_first(g, PARTIAL_DATA)


def apply_to_first(fn, data):
    return fn(data[0]) * 2.0


def test_a_partial_over_a_differentiated_value_passed_on_is_refused():
    """Passed to another function, its calls are out of sight: refused where it is called (reverse mode), or
    where it is made (forward mode: ``functools.partial`` has no rule), naming the line."""
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"test_function_values.py:\d+: the function called here, "
                                                         r"`g`, depends on a value being differentiated"):
        s2sad.grad(partial_over_a_differentiated_value_passed_on)(W)
    with pytest.raises(s2sad.S2SadError, match=r"test_function_values.py:\d+: cannot differentiate `functools.partial"
                                               r"\(...\)` here: a partial holding a differentiated value is supported"):
        s2sad.jvp(partial_over_a_differentiated_value_passed_on, (W,), (np.ones(2),))


@pytest.mark.parametrize("f, message", [
    (closes_over_a_differentiated_value, "depends on a value being differentiated"),
    (lambda_reading_a_differentiated_value, "this lambda reads `a`, which is being differentiated"),
    (calls_a_function_value_by_keyword, "passed by keyword"),
])
def test_function_values_it_cannot_follow_are_refused(f, message):
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=message):
        s2sad.grad(f)(W)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=message):
        s2sad.jvp(f, (W,), (np.ones(2),))


def redefined_functions(x):
    def g(t):
        return np.sin(t) * x[0]
    a = g(x[1])

    def g(t):
        return t * t
    b = g(x[2])
    h = lambda v: v + 1.0          # noqa: E731
    c = h(a)
    h = lambda v: v * 3.0          # noqa: E731
    return a + b + c + h(b)


def redefined_functions_twin(x):
    a = np.sin(x[1]) * x[0]
    b = x[2] * x[2]
    return a + b + (a + 1.0) + 3.0 * b


def redefined_and_read_by_another(x):
    def g(t):
        return t * 2.0

    def k(t):
        return g(t) + 1.0           # late binding: the g bound when k runs
    a = k(x[0])

    def g(t):
        return t * 3.0
    return a + k(x[1])


def test_a_function_defined_twice_is_two_functions():
    """The second `def g` (or `h = lambda`) is a new function from there on: calls before it use the first."""
    x = np.array([0.3, -0.8, 1.1])
    assert redefined_functions(x) == pytest.approx(redefined_functions_twin(x), rel=1e-14)
    check_grads(redefined_functions, (x,), order=2)
    np.testing.assert_allclose(s2sad.grad(redefined_functions)(x), s2sad.grad(redefined_functions_twin)(x),
                               rtol=1e-12)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="defined twice"):
        s2sad.grad(redefined_and_read_by_another)(x)


def redefined_after_a_loop(x):
    for v in x:
        fl = lambda t: t + np.cosh(v)   # noqa: E731  (never called: the body's own `fl` below is)
    fl = lambda t: t / (1.0 + abs(t))    # noqa: E731
    return np.sin(fl(x[0])) + fl(x[1])


def redefined_after_a_loop_twin(x):
    return np.sin(x[0] / (1.0 + abs(x[0]))) + x[1] / (1.0 + abs(x[1]))


def redefined_in_a_branch(x):
    def g(t):
        return t * 2.0
    if x[0] > 0.0:
        def g(t):
            return t * 3.0
    return g(x[1])                  # either function: refused


def redefined_and_called_in_a_loop(x):
    def g(t):
        return t * 2.0
    s = 0.0
    for v in x:
        s = s + g(v)                # the first g on the first pass, the second after
        def g(t):
            return t * 3.0
    return s


def test_a_function_redefined_in_a_branch_or_loop():
    """A ``def`` in the body after one in a loop is the function from there on; where a call may mean either
    of two definitions (after or inside the branch or loop that redefines it), refused."""
    x = np.array([0.3, -0.8, 1.1])
    assert redefined_after_a_loop(x) == pytest.approx(redefined_after_a_loop_twin(x), rel=1e-14)
    check_grads(redefined_after_a_loop, (x,), order=2)
    np.testing.assert_allclose(s2sad.grad(redefined_after_a_loop)(x), s2sad.grad(redefined_after_a_loop_twin)(x),
                               rtol=1e-12)
    for f in (redefined_in_a_branch, redefined_and_called_in_a_loop):
        with pytest.raises(s2sad.UnsupportedSyntaxError, match="either of two functions|same name"):
            s2sad.grad(f)(x)


def defined_twice_never_called(x):
    for v in x:
        bump = lambda t, u: t * u       # noqa: E731  (never called)
    for k in range(2):
        if x[0] > 0.0:
            bump = lambda t: t * t      # noqa: E731
    return np.sum(x * x)


def test_functions_defined_twice_and_never_called_are_no_ambiguity():
    x = np.array([0.3, -0.8, 1.1])
    check_grads(defined_twice_never_called, (x,))


def _reduced_by(x, red=np.max):
    return np.sum(red(x, axis=0) ** 3)


def test_second_derivatives_through_a_function_value_called_with_a_keyword():
    """`red(x, axis=0)` with `red` a NumPy function passed as a value: the keyword of the primitive's call is held
    in its directional derivative (a NameError `k_axis` in hvp and hessian; found by a probe)."""
    x = np.array([[1.0, 2.0], [3.0, 0.5]])
    np.testing.assert_allclose(s2sad.hvp(_reduced_by)(x, np.ones((2, 2))), [[0.0, 12.0], [18.0, 0.0]], rtol=1e-13)
    sums = np.sum(x, axis=0)                       # H v = 6 s_j (v_0j + v_1j) for f = sum(s^3), s the column sums
    np.testing.assert_allclose(s2sad.hvp(_reduced_by)(x, np.ones((2, 2)), np.sum), 12 * sums * np.ones((2, 2)),
                               rtol=1e-13)


_COLUMN_SUMS = functools.partial(np.sum, axis=0)


def _through_a_module_partial_of_numpy(x):
    return np.sum(_COLUMN_SUMS(x * x) ** 2)


def test_a_module_level_partial_of_a_numpy_function():
    """`partial(np.sum, axis=0)` held by the module and called by name (a NoRuleError naming the partial; found by
    a probe): differentiated through s2sad's vjp and jvp of it."""
    x = np.array([[0.3, -0.7], [1.1, 0.4]])
    s = np.sum(x * x, axis=0)
    np.testing.assert_allclose(s2sad.grad(_through_a_module_partial_of_numpy)(x), 4 * x * s, rtol=1e-13)
    d = np.array([[1.0, 2.0], [-1.0, 0.5]])
    assert s2sad.jvp(_through_a_module_partial_of_numpy, (x,), (d,))[1] == pytest.approx(np.sum(4 * x * s * d))
