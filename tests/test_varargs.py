"""``*args`` and ``**kwargs`` parameters: the differentiated function's own and its callees'.
An argument landing in ``*args`` of a callee carries its derivative through the tuple; ``wrt`` names
parameters (an argument landing in the caller's own ``*args`` is refused with a clear error)."""
import re

import numpy as np
import pytest

import s2sad
from s2sad.pytrees import flatten
from s2sad.testing import check_grads

W = np.array([0.3, -0.5, 0.2, 0.7, 0.1])


def concat_and_multiply(weights, *args):           # from Autograd's examples
    cat = np.concatenate(args + (np.ones(1),))
    return weights @ cat


def uses_varargs_callee(w):
    return np.sum(np.tanh(concat_and_multiply(w, np.array([1.0, 2.0]), w[:2] * 3.0)))


def uses_varargs_callee_twin(w):
    cat = np.concatenate([np.array([1.0, 2.0]), w[:2] * 3.0, np.ones(1)])
    return np.sum(np.tanh(w @ cat))


def own_varargs_and_kwargs(w, *rest, scale=2.0, **opts):
    s = np.sum(w) * scale
    for r in rest:
        s = s + np.sum(r * w[:2])
    return s * opts.get("factor", 1.0)


def test_a_callee_with_varargs():
    check_grads(uses_varargs_callee, (W,), order=2)
    np.testing.assert_allclose(s2sad.grad(uses_varargs_callee)(W), s2sad.grad(uses_varargs_callee_twin)(W),
                               rtol=1e-12)


def test_the_differentiated_function_with_varargs_and_kwargs():
    a, b = np.array([1.0, 2.0]), np.array([0.5, 0.5])
    check_grads(own_varargs_and_kwargs, (W, a, b), order=2)
    g = s2sad.grad(own_varargs_and_kwargs)
    np.testing.assert_allclose(g(W, a, factor=3.0, scale=1.0), 3.0 * g(W, a, scale=1.0), rtol=1e-12)
    with pytest.raises(s2sad.WrtError, match="lands in `\\*rest`"):
        s2sad.grad(own_varargs_and_kwargs, wrt=1)(W, a)


def starred_unpack(x):
    a, *rest, z = x
    return a * np.sum(rest) + z * rest[0]


def starred_unpack_twin(x):
    return x[0] * np.sum(x[1:-1]) + x[-1] * x[1]


def starred_display(x):
    items = [*x[:2], 1.0, *np.sin(x[2:])]
    pair = (*x[:1], 2.0)
    return np.sum(np.stack(items) * 2.0) + pair[0] * pair[1]


def starred_display_twin(x):
    return np.sum(np.concatenate([x[:2], [1.0], np.sin(x[2:])]) * 2.0) + x[0] * 2.0


def unzipped(x):
    pairs = [(x[0], x[1]), (x[2], x[3]), (x[4], x[0])]
    firsts, seconds = zip(*pairs)
    return sum(firsts) * sum(s * s for s in seconds)


def unzipped_twin(x):
    return (x[0] + x[2] + x[4]) * (x[1] ** 2 + x[3] ** 2 + x[0] ** 2)


def spread_constant_shape(x):
    shape = (2, 3)
    noise = np.zeros(*shape[:1]) + 1.0
    return np.sum(x[:2] * noise)


@pytest.mark.parametrize("f, twin", [(starred_unpack, starred_unpack_twin), (starred_display, starred_display_twin),
                                     (unzipped, unzipped_twin), (spread_constant_shape, None)])
def test_starred_forms(f, twin):
    check_grads(f, (W,), order=2)
    if twin is not None:
        assert f(W) == pytest.approx(twin(W), rel=1e-12)
        np.testing.assert_allclose(s2sad.grad(f)(W), s2sad.grad(twin)(W), rtol=1e-12)


def spreads_a_differentiated_value(x):
    return np.hypot(*x[:2])


def spreads_into_defaults(x):
    return _cubes(*x[:2])                   # _cubes(p, c, d=1.0): two items or three, known only where it runs


def test_a_differentiated_value_spread_into_a_ufunc_and_where_its_length_is_unknown():
    """``np.hypot(*x[:2])``: a ufunc of two inputs takes two items (front/spreads.py writes them out, and the
    unpacking checks the count where the code runs); into a callee with a default the count is unknown: refused."""
    check_grads(spreads_a_differentiated_value, (W,), order=2)
    np.testing.assert_allclose(s2sad.grad(spreads_a_differentiated_value)(W),
                               [W[0] / np.hypot(W[0], W[1]), W[1] / np.hypot(W[0], W[1]), 0, 0, 0], rtol=1e-14)
    for optimize in (True, False):
        with pytest.raises(s2sad.UnsupportedSyntaxError, match="passed with `\\*`"):
            s2sad.grad(spreads_into_defaults, optimize=optimize)(W)


def _weighted_rest(t, *rest):
    total = t
    for k, r in enumerate(rest):
        total = total + (k + 1) * 0.5 * np.arctan(r)
    return total


def spreads_into_a_helpers_rest(x, a):             # `rest` is tuple(x): the call inlined with it
    q = _weighted_rest(np.tanh(a), *x)
    return q * q + np.sum(x * a)


def spreads_into_a_helpers_rest_twin(x, a):
    q = _weighted_rest(np.tanh(a), x[0], x[1], x[2])
    return q * q + np.sum(x * a)


def test_a_differentiated_value_spread_into_a_helpers_rest():
    """``h(t, *x)`` with ``def h(t, *rest)``: inlined with ``rest = tuple(x)`` (optimize/inline_calls._bind); the
    straightforward pipeline, which links calls instead, passes ``x_items = tuple(x)`` whole as ``rest``
    (front/spreads._rest_as_tuple, calls.differentiated_arguments)."""
    x, a = np.array([0.3, -0.4, 0.8]), 0.6
    assert spreads_into_a_helpers_rest(x, a) == pytest.approx(spreads_into_a_helpers_rest_twin(x, a), rel=1e-14)
    check_grads(spreads_into_a_helpers_rest, (x, a), wrt=(0, 1), order=2)
    for got, want in zip(s2sad.grad(spreads_into_a_helpers_rest, wrt=(0, 1))(x, a),
                         s2sad.grad(spreads_into_a_helpers_rest_twin, wrt=(0, 1))(x, a)):
        np.testing.assert_allclose(got, want, rtol=1e-13)
    with s2sad.optimizations(False):
        check_grads(spreads_into_a_helpers_rest, (x, a), wrt=(0, 1), order=2)
        for got, want in zip(s2sad.grad(spreads_into_a_helpers_rest, wrt=(0, 1))(x, a),
                             s2sad.grad(spreads_into_a_helpers_rest_twin, wrt=(0, 1))(x, a)):
            np.testing.assert_allclose(got, want, rtol=1e-13)
        assert "x_items = tuple(x)" in s2sad.adjoint_source(spreads_into_a_helpers_rest, wrt=(0, 1), args=(x, a))


# --- forwarding *args to another function ----------------------------------------------------------------
def _cubes(p, c, d=1.0):
    return np.sum(p ** 3) * c + d


def forwards_varargs(v, *args):
    return _cubes(v, *args)


def forwards_to_a_function_value(f, v, *args):
    return f(v, *args)


def forwards_differentiated_values(v, w):
    rest = (w, 2.0)
    return _cubes(v, *rest)


def test_varargs_forwarded_to_a_helper_all_orders():
    """``_cubes(v, *args)``: the inliner kept the starred argument as one (``c = *args``: a SyntaxError in the
    generated code); the call binds the arguments before the star and the rest where the code runs."""
    v = np.array([0.5, -1.0])
    check_grads(forwards_varargs, (v, 2.0), order=2)
    check_grads(forwards_varargs, (v, 2.0, 0.5), order=2)


def test_varargs_forwarded_through_a_partial_to_a_function_value():
    import functools
    g = functools.partial(forwards_to_a_function_value, _cubes)      # hvp lost the partial's first argument
    v = np.array([0.5, -1.0])
    np.testing.assert_allclose(s2sad.hvp(g)(v, np.ones(2), 2.0), 6 * v * 2.0, rtol=1e-12)
    check_grads(g, (v, 2.0, 0.5), order=2)


def forwards_differentiated_values_twin(v, w):
    return _cubes(v, w, 2.0)


def test_a_differentiated_value_in_a_spread_tuple_of_known_length():
    """``rest = (w, 2.0); _cubes(v, *rest)``: two items (the display's length), written out in both pipelines."""
    v = np.array([0.5, -1.0])
    check_grads(forwards_differentiated_values, (v, 0.5), wrt=(0, 1), order=2)
    for optimize in (True, False):
        got = s2sad.grad(forwards_differentiated_values, wrt=(0, 1), optimize=optimize)(v, 0.5)
        want = s2sad.grad(forwards_differentiated_values_twin, wrt=(0, 1), optimize=optimize)(v, 0.5)
        for g, h in zip(got, want):
            np.testing.assert_allclose(g, h, rtol=1e-14)


# --- functions with *args / **kwargs defined inside the differentiated function (front/lift.py) ---------
def nested_kwargs(x, w):
    a = np.sin(w)

    def inner(y, scale=1.0, **kw):
        return np.sum(y * scale) + kw["c"] * y[0] * a
    return inner(x, scale=w, c=w ** 2) + inner(x * x, c=x[1])


def nested_kwargs_twin(x, w):
    a = np.sin(w)
    return np.sum(x * w) + w ** 2 * x[0] * a + np.sum(x * x) + x[1] * (x[0] * x[0]) * a


def nested_varargs(x, w):
    def inner(first, *rest):
        return first * rest[0] + np.sum(rest[1] ** 2) * w
    return np.sum(inner(x, np.sin(x), x * w)) + inner(w, 2.0, x)


def nested_varargs_twin(x, w):
    return np.sum(x * np.sin(x) + np.sum((x * w) ** 2) * w) + w * 2.0 + np.sum(x ** 2) * w


def nested_lambda_varargs(x):
    total = lambda *parts: sum(np.sum(p) for p in parts)
    return total(x ** 2, np.cos(x), x[0] * x)


def nested_lambda_varargs_twin(x):
    return np.sum(x ** 2) + np.sum(np.cos(x)) + np.sum(x[0] * x)


def nested_varargs_spread(x, w):           # g(a, *rest) into def g(t, *more): more is tuple(rest)
    def fold(t, *more):
        s = t
        for r in more:
            s = s + 0.5 * np.sin(r) * w
        return s
    coefs = (1.5, w * x)
    pair = [w, x * x]
    return np.sum(fold(np.sum(x), *coefs)) + np.sum(fold(w, *pair))


def nested_varargs_spread_twin(x, w):
    return (np.sum(np.sum(x) + 0.5 * np.sin(1.5) * w + 0.5 * np.sin(w * x) * w)
            + np.sum(w + 0.5 * np.sin(w) * w + 0.5 * np.sin(x * x) * w))


NESTED = [(nested_kwargs, nested_kwargs_twin, (0, 1)), (nested_varargs, nested_varargs_twin, (0, 1)),
          (nested_lambda_varargs, nested_lambda_varargs_twin, (0,)),
          (nested_varargs_spread, nested_varargs_spread_twin, (0, 1))]


@pytest.mark.parametrize("f, twin, wrt", NESTED, ids=[f.__name__ for f, _, _ in NESTED])
def test_nested_functions_with_varargs_and_kwargs(f, twin, wrt):
    """Lifted with their ``*args`` a tuple and ``**kwargs`` a dict that each call packs: against the same
    program without them, finite differences, both modes and second order."""
    x, w = np.array([0.3, -0.7, 1.1]), 0.6
    args = (x, w)[:len(wrt)] if len(wrt) == 1 else (x, w)
    assert f(*args) == pytest.approx(twin(*args), rel=1e-14)
    got, want = s2sad.grad(f, wrt=wrt)(*args), s2sad.grad(twin, wrt=wrt)(*args)
    for g, h in zip(got if len(wrt) > 1 else (got,), want if len(wrt) > 1 else (want,)):
        np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(s2sad.jacobian(f, mode="forward")(*args), s2sad.grad(twin)(*args), rtol=1e-12)
    np.testing.assert_allclose(s2sad.hessian(f)(*args), s2sad.hessian(twin)(*args), rtol=1e-12, atol=1e-12)
    check_grads(f, args, wrt=wrt, order=2)


def nested_varargs_as_a_value(x):
    def inner(*parts):
        return parts[0] * 2.0
    return np.sum(call_with(inner, x * x))


def call_with(fn, value):
    return fn(value)


def nested_varargs_mapped(x):             # map(inner, xs) calls inner directly (front/lift._Mapped)
    def inner(*parts):
        return parts[0] * parts[1]
    return np.sum(sum(map(inner, [x, x * x], [np.sin(x), x])))


def test_a_nested_function_with_varargs_mapped():
    x = np.array([0.3, -0.7])
    assert s2sad.grad(nested_varargs_mapped)(x) == pytest.approx(np.sin(x) + x * np.cos(x) + 3 * x ** 2, rel=1e-12)
    check_grads(nested_varargs_mapped, (x,), order=2)


def test_a_nested_function_with_varargs_used_as_a_value_is_refused():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"test_varargs.py:\d+: the function `inner` defined "
                                                         r"here has `\*args` or `\*\*kwargs` and is used as a value"):
        s2sad.grad(nested_varargs_as_a_value)(np.array([0.3, -0.7]))


# --- helpers with **kw, *rest and keyword-only parameters, inlined (optimize/inline_calls.py) -----------
def _keyword_sum(t, **kw):
    s = t
    for key, val in kw.items():
        s = s + 0.5 * np.sin(val)
    return s


def _rest_sum(t, *rest, scale=2.0):
    total = t
    for k, r in enumerate(rest):
        total = total + (k + 1) * scale * np.arctan(r)
    return total


def calls_keyword_helpers(x, a):
    y = _keyword_sum(x, u=a * 2.0, w=x * a)
    z = _rest_sum(a, x, a * x, scale=0.5) + _rest_sum(x)
    return y * z


def test_helpers_with_keywords_and_rest_are_inlined_with_the_dict_and_tuple_python_makes():
    """``**kw`` becomes the dict literal Python would build, ``*rest`` the tuple, keyword-only parameters bind by
    name or to their defaults: differentiated values passed there are then followed (the straightforward pipeline,
    which inlines nothing, links the call: the callee's code is differentiated by ``kw``, a dict)."""
    from s2sad.testing import check_grads
    for args in ((0.3, 1.2), (np.float64(-0.7), 0.4)):
        check_grads(calls_keyword_helpers, args, wrt=(0, 1), order=2)
    text = s2sad.adjoint_source(calls_keyword_helpers, wrt=(0, 1), args=(0.3, 1.2))
    assert "_keyword_sum_kw = {'u': " in text and "_rest_sum_rest = (x, " in text
    for got, want in zip(s2sad.grad(calls_keyword_helpers, wrt=(0, 1), optimize=False)(0.3, 1.2),
                         s2sad.grad(calls_keyword_helpers, wrt=(0, 1))(0.3, 1.2)):
        assert got == pytest.approx(want, rel=1e-13)
    with s2sad.optimizations(inline=False):
        check_grads(calls_keyword_helpers, (0.3, 1.2), wrt=(0, 1), order=2)
        text = s2sad.adjoint_source(calls_keyword_helpers, wrt=(0, 1), args=(0.3, 1.2))
        assert "_keyword_sum_vjp(x, u=_t1, w=_t2)" in text and "_rest_sum_vjp_1(a, x, _t3, scale=0.5)" in text


def reads_with_get(x, d):
    return np.sum(d.get("a", 0.0) * x + d.get("z", x * x) * d.get("b"))


def test_dict_get_with_and_without_the_key():
    """``d.get(k, default)``: the key's value when the dict has it, else the default, differentiated either way."""
    from s2sad.testing import check_grads
    x, d = np.array([0.3, 0.7]), {"a": np.array([0.5, -1.0]), "b": 1.5}
    check_grads(reads_with_get, (x, d), order=2)
    gx, gd = s2sad.grad(reads_with_get, wrt=(0, 1))(x, d)
    assert set(gd) == {"a", "b"}
    np.testing.assert_allclose(gd["a"], x, rtol=1e-12)                 # d["a"] * x
    assert gd["b"] == pytest.approx(np.sum(x * x), rel=1e-12)         # the default x * x times d["b"]
    np.testing.assert_allclose(gx, d["a"] + 2 * x * d["b"], rtol=1e-12)


def nested_spread_into_a_named_parameter(x):
    def g(t, *more):
        return t * 2.0 + len(more)
    parts = [x, x * x]
    return np.sum(g(*parts))                 # where t lands is known only when the code runs


def test_a_spread_reaching_a_named_parameter_of_a_nested_function_is_refused():
    """Functions defined inside are lifted before the arguments' kinds are known (front/lift.py), so a spread into
    their named parameters is refused even where its length is known (a helper defined outside is not)."""
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"`\*args`/`\*\*kwargs` in a call of the function `g`"):
        s2sad.grad(nested_spread_into_a_named_parameter)(np.array([0.3, -0.7]))


# --- spreads written out item by item where their length or keys are known (front/spreads.py) ------------------
M = np.array([[0.4, -0.3], [0.2, 0.9]])
B = np.array([0.1, -0.2])


def _layer(W, b):
    return np.tanh(W @ np.array([0.5, -1.5]) + b)


def _three(a, b, c):
    return np.sum(a * b * np.sin(c))


def spread_params(params, x):            # params: a tuple or list (W, b), as Autograd's examples pass them
    return np.sum(_layer(*params) * x)


def spread_params_twin(params, x):
    return np.sum(_layer(params[0], params[1]) * x)


def spread_a_list_that_grows(x):         # its display says two, the append makes three: _three takes three
    parts = [x, x * 2.0]
    parts.append(np.cos(x))
    return _three(*parts)


def spread_a_list_that_grows_twin(x):
    return _three(x, x * 2.0, np.cos(x))


def spread_keywords(W, b):
    literal = _layer(**{"W": W * 2.0, "b": b})
    named = dict(b=np.sin(b), W=W)
    return np.sum(literal * _layer(**named))


def spread_keywords_twin(W, b):
    return np.sum(_layer(W * 2.0, b) * _layer(W, np.sin(b)))


def spread_a_dict_argument(params, x):   # a dict of parameters into a callee whose parameters are all required
    return np.sum(_layer(**params) * x)


def spread_a_dict_argument_twin(params, x):
    return np.sum(_layer(params["W"], params["b"]) * x)


SPREADS = [(spread_params, spread_params_twin, lambda: ((M, B), B * 3.0)),
           (spread_params, spread_params_twin, lambda: ([M, B], B * 3.0)),
           (spread_a_list_that_grows, spread_a_list_that_grows_twin, lambda: (B,)),
           (spread_keywords, spread_keywords_twin, lambda: (M, B)),
           (spread_a_dict_argument, spread_a_dict_argument_twin, lambda: ({"W": M, "b": B}, B * 3.0))]


@pytest.mark.parametrize("f, twin, args", SPREADS, ids=[f"{f.__name__}-{k}" for k, (f, _, _) in enumerate(SPREADS)])
def test_spreads_of_known_length_or_keys(f, twin, args):
    """``f(*params)``, ``f(**{...})``, ``f(**dict(...))``, ``f(**params)``: against the same program passing the
    items one by one, in both pipelines (the straightforward one links the call), forward mode and second order."""
    args = args()
    assert f(*args) == pytest.approx(twin(*args), rel=1e-14)
    check_grads(f, args, wrt=0, order=2 if isinstance(args[0], np.ndarray) else 1)
    if not isinstance(args[0], np.ndarray):        # second order through the container: hvp against the twin's
        v = tuple(0.5 * a for a in args[0]) if isinstance(args[0], (tuple, list)) else \
            {k: 0.5 * a for k, a in args[0].items()}
        v = type(args[0])(v) if isinstance(args[0], list) else v
        np.testing.assert_allclose(flatten(s2sad.hvp(f)(*args[:1], v, *args[1:]))[0],
                                   flatten(s2sad.hvp(twin)(*args[:1], v, *args[1:]))[0], rtol=1e-12, atol=1e-14)
    for optimize in (True, False):
        got, want = s2sad.grad(f, optimize=optimize)(*args), s2sad.grad(twin, optimize=optimize)(*args)
        assert type(got) is type(args[0])
        np.testing.assert_allclose(flatten(got)[0], flatten(want)[0], rtol=1e-13, atol=1e-15)


def test_a_spread_reads_like_the_items_passed_one_by_one():
    """The unpacking and the keywords are what the user would have written; a dict made for the call alone is
    not built (its values are passed as they are)."""
    text = s2sad.adjoint_source(spread_params, args=((M, B), B))
    code = [line for line in text.splitlines() if not line.strip().startswith("#")]
    assert "    params_0, params_1 = params" in code and not any("*params" in line for line in code)
    text = s2sad.adjoint_source(spread_keywords, args=(M, B), optimize=False)
    code = "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))
    assert "_layer_vjp_1(W=_t1, b=b)" in code and "**" not in code and "{" not in code


def sums_with_options(x, opts):
    return np.sum(np.sum(x * x, **opts))


def test_a_keyword_spread_whose_keys_are_unknown_is_refused():
    """``**opts`` with ``opts`` an argument, into np.sum (whose parameters have defaults): its keys are known only
    where the code runs, so which rule applies is not: refused with the line."""
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"test_varargs.py:\d+: `\*\*` in a call whose keys"):
        s2sad.grad(sums_with_options)(M, {"axis": 0})


# --- keyword-only and **kw parameters of a call that is linked, not inlined (calls.differentiated_arguments) -----
def _positional_helper(t, scale, shift, extras):
    total = np.tanh(t * scale) + shift
    for extra in extras:
        total = total * 1.01 + np.sin(extra * t)
    for _ in range(3):
        total = total * 0.9 + 0.1 * np.cos(total)
        total = total + 0.01 * np.sum(t)
        total = total - 0.02 * shift
        total = total * 1.0
    return np.sum(total * total)


def _keyword_only_helper(t, *, scale, shift=0.0, **kw):     # its keyword-only and **kw parameters receive
    return _positional_helper(t, scale, shift, [kw[key] for key in sorted(kw)])   # differentiated values


def keyword_arguments_linked(x, a):
    return _keyword_only_helper(x, scale=a, u=x * a, v=2.0) + _keyword_only_helper(x * x, scale=1.5, shift=a)


def keyword_arguments_linked_twin(x, a):          # the helper's parameters all positional, **kw a tuple
    return _positional_helper(x, a, 0.0, (x * a, 2.0)) + _positional_helper(x * x, 1.5, a, ())


@pytest.mark.parametrize("switches", [dict(inline=False), dict(enabled=False)], ids=["not-inlined", "straightforward"])
def test_keyword_only_and_kw_parameters_of_a_linked_call(switches):
    """A differentiated value passed to a keyword-only parameter or into ``**kw`` of a helper that is not inlined
    (inlining off, or the straightforward pipeline): the helper's own code is differentiated by those
    parameters' names (``kw``'s adjoint a dict, its tangent a dict); against the same program with plain
    parameters, finite differences, forward mode and second order."""
    x, a = np.array([0.3, -0.6]), 0.8
    assert keyword_arguments_linked(x, a) == pytest.approx(keyword_arguments_linked_twin(x, a), rel=1e-13)
    want = s2sad.grad(keyword_arguments_linked_twin, wrt=(0, 1))(x, a)
    with s2sad.optimizations(**switches):
        text = s2sad.adjoint_source(keyword_arguments_linked, wrt=(0, 1), args=(x, a))
        assert re.search(r"_keyword_only_helper_vjp\w*\(x, scale=a, u=_t1, v=2\.0\)", text)   # linked, not inlined
        got = s2sad.grad(keyword_arguments_linked, wrt=(0, 1))(x, a)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
        assert got[1] == pytest.approx(want[1], rel=1e-12)
        check_grads(keyword_arguments_linked, (x, a), wrt=(0, 1), order=2)


def spread_a_whole_array(x):             # x's length: known only when the code runs; t gets x[0], rest the others
    return _weighted_rest(*x) ** 2 + np.sum(x)


def spread_a_whole_array_twin(x):
    return _weighted_rest(x[0], x[1], x[2]) ** 2 + np.sum(x)


def test_an_array_spread_over_a_helpers_parameters_and_rest():
    """``h(*x)`` with ``def h(t, *rest)``: ``x_0 = x[0]; x_rest = x[1:]; h(x_0, *x_rest)`` (front/spreads._head_items),
    then inlined or linked with ``rest`` the tuple of ``x_rest``; both pipelines, forward mode, second order."""
    x = np.array([0.3, -0.4, 0.8])
    for optimize in (True, False):
        with s2sad.optimizations(optimize):
            check_grads(spread_a_whole_array, (x,), order=2)
            np.testing.assert_allclose(s2sad.grad(spread_a_whole_array)(x), s2sad.grad(spread_a_whole_array_twin)(x),
                                       rtol=1e-13)
    assert "x_0 = x[0]" in s2sad.adjoint_source(spread_a_whole_array, args=(x,))


# --- **d of keys known only where the code runs, into a function whose parameters are known (front/spreads) ---
def _scaled_sum(x, scale=1.0, shift=0.0, mode=None):
    y = np.tanh(x * scale) + shift
    return np.sum(y if mode is None else y * y)


def forwards_its_keywords(x, **kw):      # the wrapper pattern: the caller's keywords passed on
    return _scaled_sum(x, **kw) * 2.0


def forwards_a_dict(x, opts):
    return _scaled_sum(x, **opts) + np.sum(x * x)


def test_keywords_forwarded_with_their_keys_known_only_where_the_code_runs():
    """``inner(x, **kw)`` with ``kw`` the function's own ``**kw`` or a dict argument: each parameter of ``inner``
    read from the dict (``_s2.dict_get(kw, 'scale', 1.0)``, its default when the key is absent), after a check that
    raises Python's TypeError for a key ``inner`` does not take; both pipelines, forward mode, second order."""
    x = np.array([0.3, -0.4, 0.9])
    for optimize in (True, False):
        with s2sad.optimizations(optimize):
            g = s2sad.grad(forwards_its_keywords)
            np.testing.assert_allclose(g(x, scale=0.5, shift=1.0), s2sad.grad(
                lambda x: _scaled_sum(x, scale=0.5, shift=1.0) * 2.0)(x), rtol=1e-13)
            np.testing.assert_allclose(g(x, mode="square"), s2sad.grad(
                lambda x: _scaled_sum(x, mode="square") * 2.0)(x), rtol=1e-13)
            check_grads(lambda x, s: forwards_its_keywords(x, scale=s, shift=0.2), (x, 0.7), wrt=(0, 1), order=2)
            check_grads(forwards_a_dict, (x, {"scale": 0.6}), wrt=(0, 1))
            with pytest.raises(TypeError, match="_scaled_sum\\(\\) got an unexpected keyword argument 'sclae'"):
                g(x, sclae=0.5)
            with pytest.raises(TypeError, match="unexpected keyword argument 'offset'"):
                s2sad.grad(forwards_a_dict)(x, {"scale": 0.6, "offset": 1.0})
    text = s2sad.adjoint_source(forwards_its_keywords, args=(x,))
    assert "_s2.check_keywords(kw, ('scale', 'shift', 'mode'), '_scaled_sum')" in text
    assert "kw_scale = _s2.dict_get(kw, 'scale', 1.0)" in text
