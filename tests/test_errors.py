"""Every error s2sad raises on purpose, one test per path.

Each refusal is checked for: its class (always under ``s2sad.S2SadError``), the
user's file (this file) and the line of the offending construct (found by
searching the function's source, so the tests survive lines moving), the
construct's source text, and the hint where there is one. Refusals happen at
transform time: ``s2sad.adjoint_source`` (which never runs the function) raises
the same error as the first call of ``grad`` (for a refusal inside a called user
function, the callee's ``adjoint_source`` does: callees are linked lazily).

Tests marked ``xfail(strict=True)`` describe the behaviour that should happen
and does not yet (wrong file or line, missing hint, or a silently wrong gradient).

Loops, ``break``/``continue`` and early ``return`` are supported: their tests
check the gradient (against finite differences and a hand-derived value).
"""
import functools
import math
import inspect
import os
import sys

import gast
import numpy as np
import scipy.special
import pytest

import s2sad
from s2sad.front import fence
from s2sad.testing import check_grads

W = np.array([1.0, 2.0, 3.0])
C = np.array([0.5, -1.0, 2.0])
G = 1.0


def x3():
    return np.array([3.0, 1.0, 2.0])


# --- helpers ---------------------------------------------------------------------------------
def line_of(fn, text):
    """The file line of the only line of ``fn``'s source that contains ``text``."""
    lines, first = inspect.getsourcelines(fn)
    hits = [i for i, line in enumerate(lines) if text in line]
    assert len(hits) == 1, f"{text!r} must occur on exactly one line of {fn.__name__}"
    return first + hits[0]


def check_located(err, fn, at, construct=None, hint=None, reason=None):
    """``err`` names this file, the line of ``at`` in ``fn``, the construct and the hint."""
    assert isinstance(err, s2sad.S2SadError)
    assert isinstance(err, s2sad.TransformError)
    message = str(err)
    line = line_of(fn, at)
    assert err.filename is not None and os.path.samefile(err.filename, __file__), message
    assert err.lineno == line, f"expected line {line}: {message}"
    assert message.startswith(f"{err.filename}:{line}: "), message
    construct = construct or at
    assert err.construct is not None and construct in err.construct, message
    assert f"`{err.construct}`" in message
    if reason is not None:
        assert reason in message, message
    if hint is not None:
        assert err.hint is not None and hint in err.hint, message
        assert f"\n  hint: {err.hint}" in message
    return message


def refused(fn, cls, at, *args, construct=None, hint=None, reason=None, wrt=None):
    """``fn`` is refused with ``cls`` at transform time, and again (same message) by ``grad``."""
    with pytest.raises(cls) as info:
        s2sad.adjoint_source(fn, wrt)               # transforms only: fn never runs
    err = info.value
    message = check_located(err, fn, at, construct, hint, reason)
    if not args:
        args = (x3(),)
    with pytest.raises(cls) as again:
        s2sad.grad(fn, wrt)(*args)
    assert str(again.value) == message
    return err


def refused_or_right(fn, at, x, expected_value, expected_grad, reason=None, hint=None):
    """Never a silently wrong gradient: either refused at ``at`` (with ``reason`` and ``hint``), or value and
    gradient are right."""
    try:
        value, g = s2sad.value_and_grad(fn)(x.copy())
    except s2sad.TransformError as err:
        check_located(err, fn, at, reason=reason, hint=hint)
        return
    np.testing.assert_allclose(value, expected_value)
    np.testing.assert_allclose(g, expected_grad)


# =============================================================================================
# Source unavailable
# =============================================================================================
def test_function_from_exec():
    namespace = {}
    exec("def from_exec(x):\n    return x * x\n", namespace)
    with pytest.raises(s2sad.SourceUnavailableError) as info:
        s2sad.grad(namespace["from_exec"])(1.5)
    err = info.value
    assert isinstance(err, s2sad.S2SadError)
    message = str(err)
    assert "'from_exec'" in message and "<string>" in message
    assert "exec()" in message and ".py file" in message


@pytest.mark.parametrize("fn, name", [(math.radians, "'radians'"), (np.spacing, "'spacing'"),
                                      (functools.partial(np.spacing), "'spacing'")],
                         ids=["builtin", "ufunc", "partial"])
def test_not_a_python_function(fn, name):
    """Neither source nor a rule (functions with rules are differentiated: tests/test_targets.py)."""
    with pytest.raises(s2sad.SourceUnavailableError) as info:
        s2sad.grad(fn)(x3())
    err = info.value
    assert isinstance(err, s2sad.S2SadError)
    message = str(err)
    assert name in message and "not a Python function" in message
    assert "`@s2sad.rules.vjp`" in message


module_lambda = lambda x: x * x  # noqa: E731


def make_lambda():
    return lambda x: x * 3.0


if False:
    pass
elif (lambda_in_elif := lambda x: x * 2):        # inspect returns a line that does not parse alone
    pass

two_on_a_line = (lambda x: x * x, lambda x: x * x * x)   # noqa: E731


@pytest.mark.parametrize("fn, want", [(module_lambda, 3.0), (make_lambda(), 3.0), (lambda_in_elif, 2.0),
                                      (two_on_a_line[0], 3.0), (two_on_a_line[1], 6.75)],
                         ids=["module level", "made in a function", "in an elif", "first of two", "second of two"])
def test_lambdas_are_differentiated_where_they_are_written(fn, want):
    """A lambda is read from its file (the one whose code is the function's, among those on its line)."""
    assert s2sad.grad(fn)(1.5) == pytest.approx(want, rel=1e-12)
    assert s2sad.jvp(fn, (1.5,), (1.0,))[1] == pytest.approx(want, rel=1e-12)


def test_generated_code_of_a_lambda_is_named_after_its_variable():
    assert s2sad.adjoint_source(module_lambda).startswith("def module_lambda_value_and_grad(x):")


async def async_fn(x):
    return x


def test_async_function():
    err = refused(async_fn, s2sad.UnsupportedSyntaxError, "async def async_fn(x):", construct="async def async_fn",
                  reason="async functions cannot be differentiated", hint="differentiate a plain `def` function")
    assert "lambda" not in str(err)


# =============================================================================================
# Syntax refused by the fence (s2sad/front/fence.py)
# =============================================================================================
def f_try(x):
    try:
        y = x * 2
    except ValueError:
        y = x
    return y


def f_with(x):
    with open(os.devnull) as fh:
        y = x
    return y


def f_global(x):
    global G
    return x * G


def _make_nonlocal():
    z = 1.0

    def f_nonlocal(x):
        nonlocal z
        return x * z
    return f_nonlocal


f_nonlocal = _make_nonlocal()


def f_del(x):
    y = x * 2
    del y
    return x


def f_import(x):
    if x > 0:
        import math
    return math.sin(x)


def f_import_from(x):
    sin = np.sin
    from math import sin
    return sin(x)


def f_class(x):
    class A:
        pass
    return x


def f_nested_def(x):
    def h(t):
        return t
    return x


def f_nested_async_def(x):
    async def h():
        pass
    return x


def f_lambda(x):
    h = lambda t: t * 2  # noqa: E731
    return x


def f_listcomp(x):
    y = np.sum([x * i for i in range(3)])
    return y


def f_setcomp(x):
    y = {i for i in range(3)}
    return x


def f_dictcomp(x):
    y = {i: i for i in range(3)}
    return x


def f_genexp(x):
    y = sum(x * i for i in range(3))
    return y


def f_yield(x):
    yield x
    return x


def f_yield_from(x):
    yield from x
    return x


def f_walrus(x):
    y = (z := x * 2) + 1
    return y


def f_starred_call(x):
    y = np.add(*(x, x))
    return np.sum(y)


def f_starred_target(x):
    a, *b = (x, x, 2.0)
    return a * b[0] + b[1]


_SUM_OPTIONS = {"axis": 0}


def f_kwargs_call(x):
    y = np.sum(x, **_SUM_OPTIONS)
    return y


def f_dict(x):
    d = {"a": x}
    return np.sum(x)


def f_set(x):
    s = {1.0, 2.0}
    return np.sum(x)


def f_match(x):
    match x:
        case 1.5:
            y = x
        case _:
            y = 2 * x
    return y


def f_varargs(x, *rest):
    return x


def f_varkw(x, **kw):
    return x


def f_no_return(x):
    y = x * 2


def f_bare_return(x):
    y = x * 2
    return


def f_ends_in_call(x):
    y = x * 2
    print(y)


def f_assign_attribute(x):
    y = x * 1
    y.foo = 1
    return np.sum(y)


def f_augassign_attribute(x):
    y = x * 1
    y.a += 1
    return np.sum(y)


# (function, text on the offending line, construct, start of the reason, hint or None)
SYNTAX = [
    (f_try, "try:", None, "try/except cannot be differentiated", "move the try/except outside"),
    (f_with, "with open(os.devnull) as fh:", None, "`with` blocks cannot be differentiated", "move the `with` block"),
    (f_global, "global G", None, "`global` statements", "pass the value as an argument"),
    (f_nonlocal, "nonlocal z", None, "`nonlocal` statements", "pass the value as an argument"),
    (f_del, "del y", None, "`del` is not supported", "drop the `del` statement"),
    (f_import, "import math", None, "imports inside a branch, a loop or a nested function", "import at module level"),
    (f_import_from, "from math import sin", None, "`sin` is bound by an import here and also bound or read",
     "import at module level"),
    (f_class, "class A:", None, "class definitions", "define the class at module level"),
    (f_nested_def, "def h(t):", None, "nested function definitions", "define the helper at module level"),
    (f_nested_async_def, "async def h():", None, "async functions cannot be differentiated",
     "define the helper at module level without async"),
    (f_lambda, "h = lambda t: t * 2", "lambda t: t * 2", "lambdas are not supported", "use a NumPy expression"),
    (f_listcomp, "[x * i for i in range(3)]", None, "list comprehensions", "use a NumPy expression"),
    (f_setcomp, "{i for i in range(3)}", None, "set comprehensions", "use a list or a NumPy array"),
    (f_dictcomp, "{i: i for i in range(3)}", None, "dict comprehensions", "build the values one by one"),
    (f_genexp, "(x * i for i in range(3))", None, "generator expressions", "use a NumPy expression"),
    (f_yield, "yield x", None, "generator function is differentiated where it is called",
     "differentiate a function that uses it up"),
    (f_yield_from, "yield from x", None, "generators cannot be differentiated", "return a value instead of yielding"),
    (f_walrus, "z := x * 2", None, "assignment expressions (`:=`)", "assign in a separate statement"),
    (f_starred_call, "np.add(*a)", "*a", "starred expressions", "pass the arguments one by one"),
    (f_starred_target, "a, *b = x", "*b", "starred expressions", "pass the arguments one by one"),
    (f_kwargs_call, "np.sum(x, **_SUM_OPTIONS)", None, "`**` in a call whose keys", "pass the keyword arguments one by one"),
    (f_dict, '{"a": x}', None, "dict literals", "pass the values as separate arguments or in a tuple"),
    (f_set, "{1.0, 2.0}", None, "set literals", "use a tuple or a list"),
    (f_match, "match x:", None, "`match` statements", "use if/elif"),
    (f_no_return, "y = x * 2", None, "`return <value>`", None),
    (f_bare_return, "return", "return", "`return <value>`", "write `return <value>`"),
    (f_ends_in_call, "print(y)", None, "`return <value>`", None),
    (f_assign_attribute, "y.foo = 1", None, "assigning to an attribute", "build a new value"),
    (f_augassign_attribute, "y.a += 1", None, "augmented assignment to this target",
     "build a new value instead of mutating an object"),
]


# the cases for an entry of the fence's table (s2sad/front/fence.py, _REFUSED): case -> gast node type
FENCE_NODE = {"f_try": "Try", "f_with": "With", "f_global": "Global", "f_nonlocal": "Nonlocal", "f_del": "Delete",
              "f_import": "Import", "f_import_from": "ImportFrom", "f_class": "ClassDef",
              "f_nested_def": "FunctionDef", "f_nested_async_def": "AsyncFunctionDef", "f_lambda": "Lambda",
              "f_listcomp": "ListComp", "f_setcomp": "SetComp", "f_dictcomp": "DictComp", "f_genexp": "GeneratorExp",
              "f_yield": "Yield", "f_yield_from": "YieldFrom", "f_walrus": "NamedExpr", "f_starred_call": "Starred",
              "f_starred_target": "Starred", "f_dict": "Dict", "f_set": "Set", "f_match": "Match"}
# gradient at x = 1.5 of the cases whose construct the fence no longer refuses, derived by hand
SUPPORTED_GRAD = {"f_listcomp": 3.0,            # sum([0 x, 1 x, 2 x]) = 3 x
                  "f_dict": 1.0,                # the dict is unused: sum(x) = x
                  "f_starred_call": 2.0,        # np.add(x, x) = 2 x
                  "f_starred_target": 3.0}      # x * x + 2: 2 x


def fence_refuses(fn):
    """Whether the fence's table (as it is now) still refuses the construct of case ``fn``."""
    node = FENCE_NODE.get(fn.__name__)
    return node is None or getattr(gast, node) in fence._REFUSED


@pytest.mark.parametrize("fn, at, construct, reason, hint", SYNTAX, ids=[c[0].__name__ for c in SYNTAX])
def test_refused_syntax(fn, at, construct, reason, hint):
    if not fence_refuses(fn):                     # supported now: then it must be differentiated right
        g = check_grads(fn, (1.5,))
        if fn.__name__ in SUPPORTED_GRAD:
            assert g == pytest.approx(SUPPORTED_GRAD[fn.__name__])
        return
    if fn is f_bare_return:
        at = "    return\n"                       # the bare `return`, not `return` inside another word
    refused(fn, s2sad.UnsupportedSyntaxError, at, 1.5, construct=construct, reason=reason, hint=hint)


def test_every_refused_node_type_is_covered():
    """Each entry of the fence's table (as it is now) that a plain ``def`` can contain has a case here;
    a case whose construct left the table is checked for its gradient by test_refused_syntax."""
    unreachable = {gast.AsyncFor, gast.AsyncWith, gast.Await}   # only inside `async def`
    names = {c[0].__name__ for c in SYNTAX}
    covered = {getattr(gast, node): case for case, node in FENCE_NODE.items() if hasattr(gast, node)}
    covered[gast.Starred] = "f_starred_call"
    if hasattr(gast, "TryStar"):
        if sys.version_info >= (3, 11):                         # test_try_star, test_try_star_reads_like_try
            covered[gast.TryStar] = "f_try_star"
            names |= {"f_try_star"} if "def f_try_star(" in TRY_STAR else set()
        else:
            unreachable.add(gast.TryStar)                       # except* does not parse before 3.11
    for node_type in fence._REFUSED:
        assert node_type in unreachable or covered.get(node_type) in names, node_type.__name__
    for case in FENCE_NODE:
        assert case in names, case
    for node_type in (gast.For, gast.While, gast.Break, gast.Continue, gast.Return):   # test_control_flow_gradient
        assert node_type not in fence._REFUSED, f"{node_type.__name__} is supported, the fence must not refuse it"


# --- control flow: loops, break/continue, while and early return are differentiated -----------
def c_for(x):
    s = 0.0
    for i in range(3):
        s = s + x
    return s


def c_for_break(x):
    s = x
    for i in range(3):
        if i == 1:
            break
        s = s * x
    return s


def c_while(x):
    n = 0
    while n < 3:
        x = x * 2.0
        n = n + 1
    return x


def c_while_continue(x):
    n = 0
    while n < 3:
        n = n + 1
        if n == 2:
            continue
        x = x * 2.0
    return x


def c_early_return(x):
    if x > 0:
        return x * x
    y = x * 2
    return y


# (function, what it computes, its derivative by hand)
CONTROL_FLOW = [
    (c_for, "3 x", lambda x: 3.0),
    (c_for_break, "x**2 (the loop breaks after one step)", lambda x: 2.0 * x),
    (c_while, "8 x", lambda x: 8.0),
    (c_while_continue, "4 x (the second step is skipped)", lambda x: 4.0),
    (c_early_return, "x**2 if x > 0 else 2 x", lambda x: 2.0 * x if x > 0 else 2.0),
]


@pytest.mark.parametrize("x", [1.5, -1.5, 0.7])
@pytest.mark.parametrize("fn, what, derivative", CONTROL_FLOW, ids=[c[0].__name__ for c in CONTROL_FLOW])
def test_control_flow_gradient(fn, what, derivative, x):
    s2sad.adjoint_source(fn)                                    # not refused
    g = check_grads(fn, (x,))                                   # value, grad, vjp and finite differences agree
    assert g == pytest.approx(derivative(x)), what
    assert s2sad.grad(fn)(x) == pytest.approx(derivative(x)), what


@pytest.mark.parametrize("fn, at, construct, reason, hint", SYNTAX, ids=[c[0].__name__ for c in SYNTAX])
def test_refused_syntax_says_what_to_do(fn, at, construct, reason, hint):
    """Every refusal has a hint (checked by test_refused_syntax via SYNTAX), unless its message says what to write."""
    if not fence_refuses(fn):
        pytest.skip(f"{fn.__name__}: the fence no longer refuses it (its gradient is checked by test_refused_syntax)")
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.adjoint_source(fn)
    err = info.value
    assert (err.hint is None) == (hint is None), f"SYNTAX must list the hint of {fn.__name__}: {err}"
    if err.hint is None:
        assert "`return <value>`" in err.reason, f"the refusal says what is wrong but not what to do: {err}"
    else:
        assert f"\n  hint: {err.hint}" in str(err)


TRY_STAR = """\
def f_try_star(x):
    try:
        y = x * 2
    except* ValueError:
        y = x
    return y
"""


def _module_from_text(tmp_path, text):
    import importlib.util
    path = tmp_path / "user_module.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("user_module_for_errors", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, str(path)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="except* is Python 3.11 syntax")
def test_try_star(tmp_path):
    module, path = _module_from_text(tmp_path, TRY_STAR)
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.adjoint_source(module.f_try_star)
    err = info.value
    assert os.path.samefile(err.filename, path)
    assert err.lineno == 2 and str(err).startswith(f"{err.filename}:2: ")
    assert err.construct.startswith("try: y = x * 2 except* ValueError:")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="except* is Python 3.11 syntax")
def test_try_star_reads_like_try(tmp_path):
    module, path = _module_from_text(tmp_path, TRY_STAR)
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.adjoint_source(module.f_try_star)
    err = info.value
    assert "TryStar" not in str(err)
    assert err.reason == "try/except* cannot be differentiated"
    assert err.hint == "move the try/except outside the differentiated function"
    assert f"\n  hint: {err.hint}" in str(err)


# --- refusals are located precisely --------------------------------------------------------
@s2sad.differentiable
def decorated_walrus(x):
    y = (z := x * 2) + 1
    return y


def test_decorated_function_line():
    refused(decorated_walrus, s2sad.UnsupportedSyntaxError, "z := x * 2", 1.5, reason="assignment expressions")


def test_function_defined_inside_a_function_line():
    def inner(x):
        y = x * 2
        del y
        return x
    refused(inner, s2sad.UnsupportedSyntaxError, "del y", 1.5, hint="drop the `del`")


def f_multiline_walrus(x):
    y = (x +
         np.sum((z := x * 2)))
    return y


def test_construct_on_a_continuation_line():
    refused(f_multiline_walrus, s2sad.UnsupportedSyntaxError, "np.sum((z := x * 2)))", 1.5,
            construct="z := x * 2", reason="assignment expressions")


def g_multiline_no_rule(x):
    y = np.sum(
        x.compress(x > 0))
    return y


def test_no_rule_on_a_continuation_line():
    refused(g_multiline_no_rule, s2sad.NoRuleError, "x.compress(x > 0))", construct="x.compress(x > 0)")


def f_kwargs_call_in_if(x):
    if x > 0:
        y = x * 2
        z = np.sum(x, **_SUM_OPTIONS)
    else:
        y = x
    return y


def test_kwargs_call_inside_if_line():
    err = refused(f_kwargs_call_in_if, s2sad.UnsupportedSyntaxError, "z = np.sum(x, **_SUM_OPTIONS)", 1.5,
                  construct="np.sum(x, **_SUM_OPTIONS)", reason="`**` in a call whose keys",
                  hint="pass the keyword arguments one by one")
    assert "else" not in err.construct                  # the call, not the if/else block


def f_printing_then_refused(x):
    print("user code ran")
    m, e = np.frexp(x)
    return np.sum(m)


def test_refused_before_any_user_code_runs(capsys):
    for _ in range(2):                                   # and refused again on the next call, not cached
        with pytest.raises(s2sad.NoRuleError):
            s2sad.grad(f_printing_then_refused)(x3())
    assert capsys.readouterr().out == ""


# =============================================================================================
# No derivative rule (s2sad/reverse/adjoint.py, no_rule)
# =============================================================================================
def helper(t):
    return t * 2


def g_frexp(x):
    m, e = np.frexp(x)
    return np.sum(m)


def g_cumprod(x):
    y = np.nancumprod(x)
    return np.sum(y)


def g_method_cumprod(x):
    y = x.compress(x > 0)
    return np.sum(y)


def g_attribute(x):
    y = x.flat
    return np.sum(y)


def g_user_function(x):
    y = helper(x)
    return np.sum(y)


def g_local_function(x):
    fn = helper
    y = fn(x)
    return np.sum(y)


def g_local_numpy_function(x):
    fn = np.sin
    y = fn(x)
    return np.sum(y)


def g_parameter_function(x, fn):
    return np.sum(fn(x))


def g_unknown_in_return(x):
    return np.sum(np.nancumprod(x))


NO_RULE = [
    (g_frexp, "m, e = np.frexp(x)", "no derivative rule for numpy.frexp", "`@s2sad.rules.vjp(np.frexp)`"),
    # np.nancumprod is written in Python inside numpy: still a primitive that needs a rule
    (g_cumprod, "y = np.nancumprod(x)", "no derivative rule for numpy.nancumprod", "`@s2sad.rules.vjp(np.nancumprod)`"),
    (g_unknown_in_return, "return np.sum(np.nancumprod(x))", "no derivative rule for numpy.nancumprod",
     "`@s2sad.rules.vjp(np.nancumprod)`"),
    (g_method_cumprod, "y = x.compress(x > 0)", "the method .compress()", "`@s2sad.rules.vjp(np.compress)`"),
    (g_attribute, "y = x.flat", "the attribute .flat", "`@s2sad.rules.vjp(function)`"),
]


@pytest.mark.parametrize("fn, at, reason, hint", NO_RULE,
                         ids=[c.id if hasattr(c, "id") else c[0].__name__ for c in NO_RULE])
def test_no_rule(fn, at, reason, hint):
    args = (x3(), np.sin) if fn is g_parameter_function else (x3(),)
    err = refused(fn, s2sad.NoRuleError, at, *args, reason=reason, hint=hint)
    assert "s2sad.rules.vjp" in err.hint                 # says how to register a rule


@pytest.mark.parametrize("fn", [g_local_function, g_local_numpy_function, g_parameter_function])
def test_functions_known_only_when_the_code_runs_are_differentiated(fn):
    """``fn = helper; fn(x)``, ``fn = np.sin``, a function passed as an argument: s2sad asks for its
    derivative when the generated code runs (calls.Dynamic)."""
    args = (x3(), np.sin) if fn is g_parameter_function else (x3(),)
    check_grads(fn, args, order=2)


def test_call_to_a_user_function_is_differentiated():
    """helper(t) = 2 t has no rule: s2sad differentiates it from its source."""
    g = check_grads(g_user_function, (x3(),))
    np.testing.assert_allclose(g, 2.0 * np.ones(3))


def kwonly_helper(t, *, k):
    return t * k


def helper_walrus(t):
    u = (v := t * 2)
    return t


def u_keyword_only(x):
    y = kwonly_helper(1.0, k=x)
    return np.sum(y)


def u_wrong_arguments(x):
    y = helper(x, x)
    return np.sum(y)


def u_callee_refused(x):
    print("user code ran")
    y = helper_walrus(x)
    return np.sum(y)


def test_user_function_keyword_only_parameter():
    """Inlined, a keyword-only parameter is bound by name; differentiated as a call (inlining off) too: the
    callee's generated code is differentiated by that parameter's name."""
    check_grads(u_keyword_only, (x3(),), order=2)
    with s2sad.optimizations(inline=False):
        check_grads(u_keyword_only, (x3(),), order=2)
        assert "kwonly_helper_vjp(1.0, k=x)" in s2sad.adjoint_source(u_keyword_only, args=(x3(),))


def test_user_function_called_with_the_wrong_arguments():
    refused(u_wrong_arguments, s2sad.TransformError, "y = helper(x, x)",
            reason="cannot call `helper` this way: too many positional arguments")


def test_user_function_called_with_the_wrong_arguments_says_what_to_do():
    err = refused(u_wrong_arguments, s2sad.TransformError, "y = helper(x, x)")
    assert err.hint and f"\n  hint: {err.hint}" in str(err)


def test_refusal_inside_a_user_function_names_its_line(capsys):
    """A construct refused in the callee is reported at the callee's line, not at the call.

    The callee is transformed when the caller's generated code is bound (its first call), before any user
    code runs; ``adjoint_source`` of the caller shows the caller's code only, so the callee's own
    ``adjoint_source`` is the one that refuses at transform time."""
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(u_callee_refused)(x3())
    message = check_located(info.value, helper_walrus, "u = (v := t * 2)", construct="v := t * 2",
                            reason="assignment expressions (`:=`) are not supported",
                            hint="assign in a separate statement")
    assert capsys.readouterr().out == ""
    with pytest.raises(s2sad.UnsupportedSyntaxError) as again:
        s2sad.adjoint_source(helper_walrus)
    assert str(again.value) == message


def test_no_rule_hint_never_suggests_nondiff():
    """A function without a rule may well have a derivative (np.frexp's mantissa does): the hint says how
    to register one, never to declare it non-differentiable (that would give a silently wrong zero)."""
    err = refused(g_frexp, s2sad.NoRuleError, "np.frexp(x)")
    assert "`@s2sad.rules.vjp(np.frexp)`" in err.hint
    assert "nondiff" not in err.hint


def g_method_sort_copy(x):
    y = np.sort(x)
    return np.sum(y)


@pytest.mark.parametrize("fn, at, register", [
    (g_method_cumprod, "x.compress(x > 0)", ["`@s2sad.rules.vjp(np.compress)`", '`s2sad.rules.method("compress", np.compress)`']),
    (g_attribute, "x.flat", ["`@s2sad.rules.vjp(function)`", '`s2sad.rules.attribute("flat", function)`']),
], ids=["method", "attribute"])
def test_no_rule_for_a_method_says_how_to_register_it(fn, at, register):
    """``@s2sad.rules.vjp`` alone does not make x.compress(x > 0) / x.imag work: the hint names the mapping too."""
    err = refused(fn, s2sad.NoRuleError, at)
    for text in register:
        assert text in err.hint, str(err)


# --- user rules that cannot be inlined ------------------------------------------------------
def prim_exec_rule(t):
    return t * 2


def prim_bad_rule(t):
    return t * 2


_ns = {}
exec("def exec_rule(g, ans, t):\n    return g * 2\n", _ns)
s2sad.rules.vjp(prim_exec_rule)(_ns["exec_rule"])


@s2sad.rules.vjp(prim_bad_rule)
def bad_rule(g, ans, t):
    if g is None:
        g = 0.0
    return g * 2


def g_exec_rule(x):
    y = prim_exec_rule(x)
    return np.sum(y)


def g_bad_rule(x):
    y = prim_bad_rule(x)
    return np.sum(y)


RULE_HINT = "a rule must be a function defined in a .py file, with straight-line assignments"


def test_user_rule_without_source():
    err = refused(g_exec_rule, s2sad.TransformError, "y = prim_exec_rule(x)",
                  reason="the derivative rule exec_rule for `prim_exec_rule` cannot be used", hint=RULE_HINT)
    assert "could not get source code" in err.reason




def test_user_rule_not_straight_line():
    err = refused(g_bad_rule, s2sad.TransformError, "y = prim_bad_rule(x)",
                  reason="the derivative rule bad_rule for `prim_bad_rule` cannot be used", hint=RULE_HINT)
    assert "only assignments may precede the return" in err.reason


# =============================================================================================
# Mutation and side effects on differentiated values
# =============================================================================================
def m_setitem(x):
    y = x * 1
    y[0] = 0.0
    return np.sum(y)


def m_setitem_wrt(x):
    x[0] = 0.0
    return np.sum(x)


def m_setitem_value(x):
    y = np.zeros(3)
    y[0] = x[0]
    return np.sum(y)


def m_setitem_augmented(x):
    y = x * 1
    y[1:] += 1.0
    return np.sum(y)


def m_setitem_in_if(x):
    y = x * 1
    if np.sum(x) > 0:
        y[0] = 0.0
    return np.sum(y)


def m_setitem_tuple_target(x):
    y = np.zeros(3)
    y[0], z = x[0], 2.0
    return np.sum(y)


def m_sort(x):
    y = x * 1
    y.sort()
    return np.sum(y)


def m_fill_wrt(x):
    x.fill(1.0)
    return np.sum(x)


def m_unused_user_call(x):
    helper(x)
    return np.sum(x)


WRITE_HINT = "work on a copy"
IN_PLACE = "a call that may modify a value being differentiated in place"
IN_PLACE_HINT = "use a function that returns a new value"
MUTATION = [
    (m_setitem_wrt, "x[0] = 0.0", "this function changes its argument `x` in place", "work on a copy"),
    (m_sort, "y.sort()", IN_PLACE, IN_PLACE_HINT),
    (m_fill_wrt, "x.fill(1.0)", IN_PLACE, IN_PLACE_HINT),
]


@pytest.mark.parametrize("fn, at, reason, hint", MUTATION, ids=[c[0].__name__ for c in MUTATION])
def test_mutation_refused(fn, at, reason, hint):
    refused(fn, s2sad.UnsupportedSyntaxError, at, reason=reason, hint=hint)


def test_a_user_function_run_for_its_effects_gets_its_arguments_read_only():
    """``helper(x)`` with its result unused runs as it is, on a read-only view of ``x`` (it changes nothing here)."""
    check_grads(m_unused_user_call, (x3(),), order=2)
    assert "_s2.opaque_call(helper, (x,), x)" in s2sad.adjoint_source(m_unused_user_call, args=(x3(),))


@pytest.mark.parametrize("fn", [m_setitem, m_setitem_value, m_setitem_augmented, m_setitem_in_if,
                                m_setitem_tuple_target])
def test_writes_into_local_arrays_are_differentiated(fn):
    """Writes into an array the function made (not an argument) are differentiated (tests/test_writes.py)."""
    check_grads(fn, (x3(),), order=2)


# --- mutations through aliases, views and `out=`: refused, or differentiated right --------------
def s_alias_setitem(x):
    y = x
    y[0] = 0.0
    return np.sum(W * x)


def s_view_setitem(x):
    y = x.reshape(3)
    y[0] = 0.0
    return np.sum(W * x)


def s_alias_augassign(x):
    y = x
    y *= 2.0
    return np.sum(W * x)


def s_sort_result_assigned(x):
    y = x * 1
    z = y.sort()
    return np.sum(W * y)


def s_copyto(x):
    buf = np.zeros(3)
    np.copyto(buf, x)
    return np.sum(buf * buf)


def s_sum_out(x):
    buf = np.zeros(())
    y = np.sum(x, out=buf)
    return y + buf


WRITE = "this function changes its argument `x` in place (through `y`, which may hold the same object)"
OUT = "`out` (by keyword or by position) writes into an array in place, which cannot be differentiated"
OUT_HINT = "drop `out=` and use the returned value"
SILENT = [
    # x = [3, 1, 2]; the value and gradient Python's semantics give; the reason and hint of the refusal
    # (None: must be differentiated right); the reason of a strict xfail where s2sad is still wrong
    (s_alias_setitem, "y[0] = 0.0", 8.0, [0.0, 2.0, 3.0], WRITE, WRITE_HINT, None),
    (s_view_setitem, "y[0] = 0.0", 8.0, [0.0, 2.0, 3.0], WRITE, WRITE_HINT, None),
    (s_alias_augassign, "y *= 2.0", 22.0, [2.0, 4.0, 6.0], None, None, None),    # refused when called: below
    (s_sort_result_assigned, "z = y.sort()", 14.0, [3.0, 1.0, 2.0], IN_PLACE, IN_PLACE_HINT, None),
    (s_copyto, "np.copyto(buf, x)", 14.0, [6.0, 2.0, 4.0], IN_PLACE, IN_PLACE_HINT, None),
    (s_sum_out, "y = np.sum(x, out=buf)", 12.0, [2.0, 2.0, 2.0], OUT, OUT_HINT, None),
]


@pytest.mark.parametrize("fn, at, value, grad, reason, hint", [
    pytest.param(fn, at, value, grad, reason, hint, id=fn.__name__,
                 marks=[pytest.mark.xfail(strict=True, reason=bug)] if bug else [])
    for fn, at, value, grad, reason, hint, bug in SILENT])
def test_never_a_silently_wrong_gradient(fn, at, value, grad, reason, hint):
    assert fn(x3()) == pytest.approx(value)             # what Python computes
    if reason is not None:                              # refused at transform time, and by grad
        refused(fn, s2sad.UnsupportedSyntaxError, at, reason=reason, hint=hint)
    refused_or_right(fn, at, x3(), value, grad, reason=reason, hint=hint)


def test_an_update_of_a_shared_value_is_followed_for_an_array_and_differentiated_for_a_number():
    """``y = x; y *= 2.0``: Python changes x too when it is an array (followed when the argument tells, checked as
    the code runs and refused when the transform does not know), and makes a new number when it is one."""
    check_grads(s_alias_augassign, (x3(),))               # an array: x's later reads follow (effects.follow_copies)
    text = s2sad.adjoint_source(s_alias_augassign)        # kinds unknown: a check where the code runs
    assert "_s2.unshared(y, " in text

    def number_alias(x):
        y = x
        y *= 2.0
        return y * x + x
    assert s2sad.grad(number_alias)(1.5) == pytest.approx(4 * 1.5 + 1)
    assert s2sad.grad(number_alias)(np.float64(1.5)) == pytest.approx(4 * 1.5 + 1)
    assert s2sad.grad(number_alias)(np.array(1.5)) == pytest.approx(8 * 1.5 + 2)   # a 0-d array is changed in
    # place (Python: x becomes 2x, so the result is 4x^2 + 2x)

    def from_a_dict(d):                             # what d["x"] holds is known only when the code runs
        x = d["x"]
        y = x
        y *= 2.0
        return y * x + x
    assert s2sad.grad(from_a_dict)({"x": 1.5})["x"] == pytest.approx(4 * 1.5 + 1)
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(from_a_dict)({"x": np.array([1.5, 2.0])})
    assert info.value.lineno == from_a_dict.__code__.co_firstlineno + 3 and info.value.construct == "y *= 2.0"
    assert "would change `x` too (they share memory)" in str(info.value)
    assert "(here it holds an array of shape (2,))" in str(info.value)


# =============================================================================================
# Arguments a rule does not accept
# =============================================================================================
def r_sum_bad_keyword(x):
    y = np.sum(x, bogus=1)
    return y


def r_sum_where(x):
    y = np.sum(x, where=x > 0)
    return y


def r_exp_out(x):
    buf = np.zeros(3)
    y = np.exp(x, out=buf)
    return np.sum(y)


RULE_ARGS = [
    (r_sum_bad_keyword, "y = np.sum(x, bogus=1)", "np.sum", "bogus"),
    (r_sum_where, "y = np.sum(x, where=x > 0)", "np.sum", "where"),
]


@pytest.mark.parametrize("fn, at, label, keyword", RULE_ARGS, ids=[c[0].__name__ for c in RULE_ARGS])
def test_arguments_the_rule_does_not_accept(fn, at, label, keyword):
    refused(fn, s2sad.TransformError, at,
            reason=f"cannot differentiate this call to `{label}`: got an unexpected keyword argument '{keyword}'",
            hint="check the arguments; ")


@pytest.mark.parametrize("fn, at, label, keyword", RULE_ARGS, ids=[c[0].__name__ for c in RULE_ARGS])
def test_arguments_the_rule_does_not_accept_hint(fn, at, label, keyword):
    err = refused(fn, s2sad.TransformError, at)
    assert err.hint.startswith("check the arguments; ") and f"\n  hint: {err.hint}" in str(err)


def test_out_argument_is_refused_as_an_in_place_write():
    """``out=`` is refused before its rule is looked at: it writes into ``buf`` in place."""
    err = refused(r_exp_out, s2sad.UnsupportedSyntaxError, "y = np.exp(x, out=buf)", reason=OUT, hint=OUT_HINT)
    assert err.reason == OUT and err.hint == OUT_HINT


# =============================================================================================
# Non-scalar output
# =============================================================================================
def returns_array(x):
    return x * 2


def returns_tuple(x):
    return x, x


@pytest.mark.parametrize("fn, what", [(returns_array, "an array of shape (3,)"),
                                      (returns_tuple, "a pair (an array of shape (3,), an array")], ids=["array", "tuple"])
@pytest.mark.parametrize("api", ["grad", "value_and_grad"])
def test_non_scalar_output(fn, what, api):
    with pytest.raises(s2sad.NonScalarOutputError) as info:
        getattr(s2sad, api)(fn)(x3())
    err = info.value
    assert isinstance(err, s2sad.S2SadError) and isinstance(err, ValueError)
    message = str(err)
    assert what in message
    assert "s2sad.vjp(f, *args)" in message


def test_non_scalar_output_is_fine_for_vjp():
    value, pullback = s2sad.vjp(returns_array, x3())
    np.testing.assert_allclose(pullback(np.ones(3)), 2.0 * np.ones(3))


# =============================================================================================
# wrt
# =============================================================================================
def two_params(x, y):
    return np.sum(x * y)


@pytest.mark.parametrize("wrt, bad", [(2, 2), (-3, -3), ((0, 5), 5)], ids=["too-big", "too-negative", "in-tuple"])
def test_wrt_out_of_range(wrt, bad):
    g = s2sad.grad(two_params, wrt=wrt)
    with pytest.raises(s2sad.WrtError) as info:
        g(x3(), x3())
    message = str(info.value)
    assert message == f"wrt={bad} but two_params() has 2 positional parameter(s) (x, y)"


def test_wrt_out_of_range_is_an_s2sad_error():
    with pytest.raises(s2sad.WrtError) as info:
        s2sad.grad(two_params, wrt=2)(x3(), x3())
    assert isinstance(info.value, s2sad.S2SadError) and isinstance(info.value, ValueError)
    assert issubclass(s2sad.WrtError, s2sad.S2SadError) and issubclass(s2sad.WrtError, ValueError)


def test_vjp_wrt_out_of_range():
    with pytest.raises(s2sad.WrtError) as info:
        s2sad.vjp(two_params, x3(), x3(), wrt=3)
    assert str(info.value) == "wrt=3 but two_params() has 2 positional parameter(s) (x, y)"


@pytest.mark.parametrize("wrt", [1.0, True, (), []])
def test_wrt_bad_type(wrt):
    with pytest.raises(s2sad.WrtError) as info:
        s2sad.grad(two_params, wrt=wrt)                 # refused when asked, before any call
    message = str(info.value)
    assert message == f"wrt must be an int, a parameter name, or a non-empty tuple of them, got {wrt!r}"


@pytest.mark.parametrize("wrt", ["z", (0, "z")])
def test_wrt_unknown_name(wrt):
    with pytest.raises(s2sad.WrtError, match=r"wrt='z': two_params has no positional parameter of that name "
                                             r"\(its parameters: x, y\)"):
        s2sad.grad(two_params, wrt=wrt)


def test_wrt_bad_type_in_decorator():
    with pytest.raises(s2sad.WrtError, match="has no positional parameter of that name"):
        s2sad.differentiable(two_params, wrt="z")
    with pytest.raises(s2sad.WrtError, match="wrt must be an int, a parameter name, or a non-empty tuple of them, "
                                             "got 1.5"):
        s2sad.differentiable(wrt=1.5)(two_params)


def test_wrt_bad_type_is_an_s2sad_error():
    with pytest.raises(s2sad.WrtError) as info:
        s2sad.grad(two_params, wrt=1.5)
    assert isinstance(info.value, s2sad.S2SadError) and isinstance(info.value, ValueError)


# =============================================================================================
# Inactive uses are not refused
# =============================================================================================
def i_unknown_on_inactive(x):
    c = np.nancumprod(C)
    fn = np.sin
    d = fn(C)
    e = helper(C)
    f = C.cumprod()
    return np.sum(x * c * d * e * f)


def test_unknown_functions_on_inactive_data():
    expected = np.nancumprod(C) * np.sin(C) * (C * 2) * np.nancumprod(C)
    np.testing.assert_allclose(s2sad.grad(i_unknown_on_inactive)(x3()), expected)


def i_unknown_on_a_parameter_not_differentiated(x, y):
    return np.sum(x * np.nancumprod(y))


def test_unknown_function_on_an_argument_not_in_wrt():
    np.testing.assert_allclose(s2sad.grad(i_unknown_on_a_parameter_not_differentiated)(x3(), C), np.nancumprod(C))


def i_unknown_not_reaching_output(x):
    z = np.nancumprod(x)
    return np.sum(x)


def test_unknown_function_whose_result_is_unused():
    np.testing.assert_allclose(s2sad.grad(i_unknown_not_reaching_output)(x3()), np.ones(3))


def i_write_inactive(x):
    y = np.zeros(3)
    y[0] = 5.0
    y[1:] = C[1:]
    return np.sum(x * y)


def test_writing_into_an_inactive_array():
    np.testing.assert_allclose(s2sad.grad(i_write_inactive)(x3()), [5.0, -1.0, 2.0])


def i_sort_inactive(x):
    c = C * 1
    c.sort()
    return np.sum(x * c)


def test_in_place_method_on_an_inactive_array():
    np.testing.assert_allclose(s2sad.grad(i_sort_inactive)(x3()), np.sort(C))


def i_augassign_fresh(x):
    y = x * 1
    y *= 2.0
    return np.sum(y)


def test_augmented_assignment_to_a_fresh_array():
    np.testing.assert_allclose(s2sad.grad(i_augassign_fresh)(x3()), 2.0 * np.ones(3))


def i_print(x):
    y = x * 2
    print("y is", y)
    print(f"sum {np.sum(y)}")
    return np.sum(y)


def test_print_of_a_differentiated_value(capsys):
    np.testing.assert_allclose(s2sad.grad(i_print)(x3()), 2.0 * np.ones(3))
    out = capsys.readouterr().out
    assert "y is [6. 2. 4.]" in out and "sum 12.0" in out


def i_nondiff_unused_call(x):
    np.shape(x)
    x.any()
    return np.sum(x * x)


def test_unused_non_differentiable_call_on_a_differentiated_value():
    np.testing.assert_allclose(s2sad.grad(i_nondiff_unused_call)(x3()), 2.0 * x3())


def refused_in_a_callee(t):
    try:
        return t * 2
    except ValueError:
        return t


def calls_a_refused_callee(x):
    return np.sum(refused_in_a_callee(x) * x)


def test_refusal_in_a_callee_names_its_line_with_a_short_traceback(monkeypatch):
    import traceback
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(calls_a_refused_callee)(x3())
    line = inspect.getsourcelines(refused_in_a_callee)[1] + 1
    assert str(info.value).startswith(f"{__file__}:{line}: try/except cannot be differentiated")
    package = os.path.dirname(s2sad.__file__)
    internal = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename.startswith(package)]
    assert len(internal) <= 1, internal                    # only the entry point's own line
    monkeypatch.setenv("S2SAD_TRACEBACK", "full")
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(calls_a_refused_callee)(x3())
    internal = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename.startswith(package)]
    assert len(internal) > 5


def reduceat_sum(x):
    return np.sum(np.add.reduceat(x, [0, 2]))


def counts_by_add_at(x):
    counts = np.zeros(3)
    np.add.at(counts, [0, 0, 2], 1.0)          # no differentiated value reaches it: runs as written
    return np.sum(counts * x)


def test_a_ufunc_method_without_a_definition_is_refused_at_its_line_and_runs_on_constants():
    x = np.array([0.5, -1.0, 2.0, 0.3])
    for derivative in (lambda: s2sad.grad(reduceat_sum)(x), lambda: s2sad.jvp(reduceat_sum, (x,), (x,))):
        with pytest.raises(s2sad.errors.NoRuleError, match=r"test_errors.py:\d+: cannot differentiate "
                                                            r"`np.add.reduceat`: s2sad has no derivative for this ufunc"):
            derivative()
    np.testing.assert_allclose(s2sad.grad(counts_by_add_at)(x[:3]), [2.0, 0.0, 1.0])


def _einsum_with_ellipsis(A):
    return np.sum(np.einsum('...i,...i->...', A, A))


def test_einsum_with_an_ellipsis_is_refused_at_the_users_line():
    """Was a NotImplementedError raised from the generated code when the gradient ran."""
    A = np.arange(6.0).reshape(2, 3)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="`np.einsum` with `...`") as caught:
        s2sad.grad(_einsum_with_ellipsis)(A)
    assert "test_errors.py" in str(caught.value)
    assert s2sad.jvp(_einsum_with_ellipsis, (A,), (np.ones_like(A),))[1] == pytest.approx(2 * np.sum(A))  # forward: linear


class _Scaled:
    def __getitem__(self, v):                   # computes with what is inside the brackets
        return v * 3.0


_SCALED = _Scaled()


def _concatenated_by_r(x):
    return np.sum(np.r_[x, x] ** 2)


def _stacked_by_c(x):
    return np.sum(np.c_[x, 2.0 * x])


def _computed_by_getitem(x):
    return np.sum(_SCALED[x] * x)


def _looked_up(x):                              # a dict's key and a list's index select: no derivative, fine
    return TABLE_BY_KEY[int(x[0] > 0)] * np.sum(x) + ITEMS[int(x[1] > 0)]


TABLE_BY_KEY = {0: 2.0, 1: 3.0}
ITEMS = [0.5, 1.5]


def test_brackets_that_compute_with_a_differentiated_value_are_refused_at_the_users_line():
    """np.r_[x, x], np.c_[...] and an object's __getitem__ computing with x gave a zero (or partial) gradient:
    the index of an item was taken to carry no derivative."""
    x = np.array([1.0, 2.0])
    for f in (_concatenated_by_r, _stacked_by_c, _computed_by_getitem):
        with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"\[\.\.\.\]` computes with a value being differentiated") \
                as caught:
            s2sad.grad(f)(x)
        assert "test_errors.py" in str(caught.value)
        with pytest.raises(s2sad.UnsupportedSyntaxError):
            s2sad.jvp(f, (x,), (np.ones(2),))
    np.testing.assert_allclose(s2sad.grad(_looked_up)(x), [3.0, 3.0])


def _squared(t):
    return t * t


def _vectorized(x):
    return np.sum(np.vectorize(_squared)(x))


def test_a_function_made_by_np_vectorize_is_refused_at_the_users_line():
    """Was a WrtError about `*args` raised from the generated code when the gradient ran."""
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="np.vectorize") as caught:
        s2sad.grad(_vectorized)(np.array([1.0, 2.0]))
    assert "test_errors.py" in str(caught.value)


def _nested_recursion(x):
    def fact(n):
        if n == 0:
            return 1.0
        return x * fact(n - 1)
    return fact(3)


def test_a_function_defined_inside_that_calls_itself_is_refused_at_its_line():
    """Was a NameError from the generated code (the lifted function's call of itself named nothing)."""
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="`fact` defined here calls itself") as caught:
        s2sad.grad(_nested_recursion)(0.5)
    assert "test_errors.py" in str(caught.value)


def _bessel_in_its_order(nu):
    return scipy.special.jv(nu, 2.1) + scipy.special.iv(1.0, 2.0 * nu)


def _bessel_in_x(x):
    return scipy.special.jv(1.3, x) + scipy.special.iv(0.5, x)


def _heaviside_value_at_zero(h0):
    return np.sum(np.heaviside(np.array([-1.0, 0.0, 2.0]), h0) * np.array([1.0, 3.0, 5.0]))


def test_a_bessel_function_differentiated_in_its_order_is_refused_and_in_x_is_not():
    """jv / iv / ive gave 0 for the order's derivative (the rule's None read as "none"), silently."""
    for run in (lambda: s2sad.grad(_bessel_in_its_order)(1.3),
                lambda: s2sad.jvp(_bessel_in_its_order, (1.3,), (1.0,))):
        with pytest.raises(s2sad.NoRuleError, match="the order of scipy.special.jv") as caught:
            run()
        assert "test_errors.py" in str(caught.value)
    x = 1.7
    want = 0.5 * (scipy.special.jv(0.3, x) - scipy.special.jv(2.3, x)) + \
        0.5 * (scipy.special.iv(-0.5, x) + scipy.special.iv(1.5, x))
    assert s2sad.grad(_bessel_in_x)(x) == pytest.approx(want, rel=1e-12)


def test_heavisides_value_at_zero_is_differentiated():
    """np.heaviside was registered as having no derivative: h0's (where x is 0) was lost, with a warning."""
    assert s2sad.grad(_heaviside_value_at_zero)(0.3) == pytest.approx(3.0)
    assert s2sad.jvp(_heaviside_value_at_zero, (0.3,), (1.0,))[1] == pytest.approx(3.0)


def _root_of(x):
    return math.sqrt(x) + x


def _half_power(x):
    return x ** 0.5


def test_a_derivative_python_floats_cannot_compute_names_the_users_line():
    """At x = 0 the derivative of sqrt is infinite: computed on Python floats it raises ZeroDivisionError inside
    the generated code, reported as an s2sad error at the user's line (not a bare ZeroDivisionError)."""
    line = inspect.getsourcelines(_root_of)[1] + 1
    with pytest.raises(s2sad.errors.UnsupportedValueError, match=rf"test_errors.py:{line}: the derivative of this line is "
                                                          r"infinite or undefined .*ZeroDivisionError"):
        s2sad.grad(_root_of)(0.0)
    with pytest.raises(s2sad.errors.UnsupportedValueError, match="infinite or undefined"):
        s2sad.grad(_half_power)(0.0)
    with np.errstate(divide="ignore"):
        assert s2sad.grad(_half_power)(np.float64(0.0)) == np.inf        # NumPy's value, as NumPy computes it


def _repeated_write(x):
    y = np.zeros(4)
    y[np.array([0, 2, 2])] += x
    return np.sum(y * y)


def test_a_refusal_of_values_met_when_the_code_runs_names_the_users_line():
    """A rule refusing the values it meets ("s2sad: a write ... repeats a position") named no file or line in its
    message (only in a note): it now starts with the user's file and line and ends with the statement."""
    with pytest.raises(s2sad.UnsupportedValueError) as info:
        s2sad.grad(_repeated_write)(np.array([1.0, 2.0, 3.0]))
    message = str(info.value)
    assert message.startswith(f"{__file__}:")
    assert message.endswith("`y[np.array([0, 2, 2])] += x`") and "repeats a position" in message


def _with_a_module_default(x, xp=np):
    return xp.sum(xp.sin(x))


def test_a_module_parameter_is_checked_to_be_its_default():
    """`def f(x, xp=np)` is differentiated as NumPy's code: another module passed is refused where the code runs."""
    import types
    other = types.ModuleType("othernp")
    other.sum, other.sin = np.sum, np.sin
    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(s2sad.grad(_with_a_module_default)(x, np), np.cos(x))
    with pytest.raises(s2sad.UnsupportedValueError, match="`xp` is differentiated as numpy, its default, and othernp"):
        s2sad.grad(_with_a_module_default)(x, other)


def _item_of_a_dict_from_get(x):
    d = {0: 1.0}
    d[0] = d.get(0, 1.0) * x
    return d[0] * x


def test_a_second_order_refusal_names_the_users_line():
    """A refusal met while s2sad differentiates its own forward-mode code (a second derivative) named that code
    (`<s2sad f_jvp from ...>:11`, a statement with `_t2`): it names the user's file and the line the code was
    written for (its `# line N:` comment), and shows the generated statement after the message."""
    assert s2sad.grad(_item_of_a_dict_from_get)(0.7) == pytest.approx(1.4)
    with pytest.raises(s2sad.S2SadError) as caught:
        s2sad.hessian(_item_of_a_dict_from_get)(0.7)
    line = inspect.getsourcelines(_item_of_a_dict_from_get)[1] + 2
    text = str(caught.value)
    assert text.startswith(f"{__file__}:{line}: ") and "<s2sad" not in text.splitlines()[0].split(": ")[0]
    assert "in the forward-mode code s2sad wrote for this line" in text
