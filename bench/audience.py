"""The audience at scale: one room of 8 players plus N audience sockets over 2 ``weirsoe serve``
processes on Redis. This script is the load generator, in its own process.

It measures:
- how fast every phase event reaches the audience (the share of sockets within 1 s, p50/p99);
- that every vote cast in the guess phase (each member votes once, some re-vote, spread over
  ``--vote-window`` seconds) is counted exactly: the reveal's audience counts equal the last
  acknowledged vote of every member;
- the servers' RSS per audience socket, and their CPU.

    python3 -m uv run python bench/audience.py --audience 1000 --redis redis://127.0.0.1:6379/0

Loopback only; every wait is bounded. Prints a Markdown table and writes
``bench/results/audience-N.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _kit import (
    RESULTS,
    Conn,
    Room,
    WeirsoeServer,
    bounded_gather,
    clean_redis,
    md_table,
    open_socket,
    raise_fd_limit,
    report_and_save,
)

SETTINGS = {
    "rounds": 1,
    "lie_seconds": 4.0,
    "guess_seconds": 14.0,
    "reveal_step_seconds": 1.5,
    "scoreboard_seconds": 2.0,
}
PHASE_TYPES = ("phase.", "reveal.step")


class Crowd:
    """Every message every audience socket got: (event key) -> receipt times per socket."""

    def __init__(self) -> None:
        self.sent: dict[tuple[str, int], float] = {}  # event key -> server ts
        self.got: dict[tuple[str, int], list[float]] = {}
        self.acks: dict[str, dict[str, Any]] = {}
        self.guess: dict[str, Any] | None = None
        self.reveal: dict[str, int] = {}
        self.over = asyncio.Event()
        self.guess_seen = asyncio.Event()

    def on_message(self, conn: Conn, payload: bytes, t: float) -> None:
        head = payload[:60]
        if b'"ack"' in head or b'"error"' in head:
            msg = json.loads(payload)
            self.acks[msg.get("id", "")] = msg
            return
        if b'"type":"phase.' not in payload and b'"type":"reveal.step"' not in payload:
            return
        msg = json.loads(payload)
        key = (msg["type"], msg["version"])
        self.sent.setdefault(key, msg["ts"])
        self.got.setdefault(key, []).append(t)
        if conn.player_id == "host":
            if msg["type"] == "phase.guess_started":
                self.guess = msg
                self.guess_seen.set()
            elif msg["type"] == "reveal.step":
                self.reveal[msg["answer"]["id"]] = (msg.get("audience") or {}).get("votes", 0)
            elif msg["type"] in ("phase.scores_calculated", "phase.game_over"):
                self.over.set()


def start_servers(args: argparse.Namespace, prefix: str) -> list[WeirsoeServer]:
    """Start the servers side by side (each takes long to import on a loaded machine)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(_: int) -> WeirsoeServer:
        return WeirsoeServer(redis=args.redis, prefix=prefix, ready_timeout=300)

    with ThreadPoolExecutor(args.servers) as pool:
        return list(pool.map(one, range(args.servers)))


async def main_async(
    args: argparse.Namespace, servers: list[WeirsoeServer], prefix: str
) -> dict[str, Any]:
    raise_fd_limit()
    crowd = Crowd()
    conns: list[Conn] = []
    started = time.monotonic()
    try:
        a = servers[0]
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        async with httpx.AsyncClient(limits=limits, timeout=60) as http:
            room_data = (
                await http.post(
                    f"{a.url}/api/sessions",
                    json={"cartridge": "weirsoe_lies", "settings": SETTINGS},
                )
            ).json()
            code, host_token = room_data["code"], room_data["host_token"]
            seats = []
            for i in range(8):
                j = await http.post(f"{a.url}/api/sessions/{code}/players", json={"name": f"P{i}"})
                seats.append((j.json()["player_id"], j.json()["token"]))
            room = Room(code, host_token, seats)

            async def join(i: int) -> tuple[int, str, str]:
                s = servers[i % len(servers)]
                r = await http.post(f"{s.url}/api/sessions/{code}/audience")
                r.raise_for_status()
                return i, r.json()["audience_id"], r.json()["token"]

            members = await bounded_gather(32, [lambda i=i: join(i) for i in range(args.audience)])
            rss_before = [s.rss() for s in servers]
            host = await open_socket(
                f"{a.ws_url}/ws/game/{code}?role=host&token={host_token}",
                room,
                "host",
                crowd.on_message,
            )
            for pid, token in seats:
                await open_socket(
                    f"{a.ws_url}/ws/game/{code}?token={token}", room, pid, lambda *_: None
                )

            async def connect(i: int, member: str, token: str) -> Conn:
                s = servers[i % len(servers)]
                url = f"{s.ws_url}/ws/game/{code}?role=audience&token={token}"
                return await open_socket(url, room, member, crowd.on_message)

            t0 = time.monotonic()
            conns = await bounded_gather(64, [lambda m=m: connect(*m) for m in members])
            connect_s = time.monotonic() - t0
            await asyncio.sleep(2)
            rss_after = [s.rss() for s in servers]
            cpu_before = [s.cpu() for s in servers]
            r = await http.post(
                f"{a.url}/api/sessions/{code}/control",
                json={"action": "play"},
                headers={"Authorization": f"Bearer {host_token}"},
            )
            r.raise_for_status()
            await asyncio.wait_for(crowd.guess_seen.wait(), 60)
            assert crowd.guess is not None
            choices = [x["id"] for x in crowd.guess["answers"]]
            rng = random.Random(args.audience)
            last: dict[str, str] = {}
            plan = []
            for conn in conns:
                times = 2 if rng.random() < args.revote else 1
                for n in range(times):
                    plan.append((rng.uniform(0, args.vote_window), conn, n, rng.choice(choices)))
            plan.sort(key=lambda p: p[0])
            v0 = time.monotonic()
            ids: dict[str, tuple[str, str]] = {}
            order: dict[str, int] = {}  # vote id -> send order (a socket's votes apply in order)
            for at, conn, n, choice in plan:
                delay = v0 + at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                vid = f"{conn.player_id}-{n}"
                ids[vid] = (conn.player_id or "", choice)
                order[vid] = len(order)
                conn.send(
                    json.dumps({"type": "vote", "id": vid, "tally": "truth", "choice": choice})
                )
            cast_s = time.monotonic() - v0
            await asyncio.wait_for(crowd.over.wait(), SETTINGS["guess_seconds"] + 60)
            await asyncio.sleep(1.0)
            cpu_used = [round(s.cpu() - c, 2) for s, c in zip(servers, cpu_before, strict=True)]
            acked = [vid for vid, msg in crowd.acks.items() if msg["type"] == "ack" and vid in ids]
            errors = Counter(
                msg.get("code") for vid, msg in crowd.acks.items() if msg["type"] == "error"
            )
            for vid in sorted(acked, key=order.__getitem__):
                member, choice = ids[vid]
                last[member] = choice
            expected = Counter(last.values())
            counted = {c: crowd.reveal.get(c, 0) for c in choices}
            exact = counted == {c: expected.get(c, 0) for c in choices}
            host.abort()
    finally:
        for conn in conns:
            conn.abort()
        for s in servers:
            await asyncio.to_thread(s.stop)
        await clean_redis(args.redis, prefix)
    audience_n = len(conns)
    rows = []
    within = []
    for key, sent in sorted(crowd.sent.items(), key=lambda kv: kv[0][1]):
        times = sorted(t - sent for t in crowd.got[key])
        audience_got = len(times) - 1  # minus the host socket
        ok = sum(1 for d in times if d <= 1.0) - 1
        share = ok / audience_n if audience_n else 0.0
        within.append(share)
        rows.append(
            {
                "event": key[0],
                "version": key[1],
                "received": audience_got,
                "within_1s": round(share, 4),
                "p50_ms": round(times[len(times) // 2] * 1000, 1),
                "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))] * 1000, 1),
            }
        )
    per_socket = [
        round((after - before) / max(1, audience_n / len(servers)) / 1024, 1)
        for before, after in zip(rss_before, rss_after, strict=True)
    ]
    return {
        "audience": audience_n,
        "servers": len(servers),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "connect_seconds": round(connect_s, 2),
        "votes_sent": len(ids),
        "votes_acked": len(acked),
        "vote_errors": dict(errors),
        "vote_window_seconds": round(cast_s, 2),
        "members_voted": len(last),
        "counted_total": sum(counted.values()),
        "counts_exact": exact,
        "rss_per_socket_kib": per_socket,
        "server_cpu_seconds_during_game": cpu_used,
        "events": rows,
        "worst_within_1s": round(min(within), 4) if within else None,
        "seconds": round(time.monotonic() - started, 1),
    }


def render(result: dict[str, Any]) -> str:
    lines = [
        f"audience {result['audience']} over {result['servers']} servers; "
        f"load average {result['load_average']}",
        f"votes: sent {result['votes_sent']}, acked {result['votes_acked']}, errors "
        f"{result['vote_errors']}, members voted {result['members_voted']}, counted "
        f"{result['counted_total']}, exact: {result['counts_exact']}",
        f"RSS per audience socket (KiB, per server): {result['rss_per_socket_kib']}; "
        f"connect {result['connect_seconds']} s; "
        f"CPU during game {result['server_cpu_seconds_during_game']} s",
        "",
    ]
    lines += md_table(
        ["event", "version", "received", "within 1 s", "p50 ms", "p99 ms"],
        [
            [r["event"], r["version"], r["received"], r["within_1s"], r["p50_ms"], r["p99_ms"]]
            for r in result["events"]
        ],
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--audience", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument(
        "--redis", default=os.environ.get("WEIRSOE_BENCH_REDIS", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--vote-window", type=float, default=10.0)
    parser.add_argument("--revote", type=float, default=0.2, help="share of members who vote twice")
    args = parser.parse_args(argv)
    if not args.redis.startswith("redis://127.0.0.1"):
        parser.error("loopback Redis only")
    prefix = f"wbench-aud-{uuid.uuid4().hex[:8]}"
    servers = start_servers(args, prefix)
    result = asyncio.run(main_async(args, servers, prefix))
    return report_and_save(result, RESULTS / f"audience-{args.audience}.json", render)


if __name__ == "__main__":
    raise SystemExit(main())
