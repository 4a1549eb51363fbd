"""``weirsoe_track_event``: a plugin that implements it hears of every event a committed
transition published, in version order, without payloads; one that raises breaks no game; and
with no implementation the hook is not called at all (it cost a few µs per transition)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from _service_support import memory_service

from weirsoe_platform.sessions import SessionService
from weirsoe_sdk import get_plugin_manager, hookimpl


class Tracker:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, int]] = []

    @hookimpl
    def weirsoe_track_event(self, code: str, cartridge: str, event_type: str, version: int) -> None:
        self.seen.append((code, cartridge, event_type, version))


class Broken:
    @hookimpl
    def weirsoe_track_event(self, code: str, cartridge: str, event_type: str, version: int) -> None:
        raise RuntimeError("the analytics backend is down")


def _service(*plugins: object) -> SessionService:
    return memory_service(plugins=get_plugin_manager(entry_points=False, plugins=plugins))


async def test_a_tracker_hears_every_committed_event_in_version_order() -> None:
    tracker = Tracker()
    service = _service(tracker)
    code, host = await service.create("rps")
    await service.join(code, "Ann")
    await service.join(code, "Bob")
    table = await service.control(code, host, "play")
    assert tracker.seen, "no event tracked"
    assert {c for c, _, _, _ in tracker.seen} == {code}
    assert {c for _, c, _, _ in tracker.seen} == {"rps"}
    versions = [v for _, _, _, v in tracker.seen]
    assert versions == sorted(versions)
    assert versions[-1] == table.version
    types = [t for _, _, t, _ in tracker.seen]
    assert types.count("session.player_joined") == 2
    assert "session.started" in types


async def test_a_tracker_that_raises_breaks_nothing(caplog: pytest.LogCaptureFixture) -> None:
    tracker = Tracker()
    service = _service(Broken(), tracker)
    code, _host = await service.create("rps")
    with caplog.at_level(logging.ERROR, logger="weirsoe"):
        await service.join(code, "Ann")
        await service.join(code, "Bob")
    _record, table = await service.read(code)
    assert [s.name for s in table.players] == ["Ann", "Bob"]
    assert len(tracker.seen) >= 2  # the other plugin still heard everything
    assert any("weirsoe_track_event failed" in r.getMessage() for r in caplog.records)


async def test_without_a_tracker_the_hook_is_not_called(monkeypatch: pytest.MonkeyPatch) -> None:
    service = _service()
    assert service.plugins is not None
    hook = service.plugins.hook.weirsoe_track_event
    calls: list[dict[str, Any]] = []
    real_call = type(hook).__call__

    def spy(self: Any, **kwargs: Any) -> Any:
        if self is hook:
            calls.append(kwargs)
        return real_call(self, **kwargs)

    monkeypatch.setattr(type(hook), "__call__", spy)
    code, _host = await service.create("rps")
    await service.join(code, "Ann")
    assert calls == []
    tracker = Tracker()
    service.plugins.register(tracker)
    await service.join(code, "Bob")  # a tracker registered later is heard from then on
    assert calls
    assert tracker.seen
    assert tracker.seen[-1][2] == "session.player_joined"
