"""Presence across processes: each ``serve`` process heartbeats which players it holds sockets
for, and the survivors mark a dead process's players gone.

Keys (``P`` the prefix; both get a day's TTL so an abandoned deployment leaves nothing behind):

- ``P:procs``          sorted set: process id → time of its last beat;
- ``P:presence:PROC``  set of ``CODE|PLAYER`` this process has at least one socket for.

Every ``interval`` seconds a process rewrites its set and its beat, then reaps: a process whose
beat is older than ``dead_after`` seconds is claimed by whoever removes it from ``P:procs`` first
(ZREM answers 1 to one caller only). The claimer reads the dead process's set and, for each
player that no live process still holds, runs ``SessionService.presence(..., False)``: the same
compare-and-set path a closing socket takes, so phases waiting on that player stop waiting.
With the defaults (2 s, 6 s) a SIGKILLed process's players are gone within about 8 s.

The beat names every player the process holds, so at 1,000 rooms it is a ``SADD`` of 9,000
members. Given the session store's pipelined connection (``fast``), it goes there as one
``MULTI``…``EXEC`` in one write, packed by hiredis in C; redis-py's pipeline spent about five
Python calls per member on it (docs/performance.md, lever 22).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from .._resp import PipelinedRedis
from ..sessions import SessionService
from ._ws import Presence

__all__ = ["PresenceBeat"]

log = logging.getLogger("weirsoe.presence")
KEEP = 24 * 3600


class PresenceBeat:
    def __init__(
        self,
        redis: Any,
        *,
        prefix: str,
        presence: Presence,
        service: SessionService,
        interval: float = 2.0,
        dead_after: float = 6.0,
        clock: Callable[[], float] = time.time,
        fast: PipelinedRedis | None = None,
    ) -> None:
        self.redis = redis
        self.fast = fast
        self.prefix = prefix
        self.presence = presence
        self.service = service
        self.interval = interval
        self.dead_after = dead_after
        self.clock = clock
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.procs = f"{prefix}:procs"
        self.reaped = 0

    def key(self, proc: str) -> str:
        return f"{self.prefix}:presence:{proc}"

    async def beat(self) -> None:
        members = [f"{code}|{player}" for code, player in self.presence.counts]
        mine = self.key(self.id)
        body: list[tuple[Any, ...]] = [("DEL", mine)]
        if members:
            body += [("SADD", mine, *members), ("EXPIRE", mine, KEEP)]
        body += [("ZADD", self.procs, repr(self.clock()), self.id), ("EXPIRE", self.procs, KEEP)]
        if self.fast is not None:  # one transaction in one write (module docstring)
            done = (await self.fast.execute_many(("MULTI",), *body, ("EXEC",)))[-1]
            for reply in done if isinstance(done, list) else ():
                if isinstance(reply, Exception):  # as redis-py's pipeline raises it
                    raise reply
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            for command in body:
                pipe.execute_command(*command)
            await pipe.execute()

    async def reap(self) -> int:
        """Mark the players of every dead process gone; returns how many were marked."""
        dead = await self.redis.zrangebyscore(self.procs, "-inf", self.clock() - self.dead_after)
        marked = 0
        for raw in dead:
            proc = raw.decode() if isinstance(raw, bytes) else str(raw)
            if not await self.redis.zrem(self.procs, proc):
                continue  # another process claimed it
            members = await self.redis.smembers(self.key(proc))
            await self.redis.delete(self.key(proc))
            log.warning("process %s stopped beating; %d player(s) to check", proc, len(members))
            for member in members:
                text = member.decode() if isinstance(member, bytes) else str(member)
                code, _, player = text.partition("|")
                if await self._held_elsewhere(text) or (code, player) in self.presence.counts:
                    continue
                await self.service.presence(code, player, False)
                marked += 1
        self.reaped += marked
        return marked

    async def _held_elsewhere(self, member: str) -> bool:
        live = await self.redis.zrange(self.procs, 0, -1)
        if not live:
            return False
        async with self.redis.pipeline(transaction=False) as pipe:
            for raw in live:
                proc = raw.decode() if isinstance(raw, bytes) else str(raw)
                pipe.sismember(self.key(proc), member)
            found = await pipe.execute()
        return any(found)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.beat()
                await self.reap()
            except (RedisError, OSError) as exc:  # an outage: the store's errors say so
                log.debug("presence heartbeat: %s", type(exc).__name__)
            await asyncio.sleep(self.interval)

    async def leave(self) -> None:
        """On a clean shutdown: the sockets closed already marked their players."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.procs, self.id)
            pipe.delete(self.key(self.id))
            await pipe.execute()
