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
    """Import the module at ``path`` as ``import`` would, with its directory first on ``sys.path``
    meanwhile (so its own imports of neighbouring modules work).

    A syntax error or an exception while importing becomes a StandaloneError at the user's line.
    """
    path = Path(path).resolve()
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    added = path.stem not in sys.modules
    if added:
        sys.modules[path.stem] = module                  # dataclasses and pickling look the module up
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise StandaloneError(f"syntax error: {exc.msg}", filename=exc.filename or str(path),
                              lineno=exc.lineno) from None
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.realpath(f.filename) == str(path)]
        raise StandaloneError(f"importing it raised {type(exc).__name__}: {exc}", filename=str(path),
                              lineno=frames[-1].lineno if frames else 1) from None
    finally:
        sys.path.remove(str(path.parent))
        if added:
            del sys.modules[path.stem]
    return module


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
