"""``weirsoe serve`` whose event loop thread can be profiled by cProfile for a window:
the first SIGUSR1 starts it, the next (or a SIGUSR2) writes ``cprofile-PID.out`` to
``$CPROFILE_DIR`` (default: the system's temporary directory) and stops it; so
``bench/instructions.py --variant cprofile --signal-window`` profiles the replay's games.
cProfile counts every call exactly, which a sampling profiler cannot on a noisy machine; its
times are wall-clock (docs/performance.md, section 62). Read the file with ``pstats``."""

import cProfile
import os
import signal
import sys
import tempfile
from types import FrameType

from weirsoe_platform.cli import main

_profile = cProfile.Profile()
_running = False


def _toggle(signum: int, frame: FrameType | None) -> None:
    global _running
    if not _running:
        if signum == signal.SIGUSR1:
            _running = True
            _profile.enable()
        return
    _profile.disable()
    _running = False
    folder = os.environ.get("CPROFILE_DIR", tempfile.gettempdir())
    _profile.dump_stats(os.path.join(folder, f"cprofile-{os.getpid()}.out"))


signal.signal(signal.SIGUSR1, _toggle)
signal.signal(signal.SIGUSR2, _toggle)
sys.exit(main())
