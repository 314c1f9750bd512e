"""Checking derivatives: ``check_grads`` compares s2sad's gradient with central finite differences,
and forward mode with reverse mode (to second order on request).

    from s2sad.testing import check_grads
    check_grads(loss, (w, X, y), wrt=0)
    check_grads(loss, (w, X, y), wrt=0, order=2)     # also Hessian-vector products
"""
import copy

import numpy as np

from . import tree
from .api import grad as _grad, jvp, value_and_grad, vjp

__all__ = ["check_grads", "numerical_grad"]


def _perturbed(args, i, value):
    args = list(args)
    args[i] = value
    return args


def _plain(f, args):
    """``f`` run on copies of ``args``: a function changing an argument in place (``x += 1.0``, which s2sad's
    derivative code computes as Python does without changing the caller's array) leaves them as they were."""
    return f(*copy.deepcopy(tuple(args)))


def _to_float64(x):
    if isinstance(x, np.ndarray):
        return x.astype(np.float64)
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return float(x)
    if isinstance(x, np.floating):
        return np.float64(x)                  # a NumPy scalar stays one (`x.astype`, `x / 0.0` as the user's)
    return x


def _composite(x):
    """A container, or a record (a dataclass, an object with fields): differentiated leaf by leaf."""
    return tree.is_container(x) or tree.is_record(x)


def _leaves(x):
    """The numbers and arrays in ``x``: a container's items, a record's fields that carry a derivative."""
    if tree.is_container(x):
        return [leaf for item in (x.values() if isinstance(x, dict) else x) for leaf in _leaves(item)]
    if tree.is_record(x):
        return [leaf for v in tree.fields_of(x).values() for leaf in _leaves(v)]
    return [x]


def _rebuilt(leaves, like):
    """``like`` with its leaves (``_leaves``) replaced by ``leaves``, in order (a record copied, its settings kept)."""
    it = iter(leaves)

    def build(x):
        if tree.is_container(x):
            if isinstance(x, dict):
                return {k: build(v) for k, v in x.items()}
            items = [build(v) for v in x]
            if isinstance(x, list):
                return items
            return type(x)(*items) if hasattr(type(x), "_fields") else tuple(items)
        if tree.is_record(x):
            new = copy.copy(x)
            for name, v in tree.fields_of(x).items():
                object.__setattr__(new, name, build(v))      # (a frozen dataclass too)
            return new
        return next(it)
    return build(like)


def numerical_grad(f, args, i, eps=1e-6):
    """Central finite differences of scalar ``f`` with respect to argument ``i`` (float64).

    A container argument (tuple, list, dict, namedtuple) gets a container of the same shape.
    """
    args = list(args)
    x = args[i]
    if _composite(x):
        leaves = [_to_float64(v) for v in _leaves(x)]
        grads = []
        for j, leaf in enumerate(leaves):
            def on_leaf(value, j=j):
                return _rebuilt(leaves[:j] + [value] + leaves[j + 1:], x)
            grads.append(_numerical_leaf(lambda v: _plain(f, _perturbed(args, i, on_leaf(v))), leaf, eps))
        return _rebuilt(grads, x)
    return _numerical_leaf(lambda v: _plain(f, _perturbed(args, i, v)), _to_float64(x), eps)


def _numerical_leaf(g, x, eps):
    if isinstance(x, float):                  # (an output of one item, `np.sum(x, keepdims=True)`: its number)
        return float(np.reshape((g(x + eps) - g(x - eps)) / (2 * eps), ()))
    out = np.zeros(x.shape)
    for k in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[k] += eps
        xm[k] -= eps
        out[k] = np.reshape((g(xp) - g(xm)) / (2 * eps), ())
    return out


def _directional(f, args, i, direction, eps):
    x = _to_float64(args[i])
    up = _plain(f, _perturbed(args, i, x + eps * direction))
    down = _plain(f, _perturbed(args, i, x - eps * direction))
    return (up - down) / (2 * eps)


def check_grads(f, args, wrt=0, *, rtol=1e-5, atol=1e-6, eps=1e-6, full_limit=64, seed=0, modes=("reverse",
                "forward"), order=1):
    """Assert that ``s2sad.grad(f, wrt)`` at ``args`` matches finite differences.

    Checks, for each argument in ``wrt``: the gradient's type, shape and dtype match the
    argument's; the value returned by ``value_and_grad`` equals ``f(*args)``; ``vjp``
    with cotangent 1 agrees with ``grad``; every partial derivative matches central
    differences (arguments with more than ``full_limit`` elements are checked along three
    random directions instead). Finite differences run in float64.

    With ``"forward"`` in ``modes``: ``jvp`` along random directions equals the gradient
    dotted with them (forward against reverse). With ``order=2`` (numbers and arrays):
    the Hessian-vector product (forward over reverse) matches central differences of
    the gradient, and ``u·Hv == v·Hu`` (symmetry).
    """
    from .markers import wrt_indices
    args = tuple(args)
    indices, many = wrt_indices(f, wrt)           # (parameter names as positions; None: the decorator's wrt)
    value, grads = value_and_grad(f, wrt)(*args)
    expected_value = _plain(f, args)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12, atol=0, err_msg="value_and_grad changed the value")
    grads = grads if many else (grads,)
    np.testing.assert_allclose(_flat(_grad(f, wrt)(*args)), _flat(grads if many else grads[0]), rtol=1e-12, atol=0,
                               err_msg="grad and value_and_grad disagree")
    out, pullback = vjp(f, *args, wrt=wrt)
    one = np.ones_like(out, dtype=float) if isinstance(out, np.ndarray) else 1.0      # (an output of shape (1, 1))
    np.testing.assert_allclose(_flat(pullback(one)), _flat(grads if many else grads[0]), rtol=1e-12, atol=0,
                               err_msg="vjp(1.0) and grad disagree")
    rng = np.random.default_rng(seed)
    f64_args = [_to_float64(a) if k in indices else a for k, a in enumerate(args)]
    for g, i in zip(grads, indices):
        x = args[i]
        _check_like(g, x, i)
        if _composite(x):
            numeric = numerical_grad(f, f64_args, i, eps)
            for got, want in zip(_leaves(g), _leaves(numeric)):
                np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=rtol, atol=atol,
                                           err_msg=f"gradient of argument {i} differs from finite differences")
            continue
        if np.size(x) <= full_limit:
            numeric = numerical_grad(f, f64_args, i, eps)
            np.testing.assert_allclose(np.asarray(g, dtype=float), numeric, rtol=rtol, atol=atol,
                                       err_msg=f"gradient of argument {i} differs from finite differences")
        else:
            for _ in range(3):
                v = rng.standard_normal(np.shape(x))
                numeric = _directional(f, f64_args, i, v, eps)
                np.testing.assert_allclose(np.sum(np.asarray(g, dtype=float) * v), numeric, rtol=rtol, atol=atol,
                                           err_msg=f"directional derivative of argument {i} differs")
    if "forward" in modes:
        for g, i in zip(grads, indices):
            _check_forward(f, args, i, g, rng)
    if order >= 2:
        for i in indices:
            _check_second_order(f, f64_args, i, rng, rtol, atol, eps)
    return grads if many else grads[0]


def _random_like(x, rng):
    if _composite(x):
        return _rebuilt([_random_like(leaf, rng) for leaf in _leaves(x)], x)
    if isinstance(x, np.ndarray):
        return rng.standard_normal(x.shape).astype(x.dtype if x.dtype.kind == "f" else float)
    return float(rng.standard_normal())


def _check_forward(f, args, i, g, rng):
    """jvp along a random direction == the reverse-mode gradient dotted with it."""
    v = _random_like(args[i], rng)
    tangents = [None] * len(args)
    tangents[i] = v
    value, tangent = jvp(f, args, tangents)
    np.testing.assert_allclose(value, _plain(f, args), rtol=1e-12, atol=0, err_msg="jvp changed the value")
    expected = float(np.dot(_flat(g), _flat(v)))
    scale = float(np.sum(np.abs(_flat(g)) * np.abs(_flat(v)))) + 1e-300
    tangent = float(np.reshape(tangent, ()))       # (an output of one item: its number)
    assert abs(tangent - expected) <= 1e-9 * scale, \
        f"forward mode (jvp {tangent!r}) and reverse mode (grad . v = {expected!r}) disagree on argument {i}"


def _moved(x, direction, step):
    """``x + step * direction`` for a number, an array or a container of them (leaf by leaf)."""
    if _composite(x):
        return _rebuilt([_moved(a, d, step) for a, d in zip(_leaves(x), _leaves(direction))], x)
    moved = _to_float64(x) + step * direction
    return np.asarray(moved) if isinstance(x, np.ndarray) else moved      # (a 0-d array stays an array)


def _check_second_order(f, args, i, rng, rtol, atol, eps):
    """Hessian-vector products (forward over reverse) against differences of the gradient, and symmetry (for
    numbers, arrays and containers of them, leaf by leaf)."""
    gradient = _grad(f, i)
    u, v = _random_like(args[i], rng), _random_like(args[i], rng)

    def hvp(direction):
        tangents = [None] * len(args)
        tangents[i] = direction
        return _flat(jvp(gradient, args, tangents)[1])
    hv, hu = hvp(v), hvp(u)
    up, down = _perturbed(args, i, _moved(args[i], v, eps)), _perturbed(args, i, _moved(args[i], v, -eps))
    numeric = (_flat(gradient(*up)) - _flat(gradient(*down))) / (2 * eps)
    np.testing.assert_allclose(hv, numeric, rtol=rtol, atol=atol,
                               err_msg=f"Hessian-vector product of argument {i} differs from differences of the gradient")
    left, right = float(np.sum(_flat(u) * hv)), float(np.sum(_flat(v) * hu))
    assert abs(left - right) <= 1e-8 * (abs(left) + abs(right) + 1e-300), \
        f"the Hessian of argument {i} is not symmetric: u.Hv = {left!r}, v.Hu = {right!r}"


def _flat(grads):
    leaves = _leaves(grads)
    return np.concatenate([np.ravel(np.asarray(g, dtype=float)) for g in leaves])


def _check_like(g, x, i):
    if tree.is_container(x):
        assert type(g) is type(x), f"gradient of argument {i} should be a {type(x).__name__}, got {type(g).__name__}"
        if isinstance(x, dict):
            assert g.keys() == x.keys(), f"gradient of argument {i} has keys {sorted(g)}, argument has {sorted(x)}"
            for k in x:
                _check_like(g[k], x[k], i)
        else:
            assert len(g) == len(x), f"gradient of argument {i} has {len(g)} items, argument has {len(x)}"
            for gk, xk in zip(g, x):
                _check_like(gk, xk, i)
    elif tree.is_record(x):
        assert type(g) is type(x), f"gradient of argument {i} should be a {type(x).__name__}, got {type(g).__name__}"
        for name, v in tree.fields_of(x).items():
            _check_like(getattr(g, name), v, i)
    elif isinstance(x, np.generic):
        assert type(g) is type(x), f"gradient of argument {i} should be a {type(x).__name__}, got {type(g).__name__}"
    elif isinstance(x, (float, int)) and not isinstance(x, bool):
        assert type(g) is float, f"gradient of argument {i} should be a float, got {type(g).__name__}"
    elif isinstance(x, np.ndarray):
        assert isinstance(g, np.ndarray), f"gradient of argument {i} should be an ndarray, got {type(g).__name__}"
        assert g.shape == x.shape, f"gradient of argument {i} has shape {g.shape}, argument has {x.shape}"
        if x.dtype.kind == "f":
            assert g.dtype == x.dtype, f"gradient of argument {i} has dtype {g.dtype}, argument has {x.dtype}"
