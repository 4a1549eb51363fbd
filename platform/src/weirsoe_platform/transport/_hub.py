"""The process's fan-out: channel name → the sockets of *this* process that listen to it.

Every socket of a process subscribes here, to its room channel and its private one. Each socket
has a :class:`Subscription`: a bounded backlog of encoded frames that its one sending task
drains. Delivering a message is a dict lookup per listening socket and, when that socket's
sender is idle, the write itself, with no task hop (else an append to its backlog), so a frame
encoded once per audience reaches every socket without being copied or re-encoded.

- **Embedded**: the service publishes straight into the hub after each commit
  (:meth:`Hub.publish`), in commit order.
- **Redis**: the compare-and-set script publishes one *wire frame* per transition on the
  room's wire channel (``P:WIRE:CODE``), holding every message of the transition with its
  channel names. Each process reads all its rooms' wire channels on one pub/sub connection
  (:class:`~weirsoe_platform._redis_pubsub.RedisPubSub`) and hands each frame to
  :meth:`Hub.on_wire_message`, which fans it out locally. Redis sends the frames of a room in
  commit order, so every socket sees versions in order.
- **Quiet commits** (Redis; docs/performance.md, section 82): where this process can deliver
  its own commit at once (:meth:`Hub.deliver_committed`), the frame is published only if
  another process listens to the room. :meth:`Hub.quiet` gives the compare-and-set this
  process's marker channel (``RedisPubSub.live_marker``), and the script publishes when the
  wire channel has a subscriber besides this process, counted in the same atomic step. A
  process that subscribes reads its snapshot only after Redis has confirmed the subscription
  (:meth:`Hub.subscribe`), so every commit after that snapshot counts it and is published.
  While a quiet compare-and-set is on its way, the room's wire channel stays subscribed
  here, even with no socket left, so that the count it relies on cannot change under it.
- **Bounded memory**: a socket whose client stops reading keeps at most ``max_backlog``
  frames; older ones are dropped. Every frame carries the session ``version``, so when the
  client reads again it sees the gap and asks for a snapshot (``sync``), as after a reconnect.

It replaces Litestar's ``ChannelsPlugin``, whose workarounds reached into privates: its channel
map never shrinks (Litestar issue #4867, https://github.com/litestar-org/litestar/issues/4867)
and concurrent subscribe/unsubscribe lose events (#4894,
https://github.com/litestar-org/litestar/issues/4894). Here a channel's entry goes with its
last socket, and the subscription bookkeeping is done before any await.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Generator, Iterable
from typing import Any, Protocol

from .._eager import Resume
from ..sessions._frames import decode_frame, encode_frame, envelope_version, frame_version
from ._direct import hold_writes, release_held

__all__ = ["MAX_BACKLOG", "Hub", "Remote", "Subscription"]

MAX_BACKLOG = 256  # frames kept per socket whose client does not read; older ones are dropped


class Subscription:
    """One socket's backlog: frames in, frames out in order, at most ``max_backlog`` kept.

    **Sending without a task hop.** While its sending task is parked with nothing queued, a
    frame is handed straight to ``sender`` (set by the socket's sending task), run on the spot
    up to its first real wait. Writing to a socket whose transport is not paused never waits,
    so the frame is written before :meth:`put_nowait` returns, with no future, no wake-up and
    no task step. If it must wait (the client reads slowly), the sending task finishes that
    send before anything queued after it, so frames keep their order; if it fails, the error
    is raised in the sending task, never in the publisher. ``sender`` returns ``True`` when
    the socket is done (closed by it): the iteration then ends.

    **Writing without a coroutine.** Before that, ``direct`` (when set) may write the frame
    synchronously and return ``True``; it returns ``False`` for anything it cannot write at once,
    which then goes to ``sender`` as above (see ``transport/_direct.py``).
    """

    __slots__ = ("_backlog", "_done", "_inflight", "_waiter", "direct", "dropped", "sender")

    def __init__(self, max_backlog: int = MAX_BACKLOG) -> None:
        self._backlog: deque[bytes] = deque(maxlen=max(1, max_backlog))
        self._waiter: asyncio.Future[None] | None = None
        self._inflight: Awaitable[bool] | None = None  # a send begun by put_nowait
        self._done = False
        self.dropped = 0  # frames dropped because the client did not read them in time
        self.sender: Callable[[bytes], Coroutine[Any, Any, bool]] | None = None
        self.direct: Callable[[bytes], bool] | None = None

    def put_nowait(self, data: bytes) -> None:
        if self._done:
            return
        backlog = self._backlog
        waiter = self._waiter
        if waiter is not None and not waiter.done():  # the sending task is parked
            if not backlog:
                direct = self.direct
                if direct is not None and direct(data):
                    return
                sender = self.sender
                if sender is not None:
                    self._send_now(sender(data))
                    return
            backlog.append(data)
            waiter.set_result(None)
            return
        if len(backlog) == backlog.maxlen:
            self.dropped += 1  # deque(maxlen) drops the oldest on append
        backlog.append(data)

    def _send_now(self, coro: Coroutine[Any, Any, bool]) -> None:
        try:
            waiting_on = coro.send(None)
        except StopIteration as stop:
            if stop.value:
                self._finish()
            return
        except Exception as exc:  # the sending task raises it, not the publisher
            self._inflight = _Raise(exc)
        else:
            self._inflight = Resume(coro, waiting_on)
        self._finish(done=False)

    def _finish(self, done: bool = True) -> None:
        self._done = self._done or done
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def put(self, data: bytes) -> None:
        self.put_nowait(data)

    @property
    def qsize(self) -> int:
        return len(self._backlog)

    async def iter_events(self) -> AsyncGenerator[bytes, None]:
        backlog = self._backlog
        loop = asyncio.get_running_loop()
        while True:
            inflight = self._inflight
            if inflight is not None:
                self._inflight = None
                if await inflight:
                    self._done = True
            if self._done:
                return
            if backlog:
                yield backlog.popleft()
                continue
            waiter = self._waiter = loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None


class _Raise:
    """Awaiting it raises what a send begun in :meth:`Subscription.put_nowait` raised."""

    __slots__ = ("_exc",)

    def __init__(self, exc: BaseException) -> None:
        self._exc = exc

    def __await__(self) -> Generator[Any, Any, bool]:
        raise self._exc
        yield  # a generator, as __await__ must return an iterator


QUIET_GRACE = 10.0  # s a failed quiet compare-and-set holds its room's subscription


class Remote(Protocol):
    """Where rooms' wire frames come from across processes (Redis pub/sub)."""

    def subscribe(self, channels: Iterable[str]) -> None: ...
    def unsubscribe(self, channels: Iterable[str]) -> None: ...
    def live_marker(self, channel: str) -> str | None: ...
    async def settle(self, timeout: float = 5.0) -> bool: ...
    async def publish_many(self, frames: list[tuple[str, bytes]]) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class Hub:
    """Local fan-out, optionally fed by a :class:`Remote` (see the module docstring).

    ``channel_prefix`` is what every channel name starts with (``weirsoe:`` upper-cased on
    Redis); the room code is the name's second part (``PREFIX:ROOM:CODE``,
    ``PREFIX:PLAYER:CODE:ID``…). ``wire`` maps a room code to its wire channel.
    """

    def __init__(
        self,
        *,
        remote: Remote | None = None,
        channel_prefix: str = "",
        wire_prefix: str = "",
        max_backlog: int = MAX_BACKLOG,
    ) -> None:
        self.remote = remote
        self.max_backlog = max_backlog
        self._prefix = channel_prefix.upper()
        self._wire_prefix = wire_prefix
        self._listeners: dict[str, set[Subscription]] = {}
        self._rooms: dict[str, int] = {}  # wire channel -> local sockets listening
        # Redis: wire channel -> the last version this process delivered for the room, and
        # how many frames went out at commit time (own) or were skipped as their echo.
        self._delivered: dict[str, int] = {}
        # Redis: wire channel -> when this process's subscription to it began
        # (``time.monotonic_ns``), for :meth:`holds`.
        self._since: dict[str, int] = {}
        # Redis: wire channel -> a mark that changes with each audience progress frame (one
        # without a version) of the room, for :meth:`progress_mark`. A room has one from its
        # first frame received, and none after the pub/sub connection was lost until its next.
        self._marks: dict[str, int] = {}
        self._serial = itertools.count(1)
        # Redis: wire channel -> quiet compare-and-sets on their way (:meth:`quiet`), and the
        # rooms whose last socket left meanwhile, unsubscribed when the last of them is done.
        self._quiet: dict[str, int] = {}
        self._leaving: set[str] = set()
        self.own = 0
        self.echoes = 0
        self.read_first = 0  # own commits whose echo was read before their reply
        self.quiets = 0  # compare-and-sets that counted on this process's subscription

    # -- names -------------------------------------------------------------------------------
    def room_of(self, name: str) -> str:
        parts = name[len(self._prefix) :].split(":")
        return parts[1] if len(parts) > 1 else parts[0]

    def wire(self, code: str) -> str:
        return f"{self._wire_prefix}WIRE:{code}".upper()

    # -- subscribing -------------------------------------------------------------------------
    async def subscribe(
        self, channels: str | Iterable[str], history: int | None = None
    ) -> Subscription:
        """A new socket's subscription. Returns once every message committed after the call
        will reach it (on Redis: once Redis has confirmed the wire channel's SUBSCRIBE)."""
        names = [channels] if isinstance(channels, str) else list(channels)
        sub = Subscription(self.max_backlog)
        for name in names:
            self._listeners.setdefault(name, set()).add(sub)
        if self.remote is not None:
            fresh = []
            for wire in {self.wire(self.room_of(name)) for name in names}:
                self._rooms[wire] = self._rooms.get(wire, 0) + 1
                if self._rooms[wire] == 1:
                    fresh.append(wire)  # still subscribed if it was leaving (_leaving)
                    self._leaving.discard(wire)
                    self._since[wire] = time.monotonic_ns()
            if fresh:
                self.remote.subscribe(fresh)
            await self.remote.settle()
        return sub

    async def unsubscribe(
        self, subscriber: Subscription, channels: str | Iterable[str] | None = None
    ) -> None:
        names = [channels] if isinstance(channels, str) else list(channels or ())
        if channels is None:
            names = [n for n, subs in self._listeners.items() if subscriber in subs]
        for name in names:
            subs = self._listeners.get(name)
            if subs is not None:
                subs.discard(subscriber)
                if not subs:
                    del self._listeners[name]
        if self.remote is not None:
            gone = []
            for wire in {self.wire(self.room_of(name)) for name in names}:
                left = self._rooms.get(wire, 0) - 1
                if left <= 0:
                    self._rooms.pop(wire, None)
                    self._delivered.pop(wire, None)
                    self._since.pop(wire, None)
                    self._marks.pop(wire, None)
                    if self._quiet.get(wire):
                        self._leaving.add(wire)  # a quiet commit counts on it: later
                    else:
                        gone.append(wire)
                else:
                    self._rooms[wire] = left
            if gone:
                self.remote.unsubscribe(gone)

    # -- delivering --------------------------------------------------------------------------
    def deliver(self, data: bytes, names: Iterable[str]) -> None:
        listeners = self._listeners
        for name in names:
            subs = listeners.get(name)
            if subs:
                for sub in subs:
                    sub.put_nowait(data)

    def deliver_all(
        self, messages: list[tuple[bytes, list[str]]], then: Callable[[], None] | None = None
    ) -> None:
        """:meth:`deliver` each of ``messages`` in order, then call ``then`` if given. With
        more than one message, or with ``then``, each socket's frames (what ``then`` writes
        included) go to it in one write (``transport/_direct.py``, "Held writes")."""
        if then is None and len(messages) < 2:
            for data, names in messages:
                self.deliver(data, names)
            return
        hold_writes()
        try:
            for data, names in messages:
                self.deliver(data, names)
            if then is not None:
                then()
        finally:
            release_held()

    def on_wire_message(self, channel: bytes, frame: bytes) -> None:
        """A wire frame from Redis, on a room's wire channel (``RedisPubSub(on_message=...)``):
        every message of one commit, in order. A frame this process already delivered when it
        committed it is skipped."""
        self.deliver_all(self._unseen(frame, channel.decode()))

    def _unseen(self, frame: bytes, wire: str) -> list[tuple[bytes, list[str]]]:
        """The frame's messages, or none if this process delivered them at commit time."""
        version = frame_version(frame)
        if wire in self._rooms and (not version or wire not in self._marks):
            self._marks[wire] = next(self._serial)
        if not version:  # no transition (audience progress): always delivered
            return decode_frame(frame)
        last = self._delivered.get(wire)
        if last is not None and version <= last:
            self.echoes += 1
            return []
        messages = decode_frame(frame)
        if wire in self._rooms:
            self._delivered[wire] = max(version, envelope_version(messages[-1][0]))
        return messages

    def holds(self, code: str, version: int, since: int) -> bool:
        """Redis: whether ``version`` is the last version this process's sockets of room
        ``code`` were sent, by a subscription that began before ``since`` (when the reader's
        copy of that version was stored, ``time.monotonic_ns``) and has lost nothing since
        (:meth:`reset`). Then a snapshot of that copy is as new as anything those sockets
        got, and whatever was committed after it reaches them after the snapshot; the copy is
        of this very room, not of an earlier one under the same code (its subscription began
        before the copy was stored)."""
        wire = self.wire(code)
        began = self._since.get(wire)
        return began is not None and began < since and self._delivered.get(wire) == version

    def reset(self) -> None:
        """Redis: the pub/sub connection was lost, and with it whatever was published
        meanwhile; no version delivered so far is known to be the last (:meth:`holds`), and
        the next frame of each room is delivered whatever its version. No room has a
        :meth:`progress_mark` until its next frame either."""
        self._delivered.clear()
        self._marks.clear()

    def progress_mark(self, code: str) -> int | None:
        """Redis: a number that changes whenever an audience progress frame
        (``audience.tally``) of room ``code`` reaches this process, or None when none would
        be seen (the room has no sockets here, or no frame arrived since its subscription
        began or the pub/sub connection was last lost). Every change of a room's audience
        numbers, through any process, is followed by such a frame (``AudienceDesk.flush``),
        so numbers asked after reading a mark are current while the mark stays the same."""
        return self._marks.get(self.wire(code))

    def deliver_committed(
        self,
        code: str,
        expected: int,
        messages: list[tuple[bytes, list[str]]],
        then: Callable[[], None] | None = None,
    ) -> bool:
        """Redis: this process has just committed ``messages`` (the versions after
        ``expected``) on room ``code``, and Redis publishes them in the same step. If the last
        version delivered here is ``expected``, nothing can come between: they go out now,
        without waiting a round trip for Redis to send them back, and that echo is skipped.
        If that echo was read first (it travels on the pub/sub connection, the reply on
        another, and the two are often read in the same turn), it delivered them already.
        Otherwise a frame before them is still on its way, and the echo delivers them after
        it, in order. Returns whether they reached the sockets, now or by that echo; then
        ``then`` is called as well, after the messages delivered now (:meth:`deliver_all`)."""
        wire = self.wire(code)
        if not messages or wire not in self._rooms:
            return False
        last = envelope_version(messages[-1][0])
        delivered = self._delivered.get(wire)
        if delivered is None or last <= expected:
            return False
        if delivered != expected:
            # Frames reach a process in commit order, so a last version at or past this
            # commit's means its echo came first and went out (the ``read_first`` count).
            if delivered < last:
                return False
            self.read_first += 1
            if then is not None:
                then()
            return True
        self.deliver_all(messages, then)
        self._delivered[wire] = last
        self.own += 1
        return True

    def quiet(self, code: str, expected: int) -> str | None:
        """Redis: a compare-and-set of room ``code`` from version ``expected`` is about to
        be sent by this process. If its messages will go to this process's sockets as its
        reply is read (:meth:`deliver_committed`: the room's last version delivered here is
        ``expected``) and Redis counts this process among the room's listeners, returns the
        marker channel that proves the latter (``RedisPubSub.live_marker``): the script
        then publishes the frame only if another process listens (docs/performance.md,
        section 82). Else None: it publishes whenever anyone listens, as before. Each
        marker given must be handed back to :meth:`quiet_done`."""
        remote = self.remote
        wire = self.wire(code)
        if remote is None or self._delivered.get(wire) != expected or wire not in self._rooms:
            return None
        marker = remote.live_marker(wire)
        if marker is not None:
            self._quiet[wire] = self._quiet.get(wire, 0) + 1
            self.quiets += 1
        return marker

    def quiet_done(self, code: str, *, failed: bool = False) -> None:
        """A compare-and-set that :meth:`quiet` gave a marker to has its reply (or lost the
        room). ``failed``: no reply came (an error or a timeout), so Redis may still run it:
        the room's subscription stays for :data:`QUIET_GRACE` s more."""
        wire = self.wire(code)
        if failed:
            asyncio.get_running_loop().call_later(QUIET_GRACE, self._quiet_over, wire)
        else:
            self._quiet_over(wire)

    def _quiet_over(self, wire: str) -> None:
        left = self._quiet.get(wire, 0) - 1
        if left > 0:
            self._quiet[wire] = left
            return
        self._quiet.pop(wire, None)
        if wire in self._leaving:
            self._leaving.discard(wire)
            if self.remote is not None:
                self.remote.unsubscribe([wire])

    def deliver_local(
        self, messages: list[tuple[bytes, list[str]]], then: Callable[[], None] | None = None
    ) -> bool:
        """Embedded: deliver one commit's messages to this process's sockets now, then call
        ``then`` (the actions' answers: a socket gets them with the events in one write,
        :meth:`deliver_all`). Returns False, doing nothing, where messages go through Redis
        (:meth:`publish`)."""
        if self.remote is not None:
            return False
        self.deliver_all(messages, then)
        return True

    async def publish(self, messages: list[tuple[bytes, list[str]]]) -> None:
        """Publish one transition's messages (the service's ``Publisher``): locally when
        embedded, as one wire frame per room otherwise."""
        remote = self.remote
        if remote is None:
            self.deliver_all(messages)
            return
        by_room: dict[str, list[tuple[bytes, list[str]]]] = {}
        for data, names in messages:
            for name in names:
                by_room.setdefault(self.room_of(name), []).append((data, [name]))
        # One frame per room, all at once (a batch of audience progress is many rooms).
        await remote.publish_many(
            [(self.wire(code), encode_frame(items)) for code, items in by_room.items()]
        )

    # -- life --------------------------------------------------------------------------------
    async def start(self) -> None:
        if self.remote is not None:
            await self.remote.start()

    async def stop(self) -> None:
        if self.remote is not None:
            await self.remote.stop()

    def stats(self) -> dict[str, Any]:
        return {
            "channels": len(self._listeners),
            "rooms": len(self._rooms),
            "versions": len(self._delivered),
        }
