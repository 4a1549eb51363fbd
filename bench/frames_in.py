"""What reading one client frame costs ``weirsoe serve``'s WebSocket protocol, in a loop:
the read's fast path against ``websockets``' parser and uvicorn's handlers (docs/performance.md,
section 74). No network: a uvicorn protocol instance, made as uvicorn makes one, is handed the
handshake and then the same masked frames over and over, and each goes to a listening
receiver that only counts it.

    python3 -m uv run python bench/frames_in.py [--frames N] [--rounds R]

It prints the µs of CPU per frame for each path (the median of R rounds of N frames), for a
``sync`` and for an action's frame, one frame per read and eight per read.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import uvicorn
from websockets.frames import Frame, Opcode

from weirsoe_platform.transport._direct import EXTENSION
from weirsoe_platform.web._ws_protocol import direct_websocket_protocol

_HANDSHAKE = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
_MESSAGES = {
    "sync": b'{"type":"sync"}',
    "action": b'{"type":"action","id":"a1b2c3d4e5","action":{"type":"guess","answer":"x3"}}',
}


class _Transport:
    """What uvicorn's protocol uses of a transport; writes are dropped."""

    def __init__(self) -> None:
        self.closing = False

    def write(self, data: bytes) -> None:
        pass

    def writelines(self, chunks: Any) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )


async def _protocol(count: list[int]) -> Any:
    listening = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        scope["extensions"][EXTENSION]["listen"](lambda message: count.append(1))
        listening.set()
        while (await receive())["type"] != "websocket.disconnect":
            pass

    protocol_class = direct_websocket_protocol()
    assert not isinstance(protocol_class, str), "uvicorn's sans-I/O protocol is not installed"
    config = uvicorn.Config(app, ws=protocol_class, lifespan="off", log_level="warning")
    config.load()
    state = uvicorn.server.ServerState()
    protocol = protocol_class(config=config, server_state=state, app_state={})  # type: ignore[call-arg]
    protocol.connection_made(_Transport())
    protocol.data_received(_HANDSHAKE)
    await asyncio.wait_for(listening.wait(), 5)
    return protocol


async def _run(frames: int, rounds: int) -> None:
    count: list[int] = []
    protocol = await _protocol(count)
    limit = protocol._quick  # the fast path's, as the protocol set it at the handshake
    assert limit is not None, "the fast path is not offered"
    print(f"{'frame':8s} {'per read':>8s} {'websockets µs':>14s} {'fast path µs':>13s}")
    for name, message in _MESSAGES.items():
        wire = Frame(Opcode.TEXT, message).serialize(mask=True)
        for per_read in (1, 8):
            data = wire * per_read
            reads = frames // per_read
            results: dict[bool, list[float]] = {False: [], True: []}
            for _ in range(rounds):
                for quick in (False, True):
                    protocol._quick = limit if quick else None
                    count.clear()
                    started = time.thread_time()
                    for _ in range(reads):
                        protocol.data_received(data)
                    elapsed = time.thread_time() - started
                    assert len(count) == reads * per_read, "every frame reached the receiver"
                    results[quick].append(elapsed / (reads * per_read) * 1e6)
            slow, fast = (statistics.median(results[q]) for q in (False, True))
            print(f"{name:8s} {per_read:8d} {slow:14.2f} {fast:13.2f}")
    protocol.connection_lost(None)  # the application sees the disconnect and returns
    await asyncio.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="4,000 frames, 3 rounds")
    args = parser.parse_args()
    if args.quick:
        args.frames, args.rounds = 4_000, 3
    asyncio.run(_run(args.frames, args.rounds))


if __name__ == "__main__":
    main()
