"""Preset models: the SQLAlchemy tables in which hosts' presets keep a cartridge's settings.

Only SQLAlchemy's declarative layer is used here (no engine, no web framework): the platform
owns connections and migrations, and a cartridge only declares its own table and how its
settings Struct maps to a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pluggy
from sqlalchemy import ForeignKey, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ._errors import CartridgeError

__all__ = [
    "NAMING_CONVENTION",
    "ModelBase",
    "PresetModel",
    "PresetRowMixin",
    "discover_preset_models",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names are derived, never left to the database, so migrations can name them on
SQLite and PostgreSQL alike."""

_RESERVED = {"platform"}


class ModelBase(DeclarativeBase):
    """The declarative base of every Weirsøe table: the platform's and every cartridge's.

    One ``MetaData`` (with :data:`NAMING_CONVENTION`) holds them all, so a cartridge's foreign
    key to ``presets.id`` resolves.
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PresetRowMixin:
    """Adds ``preset_id``: the primary key, and a foreign key to the platform's ``presets.id``
    that deletes the row with its preset. Mix it into a cartridge's preset model."""

    preset_id: Mapped[int] = mapped_column(
        ForeignKey("presets.id", ondelete="CASCADE"), primary_key=True
    )


def _columns_to_row(model: type[Any]) -> Callable[[Any], Any]:
    def to_row(settings: Any) -> Any:
        names = set(model.__table__.columns.keys()) - {"preset_id"}
        values = msgspec.structs.asdict(settings)
        return model(**{k: v for k, v in values.items() if k in names})

    return to_row


def _row_to_columns(model: type[Any]) -> Callable[[Any], Any]:
    def from_row(row: Any) -> Any:
        names = set(model.__table__.columns.keys()) - {"preset_id"}
        return {name: getattr(row, name) for name in names}

    return from_row


@dataclass(frozen=True, kw_only=True)
class PresetModel:
    """How one cartridge stores its settings in a preset. Return it from
    ``weirsoe_register_preset_models``.

    :param cartridge: the cartridge's slug.
    :param model: a mapped class on :class:`ModelBase` with :class:`PresetRowMixin`; its table
        name must start with ``<slug>_`` (for example ``weirsoe_lies_presets``).
    :param migrations: the folder of the cartridge's own Alembic revision files, shipped as
        package data. Its version table is ``alembic_version_<slug>``.
    :param to_row: settings Struct → a new, unsaved ``model`` instance (``preset_id`` is set by
        the platform). Default: one column per settings field of the same name.
    :param from_row: a stored ``model`` instance → the settings Struct, or a mapping that
        ``Cartridge.load_settings`` accepts. Default: every column but ``preset_id``.
    """

    cartridge: str
    model: type[Any]
    migrations: Path
    to_row: Callable[[Any], Any] | None = None
    from_row: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        table = getattr(self.model, "__table__", None)
        if table is None or table.metadata is not ModelBase.metadata:
            raise CartridgeError(f"{self.cartridge}: the preset model must subclass ModelBase")
        if "preset_id" not in table.columns:
            raise CartridgeError(f"{self.cartridge}: the preset model needs PresetRowMixin")
        if self.cartridge in _RESERVED or not table.name.startswith(self.cartridge + "_"):
            raise CartridgeError(
                f"{self.cartridge}: table {table.name!r} must be named {self.cartridge}_<name>"
            )
        if not Path(self.migrations).is_dir():
            raise CartridgeError(f"{self.cartridge}: no migrations folder at {self.migrations}")

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.cartridge}"

    def settings_to_row(self, settings: Any) -> Any:
        """A new row for ``settings`` (a validated settings Struct)."""
        return (self.to_row or _columns_to_row(self.model))(settings)

    def row_to_settings(self, row: Any) -> Any:
        """The settings a stored row holds (a Struct or a mapping; validate before use)."""
        return (self.from_row or _row_to_columns(self.model))(row)


def discover_preset_models(pm: pluggy.PluginManager) -> tuple[dict[str, PresetModel], list[str]]:
    """Ask every plugin for its preset models: ``(models by cartridge slug, errors)``.

    A failing plugin is reported, not fatal; a duplicate slug is an error and skipped.
    """
    models: dict[str, PresetModel] = {}
    errors: list[str] = []
    for impl in pm.hook.weirsoe_register_preset_models.get_hookimpls():
        try:
            result: Any = impl.function()
            provided = list(result or ())
        except Exception as exc:  # a broken cartridge must not take the platform down
            errors.append(f"{impl.plugin_name}: {type(exc).__name__}: {exc}")
            continue
        for model in provided:
            if not isinstance(model, PresetModel):
                errors.append(
                    f"{impl.plugin_name}: returned {type(model).__name__}, not PresetModel"
                )
            elif model.cartridge in models:
                errors.append(f"{impl.plugin_name}: duplicate preset model for {model.cartridge!r}")
            else:
                models[model.cartridge] = model
    return models, errors
