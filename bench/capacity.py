"""Capacity: the most rooms of 8 players that one ``weirsoe serve`` process sustains playing
the real Weirsøe Lies game with the broadcast p99 at or under 50 ms, and the players' own
actions answered within the same p99.

    uv run python bench/capacity.py [--quick] [--uvloop] [--budget 200] [--start 125]
                                    [--max-rooms 2000] [--redis] [--p99-ms 50]
                                    [--rtt-p99-ms 50] [--timers fast|default] [--processes N]

Each probe starts a fresh server, opens R rooms over REST, joins 8 players and connects the
host and every player over WebSockets, starts the games spread over a few seconds, lets them
warm up, and then measures for a fixed window. Bot clients play from their own view: on each
phase they wait a human-like think time (a random share of the time left in the phase), ask
for a snapshot (``sync``), let the cartridge's ``LiesBot`` choose (lies, "lie for me",
guesses, reactions) and send the action. A browser keeps its view from the events and syncs
only on start, after a gap and on reconnect, so the bots' snapshots (about two per action)
are more work than real players make (docs/performance.md, section 67). ``--clients browser``
makes the bots play as the phones' client does instead: each keeps the model that Weirsøe
Lies' controller keeps (``bench/_lies_model.py``, a port of its ``model.js``), asks for a
snapshot when the game starts and on a gap in the versions, as ``web/static/client.js`` and
``room.js`` do, and pings every 20 s; the default (``sync``) stays comparable with every
earlier run. Latency is from the
envelope's server ``ts`` to client receipt, over every broadcast event that arrives in the
window (not snapshots or acks). The timers are about a third of the defaults (12 s to lie,
8 s to guess), so a room sends more events per second than at the default settings: the
figure is a conservative one.

A probe passes when the broadcast p99 and the p99 of the bots' action round trips (from
sending an action to its ``ack``, for the acks that arrive in the window, as the broadcasts
are counted) are both within their limits (``--p99-ms``, ``--rtt-p99-ms``, 50 ms each by
default), with no timeout and no socket closed. The round trip is there because the
broadcast latency starts at the transition's ``ts``: a saturated server keeps it low while
the actions that lead to transitions queue in front of it. Judged on the broadcasts alone,
memory "passed" 2,000 rooms at 99 % of a core with the action round trip p99 at 2.5 s and
half the events per room (docs/performance.md, seventeenth pass).

The search doubles R from ``--start`` while probes pass, then bisects between the last pass
and the first failure; it stops at ``--max-rooms`` (and the open-file limit) and when the
time ``--budget`` would run out. ``--processes 2 --redis`` runs the same search against two
``serve`` processes on one Redis (the load generator stays one process of its own), for the
"2 processes vs 1" figure. Prints Markdown; writes bench/results/capacity.json.
Loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import random
import sys
import time
from collections.abc import Mapping
from typing import Any

import msgspec
from _kit import (
    HANDLER_ERRORS,
    REDIS_URL,
    RESULTS,
    ClientCollector,
    Conn,
    CpuLimit,
    Room,
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
from _lies_model import REDUCED, acknowledged, reduce

from weirsoe_lies.bot import LiesBot

PLAYERS = 8
DEFAULT_TIMERS = {"rounds": 3, "questions_per_round": 2}  # the game as shipped: 45 s to lie…
SETTINGS = {
    "rounds": 3,
    "questions_per_round": 2,
    "lie_seconds": 12.0,
    "guess_seconds": 8.0,
    "reveal_step_seconds": 1.5,
    "scoreboard_seconds": 3.0,
}
TRIGGERS = {"phase.lie_started", "phase.guess_started", "reveal.step"}
# BENCH_LATENCY_OUT=FILE: each delivery of the last window as [server ts, latency ms, event
# type, room code], to line up stalls with the server's own records (bench/variants/gcwatch.py)
# and see which events they hit; and each action acked in it as [time sent, round trip ms,
# "rtt:" + action type, room code].
TRACE: list[tuple[float, float, str, str]] | None = (
    [] if os.environ.get("BENCH_LATENCY_OUT") else None
)
CLIENT_GC = ClientCollector()
REPLIES = {"session.snapshot", "ack", "error", "pong"}
ACTIONS_PER_PHASE = 3
# --clients browser: what the platform's client (web/static/client.js) does besides the game
PING_EVERY_S = 20.0  # its application ping, on every socket
UNVERSIONED = {"ack", "error", "pong", "audience.tally"}  # never a gap in the versions


class Msg(msgspec.Struct):
    type: str = ""
    ts: float = 0.0
    deadline: float | None = None
    id: str | None = None
    version: int = -1


_decode = msgspec.json.Decoder(Msg).decode
_decode_any = msgspec.json.Decoder().decode


class Seat:
    """A bot player behind one socket."""

    def __init__(self, probe: Probe, conn: Conn, index: int) -> None:
        self.probe = probe
        self.conn = conn
        self.rng = random.Random(f"{conn.room.code}:{index}")
        self.actor: asyncio.Task[None] | None = None
        self.snapshot: asyncio.Future[Any] | None = None
        self.pending: dict[str, tuple[float, asyncio.Future[str], str]] = {}
        self.seq = 0
        # --clients browser: the phone's model, kept from the events as client.js keeps it
        self.model: dict[str, Any] = {}
        self.version = 0
        self.fresh = True  # no snapshot yet on this socket
        self.syncing = False
        self.from_snapshot = False
        self.buffer: list[tuple[Msg, bytes]] = []

    def canary(self) -> str:
        self.seq += 1
        return f"bench lie {self.seq}"

    def send_action(self, action: Mapping[str, Any]) -> asyncio.Future[str]:
        """Send ``action``; the future gets ``"ack"`` or ``"error"`` when it is answered."""
        self.seq += 1
        msg_id = f"a{self.seq}"
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.pending[msg_id] = (time.time(), fut, str(action.get("type", "")))
        self.conn.send(json.dumps({"type": "action", "id": msg_id, "action": dict(action)}))
        return fut

    def on_message(self, m: Msg, raw: bytes, t: float) -> None:
        if self.probe.browser and m.type not in UNVERSIONED:
            if m.type == "session.snapshot":
                self._snapshot(m, raw)
            else:
                self._event(m, raw)
        if m.type == "session.snapshot":
            if self.snapshot is not None and not self.snapshot.done():
                self.snapshot.set_result(_decode_any(raw))
        elif m.type in ("ack", "error") and m.id in self.pending:
            sent, fut, kind = self.pending.pop(m.id)
            if m.type == "error":
                code = f"{kind}: {_decode_any(raw).get('code')}"
                self.probe.refusals[code] = self.probe.refusals.get(code, 0) + 1
            if self.probe.measuring:  # the window's, like the broadcasts' latencies
                self.probe.rtt.append(t - sent)
                if TRACE is not None:
                    rtt_ms = round((t - sent) * 1000, 2)
                    TRACE.append((round(sent, 3), rtt_ms, f"rtt:{kind}", self.conn.room.code))
            if not fut.done():
                fut.set_result(m.type)
        elif m.type in TRIGGERS and (self.actor is None or self.actor.done()):
            left = (m.deadline or (t + 2.0)) - t
            self.actor = asyncio.create_task(self.act(max(0.3, left)))
            self.probe.tasks.add(self.actor)
            self.actor.add_done_callback(self.probe.tasks.discard)

    # -- --clients browser: the version rules of web/static/client.js ------------------------
    def _sync(self) -> None:
        self.probe.syncs += self.probe.measuring
        self.conn.send('{"type":"sync"}')

    def _event(self, m: Msg, raw: bytes) -> None:
        if self.syncing:
            self.buffer.append((m, raw))
            return
        # Several events may share one version; a version already covered by a snapshot is old.
        if m.version < self.version or (m.version == self.version and self.from_snapshot):
            return
        if m.version > self.version + 1:  # a gap: ask for a snapshot, keep what follows
            self.probe.gap_syncs += self.probe.measuring
            self._resync([(m, raw)])
            return
        self._accept(m, raw, False)

    def _snapshot(self, m: Msg, raw: bytes) -> None:
        if not self.fresh and not self.syncing and m.version < self.version:
            return
        buffered, self.buffer = self.buffer, []
        self.fresh = self.syncing = False
        self._accept(m, raw, True)
        for later, later_raw in buffered:
            if later.version > m.version:
                self._event(later, later_raw)

    def _accept(self, m: Msg, raw: bytes, from_snapshot: bool) -> None:
        self.version = m.version
        self.from_snapshot = from_snapshot
        if m.type in REDUCED:
            reduce(self.model, _decode_any(raw))
        elif m.type == "session.started":  # room.js: the stage starts from a full snapshot
            self._resync([])

    def _resync(self, keep: list[tuple[Msg, bytes]]) -> None:
        """client.js's ``sync()``: ask for a snapshot and hold the events until it comes,
        starting with ``keep``."""
        self.buffer = keep
        self.syncing = True
        self._sync()

    async def _look(self) -> dict[str, Any] | None:
        """The view to decide from: a fresh snapshot (``--clients sync``), or the model kept
        from the events (``--clients browser``); None if there is nothing to play."""
        if self.probe.browser:
            return self.model if self.model.get("phase") else None
        self.snapshot = asyncio.get_running_loop().create_future()
        self._sync()
        try:
            snap = await asyncio.wait_for(self.snapshot, 10)
        except TimeoutError:
            self.probe.timeouts += 1
            return None
        view: dict[str, Any] | None = snap.get("view")
        return view if snap.get("status") == "running" else None

    async def act(self, left: float) -> None:
        """Think, look, decide, act: at most ACTIONS_PER_PHASE times, within the phase."""
        end = time.monotonic() + left
        for _ in range(ACTIONS_PER_PHASE):
            await asyncio.sleep(self.rng.uniform(0.15, 0.75) * max(0.0, end - time.monotonic()))
            if self.probe.stopping:
                return
            view = await self._look()
            if view is None:
                return
            action = self.probe.bot.act(view, self.conn.player_id or "", self.rng, self.canary)
            if action is None:
                return
            fut = self.send_action(action)
            self.probe.actions += self.probe.measuring
            try:
                if await asyncio.wait_for(fut, 10) == "error":
                    self.probe.refused += 1
                elif self.probe.browser:
                    acknowledged(self.model, action)
            except TimeoutError:
                self.probe.timeouts += 1
                return


class Probe:
    """One measurement at R rooms on a fresh server."""

    seat_class = Seat  # what plays each player (bench/instructions.py's replay: its own)

    def __init__(self, rooms: int, browser: bool = False) -> None:
        self.rooms = rooms
        self.browser = browser
        self.bot = LiesBot()
        self.seats: dict[Conn, Seat] = {}
        # --clients browser: a player's messages until its Seat exists (its first snapshot)
        self.early: dict[Conn, list[tuple[bytes, float]]] = {}
        self.syncs = self.gap_syncs = 0  # sent in the window
        self.refusals: dict[str, int] = {}  # "action: error code" -> count, setup included
        self.tasks: set[asyncio.Task[None]] = set()
        self.measuring = False
        self.stopping = False
        self.latency: list[float] = []
        self.rtt: list[float] = []
        self.delivered = 0
        self.actions = 0  # actions sent in the window
        self.refused = self.timeouts = 0
        self.types: dict[str, int] = {}

    def on_message(self, conn: Conn, raw: bytes, t: float) -> None:
        m = _decode(raw)
        if self.measuring and m.ts and m.type not in REPLIES:
            self.latency.append(t - m.ts)
            if TRACE is not None:
                TRACE.append((round(m.ts, 3), round((t - m.ts) * 1000, 2), m.type, conn.room.code))
            self.delivered += 1
            self.types[m.type] = self.types.get(m.type, 0) + 1
        seat = self.seats.get(conn)
        if seat is not None:
            seat.on_message(m, raw, t)
        elif self.browser and conn.player_id is not None:
            self.early.setdefault(conn, []).append((raw, t))

    def seat_all(self, rooms: list[Room]) -> None:
        """A Seat for every player, given what its socket received so far."""
        for room in rooms:
            for i, conn in enumerate(room.seats):
                seat = self.seats[conn] = self.seat_class(self, conn, i)
                for raw, t in self.early.pop(conn, []):
                    seat.on_message(_decode(raw), raw, t)

    async def ping(self, conns: list[Conn]) -> None:
        """``--clients browser``: every socket's application ping, each every PING_EVERY_S,
        spread evenly (0.5 s at a time)."""
        if not conns:
            return
        share = max(1, round(len(conns) * 0.5 / PING_EVERY_S))
        turn = 0
        while not self.stopping:
            for conn in conns[turn : turn + share]:
                if not conn.closed:
                    conn.send('{"type":"ping"}')
            turn = turn + share if turn + share < len(conns) else 0
            await asyncio.sleep(0.5)


class Cluster:
    """``--processes N``: N ``weirsoe serve`` processes on one Redis (one key prefix, one
    secret), each with its own timer worker. Rooms are dealt to them in turn, and a room's
    sockets all go to the process that created it, as a balancer that routes by room code
    would do; CPU, run-queue waits and RSS are the sums over the processes."""

    def __init__(self, args: argparse.Namespace) -> None:
        redis = args.redis_url if args.redis else None
        shared = {"prefix": f"wbench-{os.urandom(5).hex()}", "secret": os.urandom(24).hex()}
        n = args.processes
        self.servers = [
            WeirsoeServer(
                redis=redis,
                variant=args.variant,
                cpu_limit=args.cpu_limit,
                **(shared if n > 1 else {}),
            )
            for _ in range(n)
        ]

    @property
    def pid(self) -> list[int]:
        return [s.pid for s in self.servers]

    def cpu(self) -> float:
        return sum(s.cpu() for s in self.servers)

    def sched(self) -> tuple[float, float]:
        pairs = [s.sched() for s in self.servers]
        return sum(a for a, _ in pairs), sum(b for _, b in pairs)

    def counters(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for srv in self.servers:
            for name, value in srv.counters().items():
                totals[name] = totals.get(name, 0.0) + value
        return totals

    def rss(self) -> int:
        return sum(s.rss() for s in self.servers)

    def throttled(self) -> float:
        """Seconds the servers were held back by ``--cpu-limit`` so far, summed."""
        return sum(s.limit.throttled_s() for s in self.servers if s.limit is not None)

    def stop(self) -> None:
        for s in self.servers:
            s.stop()

    def deal(self, rooms: int) -> list[int]:
        n = len(self.servers)
        return [rooms // n + (i < rooms % n) for i in range(n)]


def _delta(before: dict[str, float], after: dict[str, float], counter: str) -> int:
    name = f"weirsoe_{counter}_total"
    return round(after.get(name, 0.0) - before.get(name, 0.0))


async def probe(rooms: int, args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    server = await asyncio.to_thread(Cluster, args)
    p = Probe(rooms, browser=args.clients == "browser")
    made: list[Room] = []
    row: dict[str, Any] = {"rooms": rooms, "players": rooms * PLAYERS}
    try:
        t0 = time.monotonic()
        settings = DEFAULT_TIMERS if args.timers == "default" else SETTINGS
        shares: list[list[Room]] = []
        for srv, count in zip(server.servers, server.deal(rooms), strict=True):
            share = await make_rooms(srv.url, "weirsoe_lies", settings, count, PLAYERS, timeout=300)
            shares.append(share)
            made += share
        t1 = time.monotonic()
        before_connect = await asyncio.to_thread(server.counters)
        for srv, share in zip(server.servers, shares, strict=True):
            await connect_rooms(srv.ws_url, share, p.on_message, timeout=300)
        t2 = time.monotonic()
        after_connect = await asyncio.to_thread(server.counters)
        p.seat_all(made)
        if p.browser:
            conns = [c for r in made for c in [r.host, *r.seats] if c is not None]
            random.Random(rooms).shuffle(conns)
            pinger = asyncio.create_task(p.ping(conns))
            p.tasks.add(pinger)
            pinger.add_done_callback(p.tasks.discard)
        CLIENT_GC.quiet()  # the client's own full collections stay out of the latencies
        if args.verbose:
            print(f"    connected; starting games (pid {server.pid})", file=sys.stderr, flush=True)
        await asyncio.gather(
            *(
                control(srv.url, share, "play", spread=args.stagger)
                for srv, share in zip(server.servers, shares, strict=True)
            )
        )
        await asyncio.sleep(args.warmup)
        # The counters first, so the window's time and CPU leave out the scrape
        scrape0 = time.monotonic()
        counters0 = await asyncio.to_thread(server.counters)
        scrape0 = time.monotonic() - scrape0
        cpu0, wall0, client0 = server.cpu(), time.monotonic(), time.process_time()
        sched0, throttled0 = server.sched(), server.throttled()
        p.measuring = True
        CLIENT_GC.record(hold=True)  # and its young ones, for the window's 12 s
        await asyncio.sleep(args.window)
        p.measuring = False
        client_gc = ClientCollector.fields(CLIENT_GC.stop())
        if TRACE is not None:  # BENCH_LATENCY_OUT: every delivery of the window, for stalls
            pathlib.Path(os.environ["BENCH_LATENCY_OUT"]).write_text(json.dumps(TRACE))
            TRACE.clear()
        cpu, wall = server.cpu() - cpu0, time.monotonic() - wall0
        client = time.process_time() - client0
        waited = server.sched()[1] - sched0[1]
        throttled = server.throttled() - throttled0
        scrape1 = time.monotonic()
        counters = await asyncio.to_thread(server.counters)
        scrape1 = time.monotonic() - scrape1
        counted = {k: v - counters0.get(k, 0.0) for k, v in counters.items()}
        # The server counts on until it answers the second scrape: its rates are over that
        # span too. Before section 47 a saturated Redis server took 4-5 s to answer, and the
        # window seemed to hold 14-31 % more transitions than memory's at the same rooms.
        counted_s = wall + scrape1
        closed = sum(c.closed for r in made for c in [r.host, *r.seats] if c is not None)
        row.update(
            {
                "setup_rest_s": round(t1 - t0, 1),
                "setup_connect_s": round(t2 - t1, 1),
                # while the sockets connected (each player's connect is a presence transition)
                "connect_transitions": _delta(before_connect, after_connect, "transitions"),
                "connect_cas_lost": _delta(before_connect, after_connect, "cas_conflicts"),
                "window_s": round(wall, 1),
                "delivered": p.delivered,
                "delivered_per_s": round(p.delivered / wall),
                "per_room_per_s": round(p.delivered / wall / rooms, 1),
                **summary_ms(p.latency),
                "action_rtt_p99_ms": summary_ms(p.rtt)["p99_ms"],
                "actions_per_s": round(p.actions / wall, 1),
                # snapshots asked for in the window: before every action (sync), or on a
                # gap in the versions (browser)
                "syncs_per_s": round(p.syncs / wall, 1),
                "gap_syncs": p.gap_syncs,
                "refused": p.refused,
                "refusals": dict(sorted(p.refusals.items(), key=lambda kv: -kv[1])[:6]),
                "timeouts": p.timeouts,
                "sockets_closed": closed,
                "server_cpu_pct": round(100 * cpu / wall, 1),
                "client_cpu_pct": round(100 * client / wall, 1),
                **client_gc,
                # runnable but kept off the CPU by the machine's other load (schedstat)
                "server_runq_wait_pct": round(100 * waited / wall, 1),
                # held back by --cpu-limit (summed over the processes)
                "server_throttled_pct": round(100 * throttled / wall, 1),
                "loadavg": [round(x, 2) for x in os.getloadavg()],
                "server_rss_mib": round(server.rss() / 2**20, 1),
                # committed transitions, and compare-and-sets lost and retried, in the window
                "transitions_per_s": round(counted.get("weirsoe_transitions_total", 0) / counted_s),
                "cas_lost_per_s": round(counted.get("weirsoe_cas_conflicts_total", 0) / counted_s),
                "events": dict(sorted(p.types.items(), key=lambda kv: -kv[1])[:8]),
                # every counter's count from the first scrape to the second (counted_s)
                "counters": {k: round(v) for k, v in sorted(counted.items()) if v},
                "counted_s": round(counted_s, 2),
                # seconds /metrics took to answer before and after the window (5 s at most)
                "metrics_read_s": [round(scrape0, 3), round(scrape1, 3)],
            }
        )
        ok = (
            row["p99_ms"] is not None
            and row["p99_ms"] <= args.p99_ms
            and row["action_rtt_p99_ms"] is not None
            and row["action_rtt_p99_ms"] <= args.rtt_p99_ms
            and p.timeouts == 0
            and closed == 0
        )
        row["pass"] = ok
        row["client_bound"] = row["client_cpu_pct"] > 85
    except Exception as exc:  # a probe that cannot even set up has failed: say why
        row.update({"pass": False, "error": f"{type(exc).__name__}: {exc}"[:300]})
    finally:
        p.stopping = True
        for task in list(p.tasks):
            task.cancel()
        abort_rooms(made)
        await asyncio.sleep(0.3)
        CLIENT_GC.loud()
        await asyncio.to_thread(server.stop)
    row["probe_s"] = round(time.monotonic() - started, 1)
    return row


async def search(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    deadline = started + args.budget
    rows: list[dict[str, Any]] = []
    best: int | None = None
    worst: int | None = None
    rooms = args.start
    seconds_per_room = 0.1  # refined after each probe
    fixed = 12.0 + args.stagger + args.warmup + args.window
    for _ in range(args.max_probes):
        if rooms > args.max_rooms or (best is not None and worst is not None and rooms >= worst):
            break
        estimate = fixed + seconds_per_room * rooms
        if time.monotonic() + estimate > deadline:
            print(f"  {rooms} rooms would take ~{estimate:.0f} s: over budget", file=sys.stderr)
            break
        print(f"  probing {rooms} rooms x {PLAYERS} players ...", file=sys.stderr)
        row = await probe(rooms, args)
        rows.append(row)
        print(
            f"    p99 {row.get('p99_ms')} ms, action round trip p99 "
            f"{row.get('action_rtt_p99_ms')} ms, {row.get('delivered_per_s')} deliveries/s, "
            f"server CPU {row.get('server_cpu_pct')}%, client CPU {row.get('client_cpu_pct')}%, "
            f"server waiting for a CPU {row.get('server_runq_wait_pct')}%, "
            f"load {row.get('loadavg')}, "
            f"{'pass' if row['pass'] else 'FAIL'} {row.get('error', '')}",
            file=sys.stderr,
        )
        seconds_per_room = max(seconds_per_room, (row["probe_s"] - fixed) / rooms)
        if row["pass"]:
            best = max(best or 0, rooms)
        else:
            worst = rooms if worst is None else min(worst, rooms)
        if worst is None:
            rooms *= 2
        elif best is None:
            rooms = max(1, worst // 2) if worst > args.floor else 0
            if rooms == 0:
                break
        else:
            if worst - best <= max(args.floor, best * 0.15):
                break
            rooms = (best + worst) // 2
    return {
        "when": time.time(),
        "seconds": round(time.monotonic() - started, 1),
        "backend": "redis" if args.redis else "memory",
        "processes": args.processes,
        "cpu_limit": args.cpu_limit,
        "client_loop": "uvloop" if args.uvloop else "asyncio",
        "server_python": server_python(),
        "threshold_p99_ms": args.p99_ms,
        "threshold_rtt_p99_ms": args.rtt_p99_ms,
        "timers": args.timers,
        "clients": args.clients,
        "settings": DEFAULT_TIMERS if args.timers == "default" else SETTINGS,
        "params": {
            k: getattr(args, k)
            for k in ("start", "max_rooms", "budget", "stagger", "warmup", "window", "quick")
        },
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "capacity_rooms": best,
        "first_failure_rooms": worst,
        "probes": rows,
        "client_errors": HANDLER_ERRORS[:5],
    }


def render(result: dict[str, Any]) -> str:
    cap = result["capacity_rooms"]
    fail = result["first_failure_rooms"]
    head = (
        f"Capacity ({result['backend']}"
        + (f", {result['processes']} processes" if result.get("processes", 1) > 1 else "")
        + (f", {result['cpu_limit']:g} CPU each" if result.get("cpu_limit") else "")
        + (", browser-like clients" if result.get("clients") == "browser" else "")
        + f", p99 <= {result['threshold_p99_ms']:g} ms"
        + (
            f", action round trip p99 <= {result['threshold_rtt_p99_ms']:g} ms"
            if result.get("threshold_rtt_p99_ms") is not None
            else ""
        )
        + "): "
        f"{cap if cap is not None else 'none'} rooms x {PLAYERS} players passed"
        + (f"; {fail} failed" if fail else "; no failure found within the limits")
    )
    lines = [head, ""]
    limited = bool(result.get("cpu_limit"))
    lines += md_table(
        [
            "rooms",
            "sockets",
            "deliveries/s",
            "per room/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "action RTT p99 ms",
            "server CPU %",
            "client CPU %",
            "client GC pauses > 10 ms (longest)",
            "server runnable, waiting %",
            *(["held back by the CPU limit %"] if limited else []),
            "load 1 min",
            "RSS MiB",
            "transitions/s",
            "lost CAS/s",
            "result",
        ],
        [
            [
                r["rooms"],
                r["rooms"] * (PLAYERS + 1),
                r.get("delivered_per_s"),
                r.get("per_room_per_s"),
                r.get("p50_ms"),
                r.get("p99_ms"),
                r.get("max_ms"),
                r.get("action_rtt_p99_ms"),
                r.get("server_cpu_pct"),
                r.get("client_cpu_pct"),
                ClientCollector.cell(r),
                r.get("server_runq_wait_pct"),
                *([r.get("server_throttled_pct")] if limited else []),
                (r.get("loadavg") or [None])[0],
                r.get("server_rss_mib"),
                r.get("transitions_per_s"),
                r.get("cas_lost_per_s"),
                ("pass" if r["pass"] else "FAIL")
                + (" (client-bound)" if r.get("client_bound") else "")
                + (f" ({r['error']})" if r.get("error") else ""),
            ]
            for r in result["probes"]
        ],
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="start at 20 rooms, 60 s budget")
    parser.add_argument("--uvloop", action="store_true", help="run the load generator on uvloop")
    parser.add_argument("--start", type=int, help="rooms in the first probe (default 125)")
    parser.add_argument("--max-rooms", dest="max_rooms", type=int, default=2000)
    parser.add_argument("--max-probes", dest="max_probes", type=int, default=8)
    parser.add_argument("--budget", type=float, help="seconds for the whole search (default 200)")
    parser.add_argument("--p99-ms", dest="p99_ms", type=float, default=50.0)
    parser.add_argument(
        "--rtt-p99-ms",
        dest="rtt_p99_ms",
        type=float,
        help="limit on the p99 of the bots' action round trips (default: --p99-ms)",
    )
    parser.add_argument("--stagger", type=float, help="seconds over which the games start")
    parser.add_argument("--warmup", type=float, help="seconds between the starts and the window")
    parser.add_argument("--window", type=float, help="seconds measured")
    parser.add_argument("--redis", action="store_true", help="probe the Redis backend")
    parser.add_argument(
        "--timers",
        choices=["fast", "default"],
        default="fast",
        help="fast: about a third of the default phase timers (default); default: as shipped",
    )
    parser.add_argument(
        "--clients",
        choices=["sync", "browser"],
        default="sync",
        help="sync: the bots ask for a snapshot before every action (default, as in every "
        "earlier run); browser: they keep their view from the events and sync only on a gap, "
        "and ping every 20 s, as the phones' client does",
    )
    parser.add_argument("--redis-url", dest="redis_url", default=REDIS_URL)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="weirsoe serve processes sharing one Redis (needs --redis when above 1)",
    )
    parser.add_argument(
        "--cpu-limit",
        dest="cpu_limit",
        type=float,
        help="cap each serve process at this many CPUs (a cgroup CFS quota), as on a smaller "
        "machine: for '2 processes vs 1' on a box with too few cores for both and the load",
    )
    parser.add_argument(
        "--floor",
        type=int,
        help="stop bisecting when the last pass and the first failure are this close "
        "(default 25 rooms, 5 with --quick; the search also stops within 15 %%)",
    )
    parser.add_argument("--out", default=str(RESULTS / "capacity.json"))
    parser.add_argument("--variant", help="run bench/variants/NAME.py instead of weirsoe serve")
    parser.add_argument("--verbose", action="store_true", help="say when the games start")
    args = parser.parse_args(argv)
    if args.processes < 1 or (args.processes > 1 and not args.redis):
        parser.error("--processes above 1 needs --redis (processes share rooms through Redis)")
    if args.cpu_limit is not None:
        if not 0.05 <= args.cpu_limit <= (os.cpu_count() or 1):
            parser.error(f"--cpu-limit must be between 0.05 and {os.cpu_count()} CPUs")
        reason = CpuLimit.available()
        if reason is not None:  # said and recorded, so the report shows why, not a gap
            print(f"capacity.py: --cpu-limit is not possible here: {reason}", file=sys.stderr)
            skipped = {"when": time.time(), "skipped": reason, "cpu_limit": args.cpu_limit}
            pathlib.Path(args.out).write_text(json.dumps(skipped, indent=1))
            return 0
    q = args.quick
    args.start = args.start or (20 if q else 125)
    args.budget = args.budget or (60.0 if q else 180.0)
    args.stagger = args.stagger or (3.0 if q else 8.0)
    args.warmup = args.warmup or (2.0 if q else 4.0)
    args.window = args.window or (5.0 if q else 12.0)
    args.floor = args.floor or (5 if q else 25)
    args.rtt_p99_ms = args.p99_ms if args.rtt_p99_ms is None else args.rtt_p99_ms
    limit = raise_fd_limit()
    args.max_rooms = min(args.max_rooms, (limit - 500) // (PLAYERS + 1))
    return report_and_save(run(search(args), args.uvloop), args.out, render)


if __name__ == "__main__":
    sys.exit(main())
