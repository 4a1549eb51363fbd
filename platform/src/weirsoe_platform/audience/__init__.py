"""The audience: members without a seat, who watch and vote (see docs/events.md)."""

from ..sessions._counter import AudienceCounter, MemoryAudienceCounter, Progress, TallyProgress
from ._desk import AudienceDesk
from ._events import AUDIENCE_EVENTS, AudienceProgress, SessionAudience, TallyState

__all__ = [
    "AUDIENCE_EVENTS",
    "AudienceCounter",
    "AudienceDesk",
    "AudienceProgress",
    "MemoryAudienceCounter",
    "Progress",
    "SessionAudience",
    "TallyProgress",
    "TallyState",
]
