"""The Redis wire protocol (RESP2) for the two hot paths that bypass redis-py.

- :class:`RespParser` and :func:`command`: reading and writing RESP, shared by the pub/sub
  reader (``_redis_pubsub``) and :class:`PipelinedRedis`. ``hiredis`` parses when it
  is installed (the ``[redis]`` extra installs it); the small parser here is the fallback.
- :class:`PipelinedRedis`: one connection per process that **pipelines automatically**. Every
  command issued during one turn of the event loop is written in one ``write`` call, and the
  replies, which Redis sends in order, resolve the callers' futures in order. A command whose
  caller acts on its reply at once (the session store's compare-and-set, with ``then``) is
  written in the call, with whatever was queued before it, and ``then`` runs as its reply is
  read: each saves a turn of a busy event loop (docs/performance.md, section 43). The session
  store sends its loads and compare-and-sets through it: measured on 2 cores, redis-py spent
  about 106 µs of CPU per command with 100 in flight, this client about 6 µs (the figures and
  the profile are in docs/performance.md, "Issue 14").
- :class:`LuaScripts`: the session store's, the timers' and the audience counter's Lua scripts,
  through :class:`PipelinedRedis` when there is one, else through redis-py.

Failure handling is redis-py's, simplified: a lost or timed-out connection fails every command
waiting on it with :class:`redis.exceptions.ConnectionError` (or ``TimeoutError``), the next
command opens a new connection, and a command that failed on a connection error is retried once
on a fresh one (as redis-py's default ``Retry`` does). A Lua script is sent by its SHA1 and
loaded on ``NOSCRIPT`` (a restarted Redis has forgotten it).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlparse

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["LuaScripts", "PipelinedRedis", "RedisAddress", "RespParser", "command", "parser"]

_HiredisReader: Any
_hiredis_pack: Any
try:  # the C parser and encoder, when installed (``pip install hiredis``)
    from hiredis import Reader as _HiredisReader
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # pragma: no cover - depends on the environment
    _HiredisReader = _hiredis_pack = None


class RespParser:
    """A RESP2 reply parser with hiredis's ``feed``/``gets`` interface: arrays, bulk and
    simple strings, integers and errors (returned as ``error(message)`` instances)."""

    def __init__(self, error: type[Exception] = ResponseError) -> None:
        self._buf = bytearray()
        self._pos = 0
        self._error = error

    def feed(self, data: bytes) -> None:
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    def gets(self) -> Any:
        """The next complete reply, or False when more bytes are needed."""
        try:
            value, pos = self._parse(self._pos)
        except IndexError:
            return False
        self._pos = pos
        return value

    def _parse(self, pos: int) -> tuple[Any, int]:
        buf = self._buf
        end = buf.find(b"\r\n", pos)
        if end < 0:
            raise IndexError  # an incomplete reply: wait for more bytes
        kind, line = buf[pos], bytes(buf[pos + 1 : end])
        pos = end + 2
        if kind == 0x24:  # $ bulk string
            n = int(line)
            if n < 0:
                return None, pos
            if len(buf) < pos + n + 2:
                raise IndexError
            return bytes(buf[pos : pos + n]), pos + n + 2
        if kind == 0x2A:  # * array
            n = int(line)
            items = []
            for _ in range(max(0, n)):
                item, pos = self._parse(pos)
                items.append(item)
            return (items if n >= 0 else None), pos
        if kind == 0x3A:  # : integer
            return int(line), pos
        if kind == 0x2B:  # + simple string
            return line, pos
        if kind == 0x2D:  # - error
            return self._error(line.decode(errors="replace")), pos
        raise RedisConnectionError(f"unexpected RESP type {chr(kind)!r}")


def parser(error: type[Exception] = ResponseError) -> Any:
    """hiredis's reader when installed, else :class:`RespParser`; error replies come back as
    ``error`` instances."""
    if _HiredisReader is not None:
        return _HiredisReader(replyError=error)
    return RespParser(error)


T = TypeVar("T")

# Called with a command's reply as soon as it is read (see ``_Connection.send``).
Then = Callable[[Any], None]
_log = logging.getLogger(__name__)

# Commands a caller keeps in flight at once on a client without auto-pipelining (redis-py's, on
# a TLS address): each takes a connection from its pool.
AT_ONCE = 16


async def at_once(call: Callable[[T], Awaitable[Any]], items: Sequence[T]) -> list[Any]:
    """``call(item)`` for every item, :data:`AT_ONCE` at a time, for a client without
    auto-pipelining: each result in its item's place, or the exception it raised (a
    cancellation is raised)."""
    found: list[Any] = []
    for i in range(0, len(items), AT_ONCE):
        chunk = items[i : i + AT_ONCE]
        for item in await asyncio.gather(*map(call, chunk), return_exceptions=True):
            if isinstance(item, BaseException) and not isinstance(item, Exception):
                raise item
            found.append(item)
    return found


def _part(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, float):
        return repr(value).encode()  # as redis-py encodes floats
    if isinstance(value, int):
        return b"%d" % value
    raise TypeError(f"cannot send {type(value).__name__} to Redis")


def command(*parts: Any) -> bytes:
    """One command in RESP (an array of bulk strings): bytes as they are, text in UTF-8,
    numbers as redis-py writes them (a float by its ``repr``). hiredis's encoder writes the
    same bytes in C where it is installed (about 2 µs for a compare-and-set, against 5 µs
    here); what it refuses (a ``bool``, say) is left to :func:`_encode`."""
    if _hiredis_pack is not None:
        try:
            return cast(bytes, _hiredis_pack(parts))
        except TypeError:
            pass
    return _encode(parts)


def _encode(parts: Sequence[Any]) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = _part(part)
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


@dataclass(frozen=True)
class RedisAddress:
    """Where a Redis is and how to sign in: from a URL, or from a redis-py client."""

    host: str = "127.0.0.1"
    port: int = 6379
    path: str | None = None  # a Unix socket instead of host and port
    username: str | None = None
    password: str | None = None
    tls: bool = False
    db: int = 0

    @classmethod
    def from_url(cls, url: str) -> RedisAddress:
        """A ``redis://``, ``rediss://`` or ``unix://`` URL (database from the path or ``?db=``)."""
        parsed = urlparse(url)
        if parsed.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"not a Redis URL: {parsed.scheme!r} (redis://, rediss://, unix://)")
        unix = parsed.scheme == "unix"
        db = "" if unix else parsed.path.lstrip("/")
        for item in parsed.query.split("&"):
            name, _, value = item.partition("=")
            if name == "db" and value:
                db = value
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 6379,
            path=parsed.path if unix else None,
            username=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            tls=parsed.scheme == "rediss",
            db=int(db) if db.isdigit() else 0,
        )

    @classmethod
    def of_client(cls, redis: Any) -> RedisAddress | None:
        """The address a redis-py client connects to, or None where this module cannot follow
        it (TLS options, a custom connection class): such a store keeps using redis-py."""
        pool = getattr(redis, "connection_pool", None)
        kwargs = getattr(pool, "connection_kwargs", None)
        if not isinstance(kwargs, dict) or pool is None:
            return None
        kind = pool.connection_class.__name__
        if kind not in ("Connection", "UnixDomainSocketConnection"):
            return None
        return cls(
            host=kwargs.get("host", "127.0.0.1"),
            port=int(kwargs.get("port", 6379)),
            path=kwargs.get("path") if kind == "UnixDomainSocketConnection" else None,
            username=kwargs.get("username"),
            password=kwargs.get("password"),
            db=int(kwargs.get("db", 0) or 0),
        )

    async def open(
        self, protocol: Any, timeout: float
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        loop = asyncio.get_running_loop()
        if self.path is not None:
            opening = loop.create_unix_connection(protocol, self.path)
        else:
            context = ssl.create_default_context() if self.tls else None
            opening = loop.create_connection(protocol, self.host, self.port, ssl=context)
        return await asyncio.wait_for(opening, timeout)

    def auth(self) -> bytes | None:
        """The AUTH command a new connection sends first, if a password is set."""
        if self.password is None:
            return None
        return command("AUTH", *((self.username,) if self.username else ()), self.password)

    def hello(self) -> list[bytes]:
        """The commands a new connection sends first (AUTH, SELECT), if any."""
        auth = self.auth()
        return ([auth] if auth else []) + ([command("SELECT", self.db)] if self.db else [])


class _Connection(asyncio.Protocol):
    """One connection: writes coalesced per loop turn, replies matched to waiters in order."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.reader = parser()
        # Each command's future, deadline, and what to call with a reply as it is read.
        self.waiters: deque[tuple[asyncio.Future[Any], float, Then | None]] = deque()
        self.pending: list[bytes] = []
        self.transport: Any = None  # an asyncio.Transport (uvloop's is not a subclass)
        self.lost: BaseException | None = None
        self.writes = 0  # socket writes: one per loop turn that issued commands
        self._watch: asyncio.TimerHandle | None = None

    # -- protocol callbacks ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        waiters = self.waiters
        while (reply := reader.gets()) is not False:
            if not waiters:  # a reply nobody asked for: the stream is out of step
                self.close(RedisConnectionError("unexpected reply from Redis"))
                return
            future, _, then = waiters.popleft()
            if then is not None and not isinstance(reply, Exception):
                try:
                    then(reply)
                except Exception:  # the caller's bug: never the connection's
                    _log.exception("a Redis reply's callback failed")
            if not future.done():  # a caller that gave up (cancelled) is skipped
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(RedisConnectionError(f"Redis connection lost: {exc or 'closed by server'}"))

    # -- use ---------------------------------------------------------------------------------
    def send(self, data: bytes, timeout: float, then: Then | None = None) -> asyncio.Future[Any]:
        """Queue one encoded command; its future gets the reply.

        A command with ``then`` is written at once, with whatever was queued before it, and
        ``then`` is called with its reply (unless that is an error) as soon as it is read, in
        the same turn of the event loop: the caller's waiter only resumes a turn later, behind
        every callback that turn queued (:meth:`PipelinedRedis.evalsha`). Every other command
        waits for the turn's one write (:meth:`_flush`)."""
        if self.lost is not None:
            raise RedisConnectionError("Redis connection lost")
        future = self.loop.create_future()
        if not self.pending and then is None:
            self.loop.call_soon(self._flush)
        self.pending.append(data)
        self.waiters.append((future, time.monotonic() + timeout, then))
        if self._watch is None:
            self._watch = self.loop.call_later(min(timeout, 1.0), self._check, timeout)
        if then is not None:
            self._flush()
        return future

    def _flush(self) -> None:
        pending, self.pending = self.pending, []
        if not pending:  # written already, with a command that went at once
            return
        transport = self.transport
        if transport is None or transport.is_closing():
            self.close(RedisConnectionError("Redis connection closed"))
        else:
            transport.write(b"".join(pending))
            self.writes += 1

    def _check(self, timeout: float) -> None:
        """A connection whose oldest command has waited past its deadline is dead: close it
        (replies are matched in order, so no later reply could be trusted either)."""
        self._watch = None
        if not self.waiters or self.lost is not None:
            return
        if self.waiters[0][1] < time.monotonic():
            self.close(RedisTimeoutError("Redis did not answer in time"))
            return
        self._watch = self.loop.call_later(min(timeout, 1.0), self._check, timeout)

    def close(self, exc: BaseException | None = None) -> None:
        self._fail(exc or RedisConnectionError("Redis connection closed"))
        if self.transport is not None:
            self.transport.close()

    def _fail(self, exc: BaseException) -> None:
        if self.lost is None:
            self.lost = exc
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        while self.waiters:
            future = self.waiters.popleft()[0]
            if not future.done():
                future.set_exception(exc)


class PipelinedRedis:
    """An auto-pipelining Redis client on one connection (see the module docstring)."""

    def __init__(
        self, address: RedisAddress, *, connect_timeout: float = 2.0, timeout: float = 5.0
    ) -> None:
        self.address = address
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self._conn: _Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Future[_Connection] | None = None
        self._shas: dict[str, bytes] = {}
        self.reconnects = 0

    @classmethod
    def of_client(cls, redis: Any) -> PipelinedRedis | None:
        address = RedisAddress.of_client(redis)
        return None if address is None else cls(address)

    async def _connection(self) -> _Connection:
        loop = asyncio.get_running_loop()
        conn = self._conn
        if conn is not None and conn.lost is None and self._loop is loop:
            return conn
        if self._connecting is not None and self._loop is loop and not self._connecting.done():
            return await asyncio.shield(self._connecting)
        self._loop = loop
        self._connecting = loop.create_future()
        connecting = self._connecting
        protocol: _Connection | None = None
        try:
            _, opened = await self.address.open(_Connection, self.connect_timeout)
            assert isinstance(opened, _Connection)
            protocol = opened
            for hello in self.address.hello():
                reply = await asyncio.wait_for(
                    protocol.send(hello, self.timeout), self.connect_timeout
                )
                if isinstance(reply, Exception):
                    raise RedisConnectionError(f"Redis refused the connection: {reply}")
        except BaseException as exc:
            if protocol is not None:
                protocol.close()
            error = exc
            if isinstance(exc, OSError | TimeoutError):
                error = RedisConnectionError(
                    f"cannot connect to Redis: {type(exc).__name__}: {exc}"
                )
            # Whoever else waits for this attempt gets a connection error (never the
            # cancellation of the caller that started it).
            others = error if isinstance(error, Exception) else RedisConnectionError("cancelled")
            connecting.set_exception(others)
            connecting.exception()  # retrieved: no "never retrieved" warning
            if error is exc:
                raise
            raise error from exc
        if conn is not None:
            self.reconnects += 1
        self._conn = protocol
        connecting.set_result(protocol)
        return protocol

    async def execute(self, *parts: Any) -> Any:
        """Send one command and return its reply; an error reply is raised."""
        return await self._one(command(*parts))

    async def execute_many(self, *commands: Sequence[Any]) -> list[Any]:
        """Send several commands at once (one write) and return their replies in order; the
        first error reply is raised. Not a transaction: like ``pipeline(transaction=False)``."""
        return await self._send([command(*parts) for parts in commands])

    async def _send(
        self, data: list[bytes], *, raise_errors: bool = True, then: Then | None = None
    ) -> list[Any]:
        """Encoded commands out, replies back; once more on a fresh connection if the first
        one was lost or timed out (as redis-py's default retry). An error reply is raised,
        or with ``raise_errors=False`` left in its place. ``then``: called with each reply
        that is not an error, as it is read (:meth:`_Connection.send`)."""
        for attempt in (0, 1):
            try:
                conn = await self._connection()
                futures = [conn.send(item, self.timeout, then) for item in data]
                replies = [await future for future in futures]
            except (RedisConnectionError, RedisTimeoutError):
                if attempt:
                    raise
                continue
            if raise_errors:
                for reply in replies:
                    if isinstance(reply, ResponseError):
                        raise reply
            return replies
        raise AssertionError("unreachable")  # pragma: no cover

    async def _one(self, data: bytes, then: Then | None = None) -> Any:
        """:meth:`_send` for one encoded command, without its lists: the session store's loads
        and compare-and-sets come this way, a thousand or more a second."""
        for attempt in (0, 1):
            try:
                conn = await self._connection()
                reply = await conn.send(data, self.timeout, then)
            except (RedisConnectionError, RedisTimeoutError):
                if attempt:
                    raise
                continue
            if isinstance(reply, ResponseError):
                raise reply
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    def _sha(self, script: str) -> bytes:
        sha = self._shas.get(script)
        if sha is None:
            sha = self._shas[script] = hashlib.sha1(script.encode()).hexdigest().encode()
        return sha

    async def evalsha(
        self, script: str, keys: Sequence[Any], args: Sequence[Any], then: Then | None = None
    ) -> Any:
        """Run a Lua script by its SHA1, loading it first if Redis does not know it.

        ``then``: called with the script's reply the moment it is read off the connection
        (unless it is an error), before this coroutine's caller resumes, which is one more
        turn of the event loop behind every callback that turn queued. A caller that acts
        on the reply at once (the session service delivering a commit to its sockets) acts
        there; it is called at most once, and also if the caller was cancelled meanwhile."""
        run = command(b"EVALSHA", self._sha(script), len(keys), *keys, *args)
        try:
            return await self._one(run, then)
        except ResponseError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        await self.execute(b"SCRIPT", b"LOAD", script)
        return await self._one(run, then)

    async def evalsha_many(
        self, script: str, calls: Sequence[tuple[Sequence[Any], Sequence[Any]]]
    ) -> list[Any]:
        """Run a Lua script once per ``(keys, args)``, all in one write, with no task per call:
        the replies in order, an error reply as its :class:`ResponseError` in its place (not
        raised). Calls Redis answered ``NOSCRIPT`` run again once the script is loaded."""
        sha = self._sha(script)

        def encoded(indexes: Sequence[int]) -> list[bytes]:
            return [
                command(b"EVALSHA", sha, len(calls[i][0]), *calls[i][0], *calls[i][1])
                for i in indexes
            ]

        replies = await self._send(encoded(range(len(calls))), raise_errors=False)
        missing = [
            i
            for i, reply in enumerate(replies)
            if isinstance(reply, ResponseError) and str(reply).startswith("NOSCRIPT")
        ]
        if missing:
            await self.execute(b"SCRIPT", b"LOAD", script)
            again = await self._send(encoded(missing), raise_errors=False)
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        return replies

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(RuntimeError):  # its loop may be closed already
                conn.close()


class LuaScripts:
    """Lua scripts by their source, for the stores that keep redis-py for everything else: by
    ``EVALSHA`` on ``fast`` (a :class:`PipelinedRedis`) when there is one, else as redis-py's
    registered scripts (a TLS address, which ``fast`` cannot follow). The reply is Redis's
    either way, with no conversion."""

    def __init__(self, redis: Any, fast: PipelinedRedis | None) -> None:
        self.redis = redis
        self.fast = fast
        self._registered: dict[str, Any] = {}

    def run(
        self, source: str, keys: Sequence[Any], args: Sequence[Any], then: Then | None = None
    ) -> Awaitable[Any]:
        """The script's reply, to await (the client's own coroutine: no extra frame on the
        compare-and-set path). ``then`` is called with a reply that is not an error as it is
        read on ``fast`` (see :meth:`PipelinedRedis.evalsha`); redis-py's path leaves it to
        the caller."""
        if self.fast is not None:
            return self.fast.evalsha(source, keys, args, then)
        script = self._registered.get(source)
        if script is None:
            script = self._registered[source] = self.redis.register_script(source)
        return cast("Awaitable[Any]", script(keys=list(keys), args=list(args)))
