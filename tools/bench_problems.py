"""The seven benchmark problems of ``tools/bench.py``.

Each problem is

* a plain Python/NumPy function written the way a user would write it (``recurrence``,
  ``taylor_sin``, ...): this is what s2sad differentiates, and, re-bound to another
  array namespace by :func:`rebind`, what autograd, JAX and PyTorch differentiate too
  (the very same code object: only the module-level names ``np`` and ``math`` change);
* a careful hand-written reverse-mode gradient, ``*_hand``: a function returning
  ``(value, pullback)`` with ``pullback(cotangent)`` the gradient scaled by the cotangent
  (the hand-written ``value_and_grad`` is ``pullback(1.0)``); the closure is what the
  hand-written forward sweep keeps for the backward sweep;
* ``make_args(rng)``: the arguments (Python floats for scalar problems) and ``wrt``.

Nothing here imports s2sad, autograd, JAX or PyTorch: ``bench.py`` does, one tool per
process.
"""
import math
import types
from dataclasses import dataclass, field

import numpy as np


# =============================================================================================
# 1. A 1000-step scalar recurrence on Python floats (explicit Euler for x' = a sin x - b x^2 + c)
# =============================================================================================
def recurrence(a, b, c, x0):
    h = 0.01
    x = x0
    for t in range(1000):
        x = x + h * (a * math.sin(x) - b * x ** 2 + c)
    return x


def recurrence_hand(a, b, c, x0):
    """Keeps x_t and sin(x_t) of every step (cos is computed in the backward sweep)."""
    h = 0.01
    sin = math.sin
    xs = []
    sines = []
    x = x0
    for t in range(1000):
        s = sin(x)
        xs.append(x)
        sines.append(s)
        x = x + h * (a * s - b * x * x + c)

    def pullback(g):
        cos = math.cos
        a_bar = b_bar = c_bar = 0.0
        x_bar = g
        for x, s in zip(reversed(xs), reversed(sines)):
            u = h * x_bar                      # adjoint of the bracket
            a_bar += u * s
            b_bar -= u * x * x
            c_bar += u
            x_bar += u * (a * cos(x) - 2.0 * b * x)
        return a_bar, b_bar, c_bar
    return x, pullback


def recurrence_args(rng):
    return (0.9, 0.3, 0.5, 0.1), (0, 1, 2)


# =============================================================================================
# 2. Truncated Taylor series of sin with a data-dependent break
# =============================================================================================
def taylor_sin(x):
    term = x
    total = x
    for n in range(1, 200, 2):
        term = -term * x * x / ((n + 1) * (n + 2))
        total = total + term
        if abs(term) < 1e-16:
            break
    return total


def taylor_sin_hand(x):
    """Reverse mode by hand: keeps the term entering each iteration."""
    xx = x * x
    term = x
    total = x
    terms = []
    for n in range(1, 200, 2):
        terms.append(term)
        term = -term * xx / ((n + 1) * (n + 2))
        total = total + term
        if abs(term) < 1e-16:
            break

    def pullback(g):
        term_bar = 0.0
        xx_bar = 0.0
        n = 2 * len(terms) - 1
        for prev in reversed(terms):
            term_bar += g                      # total = total + term
            c = (n + 1) * (n + 2)
            xx_bar -= term_bar * prev / c      # term = -prev * xx / c
            term_bar = -term_bar * xx / c
            n -= 2
        return g + term_bar + 2.0 * x * xx_bar     # total = x, term = x, xx = x * x
    return total, pullback


def taylor_sin_args(rng):
    return (3.0,), 0


# =============================================================================================
# 3. Logistic regression loss, X 1000 x 20
# =============================================================================================
def logreg_loss(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def logreg_hand(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    value = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

    def pullback(g):
        return X.T @ ((p - y) * (g / y.shape[0]))
    return value, pullback


def logreg_args(rng):
    X = rng.standard_normal((1000, 20))
    w = 0.1 * rng.standard_normal(20)
    y = (rng.uniform(size=1000) < 1.0 / (1.0 + np.exp(-X @ rng.standard_normal(20)))).astype(float)
    return (w, X, y), 0


# =============================================================================================
# 4. MLP 64-128-128-10, tanh, batch 256, softmax cross-entropy; params a list of (W, b)
# =============================================================================================
def mlp_loss(params, X, Y):
    h = X
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
    W, b = params[-1]
    logits = h @ W + b
    m = np.max(logits, axis=1, keepdims=True)
    log_probs = logits - m - np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_probs, axis=1))


def mlp_hand(params, X, Y):
    """Keeps each layer's input (the hidden activations) and the softmax. Y is one-hot."""
    hs = [X]
    h = X
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
        hs.append(h)
    W, b = params[-1]
    logits = h @ W + b
    m = np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits - m)
    s = np.sum(e, axis=1, keepdims=True)
    log_probs = logits - m - np.log(s)
    value = -np.mean(np.sum(Y * log_probs, axis=1))
    e /= s                                     # softmax, in place: e is ours

    def pullback(g):
        d = (e - Y) * (g / Y.shape[0])         # rows of Y sum to 1
        grads = [None] * len(params)
        for i in range(len(params) - 1, -1, -1):
            W = params[i][0]
            h = hs[i]
            grads[i] = (h.T @ d, d.sum(axis=0))
            if i:
                d = (d @ W.T) * (1.0 - h * h)
        return grads
    return value, pullback


def mlp_args(rng):
    sizes = [64, 128, 128, 10]
    params = [(rng.standard_normal((m, n)) / np.sqrt(m), 0.1 * rng.standard_normal(n))
              for m, n in zip(sizes[:-1], sizes[1:])]
    X = rng.standard_normal((256, 64))
    Y = np.eye(10)[rng.integers(0, 10, size=256)]
    return (params, X, Y), 0


# =============================================================================================
# 5. GMM log-likelihood with a Wishart prior, as defined by ADBench (d=10, k=25, n=1000)
#
# ADBench's objective (src/python/modules/PyTorch/gmm_objective.py there), vectorised over
# the points: alphas (k,) unnormalised log weights, means (k, d), icf (k, d(d+1)/2): the
# log of the diagonal of each inverse Cholesky factor Q_k, then its strictly lower part
# column by column. Q_k (x - mu_k) = exp(q_k) * (x - mu_k) + L_k (x - mu_k).
# =============================================================================================
def log_gamma_distrib(a, p):
    """log of the multivariate gamma function Gamma_p(a) (scipy.special.multigammaln)."""
    out = 0.25 * p * (p - 1) * math.log(math.pi)
    for j in range(1, p + 1):
        out = out + math.lgamma(a + 0.5 * (1 - j))
    return out


def logsumexp(x, axis=None):
    m = np.max(x, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(x - m), axis=axis)) + np.squeeze(m, axis=axis)


def gmm_objective(alphas, means, icf, x, wishart_gamma, wishart_m, tril_index):
    n, d = x.shape
    k = alphas.shape[0]
    qs = icf[:, :d]
    Qdiags = np.exp(qs)
    sum_qs = np.sum(qs, axis=1)
    # L_k from the strictly lower entries of icf: tril_index[i, j] is 1 + the position of
    # L[i, j] in icf[:, d:], and 0 (a zero column in front) on and above the diagonal
    Lparams = np.concatenate([np.zeros((k, 1), dtype=icf.dtype), icf[:, d:]], axis=1)
    Ls = Lparams[:, tril_index]
    xcentered = x[:, None, :] - means[None, :, :]
    Lxcentered = Qdiags * xcentered + np.einsum("kij,nkj->nki", Ls, xcentered)
    sqsum_Lxcentered = np.sum(Lxcentered ** 2, axis=2)
    inner_term = alphas + sum_qs - 0.5 * sqsum_Lxcentered
    slse = np.sum(logsumexp(inner_term, axis=1))
    CONSTANT = -n * d * 0.5 * math.log(2 * math.pi)
    # log_wishart_prior (ADBench's, signs included)
    p = d
    nw = p + wishart_m + 1
    frobenius = np.sum(Qdiags ** 2, axis=1) + np.sum(icf[:, d:] ** 2, axis=1)
    out = np.sum(0.5 * wishart_gamma * wishart_gamma * frobenius - wishart_m * sum_qs)
    C = nw * p * math.log(wishart_gamma / math.sqrt(2))
    prior = out - k * (C - log_gamma_distrib(0.5 * nw, p))
    return CONSTANT + slse - n * logsumexp(alphas) + prior


def tril_index(d):
    """The (d, d) integer array of gmm_objective: column-major positions of the strictly lower part, from 1."""
    idx = np.zeros((d, d), dtype=np.intp)
    pos = 1
    for j in range(d):
        for i in range(j + 1, d):
            idx[i, j] = pos
            pos += 1
    return idx


def gmm_hand(alphas, means, icf, x, wishart_gamma, wishart_m, tril_index):
    """Same forward computations; keeps xcentered, Q (x - mu), the responsibilities."""
    n, d = x.shape
    k = alphas.shape[0]
    qs = icf[:, :d]
    Qdiags = np.exp(qs)
    sum_qs = np.sum(qs, axis=1)
    Lparams = np.concatenate([np.zeros((k, 1), dtype=icf.dtype), icf[:, d:]], axis=1)
    Ls = Lparams[:, tril_index]
    xc = x[:, None, :] - means[None, :, :]                       # (n, k, d)
    z = Qdiags * xc + np.einsum("kij,nkj->nki", Ls, xc)           # Q_k (x_n - mu_k)
    inner = alphas + sum_qs - 0.5 * np.sum(z * z, axis=2)         # (n, k)
    mx = np.max(inner, axis=1, keepdims=True)
    r = np.exp(inner - mx)
    se = np.sum(r, axis=1, keepdims=True)
    slse = np.sum(np.log(se) + mx)
    r /= se                                                       # responsibilities
    amax = np.max(alphas)
    wa = np.exp(alphas - amax)
    sa = np.sum(wa)
    wa /= sa                                                      # softmax(alphas)
    CONSTANT = -n * d * 0.5 * math.log(2 * math.pi)
    nw = d + wishart_m + 1
    g2 = wishart_gamma * wishart_gamma
    lower = icf[:, d:]
    out = np.sum(0.5 * g2 * (np.sum(Qdiags ** 2, axis=1) + np.sum(lower ** 2, axis=1)) - wishart_m * sum_qs)
    C = nw * d * math.log(wishart_gamma / math.sqrt(2))
    prior = out - k * (C - log_gamma_distrib(0.5 * nw, d))
    value = CONSTANT + slse - n * (math.log(sa) + amax) + prior

    def pullback(g):
        rg = r * g
        rsum = np.sum(rg, axis=0)                                 # (k,)
        g_alphas = rsum - (n * g) * wa
        dz = rg[:, :, None] * z                                   # minus d value / d z
        dzk = dz.transpose(1, 0, 2)                               # (k, n, d)
        xck = xc.transpose(1, 0, 2)
        # d/dQdiag and d/dL_k: sum over points of dz x^T (a batched matmul over k)
        outer = -np.matmul(dzk.transpose(0, 2, 1), xck)           # (k, d, d)
        g_qs = (np.einsum("kii->ki", outer) + g * g2 * Qdiags) * Qdiags + (rsum - g * wishart_m)[:, None]
        rows, cols = _tril_rows_cols(tril_index)
        g_lower = outer[:, rows, cols] + (g * g2) * lower
        # d/dmeans = -sum_n Q_k^T dz
        dxc = Qdiags[:, None, :] * dzk + np.matmul(dzk, Ls)                   # (k, n, d)
        g_means = np.sum(dxc, axis=1)
        return g_alphas, g_means, np.concatenate([g_qs, g_lower], axis=1)
    return value, pullback


_tril_cache = {}


def _tril_rows_cols(index):
    key = (index.shape, index.tobytes())
    rc = _tril_cache.get(key)
    if rc is None:
        i, j = np.nonzero(index)
        order = np.argsort(index[i, j])
        rc = _tril_cache[key] = (i[order], j[order])
    return rc


def gmm_args(rng):
    # ADBench's generator: alphas, icf ~ N(0, 1), means ~ U(0, 1), x ~ N(0, 1); Wishart gamma 1, m 0
    d, k, n = 10, 25, 1000
    alphas = rng.standard_normal(k)
    means = rng.uniform(size=(k, d))
    icf = rng.standard_normal((k, d * (d + 1) // 2))
    x = rng.standard_normal((n, d))
    return (alphas, means, icf, x, 1.0, 0, tril_index(d)), (0, 1, 2)


# =============================================================================================
# 6. RNN: 50 steps unrolled by a Python loop, hidden 64, batch 32
# =============================================================================================
def rnn_loss(params, xs, targets):
    Wx, Wh, b, Wy, by = params
    h = np.zeros((xs.shape[1], Wh.shape[0]), dtype=xs.dtype)
    predictions = []
    for x_t in xs:
        h = np.tanh(x_t @ Wx + h @ Wh + b)
        predictions.append(h @ Wy + by)
    return np.mean((np.stack(predictions) - targets) ** 2)


def rnn_hand(params, xs, targets):
    """Keeps the hidden states; the weight gradients are one matmul over all steps each."""
    Wx, Wh, b, Wy, by = params
    T, B, I = xs.shape
    H = Wh.shape[0]
    hs = np.empty((T + 1, B, H), dtype=xs.dtype)
    hs[0] = 0.0
    for t in range(T):
        hs[t + 1] = np.tanh(xs[t] @ Wx + hs[t] @ Wh + b)
    diff = hs[1:] @ Wy + by - targets                            # (T, B, O)
    value = np.mean(diff ** 2)

    def pullback(g):
        dpred = diff * (2.0 * g / diff.size)
        dh_out = dpred @ Wy.T                                     # (T, B, H)
        da = np.empty((T, B, H), dtype=xs.dtype)
        dh = np.zeros((B, H), dtype=xs.dtype)
        for t in range(T - 1, -1, -1):
            dh += dh_out[t]
            a = dh * (1.0 - hs[t + 1] * hs[t + 1])
            da[t] = a
            dh = a @ Wh.T
        da2 = da.reshape(T * B, H)
        return (xs.reshape(T * B, I).T @ da2,
                hs[:-1].reshape(T * B, H).T @ da2,
                da2.sum(axis=0),
                hs[1:].reshape(T * B, H).T @ dpred.reshape(T * B, -1),
                dpred.sum(axis=(0, 1)))
    return value, pullback


def rnn_args(rng):
    T, B, I, H, O = 50, 32, 16, 64, 4
    params = (rng.standard_normal((I, H)) / np.sqrt(I),
              rng.standard_normal((H, H)) / np.sqrt(H),
              0.1 * rng.standard_normal(H),
              rng.standard_normal((H, O)) / np.sqrt(H),
              0.1 * rng.standard_normal(O))
    xs = rng.standard_normal((T, B, I))
    targets = rng.standard_normal((T, B, O))
    return (params, xs, targets), 0


# =============================================================================================
# 7. RK4 on Lotka-Volterra, 500 steps, gradient with respect to the four rates (Python floats)
# =============================================================================================
def lotka_volterra(x, y, alpha, beta, delta, gamma):
    return alpha * x - beta * x * y, delta * x * y - gamma * y


def rk4_loss(alpha, beta, delta, gamma, x0, y0):
    h = 0.01
    x = x0
    y = y0
    for step in range(500):
        k1x, k1y = lotka_volterra(x, y, alpha, beta, delta, gamma)
        k2x, k2y = lotka_volterra(x + 0.5 * h * k1x, y + 0.5 * h * k1y, alpha, beta, delta, gamma)
        k3x, k3y = lotka_volterra(x + 0.5 * h * k2x, y + 0.5 * h * k2y, alpha, beta, delta, gamma)
        k4x, k4y = lotka_volterra(x + h * k3x, y + h * k3y, alpha, beta, delta, gamma)
        x = x + h / 6 * (k1x + 2 * k2x + 2 * k3x + k4x)
        y = y + h / 6 * (k1y + 2 * k2y + 2 * k3y + k4y)
    return (x - 1.0) ** 2 + (y - 1.0) ** 2


def rk4_hand(alpha, beta, delta, gamma, x0, y0):
    """Discrete adjoint of RK4, inlined; keeps the four stage points of every step (8 floats)."""
    h = 0.01
    h2 = 0.5 * h
    h6 = h / 6
    x = x0
    y = y0
    stages = []
    for step in range(500):
        k1x = alpha * x - beta * x * y
        k1y = delta * x * y - gamma * y
        x2 = x + h2 * k1x
        y2 = y + h2 * k1y
        k2x = alpha * x2 - beta * x2 * y2
        k2y = delta * x2 * y2 - gamma * y2
        x3 = x + h2 * k2x
        y3 = y + h2 * k2y
        k3x = alpha * x3 - beta * x3 * y3
        k3y = delta * x3 * y3 - gamma * y3
        x4 = x + h * k3x
        y4 = y + h * k3y
        k4x = alpha * x4 - beta * x4 * y4
        k4y = delta * x4 * y4 - gamma * y4
        stages.append((x, y, x2, y2, x3, y3, x4, y4))
        x = x + h6 * (k1x + 2 * k2x + 2 * k3x + k4x)
        y = y + h6 * (k1y + 2 * k2y + 2 * k3y + k4y)
    value = (x - 1.0) ** 2 + (y - 1.0) ** 2

    def pullback(g):
        xb = 2.0 * (x - 1.0) * g
        yb = 2.0 * (y - 1.0) * g
        ab = bb = db = gb = 0.0
        for x1, y1, x2, y2, x3, y3, x4, y4 in reversed(stages):
            # adjoint of x_new = x + h/6 (k1x + 2 k2x + 2 k3x + k4x), same for y; x carries xb
            u4, v4 = h6 * xb, h6 * yb                    # cotangents of k4, then k3, k2, k1
            u3, v3 = 2 * u4, 2 * v4
            # vjp of f at a stage point (X, Y) with cotangent (u, v):
            #   X: u (alpha - beta Y) + v delta Y;  Y: -u beta X + v (delta X - gamma)
            #   alpha: u X;  beta: -u X Y;  delta: v X Y;  gamma: -v Y
            xy = x4 * y4
            ab += u4 * x4; bb -= u4 * xy; db += v4 * xy; gb -= v4 * y4
            X = u4 * (alpha - beta * y4) + v4 * delta * y4
            Y = v4 * (delta * x4 - gamma) - u4 * beta * x4
            xb += X; yb += Y
            u3 += h * X; v3 += h * Y
            xy = x3 * y3
            ab += u3 * x3; bb -= u3 * xy; db += v3 * xy; gb -= v3 * y3
            X = u3 * (alpha - beta * y3) + v3 * delta * y3
            Y = v3 * (delta * x3 - gamma) - u3 * beta * x3
            xb += X; yb += Y
            u2 = 2 * u4 + h2 * X; v2 = 2 * v4 + h2 * Y
            xy = x2 * y2
            ab += u2 * x2; bb -= u2 * xy; db += v2 * xy; gb -= v2 * y2
            X = u2 * (alpha - beta * y2) + v2 * delta * y2
            Y = v2 * (delta * x2 - gamma) - u2 * beta * x2
            xb += X; yb += Y
            u1 = u4 + h2 * X; v1 = v4 + h2 * Y
            xy = x1 * y1
            ab += u1 * x1; bb -= u1 * xy; db += v1 * xy; gb -= v1 * y1
            xb += u1 * (alpha - beta * y1) + v1 * delta * y1
            yb += v1 * (delta * x1 - gamma) - u1 * beta * x1
        return ab, bb, db, gb
    return value, pullback


def rk4_args(rng):
    return (1.0, 0.1, 0.075, 1.5, 10.0, 5.0), (0, 1, 2, 3)


# =============================================================================================
# Input variants: the same problems on the other kinds of input a user passes
#
# Scalar problems run on Python floats (their reference input), np.float64 scalars (what
# indexing a float64 array gives), parameters packed in one float64 array, and parameters in a
# list of Python floats; array problems on float64 arrays (their reference) and float32 arrays.
# Each variant has its own hand-written gradient taking the same inputs; it converts them the
# way a human would (np.float64 scalars to floats once, at the entry) and returns the gradient
# shaped like the differentiated argument.
# =============================================================================================
def recurrence_packed(theta, x0):
    h = 0.01
    x = x0
    for t in range(1000):
        x = x + h * (theta[0] * math.sin(x) - theta[1] * x ** 2 + theta[2])
    return x


def recurrence_packed_hand(theta, x0):
    """The parameters as Python floats, then ``recurrence_hand``; the gradient like ``theta``."""
    a, b, c = [float(v) for v in theta]
    value, pullback = recurrence_hand(a, b, c, float(x0))
    return value, lambda g: like_params(theta, pullback(g))


def recurrence_float64_hand(a, b, c, x0):
    return recurrence_hand(float(a), float(b), float(c), float(x0))


def taylor_sin_float64_hand(x):
    return taylor_sin_hand(float(x))


def rk4_packed(theta, x0, y0):
    alpha, beta, delta, gamma = theta
    return rk4_loss(alpha, beta, delta, gamma, x0, y0)


def rk4_packed_hand(theta, x0, y0):
    """The rates as Python floats, then ``rk4_hand``; the gradient like ``theta``."""
    alpha, beta, delta, gamma = [float(v) for v in theta]
    value, pullback = rk4_hand(alpha, beta, delta, gamma, float(x0), float(y0))
    return value, lambda g: like_params(theta, pullback(g))


def rk4_float64_hand(alpha, beta, delta, gamma, x0, y0):
    return rk4_hand(float(alpha), float(beta), float(delta), float(gamma), float(x0), float(y0))


def like_params(theta, grads):
    """A tuple of gradients as an array like ``theta`` or as a list."""
    return np.array(grads, dtype=theta.dtype) if isinstance(theta, np.ndarray) else list(grads)


def _float64_scalars(make_args):
    def make(rng):
        args, wrt = make_args(rng)
        return tuple(np.float64(a) if type(a) is float else a for a in args), wrt
    return make


def _packed(make_args, count, container):
    """The first ``count`` (differentiated) arguments in one ``container`` (np.array or list)."""
    def make(rng):
        args, wrt = make_args(rng)
        assert tuple(wrt) == tuple(range(count))
        return (container(args[:count]),) + tuple(args[count:]), 0
    return make


def _float32_arrays(make_args):
    def make(rng):
        args, wrt = make_args(rng)
        return tuple(to_float32(a) for a in args), wrt
    return make


def to_float32(x):
    """Float arrays, also inside lists and tuples, as float32 (integer arrays and numbers unchanged)."""
    if isinstance(x, np.ndarray) and x.dtype == np.float64:
        return x.astype(np.float32)
    if isinstance(x, (list, tuple)):
        return type(x)(to_float32(v) for v in x)
    return x


VARIANTS = {
    "float": "Python floats",
    "np.float64": "np.float64 scalars",
    "packed": "parameters packed in one float64 array",
    "list": "parameters in a list of Python floats",
    "float64": "float64 arrays",
    "float32": "float32 arrays",
}


@dataclass
class Variant:
    """One kind of input for a problem: the user function, its hand-written gradient (same inputs),
    the arguments, and the functions whose source is the hand-written gradient (for line counts)."""
    name: str
    f: object
    hand: object
    make_args: object
    hand_parts: tuple


def _scalar_variants(f, hand, make_args, float64_hand, packed=None, packed_hand=None, count=0):
    variants = [Variant("float", f, hand, make_args, (hand,)),
                Variant("np.float64", f, float64_hand, _float64_scalars(make_args), (float64_hand, hand))]
    if packed is not None:
        variants += [Variant("packed", packed, packed_hand, _packed(make_args, count, np.array),
                             (packed_hand, like_params, hand)),
                     Variant("list", packed, packed_hand, _packed(make_args, count, list),
                             (packed_hand, like_params, hand))]
    return variants


def _array_variants(f, hand, make_args, parts=()):
    return [Variant("float64", f, hand, make_args, (hand,) + parts),
            Variant("float32", f, hand, _float32_arrays(make_args), (hand,) + parts)]


# =============================================================================================
# The table of problems
# =============================================================================================
@dataclass
class Problem:
    key: str
    title: str
    f: object
    hand: object
    make_args: object
    scalar: bool = False                 # Python-float problem (timings in microseconds)
    notes: list = field(default_factory=list)
    variants: dict = field(default_factory=dict)       # name -> Variant; the first is the reference input

    @property
    def base(self):
        return next(iter(self.variants))


PROBLEMS = {p.key: p for p in [
    Problem("recurrence", "1000-step scalar recurrence (floats, math)", recurrence, recurrence_hand,
            recurrence_args, scalar=True),
    Problem("taylor", "Taylor series of sin, data-dependent break", taylor_sin, taylor_sin_hand,
            taylor_sin_args, scalar=True),
    Problem("logreg", "logistic regression, X 1000x20", logreg_loss, logreg_hand, logreg_args),
    Problem("mlp", "MLP 64-128-128-10, batch 256", mlp_loss, mlp_hand, mlp_args),
    Problem("gmm", "GMM (ADBench) d=10 k=25 n=1000", gmm_objective, gmm_hand, gmm_args),
    Problem("rnn", "RNN 50 steps, hidden 64, batch 32", rnn_loss, rnn_hand, rnn_args),
    Problem("rk4", "RK4 Lotka-Volterra, 500 steps", rk4_loss, rk4_hand, rk4_args, scalar=True),
]}

for _p, _variants in [
    ("recurrence", _scalar_variants(recurrence, recurrence_hand, recurrence_args, recurrence_float64_hand,
                                    recurrence_packed, recurrence_packed_hand, 3)),
    ("taylor", _scalar_variants(taylor_sin, taylor_sin_hand, taylor_sin_args, taylor_sin_float64_hand)),
    ("logreg", _array_variants(logreg_loss, logreg_hand, logreg_args)),
    ("mlp", _array_variants(mlp_loss, mlp_hand, mlp_args)),
    ("gmm", _array_variants(gmm_objective, gmm_hand, gmm_args, (_tril_rows_cols,))),
    ("rnn", _array_variants(rnn_loss, rnn_hand, rnn_args)),
    ("rk4", _scalar_variants(rk4_loss, rk4_hand, rk4_args, rk4_float64_hand, rk4_packed, rk4_packed_hand, 4)),
]:
    PROBLEMS[_p].variants = {v.name: v for v in _variants}


def cases(keys=None, variants=None):
    """``(problem key, variant name)`` for every selected problem and every selected variant it has."""
    return [(key, name) for key in (keys or PROBLEMS) for name in PROBLEMS[key].variants
            if variants is None or name in variants]


def variant(key, name):
    return PROBLEMS[key].variants[name]


def hand_value_and_grad(problem):
    hand = problem.hand

    def value_and_grad(*args):
        value, pullback = hand(*args)
        return value, pullback(1.0)
    return value_and_grad


# =============================================================================================
# The same user code on another array library
# =============================================================================================
class MathLike:
    """``math`` for another array library: Python numbers go to ``math``, anything else to ``xp``."""

    pi = math.pi
    e = math.e

    def __init__(self, xp, names=("sin", "cos", "tan", "exp", "log", "sqrt", "tanh")):
        for name in names:
            setattr(self, name, self._either(getattr(math, name), getattr(xp, name)))
        self.lgamma = math.lgamma              # only ever called on constants here

    @staticmethod
    def _either(scalar_fn, array_fn):
        def fn(x):
            return scalar_fn(x) if type(x) in (float, int) else array_fn(x)
        return fn


def rebind(fn, **names):
    """``fn`` with its module's globals, and every function of this module it calls, seeing ``names`` instead."""
    new_globals = dict(fn.__globals__)
    new_globals.update(names)
    for name, value in list(new_globals.items()):
        if isinstance(value, types.FunctionType) and value.__globals__ is fn.__globals__:
            new_globals[name] = types.FunctionType(value.__code__, new_globals, value.__name__,
                                                   value.__defaults__, value.__closure__)
    return new_globals[fn.__name__]


class TorchNumpy:
    """The few NumPy functions the problems call, on torch tensors (float64)."""

    def __init__(self, torch):
        self.torch = torch
        for name in ("exp", "log", "tanh", "sin", "cos", "stack", "einsum"):
            setattr(self, name, getattr(torch, name))

    def sum(self, x, axis=None, keepdims=False):
        return self.torch.sum(x) if axis is None else self.torch.sum(x, dim=axis, keepdim=keepdims)

    def mean(self, x, axis=None, keepdims=False):
        return self.torch.mean(x) if axis is None else self.torch.mean(x, dim=axis, keepdim=keepdims)

    def max(self, x, axis=None, keepdims=False):
        if axis is None:
            m = self.torch.max(x)
            return m.reshape((1,) * x.dim()) if keepdims else m
        return self.torch.amax(x, dim=axis, keepdim=keepdims)

    def squeeze(self, x, axis=None):
        return x.squeeze() if axis is None else x.squeeze(axis)

    def concatenate(self, xs, axis=0):
        return self.torch.cat(xs, dim=axis)

    def zeros(self, shape, dtype=None):
        return self.torch.zeros(shape, dtype=self.torch.float64 if dtype is None else dtype)


# =============================================================================================
# Helpers shared by the tools
# =============================================================================================
def flatten(tree):
    """A gradient of any structure (floats, arrays, tuples, lists; torch/jax arrays) as one float64 vector."""
    out = []

    def walk(t):
        if isinstance(t, (tuple, list)):
            for item in t:
                walk(item)
        elif isinstance(t, dict):
            for key in sorted(t):
                walk(t[key])
        else:
            if hasattr(t, "detach"):
                t = t.detach().cpu().numpy()
            out.append(np.asarray(t, dtype=np.float64).ravel())
    walk(tree)
    return np.concatenate(out) if out else np.zeros(0)


def rel_error(g, ref):
    """max |g - ref| / max |ref| over the flattened gradients (inf when the shapes differ)."""
    g, ref = flatten(g), flatten(ref)
    if g.shape != ref.shape:
        return math.inf
    return float(np.max(np.abs(g - ref)) / max(np.max(np.abs(ref)), 1e-300))


def directional_check(f, args, wrt, grads, rng, n=3, eps=1e-6):
    """Worst relative error of <grad, v> against central differences of f along n random directions v."""
    wrt = (wrt,) if isinstance(wrt, int) else tuple(wrt)
    grads = (grads,) if len(wrt) == 1 else tuple(grads)
    worst = 0.0
    for _ in range(n):
        dirs = {i: _random_like(args[i], rng) for i in wrt}

        def moved(t):
            a = list(args)
            for i in wrt:
                a[i] = _axpy(t, dirs[i], args[i])
            return f(*a)
        numeric = (moved(eps) - moved(-eps)) / (2 * eps)
        analytic = sum(float(np.dot(flatten(g), flatten(dirs[i]))) for g, i in zip(grads, wrt))
        worst = max(worst, abs(analytic - numeric) / max(abs(numeric), abs(analytic), 1e-8))
    return worst


# How close a gradient must be to the hand-written one: relative to the largest hand-written
# component, and float32 inputs keep float32 results (checked where ``dtype`` is given).
TOLERANCE = {"float32": 1e-4}
TOLERANCE_FLOAT64 = 1e-9


def tolerance(variant_name):
    return TOLERANCE.get(variant_name, TOLERANCE_FLOAT64)


def compare(g, ref, variant_name, dtype=None):
    """``(error, problem)``: the largest |g - ref| over the largest |ref|, and why ``g`` is not the
    hand-written gradient ``ref`` (``None`` when it is: every component within the variant's
    tolerance of it, same structure and shapes, and with ``dtype`` every array of ``g`` of that dtype)."""
    tol = tolerance(variant_name)
    gs, rs = _leaves_of(g), _leaves_of(ref)
    if len(gs) != len(rs):
        return math.inf, f"{len(gs)} gradient components, the hand-written gradient has {len(rs)}"
    for i, (a, b) in enumerate(zip(gs, rs)):
        if np.shape(a) != np.shape(b):
            return math.inf, f"component {i} has shape {np.shape(a)}, the hand-written one {np.shape(b)}"
        if dtype is not None and isinstance(a, np.ndarray) and a.dtype != dtype:
            return math.inf, f"component {i} is {a.dtype} for {dtype} inputs"
    error = rel_error(g, ref)
    if not error <= tol:                          # NaN included
        return error, f"differs from the hand-written gradient by {error:.1e} (tolerance {tol:g})"
    return error, None


def _leaves_of(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _leaves_of(item)]
    if hasattr(tree, "detach"):
        tree = tree.detach().cpu().numpy()
    return [tree]


def fd_tolerance(variant_name):
    """Central differences (float64, eps 1e-6) against a gradient: its own rounding or float32's."""
    return 1e-3 if variant_name == "float32" else 1e-5


def code_lines(source):
    """Lines of code in ``source``: not blank, not only a comment, not part of a docstring."""
    import ast
    import io
    import textwrap
    import tokenize
    source = textwrap.dedent(source)
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    lines = set()
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER)
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines - docstrings)


def hand_lines(v):
    """Lines of code of a variant's hand-written gradient (its own functions, ``Variant.hand_parts``)."""
    import inspect
    return sum(code_lines(inspect.getsource(fn)) for fn in v.hand_parts)


def _random_like(x, rng):
    if isinstance(x, (tuple, list)):
        return type(x)(_random_like(v, rng) for v in x)
    if isinstance(x, float):
        return float(rng.standard_normal())
    return rng.standard_normal(np.shape(x))


def _axpy(t, v, x):
    if isinstance(x, (tuple, list)):
        return type(x)(_axpy(t, vi, xi) for vi, xi in zip(v, x))
    if isinstance(x, float):
        return x + t * v
    return x + t * v


# =============================================================================================
# Why a goal is missed, per (problem, goal): printed by bench.py under the Goals table, only
# for goals missed in that run. Goals: "ratio_hand" (s2sad / hand <= 1.2), "ratio_primal"
# (gradient / primal <= 3), "transform" (first call <= 150 ms), "bytes" (stored <= 1.5x hand).
# =============================================================================================
_SCALAR_LOOP = ("the generated loop reads like the hand-written one (stacks read back with `for x, _t1 in "
                "zip(reversed(x_stack), reversed(_t1_stack))`, temporaries folded into expressions, five backward "
                "statements per step) and, since the tenth session, squares computed again as `x * x`: 1.11-1.18 "
                "timed alone. What is left: `value_and_grad`'s per-call entry (about 0.3 us, back/entry.py), "
                "`math.sin`/`math.cos` looked up through the module where the hand-written one binds them to locals, "
                "and, for packed parameters, the items read again by index in the backward loop.")

MISSED_REASONS = {
    ("recurrence", "ratio_hand"): _SCALAR_LOOP,
    ("recurrence", "ratio_primal"): "Even the hand-written gradient takes about 2.4-2.6x the primal (a forward sweep that records, "
        "then a backward sweep of as many operations); s2sad measured 2.98 in the tenth session's run, 3.12 before",
    ("taylor", "ratio_hand"): "A call lasts about 4 us, so per-call costs weigh. The eleventh session counted the backward "
        "loop's index down instead of zipping the range with the stack (reverse/count_down.py: 1.25 -> 1.14 timed "
        "alone, np.float64 1.40 -> 1.20) and wrote the per-call entry's cache checks in line (0.4 -> 0.27 us for "
        "floats, 0.56 -> 0.22 us for np.float64). Left: the product `-term * x * x` is differentiated as written "
        "(two multiplications, two adjoint terms) where the hand-written one multiplies by a precomputed `xx` "
        "(which rounds the forward value differently from the user's code); merging the two terms measured 1%",
    ("taylor", "ratio_primal"): "The primal is 1.5 us; the hand-written gradient itself takes 2.5x it, and the per-call entry "
        "and the product's second adjoint term come on top",
    ("logreg", "ratio_hand"): "The adjoint is now the hand-written one's (`w_bar = X.T @ (_t11_bar * (y - p))`: "
        "the cross-entropy of a logistic fused, reverse/adjoints._cross_entropy, and since the eighth session the "
        "mean's adjoint a number, not an array of the batch's size); what is left is `value_and_grad`'s per-call "
        "costs (argument checks, the cache lookup, the gradient converted like its argument), about 2 µs of a "
        "20-30 µs call.",
    ("logreg", "bytes"): "The pullback keeps `p` like the hand-written one, plus the shape of one temporary "
        "for `unreduce`.",
    ("mlp", "ratio_hand"): "Timed alone, in alternating processes on one thread, 1.00-1.09 (the ninth session's full run "
        "1.27; float32 0.94 in the tenth's): each matmul's adjoint is `g @ W.T` / `h.T @ g`, the first "
        "layer's input adjoint is skipped, and `params[:-1]` is walked directly. Left: the bias adjoint's "
        "`unbroadcast` per layer, the list-of-pairs gradient built with `_s2.index_add`/`unpack_grad` per layer, and "
        "the run-to-run spread of this machine (its primal took 534 us in this run, 474 us in another)",
    ("mlp", "ratio_primal"): "The hand-written gradient itself takes 2.6x the primal (more where the primal runs "
        "fast); the per-layer container traffic and the cross-entropy's `unreduce` passes come on top",
    ("mlp", "bytes"): "Besides each layer's input (as the hand-written one), the pullback keeps the logits and "
        "`exp(logits - m)` of the loss (20 kB each) and, for `extremum_grad`, the max `m`: the hand-written one "
        "keeps only the softmax.",
    ("mlp", "transform"): "Normally about 30 ms; only a loaded machine takes it past 150 ms (rule bodies are "
        "copied per operation and the loop body is differentiated twice to reach its fixed point).",
    ("rnn", "transform"): "Normally about 27 ms; only a loaded machine takes it past 150 ms (rule bodies are "
        "copied per operation and the loop body is differentiated twice to reach its fixed point).",
    ("gmm", "ratio_hand"): "Met since the tenth session (1.12 in its run, 1.37-1.43 before): the (n, k, d) intermediates the "
        "backward sweep reads only for their shapes are released after the forward sweep's last read (`_t7 = "
        "_s2.shape_of(_t7)`), so fewer large arrays are alive at once and fresh memory faults in less often. "
        "float32: 1.22 in this run (1.18-1.24 timed alone). Left: the Q-diagonal gradient as a product summed over "
        "n, where the hand-written one reads it off the diagonal of the batched outer products",
    ("gmm", "transform"): "About 86-89 ms on this machine when quiet since the eleventh session (130 before; 195 ms in "
        "the tenth session's loaded run): the GMM function is about 120 normalized statements with einsum, fancy "
        "indexing and a called helper. The eleventh session's tree walker, rule bodies copied while substituted "
        "and source trees copied without deepcopy took a third off",
    ("rnn", "ratio_hand"): "Since the ninth session the matmul adjoints are `h.T @ g` (the kinds follow "
        "`np.zeros(..., dtype=xs.dtype)`), the last step skips the initial state's adjoint and the bias sums are "
        "one `np.add.reduce`: 1.00-1.03 on float64. On float32 the per-step Python work weighs more than the "
        "halved BLAS work: the hand-written one stacks the steps and does one large matmul per weight. Batching "
        "them was tried (lists of the steps' operands, one product after the loop: float32 2.18 -> 1.98 ms, but "
        "float64 2.9 -> 4.9 ms from the concatenation copies) and not kept",
    ("rnn", "ratio_primal"): "The hand-written gradient itself takes 3.1x the primal (a 50-step Python loop both "
        "ways); s2sad's per-step helper calls come on top: `append_grads`, and three `unbroadcast`s of values whose "
        "shape depends on the carried state `h` (the tenth session reads `x_t @ Wx`'s shape from the last step, "
        "not pushed; for values depending on `h` only a runtime check of its shape could show theirs fixed)",
    ("rk4", "ratio_hand"): "Stage points read back by iteration, temporaries folded, adjoint updates merged "
        "(ninth session); left: one list per stage point (the hand-written one pushes one tuple per step)",
    ("rk4", "ratio_primal"): "One list push per kept stage point and step (the hand-written one pushes one tuple)",
    ("rk4", "transform"): "About 92-95 ms on this machine when quiet since the eleventh session (140-150 before, 241 ms in "
        "the tenth session's loaded run); the loop body is about 130 statements after inlining the helper four "
        "times, differentiated twice to reach its fixed point. The eleventh session: one tree walker without a "
        "generator per node (the transform walks about 100,000 nodes), rule bodies copied while substituted, "
        "signatures computed once, a quadratic walk in effects.follow_copies made linear",
}
