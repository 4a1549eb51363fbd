// Weirsøe Quips on a phone: answer your prompts (or have one written), vote, spread three final
// votes, react, and see your score. 360 px wide without sideways scrolling. Player text only
// through textContent; the server decides everything and its errors are shown as they are.

import { PHASE_NAMES, fmt, roundLine, snapshotLoop } from "./shared.js";

export function mount(root, ctx) {
  const { el, replace } = ctx;
  ctx.css(new URL("./quips.css", import.meta.url).href);
  const head = el("header", { class: "quips-phone-head" });
  const body = el("div", { class: "quips-phone-body" });
  const frame = el("div", { class: "quips quips-phone" }, head, body);
  root.append(frame);
  const drafts = {}; // what the player typed, by prompt id, kept across redraws
  const editing = new Set();
  let picks = []; // final votes being chosen
  let target = null; // the answer reactions go to
  let view = {};
  let phase = null;

  const me = () => view.me || {};

  function draw(v, msg, changed) {
    view = v;
    if (view.phase !== phase) {
      phase = view.phase;
      picks = [];
      target = null;
      editing.clear();
      ctx.announce(PHASE_NAMES[phase] || "");
    }
    const progress = body.querySelector("#vote-progress");
    if (progress) progress.textContent = `${(view.voted || []).length} of ${(view.voters || []).length} voted`;
    if (!changed) return;
    redraw();
  }

  function redraw() {
    frame.dataset.phase = view.phase || "";
    replace(head,
      el("span", { class: "q-round", text: roundLine(view) }),
      el("span", { class: "q-my-score", id: "my-score" }, fmt(me().score ?? 0), el("small", { text: " pts" })));
    const screens = { write, vote, final_vote: finalVote, result, scoreboard: board, over: board };
    replace(body, ...(screens[view.phase] ? [screens[view.phase]()].flat() : [wait("Get ready…")]));
  }

  const wait = (text) => el("div", { class: "q-wait", role: "status" }, el("p", { text }));
  const timer = () => el("div", { class: "q-phone-timer" }, ctx.countdown({ size: 56, label: "Time left" }));

  async function send(action, error) {
    if (error) error.textContent = "";
    try {
      await ctx.action(action);
      return true;
    } catch (err) {
      if (error) error.textContent = err.message;
      return false;
    }
  }

  // -- writing -------------------------------------------------------------------------------
  function write() {
    const prompts = me().prompts || [];
    if (!prompts.length) return [timer(), wait("No prompts for you this round. Sit back!")];
    return [timer(), ...prompts.map((p, i) => promptCard(p, i))];
  }

  function promptCard(p, i) {
    const error = el("p", { class: "q-error", id: `error-${i}`, role: "alert" });
    if (p.answer !== null && !editing.has(p.id)) {
      return el("section", { class: "q-phone-card is-done", dataset: { prompt: p.id } },
        el("p", { class: "q-phone-prompt", text: p.prompt }),
        el("p", { class: "q-label", text: p.answer_for_me ? "Written for you (half points)" : "Your answer" }),
        el("p", { class: "q-mine", id: `mine-${i}`, text: p.answer }),
        el("button", { class: "btn btn-ghost btn-sm", type: "button", id: `change-${i}`, text: "Change it",
          on: { click: () => { editing.add(p.id); redraw(); } } }));
    }
    const max = view.max_length || 80;
    const input = el("input", { class: "input", id: `answer-${i}`, autocomplete: "off", enterkeyhint: "send",
      maxlength: String(max * 2), "aria-describedby": `error-${i}`, value: drafts[p.id] ?? (p.answer || "") });
    input.addEventListener("input", () => { drafts[p.id] = input.value; });
    const done = async (action) => {
      if (await send(action, error)) { editing.delete(p.id); delete drafts[p.id]; }
    };
    return el("form", { class: "q-phone-card", dataset: { prompt: p.id },
      on: { submit: (e) => { e.preventDefault(); done({ type: "answer", prompt: p.id, text: input.value }); } } },
      el("label", { class: "q-phone-prompt", for: `answer-${i}`, text: p.prompt }),
      input, error,
      el("button", { class: "btn btn-primary btn-block", type: "submit", id: `send-${i}`, text: "Send" }),
      el("button", { class: "btn btn-secondary btn-block", type: "button", id: `for-me-${i}`, text: "Answer for me (half points)",
        on: { click: () => done({ type: "answer_for_me", prompt: p.id }) } }));
  }

  // -- voting --------------------------------------------------------------------------------
  function answers() {
    return ((view.faceoff || {}).answers || []);
  }

  function reactions() {
    const options = answers().filter((a) => a.id !== me().yours);
    if (!options.length || !view.emoji) return null;
    target = target && options.some((a) => a.id === target) ? target : options[0].id;
    const left = el("p", { class: "q-hint", id: "react-left", text: `${me().reactions_left ?? 0} reactions left` });
    return el("div", { class: "q-react" },
      el("p", { class: "q-label", text: "React" }),
      el("div", { class: "q-emoji-row" }, view.emoji.map((emoji) => el("button", {
        class: "emoji-btn", type: "button", "aria-label": `React ${emoji}`, text: emoji,
        on: { click: () => send({ type: "react", answer_id: target, emoji }) },
      }))), left);
  }

  function vote() {
    const f = view.faceoff || {};
    const error = el("p", { class: "q-error", id: "vote-error", role: "alert" });
    const progress = el("p", { class: "q-hint", id: "vote-progress", text: `${(view.voted || []).length} of ${(view.voters || []).length} voted` });
    let top;
    if (me().yours) top = wait("This is your prompt! Watch the big screen.");
    else if (me().my_vote) top = wait("Vote in. Waiting for the others…");
    else top = el("ul", { class: "q-vote-list" }, answers().map((a) => el("li", {},
      el("button", { class: "answer-btn", type: "button", dataset: { answerId: a.id }, text: a.text,
        on: { click: () => send({ type: "vote", answer_id: a.id }, error) } }))));
    return [timer(), el("p", { class: "q-phone-prompt", text: f.prompt || "" }), top, error, progress, reactions()];
  }

  function finalVote() {
    const f = view.faceoff || {};
    const error = el("p", { class: "q-error", id: "vote-error", role: "alert" });
    const progress = el("p", { class: "q-hint", id: "vote-progress", text: `${(view.voted || []).length} of ${(view.voters || []).length} voted` });
    if (me().my_votes || !me().can_vote) {
      return [timer(), el("p", { class: "q-phone-prompt", text: f.prompt || "" }),
        wait(me().my_votes ? "Votes in. Waiting for the others…" : "Watch the big screen."), progress, reactions()];
    }
    const each = view.votes_each || 3;
    const count = el("p", { class: "q-hint", id: "votes-left", text: `${each - picks.length} votes left` });
    const list = el("ul", { class: "q-vote-list" }, answers().filter((a) => a.id !== me().yours).map((a) => {
      const n = picks.filter((x) => x === a.id).length;
      return el("li", {}, el("button", { class: ["answer-btn", n && "is-picked"], type: "button", dataset: { answerId: a.id },
        "aria-label": `${a.text}: ${n} votes`, on: { click: () => { if (picks.length < each) { picks.push(a.id); redraw(); } } } },
        el("span", { class: "q-text", text: a.text }), el("span", { class: "q-count", text: n ? ` ×${n}` : "" })));
    }));
    const submit = el("button", { class: "btn btn-primary btn-block", type: "button", id: "send-votes",
      text: "Send my votes", disabled: picks.length !== each,
      on: { click: async () => { if (!(await send({ type: "final_vote", answer_ids: picks }, error))) { picks = []; } } } });
    const clear = el("button", { class: "btn btn-ghost btn-sm", type: "button", id: "clear-votes", text: "Start over",
      on: { click: () => { picks = []; redraw(); } } });
    return [timer(), el("p", { class: "q-phone-prompt", text: f.prompt || "" }), count, list, submit, clear, error, progress];
  }

  // -- results and scores --------------------------------------------------------------------
  function result() {
    return [wait("Look at the big screen!"), reactions()];
  }

  function board() {
    const rank = me().rank;
    return el("div", { class: "q-wait" },
      el("p", { class: "q-label", text: view.phase === "over" ? "Final rank" : "Your rank" }),
      el("p", { class: "q-rank-big", id: "my-rank", text: rank ? String(rank) : "–" }),
      el("p", { class: "q-hint", text: `${fmt(me().score ?? 0)} points` }));
  }

  // The phone redraws when its own part of the view changes, not when others make progress.
  const signature = (v) => JSON.stringify({ ...v, voted: null, done: null, scores: null });
  const update = snapshotLoop(ctx, draw, signature);
  return { update, destroy() {} };
}
