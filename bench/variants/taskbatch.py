"""``weirsoe serve`` whose batches of waiting inputs start as tasks, a turn of the event loop
after the transition they waited for, as before section 75 (``SessionService._next_batch``).
The "before" of an A/B run (docs/performance.md, section 75)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any

from weirsoe_platform.cli import main
from weirsoe_platform.sessions import _service


def _as_task(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    return asyncio.get_running_loop().create_task(coro)


_service.start_eagerly = _as_task  # type: ignore[assignment]
sys.exit(main(sys.argv[1:]))
