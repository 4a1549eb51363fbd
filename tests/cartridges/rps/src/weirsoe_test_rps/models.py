"""The rps preset model: its own small table, proving the preset hook is generic."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Float, Integer
from sqlalchemy.orm import Mapped, mapped_column

from weirsoe_sdk import ModelBase, PresetModel, PresetRowMixin


class RpsPreset(PresetRowMixin, ModelBase):
    __tablename__ = "rps_presets"

    rounds: Mapped[int] = mapped_column(Integer)
    throw_seconds: Mapped[float] = mapped_column(Float)


# No to_row/from_row: the default maps each settings field to the column of the same name.
PRESET_MODEL = PresetModel(
    cartridge="rps", model=RpsPreset, migrations=Path(__file__).parent / "migrations"
)
