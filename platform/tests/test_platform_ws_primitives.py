"""The lean stand-ins for uvicorn's per-socket ``asyncio.Queue`` and ``asyncio.Event``
(``web/_ws_protocol.py``; docs/performance.md, section 54): the same behaviour for what uvicorn
uses of them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from weirsoe_platform.web._ws_protocol import _Flag, _Inbox, direct_websocket_protocol


async def test_the_inbox_gives_messages_in_order_and_waits_when_empty() -> None:
    inbox = _Inbox()
    assert inbox.empty()
    assert inbox.qsize() == 0
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert not inbox.empty()
    assert inbox.qsize() == 2
    assert await inbox.get() == 1
    assert await inbox.get() == 2
    assert inbox.empty()
    getter = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    assert not getter.done()
    inbox.put_nowait(3)
    inbox.put_nowait(4)
    assert await getter == 3
    assert await inbox.get() == 4


async def test_a_cancelled_get_takes_nothing_and_leaves_no_waiter() -> None:
    inbox = _Inbox()
    getter = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    getter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await getter
    assert inbox._ready._waiters == []
    inbox.put_nowait("kept")
    assert await asyncio.wait_for(inbox.get(), 1) == "kept"


async def test_two_getters_each_get_one_message() -> None:
    inbox = _Inbox()
    first = asyncio.ensure_future(inbox.get())
    second = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait("a")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert [t.done() for t in (first, second)].count(True) == 1
    inbox.put_nowait("b")
    assert sorted(await asyncio.gather(first, second)) == ["a", "b"]


async def test_the_flag_waits_while_clear_and_wakes_every_waiter_when_set() -> None:
    flag = _Flag(True)
    assert flag.is_set()
    assert await flag.wait() is True
    flag.clear()
    assert not flag.is_set()
    waiters = [asyncio.ensure_future(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    flag.set()
    assert await asyncio.gather(*waiters) == [True, True, True]
    assert flag._waiters is None


async def test_a_cancelled_wait_leaves_no_waiter() -> None:
    flag = _Flag(False)
    waiter = asyncio.ensure_future(flag.wait())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert flag._waiters == []
    flag.set()
    assert flag.is_set()


def test_the_protocol_holds_the_lean_primitives() -> None:
    import uvicorn
    from uvicorn.server import ServerState

    protocol_class = direct_websocket_protocol()
    assert not isinstance(protocol_class, str)
    config = uvicorn.Config(app=lambda scope, receive, send: None)
    config.load()
    loop = asyncio.new_event_loop()
    try:
        protocol = protocol_class(  # type: ignore[call-arg]
            config=config, server_state=ServerState(), app_state={}, _loop=loop
        )
    finally:
        loop.close()
    assert isinstance(protocol.queue, _Inbox)  # type: ignore[attr-defined]
    assert isinstance(protocol.writable, _Flag)
    assert protocol.writable.is_set()


# -- the frame parser that forgets the handshake's request (_forget_request; section 56) -----

HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def _masked_text(payload: bytes) -> bytes:
    """A client's text frame (clients mask theirs)."""
    from websockets.frames import Frame, Opcode

    return Frame(Opcode.TEXT, payload).serialize(mask=True)


def _accepted() -> Any:
    """A server connection that has read a handshake and accepted it."""
    from websockets.http11 import Request
    from websockets.server import ServerProtocol

    conn = ServerProtocol()
    conn.receive_data(HANDSHAKE)
    (request,) = conn.events_received()
    assert isinstance(request, Request)
    conn.send_response(conn.accept(request))
    return conn


def _texts(conn: Any) -> list[str]:
    return [bytes(e.data).decode() for e in conn.events_received()]


def test_the_request_is_forgotten_and_frames_still_parse() -> None:
    import weakref

    from websockets.protocol import Protocol

    from weirsoe_platform.web._ws_protocol import _forget_request

    conn = _accepted()
    old = conn.parser
    request = weakref.ref(old.gi_frame.f_locals["request"])  # what the old parser keeps
    assert _forget_request(conn, Protocol.parse)
    assert conn.parser is not old
    assert conn.parser.gi_code is Protocol.parse.__code__
    del old
    assert request() is None, "nothing holds the handshake's request any more"
    frame = _masked_text(b"hello")
    conn.receive_data(frame[:3])  # a frame split over two reads
    conn.receive_data(frame[3:] + _masked_text(b"again"))
    assert _texts(conn) == ["hello", "again"]


def test_a_parser_inside_a_frame_is_left_alone() -> None:
    from websockets.protocol import Protocol

    from weirsoe_platform.web._ws_protocol import _forget_request

    conn = _accepted()
    frame = _masked_text(b"hello")
    conn.receive_data(frame[:2])  # the header read: the parser waits for the rest
    old = conn.parser
    assert not _forget_request(conn, Protocol.parse)
    assert conn.parser is old
    conn.receive_data(frame[2:])
    assert _texts(conn) == ["hello"]
    # At the next boundary it can go.
    assert _forget_request(conn, Protocol.parse)
    conn.receive_data(_masked_text(b"next"))
    assert _texts(conn) == ["next"]


def test_a_parser_of_another_shape_is_left_alone() -> None:
    from websockets.protocol import Protocol

    from weirsoe_platform.web._ws_protocol import _forget_request

    conn = _accepted()
    conn.receive_data(_masked_text(b"x")[:1])  # one byte waiting: not at a boundary
    assert not _forget_request(conn, Protocol.parse)

    class Other:
        parser = iter(())

    assert not _forget_request(Other(), Protocol.parse)
    assert not _forget_request(object(), Protocol.parse)
