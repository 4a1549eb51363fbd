"""``weirsoe serve`` with another uvicorn WebSocket implementation, for A/B runs:

    BENCH_UVICORN_WS=wsproto uv run python bench/loadgen.py --variant uvicorn_ws ...

(``websockets-sansio`` is what ``auto`` picks; ``wsproto`` and ``websockets``, the legacy
one, are the others.) Measured on 2026-11-28: no gain, see docs/performance.md.

Any of them replaces ``weirsoe serve``'s own protocol (``web/_ws_protocol.py``), so the direct
frame write is off: ``BENCH_UVICORN_WS=auto`` is the server with every frame through ASGI, the
"before" of docs/performance.md, section 35.
"""

import os
import sys

import uvicorn

from weirsoe_platform.cli import main

_run = uvicorn.run


def _with_ws(*args: object, **kwargs: object) -> None:
    kwargs["ws"] = os.environ.get("BENCH_UVICORN_WS", "auto")
    _run(*args, **kwargs)  # type: ignore[arg-type]


uvicorn.run = _with_ws
sys.exit(main(sys.argv[1:]))
