"""Regression tests for the review's session defects: 64-bit game seeds, no dead ``kicked``
list in the record (old records still decode), no benchmark buffer in the service."""

from __future__ import annotations

import msgspec
from _service_support import memory_service

from weirsoe_platform.sessions import SessionService
from weirsoe_platform.sessions._records import SessionRecord


def _service() -> SessionService:
    return memory_service()


async def test_games_are_seeded_with_64_random_bits() -> None:
    service = _service()
    runtime = service.runtimes["rps"]
    seeds = []
    for _ in range(24):
        code, _host = await service.create("rps")
        found = await service.store.load(code)
        assert found is not None
        record = msgspec.msgpack.decode(found[1], type=SessionRecord)
        seeds.append(runtime.decode(record.table).seed)
    assert all(0 <= s < 2**64 for s in seeds)
    # 36-bit seeds (the old ones) would all be below 2**36; 24 draws of 64 bits never are.
    assert max(seeds) >= 2**36
    assert len(set(seeds)) == len(seeds)


async def test_an_explicit_seed_is_kept() -> None:
    service = _service()
    code, _host = await service.create("rps", seed=12345)
    found = await service.store.load(code)
    assert found is not None
    record = msgspec.msgpack.decode(found[1], type=SessionRecord)
    assert service.runtimes["rps"].decode(record.table).seed == 12345


def test_the_record_has_no_kicked_list_and_old_records_still_decode() -> None:
    assert "kicked" not in SessionRecord.__struct_fields__
    old = msgspec.msgpack.encode(
        {
            "code": "ABCD",
            "cartridge": "rps",
            "version": 3,
            "table": b"",
            "host_token": "h",
            "kicked": ["p1"],
        }
    )
    record = msgspec.msgpack.decode(old, type=SessionRecord)
    assert (record.code, record.version) == ("ABCD", 3)


def test_the_service_keeps_no_lateness_buffer() -> None:
    assert not hasattr(_service(), "lateness")
