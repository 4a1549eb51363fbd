"""A private ``redis-server`` on a free loopback port (or on a Unix socket of its own), for
tests that stop and restart Redis, or that reach it over a Unix socket.

Such tests never touch the shared Redis (``WEIRSOE_TEST_REDIS``): other tests and other
developers use it at the same time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator

import redis
from _live import free_port

__all__ = ["PrivateRedis", "redis_server_missing"]


def redis_server_missing() -> str | None:
    """None if the ``redis-server`` binary is installed, else why a test must skip."""
    return None if shutil.which("redis-server") else "redis-server binary not installed"


class PrivateRedis:
    """Started on construction; ``restart()`` loses every key (no persistence), as a crashed
    and restarted Redis without AOF/RDB does."""

    def __init__(self, *, unix: bool = False) -> None:
        """``unix``: listen on ``DIR/redis.sock`` only (no TCP port), as a Redis beside the
        servers on one machine may; ``url`` is then a ``unix://`` URL."""
        self.dir = tempfile.mkdtemp(prefix="weirsoe-redis-")
        self.port = 0 if unix else free_port()
        self.socket = os.path.join(self.dir, "redis.sock") if unix else None
        self.url = f"unix://{self.socket}" if unix else f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                *(["--unixsocket", self.socket, "--unixsocketperm", "700"] if self.socket else []),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        for _ in range(200):
            try:
                client.ping()
                client.close()
                return
            except redis.ConnectionError:
                time.sleep(0.025)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        """``SHUTDOWN NOSAVE``, then make sure the process is gone."""
        if self.proc is None:
            return
        with contextlib.suppress(redis.RedisError):
            redis.Redis.from_url(self.url, socket_connect_timeout=0.5).shutdown(nosave=True)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    @contextlib.contextmanager
    def hung(self) -> Iterator[None]:
        """Redis accepts connections but answers nothing (the process is stopped with
        SIGSTOP: the kernel still completes TCP handshakes), as a hung Redis does."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.proc.pid, signal.SIGCONT)

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        if down_for:
            time.sleep(down_for)
        self.start()
        self.restarts += 1

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
