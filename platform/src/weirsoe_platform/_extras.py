"""Optional dependencies: which extra brings which feature, and a clear error without it.

``pip install weirsoe-platform`` is the embedded server. Redis support is the ``[redis]`` extra
(redis-py with hiredis, taskiq-redis) and PostgreSQL the ``[postgres]`` extra (asyncpg).
"""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRAS", "MissingExtra", "require_extra"]

#: extra name -> (what it is for, the modules it installs)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "redis": ("Redis support (--redis / WEIRSOE_REDIS_URL)", ("redis", "taskiq_redis")),
    "postgres": ("PostgreSQL support (postgresql+asyncpg:// URLs)", ("asyncpg",)),
}


class MissingExtra(ImportError):
    """A feature was asked for whose optional dependencies are not installed."""

    def __init__(self, extra: str, feature: str, missing: list[str]) -> None:
        self.extra = extra
        self.missing = missing
        super().__init__(
            f"{feature} needs the weirsoe-platform[{extra}] extra "
            f"(missing: {', '.join(missing)}). "
            f"Install it with: pip install 'weirsoe-platform[{extra}]'"
        )


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent is missing, or sys.modules holds None
        return False


def require_extra(extra: str) -> None:
    """:raises MissingExtra: naming the extra, if any of its modules is not installed."""
    feature, modules = EXTRAS[extra]
    missing = [m for m in modules if not _installed(m)]
    if missing:
        raise MissingExtra(extra, feature, missing)
