"""The cartridge reference's example is a real file, and it runs. (The repository's other
documentation pages are checked by tests/test_docs_pages.py.)"""

from __future__ import annotations

import re
import subprocess
import sys

from _sdk_paths import DOCS


def test_harness_example_runs() -> None:
    example = DOCS / "examples" / "harness_example.py"
    done = subprocess.run(
        [sys.executable, str(example)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert re.match(r"highest_unique: over after \d+ events\nscores: \{", done.stdout)
