"""Publishing encoded messages to channels through Litestar's ChannelsPlugin."""

from __future__ import annotations

from litestar.channels import ChannelsPlugin

__all__ = ["ChannelsPublisher"]


class ChannelsPublisher:
    """Each message is encoded once by the service and published as bytes, in order."""

    def __init__(self, channels: ChannelsPlugin) -> None:
        self.channels = channels

    async def publish(self, messages: list[tuple[bytes, list[str]]]) -> None:
        for data, names in messages:
            self.channels.publish(data, names)
