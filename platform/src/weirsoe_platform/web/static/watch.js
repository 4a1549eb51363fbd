// The audience page: watch a room without a seat and vote, from a phone. Joins the audience
// once (the token is kept for this room), then mounts the cartridge's audience module.

import { api, sendHome } from "./api.js";
import { $, el, replace } from "./dom.js";
import { Room } from "./room.js";

const main = $("#main");
const code = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "").toUpperCase();
const KEY = (c) => `weirsoe.audience.${c}`;

function saved(c) {
  try { return JSON.parse(localStorage.getItem(KEY(c)) || "null"); } catch { return null; }
}

function pickRoom() {
  const input = el("input", { class: "input input-code", id: "watch-code", maxlength: 4, placeholder: "ABCD", autocomplete: "off", "aria-label": "Room code" });
  const form = el("form", {
    class: "card stack watch-form", id: "watch",
    on: { submit: (e) => { e.preventDefault(); const c = input.value.trim().toUpperCase(); if (c) location.assign(`/watch/${encodeURIComponent(c)}`); } },
  },
  el("h1", { class: "brand-title", text: "Watch and vote" }),
  el("p", { class: "brand-sub", text: "No seat, no name: follow the game on your phone and vote with the audience." }),
  input, el("button", { class: "btn btn-primary btn-block", type: "submit", text: "Watch" }));
  replace(main, form);
}

async function join() {
  const known = saved(code);
  if (known?.token) return known;
  const joined = await api(`/api/sessions/${encodeURIComponent(code)}/audience`, { method: "POST", body: {} });
  const seatless = { id: joined.audience_id, token: joined.token };
  localStorage.setItem(KEY(code), JSON.stringify(seatless));
  return seatless;
}

async function start() {
  let me;
  try {
    me = await join();
  } catch (err) {
    replace(main, el("p", { class: "notice", role: "alert", id: "watch-error", text: err.message }));
    return;
  }
  const connection = el("span", { class: "pill", id: "connection", role: "status", text: "Connecting…" });
  const watching = el("span", { class: "audience-count", id: "audience-count" });
  const waiting = el("section", { class: "waiting", id: "lobby" },
    el("h1", { class: "waiting-title", text: "You're in the audience" }),
    el("p", { class: "waiting-sub", text: "The game shows up here when it starts. You vote with the crowd." }));
  const stage = el("section", { class: "stage stage-phone", id: "stage", "aria-label": "Game" });
  replace(main,
    el("header", { class: "phonebar" },
      el("span", { class: "room-tag", text: code }), el("span", { class: "audience-tag", text: "audience" }), watching, connection),
    waiting, stage);
  const room = new Room({
    code, role: "audience", token: me.token, stageRoot: stage,
    onChange: (r) => {
      waiting.hidden = ["running", "paused", "over"].includes(r.status);
      stage.hidden = !waiting.hidden;
      if (r.audience) watching.textContent = `${r.audience.watching ?? 0} watching`;
    },
    onConnection: (state) => {
      connection.textContent = { connecting: "Connecting…", open: "Connected", reconnecting: "Reconnecting…", closed: "Disconnected" }[state];
    },
    onFatal: ({ code: closeCode }) => {
      if (closeCode === 4403) localStorage.removeItem(KEY(code));
      sendHome(closeCode === 4410 ? "closed" : "gone", code);
    },
  });
  room.start();
}

if (!code) pickRoom();
else start();
