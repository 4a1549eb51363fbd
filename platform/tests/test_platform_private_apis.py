"""Canaries for the third-party private names the platform still relies on, where no public API
exists. Each fails loudly, naming what moved, when a dependency upgrade changes it; the
dependency is bounded in platform/pyproject.toml until then.

- Litestar ``ChannelsPlugin._channels``: pruned per room (Litestar issue #4867).
- Litestar ``RedisChannelsPubSubBackend._pub_sub``, ``_has_subscribed``,
  ``_stream_sleep_no_subscriptions``, and redis-py ``PubSub.channels`` and
  ``pending_unsubscribe_channels``: the serialised Redis fan-out (Litestar issue #4894).

Replaced by public APIs (and checked here to stay so): Alembic's ``_upgrade_revs`` (now
``ScriptDirectory.iterate_revisions`` + ``MigrationStep``) and the channels plugin's private
``_backend`` (now the constructor's argument), taskiq-redis's ``_declare_consumer_group``
(now ``XGROUP CREATE`` through redis-py, in ``ResilientStreamBroker.declare_group``).
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from conftest import REDIS_URL
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

import weirsoe_platform

SRC = Path(weirsoe_platform.__file__).parent


async def test_litestar_channels_plugin_keeps_subscribers_in_channels() -> None:
    plugin = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    async with plugin:
        subscriber = await plugin.subscribe(["ROOM:A"])
        registry = plugin._channels
        assert isinstance(registry, dict), "ChannelsPlugin._channels is no longer a dict"
        assert registry.get("ROOM:A") == {subscriber}, "ChannelsPlugin._channels changed shape"
        await plugin.unsubscribe(subscriber, ["ROOM:A"])
        # Still leaking (#4867)? If Litestar now prunes by itself, drop transport._ws._prune.
        assert registry.get("ROOM:A") == set(), "Litestar prunes empty channels now (#4867)"


def test_litestar_redis_backend_privates_exist() -> None:
    from litestar.channels.backends.redis import RedisChannelsPubSubBackend
    from redis import asyncio as aioredis

    backend = RedisChannelsPubSubBackend(redis=aioredis.Redis.from_url("redis://127.0.0.1:1/0"))
    for name in ("_has_subscribed", "_stream_sleep_no_subscriptions"):
        assert hasattr(backend, name), f"RedisChannelsPubSubBackend.{name} moved"
    assert isinstance(inspect.getattr_static(type(backend), "_pub_sub"), property), (
        "RedisChannelsPubSubBackend._pub_sub is no longer a property"
    )
    pub_sub = backend._pub_sub
    assert isinstance(pub_sub.channels, dict), "redis-py PubSub.channels moved"
    assert isinstance(pub_sub.pending_unsubscribe_channels, set), (
        "redis-py PubSub.pending_unsubscribe_channels moved"
    )


def test_no_replaced_private_name_comes_back() -> None:
    sources = "\n".join(p.read_text() for p in SRC.rglob("*.py"))
    for name in (r"\b_upgrade_revs\b", r"\._backend\b", r"\b_declare_consumer_group\b"):
        found = re.search(name, sources)
        assert found is None, f"{found} is a private name with a public replacement"


def test_the_public_alembic_names_we_use_exist() -> None:
    from alembic.runtime.migration import MigrationStep
    from alembic.script.revision import RevisionMap

    assert "implicit_base" in inspect.signature(RevisionMap.iterate_revisions).parameters
    assert list(inspect.signature(MigrationStep.upgrade_from_script).parameters) == [
        "revision_map",
        "script",
    ]


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
