"""Presets: a host's named settings for one cartridge, validated by the cartridge's schema.

The ``presets`` row always keeps the settings as JSON, so a preset whose cartridge was
uninstalled is still listed (``available: false``). A cartridge that registers a
:class:`~weirsoe_sdk.PresetModel` also gets a typed row in its own table; while it is installed,
that row is what the preset's settings are read from.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from weirsoe_sdk import Cartridge, Discovery, PresetModel, WeirsoeError

from ._db import Database
from ._db_errors import database_errors
from ._errors import InvalidValue, PresetConflict, PresetNotFound
from ._models import Preset, utcnow

__all__ = ["MAX_PRESETS", "PresetStore"]

log = logging.getLogger("weirsoe.presets")
MAX_NAME = 64
MAX_PRESETS = 200


def check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME or any(ch < " " or ch == "\x7f" for ch in name):
        raise InvalidValue(f"name: 1 to {MAX_NAME} printable characters", field="name")
    return name


def _iso(moment: datetime) -> str:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


_MAX_ID = 2**63 - 1


class PresetStore:
    def __init__(
        self, db: Database, *, cartridges: Discovery, models: Mapping[str, PresetModel]
    ) -> None:
        self.db = db
        self.cartridges = cartridges
        self.models = dict(models)

    # -- reading ---------------------------------------------------------------------------
    async def list_owned(self, owner: int) -> list[dict[str, Any]]:
        with database_errors():
            async with self.db.session() as session:
                presets = list(
                    await session.scalars(
                        select(Preset).where(Preset.owner_id == owner).order_by(Preset.id)
                    )
                )
                rows = await self._rows(session, presets)
        return [self._view(p, rows.get(p.id)) for p in presets]

    async def get(self, owner: int, preset_id: int) -> dict[str, Any]:
        with database_errors():
            async with self.db.session() as session:
                preset = await self._owned(session, owner, preset_id)
                rows = await self._rows(session, [preset])
        return self._view(preset, rows.get(preset.id))

    async def for_session(self, owner: int, preset_id: int) -> tuple[str, dict[str, Any]]:
        """``(cartridge, settings)`` to start a session with: a copy, so later edits of the
        preset never reach a running game."""
        view = await self.get(owner, preset_id)
        if not view["available"]:
            raise InvalidValue(
                f"cartridge {view['cartridge']!r} of this preset is not installed",
                code="unknown_cartridge",
                field="preset_id",
            )
        return view["cartridge"], dict(view["settings"])

    # -- writing ---------------------------------------------------------------------------
    async def create(self, owner: int, cartridge: str, name: str, settings: Any) -> dict[str, Any]:
        name = check_name(name)
        found = self._installed(cartridge)
        value = found.load_settings(settings)
        with database_errors():
            async with self.db.session() as session:
                count = await session.scalar(
                    select(func.count()).select_from(Preset).where(Preset.owner_id == owner)
                )
                if (count or 0) >= MAX_PRESETS:
                    raise PresetConflict(
                        f"at most {MAX_PRESETS} presets per account", code="too_many_presets"
                    )
                preset = Preset(
                    owner_id=owner,
                    cartridge=cartridge,
                    name=name,
                    settings=msgspec.to_builtins(value),
                )
                session.add(preset)
                await session.flush()
                row = await self._write_row(session, preset, value)
                await session.commit()
        return self._view(preset, row)

    async def update(
        self,
        owner: int,
        preset_id: int,
        *,
        name: str | None = None,
        settings: Any = None,
        cartridge: str | None = None,
    ) -> dict[str, Any]:
        with database_errors():
            async with self.db.session() as session:
                preset = await self._owned(session, owner, preset_id)
                if cartridge is not None and cartridge != preset.cartridge:
                    raise PresetConflict(
                        "a preset's cartridge cannot change",
                        code="cartridge_fixed",
                        field="cartridge",
                    )
                if name is not None:
                    preset.name = check_name(name)
                row = (await self._rows(session, [preset])).get(preset.id)
                if settings is not None:
                    value = self._installed(preset.cartridge).load_settings(settings)
                    preset.settings = msgspec.to_builtins(value)
                    if row is not None:
                        await session.delete(row)
                        await session.flush()
                    row = await self._write_row(session, preset, value)
                preset.updated_at = utcnow()
                await session.commit()
        return self._view(preset, row)

    async def delete(self, owner: int, preset_id: int) -> None:
        with database_errors():
            async with self.db.session() as session:
                preset = await self._owned(session, owner, preset_id)
                await session.delete(preset)  # the cartridge's row goes by ON DELETE CASCADE
                await session.commit()

    # -- helpers ---------------------------------------------------------------------------
    def _installed(self, slug: str) -> Cartridge:
        try:
            return self.cartridges.get(slug)
        except WeirsoeError as exc:
            raise InvalidValue(exc.message, code="unknown_cartridge", field="cartridge") from None

    @staticmethod
    async def _owned(session: AsyncSession, owner: int, preset_id: int) -> Preset:
        if not 1 <= preset_id <= _MAX_ID:  # beyond SQL's 64-bit integers: no such row
            raise PresetNotFound(f"no preset {preset_id}")
        preset = await session.get(Preset, preset_id)
        if preset is None or preset.owner_id != owner:
            raise PresetNotFound(f"no preset {preset_id}")
        return preset

    async def _rows(self, session: AsyncSession, presets: list[Preset]) -> dict[int, Any]:
        """The cartridges' own rows for these presets, by preset id (installed models only)."""
        wanted: dict[str, list[int]] = {}
        for p in presets:
            if p.cartridge in self.models and p.cartridge in self.cartridges.cartridges:
                wanted.setdefault(p.cartridge, []).append(p.id)
        out: dict[int, Any] = {}
        for slug, ids in wanted.items():
            model = self.models[slug].model
            for row in await session.scalars(select(model).where(model.preset_id.in_(ids))):
                out[row.preset_id] = row
        return out

    async def _write_row(self, session: AsyncSession, preset: Preset, value: Any) -> Any:
        spec = self.models.get(preset.cartridge)
        if spec is None:
            return None
        row = spec.settings_to_row(value)
        row.preset_id = preset.id
        session.add(row)
        await session.flush()
        return row

    def _settings(self, preset: Preset, row: Any) -> tuple[dict[str, Any], bool]:
        cartridge = self.cartridges.cartridges.get(preset.cartridge)
        if cartridge is None:
            return dict(preset.settings), False
        spec = self.models.get(preset.cartridge)
        source = (
            spec.row_to_settings(row) if spec is not None and row is not None else preset.settings
        )
        try:
            return msgspec.to_builtins(cartridge.load_settings(source)), True
        except WeirsoeError as exc:  # stored before the cartridge tightened its schema
            log.warning("preset %s: stored settings no longer valid: %s", preset.id, exc.message)
            return dict(preset.settings), True

    def _view(self, preset: Preset, row: Any) -> dict[str, Any]:
        settings, available = self._settings(preset, row)
        return {
            "id": preset.id,
            "cartridge": preset.cartridge,
            "name": preset.name,
            "settings": settings,
            "available": available,
            "created_at": _iso(preset.created_at),
            "updated_at": _iso(preset.updated_at),
        }
