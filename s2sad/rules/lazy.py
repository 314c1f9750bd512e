"""Register a module's rules when the user imports that module, never before (s2sad does not import scipy).

``when_imported("scipy.linalg", register)`` calls ``register(module)`` at once if the module is already
imported; otherwise a finder on ``sys.meta_path`` waits for that one module, lets its loader run it, then
calls ``register`` and leaves ``sys.meta_path`` (the loader is left as it was). ``register`` failing
(an unexpected version of the library) warns and breaks neither s2sad nor the library.

The scipy rule modules use it (rules/scipy_special.py, scipy_linalg.py, scipy_signal.py,
scipy_integrate.py).
"""
import importlib.abc
import sys
import warnings


class _WhenImported(importlib.abc.MetaPathFinder):
    """Calls ``register`` right after the module ``name`` is imported, then leaves ``sys.meta_path``."""

    def __init__(self, name, register):
        self.name, self.register = name, register

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        for finder in sys.meta_path:                  # the finder that would have found it
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or isinstance(spec.loader, type) or not hasattr(spec.loader, "exec_module"):
            return spec                                 # not a loader object of its own (builtin, frozen)
        loader = spec.loader

        def exec_then_register(module):
            try:
                type(loader).exec_module(loader, module)
            finally:
                del loader.exec_module                  # the loader as it was
            self.uninstall()
            register_or_warn(self.name, self.register, module)
        loader.exec_module = exec_then_register
        return spec

    def uninstall(self):
        if self in sys.meta_path:
            sys.meta_path.remove(self)


def register_or_warn(name, register, module):
    try:
        register(module)
    except Exception as exc:                            # an unexpected library must break neither s2sad nor it
        warnings.warn(f"s2sad: no derivative rules for {name} {getattr(module, '__version__', '')}: {exc!r}",
                      RuntimeWarning, stacklevel=2)


def when_imported(name, register):
    """Call ``register(module)`` once ``name`` is imported (now, if it is). Returns the finder (None if it
    was imported already), which has left ``sys.meta_path`` once it has done its work."""
    if name in sys.modules:
        register_or_warn(name, register, sys.modules[name])
        return None
    finder = _WhenImported(name, register)
    sys.meta_path.insert(0, finder)
    return finder
