"""Reverse rules for Python's operators, builtins and the ``math`` module.

Scalar rules use ``math`` so that generated code for float code stays plain Python arithmetic.
"""
import builtins
import math
import operator

from ..runtime import safe_log, unbroadcast, unindex, unsum
from .registry import nondiff, vjp

# --- arithmetic operators (also NumPy's ufunc spellings, registered in numpy.py) ---
@vjp(operator.add)
def add_vjp(g, ans, x, y): return unbroadcast(g, x), unbroadcast(g, y)
@vjp(operator.sub)
def sub_vjp(g, ans, x, y): return unbroadcast(g, x), unbroadcast(-g, y)
@vjp(operator.mul)
def mul_vjp(g, ans, x, y): return unbroadcast(g * y, x), unbroadcast(g * x, y)
@vjp(operator.truediv)
def truediv_vjp(g, ans, x, y): return unbroadcast(g / y, x), unbroadcast(-g * ans / y, y)
@vjp(operator.pow)
def pow_vjp(g, ans, x, y): return unbroadcast(g * y * x ** (y - 1), x), unbroadcast(g * ans * safe_log(x), y)
@vjp(operator.mod)
def mod_vjp(g, ans, x, y): return unbroadcast(g, x), unbroadcast(-g * ((x - ans) / y), y)
@vjp(operator.getitem)
def getitem_vjp(g, ans, x, idx): return unindex(g, x, idx)
@vjp(operator.neg)
def neg_vjp(g, ans, x): return -g
@vjp(operator.pos)
def pos_vjp(g, ans, x): return g

nondiff(operator.floordiv, operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
        operator.not_, operator.invert, operator.and_, operator.or_, operator.xor, operator.is_,
        operator.is_not, operator.contains)

# --- builtins ---
@vjp(builtins.abs)
def abs_vjp(g, ans, x): return g * ((x > 0) * 1.0 - (x < 0) * 1.0)
@vjp(builtins.max)
def max_vjp(g, ans, x, y): return g * (x >= y), g * (x < y)
@vjp(builtins.min)
def min_vjp(g, ans, x, y): return g * (x <= y), g * (x > y)
@vjp(builtins.sum)
def sum_vjp(g, ans, iterable, start=0): return unsum(g, iterable), unbroadcast(g, start)
@vjp(builtins.float)
def float_vjp(g, ans, x): return g

nondiff(builtins.len, builtins.int, builtins.round, builtins.bool, builtins.range, builtins.isinstance,
        builtins.type, builtins.print, builtins.divmod, builtins.hash, builtins.id, builtins.str, builtins.repr)

# --- math: trigonometric ---
@vjp(math.sin)
def math_sin_vjp(g, ans, x): return g * math.cos(x)
@vjp(math.cos)
def math_cos_vjp(g, ans, x): return -g * math.sin(x)
@vjp(math.tan)
def math_tan_vjp(g, ans, x): return g * (1.0 + ans * ans)
@vjp(math.asin)
def math_asin_vjp(g, ans, x): return g / math.sqrt(1.0 - x * x)
@vjp(math.acos)
def math_acos_vjp(g, ans, x): return -g / math.sqrt(1.0 - x * x)
@vjp(math.atan)
def math_atan_vjp(g, ans, x): return g / (1.0 + x * x)
@vjp(math.atan2)
def math_atan2_vjp(g, ans, y, x): return g * x / (x * x + y * y), -g * y / (x * x + y * y)

# --- math: hyperbolic ---
@vjp(math.sinh)
def math_sinh_vjp(g, ans, x): return g * math.cosh(x)
@vjp(math.cosh)
def math_cosh_vjp(g, ans, x): return g * math.sinh(x)
@vjp(math.tanh)
def math_tanh_vjp(g, ans, x): return g * (1.0 - ans * ans)

# --- math: exponentials, logarithms, powers ---
@vjp(math.exp)
def math_exp_vjp(g, ans, x): return g * ans
@vjp(math.expm1)
def math_expm1_vjp(g, ans, x): return g * (ans + 1.0)
@vjp(math.log)
def math_log_vjp(g, ans, x, base=math.e): return g / (x * math.log(base)), -g * ans / (base * math.log(base))
@vjp(math.log1p)
def math_log1p_vjp(g, ans, x): return g / (1.0 + x)
@vjp(math.log2)
def math_log2_vjp(g, ans, x): return g / (x * math.log(2.0))
@vjp(math.log10)
def math_log10_vjp(g, ans, x): return g / (x * math.log(10.0))
@vjp(math.sqrt)
def math_sqrt_vjp(g, ans, x): return g * 0.5 / ans
@vjp(math.pow)
def math_pow_vjp(g, ans, x, y): return g * y * math.pow(x, y - 1.0), g * ans * safe_log(x)
@vjp(math.hypot)
def math_hypot_vjp(g, ans, x, y): return g * x / ans, g * y / ans
@vjp(math.erf)
def math_erf_vjp(g, ans, x): return g * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)

nondiff(math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite, math.copysign,
        math.factorial, math.gcd)
