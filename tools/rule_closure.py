"""Which of s2sad's own helpers (runtime.py and friends) can land on a differentiated path but lack a rule
in one mode. A derivative of a derivative differentiates forward-mode code, never reverse-mode code
(api.py): a helper that a forward rule calls, or that the compiler writes into forward-mode code, is
differentiated again, in reverse mode (grad of jvp) and in forward mode (jvp of jvp, third order), so it
needs both rules (or is flat: nondiff), and so do the helpers its own forward rule calls, and so on. A
helper only a reverse rule calls ends up in reverse-mode code, which is never differentiated again.

    PYTHONPATH=. python tools/rule_closure.py        # prints the gaps; exit status 1 if there are any
    PYTHONPATH=. python tools/rule_closure.py --all  # and the helpers only reverse rules call, without rules

tests/test_higher_order.py runs this check (test_every_helper_used_by_a_rule_has_rules_in_both_modes).
"""
import ast
import pathlib
import sys
import types

import numpy.fft  # noqa: F401
import scipy.integrate  # noqa: F401  (s2sad registers the rules of scipy's modules when they are imported)
import scipy.linalg  # noqa: F401
import scipy.signal  # noqa: F401
import scipy.special  # noqa: F401
import scipy.stats  # noqa: F401

import s2sad  # noqa: F401  (registers the rules)
from s2sad.rules import registry
from s2sad.calls import SOURCE_MARK

ROOT = pathlib.Path(__file__).resolve().parent.parent / "s2sad"


def _s2sad_function(obj):
    return isinstance(obj, types.FunctionType) and (obj.__module__ or "").startswith("s2sad.") \
        and not (obj.__module__ or "").startswith("s2sad.rules")


def _codes(code):
    yield code
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from _codes(c)


def named_by(rule):
    """The s2sad functions (outside s2sad.rules) that a rule's code names."""
    rule = getattr(rule, "__wrapped__", rule)
    if not isinstance(rule, types.FunctionType) or not rule.__module__.startswith("s2sad.rules"):
        return set()
    return {rule.__globals__.get(name) for code in _codes(rule.__code__) for name in code.co_names
            if _s2sad_function(rule.__globals__.get(name))}


def forward_helpers():
    """{helper: [what puts it into forward-mode code]}: the helpers s2sad's forward rules call, and then
    the helpers those helpers' forward rules call."""
    found = {}
    todo = []
    for prim, rule in registry.registered_jvps():
        if (getattr(rule, "__module__", None) or "").startswith("s2sad.rules"):
            for obj in named_by(rule):
                found.setdefault(obj, []).append(f"{rule.__module__}.{rule.__name__}")
                todo.append(obj)
    for obj, where in emitted().items():
        found.setdefault(obj, []).extend(where)
        todo.append(obj)
    while todo:
        rule = registry.jvp_rule(todo.pop())[0]
        for obj in named_by(rule) if rule is not None else ():
            if obj not in found:
                todo.append(obj)
            found.setdefault(obj, []).append(f"{rule.__module__}.{rule.__name__}")
    return found


def emitted():
    """{helper: [source files]}: the ``runtime.X`` (``nested.X``...) that the compiler writes into generated
    code through ``aliases.ref``, outside reverse mode's own modules (s2sad/reverse)."""
    import importlib
    found = {}
    for path in ROOT.rglob("*.py"):
        if "rules" in path.parts or "reverse" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "ref" \
                    and node.args and isinstance(node.args[0], ast.Attribute) \
                    and isinstance(node.args[0].value, ast.Name):
                module = {"runtime": "s2sad.runtime", "nested": "s2sad.nested", "tree": "s2sad.tree",
                          "calls": "s2sad.calls"}.get(node.args[0].value.id)
                if module is None:
                    continue
                obj = getattr(importlib.import_module(module), node.args[0].attr, None)
                if _s2sad_function(obj):
                    found.setdefault(obj, []).append(str(path.relative_to(ROOT.parent)))
    return found


def gaps():
    """[(helper name, what it lacks, where it is used)]."""
    out = []
    uses = forward_helpers()
    for obj, where in sorted(uses.items(), key=lambda kv: kv[0].__qualname__):
        if registry.is_nondiff(obj) or getattr(obj, SOURCE_MARK, False):   # flat, or differentiated from its source
            continue
        lacks = [mode for mode, has in (("reverse", registry.vjp_rule(obj) is not None),
                                        ("forward", registry.jvp_rule(obj)[0] is not None)) if not has]
        if lacks:
            out.append((f"{obj.__module__}.{obj.__qualname__}", " and ".join(lacks), sorted(set(where))[:3]))
    return out


def reverse_only():
    """[(helper name, [reverse rules naming it])]: helpers that only reverse rules call and that have no rule
    of their own (informational: reverse-mode code is never differentiated again)."""
    on_forward = set(forward_helpers())
    found = {}
    for prim, rule in registry.registered_vjps() + registry.registered_ndim_vjps():
        if (getattr(rule, "__module__", None) or "").startswith("s2sad.rules"):
            for obj in named_by(rule):
                if obj not in on_forward and not registry.has_rule(obj) and not getattr(obj, SOURCE_MARK, False):
                    found.setdefault(f"{obj.__module__}.{obj.__qualname__}", []).append(rule.__name__)
    return sorted(found.items())


if __name__ == "__main__":
    if "--all" in sys.argv:                  # also the helpers only reverse rules call
        for name, where in reverse_only():
            print(f"(reverse mode only) {name}: used by {', '.join(sorted(set(where))[:3])}")
    found = gaps()
    for name, lacks, where in found:
        print(f"{name}: no {lacks} rule (used by {', '.join(where)})")
    print(f"{len(found)} helpers without rules in both modes")
    sys.exit(1 if found else 0)
