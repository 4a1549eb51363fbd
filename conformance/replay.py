"""Replay a recorded Weirsøe session against a live server and diff every frame, per role.

    python conformance/replay.py conformance/sessions/weirsoe_lies/0.1.0-seed7.jsonl \\
        --server http://127.0.0.1:8000

The server must run with ``WEIRSOE_ROOM_SEED`` set to the session's seed (its first line says
which), so the game deals the same cards. The script needs only ``httpx`` and ``websockets``:
a third-party client or UI can use it, or read the recording (JSON lines: a ``meta`` line, the
``steps`` the clients took, then every ``frame`` each role received) to test itself.

Frames are compared after normalising what differs between runs by design: the room code,
player ids (named ``p1``… in join order), and times (``ts``, ``deadline``, ``remaining``:
a number becomes ``"<time>"``, null stays null). Exit status 0: every frame matched.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import websockets

__all__ = ["Client", "diff", "load", "main", "normalise", "replay"]

TIME_KEYS = {"ts", "deadline", "remaining"}
# Sent on a throttle timer of their own, not at a fixed point of the game: not compared.
TIMED = {"audience.tally"}
FORMAT = 1


def load(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, list[Any]]]:
    """``(meta, steps, frames by role)`` of a recording."""
    meta: dict[str, Any] = {}
    steps: list[dict[str, Any]] = []
    frames: dict[str, list[Any]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if item["kind"] == "meta":
            meta = item
        elif item["kind"] == "frame":
            frames.setdefault(item["role"], []).append(item["frame"])
        else:
            steps.append(item)
    if meta.get("format") != FORMAT:
        raise SystemExit(f"{path}: not a format-{FORMAT} recording")
    return meta, steps, frames


def normalise(value: Any, names: dict[str, str]) -> Any:
    """Replace run-specific values (room code, player ids, times) with stable ones."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            key = names.get(key, key)
            if key in TIME_KEYS and isinstance(item, int | float) and not isinstance(item, bool):
                out[key] = "<time>"
            else:
                out[key] = normalise(item, names)
        return out
    if isinstance(value, list):
        return [normalise(v, names) for v in value]
    if isinstance(value, str):
        return names.get(value, value)
    return value


class Client:
    """The sockets of one session, one per role, each keeping what it received."""

    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        self.ws_base = "ws" + self.server.removeprefix("http")
        self.http = httpx.AsyncClient(base_url=self.server, timeout=30)
        self.code = ""
        self.host_token = ""
        self.tokens: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.sockets: dict[str, Any] = {}
        self.frames: dict[str, list[Any]] = {}
        self.readers: list[asyncio.Task[None]] = []
        self.last_frame = time.monotonic()

    async def step(self, step: dict[str, Any], meta: dict[str, Any]) -> None:
        kind = step["kind"]
        if kind == "create":
            body = {"cartridge": meta["cartridge"], "settings": meta["settings"]}
            room = (await self._post("/api/sessions", body, 201)).json()
            self.code, self.host_token = room["code"], room["host_token"]
            self.names[self.code] = "CODE"
        elif kind == "join":
            path = f"/api/sessions/{self.code}/players"
            seat = (await self._post(path, {"name": step["name"]}, 201)).json()
            self.tokens[step["role"]] = seat["token"]
            self.names[seat["player_id"]] = step["role"]
        elif kind == "connect":
            await self._connect(step["role"])
        elif kind == "control":
            path = f"/api/sessions/{self.code}/control"
            auth = {"Authorization": f"Bearer {self.host_token}"}
            response = await self.http.post(path, json={"action": step["action"]}, headers=auth)
            if response.status_code != 200:
                raise RuntimeError(f"control {step['action']}: {response.text}")
        elif kind == "send":
            await self.sockets[step["role"]].send(json.dumps(step["frame"]))
        elif kind == "expect":
            await self.wait_for(step["counts"])

    async def _post(self, path: str, body: Any, status: int) -> httpx.Response:
        response = await self.http.post(path, json=body)
        if response.status_code != status:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
        return response

    async def _connect(self, role: str) -> None:
        if role == "host":
            query = f"role=host&token={self.host_token}"
        elif role == "audience":
            query = "role=audience"
        else:
            query = f"role=player&token={self.tokens[role]}"
        socket = await websockets.connect(f"{self.ws_base}/ws/game/{self.code}?{query}")
        self.sockets[role] = socket
        self.frames[role] = []
        self.readers.append(asyncio.create_task(self._read(role, socket)))
        await self.wait_for({role: 1})

    async def _read(self, role: str, socket: Any) -> None:
        try:
            async for raw in socket:
                self.frames[role].append(json.loads(raw))
                self.last_frame = time.monotonic()
        except websockets.ConnectionClosed:
            return

    def count(self, role: str) -> int:
        return sum(1 for f in self.frames.get(role, []) if f.get("type") not in TIMED)

    async def wait_for(self, counts: dict[str, int], timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while any(self.count(r) < n for r, n in counts.items()):
            if time.monotonic() > end:
                have = {r: self.count(r) for r in counts}
                raise TimeoutError(f"expected {counts} frames, have {have}")
            await asyncio.sleep(0.02)

    async def quiet(self, seconds: float = 0.6, timeout: float = 120.0) -> dict[str, int]:
        """Wait until no frame arrived for ``seconds``; the frame counts per role."""
        start = time.monotonic()
        end = start + timeout
        while time.monotonic() - max(self.last_frame, start) < seconds:
            if time.monotonic() > end:
                break
            await asyncio.sleep(0.05)
        return {role: self.count(role) for role in self.frames}

    def received(self) -> dict[str, list[Any]]:
        """Every frame per role, normalised, without the timer-driven ones (``TIMED``)."""
        return {
            r: [normalise(f, self.names) for f in fs if f.get("type") not in TIMED]
            for r, fs in self.frames.items()
        }

    async def close(self) -> None:
        for socket in self.sockets.values():
            await socket.close()
        for reader in self.readers:
            reader.cancel()
        await self.http.aclose()


def diff(expected: dict[str, list[Any]], got: dict[str, list[Any]]) -> list[str]:
    """Differences per role: a missing or extra frame, or the first field that differs."""
    problems: list[str] = []
    for role in sorted(set(expected) | set(got)):
        want, have = expected.get(role, []), got.get(role, [])
        for i, (a, b) in enumerate(zip(want, have, strict=False)):
            if a != b:
                problems.append(
                    f"{role} frame {i}:\n  expected {json.dumps(a)}\n  got      {json.dumps(b)}"
                )
                break
        if len(want) != len(have):
            problems.append(f"{role}: expected {len(want)} frames, got {len(have)}")
    return problems


async def replay(path: str | Path, server: str) -> list[str]:
    """Run a recording's steps against ``server``; the differences (empty: all frames match)."""
    meta, steps, expected = load(path)
    client = Client(server)
    try:
        for step in steps:
            await client.step(step, meta)
        await client.wait_for({r: len(f) for r, f in expected.items()}, timeout=10)
        await client.quiet()
        return diff(expected, client.received())
    except TimeoutError as exc:
        return [f"timed out: {exc}", *diff(expected, client.received())]
    finally:
        await client.close()


def _lines(meta: dict[str, Any], steps: Iterable[dict[str, Any]], frames: dict[str, list[Any]]):
    yield meta
    yield from steps
    for role, items in frames.items():
        for frame in items:
            yield {"kind": "frame", "role": role, "frame": frame}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("session", nargs="+", help="recorded session files (.jsonl)")
    parser.add_argument("--server", default="http://127.0.0.1:8000")
    args = parser.parse_args(argv)
    failed = 0
    for path in args.session:
        problems = asyncio.run(replay(path, args.server))
        print(f"{'ok  ' if not problems else 'FAIL'} {path}")
        for problem in problems[:20]:
            print("  " + problem.replace("\n", "\n  "))
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
