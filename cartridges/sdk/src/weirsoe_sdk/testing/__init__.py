"""Play whole games without a server: bots, a fake clock, recorded messages and a leak checker.

Also a pytest plugin (entry point ``pytest11: weirsoe``) with the ``weirsoe_harness`` and
``weirsoe_cartridges`` fixtures.
"""

from ._harness import FakeClock, GameRecord, Harness, Leak, LeakError, Received, recipients_of

__all__ = [
    "FakeClock",
    "GameRecord",
    "Harness",
    "Leak",
    "LeakError",
    "Received",
    "recipients_of",
]
