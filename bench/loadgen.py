"""Fan-out benchmark: Weirsøe (memory and Redis backends) side by side with a raw
``websockets`` broadcast server, under the same workload, from one asyncio load generator.

    uv run python bench/loadgen.py [--quick] [--uvloop] [--rooms 200] [--players 7]
                                   [--rates 1,2,4,8] [--slices 2] [--slice-seconds 3]

Each room has one host socket and ``--players`` player sockets (default 1 + 7 = 8). All the
servers stay up with their sockets open, and the measurements interleave: each load is run
in short slices, server after server, in a rotating order, so that noise from anything else
on the machine falls on all of them alike.

- **ticks**: the load generator sends ``tick`` actions at a fixed rate per room, round-robin
  over the room's players. Weirsøe runs each one through the one state-change path (load,
  driver, compare-and-set, publish) of the bench cartridge (bench/cartridge) and fans the
  ``bench.tick`` event out to the room; the raw server (bench/raw_server.py) broadcasts the
  same JSON with ``websockets.broadcast``. Both ack the sender.
- **beats**: a chain of server-side deadlines, one per room per second (Weirsøe's phase
  timers; an asyncio loop on the raw server). ``ts - due`` is the timer lateness at that load.

Figures per server and load: broadcast latency (server ``ts`` to client receipt) p50/p99/max,
deliveries per second, server CPU µs per delivered broadcast (/proc/PID/stat; acks are
sent but not counted as deliveries; for beats, the CPU of the steady window, while every
room's chain runs, over the beats received in it), RSS per idle socket, timer lateness.
Prints Markdown, writes bench/results/fanout.json. Loopback only; every loop is bounded in
count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
from _kit import (
    HANDLER_ERRORS,
    REDIS_URL,
    RESULTS,
    ClientCollector,
    Conn,
    RawServer,
    Room,
    ServerProcess,
    WeirsoeServer,
    abort_rooms,
    connect_rooms,
    control,
    make_rooms,
    md_table,
    raise_fd_limit,
    report_and_save,
    run,
    server_python,
    summary_ms,
)

PHASE = 10_000_000  # tick numbers carry their phase: n = phase * PHASE + k
SATURATED_LOSS_PCT = 1.0
SATURATED_P99_MS = 1000.0
CLIENT_GC = ClientCollector()


class Msg(msgspec.Struct):
    type: str = ""
    ts: float = 0.0
    n: int = -1
    sent: float = 0.0
    due: float = 0.0


_decode = msgspec.json.Decoder(Msg).decode


@dataclass
class Acc:
    """Everything measured for one server at one load, summed over its slices."""

    latency: list[float] = field(default_factory=list)
    e2e: list[float] = field(default_factory=list)
    late: list[float] = field(default_factory=list)
    # (slice, room, n) of every beat seen: the raw server counts each slice's chain from 0
    beats: set[tuple[int, str, int]] = field(default_factory=set)
    delivered: int = 0
    metered: int = 0  # beat frames received while the beat slice's CPU meter ran
    expected: int = 0
    size: int = 0
    span: float = 0.0
    cpu: float = 0.0
    wall: float = 0.0
    client: float = 0.0
    client_gc: list[float] = field(default_factory=list)  # the client's collections > 10 ms
    redis_cpu: float | None = None


class Recorder:
    """Routes what the client sockets receive to the accumulator of the running slice."""

    def __init__(self) -> None:
        self.acc: Acc | None = None
        self.kind = ""
        self.phase = -1
        self.window = (0.0, 0.0)
        self.first = self.last = 0.0
        self.delivered = 0
        self.metering = False

    def begin(self, acc: Acc, kind: str, phase: int, window: tuple[float, float] = (0, 0)) -> None:
        self.acc, self.kind, self.phase, self.window = acc, kind, phase, window
        self.first = self.last = 0.0
        self.delivered = 0

    def end(self) -> None:
        if self.acc is not None and self.delivered > 1:
            self.acc.span += self.last - self.first
        self.acc = None

    def on_message(self, conn: Conn, raw: bytes, t: float) -> None:
        acc = self.acc
        if acc is None:
            return
        m = _decode(raw)
        if m.type == "bench.tick":
            if self.kind != "tick" or m.n // PHASE != self.phase:
                return
            acc.e2e.append(t - m.sent)
        elif m.type == "bench.beat":
            if self.kind != "beat":
                return
            if self.metering:
                acc.metered += 1
            if not self.window[0] <= m.due <= self.window[1]:
                return
            acc.beats.add((self.phase, conn.room.code, m.n))
            if conn.player_id is None:  # one socket per room (the host's) records the firing
                acc.late.append(m.ts - m.due)
        else:
            return
        acc.delivered += 1
        acc.size += len(raw)
        acc.latency.append(t - m.ts)
        self.delivered += 1
        self.last = t
        if not self.first:
            self.first = t


def _redis_cpu() -> float | None:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL)
        info = client.info("cpu")
        client.close()
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    except Exception:
        return None


class Target:
    def __init__(self, name: str, server: ServerProcess, rooms: list[Room]) -> None:
        self.name = name
        self.server = server
        self.rooms = rooms
        self.memory: dict[str, Any] = {}
        self.idle_cpu = 0.0  # CPU seconds per second with every socket open and nothing sent

    @property
    def per_room(self) -> int:
        return 1 + len(self.rooms[0].seats)


async def _setup(name: str, args: argparse.Namespace, rec: Recorder) -> Target:
    server: ServerProcess
    # Servers start in a thread: the loop must keep answering the other servers' pings.
    if name == "raw":
        server = await asyncio.to_thread(RawServer, pad=args.pad)
        rooms = [
            Room(f"R{i:05d}", "-", [(f"p{j}", "-") for j in range(args.players)])
            for i in range(args.rooms)
        ]
    else:
        redis = args.redis if name == "redis" else None
        server = await asyncio.to_thread(WeirsoeServer, redis=redis, variant=args.variant)
        settings = {"pad": args.pad}
        rooms = await make_rooms(server.url, "bench", settings, args.rooms, args.players)
    target = Target(name, server, rooms)
    # RSS per idle socket: open the sockets of the first half of the rooms, then of the second
    # half. The second half's growth is the headline: the first half partly lands in memory the
    # allocator kept from start-up and the REST set-up, which would flatter the figure.
    half = len(rooms) // 2
    parts = (rooms[:half], rooms[half:])
    rss = [server.rss()]
    connecting = 0.0
    for part in parts:
        t0 = time.monotonic()
        await connect_rooms(server.ws_url, part, rec.on_message)
        connecting += time.monotonic() - t0
        await asyncio.sleep(1.5)  # let presence changes and snapshots settle
        rss.append(server.rss())
    count = [sum(1 + len(r.seats) for r in part) for part in parts]
    target.memory = {
        "sockets": sum(count),
        "rss_before_mib": round(rss[0] / 2**20, 1),
        "rss_after_mib": round(rss[2] / 2**20, 1),
        "kib_per_socket_all": round((rss[2] - rss[0]) / sum(count) / 1024, 1),
        "kib_per_socket": round((rss[2] - rss[1]) / count[1] / 1024, 1),
        "connects_per_s": round(sum(count) / connecting),
    }
    if name != "raw":
        await control(server.url, rooms, "play")
    await asyncio.sleep(0.5)
    cpu0, wall0 = server.cpu(), time.monotonic()
    await asyncio.sleep(2.0)
    target.idle_cpu = (server.cpu() - cpu0) / (time.monotonic() - wall0)
    target.memory["idle_cpu_pct"] = round(100 * target.idle_cpu, 1)
    return target


async def _drive_ticks(rooms: list[Room], rate: float, seconds: float, phase: int) -> int:
    total = max(1, int(len(rooms) * rate * seconds))
    interval = seconds / total
    start = time.monotonic()
    hard_end = start + 2 * seconds + 5
    count = len(rooms)
    k = 0
    while k < total and time.monotonic() < hard_end:
        due = min(total, int((time.monotonic() - start) / interval) + 1)
        while k < due:
            room = rooms[k % count]
            seat = room.seats[(k // count) % len(room.seats)]
            n = phase * PHASE + k
            seat.send(
                f'{{"type":"action","id":"t{n}","action":'
                f'{{"type":"tick","n":{n},"sent":{time.time():.6f}}}}}'
            )
            k += 1
        await asyncio.sleep(0.004)
    return k


async def _drain(rec: Recorder, expected: int, timeout: float) -> None:
    end = time.monotonic() + timeout
    while rec.delivered < expected and time.monotonic() < end:
        await asyncio.sleep(0.05)


class _Meter:
    """Server CPU, wall time, load-generator CPU and Redis CPU over one slice."""

    def __init__(self, target: Target, collect: bool = True) -> None:
        self.target = target
        if collect:
            gc.collect()
        self.redis0 = _redis_cpu() if target.name == "redis" else None
        self.cpu0 = target.server.cpu()
        self.wall0 = time.monotonic()
        self.client0 = time.process_time()
        CLIENT_GC.record()

    def stop(self, acc: Acc) -> None:
        acc.client_gc += CLIENT_GC.stop()
        acc.cpu += self.target.server.cpu() - self.cpu0
        acc.wall += time.monotonic() - self.wall0
        acc.client += time.process_time() - self.client0
        if self.redis0 is not None:
            acc.redis_cpu = (acc.redis_cpu or 0.0) + ((_redis_cpu() or self.redis0) - self.redis0)


async def tick_slice(
    target: Target, rec: Recorder, acc: Acc, rate: float, seconds: float, phase: int
) -> None:
    meter = _Meter(target)
    rec.begin(acc, "tick", phase)
    sent = await _drive_ticks(target.rooms, rate, seconds, phase)
    acc.expected += sent * target.per_room
    await _drain(rec, sent * target.per_room, 5.0)
    rec.end()
    meter.stop(acc)


async def beat_slice(
    target: Target, rec: Recorder, acc: Acc, every: float, seconds: float, phase: int
) -> None:
    def beat(room: Room, value: float) -> None:
        room.seats[0].send(
            f'{{"type":"action","id":"b{phase}-{value}",'
            f'"action":{{"type":"beat","seconds":{value}}}}}'
        )

    rooms = target.rooms
    before = len(acc.beats)
    gc.collect()  # here: not in the meter, which starts while the beats already run
    start = time.time()
    # Beats due in [start + every, start + every + seconds] count; the chains start spread
    # evenly over one period, so the firings are spread too.
    rec.begin(acc, "beat", phase, (start + every, start + every + seconds))
    for i, room in enumerate(rooms):
        await asyncio.sleep(max(0.0, start + every * i / len(rooms) - time.time()))
        beat(room, every)
    # The CPU meter runs while every chain is running and nothing else is: from the first
    # due time to the window's end. Outside it, the start and stop actions (transitions on
    # our servers, an asyncio task on the raw one) would be charged to the beats.
    await asyncio.sleep(max(0.0, start + every - time.time()))
    meter = _Meter(target, collect=False)
    rec.metering = True
    await asyncio.sleep(max(0.0, start + every + seconds - time.time()))
    rec.metering = False
    meter.stop(acc)
    await asyncio.sleep(max(0.0, start + every + seconds + 0.5 - time.time()))
    for room in rooms:
        beat(room, 0)
    fired = len(acc.beats) - before  # this slice's; acc.beats holds every slice's
    await _drain(rec, fired * target.per_room, 3.0)
    acc.expected += fired * target.per_room
    rec.end()


async def _quiesce(target: Target, limit: float = 20.0) -> None:
    """Wait (at most ``limit`` s) until the server's CPU is back near idle: no backlog left."""
    end = time.monotonic() + limit
    await asyncio.sleep(0.5)
    while time.monotonic() < end:
        cpu0 = target.server.cpu()
        await asyncio.sleep(0.3)
        if (target.server.cpu() - cpu0) / 0.3 <= target.idle_cpu + 0.1:
            return


def _row(target: Target, kind: str, rate: float, acc: Acc) -> dict[str, Any]:
    n = acc.delivered
    # CPU per message: ticks, all the slice's CPU over all its deliveries; beats, the metered
    # steady window's CPU over the beat frames received in it (beat_slice).
    per = acc.metered if kind == "beat" else n
    row: dict[str, Any] = {
        "server": target.name,
        "kind": kind,
        "rooms": len(target.rooms),
        "sockets_per_room": target.per_room,
        "rate_per_room": rate,
        "offered_per_s": round(len(target.rooms) * rate * target.per_room),
        "expected": acc.expected,
        "delivered": n,
        "loss_pct": round(100 * (1 - n / acc.expected), 2) if acc.expected else None,
        "delivered_per_s": round(n / acc.span) if acc.span > 0 else None,
        "bytes_per_msg": round(acc.size / n) if n else None,
        **summary_ms(acc.latency),
        "e2e_p99_ms": summary_ms(acc.e2e)["p99_ms"],
        "server_cpu_s": round(acc.cpu, 2),
        "cpu_us_per_msg": round(acc.cpu * 1e6 / per, 1) if per else None,
        "net_cpu_us_per_msg": (
            round(max(0.0, acc.cpu - target.idle_cpu * acc.wall) * 1e6 / per, 1) if per else None
        ),
        "server_cpu_pct": round(100 * acc.cpu / acc.wall, 1) if acc.wall else None,
        "client_cpu_pct": round(100 * acc.client / acc.wall, 1) if acc.wall else None,
        **ClientCollector.fields(acc.client_gc),
    }
    if acc.redis_cpu is not None and per:
        row["redis_server_us_per_msg"] = round(acc.redis_cpu * 1e6 / per, 1)
    if kind == "beat":
        late = summary_ms(acc.late)
        row.update({"fired": len(acc.beats), **{f"late_{k}": v for k, v in late.items()}})
    return row


def _ratios(rows: list[dict[str, Any]]) -> None:
    raw = {(r["kind"], r["rate_per_room"]): r for r in rows if r["server"] == "raw"}
    for r in rows:
        base = raw.get((r["kind"], r["rate_per_room"]))
        if base is None or r["server"] == "raw":
            continue
        for key in ("cpu_us_per_msg", "net_cpu_us_per_msg", "p99_ms", "p50_ms"):
            if r.get(key) is not None and base.get(key):
                r[f"{key}_x_raw"] = round(r[key] / base[key], 2)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    rec = Recorder()
    names = [n for n in args.servers.split(",") if not (args.no_redis and n == "redis")]
    targets: list[Target] = []
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    load_before = os.getloadavg()
    try:
        for name in names:
            print(f"setting up {name}: {args.rooms} rooms x {1 + args.players}", file=sys.stderr)
            targets.append(await _setup(name, args, rec))
        # The client's collections over 10 ms are recorded per slice, but not held back as in
        # bench/capacity.py: with 1,600 sockets and a collection before each slice there were
        # none, and a quieted client made the servers' 8-tick rows worse in three A/B pairs
        # (docs/performance.md, section 29).
        # The target load first (ticks, then beats, at 1/room/s), then higher tick rates. A
        # server that saturates (loss over 1 % or p99 over 1 s) sits out the higher rates.
        plan = [("tick", args.rates[0]), ("beat", 1.0)] + [("tick", r) for r in args.rates[1:]]
        saturated: set[str] = set()
        phase = 1
        for kind, rate in plan:
            active = [t for t in targets if t.name not in saturated]
            accs = {t.name: Acc() for t in active}
            # Beats in as many interleaved slices as ticks: one 6 s slice per server moved
            # memory's CPU per beat by a quarter between runs (docs/performance.md, section 69).
            for s in range(args.slices):
                for target in active[s % len(active) :] + active[: s % len(active)]:
                    await _quiesce(target)
                    if args.verbose:
                        print(f"    slice {kind} {rate:g} on {target.name}", file=sys.stderr)
                    if kind == "tick":
                        await tick_slice(
                            target, rec, accs[target.name], rate, args.slice_seconds, phase
                        )
                    else:
                        await beat_slice(
                            target, rec, accs[target.name], 1 / rate, args.beat_seconds, phase
                        )
                    phase += 1
            for target in active:
                row = _row(target, kind, rate, accs[target.name])
                rows.append(row)
                late = f", late p99 {row['late_p99_ms']} ms" if kind == "beat" else ""
                print(
                    f"  {target.name} {kind} {rate:g}/room/s: p99 {row['p99_ms']} ms, "
                    f"{row['cpu_us_per_msg']} us/msg, loss {row['loss_pct']}%{late}",
                    file=sys.stderr,
                )
                if (row["loss_pct"] or 0) > SATURATED_LOSS_PCT or (
                    row["p99_ms"] or 0
                ) > SATURATED_P99_MS:
                    saturated.add(target.name)
    finally:
        for target in targets:
            abort_rooms(target.rooms)
        await asyncio.sleep(0.5)
        for target in targets:
            await asyncio.to_thread(target.server.stop)
    if HANDLER_ERRORS:
        print(f"{len(HANDLER_ERRORS)} frames not handled: {HANDLER_ERRORS[0]}", file=sys.stderr)
    _ratios(rows)
    return {
        "when": time.time(),
        "seconds": round(time.monotonic() - started, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "server_python": server_python(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "client_loop": "uvloop" if args.uvloop else "asyncio",
        "variant": args.variant,
        # weirsoe serve's own protocol: uvicorn's sans-I/O one with the direct write
        "ws": os.environ.get("BENCH_UVICORN_WS", "auto")
        if args.variant == "uvicorn_ws"
        else "websockets-sansio + direct write",
        "params": {
            k: getattr(args, k)
            for k in ("rooms", "players", "rates", "slices", "slice_seconds", "beat_seconds")
        }
        | {"pad": args.pad, "quick": args.quick, "beat_slices": args.slices},
        "memory": {t.name: t.memory for t in targets},
        "rows": rows,
    }


def render(result: dict[str, Any]) -> str:
    p = result["params"]
    out = [
        f"Fan-out: {p['rooms']} rooms x {1 + p['players']} sockets; ticks in {p['slices']} "
        f"interleaved slices of {p['slice_seconds']:g} s, beats "
        + (
            f"in {p['beat_slices']} interleaved slices of {p['beat_seconds']:g} s "
            if p.get("beat_slices")
            else f"for {p['beat_seconds']:g} s "
        )
        + f"(load generator on {result['client_loop']}; uvicorn ws {result['ws']}"
        + (f"; variant {result['variant']})" if result.get("variant") else ")"),
        "",
    ]
    out += md_table(
        [
            "server",
            "load",
            "deliveries/s",
            "loss",
            "p50 ms",
            "p99 ms",
            "max ms",
            "p99 x raw",
            "CPU µs/msg",
            "CPU x raw",
            "bytes/msg",
            "client GC pauses > 10 ms (longest)",
        ],
        [
            [
                r["server"],
                f"{r['kind']} {r['rate_per_room']:g}/room/s",
                r["delivered_per_s"],
                f"{r['loss_pct']}%",
                r["p50_ms"],
                r["p99_ms"],
                r["max_ms"],
                r.get("p99_ms_x_raw"),
                r["cpu_us_per_msg"],
                r.get("cpu_us_per_msg_x_raw"),
                r["bytes_per_msg"],
                ClientCollector.cell(r),
            ]
            for r in result["rows"]
        ],
    )
    out.append("")
    out += md_table(
        [
            "server",
            "idle sockets",
            "RSS before MiB",
            "RSS after MiB",
            "KiB/socket (all)",
            "KiB/socket (second half)",
            "connects/s",
            "idle CPU %",
        ],
        [
            [
                name,
                m["sockets"],
                m["rss_before_mib"],
                m["rss_after_mib"],
                m["kib_per_socket_all"],
                m["kib_per_socket"],
                m["connects_per_s"],
                m["idle_cpu_pct"],
            ]
            for name, m in result["memory"].items()
        ],
    )
    out.append("")
    out += md_table(
        ["server", "beats fired", "lateness p50 ms", "p99 ms", "max ms"],
        [
            [r["server"], r["fired"], r["late_p50_ms"], r["late_p99_ms"], r["late_max_ms"]]
            for r in result["rows"]
            if r["kind"] == "beat"
        ],
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 rooms, rates 1,4, 2 s slices")
    parser.add_argument("--uvloop", action="store_true", help="run the load generator on uvloop")
    parser.add_argument("--rooms", type=int, help="rooms per server (default 200)")
    parser.add_argument("--players", type=int, default=7, help="player sockets per room + host")
    parser.add_argument("--rates", help="ticks per room per second, comma-separated; first=target")
    parser.add_argument(
        "--slices", type=int, help="interleaved slices per load (each tick rate, and the beats)"
    )
    parser.add_argument("--slice-seconds", dest="slice_seconds", type=float)
    parser.add_argument(
        "--beat-seconds", dest="beat_seconds", type=float, help="seconds per beat slice"
    )
    parser.add_argument("--pad", type=int, default=0, help="padding bytes per event")
    parser.add_argument("--redis", default=REDIS_URL)
    parser.add_argument("--no-redis", dest="no_redis", action="store_true")
    parser.add_argument("--servers", default="raw,memory,redis", help="which servers, in order")
    parser.add_argument("--variant", help="run weirsoe serve through bench/variants/NAME.py")
    parser.add_argument("--out", default=str(RESULTS / "fanout.json"))
    parser.add_argument("--verbose", action="store_true", help="say when each slice starts")
    args = parser.parse_args(argv)
    quick = args.quick
    args.rooms = args.rooms or (40 if quick else 200)
    args.rates = [float(x) for x in (args.rates or ("1,4" if quick else "1,2,4,8")).split(",")]
    args.slices = args.slices or 2
    args.slice_seconds = args.slice_seconds or (2.0 if quick else 3.0)
    args.beat_seconds = args.beat_seconds or (3.0 if quick else 6.0)
    if not 1 <= args.players <= 15:
        parser.error("--players must be 1..15")
    raise_fd_limit()
    return report_and_save(run(main_async(args), args.uvloop), args.out, render)


if __name__ == "__main__":
    sys.exit(main())
