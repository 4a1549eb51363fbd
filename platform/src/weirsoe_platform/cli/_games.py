"""``weirsoe cartridges`` and ``weirsoe simulate``."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import msgspec

from weirsoe_sdk import Discovery, WeirsoeError, discover_cartridges
from weirsoe_sdk.testing import Harness

from ._common import CliError, read_settings_file

__all__ = ["add_game_commands", "simulate"]


def _discover(content_dir: str | None = None) -> Discovery:
    folder = content_dir or os.environ.get("WEIRSOE_CONTENT_DIR") or None
    return discover_cartridges(config={"content_dir": folder})


def add_game_commands(commands: Any) -> None:
    listing = commands.add_parser("cartridges", help="list the installed cartridges")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=_cartridges)

    sim = commands.add_parser("simulate", help="play a whole game with bots and print the result")
    sim.add_argument("slug", help="cartridge slug, e.g. weirsoe_lies")
    sim.add_argument("--players", type=int, default=4, help="number of bot players")
    sim.add_argument("--seed", type=int, default=0, help="the same seed gives the same game")
    sim.add_argument("--settings", help="a JSON or TOML file of settings")
    sim.add_argument("--json", action="store_true", help="print JSON")
    sim.set_defaults(func=_simulate)


def _cartridges(args: argparse.Namespace) -> int:
    found = _discover()
    rows = [found.cartridges[slug].describe() for slug in sorted(found.cartridges)]
    if args.json:
        print(
            json.dumps({"cartridges": rows, "errors": found.errors}, ensure_ascii=False, indent=2)
        )
        return 0
    for row in rows:
        print(
            f"{row['slug']:<20} {row['title']:<24} v{row['version']:<8} "
            f"{row['min_players']}-{row['max_players']} players  ({row['distribution']})"
        )
    for error in found.errors:  # like datasette's plugin list: shown, not fatal
        print(f"not loaded: {error.splitlines()[0]}")
    return 0


def simulate(slug: str, *, players: int, seed: int, settings: Any = None) -> dict[str, Any]:
    """Play one game with the cartridge's bots; the result as JSON-ready data."""
    found = _discover()
    try:
        cartridge = found.get(slug)
    except WeirsoeError as exc:
        raise CliError(exc.message) from None
    info = cartridge.info
    if not info.min_players <= players <= info.max_players:
        raise CliError(f"{slug} takes {info.min_players}-{info.max_players} players, not {players}")
    try:
        harness = Harness(cartridge, players=players, seed=seed, settings=settings)
        record = harness.play()
    except WeirsoeError as exc:
        raise CliError(exc.message.splitlines()[0]) from None
    return {
        "cartridge": slug,
        "seed": seed,
        "players": [{"id": s.id, "name": s.name} for s in record.table.players],
        "status": record.table.status,
        "version": record.table.version,
        "events": record.events,
        "steps": record.steps,
        "results": msgspec.to_builtins(record.results),
    }


def _simulate(args: argparse.Namespace) -> int:
    settings = read_settings_file(args.settings)
    out = simulate(args.slug, players=args.players, seed=args.seed, settings=settings)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2, sort_keys=True))
        return 0
    names = {p["id"]: p["name"] for p in out["players"]}
    results = out["results"] or {}
    print(f"{out['cartridge']} (seed {out['seed']}): {out['status']} after {out['events']} events")
    ranking = results.get("ranking") if isinstance(results, dict) else None
    if ranking:
        print("\nStandings")
        for row in ranking:
            print(f"  {row['rank']:>2}. {row['name']:<20} {row['score']:>7}")
    else:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    for award in (results.get("awards") or []) if isinstance(results, dict) else []:
        who = ", ".join(names.get(w, w) for w in award["winners"])
        print(f"  {award.get('emoji') or '🏆'} {award['title']}: {who} ({award['value']})")
    return 0
