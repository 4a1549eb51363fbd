"""``weirsoe serve --redis`` whose compare-and-sets publish nothing: the upper bound of
publishing a commit's frame only where another process listens (docs/performance.md,
section 81). The process still delivers its own commits to its own sockets as each reply is
read (``Hub.deliver_committed``), so one process alone plays as before; any other process
serving the same rooms would miss every commit. A measurement, never code to keep. Since
section 82 the shipped server publishes only where another process listens, which on one
process alone is this; ``loud.py`` is the server as it was before:

    uv run python bench/instructions.py --backends redis --variant noecho
"""

from __future__ import annotations

import sys
from typing import Any

from weirsoe_platform.cli import main
from weirsoe_platform.sessions._redis_store import RedisSessionStore
from weirsoe_platform.transport._hub import Hub

_cas = RedisSessionStore.compare_and_set


async def _unpublished(self: RedisSessionStore, *args: Any, **kwargs: Any) -> bool:
    if len(args) > 5:  # code, expected, version, data, ttl, messages, deadline
        args = (*args[:5], None, *args[6:])
    kwargs.pop("messages", None)
    return await _cas(self, *args, **kwargs)


RedisSessionStore.compare_and_set = _unpublished  # type: ignore[method-assign]
_deliver = Hub.deliver_committed


def _first_known(self: Hub, code: str, expected: int, *args: Any, **kwargs: Any) -> bool:
    """With no frame ever read back, a room's first commit here starts its version count
    (the echo of an earlier frame used to)."""
    wire = self.wire(code)
    if wire in self._rooms and wire not in self._delivered:
        self._delivered[wire] = expected
    return _deliver(self, code, expected, *args, **kwargs)


Hub.deliver_committed = _first_known  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
