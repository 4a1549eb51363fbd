"""Abuse resistance against a real server: origins, limits, lock and kick, hostile names."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
import time
import unicodedata

import httpx
import pytest
import websockets
from _env import start_server
from _live import GameClient, Server

from weirsoe_sdk import name_skeleton


@pytest.fixture(scope="module")
def strict(backend: str):
    """A server with small per-address limits, to see them bite."""
    srv = start_server(backend, env={"WEIRSOE_UNKNOWN_CODE_RATE": "5", "WEIRSOE_JOIN_RATE": "12"})
    try:
        yield srv
    finally:
        srv.stop()


def _room(srv: Server, cartridge: str = "weirsoe_lies") -> dict:
    r = httpx.post(srv.base + "/api/sessions", json={"cartridge": cartridge})
    assert r.status_code == 201, r.text
    return r.json()


def test_tokens_are_long_random_and_never_repeat(server: Server) -> None:
    room = _room(server)
    seat = httpx.post(
        f"{server.base}/api/sessions/{room['code']}/players", json={"name": "A"}
    ).json()
    for token in (room["host_token"], seat["token"]):
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128
    assert room["host_token"] != seat["token"]


def test_cross_site_websocket_is_refused(server: Server) -> None:
    async def main() -> None:
        room = _room(server)
        url = f"{server.ws_base}/ws/game/{room['code']}?role=host&token={room['host_token']}"
        async with websockets.connect(url, origin="http://evil.example") as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd.code == 1008
        same = f"http://127.0.0.1:{server.port}"
        async with websockets.connect(url, origin=same) as ws:
            first = await asyncio.wait_for(ws.recv(), 5)
            assert '"type":"session.snapshot"' in first

    asyncio.run(main())


def test_allowed_origins_setting(backend: str) -> None:
    srv = start_server(backend, env={"WEIRSOE_ALLOWED_ORIGINS": "https://party.example"})
    try:

        async def main() -> None:
            room = _room(srv)
            url = f"{srv.ws_base}/ws/game/{room['code']}?role=audience"
            async with websockets.connect(url, origin="https://party.example") as ws:
                assert '"session.snapshot"' in await asyncio.wait_for(ws.recv(), 5)
            async with websockets.connect(url, origin="https://other.example") as ws:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd.code == 1008

        asyncio.run(main())
    finally:
        srv.stop()


def test_guessing_room_codes_gets_429_with_retry_after(strict: Server) -> None:
    room = _room(strict)
    statuses = [httpx.get(f"{strict.base}/api/sessions/Q{i:03d}").status_code for i in range(5)]
    assert statuses == [404] * 5
    blocked = httpx.get(f"{strict.base}/api/sessions/{room['code']}")
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limited"
    assert int(blocked.headers["retry-after"]) >= 1
    joined = httpx.post(f"{strict.base}/api/sessions/{room['code']}/players", json={"name": "X"})
    assert joined.status_code == 429

    async def ws() -> None:
        client = await GameClient(
            f"{strict.ws_base}/ws/game/{room['code']}?role=audience"
        ).connect()
        assert (await client.wait_closed())[0] == 4429

    asyncio.run(ws())


def test_join_flood_from_one_address_gets_429(backend: str) -> None:
    srv = start_server(backend, env={"WEIRSOE_JOIN_RATE": "6"})
    try:
        codes = []
        for i in range(8):
            room = _room(srv)
            r = httpx.post(
                f"{srv.base}/api/sessions/{room['code']}/players", json={"name": f"N{i}"}
            )
            codes.append(r.status_code)
        assert codes[:6] == [201] * 6
        assert codes[6:] == [429, 429]
    finally:
        srv.stop()


def test_lock_and_kick(server: Server) -> None:
    async def main() -> None:
        base = server.base
        room = _room(server)
        code, token = room["code"], room["host_token"]
        auth = {"Authorization": f"Bearer {token}"}
        a = httpx.post(f"{base}/api/sessions/{code}/players", json={"name": "Ann"}).json()
        b = httpx.post(f"{base}/api/sessions/{code}/players", json={"name": "Bob"}).json()
        host = await GameClient(
            f"{server.ws_base}/ws/game/{code}?role=host&token={token}"
        ).connect()
        bob = await GameClient(f"{server.ws_base}/ws/game/{code}?token={b['token']}").connect()
        await bob.wait_for("session.snapshot")

        assert (
            httpx.post(
                f"{base}/api/sessions/{code}/control", json={"action": "lock"}, headers=auth
            ).status_code
            == 200
        )
        assert (await host.wait_for("session.locked"))["locked"] is True
        locked = httpx.post(f"{base}/api/sessions/{code}/players", json={"name": "Cid"})
        assert locked.status_code == 409
        assert locked.json()["error"]["code"] == "room_locked"
        rejoin = httpx.post(
            f"{base}/api/sessions/{code}/players", json={"name": "Ann", "token": a["token"]}
        )
        assert rejoin.status_code == 201
        assert rejoin.json()["player_id"] == a["player_id"]
        httpx.post(f"{base}/api/sessions/{code}/control", json={"action": "unlock"}, headers=auth)

        # Kick: only the host may; the socket closes with 4408 and the token dies.
        nope = httpx.post(
            f"{base}/api/sessions/{code}/players/{b['player_id']}/kick",
            headers={"Authorization": f"Bearer {a['token']}"},
        )
        assert nope.status_code == 403
        kicked = httpx.post(
            f"{base}/api/sessions/{code}/players/{b['player_id']}/kick", headers=auth
        )
        assert kicked.status_code == 200
        assert (await bob.wait_closed())[0] == 4408
        left = await host.wait_for("session.player_left")
        assert left["player_id"] == b["player_id"]
        again = await GameClient(f"{server.ws_base}/ws/game/{code}?token={b['token']}").connect()
        assert (await again.wait_closed())[0] == 4403
        names = [p["name"] for p in httpx.get(f"{base}/api/sessions/{code}").json()["players"]]
        assert names == ["Ann"]
        unknown = httpx.post(f"{base}/api/sessions/{code}/players/pnobody/kick", headers=auth)
        assert unknown.status_code == 409
        assert unknown.json()["error"]["code"] == "unknown_player"
        await host.close()

    asyncio.run(main())


async def _audience_socket(server: Server) -> GameClient:
    """An audience socket in a new room, past its first snapshot."""
    room = _room(server)
    client = await GameClient(f"{server.ws_base}/ws/game/{room['code']}?role=audience").connect()
    await client.wait_for("session.snapshot")
    return client


def test_message_flood_gets_rate_limited_and_the_socket_survives(server: Server) -> None:
    async def main() -> None:
        client = await _audience_socket(server)
        for _ in range(120):
            await client.send('{"type":"ping"}')
        await client.wait_for(lambda m: m["type"] == "error" and m["code"] == "rate_limited")
        await asyncio.sleep(3.5)  # the bucket refills
        start = len(client.messages)
        await client.send('{"type":"ping"}')
        await client.wait_for("pong", start=start)
        assert client.closed is None
        await client.close()

    asyncio.run(main())


def test_a_flood_past_the_abuse_limit_closes_the_socket(server: Server) -> None:
    async def main() -> None:
        client = await _audience_socket(server)
        with contextlib.suppress(websockets.ConnectionClosed):
            for _ in range(400):  # burst 60, then 200 over the rate: closed at the 260th
                await client.send('{"type":"ping"}')
        assert await client.wait_closed() == (1008, "too many messages")
        pongs = client.types.count("pong")
        limited = [m for m in client.messages if m.get("code") == "rate_limited"]
        assert pongs >= 60, pongs  # the burst, and any that refilled while it was sent
        # 200 over the rate in a row close it: each before the last was answered
        assert len(limited) >= 199, len(limited)
        assert httpx.get(server.base + "/healthz").status_code == 200

    asyncio.run(main())


def test_frames_sent_at_once_are_answered_in_the_order_sent(server: Server) -> None:
    """Each frame is handled after the one before it, also where that one waits (on Redis, an
    action waits for its compare-and-set, a duplicate for a load), and the frames that came
    before the socket's first snapshot went out after it: the answers come in the order the
    frames went."""

    async def main() -> None:
        base = server.base
        room = httpx.post(
            base + "/api/sessions", json={"cartridge": "rps", "settings": {"throw_seconds": 30}}
        ).json()
        code = room["code"]
        seats = [
            httpx.post(f"{base}/api/sessions/{code}/players", json={"name": n}).json()
            for n in ("A", "B")
        ]
        control = httpx.post(
            f"{base}/api/sessions/{code}/control",
            json={"action": "play"},
            headers={"Authorization": f"Bearer {room['host_token']}"},
        )
        assert control.status_code == 200, control.text
        url = f"{server.ws_base}/ws/game/{code}?token={seats[0]['token']}"
        player = await GameClient(url).connect()
        # Sent at once, before the first snapshot: some come before the server listens.
        throw = {"type": "action", "id": "t1", "action": {"type": "throw", "move": "rock"}}
        frames = [throw, {"type": "ping"}, throw, {"type": "ping"}, {"type": "sync"}]
        frames += ["{oops", {"type": "ping"}]
        for frame in frames:  # one after another, without waiting for any answer
            await player.send(frame)
        replies = ("ack", "pong", "error", "session.snapshot")
        deadline = time.monotonic() + 15
        while len(answers := [m for m in player.messages if m["type"] in replies]) <= len(frames):
            assert time.monotonic() < deadline, answers
            await asyncio.sleep(0.05)
        kinds = [
            (m["type"], m.get("duplicate"), m["code"] if m["type"] == "error" else None)
            for m in answers
        ]
        assert kinds == [
            ("session.snapshot", None, None),  # the socket's first
            ("ack", False, None),
            ("pong", None, None),
            ("ack", True, None),
            ("pong", None, None),
            ("session.snapshot", None, None),
            ("error", None, "bad_json"),
            ("pong", None, None),
        ]
        await player.close()

    asyncio.run(main())


def _hostile_names(count: int, rng: random.Random) -> list[str]:
    base = ["Anna", "Bob", "Chris", "Dana", "Eve", "Finn", "Gus", "Hana"]
    cyrillic = str.maketrans(
        {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "A": "А", "B": "В", "E": "Е", "H": "Н"}
    )
    payloads = [
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        '"><svg onload=alert(1)>',
        "{{7*7}}",
        "${jndi:ldap://x}",
        "'; DROP TABLE players;--",
        "&lt;b&gt;",
        "javascript:alert(1)",
    ]
    tricks = [
        "\u202e",
        "\u202d",
        "\u2066",
        "\u200b",
        "\u200d",
        "\ufeff",
        "\u0000",
        "\u001b[31m",
        "\r\n",
        "\t",
    ]
    out: list[str] = []
    while len(out) < count:
        kind = rng.randrange(7)
        name = rng.choice(base)
        if kind == 0:
            out.append(rng.choice(payloads))
        elif kind == 1:
            out.append(name.translate(cyrillic))  # homoglyph near-duplicate
        elif kind == 2:
            i = rng.randrange(len(name) + 1)
            out.append(name[:i] + rng.choice(tricks) + name[i:])
        elif kind == 3:
            out.append(name.upper() if rng.random() < 0.5 else f" {name.lower()} ")
        elif kind == 4:
            out.append(name[0] + "\u0301" * 30 + name[1:])  # Zalgo
        elif kind == 5:
            out.append(rng.choice(["0", "O", "o", "1", "l"]) + name)
        else:
            out.append(
                "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(1, 40)))
            )
    return out


def test_five_hundred_hostile_names(server: Server) -> None:
    rng = random.Random(500)
    names = _hostile_names(500, rng)
    outcomes: dict[int, int] = {}
    rooms = []
    with httpx.Client(base_url=server.base, timeout=10) as http:
        room = None
        for index, name in enumerate(names):
            if index % 25 == 0:
                room = http.post("/api/sessions", json={"cartridge": "weirsoe_lies"}).json()
                rooms.append(room["code"])
                for honest in ["Anna", "Bob", "Chris"]:
                    http.post(f"/api/sessions/{room['code']}/players", json={"name": honest})
            r = http.post(f"/api/sessions/{room['code']}/players", json={"name": name})
            outcomes[r.status_code] = outcomes.get(r.status_code, 0) + 1
            assert r.status_code in (201, 409), (name, r.status_code, r.text)
            if r.status_code == 409:
                assert r.json()["error"]["code"] in ("name_taken", "room_full", "bad_name")
        assert outcomes.get(201, 0) > 50
        assert outcomes.get(409, 0) > 50
        for code in rooms:
            stored = [p["name"] for p in http.get(f"/api/sessions/{code}").json()["players"]]
            skeletons = [name_skeleton(n) for n in stored]
            assert len(set(skeletons)) == len(skeletons), stored  # no two look the same
            for n in stored:
                assert 1 <= len(n) <= 20
                assert n == n.strip()
                bad = [c for c in n if unicodedata.category(c) in ("Cc", "Cf", "Co", "Cn", "Cs")]
                assert not bad, (n, bad)
    # Stored names are data, never markup: JSON carries them verbatim, and the browser UI
    # renders them with textContent (see tests/test_e2e_browser.py).


def test_tokens_never_reach_the_server_log(server: Server) -> None:
    async def main() -> tuple[str, str]:
        room = _room(server)
        seat = httpx.post(
            f"{server.base}/api/sessions/{room['code']}/players", json={"name": "Log"}
        ).json()
        client = await GameClient(
            f"{server.ws_base}/ws/game/{room['code']}?token={seat['token']}"
        ).connect()
        await client.wait_for("session.snapshot")
        httpx.post(
            f"{server.base}/api/sessions/{room['code']}/control",
            json={"action": "pause"},
            headers={"Authorization": f"Bearer {room['host_token']}"},
        )
        await client.close()
        return seat["token"], room["host_token"]

    token, host_token = asyncio.run(main())
    log = server.log()
    assert "token=[redacted]" in log  # the socket was logged, without its token
    assert token not in log
    assert host_token not in log
