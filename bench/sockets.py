"""What an idle game socket costs ``weirsoe serve`` in memory, and in what.

    uv run python bench/sockets.py [--rooms 200] [--redis URL] [--trace] [--owners]

Starts ``weirsoe serve`` through ``bench/variants/memprobe.py``, opens the sockets of half the
rooms (host and players, as ``bench/loadgen.py`` does), then of the other half, and has the
server describe itself after each. Prints the RSS per socket of the second half (the
figure in ``bench/loadgen.py``'s memory table) and, per socket of that half, the objects the
cyclic collector tracks by type; with ``--trace``, the bytes ``tracemalloc`` attributes to
each source line (under ``tracemalloc`` the server's own RSS is not meaningful). Used for
docs/performance.md, section 54.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _kit import WeirsoeServer, connect_rooms, make_rooms


def _probe(server: WeirsoeServer, out: Path, n: int) -> dict[str, Any]:
    rss = server.rss()  # before the probe, whose own counting allocates
    os.kill(server.pid, signal.SIGUSR1)
    path = out / f"probe{n}.json"
    end = time.monotonic() + 120
    while time.monotonic() < end:
        if (out / "error.txt").exists():
            raise SystemExit((out / "error.txt").read_text())
        if path.exists():
            time.sleep(0.5)  # written in one go, but let a snapshot's dump finish too
            result: dict[str, Any] = json.loads(path.read_text())
            return {**result, "rss": rss}
        time.sleep(0.1)
    raise SystemExit(f"the server wrote no {path.name} in 120 s")


async def _run(args: argparse.Namespace, out: Path) -> None:
    os.environ["BENCH_MEMPROBE_DIR"] = str(out)
    os.environ["BENCH_MEMPROBE_TRACE"] = "1" if args.trace else "0"
    os.environ["BENCH_MEMPROBE_DETAIL"] = "1" if args.owners else "0"
    server = await asyncio.to_thread(WeirsoeServer, redis=args.redis, variant="memprobe")
    try:
        rooms = await make_rooms(server.url, "bench", {"pad": 0}, args.rooms, args.players)
        half = len(rooms) // 2
        probes: list[dict[str, Any]] = []
        for part in (rooms[:half], rooms[half:]):
            await connect_rooms(server.ws_url, part, lambda conn, data, t: None)
            await asyncio.sleep(1.5)  # as bench/loadgen.py: presence and snapshots settle
            probes.append(_probe(server, out, len(probes) + 1))
        sockets = sum(1 + len(r.seats) for r in rooms[half:])
        before, after = probes
        backend = "redis" if args.redis else "memory"
        print(f"{backend}: {sockets} sockets in the second half of {len(rooms)} rooms")
        if not args.trace:
            rss = (after["rss"] - before["rss"]) / sockets / 1024
            print(f"RSS per socket: {rss:.1f} KiB")
        blocks = (after["blocks"] - before["blocks"]) / sockets
        print(f"allocator blocks per socket: {blocks:.1f}")
        t0: dict[str, int] = before["types"]
        t1: dict[str, int] = after["types"]
        diff = sorted(((t1.get(k, 0) - t0.get(k, 0)) / sockets, k) for k in set(t0) | set(t1))[::-1]
        print(f"tracked objects per socket: {sum(d for d, _ in diff):.1f}; the most:")
        for d, k in diff[: args.top]:
            print(f"  {d:7.2f}  {k}")
        if args.owners:
            d0: dict[str, int] = before["detail"]
            d1: dict[str, int] = after["detail"]
            owned = sorted(((d1.get(k, 0) - d0.get(k, 0)) / sockets, k) for k in set(d0) | set(d1))
            print("per socket, by what made each object and what holds it:")
            for d, k in owned[::-1][: args.top]:
                print(f"  {d:7.2f}  {k}")
        if args.trace:
            s0 = tracemalloc.Snapshot.load(str(out / "snap1.bin"))
            s1 = tracemalloc.Snapshot.load(str(out / "snap2.bin"))
            stats = s1.compare_to(s0, "lineno")
            total = sum(s.size_diff for s in stats) / sockets / 1024
            print(f"bytes per socket by line (tracemalloc; {total:.1f} KiB in all):")
            for s in stats[: args.top]:
                print(
                    f"  {s.size_diff / sockets:7.0f} B"
                    f"  {s.count_diff / sockets:5.1f}  {s.traceback}"
                )
    finally:
        await asyncio.to_thread(server.stop)  # cleaning Redis runs a loop of its own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 rooms")
    parser.add_argument("--rooms", type=int, default=200, help="rooms (default 200)")
    parser.add_argument("--players", type=int, default=8, help="players per room (default 8)")
    parser.add_argument("--redis", help="a Redis URL: the Redis backend instead of memory")
    parser.add_argument("--trace", action="store_true", help="tracemalloc, bytes per line")
    parser.add_argument("--owners", action="store_true", help="objects by what holds them")
    parser.add_argument("--top", type=int, default=25, help="rows per table (default 25)")
    args = parser.parse_args()
    if args.quick:
        args.rooms = 40
    if args.rooms < 2 or args.players < 1:
        parser.error("--rooms must be at least 2 and --players at least 1")
    with tempfile.TemporaryDirectory(prefix="weirsoe-sockets-") as out:
        asyncio.run(_run(args, Path(out)))


if __name__ == "__main__":
    main()
