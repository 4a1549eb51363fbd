"""Audience counters: members, who is watching, and the open tallies' ballots, outside the room's
compare-and-set. One interface, two implementations: memory (embedded) and Redis (scale-out).

The rules of a vote are the SDK's (:func:`weirsoe_sdk.cast_vote`); the Redis counter runs the same
rules in one Lua script. A tally is *opened* after the transition that opened it committed,
*frozen* (no vote counts any more) right before the transition that closes it reads its final
counts, and *closed* (forgotten) after that transition committed.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from weirsoe_sdk import Ballots, InvalidAction, OpenTally, cast_vote, count_ballots

__all__ = ["AudienceCounter", "MemoryAudienceCounter", "Progress", "TallyProgress"]


@dataclass(frozen=True, slots=True)
class TallyProgress:
    name: str
    id: str
    votes: int
    counts: dict[str, int] | None  # None unless the tally is live


@dataclass(frozen=True, slots=True)
class Progress:
    members: int
    watching: int
    tallies: list[TallyProgress]


class AudienceCounter(ABC):
    """Where audience members and their votes are counted."""

    @abstractmethod
    async def add_member(self, code: str, token_hash: str, member: str, ttl: float) -> None: ...

    @abstractmethod
    async def member(self, code: str, token_hash: str) -> tuple[str, bool] | None:
        """``(member id, kicked)`` for a token, or None if it is no member of this room."""

    @abstractmethod
    async def kick(self, code: str, member: str) -> bool:
        """Revoke a member's votes from now on; False if there is no such member."""

    @abstractmethod
    async def set_enabled(self, code: str, enabled: bool) -> None: ...

    @abstractmethod
    async def watch(self, code: str, delta: int) -> None:
        """An audience socket of this process opened (+1) or closed (-1)."""

    @abstractmethod
    async def vote(self, code: str, member: str, name: str, choice: str) -> bool:
        """Count one vote; True if it changed a count. Raises :class:`InvalidAction` with
        ``tally_closed``, ``unknown_choice``, ``vote_cap``, ``audience_kicked`` or
        ``audience_off``."""

    @abstractmethod
    async def open(self, code: str, tally: OpenTally, ttl: float) -> bool:
        """Start counting ``tally`` (idempotent; never reopens a frozen or older opening)."""

    @abstractmethod
    async def freeze(self, code: str, tallies: Iterable[OpenTally]) -> dict[str, dict[str, int]]:
        """Stop counting and return the final counts, by tally id (idempotent)."""

    @abstractmethod
    async def close(self, code: str, tallies: Iterable[OpenTally]) -> None: ...

    @abstractmethod
    async def ballots(self, code: str, member: str) -> dict[str, str | int | None]:
        """A member's ballots in the open tallies, by tally name: the choice (or None) in a
        one-vote tally, the number of votes used in a capped one."""

    @abstractmethod
    async def progress(self, code: str, interval: float) -> Progress | None:
        """The room's counts, at most once per ``interval`` seconds across every process:
        None if another call (here or in another process) took this slot."""

    async def progress_many(
        self, codes: Sequence[str], interval: float
    ) -> list[Progress | Exception | None]:
        """:meth:`progress` for several rooms at once, in order; a room whose call failed has
        its exception in its place. Here one after another (in memory nothing waits);
        counters behind a network send them together."""
        found: list[Progress | Exception | None] = []
        for code in codes:
            try:
                found.append(await self.progress(code, interval))
            except Exception as exc:
                found.append(exc)
        return found

    @abstractmethod
    async def stats(self, code: str) -> tuple[int, int, bool]:
        """``(members, watching, enabled)``."""

    @abstractmethod
    async def delete(self, code: str) -> None: ...

    async def expire(self, code: str, ttl: float) -> None:  # noqa: B027 - optional hook
        """The room's time to live changed (its game is over: the grace period): keys that
        outlive a room on their own get the same ``ttl``. In memory nothing expires by itself."""


def _version(tally_id: str) -> int:
    return int(tally_id.rpartition("@")[2] or 0)


@dataclass
class _Room:
    tokens: dict[str, str] = field(default_factory=dict)
    kicked: set[str] = field(default_factory=set)
    enabled: bool = True
    watching: int = 0
    open: dict[str, OpenTally] = field(default_factory=dict)  # name -> opening
    frozen: set[str] = field(default_factory=set)  # tally ids
    ballots: dict[str, Ballots] = field(default_factory=dict)  # tally id -> ballots
    last_progress: float = -1e18


class MemoryAudienceCounter(AudienceCounter):
    """For one process (embedded mode). Rooms are dropped with the session (``delete``)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._rooms: dict[str, _Room] = {}

    def _room(self, code: str) -> _Room:
        room = self._rooms.get(code)
        if room is None:
            room = self._rooms[code] = _Room()
        return room

    async def add_member(self, code: str, token_hash: str, member: str, ttl: float) -> None:
        self._room(code).tokens[token_hash] = member

    async def member(self, code: str, token_hash: str) -> tuple[str, bool] | None:
        room = self._rooms.get(code)
        found = room.tokens.get(token_hash) if room else None
        return None if found is None or room is None else (found, found in room.kicked)

    async def kick(self, code: str, member: str) -> bool:
        room = self._room(code)
        if member not in room.tokens.values():
            return False
        room.kicked.add(member)
        return True

    async def set_enabled(self, code: str, enabled: bool) -> None:
        self._room(code).enabled = enabled

    async def watch(self, code: str, delta: int) -> None:
        room = self._room(code)
        room.watching = max(0, room.watching + delta)

    async def vote(self, code: str, member: str, name: str, choice: str) -> bool:
        room = self._room(code)
        if not room.enabled:
            raise InvalidAction("the host has turned the audience off", code="audience_off")
        if member in room.kicked:
            raise InvalidAction("the host removed you from the audience", code="audience_kicked")
        tally = room.open.get(name)
        if tally is not None and tally.id in room.frozen:
            tally = None
        ballots = room.ballots.setdefault(tally.id, {}) if tally else {}
        return cast_vote(tally, ballots, member, choice)

    async def open(self, code: str, tally: OpenTally, ttl: float) -> bool:
        room = self._room(code)
        current = room.open.get(tally.name)
        if tally.id in room.frozen or (current and _version(current.id) >= _version(tally.id)):
            return False
        room.open[tally.name] = tally
        return True

    async def freeze(self, code: str, tallies: Iterable[OpenTally]) -> dict[str, dict[str, int]]:
        room = self._room(code)
        out = {}
        for tally in tallies:
            room.frozen.add(tally.id)
            out[tally.id] = count_ballots(tally, room.ballots.get(tally.id, {}))
        return out

    async def close(self, code: str, tallies: Iterable[OpenTally]) -> None:
        room = self._rooms.get(code)
        if room is None:
            return
        for tally in tallies:
            if (current := room.open.get(tally.name)) is not None and current.id == tally.id:
                del room.open[tally.name]
            room.ballots.pop(tally.id, None)

    async def ballots(self, code: str, member: str) -> dict[str, str | int | None]:
        room = self._rooms.get(code)
        out: dict[str, str | int | None] = {}
        for name, tally in (room.open if room else {}).items():
            if room is None or tally.id in room.frozen:
                continue
            mine = room.ballots.get(tally.id, {}).get(member, [])
            out[name] = (mine[0] if mine else None) if tally.cap <= 1 else len(mine)
        return out

    async def progress(self, code: str, interval: float) -> Progress | None:
        room = self._rooms.get(code)
        if room is None:
            return None
        now = self._clock()
        if now - room.last_progress < interval:
            return None
        room.last_progress = now
        tallies = []
        for name, tally in sorted(room.open.items()):
            if tally.id in room.frozen:  # its count is final and goes out with the phase
                continue
            ballots = room.ballots.get(tally.id, {})
            counts = count_ballots(tally, ballots)
            tallies.append(
                TallyProgress(
                    name=name,
                    id=tally.id,
                    votes=sum(counts.values()),
                    counts=counts if tally.live else None,
                )
            )
        return Progress(members=len(room.tokens), watching=room.watching, tallies=tallies)

    async def stats(self, code: str) -> tuple[int, int, bool]:
        room = self._rooms.get(code)
        if room is None:
            return 0, 0, True
        return len(room.tokens), room.watching, room.enabled

    async def delete(self, code: str) -> None:
        self._rooms.pop(code, None)
