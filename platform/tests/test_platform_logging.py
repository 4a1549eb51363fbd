"""Tokens never reach a log line."""

from __future__ import annotations

import logging

from weirsoe_platform.web._logging import RedactTokens, redact


def test_redact_query_tokens_and_bearer() -> None:
    line = (
        "GET /ws/game/ABCD?role=host&token=s3cr3t-T0ken_x HTTP/1.1 "
        '"Authorization: Bearer abc.def-ghi"'
    )
    out = redact(line)
    assert "s3cr3t" not in out
    assert "abc.def" not in out
    assert out.count("[redacted]") == 2
    assert redact("/ws/game/ABCD?token=a&role=host") == "/ws/game/ABCD?token=[redacted]&role=host"


def test_filter_rewrites_message_and_args() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s"',
        ("1.2.3.4", "GET", "/x?token=zzz"),
        None,
    )
    assert RedactTokens().filter(record)
    assert "zzz" not in record.getMessage()
