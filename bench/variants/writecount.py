"""``weirsoe serve`` counting its direct frame writes (docs/performance.md, section 71):

    BENCH_WRITES_OUT=/tmp/writes.json \
        uv run python bench/capacity.py --uvloop --start 1000 --max-probes 1 --variant writecount

Written to ``BENCH_WRITES_OUT`` every 2,000 loop turns that wrote and at exit, as JSON:

- ``frames``: frames written directly; ``turns``: loop turns in which any was;
- ``again``: frames to a socket already written in the same turn;
- ``again_in_scope``: of those, the ones within one ``Hub.deliver_all`` call (a commit's
  messages and its actions' answers, or a wire frame from Redis), which a holding scope
  writes together;
- ``per_socket_turn``: how many sockets got 1, 2, 3… frames in one turn.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import json
import os
import sys
from typing import Any

from weirsoe_platform.cli import main
from weirsoe_platform.transport import _hub
from weirsoe_platform.web import _ws_protocol

counts: dict[str, Any] = {"frames": 0, "again": 0, "again_in_scope": 0, "turns": 0}
hist: collections.Counter[int] = collections.Counter()
_seen: dict[int, int] = {}
_last_scope: dict[int, int] = {}
_scheduled = [False]
_scope = [0, 0]  # [open depth, serial]


def _clear() -> None:
    for n in _seen.values():
        hist[n] += 1
    _seen.clear()
    _last_scope.clear()
    _scheduled[0] = False


def _dump() -> None:
    counts["per_socket_turn"] = dict(sorted(hist.items()))
    with open(os.environ.get("BENCH_WRITES_OUT", "/tmp/writes.json"), "w") as f:
        json.dump(counts, f)


_orig = _ws_protocol.direct_websocket_protocol


def _patched() -> Any:
    cls = _orig()
    write = cls.write_frame

    def write_frame(self: Any, frame: bytes) -> bool:
        ok = write(self, frame)
        if ok:
            counts["frames"] += 1
            key = id(self)
            n = _seen.get(key, 0)
            if n:
                counts["again"] += 1
                if _scope[0] and _last_scope.get(key) == _scope[1]:
                    counts["again_in_scope"] += 1
            _seen[key] = n + 1
            if _scope[0]:
                _last_scope[key] = _scope[1]
            if not _scheduled[0]:
                _scheduled[0] = True
                counts["turns"] += 1
                if counts["turns"] % 2000 == 0:
                    _dump()
                asyncio.get_running_loop().call_soon(_clear)
        return ok

    cls.write_frame = write_frame
    return cls


def _scoped(func: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _scope[0] += 1
        _scope[1] += 1
        try:
            return func(*args, **kwargs)
        finally:
            _scope[0] -= 1

    return wrapper


_hub.Hub.deliver_all = _scoped(_hub.Hub.deliver_all)  # the one holding path
_ws_protocol.direct_websocket_protocol = _patched
atexit.register(_dump)
sys.exit(main(sys.argv[1:]))
