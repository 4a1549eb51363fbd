"""``GET /metrics``: Prometheus' text format, off unless the operator turns it on."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException

from ..metrics import CONTENT_TYPE, Metrics
from ..sessions import Unauthorized

__all__ = ["metrics_endpoint"]

_CHUNK = 500  # rooms read at once by a scrape


@get("/metrics", include_in_schema=False)
async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    """404 unless ``metrics_public``; with ``metrics_token``, 401 without that bearer token."""
    state = request.app.state
    settings = state.service.settings
    if not settings.metrics_public:
        if not settings.metrics_token:
            raise NotFoundException("metrics are off (set WEIRSOE_METRICS_TOKEN)")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), settings.metrics_token.encode()
        ):
            raise Unauthorized("send the metrics token as 'Authorization: Bearer <token>'")
    metrics: Metrics = state.metrics
    await _read_gauges(state, metrics)
    return Response(metrics.render(), media_type=CONTENT_TYPE)


async def _read_gauges(state: Any, metrics: Metrics) -> None:
    """Rooms with sockets here and live workers. Each room's status is as of the version its
    sockets here were sent last, so most rooms need neither the store nor a decode
    (``SessionService.read``), and the rest are asked together, a chunk at a time (their
    round trips share the pipelined connection's writes). Loading and decoding every room
    one after another instead, a scrape at 750 rooms took 0.5-0.6 s on Redis, and 4-5 s on a
    saturated server (docs/performance.md, section 47)."""
    service = state.service
    metrics.rooms.clear()
    counts: dict[tuple[str, str], int] = {}

    async def one(code: str) -> tuple[str, str] | None:
        with contextlib.suppress(Exception):  # gone or unreachable: not counted this time
            record, table = await service.read(code, seen=True)
            return record.cartridge, str(table.status)
        return None

    codes = list(state.watch.rooms)[:10_000]
    for start in range(0, len(codes), _CHUNK):
        for key in await asyncio.gather(*map(one, codes[start : start + _CHUNK])):
            if key is not None:
                counts[key] = counts.get(key, 0) + 1
    for (cartridge, status), n in counts.items():
        metrics.rooms.labels(cartridge, status).set(n)
    # counted by the Redis store as each compare-and-set's reply is read (0 embedded)
    metrics.unpublished.value = int(getattr(service.store, "unpublished", 0))
    redis = getattr(state.backends, "redis", None)
    if redis is None:
        metrics.workers.set(1)
        return
    from ..timers import live_workers

    with contextlib.suppress(Exception):
        count = await asyncio.wait_for(live_workers(redis, settings_prefix(service)), 2)
        metrics.workers.set(count)


def settings_prefix(service: Any) -> str:
    return str(service.settings.redis_prefix)
