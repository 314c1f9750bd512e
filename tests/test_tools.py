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


def test_the_fuzzer_generates_every_construct_of_issue_12():
    """The program generator (tools/fuzzgen.py) writes the constructs people use: records with methods as the
    differentiated argument, chained item writes, `*args`/`**kwargs`, starred unpacking, `functools.partial`,
    `map`, dict comprehensions and `.items()`/`.values()` loops, generator functions in `for` loops. A construct
    that stops being generated (a weight set to zero, a production that always gives up) fails here."""
    import re
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import fuzzgen
    finally:
        sys.path.remove(str(ROOT / "tools"))
    texts = [fuzzgen.generate(("fz-constructs", k)).source for k in range(300)]
    wanted = {
        "a dataclass": r"^@dataclass", "a plain class storing its arguments": r"def __init__\(self, .*\):\n\s+self\.\w+ = ",
        "a namedtuple": r"= namedtuple\(", "a @staticmethod": r"@staticmethod", "a @classmethod": r"@classmethod",
        "a method reading a field": r"self\.(w|b)\b", "a method calling another": r"self\.\w+\(",
        "a method called on the argument": r"\b(model|theta|prm)\.\w+\(", "a *args helper": r"def \w+\(t, \*rest\)",
        "a starred call": r"(\w\(|, )\*[a-z]\w*\)", "a **kwargs helper": r"def \w+\(t, \*\*kw\)",
        "a keyword-passed argument": r"\w\((\w+, )*[a-z]\w*=[^=]", "starred unpacking": r"^\s*(\w+, )?\*\w+(, \w+)? = ",
        "chained item assignment": r"\w+\[-?\d\] = \w+\[-?\d\] = ", "functools.partial": r"functools\.partial\(",
        "map consumed by sum": r"sum\(map\(", "map consumed by list": r"list\(map\(", "a dict comprehension": r"\{\w+: .* for ",
        "a .items() loop": r"for \w+, \w+ in \w+\.items\(\)", "a .values() loop": r"in \w+\.values\(\)",
        "a generator function in a for loop": r"for \w+ in g\d+__U\(",
    }
    missing = [what for what, pattern in wanted.items() if not any(re.search(pattern, t, re.M) for t in texts)]
    assert not missing, f"the generator no longer writes: {missing}"
