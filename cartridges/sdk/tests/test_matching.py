"""Matchmaking: seeded, balanced, and no repeated pair while one can be avoided (hypothesis)."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weirsoe_sdk import deal_pairs, pair_key

players_st = st.integers(min_value=2, max_value=12).map(lambda n: [f"p{i}" for i in range(n)])


@settings(max_examples=300, deadline=None)
@given(players=players_st, per_player=st.integers(0, 6), seed=st.integers(0, 10**6))
def test_pairs_are_balanced(players: list[str], per_player: int, seed: int) -> None:
    pairs = deal_pairs(players, per_player, random.Random(seed))
    load = Counter(p for pair in pairs for p in pair)
    n = len(players)
    assert len(pairs) == n * per_player // 2
    assert all(a != b for a, b in pairs)
    assert set(load) <= set(players)
    counts = [load.get(p, 0) for p in players]
    if n * per_player % 2 == 0:
        assert counts == [per_player] * n
    else:
        assert sorted(counts) == [per_player - 1] + [per_player] * (n - 1)


@settings(max_examples=300, deadline=None)
@given(players=players_st, per_player=st.integers(1, 6), seed=st.integers(0, 10**6))
def test_no_pair_repeats_while_avoidable(players: list[str], per_player: int, seed: int) -> None:
    pairs = deal_pairs(players, per_player, random.Random(seed))
    keys = [pair_key(a, b) for a, b in pairs]
    if per_player < len(players):
        assert len(set(keys)) == len(keys)


@settings(max_examples=200, deadline=None)
@given(players=players_st, per_player=st.integers(1, 4), seed=st.integers(0, 10**6))
def test_the_same_seed_deals_the_same_pairs(players: list[str], per_player: int, seed: int) -> None:
    first = deal_pairs(players, per_player, random.Random(seed))
    assert deal_pairs(players, per_player, random.Random(seed)) == first


@settings(max_examples=200, deadline=None)
@given(n=st.integers(5, 10), seed=st.integers(0, 10**6))
def test_a_second_round_avoids_the_first_rounds_pairs(n: int, seed: int) -> None:
    # With five or more players, two opponents each, a disjoint second dealing always exists.
    players = [f"p{i}" for i in range(n)]
    rng = random.Random(seed)
    first = {pair_key(a, b) for a, b in deal_pairs(players, 2, rng)}
    second = {pair_key(a, b) for a, b in deal_pairs(players, 2, rng, avoid=first)}
    assert not first & second


def test_different_seeds_deal_differently() -> None:
    players = [f"p{i}" for i in range(8)]
    dealt = {tuple(deal_pairs(players, 2, random.Random(s))) for s in range(20)}
    assert len(dealt) > 10


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="distinct"):
        deal_pairs(["a", "a"], 1, random.Random(0))
    with pytest.raises(ValueError, match=">= 0"):
        deal_pairs(["a", "b"], -1, random.Random(0))
    assert deal_pairs(["a"], 2, random.Random(0)) == []
