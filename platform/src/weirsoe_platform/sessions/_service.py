"""The session service: the one path every state change takes.

load → runtime.apply (the cartridge's pure driver) → compare-and-set on version → publish.
Player actions, deadlines, joins, presence and host controls all go through ``_transition``.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol, cast, overload

import msgspec
import pluggy

from weirsoe_sdk import (
    EVERYONE,
    Cartridge,
    DeadlineReached,
    Delivery,
    Discovery,
    Event,
    HostControl,
    PlayerAction,
    PlayerLeft,
    PlayerReconnected,
    Refused,
    Runtime,
    Step,
    Table,
    TallyCountsNeeded,
    Viewer,
    encode_message,
    event_name,
    to_players,
)

from .._eager import start_eagerly
from ..config import PlatformSettings
from ._cache import DecodedCache, RecordCache
from ._codes import hash_token, new_code, new_player_id, new_token, normalize_code
from ._counter import AudienceCounter, MemoryAudienceCounter
from ._errors import Conflict, Forbidden, SessionNotFound, StoreUnavailable, Unauthorized
from ._records import SessionRecord
from ._store import DeadlineChange, SessionStore

__all__ = [
    "PLATFORM_ONLY_EVENTS",
    "DeadlineSink",
    "Publisher",
    "SessionKicked",
    "SessionLocked",
    "SessionService",
    "SessionVersion",
    "channel_names",
]

log = logging.getLogger("weirsoe.sessions")
_CAS_ATTEMPTS = 16
_BATCH_LIMIT = 64  # inputs of one room in one compare-and-set, at most

Apply = Callable[[SessionRecord, Table[Any], Runtime[Any], float, Any], Step[Any]]
_Outcome = tuple[SessionRecord, Step[Any]] | Exception
_Waiter = tuple[Apply, "asyncio.Future[tuple[SessionRecord, Step[Any]]]"]
Acked = Callable[[Step[Any]], None]


class _Told:
    """An input whose caller is told of its commit (``acked(step)``) where the store delivers
    the commit's messages the moment it knows it won (Redis: as the reply is read), instead
    of a turn of the event loop later, when the committing task resumes (:meth:`act`)."""

    __slots__ = ("acked", "apply")

    def __init__(self, apply: Apply, acked: Acked) -> None:
        self.apply = apply
        self.acked = acked

    def __call__(
        self, record: SessionRecord, table: Table[Any], runtime: Runtime[Any], now: float, c: Any
    ) -> Step[Any]:
        return self.apply(record, table, runtime, now, c)


class SessionVersion(Event, tag="session.version", frozen=True):
    """Sent to the room when a transition had no event for everyone, so every client sees
    every version and can tell a real gap from a private message it was not meant to get."""


class SessionLocked(Event, tag="session.locked", frozen=True):
    """The host locked or unlocked the room: while locked, nobody new can join."""

    locked: bool


class SessionKicked(Event, tag="session.kicked", frozen=True):
    """To the kicked player only: the host removed you; your token no longer works."""

    player_id: str


PLATFORM_ONLY_EVENTS: tuple[type[Event], ...] = (SessionVersion, SessionLocked, SessionKicked)


class Publisher(Protocol):
    async def publish(self, messages: list[tuple[bytes, list[str]]]) -> None: ...


class DeliverCommitted(Protocol):
    """A publisher may also take a commit's messages that the store published itself (Redis),
    to deliver them to this process's sockets at once, and call ``then`` if they went out
    (``Hub.deliver_committed``)."""

    def __call__(
        self,
        code: str,
        expected: int,
        messages: list[tuple[bytes, list[str]]],
        then: Callable[[], None] | None = None,
        /,
    ) -> bool: ...


class Quieting(Protocol):
    """A publisher of a store that publishes may vouch that this process listens to room
    ``code`` and will deliver a commit from ``expected`` itself (``Hub.quiet``): the token
    goes with the compare-and-set, and is handed back to ``quiet_done`` after it."""

    def quiet(self, code: str, expected: int, /) -> str | None: ...
    def quiet_done(self, code: str, /, *, failed: bool = False) -> None: ...


class DeliverLocal(Protocol):
    """A publisher may deliver a commit's messages to this process's sockets itself, at
    once, and call ``then`` after them (``Hub.deliver_local``: embedded, where there is no
    other process). Returns False where it cannot (its messages go through Redis): then
    they are published as usual, and ``then`` is not called."""

    def __call__(
        self, messages: list[tuple[bytes, list[str]]], then: Callable[[], None] | None = None, /
    ) -> bool: ...


# ``holds(code, version, since)``: True if the last version this process's sockets of room
# ``code`` were sent is ``version``, of a subscription that began before ``since``
# (``time.monotonic_ns``) and lost nothing since (``Hub.holds``).
Holds = Callable[[str, int, int], bool]


class DeadlineSink(Protocol):
    async def schedule(self, code: str, key: str, serial: int, at: float) -> None: ...
    async def cancel(self, code: str) -> None: ...
    def sooner(self, at: float) -> None:
        """The session store's compare-and-set set a deadline due at ``at`` in this process
        (stores that schedule deadlines themselves; see ``SessionStore.schedules``)."""
        ...


def channel_names(
    code: str, audience_kind: str, players: tuple[str, ...] = (), *, prefix: str = ""
) -> list[str]:
    """The channels an audience maps to: one per room, host, audience and player.

    Names are upper-case because Litestar's Redis backends upper-case channel names; making
    them so ourselves keeps both backends identical (player ids are hex, so this is lossless).
    """
    if audience_kind == "everyone":
        names = [f"ROOM:{code}"]
    elif audience_kind == "host":
        names = [f"HOST:{code}"]
    elif audience_kind == "audience":
        names = [f"AUDIENCE:{code}"]
    else:
        names = [f"PLAYER:{code}:{pid}" for pid in players]
    return [(prefix + name).upper() for name in names]


class SessionService:
    def __init__(
        self,
        *,
        cartridges: Discovery,
        store: SessionStore,
        publisher: Publisher | None = None,
        deadlines: DeadlineSink,
        settings: PlatformSettings,
        plugins: pluggy.PluginManager | None = None,
        clock: Callable[[], float] = time.time,
        channel_prefix: str = "",
        counter: AudienceCounter | None = None,
    ) -> None:
        if publisher is None and not store.publishes:
            raise TypeError(f"{type(store).__name__} does not publish: pass a publisher")
        self.channel_prefix = channel_prefix
        self.counter = counter or MemoryAudienceCounter()
        self.audience: Any = None  # the AudienceDesk, set by the app (it needs the service)
        self.cartridges = cartridges
        self.store = store
        self.publisher = publisher
        self._deliver_committed: DeliverCommitted | None = getattr(
            publisher, "deliver_committed", None
        )
        self._deliver_local: DeliverLocal | None = getattr(publisher, "deliver_local", None)
        # The publisher's word that the last version its sockets of a room got is a given one
        # (``Hub.holds``), for snapshots that need nothing newer (:meth:`read`).
        self._holds: Holds | None = getattr(publisher, "holds", None)
        # Where the store publishes, the publisher's proof that this process listens to a
        # room and delivers a commit itself (``Hub.quiet``): the commit is then published
        # only for other processes (docs/performance.md, section 82).
        self._quieting = (
            cast("Quieting", publisher) if store.publishes and hasattr(publisher, "quiet") else None
        )
        self.deadlines = deadlines
        self.settings = settings
        self.plugins = plugins
        self.clock = clock
        self.runtimes: dict[str, Runtime[Any]] = {
            slug: Runtime(c) for slug, c in cartridges.cartridges.items()
        }
        self.metrics: Any = None  # weirsoe_platform.metrics.Metrics, set by the app
        self._record_decoder = msgspec.msgpack.Decoder(SessionRecord)
        # Only where a load is a network round trip (Redis); in memory it is a dict lookup.
        self.cache = RecordCache(enabled=store.round_trips)
        self.decoded = DecodedCache()  # read-only paths: snapshots, sign-ins, room info
        self._encoder = msgspec.msgpack.Encoder()
        # Rooms with a transition in flight in this process, and the inputs waiting for it.
        self._waiting: dict[str, list[_Waiter]] = {}
        self._batches: set[asyncio.Task[None]] = set()

    # -- reading ---------------------------------------------------------------------------
    def channels(self, code: str, kind: str, players: tuple[str, ...] = ()) -> list[str]:
        return channel_names(code, kind, players, prefix=self.channel_prefix)

    def viewer_channels(self, code: str, viewer: Viewer) -> list[str]:
        """The room channel plus the viewer's private one."""
        if viewer.role == "player" and viewer.player_id is not None:
            private = self.channels(code, "players", (viewer.player_id,))
        else:
            private = self.channels(code, viewer.role)
        return self.channels(code, "everyone") + private

    def cartridge(self, slug: str) -> Cartridge:
        return self.cartridges.get(slug)

    def _to_change(self, code: str, data: bytes) -> tuple[SessionRecord, Table[Any]]:
        """The record and table stored as ``data``, for a transition to change: the decoded
        copy in :class:`DecodedCache` when no reader holds it (it leaves the cache; a room's
        transitions mostly find the table they committed last), else a fresh decode."""
        return self.decoded.take(code, data) or self._decode(data)

    def _decode(self, data: bytes) -> tuple[SessionRecord, Table[Any]]:
        record = self._record_decoder.decode(data)
        return record, self.runtimes[record.cartridge].decode(record.table)

    async def load(self, code: str) -> tuple[SessionRecord, Table[Any]]:
        """The stored record, freshly decoded: the caller may change it (transitions do)."""
        return self._decode(await self._load_bytes(normalize_code(code)))

    async def read(self, code: str, *, seen: bool = False) -> tuple[SessionRecord, Table[Any]]:
        """The stored record for reading only: shared with other readers of the same version
        (see :class:`DecodedCache`), so it must not be changed.

        ``seen``: the last version this process's sockets of the room were sent is new enough
        (a snapshot for an open socket: whatever was committed after it reaches the socket
        after the snapshot). Where the publisher vouches that the table held here is that
        version (``Hub.holds``), it is read without asking the store."""
        code = normalize_code(code)
        known = self.decoded.known(code) if self.store.round_trips else None
        if known is None:
            data = await self._load_bytes(code)
        else:
            version, stamp, stored = known
            if seen and self._holds is not None and self._holds(code, version, stored):
                hit = self.decoded.still(code, version, stamp)
                if hit is not None:
                    self.decoded.seen += 1
                    return hit
            # The store confirms the version held here instead of sending the record.
            found = await self._load_bytes(code, (version, stamp))
            if found is True:
                hit = self.decoded.still(code, version, stamp)
                if hit is not None:
                    self.decoded.unchanged += 1
                    return hit
                found = await self._load_bytes(code)  # it left the cache meanwhile
            data = found
        hit = self.decoded.get(code, data)
        if hit is not None:
            return hit
        record, table = self._decode(data)
        self.decoded.put(code, data, record, table)
        return record, table

    @overload
    async def _load_bytes(self, code: str) -> bytes: ...
    @overload
    async def _load_bytes(self, code: str, known: tuple[int, str]) -> bytes | Literal[True]: ...
    async def _load_bytes(
        self, code: str, known: tuple[int, str] | None = None
    ) -> bytes | Literal[True]:
        """The stored bytes of room ``code`` (already normalised); with ``known`` (a version
        and stamp), True instead while the stored record is still that one."""
        found: tuple[int, bytes] | Literal[True] | None
        try:
            if known is None:
                found = await self.store.load(code)
            else:
                found = await self.store.load_unless(code, *known)
        except ConnectionError as exc:
            self._store_error()
            raise StoreUnavailable(f"state store unavailable: {exc}") from None
        if found is None:
            self.decoded.forget(code)
            raise SessionNotFound(f"no room with code {code!r}")
        return True if found is True else found[1]

    async def info(self, code: str) -> dict[str, Any]:
        record, table = await self.read(code)
        info = self.cartridge(record.cartridge).info
        return {
            "code": record.code,
            "cartridge": record.cartridge,
            "title": info.title,
            "status": table.status,
            "version": table.version,
            "min_players": info.min_players,
            "max_players": info.max_players,
            "settings": table.settings,
            "players": [
                {"id": s.id, "name": s.name, "connected": s.connected} for s in table.players
            ],
        }

    async def authenticate(self, code: str, role: str, token: str | None) -> Viewer:
        record, _ = await self.read(code)
        if role == "audience":
            return Viewer("audience")
        if not token:
            raise Unauthorized("a token is required")
        hashed = hash_token(token)
        if role == "host":
            if hmac.compare_digest(hashed, record.host_token):
                return Viewer("host")
            raise Forbidden("that is not this room's host token")
        if role == "player":
            player_id = record.tokens.get(hashed)
            if player_id is not None:
                return Viewer("player", player_id)
            raise Forbidden("that token belongs to no player in this room")
        raise Unauthorized(f"unknown role {role!r}")

    async def snapshot(
        self, code: str, viewer: Viewer, member: str | None = None, *, seen: bool = False
    ) -> bytes:
        """The viewer's snapshot of room ``code``. Everything it awaits comes before it reads
        the room, so it never holds the table across an await, and the room's next transition
        can take that table over instead of decoding a copy (:meth:`_to_change`).

        ``seen``: for a socket of this process that is open already (a ``sync``), the version
        its room's sockets were sent last is new enough (:meth:`read`)."""
        code = normalize_code(code)
        audience = self.audience
        numbers = None if audience is None else await audience.snapshot_numbers(code, member)
        record, table = await self.read(code, seen=seen)
        if seen and viewer.player_id is not None and viewer.player_id not in record.tokens.values():
            record, table = await self.read(code)  # a player newer than that version
        runtime = self.runtimes[record.cartridge]
        now = self.clock()
        snap = runtime.snapshot(table, viewer, now, record.code)
        if numbers is not None:
            part = audience.snapshot_part(table, member, numbers, enabled=not record.audience_off)
            snap = msgspec.structs.replace(snap, audience=part)
        deadline = table.deadline.at if table.deadline else None
        return encode_message(snap, version=table.version, server_time=now, deadline=deadline)

    async def count(self) -> int:
        return await self.store.count()

    # -- creating and joining --------------------------------------------------------------
    async def create(
        self, cartridge: str, settings: Any = None, *, seed: int | None = None
    ) -> tuple[str, str]:
        """A new room in the lobby. Returns ``(code, host_token)``."""
        runtime = self.runtimes.get(cartridge)
        if runtime is None:
            self.cartridges.get(cartridge)  # raises the "unknown cartridge" error
            raise AssertionError("unreachable")
        if seed is None:
            seed = self.settings.room_seed  # testing only: the conformance kit's replays
        if seed is None:
            seed = secrets.randbits(64)
        table = runtime.new_table(seed=seed, settings=settings, now=self.clock())
        host_token = new_token()
        for _ in range(64):
            code = new_code()
            record = SessionRecord(
                code=code,
                cartridge=cartridge,
                version=table.version,
                table=runtime.encode(table),
                host_token=hash_token(host_token),
            )
            data = self._encoder.encode(record)
            if await self.store.create(
                code, data, table.version, self.settings.lobby_ttl, stamp=record.host_token
            ):
                return code, host_token
        raise Conflict("no free room code, try again", code="no_free_code")

    async def join(self, code: str, name: str, token: str | None = None) -> tuple[str, str, bool]:
        """Join as a new player, or rejoin with a known token. ``(player_id, token, rejoined)``."""
        if token:
            record, _ = await self.read(code)
            player_id = record.tokens.get(hash_token(token))
            if player_id is not None:
                return player_id, token, True
        new = new_token()
        player_id = new_player_id()

        def apply(
            record: SessionRecord, table: Table[Any], runtime: Runtime[Any], now: float, _: Any
        ) -> Step[Any]:
            if record.locked:
                raise Refused("the host has locked this room", code="room_locked")
            step = runtime.join(table, player_id, name, now)
            record.tokens[hash_token(new)] = player_id
            return step

        await self._transition(code, apply)
        return player_id, new, False

    # -- inputs ----------------------------------------------------------------------------
    async def control(
        self,
        code: str,
        host_token: str | None,
        action: str,
        settings: dict[str, Any] | None = None,
    ) -> Table[Any]:
        """A host control through the one path; ``again`` (with optional setting changes)
        starts another game in the same room once the game is over."""
        viewer = await self.authenticate(code, "host", host_token)
        assert viewer.role == "host"
        inp = HostControl(action=action, settings=settings)  # type: ignore[arg-type]
        _, step = await self._transition(code, self._input(inp))
        return step.table

    async def lock(self, code: str, host_token: str | None, locked: bool) -> Table[Any]:
        """Lock (or unlock) the room against new players. Known tokens may still rejoin."""
        await self.authenticate(code, "host", host_token)

        def apply(
            record: SessionRecord, table: Table[Any], runtime: Runtime[Any], now: float, _: Any
        ) -> Step[Any]:
            if record.locked == locked:
                return Step(table)
            record.locked = locked
            return runtime.announce(table, now, Delivery(EVERYONE, SessionLocked(locked=locked)))

        _, step = await self._transition(code, apply)
        return step.table

    async def kick(self, code: str, host_token: str | None, player_id: str) -> Table[Any]:
        """Remove a player: their token is revoked at once and their sockets are closed."""
        await self.authenticate(code, "host", host_token)

        def apply(
            record: SessionRecord, table: Table[Any], runtime: Runtime[Any], now: float, counts: Any
        ) -> Step[Any]:
            step = runtime.remove(table, player_id, now, counts=counts)
            record.tokens = {h: p for h, p in record.tokens.items() if p != player_id}
            step.deliveries.append(
                Delivery(to_players(player_id), SessionKicked(player_id=player_id))
            )
            return step

        _, step = await self._transition(code, apply)
        return step.table

    async def act(
        self,
        code: str,
        player_id: str,
        action: Any,
        msg_id: str | None = None,
        *,
        acked: Acked | None = None,
    ) -> Step[Any]:
        """Apply a player's action; returns its step. ``acked(step)``: called once the action
        is committed, if it changed the room and its messages went to this process's sockets
        at once: on Redis where the reply is read (``Hub.deliver_committed``), embedded as
        the commit is published (``Hub.deliver_local``). The caller answers its client
        there, right after the commit's own events, and a socket gets both in one write
        (on Redis also a turn of the event loop before this call returns). Not called
        otherwise: the caller answers on return."""
        inp = PlayerAction(player_id=player_id, action=action, id=msg_id)
        apply = self._input(inp)
        if acked is not None and (
            self._deliver_committed is not None
            if self.store.publishes
            else self._deliver_local is not None
        ):
            apply = _Told(apply, acked)
        _, step = await self._transition(code, apply)
        return step

    async def fire(self, code: str, key: str, serial: int, at: float | None = None) -> bool:
        """A deadline fired. Late or duplicate firings change nothing and return False.

        ``at`` is when it was due: the lateness of firings that change state goes to the
        ``weirsoe_timer_lateness`` metric (no buffer here; bench/timers.py wraps ``fire``)."""
        try:
            _, step = await self._transition(
                code, self._input(DeadlineReached(key=key, serial=serial))
            )
        except SessionNotFound:
            return False
        if step.changed and at is not None and self.metrics is not None:
            self.metrics.lateness.observe(max(0.0, self.clock() - at))
        return step.changed

    async def presence(self, code: str, player_id: str, connected: bool) -> None:
        inp = (
            PlayerReconnected(player_id=player_id) if connected else PlayerLeft(player_id=player_id)
        )
        try:
            await self._transition(code, self._input(inp))
        except SessionNotFound:
            pass
        except StoreUnavailable:
            # Presence is best effort: the socket itself still works, and the next connect
            # or disconnect sets the flag right.
            log.warning("room %s: presence of %s not recorded (store unavailable)", code, player_id)

    @staticmethod
    def _input(inp: Any) -> Callable[..., Step[Any]]:
        def apply(
            record: SessionRecord, table: Table[Any], runtime: Runtime[Any], now: float, counts: Any
        ) -> Step[Any]:
            return runtime.apply(table, inp, now, counts=counts, stored=record.table)

        return apply

    # -- the one path ----------------------------------------------------------------------
    async def _transition(self, code: str, apply: Apply) -> tuple[SessionRecord, Step[Any]]:
        """Apply one input to room ``code`` and commit it.

        While a transition of the same room is in flight in this process, the input waits
        and goes into the next compare-and-set together with every other input that arrived
        meanwhile (:meth:`_commit`). Racing each other instead, all but one would lose the
        compare-and-set and load again; on Redis each loss is a round trip."""
        code = normalize_code(code)
        waiting = self._waiting.get(code)
        if waiting is not None:
            future: asyncio.Future[tuple[SessionRecord, Step[Any]]]
            future = asyncio.get_running_loop().create_future()
            waiting.append((apply, future))
            return await future
        self._waiting[code] = []
        try:
            (outcome,) = await self._commit(code, [apply])
        finally:
            self._next_batch(code)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _next_batch(self, code: str) -> None:
        """The room's transition is done: commit what waited for it, in one batch, started
        on the spot (``_eager.start_eagerly``): a task would start it a turn of the loop
        later, and on a busy loop each turn is milliseconds that every input in the batch
        waits (docs/performance.md, section 75)."""
        waiting = [w for w in self._waiting.pop(code) if not w[1].done()]  # not cancelled
        if not waiting:
            return
        batch, self._waiting[code] = waiting[:_BATCH_LIMIT], waiting[_BATCH_LIMIT:]
        task = start_eagerly(self._run_batch(code, batch))
        if task is not None:
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _run_batch(self, code: str, batch: list[_Waiter]) -> None:
        try:
            outcomes = await self._commit(code, [apply for apply, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        except BaseException:  # cancelled (the loop is closing): so is everything waiting
            for _, future in batch + self._waiting.pop(code, []):
                future.cancel()
            raise
        else:
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
        self._next_batch(code)

    async def _commit(self, code: str, applies: list[Apply]) -> list[_Outcome]:
        """Apply ``applies`` in order to the record of room ``code`` (normalised) and commit
        them with one compare-and-set: load → runtime.apply → compare-and-set on version →
        publish. Returns each input's outcome: ``(record, step)``, or the error that refused it.

        Each input is judged on the state the inputs before it left, gets versions of its
        own and its own messages, and sees its own copy of the table, exactly as if they had
        been committed one by one; a refused or no-op input leaves nothing behind. Only a
        committed batch is final: if the compare-and-set loses, every input is judged again
        on the newer record, refusals included."""
        counts: dict[str, dict[str, int]] = {}
        # The record this process committed last for the room, if any: only a guess. The
        # compare-and-set checks its version, and a stale guess costs one failed
        # compare-and-set and a load.
        data = self.cache.get(code)
        cached = None if data is None else self._to_change(code, data)
        # The stored bytes to judge the batch on again: once its tallies' counts are frozen,
        # or as the store sent them instead of confirming a cached copy.
        stored: bytes | None = None
        last = len(applies) - 1
        for _ in range(_CAS_ATTEMPTS):
            guess = cached is not None
            if cached is not None:
                record, table = cached
                cached = None
            elif stored is not None:
                data, stored = stored, None
                record, table = self._decode(data)
            else:
                data = await self._load_bytes(code)
                record, table = self._to_change(code, data)
            runtime = self.runtimes[record.cartridge]
            expected = table.version
            stamp = record.host_token
            old_deadline = table.deadline
            now = self.clock()
            outcomes: list[_Outcome] = []
            steps: list[Step[Any]] = []
            messages: list[tuple[bytes, list[str]]] = []
            for index, apply in enumerate(applies):
                before = table.version
                try:
                    step = apply(record, table, runtime, now, counts)
                except Exception as exc:
                    if isinstance(exc, TallyCountsNeeded):
                        # The input ends tallies' phases: freeze their counters (no later
                        # vote counts) and run the batch again with the final counts, which
                        # reach the driver first; on the same bytes, without loading them
                        # (docs/performance.md, §80). Only once the stored record asks for
                        # them: a cached copy must be confirmed as that record first, else
                        # the stored one, which the store sent instead, is judged.
                        found = await self._load_bytes(code, (expected, stamp)) if guess else True
                        if found is not True:
                            stored = found
                            break
                        counts.update(await self.counter.freeze(record.code, exc.tallies))
                        stored = data
                        break
                    if guess:  # judged on the cached copy: judge again on the stored record
                        break
                    outcomes.append(exc)
                    if index < last:  # the refused input may have changed ``table``
                        table = runtime.decode(record.table)
                    continue
                if not step.changed:
                    if guess:  # a no-op on the cached copy may be stale: ask the store
                        break
                    outcomes.append((record, step))
                    if index < last:
                        table = runtime.decode(record.table)
                    continue
                record.version = step.table.version
                record.status = step.table.status
                record.table = runtime.encode(step.table)
                messages += self._messages(record.code, step, now, before)
                steps.append(step)
                outcomes.append((record, step))
                if index < last:  # the next input gets a copy of its own
                    table = runtime.decode(record.table)
            if len(outcomes) < len(applies):  # broke off: judge again on a loaded record
                continue
            if not steps:
                return outcomes
            data = self._encoder.encode(record)
            atomic = self.store.publishes
            change = self._deadline_change(steps[-1].table, old_deadline)
            # What a won compare-and-set makes known here, done by the store the moment it
            # knows (on Redis, as the reply is read: a loop turn before this task resumes).
            committed = functools.partial(
                self._committed,
                record,
                data,
                steps[-1].table,
                expected,
                messages,
                atomic,
                applies,
                outcomes,
            )
            quieting = self._quieting
            quiet = None if quieting is None else quieting.quiet(record.code, expected)
            failed = True
            try:
                won = await self.store.compare_and_set(
                    record.code,
                    expected,
                    record.version,
                    data,
                    self._ttl(record.status),
                    messages if atomic else None,
                    change if self.store.schedules else None,
                    committed=committed,
                    quiet=quiet,
                )
                failed = False
            except ConnectionError as exc:
                self._store_error()
                raise StoreUnavailable(f"state store unavailable: {exc}") from None
            finally:
                if quieting is not None and quiet is not None:  # failed: Redis may still run it
                    quieting.quiet_done(record.code, failed=failed)
            if self.metrics is not None:
                if won:
                    self.metrics.transitions_of(record.cartridge).inc(len(steps))
                else:
                    self.metrics.cas_conflicts.inc()
            if not won:
                self.cache.stale += guess
                self.cache.forget(record.code)
                continue
            self.cache.hits += guess
            if self.publisher is not None and not atomic:
                local = self._deliver_local
                if local is None or not local(
                    messages, self._answers(record.code, applies, outcomes)
                ):
                    await self.publisher.publish(messages)
            await self._after_commit(record, steps, change)
            return outcomes
        if self.metrics is not None:
            self.metrics.cas_exhausted.inc()
        raise Conflict("the room is busy, please retry")

    def _committed(
        self,
        record: SessionRecord,
        data: bytes,
        table: Table[Any],
        expected: int,
        messages: list[tuple[bytes, list[str]]],
        atomic: bool,
        applies: list[Apply],
        outcomes: list[_Outcome],
    ) -> None:
        """Room ``record.code`` is now at ``record.version``, stored as ``data``: remember it
        for the room's next transition, share its final table (each input ran on its own
        copy) with snapshots of this version, and where the store published ``messages``
        itself, deliver them to this process's sockets without waiting for Redis's echo;
        if they went out, tell the callers that asked (:meth:`act`) of their changes."""
        self.cache.remember(record.code, data, record.status)
        self.decoded.put(record.code, data, record, table)
        if not atomic or self._deliver_committed is None:
            return
        # The answers go with the commit's messages: a socket gets both in one write.
        self._deliver_committed(
            record.code, expected, messages, self._answers(record.code, applies, outcomes)
        )

    @staticmethod
    def _answers(
        code: str, applies: list[Apply], outcomes: list[_Outcome]
    ) -> Callable[[], None] | None:
        """What tells the callers that asked (:meth:`act`) of their committed changes, to be
        called once the commit's messages went out; None if nobody asked."""
        told = [
            (apply, outcome[1])
            for apply, outcome in zip(applies, outcomes, strict=True)
            if isinstance(apply, _Told)
            and not isinstance(outcome, Exception)
            and outcome[1].changed
        ]
        if not told:
            return None

        def answer() -> None:
            for apply, step in told:
                try:
                    apply.acked(step)
                except Exception:  # the caller's bug: never the commit's
                    log.exception("room %s: an acknowledgement failed", code)

        return answer

    def _store_error(self) -> None:
        if self.metrics is not None:
            self.metrics.redis_errors.labels("store").inc()

    def _ttl(self, status: str) -> float:
        if status == "lobby":
            return self.settings.lobby_ttl
        if status == "over":
            return self.settings.grace_seconds
        return self.settings.game_ttl

    def _messages(
        self, code: str, step: Step[Any], now: float, expected: int
    ) -> list[tuple[bytes, list[str]]]:
        """Every delivery encoded once, with its channels. If nothing went to everyone, the
        room still gets ``session.version``, so every client sees every version (a step that
        took several versions, such as tallies handed over before a phase's end, announces
        each one it skipped)."""
        table = step.table
        deadline = table.deadline.at if table.deadline else None
        messages: list[tuple[bytes, list[str]]] = []
        for skipped in range(expected + 1, table.version):
            data = encode_message(
                SessionVersion(), version=skipped, server_time=now, deadline=deadline
            )
            messages.append((data, self.channels(code, "everyone")))
        to_room = False
        for delivery in step.deliveries:
            audience = delivery.audience
            to_room = to_room or audience == EVERYONE
            data = encode_message(
                delivery.event, version=table.version, server_time=now, deadline=deadline
            )
            messages.append((data, self.channels(code, audience.kind, audience.players)))
        if not to_room:
            data = encode_message(
                SessionVersion(), version=table.version, server_time=now, deadline=deadline
            )
            messages.append((data, self.channels(code, "everyone")))
        return messages

    @staticmethod
    def _deadline_change(table: Table[Any], old: Any) -> DeadlineChange:
        if table.deadline == old:
            return None
        if table.deadline is None:
            return "clear"
        d = table.deadline
        return (d.key, d.serial, d.at)

    async def _after_commit(
        self, record: SessionRecord, steps: list[Step[Any]], change: DeadlineChange
    ) -> None:
        """After a commit of ``steps`` (in version order) that changed the running deadline
        by ``change``: timers, tallies, tracking."""
        table = steps[-1].table
        code = record.code
        if table.status == "closed":
            await self.deadlines.cancel(code)
            await self.store.delete(code)
            await self.counter.delete(code)
        elif not self.store.schedules:
            if change == "clear":
                await self.deadlines.cancel(code)
            elif change is not None:
                await self.deadlines.schedule(code, *change)
        elif change is not None and change != "clear":
            # The compare-and-set wrote it; a timer pump in this process may sleep past it.
            self.deadlines.sooner(change[2])
        if table.status != "closed":
            for step in steps:
                await self._tallies(code, step)
        if table.status == "over":
            try:  # the audience's keys go with the room, after the same grace period
                await self.counter.expire(code, self._ttl("over"))
            except Exception:
                log.warning("room %s: audience keys not given the grace TTL", code, exc_info=True)
        for step in steps:
            self._track(record, step)

    async def _tallies(self, code: str, step: Step[Any]) -> None:
        """Tell the audience counter which tallies the committed step closed and opened."""
        try:
            if step.closed:
                await self.counter.close(code, step.closed)
            for tally in step.opened:
                await self.counter.open(code, tally, self._ttl(step.table.status))
        except Exception:  # the counter heals a missed opening on the first vote
            log.warning("room %s: audience counter not updated", code, exc_info=True)
        if (step.opened or step.closed) and self.audience is not None:
            self.audience.touch(code)

    async def publish_raw(self, messages: list[tuple[bytes, list[str]]]) -> None:
        """Publish messages that are no transition (audience progress)."""
        if self.publisher is not None:
            await self.publisher.publish(messages)

    def _track(self, record: SessionRecord, step: Step[Any]) -> None:
        if self.plugins is None or not self.plugins.hook.weirsoe_track_event.get_hookimpls():
            return  # nobody tracks events: not even the hook call (a few µs per transition)
        for delivery in step.deliveries:
            try:
                self.plugins.hook.weirsoe_track_event(
                    code=record.code,
                    cartridge=record.cartridge,
                    event_type=event_name(type(delivery.event)),
                    version=step.table.version,
                )
            except Exception:  # tracking must never break a game
                log.exception("weirsoe_track_event failed")
