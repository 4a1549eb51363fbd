"""Memory and Redis at one room count, in alternated single probes: how often each passes,
and what a transition costs the Redis server against the memory server probed just before
or after it.

    uv run --group bench python bench/pairs.py [--rooms 1000] [--pairs 3]
        [--clients browser] [--timers fast] [--redis-url URL] [--redis-variant NAME]
        [--out bench/results/capacity-pairs.json]

Each pair is one probe of ``bench/capacity.py --max-probes 1`` per backend, run back to back;
the order flips from one pair to the next (memory first, then Redis first), so that a drift
of the machine over the run weighs on both alike. A single probe at the edge of capacity
passes or fails by the spread between runs (docs/performance.md, section 68), and a search
takes one probe per room count, so a search's verdict at 1,000 rooms rests on one run; the
pairs give the pass count at that room count instead, and the CPU per transition of both
backends measured minutes apart under the same load.

``--redis-variant NAME`` adds a third probe to each pair: the Redis server as
``bench/variants/NAME.py`` runs it (``redis+NAME``), in the same rotation, for a lever's
before and after beside memory in one run.

A probe that fails to run (its script exits with an error or is cut off) is recorded as not
measured and counts as neither a pass nor a failure. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _kit import BENCH, RESULTS, md_table

BACKENDS = ("memory", "redis")


def _cpu_per_transition(probe: dict[str, Any]) -> float | None:
    """µs of server CPU per committed transition (the probe's window)."""
    cpu, rate = probe.get("server_cpu_pct"), probe.get("transitions_per_s")
    if not cpu or not rate:
        return None
    return round(cpu / 100 * 1e6 / rate, 1)


def _probe(backend: str, args: argparse.Namespace, timeout: float) -> dict[str, Any]:
    """One probe of ``capacity.py`` at ``args.rooms``: its probe record, or ``{"error"}``.
    ``backend``: ``memory``, ``redis`` or ``redis+VARIANT``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "probe.json"
        cmd = [sys.executable, str(BENCH / "capacity.py"), "--uvloop"]
        cmd += ["--start", str(args.rooms), "--max-rooms", str(args.rooms), "--max-probes", "1"]
        cmd += ["--clients", args.clients, "--timers", args.timers, "--out", str(out)]
        if backend.startswith("redis"):
            cmd += ["--redis"] + (["--redis-url", args.redis_url] if args.redis_url else [])
        if "+" in backend:
            cmd += ["--variant", backend.split("+", 1)[1]]
        started = time.monotonic()
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"cut off after {timeout:g} s"}
        if done.returncode != 0 or not out.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return {"error": f"exit {done.returncode}: {tail[0][:200]}"}
        result = json.loads(out.read_text())
    if result.get("skipped"):
        return {"error": f"skipped: {result['skipped']}"}
    probes = result.get("probes") or []
    if not probes:
        return {"error": "no probe ran"}
    probe = dict(probes[0])
    probe["cpu_us_per_transition"] = _cpu_per_transition(probe)
    probe["probe_wall_s"] = round(time.monotonic() - started, 1)
    return probe


def summary(
    pairs: list[dict[str, dict[str, Any]]], backends: tuple[str, ...] = BACKENDS
) -> dict[str, Any]:
    """Pass counts per backend and Redis's CPU per transition against memory's, pair by pair
    (``redis_cpu_x_memory``; a variant's as ``redis+NAME_cpu_x_memory``)."""
    out: dict[str, Any] = {}
    for backend in backends:
        probes = [p[backend] for p in pairs if "error" not in p[backend]]
        costs = [c for p in probes if (c := p.get("cpu_us_per_transition")) is not None]
        out[backend] = {
            "probes": len(probes),
            "passed": sum(1 for p in probes if p.get("pass")),
            "not_measured": sum(1 for p in pairs if "error" in p[backend]),
            "cpu_us_per_transition": costs,
            "cpu_us_per_transition_median": round(statistics.median(costs), 1) if costs else None,
        }
    for redis in backends[1:]:
        ratios = []
        for pair in pairs:
            m, r = (pair[b].get("cpu_us_per_transition") for b in ("memory", redis))
            if m and r:
                ratios.append(round(r / m, 3))
        out[f"{redis}_cpu_x_memory"] = ratios
        out[f"{redis}_cpu_x_memory_median"] = (
            round(statistics.median(ratios), 3) if ratios else None
        )
    return out


def render(result: dict[str, Any]) -> str:
    """The probes as a markdown table, pair by pair."""
    rows = []
    for i, pair in enumerate(result["pairs"], 1):
        for backend in pair["order"]:
            p = pair[backend]
            if "error" in p:
                rows.append([i, backend, "-", "-", "-", "-", "-", "-", p["error"]])
                continue
            rows.append(
                [
                    i,
                    backend,
                    p.get("p99_ms"),
                    p.get("action_rtt_p99_ms"),
                    p.get("server_cpu_pct"),
                    p.get("transitions_per_s"),
                    p.get("cpu_us_per_transition"),
                    (p.get("loadavg") or ["?"])[0],
                    "pass" if p.get("pass") else "FAIL",
                ]
            )
    head = [
        "pair",
        "backend",
        "p99 ms",
        "action RTT p99 ms",
        "server CPU %",
        "transitions/s",
        "µs CPU per transition",
        "load 1 min",
        "result",
    ]
    return "\n".join(md_table(head, rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--clients", choices=["sync", "browser"], default="browser")
    parser.add_argument("--timers", choices=["fast", "default"], default="fast")
    parser.add_argument(
        "--probe-timeout", type=float, default=150.0, help="seconds before a probe is cut off"
    )
    parser.add_argument(
        "--redis-url",
        dest="redis_url",
        help="the Redis the Redis probes use (capacity.py's default if not given), e.g. "
        "unix:///run/redis/redis.sock for one on this machine's Unix socket",
    )
    parser.add_argument(
        "--redis-variant",
        dest="redis_variant",
        help="also probe the Redis server as bench/variants/NAME.py runs it, in each pair",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "capacity-pairs.json")
    args = parser.parse_args(argv)
    if args.rooms < 1 or args.pairs < 1:
        parser.error("--rooms and --pairs must be at least 1")
    backends = BACKENDS
    if args.redis_variant:
        if not (BENCH / "variants" / f"{args.redis_variant}.py").is_file():
            parser.error(f"no bench/variants/{args.redis_variant}.py")
        backends = (*BACKENDS, f"redis+{args.redis_variant}")
    started = time.time()
    pairs: list[dict[str, Any]] = []
    for i in range(args.pairs):
        # Rotated, so that each backend goes first, last and between over the pairs.
        shift = i % len(backends)
        order = backends[shift:] + backends[:shift]
        pair: dict[str, Any] = {"order": list(order)}
        for backend in order:
            print(f"  pair {i + 1}: {backend} at {args.rooms} rooms ...", file=sys.stderr)
            pair[backend] = _probe(backend, args, args.probe_timeout)
            p = pair[backend]
            said = p.get("error") or (
                f"p99 {p.get('p99_ms')} ms, action round trip p99 {p.get('action_rtt_p99_ms')} ms,"
                f" {p.get('cpu_us_per_transition')} µs CPU per transition, "
                + ("pass" if p.get("pass") else "FAIL")
            )
            print(f"    {said}", file=sys.stderr, flush=True)
        pairs.append(pair)
    result = {
        "when": started,
        "seconds": round(time.time() - started, 1),
        "rooms": args.rooms,
        "clients": args.clients,
        "timers": args.timers,
        "redis_url": args.redis_url,
        "loadavg": list(os.getloadavg()),
        "pairs": pairs,
        "summary": summary(pairs, backends),
    }
    s = result["summary"]
    print(render(result))
    print()
    for backend in backends:
        b = s[backend]
        print(
            f"{backend}: {b['passed']} of {b['probes']} probes passed at {args.rooms} rooms"
            f" ({args.clients} clients, timers {args.timers}); CPU per transition median "
            f"{b['cpu_us_per_transition_median']} µs"
        )
    for redis in backends[1:]:
        print(f"{redis} CPU per transition x memory, pair by pair: {s[f'{redis}_cpu_x_memory']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out} ({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
