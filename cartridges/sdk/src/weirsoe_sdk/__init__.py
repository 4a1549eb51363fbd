"""The Weirsøe cartridge SDK: the contract every game implements.

Everything public is listed in ``__all__``; modules starting with ``_`` are private.
"""

from ._driver import Bot, Context, GameDriver, Seat, Secret, Viewer
from ._effects import ClearDeadline, Effect, Emit, GameOver, Outcome, SetDeadline
from ._errors import (
    CartridgeError,
    ContentError,
    InvalidAction,
    InvalidSettings,
    Refused,
    WeirsoeError,
)
from ._events import (
    AUDIENCE,
    EVERYONE,
    HOST,
    Audience,
    Event,
    PlayerInfo,
    SessionClosed,
    SessionPaused,
    SessionPlayerJoined,
    SessionPlayerLeft,
    SessionPlayerReconnected,
    SessionResumed,
    SessionSnapshot,
    SessionStarted,
    encode_message,
    event_name,
    events_schema,
    to_players,
)
from ._inputs import (
    DeadlineReached,
    HostControl,
    Input,
    PlayerAction,
    PlayerJoined,
    PlayerLeft,
    PlayerReconnected,
)
from ._meta import Cartridge, CartridgeInfo
from ._plugins import ENTRY_POINT_GROUP, Discovery, discover_cartridges, get_plugin_manager
from ._runtime import MAX_NAME_LENGTH, Deadline, Delivery, Runtime, Step, Table
from ._settings import load_settings, settings_schema
from ._text import clean_text, edit_distance, is_profane, normalize_answer, same_answer
from .hookspecs import hookimpl

PLATFORM_EVENTS: tuple[type[Event], ...] = (
    SessionPlayerJoined,
    SessionPlayerLeft,
    SessionPlayerReconnected,
    SessionStarted,
    SessionPaused,
    SessionResumed,
    SessionClosed,
    SessionSnapshot,
)

__all__ = [
    "AUDIENCE",
    "ENTRY_POINT_GROUP",
    "EVERYONE",
    "HOST",
    "MAX_NAME_LENGTH",
    "PLATFORM_EVENTS",
    "Audience",
    "Bot",
    "Cartridge",
    "CartridgeError",
    "CartridgeInfo",
    "ClearDeadline",
    "ContentError",
    "Context",
    "Deadline",
    "DeadlineReached",
    "Delivery",
    "Discovery",
    "Effect",
    "Emit",
    "Event",
    "GameDriver",
    "GameOver",
    "HostControl",
    "Input",
    "InvalidAction",
    "InvalidSettings",
    "Outcome",
    "PlayerAction",
    "PlayerInfo",
    "PlayerJoined",
    "PlayerLeft",
    "PlayerReconnected",
    "Refused",
    "Runtime",
    "Seat",
    "Secret",
    "SessionClosed",
    "SessionPaused",
    "SessionPlayerJoined",
    "SessionPlayerLeft",
    "SessionPlayerReconnected",
    "SessionResumed",
    "SessionSnapshot",
    "SessionStarted",
    "SetDeadline",
    "Step",
    "Table",
    "Viewer",
    "WeirsoeError",
    "clean_text",
    "discover_cartridges",
    "edit_distance",
    "encode_message",
    "event_name",
    "events_schema",
    "get_plugin_manager",
    "hookimpl",
    "is_profane",
    "load_settings",
    "normalize_answer",
    "same_answer",
    "settings_schema",
    "to_players",
]
