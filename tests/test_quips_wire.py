"""Weirsøe Quips' secrets on the wire: real sockets to a real server (memory and Redis), bots
that write traceable canaries, reconnects, and an audience member voting. No socket receives
another player's answer while answers are being written, anyone's authorship before the vote
ends, or anyone else's vote."""

from __future__ import annotations

import asyncio
import json
import os
import random

import httpx
import pytest
from _live import BotPlayer, GameClient, Server

from weirsoe_sdk import discover_cartridges

pytestmark = pytest.mark.faults
FULL = os.environ.get("WEIRSOE_FULL_FAULTS") == "1"
BOT = discover_cartridges().get("weirsoe_quips").bot
SETTINGS = {
    "write_seconds": 6.0,
    "vote_seconds": 4.0,
    "result_seconds": 0.3,
    "scoreboard_seconds": 0.3,
}
PHASE_OF = {
    "weirsoe_quips.writing_started": "write",
    "weirsoe_quips.faceoff_started": "vote",
    "weirsoe_quips.final_vote_started": "final_vote",
    "weirsoe_quips.faceoff_result": "result",
    "weirsoe_quips.scoreboard": "scoreboard",
    "weirsoe_quips.game_over": "over",
}


def scan(messages: list[dict], me: str, others: list[str], player: bool) -> list[str]:
    """Leaks in one socket's frames, in the order received."""
    leaks: list[str] = []
    phase: str | None = None
    for m in messages:
        kind = m["type"]
        if kind == "session.snapshot":
            phase = (m.get("view") or {}).get("phase", phase)
        phase = PHASE_OF.get(kind, phase)
        text = json.dumps(m, ensure_ascii=False)
        if phase == "write":
            leaks += [f"{me} saw {o}'s answer in {kind}" for o in others if f"kanari{o}x" in text]
        if phase in ("write", "vote", "final_vote") and '"author":' in text:
            leaks.append(f"{me} saw authorship in {kind} during {phase}")
        if not player and ('"my_vote"' in text or '"my_votes"' in text):
            leaks.append(f"{me} saw a player's vote in {kind}")
    return leaks


def test_no_quips_secret_reaches_the_wrong_socket(server: Server) -> None:
    games = 12 if FULL else 2

    async def one_game(http: httpx.AsyncClient, seed: int) -> tuple[int, list[str]]:
        rng = random.Random(seed)
        body = {"cartridge": "weirsoe_quips", "settings": SETTINGS}
        room = (await http.post("/api/sessions", json=body)).json()
        code = room["code"]
        seats = [
            (await http.post(f"/api/sessions/{code}/players", json={"name": f"Q{i}"})).json()
            for i in range(rng.randint(3, 6))
        ]
        host = await GameClient(
            f"{server.ws_base}/ws/game/{code}?role=host&token={room['host_token']}"
        ).connect()
        joined = (await http.post(f"/api/sessions/{code}/audience")).json()
        member = await GameClient(
            f"{server.ws_base}/ws/game/{code}?role=audience&token={joined['token']}"
        ).connect()
        bots = []
        for s in seats:
            client = await GameClient(
                f"{server.ws_base}/ws/game/{code}?token={s['token']}"
            ).connect()
            bots.append(BotPlayer(client, BOT, s["player_id"], seed=seed))
        await asyncio.gather(*(b.client.wait_for("session.snapshot") for b in bots))
        await http.post(
            f"/api/sessions/{code}/control",
            json={"action": "play"},
            headers={"Authorization": f"Bearer {room['host_token']}"},
        )

        async def chaos() -> None:
            await asyncio.sleep(rng.uniform(0.3, 2.0))
            await rng.choice(bots).reconnect()

        async def crowd() -> None:
            seen = 0
            while True:
                started = await member.wait_for(
                    "weirsoe_quips.faceoff_started", start=seen, timeout=130
                )
                seen = member.messages.index(started) + 1
                pick = rng.choice(started["answers"])["id"]
                await member.send(
                    {"type": "vote", "id": f"v{seen}", "tally": "vote", "choice": pick}
                )

        stir = asyncio.create_task(chaos())
        voter = asyncio.create_task(crowd())
        await asyncio.gather(*(b.run(until="weirsoe_quips.game_over", timeout=150) for b in bots))
        stir.cancel()
        voter.cancel()
        await host.wait_for("weirsoe_quips.game_over")
        ids = [s["player_id"] for s in seats]
        leaks = scan(host.messages, "host", ids, False) + scan(
            member.messages, "member", ids, False
        )
        frames = len(host.messages) + len(member.messages)
        written = sum(f"kanari{i}x" in json.dumps(host.messages) for i in ids)
        for bot in bots:
            others = [i for i in ids if i != bot.player_id]
            for sock in bot.sockets:
                leaks += scan(sock.messages, bot.player_id, others, True)
                frames += len(sock.messages)
                await sock.close()
        await host.close()
        await member.close()
        assert written > 0  # the canaries did reach the screen once revealed
        return frames, leaks

    async def main() -> tuple[int, list[str]]:
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
            done = await asyncio.gather(*(one_game(http, s) for s in range(games)))
        return sum(f for f, _ in done), [leak for _, found in done for leak in found]

    frames, leaks = asyncio.run(main())
    assert leaks == [], leaks[:10]
    assert frames > games * 50
