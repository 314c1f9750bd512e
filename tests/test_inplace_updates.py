"""``y op= e`` (``+=``, ``-=``, ``*=``, ``/=``) where Python and ``y = y op e`` may differ: when ``y``'s object is also
held by another name read afterwards, or walked by a ``for`` loop around the update.

For a number (a new one each time) and a tuple the two are the same; for an array, Python changes the
object in place. s2sad computes ``y = y op e`` and:

- checks where the code runs (``_s2.unshared``) what the transform cannot tell: a number is differentiated;
  an array too when none of the names that may hold it and are read afterwards (each bound for sure there)
  reaches its memory then (items of a 1-d array are numbers, a name bound again holds another array); an
  array one of them reaches is refused, naming the user's line; so is one where such a name may be unbound;
- reads a walked array item by item as it is at each iteration (``for v in x: x *= 2``), as Python's iterator
  does, when the body changes ``x`` only with ``op=`` (``_s2.walked`` refuses a list, which would grow under
  the loop).

Each accepted program is checked against central differences and forward mode against reverse mode
(``check_grads``), and against a twin written without the update (an independent route)."""
import numpy as np
import pytest

import s2sad
from s2sad.front import normalize
from s2sad.testing import check_grads, numerical_grad

X = np.array([0.3, -0.8, 1.1, 0.45])


# --- a number held by two names ----------------------------------------------------------------------
def number_held_twice(x, a):
    y = x
    y *= a
    return y * x + np.sin(x)


def test_a_number_held_twice_is_differentiated():
    check_grads(number_held_twice, (0.7, 1.3), wrt=(0, 1), order=2)
    check_grads(number_held_twice, (np.float64(0.7), np.float64(1.3)), wrt=0)


def summed_held_twice(x, a):
    return np.sum(number_held_twice(x * 1.0, a))   # (a copy: the update would change the caller's array)


def test_an_array_held_twice_is_followed():
    """``y = x; y *= a``: for an array Python changes ``x`` too; the reads of ``x`` after the update are reads of
    the updated array (effects.follow_copies) when the kinds tell an array (the straightforward pipeline, which
    passes no kinds to a callee, checks where the code runs and refuses)."""
    check_grads(summed_held_twice, (X.copy(), 1.3), wrt=(0, 1), order=2)


def held_twice_in_a_loop(x, a):
    z = x * 1.0
    y = z
    for k in range(2):
        y *= a
        if k > 0:
            y += z[0] * 0.0 + a                  # (z read in the loop: not followed)
    return np.sum(y * z)


def changed_in_a_loop(x, a):
    z = x * 1.0
    y = z
    for k in range(3):
        y *= a
        if a > 1.0:
            y -= x
    return np.sum(y * z) + z[1]


def rebound_in_the_loop(x, a):
    z = x * 1.0
    y = z
    for k in range(2):
        y *= a
        y = y * 2.0                              # a new array from here: z keeps the first iteration's update
    return np.sum(y * z)


def test_an_array_changed_in_a_loop_is_followed_after_it():
    """``y = z; for ...: y op= e``: after the loop z reads the updated array (effects.follow_copies); a read of z
    inside the loop, or a binding of y that is not an update, leaves it to the checks (refused)."""
    for a in (0.7, 1.3):
        check_grads(changed_in_a_loop, (X.copy(), a), wrt=(0, 1), order=2)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"`y \*=` would change `z` too"):
        s2sad.grad(held_twice_in_a_loop)(X.copy(), 1.3)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"`y \*=` would change `z` too"):
        s2sad.grad(rebound_in_the_loop)(X.copy(), 1.3)


def rebound_before_the_update(x, a):
    z = x * 1.0
    y = z
    z = z * a                                    # z holds another array from here: y's update leaves it alone
    y += a
    return np.sum(z * y)


def bound_in_a_branch(x, a):
    z = x * 1.0
    y = z
    if a > 1.0:
        y = x * 2.0                              # then y holds another array: z is changed on one path only
    y += a
    return np.sum(z * x)


def read_again_before_the_next_binding(x, a):
    z = x * 1.0
    y = z
    y += a
    w = z * 2.0                                  # the updated array
    y = x * 3.0
    y += w
    return np.sum(z * w) + np.sum(y)


@pytest.mark.parametrize("f", [rebound_before_the_update, bound_in_a_branch, read_again_before_the_next_binding])
def test_copies_are_followed_only_while_both_names_hold_the_object(f):
    """follow_copies' conditions: no binding of either name between the copy and the change, none in a branch;
    renamed reads only up to the next binding. Each program is right (or refused), never a wrong number."""
    for a in (0.7, 1.3):
        try:
            check_grads(f, (X.copy(), a), wrt=(0, 1), order=2)
        except s2sad.UnsupportedSyntaxError:
            assert f is bound_in_a_branch


def test_dropping_the_followed_copies_refuses_again(monkeypatch):
    """The condition (follow_copies) is what answers the program: without it the check refuses, never a number."""
    from s2sad import pipeline
    from s2sad.analysis import effects
    monkeypatch.setattr(effects, "follow_copies", lambda fn, unit, kinds: None)
    pipeline.forget()
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"`y \*=` would change `x` too"):
        s2sad.grad(summed_held_twice)(X.copy(), 1.3)
    pipeline.forget()


def from_a_dict(d):
    x = d["x"]
    y = x
    y *= 2.0
    return np.sum(y * x)


def test_what_the_transform_cannot_tell_is_checked_where_the_code_runs():
    assert "_s2.unshared(y, " in s2sad.adjoint_source(from_a_dict)
    assert s2sad.grad(from_a_dict)({"x": 0.6})["x"] == pytest.approx(4 * 0.6)
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(from_a_dict)({"x": X.copy()})
    assert info.value.lineno == from_a_dict.__code__.co_firstlineno + 3
    assert "(here it holds an array of shape (4,))" in str(info.value)


def unpacked_then_updated(x, a):
    y = x * a
    for i in range(2):
        if i > 5:
            first, second = y          # never runs: the analysis cannot tell items from rows
    first, second = y
    y -= np.tanh(x) * 0.5              # changes `second` too when it is a row of y (2-d), not when a number
    return np.sum(first * second) + np.sum(y * y)


def unpacked_then_updated_twin(x, a):
    y = x * a
    first, second = y
    y = y - np.tanh(x) * 0.5
    return np.sum(first * second) + np.sum(y * y)


def test_items_of_an_array_updated_afterwards_are_checked_where_the_code_runs():
    """From the fuzzer (seed 1): ``total, prod, alpha = y`` then ``y -= ...`` was refused as "would change
    `alpha` too"; items of a 1-d array are numbers, which no update changes (runtime.unshared with the
    names the update may change, each bound for sure there), and rows of a 2-d array are refused."""
    x = np.array([0.4, -1.1])
    check_grads(unpacked_then_updated, (x, 1.3), wrt=(0, 1), order=2)
    for wrt in (0, 1):
        assert np.allclose(s2sad.grad(unpacked_then_updated, wrt)(x, 1.3),
                           s2sad.grad(unpacked_then_updated_twin, wrt)(x, 1.3), rtol=1e-13, atol=0)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"`y -=` would change `first` too") as info:
        s2sad.grad(unpacked_then_updated)(np.array([[0.4, -1.1], [0.3, 0.2]]), 1.3)
    assert info.value.lineno == unpacked_then_updated.__code__.co_firstlineno + 6
    assert "(here it holds an array of shape (2, 2))" in str(info.value)


def dict_comprehension_then_item_written(a, b):
    ys = [np.sin(a), np.cos(a)]
    params = {key: value for key, value in zip(["scale", "w"], [np.cos(ys[-1]), abs(b[1, 0])])}
    params["bias"] = ys[-1]           # changes the new dict, not `ys` nor its arrays
    tmp, b = ys
    return b + np.sum(params["bias"]) + tmp * params["w"] + params["scale"]


def dict_comprehension_then_item_written_twin(a, b):
    ys = [np.sin(a), np.cos(a)]
    return ys[1] + np.sum(ys[-1]) + ys[0] * abs(b[1, 0]) + np.cos(ys[-1])


def test_a_dict_made_by_a_comprehension_is_a_new_object():
    """From the fuzzer (seed 71000): ``params = {k: v for ...}`` then ``params['bias'] = ys[-1]`` was refused as
    changing ``ys`` (the new dict was taken for the items it holds: analysis/effects._holding_items_of)."""
    b = np.array([[0.3, 0.2], [0.5, -0.4]])
    check_grads(dict_comprehension_then_item_written, (0.7, b), wrt=(0, 1), order=2)
    for wrt in (0, 1):
        assert np.allclose(s2sad.grad(dict_comprehension_then_item_written, wrt)(0.7, b),
                           s2sad.grad(dict_comprehension_then_item_written_twin, wrt)(0.7, b), rtol=1e-13, atol=0)


def updated_then_held_after_the_loop(x, a):
    y = x * a
    for i in range(2):
        y += x * x                     # no other name holds y yet: `out` is bound after the loop only
    if a > 0.0:
        out = y
    else:
        out = -y
    return np.sum(out * x)


def updated_then_held_after_the_loop_twin(x, a):
    y = x * a + 2.0 * x * x
    return np.sum((y if a > 0.0 else -y) * x)


def test_a_name_bound_after_the_update_is_not_changed_by_it():
    """From the fuzzer (seed 1): `ans = a` after a loop doing `a += 1` was taken for a name that may hold `a`
    at the update (analysis/effects._unbound_at)."""
    x = np.array([0.3, -0.7, 1.2])
    for a in (0.8, -0.8):
        check_grads(updated_then_held_after_the_loop, (x, a), wrt=(0, 1), order=2)
        for wrt in (0, 1):
            assert np.allclose(s2sad.grad(updated_then_held_after_the_loop, wrt)(x, a),
                               s2sad.grad(updated_then_held_after_the_loop_twin, wrt)(x, a), rtol=1e-13, atol=0)


def view_maybe_rebound(x, a):
    x = x * 1.0
    v = x[1:]
    if a > 0.0:
        v = np.cos(v)                  # a new array: the update below changes x only
    v += a                             # else: x[1:] changes too, and x is read below
    return np.sum(x * x) + np.sum(v * a)


def test_a_view_changed_in_place_is_refused_only_where_it_still_is_one():
    x = np.array([0.3, -0.7, 1.2])
    check_grads(view_maybe_rebound, (x, 0.8), wrt=(0, 1), order=2)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"`v \+=` would change `x` too"):
        s2sad.grad(view_maybe_rebound)(x, -0.8)


# --- a walked array changed in place -------------------------------------------------------------------
def walk_and_scale(x):
    x = x * 1.0                         # the caller's array stays as it was
    s = 0.0
    for v in x:
        x *= 1.0 + 0.3 * np.tanh(v)     # changes the items the loop reads next
        s = s + v * v
    return s + np.sum(x)


def walk_and_scale_twin(x):
    x = x * 1.0
    s = 0.0
    for k in range(len(x)):
        v = x[k]
        x = x * (1.0 + 0.3 * np.tanh(v))
        s = s + v * v
    return s + np.sum(x)


def walk_enumerate_reversed(x, a):
    x = x + 0.0
    for k, v in enumerate(x):
        x -= a * np.sin(v) * k
    for v in reversed(x):
        x += v * a
    return np.sum(x * x)


def walk_enumerate_reversed_twin(x, a):
    x = x + 0.0
    n = len(x)
    for k in range(n):
        v = x[k]
        x = x - a * np.sin(v) * k
    for k in range(n):
        v = x[n - 1 - k]
        x = x + v * a
    return np.sum(x * x)


def walk_zip(x, y):
    x = x.copy()
    t = 0.0
    for u, v in zip(y, x):
        x /= 1.5 + np.cos(u * v)
        t = t + v
    return t * np.sum(x)


def walk_zip_twin(x, y):
    x = x.copy()
    t = 0.0
    for k in range(min(len(y), len(x))):
        u, v = y[k], x[k]
        x = x / (1.5 + np.cos(u * v))
        t = t + v
    return t * np.sum(x)


def walk_with_a_function_defined_inside(x, a):
    x = x + 0.0
    for v in reversed(x):
        x -= a * v ** 2                              # v: the item as the changed x holds it now
        soft = lambda t: t + np.exp(-x[1] ** 2)      # reads x when called (lifted: passed the current x)
        a = soft(a) * 0.5
    return np.dot(x, x) + a


def walk_with_a_function_defined_inside_twin(x, a):
    x = x + 0.0
    n = len(x)
    for k in range(n):
        x = x - a * x[n - 1 - k] ** 2
        a = (a + np.exp(-x[1] ** 2)) * 0.5
    return np.dot(x, x) + a


def walk_what_may_be_the_array(x, a):
    x = x * 1.0
    if a > 0.0:
        v = np.diff(np.log1p(x * x))     # another array: the updates below do not reach the walk
    else:
        v = x                            # the walked array itself: Python's loop would read the changed items
    out = 0.0
    for i, el in enumerate(v):
        x += np.tanh(x) * el * 0.1
        out = out + el * np.sum(x)
    return out


def walk_what_may_be_the_array_twin(x, a):
    v = np.diff(np.log1p(x * x))
    out = 0.0
    for i in range(len(v)):
        el = v[i]
        x = x + np.tanh(x) * el * 0.1
        out = out + el * np.sum(x)
    return out


def test_a_walk_of_what_may_be_the_changed_array_is_checked_where_the_code_runs():
    """From the fuzzer (seed 72000): `for i, el in enumerate(v)` with `v = x` on one path and `x += ...` in the
    body: the walked object is held from the loop's start (front/normalize.walk_holders) and the update refused
    where the code runs only when it shares memory with that object."""
    x = np.array([0.3, -0.4, 0.8, 0.5])
    check_grads(walk_what_may_be_the_array, (x, 0.5), wrt=(0,), order=2)
    np.testing.assert_allclose(s2sad.grad(walk_what_may_be_the_array)(x, 0.5),
                               s2sad.grad(walk_what_may_be_the_array_twin)(x, 0.5), rtol=1e-13)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"`x \+=` changes `x` in place while a `for` loop walks"):
        s2sad.grad(walk_what_may_be_the_array)(x, -0.5)


def walk_a_new_array(x, a):
    for v in x[::-1] * x:               # a new array: the updates do not reach it
        x = x + 0.0
        x += a * v
    return np.sum(x ** 2)


@pytest.mark.parametrize("f, twin, args, wrt", [
    (walk_and_scale, walk_and_scale_twin, (X,), 0),
    (walk_enumerate_reversed, walk_enumerate_reversed_twin, (X, 0.4), (0, 1)),
    (walk_zip, walk_zip_twin, (X, X[::-1] * 2.0), (0, 1)),
    (walk_with_a_function_defined_inside, walk_with_a_function_defined_inside_twin, (X, 0.4), (0, 1)),
])
def test_a_walked_array_changed_in_place_is_read_as_it_is(f, twin, args, wrt):
    assert f(*[np.copy(a) for a in args]) == pytest.approx(twin(*args))
    check_grads(f, args, wrt=wrt, order=2)
    got = s2sad.grad(f, wrt)(*args)
    want = s2sad.grad(twin, wrt)(*args)
    for g, w in zip(got if isinstance(wrt, tuple) else (got,), want if isinstance(wrt, tuple) else (want,)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_a_loop_over_a_new_array_is_not_a_walk():
    check_grads(walk_a_new_array, (X, 0.4), wrt=(0, 1))


def walk_a_list(xs):
    xs = list(xs)
    s = 0.0
    for v in xs:
        xs += [v * 0.5]                 # Python's loop walks the items added too (until they are small)
        s = s + v
        if len(xs) > 6:
            break
    return s


def test_a_walked_list_is_refused_where_the_code_runs():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"`xs \+=` changes `xs` in place while a `for` loop "
                                                            r"walks it.*here it holds a value of type list"):
        s2sad.grad(walk_a_list)([0.5, 1.5])


def walk_then_rebind(x):
    x = x * 1.0
    s = 0.0
    for v in x:                         # after `x = ...` the loop still walks the first array, which the next
        x *= 2.0                        # `x *= 2.0` no longer changes
        x = x + v
        s = s + v * x[0]
    return s


def walk_then_rebind_twin(x):
    x = x * 1.0
    walked = x
    s = 0.0
    for k in range(len(walked)):
        v = walked[k]
        held = x is walked
        x = x * 2.0
        if held:
            walked = x
        x = x + v
        s = s + v * x[0]
    return s


def walk_rebind_and_return(x, a):
    y = x * 1.0
    for k, v in enumerate(y):
        y /= 1.5 + np.cos(a * v)        # the walked array on the first pass
        if k == 1:
            y = np.tanh(y) + a          # from here on another array
        y += v * a
    return np.sum(y * y)


def test_a_walked_array_rebound_in_the_loop():
    """The loop walks the first array; `x op= e` changes it while `x` still holds it (Python), so the items read
    after depend on where the rebinding happened."""
    x = np.array([0.3, -0.8, 1.1, 0.45])
    assert walk_then_rebind(x.copy()) == pytest.approx(walk_then_rebind_twin(x.copy()))
    check_grads(walk_then_rebind, (x,), order=2)
    np.testing.assert_allclose(s2sad.grad(walk_then_rebind)(x), s2sad.grad(walk_then_rebind_twin)(x), rtol=1e-12)
    check_grads(walk_rebind_and_return, (x, 0.4), wrt=(0, 1), order=2)


def test_soundness_the_walked_sequence_follows_only_while_the_name_holds_it(monkeypatch):
    """Dropping the condition (the sequence always follows the name) gets ``walk_then_rebind`` wrong."""
    import gast
    monkeypatch.setattr(normalize, "same_object", lambda name, seq: gast.Constant(value=True, kind=None))
    from s2sad import pipeline
    pipeline.forget()
    try:
        got = s2sad.grad(walk_then_rebind)(X.copy())
    finally:
        pipeline.forget()
    want = numerical_grad(walk_then_rebind, (X.copy(),), 0)
    assert np.max(np.abs(got - want)) > 1e-3


def walk_a_tuple_of_arrays(x, y):
    x = x * 1.0
    s = 0.0
    for v in (x, y):                    # v is x's object itself: `x *= 2.0` changes v too
        x *= 2.0
        s = s + np.sum(v)
    return s


def test_a_walked_display_holding_the_array_is_refused():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="walks it"):
        s2sad.grad(walk_a_tuple_of_arrays)(X.copy(), X.copy())


def walk_a_new_array_of_items(x, a):
    for v in np.array([a, x[0], x[1]]):     # np.array makes a new array: no walk of x
        x = x * 1.0
        x /= 1.5 + np.cos(v)
    return np.sum(x * x)


def test_a_loop_over_an_array_made_by_numpy_is_not_a_walk():
    check_grads(walk_a_new_array_of_items, (X, 0.4), wrt=(0, 1), order=2)


def number_read_from_an_array_then_the_array_updated(x, a):
    out = np.array(np.arange(3) * a, dtype=float)     # a 1-d array (np.arange of numbers)
    out[1] = a
    tp = (out[2], 0.7)                                 # out[2] is a new number, not a view of out
    out *= np.cos(tp[-1] * x)
    first = out[0]
    out += 1.0
    return tp[0] * np.sum(out) + first * x


def test_a_number_read_from_an_array_is_not_changed_by_an_update_of_the_array():
    """From the fuzzer (seed 9700): ``tp = (out[2], 0.7)`` then ``out *= ...`` was refused as "would change
    `tp` too"; a number read from an array of known axes is a new object (analysis/effects._scalar_item)."""
    check_grads(number_read_from_an_array_then_the_array_updated, (0.4, 1.3), wrt=(0, 1), order=2)


def view_rebound_after_the_update_in_its_branch(x, a):
    x = x * 1.0
    for step in range(3):
        if x[step] / (1.0 + a * a) < 0.3:
            a = a + 0.5
            feat = np.sort(np.maximum(x, 0.5 * x))
        else:
            x /= 2.0 + np.sin(x[step])
            feat = x[:]                                   # the old view is never read after the update
        a = a + np.sum(feat[::2]) * 0.1
    return a + np.sum(x ** 2)


def test_a_view_rebound_after_the_update_on_every_path_is_not_refused():
    """From the fuzzer (seed 9900): ``feat = x[:]`` in one branch, ``x /= ...`` before it in the same branch;
    every read of ``feat`` after the update comes after ``feat`` is bound again (analysis/effects.follows)."""
    check_grads(view_rebound_after_the_update_in_its_branch, (np.array([0.2, 0.9, 0.1, 1.3]), 0.3),
                wrt=(0, 1), order=2)


# --- rotating buffers: names that trade arrays, one of them written in place (effects.distinct_buffers) ----
def swap_written_buffer(u0):
    prev = u0 * 0.5
    cur = u0.copy()
    for t in range(3):
        prev[1:-1] = cur[1:-1] + 0.1 * (cur[2:] - 2 * cur[1:-1] + cur[:-2]) - 0.05 * prev[1:-1] * cur[1:-1]
        prev, cur = cur, prev
    return np.sum(cur ** 2) + np.sum(prev * u0)


def swap_written_buffer_without_writes(u0):     # the same recursion with new arrays and plain rebinding
    prev = u0 * 0.5
    cur = u0.copy()
    for t in range(3):
        inner = cur[1:-1] + 0.1 * (cur[2:] - 2 * cur[1:-1] + cur[:-2]) - 0.05 * prev[1:-1] * cur[1:-1]
        new = np.concatenate([prev[:1], inner, prev[-1:]])
        prev = cur
        cur = new
    return np.sum(cur ** 2) + np.sum(prev * u0)


def three_buffers_rotated(x):
    a = x * 1.0
    b = x ** 2
    c = np.sin(x)
    for t in range(4):
        a[0] = a[0] * b[1] + c[2]
        b[1:] *= 0.9 + 0.1 * c[1:]
        a, b, c = c, a, b
    return np.sum(a * b) + np.sum(c ** 3)


def three_buffers_rotated_without_writes(x):
    a = x * 1.0
    b = x ** 2
    c = np.sin(x)
    for t in range(4):
        a = np.concatenate([[a[0] * b[1] + c[2]], a[1:]])
        b = np.concatenate([b[:1], b[1:] * (0.9 + 0.1 * c[1:])])
        a, b, c = c, a, b
    return np.sum(a * b) + np.sum(c ** 3)


def next_buffer_rotated_in(u0):                  # prev, cur = cur, nxt: nxt is a new copy each step
    prev = u0 * 0.5
    cur = u0.copy()
    for t in range(3):
        nxt = cur.copy()
        nxt[1:-1] += 0.1 * (cur[2:] - 2 * cur[1:-1] + cur[:-2]) + 0.01 * prev[1:-1] ** 2
        prev, cur = cur, nxt
    return np.sum(cur ** 2) + np.sum(prev)


def next_buffer_rotated_in_without_writes(u0):
    prev = u0 * 0.5
    cur = u0.copy()
    for t in range(3):
        inner = cur[1:-1] + 0.1 * (cur[2:] - 2 * cur[1:-1] + cur[:-2]) + 0.01 * prev[1:-1] ** 2
        nxt = np.concatenate([cur[:1], inner, cur[-1:]])
        prev, cur = cur, nxt
    return np.sum(cur ** 2) + np.sum(prev)


ROTATING = [(swap_written_buffer, swap_written_buffer_without_writes),
            (three_buffers_rotated, three_buffers_rotated_without_writes),
            (next_buffer_rotated_in, next_buffer_rotated_in_without_writes)]


@pytest.mark.parametrize("f, twin", ROTATING, ids=[f.__name__ for f, _ in ROTATING])
def test_rotating_buffers_written_in_place(f, twin):
    """``prev, cur = cur, prev`` after writing into ``prev``: the two names trade arrays but never hold the
    same one, so the write changes nothing another name reads. Both modes and second order, against finite
    differences and the same program written without writes."""
    u = np.array([0.3, 1.0, -0.4, 0.8, 0.2])
    v = np.array([0.5, -1.0, 0.3, 0.2, 0.7])
    assert f(u.copy()) == pytest.approx(twin(u), rel=1e-14)
    g = s2sad.grad(f)(u)
    np.testing.assert_allclose(g, numerical_grad(f, (u,), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g, s2sad.grad(twin)(u), rtol=1e-12, atol=1e-14)
    assert s2sad.jvp(f, (u,), (v,))[1] == pytest.approx(g @ v, rel=1e-12)
    H = s2sad.hessian(f)(u)
    np.testing.assert_allclose(H, s2sad.hessian(twin)(u), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H @ v, numerical_grad(lambda y: s2sad.grad(f)(y) @ v, (u,), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(s2sad.hvp(f)(u, v), H @ v, rtol=1e-12, atol=1e-12)
    low = s2sad.grad(f)(u.astype(np.float32))
    assert low.dtype == np.float32
    np.testing.assert_allclose(low, g, rtol=1e-4, atol=1e-5)
    check_grads(f, (u,), order=2)


def buffers_one_array_then_swapped(u0):
    prev = u0 * 0.5
    cur = prev                                     # one array, two names: the write changes what cur reads
    for t in range(3):
        prev[1:-1] = cur[1:-1] * 0.9 + 0.1 * cur[2:] * cur[:-2]
        prev, cur = cur, prev
    return np.sum(cur ** 2) + np.sum(prev * u0)


def test_rotating_buffers_that_share_an_array_are_refused():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"test_inplace_updates.py:\d+: `prev` is changed in place "
                                                         r"while `cur` may hold the same object"):
        s2sad.grad(buffers_one_array_then_swapped)(np.array([0.3, 1.0, -0.4, 0.8, 0.2]))


# --- a callee that changes its argument, called in a loop (Autograd's fluidsim) ------------------------
def _project(vx, vy):
    p = 0.5 * (vx - vy)
    vx -= 0.1 * p
    vy -= 0.2 * np.roll(p, 1)
    return vx, vy


def projected_in_a_loop(vx, vy):
    for t in range(3):
        vx_updated = vx * 0.9 + np.roll(vy, 1)
        vy_updated = np.sin(vy) + vx
        vx, vy = _project(vx_updated, vy_updated)
    return np.sum(vx * vy)


def changed_value_read_after_the_call(vx, vy):
    for t in range(3):
        vx_updated = vx * 0.9 + np.roll(vy, 1)
        vy_updated = np.sin(vy) + vx
        a, b = _project(vx_updated, vy_updated)
        vx, vy = a + vx_updated, b                 # reads the changed vx_updated: Python's value differs
    return np.sum(vx * vy)


def test_a_callee_changing_an_argument_nothing_reads_again_is_differentiated_in_a_loop():
    """``vx, vy = project(vx_updated, vy_updated)``: the changed arrays are returned, and the loop rebinds
    ``vx_updated`` before reading it again (effects._read_again), so the change changes nothing s2sad computes."""
    from s2sad.testing import check_grads
    args = (np.array([0.3, -0.2, 0.5]), np.array([0.1, 0.4, -0.3]))
    check_grads(projected_in_a_loop, args, wrt=(0, 1), order=2)


def test_a_callee_changing_an_argument_read_again_is_refused(monkeypatch):
    from s2sad import pipeline
    from s2sad.analysis import effects
    from s2sad.testing import numerical_grad
    args = (np.array([0.3, -0.2, 0.5]), np.array([0.1, 0.4, -0.3]))
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="changes its argument `vx` in place"):
        s2sad.grad(changed_value_read_after_the_call)(*args)
    monkeypatch.setattr(effects, "_read_again", lambda fn, s, names: False)     # the condition dropped
    pipeline.forget()
    g = s2sad.grad(changed_value_read_after_the_call)(*args)
    want = numerical_grad(lambda x: changed_value_read_after_the_call(x, args[1].copy()), (args[0].copy(),), 0)
    assert not np.allclose(g, want, rtol=1e-4)
    pipeline.forget()


def _appended_through_an_alias(x):
    L = [x[0]]
    M = L
    L = L + [x[1]]
    M.append(x[2])
    return sum(L) * 10.0 + sum(M)


def test_an_append_through_an_alias_is_undone_where_the_sweep_reads_the_other_name():
    """`M = L; L = L + [v]; M.append(w)`: the backward sweep read the old `L` with `w` still in it (an IndexError;
    found by a probe). The append is undone where any name holding the list is read afterwards
    (analysis/record.py); the straightforward pipeline (no versions) refuses it."""
    x = np.array([0.3, -0.7, 1.23])
    assert np.allclose(s2sad.grad(_appended_through_an_alias)(x), [11.0, 10.0, 1.0])
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="`M` is changed in place while `L` may hold"):
        s2sad.grad(_appended_through_an_alias, optimize=False)(x)


# --- what a user function may return (calls.returned_arguments, effects.Effects.returned) ---------
def _fresh_step(v, c):
    w = v.copy()
    w[0] += c
    return w


def _returns_itself(v, c):
    return v


def _returns_a_view(v, c):
    return v[1:]


def _returns_it_in_a_tuple(v, c):
    w = v * 2
    return (w, v)


def _returns_it_through_a_dict(d, c):
    return d["a"]


def _returns_it_on_one_path(v, c):
    if c > 0:
        return v.copy()
    return v


def _returns_it_through_a_helper(v, c):
    return _returns_itself(v, c)


def _returns_it_from_a_list(v, c):
    out = [v]
    return out[0]


def _returns_a_star_argument(*vs):
    return vs[0]


def _write_into_the_result(helper, wrap=False):
    def f(x):
        y = x * 1.0
        z = helper({"a": y} if wrap else y, -1.0)
        if isinstance(z, tuple):
            z = z[1]
        z[0] += x[1]
        return np.sum(y * y)
    return f


def _fresh_then_written(x):
    y = _fresh_step(x, 0.0)
    y[0] += x[0]
    return np.sum(y * y)


def _fresh_of_a_copy_then_written(x):
    y = x * 1.0
    s = x[0] * 0.5
    y = _fresh_step(y, s)
    y[0] += x[0]
    return np.sum(y * y) + s


@pytest.mark.parametrize("optimize", [True, False])
def test_a_helper_returning_a_new_array_lets_the_caller_write_into_it(optimize):
    """`w = v.copy(); w[0] += c; return w`: the result is no argument's object, so a write into it changes no
    argument (refused as "changes its argument `x` in place": a probe's main false refusal)."""
    x = np.array([0.6, -0.4, 1.3])
    np.testing.assert_allclose(s2sad.grad(_fresh_then_written, optimize=optimize)(x), [8 * x[0], 2 * x[1], 2 * x[2]])
    np.testing.assert_allclose(s2sad.grad(_fresh_of_a_copy_then_written, optimize=optimize)(x),
                               [12.5 * x[0] + 0.5, 2 * x[1], 2 * x[2]])


@pytest.mark.parametrize("helper", [_returns_itself, _returns_a_view, _returns_it_in_a_tuple, _returns_it_through_a_dict,
                                    _returns_it_on_one_path, _returns_it_through_a_helper, _returns_it_from_a_list,
                                    _returns_a_star_argument])
@pytest.mark.parametrize("optimize", [True, False])
def test_a_helper_that_may_return_its_argument_is_followed_or_refused(helper, optimize):
    """A write into what a helper returned changes the caller's array where the helper returns it (or a view, or
    it inside a tuple, a dict, a list): answered right or refused, never wrong (returning it in a tuple gave a
    wrong gradient while the analysis followed only what holds a returned object, not what it holds)."""
    f = _write_into_the_result(helper, wrap=helper is _returns_it_through_a_dict)
    x = np.array([0.6, -0.4, 1.3])
    want = numerical_grad(f, (x.copy(),), 0)
    try:
        got = s2sad.grad(f, optimize=optimize)(x.copy())
    except s2sad.S2SadError as exc:
        assert "may hold the same object" in str(exc) or "in place" in str(exc)
        return
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
