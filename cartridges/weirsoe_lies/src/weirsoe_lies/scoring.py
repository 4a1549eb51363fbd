"""The scoring table, as pure functions. ``docs/weirsoe_lies.md`` states the same table.

With ``m`` the round's multiplier (round 1 ×1, round 2 ×2, round 3 ×3, …):

- finding the truth earns the picker ``1000 × m``;
- every player fooled by a lie earns each of its authors ``500 × m``;
  a lie taken from "lie for me" earns its author half, ``250 × m``;
- picking a house lie costs the picker ``house_lie_penalty × m`` (default 0).

The audience counts as one extra player: if the answer most of the audience picked is a
player's lie, each of its authors earns as for fooling one player (``500 × m``, ``250 × m`` for
"lie for me"); the truth or a house lie earns nobody anything, and costs nobody anything.
"""

from __future__ import annotations

from .state import Answer

__all__ = ["FOOLED", "TRUTH", "audience_points", "award_points"]

TRUTH = 1000
FOOLED = 500


def award_points(
    answer: Answer, pickers: list[str], multiplier: int, house_penalty: int
) -> dict[str, int]:
    """Points earned (or lost) by revealing ``answer`` that ``pickers`` chose."""
    points: dict[str, int] = {}
    if answer.truth:
        for pid in pickers:
            points[pid] = TRUTH * multiplier
        return points
    if answer.house:
        if house_penalty:
            for pid in pickers:
                points[pid] = -house_penalty * multiplier
        return points
    for author in answer.authors:
        per_fooled = FOOLED * multiplier // (2 if author in answer.half else 1)
        points[author] = per_fooled * len(pickers)
    return points


def audience_points(answer: Answer, multiplier: int) -> dict[str, int]:
    """Points for the authors of ``answer`` when it is the audience's pick."""
    if answer.truth or answer.house:
        return {}
    return award_points(answer, ["audience"], multiplier, 0)
