"""Weirsøe Quips: answer prompts head to head, then everyone votes for the funnier answer."""

from weirsoe_sdk import CartridgeInfo

__version__ = "0.1.0"

INFO = CartridgeInfo(
    slug="weirsoe_quips",
    title="Weirsøe Quips",
    version=__version__,
    min_players=3,
    max_players=8,
    description="Write the funniest answer, head to head, and let the room vote.",
)

__all__ = ["INFO", "__version__"]
