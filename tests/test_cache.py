"""The cache of generated code is keyed by meaning, not by code object.

Generated code is reused only while every name its transform resolved (module globals, closure
cells, helper functions, builtins, the registered rules) still denotes the same object and the
source is the same (s2sad/pipeline.py: ``generate``, ``Checks``, ``Bound``; s2sad/api.py: ``_wrapper``).
Each test below would fail if the cache were keyed by the code object alone; every number is
checked against a hand-derived formula or central finite differences.

The functions differentiated live in tests/cache_modules/ (real source files); tests that rebind
their globals do it through ``monkeypatch``, so the modules are restored afterwards.
"""
import concurrent.futures
import importlib
import os
import sys
import textwrap
import threading
import time
import types
import warnings

import numpy as np
import pytest

import s2sad
from s2sad import pipeline
from s2sad.rules import registry
from s2sad.testing import numerical_grad

from .cache_modules import callees, callers, factories, primitives, rebinding, recursive, redefined

X = np.array([0.3, -1.2, 2.0])
V = np.array([1.0, -0.5, 2.0])
C = np.array([0.5, 1.5, -2.0])          # a captured array, shaped like X


def close(actual, expected, rtol=1e-10):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-12)


def close_numerically(actual, f, args, i=0):
    """``actual`` against central finite differences of ``f``."""
    np.testing.assert_allclose(actual, numerical_grad(f, args, i), rtol=1e-6, atol=1e-8)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts (and leaves) with nothing generated, whatever ran before."""
    pipeline.forget()
    yield
    pipeline.forget()


@pytest.fixture
def restore_rules():
    """Undo the rules a test registers (the registry's tables), and bump the registry version so that no
    code generated with them is reused by a later test."""
    tables = ("_VJP", "_JVP", "_ELEMENTWISE", "_VJP_NDIM", "_NONDIFF", "_METHODS", "_ATTRIBUTES")
    saved = {name: getattr(registry, name).copy() for name in tables}
    yield
    for name, content in saved.items():
        table = getattr(registry, name)
        table.clear()
        table.update(content)
    registry._changed()


# =================================================================================================
# 1. Closures made by one factory: one code object, different captured objects
# =================================================================================================
def _pairs():
    """name -> two closures of one factory, each with (closure, gradient formula, Hessian-times-v formula)."""
    return {
        "make_loss(square|cube)": [
            (factories.make_loss(factories.square), lambda x: 2 * x, lambda x, v: 2 * v),
            (factories.make_loss(factories.cube), lambda x: 3 * x * x, lambda x, v: 6 * x * v)],
        "make_loss(other module's cube|square)": [          # the captured callee is linked, not inlined
            (factories.make_loss(callees.cube), lambda x: 3 * x * x, lambda x, v: 6 * x * v),
            (factories.make_loss(callees.square), lambda x: 2 * x, lambda x, v: 2 * v)],
        "make_scaled(2.0|3.0)": [
            (factories.make_scaled(2.0), lambda x: 4.0 * x, lambda x, v: 4.0 * v),
            (factories.make_scaled(3.0), lambda x: 6.0 * x, lambda x, v: 6.0 * v)],
        "make_scaled(array|other array)": [
            (factories.make_scaled(C), lambda x: 2 * C * x, lambda x, v: 2 * C * v),
            (factories.make_scaled(-3.0 * C), lambda x: -6 * C * x, lambda x, v: -6 * C * v)],
    }


PAIRS = list(_pairs())
ORDERS = [pytest.param(False, id="first-then-second"), pytest.param(True, id="second-then-first")]


def _pair(name, reverse):
    pair = _pairs()[name]
    return pair[::-1] if reverse else pair


@pytest.mark.parametrize("reverse", ORDERS)
@pytest.mark.parametrize("name", PAIRS)
def test_grad_of_closures_from_one_factory(name, reverse):
    """grad of two closures of one factory gives each its own gradient, whichever is differentiated first,
    through new grad objects and through the same ones called alternately."""
    pair = _pair(name, reverse)
    for f, gradient, _ in pair:
        close(s2sad.grad(f)(X), gradient(X))
    grads = [s2sad.grad(f) for f, _, _ in pair]
    for _ in range(2):
        for g, (f, gradient, _) in zip(grads, pair):
            close(g(X), gradient(X))
    for f, _, _ in pair:                                   # at a number: other kinds, other generated code
        close_numerically(s2sad.grad(f)(0.7), f, (0.7,))
        value, gradient = s2sad.value_and_grad(f)(0.7)
        close(value, f(0.7))
        close_numerically(gradient, f, (0.7,))


@pytest.mark.parametrize("reverse", ORDERS)
@pytest.mark.parametrize("name", PAIRS)
def test_jvp_of_closures_from_one_factory(name, reverse):
    """jvp (forward mode) of two closures of one factory: each closure's own directional derivative."""
    pair = _pair(name, reverse)
    for _ in range(2):
        for f, gradient, _ in pair:
            value, tangent = s2sad.jvp(f, (X,), (V,))
            close(value, f(X))
            close(tangent, gradient(X) @ V)


@pytest.mark.parametrize("reverse", ORDERS)
@pytest.mark.parametrize("name", PAIRS)
def test_hvp_of_closures_from_one_factory(name, reverse):
    """hvp of two closures of one factory: each closure's own Hessian times v."""
    pair = _pair(name, reverse)
    for f, _, hessian_times in pair:
        close(s2sad.hvp(f)(X, V), hessian_times(X, V))


@pytest.mark.parametrize("reverse", ORDERS)
def test_second_derivative_of_closures_from_one_factory(reverse):
    """grad(grad(closure)) at a number: each closure's own second derivative."""
    for f, _, hessian_times in _pair("make_loss(square|cube)", reverse):
        close(s2sad.grad(s2sad.grad(f))(0.7), hessian_times(0.7, 1.0))


# =================================================================================================
# 2. Module globals rebound after a first derivative
# =================================================================================================
def test_rebound_global_function_gives_the_new_derivative(monkeypatch):
    """``act = np.tanh`` then ``act = np.sin``: grad (the same grad object and a new one), jvp and hvp
    differentiate the function the global now holds."""
    f = rebinding.uses_act
    g = s2sad.grad(f)
    t = np.tanh(X)
    close(g(X), 1 - t ** 2)
    close(s2sad.jvp(f, (X,), (V,))[1], (1 - t ** 2) @ V)
    close(s2sad.hvp(f)(X, V), -2 * t * (1 - t ** 2) * V)
    monkeypatch.setattr(rebinding, "act", np.sin)
    close(g(X), np.cos(X))
    close(s2sad.grad(f)(X), np.cos(X))
    close(g(0.7), np.cos(0.7))
    close(s2sad.jvp(f, (X,), (V,))[1], np.cos(X) @ V)
    close(s2sad.hvp(f)(X, V), -np.sin(X) * V)
    close_numerically(g(X), f, (X,))


def test_same_code_with_other_globals_gets_its_own_derivative():
    """A function built from the same code object over other globals (as exec of one file in two
    namespaces makes) is differentiated with its own globals."""
    f = rebinding.uses_act
    twin = types.FunctionType(f.__code__, dict(vars(rebinding), act=np.sin), "uses_act")
    for _ in range(2):
        close(s2sad.grad(f)(X), 1 - np.tanh(X) ** 2)
        close(s2sad.grad(twin)(X), np.cos(X))
    close_numerically(s2sad.grad(twin)(X), twin, (X,))


def test_rebound_global_array_gives_the_new_derivative(monkeypatch):
    """A global constant array rebound to another array, then to a number (another kind): the next
    call of the same grad object, and a new one, use it."""
    f = rebinding.weighted
    g = s2sad.grad(f)
    w = rebinding.WEIGHTS
    close(g(0.7), np.sum(w * np.cos(w * 0.7)))
    close(g(X), w * np.cos(w * X))
    other = np.array([-1.0, 0.5, 4.0])
    monkeypatch.setattr(rebinding, "WEIGHTS", other)
    close(g(0.7), np.sum(other * np.cos(other * 0.7)))
    close(g(X), other * np.cos(other * X))
    close(s2sad.grad(f)(X), other * np.cos(other * X))
    monkeypatch.setattr(rebinding, "WEIGHTS", 2.5)
    close(g(0.7), 2.5 * np.cos(2.5 * 0.7))
    close(g(X), 2.5 * np.cos(2.5 * X))
    close_numerically(g(X), f, (X,))
    close_numerically(s2sad.grad(f)(0.7), f, (0.7,))


def quartic(v):
    return v * v * v * v


@pytest.mark.parametrize("replacement, derivative", [
    pytest.param(rebinding.helper_cubed, lambda x: 3 * x * x, id="def of the same module (inlined)"),
    pytest.param(quartic, lambda x: 4 * x ** 3, id="def of another module (linked)")])
def test_replaced_global_helper_gives_the_new_derivative(monkeypatch, replacement, derivative):
    """A helper function the differentiated function calls, replaced by another def: the next call of
    the same grad object, and a new one, follow."""
    f = rebinding.uses_helper
    g = s2sad.grad(f)
    close(g(X), 2 * X + 1)
    close(g(0.7), 2 * 0.7 + 1)
    monkeypatch.setattr(rebinding, "helper", replacement)
    close(g(X), derivative(X) + 1)
    close(g(0.7), derivative(0.7) + 1)
    close(s2sad.grad(f)(X), derivative(X) + 1)
    close(s2sad.jvp(f, (X,), (V,))[1], (derivative(X) + 1) @ V)
    close_numerically(g(X), f, (X,))


# =================================================================================================
# 3. Modules edited on disk and reloaded; a name defined twice
# =================================================================================================
class DiskModule:
    """A module written into a temporary directory on sys.path, imported, rewritten and reloaded."""

    def __init__(self, directory, name):
        self.path = directory / f"{name}.py"
        self.name = name

    def write(self, text):
        previous = self.path.stat().st_mtime_ns if self.path.exists() else None
        self.path.write_text(textwrap.dedent(text))
        if previous is not None:                    # a later mtime, whatever the clock's resolution
            later = previous + 10 ** 10
            os.utime(self.path, ns=(later, later))
        importlib.invalidate_caches()

    def load(self):
        module = sys.modules.get(self.name)
        return importlib.reload(module) if module is not None else importlib.import_module(self.name)


@pytest.fixture
def disk_module(tmp_path, monkeypatch, request):
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"s2sad_cache_{request.node.name.split('[')[0]}"
    yield DiskModule(tmp_path, name)
    sys.modules.pop(name, None)


def test_module_edited_on_disk_and_reloaded_gets_the_new_derivative(disk_module):
    """A module rewritten (same function name, other body, other line numbers) and reloaded: grad and
    jvp of the reloaded function are its new derivative; the old function object keeps its own."""
    disk_module.write("""
        import numpy as np


        def f(x):
            return np.sum(np.sin(x))
        """)
    module = disk_module.load()
    old_f = module.f
    close(s2sad.grad(module.f)(X), np.cos(X))
    close(s2sad.grad(module.f)(0.7), np.cos(0.7))
    disk_module.write("""
        import numpy as np

        SCALE = 2.0



        def f(x):
            return np.sum(np.exp(x) * SCALE)
        """)
    assert disk_module.load() is module and module.f is not old_f
    close(s2sad.grad(module.f)(X), 2.0 * np.exp(X))
    close(s2sad.grad(module.f)(0.7), 2.0 * np.exp(0.7))
    close(s2sad.jvp(module.f, (X,), (V,))[1], 2.0 * np.exp(X) @ V)
    close_numerically(s2sad.grad(module.f)(X), module.f, (X,))
    close(s2sad.grad(old_f)(X), np.cos(X))          # the old object still computes sum(sin(x))
    close_numerically(s2sad.grad(old_f)(X), old_f, (X,))


def _edited_after_import(disk_module, returned):
    """A module whose ``f`` returned ``np.sum(x * x)`` when imported, its file now returning ``returned``."""
    disk_module.write("""
        import numpy as np


        def f(x):
            return np.sum(x * x)
        """)
    module = disk_module.load()
    disk_module.write(f"""
        import numpy as np


        def f(x):
            return {returned}
        """)
    return module


def test_function_whose_file_was_edited_before_its_first_derivative_is_refused(disk_module):
    """The file changed after the import and s2sad never read the old text: the new text is not what the
    function computes (an operator changed on the same line), so s2sad refuses instead of guessing."""
    module = _edited_after_import(disk_module, "np.sum(x + x)")
    with pytest.raises(s2sad.SourceUnavailableError, match="changed since the function was defined"):
        s2sad.grad(module.f)(X)
    disk_module.load()                                        # reloaded: the new function is differentiated
    close(s2sad.grad(module.f)(X), 2.0 * np.ones_like(X))


def test_old_function_after_reload_is_differentiated_from_its_own_source(disk_module):
    """A grad object made before a reload keeps differentiating the function it was made of: the old
    function (old body) calling the global ``helper`` that the reload rebound."""
    disk_module.write("""
        import numpy as np


        def helper(v):
            return v * v


        def f(x):
            return np.sum(helper(x))
        """)
    module = disk_module.load()
    old_f = module.f
    g_old = s2sad.grad(old_f)
    close(g_old(X), 2 * X)
    disk_module.write("""
        import numpy as np


        def helper(v):
            return v * v * v


        def f(x):
            return np.sum(helper(x)) * 2.0
        """)
    disk_module.load()
    close(s2sad.grad(module.f)(X), 6 * X * X)                # the new function: fine
    close(old_f(X), np.sum(X ** 3))                          # the old body, calling the new helper
    close(g_old(X), 3 * X * X)


@pytest.mark.parametrize("first", ["first_target", "target"])
def test_name_defined_twice_in_one_module(first):
    """``def target`` twice in one file (the first kept as ``first_target``): each object gets the
    derivative of its own body, whichever is differentiated first."""
    expected = {"first_target": np.cos(X), "target": -3.0 * np.sin(X)}
    order = [first] + [n for n in expected if n != first]
    for _ in range(2):
        for name in order:
            close(s2sad.grad(getattr(redefined, name))(X), expected[name])
    assert redefined.first_target.__name__ == redefined.target.__name__ == "target"


# =================================================================================================
# 4. Helpers that are called, not inlined (recursive, or of another module), rebound
# =================================================================================================
def test_rebound_recursive_helper_gives_the_new_derivative(monkeypatch):
    """``uses_power`` calls the recursive ``power(x, 3)``; rebinding ``power`` to ``double_power``
    (8 x**3) changes the derivative of the same grad object and of a new one."""
    f = recursive.uses_power
    g = s2sad.grad(f)
    close(g(X), 3 * X ** 2)
    close(g(0.7), 3 * 0.7 ** 2)
    monkeypatch.setattr(recursive, "power", recursive.double_power)
    close(g(X), 24 * X ** 2)
    close(g(0.7), 24 * 0.7 ** 2)
    close(s2sad.grad(f)(X), 24 * X ** 2)
    close(s2sad.jvp(f, (X,), (V,))[1], 24 * X ** 2 @ V)
    close_numerically(g(X), f, (X,))


def test_rebound_imported_helper_of_another_module_gives_the_new_derivative(monkeypatch):
    """``from .callees import cube as imported_cube``; rebinding that global of the caller's module to
    ``callees.square`` changes the derivative."""
    f = callers.via_name
    g = s2sad.grad(f)
    close(g(X), 3 * X ** 2)
    monkeypatch.setattr(callers, "imported_cube", callees.square)
    close(g(X), 2 * X)
    close(s2sad.grad(f)(X), 2 * X)
    close_numerically(g(X), f, (X,))


def test_rebound_helper_called_as_a_module_attribute_gives_the_new_derivative(monkeypatch):
    """``callees.cube(x)``: rebinding the module attribute to ``callees.square`` changes what the caller
    computes, so its derivative."""
    f = callers.via_attribute
    g = s2sad.grad(f)
    close(g(X), 3 * X ** 2)
    monkeypatch.setattr(callees, "cube", callees.square)
    close_numerically(s2sad.grad(f)(X), f, (X,))
    close(g(X), 2 * X)


def test_rebound_primitive_called_as_a_module_attribute_gives_the_new_derivative(monkeypatch):
    """``callees.act(x)`` with ``callees.act`` rebound from np.tanh to np.sin: the derivative follows."""
    f = callers.via_attribute_primitive
    close(s2sad.grad(f)(X), 1 - np.tanh(X) ** 2)
    monkeypatch.setattr(callees, "act", np.sin)
    close_numerically(s2sad.grad(f)(X), f, (X,))
    close(s2sad.grad(f)(X), np.cos(X))


# =================================================================================================
# 5. Rules registered after a first derivative (the registry version is in the key)
# =================================================================================================
def test_reverse_rule_registered_after_a_first_call_is_used(restore_rules):
    """``uses_prim(x) = sum(2 my_prim(x))``: differentiated from my_prim's source (2 cos x) until a rule
    is registered for my_prim, then with the rule (the same grad object and a new one), then with the
    rule that replaces it."""
    f = primitives.uses_prim
    g = s2sad.grad(f)
    close(g(X), 2 * np.cos(X))
    close(g(0.7), 2 * np.cos(0.7))

    @s2sad.rules.vjp(primitives.my_prim)
    def my_prim_vjp(g, ans, x):               # not sin's derivative on purpose: the rule is what counts
        return g * 3.0 * x * x

    close(g(X), 6 * X ** 2)
    close(g(0.7), 6 * 0.7 ** 2)
    close(s2sad.grad(f)(X), 6 * X ** 2)

    @s2sad.rules.vjp(primitives.my_prim)
    def my_prim_vjp_again(g, ans, x):
        return g * (ans + 1.0)

    close(g(X), 2 * (np.sin(X) + 1.0))
    close(s2sad.value_and_grad(f)(X)[1], 2 * (np.sin(X) + 1.0))


def test_forward_rule_registered_after_a_first_call_is_used(restore_rules):
    """jvp of ``uses_prim`` follows a forward rule registered for my_prim after a first jvp."""
    f = primitives.uses_prim
    close(s2sad.jvp(f, (X,), (V,))[1], 2 * np.cos(X) @ V)

    @s2sad.rules.jvp(primitives.my_prim)
    def my_prim_jvp(g, ans, x):
        return g * 3.0 * x * x

    value, tangent = s2sad.jvp(f, (X,), (V,))
    close(value, f(X))
    close(tangent, 6 * X ** 2 @ V)


def test_primitive_declared_nondifferentiable_after_a_first_call(restore_rules):
    """``rules.nondiff(my_prim)`` after a first gradient: my_prim then contributes no derivative."""
    f = primitives.uses_prim
    g = s2sad.grad(f)
    close(g(X), 2 * np.cos(X))
    s2sad.rules.nondiff(primitives.my_prim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", s2sad.ZeroGradientWarning)
        close(g(X), np.zeros(3))
        close(s2sad.grad(f)(X), np.zeros(3))


def test_a_rule_reading_a_global_of_its_module_follows_the_global(restore_rules, monkeypatch):
    """The generated code binds the objects a user's rule reads: rebinding ``SCALE`` after a first gradient
    gave the old derivative, even to a new grad object (found by a probe). Each is checked on every call."""
    s2sad.rules.vjp(primitives.scaled)(primitives.scaled_vjp)
    s2sad.rules.jvp(primitives.scaled)(primitives.scaled_jvp)
    f, g = primitives.uses_scaled, s2sad.grad(primitives.uses_scaled)
    for scale in (2.0, 5.0):
        monkeypatch.setattr(primitives, "SCALE", scale)
        want = scale * (np.cos(X) * X + np.sin(X))
        close(g(X), want)
        close(s2sad.grad(f)(X), want)
        close(s2sad.grad(f, optimize=False)(X), want)
        close(s2sad.jvp(f, (X,), (V,))[1], want @ V)


# =================================================================================================
# 6. A builtin shadowed later by a module global
# =================================================================================================
def test_builtin_shadowed_later_by_a_module_global(monkeypatch):
    """``uses_abs`` calls the builtin ``abs``; once the module defines its own ``abs`` (a def squaring
    its argument) the same grad object and a new one differentiate that; deleting it brings the
    builtin back."""
    f = rebinding.uses_abs
    g = s2sad.grad(f)
    close(g(X), 3 * np.sign(X))
    monkeypatch.setattr(rebinding, "abs", rebinding.square_for_abs, raising=False)
    close(g(X), 6 * X)
    close(s2sad.grad(f)(X), 6 * X)
    close_numerically(g(X), f, (X,))
    monkeypatch.delattr(rebinding, "abs")
    close(g(X), 3 * np.sign(X))
    close_numerically(g(X), f, (X,))


def test_builtin_shadowed_later_by_a_module_level_lambda(monkeypatch):
    """As above, with the shadowing ``abs`` a lambda bound at module level."""
    f = rebinding.uses_abs
    g = s2sad.grad(f)
    close(g(X), 3 * np.sign(X))
    monkeypatch.setattr(rebinding, "abs", rebinding.lambda_square, raising=False)
    close(g(X), 6 * X)


# =================================================================================================
# 7. Reuse: nothing changed, nothing transformed again
# =================================================================================================
def counted(x):
    return np.sum(np.sin(x) * x)


def counted_gradient(x):
    return np.sin(x) + x * np.cos(x)


def test_same_argument_kinds_reuse_the_generated_code():
    """A second call with arguments of the same kinds neither transforms nor compiles again; a float and
    then an array transform once per kind; a new grad object reuses both."""
    start, compiles = pipeline.stats["transforms"], pipeline.stats["compiles"]
    g = s2sad.grad(counted)
    close(g(0.7), counted_gradient(0.7))
    assert pipeline.stats["transforms"] == start + 1
    close(g(1.3), counted_gradient(1.3))
    assert pipeline.stats["transforms"] == start + 1
    close(g(X), counted_gradient(X))
    assert pipeline.stats["transforms"] == start + 2
    close(g(2 * X), counted_gradient(2 * X))
    close(g(X[:2]), counted_gradient(X[:2]))                 # another shape, the same kind (a 1-d array)
    close(g(-0.2), counted_gradient(-0.2))
    close(s2sad.grad(counted)(X), counted_gradient(X))
    close(s2sad.grad(counted)(0.4), counted_gradient(0.4))
    assert pipeline.stats["transforms"] == start + 2
    assert pipeline.stats["compiles"] == compiles + 2


def test_closures_of_one_factory_reuse_their_code_through_their_grad_objects():
    """Two closures of one factory, called alternately through their grad objects, are transformed
    once each."""
    square_loss, cube_loss = factories.make_loss(factories.square), factories.make_loss(factories.cube)
    g_square, g_cube = s2sad.grad(square_loss), s2sad.grad(cube_loss)
    start = pipeline.stats["transforms"]
    for _ in range(3):
        close(g_square(X), 2 * X)
        close(g_cube(X), 3 * X ** 2)
    assert pipeline.stats["transforms"] == start + 2


def test_rebinding_a_global_transforms_once_more_then_reuses(monkeypatch):
    """After a global is rebound the next call transforms once; later calls reuse that."""
    g = s2sad.grad(rebinding.uses_act)
    close(g(X), 1 - np.tanh(X) ** 2)
    monkeypatch.setattr(rebinding, "act", np.sin)
    start = pipeline.stats["transforms"]
    for _ in range(3):
        close(g(X), np.cos(X))
        close(s2sad.grad(rebinding.uses_act)(X), np.cos(X))
    assert pipeline.stats["transforms"] == start + 1


def test_closures_of_one_factory_alternated_through_jvp_are_transformed_once_each():
    """jvp of two closures of one factory, called alternately: each is transformed once."""
    square_loss, cube_loss = factories.make_loss(factories.square), factories.make_loss(factories.cube)
    start = pipeline.stats["transforms"]
    for _ in range(3):
        close(s2sad.jvp(square_loss, (X,), (V,))[1], 2 * X @ V)
        close(s2sad.jvp(cube_loss, (X,), (V,))[1], 3 * X ** 2 @ V)
    assert pipeline.stats["transforms"] == start + 2


# =================================================================================================
# 8. Threads
# =================================================================================================
def _race(cases, calls_per_thread, rounds, forget_while_running):
    """8 threads, released together by a barrier, each calling grad of ``cases`` ((function, argument,
    expected)) in its own order, through new grad objects and shared ones; with ``forget_while_running``
    another thread calls pipeline.forget() all along. Returns the failures (wrong value or exception)."""
    failures = []
    for _ in range(rounds):
        pipeline.forget()
        barrier = threading.Barrier(9, timeout=60)
        done = threading.Event()
        shared = [s2sad.grad(f) for f, _, _ in cases]

        def worker(t):
            barrier.wait()
            out = []
            for i in range(calls_per_thread):
                k = (3 * t + i) % len(cases)
                f, arg, expected = cases[k]
                g = shared[k] if (t + i) % 2 else s2sad.grad(f)
                try:
                    value = g(arg)
                except Exception as exc:              # noqa: BLE001  (reported by the test)
                    out.append(f"thread {t} call {i} {f.__qualname__}: {exc!r}")
                    continue
                if not np.allclose(value, expected, rtol=1e-10, atol=1e-12):
                    out.append(f"thread {t} call {i} {f.__qualname__}: {value!r} instead of {expected!r}")
            return out

        def forgetter():
            barrier.wait()
            while forget_while_running and not done.is_set():
                pipeline.forget()
                time.sleep(0.005)

        with concurrent.futures.ThreadPoolExecutor(max_workers=9) as pool:
            forgetting = pool.submit(forgetter)
            workers = [pool.submit(worker, t) for t in range(8)]
            try:
                for w in workers:
                    failures.extend(w.result(timeout=120))
            finally:
                done.set()
            forgetting.result(timeout=60)
        if failures:
            break
    return failures


def _cases(closures):
    """(function, argument, expected gradient) for each closure and argument kind, computed by hand."""
    return [(f, arg, gradient(arg)) for f, gradient in closures for arg in (0.7, X)]


def test_threads_get_the_single_threaded_gradients_while_the_cache_is_forgotten():
    """8 threads differentiating closures of different factories at numbers and arrays, while another
    thread keeps calling pipeline.forget(): every result equals the single-threaded one, no exception."""
    cases = _cases([(factories.make_loss(factories.square), lambda x: 2 * x),
                    (factories.make_loss(factories.cube), lambda x: 3 * x * x),
                    (factories.make_scaled(2.0), lambda x: 4.0 * x),
                    (factories.make_scaled(3.0), lambda x: 6.0 * x),
                    (rebinding.uses_act, lambda x: 1 - np.tanh(x) ** 2)])
    for f, arg, expected in cases:                         # the witness agrees with one thread
        close(s2sad.grad(f)(arg), expected)
    assert _race(cases, calls_per_thread=30, rounds=2, forget_while_running=True) == []


def test_threads_get_the_single_threaded_gradients_of_functions_calling_linked_helpers():
    """As above, for functions whose generated code calls the generated code of a helper (a recursive
    helper; a helper of another module captured by a closure), without forget() running."""
    cases = _cases([(recursive.uses_power, lambda x: 3 * x * x),
                    (factories.make_loss(callees.cube), lambda x: 3 * x * x),
                    (factories.make_loss(callees.square), lambda x: 2 * x),
                    (callers.via_name, lambda x: 3 * x * x)])
    for f, arg, expected in cases:
        close(s2sad.grad(f)(arg), expected)
    assert _race(cases, calls_per_thread=12, rounds=10, forget_while_running=False) == []


def test_closure_cell_empty_at_the_first_call_then_filled():
    """A helper the closure binds only after the first derivative call: the cached code checked an empty
    cell (the slow path of the compiled checks), and is made again once the cell holds the helper."""
    def make():
        def f(x):
            if x > 100.0:
                return helper(x)
            return x * x
        g = s2sad.grad(f)
        first = g(3.0)

        def helper(v):
            return 3.0 * v
        return first, g(3.0), g(200.0)
    assert make() == (6.0, 6.0, 3.0)


def test_replaced_defaults_give_the_new_derivative(monkeypatch):
    """A function's defaults replaced after a first derivative (its own, a keyword-only one, an inlined callee's
    filled in at the call, a loop count): the next derivative uses the new ones, as the function does (the cached
    code kept the old ones)."""
    from .cache_modules import defaults as m
    firsts = [s2sad.grad(f)(1.0) for f in (m.scaled, m.scaled_by_keyword, m.calls_scaled, m.loops)]
    assert firsts == [6.0, 6.0, 6.0, 12.0]
    monkeypatch.setattr(m.scaled, "__defaults__", (7.0,))
    monkeypatch.setattr(m.scaled_by_keyword, "__kwdefaults__", {"c": 7.0})
    monkeypatch.setattr(m.loops, "__defaults__", (4,))
    for f, want in ((m.scaled, 14.0), (m.scaled_by_keyword, 14.0), (m.calls_scaled, 14.0), (m.loops, 20.0)):
        assert s2sad.grad(f)(1.0) == want, f.__name__
        assert s2sad.value_and_grad(f)(1.0) == (f(1.0), want), f.__name__
        assert s2sad.jvp(f, (1.0,), (1.0,))[1] == want, f.__name__


def test_code_replaced_in_place_gives_the_new_derivative(monkeypatch):
    """IPython's autoreload assigns an edited function's ``__code__``: a derivative made before (of the function,
    or of one calling it) is made again, as the function computes something else now."""
    from .cache_modules import reloaded as m
    x = np.array([1.0, 2.0])
    g_top, g_cubed = s2sad.grad(m.top), s2sad.grad(m.cubed)
    assert np.array_equal(g_top(x), 2 * x + 1) and g_cubed(2.0) == 12.0

    def helper(v):
        return v * v * v

    def cubed(x):
        return x ** 4
    monkeypatch.setattr(m.helper, "__code__", helper.__code__)
    monkeypatch.setattr(m.cubed, "__code__", cubed.__code__)
    assert np.array_equal(g_top(x), 3 * x ** 2 + 1) and np.array_equal(s2sad.grad(m.top)(x), 3 * x ** 2 + 1)
    assert g_cubed(2.0) == 32.0 and s2sad.jvp(m.cubed, (2.0,), (1.0,))[1] == 32.0


def test_a_decorator_that_changes_the_result_is_differentiated():
    """A ``functools.wraps`` wrapper is the user's code, differentiated itself (s2sad once followed
    ``__wrapped__`` past it: half the derivative of a doubled result), through ``*args`` refused; one returning
    the result unchanged (a timing or logging decorator, ``np.errstate``) and ``functools.cache`` are seen
    through."""
    from .cache_modules import wrapped as m
    x = np.array([0.5, 2.0])
    for f in (m.doubled_square, m.calls_doubled_square):
        value, g = s2sad.value_and_grad(f)(x)
        assert value == f(x) and np.array_equal(g, 4 * x)
        assert s2sad.jvp(f, (x,), (np.ones(2),))[1] == 10.0
    for f in (m.scaled_square, m.square_of_double):    # the result, or the arguments passed on, changed
        with pytest.raises(s2sad.S2SadError, match="wrapper"):
            s2sad.grad(f)(x)
    for f in (m.logged_square, m.quiet_square):       # returning the result unchanged: seen through
        np.testing.assert_array_equal(s2sad.grad(f)(x), 2 * x)
    assert s2sad.grad(m.cached_square)(1.5) == 3.0 and s2sad.grad(m.calls_cached_square)(1.5) == 9.0


def test_function_whose_file_no_longer_parses_is_refused(disk_module):
    """An edit that leaves a parenthesis open: inspect's tokenize.TokenError became s2sad's clear refusal."""
    module = _edited_after_import(disk_module, "np.sum(x * x  # edited")
    with pytest.raises(s2sad.SourceUnavailableError, match="no longer reads as Python"):
        s2sad.grad(module.f)(X)


class _Held:
    def __init__(self, k):
        self.k = k

    def value(self, x):
        return self.k * np.sin(x)


HELD = _Held(2.0).value


def _uses_held(x):
    return np.sum(HELD(x))


def test_a_bound_method_held_by_a_global_follows_the_global_and_its_object(monkeypatch):
    g = s2sad.grad(_uses_held)
    close(g(X), 2.0 * np.cos(X))
    HELD.__self__.k = 3.0                                        # the object's field, read where the code runs
    close(g(X), 3.0 * np.cos(X))
    monkeypatch.setitem(globals(), "HELD", _Held(-1.0).value)   # the global rebound: a new derivative
    close(g(X), -1.0 * np.cos(X))
