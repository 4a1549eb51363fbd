"""Helpers shared by the CLI commands."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["CliError", "read_settings_file"]


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def read_settings_file(path: str | None) -> dict[str, Any] | None:
    """Read settings from a JSON or TOML file (by extension; JSON otherwise)."""
    if path is None:
        return None
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read settings file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode()) if file.suffix == ".toml" else json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CliError(f"settings file {path} is not valid: {exc}") from None
    if not isinstance(data, dict):
        raise CliError(f"settings file {path} must hold an object/table of settings")
    return data
