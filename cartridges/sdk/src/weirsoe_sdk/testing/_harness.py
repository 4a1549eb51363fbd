"""The harness: the SDK runtime driven by bots and a fake clock, recording what each role got."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from .._driver import Bot, Secret, Viewer
from .._errors import WeirsoeError
from .._events import Audience, encode_message, event_name
from .._inputs import (
    DeadlineReached,
    HostControl,
    Input,
    PlayerAction,
    PlayerJoined,
    PlayerLeft,
    PlayerReconnected,
)
from .._meta import Cartridge
from .._runtime import Runtime, Step, Table
from .._tally import Ballots, OpenTally, cast_vote, count_ballots

__all__ = ["FakeClock", "GameRecord", "Harness", "Leak", "LeakError", "Received", "recipients_of"]

HOST = "host"
AUDIENCE = "audience"


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now

    def set(self, when: float) -> float:
        self.now = max(self.now, when)
        return self.now


@dataclass(frozen=True, slots=True)
class Received:
    version: int
    type: str
    text: str

    def json(self) -> Any:
        return msgspec.json.decode(self.text)


@dataclass(frozen=True, slots=True)
class Leak:
    recipient: str
    label: str
    secret: str
    where: str
    version: int

    def __str__(self) -> str:
        return (
            f"{self.recipient} received {self.label} {self.secret!r} in {self.where}"
            f" at version {self.version}"
        )


class LeakError(AssertionError):
    """A message or view showed someone a secret they may not see."""

    def __init__(self, leaks: list[Leak]) -> None:
        super().__init__("secrets leaked:\n" + "\n".join(f"  - {leak}" for leak in leaks[:20]))
        self.leaks = leaks


@dataclass
class GameRecord:
    """What happened in one game."""

    cartridge: str
    seed: int
    players: list[str]
    table: Table[Any]
    messages: dict[str, list[Received]] = field(default_factory=dict)
    events: int = 0
    steps: int = 0
    rejected: int = 0
    event_types: set[str] = field(default_factory=set)

    @property
    def results(self) -> Any:
        return self.table.results

    def types_for(self, recipient: str) -> list[str]:
        return [m.type for m in self.messages.get(recipient, [])]


def recipients_of(audience: Audience, players: Iterable[str]) -> list[str]:
    """Which harness recipients (``host``, ``audience``, player ids) an audience reaches."""
    if audience.kind == "everyone":
        return [HOST, AUDIENCE, *players]
    if audience.kind == "host":
        return [HOST]
    if audience.kind == "audience":
        return [AUDIENCE]
    return list(audience.players)


class Harness:
    """Drive one game of ``cartridge`` through the real SDK runtime.

    :param players: how many players join (ids ``p1``…``pN``).
    :param seed: seeds the game and the bots; the same seed replays the same game.
    :param bot: the bots' strategy (default: the cartridge's own bot).
    :param check_leaks: fail at once (:class:`LeakError`) if a secret reaches the wrong role.
    :param record: keep every message each role received.
    :param chaos: chance per round that a random player drops or comes back.
    """

    def __init__(
        self,
        cartridge: Cartridge,
        *,
        players: int,
        seed: int = 0,
        settings: Mapping[str, Any] | None = None,
        bot: Bot | None = None,
        clock: FakeClock | None = None,
        check_leaks: bool = True,
        record: bool = True,
        chaos: float = 0.0,
        names: list[str] | None = None,
    ) -> None:
        self.cartridge = cartridge
        self.runtime: Runtime[Any] = Runtime(cartridge)
        self.clock = clock or FakeClock()
        self.seed = seed
        self.rng = random.Random(f"bots:{seed}")
        self.bot = bot or cartridge.bot
        self.check_leaks = check_leaks
        self.record_messages = record
        self.chaos = chaos
        self.player_ids = [f"p{i}" for i in range(1, players + 1)]
        self.names = names or [f"Bot {i}" for i in range(1, players + 1)]
        self._canaries = 0
        self.ballots: dict[str, Ballots] = {}  # tally id -> the audience's ballots
        table = self.runtime.new_table(seed=seed, settings=settings, now=self.clock.now)
        # The live table is changed in place by the runtime; ``_data`` is its last committed
        # encoding, from which a rejected input rolls back.
        self._live: Table[Any] = table
        self._data = self.runtime.encode(table)
        self.record = GameRecord(cartridge.slug, seed, list(self.player_ids), table)

    # -- state -----------------------------------------------------------------------------
    @property
    def table(self) -> Table[Any]:
        """A private copy of the current table."""
        return self.runtime.decode(self._data)

    @property
    def encoded(self) -> bytes:
        """The committed table as the platform would store it."""
        return self._data

    def view(self, viewer: Viewer) -> Any:
        return msgspec.to_builtins(self.runtime.view(self._live, viewer, self.clock.now))

    def canary(self) -> str:
        """A unique, traceable text for bots to write."""
        self._canaries += 1
        return f"kanari{self.seed % 997}x{self._canaries}q"

    # -- inputs ----------------------------------------------------------------------------
    def send(self, inp: Input) -> Step[Any]:
        """Apply one input; raise the driver's error if it is rejected (state unchanged)."""
        tallies = self._live.tallies
        counts = _Counts(tallies.values(), self.ballots) if tallies else None
        try:
            step = self.runtime.apply(
                self._live, inp, self.clock.now, counts=counts, stored=self._data
            )
        except BaseException as exc:
            self._live = self.runtime.decode(self._data)
            if isinstance(exc, WeirsoeError):
                self.record.rejected += 1
            raise
        self._commit(step)
        return step

    def vote(self, member: str, tally: str, choice: str) -> bool:
        """An audience member's vote, counted as the platform counts it (one per member, a
        re-vote replaces; up to the cap for a multi-vote tally). Raises :class:`InvalidAction`
        (``tally_closed``, ``unknown_choice``, ``vote_cap``) and changes nothing then."""
        open_tally = self._live.tallies.get(tally)
        ballots = self.ballots.setdefault(open_tally.id, {}) if open_tally else {}
        return cast_vote(open_tally, ballots, member, choice)

    def tally_counts(self) -> dict[str, dict[str, int]]:
        """The current counts of every open tally, by tally id."""
        return {
            t.id: count_ballots(t, self.ballots.get(t.id, {})) for t in self._live.tallies.values()
        }

    def join_all(self) -> None:
        for pid, name in zip(self.player_ids, self.names, strict=True):
            self.send(PlayerJoined(player_id=pid, name=name))
            self.send(PlayerReconnected(player_id=pid))

    def control(self, action: str) -> Step[Any]:
        return self.send(HostControl(action=action))  # type: ignore[arg-type]

    def act(self, player_id: str, action: Mapping[str, Any], id: str | None = None) -> Step[Any]:
        return self.send(PlayerAction(player_id=player_id, action=dict(action), id=id))

    def fire_deadline(self) -> Step[Any] | None:
        """Move the clock to the running deadline and fire it; None if there is none."""
        deadline = self._live.deadline
        if deadline is None:
            return None
        self.clock.set(deadline.at)
        return self.send(DeadlineReached(key=deadline.key, serial=deadline.serial))

    def _commit(self, step: Step[Any]) -> None:
        if not step.changed:
            return
        self._live = step.table
        self._data = self.runtime.encode(step.table)
        self.record.table = step.table
        self.record.steps += 1
        table = step.table
        secrets = self._secrets(table) if self.check_leaks else []
        if not (self.record_messages or secrets):  # a simulation: count the events, no more
            self.record.events += len(step.deliveries)
            self.record.event_types.update(event_name(type(d.event)) for d in step.deliveries)
            return
        deadline = table.deadline.at if table.deadline else None
        players = [s.id for s in table.players]
        leaks: list[Leak] = []
        for delivery in step.deliveries:
            self.record.events += 1
            kind = event_name(type(delivery.event))
            self.record.event_types.add(kind)
            text = encode_message(
                delivery.event, version=table.version, server_time=self.clock.now, deadline=deadline
            ).decode()
            for who in recipients_of(delivery.audience, players):
                if self.record_messages:
                    self.record.messages.setdefault(who, []).append(
                        Received(table.version, kind, text)
                    )
                leaks += _leaks(secrets, who, text, f"event {kind}", table.version)
        if secrets:
            for who, viewer in self._viewers(players):
                snap = self.runtime.snapshot(table, viewer, self.clock.now, "TEST")
                text = msgspec.json.encode(snap).decode()
                leaks += _leaks(secrets, who, text, "snapshot", table.version)
        if leaks:
            raise LeakError(leaks)

    def _secrets(self, table: Table[Any]) -> list[Secret]:
        if table.state is None:
            return []
        ctx = self.runtime.context(table, self.clock.now)
        return list(self.cartridge.driver.secrets(table.state, ctx))

    @staticmethod
    def _viewers(players: list[str]) -> list[tuple[str, Viewer]]:
        out = [(HOST, Viewer("host")), (AUDIENCE, Viewer("audience"))]
        return out + [(pid, Viewer("player", pid)) for pid in players]

    # -- whole games -----------------------------------------------------------------------
    def play(self, *, max_rounds: int = 10_000) -> GameRecord:
        """Join everyone, press play and let the bots play to the end."""
        if self.bot is None:
            raise ValueError(f"cartridge {self.cartridge.slug!r} has no bot; pass bot=")
        self.join_all()
        self.control("play")
        for _ in range(max_rounds):
            table = self._live
            if table.status != "running":
                return self.record
            if self.chaos and self.rng.random() < self.chaos:
                self._stir(table)
            if not self._bots_round(table) and self.fire_deadline() is None:
                raise RuntimeError(f"game stuck in {table.status} with no deadline")
        raise RuntimeError(f"game did not end within {max_rounds} rounds")

    def _bots_round(self, table: Table[Any]) -> bool:
        assert self.bot is not None
        acted = False
        phases = getattr(self.bot, "phases", None)
        if (
            phases is not None
            and table.state is not None
            and self.cartridge.driver.phase(table.state) not in phases
        ):
            return False
        order = [s.id for s in table.players if s.connected]
        self.rng.shuffle(order)
        for pid in order:
            view = msgspec.to_builtins(
                self.runtime.view(table, Viewer("player", pid), self.clock.now)
            )
            action = self.bot.act(view, pid, self.rng, self.canary)
            if action is None:
                continue
            try:
                self.act(pid, action, id=f"{pid}-{self.record.steps}")
                acted = True
            except WeirsoeError:
                # The rejected input may have changed the old live table: use the rolled-back one.
                table = self._live
                continue
            table = self._live
            if table.status != "running":
                break
        return acted

    def _stir(self, table: Table[Any]) -> None:
        seat = self.rng.choice(table.players)
        self.send(
            PlayerReconnected(player_id=seat.id)
            if not seat.connected
            else PlayerLeft(player_id=seat.id)
        )


class _Counts(Mapping[str, Mapping[str, int]]):
    """The counts of the tallies open when an input came, by tally id: counted only if the
    runtime asks (when the input closes them), not on every input."""

    def __init__(self, tallies: Iterable[OpenTally], ballots: dict[str, Ballots]) -> None:
        self._tallies = {t.id: t for t in tallies}
        self._ballots = ballots

    def __getitem__(self, tally_id: str) -> Mapping[str, int]:
        return count_ballots(self._tallies[tally_id], self._ballots.get(tally_id, {}))

    def __contains__(self, tally_id: object) -> bool:
        return tally_id in self._tallies

    def __iter__(self) -> Iterator[str]:
        return iter(self._tallies)

    def __len__(self) -> int:
        return len(self._tallies)


def _leaks(secrets: list[Secret], who: str, text: str, where: str, version: int) -> list[Leak]:
    return [
        Leak(who, s.label, s.text, where, version)
        for s in secrets
        if who not in s.visible_to and contains_token(text, s.text)
    ]


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def contains_token(text: str, secret: str) -> bool:
    """``secret`` occurs in ``text`` as a whole token: a secret ending (or starting) in a letter
    or digit does not match inside a longer word or number, so ``"number":1`` is not found in
    ``"number":10``."""
    start = text.find(secret)
    while start != -1:
        end = start + len(secret)
        before_ok = not (_word(secret[0]) and start > 0 and _word(text[start - 1]))
        after_ok = not (_word(secret[-1]) and end < len(text) and _word(text[end]))
        if before_ok and after_ok:
            return True
        start = text.find(secret, start + 1)
    return False
