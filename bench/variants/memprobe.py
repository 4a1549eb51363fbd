"""``weirsoe serve`` that describes its own memory on ``SIGUSR1``, for ``bench/sockets.py``
(docs/performance.md, section 54):

    uv run python bench/sockets.py            # drives it; prints what a socket costs

On each signal it writes ``probe<N>.json`` to ``BENCH_MEMPROBE_DIR``: the blocks the
allocator holds and how many objects of each type the cyclic collector tracks (frozen
ones included). With ``BENCH_MEMPROBE_TRACE=1`` it runs under ``tracemalloc`` and also
dumps a snapshot there (``snap<N>.bin``), which makes the server itself two to three times
larger: compare snapshots with each other, not the RSS.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import traceback
import tracemalloc
from collections import Counter
from pathlib import Path

from weirsoe_platform.cli import main

OUT = Path(os.environ.get("BENCH_MEMPROBE_DIR", "."))
TRACE = os.environ.get("BENCH_MEMPROBE_TRACE") == "1"
if TRACE:
    tracemalloc.start(int(os.environ.get("BENCH_MEMPROBE_FRAMES", "1")))
_probes = [0]


def _probe() -> None:
    _probes[0] += 1
    n = _probes[0]
    out: dict[str, object] = {"blocks": sys.getallocatedblocks()}
    frozen = gc.get_freeze_count()
    gc.unfreeze()  # the server's collector freezes what survives; count those too
    try:
        out["types"] = dict(
            Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())
        )
    finally:
        if frozen:
            gc.freeze()
    if TRACE:
        tracemalloc.take_snapshot().dump(str(OUT / f"snap{n}.bin"))
    (OUT / f"probe{n}.json").write_text(json.dumps(out))


def _on_signal(*_: object) -> None:
    try:
        _probe()
    except Exception:  # never into the server's loop
        (OUT / "error.txt").write_text(traceback.format_exc())


signal.signal(signal.SIGUSR1, _on_signal)
sys.exit(main())
