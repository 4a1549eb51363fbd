"""The auto-pipelining Redis client (``weirsoe_platform._resp``), against the real Redis."""

from __future__ import annotations

import asyncio
import os
import socket
from urllib.parse import urlparse

import pytest
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from weirsoe_platform import _resp
from weirsoe_platform._resp import PipelinedRedis, RedisAddress, RespParser, command
from weirsoe_platform.sessions._redis_store import RedisSessionStore, connect_redis

REDIS_URL = os.environ.get("WEIRSOE_TEST_REDIS", "redis://127.0.0.1:6379/0")  # as conftest.py

pytestmark = pytest.mark.redis


def _client(**kwargs: float) -> PipelinedRedis:
    return PipelinedRedis(RedisAddress.from_url(REDIS_URL), **kwargs)


async def test_commands_issued_together_share_one_write_and_get_their_own_replies(
    redis_cleanup: str,
) -> None:
    client = _client()
    monitor = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.execute(b"PING")  # connect first, then count the writes of the burst
        conn = client._conn
        assert conn is not None
        before = conn.writes
        keys = [f"{redis_cleanup}:n{i % 7}" for i in range(300)]
        replies = await asyncio.gather(*(client.execute(b"INCR", key) for key in keys))
        # Every reply belongs to its own command: the i-th INCR of a key returns i.
        seen: dict[str, int] = {}
        for key, reply in zip(keys, replies, strict=True):
            seen[key] = seen.get(key, 0) + 1
            assert reply == seen[key]
        writes = conn.writes - before
        assert writes == 1, f"300 commands issued in one loop turn took {writes} writes"
        assert int(await monitor.get(f"{redis_cleanup}:n0") or 0) == seen[keys[0]]
    finally:
        await client.aclose()
        await monitor.aclose()


async def test_an_error_reply_raises_and_the_next_replies_stay_in_step(redis_cleanup: str) -> None:
    client = _client()
    key = f"{redis_cleanup}:s"
    try:
        await client.execute(b"SET", key, b"text")
        results = await asyncio.gather(
            client.execute(b"ECHO", b"a"),
            client.execute(b"INCR", key),  # WRONGTYPE-free error: not an integer
            client.execute(b"ECHO", b"b"),
            return_exceptions=True,
        )
        assert results[0] == b"a"
        assert isinstance(results[1], ResponseError)
        assert results[2] == b"b"
    finally:
        await client.aclose()


async def test_a_cancelled_caller_does_not_shift_the_replies_of_the_others(
    redis_cleanup: str,
) -> None:
    client = _client()
    try:
        await client.execute(b"PING")
        first = asyncio.ensure_future(client.execute(b"ECHO", b"one"))
        doomed = asyncio.ensure_future(client.execute(b"ECHO", b"two"))
        last = asyncio.ensure_future(client.execute(b"ECHO", b"three"))
        await asyncio.sleep(0)
        doomed.cancel()
        assert await first == b"one"
        assert await last == b"three"
        assert await client.execute(b"ECHO", b"four") == b"four"
    finally:
        await client.aclose()


async def test_scripts_are_loaded_again_after_redis_forgets_them(redis_cleanup: str) -> None:
    client = _client()
    admin = aioredis.Redis.from_url(REDIS_URL)
    script = "return redis.call('INCRBY', KEYS[1], ARGV[1])"
    key = f"{redis_cleanup}:script"
    try:
        assert await client.evalsha(script, [key], [2]) == 2
        await admin.script_flush()  # what a restarted Redis looks like to a script
        assert await client.evalsha(script, [key], [3]) == 5
    finally:
        await client.aclose()
        await admin.aclose()


async def test_a_reply_callback_runs_as_the_reply_is_read_before_the_caller_resumes(
    redis_cleanup: str,
) -> None:
    """``evalsha(..., then)``: ``then`` gets the reply in the connection's read callback (no
    task is running there), before the awaiting caller resumes; once per successful reply,
    never for an error reply (nor for the ``NOSCRIPT`` that precedes a reload), and also
    when the caller was cancelled while the command was on its way."""
    client = _client()
    admin = aioredis.Redis.from_url(REDIS_URL)
    script = (
        "if ARGV[1] == 'bad' then return redis.error_reply('ERR refused') end "
        "return redis.call('INCRBY', KEYS[1], ARGV[1])"
    )
    key = f"{redis_cleanup}:then"
    seen: list[tuple[str, object, bool]] = []

    def then(reply: object) -> None:
        seen.append(("then", reply, asyncio.current_task() is None))

    try:
        await client.execute(b"PING")
        await admin.script_flush()  # the first run is answered NOSCRIPT, then loads it
        reply = await client.evalsha(script, [key], [2], then)
        seen.append(("resumed", reply, asyncio.current_task() is None))
        assert seen == [("then", 2, True), ("resumed", 2, False)]

        seen.clear()
        with pytest.raises(ResponseError, match="refused"):
            await client.evalsha(script, [key], ["bad"], then)
        assert seen == []

        doomed = asyncio.ensure_future(client.evalsha(script, [key], [3], then))
        await asyncio.sleep(0)  # written; the reply is on its way
        doomed.cancel()
        assert await client.execute(b"GET", key) == b"5"
        assert seen == [("then", 5, True)]
    finally:
        await client.aclose()
        await admin.aclose()


async def test_a_command_with_a_reply_callback_is_written_at_once_with_what_was_queued(
    redis_cleanup: str,
) -> None:
    """A command with ``then`` does not wait for the turn's write: it goes out in the call,
    together with the commands queued before it in the same turn (replies stay in order),
    and the turn's own write then has nothing left to send."""
    client = _client()
    try:
        await client.execute(b"PING")
        conn = client._conn
        assert conn is not None
        before = conn.writes
        first = asyncio.ensure_future(client.execute(b"ECHO", b"queued"))
        await asyncio.sleep(0)  # its turn ran: queued for the turn's write, not yet sent
        assert conn.pending
        assert conn.writes == before
        got: list[object] = []
        now = conn.send(command(b"ECHO", b"now"), 5.0, got.append)
        assert conn.writes == before + 1  # written in the call, with the queued one
        assert not conn.pending
        assert await first == b"queued"
        assert await now == b"now"
        assert got == [b"now"]
        await asyncio.sleep(0.05)
        assert conn.writes == before + 1  # the turn's write found nothing to send
    finally:
        await client.aclose()


async def test_a_script_run_for_many_calls_goes_in_one_write_and_runs_each_once(
    redis_cleanup: str,
) -> None:
    """``evalsha_many``: one write for every call, each reply in its place, an error reply
    left in its place; after Redis forgot the script (a restart), it is loaded once and every
    call runs exactly once (INCRBY shows a call run twice)."""
    client = _client()
    admin = aioredis.Redis.from_url(REDIS_URL)
    script = (
        "if ARGV[1] == 'bad' then return redis.error_reply('ERR refused') end "
        "return redis.call('INCRBY', KEYS[1], ARGV[1])"
    )
    keys = [f"{redis_cleanup}:many{i}" for i in range(20)]
    try:
        await client.execute(b"PING")
        conn = client._conn
        assert conn is not None
        await admin.script_flush()  # what a restarted Redis looks like to a script
        calls = [([key], [i + 1]) for i, key in enumerate(keys)]
        calls[7] = ([keys[7]], ["bad"])
        before = conn.writes
        replies = await client.evalsha_many(script, calls)
        # NOSCRIPT for all: the batch, SCRIPT LOAD, the batch again: three writes, not 40.
        assert conn.writes - before == 3
        assert isinstance(replies[7], ResponseError)
        assert "refused" in str(replies[7])
        assert [r for i, r in enumerate(replies) if i != 7] == [i + 1 for i in range(20) if i != 7]
        before = conn.writes
        again = await client.evalsha_many(script, calls[:3])
        assert again == [2, 4, 6]  # each ran once more, not twice
        assert conn.writes - before == 1
    finally:
        await client.aclose()
        await admin.aclose()


async def test_a_killed_connection_is_replaced_and_the_command_retried(redis_cleanup: str) -> None:
    client = _client()
    admin = aioredis.Redis.from_url(REDIS_URL)
    try:
        name = f"{redis_cleanup}-pipelined".encode()
        await client.execute(b"CLIENT", b"SETNAME", name)
        assert await admin.client_kill_filter(_id=await _client_id(admin, name)) == 1
        await asyncio.sleep(0.05)  # the close reaches the client's protocol
        assert await client.execute(b"ECHO", b"after") == b"after"
        assert client.reconnects == 1
    finally:
        await client.aclose()
        await admin.aclose()


async def _client_id(admin: aioredis.Redis, name: bytes) -> int:
    for entry in await admin.client_list():
        if entry.get("name") == name.decode():
            return int(entry["id"])
    raise AssertionError(f"no client named {name!r}")


async def test_a_command_that_gets_no_answer_times_out_and_the_connection_is_replaced(
    redis_cleanup: str,
) -> None:
    client = _client(timeout=0.3)
    try:
        with pytest.raises(RedisTimeoutError):  # BLPOP holds the reply for 3 s, twice
            await client.execute(b"BLPOP", f"{redis_cleanup}:empty", 3)
        assert await client.execute(b"ECHO", b"fresh") == b"fresh"
    finally:
        await client.aclose()


async def test_an_unreachable_redis_is_a_connection_error() -> None:
    client = PipelinedRedis(RedisAddress.from_url("redis://127.0.0.1:1/0"), connect_timeout=0.5)
    with pytest.raises(RedisConnectionError):
        await client.execute(b"PING")


async def test_the_url_selects_the_database(redis_cleanup: str) -> None:
    parsed = urlparse(REDIS_URL)
    other = f"redis://{parsed.netloc}/3"
    client = PipelinedRedis(RedisAddress.from_url(other))
    db3 = aioredis.Redis.from_url(other)
    db0 = aioredis.Redis.from_url(REDIS_URL)
    key = f"{redis_cleanup}:db"
    try:
        await client.execute(b"SET", key, b"three")
        assert await db3.get(key) == b"three"
        if parsed.path in ("", "/", "/0"):
            assert await db0.get(key) is None
    finally:
        await db3.delete(key)
        await client.aclose()
        await db3.aclose()
        await db0.aclose()


async def test_the_session_store_pipelines_through_it_unless_told_not_to() -> None:
    plain = connect_redis(REDIS_URL)
    assert RedisSessionStore(plain, prefix="x").fast is not None
    assert RedisSessionStore(plain, prefix="x", pipelined=False).fast is None
    tls = aioredis.Redis.from_url("rediss://127.0.0.1:6390/0")
    assert RedisSessionStore(tls, prefix="x").fast is None  # TLS options stay with redis-py
    await plain.aclose()
    await tls.aclose()


def test_commands_and_error_replies_in_resp() -> None:
    assert command(b"SET", "k", 1, 2.5) == b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n$3\r\n2.5\r\n"
    with pytest.raises(TypeError, match="cannot send NoneType to Redis"):
        command(b"SET", "k", None)  # neither encoder takes it: the Python one's error
    parser = RespParser()
    address = RedisAddress.from_url(REDIS_URL)
    with socket.create_connection((address.host, address.port), timeout=5) as conn:
        conn.sendall(command(b"EVALSHA", b"0" * 40, 0))  # the reply the real Redis writes
        parser.feed(conn.recv(65536))
    reply = parser.gets()
    assert isinstance(reply, ResponseError)
    assert str(reply).startswith("NOSCRIPT")
    with pytest.raises(ValueError, match="not a Redis URL"):
        RedisAddress.from_url("http://127.0.0.1:6379")
    address = RedisAddress.from_url("redis://user:p%40ss@example.test:6380/2")
    assert (address.host, address.port, address.db) == ("example.test", 6380, 2)
    assert address.hello() == [command("AUTH", "user", "p@ss"), command("SELECT", 2)]


@pytest.mark.parametrize(
    "parts",
    [
        (b"EVALSHA", b"0" * 40, 3, "p:session:ABCD", "p:deadline:ABCD", "p:deadlines", 7, 8),
        (b"SET", "clé", b"\x00\r\n" * 1000, -1, 0, 10**20),
        (b"ZADD", "z", 1796194854.2308443, 0.1, 2.5e-07, 1e20, float("inf")),
        (b"SET", "flag", True, False),  # hiredis refuses bools: the Python encoder takes them
    ],
)
def test_hiredis_and_the_python_encoder_write_the_same_bytes(parts: tuple[object, ...]) -> None:
    """``command`` writes with hiredis's C encoder where it is installed; what it writes must
    be what the Python encoder writes (floats by their ``repr``, as redis-py does)."""
    python = _resp._encode(parts)
    assert command(*parts) == python
    assert python.startswith(b"*%d\r\n" % len(parts))
    if _resp._hiredis_pack is not None and not any(isinstance(p, bool) for p in parts):
        assert _resp._hiredis_pack(parts) == python


def test_it_runs_on_uvloop_as_the_server_does(redis_cleanup: str) -> None:
    """uvloop's transports are not ``asyncio.Transport`` subclasses; the client must not care
    (``weirsoe serve`` runs on uvloop)."""
    uvloop = pytest.importorskip("uvloop")

    async def main() -> list[bytes]:
        client = _client()
        try:
            return list(
                await asyncio.gather(*(client.execute(b"ECHO", b"%d" % i) for i in range(50)))
            )
        finally:
            await client.aclose()

    assert uvloop.run(main()) == [b"%d" % i for i in range(50)]
