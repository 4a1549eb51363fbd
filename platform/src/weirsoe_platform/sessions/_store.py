"""The session store interface and its in-memory implementation."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Literal

__all__ = ["DeadlineChange", "MemorySessionStore", "SessionStore"]

# None: unchanged; "clear"; or (key, serial, at) for a new running deadline.
DeadlineChange = tuple[str, int, float] | Literal["clear"] | None


class SessionStore(ABC):
    """Keeps encoded session records with a version and a time-to-live.

    ``create`` and ``compare_and_set`` are atomic: of two writers racing on the same version,
    exactly one wins.

    A store with ``publishes`` set publishes a winning write's messages in the same atomic
    step, so that subscribers everywhere receive versions in order even when several
    processes commit one after another; otherwise the service publishes after the write.
    """

    publishes = False
    round_trips = False  # True: ``load`` costs a network round trip (the service caches records)
    schedules = False  # True: ``compare_and_set`` also records the running deadline

    @abstractmethod
    async def create(
        self, code: str, data: bytes, version: int, ttl: float, *, stamp: str = ""
    ) -> bool:
        """Store a new record; False if ``code`` is already taken. ``stamp`` tells this room
        from any later room under the same code (see :meth:`load_unless`)."""

    @abstractmethod
    async def load(self, code: str) -> tuple[int, bytes] | None:
        """``(version, data)``, or None if there is no such (live) session."""

    async def load_unless(
        self, code: str, version: int, stamp: str
    ) -> tuple[int, bytes] | Literal[True] | None:
        """As :meth:`load`, but True instead of the record while the stored one is still
        ``version`` of the room created with ``stamp``: a reader holding that version decoded
        is spared the record's bytes. A store where :meth:`load` costs nothing just loads."""
        return await self.load(code)

    @abstractmethod
    async def compare_and_set(
        self,
        code: str,
        expected: int,
        version: int,
        data: bytes,
        ttl: float,
        messages: list[tuple[bytes, list[str]]] | None = None,
        deadline: DeadlineChange = None,
        *,
        committed: Callable[[], None] | None = None,
        quiet: str | None = None,
    ) -> bool:
        """Replace the record if its version is still ``expected`` (and, if this store
        ``publishes``, publish ``messages`` with it).

        ``committed``: called once if the write won, before this returns. A store that reads
        its answer off the network calls it as the answer is read, ahead of the loop turn in
        which the awaiting task resumes (what it does is then not delayed by a busy loop).

        ``quiet`` (a store that publishes): the committing process's proof that it listens
        to the room and delivers ``messages`` itself (``Hub.quiet``); they are then
        published only for other processes. Other stores ignore it."""

    @abstractmethod
    async def delete(self, code: str) -> None:
        """Remove every trace of the session."""

    @abstractmethod
    async def count(self) -> int:
        """How many sessions are stored (expired ones excluded)."""

    async def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release connections."""

    async def ping(self) -> bool:
        return True

    async def existing(self, codes: list[str]) -> set[str]:
        """Which of ``codes`` are live sessions (one round trip where the store allows)."""
        return {code for code in codes if await self.load(code) is not None}

    def local_count(self) -> int | None:
        """How many sessions, if this store can tell without I/O; else None."""
        return None


class MemorySessionStore(SessionStore):
    """For one process. Expired records are dropped on access and by :meth:`sweep`."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._items: dict[str, tuple[int, bytes, float]] = {}

    def _live(self, code: str) -> tuple[int, bytes, float] | None:
        item = self._items.get(code)
        if item is not None and item[2] <= self._clock():
            del self._items[code]
            return None
        return item

    async def create(
        self, code: str, data: bytes, version: int, ttl: float, *, stamp: str = ""
    ) -> bool:
        if self._live(code) is not None:
            return False
        self._items[code] = (version, data, self._clock() + ttl)
        return True

    async def load(self, code: str) -> tuple[int, bytes] | None:
        item = self._live(code)
        return None if item is None else (item[0], item[1])

    async def compare_and_set(
        self,
        code: str,
        expected: int,
        version: int,
        data: bytes,
        ttl: float,
        messages: list[tuple[bytes, list[str]]] | None = None,
        deadline: DeadlineChange = None,
        *,
        committed: Callable[[], None] | None = None,
        quiet: str | None = None,
    ) -> bool:
        item = self._live(code)
        if item is None or item[0] != expected:
            return False
        self._items[code] = (version, data, self._clock() + ttl)
        if committed is not None:
            committed()
        return True

    async def delete(self, code: str) -> None:
        self._items.pop(code, None)

    async def count(self) -> int:
        self.sweep()
        return len(self._items)

    def local_count(self) -> int | None:
        self.sweep()
        return len(self._items)

    def sweep(self) -> int:
        """Drop expired records; returns how many were dropped."""
        now = self._clock()
        dead = [code for code, item in self._items.items() if item[2] <= now]
        for code in dead:
            del self._items[code]
        return len(dead)
