"""Liveness under faults: Redis restarts, dead processes, workers told to stop.

Each test that restarts Redis runs its own private ``redis-server`` (``_redis_proc``). Figures
are printed and appended to ``artifacts/figures.jsonl``; docs/security.md records them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis
from _live import GameClient, Server, Worker
from _redis_proc import PrivateRedis, redis_server_missing

from weirsoe_platform._redis_pubsub import RedisPubSub

pytestmark = pytest.mark.faults
FULL = os.environ.get("WEIRSOE_FULL_FAULTS") == "1"


def report(name: str, **figures: object) -> None:
    line = ", ".join(f"{k}={v}" for k, v in figures.items())
    print(f"\n[figures] {name}: {line}")
    os.makedirs("artifacts", exist_ok=True)
    with open("artifacts/figures.jsonl", "a") as f:
        f.write(json.dumps({"test": name, "full": FULL, **figures}) + "\n")


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    reason = redis_server_missing()
    if reason:
        pytest.skip(reason)
    server = PrivateRedis()
    try:
        yield server
    finally:
        server.close()


def test_settle_gives_up_with_a_warning_when_redis_never_answers(
    private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    """A socket waits for Redis to confirm its room's subscription; a hung Redis (a real one,
    stopped) gets a warning after the timeout, and nothing is left waiting."""

    async def main() -> dict[str, object]:
        pubsub = RedisPubSub(private_redis.url, lambda c, m: None)
        with private_redis.hung():
            await pubsub.start()
            try:
                pubsub.subscribe(["W:ROOM"])
                await pubsub.settle(timeout=0.2)
                return dict(pubsub._settling)
            finally:
                await pubsub.stop()

    with caplog.at_level(logging.WARNING, logger="weirsoe.channels"):
        settling = asyncio.run(main())
    assert "did not confirm subscriptions (TimeoutError)" in caplog.text
    assert settling == {}  # nothing left behind


async def _wait_created(http: httpx.AsyncClient, base: str, settings: dict) -> dict:
    """Create a room, waiting out the seconds the server needs to see Redis again."""
    for _ in range(150):
        created = await http.post(
            base + "/api/sessions", json={"cartridge": "rps", "settings": settings}
        )
        if created.status_code == 201:
            return dict(created.json())
        assert created.status_code == 503, created.text  # never a 500 on the way back
        await asyncio.sleep(0.1)
    raise AssertionError("the server did not recover from the Redis restart")


async def timer_game(srv: Server, http: httpx.AsyncClient, *, timeout: float = 20.0) -> float:
    """A 2-round rps game nobody plays: it can only end through its timers. Returns its
    duration in seconds."""
    room = await _wait_created(http, srv.base, {"throw_seconds": 0.4, "rounds": 2})
    code, token = room["code"], room["host_token"]
    host = await GameClient(f"{srv.ws_base}/ws/game/{code}?role=host&token={token}").connect()
    try:
        await host.wait_for("session.snapshot")
        for name in ("A", "B"):
            joined = await http.post(f"{srv.base}/api/sessions/{code}/players", json={"name": name})
            assert joined.status_code == 201, joined.text
        start = time.monotonic()
        played = await http.post(
            f"{srv.base}/api/sessions/{code}/control",
            json={"action": "play"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert played.status_code == 200, played.text
        await host.wait_for("rps.finished", timeout=timeout)
        return time.monotonic() - start
    finally:
        await host.close()


def test_timers_keep_firing_after_redis_restarts_mid_game(private_redis: PrivateRedis) -> None:
    """The Jepsen finding: after a Redis restart, the first kick used a stale pooled
    connection, taskiq raised SendTaskError, and the pump died for good."""
    srv = Server("--redis", private_redis.url)
    worker = Worker(private_redis.url, {})
    wait_for_worker(private_redis.url)
    try:

        async def main() -> None:
            async with httpx.AsyncClient(timeout=20) as http:
                before = await timer_game(srv, http)
                # A game mid-flight when Redis restarts (it is lost: no persistence).
                room = await _wait_created(http, srv.base, {"throw_seconds": 5, "rounds": 3})
                for name in ("A", "B"):
                    await http.post(
                        f"{srv.base}/api/sessions/{room['code']}/players", json={"name": name}
                    )
                await http.post(
                    f"{srv.base}/api/sessions/{room['code']}/control",
                    json={"action": "play"},
                    headers={"Authorization": f"Bearer {room['host_token']}"},
                )
                host = await GameClient(
                    f"{srv.ws_base}/ws/game/{room['code']}?role=host&token={room['host_token']}"
                ).connect()
                await host.wait_for("session.snapshot")
                private_redis.restart(down_for=0.3)
                lost_at = time.monotonic()
                # The lost game is announced to its sockets, which then close with 4410.
                closed = await host.wait_for("session.closed", timeout=20)
                told_after = time.monotonic() - lost_at
                assert closed["reason"] == "lost"
                assert closed["version"] == host.messages[-2]["version"] + 1
                assert (await host.wait_closed())[0] == 4410
                after = [await timer_game(srv, http) for _ in range(2)]
                report(
                    "redis_restart_mid_game",
                    before_s=round(before, 2),
                    lost_game_told_after_s=round(told_after, 2),
                    after_s=[round(x, 2) for x in after],
                )

        asyncio.run(main())
        assert worker.proc.poll() is None, "the worker died"
    finally:
        srv.stop()
        worker.stop()


def test_timers_survive_five_redis_restarts_in_a_row(private_redis: PrivateRedis) -> None:
    restarts = 5
    srv = Server("--redis", private_redis.url)
    worker = Worker(private_redis.url, {})
    wait_for_worker(private_redis.url)
    try:

        async def main() -> None:
            async with httpx.AsyncClient(timeout=20) as http:
                durations = [await timer_game(srv, http)]
                for _ in range(restarts):
                    private_redis.restart(down_for=0.2)
                    durations.append(await timer_game(srv, http))
                report(
                    "redis_restarts_in_a_row",
                    restarts=private_redis.restarts,
                    game_s=[round(x, 2) for x in durations],
                )

        asyncio.run(main())
        assert private_redis.restarts == restarts
        assert worker.proc.poll() is None, "the worker died"
    finally:
        srv.stop()
        worker.stop()


def wait_for_worker(url: str, prefix: str = "weirsoe", timeout: float = 90.0) -> None:
    """Until a worker's heartbeat is in Redis (starting one has taken 25 s on a loaded box)."""
    timeout = float(os.environ.get("WEIRSOE_TEST_READY_TIMEOUT", timeout))
    client = redis.Redis.from_url(url)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if client.keys(f"{prefix}:workers:*"):
            return
        time.sleep(0.1)
    raise AssertionError("no worker heartbeat")


def test_redis_down_gives_503_and_1013_never_500(private_redis: PrivateRedis) -> None:
    """The rate limiter's Redis calls were outside the store's error mapping: GET and join
    answered 500 and a new socket closed 4500. Now: 503 ``store_unavailable`` with
    ``Retry-After``, close 1013; ``/healthz`` stays 200 while ``/readyz`` says 503."""
    srv = Server("--redis", private_redis.url, "--with-worker")
    try:

        async def main() -> None:
            async with httpx.AsyncClient(base_url=srv.base, timeout=20) as http:
                room = await _wait_created(http, srv.base, {"throw_seconds": 30})
                code = room["code"]
                assert (await http.get("/readyz")).status_code == 200
                private_redis.stop()
                answers = [
                    await http.get(f"/api/sessions/{code}"),
                    await http.post(f"/api/sessions/{code}/players", json={"name": "A"}),
                    await http.post(
                        f"/api/sessions/{code}/control",
                        json={"action": "play"},
                        headers={"Authorization": f"Bearer {room['host_token']}"},
                    ),
                    await http.post("/api/sessions", json={"cartridge": "rps"}),
                ]
                for answer in answers:
                    assert answer.status_code == 503, answer.text
                    assert answer.json()["error"]["code"] == "store_unavailable"
                    assert int(answer.headers["retry-after"]) >= 1
                client = await GameClient(f"{srv.ws_base}/ws/game/{code}?role=audience").connect()
                assert (await client.wait_closed())[0] == 1013
                assert (await http.get("/healthz")).status_code == 200
                ready = await http.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["store"] is False
                private_redis.start()
                for _ in range(100):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                    await asyncio.sleep(0.1)
                assert (await http.get("/readyz")).status_code == 200
                report("redis_down_answers", refused_with_503=len(answers), ws_close=1013)

        asyncio.run(main())
        assert "unhandled error" not in srv.log()
        assert '" 500' not in srv.log()
        assert "Exception in ASGI application" not in srv.log()
    finally:
        srv.stop()


def test_players_of_a_killed_server_are_marked_gone_within_ten_seconds() -> None:
    from _env import REDIS_URL, redis_unreachable

    reason = redis_unreachable()
    if reason:
        pytest.skip(reason)
    prefix = f"wtest-{uuid.uuid4().hex[:10]}"
    env = {"WEIRSOE_REDIS_PREFIX": prefix}
    a = Server("--redis", REDIS_URL, env=env)
    b = Server("--redis", REDIS_URL, "--with-worker", env=env)
    try:

        async def main() -> float:
            async with httpx.AsyncClient(timeout=20) as http:
                room = (
                    await http.post(
                        b.base + "/api/sessions",
                        json={"cartridge": "rps", "settings": {"throw_seconds": 60}},
                    )
                ).json()
                code = room["code"]
                seats = [
                    (
                        await http.post(f"{b.base}/api/sessions/{code}/players", json={"name": n})
                    ).json()
                    for n in ("OnA", "OnB")
                ]
                host = await GameClient(
                    f"{b.ws_base}/ws/game/{code}?role=host&token={room['host_token']}"
                ).connect()
                on_a = await GameClient(
                    f"{a.ws_base}/ws/game/{code}?token={seats[0]['token']}"
                ).connect()
                on_b = await GameClient(
                    f"{b.ws_base}/ws/game/{code}?token={seats[1]['token']}"
                ).connect()
                for client in (on_a, on_b):
                    await client.wait_for("session.snapshot")

                async def connected() -> dict[str, bool]:
                    info = (await http.get(f"{b.base}/api/sessions/{code}")).json()
                    return {p["name"]: p["connected"] for p in info["players"]}

                for _ in range(100):
                    if await connected() == {"OnA": True, "OnB": True}:
                        break
                    await asyncio.sleep(0.1)
                assert await connected() == {"OnA": True, "OnB": True}
                await asyncio.sleep(2.5)  # at least one beat of A's with its player in it
                start = len(host.messages)
                a.proc.kill()
                a.proc.wait(5)
                killed = time.monotonic()
                left = await host.wait_for("session.player_left", timeout=20, start=start)
                cleared = time.monotonic() - killed
                assert left["player_id"] == seats[0]["player_id"]
                assert await connected() == {"OnA": False, "OnB": True}
                await asyncio.sleep(3)  # OnB, on a live process, stays connected
                assert await connected() == {"OnA": False, "OnB": True}
                for client in (host, on_b):
                    await client.close()
                return cleared

        cleared = asyncio.run(main())
        # Designed for about 8 s (beats every 2 s, dead after 6 s); the figure is recorded,
        # not asserted (the wait above gives up at 20 s).
        report("ghost_player_cleared", seconds=round(cleared, 2))
    finally:
        a.stop()
        b.stop()
