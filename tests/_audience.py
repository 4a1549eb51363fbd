"""Helpers for audience tests against real servers: members that join, watch and vote."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from _live import GameClient

__all__ = ["Member", "lies_room", "shares"]

_ids = itertools.count(1)


class Member:
    """One audience member: its id, token and socket; ``voted`` is its last acked choice."""

    def __init__(self, audience_id: str, token: str, ws_base: str, code: str) -> None:
        self.id = audience_id
        self.token = token
        self.code = code
        self.ws_base = ws_base
        self.client: GameClient | None = None
        self.voted: dict[str, str] = {}

    @classmethod
    async def join(cls, http: httpx.AsyncClient, base: str, ws_base: str, code: str) -> Member:
        r = await http.post(f"{base}/api/sessions/{code}/audience")
        assert r.status_code == 201, r.text
        data = r.json()
        return cls(data["audience_id"], data["token"], ws_base, code)

    async def connect(self, ws_base: str | None = None) -> GameClient:
        self.ws_base = ws_base or self.ws_base
        url = f"{self.ws_base}/ws/game/{self.code}?role=audience&token={self.token}"
        self.client = await GameClient(url).connect()
        await self.client.wait_for("session.snapshot")
        return self.client

    async def vote(self, tally: str, choice: str) -> dict[str, Any]:
        assert self.client is not None
        reply = await vote(self.client, tally, choice)
        if reply["type"] == "ack":
            self.voted[tally] = choice
        return reply


async def vote(client: GameClient, tally: str, choice: str) -> dict[str, Any]:
    msg_id = f"v{next(_ids)}"
    start = len(client.messages)
    await client.send({"type": "vote", "id": msg_id, "tally": tally, "choice": choice})
    return await client.wait_for(
        lambda m: m["type"] in ("ack", "error") and m.get("id") == msg_id, start=start
    )


async def lies_room(
    http: httpx.AsyncClient, base: str, players: int = 3, **settings: Any
) -> tuple[str, str]:
    fast = {
        "rounds": 1,
        "lie_seconds": 1.0,
        "guess_seconds": 5.0,
        "reveal_step_seconds": 0.2,
        "scoreboard_seconds": 0.2,
        **settings,
    }
    r = await http.post(
        f"{base}/api/sessions", json={"cartridge": "weirsoe_lies", "settings": fast}
    )
    room = r.json()
    for i in range(players):
        r = await http.post(f"{base}/api/sessions/{room['code']}/players", json={"name": f"P{i}"})
        assert r.status_code == 201, r.text
    return room["code"], room["host_token"]


def shares(messages: list[dict[str, Any]]) -> dict[str, int]:
    """Audience votes per answer id, as the reveal steps of the (first) question showed them."""
    out: dict[str, int] = {}
    for m in messages:
        if m["type"] == "reveal.step":
            out[m["answer"]["id"]] = (m.get("audience") or {}).get("votes", 0)
        if m["type"] == "phase.scores_calculated":
            break
    return out
