"""``weirsoe serve`` whose sockets take every frame through ASGI ``receive``, as before the
direct receive (``transport/_ws.py``, ``_Inbound``): the server does not offer ``listen``, so
each frame is queued, reading pauses, and the socket's task wakes a turn later to handle it.
The "before" of an A/B run (docs/performance.md, section 73)."""

from __future__ import annotations

import sys

from weirsoe_platform.cli import main
from weirsoe_platform.web import _ws_protocol

_ws_protocol._LISTEN_ATTRIBUTES = ("no such attribute",)  # the receive is never offered
sys.exit(main(sys.argv[1:]))
