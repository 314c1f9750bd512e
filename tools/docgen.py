"""Write the generated parts of the documentation: code s2sad prints, never pasted by hand.

    python tools/docgen.py            # rewrite every generated block in docs/*.md
    python tools/docgen.py --check    # exit 1 when a block is not what s2sad writes now (a test runs this)

A generated block sits between ``<!-- begin generated: NAME -->`` and ``<!-- end generated: NAME -->``
in a page; NAME is a key of ``BLOCKS`` below. The walkthrough of docs/how-it-works.md runs s2sad on
the functions of tools/walkthrough.py (its front-end passes, the record plan, the reverse- and
forward-mode code, a refusal); docs/gallery.md lists examples/*.py. The site itself is built by
``mkdocs build --strict`` (mkdocs.yml), its API reference read from the docstrings by mkdocstrings.
"""
import argparse
import ast
import contextlib
import inspect
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))                     # this checkout's s2sad, whatever is installed
sys.path.insert(0, str(ROOT / "tools"))

import gast                                        # noqa: E402
import numpy as np                                 # noqa: E402

import s2sad                                       # noqa: E402
import walkthrough                                 # noqa: E402
from s2sad import options, pipeline                # noqa: E402
from s2sad.front import fence, jumps, lift, normalize, versions  # noqa: E402
from s2sad.optimize import inline_calls            # noqa: E402

DOCS = ROOT / "docs"
BLOCK = re.compile(r"(<!-- begin generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated: (?P=name) -->)",
                   re.S)
KINDS = (1, -1)                                    # power_sum(x, n): x a 1-d array, n a number
ARGS = (np.ones(3), 3)


def fenced(text, language="python"):
    return f"```{language}\n{text.rstrip()}\n```\n"


def numbered_source(fn):
    """``fn``'s source with its file's line numbers (the comments of the generated code refer to them)."""
    lines, first = inspect.getsourcelines(fn)
    return fenced("".join(f"{first + k:2d}  {line}" for k, line in enumerate(lines)))


def front_end(fn):
    """``fn`` after the front-end passes, as the analyses and the reverse pass see it."""
    unit = pipeline.new_unit(fn, (0,), "value_and_grad", KINDS, options.Options())
    fence.run(unit.source)
    tree = jumps.run(normalize.run(lift.run(unit.source.tree, unit), unit), unit)
    tree = versions.run(inline_calls.run(tree, unit), unit)
    return fenced(ast.unparse(gast.gast_to_ast(tree)))


def plan(fn):
    """The record plan: for each value the backward sweep may need, whether it is pushed and why."""
    unit = pipeline.new_unit(fn, (0,), "value_and_grad", KINDS, options.Options())
    pipeline.differentiate(unit)
    return fenced(unit.plan.dump(), "text")


def shown(fn, **kwargs):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), s2sad.optimizations(True):
        s2sad.show_adjoint(fn, **kwargs)
    return fenced(out.getvalue())


def refusal(fn):
    try:
        s2sad.grad(fn)(np.ones(2))
    except s2sad.S2SadError as exc:
        text = str(exc).replace(str(ROOT) + "/", "")
        return fenced(f"{type(exc).__name__}: {text}", "text")
    raise AssertionError(f"{fn.__name__} was expected to be refused")


def refusals():
    """Each refused function of tools/walkthrough.py: its heading and reason, its code, what s2sad says."""
    parts = []
    for fn in walkthrough.REFUSED:
        title, _, why = inspect.getdoc(fn).partition("\n\n")
        lines, first = inspect.getsourcelines(fn)
        body = "".join(lines)
        body = body.replace(body[body.index('    """'):body.index('"""', body.index('    """') + 7) + 4], "")
        parts.append(f"### {title}\n\n{' '.join(why.split())}\n\n{fenced(body)}\n"
                     f"{refusal(fn)}")
    return "\n".join(parts)


def gallery():
    """A row per example script: its name and the first line of its docstring."""
    rows = ["| example | what it shows |", "|---|---|"]
    for path in sorted((ROOT / "examples").glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        first = " ".join(doc.split("\n\n")[0].split())
        rows.append(f"| `examples/{path.name}` | {first} |")
    return "\n".join(rows) + "\n"


BLOCKS = {
    "walkthrough-source": lambda: numbered_source(walkthrough.power_sum),
    "walkthrough-front": lambda: front_end(walkthrough.power_sum),
    "walkthrough-plan": lambda: plan(walkthrough.power_sum),
    "walkthrough-reverse": lambda: shown(walkthrough.power_sum, args=ARGS),
    "walkthrough-vjp": lambda: shown(walkthrough.power_sum, args=ARGS, kind="vjp"),
    "walkthrough-forward": lambda: shown(walkthrough.power_sum, args=ARGS, mode="forward"),
    "refusal-source": lambda: numbered_source(walkthrough.shared_update),
    "refusal": lambda: refusal(walkthrough.shared_update),
    "refusals": refusals,
    "gallery": gallery,
}


def render(text, cache):
    """``text`` with every generated block written anew."""
    def block(m):
        name = m.group("name")
        if name not in BLOCKS:
            raise KeyError(f"unknown generated block {name!r}; the names are {', '.join(BLOCKS)}")
        if name not in cache:
            cache[name] = BLOCKS[name]()
        return m.group(1) + cache[name] + m.group(4)
    return BLOCK.sub(block, text)


def stale_pages():
    """``{path: new text}`` for every page whose generated blocks are not what s2sad writes now."""
    cache, stale = {}, {}
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text()
        new = render(text, cache)
        if new != text:
            stale[path] = new
    return stale


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a generated block is stale")
    args = parser.parse_args(argv)
    stale = stale_pages()
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run python tools/docgen.py")
        return 1 if stale else 0
    for path, text in stale.items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
