"""Faults, fuzz and secrets against real processes. Smaller counts in CI; the full counts run
with ``WEIRSOE_FULL_FAULTS=1`` (``nox -s faults``). Figures are printed, not asserted as timings;
docs/security.md records them."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections import Counter

import httpx
import pytest
from _env import FAST_LIES, REDIS_URL, redis_unreachable
from _live import BotPlayer, GameClient, Server, Worker, transition_versions

from weirsoe_sdk import discover_cartridges

pytestmark = pytest.mark.faults
FULL = os.environ.get("WEIRSOE_FULL_FAULTS") == "1"
BOT = discover_cartridges().get("weirsoe_lies").bot


def need_redis() -> None:
    reason = redis_unreachable()
    if reason:
        pytest.skip(reason)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def report(name: str, **figures: object) -> None:
    line = ", ".join(f"{k}={v}" for k, v in figures.items())
    print(f"\n[figures] {name}: {line}")
    with open("artifacts/figures.jsonl", "a") as f:
        f.write(json.dumps({"test": name, "full": FULL, **figures}) + "\n")


@pytest.fixture(autouse=True, scope="module")
def _artifacts() -> None:
    os.makedirs("artifacts", exist_ok=True)


# -- fuzz ---------------------------------------------------------------------------------
def test_schemathesis_all_checks_pass(server: Server) -> None:
    """Every schemathesis check against the live server, on each backend: no server errors,
    every status and body documented, schema-valid requests accepted and invalid ones refused."""
    examples = "300" if FULL else "5"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{server.base}/schema/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            examples,
            "--generation-deterministic",
            "--wait-for-schema",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    tail = result.stdout[-6000:]
    assert result.returncode == 0, tail
    assert "passed" in tail
    assert "failure" not in tail.rsplit("SUMMARY", 1)[-1].lower(), tail
    cases = [line for line in tail.splitlines() if "generated" in line]
    report(
        "schemathesis",
        backend=server.backend,  # type: ignore[attr-defined]
        examples=examples,
        cases=cases[-1].strip() if cases else "?",
    )
    assert httpx.get(server.base + "/healthz").status_code == 200


MALFORMED = [
    "{",
    "[",
    "nul",
    '"unterminated',
    "}{",
    "",
    " ",
    "\u0000",
    "\ud800".encode("utf-8", "surrogatepass"),
    '{"type": 5}',
    '{"type": null}',
    '{"type": ["ping"]}',
    "[1,2,3]",
    "42",
    '"ping"',
    "true",
    '{"type":"boom"}',
    '{"type":"PING"}',
    '{"kind":"ping"}',
    '{"type":"action"}',
    '{"type":"action","id":5,"action":{}}',
    '{"type":"action","id":"x","action":[1]}',
    '{"type":"action","id":"' + "x" * 100 + '","action":{}}',
    '{"type":"action","id":"x","action":{"type":"guess","answer_id":1e99999}}',
    '{"type":"action","id":"x","action":{"type":"lie","text":123456789012345678901234567890}}',
    '{"type":"action","id":"x","action":{"type":"react","answer_id":"a","emoji":{"x":1}}}',
    '{"type":"sync","extra":1}',
    "[" * 5000 + "]" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    b"\xff\xfe\xfd",
    bytes(range(256)),
    b"\x89PNG\r\n\x1a\n",
]


def test_malformed_frames_get_errors_and_the_server_stays_healthy(server: Server) -> None:
    total = 10_000 if FULL else 2_000
    sockets = 50
    per_socket = total // sockets

    async def main() -> dict[str, object]:
        async with httpx.AsyncClient(base_url=server.base) as http:
            room = (await http.post("/api/sessions", json={"cartridge": "weirsoe_lies"})).json()
            seats = [
                (
                    await http.post(f"/api/sessions/{room['code']}/players", json={"name": f"F{i}"})
                ).json()
                for i in range(8)
            ]
            before = rss_mb(server.proc.pid)
            urls = [
                f"{server.ws_base}/ws/game/{room['code']}?token={seats[i % 8]['token']}"
                for i in range(8)
            ]
            urls += [f"{server.ws_base}/ws/game/{room['code']}?role=audience"] * (sockets - 8)
            clients = [await GameClient(u).connect() for u in urls]
            await asyncio.gather(*(c.wait_for("session.snapshot") for c in clients))
            rng = random.Random(10_000)
            health: list[int] = []

            async def fire(client: GameClient) -> None:
                start = len(client.messages)
                for _ in range(per_socket):
                    await client.send(rng.choice(MALFORMED))
                    await asyncio.sleep(0.045)  # ~22 frames/s: mostly under the frame limit
                await client.wait_for(
                    lambda m: (
                        sum(1 for x in client.messages[start:] if x["type"] == "error")
                        >= per_socket
                    ),
                    timeout=60,
                )

            async def probe() -> None:
                while True:
                    health.append((await http.get("/healthz")).status_code)
                    await asyncio.sleep(0.5)

            prober = asyncio.create_task(probe())
            await asyncio.gather(*(fire(c) for c in clients))
            prober.cancel()
            errors = Counter(m["code"] for c in clients for m in c.messages if m["type"] == "error")
            closed = [c.closed for c in clients if c.closed]
            after = rss_mb(server.proc.pid)
            for c in clients:
                await c.close()
            return {
                "errors": errors,
                "closed": closed,
                "health": health,
                "before": before,
                "after": after,
            }

    out = asyncio.run(main())
    errors: Counter[str] = out["errors"]  # type: ignore[assignment]
    assert sum(errors.values()) >= total
    assert "internal_error" not in errors  # every bad frame is understood, none crashes a handler
    assert out["closed"] == []
    assert set(out["health"]) == {200}  # type: ignore[arg-type]
    growth = float(out["after"]) - float(out["before"])  # type: ignore[arg-type]
    assert growth < 50, f"server RSS grew {growth:.1f} MB"
    report(
        "malformed_frames",
        frames=total,
        sockets=sockets,
        errors=dict(errors),
        rss_before_mb=round(float(out["before"]), 1),
        rss_growth_mb=round(growth, 1),
    )  # type: ignore[arg-type]


# -- faults on Redis ------------------------------------------------------------------------
def _play_many(a: Server, b: Server, rooms: int, players: int, on_tick=None) -> list[GameClient]:
    async def one_room(http: httpx.AsyncClient) -> GameClient:
        settings = {**FAST_LIES, "rounds": 2, "questions_per_round": 1}
        room = (
            await http.post(
                a.base + "/api/sessions", json={"cartridge": "weirsoe_lies", "settings": settings}
            )
        ).json()
        seats = [
            (
                await http.post(
                    f"{b.base}/api/sessions/{room['code']}/players", json={"name": f"P{i}"}
                )
            ).json()
            for i in range(players)
        ]
        host = await GameClient(
            f"{a.ws_base}/ws/game/{room['code']}?role=host&token={room['host_token']}"
        ).connect()
        clients = [
            await GameClient(f"{b.ws_base}/ws/game/{room['code']}?token={s['token']}").connect()
            for s in seats
        ]
        await asyncio.gather(*(c.wait_for("session.snapshot") for c in clients))
        await http.post(
            f"{a.base}/api/sessions/{room['code']}/control",
            json={"action": "play"},
            headers={"Authorization": f"Bearer {room['host_token']}"},
        )
        bots = [BotPlayer(c, BOT, s["player_id"]) for c, s in zip(clients, seats, strict=True)]
        await asyncio.gather(*(p.run(timeout=240) for p in bots))
        for c in clients:
            await c.close()
        return host

    async def main() -> list[GameClient]:
        async with httpx.AsyncClient(timeout=30) as http:
            games = asyncio.gather(*(one_room(http) for _ in range(rooms)))
            if on_tick is not None:
                ticker = asyncio.create_task(on_tick())
            hosts = await games
            if on_tick is not None:
                ticker.cancel()
            return hosts

    return asyncio.run(main())


def _assert_clean_sequence(host: GameClient, questions: int) -> None:
    phases = [m for m in host.messages if m["type"].startswith(("phase.", "reveal.step"))]
    keys = [(m["type"], m.get("question"), m.get("index"), m["version"]) for m in phases]
    assert len(set(keys)) == len(keys), "a phase ran twice"
    counts = Counter(m["type"] for m in phases)
    for kind in (
        "phase.question_shown",
        "phase.lie_started",
        "phase.guess_started",
        "phase.scores_calculated",
        "phase.scoreboard",
    ):
        assert counts[kind] == questions, ("a phase was skipped", kind, counts)
    assert counts["phase.game_over"] == 1
    versions = transition_versions(host.messages)
    assert versions == sorted(versions)


def test_repeated_worker_kills_lose_no_phase() -> None:
    need_redis()
    kills = 20 if FULL else 4
    prefix = f"wtest-{uuid.uuid4().hex[:10]}"
    env = {"WEIRSOE_REDIS_PREFIX": prefix}
    a, b = Server("--redis", REDIS_URL, env=env), Server("--redis", REDIS_URL, env=env)
    workers = [Worker(REDIS_URL, env), Worker(REDIS_URL, env)]
    done = {"kills": 0}
    try:

        async def killer() -> None:
            while done["kills"] < kills:
                await asyncio.sleep(1.5)
                victim = done["kills"] % 2
                workers[victim].kill()
                done["kills"] += 1
                workers[victim] = Worker(REDIS_URL, env)

        rooms = 6 if FULL else 3
        hosts = _play_many(a, b, rooms, 4, on_tick=killer)
        for host in hosts:
            _assert_clean_sequence(host, questions=2)
        report("worker_kills", kills=done["kills"], rooms=rooms)
        assert done["kills"] >= 1
    finally:
        for proc in (a, b, *workers):
            proc.stop()


def test_reconnect_storm_loses_no_acknowledged_action() -> None:
    """100 sockets across 12 rooms (88 players and 12 hosts, as 100 players cannot fit in 12
    rooms of at most 8) drop without a close frame and come back within 0-10 s."""
    need_redis()
    players, rooms, spread = (88, 12, 10.0) if FULL else (36, 6, 3.0)
    prefix = f"wtest-{uuid.uuid4().hex[:10]}"
    env = {"WEIRSOE_REDIS_PREFIX": prefix}
    srv = Server("--redis", REDIS_URL, "--with-worker", env=env)
    other = Server("--redis", REDIS_URL, env=env)
    try:

        async def main() -> dict[str, object]:
            async with httpx.AsyncClient(timeout=30) as http:
                seats: list[tuple[str, dict]] = []
                hosts = []
                for r in range(rooms):
                    room = (
                        await http.post(
                            srv.base + "/api/sessions",
                            json={
                                "cartridge": "weirsoe_lies",
                                "settings": {**FAST_LIES, "lie_seconds": 120, "guess_seconds": 120},
                            },
                        )
                    ).json()
                    hosts.append(room)
                    n = players // rooms + (1 if r < players % rooms else 0)
                    for i in range(n):
                        seat = (
                            await http.post(
                                f"{srv.base}/api/sessions/{room['code']}/players",
                                json={"name": f"S{i}"},
                            )
                        ).json()
                        seats.append((room["code"], seat))
                clients = [
                    await GameClient(f"{srv.ws_base}/ws/game/{c}?token={s['token']}").connect()
                    for c, s in seats
                ]
                host_urls = [
                    f"{srv.ws_base}/ws/game/{r['code']}?role=host&token={r['host_token']}"
                    for r in hosts
                ]
                host_clients = [await GameClient(u).connect() for u in host_urls]
                await asyncio.gather(
                    *(c.wait_for("session.snapshot") for c in clients + host_clients)
                )
                for room in hosts:
                    await http.post(
                        f"{srv.base}/api/sessions/{room['code']}/control",
                        json={"action": "play"},
                        headers={"Authorization": f"Bearer {room['host_token']}"},
                    )
                await asyncio.gather(*(c.wait_for("phase.lie_started") for c in clients))
                # One player per room stays silent, so the lie phase does not end on the last lie.
                first = {code: i for i, (code, _) in reversed(list(enumerate(seats)))}
                silent = set(first.values())

                async def submit(i: int, c: GameClient) -> dict | None:
                    if i in silent:
                        return None
                    return await c.request({"type": "lie", "text": f"storm lie {i}"}, f"lie-{i}")

                acks = await asyncio.gather(*(submit(i, c) for i, c in enumerate(clients)))
                assert all(a is None or a["type"] == "ack" for a in acks)
                for c in clients + host_clients:
                    c.drop()  # no close frame
                rng = random.Random(100)
                latencies: list[float] = []

                async def host_back(url: str) -> GameClient:
                    await asyncio.sleep(rng.uniform(0, spread))
                    t0 = time.monotonic()
                    client = await GameClient(url).connect()
                    snap = await client.wait_for("session.snapshot")
                    latencies.append(time.monotonic() - t0)
                    assert snap["role"] == "host"
                    assert snap["status"] == "running"
                    assert snap["deadline"] is not None
                    return client

                async def come_back(i: int, code: str, seat: dict) -> GameClient:
                    await asyncio.sleep(rng.uniform(0, spread))
                    url = (
                        srv if i % 2 else other
                    ).ws_base + f"/ws/game/{code}?token={seat['token']}"
                    t0 = time.monotonic()
                    client = await GameClient(url).connect()
                    snap = await client.wait_for("session.snapshot")
                    latencies.append(time.monotonic() - t0)
                    # Dropped players are not waited for, so the lie phase may have ended.
                    assert snap["status"] == "running"
                    assert snap["view"]["phase"] in ("lie", "guess")
                    assert snap["deadline"] is not None  # the running deadline comes with it
                    if acks[i] is None:
                        return client
                    assert snap["version"] >= acks[i]["version"]
                    assert snap["view"]["me"]["lie"] == f"storm lie {i}"  # the acked lie survived
                    again = await client.request(
                        {"type": "lie", "text": f"storm lie {i}"}, f"lie-{i}"
                    )
                    assert again["type"] == "ack"
                    assert again["duplicate"] is True
                    return client

                back = await asyncio.gather(
                    *(come_back(i, c, s) for i, (c, s) in enumerate(seats)),
                    *(host_back(u) for u in host_urls),
                )
                for client in back:
                    await client.close()
                latencies.sort()
                return {
                    "sockets": len(back),
                    "players": len(seats),
                    "rooms": rooms,
                    "p50_s": round(latencies[len(latencies) // 2], 3),
                    "max_s": round(latencies[-1], 3),
                }

        figures = asyncio.run(main())
        report("reconnect_storm", **figures)
    finally:
        srv.stop()
        other.stop()


def test_a_thousand_games_leave_no_session_keys() -> None:
    need_redis()
    games = 1000 if FULL else 200

    async def main() -> dict[str, object]:
        from weirsoe_platform.config import PlatformSettings
        from weirsoe_platform.sessions import SessionService
        from weirsoe_platform.sessions._redis_store import RedisSessionStore, connect_redis
        from weirsoe_platform.timers import RedisDeadlines

        prefix = f"wtest-{uuid.uuid4().hex[:10]}"
        client = connect_redis(REDIS_URL)
        settings = PlatformSettings(redis_url=REDIS_URL, redis_prefix=prefix, grace_seconds=1.0)

        service = SessionService(
            cartridges=discover_cartridges(),
            store=RedisSessionStore(client, prefix=prefix),
            deadlines=RedisDeadlines(client, prefix=prefix, ttl=settings.game_ttl),
            settings=settings,
            channel_prefix=f"{prefix}:",
        )

        async def one(i: int) -> None:
            code, host = await service.create("rps", {"rounds": 1, "throw_seconds": 30})
            a, _, _ = await service.join(code, "A")
            b, _, _ = await service.join(code, "B")
            await service.presence(code, a, True)
            await service.presence(code, b, True)
            await service.control(code, host, "play")
            if i % 2:
                await service.control(code, host, "exit")
                return
            await service.act(code, a, {"type": "throw", "move": "rock"})
            await service.act(code, b, {"type": "throw", "move": "paper"})

        for start in range(0, games, 50):
            await asyncio.gather(*(one(i) for i in range(start, min(games, start + 50))))
        keys = [k async for k in client.scan_iter(f"{prefix}:*")]
        ttls = {k: await client.pttl(k) for k in keys}
        # PTTL answers -1 for a key with no expiry and -2 for a key that expired between
        # the SCAN and the PTTL (the first batches' grace runs out while later ones play).
        immortal = sorted(k for k, t in ttls.items() if t == -1)
        assert not immortal, f"keys without TTL: {immortal[:5]}"
        # Wait for the keys to expire (a bounded wait on the condition, not a fixed sleep).
        end = time.monotonic() + 30
        left = [k async for k in client.scan_iter(f"{prefix}:*")]
        while left and time.monotonic() < end:
            await asyncio.sleep(0.1)
            left = [k async for k in client.scan_iter(f"{prefix}:*")]
        await client.aclose()
        return {"games": games, "keys_during_grace": len(keys), "keys_after_grace": len(left)}

    figures = asyncio.run(main())
    assert figures["keys_after_grace"] == 0
    report("cleanup", **figures)


# -- secrets on the wire ------------------------------------------------------------------
def _truths() -> dict[str, str]:
    from weirsoe_lies.content import builtin_packs

    return {p.prompt: p.truth for pack in builtin_packs() for p in pack.prompts}


def _scan(
    messages: list[dict], me: str | None, others: list[str], truths: dict[str, str]
) -> list[str]:
    """Leaks in one socket's frames, in the order received."""
    leaks: list[str] = []
    phase: str | None = None
    truth: str | None = None
    for m in messages:
        kind = m["type"]
        if kind == "session.snapshot":
            view = m.get("view") or {}
            phase = view.get("phase")
            truth = truths.get(view.get("prompt", ""), truth)
        elif kind == "phase.lie_started":
            phase, truth = "lie", truths.get(m["prompt"])
        elif kind == "phase.guess_started":
            phase = "guess"
        elif kind == "reveal.step":
            phase = "reveal"
        text = json.dumps(m, ensure_ascii=False)
        if phase == "lie":
            leaks += [f"{me} saw {o}'s lie in {kind}" for o in others if f"kanari{o}x" in text]
            if truth and json.dumps(truth, ensure_ascii=False) in text:
                leaks.append(f"{me} saw the truth in {kind} during the lie phase")
        if phase in ("lie", "guess") and ('"truth": true' in text or '"authors":' in text):
            leaks.append(f"{me} saw the truth marked or authors in {kind} before the reveal")
    return leaks


def test_no_secret_reaches_the_wrong_socket(server: Server) -> None:
    games = 200 if FULL else 12
    truths = _truths()

    async def one_game(http: httpx.AsyncClient, seed: int) -> tuple[int, list[str]]:
        rng = random.Random(seed)
        players = rng.randint(3, 6)
        settings = {**FAST_LIES, "rounds": 1}
        room = (
            await http.post(
                "/api/sessions", json={"cartridge": "weirsoe_lies", "settings": settings}
            )
        ).json()
        code = room["code"]
        seats = [
            (await http.post(f"/api/sessions/{code}/players", json={"name": f"W{i}"})).json()
            for i in range(players)
        ]
        host = await GameClient(
            f"{server.ws_base}/ws/game/{code}?role=host&token={room['host_token']}"
        ).connect()
        audience = await GameClient(f"{server.ws_base}/ws/game/{code}?role=audience").connect()
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
            for _ in range(rng.randint(1, 3)):
                await asyncio.sleep(rng.uniform(0.3, 3.0))
                await rng.choice(bots).reconnect()

        async def crowd() -> None:
            """The audience member votes and reacts in every guess phase it sees."""
            seen = 0
            while True:
                started = await member.wait_for("phase.guess_started", start=seen, timeout=130)
                seen = member.messages.index(started) + 1
                pick = rng.choice(started["answers"])["id"]
                for body in (("truth", pick), ("react", f"{pick}|😂")):
                    await member.send(
                        {
                            "type": "vote",
                            "id": f"v{seen}{body[0]}",
                            "tally": body[0],
                            "choice": body[1],
                        }
                    )

        stir = asyncio.create_task(chaos())
        voter = asyncio.create_task(crowd())
        await asyncio.gather(*(b.run(timeout=120) for b in bots))
        stir.cancel()
        voter.cancel()
        await host.wait_for("phase.game_over")
        ids = [s["player_id"] for s in seats]
        leaks = (
            _scan(host.messages, "host", ids, truths)
            + _scan(audience.messages, "audience", ids, truths)
            + _scan(member.messages, "audience member", ids, truths)
        )
        frames = len(host.messages) + len(audience.messages) + len(member.messages)
        for bot in bots:
            others = [i for i in ids if i != bot.player_id]
            for sock in bot.sockets:
                leaks += _scan(sock.messages, bot.player_id, others, truths)
                frames += len(sock.messages)
                await sock.close()
        await host.close()
        await audience.close()
        await member.close()
        return frames, leaks

    async def main() -> tuple[int, list[str], int]:
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
            frames, leaks = 0, []
            for start in range(0, games, 10):
                done = await asyncio.gather(
                    *(one_game(http, s) for s in range(start, min(games, start + 10)))
                )
                frames += sum(f for f, _ in done)
                leaks += [leak for _, ls in done for leak in ls]
            return frames, leaks, games

    frames, leaks, played = asyncio.run(main())
    assert leaks == [], leaks[:10]
    report("secrets_on_the_wire", games=played, frames=frames, leaks=len(leaks))
