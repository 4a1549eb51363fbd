// Weirsøe Lies on a phone: write a lie (or have one written), pick the truth, react, and see
// your own score and rank. Every text from other players goes in through textContent.

import { ordinal, progressLine, promptNodes, reduce } from "./model.js";
import { AWARD_ICONS, awardLine, fmt } from "./shared.js";

export function mount(root, ctx) {
  const { el, replace } = ctx;
  const ready = ctx.css(new URL("./lies.css", import.meta.url).href);
  const m = {};
  const head = el("header", { class: "phone-head" });
  const body = el("div", { class: "phone-body" });
  const frame = el("div", { class: "lies lies-phone" }, head, body);
  root.append(frame);
  let parts = {};
  let target = null; // the answer reactions go to
  let editing = false;
  let draft = ""; // what the player typed, kept across redraws

  const me = () => m.me || {};
  let guessError = ""; // kept across the redraw a refused pick causes
  let lastPhase = null;

  /** What went wrong, for people: a pause says so plainly. */
  function human(err) {
    if (err?.code === "paused") return "Paused: the host has paused the game. Wait for it to go on.";
    if (err?.code === "offline") return "No connection: check your Wi-Fi and try again.";
    return err?.message || "That did not work. Try again.";
  }

  function header() {
    replace(head,
      el("span", { class: "lies-progress", text: m.round && m.phase !== "over" ? progressLine(m, true) : "" }),
      el("span", { class: "my-score", id: "my-score" }, el("span", { class: "sr-only", text: "Your score: " }), fmt(me().score ?? 0), el("small", { text: " pts" })));
  }

  function screen() {
    frame.dataset.phase = m.phase || "";
    parts = {};
    header();
    const draw = { lie: lieScreen, guess: guessScreen, reveal: revealScreen, scoreboard: boardScreen, over: overScreen }[m.phase];
    replace(body, draw ? draw() : waiting("Get ready…"));
    if (m.phase !== lastPhase) {
      lastPhase = m.phase;
      const said = { lie: "Write your lie", guess: "Pick the truth", reveal: "Eyes on the big screen: the answers", scoreboard: "Scores", over: "Game over" }[m.phase];
      if (said) ctx.announce(said);
    }
    focusNext();
  }

  /** Focus moves to the next thing to do (marked data-focus), never back to the top. */
  function focusNext() {
    queueMicrotask(() => {
      const next = body.querySelector("[data-focus]");
      if (next && !next.contains(document.activeElement)) next.focus({ preventScroll: false });
    });
  }

  function prompt() {
    return el("div", { class: "phone-q" },
      el("p", { class: "lies-prompt", id: "prompt" }, promptNodes(el, m.prompt)),
      el("div", { class: "phone-timer" }, ctx.countdown({ size: 64, label: "Time left" })));
  }

  function waiting(text, extra) {
    return el("div", { class: "wait-card", role: "status" }, el("div", { class: "spinner", "aria-hidden": "true" }), el("p", { text }), extra || null);
  }

  function progressNote(key, verb) {
    const total = ctx.players().filter((p) => p.connected).length || ctx.players().length;
    const n = (m[key] || []).length;
    return el("p", { class: "hint progress-note", id: "progress-note", text: `${n} of ${total} ${verb}` });
  }

  // -- lies ----------------------------------------------------------------------------------
  function lieScreen() {
    if (me().lie && !editing) {
      parts.note = progressNote("submitted", "lies in");
      return [prompt(),
        el("div", { class: "done-card", role: "status", tabindex: "-1", dataset: { focus: "1" } },
          el("p", { class: "label", text: "Your lie is in" }),
          el("p", { class: "my-lie", id: "my-lie", text: me().lie }),
          me().lie_for_me ? el("p", { class: "hint", text: "Written for you (half points if it fools anyone)" }) : null,
          el("button", { class: "btn btn-ghost btn-sm", id: "lie-change", type: "button", text: "Change it", on: { click: () => { editing = true; screen(); } } })),
        waiting("Waiting for the others…", parts.note)];
    }
    const max = m.max_length || 60;
    const input = el("input", {
      class: "input", id: "lie-input", autocomplete: "off", autocapitalize: "off", spellcheck: "true", dataset: { focus: "1" },
      enterkeyhint: "send", "aria-describedby": "lie-count lie-error", value: draft || (editing ? me().lie || "" : ""),
    });
    const count = el("span", { class: "char-count", id: "lie-count", "aria-live": "polite" });
    const error = el("p", { class: "field-msg is-error", id: "lie-error", role: "alert" });
    const send = el("button", { class: "btn btn-primary btn-block btn-lg", id: "lie-send", type: "submit", text: "Send my lie" });
    const forMe = el("button", { class: "btn btn-secondary btn-block", id: "lie-for-me", type: "button", text: "Lie for me" });
    const recount = () => {
      const n = [...input.value.trim()].length;
      count.textContent = `${n} / ${max}`;
      count.classList.toggle("is-over", n > max);
      send.disabled = n === 0 || n > max;
      if (n > max) { error.textContent = `Keep it to ${max} characters.`; input.setAttribute("aria-invalid", "true"); }
      else if (error.dataset.limit) { error.textContent = ""; input.removeAttribute("aria-invalid"); }
      error.dataset.limit = n > max ? "1" : "";
    };
    const act = async (action) => {
      error.textContent = "";
      input.removeAttribute("aria-invalid");
      send.disabled = forMe.disabled = true;
      try {
        await ctx.action(action);
        editing = false;
        draft = "";
        if (me().lie) screen();
      } catch (err) {
        error.textContent = human(err);
        input.setAttribute("aria-invalid", "true");
        forMe.disabled = false;
        recount();
        input.focus();
      }
    };
    input.addEventListener("input", () => { draft = input.value; recount(); });
    forMe.addEventListener("click", () => act({ type: "lie_for_me" }));
    recount();
    const form = el("form", { class: "lie-form stack", id: "lie-form", on: { submit: (e) => { e.preventDefault(); if (!send.disabled) act({ type: "lie", text: input.value }); } } },
      el("label", { class: "label", for: "lie-input", text: "Your lie: fill in the blank" }),
      input,
      el("div", { class: "row between nowrap" }, error, count),
      send, forMe);
    return [prompt(), form];
  }

  // -- guesses and reactions -----------------------------------------------------------------
  function guessScreen() {
    const guessed = me().guess;
    target = target && m.answers.some((a) => a.id === target && a.id !== me().yours) ? target : guessed;
    let firstFree = 0;
    const error = el("p", { class: "field-msg is-error", id: "guess-error", role: "alert", text: guessError });
    const list = el("ul", { class: "answer-list", "aria-label": guessed ? "Answers: pick one to react to" : "Answers" },
      m.answers.map((a) => {
        const own = a.id === me().yours;
        const picked = a.id === guessed;
        const button = el("button", {
          class: ["answer-btn", own && "is-own", picked && "is-picked", guessed && a.id === target && "is-target"],
          type: "button", disabled: own,
          "aria-pressed": guessed ? String(a.id === target) : null,
          dataset: { answerId: a.id, ...(!guessed && !own && !firstFree++ ? { focus: "1" } : {}) },
          on: { click: () => (guessed ? pickTarget(a.id) : guess(a.id, error)) },
        },
        el("span", { class: "answer-text", text: a.text }),
        own ? el("span", { class: "tag", text: "your lie" }) : null,
        picked ? el("span", { class: "tag tag-pick", text: "your pick" }) : null);
        return el("li", {}, button);
      }));
    parts.note = progressNote("guessed", "guesses in");
    return [prompt(),
      el("p", { class: "instruction", text: guessed ? "Locked in! React to the answers while you wait." : "Which one is the truth?" }),
      list, error,
      guessed ? [reactBar(), parts.note] : null];
  }

  async function guess(answerId, error) {
    error.textContent = guessError = "";
    for (const b of body.querySelectorAll(".answer-btn")) b.disabled = true;
    try {
      await ctx.action({ type: "guess", answer_id: answerId });
      me().guess = answerId;
      target = answerId;
      ctx.announce("Guess locked in");
    } catch (err) {
      guessError = human(err);
    }
    screen();
  }

  function pickTarget(answerId) {
    target = answerId;
    screen();
  }

  function reactBar() {
    const answer = (m.answers || []).find((a) => a.id === target);
    const left = me().reactions_left ?? 0;
    const status = el("p", { class: "hint", id: "react-left", "aria-live": "polite", text: `${left} reaction${left === 1 ? "" : "s"} left` });
    const bar = el("div", { class: "react-bar", role: "group", "aria-label": answer ? `React to “${answer.text}”` : "Reactions" },
      (m.emoji || []).map((emoji, i) => el("button", {
        class: "emoji-btn emoji", type: "button", text: emoji, disabled: !answer || left <= 0,
        dataset: i === 0 && m.phase === "guess" ? { focus: "1" } : {},
        "aria-label": `React ${emoji}`,
        on: { click: (e) => react(emoji, e.currentTarget, status) },
      })));
    return el("section", { class: "react-box" },
      el("p", { class: "label" }, "React to ", answer ? el("q", { class: "react-target", text: answer.text }) : "an answer"),
      bar, status);
  }

  async function react(emoji, button, status) {
    if (!target) return;
    button.classList.remove("is-sent");
    try {
      await ctx.action({ type: "react", answer_id: target, emoji });
      me().reactions_left = Math.max(0, (me().reactions_left ?? 1) - 1);
      void button.offsetWidth; // restart the little pop animation
      button.classList.add("is-sent");
      const left = me().reactions_left;
      status.textContent = `${left} reaction${left === 1 ? "" : "s"} left`;
      if (left <= 0) for (const b of button.parentElement.children) b.disabled = true;
    } catch (err) {
      status.textContent = human(err);
    }
  }

  // -- reveal, scores, the end ---------------------------------------------------------------
  function revealScreen() {
    const step = m.reveal[m.reveal.length - 1];
    if (!step) return waiting("Eyes on the big screen!");
    const a = step.answer;
    target = a.id !== me().yours ? a.id : null;
    const mine = step.points[me().id];
    const verdict = a.truth ? "The truth!" : a.house ? "A house lie" : a.authors.includes(me().id) ? "Your lie!" : "A lie";
    return [
      el("p", { class: "instruction", text: "Eyes on the big screen!" }),
      el("div", { class: ["reveal-card", a.truth ? "is-truth" : "is-lie"], role: "status", tabindex: "-1", dataset: { focus: "1" } },
        el("p", { class: "hint", text: `Answer ${step.index + 1} of ${step.total}` }),
        el("p", { class: "reveal-text", text: a.text }),
        el("p", { class: "reveal-verdict", text: verdict }),
        mine ? el("p", { class: ["reveal-points", mine > 0 ? "is-up" : "is-down"], text: `${mine > 0 ? "+" : "−"}${fmt(Math.abs(mine))} for you` }) : null),
      target ? reactBar() : null,
    ];
  }

  function rankCard(final) {
    const total = (m.ranking || []).length;
    const entry = (m.ranking || []).find((r) => r.player_id === me().id) || {};
    const delta = final ? 0 : entry.delta || 0;
    return el("div", { class: ["rank-card", final && "is-final", me().rank === 1 && "is-first"], tabindex: "-1", dataset: { focus: "1" } },
      el("p", { class: "label", text: final ? "You finished" : "You're" }),
      el("p", { class: "big-rank", id: "my-rank", text: me().rank ? ordinal(me().rank) : "–" }),
      el("p", { class: "hint", text: `of ${total} players` }),
      el("p", { class: "my-total", id: "my-final-score" }, `${fmt(me().score ?? 0)} points`,
        delta ? el("span", { class: "delta is-up", text: ` +${fmt(delta)}` }) : null));
  }

  function boardScreen() {
    return [rankCard(false), waiting(m.last ? "The final results are coming…" : "Next question coming up…")];
  }

  function overScreen() {
    const mine = (m.awards || []).filter((a) => a.winners.includes(me().id));
    return [
      el("h2", { class: "phone-title", text: "Game over" }),
      rankCard(true),
      mine.length ? el("section", { class: "my-awards", "aria-label": "Your awards" },
        el("h3", { class: "label", text: "Your awards" }),
        el("ul", {}, mine.map((a) => el("li", { class: "award small" },
          el("span", { class: "award-icon emoji", "aria-hidden": "true", text: a.emoji || AWARD_ICONS[a.key] || "🏅" }),
          el("span", { class: "award-title", text: a.title }),
          el("span", { class: "award-value" }, awardLine(a, el)))))) : null,
      el("p", { class: "hint center", text: "Thanks for playing! The full podium is on the big screen. The host may start another game with the same players: stay here." }),
      el("a", { class: "btn btn-secondary btn-block", href: "/", text: "Leave" }),
    ];
  }

  function update(msg) {
    const kind = reduce(m, msg);
    if (msg.type === "phase.question_shown" || msg.type === "phase.guess_started") guessError = "";
    if (msg.type === "phase.question_shown") { editing = false; draft = ""; }
    if (kind === "screen" || kind === "step") screen();
    else if (kind === "mine" && m.phase === "lie" && !editing) screen();
    else if (kind === "progress" && parts.note) parts.note.replaceWith((parts.note = progressNote(m.phase === "lie" ? "submitted" : "guessed", m.phase === "lie" ? "lies in" : "guesses in")));
    else if (kind === "none" && m.me) header();
  }

  return {
    update(msg) { ready.then(() => update(msg)); },
    destroy() { frame.remove(); },
  };
}
