"""Player actions, a tagged union on ``type``."""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["AnswerForMe", "FinalVote", "QuipsAction", "React", "SubmitAnswer", "Vote"]

Id = Annotated[str, msgspec.Meta(max_length=64)]


class SubmitAnswer(
    msgspec.Struct, tag_field="type", tag="answer", frozen=True, forbid_unknown_fields=True
):
    """An answer to one of my prompts (``prompt`` is its matchup id, as my view shows it)."""

    prompt: Id
    text: Annotated[str, msgspec.Meta(max_length=2000)]


class AnswerForMe(
    msgspec.Struct, tag_field="type", tag="answer_for_me", frozen=True, forbid_unknown_fields=True
):
    """Take a house answer from the pack, for half points."""

    prompt: Id


class Vote(msgspec.Struct, tag_field="type", tag="vote", frozen=True, forbid_unknown_fields=True):
    answer_id: Id


class FinalVote(
    msgspec.Struct, tag_field="type", tag="final_vote", frozen=True, forbid_unknown_fields=True
):
    """All of my final-round votes at once (the same answer may get several)."""

    answer_ids: Annotated[list[Id], msgspec.Meta(max_length=10)]


class React(msgspec.Struct, tag_field="type", tag="react", frozen=True, forbid_unknown_fields=True):
    answer_id: Id
    emoji: Annotated[str, msgspec.Meta(max_length=16)]


QuipsAction = SubmitAnswer | AnswerForMe | Vote | FinalVote | React
