"""Phases as data: which actions a phase accepts, its timer, its end condition, its deadline.

In the spirit of boardgame.io's ``phases``/``moves``/``endIf``: a :class:`PhasedDriver` declares
a table of :class:`Phase` objects, and the SDK (not each game) answers ``wrong_phase`` and
``bad_action``, ends a phase when every connected player has acted, and runs what the phase's
deadline does. The game keeps only its moves and its phase changes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, Union

import msgspec

from ._driver import Context, GameDriver
from ._effects import Effect, Outcome, SetDeadline
from ._errors import CartridgeError, InvalidAction

__all__ = [
    "ALL_ACTED",
    "EXTENDED_TIMER_FACTOR",
    "Move",
    "Phase",
    "PhasedDriver",
    "action_union",
    "all_acted",
]

S = TypeVar("S")
C = TypeVar("C")

ALL_ACTED: Literal["all_acted"] = "all_acted"
EXTENDED_TIMER_FACTOR = 1.5  # what ``extended_timers`` multiplies an extendable timer by

Handler = Callable[[S, str, Any, Context[C]], Outcome[S]]
EndCondition = Callable[[S, Context[C]], bool]
Step = Callable[[S, Context[C]], Outcome[S]]


@dataclass(frozen=True, slots=True)
class Move(Generic[S, C]):
    """One action a phase accepts: the msgspec Struct it decodes into and its handler
    ``handler(state, player_id, action, ctx) -> Outcome``."""

    type: type[msgspec.Struct]
    handler: Handler[S, C]


@dataclass(frozen=True, kw_only=True)
class Phase(Generic[S, C]):
    """One row of a game's phase table.

    :param moves: the actions this phase accepts, by name (the Struct's ``tag``).
    :param timer: the phase's length in seconds, read from the settings (None: no timer).
    :param extendable: the ``extended_timers`` setting multiplies this timer by
        :data:`EXTENDED_TIMER_FACTOR`.
    :param end_if: when the phase ends early: :data:`ALL_ACTED` ("every connected player has
        acted", which needs ``acted``), a function ``(state, ctx) -> bool``, or None (only at
        its deadline).
    :param acted: who has acted in this phase (player ids), for :data:`ALL_ACTED`.
    :param on_deadline: what the phase's deadline does, ``(state, ctx) -> Outcome``; it also
        runs when ``end_if`` holds after an action or a leave.
    """

    moves: Mapping[str, Move[S, C]] = field(default_factory=dict)
    timer: Callable[[C], float] | None = None
    extendable: bool = False
    end_if: Literal["all_acted"] | EndCondition[S, C] | None = None
    acted: Callable[[S], Collection[str]] | None = None
    on_deadline: Step[S, C] | None = None

    def __post_init__(self) -> None:
        for name, move in self.moves.items():
            tag = move.type.__struct_config__.tag
            if tag != name:
                raise CartridgeError(f"move {name!r}: its Struct's tag is {tag!r}, not {name!r}")
        if self.end_if == ALL_ACTED and self.acted is None:
            raise CartridgeError("end_if=ALL_ACTED needs acted=")

    def seconds(self, settings: C) -> float | None:
        """The timer's length for ``settings`` (extended if asked), or None."""
        if self.timer is None:
            return None
        seconds = self.timer(settings)
        if self.extendable and getattr(settings, "extended_timers", False):
            seconds *= EXTENDED_TIMER_FACTOR
        return seconds

    def ended(self, state: S, ctx: Context[C]) -> bool:
        if self.end_if is None:
            return False
        if self.end_if == ALL_ACTED:
            assert self.acted is not None
            return all_acted(self.acted(state), ctx)
        assert callable(self.end_if)
        return self.end_if(state, ctx)


def all_acted(acted: Collection[str], ctx: Context[Any]) -> bool:
    """True when at least one player is connected and every connected player has acted."""
    anyone = False
    for seat in ctx.players:  # asked after every action: no lists built
        if seat.connected:
            if seat.id not in acted:
                return False
            anyone = True
    return anyone


def action_union(phases: Mapping[str, Phase[Any, Any]]) -> Any:
    """The tagged union of every action any phase accepts (what the wire decodes into)."""
    types: dict[str, type[msgspec.Struct]] = {}
    for phase in phases.values():
        for name, move in phase.moves.items():
            if types.setdefault(name, move.type) is not move.type:
                raise CartridgeError(f"action {name!r} is declared with two different types")
    if not types:
        return None
    ordered = tuple(types.values())
    return ordered[0] if len(ordered) == 1 else Union[ordered]  # noqa: UP007


class PhasedDriver(GameDriver[S, C]):
    """A driver whose phases are data. Set :attr:`phases` (name → :class:`Phase`) and return
    the current phase's name from :meth:`phase`.

    The runtime decodes an action into :func:`action_union` (``bad_action``), refuses one the
    current phase does not accept (``wrong_phase``), then calls the move's handler. After an
    action or a leave, a phase whose ``end_if`` holds runs its ``on_deadline``; its deadline
    runs it too. Override ``on_*`` methods only for what the table cannot say.
    """

    phases: Mapping[str, Phase[S, C]] = {}

    def current(self, state: S) -> Phase[S, C]:
        try:
            return self.phases[self.phase(state)]
        except KeyError:
            return Phase()

    def check_phase(self, state: S, action: Any) -> Move[S, C]:
        """The move for ``action`` in the current phase; ``wrong_phase`` if it has none."""
        name = type(action).__struct_config__.tag
        move = self.current(state).moves.get(str(name))
        if move is None or not isinstance(action, move.type):
            allowed = [p for p, ph in self.phases.items() if str(name) in ph.moves]
            where = f"the {' or '.join(allowed)} phase" if allowed else "no phase"
            raise InvalidAction(f"{name} is only allowed in {where}", code="wrong_phase")
        return move

    def deadline(self, phase: str, key: str, ctx: Context[C]) -> tuple[float, Effect]:
        """Start ``phase``'s timer: its absolute time, and the effect that sets it."""
        seconds = self.phases[phase].seconds(ctx.settings)
        if seconds is None:
            raise CartridgeError(f"phase {phase!r} has no timer")
        at = ctx.now + seconds
        return at, SetDeadline(key, at)

    def on_action(self, state: S, player_id: str, action: Any, ctx: Context[C]) -> Outcome[S]:
        return self._play(self.check_phase(state, action), state, player_id, action, ctx)

    def _play(
        self, move: Move[S, C], state: S, player_id: str, action: Any, ctx: Context[C]
    ) -> Outcome[S]:
        """:meth:`on_action` once ``move`` is known (the runtime checks the phase first)."""
        outcome = move.handler(state, player_id, action, ctx)
        return self._maybe_end(outcome, ctx)

    def on_deadline(self, state: S, key: str, ctx: Context[C]) -> Outcome[S]:
        step = self.current(state).on_deadline
        return step(state, ctx) if step is not None else Outcome(state)

    def on_leave(self, state: S, player_id: str, ctx: Context[C]) -> Outcome[S]:
        return self._maybe_end(Outcome(state), ctx)

    def _maybe_end(self, outcome: Outcome[S], ctx: Context[C]) -> Outcome[S]:
        phase = self.current(outcome.state)
        if phase.on_deadline is None or not phase.ended(outcome.state, ctx):
            return outcome
        after = phase.on_deadline(outcome.state, ctx)
        return Outcome(after.state, [*outcome.effects, *after.effects])
