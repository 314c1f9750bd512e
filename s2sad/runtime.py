"""Runtime helpers that generated code calls through the ``_s2`` alias.

Shape logic lives here, in small functions, so that a rule stays one line and
the generated code says what it means (``_s2.unbroadcast(c_bar, x)``). These
helpers (and the container adjoints of tree.py, re-exported here) use NumPy and
the standard library only, so generated modules can carry them along.
"""
import collections.abc
import math
import random
import types

import numpy as np

from .errors import NonScalarOutputError, UnsupportedSyntaxError, UnsupportedValueError
from .tree import AdjDict, AdjFields, AdjList, AdjTuple, adjoint_of, fields_of, is_record  # noqa: F401
from .incomplete import beta_density_d, betainc_d, gamma_density_d, gammainc_d, stdtr_d, t_density_d  # noqa: F401
from .tree import append_grads, attribute, field_tangent, pack, part, parts, unattr  # noqa: F401  (reached as _s2.pack, ...)
from .tree import add  # noqa: E402  (adjoints: None is zero, containers add by item)

__all__ = [
    "unbroadcast", "unreduce", "reduced_size", "unindex", "zeros_like", "seed", "like",
    "safe_log", "extremum_grad", "extremum_initial_grad", "prod_grad", "prod_partials", "matmul_x_grad", "matmul_y_grad",
    "dot_x_grad", "dot_y_grad", "tensordot_grads", "einsum_grads", "split_like", "unstack",
    "unarray", "unsum", "trace_grad", "cast_grad", "cholesky_grad", "det_grad",
    "solve_a_grad", "real_zero", "as_columns", "from_columns", "transpose_grad", "vstack_grads", "hstack_grads", "stack_grads",
    "concatenate_grads", "astype", "clip_masks", "std_grad", "inner_grads", "unreshape", "atleast_grads",
    "slogdet_grad", "shape_of", "sequence", "unpack_grad", "rng_state", "checkpoint_rerun", "ShapeOf", "index_add", "owned", "append_grads", "attribute", "pack", "part", "parts", "unattr",
    "first_best", "sort_order", "check_keywords", "pairs_of", "pairs_grad", "pairs_tangent", "make_dict", "dict_values_grad", "retyped", "keys_of", "sequence_grad",
    "added", "source_index", "sources_of", "ungather", "regather", "gradient_grad", "gradient_spacing_grads", "gradient_spacing_tangent", "partition_source", "ungather_each", "regather_each", "pad_source",
    "undiff", "diff_tangent", "nonzero_checked", "quantile_apply", "quantile_spread", "polygamma", "vector_rows", "vector_unrows", "scalar_base", "vander_powers", "insert_source", "extract_source", "select_masks", "select_grads", "select_default", "choose_index", "choose_grads", "broadcast_arrays_grads", "broadcast_tangents", "multi_dot_grads", "multi_dot_tangent", "block_grads", "cov_rows", "cov_turns", "cov_divisor", "cov_tangent", "corrcoef_tangent", "cov_grads", "corrcoef_grads", "quantile_q_grad", "quantile_q_tangent", "median_weights", "median_grad", "median_tangent", "average_weights", "unweight", "kron_layout", "checked_cross", "full_pads",
    "unsplit", "item", "unitem", "sinc_derivative", "repetition_cross", "repetition_cross_grad", "einsum_directions", "einsum_directions_grads", "scaled_power", "TreeSpec", "LeafSpec", "eigengaps", "eigh_grad", "from_triangle", "to_triangle", "svd_grad", "svd_tangent", "qr_grad", "qr_tangent", "lstsq_grads", "lstsq_tangent", "pinv_grad",
    "unflatten_vector", "flatten_values", "remainder_grad", "scipy_value", "same_length", "a_list", "distinct", "uncut", "cofactor", "cofactor_grad", "cofactor_tangent", "underived", "rule_shaped", "sequence_tangent", "interp_segments", "interp_fp_grad", "polyval_coefficients_grad", "derivative_coefficients", "trapezoid_grads", "spaced_by_dx", "meshgrid_grads", "meshgrid_tangents", "unzip", "unzip_grad", "rollaxis_inverse", "uncumsum", "recumsum", "unsort", "sorted_like", "item_of", "put_item", "written_grad", "cleared", "written_tangent", "owned_tangent", "redo",
]


# --- broadcasting and reductions ---------------------------------------------------
def unbroadcast(g, x):
    """Sum ``g`` down to the shape of ``x`` (the adjoint of NumPy broadcasting)."""
    if type(g) is np.ndarray:                      # the common cases, quickly: the same shape, or a bias's adjoint
        x_shape = x.shape if type(x) is np.ndarray or type(x) is ShapeOf else np.shape(x)
        g_shape = g.shape
        if g_shape == x_shape:
            return g
        lead = len(g_shape) - len(x_shape)
        if lead > 0 and g_shape[lead:] == x_shape and g.dtype.kind == "f":     # (np.sum's own reduction)
            return np.add.reduce(g, axis=0 if lead == 1 else tuple(range(lead)))
    x_shape = np.shape(x)
    g_shape = np.shape(g)
    if g_shape == x_shape:
        return g
    if len(g_shape) < len(x_shape):
        return np.broadcast_to(g, x_shape)
    lead = len(g_shape) - len(x_shape)
    if lead:
        g = np.sum(g, axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(x_shape) if n == 1 and np.shape(g)[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return g


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(a % ndim for a in axis)
    return (axis % ndim,)


def unreduce(g, x, axis=None, keepdims=False):
    """Broadcast ``g`` (the adjoint of a reduction of ``x``) back to the shape of ``x``."""
    if type(g) is float and type(x) is np.ndarray:   # a Python float is weak: x's float dtype (float32 stays)
        if axis is None and x.size <= 256:
            out = np.empty(x.shape, dtype=x.dtype if x.dtype.kind == "f" else None)   # a small array, quickly
            out.fill(g)                            # (a broadcast view costs more to make, a large one more to fill)
            return out
        if x.dtype.kind == "f":
            g = x.dtype.type(g)
    shape = np.shape(x)
    if not keepdims and axis is not None:
        g = np.expand_dims(g, _axes(axis, len(shape)))
    return np.broadcast_to(g, shape)


def reduced_size(x, axis=None):
    """How many elements of ``x`` each output of a reduction over ``axis`` combines; 1 where that is none (``x`` is
    then empty, and so is its adjoint, however it is scaled: ``np.mean`` of an empty array is nan, its gradient
    an empty array, not a division by zero)."""
    shape = np.shape(x)
    return math.prod(shape[a] for a in _axes(axis, len(shape))) or 1


def extremum_grad(g, ans, x, axis=None, keepdims=False, initial=None):
    """Adjoint of max/min: ``g`` split evenly between the elements that attain it (and ``initial``, when it does)."""
    hit = x == unreduce(ans, x, axis, keepdims)
    counts = np.sum(hit, axis=axis, keepdims=True).astype(_float_dtype(x))     # (float32 stays float32)
    if initial is not None:
        counts = counts + np.reshape(_initial_attains(ans, initial), np.shape(counts))
    return unreduce(g, x, axis, keepdims) * (hit / counts)


def _initial_attains(ans, initial):
    """Where max/min's ``initial`` is the result (compared rounded as the result was: a float64 initial over
    float32 items)."""
    ans = np.asarray(ans)
    return ans == np.asarray(initial).astype(ans.dtype)


def extremum_initial_grad(g, ans, x, axis=None, keepdims=False, initial=None):
    """The share of ``g`` (shaped like max/min's result) that ``initial`` gets where it attains the result (split
    evenly with the elements that attain it too); 0 without one."""
    ans = np.asarray(ans)
    if ans.dtype.kind not in "fc":                # NumPy cast initial to the integers: no derivative
        return 0.0 * g
    mine = _initial_attains(ans, initial)
    counts = (np.sum(x == unreduce(ans, x, axis, keepdims), axis=axis, keepdims=keepdims) + mine).astype(_float_dtype(x))
    return g * (mine / counts)


def prod_grad(g, ans, x, axis=None, keepdims=False):
    """Adjoint of prod, exact when elements are zero (products of all the others)."""
    x = np.asarray(x)
    if axis is None:
        flat = x.reshape(-1)
        return (np.asarray(g) * _others_product(flat, 0)).reshape(x.shape)
    if isinstance(axis, (tuple, list)):
        axes = _axes(axis, x.ndim)
        moved = np.moveaxis(x, axes, range(-len(axes), 0))
        merged = moved.reshape(moved.shape[:x.ndim - len(axes)] + (-1,))
        g = unreduce(g, x, axis, keepdims)
        g = np.moveaxis(g, axes, range(-len(axes), 0)).reshape(merged.shape)
        grad = (g * _others_product(merged, -1)).reshape(moved.shape)
        return np.moveaxis(grad, range(-len(axes), 0), axes)
    return unreduce(g, x, axis, keepdims) * _others_product(x, axis)


def prod_partials(x, axis=None, c1=None, c2=None, c3=None, c4=None, c5=None, c6=None, beyond=None):
    """``out[k] = sum of c1[i1] * c2[i2] * ... * (product of x[j] for j not in {k, i1, i2, ...})`` over distinct
    ``k, i1, i2, ...`` along the axes ``np.prod`` reduced (all of them for None): the derivative of ``np.prod``'s
    adjoint (``prod_grad``) along the directions ``c1, c2, ...`` (each broadcast to ``x``; None: no direction).
    No directions: the product of the others (``_others_product``). Exact when elements are zero (products
    only, never a quotient). Symmetric in the directions, linear in each, and its derivative in ``x`` along
    ``t`` is itself with ``t`` as one more direction, so its rules are itself at every order (up to six
    directions; ``beyond``: a seventh, refused)."""
    if beyond is not None:
        raise UnsupportedValueError("s2sad: derivatives of np.prod beyond the seventh order are not supported")
    cs = [c for c in (c1, c2, c3, c4, c5, c6) if c is not None]
    dtype = np.result_type(_float_dtype(x), *cs)                # (float32 stays float32)
    x = np.asarray(x, dtype=dtype)
    axes = _axes(axis, x.ndim)
    n = int(np.prod([x.shape[a] for a in axes]))
    if n == 0:
        return np.zeros(x.shape, dtype=dtype)

    def rows(a):                                      # (slices, n): the reduced axes last, merged
        moved = np.moveaxis(np.broadcast_to(np.asarray(a, dtype=dtype), x.shape), axes, range(-len(axes), 0))
        return moved.reshape(-1, n)
    m = len(cs)
    # each element as x[j] + sum_l eps_l c_l[j] with eps_l^2 = 0: coefficients by subset of directions
    e = np.zeros((rows(x).shape[0], n, 2 ** m), dtype=dtype)
    e[..., 0] = rows(x)
    for l, c in enumerate(cs):
        e[..., 1 << l] = rows(c)
    left = _scan_products(e)
    right = _scan_products(e[:, ::-1])[:, ::-1]
    out = _subset_product(left, right)[..., -1]      # the coefficient of eps_1 ... eps_m
    moved_shape = np.moveaxis(x, axes, range(-len(axes), 0)).shape
    return np.moveaxis(out.reshape(moved_shape), range(-len(axes), 0), axes)


def _subset_product(a, b):
    """The product of two elements of the algebra of ``eps_l`` with ``eps_l^2 = 0`` (last axis: the coefficient
    of each subset of the eps, as a bit mask): ``out[S] = sum over T in S of a[T] * b[S - T]``."""
    out = np.zeros(np.broadcast_shapes(a.shape, b.shape), dtype=np.result_type(a, b))
    for s in range(a.shape[-1]):
        t = s
        while True:
            out[..., s] += a[..., t] * b[..., s ^ t]
            if t == 0:
                break
            t = (t - 1) & s
    return out


def _scan_products(e):
    """Exclusive running products along axis 1 in that algebra: ``out[:, j] = e[:, 0] * ... * e[:, j - 1]``
    (log2 n doubling steps)."""
    n = e.shape[1]
    run, step = e, 1
    while step < n:
        run = np.concatenate([run[:, :step], _subset_product(run[:, :-step], run[:, step:])], axis=1)
        step *= 2
    one = np.zeros_like(e[:, :1])
    one[..., 0] = 1.0
    return np.concatenate([one, run[:, :-1]], axis=1)


def _others_product(x, axis):
    """out[i] = prod of x[j] for j != i along ``axis``, without dividing (none for an empty axis)."""
    shape = list(x.shape)
    shape[axis] = 1
    ones = np.ones(shape, dtype=x.dtype)
    left = np.cumprod(np.concatenate([ones, x], axis=axis), axis=axis)
    right = np.flip(np.cumprod(np.flip(np.concatenate([x, ones], axis=axis), axis), axis=axis), axis)
    n = x.shape[axis]
    return np.take(left, range(0, n), axis=axis) * np.take(right, range(1, n + 1), axis=axis)


def corrected(ddof, correction=None):
    """The degrees of freedom ``np.var``/``np.std`` subtract: ``correction=`` (NumPy 2's name) where given, else ``ddof``."""
    return ddof if correction is None else correction


def std_grad(g, ans, x, axis=None, ddof=0, keepdims=False):
    """Adjoint of ``np.std``: zero where the std is zero (a constant slice, or a single element)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_std = np.where(np.asarray(ans) == 0, 0.0, np.asarray(g) / ans)
    return unreduce(per_std, x, axis, keepdims) * (x - np.mean(x, axis, keepdims=True)) / (reduced_size(x, axis) - ddof)


def unsum(g, seq):
    """Adjoint of the builtin ``sum(seq)``: every element receives ``g``."""
    if isinstance(seq, np.ndarray):
        return np.broadcast_to(g, seq.shape)
    return AdjList(unbroadcast(g, e) for e in seq)


# --- + and * on values that may be sequences (concatenation and repetition) -----------------------
def concatenation(x, y):
    """``x + y`` where ``x`` or ``y`` may be a list or tuple (the primitive whose rules handle both)."""
    return x + y


def repetition(x, y):
    """``x * y`` where ``x`` or ``y`` may be a list or tuple."""
    return x * y


def _sequence(x):
    return isinstance(x, (list, tuple)) and not isinstance(x, np.ndarray)


def _repeats(x, y):
    """Whether ``x * y`` repeats a sequence (a list or tuple times an integer), not NumPy's product."""
    count = (int, np.integer)
    return _sequence(x) and isinstance(y, count) and not isinstance(y, bool) or \
        _sequence(y) and isinstance(x, count) and not isinstance(x, bool)


def _as_adjoint(items, like):
    from .tree import AdjList, AdjTuple
    return AdjTuple(items) if isinstance(like, tuple) else AdjList(items)


def concatenation_grad(g, x, y, side):
    """Adjoint of operand ``side`` (0: x, 1: y) of ``x + y``: its slice of a concatenation's adjoint, or
    the broadcast sum for numbers and arrays."""
    if _sequence(x) and _sequence(y):
        items = list(g)
        return _as_adjoint(items[:len(x)] if side == 0 else items[len(x):], x if side == 0 else y)
    return unbroadcast(g, x if side == 0 else y)


def concatenation_tangent(t, x, y, ans, side):
    """Tangent of ``x + y`` along operand ``side``: the tangent in its place among zeros for a
    concatenation (added element by element with the other operand's), broadcast for arrays."""
    if _sequence(x) and _sequence(y):
        if side == 0:
            return _as_adjoint(list(t) + [zeros_like(v) for v in y], ans)
        return _as_adjoint([zeros_like(v) for v in x] + list(t), ans)
    return broadcast(t, ans)


def concatenation_tangent_grad(h, t, x, y, side):
    """Adjoint of the tangent ``t`` in ``concatenation_tangent`` (linear in it)."""
    if _sequence(x) and _sequence(y):
        items = list(h)
        return _as_adjoint(items[:len(x)] if side == 0 else items[len(x):], x if side == 0 else y)
    return unbroadcast(h, t)


def repetition_tangent_grads(h, t, x, y, side):
    """Adjoints of ``t``, ``x`` and ``y`` in ``repetition_tangent`` (``t * y`` or ``x * t`` for numbers and
    arrays: bilinear; a repeated sequence's tangent: linear in ``t``)."""
    if _repeats(x, y):
        if (side == 0) != _sequence(x):
            return 0.0, 0.0, 0.0                    # the count's tangent: flat
        return repetition_grad(h, x, y, 0 if _sequence(x) else 1), zeros_like(x), zeros_like(y)
    if side == 0:
        return unbroadcast(h * y, t), zeros_like(x), unbroadcast(h * t, y)
    return unbroadcast(h * x, t), unbroadcast(h * t, x), zeros_like(y)


def repetition_grad(g, x, y, side):
    """Adjoint of operand ``side`` of ``x * y``: for a sequence repeated ``n`` times, the sum of its ``n``
    copies' adjoints (the count gets none); for numbers and arrays, the product rule."""
    if _repeats(x, y):
        seq = x if _sequence(x) else y
        if (side == 0) != _sequence(x):
            return 0.0                              # the count
        items, n = list(g), len(seq)
        total = [None] * n
        for k, item in enumerate(items):
            total[k % n] = add(total[k % n], item) if n else item
        return _as_adjoint(total, seq)
    return unbroadcast(g * y, x) if side == 0 else unbroadcast(g * x, y)


def repetition_tangent(t, x, y, ans, side):
    """Tangent of ``x * y`` along operand ``side``."""
    if _repeats(x, y):
        if (side == 0) != _sequence(x):
            return _as_adjoint([zeros_like(v) for v in ans], ans)
        count = y if _sequence(x) else x
        return _as_adjoint(list(t) * count, ans)
    return broadcast(t * y, ans) if side == 0 else broadcast(x * t, ans)


def repetition_cross(t, u, x, y, ans, side, which):
    """How ``repetition_tangent(t, x, y, ans, side)`` changes with operand ``which`` along ``u``: ``t * u`` for
    numbers and arrays when ``which`` is the other operand (``t * y`` is bilinear), else nothing."""
    if _repeats(x, y):
        return _as_adjoint([zeros_like(v) for v in ans], ans)
    if which == side:
        return zeros_like(ans)
    return broadcast(t * u, ans)


def repetition_cross_grad(h, u, t, x, y, ans, side, which):
    """Adjoint of ``t`` in ``repetition_cross(t, u, x, y, ans, side, which)`` (bilinear and symmetric in
    ``t`` and ``u``: the adjoint of ``u`` is this with ``t`` and ``u`` swapped): ``h * u`` summed to ``t``'s
    shape where the cross term is ``t * u``, else nothing."""
    if _repeats(x, y) or which == side:
        return zeros_like(t)
    return unbroadcast(h * u, t)


# --- constructors ----------------------------------------------------------------------------
def _no_step(retstep):
    if retstep:
        raise UnsupportedValueError("s2sad: the derivative of np.linspace(..., retstep=True) is not supported; "
                                  "compute the step as (stop - start) / (num - 1)")


def linspace_grads(g, start, stop, num=50, endpoint=True, retstep=False, axis=0):
    """Adjoints of ``start`` and ``stop`` in ``np.linspace``: each sample is ``(1 - t) start + t stop``."""
    _no_step(retstep)
    g = np.moveaxis(np.asarray(g, dtype=float), axis, 0)
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint).reshape((-1,) + (1,) * (g.ndim - 1))
    return unbroadcast(np.sum(g * (1.0 - t), axis=0), start), unbroadcast(np.sum(g * t, axis=0), stop)


def linspace_tangent(start_dot, stop_dot, num=50, endpoint=True, retstep=False, axis=0):
    """Tangent of ``np.linspace`` (linear in start and stop together)."""
    _no_step(retstep)
    return np.linspace(start_dot, stop_dot, num, endpoint=endpoint, axis=axis)


# B_2k / (2k)!, k = 1..10: the asymptotic series of the polygamma functions
_BERNOULLI_OVER_FACTORIAL = [1 / 12, -1 / 720, 1 / 30240, -1 / 1209600, 1 / 47900160, -691 / 1307674368000,
                             1 / 74724249600, -3617 / 10670622842880000, 43867 / 5109094217170944000,
                             -174611 / 802857662698291200000]
_POLYGAMMA_SHIFT = 20.0           # the series is summed from here: its first term left out is below 1e-16 relative


def polygamma(n, x):
    """The polygamma function psi^(n)(x) (n = 0: the digamma function, the derivative of log|Gamma|), with NumPy
    only: the recurrence psi^(n)(x) = psi^(n)(x + 1) - (-1)^n n! / x^(n+1) up to x >= 20, then the asymptotic series
    (about 1e-15 relative for small n; tests/test_helper_rules.py checks it against scipy.special). At x < 0 by
    reflection, for n <= 3 (higher orders there are refused); nan at the poles 0, -1, -2, .... A Python number in
    gives a Python float out. Its derivative is polygamma(n + 1, x) (rules/helpers.py)."""
    n = int(n)
    scalar = isinstance(x, (float, int)) and not isinstance(x, bool)
    dtype = _float_dtype(x)
    x = np.asarray(x, dtype=np.float64)
    negative = x < 0
    if n > 3 and np.any(negative):
        raise UnsupportedValueError(f"s2sad: polygamma({n}, x) at x < 0 (a derivative of order {n + 1} of lgamma or "
                                    f"gamma there) is not supported")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _polygamma_positive(n, np.where(negative, 1.0 - x, x))
        if np.any(negative):                    # reflection: psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi d^n/dx^n cot(pi x)
            cot, csc2 = 1.0 / np.tan(np.pi * x), 1.0 / np.sin(np.pi * x) ** 2
            derivative = [cot, -np.pi * csc2, 2 * np.pi ** 2 * csc2 * cot,
                          -2 * np.pi ** 3 * (2 * csc2 * cot ** 2 + csc2 ** 2)][n]
            out = np.where(negative, (-1.0) ** n * out - np.pi * derivative, out)
        out = np.where(x == np.round(x) * (x <= 0), np.nan, out)          # the poles
    return float(out) if scalar else out.astype(dtype, copy=False)[()]


def _polygamma_positive(n, x):
    """psi^(n)(x) for x > 0 (float64 arrays)."""
    sign = -1.0 if n % 2 == 0 else 1.0                    # (-1)^(n + 1)
    factorial = math.factorial(n)
    total = np.zeros_like(x)
    y = x.copy()
    while np.any(y < _POLYGAMMA_SHIFT):                   # psi^(n)(y) = psi^(n)(y + 1) + (-1)^(n+1) n! / y^(n+1)
        low = y < _POLYGAMMA_SHIFT
        total = total + np.where(low, sign * factorial / np.where(low, y, 1.0) ** (n + 1), 0.0)
        y = np.where(low, y + 1.0, y)
    inv = 1.0 / y
    if n == 0:                                            # log y - 1/(2y) - sum B_2k / (2k y^2k)
        series = np.log(y) - 0.5 * inv
        for k, c in enumerate(_BERNOULLI_OVER_FACTORIAL, start=1):
            series = series - c * math.factorial(2 * k - 1) * inv ** (2 * k)
    else:                                                 # (-1)^(n+1) [(n-1)!/y^n + n!/(2y^(n+1)) + sum B_2k (2k+n-1)!/((2k)! y^(2k+n))]
        series = math.factorial(n - 1) * inv ** n + 0.5 * factorial * inv ** (n + 1)
        for k, c in enumerate(_BERNOULLI_OVER_FACTORIAL, start=1):
            series = series + c * math.factorial(2 * k + n - 1) * inv ** (2 * k + n)
        series = sign * series
    return series + total


def vector_rows(x, axis=None):
    """``x`` with the axes a reduction over ``axis`` reduces (all for None) moved last and merged into one
    (np.linalg.vector_norm's, np.median's, np.quantile's rows)."""
    x = np.asarray(x)
    axes = _axes(axis, x.ndim)
    moved = np.moveaxis(x, axes, range(x.ndim - len(axes), x.ndim))
    return moved.reshape(moved.shape[:x.ndim - len(axes)] + (-1,))


def vector_unrows(h, x, axis=None):
    """Adjoint of ``vector_rows``: ``h`` back in ``x``'s layout."""
    x = np.asarray(x)
    axes = _axes(axis, x.ndim)
    moved_shape = np.moveaxis(np.empty(x.shape, dtype=bool), axes, range(x.ndim - len(axes), x.ndim)).shape
    return np.moveaxis(np.reshape(h, moved_shape), range(x.ndim - len(axes), x.ndim), axes)


def scalar_base(base, what="np.logspace"):
    """``base``, refusing an array of bases (their placing along the axis is not differentiated yet)."""
    if np.ndim(base) != 0:
        raise UnsupportedValueError(f"s2sad: {what} with an array of bases is not differentiated yet; pass one base")
    return base


def vander_powers(x, N=None, increasing=False):
    """The powers of ``np.vander(x, N, increasing)``'s columns."""
    powers = np.arange(len(x) if N is None else N, dtype=_float_dtype(x))     # (float32 stays float32)
    return powers if increasing else powers[::-1]


def _arange_parts(ans, start, stop, step):
    """``np.arange``'s samples are ``start + k step``: (k, whether start and step are the arguments given)."""
    k = np.arange(np.size(ans), dtype=float)
    return k, stop is not None, step is not None


def arange_grads(g, ans, start, stop=None, step=None):
    """Adjoints of ``np.arange``'s arguments; the stop only decides how many samples there are (flat)."""
    if np.result_type(ans).kind not in "fc":
        return 0.0, None, None
    k, has_start, has_step = _arange_parts(ans, start, stop, step)
    g = np.asarray(g, dtype=float)
    start_bar = float(np.sum(g)) if has_start else 0.0        # arange(n): n is the stop
    step_bar = float(np.sum(g * k)) if has_step else None
    return start_bar, (0.0 if has_start else None), step_bar


def arange_tangent_grad(h, g, ans, which, stop=None):
    """Adjoint of ``g`` in ``arange_tangent`` (linear in it)."""
    if np.result_type(ans).kind not in "fc" or which == "stop" or which == "start" and stop is None:
        return 0.0 * g
    if which == "start":
        return unbroadcast(np.sum(h), g)
    return unbroadcast(np.sum(h * np.arange(np.size(ans), dtype=float)), g)


def arange_tangent(g, ans, which, stop=None):
    """Tangent of ``np.arange`` along one argument (``which``: "start", "stop" or "step"; ``g`` its tangent)."""
    if np.result_type(ans).kind not in "fc" or which == "stop" or which == "start" and stop is None:
        return np.zeros(np.shape(ans))                    # arange(n): n is the stop, which only counts
    if which == "start":
        return np.zeros(np.shape(ans)) + g
    return g * np.arange(np.size(ans), dtype=float)


# --- indexing ---------------------------------------------------------------------------
def _basic(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


def unindex(g, x, idx):
    """Adjoint of ``x[idx]``: ``g`` scattered into zeros shaped like ``x`` (repeats add up)."""
    t = type(x)
    if (t is list or t is tuple) and type(idx) is int and type(g) is float and -len(x) <= idx < len(x):
        items = [0.0 if type(v) is float else None if isinstance(v, (list, tuple, dict)) else zeros_like(v)
                 for v in x]                       # (_unindex_container's result, quickly: a number's adjoint)
        items[idx] = g
        return AdjList(items) if t is list else AdjTuple(items)
    if isinstance(x, (list, tuple, dict)):         # a container: its adjoint is one (see tree.py)
        return _unindex_container(g, x, idx)
    out = np.zeros(np.shape(x), dtype=np.result_type(_float_dtype(x), np.asarray(g).dtype))
    if _basic(idx) or (isinstance(idx, np.ndarray) and idx.dtype == bool):
        out[idx] = g
    else:
        np.add.at(out, idx, g)
    return out


def sequence(items):
    """What a ``for`` loop walks, as something indexable: a list, tuple, array or range itself, else
    (a dict, a generator, a map object, ...) a list of the items iterating over it gives."""
    if isinstance(items, (list, tuple, np.ndarray, range)):
        return items
    if _endless(items):
        raise UnsupportedValueError("s2sad: a loop walks an endless iterator (itertools.count, cycle or repeat), "
                                    "whose items s2sad would take first: use enumerate(x, start) or range(...) and "
                                    "index")
    return list(items)


def _endless(items):
    """Whether ``items`` is an iterator that never ends: ``itertools.count``, ``cycle``, ``repeat`` without times
    (told by their type's name: the standalone module's helpers import no itertools)."""
    kind = type(items)
    if kind.__module__ != "itertools" or kind.__name__ not in ("count", "cycle", "repeat"):
        return False
    if kind.__name__ == "repeat":
        try:
            items.__length_hint__()
        except TypeError:                      # (an endless repeat has no length)
            return True
        return False
    return True


def module_argument(value, module, name):
    """Check that the module passed for the parameter ``name`` is its default, ``module``, which the derivative code
    was written for (``def f(x, xp=np)`` read as NumPy: front/modules.py)."""
    if value is not module:
        raise UnsupportedValueError(f"s2sad: `{name}` is differentiated as {module.__name__}, its default, and "
                                    f"{getattr(value, '__name__', type(value).__name__)} is passed here: the derivative "
                                    f"code calls {module.__name__}'s functions")


def none_argument(value, message):
    """Check that an argument a function changes in place is None, its default, for which it makes a new object
    (front/defaults.py; ``message`` names the user's file, line and argument): the caller's object could not be
    changed so."""
    if value is not None:
        raise UnsupportedValueError(f"{message}, which cannot be differentiated: leave it to its default, None, "
                                    f"or pass a copy made inside the function")


def added_at(y, idx, v, sign=1.0):
    """A copy of ``y`` after ``np.add.at(y, idx, v)`` (``sign`` -1: ``np.subtract.at``): the front end writes it
    back, ``y[...] = added_at(y, idx, v)``, so that the change in place is one s2sad follows (repeated indices
    add up, as ``np.add.at``'s)."""
    out = np.array(y, copy=True)
    (np.add if sign > 0 else np.subtract).at(out, idx, v)
    return out


def diagonal_filled(a, val, wrap=False):
    """A copy of ``a`` after ``np.fill_diagonal(a, val, wrap)`` (written back by the front end, as added_at's)."""
    out = np.array(a, copy=True)
    np.fill_diagonal(out, val, wrap)
    return out


def diagonal_values(g, val, wrap=False):
    """What ``np.fill_diagonal(a, val, wrap)`` wrote from each item of ``val``, read back from ``g`` and added up
    where ``val`` was repeated along the diagonal (the adjoint of ``val``), shaped like ``val``."""
    g = np.asarray(g)
    taken = np.zeros(g.shape, dtype=bool)
    np.fill_diagonal(taken, True, wrap)
    picked = g[taken]                             # (in the order fill_diagonal writes: increasing flat position)
    size = np.size(val)
    out = np.zeros(size, dtype=picked.dtype)
    np.add.at(out, np.arange(picked.size) % size, picked)
    if isinstance(val, (np.ndarray, list, tuple)):
        return out.reshape(np.shape(val))
    return out[0] if isinstance(val, np.generic) else float(out[0])    # a number's adjoint: a number


def zip_length(*lengths):
    """The one length of the sequences ``zip(..., strict=True)`` walks; Python's ValueError if they differ (raised
    before the loop runs, where Python raises after the shorter sequence's items)."""
    for k, n in enumerate(lengths[1:], 2):
        if n != lengths[0]:
            raise ValueError(f"zip() argument {k} is {'shorter' if n < lengths[0] else 'longer'} than argument 1")
    return lengths[0]


def sequence_tangent(t, items):
    """The tangent of ``sequence(items)``: ``t``; for a dict, whose keys the loop walks, a zero per key (None for
    a string): keys are constants, which a loop may use as numbers (``t + d[k] * k``), and a key read with the
    value beside it (``{k: d[k] for k in d}``) may be taken for a differentiated value."""
    return [zeros_like(k) for k in items] if isinstance(items, dict) else t


# --- cumulative sums and sorting ---------------------------------------------------------------------
def rollaxis_inverse(ndim, axis, start=0):
    """The axes order that undoes ``np.rollaxis(a, axis, start)`` for an ``a`` of ``ndim`` dimensions (rolled on
    a shape whose lengths name the axes)."""
    perm = [n - 1 for n in np.rollaxis(np.empty(tuple(range(1, ndim + 1))), axis, start).shape]
    return tuple(int(i) for i in np.argsort(perm))


def uncumsum(g, a, axis=None):
    """Adjoint of ``np.cumsum(a, axis)``: each item receives the sum of ``g`` from its position on."""
    g = np.asarray(g)
    if axis is None or np.ndim(a) == 0:                # (a number's cumsum along an axis is an array of one)
        return np.flip(np.cumsum(np.flip(g.reshape(-1)))).reshape(np.shape(a))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def recumsum(h, a, axis=None):
    """Adjoint of ``uncumsum`` (linear): a cumulative sum again, as ``np.cumsum(a, axis)`` is shaped."""
    h = np.asarray(h)
    return np.cumsum(h.reshape(-1)) if axis is None or h.ndim == 0 else np.cumsum(h, axis)


def _sort_order(a, axis):
    a = np.asarray(a)
    return np.argsort(a.reshape(-1) if axis is None else a, axis=-1 if axis is None else axis, kind="stable")


def unsort(g, a, axis=-1):
    """Adjoint of ``np.sort(a, axis)``: ``g`` sent back to the positions the sorted items came from."""
    a, g = np.asarray(a), np.asarray(g)
    order = _sort_order(a, axis)
    if axis is None:
        out = np.zeros(a.size, dtype=_float_dtype(g))
        out[order] = g
        return out.reshape(a.shape)
    out = np.zeros(a.shape, dtype=_float_dtype(g))
    np.put_along_axis(out, order, g, axis)
    return out


def sorted_like(t, a, axis=-1):
    """Tangent of ``np.sort(a, axis)``: ``t`` taken in the order the sort puts ``a`` in."""
    t = np.broadcast_to(np.asarray(t), np.shape(a))
    order = _sort_order(a, axis)
    return t.reshape(-1)[order] if axis is None else np.take_along_axis(t, order, axis)


# --- gathers: functions that only move, copy or zero items (flip, take, pad, tile, ...) -----------------
def source_index(fn, a, *args):
    """Where each item of ``fn(a, *args)`` comes from in ``a.ravel()`` (-1: a zero ``fn`` put there), for ``fn``
    that only moves, copies or zeroes items: ``fn`` applied to the positions 1..n (0 being what it fills in)."""
    positions = np.arange(1, np.size(a) + 1).reshape(np.shape(a))
    return np.asarray(fn(positions, *args)) - 1


def sources_of(fn, arrays, *args):
    """``source_index`` for ``fn`` of a sequence of arrays (``np.column_stack``): positions run on from one
    array to the next."""
    sizes = [np.size(a) for a in arrays]
    starts = np.cumsum([1] + sizes[:-1])
    positions = [np.arange(s, s + n).reshape(np.shape(a)) for s, n, a in zip(starts, sizes, arrays)]
    return np.asarray(fn(positions, *args)) - 1


def ungather(g, a, source):
    """Adjoint of a gather ``y = a.ravel()[source]`` (0 where ``source`` is -1): each item of ``a`` receives the
    sum of ``g`` over the places it went to."""
    g = np.broadcast_to(np.asarray(g), np.shape(source))
    if np.iscomplexobj(g):                         # (np.bincount's weights are real)
        return ungather(g.real, a, source) + 1j * ungather(g.imag, a, source)
    flat = np.bincount(np.ravel(source) + 1, weights=np.ravel(g), minlength=np.size(a) + 1)[1:]
    return flat.astype(_float_dtype(g), copy=False).reshape(np.shape(a))


def regather(h, source):
    """The gather itself on ``h`` (shaped like its source): ``h.ravel()[source]``, 0 where ``source`` is -1."""
    h = np.asarray(h)
    return np.concatenate([h.reshape(-1), np.zeros(1, dtype=_float_dtype(h))])[source]


def _gradient_layout(f, varargs, axis, edge_order):
    """(axes, spacings) of ``np.gradient(f, *varargs, axis=axis, edge_order=edge_order)`` with uniform spacings."""
    if edge_order != 1:
        raise UnsupportedValueError("s2sad: np.gradient's derivative is supported for edge_order=1 only")
    ndim = np.ndim(f)
    axes = tuple(range(ndim)) if axis is None else tuple(int(a) % ndim for a in np.atleast_1d(axis))
    if not varargs:
        return axes, (1.0,) * len(axes)
    if all(np.ndim(v) == 0 for v in varargs) and len(varargs) in (1, len(axes)):
        return axes, tuple(varargs) * (len(axes) if len(varargs) == 1 else 1)
    raise UnsupportedValueError("s2sad: np.gradient with coordinate arrays as spacings has no derivative; pass one "
                              "uniform spacing per axis")


def gradient_grad(g, f, varargs, axis=None, edge_order=1):
    """Adjoint of ``np.gradient(f, *varargs, axis=axis)`` (uniform spacings, edge_order 1) with respect to ``f``: the
    transpose of its differences, (f[i+1] - f[i-1]) / 2h inside and one-sided (f[1] - f[0]) / h at the ends."""
    axes, spacings = _gradient_layout(f, varargs, axis, edge_order)
    total = np.zeros(np.shape(f), dtype=_float_dtype(f))
    for gi, ax, h in zip((g,) if len(axes) == 1 else g, axes, spacings):
        if gi is None:
            continue
        gm = np.moveaxis(np.asarray(gi), ax, 0) / h
        out = np.zeros(gm.shape, dtype=total.dtype)
        out[2:] += 0.5 * gm[1:-1]
        out[:-2] -= 0.5 * gm[1:-1]
        out[1] += gm[0]
        out[0] -= gm[0]
        out[-1] += gm[-1]
        out[-2] -= gm[-1]
        total = total + np.moveaxis(out, 0, ax)
    return total


def gradient_spacing_grads(g, ans, f, varargs, axis=None, edge_order=1):
    """Adjoints of ``np.gradient``'s spacings (one per item of ``varargs``): each axis's result is proportional to
    1 / h, so h's adjoint is -sum(g * result) / h, summed over the axes that h spaces."""
    axes, spacings = _gradient_layout(f, varargs, axis, edge_order)
    gs, outs = ((g,), (ans,)) if len(axes) == 1 else (g, ans)
    terms = [0.0 if gi is None else -np.sum(gi * oi) / h for gi, oi, h in zip(gs, outs, spacings)]
    return (sum(terms),) if len(varargs) == 1 else tuple(terms)


def gradient_spacing_tangent(t, ans, f, varargs, axis=None, edge_order=1):
    """The tangent of ``np.gradient``'s result along its spacings' tangents ``t`` (one per item of ``varargs``):
    -result * dh / h for each axis."""
    axes, spacings = _gradient_layout(f, varargs, axis, edge_order)
    ts = tuple(t) * len(axes) if len(t) == 1 else tuple(t)
    outs = (ans,) if len(axes) == 1 else ans
    parts = [zeros_like(o) if ti is None else -o * ti / h for o, ti, h in zip(outs, ts, spacings)]
    return parts[0] if len(axes) == 1 else tuple(parts)


def partition_source(a, ans, axis=-1):
    """``source_index`` of ``ans = np.partition(a, kth, axis)``: each item comes from the item of ``a`` of the same
    rank along ``axis`` (of equal values any one, as for np.sort)."""
    positions = np.arange(np.size(a)).reshape(np.shape(a))
    if axis is None:
        a, positions, axis = np.ravel(a), np.ravel(positions), 0
    order = np.argsort(a, axis=axis, kind="stable")
    rank = np.argsort(np.argsort(ans, axis=axis, kind="stable"), axis=axis, kind="stable")
    return np.take_along_axis(np.take_along_axis(positions, order, axis), rank, axis)


def _inserted(positions, obj, axis):
    return np.insert(positions[0], obj, positions[1], axis)


def insert_source(arr, obj, values, axis=None):
    """``sources_of`` for ``np.insert(arr, obj, values, axis)``: where each item comes from in ``arr`` then
    ``values`` (values broadcast as NumPy inserts them)."""
    return sources_of(_inserted, (arr, values), obj, axis)


def extract_source(condition, arr):
    """``source_index`` for ``np.extract(condition, arr)``."""
    positions = np.arange(1, np.size(arr) + 1).reshape(np.shape(arr))
    return np.extract(condition, positions) - 1


def select_masks(condlist, choicelist, default=0):
    """Where ``np.select(condlist, choicelist, default)`` takes each choice, and where it takes the default: a
    boolean array per choice, then one for the default, each shaped like the result."""
    shape = np.broadcast_shapes(*(np.shape(c) for c in list(condlist) + list(choicelist)), np.shape(default))
    taken = np.zeros(shape, dtype=bool)
    masks = []
    for cond in condlist:
        mask = np.broadcast_to(np.asarray(cond, dtype=bool), shape) & ~taken
        masks.append(mask)
        taken = taken | mask
    return masks + [~taken]


def select_grads(g, condlist, choicelist, default=0):
    """Adjoints of ``np.select``'s choices (a list) and default."""
    masks = select_masks(condlist, choicelist, default)
    choices = AdjList(unbroadcast(np.where(m, g, 0.0), c) for m, c in zip(masks, choicelist))
    return choices, unbroadcast(np.where(masks[-1], g, 0.0), default)


def select_default(condlist, choicelist, default=0):
    """Where ``np.select`` takes the default (a boolean array shaped like the result)."""
    return select_masks(condlist, choicelist, default)[-1]


def choose_index(a, n, mode="raise"):
    """The choice ``np.choose(a, choices, mode=mode)`` takes at each place (of ``n`` choices)."""
    a = np.asarray(a)
    return a % n if mode == "wrap" else np.clip(a, 0, n - 1) if mode == "clip" else a


def choose_grads(g, a, choices, mode="raise"):
    """Adjoints of ``np.choose``'s choices: ``g`` where each was chosen, summed down to its shape."""
    index = choose_index(a, len(choices), mode)
    grads = [unbroadcast(np.where(index == j, g, 0.0), c) for j, c in enumerate(choices)]
    if isinstance(choices, np.ndarray):
        return np.asarray(grads, dtype=_float_dtype(g)).reshape(choices.shape)
    return AdjList(grads)


def ungather_each(g, arrays, source):
    """``ungather`` for a gather from several arrays (``sources_of``): one adjoint per array."""
    flat = ungather(g, np.empty(sum(np.size(a) for a in arrays)), source)
    ends = np.cumsum([np.size(a) for a in arrays])
    return [piece.reshape(np.shape(a)) for piece, a in zip(np.split(flat, ends[:-1]), arrays)]


def regather_each(hs, source):
    """``regather`` from several arrays (the adjoint of ``ungather_each``)."""
    return regather(np.concatenate([np.ravel(h) for h in hs]), source)


def pad_source(array, pad_width, mode="constant", reflect_type="even"):
    """``source_index`` of ``np.pad(array, pad_width, mode)`` for the modes that copy items or fill in constants
    (a constant has no derivative with respect to the array)."""
    if callable(mode) or mode not in ("constant", "edge", "wrap", "reflect", "symmetric", "empty"):
        raise UnsupportedValueError(f"np.pad(..., mode={mode!r}): s2sad differentiates the modes constant, edge, wrap, "
                                  "reflect and symmetric")
    if mode in ("reflect", "symmetric"):
        if reflect_type != "even":
            raise UnsupportedValueError(f"np.pad(..., mode={mode!r}, reflect_type={reflect_type!r}) is not supported")
        return source_index(np.pad, array, pad_width, mode)
    return source_index(np.pad, array, pad_width, "constant" if mode == "empty" else mode)


def undiff(g, a, n=1, axis=-1, prepend=None, append=None, part=1):
    """Adjoint of ``np.diff(a, n, axis, prepend=, append=)``: ``y[i] = x[i+1] - x[i]`` sends ``g[i]`` to ``x[i+1]``
    and ``-g[i]`` to ``x[i]``, ``n`` times, ``x`` being ``a`` with the ends joined; the part of it that is ``a``'s
    (``part`` 1), or the end ``prepend``'s (0) or ``append``'s (2), a number's summed (None for an end not given)."""
    if n == 0:                                        # (NumPy returns `a` itself, the ends left out)
        return np.reshape(g, np.shape(a)) if part == 1 else None
    pieces = _diff_pieces(a, axis, prepend, append)
    if pieces[part] is None:
        return None
    present = [x for x in pieces if x is not None]
    axis = axis % np.ndim(a)
    shape = list(np.shape(a))
    shape[axis] = sum(np.shape(x)[axis] for x in present)
    g = np.asarray(g)
    if n >= shape[axis]:                              # an empty result (NumPy's for n past the length): nothing
        joined = np.zeros(shape, dtype=np.result_type(g, float))
    else:
        joined = g
        for _ in range(n):
            width = [(0, 0)] * joined.ndim
            width[axis] = (1, 0)
            before = np.pad(joined, width)
            width[axis] = (0, 1)
            joined = before - np.pad(joined, width)
        joined = joined.reshape(shape)
    if len(present) == 1:
        return joined
    start = sum(np.shape(x)[axis] for x in pieces[:part] if x is not None)
    index = [slice(None)] * len(shape)
    index[axis] = slice(start, start + np.shape(pieces[part])[axis])
    mine = joined[tuple(index)]
    return mine if part == 1 else unbroadcast(mine, (prepend, None, append)[part])


def diff_tangent(t, n=1, axis=-1, prepend=None, append=None, a=None, part=1):
    """Tangent of ``np.diff(a, n, axis, prepend=, append=)`` along the tangent ``t`` of one of its pieces (``part``:
    0 prepend, 1 ``a``, 2 append; None for an end not given): the differences of the joined array holding ``t``
    there, zeros elsewhere."""
    if prepend is None and append is None or n == 0:       # (n = 0: NumPy returns `a`, the ends left out)
        return np.diff(t, n, axis) if part == 1 else None
    pieces = _diff_pieces(t if a is None else a, axis, prepend, append)
    if pieces[part] is None:
        return None
    t = np.asarray(t)                                 # (a list's tangent: its items')
    joined = [np.broadcast_to(t, np.shape(x)) if k == part else np.zeros(np.shape(x), dtype=np.result_type(t, float))
              for k, x in enumerate(pieces) if x is not None]
    return np.diff(np.concatenate(joined, axis), n, axis)


def weights_like(a, b, return_sign=False):
    """Zeros of the shape ``a`` and the weights ``b`` of ``logsumexp(a, b=b)`` broadcast to (what the rules read of
    it: its shape); ``return_sign=True`` refused (the sign carries no derivative, the value's log|.| does)."""
    if return_sign:
        raise UnsupportedValueError("s2sad: logsumexp(..., return_sign=True) is not differentiated: with weights of "
                                    "both signs, write the log-sum-exp with np.log(np.abs(...)) yourself")
    return np.zeros(np.broadcast_shapes(np.shape(a), np.shape(1.0 if b is None else b)))


def masked_exp(d, b=None):
    """``exp(d)``, zero where the weights ``b`` are zero (``logsumexp(a, b=b)``'s weights of ``a``: a zero weight
    masks an item however large, where ``0 * exp(d)`` would be NaN)."""
    if b is None:
        return np.exp(d)
    return np.exp(np.where(np.asarray(b) == 0, -np.inf, d))


def one_if_none(b):
    """``b``, or 1.0 where no weights are given (``logsumexp(a)``'s rules multiply by it)."""
    return 1.0 if b is None else b


def _diff_pieces(a, axis, prepend, append):
    """``(prepend, a, append)`` as ``np.diff`` joins them along ``axis`` (a number expanded to one item along it
    and ``a``'s shape elsewhere; None for an end not given)."""
    axis = axis % np.ndim(a)

    def end(v):
        if v is None:
            return None
        if np.ndim(v) == 0:
            shape = list(np.shape(a))
            shape[axis] = 1
            return np.broadcast_to(v, shape)
        return np.asarray(v)
    return end(prepend), a, end(append)


def nonzero_checked(a, what):
    """``a``, refusing a zero in it: ``what`` divides by it (its derivative is that of ``a``)."""
    if np.any(np.asarray(a) == 0):
        raise UnsupportedValueError(f"{what} at an argument with a zero item is not differentiated yet")
    return a


def median_weights(a, axis=None):
    """Where ``np.median`` takes its value from: 1 at the middle item of each sorted row (0.5 at each of two),
    in the order of ``a`` (ties as ``np.sort`` breaks them)."""
    rows = vector_rows(a, axis)
    n = rows.shape[-1]
    w = np.zeros(n, dtype=_float_dtype(a))
    w[(n - 1) // 2] += 0.5
    w[n // 2] += 0.5
    return vector_unrows(unsort(np.broadcast_to(w, rows.shape), rows, -1), a, axis)


def median_grad(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.median(a, axis, keepdims=keepdims)``."""
    return unreduce(g, a, axis, keepdims) * median_weights(a, axis)


def median_tangent(t, a, axis=None, keepdims=False):
    """Tangent of ``np.median``."""
    return np.sum(t * median_weights(a, axis), axis, keepdims=keepdims)


_QUANTILE_PARTS = ("value", "slope", "zero")


def _quantile_layout(a, q, axis, keepdims, part, method, weights, interpolation, nan=False):
    """How ``np.quantile(a, q, axis, keepdims=keepdims)`` (method "linear") reads ``a``: ``(order, m, lead, out)``:
    ``order`` sorts each row of ``a``'s reduced items (moved last, merged: rows of ``n``), ``m`` (rows, Q, n) the
    coefficients of the sorted items in each of the Q quantiles (``part`` "value": 1 - f and f at the items
    floor(h) and floor(h) + 1, h = (n - 1) q; "slope": the derivative in q, -(n - 1) and n - 1 there; "zero": none),
    ``lead`` the shape of the kept axes, ``out`` the result's shape. ``nan``: NaN items are skipped
    (np.nanmedian: n counts the others, row by row)."""
    if method != "linear" or weights is not None or interpolation not in (None, "linear"):
        raise UnsupportedValueError("s2sad: np.quantile and np.percentile are differentiated for method='linear' (the "
                                    "default) without weights only")
    if part not in _QUANTILE_PARTS:
        raise ValueError(f"s2sad: quantile part {part!r}")
    a, q = np.asarray(a), np.asarray(q, dtype=float)
    axes = _axes(axis, a.ndim)
    rows = vector_rows(a, axis)
    lead = rows.shape[:-1]
    rows = rows.reshape((-1, rows.shape[-1]))
    order = np.argsort(rows, axis=-1, kind="stable")           # (NaN last)
    n = rows.shape[-1] - (np.sum(np.isnan(rows), axis=-1) if nan else 0) * np.ones(len(rows), dtype=int)
    h = q.reshape(1, -1) * (n.reshape(-1, 1) - 1)                  # (rows, Q)
    lo = np.clip(np.floor(h), 0, np.maximum(n.reshape(-1, 1) - 1, 0)).astype(int)
    hi = np.minimum(lo + 1, np.maximum(n.reshape(-1, 1) - 1, 0))
    f = h - lo
    if part == "value":
        c_lo, c_hi = 1.0 - f, f
    else:
        c_hi = (n.reshape(-1, 1) - 1.0) * np.ones_like(f) * (part == "slope")
        c_lo = -c_hi
    positions = np.arange(rows.shape[-1])
    m = (c_lo[..., None] * (positions == lo[..., None]) + c_hi[..., None] * (positions == hi[..., None]))
    kept = np.sum(np.empty(a.shape, dtype=bool), axis=axes, keepdims=keepdims).shape if a.ndim else ()
    return order, m, lead, q.shape + kept


def quantile_apply(v, a, q, axis=None, keepdims=False, part="value", method="linear", weights=None, interpolation=None,
                   nan=False):
    """``np.quantile(a, q, axis, keepdims=keepdims)``'s linear combination of ``a``'s items, applied to ``v``
    (shaped like ``a``) instead: ``v`` itself gives the quantiles (``part`` "value"), or their derivatives in q
    ("slope"), or zeros ("zero"); each with the weights ``a``'s order gives (runtime._quantile_layout). Linear in
    ``v``, piecewise constant in ``a``; in q, "value" has the derivative "slope", which is piecewise constant."""
    order, m, lead, out = _quantile_layout(a, q, axis, keepdims, part, method, weights, interpolation, nan)
    a = np.asarray(a)
    dtype = np.result_type(_float_dtype(v), _float_dtype(a) if a.dtype.kind == "f" else np.float16)
    v = np.broadcast_to(np.asarray(v, dtype=dtype), a.shape)
    rows = vector_rows(np.where(np.isnan(a), 0.0, v) if nan else v, axis).reshape(order.shape)
    picked = np.take_along_axis(rows, order, -1)                                      # sorted by a: (rows, n)
    values = np.einsum("rn,rqn->rq", picked, m.astype(dtype, copy=False))           # (rows, Q)
    return np.moveaxis(values.reshape(lead + (-1,)), -1, 0).reshape(out)


def quantile_spread(h, a, q, axis=None, keepdims=False, part="value", method="linear", weights=None, interpolation=None,
                    nan=False):
    """Adjoint of ``quantile_apply`` in ``v``: ``h`` (shaped like the quantiles) sent back to the items they read."""
    order, m, lead, out = _quantile_layout(a, q, axis, keepdims, part, method, weights, interpolation, nan)
    a = np.asarray(a)
    dtype = np.result_type(_float_dtype(h), _float_dtype(a) if a.dtype.kind == "f" else np.float16)
    per_row = np.moveaxis(np.broadcast_to(np.asarray(h, dtype=dtype), out).reshape(np.shape(q) + lead).reshape(
        (-1,) + lead), 0, -1).reshape(len(order), -1)                                  # (rows, Q)
    spread = np.zeros(order.shape, dtype=dtype)
    np.put_along_axis(spread, order, np.einsum("rq,rqn->rn", per_row, m.astype(dtype, copy=False)), -1)
    return vector_unrows(spread, a, axis)


def quantile_q_grad(h, v, a, q, axis=None, keepdims=False, part="value", method="linear", weights=None, interpolation=None,
                    nan=False):
    """Adjoint of ``quantile_apply`` in ``q`` (shaped like ``q``): ``h`` times the slope, summed over the kept axes."""
    slope = quantile_apply(v, a, q, axis, keepdims, "slope" if part == "value" else "zero", method, weights,
                           interpolation, nan)
    total = np.sum(np.asarray(h) * slope, axis=tuple(range(np.ndim(q), np.ndim(slope))))
    return total.astype(_float_dtype(q), copy=False) if isinstance(q, np.ndarray) else total


def quantile_q_tangent(t, q, ans):
    """A tangent of ``q`` (shaped like it) set against the quantiles (shaped q.shape + the kept axes)."""
    return np.reshape(t, np.shape(t) + (1,) * (np.ndim(ans) - np.ndim(q)))


# --- np.cov and np.corrcoef: bilinear in the centered observations -----------------------------------------------
def cov_rows(m, y=None, rowvar=True):
    """``np.cov``'s observations, centered: a row per variable (``m``'s, then ``y``'s), as NumPy arranges them.
    Written with primitives that have rules: differentiated from its source (rules/numpy.py)."""
    x = np.atleast_2d(m)
    if cov_turns(m, rowvar, True):
        x = np.transpose(x)
    if y is not None:
        more = np.atleast_2d(y)
        if cov_turns(y, rowvar, False):
            more = np.transpose(more)
        x = np.concatenate([x, more], 0)
    return x - np.mean(x, 1, keepdims=True)


def _cov_turns_one_row():
    """Whether ``np.cov(m, rowvar=False)`` takes a 2-d ``m`` of one row as one observation of many variables (NumPy
    2.4 turns every 2-d ``m``; earlier versions kept a single row as one variable)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.ndim(np.cov(np.array([[0.0, 1.0]]), rowvar=False)) == 2


_COV_TURNS_ONE_ROW = _cov_turns_one_row()


def cov_turns(v, rowvar, first):
    """Whether ``np.cov`` (np.corrcoef) transposes ``v``, its ``m`` (``first``) or its ``y``, to a row per variable."""
    if rowvar:
        return False
    if first and _COV_TURNS_ONE_ROW:
        return np.ndim(v) != 1
    return np.shape(np.atleast_2d(v))[0] != 1


def cov_divisor(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, what="np.cov"):
    """What ``np.cov`` divides the sums of products by: the number of observations less ``ddof`` (1 unless ``bias``);
    weights are refused."""
    if fweights is not None or aweights is not None:
        raise UnsupportedValueError(f"s2sad: {what} with fweights or aweights is not differentiated yet")
    n = np.shape(np.atleast_2d(m))[0 if cov_turns(m, rowvar, True) else 1]
    return n - (ddof if ddof is not None else 0 if bias else 1)


def cov_tangent(t, m, y=None, rowvar=True, side=0, divisor=1.0):
    """Tangent of ``np.cov(m, y, rowvar)`` (as a matrix) along ``t``, the tangent of ``m`` (``side`` 0) or of
    ``y`` (1). Differentiated from its source."""
    x = cov_rows(m, y, rowvar)
    if side == 0:
        d = cov_rows(t, None if y is None else 0.0 * np.asarray(y), rowvar)
    else:
        d = cov_rows(0.0 * np.asarray(m), t, rowvar)
    s = d @ np.transpose(x)
    return (s + np.transpose(s)) / divisor


def corrcoef_tangent(t, m, y=None, rowvar=True, side=0):
    """Tangent of ``np.corrcoef(m, y, rowvar)`` (as a matrix) along ``t``, the tangent of ``m`` (``side`` 0) or
    of ``y`` (1): r = c / (s s^T), c the products of the centered rows, s the square roots of its diagonal.
    Differentiated from its source."""
    x = cov_rows(m, y, rowvar)
    c = x @ np.transpose(x)
    s = np.sqrt(np.diagonal(c))
    if side == 0:
        d = cov_rows(t, None if y is None else 0.0 * np.asarray(y), rowvar)
    else:
        d = cov_rows(0.0 * np.asarray(m), t, rowvar)
    dc = d @ np.transpose(x)
    dc = dc + np.transpose(dc)
    q = np.diagonal(dc) / np.diagonal(c)
    return dc / (s[:, None] * s) - c / (s[:, None] * s) * (q[:, None] + q) / 2.0


def _cov_unrows(gx, m, y, rowvar):
    """Adjoint of ``cov_rows``: ``(m_bar, y_bar)``."""
    gx = gx - np.mean(gx, 1, keepdims=True)
    grads = []
    for v, first in ((m, True), (y, False)):
        if v is None:
            grads.append(None)
            continue
        rows = np.atleast_2d(np.asarray(v))
        turned = cov_turns(v, rowvar, first)
        k = rows.shape[1] if turned else rows.shape[0]
        part, gx = gx[:k], gx[k:]
        grads.append(unarray(np.reshape(part.T if turned else part, np.shape(v)), v))
    return grads[0], grads[1]


def cov_grads(g, m, y=None, rowvar=True, divisor=1.0):
    """Adjoints of ``m`` and ``y`` in ``np.cov(m, y, rowvar)`` (``g`` the result's)."""
    x = cov_rows(m, y, rowvar)
    g = np.reshape(g, (len(x), len(x)))
    return _cov_unrows((g + g.T) @ x / divisor, m, y, rowvar)


def corrcoef_grads(g, m, y=None, rowvar=True):
    """Adjoints of ``m`` and ``y`` in ``np.corrcoef(m, y, rowvar)`` (``g`` the result's)."""
    x = cov_rows(m, y, rowvar)
    c = x @ x.T
    s = np.sqrt(np.diagonal(c))
    g = np.reshape(g, c.shape)
    w = g * c / np.outer(s, s)
    gc = g / np.outer(s, s) - np.diag((np.sum(w, 1) + np.sum(w, 0)) / (2.0 * np.diagonal(c)))
    return _cov_unrows((gc + gc.T) @ x, m, y, rowvar)


def average_weights(a, weights, axis=None, returned=False):
    """``np.average``'s weights as an array shaped like ``a`` (ones when there are none; 1-d weights lie
    along ``axis``)."""
    if returned:
        raise UnsupportedValueError("np.average(..., returned=True) is not differentiated yet")
    if weights is None:
        return np.ones(np.shape(a), dtype=_float_dtype(a))
    weights = np.asarray(weights)
    if weights.shape != np.shape(a) and axis is not None:       # weights along the axes (NumPy's own placing)
        axes = _average_axes(a, axis)
        weights = weights.transpose(np.argsort(axes)).reshape(
            tuple(n if d in axes else 1 for d, n in enumerate(np.shape(a))))
    return np.broadcast_to(weights, np.shape(a))


def _average_axes(a, axis):
    return tuple(d % np.ndim(a) for d in (axis if isinstance(axis, (tuple, list)) else (axis,)))


def unweight(c, weights, axis=None):
    """Adjoint of ``average_weights`` with respect to the weights: ``c`` (shaped like ``a``) summed down to
    the weights' shape; None without weights."""
    if weights is None:
        return None
    c = np.asarray(c)
    if axis is not None and np.shape(weights) != c.shape:        # weights along the axes: the others summed
        axes = _average_axes(c, axis)
        summed = np.sum(c, tuple(d for d in range(c.ndim) if d not in axes))   # (its axes in increasing order)
        return np.transpose(summed, np.argsort(np.argsort(axes))).reshape(np.shape(weights))
    return unbroadcast(c, weights)


def kron_layout(a, b):
    """How ``np.kron(a, b)``'s items pair ``a``'s with ``b``'s: the shape that splits each axis of the result
    into (a's, b's), ``b``'s shape with ``a``'s number of axes, and the einsum subscripts of the two adjoints."""
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + np.shape(a)
    sb = (1,) * (nd - np.ndim(b)) + np.shape(b)
    upper, lower = "ABCDEFGHIJKLM"[:nd], "abcdefghijklm"[:nd]
    pairs = "".join(u + l for u, l in zip(upper, lower))
    return tuple(s for ab in zip(sa, sb) for s in ab), sa, sb, f"{pairs},{lower}->{upper}", f"{pairs},{upper}->{lower}"


def checked_cross(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """``g``, once ``np.cross``'s arguments are known to be 3-vectors along the last axis (the case its rule covers)."""
    if (axisa, axisb, axisc, axis) != (-1, -1, -1, None) or np.shape(a)[-1:] != (3,) or np.shape(b)[-1:] != (3,):
        raise UnsupportedValueError("np.cross is differentiated for 3-vectors along the last axis (default axes) only")
    return g


def full_pads(a, v, mode="full", correlate=False):
    """The zeros around ``np.convolve(a, v, mode)`` (or ``np.correlate``) within the full result: the pad
    widths that make a cotangent of the result one of the full result."""
    n, m = np.size(a), np.size(v)
    k = min(n, m)
    if mode == "full":
        return ((0, 0),)
    if mode == "valid":
        start, length = k - 1, max(n, m) - k + 1
    elif mode == "same":
        start, length = (k // 2 if correlate and n < m else (k - 1) // 2), max(n, m)
    else:
        raise UnsupportedValueError(f"mode={mode!r}")
    return ((start, n + m - 1 - start - length),)


def unsplit(g, ary, indices_or_sections, axis=0):
    """Adjoint of ``np.split``/``np.array_split``: the pieces' cotangents put back together (zeros for a piece
    not used)."""
    pieces = np.array_split(np.zeros(np.shape(ary), dtype=_float_dtype(ary)), indices_or_sections, axis)
    return np.concatenate([p if c is None else np.broadcast_to(c, p.shape) for c, p in zip(g, pieces)], axis)


def item(x, *args):
    """``x.item(*args)``: a Python number from an array (or a NumPy scalar)."""
    return np.asarray(x).item(*args)


def picked(g, chosen):
    """``g`` where ``chosen`` (a truth value), else zero (None for a container's or a record's adjoint): the adjoint
    or tangent of the operand builtin ``max``/``min`` returns (numbers, tuples, records alike)."""
    if isinstance(g, (float, int, np.ndarray, np.generic)):
        return g * chosen
    return g if chosen else None


def view_of(x):
    """``x.view()``: a new array object sharing ``x``'s memory (its items, read and written)."""
    return x.view()


def to_list(x):
    """``x.tolist()``: the array's items as (nested) lists of Python numbers; a number for a 0-d array."""
    return np.asarray(x).tolist()


def tolist_grad(g, x):
    """Adjoint of ``x.tolist()`` given the (nested) list adjoint ``g`` (None items: nothing flowed), shaped like
    ``x``."""
    out = np.zeros(np.shape(x), dtype=_float_dtype(x))

    def fill(part, index):
        if part is None:
            return
        if isinstance(part, (list, tuple)):
            for k, item in enumerate(part):
                fill(item, index + (k,))
            return
        out[index] += part
    fill(g, ())
    return out


def unitem(g, x, *args):
    """Adjoint of ``x.item(*args)``: ``g`` at the item taken, zeros elsewhere."""
    out = np.zeros(np.shape(x), dtype=_float_dtype(x))
    if not args:
        out.reshape(-1)[0] = g
    elif len(args) == 1:
        out.reshape(-1)[args[0] if not isinstance(args[0], tuple) else np.ravel_multi_index(args[0], out.shape)] = g
    else:
        out[args] = g
    return out


def added(a, b):
    """``a + b`` for tangents that may be lists or tuples (added item by item, None as zero)."""
    return add(a, b)


def unzip(rows):
    """``list(zip(*rows))``: the rows' items regrouped, one tuple per position."""
    return list(zip(*rows))


def unzip_grad(g, rows):
    """Adjoint of ``unzip(rows)``: ``g`` regrouped back, one adjoint per row (None where nothing flowed)."""
    if g is None:
        return None
    out = []
    for i, row in enumerate(rows):      # zip stops at the shortest row: a longer row's other items get nothing
        got = [column[i] if column is not None else None for column in g]
        if all(v is None for v in got):
            out.append(None)
            continue
        items = [zeros_like(row[j]) if j >= len(got) or got[j] is None else adjoint_of(got[j]) for j in range(len(row))]
        out.append(np.array(items, dtype=_float_dtype(row)).reshape(np.shape(row)) if isinstance(row, np.ndarray)
                   else AdjTuple(items))
    return AdjList(out)


def keys_of(mapping):
    """A dict's keys as a list (what ``for k in d`` walks); keys carry no derivative. ``for v in obj.values()`` of
    an object that is no mapping (its own ``values`` method) is refused (``list(obj)`` might never end)."""
    if not isinstance(mapping, (dict, collections.abc.Mapping)):
        from .errors import UnsupportedValueError
        raise UnsupportedValueError(f"s2sad: a loop over `.keys()`, `.values()` or `.items()` of a "
                                    f"{type(mapping).__name__}, which s2sad reads as a dict's; it is no mapping")
    return list(mapping)


def sequence_grad(g, items):
    """The adjoint of ``sequence(items)`` as an adjoint of ``items``: the items' own for a list, tuple or
    array; zeros for a dict (its keys are walked, and keys carry no derivative); an object walked through its
    own ``__iter__`` is refused."""
    from .tree import is_record
    if is_record(items) and not isinstance(items, dict):
        raise _walked_object(items)
    return zeros_like(items) if isinstance(items, dict) else g


def pairs_of(x):
    """What ``dict(x)`` reads: a mapping's ``(key, value)`` pairs, else ``x``'s items (pairs) as ``sequence`` gives
    them."""
    return list(x.items()) if isinstance(x, dict) else sequence(x)


def pairs_grad(g, x):
    """The adjoint of ``pairs_of(x)`` (``g``, one adjoint per pair, None where nothing flowed) as an adjoint of
    ``x``: by key for a mapping (its keys carry no derivative), ``g`` itself for a sequence of pairs."""
    if not isinstance(x, dict):
        return g
    if g is None:
        return None
    return AdjDict({k: (None if gi is None else adjoint_of(gi[1])) for k, gi in zip(x, g)})


def pairs_tangent(t, x):
    """The tangent of ``pairs_of(x)`` from ``x``'s: a mapping's ``(None, t[k])`` per key, else ``t``."""
    if not isinstance(x, dict):
        return t
    return [(None, None if t is None else t[k]) for k in x]


def first_best(items, largest, key=None):
    """The index of the item ``max(items, key=key)`` (``largest``) or ``min`` returns: the first best one."""
    best, best_key = None, None
    for i, v in enumerate(items):
        k = v if key is None else key(v)
        if best is None or (k > best_key if largest else k < best_key):
            best, best_key = i, k
    if best is None:
        raise ValueError(f"{'max' if largest else 'min'}() arg is an empty sequence")
    return best


def sort_order(items, key=None, reverse=False):
    """The positions of ``items`` in the order ``sorted(items, key=key, reverse=reverse)`` gives (stable)."""
    if key is None:
        return sorted(range(len(items)), key=items.__getitem__, reverse=reverse)
    return sorted(range(len(items)), key=lambda i: key(items[i]), reverse=reverse)


def make_dict(keys, values):
    """``dict(zip(keys, values))``: what ``dict(pairs)`` and ``{k: v for ...}`` compute (later keys win)."""
    return dict(zip(keys, values))


def check_keywords(d, names, callee):
    """Before ``callee(**d)`` written out as ``callee(k=d.get(k, default), ...)`` for each of its parameters
    ``names`` (front/spreads.py): Python's TypeError for a key ``callee`` takes no parameter of."""
    if not isinstance(d, dict):
        raise TypeError(f"{callee}() argument after ** must be a dict here, not {type(d).__name__}")
    for key in d:
        if key not in names:
            raise TypeError(f"{callee}() got an unexpected keyword argument {key!r}")


def dict_get(d, key, default=None):
    """``d.get(key, default)``: the primitive of the method (another object's own ``get`` is called as it is;
    its derivative helpers below refuse it)."""
    return d.get(key, default)


def _dict_only(d):
    if not isinstance(d, dict):
        raise UnsupportedSyntaxError(f"`.get(...)` of a {type(d).__name__} is differentiated only for a dict")


def dict_get_grad(g, d, key):
    """Adjoint of ``dict_get``'s dict: ``g`` at ``key`` when the dict has it (else nothing flows)."""
    _dict_only(d)
    return unindex(g, d, key) if key in d else AdjDict({k: None for k in d})


def dict_default_grad(g, d, key):
    """Adjoint (or tangent) of ``dict_get``'s default: ``g`` when the key is missing, else zero."""
    _dict_only(d)
    return zeros_like(g) if key in d else g


def dict_get_tangent(t, d, key, ans):
    """Tangent of ``dict_get`` from the dict's tangent ``t``: ``t[key]`` when the dict has the key, else zero."""
    _dict_only(d)
    v = t.get(key) if key in d and t is not None else None
    return zeros_like(ans) if v is None else v


def dict_values_grad(g, keys):
    """Adjoint of ``make_dict``'s values: ``g[k]`` for the last value given for each key, None for the
    earlier ones (overwritten) and where nothing flowed."""
    last = {k: i for i, k in enumerate(keys)}
    return AdjList((adjoint_of(g.get(k)) if g is not None and last[k] == i else None) for i, k in enumerate(keys))


def retyped(g, items):
    """The adjoint of ``tuple(items)`` or ``list(items)`` (``g``, the new sequence's adjoint) as an adjoint of
    ``items``."""
    if g is None or isinstance(items, dict):           # a dict's keys carry no derivative
        return None
    if isinstance(items, np.ndarray):
        return np.array([zeros_like(x) if v is None else v for v, x in zip(g, items)], dtype=float).reshape(items.shape)
    if isinstance(items, list):
        return AdjList(adjoint_of(v) for v in g)
    return AdjTuple(adjoint_of(v) for v in g)


def redo(rewrites):
    """Write again, last first, what a pullback's ``put_item`` calls replaced: every array, list and dict is
    left as the forward sweep left it."""
    while rewrites:
        x, idx, value = rewrites.pop()
        put_item(x, idx, value)


def copied(items):
    """A list's copy for a pullback to shorten (None stays None: a list the forward sweep never made)."""
    return list(items) if isinstance(items, list) else items


def unpack_grad(x, *items):
    """Adjoint of ``a, b, c = x`` given the adjoints of ``a``, ``b``, ``c`` (None where none): an array
    for an array ``x``, a container adjoint otherwise."""
    if isinstance(x, np.ndarray):
        out = np.zeros(x.shape, dtype=_float_dtype(x))
        for k, g in enumerate(items):
            if g is not None:
                out[k] = g
        return out
    from .tree import is_record, pack
    if is_record(x):
        raise _walked_object(x)
    return pack(*items)


def _walked_object(x):
    from .errors import UnsupportedValueError
    return UnsupportedValueError(f"s2sad: a {type(x).__name__} is unpacked or walked through its own __iter__, which "
                                 "s2sad does not see into; read its fields by name (`a, b = p.a, p.b`)")


def index_add(buf, idx, g):
    """``buf[idx] += g``, in place where ``buf`` allows it (an array or list adjoint s2sad owns; repeated
    indices add up); returns the buffer (a tuple's adjoint becomes a list)."""
    if isinstance(buf, tuple):
        buf = AdjList(buf)
    if isinstance(buf, (list, dict)):
        buf[idx] = add(buf[idx], g)
    elif _basic(idx) or (isinstance(idx, np.ndarray) and idx.dtype == bool):
        buf[idx] += g
    else:
        np.add.at(buf, idx, g)
    return buf


# --- writes into arrays, lists and dicts (x[idx] = v) --------------------------------------------------
_ABSENT = object()        # what a write into a dict found at a key it added


def item_of(x, idx):
    """What ``x[idx] = v`` is about to overwrite, kept for the backward sweep to put back (a copy: basic
    indexing of an array gives a view, which the write would change)."""
    if isinstance(x, dict) and idx not in x:
        return _ABSENT
    v = x[idx]
    return v.copy() if isinstance(v, np.ndarray) else v


def put_item(x, idx, old, rewrites=None):
    """Put back what a write overwrote (``item_of``): ``x[idx] = old``, or remove a key the write added.
    With ``rewrites`` (a pullback's), first note what is replaced, for ``redo``."""
    if rewrites is not None:
        rewrites.append((x, idx, item_of(x, idx)))
    if old is _ABSENT:
        del x[idx]
    else:
        x[idx] = old


def _check_unique(x, idx):
    if _basic(idx) or isinstance(idx, np.ndarray) and idx.dtype == bool:
        return
    hits = np.zeros(np.shape(x), dtype=np.intp)
    np.add.at(hits, idx, 1)
    if hits.max(initial=0) > 1:
        from .errors import UnsupportedValueError
        raise UnsupportedValueError("s2sad: a write `x[idx] = v` (or `x[idx] op= v`) whose integer-array index "
                                    "repeats a position keeps only the last value there, which s2sad cannot "
                                    "differentiate (write each position once)")


def written_grad(g, idx, v, x):
    """The adjoint of ``v`` in ``x[idx] = v``: the part of ``x``'s adjoint ``g`` it was written to, summed to
    ``v``'s shape; zero where ``x`` holds integers (the value was truncated) or nothing flowed."""
    if g is None:
        return zeros_like(v)
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "fc":
            return zeros_like(v)
        _check_unique(x, idx)
        g = np.asarray(g)                            # (a 0-d array's adjoint may be a number: `y[()] = v`)
        return unbroadcast(np.array(g[idx], dtype=g.dtype), v)
    part = g[idx] if not isinstance(g, dict) else g.get(idx)
    return zeros_like(v) if part is None else adjoint_of(part)


def cleared(g, idx):
    """``g`` (an adjoint the backward sweep owns) with what ``x[idx] = v`` overwrote set to zero, in place."""
    if g is None:
        return g
    if isinstance(g, (float, int, np.generic)):      # (a 0-d array's adjoint as a number: `y[()] = v` overwrote it)
        return zeros_like(g)
    if isinstance(g, np.ndarray):
        g[idx] = 0
    elif isinstance(g, dict) or isinstance(g, list) and isinstance(idx, (int, np.integer)):
        old = g[idx]                     # a number's or an array's adjoint: a zero of it (as unindex gives; a
        g[idx] = None if old is None or isinstance(old, (list, tuple, dict)) else zeros_like(old)   # rule reads it)
    else:
        g[idx] = [None] * len(range(len(g))[idx])
    return g


def written_tangent(v_dot, x):
    """The tangent written by ``x[idx] = v``: ``v``'s, or zero when ``x`` holds integers (the value was
    truncated)."""
    if isinstance(x, np.ndarray) and x.dtype.kind not in "fc":
        return zeros_like(v_dot)
    return v_dot


def owned_tangent(t, x=None):
    """A private copy of ``x``'s tangent, for ``x_dot[idx] = v_dot`` to write into. ``x`` an array of integers
    or booleans has none (what is written into it is truncated: ``written_tangent`` writes zeros), as in reverse
    mode."""
    if isinstance(x, np.ndarray) and x.dtype.kind not in "fc":
        return np.zeros(x.shape)
    if isinstance(t, np.ndarray):
        return np.array(t, dtype=np.result_type(t.dtype, np.float64) if t.dtype.kind not in "fc" else t.dtype)
    if isinstance(t, list):
        return list(t)
    if isinstance(t, dict):
        return dict(t)
    return t


def owned(buf):
    """A private, writable copy of an adjoint, for ``index_add`` to update in place (a tuple's adjoint
    becomes a list: the gradient is turned back into a tuple at the end)."""
    if isinstance(buf, np.ndarray):
        return np.array(buf, dtype=np.result_type(buf.dtype, np.float64) if buf.dtype.kind not in "fc" else buf.dtype)
    if isinstance(buf, (list, tuple, dict)):
        from .tree import adjoint_of
        copy = adjoint_of(buf)
        if isinstance(copy, tuple):
            return AdjList(copy)
        return type(copy)(copy)                       # a new AdjList/AdjDict (list.copy() would be a plain list)
    return buf


class ReadOnly:
    """Values ``opaque_call`` makes read-only while the call runs without checking what containers among them hold
    afterwards: the constants a derivative read before the call (analysis/effects.pass_read_only), whose arrays
    the backward sweep reads again; rebinding a field or appending to a list there changes no value it reads."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values


def opaque_call(fn, varied, *args, **kwargs):
    """``fn(*args, **kwargs)`` for code s2sad does not see into, run for its effects (analysis/effects
    .pass_read_only): while it runs, the arrays it receives (also inside lists, tuples, dicts and records) and
    those of ``varied`` (the values being differentiated it receives, a method's object among them) are
    read-only, so that a change in place raises; afterwards the flags are as they were, and a list, dict or
    record among ``varied`` must hold the same objects as before (else refused; analysis/effects.pass_read_only
    puts there too the objects and containers it receives that the function reads again, when it receives a
    value being differentiated: `self.total = self.total + x * x`, `setattr(o, "v", x)`, `log.append(x)` would
    keep a derivative the code cannot follow)."""
    held, kept, ignored = [], [], []
    if not all(isinstance(v, ReadOnly) for v in varied):     # (given no value being differentiated: only the
        for v in args + tuple(kwargs.values()):              # constants a derivative read are read-only)
            _freeze(v, held, ignored, 0)
    for v in varied:
        if isinstance(v, ReadOnly):                # (constants a derivative read: their arrays only)
            for u in v.values:
                _freeze(u, held, ignored, 0)
        else:
            _freeze(v, held, kept, 0)
    copies = [a.copy() for a, _ in held]            # (np.add.at and the other ufuncs' `.at` write into a
    try:                                           # read-only array regardless: compared afterwards)
        result = fn(*args, **kwargs)
    finally:                                       # (the arrays that own their memory first: a view's flag can
        for a, _ in sorted(held, key=lambda h: _base_depth(h[0])):           # be set only once its base's is)
            a.flags.writeable = True
    for (a, _), before in zip(held, copies):
        if not _same_items(a, before):
            raise UnsupportedValueError(f"s2sad: `{_called_name(fn)}`, code s2sad does not see into, changed an "
                                        f"array it was given in place (its items or its shape: np.add.at and the "
                                        f"other ufuncs' `.at` write even into arrays marked read-only), which s2sad "
                                        f"cannot follow; return a new array instead (np.add.at is followed where "
                                        f"the differentiated function calls it by its name)")
    for holder, before in kept:
        if _contents(holder) != before:
            raise UnsupportedSyntaxError(f"`{_called_name(fn)}` was given a value being differentiated "
                                         f"and changed what a {type(holder).__name__} it received holds (it may keep "
                                         "the value, or one computed from it): s2sad cannot follow a change in place "
                                         "made by code it does not see into; return the new value instead")
    return result


def _same_items(a, before):
    """Whether array ``a`` still holds the items of its copy ``before`` (NaN equal to NaN, where the dtype has it)."""
    try:
        return np.array_equal(a, before, equal_nan=a.dtype.kind in "fc")
    except TypeError:                              # (object arrays: items compared by ==)
        return np.array_equal(a, before)


def _called_name(fn):
    """How a message names a function called (an object called: its class's ``__call__``)."""
    return getattr(fn, "__qualname__", None) or f"{type(fn).__qualname__}.__call__"


def _base_depth(a):
    depth = 0
    while isinstance(a.base, np.ndarray):
        a, depth = a.base, depth + 1
    return depth


def _contents(x):
    if isinstance(x, dict):
        return [(k, id(v)) for k, v in x.items()]
    if isinstance(x, list):
        return [id(v) for v in x]
    return [(k, id(v)) for k, v in vars(x).items()] if hasattr(x, "__dict__") else \
        [(k, id(getattr(x, k, None))) for k in getattr(type(x), "__slots__", ())]


def _freeze(x, held, kept, depth):
    if isinstance(x, np.ndarray):
        if x.flags.writeable:
            held.append((x, True))
            x.flags.writeable = False
        return
    if depth > 4 or x is None or isinstance(x, (str, bytes, int, float, complex, np.generic, type)) or callable(x) \
            and not is_record(x):
        return
    if isinstance(x, (list, dict)) or is_record(x):
        kept.append((x, _contents(x)))
    items = x.values() if isinstance(x, dict) else x if isinstance(x, (list, tuple)) else \
        fields_of(x).values() if is_record(x) else ()
    for v in items:
        _freeze(v, held, kept, depth + 1)


def number_zeros(x):
    """The zero adjoint of a list or tuple of numbers, for generated code to update item by item: an AdjList."""
    return AdjList([0.0] * len(x))


def owned_numbers(buf):
    """``owned`` for the adjoint of a list or tuple of numbers that generated code updates item by item
    (``x_bar[2] += g``): a new AdjList with 0.0 where no adjoint flowed (None)."""
    return AdjList(0.0 if v is None else v for v in buf)


def _unindex_container(g, x, idx):
    """``tree.container_unindex``, with real zeros (not None) for the array and number items that
    were not picked: generated code may read an item of this adjoint directly (``t_bar[0]``)."""
    from .tree import container_unindex
    adj = container_unindex(g, x, idx)
    keys = list(adj) if isinstance(adj, dict) else range(len(adj))
    zeros = {k: zeros_like(x[k]) for k in keys
             if adj[k] is None and not isinstance(x[k], (list, tuple, dict))}
    if isinstance(adj, dict):
        return type(adj)({k: zeros.get(k, v) for k, v in adj.items()})
    return type(adj)(zeros.get(k, v) for k, v in enumerate(adj))


# --- parameter vectors (s2sad.flatten) -------------------------------------------------------------------
class LeafSpec:
    """One leaf of a ``TreeSpec``: its shape, and whether it was a number (given back as one)."""
    __slots__ = ("shape", "number")

    def __init__(self, shape, number):
        self.shape, self.number = tuple(shape), number


class TreeSpec:
    """How ``s2sad.flatten`` laid a container of arrays and numbers out in one vector: the container with each
    leaf replaced by its ``LeafSpec``, and the leaves' sizes."""
    __slots__ = ("skeleton", "sizes", "size")

    def __init__(self, skeleton, sizes):
        self.skeleton, self.sizes, self.size = skeleton, tuple(sizes), int(sum(sizes))

    def __repr__(self):
        return f"TreeSpec({self.size} values in {len(self.sizes)} leaves)"


def unflatten_vector(vector, spec):
    """The container ``spec`` describes, its leaves read from ``vector`` in order (views of it)."""
    from .tree import unflatten
    vector = np.asarray(vector)
    if vector.shape != (spec.size,):
        raise ValueError(f"unflatten needs a vector of {spec.size} values, got shape {vector.shape}")
    ends = np.cumsum(spec.sizes)
    leaves, start = [], 0
    for leaf, end in zip(_leaf_specs(spec.skeleton), ends):
        piece = vector[start:end]
        leaves.append(piece[0] if leaf.number else piece.reshape(leaf.shape))
        start = end
    return unflatten(leaves, spec.skeleton)


def flatten_values(tree, spec):
    """The leaves of ``tree`` (shaped as ``spec`` says; None: zeros) one after another in a vector, in the
    order of ``spec`` (an adjoint's dict may hold its keys in another order)."""
    from .tree import flatten, like_tree
    leaves = flatten(like_tree(tree, spec.skeleton, lambda g, leaf: g))
    parts = [np.zeros(n) if leaf is None else np.ravel(leaf) for leaf, n in zip(leaves, spec.sizes)]
    if not parts:
        return np.zeros(0)
    dtype = np.result_type(*[_float_dtype(p) for p in parts])       # (every leaf's precision kept: float64 if any)
    return np.concatenate(parts).astype(dtype, copy=False)


def _leaf_specs(skeleton):
    from .tree import flatten
    return flatten(skeleton)


# --- checkpoints: the same random draws when a call runs again -----------------------------------
def _generators_in(values, depth=0):
    """The random generators among ``values``, and inside the lists, tuples, dicts and objects they hold (a few
    levels: `cfg["rng"]`, `gens[0]`, `self.rng`)."""
    found = []
    for v in values:
        if isinstance(v, (np.random.Generator, np.random.RandomState, random.Random)):
            found.append(v)
        elif depth < 3 and isinstance(v, (list, tuple, dict)):
            found += _generators_in(v.values() if isinstance(v, dict) else v, depth + 1)
        elif depth < 3 and is_record(v):
            found += _generators_in(list(vars(v).values()) if hasattr(v, "__dict__") else [], depth + 1)
    return found


def _reachable_generators(fn, depth=3, seen=None):
    """Random generators ``fn`` (and the Python functions it names, a few calls deep) reads from its
    globals and closure: what a second run of it could draw from besides the global ones."""
    seen = set() if seen is None else seen
    fn = getattr(fn, "__wrapped__", fn)
    while getattr(fn, "__wrapped__", None) is not None:
        fn = fn.__wrapped__
    code = getattr(fn, "__code__", None)
    if code is None or id(code) in seen:
        return []
    seen.add(id(code))
    names, codes = set(), [code]
    while codes:
        c = codes.pop()
        names.update(c.co_names)
        codes.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    values = [fn.__globals__[n] for n in sorted(names) if n in fn.__globals__]
    values += [cell.cell_contents for cell in (fn.__closure__ or ()) if _filled(cell)]
    found = _generators_in(values)
    if depth:
        for v in values:
            if callable(v) and getattr(v, "__code__", None) is not None:
                found += _reachable_generators(v, depth - 1, seen)
    return found


def _filled(cell):
    try:
        cell.cell_contents
        return True
    except ValueError:
        return False


def _get(g):
    if isinstance(g, np.random.Generator):
        return g.bit_generator.state
    return g.get_state() if isinstance(g, np.random.RandomState) else g.getstate()


def _set(g, state):
    if isinstance(g, np.random.Generator):
        g.bit_generator.state = state
    elif isinstance(g, np.random.RandomState):
        g.set_state(state)
    else:
        g.setstate(state)


_draws = {}


def _may_draw(fn, depth=4, seen=None):
    """Whether ``fn`` (or a Python function it names, a few calls deep) may draw random numbers from a
    generator it reaches through its globals or closure (NumPy's global one included). Cached."""
    fn = getattr(fn, "__wrapped__", None) or fn
    code = getattr(fn, "__code__", None)
    if code is None:
        return True                                   # not Python code: assume it may
    if code in _draws:
        return _draws[code]
    seen = set() if seen is None else seen
    if id(code) in seen:
        return False
    seen.add(id(code))
    names, codes = set(), [code]
    while codes:
        c = codes.pop()
        names.update(c.co_names)
        codes.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    values = [fn.__globals__[n] for n in names if n in getattr(fn, "__globals__", {})]
    values += [cell.cell_contents for cell in (getattr(fn, "__closure__", None) or ()) if _filled(cell)]
    draws = "random" in names or bool(_generators_in(values)) or any(
        (getattr(v, "__module__", None) or "").startswith(("numpy.random", "random")) for v in values)
    if not draws and depth:
        draws = any(_may_draw(v, depth - 1, seen) for v in values
                    if callable(v) and getattr(v, "__code__", None) is not None)
    _draws[code] = draws
    return draws


def rng_state(fn, *args, **kwargs):
    """The states of every random generator a call ``fn(*args, **kwargs)`` may draw from: NumPy's global
    one, Python's ``random``, and ``Generator``/``RandomState``/``random.Random`` objects among the
    arguments or reachable from ``fn``'s globals and closure. None when it cannot draw at all."""
    passed = _generators_in(list(args) + list(kwargs.values()))
    if not passed and not _may_draw(fn):
        return None
    generators = []
    for g in passed + _reachable_generators(fn):
        if not any(g is h for h in generators):
            generators.append(g)
    return np.random.get_state(), random.getstate(), [(g, _get(g)) for g in generators]


def checkpoint_rerun(fn, states, *args, **kwargs):
    """``fn(*args, **kwargs)`` run again with every generator rewound to ``states`` (from ``rng_state``),
    then left as it was: a checkpointed call sees the draws it saw the first time."""
    if states is None:
        return fn(*args, **kwargs)
    global_state, python_state, generators = states
    saved = (np.random.get_state(), random.getstate(), [(g, _get(g)) for g, _ in generators])
    np.random.set_state(global_state)
    random.setstate(python_state)
    for g, state in generators:
        _set(g, state)
    try:
        return fn(*args, **kwargs)
    finally:
        np.random.set_state(saved[0])
        random.setstate(saved[1])
        for g, state in saved[2]:
            _set(g, state)


# --- starting and finishing a sweep -------------------------------------------------------
def _float_dtype(x):
    if isinstance(x, (list, tuple)) and x:         # (items' common type, nested lists too: complex items keep
        dtypes = [_float_dtype(v) for v in x]      # complex)
        return np.result_type(*dtypes)
    if isinstance(x, (list, tuple, dict)) or x is None:
        return np.dtype(float)
    dtype = np.result_type(x)
    return dtype if dtype.kind in "fc" else np.dtype(float)


class ShapeOf:
    """What the backward sweep keeps of an array it reads only for its shape (and dtype)."""

    __slots__ = ("shape", "dtype", "ndim")

    def __init__(self, shape, dtype):
        self.shape, self.dtype, self.ndim = shape, dtype, len(shape)

    def __array__(self, dtype=None, copy=None):      # np.result_type and friends
        return np.zeros(self.shape, dtype=dtype or self.dtype)


def shape_of(x):
    """``x`` itself for a number (or None), else a ShapeOf: recorded instead of an array read only for its shape."""
    if isinstance(x, np.ndarray):
        return ShapeOf(x.shape, x.dtype)
    return x


def zeros_like(x):
    """The zero adjoint of ``x``: 0.0 for a number, a float array of zeros for an array."""
    if isinstance(x, (float, int)):
        return 0.0
    if isinstance(x, ShapeOf):
        return np.zeros(x.shape, dtype=x.dtype if x.dtype.kind in "fc" else np.dtype(float))
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=_float_dtype(x))
    if isinstance(x, np.generic):
        return _float_dtype(x).type(0)
    if isinstance(x, dict):
        return AdjDict({k: zeros_like(v) for k, v in x.items()})
    if isinstance(x, list):
        return AdjList(zeros_like(e) for e in x)
    if isinstance(x, tuple):                       # namedtuples too: their adjoint is a plain AdjTuple
        return AdjTuple(zeros_like(e) for e in x)
    if x is None or isinstance(x, (str, bytes, range, slice)) or callable(x) and not is_record(x):
        return None                                # carries no derivative (a dict key, a function, ...)
    if is_record(x):                               # a dataclass or an object holding arrays: by field
        return AdjFields({k: zeros_like(v) for k, v in fields_of(x).items()})
    return np.zeros(np.shape(x), dtype=_float_dtype(x))


def unshared(value, refusal, names=(), *others):
    """Before ``y op= e`` that the transform computes as ``y = y op e``: the same when ``y`` holds an immutable
    value (a number: ``op=`` makes a new one), or when none of ``others`` (the values of the user's ``names``
    that may hold the same object and are read afterwards, passed where each is bound for sure) reaches its
    memory now; not when one does (Python changes that object in place, and the other name sees it). Placed
    where the analysis could not tell which; ``refusal`` is the message raised then (naming ``names[0]``,
    replaced by the name that does)."""
    if value is None or isinstance(value, (int, float, complex, np.generic, tuple, str, bytes)):
        return
    reaching = [name for name, other in zip(names, others) if _reaches(other, value)]
    if names and not reaching:
        return
    if reaching:
        refusal = refusal.replace(f"would change `{names[0]}`", f"would change `{reaching[0]}`", 1)
    raise UnsupportedSyntaxError.from_message(refusal, f" (here it holds {_describe(value)})")


def _reaches(other, value, depth=0):
    """Whether ``other`` holds ``value`` or memory of it: the object itself, an array sharing memory with it,
    a list, tuple, dict or record holding one; anything else that could keep a reference (an iterator, a
    function, an object of unknown kind) counts as holding it."""
    if other is value:
        return True
    if other is None or isinstance(other, (int, float, complex, np.generic, str, bytes, bool)):
        return False
    if isinstance(other, np.ndarray):
        return isinstance(value, np.ndarray) and np.may_share_memory(other, value)
    if depth > 20:
        return True
    if isinstance(other, (list, tuple)):
        return any(_reaches(o, value, depth + 1) for o in other)
    if isinstance(other, dict):
        return any(_reaches(o, value, depth + 1) for o in other.values())
    if is_record(other) and hasattr(other, "__dict__"):
        return any(_reaches(o, value, depth + 1) for o in vars(other).values()) or any(
            isinstance(o, np.ndarray) and _reaches(o, value, depth + 1) for klass in type(other).__mro__[:-1]
            for name, o in vars(klass).items() if not name.startswith("__"))   # (its class's arrays: `self.W` of
    return True                                                                # `class M: W = np.zeros(3)`)


def walked(value, refusal):
    """Before ``x op= e`` inside ``for v in x`` (which s2sad computes as ``x = x op e`` and reads each item as
    ``x[k]`` of the ``x`` of that iteration): the same as Python for an array (changed in place, its length
    kept, its iterator reading the changed items) and a tuple (a new one, whose first items are the old);
    not for a list, which grows or shrinks under its loop."""
    if isinstance(value, (np.ndarray, tuple)):
        return
    raise UnsupportedSyntaxError.from_message(refusal, f" (here it holds {_describe(value)})")


def seed(ans):
    """The adjoint that starts a gradient's backward sweep: 1 for a scalar output (ones for an array of one item,
    as Autograd takes it: the gradient of that item)."""
    if isinstance(ans, float) or isinstance(ans, (int, np.generic, np.ndarray)) and np.ndim(ans) == 0 \
            and np.result_type(ans).kind in "fiub":
        return 1.0
    if isinstance(ans, np.ndarray) and ans.size == 1 and ans.dtype.kind in "fiub":
        return np.ones(ans.shape, dtype=_float_dtype(ans))
    if isinstance(ans, (tuple, list)) and len(ans) == 2 and not hasattr(type(ans), "_fields"):
        raise NonScalarOutputError(
            f"grad needs a function that returns a scalar, but it returned a pair ({_describe(ans[0])}, "
            f"{_describe(ans[1])}); for a value with auxiliary data pass has_aux=True, else use s2sad.vjp(f, *args)")
    raise NonScalarOutputError(
        f"grad needs a function that returns a scalar, but it returned {_describe(ans)}; "
        f"use s2sad.vjp(f, *args) to pull back a cotangent of that shape")


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (float, int, np.number)):
        return "a number"
    return f"a value of type {type(value).__name__}"


def like(g, x):
    """``g`` as a gradient of ``x``: same type, shape and (floating) dtype as ``x``."""
    if type(g) is np.ndarray and type(x) is np.ndarray and g.dtype is x.dtype and g.shape == x.shape \
            and g.base is None and g.dtype.kind == "f":
        return g                                   # the common case, fast: a fresh array already
    if type(g) is float and type(x) is float:
        return g
    if type(x) is np.float64 and (type(g) is float or type(g) is np.float64):
        return np.float64(g)                       # (the float route computes an np.float64's as a float)
    if type(x) is np.float32 and (type(g) is np.float32 or type(g) is float or type(g) is np.float64):
        return np.float32(g)
    if g is None:                                  # inside a container's adjoint: nothing flowed (tree.py)
        g = zeros_like(x)
    if isinstance(x, (float, int, np.ndarray, np.generic)) and np.iscomplexobj(g) and not np.iscomplexobj(x):
        g = np.real(g)                             # a real argument's gradient is the real part (as real_like)
    if type(x) is float or isinstance(x, int) and not isinstance(x, (bool, np.generic)):
        return float(g)
    if isinstance(x, np.ndarray):
        dtype = _float_dtype(x)
        if isinstance(g, np.ndarray) and g.dtype == dtype and g.shape == x.shape \
                and g.flags.writeable and g.base is None:
            return g
        if isinstance(g, (list, tuple)):           # (the float route's list of floats; None is zero, never nan)
            g = [zeros_like(x[k]) if v is None else v for k, v in enumerate(g)]
        out = np.empty(x.shape, dtype=dtype)
        out[...] = g
        return out
    if isinstance(x, np.generic):
        return _float_dtype(x).type(g)
    if (type(x) is tuple or type(x) is list) and isinstance(g, (tuple, list)) and len(g) == len(x):
        items = [like(gi, xi) for gi, xi in zip(g, x)]      # a plain tuple or list, quickly
        return items if type(x) is list else tuple(items)
    if type(x) is dict and isinstance(g, dict):
        return {k: like(g.get(k), v) for k, v in x.items()}
    if isinstance(x, (list, tuple, dict)) or is_record(x):   # a container's adjoint: None where nothing flowed
        from .tree import like_tree
        return like_tree(g, x, like)
    return g


# --- elementwise -------------------------------------------------------------------------
def scaled_power(c, x, p):
    """``c * x ** p``, and 0 where ``c`` is 0: the derivative ``y x**(y-1)`` of ``x**y`` (and its own
    derivatives ``y (y-1) x**(y-2)``...) is 0 wherever its coefficient is, also at ``x = 0`` where
    ``x ** (y - 1)`` is infinite (``x**0`` is 1 everywhere, ``x**2``'s third derivative is 0), and a zero
    tangent or adjoint contributes nothing. Elsewhere the plain product, with its errors
    (``0.0 ** -0.5`` raises for Python numbers, as ``x ** y`` does)."""
    if np.ndim(c) == 0 and np.ndim(x) == 0 and np.ndim(p) == 0:
        if c == 0:
            return c * 0.0 * x
        return c * x ** p
    with np.errstate(divide="ignore", invalid="ignore"):
        out = c * x ** p
    return np.where(np.asarray(c) == 0, np.zeros_like(out), out)


def safe_log(x):
    """log(x) where x > 0, else 0: the factor ``d(x**y)/dy = x**y * log(x)`` needs at x = 0."""
    if isinstance(x, (float, int)):
        return math.log(x) if x > 0 else 0.0
    x = np.asarray(x)
    return np.log(np.where(x > 0, x, 1))


def _zero_through_int(g, ans):
    """A cast to an integer or boolean dtype is piecewise constant: its adjoint is zero."""
    if ans is not None and np.result_type(ans).kind in "iub":
        return np.zeros(np.shape(g))
    return g


def sinc_derivative(x, n):
    """The ``n``-th derivative of ``np.sinc`` (sin πx / πx), right at 0 too: with f(y) = sin y / y, the series of
    f near 0 and, elsewhere, y f⁽ⁿ⁾ + n f⁽ⁿ⁻¹⁾ = sin(y + nπ/2) (Leibniz on y f = sin y)."""
    y = np.pi * np.asarray(x, dtype=_float_dtype(x))
    near = np.abs(y) < n + 1.0
    ys = np.where(near, y, 0.0)
    series = np.zeros_like(ys)
    for k in range((n + 1) // 2, (n + 1) // 2 + 40):       # d^n/dy^n of (-1)^k y^2k / (2k+1)!
        series = series + (-1) ** k * math.perm(2 * k, n) / math.factorial(2 * k + 1) * ys ** (2 * k - n)
    yf = np.where(near, 1.0, y)
    far = np.sin(yf) / yf
    for m in range(1, n + 1):
        far = (np.sin(yf + m * np.pi / 2) - m * far) / yf
    return np.pi ** n * np.where(near, series, far)


def cast_grad(g, x, ans=None):
    """Adjoint of a cast to ``ans``'s dtype: back to ``x``'s float dtype; zero through an integer cast."""
    g = _zero_through_int(g, ans)
    return np.asarray(g).astype(_float_dtype(x)) if np.ndim(g) else _float_dtype(x).type(g)


def astype(x, dtype, order="K", casting="unsafe", subok=True, copy=True):
    """``x.astype(dtype)`` as a function (the primitive behind the method)."""
    return np.asarray(x).astype(dtype, order=order, casting=casting, subok=subok, copy=copy)


def clip_masks(x, a_min=None, a_max=None, min=None, max=None):
    """``(below, above)``: where ``np.clip`` gave the lower / upper bound instead of ``x`` (None: no bound).

    ``np.clip`` is ``np.minimum(np.maximum(x, lo), hi)``: where ``lo > hi`` the upper bound wins.
    """
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    no = np.zeros(np.shape(x), dtype=bool)
    above = np.greater(x if lo is None else np.maximum(x, lo), hi) if hi is not None else no
    if lo is not None and hi is not None:     # equal bounds: clip gives the bound on both sides of it
        above = above | np.greater_equal(lo, hi)
    below = np.less(x, lo) & ~above if lo is not None else no
    return below, above


# --- interpolation, polynomials, quadrature, grids ---------------------------------------------
def interp_segments(x, xp, left=None, right=None, period=None):
    """Where ``np.interp(x, xp, fp, left, right)`` reads ``fp``: ``(j, inside, kept)``, the segment
    ``xp[j] .. xp[j+1]`` of each ``x`` (the first or last one outside ``xp``), where the value is that segment's
    line (``xp[0] <= x <= xp[-1]``: elsewhere it is flat), and where it is ``fp``'s at all (not ``left`` or
    ``right``)."""
    if period is not None:
        raise UnsupportedValueError("np.interp(..., period=...) is not differentiated yet")
    xp = np.asarray(xp)
    if xp.ndim != 1 or len(xp) < 2:
        raise UnsupportedValueError("np.interp is differentiated for two sample points or more")
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    inside = (np.asarray(x) >= xp[0]) & (np.asarray(x) <= xp[-1])
    kept = ~((np.asarray(x) < xp[0]) & (left is not None) | (np.asarray(x) > xp[-1]) & (right is not None))
    return j, inside, kept


def interp_fp_grad(g, x, xp, fp, kept):
    """Adjoint of ``fp`` in ``np.interp(x, xp, fp)``: each value is ``(1 - t) fp[j] + t fp[j+1]`` (``t`` in
    [0, 1], the first or last sample's value outside ``xp``), and ``left``/``right`` take no share of it."""
    xp = np.asarray(xp, dtype=float)
    x = np.asarray(x, dtype=float)
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    t = np.clip((x - xp[j]) / (xp[j + 1] - xp[j]), 0.0, 1.0)
    g = np.broadcast_to(np.asarray(g) * kept, x.shape)
    out = np.zeros(np.shape(fp), dtype=_float_dtype(fp))
    np.add.at(out, j, g * (1.0 - t))
    np.add.at(out, j + 1, g * t)
    return out


def polyval_coefficients_grad(g, p, x):
    """Adjoint of the coefficients ``p`` (highest power first) in ``np.polyval(p, x)``: the sum of ``g x**k``."""
    n = len(p)
    if np.ndim(p) != 1:
        raise UnsupportedValueError("np.polyval is differentiated for a 1-d array of coefficients")
    return np.array([np.sum(g * np.asarray(x) ** (n - 1 - k)) for k in range(n)], dtype=np.result_type(g, x, 1.0))


def derivative_coefficients(p):
    """The coefficients of ``np.polyval(p, x)``'s derivative in ``x`` (``np.polyder``'s, also for one coefficient:
    none), written with functions that have rules so that they can be differentiated along ``p``."""
    c = np.asarray(p)
    return c[:-1] * np.arange(len(c) - 1, 0, -1).astype(np.result_type(c, 1.0))


def trapezoid_grads(g, y, x=None, dx=1.0, axis=-1):
    """Adjoints of ``y``, ``x`` and ``dx`` in ``np.trapezoid(y, x, dx, axis)``, which is (as NumPy computes it) the
    sum along ``axis`` of ``d * (lo + hi) / 2``: ``lo`` and ``hi`` the pieces of ``y`` without its last and first
    item along the axis, ``d`` the steps (``dx``, a number or an array broadcasting against them; or ``diff(x)``, a
    1-d ``x`` laid along the axis). Each is the broadcast product's adjoint summed down to its shape."""
    y = np.asarray(y)
    ax = axis % y.ndim
    lo = np.take(y, np.arange(y.shape[ax] - 1), axis=ax)
    hi = np.take(y, np.arange(1, y.shape[ax]), axis=ax)
    if x is None:
        d = dx
    elif np.ndim(x) == 1:
        d = np.reshape(np.diff(x), [-1 if k == ax else 1 for k in range(y.ndim)])
    else:
        d = np.diff(x, axis=axis)
    spread = np.expand_dims(g, axis) * 0.5                     # (axis: the broadcast product's, as NumPy sums it)
    pieces = spread * (lo + hi)                                # (the product's shape)
    lo_bar = unbroadcast(np.broadcast_to(spread * d, np.shape(pieces)), lo)
    hi_bar = lo_bar
    width = [(0, 0)] * y.ndim
    width[ax] = (0, 1)
    y_bar = np.pad(lo_bar, width)
    width[ax] = (1, 0)
    y_bar = y_bar + np.pad(hi_bar, width)
    d_bar = unbroadcast(pieces, d)
    if x is None:
        return y_bar, None, d_bar
    if np.ndim(x) == 1:
        return y_bar, undiff(np.ravel(d_bar), x, 1, -1), 0.0 * np.sum(d_bar)
    return y_bar, undiff(d_bar, x, 1, axis), 0.0 * np.sum(d_bar)


def spaced_by_dx(x):
    """1.0 where ``np.trapezoid(y, x, dx)`` reads its spacing ``dx`` (no sample points ``x`` given), else 0.0."""
    return 1.0 if x is None else 0.0


def meshgrid_grads(g, xi, indexing="xy"):
    """Adjoints of ``np.meshgrid(*xi)``'s arguments: each result spreads its argument (flattened) along one axis
    (the first two swapped for ``indexing="xy"``), so its adjoint sums the others."""
    grads = []
    for k, (g_k, x) in enumerate(zip(g, xi)):
        if x is None:                      # (an argument of meshgrid_tangents without a tangent)
            grads.append(None)
            continue
        axis = 1 - k if indexing == "xy" and len(xi) > 1 and k < 2 else k
        others = tuple(a for a in range(np.ndim(g_k)) if a != axis)
        grads.append(np.reshape(np.sum(g_k, axis=others), np.shape(x)))
    return grads


def meshgrid_tangents(t, xi, ans, indexing="xy"):
    """Tangents of ``np.meshgrid(*xi)``'s results along the tangents ``t`` of its arguments (None: none)."""
    out = []
    for k, (t_k, a) in enumerate(zip(t, ans)):
        if _no_direction(t_k):
            out.append(np.zeros(np.shape(a), dtype=np.result_type(a)))
            continue
        axis = 1 - k if indexing == "xy" and len(xi) > 1 and k < 2 else k
        shape = [1] * np.ndim(a)
        shape[axis] = -1
        out.append(np.broadcast_to(np.reshape(t_k, shape), np.shape(a)) * 1.0)
    return out


# --- linear algebra ------------------------------------------------------------------------
def _mT(a):
    return np.swapaxes(a, -1, -2)


def matmul_x_grad(g, x, y):
    """Adjoint of ``x`` in ``x @ y`` (1-D operands, stacks of matrices)."""
    x, y, g = np.asarray(x), np.asarray(y), np.asarray(g)
    if x.ndim == 1 and y.ndim == 1:
        return g * y
    if y.ndim == 1:
        return unbroadcast(g[..., None] * y, x)
    if x.ndim == 1:
        return unbroadcast(np.matmul(y, g[..., None])[..., 0], x)
    return unbroadcast(g @ _mT(y), x)


def matmul_y_grad(g, x, y):
    """Adjoint of ``y`` in ``x @ y``."""
    x, y, g = np.asarray(x), np.asarray(y), np.asarray(g)
    if x.ndim == 1 and y.ndim == 1:
        return g * x
    if x.ndim == 1:
        return unbroadcast(x[:, None] * g[..., None, :], y)
    if y.ndim == 1:
        return unbroadcast((_mT(x) @ g[..., None])[..., 0], y)
    return unbroadcast(_mT(x) @ g, y)


def dot_x_grad(g, x, y):
    """Adjoint of ``x`` in ``np.dot(x, y)`` (scalars, vectors, matrices)."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(g * y, x)
    if np.ndim(x) > 2 or np.ndim(y) > 2:
        axes = ([-1], [max(np.ndim(y) - 2, 0)])
        return tensordot_grads(g, x, y, axes)[0]
    return matmul_x_grad(g, x, y)


def dot_y_grad(g, x, y):
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(g * x, y)
    if np.ndim(x) > 2 or np.ndim(y) > 2:
        axes = ([-1], [max(np.ndim(y) - 2, 0)])
        return tensordot_grads(g, x, y, axes)[1]
    return matmul_y_grad(g, x, y)


def inner_grads(g, a, b):
    """Adjoints of ``np.inner(a, b)`` (a scalar operand multiplies)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a), unbroadcast(g * a, b)
    return tensordot_grads(g, a, b, ([-1], [-1]))


def tensordot_grads(g, a, b, axes=2):
    """Adjoints of ``np.tensordot(a, b, axes)`` with respect to ``a`` and ``b``."""
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    if isinstance(axes, (int, np.integer)):
        a_axes = list(range(a.ndim - axes, a.ndim))
        b_axes = list(range(axes))
    else:
        a_axes, b_axes = axes
        a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
        b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
    a_axes = [i % a.ndim for i in a_axes]
    b_axes = [i % b.ndim for i in b_axes]
    a_free = [i for i in range(a.ndim) if i not in a_axes]
    b_free = [i for i in range(b.ndim) if i not in b_axes]
    n_af = len(a_free)
    g_a_part = list(range(n_af))                # g's axes belonging to a's free axes
    g_b_part = list(range(n_af, g.ndim))
    # d a: contract g's b-part with b's free axes. The result's axes are a_free, then b's
    # contracted axes in increasing order, i.e. their partners in a: a_axes[k] for k in argsort(b_axes).
    ga = np.tensordot(g, b, axes=(g_b_part, b_free))
    ga = np.transpose(ga, np.argsort(a_free + [a_axes[k] for k in np.argsort(b_axes)]))
    gb = np.tensordot(a, g, axes=(a_free, g_a_part))     # axes: a's contracted axes in increasing order, b_free
    gb = np.transpose(gb, np.argsort([b_axes[k] for k in np.argsort(a_axes)] + b_free))
    return ga, gb


def _einsum_parse(subscripts, n):
    if not isinstance(subscripts, str):
        raise UnsupportedValueError("s2sad: the derivative of np.einsum in its sublist form (operands interleaved with "
                                  "lists of axes) is not supported; write the subscripts as a string")
    subscripts = subscripts.replace(" ", "")
    if "." in subscripts:
        raise UnsupportedValueError("s2sad: the derivative of einsum with '...' is not supported; spell out the axes")
    if "->" in subscripts:
        ins, out = subscripts.split("->")
    else:
        ins = subscripts
        letters = ins.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = ins.split(",")
    if len(ins) != n:
        raise ValueError(f"einsum: {len(ins)} operand subscripts for {n} operands")
    return ins, out


def einsum_grads(g, subscripts, operands):
    """Adjoints of ``np.einsum(subscripts, *operands)``, one per operand."""
    ins, out = _einsum_parse(subscripts, len(operands))
    grads = []
    for k, (sub, x) in enumerate(zip(ins, operands)):
        others = [(s, o) for j, (s, o) in enumerate(zip(ins, operands)) if j != k]
        have = set(out).union(*(set(s) for s, _ in others))
        terms = [out] + [s for s, _ in others]
        args = [g] + [o for _, o in others]
        unique = "".join(dict.fromkeys(sub))     # a letter repeated in this operand ('ii'): its diagonal
        missing = "".join(c for c in unique if c not in have)
        if missing:             # an axis summed in this operand alone: broadcast g along it
            terms.append(missing)
            args.append(np.ones([np.shape(x)[sub.index(c)] for c in missing]))
        grad = np.einsum(",".join(terms) + "->" + unique, *args, optimize=len(args) > 1)   # BLAS paths
        if unique == sub and np.shape(grad) != np.shape(x):   # an axis of length 1 that einsum broadcast: summed
            grad = unbroadcast(grad, x)
        grads.append(grad if unique == sub else _on_diagonals(grad, unique, sub, np.shape(x)))
    return grads


def _on_diagonals(grad, unique, sub, shape):
    """``grad`` (over the distinct letters ``unique``) put where operand ``sub`` repeats a letter: the
    diagonal(s) of an array of ``shape``, zeros elsewhere."""
    grids = np.ix_(*[np.arange(shape[sub.index(c)]) for c in unique])
    out = np.zeros(shape, dtype=_float_dtype(grad))
    out[tuple(grids[unique.index(c)] for c in sub)] = grad
    return out


def trace_grad(g, x, offset=0, axis1=0, axis2=1):
    """Adjoint of ``np.trace(x, offset, axis1, axis2)``."""
    x = np.asarray(x)
    axis1, axis2 = axis1 % x.ndim, axis2 % x.ndim
    eye = np.eye(x.shape[axis1], x.shape[axis2], k=offset)      # eye[i, j]: x[.., i (axis1), .., j (axis2), ..]
    if axis1 > axis2:
        eye = eye.T                                             # its axes in the order they appear in x
    g = np.asarray(g)
    shape = [1] * x.ndim
    shape[axis1], shape[axis2] = x.shape[axis1], x.shape[axis2]
    rest = [i for i in range(x.ndim) if i not in (axis1, axis2)]
    out = np.zeros(x.shape, dtype=_float_dtype(x))
    g_full = np.expand_dims(g, (axis1, axis2)) if rest else g
    out[...] = g_full * eye.reshape(shape)
    return out


def solve_a_grad(gb, ans):
    """Adjoint of ``a`` in ``ans = np.linalg.solve(a, b)``, given ``gb`` = adjoint of ``b``."""
    if np.ndim(ans) == 1:
        return -np.outer(gb, ans)
    return -(gb @ _mT(ans))


def slogdet_grad(g_logdet, a):
    """Adjoint of ``np.linalg.slogdet(a)`` given the adjoint of ``logabsdet`` (None when only the
    locally constant sign is used)."""
    if g_logdet is None:
        return np.zeros(np.shape(a))
    return np.asarray(g_logdet)[..., None, None] * _mT(np.linalg.inv(a))


def det_grad(g, ans, a):
    """Adjoint of ``det(a)``: ``g`` times the cofactor matrix (``det(a) inv(a)^T``, also where a is singular)."""
    return np.asarray(g)[..., None, None] * cofactor(a)


def cofactor(a):
    """The cofactor matrix of ``a`` (the derivative of ``det(a)``): with ``a = U S V^T``, ``det(U) det(V) U
    diag(the product of the other singular values) V^T`` (conjugated for a complex ``a``), which holds at a singular ``a`` too (``det(a) inv(a)^T``
    is 0 times an infinite inverse there: s2sad's rule gave 0 where ``scipy.linalg.det`` returns exactly 0)."""
    a = np.asarray(a)
    u, s, vt = np.linalg.svd(a)
    sign = np.linalg.det(u) * np.linalg.det(vt)
    if np.iscomplexobj(a):                        # (a = U S V^H: inv(a)^T = conj(U) S^-1 conj(V^H))
        u, vt = u.conj(), vt.conj()
    n = s.shape[-1]
    ones = np.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = np.concatenate([ones, np.cumprod(s[..., :-1], axis=-1)], axis=-1)          # s_0 ... s_(i-1)
    after = np.concatenate([np.cumprod(s[..., :0:-1], axis=-1)[..., ::-1], ones], axis=-1)   # s_(i+1) ... s_(n-1)
    return (sign[..., None, None] * (u * (before * after)[..., None, :])) @ vt if n else np.zeros_like(a)


def cofactor_grad(h, cof, a):
    """Adjoint of ``cofactor(a)`` (``cof``) along ``h``: the derivative ``cof tr(a^-1 t) - cof t^T a^-T`` of
    ``det(a) a^-T`` transposed (a nonsingular)."""
    if np.shape(a)[-1] == 2:                      # (2x2: the cofactor is linear, its own adjoint: also where a is
        return cofactor2(h)                       # singular, which a's inverse below is not)
    inv_t = _mT(np.linalg.inv(a))
    return np.sum(h * cof, axis=(-2, -1))[..., None, None] * inv_t - inv_t @ _mT(h) @ cof


def cofactor_tangent(t, cof, a):
    """Tangent of ``cofactor(a)`` (``cof``) along ``t`` (a nonsingular; differentiated from this source for det's
    higher derivatives: rules/linalg.py)."""
    if np.shape(a)[-1] == 2:
        return cofactor2(t)
    inv_t = _mT(np.linalg.inv(a))
    return np.expand_dims(np.sum(inv_t * t, axis=(-2, -1)), (-2, -1)) * cof - cof @ _mT(t) @ inv_t


def cofactor2(m):
    """The cofactor matrix of 2x2 matrices ``m`` (``[[d, -c], [-b, a]]``): linear in ``m``."""
    return np.stack([np.stack([m[..., 1, 1], -m[..., 1, 0]], axis=-1),
                     np.stack([-m[..., 0, 1], m[..., 0, 0]], axis=-1)], axis=-2)


def cholesky_grad(g, L):
    """Adjoint of ``L = np.linalg.cholesky(a)`` (Murray 2016, symmetric result)."""
    phi = np.tril(_mT(L) @ g)
    phi = phi - 0.5 * np.eye(L.shape[-1], dtype=L.dtype) * phi      # halve the diagonal
    tmp = np.linalg.solve(_mT(L), phi)                  # L^-T phi
    s = _mT(np.linalg.solve(_mT(L), _mT(tmp)))          # L^-T phi L^-1
    return 0.5 * (s + _mT(s))


# --- joining and splitting -------------------------------------------------------------------
def split_like(g, arrays, axis=0):
    """Adjoint of ``np.concatenate(arrays, axis)``: ``g`` cut back into the pieces."""
    sizes = [np.shape(a)[axis] for a in arrays]
    return np.split(g, np.cumsum(sizes)[:-1], axis=axis)


def concatenate_grads(g, arrays, axis=0):
    if axis is None:
        pieces = split_like(g, [np.ravel(a) for a in arrays], 0)
        return AdjList(np.reshape(p, np.shape(a)) for p, a in zip(pieces, arrays))
    return AdjList(split_like(g, arrays, axis))


def stack_grads(g, arrays, axis=0):
    """Adjoint of ``np.stack(arrays, axis)``."""
    return AdjList(np.take(g, i, axis=axis) for i in range(len(arrays)))


def unstack(g, axis=0):
    return [np.take(g, i, axis=axis) for i in range(np.shape(g)[axis])]


def hstack_grads(g, arrays):
    axis = 0 if np.ndim(arrays[0]) <= 1 else 1              # np.hstack: atleast_1d, then axis 0 for 1-D
    return AdjList(np.reshape(p, np.shape(a)) for p, a in zip(
        split_like(g, [np.atleast_1d(a) for a in arrays], axis), arrays))


def vstack_grads(g, arrays):
    return AdjList(np.reshape(p, np.shape(a)) for p, a in zip(
        split_like(g, [np.atleast_2d(a) for a in arrays], 0), arrays))


def constant_key(*keys):
    """Refuse a key or an index that may carry a derivative (effects.guard_keys): a float, a complex number, an
    array of them or an object (a record made from values being differentiated); keys carry none. Strings, ints,
    bools, None, slices and integer or boolean arrays, and tuples of them, pass."""
    for k in keys:
        if isinstance(k, (tuple, list)):               # (a tuple key; fancy indices; make_dict's list of keys)
            constant_key(*k)
        elif not (k is None or k is Ellipsis or isinstance(k, (str, bytes, int, bool, slice, np.integer, np.bool_))
                  or isinstance(k, np.ndarray) and k.dtype.kind in "biu"):
            raise UnsupportedValueError(f"s2sad: a {type(k).__name__} depending on a value being differentiated is "
                                        "used as a key (of a dict) or an index: keys carry no derivative, so reading "
                                        "them back (`for k in d`) would give none; keep the value in the dict's "
                                        "values, or use s2sad.stop_gradient(k) as the key")


def product_items(items, like=()):
    """The items of ``math.prod``'s iterable as one array along a new first axis, broadcast together (and with
    the items of ``like``: ``[A, c]`` multiplies elementwise)."""
    if isinstance(items, np.ndarray) and not len(like):
        return items
    like = list(like)
    items = list(items) if isinstance(items, (list, tuple, np.ndarray)) else [items] * len(like)   # (a zero tangent)
    if not items:                                      # (math.prod([], start=x): no items, shaped like the rest)
        return np.zeros((0,) + np.broadcast_shapes(*[np.shape(v) for v in like]))
    return np.stack(np.broadcast_arrays(*items, *like)[:len(items)])


def unarray(g, obj, ans=None):
    """Adjoint of ``np.array(obj)`` where ``obj`` is a (nested) list of scalars or arrays
    (zero when ``ans`` has an integer dtype)."""
    g = _zero_through_int(g, ans)
    if isinstance(obj, (list, tuple)):
        return AdjList(unarray(g[i], o) for i, o in enumerate(obj))
    return unbroadcast(g, obj)


def transpose_grad(g, axes=None):
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort([a % np.ndim(g) for a in axes]))


def unreshape(g, x, order="C"):
    """Adjoint of ``np.reshape(x, shape, order)`` / ``np.ravel(x, order)``: ``g`` read back in the same order.

    Order "A" reads Fortran order when ``x`` is Fortran- but not C-contiguous; ravel's "K" reads the items in
    the order of ``x``'s memory (``memory_order``: a view made by ``swapaxes`` or a transpose).
    """
    if order == "K":
        axes = memory_order(x)
        shape = tuple(np.shape(x)[a] for a in axes)
        return np.transpose(np.reshape(g, shape), np.argsort(axes))
    if order == "A":
        order = "F" if np.isfortran(np.asarray(x)) else "C"
    return np.reshape(g, np.shape(x), order=order)


def memory_order(x):
    """The axes of ``x``, outermost first, in the order ``np.ravel(x, "K")`` walks them: C order when ``x`` is
    C-contiguous, Fortran order when it is Fortran-contiguous, else NumPy's iterator's: a stable insertion sort by
    the strides' magnitudes, a zero stride (a broadcast axis) comparing with none, negative strides not reversed."""
    x = np.asarray(x)
    nd = x.ndim
    if x.flags.c_contiguous or nd < 2:
        return tuple(range(nd))
    if x.flags.f_contiguous:
        return tuple(range(nd - 1, -1, -1))
    strides, perm = x.strides, list(range(nd - 1, -1, -1))      # innermost first, as the iterator keeps them
    for i0 in range(1, nd):
        ipos, s0 = i0, strides[perm[i0]]
        for i1 in range(i0 - 1, -1, -1):
            s1 = strides[perm[i1]]
            if s0 != 0 and s1 != 0:
                if abs(s1) <= abs(s0):
                    break
                ipos = i1
        perm.insert(ipos, perm.pop(i0))
    return tuple(perm[::-1])


def atleast_grads(g, arrays):
    """Adjoints of ``np.atleast_1d(*arrays)`` / ``np.atleast_2d``: one array in, one out; else a tuple."""
    gs = [g] if len(arrays) == 1 else g
    return [np.reshape(g_i, np.shape(a)) for g_i, a in zip(gs, arrays)]


def broadcast_arrays_grads(g, arrays):
    """Adjoints of ``np.broadcast_arrays(*arrays)``: each result's summed down to its argument's shape."""
    return [zeros_like(a) if g_i is None else unbroadcast(g_i, a) for g_i, a in zip(g, arrays)]


def broadcast_tangents(g, ans):
    """Tangents of ``np.broadcast_arrays(*arrays)`` (``g`` the arguments' tangents, None for a constant one): each
    expanded to its result's shape."""
    return tuple(np.zeros(np.shape(a), dtype=_float_dtype(a)) if g_i is None else np.broadcast_to(g_i, np.shape(a))
                 for g_i, a in zip(g, ans))


def multi_dot_grads(g, arrays):
    """Adjoints of the arrays of ``np.linalg.multi_dot(arrays)``: the product of those before each (transposed),
    ``g``, and the product of those after it (transposed); a 1-d first or last array is a row or a column."""
    mats = [np.asarray(a) for a in arrays]
    mats[0] = mats[0].reshape(1, -1) if mats[0].ndim == 1 else mats[0]
    mats[-1] = mats[-1].reshape(-1, 1) if mats[-1].ndim == 1 else mats[-1]
    g = np.reshape(g, (mats[0].shape[0], mats[-1].shape[1]))
    lefts, rights = [np.eye(mats[0].shape[0], dtype=g.dtype)], [np.eye(mats[-1].shape[1], dtype=g.dtype)]
    for m in mats[:-1]:
        lefts.append(lefts[-1] @ m)
    for m in mats[:0:-1]:
        rights.append(m @ rights[-1])
    grads = [lefts[i].T @ g @ rights[len(mats) - 1 - i].T for i in range(len(mats))]
    return AdjList(np.reshape(gi, np.shape(a)).astype(_float_dtype(a), copy=False) for gi, a in zip(grads, arrays))


def multi_dot_tangent(t, arrays):
    """Tangent of ``np.linalg.multi_dot(arrays)`` along ``t`` (the arrays' tangents): one product per array with
    its tangent in its place. Differentiated from its source."""
    total = 0.0
    for i in range(len(arrays)):
        total = total + np.linalg.multi_dot(list(arrays[:i]) + [t[i]] + list(arrays[i + 1:]))
    return total


def _block_leaves(arrays, start, leaf, container=list):
    """np.block's nested lists ``arrays`` with each leaf ``a`` replaced by ``leaf(a, k, n)``, where ``k`` numbers its
    ``n`` items from ``start`` on (in np.block's order); returns ``(the nested lists as container, next number)``."""
    if isinstance(arrays, list):
        out = []
        for a in arrays:
            value, start = _block_leaves(a, start, leaf, container)
            out.append(value)
        return container(out), start
    n = np.size(arrays)
    return leaf(arrays, start, n), start + n


def block_grads(g, arrays):
    """Adjoints of the leaves of ``np.block(arrays)``: the items of ``g`` each one was placed at."""
    positions = _block_leaves(arrays, 0, lambda a, k, n: np.arange(k, k + n).reshape(np.shape(a)))[0]
    source = np.asarray(np.block(positions)).reshape(-1)
    flat = np.zeros(source.size, dtype=_float_dtype(g))
    flat[source] = np.asarray(g).reshape(-1)
    return _block_leaves(arrays, 0, lambda a, k, n: cast_grad(flat[k:k + n].reshape(np.shape(a)), a), AdjList)[0]


# --- forward mode: tangents ----------------------------------------------------------------
def broadcast(g, ans):
    """``g`` expanded to the shape of ``ans`` (the tangent of an argument NumPy broadcast)."""
    if isinstance(g, (tuple, list, dict)) or np.shape(g) == np.shape(ans):
        return g
    return np.broadcast_to(g, np.shape(ans))


def cast_tangent(g, ans):
    """Tangent of a conversion or cast giving ``ans``: ``g`` in ``ans``'s dtype; zero for an integer result."""
    dtype = np.result_type(ans)
    if dtype.kind not in "fc":
        return np.zeros(np.shape(ans))
    if isinstance(ans, np.ndarray):
        return np.asarray(g, dtype=dtype).reshape(ans.shape)
    return dtype.type(np.asarray(g, dtype=dtype))


def copy_like(g):
    """Tangent of ``x.copy()``: a copy of the same kind (a list stays a list)."""
    if isinstance(g, (list, dict)):
        return g.copy()
    return np.copy(g)


def reshape_like(g, x, ans, order="C"):
    """Tangent of ``np.reshape(x, shape, order)`` / ``np.ravel``: ``g`` read in the same order as ``x``."""
    if order == "K":
        return np.reshape(np.transpose(g, memory_order(x)), np.shape(ans))
    if order == "A":
        order = "F" if np.isfortran(np.asarray(x)) else "C"
    return np.reshape(g, np.shape(ans), order=order)


def atleast_tangents(g, ans):
    """Tangents of ``np.atleast_1d(*arrays)`` / ``np.atleast_2d``: each reshaped like its result."""
    if isinstance(ans, (list, tuple)):
        return [np.zeros(np.shape(a)) if g_i is None else np.reshape(g_i, np.shape(a)) for g_i, a in zip(g, ans)]
    return np.reshape(g[0], np.shape(ans))


def _no_direction(t):
    """None, or the number 0.0 that stands for a tangent of None in a tuple's tangent: contributes nothing."""
    return t is None or type(t) is float and t == 0.0


def einsum_tangent(tangents, subscripts, operands):
    """Tangent of ``np.einsum(subscripts, *operands)``: one term per operand with a tangent (None: none)."""
    total = None
    for k, t in enumerate(tangents):
        if _no_direction(t):
            continue
        args = list(operands)
        args[k] = t
        term = np.einsum(subscripts, *args, optimize=len(args) > 1)
        total = term if total is None else total + term
    return total


def einsum_tangent_grads(h, tangents, subscripts, operands):
    """Adjoints of ``einsum_tangent(tangents, subscripts, operands)`` (multilinear: one einsum adjoint per term)."""
    t_bars, o_bars = [None] * len(tangents), [None] * len(operands)
    for k, t in enumerate(tangents):
        if _no_direction(t):
            continue
        args = list(operands)
        args[k] = t
        grads = einsum_grads(h, subscripts, args)
        for j, gj in enumerate(grads):
            if j == k:
                t_bars[j] = gj if t_bars[j] is None else t_bars[j] + gj
            else:
                o_bars[j] = gj if o_bars[j] is None else o_bars[j] + gj
    return AdjTuple(t_bars), AdjTuple(o_bars)


def _einsum_placements(directions, n):
    """Every way to put each direction on an operand of its own where it has an entry: tuples ``(k_0, k_1, ...)``,
    direction ``d`` on operand ``k_d``."""
    def place(d, used):
        if d == len(directions):
            yield ()
            return
        for k in range(n):
            if k not in used and not _no_direction(directions[d][k]):
                for rest in place(d + 1, used | {k}):
                    yield (k,) + rest
    return list(place(0, frozenset()))


def einsum_directions(subscripts, operands, d1, d2=None, d3=None, d4=None, d5=None, d6=None, beyond=None):
    """The derivative of ``np.einsum(subscripts, *operands)`` along the directions ``d1, d2, ...`` (each a tuple
    with one entry per operand, None where it has none; a direction of None: no direction): einsum is linear in
    each operand, so it is the sum, over the ways to put each direction on an operand of its own, of the einsum
    with those operands replaced (``einsum_tangent`` is the case of one direction). Symmetric in the directions
    and linear in each; along the operands, itself with one direction more: its rules are itself at every order
    (up to six directions; ``beyond``: a seventh, refused)."""
    if beyond is not None:
        raise UnsupportedValueError("s2sad: derivatives of np.einsum beyond the sixth order are not supported")
    directions = [d for d in (d1, d2, d3, d4, d5, d6) if d is not None]
    total = None
    for ks in _einsum_placements(directions, len(operands)):
        args = list(operands)
        for d, k in enumerate(ks):
            args[k] = directions[d][k]
        term = np.einsum(subscripts, *args, optimize=len(args) > 1)
        total = term if total is None else total + term
    if total is None:                                  # no placement: the derivative is zero
        return 0.0 * np.einsum(subscripts, *operands, optimize=len(operands) > 1)
    return total


def einsum_directions_grads(h, subscripts, operands, directions):
    """Adjoints of ``einsum_directions(subscripts, operands, *directions)``: ``(operands' adjoints, (each
    direction's adjoints, None for a direction of None))``, one einsum adjoint per term."""
    present = [d for d in range(len(directions)) if directions[d] is not None]
    d_bars = [None if d is None else [None] * len(operands) for d in directions]
    o_bars = [None] * len(operands)
    for ks in _einsum_placements([directions[d] for d in present], len(operands)):
        args = list(operands)
        for d, k in enumerate(ks):
            args[k] = directions[present[d]][k]
        for j, gj in enumerate(einsum_grads(h, subscripts, args)):
            if j in ks:
                d = present[ks.index(j)]
                d_bars[d][j] = gj if d_bars[d][j] is None else d_bars[d][j] + gj
            else:
                o_bars[j] = gj if o_bars[j] is None else o_bars[j] + gj
    return AdjTuple(o_bars), tuple(None if b is None else AdjTuple(b) for b in d_bars)


def as_columns(v, b):
    """``v`` with a trailing axis of one when ``b`` is a vector: ``np.linalg.solve(a, b)`` reads a 1-d ``b`` as
    one column (whatever ``a``'s stack), any other ``b`` as a stack of matrices (NumPy 2)."""
    return v[..., None] if np.ndim(b) == 1 else v


def from_columns(v, b):
    """The inverse of ``as_columns(v, b)``: the trailing axis of one dropped when ``b`` is a vector."""
    return v[..., 0] if np.ndim(b) == 1 else v


def matmul_like_solve(g, ans):
    """``g @ ans`` for ``ans = np.linalg.solve(a, b)`` (``b`` a vector or a matrix): the tangent's right-hand side."""
    if np.ndim(ans) == np.ndim(g) - 1:
        return (g @ ans[..., None])[..., 0]
    return g @ ans


def slogdet_tangent(g, ans, a):
    """Tangent of ``(sign, logabsdet) = np.linalg.slogdet(a)``: the sign is locally constant."""
    sign, _ = ans
    return (np.zeros(np.shape(sign)), np.trace(np.linalg.solve(a, g), axis1=-2, axis2=-1))


def eigengaps(w):
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it: how eigenvectors turn as ``np.linalg.eigh``'s
    matrix changes (and singular vectors, with ``w`` the squared singular values).

    Two eigenvalues equal to working precision are refused: their eigenvectors are not unique (no derivative),
    and a gap that is rounding error (``sqrt(eps)`` of the larger of the two or less) makes every product with
    ``F`` rounding error over it, where the exact terms cancel (the second derivative of ``sum(eigvalsh(a))``,
    exactly 0, came out O(1)). Then the error of what is computed stays below ``sqrt(eps)`` relative."""
    w = np.asarray(w)
    gaps = w[..., None, :] - w[..., :, None]
    off = ~np.eye(w.shape[-1], dtype=bool)
    scale = np.maximum(np.abs(w[..., None, :]), np.abs(w[..., :, None]))     # (each pair's own magnitude)
    if np.any((np.abs(gaps) <= np.sqrt(np.finfo(_float_dtype(w)).eps) * scale)[..., off]):
        raise UnsupportedValueError("the eigenvectors (or singular vectors) of a matrix with equal, or nearly equal, "
                                  "eigenvalues (or singular values) have no derivative to working precision: "
                                  "np.linalg.eigh's vectors, np.linalg.svd's, and second derivatives through "
                                  "np.linalg.eigvalsh or the singular values there (first derivatives of the "
                                  "values themselves are fine)")
    return np.where(off, 1.0 / np.where(off, gaps, 1.0), 0.0)


def eigh_grad(g, w, v, UPLO="L"):
    """Adjoint of ``w, v = np.linalg.eigh(a)``: v (diag(gw) + F o (v' gv)) v' on the triangle ``UPLO`` reads, F the
    eigengaps. An output nothing reads has a None adjoint and adds nothing: eigenvalues alone need no gaps (so equal
    eigenvalues are fine then, as for eigvalsh)."""
    vt = np.swapaxes(v, -1, -2)
    vectors = g[1] is not None and np.any(g[1])           # (a zero adjoint of the vectors needs no gaps)
    if g[0] is None:
        inner = eigengaps(w) * (vt @ g[1]) if vectors else np.zeros_like(v)
    else:
        inner = g[0][..., None, :] * np.eye(np.shape(w)[-1], dtype=w.dtype)
        if vectors:
            inner = inner + eigengaps(w) * (vt @ g[1])
    return to_triangle(v @ inner @ vt, UPLO)


def from_triangle(g, UPLO="L"):
    """The symmetric matrix ``np.linalg.eigh(a, UPLO)`` reads from ``a``: its lower (or upper) triangle."""
    if UPLO.upper() == "L":
        return np.tril(g) + np.swapaxes(np.tril(g, -1), -1, -2)
    return np.triu(g) + np.swapaxes(np.triu(g, 1), -1, -2)


def to_triangle(s, UPLO="L"):
    """Adjoint of ``from_triangle``: ``s`` summed onto the triangle read (the other one gets nothing)."""
    if UPLO.upper() == "L":
        return np.tril(s) + np.tril(np.swapaxes(s, -1, -2), -1)
    return np.triu(s) + np.triu(np.swapaxes(s, -1, -2), 1)


_EXTRA_VECTORS = ("np.linalg.svd(a, full_matrices=True) of a matrix that is not square: its extra singular vectors "
                  "are not unique and have no derivative (pass full_matrices=False)")


def _thin_svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """``(U, s, Vh)``, thin, of ``a`` for the derivative rules."""
    if hermitian:
        raise UnsupportedValueError("np.linalg.svd(..., hermitian=True) is not differentiated yet; use np.linalg.eigh")
    return np.linalg.svd(a, full_matrices=False)


def svd_grad(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    """Adjoint of ``np.linalg.svd`` (real, distinct singular values): with F[i, j] = 1 / (s_j^2 - s_i^2),
    U (F o (U'gU - gU'U) S + diag(gs) + S F o (V'gV - gV'V)) V' plus the parts outside U's and V's spans."""
    u, s, vh = _thin_svd(a, full_matrices, compute_uv, hermitian)
    v = _mT(vh)
    gu, gs, gv = (None, g, None) if not compute_uv else (g[0], g[1], None if g[2] is None else _mT(g[2]))
    k = s.shape[-1]
    if gu is not None and np.shape(gu)[-1] > k:              # full_matrices=True: only the first k columns
        if np.any(gu[..., k:]):                             # (and rows of Vh) have a derivative
            raise UnsupportedValueError(_EXTRA_VECTORS)
        gu = gu[..., :k]
    if gv is not None and np.shape(gv)[-1] > k:
        if np.any(gv[..., k:]):
            raise UnsupportedValueError(_EXTRA_VECTORS)
        gv = gv[..., :k]
    inner = np.zeros(np.shape(s) + (k,), dtype=s.dtype) if gs is None else gs[..., :, None] * np.eye(k, dtype=s.dtype)
    gu = gu if gu is not None and np.any(gu) else None         # (zero adjoints of the vectors need no gaps)
    gv = gv if gv is not None and np.any(gv) else None
    if gu is not None or gv is not None:
        refuse_lower_rank(s)
    f = eigengaps(s * s) if gu is not None or gv is not None else None
    out_u = out_v = 0.0
    if gu is not None:
        utgu = _mT(u) @ gu
        inner = inner + f * (utgu - _mT(utgu)) * s[..., None, :]
        out_u = (gu - u @ utgu) / s[..., None, :] @ vh                       # (I - U U') gU S^-1 V'
    if gv is not None:
        vtgv = _mT(v) @ gv
        inner = inner + s[..., :, None] * (f * (vtgv - _mT(vtgv)))
        out_v = u @ (_mT(gv - v @ vtgv) / s[..., :, None])                    # U S^-1 gV' (I - V V')
    return u @ inner @ vh + out_u + out_v


def refuse_lower_rank(s):
    """The singular vectors' derivatives divide by each singular value ``s``: one that is zero to working precision
    (``sqrt(eps)`` of the largest or less; a matrix of lower rank) is refused, as equal ones are (``eigengaps``: the
    vectors are not unique; the second derivative of ``sum(svd(outer(x, x)))`` came out O(1) rounding error, where
    the exact one is 2 I)."""
    if np.shape(s)[-1] and np.any(s <= np.sqrt(np.finfo(_float_dtype(s)).eps) * np.max(s, axis=-1, keepdims=True)):
        raise UnsupportedValueError("the singular vectors of a matrix with a zero (or nearly zero) singular value, "
                                    "a matrix of lower rank, have no derivative to working precision: np.linalg.svd's "
                                    "vectors, and second derivatives through its values or np.linalg.norm(a, 'nuc') "
                                    "there (first derivatives of the values are fine)")


def svd_tangent(t, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    """Tangent of ``np.linalg.svd``: with P = U' dA V, ds = diag(P), dU = U (F o (P S + S P')) + (I - U U') dA V
    S^-1, dV = V (F o (S P + P' S)) + (I - V V') dA' U S^-1."""
    u, s, vh = _thin_svd(a, full_matrices, compute_uv, hermitian)
    v = _mT(vh)
    p = _mT(u) @ t @ v
    ds = np.diagonal(p, 0, -2, -1)
    if not compute_uv:
        return ds
    refuse_lower_rank(s)
    f = eigengaps(s * s)
    du = u @ (f * (p * s[..., None, :] + s[..., :, None] * _mT(p))) + (t @ v - u @ p) / s[..., None, :]
    dv = v @ (f * (s[..., :, None] * p + _mT(p) * s[..., None, :])) + (_mT(t) @ u - v @ _mT(p)) / s[..., None, :]
    if full_matrices:                                   # the extra vectors have no derivative: NaN, never a number
        du = _nan_columns(du, np.shape(a)[-2])
        dv = _nan_columns(dv, np.shape(a)[-1])
    return (du, ds, _mT(dv))


def _nan_columns(d, total):
    """``d`` with NaN columns appended up to ``total`` columns."""
    extra = total - d.shape[-1]
    return d if extra == 0 else np.concatenate([d, np.full(d.shape[:-1] + (extra,), np.nan)], axis=-1)


def _reduced_qr(a, mode="reduced"):
    m, n = np.shape(a)[-2:]
    if mode not in ("reduced", "r") or m < n:
        raise UnsupportedValueError(f"np.linalg.qr is differentiated for mode='reduced' or 'r' of a matrix with at least as "
                                  f"many rows as columns (got mode={mode!r}, shape {np.shape(a)})")
    return np.linalg.qr(a)


def qr_grad(g, ans, a, mode="reduced"):
    """Adjoint of ``np.linalg.qr`` (m >= n): (gQ + Q copyltu(M)) R^-T with M = R gR' - gQ' Q, copyltu(M) the
    lower triangle of M mirrored up."""
    q, r = _reduced_qr(a, mode)
    gq, gr = (None, g) if mode == "r" else (g[0], g[1])
    m = 0.0
    if gr is not None:
        m = r @ _mT(gr)
    if gq is not None:
        m = m - _mT(gq) @ q
    m = np.broadcast_to(m, np.shape(r))
    lower = np.tril(m) + _mT(np.tril(m, -1))
    total = q @ lower if gq is None else gq + q @ lower
    return _mT(np.linalg.solve(r, _mT(total)))                         # (...) R^-T


def qr_tangent(t, ans, a, mode="reduced"):
    """Tangent of ``np.linalg.qr`` (m >= n): with C = Q' dA R^-1 and L its strictly lower triangle,
    dR = (C - L + L') R and dQ = dA R^-1 - Q (C - L + L')."""
    q, r = _reduced_qr(a, mode)
    t_rinv = _mT(np.linalg.solve(_mT(r), _mT(t)))                      # dA R^-1
    c = _mT(q) @ t_rinv
    low = np.tril(c, -1)
    upper = c - low + _mT(low)
    dr = upper @ r
    return dr if mode == "r" else (t_rinv - q @ upper, dr)


def uncut(p, a, rcond=None, rtol=None, what="np.linalg.pinv"):
    """``p`` (``pinv(a)``), refusing a cutoff (``rcond``/``rtol``, relative to the largest singular value) that
    drops a singular value of ``a`` that is not zero to working precision: the result is then the pseudo-inverse
    of a matrix of lower rank than ``a``, whose derivative the rules (of constant rank: Golub and Pereyra) are not."""
    cut = rcond if rcond is not None and rcond >= 0 else rtol
    if cut is None or np.size(a) == 0:
        return p
    s = np.linalg.svd(np.asarray(a), compute_uv=False)
    top = np.max(s, axis=-1, keepdims=True)
    zero = max(np.shape(a)[-2:]) * np.finfo(_float_dtype(a)).eps * top
    if np.any((s > zero) & (s <= np.max(np.asarray(cut)) * top)):
        raise UnsupportedValueError(f"s2sad: {what} with a cutoff (rcond/rtol) that drops a singular value of the "
                                  f"matrix is not differentiated (the result is the pseudo-inverse of a matrix of "
                                  f"lower rank); differentiated with the default cutoff, or with one below every "
                                  f"singular value")
    return p


def _lstsq_parts(a, b, rcond=None):
    """pinv(a), the solution and the residual vector of ``np.linalg.lstsq(a, b)`` (2-d ``a``; ``b`` 1-d or 2-d)."""
    p = uncut(np.linalg.pinv(a), a, rcond, None, "np.linalg.lstsq")
    x = p @ b
    return p, x, a @ x - b


def pinv_grad(g, p, a):
    """Adjoint of ``p = np.linalg.pinv(a)`` (a of constant rank; Golub and Pereyra)."""
    pt, gt = _mT(p), _mT(g)
    return (-pt @ g @ pt + (np.eye(np.shape(a)[-2], dtype=p.dtype) - a @ p) @ gt @ p @ pt
            + pt @ p @ gt @ (np.eye(np.shape(a)[-1], dtype=p.dtype) - p @ a))


def lstsq_grads(g, ans, a, b, rcond=None):
    """Adjoints of ``a`` and ``b`` in ``np.linalg.lstsq``: through x = pinv(a) b (a of constant rank), the
    residuals' |a x - b|^2 (whose derivative in x vanishes at the solution), and a's singular values (svd_grad).
    The rank has none."""
    gx, gres = g[0], g[1]
    p, x, resid = _lstsq_parts(a, b, rcond)
    x2, gx2 = (x[:, None], None if gx is None else np.reshape(gx, (-1, 1))) if np.ndim(b) == 1 else (x, gx)
    b2 = np.reshape(b, (np.shape(b)[0], -1))
    a_bar, b_bar = np.zeros(np.shape(a), dtype=_float_dtype(a)), np.zeros(np.shape(b2), dtype=_float_dtype(b))
    if gx2 is not None:
        a_bar = a_bar + pinv_grad(gx2 @ _mT(b2), p, a)                     # x = P b
        b_bar = b_bar + _mT(p) @ gx2
    if gres is not None and np.size(gres) and np.size(ans[1]):             # residuals: |a x - b|^2 per column
        r2 = np.reshape(resid, (np.shape(b)[0], -1)) * np.reshape(gres, (1, -1))
        a_bar = a_bar + 2.0 * r2 @ _mT(x2)
        b_bar = b_bar - 2.0 * r2
    if len(g) > 3 and g[3] is not None:                                      # the singular values of a
        a_bar = a_bar + svd_grad(g[3], None, a, False, False)
    return a_bar, np.reshape(b_bar, np.shape(b))


def lstsq_tangent(ta, tb, ans, a, b, rcond=None):
    """Tangent of ``np.linalg.lstsq``'s solution and residuals along ``ta`` (of ``a``) and ``tb`` (of ``b``)."""
    p, x, resid = _lstsq_parts(a, b, rcond)
    m, n = np.shape(a)
    dx = 0.0
    if ta is not None:
        pt, tat = _mT(p), _mT(ta)
        dp = -p @ ta @ p + p @ pt @ tat @ (np.eye(m) - a @ p) + (np.eye(n) - p @ a) @ tat @ pt @ p
        dx = dx + dp @ b
    if tb is not None:
        dx = dx + p @ tb
    dres = np.zeros(np.shape(ans[1]))
    if np.size(ans[1]):
        change = (0.0 if ta is None else ta @ x) - (0.0 if tb is None else tb)
        dres = np.reshape(2.0 * np.sum(resid * change, axis=0), np.shape(ans[1]))   # (shape (1,) for a 1-d b)
    dsv = np.zeros(np.shape(ans[3])) if ta is None else svd_tangent(ta, None, a, False, False)
    return (dx + np.zeros(np.shape(x)), dres, 0.0, dsv)              # (the rank: an integer, flat)


# === scipy.linalg and scipy.signal (rules/scipy_linalg.py, rules/scipy_signal.py) =============

# NumPy only, like the rest of this module: the rules call scipy themselves. Each helper has rules of its
# own, next to the rules that call it (most are linear: a mask, a transpose, a block), so derivatives of
# derivatives work.
__all__ += [
    "checked_system", "transposes", "flipped", "transposed_if", "triangular_part", "structured", "structured_grad",
    "uplo", "lower_factor", "factor_placed", "off_factor", "lower_half", "frechet_blocks", "upper_right",
    "block_trace", "signal_pads",
]


def checked_system(a, b, fn):
    """``a``, once ``fn(a, b, ...)`` (a solve) is a system the rules cover: ``a`` square (or a stack of square
    matrices) with as many rows as ``b``. A vector ``b`` with a stack of matrices ``a`` is refused: scipy takes
    it as a vector for each matrix, a cotangent shaped like the result would be read as a matrix."""
    a_shape, b_shape = np.shape(a), np.shape(b)
    if len(a_shape) < 2 or a_shape[-1] != a_shape[-2] or not b_shape \
            or b_shape[-2 if len(b_shape) >= 2 else 0] != a_shape[-1]:
        raise UnsupportedValueError(f"{fn} is differentiated for a square matrix (n, n) and a right-hand side of n "
                                  f"rows, not for shapes {a_shape} and {b_shape}")
    if len(b_shape) == 1 and len(a_shape) > 2:
        raise UnsupportedValueError(f"{fn} with a stack of matrices {a_shape} and a vector {b_shape} is not "
                                  f"differentiated: pass the vector as a column, b[:, None]")
    return a


def transposes(trans):
    """Whether scipy.linalg.solve_triangular's ``trans`` (0, 1, 2, 'N', 'T', 'C') or solve's ``transposed``
    solves with the transpose (real matrices: 'C' is 'T')."""
    if isinstance(trans, str):
        return trans.upper() in ("T", "C")
    return bool(trans)


def flipped(trans):
    """The ``trans`` (1 or 0) that solves with the transpose of what ``trans`` solves with."""
    return 0 if transposes(trans) else 1


def transposed_if(m, trans):
    """``m`` transposed (its last two axes) where ``trans`` transposes, else ``m``."""
    return np.swapaxes(m, -1, -2) if transposes(trans) else m


def triangular_part(m, lower=False, unit_diagonal=False):
    """The triangle of ``m`` that scipy.linalg.solve_triangular reads (without the diagonal for ``unit_diagonal``)."""
    if lower:
        return np.tril(m, -1 if unit_diagonal else 0)
    return np.triu(m, 1 if unit_diagonal else 0)


_STRUCTURES = {None: "general", "gen": "general", "general": "general", "diagonal": "diagonal",
               "tridiagonal": "tridiagonal", "upper triangular": "upper", "lower triangular": "lower",
               "sym": "symmetric", "symmetric": "symmetric", "pos": "symmetric", "positive definite": "symmetric",
               "her": "symmetric", "hermitian": "symmetric"}


def _structure(assume_a, fn):
    kind = _STRUCTURES.get(assume_a) if isinstance(assume_a, (str, type(None))) else None
    if kind is None or (kind == "diagonal" and fn == "scipy.linalg.inv"):   # inv's 'diagonal' keeps a's other entries
        raise UnsupportedValueError(f"{fn}(..., assume_a={assume_a!r}) is not differentiated")
    return kind


def structured(a, assume_a=None, lower=False, fn="scipy.linalg.solve"):
    """The matrix scipy.linalg.solve (or inv) works with for ``assume_a``: the entries it reads of ``a``, a
    symmetric matrix from the triangle ``lower`` says for 'sym' and 'pos'."""
    kind = _structure(assume_a, fn)
    if kind == "general":
        return a
    if kind == "symmetric":
        return from_triangle(a, uplo(lower))
    return _band(a, kind)


def structured_grad(s, assume_a=None, lower=False, fn="scipy.linalg.solve"):
    """Adjoint of ``structured``: ``s`` onto the entries of ``a`` read."""
    kind = _structure(assume_a, fn)
    if kind == "general":
        return s
    if kind == "symmetric":
        return to_triangle(s, uplo(lower))
    return _band(s, kind)


def _band(m, kind):
    below, above = {"diagonal": (0, 0), "tridiagonal": (1, 1), "upper": (0, None), "lower": (None, 0)}[kind]
    if below is not None:
        m = np.triu(m, -below)
    if above is not None:
        m = np.tril(m, above)
    return m


def uplo(lower):
    """``from_triangle``'s and ``to_triangle``'s name for the triangle scipy's ``lower`` flag means."""
    return "L" if lower else "U"


def lower_factor(c, lower=False):
    """The lower-triangular Cholesky factor ``L`` held in ``c`` (cholesky's result, or cho_factor's, whose
    other triangle holds what was in ``a``): ``c``'s lower triangle, or its upper triangle transposed."""
    return np.tril(c) if lower else np.tril(np.swapaxes(c, -1, -2))


def factor_placed(h, lower=False):
    """Adjoint of ``lower_factor``: ``h``'s lower triangle where ``c`` holds the factor."""
    return np.tril(h) if lower else np.swapaxes(np.tril(h), -1, -2)


def off_factor(c, lower=False):
    """The triangle of cho_factor's ``c`` that does not hold the factor (without the diagonal)."""
    return np.triu(c, 1) if lower else np.tril(c, -1)


def lower_half(x):
    """The lower triangle of ``x`` with its diagonal halved (the Cholesky factor's derivative takes it)."""
    t = np.tril(x)
    return t - 0.5 * (t * np.eye(np.shape(x)[-1], dtype=bool))


def frechet_blocks(a, e):
    """``[[a, e], [0, a]]``: its exponential is ``[[expm(a), L], [0, expm(a)]]``, ``L`` the derivative of expm
    at ``a`` along ``e`` (the Fréchet derivative; Higham, Functions of Matrices, 3.1)."""
    a, e = np.asarray(a), np.asarray(e)
    n = a.shape[-1]
    out = np.zeros(np.broadcast_shapes(a.shape, e.shape)[:-2] + (2 * n, 2 * n), np.result_type(a, e))
    out[..., :n, :n] = a
    out[..., n:, n:] = a
    out[..., :n, n:] = e
    return out


def upper_right(m):
    """The block ``L`` of ``[[A, L], [0, B]]``."""
    n = np.shape(m)[-1] // 2
    return m[..., :n, n:]


def block_trace(m):
    """``A + B`` from ``[[A, L], [0, B]]`` (adjoint of ``a -> frechet_blocks(a, 0)``)."""
    n = np.shape(m)[-1] // 2
    return m[..., :n, :n] + m[..., n:, n:]


def signal_pads(in1, in2, mode="full", axes=None):
    """The pad widths that put a cotangent of ``scipy.signal.convolve(in1, in2, mode)`` (or correlate,
    fftconvolve, oaconvolve) where its entries are in the full result, zeros elsewhere."""
    s1, s2 = np.shape(in1), np.shape(in2)
    if axes is not None and sorted(int(k) % max(len(s1), 1) for k in np.atleast_1d(axes)) != list(range(len(s1))):
        raise UnsupportedValueError(f"scipy.signal.fftconvolve/oaconvolve(..., axes={axes!r}) is differentiated in "
                                  f"reverse mode only over all axes (axes=None)")
    if mode not in ("full", "valid", "same") or len(s1) != len(s2):
        raise UnsupportedValueError(f"scipy.signal convolution of shapes {s1} and {s2} in mode {mode!r}")
    pads = []
    for n, m in zip(s1, s2):
        full = n + m - 1
        if mode == "full":
            start, length = 0, full
        elif mode == "valid":
            start, length = min(n, m) - 1, abs(n - m) + 1
        else:                                           # "same": centred, in1's size
            start, length = (full - n) // 2, n
        pads.append((start, full - start - length))
    return tuple(pads)

# --- helpers differentiated from their source ------------------------------------------------------------
# These have no rules of their own: they are written from primitives that have rules, and rules/linalg.py marks
# them (calls.SOURCE_MARK) so that the compiler differentiates them like a user's function. Derivatives of
# derivatives (hvp, grad of grad) through the rules that call them then need nothing more.
def matrix_power_tangent(t, a, n):
    """Tangent of ``np.linalg.matrix_power(a, n)`` along ``t``: the sum of a^k t a^(n-1-k); for n < 0, that of
    inv(a)^(-n) along inv(a)'s tangent -inv(a) t inv(a)."""
    if n < 0:
        a = np.linalg.inv(a)
        t = -(a @ t @ a)
        n = -n
    d = 0.0 * t
    p = np.eye(np.shape(a)[-1], dtype=np.result_type(a, t))
    for _ in range(n):                         # d_(k+1) = d_k a + a^k t
        d = d @ a + p @ t
        p = p @ a
    return d


def matrix_power_grad(g, a, n):
    """Adjoint of ``np.linalg.matrix_power(a, n)``: the tangent map's transpose (a^T for a; for n < 0 also the
    transposed tangent of the inverse)."""
    if n < 0:
        b = np.swapaxes(np.linalg.inv(a), -1, -2)
        return -(b @ matrix_power_tangent(g, b, -n) @ b)
    return matrix_power_tangent(g, np.swapaxes(a, -1, -2), n)


def norm_axes(x, ord=None, axis=None):
    """``(matrix, axes)`` of ``np.linalg.norm(x, ord, axis)``: whether it is a matrix norm, and the axes it reduces
    (a pair (rows, columns) for a matrix norm, as NumPy reads them; None: all of them, flattened)."""
    if np.iscomplexobj(x):
        raise UnsupportedValueError("s2sad: the derivative of np.linalg.norm of a complex array is not supported "
                                  "(write np.sqrt(np.sum(np.abs(z) ** 2)) for its 2-norm)")
    ndim = np.ndim(x)
    if axis is None:
        if ndim == 2 and ord is not None:
            return True, (0, 1)
        return False, None
    if isinstance(axis, (tuple, list)) and len(axis) == 2:
        return True, (axis[0] % ndim, axis[1] % ndim)
    if isinstance(axis, (tuple, list)):
        return False, (axis[0] % ndim,)
    return False, (axis % ndim,)


def _svd_last(xm, which):
    """``(u, vh)`` of ``xm``'s thin SVD, cut to the singular vectors ``which`` picks ("all", "first", "last")."""
    u, s, vh = np.linalg.svd(xm, full_matrices=False)
    if which == "first":
        return u[..., :, :1], vh[..., :1, :]
    if which == "last":
        return u[..., :, -1:], vh[..., -1:, :]
    return u, vh


def norm_grad_any(g, ans, x, ord=None, axis=None, keepdims=False):
    """Adjoint of ``np.linalg.norm(x, ord, axis, keepdims)`` for every ``ord``, where the norm is differentiable.
    Vector norms: 2 (x / n), 1 (sign x), inf and -inf (sign x on the entries that attain the norm, ties shared),
    0 (a count: flat), any other p (sign x (|x| / n)^(p-1)). Matrix norms: 'fro' (x / n), 'nuc' (U V'), 2 and -2
    (the largest or smallest singular value: u v' of its vectors), 1, -1, inf, -inf (sign x on the columns or rows
    whose sum of |x| attains the norm)."""
    matrix, axes = norm_axes(x, ord, axis)
    g_full = unreduce(g, x, axes, keepdims)
    n_full = unreduce(ans, x, axes, keepdims)
    if ord is None or ord == 2 and not matrix or ord == "fro":
        zero = n_full == 0
        return np.where(zero, 0.0, g_full * x / np.where(zero, 1.0, n_full))
    if matrix and (ord == "nuc" or ord == 2 or ord == -2):
        which = "all" if ord == "nuc" else "first" if ord == 2 else "last"
        xm = np.moveaxis(x, axes, (-2, -1))
        u, vh = _svd_last(xm, which)
        gb = np.reshape(g, np.shape(xm)[:-2])
        return np.moveaxis(gb[..., None, None] * (u @ vh), (-2, -1), axes)
    if matrix:
        if ord == 1 or ord == -1:
            sums, across = np.sum(np.abs(x), axis=axes[0], keepdims=True), axes[1]
        else:
            sums, across = np.sum(np.abs(x), axis=axes[1], keepdims=True), axes[0]
        signs = np.where(sums == n_full, np.sign(x), 0.0)
        count = np.sum(sums == n_full, axis=across, keepdims=True, dtype=np.result_type(signs))
        return g_full * signs / count
    if ord == 1:
        return g_full * np.sign(x)
    if ord == 0:
        return 0.0 * g_full * x
    if ord == np.inf or ord == -np.inf:
        attained = np.abs(x) == n_full
        count = np.sum(attained, axis=axes, keepdims=True, dtype=np.result_type(x, 1.0))
        return g_full * np.where(attained, np.sign(x), 0.0) / count
    zero = n_full == 0
    return np.where(zero, 0.0, g_full * np.sign(x) * (np.abs(x) / np.where(zero, 1.0, n_full)) ** (ord - 1))


def norm_tangent_any(t, ans, x, ord=None, axis=None, keepdims=False):
    """Tangent of ``np.linalg.norm(x, ord, axis, keepdims)`` along ``t``: ``norm_grad_any``'s weights contracted
    with it."""
    matrix, axes = norm_axes(x, ord, axis)
    weights = norm_grad_any(np.ones_like(ans), ans, x, ord, axis, keepdims)
    return np.sum(weights * t, axis=axes, keepdims=keepdims)


# Complex intermediates. A cotangent follows JAX's convention: for a real loss L, the cotangent of a complex value
# z = a + ib is dL/da - i dL/db, so that dL = Re(z_bar * dz). A complex-linear map's adjoint is then its plain
# transpose (no conjugate), and a holomorphic function's rule is g * f'(z), the same as for reals. The cotangent of
# a real value may carry an imaginary part that means nothing (x * h with h complex gives one): its real part is
# the derivative, so every rule from a complex argument to a real result reads np.real(g), and a rule whose
# argument is real returns a real adjoint (real_like).
def real_like(z, x):
    """The adjoint ``z`` of an argument ``x``: its real part when ``x`` is real."""
    if np.iscomplexobj(x):
        return z
    return np.real(z)


def fft_axes(a, axes=None, s=None):
    """The axes (non-negative) an FFT of ``a`` transforms: ``axes``, or the last len(s) axes, or all of them."""
    ndim = np.ndim(a)
    if axes is None:
        axes = range(ndim - len(s), ndim) if s is not None else range(ndim)
    elif isinstance(axes, (int, np.integer)):
        axes = (axes,)
    return tuple(int(i) % ndim for i in axes)


def lengths_of(a, axes):
    """``a``'s lengths along ``axes``."""
    return tuple(np.shape(a)[i] for i in axes)


def fft_resized(z, lengths, axes):
    """``z`` cut or padded with zeros at the end to ``lengths`` along ``axes``: the adjoint of the way an FFT's ``n``
    (or ``s``) cuts or pads its argument."""
    for length, axis in zip(lengths, axes):
        have = np.shape(z)[axis]
        if have > length:
            z = np.take(z, np.arange(length), axis=axis)
        if have < length:
            z = np.pad(z, fft_pads(np.ndim(z), axis, length - have))
    return z


def rfftn_grad(g, a, s, along, norm):
    """The adjoint of ``np.fft.rfftn(a, s, along, norm)`` (also rfft2's): that of ``fftn`` along all but the last
    axis, then that of ``rfft`` along the last."""
    inner = fft_resized(np.fft.fftn(g, None, along[:-1], norm), lengths_of(a, along[:-1]), along[:-1])
    full = np.fft.fft(fft_resized(inner, rfft_length(a, s[-1] if s else None, along[-1]), along[-1:]), None, along[-1],
                      norm)
    return np.real(fft_resized(full, lengths_of(a, along[-1:]), along[-1:]))


def irfftn_grad(g, a, s, along, norm):
    """The adjoint of ``np.fft.irfftn(a, s, along, norm)`` (also irfft2's): that of ``irfft`` along the last axis,
    then that of ``ifftn`` along the others."""
    length, w = irfft_weights(a, s[-1] if s else None, along[-1])
    half = fft_resized(np.fft.ifft(np.real(g), None, along[-1], norm), (length // 2 + 1,), along[-1:])
    inner = fft_resized(w * half, lengths_of(a, along[-1:]), along[-1:])
    return real_like(fft_resized(np.fft.ifftn(inner, None, along[:-1], norm), lengths_of(a, along[:-1]), along[:-1]), a)


def fft_pads(ndim, axis, extra):
    """np.pad's widths that add ``extra`` zeros at the end of ``axis``."""
    return tuple((0, extra) if i == axis else (0, 0) for i in range(ndim))


def rfft_length(a, n=None, axis=-1):
    """``(n,)``: the length of the signal ``np.fft.rfft(a, n, axis)`` transforms."""
    return (np.shape(a)[int(axis) % np.ndim(a)] if n is None else int(n),)


def irfft_weights(c, n=None, axis=-1):
    """``(n, w)`` of ``np.fft.irfft(c, n, axis)``: its output length, and the weights (1, 2, ..., 2, and 1 at n/2
    for an even n) of the n // 2 + 1 entries of the half spectrum it reads, shaped to multiply along ``axis``."""
    ndim = np.ndim(c)
    axis = int(axis) % ndim
    n = 2 * (np.shape(c)[axis] - 1) if n is None else int(n)
    w = np.full(n // 2 + 1, 2.0, dtype=np.finfo(np.result_type(c, 1.0)).dtype)    # float32 for complex64
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return n, np.reshape(w, tuple(-1 if i == axis else 1 for i in range(ndim)))


def angle_unit(deg=False):
    """np.angle's unit: 1 for radians, 180 / pi for degrees."""
    return 180.0 / math.pi if deg else 1.0


def conj_sign(x, ans):
    """d|x| / dx as a cotangent: conj(x) / |x| for complex ``x`` (``ans`` = |x|; 0 at 0), np.sign(x) for real ``x``
    (which keeps a real second derivative exactly 0)."""
    if np.iscomplexobj(x):
        return np.conj(x) / np.where(ans == 0, 1.0, ans)
    return np.sign(x)


def real_zero(a, what):
    """The zero derivative of a function constant on real values (np.sign), refusing a complex ``a``."""
    return zeros_like(real_only(a, what))


def rule_shaped(value, like, message="a rule gave {shape} where {like} was due"):
    """A user rule's adjoint of an argument (tangent of the result) ``value``, which must have the shape of ``like``
    (the argument, the result): another shape is the rule's mistake, which NumPy would broadcast into a wrong
    derivative. ``message`` names the rule and the user's line; ``{shape}`` and ``{like}`` in it are filled in."""
    if value is not None and (type(like) in (np.ndarray, ShapeOf, float, int) or isinstance(like, np.generic)):
        shape, like_shape = np.shape(value), like.shape if type(like) is ShapeOf else np.shape(like)
        if shape != like_shape:
            from .errors import TransformError
            raise TransformError.from_message(message.replace("{shape}", str(shape)).replace("{like}", str(like_shape)))
    return value


def real_only(a, what):
    """``a``, refusing a complex array: ``what``'s rule holds for real arguments only."""
    if np.iscomplexobj(a):
        from .errors import UnsupportedValueError
        raise UnsupportedValueError(f"s2sad: the derivative of {what} of a complex value is not supported")
    return a


def distinct(grads):
    """The gradients of several arguments (a tuple), none sharing memory with another (``a + b``'s are one array
    in the generated code: a change in place of one, ``g *= lr``, would change the other)."""
    seen, out = [], []
    for g in grads:
        if isinstance(g, np.ndarray):
            if any(g is s or (g.base is not None or s.base is not None) and np.may_share_memory(g, s) for s in seen):
                g = g.copy()
            seen.append(g)
        out.append(g)
    return tuple(out)


def scipy_value(value, dist, method, args):
    """``value``, s2sad's definition of ``scipy.stats.<dist>.<method>(*args)`` (rules/scipy_stats.py), where scipy
    gives the same; refused where it does not (a point outside the support, a non-integer count, an invalid
    parameter: scipy's checks, which the definitions, written for their derivatives, leave out)."""
    import scipy.stats
    want = getattr(getattr(scipy.stats, dist), method)(*args)
    got = np.asarray(value)
    if np.shape(got) == np.shape(want):
        with np.errstate(invalid="ignore"):
            same = (got == want) | np.isclose(got, want, rtol=1e-6, atol=1e-12) | np.isnan(got) & np.isnan(want)
        if np.all(same):
            return value
    from .errors import UnsupportedValueError
    raise UnsupportedValueError(
        f"s2sad: scipy.stats.{dist}.{method} is differentiated where scipy's checks pass (inside the support, valid "
        f"parameters, the shapes it takes); here scipy gives {np.asarray(want).ravel()[:3].tolist()}, the "
        f"definition {got.ravel()[:3].tolist()}")


def an_object(x, refusal):
    """Before ``r.take(x, ...)`` where what ``r`` holds is not known when the code is made (analysis/effects
    .check_methods): ``r`` is no module or class (``xp = np``), whose ``take`` takes the array as an argument."""
    if isinstance(x, (types.ModuleType, type)):
        raise UnsupportedSyntaxError.from_message(refusal)


def same_length(x, idx, v, refusal):
    """Before ``x[a:b] = v``: the same number of items in and out where ``x`` is a list (an array's slice keeps its
    shape); a list made longer or shorter is refused (its items' derivatives would be read from other places)."""
    if isinstance(x, list) and isinstance(idx, slice) and len(range(*idx.indices(len(x)))) != len(v):
        raise UnsupportedSyntaxError.from_message(refusal)


def a_list(value, container, refusal):
    """Before ``c[k].append(v)``, computed as ``c[k] += [v]`` (front/normalize.py): ``value`` (``c[k]``) is a list
    and ``container`` (``c``) a list or dict, for which the two are the same; anything else is refused."""
    if type(value) is not list or not isinstance(container, (list, dict)):
        raise UnsupportedSyntaxError.from_message(refusal, f" (here a {type(container).__name__} holds a "
                                                           f"{type(value).__name__})")


def alone_in(value, refusal, names, container):
    """Before ``c[i] op= e`` that the transform computes as ``c[i] = c[i] op e`` (``value`` is ``c[i]``): the same
    when the item is immutable (a number), when ``c`` is an array (the update is a write into it), or when no
    other item of the list or dict ``c`` holds ``value`` or memory of it; not when one does (Python changes the
    object in place, and that item sees it: ``buf = [np.zeros(3)] * 2; buf[0] += x``)."""
    if value is None or isinstance(value, (int, float, complex, np.generic, tuple, str, bytes)) \
            or isinstance(container, np.ndarray):
        return
    items = container.values() if isinstance(container, dict) else container
    if isinstance(items, (list, tuple, type({}.values()))) and sum(_reaches(o, value) for o in items) <= 1:
        return
    raise UnsupportedSyntaxError.from_message(refusal, f" (here it holds {_describe(value)})")


def item_unshared(value, refusal, names, container, *others):
    """Before ``c[i] op= e`` (``value`` is ``c[i]``; ``names``: the user's names of ``c`` and of ``others``): as
    ``unshared`` for ``others`` (none given: the update must not change an object at all), unless ``c`` is an array
    when the code runs (the update is then a write into it, which every other holder of its memory sees in both
    readings)."""
    if isinstance(container, np.ndarray):
        return
    if not others:
        return unshared(value, refusal)
    return unshared(value, refusal, tuple(names)[1:], *others)


def remainder_grad(g, ans):
    """The adjoint of ``r`` in ``q, r = divmod(x, y)`` (``g`` the pair's; an output nothing reads has None): ``r = x
    - y * q`` with ``q`` piecewise constant, so only ``r``'s flows on."""
    gr = g[1] if isinstance(g, (tuple, list)) else None
    return 0.0 * ans[1] if gr is None else gr


def numpy_method(obj, name):
    """Before a method call the transform differentiates with NumPy's rule (``g.mean()`` as ``np.mean(g)``), where it
    could not tell ``g``'s type: an object whose class defines the method itself is refused (its method is not
    NumPy's, and its derivative is not NumPy's rule)."""
    if obj is None or isinstance(obj, (np.ndarray, np.generic, int, float, complex, list, tuple, dict, str)):
        return
    if (getattr(type(obj), "__module__", "") or "").split(".")[0] in ("numpy", "builtins", "scipy"):
        return
    from .errors import UnsupportedValueError
    raise UnsupportedValueError(f"s2sad: `.{name}()` of a {type(obj).__name__} is its own method, which s2sad took for "
                                f"NumPy's array method; rename it (or call it as a function of its fields)")


def underived(what):
    """What a rule returns for an argument whose derivative s2sad does not have (``scipy.special.jv``'s order): the
    transform refuses the call at the user's line where that argument is differentiated (reverse/adjoints.py
    ``refuse_underived``), so this only runs in a rule called by hand."""
    raise UnsupportedValueError(f"s2sad: no derivative with respect to {what}")
