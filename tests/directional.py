"""A second, independent check of gradients: directional finite differences along random directions."""
import numpy as np


def directional_check(f, args, wrt, grads, rng, n=3, eps=1e-6, rtol=1e-6, atol=1e-8):
    """<grad, v> against central differences of ``f`` along random directions ``v`` (all wrt arguments at once)."""
    wrt = tuple(wrt)
    for _ in range(n):
        dirs = {i: rng.standard_normal(np.shape(args[i])) for i in wrt}

        def moved(t):
            a = list(args)
            for i in wrt:
                a[i] = np.asarray(args[i], dtype=float) + t * dirs[i]
                if np.ndim(args[i]) == 0:
                    a[i] = float(a[i])
            return f(*a)
        numeric = (moved(eps) - moved(-eps)) / (2 * eps)
        analytic = sum(float(np.sum(np.asarray(g) * dirs[i])) for g, i in zip(grads, wrt))
        np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol)


def assert_reads_the_lower_triangle(f, a, seed=2, eps=1e-6, rtol=1e-6):
    """``f`` of a matrix ``a`` read by its lower triangle only (Cholesky, ``eigh``, ``pinv(hermitian=True)``,
    ``multivariate_normal``'s covariance): the gradient gives the upper triangle nothing, and along a direction
    that is not symmetric the gradient and the tangent are the central difference's."""
    import s2sad
    g = s2sad.grad(f)(a)
    assert np.all(np.triu(g, 1) == 0.0)
    t = np.random.default_rng(seed).standard_normal(np.shape(a))
    numeric = (f(a + eps * t) - f(a - eps * t)) / (2 * eps)
    np.testing.assert_allclose(np.sum(g * t), numeric, rtol=rtol)
    np.testing.assert_allclose(s2sad.jvp(f, (a,), (t,))[1], numeric, rtol=rtol)
