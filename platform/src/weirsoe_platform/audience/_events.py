"""The platform's audience messages."""

from __future__ import annotations

import msgspec

from weirsoe_sdk import Event

__all__ = ["AUDIENCE_EVENTS", "AudienceProgress", "SessionAudience", "TallyState"]


class TallyState(msgspec.Struct, frozen=True):
    """One open tally: how many votes it has, and the counts per choice if it is live."""

    name: str
    id: str
    votes: int
    counts: dict[str, int] | None = None


class AudienceProgress(Event, tag="audience.tally", frozen=True):
    """To everyone, at most twice a second while audience numbers or votes change (never once
    per vote): members who joined, sockets watching, and the open tallies. It carries no session
    version (it is not a transition); ``ts`` is the server time."""

    ts: float
    members: int
    watching: int
    tallies: list[TallyState]


class SessionAudience(Event, tag="session.audience", frozen=True):
    """The host turned the audience on or off. While off, nobody new may join the audience and
    no vote counts; audience sockets stay open."""

    enabled: bool


AUDIENCE_EVENTS: tuple[type[Event], ...] = (SessionAudience,)
