"""The rule table, checked rule by rule.

``SPEC`` below has one line per differentiable primitive: the argument generators
of the cases it is checked on (shapes, input domains, fixed non-differentiable
arguments). Every case is checked twice:

* ``test_rule``: the rule function itself, with no compiler. For a random
  cotangent ``g`` shaped like the primitive's output and a random direction ``v``
  for each differentiable argument, ``<rule(g, ans, *args)[i], v>`` must equal
  the central difference of ``<g, prim(..., x_i + eps v, ...)>``.
* ``test_compiled``: end to end. A tiny module ``f(p0, p1, ..., W) = <prim(...), W>``
  is written to a temporary file and checked with ``s2sad.testing.check_grads``.

The meta-tests fail when a registered rule has no SPEC line, when a SPEC line
names a primitive with no rule, and when an ndarray method or attribute of the
rule tables is not exercised (``METHODS`` and ``NONDIFF``, both compiled: nondiff
primitives must contribute exactly zero). The last tests pin down conventions the
table cannot express: tuple outputs (slogdet), tuples of arrays, ties, wrt=(0,).

Argument notation in SPEC:
  real(2, 3)   differentiable, standard normal, shape (2, 3); real() is a Python float
  pos / unit / nonzero / above1 / base   the same with a restricted domain (log, arcsin, ...)
  wc(3), wc(2, 3)     a well-conditioned 3x3 matrix / a stack of two
  spd(3), spd(2, 3)   symmetric positive definite (directions are symmetric too)
  at([0.0, 0.5])       differentiable, at these values (sinc at 0, prod with zeros)
  mask(2, 3)   a random boolean array: sampled, passed in, not differentiated
  ix("1:, ::-1")      a literal index (the source text, and np.s_ of it); field("w"): obj.w
  anything else       a literal, fixed argument (axis=0, 2.0, "ij,jk->ik", np.float64)
  [a, b], (a, b)      a list / tuple literal argument (np.concatenate([a, b]))
  refuses(case)       the rule must raise NotImplementedError (never a wrong gradient)
  compiler_bug(reason, case)   the rule is right, the compiled gradient is not: xfail(strict) in test_compiled
"""
import ast
import collections
import functools
import inspect
import itertools
import math
import operator
import re
import textwrap

import numpy as np
import pytest

import s2sad
from s2sad import runtime
from s2sad.rules import registry
from s2sad.testing import check_grads

from .sources import load_module

try:                                          # namedtuple fields (s2sad/tree.py, containers)
    from s2sad.tree import attribute as field_of
except ImportError:
    field_of = None

SEED = 20240917
EPS = 1e-6          # central differences in float64
RTOL = 1e-5
ATOL = 1e-7


# --- argument generators ------------------------------------------------------------------
class Arg:
    """A differentiable argument: ``draw(rng, shape)``; shape () gives a Python float."""

    def __init__(self, kind, shape, draw, symmetric=False):
        self.kind, self.shape, self.draw, self.symmetric = kind, shape, draw, symmetric

    def sample(self, rng):
        x = np.asarray(self.draw(rng, self.shape), dtype=float)
        return float(x) if self.shape == () else x

    def direction(self, rng):
        v = rng.standard_normal(self.shape)
        if self.symmetric:                       # a function of symmetric matrices only
            v = v + np.swapaxes(v, -1, -2)
        return float(v) if self.shape == () else v

    def __repr__(self):
        return f"{self.kind}({', '.join(map(str, self.shape))})"


class Fixed(Arg):
    """A sampled argument that is not differentiated (a mask, a condition)."""

    def sample(self, rng):
        return self.draw(rng, self.shape)


class Src:
    """A literal written as source text in the compiled test (an index, a field name) with its value."""

    def __init__(self, text, value, label):
        self.text, self.value, self.label = text, value, label

    def __repr__(self):
        return self.label


def ix(text):
    """A literal index: ``ix("1:, ::-1")`` is ``x[1:, ::-1]``."""
    return Src(text, eval(f"np.s_[{text}]", {"np": np}), f"[{text}]")


def field(name):
    """A namedtuple field name: ``obj.name``."""
    return Src(name, name, f".{name}")


def _gram(a):
    return a @ np.swapaxes(a, -1, -2)


def _domain(kind, draw, cls=Arg, symmetric=False):
    return lambda *shape: cls(kind, shape, draw, symmetric)


def _square(kind, draw, symmetric=False):
    """wc(3): a 3x3 matrix; wc(2, 3): a stack of two 3x3 matrices."""
    return lambda *bn: Arg(kind, bn + bn[-1:], draw, symmetric)


real = _domain("real", lambda r, s: r.standard_normal(s))
pos = _domain("pos", lambda r, s: r.uniform(0.5, 2.0, s))
unit = _domain("unit", lambda r, s: r.uniform(-0.9, 0.9, s))                       # |x| < 1
above1 = _domain("above1", lambda r, s: r.uniform(1.2, 3.0, s))                    # arccosh
base = _domain("base", lambda r, s: r.uniform(1.5, 4.0, s))                        # a log base
nonzero = _domain("nonzero", lambda r, s: r.choice([-1.0, 1.0], s) * r.uniform(0.5, 2.0, s))
mask = _domain("mask", lambda r, s: r.random(s) > 0.5, cls=Fixed)
wc = _square("wc", lambda r, s: r.standard_normal(s) + s[-1] * np.eye(s[-1]))
spd = _square("spd", lambda r, s: _gram(r.standard_normal(s)) + s[-1] * np.eye(s[-1]), symmetric=True)
Pair = collections.namedtuple("Pair", "w b")


def at(values):
    """A differentiable argument at given values (sinc at 0, prod with zeros)."""
    values = np.asarray(values, dtype=float)
    return Arg(f"values{values.tolist()}", values.shape, lambda r, s: values.copy())


class Case:
    def __init__(self, args, kwargs, refuses=False, compiler_bug=None):
        self.args, self.kwargs, self.refuses, self.compiler_bug = args, kwargs, refuses, compiler_bug

    def __repr__(self):
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return ("refuses:" if self.refuses else "") + ", ".join(parts)


def case(*args, **kwargs):
    return Case(args, kwargs)


def refuses(c):
    """A case the rule must refuse with NotImplementedError (never a wrong gradient)."""
    return Case(c.args, c.kwargs, refuses=True)


def compiler_bug(reason, c):
    """A case whose rule is right but whose compiled gradient is not (xfail, strict, in test_compiled)."""
    return Case(c.args, c.kwargs, c.refuses, compiler_bug=reason)




# --- case families -------------------------------------------------------------------------------
SCALAR, VECTOR, MATRIX = (), (4,), (2, 3)
def _numpy_crosses_2d_vectors():
    """NumPy 2.0 deprecated np.cross of 2-vectors (s2sad refuses them) and NumPy 2.5 raises on them itself."""
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.cross(np.ones(2), np.ones(2))
        return True
    except ValueError:
        return False


_CROSS_2D = _numpy_crosses_2d_vectors()
BROADCAST_PAIRS = [((), ()), ((4,), (4,)), ((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)),
                   ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), ()), ((2, 1, 3), (4, 1))]


def unary(dom):
    return [case(dom(*s)) for s in (SCALAR, VECTOR, MATRIX)]


def binary(dx, dy):
    return [case(dx(*a), dy(*b)) for a, b in BROADCAST_PAIRS]


def scalar(*doms):
    return [case(*(d() for d in doms))]


def reductions(dom, **extra):
    """Axis None/0/1/-1/tuples, keepdims False/True, on scalars, vectors, matrices, 3-D arrays."""
    cases = [case(dom(), **extra), case(dom(4), **extra), case(dom(4), axis=0, **extra),
             case(dom(2, 3), **extra), case(dom(2, 3), axis=1, **extra)]
    for axis, keepdims in itertools.product([None, 0, 1, -1, (0, 2), (1, 2)], [False, True]):
        cases.append(case(dom(2, 3, 4), axis=axis, keepdims=keepdims, **extra))
    return cases


GETITEM = [case(real(4), 0), case(real(4), -1), case(real(5), ix("1:4")), case(real(5), ix("::-2")),
           case(real(4, 3), ix("1:, ::-1")), case(real(4, 3), ix("1:3, ::-1")),
           case(real(4, 3), ix(":, 0")), case(real(4, 3), ix("None, 1, ..., ::2")),
           case(real(4, 3), ix("[0, 0, 2]")), case(real(4, 3), ix("[0, 2, 0], [1, 1, 2]")),
           case(real(4, 3), mask(4, 3)), case(real(4, 3), mask(4)),
           case((real(3), real(3)), 1), case((real(3), real(2, 2)), 0), case([real(), real(), real()], ix("-2:3")),
           case([real(), real(), real()], ix("1:"))]
POW = binary(pos, real) + [case(real(4), 2), case(real(2, 3), 3), case(real(), 2), case(pos(3), 0.5),
                           case(2.0, real(2, 3))]
BUILTIN_SUM = [case([real(), real(), real()]), case([real(3), real(3)]), case([real(3), real(2, 3)]),
               case([real(3), real(3)], real()), case([real(), real()], 1.5), case(real(4)), case(real(2, 3))]
WHERE = [case(mask(4), real(4), real(4)), case(mask(2, 3), real(2, 3), real()), case(mask(3), real(2, 3), real(2, 1)),
         case(True, real(), real())]
CLIP = [case(real(4), -0.5, 0.5), case(real(2, 3), -0.5, real(3)), case(real(2, 3), real(3), real(2, 1)),
        case(real(3), real(2, 3), 0.5), case(real(4), None, 0.3), case(real(2, 3), -0.2, None), case(real(), -0.5, 0.5),
        case(real(4), 0.5, -0.5), case(real(4), a_min=-0.3, a_max=real())]
if np.lib.NumpyVersion(np.__version__) >= "2.1.0":                   # np.clip(x, min=..., max=...)
    CLIP += [case(real(2, 3), min=real(3)), case(real(4), max=0.2), case(real(4), min=-0.2, max=real())]
ASARRAY = [case(real(4)), case(real(2, 3)), case(real()), case([real(), real(), real()]), case([real(3), real(3)]),
           case([[real(), real()], [real(), real()]]), case(real(2, 3), dtype=float), case(real(4), np.float64)]
ASTYPE = [case(real(4), np.float64), case(real(2, 3), "float64"), case(real(2, 3), np.int64), case(real(3), bool)]
VAR_STD = reductions(real) + reductions(real, ddof=1)[1:] + [case(real(2, 3), axis=0, correction=1),
                                                              case(real(4), correction=0.5)]   # (NumPy 2's name for ddof)

MATMUL = [case(real(3), real(3)), case(real(2, 3), real(3)), case(real(3), real(3, 4)), case(real(2, 3), real(3, 4)),
          case(real(5, 2, 3), real(3, 4)), case(real(5, 2, 3), real(5, 3, 4)), case(real(2, 3), real(5, 3, 4)),
          case(real(5, 2, 3), real(3)), case(real(3), real(5, 3, 4)), case(real(5, 1, 2, 3), real(4, 3, 2))]
DOT = [case(real(), real()), case(real(), real(2, 3)), case(real(2, 3), real()), case(real(3), real(3)),
       case(real(2, 3), real(3)), case(real(3), real(3, 4)), case(real(2, 3), real(3, 4)), case(real(2, 3, 4), real(4)),
       case(real(2, 3, 4), real(5, 4, 2)), case(real(3), real(2, 3, 4))]
INNER = [case(real(3), real(3)), case(real(2, 3), real(3)), case(real(2, 3), real(4, 3)), case(real(), real(2, 3)),
         case(real(2, 3), real())]
OUTER = [case(real(3), real(4)), case(real(2, 2), real(3)), case(real(), real(3))]
TENSORDOT = [case(real(2, 3, 4), real(3, 4, 5)), case(real(2, 3), real(3, 4), axes=1), case(real(2), real(3), axes=0),
             case(real(3, 2, 4), real(2, 3, 5), axes=([1, 0], [0, 1])),
             case(real(2, 3, 4), real(4, 5), axes=([2], [0])),
             case(real(2, 3), real(3, 2), axes=([-1], [0]))]
EINSUM = [case("ij,jk->ik", real(2, 3), real(3, 4)), case("ij,jk", real(2, 3), real(3, 4)),
          case("i,i->", real(3), real(3)),
          case("ij->ji", real(2, 3)), case("ij->", real(2, 3)), case("ij,ij->ij", real(2, 3), real(2, 3)),
          case("i,j->ij", real(2), real(3)), case("ijk,jl->ikl", real(2, 3, 4), real(3, 5)),
          case("bij,bjk->bik", real(2, 2, 3), real(2, 3, 4)), case("ba,ac", real(2, 3), real(3, 4)),
          case("ij,jk,kl->il", real(2, 3), real(3, 4), real(4, 2)), case("ij,k->i", real(2, 3), real(2)),
          case("ii->i", real(3, 3)), case("ii", real(3, 3)), case("iij,jk->ik", real(2, 2, 3), real(3, 4)),
          case("ij,ii->j", real(3, 2), real(3, 3)), refuses(case("...i,i->...", real(2, 3), real(3)))]
TRACE = [case(real(3, 3)), case(real(3, 4), 1), case(real(4, 3), -1), case(real(2, 3, 3), 0, 1, 2),
         case(real(3, 2, 3), 0, 0, 2), case(real(3, 4), 1, 1, 0), case(real(2, 3, 4), 1, -1, -2)]
TRANSPOSE = [case(real()), case(real(4)), case(real(2, 3)), case(real(2, 3, 4)), case(real(2, 3, 4), (1, 0, 2)),
             case(real(2, 3, 4), (2, 0, 1)), case(real(2, 3, 4), (-1, 0, 1))]
RESHAPE = [case(real(6), (2, 3)), case(real(2, 3), (-1,)), case(real(2, 3), (3, 2)), case(real(), (1,)),
           case(real(2, 3), (3, 2), order="F"), case(real(2, 3, 2), (4, 3), order="F")]
RAVEL = [case(real()), case(real(4)), case(real(2, 3)), case(real(2, 3), "F"), case(real(2, 3, 2), order="F")]
SQUEEZE = [case(real(1, 3)), case(real(2, 1, 3, 1)), case(real(2, 1, 3), 1), case(real(1, 3, 1), axis=(0, 2))]
EXPAND_DIMS = [case(real(), 0), case(real(3), 0), case(real(2, 3), -1), case(real(2, 3), (0, 2))]
ATLEAST_1D = [case(real()), case(real(3)), case(real(2, 3)), case(real(), real(3))]
ATLEAST_2D = [case(real()), case(real(3)), case(real(2, 3)), case(real(3), real(2, 3))]
SWAPAXES = [case(real(2, 3), 0, 1), case(real(2, 3, 4), 0, 2), case(real(2, 3, 4), -1, 0)]
MOVEAXIS = [case(real(2, 3, 4), 0, -1), case(real(2, 3, 4), 2, 0), case(real(2, 3, 4), (0, 1), (2, 0))]
CONCATENATE = [case([real(2, 3), real(1, 3)]), case([real(2, 3), real(2, 2)], 1),
               case([real(2, 3), real(2, 1)], axis=-1),
               case([real(2, 3), real(4)], axis=None), case([real(3)]), case((real(2), real(3), real(1))),
               case([real(2, 3), np.ones((1, 3))])]
STACK = [case([real(), real()]), case([real(3), real(3)]), case([real(2, 3), real(2, 3)], 1),
         case([real(2, 3), real(2, 3), real(2, 3)], axis=-1)]
HSTACK = [case([real(3), real(2)]), case([real(2, 3), real(2, 1)]), case([real(), real()]),
          case((real(2, 1, 3), real(2, 2, 3)))]
VSTACK = [case([real(3), real(3)]), case([real(2, 3), real(1, 3)]), case([real(), real()]), case([real(2, 3), real(3)])]
BROADCAST_TO = [case(real(3), (2, 3)), case(real(), (2, 3)), case(real(2, 1), (2, 3)), case(real(1, 3), (4, 2, 3))]
SOLVE = [case(wc(3), real(3)), case(wc(3), real(3, 2)), case(wc(2, 3), real(2, 3, 4)), case(wc(1), real(1)),
         # a 1-d b is one column for every matrix of a stack (a (3, 3) result read as a matrix was wrong);
         # a stack of b against one a, and one b against a stack of a: the adjoints sum over the stack
         case(wc(3, 3), real(3)), case(wc(2, 3), real(3)), case(wc(3), real(2, 3, 2)), case(wc(2, 3), real(3, 2))]
NORM = [case(real(4)), case(real(4), 1), case(real(4), 2), case(real(4), np.inf), case(real(4), 3), case(real(4), 0.5),
        case(real(2, 3)), case(real(2, 3), "fro"), case(real(2, 3, 4)), case(real(2, 3), axis=0),
        case(real(2, 3), 1, axis=1), case(real(2, 3), np.inf, axis=1, keepdims=True), case(real(2, 3), keepdims=True),
        case(real(2, 3, 4), axis=(0, 2)), case(real(2, 3, 4), None, -1), case(real(4), keepdims=True),
        case(real(4), -np.inf), case(real(4), 0), case(real(4), -1), case(real(4), -2.5), case(real(2, 3), 2, axis=-1),
        case(real(2, 3), 2), case(real(3, 2), -2), case(real(2, 3), "nuc"), case(real(2, 3), 1), case(real(3, 2), -1),
        case(real(2, 3), np.inf), case(real(3, 2), -np.inf), case(real(2, 3, 4), "nuc", (1, 2)),
        case(real(2, 3, 4), 2, (2, 0), keepdims=True), case(real(3, 2, 4), -2, (0, 2)), case(real(2, 3, 4), 1, (2, 1)),
        case(real(2, 3, 4), -1, (0, 1), keepdims=True), case(real(2, 3, 4), np.inf, (1, 0)),
        case(real(2, 3, 4), -np.inf, (2, 1), True), case(real(2, 3, 4), "fro", (0, 2))]

QUANTILE = [case(real(5), 0.3), case(real(5), at(0.3)), case(real(2, 3), at([0.1, 0.7, 0.95]), axis=1),
            case(real(4, 3), 0.5, axis=0), case(real(2, 4), at([[0.1, 0.7], [0.95, 0.3]])),
            case(real(3, 2, 4), at([0.3, 0.7]), axis=(0, 2), keepdims=True), case(real(2, 4), 0.3, axis=1, keepdims=True),
            case(real(2, 4), at(0.3), -1, method="linear"), refuses(case(real(5), 0.3, method="nearest")),
            refuses(case(real(5), 0.3, method="midpoint"))]
PERCENTILE = [case(real(5), 30.0), case(real(5), at(30.0)), case(real(2, 3), at([10.0, 70.0, 95.0]), axis=1),
              case(real(3, 2, 4), at([30.0, 70.0]), axis=(0, 2), keepdims=True), case(real(2, 4), 30.0, axis=1, keepdims=True),
              case(real(2, 4), at([[10.0, 70.0], [95.0, 30.0]])), refuses(case(real(5), 30.0, method="lower"))]
XP = np.array([0.0, 1.0, 2.0, 3.0])                 # np.interp's sample points (not differentiated)

SPEC = [
    # --- Python operators ---
    (operator.add,           binary(real, real)),
    (operator.sub,           binary(real, real)),
    (operator.mul,           binary(real, real)),
    (operator.truediv,       binary(real, nonzero)),
    (operator.pow,           POW),
    (operator.mod,           binary(real, pos)),
    (operator.getitem,       GETITEM),
    (operator.neg,           unary(real)),
    (operator.pos,           unary(real)),
    (operator.matmul,        MATMUL),
    # --- builtins ---
    (abs,                    scalar(nonzero) + unary(nonzero)[1:]),
    (max,                    [case(real(), real()), case(real(), 0.0), case(0.0, real())]),
    (min,                    [case(real(), real()), case(real(), 0.0), case(0.0, real())]),
    (sum,                    BUILTIN_SUM),
    (divmod,                 scalar(real, pos) + [case(real(3), pos(3)), case(real(2, 3), pos(3))]),
    (float,                  [case(real()), case(nonzero())]),
    (tuple,                  [case([real(), real(), real()]), case([real(3), real(2, 3)]), case(real(4)),
                              case(real(2, 3))]),
    (list,                   [case((real(), real(), real())), case((real(3), real(3))), case(real(4)),
                              case(real(2, 3))]),
    # --- math ---
    (math.sin,               scalar(real)),
    (math.fabs,              scalar(nonzero)),
    (math.cos,               scalar(real)),
    (math.tan,               scalar(unit)),
    (math.asin,              scalar(unit)),
    (math.acos,              scalar(unit)),
    (math.atan,              scalar(real)),
    (math.atan2,             scalar(real, real) + scalar(nonzero, pos)),
    (math.sinh,              scalar(real)),
    (math.cosh,              scalar(real)),
    (math.tanh,              scalar(real)),
    (math.exp,               scalar(real)),
    (math.expm1,             scalar(real)),
    (math.log,               scalar(pos) + scalar(pos, base) + [case(pos(), 10.0)]),
    (math.log1p,             scalar(pos) + scalar(unit)),
    (math.log2,              scalar(pos)),
    (math.fsum,              [case([real(), real(), real()]), case(real(4)), case((real(), real()))]),
    (math.log10,             scalar(pos)),
    (math.prod,              [case([real(), real(), real()]), case((real(), real())), case([real(), real()], start=real()),
                              case([real(), 2.0, real()], start=1.5), case(real(4)), case([real(3), real(3)]),
                              case(at([1.5, 0.0, 2.0])), case(at([0.0, 0.0, 2.0]))]),
    (math.dist,              [case([real(), real()], [real(), real()]), case((real(), real(), real()), (real(), real(), real())),
                              case(real(3), real(3)), case([real(), 1.0], [0.5, real()])]),
    (math.sqrt,              scalar(pos)),
    (math.pow,               scalar(pos, real) + [case(real(), 2.0), case(2.0, real())]),
    (pow,                    scalar(pos, real) + [case(real(), 2)]),
    (math.fmod,              scalar(real, pos)),
    (math.hypot,             scalar(real, real)),
    (math.copysign,          scalar(nonzero, nonzero)),
    (np.copysign,            binary(nonzero, nonzero)),
    (np.heaviside,           binary(nonzero, real)),
    (math.lgamma,            scalar(pos) + [case(at(-1.5)), case(at(0.3)), case(at(25.0)), case(at(-0.2))]),
    (math.gamma,             scalar(pos) + [case(at(-2.5)), case(at(4.2)), case(at(0.1))]),
    (math.erf,               scalar(real)),
    (math.erfc,              scalar(real)),
    *([(math.exp2,           scalar(real))] if hasattr(math, "exp2") else []),
    # --- NumPy binary elementwise ---
    (np.add,                 binary(real, real)),
    (np.subtract,            binary(real, real)),
    (np.multiply,            binary(real, real)),
    (np.divide,              binary(real, nonzero)),
    (np.mod,                 binary(real, pos)),
    (np.fmod,                [case(real(2, 3), pos(3)), case(real(), pos(2, 3))]),    # (mod's rule: binary() there)
    (np.power,               POW),
    (np.float_power,         binary(pos, real) + [case(real(4), 2.0)]),
    (np.maximum,             binary(real, real)),
    (np.minimum,             binary(real, real)),
    (np.fmax,                binary(real, real) + [case(at([1.0, np.nan, 2.0]), at([np.nan, 0.5, 3.0]))]),
    (np.fmin,                binary(real, real) + [case(at([1.0, np.nan, 2.0]), at([np.nan, 0.5, 3.0]))]),
    (np.arctan2,             binary(real, real)),
    (np.hypot,               binary(real, real)),
    (np.logaddexp,           binary(real, real)),
    (np.logaddexp2,          binary(real, real)),
    (np.where,               WHERE),
    (np.clip,                CLIP),
    # --- NumPy unary elementwise ---
    (np.negative,            unary(real)),
    (np.positive,            unary(real)),
    (np.sin,                 unary(real)),
    (np.cos,                 unary(real)),
    (np.tan,                 unary(unit)),
    (np.arcsin,              unary(unit)),
    (np.arccos,              unary(unit)),
    (np.arctan,              unary(real)),
    (np.sinh,                unary(real)),
    (np.cosh,                unary(real)),
    (np.tanh,                unary(real)),
    (np.arcsinh,             unary(real)),
    (np.arccosh,             unary(above1)),
    (np.arctanh,             unary(unit)),
    (np.exp,                 unary(real)),
    (np.exp2,                unary(real)),
    (np.expm1,               unary(real)),
    (np.log,                 unary(pos)),
    (np.log1p,               unary(pos) + unary(unit)[1:2]),
    (np.log2,                unary(pos)),
    (np.log10,               unary(pos)),
    (np.sqrt,                unary(pos)),
    (np.cbrt,                unary(nonzero)),
    (np.square,              unary(real)),
    (np.reciprocal,          unary(nonzero)),
    (np.absolute,            unary(nonzero)),
    (np.sign,                unary(nonzero)),       # zero for real values (complex ones are refused)
    (np.fabs,                unary(nonzero)),
    (np.sinc,                unary(real) + [case(at([0.0, 0.5, -1.5]))]),
    (np.deg2rad,             unary(real)),
    (np.rad2deg,             unary(real)),
    (np.degrees,             unary(real)),
    (np.radians,             unary(real)),
    (np.real_if_close,       unary(real)),
    (np.nan_to_num,          unary(real) + [case(at([1.0, np.nan, -2.0])), case(at([np.inf, 0.5, -np.inf]), posinf=5.0, neginf=-1.0),
                              case(real(3), nan=1.5)]),
    (np.real,                unary(real)),
    (np.asarray,             ASARRAY),
    (np.array,               ASARRAY + [case(real(3), ndmin=2), case(real(3), copy=True)]),
    (np.copy,                unary(real) + [case([real(), real()])]),
    (np.float64,             [case(real()), case(nonzero())]),
    (np.longdouble,          [case(real()), case(real(3))]),
    (np.imag,                unary(real)),
    (np.conjugate,           unary(real)),
    (np.angle,               unary(nonzero) + [case(nonzero(3), True)]),
    # --- np.fft (complex results: a complex cotangent, paired by Re(sum(g * y))) ---
    (np.fft.fft,             [case(real(8)), case(real(2, 5)), case(real(2, 5), None, 0), case(real(6), 8),
                              case(real(6), 4), case(real(2, 4), axis=0, norm="ortho"), case(real(5), norm="forward"),
                              case(real(3, 4), 6, -1, "ortho"), case(real(3, 4), norm="backward")]),
    (np.fft.ifft,            [case(real(8)), case(real(2, 5)), case(real(2, 5), None, 0), case(real(6), 9),
                              case(real(6), 4), case(real(2, 4), axis=0, norm="ortho"), case(real(5), norm="forward"),
                              case(real(3, 4), 3, -1, "ortho")]),
    (np.fft.rfft,            [case(real(8)), case(real(7)), case(real(2, 6), axis=0), case(real(6), 9), case(real(6), 4),
                              case(real(6), 4, norm="ortho"), case(real(3, 5), norm="forward"), case(real(2, 3, 4), 5, 1)]),
    (np.fft.irfft,           [case(real(5)), case(real(5), 7), case(real(5), 6), case(real(5), 12), case(real(5), 3),
                              case(real(2, 4), axis=0), case(real(4), 10, norm="ortho"), case(real(3, 4), 3, norm="forward")]),
    (np.fft.fft2,            [case(real(3, 4)), case(real(2, 3, 4)), case(real(3, 4), (4, 6)), case(real(3, 4), (2, 3), norm="ortho"),
                              case(real(2, 3, 4), axes=(0, 2)), case(real(2, 3, 4), (3, 3), (2, 0), "forward")]),
    (np.fft.ifft2,           [case(real(3, 4)), case(real(2, 3, 4)), case(real(3, 4), (4, 6)), case(real(3, 4), (2, 3), norm="ortho"),
                              case(real(2, 3, 4), axes=(0, 2)), case(real(2, 3, 4), (3, 3), (2, 0), "forward")]),
    (np.fft.fftn,            [case(real(2, 3, 4)), case(real(5)), case(real(3, 4), (5, 2)), case(real(2, 3, 4), None, (0, 1)),
                              case(real(2, 3, 4), (3, 2), (2, 0), "forward"), case(real(2, 3), (4,), norm="ortho")]),
    (np.fft.ifftn,           [case(real(2, 3, 4)), case(real(5)), case(real(3, 4), (5, 2)), case(real(2, 3, 4), None, (0, 1)),
                              case(real(2, 3, 4), (3, 2), (2, 0), "forward"), case(real(2, 3), (4,), norm="ortho")]),
    (np.fft.rfftn,           [case(real(2, 3, 4)), case(real(5)), case(real(3, 4), (5, 6), (0, 1)), case(real(2, 3, 5), None, (0, 1)),
                              case(real(2, 3, 4), (3, 2), (2, 0), "forward"), case(real(2, 3), (4,), (1,), "ortho")]),
    (np.fft.rfft2,           [case(real(3, 4)), case(real(2, 3, 5)), case(real(3, 4), (4, 6)), case(real(3, 4), (2, 3), norm="ortho"),
                              case(real(2, 3, 4), axes=(2, 0)), case(real(2, 3, 4), (3, 3), (0, 1), "forward")]),
    (np.fft.irfftn,          [case(real(2, 3, 4)), case(real(5)), case(real(3, 4), (5, 7), (0, 1)), case(real(2, 3, 5), None, (0, 1)),
                              case(real(2, 3, 4), (3, 2), (2, 0), "forward"), case(real(2, 3), (4,), (1,), "ortho")]),
    (np.fft.irfft2,          [case(real(3, 4)), case(real(2, 3, 5)), case(real(3, 4), (4, 5)), case(real(3, 4), (2, 3), norm="ortho"),
                              case(real(2, 3, 4), axes=(2, 0)), case(real(2, 3, 4), (3, 3), (0, 1), "forward")]),
    (np.fft.fftshift,        [case(real(5)), case(real(4)), case(real(2, 3), (0, 1)), case(real(2, 5), 1), case(real(3, 4), axes=0)]),
    (np.fft.ifftshift,       [case(real(5)), case(real(4)), case(real(2, 3), (0, 1)), case(real(2, 5), 1), case(real(3, 4), axes=0)]),
    # --- constructors ---
    (np.linspace,            [case(real(), real(), 5), case(real(3), real(3), 4), case(real(), real(2), 3),
                              case(real(), real(), 4, endpoint=False), case(real(2), real(2), 3, axis=1)]),
    (np.logspace,            [case(real(), real(), 5), case(real(3), real(3), 4), case(real(), real(2), 3, base=2.0),
                              case(real(), real(), 4, endpoint=False), case(real(2), real(2), 3, axis=1),
                              case(real(), real(), 4, True, base()), case(real(2), 1.0, 3, base=base()),
                              refuses(case(real(), real(), 4, base=np.array([2.0, 3.0])))]),
    (np.geomspace,           [case(pos(), pos(), 5), case(pos(3), pos(3), 4), case(pos(), pos(2), 3),
                              case(pos(), pos(), 4, endpoint=False), case(pos(2), pos(2), 3, axis=1),
                              case(at(-1.5), at(-0.5), 4), case(pos(), 3.0, 4)]),
    (np.vander,              [case(real(4)), case(real(3), 5), case(real(3), 2, True), case(at([0.0, 1.5, -2.0])),
                              case(real(4), increasing=True), case(real(3), N=1)]),
    (np.full,                [case(3, real()), case((2, 3), real()), case((2, 3), real(3))]),
    (np.full_like,           [case(mask(3), real(), dtype=float), case(mask(2, 3), real(3), dtype=float)]),
    (np.arange,              [case(real(), 5.0), case(real(), 3.0, pos())]),
    (runtime.concatenation,  binary(real, real)),
    (runtime.repetition,     binary(real, real)),
    (np.ascontiguousarray,   unary(real)),
    (runtime.astype,         ASTYPE),
    *([(np.astype,           ASTYPE)] if hasattr(np, "astype") else []),       # (NumPy 2.1's function)
    # --- reductions ---
    (np.sum,                 reductions(real) + [case(real(2, 3), 1, None, None, False, real()), case(real(4), initial=1.5),
                                                 case(real(2, 3), None, None, None, True, real())]),
    (np.mean,                reductions(real)),
    (np.prod,                reductions(real) + [case(at([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0]]), axis=a)
                                                 for a in (None, 0, 1, (0, 1))]),
    (np.max,                 reductions(real) + [case(real(2, 3), 1, None, False, real()), case(real(2, 3), axis=0, initial=-0.1),
                                                 case(real(4), None, None, False, at(9.0)), case(real(2, 3), 1, None, True, at(0.2))]),
    (np.min,                 reductions(real) + [case(real(2, 3), 0, None, False, real()), case(real(4), initial=0.3),
                                                 case(real(2, 3), None, None, True, at(-9.0))]),
    (np.var,                 VAR_STD),
    (np.std,                 VAR_STD),
    # --- products ---
    (np.matmul,              MATMUL),
    (np.dot,                 DOT),
    (np.inner,               INNER),
    *([(np.vecdot,           [case(real(3), real(2, 3)), case(real(3, 2), real(3, 2), axis=0)])]
      if hasattr(np, "vecdot") else []),                                                 # (NumPy 2.0's gufuncs)
    *([(np.matvec,           [case(real(2, 2, 3), real(3))]), (np.vecmat, [case(real(3), real(2, 3, 4))])]
      if hasattr(np, "matvec") else []),                                                 # (NumPy 2.2's)
    (np.outer,               OUTER),
    (np.tensordot,           TENSORDOT),
    (np.einsum,              EINSUM),
    (np.trace,               TRACE),
    # --- shapes ---
    (np.transpose,           TRANSPOSE),
    (np.reshape,             RESHAPE),
    (np.ravel,               RAVEL),
    (np.squeeze,             SQUEEZE),
    (np.expand_dims,         EXPAND_DIMS),
    (np.atleast_1d,          ATLEAST_1D),
    (np.atleast_2d,          ATLEAST_2D),
    (np.swapaxes,            SWAPAXES),
    (np.moveaxis,            MOVEAXIS),
    (np.rollaxis,            [case(real(2, 3, 4), 2), case(real(2, 3, 4), 0, 2), case(real(2, 3, 4), -1, 1),
                              case(real(2, 3, 4, 5), 1, 4), case(real(3, 2), 1, 1)]),
    (np.concatenate,         CONCATENATE),
    (np.stack,               STACK),
    (np.hstack,              HSTACK),
    (np.vstack,              VSTACK),
    (runtime.view_of,        [case(real(3)), case(real(2, 3))]),
    (runtime.to_list,        [case(real(3)), case(real())]),                 # (2-d: tests/test_regressions.py)
    (np.cumsum,              [case(real(4)), case(real(2, 3)), case(real(2, 3), 0), case(real(2, 3), axis=1),
                              case(real(2, 3, 2), -1), case(real(), -1)]),
    (np.sort,                [case(real(4)), case(real(2, 3)), case(real(2, 3), 0), case(real(2, 3), None),
                              case(real(3, 4), axis=1)]),
    (np.broadcast_to,        BROADCAST_TO),
    (np.broadcast_arrays,    [case(real(3), real(2, 3)), case(real(2, 1), real(1, 3), real()), case(real(4), real(4)),
                              case(real(2, 3), 1.5), case(real(3, 1, 2), real(4, 1))]),
    (np.block,               [case([real(2, 2), real(2, 1)]), case([[real(2, 2), real(2, 1)], [real(1, 3)]]),
                              case([[real(), real()], [real(), real()]]), case([real(3), real(2)]),
                              case([[real(2, 2), np.zeros((2, 1))], [real(1, 2), real(1, 1)]]),
                              case([[[real(1, 2, 2)], [real(1, 1, 2)]], [[real(2, 3, 2)]]])]),
    # --- moving, copying and zeroing items ---
    (np.flip,                [case(real(4)), case(real(2, 3)), case(real(2, 3), 0), case(real(2, 3, 2), (0, 2))]),
    (np.fliplr,              [case(real(2, 3)), case(real(2, 3, 2))]),
    (np.flipud,              [case(real(4)), case(real(2, 3))]),
    (np.roll,                [case(real(5), 2), case(real(2, 3), -1), case(real(2, 3), 1, 1), case(real(2, 3), (1, 2), (0, 1))]),
    (np.rot90,               [case(real(2, 3)), case(real(2, 3), 2), case(real(2, 3, 4), -1, (1, 2))]),
    (np.tril,                [case(real(3, 3)), case(real(3, 4), -1), case(real(2, 3, 3), 1)]),
    (np.triu,                [case(real(3, 3)), case(real(4, 3), 1), case(real(2, 3, 3), -1)]),
    (np.diag,                [case(real(3)), case(real(3), 1), case(real(3, 3)), case(real(3, 4), -1)]),
    (np.diagonal,            [case(real(3, 3)), case(real(3, 4), 1), case(real(2, 3, 3), 0, 1, 2)]),
    (np.take,                [case(real(5), np.array([0, 3, 3])), case(real(2, 3), np.array([2, 0]), 1),
                              case(real(2, 3), np.array([[1, 1], [0, 4]])), case(real(4), np.array([5, -7]), mode="wrap")]),
    (np.take_along_axis,     [case(real(2, 3), np.array([[2, 0, 0], [1, 1, 2]]), 1),
                              case(real(3, 2), np.array([[2, 0]]), 0), case(real(4), np.array([3, 3, 0]), None)]),
    (np.tile,                [case(real(3), 2), case(real(2, 3), (2, 1)), case(real(), 3), case(real(2), (2, 2))]),
    (np.repeat,              [case(real(3), 2), case(real(2, 3), 2, 1), case(real(3), np.array([1, 0, 3]))]),
    (np.pad,                 [case(real(3), 2), case(real(2, 3), ((1, 0), (0, 2))), case(real(4), 2, "edge"),
                              case(real(2, 3), 1, "reflect"), case(real(4), (1, 3), "symmetric"), case(real(3), 4, "wrap"),
                              case(real(3), 1, constant_values=2.0), refuses(case(real(4), 2, "mean")),
                              refuses(case(real(4), 2, "linear_ramp"))]),
    (np.insert,              [case(real(4), 1, real()), case(real(4), [1, 3], real(2)), case(real(2, 3), 1, real(3), 0),
                              case(real(2, 3), [0, 2], real(2, 1), axis=1), case(real(2, 3), 4, real()), case(real(4), 2, real(3)),
                              case(real(3), [1], 5.0), case(real(3), slice(1, 3), real(2))]),
    (np.extract,             [case(mask(4), real(4)), case(mask(2, 3), real(2, 3)), case(mask(4), real(2, 3))]),
    (np.select,              [case([mask(4), mask(4)], [real(4), real(4)]), case([mask(2, 3), mask(3)], [real(2, 3), real(3)], real()),
                              case([mask(3)], [real()], real(3)), case([mask(2, 3), mask(2, 3)], [real(2, 3), 2.0], real(2, 3))]),
    (np.choose,              [case(np.array([0, 2, 1, 1]), [real(4), real(4), real(4)]),
                              case(np.array([[0, 1, 1], [1, 0, 0]]), [real(2, 3), real(3)]),
                              case(np.array([3, -1, 0]), [real(3), real()], mode="wrap"),
                              case(np.array([3, -1, 0]), (real(3), real(3)), mode="clip"), case(np.array([0, 1, 1]), real(2, 3))]),
    (np.bincount,            [case(np.array([0, 2, 2, 1]), real(4)), case(np.array([1, 1, 3]), real(3), 6),
                              case(np.array([0, 0]), real(2), minlength=3)]),
    (np.column_stack,        [case([real(3), real(3)]), case([real(3), real(3, 2)])]),
    (np.dstack,              [case([real(2, 3), real(2, 3)]), case([real(3), real(3)])]),
    (np.atleast_3d,          [case(real()), case(real(3)), case(real(2, 3)), case(real(2, 3, 4))]),
    # --- differences, cumulative products ---
    (np.diff,                [case(real(5)), case(real(5), 2), case(real(2, 4), 1, 0), case(real(3, 4), axis=1),
                              case(real(3), 4), case(real(4), prepend=0.0), case(real(4), append=real()),
                              case(real(2, 3), 2, 0, prepend=real(1, 3), append=1.5), case(real(5), 0, prepend=1.0)]),
    (np.cumprod,             [case(real(4)), case(real(2, 3)), case(real(2, 3), 0), case(real(2, 3), axis=1), case(real(), 0),
                              refuses(case(at([1.5, 0.0, 2.0])))]),
    # --- interpolation, polynomials, quadrature, grids ---
    (np.interp,              [case(at([0.3, 1.7, 2.2, 2.9]), XP, real(4)),
                              case(at([-0.5, 0.4, 3.5]), XP, real(4), real(), real()),
                              case(at([[0.2, 2.6], [1.5, 3.4]]), XP, real(4), right=real()),
                              refuses(case(at([0.3, 1.7]), XP, real(4), period=3.0))]),
    (np.polyval,             [case(real(4), real()), case([real(), real(), real()], real(2, 3))]),
    (np.trapezoid,           [case(real(5), None, pos()), case(real(3, 4), real(3, 4), axis=0),
                              case(real(2, 3, 4), real(3), axis=1), case(real(5), None, pos(4)),
                              case(real(2, 4), real(1, 4)), case(real(4), real(3, 4))]),
    (np.append,              [case(real(2, 3), real(3)), case(real(2, 3), real(2, 2), axis=1)]),
    (np.meshgrid,            [case(real(3), real(2), real(4)), case(real(3), real(2), indexing="ij", sparse=True)]),
    # --- more reductions ---
    (np.amax,                reductions(real)[:6]),
    (np.amin,                reductions(real)[:6]),
    (np.nanmax,              [case(real(4)), case(real(2, 3), axis=1), case(at([1.0, np.nan, 3.0, 2.0]))]),
    (np.nanmin,              [case(real(4)), case(real(2, 3), axis=0), case(at([1.0, np.nan, -3.0, 2.0]))]),
    (np.nansum,              reductions(real)[:8] + [case(at([1.0, np.nan, 3.0])), case(at([[1.0, np.nan], [2.0, 0.5]]), axis=0)]),
    (np.nanmean,             reductions(real)[:8] + [case(at([1.0, np.nan, 3.0])), case(at([[1.0, np.nan], [2.0, 0.5]]), axis=1)]),
    (np.ptp,                 reductions(real)[:8] + [case(real(2, 3, 4), axis=(0, 2), keepdims=True)]),
    (np.nanvar,              reductions(real)[:8] + [case(real(2, 3), axis=1, ddof=1), case(at([1.0, np.nan, 3.0, 0.5])),
                              case(at([[1.0, np.nan, 2.5], [2.0, 0.5, -1.0]]), axis=1, keepdims=True),
                              case(at([[1.0, np.nan], [2.0, 0.5], [-0.3, 0.7]]), axis=0, ddof=1),
                              case(at([[1.0, np.nan, 2.5], [2.0, 0.5, -1.0]]), axis=1, correction=1)]),
    (np.nanstd,              reductions(real)[:8] + [case(real(2, 3), axis=1, ddof=1), case(at([1.0, np.nan, 3.0, 0.5])),
                              case(at([[1.0, np.nan, 2.5], [2.0, 0.5, -1.0]]), axis=1, keepdims=True),
                              case(at([[1.0, np.nan], [2.0, 0.5], [-0.3, 0.7]]), axis=0, ddof=1),
                              case(at([[1.0, np.nan, 2.5], [2.0, 0.5, -1.0]]), axis=1, correction=1)]),
    (np.nancumsum,           [case(real(4)), case(real(2, 3)), case(real(2, 3), 0), case(real(2, 3), axis=1),
                              case(at([1.0, np.nan, 3.0, 0.5])), case(at([[1.0, np.nan], [2.0, 0.5]]), axis=0)]),
    (np.quantile,            QUANTILE),
    (np.percentile,          PERCENTILE),
    (np.nanquantile,         QUANTILE + [case(at([1.0, np.nan, 3.0, 0.5, 2.0]), at(0.3)),
                              case(at([[1.0, np.nan, 2.5, 0.3], [2.0, 0.5, np.nan, 1.5]]), at([0.2, 0.6]), axis=1)]),
    (np.nanpercentile,       PERCENTILE + [case(at([1.0, np.nan, 3.0, 0.5, 2.0]), at(30.0)),
                              case(at([[1.0, np.nan, 2.5, 0.3], [2.0, 0.5, np.nan, 1.5]]), 60.0, axis=1)]),
    (np.nanmedian,           [case(real(5)), case(real(4)), case(real(2, 3), axis=1), case(real(4, 3), axis=0, keepdims=True),
                              case(real(3, 2, 2), axis=(1, 2)), case(at([1.0, np.nan, 3.0, 0.5])),
                              case(at([[1.0, np.nan, 2.5, 0.3], [2.0, 0.5, np.nan, np.nan]]), axis=1)]),
    (np.cov,                 [case(real(3, 5)), case(real(5)), case(real(5, 2), rowvar=False), case(real(2, 4), bias=True),
                              case(real(2, 4), ddof=2), case(real(4), real(4)), case(real(2, 5), real(5)),
                              case(real(4, 2), real(4), rowvar=False), case(real(3, 4), None, True, False, 0),
                              case(real(4, 1), rowvar=False), case(real(3, 2), real(1, 3), rowvar=False),
                              refuses(case(real(2, 4), fweights=np.array([1, 2, 1, 1])))]),
    (np.corrcoef,            [case(real(3, 5)), case(real(5, 2), rowvar=False), case(real(4), real(4)),
                              case(real(2, 5), real(5)), case(real(4, 2), real(4, 1), rowvar=False)]),
    (np.median,              [case(real(5)), case(real(4)), case(real(2, 3), axis=1), case(real(4, 3), axis=0),
                              case(real(2, 4), axis=1, keepdims=True), case(real(3, 2, 2), axis=(1, 2))]),
    (np.average,             [case(real(4)), case(real(2, 3), axis=1), case(real(4), weights=pos(4)),
                              case(real(2, 3), axis=1, weights=pos(3)), case(real(3, 2), axis=0, weights=pos(3)),
                              case(real(2, 3), weights=pos(2, 3)), refuses(case(real(3), returned=True)),
                              case(real(2, 3, 4), axis=(0, 2), weights=pos(2, 4)),     # weights along the axes
                              case(real(2, 3, 4), axis=(2, 0), weights=pos(4, 2)), case(real(2, 3), axis=(1,), weights=pos(3))]),
    # --- more products ---
    (np.vdot,                [case(real(3), real(3)), case(real(2, 3), real(6)), case(real(2, 2), real(2, 2))]),
    (np.kron,                [case(real(2), real(3)), case(real(2, 3), real(2, 2)), case(real(3), real(2, 2)),
                              case(real(2, 2), real(3))]),
    (np.cross,               [case(real(3), real(3)), case(real(2, 3), real(3)), case(real(4, 3), real(4, 3))]
                             + ([refuses(case(real(2), real(2)))] if _CROSS_2D else [])),
    (np.convolve,            [case(real(5), real(3)), case(real(3), real(5)), case(real(5), real(3), "same"),
                              case(real(2), real(5), "same"), case(real(5), real(3), "valid"), case(real(3), real(4), "valid")]),
    (np.correlate,           [case(real(5), real(3)), case(real(3), real(5)), case(real(4), real(3), "same"),
                              case(real(2), real(5), "same"), case(real(4), real(6), "same"), case(real(5), real(2), "full")]),
    # --- pieces ---
    (np.split,               [case(real(6), 3), case(real(4, 2), np.array([1, 3])), case(real(2, 6), 2, 1)]),
    (np.array_split,         [case(real(5), 3), case(real(2, 5), 2, axis=1)]),
    (np.gradient,            [case(real(5)), case(real(4, 3)), case(real(4, 3), 0.5), case(real(4, 3), 0.5, 2.0),
                              case(real(4, 3), axis=1), case(real(2)), case(real(3, 2, 4), 0.25, axis=(0, 2)),
                              case(real(4), pos()), case(real(3, 4), pos(), pos()), case(real(3, 4), pos(), axis=1),
                              refuses(case(real(4), edge_order=2)), refuses(case(real(4), np.arange(4.0)))]),
    (np.partition,           [case(real(6), 2), case(real(6), [1, 4]), case(real(3, 5), 2, 0), case(real(3, 5), 3),
                              case(real(2, 4), 1, None)]),
    (np.hsplit,              [case(real(6), 3), case(real(2, 4), 2), case(real(2, 5), np.array([1, 3]))]),
    (np.vsplit,              [case(real(4, 2), 2), case(real(5, 3), np.array([2]))]),
    (np.dsplit,              [case(real(2, 2, 4), 2), case(real(1, 2, 5), np.array([1, 4]))]),
    (runtime.item,           [case(real(1)), case(real(4), 2), case(real(2, 3), 1, 2), case(real(1, 1))]),
    (runtime.real_only,      [case(real(3), "np.f"), case(real(2, 3), "np.g")]),
    # --- np.linalg ---
    (np.linalg.solve,        SOLVE),
    (np.linalg.multi_dot,    [case([real(2, 3), real(3, 4)]), case([real(3), real(3, 4), real(4, 2)]),
                              case([real(2, 3), real(3, 4), real(4)]), case([real(3), real(3, 2), real(2, 2), real(2)]),
                              case((real(2, 3), real(3, 3), real(3, 3), real(3, 1))), case([real(2, 3), np.ones((3, 2))])]),
    (np.linalg.inv,          [case(wc(3)), case(wc(2, 3)), case(wc(1))]),
    (np.linalg.matrix_power, [case(wc(3), 3), case(wc(3), 0), case(wc(3), 1), case(wc(3), 2), case(wc(2, 3), 4),
                              case(wc(3), -1), case(wc(3), -2), case(wc(2, 3), -3), case(real(1, 1), 5)]),
    (np.linalg.det,          [case(wc(3)), case(wc(2, 3)), case(wc(2)), case(spd(3))]),
    (np.linalg.slogdet,      [case(spd(3)), case(wc(3)), case(spd(2, 3))]),
    (np.linalg.cholesky,     [case(spd(3)), case(spd(2, 3)), case(spd(1))]),
    (np.linalg.norm,         NORM),
    *([(np.linalg.vector_norm, [case(real(4)), case(real(2, 3)), case(real(2, 3), axis=1), case(real(2, 3, 4), axis=(0, 2)),
                                case(real(2, 3), axis=0, keepdims=True), case(real(2, 3), ord=1), case(real(4), ord=np.inf),
                                case(real(2, 3, 4), axis=(2, 1), ord=3, keepdims=True), case(real(4), ord=-np.inf),
                                case(real(2, 3), axis=-1, ord=0.5), case(real(2, 3), ord=-2), case(real(), ord=2)]),
        (np.linalg.matrix_norm, [case(real(2, 3)), case(real(2, 3, 4)), case(real(3, 2), ord=1), case(real(2, 3), ord=np.inf),
                                 case(real(2, 3), ord="nuc"), case(real(2, 3, 4), ord=2, keepdims=True), case(real(3, 2), ord=-2),
                                 case(real(3, 3), ord=-1), case(real(2, 3, 2), ord=-np.inf)])]
      if hasattr(np.linalg, "vector_norm") else []),
    (np.linalg.eigh,         [case(spd(3)), case(spd(2, 3)), case(real(3, 3)), case(real(3, 3), "U")]),
    (np.linalg.eigvalsh,     [case(spd(3)), case(spd(2, 3)), case(real(3, 3)), case(real(4, 4), UPLO="U")]),
    (np.linalg.pinv,         [case(real(3, 2)), case(real(2, 4)), case(wc(3)), case(real(2, 3, 2))]),
    (np.linalg.svd,          [case(real(4, 3), False), case(real(3, 4), False), case(wc(3)), case(real(2, 3, 2), False),
                              case(real(4, 3), compute_uv=False), case(real(3, 5), compute_uv=False),
                              refuses(case(real(4, 3)))]),
    (np.linalg.lstsq,        [case(real(5, 3), real(5)), case(real(5, 3), real(5, 2)), case(wc(3), real(3)),
                              case(real(4, 2), real(4), rcond=None)]),
    (np.linalg.qr,           [case(real(4, 3)), case(wc(3)), case(real(2, 4, 2)), case(real(4, 3), "r"),
                              refuses(case(real(2, 3)))]),
    # --- containers ---
    (field_of,               [case(Pair(real(3), real()), field("w")), case(Pair(real(2, 3), real(3)), field("b"))]),
]
SPEC = [(prim, cases) for prim, cases in SPEC if prim is not None]
CONTAINER_ARGUMENT = "a namedtuple argument (check_grads takes arrays): see test_namedtuple_fields"


# --- naming primitives -------------------------------------------------------------------------
_MODULES = {"_operator": "operator", "builtins": "", "numpy": "np", "numpy.linalg": "np.linalg", "numpy.fft": "np.fft",
            "s2sad.runtime": "s2sad.runtime"}


def readable(prim):
    """``np.sin``, ``operator.add``, ``abs``, ``np.linalg.solve``: how a user would write it."""
    module = getattr(prim, "__module__", None) or ("numpy" if isinstance(prim, np.ufunc) else "")
    name = getattr(prim, "__name__", repr(prim))
    prefix = _MODULES.get(module, module)
    return f"{prefix}.{name}" if prefix else name


CASES = [(prim, c) for prim, cases in SPEC for c in cases]
IDS = [f"{readable(prim)}({c!r})" for prim, c in CASES]
COMPILED = [pytest.param(prim, c, id=i, marks=[pytest.mark.xfail(strict=True, reason=c.compiler_bug)] if c.compiler_bug
                         else [pytest.mark.skip(reason=CONTAINER_ARGUMENT)] if prim is field_of else [])
            for (prim, c), i in zip(CASES, IDS)]


# --- the trees of arguments: leaves, paths ---------------------------------------------------------
def rebuild(like, items):
    """A list/tuple/namedtuple like ``like`` holding ``items``."""
    return type(like)(*items) if hasattr(type(like), "_fields") else type(like)(items)


def sample(spec, rng):
    if isinstance(spec, Arg):
        return spec.sample(rng)
    if isinstance(spec, Src):
        return spec.value
    if isinstance(spec, (list, tuple)):
        return rebuild(spec, [sample(s, rng) for s in spec])
    return spec


def leaves(spec, path=()):
    """(path, Arg) for every differentiable argument in a (nested) argument list."""
    if isinstance(spec, Fixed):
        return []
    if isinstance(spec, Arg):
        return [(path, spec)]
    if isinstance(spec, (list, tuple)):
        return [leaf for i, s in enumerate(spec) for leaf in leaves(s, path + (i,))]
    return []


def get(tree, path):
    for i in path:
        tree = tree[i]
    return tree


def replace(tree, path, value):
    if not path:
        return value
    items = list(tree)
    items[path[0]] = replace(items[path[0]], path[1:], value)
    return rebuild(tree, items)


def random_like(ans, rng):
    """A random cotangent with the structure of the primitive's output."""
    if isinstance(ans, (tuple, list)):                      # (np.split gives a list)
        return (list if isinstance(ans, list) else tuple)(random_like(a, rng) for a in ans)
    if np.ndim(ans) == 0 and not isinstance(ans, np.ndarray):
        return float(rng.standard_normal())
    if np.iscomplexobj(ans):                                # (np.fft): a complex cotangent
        return rng.standard_normal(np.shape(ans)) + 1j * rng.standard_normal(np.shape(ans))
    return rng.standard_normal(np.shape(ans))


def pairing(g, y):
    """<g, y>, for arrays, scalars and tuples or lists of them. For complex values, Re(sum(g * y)): a complex
    cotangent g is dL/da - i dL/db (JAX's convention, see s2sad/runtime.py's real_like)."""
    if isinstance(g, (tuple, list)):
        return sum(pairing(gi, yi) for gi, yi in zip(g, y))
    if np.iscomplexobj(g) or np.iscomplexobj(y):
        return float(np.real(np.sum(np.asarray(g) * np.asarray(y))))
    return float(np.sum(np.asarray(g, dtype=float) * np.asarray(y, dtype=float)))


@functools.lru_cache(maxsize=None)
def returns_tuple(rule):
    """Whether the rule's ``return`` is a tuple literal (one entry per argument), as the compiler reads it."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(rule))).body[0]
    return isinstance(tree.body[-1].value, ast.Tuple)


def adjoint_at(rule, result, path, x):
    """The rule's adjoint for the argument at ``path`` (whose value is ``x``), following the return
    conventions. Inside a container's adjoint, None stands for zero (see s2sad/tree.py)."""
    entries = list(result) if returns_tuple(rule) else [result]
    params = [p for p in inspect.signature(rule).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)][2:]
    i, rest = path[0], path[1:]
    for k, p in enumerate(params):
        if k == i or (p.kind is p.VAR_POSITIONAL and i >= k):
            entry = entries[k] if k < len(entries) else None
            if entry is None:
                return None
            rest = ((i - k),) + rest if p.kind is p.VAR_POSITIONAL else rest
            for j in rest:
                entry = entry[j]
                if entry is None:
                    return np.zeros(np.shape(x))
            return entry
    return None


# --- the rule against finite differences ---------------------------------------------------------
@pytest.mark.parametrize("prim, c", CASES, ids=IDS)
def test_rule(prim, c):
    rng = np.random.default_rng(SEED)
    rule = registry.vjp_rule(prim)
    args, kwargs = list(sample(c.args, rng)), {k: sample(v, rng) for k, v in c.kwargs.items()}
    ans = prim(*args, **kwargs)
    g = random_like(ans, rng)
    if c.refuses:
        with pytest.raises(NotImplementedError):
            rule(g, ans, *args, **kwargs)
        return
    result = rule(g, ans, *args, **kwargs)
    found = leaves(c.args)
    assert found, "a case needs at least one differentiable argument"
    for path, arg in found:
        x = get(args, path)
        adj = adjoint_at(rule, result, path, x)
        where = f"argument {'/'.join(map(str, path))} ({arg!r})"
        assert adj is not None, f"the rule gives no adjoint for {where}"
        assert np.shape(adj) == np.shape(x), f"adjoint of {where} has shape {np.shape(adj)}, argument has {np.shape(x)}"
        assert np.result_type(adj).kind == "f", f"adjoint of {where} has dtype {np.result_type(adj)}"
        v = arg.direction(rng)
        up = prim(*replace(args, path, x + EPS * v), **kwargs)
        down = prim(*replace(args, path, x - EPS * v), **kwargs)
        numeric = (pairing(g, up) - pairing(g, down)) / (2 * EPS)
        analytic = pairing(adj, v)
        np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL, err_msg=(
            f"{readable(prim)}: <rule adjoint, v> differs from finite differences for {where}"))


# --- the rule table is complete ---------------------------------------------------------------------
def test_every_rule_has_a_spec_entry():
    specified = {registry._key(prim) for prim, _ in SPEC}
    # s2sad's own tables, not the rules other tests register for their own primitives
    # (tables with tests of their own: the runtime helpers', fixed_point's, nested derivatives' and
    # scipy.integrate's helpers' rules in tests/test_helper_rules.py, scipy.special's in tests/test_scipy_rules.py)
    own_tests = {"s2sad.rules.helpers", "s2sad.rules.implicit", "s2sad.rules.scipy_special", "s2sad.rules.nested",
                 "s2sad.rules.scipy_linalg", "s2sad.rules.scipy_signal", "s2sad.rules.scipy_integrate"}
    ours = [prim for prim, rule in registry.registered_vjps()
            if (getattr(rule, "__module__", None) or "").startswith("s2sad.rules.")
            and rule.__module__ not in own_tests]
    assert len(ours) > 100
    specified |= {registry._key(prim) for prim in LOSSY_CASTS}          # (a hand formula: test_lossy_casts)
    missing = [readable(prim) for prim in ours if registry._key(prim) not in specified]
    assert not missing, f"registered rules with no SPEC entry in {__file__}: {', '.join(missing)}"


def test_every_spec_entry_is_registered():
    unregistered = [readable(prim) for prim, _ in SPEC if registry.vjp_rule(prim) is None]
    assert not unregistered, f"SPEC entries with no registered rule: {', '.join(unregistered)}"
    names = [readable(prim) for prim, _ in SPEC]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"primitives listed twice in SPEC: {', '.join(duplicates)}"
    empty = [readable(prim) for prim, cases in SPEC if not any(not c.refuses for c in cases)]
    assert not empty, f"SPEC entries with no checked case: {', '.join(empty)}"


def test_nondiff_table():
    nondiff = registry.registered_nondiff()
    assert nondiff
    for prim in nondiff:
        assert registry.is_nondiff(prim), readable(prim)
        assert registry.vjp_rule(prim) is None, f"{readable(prim)} is registered both as nondiff and with a rule"
    for prim in (np.floor, np.argmax, np.shape, np.less, np.greater_equal, operator.lt, operator.eq,
                 operator.floordiv, math.floor, len, round):
        assert registry.is_nondiff(prim), f"{readable(prim)} should be registered as nondiff"


# --- end to end, through the compiler ---------------------------------------------------------------
_PRELUDE = "import math\nimport operator\n\nimport numpy as np\n\nimport s2sad.runtime\n\n\n"
_INFIX = {operator.add: "{} + {}", operator.sub: "{} - {}", operator.mul: "{} * {}", operator.truediv: "{} / {}",
          operator.pow: "{} ** {}", operator.mod: "{} % {}", operator.matmul: "{} @ {}", operator.getitem: "{}[{}]",
          operator.neg: "-{}", operator.pos: "+{}", runtime.astype: "{}.astype({})", field_of: "{}.{}"}


def literal(value):
    if isinstance(value, float) and math.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    if isinstance(value, type):
        return f"np.{value.__name__}" if value.__module__ == "numpy" else value.__name__
    if isinstance(value, np.ndarray):
        return f"np.array({value.tolist()!r})"
    return repr(value)


def load_function(tmp_path, text, name="f"):
    return getattr(load_module(tmp_path / f"generated_{abs(hash(text))}.py", text), name)


def e2e_module(prim, c, ans):
    """Source text of ``f(p0, ..., W)``: the primitive applied to the case's arguments, paired with W."""
    params = []

    def render(spec):
        if isinstance(spec, Arg):
            params.append(spec)
            name = f"p{len(params) - 1}"
            return f"0.5 * ({name} + np.swapaxes({name}, -1, -2))" if spec.symmetric else name
        if isinstance(spec, Src):
            return spec.text
        if isinstance(spec, list):
            return "[" + ", ".join(render(s) for s in spec) + "]"
        if isinstance(spec, tuple) and any(isinstance(s, Arg) for s in spec):
            return "(" + ", ".join(render(s) for s in spec) + ("," if len(spec) == 1 else "") + ")"
        return literal(spec)

    args = [render(a) for a in c.args]
    kwargs = [f"{k}={render(v)}" for k, v in c.kwargs.items()]
    if prim in _INFIX:
        expr = _INFIX[prim].format(*args)
    else:
        expr = f"{readable(prim)}({', '.join(args + kwargs)})"
    names = [f"p{i}" for i in range(len(params))]
    if isinstance(ans, (tuple, list)):
        outs = [f"y{i}" for i in range(len(ans))]
        body = f"    {', '.join(outs)} = {expr}\n    return " + " + ".join(
            f"np.sum({o} * W[{i}])" for i, o in enumerate(outs)) + "\n"
    elif np.iscomplexobj(ans):                          # a real loss of a complex value, paired as in pairing()
        body = f"    y = {expr}\n    return np.sum(np.real(y * W))\n"
    elif isinstance(ans, (np.ndarray, list)):
        body = f"    y = {expr}\n    return np.sum(y * W)\n"
    else:
        body = f"    y = {expr}\n    return y * W\n"
    return _PRELUDE + f"def f({', '.join(names + ['W'])}):\n" + body, params


def compiled_case(prim, c, tmp_path):
    """``(f, arguments, wrt)``: the case's module ``f(p0, ..., W)`` loaded, its sampled arguments (W last) and
    the indices of the differentiable ones (an index alone when there is one)."""
    rng = np.random.default_rng(SEED)
    sampled = sample(c.args, rng)
    kwargs = {k: sample(v, rng) for k, v in c.kwargs.items()}
    ans = prim(*sampled, **kwargs)
    text, params = e2e_module(prim, c, ans)
    f = load_function(tmp_path, text)
    rng = np.random.default_rng(SEED)
    values = [p.sample(rng) for p in params]
    W = random_like(ans, rng)
    wrt = tuple(i for i, p in enumerate(params) if not isinstance(p, Fixed))
    return f, values + [W], wrt[0] if len(wrt) == 1 else wrt     # wrt=(0,) is mishandled: see test_wrt_one_tuple


@pytest.mark.parametrize("prim, c", COMPILED)
def test_compiled(prim, c, tmp_path):
    f, args, wrt = compiled_case(prim, c, tmp_path)
    if c.refuses:                       # (when the code runs, or at the user's line: einsum's `...`)
        with pytest.raises((NotImplementedError, s2sad.UnsupportedSyntaxError)):
            s2sad.grad(f, wrt)(*args)
        return
    check_grads(f, args, wrt=wrt, rtol=RTOL, eps=EPS)


# --- ndarray methods and attributes (the method/attribute tables), through the compiler -----------
METHODS = [
    ("x.sum()", real(2, 3)), ("x.sum(axis=0)", real(2, 3)), ("x.sum(1, keepdims=True)", real(2, 3)),
    ("x.mean()", real(4)), ("x.mean(axis=(0, 2))", real(2, 3, 2)), ("x.prod(axis=1)", real(2, 3)),
    ("x.cumsum()", real(2, 3)), ("x.cumsum(axis=1)", real(2, 3)), ("np.sum(np.array(x.tolist()) ** 2)", real(2, 3)),
    ("np.sum(x.view() ** 2)", real(2, 3)),
    ("x.max(0)", real(2, 3)), ("x.min()", real(2, 3)), ("x.var(ddof=1)", real(2, 3)), ("x.std(axis=1)", real(2, 3)),
    ("x.dot(y)", real(2, 3), real(3)), ("x.dot(y)", real(2, 3), real(3, 2)),
    ("x.clip(-0.5, 0.5)", real(2, 3)), ("x.clip(None, y)", real(2, 3), real(3)), ("x.clip(min=y)", real(2, 3), real(3)),
    ("x.trace()", real(3, 3)), ("x.trace(1)", real(3, 4)),
    ("x.ravel()", real(2, 3)), ("x.ravel('F')", real(2, 3)), ("x.T.ravel('K')", real(2, 3)),
    ("x.flatten()", real(2, 3)), ("x.flatten('F')", real(2, 3)), ("x.T.flatten('A')", real(2, 3)),
    ("x.squeeze()", real(1, 3)), ("x.squeeze(axis=0)", real(1, 3)),
    ("x.swapaxes(0, 1)", real(2, 3)), ("x.copy()", real(2, 3)),
    ("x.reshape(3, 2)", real(2, 3)), ("x.reshape((3, 2))", real(2, 3)), ("x.reshape(-1)", real(2, 3)),
    ("x.reshape(3, 2, order='F')", real(2, 3)),
    ("x.transpose()", real(2, 3)), ("x.transpose(1, 0, 2)", real(2, 3, 4)), ("x.transpose((2, 0, 1))", real(2, 3, 4)),
    ("x.astype(np.float64)", real(2, 3)), ("x.astype(int)", real(2, 3)), ("x.astype('float64', copy=False)", real(4)),
    ("x.T", real(2, 3)), ("x.T", real(2, 3, 4)), ("x.real", real(2, 3)), 
    ("(x * (1 + 2j)).conj().real", real(3)), ("np.imag((x * 2j + 1.0).conjugate())", real(3)),
    ("(x * (1 + 2j)).imag", real(2, 3)),
    ("x.cumprod()", real(2, 3)), ("x.cumprod(axis=1)", real(2, 3)), ("x.diagonal()", real(3, 3)),
    ("x.diagonal(1)", real(3, 4)), ("x.repeat(2)", real(3)), ("x.repeat(2, axis=0)", real(2, 3)),
    ("x.take([2, 0, 2])", real(4)), ("x.take([1], axis=1)", real(2, 3)), ("x.item()", real(1)),
    ("x.item(2) * x[0]", real(4)), ("x.item(1, 0)", real(2, 2)),
    # ufunc methods (rules/numpy.UFUNC_METHODS: definitions, differentiated from their source)
    ("np.add.reduce(x)", real(2, 3)), ("np.add.reduce(x, 1, keepdims=True)", real(2, 3)),
    ("np.add.reduce(x, axis=None)", real(2, 3)), ("np.multiply.reduce(x, axis=1)", real(2, 3)),
    ("np.maximum.reduce(x)", real(2, 3)), ("np.minimum.reduce(x, axis=None)", real(2, 3)),
    ("np.add.accumulate(x)", real(2, 3)), ("np.multiply.accumulate(x, axis=1)", real(2, 3)),
    ("np.add.outer(x, y)", real(3), real(2)), ("np.subtract.outer(x, y)", real(3), real(2, 2)),
    ("np.multiply.outer(x, y)", real(2, 2), real(3)), ("np.divide.outer(x, y)", real(3), nonzero(2)),
]


@pytest.mark.parametrize("snippet, args", [(m[0], m[1:]) for m in METHODS],
                         ids=[f"{m[0]}:{','.join(map(repr, m[1:]))}" for m in METHODS])
def test_method(snippet, args, tmp_path):
    rng = np.random.default_rng(SEED)
    values = [a.sample(rng) for a in args]
    names = ["x", "y"][:len(args)]
    ans = eval(snippet, {"np": np}, dict(zip(names, values)))
    W = random_like(ans, rng)
    text = f"import numpy as np\n\n\ndef f({', '.join(names)}, W):\n    out = {snippet}\n    return np.sum(out * W)\n"
    f = load_function(tmp_path, text)
    check_grads(f, values + [W], wrt=tuple(range(len(args))) if len(args) > 1 else 0, rtol=RTOL, eps=EPS)


def test_astype_float32(tmp_path):
    """A float32 round trip defeats float64 finite differences: compare with the exact gradient."""
    f = load_function(tmp_path, "import numpy as np\n\n\n"
                                "def f(x, W):\n    return np.sum(np.sin(x.astype(np.float32)) * W)\n")
    rng = np.random.default_rng(SEED)
    x, W = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    g = s2sad.grad(f)(x, W)
    assert g.dtype == np.float64 and g.shape == x.shape
    np.testing.assert_allclose(g, np.cos(x) * W, rtol=1e-6, atol=1e-7)
    g32 = s2sad.grad(f)(x.astype(np.float32), W)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, np.cos(x) * W, rtol=1e-5, atol=1e-6)


LOSSY_CASTS = [np.float32, np.float16]      # np.float32(v) called on a value: a cast


def _cast_down(x):
    a = np.float32(x[0]) * 2.0
    return a * a + np.sum(np.sin(np.float32(x)) * np.float16(x[1]))


def test_lossy_casts():
    """np.float32(v) had no rule ("no derivative rule for numpy.float32"); its derivative is a cast back to v's
    dtype: float64 in, float64 gradient. The rounding defeats finite differences: the hand formula, and the
    forward mode."""
    x = np.array([0.75, -1.5])
    g = s2sad.grad(_cast_down)(x)
    a, h = np.float32(0.75), np.float16(-1.5)
    c = np.cos(x.astype(np.float32))
    want = np.array([8.0 * a + c[0] * h, c[1] * h + np.sum(np.sin(x.astype(np.float32)))])
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, want, rtol=1e-6)
    _, t = s2sad.jvp(_cast_down, (x,), (np.array([1.0, -2.0]),))
    np.testing.assert_allclose(t, want @ np.array([1.0, -2.0]), rtol=1e-6)
    g32 = s2sad.grad(_cast_down)(x.astype(np.float32))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, want, rtol=1e-6)


# --- nondiff primitives: zero gradient through the compiler -----------------------------------------
NONDIFF = ["np.floor(x)", "np.ceil(x)", "np.round(x)", "np.trunc(x)", "np.sign(x)", "x // 0.5",
           "np.floor_divide(x, 0.5)",
           "np.argmax(x)", "np.argmin(x)", "np.argsort(x)", "np.shape(x)[0]", "np.size(x)", "np.ndim(x)", "len(x)",
           "x > 0", "x <= 0.5", "x == x", "np.less(x, 0.2)", "np.greater_equal(x, 0.2)", "np.isnan(x)",
           "np.heaviside(x, 0.5)", "np.logical_and(x > 0, x < 1)", "np.zeros_like(x)", "np.count_nonzero(x > 0)",
           "x.argmax()", "x.argmin()", "x.argsort()", "x.nonzero()[0]", "x.any()", "x.all()", "x.round()",
           "x.shape[0]", "x.ndim", "x.size", "math.floor(x[0])", "round(x[1])", "int(x[2])",
           "np.digitize(x, [0.0, 1.0])"]


@pytest.mark.parametrize("snippet", NONDIFF)
def test_nondiff_gives_zero_gradient(snippet, tmp_path):
    text = (f"import math\n\nimport numpy as np\n\n\n"
            f"def f(x):\n    return np.sum(np.sin(x)) * (1.0 + np.sum({snippet}))\n\n\n"
            f"def only(x):\n    return np.sum({snippet}) * 2.0\n")
    f, only = load_function(tmp_path, text), load_function(tmp_path, text, "only")
    x = np.array([0.3, -1.2, 2.7, 0.9])
    factor = 1.0 + np.sum(eval(snippet, {"np": np, "math": math, "x": x}))
    np.testing.assert_allclose(s2sad.grad(f)(x), np.cos(x) * factor, rtol=1e-12)
    g = s2sad.grad(only)(x)
    assert g.shape == x.shape and not g.any()


def test_every_method_and_attribute_is_exercised():
    snippets = [m[0] for m in METHODS] + NONDIFF + ["d.get("]    # (dict.get: tests/test_varargs.py)
    missing = [f".{name}()" for name in registry._METHODS if not any(f".{name}(" in s for s in snippets)]
    missing += [f".{name}" for name in registry._ATTRIBUTES
                if not any(re.search(rf"\.{name}\b(?!\()", s) for s in snippets)]
    assert not missing, f"ndarray methods/attributes with no test: {', '.join(missing)}"


# --- return conventions through the compiler: tuple outputs, tuple items ------------------------------
def slogdet_sign_only(A):
    sign, logdet = np.linalg.slogdet(A)
    return sign * np.sum(A)


def slogdet_indexed(A):
    result = np.linalg.slogdet(A)
    return result[1] * 3.0 + result[0]


def items_of_different_shapes(x, y):
    t = (x, y)
    return np.sum(t[0] * 2.0) + np.sum(t[1] ** 2)


def tuple_item_and_direct_use(x, y):
    a = (x, y)[1]
    return np.sum(a * 2.0) + np.sum(x * 3.0)


def tuple_parameter(params, X):
    W = params[0]
    b = params[1]
    return np.sum(np.tanh(X @ W + b))


def tuple_parameter_unpacked(params, X):
    W, b = params
    return np.sum(np.tanh(X @ W + b))


def namedtuple_fields(p, X):
    return np.sum(np.tanh(X @ p.w + p.b))


def tuple_unpacked_twice(x, y):
    t = (x, y)
    a, b = t
    c, d = t
    return np.sum(a * b) + np.sum(c * d)


def sin_sum(x):
    return np.sum(np.sin(x))


def test_slogdet_when_only_the_sign_is_used():
    A = spd(3).sample(np.random.default_rng(SEED))
    check_grads(slogdet_sign_only, (A,))
    check_grads(slogdet_indexed, (A,))


def test_indexing_a_tuple_of_arrays_of_different_shapes():
    rng = np.random.default_rng(SEED)
    check_grads(items_of_different_shapes, (rng.standard_normal(3), rng.standard_normal((2, 2))), wrt=(0, 1))
    check_grads(tuple_item_and_direct_use, (rng.standard_normal(3), rng.standard_normal(2)), wrt=(0, 1))


def test_tuple_parameter():
    rng = np.random.default_rng(SEED)
    params, X = (rng.standard_normal((3, 2)), rng.standard_normal(2)), rng.standard_normal((4, 3))
    expected = s2sad.grad(tuple_parameter_unpacked)(params, X)
    got = s2sad.grad(tuple_parameter)(params, X)
    assert isinstance(got, tuple) and [g.shape for g in got] == [(3, 2), (2,)]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    W, b = params
    np.testing.assert_allclose(got[1], np.sum(1 - np.tanh(X @ W + b) ** 2, axis=0), rtol=1e-12)


def test_tuple_adjoint_accumulates():
    """Adjoints of a tuple add item by item (at 152eda8 they were tuples, and `+` concatenated them)."""
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    np.testing.assert_allclose(s2sad.grad(tuple_unpacked_twice)(x, y), 2 * y)


def test_namedtuple_fields():
    rng = np.random.default_rng(SEED)
    p, X = Pair(rng.standard_normal((3, 2)), rng.standard_normal(2)), rng.standard_normal((4, 3))
    got = s2sad.grad(namedtuple_fields)(p, X)
    assert isinstance(got, Pair)
    expected = s2sad.grad(tuple_parameter_unpacked)(tuple(p), X)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12)


def test_wrt_one_tuple():
    x = np.array([0.1, 0.2, 0.3])
    g = s2sad.grad(sin_sum, (0,))(x)
    assert isinstance(g, tuple) and len(g) == 1
    np.testing.assert_allclose(g[0], np.cos(x), rtol=1e-12)


def test_extremum_ties_split_the_gradient():
    """At a tie max/min have no derivative; the rule splits g evenly between the elements that attain it."""
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    rule = registry.vjp_rule(np.max)
    np.testing.assert_array_equal(rule(1.0, np.max(x), x)[0], [[0, 0.5, 0.5], [0, 0, 0]])
    np.testing.assert_array_equal(rule(np.ones(2), np.max(x, axis=1), x, axis=1)[0], [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    # initial ties with the maximum of the second row: a third each (no derivative, as at any tie)
    a_bar, *_, initial_bar = rule(np.ones(2), np.max(x, axis=1, initial=2.0), x, axis=1, initial=2.0)
    np.testing.assert_allclose(a_bar, [[0, 0.5, 0.5], [1 / 3, 0, 1 / 3]])
    assert initial_bar == 1 / 3


# --- second order and float32, through the compiler -------------------------------------------------
FIRST_CASES = [(prim, next(c for c in cases if not c.refuses and not c.compiler_bug)) for prim, cases in SPEC]
SECOND = [pytest.param(prim, c, id=f"{readable(prim)}({c!r})",
                       marks=[pytest.mark.skip(reason=CONTAINER_ARGUMENT)] if prim is field_of else [])
          for prim, c in FIRST_CASES]


@pytest.mark.parametrize("prim, c", SECOND)
def test_compiled_second_order(prim, c, tmp_path):
    """Each primitive's first case again, with the Hessian-vector product (forward over reverse) against
    central differences of the gradient: the rule's own derivatives (rules/helpers.py for its helpers)."""
    f, args, wrt = compiled_case(prim, c, tmp_path)
    check_grads(f, args, wrt=wrt, rtol=RTOL, eps=EPS, order=2)


def _float32(values):
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        return values.astype(np.float32)
    if isinstance(values, np.ndarray) and values.dtype == np.complex128:
        return values.astype(np.complex64)
    if isinstance(values, float):
        return np.float32(values)
    if isinstance(values, (list, tuple)) and not hasattr(values, "_fields"):
        return type(values)(_float32(v) for v in values)
    return values


FLOAT64_BY_DEFINITION = (np.float_power, np.linspace, np.arange, np.logspace, np.geomspace)       # their results are float64 whatever comes in


@pytest.mark.parametrize("prim, c", [p for p in SECOND if p.values[0] not in FLOAT64_BY_DEFINITION])
def test_rule_in_float32(prim, c):
    """Each primitive's first case with float32 arguments: the adjoints keep float32 (no silent upcast to
    float64 doubling memory and time) and agree with the float64 rule to float32 precision."""
    rng = np.random.default_rng(SEED)
    rule = registry.vjp_rule(prim)
    args, kwargs = list(sample(c.args, rng)), {k: sample(v, rng) for k, v in c.kwargs.items()}
    ans = prim(*args, **kwargs)
    g = random_like(ans, rng)
    want = rule(g, ans, *args, **kwargs)
    args32, g32 = [_float32(a) for a in args], _float32(g)
    ans32 = prim(*args32, **kwargs)
    got = rule(g32, ans32, *args32, **kwargs)
    for path, arg in leaves(c.args):
        x = get(args32, path)
        if not isinstance(x, (np.ndarray, np.float32)):
            continue
        a32, a64 = adjoint_at(rule, got, path, x), adjoint_at(rule, want, path, get(args, path))
        assert np.result_type(a32) == np.float32, f"{readable(prim)}: the adjoint is {np.result_type(a32)}"
        np.testing.assert_allclose(np.asarray(a32, dtype=float), a64, rtol=2e-3, atol=2e-4)


def test_cholesky_reads_the_lower_triangle_only():
    """NumPy's Cholesky factor reads a's lower triangle (as eigh's UPLO="L"): along a direction that is not
    symmetric, the adjoint gives the upper triangle nothing and the tangent ignores it (both were symmetric)."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 3))
    a = a @ a.T + 3 * np.eye(3)
    a[0, 2] += 10.0                                   # the upper triangle is never read
    t, w = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    f = lambda m: np.sum(w * np.linalg.cholesky(m))   # noqa: E731
    numeric = (f(a + EPS * t) - f(a - EPS * t)) / (2 * EPS)
    adj = registry.vjp_rule(np.linalg.cholesky)(w, np.linalg.cholesky(a), a)
    assert np.all(np.triu(adj, 1) == 0.0)
    np.testing.assert_allclose(np.sum(adj * t), numeric, rtol=1e-6)
    tangent = registry.jvp_rule(np.linalg.cholesky)[0](t, np.linalg.cholesky(a), a)
    np.testing.assert_allclose(np.sum(w * tangent), numeric, rtol=1e-6)
