"""Summarise the benchmark results: targets met or not, tables, and a chart of latency
against load.

    uv run python bench/report.py [--no-docs]

Reads bench/results/{fanout,capacity,capacity-redis,timers,simulate,stalled}.json (from
bench/loadgen.py, bench/capacity.py [--redis], bench/timers.py, bench/simulate.py and
bench/stalled.py), and where present capacity-redis-2.json (``--processes 2``) and
capacity-shipped.json / capacity-redis-shipped.json (``--timers default``, one probe),
capacity-browser.json / capacity-redis-browser.json (``--clients browser``) and
capacity-pairs.json and capacity-pairs-sync.json (bench/pairs.py: memory and Redis
alternated at 1,000 rooms, with browser-like clients and with the bots that sync), prints
the goals of issue 14 with a verdict per row and the tables,
draws docs/performance.png, and rewrites the results section of docs/performance.md between
its ``<!-- bench:results -->`` markers. The goals are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from _kit import RESULTS, ROOT, md_table
from pairs import render as render_pairs

DOC = ROOT / "docs" / "performance.md"
CHART = ROOT / "docs" / "performance.png"
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
COLOURS = {"raw": "#777777", "memory": "#1f77b4", "redis": "#d62728"}


EXTRA = (
    "capacity-redis-2",
    "capacity-redis-limited",
    "capacity-shipped",
    "capacity-redis-shipped",
    "capacity-browser",
    "capacity-redis-browser",
    "capacity-pairs",
    "capacity-pairs-sync",
    "raw-at-goal",
)


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _find(fanout: dict[str, Any], server: str, kind: str, rate: float) -> dict[str, Any] | None:
    for r in fanout["rows"]:
        if r["server"] == server and r["kind"] == kind and r["rate_per_room"] == rate:
            return r
    return None


def _two_vs_one(one: dict[str, Any] | None, two: dict[str, Any] | None) -> list[str]:
    """The "2 serve processes vs 1" row: both searches with each process capped at the same
    CPU budget (``capacity.py --cpu-limit``), since on a 2-core machine two uncapped servers,
    Redis and the load generator share the same cores."""
    head = ["2 serve processes vs 1", ">= 1.8x the rooms"]
    for result in (one, two):
        if result is not None and result.get("skipped"):
            return [*head, f"not measured: {result['skipped']}", "not measured"]
    if not one or not two:
        return [*head, "not measured", "not measured"]
    one_rooms, two_rooms = one["capacity_rooms"] or 0, two["capacity_rooms"] or 0
    ratio = two_rooms / one_rooms if one_rooms else None
    cap = two.get("cpu_limit")
    first = [r["rooms"] for r in two["probes"] if not r.get("pass")]
    text = (
        f"{two_rooms} rooms on 2 vs {one_rooms} on 1 (Redis, timers x3"
        + (f", each process capped at {cap:g} CPU" if cap else "")
        + ")"
        + (f" = {ratio:.2f}x" if ratio is not None else "")
        + (f"; 2 failed at {min(first)}" if first else "; 2 did not fail within the search")
        + f"; load {two.get('loadavg', ['?'])[0]}"
    )
    return [*head, text, _verdict(ratio, 1.8, at_least=True)]


def _pairs_verdict(pairs: tuple[str, int, int], clients: str, shipped: bool) -> str:
    """The verdict of a capacity goal from alternated probes at 1,000 rooms: met when every
    probe passed, at the edge when some did."""
    _, passed, probes = pairs
    who = "browser-like clients" if clients == "browser" else "bots that sync every action"
    also = ", and with the shipped timers" if shipped else ""
    if passed == probes:
        return f"**met with {who}** at timers x3 ({passed} of {probes} probes){also}"
    if passed:
        return f"**at the edge with {who}**: {passed} of {probes} probes passed at timers x3{also}"
    return f"**not met** with {who}: none of {probes} probes passed at timers x3{also}"


def _with_sync_pairs(verdict: str, pairs: tuple[str, int, int]) -> str:
    """A capacity verdict with the alternated probes of the bots that sync before every action
    (``bench/pairs.py --clients sync``) at 1,000 rooms: met outright where every one passed,
    since that load is the stricter one; otherwise what they found follows the verdict."""
    _, passed, probes = pairs
    if passed == probes:
        return (
            f"**met** with bots that sync every action ({passed} of {probes} probes at timers x3)"
        )
    return _followed(verdict, _pairs_verdict(pairs, "sync", False))


def _followed(verdict: str, more: str) -> str:
    """``verdict`` followed by ``more``, or ``more`` alone where the verdict says nothing."""
    return more if verdict in ("**not met**", "not measured") else f"{verdict}; {more}"


def _verdict(value: float | None, limit: float, *, at_least: bool = False) -> str:
    if value is None:
        return "not measured"
    ok = value >= limit if at_least else value <= limit
    return "**met**" if ok else "**not met**"


def targets(fanout: dict[str, Any] | None, capacity: dict[str, Any] | None) -> list[list[Any]]:
    rows: list[list[Any]] = []
    if fanout:
        base = fanout["params"]["rates"][0]
        p = fanout["params"]
        load = f"{p['rooms']} rooms x {1 + p['players']}, {base:g}/room/s"
        for server, limit in (("memory", 2.0), ("redis", 2.5)):
            r = _find(fanout, server, "tick", base)
            ratio = r.get("cpu_us_per_msg_x_raw") if r else None
            others = [
                x.get("cpu_us_per_msg_x_raw")
                for x in fanout["rows"]
                if x["server"] == server and x["kind"] == "tick" and x.get("cpu_us_per_msg_x_raw")
            ]
            span = f" (all tick rates: {min(others):g}-{max(others):g}x)" if others else ""
            rows.append(
                [
                    f"server CPU per delivered message, {server}",
                    f"<= {limit:g}x raw",
                    f"{ratio}x ({r['cpu_us_per_msg']} vs "
                    f"{_find(fanout, 'raw', 'tick', base)['cpu_us_per_msg']} µs) at {load}{span}"  # type: ignore[index]
                    if r
                    else "-",
                    _verdict(ratio, limit),
                ]
            )
        for server in ("memory", "redis"):
            r = _find(fanout, server, "tick", base)
            raw = _find(fanout, "raw", "tick", base)
            ratio = r.get("p99_ms_x_raw") if r else None
            rows.append(
                [
                    f"broadcast p99, {server}",
                    "<= 2x raw at 200 rooms x 8, 1/room/s",
                    f"{ratio}x ({r['p99_ms']} vs {raw['p99_ms']} ms) at {load}"
                    if r and raw
                    else "-",
                    _verdict(ratio, 2.0),
                ]
            )
        for server, m in fanout["memory"].items():
            if server == "raw":
                continue
            rows.append(
                [
                    f"RSS per idle socket, {server}",
                    "<= 32 KiB",
                    f"{m['kib_per_socket']} KiB (second half of {m['sockets']} sockets; "
                    f"{m['kib_per_socket_all']} KiB over all; "
                    f"raw {fanout['memory']['raw']['kib_per_socket']} KiB)",
                    _verdict(m["kib_per_socket"], 32),
                ]
            )
        for server in ("memory", "redis"):
            r = _find(fanout, server, "beat", 1.0)
            if r is None:
                continue
            ok = r["late_p99_ms"] is not None and r["late_p99_ms"] <= 20 and r["late_max_ms"] <= 100
            rows.append(
                [
                    f"timer lateness at that load, {server}",
                    "p99 <= 20 ms, max <= 100 ms",
                    f"p99 {r['late_p99_ms']} ms, max {r['late_max_ms']} ms ({r['fired']} firings, "
                    f"{fanout['params']['rooms']} rooms x 1/s, with the sockets)",
                    "**met**" if ok else "**not met**",
                ]
            )
    if capacity:
        cap = capacity["capacity_rooms"]
        fail = capacity["first_failure_rooms"]
        rows.append(
            [
                f"capacity, {capacity['backend']}",
                ">= 1,000 rooms x 8 players at p99 <= 50 ms",
                f"{cap if cap is not None else 0} rooms passed"
                + (f", {fail} failed" if fail else ", no failure within the limits"),
                _verdict(cap or 0, 1000, at_least=True),
            ]
        )
    return rows


def _best_passing(capacity: dict[str, Any] | None) -> dict[str, Any] | None:
    if not capacity:
        return None
    passed = [r for r in capacity["probes"] if r.get("pass")]
    return max(passed, key=lambda r: r["rooms"]) if passed else None


def _cpu_per_room(capacity: dict[str, Any] | None, rooms: int) -> float | None:
    for r in (capacity or {}).get("probes", []):
        if r["rooms"] == rooms and r.get("server_cpu_pct") is not None:
            return float(r["server_cpu_pct"]) / rooms
    return None


def _common_rooms(a: dict[str, Any], b: dict[str, Any]) -> int | None:
    """The most rooms both capacity searches probed and passed (else any both probed): where
    their CPU per room compares under the same load."""
    probed = [{r["rooms"]: bool(r.get("pass")) for r in c.get("probes", [])} for c in (a, b)]
    both = set(probed[0]) & set(probed[1])
    passed = [n for n in both if probed[0][n] and probed[1][n]]
    return max(passed or both, default=None)


def _pairs(c: dict[str, Any] | None, backend: str) -> tuple[str, int, int] | None:
    """The alternated single probes at one room count (``bench/pairs.py``) of ``backend``:
    ``(text, passed, probes)``, or None where they did not run or reached fewer than 1,000
    rooms (``--quick``)."""
    if not c or c.get("rooms", 0) < 1000 or not c.get("summary"):
        return None
    s = c["summary"][backend]
    if not s["probes"]:
        return None
    text = (
        f"alternated single probes at {c['rooms']} rooms ({c['clients']} clients): "
        f"{s['passed']} of {s['probes']} passed"
        + (f", {s['not_measured']} not measured" if s["not_measured"] else "")
        + f", CPU per transition median {s['cpu_us_per_transition_median']} µs"
    )
    return text, s["passed"], s["probes"]


def _shipped(c: dict[str, Any] | None) -> tuple[str, bool] | None:
    """The one probe with the phase timers as shipped (``--timers default``), if run."""
    probe = (c or {}).get("probes", [None])[0] if c else None
    if not probe:
        return None
    ok = bool(probe.get("pass"))
    return (
        f"as shipped: {probe['rooms']} rooms {'pass' if ok else 'FAIL'} (p99 "
        f"{probe.get('p99_ms')} ms, {probe.get('per_room_per_s')} deliveries/room/s, server CPU "
        f"{probe.get('server_cpu_pct')}%)",
        ok and probe["rooms"] >= 1000,
    )


def _raw_at_goal(raw: dict[str, Any] | None) -> str | None:
    """The raw server alone at the deliveries 1,000 rooms of the capacity probe get (nox's
    ``_raw_at_goal``): its share of a core, a floor under any server's on this machine."""
    row = next((r for r in (raw or {}).get("rows", []) if r.get("kind") == "tick"), None)
    if not row or row.get("server_cpu_pct") is None:
        return None
    return (
        f"the raw server alone, at the deliveries of 1,000 rooms "
        f"({row['delivered_per_s']}/s; its ticks only: no game, no syncs, no snapshots): "
        f"{row['server_cpu_pct']}% of a core ({row['cpu_us_per_msg']} µs per message)"
    )


def goals(
    fanout: dict[str, Any] | None,
    memory: dict[str, Any] | None,
    redis: dict[str, Any] | None,
    timers: dict[str, Any] | None,
    simulate: dict[str, Any] | None,
    stalled: dict[str, Any] | None,
    extra: dict[str, dict[str, Any] | None] | None = None,
) -> list[list[Any]]:
    """Issue 14's goals table: figure, goal, measured, verdict."""
    rows: list[list[Any]] = []
    extra = extra or {}

    def cap_text(c: dict[str, Any] | None) -> tuple[str, int | None]:
        if not c:
            return "not measured", None
        best = _best_passing(c)
        worst = c["first_failure_rooms"]
        load = c.get("loadavg", ["?"])[0]
        text = f"{c['capacity_rooms'] or 0} passed" + (
            f", {worst} failed" if worst else " (no failure within the time budget)"
        )
        if best:
            # the bots' action round trip: the pass criterion is the deliveries' p99 only, and
            # a saturated server keeps that while actions wait (docs/performance.md, section 29)
            text += (
                f" (server CPU {best.get('server_cpu_pct')}%, waiting for a CPU "
                f"{best.get('server_runq_wait_pct', '-')}%, action round trip p99 "
                f"{best.get('action_rtt_p99_ms', '-')} ms)"
            )
        return text + f"; load {load}", c["capacity_rooms"] or 0

    text, mem_rooms = cap_text(memory)
    verdict = _verdict(mem_rooms, 1000, at_least=True) if memory else "not measured"
    shipped = _shipped(extra.get("capacity-shipped"))
    if shipped:
        text = f"timers x3: {text}; {shipped[0]}"
        if shipped[1] and verdict != "**met**":
            verdict = "**met with the shipped timers**, not with timers x3"
    # the searches with the bots playing as the phones' client does (``--clients browser``)
    browser = cap_text(extra["capacity-browser"]) if extra.get("capacity-browser") else None
    if browser:
        text += f"; browser-like clients, timers x3: {browser[0]}"
        if (browser[1] or 0) >= 1000 and mem_rooms is not None and mem_rooms < 1000:
            also = ", and with the shipped timers" if shipped and shipped[1] else ""
            verdict = (
                f"**met with browser-like clients** at timers x3{also}; "
                "not with bots that sync before every action"
            )
    # the alternated probes at 1,000 rooms decide the browser-like verdict where they ran: a
    # search probes 1,000 rooms once, and passes or fails there by the spread between runs
    pairs = extra.get("capacity-pairs")
    mem_pairs = _pairs(pairs, "memory")
    if mem_pairs and pairs:
        text += f"; {mem_pairs[0]}"
        if mem_rooms is None or mem_rooms < 1000:
            verdict = _pairs_verdict(
                mem_pairs, pairs["clients"], shipped is not None and shipped[1]
            )
    # the same alternated probes with the bots that sync before every action: where every
    # one passed, the goal is met with the stricter load; otherwise they say how near it is,
    # also after a search that passed 1,000 rooms once with those bots
    sync_pairs = extra.get("capacity-pairs-sync")
    mem_sync = _pairs(sync_pairs, "memory")
    if mem_sync:
        text += f"; {mem_sync[0]}"
        verdict = _with_sync_pairs(verdict, mem_sync)
    raw_floor = _raw_at_goal(extra.get("raw-at-goal"))
    if raw_floor:
        text += f"; {raw_floor}"
    rows.append(
        [
            "rooms x 8 per process, memory, p99 <= 50 ms (broadcasts and action round trips)",
            ">= 1,000",
            text,
            verdict,
        ]
    )
    text, redis_rooms = cap_text(redis)
    verdict = "not measured"
    cpu_ok = False
    if redis and memory:
        share = (redis_rooms or 0) / mem_rooms if mem_rooms else 0.0
        start = _common_rooms(memory, redis) or 0
        cm, cr = _cpu_per_room(memory, start), _cpu_per_room(redis, start)
        cpu_ok = cm is not None and cr is not None and cr <= cm * 1.25
        text += f"; {100 * share:.0f}% of memory"
        if cm is not None and cr is not None:
            text += f"; CPU per room at {start} rooms {cr / cm:.2f}x memory"
        ok = (redis_rooms or 0) >= 1000 and share >= 0.8 and cpu_ok
        verdict = "**met**" if ok else "**not met**"
    shipped = _shipped(extra.get("capacity-redis-shipped"))
    if shipped:
        text = f"timers x3: {text}; {shipped[0]}"
    redis_browser = extra.get("capacity-redis-browser")
    browser_redis = cap_text(redis_browser) if redis_browser else None
    if browser_redis:
        text += f"; browser-like clients, timers x3: {browser_redis[0]}"
        if browser and browser[1]:
            share = (browser_redis[1] or 0) / browser[1]
            text += f" ({100 * share:.0f}% of memory's)"
            if (browser_redis[1] or 0) >= 1000 and share >= 0.8 and cpu_ok and verdict != "**met**":
                verdict = "**met with browser-like clients**, not with bots that sync every action"
    redis_pairs = _pairs(pairs, "redis")
    if redis_pairs and pairs:
        ratio = pairs["summary"]["redis_cpu_x_memory_median"]
        ratios = pairs["summary"]["redis_cpu_x_memory"]
        text += f"; {redis_pairs[0]}"
        if ratio is not None:
            text += f"; CPU per transition x memory, pair by pair: {', '.join(map(str, ratios))}"
        # >= 80 % of memory: the browser-like searches, where both ran (capped at 1,000)
        share_ok = True
        if browser and browser_redis and browser[1]:
            share_ok = (browser_redis[1] or 0) >= 0.8 * browser[1]
        # met with the bots that sync every action: the pairs only add figures
        if verdict != "**met**":
            if ratio is None or ratio > 1.25:
                verdict = "**not met** (CPU per transition over memory + 25 %)"
            elif not share_ok:
                verdict = "**not met** (under 80 % of memory in the browser-like searches)"
            else:
                verdict = _pairs_verdict(redis_pairs, pairs["clients"], False)
    # as for memory: also after a search that passed 1,000 rooms once with those bots
    redis_sync = _pairs(sync_pairs, "redis")
    if redis_sync and sync_pairs:
        ratio = sync_pairs["summary"]["redis_cpu_x_memory_median"]
        text += f"; {redis_sync[0]}"
        if ratio is not None:
            text += f", CPU per transition x memory, median {ratio}"
        if ratio is None or ratio > 1.25:  # a pass there would not meet the goal
            over = "CPU per transition over memory + 25 %"
            verdict = _followed(verdict, f"**not met** with bots that sync every action ({over})")
        else:
            verdict = _with_sync_pairs(verdict, redis_sync)
    rows.append(
        [
            "rooms x 8 per serve process, Redis, p99 <= 50 ms (broadcasts and action round trips)",
            ">= 1,000, >= 80% of memory, CPU/room <= memory + 25%",
            text,
            verdict,
        ]
    )
    for server, limit in (("redis", 2.0), ("memory", 1.5)):
        # Ticks (player actions) and timer beats (deadline firings): the issue counts both.
        ratios = [
            (r["kind"], r["rate_per_room"], r.get("cpu_us_per_msg_x_raw"))
            for r in (fanout or {}).get("rows", [])
            if r["server"] == server and r.get("cpu_us_per_msg_x_raw")
        ]
        worst = max((x for _, _, x in ratios), default=None)
        rows.append(
            [
                f"CPU per delivered message, {server}, x raw",
                f"<= {limit:g}",
                ", ".join(
                    f"{x}x at {rate:g} {'tick' if kind == 'tick' else 'timer beat'}/room/s"
                    for kind, rate, x in ratios
                )
                or "not measured",
                _verdict(worst, limit),
            ]
        )
    r8 = _find(fanout, "redis", "tick", 8.0) if fanout else None
    raw8 = _find(fanout, "raw", "tick", 8.0) if fanout else None
    if r8 and raw8:
        ok = r8["loss_pct"] == 0 and r8["p99_ms"] <= 3 * raw8["p99_ms"]
        text = (
            f"loss {r8['loss_pct']}%, p99 {r8['p99_ms']} ms vs raw {raw8['p99_ms']} ms "
            f"({r8.get('p99_ms_x_raw')}x)"
        )
        rows.append(
            [
                "Redis at 8 ticks/room/s",
                "0 loss, p99 <= 3x raw",
                text,
                "**met**" if ok else "**not met**",
            ]
        )
    else:
        rows.append(
            ["Redis at 8 ticks/room/s", "0 loss, p99 <= 3x raw", "not measured", "not measured"]
        )
    burst = None
    for r in (timers or {}).get("rows", []):
        if r["load"].startswith("burst") and r["path"].startswith("Redis"):
            burst = r
    rows.append(
        [
            "Redis timer burst, 1,000 deadlines in ~1 s",
            "p99 <= 100 ms",
            f"p99 {burst.get('p99_ms')} ms ({burst.get('fired')} of {burst['rooms']} fired)"
            if burst
            else "not measured",
            _verdict(burst.get("p99_ms") if burst else None, 100),
        ]
    )
    if simulate:
        per_1000 = simulate["seconds"] * 1000 / simulate["games"]
        cpu_1000 = simulate["cpu_seconds"] * 1000 / simulate["games"]
        text = (
            f"{per_1000:.1f} s wall, {cpu_1000:.1f} s CPU per 1,000 games "
            f"({simulate['cpu_us_per_transition']} µs CPU per transition); "
            f"load {simulate['loadavg_before'][0]}"
        )
        rows.append(
            [
                "1,000 simulated six-player games",
                "< 10 s (quiet machine)",
                text,
                _verdict(cpu_1000, 10),
            ]
        )
    else:
        rows.append(
            [
                "1,000 simulated six-player games",
                "< 10 s (quiet machine)",
                "not measured",
                "not measured",
            ]
        )
    rows.append(_two_vs_one(extra.get("capacity-redis-limited"), extra.get("capacity-redis-2")))
    if stalled:
        p = stalled["params"]
        text = (
            f"RSS {stalled['rss_start_mib']} -> peak {stalled['rss_peak_mib']} MiB with "
            f"{p['stalled']} stalled sockets, {p['rate']:g} x {p['pad']} B events/s for "
            f"{p['seconds']:g} s (all queued would be {stalled['unbounded_estimate_mib']} MiB)"
        )
        # Bounded: RSS stops growing once the backlogs are full (second half of the run).
        half = [m for t, m in stalled["samples"] if t >= p["seconds"] / 2]
        late = round(half[-1] - half[0], 1) if half else None
        text += f"; growth over the second half {late} MiB"
        rows.append(
            [
                "memory with stalled clients",
                "bounded (RSS stops growing)",
                text,
                _verdict(late, 2.0),
            ]
        )
    return rows


def chart(fanout: dict[str, Any] | None, capacities: list[dict[str, Any]]) -> Path | None:
    if not fanout and not capacities:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    if fanout:
        for server in ("raw", "memory", "redis"):
            rows = sorted(
                (r for r in fanout["rows"] if r["server"] == server and r["kind"] == "tick"),
                key=lambda r: r["offered_per_s"],
            )
            if not rows:
                continue
            x = [r["offered_per_s"] for r in rows]
            c = COLOURS[server]
            left.plot(x, [r["p99_ms"] for r in rows], "o-", color=c, label=f"{server} p99")
            left.plot(
                x, [r["p50_ms"] for r in rows], "s--", color=c, alpha=0.6, label=f"{server} p50"
            )
        left.axhline(50, color="black", lw=0.8, ls=":")
        left.set_xscale("log")
        left.set_yscale("log")
        left.set_xlabel("offered broadcast deliveries per second")
        left.set_ylabel("server ts -> client receipt, ms")
        p = fanout["params"]
        left.set_title(f"Fan-out, {p['rooms']} rooms x {1 + p['players']} sockets")
        left.legend(fontsize=8)
        left.grid(True, which="both", alpha=0.3)
    for capacity in capacities:
        probes = sorted(
            (r for r in capacity["probes"] if r.get("p99_ms")), key=lambda r: r["rooms"]
        )
        if not probes:
            continue
        c = COLOURS[capacity["backend"]]
        x = [r["rooms"] for r in probes]
        right.plot(
            x, [r["p99_ms"] for r in probes], "o-", color=c, label=f"{capacity['backend']} p99"
        )
        right.plot(
            x,
            [r["p50_ms"] for r in probes],
            "s--",
            color=c,
            alpha=0.6,
            label=f"{capacity['backend']} p50",
        )
        for r in probes:
            right.annotate(
                "pass" if r["pass"] else "fail",
                (r["rooms"], r["p99_ms"]),
                fontsize=7,
                textcoords="offset points",
                xytext=(4, 4),
            )
    if capacities:
        right.axhline(50, color="black", lw=0.8, ls=":", label="p99 limit")
        right.set_yscale("log")
        right.set_xlabel("rooms of 8 players playing Weirsøe Lies (one process)")
        right.set_ylabel("broadcast latency, ms")
        right.set_title("Capacity, memory and Redis (raw: left; it cannot play)")
        right.legend(fontsize=8)
        right.grid(True, which="both", alpha=0.3)
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for ax in (left, right):
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    fig.suptitle(time.strftime("Weirsøe benchmarks, %Y-%m-%d %H:%M", time.localtime()), fontsize=10)
    fig.tight_layout()
    fig.savefig(CHART, dpi=110)
    plt.close(fig)
    return CHART


def section(res: dict[str, dict[str, Any] | None]) -> str:
    from capacity import render as render_capacity
    from loadgen import render as render_fanout
    from stalled import render as render_stalled

    fanout, capacity, timers = res["fanout"], res["capacity"], res["timers"]
    stamp = lambda d: time.strftime("%Y-%m-%d %H:%M", time.localtime(d["when"]))  # noqa: E731
    runs = [f"{name} {stamp(d)}" for name, d in res.items() if d]
    out = [f"Latest runs: {', '.join(runs)}"]
    if fanout:
        m = fanout["machine"]
        out[0] += (
            f", {m['cpus']} CPUs, Python {m['python']}, load average {m['loadavg_before'][0]} "
            f"before and {m['loadavg_after'][0]} after the fan-out run"
        )
        server = m.get("server_python")
        if server:
            out[0] += f"; the servers on Python {server['version']} ({server['binary']})"
    out += ["", "### Goals (issue 14)", ""]
    out += md_table(
        ["figure", "goal", "measured", "verdict"],
        goals(
            fanout,
            capacity,
            res["capacity-redis"],
            timers,
            res["simulate"],
            res["stalled"],
            {k: res.get(k) for k in EXTRA},
        ),
    )
    out += ["", "### Targets (issue 8)", ""]
    out += md_table(["target", "limit", "measured", "verdict"], targets(fanout, capacity))
    if fanout:
        out += ["", "### Fan-out, memory and timers at load", "", render_fanout(fanout)]
    for name, title in (
        ("capacity", "memory"),
        ("capacity-redis", "redis"),
        ("capacity-redis-limited", "redis, 1 serve process capped at a CPU budget"),
        ("capacity-redis-2", "redis, 2 serve processes, each capped at the same budget"),
        ("capacity-shipped", "memory, phase timers as shipped"),
        ("capacity-redis-shipped", "redis, phase timers as shipped"),
        ("capacity-browser", "memory, browser-like clients"),
        ("capacity-redis-browser", "redis, browser-like clients"),
    ):
        found = res.get(name)
        if found and found.get("skipped"):
            out += ["", f"### Capacity ({title})", "", f"Not measured: {found['skipped']}."]
        elif found:
            out += ["", f"### Capacity ({title})", "", render_capacity(found)]
    for name in ("capacity-pairs", "capacity-pairs-sync"):
        pairs = res.get(name)
        if pairs and pairs.get("pairs"):
            title = (
                f"memory and Redis alternated at {pairs['rooms']} rooms, {pairs['clients']} clients"
            )
            out += ["", f"### Capacity ({title}; bench/pairs.py)", "", render_pairs(pairs)]
    if res["stalled"]:
        out += ["", "### Stalled clients (bench/stalled.py)", "", render_stalled(res["stalled"])]
    if timers:
        out += ["", "### Timer lateness without sockets (bench/timers.py)", ""]
        out += md_table(
            ["load", "path", "rooms", "fired", "p50 ms", "p99 ms", "max ms"],
            [
                [
                    r["load"],
                    r["path"],
                    r["rooms"],
                    r.get("fired"),
                    r.get("p50_ms"),
                    r.get("p99_ms"),
                    r.get("max_ms", r.get("error")),
                ]
                for r in timers["rows"]
            ],
        )
    out += ["", "![latency against load](performance.png)"]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-docs", dest="no_docs", action="store_true", help="print only")
    args = parser.parse_args(argv)
    names = ("fanout", "capacity", "capacity-redis", "timers", "simulate", "stalled", *EXTRA)
    res = {name: _load(name) for name in names}
    text = section(res)
    print(text)
    if args.no_docs:
        return 0
    png = chart(res["fanout"], [c for c in (res["capacity"], res["capacity-redis"]) if c])
    if png:
        print(f"\nwrote {png}")
    if DOC.exists():
        doc = DOC.read_text()
        if BEGIN in doc and END in doc:
            head, rest = doc.split(BEGIN, 1)
            tail = rest.split(END, 1)[1]
            DOC.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
            print(f"updated {DOC}")
        else:
            print(f"{DOC} has no {BEGIN} marker: not updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
