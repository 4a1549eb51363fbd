"""Durable deadlines in Redis, fired by taskiq workers.

Why not taskiq's scheduler? Measured, it is too coarse (0.44 s median and 1 s maximum lateness
even re-reading sources every second; 31-52 s with defaults) and must run as a single instance.
taskiq's Redis brokers also ignore a ``delay`` label. So:

- every room's running deadline is ``P:deadline:CODE`` (``key|serial|at``) plus a member of
  the sorted set ``P:deadlines`` scored by its time;
- each worker runs a small **pump** that atomically claims due deadlines, up to ``CLAIM`` at a
  time (a Lua script pushes a claimed entry ``LEASE`` seconds into the future instead of
  removing it), in chunks of at most ``CHUNK``. The pump fires a chunk itself while fewer than
  ``TASKS`` of its own are firing, and kicks a ``weirsoe.fire_deadlines`` task on a
  ``RedisStreamBroker`` (a broker with acks) for each chunk beyond that, so a big burst still
  spreads over every worker. The lease is what makes a claimed deadline durable, either way: a
  stream message per chunk (its ``XADD``, ``XREADGROUP``, ``XACK`` and taskiq's parsing, about
  3 ms of CPU when a chunk is one deadline) bought nothing a pump that fires its own claims
  does not have. A stream message per deadline was what made a burst of 1,000 deadlines 1.7 s
  late;
- the task fires its deadlines concurrently, each through ``SessionService.fire``, which applies
  the deadline through compare-and-set (the Redis store sends a chunk's loads and
  compare-and-sets as one pipeline), and then removes, in one script call, every entry that is
  still the same (stale or duplicate) deadline.

Any number of workers can run; there is no singleton. If a worker dies after claiming, or while
firing what it claimed, the lease runs out and another pump claims the deadlines again; if it
dies while running a task from the stream, the stream also redelivers it after
``idle_timeout``. A deadline whose firing failed (Redis gone, a busy
room) stays leased and is claimed again when the lease runs out. Late or duplicate firings are
no-ops because the service checks the deadline's key and serial under compare-and-set.

Rolling upgrades: the one-deadline task ``weirsoe.fire_deadline`` of earlier versions stays
registered, so a worker of this version still runs such a message left in the stream. A worker
of an earlier version acknowledges a ``weirsoe.fire_deadlines`` message it does not know and
drops it; its deadlines stay leased and are fired when the lease runs out (``LEASE`` late).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError, ResponseError
from taskiq import AsyncBroker
from taskiq.acks import AckableMessage, AcknowledgeType
from taskiq.api import run_receiver_task
from taskiq_redis import RedisStreamBroker

from .._redis_pubsub import RedisPubSub
from .._resp import LuaScripts, PipelinedRedis
from ..sessions._redis_store import deadline_payload, owner_key, set_deadline_lua, wake_channel
from ._supervise import Backoff, supervise

__all__ = [
    "AFFINITY",
    "CHUNK",
    "CLAIM",
    "LEASE",
    "POLL",
    "RESCAN",
    "Due",
    "RedisDeadlines",
    "TimerWorker",
    "live_workers",
    "make_broker",
]

log = logging.getLogger("weirsoe.timers")
LEASE = 2.0
# The longest the pump sleeps between claims while it cannot hear wakes (no wake subscription,
# or it is lost): a deadline that another process sets less than POLL ahead can be up to POLL
# late; one this process sets wakes its pump (``sooner``).
POLL = 0.05
# The longest it sleeps while its wake subscription is in force. A compare-and-set that makes
# its deadline the soonest publishes it on the wake channel, which wakes every pump that would
# sleep past it, so this is only a safety net (a process of an earlier version, which does not
# publish). Polling at POLL was most of what an idle Redis process cost (about 20 claims a
# second; docs/performance.md, section 40).
RESCAN = 1.0
# The pump wakes this long after the soonest deadline is due, so that deadlines due within it
# share one claim (a Redis round trip) instead of one each: at 200 a second, a claim per
# deadline was a fifth of what a phase timer's firing cost the process (docs/performance.md,
# section 38). They fire at most this much later than they would.
GATHER = 0.01
# How long after a deadline is due other pumps leave it to the pump of the process that set
# it (its ``owner``: a `serve --with-worker`, which serves the room's sockets and holds its
# table). That pump fires it at once; another fires it only if the owner has not claimed it
# by then (it died, or its loop is that far behind). A deadline without an owner (set by a
# process without a pump: the usual `serve` plus `weirsoe worker`) is for any pump at once.
AFFINITY = 0.25
AHEAD = 16  # deadlines not yet due the claim looks at, for when this pump may claim next
CLAIM = 200  # deadlines claimed at most per script call
CHUNK = 50  # deadlines per task message at most
TASKS = 8  # task messages a worker reads and runs at a time (so up to TASKS * CHUNK firings)
HEARTBEAT_TTL = 5
# Redis's clock in seconds, as ``now``: the live set is timed by it (the processes' clocks may
# differ). A heartbeat in the live set: KEYS the set; ARGV the worker's id, the TTL in
# seconds. Lapsed members go, and the set itself lapses with its last worker.
_REDIS_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""
_BEAT = (
    _REDIS_NOW
    + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""
)
_LIVE = _REDIS_NOW + "return redis.call('ZCOUNT', KEYS[1], string.format('(%.6f', now), '+inf')"
_NEVER = math.inf
_SAME = 0.001  # wake-up times closer than this are the same (the clock's float arithmetic)
STREAM_TTL = 24 * 3600

# KEYS: the sorted set, the deadline's key; ARGV: payload, due time, code, TTL (ms), wake
# channel, owner.
_SCHEDULE = (
    set_deadline_lua(
        zset="KEYS[1]",
        key="KEYS[2]",
        payload="ARGV[1]",
        at="ARGV[2]",
        code="ARGV[3]",
        ttl="ARGV[4]",
        wake="ARGV[5]",
        owner="ARGV[6]",
    )
    + "return 1\n"
)

# KEYS: the sorted set; ARGV: now, the most to claim, lease (s), the deadline keys' prefix, this
# pump's id, AFFINITY (s), AHEAD. Returns code, payload, ... and then when this pump may next
# claim something ('' if nothing is pending).
_CLAIM = """
local now, limit, grace = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[6])
local function whose(code)
  if grace <= 0 then return false end
  local owner = redis.call('GET', ARGV[4] .. code .. ':owner')
  return owner and owner ~= ARGV[5]
end
-- Scan past what this pump leaves to other owners, up to four times what it may claim.
local scan = 4 * limit
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, scan)
local out, taken, next = {}, 0, nil
for i = 1, #due, 2 do
  local code, at = due[i], tonumber(due[i + 1])
  if taken < limit then
    local payload = redis.call('GET', ARGV[4] .. code)
    if not payload then
      redis.call('ZREM', KEYS[1], code)
    elseif at + grace > now and whose(code) then
      if not next or at + grace < next then next = at + grace end
    else
      redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), code)
      table.insert(out, code)
      table.insert(out, payload)
      taken = taken + 1
    end
  end
end
if taken == limit or #due == 2 * scan then next = now end  -- more may be due: claim again
-- When this pump may next claim something, so that it sleeps no longer than it must: the
-- deadlines not yet due, each at its time, or AFFINITY later where another pump owns it.
local ahead = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES',
  'LIMIT', 0, tonumber(ARGV[7]))
for i = 1, #ahead, 2 do
  local at = tonumber(ahead[i + 1])
  if next and at >= next then break end
  if i == #ahead - 1 and #ahead == 2 * tonumber(ARGV[7]) then
    next = at  -- beyond the last one looked at may be this pump's own
  elseif whose(ahead[i]) then
    if not next or at + grace < next then next = at + grace end
  else
    next = at
  end
end
table.insert(out, next and string.format('%.17g', next) or '')
return out
"""

# KEYS: the sorted set, then each deadline's key; ARGV: each deadline's payload and room code.
_COMPLETE_MANY = """
local done = 0
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[2 * i - 3] then
    redis.call('DEL', KEYS[i], KEYS[i] .. ':owner')
    redis.call('ZREM', KEYS[1], ARGV[2 * i - 2])
    done = done + 1
  end
end
return done
"""

Due = tuple[str, str, int, float]  # room code, deadline key, serial, due time


def _parse(payload: bytes | str) -> tuple[str, int, float]:
    text = payload.decode() if isinstance(payload, bytes) else payload
    serial, at, key = text.split("|", 2)
    return key, int(serial), float(at)


class RedisDeadlines:
    """Schedules and cancels deadlines (used by servers and workers alike)."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        prefix: str,
        ttl: float,
        fast: PipelinedRedis | None = None,
    ) -> None:
        """``fast``: the session store's auto-pipelining connection, for the claims the
        pump sends about a hundred times a second and the completions (redis-py costs some
        100 µs of CPU per command; see ``weirsoe_platform._resp``)."""
        self.redis = redis
        self.fast = fast
        self.prefix = prefix
        self.ttl_ms = int(ttl * 1000)
        self.zset = f"{prefix}:deadlines"
        self.wake_channel = wake_channel(prefix)
        # This process's pump, told when this process sets a deadline (see ``sooner``).
        self.wake: Callable[[float], None] | None = None
        # That pump's id, stored with each deadline ``schedule`` sets (see ``AFFINITY``).
        self.owner = ""
        self._script = LuaScripts(redis, fast).run

    def key(self, code: str) -> str:
        return f"{self.prefix}:deadline:{code}"

    async def schedule(self, code: str, key: str, serial: int, at: float) -> None:
        """Set ``code``'s deadline (for stores that do not write it in their compare-and-set);
        like theirs, a deadline that is now the soonest is published on the wake channel."""
        keys = [self.zset, self.key(code)]
        args = [
            deadline_payload(key, serial, at),
            at,
            code,
            self.ttl_ms,
            self.wake_channel,
            self.owner,
        ]
        await self._script(_SCHEDULE, keys, args)

    def sooner(self, at: float) -> None:
        """This process set a deadline due at ``at`` (the session store's compare-and-set
        writes it): wake this process's pump if it would sleep past it."""
        if self.wake is not None:
            self.wake(at)

    async def cancel(self, code: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key(code), owner_key(self.key(code)))
            pipe.zrem(self.zset, code)
            await pipe.execute()

    async def claim(self, now: float, limit: int = CLAIM) -> list[Due]:
        return (await self.claim_due(now, limit))[0]

    async def claim_due(
        self, now: float, limit: int = CLAIM, *, me: str = "", grace: float = 0.0
    ) -> tuple[list[Due], float | None]:
        """Lease up to ``limit`` deadlines due at ``now`` for the pump ``me``, leaving those
        that another pump owns to it until ``grace`` after they are due (``AFFINITY``); also
        when this pump may next claim one (None if none is pending), leased ones included."""
        keys = [self.zset]
        args = [now, limit, LEASE, f"{self.prefix}:deadline:", me, grace, AHEAD]
        raw = await self._script(_CLAIM, keys, args)
        out = []
        for i in range(0, len(raw) - 1, 2):
            code = raw[i].decode() if isinstance(raw[i], bytes) else raw[i]
            key, serial, at = _parse(raw[i + 1])
            out.append((code, key, serial, at))
        return out, float(raw[-1]) if raw[-1] else None

    async def complete(self, code: str, key: str, serial: int, at: float) -> bool:
        """Drop the deadline if it is still this one (a transition may have set a new one)."""
        return await self.complete_many([(code, key, serial, at)]) == 1

    async def complete_many(self, due: list[Due]) -> int:
        """:meth:`complete` for many deadlines in one script call; how many it dropped."""
        if not due:
            return 0
        keys = [self.zset, *(self.key(code) for code, *_ in due)]
        args: list[str] = []
        for code, key, serial, at in due:
            args += [deadline_payload(key, serial, at), code]
        return int(await self._script(_COMPLETE_MANY, keys, args))

    async def pending(self) -> int:
        return int(await self.redis.zcard(self.zset))


class ResilientStreamBroker(RedisStreamBroker):
    """taskiq's stream broker, waiting out Redis outages instead of failing in a tight loop."""

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        delay = 0.1
        while True:
            try:
                async for message in super().listen():
                    delay = 0.1
                    yield message
            except (RedisError, OSError) as exc:
                log.warning("timer broker: Redis unavailable (%s); retrying", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                if "NOGROUP" in str(exc):
                    # Redis came back empty (restarted without persistence): the stream and
                    # its consumer group are gone, so declare them again.
                    with contextlib.suppress(RedisError, OSError):
                        await self.declare_group()

    async def declare_group(self) -> None:
        """XGROUP CREATE … MKSTREAM for the task stream, as the broker's startup does, through
        public names only (taskiq-redis has no public method for it)."""
        async with aioredis.Redis(connection_pool=self.connection_pool) as redis:
            with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists already
                await redis.xgroup_create(
                    self.queue_name, self.consumer_group_name, id=self.consumer_id, mkstream=True
                )


def make_broker(url: str, *, prefix: str) -> ResilientStreamBroker:
    """The stream broker the timer tasks run on. A dead worker's tasks are reclaimed after
    3 s (``idle_timeout``), not taskiq's default 10 minutes. A worker reads at most ``TASKS``
    messages at a time (taskiq's default is 100), so that the chunks of a big burst that it
    cannot start yet stay in the stream for other workers."""
    return ResilientStreamBroker(
        url,
        queue_name=f"{prefix}:timers",
        consumer_group_name=f"{prefix}:workers",
        # How long one XREADGROUP waits for a task message. A message wakes it at once; the
        # wait only bounds how often an idle worker asks (taskiq reclaims a dead worker's
        # messages only after a read that found some, whatever this is).
        xread_block=2000,
        xread_count=TASKS,
        idle_timeout=3000,
        unacknowledged_lock_timeout=2.0,
        maxlen=10_000,
        max_connection_pool_size=64,
    )


FireFn = Callable[[str, str, int, float], Awaitable[bool]]


class TimerWorker:
    """The pump plus a taskiq receiver, in one asyncio process (``weirsoe worker``)."""

    def __init__(
        self,
        *,
        deadlines: RedisDeadlines,
        broker: AsyncBroker,
        fire: FireFn,
        clock: Callable[[], float] = time.time,
        fire_claims: bool = True,
        poll: float = POLL,
        gather: float = GATHER,
        wake_url: str | None = None,
        rescan: float = RESCAN,
        affinity: float = AFFINITY,
    ) -> None:
        """``fire_claims``: the pump fires up to ``TASKS`` chunks of its claims itself (see the
        module docstring); ``False`` sends every chunk through the stream, as before. ``poll``:
        the longest the pump sleeps between claims; ``gather``: how long after the soonest
        deadline is due the pump claims it, with whatever else fell due meanwhile.
        ``wake_url``: the Redis to hear wakes from (``redis://``, ``rediss://`` or ``unix://``;
        None: no wake subscription, the pump polls every ``poll``): while that subscription
        is in force, the pump sleeps up to ``rescan`` instead of ``poll``. ``affinity``: how
        long after they are due the pump leaves deadlines another pump owns to that pump
        (``AFFINITY``). A process whose deadlines should be this pump's stores its ``id`` as
        their owner (``RedisSessionStore.owner``, ``RedisDeadlines.owner``), as `serve
        --with-worker` does."""
        self.deadlines = deadlines
        self.fire_claims = fire_claims
        self.poll = poll
        self.gather = gather
        self.rescan = rescan
        self.affinity = affinity
        self.claims = 0  # claim calls the pump made
        self.listening = False  # the wake subscription is confirmed and in force
        self._lost = asyncio.Event()  # it was lost since it was last confirmed
        self._early = _NEVER  # the soonest deadline heard of while the pump was not asleep
        self._known = _NEVER  # the soonest deadline the last sleep was planned around
        self.wakes: RedisPubSub | None = None
        if wake_url is not None:
            self.wakes = RedisPubSub(wake_url, self._on_wake, on_reset=self._wake_lost)
            self.wakes.subscribe([deadlines.wake_channel])
        self.fired_here = 0  # chunks the pump fired itself
        self.kicked = 0  # chunks it handed to the stream
        self._firing: set[asyncio.Task[int]] = set()
        self._waiting: asyncio.Future[None] | None = None  # the pump's sleep
        self._wake_at = 0.0  # when that sleep ends (clock time)
        self.woken = 0  # sleeps cut short by a deadline this process set
        deadlines.wake = self.sooner
        self.broker = broker
        self.clock = clock
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.fired = 0
        self.pump_errors = 0
        self.heartbeats = 0
        self.last_pump = time.monotonic()
        self.metrics: Any = None  # weirsoe_platform.metrics.Metrics, where a process has one
        self._tasks: list[asyncio.Task[Any]] = []

        async def fire_deadlines(due: list[Due]) -> int:
            return await self._fire_many([tuple(item) for item in due])  # type: ignore[misc]

        async def fire_deadline(code: str, key: str, serial: int, at: float) -> bool:
            # The one-deadline task of earlier versions: a message of theirs may still be in
            # the stream during a rolling upgrade.
            return await self._fire_many([(code, key, serial, at)]) == 1

        self._fire = fire
        self.task = broker.register_task(fire_deadlines, task_name="weirsoe.fire_deadlines")
        self.single_task = broker.register_task(fire_deadline, task_name="weirsoe.fire_deadline")

    async def _fire_many(self, due: list[Due]) -> int:
        """Fire ``due`` concurrently; drop the entries of the stale ones in one call (a firing
        that changed state replaced or cleared its entry in its own compare-and-set). A firing
        that fails leaves its entry leased, to be claimed again. How many changed state."""
        results = await asyncio.gather(*(self._fire(*item) for item in due), return_exceptions=True)
        stale: list[Due] = []
        failed: list[BaseException] = []
        changed = 0
        for item, result in zip(due, results, strict=True):
            if isinstance(result, BaseException):
                failed.append(result)
            elif result:
                changed += 1
            else:
                stale.append(item)
        self.fired += len(due) - len(failed)
        if failed:
            log.warning(
                "%d of %d deadlines not fired (%s); they are claimed again after the lease",
                len(failed),
                len(due),
                type(failed[0]).__name__,
                exc_info=failed[0],
            )
        await self.deadlines.complete_many(stale)
        return changed

    async def start(self) -> None:
        await self.broker.startup()
        if self.wakes is not None:
            await self.wakes.start()
            self._tasks.append(
                asyncio.create_task(supervise("timer wakes", self._listen), name="weirsoe-wakes")
            )
        self._tasks += [
            asyncio.create_task(supervise("timer pump", self._pump), name="weirsoe-timer-pump"),
            asyncio.create_task(
                supervise("worker heartbeat", self._heartbeat), name="weirsoe-worker-heartbeat"
            ),
            asyncio.create_task(
                supervise("timer receiver", self._receive), name="weirsoe-timer-receiver"
            ),
        ]

    async def stop(self, timeout: float = 1.0) -> None:
        """Cancel every loop and close the broker, giving up on either after ``timeout``
        seconds: a worker told to stop must stop, whatever a library call is waiting on."""
        tasks = [*self._tasks, *self._firing]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        if self.wakes is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.wakes.stop(), timeout)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.broker.shutdown(), timeout)

    async def _receive(self) -> None:
        await run_receiver_task(
            self.broker,
            max_async_tasks=TASKS,
            ack_time=AcknowledgeType.WHEN_EXECUTED,
            propagate_exceptions=False,
        )

    async def _pump(self) -> None:
        """Claim due deadlines and kick their tasks. Every failure is caught here, whatever its
        type: taskiq wraps a stale pooled connection after a Redis restart in ``SendTaskError``,
        which once killed this loop for good while the heartbeat went on."""
        backoff = Backoff(0.05, 1.0)
        while True:
            rest = self._gather_rest()
            if rest > 0:  # woke late, inside the soonest deadline's window: let it fill
                await self._sleep(rest)
            try:
                self._early = _NEVER  # a wake from now on may come after the claim's answer
                self.claims += 1
                due, soonest = await self.deadlines.claim_due(
                    self.clock(), CLAIM, me=self.id, grace=self.affinity
                )
                if due:
                    kicks = []
                    for chunk in _chunks(due):
                        if self.fire_claims and len(self._firing) < TASKS:
                            self._fire_here(chunk)
                        else:
                            kicks.append(self.task.kiq(chunk))
                    self.kicked += len(kicks)
                    await asyncio.gather(*kicks)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.pump_errors += 1
                if self.metrics is not None:
                    self.metrics.redis_errors.labels("timer_pump").inc()
                delay = backoff.next()
                if backoff.failures == 1:
                    log.warning("timer pump: %s; retrying", type(exc).__name__, exc_info=True)
                else:
                    log.warning("timer pump: still failing (%s)", type(exc).__name__)
                await self._drop_connections()
                await asyncio.sleep(delay)
                continue
            if backoff.failures:
                log.info("timer pump: recovered after %d failures", backoff.failures)
                if self.metrics is not None:
                    self.metrics.redis_reconnects.labels("timer_pump").inc()
                backoff.reset()
            self.last_pump = time.monotonic()
            if len(due) < CLAIM:  # else more are due at once: claim them without a pause
                await self._sleep(self._pause(soonest))

    async def _sleep(self, pause: float) -> None:
        """``asyncio.sleep(pause)``, cut short by :meth:`sooner`."""
        loop = asyncio.get_running_loop()
        self._waiting = waiting = loop.create_future()
        self._wake_at = self.clock() + pause
        handle = loop.call_later(pause, _settle, waiting)
        try:
            await waiting
        finally:
            handle.cancel()
            self._waiting = None

    def sooner(self, at: float) -> None:
        """A deadline due at ``at`` was set (in this process, or announced on the wake
        channel): if the pump sleeps past it, wake it to claim again (it then sleeps until
        the soonest deadline). If the pump is claiming, its claim may have missed it: it
        sleeps no longer than until ``at`` afterwards."""
        waiting = self._waiting
        if waiting is None:
            self._early = min(self._early, at)
        elif at + self.gather < self._wake_at - _SAME and not waiting.done():
            # (The pump sleeps until ``gather`` after the soonest deadline: a deadline heard
            # of twice, set here and announced on the wake channel, wakes it once.)
            self.woken += 1
            waiting.set_result(None)

    def _on_wake(self, channel: bytes, payload: bytes) -> None:
        try:
            at = float(payload)
        except ValueError:
            log.warning("timer wake: not a time: %r", payload[:40])
            return
        self.sooner(at)

    def _wake_lost(self) -> None:
        """The wake subscription is gone: wakes published until it is back are lost, so the
        pump sleeps at most ``poll`` again."""
        self.listening = False
        self._lost.set()

    async def _listen(self) -> None:
        """Each time the wake subscription is (re)made: once Redis confirms it, sleep up to
        ``rescan``, and claim at once (a deadline set while it was not in force was not
        heard)."""
        assert self.wakes is not None
        while True:
            await self.wakes.connected.wait()
            self._lost.clear()
            if await self.wakes.settle() and not self._lost.is_set():
                self.listening = True
                self.sooner(-math.inf)
            else:
                await asyncio.sleep(0.1)
                continue
            await self._lost.wait()

    def _fire_here(self, chunk: list[Due]) -> None:
        """Fire a chunk of this pump's claims in this process, without the stream."""
        task = asyncio.get_running_loop().create_task(self._fire_many(chunk))
        self._firing.add(task)
        task.add_done_callback(self._fired)
        self.fired_here += 1

    def _fired(self, task: asyncio.Task[int]) -> None:
        self._firing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # complete_many failed (Redis gone): the entries stay leased and are claimed again
            log.warning("timer firing: %s", type(task.exception()).__name__)

    def _pause(self, soonest: float | None) -> float:
        """Until :data:`GATHER` after the next deadline falls due (or one heard of during the
        claim), at most ``rescan`` while wakes are heard, else ``poll`` (another process may
        schedule an earlier one at any time); but never to a moment inside that gather window,
        where it would claim only part of what falls due together: then to the window's end."""
        longest = self.rescan if self.listening else self.poll
        soonest = min(soonest if soonest is not None else _NEVER, self._early)
        self._known = soonest
        if soonest == _NEVER:
            return longest
        gathered = soonest - self.clock() + self.gather
        # A wake after the soonest is due but before its gather window ends would claim only
        # part of what falls due together: sleep to the window's end instead, at most
        # ``gather`` longer than ``longest``. (A wake before it is due claims nothing.)
        if gathered <= longest + self.gather:
            return max(0.001, gathered)
        return longest

    def _gather_rest(self) -> float:
        """How long to wait before claiming, once: a sleep planned to end before the soonest
        deadline fell due (``poll``) may end late, inside its gather window, on a busy loop;
        claiming then would leave the rest of the window's deadlines to another claim."""
        soonest, self._known = self._known, _NEVER
        now = self.clock()
        return soonest + self.gather - now if soonest <= now < soonest + self.gather else 0.0

    async def _drop_connections(self) -> None:
        """Disconnect every pooled connection (the broker's and the store's), so that the next
        call opens fresh ones instead of finding each stale one in turn."""
        pools = [getattr(self.broker, "connection_pool", None)]
        pools.append(getattr(self.deadlines.redis, "connection_pool", None))
        for pool in pools:
            if pool is not None:
                with contextlib.suppress(Exception):
                    await pool.disconnect()

    async def _heartbeat(self) -> None:
        """Announce this worker while its pump is alive: a worker whose pump is stuck or
        failing stops beating, so servers warn that no worker is running."""
        prefix = self.deadlines.prefix
        key = f"{prefix}:workers:{self.id}"
        beat = self.deadlines.redis.register_script(_BEAT)
        while True:
            if time.monotonic() - self.last_pump < HEARTBEAT_TTL - 1:
                try:
                    async with self.deadlines.redis.pipeline(transaction=False) as pipe:
                        pipe.set(key, str(self.clock()), ex=HEARTBEAT_TTL)
                        await beat(
                            keys=[live_key(prefix)], args=[self.id, HEARTBEAT_TTL], client=pipe
                        )
                        # The task stream is infrastructure, bounded by maxlen; give it a TTL
                        # too, so it disappears a day after the last worker stopped.
                        pipe.expire(f"{prefix}:timers", STREAM_TTL)
                        await pipe.execute()
                    self.heartbeats += 1
                    if self.metrics is not None:
                        self.metrics.worker_heartbeats.inc()
                except (RedisError, OSError) as exc:
                    log.debug("worker heartbeat: %s", type(exc).__name__)
            await asyncio.sleep(1)


def _settle(waiting: asyncio.Future[None]) -> None:
    if not waiting.done():
        waiting.set_result(None)


def _chunks(due: list[Due]) -> list[list[Due]]:
    """``due`` in even chunks of at most ``CHUNK``."""
    count = -(-len(due) // CHUNK)
    size = -(-len(due) // count)
    return [due[i : i + size] for i in range(0, len(due), size)]


def live_key(prefix: str) -> str:
    """The sorted set of workers whose heartbeat is live: id → when it lapses (Redis's clock)."""
    return f"{prefix}:live-workers"


async def live_workers(redis: aioredis.Redis, prefix: str) -> int:
    """How many workers beat within the last ``HEARTBEAT_TTL`` seconds: one command, where a
    ``SCAN`` of every key for ``P:workers:*`` cost a round trip per 100 keys of the whole
    database (about 65 at 1,000 rooms), every 10 s in each server and on each metrics scrape
    (docs/performance.md, section 47)."""
    return int(await redis.register_script(_LIVE)(keys=[live_key(prefix)]))
