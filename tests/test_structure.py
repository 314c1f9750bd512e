"""The package's structure: no module needs another to be imported before it.

Every module of s2sad/ imports by itself in a fresh interpreter, and the graph of s2sad's modules
built from their module-level ``import``/``from ... import`` statements has no cycle (a cycle works
only as long as each module of it defines what the others read before importing them).
"""
import ast
import concurrent.futures
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent          # the repository (the directory holding s2sad/)
PACKAGE = "s2sad"


def _walk(directory, prefix):
    """Module names under ``directory`` (pkgutil, without importing anything)."""
    for info in pkgutil.iter_modules([str(directory)]):
        name = prefix + info.name
        yield name
        if info.ispkg:
            yield from _walk(directory / info.name, name + ".")


MODULES = [PACKAGE] + sorted(_walk(ROOT / PACKAGE, PACKAGE + "."))


def _is_package(name):
    return (ROOT / name.replace(".", "/") / "__init__.py").exists()


def _path(name):
    base = ROOT / name.replace(".", "/")
    return base / "__init__.py" if _is_package(name) else base.with_suffix(".py")


# --- every module imported first ------------------------------------------------------------------
def _import_alone(name, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=120)
    return name, run.returncode, run.stderr


def test_modules_are_found():
    """The walk sees the package's modules, subpackages included (so the tests below cover them)."""
    assert {"s2sad", "s2sad.api", "s2sad.pipeline", "s2sad.rules.registry", "s2sad.front.source",
            "s2sad.__main__"} <= set(MODULES)
    assert len(MODULES) == len(set(MODULES)) > 40


def test_every_module_imports_first_in_a_fresh_interpreter(tmp_path):
    """``import s2sad.<module>`` as the first statement of a new interpreter succeeds, for every module."""
    workers = min(8, 2 * (os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda name: _import_alone(name, tmp_path), MODULES))
    failed = {name: stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {code}"
              for name, code, stderr in results if code != 0}
    assert failed == {}


# --- the import graph -----------------------------------------------------------------------------
def _ancestors(name):
    """The packages enclosing module ``name`` (already being imported when its code runs), and itself."""
    parts = name.split(".")
    return {".".join(parts[:k]) for k in range(1, len(parts) + 1)}


def _top_level_imports(statements):
    """Import statements that run when the module is imported: at module level, in if/try/with blocks and
    class bodies; not in functions, nor under ``if __name__ == "__main__"``."""
    for s in statements:
        if isinstance(s, (ast.Import, ast.ImportFrom)):
            yield s
        elif isinstance(s, ast.If):
            test = s.test
            if isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__":
                continue
            yield from _top_level_imports(s.body)
            yield from _top_level_imports(s.orelse)
        elif isinstance(s, ast.Try):
            for block in (s.body, s.orelse, s.finalbody, *(h.body for h in s.handlers)):
                yield from _top_level_imports(block)
        elif isinstance(s, (ast.With, ast.ClassDef)):
            yield from _top_level_imports(s.body)


def _dependencies(name):
    """The modules of the package whose code ``name``'s module-level imports need run (or running)."""
    tree = ast.parse(_path(name).read_text(encoding="utf-8"), str(_path(name)))
    here = name if _is_package(name) else name.rpartition(".")[0]
    known, enclosing = set(MODULES), _ancestors(name)
    deps = set()

    def module_and_its_packages(target):
        """``import a.b.c`` runs a, a.b and a.b.c; those enclosing ``name`` are already running."""
        parts = target.split(".")
        for k in range(1, len(parts) + 1):
            prefix = ".".join(parts[:k])
            if prefix in known and prefix not in enclosing:
                deps.add(prefix)

    for s in _top_level_imports(tree.body):
        if isinstance(s, ast.Import):
            for alias in s.names:
                module_and_its_packages(alias.name)
            continue
        if s.level:
            base = here.split(".")[:len(here.split(".")) - (s.level - 1)]
            base = ".".join(base + ([s.module] if s.module else []))
        else:
            base = s.module or ""
        if base.split(".")[0] != PACKAGE:
            continue
        module_and_its_packages(base)
        for alias in s.names:
            sub = f"{base}.{alias.name}"
            if sub in known:
                module_and_its_packages(sub)
            elif base in known:          # an attribute of base's namespace, read while it may be running
                deps.add(base)
    deps.discard(name)
    return deps


def _graph():
    return {name: _dependencies(name) for name in MODULES}


def _components(graph):
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []
    counter = iter(range(10 ** 9))

    def visit(v):
        index[v] = low[v] = next(counter)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(components)


def _shortest_cycle(graph, component):
    """A shortest cycle through the component's first module, as a list (the first module repeated last)."""
    start, members = component[0], set(component)
    paths, frontier = {start: [start]}, [start]
    while frontier:                                   # breadth first
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle through {start} in {component}")


def test_import_graph_sees_the_package_imports():
    """The graph builder finds relative, absolute and attribute imports (so an empty cycle list means
    something): a few edges known from the sources."""
    graph = _graph()
    assert "s2sad.pipeline" in graph["s2sad.api"]                  # from . import markers, pipeline
    assert "s2sad.rules.registry" in graph["s2sad.pipeline"]       # from .rules import registry
    assert "s2sad.rules" in graph["s2sad.pipeline"]                # ... runs s2sad/rules/__init__.py first
    assert "s2sad.front.source" in graph["s2sad.api"]              # from .front.source import unwrap
    assert "s2sad.aot" in graph["s2sad.cli"]                       # from . import aot, unit as units
    assert "s2sad.version" in graph["s2sad.cli"]                   # from .version import __version__
    assert "s2sad.api" not in graph["s2sad.implicit"]              # imported inside functions only
    assert graph["s2sad.rules.registry"] == set()
    toy = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _components(toy) == [["a", "b", "c"]] and _shortest_cycle(toy, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_import_graph_has_no_cycle():
    """No cycle among s2sad's modules' module-level imports."""
    graph = _graph()
    found = [f"modules {', '.join(c)}; e.g. {' -> '.join(_shortest_cycle(graph, c))}" for c in _components(graph)]
    assert found == [], "import cycles:\n" + "\n".join(found)
