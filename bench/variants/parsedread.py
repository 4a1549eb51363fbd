"""``weirsoe serve`` whose sockets' frames are all parsed by ``websockets``, as before the
read's fast path (``web/_ws_protocol.py``, ``DirectWebSocketProtocol.data_received``): each
frame goes through its parser generator, its frame objects and uvicorn's handlers on its way
to the direct receive. The "before" of an A/B run (docs/performance.md, section 74)."""

from __future__ import annotations

import sys

from weirsoe_platform.cli import main
from weirsoe_platform.web import _ws_protocol

_ws_protocol._FAST_ATTRIBUTES = ("no such attribute",)  # the fast path never runs
sys.exit(main(sys.argv[1:]))
