"""Refresh the generated code pasted in README.md from what s2sad prints today.

Run after a deliberate change to code generation (tests/test_golden.py checks they agree):
    python tools/update_readme.py
"""
import importlib.util
import re
import sys
from pathlib import Path

import s2sad

ROOT = Path(__file__).resolve().parent.parent


def main():
    spec = importlib.util.spec_from_file_location("quickstart", ROOT / "examples" / "quickstart.py")
    quickstart = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quickstart)
    sys.path.insert(0, str(ROOT))
    from tests import golden_functions as gf
    blocks = {
        "def loss_value_and_grad": s2sad.adjoint_source(quickstart.loss),
        "def soft_clipped_sum_value_and_grad": s2sad.adjoint_source(gf.soft_clipped_sum, args=(0.7, 5, 2.0)),
        "def loss_jvp": s2sad.adjoint_source(quickstart.loss, mode="forward"),
    }
    readme = (ROOT / "README.md").read_text()
    for head, code in blocks.items():
        readme = re.sub(r"```python\n" + re.escape(head) + r".*?```", lambda m: "```python\n" + code + "```",
                        readme, count=1, flags=re.S)
    (ROOT / "README.md").write_text(readme)


if __name__ == "__main__":
    main()
