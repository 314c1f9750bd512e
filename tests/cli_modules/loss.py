import numpy as np
import s2sad

L2 = 0.01


def log1pexp(z):
    return np.logaddexp(0.0, z)


@s2sad.differentiable(wrt=(0, 1))
def loss(w, b, X, y):
    z = X @ w + b
    return np.mean(log1pexp(z) - y * z) + L2 * np.sum(w * w)
