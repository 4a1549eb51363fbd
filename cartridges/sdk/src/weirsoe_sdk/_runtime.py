"""The runtime: one function from (table, input) to (table, deliveries), shared by all hosts.

The platform wraps :meth:`Runtime.apply` in load → apply → compare-and-set → publish; the test
harness calls it directly with a fake clock. Both therefore run the very same rules for lobby,
pause, deadlines, duplicates and versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Literal, TypeVar

import msgspec

from ._convert import converter
from ._driver import Context, Seat, Viewer
from ._effects import ClearDeadline, Emit, GameOver, Outcome, SetDeadline
from ._errors import InvalidAction, Refused
from ._events import (
    EVERYONE,
    Audience,
    Event,
    PlayerInfo,
    SessionClosed,
    SessionFinished,
    SessionNewGame,
    SessionPaused,
    SessionPlayerJoined,
    SessionPlayerLeft,
    SessionPlayerReconnected,
    SessionResumed,
    SessionSnapshot,
    SessionStarted,
)
from ._inputs import (
    AudienceTally,
    DeadlineReached,
    HostControl,
    Input,
    PlayerAction,
    PlayerJoined,
    PlayerLeft,
    PlayerReconnected,
)
from ._meta import Cartridge
from ._phases import PhasedDriver
from ._runtime_tally import TallyRuntime
from ._tally import OpenTally, TallyCountsNeeded
from ._text import clean_name, name_skeleton

__all__ = ["ACTION_CAP", "MAX_NAME_LENGTH", "Deadline", "Delivery", "Runtime", "Step", "Table"]

S = TypeVar("S")
Status = Literal["lobby", "running", "paused", "over", "closed"]
MAX_NAME_LENGTH = 20
_RECENT_IDS = 64
_SETTINGS_HELD = 4096  # tables' settings dicts whose decoded Struct is found by identity
ACTION_CAP = 100  # accepted actions per player per phase: a safety net against floods


class Deadline(msgspec.Struct, frozen=True):
    """The running deadline. ``serial`` is the version that set it, so old timers are stale."""

    key: str
    at: float
    serial: int


class Table(msgspec.Struct, Generic[S], kw_only=True):
    """Everything about one session's game, serialisable with msgpack."""

    cartridge: str
    seed: int
    settings: dict[str, Any]
    created_at: float
    updated_at: float = 0.0
    version: int = 0
    status: Status = "lobby"
    players: list[Seat] = msgspec.field(default_factory=list)
    state: S | None = None
    deadline: Deadline | None = None
    paused_key: str | None = None
    remaining: float | None = None
    results: Any = None
    recent_ids: dict[str, list[str]] = msgspec.field(default_factory=dict)
    action_phase: str = ""
    action_counts: dict[str, int] = msgspec.field(default_factory=dict)
    tallies: dict[str, OpenTally] = msgspec.field(default_factory=dict)

    def seat(self, player_id: str) -> Seat | None:
        for seat in self.players:
            if seat.id == player_id:
                return seat
        return None


# Delivery and Step are Structs, not dataclasses, for speed alone: every transition makes a
# Step and a Delivery per event, and a Struct is built about five times faster. Neither is
# ever encoded.
class Delivery(msgspec.Struct, frozen=True):
    audience: Audience
    event: Event


class Step(msgspec.Struct, Generic[S]):
    """The result of one input: the table after it, and what to send (with the new version)."""

    table: Table[S]
    deliveries: list[Delivery] = msgspec.field(default_factory=list)
    changed: bool = False
    duplicate: bool = False
    ctx: Context[Any] | None = None
    opened: list[OpenTally] = msgspec.field(default_factory=list)
    closed: list[OpenTally] = msgspec.field(default_factory=list)

    @property
    def context(self) -> Context[Any]:
        assert self.ctx is not None, "only a changing step has a context"
        return self.ctx


def _info(seat: Seat) -> PlayerInfo:
    return PlayerInfo(id=seat.id, name=seat.name, connected=seat.connected)


class Runtime(TallyRuntime[S]):
    """Applies inputs to tables for one cartridge."""

    def __init__(self, cartridge: Cartridge, *, action_cap: int = ACTION_CAP) -> None:
        self.cartridge = cartridge
        self.action_cap = action_cap
        self.driver = cartridge.driver
        self._encoder = msgspec.msgpack.Encoder()
        # Parametrised at run time with the cartridge's state type, so mypy cannot follow it.
        table_type: Any = Table[cartridge.state_type]  # type: ignore[name-defined]
        self._decoder = msgspec.msgpack.Decoder(table_type)
        self._phased = self.driver if isinstance(self.driver, PhasedDriver) else None
        # A phase table's own on_action would check the phase again: run the move directly.
        own_action = type(self.driver).on_action is not PhasedDriver.on_action
        self._moves = None if own_action else self._phased
        self._convert_action = converter(cartridge.action_type)
        self._settings_cache: dict[bytes, Any] = {}
        static = all(t.instance is None for t in cartridge.tallies)
        self._wanted_by_phase = {} if static else None
        # The decoded settings by the id of a table's settings dict (:meth:`settings`).
        self._settings_by_id: dict[int, tuple[dict[str, Any], Any]] = {}

    # -- storage form ----------------------------------------------------------------------
    def encode(self, table: Table[S]) -> bytes:
        return self._encoder.encode(table)

    def decode(self, data: bytes) -> Table[S]:
        table: Table[S] = self._decoder.decode(data)
        return table

    def new_table(self, *, seed: int, settings: Any = None, now: float) -> Table[S]:
        """A fresh lobby. Settings are validated here (:class:`InvalidSettings`)."""
        value = self.cartridge.load_settings(settings)
        return Table(
            cartridge=self.cartridge.slug,
            seed=seed,
            settings=msgspec.to_builtins(value),
            created_at=now,
            updated_at=now,
        )

    def settings(self, table: Table[S]) -> Any:
        """The table's settings as the cartridge's Struct (decoded once per distinct value).

        Found first by the identity of the table's settings dict, which is replaced, never
        changed in place (:meth:`_again`): with many rooms interleaved, encoding the dict
        for its key took about 2 µs a call in a server of 1,000 rooms (docs/performance.md,
        section 70). The entry holds the dict, so its id is not reused while it is kept."""
        raw = table.settings
        held = self._settings_by_id.get(id(raw))
        if held is not None and held[0] is raw:
            return held[1]
        key = self._encoder.encode(raw)
        value = self._settings_cache.get(key)
        if value is None:
            if len(self._settings_cache) > 256:
                self._settings_cache.clear()
            value = msgspec.convert(raw, self.cartridge.settings_type)
            self._settings_cache[key] = value
        if len(self._settings_by_id) >= _SETTINGS_HELD:
            self._settings_by_id.clear()
        self._settings_by_id[id(raw)] = (raw, value)
        return value

    def context(self, table: Table[S], now: float) -> Context[Any]:
        settings = self.settings(table)
        return Context._fast(now, tuple(table.players), settings, table.seed, table.version)

    # -- views -----------------------------------------------------------------------------
    def view(self, table: Table[S], viewer: Viewer, now: float) -> Any:
        if table.state is None:
            return None
        return self.driver.view(table.state, viewer, self.context(table, now))

    def snapshot(self, table: Table[S], viewer: Viewer, now: float, code: str) -> SessionSnapshot:
        return SessionSnapshot(
            code=code,
            cartridge=table.cartridge,
            status=table.status,
            role=viewer.role,
            player_id=viewer.player_id,
            players=[_info(s) for s in table.players],
            remaining=table.remaining,
            view=self.view(table, viewer, now),
            results=table.results,
        )

    # -- joining ---------------------------------------------------------------------------
    def clean_name(self, table: Table[S], name: str) -> str:
        """Check a new player's name; raise :class:`Refused` with a stable code if it is bad."""
        if not isinstance(name, str):
            raise Refused("name must be a string", code="bad_name", field="name")
        cleaned = clean_name(name)
        if not 1 <= len(cleaned) <= MAX_NAME_LENGTH or not name_skeleton(cleaned):
            raise Refused(
                f"Names have 1 to {MAX_NAME_LENGTH} characters.", code="bad_name", field="name"
            )
        # Compared by what names look like, so nobody can pose as "Anna" with a Cyrillic "а".
        skeleton = name_skeleton(cleaned)
        if any(name_skeleton(seat.name) == skeleton for seat in table.players):
            raise Refused("that name is taken in this room", code="name_taken", field="name")
        self.driver.check_name(cleaned, self.settings(table))
        return cleaned

    def join(self, table: Table[S], player_id: str, name: str, now: float) -> Step[S]:
        info = self.cartridge.info
        if table.status in ("over", "closed"):
            raise Refused("this game has ended", code="game_over")
        if table.status != "lobby" and not info.joinable_midgame:
            raise Refused("the game has already started", code="game_started")
        if len(table.players) >= info.max_players:
            raise Refused(f"the room is full ({info.max_players} players)", code="room_full")
        cleaned = self.clean_name(table, name)
        seat = Seat(id=player_id, name=cleaned, connected=False)
        table.players.append(seat)
        step = self._begin(table, now)
        step.deliveries.append(Delivery(EVERYONE, SessionPlayerJoined(player=_info(seat))))
        if table.state is not None:
            outcome = self.driver.on_join(table.state, player_id, self.context(table, now))
            self._effects(step, outcome)
        return step

    def remove(
        self,
        table: Table[S],
        player_id: str,
        now: float,
        *,
        counts: Mapping[str, Mapping[str, int]] | None = None,
    ) -> Step[S]:
        """Take a player's seat away in the lobby (a kick); after the start, mark them gone."""
        seat = table.seat(player_id)
        if seat is None:
            raise Refused("no such player in this room", code="unknown_player")
        if table.status != "lobby":
            if not seat.connected:
                return self.announce(table, now)
            return self.apply(table, PlayerLeft(player_id=player_id), now, counts=counts)
        table.players.remove(seat)
        step = self._begin(table, now)
        step.deliveries.append(Delivery(EVERYONE, SessionPlayerLeft(player_id=player_id)))
        return step

    def announce(self, table: Table[S], now: float, *deliveries: Delivery) -> Step[S]:
        """A platform-level change (lock, kick…): a new version carrying ``deliveries``."""
        step = self._begin(table, now)
        step.deliveries.extend(deliveries)
        return step

    # -- the one transition function -------------------------------------------------------
    def apply(
        self,
        table: Table[S],
        inp: Input,
        now: float,
        *,
        counts: Mapping[str, Mapping[str, int]] | None = None,
        stored: bytes | None = None,
    ) -> Step[S]:
        """Apply one input. Raises :class:`InvalidAction`/:class:`Refused` to reject it (the
        caller then discards ``table``). A stale input returns an unchanged step.

        If the input closes open tallies, their final counts (``counts``, by tally id) reach the
        driver first, as :class:`AudienceTally` inputs; without them it raises
        :class:`TallyCountsNeeded`. Either way ``step.opened``/``step.closed`` list the tallies
        the step opened and closed.

        ``stored`` is ``table`` as stored (:meth:`encode`), if the caller has it: while tallies
        are open, the input is then replayed from it instead of from a fresh encoding."""
        if not table.tallies and not self.cartridge.tallies:
            return self._apply(table, inp, now)
        pending = [t for t in table.tallies.values() if not t.delivered]
        before = None
        if pending and not isinstance(inp, AudienceTally):
            before = stored if stored is not None else self.encode(table)
        step = self._apply(table, inp, now)
        if not step.changed:
            return step
        wanted = self._wanted(step.table)
        if before is None:
            return self._sync_tallies(step, wanted)
        closing = [t for t in pending if not self._stays_open(wanted, t)]
        if not closing or step.table.status == "closed":
            return self._sync_tallies(step, wanted)
        missing = [t for t in closing if counts is None or t.id not in counts]
        if missing:
            raise TallyCountsNeeded(missing)
        assert counts is not None
        fresh = self.decode(before)
        first = self._deliver(fresh, closing, counts, now)
        second = self._apply(first.table, inp, now)
        second.deliveries[:0] = first.deliveries
        second.changed = True
        if second.ctx is None:
            second.ctx = first.ctx
        return self._sync_tallies(second)

    def _apply(self, table: Table[S], inp: Input, now: float) -> Step[S]:
        if isinstance(inp, AudienceTally):
            tally = table.tallies.get(inp.name)
            stale = tally is None or tally.id != inp.tally_id or tally.delivered
            if stale or table.status == "closed":
                return Step(table)
            assert tally is not None
            return self._deliver(table, [tally], {tally.id: inp.counts}, now)
        if isinstance(inp, HostControl):
            if inp.action == "again":
                return self._again(table, inp.settings, now)
            if inp.settings is not None:
                raise Refused("settings go only with 'again'", code="bad_control")
            return self._control(table, inp.action, now)
        if isinstance(inp, PlayerAction):
            return self._action(table, inp, now)
        if isinstance(inp, DeadlineReached):
            deadline = table.deadline
            if (
                table.status != "running"
                or deadline is None
                or (deadline.key, deadline.serial) != (inp.key, inp.serial)
            ):
                return Step(table)
            step = self._begin(table, now)
            table.deadline = None
            assert table.state is not None
            self._effects(step, self.driver.on_deadline(table.state, inp.key, step.context))
            return step
        if isinstance(inp, PlayerJoined):
            return self.join(table, inp.player_id, inp.name, now)
        if isinstance(inp, PlayerLeft | PlayerReconnected):
            return self._presence(table, inp, now)
        raise TypeError(f"unknown input {inp!r}")

    def _begin(self, table: Table[S], now: float) -> Step[S]:
        table.version += 1
        table.updated_at = now
        step: Step[S] = Step(table, changed=True)
        step.ctx = self.context(table, now)
        return step

    def _presence(
        self, table: Table[S], inp: PlayerLeft | PlayerReconnected, now: float
    ) -> Step[S]:
        seat = table.seat(inp.player_id)
        connected = isinstance(inp, PlayerReconnected)
        if seat is None or seat.connected == connected or table.status == "closed":
            return Step(table)
        seat.connected = connected
        step = self._begin(table, now)
        event: Event = (
            SessionPlayerReconnected(player_id=seat.id)
            if connected
            else SessionPlayerLeft(player_id=seat.id)
        )
        step.deliveries.append(Delivery(EVERYONE, event))
        if table.state is not None and table.status in ("running", "paused"):
            ctx = step.context
            hook = self.driver.on_reconnect if connected else self.driver.on_leave
            self._effects(step, hook(table.state, seat.id, ctx))
        return step

    def _action(self, table: Table[S], inp: PlayerAction, now: float) -> Step[S]:
        if table.seat(inp.player_id) is None:
            raise InvalidAction("you are not in this game", code="not_a_player")
        if table.status == "lobby":
            raise InvalidAction("the game has not started yet", code="not_started")
        if table.status == "paused":
            raise InvalidAction("the game is paused", code="paused")
        if table.status != "running":
            raise InvalidAction("the game is over", code="game_over")
        recent = table.recent_ids.get(inp.player_id, [])
        if inp.id is not None and inp.id in recent:
            return Step(table, duplicate=True)
        assert table.state is not None
        phase = f"{self.driver.phase(table.state)}|{table.deadline.key if table.deadline else ''}"
        if phase != table.action_phase:
            table.action_phase, table.action_counts = phase, {}
        if table.action_counts.get(inp.player_id, 0) >= self.action_cap:
            raise InvalidAction("too many actions in this phase", code="action_cap")
        try:
            action = self._convert_action(inp.action)
        except msgspec.ValidationError as exc:
            raise InvalidAction(f"malformed action: {exc}", code="bad_action") from None
        move = None
        if self._phased is not None:  # wrong_phase, before any change
            move = self._phased.check_phase(table.state, action)
        step = self._begin(table, now)
        ctx = step.context
        if self._moves is not None and move is not None:
            outcome = self._moves._play(move, table.state, inp.player_id, action, ctx)
        else:
            outcome = self.driver.on_action(table.state, inp.player_id, action, ctx)
        self._effects(step, outcome)
        table.action_counts[inp.player_id] = table.action_counts.get(inp.player_id, 0) + 1
        if inp.id is not None:
            ids = [*recent, inp.id]
            del ids[:-_RECENT_IDS]
            table.recent_ids[inp.player_id] = ids
        return step

    def _control(self, table: Table[S], action: str, now: float) -> Step[S]:
        if action == "play":
            if table.status != "lobby":
                raise Refused("the game has already started", code="game_started")
            minimum = self.cartridge.info.min_players
            if len(table.players) < minimum:
                raise Refused(f"need at least {minimum} players", code="not_enough_players")
            step = self._begin(table, now)
            table.status = "running"
            step.deliveries.append(
                Delivery(EVERYONE, SessionStarted(players=[_info(s) for s in table.players]))
            )
            self._effects(step, self.driver.setup(step.context))
            return step
        if action == "pause":
            if table.status != "running":
                raise Refused("only a running game can be paused", code="not_running")
            step = self._begin(table, now)
            table.status = "paused"
            if table.deadline is not None:
                table.paused_key = table.deadline.key
                table.remaining = max(0.0, table.deadline.at - now)
                table.deadline = None
            step.deliveries.append(Delivery(EVERYONE, SessionPaused(remaining=table.remaining)))
            return self._tell_driver(step, action)
        if action == "resume":
            if table.status != "paused":
                raise Refused("the game is not paused", code="not_paused")
            step = self._begin(table, now)
            table.status = "running"
            if table.paused_key is not None and table.remaining is not None:
                table.deadline = Deadline(table.paused_key, now + table.remaining, table.version)
            table.paused_key = table.remaining = None
            at = table.deadline.at if table.deadline else None
            step.deliveries.append(Delivery(EVERYONE, SessionResumed(deadline=at)))
            return self._tell_driver(step, action)
        if action == "exit":
            if table.status == "closed":
                raise Refused("the room is already closed", code="closed")
            step = self._begin(table, now)
            table.status = "closed"
            table.deadline = None
            step.deliveries.append(Delivery(EVERYONE, SessionClosed(reason="host_exit")))
            return step
        raise Refused(f"unknown control {action!r}", code="bad_control")

    def _again(self, table: Table[S], changes: dict[str, Any] | None, now: float) -> Step[S]:
        """Game over → lobby, same code and seats, for another game. The settings carry over,
        with ``changes`` applied (validated: :class:`InvalidSettings`). The next game's seed is
        derived from this one's, so a whole evening stays replayable from its inputs."""
        if table.status != "over":
            raise Refused("a new game can start only after the game is over", code="not_over")
        settings = table.settings
        if changes:
            value = self.cartridge.load_settings({**table.settings, **changes})
            settings = msgspec.to_builtins(value)
        step = self._begin(table, now)
        table.status = "lobby"
        table.settings = settings
        table.seed = (table.seed * 6364136223846793005 + table.version) % (1 << 63)
        table.state = table.results = table.deadline = None
        table.paused_key = table.remaining = None
        table.recent_ids, table.action_phase, table.action_counts = {}, "", {}
        players = [_info(s) for s in table.players]
        event = SessionNewGame(players=players, settings=settings)
        step.deliveries.append(Delivery(EVERYONE, event))
        return step

    def _tell_driver(self, step: Step[S], action: str) -> Step[S]:
        table = step.table
        if table.state is not None:
            outcome = self.driver.on_control(table.state, action, step.context)
            self._effects(
                step, Outcome(outcome.state, [e for e in outcome.effects if isinstance(e, Emit)])
            )
        return step

    def _effects(self, step: Step[S], outcome: Outcome[Any]) -> None:
        table = step.table
        table.state = outcome.state
        for effect in outcome.effects:
            if isinstance(effect, Emit):
                event = effect.event
                if table.status == "paused" and "deadline" in event.__struct_fields__:
                    # No timer runs while paused: an event's own deadline says so (null); the
                    # resume sends the new one in ``session.resumed``.
                    event = msgspec.structs.replace(event, deadline=None)
                step.deliveries.append(Delivery(effect.to, event))
            elif isinstance(effect, SetDeadline) and table.status == "paused":
                # A leave while paused may end a phase: its new timer stays frozen until resume.
                table.paused_key = effect.key
                table.remaining = max(0.0, effect.at - step.context.now)
            elif isinstance(effect, SetDeadline):
                table.deadline = Deadline(effect.key, effect.at, table.version)
            elif isinstance(effect, ClearDeadline):
                table.deadline = None
                table.paused_key = table.remaining = None
            elif isinstance(effect, GameOver):
                table.status = "over"
                table.results = msgspec.to_builtins(effect.results)
                table.deadline = None
                table.paused_key = table.remaining = None
                step.deliveries.append(Delivery(EVERYONE, SessionFinished(results=table.results)))
