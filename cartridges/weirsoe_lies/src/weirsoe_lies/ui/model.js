// The screen's picture of the game: the view from the last snapshot, kept current by events.
// It mirrors views.py field for field, so a snapshot and a run of events give the same model.

export const BLANK = "_____";

/** Apply one message to the model. Returns what kind of redraw it needs. */
export function reduce(m, msg) {
  switch (msg.type) {
    case "session.snapshot": {
      for (const key of Object.keys(m)) delete m[key];
      Object.assign(m, structuredClone(msg.view || {}));
      m.reveal ||= [];
      return "screen";
    }
    case "phase.question_shown":
      Object.assign(m, {
        phase: "lie", round: msg.round, rounds: msg.rounds, question: msg.question,
        questions: msg.questions, multiplier: msg.multiplier, category: msg.category,
        submitted: [], answers: [], guessed: [], reveal: [], ranking: null, deltas: null,
      });
      if (m.me) Object.assign(m.me, { lie: null, lie_for_me: false, guess: null, yours: undefined, reactions_left: m.reaction_cap });
      return "screen";
    case "phase.lie_started":
      Object.assign(m, { phase: "lie", prompt: msg.prompt, max_length: msg.max_length });
      return "screen";
    case "lie.submitted":
      add(m, "submitted", msg.player_id);
      return "progress";
    case "lie.accepted":
      if (m.me) Object.assign(m.me, { lie: msg.text, lie_for_me: msg.lie_for_me });
      return "mine";
    case "phase.guess_started":
      Object.assign(m, { phase: "guess", answers: msg.answers, guessed: [] });
      if (m.me) Object.assign(m.me, { yours: msg.yours ?? undefined, guess: null, reactions_left: m.reaction_cap });
      return "screen";
    case "guess.submitted":
      add(m, "guessed", msg.player_id);
      return "progress";
    case "reaction.sent":
      return "reaction";
    case "reveal.step": {
      const first = m.phase !== "reveal";
      m.phase = "reveal";
      m.reveal = (m.reveal || []).filter((s) => s.index !== msg.index);
      m.reveal.push(stepOf(msg));
      m.reveal.sort((a, b) => a.index - b.index);
      m.scores = { ...msg.scores };
      if (first && m.me) m.me.reactions_left = m.reaction_cap;
      if (m.me) m.me.score = m.scores[m.me.id] ?? m.me.score;
      return first ? "screen" : "step";
    }
    case "phase.scores_calculated":
      m.deltas = { ...msg.deltas };
      m.scores = { ...msg.scores };
      if (m.me) m.me.score = m.scores[m.me.id] ?? m.me.score;
      return "none";
    case "phase.scoreboard":
      m.phase = "scoreboard";
      m.ranking = msg.ranking;
      m.last = msg.last;
      rankMe(m);
      return "screen";
    case "phase.game_over":
      Object.assign(m, { phase: "over", ranking: msg.ranking, awards: msg.awards, history: msg.questions, deltas: null });
      rankMe(m);
      return "screen";
    default:
      return "none";
  }
}

function add(m, key, id) {
  m[key] ||= [];
  if (!m[key].includes(id)) m[key].push(id);
}

function stepOf(msg) {
  const { index, total, answer, pickers, points, scores, audience = null } = msg;
  return { index, total, answer, pickers, points, scores, audience };
}

function rankMe(m) {
  if (!m.me || !m.ranking) return;
  const entry = m.ranking.find((r) => r.player_id === m.me.id);
  if (entry) Object.assign(m.me, { rank: entry.rank, score: entry.score });
}

/** The prompt as text nodes, with the blank as a styled span (its text stays "_____"). The
 * word before the blank (an opening quote, say) and the one after stay on its line. */
export function promptNodes(el, prompt) {
  const text = String(prompt || "");
  if (!text.includes(BLANK)) return [text];
  const [before, after = ""] = text.split(BLANK);
  const cut = before.search(/\S*$/);
  const next = after.search(/\s|$/);
  return [
    before.slice(0, cut),
    el("span", { class: "blank-group" }, before.slice(cut), el("span", { class: "blank", text: BLANK }), after.slice(0, next)),
    after.slice(next),
  ];
}

/** "Round 2 of 3 · Question 3 of 5 · double points" ("Q3/5 · R2/3 · ×2" when `short`). */
export function progressLine(m, short = false) {
  if (short) return [`Q${m.question}/${m.questions}`, `Round ${m.round}/${m.rounds}`, m.multiplier > 1 && `×${m.multiplier}`].filter(Boolean).join(" · ");
  const bits = [`Round ${m.round} of ${m.rounds}`, `Question ${m.question} of ${m.questions}`];
  if (m.multiplier === 2) bits.push("double points");
  else if (m.multiplier === 3) bits.push("triple points");
  else if (m.multiplier > 3) bits.push(`${m.multiplier}× points`);
  return bits.join(" · ");
}

/** Ranks as words for screen readers and the podium. */
export function ordinal(n) {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  return `${n}${(!teen && { 1: "st", 2: "nd", 3: "rd" }[n % 10]) || "th"}`;
}
