"""``python -m s2sad`` and the ``s2sad`` script: the command line of s2sad/cli.py."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
