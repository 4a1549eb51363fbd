"""Play again: after a game, the host starts another one in the same room, with the same code
and seats ("Same players"); every socket follows, settings carry over or change, and players may
join between games. A real server on each backend, real sockets, through the one path."""

from __future__ import annotations

import asyncio

import httpx
from _live import GameClient, Server, transition_versions

THROWS = ({"type": "throw", "move": "rock"}, {"type": "throw", "move": "scissors"})


async def open_room(
    server: Server, cartridge: str, settings: dict[str, object], players: int
) -> tuple[str, str, GameClient, list[GameClient], list[dict[str, str]]]:
    async with httpx.AsyncClient(base_url=server.base) as http:
        created = await http.post(
            "/api/sessions", json={"cartridge": cartridge, "settings": settings}
        )
        assert created.status_code == 201, created.text
        code, token = created.json()["code"], created.json()["host_token"]
        seats = []
        for i in range(players):
            joined = await http.post(f"/api/sessions/{code}/players", json={"name": f"P{i}"})
            assert joined.status_code == 201, joined.text
            seats.append(joined.json())
    host = await GameClient(f"{server.ws_base}/ws/game/{code}?role=host&token={token}").connect()
    clients = [
        await GameClient(f"{server.ws_base}/ws/game/{code}?token={s['token']}").connect()
        for s in seats
    ]
    return code, token, host, clients, seats


async def control(server: Server, code: str, token: str, action: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base) as http:
        return await http.post(
            f"/api/sessions/{code}/control",
            json={"action": action},
            headers={"Authorization": f"Bearer {token}"},
        )


async def _again(server: Server, code: str, token: str, body: dict[str, object]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base) as http:
        return await http.post(
            f"/api/sessions/{code}/control",
            json={"action": "again", **body},
            headers={"Authorization": f"Bearer {token}"},
        )


async def _play_one_round(clients: list[GameClient], starts: list[int]) -> None:
    for client, throw, start in zip(clients, THROWS, starts, strict=False):
        await client.wait_for("rps.round_started", start=start)
        reply = await client.request(throw)
        assert reply["type"] == "ack", reply


def test_two_games_in_a_row_in_one_room(server: Server) -> None:
    async def main() -> None:
        code, token, host, clients, seats = await open_room(
            server, "rps", {"rounds": 1, "throw_seconds": 30.0}, 2
        )
        everyone = [host, *clients]
        for c in everyone:
            await c.wait_for("session.snapshot")
        too_early = await _again(server, code, token, {})
        assert too_early.status_code == 409
        assert too_early.json()["error"]["code"] == "not_over"

        assert (await control(server, code, token, "play")).status_code == 200
        await _play_one_round(clients, [0, 0])
        for c in everyone:
            await c.wait_for("session.finished")
        assert (await control(server, code, token, "play")).status_code == 409

        bad = await _again(server, code, token, {"settings": {"rounds": 0}})
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "invalid_settings"
        assert httpx.get(f"{server.base}/api/sessions/{code}").json()["status"] == "over"
        stray = await control(server, code, token, "pause")
        assert stray.status_code == 409

        marks = [len(c.messages) for c in everyone]
        done = await _again(server, code, token, {"settings": {"rounds": 2}})
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "lobby"
        for c, mark in zip(everyone, marks, strict=True):
            new_game = await c.wait_for("session.new_game", start=mark)
            assert [p["id"] for p in new_game["players"]] == [s["player_id"] for s in seats]
            assert new_game["settings"]["rounds"] == 2
            assert new_game["settings"]["throw_seconds"] == 30.0  # carried over
        info = httpx.get(f"{server.base}/api/sessions/{code}").json()
        assert info["code"] == code
        assert info["status"] == "lobby"
        assert info["settings"]["rounds"] == 2
        # Same seats: the old tokens still work; a newcomer may join between games.
        async with httpx.AsyncClient(base_url=server.base) as http:
            late = await http.post(f"/api/sessions/{code}/players", json={"name": "Late"})
            assert late.status_code == 201, late.text
        snap = await clients[0].sync()
        assert snap["status"] == "lobby"
        assert snap["view"] is None
        assert len(snap["players"]) == 3

        late_socket = await GameClient(
            f"{server.ws_base}/ws/game/{code}?token={late.json()['token']}"
        ).connect()
        await late_socket.wait_for("session.snapshot")
        players = [*clients, late_socket]
        everyone = [host, *players]
        marks = [len(c.messages) for c in everyone]
        assert (await control(server, code, token, "play")).status_code == 200
        for c, mark in zip(everyone, marks, strict=True):
            started = await c.wait_for("session.started", start=mark)
            assert len(started["players"]) == 3
        # Two rounds now (the changed setting), then the second game ends for everyone.
        for round_no in (1, 2):
            for client, throw, mark in zip(players, [*THROWS, THROWS[0]], marks[1:], strict=True):
                await client.wait_for(
                    lambda m, r=round_no: m["type"] == "rps.round_started" and m["round"] == r,
                    start=mark,
                )
                assert (await client.request(throw))["type"] == "ack"
        for c, mark in zip(everyone, marks, strict=True):
            await c.wait_for("session.finished", start=mark)
        versions = transition_versions(host.messages)
        assert versions == sorted(versions)
        for c in everyone:
            await c.close()

    asyncio.run(main())
