"""Backend wiring: embedded by default, Redis only when asked for, and a clear error naming
the extra when Redis or PostgreSQL is asked for without it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from weirsoe_platform._extras import EXTRAS, MissingExtra, require_extra
from weirsoe_platform.accounts import Database
from weirsoe_platform.cli import main
from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.security import MemoryRateLimiter
from weirsoe_platform.sessions import MemorySessionStore
from weirsoe_platform.timers import LocalDeadlines
from weirsoe_platform.transport import Hub
from weirsoe_platform.web import create_app
from weirsoe_platform.web._backends import EmbeddedBackends, build_backends


def _uninstall(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``modules`` unimportable, as in an environment without the extra."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)  # type: ignore[arg-type]


def test_default_settings_wire_the_embedded_backends() -> None:
    backends = build_backends(PlatformSettings())
    assert isinstance(backends, EmbeddedBackends)
    assert isinstance(backends.store, MemorySessionStore)
    assert isinstance(backends.hub, Hub)
    assert backends.hub.remote is None  # local fan-out only, no pub/sub
    assert isinstance(backends.deadlines, LocalDeadlines)
    assert isinstance(backends.limiter, MemoryRateLimiter)
    assert backends.worker is None


def test_embedded_app_exposes_its_backends() -> None:
    app = create_app(PlatformSettings())
    assert isinstance(app.state.backends, EmbeddedBackends)
    assert app.state.store is app.state.backends.store
    assert app.state.timers is app.state.backends.deadlines


@pytest.mark.parametrize("module", EXTRAS["redis"][1])
def test_redis_without_the_extra_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    _uninstall(monkeypatch, module)
    with pytest.raises(MissingExtra) as info:
        build_backends(PlatformSettings(redis_url="redis://127.0.0.1:1/0"))
    message = str(info.value)
    assert "weirsoe-platform[redis]" in message
    assert module in message
    assert info.value.extra == "redis"


def test_postgres_without_the_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _uninstall(monkeypatch, "asyncpg")
    with pytest.raises(MissingExtra, match=r"weirsoe-platform\[postgres\]"):
        Database("postgresql://nobody@127.0.0.1:1/none")
    # SQLite needs no extra.
    assert Database("sqlite:///:memory:").dialect == "sqlite"


def test_require_extra_passes_when_installed() -> None:
    require_extra("redis")
    require_extra("postgres")


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_cli_redis_without_the_extra_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    _uninstall(monkeypatch, "redis")
    monkeypatch.delenv("WEIRSOE_REDIS_URL", raising=False)
    assert main([command, "--redis", "redis://127.0.0.1:1/0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"weirsoe {command}: error: Redis support (--redis")
    assert "pip install 'weirsoe-platform[redis]'" in err[0]


def test_the_cli_always_has_its_server_commands() -> None:
    # They used to be added under `except ImportError: pass`, which hid real import errors.
    from weirsoe_platform.cli import build_parser

    parser = build_parser()
    for argv in (["serve", "--port", "1"], ["worker"], ["db", "status"], ["cartridges"]):
        assert parser.parse_args(argv).command == argv[0]


EMBEDDED_WITHOUT_EXTRAS = """
import importlib.abc, sys

class Uninstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("redis", "taskiq_redis", "asyncpg"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, Uninstalled())
from litestar.testing import TestClient
from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.web import create_app

with TestClient(create_app(PlatformSettings(database_url=sys.argv[1]))) as client:
    assert client.get("/healthz").status_code == 200
assert not {"redis", "taskiq_redis", "asyncpg"} & set(sys.modules), sorted(sys.modules)
print("embedded without extras: ok")
"""


def test_embedded_mode_runs_without_the_extras(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", EMBEDDED_WITHOUT_EXTRAS, f"sqlite:///{tmp_path / 'w.db'}"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "embedded without extras: ok" in done.stdout
