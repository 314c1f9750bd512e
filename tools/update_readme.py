"""Refresh README.md: the generated code pasted in it, from what s2sad prints today, and the
performance tables, from the last full benchmark run in docs/benchmarks.md.

Run after a deliberate change to code generation (tests/test_golden.py checks they agree), or
after `python tools/bench.py --markdown docs/benchmarks.md`:
    python tools/update_readme.py
"""
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))           # this checkout's s2sad (and tests), not an installed one
import s2sad  # noqa: E402


def main():
    spec = importlib.util.spec_from_file_location("quickstart", ROOT / "examples" / "quickstart.py")
    quickstart = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quickstart)
    from tests import golden_functions as gf
    blocks = {
        "def loss_value_and_grad": s2sad.adjoint_source(quickstart.loss),
        "def soft_clipped_sum_value_and_grad": s2sad.adjoint_source(gf.soft_clipped_sum, args=(0.7, 5, 2.0)),
        "def loss_jvp": s2sad.adjoint_source(quickstart.loss, mode="forward"),
        "def filled_buffer_value_and_grad": s2sad.adjoint_source(gf.filled_buffer, args=(np.ones(4), 0.8)),
    }
    readme = (ROOT / "README.md").read_text()
    for head, code in blocks.items():
        readme = re.sub(r"```python\n" + re.escape(head) + r".*?```", lambda m: "```python\n" + code + "```",
                        readme, count=1, flags=re.S)
    (ROOT / "README.md").write_text(performance_tables(readme))


def _rows(report, heading):
    section = report.split(f"## {heading}\n")[1].split("\n## ")[0]
    return [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| problem")]


def performance_tables(readme):
    """The README's two performance tables and goal count, from docs/benchmarks.md."""
    report = (ROOT / "docs" / "benchmarks.md").read_text()
    goals = []
    for line in _rows(report, "Goals"):
        cells = [c.strip().replace("**", "") for c in line.strip("|").split("|")]
        goals.append(f"| {cells[0].split(':')[0]} | {cells[4]} | {cells[5]} | {cells[6]} | {cells[7].split('=')[-1].strip()} |")
    met = report.split("Goals met: ")[1].split(".")[0]
    readme = re.sub(r"In the last full run \(goals met: [^)]*\)", f"In the last full run (goals met: {met})", readme)
    head = "| problem | s2sad / hand | gradient / primal | first-call transform | stored vs hand |\n|---|---|---|---|---|\n"
    readme = re.sub(re.escape(head) + r"(\|.*\n)+", lambda m: head + "\n".join(goals) + "\n", readme, count=1)
    head = ("| problem | s2sad | hand-written | autograd | JAX eager | JAX jit | PyTorch eager |\n"
            "|---|---|---|---|---|---|---|\n")
    rows = "\n".join(_rows(report, "Value-and-gradient time, every tool"))
    return re.sub(re.escape(head) + r"(\|.*\n)+", lambda m: head + rows + "\n", readme, count=1)


if __name__ == "__main__":
    main()
