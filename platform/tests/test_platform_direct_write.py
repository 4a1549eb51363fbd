"""The direct frame write (transport/_direct.py, web/_ws_protocol.py) on a real uvicorn server.

Every test runs uvicorn on 127.0.0.1 with the protocol ``weirsoe serve`` uses, and talks to it
with a real ``websockets`` client: frames written directly arrive whole and in order with
the ones sent through ASGI, the write refuses while the client does not read (and everything
it took arrives once the client reads again), before the handshake, after the client's close
and once the server shuts the socket, and is not offered at all when compression makes frames
differ per socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from _uvicorn import serve_app
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode

from weirsoe_platform.transport._direct import EXTENSION, hold_writes, release_held, text_frame
from weirsoe_platform.web._ws_protocol import direct_websocket_protocol

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_a_text_frame_is_what_websockets_serializes_for_a_server(size: int) -> None:
    payload = ("é" * size).encode()[:size]
    payload = payload.decode(errors="ignore").encode()  # whole characters only
    expected = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
    assert text_frame(payload) == expected


def test_weirsoe_serve_passes_the_protocol_that_offers_the_write() -> None:
    protocol = direct_websocket_protocol()
    assert not isinstance(protocol, str), "uvicorn's sans-I/O protocol should be installed"
    assert protocol.__name__ == "DirectWebSocketProtocol"


async def test_direct_frames_and_asgi_sends_arrive_whole_and_in_order() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        write = scope["extensions"][EXTENSION]["write"]
        assert (await receive())["type"] == "websocket.connect"
        seen["before_accept"] = write(text_frame(b'{"n":-1}'))
        await send({"type": "websocket.accept"})
        results = []
        for n in range(200):
            body = json.dumps({"n": n, "text": "ø" * (n * 7)}).encode()
            if n % 50 == 25:  # some go through ASGI, between direct ones
                await send({"type": "websocket.send", "text": body.decode()})
            else:
                results.append(write(text_frame(body)))
        seen["results"] = results
        message = await receive()
        seen["after_close"] = write(text_frame(b'{"n":-2}'))
        seen["last"] = message["type"]

    async with serve_app(app) as (base, _), connect(base + "/", compression=None) as client:
        got = [json.loads(await asyncio.wait_for(client.recv(), 5)) for _ in range(200)]
        await client.close()
    for _ in range(100):
        if "last" in seen:
            break
        await asyncio.sleep(0.01)
    assert [m["n"] for m in got] == list(range(200))
    assert all(m["text"] == "ø" * (m["n"] * 7) for m in got)
    assert seen["before_accept"] is False, "no frame before the handshake's response"
    assert seen["results"] == [True] * 196
    assert seen["last"] == "websocket.disconnect"
    assert seen["after_close"] is False, "no frame after the close"


async def test_the_write_refuses_while_the_client_does_not_read_and_loses_nothing() -> None:
    written: list[int] = []
    refused = asyncio.Event()
    resumed: dict[str, Any] = {}
    body = b"x" * 16_000

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        write = scope["extensions"][EXTENSION]["write"]
        await receive()
        await send({"type": "websocket.accept"})
        for n in range(2_000):  # bounded: 32 MB at most
            if not write(text_frame(b'{"n":%d,"pad":"%s"}' % (n, body))):
                refused.set()
                break
            written.append(n)
        # The ASGI send waits until the client has read enough, then goes out after them.
        await send({"type": "websocket.send", "text": '{"n":"last"}'})
        resumed["write"] = write(text_frame(b'{"n":"direct again"}'))
        await receive()

    async with (
        serve_app(app) as (base, _),
        connect(base + "/", compression=None, max_queue=1) as client,
    ):
        await asyncio.wait_for(refused.wait(), 10)
        assert 0 < len(written) < 2_000, "the write refused once the buffers were full"
        got = []
        for _ in range(len(written) + 2):
            got.append(json.loads(await asyncio.wait_for(client.recv(), 10))["n"])
    assert got == [*written, "last", "direct again"]
    assert resumed["write"] is True


@pytest.mark.parametrize("client_compression", ["deflate", None])
async def test_the_write_is_not_offered_where_frames_are_compressed(
    client_compression: str | None,
) -> None:
    offered: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        offered.append(EXTENSION in scope["extensions"])
        await send({"type": "websocket.send", "text": "hello"})
        await receive()

    async with (
        serve_app(app, deflate=True) as (base, _),
        connect(base + "/", compression=client_compression) as client,
    ):
        assert await asyncio.wait_for(client.recv(), 5) == "hello"
        negotiated = client.response.headers.get("Sec-WebSocket-Extensions")
    assert offered == [negotiated is None]
    assert (negotiated is not None) == (client_compression == "deflate")


async def test_the_write_refuses_once_the_server_is_shutting_the_socket() -> None:
    after: dict[str, Any] = {}
    accepted = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        write = scope["extensions"][EXTENSION]["write"]
        await receive()
        await send({"type": "websocket.accept"})
        accepted.set()
        message = await receive()  # uvicorn's shutdown: close 1012, the transport closing
        after["message"] = message
        after["write"] = write(text_frame(b'{"n":"too late"}'))

    async with (
        serve_app(app) as (base, stop),
        connect(base + "/", compression=None) as client,
    ):
        await asyncio.wait_for(accepted.wait(), 5)
        await stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.recv(), 5)
    assert after["message"] == {"type": "websocket.disconnect", "code": 1012}
    assert after["write"] is False


class _CountingTransport:
    """The socket's real transport, with each write recorded (how many frames it carried)."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.writes: list[int] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data.count(b'{"n":'))
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


async def _counted(
    scope: Scope, receive: Receive, send: Send
) -> tuple[Callable[[bytes], bool], _CountingTransport]:
    """Accept the socket; its direct write, and its transport with the writes counted (both
    the direct write's and uvicorn's own, through the protocol's ``_Ordered``)."""
    write = scope["extensions"][EXTENSION]["write"]
    await receive()
    await send({"type": "websocket.accept"})
    protocol = write.__self__  # the socket's DirectWebSocketProtocol
    counting = _CountingTransport(protocol._raw)
    protocol._raw = counting
    protocol.transport._transport = counting
    return write, counting


async def _numbers(app: Any, count: int) -> list[Any]:
    """Serve ``app`` and read ``count`` messages from one client: their ``n``."""
    async with serve_app(app) as (base, _), connect(base + "/", compression=None) as client:
        return [json.loads(await asyncio.wait_for(client.recv(), 5))["n"] for _ in range(count)]


async def test_frames_held_in_a_scope_go_in_one_write_in_order_with_asgi_sends() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        write, counting = await _counted(scope, receive, send)
        seen["alone"] = write(text_frame(b'{"n":0}'))
        seen["writes_alone"] = list(counting.writes)
        hold_writes()
        try:
            hold_writes()  # nested: only the outermost scope writes
            try:
                seen["held"] = [write(text_frame(b'{"n":%d}' % n)) for n in (1, 2)]
            finally:
                release_held()
            seen["writes_nested"] = list(counting.writes)
            # An ASGI send in the scope (as the hub's sender runs it, without yielding):
            # the frames held before it go first.
            step = send({"type": "websocket.send", "text": '{"n":3}'})
            with contextlib.suppress(StopIteration):
                step.send(None)
            seen["held_after"] = [write(text_frame(b'{"n":%d}' % n)) for n in (4, 5, 6)]
            seen["writes_in_scope"] = list(counting.writes)
        finally:
            release_held()
        seen["writes"] = list(counting.writes)
        await receive()

    assert await _numbers(app, 7) == [0, 1, 2, 3, 4, 5, 6]
    assert seen["alone"] is True
    assert seen["writes_alone"] == [1], "no scope: written at once"
    assert seen["held"] == [True, True]
    assert seen["held_after"] == [True] * 3
    assert seen["writes_nested"] == [1], "held until the outermost scope ends"
    assert seen["writes_in_scope"] == [1, 2, 1], "the held frames went before the ASGI send"
    assert seen["writes"] == [1, 2, 1, 3]


async def test_a_scope_holds_no_more_than_its_limit() -> None:
    seen: dict[str, Any] = {}
    body = b"x" * 6_000

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        write, counting = await _counted(scope, receive, send)
        hold_writes()
        try:
            for n in range(8):  # 48 KB: past the hold limit twice
                write(text_frame(b'{"n":%d,"pad":"%s"}' % (n, body)))
            seen["in_scope"] = list(counting.writes)
        finally:
            release_held()
        seen["writes"] = list(counting.writes)
        await receive()

    assert await _numbers(app, 8) == list(range(8))
    assert seen["in_scope"] == [3, 3], "written once the held frames passed the limit"
    assert seen["writes"] == [3, 3, 2]
