"""``weirsoe serve`` that writes each of the collector steward's full collections to its log
file (stderr): when, how long, and the heap's blocks before and after (docs/performance.md,
section 55)."""

import sys
import time

from weirsoe_platform import _gc
from weirsoe_platform.cli import main

_collect_all = _gc.CollectorSteward.collect_all


def collect_all(self: _gc.CollectorSteward) -> float:
    before, low = self._blocks(), self._low
    seconds = _collect_all(self)
    print(
        f"gclog {time.time():.2f} full {seconds * 1000:.0f} ms, blocks {before} -> {self._low},"
        f" low before {low}, bound {self.bound}, members {self._low_members},"
        f" per member {self.per_member:.1f}",
        file=sys.stderr,
        flush=True,
    )
    return seconds


_gc.CollectorSteward.collect_all = collect_all  # type: ignore[method-assign]
sys.exit(main())
