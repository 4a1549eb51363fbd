"""The last record each room committed *from this process*, keyed by room code.

The service tries a transition on the cached copy first and skips the load round trip; the
compare-and-set (a Lua script on Redis) checks the version, so a copy that another process
has overtaken only costs one failed compare-and-set, after which the service loads and tries
again. Refusals and no-ops judged on a cached copy are judged again on a fresh load.
"""

from __future__ import annotations

__all__ = ["MAX_CACHED_ROOMS", "RecordCache"]

MAX_CACHED_ROOMS = 10_000


class RecordCache:
    def __init__(self, *, enabled: bool = True, limit: int = MAX_CACHED_ROOMS) -> None:
        self.enabled = enabled
        self.limit = limit
        self._data: dict[str, bytes] = {}
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
        self._data.pop(code, None)  # re-inserted last: the dict's order is least recent first
        self._data[code] = data
        if len(self._data) > self.limit:
            del self._data[next(iter(self._data))]

    def forget(self, code: str) -> None:
        self._data.pop(code, None)

    def __len__(self) -> int:
        return len(self._data)
