"""Limits that hold: each bypass found by the black-box review, tried again and refused.

Every test talks from its own loopback source address (127.0.0.N), so the per-address limits
of one test never touch another's; the server still listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
import websockets
from _env import start_server
from _live import Server

UNKNOWN_LIMIT = 4
JOIN_LIMIT = 3


@pytest.fixture(scope="module")
def limited(backend: str) -> Iterator[Server]:
    srv = start_server(
        backend,
        env={
            "WEIRSOE_UNKNOWN_CODE_RATE": str(UNKNOWN_LIMIT),
            "WEIRSOE_JOIN_RATE": str(JOIN_LIMIT),
            "WEIRSOE_HEADER_TIMEOUT": "1",
            "WEIRSOE_IDLE_TIMEOUT": "1",
        },
    )
    try:
        yield srv
    finally:
        srv.stop()


def _client(srv: Server, source: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=srv.base, transport=transport, timeout=20)


def _room(srv: Server, cartridge: str = "rps") -> dict:
    # Rooms are made from 127.0.0.1, which no test here blocks.
    r = httpx.post(srv.base + "/api/sessions", json={"cartridge": cartridge}, timeout=20)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _block(http: httpx.Client) -> None:
    """Guess unknown codes until this address is blocked."""
    statuses = [http.get(f"/api/sessions/Q{i:03d}").status_code for i in range(UNKNOWN_LIMIT)]
    assert statuses == [404] * UNKNOWN_LIMIT


def test_every_endpoint_taking_a_room_code_is_guarded(limited: Server) -> None:
    """While an address is at 429, control, actions and kick answer 429 too, whether a room
    exists (403 before) or not (404 before): they no longer tell codes apart."""
    room = _room(limited)
    bearer = {"Authorization": "Bearer wrong-token"}
    probes = [
        ("post", "/control", {"action": "play"}),
        ("post", "/actions", {"action": {"type": "throw", "move": "rock"}}),
        ("post", "/players/p1/kick", None),
        ("get", "", None),
        ("post", "/players", {"name": "Z"}),
    ]
    with _client(limited, "127.0.0.11") as http:
        # Before the block: an existing room's control answers 403, an unknown one 404.
        assert (
            http.post(
                f"/api/sessions/{room['code']}/control", json={"action": "play"}, headers=bearer
            ).status_code
            == 403
        )
        _block(http)
        refused = 0
        for code in (room["code"], "ZZZZ", "QQQQ"):
            for method, path, body in probes:
                r = http.request(method, f"/api/sessions/{code}{path}", json=body, headers=bearer)
                assert r.status_code == 429, (code, path, r.status_code, r.text)
                assert r.json()["error"]["code"] == "rate_limited"
                assert int(r.headers["retry-after"]) >= 1
                refused += 1
    assert refused == 15


def test_unknown_codes_on_control_and_actions_count_towards_the_block(limited: Server) -> None:
    """Probing through control/actions/kick is counted like a lookup."""
    with _client(limited, "127.0.0.12") as http:
        paths = ["/control", "/actions", "/players/p1/kick", "/control"]
        bodies = [{"action": "play"}, {"action": {}}, None, {"action": "pause"}]
        statuses = [
            http.post(
                f"/api/sessions/K{i:03d}{p}", json=b, headers={"Authorization": "Bearer x"}
            ).status_code
            for i, (p, b) in enumerate(zip(paths, bodies, strict=True))
        ]
        assert statuses == [404] * UNKNOWN_LIMIT
        assert http.get("/api/sessions/K999").status_code == 429


def test_a_token_in_the_join_body_does_not_skip_the_join_limit(limited: Server) -> None:
    room = _room(limited)
    with _client(limited, "127.0.0.13") as http:
        url = f"/api/sessions/{room['code']}/players"
        first = http.post(url, json={"name": "A"})
        assert first.status_code == 201
        rejoin = http.post(url, json={"name": "A", "token": first.json()["token"]})
        assert rejoin.status_code == 201
        assert rejoin.json()["rejoined"] is True
        assert http.post(url, json={"name": "B", "token": "junk"}).status_code == 201
        # The limit (3) is reached: new joins, junk tokens and real tokens are all refused.
        for body in (
            {"name": "C"},
            {"name": "D", "token": "junk"},
            {"name": "A", "token": first.json()["token"]},
        ):
            r = http.post(url, json=body)
            assert r.status_code == 429, (body, r.text)
            assert r.json()["error"]["code"] == "rate_limited"


def test_json_bodies_are_capped_at_64_kib(limited: Server) -> None:
    big = {"cartridge": "rps", "settings": {"x": "a" * (70 * 1024)}}
    with _client(limited, "127.0.0.14") as http:
        r = http.post("/api/sessions", json=big)
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"] == "too_large"

        # Without a Content-Length (chunked), the cap still holds while reading.
        def chunks() -> Iterator[bytes]:
            data = json.dumps(big).encode()
            for i in range(0, len(data), 8192):
                yield data[i : i + 8192]

        r = http.post(
            "/api/sessions", content=chunks(), headers={"content-type": "application/json"}
        )
        assert r.status_code == 413, r.text
        # Under the cap, the same endpoint answers as usual.
        assert http.post("/api/sessions", json={"cartridge": "rps"}).status_code == 201


def _half_request(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    return s


def _closed_by_server(s: socket.socket, within: float) -> bool:
    s.settimeout(within)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_half_sent_requests_are_closed_after_the_header_timeout(limited: Server) -> None:
    count = 50
    sockets = [_half_request(limited.port) for _ in range(count)]
    try:
        start = time.monotonic()
        closed = sum(_closed_by_server(s, 5.0) for s in sockets)
        took = time.monotonic() - start
    finally:
        for s in sockets:
            s.close()
    print(f"\n[figures] header_timeout: {closed}/{count} half-sent requests closed in {took:.1f} s")
    assert closed == count
    # The server still answers, and a connection that said nothing is closed too.
    silent = socket.create_connection(("127.0.0.1", limited.port), timeout=10)
    try:
        assert _closed_by_server(silent, 5.0)
    finally:
        silent.close()
    assert httpx.get(limited.base + "/healthz").status_code == 200


def test_idle_keep_alive_connections_are_closed(limited: Server) -> None:
    s = socket.create_connection(("127.0.0.1", limited.port), timeout=10)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        s.settimeout(10)
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        assert _closed_by_server(s, 6.0)
    finally:
        s.close()


def test_websockets_outlive_the_header_timeout(limited: Server) -> None:
    """The header timer must not cut an upgraded connection."""
    room = _room(limited)

    async def main() -> None:
        url = f"{limited.ws_base}/ws/game/{room['code']}?role=host&token={room['host_token']}"
        async with websockets.connect(url) as ws:
            await asyncio.wait_for(ws.recv(), 10)
            await asyncio.sleep(2.5)
            await ws.send(json.dumps({"type": "ping"}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert reply["type"] == "pong"

    asyncio.run(main())
