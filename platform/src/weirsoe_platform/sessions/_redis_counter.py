"""The Redis audience counter: every vote is one Lua script, atomic across processes.

Keys (``P`` the prefix, ``CODE`` the room, ``ID`` a tally opening such as ``truth@17``), each
given the room's remaining TTL (``PTTL P:session:CODE``) whenever it is written:

- ``P:aud:CODE``          hash: ``t:<token hash>`` → member id, ``k:<member>`` kicked,
  ``n`` members, ``off`` while the host has the audience off;
- ``P:watch:CODE``        hash: process id → audience sockets open there;
- ``P:tally:CODE``        hash: tally name → open ``ID``; ``ID:cap``, ``ID:live``, ``ID:frozen``;
- ``P:tally:CODE:ID:c``   hash: choice → count (every choice, from 0);
- ``P:tally:CODE:ID:m``   hash: member → choice (one-vote tallies) or votes used (capped ones);
- ``P:tallytick:CODE``    the progress slot: ``SET NX PX``, so one process publishes per interval.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from weirsoe_sdk import InvalidAction, OpenTally

from .._resp import LuaScripts, PipelinedRedis, at_once
from ._counter import AudienceCounter, Progress, TallyProgress

__all__ = ["RedisAudienceCounter"]

_TTL = """
local function ttl_of(session)
  local ttl = redis.call('PTTL', session)
  if ttl <= 0 then return nil end
  return ttl
end
"""

_VOTE = (
    _TTL
    + """
local ttl = ttl_of(KEYS[1])
if not ttl then return 'room_not_found' end
if redis.call('HEXISTS', KEYS[3], 'off') == 1 then return 'audience_off' end
if redis.call('HEXISTS', KEYS[3], 'k:' .. ARGV[2]) == 1 then return 'audience_kicked' end
local id = redis.call('HGET', KEYS[2], ARGV[1])
if not id or redis.call('HEXISTS', KEYS[2], id .. ':frozen') == 1 then return 'tally_closed' end
local ckey = ARGV[4] .. id .. ':c'
local mkey = ARGV[4] .. id .. ':m'
if redis.call('HEXISTS', ckey, ARGV[3]) == 0 then return 'unknown_choice' end
local cap = tonumber(redis.call('HGET', KEYS[2], id .. ':cap') or '1')
if cap <= 1 then
  if cap < 1 then return 'vote_cap' end
  local old = redis.call('HGET', mkey, ARGV[2])
  if old == ARGV[3] then return 'same' end
  if old then redis.call('HINCRBY', ckey, old, -1) end
  redis.call('HSET', mkey, ARGV[2], ARGV[3])
else
  local used = tonumber(redis.call('HGET', mkey, ARGV[2]) or '0')
  if used >= cap then return 'vote_cap' end
  redis.call('HINCRBY', mkey, ARGV[2], 1)
end
redis.call('HINCRBY', ckey, ARGV[3], 1)
redis.call('PEXPIRE', ckey, ttl)
redis.call('PEXPIRE', mkey, ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return 'ok'
"""
)

_OPEN = (
    _TTL
    + """
local ttl = ttl_of(KEYS[1])
if not ttl then return 0 end
local id = ARGV[1]
if redis.call('HEXISTS', KEYS[2], id .. ':frozen') == 1 then return 0 end
local current = redis.call('HGET', KEYS[2], ARGV[2])
if current and tonumber(string.match(current, '@(%d+)$')) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], id, id .. ':cap', ARGV[4], id .. ':live', ARGV[5])
local ckey = ARGV[6] .. id .. ':c'
for i = 7, #ARGV do redis.call('HSETNX', ckey, ARGV[i], 0) end
redis.call('PEXPIRE', ckey, ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
"""
)

_FREEZE = """
local out = {}
for i = 1, #ARGV do
  redis.call('HSET', KEYS[1], ARGV[i] .. ':frozen', 1)
  out[i] = redis.call('HGETALL', KEYS[2] .. ARGV[i] .. ':c')
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], 60000) end
return out
"""

_CLOSE = """
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i + 1]) == ARGV[i] then
    redis.call('HDEL', KEYS[1], ARGV[i + 1])
  end
  redis.call('HDEL', KEYS[1], ARGV[i] .. ':cap', ARGV[i] .. ':live')
  redis.call('DEL', KEYS[2] .. ARGV[i] .. ':c', KEYS[2] .. ARGV[i] .. ':m')
end
return 1
"""

# The open tallies of ``KEYS[1]`` (``P:tally:CODE``) as a name → id table: names without a colon
# whose opening is not frozen (the ``ID:cap``/``ID:live``/``ID:frozen`` fields hold colons).
_OPEN_TALLIES = """
local function open_tallies(key)
  local flat = redis.call('HGETALL', key)
  local fields = {}
  for i = 1, #flat, 2 do fields[flat[i]] = flat[i + 1] end
  local open = {}
  for name, id in pairs(fields) do
    if not string.find(name, ':', 1, true) and not fields[id .. ':frozen'] then
      open[name] = id
    end
  end
  return open, fields
end
"""

# Progress in one round trip: take the room's slot for this interval (``SET NX PX``; nil if
# another call has it), then the members, the watchers per process and every open tally's
# counts: {members, {watching...}, {name, id, live, {choice, count, ...}}, ...}.
_PROGRESS = (
    _OPEN_TALLIES
    + """
if not redis.call('SET', KEYS[1], 1, 'NX', 'PX', ARGV[1]) then return false end
local open, fields = open_tallies(KEYS[2])
local out = {redis.call('HGET', KEYS[3], 'n') or '0', redis.call('HVALS', KEYS[4])}
for name, id in pairs(open) do
  local counts = redis.call('HGETALL', ARGV[2] .. id .. ':c')
  out[#out + 1] = {name, id, fields[id .. ':live'] or '0', counts}
end
return out
"""
)

# A member's ballots in the open tallies: {name, cap, mine (nil if none)}, ...
_BALLOTS = (
    _OPEN_TALLIES
    + """
local open, fields = open_tallies(KEYS[1])
local out = {}
for name, id in pairs(open) do
  local mine = redis.call('HGET', ARGV[1] .. id .. ':m', ARGV[2])
  out[#out + 1] = {name, fields[id .. ':cap'] or '1', mine}
end
return out
"""
)

# What a snapshot shows of the audience, in one command: {members, off (0/1), {watching...}}.
_STATS = """
return {redis.call('HGET', KEYS[1], 'n') or '0', redis.call('HEXISTS', KEYS[1], 'off'),
        redis.call('HVALS', KEYS[2])}
"""

_ERRORS = {
    "audience_off": "the host has turned the audience off",
    "audience_kicked": "the host removed you from the audience",
    "tally_closed": "that vote is not open now",
    "unknown_choice": "that is not one of the choices",
    "vote_cap": "no votes left in this phase",
    "room_not_found": "this room is gone",
}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _watching(per_process: Iterable[Any]) -> int:
    """Audience sockets open, from ``P:watch:CODE``'s counts per process."""
    return max(0, sum(int(n) for n in per_process))


class RedisAudienceCounter(AudienceCounter):
    def __init__(self, redis: Any, *, prefix: str, fast: PipelinedRedis | None = None) -> None:
        """``fast``: the session store's auto-pipelining connection, for the stats every
        snapshot asks for (its owner closes it)."""
        self.redis = redis
        self.prefix = prefix
        self.fast = fast
        self.process = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._script = LuaScripts(redis, fast).run

    def _keys(self, code: str) -> tuple[str, str, str, str]:
        p = self.prefix
        return f"{p}:session:{code}", f"{p}:tally:{code}", f"{p}:aud:{code}", f"{p}:tally:{code}:"

    async def _ttl(self, code: str) -> int:
        ttl = int(await self.redis.pttl(f"{self.prefix}:session:{code}"))
        return ttl if ttl > 0 else 60_000

    async def add_member(self, code: str, token_hash: str, member: str, ttl: float) -> None:
        aud = self._keys(code)[2]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(aud, f"t:{token_hash}", member)
            pipe.hincrby(aud, "n", 1)
            pipe.pexpire(aud, int(ttl * 1000))
            await pipe.execute()

    async def member(self, code: str, token_hash: str) -> tuple[str, bool] | None:
        aud = self._keys(code)[2]
        found = await self.redis.hget(aud, f"t:{token_hash}")
        if found is None:
            return None
        member = _text(found)
        return member, bool(await self.redis.hexists(aud, f"k:{member}"))

    async def kick(self, code: str, member: str) -> bool:
        aud = self._keys(code)[2]
        async for _, value in self.redis.hscan_iter(aud, match="t:*", count=1000):
            if _text(value) == member:
                await self.redis.hset(aud, f"k:{member}", 1)
                return True
        return False

    async def set_enabled(self, code: str, enabled: bool) -> None:
        aud = self._keys(code)[2]
        if enabled:
            await self.redis.hdel(aud, "off")
        else:
            await self.redis.hset(aud, "off", 1)
            await self.redis.pexpire(aud, await self._ttl(code))

    async def watch(self, code: str, delta: int) -> None:
        key = f"{self.prefix}:watch:{code}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, self.process, delta)
            pipe.pexpire(key, await self._ttl(code))
            await pipe.execute()

    async def vote(self, code: str, member: str, name: str, choice: str) -> bool:
        session, tally, aud, base = self._keys(code)
        answer = _text(
            await self._script(_VOTE, [session, tally, aud], [name, member, choice, base])
        )
        if answer in _ERRORS:
            raise InvalidAction(_ERRORS[answer], code=answer)
        return answer == "ok"

    async def open(self, code: str, tally: OpenTally, ttl: float) -> bool:
        session, key, _, base = self._keys(code)
        version = tally.id.rpartition("@")[2] or "0"
        args = [tally.id, tally.name, version, tally.cap, int(tally.live), base, *tally.choices]
        return bool(await self._script(_OPEN, [session, key], args))

    async def freeze(self, code: str, tallies: Iterable[OpenTally]) -> dict[str, dict[str, int]]:
        _, key, _, base = self._keys(code)
        wanted = list(tallies)
        if not wanted:
            return {}
        raw = await self._script(_FREEZE, [key, base], [t.id for t in wanted])
        out: dict[str, dict[str, int]] = {}
        for tally, flat in zip(wanted, raw, strict=True):
            pairs = iter(flat)
            counts = {_text(c): int(n) for c, n in zip(pairs, pairs, strict=True)}
            out[tally.id] = {c: counts.get(c, 0) for c in tally.choices}
        return out

    async def close(self, code: str, tallies: Iterable[OpenTally]) -> None:
        _, key, _, base = self._keys(code)
        args = [x for t in tallies for x in (t.id, t.name)]
        if args:
            await self._script(_CLOSE, [key, base], args)

    async def ballots(self, code: str, member: str) -> dict[str, str | int | None]:
        _, key, _, base = self._keys(code)
        out: dict[str, str | int | None] = {}
        for name, cap, mine in await self._script(_BALLOTS, [key], [base, member]):
            if int(cap) <= 1:
                out[_text(name)] = None if mine is None else _text(mine)
            else:
                out[_text(name)] = 0 if mine is None else int(mine)
        return out

    def _progress_call(self, code: str, interval: float) -> tuple[list[Any], list[Any]]:
        _, key, aud, base = self._keys(code)
        tick = f"{self.prefix}:tallytick:{code}"
        watch = f"{self.prefix}:watch:{code}"
        return [tick, key, aud, watch], [max(1, int(interval * 1000)), base]

    @staticmethod
    def _progress_of(found: Any) -> Progress | None:
        if found is None:  # another call, here or elsewhere, has this interval's slot
            return None
        members, watching, *open_tallies = found
        tallies = []
        for name, tally_id, live, flat in sorted(open_tallies, key=lambda t: _text(t[0])):
            pairs = iter(flat)
            counts = {_text(c): int(n) for c, n in zip(pairs, pairs, strict=True)}
            tallies.append(
                TallyProgress(
                    name=_text(name),
                    id=_text(tally_id),
                    votes=sum(counts.values()),
                    counts=counts if _text(live) == "1" else None,
                )
            )
        return Progress(members=int(members), watching=_watching(watching), tallies=tallies)

    async def progress(self, code: str, interval: float) -> Progress | None:
        keys, args = self._progress_call(code, interval)
        return self._progress_of(await self._script(_PROGRESS, keys, args))

    async def progress_many(
        self, codes: Sequence[str], interval: float
    ) -> list[Progress | Exception | None]:
        """Every room's script at once: on the pipelined connection one write and one round
        trip for all of them, where one after another cost a round trip each (seconds, with
        hundreds of rooms on a busy loop; docs/performance.md, section 42). On redis-py's
        client (a TLS address), ``AT_ONCE`` at a time (:func:`at_once`)."""
        if self.fast is None:
            return await at_once(lambda code: self.progress(code, interval), codes)
        try:
            replies = await self.fast.evalsha_many(
                _PROGRESS, [self._progress_call(code, interval) for code in codes]
            )
        except Exception as exc:  # the connection: every room failed alike
            return [exc] * len(codes)
        out: list[Progress | Exception | None] = []
        for reply in replies:
            if isinstance(reply, Exception):
                out.append(reply)
                continue
            try:
                out.append(self._progress_of(reply))
            except Exception as exc:  # a reply of another shape: that room alone
                out.append(exc)
        return out

    async def stats(self, code: str) -> tuple[int, int, bool]:
        aud = self._keys(code)[2]
        members, off, watching = await self._script(
            _STATS, [aud, f"{self.prefix}:watch:{code}"], []
        )
        return int(members), _watching(watching), not off

    async def expire(self, code: str, ttl: float) -> None:
        _, key, aud, _ = self._keys(code)
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in (key, aud, f"{self.prefix}:watch:{code}"):
                pipe.pexpire(name, max(1, int(ttl * 1000)))
            await pipe.execute()

    async def delete(self, code: str) -> None:
        _, key, aud, base = self._keys(code)
        doomed = [key, aud, f"{self.prefix}:watch:{code}", f"{self.prefix}:tallytick:{code}"]
        async for name in self.redis.scan_iter(match=f"{base}*", count=1000):
            doomed.append(name)
        await self.redis.delete(*doomed)
