"""The service's two per-room caches (``sessions/_cache.py``): least recent out, and a decoded
record only for the very bytes it was decoded from."""

from __future__ import annotations

from weirsoe_platform.sessions._cache import DecodedCache, RecordCache


def test_the_record_cache_keeps_the_most_recent_rooms_and_drops_closed_ones() -> None:
    cache = RecordCache(limit=2)
    cache.remember("A", b"a1", "running")
    cache.remember("B", b"b1", "running")
    cache.remember("A", b"a2", "running")  # A is now the most recent
    cache.remember("C", b"c1", "running")  # over the limit: B, the least recent, goes
    assert (cache.get("A"), cache.get("B"), cache.get("C")) == (b"a2", None, b"c1")
    cache.remember("C", b"c2", "closed")
    assert cache.get("C") is None
    assert len(cache) == 1
    off = RecordCache(enabled=False)
    off.remember("A", b"a", "running")
    assert off.get("A") is None


def test_a_decoded_record_is_used_only_for_the_bytes_it_came_from() -> None:
    cache = DecodedCache(limit=2)
    stored = b"version-3"
    cache.put("A", stored, "record-3", "table-3")
    assert cache.get("A", stored) == ("record-3", "table-3")  # the same object
    assert cache.get("A", b"version-" + b"3") == ("record-3", "table-3")  # equal bytes
    assert cache.get("A", b"version-4") is None  # the store moved on: decode again
    assert cache.hits == 2
    cache.put("B", b"b", "rb", "tb")
    cache.put("C", b"c", "rc", "tc")  # over the limit: A goes
    assert cache.get("A", stored) is None
    cache.forget("B")
    assert cache.get("B", b"b") is None
    assert len(cache) == 1
