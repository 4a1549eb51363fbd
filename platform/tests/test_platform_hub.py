"""The process's fan-out (transport._hub), and the pure-Python RESP parser on replies the real
Redis wrote."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from urllib.parse import urlparse

import msgspec
import pytest

from weirsoe_platform._redis_pubsub import RespParser
from weirsoe_platform.sessions._frames import decode_frame, encode_frame
from weirsoe_platform.transport import Hub, Subscription
from weirsoe_platform.transport._direct import holding


async def _drain(sub: Subscription) -> list[bytes]:
    out: list[bytes] = []
    events = sub.iter_events()
    while sub.qsize:
        out.append(await anext(events))
    return out


async def test_a_subscriber_that_does_not_read_keeps_only_the_newest_frames() -> None:
    sub = Subscription(max_backlog=4)
    for i in range(10):
        sub.put_nowait(b'{"version":%d}' % i)
    assert sub.qsize == 4
    assert sub.dropped == 6
    # The oldest went; the client sees version 6 after the last one it read, and resyncs.
    assert await _drain(sub) == [b'{"version":%d}' % i for i in range(6, 10)]


async def test_a_waiting_reader_wakes_for_each_frame_in_order() -> None:
    sub = Subscription()
    events = sub.iter_events()
    reader = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)
    assert not reader.done()
    sub.put_nowait(b"one")
    sub.put_nowait(b"two")
    assert await asyncio.wait_for(reader, 1) == b"one"
    assert await asyncio.wait_for(anext(events), 1) == b"two"


class Socket:
    """A socket's sending side: records frames; a frame in ``slow`` waits for ``writable``
    (a paused transport), ``b"bye"`` closes, ``b"boom"`` fails."""

    def __init__(self, slow: set[bytes] | None = None) -> None:
        self.sent: list[bytes] = []
        self.slow = slow or set()
        self.writable = asyncio.Event()
        self.cancelled = False

    async def send(self, data: bytes) -> bool:
        if data == b"boom":
            raise RuntimeError("the client went away")
        if data in self.slow:
            try:
                await self.writable.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        self.sent.append(data)
        return data == b"bye"


async def _sending_task(sub: Subscription, socket: Socket) -> None:
    """What the game socket's sending task does (transport._ws._forward_events), with the
    direct write where the socket has one (:class:`DirectSocket`)."""
    direct = getattr(socket, "direct", None)
    sub.sender, sub.direct = socket.send, direct
    async for data in sub.iter_events():
        if not (direct is not None and direct(data)) and await socket.send(data):
            return


async def _sending(socket: Socket) -> tuple[Subscription, asyncio.Task[None]]:
    """A subscription whose sending task for ``socket`` runs and waits for frames."""
    sub = Subscription()
    task = asyncio.create_task(_sending_task(sub, socket))
    await asyncio.sleep(0)
    return sub, task


async def _writable_again(socket: Socket, sent: int) -> None:
    """The paused transport drains: wait until the socket has ``sent`` frames."""
    socket.writable.set()
    for _ in range(100):
        if len(socket.sent) == sent:
            return
        await asyncio.sleep(0)


async def test_an_idle_sender_writes_the_frame_before_put_returns() -> None:
    socket = Socket()
    sub, task = await _sending(socket)  # the task parks, nothing queued
    sub.put_nowait(b"one")
    assert socket.sent == [b"one"], "no task hop: written on the spot"
    sub.put_nowait(b"two")
    assert socket.sent == [b"one", b"two"]
    assert sub.qsize == 0
    task.cancel()


async def test_a_send_that_must_wait_is_finished_first_and_order_holds() -> None:
    socket = Socket(slow={b"one"})
    sub, task = await _sending(socket)
    sub.put_nowait(b"one")  # the transport is paused: the send waits
    sub.put_nowait(b"two")
    sub.put_nowait(b"three")
    assert socket.sent == []
    assert sub.qsize == 2  # queued behind the waiting send
    await asyncio.sleep(0.01)
    assert socket.sent == []
    await _writable_again(socket, 3)
    assert socket.sent == [b"one", b"two", b"three"]
    sub.put_nowait(b"four")  # idle again: on the spot
    assert socket.sent[-1] == b"four"
    task.cancel()


async def test_a_waiting_send_is_cancelled_with_its_task() -> None:
    socket = Socket(slow={b"one"})
    sub, task = await _sending(socket)
    sub.put_nowait(b"one")
    await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert socket.cancelled, "the cancellation reached the send it was waiting on"
    assert socket.sent == []


async def test_a_failed_send_fails_the_sending_task_not_the_publisher() -> None:
    socket = Socket()
    sub, task = await _sending(socket)
    sub.put_nowait(b"boom")  # returns: the hub and its publisher carry on
    with pytest.raises(RuntimeError, match="went away"):
        await asyncio.wait_for(task, 1)


async def test_a_send_that_closes_the_socket_ends_the_stream() -> None:
    socket = Socket()
    sub, task = await _sending(socket)
    sub.put_nowait(b"bye")
    await asyncio.wait_for(task, 1)  # the iteration ended
    sub.put_nowait(b"after")
    assert socket.sent == [b"bye"]
    assert sub.qsize == 0, "nothing is kept for a socket that is done"


class DirectSocket(Socket):
    """A socket whose server also writes frames synchronously (``Subscription.direct``):
    ``direct`` refuses (returns False) while ``refuse`` is set, as a paused transport does."""

    def __init__(self, slow: set[bytes] | None = None) -> None:
        super().__init__(slow)
        self.refuse = False
        self.direct_calls: list[bytes] = []

    def direct(self, data: bytes) -> bool:
        self.direct_calls.append(data)
        if self.refuse:
            return False
        self.sent.append(data)
        return True


async def test_an_idle_socket_takes_a_frame_by_the_direct_write_without_a_coroutine() -> None:
    socket = DirectSocket()
    sub, task = await _sending(socket)
    sent_by_coroutine = []
    original = socket.send

    async def counting_send(data: bytes) -> bool:
        sent_by_coroutine.append(data)
        return await original(data)

    sub.sender = counting_send
    sub.put_nowait(b"one")
    sub.put_nowait(b"two")
    assert socket.sent == [b"one", b"two"]
    assert sent_by_coroutine == [], "the direct write took both: no send coroutine"
    task.cancel()


async def test_a_refused_direct_write_goes_through_the_send_and_order_holds() -> None:
    socket = DirectSocket(slow={b"two"})
    sub, task = await _sending(socket)
    sub.put_nowait(b"one")
    socket.refuse = True  # the transport is paused: direct refuses, the send waits
    sub.put_nowait(b"two")
    socket.refuse = False  # the direct write could take these, but "two" is still waiting
    sub.put_nowait(b"three")
    sub.put_nowait(b"four")
    assert socket.sent == [b"one"]
    assert socket.direct_calls == [b"one", b"two"], "nothing jumps the waiting send"
    assert sub.qsize == 2
    await _writable_again(socket, 4)
    assert socket.sent == [b"one", b"two", b"three", b"four"]
    sub.put_nowait(b"five")  # idle again: the direct write, on the spot
    assert socket.sent[-1] == b"five"
    assert socket.direct_calls[-1] == b"five"
    task.cancel()


async def test_the_embedded_hub_delivers_each_message_to_its_channels_only() -> None:
    hub = Hub()
    host = await hub.subscribe(["ROOM:ABCD", "HOST:ABCD"])
    alice = await hub.subscribe(["ROOM:ABCD", "PLAYER:ABCD:A1"])
    other = await hub.subscribe(["ROOM:WXYZ", "PLAYER:WXYZ:A1"])
    await hub.publish([(b"secret", ["PLAYER:ABCD:A1"]), (b"all", ["ROOM:ABCD"])])
    assert await _drain(alice) == [b"secret", b"all"]
    assert await _drain(host) == [b"all"]
    assert await _drain(other) == []
    await hub.unsubscribe(alice, ["ROOM:ABCD", "PLAYER:ABCD:A1"])
    await hub.publish([(b"later", ["ROOM:ABCD"])])
    assert await _drain(alice) == []
    assert await _drain(host) == [b"later"]
    await hub.unsubscribe(host, ["ROOM:ABCD", "HOST:ABCD"])
    await hub.unsubscribe(other, ["ROOM:WXYZ", "PLAYER:WXYZ:A1"])
    # nothing kept for rooms that went
    assert hub.stats() == {"channels": 0, "rooms": 0, "versions": 0}


def test_room_codes_and_wire_channels_come_from_channel_names() -> None:
    hub = Hub(channel_prefix="weirsoe:", wire_prefix="weirsoe:")
    assert hub.room_of("WEIRSOE:PLAYER:ABCD:F00") == "ABCD"
    assert hub.room_of("WEIRSOE:ROOM:ABCD") == "ABCD"
    assert hub.wire("ABCD") == "WEIRSOE:WIRE:ABCD"


@pytest.mark.parametrize("count", [1, 15, 16, 70_000])
@pytest.mark.parametrize("size", [20, 300, 70_000])
def test_a_frames_first_version_is_read_off_its_headers(count: int, size: int) -> None:
    from weirsoe_platform.sessions._frames import frame_version

    if count * size > 2_000_000:
        count = 2
    data = [b'{"version":%d,"pad":"%s"}' % (41 + i, b"x" * size) for i in range(count)]
    assert frame_version(encode_frame([(d, ["A"]) for d in data])) == 41


def test_a_frame_without_a_version_first_reads_as_zero() -> None:
    from weirsoe_platform.sessions._frames import frame_version

    progress = encode_frame([(b'{"type":"audience.tally"}', ["A"]), (b'{"version":5,}', ["A"])])
    assert frame_version(progress) == 0
    assert frame_version(encode_frame([])) == 0
    assert frame_version(b"") == 0
    assert frame_version(b"\x91\x92") == 0
    assert frame_version(b'\x91\x93\xc4\x0c{"version":1,}') == 0  # not a [data, channels] pair


def test_wire_frames_round_trip() -> None:
    messages = [(b'{"type":"a"}', ["ROOM:X"]), (b"\x00\xff", ["PLAYER:X:1", "PLAYER:X:2"])]
    assert decode_frame(encode_frame(messages)) == messages


REDIS_URL = os.environ.get("WEIRSOE_TEST_REDIS", "redis://127.0.0.1:6379/0")  # as conftest.py


def _redis_socket() -> socket.socket:
    url = urlparse(REDIS_URL)
    conn = socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=5)
    db = (url.path or "/0").lstrip("/") or "0"
    conn.sendall(b"*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n" % (len(db), db.encode()))
    assert _read_until(conn, lambda got: got.endswith(b"\r\n")) == b"+OK\r\n"
    return conn


def _read_until(conn: socket.socket, done: Callable[[bytes], bool]) -> bytes:
    got = b""
    while not done(got):
        chunk = conn.recv(65536)
        assert chunk, f"Redis closed the connection after {got!r}"
        got += chunk
    return got


def _wire(*parts: bytes) -> bytes:
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


def _replies_from_redis(channel: bytes) -> bytes:
    """What the real Redis writes to a subscriber (the subscription, a message with CR LF in
    it, a ping's answer) and then to a plain connection (a nil, a status, an error)."""
    sub, other = _redis_socket(), _redis_socket()
    try:
        sub.sendall(_wire(b"SUBSCRIBE", channel))
        stream = _read_until(sub, lambda got: got.endswith(b":1\r\n"))
        other.sendall(_wire(b"PUBLISH", channel, b"he\r\no"))
        _read_until(other, lambda got: got.endswith(b"\r\n"))
        sub.sendall(_wire(b"PING", b"tok"))
        stream += _read_until(sub, lambda got: got.endswith(b"$3\r\ntok\r\n"))
        other.sendall(
            _wire(b"GET", channel + b":none")
            + _wire(b"SET", channel + b":k", b"v", b"EX", b"5")
            + _wire(b"BAD")
        )
        return stream + _read_until(other, lambda got: got.count(b"\r\n") == 3)
    finally:
        sub.close()
        other.close()


@pytest.mark.redis
def test_the_resp_parser_reads_replies_split_anywhere(redis_prefix: str) -> None:
    channel = f"{redis_prefix}:ROOM".encode()
    stream = _replies_from_redis(channel)
    for cut in range(len(stream)):
        parser = RespParser(ConnectionError)  # as the pub/sub reader makes it
        got = []
        for part in (stream[:cut], stream[cut:]):
            parser.feed(part)
            while (reply := parser.gets()) is not False:
                got.append(reply)
        assert got[:5] == [
            [b"subscribe", channel, 1],
            [b"message", channel, b"he\r\no"],
            [b"pong", b"tok"],
            None,
            b"OK",
        ], cut
        assert isinstance(got[5], ConnectionError)
        assert str(got[5]).startswith("ERR unknown command")
        assert len(got) == 6


def test_a_frame_is_scanned_once_for_all_the_sockets_of_its_room() -> None:
    from weirsoe_platform.transport import _ws
    from weirsoe_platform.transport._direct import text_frame

    scan = _ws._Scan()
    tick = b'{"version":41,"server_time":1.0,"type":"bench.tick","n":1}'
    assert scan(tick) == (tick, tick.decode(), 41, 0, text_frame(tick))
    first = scan.last
    assert scan(tick) is first  # the same object: not scanned again, one frame for all
    # An equal frame that is another object is scanned afresh (identity, never contents).
    again = bytes(bytearray(tick))
    assert scan(again)[1:] == (again.decode(), 41, 0, text_frame(again))
    assert scan.last is not first
    closed = b'{"version":42,"server_time":1.0,"type":"session.closed","reason":"host_exit"}'
    kicked = b'{"version":43,"server_time":1.0,"type":"session.kicked","player_id":"p1"}'
    assert scan(closed)[2:4] == (42, _ws.WS_4410_ROOM_CLOSED)
    assert scan(kicked)[2:4] == (43, _ws.WS_4408_KICKED)
    # A player's text cannot fake the mark: JSON escapes the quotes inside a string.
    lie = {"version": 44, "type": "phase.lie", "text": '"type":"session.closed"'}
    fake = msgspec.json.encode(lie)
    assert scan(fake)[2:4] == (44, 0)
    assert scan(b'{"type":"pong"}')[2:4] == (0, 0)  # no envelope: no version


async def test_a_commits_messages_reach_the_direct_write_in_one_holding_scope() -> None:
    """Several messages published at once are written while a scope holds the socket's frames
    (``transport/_direct.py``, "Held writes"), so each socket gets them in one write; a single
    message is written at once, and the scope is closed afterwards."""
    hub = Hub()
    socket = DirectSocket()
    held: list[tuple[bytes, bool]] = []
    direct = socket.direct

    def watching(data: bytes) -> bool:
        held.append((data, holding()))
        return direct(data)

    socket.direct = watching  # type: ignore[method-assign]
    sub = await hub.subscribe(["ROOM:A", "PLAYER:A:P1"])
    task = asyncio.create_task(_sending_task(sub, socket))
    await asyncio.sleep(0)
    await hub.publish([(b"alone", ["ROOM:A"])])
    await hub.publish([(b"to all", ["ROOM:A"]), (b"to you", ["PLAYER:A:P1"])])
    assert held == [(b"alone", False), (b"to all", True), (b"to you", True)]
    assert socket.sent == [b"alone", b"to all", b"to you"]
    assert not holding(), "the scope closed with the publish"
    task.cancel()
