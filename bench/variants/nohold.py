"""``weirsoe serve`` writing every direct frame at once, as before the hub held a socket's
frames while it fans out several messages (``transport/_direct.py``, "Held writes"): the
"before" of an A/B run (docs/performance.md, section 71)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from weirsoe_platform.cli import main
from weirsoe_platform.transport import _hub


def _deliver_all(
    self: _hub.Hub,
    messages: list[tuple[bytes, list[str]]],
    then: Callable[[], None] | None = None,
) -> None:
    for data, names in messages:
        self.deliver(data, names)
    if then is not None:
        then()


_hub.Hub.deliver_all = _deliver_all  # type: ignore[method-assign]
sys.exit(main(sys.argv[1:]))
