"""The SDK's tests play the test-only ``rps`` cartridge too."""

from __future__ import annotations

import os

# The test-only cartridges (weirsoe.test_cartridges, e.g. rps) load only where this is set: the
# tests and the servers they start see them; `weirsoe serve` never shows them to players.
os.environ.setdefault("WEIRSOE_TEST_CARTRIDGES", "1")
