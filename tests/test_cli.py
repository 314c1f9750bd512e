"""``s2sad compile`` and ``s2sad show``: standalone gradient modules, run where s2sad cannot be imported.

The expensive steps (a compile in a subprocess, the written module run by a Python without
s2sad) run once per module, in fixtures; the error paths call ``cli.main`` in-process.
"""
import ast
import hashlib
import importlib
import importlib.util
import inspect
import os
import pickle
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import s2sad
from s2sad import cli
from s2sad.testing import numerical_grad

ROOT = Path(__file__).resolve().parent.parent
MODEL = Path(__file__).resolve().parent / "cli_modules" / "model.py"
NUMPY_HOME = str(Path(np.__file__).resolve().parent.parent)

_rng = np.random.default_rng(7)
_X = _rng.normal(size=(6, 3))
CASES = {                     # function -> argument tuples, each differentiated as its decorator says
    "damped": [(0.3,), (0.7, 5), (2.0, 3)],
    "logistic": [(_rng.normal(size=3), 0.2, _X, (_rng.random(6) > 0.5) * 1.0),
                 (_rng.normal(size=3).astype(np.float32), 1.0, _X, np.ones(6))],
    "poly": [(0.8,), (-1.3,)],
    "both": [(0.4, 1.1)],
    "buffered": [(_rng.normal(size=4),)],
    "checkpointed": [(_rng.normal(size=3),)],
    "squares": [(_rng.normal(size=3),)],
}
WRT = {"damped": (0,), "logistic": (0, 1), "poly": (0,), "both": (0, 1), "buffered": (0,), "checkpointed": (0,),
       "squares": (0,)}


def load_model(path=MODEL):
    spec = importlib.util.spec_from_file_location(f"model_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_s2sad(*args, cwd, seed=0):
    """``python -m s2sad ARGS`` in a subprocess that finds this checkout's s2sad."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED=str(seed))
    return subprocess.run([sys.executable, "-m", "s2sad", *args], cwd=cwd, env=env, capture_output=True, text=True)


def run_without_s2sad(code, cwd):
    """Run ``code`` in a Python that cannot import s2sad: isolated (-I), no site (-S, so no editable
    install), with only NumPy's directory and ``cwd`` on sys.path."""
    prelude = f"import sys\nsys.path[:0] = [{NUMPY_HOME!r}, {str(cwd)!r}]\n"
    return subprocess.run([sys.executable, "-I", "-S", "-c", prelude + textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """A copy of tests/cli_modules/model.py and the model_grad.py `python -m s2sad compile` wrote beside it."""
    folder = tmp_path_factory.mktemp("compiled")
    shutil.copy(MODEL, folder / "model.py")
    done = run_s2sad("compile", "model.py", cwd=folder, seed=1)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote model_grad.py: grad_damped, value_and_grad_damped, ")
    return folder


@pytest.fixture(scope="module")
def standalone(compiled):
    """What the written module computes for CASES, in a Python where s2sad cannot be imported."""
    with open(compiled / "cases.pkl", "wb") as f:
        pickle.dump(CASES, f)
    done = run_without_s2sad("""
        import pickle
        try:
            import s2sad
        except ImportError:
            pass
        else:
            raise SystemExit("s2sad is importable")
        import model_grad
        with open("cases.pkl", "rb") as f:
            cases = pickle.load(f)
        results = {(name, i): (getattr(model_grad, "grad_" + name)(*args),
                               getattr(model_grad, "value_and_grad_" + name)(*args))
                   for name, calls in cases.items() for i, args in enumerate(calls)}
        imported = sorted(m for m in sys.modules if m.split(".")[0] in ("s2sad", "model"))
        with open("results.pkl", "wb") as f:
            pickle.dump((results, imported), f)
    """, compiled)
    assert done.returncode == 0, done.stderr
    with open(compiled / "results.pkl", "rb") as f:
        results, imported = pickle.load(f)
    assert imported == []                  # neither s2sad nor the user's module
    return results


def assert_same(got, expected):
    """Same structure, types and dtypes; values equal up to rounding."""
    if isinstance(expected, tuple):
        assert type(got) is tuple and len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same(g, e)
        return
    assert type(got) is type(expected)
    if isinstance(expected, np.ndarray):
        assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6 if np.result_type(expected) == np.float32 else 1e-12)


@pytest.mark.parametrize("name, i", [(name, i) for name, calls in CASES.items() for i in range(len(calls))])
def test_written_module_gives_the_gradients_of_s2sad_grad(standalone, name, i):
    fn = getattr(load_model(), name)
    args = CASES[name][i]
    grad, (value, grad_again) = standalone[(name, i)]
    assert_same(grad, s2sad.grad(fn)(*args))
    assert_same((value, grad_again), s2sad.value_and_grad(fn)(*args))
    float64_args = [np.asarray(a, dtype=float) if isinstance(a, np.ndarray) else float(a) if k in WRT[name] else a
                    for k, a in enumerate(args)]
    for g, k in zip(grad if len(WRT[name]) > 1 else (grad,), WRT[name]):
        numeric = numerical_grad(fn, float64_args, k)
        np.testing.assert_allclose(g, numeric, rtol=1e-3 if np.result_type(g) == np.float32 else 1e-6, atol=1e-7)


def tangents_for(name, args, seed):
    rng = np.random.default_rng(seed)
    return tuple(float(rng.normal()) if k in WRT[name] and not isinstance(a, np.ndarray) else
                 rng.normal(size=np.shape(a)) if k in WRT[name] else None for k, a in enumerate(args))


@pytest.fixture(scope="module")
def standalone_forward(tmp_path_factory):
    """``jvp_<name>`` of the module written with ``--mode both`` (model_jvp.py), run where s2sad cannot be imported."""
    folder = tmp_path_factory.mktemp("forward")
    shutil.copy(MODEL, folder / "model.py")
    done = run_s2sad("compile", "model.py", "--mode", "both", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "jvp_damped" in done.stdout and "grad_damped" in done.stdout
    calls = {(name, i): (args, tangents_for(name, args, i)) for name, all_args in CASES.items()
             for i, args in enumerate(all_args)}
    with open(folder / "calls.pkl", "wb") as f:
        pickle.dump(calls, f)
    done = run_without_s2sad("""
        import pickle
        import model_jvp
        with open("calls.pkl", "rb") as f:
            calls = pickle.load(f)
        results = {}
        for (name, i), (args, tangents) in calls.items():
            params = model_jvp.__dict__["jvp_" + name].__code__.co_varnames
            dots = {f"{params[k]}_dot": t for k, t in enumerate(tangents) if t is not None}
            results[(name, i)] = getattr(model_jvp, "jvp_" + name)(*args, **dots)
        with open("results.pkl", "wb") as f:
            pickle.dump((results, sorted(m for m in sys.modules if m.startswith("s2sad"))), f)
    """, folder)
    assert done.returncode == 0, done.stderr
    with open(folder / "results.pkl", "rb") as f:
        results, imported = pickle.load(f)
    assert imported == []
    return calls, results


@pytest.mark.parametrize("name, i", [(name, i) for name, calls in CASES.items() for i in range(len(calls))])
def test_written_forward_mode_gives_what_s2sad_jvp_gives(standalone_forward, name, i):
    calls, results = standalone_forward
    args, tangents = calls[(name, i)]
    fn = getattr(load_model(), name)
    value, tangent = results[(name, i)]
    expected_value, expected = s2sad.jvp(fn, args, tangents)
    assert_same(value, expected_value)
    np.testing.assert_allclose(tangent, expected, rtol=1e-6 if np.result_type(tangent) == np.float32 else 1e-12)
    grads = s2sad.grad(fn, wrt=WRT[name])(*args)
    dot = sum(np.vdot(g, tangents[k]) for g, k in zip(grads, WRT[name]))      # forward against reverse
    single = any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in args)   # float32 arithmetic inside
    np.testing.assert_allclose(tangent, dot, rtol=1e-5 if single else 1e-10)


def test_show_forward_mode(project, capsys):
    assert cli.main(["show", "model.py:poly", "--mode", "forward"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("def poly_jvp(x_dot, x):") and "return (" in out


def test_written_module_holds_what_it_needs_and_imports_only_numpy_and_math(compiled):
    text = (compiled / "model_grad.py").read_text()
    tree = ast.parse(text)
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"math", "numpy", "types", "random"}     # (random: a checkpoint keeps the generators' states)
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    # recursive helpers are linked; small ones (halve, mix, log1pexp) are inlined into their callers
    assert {"grad_both", "value_and_grad_both", "power_vjp", "up_vjp", "down_vjp"} <= defined
    assert "damped" not in defined and "undecorated" not in defined
    assert "\nDECAY = 0.5\n" in text and "\nCLIP = (1.0, (2.0, 'x'))\n" in text
    assert "LABEL" not in text                       # not read by any differentiated code
    assert "\nfrom numpy import tanh\n" in text      # the user's own import style
    assert "@s2sad" not in text and str(ROOT) not in text and str(compiled) not in text


def test_header_names_source_hash_and_version(compiled):
    lines = (compiled / "model_grad.py").read_text().splitlines()
    digest = cli.source_digest((compiled / "model.py").read_bytes())
    assert lines[0] == f"# Generated by s2sad {s2sad.__version__} from model.py; do not edit."
    assert lines[1] == f"# sha256 of model.py's tokens (comments and layout aside): {digest}"
    assert digest == cli.source_digest(b"# a comment\n" + (compiled / "model.py").read_bytes().replace(b" = ", b"=  "))
    assert digest != hashlib.sha256((compiled / "model.py").read_bytes()).hexdigest()
    assert digest != cli.source_digest((compiled / "model.py").read_bytes().replace(b"0.5", b"0.25"))


def test_output_is_byte_identical_across_runs(compiled):
    again = run_s2sad("compile", "model.py", "-o", "again.py", cwd=compiled, seed=2)
    assert again.returncode == 0, again.stderr
    assert (compiled / "again.py").read_bytes() == (compiled / "model_grad.py").read_bytes()
    elsewhere = compiled / "elsewhere"
    elsewhere.mkdir()
    assert cli.main(["compile", str(compiled / "model.py"), "-o", str(compiled / "in_process.py")]) == 0
    assert (compiled / "in_process.py").read_bytes() == (compiled / "model_grad.py").read_bytes()


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A fresh copy of model.py in the current directory."""
    shutil.copy(MODEL, tmp_path / "model.py")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_passes_when_current_and_fails_when_the_source_changed(project, capsys):
    assert cli.main(["compile", "model.py"]) == 0
    written = project / "model_grad.py"
    stamp = written.stat().st_mtime_ns
    assert cli.main(["compile", "model.py", "--check"]) == 0
    capsys.readouterr()
    assert cli.main(["compile", "model.py"]) == 0
    assert capsys.readouterr().out.startswith("model_grad.py is up to date: grad_damped, ")
    assert written.stat().st_mtime_ns == stamp        # unchanged output: not rewritten
    source = project / "model.py"
    source.write_text(source.read_text().replace("DECAY = 0.5", "DECAY = 0.25"))
    capsys.readouterr()
    assert cli.main(["compile", "model.py", "--check"]) == 1
    assert capsys.readouterr().err == "model_grad.py is stale (2 lines differ, from line 2): run `s2sad compile model.py`\n"
    assert written.stat().st_mtime_ns == stamp        # --check writes nothing


def test_check_fails_when_the_output_is_missing(project, capsys):
    assert cli.main(["compile", "model.py", "--check", "-o", "out.py", "--function", "poly"]) == 1
    assert capsys.readouterr().err == "out.py is missing: run `s2sad compile model.py -o out.py --function poly`\n"
    assert not (project / "out.py").exists()


def test_function_option_and_output_path(project, capsys):
    (project / "build").mkdir()
    assert cli.main(["compile", "model.py", "--function", "poly", "undecorated", "-o", "build/grads.py"]) == 0
    assert capsys.readouterr().out == ("wrote build/grads.py: grad_poly, value_and_grad_poly, "
                                       "grad_undecorated, value_and_grad_undecorated\n")
    text = (project / "build" / "grads.py").read_text()
    assert text.splitlines()[0].endswith("from ../model.py; do not edit.")
    defined = {node.name for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)}
    assert {"grad_poly", "grad_undecorated"} <= defined and "grad_damped" not in defined
    namespace = {}
    exec(compile(text, "grads.py", "exec"), namespace)
    assert namespace["grad_undecorated"](2) == 12.0             # wrt 0 when not decorated


def test_show_prints_the_generated_code(project, capsys):
    model = load_model(project / "model.py")
    assert cli.main(["show", "model.py:undecorated"]) == 0
    assert capsys.readouterr().out == s2sad.adjoint_source(model.undecorated)
    assert cli.main(["show", "model.py:both", "--wrt", "1"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(s2sad.adjoint_source(model.both, wrt=1))
    assert "x_bar" not in shown
    assert cli.main(["show", "model.py:poly"]) == 0                  # with the code of the functions it links
    shown = capsys.readouterr().out
    assert shown.startswith(s2sad.adjoint_source(model.poly)) and "def power_vjp(x, n):" in shown


def test_show_from_the_command_line(compiled):
    done = run_s2sad("show", "model.py:poly", cwd=compiled)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("def poly_value_and_grad(x):\n") and "\x1b[" not in done.stdout
    assert "def power_vjp(x, n):" in done.stdout and "def down_vjp(x, n):" in done.stdout


BAD_MODULES = {
    "syntax.py": ("import numpy as np\n\ndef f(x):\n    return x +\n", "syntax.py:4: syntax error: invalid syntax"),
    "unsupported.py": ("""\
        import s2sad

        @s2sad.differentiable
        def f(x):
            try:
                return x * x
            except ValueError:
                return x
        """, "unsupported.py:5: "),
    "global_array.py": ("""\
        import numpy as np
        import s2sad

        W = np.ones(3)

        @s2sad.differentiable
        def f(x):
            y = x * 2.0
            return np.sum(W * y)
        """, "global_array.py:9: `W` is a global numpy.ndarray; a standalone module copies only numbers, "
             "strings and tuples of them (hint: pass `W` to f as an argument)"),
    "fixed.py": ("""\
        import s2sad

        @s2sad.differentiable
        def f(a):
            return s2sad.fixed_point(lambda x, a: 0.5 * x + a, 0.0, a)
        """, "fixed.py:5: the derivative here calls s2sad's `"),
    "raises.py": ("import s2sad\n\nLIMIT = 1 / 0\n", "raises.py:3: importing it raised ZeroDivisionError"),
    "nothing.py": ("def f(x):\n    return x\n", "nothing.py:1: no @s2sad.differentiable function here"),
}


@pytest.mark.parametrize("name", sorted(BAD_MODULES))
def test_errors_name_the_line_exit_2_and_write_nothing(name, tmp_path, monkeypatch, capsys):
    text, message = BAD_MODULES[name]
    (tmp_path / name).write_text(textwrap.dedent(text))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["compile", name]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]   # no output, no temporary file


@pytest.mark.parametrize("argv, message", [
    (["compile", "nosuch.py"], "s2sad compile: nosuch.py: no such file\n"),
    (["show", "nosuch.py:f"], "s2sad show: nosuch.py: no such file\n"),
    (["compile", "."], "s2sad compile: .: no such file\n"),
    (["compile", "model.py", "--function", "nope"],
     "model.py:1: no function `nope` defined here (its @differentiable functions: damped, logistic, poly, both, buffered, checkpointed, squares)\n"),
    (["compile", "model.py", "-o", "missing/out.py"],
     "s2sad compile: cannot write missing/out.py: No such file or directory\n"),
    (["show", "model.py"], "s2sad show: expected MODULE:FUNCTION, got 'model.py'\n"),
    (["show", "model.py:poly", "--wrt", "3"], "model.py:"),
])
def test_command_errors(argv, message, project, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err
    assert sorted(p.name for p in project.iterdir()) == ["model.py"]


def test_a_failed_compile_leaves_the_previous_output_alone(project):
    assert cli.main(["compile", "model.py"]) == 0
    before = (project / "model_grad.py").read_bytes()
    source = project / "model.py"
    source.write_text(source.read_text().replace("DECAY = 0.5", "DECAY = np.array(0.5)"))
    assert cli.main(["compile", "model.py"]) == 2
    assert (project / "model_grad.py").read_bytes() == before
    assert sorted(p.name for p in project.iterdir()) == ["model.py", "model_grad.py"]


def test_command_line_error_exits_2_without_traceback(tmp_path):
    (tmp_path / "bad.py").write_text("def f(x):\n    return x +\n")
    done = run_s2sad("compile", "bad.py", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "bad.py:2: syntax error: invalid syntax\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.py"]


def test_readme_example_is_what_s2sad_compile_writes(tmp_path, monkeypatch, capsys):
    """The "Deploying gradients" section of README.md: its module, excerpts, usage and error are real."""
    section = (ROOT / "README.md").read_text().split("## Deploying gradients\n")[1].split("\n## ")[0]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    module, *excerpts, usage = [code for lang, code in blocks if lang == "python"]
    (error,) = [code for lang, code in blocks if lang == ""]
    source = (MODEL.parent / "loss.py").read_text()
    assert module == source
    (tmp_path / "loss.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cli.main(["compile", "loss.py", "--mode", "both"]) == 0
    written = (tmp_path / "loss_grad.py").read_text()
    assert all(excerpt in written for excerpt in excerpts)
    rng = np.random.default_rng(3)
    args = {"w": rng.normal(size=3), "b": 0.5, "X": rng.normal(size=(5, 3)), "y": np.ones(5)}
    v = rng.normal(size=3)
    exec(usage, namespace := dict(args, v=v))
    del sys.modules["loss_grad"], sys.modules["loss_jvp"]
    loss = load_model(tmp_path / "loss.py").loss
    assert_same((namespace["g_w"], namespace["g_b"]), s2sad.grad(loss)(*args.values()))
    assert_same((namespace["value"], namespace["slope"]), s2sad.jvp(loss, tuple(args.values()), (v, 0.0, None, None)))
    np.testing.assert_allclose(namespace["slope"], np.vdot(namespace["g_w"], v), rtol=1e-12)
    (tmp_path / "loss.py").write_text(source.replace("L2 = 0.01", "L2 = np.full(3, 0.01)"))
    assert cli.main(["compile", "loss.py"]) == 2
    assert capsys.readouterr().err == error
    assert "entry: s2sad compile loss.py --check" in section


def test_what_a_standalone_module_cannot_hold_is_named(tmp_path, monkeypatch, capsys):
    (tmp_path / "held.py").write_text(textwrap.dedent("""\
        from collections import namedtuple

        import numpy as np
        import s2sad

        Pair = namedtuple("Pair", "a b")


        def make(weights):
            def inner(x):
                return np.sum(weights * x)
            return inner


        scaled = make(np.ones(2))


        @s2sad.differentiable
        def via_closure(x):
            return scaled(x)


        @s2sad.differentiable
        def via_class(x):
            p = Pair(x, 2.0)
            return p.a * p.b
        """))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["compile", "held.py", "--function", "via_closure"]) == 2
    assert capsys.readouterr().err.startswith("held.py:11: `weights` is a numpy.ndarray of the enclosing function; ")
    assert cli.main(["compile", "held.py", "--function", "via_class"]) == 2
    assert capsys.readouterr().err.startswith("held.py:25: `Pair` is a class; ")


def test_names_the_user_modules_and_functions_it_cannot_carry(tmp_path, monkeypatch, capsys):
    (tmp_path / "sibling.py").write_text("SCALE = 3.0\n\n\ndef count(n):\n    return n + 1\n\n\n"
                                         "def scaled(x):\n    return x * SCALE\n")
    (tmp_path / "user.py").write_text(textwrap.dedent("""\
        import s2sad
        import sibling
        from sibling import count, scaled

        SCALE = 2.0
        steps = count


        @s2sad.differentiable
        def via_module(x, n):
            return x * getattr(sibling, "SCA" + "LE") ** n


        @s2sad.differentiable
        def via_alias(x, n):
            return x * steps(n)


        @s2sad.differentiable
        def via_two_scales(x):
            return scaled(x) * SCALE


        @s2sad.differentiable
        def fine(x, n):
            return scaled(x) * count(n) + sibling.scaled(x) * sibling.count(n) * sibling.SCALE
        """))
    monkeypatch.chdir(tmp_path)
    expected = {
        "via_module": "user.py:11: `sibling` is the module sibling, read here other than as `sibling.NAME`, and a "
                      "standalone module cannot import it (hint: import the functions you use from it by name)\n",
        "via_alias": "user.py:16: `steps` is the function count under another name (hint: call it as `count`)\n",
        "via_two_scales": "sibling.py:9: `SCALE` here is not the `SCALE` via_two_scales reads at user.py:21, "
                          "and a standalone module holds one (hint: rename one of them)\n",
    }
    for name, message in expected.items():
        assert cli.main(["compile", "user.py", "--function", name]) == 2
        assert capsys.readouterr().err == message
    assert cli.main(["compile", "user.py", "--function", "fine", "--check"]) == 1
    assert cli.main(["compile", "user.py", "--function", "fine", "-o", "user.py"]) == 2
    assert "is the input itself" in capsys.readouterr().err
    assert cli.main(["compile", "user.py", "--function", "fine"]) == 0
    namespace = {}
    exec((tmp_path / "user_grad.py").read_text(), namespace)
    assert namespace["grad_fine"](1.0, 2) == 9.0 + 27.0 and "def count(n):" in (tmp_path / "user_grad.py").read_text()
    assert "\nsibling = SimpleNamespace(SCALE=3.0, count=count)\n" in (tmp_path / "user_grad.py").read_text()


def test_refuses_a_file_that_is_not_python(tmp_path, monkeypatch, capsys):
    (tmp_path / "notes.txt").write_text("def f(x):\n    return x\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["compile", "notes.txt"]) == 2
    assert capsys.readouterr().err == "s2sad compile: notes.txt: not a Python file (.py)\n"


def test_show_colours_only_on_a_terminal():
    pytest.importorskip("pygments")

    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty
    text = "def f_value_and_grad(x):\n    return (x, 1.0)\n"
    coloured = cli._highlighted(text, Stream(tty=True))
    assert "\x1b[" in coloured and "f_value_and_grad" in coloured
    assert cli._highlighted(text, Stream(tty=False)) == text


# --- issue 15: forward mode beside reverse mode, packages, permissions, stable output, tracebacks ---------------

def test_forward_mode_writes_its_own_module_beside_the_gradient_module(project, capsys):
    assert cli.main(["compile", "model.py", "--function", "poly"]) == 0
    gradients = (project / "model_grad.py").read_bytes()
    capsys.readouterr()
    assert cli.main(["compile", "model.py", "--function", "poly", "--mode", "forward"]) == 0
    assert capsys.readouterr().out == "wrote model_jvp.py: jvp_poly\n"
    assert (project / "model_grad.py").read_bytes() == gradients          # not clobbered
    forward = (project / "model_jvp.py").read_text()
    assert "def jvp_poly(" in forward and "def grad_poly(" not in forward
    assert cli.main(["compile", "model.py", "--function", "poly", "--check"]) == 0
    assert cli.main(["compile", "model.py", "--function", "poly", "--mode", "forward", "--check"]) == 0
    namespace = {}
    exec(compile(forward, "model_jvp.py", "exec"), namespace)
    value, tangent = namespace["jvp_poly"](0.8, x_dot=1.0)
    assert tangent == pytest.approx(s2sad.grad(load_model(project / "model.py").poly)(0.8), rel=1e-12)


def test_both_modes_write_both_modules_or_one_module_with_every_function(project, capsys):
    assert cli.main(["compile", "model.py", "--function", "poly", "--mode", "both"]) == 0
    assert capsys.readouterr().out == ("wrote model_grad.py: grad_poly, value_and_grad_poly\n"
                                       "wrote model_jvp.py: jvp_poly\n")
    grad_text, jvp_text = (project / "model_grad.py").read_text(), (project / "model_jvp.py").read_text()
    assert cli.main(["compile", "model.py", "--function", "poly"]) == 0          # the same files as one mode writes
    assert cli.main(["compile", "model.py", "--function", "poly", "--mode", "forward"]) == 0
    assert (project / "model_grad.py").read_text() == grad_text and (project / "model_jvp.py").read_text() == jvp_text
    assert cli.main(["compile", "model.py", "--function", "poly", "--mode", "both", "--check"]) == 0
    (project / "model_jvp.py").unlink()
    capsys.readouterr()
    assert cli.main(["compile", "model.py", "--function", "poly", "--mode", "both", "--check"]) == 1
    assert capsys.readouterr().err == ("model_jvp.py is missing: "
                                       "run `s2sad compile model.py --function poly --mode both`\n")
    assert cli.main(["compile", "model.py", "--function", "poly", "--mode", "both", "-o", "all.py"]) == 0
    assert capsys.readouterr().out == "wrote all.py: grad_poly, value_and_grad_poly, jvp_poly\n"
    defined = {node.name for node in ast.parse((project / "all.py").read_text()).body
               if isinstance(node, ast.FunctionDef)}
    assert {"grad_poly", "value_and_grad_poly", "jvp_poly"} <= defined


def test_help_and_readme_say_where_each_mode_is_written():
    text = cli._parser()._subparsers._group_actions[0].choices["compile"].format_help()
    assert "_jvp.py" in " ".join(text.split())
    section = (ROOT / "README.md").read_text().split("## Deploying gradients\n")[1].split("\n## ")[0]
    assert "not available yet" not in section and "loss_jvp.py" in section


PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/helpers.py": """\
        import numpy as np

        SCALE = 3.0


        def square(x):
            return x * x


        def cube(x):
            return SCALE * x ** 3
        """,
    "pkg/sub/__init__.py": "",
    "pkg/sub/mod.py": """\
        import numpy as np
        import s2sad

        from ..helpers import square
        from .. import helpers
        from pkg.helpers import SCALE


        @s2sad.differentiable
        def relative(x):
            return np.sin(square(x)) + SCALE * x


        @s2sad.differentiable
        def through_module(x):
            return helpers.cube(x) + helpers.SCALE
        """,
}


def console_script(folder):
    """A copy of what pip writes as the ``s2sad`` script: run by path, so sys.path[0] is its folder."""
    script = folder / "bin" / "s2sad"
    script.parent.mkdir()
    script.write_text("import re\nimport sys\nfrom s2sad.__main__ import main\n"
                      "if __name__ == '__main__':\n"
                      "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
                      "    sys.exit(main())\n")
    return script


@pytest.mark.parametrize("entry", ["python -m s2sad", "s2sad script"])
@pytest.mark.parametrize("cwd", [".", "pkg"])
def test_relative_imports_in_a_package(entry, cwd, tmp_path):
    for name, text in PACKAGE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    work = tmp_path / cwd
    target = os.path.relpath(tmp_path / "pkg/sub/mod.py", work)
    if entry == "python -m s2sad":
        done = run_s2sad("compile", target, cwd=work)
    else:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, str(console_script(tmp_path)), "compile", target], cwd=work, env=env,
                              capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "pkg/sub/mod_grad.py"
    done = run_without_s2sad("""
        import mod_grad
        print(repr(mod_grad.grad_relative(0.7)), repr(mod_grad.grad_through_module(0.7)))
    """, written.parent)
    assert done.returncode == 0, done.stderr
    got = [float(v) for v in done.stdout.split()]
    assert got == pytest.approx([np.cos(0.49) * 1.4 + 3.0, 9.0 * 0.49], rel=1e-12)


def test_both_entry_points_resolve_imports_the_same_way(tmp_path):
    """A module importing a file of the current directory (not of its own folder) fails through either
    entry, as ``python sub/user.py`` would; one importing its neighbour works through either."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "here.py").write_text("K = 2.0\n")
    (tmp_path / "sub" / "near.py").write_text("K = 2.0\n")
    (tmp_path / "sub" / "user.py").write_text("import s2sad\nfrom here import K\n\n\n@s2sad.differentiable\n"
                                              "def f(x):\n    return K * x\n")
    (tmp_path / "sub" / "fine.py").write_text("import s2sad\nfrom near import K\n\n\n@s2sad.differentiable\n"
                                              "def f(x):\n    return K * x\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = console_script(tmp_path)
    for module, status in [("sub/user.py", 2), ("sub/fine.py", 0)]:
        by_m = run_s2sad("compile", module, "--check", cwd=tmp_path)
        by_script = subprocess.run([sys.executable, str(script), "compile", module, "--check"], cwd=tmp_path, env=env,
                                   capture_output=True, text=True)
        assert by_m.returncode == by_script.returncode == (status or 1), (by_m.stderr, by_script.stderr)
        assert by_m.stderr == by_script.stderr
    assert by_m.stderr.startswith("sub/fine_grad.py is missing")
    assert "ModuleNotFoundError: No module named 'here'" in \
        run_s2sad("compile", "sub/user.py", cwd=tmp_path).stderr


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_get_the_permissions_open_would_give(umask, project):
    old = os.umask(umask)
    try:
        assert cli.main(["compile", "model.py", "--function", "poly"]) == 0
    finally:
        os.umask(old)
    assert (project / "model_grad.py").stat().st_mode & 0o777 == 0o666 & ~umask


def test_rewriting_keeps_the_permissions_of_the_file(project):
    assert cli.main(["compile", "model.py", "--function", "poly"]) == 0
    os.chmod(project / "model_grad.py", 0o640)
    source = project / "model.py"
    source.write_text(source.read_text().replace("power(x, 3)", "power(x, 4)"))
    assert cli.main(["compile", "model.py", "--function", "poly"]) == 0
    assert "power(x, 4)" in (project / "model_grad.py").read_text()
    assert (project / "model_grad.py").stat().st_mode & 0o777 == 0o640


def changed_lines(before, after):
    import difflib
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("old, new, most", [
    ("y = x * (i + 1)", "y = x * (i + x)", 10),                 # one token, an operand
    ("y = x * (i + 1)", "y = x * (i + 1) ** 2", 12),            # one more operation early in a function
    ("z = X @ w + b", "z = X @ w - b", 6),
    ("total = 0.0\n", "total = 0.0\n    n = n\n", 2),          # a new line early on: nothing else moves
])
def test_a_small_edit_changes_few_lines_of_the_output(old, new, most, mode, project):
    assert cli.main(["compile", "model.py", "--mode", mode, "-o", "before.py"]) == 0
    source = project / "model.py"
    assert old in source.read_text()
    source.write_text(source.read_text().replace(old, new, 1))
    assert cli.main(["compile", "model.py", "--mode", mode, "-o", "after.py"]) == 0
    changed = changed_lines((project / "before.py").read_text(), (project / "after.py").read_text())
    assert 0 < len(changed) <= 2 * most, "\n".join(changed)


def test_a_comment_only_edit_keeps_check_green(project, capsys):
    assert cli.main(["compile", "model.py"]) == 0
    capsys.readouterr()
    before = (project / "model_grad.py").read_bytes()
    source = project / "model.py"
    text = source.read_text()
    text = text.replace("DECAY = 0.5", "# how fast it decays\nDECAY = 0.5  # per step")
    text = text.replace("    total = 0.0\n", "    # a running sum\n\n    total = 0.0  # starts at zero\n")
    source.write_text(text)
    assert cli.main(["compile", "model.py", "--check"]) == 0
    assert cli.main(["compile", "model.py"]) == 0
    assert capsys.readouterr().out.startswith("model_grad.py is up to date")
    assert (project / "model_grad.py").read_bytes() == before


def test_check_says_when_only_the_source_hash_differs(project, capsys):
    assert cli.main(["compile", "model.py"]) == 0
    source = project / "model.py"
    source.write_text(source.read_text().replace('"""Recursion and mutual recursion."""', '"""Recursion."""'))
    capsys.readouterr()
    assert cli.main(["compile", "model.py", "--check"]) == 1
    assert capsys.readouterr().err == ("model_grad.py is stale, but only the source hash in its header differs "
                                       "(the code is the same): run `s2sad compile model.py`\n")
    source.write_text(source.read_text().replace("DECAY = 0.5", "DECAY = 0.25"))
    assert cli.main(["compile", "model.py", "--check"]) == 1
    assert capsys.readouterr().err.startswith("model_grad.py is stale (")


def test_command_line_errors_show_no_traceback_unless_asked(tmp_path):
    (tmp_path / "helper.py").write_text("def setup():\n    return 1 / 0\n")
    (tmp_path / "user.py").write_text("import s2sad\nfrom helper import setup\n\nRATE = setup()\n")
    done = run_s2sad("compile", "user.py", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "user.py:4: importing it raised ZeroDivisionError: division by zero\n"
    done = subprocess.run([sys.executable, "-m", "s2sad", "compile", "user.py"], cwd=tmp_path, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT), S2SAD_TRACEBACK="full"))
    assert done.returncode == 2
    assert "Traceback (most recent call last)" in done.stderr and "s2sad" + os.sep + "aot" in done.stderr
    assert done.stderr.endswith("user.py:4: importing it raised ZeroDivisionError: division by zero\n")


def alpha_equivalent(a, b):
    """Whether the sources ``a`` and ``b`` are the same code up to a one-to-one renaming of the names it
    binds (the names it reads from its module stay)."""
    forward, backward = {}, {}

    def same_name(x, y):
        return forward.setdefault(x, y) == y and backward.setdefault(y, x) == x

    def same(x, y):
        if type(x) is not type(y):
            return False
        if isinstance(x, list):
            return len(x) == len(y) and all(same(p, q) for p, q in zip(x, y))
        if not isinstance(x, ast.AST):
            return x == y
        for field in x._fields:
            p, q = getattr(x, field), getattr(y, field)
            if (isinstance(x, ast.Name) and field == "id") or (isinstance(x, ast.arg) and field == "arg") or \
                    (isinstance(x, ast.FunctionDef) and field == "name"):
                if not same_name(p, q):
                    return False
            elif not same(p, q):
                return False
        return True
    from s2sad.aot.names import global_names
    return same(ast.parse(a), ast.parse(b)) and all(forward.get(g, g) == g for g in global_names(a))


def test_alpha_equivalent():
    assert alpha_equivalent("def f(a):\n    x = a + 1\n    return x", "def f(b):\n    y = b + 1\n    return y")
    assert not alpha_equivalent("def f(a):\n    x = a + 1\n    return x", "def f(a):\n    x = a + 1\n    return a")
    assert not alpha_equivalent("def f(a):\n    return a + np.pi", "def f(a):\n    return a + sp.pi")


def test_stable_names_are_a_renaming_of_the_generated_code():
    """Over the functions of the test programs, in both modes: the written code is the generated code
    with names changed one-to-one (so it computes the same), and its comments cite no line numbers."""
    from s2sad import pipeline
    from s2sad.aot.stable import _file_names, stable
    modules = [importlib.import_module(f"tests.{name}") for name in ("regression_programs", "optimized_functions",
                                                          "golden_functions")]
    renamed = 0
    for module in modules:
        for name, fn in sorted(vars(module).items()):
            if not inspect.isfunction(fn) or fn.__module__ != module.__name__ or not fn.__code__.co_argcount:
                continue
            for kind in ("value_and_grad", "jvp"):
                try:
                    text = pipeline.generate(fn, (0,), kind).text
                except Exception:
                    continue
                written = stable(text)
                assert alpha_equivalent(_file_names(text), written), (name, kind, written)
                assert str(ROOT) not in written
                assert not re.search(r"# (grad of )?line \d+", written)
                renamed += written != text
    assert renamed > 100


def test_a_module_its_package_imports_runs_once_and_leaves_sys_modules_alone(tmp_path, monkeypatch, capsys):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from .mod import f\n")
    (tmp_path / "pkg" / "mod.py").write_text("import s2sad\nprint('executing mod')\n\n\n@s2sad.differentiable\n"
                                             "def f(x):\n    return x * x\n")
    monkeypatch.chdir(tmp_path)
    before = set(sys.modules)
    assert cli.main(["compile", "pkg/mod.py"]) == 0
    assert capsys.readouterr().out == "executing mod\nwrote pkg/mod_grad.py: grad_f, value_and_grad_f\n"
    assert not {m for m in set(sys.modules) - before if m.split(".")[0] == "pkg"}
    namespace = {}
    exec((tmp_path / "pkg" / "mod_grad.py").read_text(), namespace)
    assert namespace["grad_f"](3.0) == 6.0


def test_an_unreadable_output_is_a_command_error(project, capsys):
    (project / "model_grad.py").write_bytes(b"\xff\xfe not utf-8")
    assert cli.main(["compile", "model.py", "--function", "poly"]) == 2
    assert capsys.readouterr().err.startswith("s2sad compile: cannot read model_grad.py: ")


def test_a_refusal_at_run_time_names_the_file_without_its_folder(tmp_path, monkeypatch):
    (tmp_path / "alias.py").write_text(textwrap.dedent("""\
        import s2sad


        @s2sad.differentiable
        def f(x, n=1):
            v = x
            x *= 0.9
            return v[0]
        """))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["compile", "alias.py"]) == 0
    text = (tmp_path / "alias_grad.py").read_text()
    assert str(tmp_path) not in text and "'alias.py:7: `x *=` would change `v` too" in text
    namespace = {}
    exec(compile(text, "alias_grad.py", "exec"), namespace)
    with pytest.raises(Exception, match=r"^alias.py:7: `x \*=` would change `v` too .*here it holds an? ") as info:
        namespace["grad_f"](np.ones(3))
    assert type(info.value).__name__ == "UnsupportedSyntaxError"


def test_check_names_a_difference_in_line_endings_only(project, capsys):
    assert cli.main(["compile", "model.py", "--function", "poly"]) == 0
    written = project / "model_grad.py"
    written.write_bytes(written.read_bytes().rstrip(b"\n"))
    capsys.readouterr()
    assert cli.main(["compile", "model.py", "--function", "poly", "--check"]) == 1
    assert capsys.readouterr().err == ("model_grad.py is stale (its line endings differ): "
                                       "run `s2sad compile model.py --function poly`\n")


def test_what_a_module_attribute_cannot_carry_is_named_with_its_module(tmp_path, monkeypatch, capsys):
    (tmp_path / "helpers.py").write_text("import numpy as np\n\nW = np.ones(3)\n\n\ndef cube(x):\n    return x ** 3\n\n\n"
                                         "g = cube\n")
    (tmp_path / "user.py").write_text(textwrap.dedent("""\
        import numpy as np
        import s2sad
        import helpers


        @s2sad.differentiable
        def weighted(x):
            y = x * 2.0
            return np.sum(helpers.W * y)


        @s2sad.differentiable
        def aliased(x, n):
            y = x * 2.0
            return y * helpers.g(n)
        """))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["compile", "user.py", "--function", "weighted"]) == 2
    assert capsys.readouterr().err == ("user.py:9: `helpers.W` is a global numpy.ndarray; a standalone module copies "
                                       "only numbers, strings and tuples of them (hint: pass `helpers.W` to weighted "
                                       "as an argument)\n")
    assert cli.main(["compile", "user.py", "--function", "aliased"]) == 2
    assert capsys.readouterr().err == ("user.py:15: `helpers.g` is the function cube under another name "
                                       "(hint: call it as `helpers.cube`)\n")


def test_a_comment_only_edit_of_a_copied_function_keeps_check_green(tmp_path, monkeypatch, capsys):
    helper = tmp_path / "helper.py"
    helper.write_text("def count(n):\n    return n + 1\n")
    (tmp_path / "user.py").write_text(textwrap.dedent("""\
        import s2sad
        from helper import count


        @s2sad.differentiable
        def f(x, n):
            return x * count(n)
        """))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["compile", "user.py"]) == 0
    written = (tmp_path / "user_grad.py").read_text()
    assert "\ndef count(n):\n    return n + 1\n" in written          # copied, not inlined (another module)
    helper.write_text(helper.read_text().replace("    return n + 1\n", "    # one more\n\n    return n+1  # !\n"))
    assert cli.main(["compile", "user.py", "--check"]) == 0
    helper.write_text(helper.read_text().replace("n+1", "n+2"))
    capsys.readouterr()
    assert cli.main(["compile", "user.py", "--check"]) == 1
    assert capsys.readouterr().err.startswith("user_grad.py is stale (1 line differs, from line ")


def test_imports_of_the_function_body_and_scipy_ufuncs_are_carried(tmp_path, monkeypatch, capsys):
    """``from scipy.special import expit as sig`` inside the function (and read by a function nested in it), and
    ``gammaln`` at module level: a ufunc names no module of its own; the standalone module imports it from SciPy."""
    (tmp_path / "local_imports.py").write_text(textwrap.dedent("""\
        import numpy as np
        import s2sad
        from scipy.special import gammaln


        @s2sad.differentiable
        def loss(x):
            from scipy.special import expit as sig
            import numpy.linalg as la
            def inner(v):
                return sig(v) * la.norm(v)
            return np.sum(inner(x) * gammaln(x))
        """))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["compile", "local_imports.py"]) == 0, capsys.readouterr().err
    written = (tmp_path / "local_imports_grad.py").read_text()
    assert "from scipy.special import expit as sig" in written and "from scipy.special import gammaln" in written
    done = run_without_s2sad("import numpy as np\nimport local_imports_grad as g\n"
                             "print(*g.grad_loss(np.array([0.5, 1.5])))", tmp_path)
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("local_imports")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("local_imports", None)
    x = np.array([0.5, 1.5])
    np.testing.assert_allclose([float(v) for v in done.stdout.split()], numerical_grad(module.loss, [x], 0), rtol=1e-7)


def test_a_builtins_name_bound_to_another_function_is_refused(tmp_path, monkeypatch, capsys):
    """`from numpy import all` in the function's body became the module's `all`, which the helpers copied beside it
    call as Python's: a repeated index counted once (a wrong gradient), `min(n, m)` an AxisError."""
    (tmp_path / "shadow.py").write_text(textwrap.dedent("""\
        import numpy as np
        import s2sad


        @s2sad.differentiable
        def loss(x):
            from numpy import all
            return np.sum(x[[0, 0, 1]] ** 2) * all(x > -5.0)
        """))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["compile", "shadow.py"]) == 2
    assert "`all` here is not Python's builtin `all`" in capsys.readouterr().err
