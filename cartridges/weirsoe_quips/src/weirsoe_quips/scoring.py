"""The scoring table of Weirsøe Quips (docs/weirsoe_quips.md), as pure functions."""

from __future__ import annotations

from .state import QuipsState, Stats

__all__ = [
    "FINAL_POINTS_PER_VOTE",
    "SHARE_POINTS",
    "SWEEP_BONUS",
    "add_points",
    "faceoff_points",
    "final_points",
    "halve",
]

SHARE_POINTS = 1000  # x the answer's share of the votes x the round
SWEEP_BONUS = 250  # x the round, for an answer that wins every vote
FINAL_POINTS_PER_VOTE = 300


def halve(points: int, house: bool) -> int:
    """An answer from "answer for me" earns half (rounded down)."""
    return points // 2 if house else points


def faceoff_points(
    votes: dict[str, int], house: dict[str, bool], *, round: int, jinx: bool, forfeit_points: int
) -> tuple[dict[str, int], list[str]]:
    """Points per author for one face-off, and the authors of clean sweeps.

    ``votes`` maps each author who answered to the votes their answer got (one author: the
    other did not answer). A jinx scores nothing; a lone answer wins by forfeit.
    """
    authors = list(votes)
    if jinx or not authors:
        return dict.fromkeys(authors, 0), []
    if len(authors) == 1:
        (author,) = authors
        return {author: halve(forfeit_points * round, house[author])}, []
    total = sum(votes.values())
    points: dict[str, int] = {}
    sweeps: list[str] = []
    for author, got in votes.items():
        earned = round_half_up(SHARE_POINTS * round * got, total) if total else 0
        if total and got == total:
            earned += SWEEP_BONUS * round
            sweeps.append(author)
        points[author] = halve(earned, house[author])
    return points, sweeps


def final_points(votes: dict[str, int], house: dict[str, bool]) -> dict[str, int]:
    """300 points for every final-round vote an answer receives."""
    return {a: halve(FINAL_POINTS_PER_VOTE * n, house[a]) for a, n in votes.items()}


def round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def add_points(
    state: QuipsState, points: dict[str, int], counts: dict[str, int], sweeps: list[str]
) -> None:
    """Add a face-off's (or the final's) points, votes and sweeps to the scores and stats."""
    for pid, pts in points.items():
        state.scores[pid] = state.scores.get(pid, 0) + pts
        state.deltas[pid] = state.deltas.get(pid, 0) + pts
    for pid, n in counts.items():
        state.stats.setdefault(pid, Stats()).votes += n
    for pid in sweeps:
        state.stats.setdefault(pid, Stats()).sweeps += 1
