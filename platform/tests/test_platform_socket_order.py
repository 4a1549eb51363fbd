"""A socket never gets a room event of its first snapshot's version or older after it
(``transport._ws._Forwarder``): a change committed between the socket's subscription and its
snapshot is in the snapshot, and its messages, still on their way (on Redis, from another
process through pub/sub), are not sent after it. Snapshots, closing messages and messages
without an envelope always go. The ASGI socket is a stand-in that records what was sent;
Redis is the real one at 127.0.0.1:6379."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from _redis_processes import two_processes
from _service_support import memory_service

from weirsoe_platform.sessions import Conflict
from weirsoe_platform.sessions._service import SessionKicked, SessionVersion
from weirsoe_platform.transport import Hub, Subscription
from weirsoe_platform.transport._direct import EXTENSION, holding
from weirsoe_platform.transport._messages import Ack, ErrorReply
from weirsoe_platform.transport._ws import _forward_events, _handle
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


_encoder = msgspec.json.Encoder()


def _event(version: int, event: Any = None) -> bytes:
    return encode_message(
        event or SessionVersion(), version=version, server_time=1.0, deadline=None
    )


async def _until(check: Callable[[], bool]) -> None:
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


@pytest.mark.parametrize("direct", [True, False], ids=["direct write", "ASGI send"])
async def test_events_that_raced_a_sockets_first_snapshot_are_not_sent_after_it(
    redis_cleanup: str, direct: bool
) -> None:
    """Two processes on the real Redis. A socket of ``near`` subscribes, another process
    commits two joins (their frames held on their way, pub/sub's own delay made longer), and
    the socket's snapshot, read after them, shows both: their frames are not sent after it."""
    async with two_processes(redis_cleanup) as (near, far):
        here, there = near.service, far.service
        code, _ = await there.create("weirsoe_lies", seed=1)
        ann, _, _ = await there.join(code, "Ann")
        viewer = Viewer("player", ann)
        sub = await near.hub.subscribe(here.viewer_channels(code, viewer))  # as a socket does
        near.hold()
        await there.join(code, "Bob")
        await there.join(code, "Cy")
        snapshot = await here.snapshot(code, viewer)
        first = json.loads(snapshot)["version"]
        assert first == 3

        socket = FakeSocket(direct)
        task = asyncio.create_task(_forward_events(socket, sub, here, first))  # type: ignore[arg-type]
        try:
            await asyncio.sleep(0.01)
            # The client syncs at once: a snapshot of the same version still goes.
            await sub.put(await here.snapshot(code, viewer, seen=True))
            assert near.release() == 2  # Bob's and Cy's joins, versions 2 and 3
            await sub.put(_encoder.encode(Ack(id="a1", version=first)))  # no envelope: goes
            await there.join(code, "Dee")  # newer than the snapshot: goes
            await _until(lambda: any(m.get("version") == 4 for m in socket.sent))
        finally:
            task.cancel()
        kinds = [(m["type"], m["version"]) for m in socket.sent]
        assert kinds[:2] == [("session.snapshot", 3), ("ack", 3)]
        assert kinds[2:]
        assert all(version == 4 for _, version in kinds[2:])


async def test_a_closing_message_goes_even_when_it_is_no_newer_than_the_snapshot() -> None:
    service = memory_service()
    socket = FakeSocket(direct=True)
    sub = Subscription()
    sub.put_nowait(_event(5, SessionKicked(player_id="p1")))
    await asyncio.wait_for(_forward_events(socket, sub, service, 5), 1)  # type: ignore[arg-type]
    assert [m["type"] for m in socket.sent] == ["session.kicked"]
    assert socket.closed is not None


@pytest.mark.parametrize("after", ["returns", "fails", "errs"])
async def test_an_action_acknowledged_at_its_commit_is_answered_once(
    redis_cleanup: str, after: str
) -> None:
    """An action the service acknowledged at its commit (``act(acked=...)``: on Redis, as the
    compare-and-set's reply is read) is answered there, once, after the commit's events: not
    again when the call returns, nor with an error when what ran after the commit failed (a
    bug, or a refusal from the service: the action stands). The real Redis at
    127.0.0.1:6379, two processes."""
    async with two_processes(redis_cleanup) as (near, _):
        service, hub = near.service, near.hub
        code, host = await service.create("rps", {"rounds": 3, "throw_seconds": 60})
        p0, _p1 = [(await service.join(code, f"P{i}"))[0] for i in range(2)]
        who = (Viewer(role="player", player_id=p0), None)
        sub = await hub.subscribe(service.viewer_channels(code, who[0]))
        events = sub.iter_events()
        await service.control(code, host, "play")
        started, _ = await service.load(code)
        while json.loads(await asyncio.wait_for(anext(events), 5))["version"] < started.version:
            pass  # the start reaches the hub through Redis: it knows what comes next
        for _ in range(sub.qsize):  # the start's other events
            await anext(events)
        if after != "returns":
            committed = service._after_commit

            async def then_fail(*args: Any) -> None:  # what runs after the commit fails
                await committed(*args)
                if after == "fails":
                    raise RuntimeError("a bug after the commit")
                raise Conflict("the room is busy, please retry")

            service._after_commit = then_fail  # type: ignore[method-assign]

        frame = b'{"type":"action","id":"a1","action":{"type":"throw","move":"rock"}}'
        assert await _handle(frame, service, code, who, sub) is None
        got = [json.loads(await anext(events)) for _ in range(sub.qsize)]
        assert got[-1] == {
            "type": "ack",
            "id": "a1",
            "version": started.version + 1,
            "duplicate": False,
        }, "answered at the commit, after its events"
        assert [m["type"] for m in got].count("ack") == 1, "and only there"
        assert all(m["version"] == started.version + 1 for m in got[:-1])


async def test_an_embedded_action_is_answered_with_its_commit_in_one_holding_scope() -> None:
    """Embedded, an action that changed the room is answered as its commit is delivered
    (``Hub.deliver_local``): the acknowledgement is the acting socket's last frame of that
    commit, written in the same holding scope as its events, so the socket gets them in one
    write (``transport/_direct.py``); not a second time when the call returns. A refused
    action is answered on return, with its error and outside any scope."""
    hub = Hub()
    service = memory_service(publisher=hub)
    code, host = await service.create("rps", {"rounds": 3, "throw_seconds": 60})
    p0, _p1 = [(await service.join(code, f"P{i}"))[0] for i in range(2)]
    who = (Viewer(role="player", player_id=p0), None)
    await service.control(code, host, "play")
    sub = await hub.subscribe(service.viewer_channels(code, who[0]))
    written: list[tuple[dict[str, Any], bool]] = []

    def direct(data: bytes) -> bool:
        written.append((json.loads(data), holding()))
        return True

    sub.direct = direct
    forwarding = asyncio.create_task(_forward_events_of(sub))
    await asyncio.sleep(0)  # the sending task parks: frames go by the direct write
    before, _ = await service.load(code)
    frame = b'{"type":"action","id":"a1","action":{"type":"throw","move":"rock"}}'
    assert await _handle(frame, service, code, who, sub) is None, "answered at the commit"
    assert written, "the commit's frames were written"
    assert written[-1][0] == {
        "type": "ack",
        "id": "a1",
        "version": before.version + 1,
        "duplicate": False,
    }, "the acknowledgement came last"
    assert len(written) >= 2, "after the commit's events"
    assert all(held for _, held in written), "all in the commit's holding scope"
    assert [m["type"] for m, _ in written].count("ack") == 1
    assert all(m["version"] == before.version + 1 for m, _ in written)
    assert not holding()

    written.clear()
    refused = b'{"type":"action","id":"a2","action":{"type":"throw","move":"paper"}}'
    reply = await _handle(refused, service, code, who, sub)
    assert isinstance(reply, ErrorReply)
    assert reply.id == "a2"
    assert written == [], "a refused action changes nothing and is answered on return"
    forwarding.cancel()


async def _forward_events_of(sub: Subscription) -> None:
    async for _ in sub.iter_events():  # what the direct write refused: nothing here
        raise AssertionError("a frame missed the direct write")
