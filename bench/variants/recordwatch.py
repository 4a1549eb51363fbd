"""``weirsoe serve`` measuring what each Redis compare-and-set writes, and which parts of the
record changed since the room's commit before (docs/performance.md, section 76, lever 33):

    BENCH_RECORD_OUT=/tmp/record.json \
        uv run python bench/capacity.py --redis --variant recordwatch ...

Every commit's record and wire frame are measured; the first 40 rooms' records are split
into their top-level parts (the session record's fields, the table's, and the cartridge
state's where it is a map), and each part compared with the same room's previous commit.
Every 5 s it writes ``BENCH_RECORD_OUT`` (JSON): the record's and the frame's size
percentiles, and per part its mean size and how often it changed.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter
from typing import Any

import msgspec
from _samples import percentile, report_every

from weirsoe_platform.cli import main
from weirsoe_platform.sessions import _redis_store
from weirsoe_platform.sessions._frames import encode_frame

OUT = os.environ.get("BENCH_RECORD_OUT", "recordwatch.json")
ROOMS = 40
_lock = threading.Lock()
_sizes: list[tuple[int, int]] = []
_last: dict[str, dict[str, bytes]] = {}
_bytes: Counter[str] = Counter()
_changed: Counter[str] = Counter()
_pairs = [0]
_decode = msgspec.msgpack.Decoder().decode
_encode = msgspec.msgpack.Encoder().encode
_compare_and_set = _redis_store.RedisSessionStore.compare_and_set


def _parts(data: bytes) -> dict[str, bytes]:
    record = _decode(data)
    table = _decode(record.pop("table"))
    state = table.pop("state", None)
    parts = {f"record.{k}": _encode(v) for k, v in record.items()}
    parts.update({f"table.{k}": _encode(v) for k, v in table.items()})
    if isinstance(state, dict):
        parts.update({f"state.{k}": _encode(v) for k, v in state.items()})
    else:
        parts["table.state"] = _encode(state)
    return parts


def _measure(code: str, data: bytes, frame: int) -> None:
    with _lock:
        _sizes.append((len(data), frame))
        if code not in _last and len(_last) >= ROOMS:
            return
        parts = _parts(data)
        before = _last.get(code)
        _last[code] = parts
        if before is None:
            return
        _pairs[0] += 1
        for name, value in parts.items():
            _bytes[name] += len(value)
            _changed[name] += before.get(name) != value


async def compare_and_set(self: Any, code: str, *args: Any, **kwargs: Any) -> bool:
    messages = args[4] if len(args) > 4 else kwargs.get("messages")
    _measure(code, args[2], len(encode_frame(messages)) if messages else 0)
    return await _compare_and_set(self, code, *args, **kwargs)


def _percentiles(values: list[int]) -> dict[str, float]:
    values = sorted(values)
    return {f"p{round(s * 100)}": percentile(values, s) for s in (0.1, 0.5, 0.9)}


def _report() -> None:
    with _lock:
        if not _sizes or not _pairs[0]:
            return
        pairs = _pairs[0]
        summary = {
            "commits": len(_sizes),
            "record_bytes": _percentiles([r for r, _ in _sizes]),
            "frame_bytes": _percentiles([f for _, f in _sizes]),
            "record_mean": round(sum(r for r, _ in _sizes) / len(_sizes), 1),
            "pairs": pairs,
            "parts": {
                name: {
                    "mean_bytes": round(_bytes[name] / pairs, 1),
                    "changed": round(_changed[name] / pairs, 3),
                }
                for name, _ in _bytes.most_common()
            },
            "changed_bytes_mean": round(
                sum(_bytes[n] / pairs * _changed[n] / pairs for n in _bytes), 1
            ),
        }
    with open(OUT, "w") as out:
        json.dump(summary, out, indent=1)


_redis_store.RedisSessionStore.compare_and_set = compare_and_set  # type: ignore[method-assign]
report_every(5, _report)
sys.exit(main(sys.argv[1:]))
