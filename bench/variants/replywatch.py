"""``weirsoe serve`` recording how long each compare-and-set's reply waited to be read, beside
how late the event loop ran a timer at the same time (docs/performance.md, section 76):

    BENCH_REPLY_OUT=/tmp/reply.jsonl \
        uv run python bench/capacity.py --redis --variant replywatch ...

A compare-and-set is written at once (``_Connection.send`` with ``then``); its wait is the
time from that write to the ``data_received`` call that reads its reply: Redis's work, the
loopback, and the turns the loop spent on other callbacks before it read the socket. A 5 ms
timer measures the loop's lag (uvloop's clock has 1 ms steps). Every 2 s it appends a JSON
line to ``BENCH_REPLY_OUT``: the count and percentiles (ms) of the waits and of the lag.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

from _samples import Samples, percentile, report_every

from weirsoe_platform import _resp
from weirsoe_platform.cli import main

OUT = os.environ.get("BENCH_REPLY_OUT", "replywatch.jsonl")
_sent: dict[int, float] = {}
_waits = Samples()
_lags = Samples()
_send = _resp._Connection.send
_data_received = _resp._Connection.data_received
_open = _resp.RedisAddress.open
_ticking = [False]


def send(self: Any, data: bytes, timeout: float, then: Any = None) -> Any:
    future = _send(self, data, timeout, then)
    if then is not None:  # a compare-and-set: written at once
        _sent[id(future)] = time.perf_counter()
    return future


def data_received(self: Any, data: bytes) -> None:
    now = time.perf_counter()
    waiting = [waiter[0] for waiter in self.waiters]
    _data_received(self, data)
    for future in waiting:  # replies come in order: stop at the first still waiting
        if not future.done():
            break
        sent = _sent.pop(id(future), None)
        if sent is not None:
            _waits.add(now - sent)


def _tick(loop: asyncio.AbstractEventLoop, due: float) -> None:
    now = loop.time()
    _lags.add(now - due)
    loop.call_at(now + 0.005, _tick, loop, now + 0.005)


async def open_(self: Any, protocol: Any, timeout: float) -> Any:
    if not _ticking[0]:  # the first connection: start the lag timer on the server's loop
        _ticking[0] = True
        loop = asyncio.get_running_loop()
        loop.call_at(loop.time() + 0.005, _tick, loop, loop.time() + 0.005)
    return await _open(self, protocol, timeout)


def _ms(values: list[float], share: float) -> float:
    return round(percentile(values, share) * 1e3, 2)


def _report() -> None:
    waits, lags = _waits.drain(), _lags.drain()
    if not waits:
        return
    line: dict[str, Any] = {"t": round(time.time(), 3), "replies": len(waits)}
    line.update({f"wait_{n}": _ms(waits, s) for n, s in (("p50", 0.5), ("p99", 0.99))})
    line["wait_max"] = _ms(waits, 1)
    if lags:
        line.update({"lag_p50": _ms(lags, 0.5), "lag_p99": _ms(lags, 0.99)})
        line["lag_max"] = _ms(lags, 1)
    with open(OUT, "a") as out:
        out.write(json.dumps(line) + "\n")


_resp._Connection.send = send  # type: ignore[method-assign]
_resp._Connection.data_received = data_received  # type: ignore[method-assign]
_resp.RedisAddress.open = open_  # type: ignore[method-assign]
report_every(2, _report)
sys.exit(main(sys.argv[1:]))
