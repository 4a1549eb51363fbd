"""``weirsoe serve`` answering an embedded action when ``act`` returns, after its commit's
holding scope closed, as before the hub delivered a commit with its answers
(``Hub.deliver_local``): the "before" of an A/B run (docs/performance.md, section 72).
Redis is unchanged: its actions are answered at the commit's reply either way."""

from __future__ import annotations

import sys
from collections.abc import Callable

from weirsoe_platform.cli import main
from weirsoe_platform.transport import _hub

_deliver_local = _hub.Hub.deliver_local


def _late(
    self: _hub.Hub,
    messages: list[tuple[bytes, list[str]]],
    then: Callable[[], None] | None = None,
) -> bool:
    if then is not None:  # as before: the service publishes, and the caller answers on return
        return False
    return _deliver_local(self, messages)


_hub.Hub.deliver_local = _late  # type: ignore[method-assign]
sys.exit(main(sys.argv[1:]))
