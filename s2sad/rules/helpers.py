"""Rules for s2sad's own runtime helpers (``_s2.unbroadcast``, ...), so that generated code can be
differentiated again: ``grad(grad(f))``, ``jvp`` of ``grad`` (a Hessian-vector product).

Most helpers are linear in the adjoint ``g`` they take: their forward rule applies the
helper to the tangent, their reverse rule is the transposed operation.
"""
import numpy as np

from ..runtime import (det_grad, det_grad_a_tangent, einsum_grads, einsum_grads_tangent, hstack_grads, inner_grads,
                       inner_grads_tangents, slogdet_grad, slogdet_grad_a_tangent, split_like, std_grad,
                       std_grad_ans_tangent, tensordot_grads, tensordot_grads_tangents, unstack, vstack_grads)
from ..runtime import (append_grads, atleast_grads, broadcast, cast_grad, cast_tangent, concatenate_grads, copy_like,
                       dot_x_grad, dot_y_grad, extremum_grad, matmul_x_grad, matmul_y_grad, owned, pack, part,
                       prod_grad, reduced_size, reshape_like, safe_log, seed, sequence, shape_of, solve_a_grad,
                       stack_grads,
                       trace_grad, transpose_grad, unarray, unattr, unbroadcast, unindex, unreduce, unreshape,
                       unsum, zeros_like, clip_masks)
from .registry import elementwise, jvp, nondiff, vjp

nondiff(shape_of, reduced_size, zeros_like, seed, clip_masks)

# --- broadcasting and reductions ---
@vjp(unbroadcast)
def unbroadcast_vjp(h, ans, g, x): return broadcast(h, g)
@jvp(unbroadcast)
def unbroadcast_jvp(t, ans, g, x): return unbroadcast(t, x)
@vjp(broadcast)
def broadcast_vjp(h, ans, g, like): return unbroadcast(h, g)
@jvp(broadcast)
def broadcast_jvp(t, ans, g, like): return broadcast(t, ans)
@vjp(unreduce)
def unreduce_vjp(h, ans, g, x, axis=None, keepdims=False): return np.sum(h, axis, keepdims=keepdims)
@jvp(unreduce)
def unreduce_jvp(t, ans, g, x, axis=None, keepdims=False): return unreduce(t, x, axis, keepdims)
@vjp(extremum_grad)
def extremum_grad_vjp(h, ans, g, y, x, axis=None, keepdims=False):
    return np.sum(h * extremum_grad(np.ones_like(y), y, x, axis, keepdims), axis, keepdims=keepdims)
@jvp(extremum_grad)
def extremum_grad_jvp(t, ans, g, y, x, axis=None, keepdims=False): return extremum_grad(t, y, x, axis, keepdims)
@vjp(prod_grad)
def prod_grad_vjp(h, ans, g, y, x, axis=None, keepdims=False):
    return np.sum(h * prod_grad(np.ones_like(y), y, x, axis, keepdims), axis, keepdims=keepdims)
@jvp(prod_grad)
def prod_grad_jvp(t, ans, g, y, x, axis=None, keepdims=False): return prod_grad(t, y, x, axis, keepdims)
@vjp(unsum)
def unsum_vjp(h, ans, g, seq): return sum(h)
@jvp(unsum)
def unsum_jvp(t, ans, g, seq): return unsum(t, seq)

# --- indexing and copies ---
@vjp(unindex)
def unindex_vjp(h, ans, g, x, idx): return h[idx]
@jvp(unindex)
def unindex_jvp(t, ans, g, x, idx): return unindex(t, x, idx)
@vjp(sequence)
def sequence_vjp(g, ans, items): return g
@jvp(sequence)
def sequence_jvp(t, ans, items): return t
@vjp(owned)
def owned_vjp(h, ans, buf): return h
@jvp(owned)
def owned_jvp(t, ans, buf): return owned(t)
@elementwise(safe_log)
def safe_log_vjp(g, ans, x): return g * (x > 0) / np.where(x > 0, x, 1.0)

# --- casts and shapes ---
@vjp(cast_grad)
def cast_grad_vjp(h, ans, g, x, y=None): return cast_grad(h, g)
@jvp(cast_grad)
def cast_grad_jvp(t, ans, g, x, y=None): return cast_grad(t, x, y)
@vjp(cast_tangent)
def cast_tangent_vjp(h, ans, g, y): return cast_grad(h, g, y)
@jvp(cast_tangent)
def cast_tangent_jvp(t, ans, g, y): return cast_tangent(t, y)
@vjp(unreshape)
def unreshape_vjp(h, ans, g, x, order="C"): return reshape_like(h, x, g, order)
@jvp(unreshape)
def unreshape_jvp(t, ans, g, x, order="C"): return unreshape(t, x, order)
@vjp(reshape_like)
def reshape_like_vjp(h, ans, g, x, y, order="C"): return unreshape(h, g, order)
@jvp(reshape_like)
def reshape_like_jvp(t, ans, g, x, y, order="C"): return reshape_like(t, x, y, order)
@vjp(transpose_grad)
def transpose_grad_vjp(h, ans, g, axes=None): return np.transpose(h, axes)
@jvp(transpose_grad)
def transpose_grad_jvp(t, ans, g, axes=None): return transpose_grad(t, axes)
@vjp(trace_grad)
def trace_grad_vjp(h, ans, g, x, offset=0, axis1=0, axis2=1): return np.trace(h, offset, axis1, axis2)
@jvp(trace_grad)
def trace_grad_jvp(t, ans, g, x, offset=0, axis1=0, axis2=1): return trace_grad(t, x, offset, axis1, axis2)
@jvp(concatenate_grads)
def concatenate_grads_jvp(t, ans, g, arrays, axis=0): return concatenate_grads(t, arrays, axis)
@jvp(stack_grads)
def stack_grads_jvp(t, ans, g, arrays, axis=0): return stack_grads(t, arrays, axis)
@jvp(unarray)
def unarray_jvp(t, ans, g, obj, y=None): return unarray(t, obj, y)
@jvp(atleast_grads)
def atleast_grads_jvp(t, ans, g, arrays): return atleast_grads(t, arrays)

# --- products: bilinear in the adjoint and the other operand ---
@vjp(matmul_x_grad)
def matmul_x_grad_vjp(h, ans, g, x, y): return h @ y, None, matmul_y_grad(g, h, y)
@jvp(matmul_x_grad)
def matmul_x_grad_jvp(t, ans, g, x, y): return matmul_x_grad(t, x, y), None, matmul_x_grad(g, x, t)
@vjp(matmul_y_grad)
def matmul_y_grad_vjp(h, ans, g, x, y): return x @ h, matmul_x_grad(g, x, h), None
@jvp(matmul_y_grad)
def matmul_y_grad_jvp(t, ans, g, x, y): return matmul_y_grad(t, x, y), matmul_y_grad(g, t, y), None
@vjp(dot_x_grad)
def dot_x_grad_vjp(h, ans, g, x, y): return np.dot(h, y), None, dot_y_grad(g, h, y)
@jvp(dot_x_grad)
def dot_x_grad_jvp(t, ans, g, x, y): return dot_x_grad(t, x, y), None, dot_x_grad(g, x, t)
@vjp(dot_y_grad)
def dot_y_grad_vjp(h, ans, g, x, y): return np.dot(x, h), dot_x_grad(g, x, h), None
@jvp(dot_y_grad)
def dot_y_grad_jvp(t, ans, g, x, y): return dot_y_grad(t, x, y), dot_y_grad(g, t, y), None
@jvp(solve_a_grad)
def solve_a_grad_jvp(t, ans, gb, x): return solve_a_grad(t, x), solve_a_grad(gb, t)

# --- containers' adjoints ---
@vjp(pack)
def pack_vjp(h, ans, *items): return h
@jvp(pack)
def pack_jvp(t, ans, *items): return pack(*t)
@jvp(part)
def part_jvp(t, ans, g, key, x): return part(t, key, x)
@jvp(append_grads)
def append_grads_jvp(t, ans, g, items): return append_grads(t, items)
@jvp(unattr)
def unattr_jvp(t, ans, g, obj, name): return unattr(t, obj, name)
@vjp(copy_like)
def copy_like_vjp(h, ans, g): return h
@jvp(copy_like)
def copy_like_jvp(t, ans, g): return copy_like(t)

# --- second derivatives of the non-linear adjoint helpers ---
@jvp(std_grad)
def std_grad_jvp(t, ans, g, y, x, axis=None, ddof=0, keepdims=False):
    return (std_grad(t, y, x, axis, ddof, keepdims), std_grad_ans_tangent(g, y, x, t, axis, ddof, keepdims),
            std_grad(g, y, t, axis, ddof, keepdims))
@jvp(det_grad)
def det_grad_jvp(t, ans, g, y, a): return det_grad(t, y, a), det_grad(g, t, a), det_grad_a_tangent(g, y, a, t)
@jvp(slogdet_grad)
def slogdet_grad_jvp(t, ans, g, a): return slogdet_grad(t, a), slogdet_grad_a_tangent(g, a, t)
@jvp(inner_grads)
def inner_grads_jvp(t, ans, g, a, b):
    return inner_grads(t, a, b), inner_grads_tangents(g, a, b, t, None), inner_grads_tangents(g, a, b, None, t)
@jvp(tensordot_grads)
def tensordot_grads_jvp(t, ans, g, a, b, axes=2):
    return (tensordot_grads(t, a, b, axes), tensordot_grads_tangents(g, a, b, t, None, axes),
            tensordot_grads_tangents(g, a, b, None, t, axes))
@jvp(einsum_grads)
def einsum_grads_jvp(t, ans, g, subscripts, operands):
    return einsum_grads(t, subscripts, operands), None, einsum_grads_tangent(g, subscripts, operands, t)
@jvp(split_like)
def split_like_jvp(t, ans, g, arrays, axis=0): return split_like(t, arrays, axis)
@jvp(unstack)
def unstack_jvp(t, ans, g, axis=0): return unstack(t, axis)
@jvp(hstack_grads)
def hstack_grads_jvp(t, ans, g, arrays): return hstack_grads(t, arrays)
@jvp(vstack_grads)
def vstack_grads_jvp(t, ans, g, arrays): return vstack_grads(t, arrays)
