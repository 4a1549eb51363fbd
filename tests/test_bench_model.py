"""The capacity benchmark's browser-like bots play from a model kept as the phone keeps it.

``bench/_lies_model.py`` ports Weirsøe Lies' ``model.js`` (and the two changes the controller
makes after an ``ack``), so that ``bench/capacity.py --clients browser`` can play without a
snapshot before every action. Over whole harness games, a model started from one snapshot and
fed only the events each player received must hold what the player's view holds, wherever the
bot reads it, and so make the bot choose what it would choose from the view.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import random
from typing import Any

import pytest

from weirsoe_lies.bot import LiesBot
from weirsoe_sdk import Viewer, discover_cartridges
from weirsoe_sdk.testing import Harness

_PATH = pathlib.Path(__file__).parents[1] / "bench" / "_lies_model.py"
_spec = importlib.util.spec_from_file_location("bench_lies_model", _PATH)
assert _spec is not None
assert _spec.loader is not None
model = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(model)

# What LiesBot reads of a view, and so what the model must get right.
FIELDS = ("phase", "question", "round", "answers", "emoji", "reaction_cap")
WHO = ("submitted", "guessed")  # in the order the events came, where the view has seat order
MINE = ("id", "lie", "lie_for_me", "guess", "yours", "reactions_left")


class _Follower:
    """Each player's model, fed the events the harness delivered to that player."""

    def __init__(self, harness: Harness) -> None:
        self.h = harness
        self.models: dict[str, dict[str, Any]] = {}
        self.read: dict[str, int] = {}
        self.checks = 0
        self.decisions = 0
        self.reduced: set[str] = set()

    def start(self) -> None:
        for pid in self.h.player_ids:
            view = self.h.view(Viewer("player", pid))
            self.models[pid] = m = {}
            model.reduce(m, {"type": "session.snapshot", "view": view})
            self.read[pid] = len(self.h.record.messages.get(pid, []))

    def catch_up(self) -> None:
        for pid, m in self.models.items():
            received = self.h.record.messages.get(pid, [])
            for message in received[self.read[pid] :]:
                msg = json.loads(message.text)
                if msg["type"] in model.REDUCED:
                    self.reduced.add(msg["type"])
                model.reduce(m, msg)
            self.read[pid] = len(received)

    def check(self) -> None:
        bot = LiesBot()
        for pid, m in self.models.items():
            view = self.h.view(Viewer("player", pid))
            if view is None:
                continue
            for key in FIELDS:
                if key in view:
                    assert m.get(key) == view[key], (pid, key, m.get(key), view[key])
            for key in WHO:
                if key in view:
                    assert sorted(m.get(key) or []) == sorted(view[key]), (pid, key)
            for key in MINE if view["phase"] != "over" else ():  # the end shows no lie
                assert m["me"].get(key) == view["me"][key], (pid, key, m["me"], view["me"])
            for k in range(3):
                chose = bot.act(view, pid, random.Random(k), lambda: "lie")
                assert bot.act(m, pid, random.Random(k), lambda: "lie") == chose
                self.decisions += chose is not None
            self.checks += 1


@pytest.mark.parametrize("seed", range(8))
def test_a_model_kept_from_the_events_holds_what_the_bot_reads_of_the_view(seed: int) -> None:
    cartridge = discover_cartridges().get("weirsoe_lies")
    harness = Harness(cartridge, players=6, seed=seed, check_leaks=False, record=True)
    follower = _Follower(harness)
    send = harness.send

    def followed(inp: Any) -> Any:
        step = send(inp)
        if harness.table.state is None:
            return step
        if not follower.models:  # the game's first state: the phones' snapshot on connect
            follower.start()
            return step
        follower.catch_up()
        player = getattr(inp, "player_id", None)
        action = getattr(inp, "action", None)
        if step.changed and player in follower.models and isinstance(action, dict):
            model.acknowledged(follower.models[player], action)  # the controller, on its ack
        follower.check()
        return step

    harness.send = followed  # type: ignore[method-assign]
    record = harness.play()

    assert record.table.status == "over"
    assert follower.checks > 100
    assert follower.decisions > 20  # the bots had things to do, and chose them alike
    # Every kind of message the model reduces reached it, but the snapshot (given once).
    assert follower.reduced >= model.REDUCED - {"session.snapshot"}


def test_a_snapshot_replaces_the_model_and_an_ack_updates_only_the_player() -> None:
    m: dict[str, Any] = {"phase": "lie", "stale": True}
    view = {"phase": "guess", "answers": [{"id": "a", "text": "x"}], "me": {"id": "p1"}}
    model.reduce(m, {"type": "session.snapshot", "view": view})
    assert m == {**view, "reveal": []}
    assert m["me"] is not view["me"]  # a copy: the events change it, never the message
    m["me"]["reactions_left"] = 2
    model.acknowledged(m, {"type": "react", "answer_id": "a", "emoji": "x"})
    model.acknowledged(m, {"type": "guess", "answer_id": "a"})
    assert m["me"] == {"id": "p1", "reactions_left": 1, "guess": "a"}
    model.reduce(m, {"type": "phase.question_shown", "round": 1, "question": 2})
    assert m["phase"] == "lie"
    assert m["answers"] == []
    assert m["me"]["guess"] is None
