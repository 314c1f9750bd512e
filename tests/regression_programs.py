"""Programs that once got a wrong derivative or a crash: from issue 11's list, a peer project's tests
(Tangent's zoo), and the program fuzzer (tools/fuzz.py, minimized). Each is checked by
tests/test_regressions.py in every mode, with optimizations on and off.

``CASES``: name -> (function, arguments, wrt). ``REFUSED``: name -> (function, arguments, wrt, text of
the refusal): programs s2sad must refuse rather than answer (Python semantics it does not follow).
"""
import collections
import copy
import itertools
import math
import operator

import numpy as np

import s2sad


# --- Tangent's zoo: three-line loops -----------------------------------------------------------
def serial_for(a, n):
    for i in range(n):
        a = a * a
    a = 2.0 * a
    for i in range(n + 1):
        a = a * 3.0
    return a


def cond_iterpower2(a):
    if a < 20:
        for i in range(3):
            a = a * a
    return a


# --- issue 11's bug classes ----------------------------------------------------------------------
def self_update_after_rename(a):            # 1: a name updated from itself in a loop after an earlier assignment
    a = a * 2.0
    for i in range(3):
        a = a * 1.5
    return a


def negative_literal_powers(x):              # 2: (-0.22) ** 2 is not -0.22 ** 2
    k = 2
    return (-0.22) ** 2 * x + (-1.0) ** (k + 1) * x * x


def loop_inside_if(a, b):                    # 3: a loop inside an if records its iterations
    s = a
    if a > 0.0:
        for i in range(3):
            s = s * b + a
    return s


def loop_after_early_return(a):              # 3: ... and one after an early return
    if a > 5.0:
        return a
    for i in range(3):
        a = np.sin(a) * 1.5
    return a


def nested_return(a, b):                     # 4: a return two blocks deep ends the function
    if a > 0:
        if b > 0:
            return a * b
    return a + b


def hessian_through_item_reads(W, x):        # 5: W[i][j] read in a loop (hvp)
    s = 0.0
    for i in range(2):
        for j in range(3):
            s = s + W[i][j] * x[j] * W[i][j]
    return s


def loop_variable_rebound(x):                # 6: the loop variable rebound inside the loop
    s = 0.0
    for v in x:
        v = v * 2.0
        s = s + v * v
    return s


def iterated_array_rebound(x):               # 6: the iterated array rebound inside the loop
    s = 0.0
    for v in x:
        x = x * 0.5
        s = s + v * np.sum(x)
    return s


def closure_reads_differentiated(x):         # 7: a nested function reading a differentiated variable
    a = x * 2.0

    def g(t):
        return t * a
    return g(3.0) + g(1.0)


def break_under_nested_if(x):                # 8: a break under a nested if
    s = x
    for i in range(5):
        if s > 0.5:
            if i > 1:
                break
        s = s * 1.3 + 0.1
    return s


def assigned_on_one_path(x, n):              # 8: a name assigned on one path only, a return inside a loop
    for i in range(n):
        if x > 2.0:
            y = x * x
            return y
        x = x * 1.5
    return x


def empty_backward_body(x, a):               # 8: a loop with nothing to differentiate
    for i in range(2):
        for j in range(3):
            x = x + a
    return x * 2.0


def list_made_in_loop(x):                    # 8: a list created inside a loop body
    s = 0.0
    for i in range(3):
        items = [x * i, x + i]
        s = s + items[0] * items[1]
    return s


# --- constructors and containers ------------------------------------------------------------------
def linspace_sum(x):
    return np.sum(np.linspace(0.0, x, 5)) + x


def full_and_arange(x):
    return np.sum(np.full(3, x) * np.arange(3)) + np.sum(np.arange(x, x + 3.0) ** 2)


def list_concatenation(x):
    ys = [x] + [3 * x]
    return ys[0] * ys[1] + sum(ys)


def tuple_repetition(x):
    ys = (x, 2.0) * 3
    return sum(ys) * x


def float_conversions(x):
    return float(x[0]) * np.float64(x[1]) + float(np.sum(x))


# --- found by the fuzzer (minimized) ----------------------------------------------------------------
def fz_unpack_array(x, b):                   # unpacking an array: its adjoint is an array
    acc, c, b = x
    return c


def fz_linspace_reshape(x):
    Q = np.linspace(1.0, x[1, 1], 6).reshape(2, 3)
    return np.sum(Q)


def fz_pops_are_effects(x, a, n=1):          # a pop whose value is unused still shortens the stack
    for i in range(n):
        a = np.sin(a)
        a = a + x
    return a


def fz_pops_in_a_while(x):
    cnt = 0
    while cnt < 4:
        cnt += 1
        x = np.sin(x) * np.tanh(2.0 / (2.0 + np.cos(-2.0)))
        x = x + 1.5
    return x


def fz_loop_over_rebound_array(x):
    for v in x:
        x = np.sin(x)
        x = 0.5 * x
    return np.dot(x, x)


def fz_augmented_then_unpack(x, b):
    for idx in range(2):
        x += x
        x = np.tanh(0.5 * x)
    acc, c, b = x
    return c


def fz_two_loops(x):
    for j in range(1, 2):
        x = np.sin(x)
    for wi in [0.21, 0.35, 0.37]:
        x = np.tanh(x)
        x *= 1.0
    return x


def fz_for_else_in_loop(x, a, b, n=1):
    for line in a:
        for j in range(n):
            break
        else:
            x = 0.5 * x
    return b + np.sum(x)


def fz_merge_of_unbound(x, m=1):             # a name assigned on a path not taken, merged after an if
    y, t, q = x
    if 3.0 < 1.73:
        lam = 1.0
    if 1.0:
        pass
    else:
        val, lam, u = x
    return q


def fz_default_parameter_in_hvp(x, a, n=3):  # a defaulted parameter and hvp's directional derivative
    for i in range(2):
        a = a + np.tanh(x) * 0.5
    return np.sum(a * a) + n


def fz_list_made_each_iteration(x, a):       # `parts = []` in a loop is a new list each time, not invariant
    for idx in range(1, -1, -1):
        parts = []
        for v in a:
            parts.append(v)
        B = np.vstack(parts)
        x *= B.mean()
    return np.sum(x)


def fz_reassigned_parameter_kind(x, a, n=1):  # a parameter reassigned later still holds its argument first
    if n:
        return a["b"] - np.sum(np.linspace(0.0, x, 2))
    a = x
    return a


def fz_list_never_made(x):                   # a list only a loop that never runs would make
    if not 1:
        for it in [1.0]:
            xs = []
            xs.append(x)
            x = xs[0]
    return np.sum(x)


def fz_constant_output_reassigned_parameter(x, a):   # nothing flows to the output; `a` must still be
    a = x                                              # given back zeros shaped like its argument
    return np.sum(np.full(2, 1.0)) + 0.0 * x


FIRST_ORDER = {}    # name -> like CASES, checked at first order (a second order refused: docs/limits.md)
CASES = {
    "serial_for": (serial_for, (0.55, 1), (0,)),
    "serial_for_3": (serial_for, (0.9, 3), (0,)),
    "cond_iterpower2": (cond_iterpower2, (-0.976,), (0,)),
    "self_update_after_rename": (self_update_after_rename, (1.0,), (0,)),
    "negative_literal_powers": (negative_literal_powers, (0.7,), (0,)),
    "loop_inside_if": (loop_inside_if, (0.6, 0.9), (0, 1)),
    "loop_after_early_return": (loop_after_early_return, (0.4,), (0,)),
    "nested_return": (nested_return, (0.5, 0.7), (0, 1)),
    "nested_return_2": (nested_return, (0.5, -0.7), (0, 1)),
    "hessian_through_item_reads": (hessian_through_item_reads,
                                   (np.array([[0.5, -1.0, 0.3], [0.2, 0.8, -0.6]]), np.array([0.4, -0.2, 1.1])),
                                   (0, 1)),
    "loop_variable_rebound": (loop_variable_rebound, (np.array([0.3, -0.8, 1.2]),), (0,)),
    "iterated_array_rebound": (iterated_array_rebound, (np.array([0.3, -0.8, 1.2]),), (0,)),
    "closure_reads_differentiated": (closure_reads_differentiated, (0.8,), (0,)),
    "break_under_nested_if": (break_under_nested_if, (0.3,), (0,)),
    "assigned_on_one_path": (assigned_on_one_path, (0.7, 4), (0,)),
    "assigned_on_one_path_2": (assigned_on_one_path, (1.7, 4), (0,)),
    "empty_backward_body": (empty_backward_body, (0.4, 0.3), (0,)),
    "list_made_in_loop": (list_made_in_loop, (0.7,), (0,)),
    "linspace_sum": (linspace_sum, (1.3,), (0,)),
    "full_and_arange": (full_and_arange, (0.6,), (0,)),
    "list_concatenation": (list_concatenation, (0.7,), (0,)),
    "tuple_repetition": (tuple_repetition, (0.7,), (0,)),
    "float_conversions": (float_conversions, (np.array([0.5, -1.5, 2.0]),), (0,)),
    "fz_unpack_array": (fz_unpack_array, (np.array([0.3, 0.5, 0.7]), 1.0), (0,)),
    "fz_linspace_reshape": (fz_linspace_reshape, (np.array([[-0.3, 1.05, 1.27], [0.06, 1.0, 1.48]]),), (0,)),
    "fz_pops_are_effects": (fz_pops_are_effects, (0.7, -1.1), (0, 1)),
    "fz_pops_in_a_while": (fz_pops_in_a_while, (0.4,), (0,)),
    "fz_loop_over_rebound_array": (fz_loop_over_rebound_array, (np.array([0.3, -0.6, 1.1, 0.2]),), (0,)),
    "fz_augmented_then_unpack": (fz_augmented_then_unpack, (np.array([0.3, -0.6, 1.1]), 1.0), (0,)),
    "fz_two_loops": (fz_two_loops, (0.9,), (0,)),
    "fz_for_else_in_loop": (fz_for_else_in_loop, (np.array([0.3, -0.6]), np.ones((3, 3)), 0.5, 2), (0, 2)),
    "fz_merge_of_unbound": (fz_merge_of_unbound, (np.array([0.3, -0.6, 1.1]),), (0,)),
    "fz_list_made_each_iteration": (fz_list_made_each_iteration, (np.array([0.3, -0.6, 1.1]),
                                                                  np.array([[0.5, 1.0], [0.2, -0.4]])), (0, 1)),
    "fz_reassigned_parameter_kind": (fz_reassigned_parameter_kind, (0.7, {"b": 0.3, "c": 1.0}), (0,)),
    "fz_list_never_made": (fz_list_never_made, (np.array([0.3, -0.6]),), (0,)),
    "fz_constant_output_reassigned_parameter": (fz_constant_output_reassigned_parameter,
                                                (0.3, {"b": -0.6, "c": 1.2}), (0, 1)),
    "fz_default_parameter_in_hvp": (fz_default_parameter_in_hvp, (np.array([0.3, -0.6]), np.array([1.0, 0.5])),
                                    (0, 1)),
}


# --- what must be refused (Python's semantics would differ, or no derivative can follow) -------------
def alias_then_update(x, n=1):               # v shares x's memory: x *= 0.9 changes v in Python
    v = x
    x *= 0.9
    return v[0]


def update_while_iterating(x):               # the loop walks the array the body changes in place (refused
                                             # once; now each item is read as it is then, tests/test_inplace_updates.py)
    for v in x:
        x *= v
    return np.sum(x)


def update_aliased_twice(x):
    q = x
    grad = x
    x -= q
    return np.mean(grad)


def _grow(t, u):                             # changes its argument in place: the caller's array grows too
    z = t
    z += t
    return u


def callee_changes_argument(x, b):
    tp = _grow(b, x)
    return np.sum(b) + tp


def _bump(t):
    t += 1.0
    return t


def callee_changes_a_temporary(x):          # what it changes nobody else reads: differentiated
    y = _bump(x * 2.0)
    return np.sum(y * y)


def alias_made_in_a_branch(x):              # vel += 1 changes other too: other is vel on one path
    if x[0] > 0:
        vel = x * 1.0
        other = vel
    else:
        vel = x * 2.0
        other = 0.0
    vel += 1
    return np.sum(other)


def alias_of_an_argument_in_a_branch(x):    # the fuzzer's: vel is x on one path, x += 1 changes both
    if x[0] > 0:
        vel = x
    else:
        vel = 0.0
    x += 1
    return np.sum(vel)


def through_repr(x):
    y = float(repr(x))
    return y * x


def through_eval(x):
    return eval("x * x + 1.0")


def through_compile(x):
    code = compile("x * x", "<text>", "eval")
    return eval(code) + x


def through_exec(x):
    scope = {"x": x}
    exec("y = x * x", scope)
    return scope["y"]


def through_format(x):
    return float(format(x, ".17g")) * x


def through_fstring(x):
    return float(f"{x}") * x


def through_str_of_array(x):
    return np.sum(np.array([float(str(v)) for v in x]) * x)


CASES["callee_changes_a_temporary"] = (callee_changes_a_temporary, (np.array([0.5, -1.0]),), (0,))


def logistic_of_a_changing_value(z):        # the fused logistic adjoint went to the z assigned after -z
    s = 0.0
    for i in range(2):
        e = np.exp(-z)
        z = z * 3.0
        p = 1.0 / (1.0 + e)
        s = s + np.sum(p * z)
    return s


CASES["logistic_of_a_changing_value"] = (logistic_of_a_changing_value, (np.array([0.3, -1.2]),), (0,))


def fz_dictcomp_of_zipped_rows(x, a):        # the zero adjoint of a (key, row) pair: none for the key
    d = {key: value for key, value in zip(['b', 'scale', 'lo'], a)}
    return np.sum(d['scale']) * x


def fz_nested_calls_its_sibling(x, m=1):     # a nested function calling another: defined in its code too
    def mix(t):
        return x * t

    def act(t):
        c = mix(t=1.5)
        return np.sum(c * t)
    return act(0.5) + np.sum(x)


CASES["fz_nested_calls_its_sibling"] = (fz_nested_calls_its_sibling, (np.array([1.2, -0.9, 0.4]),), (0,))


def fz_tangent_item_written_into_a_tangent(x, a, n=2):   # grad_dot[k] = x_dot[1, 2] in the jvp code, then
    grad = np.zeros(3)                                   # grad_dot = _s2.broadcast(grad_dot, ...): taken for
    for k in range(3):                                   # an item of grad_dot, so x_dot "changed" (hvp refused)
        grad[k] = x[1, 2]
    for it in range(n):
        for p1, q1 in zip(grad, grad):
            x = np.tanh(x) + np.rot90(np.stack([grad[1:], grad[:-1], np.linspace(0.0, q1, 2)]))
        if grad[it] < a * a:
            break
        grad += np.array([a, a, a]).take([0, 2, 2])
    grad += grad[::-1]
    return a + np.dot(grad, grad) + np.sum(x * x)


CASES["fz_tangent_item_written_into_a_tangent"] = (fz_tangent_item_written_into_a_tangent,
                                                   (np.arange(6.0).reshape(2, 3) * 0.1, 0.3), (0, 1))


def fz_update_beside_loop_targets(x, a):    # the names an update may change include a loop's targets
    a = np.ones(1)
    for p1, q1 in zip(x, x):
        a += 1
    if 1.0:
        return 1.0
    return a


CASES["fz_update_beside_loop_targets"] = (fz_update_beside_loop_targets, (np.array([0.3, -0.5, 1.2]), 0.4), (0,))


def _fz_second_of_three(t):
    r, tmp, alpha = t
    return tmp * alpha


def fz_ufunc_of_a_list_with_a_differentiated_item(x):   # seed 11000, program 88: log1p's rule did 1.0 + [..]
    prod = _fz_second_of_three(t=np.log1p([0.5, 1, x]))
    return prod + np.sum(np.log1p([x, 2.0 * x]))


CASES["fz_ufunc_of_a_list_with_a_differentiated_item"] = (fz_ufunc_of_a_list_with_a_differentiated_item, (1.03,),
                                                           (0,))

CASES["fz_dictcomp_of_zipped_rows"] = (fz_dictcomp_of_zipped_rows, (0.9, np.array([[0.8, 0.2, -0.1],
                                                                                  [0.2, 1.0, -0.4],
                                                                                  [0.9, 0.9, -0.5]])), (0, 1))

# --- the long campaign (tools/fuzz.py --programs 20000 --seed 1000), minimized ----------------------
def fz_lambda_beside_a_nested_def(x, steps=1):      # a nested function calling a lambda defined beside it
    lin = lambda t: t

    def mix(t=2.0):
        val = t
        d1 = lin(val)
        return x * d1
    return mix()


def fz_default_argument_of_a_sibling(x, b):         # a nested function calling another with a default
    def step(t, u=0.5):
        return u * t

    def act(t):
        if np.sum(x) > 0:
            pass
        return step(1.0) * np.sum(x)
    b -= act(b)
    return b


CASES["fz_lambda_beside_a_nested_def"] = (fz_lambda_beside_a_nested_def, (-0.023,), (0,))
CASES["fz_default_argument_of_a_sibling"] = (fz_default_argument_of_a_sibling,
                                             (np.array([[0.35, -1.19, 0.48], [0.96, -1.41, 1.09]]), 0.54), (0, 1))


def fz_update_through_an_alias_made_in_a_branch(x, y):   # v is y on one path: v += a_i changes y
    if 1.0:
        v = y
    else:
        v = 1.0
    for a_i in range(2):
        v += a_i
    return np.sum(y)


def fz_argument_held_by_another_name(x):            # k1 is x: x /= 0.5 changes k1
    if 0.5:
        k1 = x
    else:
        k1 = 0.5
    x /= 0.5
    return np.sum(k1)


def fz_reassigned_parameter_aliases_another(x, a, y):   # y = a makes y a; y /= 1.5 changes a
    y = a
    y /= 1.5
    return np.sum(a)


def fz_array_kept_in_a_dict(x, b):                  # d holds x: x *= 0.5 changes d["scale"]
    d = {'scale': x, 'rate': b}
    x *= 0.5
    return np.sum(d['scale'])


def fz_array_kept_in_a_list(x, a):                  # xs holds a: a += a changes the items appended
    xs = []
    for row in x:
        a += a
        xs.append(a)
    return np.sum(xs)


def fz_shadowed_capture(x):                         # fl's own u hides the enclosing u phi reads
    for u, q1 in zip(x, np.ones(1)):
        def phi(t):
            return u * t
        fl = lambda t, u: phi(t=2.0)
        s = fl(1.0, 3.0)
    return s


# --- fresh seeds after the long campaign (tools/fuzz.py --seed 7300), minimized ---------------------
def fz_stack_of_one_name_repeated(x):              # stack([v, v, row, v]): v's three adjoint parts add up
    for row in x:
        v = row
        x = np.stack([v, v, row, v])
    return x[1, 1] + 2.0 * x[0, 2]


CASES["fz_stack_of_one_name_repeated"] = (fz_stack_of_one_name_repeated,
                                          (np.array([[-1.36, -1.33, 0.45], [0.68, -0.44, 0.30]]),), (0,))


def fz_loop_variable_named_like_a_def(a, b):       # `act` a loop variable and a nested def: calls meant the loop's
    w0 = a
    for act in [np.sin, np.tanh]:
        w0 = act(w0)

    def act(t=1.0):
        return b
    return np.sum(w0)


def fz_nested_def_rebinds_its_own_name(x, a):     # inside phi, phi is np.sin: not a recursive call
    for u, xb in zip(a, a):
        def phi(t):
            phi = np.sin
            t = phi(t)
            return t * x
        s = phi(xb)
    return s


def _doubles_its_argument(t, u, c=1.0):               # z is t: z += z doubles the caller's array
    z = t
    z += z
    loss, prod, e = z
    return prod


def fz_inlined_helper_changes_argument(x, a, b):   # inlined, the helper's z += z escaped the caller's check
    u = _doubles_its_argument(b, a)
    return np.sum(b) * x


# --- campaign seed 2000 (11,403 programs, on f0305c3), minimized ---------------------------------------
def fz_update_by_a_call_of_an_array_in_a_dict(x):   # x *= np.tanh(c): lowered to 3 statements, the check read 1
    params = {'shift': x, 'b': 2.0}
    x *= np.tanh(1.0)
    return np.sum(params['shift'])


def _writes_into_its_own_buffer(t, u):
    w = np.ones(2) * t
    w[1] = 1.0
    return np.sum(w)


def fz_helper_writing_into_its_own_buffer(x):      # inlined, its write crashed the caller's sweep
    w0 = 1.0
    for row in x:
        w0 += row[1] * _writes_into_its_own_buffer(w0, w0)
    return w0


# first order only (tests/test_writes.py): the helper's tangent code, differentiated again, refuses its write


def fz_loop_rebinds_the_nested_functions_name(x, y):   # `for act in acts` inside `def act`: its own local
    def act(t=2.0):                                    # (refused once; renamed now: front/lift._rename_locals)
        acts = [math.tanh, lambda v: 0.5 * v]
        for act in acts:
            t = act(t)
        return y * t
    x = act()
    return x * y


CASES["fz_loop_rebinds_the_nested_functions_name"] = (fz_loop_rebinds_the_nested_functions_name, (-1.2, -0.32), (0, 1))
CASES["fz_nested_def_rebinds_its_own_name"] = (fz_nested_def_rebinds_its_own_name, (0.7, np.array([0.3, -1.1])), (0,))


# --- campaign seed 3000 (9,896 programs, on 659bf98), minimized ---------------------------------------
def fz_copy_read_in_a_branch_after_the_source_changes(x):   # t_bar = x_bar read twice in `if 1.0:`, whose
    for i in range(1):                                      # first line changed x_bar: copy propagation
        if x < 0.25:                                        # replaced t_bar by the new x_bar
            break
    else:
        x += math.hypot(x, x) if 1.0 else 2.0
    return x


CASES["update_while_iterating"] = (update_while_iterating, (np.array([0.5, 1.2]),), (0,))
CASES["fz_copy_read_in_a_branch_after_the_source_changes"] = (fz_copy_read_in_a_branch_after_the_source_changes,
                                                              (1.2467,), (0,))


def fz_array_written_in_a_loop_from_a_broadcast_adjoint(x, n=1):   # vs_bar, new each iteration (a read-only
    q = x                                                           # broadcast of q_bar), was written into
    alpha = n
    for j in range(2):
        c = q
        vs = np.array([c, c, c, c]).copy()
        vs[1] = alpha
        q = vs.sum()
    return q


SCALE_3000 = 0.5


def fz_item_put_back_into_a_rebound_name(x):          # r rebound after the loop, not restored (nothing read it):
    # (the output does not depend on x: its zeros_like(x) read is why r[k] is put back, r may be a view of x)
    r = np.zeros(1)                                   # the backward sweep put r[k] back into the new r, a number
    for k in range(1):
        r[k] = SCALE_3000
    ys = x
    r = min(ys)
    return 1.0


CASES["fz_array_written_in_a_loop_from_a_broadcast_adjoint"] = (
    fz_array_written_in_a_loop_from_a_broadcast_adjoint, (np.array([[0.59, -0.98, -1.09], [0.50, -1.05, 0.83]]),), (0,))
CASES["fz_item_put_back_into_a_rebound_name"] = (fz_item_put_back_into_a_rebound_name,
                                                 (np.array([0.72, 1.08, 1.24, 0.65]),), (0,))


# --- fresh seed 9100 on bc480fd: updates of values held by a name that is not differentiated --------------------
def fz_alias_of_an_argument_not_differentiated(x, y):   # h += 1.0 changes y, which is not in wrt: the value was
    h = y                                               # wrong (the check skipped names carrying no derivative)
    h += 1.0
    return np.dot(y, y) * x


def fz_walked_view_changes_its_base(x, y):         # v is a view of y: walked item by item, `v += 1.0` still changes y
    v = y[:, 1]
    for k, el in enumerate(v):
        v += 1.0
    return np.sum(y.sum(axis=0)) * x


def fz_update_of_a_value_a_later_name_holds(x, a, b, y):    # z = b; b /= y: z changes too
    cfg = {key: value for key, value in zip(['lo', 'rate', 'w'], [a, x, 1.0])}
    y += cfg['rate']
    z = b
    b /= y
    return z.sum()


def fz_alias_update_after_an_early_return(x):     # the code after the `if` is lowered twice (once per branch):
    if abs(3.0) < 1.0 and 0.0:                      # the check read the first copy's update and the second's
        pass                                        # reads, and missed vs += 1.0 changing x
    elif -1 >= 0.52:
        return 1.0
    for el in x:
        x = np.tanh(np.full(3, el))
    vs = x
    vs += 1.0
    return np.mean(vs ** 2) + np.dot(x, x)


# --- fresh seed 9400 ----------------------------------------------------------------------------------------
def fz_lambda_parameter_named_like_a_local(x, b):   # `lambda v: v` beside a local `v = b`: the versions pass
    for i, v in enumerate(x):                        # renamed the lambda's own `v` to the local's version
        pass
    v = b
    layers = [lambda v: 0.5 * v, lambda v: v * v]
    for fn in layers:
        b = fn(b)
    return np.sum(b) * np.sum(x)


CASES["fz_lambda_parameter_named_like_a_local"] = (fz_lambda_parameter_named_like_a_local,
                                                   (np.array([0.88, 0.81, -0.29]), np.array([-1.02, 0.13, 0.94])),
                                                   (0,))


# --- seed 51000 with the generator's new constructs (records, *args/**kw, partial, map...), minimized -------------
def fz_unpack_of_an_item(x):                         # a, b, c = x[0]: the unused item's adjoint was None -> nan
    c, val, prod = x[0]
    return prod * val + np.sum(x[1])


def fz_unpack_of_a_dict_entry(x, d):                 # the same for d["w"] (and a record's p.w)
    c, val, prod, z = d["w"]
    return x * (prod + val + z)


def fz_unpack_of_a_product(x):                       # a, b, c = x * 2.0: the rule of * got a tuple (a crash)
    a, b, c = x * 2.0
    return b * c


CASES["fz_unpack_of_an_item"] = (fz_unpack_of_an_item, (np.array([[0.5, -0.4, 1.4], [0.3, 0.2, -0.7]]),), (0,))
CASES["fz_unpack_of_a_dict_entry"] = (fz_unpack_of_a_dict_entry,
                                      (0.7, {"w": np.array([0.5, -0.4, 1.4, -0.06]), "b": 0.3}), (0, 1))
CASES["fz_unpack_of_a_product"] = (fz_unpack_of_a_product, (np.array([0.3, 0.5, 0.9]),), (0,))


def fz_write_into_a_new_array_of_the_argument(x):   # np.array(x)'s tangent was x's own: hvp refused the write
    r = np.array(x, dtype=float)
    r[0] = r[2] = np.cos(x[1])
    return np.mean(r ** 2)


CASES["fz_write_into_a_new_array_of_the_argument"] = (fz_write_into_a_new_array_of_the_argument,
                                                      (np.array([0.3, 0.5, 0.9]),), (0,))


def fz_unpacked_array_then_updated(x, y):          # lam, ... are numbers: `y -= x` changes none of them (refused
    y = y * 1.0                                      # as "would change `lam` too")
    lam, s, r, tmp = y
    y -= x
    return lam * s + np.sum(y) * r


CASES["fz_unpacked_array_then_updated"] = (fz_unpacked_array_then_updated,
                                           (np.array([0.3, -0.2, 0.5, 0.1]), np.array([0.7, 0.4, -0.6, 0.9])), (0, 1))


def _fz_scaled(t, **kw):
    return t * kw["scale"] + kw.get("shift", 0.0)


def fz_differentiated_value_into_kwargs(x):          # lr=x * x landed in **kw: its derivative was dropped
    return _fz_scaled(x, scale=x * x, shift=0.5)


def lambda_reads_a_name_assigned_later(x, k):     # Python reads k when the lambda runs: the k + 1.0 one
    layers = [lambda t: t * k, np.sin]
    k = k + 1.0
    s = x
    for fn in layers:
        s = fn(s)
    return s


REFUSED = {
    "lambda_reads_a_name_assigned_later": (lambda_reads_a_name_assigned_later, (0.7, 2.0), (0,),
                                           "assigned more than once"),
    "fz_alias_update_after_an_early_return": (fz_alias_update_after_an_early_return,
                                              (np.array([-1.36, 0.33, -0.84]),), (0,), "share memory"),
    "fz_walked_view_changes_its_base": (fz_walked_view_changes_its_base,
                                        (0.7, np.array([[-0.53, 0.77, 1.44], [-0.69, -0.79, -1.05]])), (0,),
                                        "share memory"),
    "fz_update_by_a_call_of_an_array_in_a_dict": (fz_update_by_a_call_of_an_array_in_a_dict,
                                                  (np.array([-0.13, 1.11, 0.20]),), (0,), "share memory"),
    "fz_inlined_helper_changes_argument": (fz_inlined_helper_changes_argument,
                                           (0.7, np.ones(4), np.array([[0.2, -0.8, 1.3], [0.1, 0.5, -0.7],
                                                                       [0.9, -1.2, 0.3]])), (0, 2),
                                           "changes its argument"),
    "fz_loop_variable_named_like_a_def": (fz_loop_variable_named_like_a_def, (np.array([0.3, 0.5]), 0.4), (0,),
                                          "is also assigned"),
    "fz_update_through_an_alias_made_in_a_branch": (fz_update_through_an_alias_made_in_a_branch,
                                                    (np.ones((2, 3)), np.array([-0.2, -1.4, 0.9])), (1,), "share memory"),
    "fz_argument_held_by_another_name": (fz_argument_held_by_another_name, (np.array([0.35, 0.61, -0.65]),), (0,),
                                         "share memory"),
    "fz_array_kept_in_a_dict": (fz_array_kept_in_a_dict, (np.array([0.3, -0.7, 1.1]), 0.5), (0,), "share memory"),
    "fz_array_kept_in_a_list": (fz_array_kept_in_a_list, (np.ones((3, 2)), np.array([0.3, -0.7])), (1,),
                                "share memory"),
    "fz_shadowed_capture": (fz_shadowed_capture, (np.array([0.3, -0.7]),), (0,), "has its own `u`"),
    "alias_made_in_a_branch": (alias_made_in_a_branch, (np.array([1.2, -0.9, 0.4]),), (0,), "share memory"),
    "alias_of_an_argument_in_a_branch": (alias_of_an_argument_in_a_branch, (np.array([1.2, -0.9, 0.4]),), (0,),
                                         "share memory"),
    "callee_changes_argument": (callee_changes_argument, (0.5, np.array([1.0, 2.0])), (1,), "changes its argument"),
    "through_repr": (through_repr, (1.5,), (0,), "goes through text"),
    "through_eval": (through_eval, (1.5,), (0,), "runs text as code"),
    "through_compile": (through_compile, (1.5,), (0,), "runs text as code"),
    "through_exec": (through_exec, (1.5,), (0,), "runs text as code"),
    "through_format": (through_format, (1.5,), (0,), "goes through text"),
    "through_fstring": (through_fstring, (1.5,), (0,), "goes through text"),
    "through_str_of_array": (through_str_of_array, (np.array([1.5, -0.5]),), (0,), "goes through text"),
}

CASES.update({
    # followed since the sixth session (effects.follow_copies): `y = z` then `y op= e`, z read afterwards
    "alias_then_update": (alias_then_update, (np.array([0.5, 1.0]),), (0,)),
    "fz_alias_of_an_argument_not_differentiated": (fz_alias_of_an_argument_not_differentiated,
                                                   (0.7, np.array([-0.81, -0.73, 0.56, -0.46])), (0,)),
    "fz_reassigned_parameter_aliases_another": (fz_reassigned_parameter_aliases_another,
                                                (np.ones(3), np.array([0.79, 1.48, -0.77, 1.10]), -1.14), (1,)),
    "fz_update_of_a_value_a_later_name_holds": (fz_update_of_a_value_a_later_name_holds,
                                                (-1.44, 0.99, np.array([-0.49, 0.005, 0.36]), 0.15), (0,)),
    "update_aliased_twice": (update_aliased_twice, (np.array([0.5, 1.0]),), (0,)),
})

__all__ = ["CASES", "REFUSED", "math", "s2sad"]

def _fz_rest_sum(t, *rest):
    s = t
    for r in rest:
        s = s + 0.5 * np.sin(r)
    return s


def fz_spread_after_an_early_return(x):    # 87000: the call copied into the branch (front/jumps.py); the check of
    if x[0] > 5.0:                          # a linked *rest walked the whole if and met it there: refused
        return np.sum(x)
    w = _fz_rest_sum(np.sin(x[1]), *x)
    return w * x[2]


def fz_spread_of_a_comprehension(x, y):     # 88000: parts's kind was its comprehension's first list, [] (its
    parts = [el for el in y]                # length read as 0: `() = parts` raised)
    c = _fz_rest_sum(*parts)
    return x * np.sum(y) + 0.0 * len(parts)


CASES["fz_spread_of_a_comprehension"] = (fz_spread_of_a_comprehension, (0.6, np.array([-0.6, -1.1, 0.9])), (0, 1))
CASES["fz_spread_after_an_early_return"] = (fz_spread_after_an_early_return, (np.array([0.3, -0.5, 0.8]),), (0,))

# answered when the helper is inlined (its **kw a dict literal: optimize/inline_calls.py) and, since the
# eighth session, when it is differentiated as a call (the callee's code by the name `kw`)
CASES["fz_differentiated_value_into_kwargs"] = (fz_differentiated_value_into_kwargs, (0.7,), (0,))


def fz_restored_by_an_empty_backward_loop(x, a):   # 92000: the backward loop's header restores x (stacks read by
    a = x ** 2                                       # iteration) and its body was left empty: clean-up dropped it
    for it in range(1):
        x = 1.0
    return np.sum(np.arange(3) * a)


CASES["fz_restored_by_an_empty_backward_loop"] = (fz_restored_by_an_empty_backward_loop, (1.37, 1.44), (0, 1))


def fz_inner_loop_rebinds_the_discarded_index(x, n=2):   # 100000 (hvp): the vjp of f's tangent code walked
    for idx in range(n):                                   # `for _ in reversed(...)` with an inner `for _ in ...`;
        sq = lambda t: t                                   # last_iteration's `if _:` read the inner loop's _
        x = np.tanh(x)
        k1 = np.zeros(1)
        for it in range(1):
            k1[it] = 1.0
    return x


CASES["fz_inner_loop_rebinds_the_discarded_index"] = (fz_inner_loop_rebinds_the_discarded_index,
                                                      (-0.42910377405414457,), (0,))


# --- the thirteenth session's probes: a list changed in place through a container holding it, or another name ---
def bucket_lists(x):                         # c[k].append(v): the list c[k] holds changes (an item update now)
    grid = [[] for _ in range(2)]
    for i in range(4):
        grid[i % 2].append(x[i] ** 2)
    return sum(grid[0]) * 2.0 + sum(grid[1])


def dict_of_lists(x):
    d = {"a": [], "b": [x]}
    for i in range(3):
        d["a"].append(x * i)
    d["b"].append(np.sin(x))
    return sum(d["a"]) + d["b"][0] * d["b"][1]


def list_of_lists_then_stacked(x):
    rows = [[], []]
    for i in range(3):
        rows[0].append(x[i] * x[i])
        rows[1].append(np.exp(x[i]))
    return np.sum(np.stack([np.array(r) for r in rows]) ** 2)


CASES["bucket_lists"] = (bucket_lists, (np.array([0.3, -0.7, 1.1, 0.5]),), (0,))
CASES["dict_of_lists"] = (dict_of_lists, (0.7,), (0,))
CASES["list_of_lists_then_stacked"] = (list_of_lists_then_stacked, (np.array([0.3, -0.7, 1.1]),), (0,))


def list_item_appended_through_a_name(x):     # the list d["a"] holds, changed through `lst`: d sees it
    d = {"a": []}
    lst = d["a"]
    lst.append(x * x)
    return sum(d["a"]) + x


def appended_through_setdefault(x):
    d = {}
    d.setdefault("a", []).append(x * 2.0)
    return sum(d["a"]) + x


HISTORY = []


def appended_to_a_module_list(x):
    for i in range(3):
        HISTORY.append(x * i)
    return sum(HISTORY[-3:]) + x


def list_extended_under_another_name(x):      # L += [...] changes the list M holds too (Python's +=)
    L = [x]
    M = L
    L += [x * x]
    return sum(M)


def list_in_a_tuple_appended(x):
    pair = ([], 1.0)
    pair[0].append(x * x)
    return pair[0][0] + x


REFUSED["list_item_appended_through_a_name"] = (list_item_appended_through_a_name, (0.7,), (0,), "may hold the same object")
CASES["appended_through_setdefault"] = (appended_through_setdefault, (0.7,), (0,))   # (refused before: now followed)
REFUSED["appended_to_a_module_list"] = (appended_to_a_module_list, (0.7,), (0,), "a value of the module")
REFUSED["list_extended_under_another_name"] = (list_extended_under_another_name, (0.7,), (0,), "would change `M`")
REFUSED["list_in_a_tuple_appended"] = (list_in_a_tuple_appended, (0.7,), (0,), "a tuple holds")


def list_to_numpy_functions(x):               # a list of floats where NumPy reads an array: its rules' own
    return np.max(x) - np.min(x) + np.sum(np.maximum(x, 0.1)) + np.var(x) + np.std(x)   # `x >= y`, `x * 2`


def einsum_in_sublist_form(A, B):
    return np.sum(np.einsum(A, [0, 1], B, [1, 2], [0, 2]) ** 2)


REFUSED["einsum_in_sublist_form"] = (einsum_in_sublist_form, (np.ones((2, 3)), np.ones((3, 2))), (0,), "sublist form")


STATE = np.array([1.0, 2.0, 3.0])
BUFFER = np.zeros(3)


def module_array_updated_through_a_name(x):   # NumPy changes STATE too
    s = STATE
    s += x
    return np.sum(STATE * x)


def module_array_written_through_a_name(x):
    b = BUFFER
    total = 0.0
    for i in range(3):
        b[i] = x[i] * 2.0
        total = total + np.sum(BUFFER)
    return total


def default_buffer_accumulates(x, buf=np.zeros(3)):   # every later call sees buf changed, in Python
    buf += x
    return np.sum(buf * x)


REFUSED["module_array_updated_through_a_name"] = (module_array_updated_through_a_name, (np.array([0.3, -0.2, 0.5]),),
                                                  (0,), "STATE")
REFUSED["module_array_written_through_a_name"] = (module_array_written_through_a_name, (np.array([0.3, -0.2, 0.5]),),
                                                  (0,), "BUFFER")
REFUSED["default_buffer_accumulates"] = (default_buffer_accumulates, (np.array([0.3, -0.2, 0.5]),), (0,),
                                         "default value")


def list_item_written_while_walked(x):        # the list's iterator reads items lazily: v is the new lst[2]
    lst = [x[0], x[1], x[2]]
    s = 0.0
    for v in lst:
        lst[2] = lst[2] * v
        s = s + v
    return s


def list_grown_while_walked(x):               # Python walks the items appended too
    lst = [x[0], x[1]]
    s = 0.0
    for v in lst:
        if len(lst) < 4:
            lst.append(v * 2.0)
        s = s + v
    return s


def array_made_without_a_copy(x):             # NumPy 2: np.array(y, copy=None) is y itself
    y = x * 1.0
    z = np.array(y, copy=None)
    z += 1.0
    return np.sum(y * y)


REFUSED["list_item_written_while_walked"] = (list_item_written_while_walked, (np.array([0.5, 2.0, 3.0]),), (0,),
                                             "a `for` loop walks")
REFUSED["list_grown_while_walked"] = (list_grown_while_walked, (np.array([0.5, 2.0]),), (0,), "a `for` loop walks")
REFUSED["array_made_without_a_copy"] = (array_made_without_a_copy, (np.array([0.5, 2.0]),), (0,), "would change `y`")


def list_slice_changing_its_length(x):       # lst[1:] = [v] makes the list shorter
    lst = [x[0], x[1], x[2]]
    lst[1:] = [x[0] * 2.0]
    return sum(lst)


def slices_keeping_their_length(x):
    lst = [x[0], x[1], x[2]]
    lst[1:] = [x[0] * 2.0, x[2] ** 2]
    y = x * 1.0
    y[1:] = y[:2] * 3.0
    return sum(lst) + np.sum(y)


CASES["slices_keeping_their_length"] = (slices_keeping_their_length, (np.array([0.5, 1.0, 2.0]),), (0,))
REFUSED["list_slice_changing_its_length"] = (list_slice_changing_its_length, (np.array([0.5, 1.0, 2.0]),), (0,),
                                             "changes a list's length")


def _doubles_in_place(a):
    a *= 2.0


def _passes_it_on(a):
    _doubles_in_place(a)


def changed_by_a_helper_two_calls_down(x):    # the array changes in place two calls down
    y = x * 1.0
    _passes_it_on(y)
    return np.sum(y * y)


REFUSED["changed_by_a_helper_two_calls_down"] = (changed_by_a_helper_two_calls_down, (np.array([0.5, 2.0]),), (0,),
                                                 "changes its argument")


def list_items_squared_in_their_walk(x):      # writes the item the iteration has read: fine
    xs = [x[0], x[1], x[0] * x[1]]
    for i, v in enumerate(xs):
        xs[i] = v * v
    return sum(xs)


CASES["list_items_squared_in_their_walk"] = (list_items_squared_in_their_walk, (np.array([0.5, 2.0]),), (0,))


W_MODULE = np.array([[1.0, 2.0], [0.5, -1.0]])


def copy_of_a_module_array_updated(x):       # W.flatten() is a copy: its update is the local's alone
    y = W_MODULE.flatten()
    y[:2] += x
    return np.sum(y ** 2)


CASES["copy_of_a_module_array_updated"] = (copy_of_a_module_array_updated, (np.array([0.3, -0.4]),), (0,))


# --- found in the fourteenth session: an alias made later in a loop body reaches the next iteration's change ----
def same_array_appended_each_iteration(x):   # hist holds y twice: the second write changes both items
    hist = []
    y = np.zeros(2)
    for i in range(2):
        y[i] = x[i]
        hist.append(y)
    return hist[0][1] + hist[1][1]


REFUSED["same_array_appended_each_iteration"] = (same_array_appended_each_iteration, (np.array([0.5, 0.3]),), (0,),
                                                 "`hist` may hold the same object")


def same_array_joined_into_a_tuple(x):       # t + (y,) holds y itself
    t = ()
    y = np.zeros(2)
    for i in range(2):
        y[i] = x[i]
        t = t + (y,)
    return t[0][1]


REFUSED["same_array_joined_into_a_tuple"] = (same_array_joined_into_a_tuple, (np.array([0.5, 0.3]),), (0,),
                                             "may hold the same object")


def name_rebound_to_another_array_in_a_loop(x):   # from the second iteration on, z[0] += ... writes into y
    y = x * 1.0
    z = np.zeros(2)
    for i in range(2):
        z[0] += x[1]
        z = y[0:]
    return y[0]


REFUSED["name_rebound_to_another_array_in_a_loop"] = (name_rebound_to_another_array_in_a_loop,
                                                      (np.array([0.5, 0.3]),), (0,), "`y` may hold the same object")


def _double_and_sum(a):
    a *= 2.0
    return np.sum(a)


def helper_changing_its_argument_in_a_loop(x):   # the next call is passed the changed y
    y = x * 1.0
    s = 0.0
    for i in range(2):
        s = s + _double_and_sum(y)
    return s


REFUSED["helper_changing_its_argument_in_a_loop"] = (helper_changing_its_argument_in_a_loop,
                                                     (np.array([0.5, 0.3]),), (0,), "changes its argument")


def _last(M):
    return M[-1]


def helper_reading_a_list_grown_later(x):    # the helper's pullback reads L as it was at the call
    L = [0.0]
    s = 0.0
    for i in range(3):
        L.append(x * i)
        s = s + _last(L)
    return s


CASES["helper_reading_a_list_grown_later"] = (helper_reading_a_list_grown_later, (0.7,), (0,))


class _Potential:
    def __init__(self, k):
        self.k = k

    def energy(self, x):
        return self.k * np.sum(x ** 3)

    def step(self, a, x):
        return self.k * np.cos(a * x)


def inner_gradient_of_a_differentiated_objects_method(p, x):   # the inner grad's function reads p.k
    return np.sum(s2sad.grad(p.energy)(x))


REFUSED["inner_gradient_of_a_differentiated_objects_method"] = (
    inner_gradient_of_a_differentiated_objects_method, (_Potential(2.0), np.array([0.3, -0.7])), (0,),
    "with respect to the function it is given")


def fixed_point_of_a_differentiated_objects_method(p, a):    # the step reads p.k
    return s2sad.fixed_point(p.step, a, 0.0)


REFUSED["fixed_point_of_a_differentiated_objects_method"] = (
    fixed_point_of_a_differentiated_objects_method, (_Potential(0.5), 0.8), (0,), "with respect to the function")


_VEC_A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
_VEC_B = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


def generalized_ufunc_result_times_a_matrix(W):   # np.vecdot's result is 1-d: no elementwise shape rule
    c = np.vecdot(_VEC_A, _VEC_B)
    return np.sum(c @ W * np.array([1.0, 2.0, 3.0])) + np.sum(np.vecdot(W, c) ** 2)


def matrix_vector_generalized_ufunc(W):      # (NumPy 2.2's np.matvec)
    c = np.vecdot(_VEC_A, _VEC_B)
    return np.sum(np.matvec(W, c) ** 2) + np.sum(np.vecmat(c, W) * c)


CASES["generalized_ufunc_result_times_a_matrix"] = (generalized_ufunc_result_times_a_matrix,
                                                    (np.arange(9.0).reshape(3, 3) / 9.0,), (0,))
if hasattr(np, "matvec"):
    CASES["matrix_vector_generalized_ufunc"] = (matrix_vector_generalized_ufunc, (np.arange(9.0).reshape(3, 3) / 9.0,),
                                                (0,))


def integer_results_asked_for(x):            # dtype=int: piecewise constant, no derivative
    whole = np.sum(x, dtype=int) + x.sum(dtype=np.int32) + np.cumsum(x, dtype="i8")[-1] + np.add.reduce(x, dtype=int)
    return whole * 0.25 + np.sum(x ** 2) + np.sum(x, dtype=np.float64)


CASES["integer_results_asked_for"] = (integer_results_asked_for, (np.array([1.3, 2.7, 0.4, 3.9]),), (0,))


def argument_updated_in_place(a, b):        # f(x, x): Python's `a += 1.0` changes b too
    a += 1.0
    return np.sum(a * b)


_ONE_ARRAY = np.array([1.0, 2.0, 3.0])
REFUSED["argument_updated_in_place_passed_twice"] = (argument_updated_in_place, (_ONE_ARRAY, _ONE_ARRAY), (0,),
                                                     "would change `b` too")
REFUSED["argument_updated_in_place_and_a_view_of_it"] = (argument_updated_in_place, (_ONE_ARRAY, _ONE_ARRAY[1:2]),
                                                         (0,), "would change `b` too")


def parameters_rebuilt_each_step(x):        # `new` is a new list each iteration: `ws`, the old one, is not it
    ws = [x * 1.0, x * 2.0]
    for it in range(3):
        new = []
        for w in ws:
            new.append(w - 0.1 * w * x)
        ws = new
    return sum(np.sum(w ** 2) for w in ws)


CASES["parameters_rebuilt_each_step"] = (parameters_rebuilt_each_step, (np.array([0.3, -0.5]),), (0,))


def dict_parameters_rebuilt_each_step(params, x):   # keys beside values in a comprehension: no derivative
    for it in range(3):
        grads = {k: 2 * params[k] * x for k in params}
        new = {}
        for k in params:
            new[k] = params[k] - 0.1 * grads[k]
        params = new
    return sum(np.sum(v ** 2) for v in params.values())


CASES["dict_parameters_rebuilt_each_step"] = (dict_parameters_rebuilt_each_step,
                                              ({"a": np.array([1.0, 2.0]), "b": np.array([0.5])}, 0.3), (1, 0))




def conj_of_a_real_array_is_itself(x):
    y = x * 1.0
    z = y.conj()
    y[0] = x[1] ** 2
    return np.sum(z * x)


def einsum_permutation_is_a_view(x):
    y = x * 1.0
    z = np.einsum("i->i", y)
    y[0] = x[1] ** 2
    return np.sum(z * x)


def diag_of_a_matrix_is_a_view(x):
    Y = x.reshape(2, 2) * 1.0
    z = np.diag(Y)
    Y[0, 0] = x[1] ** 2
    return np.sum(z * x[:2])


def written_by_index_through_another_name(x):   # b is a: a later read of b sees every write
    a = x * 1.0
    b = a
    for i in range(4):
        a[i] = b[i] * x[i]
    return np.sum(b * x)


_X4 = np.array([0.7, -1.3, 0.4, 1.1])
for _f in (conj_of_a_real_array_is_itself, einsum_permutation_is_a_view, diag_of_a_matrix_is_a_view,
           written_by_index_through_another_name):
    REFUSED[_f.__name__] = (_f, (_X4,), (0,), "may hold the same object")


def dict_merged_with_or(x):                  # d |= {...}: not followed (was a zero gradient)
    d = {"k": x}
    d |= {"k": x * x}
    return np.sum(d["k"])


def setitem_called_as_a_function(x):         # operator.setitem(hold, 0, v): not followed (was a zero gradient)
    hold = [None]
    operator.setitem(hold, 0, x * x)
    return np.sum(hold[0])


def append_called_through_the_type(x):       # list.append(hold, v)
    hold = []
    list.append(hold, x * x)
    return np.sum(hold[0])


REFUSED["dict_merged_with_or"] = (dict_merged_with_or, (_X4,), (0,), "a dict or set merged")
REFUSED["setitem_called_as_a_function"] = (setitem_called_as_a_function, (_X4,), (0,), "changes its first argument")
REFUSED["append_called_through_the_type"] = (append_called_through_the_type, (_X4,), (0,), "changes its first argument")


def appended_item_overwritten(x):            # the overwritten item's adjoint is a zero the append's rule reads
    acc = []
    for i in range(4):
        acc.append(x[i] * 2.0)
    acc[0] = x[1] ** 2
    return sum(acc)


CASES["appended_item_overwritten"] = (appended_item_overwritten, (_X4,), (0,))


def items_of_a_list_walked_backwards(w):     # ws[::-1]: the adjoint's items go back in the slice's order
    ws = [w[0], w[1], w[2]]
    a, b, c = ws[::-1]
    x = 1.0
    for w in ws[::-2]:
        x = x * w
    return 2.0 * a + 5.0 * c + x


CASES["items_of_a_list_walked_backwards"] = (items_of_a_list_walked_backwards, (np.array([0.5, 1.5, -0.8]),), (0,))


def dict_keys_used_as_numbers(x):             # forward mode: a key's tangent was None (TypeError in jvp and hvp)
    d = {0: x[0] ** 2, 1: x[1], 2: x[0] * x[1]}
    t = 0.0
    for k in d:
        t = t + d[k] * k
    return t


CASES["dict_keys_used_as_numbers"] = (dict_keys_used_as_numbers, (np.array([0.3, -1.2]),), (0,))


def written_through_stop_gradient(x):        # stop_gradient(x) is x itself: the write changes x (was not refused)
    y = s2sad.stop_gradient(x)
    y[0] = 5.0
    return np.sum(x ** 3)


REFUSED["written_through_stop_gradient"] = (written_through_stop_gradient, (_X4,), (0,), "changes its argument `x`")


def while_else_breaks_the_outer_loop(x):     # the else's break left the lowered `while True` instead (value 151.2)
    s = 0.0
    for i in range(3):
        k = 0
        while k < 2:
            s = s + x[k] * x[i]
            k += 1
        else:
            if s > -10.0:
                break
        s = s + 100.0 * x[i]
    return s


def while_else_continues_the_outer_loop(x):  # the else's continue looped forever
    s = 0.0
    i = 0
    while i < 2:
        i += 1
        k = 0
        while k < 2:
            s = s + x[k] * x[i]
            if s > 50.0:
                break
            k += 1
        else:
            continue
        s = s - x[i] ** 2
    return s


CASES["while_else_breaks_the_outer_loop"] = (while_else_breaks_the_outer_loop, (np.array([0.3, 0.5, 0.7]),), (0,))
CASES["while_else_continues_the_outer_loop"] = (while_else_continues_the_outer_loop, (np.array([0.3, 0.5, 0.7]),), (0,))


def raveled_in_memory_order(x):              # ravel('K') of a view: its items in memory order (read as 'A' before)
    m = np.reshape(x, (2, 3, 2))
    w = np.arange(12.0) - 5.0
    a = np.swapaxes(m, 0, 2).ravel("K")
    b = np.moveaxis(m, 0, -1)[:, ::-1].flatten(order="K")
    return np.sum(a * w) + np.sum(np.sin(b) * w)


CASES["raveled_in_memory_order"] = (raveled_in_memory_order, (np.linspace(-1.0, 1.2, 12),), (0,))


def _copy_with_a_product(y):
    z = y.copy()
    z[1] = z[0] * z[1]
    return z


def copy_written_after_a_helper(x):          # hvp refused `y[0] = ...` naming s2sad's tangent code (helper_jvp)
    y = _copy_with_a_product(x * 1.0)
    y[0] = y[0] * 0.5
    return np.sum(y ** 2)


CASES["copy_written_after_a_helper"] = (copy_written_after_a_helper, (np.array([0.5, -0.3]),), (0,))


def rows_swapped_through_a_copy(A):          # `tmp = B[0].copy()`: taken for an alias of B (refused before)
    B = A.copy()
    tmp = B[0].copy()
    B[0] = B[1]
    B[1] = tmp
    return np.sum(B * np.arange(4.0).reshape(2, 2)) + B[0, 0] ** 2


def pivot_rows_swapped_in_a_loop(A0):       # hvp refused naming s2sad's tangent code (rowk_dot, bk_dot)
    A = np.array(A0)
    for k in range(2):
        rowk = np.copy(A[k, :])
        A[k, :] = A[k + 1, :]
        A[k + 1, :] = rowk
        bk = float(A[k, 0])
        A[k, 0] = A[k + 1, 0]
        A[k + 1, 0] = bk
    return np.sum(A ** 3 * np.arange(6.0).reshape(3, 2))


CASES["rows_swapped_through_a_copy"] = (rows_swapped_through_a_copy, (np.array([[1.0, 2.0], [3.0, 4.0]]),), (0,))
CASES["pivot_rows_swapped_in_a_loop"] = (pivot_rows_swapped_in_a_loop,
                                         (np.array([[0.5, -1.2], [0.3, 0.8], [-0.7, 1.1]]),), (0,))


def enumerated_from_one(x):                  # enumerate(x, start=1): refused as "not used up at once"
    s = 0.0
    for n, v in enumerate(x, start=1):
        s = s + v * v / n
    return s + sum(i * v for i, v in enumerate(x, start=2))


CASES["enumerated_from_one"] = (enumerated_from_one, (np.array([1.0, 2.0, 3.0]),), (0,))


def copies_by_method(x):                     # x.astype(float), x.flatten(): copies (taken for aliases of x before)
    y = x.astype(float)
    y[0] = y[1] * 3.0
    z = x.flatten()
    z[1] = 2.0 * z[0]
    return np.sum(y * y) + np.sum(z) + np.sum(x)



# --- the sixteenth session's probes ---------------------------------------------------------------------
_CONSTANTS = [1.0, 2.0]
_ROWS = [np.ones(3), np.arange(3.0)]
_POWERS = [0.5, 2.0, 3.0]


def module_list_joined_with_a_value(x):     # C + [x]: added as arrays, every item's adjoint summed onto x
    return np.sum(np.array(_CONSTANTS + [x[0]]) ** 2) + sum(_CONSTANTS + [x[1] * x[1]]) \
        + (_CONSTANTS + [x[2]])[0] * x[2] + np.sum(np.stack(_ROWS + [x]) ** 2 * np.arange(3.0))


def module_list_as_an_exponent(x):          # x ** P, np.arctan2(x, P): a raw TypeError in the rule
    return np.sum(x ** _POWERS) + np.sum(np.arctan2(x, _POWERS))


CASES["module_list_joined_with_a_value"] = (module_list_joined_with_a_value, (np.array([0.7, -0.4, 1.3]),), (0,))
CASES["module_list_as_an_exponent"] = (module_list_as_an_exponent, (np.array([2.0, 3.0, 0.5]),), (0,))


def _same(a):
    return a


def written_through_np_asanyarray(x):       # np.asanyarray(y) is y: the write changed y, the derivative did not
    y = x * 1.0
    z = np.asanyarray(y)
    z[1] = x[2] ** 2
    return np.sum(y * x)


def written_through_asarray_chkfinite(x):
    y = x * 1.0
    z = np.asarray_chkfinite(y)
    z[1] = x[2] ** 2
    return np.sum(y * x)


REFUSED["written_through_np_asanyarray"] = (written_through_np_asanyarray, (_X4,), (0,), "`y` may hold the same object")
REFUSED["written_through_asarray_chkfinite"] = (written_through_asarray_chkfinite, (_X4,), (0,),
                                                "`y` may hold the same object")


def range_index_reusing_a_value_name(x):    # i = x[0]; for i in range(3): the adjoint of i still reached x[0]
    i = x[0] * x[2]
    s = 0.0
    for i in range(3):
        s = s + x[i]
    j = x[1]
    for j in range(2):
        pass
    return s * i + j * x[1]


CASES["range_index_reusing_a_value_name"] = (range_index_reusing_a_value_name, (np.array([0.3, -0.7, 1.23]),), (0,))


def _namespace_of(x):
    return np


def array_method_of_a_namespace(x, xp=np):   # xp.take(x, idx): x taken for the indices of the array method
    ns = _namespace_of(x)
    return np.sum(xp.take(x, [0, 2]) ** 2) + np.sum(ns.repeat(x, 2)) + np.sum(type(x).take(x, [1]))


def appended_through_a_bound_method(x):      # push = out.append: the appends were not seen (a zero gradient)
    out = []
    push = out.append
    for v in x:
        push(v * v)
    return sum(out)


REFUSED["array_method_of_a_namespace"] = (array_method_of_a_namespace, (_X4,), (0,), "is called on a module or a class")
REFUSED["appended_through_a_bound_method"] = (appended_through_a_bound_method, (_X4,), (0,),
                                              "changes its object in place and is taken here as a value")


def nested_comprehension_read_in_part(x):    # rows not read had no adjoint: None reached the product rule (a crash)
    i = x[2]
    M = [[x[i] * x[j] for j in range(3)] for i in range(3)]
    T = [[[x[i] * x[j] * x[k] for k in range(2)] for j in range(2)] for i in range(2)]
    return i * M[0][1] + T[1][0][1]


def written_into_itself(x):                 # a[::-1] = a, a[:] = a: the adjoint was cleared after the write's
    a = x * 1.0                             # own contribution (zero gradients)
    a[::-1] = a
    b = x * 2.0
    b[:] = b
    c = x * 1.0
    c[[2, 1, 0, 3]] = c
    return np.sum(a * np.arange(4.0)) + np.sum(b * b) + np.sum(c * np.arange(1.0, 5.0))


CASES["nested_comprehension_read_in_part"] = (nested_comprehension_read_in_part, (np.array([0.3, -0.7, 1.23]),),
                                              (0,))
CASES["written_into_itself"] = (written_into_itself, (_X4,), (0,))



def log_softmax_with_a_per_class_bias(b, x):   # the fused log-softmax gave the shift b nothing: it varies along
    lp = x - b - np.log(np.sum(np.exp(x - b), axis=1, keepdims=True))   # the summed axis, so lp depends on it
    m = np.max(x, axis=0)                                   # (a stabiliser over the other axis: the same)
    lq = x - m - np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))
    return lp[0, 0] + np.sum(lq[1] * b)


def logistic_of_an_array_written_between(z):   # z[0] = 5.0 between -z and the logistic: the fused adjoint read z
    z = z.copy()                                # after the write
    n = -z
    z[0] = 5.0
    p = 1 / (1 + np.exp(n))
    return np.sum(p * z)


def cross_entropy_of_labels_written_between(w, X, y):   # y[0] = 0.25 between the two terms of the fused adjoint
    y = y.copy()
    z = X @ w
    p = 1 / (1 + np.exp(-z))
    t1 = y * np.log(p)
    y[0] = 0.25
    t2 = (1 - y) * np.log(1 - p)
    return -np.mean(t1 + t2)


CASES["log_softmax_with_a_per_class_bias"] = (log_softmax_with_a_per_class_bias, (
    np.array([0.2, -0.1, 0.4]), np.array([[0.1, 0.5, -0.3], [0.7, -0.2, 0.05]])), (0, 1))
CASES["logistic_of_an_array_written_between"] = (logistic_of_an_array_written_between, (np.array([0.3, -0.4]),),
                                                 (0,))
CASES["cross_entropy_of_labels_written_between"] = (cross_entropy_of_labels_written_between, (
    np.array([0.3, -0.2]), np.array([[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8]]), np.array([1.0, 0.0, 1.0])), (0,))


def loop_reads_an_alias_of_an_array_it_writes(x):   # B = A; A[t] = 2.0: `invariant` took c = B * x for the same
    A = np.ones(2)                                   # value every iteration (the last one's, in the sweep)
    B = A
    R = A[:]
    tot = 0.0
    for t in range(2):
        c = B * x + R * x
        tot = tot + np.sum(c * c)
        A[t] = 2.0
    return tot


class _Counter:
    def __init__(self):
        self.k = 1.0


_STATE = _Counter()


def _reset_state():
    _STATE.k = 1.0
    return 0


def _bump_state():
    _STATE.k = _STATE.k + 0.5
    return 0


def loop_reads_an_attribute_a_helper_changes(x):    # STATE.k bumped by a helper: `invariant` kept the last value
    _reset_state()
    tot = 0.0
    for t in range(3):
        _bump_state()
        c = _STATE.k * 1.0
        tot = tot + x * x * c
    return tot


CASES["loop_reads_an_alias_of_an_array_it_writes"] = (loop_reads_an_alias_of_an_array_it_writes,
                                                      (np.array([0.3, -0.4]),), (0,))
CASES["loop_reads_an_attribute_a_helper_changes"] = (loop_reads_an_attribute_a_helper_changes, (0.7,), (0,))


def constant_filled_after_a_product(x):      # A.fill(2.0) after c = A * x: the sweep read the filled A
    A = np.ones(x.shape)
    c = A * x
    A.fill(2.0)
    return np.sum(c * c)


def constant_put_after_a_product(x):         # np.put(A, [0], 5.0) after c = A * x
    A = np.ones(x.shape)
    c = A * x
    np.put(A, [0], 5.0)
    return np.sum(c * c)


_GA = np.ones(4)


def _bump_module_array(t):
    _GA[t] = 2.0
    return 0


def module_array_bumped_in_a_loop(x):        # a helper given no differentiated value changes an array read before
    tot = 0.0
    for t in range(2):
        c = _GA * x
        tot = tot + np.sum(c * c)
        _bump_module_array(t)
    return tot


REFUSED["constant_filled_after_a_product"] = (constant_filled_after_a_product, (_X4,), (0,),
                                              "after a computation being differentiated read it")
REFUSED["constant_put_after_a_product"] = (constant_put_after_a_product, (_X4,), (0,),
                                           "after a computation being differentiated read it")
REFUSED["module_array_bumped_in_a_loop"] = (module_array_bumped_in_a_loop, (_X4,), (0,),
                                            "changes an object of a module that a computation being differentiated")


def zipped_with_strict_false(x):             # zip(..., strict=False) in a for loop: refused as "not used up at once"
    s = 0.0
    for a, b in zip(x, x[1:], strict=False):
        s = s + a * b
    return s


CASES["zipped_with_strict_false"] = (zipped_with_strict_false, (np.array([0.3, -0.7, 1.2]),), (0,))


def max_with_a_key_and_min_with_a_default(x):   # max(a, b, key=abs), min([..], default=v): refused naming s2sad's
    a = x[0] * x[1]                              # rule ("unexpected keyword 'key'", "missing 'y'")
    b = x[2] - 1.0
    return max(a, b, key=abs) + min([x[0], x[2]], default=x[1]) + max(x[1], x[2], x[0] * 2.0, key=lambda v: v * v)


CASES["max_with_a_key_and_min_with_a_default"] = (max_with_a_key_and_min_with_a_default,
                                                  (np.array([0.3, -0.7, 1.9]),), (0,))


def zipped_with_strict_true(x, y):          # zip(..., strict=True): refused as "not used up at once"
    s = 0.0
    for a, b in zip(x, y, strict=True):
        s = s + a * b * b
    return s + sum(a * b for a, b in zip(x, y, strict=True))


CASES["zipped_with_strict_true"] = (zipped_with_strict_true, (np.array([0.3, -0.7, 1.2]), np.array([1.1, 0.4, -0.9])),
                                    (0, 1))


def numpy_scalar_casts(x):                   # np.longdouble(v), np.float32(v): "no derivative rule" (float32 in
    a = np.longdouble(x[0]) * 2.0            # tests/test_forward_rules.py: differences cannot witness it)
    b = np.float64(x[1]) ** 2
    return float(a * b) + np.sum(np.sin(np.longdouble(x)))


CASES["numpy_scalar_casts"] = (numpy_scalar_casts, (np.array([0.5, -1.25]),), (0,))


def module_named_locally(x):                 # xp = np; xp.sum(x): the call taken for a method `.sum()` of a value,
    xp = np                                  # refused naming its `axis`
    la = np.linalg
    return xp.sum(xp.tanh(x)) * la.norm(x)


CASES["module_named_locally"] = (module_named_locally, (np.array([0.3, -0.7, 1.2]),), (0,))


def rollaxis_view_written_through(M):        # np.rollaxis, np.dsplit return views: a write into B showed through
    B = M * 1.0                              # v, a (taken for copies: a wrong gradient, and with `v *= M` a wrong
    v = np.rollaxis(B, 1)                    # value)
    B[0, 1] = M[1, 2] ** 2
    return np.sum(v * M)


def rollaxis_view_updated(M):
    B = M * 1.0
    v = np.rollaxis(B, 1)
    v *= M
    return np.sum(B * M)


def dsplit_view_written_through(T):
    B = T * 1.0
    a, b = np.dsplit(B, 2)
    B[0, 1, 0] = T[0, 0, 1] ** 2
    return np.sum(a * b)


_M3 = np.array([[2.0, 0.3, -0.4], [0.1, 1.5, 0.2], [-0.3, 0.4, 1.8]])
REFUSED["rollaxis_view_written_through"] = (rollaxis_view_written_through, (_M3,), (0,), "may hold the same object")
REFUSED["rollaxis_view_updated"] = (rollaxis_view_updated, (_M3,), (0,), "share memory")
REFUSED["dsplit_view_written_through"] = (dsplit_view_written_through,
                                          (np.array([[[0.5, 1.0], [2.0, -1.0]]]),), (0,), "may hold the same object")


def fem_assembly_with_add_at(k):             # np.add.at(K, ...), np.fill_diagonal(K, ...): refused as "a call that
    n = len(k)                                # may modify a value being differentiated in place"
    K = np.zeros((n + 1, n + 1))
    for e in range(n):
        idx = np.array([e, e + 1])
        np.add.at(K, (idx[:, None], idx[None, :]), k[e] * np.array([[1.0, -1.0], [-1.0, 1.0]]))
    np.subtract.at(K, (np.array([0, 0]), np.array([0, 0])), -k[0])       # a repeated position adds up
    np.fill_diagonal(K, np.diag(K) + 0.05)
    u = np.linalg.solve(K[1:, 1:], np.ones(n))
    return np.sum(u ** 2)


CASES["fem_assembly_with_add_at"] = (fem_assembly_with_add_at, (np.array([1.0, 2.0, 1.5, 0.7]),), (0,))


def fill_diagonal_of_a_kernel(x, d):
    M = np.outer(x, x)
    B = M
    np.fill_diagonal(M, d)                    # (B holds M: it sees the write)
    return np.sum(B * M) + np.sum(M[0])


CASES["fill_diagonal_of_a_kernel"] = (fill_diagonal_of_a_kernel, (np.array([0.1, 0.5, 1.2]), np.array([1.0, 2.0, 3.0])),
                                      (0, 1))


def reshaped_then_written(x):                # second order refused naming the generated tangent code: `M` changed
    M = (x * 2.0).reshape(2, 3)              # while `M_dot` may hold the same object (reshape_like's result taken
    M[0, 1] = 0.0                            # for one that may be its primal arguments)
    N2 = np.atleast_2d(x[:3] * 1.5)
    N2[0, 1] = x[4]
    return np.sum(M ** 2) + np.sum(N2 ** 3)


CASES["reshaped_then_written"] = (reshaped_then_written, (np.array([0.3, -0.7, 1.2, 0.5, -1.1, 0.9]),), (0,))


def repeated_list_then_written(x):           # (repetition_tangent's result likewise)
    l = [x[0], x[1] * 2] * 2
    l[0] = l[0] * 3
    return l[0] * l[1] + l[3] * l[0]


CASES["repeated_list_then_written"] = (repeated_list_then_written, (np.array([0.3, -0.7]),), (0,))


def rows_unpacked_while_written(X0):         # `a, b = X[t]` then a write into X: refused ("`X` is changed in place
    X = np.zeros((4, 2))                     # while `a` may hold the same object": a, b are numbers)
    X[0] = X0
    for t in range(3):
        a, b = X[t]
        X[t + 1, 0] = a + 0.1 * b
        X[t + 1, 1] = b - 0.1 * a * a
    return np.sum(X ** 2)


CASES["rows_unpacked_while_written"] = (rows_unpacked_while_written, (np.array([1.0, 0.5]),), (0,))


def fancy_and_masked_reads_then_written(A):  # B = A[idx], A[m], A[:, [1, 0]] are copies: a write into B was refused
    B = A[np.array([2, 0])]                  # as a change of the argument A
    B[:, 1] = 0.0
    m = A[:, 0] > 0
    C = A[m]
    C[:, 0] = C[:, 0] * 3.0
    D = A[:, [1, 0]]
    D[0] = 1.0
    return np.sum(B * A[:2]) + np.sum(C ** 2) + np.sum(D * A)


CASES["fancy_and_masked_reads_then_written"] = (fancy_and_masked_reads_then_written,
                                                (np.array([[1.0, 2.0], [-3.0, 4.0], [5.0, -6.0]]),), (0,))


def item_of_a_shallow_copy_changed(x):      # list(L)[0] is the array L holds: a change through it was not seen as a
    z = x * 1.0                              # change of z (a wrong value and gradient; copy.copy(L), [*L] alike)
    L = [z]
    a = list(L)[0]
    a += x[1]
    return np.sum(z * x)


def item_of_a_copied_list_written(x):
    z = x * 1.0
    L2 = copy.copy([z])
    a = L2[0]
    a[0] = 7.0 * x[1]
    return np.sum(z * x)


def _shallow_snapshot(layers, n_warm=3):
    s = 0.0
    for i in range(n_warm):                  # (a loop: not inlined)
        s = s + i
    return list(layers)


def item_of_a_helpers_shallow_copy_changed(x):   # a helper returning list(lst): its result holds lst's items
    z = x * 1.0
    M = _shallow_snapshot([z])
    M[0] *= 2.0
    return np.sum(z * x)


def astype_copy_false_by_position(x):        # y.astype(dtype, "K", "unsafe", True, False) is y itself: taken for a
    y = x * 1.0                              # new array
    z = y.astype(np.float64, "K", "unsafe", True, False)
    z[0] = 5.0 * x[1]
    return np.sum(y * x)


def _exec_namespace():
    namespace = {"np": np}
    exec("def scatter_into(y, v):\n    np.add.at(y, [0, 0], v)\n", namespace)     # code s2sad cannot read
    return namespace


_scatter_into = _exec_namespace()["scatter_into"]


def scattered_by_code_s2sad_cannot_read(x):  # np.add.at writes into arrays marked read-only: the change by an opaque
    y = x * 1.0                              # call was lost (its value right, its derivative not)
    _scatter_into(y, x[1])
    return np.sum(y ** 2)


def shape_set_through_setattr(x):            # setattr(y, "shape", ...): a raw broadcasting error from the derivative
    y = x * 1.0
    setattr(y, "shape", (2, 2))
    return np.sum(y * np.eye(2)) + np.sum(y)


_X4b = np.array([0.7, -1.3, 2.1, 0.4])
for _f, _reason in ((item_of_a_shallow_copy_changed, "share memory"),
                    (item_of_a_copied_list_written, "may hold the same object"),
                    (item_of_a_helpers_shallow_copy_changed, "share memory|may hold the same object"),
                    (astype_copy_false_by_position, "may hold the same object"),
                    (scattered_by_code_s2sad_cannot_read, "change[sd] an array it was given in place"),   # (NumPy
                    (shape_set_through_setattr, "changed an array it was given in place")):   # 2.5 raises: read-only)
    REFUSED[_f.__name__] = (_f, (_X4b,), (0,), _reason)


def ufunc_at_under_another_name(x, v):       # at = np.add.at; at(y, ...) and r = np.add.at(...): the write was lost
    y = x * 1.0                              # (a zero derivative for v)
    at = np.add.at
    at(y, [0, 0], v)
    r = np.subtract.at(y, [1], v * v)
    return np.sum(y ** 2)


CASES["ufunc_at_under_another_name"] = (ufunc_at_under_another_name, (_X4b, 0.3), (0, 1))


def dict_updated_while_its_keys_are_walked(w):   # for k in p: p[k] = ... (Python allows it: the keys do not change)
    p = {"a": w * 1.0, "b": w * 2.0}             # was refused as a change of what the loop walks
    g = {k: w ** (i + 1) for i, k in enumerate(p)}
    for k in p:
        p[k] = p[k] - 0.1 * g[k]
    for k in p:
        p[k] *= 1.5
    return np.sum(p["a"] * p["b"])


CASES["dict_updated_while_its_keys_are_walked"] = (dict_updated_while_its_keys_are_walked, (np.array([0.5, 1.0]),),
                                                   (0,))


def module_as_a_default_argument(x, xp=np, m=math):   # def f(x, xp=np): xp.sum(x) was taken for the method .sum() of
    return xp.sum(xp.sin(x) * xp.transpose(x)) + m.exp(xp.cumsum(x)[-1])   # a value (misleading refusals, a crash)


CASES["module_as_a_default_argument"] = (module_as_a_default_argument, (np.array([0.5, -1.0, 0.3]),), (0,))


class _Scaled:
    def __init__(self, W):
        self.W = W
        self.scale = 2.0


def getattr_with_a_default(x, m):            # getattr(m, "scale", 1.0): refused as a field "known only when the code
    a = getattr(m, "scale", 1.0)             # runs" (the name is a literal: m.scale if m has it, else the default)
    half = x[0] * 0.5
    b = getattr(m, "shift", half)
    return np.sum(m.W * x) * a + b * getattr(m, "W")[1]


CASES["getattr_with_a_default"] = (getattr_with_a_default, (np.array([1.0, 2.0]), _Scaled(np.array([0.5, -1.0]))),
                                   (0,))                # (wrt the record: tests/test_regressions.py, check_grads)


class _Wave:
    def __init__(self, k):
        self.k = k

    def value(self, x):
        return self.k * np.sin(x) * x


_WAVE_VALUE = _Wave(2.0).value                   # a bound method held by a global: "no derivative rule for _Wave.value"


def bound_method_held_by_a_global(x):
    return np.sum(_WAVE_VALUE(x)) + np.sum(x * x)


CASES["bound_method_held_by_a_global"] = (bound_method_held_by_a_global, (np.array([0.5, 1.0]),), (0,))


def dict_grown_while_its_keys_are_walked(w):     # Python raises RuntimeError (the dict changed size): s2sad gave a
    d = {"a": w * 1.0}                           # number (for k in d as its keys, and for k in d.keys(), walked a
    for k in d:                                  # copy of the keys)
        d[k + "2"] = d[k] * 2.0
    return np.sum(d["a"])


def dict_keys_view_grown(w):
    d = {"a": w * 1.0}
    for k in d.keys():
        d[k + "2"] = d[k] * 2.0
    return np.sum(d["a"])


def starred_display_holding_a_lists_arrays(x):   # [y, *L] holds L's arrays: a change through M[1] changes L[0] (it
    L = [x * 1.0]                                # was missed: a wrong value and gradient)
    M = [x * 5.0, *L]
    M[1] *= 2.0
    return np.sum(L[0] ** 2)


for _f, _reason in ((dict_grown_while_its_keys_are_walked, "changed in place|adds or removes keys"),
                    (dict_keys_view_grown, "adds or removes keys"),
                    (starred_display_holding_a_lists_arrays, "share memory|may hold the same object")):
    REFUSED[_f.__name__] = (_f, (np.array([0.3, -0.7, 1.2]),), (0,), _reason)


class _Config:
    scale = 2.0


def getattr_default_evaluated_first(x, c):       # getattr(c, "scale", c.fallback): Python evaluates the default
    return np.sum(x) * getattr(c, "scale", c.fallback)   # first (an AttributeError); it was skipped


def module_default_shadowed_inside(x, m=math):   # def f(x, m=math) with a nested function's own parameter m: the
    def scale(v, m):                             # nested m was read as the module (a wrong value, a crash)
        return v * m
    return scale(np.sum(np.sin(x)), 3.0) + m.exp(x[0])


CASES["module_default_shadowed_inside"] = (module_default_shadowed_inside, (np.array([0.3, -0.7, 1.2]),), (0,))


def quantile_overwriting_its_input(x):         # overwrite_input=True: NumPy reorders the array, which the rule read
    y = x * np.arange(1.0, 8.0)                  # again (the gradient landed on the wrong items)
    return np.quantile(y, 0.3, overwrite_input=True) + np.median(y, overwrite_input=True)


REFUSED["quantile_overwriting_its_input"] = (quantile_overwriting_its_input, (np.linspace(0.5, 2.0, 7),), (0,),
                                             "overwrite_input=True")


def rules_into_integers_and_rounded_initials(x, c):      # np.insert of a float into an int array, initial= of an int
    a = np.insert(np.arange(4), 1, c * 13.7)              # reduction (truncated: no derivative), and a float64
    b = np.sum(np.arange(4), initial=c) + np.max(np.arange(4), initial=c * 5.37)   # initial winning over float32
    m = np.max(x.astype(np.float32), initial=c * 3.0)      # items (0/0 before)
    return float(np.sum(a)) + float(b) + float(m) * 2.0 + np.sum(x)



# --- the eighteenth session's probes ---------------------------------------------------------------
def one_array_unpacked(q):                     # a, b = q / s: the forward rule read `(a, b)` as the quotient (a crash
    a, b = q / np.sum(q)                       # multiplying a tuple), as did second order, np.cumsum with an unused
    c, _ = np.cumsum(q * q)                    # item (None in the adjoint) and np.linalg.solve/inv (a tuple indexed)
    d, e = np.linalg.solve(np.array([[2.0, 1.0], [1.0, 3.0]]), np.exp(q) / 2.0)
    f, g = np.tanh(q) ** 2
    return a * b + c * 3.0 + d * e ** 2 + f * g


CASES["one_array_unpacked"] = (one_array_unpacked, (np.array([1.0, 2.0]),), (0,))


def list_walked_through_a_copy_while_grown(x):     # for v in L[:]: L.append(...): second order took the tangent
    L = [x]                                       # code's `L_dot[slice(None, None)]` for an item (a raw TypeError)
    for v in L[:]:
        L.append(v * x)
    return L[0] + L[1] * np.sin(x)


CASES["list_walked_through_a_copy_while_grown"] = (list_walked_through_a_copy_while_grown, (0.7,), (0,))


def spaced_from_lists(a):                      # np.linspace/logspace/geomspace with lists as start or stop: the forward
    x = np.linspace([a, 0.0], [1.0, a], 3)     # rules multiplied a list by 0.0 (a raw TypeError)
    y = np.geomspace([a, 1.0], [4.0, a], 3)
    z = np.logspace([a, 0.0], [1.0, a], 3)
    return np.sum(x ** 2) + np.sum(y) + np.sum(z)


CASES["spaced_from_lists"] = (spaced_from_lists, (0.4,), (0,))


def product_of_an_array_and_numbers(A, c):     # math.prod([A, c]) multiplies elementwise: its rule made one array of
    y = math.prod([A, c], start=c)             # items of different shapes (a raw ValueError), and the kinds took the
    return np.sum(y * c) + np.sum(math.prod([A, 2.0, A]))     # result for a number (its adjoint to c an array)


CASES["product_of_an_array_and_numbers"] = (product_of_an_array_and_numbers, (np.array([0.3, 1.7, 0.9]), 1.5), (0, 1))


def logspace_of_differentiated_bases(b):       # an array of bases: refused when only the base is differentiated too
    return np.sum(np.logspace(0.2, 1.0, 3, base=b))        # (a raw broadcasting error came first)


REFUSED["logspace_of_differentiated_bases"] = (logspace_of_differentiated_bases, (np.array([2.0, 3.0]),), (0,),
                                               "array of bases")


def containers_written_while_copies_are_walked(x):   # for k in list(d): d[k] = ... (s2sad's own hint for walking
    d = {"a": 1.0, "b": x}                           # a dict being changed) was refused, as were enumerate(list(L))
    for k in list(d):                                # and tuple(L): list(d) was taken for holding d itself (as
        d[k] = d[k] * x                              # list(A) holds views of an array A's rows)
    L = [x, 2.0 * x, 3.0]
    for i, v in enumerate(list(L)):
        L[i] = v * x + L[i]
    for v in tuple(L):
        L.append(v * d["a"])
    return d["a"] + d["b"] ** 2 + L[0] * L[1] + sum(L)


CASES["containers_written_while_copies_are_walked"] = (containers_written_while_copies_are_walked, (1.5,), (0,))


def array_changed_while_its_rows_are_listed(x):     # list(A) holds views of A's rows: A[0] = 5.0 changes rows[0]
    A = x * np.arange(1.0, 4.0)
    rows = list(A)
    A[0] = 5.0
    return rows[0] * x + rows[1]


REFUSED["array_changed_while_its_rows_are_listed"] = (array_changed_while_its_rows_are_listed, (1.5,), (0,),
                                                      "may hold the same object")


def nested_functions_with_their_own_locals(x):   # a nested function's own nested function, or a local or a
    def inner(y):                                # comprehension variable of a function inside it named like an
        def inner2(z):                           # enclosing variable, was taken for the enclosing one: refused
            w = z * 2.0                          # ("has its own `inner2`"), or that variable not passed to it
            return w * x
        v = [x for x in (y, y)][0]
        return inner2(y) + inner2(x) * v
    return inner(x * 3.0)


CASES["nested_functions_with_their_own_locals"] = (nested_functions_with_their_own_locals, (1.5,), (0,))


def lazy_iterators_walked_while_changed(x):     # for v in map(f, L): L[1] = ...: Python's map reads L[1] after the
    L = [x[0], x[1]]                             # change; s2sad read the items first (a wrong value and derivative)
    s = 0.0
    for v in map(lambda t: t * 2.0, L):
        L[1] = L[1] + v
        s = s + v
    return s


REFUSED["lazy_iterators_walked_while_changed"] = (lazy_iterators_walked_while_changed, (np.array([0.7, -0.4]),),
                                                  (0,), "lazy iterator reading what `L` holds")


def lazy_iterators_walked_unchanged(x):         # ... and where the body changes nothing they read: as before
    L = [x[0], x[1], x[0] * x[1]]
    s, w = 0.0, 1.5
    for v in map(lambda t: t * w, L):
        s = s * 0.5 + v
    for v, u in zip((t ** 2 for t in L), filter(lambda t: t > -10.0, L)):
        s = s + v * u
    return s


CASES["lazy_iterators_walked_unchanged"] = (lazy_iterators_walked_unchanged, (np.array([0.7, -0.4]),), (0,))


def _doubled(v):
    return v * 2.0


def one_array_unpacked_from_calls(q, A):       # a, b = g(q) of a user's function giving one array (its pullback got the
    a, b = _doubled(q)                         # tuple (a_bar, b_bar): a raw TypeError), s1, s2 = np.linalg.svd(A,
    s1, s2 = np.linalg.svd(A, compute_uv=False)   # compute_uv=False) and c, d = np.atleast_1d(q) (taken for several
    c, d = np.atleast_1d(q * 3.0)              # results), and math.prod with an array start= (its items broadcast
    e = math.prod([q[0], 3.0], start=q)        # with it)
    return a * b ** 2 + s1 * s2 + c * d + np.sum(e) + np.sum(math.prod([], start=q * 2.0))


CASES["one_array_unpacked_from_calls"] = (one_array_unpacked_from_calls,
                                          (np.array([0.7, -1.3]), np.array([[2.0, 0.5], [0.3, 1.0]])), (0, 1))


def keys_read_back(a):                          # a value being differentiated as a dict's key, read back through the
    d = {a: 1.0}                                # keys (for k in d, max(d), dict(zip(...)), a comprehension): zero
    return sum(k * k for k in d)                # derivative (keys carry none), a crash for a comprehension


REFUSED["keys_read_back"] = (keys_read_back, (1.3,), (0,), "used as a key")


def keys_of_a_comprehension_read_back(a):
    d = {a * i: i for i in range(1, 4)}
    return sum(d)


REFUSED["keys_of_a_comprehension_read_back"] = (keys_of_a_comprehension_read_back, (1.3,), (0,), "used as a key")


def keys_that_carry_no_derivative(x):           # ... and keys that carry none: as before
    d = {"a": x, "b": 2 * x}
    e = {i: x * i for i in range(3)}
    f = dict(zip(["u", "v"], [x, x * x]))
    return d["a"] * e[2] + f["v"]


CASES["keys_that_carry_no_derivative"] = (keys_that_carry_no_derivative, (1.3,), (0,))


def complex_determinant(a):                     # det of a complex matrix: the cofactor from the SVD missed the
    M = np.array([[1 + 1j * a[0], a[1]], [0.5j, 2.0 + a[2]]])   # conjugates of U and V^H (a wrong derivative, both
    return np.abs(np.linalg.det(M)) + np.imag(np.linalg.det(M @ M))   # modes)


CASES["complex_determinant"] = (complex_determinant, (np.array([0.3, 0.8, 1.3]),), (0,))


def complex_items_made_an_array(t):             # np.array of complex scalars: second order cast the complex adjoint
    w = np.array([np.exp(1j * t[0]), np.exp(1j * t[1])])        # of the list of tangents to float; np.diag of a
    U = np.array([[np.cos(t[0]), -1j * np.sin(t[0])], [-1j * np.sin(t[0]), np.cos(t[0])]])   # complex adjoint
    psi = U @ np.array([np.cos(t[1]), np.sin(t[1])])            # crashed (np.bincount's real weights)
    H = np.diag(t) + 0j
    return np.sum(np.imag(w ** 2)) + np.abs(psi[1]) ** 2 + np.real(np.sum(np.diag(H @ H * (1 + 1j))))


CASES["complex_items_made_an_array"] = (complex_items_made_an_array, (np.array([0.4, 0.7]),), (0,))


class _Weights:
    def __init__(self, w):
        self.w = w

    def reset(self):
        self.w[:] = 7.0                          # an array the loss read, changed in place by a method


def array_changed_by_a_method_after_a_read(x):   # obj.reset() after np.sum(obj.w * x): the backward sweep read the
    m = _Weights(np.array([1.0, 2.0, 3.0]))       # new values (a wrong gradient): the method runs with the object's
    y = np.sum(m.w * x ** 2)                      # arrays read-only, and its change is refused where the code runs
    m.reset()
    return y


REFUSED["array_changed_by_a_method_after_a_read"] = (array_changed_by_a_method_after_a_read,
                                                     (np.array([0.5, -1.0, 2.0]),), (0,), "read-only")


class _Zeroer:
    def zero(self, a):
        a[:] = 0.0


def _updater(w):
    def step():
        w[:] = 0.0
    return step


def constants_changed_by_code_not_seen_after_a_read(x):   # another object's method, a closure, a lambda from a
    w = np.array([1.0, 2.0, 3.0])                          # dict changing a constant array a derivative read: the
    y = np.sum(w * x ** 2)                                 # backward sweep read the new values (a zero gradient);
    _Zeroer().zero(w)                                      # now run with those arrays read-only, and refused
    return y


REFUSED["constants_changed_by_code_not_seen_after_a_read"] = (constants_changed_by_code_not_seen_after_a_read,
                                                              (np.array([0.5, -1.0, 2.0]),), (0,), "read-only")


def constants_changed_by_a_closure_after_a_read(x):
    w = np.array([1.0, 2.0, 3.0])
    step = _updater(w)
    y = np.sum(w * x ** 2)
    step()
    return y


REFUSED["constants_changed_by_a_closure_after_a_read"] = (constants_changed_by_a_closure_after_a_read,
                                                          (np.array([0.5, -1.0, 2.0]),), (0,), "read-only")


def constants_read_then_code_not_seen_that_keeps_them(x):  # ... and code that changes nothing they hold (a log
    w = np.array([1.0, 2.0, 3.0])                          # of a number, a counter rebound): as before
    log = []
    y = np.sum(w * x ** 2)
    log.append(float(np.sum(w)))
    _Zeroer().zero(np.zeros(2))
    return y * len(log)


CASES["constants_read_then_code_not_seen_that_keeps_them"] = (constants_read_then_code_not_seen_that_keeps_them,
                                                              (np.array([0.5, -1.0, 2.0]),), (0,))


_Sized = collections.namedtuple("_Sized", "size b")


def namedtuple_field_named_like_an_array_attribute(x):   # Sz(size=..., b=...) made inside: p.size read as NumPy's
    s = _Sized(2.0 * x[0], x[1] ** 2)                    # (a zero derivative; .T / .real crashed)
    return s.size * s.b


REFUSED["namedtuple_field_named_like_an_array_attribute"] = (namedtuple_field_named_like_an_array_attribute,
                                                             (np.array([0.7, 0.4]),), (0,), "named like an array")


def imports_of_the_function_body(x):          # refused before ("import at module level"); a function nested in it
    import numpy.linalg as la                  # reads what the import bound (its own generated code binds it too)
    from scipy.special import expit as sig, gammaln

    def inner(v):
        return sig(v) * la.norm(v)
    return np.sum(inner(x) * gammaln(x + 1.0))


CASES["imports_of_the_function_body"] = (imports_of_the_function_body, (np.array([0.5, -1.5, 2.0]),), (0,))


def none_default_made_then_changed(x, trajectory=None, *, log=None):   # the `p=None` idiom: refused before ("changes
    if trajectory is None:                                             # its argument in place"); None passed: the
        trajectory = []                                                # function changes only what it made
    log = {} if log is None else log
    for k in range(3):
        x = np.tanh(x) * 1.5 + 0.1
        trajectory.append(x)
        log[k] = x * 2.0
    return np.sum(trajectory[-1] * trajectory[0]) + np.sum(log[2])


CASES["none_default_made_then_changed"] = (none_default_made_then_changed, (np.array([0.5, -0.3]),), (0,))
REFUSED["none_default_given_a_list_of_the_callers"] = (none_default_made_then_changed, (np.array([0.5, -0.3]), []),
                                                       (0,), "changes its argument `trajectory` in place")


class _Module:                                  # PyTorch-style layers: super().__init__(...) first (refused before)
    def __init__(self):
        pass


class _Affine(_Module):
    def __init__(self, W, b):
        super().__init__()
        self.W = W
        self.b = b

    def __call__(self, x):
        return self.W @ x + self.b


class _Tanh(_Affine):
    def __init__(self, W, b, gain):
        super().__init__(W, b)
        self.gain = gain

    def __call__(self, x):
        return np.tanh(self.W @ x + self.b) * self.gain


def layers_made_with_super_init(W, x):
    first = _Tanh(W, x[:2] * 0.5, x[2])
    second = _Affine(W[:, :2], np.ones(2))
    return np.sum(second(first(x)) ** 2)


CASES["layers_made_with_super_init"] = (layers_made_with_super_init,
                                        (np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]]), np.array([0.7, -1.1, 0.4])),
                                        (0, 1))


class _Counted:
    def __init__(self):
        self.calls = 0


class _CountedAffine(_Counted):
    def __init__(self, W):
        super().__init__()
        self.W = W


def super_init_storing_more_than_parameters(W, x):   # the base stores a constant of its own: not a record
    layer = _CountedAffine(W)
    return np.sum(layer.W @ x)


REFUSED["super_init_storing_more_than_parameters"] = (super_init_storing_more_than_parameters,
                                                      (np.eye(2), np.array([0.5, 1.0])), (0,), "only stores")


def dict_item_made_a_list_then_appended(x):   # forward mode / second order crashed: the tangent of `d[k] = []` was
    d = {}                                     # 0.0, not a list
    for i in range(4):
        if i % 2 not in d:
            d[i % 2] = []
        d[i % 2].append(x[i] ** 2)
    return sum(sum(v) * (k + 1) for k, v in d.items())


CASES["dict_item_made_a_list_then_appended"] = (dict_item_made_a_list_then_appended, (np.arange(1.0, 5.0) * 0.3,),
                                                (0,))


def dict_setdefault(x):                        # d.setdefault(k, []).append(v): refused before (a change in place)
    groups, scale = {}, {}
    for i in range(5):
        groups.setdefault(i % 2, []).append(x[i] ** 2)
        scale[i % 3] = scale.setdefault(i % 3, 1.0) * x[i]
    return sum(sum(v) * (k + 1) for k, v in groups.items()) + scale[0] + scale[1] * scale[2]


CASES["dict_setdefault"] = (dict_setdefault, (np.arange(1.0, 6.0) * 0.3,), (0,))


@s2sad.checkpoint
def _block_changing_its_argument(h):
    h += np.sin(h)
    return h


def checkpoint_changing_its_argument(x):      # the backward sweep ran blk again from the changed argument: the
    return np.sum(_block_changing_its_argument(x * 1.0))   # gradient 1 + cos(x + sin x), not 1 + cos(x)


REFUSED["checkpoint_changing_its_argument"] = (checkpoint_changing_its_argument, (np.array([0.3, -0.7, 1.1]),), (0,),
                                               "checkpointed, changes its argument")

_TICKS = [0]


def _counted_scale(v):
    _TICKS[0] += 1
    return v * _TICKS[0]


@s2sad.checkpoint
def _counted_layer(v):
    return np.sin(_counted_scale(v))


def checkpoint_of_a_call_counter(x):          # run again in the backward sweep, the counter had moved on
    return np.sum(_counted_layer(x))


REFUSED["checkpoint_of_a_call_counter"] = (checkpoint_of_a_call_counter, (np.array([0.3, 0.7, 1.2]),), (0,),
                                           "checkpointed, changes an object of a module that it reads")

_RUNNING = np.zeros(3)


def module_array_updated_through_a_local_name(x):   # Python changes _RUNNING for the next call; s2sad computed
    r = _RUNNING                                     # r = r + x and left it as it was (the second call differed)
    r += x
    return np.sum(r ** 2)


REFUSED["module_array_updated_through_a_local_name"] = (module_array_updated_through_a_local_name,
                                                        (np.array([0.3, -0.7, 1.1]),), (0,), "changes in place `_RUNNING`")


def _roots_from(c):
    for k in range(4):
        yield np.sqrt(c - k)                   # k = 3 gives sqrt(-0.5): never reached by the loop below


def generator_walked_by_a_loop_that_stops_early(c):   # s2sad took every item first: a NaN gradient
    t = 0.0
    for v in _roots_from(c):
        if v < 1.0:
            break
        t = t + v
    return t


REFUSED["generator_walked_by_a_loop_that_stops_early"] = (generator_walked_by_a_loop_that_stops_early, (2.5,), (0,),
                                                          "may stop early")


def endless_iterator_zipped(x):               # itertools.count inside zip: s2sad listed it (MemoryError, a hang)
    t = 0.0
    for k, v in zip(itertools.count(1), x):
        t = t + k * v * v
    return t


REFUSED["endless_iterator_zipped"] = (endless_iterator_zipped, (np.array([0.3, 0.7, 1.2]),), (0,), "endless iterator")


def zero_dimensional_array_written(x):        # y[()] = v into a 0-d array: its adjoint, a number, was indexed
    y = np.zeros(())
    y[()] = x[0] ** 2
    z = x.copy()
    z[...] = x * 3.0
    return np.sum(y * 3.0) + np.sum(z ** 2)


CASES["zero_dimensional_array_written"] = (zero_dimensional_array_written, (np.array([0.5, 2.0]),), (0,))


class _WeightsParser:                          # Autograd's convnet example: a method named like a dict's
    def __init__(self):
        self.idxs_and_shapes, self.N = {}, 0

    def add_weights(self, name, shape):
        start = self.N
        self.N += int(np.prod(shape))
        self.idxs_and_shapes[name] = (slice(start, self.N), shape)

    def get(self, vect, name):
        idxs, shape = self.idxs_and_shapes[name]
        return np.reshape(vect[idxs], shape)


_PARSER = _WeightsParser()
_PARSER.add_weights("W", (3, 2))
_PARSER.add_weights("b", (2,))


def users_method_named_get(w):                 # refused before: `.get` taken for a dict's, "cannot tell which"
    W = _PARSER.get(w, "W")
    b = _PARSER.get(w, "b")
    return np.sum(np.tanh(np.ones(3) @ W + b) ** 2)


CASES["users_method_named_get"] = (users_method_named_get, (np.linspace(0.1, 0.8, 8),), (0,))


def lazy_walk_changed_through_another_name(x):   # M = L: the change through M was not seen (a wrong value)
    L = [x[0], x[1]]
    M = L
    t = 0.0
    for v in map(lambda u: u * u, L):
        M[1] = v
        t = t + v
    return t


REFUSED["lazy_walk_changed_through_another_name"] = (lazy_walk_changed_through_another_name, (np.array([0.3, 0.7]),),
                                                     (0,), "lazy iterator reading what `M` holds")


def lazy_walks_python_takes_first_or_does_not_change(x):   # refused before: list(map(...)) (s2sad's own hint), a
    L = [x[0], x[1], x[2]]                                 # lambda's own parameter, a rebound function, and
    t = 0.0                                                # enumerate(d.items()) writing the current key
    for v in list(map(lambda u: u * u, L)):
        L[2] = L[2] + v
        t = t + v
    for v in map(lambda t: t * 2.0, x):
        t = t + v
    f = np.sin
    for v in map(f, x):
        f = np.cos
        t = t + v
    d = {"a": x[0], "b": x[1]}
    for i, (k, v) in enumerate(d.items()):
        d[k] = v * (i + 1)
    return t + L[2] + d["a"] * d["b"]


CASES["lazy_walks_python_takes_first_or_does_not_change"] = (lazy_walks_python_takes_first_or_does_not_change,
                                                             (np.array([0.3, 0.7, 1.1]),), (0,))


def _bump_by(r, x):
    r += x
    return r


def module_array_updated_through_a_view_or_a_helper(x):   # BUF[:] / a helper changing the module's array: as
    r = _RUNNING[:]                                       # `r = BUF; r += x`, s2sad left it as it was
    r += x
    return np.sum(r)


def module_array_updated_through_a_view(x):
    r = _RUNNING[:]
    r += x
    return np.sum(r ** 2)


REFUSED["module_array_updated_through_a_view"] = (module_array_updated_through_a_view,
                                                  (np.array([0.3, -0.7, 1.1]),), (0,), "changes in place `_RUNNING`")


REFUSED["module_array_updated_through_a_view_or_a_helper"] = (module_array_updated_through_a_view_or_a_helper,
                                                              (np.array([0.3, -0.7, 1.1]),), (0,), "an object of the module")


def module_array_passed_to_a_helper_changing_it(x):
    return np.sum(_bump_by(_RUNNING, x) ** 2)


REFUSED["module_array_passed_to_a_helper_changing_it"] = (module_array_passed_to_a_helper_changing_it,
                                                          (np.array([0.3, -0.7, 1.1]),), (0,), "`_RUNNING` passed there")


@s2sad.checkpoint
def _block_extending_a_list_copy(ps, x):
    ps = list(ps)                              # a new list: appending to it changes nothing of the caller's
    ps.append(x)
    return sum(p * p for p in ps)


def checkpoint_extending_a_copy_of_its_list(x):     # refused after the checkpoint refusal: list(ps) was not new
    return _block_extending_a_list_copy([x[0], x[1]], x[2]) * x[0]


CASES["checkpoint_extending_a_copy_of_its_list"] = (checkpoint_extending_a_copy_of_its_list,
                                                    (np.array([0.3, 0.5, 0.7]),), (0,))


def zero_dimensional_array_updated_and_returned(x):   # value_and_grad gave the value before the update: the
    y = np.array(1.0)                                  # backward sweep put the item back into the returned array
    y[()] += x[0] * x[0]
    return y


CASES["zero_dimensional_array_updated_and_returned"] = (zero_dimensional_array_updated_and_returned,
                                                        (np.array([0.5, -0.3]),), (0,))


def list_item_rewritten_after_each_append(x):  # vjp's pullback and second order crashed: it wrote again, on its
    hist = []                                  # way out, into its own shortened copy of the list
    for i in range(2):
        hist.append(x[i])
        hist[-1] = hist[-1] * 2.0
    return hist[1] * hist[0] + hist[0]


CASES["list_item_rewritten_after_each_append"] = (list_item_rewritten_after_each_append, (np.array([0.5, -0.3]),), (0,))


def fz_abs_of_an_array_unpacked(x):            # fuzz seed 191920: builtin abs's array unpacked into names, its rule
    beta, a, w0 = abs(x * 2.0)                 # given the tuple of the names' adjoints (a TypeError)
    return beta * w0 + a


CASES["fz_abs_of_an_array_unpacked"] = (fz_abs_of_an_array_unpacked, (np.array([-0.4, 0.8, -1.3]),), (0,))


def _rollout(A, steps):
    X = np.ones((steps, 2))
    for t in range(1, steps):
        X[t] = A @ X[t - 1]
    return X


def helper_buffer_overwritten_by_the_caller(A):   # X[0] = 0.0 after the call: the helper's derivative code read the
    X = _rollout(A, 4)                            # overwritten row (nothing put it back before its pullback ran)
    X[0] = 0.0
    return np.sum(X)


FIRST_ORDER["helper_buffer_overwritten_by_the_caller"] = (helper_buffer_overwritten_by_the_caller,
                                                          (np.array([[0.6, 0.3], [-0.2, 0.8]]),), (0,))


def item_of_a_shallow_copy_changed_in_place(xs):   # L = xs.copy() holds xs's arrays: L[0] *= 2 changed xs[0] too,
    L = xs.copy()                                  # s2sad computed L[0] = L[0] * 2 (xs[0] read afterwards: wrong)
    L[0] *= 2.0
    return np.sum(xs[0] ** 2) + np.sum(L[1])


REFUSED["item_of_a_shallow_copy_changed_in_place"] = (item_of_a_shallow_copy_changed_in_place,
                                                      ([np.array([0.3, -0.8]), np.array([1.2, 0.1])],), (0,),
                                                      "would change `xs` too")


def numpy_function_returning_its_argument(x):  # np.float64 of a float64 array returns the array itself: z *= 3
    y = np.sin(x)                              # changed y too (a tenth of Python's value)
    z = np.float64(y)
    z *= 3.0
    return np.sum(y * z)


REFUSED["numpy_function_returning_its_argument"] = (numpy_function_returning_its_argument,
                                                    (np.array([0.3, -0.8, 1.2]),), (0,), "would change `y` too")


def module_namespace_read_as_a_dict(x):        # globals()["_RUNNING"]: a change s2sad could not see
    r = globals()["_RUNNING"]
    r += x
    return np.sum(r ** 2)


REFUSED["module_namespace_read_as_a_dict"] = (module_namespace_read_as_a_dict, (np.array([0.3, -0.7, 1.1]),), (0,),
                                              "reads a namespace as a dict")

_W_TABLE = np.array([0.32, 0.95, 0.89, 0.88])


def number_read_from_a_module_array_updated(x):   # fuzz seed 1, refused by this session's module-object check
    tmp, *ys, lam = _W_TABLE                        # before the check where the code runs: a number changes nothing
    lam += x[0]
    first = _W_TABLE[0]
    first *= x[1]
    return lam * x[1] + sum(ys) * first


CASES["number_read_from_a_module_array_updated"] = (number_read_from_a_module_array_updated,
                                                    (np.array([0.3, -0.7, 1.1]),), (0,))


class _ClassWeights:
    W = np.zeros(3)                             # a class attribute: every instance's self.W is this array

    def loss(self, x):
        w = self.W
        w += x                                  # Python changes the class's array; s2sad computed w = w + x
        return np.sum(self.W * x)


def class_array_updated_through_self(x):       # a zero gradient before (the check where the code runs looked at
    return _ClassWeights().loss(x)             # the instance's own attributes only)


REFUSED["class_array_updated_through_self"] = (class_array_updated_through_self, (np.array([0.3, -0.8, 1.2]),), (0,),
                                               "would change `self` too")


class _Buffers:
    @staticmethod
    def running():
        return _RUNNING


def module_array_from_a_static_method_updated(x):   # K.get() returning a module's array: as `r = BUF; r += x`
    r = _Buffers.running()
    r += x
    return np.sum(_RUNNING * x)


REFUSED["module_array_from_a_static_method_updated"] = (module_array_from_a_static_method_updated,
                                                        (np.array([0.3, -0.7, 1.1]),), (0,), "changes in place")


def argument_updated_before_a_module_view_is_bound(x, a):   # fuzz seed 786073: `a` is bound to W0[1:] only after
    k = 0                                                    # the loop; without renaming (optimize=False) the
    while k < 2:                                             # module-object check took the argument for W0's view
        k += 1
        a /= 1.5 + np.tanh(x)
    a = _W_TABLE[1:]
    return np.sum(a) * x + np.sum(_W_TABLE) * x


CASES["argument_updated_before_a_module_view_is_bound"] = (argument_updated_before_a_module_view_is_bound,
                                                           (0.3, np.array([1.0, 2.0])), (0,))
