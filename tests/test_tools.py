"""The tools in tools/ check the s2sad of the checkout they are in, whatever is installed (or not): a campaign
run from a clone must not fuzz, or fail to find, another copy."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_fuzzer_uses_its_own_checkout(tmp_path):
    decoy = tmp_path / "elsewhere" / "s2sad"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise ImportError('an s2sad that is not this checkout')\n")
    env = dict(os.environ, PYTHONPATH=str(decoy.parent))     # found first, were the checkout not put before it
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "fuzz.py"), "--programs", "3", "--seed", "608252",
                           "--jobs", "1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1].startswith("fuzz: "), done.stdout[-2000:]
    assert " 0 wrong, 0 errors" in done.stdout.strip().splitlines()[-1]


def test_the_list_of_supported_functions_is_up_to_date():
    """docs/supported.md is generated from the rule registry (tools/supported.py): a rule added without
    regenerating it fails here."""
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "supported.py"), "--check"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
