"""Logging set-up: tokens never reach a log line."""

from __future__ import annotations

import logging
import re
from typing import Any

__all__ = ["RedactTokens", "configure_logging", "redact"]

_TOKEN = re.compile(r"((?:^|[?&\s])(?:token|host_token)=)[^&\s\"']+", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def redact(text: str) -> str:
    return _BEARER.sub(r"\1[redacted]", _TOKEN.sub(r"\1[redacted]", text))


class RedactTokens(logging.Filter):
    """Rewrites ``token=…`` query values and bearer tokens in a record's message and args."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def configure_logging(level: str = "info") -> dict[str, Any]:
    """A uvicorn ``log_config`` with the redacting filter on every handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactTokens}},
        "formatters": {
            "default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["redact"],
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "weirsoe": {"handlers": ["default"], "level": level.upper(), "propagate": False},
        },
    }
