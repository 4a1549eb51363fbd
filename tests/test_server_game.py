"""A real `weirsoe serve` process, real WebSocket clients: whole games and their guarantees."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from _env import FAST_LIES, start_server
from _live import BotPlayer, GameClient, Server, transition_versions

from weirsoe_sdk import discover_cartridges

CARTRIDGES = discover_cartridges()


async def open_room(server: Server, cartridge: str, settings: dict[str, Any], players: int):
    async with httpx.AsyncClient(base_url=server.base) as http:
        created = await http.post(
            "/api/sessions", json={"cartridge": cartridge, "settings": settings}
        )
        assert created.status_code == 201, created.text
        room = created.json()
        code, host_token = room["code"], room["host_token"]
        assert len(code) == 4
        assert room["join_url"].endswith(code)
        seats = []
        for i in range(players):
            joined = await http.post(f"/api/sessions/{code}/players", json={"name": f"Player {i}"})
            assert joined.status_code == 201, joined.text
            seats.append(joined.json())
    host = await GameClient(
        f"{server.ws_base}/ws/game/{code}?role=host&token={host_token}"
    ).connect()
    clients = [
        await GameClient(f"{server.ws_base}/ws/game/{code}?token={s['token']}").connect()
        for s in seats
    ]
    return code, host_token, host, clients, seats


async def control(server: Server, code: str, token: str, action: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base) as http:
        return await http.post(
            f"/api/sessions/{code}/control",
            json={"action": action},
            headers={"Authorization": f"Bearer {token}"},
        )


def phase_sequence(types: list[str]) -> list[str]:
    keep = ("phase.", "reveal.step")
    return [t for t in types if t.startswith(keep)]


def test_full_lies_game_host_and_six_players(server: Server) -> None:
    async def main() -> None:
        code, token, host, clients, seats = await open_room(server, "weirsoe_lies", FAST_LIES, 6)
        for c in clients:
            await c.wait_for("session.snapshot")
        assert (await control(server, code, token, "play")).status_code == 200
        bot = CARTRIDGES.get("weirsoe_lies").bot
        players = [BotPlayer(c, bot, s["player_id"]) for c, s in zip(clients, seats, strict=True)]
        await asyncio.gather(*(p.run() for p in players))
        final = await host.wait_for("phase.game_over")

        seq = phase_sequence(host.types)
        questions = seq.count("phase.question_shown")
        assert questions == 5
        # Per question: shown, lies, guesses, reveal steps, scores, scoreboard.
        i = 0
        for _ in range(questions):
            assert seq[i : i + 3] == [
                "phase.question_shown",
                "phase.lie_started",
                "phase.guess_started",
            ]
            i += 3
            steps = 0
            while seq[i] == "reveal.step":
                steps += 1
                i += 1
            assert steps >= 2  # at least the truth and one lie
            assert seq[i : i + 2] == ["phase.scores_calculated", "phase.scoreboard"]
            i += 2
        assert seq[i:] == ["phase.game_over"]
        # Every transition message carries a version; versions never go down.
        versions = transition_versions(host.messages)
        assert versions == sorted(versions)
        # Ranked scores, and per-question deltas add up to the final scores.
        ranking = final["ranking"]
        scores = [r["score"] for r in ranking]
        assert scores == sorted(scores, reverse=True)
        totals: dict[str, int] = {}
        for q in final["questions"]:
            for pid, d in q["deltas"].items():
                totals[pid] = totals.get(pid, 0) + d
        assert all(totals.get(r["player_id"], 0) == r["score"] for r in ranking)
        for c in clients:
            assert (await c.wait_for("phase.game_over"))["ranking"] == ranking
        # The platform announces the end to every socket, with the snapshot's public results,
        # right after the game's own last event and with its version.
        for c in [host, *clients]:
            finished = await c.wait_for("session.finished")
            assert finished["version"] == final["version"]
            assert c.types.index("session.finished") == c.types.index("phase.game_over") + 1
        info = httpx.get(f"{server.base}/api/sessions/{code}").json()
        assert info["status"] == "over"
        assert sum(len(p.acks) for p in players) > 0
        for c in [host, *clients]:
            await c.close()

    asyncio.run(main())


def test_full_game_of_the_second_cartridge(server: Server) -> None:
    async def main() -> None:
        code, token, host, clients, seats = await open_room(
            server, "rps", {"rounds": 3, "throw_seconds": 1.0}, 3
        )
        assert (await control(server, code, token, "play")).status_code == 200
        bot = CARTRIDGES.get("rps").bot
        players = [BotPlayer(c, bot, s["player_id"]) for c, s in zip(clients, seats, strict=True)]
        await asyncio.gather(*(p.run(until="rps.finished") for p in players))
        assert host.types.count("rps.round_result") == 3
        assert host.types.count("rps.finished") == 1
        for c in [host, *clients]:
            await c.close()

    asyncio.run(main())


FAST_QUIPS = {
    "write_seconds": 4.0,
    "vote_seconds": 3.0,
    "result_seconds": 0.3,
    "scoreboard_seconds": 0.3,
}


def test_full_game_of_weirsoe_quips(server: Server) -> None:
    """The second first-party cartridge plays to the end through the same platform, on every
    backend (the ``server`` fixture runs memory and Redis)."""

    async def main() -> None:
        code, token, host, clients, seats = await open_room(server, "weirsoe_quips", FAST_QUIPS, 4)
        assert (await control(server, code, token, "play")).status_code == 200
        bot = CARTRIDGES.get("weirsoe_quips").bot
        players = [BotPlayer(c, bot, s["player_id"]) for c, s in zip(clients, seats, strict=True)]
        await asyncio.gather(*(p.run(until="weirsoe_quips.game_over") for p in players))
        final = await host.wait_for("weirsoe_quips.game_over")
        assert host.types.count("weirsoe_quips.writing_started") == 3
        assert host.types.count("weirsoe_quips.scoreboard") == 3
        assert host.types.count("weirsoe_quips.faceoff_result") == 4 + 4 + 1
        assert "weirsoe_quips.prompts_dealt" not in host.types  # private to each player
        scores = [r["score"] for r in final["ranking"]]
        assert scores == sorted(scores, reverse=True)
        assert sum(scores) > 0
        for c in [host, *clients]:
            await c.close()

    asyncio.run(main())


def test_pause_keeps_remaining_time_and_resume_restores_it(server: Server) -> None:
    async def main() -> None:
        settings = {**FAST_LIES, "lie_seconds": 6.0}
        code, token, host, clients, _ = await open_room(server, "weirsoe_lies", settings, 2)
        await control(server, code, token, "play")
        started = await host.wait_for("phase.lie_started")
        await asyncio.sleep(0.5)
        assert (await control(server, code, token, "pause")).status_code == 200
        paused = await host.wait_for("session.paused")
        expected = started["deadline"] - paused["ts"]
        assert abs(paused["remaining"] - expected) < 0.1
        assert paused["deadline"] is None
        # While paused, every action is refused with `paused`, and time does not run.
        reply = await clients[0].request({"type": "lie", "text": "paused lie"})
        assert reply["type"] == "error"
        assert reply["code"] == "paused"
        await asyncio.sleep(1.0)
        assert "phase.guess_started" not in host.types
        assert (await control(server, code, token, "resume")).status_code == 200
        resumed = await host.wait_for("session.resumed")
        assert abs((resumed["deadline"] - resumed["ts"]) - paused["remaining"]) < 0.1
        # A second pause/resume pair behaves the same; pausing twice is refused.
        assert (await control(server, code, token, "pause")).status_code == 200
        again = await control(server, code, token, "pause")
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "not_running"
        assert (await control(server, code, token, "resume")).status_code == 200
        for c in [host, *clients]:
            await c.close()
        await control(server, code, token, "exit")

    asyncio.run(main())


def test_dropped_player_reconnects_with_same_seat_and_equal_snapshot(server: Server) -> None:
    async def main() -> None:
        settings = {**FAST_LIES, "lie_seconds": 20.0}
        code, token, host, clients, seats = await open_room(server, "weirsoe_lies", settings, 3)
        await control(server, code, token, "play")
        await clients[0].wait_for("phase.lie_started")
        assert (await clients[0].request({"type": "lie", "text": "my lie stays"}))["type"] == "ack"
        clients[1].drop()
        left = await host.wait_for("session.player_left")
        assert left["player_id"] == seats[1]["player_id"]
        again = await GameClient(
            f"{server.ws_base}/ws/game/{code}?token={seats[1]['token']}"
        ).connect()
        mine = await again.wait_for("session.snapshot")
        back = await host.wait_for("session.player_reconnected", start=host.messages.index(left))
        assert back["player_id"] == seats[1]["player_id"]
        assert mine["player_id"] == seats[1]["player_id"]
        other = await clients[2].sync()
        assert mine["view"]["phase"] == "lie"
        public = lambda s: {k: v for k, v in s["view"].items() if k != "me"}  # noqa: E731
        mine = await again.sync()
        assert public(mine) == public(other)
        assert mine["players"] == other["players"]
        assert mine["status"] == other["status"]
        assert mine["version"] == other["version"]
        assert mine["view"]["me"]["lie"] is None  # nobody else's lie
        for c in [host, clients[0], clients[2], again]:
            await c.close()
        await control(server, code, token, "exit")

    asyncio.run(main())


def test_duplicate_action_id_is_applied_once(server: Server) -> None:
    async def main() -> None:
        settings = {**FAST_LIES, "lie_seconds": 20.0}
        code, token, host, clients, seats = await open_room(server, "weirsoe_lies", settings, 3)
        await control(server, code, token, "play")
        await clients[0].wait_for("phase.lie_started")
        first = await clients[0].request({"type": "lie", "text": "once only"}, "same-id")
        second = await clients[0].request({"type": "lie", "text": "once only"}, "same-id")
        assert first["type"] == second["type"] == "ack"
        assert first["duplicate"] is False
        assert second["duplicate"] is True
        assert second["version"] == first["version"]
        # A barrier instead of a sleep: another player's lie is committed after the duplicate,
        # and events reach the host in commit order, so once it is in, a second
        # lie.submitted for the first player would have arrived before it.
        other = await clients[1].request({"type": "lie", "text": "another one"})
        assert other["type"] == "ack"
        await host.wait_for(
            lambda m: m["type"] == "lie.submitted" and m["player_id"] == seats[1]["player_id"]
        )
        submitted = [m["player_id"] for m in host.messages if m["type"] == "lie.submitted"]
        assert submitted == [seats[0]["player_id"], seats[1]["player_id"]]
        for c in [host, *clients]:
            await c.close()
        await control(server, code, token, "exit")

    asyncio.run(main())


def test_exit_removes_the_room_everywhere(server: Server) -> None:
    async def main() -> None:
        code, token, host, clients, seats = await open_room(server, "weirsoe_lies", FAST_LIES, 2)
        await control(server, code, token, "play")
        await host.wait_for("phase.lie_started")
        assert (await control(server, code, token, "exit")).status_code == 200
        for c in [host, *clients]:
            await c.wait_for("session.closed")
            assert (await c.wait_closed())[0] == 4410
        async with httpx.AsyncClient(base_url=server.base) as http:
            gone = await http.get(f"/api/sessions/{code}")
            assert gone.status_code == 404
            assert gone.json()["error"]["code"] == "room_not_found"
        late = await GameClient(
            f"{server.ws_base}/ws/game/{code}?token={seats[0]['token']}"
        ).connect()
        assert (await late.wait_closed())[0] == 4404

    asyncio.run(main())


def test_finished_game_is_gone_after_the_grace_period(backend: str) -> None:
    srv = start_server(backend, env={"WEIRSOE_GRACE_SECONDS": "1"})
    try:

        async def main() -> None:
            settings = {**FAST_LIES, "rounds": 1}
            code, token, host, clients, seats = await open_room(srv, "weirsoe_lies", settings, 2)
            await control(srv, code, token, "play")
            bot = CARTRIDGES.get("weirsoe_lies").bot
            players = [
                BotPlayer(c, bot, s["player_id"]) for c, s in zip(clients, seats, strict=True)
            ]
            await asyncio.gather(*(p.run() for p in players))
            async with httpx.AsyncClient(base_url=srv.base) as http:
                during = await http.get(f"/api/sessions/{code}")
                assert during.status_code == 200
                assert during.json()["status"] == "over"
                # /healthz counts sessions only where that takes no I/O (embedded mode);
                # on Redis the key scan below checks the lifecycle instead.
                if backend == "memory":
                    assert (await http.get("/healthz")).json()["sessions"] == 1
                # Gone once the 1 s grace has run; poll (bounded) so a loaded CI machine
                # cannot fail this on scheduling alone.
                for _ in range(50):
                    await asyncio.sleep(0.2)
                    if (await http.get(f"/api/sessions/{code}")).status_code == 404:
                        break
                assert (await http.get(f"/api/sessions/{code}")).status_code == 404
                if backend == "memory":
                    assert (await http.get("/healthz")).json()["sessions"] == 0
            if backend == "redis":
                import redis
                from _env import REDIS_URL

                client = redis.Redis.from_url(REDIS_URL)
                left = [k for k in client.scan_iter(f"{srv.prefix}:*") if code.encode() in k]
                assert left == [], left
            for c in [host, *clients]:
                await c.close()

        asyncio.run(main())
    finally:
        srv.stop()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/api/sessions", "{not json", 400, "bad_request"),
        ("post", "/api/sessions", {"cartridge": "nope"}, 422, "unknown_cartridge"),
        (
            "post",
            "/api/sessions",
            {"cartridge": "weirsoe_lies", "settings": {"rounds": 0}},
            422,
            "invalid_settings",
        ),
        (
            "post",
            "/api/sessions",
            {"cartridge": "weirsoe_lies", "settings": {"packs": ["zz"]}},
            422,
            "invalid_settings",
        ),
        ("post", "/api/sessions", {"cartridge": "weirsoe_lies", "bogus": 1}, 400, "bad_request"),
        ("get", "/api/sessions/QQQQ", None, 404, "room_not_found"),
        ("post", "/api/sessions/QQQQ/players", {"name": "x"}, 404, "room_not_found"),
        ("get", "/api/nothing-here", None, 404, "not_found"),
    ],
)
def test_bad_rest_input_gets_structured_errors(
    server: Server, method: str, path: str, body: Any, status: int, code: str
) -> None:
    kwargs: dict[str, Any] = {}
    if isinstance(body, str):
        kwargs = {"content": body, "headers": {"content-type": "application/json"}}
    elif body is not None:
        kwargs = {"json": body}
    response = httpx.request(method, server.base + path, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_settings_error_names_the_field(server: Server) -> None:
    r = httpx.post(
        server.base + "/api/sessions",
        json={"cartridge": "weirsoe_lies", "settings": {"lie_seconds": "x"}},
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "lie_seconds"


def test_join_rules(server: Server) -> None:
    base = server.base
    room = httpx.post(base + "/api/sessions", json={"cartridge": "rps"}).json()
    code, token = room["code"], room["host_token"]

    def join(name: str, **kw: Any) -> httpx.Response:
        return httpx.post(f"{base}/api/sessions/{code.lower()}/players", json={"name": name, **kw})

    first = join("  Ｚoë  ")
    assert first.status_code == 201
    assert httpx.get(f"{base}/api/sessions/{code}").json()["players"][0]["name"] == "Zoë"
    assert join("zoë").json()["error"]["code"] == "name_taken"
    assert join("").json()["error"]["code"] == "bad_name"
    assert join("x" * 21).json()["error"]["code"] == "bad_name"
    rejoin = join("whatever", token=first.json()["token"])
    assert rejoin.status_code == 201
    assert rejoin.json()["rejoined"] is True
    assert rejoin.json()["player_id"] == first.json()["player_id"]
    for name in ("B", "C", "D"):
        assert join(name).status_code == 201
    full = join("E")
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "room_full"
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        httpx.post(
            f"{base}/api/sessions/{code}/control", json={"action": "play"}, headers=headers
        ).status_code
        == 200
    )
    room2 = httpx.post(base + "/api/sessions", json={"cartridge": "rps"}).json()
    r = httpx.post(
        f"{base}/api/sessions/{room2['code']}/control",
        json={"action": "play"},
        headers={"Authorization": f"Bearer {room2['host_token']}"},
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "not_enough_players"
    late = httpx.post(f"{base}/api/sessions/{code}/players", json={"name": "Late"})
    assert late.status_code == 409
    assert late.json()["error"]["code"] in ("game_started", "room_full")
    room3 = httpx.post(base + "/api/sessions", json={"cartridge": "weirsoe_lies"}).json()
    httpx.post(f"{base}/api/sessions/{room3['code']}/players", json={"name": "A"})
    httpx.post(f"{base}/api/sessions/{room3['code']}/players", json={"name": "B"})
    httpx.post(
        f"{base}/api/sessions/{room3['code']}/control",
        json={"action": "play"},
        headers={"Authorization": f"Bearer {room3['host_token']}"},
    )
    started = httpx.post(f"{base}/api/sessions/{room3['code']}/players", json={"name": "Late"})
    assert started.status_code == 409
    assert started.json()["error"]["code"] == "game_started"


def test_control_needs_the_host_token_and_has_no_skip(server: Server) -> None:
    base = server.base
    room = httpx.post(base + "/api/sessions", json={"cartridge": "rps"}).json()
    url = f"{base}/api/sessions/{room['code']}/control"
    assert httpx.post(url, json={"action": "pause"}).json()["error"]["code"] == "unauthorized"
    bad = httpx.post(url, json={"action": "pause"}, headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 403
    assert bad.json()["error"]["code"] == "forbidden"
    skip = httpx.post(
        url, json={"action": "skip"}, headers={"Authorization": f"Bearer {room['host_token']}"}
    )
    assert skip.status_code == 400
    spec = httpx.get(base + "/schema/openapi.json").json()
    assert "skip" not in str(spec).lower()


def test_rest_action_fallback(server: Server) -> None:
    base = server.base
    room = httpx.post(
        base + "/api/sessions", json={"cartridge": "rps", "settings": {"throw_seconds": 30}}
    ).json()
    code = room["code"]
    a = httpx.post(f"{base}/api/sessions/{code}/players", json={"name": "A"}).json()
    httpx.post(f"{base}/api/sessions/{code}/players", json={"name": "B"})
    url = f"{base}/api/sessions/{code}/actions"
    auth = {"Authorization": f"Bearer {a['token']}"}
    early = httpx.post(url, json={"action": {"type": "throw", "move": "rock"}}, headers=auth)
    assert early.status_code == 422
    assert early.json()["error"]["code"] == "not_started"
    httpx.post(
        f"{base}/api/sessions/{code}/control",
        json={"action": "play"},
        headers={"Authorization": f"Bearer {room['host_token']}"},
    )
    bad = httpx.post(url, json={"action": {"type": "throw", "move": "lizard"}}, headers=auth)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "bad_action"
    ok = httpx.post(
        url, json={"action": {"type": "throw", "move": "rock"}, "id": "x1"}, headers=auth
    )
    dup = httpx.post(
        url, json={"action": {"type": "throw", "move": "rock"}, "id": "x1"}, headers=auth
    )
    assert ok.status_code == 200
    assert dup.json() == {
        "version": ok.json()["version"],
        "duplicate": True,
    }
    assert httpx.post(url, json={"action": {"type": "throw", "move": "rock"}}).status_code == 401


def test_bad_websocket_input(server: Server) -> None:
    async def main() -> None:
        room = httpx.post(server.base + "/api/sessions", json={"cartridge": "weirsoe_lies"}).json()
        code = room["code"]
        seat = httpx.post(f"{server.base}/api/sessions/{code}/players", json={"name": "A"}).json()
        ws = server.ws_base + f"/ws/game/{code}"
        for url, expected in [
            (ws + "?token=nope", 4403),
            (ws, 4401),
            (ws + "?role=host&token=nope", 4403),
            (ws + "?role=wizard&token=x", 4401),
            (server.ws_base + "/ws/game/QQQQ?token=x", 4404),
        ]:
            c = await GameClient(url).connect()
            assert (await c.wait_closed())[0] == expected, url

        player = await GameClient(f"{ws}?token={seat['token']}").connect()
        await player.wait_for("session.snapshot")
        cases = [
            ("{oops", "bad_json"),
            ('{"type":"dance"}', "unknown_type"),
            ("[1,2,3]", "unknown_type"),
            ('{"type":"action"}', "bad_message"),
            ('{"type":"action","id":"1","action":"x"}', "bad_message"),
            ("9" * 5000, "unknown_type"),
            # Deep nesting inside an otherwise readable frame is too_deep, wherever it is.
            ('{"type":"sync","x":' + "[" * 3000 + "]" * 3000 + "}", "too_deep"),
            (
                '{"type":"action","id":"d","action":{"a":' + "[" * 3000 + "]" * 3000 + "}}",
                "too_deep",
            ),
            ('{"type":"action","id":"a1","action":{"type":"lie","text":"x"}}', "not_started"),
            ('{"type":"action","id":"a2","action":{"type":"teleport"}}', "not_started"),
        ]
        for frame, code_ in cases:
            start = len(player.messages)
            await player.send(frame)
            reply = await player.wait_for("error", start=start)
            assert reply["code"] == code_, (frame, reply)
        await player.send(b"\x00\x01binary")
        assert (await player.wait_for("error", start=len(player.messages) - 0))["code"] in (
            "bad_json",
            "unknown_type",
        )
        pong = await player.wait_for("pong", start=0) if "pong" in player.types else None
        start = len(player.messages)
        await player.send('{"type":"ping"}')
        pong = await player.wait_for("pong", start=start)
        assert pong["ts"] > 0
        audience = await GameClient(f"{ws}?role=audience").connect()
        await audience.wait_for("session.snapshot")
        assert (await audience.request({"type": "lie", "text": "x"}))["code"] == "read_only"
        await player.send("x" * (64 * 1024 + 10))
        assert (await player.wait_closed())[0] == 1009
        assert httpx.get(server.base + "/healthz").status_code == 200
        await audience.close()

    asyncio.run(main())
