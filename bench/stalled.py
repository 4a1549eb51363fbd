"""Bounded memory per socket: server RSS while one room broadcasts to sockets that never read.

    uv run python bench/stalled.py [--seconds 60] [--stalled 100] [--rate 25] [--pad 16384]
                                   [--redis] [--quick]

One room of the bench cartridge with sixteen players: the host and every player read normally,
the players send ticks (each a real transition broadcast to the room, ``--pad`` bytes of
padding), and ``--stalled`` more sockets join the room with the players' tokens and then stop
reading (the client pauses its transport with a fixed 4 KiB receive buffer, so the kernel
buffers fill within seconds and the server's writes block). Every 5 s the server's RSS is
sampled. A frame is encoded once and shared by every socket's queue, so a server that
queues without bound for stalled sockets grows by about ``rate × pad`` bytes a second once
the kernel's socket buffers are full (about 2.8 MB per socket here); a bounded backlog stops
growing at ``MAX_BACKLOG`` frames. Prints Markdown; writes bench/results/stalled.json.
Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import Any

from _kit import (
    REDIS_URL,
    RESULTS,
    Conn,
    WeirsoeServer,
    abort_rooms,
    connect_rooms,
    control,
    make_rooms,
    md_table,
    open_socket,
    report_and_save,
    run,
)

PLAYERS = 16


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    load_before = os.getloadavg()
    server = await asyncio.to_thread(
        WeirsoeServer, redis=args.redis_url if args.redis else None, variant=args.variant
    )
    received = {"reading": 0}
    stalled: list[Conn] = []
    samples: list[tuple[float, float]] = []
    rooms = []
    try:
        # 16 players (the bench cartridge's most): each may act 100 times per phase (the
        # runtime's action cap), so 16 players carry 1,600 ticks; --rate x --seconds stays under.
        rooms = await make_rooms(server.url, "bench", {"pad": args.pad}, 1, PLAYERS)
        room = rooms[0]

        def on_message(conn: Conn, raw: bytes, t: float) -> None:
            received["reading"] += 1

        await connect_rooms(server.ws_url, rooms, on_message)
        await control(server.url, rooms, "play")
        base = f"{server.ws_url}/ws/game/{room.code}"
        for i in range(args.stalled):
            _pid, token = room.players[i % len(room.players)]
            conn = await open_socket(
                f"{base}?token={token}", room, None, lambda c, r, t: None, rcvbuf=4096
            )
            stalled.append(conn)
        await asyncio.sleep(1.0)  # the snapshots arrive; then nobody reads any more
        for conn in stalled:
            assert conn.transport is not None
            conn.transport.pause_reading()
        rss0 = server.rss()
        print(f"server pid {server.pid} port {server.port}", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        interval = 1.0 / args.rate
        sent = 0
        next_sample = t0
        while (now := time.monotonic()) < t0 + args.seconds:
            due = int((now - t0) / interval) + 1
            while sent < due:
                seat = room.seats[sent % len(room.seats)]
                seat.send(
                    f'{{"type":"action","id":"t{sent}","action":'
                    f'{{"type":"tick","n":{sent},"sent":{time.time():.6f}}}}}'
                )
                sent += 1
            if now >= next_sample:
                samples.append((round(now - t0, 1), round(server.rss() / 2**20, 1)))
                next_sample += 5.0
            await asyncio.sleep(0.01)
        samples.append((round(time.monotonic() - t0, 1), round(server.rss() / 2**20, 1)))
        alive = server.proc.poll() is None
    finally:
        for conn in stalled:
            conn.abort()
        abort_rooms(rooms)
        await asyncio.sleep(0.3)
        await asyncio.to_thread(server.stop)
    peak = max(m for _, m in samples)
    return {
        "when": time.time(),
        "seconds": round(time.monotonic() - started, 1),
        "backend": "redis" if args.redis else "memory",
        "variant": args.variant,
        "params": {k: getattr(args, k) for k in ("seconds", "stalled", "rate", "pad")},
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "ticks_sent": sent,
        "delivered_to_reading_sockets": received["reading"],
        "rss_start_mib": round(rss0 / 2**20, 1),
        "rss_peak_mib": peak,
        "rss_growth_mib": round(peak - rss0 / 2**20, 1),
        # What queueing every frame for the stalled sockets would hold at the end: a frame is
        # encoded once and shared by every socket's queue (a pointer each), minus what the
        # kernel's socket buffers took (about 2.8 MB per socket here, measured with ss).
        "unbounded_estimate_mib": round(
            (sent * (args.pad + 120) + args.stalled * sent * 8) / 2**20, 1
        ),
        "server_alive": alive,
        "samples": samples,
    }


def render(r: dict[str, Any]) -> str:
    p = r["params"]
    head = (
        f"Stalled sockets ({r['backend']}{', ' + r['variant'] if r['variant'] else ''}): "
        f"{p['stalled']} sockets that never read, one room broadcasting {p['rate']} events/s "
        f"of {p['pad']} bytes for {p['seconds']} s; load average {r['loadavg_before'][0]} "
        f"before, {r['loadavg_after'][0]} after"
    )
    lines = [head, ""]
    lines += md_table(
        [
            "ticks sent",
            "RSS start MiB",
            "RSS peak MiB",
            "growth MiB",
            "all frames queued would be MiB",
        ],
        [
            [
                r["ticks_sent"],
                r["rss_start_mib"],
                r["rss_peak_mib"],
                r["rss_growth_mib"],
                r["unbounded_estimate_mib"],
            ]
        ],
    )
    lines += ["", "RSS over time (s, MiB): " + ", ".join(f"{t:g}: {m}" for t, m in r["samples"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 s instead of 60")
    parser.add_argument("--uvloop", action="store_true", help="run the client on uvloop")
    parser.add_argument("--seconds", type=float, help="seconds of broadcasting (default 60)")
    parser.add_argument("--stalled", type=int, default=100, help="sockets that never read")
    parser.add_argument("--rate", type=float, default=25.0, help="room events a second")
    parser.add_argument("--pad", type=int, default=16384, help="padding bytes per event")
    parser.add_argument("--redis", action="store_true", help="the Redis backend")
    parser.add_argument("--redis-url", dest="redis_url", default=REDIS_URL)
    parser.add_argument("--variant", help="run bench/variants/NAME.py instead of weirsoe serve")
    parser.add_argument("--out", default=str(RESULTS / "stalled.json"))
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (20.0 if args.quick else 60.0)
    # Each player stays under the 20 frames/s limit and the 100 actions per phase cap.
    args.rate = min(args.rate, PLAYERS * 18.0, PLAYERS * 99 / args.seconds)
    return report_and_save(run(measure(args), args.uvloop), args.out, render)


if __name__ == "__main__":
    sys.exit(main())
