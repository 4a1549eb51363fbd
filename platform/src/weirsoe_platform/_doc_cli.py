"""The command line shared by the generated documentation pages (``docs/events.md``,
``docs/errors.md``): print the page, ``--write`` it, or ``--check`` that it is up to date."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["generated_page_main"]


def generated_page_main(
    argv: Sequence[str] | None,
    *,
    prog: str,
    description: str,
    render: Callable[[], str],
    default_path: str,
    regenerate: str,
) -> int:
    """Run the page's command; returns the exit status (1: ``--check`` found it stale)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", metavar="PATH", nargs="?", const=default_path)
    mode.add_argument("--check", metavar="PATH", nargs="?", const=default_path)
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    elif args.check:
        path = Path(args.check)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is stale; regenerate it with: {regenerate}", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
    else:
        sys.stdout.write(text)
    return 0
