"""Import the user's module from its file and find the functions to export."""
import importlib.util
import os
import sys
import traceback
from pathlib import Path

from ..markers import wrt_indices as _wrt
from ..front.source import unwrap
from .gather import StandaloneError
from .write import Export


def load(path):
    """Import the module at ``path`` as Python would run it: a module in a package (a folder with an
    ``__init__.py``, and its parents that have one) as ``python -m package.module`` from the folder
    above the package, so its relative imports work; any other module with its own folder first on
    ``sys.path`` (so its imports of neighbouring modules work). Either way only that folder is added,
    whatever the current directory or the way s2sad was started.

    A syntax error or an exception while importing becomes a StandaloneError at the user's line.
    """
    path = Path(path).resolve()
    root, name = module_name(path)
    top = name.split(".")[0]
    mine = {k: sys.modules.pop(k) for k in list(sys.modules) if k == top or k.startswith(top + ".")}
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    try:
        if "." in name:
            importlib.import_module(name.rpartition(".")[0])          # the packages, for relative imports
        module = sys.modules.get(name)                   # (imported already by its package's __init__.py)
        if module is None or os.path.realpath(getattr(module, "__file__", None) or "") != str(path):
            spec = importlib.util.spec_from_file_location(
                name, path, submodule_search_locations=[str(path.parent)] if path.name == "__init__.py" else None)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module                   # dataclasses and pickling look the module up
            spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise StandaloneError(f"syntax error: {exc.msg}", filename=exc.filename or str(path),
                              lineno=exc.lineno) from None
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.realpath(f.filename) == str(path)]
        raise StandaloneError(f"importing it raised {type(exc).__name__}: {exc}", filename=str(path),
                              lineno=frames[-1].lineno if frames else 1) from None
    finally:
        sys.path.remove(str(root))
        for k in [k for k in sys.modules if k == top or k.startswith(top + ".")]:
            del sys.modules[k]
        sys.modules.update(mine)
    return module


def module_name(path):
    """The folder to put on ``sys.path`` and the dotted name to import the file ``path`` by:
    ``(Path("/src"), "pkg.sub.mod")`` for /src/pkg/sub/mod.py when pkg and pkg/sub have an ``__init__.py``."""
    parts = [] if path.name == "__init__.py" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return folder, ".".join(parts) or path.parent.name


def exports(module, names=None):
    """The functions of ``module`` to export: its ``@differentiable`` functions, or the functions
    named in ``names``, each with the ``wrt`` of its decorator (default 0), in source order."""
    defined = {name: obj for name, obj in vars(module).items() if callable(obj) and _defined_in(unwrap(obj), module)}
    marked = sorted((n for n, obj in defined.items() if hasattr(obj, "__s2sad_wrt__")), key=lambda n: _line(defined[n]))
    where = module.__file__
    if names is None:
        if not marked:
            raise StandaloneError("no @s2sad.differentiable function here", filename=where, lineno=1,
                                  hint="decorate the functions to export, or name them with --function")
        names = marked
    for name in names:
        if name not in defined:
            raise StandaloneError(f"no function `{name}` defined here (its @differentiable functions: "
                                  f"{', '.join(marked) or 'none'})", filename=where, lineno=1)
    chosen = []
    for name in sorted(dict.fromkeys(names), key=lambda n: _line(defined[n])):
        wrt, many = _wrt(defined[name], None)
        chosen.append(Export(name, unwrap(defined[name]), wrt, many))
    return chosen


def _defined_in(fn, module):
    return getattr(fn, "__code__", None) is not None and fn.__code__.co_filename == module.__file__


def _line(fn):
    return unwrap(fn).__code__.co_firstlineno
