"""The audience against real servers: joining any time, votes counted exactly (memory, and Redis
across two processes, through a SIGKILL), bad votes refused, host controls."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections import Counter

import httpx
import pytest
from _audience import Member, lies_room, shares, vote
from _env import REDIS_URL, redis_unreachable
from _live import GameClient, Server


async def _play(http: httpx.AsyncClient, base: str, code: str, token: str) -> None:
    r = await http.post(
        f"{base}/api/sessions/{code}/control",
        json={"action": "play"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text


async def _count_game(servers: list[Server], members_n: int, kill: bool = False) -> None:
    """``members_n`` audience members spread over ``servers`` vote and re-vote in the guess
    phase; the counts the driver shows at the reveal equal the last acked vote of each."""
    a = servers[0]
    rng = random.Random(members_n)
    async with httpx.AsyncClient(timeout=30) as http:
        code, token = await lies_room(http, a.base, guess_seconds=20.0 if kill else 15.0)
        members = [
            await Member.join(http, servers[i % len(servers)].base, a.ws_base, code)
            for i in range(members_n)
        ]
        for i, m in enumerate(members):
            await m.connect(servers[i % len(servers)].ws_base)
        host = await GameClient(f"{a.ws_base}/ws/game/{code}?role=host&token={token}").connect()
        await host.wait_for("session.snapshot")
        await _play(http, a.base, code, token)
        started = await host.wait_for("phase.guess_started", timeout=20)
        choices = [x["id"] for x in started["answers"]]

        async def ballot(m: Member, times: int) -> None:
            for _ in range(times):
                reply = await m.vote("truth", rng.choice(choices))
                # On a slow machine the phase may end first: such a vote is refused, and is
                # then not counted (Member.voted keeps acknowledged votes only).
                assert reply["type"] == "ack" or reply["code"] == "tally_closed", reply

        await asyncio.gather(*(ballot(m, rng.randint(1, 2)) for m in members))
        if kill:
            victim = servers[-1]
            victim.proc.kill()  # SIGKILL: no clean-up at all
            victim.proc.wait(5)
            moved = [m for i, m in enumerate(members) if i % len(servers) == len(servers) - 1]
            for m in moved:  # they come back through the surviving server and vote again
                await m.connect(a.ws_base)
            await asyncio.gather(*(ballot(m, 1) for m in moved[::2]))
        await host.wait_for("phase.scores_calculated", timeout=30)
        counted = shares(host.messages)
        expected = Counter(m.voted["truth"] for m in members)
        assert counted == {c: expected.get(c, 0) for c in choices}
        voted = sum(1 for m in members if "truth" in m.voted)
        assert sum(counted.values()) == voted
        assert voted >= members_n // 2, f"only {voted} of {members_n} votes landed in time"
        print(f"\n{voted} of {members_n} members' votes counted exactly")
        for m in members:
            assert m.client is not None
            await m.client.close()
        await host.close()


def test_memberships_votes_and_bad_input(server: Server) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
            code, token = await lies_room(http, server.base, players=8)
            auth = {"Authorization": f"Bearer {token}"}
            seats = [p["id"] for p in (await http.get(f"/api/sessions/{code}")).json()["players"]]
            assert len(seats) == 8  # full
            early = await Member.join(http, server.base, server.ws_base, code)
            await early.connect()
            outside = await early.vote("truth", "a00000000")
            assert outside["code"] == "tally_closed"  # lobby: no vote open
            await _play(http, server.base, code, token)
            late = await Member.join(http, server.base, server.ws_base, code)  # mid-game
            await late.connect()
            host = await GameClient(
                f"{server.ws_base}/ws/game/{code}?role=host&token={token}"
            ).connect()
            started = await host.wait_for("phase.guess_started", timeout=20)
            choice = started["answers"][0]["id"]
            first = await early.vote("truth", choice)
            assert first["type"] == "ack", first
            assert (await late.vote("truth", "nope"))["code"] == "unknown_choice"
            assert (await late.vote("react", f"{choice}|🍕"))["code"] == "unknown_choice"
            r = await http.post(f"/api/sessions/{code}/audience/{late.id}/kick", headers=auth)
            assert r.status_code == 200, r.text
            assert (await late.vote("truth", choice))["code"] == "audience_kicked"
            info = (await http.get(f"/api/sessions/{code}")).json()["audience"]
            assert info["members"] == 2
            assert info["watching"] >= 2
            anon = await GameClient(f"{server.ws_base}/ws/game/{code}?role=audience").connect()
            await anon.wait_for("session.snapshot")
            assert (await vote(anon, "truth", choice))["code"] == "not_audience"
            # The host turns the audience off: no joins, no votes; then on again.
            r = await http.post(
                f"/api/sessions/{code}/control", json={"action": "audience_off"}, headers=auth
            )
            assert r.status_code == 200
            await host.wait_for(lambda m: m["type"] == "session.audience" and not m["enabled"])
            r = await http.post(f"/api/sessions/{code}/audience")
            assert (r.status_code, r.json()["error"]["code"]) == (409, "audience_off")
            assert (await early.vote("truth", choice))["code"] == "audience_off"
            await http.post(
                f"/api/sessions/{code}/control", json={"action": "audience_on"}, headers=auth
            )
            progress = await host.wait_for(
                lambda m: (
                    m["type"] == "audience.tally"
                    and any(t["name"] == "truth" and t["votes"] == 1 for t in m["tallies"])
                ),
                timeout=10,
            )
            assert "version" not in progress
            truth = next(t for t in progress["tallies"] if t["name"] == "truth")
            assert truth["counts"] is None  # hidden until the reveal; only how many voted
            ticks = [m["ts"] for m in host.messages if m["type"] == "audience.tally"]
            assert all(b - a >= 0.45 for a, b in itertools.pairwise(ticks)), ticks
            await host.wait_for("phase.scores_calculated", timeout=30)
            counted = shares(host.messages)
            assert counted[choice] == 1  # the bad votes changed nothing
            assert sum(counted.values()) == 1
            for c in (early.client, late.client, anon, host):
                assert c is not None
                await c.close()

    asyncio.run(main())


def test_votes_reach_the_driver_exactly_on_one_server(server: Server) -> None:
    asyncio.run(_count_game([server], 60))


@pytest.fixture
def two_servers() -> list[Server]:
    reason = redis_unreachable()
    if reason:
        pytest.skip(reason)
    env = {"WEIRSOE_REDIS_PREFIX": f"wtest-{uuid.uuid4().hex[:10]}"}
    servers = [Server("--redis", REDIS_URL, "--with-worker", env=env) for _ in range(2)]
    yield servers
    for s in servers:
        s.stop()


@pytest.mark.redis
def test_200_members_over_two_servers_are_counted_exactly(two_servers: list[Server]) -> None:
    asyncio.run(_count_game(two_servers, 200))


@pytest.mark.redis
def test_no_vote_is_lost_or_doubled_when_a_server_is_killed(two_servers: list[Server]) -> None:
    asyncio.run(_count_game(two_servers, 200, kill=True))
