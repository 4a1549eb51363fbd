"""``weirsoe serve`` with each socket's direct frames held until the event loop's turn ends
and then written joined, one write per socket per turn, for A/B runs:

    uv run python bench/loadgen.py --uvloop --servers raw,memory --variant held_writes
    uv run python bench/capacity.py --backend memory --variant held_writes ...

Measured on 2026-12-02 (docs/performance.md, section 53): 17-19 % fewer write system calls
in a capacity probe, no CPU gain that two cores could tell from noise, and the median tick
0.4-0.6 ms later, because the joined write waits for the loop's next turn. Not adopted.

Frames that uvicorn itself writes (the handshake, pongs, closes) write what is held first, so
the order on the wire is the order of the calls; once 64 KiB are held for a socket they are
written at once, so the transport's back-pressure still comes in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import weakref
from typing import Any

import uvicorn

from weirsoe_platform.cli import main
from weirsoe_platform.web._ws_protocol import direct_websocket_protocol

HOLD_AT_MOST = 64 * 1024
_held_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[_Held]] = (
    weakref.WeakKeyDictionary()
)


def _write_held(held: list[_Held]) -> None:
    while held:
        sockets = held[:]
        held.clear()
        for socket in sockets:
            socket.flush()


class _Held:
    """The socket's transport as uvicorn's protocol sees it. A write while ``direct`` is set
    (the direct frame write) is held; any other write, close or end of file writes what is
    held first. Anything else is the transport's own."""

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.direct = False
        self._loop = loop
        self._held = _held_by_loop.setdefault(loop, [])
        self._frames: list[bytes] | None = None
        self._size = 0

    def _hold(self, frame: bytes) -> None:
        if self._frames is None:
            self._frames = [frame]
            self._size = len(frame)
            self._held.append(self)
            if len(self._held) == 1:
                self._loop.call_soon(_write_held, self._held)
            return
        self._frames.append(frame)
        self._size += len(frame)
        if self._size >= HOLD_AT_MOST:
            self.flush()

    def flush(self) -> None:
        frames, self._frames = self._frames, None
        if frames:
            with contextlib.suppress(Exception):  # closed meanwhile: its close says so
                self.transport.write(b"".join(frames))

    def write(self, data: Any) -> None:
        if self.direct:
            self._hold(data)
            return
        self.flush()
        self.transport.write(data)

    def writelines(self, data: Any) -> None:
        self.flush()
        self.transport.writelines(data)

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self._frames = None
        self.transport.abort()

    def drop(self) -> None:
        self._frames = None

    def is_closing(self) -> bool:
        return bool(self.transport.is_closing())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


_Direct = direct_websocket_protocol()
if isinstance(_Direct, str):
    sys.exit("held_writes: uvicorn's sans-I/O WebSocket protocol is not installed")


class HeldWritesProtocol(_Direct):  # type: ignore[misc,valid-type]
    _held: _Held | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        own = getattr(self, "transport", None)
        if own is not None and hasattr(own, "is_closing"):  # uvloop's is no asyncio.Transport
            self._held = self.transport = _Held(own, self.loop)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._held is not None:
            self._held.drop()
        super().connection_lost(exc)

    def write_frame(self, frame: bytes) -> bool:
        held = self._held
        if held is None:
            return bool(super().write_frame(frame))
        held.direct = True
        try:
            return bool(super().write_frame(frame))
        finally:
            held.direct = False


_run = uvicorn.run


def _with_held(*args: object, **kwargs: object) -> None:
    kwargs["ws"] = HeldWritesProtocol
    _run(*args, **kwargs)  # type: ignore[arg-type]


uvicorn.run = _with_held
sys.exit(main(sys.argv[1:]))
