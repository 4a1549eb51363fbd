"""The last record each room committed *from this process*, keyed by room code.

The service tries a transition on the cached copy first and skips the load round trip; the
compare-and-set (a Lua script on Redis) checks the version, so a copy that another process
has overtaken only costs one failed compare-and-set, after which the service loads and tries
again. Refusals and no-ops judged on a cached copy are judged again on a fresh load.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_CACHED_ROOMS", "DecodedCache", "RecordCache"]

MAX_CACHED_ROOMS = 10_000
# A decoded table of Weirsøe Lies is about 53 KiB of objects at the end of an 8-player game
# (less before): 2,048 rooms cap the cache near 110 MiB. The cache must hold every room a
# process serves: a room commits about once a second and its players read within a second, so
# with more rooms than entries, most reads found their room evicted by the commits of others.
# At 1,000 rooms and a cap of 512, a quarter of all decodes were such misses; at 2,048 none,
# for 10 MiB more RSS (docs/performance.md, section 32).
MAX_DECODED_ROOMS = 2048

_refs: Callable[[object], int] | None = getattr(sys, "getrefcount", None)


class _LeastRecent:
    """A dict by room code that keeps the ``limit`` most recently stored entries."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._data: dict[str, Any] = {}

    def _keep(self, code: str, value: Any) -> None:
        self._data.pop(code, None)  # re-inserted last: the dict's order is least recent first
        self._data[code] = value
        if len(self._data) > self.limit:
            del self._data[next(iter(self._data))]

    def forget(self, code: str) -> None:
        self._data.pop(code, None)

    def __len__(self) -> int:
        return len(self._data)


class RecordCache(_LeastRecent):
    def __init__(self, *, enabled: bool = True, limit: int = MAX_CACHED_ROOMS) -> None:
        super().__init__(limit)
        self.enabled = enabled
        self.hits = 0  # transitions committed without a load
        self.stale = 0  # cached copies another process had overtaken

    def get(self, code: str) -> bytes | None:
        return self._data.get(code) if self.enabled else None

    def remember(self, code: str, data: bytes, status: str) -> None:
        if not self.enabled:
            return
        if status == "closed":
            self._data.pop(code, None)
            return
        self._keep(code, data)


class DecodedCache(_LeastRecent):
    """The last decoded record per room, for the paths that only read it (snapshots, sign-ins,
    room info), checked against the stored bytes on every use.

    After a phase event every player's client asks for a snapshot of the same version; the
    first one decodes the table and the others reuse it, and a version this process committed
    is not decoded at all: the service puts the committed table here (nothing changes it after
    its commit). A hit needs the very bytes the store holds (the same object in memory, equal
    bytes from Redis), so a copy can never be staler than the store. Views must not change the
    table they are given (the SDK's contract: views are pure), since the table is shared.

    A transition changes the table it runs on, so it only ever :meth:`take` s an entry that
    nothing else refers to: the entry leaves the cache first, and no reader can see the table
    change. Most transitions of a room find the table its last one committed, and skip a
    decode (docs/performance.md, section 33).
    """

    def __init__(self, limit: int = MAX_DECODED_ROOMS) -> None:
        super().__init__(limit)
        self.hits = 0
        self.taken = 0  # committed tables a transition took over instead of decoding
        self.unchanged = 0  # reads the store confirmed by version, without sending the record
        self.seen = 0  # reads of the version a room's sockets were sent last, without the store

    def known(self, code: str) -> tuple[int, str, int] | None:
        """``(version, stamp, stored)`` of the record held for ``code``: its version and stamp
        to ask the store whether it is still the stored one (``SessionStore.load_unless``),
        and when it was stored here (``time.monotonic_ns``)."""
        hit = self._data.get(code)
        return None if hit is None else (hit[1].version, hit[1].host_token, hit[3])

    def still(self, code: str, version: int, stamp: str) -> tuple[Any, Any] | None:
        """The record and table held for ``code`` once the store said ``version`` of the room
        created with ``stamp`` is the stored one: the entry if it is still of that room and
        at least that version (a commit of this process may have replaced it meanwhile, with
        a newer committed version), else None."""
        hit = self._data.get(code)
        if hit is None or hit[1].host_token != stamp or hit[1].version < version:
            return None
        self.hits += 1
        return hit[1], hit[2]

    def get(self, code: str, data: bytes) -> tuple[Any, Any] | None:
        hit = self._data.get(code)
        if hit is None or (hit[0] is not data and hit[0] != data):
            return None
        self.hits += 1
        return hit[1], hit[2]

    def put(self, code: str, data: bytes, record: Any, table: Any) -> None:
        self._keep(code, (data, record, table, time.monotonic_ns()))

    def take(self, code: str, data: bytes) -> tuple[Any, Any] | None:
        """The decoded record and table of ``data`` for a transition to change, if nothing
        but this cache refers to either: the entry leaves the cache, and the transition
        saves a decode. Else None, and the transition decodes a copy of its own.

        A reader holding the record or the table (a snapshot across its await, a caller
        keeping a step) is seen in its reference count, so what a reader holds never
        changes under it. The count is CPython's: 2 is the entry's tuple and the argument;
        where there is none (PyPy), nothing is taken."""
        hit = self._data.get(code)
        if hit is None or (hit[0] is not data and hit[0] != data) or _refs is None:
            return None
        if _refs(hit[1]) != 2 or _refs(hit[2]) != 2:
            return None
        del self._data[code]
        self.taken += 1
        return hit[1], hit[2]
