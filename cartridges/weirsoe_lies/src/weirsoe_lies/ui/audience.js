// Weirsøe Lies for the audience's phones: follow the question, pick the truth with the crowd
// during the guess phase (one vote, changeable), react with the six emoji, see the reveal.

import { audienceLine } from "./crowd.js";
import { progressLine, promptNodes, reduce } from "./model.js";

export function mount(root, ctx) {
  const { el, replace } = ctx;
  const m = {};
  const mine = { truth: null, reacts: 0 };
  const status = el("p", { class: "aud-status", role: "status", id: "aud-status" });
  const body = el("div", { class: "aud-body" });
  replace(root, el("div", { class: "lies-audience" }, body, status));
  ctx.css(new URL("./lies.css", import.meta.url).href);

  async function vote(tally, choice, done) {
    try {
      await ctx.vote(tally, choice);
      done();
      status.textContent = tally === "truth" ? "Your pick is in. You can change it until time runs out." : "Reaction sent.";
    } catch (err) {
      status.textContent = err.message;
    }
    draw();
  }

  function guess() {
    const left = (m.reaction_cap ?? 0) - mine.reacts;
    return [
      el("p", { class: "lies-instruction", text: "Which one is the truth? Vote with the audience" }),
      el("ol", { class: "aud-answers", id: "aud-answers" }, (m.answers || []).map((a) =>
        el("li", { class: "aud-answer" },
          el("button", {
            class: ["btn", "btn-block", mine.truth === a.id ? "btn-primary" : "btn-ghost"],
            dataset: { answer: a.id }, "aria-pressed": String(mine.truth === a.id),
            on: { click: () => vote("truth", a.id, () => { mine.truth = a.id; }) },
          }, a.text),
          el("span", { class: "aud-reacts" }, (m.emoji || []).map((e) =>
            el("button", {
              class: "btn btn-ghost btn-emoji", disabled: left <= 0, "aria-label": `react ${e} to ${a.text}`,
              on: { click: () => vote("react", `${a.id}|${e}`, () => { mine.reacts += 1; }) },
            }, e)))))),
    ];
  }

  function reveal() {
    const last = (m.reveal || [])[m.reveal.length - 1];
    if (!last) return [el("p", { text: "Here come the answers." })];
    const a = last.answer;
    return [
      el("p", { class: "spot-text", id: "aud-spot", text: a.text }),
      el("p", { class: "spot-verdict", text: a.truth ? "The truth!" : a.house ? "A house lie" : `A lie by ${a.authors.map((id) => ctx.name(id)).join(", ")}` }),
      audienceLine(el, last.audience),
    ];
  }

  function standings() {
    const rows = (m.ranking || []).map((r) => el("li", {}, `${r.rank}. ${r.name} — ${r.score}`));
    const awards = (m.awards || []).map((w) => el("li", {}, `${w.emoji || "🏆"} ${w.title}: ${w.winners.map((id) => ctx.name(id)).join(", ")}`));
    return [el("ol", { class: "aud-ranking" }, rows), awards.length ? el("ul", { class: "aud-awards", id: "aud-awards" }, awards) : null];
  }

  function draw() {
    const screen = { guess, reveal, scoreboard: standings, over: standings }[m.phase];
    replace(body,
      el("p", { class: "lies-progress", text: m.question ? progressLine(m, true) : "" }),
      el("h2", { class: "lies-prompt" }, promptNodes(el, m.prompt)),
      ...(screen ? screen() : [el("p", { class: "lies-instruction", text: "The players are writing their lies…" })]));
  }

  return {
    update(msg) {
      if (msg.type === "session.snapshot") {
        const ballots = msg.audience?.ballots || {};
        mine.truth = ballots.truth ?? null;
        mine.reacts = ballots.react ?? 0;
      }
      if (msg.type === "phase.guess_started" || msg.type === "phase.question_shown") {
        mine.truth = null;
        mine.reacts = 0;
        status.textContent = "";
      }
      if (msg.type === "reveal.step" && msg.index === 0) mine.reacts = 0;
      const kind = reduce(m, msg);
      if (kind !== "none") draw();
    },
    destroy() {},
  };
}
