"""Matchmaking: deal prompts to pairs of players, seeded, balanced and without repeats."""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence

__all__ = ["Pair", "deal_pairs", "pair_key"]

Pair = tuple[str, str]
ATTEMPTS = 1000  # shuffles tried to avoid earlier pairs (stops at the first clean one)


def pair_key(a: str, b: str) -> frozenset[str]:
    """A pair without its order, to compare pairs across rounds."""
    return frozenset((a, b))


def deal_pairs(
    players: Sequence[str],
    per_player: int,
    rng: random.Random,
    *,
    avoid: Collection[frozenset[str]] = (),
) -> list[Pair]:
    """Pairs of players, one per prompt, so that every player is in ``per_player`` pairs.

    - *Deterministic*: the same ``rng`` state (``ctx.rng``: session seed and version) gives
      the same pairs.
    - *Balanced*: every player is in exactly ``per_player`` pairs when ``len(players) *
      per_player`` is even; otherwise one player is in one fewer.
    - *No repeats while avoidable*: no pair appears twice when ``per_player < len(players)``;
      among such dealings, it picks one that meets the fewest pairs in ``avoid`` (for example
      the previous rounds' pairs, see :func:`pair_key`).

    The pairs are a circulant graph over a shuffled seating: offsets 1, 2, … each give every
    player two opponents, and the offset ``n/2`` (even ``n``) one more.
    """
    n = len(players)
    if len(set(players)) != n:
        raise ValueError("players must be distinct")
    if per_player < 0:
        raise ValueError("per_player must be >= 0")
    if n < 2 or per_player == 0:
        return []
    best: list[Pair] = []
    best_score = -1
    for _ in range(ATTEMPTS if avoid else 1):
        order = list(players)
        rng.shuffle(order)
        pairs = _circulant(order, per_player)
        score = sum(pair_key(a, b) in avoid for a, b in pairs)
        if best_score < 0 or score < best_score:
            best, best_score = pairs, score
        if score == 0:
            break
    rng.shuffle(best)
    return [(a, b) if rng.random() < 0.5 else (b, a) for a, b in best]


def _circulant(order: list[str], k: int) -> list[Pair]:
    n = len(order)
    pairs: list[Pair] = []
    span = max(1, (n - 1) // 2)  # offsets beyond this would repeat pairs
    for j in range(k // 2):
        d = 1 + j % span
        pairs += [(order[i], order[(i + d) % n]) for i in range(n)]
    if k % 2:
        # Seat i with seat i + n//2 for the first n//2 seats: disjoint pairs, one more opponent
        # for everyone (odd n: all but the last seat); this offset is unused while k < n.
        d = n // 2
        pairs += [(order[i], order[i + d]) for i in range(d)]
    return pairs
