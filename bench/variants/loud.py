"""``weirsoe serve --redis`` whose commits are never quiet: every compare-and-set publishes its
frame whenever anyone listens to the room, this process included, and the process reads its
own echo back and skips it, as before docs/performance.md section 82. The "before" of that
section, beside the shipped server in one run:

    uv run python bench/instructions.py --backends redis --variant loud
    uv run --group bench python bench/pairs.py --redis-variant loud
"""

from __future__ import annotations

import sys

from weirsoe_platform.cli import main
from weirsoe_platform.transport._hub import Hub


def _never(self: Hub, code: str, expected: int) -> None:
    return None


Hub.quiet = _never  # type: ignore[assignment,method-assign]

if __name__ == "__main__":
    sys.exit(main())
