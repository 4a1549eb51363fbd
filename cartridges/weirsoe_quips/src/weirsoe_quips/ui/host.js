// Weirsøe Quips on the big screen: who is still writing, each face-off with its two anonymous
// answers, the result with authors and points, the scores, and the awards. Readable at ten feet:
// nothing a player reads is under 28 CSS px at 1920×1080. Player text only through textContent.

import { AWARD_ICONS, PHASE_NAMES, fmt, roundLine, snapshotLoop } from "./shared.js";

export function mount(root, ctx) {
  const { el, replace } = ctx;
  ctx.css(new URL("./quips.css", import.meta.url).href);
  const head = el("header", { class: "quips-head" });
  const body = el("div", { class: "quips-body" });
  const frame = el("div", { class: "quips quips-host" }, head, body);
  root.append(frame);
  let phase = null;

  function draw(view, msg, changed) {
    frame.dataset.phase = view.phase || "";
    if (view.phase !== phase) {
      phase = view.phase;
      ctx.announce(PHASE_NAMES[phase] || "");
    }
    if (!changed) return;
    replace(head,
      el("span", { class: "q-chip", text: roundLine(view) }),
      el("span", { class: "q-phase", text: PHASE_NAMES[view.phase] || "" }));
    const screens = { write, vote: faceoff, final_vote: faceoff, result, scoreboard: board, over };
    replace(body, ...(screens[view.phase] ? [screens[view.phase](view)].flat() : []));
  }

  const timer = () => el("div", { class: "q-timer" }, ctx.countdown({ size: 120, label: "Time left" }));

  function write(view) {
    const done = new Set(view.done || []);
    const chips = ctx.players().map((p) => el("li", {
      class: ["q-done", done.has(p.id) && "is-done", !p.connected && "is-off"], dataset: { player: p.id },
    }, el("span", { text: done.has(p.id) ? "✔ " : "✎ " }), el("span", { class: "q-name", text: p.name })));
    return [
      el("div", { class: "q-row" },
        el("p", { class: "q-prompt", text: view.final ? view.prompt : "Answer your prompts on your phone!" }),
        timer()),
      view.final ? el("p", { class: "q-instruction", text: "Everyone answers this one. Then you get three votes." })
        : el("p", { class: "q-instruction", text: "Two prompts each. Be funny: your rival has the same prompt." }),
      el("ul", { class: "q-done-list", "aria-label": "Who has answered" }, chips),
    ];
  }

  function faceoff(view) {
    const f = view.faceoff || {};
    const voted = (view.voted || []).length;
    const voters = (view.voters || []).length;
    return [
      el("div", { class: "q-row" },
        el("p", { class: "q-prompt", id: "faceoff-prompt", text: f.prompt || "" }),
        timer()),
      el("ul", { class: ["q-answers", view.phase === "final_vote" && "is-final"] },
        (f.answers || []).map((a, i) => el("li", { class: "q-card", dataset: { answerId: a.id } },
          el("span", { class: "q-letter", text: String.fromCharCode(65 + i) }),
          el("span", { class: "q-text", text: a.text })))),
      el("p", { class: "q-progress", id: "vote-progress", text: `${voted} of ${voters} voted` }),
    ];
  }

  function result(view) {
    const r = view.result || {};
    const note = r.jinx ? "JINX! The same answer twice: nobody scores." : r.forfeit ? "Won by forfeit." : "";
    const answers = r.answers || [];
    return [
      el("p", { class: "q-prompt small", text: r.prompt || "" }),
      answers.length ? el("ul", { class: ["q-answers", r.final && "is-final"] },
        answers.map((a) => el("li", { class: ["q-card", "is-result", a.sweep && "is-sweep", a.jinx && "is-jinx"] },
          el("span", { class: "q-text", text: a.text }),
          el("span", { class: "q-author", text: ctx.name(a.author) }),
          el("span", { class: "q-votes", text: `${a.votes} vote${a.votes === 1 ? "" : "s"} · +${fmt(a.points)}${a.house ? " (half: answer for me)" : ""}` }),
          a.sweep ? el("span", { class: "q-badge", text: "CLEAN SWEEP" }) : null)))
        : el("p", { class: "q-instruction", text: "Nobody answered this one." }),
      note ? el("p", { class: "q-instruction", text: note }) : null,
    ];
  }

  function rows(view) {
    return el("ol", { class: "q-board" }, (view.ranking || []).map((r) => el("li", { class: "q-score-row" },
      el("span", { class: "q-rank", text: String(r.rank) }),
      el("span", { class: "q-name", text: r.name }),
      el("span", { class: "q-delta", text: view.deltas && view.deltas[r.player_id] ? `+${fmt(view.deltas[r.player_id])}` : "" }),
      el("span", { class: "q-score", text: fmt(r.score) }))));
  }

  function board(view) {
    return [el("div", { class: "q-row" }, el("p", { class: "q-prompt small", text: "Scores" }), timer()), rows(view)];
  }

  function over(view) {
    const awards = (view.awards || []).map((a) => el("li", { class: "q-award" },
      el("span", { class: "q-award-icon", text: AWARD_ICONS[a.key] || "🏅" }),
      el("span", { class: "q-award-title", text: a.title }),
      el("span", { class: "q-name", text: a.winners.map((w) => ctx.name(w)).join(", ") }),
      el("span", { class: "q-votes", text: String(a.value) })));
    return [el("p", { class: "q-prompt small", text: "Final scores" }), rows(view),
      el("ul", { class: "q-awards", "aria-label": "Awards" }, awards)];
  }

  const update = snapshotLoop(ctx, draw, (view) => JSON.stringify(view));
  return { update, destroy() {} };
}
