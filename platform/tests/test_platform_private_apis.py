"""Third-party private names: the platform uses none, and these tests keep it so.

Replaced by public APIs: Alembic's ``ScriptDirectory._upgrade_revs`` (now
``ScriptDirectory.iterate_revisions`` + ``MigrationStep``, accounts/_migrate.py) and
taskiq-redis's ``_declare_consumer_group`` (now ``XGROUP CREATE`` through redis-py, in
``ResilientStreamBroker.declare_group``). Litestar's ``ChannelsPlugin._channels`` and its Redis
backend's privates, and redis-py's ``PubSub.channels``, went with the channels plugin (the
workarounds for Litestar issues #4867 and #4894); transport/_hub.py fans out instead.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from _platform_env import REDIS_URL

import weirsoe_platform

SRC = Path(weirsoe_platform.__file__).parent
GONE = [
    r"\b_upgrade_revs\b",
    r"\b_declare_consumer_group\b",
    r"\.\s*_channels\b",  # ChannelsPlugin._channels
    r"\._pub_sub\b",  # RedisChannelsPubSubBackend._pub_sub
    r"\b_has_subscribed\b",
    r"\bpending_unsubscribe_channels\b",  # redis-py PubSub
    r"\.pubsub\(\)",  # redis-py PubSub objects (their .channels is undocumented)
    r"\blitestar\.channels\b",
]


def test_no_third_party_private_name_is_used() -> None:
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text()
        for pattern in GONE:
            found = re.search(pattern, text)
            assert found is None, f"{path.relative_to(SRC)}: {found.group(0)!r} is private"


def test_the_public_alembic_names_we_use_exist() -> None:
    from alembic.runtime.migration import MigrationStep
    from alembic.script.revision import RevisionMap

    assert "implicit_base" in inspect.signature(RevisionMap.iterate_revisions).parameters
    assert list(inspect.signature(MigrationStep.upgrade_from_script).parameters) == [
        "revision_map",
        "script",
    ]


def test_the_public_taskiq_broker_attributes_we_use_exist() -> None:
    from weirsoe_platform.timers import make_broker

    broker = make_broker("redis://127.0.0.1:1/0", prefix="wtest-attrs")
    for name in ("connection_pool", "queue_name", "consumer_group_name", "consumer_id"):
        assert hasattr(broker, name), f"taskiq-redis RedisStreamBroker.{name} moved"


async def test_the_timer_stream_group_is_declared_again_after_redis_lost_it(
    redis_prefix: str, redis_cleanup: str
) -> None:
    from redis import asyncio as aioredis

    from weirsoe_platform.timers import make_broker

    broker = make_broker(REDIS_URL, prefix=redis_prefix)
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await broker.declare_group()  # creates the stream (MKSTREAM) and the group
        await broker.declare_group()  # BUSYGROUP: no error
        groups = await client.xinfo_groups(f"{redis_prefix}:timers")
        assert [g["name"] for g in groups] == [f"{redis_prefix}:workers".encode()]
    finally:
        await client.aclose()
        await broker.connection_pool.disconnect()
