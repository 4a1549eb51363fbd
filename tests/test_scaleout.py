"""Scale-out with real processes on loopback: two servers, two timer workers, one Redis."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
import redis
from _env import FAST_LIES, REDIS_URL, redis_unreachable
from _live import BotPlayer, GameClient, Server, Worker, transition_versions
from _redis_proc import PrivateRedis, redis_server_missing

from weirsoe_sdk import discover_cartridges

pytestmark = pytest.mark.redis


@pytest.fixture(autouse=True)
def _need_redis() -> None:
    reason = redis_unreachable()
    if reason:
        pytest.skip(reason)


async def _play_across(
    http: httpx.AsyncClient, a: Server, b: Server, settings: dict[str, Any], count: int
) -> tuple[str, GameClient, list[GameClient], list[BotPlayer]]:
    """A Weirsøe Lies room made on ``a``, whose host watches on ``a`` while ``count`` players
    join and connect on ``b``, started: its code, the host, the players' sockets and bots."""
    room = (
        await http.post(
            a.base + "/api/sessions", json={"cartridge": "weirsoe_lies", "settings": settings}
        )
    ).json()
    code, token = room["code"], room["host_token"]
    seats = [
        (await http.post(f"{b.base}/api/sessions/{code}/players", json={"name": f"P{i}"})).json()
        for i in range(count)
    ]
    host = await GameClient(f"{a.ws_base}/ws/game/{code}?role=host&token={token}").connect()
    clients = [
        await GameClient(f"{b.ws_base}/ws/game/{code}?token={s['token']}").connect() for s in seats
    ]
    for c in clients:
        await c.wait_for("session.snapshot")
    r = await http.post(
        f"{a.base}/api/sessions/{code}/control",
        json={"action": "play"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200
    bot = discover_cartridges().get("weirsoe_lies").bot
    players = [BotPlayer(c, bot, s["player_id"]) for c, s in zip(clients, seats, strict=True)]
    return code, host, clients, players


def test_room_spans_two_servers_and_survives_a_killed_worker() -> None:
    prefix = f"wtest-{uuid.uuid4().hex[:10]}"
    env = {"WEIRSOE_REDIS_PREFIX": prefix, "WEIRSOE_GRACE_SECONDS": "2"}
    a = Server("--redis", REDIS_URL, env=env)
    b = Server("--redis", REDIS_URL, env=env)
    workers = [Worker(REDIS_URL, env), Worker(REDIS_URL, env)]
    try:

        async def main() -> None:
            settings = {**FAST_LIES, "lie_seconds": 2.0, "guess_seconds": 2.0}
            async with httpx.AsyncClient() as http:
                code, host, clients, players = await _play_across(http, a, b, settings, 6)
                game = asyncio.gather(*(p.run(timeout=150) for p in players))
                await host.wait_for(
                    lambda m: m["type"] == "phase.question_shown" and m["question"] == 2, timeout=60
                )
                workers[0].kill()  # mid-game, with deadlines pending
                await game
                final = await host.wait_for("phase.game_over")
                assert len(final["questions"]) == 5

                # No phase ran twice, and none was skipped: every phase event is unique per
                # question, versions only grow, and each question has the full sequence.
                phases = [
                    m for m in host.messages if m["type"].startswith(("phase.", "reveal.step"))
                ]
                keys = [
                    (m["type"], m.get("question"), m.get("index"), m["version"]) for m in phases
                ]
                assert len(set(keys)) == len(keys)
                versions = transition_versions(host.messages)
                assert versions == sorted(versions)
                counts = Counter(m["type"] for m in phases)
                for kind in (
                    "phase.question_shown",
                    "phase.lie_started",
                    "phase.guess_started",
                    "phase.scores_calculated",
                    "phase.scoreboard",
                ):
                    assert counts[kind] == 5, (kind, counts)
                steps = [m for m in phases if m["type"] == "reveal.step"]
                by_q: dict[int, list[int]] = {}
                q = 0
                for m in phases:
                    if m["type"] == "phase.question_shown":
                        q = m["question"]
                    if m["type"] == "reveal.step":
                        by_q.setdefault(q, []).append(m["index"])
                assert all(ix == list(range(len(ix))) for ix in by_q.values()), by_q
                assert steps
                # Lateness of phase changes after the kill, for the record (not asserted).
                lateness = [
                    m["ts"] - prev["deadline"]
                    for prev, m in itertools.pairwise(phases)
                    if prev.get("deadline") and m["ts"] >= prev["deadline"]
                ]
                print(f"\nphase transitions: {len(phases)}; max lateness {max(lateness):.3f} s")
                for c in [host, *clients]:
                    await c.close()
                # After the grace period nothing of the session remains.
                client = redis.Redis.from_url(REDIS_URL)
                for _ in range(50):  # bounded wait for the grace period to run out
                    await asyncio.sleep(0.2)
                    left = [k for k in client.scan_iter(f"{prefix}:*") if code.encode() in k]
                    if not left:
                        break
                assert left == []
                assert (await http.get(f"{b.base}/api/sessions/{code}")).status_code == 404

        asyncio.run(main())
    finally:
        for proc in (a, b, *workers):
            proc.stop()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def test_a_room_spans_two_servers_on_a_redis_reached_over_its_unix_socket() -> None:
    """``--redis unix://PATH``, for a Redis on the servers' own machine: the servers' stores,
    their pub/sub connections, the timer pumps' wake subscription and the worker's taskiq
    broker all reach it over the socket (a private ``redis-server`` with no TCP port at all).
    The host watches on one server and the players play on the other, so every event they
    see crossed the pub/sub connection; the phases end on their deadlines."""
    missing = redis_server_missing()
    if missing:
        pytest.skip(missing)
    private = PrivateRedis(unix=True)
    env = {"WEIRSOE_REDIS_PREFIX": f"wtest-{uuid.uuid4().hex[:10]}"}
    a = Server("--redis", private.url, "--with-worker", env=env)
    b = Server("--redis", private.url, env=env)
    worker = Worker(private.url, env)
    try:

        async def main() -> None:
            async with httpx.AsyncClient(timeout=30) as http:
                for server in (a, b):  # both report the Redis they reach as up
                    health = (await http.get(server.base + "/healthz")).json()
                    assert health["status"] == "ok", health
                settings = {**FAST_LIES, "rounds": 1}
                _, host, clients, players = await _play_across(http, a, b, settings, 3)
                await asyncio.gather(*(p.run(timeout=60) for p in players))
                final = await host.wait_for("phase.game_over", timeout=30)
                assert len(final["questions"]) == 1
                for c in clients:  # the players' server heard every phase from the other one
                    kinds = [m["type"] for m in c.messages]
                    for kind in ("phase.lie_started", "phase.guess_started", "phase.game_over"):
                        assert kinds.count(kind) == 1, (kind, kinds)
                versions = transition_versions(host.messages)
                assert versions == sorted(versions)
                for c in [host, *clients]:
                    await c.close()

        asyncio.run(main())
    finally:
        for proc in (a, b, worker):
            proc.stop()
        private.close()


def test_fifty_rooms_connecting_at_once_all_get_their_events() -> None:
    prefix = f"wtest-{uuid.uuid4().hex[:10]}"
    srv = Server("--redis", REDIS_URL, "--with-worker", env={"WEIRSOE_REDIS_PREFIX": prefix})
    try:

        async def main() -> None:
            async with httpx.AsyncClient(base_url=srv.base, timeout=30) as http:
                rooms = [
                    (await http.post("/api/sessions", json={"cartridge": "rps"})).json()
                    for _ in range(50)
                ]
                hosts = await asyncio.gather(
                    *(
                        GameClient(
                            f"{srv.ws_base}/ws/game/{r['code']}?role=host&token={r['host_token']}"
                        ).connect()
                        for r in rooms
                    )
                )
                await asyncio.gather(*(h.wait_for("session.snapshot") for h in hosts))
                await asyncio.gather(
                    *(
                        http.post(f"/api/sessions/{r['code']}/players", json={"name": "Joiner"})
                        for r in rooms
                    )
                )
                got = await asyncio.gather(
                    *(h.wait_for("session.player_joined", timeout=10) for h in hosts)
                )
                assert len(got) == 50
                assert all(m["player"]["name"] == "Joiner" for m in got)
                for h in hosts:
                    await h.close()

        asyncio.run(main())
    finally:
        srv.stop()


def test_lost_redis_gives_clear_errors_and_the_server_recovers(tmp_path) -> None:
    import shutil
    import subprocess

    from _live import free_port

    if not shutil.which("redis-server"):
        pytest.skip("redis-server binary not installed")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def start_redis() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                return proc
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("test redis did not start")

    redis_proc = start_redis()
    srv = Server("--redis", url, "--with-worker")
    try:

        async def main() -> None:
            async with httpx.AsyncClient(base_url=srv.base, timeout=20) as http:
                room = (
                    await http.post(
                        "/api/sessions",
                        json={"cartridge": "rps", "settings": {"throw_seconds": 30}},
                    )
                ).json()
                seat = (
                    await http.post(f"/api/sessions/{room['code']}/players", json={"name": "A"})
                ).json()
                await http.post(f"/api/sessions/{room['code']}/players", json={"name": "B"})
                player = await GameClient(
                    f"{srv.ws_base}/ws/game/{room['code']}?token={seat['token']}"
                ).connect()
                await player.wait_for("session.snapshot")
                redis_proc.kill()
                redis_proc.wait()
                down = await http.post("/api/sessions", json={"cartridge": "rps"})
                assert down.status_code == 503
                assert down.json()["error"]["code"] == "store_unavailable"
                assert down.headers.get("retry-after")
                reply = await player.request({"type": "throw", "move": "rock"})
                assert reply["type"] == "error"
                assert reply["code"] == "store_unavailable"
                # Liveness stays 200 (the process is fine); readiness says 503.
                health = await http.get("/healthz")
                assert health.status_code == 200
                ready = await http.get("/readyz")
                assert ready.status_code == 503
                assert ready.json() == {"status": "unavailable", "store": False, "database": True}
                assert ready.headers.get("retry-after")

                restarted = start_redis()
                try:
                    for _ in range(100):
                        created = await http.post(
                            "/api/sessions",
                            json={
                                "cartridge": "rps",
                                "settings": {"throw_seconds": 0.5, "rounds": 1},
                            },
                        )
                        if created.status_code == 201:
                            break
                        await asyncio.sleep(0.1)
                    assert created.status_code == 201
                    new = created.json()
                    host = await GameClient(
                        f"{srv.ws_base}/ws/game/{new['code']}?role=host&token={new['host_token']}"
                    ).connect()
                    await host.wait_for("session.snapshot")
                    for name in ("A", "B"):
                        await http.post(f"/api/sessions/{new['code']}/players", json={"name": name})
                    await http.post(
                        f"/api/sessions/{new['code']}/control",
                        json={"action": "play"},
                        headers={"Authorization": f"Bearer {new['host_token']}"},
                    )
                    # Events flow again and the timer fires: the game ends on its deadline.
                    await host.wait_for("rps.finished", timeout=20)
                    await host.close()
                finally:
                    restarted.kill()
                    restarted.wait()
                await player.close()

        asyncio.run(main())
    finally:
        srv.stop()
        if redis_proc.poll() is None:
            redis_proc.kill()


def test_serving_on_redis_without_a_worker_warns() -> None:
    prefix = f"wtest-{uuid.uuid4().hex[:10]}"
    srv = Server("--redis", REDIS_URL, env={"WEIRSOE_REDIS_PREFIX": prefix})
    try:
        end = time.monotonic() + 15
        while "no timer worker is running" not in srv.log() and time.monotonic() < end:
            time.sleep(0.2)
        assert "no timer worker is running" in srv.log()
        assert "weirsoe worker" in srv.log()
    finally:
        srv.stop()
