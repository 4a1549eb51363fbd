"""The baseline: a minimal broadcast server on the raw ``websockets`` library.

    python bench/raw_server.py --port PORT [--max-seconds 1800]

Rooms are sets of sockets, keyed by the path ``/ws/game/{code}``; there is no REST, no
authentication and no state beyond a version counter per room. It speaks just enough of the
Weirsøe protocol for the load generator to drive it exactly like the real server:

- on connect, a small ``session.snapshot``;
- ``{"type":"action","id":…,"action":{"type":"tick","n":…,"sent":…}}`` → ``bench.tick`` with
  the same fields, padding and envelope (``version``, ``ts``, ``deadline``) as the bench
  cartridge, to every socket in the room with ``websockets.broadcast``, then an ``ack``;
- ``{"action":{"type":"beat","seconds":S}}`` starts (or stops) an asyncio loop that sends
  ``bench.beat`` every S seconds, at a fixed rate, with its ``due`` time.

Same loop as ``weirsoe serve`` (uvloop when installed), no compression, 64 KiB frame cap, the
default 20 s keep-alive pings. Loopback only; it exits by itself after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import time
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection, broadcast, serve

ROOMS: dict[str, set[ServerConnection]] = {}
VERSIONS: dict[str, int] = {}
BEATS: dict[str, asyncio.Task[None]] = {}
PAD = {"pad": 0}
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _envelope(code: str, event: dict[str, Any]) -> str:
    VERSIONS[code] = VERSIONS.get(code, 0) + 1
    return _dumps(
        {"version": VERSIONS[code], "ts": round(time.time(), 4), "deadline": None, **event}
    )


async def _beat(code: str, every: float, start: float) -> None:
    due = start + every
    n = 0
    pad = "x" * PAD["pad"]
    while code in ROOMS:  # bounded: the room goes when its last socket does
        await asyncio.sleep(max(0.0, due - time.time()))
        room = ROOMS.get(code)
        if not room:
            return
        broadcast(room, _envelope(code, {"type": "bench.beat", "n": n, "due": due, "pad": pad}))
        n += 1
        due = max(due + every, time.time() + every / 2)


def _handle(code: str, socket: ServerConnection, raw: str | bytes) -> str | None:
    message = json.loads(raw)
    if message.get("type") == "ping":
        return _dumps({"type": "pong", "ts": time.time()})
    if message.get("type") != "action":
        return None
    action = message["action"]
    if action.get("type") == "tick":
        event = {
            "type": "bench.tick",
            "n": action["n"],
            "sent": action.get("sent", 0.0),
            "pad": "x" * PAD["pad"],
        }
        broadcast(ROOMS[code], _envelope(code, event))
    elif action.get("type") == "beat":
        old = BEATS.pop(code, None)
        if old is not None:
            old.cancel()
        seconds = float(action.get("seconds", 0))
        if seconds > 0:
            BEATS[code] = asyncio.create_task(_beat(code, seconds, time.time()))
    return _dumps(
        {
            "type": "ack",
            "id": message.get("id"),
            "version": VERSIONS.get(code, 0),
            "duplicate": False,
        }
    )


async def _connection(socket: ServerConnection) -> None:
    path = socket.request.path.split("?", 1)[0] if socket.request else ""
    code = path.rstrip("/").rsplit("/", 1)[-1]
    room = ROOMS.setdefault(code, set())
    room.add(socket)
    try:
        snapshot = {"type": "session.snapshot", "status": "running", "view": {}}
        await socket.send(_dumps({"version": VERSIONS.get(code, 0), "ts": time.time(), **snapshot}))
        async for raw in socket:
            reply = _handle(code, socket, raw)
            if reply is not None:
                await socket.send(reply)
    except websockets.ConnectionClosed:
        pass
    finally:
        room.discard(socket)
        if not room:
            ROOMS.pop(code, None)
            task = BEATS.pop(code, None)
            if task is not None:
                task.cancel()


async def _main(port: int, max_seconds: float) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.cancel)
    async with serve(
        _connection, "127.0.0.1", port, compression=None, max_size=64 * 1024, backlog=2048
    ):
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(stop, max_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pad", type=int, default=0, help="padding bytes per event")
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    args = parser.parse_args()
    PAD["pad"] = args.pad
    try:
        import uvloop
    except ImportError:
        asyncio.run(_main(args.port, args.max_seconds))
    else:
        uvloop.run(_main(args.port, args.max_seconds))


if __name__ == "__main__":
    main()
