"""The direct receive (transport/_direct.py, web/_ws_protocol.py, transport/_ws.py).

On a real uvicorn server on 127.0.0.1 with the protocol ``weirsoe serve`` uses, and a real
``websockets`` client: while the application listens, every whole message the client sends
goes to its receiver as it is read, in order, text as ``str`` and binary as ``bytes`` (a
fragmented message once, whole), and none to ``receive``; ``pause`` stops reading and reads on;
``post`` wakes ``receive``; disconnects still come through ``receive``; text that is not UTF-8
closes the socket as uvicorn does. Then the socket's side (:class:`_Inbound`): frames are
handled one at a time in order, those that come while one waits are kept (reading pauses past
a bound and resumes once they are handled), and a reason to close or a failure ends it and
wakes the socket's task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from _uvicorn import serve_app
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

from weirsoe_platform.transport import _ws
from weirsoe_platform.transport._direct import EXTENSION

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@contextlib.asynccontextmanager
async def _serve(
    app: Any, *, deflate: bool = False, max_size: int = 16 * 1024 * 1024
) -> AsyncIterator[str]:
    async with serve_app(app, deflate=deflate, max_size=max_size) as (base, _):
        yield base


async def _until(check: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_a_listening_application_gets_every_message_as_it_is_read_in_order() -> None:
    got: list[str | bytes] = []
    through_receive: list[dict[str, Any]] = []
    stop = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        offered = scope["extensions"][EXTENSION]
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        offered["listen"](got.append)
        await stop.wait()
        offered["listen"](None)  # from here on, through ``receive`` again
        through_receive.append(await receive())
        through_receive.append(await receive())

    async with _serve(app) as base, connect(base + "/", compression=None) as client:
        for n in range(50):
            await client.send(f'{{"n":{n},"text":"{"ø" * n}"}}')
        await client.send(b"\x00\x01binary")
        await client.send(["frag", "mented ", "ø"])  # one message in three frames
        await _until(lambda: len(got) == 52)
        stop.set()
        await client.send("after")
    await _until(lambda: len(through_receive) == 2)
    assert got[:50] == [f'{{"n":{n},"text":"{"ø" * n}"}}' for n in range(50)]
    assert got[50] == b"\x00\x01binary"
    assert isinstance(got[50], bytes)
    assert got[51] == "fragmented ø"
    assert through_receive[0] == {"type": "websocket.receive", "text": "after"}
    assert through_receive[1]["type"] == "websocket.disconnect"


async def test_pause_stops_reading_post_wakes_receive_and_disconnects_still_come() -> None:
    got: list[str | bytes] = []
    offered: dict[str, Any] = {}
    received: list[Any] = []
    mark = {"type": "websocket.receive", "text": ""}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        offered.update(scope["extensions"][EXTENSION])
        await receive()
        await send({"type": "websocket.accept"})
        offered["listen"](got.append)
        offered["pause"](True)
        while True:
            message = await receive()
            received.append(message)
            if message["type"] == "websocket.disconnect":
                return

    async with _serve(app) as base, connect(base + "/", compression=None) as client:
        await _until(lambda: "listen" in offered)
        await client.send("one")
        await client.send("two")
        await asyncio.sleep(0.3)
        assert got == [], "nothing is read while paused"
        offered["pause"](False)
        await _until(lambda: got == ["one", "two"])
        offered["post"](mark)
        await _until(lambda: len(received) == 1)
        assert received[0] is mark
    await _until(lambda: len(received) == 2)
    assert received[1]["type"] == "websocket.disconnect"
    assert got == ["one", "two"]


def _listening_app(got: list[str | bytes]) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        scope["extensions"][EXTENSION]["listen"](got.append)
        while (await receive())["type"] != "websocket.disconnect":
            pass

    return app


async def test_text_that_is_not_utf8_closes_the_socket_as_uvicorn_does() -> None:
    got: list[str | bytes] = []
    async with _serve(_listening_app(got)) as base, connect(base + "/", compression=None) as client:
        await client.send("fine")
        await _until(lambda: got == ["fine"])
        # A text frame whose bytes are not UTF-8, written as it is (the client would refuse).
        client.protocol.send_frame(Frame(Opcode.TEXT, b"\xff\xfe"))
        client.send_data()  # type: ignore[attr-defined]
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(client.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1007
    assert got == ["fine"]


def _wire(opcode: Opcode, data: bytes, *, fin: bool = True, mask: bool = True) -> bytes:
    """A frame as a client puts it on the wire (masked, unless ``mask`` is false)."""
    return Frame(opcode, data, fin).serialize(mask=mask)


# Text and binary of every length encoding, a ping between them, a fragmented message, and
# text of several-byte characters: what the server's fast read takes and what it leaves to
# websockets' parser, interleaved.
_MIXED = [
    (_wire(Opcode.TEXT, b"a"), "a"),
    (_wire(Opcode.TEXT, "ø€𝄞".encode()), "ø€𝄞"),
    (_wire(Opcode.BINARY, b"\x00\xff" * 3), b"\x00\xff" * 3),
    (_wire(Opcode.TEXT, b"x" * 125), "x" * 125),
    (_wire(Opcode.TEXT, b"y" * 126), "y" * 126),
    (_wire(Opcode.PING, b"are you there"), None),
    (_wire(Opcode.TEXT, b"z" * 65535), "z" * 65535),
    (_wire(Opcode.TEXT, b"w" * 65536), "w" * 65536),
    (_wire(Opcode.TEXT, b"frag", fin=False) + _wire(Opcode.CONT, "mented ø".encode()), None),
    (b"", "fragmented ø"),
    (_wire(Opcode.BINARY, b""), b""),
    (_wire(Opcode.TEXT, b'{"type":"sync"}'), '{"type":"sync"}'),
]


@pytest.mark.parametrize("chunk", [1, 2, 5, 7, 64, 1000, 1 << 20])
async def test_frames_read_in_any_pieces_reach_the_receiver_whole_and_in_order(
    chunk: int,
) -> None:
    got: list[str | bytes] = []
    wire = b"".join(raw for raw, _ in _MIXED) * 3
    expected = [message for _, message in _MIXED if message is not None] * 3
    async with _serve(_listening_app(got)) as base, connect(base + "/", compression=None) as client:
        for at in range(0, len(wire), chunk):  # written as they are, cut anywhere
            client.transport.write(wire[at : at + chunk])  # type: ignore[attr-defined]
            if chunk < 64 and at % (chunk * 50) == 0:
                await asyncio.sleep(0)  # read by the server in several pieces
        await _until(lambda: len(got) >= len(expected))
    assert got == expected
    assert [type(message) for message in got] == [type(message) for message in expected]


def _masked(head: int, payload: bytes, mask: bytes) -> bytes:
    """A short client frame with the given first byte and mask."""
    masked = bytes(byte ^ mask[n % 4] for n, byte in enumerate(payload))
    return bytes([head, 0x80 | len(payload)]) + mask + masked


@pytest.mark.parametrize("cut", [1, 2, 5, 6, 9])
async def test_a_frame_read_in_two_pieces_is_read_whole(cut: int) -> None:
    # Its mask looks like the head of a frame: read from where the first piece ended, as if
    # a frame started there, it would be another message.
    frame = _masked(0x81, b"whole message", bytes([0x81, 0x84, 0x20, 0x20]))
    got: list[str | bytes] = []
    async with _serve(_listening_app(got)) as base, connect(base + "/", compression=None) as client:
        client.transport.write(frame[:cut])  # type: ignore[attr-defined]
        await asyncio.sleep(0.1)  # the server reads the first piece on its own
        client.transport.write(frame[cut:] + _wire(Opcode.TEXT, b"next"))  # type: ignore[attr-defined]
        await _until(lambda: len(got) >= 2)
        await asyncio.sleep(0.05)
    assert got == ["whole message", "next"]


async def test_frames_read_together_follow_the_receiver_the_last_one_chose() -> None:
    first: list[str | bytes] = []
    second: list[str | bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        listen = scope["extensions"][EXTENSION]["listen"]

        def switch(message: str | bytes) -> None:
            first.append(message)
            listen(second.append)  # from the next message on, even one read with it

        await receive()
        await send({"type": "websocket.accept"})
        listen(switch)
        while (await receive())["type"] != "websocket.disconnect":
            pass

    async with _serve(app) as base, connect(base + "/", compression=None) as client:
        await asyncio.sleep(0.1)
        wire = b"".join(_wire(Opcode.TEXT, word) for word in (b"one", b"two", b"three"))
        client.transport.write(wire)  # type: ignore[attr-defined]
        await _until(lambda: len(second) >= 2)
    assert first == ["one"]
    assert second == ["two", "three"]


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (_wire(Opcode.TEXT, b"unmasked", mask=False), 1002),
        (_wire(Opcode.BINARY, b"unmasked binary", mask=False), 1002),
        # A new message while a fragmented one is under way, read on its own.
        ([_wire(Opcode.TEXT, b"first part", fin=False), _wire(Opcode.TEXT, b"new")], 1002),
        (_wire(Opcode.TEXT, b"\xff\xfe"), 1007),
        (_wire(Opcode.TEXT, b"q" * 2000), 1009),
        (_wire(Opcode.CONT, b"no message to continue"), 1002),
        (bytes([0x83, 0x80, 1, 2, 3, 4]), 1002),  # an opcode that does not exist
        (bytes([0xC1, 0x81, 1, 2, 3, 4, 5]), 1002),  # a reserved bit with no extension
    ],
)
async def test_a_bad_frame_after_good_ones_closes_the_socket_as_websockets_would(
    bad: bytes | list[bytes], code: int
) -> None:
    got: list[str | bytes] = []
    good = _wire(Opcode.TEXT, b"one") + _wire(Opcode.TEXT, b"two")
    pieces = [good + bad] if isinstance(bad, bytes) else [good + bad[0], *bad[1:]]
    pieces[-1] += _wire(Opcode.TEXT, b"never")
    app = _listening_app(got)
    async with _serve(app, max_size=1000) as base, connect(base + "/", compression=None) as client:
        for piece in pieces:  # each read by the server on its own
            client.transport.write(piece)  # type: ignore[attr-defined]
            await asyncio.sleep(0.1)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(client.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code
    assert got == ["one", "two"]


async def test_the_receive_is_not_offered_where_frames_differ_per_socket() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen["offered"] = scope["extensions"].get(EXTENSION)
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    async with _serve(app, deflate=True) as base, connect(base + "/") as client:
        await client.send("x")
    assert seen["offered"] is None


# -- the socket's side ---------------------------------------------------------------------


class _Gated:
    """A socket's frame handling (what :class:`_ws._Frames` offers) where a frame named
    ``wait…`` waits until the test lets it go, ``close`` asks to close and ``fail`` raises."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.gates: dict[str, asyncio.Future[None]] = {}

    async def handle(self, data: str | bytes) -> _ws._Close | None:
        assert isinstance(data, str)
        self.started.append(data)
        if data.startswith("wait"):
            self.gates[data] = asyncio.get_running_loop().create_future()
            await self.gates[data]
        if data == "close":
            return _ws._TOO_BIG
        if data == "fail":
            raise RuntimeError("a frame's handling failed")
        self.finished.append(data)
        return None


class _Offered(dict[str, Any]):
    def __init__(self) -> None:
        super().__init__(pause=self._pause, post=self._post)
        self.pauses: list[bool] = []
        self.posted: list[Any] = []

    def _pause(self, paused: bool) -> None:
        self.pauses.append(paused)

    def _post(self, message: Any) -> None:
        self.posted.append(message)


def _inbound() -> tuple[_ws._Inbound, _Gated, _Offered]:
    gated, offered = _Gated(), _Offered()
    return _ws._Inbound(gated, offered), gated, offered  # type: ignore[arg-type]


async def test_frames_are_handled_on_the_spot_one_at_a_time_and_in_order() -> None:
    inbound, gated, offered = _inbound()
    inbound.receive("a")
    assert gated.finished == ["a"], "handled as it was read, with no task"
    assert inbound.running is None
    inbound.receive("wait1")
    assert inbound.running is not None, "a frame that waits goes on as a task"
    for name in ("b", "wait2", "c"):
        inbound.receive(name)
    assert gated.started == ["a", "wait1"], "nothing starts while one waits"
    gated.gates["wait1"].set_result(None)
    await _until(lambda: "wait2" in gated.gates)
    assert gated.started == ["a", "wait1", "b", "wait2"]
    gated.gates["wait2"].set_result(None)
    await inbound.settle()
    assert gated.finished == ["a", "wait1", "b", "wait2", "c"]
    assert offered.pauses == []
    assert offered.posted == []
    assert inbound.end is None


async def test_reading_pauses_past_the_kept_frames_and_reads_on_once_they_are_handled() -> None:
    inbound, gated, offered = _inbound()
    inbound.receive("wait")
    for n in range(_ws._INBOUND_KEPT + 3):
        inbound.receive(f"k{n}")
    assert offered.pauses == [True], "paused once, at the bound"
    gated.gates["wait"].set_result(None)
    await inbound.settle()
    assert gated.finished == ["wait", *(f"k{n}" for n in range(_ws._INBOUND_KEPT + 3))]
    assert offered.pauses == [True, False]


@pytest.mark.parametrize("ending", ["close", "fail"])
async def test_a_reason_to_close_or_a_failure_ends_it_and_wakes_the_socket(ending: str) -> None:
    inbound, gated, offered = _inbound()
    inbound.receive("wait")
    inbound.receive(ending)
    inbound.receive("after")
    gated.gates["wait"].set_result(None)
    await inbound.settle()
    if ending == "close":
        assert inbound.end is _ws._TOO_BIG
    else:
        assert isinstance(inbound.end, RuntimeError)
    assert offered.posted == [_ws._WAKE]
    assert "after" not in gated.started, "nothing after the end is handled"
    inbound.receive("later")
    assert "later" not in gated.started
    assert offered.posted == [_ws._WAKE], "woken once"


async def test_an_end_found_on_the_spot_wakes_the_socket_too() -> None:
    inbound, _, offered = _inbound()
    inbound.receive("fail")
    assert isinstance(inbound.end, RuntimeError)
    assert offered.posted == [_ws._WAKE]
    assert inbound.running is None
