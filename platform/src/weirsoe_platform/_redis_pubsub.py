"""One Redis pub/sub connection per process, read in batches.

Litestar's Redis channels backend (on redis-py) parsed every pub/sub message in Python, one
``get_message`` call and one event-loop round per message, and each socket subscribed its own
channels. Here the process holds one connection, subscribed to the *wire channel* of every
room that has a socket on this process (see ``transport._hub``). Each read takes whatever
the kernel has (up to 256 KiB), parses every complete reply in it (with ``hiredis`` when it
is installed, else a small RESP parser below) and hands each message's payload to
``on_message`` synchronously, so a burst of frames costs one wake-up.

- **Settle**: ``subscribe`` writes SUBSCRIBE at once on the connection; ``settle`` then writes
  a PING with a unique token and waits for its PONG. Redis answers a connection's commands in
  order, so the PONG proves every earlier SUBSCRIBE is in force, and a socket may read its
  snapshot: every later commit reaches it.
- **Lost connection**: the reader reconnects with backoff (0.1 s doubling to 2 s) and
  subscribes every channel again; messages sent meanwhile are lost, and the clients' version
  gap check asks for a snapshot. ``settle`` during an outage logs a warning and returns.
- **Live subscriptions and the marker** (docs/performance.md, section 82): each connection
  also subscribes, first, to a *marker* channel of its own that carries nothing
  (``P:LISTENER:ID:N``, ``N`` counting the process's connections). A channel whose SUBSCRIBE
  Redis has confirmed on the current connection, with no UNSUBSCRIBE sent since, is *live*
  (:meth:`RedisPubSub.live_marker`). While the marker has a subscriber in Redis, that
  connection, and so every channel live on it, is still subscribed there: a compare-and-set
  can count this process out of a room's listeners by checking the marker, in the same
  atomic step, instead of trusting what this process last knew of its connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import ssl
from collections.abc import Callable, Iterable
from typing import Any

from redis import asyncio as aioredis

from ._resp import PipelinedRedis, RedisAddress, RespParser, at_once
from ._resp import command as _command
from ._resp import parser as _resp_parser
from ._tasks import cancel_and_wait

__all__ = ["RedisPubSub", "RespParser"]

log = logging.getLogger("weirsoe.channels")


class RedisPubSub:
    """The process's pub/sub connection. ``on_message(channel, payload)`` runs in the reader
    (the attribute is read for each message, so it may be replaced at any time)."""

    def __init__(
        self,
        url: str,
        on_message: Callable[[bytes, bytes], None],
        *,
        publisher: aioredis.Redis | PipelinedRedis | None = None,
        connect_timeout: float = 2.0,
        on_reset: Callable[[], None] | None = None,
        marker_prefix: str | None = None,
    ) -> None:
        """``on_reset()`` runs when the connection is lost or closed: what was published
        until it is back is lost (``Hub.reset``). ``marker_prefix``: with one, each
        connection subscribes to a marker channel ``PREFIX:LISTENER:ID:N`` first, and
        :meth:`live_marker` names it for the channels live on it (see the module docstring)."""
        self.address = RedisAddress.from_url(url)
        self.on_reset = on_reset
        self.on_message = on_message
        self.publisher = publisher
        self.connect_timeout = connect_timeout
        self.channels: set[str] = set()
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._tokens = itertools.count(1)
        self._settling: dict[bytes, asyncio.Future[None]] = {}
        self.connected = asyncio.Event()
        self.messages = 0
        self._marker_base = (
            None
            if marker_prefix is None
            else f"{marker_prefix}:LISTENER:{secrets.token_hex(8)}".upper()
        )
        self._generation = itertools.count(1)
        self._marker: str | None = None  # the current connection's, once it is written
        # SUBSCRIBEs and UNSUBSCRIBEs of a channel written on the current connection that
        # Redis has not confirmed yet (one reply per channel per command, in order).
        self._pending: dict[str, int] = {}

    # -- commands (written at once, in order, on the one connection) ------------------------
    def _send(self, data: bytes) -> bool:
        writer = self._writer
        if writer is None or writer.is_closing():
            return False
        writer.write(data)
        return True

    def subscribe(self, channels: Iterable[str]) -> None:
        names = [c for c in channels if c not in self.channels]
        self.channels.update(names)
        if names and self._send(_command("SUBSCRIBE", *names)):  # else: sent on (re)connect
            self._sent(names)

    def unsubscribe(self, channels: Iterable[str]) -> None:
        names = [c for c in channels if c in self.channels]
        self.channels.difference_update(names)
        if names and self._send(_command("UNSUBSCRIBE", *names)):
            self._sent(names)

    def _sent(self, names: Iterable[str]) -> None:
        pending = self._pending
        for name in names:
            pending[name] = pending.get(name, 0) + 1

    def _confirmed(self, name: bytes) -> None:
        channel = name.decode()
        left = self._pending.get(channel, 0) - 1
        if left > 0:
            self._pending[channel] = left
        else:
            self._pending.pop(channel, None)

    def live_marker(self, channel: str) -> str | None:
        """The current connection's marker channel if ``channel`` is live on it: Redis has
        confirmed its SUBSCRIBE there and no UNSUBSCRIBE of it was written since. Else None
        (no marker asked for, not connected, or not confirmed yet). Redis counts this
        process among ``channel``'s subscribers for as long as the marker has one: both go
        with the connection, and only an :meth:`unsubscribe` written later takes the channel
        off (``Hub.quiet`` holds those back while it counts on one)."""
        marker = self._marker
        if marker is None or channel not in self.channels or channel in self._pending:
            return None
        return marker

    async def settle(self, timeout: float = 5.0) -> bool:
        """Return once Redis has confirmed every SUBSCRIBE sent before the call (True), or log
        a warning and return False, on a lost connection or after ``timeout`` s."""
        token = b"weirsoe-settle-%d" % next(self._tokens)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._settling[token] = future
        try:
            if not self._send(_command("PING", token)):
                raise ConnectionError("not connected")
            await asyncio.wait_for(future, timeout)
        except (ConnectionError, OSError, TimeoutError) as exc:
            log.warning("Redis pub/sub did not confirm subscriptions (%s)", type(exc).__name__)
            return False
        finally:
            self._settling.pop(token, None)
        return True

    def _settled(self, token: bytes) -> None:
        waiter = self._settling.get(token)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def publish_many(self, frames: list[tuple[str, bytes]]) -> None:
        """``(channel, frame)`` pairs, all at once: one write on a :class:`PipelinedRedis`
        publisher; on redis-py's, :data:`AT_ONCE` at a time (each takes a pooled connection)."""
        publisher = self.publisher
        if publisher is None:
            raise RuntimeError("this RedisPubSub was made without a publishing client")
        if isinstance(publisher, PipelinedRedis):
            await publisher.execute_many(*((b"PUBLISH", ch, frame) for ch, frame in frames))
            return
        for outcome in await at_once(lambda item: publisher.publish(*item), frames):
            if isinstance(outcome, Exception):
                raise outcome

    # -- the reader --------------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="weirsoe-redis-pubsub")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.connected.wait(), self.connect_timeout + 1)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self._close()

    def _close(self) -> None:
        self.connected.clear()
        self._marker = None
        self._pending.clear()
        if self.on_reset is not None:
            self.on_reset()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        for future in self._settling.values():
            if not future.done():
                future.set_exception(ConnectionError("Redis pub/sub connection lost"))

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                reader = await self._connect()
                delay = 0.1
                await self._read(reader)
                raise ConnectionError("Redis closed the pub/sub connection")
            except (OSError, ConnectionError, EOFError) as exc:
                self._close()
                log.warning(
                    "Redis pub/sub lost (%s); retrying in %.1f s", type(exc).__name__, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _connect(self) -> asyncio.StreamReader:
        address = self.address
        if address.path is not None:  # a Redis on this machine, over its Unix socket
            opening = asyncio.open_unix_connection(address.path, limit=2**20)
        else:
            context = ssl.create_default_context() if address.tls else None
            opening = asyncio.open_connection(address.host, address.port, ssl=context, limit=2**20)
        reader, writer = await asyncio.wait_for(opening, self.connect_timeout)
        auth = address.auth()
        if auth is not None:
            writer.write(auth)
            reply = _parser()
            while (value := reply.gets()) is False:
                chunk = await asyncio.wait_for(reader.read(4096), self.connect_timeout)
                if not chunk:
                    raise ConnectionError("Redis closed the connection during AUTH")
                reply.feed(chunk)
            if isinstance(value, Exception):
                writer.close()
                raise ConnectionError(f"Redis refused AUTH: {value}")
        self._writer = writer
        names = sorted(self.channels)
        if self._marker_base is not None:
            # First, in the same command as the rest: while Redis counts a subscriber of the
            # marker, this connection and everything it subscribed to are still there.
            marker = f"{self._marker_base}:{next(self._generation)}"
            writer.write(_command("SUBSCRIBE", marker, *names))
            self._marker = marker
            self._sent([marker])
        elif names:
            writer.write(_command("SUBSCRIBE", *names))
        self._sent(names)
        self.connected.set()
        return reader

    async def _read(self, reader: asyncio.StreamReader) -> None:
        parser = _parser()
        while True:
            data = await reader.read(262144)
            if not data:
                return
            parser.feed(data)
            while (reply := parser.gets()) is not False:
                if type(reply) is list and len(reply) == 3 and reply[0] == b"message":
                    self.messages += 1
                    try:
                        self.on_message(reply[1], reply[2])  # may be swapped meanwhile
                    except Exception:  # one bad frame must not stop every room's delivery
                        log.exception("could not deliver a pub/sub message")
                elif (
                    type(reply) is list
                    and len(reply) == 3
                    and (reply[0] == b"subscribe" or reply[0] == b"unsubscribe")
                ):
                    self._confirmed(reply[1])
                elif type(reply) is list and reply and reply[0] == b"pong":
                    self._settled(reply[1])
                elif type(reply) is bytes:
                    # A connection subscribed to nothing (its last channel gone) is out of
                    # pub/sub mode, and Redis answers PING with the bare token.
                    self._settled(reply)
                elif isinstance(reply, Exception):
                    log.warning("Redis pub/sub error: %s", reply)


def _parser() -> Any:
    return _resp_parser(ConnectionError)
