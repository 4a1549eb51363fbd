"""The ``weirsoe`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .._extras import MissingExtra
from ._common import CliError
from ._db import add_db_commands
from ._games import add_game_commands
from ._new import add_new_command
from ._serve import add_server_commands

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="weirsoe",
        description="Weirsøe Party Protocol: browser party games on phones.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_game_commands(commands)
    add_new_command(commands)
    add_server_commands(commands)
    add_db_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except (CliError, MissingExtra) as exc:
        print(f"weirsoe {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
