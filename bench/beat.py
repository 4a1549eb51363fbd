"""What one presence beat costs its process, in CPU, on either connection.

    uv run python bench/beat.py [--quick] [--redis URL] [--players 9000] [--beats 40]

Runs ``PresenceBeat.beat`` against a real Redis for a process holding ``--players`` players
(the beat rewrites their set every 2 s; 1,000 rooms of 9 sockets are 9,000), once through the
session store's pipelined connection (hiredis packs the commands) and once through redis-py's
transaction pipeline, the two ways ``weirsoe serve --redis`` can send it. Prints the
process's CPU and the wall time per beat; asserts nothing about time. Loopback only;
``--beats`` bounds the loop. Used for docs/performance.md, section 63.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _kit import redis_script_parser, run

from weirsoe_platform._resp import PipelinedRedis
from weirsoe_platform.sessions._redis_store import connect_redis
from weirsoe_platform.transport._heartbeat import PresenceBeat
from weirsoe_platform.transport._ws import Presence


async def measure(url: str, players: int, beats: int, pipelined: bool) -> tuple[float, float]:
    presence = Presence()
    for i in range(players):
        presence.up(f"R{i // 9:04d}", f"p{i % 9}")
    redis = connect_redis(url)
    fast = PipelinedRedis.of_client(redis) if pipelined else None
    prefix = f"wbeat-{uuid.uuid4().hex[:8]}"
    beat = PresenceBeat(redis, prefix=prefix, presence=presence, service=None, fast=fast)  # type: ignore[arg-type]
    try:
        await beat.beat()  # connections open, scripts warm
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(beats):
            await beat.beat()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        await redis.delete(beat.key(beat.id), beat.procs)
    finally:
        if fast is not None:
            await fast.aclose()
        await redis.aclose()
    return cpu / beats * 1000, wall / beats * 1000


async def main(args: argparse.Namespace) -> int:
    print(f"{args.beats} beats of {args.players} players; load average {os.getloadavg()[0]:.2f}")
    for name, pipelined in (("pipelined", True), ("redis-py", False)):
        cpu, wall = await measure(args.redis, args.players, args.beats, pipelined)
        print(f"{name:10} {cpu:7.2f} ms CPU per beat, {wall:7.2f} ms wall")
    return 0


if __name__ == "__main__":
    parser = redis_script_parser(__doc__, "5 beats")
    parser.add_argument("--players", type=int, default=9000, help="players held (default 9000)")
    parser.add_argument("--beats", type=int, default=40, help="beats timed (default 40)")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.beats = min(arguments.beats, 5)
    if not 1 <= arguments.players <= 100_000 or not 1 <= arguments.beats <= 1000:
        parser.error("--players must be 1-100000 and --beats 1-1000")
    sys.exit(run(main(arguments), not arguments.no_uvloop))
