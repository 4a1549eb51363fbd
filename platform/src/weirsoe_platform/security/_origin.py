"""The WebSocket Origin check (Litestar's CORS does not cover WebSockets)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["origin_allowed"]


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def origin_allowed(
    origin: str | None, host: str | None, *, public_url: str | None, allowed: Iterable[str]
) -> bool:
    """Browsers always send ``Origin`` on WebSockets, so a cross-site page cannot hide it.

    Allowed: no Origin at all (not a browser: tools, bots, load tests), the same origin as the
    request's Host, the configured public URL's origin, and every origin in ``allowed``
    (``*`` allows any).
    """
    if not origin:
        return True
    origin = origin.strip().lower()
    allowed = [a.strip().lower().rstrip("/") for a in allowed]
    if "*" in allowed or origin in allowed:
        return True
    if public_url and origin == _origin_of(public_url):
        return True
    netloc = urlsplit(origin).netloc
    return bool(host) and netloc == (host or "").strip().lower()
