"""``weirsoe serve`` counting its msgpack decodes by caller (docs/performance.md, section 79):

    BENCH_DECODES_OUT=/tmp/decodes.json \
        uv run python bench/instructions.py --rooms 8 --runs 1 \\
        --variant decodecount --signal-window

Counts every decode of a stored record (``SessionService._decode``), of a cartridge's table
(``Runtime.decode``) and of a wire frame (``decode_frame``), each keyed by the Python
functions of its callers; the inputs of every commit (``SessionService._commit``), and
whether the room had a cached record; and the inputs of every batch that waited for its
room. Written as JSON to ``BENCH_DECODES_OUT`` at exit (SIGTERM included). SIGUSR1 zeroes
the counts and SIGUSR2 writes them and stops counting, which
``bench/instructions.py --signal-window`` sends as the games start and end.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import signal
import sys
from typing import Any

from weirsoe_platform.cli import main
from weirsoe_platform.sessions import _frames, _service
from weirsoe_platform.transport import _hub
from weirsoe_sdk import _runtime

counts: collections.Counter[str] = collections.Counter()
frozen = [False]


def _where(kind: str) -> str:
    f = sys._getframe(2)
    names = []
    for _ in range(3):
        if f is None:
            break
        names.append(f"{f.f_code.co_name}:{f.f_lineno}")
        f = f.f_back
    return f"{kind} <- " + " <- ".join(names)


def _counting(kind: str, fn: Any) -> Any:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not frozen[0]:
            counts[_where(kind)] += 1
        return fn(*args, **kwargs)

    return wrapped


_service.SessionService._decode = _counting("record", _service.SessionService._decode)  # type: ignore[method-assign]
_runtime.Runtime.decode = _counting("table", _runtime.Runtime.decode)  # type: ignore[method-assign]
_hub.decode_frame = _counting("frame", _frames.decode_frame)


def _kind(apply: Any) -> str:
    """What an input of a batch is: an action told of its commit, a wrapped input's type, or
    the applying function's name."""
    if type(apply).__name__ == "_Told":
        apply = apply.apply
    for cell in getattr(apply, "__closure__", None) or ():
        inner = cell.cell_contents
        if type(inner).__module__.startswith(("weirsoe_sdk", "weirsoe_platform")) and not callable(
            inner
        ):
            return type(inner).__name__
    return getattr(apply, "__qualname__", type(apply).__name__)


_run_batch = _service.SessionService._run_batch


async def _counted_batch(self: Any, code: str, batch: list[Any]) -> None:
    if not frozen[0]:
        counts["batch of " + " + ".join(_kind(a) for a, _ in batch)] += 1
    await _run_batch(self, code, batch)


_service.SessionService._run_batch = _counted_batch  # type: ignore[method-assign]
_commit = _service.SessionService._commit


async def _counted_commit(self: Any, code: str, applies: list[Any]) -> Any:
    if not frozen[0]:
        cached = "cached" if self.cache.get(code) is not None else "not cached"
        counts[f"commit of {' + '.join(_kind(a) for a in applies)}, {cached}"] += 1
    return await _commit(self, code, applies)


_service.SessionService._commit = _counted_commit  # type: ignore[method-assign]


def _dump() -> None:
    if frozen[0]:
        return
    with open(os.environ.get("BENCH_DECODES_OUT", "/tmp/decodes.json"), "w") as f:
        json.dump(dict(counts.most_common()), f, indent=1)


atexit.register(_dump)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
# ``bench/instructions.py --signal-window``: counted from the games' start to their end
signal.signal(signal.SIGUSR1, lambda *_: counts.clear())


def _window_end(*_: Any) -> None:
    _dump()
    frozen[0] = True


signal.signal(signal.SIGUSR2, _window_end)

if __name__ == "__main__":
    sys.exit(main())
