"""``weirsoe serve`` that writes each of the collector steward's full collections to its log
file (stderr): when, how long, and the heap's blocks before and after (docs/performance.md,
section 55); and each young collection of 20 ms or more (section 57), or of
``GCLOG_YOUNG_MS`` or more where that is set (section 58)."""

import gc
import os
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
        f" low before {low}, bound {self.bound}, members {getattr(self, '_low_members', '-')},"
        f" per member {getattr(self, 'per_member', 0.0):.1f}",
        file=sys.stderr,
        flush=True,
    )
    return seconds


_young_started = 0.0
_YOUNG_MS = float(os.environ.get("GCLOG_YOUNG_MS", "20"))


def young(phase: str, info: dict[str, int]) -> None:
    global _young_started
    if info["generation"] == 2:
        return
    if phase == "start":
        _young_started = time.perf_counter()
        return
    ms = (time.perf_counter() - _young_started) * 1000
    if ms >= _YOUNG_MS:
        print(
            f"gclog {time.time():.2f} young {info['generation']} {ms:.0f} ms,"
            f" {info['collected']} freed",
            file=sys.stderr,
            flush=True,
        )


gc.callbacks.append(young)
_gc.CollectorSteward.collect_all = collect_all  # type: ignore[method-assign]
sys.exit(main())
