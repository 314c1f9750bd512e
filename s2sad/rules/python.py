"""Reverse and forward rules for Python's operators, builtins and the ``math`` module.

Scalar rules use ``math`` so that generated code for float code stays plain Python arithmetic.
"""
import builtins
import functools
import math
import operator

import numpy as np

from ..markers import stop_gradient
from ..runtime import picked, polygamma, prod_grad, product_items, real_only, unarray
from ..runtime import (broadcast, remainder_grad, retyped, concatenation, concatenation_grad, concatenation_tangent, repetition,
                       repetition_grad, repetition_tangent, safe_log, scaled_power, unbroadcast, unindex, unsum)
from .registry import elementwise, explainer, jvp, nondiff, vjp

# --- arithmetic operators (also NumPy's ufunc spellings, registered in numpy.py) ---
@elementwise(operator.add)
def add_vjp(g, ans, x, y): return unbroadcast(g, x), unbroadcast(g, y)
@elementwise(operator.sub)
def sub_vjp(g, ans, x, y): return unbroadcast(g, x), -unbroadcast(g, y)       # (negated after the sum: a smaller pass)
@elementwise(operator.mul)
def mul_vjp(g, ans, x, y): return unbroadcast(g * y, x), unbroadcast(g * x, y)
@elementwise(operator.truediv)
def truediv_vjp(g, ans, x, y): return unbroadcast(g / y, x), unbroadcast(-g * ans / y, y)
@elementwise(operator.pow)
def pow_vjp(g, ans, x, y): return unbroadcast(scaled_power(g * y, x, y - 1), x), unbroadcast(g * ans * safe_log(x), y)
@elementwise(operator.mod)
def mod_vjp(g, ans, x, y): return unbroadcast(g, x), unbroadcast(-g * ((x - ans) / y), y)
@elementwise(builtins.pow)                # pow(x, y) is x ** y (pow(x, y, mod) takes integers)
def builtin_pow_vjp(g, ans, x, y, mod=None): return unbroadcast(scaled_power(g * y, x, y - 1), x), unbroadcast(g * ans * safe_log(x), y), None
# ... where an operand may be a list or tuple: concatenation and repetition (analysis/shapes.containers)
@vjp(concatenation)
def concatenation_vjp(g, ans, x, y): return concatenation_grad(g, x, y, 0), concatenation_grad(g, x, y, 1)
@jvp(concatenation)
def concatenation_jvp(g, ans, x, y): return concatenation_tangent(g, x, y, ans, 0), concatenation_tangent(g, x, y, ans, 1)
@vjp(repetition)
def repetition_vjp(g, ans, x, y): return repetition_grad(g, x, y, 0), repetition_grad(g, x, y, 1)
@jvp(repetition)
def repetition_jvp(g, ans, x, y): return repetition_tangent(g, x, y, ans, 0), repetition_tangent(g, x, y, ans, 1)
@vjp(operator.getitem)
def getitem_vjp(g, ans, x, idx): return unindex(g, x, idx), None      # (a position or a key: no derivative; it
@jvp(operator.getitem)                                                   # may seem to carry one where a key sits
def getitem_jvp(g, ans, x, idx): return g[idx], None                     # beside a value: {k: d[k] for k in d})
@elementwise(operator.neg)
def neg_vjp(g, ans, x): return -g
@elementwise(operator.pos)
def pos_vjp(g, ans, x): return g

nondiff(operator.floordiv, operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
        operator.not_, operator.invert, operator.and_, operator.or_, operator.xor, operator.is_,
        operator.is_not, operator.contains)

# --- builtins ---
_COMPLEX_ABS = "the builtin abs (np.abs differentiates complex values)"
@elementwise(builtins.abs)
def abs_vjp(g, ans, x): return g * (real_only(x, _COMPLEX_ABS) > 0) - g * (x < 0)   # (a float stays a float)
@elementwise(builtins.max)                        # max(x, y) is y only where y > x (NaN: x, as Python keeps it)
def max_vjp(g, ans, x, y): return picked(g, not y > x), picked(g, y > x)
@elementwise(builtins.min)
def min_vjp(g, ans, x, y): return picked(g, not y < x), picked(g, y < x)
@vjp(builtins.sum)
def sum_vjp(g, ans, iterable, start=0): return unsum(g, iterable), unbroadcast(g, start)
@jvp(builtins.sum)
def sum_jvp(g, ans, iterable, start=0): return broadcast(sum(g), ans), broadcast(g, ans)
@elementwise(builtins.float)
def float_vjp(g, ans, x): return g
@vjp(builtins.list)
def list_vjp(g, ans, items): return retyped(g, items)
@jvp(builtins.list)
def list_jvp(t, ans, items): return list(t)
@vjp(builtins.tuple)
def tuple_vjp(g, ans, items): return retyped(g, items)
@jvp(builtins.tuple)
def tuple_jvp(t, ans, items): return tuple(t)
@vjp(math.fsum)
def fsum_vjp(g, ans, iterable): return unsum(g, iterable)
@jvp(math.fsum)
def fsum_jvp(t, ans, iterable): return math.fsum(t)

@vjp(math.prod)                         # the product of the other items (exact at zeros: runtime.prod_grad)
def math_prod_vjp(g, ans, iterable, start=1):
    items = product_items(iterable, [start])           # (items broadcast together and with start: [A, c], start=x)
    return unarray(prod_grad(g * start, ans, items, 0), iterable), unbroadcast(g * math.prod(iterable), start)
@jvp(math.prod)
def math_prod_jvp(g, ans, iterable, start=1):          # (no statement before the return: each term alone)
    return (np.sum(product_items(g, [*iterable, start]) * prod_grad(np.ones_like(ans), ans, product_items(
        iterable, [start]), 0), 0) * start, g * math.prod(iterable))
@vjp(math.dist)                          # (p = q: the subgradient 0, as math.hypot's)
def math_dist_vjp(g, ans, p, q):
    d = (np.asarray(p) - np.asarray(q)) * (g / (ans + (ans == 0.0)))
    return unarray(d, p), unarray(-d, q)
@jvp(math.dist)
def math_dist_jvp(g, ans, p, q):
    d = (np.asarray(p) - np.asarray(q)) / (ans + (ans == 0.0))
    return float(np.sum(d * np.asarray(g))), -float(np.sum(d * np.asarray(g)))
nondiff(stop_gradient)
nondiff(builtins.len, builtins.int, builtins.round, builtins.bool, builtins.range, builtins.isinstance,
        builtins.type, builtins.print, builtins.hash, builtins.id, builtins.str, builtins.repr)
@vjp(builtins.divmod)                    # q, r = divmod(x, y): r = x - y * q, q piecewise constant
def divmod_vjp(g, ans, x, y):
    gr = remainder_grad(g, ans)
    return unbroadcast(gr, x), unbroadcast(-gr * ans[0], y)
@jvp(builtins.divmod)
def divmod_jvp(g, ans, x, y): return (0.0 * ans[0], broadcast(g, ans[1])), (0.0 * ans[0], broadcast(-g * ans[0], ans[1]))

# --- math: trigonometric ---
@elementwise(math.sin)
def math_sin_vjp(g, ans, x): return g * math.cos(x)
@elementwise(math.cos)
def math_cos_vjp(g, ans, x): return -g * math.sin(x)
@elementwise(math.tan)
def math_tan_vjp(g, ans, x): return g * (1.0 + ans * ans)
@elementwise(math.asin)
def math_asin_vjp(g, ans, x): return g / math.sqrt(1.0 - x * x)
@elementwise(math.acos)
def math_acos_vjp(g, ans, x): return -g / math.sqrt(1.0 - x * x)
@elementwise(math.atan)
def math_atan_vjp(g, ans, x): return g / (1.0 + x * x)
@elementwise(math.atan2)
def math_atan2_vjp(g, ans, y, x): return g * x / (x * x + y * y), -g * y / (x * x + y * y)

# --- math: hyperbolic ---
@elementwise(math.sinh)
def math_sinh_vjp(g, ans, x): return g * math.cosh(x)
@elementwise(math.cosh)
def math_cosh_vjp(g, ans, x): return g * math.sinh(x)
@elementwise(math.tanh)
def math_tanh_vjp(g, ans, x): return g * (1.0 - ans * ans)

# --- math: exponentials, logarithms, powers ---
@elementwise(math.exp)
def math_exp_vjp(g, ans, x): return g * ans
if hasattr(math, "exp2"):                 # (Python 3.11+)
    @elementwise(math.exp2)
    def math_exp2_vjp(g, ans, x): return g * ans * math.log(2.0)
@elementwise(math.expm1)
def math_expm1_vjp(g, ans, x): return g * (ans + 1.0)
@elementwise(math.log)
def math_log_vjp(g, ans, x, base=math.e): return g / (x * math.log(base)), -g * ans / (base * math.log(base))
@elementwise(math.log1p)
def math_log1p_vjp(g, ans, x): return g / (1.0 + x)
@elementwise(math.log2)
def math_log2_vjp(g, ans, x): return g / (x * math.log(2.0))
@elementwise(math.log10)
def math_log10_vjp(g, ans, x): return g / (x * math.log(10.0))
@elementwise(math.fabs)
def math_fabs_vjp(g, ans, x): return g * (x > 0) - g * (x < 0)
@elementwise(math.sqrt)
def math_sqrt_vjp(g, ans, x): return g * 0.5 / ans
@elementwise(math.pow)
def math_pow_vjp(g, ans, x, y): return scaled_power(g * y, x, y - 1.0), g * ans * safe_log(x)     # (y = 0: 0 at x = 0)
@elementwise(math.hypot)                 # (at 0, 0: the subgradient 0, as np.linalg.norm's)
def math_hypot_vjp(g, ans, x, y): return g * (x / (ans + (ans == 0.0))), g * (y / (ans + (ans == 0.0)))
elementwise(math.fmod)(mod_vjp)          # x - y trunc(x / y): as for %
@elementwise(math.erf)
def math_erf_vjp(g, ans, x): return g * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)
@elementwise(math.erfc)
def math_erfc_vjp(g, ans, x): return -g * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)

@elementwise(math.lgamma)                # log|Gamma(x)|' = psi(x), the digamma function (runtime.polygamma: NumPy only)
def math_lgamma_vjp(g, ans, x): return g * polygamma(0, x)
@elementwise(math.gamma)
def math_gamma_vjp(g, ans, x): return g * ans * polygamma(0, x)

@elementwise(math.copysign)              # |x| with y's sign: x's own sign times y's (y's sign is piecewise constant)
def math_copysign_vjp(g, ans, x, y): return g * math.copysign(1.0, x) * math.copysign(1.0, y), 0.0 * g

nondiff(math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite, math.factorial, math.gcd)


@explainer
def class_refusal(obj, label):
    """An object of a user's class made from differentiated values: s2sad makes records of plain dataclasses and of
    classes whose ``__init__`` only stores its parameters (tree.record_class) only; any other constructor may
    compute what it stores."""
    if not isinstance(obj, type) or (getattr(obj, "__module__", "") or "").split(".")[0] in (
            "builtins", "numpy", "scipy", "s2sad", "collections", "functools", "typing", "dataclasses", "itertools"):
        return None
    return (f"cannot differentiate making a `{label}` from values being differentiated: s2sad follows an object "
            f"made inside the function when its class's `__init__` only stores its parameters (`self.W = W`, each "
            f"once; or a dataclass's own `__init__`, without `__post_init__`, `InitVar` or `default_factory`) and "
            f"the class adds no operators, properties or `__setattr__`; the arguments must match its parameters",
            "compute the values before making the object (`Layer(W, b * 2)`, not `self.b = b * 2` inside), or pass "
            "the object in as an argument (its fields are differentiated), or keep the values in a dict or a "
            "namedtuple")


@explainer
def partial_refusal(obj, label):
    """A ``functools.partial`` of a differentiated value that is not simply called where it is made (passed on,
    stored): front/partials.py rewrites the calls of one bound once and only called."""
    if obj is not functools.partial:
        return None
    return (f"cannot differentiate `{label}(...)` here: a partial holding a differentiated value is supported when "
            f"it is bound to a name once and only called (`g = partial(f, w)`, then `g(x)` or `map(g, xs)`)",
            "pass the differentiated value to the function as an argument instead of binding it")
