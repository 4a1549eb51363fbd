"""Tallies: crowd input that the platform counts outside the room's compare-and-set.

A cartridge declares which audience votes it counts (:class:`Tally`): in which phases, with which
choices (derived from the state). While a tally is open the platform counts votes itself, one per
audience member (a re-vote replaces the earlier one), or up to ``votes`` each for a capped tally
such as reactions. When the tally's phase ends, the driver receives the final counts as one input,
:class:`weirsoe_sdk.AudienceTally`, just before the input that ends the phase, so a game stays
deterministic and replayable from its inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from ._errors import CartridgeError, InvalidAction

__all__ = [
    "MAX_CHOICE_LENGTH",
    "Ballots",
    "OpenTally",
    "Tally",
    "TallyCountsNeeded",
    "cast_vote",
    "count_ballots",
]

MAX_CHOICE_LENGTH = 64
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True, kw_only=True)
class Tally:
    """A crowd vote a cartridge counts.

    :param name: the tally's name (``[a-z][a-z0-9_]*``): audience members vote with
        ``{"type": "vote", "tally": name, "choice": …}``.
    :param phases: the phases (as :meth:`GameDriver.phase` names them) in which it is open.
    :param choices: the valid choices, from the state when the tally opens (strings of at most
        64 characters; duplicates are dropped).
    :param votes: votes per member while it is open (an int, or a function of the settings).
        ``1``: a re-vote replaces the earlier vote. More: each vote adds, up to that many.
    :param live: if true, progress (``audience.tally``) shows the counts per choice while it is
        open; if false, only how many voted, so the crowd's choice stays hidden until the driver
        shows it.
    :param instance: names one opening of the tally (default: the phase name). When it changes,
        the tally closes and a fresh one opens, as if the phase had ended.
    """

    name: str
    phases: frozenset[str]
    choices: Callable[[Any], Sequence[str]]
    votes: int | Callable[[Any], int] = 1
    live: bool = False
    instance: Callable[[Any], str] | None = None

    def __post_init__(self) -> None:
        if not self.name or not set(self.name) <= _NAME_CHARS or not self.name[0].isalpha():
            raise CartridgeError(f"bad tally name {self.name!r}: use [a-z][a-z0-9_]*")
        if not self.phases:
            raise CartridgeError(f"tally {self.name!r}: name at least one phase")

    def cap(self, settings: Any) -> int:
        value = self.votes(settings) if callable(self.votes) else self.votes
        return max(0, int(value))

    def key(self, state: Any, phase: str) -> str:
        return self.instance(state) if self.instance is not None else phase

    def open_choices(self, state: Any) -> list[str]:
        out: dict[str, None] = {}  # ordered, and a set: a reaction tally has dozens of choices
        for choice in self.choices(state):
            if not isinstance(choice, str) or not 0 < len(choice) <= MAX_CHOICE_LENGTH:
                raise CartridgeError(f"tally {self.name!r}: bad choice {choice!r}")
            out[choice] = None
        return list(out)


class OpenTally(msgspec.Struct, frozen=True, kw_only=True):
    """A tally while it is open, as the table records it. ``id`` names this opening."""

    id: str
    name: str
    key: str
    choices: list[str]
    cap: int = 1
    live: bool = False
    delivered: bool = False


class TallyCountsNeeded(Exception):
    """Raised by :meth:`Runtime.apply` when an input closes open tallies and no final counts were
    given for them: the caller fetches the counts (freezing the tallies) and applies the input
    again with ``counts=``."""

    def __init__(self, tallies: list[OpenTally]) -> None:
        super().__init__(", ".join(t.id for t in tallies))
        self.tallies = tallies


def wanted_tallies(
    tallies: Sequence[Tally], phase: str | None, state: Any
) -> dict[str, tuple[Tally, str]]:
    """The tallies that should be open for ``state`` in ``phase`` (None: none), by name, each
    with the key of its opening."""
    if phase is None:
        return {}
    return {t.name: (t, t.key(state, phase)) for t in tallies if phase in t.phases}


def open_tally(tally: Tally, key: str, state: Any, settings: Any, version: int) -> OpenTally:
    return OpenTally(
        id=f"{tally.name}@{version}",
        name=tally.name,
        key=key,
        choices=tally.open_choices(state),
        cap=tally.cap(settings),
        live=tally.live,
    )


# member id -> the choices that member has counted (one for a plain tally, up to ``cap``).
Ballots = dict[str, list[str]]


def cast_vote(tally: OpenTally | None, ballots: Ballots, member: str, choice: str) -> bool:
    """Count one vote in ``ballots`` by the rules every counter follows (the harness, the
    platform's memory counter and its Redis script). Returns False if it changed nothing
    (the same vote again). Raises :class:`InvalidAction` with a stable code:
    ``tally_closed`` (no such tally open), ``unknown_choice``, ``vote_cap``."""
    if tally is None or tally.delivered:
        raise InvalidAction("that vote is not open now", code="tally_closed")
    if choice not in tally.choices:
        raise InvalidAction("that is not one of the choices", code="unknown_choice")
    mine = ballots.get(member)
    if tally.cap <= 1:
        if tally.cap < 1:
            raise InvalidAction("no votes in this tally", code="vote_cap")
        if mine == [choice]:
            return False
        ballots[member] = [choice]
        return True
    if mine is not None and len(mine) >= tally.cap:
        raise InvalidAction("no votes left in this phase", code="vote_cap")
    ballots.setdefault(member, []).append(choice)
    return True


def count_ballots(tally: OpenTally, ballots: Ballots) -> dict[str, int]:
    """Votes per choice (every choice present, 0 included)."""
    counts = dict.fromkeys(tally.choices, 0)
    for choices in ballots.values():
        for choice in choices:
            counts[choice] += 1
    return counts
