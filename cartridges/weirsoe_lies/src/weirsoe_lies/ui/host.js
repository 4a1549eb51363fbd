// Weirsøe Lies on the big screen: the question and its countdown, who is done, the answers,
// the reveal one answer at a time, the scoreboard and the podium with awards.
// Player text (names, lies) only ever goes in through textContent (ctx.el's `text`).

import { progressLine, promptNodes, reduce } from "./model.js";
import { AWARD_ICONS, awardLine, fmt, countUp } from "./shared.js";
import { audienceLine } from "./crowd.js";

export function mount(root, ctx) {
  const { el, replace } = ctx;
  const ready = ctx.css(new URL("./lies.css", import.meta.url).href);
  const m = {};
  const reactions = {}; // answer id -> {emoji: count}, for this question only
  const head = el("header", { class: "lies-head" });
  const body = el("div", { class: "lies-body" });
  const layer = el("div", { class: "reaction-layer", "aria-hidden": "true" });
  const frame = el("div", { class: "lies lies-host" }, head, body, layer);
  root.append(frame);
  let shownScores = {};
  let parts = {};
  let introRound = null; // the round whose intro card was shown
  let introTimer = null;
  let introUntil = 0;
  let startedNow = false; // the game has just started (not a reload): round 1 gets its intro
  const INTRO_MS = 5000; // long enough to read from the sofa

  function screen(live) {
    frame.dataset.phase = m.phase || "";
    replace(head, m.phase === "over"
      ? el("span", { class: "chip", text: "Game over" })
      : [el("span", { class: "chip", text: m.category || "" }), el("span", { class: "lies-progress", text: m.round ? progressLine({ ...m, multiplier: 1 }) : "" }),
        m.multiplier > 1 ? el("span", { class: "mult-badge", text: `×${m.multiplier} points` }) : null]);
    // The intro stays up its whole time, whatever else arrives meanwhile (the lie phase starts
    // with it); its timer then draws the question.
    if (m.phase === "lie" && m.round === introRound && performance.now() < introUntil) return;
    parts = {};
    clearTimeout(introTimer);
    introUntil = 0;
    // Each round opens with a card announcing it and its multiplier (live only: a reload
    // mid-question goes straight to the question).
    if ((live || startedNow) && m.phase === "lie" && m.round && m.round !== introRound) {
      introRound = m.round;
      startedNow = false;
      replace(body, roundIntro());
      introUntil = performance.now() + INTRO_MS;
      introTimer = setTimeout(() => { introUntil = 0; screen(false); }, INTRO_MS);
      ctx.announce(introText());
      return;
    }
    if (m.round) introRound = m.round;
    const draw = { lie: lieScreen, guess: guessScreen, reveal: revealScreen, scoreboard: boardScreen, over: overScreen }[m.phase];
    replace(body, draw ? draw(live) : el("p", { class: "lies-instruction", text: "Get ready…" }));
    const said = {
      lie: `Question ${m.question} of ${m.questions}. Write a lie on your phone.`,
      guess: "Find the truth: pick an answer on your phone.",
      reveal: "Here come the answers.",
      scoreboard: "Scores.",
      over: "Game over. Final scores and awards.",
    }[m.phase];
    if (said) ctx.announce(said);
  }

  function pointsWord() {
    return m.multiplier === 2 ? "Double points" : m.multiplier === 3 ? "Triple points" : m.multiplier > 3 ? `${m.multiplier}× points` : "Normal points";
  }

  function introText() {
    return `Round ${m.round} of ${m.rounds}: ${pointsWord().toLowerCase()}`;
  }

  function roundIntro() {
    return el("section", { class: "round-intro", id: "round-intro", "aria-label": introText() },
      el("p", { class: "intro-round", text: `Round ${m.round}` }),
      el("p", { class: "intro-of", text: `of ${m.rounds}` }),
      el("p", { class: ["intro-points", m.multiplier > 1 && "is-boosted"], text: m.multiplier > 1 ? `${pointsWord()} ×${m.multiplier}` : pointsWord() }));
  }

  function question(withTimer, size) {
    return el("div", { class: ["q-row", size] },
      el("h2", { class: "lies-prompt" }, promptNodes(el, m.prompt)),
      withTimer ? el("div", { class: "q-timer" }, ctx.countdown({ size: size === "small" ? 130 : 190, label: "Time left" })) : null);
  }

  // Only a player who just finished pops; the others were already shown done.
  function fresh(id, done) {
    if (!done.has(id) || parts.shownDone?.has(id)) return false;
    (parts.shownDone ||= new Set()).add(id);
    return true;
  }

  function doneList(key) {
    const done = new Set(m[key] || []);
    const players = ctx.players();
    const what = key === "submitted" ? "Lies in" : "Guesses in";
    return el("div", { class: "done-box" },
      el("p", { class: "done-label", text: `${what}: ${players.filter((p) => done.has(p.id)).length} of ${players.length}` }),
      el("ul", { class: "done-list", "aria-label": what },
        players.map((p) => el("li", { class: ["done-chip", done.has(p.id) && "is-done", fresh(p.id, done) && "is-fresh", !p.connected && "is-off"], dataset: { player: p.id } },
          el("span", { class: "done-mark", "aria-hidden": "true", text: done.has(p.id) ? "✓" : "…" }),
          el("span", { class: "done-name", text: p.name }),
          el("span", { class: "sr-only", text: done.has(p.id) ? " is done" : " is still thinking" })))));
  }

  function lieScreen() {
    parts.done = doneList("submitted");
    return [question(true, "big"), el("p", { class: "lies-instruction", text: "Write a convincing lie on your phone" }), parts.done];
  }

  function answerGrid(revealing) {
    const byId = Object.fromEntries((m.reveal || []).map((s) => [s.answer.id, s]));
    parts.cards = {};
    const grid = el("ol", { class: ["answer-grid", revealing && "is-reveal"], "aria-label": "Answers" },
      (m.answers || []).map((a) => {
        const card = el("li", { class: "answer-card", dataset: { answer: a.id } },
          el("span", { class: "answer-text", text: a.text }),
          el("span", { class: "answer-reacts" }));
        parts.cards[a.id] = card;
        paintReactions(a.id);
        if (byId[a.id]) markCard(card, byId[a.id]);
        return card;
      }));
    return grid;
  }

  function guessScreen() {
    for (const key of Object.keys(reactions)) delete reactions[key];
    parts.done = doneList("guessed");
    return [question(true, "small"), el("p", { class: "lies-instruction", text: "Which one is the truth? Pick it on your phone" }), answerGrid(false), parts.done];
  }

  function markCard(card, step) {
    const a = step.answer;
    card.classList.add("is-revealed", a.truth ? "is-truth" : "is-lie");
    card.dataset.pickers = String(step.pickers.length);
    if (step.audience) card.dataset.audience = `${Math.round(step.audience.share * 100)}%`;
  }

  function revealScreen(live) {
    parts.spot = el("section", { class: "spotlight", "aria-live": "polite" });
    parts.scores = el("ol", { class: "score-strip", "aria-label": "Scores" });
    parts.cards = {};
    const out = [question(false, "small"), parts.spot, parts.scores];
    const last = m.reveal[m.reveal.length - 1];
    if (last) spotlight(last, live);
    drawScores(false);
    return out;
  }

  function spotlight(step, animate) {
    const a = step.answer;
    const names = (ids) => ids.map((id) => ctx.name(id)).join(", ");
    const verdict = a.truth
      ? el("p", { class: "spot-verdict is-truth", text: "The truth!" })
      : a.house
        ? el("p", { class: "spot-verdict is-house", text: "A house lie" })
        : el("p", { class: "spot-verdict is-lie" }, "A lie by ", el("span", { text: names(a.authors) }));
    const gains = Object.entries(step.points).filter(([, pts]) => pts !== 0);
    replace(parts.spot,
      el("p", { class: "spot-count", text: `Answer ${step.index + 1} of ${step.total}` }),
      el("p", { class: "spot-text", text: a.text }),
      el("div", { class: "spot-pickers" },
        el("span", { class: "picked-badge", text: `${step.pickers.length} picked` }),
        el("span", { class: "spot-label", text: step.pickers.length ? "Picked by" : "Nobody picked it" }),
        step.pickers.map((id) => el("span", { class: "picker", text: ctx.name(id) }))),
      verdict,
      audienceLine(el, step.audience),
      gains.length ? el("ul", { class: "spot-points" },
        gains.map(([id, pts]) => el("li", { class: pts > 0 ? "is-up" : "is-down" },
          el("span", { text: ctx.name(id) }), " ", el("strong", { text: `${pts > 0 ? "+" : "−"}${fmt(Math.abs(pts))}` })))) : null);
    parts.spot.classList.toggle("is-animated", animate && !ctx.reducedMotion());
    if (parts.cards[a.id]) markCard(parts.cards[a.id], step);
  }

  function drawScores(animate) {
    const ranked = ctx.players().map((p) => ({ ...p, score: m.scores?.[p.id] ?? 0 })).sort((x, y) => y.score - x.score);
    replace(parts.scores, ranked.map((p) => {
      const value = el("strong", { class: "strip-score", text: fmt(shownScores[p.id] ?? p.score) });
      const from = shownScores[p.id] ?? p.score;
      if (animate && from !== p.score) countUp(value, from, p.score, ctx.reducedMotion() ? 0 : 900);
      else value.textContent = fmt(p.score);
      return el("li", { class: ["strip-item", animate && from < p.score && "is-rising"] }, el("span", { class: "strip-name", text: p.name }), " ", value);
    }));
    shownScores = Object.fromEntries(ranked.map((p) => [p.id, p.score]));
  }

  function boardScreen() {
    const ranking = m.ranking || [];
    const top = Math.max(1, ...ranking.map((r) => r.score));
    return [
      el("h2", { class: "board-title", text: m.last ? "Before the final results…" : `Scores after question ${m.question}` }),
      el("ol", { class: "scoreboard" }, ranking.map((r, i) => el("li", { class: "score-row", style: { "--i": i } },
        el("span", { class: "score-rank", text: String(r.rank) }),
        el("span", { class: "score-name", text: r.name }),
        el("span", { class: "score-bar", "aria-hidden": "true" }, el("span", { style: { "--w": `${Math.round((r.score / top) * 100)}%` } })),
        el("span", { class: "score-total", text: fmt(r.score) }),
        el("span", { class: ["score-delta", r.delta > 0 && "is-up", r.delta < 0 && "is-down"], text: r.delta ? `${r.delta > 0 ? "+" : "−"}${fmt(Math.abs(r.delta))}` : "±0" })))),
    ];
  }

  function overScreen() {
    const ranking = m.ranking || [];
    const podium = [ranking[1], ranking[0], ranking[2]].filter(Boolean);
    return [
      el("h2", { class: "board-title", text: "Final scores" }),
      el("div", { class: "podium", role: "list", "aria-label": "Podium" }, podium.map((r) =>
        el("div", { class: ["podium-step", `place-${r === ranking[0] ? 1 : r === ranking[1] ? 2 : 3}`], role: "listitem" },
          el("span", { class: "podium-name", text: r.name }),
          el("span", { class: "podium-score", text: `${fmt(r.score)} pts` }),
          el("span", { class: "podium-block" }, el("span", { class: "podium-rank", text: String(r.rank) }))))),
      ranking.length > 3 ? el("ol", { class: "rest", start: 4 }, ranking.slice(3).map((r) =>
        el("li", {}, el("span", { text: `${r.rank}. ` }), el("span", { text: r.name }), el("strong", { text: ` ${fmt(r.score)}` })))) : null,
      el("section", { class: "awards", "aria-label": "Awards" },
        el("h3", { class: "awards-title", text: "Awards" }),
        (m.awards || []).length
          ? el("ul", { class: "award-grid" }, m.awards.map((a, i) => el("li", { class: "award", style: { "--i": i } },
            el("span", { class: "award-icon emoji", "aria-hidden": "true", text: a.emoji || AWARD_ICONS[a.key] || "🏅" }),
            el("span", { class: "award-title", text: a.title }),
            el("span", { class: "award-winners", text: a.winners.map((id) => ctx.name(id)).join(" & ") }),
            el("span", { class: "award-value" }, awardLine(a, el)))))
          : el("p", { class: "hint", text: "No awards this time." })),
    ];
  }

  function paintReactions(answerId) {
    const card = parts.cards?.[answerId];
    if (!card) return;
    const counts = reactions[answerId] || {};
    replace(card.querySelector(".answer-reacts"), Object.entries(counts).map(([e, n]) =>
      el("span", { class: "react-count" }, el("span", { class: "emoji", text: e }), ` ${n}`)));
  }

  function floatEmoji(msg) {
    const counts = (reactions[msg.answer_id] ||= {});
    counts[msg.emoji] = (counts[msg.emoji] || 0) + 1;
    paintReactions(msg.answer_id);
    if (ctx.reducedMotion()) return;
    const card = parts.cards?.[msg.answer_id];
    const box = card?.getBoundingClientRect();
    const left = box ? box.left + box.width * (0.2 + Math.random() * 0.6) : window.innerWidth * Math.random();
    const top = box ? box.top : window.innerHeight * 0.8;
    const bubble = el("span", { class: "float-emoji emoji", text: msg.emoji, style: { left: `${left}px`, top: `${top}px` } });
    layer.append(bubble);
    setTimeout(() => bubble.remove(), 2200);
  }

  function update(msg) {
    if (msg.type === "session.started") startedNow = true;
    const kind = reduce(m, msg);
    if (kind === "screen") screen(msg.type !== "session.snapshot");
    else if (kind === "progress" && parts.done) parts.done.replaceWith((parts.done = doneList(m.phase === "lie" ? "submitted" : "guessed")));
    else if (kind === "step" && parts.spot) { spotlight(m.reveal[m.reveal.length - 1], true); drawScores(true); }
    else if (kind === "reaction") floatEmoji(msg);
    else if (msg.type.startsWith("session.player") && parts.done) parts.done.replaceWith((parts.done = doneList(m.phase === "lie" ? "submitted" : "guessed")));
  }

  return {
    update(msg) { ready.then(() => update(msg)); },
    destroy() { frame.remove(); },
  };
}
