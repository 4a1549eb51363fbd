"""The game-driver contract: pure, deterministic rules over serialisable state."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, Literal, Protocol, TypeVar

import msgspec

from ._effects import Outcome
from ._errors import InvalidAction
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

__all__ = ["Bot", "Context", "GameDriver", "Seat", "Secret", "Viewer"]

S = TypeVar("S")
C = TypeVar("C")


class Seat(msgspec.Struct):
    """A player's seat at the table. The seat outlives the connection."""

    id: str
    name: str
    connected: bool = True


_new = object.__new__


class Context(Generic[C]):
    """What a driver may know besides the state: the time, a seeded RNG, the players, settings.

    The RNG is seeded from the session seed and version, so a replay draws the same numbers.
    """

    __slots__ = ("_rng", "now", "players", "seed", "settings", "version")

    def __init__(
        self,
        *,
        now: float,
        players: tuple[Seat, ...],
        settings: C,
        seed: int,
        version: int,
        rng: random.Random | None = None,
    ) -> None:
        self.now = now
        self.players = players
        self.settings = settings
        self.seed = seed
        self.version = version
        self._rng = rng

    @classmethod
    def _fast(
        cls, now: float, players: tuple[Seat, ...], settings: C, seed: int, version: int
    ) -> Context[C]:
        """The runtime's constructor: what ``__init__`` does without its keyword handling, about
        a third of the cost (the runtime makes one context per input and per view)."""
        ctx = _new(cls)
        ctx.now, ctx.players, ctx.settings = now, players, settings
        ctx.seed, ctx.version, ctx._rng = seed, version, None
        return ctx

    @property
    def rng(self) -> random.Random:
        """A generator seeded from the session seed and version (made on first use)."""
        if self._rng is None:
            self._rng = random.Random(f"{self.seed}:{self.version}")
        return self._rng

    @property
    def player_ids(self) -> list[str]:
        return [p.id for p in self.players]

    @property
    def connected_ids(self) -> list[str]:
        return [p.id for p in self.players if p.connected]

    def name_of(self, player_id: str) -> str:
        for p in self.players:
            if p.id == player_id:
                return p.name
        return player_id


class Viewer(msgspec.Struct, frozen=True):
    """Who is looking: the host screen, one player, or the (read-only) audience."""

    role: Literal["host", "player", "audience"]
    player_id: str | None = None


class Secret(msgspec.Struct, frozen=True):
    """A text that only ``visible_to`` may receive (player ids, ``"host"``, ``"audience"``).

    The harness's leak checker fails a test if a message or view containing ``text`` reaches
    anyone else while the secret is in force.
    """

    text: str
    visible_to: frozenset[str]
    label: str = "secret"


class GameDriver(Generic[S, C]):
    """The rules of a game. Subclass it and override the ``on_*`` methods you need.

    Every method is a pure function of its arguments: no I/O, no clock (use ``ctx.now``) and no
    unseeded randomness (use ``ctx.rng``). A method may modify the state it is given (it owns a
    private copy) and returns it in an :class:`Outcome`. Raising :class:`InvalidAction` rejects
    an input and discards every change.
    """

    def setup(self, ctx: Context[C]) -> Outcome[S]:
        """Build the first state when the host presses play."""
        raise NotImplementedError

    def phase(self, state: S) -> str:
        """The name of the current phase (exactly one at a time)."""
        raise NotImplementedError

    def view(self, state: S, viewer: Viewer, ctx: Context[C]) -> Any:
        """Everything ``viewer`` may see, enough to redraw from nothing. Never another's secret."""
        raise NotImplementedError

    def on_action(self, state: S, player_id: str, action: Any, ctx: Context[C]) -> Outcome[S]:
        raise InvalidAction("this game takes no actions", code="wrong_phase")

    def on_deadline(self, state: S, key: str, ctx: Context[C]) -> Outcome[S]:
        return Outcome(state)

    def on_join(self, state: S, player_id: str, ctx: Context[C]) -> Outcome[S]:
        return Outcome(state)

    def on_leave(self, state: S, player_id: str, ctx: Context[C]) -> Outcome[S]:
        return Outcome(state)

    def on_reconnect(self, state: S, player_id: str, ctx: Context[C]) -> Outcome[S]:
        return Outcome(state)

    def on_control(self, state: S, action: str, ctx: Context[C]) -> Outcome[S]:
        """Told after the runtime handled pause/resume/exit; the default changes nothing."""
        return Outcome(state)

    def on_tally(self, state: S, name: str, counts: dict[str, int], ctx: Context[C]) -> Outcome[S]:
        """The final counts of the tally ``name``, just before the input that ends its phase.

        Record what you need in the state; only ``Emit`` effects are used, and the phase must not
        change here (the input that ends the phase comes right after). The default ignores it."""
        return Outcome(state)

    def check_name(self, name: str, settings: C) -> None:
        """Reject a player name (raise :class:`Refused`); the default accepts any."""

    def secrets(self, state: S, ctx: Context[C]) -> Iterable[Secret]:
        """The secrets in force in ``state``, for the leak checker. Default: none."""
        return ()

    def apply(self, state: S, inp: Input, ctx: Context[C]) -> Outcome[S]:
        """Dispatch an input to the matching ``on_*`` method."""
        if isinstance(inp, PlayerAction):
            return self.on_action(state, inp.player_id, inp.action, ctx)
        if isinstance(inp, DeadlineReached):
            return self.on_deadline(state, inp.key, ctx)
        if isinstance(inp, PlayerJoined):
            return self.on_join(state, inp.player_id, ctx)
        if isinstance(inp, PlayerLeft):
            return self.on_leave(state, inp.player_id, ctx)
        if isinstance(inp, PlayerReconnected):
            return self.on_reconnect(state, inp.player_id, ctx)
        if isinstance(inp, HostControl):
            return self.on_control(state, inp.action, ctx)
        if isinstance(inp, AudienceTally):
            return self.on_tally(state, inp.name, dict(inp.counts), ctx)
        raise TypeError(f"unknown input {inp!r}")


class Bot(Protocol):
    """A scripted player for the harness. It sees only its own view, as a client would.

    A bot may also have an attribute ``phases`` (a set of phase names, as
    :meth:`GameDriver.phase` returns them); the harness then asks it to act only in those
    phases, which makes simulations much faster.
    """

    def act(
        self, view: Mapping[str, Any], me: str, rng: random.Random, canary: Callable[[], str]
    ) -> Mapping[str, Any] | None:
        """Return an action (as JSON-like data) or None to wait. Use ``canary()`` for any
        free text the player writes, so the leak checker can trace it."""
        ...
