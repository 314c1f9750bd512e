"""``s2sad.checkpoint`` recomputes a block in the backward sweep instead of keeping its intermediates.
A block that draws random numbers must see, when recomputed, the draws it saw in the forward sweep:
NumPy's global generator, the ``random`` module, a ``Generator`` passed in or read from a global."""
import random

import numpy as np
import pytest

import s2sad
from s2sad.testing import numerical_grad

RNG = np.random.default_rng(11)


@s2sad.checkpoint
def noisy_block(x):
    noise = np.random.normal(size=x.shape)
    return np.tanh(x * (1.0 + 0.1 * noise))


def global_numpy_draws(x):
    np.random.seed(3)
    for i in range(3):
        x = noisy_block(x)
    return np.sum(x * x)


@s2sad.checkpoint
def python_random_block(x):
    return np.sin(x * random.uniform(0.5, 1.5))


def python_random_draws(x):
    random.seed(5)
    y = python_random_block(x)
    return np.sum(y * python_random_block(y))


@s2sad.checkpoint
def generator_block(x, rng):
    return np.tanh(x * rng.uniform(0.5, 1.5, size=x.shape))


def generator_argument_draws(x, seed):
    rng = np.random.default_rng(seed)
    for i in range(2):
        x = generator_block(x, rng)
    return np.sum(x)


@s2sad.checkpoint
def global_generator_block(x):
    return np.cos(x * RNG.normal(1.0, 0.2, size=x.shape))


def global_generator_draws(x):
    return np.sum(global_generator_block(global_generator_block(x)))


def _reset_global_generator():
    global RNG
    RNG = np.random.default_rng(2)


PROGRAMS = [(global_numpy_draws, ()), (python_random_draws, ()), (generator_argument_draws, (7,)),
            (global_generator_draws, ())]


@pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "straightforward"])
@pytest.mark.parametrize("f, rest", PROGRAMS, ids=[f.__name__ for f, _ in PROGRAMS])
def test_recomputed_block_sees_the_forward_sweeps_draws(f, rest, optimize):
    x = np.array([0.3, -0.7, 1.1])
    args = (x,) + rest

    def fresh(*a):                                    # the same draws on every call, as differences need
        _reset_global_generator()
        return f(*a)
    want = numerical_grad(fresh, args, 0)
    _reset_global_generator()
    np.testing.assert_allclose(s2sad.grad(f, optimize=optimize)(*args), want, rtol=1e-6, atol=1e-9)
    _reset_global_generator()
    value, slope = s2sad.jvp(f, args, (np.ones(3),) + (None,) * len(rest), optimize=optimize)
    np.testing.assert_allclose(value, fresh(*args), rtol=1e-12)
    np.testing.assert_allclose(slope, np.sum(want), rtol=1e-6)


def test_draws_continue_after_the_block_as_without_s2sad():
    """The forward sweep leaves the generator where the user's own code would: a later draw is the same."""
    x = np.array([0.3, -0.7, 1.1])
    global_numpy_draws(x)
    after_plain = np.random.uniform()
    s2sad.grad(global_numpy_draws)(x)
    assert np.random.uniform() == after_plain


def test_without_the_snapshot_the_recomputed_block_draws_again(monkeypatch):
    """The condition the snapshot rests on (runtime._may_draw: a block that may draw is rewound) is needed:
    with it dropped, the recomputation draws new numbers and the gradient is wrong."""
    from s2sad import pipeline, runtime
    x = np.array([0.3, -0.7, 1.1])
    want = numerical_grad(global_numpy_draws, (x,), 0)
    monkeypatch.setattr(runtime, "_may_draw", lambda fn: False)
    pipeline.forget()
    assert not np.allclose(s2sad.grad(global_numpy_draws)(x), want, rtol=1e-6)
    monkeypatch.undo()
    pipeline.forget()
    np.testing.assert_allclose(s2sad.grad(global_numpy_draws)(x), want, rtol=1e-6)


class _TwoLayers:
    def __init__(self, W):
        self.W = W

    @s2sad.checkpoint
    def layer(self, h):
        return np.tanh(self.W @ h)

    def plain_layer(self, h):
        return np.tanh(self.W @ h)

    def loss(self, x):
        return np.sum(self.layer(self.layer(x)) ** 2)

    def plain_loss(self, x):
        return np.sum(self.plain_layer(self.plain_layer(x)) ** 2)


def test_a_checkpointed_method_called_on_an_object_held_constant():
    """``self.layer(h)`` with ``self`` not differentiated: the checkpointed method stays bound to the object."""
    m = _TwoLayers(np.array([[0.5, -0.3], [0.8, 0.1]]))
    x = np.array([0.4, -1.0])
    np.testing.assert_allclose(s2sad.grad(m.loss)(x), s2sad.grad(m.plain_loss)(x), rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(_TwoLayers.loss, wrt=1)(m, x), s2sad.grad(m.plain_loss)(x), rtol=1e-12)
    np.testing.assert_allclose(s2sad.hessian(m.loss)(x), s2sad.hessian(m.plain_loss)(x), rtol=1e-10)


@s2sad.checkpoint
def _noisy_step(x, p, cfg):
    z = cfg["rng"].standard_normal(x.shape) + cfg["more"][0].standard_normal(x.shape)
    return np.tanh(p[0] * x + p[1] * z)


def _noisy_steps(p):
    cfg = {"rng": np.random.default_rng(0), "more": [np.random.default_rng(1)]}
    x = np.ones(3)
    for _ in range(4):
        x = _noisy_step(x, p, cfg)
    return np.sum(x ** 2)


def test_generators_inside_containers_are_rewound():
    """A checkpointed step drawing from generators held in a dict or a list it is given: the run again drew other
    numbers (a wrong gradient, and jvp disagreeing; found by a probe)."""
    p = np.array([0.8, 0.5])
    np.testing.assert_allclose(s2sad.grad(_noisy_steps)(p), numerical_grad(_noisy_steps, (p,), 0), rtol=1e-6)
