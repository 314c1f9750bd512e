"""ODE solutions differentiated by the adjoint method: ``scipy.integrate.odeint`` and ``solve_ivp``.

``ys = odeint(func, y0, t, args=(theta,))`` solves ``y' = f(y, t, theta)`` from ``y(t[0]) = y0`` and returns
``y`` at the times ``t``. Its derivative never unrolls the solver's steps:

- reverse (``odeint_grads``): the adjoint ODE is integrated *backwards* from ``t[-1]`` to ``t[0]`` together
  with the state, ``y' = f``, ``a' = -aᵀ ∂f/∂y``, ``b' = -aᵀ ∂f/∂θ``, starting from ``a = ȳ(t[-1])``,
  ``b = 0`` and adding ``ȳ(t[i])`` to ``a`` on reaching ``t[i]``. Then ``ȳ0 = a(t0)``, ``θ̄ = b(t0)``,
  ``t̄[i] = ȳ(t[i]) · f(y(t[i]), t[i])`` and, for the initial time, ``t̄0 -= a(t0) · f(y0, t0)``
  (moving the start by ``δ`` moves the whole solution by ``-Φ f(y0, t0) δ``). The vector-Jacobian
  products of ``f`` are s2sad's own (``s2sad.vjp(func, ...)``: ``func`` is read from its source, and may
  call NumPy and the user's helpers).
- forward (``odeint_tangent``): the tangent (sensitivity) ODE ``s' = ∂f/∂y s + ∂f/∂θ θ̇`` is integrated
  with the state, from ``s(t0) = ẏ0 - f(y0, t0) ṫ0``; the tangent at ``t[i]`` is
  ``s(t[i]) + f(y(t[i]), t[i]) ṫ[i]``.
  It is written as a plain function s2sad differentiates from its source (an ``odeint`` of the augmented
  system whose right-hand side calls ``s2sad.jvp``), so second derivatives (``hvp``, ``grad`` of ``grad``,
  which s2sad computes reverse over forward) are again adjoint solves, of the augmented system.

Both solvers are called with the user's ``rtol``/``atol`` (and ``mxstep``/``hmax``, or ``method``/``max_step``):
the derivative is as accurate as the solver is asked to be.

Supported: ``odeint(func, y0, t, args=(...), rtol=..., atol=..., tfirst=..., mxstep=..., hmax=...)`` (its other
options are used by the forward solve only) differentiated with respect to ``y0`` (a number, a list or a 1-D
array), ``t`` and the float entries of ``args`` (numbers, arrays, dicts/lists/tuples of them);
``solve_ivp(fun, t_span, y0, method=..., t_eval=ts, args=(...), rtol=..., atol=..., max_step=..., first_step=...,
jac=...)`` with respect to ``t_span``, ``y0``, ``t_eval`` and ``args``, through ``sol.y`` and ``sol.t`` (which is
``t_eval``). The right-hand side may call NumPy, the user's helpers, closures: whatever s2sad differentiates.
Second derivatives (``hvp``, ``hessian``, ``grad`` of ``grad``, ``jvp`` of ``jvp``) with respect to ``y0`` and
``args`` work by construction (see above).

Refused with an error naming the problem: ``odeint(..., full_output=1)``; ``solve_ivp`` without ``t_eval``, with
``events``, with ``vectorized=True``, with other options (``min_step``, ``lband``, ...: the rule does not take
them), read through another field than ``.y``/``.t`` (``sol.sol`` of ``dense_output=True``), or whose solve
failed; ``args`` that is not a tuple, or an entry of it holding floats and integers together; complex states;
second derivatives with respect to the times (``t``, ``t_span``, ``t_eval``).
"""
import warnings

import numpy as np

from . import api
from .errors import UnsupportedValueError, ZeroGradientWarning
from .calls import SOURCE_MARK
from .tree import AdjDict, AdjTuple, adjoint_of, flatten, like_tree, unflatten

__all__ = ["odeint_grads", "odeint_tangent", "odeint_time_tangent", "solve_ivp_grads", "solve_ivp_state_tangent",
           "solve_ivp_time_tangent", "IvpTangent", "ivp_tangent", "ivp_part", "tangent_items", "tangent_items_grad",
           "OdeDerivativeError"]


solvers = None      # scipy.integrate, set when its rules are registered (the code below that s2sad reads uses it)


class OdeDerivativeError(UnsupportedValueError):
    """An ODE solve used in a way s2sad does not differentiate (see the module docstring): an S2SadError, as
    every refusal is (and a NotImplementedError, as it was)."""


# --- the user's right-hand side, its value and its vector-Jacobian products ------------------------------
def _is_float(x):
    if isinstance(x, (bool, np.bool_)):
        return False
    return isinstance(x, (float, np.floating)) or isinstance(x, np.ndarray) and x.dtype.kind == "f"


def _holds_floats(x):
    """Whether ``x`` (an entry of ``args``) is differentiated: it holds floats. One that also holds integers is
    refused (s2sad differentiates a function with respect to whole arguments, and integers have no derivative)."""
    leaves = flatten(x)
    if not any(_is_float(leaf) for leaf in leaves):
        return False
    if any(isinstance(leaf, (int, np.integer, bool, np.bool_))
           or isinstance(leaf, np.ndarray) and leaf.dtype.kind in "iub" for leaf in leaves):
        raise OdeDerivativeError(f"an entry of the ODE's args holds floats and integers together ({x!r:.60}): s2sad "
                                 f"differentiates the right-hand side with respect to whole entries of args; pass the "
                                 f"integers as entries of their own")
    return True


class _Rhs:
    """``f(y, t)`` over a flat float state for ``func(y, t, *args)`` (``func(t, y, *args)`` when ``tfirst``),
    with the adjoints of ``y`` and of the float leaves of ``args`` (flattened into one vector; an argument's
    other leaves, ints, functions, None, carry no derivative)."""

    def __init__(self, func, args, tfirst):
        self.func, self.args, self.tfirst = func, tuple(args), tfirst
        self.y_at = 1 if tfirst else 0
        self.floats = tuple(k for k, a in enumerate(self.args) if _holds_floats(a))
        self.sizes = [int(np.size(leaf)) for k in self.floats for leaf in flatten(self.args[k]) if _is_float(leaf)]
        self.size = sum(self.sizes)

    def call_args(self, y, t):
        return ((t, y) if self.tfirst else (y, t)) + self.args

    def value(self, y, t):              # (a copy of y: a func changing its y in place, `y *= -k; return y`,
        return np.asarray(self.func(*self.call_args(np.array(y, dtype=float), t)),       # changes no state here)
                          dtype=float).reshape(np.shape(y))

    def vjp(self, y, t, a):
        """``(f(y, t), aᵀ ∂f/∂y, aᵀ ∂f/∂θ flattened)``."""
        wrt = (self.y_at,) + tuple(2 + k for k in self.floats)
        with warnings.catch_warnings():           # an argument f does not read (here, or at all): zero adjoint
            warnings.simplefilter("ignore", ZeroGradientWarning)
            value, pullback = api.vjp(self.func, *self.call_args(y, t), wrt=wrt)
            grads = pullback(_cotangent(a, value))
        grads = grads if isinstance(grads, tuple) else (grads,)   # (wrt is a tuple: one gradient per entry)
        a_y = np.asarray(grads[0], dtype=float).reshape(np.shape(y))
        leaves = []
        for k, g in zip(self.floats, grads[1:]):
            for g_leaf, leaf in zip(flatten(like_tree(g, self.args[k], _leaf_or_none)), flatten(self.args[k])):
                if _is_float(leaf):
                    leaves.append(np.zeros(np.size(leaf)) if g_leaf is None else np.ravel(g_leaf).astype(float))
        a_theta = np.concatenate(leaves) if leaves else np.zeros(0)
        return np.asarray(value, dtype=float).reshape(np.shape(y)), a_y, a_theta

    def args_grads(self, flat):
        """The flat adjoint of the float leaves as a tuple adjoint shaped like ``args`` (None elsewhere)."""
        out = [None] * len(self.args)
        pieces = iter(np.split(flat, np.cumsum(self.sizes)[:-1]) if self.sizes else [])
        for k in self.floats:
            grads = [_like_leaf(next(pieces), leaf) if _is_float(leaf) else None for leaf in flatten(self.args[k])]
            out[k] = adjoint_of(unflatten(grads, self.args[k]))
        return AdjTuple(out)


def _leaf_or_none(g, x):
    return g


def _cotangent(a, value):
    """``a`` (a flat array) laid out like the value ``func`` returned (a list, a tuple, a number)."""
    if isinstance(value, np.ndarray):
        return a.reshape(value.shape).astype(value.dtype if value.dtype.kind == "f" else float, copy=False)
    if isinstance(value, (list, tuple)):
        return type(value)(float(v) for v in a)
    return float(a[0]) if np.size(a) == 1 else a


def _like_leaf(g, x):
    """A flat gradient piece as the gradient of the leaf ``x`` (its shape and float dtype)."""
    if isinstance(x, np.ndarray):
        return np.asarray(g, dtype=x.dtype if x.dtype.kind == "f" else float).reshape(x.shape)
    if isinstance(x, np.floating):
        return type(x)(g[0])
    return float(g[0])


def _like(g, x):
    """The gradient ``g`` (an array) shaped as the gradient of ``x`` (a number, an array, a list)."""
    if isinstance(x, (list, tuple)):
        flat = np.ravel(g)
        return adjoint_of(unflatten([float(v) for v in flat], x))
    return _like_leaf(np.ravel(g), x) if not isinstance(x, np.ndarray) else \
        np.asarray(g, dtype=x.dtype if x.dtype.kind == "f" else float).reshape(x.shape)


# --- the backward (adjoint) sweep, shared by both solvers ----------------------------------------------------
def _adjoint_sweep(rhs, integrate, g, ys, times, t0, y0):
    """Integrate the adjoint ODE from ``times[-1]`` back to ``t0``, adding the cotangent ``g[i]`` of ``y(times[i])``
    on reaching ``times[i]``. ``integrate(aug, state, t_from, t_to)`` is the solver. Returns
    ``(y0_bar, theta_bar flat, times_bar, t0_bar)``."""
    n, m = ys.shape[1], rhs.size

    def aug(state, t):
        y, a = state[:n], state[n:2 * n]
        f, a_y, a_theta = rhs.vjp(y, t, a)
        return np.concatenate([f, -a_y, -a_theta])

    times_bar = np.array([np.dot(g[i], rhs.value(ys[i], times[i])) if np.any(g[i]) else 0.0
                          for i in range(len(times))])
    state = np.concatenate([ys[-1], g[-1], np.zeros(m)])
    for i in range(len(times) - 1, -1, -1):
        start = times[i]
        end = times[i - 1] if i > 0 else t0
        if end != start:
            state = integrate(aug, state, start, end)
        if i > 0:
            state[n:2 * n] += g[i - 1]
    a = state[n:2 * n]
    t0_bar = -np.dot(a, rhs.value(y0, t0)) if np.any(a) else 0.0
    return a, state[2 * n:], times_bar, t0_bar


def refuse_changed_state(func, y0, t0, args, tfirst):
    """The right-hand side ``func`` run once on a copy of the start: one that changes its ``y`` in place (``y *= -k;
    return y``) changes the solver's own state, so that what the solver computes is no solution of an equation
    ``dy/dt = f(y, t)``, which is what the derivative differentiates: refused."""
    y = np.array(y0, dtype=float)
    before = y.copy()
    func(*(((t0, y) if tfirst else (y, t0)) + tuple(args)))
    if not np.array_equal(y, before, equal_nan=True):
        raise OdeDerivativeError(f"s2sad: {getattr(func, '__name__', 'the right-hand side')} changes its argument y in "
                                 f"place, which changes the solver's state: write `dy = -k * y; return dy` (a new "
                                 f"array)")


def _check_finite(state, what):
    if not np.all(np.isfinite(state)):
        raise FloatingPointError(f"{what}: the adjoint ODE's solution is not finite")


# --- odeint ------------------------------------------------------------------------------------------------
def odeint_grads(g, ys, func, y0, t, args=(), rtol=None, atol=None, full_output=0, tfirst=False, mxstep=0,
                 hmax=0.0):
    """Adjoints ``(y0_bar, t_bar, args_bar)`` of ``ys = odeint(func, y0, t, args, ...)`` given ``ys``'s adjoint
    ``g``."""
    from scipy.integrate import odeint
    if full_output:
        raise OdeDerivativeError("s2sad differentiates odeint(..., full_output=0) only: its info dict has no "
                                 "derivative; call odeint without full_output on the differentiated path")
    args = _args_tuple(args)
    if g is None:
        return None, None, AdjTuple([None] * len(args))
    rhs = _Rhs(func, args, tfirst)
    times = np.asarray(t, dtype=float)
    refuse_changed_state(func, y0, times[0], args, tfirst)
    ys = np.asarray(ys, dtype=float)
    g = np.broadcast_to(np.asarray(g, dtype=float), ys.shape)
    y0_flat = np.ravel(np.asarray(y0, dtype=float))

    def integrate(aug, state, start, end):
        out = odeint(aug, state, [start, end], rtol=rtol, atol=atol, mxstep=mxstep, hmax=hmax)[-1].copy()
        _check_finite(out, "odeint")
        return out
    y0_bar, theta_bar, t_bar, t0_bar = _adjoint_sweep(rhs, integrate, g, ys, times, times[0], y0_flat)
    t_bar[0] += t0_bar
    return _like(y0_bar, y0), _like(t_bar, t), rhs.args_grads(theta_bar)


def _args_tuple(args):
    if args is None:
        return ()
    if not isinstance(args, tuple):
        raise OdeDerivativeError(f"s2sad differentiates an ODE solve whose args is a tuple, not a "
                                 f"{type(args).__name__}: pass args=(...,)")
    return args


# --- forward mode: the tangent ODE with the state, written to be differentiated from its source ----------------
def tangent_items(args, args_dot):
    """The tangents of ``args`` as ``s2sad.jvp`` takes them: an argument holding no floats (a count, a function)
    gets None."""
    if args_dot is None:
        return (None,) * len(args)
    return tuple(d if _holds_floats(a) else None for a, d in zip(args, args_dot))


def tangent_items_grad(g, args):
    """Adjoint of ``args_dot`` in ``tangent_items(args, args_dot)`` (the same selection: it is linear)."""
    if g is None:
        return None
    return AdjTuple(adjoint_of(d) if _holds_floats(a) else None for a, d in zip(args, g))


def refuse_full_output(full_output):
    if full_output:
        raise OdeDerivativeError("s2sad differentiates odeint(..., full_output=0) only: its info dict has no "
                                 "derivative; call odeint without full_output on the differentiated path")
    return full_output


def _sensitivity(z, t, func, n, args, dots):
    """``[f(y, t), ∂f/∂y s + ∂f/∂θ θ̇]`` for ``z = [y, s]``, the state and its tangent (``func(y, t, *args)``).
    ``n`` is the size of ``y``; ``dots`` the tangents of ``args`` (None: held constant)."""
    y = z[:n]
    s = z[n:]
    value, tangent = api.jvp(func, (y, t) + args, (s, None) + dots)
    return np.concatenate([np.ravel(value), np.ravel(tangent)])


def _sensitivity_tfirst(t, z, func, n, args, dots):
    """``_sensitivity`` for ``func(t, y, *args)`` (odeint's ``tfirst=True``, and solve_ivp)."""
    y = z[:n]
    s = z[n:]
    value, tangent = api.jvp(func, (t, y) + args, (None, s) + dots)
    return np.concatenate([np.ravel(value), np.ravel(tangent)])


def odeint_tangent(func, y0, t, args, y0_dot, args_dot, rtol=None, atol=None, full_output=0, tfirst=False, mxstep=0,
                   hmax=0.0):
    """Tangent of ``ys = odeint(func, y0, t, args, ...)`` along ``y0_dot`` and ``args_dot`` (None: held constant)."""
    refuse_full_output(full_output)
    refuse_changed_state(func, y0, np.ravel(t)[0], _args_tuple(args), tfirst)
    y = np.ravel(y0)
    n = np.size(y)
    if y0_dot is None:
        s = np.zeros(n)
    else:
        s = np.ravel(y0_dot)
    dots = tangent_items(args, args_dot)
    z0 = np.concatenate([y, s])
    if tfirst:
        zs = solvers.odeint(_sensitivity_tfirst, z0, t, args=(func, n, args, dots), rtol=rtol, atol=atol, mxstep=mxstep,
                    hmax=hmax, tfirst=True)
    else:
        zs = solvers.odeint(_sensitivity, z0, t, args=(func, n, args, dots), rtol=rtol, atol=atol, mxstep=mxstep,
                    hmax=hmax)
    return zs[:, n:]


def odeint_time_tangent(ys, func, y0, t, args, t_dot, rtol=None, atol=None, full_output=0, tfirst=False, mxstep=0,
                        hmax=0.0):
    """Tangent of ``ys = odeint(func, y0, t, ...)`` along the tangent ``t_dot`` of the times: the solution moves by
    ``f(y(t[i]), t[i]) ṫ[i]`` at ``t[i]``, and by ``-Φ f(y0, t0) ṫ0`` as the start moves. (Its rules refuse:
    second derivatives with respect to the times are not taken.)"""
    refuse_full_output(full_output)
    rhs = _Rhs(func, _args_tuple(args), tfirst)
    times = np.asarray(t, dtype=float)
    t_dot = np.asarray(t_dot, dtype=float)
    ys = np.asarray(ys, dtype=float)
    start = -rhs.value(np.ravel(np.asarray(y0, dtype=float)), times[0]) * t_dot[0]
    moved = odeint_tangent(func, y0, t, args, start, None, rtol, atol, 0, tfirst, mxstep, hmax) if np.any(start) \
        else np.zeros_like(ys)
    rates = np.array([rhs.value(ys[i], times[i]) for i in range(len(times))])
    return moved + rates * t_dot[:, None]


for _fn in (_sensitivity, _sensitivity_tfirst, odeint_tangent):
    setattr(_fn, SOURCE_MARK, True)          # differentiated from their source: second derivatives are adjoint solves


# --- solve_ivp ---------------------------------------------------------------------------------------------
def check_ivp(sol, t_eval, events, vectorized, args=None, y0=None):
    """Refuse what solve_ivp's derivative does not cover (``sol`` None: the call's options only)."""
    _args_tuple(args)
    if np.iscomplexobj(y0) or sol is not None and np.iscomplexobj(sol.y):
        raise OdeDerivativeError("s2sad differentiates real ODE solutions only (this solve_ivp's state is complex)")
    if t_eval is None:
        raise OdeDerivativeError("s2sad differentiates solve_ivp(..., t_eval=ts) only: without t_eval the times of "
                                 "sol.y are the solver's own steps, which have no derivative; pass the times you need")
    if events is not None:
        raise OdeDerivativeError("s2sad does not differentiate solve_ivp with events (an event moves where the "
                                 "solve stops); solve without events on the differentiated path")
    if vectorized:
        raise OdeDerivativeError("s2sad differentiates solve_ivp(..., vectorized=False) only")
    if sol is not None and sol.status != 0:
        raise OdeDerivativeError(f"solve_ivp did not reach the end of the interval ({sol.message}): its solution "
                                 "has no derivative")


def _zero(value):
    """Whether an adjoint is None or zero (what a function that received ``sol`` but did not read a field gives it)."""
    try:
        return value is None or not np.any(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        return False


def max_step_of(max_step):
    return np.inf if max_step is None else max_step


def solve_ivp_grads(g, sol, fun, t_span, y0, method="RK45", t_eval=None, events=None, vectorized=False, args=None,
                    rtol=1e-3, atol=1e-6, max_step=None):
    """Adjoints ``(t_span_bar, y0_bar, t_eval_bar, args_bar)`` of ``sol = solve_ivp(fun, t_span, y0, ...)`` given
    the adjoint ``g`` of ``sol`` (a dict adjoint: ``sol.y``'s under "y", ``sol.t``'s under "t")."""
    from scipy.integrate import solve_ivp
    check_ivp(sol, t_eval, events, vectorized)
    args = _args_tuple(args)
    refuse_changed_state(fun, y0, t_span[0], args, True)
    g = {} if g is None else dict(g)
    for key, value in g.items():
        if key not in ("y", "t") and not _zero(value):
            raise OdeDerivativeError(f"s2sad differentiates solve_ivp's result through sol.y and sol.t only, not "
                                     f"sol.{key}")
    g_y, g_t = g.get("y"), g.get("t")
    if g_y is None and g_t is None:
        return None, None, None, AdjTuple([None] * len(args))
    rhs = _Rhs(fun, args, True)
    times = np.asarray(t_eval, dtype=float)
    ys = np.asarray(sol.y, dtype=float).T
    g_y = np.zeros_like(ys) if g_y is None else np.broadcast_to(np.asarray(g_y, dtype=float), sol.y.shape).T
    limit = max_step_of(max_step)

    def integrate(aug, state, start, end):
        out = solve_ivp(lambda t, z: aug(z, t), (start, end), state, method=method, rtol=rtol, atol=atol,
                        max_step=limit)
        if out.status != 0:
            raise OdeDerivativeError(f"solve_ivp: the adjoint ODE's solve failed ({out.message})")
        _check_finite(out.y[:, -1], "solve_ivp")
        return out.y[:, -1].copy()
    y0_bar, theta_bar, t_eval_bar, t0_bar = _adjoint_sweep(rhs, integrate, g_y, ys, times, float(t_span[0]),
                                                           np.ravel(np.asarray(y0, dtype=float)))
    if g_t is not None:
        t_eval_bar = t_eval_bar + np.asarray(g_t, dtype=float)
    return (_like(np.array([t0_bar, 0.0]), t_span), _like(y0_bar, y0), _like(t_eval_bar, t_eval),
            rhs.args_grads(theta_bar))


class IvpTangent(AdjDict):
    """The tangent of solve_ivp's result: ``.y`` and ``.t`` (what attribute reads take), added key by key."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __add__(self, other):
        return IvpTangent(AdjDict.__add__(self, other))

    __radd__ = __add__


def ivp_tangent(y_dot, t_dot, sol=None):
    """The tangent of the solve_ivp result ``sol`` whose ``.y`` moves by ``y_dot`` and ``.t`` by ``t_dot``."""
    if sol is not None:
        check_ivp(sol, (), None, False)           # (t_eval was checked with the call's options)
        y_dot = np.zeros_like(sol.y) if y_dot is None else y_dot     # (a part with no tangent: zeros, which
        t_dot = np.zeros_like(sol.t) if t_dot is None else t_dot     # the code computing with sol.t reads)
    return IvpTangent({"y": y_dot, "t": t_dot})


def ivp_part(g, key):
    """The entry ``key`` of a solve_ivp result's adjoint or tangent (None when nothing flowed)."""
    return None if g is None else g.get(key)


def solve_ivp_state_tangent(fun, t_span, y0, method, t_eval, events, vectorized, args, y0_dot, args_dot,
                            rtol=1e-3, atol=1e-6, max_step=None):
    """Tangent of ``solve_ivp(...).y`` along ``y0_dot`` and ``args_dot`` (None: held constant)."""
    check_ivp(None, t_eval, events, vectorized, args, y0)
    refuse_changed_state(fun, y0, t_span[0], _args_tuple(args), True)
    y = np.ravel(y0)
    n = np.size(y)
    if y0_dot is None:
        s = np.zeros(n)
    else:
        s = np.ravel(y0_dot)
    if args is None:
        items = ()
    else:
        items = args
    dots = tangent_items(items, args_dot)
    z0 = np.concatenate([y, s])
    out = solvers.solve_ivp(_sensitivity_tfirst, t_span, z0, method=method, t_eval=t_eval, args=(fun, n, items, dots),
                    rtol=rtol, atol=atol, max_step=max_step_of(max_step))
    return out.y[n:]


setattr(solve_ivp_state_tangent, SOURCE_MARK, True)


def solve_ivp_time_tangent(sol, fun, t_span, y0, method="RK45", t_eval=None, events=None, vectorized=False,
                           args=None, t_span_dot=None, t_eval_dot=None, rtol=1e-3, atol=1e-6, max_step=None):
    """Tangent of ``sol = solve_ivp(fun, t_span, y0, ...)`` (an ``IvpTangent``) along the tangent of ``t_span`` or
    of ``t_eval``. (No derivative of its own: second derivatives with respect to times are refused.)"""
    check_ivp(sol, t_eval, events, vectorized)
    rhs = _Rhs(fun, _args_tuple(args), True)
    if t_span_dot is not None:
        start = -rhs.value(np.ravel(np.asarray(y0, dtype=float)), float(t_span[0])) * float(t_span_dot[0])
        moved = solve_ivp_state_tangent(fun, t_span, y0, method, t_eval, events, vectorized, args, start, None,
                                        rtol, atol, max_step)
        return ivp_tangent(moved, None, sol)
    times = np.asarray(t_eval, dtype=float)
    ys = np.asarray(sol.y, dtype=float).T
    rates = np.array([rhs.value(ys[i], times[i]) for i in range(len(times))])
    t_eval_dot = np.asarray(t_eval_dot, dtype=float)
    return ivp_tangent((rates * t_eval_dot[:, None]).T, t_eval_dot, sol)


def ivp_one(g, key):
    """A solve_ivp result's adjoint with ``g`` under ``key`` (the adjoint of ``ivp_part``)."""
    return None if g is None else AdjDict({key: g})


def no_second_order_in_time(*_):
    """The adjoint of what only a second derivative with respect to an ODE's times reaches: refused."""
    raise OdeDerivativeError("s2sad does not take second derivatives of an ODE solution with respect to its times "
                             "(odeint's t, solve_ivp's t_span and t_eval): differentiate once with respect to them, "
                             "or hold them constant (second derivatives with respect to y0 and args work)")
