"""Write docs/supported.md: every function s2sad differentiates, from the rule registry itself.

    python tools/supported.py            # rewrite docs/supported.md
    python tools/supported.py --check    # exit 1 when docs/supported.md is not what the registry says (CI)

A row per primitive with a rule: reverse mode, forward mode (which derivatives of derivatives use: a
Hessian-vector product is forward over reverse), ndarray methods and attributes mapped to it; then the
functions registered as having no derivative (their output is constant). Runtime helpers of s2sad's own
(``s2sad.runtime``, ``s2sad.integrate``) are left out: users never call them.
"""
import argparse
import importlib
import math
import operator
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))                     # this checkout's s2sad, whatever is installed

import numpy as np                                 # noqa: E402

import s2sad                                       # noqa: E402,F401  (registers the tables)
from s2sad.rules import registry                   # noqa: E402

try:                                               # scipy's rules register when its modules are imported
    import scipy.linalg                            # noqa: E402,F401
    import scipy.signal                            # noqa: E402,F401
    import scipy.special                           # noqa: E402,F401
    import scipy.integrate                         # noqa: E402,F401
except ImportError:                                # pragma: no cover
    pass

OUT = ROOT / "docs" / "supported.md"
MODULES = {"_operator": "operator", "builtins": "", "numpy": "np", "numpy.linalg": "np.linalg", "numpy.fft": "np.fft",
           "math": "math", "scipy.special._ufuncs": "scipy.special", "scipy.special": "scipy.special",
           "scipy.integrate._odepack_py": "scipy.integrate", "scipy.integrate._ivp.ivp": "scipy.integrate"}
SECTIONS = [("Python operators and builtins", ("operator.", "")), ("math", ("math.",)),
            ("NumPy", ("np.",)), ("np.linalg", ("np.linalg.",)), ("scipy.special", ("scipy.special.",)),
            ("scipy.linalg", ("scipy.linalg.",)), ("scipy.signal", ("scipy.signal.",)),
            ("scipy.integrate (adjoint method)", ("scipy.integrate.",)), ("s2sad", ("s2sad.",))]
HELPERS = ("s2sad.runtime", "s2sad.integrate", "s2sad.incomplete")     # s2sad's own helpers: users never call them


def name_of(prim):
    name = getattr(prim, "__name__", repr(prim))
    module = getattr(prim, "__module__", None)
    if module is None and isinstance(prim, np.ufunc):   # a ufunc of NumPy's or of scipy.special's (no __module__)
        module = "numpy" if getattr(np, name, None) is prim else "scipy.special"
    if module.startswith("scipy."):                 # scipy.special._ufuncs, scipy.linalg._basic: the public module
        module = ".".join(module.split(".")[:2])
    prefix = MODULES.get(module, module)
    return f"{prefix}.{name}" if prefix else name


def section_of(name):
    if name.startswith("np.linalg."):
        return "np.linalg"
    for title, prefixes in SECTIONS:
        if any(name.startswith(p) for p in prefixes if p) or ("" in prefixes and "." not in name):
            return title
    return "other"


def rows():
    methods = {}
    for method, (prim, _) in registry._METHODS.items():
        methods.setdefault(registry._key(prim), []).append(f"`x.{method}()`")
    for attribute, prim in registry._ATTRIBUTES.items():
        methods.setdefault(registry._key(prim), []).append(f"`x.{attribute}`")
    primitives = {}
    for prim, _ in registry.registered_vjps() + registry.registered_jvps():
        if isinstance(prim, tuple) or (getattr(prim, "__module__", "") or "").startswith(HELPERS):
            continue
        primitives.setdefault(name_of(prim), prim)
    out = {}
    for name, prim in sorted(primitives.items()):
        reverse = registry.vjp_rule(prim) is not None
        forward = registry.jvp_rule(prim)[0] is not None
        out.setdefault(section_of(name), []).append(
            f"| `{name}` | {'yes' if reverse else 'no'} | {'yes' if forward else 'no'} | "
            f"{', '.join(sorted(methods.get(registry._key(prim), []))) or ''} |")
    return out


def text():
    lines = ["# What s2sad differentiates", "",
             "Generated from the rule registry by `python tools/supported.py` (CI checks it is up to date). "
             "*Reverse*: `grad`, `vjp`; *forward*: `jvp`, and every derivative of a derivative (`hessian`, `hvp` "
             "and nested `grad` run forward mode over the gradient). Every rule is checked against finite "
             "differences in both modes, and at second order, by `tests/test_rule_table.py` (the runtime "
             "helpers' rules, which derivatives of derivatives use, by `tests/test_helper_rules.py`; scipy's by "
             "`tests/test_scipy_rules.py`, `tests/test_incomplete.py`, `tests/test_scipy_linalg.py` and `tests/test_scipy_signal.py`).", ""]
    table = rows()
    count = sum(len(v) for v in table.values())
    lines += [f"{count} functions with derivative rules.", ""]
    for title, _ in SECTIONS + [("other", ())]:
        if title not in table:
            continue
        lines += [f"## {title}", "", "| function | reverse | forward | methods and attributes |", "|---|---|---|---|"]
        lines += table[title] + [""]
    nondiff = sorted(name_of(p) for p in registry.registered_nondiff()
                     if not isinstance(p, tuple) and not (getattr(p, "__module__", "") or "").startswith("s2sad"))
    lines += ["## No derivative (their result is constant: comparisons, rounding, shapes, indices, constructors "
              "of fixed values)", "", ", ".join(f"`{n}`" for n in nondiff), ""]
    return "\n".join(lines)


def _present(text):
    """``text`` without the rows of NumPy or ``math`` functions this NumPy or Python does not have (``np.matvec`` is
    NumPy 2.2's, ``math.exp2`` Python 3.11's: the page is written with the newest, and checked with older ones too)."""
    def here(line):
        if not line.startswith(("| `np.", "| `math.")):
            return True
        obj = np if line.startswith("| `np.") else importlib.import_module("math")
        for part in line.split("`")[1].split(".")[1:]:
            obj = getattr(obj, part, None)
            if obj is None:
                return False
        return True
    lines = text.splitlines(True)
    kept = [line for line in lines if here(line)]
    gone = len(lines) - len(kept)
    return "".join(f"{int(line.split()[0]) - gone} {line.split(' ', 1)[1]}"
                   if line.endswith("functions with derivative rules.\n") and line.split()[0].isdigit() else line
                   for line in kept)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when docs/supported.md is out of date")
    args = parser.parse_args()
    new = text()
    if args.check:
        if not OUT.exists() or _present(OUT.read_text()) != new:
            print("docs/supported.md is out of date: run python tools/supported.py", file=sys.stderr)
            return 1
        print("docs/supported.md is up to date")
        return 0
    OUT.write_text(new)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    del math, operator
    sys.exit(main())
