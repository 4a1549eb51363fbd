"""The audience desk: joining, votes and progress, next to (never inside) the room's state path."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from weirsoe_sdk import EVERYONE, Delivery, InvalidAction, Refused, Runtime, Step, Table

from ..sessions._codes import hash_token, new_token, normalize_code
from ..sessions._counter import AudienceCounter
from ..sessions._errors import Forbidden, Unauthorized
from ..sessions._records import SessionRecord
from ._events import AudienceProgress, SessionAudience, TallyState

if TYPE_CHECKING:
    from ..sessions import SessionService

__all__ = ["PROGRESS_INTERVAL", "AudienceDesk"]

log = logging.getLogger("weirsoe.audience")
PROGRESS_INTERVAL = 0.5  # seconds: ``audience.tally`` at most twice a second per room
_FLUSH_EVERY = 0.1
_DIRTY_FOR = 5.0
# A snapshot's audience numbers (members, sockets watching) are at most NUMBERS_FOR old: the
# pace of ``audience.tally``, which brings every client the live numbers anyway. Asking the
# counter for every snapshot was a Redis round trip per snapshot (docs/performance.md, sections
# 37 and 38). Where the process sees the room's ``audience.tally`` frames (``Hub.progress_mark``),
# which follow every change of the numbers, they are kept until the next such frame, and at
# most NUMBERS_KEPT (for a change whose frame never came: its process died first).
NUMBERS_FOR = PROGRESS_INTERVAL
NUMBERS_KEPT = 10.0
_encoder = msgspec.json.Encoder()


class AudienceDesk:
    def __init__(
        self,
        service: SessionService,
        counter: AudienceCounter,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.service = service
        self.counter = counter
        self.clock = clock
        self._dirty: dict[str, float] = {}
        # Per room: (when asked, members, watching, progress mark), oldest first; see
        # NUMBERS_FOR.
        self._numbers: dict[str, tuple[float, int, int, int | None]] = {}
        self._mark: Callable[[str], int | None] | None = getattr(
            service.publisher, "progress_mark", None
        )
        self._changes = 0  # this process's changes of any room's numbers, so far
        self.asked = 0  # how often a snapshot asked the counter for a room's numbers

    # -- members ---------------------------------------------------------------------------
    async def join(self, code: str) -> tuple[str, str]:
        """A new audience member: ``(audience_id, token)``. Any time, even mid-game or full."""
        record, _ = await self.service.load(code)
        if record.audience_off:
            raise Refused("the host has turned the audience off", code="audience_off")
        token = new_token()
        member = "au" + new_token()[:12].lower().replace("-", "0").replace("_", "1")
        ttl = self.service._ttl(record.status)
        await self.counter.add_member(record.code, hash_token(token), member, ttl)
        self._changed(record.code)
        self.touch(record.code)
        return member, token

    async def authenticate(self, code: str, token: str) -> str:
        found = await self.counter.member(code, hash_token(token))
        if found is None:
            raise Forbidden("that token belongs to no audience member of this room")
        member, kicked = found
        if kicked:
            raise Forbidden("the host removed you from the audience")
        return member

    async def kick(self, code: str, host_token: str | None, member: str) -> None:
        await self.service.authenticate(code, "host", host_token)
        if not await self.counter.kick(code, member):
            raise Refused("no such audience member in this room", code="unknown_member")
        code = normalize_code(code)
        self._changed(code)
        self.touch(code)

    async def set_enabled(self, code: str, host_token: str | None, enabled: bool) -> Table[Any]:
        await self.service.authenticate(code, "host", host_token)

        def apply(
            record: SessionRecord, table: Table[Any], runtime: Runtime[Any], now: float, _: Any
        ) -> Step[Any]:
            if record.audience_off == (not enabled):
                return Step(table)
            record.audience_off = not enabled
            event = SessionAudience(enabled=enabled)
            return runtime.announce(table, now, Delivery(EVERYONE, event))

        record, step = await self.service._transition(code, apply)
        await self.counter.set_enabled(record.code, enabled)
        return step.table

    async def watch(self, code: str, delta: int) -> None:
        with contextlib.suppress(Exception):
            await self.counter.watch(code, delta)
        self._changed(code)
        self.touch(code)

    # -- votes -----------------------------------------------------------------------------
    async def vote(self, code: str, member: str, name: str, choice: str) -> bool:
        """Count a vote; True if it changed a count. Raises :class:`InvalidAction`."""
        try:
            changed = await self.counter.vote(code, member, name, choice)
        except InvalidAction as exc:
            if exc.code != "tally_closed" or not await self._heal(code, name):
                raise
            changed = await self.counter.vote(code, member, name, choice)
        if changed:
            self.touch(code)
        return changed

    async def _heal(self, code: str, name: str) -> bool:
        """A tally the room's state says is open but the counter does not know yet (its events
        went out with the commit, before the counter heard of it; or the process died between
        the two): open it now."""
        record, table = await self.service.load(code)
        tally = table.tallies.get(name)
        if tally is None or tally.delivered or table.status not in ("running", "paused"):
            return False
        # The state says it is open: the committing process may simply not have told the
        # counter yet (events go out with the commit). Opening is idempotent; vote again.
        await self.counter.open(record.code, tally, self.service._ttl(table.status))
        return True

    async def snapshot_numbers(self, code: str, member: str | None) -> tuple[Any, ...]:
        """The counter's part of what a snapshot adds about the audience, asked before the
        snapshot reads the room (:meth:`snapshot_part`), so that no snapshot holds a table
        across an await: ``(members, watching, ballots)``, ballots for a member. ``code`` is
        normalised already (``SessionService.snapshot``).

        Members and watching are exact after a change made through this process, and
        otherwise at most :data:`NUMBERS_FOR` old (``audience.tally`` brings the live ones at
        that pace); but where this process sees the room's ``audience.tally`` frames
        (:meth:`Hub.progress_mark`), one of which follows every change of the numbers, they
        are kept until the next such frame (and at most :data:`NUMBERS_KEPT`). A member's
        ballots are always asked for."""
        now = time.monotonic()
        numbers = self._numbers.get(code)
        mark = None if self._mark is None else self._mark(code)
        if numbers is None or not self._fresh(numbers, mark, now):
            changes = self._changes
            self.asked += 1
            members, watching, _ = await self.counter.stats(code)
            numbers = (now, members, watching, mark)
            if changes == self._changes:  # nothing changed here while it was asked for
                self._numbers.pop(code, None)
                self._numbers[code] = numbers  # last: the dict stays oldest first
                self._prune(now)
        ballots = None if member is None else await self.counter.ballots(code, member)
        return numbers[1], numbers[2], ballots

    @staticmethod
    def _fresh(numbers: tuple[float, int, int, int | None], mark: int | None, now: float) -> bool:
        """Numbers asked at ``numbers[0]`` are kept NUMBERS_FOR; while the room's progress mark
        is still the one read before they were asked for, NUMBERS_KEPT."""
        kept = NUMBERS_KEPT if mark is not None and mark == numbers[3] else NUMBERS_FOR
        return now - numbers[0] < kept

    def _changed(self, code: str) -> None:
        """This process changed room ``code``'s numbers: its next snapshot asks again."""
        self._changes += 1
        self._numbers.pop(normalize_code(code), None)

    def _prune(self, now: float) -> None:
        numbers = self._numbers
        while numbers:
            code = next(iter(numbers))
            if now - numbers[code][0] < NUMBERS_KEPT:
                return
            del numbers[code]

    @staticmethod
    def snapshot_part(
        table: Table[Any], member: str | None, numbers: tuple[Any, ...], *, enabled: bool
    ) -> Any:
        """What a snapshot adds about the audience: the open tallies, and for a member its id
        and ballots; for everyone the numbers (:meth:`snapshot_numbers`) and whether the
        audience is on (``enabled``, from the record of the snapshot's own version)."""
        members, watching, ballots = numbers
        part: dict[str, Any] = {
            "enabled": enabled,
            "members": members,
            "watching": watching,
            "tallies": [
                {"name": t.name, "id": t.id, "choices": t.choices, "votes": t.cap}
                for t in table.tallies.values()
                if not t.delivered
            ],
        }
        if member is not None:
            part["id"] = member
            part["ballots"] = ballots
        return part

    # -- progress --------------------------------------------------------------------------
    def touch(self, code: str) -> None:
        self._dirty.setdefault(code, self.clock())

    async def flush(self) -> int:
        """Publish ``audience.tally`` for rooms that changed, at most once per interval per room
        (across every process). Returns how many were published.

        Every dirty room's counts are asked for at once and every event is published at once:
        on Redis two round trips for all the rooms, where one room after another cost two
        each and held the last rooms' tallies back by seconds at a few hundred rooms
        (docs/performance.md, section 42). A room is marked clean before its counts are
        asked for, so a change made meanwhile marks it again and is not lost."""
        dirty, self._dirty = self._dirty, {}
        if not dirty:
            return 0
        codes = list(dirty)
        found = await self.counter.progress_many(codes, PROGRESS_INTERVAL)
        now = self.clock()
        messages: list[tuple[bytes, list[str]]] = []
        sent: list[str] = []
        for code, progress in zip(codes, found, strict=True):
            if isinstance(progress, Exception):
                log.warning("room %s: audience progress failed", code, exc_info=progress)
                progress = None
            if progress is None:  # another call has this interval's slot: try again later
                if now - dirty[code] <= _DIRTY_FOR:
                    self._redirty(code, dirty[code])
                continue
            event = AudienceProgress(
                ts=round(now, 4),
                members=progress.members,
                watching=progress.watching,
                tallies=[TallyState(t.name, t.id, t.votes, t.counts) for t in progress.tallies],
            )
            messages.append((_encoder.encode(event), self.service.channels(code, "everyone")))
            sent.append(code)
        if not messages:
            return 0
        try:
            await self.service.publish_raw(messages)
        except Exception:
            log.warning("audience progress of %d rooms not published", len(sent), exc_info=True)
            for code in sent:  # their slots are taken: published again once they are free
                self._redirty(code, dirty[code])
            return 0
        return len(messages)

    def _redirty(self, code: str, since: float) -> None:
        """Mark ``code`` dirty again, as of ``since`` or a touch since then, if earlier."""
        self._dirty[code] = min(since, self._dirty.get(code, since))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(_FLUSH_EVERY)
            if self._dirty:
                with contextlib.suppress(Exception):
                    await self.flush()


_ = Unauthorized
