"""``weirsoe worker`` as a process: what it imports, and how it obeys SIGTERM.

Import time is recorded (printed and appended to artifacts/figures.jsonl), never asserted.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid

import pytest
import redis
from _env import REDIS_URL, redis_unreachable

FULL = os.environ.get("WEIRSOE_FULL_FAULTS") == "1"
HEAVY = ("litestar", "sqlalchemy", "alembic", "uvicorn", "aiosqlite", "asyncpg")


def report(name: str, **figures: object) -> None:
    line = ", ".join(f"{k}={v}" for k, v in figures.items())
    print(f"\n[figures] {name}: {line}")
    os.makedirs("artifacts", exist_ok=True)
    with open("artifacts/figures.jsonl", "a") as f:
        f.write(json.dumps({"test": name, "full": FULL, **figures}) + "\n")


_PROBE = """
import json, sys, time
start = time.perf_counter()
from weirsoe_platform.cli import build_parser
from weirsoe_platform import worker
from weirsoe_platform.config import PlatformSettings
worker.build_worker(PlatformSettings(redis_url="redis://127.0.0.1:1/0"))
took = time.perf_counter() - start
print(json.dumps({"took": took, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_the_worker_imports_only_what_firing_timers_needs() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    loaded = set(probe["modules"])
    assert "taskiq" in loaded  # it did build a worker
    assert "litestar" not in loaded
    assert [m for m in HEAVY if m in loaded] == []
    report("worker_import", seconds=round(probe["took"], 3), modules=len(loaded))


def test_the_embedded_server_does_not_import_redis(tmp_path) -> None:
    probe = f"""
import sys
from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.web import create_app
create_app(PlatformSettings(database_url="sqlite+aiosqlite:///{tmp_path}/e.db"))
print(sorted(m for m in sys.modules if m.split(".")[0] in ("redis", "taskiq_redis")))
"""
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_worker_exits_soon_after_sigterm_at_any_point_of_its_life() -> None:
    """20 starts, each sent SIGTERM at a random moment: while importing, while connecting,
    or while running (after its heartbeat is in Redis). Exit times are recorded."""
    reason = redis_unreachable()
    if reason:
        pytest.skip(reason)
    starts = 20
    rng = random.Random(os.environ.get("WEIRSOE_SEED", "13"))
    prefix = f"wtest-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "WEIRSOE_REDIS_PREFIX": prefix}
    client = redis.Redis.from_url(REDIS_URL)
    exits: list[float] = []
    phases: list[str] = []
    batch = 5
    for first in range(0, starts, batch):
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "weirsoe_platform.cli", "worker", "--redis", REDIS_URL],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(min(batch, starts - first))
        ]
        born = time.monotonic()
        # Half are signalled at a random point of start-up, half once running.
        plans = [rng.uniform(0.0, 2.0) if i % 2 == 0 else None for i in range(len(procs))]
        pending = dict(enumerate(procs))
        deadline = born + 120
        signalled: dict[int, float] = {}
        while pending and time.monotonic() < deadline:
            running = len(client.keys(f"{prefix}:workers:*"))
            for i, proc in list(pending.items()):
                if i in signalled:
                    if proc.poll() is not None:
                        exits.append(time.monotonic() - signalled[i])
                        phases.append("start-up" if plans[i] is not None else "running")
                        del pending[i]
                    continue
                plan = plans[i]
                due = (plan is not None and time.monotonic() - born >= plan) or (
                    plan is None and running >= 1 and time.monotonic() - born >= 0.5
                )
                if due:
                    proc.send_signal(signal.SIGTERM)
                    signalled[i] = time.monotonic()
            time.sleep(0.02)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
        assert not pending, f"{len(pending)} worker(s) still alive long after SIGTERM"
    assert len(exits) == starts
    client.delete(*client.keys(f"{prefix}:*") or [f"{prefix}:none"])
    by_phase = {
        phase: round(max(e for e, p in zip(exits, phases, strict=True) if p == phase), 2)
        for phase in set(phases)
    }
    report(
        "worker_sigterm",
        max_exit_s_by_phase=by_phase,
        starts=starts,
        max_exit_s=round(max(exits), 2),
        median_exit_s=round(sorted(exits)[len(exits) // 2], 2),
        running=phases.count("running"),
        starting=phases.count("start-up"),
    )


def test_a_worker_serves_its_metrics_on_the_metrics_port() -> None:
    reason = redis_unreachable()
    if reason:
        pytest.skip(reason)
    from _live import Worker, free_port

    port = free_port()
    prefix = f"wtest-{uuid.uuid4().hex[:10]}"
    worker = Worker(REDIS_URL, {"WEIRSOE_REDIS_PREFIX": prefix, "WEIRSOE_METRICS_PORT": str(port)})
    try:
        import httpx

        timeout = float(os.environ.get("WEIRSOE_TEST_READY_TIMEOUT", "180"))
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                time.sleep(0.2)
                continue
            if "weirsoe_worker_heartbeats_total 0.0" not in text:
                break
            time.sleep(0.2)
        assert "weirsoe_timer_lateness_seconds_bucket" in text
        beats = [
            line
            for line in text.splitlines()
            if line.startswith("weirsoe_worker_heartbeats_total ")
        ]
        assert beats
        assert float(beats[0].split()[1]) >= 1
    finally:
        worker.stop()
        client = redis.Redis.from_url(REDIS_URL)
        client.delete(*client.keys(f"{prefix}:*") or [f"{prefix}:none"])
