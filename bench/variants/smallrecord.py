"""``weirsoe serve`` whose Redis compare-and-sets write an eighth of each record: the upper
bound of writing only a record's changed parts (docs/performance.md, lever 33, section 78).

    uv run python bench/capacity.py --redis --variant smallrecord ...

A measurement, never code to keep: it is right only for one process. Each compare-and-set
sends the first eighth of the record's bytes (a commit changes 13 % of them on average,
section 76), and the process keeps the whole record of each room's last commit beside it.
A load that finds the version this process wrote gets that record back in place of the
stored fragment, so the rooms play on as before. What it removes is what the lever would:
the bytes packed, written to Redis and stored by its script. What the lever would add (the
diff of each commit's parts, and joining them on a load) it leaves out.
"""

from __future__ import annotations

import sys
from typing import Any

from weirsoe_platform.cli import main
from weirsoe_platform.sessions import _redis_store

Store = _redis_store.RedisSessionStore
_compare_and_set = Store.compare_and_set
_load = Store.load
_load_unless = Store.load_unless
_whole: dict[str, tuple[int, bytes]] = {}  # room -> the version this process wrote, its record


async def compare_and_set(
    self: Any,
    code: str,
    expected: int,
    version: int,
    data: bytes,
    ttl: float,
    *args: Any,
    **kwargs: Any,
) -> bool:
    won = await _compare_and_set(
        self, code, expected, version, data[: max(1, len(data) // 8)], ttl, *args, **kwargs
    )
    if won:
        _whole[code] = (version, data)
    return won


def _restored(code: str, found: Any) -> Any:
    if isinstance(found, tuple):
        kept = _whole.get(code)
        if kept is not None and kept[0] == found[0]:
            return kept
    return found


async def load(self: Any, code: str) -> Any:
    return _restored(code, await _load(self, code))


async def load_unless(self: Any, code: str, version: int, stamp: str) -> Any:
    return _restored(code, await _load_unless(self, code, version, stamp))


Store.compare_and_set = compare_and_set  # type: ignore[method-assign]
Store.load = load  # type: ignore[method-assign]
Store.load_unless = load_unless  # type: ignore[method-assign]
sys.exit(main())
