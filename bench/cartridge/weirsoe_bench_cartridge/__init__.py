"""A tiny cartridge for the fan-out benchmark: every input is one cheap state change that
sends one event to everyone in the room.

It is not installed in the workspace. ``bench/loadgen.py`` puts ``bench/cartridge`` on the
``PYTHONPATH`` of the servers it starts, where the ``.dist-info`` folder beside this package
registers it under the ``weirsoe.cartridges`` entry-point group. So the benchmark goes through
the real platform (REST, sockets, the one state-change path, channels), while the test suite,
``weirsoe cartridges`` and the generated event reference never see it.

- action ``{"type": "tick", "n": N, "sent": T}``: emits ``bench.tick`` (``n``, ``sent``, ``pad``)
  to everyone; the load generator drives it at a fixed rate per room.
- action ``{"type": "beat", "seconds": S}``: starts (S > 0) or stops (S = 0) a chain of
  deadlines S seconds apart; each firing emits ``bench.beat`` with the time it was ``due``, so
  the envelope's ``ts`` minus ``due`` is the timer's lateness.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from weirsoe_sdk import (
    Cartridge,
    CartridgeInfo,
    ClearDeadline,
    Context,
    Emit,
    Event,
    GameDriver,
    Outcome,
    SetDeadline,
    hookimpl,
)


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pad: Annotated[int, msgspec.Meta(ge=0, le=16384, description="padding bytes per event")] = 0


class State(msgspec.Struct):
    beats: int = 0
    every: float = 0.0
    due: float = 0.0


class Tick(msgspec.Struct, tag_field="type", tag="tick"):
    n: int
    sent: float = 0.0


class Beat(msgspec.Struct, tag_field="type", tag="beat"):
    seconds: Annotated[float, msgspec.Meta(ge=0, le=60)]


class Ticked(Event, tag="bench.tick", frozen=True):
    n: int
    sent: float
    pad: str


class Beaten(Event, tag="bench.beat", frozen=True):
    n: int
    due: float
    pad: str


class Driver(GameDriver[State, Settings]):
    def setup(self, ctx: Context[Settings]) -> Outcome[State]:
        return Outcome(State(), [])

    def phase(self, state: State) -> str:
        return "run"

    def on_action(
        self, state: State, player_id: str, action: Any, ctx: Context[Settings]
    ) -> Outcome[State]:
        if isinstance(action, Tick):
            pad = "x" * ctx.settings.pad
            return Outcome(state, [Emit(Ticked(n=action.n, sent=action.sent, pad=pad))])
        state.every = action.seconds
        if action.seconds <= 0:
            return Outcome(state, [ClearDeadline()])
        state.due = ctx.now + action.seconds
        return Outcome(state, [SetDeadline("beat", state.due)])

    def on_deadline(self, state: State, key: str, ctx: Context[Settings]) -> Outcome[State]:
        event = Beaten(n=state.beats, due=state.due, pad="x" * ctx.settings.pad)
        state.beats += 1
        # Fixed rate: the next beat is due one period after this one was due, not after it
        # fired; if the timer fell a whole period behind, skip ahead rather than burst.
        state.due = max(state.due + state.every, ctx.now + state.every / 2)
        return Outcome(state, [Emit(event), SetDeadline("beat", state.due)])

    def view(self, state: State, viewer: Any, ctx: Context[Settings]) -> dict[str, Any]:
        return {"beats": state.beats, "every": state.every}


@hookimpl
def weirsoe_register_cartridges(config: dict[str, Any]) -> list[Cartridge]:
    return [
        Cartridge(
            info=CartridgeInfo(
                slug="bench",
                title="Benchmark ticker",
                version="0.1.0",
                min_players=1,
                max_players=16,
            ),
            driver=Driver(),
            settings_type=Settings,
            state_type=State,
            action_type=Tick | Beat,
            events=(Ticked, Beaten),
        )
    ]
