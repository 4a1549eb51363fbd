"""The Weirsøe cartridge SDK: the contract every game implements.

Everything public is listed in ``__all__``; modules starting with ``_`` are private.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from ._content import PackCheck, describe_pack_error, read_pack, read_packs
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
    SessionNewGame,
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
    AudienceTally,
    DeadlineReached,
    HostControl,
    Input,
    PlayerAction,
    PlayerJoined,
    PlayerLeft,
    PlayerReconnected,
)
from ._matching import Pair, deal_pairs, pair_key
from ._meta import Cartridge, CartridgeInfo, ViewTypes
from ._phases import (
    ALL_ACTED,
    EXTENDED_TIMER_FACTOR,
    Move,
    Phase,
    PhasedDriver,
    action_union,
    all_acted,
)
from ._plugins import (
    ENTRY_POINT_GROUP,
    TEST_CARTRIDGES_ENV,
    TEST_ENTRY_POINT_GROUP,
    Discovery,
    discover_cartridges,
    get_plugin_manager,
)
from ._runtime import MAX_NAME_LENGTH, Deadline, Delivery, Runtime, Step, Table
from ._settings import load_settings, settings_schema
from ._tally import (
    MAX_CHOICE_LENGTH,
    Ballots,
    OpenTally,
    Tally,
    TallyCountsNeeded,
    cast_vote,
    count_ballots,
)
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
    SessionNewGame,
    SessionClosed,
    SessionSnapshot,
)

__all__ = [
    "ALL_ACTED",
    "AUDIENCE",
    "ENTRY_POINT_GROUP",
    "EVERYONE",
    "EXTENDED_TIMER_FACTOR",
    "HOST",
    "MAX_CHOICE_LENGTH",
    "MAX_NAME_LENGTH",
    "NAMING_CONVENTION",
    "PLATFORM_EVENTS",
    "TEST_CARTRIDGES_ENV",
    "TEST_ENTRY_POINT_GROUP",
    "Audience",
    "AudienceTally",
    "Ballots",
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
    "Move",
    "OpenTally",
    "Outcome",
    "PackCheck",
    "Pair",
    "Phase",
    "PhasedDriver",
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
    "SessionNewGame",
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
    "Tally",
    "TallyCountsNeeded",
    "ViewTypes",
    "Viewer",
    "WeirsoeError",
    "__version__",
    "action_union",
    "all_acted",
    "cast_vote",
    "clean_name",
    "clean_text",
    "count_ballots",
    "deal_pairs",
    "describe_pack_error",
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
    "pair_key",
    "read_pack",
    "read_packs",
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
