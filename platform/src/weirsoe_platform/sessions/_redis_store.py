"""The Redis session store: msgpack records under a key prefix, CAS in Lua, TTL on every key.

Key layout (``P`` is the prefix, ``CODE`` the room code):

- ``P:session:CODE``   hash ``{v: version, d: record, b: stamp}``, TTL per the lifecycle rules;
  the stamp is set once, when the room is created (see ``SessionStore.load_unless``);
- ``P:deadline:CODE``  the room's running deadline (see ``timers``), same TTL;
- ``P:deadlines``      sorted set of rooms by deadline time, for the timer pump;
- ``P:TIMERS:WAKE``    pub/sub channel: a deadline that became the soonest (its due time).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Literal, ParamSpec, TypeVar

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from .._resp import LuaScripts, PipelinedRedis
from ._errors import StoreUnavailable
from ._frames import encode_frame
from ._store import DeadlineChange, SessionStore

__all__ = [
    "RedisSessionStore",
    "connect_redis",
    "deadline_payload",
    "owner_key",
    "set_deadline_lua",
    "wake_channel",
    "wire_channel",
]

P = ParamSpec("P")
T = TypeVar("T")

_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2], 'b', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# The record only if it is not still version ARGV[1] of the room created with stamp ARGV[2]
# (1 if it is; nil if there is no such room). A room created without a stamp never matches.
_LOAD_UNLESS = """
local kept = redis.call('HMGET', KEYS[1], 'v', 'b')
if not kept[1] then return false end
if kept[1] == ARGV[1] and kept[2] == ARGV[2] and ARGV[2] ~= '' then return 1 end
return redis.call('HMGET', KEYS[1], 'v', 'd')
"""

# The 1-based positions of the keys that do not exist (the room watch: nearly always none).
_MISSING = """
local missing = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 0 then missing[#missing + 1] = i end
end
return missing
"""
EXISTING_CHUNK = 1000  # keys per script: Redis runs one in about 0.5 ms at 1,000


def set_deadline_lua(
    *, zset: str, key: str, payload: str, at: str, code: str, ttl: str, wake: str, owner: str
) -> str:
    """The Lua that sets a room's running deadline (its key and its member of the sorted set),
    given the script's expressions for each value. A deadline that is now the soonest is
    published on the wake channel, in the same atomic step, for the timer pumps (see
    ``timers._redis``, ``RESCAN``): a pump sleeps until the soonest it knew of, so a later
    deadline needs no wake. ``owner``: the id of the timer pump of the process that sets it
    (``''`` for none), kept in ``KEY:owner``; other pumps leave it to that one for
    ``timers._redis.AFFINITY`` after it is due (see there)."""
    return f"""
redis.call('SET', {key}, {payload}, 'PX', {ttl})
if {owner} ~= '' then
  redis.call('SET', {key} .. ':owner', {owner}, 'PX', {ttl})
else
  redis.call('DEL', {key} .. ':owner')
end
local head = redis.call('ZRANGE', {zset}, 0, 0, 'WITHSCORES')
redis.call('ZADD', {zset}, {at}, {code})
redis.call('PEXPIRE', {zset}, {ttl})
if not head[2] or tonumber({at}) < tonumber(head[2]) then
  redis.call('PUBLISH', {wake}, {at})
end
"""


_CAS = (
    """
local current = redis.call('HGET', KEYS[1], 'v')
if not current or tonumber(current) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
-- The running deadline changes in the same atomic step, so no crash can lose it.
if ARGV[5] == 'set' then
"""
    + set_deadline_lua(
        zset="KEYS[3]",
        key="KEYS[2]",
        payload="ARGV[6]",
        at="ARGV[7]",
        code="ARGV[8]",
        ttl="ARGV[4]",
        wake="ARGV[9]",
        owner="ARGV[10]",
    )
    + """
elseif ARGV[5] == 'clear' then
  redis.call('DEL', KEYS[2], KEYS[2] .. ':owner')
  redis.call('ZREM', KEYS[3], ARGV[8])
elseif redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[2] .. ':owner', ARGV[4])
end
-- Publish in the same atomic step: versions reach every subscriber in commit order. One
-- wire frame per transition, on the room's wire channel (see transport._hub). ARGV[13], if
-- not empty, is the committing process's marker channel (transport._hub, "Quiet commits"):
-- while it has a subscriber, that process is one of the wire channel's and delivers the
-- frame itself, so it is published only if someone else listens (2: not published).
if ARGV[11] then
  local others = redis.call('PUBSUB', 'NUMSUB', ARGV[11])[2]
  if ARGV[13] ~= '' and redis.call('PUBSUB', 'NUMSUB', ARGV[13])[2] > 0 then
    others = others - 1
  end
  if others <= 0 then return 2 end
  redis.call('PUBLISH', ARGV[11], ARGV[12])
end
return 1
"""
)


def wire_channel(prefix: str, code: str) -> str:
    """The pub/sub channel that carries every message of room ``code`` (one frame per commit)."""
    return f"{prefix}:WIRE:{code}".upper()


def wake_channel(prefix: str) -> str:
    """The pub/sub channel on which a compare-and-set that makes its deadline the soonest
    announces it (payload: the due time), so that timer pumps need not poll (``timers``)."""
    return f"{prefix}:TIMERS:WAKE".upper()


def owner_key(deadline_key: str) -> str:
    """Where the owner of the deadline at ``deadline_key`` is kept (``set_deadline_lua``)."""
    return f"{deadline_key}:owner"


def deadline_payload(key: str, serial: int, at: float) -> str:
    """How a running deadline is stored in ``P:deadline:CODE``."""
    return f"{serial}|{at!r}|{key}"


def _stored(version: Any, data: Any) -> tuple[int, bytes]:
    """``(version, record)`` as a load returns them, from Redis's reply."""
    return int(version), data if isinstance(data, bytes) else data.encode()


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

    def __init__(
        self, redis: aioredis.Redis, *, prefix: str = "weirsoe", pipelined: bool = True
    ) -> None:
        """``pipelined``: send loads and compare-and-sets through one auto-pipelining
        connection (``weirsoe_platform._resp``) instead of redis-py, where the client's address
        allows it (plain TCP or a Unix socket; TLS stays on redis-py)."""
        self.redis = redis
        self.prefix = prefix
        self.wake = wake_channel(prefix)
        self.fast = PipelinedRedis.of_client(redis) if pipelined else None
        self._script = LuaScripts(redis, self.fast).run
        # The id of this process's timer pump (`serve --with-worker`), stored with each
        # deadline this store sets, so that pump fires it (``timers._redis.AFFINITY``); ''
        # for a process without one, whose deadlines any pump fires as soon as they are due.
        self.owner = ""
        self.unpublished = 0  # commits with messages that no process listened to

    def key(self, code: str) -> str:
        return f"{self.prefix}:session:{code}"

    def deadline_key(self, code: str) -> str:
        return f"{self.prefix}:deadline:{code}"

    @_unavailable
    async def create(
        self, code: str, data: bytes, version: int, ttl: float, *, stamp: str = ""
    ) -> bool:
        keys, args = [self.key(code)], [version, data, int(ttl * 1000), stamp]
        return bool(await self._script(_CREATE, keys, args))

    @_unavailable
    async def load(self, code: str) -> tuple[int, bytes] | None:
        if self.fast is not None:
            version, data = await self.fast.execute(b"HMGET", self.key(code), b"v", b"d")
        else:
            version, data = await self.redis.hmget(self.key(code), ["v", "d"])
        if version is None or data is None:
            return None
        return _stored(version, data)

    @_unavailable
    async def load_unless(
        self, code: str, version: int, stamp: str
    ) -> tuple[int, bytes] | Literal[True] | None:
        found = await self._script(_LOAD_UNLESS, [self.key(code)], [version, stamp])
        if found is None:
            return None
        if not isinstance(found, list):
            return True
        return _stored(*found)

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
        *,
        committed: Callable[[], None] | None = None,
        quiet: str | None = None,
    ) -> bool:
        """``quiet``: the committing process's marker channel (``Hub.quiet``): then the frame
        is published only if a process other than the marker's listens to the room. Without
        one, it is published if anyone does; with no listener at all, never (nobody would
        read it). ``unpublished`` counts the commits that published nothing."""
        keys = [self.key(code), self.deadline_key(code), f"{self.prefix}:deadlines"]
        args: list[Any] = [expected, version, data, int(ttl * 1000)]
        if deadline is None:
            args += ["keep", "", 0, code, "", ""]
        elif deadline == "clear":
            args += ["clear", "", 0, code, "", ""]
        else:
            key, serial, at = deadline
            args += ["set", deadline_payload(key, serial, at), at, code, self.wake, self.owner]
        if messages:
            args += [wire_channel(self.prefix, code), encode_frame(messages), quiet or ""]
        if committed is None:
            return self._won(await self._script(_CAS, keys, args))

        def then(reply: Any) -> None:  # on the pipelined connection, as the reply is read
            if reply:
                committed()

        won = self._won(await self._script(_CAS, keys, args, then))
        if won and self.fast is None:  # redis-py's path reads its reply in this task
            committed()
        return won

    def _won(self, reply: Any) -> bool:
        if reply == 2:
            self.unpublished += 1
        return bool(reply)

    @_unavailable
    async def delete(self, code: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            deadline = self.deadline_key(code)
            pipe.delete(self.key(code), deadline, owner_key(deadline))
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
        """One script per :data:`EXISTING_CHUNK` codes, answering only the missing ones: the
        room watch asks for every room of the process every 2 s, and a redis-py pipeline of
        1,000 ``EXISTS`` cost 11-14 ms of the event loop's CPU in one piece against 1.3-2 ms
        (docs/performance.md, section 47)."""
        present = set(codes)
        for start in range(0, len(codes), EXISTING_CHUNK):
            chunk = codes[start : start + EXISTING_CHUNK]
            missing = await self._script(_MISSING, [self.key(code) for code in chunk], [])
            present.difference_update(chunk[int(i) - 1] for i in missing)
        return present

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        if self.fast is not None:
            await self.fast.aclose()
        await self.redis.aclose()
