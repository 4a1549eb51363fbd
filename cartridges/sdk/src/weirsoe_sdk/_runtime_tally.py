"""The runtime's part in tallies: which are open, and handing their final counts to the driver.

A mixin of :class:`weirsoe_sdk.Runtime`, kept apart so the transition function stays short.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

from ._effects import Effect, Emit, Outcome
from ._inputs import AudienceTally
from ._tally import OpenTally, open_tally, wanted_tallies

if TYPE_CHECKING:
    from ._driver import GameDriver
    from ._meta import Cartridge
    from ._runtime import Step, Table

__all__ = ["TallyRuntime"]

S = TypeVar("S")


class TallyRuntime(Generic[S]):
    cartridge: Cartridge
    driver: GameDriver[Any, Any]
    # phase -> wanted tallies, when what is wanted depends on the phase alone (else None).
    _wanted_by_phase: dict[str, dict[str, Any]] | None

    # Provided by Runtime.
    def settings(self, table: Table[S]) -> Any:
        raise NotImplementedError

    def _begin(self, table: Table[S], now: float) -> Step[S]:
        raise NotImplementedError

    def _effects(self, step: Step[S], outcome: Outcome[Any]) -> None:
        raise NotImplementedError

    def _deliver(
        self,
        table: Table[S],
        tallies: list[OpenTally],
        counts: Mapping[str, Mapping[str, int]],
        now: float,
    ) -> Step[S]:
        """Give the driver the final counts of ``tallies``: one version each, exactly as if each
        had come as its own :class:`AudienceTally` input, so a replay is the same game."""
        step: Step[S] | None = None
        for tally in tallies:
            final = _final_counts(tally, counts.get(tally.id, {}))
            inp = AudienceTally(tally_id=tally.id, name=tally.name, counts=final)
            deliveries = step.deliveries if step is not None else []
            step = self._begin(table, now)
            step.deliveries[:0] = deliveries
            table.tallies[tally.name] = msgspec.structs.replace(tally, delivered=True)
            if table.state is not None:
                outcome = self.driver.apply(table.state, inp, step.context)
                emits: list[Effect] = [e for e in outcome.effects if isinstance(e, Emit)]
                self._effects(step, Outcome(outcome.state, emits))
        assert step is not None
        return step

    @staticmethod
    def _stays_open(wanted: dict[str, Any], tally: OpenTally) -> bool:
        """Whether ``tally`` is still open in a table that wants ``wanted`` (:meth:`_wanted`)."""
        return tally.name in wanted and wanted[tally.name][1] == tally.key

    def _wanted(self, table: Table[S]) -> dict[str, Any]:
        """The tallies ``table`` wants open (:func:`wanted_tallies`). Asked after every input,
        so when no tally names its openings (``instance``), the answer depends on the phase
        alone and is kept per phase. Callers only read it."""
        live = table.status in ("running", "paused") and table.state is not None
        phase = self.driver.phase(table.state) if live else None
        by_phase = self._wanted_by_phase
        if by_phase is not None and phase is not None:
            wanted = by_phase.get(phase)
            if wanted is None:
                if len(by_phase) >= 256:  # phase names are few; this bounds an odd driver
                    by_phase.clear()
                wanted = by_phase[phase] = wanted_tallies(
                    self.cartridge.tallies, phase, table.state
                )
            return wanted
        return wanted_tallies(self.cartridge.tallies, phase, table.state)

    def _sync_tallies(self, step: Step[S], wanted: dict[str, Any] | None = None) -> Step[S]:
        """Open the tallies the new state wants; drop those it no longer wants. ``wanted`` is
        :meth:`_wanted` of the step's table, if the caller has it already."""
        if not step.changed:
            return step
        table = step.table
        if wanted is None:
            wanted = self._wanted(table)
        for name, tally in list(table.tallies.items()):
            if name not in wanted or wanted[name][1] != tally.key:
                del table.tallies[name]
                step.closed.append(tally)
        for name, (spec, key) in wanted.items():
            if name not in table.tallies:
                settings = self.settings(table)
                opened = open_tally(spec, key, table.state, settings, table.version)
                table.tallies[name] = opened
                step.opened.append(opened)
        return step


def _final_counts(tally: OpenTally, given: Mapping[str, int]) -> dict[str, int]:
    """Every choice's count, 0 if missing, never negative. A reaction tally has dozens of
    choices, so a count that is already a non-negative int is taken as it is."""
    get = given.get
    final: dict[str, int] = {}
    for choice in tally.choices:
        n = get(choice, 0)
        final[choice] = n if type(n) is int and n >= 0 else max(0, int(n))
    return final
