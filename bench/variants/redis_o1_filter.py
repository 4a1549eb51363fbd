"""``weirsoe serve`` with an O(1) channel check in the Redis pub/sub reader, for A/B runs:

    uv run python bench/loadgen.py --variant redis_o1_filter --servers raw,redis ...

Litestar's ``RedisChannelsPubSubBackend.stream_events`` builds the set difference of every
subscribed channel and every pending unsubscribe for each message it receives: O(channels)
per message, about 1,800 channels at 200 rooms of 8. This variant checks the one channel.
Measured on 2026-11-28: about 13 % less server CPU per delivered message at 200 rooms on
Redis, more with more rooms (see docs/performance.md). Not applied to the platform here.
"""

import sys
from collections.abc import AsyncGenerator
from typing import Any

from litestar.channels.backends.redis import RedisChannelsPubSubBackend

from weirsoe_platform.cli import main


async def _stream_events(self: Any) -> AsyncGenerator[tuple[str, Any], None]:
    pubsub = self._pub_sub
    while True:
        await self._has_subscribed.wait()
        message = await pubsub.get_message(
            ignore_subscribe_messages=True, timeout=self._stream_sleep_no_subscriptions
        )
        if message is None:
            continue
        channel = message["channel"]
        if channel in pubsub.channels and channel not in pubsub.pending_unsubscribe_channels:
            yield channel.decode(), message["data"]


RedisChannelsPubSubBackend.stream_events = _stream_events  # type: ignore[method-assign]
sys.exit(main(sys.argv[1:]))
