"""Code s2sad does not see into, run for its effects (a plot, a log line, a method of a user's object, a user
function whose result is unused), runs with the arrays it receives read-only (analysis/effects.pass_read_only,
runtime.opaque_call): it runs, and a change in place there raises instead of giving a wrong derivative."""
from dataclasses import dataclass

import numpy as np
import pytest

import s2sad
from s2sad import pipeline
from s2sad.analysis import effects
from s2sad.testing import check_grads, numerical_grad


class Axes:
    """A stand-in for a plotting or logging object: keeps what it was given."""
    def __init__(self):
        self.seen = []

    def plot(self, *values, **options):
        self.seen.append([not a.flags.writeable for a in _arrays(values + tuple(options.values()))])

    def rebind(self, p):                      # changes what a record being differentiated holds
        p.w = p.w * 2.0

    def doubled(self, a):                     # a method that changes its argument in place
        a *= 2.0

    def copy_into(self, out, a):              # ... or copies a differentiated value into another argument
        out[...] = a


def _arrays(x):
    if isinstance(x, np.ndarray):
        return [x]
    if isinstance(x, dict):
        x = list(x.values())
    if hasattr(x, "__dataclass_fields__"):
        x = list(vars(x).values())
    return [a for v in x for a in _arrays(v)] if isinstance(x, (list, tuple)) else []


ax = Axes()


def show(m):
    ax.plot(m, label="m")


def plotted(w):
    y = np.tanh(w)
    ax.plot(y, [y, 2.0 * y], {"w": w}, color="k")
    show(y * 2.0)
    return np.sum(y ** 2)


def plotted_in_a_loop(w):
    s = 0.0
    for k in range(3):
        y = np.sin(w * (k + 1.0))
        ax.plot(y)
        s = s + np.sum(y * w)
    return s


def changed_by_a_method(w):
    y = np.tanh(w)
    ax.doubled(y)
    return np.sum(y ** 2)


def changed_inside_a_helper(w):
    y = np.tanh(w)
    helper_that_doubles(y)
    return np.sum(y ** 2)


def helper_that_doubles(m):
    ax.doubled(m)


def copied_into_a_buffer(w):
    y = np.tanh(w)
    buf = np.zeros(2)
    ax.copy_into(buf, y)
    return np.sum(buf * buf) + np.sum(y)


W = np.array([0.3, -0.2])


@pytest.mark.parametrize("f", [plotted, plotted_in_a_loop])
def test_plots_and_logs_of_differentiated_values_run_read_only(f):
    check_grads(f, (W,), order=2)
    ax.seen.clear()
    s2sad.grad(f)(W)                                         # (the plain function, run by check_grads, plots too)
    assert ax.seen and all(all(flags) and flags for flags in ax.seen)       # read-only while the call ran
    assert W.flags.writeable                                               # and as they were afterwards
    g = s2sad.jvp(f, (W,), (np.array([1.0, 0.0]),))[1]
    assert g == pytest.approx(numerical_grad(f, (W,), 0)[0], rel=1e-6)


@pytest.mark.parametrize("f", [changed_by_a_method, changed_inside_a_helper, copied_into_a_buffer])
def test_a_change_in_place_there_raises_instead_of_a_wrong_derivative(f):
    with pytest.raises(s2sad.S2SadError, match=r"changes an array it was given in place \(.*read-only\)"):
        s2sad.grad(f)(W)


def test_dropping_the_read_only_passing_gives_a_wrong_derivative(monkeypatch):
    """The soundness condition: without it ``ax.doubled(y)`` changes the ``y`` the backward sweep reads."""
    monkeypatch.setattr(effects, "pass_read_only", lambda *a, **k: None)
    pipeline.forget()
    g = s2sad.grad(changed_by_a_method)(W)
    assert not np.allclose(g, numerical_grad(changed_by_a_method, (W.copy(),), 0), rtol=1e-3)
    pipeline.forget()


@dataclass
class Params:
    w: np.ndarray


def logged_record(p):
    ax.plot(p)
    return np.sum(p.w ** 2)


def rebound_record(p):
    ax.rebind(p)
    return np.sum(p.w ** 2)


def test_an_object_holding_differentiated_arrays_is_passed_with_its_arrays_read_only():
    ax.seen.clear()
    g = s2sad.grad(logged_record)(Params(W.copy()))
    assert np.allclose(g.w, 2 * W) and ax.seen == [[True]]
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="changed what a Params it received holds"):
        s2sad.grad(rebound_record)(Params(W.copy()))


def test_other_arguments_are_read_only_and_the_callee_may_keep_its_own_state():
    """The plotting object appends to its own list (not a value being differentiated): allowed."""
    ax.seen.clear()
    s2sad.grad(plotted)(W)
    s2sad.grad(plotted)(W)
    assert len(ax.seen) == 4


def test_numpy_functions_that_write_are_refused_by_name():
    def copied(w):
        buf = np.zeros(2)
        np.copyto(buf, w)
        return np.sum(buf)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="may modify a value being differentiated in place"):
        s2sad.grad(copied)(W)


def takes_two(t, u, w):
    return None


def viewed_twice(x):
    if takes_two(x, u=1, w=x[::1]):                # an array and a view of it (fuzz seed 1, program 49)
        pass
    return np.sum(x * x)


def test_an_array_and_its_view_get_their_flags_back():
    x = np.array([0.5, -0.7, 0.7])
    assert np.allclose(s2sad.grad(viewed_twice)(x), 2 * x) and x.flags.writeable


class _Accumulator:
    def __init__(self):
        self.total = 0.0
        self.kept = []

    def push(self, x):
        self.total = self.total + x * x

    def keep(self, x):
        self.kept.append(x)


def _accumulated(xs):
    acc = _Accumulator()
    for x in xs:
        acc.push(x)
    return acc.total


def _kept_and_read_back(x):
    acc = _Accumulator()
    acc.keep(x * 3.0)
    setattr(acc, "total", x * 2.0)
    return acc.kept[0] * x + acc.total


def test_an_object_given_a_differentiated_value_and_read_again_is_refused():
    """`acc.push(x)` storing `x * x` in `acc.total`, `acc.keep(v)` appending to a list it holds, `setattr(o, "v",
    x)`, then read back: the derivative through the object was dropped (a zero gradient and a warning saying the
    output does not depend on the argument; found by probes). The object must hold what it held, where it is read
    again; a plot or log the function never reads back may keep what it is given (above)."""
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="`_Accumulator.push` was given a value being"):
        s2sad.grad(_accumulated)(np.array([0.5, -1.0]))
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="was given a value being differentiated"):
        s2sad.grad(_kept_and_read_back)(0.7)


class _Box:
    def __init__(self):
        self.v = 0.0

    def put(self, v):
        self.v = v


BOX = _Box()


def _kept_by_a_module_object(x):
    BOX.put(x * 2.0)
    return BOX.v ** 2


def test_a_module_object_given_a_differentiated_value_and_read_again_is_refused():
    """`BOX.put(2 x)` then `BOX.v`: the derivative through a module's object was dropped (found by a probe)."""
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="`_Box.put` was given a value being differentiated"):
        s2sad.grad(_kept_by_a_module_object)(0.5)


STORE = []


def _kept_in_the_module(v):
    STORE.append(v * 1.0)


def _read_back_from_the_module(x):
    _kept_in_the_module(x * 2.0)
    return STORE[-1] ** 2


def test_a_helper_keeping_a_differentiated_value_in_the_module_read_back_is_refused():
    """`helper(v)` appending to a module's list that the function reads back: the derivative was dropped (zero, with
    a warning saying the output did not depend on the argument; found by a probe)."""
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="changes `STORE`, an object of its module"):
        s2sad.grad(_read_back_from_the_module)(0.5)


class _Tracker:
    def __init__(self):
        self.log = {}

    def record(self, key, value):
        self.log.setdefault(key, []).append(float(value))

    def last(self, key):
        return self.log[key][-1]


TRACKER = _Tracker()


def _logged_twice(w):
    loss = np.sum(w ** 2)
    TRACKER.record("loss", loss)
    norm = np.sqrt(loss)
    TRACKER.record("norm", norm)
    for v in w:
        TRACKER.record("item", v * 2.0)
    return loss + norm


def _logged_then_read_back(w):
    loss = np.sum(w ** 2)
    TRACKER.record("loss", loss)
    TRACKER.record("norm", np.sqrt(loss))
    return loss + TRACKER.last("norm")


def test_a_logger_called_several_times_and_never_read_back_keeps_what_it_is_given():
    """`TR.record("loss", l)` then `TR.record("norm", n)`, their results dropped: what the logger holds reaches no
    value the function computes (refused in the fifteenth session, since the second call reads the object again);
    read back through a method whose result is used, it is refused still."""
    w = np.array([1.0, 2.0])
    loss = 5.0
    assert np.allclose(s2sad.grad(_logged_twice)(w), 2 * w * (1 + 0.5 / np.sqrt(loss)))
    assert TRACKER.log["norm"][-1] == np.sqrt(loss) and TRACKER.log["item"][-2:] == [2.0, 4.0]
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="`_Tracker.record` was given a value being"):
        s2sad.grad(_logged_then_read_back)(w)


class _Pusher:
    def __init__(self, store):
        self.store = store

    def push(self, v):
        self.store.append(v * v)


PUSHED = []
PUSHER = _Pusher(PUSHED)


def _pushed_into_a_local_list(x):
    lst = []
    acc = _Pusher(lst)
    acc.push(x)
    return lst[0] + x


def _pushed_into_a_module_list(x):
    PUSHER.push(x)
    return PUSHED[-1] + x


def _pushed_into_a_dict_item(x):
    d = {"a": []}
    acc = _Pusher(d["a"])
    acc.push(x)
    return d["a"][0] + x


@pytest.mark.parametrize("f", [_pushed_into_a_local_list, _pushed_into_a_module_list, _pushed_into_a_dict_item])
def test_a_method_filling_a_list_its_object_shares_with_the_function_is_refused(f):
    """`acc = Acc(lst); acc.push(x)` appending `x * x` to `lst`, read back (also a module's object holding a module's
    list, and a list inside a dict): the gradient was 1.0 for 2x + 1, silently (found this session). The method's
    object is watched where it may hold what the function reads again (effects.classes), and so are the module's
    objects the function reads."""
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="`_Pusher.push` was given a value being differentiated"):
        s2sad.grad(f)(0.7)
