"""Ahead-of-time derivatives: standalone derivative modules (``s2sad compile``, ``s2sad show``).

    module.py --load--> module object (imported as part of its package, if it is in one)
              --exports--> @differentiable functions and their wrt
              --gather--> generated code of each, and of every user function it links to;
                          the globals, user functions, user modules and runtime helpers that code reads
              --write--> module_grad.py / module_jvp.py text: imports, constants, user functions,
                         namespaces for user modules, exported functions, derivative code (with
                         stable names, see stable.py), runtime helpers (no s2sad, no user module)

``load.py`` imports the user's file, ``gather.py`` walks the generated code, ``names.py`` reads
and renames names in source text, ``stable.py`` names temporaries so an edit elsewhere leaves the
text alone, ``helpers.py`` copies runtime helpers, ``write.py`` lays the module out;
``s2sad/cli.py`` is the command line on top (which file each mode goes to, --check, permissions).
"""
from .gather import StandaloneError
from .load import exports, load
from .write import MODES, derivative_code, module_text

__all__ = ["StandaloneError", "exports", "load", "MODES", "derivative_code", "module_text"]
