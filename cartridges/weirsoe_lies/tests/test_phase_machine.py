"""A hypothesis state machine over the runtime and the Lies driver: random valid and junk
actions from random players, timers, leaves, returns and pauses, against the invariants."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from weirsoe_lies.awards import EMOJI
from weirsoe_lies.state import LiesState
from weirsoe_sdk import (
    DeadlineReached,
    PlayerAction,
    PlayerLeft,
    PlayerReconnected,
    Step,
    Viewer,
    WeirsoeError,
    discover_cartridges,
    normalize_answer,
)
from weirsoe_sdk.testing import Harness

CARTRIDGE = discover_cartridges().get("weirsoe_lies")
PHASES = {"lie", "guess", "reveal", "scoreboard", "over"}
# Where each kind of action may be accepted.
ALLOWED = {"lie": {"lie"}, "lie_for_me": {"lie"}, "guess": {"guess"}, "react": {"guess", "reveal"}}
JUNK: list[Any] = [
    None,
    "lie",
    [1, 2],
    {},
    {"type": "skip"},
    {"type": "lie", "text": 5},
    {"type": "guess", "answer_id": None},
    {"type": "guess", "answer_id": "a" * 65},
    {"type": "react", "answer_id": "x", "emoji": "😂" * 17},
]


class LiesMachine(RuleBasedStateMachine):
    harness: Harness

    @initialize(
        players=st.integers(min_value=2, max_value=6),
        seed=st.integers(min_value=0, max_value=2**16),
        rounds=st.sampled_from([1, 2, 3]),
        reaction_cap=st.sampled_from([0, 1, 3]),
        penalty=st.sampled_from([0, 200]),
    )
    def start(self, players: int, seed: int, rounds: int, reaction_cap: int, penalty: int) -> None:
        options = {
            "rounds": rounds,
            "questions_per_round": 1,
            "reaction_cap": reaction_cap,
            "house_lie_penalty": penalty,
        }
        self.harness = Harness(
            CARTRIDGE, players=players, seed=seed, settings=options, record=False
        )
        self.harness.join_all()
        self.harness.control("play")
        self.accepted: Counter[str] = Counter()

    # -- helpers -------------------------------------------------------------------------------
    @property
    def state(self) -> LiesState:
        value = self.harness.table.state
        assert isinstance(value, LiesState)
        return value

    def attempt(self, send: Callable[[], Step[Any]], kind: str | None = None) -> None:
        """Send one input and check what the version and the stored table did."""
        table = self.harness.table
        before, version = self.harness.encoded, table.version
        pending = {t.id for t in table.tallies.values() if not t.delivered}
        phase = self.state.phase
        view = self.harness.view(Viewer("host"))
        try:
            step = send()
        except WeirsoeError:
            assert self.harness.encoded == before  # byte-identical
            assert self.harness.table.version == version
            assert self.harness.view(Viewer("host")) == view
            return
        if not step.changed:  # stale or duplicate
            assert self.harness.encoded == before
            assert step.table.version == version
            return
        # One version for the input, plus one for each audience tally whose final counts
        # reached the driver first because the input ended the tally's phase (each tally's
        # counts are a driver input of their own, so a replay is the same game).
        delivered = sum(1 for t in step.closed if t.delivered and t.id in pending)
        assert step.table.version == version + 1 + delivered
        assert self.harness.table.version == version + 1 + delivered
        if kind is not None:
            assert phase in ALLOWED[kind], f"{kind} accepted in {phase}"
            self.accepted[kind] += 1

    def action(self, player_id: str, action: Any, kind: str | None, msg_id: str | None) -> None:
        inp = PlayerAction(player_id=player_id, action=action, id=msg_id)
        self.attempt(lambda: self.harness.send(inp), kind)

    def fire(self) -> Step[Any]:
        step = self.harness.fire_deadline()
        assert step is not None
        return step

    def valid_action(self, player_id: str, data: st.DataObject) -> tuple[dict[str, Any], str]:
        """An action that suits the phase (it may still be refused, say as one's own lie)."""
        state = self.state
        ids = [a.id for a in state.answers if player_id not in a.authors] or ["none"]
        if state.phase == "lie":
            if data.draw(st.booleans()):
                return {"type": "lie_for_me"}, "lie_for_me"
            text = data.draw(st.sampled_from([self.harness.canary(), "Sharedlie", "sharedlie!"]))
            return {"type": "lie", "text": text}, "lie"
        if state.phase == "guess" and data.draw(st.integers(0, 3)):
            return {"type": "guess", "answer_id": data.draw(st.sampled_from(ids))}, "guess"
        emoji = data.draw(st.sampled_from(EMOJI))
        return {
            "type": "react",
            "answer_id": data.draw(st.sampled_from(ids)),
            "emoji": emoji,
        }, "react"

    def any_action(self, data: st.DataObject) -> tuple[Any, str | None]:
        """Any action at all, valid or not, for any phase."""
        card, state = self.state.card, self.state
        ids = [a.id for a in state.answers] + ["a00000000"]
        kind = data.draw(st.sampled_from(["lie", "lie_for_me", "guess", "react", "junk"]))
        if kind == "lie":
            texts = [card.truth, card.truth.upper(), *card.alternates, card.house_lies[0]]
            texts += ["", " \u200b ", "?!", "x" * 61, self.harness.canary()]
            return {"type": "lie", "text": data.draw(st.sampled_from(texts))}, kind
        if kind == "lie_for_me":
            return {"type": "lie_for_me"}, kind
        if kind == "guess":
            return {"type": "guess", "answer_id": data.draw(st.sampled_from(ids))}, kind
        if kind == "react":
            emoji = data.draw(st.sampled_from([*EMOJI, "💩"]))
            return {
                "type": "react",
                "answer_id": data.draw(st.sampled_from(ids)),
                "emoji": emoji,
            }, kind
        return data.draw(st.sampled_from(JUNK)), None

    # -- rules ---------------------------------------------------------------------------------
    player = st.sampled_from(["p1", "p2", "p3", "p4", "p5", "p6", "stranger"])
    msg_id = st.one_of(st.none(), st.sampled_from(["m1", "m2", "m3"]))

    @rule(data=st.data(), msg_id=msg_id, valid=st.integers(0, 3))
    def act(self, data: st.DataObject, msg_id: str | None, valid: int) -> None:
        seated = [s.id for s in self.harness.table.players]
        player = data.draw(st.sampled_from([*seated, "stranger"]))
        action, kind = self.valid_action(player, data) if valid else self.any_action(data)
        self.action(player, action, kind, msg_id)

    @rule(data=st.data(), waiting=st.integers(0, 2))
    def everyone_acts(self, data: st.DataObject, waiting: int) -> None:
        """Every connected player but ``waiting`` of them acts to suit the phase."""
        connected = [s.id for s in self.harness.table.players if s.connected]
        for player in connected[: max(0, len(connected) - waiting)]:
            action, kind = self.valid_action(player, data)
            self.action(player, action, kind, None)

    @rule(seconds=st.sampled_from([0.0, 0.5, 3.0, 30.0]))
    def time_passes(self, seconds: float) -> None:
        self.harness.clock.advance(seconds)

    @rule()
    def deadline(self) -> None:
        if self.harness.table.deadline is not None:
            self.attempt(self.fire)

    @rule(serial_offset=st.sampled_from([-1, 1]))
    def stale_deadline(self, serial_offset: int) -> None:
        deadline = self.harness.table.deadline
        key = deadline.key if deadline else "q0:lie"
        serial = (deadline.serial if deadline else self.harness.table.version) + serial_offset
        self.attempt(lambda: self.harness.send(DeadlineReached(key=key, serial=serial)))

    @rule(player=player)
    def leave(self, player: str) -> None:
        self.attempt(lambda: self.harness.send(PlayerLeft(player_id=player)))

    @rule(player=player)
    def come_back(self, player: str) -> None:
        self.attempt(lambda: self.harness.send(PlayerReconnected(player_id=player)))

    @rule(control=st.sampled_from(["pause", "resume", "play"]))
    def host(self, control: str) -> None:
        self.attempt(lambda: self.harness.control(control))

    @precondition(lambda self: self.harness.table.status == "running")
    @rule()
    def play_on(self) -> None:
        """Let the timers run until the phase changes, so that games also reach their end."""
        start = self.state.phase
        while self.state.phase == start and self.harness.table.deadline is not None:
            self.attempt(self.fire)

    # -- invariants ----------------------------------------------------------------------------
    @invariant()
    def exactly_one_phase(self) -> None:
        table = self.harness.table
        phase = CARTRIDGE.driver.phase(self.state)
        assert phase in PHASES
        assert self.harness.view(Viewer("host"))["phase"] == phase
        assert (table.status == "over") == (phase == "over")
        assert table.status in {"running", "paused", "over"}

    @invariant()
    def a_running_game_always_has_a_timer(self) -> None:
        table = self.harness.table
        if table.status == "running":
            assert table.deadline is not None
            assert table.deadline.serial <= table.version
            assert table.paused_key is None
        if table.status == "paused":
            assert table.deadline is None
            assert table.paused_key is not None
            assert table.remaining is not None
            assert table.remaining >= 0
        if table.status == "over":
            assert table.deadline is None
            assert table.results is not None

    @invariant()
    def the_timer_belongs_to_the_phase(self) -> None:
        table = self.harness.table
        key = table.deadline.key if table.deadline else table.paused_key
        if key is not None:
            assert key.split(":")[:2] == [f"q{self.state.index}", self.state.phase]

    @invariant()
    def the_answers_are_sound(self) -> None:
        state = self.state
        if state.phase not in ("guess", "reveal", "scoreboard"):
            return
        answers = state.answers
        assert sum(a.truth for a in answers) == 1
        assert len(answers) <= len(self.harness.table.players) + 1
        texts = [normalize_answer(a.text) for a in answers]
        assert len(set(texts)) == len(texts)
        for player_id, answer_id in state.guesses.items():
            chosen = state.answer(answer_id)
            assert chosen is not None
            assert player_id not in chosen.authors

    @invariant()
    def scores_are_the_sum_of_the_deltas(self) -> None:
        state = self.state
        totals: Counter[str] = Counter()
        for question in state.history:
            totals.update(question.deltas)
        if state.phase == "reveal":
            totals.update(state.deltas)
        assert {p: totals[p] for p in state.scores} == state.scores


TestLiesPhaseMachine = LiesMachine.TestCase
TestLiesPhaseMachine.settings = settings(
    max_examples=60,
    stateful_step_count=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
