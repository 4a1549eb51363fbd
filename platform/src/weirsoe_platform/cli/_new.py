"""``weirsoe new-cartridge NAME [--dir PATH]``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import CliError

__all__ = ["add_new_command"]


def add_new_command(commands: Any) -> None:
    new = commands.add_parser(
        "new-cartridge", help="create a new, working, tested cartridge package"
    )
    new.add_argument("name", help="package name and slug, e.g. number_duel")
    new.add_argument("--dir", default=".", help="where to create the folder (default: here)")
    new.add_argument("--title", help="the game's display title (default: from the name)")
    new.set_defaults(func=_new)


def _new(args: argparse.Namespace) -> int:
    from ..scaffold import ScaffoldError, create_cartridge

    try:
        target = create_cartridge(args.name, Path(args.dir), title=args.title)
    except ScaffoldError as exc:
        raise CliError(str(exc)) from None
    print(f"created {target}")
    print("next:")
    print(f"  pip install -e '{target}[test]'")
    print(f"  cd {target} && pytest")
    print("  weirsoe cartridges   # lists it")
    print("  weirsoe db upgrade   # its preset table (weirsoe serve does this for SQLite)")
    print("  weirsoe serve        # host a game of it at /host")
    return 0
