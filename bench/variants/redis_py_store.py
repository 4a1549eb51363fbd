"""``weirsoe serve`` with the session store on redis-py alone, as before issue 14's
auto-pipelining client (``weirsoe_platform._resp``), for A/B runs (docs/performance.md):

    uv run python bench/loadgen.py --servers raw,redis --variant redis_py_store
"""

import functools
import sys

from weirsoe_platform.cli import main
from weirsoe_platform.sessions import _redis_store

_init = _redis_store.RedisSessionStore.__init__
_redis_store.RedisSessionStore.__init__ = functools.partialmethod(_init, pipelined=False)  # type: ignore[method-assign]

sys.exit(main(sys.argv[1:]))
