"""uvicorn's WebSocket protocol, offering the direct frame write (``transport/_direct.py``).

A subclass of uvicorn's own sans-I/O WebSocket protocol (built on ``websockets``), which
``weirsoe serve`` passes to uvicorn as ``ws=``, as it passes its HTTP protocol. It adds one ASGI
scope extension, :data:`~weirsoe_platform.transport._direct.EXTENSION`, whose ``write`` puts a
prebuilt text frame on the socket's transport at once when the socket can take it, the same
checks uvicorn's ``send`` makes before it writes, and refuses (``False``) otherwise, so the
application falls back to the ASGI ``send`` and waits there as before. Everything else (the
handshake, receiving, pings, closing, back-pressure) is uvicorn's.

If uvicorn's sans-I/O protocol is not there (an older uvicorn, or no ``websockets``), or no
longer has the attributes relied on, :func:`direct_websocket_protocol` returns ``"auto"`` and
uvicorn chooses as it always does: every frame then goes through ASGI.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..transport._direct import EXTENSION

__all__ = ["direct_websocket_protocol"]

# What the subclass reads of uvicorn's protocol, checked on an instance before it is used.
_ATTRIBUTES = (
    "conn",
    "transport",
    "writable",
    "close_sent",
    "disconnected",
    "handshake_complete",
    "initial_response",
)


def direct_websocket_protocol() -> type[asyncio.Protocol] | str:
    """uvicorn's ``ws=``: the protocol class offering the extension, or ``"auto"``."""
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import (
            WebSocketsSansIOProtocol,
        )
        from websockets.protocol import State
    except ImportError:
        return "auto"
    open_state = State.OPEN

    class DirectWebSocketProtocol(WebSocketsSansIOProtocol):
        def handle_connect(self, event: Any) -> None:
            super().handle_connect(event)
            scope = getattr(self, "scope", None)
            if scope is None or not all(hasattr(self, name) for name in _ATTRIBUTES):
                return
            if self.conn.extensions:  # e.g. compression: frames differ per socket
                return
            # Set before the application's task first runs: handle_connect only created it.
            scope["extensions"][EXTENSION] = {"write": self.write_frame}

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            # Two reference cycles per socket that only a full collection would free: the
            # scope's extension holds this protocol's bound method, and ``websockets``' parser
            # is a generator whose frame holds the connection it parses for. Broken here, the
            # socket's objects go when their last reference does (docs/performance.md,
            # section 52).
            scope = getattr(self, "scope", None)
            if scope is not None:
                scope.get("extensions", {}).pop(EXTENSION, None)
            parser = getattr(self.conn, "parser", None)
            if parser is not None and hasattr(parser, "close"):
                parser.close()

        def write_frame(self, frame: bytes) -> bool:
            transport = self.transport
            if (
                not self.handshake_complete
                or self.close_sent
                or self.disconnected
                or self.initial_response is not None
                or not self.writable.is_set()
                or self.conn.state is not open_state
                or transport.is_closing()  # e.g. uvicorn's shutdown closed it: not lost yet
            ):
                return False
            try:
                transport.write(frame)
            except Exception:  # never into the publisher: the ASGI send raises it instead
                return False
            return True

    return DirectWebSocketProtocol
