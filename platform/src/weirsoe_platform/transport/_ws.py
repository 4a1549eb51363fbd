"""The game WebSocket: ``/ws/game/{code}``.

Connect → authenticate (accept first, then close with a named 44xx code on failure) →
subscribe to the room channel plus the viewer's private channel → send a snapshot → relay
events while answering client messages. One task sends, so frames never interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

import msgspec
from litestar import WebSocket, websocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from weirsoe_sdk import Event, Step, Viewer, WeirsoeError

from .._eager import start_eagerly
from ..security import Guard, TokenBucket, client_address, origin_allowed
from ..sessions import (
    Forbidden,
    RateLimited,
    SessionNotFound,
    SessionService,
    StoreUnavailable,
    Unauthorized,
    normalize_code,
)
from ..sessions._frames import envelope_version
from ._direct import EXTENSION, text_frame
from ._hub import Hub, Subscription
from ._messages import (
    Ack,
    ActionRequest,
    ClientMessage,
    ErrorReply,
    Ping,
    Pong,
    SyncRequest,
    VoteRequest,
)
from ._rooms import LOST, RoomWatch, lost_message

__all__ = ["MAX_FRAME", "Presence", "close_codes", "game_socket"]

log = logging.getLogger("weirsoe.ws")
# What closing or writing to a socket raises once the client is gone (disconnected, or the
# ASGI server refusing a send after the close): expected, never worth a traceback.
_SOCKET_GONE: tuple[type[Exception], ...] = (WebSocketDisconnect, RuntimeError, OSError)

MAX_FRAME = 64 * 1024

WS_1008_POLICY_VIOLATION = 1008
WS_1009_MESSAGE_TOO_BIG = 1009
WS_1011_INTERNAL_ERROR = 1011
WS_1013_TRY_AGAIN_LATER = 1013
WS_4401_UNAUTHORIZED = 4401
WS_4403_FORBIDDEN = 4403
WS_4404_ROOM_NOT_FOUND = 4404
WS_4408_KICKED = 4408
WS_4410_ROOM_CLOSED = 4410
WS_4429_TOO_MANY_ATTEMPTS = 4429

close_codes = {
    name: value
    for name, value in globals().items()
    if name.startswith("WS_") and isinstance(value, int)
}

_decoder = msgspec.json.Decoder(ClientMessage)
_raw = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()
_KNOWN = {"ping", "sync", "action", "vote"}
_CLOSED_MARK = b'"type":"session.closed"'
_KICKED_MARK = b'"type":"session.kicked"'
_SNAPSHOT_MARK = b'"type":"session.snapshot"'
# Frames per connection: 20 a second with bursts of 60; a client that keeps going past the
# limit for 200 frames in a row is closed.
FRAME_RATE = 20.0
FRAME_BURST = 60.0
FRAME_ABUSE = 200


class Presence:
    """Sockets per player in this process, so only the last one to close marks a player gone."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def up(self, code: str, player_id: str) -> bool:
        self.counts[(code, player_id)] += 1
        return self.counts[(code, player_id)] == 1

    def down(self, code: str, player_id: str) -> bool:
        key = (code, player_id)
        self.counts[key] -= 1
        if self.counts[key] <= 0:
            del self.counts[key]
            return True
        return False


def _header(socket: WebSocket[Any, Any, Any], name: bytes) -> str | None:
    """The first ``name`` header of the handshake, read off the ASGI scope: ``socket.headers``
    would parse them all into a multidict that the scope keeps for as long as the socket is
    open (docs/performance.md, section 56)."""
    for key, value in socket.scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def _authenticate(
    socket: WebSocket[Any, Any, Any], service: SessionService, guard: Guard, code: str
) -> tuple[Viewer, str | None] | None:
    """The viewer, and for an audience socket with a token its member id."""
    settings = service.settings
    if not origin_allowed(
        _header(socket, b"origin"),
        _header(socket, b"host"),
        public_url=settings.public_url,
        allowed=settings.allowed_origins,
    ):
        await socket.close(code=WS_1008_POLICY_VIOLATION, reason="origin not allowed")
        return None
    role = socket.query_params.get("role", "player")
    token = socket.query_params.get("token")
    address = client_address(socket)
    try:
        await guard.check_lookup(address)
        viewer = await service.authenticate(code, role, token)
        member = None
        if viewer.role == "audience" and token:
            member = await service.audience.authenticate(code, token)
        return viewer, member
    except RateLimited:
        await socket.close(code=WS_4429_TOO_MANY_ATTEMPTS, reason="too many attempts")
    except SessionNotFound:
        # Counting the miss must not stop the 4404: the limiter's store (Redis) may be down,
        # and its errors are redis-py's, which this module does not import (lean installs).
        with contextlib.suppress(Exception):
            await guard.unknown_code(address)
        await socket.close(code=WS_4404_ROOM_NOT_FOUND, reason="room not found")
    except Unauthorized as exc:
        await socket.close(code=WS_4401_UNAUTHORIZED, reason=exc.message[:120])
    except Forbidden as exc:
        await socket.close(code=WS_4403_FORBIDDEN, reason=exc.message[:120])
    except StoreUnavailable:
        await socket.close(code=WS_1013_TRY_AGAIN_LATER, reason="state store unavailable")
    return None


@websocket("/ws/game/{code:str}")
async def game_socket(
    socket: WebSocket[Any, Any, Any],
    code: FromPath[str],
    service: NamedDependency[SessionService],
    channels: NamedDependency[Hub],
    presence: NamedDependency[Presence],
    guard: NamedDependency[Guard],
    watch: NamedDependency[RoomWatch],
) -> None:
    try:
        await _game_socket(socket, code, service, channels, presence, guard, watch)
    finally:
        _release(socket)


async def _gone_receive() -> Any:
    return {"type": "websocket.disconnect", "code": 1006}


async def _gone_send(message: Any) -> None:
    raise WebSocketDisconnect(detail="the socket is closed")


def _release(socket: WebSocket[Any, Any, Any]) -> None:
    """Break the reference cycle a Litestar ``WebSocket`` makes with itself: its ``receive``
    and ``send`` wrappers are closures over the socket. Through them, everything the socket
    reaches (the scope, the ASGI server's protocol, its parser and buffers) would wait for a
    full collection after the socket closed; once they are gone, it goes when the socket's
    handler returns (docs/performance.md, section 52). Nothing uses the socket after its
    handler; were something to, it would see the socket closed."""
    socket.receive = _gone_receive
    socket.send = _gone_send


async def _game_socket(
    socket: WebSocket[Any, Any, Any],
    code: str,
    service: SessionService,
    channels: Hub,
    presence: Presence,
    guard: Guard,
    watch: RoomWatch,
) -> None:
    await socket.accept()
    code = normalize_code(code)
    found = await _authenticate(socket, service, guard, code)
    if found is None:
        return
    viewer, member = found
    names = service.viewer_channels(code, viewer)
    subscriber = await channels.subscribe(names)
    sender: asyncio.Task[None] | None = None
    player = viewer.player_id
    watching = False
    counted = False  # only a socket counted present may count itself gone
    metrics = service.metrics
    if metrics is not None:
        metrics.sockets.labels(viewer.role).inc()
    try:
        try:
            snapshot = await service.snapshot(code, viewer, member)
        except SessionNotFound:
            await socket.close(code=WS_4404_ROOM_NOT_FOUND, reason="room not found")
            return
        await socket.send_text(snapshot.decode())
        first_version = envelope_version(snapshot)
        # This frame lives as long as the socket: it keeps no copy of the first snapshot, a
        # few KiB in a game (docs/performance.md, section 54).
        del snapshot
        watch.add(code, subscriber)
        sender = asyncio.create_task(_forward_events(socket, subscriber, service, first_version))
        if player is not None:
            counted = True
            if presence.up(code, player):
                await service.presence(code, player, True)
        if viewer.role == "audience":
            watching = True
            await service.audience.watch(code, 1)
        await _receive_loop(socket, _Frames(service, code, (viewer, member), subscriber))
    except WebSocketDisconnect:
        pass
    except StoreUnavailable:
        log.warning("room %s: state store unavailable, closing socket", code, exc_info=True)
        with contextlib.suppress(*_SOCKET_GONE):
            await socket.close(code=WS_1013_TRY_AGAIN_LATER, reason="state store unavailable")
    except Exception:
        log.exception("game socket failed in room %s", code)
        with contextlib.suppress(*_SOCKET_GONE):
            await socket.close(code=WS_1011_INTERNAL_ERROR, reason="internal error")
    finally:
        if metrics is not None:
            metrics.sockets.labels(viewer.role).dec()
            if subscriber.dropped:
                metrics.dropped.labels("slow_client").inc(subscriber.dropped)
        watch.discard(code, subscriber)
        await channels.unsubscribe(subscriber, names)
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, *_SOCKET_GONE):
                await sender
        if watching:
            await service.audience.watch(code, -1)
        if counted and player is not None and presence.down(code, player):
            with contextlib.suppress(WeirsoeError):
                await service.presence(code, player, False)


class _Scan:
    """What a sender needs of a message: ``(message, text, version, close code, frame)``, the
    close code 0 for none and ``frame`` the WebSocket frame to write directly. A room's message
    goes to all its sockets as one bytes object, so the last message scanned is kept (as one
    tuple, replaced whole) and the room's other sockets reuse it."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: tuple[bytes, str, int, int, bytes] = (b"", "", 0, 0, b"")

    def __call__(self, data: bytes) -> tuple[bytes, str, int, int, bytes]:
        last = self.last
        if last[0] is data:
            return last
        version = envelope_version(data)
        close = (
            WS_4410_ROOM_CLOSED
            if _CLOSED_MARK in data
            else WS_4408_KICKED
            if _KICKED_MARK in data
            else 0
        )
        self.last = last = (data, data.decode(), version, close, text_frame(data))
        return last


_scan = _Scan()
_CLOSE_REASONS = {
    WS_4410_ROOM_CLOSED: "the host closed the room",
    WS_4408_KICKED: "removed by the host",
}


async def _forward_events(
    socket: WebSocket[Any, Any, Any],
    subscriber: Subscription,
    service: SessionService,
    version: int,
) -> None:
    """The socket's sending task: it sends what is queued, and lets the hub send the rest on
    the spot while it is idle (:class:`Subscription`)."""
    forward = _Forwarder(socket, service, version)
    subscriber.sender = forward.send
    if forward.direct is not None:
        subscriber.direct = forward.write_now
    try:
        async for data in subscriber.iter_events():
            if not forward.write_now(data) and await forward.send(data):
                return
    except _SOCKET_GONE:
        return
    finally:
        subscriber.sender = subscriber.direct = None


class _Forwarder:
    """Sends one frame at a time to a socket, in order; :meth:`send` returns ``True`` once it
    has closed the socket. :meth:`write_now` writes a frame synchronously where the server
    offers it (``transport/_direct.py``), else returns ``False`` and :meth:`send` must."""

    __slots__ = ("_send", "_service", "_socket", "direct", "floor", "version")

    def __init__(
        self, socket: WebSocket[Any, Any, Any], service: SessionService, version: int
    ) -> None:
        self._socket = socket
        self._send = socket.send  # the ASGI event directly: one layer less than send_text
        self._service = service
        self.version = version
        # The version of the socket's first snapshot, until a newer message passes: a change
        # committed between the socket's subscription and its snapshot is in the snapshot,
        # and its messages, still on their way, are not sent after it (:meth:`_stale`).
        self.floor = version
        extensions: Any = socket.scope.get("extensions") or {}
        offered = extensions.get(EXTENSION)  # the server's direct write, if it offers one
        self.direct: Callable[[bytes], bool] | None = offered["write"] if offered else None

    def write_now(self, data: bytes) -> bool:
        """Write ``data``'s frame to the socket at once; ``False`` if it must go through
        :meth:`send` (no direct write, a closing frame, the room lost, or the socket unable
        to take it without waiting)."""
        direct = self.direct
        if direct is None or data is LOST:
            return False
        _, _, version, close, frame = _scan(data)
        if self.floor and self._stale(data, version, close):
            return True
        if close or not direct(frame):
            return False
        if version > self.version:
            self.version = version
        metrics = self._service.metrics
        if metrics is not None:
            metrics.deliveries.inc()
            metrics.direct_writes.inc()
        return True

    def _stale(self, data: bytes, version: int, close: int) -> bool:
        """Whether ``data`` is a room message no newer than the socket's first snapshot, sent
        before any newer one: its change is in that snapshot, so it is not sent (a client would
        drop it as stale). Snapshots, closing messages and messages without a version (acks,
        errors, ``audience.tally``) always go. Once a newer message passes, nothing is stale:
        the hub delivers a room's messages in version order."""
        if version > self.floor:
            self.floor = 0
            return False
        return version > 0 and not close and _SNAPSHOT_MARK not in data

    async def send(self, data: bytes) -> bool:
        socket = self._socket
        if data is LOST:
            lost = lost_message(self.version, self._service.clock())
            await self._send({"type": "websocket.send", "bytes": None, "text": lost.decode()})
            await socket.close(code=WS_4410_ROOM_CLOSED, reason="the room was lost")
            return True
        _, text, version, close, _ = _scan(data)
        if self.floor and self._stale(data, version, close):
            return False
        if version > self.version:
            self.version = version
        await self._send({"type": "websocket.send", "bytes": None, "text": text})
        metrics = self._service.metrics
        if metrics is not None:
            metrics.deliveries.inc()
        if close:
            await socket.close(code=close, reason=_CLOSE_REASONS[close])
            return True
        return False


async def _reply(subscriber: Subscription, message: Any) -> None:
    await subscriber.put(_encoder.encode(message))


class _Close(NamedTuple):
    """A reason found in a socket's frames to close it."""

    code: int
    reason: str


_TOO_BIG = _Close(WS_1009_MESSAGE_TOO_BIG, "frame over 64 KiB")
_ABUSE = _Close(WS_1008_POLICY_VIOLATION, "too many messages")


class _Frames:
    """How a socket's frames are handled, one at a time and in order, whichever way they
    come (:func:`_receive_loop` or :class:`_Inbound`): the size and rate limits, then
    :func:`_handle`, then its reply."""

    __slots__ = ("bucket", "code", "over", "service", "subscriber", "who")

    def __init__(
        self,
        service: SessionService,
        code: str,
        who: tuple[Viewer, str | None],
        subscriber: Subscription,
    ) -> None:
        self.bucket = TokenBucket(FRAME_RATE, FRAME_BURST)
        self.over = 0
        self.service = service
        self.code = code
        self.who = who
        self.subscriber = subscriber

    async def handle(self, data: str | bytes) -> _Close | None:
        """Handle one frame; a reason to close the socket, or None. Raises what must end the
        socket (the state store unavailable, a failed reply)."""
        if len(data) > MAX_FRAME:
            return _TOO_BIG
        if not self.bucket.take():
            self.over += 1
            if self.over >= FRAME_ABUSE:
                return _ABUSE
            await _reply(self.subscriber, ErrorReply(code="rate_limited", message="slow down"))
            return None
        self.over = 0
        try:
            reply = await _handle(data, self.service, self.code, self.who, self.subscriber)
        except StoreUnavailable:
            raise
        except Exception:  # no frame may take the connection (or the server) down
            log.exception("could not handle a frame in room %s", self.code)
            reply = ErrorReply(code="internal_error", message="that message could not be handled")
        if reply is not None:
            await _reply(self.subscriber, reply)
        return None


def _data(message: Any) -> str | bytes:
    """A received ASGI message's text or bytes."""
    raw = message.get("text")
    if raw is None:
        raw = message.get("bytes") or b""
    return raw if isinstance(raw, str | bytes) else b""


async def _receive_loop(socket: WebSocket[Any, Any, Any], frames: _Frames) -> None:
    """Handle a socket's frames until it disconnects or one of them closes it: as the server
    reads them where it offers that (:func:`_listen`), else through ASGI ``receive``, where
    each waits for the socket's task."""
    offered: Any = (socket.scope.get("extensions") or {}).get(EXTENSION)
    if offered is not None and "listen" in offered:
        await _listen(socket, _Inbound(frames, offered))
        return
    while True:
        message = await socket.receive()
        if message["type"] == "websocket.disconnect":
            return
        end = await frames.handle(_data(message))
        if end is not None:
            await socket.close(code=end.code, reason=end.reason)
            return


# What the direct receive posts to wake the socket's task (``_Inbound.end``); found by identity.
_WAKE: dict[str, Any] = {"type": "websocket.receive", "text": ""}
# Frames kept while one waits, past which the server stops reading the socket.
_INBOUND_KEPT = 8


class _Inbound:
    """The direct receive (``transport/_direct.py``): a socket's frames handled as the server
    reads them, in its own turn of the event loop, each up to its first wait and only then as
    a task (``_eager.start_eagerly``). Through ASGI each frame waited for the socket's task to
    wake a turn later, and reading paused and resumed around it.

    One frame at a time, in order: frames that come while one waits are kept, and handled
    when it is done; past :data:`_INBOUND_KEPT` of them the server stops reading the socket
    until they are. A reason to close the socket, or what a frame raised, ends it: ``end``,
    and the socket's task, waiting in :func:`_listen` for a disconnect, is woken to act on it."""

    __slots__ = ("end", "frames", "kept", "offered", "paused", "running")

    def __init__(self, frames: _Frames, offered: Any) -> None:
        self.frames = frames
        self.offered = offered
        self.kept: list[str | bytes] | None = None  # made when a frame first has to wait
        self.running: asyncio.Task[None] | None = None
        self.end: _Close | Exception | None = None
        self.paused = False

    def receive(self, data: str | bytes) -> None:
        """The server's receiver: called as a frame is read. Never raises into the server."""
        if self.end is not None:  # closing: nothing after the end is handled
            return
        if self.running is not None or self.kept:
            kept = self.kept
            if kept is None:
                kept = self.kept = []
            kept.append(data)
            if len(kept) >= _INBOUND_KEPT and not self.paused:
                self.paused = True
                self.offered["pause"](True)
            return
        self._start(data)

    def _start(self, data: str | bytes) -> None:
        try:
            task = start_eagerly(self._one(data))
        except Exception as exc:  # raised before its first wait
            self._finish(exc)
            return
        if task is not None:
            self.running = task
            task.add_done_callback(self._done)

    async def _one(self, data: str | bytes) -> None:
        end = await self.frames.handle(data)
        if end is not None:
            self._finish(end)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.running = None
        if task.cancelled():  # only by the socket's task, as it ends
            return
        exc = task.exception()
        if isinstance(exc, Exception):
            self._finish(exc)
            return
        kept = self.kept
        while kept and self.running is None and self.end is None:
            self._start(kept.pop(0))
        if not kept:
            self.kept = None
        if self.paused and not kept:
            self.paused = False
            self.offered["pause"](False)

    def _finish(self, end: _Close | Exception) -> None:
        if self.end is None:
            self.end = end
            self.kept = None
            self.offered["post"](_WAKE)

    async def settle(self) -> None:
        """Wait until every frame read so far is handled (or one ended the socket)."""
        while self.running is not None:
            await asyncio.wait((self.running,))


async def _listen(socket: WebSocket[Any, Any, Any], inbound: _Inbound) -> None:
    """The socket's task while the server hands its frames to ``inbound``: it waits for a
    disconnect, or to be woken by ``inbound``'s end, and acts on that end as the loop through
    ASGI would (close the socket, or raise). Frames read before it listened come here and
    go to ``inbound`` first."""
    offered = inbound.offered
    offered["listen"](inbound.receive)
    try:
        while True:
            message = await socket.receive()
            gone = message is not _WAKE and message["type"] == "websocket.disconnect"
            if gone:
                await inbound.settle()  # the frames before the disconnect, as through ASGI
            elif message is not _WAKE:
                inbound.receive(_data(message))
            end = inbound.end
            if isinstance(end, Exception):
                raise end
            if end is not None and not gone:
                await socket.close(code=end.code, reason=end.reason)
                return
            if gone:
                return
    finally:
        offered["listen"](None)
        if inbound.running is not None:
            inbound.running.cancel()


async def _handle(
    data: str | bytes,
    service: SessionService,
    code: str,
    who: tuple[Viewer, str | None],
    subscriber: Subscription,
) -> Any:
    viewer, member = who
    try:
        request = _decoder.decode(data)
    except RecursionError:
        return ErrorReply(code="too_deep", message="that frame is nested too deeply")
    except msgspec.DecodeError as exc:
        if isinstance(exc, msgspec.ValidationError):
            return _invalid(data, exc)
        return ErrorReply(code="bad_json", message="that frame is not JSON")
    if isinstance(request, Ping):
        return Pong(ts=time.time())
    if isinstance(request, SyncRequest):
        try:
            await subscriber.put(await service.snapshot(code, viewer, member, seen=True))
        except WeirsoeError as exc:
            return ErrorReply(code=exc.code, message=exc.message)
        return None
    if isinstance(request, VoteRequest):
        return await _vote(request, service, code, member)
    assert isinstance(request, ActionRequest)
    if viewer.player_id is None:
        return ErrorReply(id=request.id, code="read_only", message=f"the {viewer.role} cannot act")
    acked = False

    def ack(step: Step[Any]) -> None:  # as the commit is known (Redis: its reply is read)
        nonlocal acked
        acked = True
        subscriber.put_nowait(_encoder.encode(_ack(request.id, step)))

    try:
        step = await service.act(code, viewer.player_id, request.action, request.id, acked=ack)
    except WeirsoeError as exc:
        if acked:  # committed and answered: what failed after it is the server's to log
            log.warning("room %s: after an acknowledged action: %s", code, exc.message)
            return None
        return ErrorReply(id=request.id, code=exc.code, message=exc.message, field=exc.field)
    except Exception:  # a driver bug must never take the socket or the server down
        log.exception("action failed in room %s", code)
        if acked:
            return None
        return ErrorReply(id=request.id, code="internal_error", message="the action failed")
    return None if acked else _ack(request.id, step)


def _ack(msg_id: str, step: Step[Any]) -> Ack:
    return Ack(id=msg_id, version=step.table.version, duplicate=step.duplicate)


async def _vote(
    request: VoteRequest, service: SessionService, code: str, member: str | None
) -> Event:
    if member is None:
        return ErrorReply(
            id=request.id,
            code="not_audience",
            message="only audience members vote: join with POST /api/sessions/{code}/audience",
        )
    try:
        changed = await service.audience.vote(code, member, request.tally, request.choice)
    except WeirsoeError as exc:
        return ErrorReply(id=request.id, code=exc.code, message=exc.message, field=exc.field)
    return Ack(id=request.id, version=0, duplicate=not changed)


def _invalid(data: str | bytes, exc: msgspec.ValidationError) -> ErrorReply:
    try:
        raw = _raw.decode(data)
    except RecursionError:  # valid JSON, but a value in it is nested too deeply to read
        return ErrorReply(code="too_deep", message="that frame is nested too deeply")
    except msgspec.DecodeError:
        raw = None
    msg_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
    kind = raw.get("type") if isinstance(raw, dict) else None
    if not isinstance(kind, str) or kind not in _KNOWN:
        return ErrorReply(
            id=msg_id, code="unknown_type", message=f"unknown message type {kind!r}"[:200]
        )
    return ErrorReply(
        id=msg_id if msg_id and len(msg_id) <= 64 else None,
        code="bad_message",
        message=str(exc)[:300],
    )
