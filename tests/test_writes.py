"""Writes into arrays, lists and dicts on the differentiated path (``out[i] = x[i] ** 2``, ``y[1:3] += x[0]``,
``M[0] = x``, masks, integer-array indices, ``h[t] = ...`` in a loop, ``d[k] = v``).

The backward sweep gives the written value the part of the array's adjoint it landed in, zeroes that part
(the overwritten values got no further), and puts the overwritten values back where it needs them; forward
mode writes the tangent in the same place of a tangent buffer of its own. Each program is checked against
central differences, forward against reverse, second derivatives, a pullback run twice, and a twin
written without writes (an independent route)."""
import bisect
import heapq

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads

from . import regression_programs

X = np.array([0.3, -0.8, 1.1, 0.45])


def fill(x):
    out = np.zeros(4)
    for i in range(4):
        out[i] = x[i] ** 2
    return np.sum(out * x)


def fill_twin(x):
    return np.sum(x ** 3)


def copy_then_slice_add(x):
    y = x.copy()
    y[1:3] += x[0]
    return np.sum(y * y)


def copy_then_slice_add_twin(x):
    y = np.concatenate([x[:1], x[1:3] + x[0], x[3:]])
    return np.sum(y * y)


def rows_written(x):
    M = np.zeros((2, 4))
    M[0] = x
    M[1] = np.sin(x)
    return np.sum(M @ x)


def rows_written_twin(x):
    return np.sum(np.stack([x, np.sin(x)]) @ x)


def buffer_then_read(x):
    buf = np.ones(3)
    buf[2] = x[0]
    return buf[2] * x[1] + np.sum(buf)


def buffer_then_read_twin(x):
    return x[0] * x[1] + 2.0 + x[0]


def recurrence_in_rows(x):
    h = np.zeros((5, 4))
    h[0] = x
    for t in range(1, 5):
        h[t] = np.tanh(h[t - 1] * 1.5 + 0.1)
    return np.sum(h[4] * h[2])


def recurrence_in_rows_twin(x):
    hs = [x]
    for t in range(1, 5):
        hs.append(np.tanh(hs[-1] * 1.5 + 0.1))
    return np.sum(hs[4] * hs[2])


def read_then_overwritten(x):
    y = x.copy()
    s = y[0] * y[0]
    y[0] = 3.0 * x[1]
    return s + y[0] * y[1]


def read_then_overwritten_twin(x):
    return x[0] * x[0] + 3.0 * x[1] * x[1]


def overwritten_each_iteration(x):
    y = x * 1.0
    s = 0.0
    for k in range(3):
        s = s + np.sum(y * y)
        y[1] = y[1] * y[2] + 0.5
    return s


def overwritten_each_iteration_twin(x):
    a, b, c, d = x[0], x[1], x[2], x[3]
    s = 0.0
    for k in range(3):
        s = s + a * a + b * b + c * c + d * d
        b = b * c + 0.5
    return s


def mask_and_index_array(x):
    y = x.copy()
    y[y > 0.4] = 0.0
    y[np.array([0, 2])] = x[1:3] * 2.0
    return np.sum(y * x)


def mask_and_index_array_twin(x):
    y = np.where(x > 0.4, 0.0, x)
    y = np.array([2.0 * x[1], y[1], 2.0 * x[2], y[3]])
    return np.sum(y * x)


def list_and_dict(x):
    values = [0.0, 0.0, 0.0]
    table = {}
    for i in range(3):
        values[i] = x[i] * x[i + 1]
        table[i] = values[i] + 1.0
    table[0] = table[1] * table[2]
    return values[0] + values[2] * table[0] + table[1]


def list_and_dict_twin(x):
    v0, v1, v2 = x[0] * x[1], x[1] * x[2], x[2] * x[3]
    t0 = (v1 + 1.0) * (v2 + 1.0)
    return v0 + v2 * t0 + v1 + 1.0


def augmented_elements(x):
    acc = np.zeros(2)
    for i in range(4):
        acc[i % 2] += x[i] * x[i]
    return acc[0] * acc[1]


def augmented_elements_twin(x):
    return (x[0] ** 2 + x[2] ** 2) * (x[1] ** 2 + x[3] ** 2)


def written_in_a_branch(x):
    y = x * 2.0
    if x[0] > 0:
        y[1:] = y[:-1] * x[1:]
    return np.sum(y ** 2)


def written_in_a_branch_twin(x):
    y = x * 2.0
    if x[0] > 0:
        y = np.concatenate([y[:1], y[:-1] * x[1:]])
    return np.sum(y ** 2)


def alias_read_before_the_write(x):
    y = x * 1.0
    z = y                          # the same array, read only before it changes
    s = np.sum(z * z)
    y[0] = 2.0 * x[3]
    return s + np.sum(y)


def alias_read_before_the_write_twin(x):
    return np.sum(x * x) + 2.0 * x[3] + x[1] + x[2] + x[3]


PAIRS = [(fill, fill_twin), (copy_then_slice_add, copy_then_slice_add_twin), (rows_written, rows_written_twin),
         (buffer_then_read, buffer_then_read_twin), (recurrence_in_rows, recurrence_in_rows_twin),
         (read_then_overwritten, read_then_overwritten_twin),
         (overwritten_each_iteration, overwritten_each_iteration_twin),
         (mask_and_index_array, mask_and_index_array_twin), (list_and_dict, list_and_dict_twin),
         (augmented_elements, augmented_elements_twin), (written_in_a_branch, written_in_a_branch_twin),
         (alias_read_before_the_write, alias_read_before_the_write_twin)]


@pytest.mark.parametrize("f, twin", PAIRS, ids=[f.__name__ for f, _ in PAIRS])
def test_writes_against_differences_and_a_twin_without_writes(f, twin):
    assert f(X) == pytest.approx(twin(X), rel=1e-12)
    check_grads(f, (X,), order=2)
    want = s2sad.grad(twin)(X)
    np.testing.assert_allclose(s2sad.grad(f)(X), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s2sad.grad(f, optimize=False)(X), want, rtol=1e-10, atol=1e-12)
    value, pullback = s2sad.vjp(f, X)
    np.testing.assert_allclose(pullback(1.0), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(pullback(2.0), 2.0 * want, rtol=1e-10, atol=1e-12)    # it can run again


def test_the_argument_is_left_as_the_function_leaves_it():
    x = X.copy()
    s2sad.grad(fill)(x)
    np.testing.assert_array_equal(x, X)


def alias_read_after_the_write(x):
    y = x * 1.0
    z = y
    y[0] = 3.0 * x[1]
    return np.sum(z * x)               # z sees the write: its adjoint would miss the written value


def alias_written_in_a_loop(x):
    y = x * 1.0
    z = y
    for k in range(2):
        y[k] = 3.0 * x[k + 1]
    return np.sum(z * x)


def test_a_write_through_one_of_two_names_is_followed():
    """``z = y; y[0] = v``: z reads the written array afterwards (effects.follow_copies); in a loop: refused."""
    check_grads(alias_read_after_the_write, (X.copy(),), order=2)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="`y` is changed in place while `z` may hold the same"):
        s2sad.grad(alias_written_in_a_loop)(X.copy())


def writes_into_an_argument(x, buf):
    buf[0] = x[0] * 2.0
    return np.sum(buf * x)


def writes_into_a_global(x):
    TABLE[0] = x[0]
    return np.sum(TABLE * x)


TABLE = np.zeros(4)


def writes_a_row_of_a_row(x):
    M = np.zeros((2, 4))
    M[0][1] = x[0]
    return np.sum(M)


def writes_twice_through_an_index_array(x):
    y = np.zeros(4)
    y[np.array([1, 1])] = x[:2]
    return np.sum(y * x)


def writes_into_an_integer_array(x):
    counts = np.zeros(4, dtype=int)
    counts[0] = x[0] * 10.0
    return np.sum(counts * x)


def scattered_with_ufunc_at(x):                 # np.add.at writes into y even when y is read-only
    y = np.zeros(4)
    np.add.at(y, [0, 0, 2], x[:3])
    return np.sum(y ** 2)


def scattered_into_a_copy(x):
    y = x * 1.0
    np.subtract.at(y, [1, 1], x[:2])
    return np.sum(y ** 2)


def multiplied_with_ufunc_at(x):
    y = x * 1.0
    np.multiply.at(y, [1, 1], x[:2])
    return np.sum(y ** 2)


def ufunc_out_by_position(x):                   # np.multiply(y, 3.0, out=y)
    y = x * 1.0
    np.multiply(y, 3.0, y)
    return np.sum(y ** 2)


def exp_out_by_position(x):
    y = np.zeros(4)
    np.exp(x, y)
    return np.sum(y)


def dot_out_by_position(x):
    y = np.zeros(2)
    np.dot(np.ones((2, 4)), x, y)
    return np.sum(y ** 2)


def cumsum_out_by_position(x):
    y = np.zeros(4)
    np.cumsum(x, 0, None, y)
    return np.sum(y * y)


def sum_method_out_by_position(x):
    M = np.outer(x, x)
    total = np.zeros(4)
    M.sum(0, None, total)
    return np.sum(total * x)


def reduced_into_a_buffer(x):                  # np.add.reduce's `out` by position
    buf = np.zeros(())
    np.add.reduce(x, 0, None, buf)
    return buf * buf


def pushed_on_a_heap(x):
    h = []
    heapq.heappush(h, x[0] * x[1])
    heapq.heappush(h, x[2])
    return h[0] * 2.0


def insorted(x):
    xs = [0.0, 5.0]
    bisect.insort(xs, x[0] * 2.0)
    return xs[1] * xs[1]


def test_a_result_written_in_place_by_a_library_call_is_refused_not_lost():
    """Each of these once gave a number: zero, or a derivative through the write missed (np.add.at writes into
    an array marked read-only; an `out` by position was not seen; heapq and bisect change a list)."""
    for f, message in ((multiplied_with_ufunc_at, "may modify a value being differentiated in place"),
                       (ufunc_out_by_position, "writes into an array in place"),
                       (exp_out_by_position, "writes into an array in place"),
                       (dot_out_by_position, "writes into an array in place"),
                       (cumsum_out_by_position, "writes into an array in place"),
                       (sum_method_out_by_position, "writes into an array in place"),
                       (reduced_into_a_buffer, "writes into an array in place"),
                       (pushed_on_a_heap, "may modify a value being differentiated in place"),
                       (insorted, "may modify a value being differentiated in place")):
        with pytest.raises(s2sad.UnsupportedSyntaxError, match=message) as caught:
            s2sad.grad(f)(X.copy())
        assert "test_writes.py" in str(caught.value), f.__name__          # the user's file and line
        with pytest.raises(s2sad.UnsupportedSyntaxError, match=message):
            s2sad.jvp(f, (X.copy(),), (np.ones(4),))


def test_np_add_at_and_subtract_at_are_followed():
    """np.add.at / np.subtract.at on a name were refused (before that, lost: a zero gradient): each is now the
    write `y[...] = _s2.added_at(y, idx, v)` of a changed copy (front/normalize.written_back)."""
    for f in (scattered_with_ufunc_at, scattered_into_a_copy):
        check_grads(f, (X.copy(),), order=2)


def test_out_of_a_users_function_is_its_own_business():
    """A user's function with a parameter named `out` is differentiated through, not refused by the name."""
    assert s2sad.grad(_uses_out)(X.copy()) == pytest.approx(2.0 * X * 3.0)


def _scaled(v, factor, out):
    return v * factor + out


def _uses_out(x):
    y = _scaled(x, 3.0, 0.0)
    return np.sum(y * x)


@pytest.mark.parametrize("f, args, message", [
    (writes_into_an_argument, (X, np.ones(4)), "changes its argument `buf` in place"),
    (writes_into_a_global, (X,), "writing into `TABLE`, which belongs to the module"),
    (writes_a_row_of_a_row, (X,), "writing into a part of a part"),
])
def test_writes_it_cannot_follow_are_refused(f, args, message):
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        s2sad.grad(f, wrt=0)(*args)
    with pytest.raises(s2sad.UnsupportedSyntaxError):
        s2sad.jvp(f, args, (np.ones(4),) + (None,) * (len(args) - 1))


def test_repeated_positions_and_integer_arrays_are_errors_not_numbers():
    with pytest.raises(s2sad.S2SadError, match="repeats a position"):
        s2sad.grad(writes_twice_through_an_index_array)(X)
    g = s2sad.grad(writes_into_an_integer_array)(X)     # the truncated value carries no derivative, in either mode
    np.testing.assert_allclose(g, [float(int(X[0] * 10.0)), 0.0, 0.0, 0.0])
    t = np.array([1.0, 0.5, -2.0, 3.0])
    assert s2sad.jvp(writes_into_an_integer_array, (X,), (t,))[1] == pytest.approx(g @ t, rel=1e-12)


def test_generated_code_puts_back_what_a_write_overwrote():
    text = s2sad.adjoint_source(read_then_overwritten, args=(X,))
    assert "_s2.item_of(y, 0)" in text and "_s2.put_item(y, 0, " in text
    text = s2sad.adjoint_source(fill, args=(X,), mode="forward")
    assert "out_dot[i] = " in text


def _scales_in_place(t, c):
    t *= c
    return np.sum(t ** 2)


def callee_changes_a_value_read_only_before(x, a):
    b = np.sin(x)
    s = np.sum(b)                    # read before the call: sees b unchanged
    u = _scales_in_place(b, a)
    return u + s


def callee_changes_a_value_read_only_before_twin(x, a):
    b = np.sin(x)
    return np.sum((b * a) ** 2) + np.sum(b)


def callee_changes_a_value_read_after(x, a):
    b = np.sin(x)
    u = _scales_in_place(b, a)
    return u + np.sum(b)             # reads the changed b


def test_a_callee_changing_its_argument_is_refused_only_if_the_caller_reads_it_afterwards():
    x = np.array([0.3, -0.8, 1.1])
    f, twin = callee_changes_a_value_read_only_before, callee_changes_a_value_read_only_before_twin
    assert f(x.copy(), 1.7) == pytest.approx(twin(x, 1.7), rel=1e-14)
    check_grads(f, (x, 1.7), wrt=(0, 1), order=2)
    for got, want in zip(s2sad.grad(f, wrt=(0, 1))(x, 1.7), s2sad.grad(twin, wrt=(0, 1))(x, 1.7)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="changes its argument"):
        s2sad.grad(callee_changes_a_value_read_after)(x, 1.7)


def test_a_helper_writing_into_its_own_buffer_called_in_a_loop():
    """Campaign seed 2000: inlined, the helper's write crashed the caller's backward sweep; now a call."""
    from .regression_programs import fz_helper_writing_into_its_own_buffer as f
    x = np.array([[1.17, 0.62, -0.60], [-0.20, -0.19, 1.38], [-0.06, -0.06, 0.74]])
    check_grads(f, (x,))


def _both_ends_held(x):
    v = x * 2.0
    v[0] = v[-1] = 0.0                  # a chained assignment to two items: the value once, left to right
    return np.sum(v ** 2)


def _one_value_two_arrays(x):
    v = x * 2.0
    w = np.zeros(3)
    v[0] = w[1] = x[0] * x[1]
    return np.sum(v ** 2) + np.sum(w * x)


@pytest.mark.parametrize("f", [_both_ends_held, _one_value_two_arrays])
def test_chained_assignment_to_items(f):
    check_grads(f, (np.arange(1.0, 4.0),), order=2)       # both modes, to second order


def _reshaped_by_its_own_shape(x):
    y = np.zeros_like(x)
    y[0] = x[0]                                 # y written in place, then its shape read: a new tuple, not y
    n = y.shape
    return np.sum(np.reshape(y, (y.size,)) * np.arange(6.0)) + np.sum(np.arange(6.0).reshape(n) * y)


def test_the_shape_of_an_array_written_in_place_is_not_a_view_of_it():
    check_grads(_reshaped_by_its_own_shape, (np.arange(6.0).reshape(2, 3) + 1,), order=2)


# --- `c[i] op= e` on a list or dict holding arrays: Python changes the array object in place -----------------------
def updated_in_a_fresh_list(x):                 # nothing else holds the arrays: the same as c[i] = c[i] - ...
    ps = [x * 1.0, x[:2] * 2.0]
    for i in range(len(ps)):
        ps[i] -= 0.1 * ps[i] ** 2
    return np.sum(ps[0]) + np.sum(ps[1] * ps[1])


def updated_in_a_fresh_list_twin(x):
    a, b = x * 1.0, x[:2] * 2.0
    return np.sum(a - 0.1 * a ** 2) + np.sum((b - 0.1 * b ** 2) ** 2)


def updated_in_a_dict(x):
    d = {"a": x * 1.0, "b": x * 2.0}
    for k in ("a", "b"):
        d[k] += x
    return np.sum(d["a"] * d["b"])


def updated_in_a_dict_twin(x):
    return np.sum((x + x) * (2.0 * x + x))


def updated_while_another_name_holds_it(x):    # Python: M doubles too
    M = x * 1.0
    rows = [M]
    rows[0] *= 2.0
    return np.sum(M)


def updated_while_the_list_keeps_a_view(x):
    M = x * 1.0
    rows = [M[0:2]]
    rows[0] *= 2.0
    return np.sum(M)


def updated_while_another_item_holds_it(x):    # [a] * 2: both items are one array
    buf = [np.zeros(4)] * 2
    buf[0] += x
    return np.sum(buf[1] * x)


def updated_while_another_item_holds_it_read_whole(x):
    buf = [np.zeros(4)] * 2
    buf[0] += x
    return np.sum(np.stack(buf) * x)


def test_an_item_updated_in_place_is_differentiated_where_nothing_else_holds_it():
    for f, twin in ((updated_in_a_fresh_list, updated_in_a_fresh_list_twin), (updated_in_a_dict, updated_in_a_dict_twin)):
        value, g = s2sad.value_and_grad(f)(X.copy())
        assert value == pytest.approx(f(X.copy())) == pytest.approx(twin(X.copy()))
        np.testing.assert_allclose(g, s2sad.grad(twin)(X.copy()), rtol=1e-12)
        check_grads(f, (X.copy(),))


def test_an_item_updated_in_place_while_something_else_holds_it_is_refused():
    """Python changes the array object, which the other holder sees; s2sad would compute a new array (these
    gave a wrong value and gradient, silently). Another name (or a temporary reading another item): refused
    by the points-to analysis, checked where the code runs when the container may be an array; another item of
    the same list read through the list itself: checked where the code runs (runtime.alone_in)."""
    for f, message in ((updated_while_another_name_holds_it, r"`rows\[0\] \*=` would change `M` too"),
                       (updated_while_the_list_keeps_a_view, r"`rows\[0\] \*=` would change `M` too"),
                       (updated_while_another_item_holds_it, "another item of `buf` holds it too|"
                                                             r"`buf\[0\] \+=` would change `buf\[1\]` too"),
                       (updated_while_another_item_holds_it_read_whole, "another item of `buf` holds it too")):
        with pytest.raises(s2sad.UnsupportedSyntaxError, match=message) as caught:
            s2sad.grad(f)(X.copy())
        assert "test_writes.py" in str(caught.value)
    from s2sad import runtime                    # the check where the code runs, on its own
    z, w = np.zeros(3), np.ones(3)
    runtime.alone_in(z, "refused", ("buf",), [z, w])
    runtime.alone_in(z, "refused", ("buf",), {"a": z, "b": z.copy()})
    runtime.alone_in(z, "refused", ("buf",), np.zeros((2, 3)))        # an array's row: a write into it
    runtime.alone_in(1.5, "refused", ("buf",), [1.5, 1.5])            # a number is never changed in place
    for shared in ([z, z], [z, z[1:]], {"a": z, "b": z.reshape(3, 1)}):
        with pytest.raises(s2sad.UnsupportedSyntaxError, match="refused"):
            runtime.alone_in(z, "refused", ("buf",), shared)


# --- a copy made by list() / sorted() / dict() is a new container: writing into it changes no argument --------------
def written_into_a_list_copy(xs):
    ys = list(xs)
    ys[0] += ys[1] * 2.0
    ys.append(xs[0] * 3.0)
    return ys[0] * ys[2] + ys[-1]


def written_into_a_list_copy_twin(xs):
    return (xs[0] + xs[1] * 2.0) * xs[2] + xs[0] * 3.0


def rows_of_an_array_updated_in_place(x):       # list(x) of a 2-d array: its rows are views of x
    rows = list(x)
    rows[0] *= 2.0
    return np.sum(rows[0]) + np.sum(x)


def test_a_list_copy_is_written_into_and_its_items_stay_shared():
    """`ys = list(xs)` (the hint of the "changes its argument" refusal) was refused as changing `xs`."""
    for xs in ([0.3, -0.7, 1.1], X[:3].copy()):
        value, g = s2sad.value_and_grad(written_into_a_list_copy)(xs)
        assert value == pytest.approx(written_into_a_list_copy_twin(xs))
        np.testing.assert_allclose(np.asarray(g), np.asarray(s2sad.grad(written_into_a_list_copy_twin)(xs)), rtol=1e-12)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"`rows\[0\] \*=` would change `x` too"):
        s2sad.grad(rows_of_an_array_updated_in_place)(np.arange(4.0).reshape(2, 2))


# --- a function defined inside sees the enclosing function's globals when its changes are looked for ----------------
def nested_force_builds_its_own_array(x0, v0):
    def force(y):
        f = np.zeros_like(y)                    # a new array (np resolved as the enclosing function sees it)
        f[1:] -= y[1:] - y[:-1]
        f[:-1] += y[1:] - y[:-1]
        return f
    x, v = x0, v0
    for _ in range(5):
        v = v + 0.1 * force(x)
        x = x + 0.1 * v
    return np.sum(x ** 2)


def nested_helper_changes_its_argument(x0):
    def bump(y):
        z = np.asarray(y)                       # a view: the change reaches the caller's array
        z += 1.0
        return np.sum(z)
    x = x0 * 1.0
    s = bump(x)
    return s * np.sum(x)


def test_a_nested_helper_building_a_new_array_is_differentiated_and_one_changing_its_argument_refused():
    x0, v0 = np.array([0.3, -0.7, 1.1, 0.2]), np.zeros(4)
    check_grads(nested_force_builds_its_own_array, (x0, v0), wrt=(0, 1))
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="changes its argument `y` in place"):
        s2sad.grad(nested_helper_changes_its_argument)(x0)


def _written_through_a_stopped_name(x):
    y = s2sad.stop_gradient(x)
    y[0] = 5.0                                           # x[0] too: stop_gradient returns x itself
    return np.sum(x ** 3)


def _stopped_and_copied(x):
    y = s2sad.stop_gradient(x).copy()
    y[0] = 5.0
    return np.sum(x ** 3) + np.sum(y)


def test_stop_gradient_returns_the_same_object():
    """A write through `stop_gradient(x)`'s name changes `x` in Python: refused like `y = x` (the gradient was
    3 x0^2 for 0, found by a probe); a copy of it may be written."""
    x = np.array([0.5, -1.0, 2.0])
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="changes its argument `x` in place"):
        s2sad.grad(_written_through_a_stopped_name)(x.copy())
    np.testing.assert_allclose(s2sad.grad(_stopped_and_copied)(x.copy()), 3 * x ** 2, rtol=1e-14)


def test_copies_made_by_array_methods_may_be_written():
    """`y = x.astype(float)`, `z = x.flatten()` then written: copies of `x` (taken for aliases of it: refused).
    (Their second derivatives are still refused: the callee analysis of tangent code knows no kinds.)"""
    f = regression_programs.copies_by_method
    x = np.array([0.5, -1.0, 2.0])
    want = np.array([4.0, 20 * x[1] + 1.0, 2 * x[2] + 2.0])      # 10 x1^2 + x2^2 + (3 x0 + x2) + sum(x)
    np.testing.assert_allclose(s2sad.grad(f)(x), want, rtol=1e-14)
    assert s2sad.jvp(f, (x,), (np.ones(3),))[1] == pytest.approx(want.sum(), rel=1e-14)


def _written_through_a_view_method(p):
    x = p * 2.0
    y = x.view()
    y[1] = p[0] ** 3
    return np.sum(x * p)


def test_a_view_made_by_the_view_method_is_an_alias():
    """`y = x.view(); y[1] = v`: NumPy's read-only ValueError from s2sad's opaque-call guard before (found by a
    probe); now the write through an alias is refused like `y = x`."""
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="may hold the same object"):
        s2sad.grad(_written_through_a_view_method)(np.array([0.5, 1.3]))
