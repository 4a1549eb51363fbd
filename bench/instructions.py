"""Instructions per transition: the server's work counted by callgrind on a fixed, lock-step
replay of Weirsøe Lies, for levers too small for the capacity probes' spread.

    uv run python bench/instructions.py [--quick] [--rooms 8] [--runs 2]
                                        [--backends memory,redis] [--variant NAME]
                                        [--redis-url URL] [--keep] [--signal-window]

CPU time on a shared 2-core machine moves by ±10 % between identical capacity probes
(docs/performance.md, sections 69 and 77), so a lever worth 2-3 % of a transition cannot be
shown with it. Instructions can: ``valgrind --tool=callgrind`` counts what the process
executes, whatever else the machine is doing. Each run starts ``weirsoe serve`` (the same
command as ``bench/capacity.py``'s, or ``--variant``'s) under callgrind with the
instrumentation off, makes ``--rooms`` rooms of 8 players over REST and connects the host and
every player over WebSockets. Then it switches the counting on (``callgrind_control -i on``),
starts every game and plays them to the end in lock-step: in each lie and guess phase every
player of a room acts once, in turn, each action sent 250 ms after the previous one's ``ack``
(a room's next input then meets a room at rest, as players spread over a phase do).
The bots are browser-like (``--clients browser`` of ``bench/capacity.py``: each keeps the
phone's model from the events and asks for a snapshot only when the game starts and on a gap),
``LiesBot`` chooses with a generator seeded by the room's and the player's number, and no bot
stays silent or reacts, so every phase ends when everyone has acted, not on its timer. Only the
reveal steps and the scoreboard run on their timers, at the shortest setting (0.2 s). When
every game is over the counts are dumped (``callgrind_control -d``), and then counted again
over the same wall time with nothing played (the sockets still open), since whatever runs by
the clock (heartbeats, a 20 s ping) grows with a run that callgrind slows down 20 to 50 times.

Reported per run: instructions executed (callgrind's ``Ir``) over the games and over the idle
span, the transitions the server counted (``weirsoe_transitions_total``, read before and
after, outside the counting), and (games − idle) / transitions. Between two runs of one build
the figure moves by the games' own differences only (each room's questions are drawn by the
server; the answers' lengths change what a reveal carries); the report gives each run so the
spread shows. Only the ``serve`` process is counted: Redis's own work is not.

What it does not see: the kernel's work (a system call counts as the few instructions that
make it, not the TCP stack behind it), Redis's own work, and waiting. A copy that glibc makes
with ``rep movsb`` (most copies over a few KiB) counts one instruction per byte under
valgrind, so big copies weigh more here than in time. It compares builds and backends on the
same replay; it does not replace the capacity probes' CPU time.

Needs ``valgrind`` (Debian's package; ``callgrind_control`` comes with it). Prints Markdown;
writes bench/results/instructions.json. Loopback only; every wait is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import capacity
from _kit import (
    REDIS_URL,
    RESULTS,
    Conn,
    Room,
    WeirsoeServer,
    abort_rooms,
    connect_rooms,
    control,
    make_rooms,
    md_table,
    report_and_save,
    run,
    server_python,
)
from _lies_model import acknowledged

from weirsoe_lies.bot import LiesBot

SETTINGS = {
    "rounds": 2,
    "questions_per_round": 1,  # two questions: the second round's is the last
    "lie_seconds": 600.0,  # every phase a player acts in ends when all have acted
    "guess_seconds": 600.0,
    "reveal_step_seconds": 0.2,
    "scoreboard_seconds": 0.2,
}
PHASES = {"phase.lie_started": "lie", "phase.guess_started": "guess"}
# After each ack, the room's next action waits this long: a phone's next player is seconds
# later, not the moment the ack arrives. Without it the next input of a room reached the
# server before the previous commit's task had resumed from its reply (Redis), and could not
# take over the table that commit left (``DecodedCache.take``): a decode per transition that
# players spread over a phase rarely cause.
THINK_S = 0.25
GAME_TIMEOUT_S = 900.0  # a whole replay under callgrind; bounded
ACK_TIMEOUT_S = 120.0


class Seat(capacity.Seat):
    """capacity's browser-like seat: its model kept from the events, but no thinking of its
    own. The replay decides when it acts."""

    async def act(self, left: float) -> None:
        return None


class Replay(capacity.Probe):
    seat_class = Seat

    def __init__(self, rooms: list[Room]) -> None:
        super().__init__(len(rooms), browser=True)
        self.bot = LiesBot(silent=0.0, react=0.0)
        # phase events each room's seats have received: (room code, event type) -> count
        self.seen: dict[tuple[str, str], int] = {}
        self.ready: dict[tuple[str, str], asyncio.Event] = {}
        self.over: dict[str, asyncio.Event] = {r.code: asyncio.Event() for r in rooms}

    def on_message(self, conn: Conn, raw: bytes, t: float) -> None:
        super().on_message(conn, raw, t)
        kind = capacity._decode(raw).type
        code = conn.room.code
        if conn.player_id is None:
            if kind == "phase.game_over":
                self.over[code].set()
            return
        if kind in PHASES:  # count it per question: lie_started/guess_started alternate
            key = (code, kind)
            self.seen[key] = self.seen.get(key, 0) + 1
            if self.seen[key] % len(conn.room.seats) == 0:
                self.event(code, kind).set()

    def event(self, code: str, kind: str) -> asyncio.Event:
        return self.ready.setdefault((code, kind), asyncio.Event())

    async def play(self, index: int, room: Room) -> int:
        """Every player of ``room`` acts once per lie and guess phase, in turn, until the
        game is over; returns the actions sent."""
        rng = random.Random(f"replay:{index}")
        seats = [self.seats[c] for c in room.seats]
        sent = 0
        while not self.over[room.code].is_set():
            waits = {
                kind: asyncio.ensure_future(self.event(room.code, kind).wait()) for kind in PHASES
            }
            over = asyncio.ensure_future(self.over[room.code].wait())
            done, pending = await asyncio.wait(
                [*waits.values(), over], timeout=GAME_TIMEOUT_S, return_when="FIRST_COMPLETED"
            )
            for fut in pending:
                fut.cancel()
            if not done:
                raise TimeoutError(f"room {room.code}: no phase in {GAME_TIMEOUT_S:g} s")
            if over in done:
                break
            phase = ""
            for kind, fut in waits.items():
                if fut in done:
                    self.event(room.code, kind).clear()
                    phase = PHASES[kind]
            # a seat may still be waiting for the snapshot the game's start asked for
            end = time.monotonic() + ACK_TIMEOUT_S
            while any(s.syncing or s.model.get("phase") != phase for s in seats):
                if time.monotonic() > end:
                    raise TimeoutError(f"room {room.code}: the seats' models never reached {phase}")
                await asyncio.sleep(0.02)
            for seat in seats:
                action = self.bot.act(seat.model, seat.conn.player_id or "", rng, seat.canary)
                if action is None:
                    continue
                fut = seat.send_action(action)
                sent += 1
                if await asyncio.wait_for(fut, ACK_TIMEOUT_S) == "error":
                    self.refused += 1
                else:
                    acknowledged(seat.model, action)
                await asyncio.sleep(THINK_S)
        return sent


def say(what: str) -> None:
    print(f"    {time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def callgrind(cmd: str, pid: int, dump_dir: Path) -> int | None:
    """``callgrind_control`` on ``pid``: "on" switches the counting on, "zero" zeroes it,
    "dump" writes the counts so far and returns their ``Ir`` total."""
    flag = {"on": ["-i", "on"], "zero": ["-z"], "dump": ["-d"]}[cmd]
    before = set(dump_dir.glob("cg.*"))
    subprocess.run(
        ["callgrind_control", *flag, str(pid)], check=True, capture_output=True, timeout=300
    )
    if cmd != "dump":
        return None
    end = time.monotonic() + 300
    while time.monotonic() < end:
        for path in set(dump_dir.glob("cg.*")) - before:
            text = path.read_text(errors="replace")
            found = re.search(r"^(?:summary|totals):\s*(\d+)", text, re.M)
            if found and "\ntotals:" in text:
                return int(found.group(1))
        time.sleep(0.2)
    raise RuntimeError("callgrind wrote no dump in 300 s")


async def one_run(args: argparse.Namespace, backend: str) -> dict[str, Any]:
    dump_dir = Path(tempfile.mkdtemp(prefix="weirsoe-callgrind-"))
    wrap = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={dump_dir}/cg.%p",
        "--dump-instr=no",
        "--log-file=" + str(dump_dir / "valgrind.log"),
    ]
    redis = args.redis_url if backend == "redis" else None
    server = await asyncio.to_thread(
        WeirsoeServer, redis=redis, variant=args.variant, wrap=wrap, ready_timeout=600
    )
    made: list[Room] = []
    row: dict[str, Any] = {"backend": backend, "variant": args.variant or "default"}
    try:
        made = await make_rooms(
            server.url, "weirsoe_lies", SETTINGS, args.rooms, capacity.PLAYERS, timeout=600
        )
        replay = Replay(made)
        await connect_rooms(server.ws_url, made, replay.on_message, timeout=600)
        replay.seat_all(made)
        say("connected")
        before = await asyncio.to_thread(server.counters)
        await asyncio.to_thread(callgrind, "on", server.pid, dump_dir)
        if args.signal_window:
            os.kill(server.pid, signal.SIGUSR1)
        say("counting")
        t0 = time.monotonic()
        await control(server.url, made, "play")
        actions = await asyncio.wait_for(
            asyncio.gather(*(replay.play(i, room) for i, room in enumerate(made))),
            GAME_TIMEOUT_S,
        )
        games_s = time.monotonic() - t0
        say(f"games over in {games_s:.1f} s")
        games_ir = await asyncio.to_thread(callgrind, "dump", server.pid, dump_dir)
        if args.signal_window:
            os.kill(server.pid, signal.SIGUSR2)
        after = await asyncio.to_thread(server.counters)
        await asyncio.to_thread(callgrind, "zero", server.pid, dump_dir)
        await asyncio.sleep(games_s)
        idle_ir = await asyncio.to_thread(callgrind, "dump", server.pid, dump_dir)
        transitions = round(
            after.get("weirsoe_transitions_total", 0) - before.get("weirsoe_transitions_total", 0)
        )
        closed = sum(c.closed for r in made for c in [r.host, *r.seats] if c is not None)
        assert games_ir is not None
        assert idle_ir is not None
        row.update(
            {
                "rooms": args.rooms,
                "actions": sum(actions),
                "refused": replay.refused,
                "gap_syncs": replay.gap_syncs,
                "sockets_closed": closed,
                "transitions": transitions,
                "games_s": round(games_s, 1),
                "games_ir": games_ir,
                "idle_ir": idle_ir,
                "ir_per_transition": round((games_ir - idle_ir) / max(1, transitions)),
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
        )
    except Exception as exc:
        row["error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        abort_rooms(made)
        await asyncio.sleep(0.3)
        await asyncio.to_thread(server.stop)
        if args.keep:
            row["dumps"] = str(dump_dir)
        else:
            shutil.rmtree(dump_dir, ignore_errors=True)
    return row


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    rows = []
    for i in range(args.runs):
        for backend in args.backends:
            print(f"  run {i + 1}, {backend}…", file=sys.stderr, flush=True)
            rows.append(await one_run(args, backend))
            print(f"    {rows[-1]}", file=sys.stderr, flush=True)
    return {
        "python": server_python(),
        "settings": SETTINGS,
        "runs": rows,
        "seconds": round(time.monotonic() - started, 1),
    }


def render(result: dict[str, Any]) -> str:
    lines = ["## Instructions per transition (callgrind, lock-step replay)", ""]
    rows = []
    for r in result["runs"]:
        if "error" in r:
            rows.append([r["backend"], r["variant"], "error: " + r["error"], "", "", "", "", ""])
            continue
        rows.append(
            [
                r["backend"],
                r["variant"],
                r["transitions"],
                r["actions"],
                f"{r['games_ir'] / 1e6:,.1f}",
                f"{r['idle_ir'] / 1e6:,.1f}",
                f"{r['ir_per_transition']:,}",
                r["sockets_closed"] + r["refused"],
            ]
        )
    lines += md_table(
        [
            "backend",
            "variant",
            "transitions",
            "actions",
            "games (M Ir)",
            "idle (M Ir)",
            "Ir per transition",
            "closed + refused",
        ],
        rows,
    )
    by: dict[str, list[int]] = {}
    for r in result["runs"]:
        if "error" not in r:
            by.setdefault(r["backend"], []).append(r["ir_per_transition"])
    if "memory" in by and "redis" in by:
        ratio = (sum(by["redis"]) / len(by["redis"])) / (sum(by["memory"]) / len(by["memory"]))
        lines += ["", f"Redis / memory, mean of the runs: {ratio:.3f}×"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rooms, one run of each backend")
    parser.add_argument("--rooms", type=int, default=8)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--backends", default="memory,redis")
    parser.add_argument("--variant", help="run bench/variants/NAME.py instead of weirsoe serve")
    parser.add_argument("--redis-url", dest="redis_url", default=REDIS_URL)
    parser.add_argument(
        "--keep", action="store_true", help="keep callgrind's dumps (for callgrind_annotate)"
    )
    parser.add_argument(
        "--signal-window",
        action="store_true",
        help="send the server SIGUSR1 as the games start and SIGUSR2 as they end (variants)",
    )
    parser.add_argument("--uvloop", action="store_true", help="run the replay on uvloop")
    parser.add_argument("--out", default=str(RESULTS / "instructions.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.rooms, args.runs = 2, 1
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not set(args.backends) <= {"memory", "redis"}:
        parser.error("--backends: memory, redis or both")
    if args.rooms < 1 or args.runs < 1:
        parser.error("--rooms and --runs must be at least 1")
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print(
            "instructions: valgrind is not installed (apt-get install -y valgrind)", file=sys.stderr
        )
        return 2
    result = run(main_async(args), args.uvloop)
    report_and_save(result, Path(args.out), render)
    return 0 if all("error" not in r for r in result["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
