"""The HTTP server's protocol, with a header timeout that uvicorn does not have.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``, our ``idle_timeout``), but a
client that opens a connection and sends a request head slowly, or never finishes it, holds the
connection forever. Measured before this: 300 half-sent requests stayed open indefinitely. Here
a connection must deliver each request's head within ``header_timeout`` seconds of its first
byte (or of the connection opening), or it is closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["header_timeout_protocol"]


class _HeaderDeadline:
    """Mixed in front of uvicorn's HTTP protocol class."""

    header_timeout: float = 10.0
    closed_slow = 0  # how many connections this process closed for a slow head

    transport: asyncio.Transport
    cycle: Any
    loop: asyncio.AbstractEventLoop

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._head_cycle: Any = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        idle = self.cycle is None or getattr(self.cycle, "response_complete", False)
        if idle and self._head_timer is None:
            self._arm_head_timer()
        super().data_received(data)  # type: ignore[misc]
        if self.cycle is not None and self.cycle is not self._head_cycle:
            self._head_cycle = self.cycle  # a request head arrived in full
            self._disarm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def handle_websocket_upgrade(self, *args: Any) -> None:
        super().handle_websocket_upgrade(*args)  # type: ignore[misc]
        # The connection is the WebSocket protocol's now, and this one never hears of it
        # again (its connection_lost goes there). The head timer armed for the upgrade's
        # request (which makes no cycle) would keep this protocol, its scope and its flow
        # control alive for ``header_timeout`` seconds: about 5 KiB per new socket
        # (docs/performance.md, section 54). Drop httptools' parser as uvicorn's own
        # connection_lost does: it holds this protocol's methods, a cycle that would wait
        # for a full collection (section 52).
        self._disarm_head_timer()
        if getattr(self, "parser", None) is not None:
            self.parser = None

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        loop = asyncio.get_running_loop()
        self._head_timer = loop.call_later(self.header_timeout, self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        transport = self.transport
        if transport.is_closing():  # an upgrade disarms the timer: the connection is ours
            return
        if self.cycle is not None and self.cycle is not self._head_cycle:
            return
        type(self).closed_slow += 1
        transport.close()


def header_timeout_protocol(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (httptools if installed, else h11) with a header timeout."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    return type(
        "HeaderTimeoutHTTPProtocol",
        (_HeaderDeadline, AutoHTTPProtocol),
        {"header_timeout": float(seconds)},
    )
