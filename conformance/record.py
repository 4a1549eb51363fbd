"""Record a conformance session: a seeded game played by the cartridge's bot against a live
server, with every step the clients took and every frame each role received.

    WEIRSOE_ROOM_SEED=7 weirsoe serve --port 8765 &
    python conformance/record.py --server http://127.0.0.1:8765 --cartridge weirsoe_lies \\
        --seed 7 --players 3 --settings '{"rounds": 1}'

writes ``conformance/sessions/<cartridge>/<protocol version>-seed<seed>.jsonl``. Replay it with
``conformance/replay.py``. Recording needs the platform installed (for the cartridge's bot);
replaying does not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from replay import FORMAT, Client, _lines

__all__ = ["record"]

SESSIONS = Path(__file__).parent / "sessions"
NAMES = ["Ann", "Ben", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal"]


async def record(
    server: str, slug: str, seed: int, players: int, settings: dict[str, Any]
) -> list[dict[str, Any]]:
    from weirsoe_sdk import discover_cartridges

    cartridge = discover_cartridges().get(slug)
    assert cartridge.bot is not None, f"{slug} has no bot"
    client = Client(server)
    protocol = (await client.http.get("/schema/asyncapi.json")).json()["info"]["version"]
    meta = {
        "kind": "meta",
        "format": FORMAT,
        "protocol": protocol,
        "cartridge": slug,
        "seed": seed,
        "settings": settings,
        "players": NAMES[:players],
    }
    steps: list[dict[str, Any]] = []

    async def do(step: dict[str, Any]) -> None:
        steps.append(step)
        await client.step(step, meta)

    async def settle() -> None:
        steps.append({"kind": "expect", "counts": await client.quiet()})

    roles = [f"p{i}" for i in range(1, players + 1)]
    try:
        await do({"kind": "create"})
        await do({"kind": "connect", "role": "host"})
        await do({"kind": "connect", "role": "audience"})
        for role, name in zip(roles, NAMES, strict=False):
            await do({"kind": "join", "role": role, "name": name})
            await do({"kind": "connect", "role": role})
        await settle()
        await do({"kind": "control", "action": "play"})
        await settle()
        await _play(client, cartridge.bot, roles, seed, do, settle)
        return [*_lines(meta, steps, client.received())]
    finally:
        await client.close()


async def _play(
    client: Client, bot: Any, roles: list[str], seed: int, do: Any, settle: Any
) -> None:
    rng = random.Random(f"conformance:{seed}")
    ids = {role: pid for pid, role in client.names.items() if role in roles}
    written = iter(range(1, 10_000))
    for turn in range(500):
        if any(f.get("type") == "session.finished" for f in client.frames["host"]):
            return
        acted = False
        for role in roles:
            await do({"kind": "send", "role": role, "frame": {"type": "sync"}})
            await settle()
            snap = next(f for f in reversed(client.frames[role]) if f["type"] == "session.snapshot")
            if snap["status"] != "running" or snap["view"] is None:
                continue
            action = bot.act(snap["view"], ids[role], rng, lambda: f"lie number {next(written)}")
            if action is not None:
                frame = {"type": "action", "id": f"{role}-{turn}", "action": dict(action)}
                await do({"kind": "send", "role": role, "frame": frame})
                await settle()
                acted = True
        if not acted:  # waiting on a timer: let it fire
            before = sum(len(f) for f in client.frames.values())
            while sum(len(f) for f in client.frames.values()) == before:
                await asyncio.sleep(0.05)
            await settle()
    raise RuntimeError("the game did not finish")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--cartridge", required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--players", type=int, default=3)
    parser.add_argument("--settings", default="{}")
    args = parser.parse_args(argv)
    lines = asyncio.run(
        record(args.server, args.cartridge, args.seed, args.players, json.loads(args.settings))
    )
    out = SESSIONS / args.cartridge / f"{lines[0]['protocol']}-seed{args.seed}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n" for line in lines)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(lines)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
