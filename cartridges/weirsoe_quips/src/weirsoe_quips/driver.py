"""The rules of Weirsøe Quips as a phase table (the SDK's PhasedDriver)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from weirsoe_sdk import (
    ALL_ACTED,
    Context,
    Effect,
    Emit,
    GameOver,
    InvalidAction,
    InvalidSettings,
    Move,
    Outcome,
    Phase,
    PhasedDriver,
    Refused,
    Secret,
    Viewer,
    is_profane,
    normalize_answer,
    same_answer,
    to_players,
)

from .actions import AnswerForMe, FinalVote, React, SubmitAnswer, Vote
from .audience import with_crowd
from .awards import EMOJI, awards_for, ranking
from .content import Pack, Prompt
from .dealing import deal_round, new_answer_id, valid_answer
from .events import (
    AnswerAccepted,
    FaceOffResult,
    FaceOffStarted,
    FinalVoteStarted,
    PlayerDone,
    PromptCard,
    PromptsDealt,
    QuipsAnswerOption,
    QuipsGameEnded,
    QuipsReactionSent,
    QuipsScoreboard,
    ResultAnswer,
    VoteCast,
    WritingStarted,
)
from .scoring import add_points, faceoff_points, final_points
from .settings import QuipsSettings
from .state import FINAL_ROUND, Entry, QuipsState, Stats

__all__ = ["FINAL_VOTES", "QuipsDriver"]

Ctx = Context[QuipsSettings]

FINAL_VOTES = 3  # votes each player spreads over the others' final answers


class QuipsDriver(PhasedDriver[QuipsState, QuipsSettings]):
    """write → (vote → result) per prompt → scoreboard, twice; then write → final_vote →
    result → scoreboard, then awards."""

    def __init__(self, packs: Mapping[str, Pack]) -> None:
        self.packs = dict(packs)
        react = Move(React, self._react)
        self.phases = {
            "write": Phase(
                moves={
                    "answer": Move(SubmitAnswer, self._answer),
                    "answer_for_me": Move(AnswerForMe, self._answer),
                },
                timer=lambda s: s.write_seconds,
                extendable=True,
                end_if=ALL_ACTED,
                acted=lambda state: state.finished_writing(),
                on_deadline=self._after_writing,
            ),
            "vote": Phase(
                moves={"vote": Move(Vote, self._vote), "react": react},
                timer=lambda s: s.vote_seconds,
                extendable=True,
                end_if=self._everyone_voted,
                on_deadline=self._score_faceoff,
            ),
            "result": Phase(
                moves={"react": react},
                timer=lambda s: s.result_seconds,
                on_deadline=self._after_result,
            ),
            "final_vote": Phase(
                moves={"final_vote": Move(FinalVote, self._final_vote), "react": react},
                timer=lambda s: s.vote_seconds,
                extendable=True,
                end_if=self._everyone_voted,
                on_deadline=self._score_final,
            ),
            "scoreboard": Phase(
                timer=lambda s: s.scoreboard_seconds, on_deadline=self._after_scoreboard
            ),
        }

    # -- settings and setup ----------------------------------------------------------------
    def pool(self, settings: QuipsSettings) -> list[Prompt]:
        return [
            p
            for slug in settings.packs
            for p in self.packs[slug].prompts
            if p.family_safe or not settings.family_mode
        ]

    def check_settings(self, settings: QuipsSettings) -> None:
        for slug in settings.packs:
            if slug not in self.packs:
                known = ", ".join(sorted(self.packs))
                raise InvalidSettings(
                    f"packs: unknown pack {slug!r} (available: {known})", field="packs"
                )
        available, needed = len(self.pool(settings)), settings.prompts_needed
        if available < needed:
            raise InvalidSettings(
                f"packs: {needed} prompts needed, only {available} available", field="packs"
            )

    def check_name(self, name: str, settings: QuipsSettings) -> None:
        if settings.family_mode and is_profane(name):
            raise Refused("please pick a family-friendly name", code="name_profane", field="name")

    def setup(self, ctx: Ctx) -> Outcome[QuipsState]:
        state = QuipsState(
            phase="write",
            scores=dict.fromkeys(ctx.player_ids, 0),
            stats={pid: Stats() for pid in ctx.player_ids},
        )
        return self._start_round(state, ctx)

    def phase(self, state: QuipsState) -> str:
        return state.phase

    # -- writing ---------------------------------------------------------------------------
    def _start_round(self, state: QuipsState, ctx: Ctx) -> Outcome[QuipsState]:
        state.phase = "write"
        state.entries, state.index, state.order, state.votes = {}, 0, [], {}
        state.final_votes, state.result, state.deltas, state.reactions_used = {}, None, {}, {}
        fresh = [p for p in self.pool(ctx.settings) if p.id not in state.used_prompts]
        state.matchups = deal_round(fresh, state, ctx)
        deadline, timer = self.deadline("write", f"r{state.round}:write", ctx)
        final = state.matchups[0].prompt if state.final else None
        effects: list[Effect] = [
            Emit(WritingStarted(state.round, state.round, deadline, final_prompt=final))
        ]
        for pid in ctx.player_ids:
            cards = [
                PromptCard(id=m.id, prompt=m.prompt, category=m.category)
                for m in state.matchups
                if pid in m.players
            ]
            effects.append(Emit(PromptsDealt(prompts=cards), to_players(pid)))
        effects.append(timer)
        return Outcome(state, effects)

    def _answer(
        self, state: QuipsState, pid: str, action: SubmitAnswer | AnswerForMe, ctx: Ctx
    ) -> Outcome[QuipsState]:
        matchup = next((m for m in state.matchups if m.id == action.prompt), None)
        if matchup is None or pid not in matchup.players:
            raise InvalidAction("that is not one of your prompts", code="unknown_prompt")
        entries = state.entries.setdefault(matchup.id, {})
        if isinstance(action, AnswerForMe):
            taken = {normalize_answer(e.text) for a, e in entries.items() if a != pid}
            fresh = [h for h in matchup.house if normalize_answer(h) not in taken]
            text, house = ctx.rng.choice(fresh or matchup.house), True
        else:
            text, house = valid_answer(action.text, ctx), False
        before = state.finished_writing()
        old = entries.get(pid)
        entries[pid] = Entry(
            id=old.id if old else new_answer_id(state, ctx), author=pid, text=text, house=house
        )
        accepted = AnswerAccepted(prompt=matchup.id, text=text, answer_for_me=house)
        effects: list[Effect] = [Emit(accepted, to_players(pid))]
        if pid in state.finished_writing() and pid not in before:
            effects.append(Emit(PlayerDone(player_id=pid)))
        return Outcome(state, effects)

    def _after_writing(self, state: QuipsState, ctx: Ctx) -> Outcome[QuipsState]:
        if state.final:
            return self._start_final_vote(state, ctx)
        state.index = 0
        return self._start_faceoff(state, ctx)

    # -- face-offs -------------------------------------------------------------------------
    def _start_faceoff(self, state: QuipsState, ctx: Ctx) -> Outcome[QuipsState]:
        entries = list(state.entries.get(state.matchup.id, {}).values())
        ctx.rng.shuffle(entries)
        state.order = [e.id for e in entries]
        state.votes, state.reactions_used, state.crowd = {}, {}, {}
        if len(entries) < 2 or same_answer(entries[0].text, entries[1].text):
            return self._score_faceoff(state, ctx)  # a forfeit or a jinx: nothing to vote on
        state.phase = "vote"
        deadline, timer = self.deadline("vote", f"r{state.round}:vote{state.index}", ctx)
        started = FaceOffStarted(
            index=state.index + 1,
            count=len(state.matchups),
            prompt=state.matchup.prompt,
            answers=[QuipsAnswerOption(id=e.id, text=e.text) for e in entries],
            deadline=deadline,
        )
        return Outcome(state, [Emit(started), timer])

    def voters(self, state: QuipsState, ctx: Ctx) -> list[str]:
        """Who may vote now: everyone but the face-off's authors (in the final, everyone
        with at least one other answer to vote for)."""
        if state.phase == "final_vote":
            # Which answers are jinxed does not depend on the voter: compare them once.
            jinxed = _jinxed(list(state.entries.get("final", {}).values()))
            return [p for p in ctx.player_ids if self._final_options(state, p, jinxed)]
        return [p for p in ctx.player_ids if p not in state.matchup.players]

    def _everyone_voted(self, state: QuipsState, ctx: Ctx) -> bool:
        done = state.final_votes if state.phase == "final_vote" else state.votes
        waiting = [p for p in self.voters(state, ctx) if p in ctx.connected_ids]
        return bool(waiting) and all(p in done for p in waiting)

    def _vote(self, state: QuipsState, pid: str, action: Vote, ctx: Ctx) -> Outcome[QuipsState]:
        if pid in state.matchup.players:
            raise InvalidAction("you can't vote on your own prompt", code="own_faceoff")
        if pid in state.votes:
            raise InvalidAction("your vote is final", code="already_voted")
        if state.entry(action.answer_id) is None:
            raise InvalidAction("no such answer", code="unknown_answer")
        state.votes[pid] = action.answer_id
        return Outcome(state, [Emit(VoteCast(player_id=pid))])

    def _score_faceoff(self, state: QuipsState, ctx: Ctx) -> Outcome[QuipsState]:
        shown = state.shown()
        jinx = len(shown) == 2 and same_answer(shown[0].text, shown[1].text)
        ballots = with_crowd(state, list(state.votes.values()), ctx) if len(shown) == 2 else []
        counts = {e.author: ballots.count(e.id) for e in shown}
        points, sweeps = faceoff_points(
            counts,
            {e.author: e.house for e in shown},
            round=state.round,
            jinx=jinx,
            forfeit_points=ctx.settings.forfeit_points,
        )
        answers = [
            ResultAnswer(
                e.id,
                e.text,
                e.author,
                counts[e.author],
                points[e.author],
                e.house,
                jinx,
                e.author in sweeps,
            )
            for e in shown
        ]
        add_points(state, points, counts, sweeps)
        return self._show_result(state, ctx, answers, forfeit=len(shown) == 1, jinx=jinx)

    # -- the final round -------------------------------------------------------------------
    def _final_options(
        self, state: QuipsState, pid: str, jinxed: set[str] | None = None
    ) -> list[Entry]:
        entries = list(state.entries.get("final", {}).values())
        if jinxed is None:
            jinxed = _jinxed(entries)
        return [e for e in entries if e.id not in jinxed and e.author != pid]

    def _start_final_vote(self, state: QuipsState, ctx: Ctx) -> Outcome[QuipsState]:
        entries = list(state.entries.get("final", {}).values())
        ctx.rng.shuffle(entries)
        state.order = [e.id for e in entries]
        state.phase, state.reactions_used, state.crowd = "final_vote", {}, {}
        if not self.voters(state, ctx):
            return self._score_final(state, ctx)
        deadline, timer = self.deadline("final_vote", "r3:final_vote", ctx)
        options = {e.id for e in self._final_options(state, "")}
        started = FinalVoteStarted(
            prompt=state.matchup.prompt,
            answers=[QuipsAnswerOption(id=e.id, text=e.text) for e in entries if e.id in options],
            votes=FINAL_VOTES,
            deadline=deadline,
        )
        return Outcome(state, [Emit(started), timer])

    def _final_vote(
        self, state: QuipsState, pid: str, action: FinalVote, ctx: Ctx
    ) -> Outcome[QuipsState]:
        if pid in state.final_votes:
            raise InvalidAction("your votes are final", code="already_voted")
        if len(action.answer_ids) != FINAL_VOTES:
            raise InvalidAction(f"spend exactly {FINAL_VOTES} votes", code="vote_count")
        mine = state.entries.get("final", {}).get(pid)
        allowed = {e.id for e in self._final_options(state, pid)}
        for aid in action.answer_ids:
            if mine is not None and aid == mine.id:
                raise InvalidAction("you can't vote for your own answer", code="own_answer")
            if aid not in allowed:
                raise InvalidAction("no such answer", code="unknown_answer")
        state.final_votes[pid] = list(action.answer_ids)
        return Outcome(state, [Emit(VoteCast(player_id=pid))])

    def _score_final(self, state: QuipsState, ctx: Ctx) -> Outcome[QuipsState]:
        shown = state.shown()
        options = {e.id for e in self._final_options(state, "")}
        ballots = [aid for votes in state.final_votes.values() for aid in votes]
        ballots = [b for b in with_crowd(state, ballots, ctx) if b in options]
        counts = {e.author: ballots.count(e.id) for e in shown}
        points = final_points(counts, {e.author: e.house for e in shown})
        answers = [
            ResultAnswer(
                e.id,
                e.text,
                e.author,
                counts[e.author],
                points[e.author],
                e.house,
                e.id not in options,
            )
            for e in shown
        ]
        add_points(state, points, counts, [])
        return self._show_result(state, ctx, answers, forfeit=False, jinx=False)

    # -- results and scores ----------------------------------------------------------------
    def _show_result(
        self, state: QuipsState, ctx: Ctx, answers: list[ResultAnswer], *, forfeit: bool, jinx: bool
    ) -> Outcome[QuipsState]:
        state.phase = "result"
        deadline, timer = self.deadline("result", f"r{state.round}:result{state.index}", ctx)
        result = FaceOffResult(
            index=state.index + 1,
            count=len(state.matchups),
            prompt=state.matchup.prompt,
            answers=answers,
            forfeit=forfeit,
            jinx=jinx,
            final=state.final,
            deadline=deadline,
        )
        state.result = {
            "index": result.index,
            "count": result.count,
            "prompt": result.prompt,
            "answers": msgspec.to_builtins(answers),
            "forfeit": forfeit,
            "jinx": jinx,
            "final": state.final,
        }
        return Outcome(state, [Emit(result), timer])

    def _after_result(self, state: QuipsState, ctx: Ctx) -> Outcome[QuipsState]:
        if not state.final and state.index + 1 < len(state.matchups):
            state.index += 1
            return self._start_faceoff(state, ctx)
        state.phase = "scoreboard"
        deadline, timer = self.deadline("scoreboard", f"r{state.round}:scoreboard", ctx)
        board = QuipsScoreboard(state.round, ranking(state, ctx), deadline, last=state.final)
        return Outcome(state, [Emit(board), timer])

    def _after_scoreboard(self, state: QuipsState, ctx: Ctx) -> Outcome[QuipsState]:
        if state.round < FINAL_ROUND:
            state.round += 1
            return self._start_round(state, ctx)
        state.phase = "over"
        state.deltas = {}
        final = QuipsGameEnded(ranking=ranking(state, ctx), awards=awards_for(state))
        return Outcome(state, [Emit(final), GameOver(final)])

    def on_tally(
        self, state: QuipsState, name: str, counts: dict[str, int], ctx: Ctx
    ) -> Outcome[QuipsState]:
        """The audience's final counts for the answers on screen, just before the vote ends."""
        if name == "vote" and state.phase in ("vote", "final_vote"):
            state.crowd = {aid: counts.get(aid, 0) for aid in state.order}
        return Outcome(state)

    # -- reactions -------------------------------------------------------------------------
    def _react(self, state: QuipsState, pid: str, action: React, ctx: Ctx) -> Outcome[QuipsState]:
        if action.emoji not in EMOJI:
            raise InvalidAction("pick one of the offered reactions", code="bad_emoji")
        entry = state.entry(action.answer_id)
        if entry is None:
            raise InvalidAction("no such answer", code="unknown_answer")
        used = state.reactions_used.get(pid, 0)
        if used >= ctx.settings.reaction_cap:
            raise InvalidAction("no reactions left for now", code="reaction_cap")
        state.reactions_used[pid] = used + 1
        if entry.author != pid:
            counts = state.stats.setdefault(entry.author, Stats()).reactions
            counts[action.emoji] = counts.get(action.emoji, 0) + 1
        event = QuipsReactionSent(player_id=pid, answer_id=entry.id, emoji=action.emoji)
        return Outcome(state, [Emit(event)])

    # -- views and secrets -----------------------------------------------------------------
    def view(self, state: QuipsState, viewer: Viewer, ctx: Ctx) -> dict[str, Any]:
        from .views import build_view

        return build_view(self, state, viewer, ctx)

    def secrets(self, state: QuipsState, ctx: Ctx) -> Iterable[Secret]:
        from .views import secrets_of

        return secrets_of(self, state, ctx)


def _jinxed(entries: list[Entry]) -> set[str]:
    """The final answers that match another one (:func:`same_answer`): nobody may vote for them."""
    return {
        e.id for e in entries if any(o.id != e.id and same_answer(o.text, e.text) for o in entries)
    }
