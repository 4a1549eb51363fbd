"""A closed game socket leaves no reference cycle behind (docs/performance.md, section 52).

``weirsoe serve`` freezes what survives its collector's steps, so a socket's objects that only
the cyclic collector could free waited for a full collection: under socket churn (phones
reconnecting) those came every few seconds and took half a second each. Three cycles were
broken: Litestar's ``WebSocket`` with its own ``receive``/``send`` wrappers, the scope's
direct-write extension with the protocol's bound method (and ``websockets``' parser
generator), and httptools' parser with the HTTP protocol that a WebSocket upgraded. This runs
the real app under uvicorn with the protocols ``serve`` passes, plays sockets that close in
each way a client closes, and looks at what only the collector would free.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from _uvicorn import running
from websockets.asyncio.client import connect

from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.web import create_app
from weirsoe_platform.web._http import header_timeout_protocol
from weirsoe_platform.web._ws_protocol import direct_websocket_protocol

# What a game socket is made of, on the server's side.
SOCKET_TYPES = {
    "WebSocket",  # Litestar's
    "DirectWebSocketProtocol",
    "ServerProtocol",  # websockets'
    "HeaderTimeoutHTTPProtocol",
    "HttpRequestParser",
    "TCPTransport",
}


@pytest.fixture(autouse=True)
def _collector() -> Iterator[None]:
    """No automatic collection while a test runs: it could free a cycle before the test
    looks. The test process's collector is left as it was."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@contextlib.asynccontextmanager
async def _serve(tmp_path: Path) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    """The app on uvicorn at 127.0.0.1, with the HTTP and WebSocket protocols of `serve`."""
    settings = PlatformSettings(database_url=f"sqlite:///{tmp_path / 'w.db'}")
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=0,
        http=header_timeout_protocol(10.0),
        ws=direct_websocket_protocol(),
        ws_max_size=64 * 1024,
        ws_per_message_deflate=False,
        lifespan="on",
        log_level="warning",
    )
    async with running(config) as (server, port, _):
        yield f"127.0.0.1:{port}", server


def _cyclic_garbage() -> dict[str, int]:
    """Objects of a socket's kinds that only the cyclic collector would free."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.collect()
    found: dict[str, int] = {}
    for obj in gc.garbage:
        name = type(obj).__qualname__.rpartition(".")[2]
        if name in SOCKET_TYPES:
            found[name] = found.get(name, 0) + 1
    gc.set_debug(0)
    gc.garbage.clear()
    return found


async def _settle(server: uvicorn.Server) -> None:
    """Until the server has no connection and no handler left (each socket's task done)."""
    for _ in range(500):
        if not server.server_state.connections and not server.server_state.tasks:
            break
        await asyncio.sleep(0.01)
    assert not server.server_state.connections, "a connection stayed open"
    await asyncio.sleep(0.05)  # the handlers' last steps after the connection went


@pytest.mark.parametrize("how", ["close", "abort"])
async def test_a_closed_game_socket_leaves_no_cycle(tmp_path: Path, how: str) -> None:
    async with _serve(tmp_path) as (host, server):
        async with httpx.AsyncClient(base_url=f"http://{host}") as http:
            created = (await http.post("/api/sessions", json={"cartridge": "rps"})).json()
            code = created["code"]
            joined = (await http.post(f"/api/sessions/{code}/players", json={"name": "Ada"})).json()
        urls = [
            f"ws://{host}/ws/game/{code}?token={joined['token']}",
            f"ws://{host}/ws/game/{code}?role=host&token={created['host_token']}",
        ]
        await _settle(server)
        assert _cyclic_garbage() == {}, "the test's premise: nothing of a socket's kind yet"
        for _ in range(3):
            for url in urls:
                client = await connect(url, compression=None)
                snapshot: Any = await asyncio.wait_for(client.recv(), 10)
                assert '"type":"session.snapshot"' in snapshot
                await client.send('{"type":"sync"}')
                await asyncio.wait_for(client.recv(), 10)
                if how == "close":
                    await client.close()
                else:  # the network went: no closing handshake
                    assert client.transport is not None
                    client.transport.abort()
        await _settle(server)
        assert _cyclic_garbage() == {}


def _alive(name: str) -> list[Any]:
    gc.collect()
    return [obj for obj in gc.get_objects() if type(obj).__qualname__.rpartition(".")[2] == name]


async def test_an_open_game_socket_keeps_nothing_of_its_start(tmp_path: Path) -> None:
    """Once a socket is open, the HTTP protocol it was upgraded from, the handshake's request
    and response, and the first snapshot are gone (docs/performance.md, sections 54 and 56)."""
    async with _serve(tmp_path) as (host, server):
        async with httpx.AsyncClient(base_url=f"http://{host}") as http:
            created = (await http.post("/api/sessions", json={"cartridge": "rps"})).json()
            code = created["code"]
            joined = (await http.post(f"/api/sessions/{code}/players", json={"name": "Ada"})).json()
        await _settle(server)
        assert _alive("HeaderTimeoutHTTPProtocol") == []
        urls = [
            f"ws://{host}/ws/game/{code}?token={joined['token']}",
            f"ws://{host}/ws/game/{code}?role=host&token={created['host_token']}",
        ]
        clients = [await connect(url, compression=None) for url in urls]
        try:
            for client in clients:
                snapshot: Any = await asyncio.wait_for(client.recv(), 10)
                assert '"type":"session.snapshot"' in snapshot
            protocols = _alive("DirectWebSocketProtocol")
            assert len(protocols) == 2
            assert all(p.handshake_complete and p.response is None for p in protocols)
            assert all(p.request is None for p in protocols)
            # Nor does websockets' frame parser, nor a multidict of its headers (section 56).
            requests = [r for r in _alive("Request") if type(r).__module__ == "websockets.http11"]
            assert {id(r) for r in requests} == {id(c.request) for c in clients}  # the clients'
            assert _alive("CIMultiDict") == []
            # Nor do the app's own middlewares stay suspended under it (section 56).
            ours = [
                c.cr_code.co_qualname
                for c in _alive("coroutine")
                if "weirsoe_platform" in c.cr_code.co_filename and "middleware" in c.cr_code.co_name
            ]
            assert ours == []
            # Not held for the header timeout (10 s here) by a timer of its own either.
            assert _alive("HeaderTimeoutHTTPProtocol") == []
            # Nor does the socket's handler keep its first snapshot.
            handlers = [c for c in _alive("coroutine") if c.cr_code.co_name == "_game_socket"]
            assert len(handlers) == 2
            assert all("snapshot" not in c.cr_frame.f_locals for c in handlers)
            # And the sockets still work.
            for client in clients:
                await client.send('{"type":"sync"}')
                received = [await asyncio.wait_for(client.recv(), 10)]
                while '"type":"session.snapshot"' not in received[-1] and len(received) < 10:
                    received.append(await asyncio.wait_for(client.recv(), 10))
                assert '"type":"session.snapshot"' in received[-1], received
        finally:
            for client in clients:
                await client.close()
        await _settle(server)
