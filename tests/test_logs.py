"""Logs: one format for every line a process writes, start-up included; JSON on request."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest
from _env import REDIS_URL, redis_unreachable
from _live import Server

TEXT_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+: "
)


def _records(log: str) -> list[str]:
    """Log records (a traceback's continuation lines belong to the record above)."""
    return [line for line in log.splitlines() if line and not line.startswith((" ", "Traceback"))]


def test_every_line_is_json_with_log_format_json_in_scale_out_mode() -> None:
    reason = redis_unreachable()
    if reason:
        pytest.skip(reason)
    env = {
        "WEIRSOE_LOG_FORMAT": "json",
        "WEIRSOE_REDIS_PREFIX": f"wtest-{uuid.uuid4().hex[:10]}",
        "WEIRSOE_SECRET_KEY": "",
    }
    srv = Server("--redis", REDIS_URL, "--with-worker", env=env)
    try:
        assert httpx.get(srv.base + "/api/sessions/ZZZZ").status_code == 404
    finally:
        srv.stop()
    lines = [line for line in srv.log().splitlines() if line.strip()]
    assert len(lines) >= 5
    records = [json.loads(line) for line in lines]  # every line, start-up included
    for record in records:
        assert set(record) >= {"ts", "level", "logger", "message"}
        assert record["ts"].endswith("Z")
    loggers = {r["logger"] for r in records}
    assert {"uvicorn.error", "uvicorn.access", "weirsoe.accounts"} <= loggers
    secret = [r for r in records if "WEIRSOE_SECRET_KEY" in r["message"]]
    assert secret, "no warning about the missing secret key"
    assert secret[0]["level"] == "WARNING"


def test_every_line_has_the_text_format_by_default(tmp_path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path}/logs.db"  # new: its migrations log at start-up
    srv = Server("--database", database, env={"WEIRSOE_SECRET_KEY": ""})
    try:
        assert httpx.get(srv.base + "/healthz").status_code == 200
    finally:
        srv.stop()
    records = _records(srv.log())
    assert len(records) >= 5
    odd = [line for line in records if not TEXT_LINE.match(line)]
    assert odd == []
    assert any("alembic" in line for line in records)  # start-up migrations, same format
