"""Support for tests against a real server process: start it, talk to it over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import websockets

__all__ = ["BotPlayer", "GameClient", "Server", "Worker", "free_port", "transition_versions"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A real ``weirsoe serve`` (or other ``weirsoe`` command) subprocess on loopback."""

    def __init__(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        python: str | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_base = f"ws://127.0.0.1:{self.port}"
        # Loopback only, unless a test asks for more (the LAN join test does).
        limits = {
            "WEIRSOE_JOIN_RATE": "100000",
            "WEIRSOE_UNKNOWN_CODE_RATE": "100000",
            "WEIRSOE_HOST": "127.0.0.1",
        }
        full_env = {**os.environ, **limits, **(env or {})}
        self.log_path = f"/tmp/weirsoe-test-server-{self.port}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        python = python or sys.executable
        cmd = [python, "-m", "weirsoe_platform.cli", "serve", "--port", str(self.port), *args]
        self.proc = subprocess.Popen(
            cmd, env=full_env, stdout=self._log, stderr=subprocess.STDOUT, cwd=cwd
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()  # a server that never became ready must not outlive the test
            raise

    def _wait_ready(self, timeout: float = 180.0) -> None:  # a loaded machine imports slowly
        # WEIRSOE_TEST_READY_TIMEOUT stretches it where many suites share two cores.
        timeout = float(os.environ.get("WEIRSOE_TEST_READY_TIMEOUT", timeout))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def log(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


class GameClient:
    """One WebSocket connection that records every message it receives."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.messages: list[dict[str, Any]] = []
        self.ws: Any = None
        self.closed: tuple[int, str] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._event = asyncio.Event()
        self._seq = 0

    async def connect(self) -> GameClient:
        self.ws = await websockets.connect(self.url, max_size=None, open_timeout=10)
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.messages.append(json.loads(raw))
                self._event.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            code = self.ws.close_code
            self.closed = (code if code is not None else 1006, self.ws.close_reason or "")
            self._event.set()

    @property
    def types(self) -> list[str]:
        return [m["type"] for m in self.messages]

    @property
    def version(self) -> int:
        return max((m.get("version", 0) for m in self.messages if "ts" in m), default=0)

    async def wait_for(
        self,
        match: str | Callable[[dict[str, Any]], bool],
        *,
        timeout: float = 15.0,
        start: int = 0,
    ) -> dict[str, Any]:
        pred = (lambda m: m["type"] == match) if isinstance(match, str) else match
        end = time.monotonic() + timeout
        index = start
        while True:
            while index < len(self.messages):
                if pred(self.messages[index]):
                    return self.messages[index]
                index += 1
            if self.closed is not None:
                raise AssertionError(f"closed {self.closed} while waiting; got {self.types[-10:]}")
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting; last types: {self.types[-10:]}")
            self._event.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._event.wait(), left)

    async def wait_closed(self, timeout: float = 10.0) -> tuple[int, str]:
        end = time.monotonic() + timeout
        while self.closed is None and time.monotonic() < end:
            self._event.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._event.wait(), 0.2)
        assert self.closed is not None, "socket did not close"
        return self.closed

    async def send(self, message: Any) -> None:
        await self.ws.send(message if isinstance(message, str | bytes) else json.dumps(message))

    async def request(self, action: Mapping[str, Any], msg_id: str | None = None) -> dict[str, Any]:
        """Send an action and wait for its ack or error."""
        self._seq += 1
        msg_id = msg_id or f"m{self._seq}"
        start = len(self.messages)
        await self.send({"type": "action", "id": msg_id, "action": dict(action)})
        return await self.wait_for(
            lambda m: m["type"] in ("ack", "error") and m.get("id") == msg_id, start=start
        )

    async def sync(self) -> dict[str, Any]:
        start = len(self.messages)
        await self.send({"type": "sync"})
        return await self.wait_for("session.snapshot", start=start)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)

    def drop(self) -> None:
        """Vanish without a close frame, like a phone losing signal."""
        self.ws.transport.abort()


class BotPlayer:
    """Plays a cartridge's bot over a real socket: after every new version it asks for a
    snapshot and lets the bot decide from its own view, exactly as a browser would see it."""

    def __init__(self, client: GameClient, bot: Any, player_id: str, seed: int = 0) -> None:
        import random

        self.client = client
        self.bot = bot
        self.player_id = player_id
        self.rng = random.Random(f"{player_id}:{seed}")
        self.counter = 0
        self.errors: list[dict[str, Any]] = []
        self.acks: list[dict[str, Any]] = []
        self.sockets: list[GameClient] = [client]

    def _finished(self) -> bool:
        """A snapshot on the current socket says the game has ended (we may have reconnected
        after the final event went out)."""
        for message in reversed(self.client.messages):
            if message["type"] == "session.snapshot":
                return message["status"] in ("over", "closed")
        return False

    async def reconnect(self) -> None:
        """Drop without a close frame and come back on a new socket with the same token."""
        old = self.client
        new = await GameClient(old.url).connect()
        self.sockets.append(new)
        self.client = new  # swap first: the run loop then knows the old socket is history
        old.drop()

    def canary(self) -> str:
        self.counter += 1
        return f"kanari{self.player_id}x{self.counter}q"

    async def run(self, until: str = "phase.game_over", timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        seen = -1
        while time.monotonic() < end:
            if any(until in sock.types for sock in self.sockets) or self._finished():
                return
            if self.client.version <= seen:
                await asyncio.sleep(0.02)
                continue
            seen = self.client.version
            client = self.client
            try:
                snapshot = await client.sync()
                view = snapshot.get("view")
                if snapshot["status"] != "running" or view is None:
                    continue
                action = self.bot.act(view, self.player_id, self.rng, self.canary)
                if action is None:
                    continue
                reply = await client.request(action)
            except (AssertionError, websockets.ConnectionClosed):
                if client is self.client:
                    raise
                seen = -1  # the socket was replaced under us: look again on the new one
                continue
            (self.acks if reply["type"] == "ack" else self.errors).append(reply)
        raise AssertionError(f"{self.player_id} did not see {until} in time")


class Worker:
    """A real ``weirsoe worker`` subprocess."""

    def __init__(self, redis_url: str, env: Mapping[str, str]) -> None:
        self.log_path = f"/tmp/weirsoe-test-worker-{free_port()}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        cmd = [sys.executable, "-m", "weirsoe_platform.cli", "worker", "--redis", redis_url]
        self.proc = subprocess.Popen(
            cmd, env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT
        )

    def kill(self) -> None:
        """SIGKILL: no clean-up, no acks, like a crashed machine."""
        self.proc.kill()
        self.proc.wait(5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()


def transition_versions(messages: list[dict[str, Any]]) -> list[int]:
    """The versions of the transition messages received, in order. ``audience.tally`` is
    throttled progress, not a transition, and is documented to carry no version."""
    return [m["version"] for m in messages if "ts" in m and m.get("type") != "audience.tally"]
