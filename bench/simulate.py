"""Benchmark: whole Weirsøe Lies games through the harness, in one process.

    uv run python bench/simulate.py [--games 1000] [--players 6] [--cartridge weirsoe_lies]

Leak checks and message recording are off, so this measures the runtime and the driver: every
join, lie, guess, reaction, timer and reveal goes through ``Runtime.apply`` and is encoded as
the platform would store it. Prints figures; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

from weirsoe_sdk import discover_cartridges
from weirsoe_sdk.testing import Harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=1000, help="games to play (default 1000)")
    parser.add_argument("--players", type=int, default=6, help="players per game (default 6)")
    parser.add_argument("--cartridge", default="weirsoe_lies", help="cartridge slug")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first game")
    parser.add_argument("--out", help="also write the figures as JSON (bench/report.py reads it)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()

    cartridge = discover_cartridges().get(args.cartridge)
    steps = events = 0
    start, cpu0 = time.perf_counter(), time.process_time()
    for seed in range(args.seed, args.seed + args.games):
        harness = Harness(
            cartridge, players=args.players, seed=seed, check_leaks=False, record=False
        )
        record = harness.play()
        if record.table.status != "over":
            print(f"game {seed} did not finish: {record.table.status}", file=sys.stderr)
            return 1
        steps += record.steps
        events += record.events
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu0

    print(f"cartridge      {args.cartridge} ({args.players} players)")
    print(f"python         {platform.python_implementation()} {platform.python_version()}")
    print(f"games          {args.games}")
    print(f"total seconds  {seconds:.2f} (CPU {cpu:.2f} s; load average {load_before[0]:.2f})")
    print(f"ms/game        {seconds * 1000 / args.games:.2f}")
    print(f"transitions    {steps} ({steps / seconds:,.0f}/s)")
    print(f"events         {events} ({events / seconds:,.0f}/s)")
    if args.out:
        result = {
            "when": time.time(),
            "games": args.games,
            "players": args.players,
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2),
            "transitions": steps,
            "cpu_us_per_transition": round(cpu * 1e6 / steps, 1),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        }
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
