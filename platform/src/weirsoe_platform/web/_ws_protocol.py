"""uvicorn's WebSocket protocol, offering the direct frame write (``transport/_direct.py``).

A subclass of uvicorn's own sans-I/O WebSocket protocol (built on ``websockets``), which
``weirsoe serve`` passes to uvicorn as ``ws=``, as it passes its HTTP protocol. It adds one ASGI
scope extension, :data:`~weirsoe_platform.transport._direct.EXTENSION`, whose ``write`` puts a
prebuilt text frame on the socket's transport at once when the socket can take it, the same
checks uvicorn's ``send`` makes before it writes, and refuses (``False``) otherwise, so the
application falls back to the ASGI ``send`` and waits there as before. Its ``listen`` hands
each message the client sends to the application's function as it is read, instead of
queueing it for the ASGI ``receive`` (the direct receive, ``transport/_direct.py``).
While it listens, the whole, unfragmented text and binary frames the server reads are parsed
here (the read's fast path, ``data_received``) instead of through ``websockets``' parser and
its frame objects; anything else is left to that parser, from the first frame it must see.
Everything else (the handshake, pings, closing, disconnects) is uvicorn's.

While the hub fans out several messages at once, frames written directly are held and go
to each transport as one write at the end (``transport/_direct.py``, "Held writes").
Whatever uvicorn itself writes to the socket (ASGI sends, pings, closing) goes after the
frames held before it, through :class:`_Ordered`.

If uvicorn's sans-I/O protocol is not there (an older uvicorn, or no ``websockets``), or no
longer has the attributes relied on, :func:`direct_websocket_protocol` returns ``"auto"`` and
uvicorn chooses as it always does: every frame then goes through ASGI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import Any

from ..transport._direct import EXTENSION, held_by, holding

__all__ = ["direct_websocket_protocol"]


class _Flag:
    """What uvicorn's protocol uses of its ``writable`` ``asyncio.Event`` (``set``, ``clear``,
    ``is_set``, ``wait``), without the deque an ``asyncio.Event`` allocates up front (about
    0.7 KiB per open socket): waiters are kept only while the transport's buffer is full."""

    __slots__ = ("_value", "_waiters")

    def __init__(self, value: bool) -> None:
        self._value = value
        self._waiters: list[asyncio.Future[bool]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if self._value:
            return
        self._value = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(True)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            return await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)


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
# What the direct receive reads besides: the message being put together, and whether reading
# is paused (uvicorn's flag, which its ``receive`` also clears).
_LISTEN_ATTRIBUTES = ("frames", "read_paused", "queue")


class _Inbox:
    """What uvicorn's protocol uses of its ``asyncio.Queue`` of received messages
    (``put_nowait``, ``get``, ``empty``), without the four deques that an ``asyncio.Queue``
    allocates up front: about 3 KiB per open socket (docs/performance.md, section 54). It
    holds one or two messages at a time, since uvicorn stops reading a socket while a
    message waits. Messages come out in the order they went in; a ``get`` waits while there
    is none, and a cancelled ``get`` takes nothing."""

    __slots__ = ("_items", "_ready")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._ready = _Flag(False)  # set when a message arrives; each waiting get looks again

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        self._ready.set()

    async def get(self) -> Any:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.pop(0)


# Held frames of one socket past this many bytes go to its transport at once, so that the
# transport's high-water mark still applies within a scope (``write_frame``).
_HOLD_LIMIT = 16 * 1024


class _Ordered:
    """A socket's transport as uvicorn's protocol sees it: the frames the direct write holds
    go out before anything uvicorn writes (or before it closes the transport), so every
    frame keeps its order. The rest is the transport's own."""

    __slots__ = ("_protocol", "_transport")

    def __init__(self, transport: Any, protocol: Any) -> None:
        self._transport = transport
        self._protocol = protocol

    def write(self, data: bytes) -> None:
        self._protocol.release()
        self._transport.write(data)

    def writelines(self, chunks: Any) -> None:
        self._protocol.release()
        self._transport.writelines(chunks)

    def close(self) -> None:
        self._protocol.release()
        self._transport.close()

    def is_closing(self) -> bool:
        return bool(self._transport.is_closing())

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def __getattr__(self, name: str) -> Any:  # abort, get_extra_info, ...
        return getattr(self._transport, name)


def _forget_request(conn: Any, frames: Callable[[Any], Generator[None]]) -> bool:
    """Give ``websockets``' server connection ``conn`` a frame parser that does not hold the
    handshake's request, where that is safe; whether it did.

    Its parser is one generator for the whole connection: it reads the request, then goes on
    to read frames (``frames``, ``websockets.protocol.Protocol.parse``) with the request
    still a local of its frame, about 15 tracked objects and 1.5 KiB per open socket that
    every full collection walks (docs/performance.md, section 56). The parser is replaced
    only while it waits at a frame boundary for data (``StreamReader.at_eof``), having read
    nothing of the next frame: a new frame parser started there reads exactly what the old
    one would have."""
    parser = getattr(conn, "parser", None)
    reading = getattr(parser, "gi_yieldfrom", None)  # the frame parser it delegates to
    waiting = getattr(reading, "gi_yieldfrom", None)
    if (
        getattr(reading, "gi_code", None) is not frames.__code__
        or getattr(getattr(waiting, "gi_code", None), "co_name", None) != "at_eof"
        or getattr(getattr(conn, "reader", None), "buffer", True)
    ):
        return False
    fresh = frames(conn)
    next(fresh)  # up to its first wait for data, as websockets starts its parsers
    conn.parser = fresh
    parser.close()  # type: ignore[union-attr]
    return True


try:  # websockets' C unmasking, as its own frame parser uses
    from websockets.speedups import apply_mask as _apply_mask
except ImportError:  # pragma: no cover - websockets without its C extension
    from websockets.utils import apply_mask as _apply_mask

# What the read's fast path reads of ``websockets``' connection, checked before it is used.
_FAST_ATTRIBUTES = ("current_size", "max_message_size", "max_fragment_size", "parser", "debug")


def _innermost(parser: Any) -> Any:
    """The generator that ``websockets``' parser waits in, through its ``yield from``s."""
    while True:
        inner = getattr(parser, "gi_yieldfrom", None)
        if inner is None:
            return parser
        parser = inner


def _limit(conn: Any) -> int:
    """The longest frame payload ``conn`` accepts, as its own parser computes it when no
    fragmented message is under way."""
    limit = 1 << 62
    for size in (conn.max_message_size, conn.max_fragment_size):
        if size is not None and size < limit:
            limit = size
    return limit


def direct_websocket_protocol() -> type[asyncio.Protocol] | str:
    """uvicorn's ``ws=``: the protocol class offering the extension, or ``"auto"``."""
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import (
            WebSocketsSansIOProtocol,
        )
        from websockets.protocol import Protocol, State
        from websockets.streams import StreamReader
    except ImportError:
        return "auto"
    open_state = State.OPEN
    # The direct receive takes over the one method where uvicorn queues a whole message.
    listening = callable(getattr(WebSocketsSansIOProtocol, "send_receive_event_to_app", None))
    # The read's fast path starts where ``websockets``' parser waits between frames.
    at_eof = getattr(getattr(StreamReader, "at_eof", None), "__code__", None)

    class DirectWebSocketProtocol(WebSocketsSansIOProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._raw: Any = None  # the transport itself, under uvicorn's ``_Ordered``
            self._held: list[bytes] | None = None  # frames held in a scope, not yet sent
            self._held_size = 0
            # The direct receive's function, while the application listens (``listen``).
            self._receiver: Callable[[str | bytes], None] | None = None
            # The read's fast path's payload limit, or None where it may not run (set by
            # ``handle_connect``; a connection's size limits never change).
            self._quick: int | None = None
            # Leaner stand-ins for the two asyncio primitives every socket holds, each only
            # where uvicorn made the one it replaces and it is still untouched.
            queue = getattr(self, "queue", None)
            if isinstance(queue, asyncio.Queue) and queue.empty():
                self.queue = _Inbox()  # type: ignore[assignment]
            writable = getattr(self, "writable", None)
            if isinstance(writable, asyncio.Event):
                self.writable = _Flag(writable.is_set())  # type: ignore[assignment]

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._raw = transport
            self.transport = _Ordered(transport, self)  # type: ignore[assignment]

        def release(self) -> None:
            """Write the frames held in the scope to the transport."""
            held = self._held
            if held is None:
                return
            self._held, self._held_size = None, 0
            transport = self._raw
            if transport is None or transport.is_closing():
                return  # closed meanwhile: as if they had been in its buffer
            try:
                transport.write(held[0] if len(held) == 1 else b"".join(held))
            except Exception:  # the socket is going: uvicorn sees it through ASGI
                return

        def handle_connect(self, event: Any) -> None:
            super().handle_connect(event)
            scope = getattr(self, "scope", None)
            if scope is None or not all(hasattr(self, name) for name in _ATTRIBUTES):
                return
            if self.conn.extensions:  # e.g. compression: frames differ per socket
                return
            # Set before the application's task first runs: handle_connect only created it.
            offered: dict[str, Any] = {"write": self.write_frame}
            if listening and all(hasattr(self, name) for name in _LISTEN_ATTRIBUTES):
                offered.update(listen=self.listen, pause=self.pause_inbound, post=self.post)
                conn = self.conn
                if at_eof is not None and all(hasattr(conn, n) for n in _FAST_ATTRIBUTES):
                    self._quick = _limit(conn)
            scope["extensions"][EXTENSION] = offered

        def start_keepalive(self) -> None:
            super().start_keepalive()
            # uvicorn calls this once, right after it wrote the handshake's response, and
            # never reads the handshake's request and response again: about 3.5 KiB per
            # socket (their headers) for as long as it stays open (docs/performance.md,
            # section 54).
            if self.handshake_complete:
                self.request = None  # type: ignore[assignment]
                self.response = None  # type: ignore[assignment]
                _forget_request(self.conn, Protocol.parse)

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            self._held = None  # nowhere to go now
            self._receiver = None
            if self._raw is not None:  # the transport and its ``_Ordered``: no cycle left
                self.transport = self._raw
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
            transport = self._raw
            if (
                not self.handshake_complete
                or self.close_sent
                or self.disconnected
                or self.initial_response is not None
                or not self.writable.is_set()
                or self.conn.state is not open_state
                or transport is None
                or transport.is_closing()  # e.g. uvicorn's shutdown closed it: not lost yet
            ):
                return False
            held = self._held
            if held is None:
                if not holding():
                    try:
                        transport.write(frame)
                    except Exception:  # never into the publisher: the ASGI send raises it
                        return False
                    return True
                self._held = [frame]
                held_by(self.release)
            else:
                held.append(frame)
            self._held_size += len(frame)
            if self._held_size > _HOLD_LIMIT:  # the transport's high-water mark decides
                self.release()
            return True

        # -- the direct receive ----------------------------------------------------------
        def listen(self, receiver: Callable[[str | bytes], None] | None) -> None:
            """From now on, hand every whole message the client sends to ``receiver`` (text
            as ``str``, binary as ``bytes``) as it is read, in order, instead of queueing it
            for ``receive``; ``None``: queue them again. Disconnects always go to ``receive``."""
            self._receiver = receiver

        def pause_inbound(self, paused: bool) -> None:
            """Stop reading the socket (``True``) while the receiver's work waits, or read on."""
            if paused == self.read_paused or self.transport is None:
                return
            self.read_paused = paused
            if paused:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

        def post(self, message: Any) -> None:
            """Put ``message`` in the queue that ``receive`` reads: it wakes the application
            waiting there (for a disconnect) to act on what its receiver found."""
            self.queue.put_nowait(message)

        if listening:

            def data_received(self, data: bytes) -> None:
                """The read's fast path: while the application listens and ``websockets``'
                parser waits between frames, the whole, unfragmented data frames at the
                start of ``data`` go to the receiver here, parsed as that parser would; the
                rest (a control frame, a fragment, a frame not all read yet, anything it
                would refuse) goes to uvicorn's own path from the first such frame."""
                receiver = self._receiver
                limit = self._quick
                if receiver is not None and limit is not None and not self.close_sent:
                    taken = self._fast(data, receiver, limit)
                    if taken == len(data):
                        return
                    if taken:
                        data = data[taken:]
                super().data_received(data)

            def _fast(
                self, data: bytes, receiver: Callable[[str | bytes], None], limit: int
            ) -> int:
                """How many bytes of ``data`` it handed to ``receiver``, as whole frames."""
                conn = self.conn
                if (
                    conn.state is not open_state
                    or conn.current_size is not None
                    or conn.debug
                    or getattr(_innermost(conn.parser), "gi_code", None) is not at_eof
                ):
                    return 0
                end = len(data)
                at = 0
                while at + 6 <= end:
                    first = data[at]
                    if first != 0x81 and first != 0x82:  # FIN, no RSV bits, text or binary
                        break
                    second = data[at + 1]
                    if second < 0x80:  # a client's frame is masked, or it is refused
                        break
                    length = second & 0x7F
                    head = at + 2
                    if length == 126:
                        length = (data[head] << 8) | data[head + 1] if head + 2 <= end else -1
                        head += 2
                    elif length == 127:
                        break
                    stop = head + 4 + length
                    if length < 0 or stop > end or length > limit:
                        break
                    payload = _apply_mask(data[head + 4 : stop], data[head : head + 4])
                    message: str | bytes
                    if first == 0x81:
                        try:
                            message = payload.decode()
                        except UnicodeDecodeError:  # uvicorn's path closes with 1007
                            break
                    else:
                        message = payload
                    at = stop
                    receiver(message)
                    if self._receiver is not receiver or self.close_sent:
                        break
                return at

            def send_receive_event_to_app(self) -> None:
                receiver = self._receiver
                if receiver is None or self.close_sent:
                    super().send_receive_event_to_app()  # queued, or dropped after a close
                    return
                frames = self.frames
                data = frames[0] if len(frames) == 1 else b"".join(frames)
                message: str | bytes
                if getattr(self, "curr_msg_data_type", "text") == "text":
                    try:
                        message = bytes(data).decode()
                    except UnicodeDecodeError:  # uvicorn closes the socket with 1007
                        super().send_receive_event_to_app()
                        return
                else:
                    message = bytes(data)
                self.frames = []
                receiver(message)

    return DirectWebSocketProtocol
