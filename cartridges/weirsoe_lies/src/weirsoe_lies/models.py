"""The preset model: a host's saved Weirsøe Lies settings, one row per preset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer
from sqlalchemy.orm import Mapped, mapped_column

from weirsoe_sdk import ModelBase, PresetModel, PresetRowMixin

from .settings import LiesSettings

__all__ = ["MIGRATIONS", "PRESET_MODEL", "LiesPreset"]

MIGRATIONS = Path(__file__).parent / "migrations"


class LiesPreset(PresetRowMixin, ModelBase):
    """Every field of :class:`LiesSettings` as a column (``packs`` as a JSON list)."""

    __tablename__ = "weirsoe_lies_presets"

    rounds: Mapped[int] = mapped_column(Integer)
    questions_per_round: Mapped[int] = mapped_column(Integer)
    lie_seconds: Mapped[float] = mapped_column(Float)
    guess_seconds: Mapped[float] = mapped_column(Float)
    reveal_step_seconds: Mapped[float] = mapped_column(Float)
    scoreboard_seconds: Mapped[float] = mapped_column(Float)
    extended_timers: Mapped[bool] = mapped_column(Boolean)
    family_mode: Mapped[bool] = mapped_column(Boolean)
    lie_max_length: Mapped[int] = mapped_column(Integer)
    packs: Mapped[list[str]] = mapped_column(JSON)
    house_lie_penalty: Mapped[int] = mapped_column(Integer)
    reaction_cap: Mapped[int] = mapped_column(Integer)


def to_row(settings: LiesSettings) -> LiesPreset:
    return LiesPreset(
        rounds=settings.rounds,
        questions_per_round=settings.questions_per_round,
        lie_seconds=settings.lie_seconds,
        guess_seconds=settings.guess_seconds,
        reveal_step_seconds=settings.reveal_step_seconds,
        scoreboard_seconds=settings.scoreboard_seconds,
        extended_timers=settings.extended_timers,
        family_mode=settings.family_mode,
        lie_max_length=settings.lie_max_length,
        packs=list(settings.packs),
        house_lie_penalty=settings.house_lie_penalty,
        reaction_cap=settings.reaction_cap,
    )


def from_row(row: LiesPreset) -> dict[str, Any]:
    return {
        "rounds": row.rounds,
        "questions_per_round": row.questions_per_round,
        "lie_seconds": row.lie_seconds,
        "guess_seconds": row.guess_seconds,
        "reveal_step_seconds": row.reveal_step_seconds,
        "scoreboard_seconds": row.scoreboard_seconds,
        "extended_timers": row.extended_timers,
        "family_mode": row.family_mode,
        "lie_max_length": row.lie_max_length,
        "packs": list(row.packs),
        "house_lie_penalty": row.house_lie_penalty,
        "reaction_cap": row.reaction_cap,
    }


PRESET_MODEL = PresetModel(
    cartridge="weirsoe_lies",
    model=LiesPreset,
    migrations=MIGRATIONS,
    to_row=to_row,
    from_row=from_row,
)
