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
import types
from collections import Counter
from pathlib import Path

from weirsoe_platform.cli import main

OUT = Path(os.environ.get("BENCH_MEMPROBE_DIR", "."))
TRACE = os.environ.get("BENCH_MEMPROBE_TRACE") == "1"
if TRACE:
    tracemalloc.start(int(os.environ.get("BENCH_MEMPROBE_FRAMES", "1")))
DETAIL = os.environ.get("BENCH_MEMPROBE_DETAIL") == "1"
_probes = [0]


def _name(o: object) -> str:
    return f"{type(o).__module__}.{type(o).__qualname__}"


def _what(o: object) -> str:
    """A tracked object by what made it: a coroutine's or function's code, a method's."""
    if isinstance(o, types.CoroutineType):
        return f"coroutine {o.cr_code.co_qualname}"
    if isinstance(o, types.GeneratorType):
        return f"generator {o.gi_code.co_qualname}"
    if isinstance(o, types.FunctionType):
        return f"function {o.__qualname__}"
    if isinstance(o, types.MethodType):
        return f"method {getattr(o.__func__, '__qualname__', '?')}"
    return _name(o)


def _detail(objects: list[object]) -> dict[str, int]:
    """Each tracked object named by itself and by what holds it (one owner, a dict's by the
    dict's own owner): where a socket's 124 objects come from (docs/performance.md, 56)."""
    owner: dict[int, object] = {}
    for o in objects:
        for r in gc.get_referents(o):
            owner.setdefault(id(r), o)

    try:
        return dict(Counter(f"{_what(o)}  <  {_holder(owner, o)}" for o in objects))
    finally:
        owner.clear()  # it holds everything: never let it outlive the probe


def _holder(owner: dict[int, object], o: object, depth: int = 0) -> str:
    h = owner.get(id(o))
    if h is None:
        return "-"
    if isinstance(h, (dict, list, tuple)) and depth < 2:
        return f"{_name(h)}<{_holder(owner, h, depth + 1)}"
    return _what(h)


def _probe() -> None:
    _probes[0] += 1
    n = _probes[0]
    out: dict[str, object] = {"blocks": sys.getallocatedblocks()}
    frozen = gc.get_freeze_count()
    gc.unfreeze()  # the server's collector freezes what survives; count those too
    try:
        objects = gc.get_objects()
        out["types"] = dict(Counter(_name(o) for o in objects))
        if DETAIL:
            out["detail"] = _detail(objects)
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
