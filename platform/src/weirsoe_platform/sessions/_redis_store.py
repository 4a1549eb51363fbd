"""The Redis session store: msgpack records under a key prefix, CAS in Lua, TTL on every key.

Key layout (``P`` is the prefix, ``CODE`` the room code):

- ``P:session:CODE``   hash ``{v: version, d: record}``, TTL per the lifecycle rules;
- ``P:deadline:CODE``  the room's running deadline (see ``timers``), same TTL;
- ``P:deadlines``      sorted set of rooms by deadline time, for the timer pump.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from redis import asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError

from ._errors import StoreUnavailable
from ._frames import encode_frame
from ._store import DeadlineChange, SessionStore

__all__ = ["RedisSessionStore", "connect_redis", "deadline_payload", "wire_channel"]

P = ParamSpec("P")
T = TypeVar("T")

_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

_CAS = """
local current = redis.call('HGET', KEYS[1], 'v')
if not current or tonumber(current) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
-- The running deadline changes in the same atomic step, so no crash can lose it.
if ARGV[5] == 'set' then
  redis.call('SET', KEYS[2], ARGV[6], 'PX', ARGV[4])
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[8])
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
elseif ARGV[5] == 'clear' then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[3], ARGV[8])
elseif redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
-- Publish in the same atomic step: versions reach every subscriber in commit order. One
-- wire frame per transition, on the room's wire channel (see transport._hub).
if ARGV[9] then redis.call('PUBLISH', ARGV[9], ARGV[10]) end
return 1
"""


def wire_channel(prefix: str, code: str) -> str:
    """The pub/sub channel that carries every message of room ``code`` (one frame per commit)."""
    return f"{prefix}:WIRE:{code}".upper()


def deadline_payload(key: str, serial: int, at: float) -> str:
    """How a running deadline is stored in ``P:deadline:CODE``."""
    return f"{serial}|{at!r}|{key}"


def connect_redis(url: str, *, max_connections: int = 1024) -> aioredis.Redis:
    """A client whose pool waits for a free connection instead of failing at redis-py's
    default limit, and which notices dead connections quickly."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=5,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=5,
        retry_on_timeout=True,
    )
    return aioredis.Redis(connection_pool=pool)


class Coalescer:
    """Sends the commands that callers issue in one turn of the event loop as one pipeline.

    redis-py spends about 130 µs of CPU on each command sent alone (a pooled connection, a
    write, a read wake-up) and about 20 µs on each command of a pipeline; a burst of timer
    firings, or of players' actions, issues many compare-and-sets at once. Each command stays
    what it was (an ``EVALSHA`` is atomic on its own); only their transport is shared, and every
    caller gets its own reply or its own error. A turn with one command sends it alone.
    """

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._queue: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()
        self.pipelines = 0  # pipelines of more than one command sent, for tests and benches

    def call(self, *args: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((args, future))
        if len(self._queue) == 1:
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        batch, self._queue = self._queue, []
        task = asyncio.ensure_future(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        try:
            if len(batch) == 1:
                command = self.redis.execute_command(*batch[0][0])  # type: ignore[no-untyped-call]
                replies: list[Any] = [await command]
            else:
                self.pipelines += 1
                async with self.redis.pipeline(transaction=False) as pipe:
                    for args, _ in batch:
                        pipe.execute_command(*args)
                    replies = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # every caller gets the error (cancelled: as an error)
            error = exc if isinstance(exc, Exception) else ConnectionError("cancelled")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), reply in zip(batch, replies, strict=True):
            if future.done():  # its caller was cancelled
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)


def _unavailable(
    func: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await func(*args, **kwargs)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"Redis unavailable: {type(exc).__name__}") from exc

    return wrapper


class RedisSessionStore(SessionStore):
    publishes = True
    schedules = True
    round_trips = True

    def __init__(self, redis: aioredis.Redis, *, prefix: str = "weirsoe") -> None:
        self.redis = redis
        self.prefix = prefix
        self._create: Any = redis.register_script(_CREATE)
        self._cas: Any = redis.register_script(_CAS)
        self.coalescer = Coalescer(redis)

    def key(self, code: str) -> str:
        return f"{self.prefix}:session:{code}"

    def deadline_key(self, code: str) -> str:
        return f"{self.prefix}:deadline:{code}"

    @_unavailable
    async def create(self, code: str, data: bytes, version: int, ttl: float) -> bool:
        return bool(
            await self._create(keys=[self.key(code)], args=[version, data, int(ttl * 1000)])
        )

    @_unavailable
    async def load(self, code: str) -> tuple[int, bytes] | None:
        version, data = await self.coalescer.call("HMGET", self.key(code), "v", "d")
        if version is None or data is None:
            return None
        return int(version), data if isinstance(data, bytes) else data.encode()

    @_unavailable
    async def compare_and_set(
        self,
        code: str,
        expected: int,
        version: int,
        data: bytes,
        ttl: float,
        messages: list[tuple[bytes, list[str]]] | None = None,
        deadline: DeadlineChange = None,
    ) -> bool:
        keys = [self.key(code), self.deadline_key(code), f"{self.prefix}:deadlines"]
        args: list[Any] = [expected, version, data, int(ttl * 1000)]
        if deadline is None:
            args += ["keep", "", 0, code]
        elif deadline == "clear":
            args += ["clear", "", 0, code]
        else:
            key, serial, at = deadline
            args += ["set", deadline_payload(key, serial, at), at, code]
        if messages:
            args += [wire_channel(self.prefix, code), encode_frame(messages)]
        try:
            done = await self.coalescer.call("EVALSHA", self._cas.sha, len(keys), *keys, *args)
        except NoScriptError:  # Redis lost its script cache (a restart): load it, once
            done = await self._cas(keys=keys, args=args)
        return bool(done)

    @_unavailable
    async def delete(self, code: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key(code), self.deadline_key(code))
            pipe.zrem(f"{self.prefix}:deadlines", code)
            await pipe.execute()

    @_unavailable
    async def count(self) -> int:
        total = 0
        async for _ in self.redis.scan_iter(match=f"{self.prefix}:session:*", count=1000):
            total += 1
        return total

    @_unavailable
    async def existing(self, codes: list[str]) -> set[str]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for code in codes:
                pipe.exists(self.key(code))
            found = await pipe.execute()
        return {code for code, n in zip(codes, found, strict=True) if n}

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self.redis.aclose()
