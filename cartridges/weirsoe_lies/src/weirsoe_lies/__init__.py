"""Weirsøe Lies: write lies for a trivia prompt, then find the truth among them."""

from weirsoe_sdk import CartridgeInfo

__version__ = "0.1.0"

INFO = CartridgeInfo(
    slug="weirsoe_lies",
    title="Weirsøe Lies",
    version=__version__,
    min_players=2,
    max_players=8,
    description="Fool your friends with convincing lies, then find the truth.",
)

__all__ = ["INFO", "__version__"]
