"""The Redis the platform's tests use, and why it cannot be used, if it cannot.

Test modules import these from here, never ``from _platform_env import``: with every test folder
collected, the module named ``conftest`` may be another folder's (tests/ has one).
"""

from __future__ import annotations

import os

__all__ = ["REDIS_URL", "redis_reason"]

REDIS_URL = os.environ.get("WEIRSOE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def redis_reason() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        return f"Redis at {REDIS_URL} unreachable: {type(exc).__name__}: {exc}"
    return None
