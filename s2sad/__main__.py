"""``python -m s2sad`` and the ``s2sad`` script: the command line of s2sad/cli.py.

Python puts a folder of its own first on ``sys.path`` before running either: the current
directory for ``python -m s2sad``, the script's folder for ``s2sad``. ``main`` takes it off while
the command runs, so the user's module imports the same modules whichever way s2sad was started
(s2sad/aot/load.py adds the module's own folder, or the folder above its package).
"""
import os
import sys

from . import cli


def main():
    """Run the command line on ``sys.argv``; returns the exit status."""
    entry = _entry_folder()
    if entry is not None:
        del sys.path[0]
    try:
        return cli.main()
    finally:
        if entry is not None:
            sys.path.insert(0, entry)


def _entry_folder():
    """``sys.path[0]`` if Python put it there for this run (the current directory or the script's folder)."""
    if getattr(sys.flags, "safe_path", False) or not sys.path:
        return None
    first = os.path.realpath(sys.path[0] or os.curdir)
    script = os.path.realpath(os.path.dirname(os.path.abspath(sys.argv[0]))) if sys.argv and sys.argv[0] else None
    return sys.path[0] if first in (os.path.realpath(os.getcwd()), script) else None


if __name__ == "__main__":
    sys.exit(main())
