"""A ``SessionService`` on the memory store that publishes nowhere, for tests of the service
alone (no sockets, no Redis)."""

from __future__ import annotations

from typing import Any

from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.sessions import MemorySessionStore, SessionService
from weirsoe_platform.timers import LocalDeadlines
from weirsoe_sdk import discover_cartridges

DISCOVERY = discover_cartridges()


class Nowhere:
    async def publish(self, messages: list[tuple[bytes, list[str]]]) -> None:
        return None


def memory_service(**kwargs: Any) -> SessionService:
    """The service, with ``kwargs`` (``plugins=``, ``publisher=``…) passed on."""
    kwargs.setdefault("publisher", Nowhere())
    return SessionService(
        cartridges=DISCOVERY,
        store=MemorySessionStore(),
        deadlines=LocalDeadlines(),
        settings=PlatformSettings(),
        **kwargs,
    )
