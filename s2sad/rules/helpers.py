"""Rules for the runtime helpers that forward rules call (``_s2.broadcast``, ...), so that tangent code can
be differentiated again: a derivative of a derivative is the gradient (or tangent) of forward-mode code
(see api.py), never of reverse-mode code.

Every rule gives an entry for each positional argument: the derivative, or None where the argument
is only read for its shape or dtype (or the helper is flat in it). An argument left without an
entry is refused where it carries a derivative (reverse/adjoints.py), never silently taken as zero.
"""
import numpy as np

from ..runtime import (broadcast, cast_grad, cast_tangent, clip_masks, copy_like, einsum_tangent, einsum_tangent_grads,
                       extremum_grad, extremum_initial_grad, matmul_like_solve, matmul_x_grad, matmul_y_grad, owned, prod_grad, prod_partials, reduced_size,
                       reshape_like, rng_state, checkpoint_rerun, safe_log, scaled_power, seed, sequence, shape_of, trace_grad,
                       transpose_grad, unbroadcast, unindex, unreduce, unreshape, unsum, zeros_like)
from ..runtime import dict_default_grad, dict_get, dict_get_grad, dict_get_tangent  # noqa: E402
from ..runtime import (underived, rule_shaped, sequence_tangent, check_keywords, dict_values_grad, first_best, pairs_grad, pairs_of, pairs_tangent, unshared, walked, keys_of, zip_length, make_dict, owned_tangent, retyped, sequence_grad,
                       sort_order, unzip, unzip_grad, written_tangent, added,
                       uncumsum, recumsum, unsort, sorted_like)
from ..runtime import (arange_tangent, arange_tangent_grad, concatenation_tangent, concatenation_tangent_grad,
                       linspace_grads, linspace_tangent, repetition_tangent, repetition_tangent_grads)
from ..runtime import gradient_spacing_grads, gradient_spacing_tangent
from ..runtime import polygamma, scalar_base, vector_rows, vector_unrows
from ..runtime import broadcast_arrays_grads, broadcast_tangents
from ..runtime import quantile_apply, quantile_q_grad, quantile_q_tangent, quantile_spread
from ..runtime import a_list, an_object, same_length, scipy_value, cofactor, cofactor_grad, cofactor_tangent, uncut, interp_segments, meshgrid_grads, meshgrid_tangents, spaced_by_dx
from ..runtime import (average_weights, checked_cross, diff_tangent, full_pads, item, kron_layout, median_grad,
                       median_tangent, median_weights, nonzero_checked, pad_source, regather, regather_each,
                       picked, source_index, sources_of, to_list, tolist_grad, undiff, ungather, ungather_each, unitem,
                       unsplit, unweight)
from .. import pytrees
from ..runtime import flatten_values, unflatten_vector
from ..runtime import as_columns, from_columns
from ..runtime import eigengaps, from_triangle, refuse_lower_rank, to_triangle
from ..runtime import einsum_directions, einsum_directions_grads
from ..runtime import atleast_grads, atleast_tangents, repetition_cross, repetition_cross_grad, sinc_derivative
from ..tree import (AdjFields, AdjTuple, computed_flat, differentiable_field, field_tangent, is_record, new_record, new_record_grads,
                    new_record_tangent, record_adjoint, unattr)
from ..runtime import (block_trace, checked_system, factor_placed, flipped, frechet_blocks, lower_factor, lower_half,
                       off_factor, signal_pads, structured, structured_grad, transposed_if, transposes,
                       triangular_part, uplo, upper_right)
from .registry import elementwise, jvp, method, nondiff, vjp

from ..runtime import opaque_call  # noqa: E402
from ..runtime import constant_key, product_items, unarray  # noqa: E402
from ..runtime import added_at, diagonal_filled, diagonal_values, module_argument, none_argument  # noqa: E402
nondiff(module_argument, none_argument)
nondiff(shape_of, reduced_size, zeros_like, seed, clip_masks, rng_state, opaque_call, computed_flat)
nondiff(constant_key)                    # (a check: keys carry no derivative, effects.guard_keys)
from ..runtime import masked_exp, one_if_none, weights_like  # noqa: E402
nondiff(weights_like)                    # (its shape is all logsumexp's rules read of it)
@vjp(masked_exp)
def masked_exp_vjp(h, ans, d, b=None): return unbroadcast(h * ans, d), None
@jvp(masked_exp)
def masked_exp_jvp(t, ans, d, b=None): return t * ans, None
@vjp(one_if_none)
def one_if_none_vjp(h, ans, b): return unbroadcast(h, b)
@jvp(one_if_none)
def one_if_none_jvp(t, ans, b): return t

# --- broadcasting and reductions ---
@vjp(unbroadcast)
def unbroadcast_vjp(h, ans, g, x): return broadcast(h, g), None
@jvp(unbroadcast)
def unbroadcast_jvp(t, ans, g, x): return unbroadcast(t, x), None
@vjp(broadcast)
def broadcast_vjp(h, ans, g, like): return unbroadcast(h, g), None
@jvp(broadcast)
def broadcast_jvp(t, ans, g, like): return broadcast(t, ans), None
@vjp(unreduce)
def unreduce_vjp(h, ans, g, x, axis=None, keepdims=False): return np.sum(h, axis, keepdims=keepdims), None
@jvp(unreduce)
def unreduce_jvp(t, ans, g, x, axis=None, keepdims=False): return unreduce(t, x, axis, keepdims), None
@vjp(extremum_grad)
def extremum_grad_vjp(h, ans, g, y, x, axis=None, keepdims=False, initial=None):     # where it is smooth, flat in y and x
    return np.sum(h * extremum_grad(np.ones_like(y), y, x, axis, keepdims, initial), axis, keepdims=keepdims), None, None
@jvp(extremum_grad)
def extremum_grad_jvp(t, ans, g, y, x, axis=None, keepdims=False, initial=None):
    return extremum_grad(t, y, x, axis, keepdims, initial), None, None
@vjp(extremum_initial_grad)                        # g times weights (flat in y and x)
def extremum_initial_grad_vjp(h, ans, g, y, x, axis=None, keepdims=False, initial=None):
    return unbroadcast(extremum_initial_grad(h, y, x, axis, keepdims, initial), g), None, None
@jvp(extremum_initial_grad)
def extremum_initial_grad_jvp(t, ans, g, y, x, axis=None, keepdims=False, initial=None):
    return extremum_initial_grad(t, y, x, axis, keepdims, initial), None, None
@vjp(prod_grad)                                    # flat in y (np.prod's value); prod_partials: its second derivative
def prod_grad_vjp(h, ans, g, y, x, axis=None, keepdims=False):
    return (np.sum(h * prod_grad(np.ones_like(y), y, x, axis, keepdims), axis, keepdims=keepdims), None,
            prod_partials(x, axis, h * unreduce(g, x, axis, keepdims)))
@jvp(prod_grad)
def prod_grad_jvp(t, ans, g, y, x, axis=None, keepdims=False):
    return prod_grad(t, y, x, axis, keepdims), None, unreduce(g, x, axis, keepdims) * prod_partials(x, axis, t)
# prod_partials(x, axis, c1, ...): symmetric in the directions c and linear in each; along x, one direction more
@vjp(prod_partials)
def prod_partials_vjp(h, ans, x, axis=None, c1=None, c2=None, c3=None, c4=None, c5=None, c6=None, beyond=None):
    return (prod_partials(x, axis, h, c1, c2, c3, c4, c5, c6), None,
            unbroadcast(prod_partials(x, axis, h, c2, c3, c4, c5, c6), c1),
            unbroadcast(prod_partials(x, axis, c1, h, c3, c4, c5, c6), c2),
            unbroadcast(prod_partials(x, axis, c1, c2, h, c4, c5, c6), c3),
            unbroadcast(prod_partials(x, axis, c1, c2, c3, h, c5, c6), c4),
            unbroadcast(prod_partials(x, axis, c1, c2, c3, c4, h, c6), c5),
            unbroadcast(prod_partials(x, axis, c1, c2, c3, c4, c5, h), c6), None)
@jvp(prod_partials)
def prod_partials_jvp(t, ans, x, axis=None, c1=None, c2=None, c3=None, c4=None, c5=None, c6=None, beyond=None):
    return (prod_partials(x, axis, t, c1, c2, c3, c4, c5, c6), None,
            prod_partials(x, axis, t, c2, c3, c4, c5, c6), prod_partials(x, axis, c1, t, c3, c4, c5, c6),
            prod_partials(x, axis, c1, c2, t, c4, c5, c6), prod_partials(x, axis, c1, c2, c3, t, c5, c6),
            prod_partials(x, axis, c1, c2, c3, c4, t, c6), prod_partials(x, axis, c1, c2, c3, c4, c5, t), None)
@vjp(unsum)
def unsum_vjp(h, ans, g, seq): return sum(h), None
@jvp(unsum)
def unsum_jvp(t, ans, g, seq): return unsum(t, seq), None

# --- indexing, sequences, copies ---
@vjp(unindex)
def unindex_vjp(h, ans, g, x, idx): return h[idx], None, None
@jvp(unindex)
def unindex_jvp(t, ans, g, x, idx): return unindex(t, x, idx), None, None
# d.get(key, default) on a dict
@vjp(dict_get)
def dict_get_vjp(g, ans, d, key, default=None): return dict_get_grad(g, d, key), None, dict_default_grad(g, d, key)
@jvp(dict_get)
def dict_get_jvp(t, ans, d, key, default=None): return dict_get_tangent(t, d, key, ans), None, dict_default_grad(t, d, key)
@vjp(dict_get_grad)
def dict_get_grad_vjp(h, ans, g, d, key): return dict_get_tangent(h, d, key, g), None, None
@jvp(dict_get_grad)
def dict_get_grad_jvp(t, ans, g, d, key): return dict_get_grad(t, d, key), None, None
@vjp(dict_default_grad)
def dict_default_grad_vjp(h, ans, g, d, key): return dict_default_grad(h, d, key), None, None
@jvp(dict_default_grad)
def dict_default_grad_jvp(t, ans, g, d, key): return dict_default_grad(t, d, key), None, None
@vjp(dict_get_tangent)
def dict_get_tangent_vjp(h, ans, t, d, key, like): return dict_get_grad(h, d, key), None, None, None
@jvp(dict_get_tangent)
def dict_get_tangent_jvp(s, ans, t, d, key, like): return dict_get_tangent(s, d, key, like), None, None, None
method("get", dict_get)

@vjp(make_dict)
def make_dict_vjp(g, ans, keys, values): return None, dict_values_grad(g, keys)
@jvp(make_dict)
def make_dict_jvp(t, ans, keys, values): return None, make_dict(keys, t)
@vjp(dict_values_grad)
def dict_values_grad_vjp(h, ans, g, keys): return make_dict(keys, h), None
@jvp(dict_values_grad)
def dict_values_grad_jvp(t, ans, g, keys): return dict_values_grad(t, keys), None
@vjp(retyped)
def retyped_vjp(h, ans, g, items): return tuple(h), None
@jvp(retyped)
def retyped_jvp(t, ans, g, items): return retyped(t, items), None
nondiff(first_best, sort_order, keys_of, zip_length, unshared, walked, check_keywords, underived)
nondiff(interp_segments, spaced_by_dx, a_list, an_object, same_length)
@vjp(scipy_value)                                  # the identity on the value (scipy's checks of the arguments)
def scipy_value_vjp(h, ans, value, dist, method, args): return h, None, None, None
@jvp(scipy_value)
def scipy_value_jvp(t, ans, value, dist, method, args): return t, None, None, None
@vjp(cofactor)                                     # det(a)'s derivative; its own (a nonsingular) is cofactor_tangent,
def cofactor_vjp(h, ans, a): return cofactor_grad(h, ans, a)
@jvp(cofactor)
def cofactor_jvp(t, ans, a): return cofactor_tangent(t, ans, a)      # differentiated from its source (linalg.py)
@vjp(uncut)                                        # the identity on p (a check of the cutoff)
def uncut_vjp(h, ans, p, a, rcond=None, rtol=None, what="np.linalg.pinv"): return h, None
@jvp(uncut)
def uncut_jvp(t, ans, p, a, rcond=None, rtol=None, what="np.linalg.pinv"): return t, None
@vjp(meshgrid_tangents)                            # linear in the tangents t; flat in the arguments and results
def meshgrid_tangents_vjp(h, ans, t, xi, like, indexing="xy"): return meshgrid_grads(h, t, indexing), None, None, None
@jvp(meshgrid_tangents)
def meshgrid_tangents_jvp(u, ans, t, xi, like, indexing="xy"): return meshgrid_tangents(u, xi, like, indexing), None, None, None
@vjp(uncumsum)
def uncumsum_vjp(h, ans, g, a, axis=None): return recumsum(h, a, axis), None
@jvp(uncumsum)
def uncumsum_jvp(t, ans, g, a, axis=None): return uncumsum(t, a, axis), None
@vjp(recumsum)
def recumsum_vjp(h, ans, g, a, axis=None): return uncumsum(h, a, axis), None
@jvp(recumsum)
def recumsum_jvp(t, ans, g, a, axis=None): return recumsum(t, a, axis), None
@vjp(unsort)
def unsort_vjp(h, ans, g, a, axis=-1): return sorted_like(h, a, axis), None
@jvp(unsort)
def unsort_jvp(t, ans, g, a, axis=-1): return unsort(t, a, axis), None
@vjp(sorted_like)
def sorted_like_vjp(h, ans, t, a, axis=-1): return unbroadcast(unsort(h, a, axis), t), None     # t may broadcast
@jvp(sorted_like)
def sorted_like_jvp(t, ans, u, a, axis=-1): return sorted_like(t, a, axis), None
@vjp(added)
def added_vjp(g, ans, a, b): return g, g
@jvp(added)
def added_jvp(t, ans, a, b): return t, t
@vjp(unzip)
def unzip_vjp(g, ans, rows): return unzip_grad(g, rows)
@jvp(unzip)
def unzip_jvp(t, ans, rows): return unzip(t)
@vjp(unzip_grad)
def unzip_grad_vjp(h, ans, g, rows): return unzip(h), None
@jvp(unzip_grad)
def unzip_grad_jvp(t, ans, g, rows): return unzip_grad(t, rows), None
@vjp(written_tangent)
def written_tangent_vjp(g, ans, v_dot, x): return written_tangent(g, x), None
@jvp(written_tangent)
def written_tangent_jvp(t, ans, v_dot, x): return written_tangent(t, x), None
@vjp(owned_tangent)
def owned_tangent_vjp(h, ans, t, x=None): return written_tangent(h, x), None     # (x of integers: none)
@jvp(owned_tangent)
def owned_tangent_jvp(t, ans, buf, x=None): return owned_tangent(t, x), None
@vjp(pairs_of)
def pairs_of_vjp(g, ans, x): return pairs_grad(g, x)
@jvp(pairs_of)
def pairs_of_jvp(t, ans, x): return pairs_tangent(t, x)
@vjp(pairs_grad)                                   # pairs_grad and pairs_tangent: linear, each the other's transpose
def pairs_grad_vjp(h, ans, g, x): return pairs_tangent(h, x), None
@jvp(pairs_grad)
def pairs_grad_jvp(t, ans, g, x): return pairs_grad(t, x), None
@vjp(pairs_tangent)
def pairs_tangent_vjp(h, ans, t, x): return pairs_grad(h, x), None
@jvp(pairs_tangent)
def pairs_tangent_jvp(dt, ans, t, x): return pairs_tangent(dt, x), None
@vjp(sequence)
def sequence_vjp(g, ans, items): return sequence_grad(g, items)
@vjp(sequence_grad)                                # (a dict's: zeros whatever g is)
def sequence_grad_vjp(h, ans, g, items): return (None if isinstance(items, dict) else h), None
@jvp(sequence_grad)
def sequence_grad_jvp(t, ans, g, items): return (None if isinstance(items, dict) else t), None
@jvp(sequence)
def sequence_jvp(t, ans, items): return sequence_tangent(t, items)            # a dict's keys: no tangent
@vjp(sequence_tangent)
def sequence_tangent_vjp(h, ans, t, items): return sequence_grad(h, items), None     # (a dict's: zeros)
@jvp(sequence_tangent)
def sequence_tangent_jvp(dt, ans, t, items): return sequence_tangent(dt, items), None
@vjp(rule_shaped)
def rule_shaped_vjp(h, ans, value, like, message): return h, None, None
@jvp(rule_shaped)
def rule_shaped_jvp(t, ans, value, like, message): return t, None, None
@vjp(owned)
def owned_vjp(h, ans, buf): return h
@jvp(owned)
def owned_jvp(t, ans, buf): return owned(t)
@vjp(copy_like)
def copy_like_vjp(h, ans, g): return h
@jvp(copy_like)
def copy_like_jvp(t, ans, g): return copy_like(t)
@elementwise(scaled_power)                         # c * x**p, 0 where c is 0 (the derivative of x**y); `c * p * g`,
# not `g * c * p`: inline._plain_power writes `(g * k) * x ** p` plainly only for a pow rule's `g * y`
def scaled_power_vjp(g, ans, c, x, p):
    return (unbroadcast(scaled_power(g, x, p), c), unbroadcast(scaled_power(c * p * g, x, p - 1), x),
            unbroadcast(g * ans * safe_log(x), p))
@elementwise(safe_log)
def safe_log_vjp(g, ans, x): return g * (x > 0) / np.where(x > 0, x, 1.0)

# --- casts and shapes ---
@vjp(cast_grad)
def cast_grad_vjp(h, ans, g, x, y=None): return cast_grad(h, g, y), None, None     # zero through an integer y too
@jvp(cast_grad)
def cast_grad_jvp(t, ans, g, x, y=None): return cast_grad(t, x, y), None, None
@vjp(cast_tangent)
def cast_tangent_vjp(h, ans, g, y): return cast_grad(h, g, y), None
@jvp(cast_tangent)
def cast_tangent_jvp(t, ans, g, y): return cast_tangent(t, y), None
@vjp(unreshape)
def unreshape_vjp(h, ans, g, x, order="C"): return reshape_like(h, x, g, order), None
@jvp(unreshape)
def unreshape_jvp(t, ans, g, x, order="C"): return unreshape(t, x, order), None
@vjp(reshape_like)
def reshape_like_vjp(h, ans, g, x, y, order="C"): return unreshape(h, x, order), None, None   # "A"/"K": x's order
@jvp(reshape_like)
def reshape_like_jvp(t, ans, g, x, y, order="C"): return reshape_like(t, x, y, order), None, None
@vjp(transpose_grad)
def transpose_grad_vjp(h, ans, g, axes=None): return np.transpose(h, axes)
@jvp(transpose_grad)
def transpose_grad_jvp(t, ans, g, axes=None): return transpose_grad(t, axes)
@vjp(trace_grad)
def trace_grad_vjp(h, ans, g, x, offset=0, axis1=0, axis2=1): return np.trace(h, offset, axis1, axis2), None
@jvp(trace_grad)
def trace_grad_jvp(t, ans, g, x, offset=0, axis1=0, axis2=1): return trace_grad(t, x, offset, axis1, axis2), None

# --- products in forward rules (bilinear) ---
@vjp(matmul_like_solve)
def matmul_like_solve_vjp(h, ans, g, y): return matmul_x_grad(h, g, y), matmul_y_grad(h, g, y)
@jvp(matmul_like_solve)
def matmul_like_solve_jvp(t, ans, g, y): return matmul_like_solve(t, y), matmul_like_solve(g, t)
@vjp(einsum_tangent)
def einsum_tangent_vjp(h, ans, tangents, subscripts, operands):
    tangents_bar, operands_bar = einsum_tangent_grads(h, tangents, subscripts, operands)
    return tangents_bar, None, operands_bar
@jvp(einsum_tangent)                               # multilinear: along the operands, two directions on two operands
def einsum_tangent_jvp(u, ans, tangents, subscripts, operands):
    return einsum_tangent(u, subscripts, operands), None, einsum_directions(subscripts, operands, tangents, u)
# einsum_directions(subscripts, operands, d1, ...): symmetric in the directions d and linear in each; along the
# operands, one direction more
@vjp(einsum_directions)
def einsum_directions_vjp(h, ans, subscripts, operands, d1, d2=None, d3=None, d4=None, d5=None, d6=None, beyond=None):
    operands_bar, d_bars = einsum_directions_grads(h, subscripts, operands, (d1, d2, d3, d4, d5, d6))
    return None, operands_bar, d_bars[0], d_bars[1], d_bars[2], d_bars[3], d_bars[4], d_bars[5], None
@jvp(einsum_directions)
def einsum_directions_jvp(t, ans, subscripts, operands, d1, d2=None, d3=None, d4=None, d5=None, d6=None, beyond=None):
    return (None, einsum_directions(subscripts, operands, t, d1, d2, d3, d4, d5, d6),
            einsum_directions(subscripts, operands, t, d2, d3, d4, d5, d6),
            einsum_directions(subscripts, operands, d1, t, d3, d4, d5, d6),
            einsum_directions(subscripts, operands, d1, d2, t, d4, d5, d6),
            einsum_directions(subscripts, operands, d1, d2, d3, t, d5, d6),
            einsum_directions(subscripts, operands, d1, d2, d3, d4, t, d6),
            einsum_directions(subscripts, operands, d1, d2, d3, d4, d5, t), None)

# --- + and * on sequences, constructors ---
@vjp(concatenation_tangent)
def concatenation_tangent_vjp(h, ans, t, x, y, z, side): return concatenation_tangent_grad(h, t, x, y, side), None, None, None
@vjp(repetition_tangent)
def repetition_tangent_vjp(h, ans, t, x, y, z, side):
    t_bar, x_bar, y_bar = repetition_tangent_grads(h, t, x, y, side)
    return t_bar, x_bar, y_bar, None
@vjp(arange_tangent)
def arange_tangent_vjp(h, ans, g, y, which, stop=None): return arange_tangent_grad(h, g, y, which, stop), None, None, None
@vjp(linspace_tangent)
def linspace_tangent_vjp(h, ans, start_dot, stop_dot, num=50, endpoint=True, retstep=False, axis=0):
    start_bar, stop_bar = linspace_grads(h, start_dot, stop_dot, num, endpoint, retstep, axis)
    return start_bar, stop_bar
@jvp(arange_tangent)                               # linear in g; flat in y (np.arange's value: its size)
def arange_tangent_jvp(t, ans, g, y, which, stop=None): return arange_tangent(t, y, which, stop), None, None, None
@jvp(linspace_tangent)                             # linear in the two tangents together
def linspace_tangent_jvp(t, ans, start_dot, stop_dot, num=50, endpoint=True, retstep=False, axis=0):
    return (linspace_tangent(t, 0.0 * stop_dot, num, endpoint, retstep, axis),
            linspace_tangent(0.0 * start_dot, t, num, endpoint, retstep, axis))

# --- checkpoints: the call run again (its own derivative is the callee's) ---
nondiff(checkpoint_rerun)


# --- gathers, differences, medians, weights, pieces (rules/numpy.py's helpers) ---
nondiff(source_index, sources_of, pad_source, kron_layout, full_pads, median_weights)
@vjp(ungather)
def ungather_vjp(h, ans, g, a, source): return unbroadcast(regather(h, source), g), None, None     # g may broadcast
@jvp(ungather)
def ungather_jvp(t, ans, g, a, source): return ungather(t, a, source), None, None
@vjp(regather)
def regather_vjp(h, ans, g, source): return ungather(h, g, source), None
@jvp(regather)
def regather_jvp(t, ans, g, source): return regather(t, source), None
@vjp(ungather_each)
def ungather_each_vjp(h, ans, g, arrays, source): return regather_each(h, source), None, None
@jvp(ungather_each)
def ungather_each_jvp(t, ans, g, arrays, source): return ungather_each(t, arrays, source), None, None
@vjp(regather_each)
def regather_each_vjp(h, ans, gs, source): return ungather_each(h, gs, source), None
@jvp(regather_each)
def regather_each_jvp(t, ans, gs, source): return regather_each(t, source), None
@vjp(undiff)
def undiff_vjp(h, ans, g, a, n=1, axis=-1, prepend=None, append=None, part=1):
    return diff_tangent(h, n, axis, prepend, append, a, part), None, None, None, None, None, None   # (ends: shapes)
@jvp(undiff)
def undiff_jvp(t, ans, g, a, n=1, axis=-1, prepend=None, append=None, part=1):
    return undiff(t, a, n, axis, prepend, append, part), None, None, None, None, None, None
@vjp(diff_tangent)
def diff_tangent_vjp(h, ans, t, n=1, axis=-1, prepend=None, append=None, a=None, part=1):
    return undiff(h, t if a is None else a, n, axis, prepend, append, part), None, None, None, None, None, None
@jvp(diff_tangent)
def diff_tangent_jvp(u, ans, t, n=1, axis=-1, prepend=None, append=None, a=None, part=1):
    return diff_tangent(u, n, axis, prepend, append, a, part), None, None, None, None, None, None
# np.gradient's tangent along its spacings h: -result * dh / h, linear in dh and in the result (each axis's own)
@vjp(gradient_spacing_tangent)                     # f: read for its shape
def gradient_spacing_tangent_vjp(k, out, t, ans, f, varargs, axis=None, edge_order=1):
    return (gradient_spacing_grads(k, ans, f, varargs, axis, edge_order),
            gradient_spacing_tangent(t, k, f, varargs, axis, edge_order), None,
            gradient_spacing_grads(gradient_spacing_tangent(t, k, f, varargs, axis, edge_order), ans, f, varargs, axis,
                                   edge_order))
@jvp(gradient_spacing_tangent)
def gradient_spacing_tangent_jvp(u, out, t, ans, f, varargs, axis=None, edge_order=1):
    return (gradient_spacing_tangent(u, ans, f, varargs, axis, edge_order),
            gradient_spacing_tangent(t, u, f, varargs, axis, edge_order), None,
            gradient_spacing_tangent(t, gradient_spacing_tangent(u, ans, f, varargs, axis, edge_order), f, varargs, axis,
                                     edge_order))
@vjp(nonzero_checked)
def nonzero_checked_vjp(h, ans, a, what): return h, None
@jvp(nonzero_checked)
def nonzero_checked_jvp(t, ans, a, what): return t, None
@vjp(checked_cross)
def checked_cross_vjp(h, ans, g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None): return h, None, None
@jvp(checked_cross)
def checked_cross_jvp(t, ans, g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None): return t, None, None
@vjp(median_grad)                                  # piecewise linear: flat in a
def median_grad_vjp(h, ans, g, a, axis=None, keepdims=False): return median_tangent(h, a, axis, keepdims), None
@jvp(median_grad)
def median_grad_jvp(t, ans, g, a, axis=None, keepdims=False): return median_grad(t, a, axis, keepdims), None
@vjp(median_tangent)
def median_tangent_vjp(h, ans, t, a, axis=None, keepdims=False): return median_grad(h, a, axis, keepdims), None
@jvp(median_tangent)
def median_tangent_jvp(u, ans, t, a, axis=None, keepdims=False): return median_tangent(u, a, axis, keepdims), None
# quantile_apply(v, a, q, ...): linear in v, piecewise constant in a; in q, "value" has the derivative "slope"
@vjp(quantile_apply)
def quantile_apply_vjp(h, ans, v, a, q, axis=None, keepdims=False, part="value", method="linear", weights=None,
                       interpolation=None, nan=False):
    return (quantile_spread(h, a, q, axis, keepdims, part, method, weights, interpolation, nan), None,
            quantile_q_grad(h, v, a, q, axis, keepdims, part, method, weights, interpolation, nan))
@jvp(quantile_apply)
def quantile_apply_jvp(t, ans, v, a, q, axis=None, keepdims=False, part="value", method="linear", weights=None,
                       interpolation=None, nan=False):
    return (quantile_apply(t, a, q, axis, keepdims, part, method, weights, interpolation, nan), None,
            quantile_apply(v, a, q, axis, keepdims, "slope" if part == "value" else "zero", method, weights, interpolation,
                           nan) * quantile_q_tangent(t, q, ans))
@vjp(quantile_q_tangent)                           # a reshape of t
def quantile_q_tangent_vjp(h, ans, t, q, like): return np.reshape(h, np.shape(t)), None, None
@jvp(quantile_q_tangent)
def quantile_q_tangent_jvp(u, ans, t, q, like): return quantile_q_tangent(u, q, like), None, None
@vjp(average_weights)                              # a: read for its shape
def average_weights_vjp(h, ans, a, weights, axis=None, returned=False): return None, unweight(h, weights, axis)
@jvp(average_weights)
def average_weights_jvp(t, ans, a, weights, axis=None, returned=False): return None, average_weights(a, t, axis, returned)
@vjp(unweight)
def unweight_vjp(h, ans, c, weights, axis=None): return average_weights(c, h, axis), None
@jvp(unweight)
def unweight_jvp(t, ans, c, weights, axis=None): return unweight(t, weights, axis), None
@vjp(unsplit)
def unsplit_vjp(h, ans, g, ary, indices_or_sections, axis=0): return np.array_split(h, indices_or_sections, axis), None
@jvp(unsplit)
def unsplit_jvp(t, ans, g, ary, indices_or_sections, axis=0): return unsplit(t, ary, indices_or_sections, axis), None
@vjp(picked)                                       # linear in g
def picked_vjp(h, ans, g, chosen): return picked(h, chosen), None
@jvp(picked)
def picked_jvp(t, ans, g, chosen): return picked(t, chosen), None
@vjp(tolist_grad)                                  # linear in g: the list of g's items and back
def tolist_grad_vjp(h, ans, g, x): return to_list(h), None
@jvp(tolist_grad)
def tolist_grad_jvp(t, ans, g, x): return tolist_grad(t, x), None
@vjp(unitem)
def unitem_vjp(h, ans, g, x, *args): return item(h, *args), None
@jvp(unitem)
def unitem_jvp(t, ans, g, x, *args): return unitem(t, x, *args), None
@elementwise(polygamma)                            # psi^(n)' = psi^(n+1)
def polygamma_vjp(g, ans, n, x): return None, unbroadcast(g * polygamma(n + 1, x), x)
@vjp(vector_rows)                                  # a transpose and a reshape
def vector_rows_vjp(h, ans, x, axis=None): return vector_unrows(h, x, axis), None
@jvp(vector_rows)
def vector_rows_jvp(t, ans, x, axis=None): return vector_rows(t, axis), None
@vjp(scalar_base)                                  # its argument, checked
def scalar_base_vjp(h, ans, base, what="np.logspace"): return h, None
@jvp(scalar_base)
def scalar_base_jvp(t, ans, base, what="np.logspace"): return t, None
@vjp(broadcast_tangents)                           # each tangent expanded: summed back
def broadcast_tangents_vjp(h, ans, g, like): return tuple(broadcast_arrays_grads(h, g)), None
@jvp(broadcast_tangents)
def broadcast_tangents_jvp(t, ans, g, like): return broadcast_tangents(t, like), None
@vjp(atleast_tangents)
def atleast_tangents_vjp(h, ans, g, like): return tuple(atleast_grads(h, g)), None
@jvp(atleast_tangents)
def atleast_tangents_jvp(t, ans, g, like): return atleast_tangents(t, like), None
@elementwise(sinc_derivative)
def sinc_derivative_vjp(g, ans, x, n): return g * sinc_derivative(x, n + 1), None
@jvp(concatenation_tangent)                       # linear in the tangent; flat in the operands (their shapes)
def concatenation_tangent_jvp(u, ans, t, x, y, z, side): return concatenation_tangent(u, x, y, z, side), None, None, None
@jvp(repetition_tangent)                          # t * y (or x * t): bilinear
def repetition_tangent_jvp(u, ans, t, x, y, z, side):
    return (repetition_tangent(u, x, y, z, side), repetition_cross(t, u, x, y, z, side, 0),
            repetition_cross(t, u, x, y, z, side, 1), None)
@jvp(repetition_cross)
def repetition_cross_jvp(v, ans, t, u, x, y, z, side, which):
    return repetition_cross(v, u, x, y, z, side, which), repetition_cross(t, v, x, y, z, side, which), None, None, None
@vjp(repetition_cross)                             # t * u where it is not zero: bilinear, flat in x, y, z (shapes)
def repetition_cross_vjp(h, ans, t, u, x, y, z, side, which):
    return (repetition_cross_grad(h, u, t, x, y, z, side, which), repetition_cross_grad(h, t, u, x, y, z, side, which),
            None, None, None)
@vjp(repetition_cross_grad)                        # h * u summed to t's shape: bilinear in h and u, flat in the rest
def repetition_cross_grad_vjp(k, ans, h, u, t, x, y, z, side, which):
    return (repetition_cross(k, u, x, y, z, side, which), repetition_cross_grad(h, k, u, x, y, z, side, which),
            None, None, None, None)
@jvp(repetition_cross_grad)
def repetition_cross_grad_jvp(v, ans, h, u, t, x, y, z, side, which):
    return (repetition_cross_grad(v, u, t, x, y, z, side, which), repetition_cross_grad(h, v, t, x, y, z, side, which),
            None, None, None, None)

# --- parameter vectors (s2sad.flatten; tests/test_api.py) ---
nondiff(pytrees._spec, pytrees.Unflatten)         # the layout, and the way back: no derivative
@vjp(unflatten_vector)
def unflatten_vector_vjp(g, ans, vector, spec): return flatten_values(g, spec), None
@jvp(unflatten_vector)
def unflatten_vector_jvp(g, ans, vector, spec): return unflatten_vector(g, spec), None
@vjp(flatten_values)
def flatten_values_vjp(g, ans, tree, spec): return unflatten_vector(g, spec), None
@jvp(flatten_values)
def flatten_values_jvp(g, ans, tree, spec): return flatten_values(g, spec), None

# --- symmetric eigenproblems and singular vectors (rules/linalg.py) ---
nondiff(refuse_lower_rank)
@vjp(eigengaps)                                   # dF[i, j] = -F[i, j]^2 (dw[j] - dw[i])
def eigengaps_vjp(h, ans, w):
    c = h * ans * ans
    return np.sum(c, -1) - np.sum(c, -2)
@jvp(eigengaps)
def eigengaps_jvp(t, ans, w): return -ans * ans * (t[..., None, :] - t[..., :, None])
@vjp(from_triangle)
def from_triangle_vjp(h, ans, g, UPLO="L"): return to_triangle(h, UPLO), None
@jvp(from_triangle)
def from_triangle_jvp(t, ans, g, UPLO="L"): return from_triangle(t, UPLO), None
@vjp(to_triangle)
def to_triangle_vjp(h, ans, s, UPLO="L"): return from_triangle(h, UPLO), None
@jvp(to_triangle)
def to_triangle_jvp(t, ans, s, UPLO="L"): return to_triangle(t, UPLO), None

# a record's field tangent (forward code reading obj.name): linear in the record's tangent
@vjp(field_tangent)
def field_tangent_vjp(g, ans, t, value, obj, name):
    setting = is_record(obj) and not differentiable_field(value)        # (an empty adjoint: it adds to None)
    return (AdjFields({}) if setting else unattr(g, obj, name)), None, computed_flat(obj, name), None
@jvp(field_tangent)                      # (flat in obj, unless obj.name is a property: refused, computed_flat)
def field_tangent_jvp(g, ans, t, value, obj, name):
    return field_tangent(g, value, obj, name), None, computed_flat(obj, name, zeros_like(ans)), None
# --- scipy.linalg's and scipy.signal's helpers (rules/scipy_linalg.py, rules/scipy_signal.py): linear maps, each
# with its adjoint; flags such as `lower` (cho_factor's second result) may count as depending on the input: None ---
nondiff(flipped, transposes, uplo, signal_pads)
@vjp(checked_system)
def checked_system_vjp(h, ans, a, b, fn): return h, None, None
@jvp(checked_system)
def checked_system_jvp(t, ans, a, b, fn): return t, None, None
@vjp(transposed_if)
def transposed_if_vjp(h, ans, m, trans): return transposed_if(h, trans), None
@jvp(transposed_if)
def transposed_if_jvp(t, ans, m, trans): return transposed_if(t, trans), None
@vjp(triangular_part)
def triangular_part_vjp(h, ans, m, lower=False, unit_diagonal=False):
    return triangular_part(h, lower, unit_diagonal), None, None
@jvp(triangular_part)
def triangular_part_jvp(t, ans, m, lower=False, unit_diagonal=False):
    return triangular_part(t, lower, unit_diagonal), None, None
@vjp(structured)
def structured_vjp(h, ans, a, assume_a=None, lower=False, fn="scipy.linalg.solve"):
    return structured_grad(h, assume_a, lower, fn), None, None, None
@jvp(structured)
def structured_jvp(t, ans, a, assume_a=None, lower=False, fn="scipy.linalg.solve"):
    return structured(t, assume_a, lower, fn), None, None, None
@vjp(structured_grad)
def structured_grad_vjp(h, ans, s, assume_a=None, lower=False, fn="scipy.linalg.solve"):
    return structured(h, assume_a, lower, fn), None, None, None
@jvp(structured_grad)
def structured_grad_jvp(t, ans, s, assume_a=None, lower=False, fn="scipy.linalg.solve"):
    return structured_grad(t, assume_a, lower, fn), None, None, None
@vjp(lower_factor)
def lower_factor_vjp(h, ans, c, lower=False): return factor_placed(h, lower), None
@jvp(lower_factor)
def lower_factor_jvp(t, ans, c, lower=False): return lower_factor(t, lower), None
@vjp(factor_placed)
def factor_placed_vjp(h, ans, g, lower=False): return lower_factor(h, lower), None
@jvp(factor_placed)
def factor_placed_jvp(t, ans, g, lower=False): return factor_placed(t, lower), None
@vjp(off_factor)
def off_factor_vjp(h, ans, c, lower=False): return off_factor(h, lower), None
@jvp(off_factor)
def off_factor_jvp(t, ans, c, lower=False): return off_factor(t, lower), None
@vjp(lower_half)
def lower_half_vjp(h, ans, x): return lower_half(h)
@jvp(lower_half)
def lower_half_jvp(t, ans, x): return lower_half(t)
@vjp(frechet_blocks)
def frechet_blocks_vjp(h, ans, a, e): return block_trace(h), upper_right(h)
@jvp(frechet_blocks)
def frechet_blocks_jvp(t, ans, a, e): return frechet_blocks(t, np.zeros_like(t)), frechet_blocks(np.zeros_like(t), t)
@vjp(upper_right)
def upper_right_vjp(h, ans, m): return frechet_blocks(np.zeros_like(h), h)
@jvp(upper_right)
def upper_right_jvp(t, ans, m): return upper_right(t)
@vjp(block_trace)
def block_trace_vjp(h, ans, m): return frechet_blocks(h, np.zeros_like(h))
@jvp(block_trace)
def block_trace_jvp(t, ans, m): return block_trace(t)

# np.linalg.solve's vector right-hand side as one column, and back: reshapes, linear
@vjp(as_columns)
def as_columns_vjp(g, ans, v, b): return from_columns(g, b), None
@jvp(as_columns)
def as_columns_jvp(t, ans, v, b): return as_columns(t, b), None
@vjp(from_columns)
def from_columns_vjp(g, ans, v, b): return as_columns(g, b), None
@jvp(from_columns)
def from_columns_jvp(t, ans, v, b): return from_columns(t, b), None
# --- dataclasses made inside differentiated code (tree.new_record): fields to values and back ---
@vjp(new_record)
def new_record_vjp(g, ans, cls, *values): return None, new_record_grads(g, cls, values)
@jvp(new_record)
def new_record_jvp(g, ans, cls, *values): return None, new_record_tangent(g, ans, values)
@vjp(new_record_grads)                            # linear in the adjoint: fields to values and back
def new_record_grads_vjp(h, ans, g, cls, values): return record_adjoint(h, cls, values), None, None
@jvp(new_record_grads)
def new_record_grads_jvp(t, ans, g, cls, values): return new_record_grads(t, cls, values), None, None
@vjp(new_record_tangent)
def new_record_tangent_vjp(h, ans, t, record, values):
    return AdjTuple(new_record_grads(h, type(record), values)), None, None
@jvp(new_record_tangent)
def new_record_tangent_jvp(u, ans, t, record, values): return new_record_tangent(u, record, values), None, None
@vjp(record_adjoint)
def record_adjoint_vjp(h, ans, g, cls, values): return new_record_grads(h, cls, values), None, None
@jvp(record_adjoint)
def record_adjoint_jvp(t, ans, g, cls, values): return record_adjoint(t, cls, values), None, None


# --- np.add.at, np.subtract.at, np.fill_diagonal on a copy (front/normalize.py writes the copy back) ---
@vjp(added_at)
def added_at_vjp(g, ans, y, idx, v, sign=1.0): return g, None, unbroadcast(sign * g[idx], v)
@jvp(added_at)
def added_at_jvp(g, ans, y, idx, v, sign=1.0): return g, None, added_at(np.zeros_like(ans), idx, g, sign)
@vjp(diagonal_filled)
def diagonal_filled_vjp(g, ans, a, val, wrap=False): return diagonal_filled(g, 0.0, wrap), diagonal_values(g, val, wrap)
@jvp(diagonal_filled)
def diagonal_filled_jvp(g, ans, a, val, wrap=False):
    return diagonal_filled(g, 0.0, wrap), diagonal_filled(np.zeros_like(ans), g, wrap)
@vjp(diagonal_values)
def diagonal_values_vjp(h, ans, g, val, wrap=False): return diagonal_filled(np.zeros_like(g), h, wrap), None
@jvp(diagonal_values)
def diagonal_values_jvp(t, ans, g, val, wrap=False): return diagonal_values(t, val, wrap), None


# --- math.prod's items broadcast into one array (rules/python.py): linear in the items, flat in `like` ---
@vjp(product_items)
def product_items_vjp(g, ans, items, like=()): return unarray(g, items), None
@jvp(product_items)
def product_items_jvp(g, ans, items, like=()): return product_items(g, [*items, *like]), None
