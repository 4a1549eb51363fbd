"""Summarise the benchmark results: targets met or not, tables, and a chart of latency
against load.

    uv run python bench/report.py [--no-docs]

Reads bench/results/{fanout,capacity,timers}.json (from bench/loadgen.py, bench/capacity.py
and bench/timers.py), prints Markdown, draws docs/performance.png, and rewrites the results
section of docs/performance.md between its ``<!-- bench:results -->`` markers. The targets are
reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from _kit import RESULTS, ROOT, md_table

DOC = ROOT / "docs" / "performance.md"
CHART = ROOT / "docs" / "performance.png"
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
COLOURS = {"raw": "#777777", "memory": "#1f77b4", "redis": "#d62728"}


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _find(fanout: dict[str, Any], server: str, kind: str, rate: float) -> dict[str, Any] | None:
    for r in fanout["rows"]:
        if r["server"] == server and r["kind"] == kind and r["rate_per_room"] == rate:
            return r
    return None


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


def chart(fanout: dict[str, Any] | None, capacity: dict[str, Any] | None) -> Path | None:
    if not fanout and not capacity:
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
    if capacity and capacity["probes"]:
        probes = sorted(
            (r for r in capacity["probes"] if r.get("p99_ms")), key=lambda r: r["rooms"]
        )
        x = [r["rooms"] for r in probes]
        right.plot(
            x, [r["p99_ms"] for r in probes], "o-", color=COLOURS[capacity["backend"]], label="p99"
        )
        right.plot(
            x,
            [r["p50_ms"] for r in probes],
            "s--",
            color=COLOURS[capacity["backend"]],
            alpha=0.6,
            label="p50",
        )
        for r in probes:
            right.annotate(
                "pass" if r["pass"] else "fail",
                (r["rooms"], r["p99_ms"]),
                fontsize=7,
                textcoords="offset points",
                xytext=(4, 4),
            )
        right.axhline(
            capacity["threshold_p99_ms"], color="black", lw=0.8, ls=":", label="p99 limit"
        )
        right.set_yscale("log")
        right.set_xlabel("rooms of 8 players playing Weirsøe Lies (one process)")
        right.set_ylabel("broadcast latency, ms")
        right.set_title(f"Capacity ({capacity['backend']})")
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


def section(
    fanout: dict[str, Any] | None, capacity: dict[str, Any] | None, timers: dict[str, Any] | None
) -> str:
    from capacity import render as render_capacity
    from loadgen import render as render_fanout

    stamp = lambda d: time.strftime("%Y-%m-%d %H:%M", time.localtime(d["when"]))  # noqa: E731
    runs = [
        f"{name} {stamp(d)}"
        for name, d in (("fan-out", fanout), ("capacity", capacity), ("timers", timers))
        if d
    ]
    out = [f"Latest runs: {', '.join(runs)}"]
    if fanout:
        m = fanout["machine"]
        out[0] += (
            f", {m['cpus']} CPUs, Python {m['python']}, load average {m['loadavg_before'][0]} "
            f"before and {m['loadavg_after'][0]} after the fan-out run"
        )
    out += ["", "### Targets", ""]
    out += md_table(["target", "limit", "measured", "verdict"], targets(fanout, capacity))
    if fanout:
        out += ["", "### Fan-out, memory and timers at load", "", render_fanout(fanout)]
    if capacity:
        out += ["", "### Capacity", "", render_capacity(capacity)]
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
    fanout, capacity, timers = _load("fanout"), _load("capacity"), _load("timers")
    text = section(fanout, capacity, timers)
    print(text)
    if args.no_docs:
        return 0
    png = chart(fanout, capacity)
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
