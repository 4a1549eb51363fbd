"""A socket never gets a room message older than its first snapshot after it
(``transport._ws._Forwarder``): a change committed between the socket's subscription and its
snapshot is in the snapshot, and its messages, still on their way (on Redis, from another
process through pub/sub), are not sent after it. Snapshots, closing messages and messages
without a version always go."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from _service_support import memory_service

from weirsoe_platform.sessions._service import SessionKicked, SessionVersion
from weirsoe_platform.transport import Subscription
from weirsoe_platform.transport._direct import EXTENSION
from weirsoe_platform.transport._ws import _forward_events
from weirsoe_sdk import Viewer, encode_message


class FakeSocket:
    """The ASGI side of a socket: what was sent, in order, by either path."""

    def __init__(self, direct: bool) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed: int | None = None
        self.scope: dict[str, Any] = {}
        if direct:
            self.scope["extensions"] = {EXTENSION: {"write": self._write}}

    def _write(self, frame: bytes) -> bool:
        # A server frame: FIN + text opcode, a length, then the payload.
        size = frame[1] & 0x7F
        start = 2 if size < 126 else 4 if size == 126 else 10
        self.sent.append(json.loads(frame[start:]))
        return True

    async def send(self, event: dict[str, Any]) -> None:
        self.sent.append(json.loads(event["text"]))

    async def close(self, code: int, reason: str = "") -> None:
        self.closed = code


def _event(version: int, event: Any = None) -> bytes:
    return encode_message(
        event or SessionVersion(), version=version, server_time=1.0, deadline=None
    )


@pytest.mark.parametrize("direct", [True, False], ids=["direct write", "ASGI send"])
async def test_messages_no_newer_than_the_first_snapshot_are_not_sent_after_it(
    direct: bool,
) -> None:
    service = memory_service()
    code, _ = await service.create("weirsoe_lies", seed=1)
    ann, _, _ = await service.join(code, "Ann")
    await service.join(code, "Bob")
    snapshot = await service.snapshot(code, Viewer("player", ann))
    first = json.loads(snapshot)["version"]
    assert first == 2

    socket = FakeSocket(direct)
    sub = Subscription()
    # Bob's join (version 2) and Ann's own (1) were on their way when the snapshot was read.
    sub.put_nowait(_event(1))
    sub.put_nowait(_event(2))
    sub.put_nowait(b'{"type":"ack","id":"a1","version":0,"duplicate":false}')
    task = asyncio.create_task(_forward_events(socket, sub, service, first))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    sub.put_nowait(snapshot)  # a sync's snapshot of the same version still goes
    sub.put_nowait(_event(3))
    sub.put_nowait(_event(3))  # one change, several messages: all go
    sub.put_nowait(_event(4))
    await asyncio.sleep(0.01)
    assert [(m["type"], m.get("version")) for m in socket.sent] == [
        ("ack", 0),
        ("session.snapshot", 2),
        ("session.version", 3),
        ("session.version", 3),
        ("session.version", 4),
    ]
    task.cancel()


async def test_a_closing_message_goes_even_when_it_is_no_newer_than_the_snapshot() -> None:
    service = memory_service()
    socket = FakeSocket(direct=True)
    sub = Subscription()
    sub.put_nowait(_event(5, SessionKicked(player_id="p1")))
    await asyncio.wait_for(_forward_events(socket, sub, service, 5), 1)  # type: ignore[arg-type]
    assert [m["type"] for m in socket.sent] == ["session.kicked"]
    assert socket.closed is not None
