"""The Weirsøe cartridge SDK: the contract every game implements.

Everything public is listed in ``__all__``; modules starting with ``_`` are private.
"""

from typing import TYPE_CHECKING, Any

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
    SessionFinished,
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
from ._text import (
    clean_name,
    clean_text,
    edit_distance,
    is_profane,
    name_skeleton,
    normalize_answer,
    same_answer,
)
from .hookspecs import hookimpl

if TYPE_CHECKING:
    from ._models import (
        NAMING_CONVENTION,
        ModelBase,
        PresetModel,
        PresetRowMixin,
        discover_preset_models,
    )

PLATFORM_EVENTS: tuple[type[Event], ...] = (
    SessionPlayerJoined,
    SessionPlayerLeft,
    SessionPlayerReconnected,
    SessionStarted,
    SessionPaused,
    SessionResumed,
    SessionFinished,
    SessionClosed,
    SessionSnapshot,
)

__all__ = [
    "AUDIENCE",
    "ENTRY_POINT_GROUP",
    "EVERYONE",
    "HOST",
    "MAX_NAME_LENGTH",
    "NAMING_CONVENTION",
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
    "ModelBase",
    "Outcome",
    "PlayerAction",
    "PlayerInfo",
    "PlayerJoined",
    "PlayerLeft",
    "PlayerReconnected",
    "PresetModel",
    "PresetRowMixin",
    "Refused",
    "Runtime",
    "Seat",
    "Secret",
    "SessionClosed",
    "SessionFinished",
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
    "clean_name",
    "clean_text",
    "discover_cartridges",
    "discover_preset_models",
    "edit_distance",
    "encode_message",
    "event_name",
    "events_schema",
    "get_plugin_manager",
    "hookimpl",
    "is_profane",
    "load_settings",
    "name_skeleton",
    "normalize_answer",
    "same_answer",
    "settings_schema",
    "to_players",
]


# The preset models need SQLAlchemy; they load on first use, so that what fires timers or
# plays a game (``weirsoe worker``, the harness) never imports it.
_MODELS = {
    "NAMING_CONVENTION",
    "ModelBase",
    "PresetModel",
    "PresetRowMixin",
    "discover_preset_models",
}


def __getattr__(name: str) -> Any:
    if name in _MODELS:
        from . import _models

        return getattr(_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
