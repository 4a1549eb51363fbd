"""Rooms with sockets on this process, and the watch that tells them when a room is lost.

Redis holds game state without persistence by default: a restart loses every room. The
sockets of a lost room would otherwise wait forever (nothing is ever published there again),
and a passive host screen would freeze. Every ``interval`` seconds the watch asks the store
which of this process's rooms still exist. A room missing at two checks in a row (so a room
the host just closed, whose sockets are closing anyway, is not announced twice) gets
``session.closed`` with reason ``lost`` on each of its local sockets, which then close with
4410. While the store is unreachable nothing is announced: an outage is not a loss.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from weirsoe_sdk import SessionClosed, encode_message

from ..sessions import SessionService

__all__ = ["LOST", "RoomWatch", "lost_message"]

LOST = b"weirsoe:room-lost"


def lost_message(last_version: int, now: float) -> bytes:
    """``session.closed`` (reason ``lost``) as the version after ``last_version``."""
    return encode_message(
        SessionClosed(reason="lost"), version=last_version + 1, server_time=now, deadline=None
    )


log = logging.getLogger("weirsoe.rooms")


class RoomWatch:
    def __init__(self, *, interval: float = 2.0) -> None:
        self.interval = interval
        self.rooms: dict[str, set[Any]] = {}
        self._missing: set[str] = set()
        self.announced = 0

    def add(self, code: str, subscriber: Any) -> None:
        self.rooms.setdefault(code, set()).add(subscriber)

    def discard(self, code: str, subscriber: Any) -> None:
        subscribers = self.rooms.get(code)
        if subscribers is None:
            return
        subscribers.discard(subscriber)
        if not subscribers:
            del self.rooms[code]
            self._missing.discard(code)

    async def check(self, service: SessionService) -> list[str]:
        """One pass: announce the rooms missing twice in a row; returns their codes."""
        codes = list(self.rooms)
        if not codes:
            self._missing.clear()
            return []
        present = await service.store.existing(codes)
        missing = {c for c in codes if c not in present}
        lost = sorted(missing & self._missing)
        self._missing = missing - set(lost)
        for code in lost:
            await self._announce(code, service)
        return lost

    async def _announce(self, code: str, service: SessionService) -> None:
        subscribers = self.rooms.pop(code, set())
        # Each socket's sender turns the mark into ``session.closed`` with the version after
        # the last one that socket saw, so clients accept it as the next event.
        for subscriber in subscribers:
            subscriber.put_nowait(LOST)
        self.announced += len(subscribers)
        log.warning(
            "room %s was lost by the state store; told %d socket(s)", code, len(subscribers)
        )

    async def watch_forever(self, service: SessionService) -> None:
        while True:
            await asyncio.sleep(self.interval)
            started = time.monotonic()
            try:
                await self.check(service)
            except ConnectionError:  # StoreUnavailable: an outage is not a loss
                self._missing.clear()
            took = time.monotonic() - started
            if took > self.interval:
                log.warning("room watch took %.1f s for %d rooms", took, len(self.rooms))
