"""The documentation: generated parts current, every page in the site, every public function documented
with an example, the Markdown pages' examples correct."""
import doctest
import inspect
import re
import sys
from pathlib import Path

import pytest

import s2sad

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import docgen as docs_tool                         # noqa: E402  (tools/docgen.py)

PUBLIC = [s2sad.grad, s2sad.value_and_grad, s2sad.vjp, s2sad.jvp, s2sad.jacobian, s2sad.hessian, s2sad.hvp,
          s2sad.elementwise_grad, s2sad.show_adjoint, s2sad.adjoint_source, s2sad.differentiable,
          s2sad.stop_gradient, s2sad.checkpoint, s2sad.fixed_point, s2sad.flatten, s2sad.flatten_func,
          s2sad.optimizations, s2sad.optimizers.sgd, s2sad.optimizers.momentum, s2sad.optimizers.rmsprop,
          s2sad.optimizers.adam, s2sad.rules.vjp, s2sad.rules.jvp, s2sad.rules.elementwise, s2sad.rules.nondiff]


def test_generated_blocks_are_current():
    stale = docs_tool.stale_pages()
    assert not stale, f"run python tools/docgen.py: stale {[str(p.relative_to(ROOT)) for p in stale]}"


def test_generated_block_is_checked():
    """A block whose text differs from what s2sad prints is reported stale (the check can fail)."""
    page = (ROOT / "docs" / "how-it-works.md").read_text()
    tampered = page.replace("y_stack.append(y)", "y_stack.append(y)  # edited by hand", 1)
    assert tampered != page
    assert docs_tool.render(tampered, {}) == page


def test_every_page_is_in_the_site():
    nav = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r":\s*([\w-]+\.md)\s*$", nav, re.M))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert listed == pages


@pytest.mark.parametrize("fn", PUBLIC, ids=lambda f: f.__name__)
def test_public_function_documented(fn):
    """Type hints on every parameter and the result, and a docstring with an example (which the doctest run
    executes) and the sections the API reference shows."""
    target = inspect.unwrap(fn)
    doc = inspect.getdoc(fn) or ""
    assert "Examples:" in doc and ">>>" in doc, f"{fn.__name__}: no doctested example"
    assert "Args:" in doc or not inspect.signature(target).parameters, f"{fn.__name__}: no Args section"
    annotations = target.__annotations__
    for name in inspect.signature(target).parameters:
        assert name in annotations, f"{fn.__name__}: parameter {name} has no annotation"
    assert "return" in annotations, f"{fn.__name__}: no return annotation"


def test_api_reference_lists_every_public_function():
    page = (ROOT / "docs" / "api.md").read_text()
    for fn in PUBLIC:
        target = inspect.unwrap(fn)
        assert f"::: {target.__module__}.{target.__name__}\n" in page, target.__name__


@pytest.mark.parametrize("page", ["getting-started.md"])
def test_page_examples(page):
    result = doctest.testfile(str(ROOT / "docs" / page), module_relative=False, verbose=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
