"""Registers Weirsøe Lies with the platform (entry point ``weirsoe.cartridges``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weirsoe_sdk import Cartridge, hookimpl

if TYPE_CHECKING:  # SQLAlchemy only when the platform asks for preset models
    from weirsoe_sdk import PresetModel

from .actions import LiesAction
from .audience import TALLIES
from .bot import LiesBot
from .content import load_packs
from .contract import ERRORS, VIEWS
from .driver import LiesDriver
from .events import EVENTS
from .settings import LiesSettings, pack_choices
from .state import LiesState

__all__ = ["make_cartridge", "weirsoe_register_cartridges", "weirsoe_register_preset_models"]


def make_cartridge(content_dir: Path | None = None) -> Cartridge:
    from . import INFO

    extra = [content_dir / INFO.slug] if content_dir and (content_dir / INFO.slug).is_dir() else []
    driver = LiesDriver(load_packs(extra))
    return Cartridge(
        info=INFO,
        driver=driver,
        settings_type=LiesSettings,
        state_type=LiesState,
        action_type=LiesAction,
        events=EVENTS,
        bot=LiesBot(),
        ui_dir=Path(__file__).parent / "ui",
        check_settings=driver.check_settings,
        tallies=TALLIES,
        refine_settings_schema=pack_choices(driver.packs),
        errors=ERRORS,
        view_types=VIEWS,
    )


@hookimpl
def weirsoe_register_cartridges(config: dict[str, Any]) -> Iterable[Cartridge]:
    folder = config.get("content_dir")
    return [make_cartridge(Path(folder) if folder else None)]


@hookimpl
def weirsoe_register_preset_models() -> Iterable[PresetModel]:
    from .models import PRESET_MODEL  # SQLAlchemy only when the platform asks

    return [PRESET_MODEL]
