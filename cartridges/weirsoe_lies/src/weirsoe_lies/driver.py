"""The rules of Weirsøe Lies as a pure GameDriver."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from weirsoe_sdk import (
    ALL_ACTED,
    AUDIENCE,
    HOST,
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
    clean_text,
    is_profane,
    normalize_answer,
    same_answer,
    to_players,
)

from .actions import Guess, LieForMe, React, SubmitLie
from .audience import crowd_pick, record_reactions, share_of
from .awards import EMOJI, awards_for, ranking
from .content import Pack
from .events import (
    AnswerOption,
    GameEnded,
    GuessStarted,
    GuessSubmitted,
    LieAccepted,
    LieStarted,
    LieSubmitted,
    QuestionResult,
    QuestionShown,
    ReactionSent,
    RevealedAnswer,
    RevealStep,
    Scoreboard,
    ScoresCalculated,
)
from .scoring import audience_points, award_points
from .settings import LiesSettings
from .state import Answer, Card, Lie, LiesState, Stats
from .views import build_view

__all__ = ["LiesDriver"]

Ctx = Context[LiesSettings]


class LiesDriver(PhasedDriver[LiesState, LiesSettings]):
    """Question → lies → guesses → incremental reveal → scores → scoreboard, ×N, then awards."""

    def __init__(self, packs: Mapping[str, Pack]) -> None:
        self.packs = dict(packs)
        react = Move(React, self._react)
        self.phases = {
            "lie": Phase(
                moves={"lie": Move(SubmitLie, self._lie), "lie_for_me": Move(LieForMe, self._lie)},
                timer=lambda s: s.lie_seconds,
                extendable=True,
                end_if=ALL_ACTED,
                acted=lambda state: state.lies,
                on_deadline=self._start_guesses,
            ),
            "guess": Phase(
                moves={"guess": Move(Guess, self._guess), "react": react},
                timer=lambda s: s.guess_seconds,
                extendable=True,
                end_if=ALL_ACTED,
                acted=lambda state: state.guesses,
                on_deadline=self._start_reveal,
            ),
            "reveal": Phase(
                moves={"react": react},
                timer=lambda s: s.reveal_step_seconds,
                on_deadline=self._reveal_or_scores,
            ),
            "scoreboard": Phase(
                timer=lambda s: s.scoreboard_seconds, on_deadline=self._next_question
            ),
        }

    # -- settings and setup ----------------------------------------------------------------
    def pool(self, settings: LiesSettings) -> list[Any]:
        prompts = []
        for slug in settings.packs:
            for prompt in self.packs[slug].prompts:
                if prompt.family_safe or not settings.family_mode:
                    prompts.append(prompt)
        return prompts

    def check_settings(self, settings: LiesSettings) -> None:
        for slug in settings.packs:
            if slug not in self.packs:
                known = ", ".join(sorted(self.packs))
                raise InvalidSettings(
                    f"packs: unknown pack {slug!r} (available: {known})", field="packs"
                )
        available = len(self.pool(settings))
        if available < settings.question_count:
            raise InvalidSettings(
                f"packs: {settings.question_count} questions needed, only {available} available",
                field="packs",
            )

    def check_name(self, name: str, settings: LiesSettings) -> None:
        if settings.family_mode and is_profane(name):
            raise Refused("please pick a family-friendly name", code="name_profane", field="name")

    def setup(self, ctx: Ctx) -> Outcome[LiesState]:
        settings = ctx.settings
        chosen = ctx.rng.sample(self.pool(settings), settings.question_count)
        per_round = settings.questions_per_round
        cards = []
        for i, prompt in enumerate(chosen):
            rnd = min(i // per_round + 1, settings.rounds)
            cards.append(
                Card(
                    prompt_id=prompt.id,
                    prompt=prompt.prompt,
                    truth=prompt.truth,
                    alternates=list(prompt.alternates),
                    house_lies=list(prompt.house_lies),
                    category=prompt.category,
                    round=rnd,
                    multiplier=rnd,
                )
            )
        state = LiesState(
            phase="lie",
            cards=cards,
            scores=dict.fromkeys(ctx.player_ids, 0),
            stats={pid: Stats() for pid in ctx.player_ids},
        )
        return self._start_lies(state, ctx)

    def phase(self, state: LiesState) -> str:
        return state.phase

    # -- phases ----------------------------------------------------------------------------
    def _start_lies(self, state: LiesState, ctx: Ctx) -> Outcome[LiesState]:
        state.phase = "lie"
        state.lies, state.answers, state.guesses = {}, [], {}
        state.reactions_used, state.reveal_order, state.reveal_log = {}, [], []
        state.revealed, state.deltas = 0, {}
        state.crowd, state.crowd_pick = {}, None
        card, settings = state.card, ctx.settings
        deadline, timer = self.deadline("lie", f"q{state.index}:lie", ctx)
        return Outcome(
            state,
            [
                Emit(
                    QuestionShown(
                        round=card.round,
                        rounds=settings.rounds,
                        question=state.index + 1,
                        questions=len(state.cards),
                        multiplier=card.multiplier,
                        category=card.category,
                    )
                ),
                Emit(
                    LieStarted(
                        prompt=card.prompt, deadline=deadline, max_length=settings.lie_max_length
                    )
                ),
                timer,
            ],
        )

    def _start_guesses(self, state: LiesState, ctx: Ctx) -> Outcome[LiesState]:
        state.phase = "guess"
        state.reactions_used = {}
        card = state.card
        answers: list[Answer] = [Answer(id="", text=card.truth, truth=True)]
        by_norm: dict[str, Answer] = {}
        for pid in ctx.player_ids:
            lie = state.lies.get(pid)
            if lie is None:
                continue
            key = normalize_answer(lie.text)
            answer = by_norm.get(key)
            if answer is None:
                answer = by_norm[key] = Answer(id="", text=lie.text)
                answers.append(answer)
            answer.authors.append(pid)
            if lie.lie_for_me:
                answer.half.append(pid)
        missing = len(ctx.player_ids) - len(state.lies)
        decoys = [d for d in card.house_lies if normalize_answer(d) not in by_norm]
        ctx.rng.shuffle(decoys)
        answers += [Answer(id="", text=d) for d in decoys[:missing]]
        ctx.rng.shuffle(answers)
        used: set[str] = set()
        for answer in answers:
            while not answer.id or answer.id in used:
                answer.id = f"a{ctx.rng.getrandbits(32):08x}"
            used.add(answer.id)
        state.answers = answers
        deadline, timer = self.deadline("guess", f"q{state.index}:guess", ctx)
        options = [AnswerOption(id=a.id, text=a.text) for a in answers]
        effects: list[Effect] = [
            Emit(GuessStarted(answers=options, deadline=deadline), HOST),
            Emit(GuessStarted(answers=options, deadline=deadline), AUDIENCE),
        ]
        for pid in ctx.player_ids:
            mine = self._own_answer(state, pid)
            yours = mine.id if mine else None
            event = GuessStarted(answers=options, deadline=deadline, yours=yours)
            effects.append(Emit(event, to_players(pid)))
        effects.append(timer)
        return Outcome(state, effects)

    def _start_reveal(self, state: LiesState, ctx: Ctx) -> Outcome[LiesState]:
        state.phase = "reveal"
        state.reactions_used = {}
        lies = [a.id for a in state.answers if not a.truth]
        truth = [a.id for a in state.answers if a.truth]
        state.reveal_order = lies + truth
        state.deltas = dict.fromkeys(state.scores, 0)
        return self._reveal_next(state, ctx)

    def _reveal_next(self, state: LiesState, ctx: Ctx) -> Outcome[LiesState]:
        index = state.revealed
        answer = state.answer(state.reveal_order[index])
        assert answer is not None
        card = state.card
        pickers = [pid for pid, aid in state.guesses.items() if aid == answer.id]
        points = award_points(answer, pickers, card.multiplier, ctx.settings.house_lie_penalty)
        if state.crowd_pick == answer.id:
            for pid, pts in audience_points(answer, card.multiplier).items():
                points[pid] = points.get(pid, 0) + pts
        for pid, pts in points.items():
            state.scores[pid] = state.scores.get(pid, 0) + pts
            state.deltas[pid] = state.deltas.get(pid, 0) + pts
        for pid in pickers:
            stats = _stats(state, pid)
            if answer.truth:
                stats.truths += 1
        for author in answer.authors:
            _stats(state, author).fooled += len(pickers)
        deadline, timer = self.deadline("reveal", f"q{state.index}:reveal:{index}", ctx)
        step = RevealStep(
            index=index,
            total=len(state.reveal_order),
            answer=RevealedAnswer(
                id=answer.id,
                text=answer.text,
                truth=answer.truth,
                house=answer.house,
                authors=list(answer.authors),
            ),
            pickers=pickers,
            points=points,
            scores=dict(state.scores),
            deadline=deadline,
            audience=share_of(state, answer),
        )
        state.reveal_log.append(msgspec.to_builtins(step))
        state.revealed += 1
        return Outcome(state, [Emit(step), timer])

    def _scoreboard(self, state: LiesState, ctx: Ctx) -> Outcome[LiesState]:
        state.phase = "scoreboard"
        card = state.card
        state.history.append(
            QuestionResult(
                question=state.index + 1,
                round=card.round,
                multiplier=card.multiplier,
                prompt_id=card.prompt_id,
                deltas=dict(state.deltas),
            )
        )
        deadline, timer = self.deadline("scoreboard", f"q{state.index}:scoreboard", ctx)
        last = state.index + 1 >= len(state.cards)
        return Outcome(
            state,
            [
                Emit(
                    ScoresCalculated(
                        question=state.index + 1,
                        deltas=dict(state.deltas),
                        scores=dict(state.scores),
                    )
                ),
                Emit(Scoreboard(ranking=ranking(state, ctx), deadline=deadline, last=last)),
                timer,
            ],
        )

    def _game_over(self, state: LiesState, ctx: Ctx) -> Outcome[LiesState]:
        state.phase = "over"
        state.deltas = {}
        final = GameEnded(
            ranking=ranking(state, ctx), awards=awards_for(state), questions=list(state.history)
        )
        return Outcome(state, [Emit(final), GameOver(final)])

    def _reveal_or_scores(self, state: LiesState, ctx: Ctx) -> Outcome[LiesState]:
        if state.revealed < len(state.reveal_order):
            return self._reveal_next(state, ctx)
        return self._scoreboard(state, ctx)

    def _next_question(self, state: LiesState, ctx: Ctx) -> Outcome[LiesState]:
        if state.index + 1 < len(state.cards):
            state.index += 1
            return self._start_lies(state, ctx)
        return self._game_over(state, ctx)

    # -- moves (the phase table checks the phase first) ------------------------------------
    def _lie(
        self, state: LiesState, player_id: str, action: SubmitLie | LieForMe, ctx: Ctx
    ) -> Outcome[LiesState]:
        if isinstance(action, LieForMe):
            lie = self._lie_for_me(state, player_id, ctx)
        else:
            lie = Lie(text=self._validate_lie(state, action.text, ctx))
        state.lies[player_id] = lie
        effects: list[Effect] = [
            Emit(LieAccepted(text=lie.text, lie_for_me=lie.lie_for_me), to_players(player_id)),
            Emit(LieSubmitted(player_id=player_id)),
        ]
        return Outcome(state, effects)

    def on_tally(
        self, state: LiesState, name: str, counts: dict[str, int], ctx: Ctx
    ) -> Outcome[LiesState]:
        """The audience's final votes: its truth pick (before the reveal) and its reactions."""
        if name == "truth" and state.phase == "guess":
            state.crowd = {a.id: counts.get(a.id, 0) for a in state.answers}
            state.crowd_pick = crowd_pick(state.crowd, ctx)
        elif name == "react":
            record_reactions(state, counts)
        return Outcome(state)

    def _guess(
        self, state: LiesState, player_id: str, action: Guess, ctx: Ctx
    ) -> Outcome[LiesState]:
        if player_id in state.guesses:
            raise InvalidAction("your guess is final", code="already_guessed")
        answer = state.answer(action.answer_id)
        if answer is None:
            raise InvalidAction("no such answer", code="unknown_answer")
        if player_id in answer.authors:
            raise InvalidAction("you can't pick your own lie", code="own_answer")
        state.guesses[player_id] = answer.id
        return Outcome(state, [Emit(GuessSubmitted(player_id=player_id))])

    # -- helpers ---------------------------------------------------------------------------
    def _validate_lie(self, state: LiesState, text: str, ctx: Ctx) -> str:
        cleaned = clean_text(text)
        card = state.card
        if not cleaned:
            raise InvalidAction("write a lie first", code="lie_empty")
        limit = ctx.settings.lie_max_length
        if len(cleaned) > limit:
            raise InvalidAction(f"Keep it to {limit} characters.", code="lie_too_long")
        if not normalize_answer(cleaned):
            raise InvalidAction("a lie needs some letters or numbers", code="lie_empty")
        if any(same_answer(cleaned, t) for t in (card.truth, *card.alternates)):
            raise InvalidAction("that's the truth — try a lie", code="lie_is_truth")
        if ctx.settings.family_mode and is_profane(cleaned):
            raise InvalidAction("keep it family-friendly", code="lie_profane")
        return cleaned

    def _lie_for_me(self, state: LiesState, player_id: str, ctx: Ctx) -> Lie:
        taken = {normalize_answer(lie.text) for pid, lie in state.lies.items() if pid != player_id}
        decoys = list(state.card.house_lies)
        fresh = [d for d in decoys if normalize_answer(d) not in taken]
        return Lie(text=ctx.rng.choice(fresh or decoys), lie_for_me=True)

    def _react(
        self, state: LiesState, player_id: str, action: React, ctx: Ctx
    ) -> Outcome[LiesState]:
        if action.emoji not in EMOJI:
            raise InvalidAction("pick one of the offered reactions", code="bad_emoji")
        answer = state.answer(action.answer_id)
        if answer is None:
            raise InvalidAction("no such answer", code="unknown_answer")
        used = state.reactions_used.get(player_id, 0)
        if used >= ctx.settings.reaction_cap:
            raise InvalidAction("no reactions left this phase", code="reaction_cap")
        state.reactions_used[player_id] = used + 1
        for author in answer.authors:
            if author != player_id:
                counts = _stats(state, author).reactions
                counts[action.emoji] = counts.get(action.emoji, 0) + 1
        event = ReactionSent(player_id=player_id, answer_id=answer.id, emoji=action.emoji)
        return Outcome(state, [Emit(event)])

    @staticmethod
    def _own_answer(state: LiesState, player_id: str) -> Answer | None:
        for answer in state.answers:
            if player_id in answer.authors:
                return answer
        return None

    # -- views and secrets -----------------------------------------------------------------
    def view(self, state: LiesState, viewer: Viewer, ctx: Ctx) -> dict[str, Any]:
        return build_view(self, state, viewer, ctx)

    def secrets(self, state: LiesState, ctx: Ctx) -> Iterable[Secret]:
        if state.phase == "over":
            return []
        out: list[Secret] = []
        if state.phase == "lie":
            out.append(Secret(_quoted(state.card.truth), frozenset(), "the truth"))
            groups: dict[str, set[str]] = {}
            for pid, lie in state.lies.items():
                groups.setdefault(normalize_answer(lie.text), set()).add(pid)
            for pid, lie in state.lies.items():
                owners = frozenset(groups[normalize_answer(lie.text)])
                out.append(Secret(_quoted(lie.text), owners, f"the lie of {pid}"))
        if state.phase in ("lie", "guess"):
            out.append(Secret('"truth":true', frozenset(), "the truth marker"))
            out.append(Secret('"authors":', frozenset(), "lie authorship"))
            for answer in state.answers:
                if answer.authors:
                    marker = f'"yours":"{answer.id}"'
                    out.append(Secret(marker, frozenset(answer.authors), "answer ownership"))
        return out


def _stats(state: LiesState, player_id: str) -> Stats:
    """A player's stats, made on first use (``setdefault`` would build a Stats every time)."""
    stats = state.stats.get(player_id)
    if stats is None:
        stats = state.stats[player_id] = Stats()
    return stats


def _quoted(text: str) -> str:
    return msgspec.json.encode(text).decode()
