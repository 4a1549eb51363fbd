"""Shared pieces of the socket benchmarks: server processes, their CPU and memory, room set-up
over REST, client sockets and percentiles. Loopback only; every wait is bounded in time."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
REDIS_URL = os.environ.get("WEIRSOE_BENCH_REDIS", "redis://127.0.0.1:6379/0")
# The interpreter the servers (ours and the raw baseline) run on; the load generator stays
# on this one. For comparing Python versions: a venv of the workspace built with another
# Python (docs/performance.md, section 66).
SERVER_PYTHON = os.environ.get("WEIRSOE_BENCH_SERVER_PYTHON") or sys.executable


def server_python() -> dict[str, str]:
    """The servers' interpreter, for the results: its version and the binary it resolves to
    (a distribution's build and a default pyenv build of the same version differ by 10-20 %
    of CPU here: docs/performance.md, section 66)."""
    code = "import platform, sys; print(platform.python_version(), sys.executable)"
    try:
        cmd = [SERVER_PYTHON, "-c", code]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        version, _, executable = out.stdout.strip().partition(" ")
    except (OSError, subprocess.SubprocessError):
        version, executable = "unknown", SERVER_PYTHON
    return {"version": version, "binary": os.path.realpath(executable or SERVER_PYTHON)}


NAMES = [
    "Alice",
    "Bruno",
    "Chloe",
    "Dmitri",
    "Esther",
    "Farouk",
    "Greta",
    "Hiroshi",
    "Ingrid",
    "Jules",
    "Kwame",
    "Lotte",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
]
_CLK = os.sysconf("SC_CLK_TCK")
HANDLER_ERRORS: list[str] = []  # frames the client could not handle, for the report


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> int:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK


def sched_seconds(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) from /proc/PID/schedstat.

    The second is how long the machine's other load kept the process from running: on a
    shared machine it tells CPU starvation apart from a stall inside the process."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            run, wait, _ = f.read().split()
    except (OSError, ValueError):
        return 0.0, 0.0
    return int(run) / 1e9, int(wait) / 1e9


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def pct(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def summary_ms(samples: Iterable[float]) -> dict[str, float | None]:
    ms = sorted(x * 1000 for x in samples)
    r = lambda v: None if v is None else round(v, 2)  # noqa: E731
    return {
        "p50_ms": r(pct(ms, 0.5)),
        "p99_ms": r(pct(ms, 0.99)),
        "max_ms": r(ms[-1] if ms else None),
    }


def profile_process(pid: int, name: str) -> subprocess.Popen[bytes] | None:
    """With ``WEIRSOE_BENCH_PROFILE=DIR`` set, sample the server with py-spy into
    ``DIR/NAME.svg`` (a flame graph; ``WEIRSOE_BENCH_PROFILE_FORMAT=speedscope`` for JSON,
    ``raw`` for collapsed stacks; ``WEIRSOE_BENCH_PROFILE_RATE`` samples a second, default 100)
    until the server stops. py-spy is not a dependency: ``python3 -m uv pip install py-spy``."""
    out = os.environ.get("WEIRSOE_BENCH_PROFILE")
    if not out:
        return None
    spy = shutil.which("py-spy") or os.environ.get("PY_SPY")
    if spy is None:
        raise RuntimeError("WEIRSOE_BENCH_PROFILE is set but py-spy is not on PATH")
    fmt = os.environ.get("WEIRSOE_BENCH_PROFILE_FORMAT", "flamegraph")
    ext = "json" if fmt == "speedscope" else "svg"
    Path(out).mkdir(parents=True, exist_ok=True)
    rate = os.environ.get("WEIRSOE_BENCH_PROFILE_RATE", "100")
    cmd = [spy, "record", "--pid", str(pid), "--rate", rate, "--nonblocking", "--format", fmt]
    cmd += ["-o", str(Path(out) / f"{name}.{ext}")]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class CpuLimit:
    """A CPU budget for one process: a cgroup of its own with a CFS quota of ``cores`` CPUs
    per 10 ms period (short, so a throttled server stalls for milliseconds, not for 100 ms).

    It stands in for a smaller machine: on a 2-core box, two uncapped servers, Redis and the
    load generator all share the same two cores, so a second server cannot add capacity. With
    each server capped, "2 processes vs 1" measures whether anything they share (Redis, the
    load generator) stops the second from doubling it. Linux only, with a writable ``cpu``
    controller (cgroup v1 ``/sys/fs/cgroup/cpu`` or v2 ``cpu.max``); :meth:`available` says why
    not otherwise."""

    PERIOD_US = 10_000

    def __init__(self, cores: float, name: str) -> None:
        reason = self.available()
        if reason is not None:
            raise RuntimeError(f"--cpu-limit: {reason}")
        self.cores = cores
        root = self._root()
        assert root is not None
        for stale in root.glob("weirsoe-bench-*"):  # left by a run that was killed
            with contextlib.suppress(OSError):
                stale.rmdir()  # only an empty one: a running server's group stays
        self.path = root / f"weirsoe-bench-{name}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.path.mkdir()
        quota = max(1000, round(cores * self.PERIOD_US))
        # Unused quota carries over, up to one period's worth (the burst): a short spike, such
        # as a phase ending in many rooms at once, is not cut off while the average stays
        # within the budget.
        if (self.path / "cpu.max").exists():  # cgroup v2
            (self.path / "cpu.max").write_text(f"{quota} {self.PERIOD_US}")
            with contextlib.suppress(OSError):
                (self.path / "cpu.max.burst").write_text(str(quota))
        else:
            (self.path / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))
            with contextlib.suppress(OSError):
                (self.path / "cpu.cfs_burst_us").write_text(str(quota))

    @staticmethod
    def _root() -> Path | None:
        v1 = Path("/sys/fs/cgroup/cpu")
        if (v1 / "cpu.cfs_quota_us").exists() or (v1 / "tasks").exists():
            return v1
        v2 = Path("/sys/fs/cgroup")
        with contextlib.suppress(OSError):
            if "cpu" in (v2 / "cgroup.subtree_control").read_text().split():
                return v2
        return None

    @classmethod
    def available(cls) -> str | None:
        """None if CPU limits work here, else why not."""
        if not sys.platform.startswith("linux"):
            return "CPU limits need Linux cgroups"
        root = cls._root()
        if root is None:
            return "no cgroup cpu controller (cgroup v1 /sys/fs/cgroup/cpu or v2 cpu.max)"
        if not os.access(root, os.W_OK):
            return f"{root} is not writable (run as root, or delegate a cgroup)"
        return None

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def throttled_s(self) -> float:
        """Seconds the group's processes were held back by the quota so far."""
        with contextlib.suppress(OSError):
            for line in (self.path / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "throttled_time":  # v1, nanoseconds
                    return int(value) / 1e9
                if key == "throttled_usec":  # v2
                    return int(value) / 1e6
        return 0.0

    def remove(self) -> None:
        for _ in range(50):  # the process may take a moment to leave after it exits
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)


class ServerProcess:
    """A server subprocess on 127.0.0.1 whose CPU time and RSS we can read."""

    name: str
    url: str
    proc: subprocess.Popen[bytes]

    def _spawn(self, cmd: list[str], env: dict[str, str], cwd: str) -> None:
        self.log_path = f"/tmp/weirsoe-bench-{self.name}-{self.port}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        # Let the servers write and reuse .pyc files: without them every start compiles every
        # module again, which takes minutes on a loaded machine.
        env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._profiler = profile_process(self.proc.pid, f"{self.name}-{self.port}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def sched(self) -> tuple[float, float]:
        return sched_seconds(self.pid)

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def log_tail(self, lines: int = 20) -> str:
        with open(self.log_path, "rb") as f:
            return "\n".join(f.read().decode(errors="replace").splitlines()[-lines:])

    def wait_ready(self, timeout: float = 120.0) -> None:
        # Generous: on a shared, loaded 2-core machine `weirsoe serve` takes 15-45 s to start.
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            if self._ready():
                return
            time.sleep(0.1)
        self.stop()  # never leave a half-started server behind
        raise RuntimeError(f"{self.name} did not start in {timeout:g} s:\n{self.log_tail()}")

    def _ready(self) -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self._profiler is not None:  # let py-spy write its file before the server goes
            self._profiler.send_signal(signal.SIGINT)
            try:
                self._profiler.wait(30)
            except subprocess.TimeoutExpired:
                self._profiler.kill()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


METRICS_TOKEN = "bench-metrics"  # loopback only: lets the benchmarks read /metrics


class WeirsoeServer(ServerProcess):
    """``weirsoe serve`` with the bench cartridge on its path; memory or Redis backend."""

    def __init__(
        self,
        *,
        redis: str | None = None,
        variant: str | None = None,
        extra: Iterable[str] = (),
        prefix: str | None = None,
        secret: str | None = None,
        ready_timeout: float = 120.0,
        cpu_limit: float | None = None,
        wrap: Iterable[str] = (),
    ) -> None:
        """``prefix`` and ``secret``: the same for several servers sharing one Redis (tokens
        signed by one must verify on the other). ``cpu_limit``: at most that many CPUs once it
        is up (:class:`CpuLimit`; start-up itself is not limited). ``wrap``: a command the
        server runs under, such as ``valgrind --tool=callgrind …`` (``bench/instructions.py``)."""
        self.name = "redis" if redis else "memory"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.redis = redis
        self.prefix = prefix or f"wbench-{uuid.uuid4().hex[:10]}"  # shared: one room, N servers
        self._tmp = tempfile.TemporaryDirectory(prefix="weirsoe-bench-")
        # A variant (bench/variants/NAME.py) wraps the CLI with a change to try, for A/B runs.
        launcher = [str(BENCH / "variants" / f"{variant}.py")] if variant else []
        cmd = [
            *wrap,
            SERVER_PYTHON,
            *(launcher or ["-m", "weirsoe_platform.cli"]),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--database",
            f"sqlite+aiosqlite:///{self._tmp.name}/bench.db",
            *extra,
        ]
        if redis:
            cmd += ["--redis", redis, "--with-worker"]
        path = os.pathsep.join(
            p for p in (str(BENCH / "cartridge"), os.environ.get("PYTHONPATH")) if p
        )
        env = {
            **os.environ,
            "PYTHONPATH": path,
            "WEIRSOE_JOIN_RATE": "1000000",
            "WEIRSOE_UNKNOWN_CODE_RATE": "1000000",
            "WEIRSOE_REDIS_PREFIX": self.prefix,
            "WEIRSOE_SECRET_KEY": secret or secrets.token_urlsafe(32),
            "WEIRSOE_METRICS_TOKEN": METRICS_TOKEN,
        }
        self.limit = CpuLimit(cpu_limit, f"{self.name}-{self.port}") if cpu_limit else None
        self._spawn(cmd, env, self._tmp.name)
        self.wait_ready(ready_timeout)
        if self.limit is not None:
            self.limit.add(self.pid)

    def _ready(self) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        return False

    def counters(self) -> dict[str, float]:
        """The server's ``weirsoe_*_total`` counters (summed over labels), from ``/metrics``;
        empty if it cannot be read."""
        headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        totals: dict[str, float] = {}
        with contextlib.suppress(httpx.HTTPError):
            reply = httpx.get(self.url + "/metrics", headers=headers, timeout=5)
            for line in reply.text.splitlines():
                name, _, value = line.partition(" ")
                name = name.partition("{")[0]
                if name.startswith("weirsoe_") and name.endswith("_total"):
                    with contextlib.suppress(ValueError):
                        totals[name] = totals.get(name, 0.0) + float(value)
        return totals

    def stop(self) -> None:
        super().stop()
        if self.limit is not None:
            self.limit.remove()
        if self.redis:
            asyncio.run(clean_redis(self.redis, self.prefix))
        self._tmp.cleanup()


class RawServer(ServerProcess):
    """The raw ``websockets`` baseline (bench/raw_server.py)."""

    def __init__(self, *, pad: int = 0, max_seconds: float = 1800) -> None:
        self.name = "raw"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        cmd = [
            SERVER_PYTHON,
            str(BENCH / "raw_server.py"),
            "--port",
            str(self.port),
            "--pad",
            str(pad),
            "--max-seconds",
            str(max_seconds),
        ]
        self._spawn(cmd, dict(os.environ), str(BENCH))
        self.wait_ready()


async def clean_redis(url: str, prefix: str) -> int:
    """Delete every key under ``prefix:`` (the server's WEIRSOE_REDIS_PREFIX)."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    deleted = 0
    try:
        async for key in client.scan_iter(match=f"{prefix}:*", count=500):
            deleted += await client.delete(key)
    finally:
        await client.aclose()
    return deleted


async def bounded_gather(limit: int, jobs: Iterable[Callable[[], Awaitable[Any]]]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(j) for j in jobs))


class Room:
    def __init__(self, code: str, host_token: str, players: list[tuple[str, str]]) -> None:
        self.code = code
        self.host_token = host_token
        self.players = players  # (player_id, token)
        self.host: Conn | None = None
        self.seats: list[Conn] = []


async def make_rooms(
    base: str,
    cartridge: str,
    settings: dict[str, Any],
    rooms: int,
    players: int,
    *,
    timeout: float = 120,
) -> list[Room]:
    """Create rooms and join players over REST (the real lobby path)."""
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:

        async def one() -> Room:
            r = await http.post(
                "/api/sessions", json={"cartridge": cartridge, "settings": settings}
            )
            r.raise_for_status()
            created = r.json()
            seats = []
            for name in NAMES[:players]:
                j = await http.post(f"/api/sessions/{created['code']}/players", json={"name": name})
                j.raise_for_status()
                seats.append((j.json()["player_id"], j.json()["token"]))
            return Room(created["code"], created["host_token"], seats)

        return await asyncio.wait_for(bounded_gather(16, [one] * rooms), timeout)


async def control(base: str, rooms: list[Room], action: str, *, spread: float = 0.0) -> None:
    """Host control (play, exit…) for every room, optionally spread evenly over ``spread`` s."""
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        start = time.monotonic()

        async def one(i: int, room: Room) -> None:
            if spread:
                await asyncio.sleep(max(0.0, start + spread * i / len(rooms) - time.monotonic()))
            headers = {"Authorization": f"Bearer {room.host_token}"}
            r = await http.post(
                f"/api/sessions/{room.code}/control", json={"action": action}, headers=headers
            )
            if r.status_code >= 400 and action != "exit":
                r.raise_for_status()

        await asyncio.wait_for(
            asyncio.gather(*(one(i, room) for i, room in enumerate(rooms))), spread + 120
        )


class Conn(asyncio.Protocol):
    """One lean client WebSocket (RFC 6455, text frames, no extensions) on asyncio.Protocol.

    The load generator shares two cores with the server under test, so its cost per message
    matters: a general-purpose client spends tens of µs per frame, this one a few. Every text
    frame received goes to ``on_message(conn, payload, t)``, where ``t`` is the wall-clock time
    of the read that brought it. Pings are answered; client frames are masked (with a zero key,
    which RFC 6455 allows: the key is there against proxy cache poisoning, not for secrecy).
    """

    def __init__(
        self, room: Room, player_id: str | None, on_message: Callable[[Conn, bytes, float], None]
    ) -> None:
        self.room = room
        self.player_id = player_id
        self.on_message = on_message
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.open = False
        self.closed = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._frag = bytearray()

    # -- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed during handshake: {exc}"))

    def data_received(self, data: bytes) -> None:
        t = time.time()
        buf = self.buf
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end])
            del buf[: end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(
                    ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
                )
                self.transport.close()  # type: ignore[union-attr]
                return
            self.open = True
            self.ready.set_result(None)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            opcode = b0 & 0x0F
            if opcode in (1, 2) and b0 & 0x80:
                self._deliver(payload, t)
            elif opcode in (0, 1, 2):  # fragmented message
                self._frag += payload
                if b0 & 0x80:
                    whole, self._frag = bytes(self._frag), bytearray()
                    self._deliver(whole, t)
            elif opcode == 9:  # ping: answer with the same payload
                self._write(0x8A, payload)
            elif opcode == 8:  # close: answer, then drop
                self._write(0x88, payload[:2])
                self.transport.close()  # type: ignore[union-attr]
                self.closed = True
                break
        del buf[:pos]

    def _deliver(self, payload: bytes, t: float) -> None:
        try:
            self.on_message(self, payload, t)
        except Exception as exc:  # an exception here would make asyncio drop the connection
            HANDLER_ERRORS.append(f"{type(exc).__name__}: {exc}: {payload[:200]!r}")

    # -- sending ----------------------------------------------------------------------------
    def _write(self, first: int, payload: bytes) -> None:
        if self.closed or self.transport is None:
            return
        n = len(payload)
        if n < 126:
            head = bytes((first, 0x80 | n))
        elif n < 65536:
            head = bytes((first, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((first, 0x80 | 127)) + n.to_bytes(8, "big")
        self.transport.write(head + b"\0\0\0\0" + payload)

    def send(self, text: str) -> None:
        self._write(0x81, text.encode())

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


async def open_socket(
    url: str,
    room: Room,
    player_id: str | None,
    on_message: Callable[[Conn, bytes, float], None],
    timeout: float = 60,
    rcvbuf: int = 0,
) -> Conn:
    """Connect ``ws://127.0.0.1:PORT/path?query`` and complete the opening handshake."""
    rest = url.removeprefix("ws://")
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    if host not in ("127.0.0.1", "localhost"):
        raise ValueError("loopback only")
    loop = asyncio.get_running_loop()
    conn = Conn(room, player_id, on_message)
    if rcvbuf:  # a small fixed receive buffer (no autotuning): a stalled reader fills it fast
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.wait_for(loop.sock_connect(sock, (host, int(port))), timeout)
        connect = loop.create_connection(lambda: conn, sock=sock)
    else:
        connect = loop.create_connection(lambda: conn, host, int(port))
    await asyncio.wait_for(connect, timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    conn.transport.write(  # type: ignore[union-attr]
        f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    try:
        await asyncio.wait_for(asyncio.shield(conn.ready), timeout)
    except BaseException:
        conn.abort()
        raise
    return conn


async def connect_rooms(
    ws_base: str,
    rooms: list[Room],
    on_message: Callable[[Conn, bytes, float], None],
    *,
    concurrency: int = 32,
    timeout: float = 180,
) -> None:
    """Open the host socket and every player's socket in each room."""
    jobs: list[Callable[[], Awaitable[Any]]] = []
    for room in rooms:
        base = f"{ws_base}/ws/game/{room.code}"

        async def host(room: Room = room, base: str = base) -> None:
            room.host = await open_socket(
                f"{base}?role=host&token={room.host_token}", room, None, on_message
            )

        jobs.append(host)
        for pid, token in room.players:

            async def seat(
                room: Room = room, base: str = base, pid: str = pid, token: str = token
            ) -> None:
                room.seats.append(await open_socket(f"{base}?token={token}", room, pid, on_message))

            jobs.append(seat)
    await asyncio.wait_for(bounded_gather(concurrency, jobs), timeout)


class ClientCollector:
    """The load generator's own garbage collector, kept out of the latencies it measures.

    A delivery's latency is the client's receive time minus the server's stamp, so a pause of
    the *client's* event loop shows as the server's tail. With 6,300 sockets open, CPython's
    full collections in the load generator took 120-175 ms each, and every one of them lined
    up with a burst of late deliveries in a capacity probe (docs/performance.md, section 29).
    :meth:`quiet` collects once, freezes what is alive (the sockets, the rooms) and turns the
    client's automatic full collections off; young collections still run. :meth:`loud` undoes
    it. Between :meth:`record` and :meth:`stop`, every client collection over 10 ms is kept,
    so each report shows what the client's collector still cost (:meth:`fields`, :meth:`cell`).
    ``record(hold=True)`` also keeps the young collections out until :meth:`stop`: with 4,500
    bot sockets they took 18-90 ms each, several a second, and the bots' action round trips
    sent just after one waited out the client's own backlog (docs/performance.md, eighteenth
    pass). ``bench/capacity.py`` quiets and records holding; ``bench/loadgen.py`` only records.
    """

    SLOW = 0.01

    def __init__(self) -> None:
        self._pauses: list[float] | None = None  # ms of each slow collection, while recording
        self._started = 0.0
        self._thresholds: tuple[int, int, int] | None = None
        self._held = False  # automatic collections off for the window (record(hold=True))
        gc.callbacks.append(self._watch)

    def _watch(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._pauses is not None and (took := time.perf_counter() - self._started) > self.SLOW:
            self._pauses.append(round(took * 1000, 1))

    def quiet(self) -> None:
        gc.collect()
        gc.freeze()
        if self._thresholds is None:
            self._thresholds = young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, 2**30)

    def loud(self) -> None:
        self._release()  # a probe that failed inside its window
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
        gc.unfreeze()

    def record(self, *, hold: bool = False) -> None:
        self._pauses = []
        self._held = hold and gc.isenabled()
        if self._held:
            gc.disable()  # for a bounded window: what it leaves is collected at stop()

    def stop(self) -> list[float]:
        """The milliseconds of each client collection over 10 ms since :meth:`record`."""
        pauses, self._pauses = self._pauses or [], None
        self._release()
        return pauses

    def _release(self) -> None:
        """Automatic collections back on, if :meth:`record` held them."""
        if self._held:
            self._held = False
            gc.enable()

    @staticmethod
    def fields(pauses: list[float]) -> dict[str, Any]:
        """A result row's figures for ``pauses``."""
        return {"client_gc_pauses": len(pauses), "client_gc_max_ms": max(pauses, default=0.0)}

    @staticmethod
    def cell(row: dict[str, Any]) -> str | None:
        """A table cell for a row's :meth:`fields`: how many, and the longest."""
        if row.get("client_gc_pauses") is None:
            return None
        return f"{row['client_gc_pauses']} ({row['client_gc_max_ms']:g} ms)"


def abort_rooms(rooms: list[Room]) -> None:
    """Drop every socket at once (no closing handshake)."""
    for room in rooms:
        for conn in ([room.host] if room.host else []) + room.seats:
            conn.abort()


def run(main: Awaitable[Any], use_uvloop: bool) -> Any:
    if use_uvloop:
        import uvloop

        return uvloop.run(main)  # type: ignore[arg-type]
    return asyncio.run(main)  # type: ignore[arg-type]


def redis_script_parser(doc: str, quick: str) -> argparse.ArgumentParser:
    """The options every Redis micro-benchmark takes (``bench/cas.py``, ``bench/beat.py``):
    ``--redis``, ``--quick`` (what it cuts: ``quick``) and ``--no-uvloop``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--redis", default=REDIS_URL, help=f"Redis URL (default {REDIS_URL})")
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--no-uvloop", action="store_true", help="run on asyncio's own loop")
    return parser


def md_table(headers: list[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    """A Markdown table; None prints as a dash."""
    cell = lambda v: "-" if v is None else str(v)  # noqa: E731
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def report_and_save(
    result: dict[str, Any], out: Any, render: Callable[[dict[str, Any]], str]
) -> int:
    """Print the Markdown table and write the JSON: how every bench script ends."""
    print()
    print(render(result))
    RESULTS.mkdir(exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"\nwrote {out} ({result['seconds']} s)")
    return 0
