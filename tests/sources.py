"""Test functions written to a real file and imported from it: s2sad reads a function's source, so the
functions a test builds from text must live in a .py file."""
import importlib.util


def load_module(path, text):
    """Write ``text`` to ``path`` and import it as a module named after the file."""
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
