"""Publishing encoded messages to channels through Litestar's ChannelsPlugin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from litestar.channels import ChannelsPlugin, Subscriber
from litestar.channels.backends.base import ChannelsBackend

__all__ = ["ChannelsPublisher", "SettledChannelsPlugin"]


class SettledChannelsPlugin(ChannelsPlugin):
    """Litestar's plugin, whose ``subscribe`` returns only once the backend has the subscription.

    A backend with a ``settle()`` coroutine (the Redis one) is waited for; the memory backend
    subscribes synchronously and has none. The socket reads its snapshot after this returns, so
    every event newer than the snapshot reaches it.
    """

    def __init__(self, *, backend: ChannelsBackend, **options: Any) -> None:
        super().__init__(backend=backend, **options)
        # Kept from the constructor's argument: the plugin's own backend attribute is private.
        self._settle: Callable[[], Awaitable[None]] | None = getattr(backend, "settle", None)

    async def subscribe(
        self, channels: str | Iterable[str], history: int | None = None
    ) -> Subscriber:
        subscriber = await super().subscribe(channels, history)
        if self._settle is not None:
            await self._settle()
        return subscriber


class ChannelsPublisher:
    """Each message is encoded once by the service and published as bytes, in order."""

    def __init__(self, channels: ChannelsPlugin) -> None:
        self.channels = channels

    async def publish(self, messages: list[tuple[bytes, list[str]]]) -> None:
        for data, names in messages:
            self.channels.publish(data, names)
