"""What the sampling variants (``replywatch.py``, ``packwatch.py``, ``recordwatch.py``) share:
values gathered on the server's loop and taken by a reporting thread, their percentiles, and
that thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Samples:
    """Values added on the server's loop, drained by the reporting thread."""

    def __init__(self) -> None:
        self._values: list[float] = []
        self.lock = threading.Lock()

    def add(self, value: float) -> None:
        with self.lock:
            self._values.append(value)

    def drain(self) -> list[float]:
        """The values added since the last drain, sorted."""
        with self.lock:
            values, self._values = self._values, []
        return sorted(values)


def percentile(values: list[float], share: float) -> float:
    """The value at ``share`` (0 to 1) of ``values``, sorted."""
    return values[min(len(values) - 1, int(len(values) * share))]


def report_every(seconds: float, report: Callable[[], None]) -> None:
    """Call ``report`` every ``seconds`` from a daemon thread of its own."""

    def loop() -> None:
        while True:
            time.sleep(seconds)
            report()

    threading.Thread(target=loop, daemon=True).start()
