// The host's big screen: choose a game (or a preset), open a room, then show the code, the QR
// code, the players and the game, with play, pause, resume and end. There is no skip.

import { api, currentUser, hostToken, saveHostToken } from "./api.js";
import { $, announce, el, replace, ring } from "./dom.js";
import { audiencePanel, audienceToggle } from "./audience-panel.js";
import { Room } from "./room.js";
import { errorField, settingsForm } from "./settings-form.js";

const main = $("#main");
const params = new URLSearchParams(location.search);
const NOTICES = { ended: "The room was ended.", gone: "That room no longer exists.", token: "This screen is not the host of that room." };

// -- setup: pick a game --------------------------------------------------------------------------
async function setup() {
  document.body.classList.remove("is-screen");
  const notice = NOTICES[params.get("notice")];
  const [{ cartridges }, account] = await Promise.all([api("/api/cartridges"), currentUser()]);
  let form = null;
  const wanted = cartridges.find((c) => c.slug === params.get("game"));
  let chosen = (wanted || cartridges[0])?.slug;
  const settingsBox = el("div", { class: "settings-box" });
  const status = el("p", { class: "field-msg", role: "alert" });
  const open = el("button", { class: "btn btn-primary btn-lg", type: "submit", id: "open-room", text: "Open room" });

  const pickSettings = () => {
    const cartridge = cartridges.find((c) => c.slug === chosen);
    form = settingsForm(cartridge.settings_schema, { prefix: `s-${chosen}` });
    replace(settingsBox, form.node);
  };

  const choices = cartridges.map((c) =>
    el("label", { class: "choice", for: `game-${c.slug}` },
      el("input", {
        type: "radio", name: "cartridge", id: `game-${c.slug}`, value: c.slug, checked: c.slug === chosen,
        on: { change: () => { chosen = c.slug; pickSettings(); } },
      }),
      el("span", { class: "choice-body" },
        el("span", { class: "choice-title", text: c.title }),
        c.description ? el("span", { class: "choice-desc", text: c.description }) : null,
        el("span", { class: "choice-meta", text: `${c.min_players}–${c.max_players} players` }))));

  const create = async (body) => {
    status.textContent = "";
    form?.clearErrors();
    open.disabled = true;
    try {
      const room = await api("/api/sessions", { method: "POST", body });
      saveHostToken(room.code, room.host_token);
      location.assign(`/host?code=${encodeURIComponent(room.code)}`);
    } catch (err) {
      open.disabled = false;
      const cartridge = cartridges.find((c) => c.slug === chosen);
      const field = body.settings && errorField(err, cartridge.settings_schema);
      if (field && form) form.showError(field, err.message);
      else status.textContent = err.message;
    }
  };

  const gameForm = el("form", {
    class: "card stack", id: "new-room", novalidate: true, // the server's errors are shown inline
    on: { submit: (e) => { e.preventDefault(); create({ cartridge: chosen, settings: form ? form.values() : {} }); } },
  },
  el("fieldset", { class: "choices" }, el("legend", { class: "label", text: "Game" }), choices),
  el("details", { class: "settings" }, el("summary", { text: "Game settings" }), settingsBox),
  open, status);

  replace(main,
    el("header", { class: "brand brand-row" },
      el("div", {},
        el("p", { class: "wordmark", "aria-hidden": "true", text: "Weirsøe" }),
        el("h1", { class: "brand-title", text: "Host a game" }),
        el("p", { class: "brand-sub", text: "This screen becomes the big screen. Players join on their phones." })),
      accountBox(account)),
    notice ? el("p", { class: "notice", role: "status", text: notice }) : null,
    el("div", { class: "setup-grid" }, gameForm, account.user ? await presetsBox(create) : null));
  if (chosen) pickSettings();
}

function accountBox({ available, user }) {
  if (!available) return null;
  if (!user) return el("nav", { class: "account", "aria-label": "Account" }, el("a", { href: "/login?next=/host", text: "Log in to use presets" }));
  return el("nav", { class: "account", "aria-label": "Account" },
    el("span", { class: "hint", text: `Logged in as ${user.name}` }),
    el("a", { href: "/presets", text: "Presets" }),
    el("a", { href: "/login", text: "Account" }));
}

async function presetsBox(create) {
  let presets = [];
  try { presets = (await api("/api/presets")).presets || []; } catch { return null; }
  const usable = presets.filter((p) => p.available !== false);
  const select = el("select", { id: "preset", class: "input" },
    usable.map((p) => el("option", { value: String(p.id), text: `${p.name} (${p.cartridge})` })));
  return el("form", {
    class: "card stack", id: "preset-room",
    on: { submit: (e) => { e.preventDefault(); create({ preset_id: isNaN(Number(select.value)) ? select.value : Number(select.value) }); } },
  },
  el("h2", { class: "card-title", text: "Start from a preset" }),
  usable.length
    ? [el("label", { class: "label", for: "preset", text: "Preset" }), select,
      el("button", { class: "btn btn-secondary", type: "submit", text: "Open room with preset" })]
    : el("p", { class: "hint", text: "No presets yet." }),
  el("a", { href: "/presets", text: "Manage presets →" }));
}

// -- the big screen ------------------------------------------------------------------------------
function screen(code, token) {
  document.body.classList.add("is-screen");
  let host = location.host; // until the server says which address phones can open
  const clock = ring({ size: 96, label: "Time left" });
  const connection = el("span", { class: "pill", role: "status", text: "Connecting…" });
  const buttons = {
    play: el("button", { class: "btn btn-primary", id: "ctl-play", text: "Play", on: { click: () => control("play") } }),
    pause: el("button", { class: "btn btn-secondary", id: "ctl-pause", text: "Pause", on: { click: () => control("pause") } }),
    resume: el("button", { class: "btn btn-primary", id: "ctl-resume", text: "Resume", on: { click: () => control("resume") } }),
    again: el("button", { class: "btn btn-primary", id: "ctl-again", text: "Same players", on: { click: () => control("again") } }),
    change: el("button", { class: "btn btn-secondary", id: "ctl-settings", text: "Settings…", on: { click: changeSettings } }),
    fresh: el("button", { class: "btn btn-secondary", id: "ctl-new", text: "New players", on: { click: newPlayers } }),
    exit: el("button", { class: "btn btn-danger", id: "ctl-exit", text: "End room", on: { click: confirmExit } }),
  };
  const toast = el("p", { class: "toast", role: "alert", hidden: true });
  const joinAt = [el("strong", { class: "join-url", text: host }), el("strong", { text: host })];
  const reachNote = el("p", { class: "reach-note", id: "reach-note", role: "alert", hidden: true });
  const title = el("h1", { class: "game-title" });
  const statusText = el("span", { class: "status-text" });
  const roster = el("ul", { class: "player-grid", id: "lobby-players", "aria-label": "Players" });
  const rosterCount = el("span", { class: "count" });
  const needs = el("p", { class: "hint needs" });
  const strip = el("ul", { class: "strip-players", id: "strip-players", "aria-label": "Players" });
  const stage = el("section", { class: "stage", id: "stage", "aria-label": "Game" });
  const paused = el("div", { class: "paused-banner", id: "paused-banner", hidden: true }, el("span", { text: "Paused" }));
  const crowd = audiencePanel(code);
  const crowdTop = el("span", { class: "audience-count", id: "audience-top", title: "Audience watching" });
  const crowdSwitch = audienceToggle((action) => control(action)); // in the top bar: lobby and game
  const lobby = el("section", { class: "lobby", id: "lobby" },
    el("div", { class: "join-panel" },
      el("p", { class: "join-how" }, "Join on your phone at ", joinAt[0]),
      reachNote,
      el("p", { class: "join-label", text: "Room code" }),
      el("p", { class: "room-code", id: "room-code", text: code }),
      el("img", { class: "qr", src: `/api/sessions/${encodeURIComponent(code)}/qr.svg`, alt: `QR code: join room ${code}`, width: 280, height: 280 }),
      crowd.node),
    el("div", { class: "players-panel" },
      el("h2", { class: "panel-title" }, "Players ", rosterCount),
      roster, needs));

  replace(main,
    el("header", { class: "topbar" },
      el("div", { class: "topbar-left" }, el("span", { class: "wordmark small", "aria-hidden": "true", text: "Weirsøe" }), title),
      el("div", { class: "topbar-mid" }, clock.node, statusText, crowdTop),
      el("div", { class: "topbar-right controls", role: "group", "aria-label": "Host controls" },
        connection, crowdSwitch.node, ...Object.values(buttons))),
    lobby, stage, paused,
    el("footer", { class: "strip" },
      el("p", { class: "strip-code" }, "Join at ", joinAt[1], " · code ", el("strong", { text: code })),
      strip),
    toast);

  let info = null;
  api(`/api/sessions/${encodeURIComponent(code)}`).then((i) => {
    info = i;
    title.textContent = i.title;
    if (i.join_url) {
      const url = new URL(i.join_url);
      host = url.host;
      for (const node of joinAt) node.textContent = host;
    }
    if (i.join_note) { reachNote.textContent = i.join_note; reachNote.hidden = false; }
    render(room);
  }).catch(() => {});

  async function control(action, extra = {}) {
    toast.hidden = true;
    try {
      await api(`/api/sessions/${encodeURIComponent(code)}/control`, { method: "POST", body: { action, ...extra }, token });
      return true;
    } catch (err) {
      toast.textContent = err.message;
      toast.hidden = false;
      return err;
    }
  }

  // "New players": end this room and open a fresh one for the same game.
  let leaving = false;
  async function newPlayers() {
    leaving = true;
    await control("exit");
    saveHostToken(code, null);
    location.assign(`/host?game=${encodeURIComponent(info?.cartridge || "")}`);
  }

  // "Settings…": change this room's settings, then "Same players" with them.
  async function changeSettings() {
    const dialog = $("#again-settings");
    const { cartridges } = await api("/api/cartridges");
    const cartridge = cartridges.find((c) => c.slug === info?.cartridge);
    if (!cartridge) return;
    const form = settingsForm(cartridge.settings_schema, { values: room.settings || info.settings || {}, prefix: "again" });
    replace($("#again-settings-fields"), form.node);
    const submit = async (event) => {
      event.preventDefault();
      form.clearErrors();
      const result = await control("again", { settings: form.values() });
      if (result === true) { dialog.close(); return; }
      toast.hidden = true;
      const field = errorField(result, cartridge.settings_schema);
      if (field) form.showError(field, result.message);
      else { toast.textContent = result.message; toast.hidden = false; }
    };
    const formNode = $("#again-settings-form");
    formNode.onsubmit = submit;
    $("#again-settings-cancel").onclick = () => dialog.close();
    dialog.showModal();
  }

  function confirmExit() {
    const dialog = $("#confirm-exit");
    dialog.returnValue = "";
    dialog.addEventListener("close", () => { if (dialog.returnValue === "exit") control("exit"); }, { once: true });
    dialog.showModal();
  }

  const seen = new Set(); // players already on screen: only newcomers pop in
  function playerItem(p, big) {
    const fresh = big && !seen.has(p.id);
    if (big) seen.add(p.id);
    return el("li", { class: ["player", big && "player-big", fresh && "is-new", p.connected ? "is-on" : "is-off"], dataset: { player: p.id } },
      el("span", { class: "dot", "aria-hidden": "true" }),
      el("span", { class: "player-name", text: p.name }),
      el("span", { class: "sr-only", text: p.connected ? " (connected)" : " (not connected)" }));
  }

  let lastStatus = null;
  function render(r) {
    crowd.update(r);
    crowdSwitch.update(r);
    crowdTop.textContent = r.audience ? `👀 ${r.audience.watching ?? 0}` : "";
    const s = r.status;
    const players = r.roster;
    document.body.dataset.status = s || "";
    lobby.hidden = s !== "lobby";
    stage.hidden = !["running", "paused", "over"].includes(s);
    paused.hidden = s !== "paused";
    buttons.play.hidden = s !== "lobby";
    buttons.pause.hidden = s !== "running";
    buttons.resume.hidden = s !== "paused";
    buttons.again.hidden = s !== "over";
    buttons.change.hidden = s !== "over";
    buttons.fresh.hidden = s !== "over";
    const min = info?.min_players ?? 1;
    buttons.play.disabled = players.length < min;
    replace(roster, players.length ? players.map((p) => playerItem(p, true)) : el("li", { class: "hint empty", text: "Waiting for the first player…" }));
    replace(strip, players.map((p) => playerItem(p, false)));
    rosterCount.textContent = info ? `${players.length}/${info.max_players}` : String(players.length);
    needs.textContent = players.length < min ? `Need at least ${min} players to start.` : "Ready when you are: press Play.";
    statusText.textContent = { lobby: "Lobby", running: "", paused: "Paused", over: "Game over" }[s] ?? "";
    if (s !== lastStatus) {
      const said = { running: lastStatus === "paused" ? "Game resumed" : "Game started", paused: "Game paused", over: "Game over", lobby: lastStatus === "over" ? `Same players: room ${code} is open for the next game` : `Room ${code} is open` }[s];
      if (said && lastStatus !== null) announce(said);
      lastStatus = s;
    }
  }

  const room = new Room({
    code, role: "host", token, stageRoot: stage,
    onChange: (r, msg) => {
      if (msg.type === "session.new_game" && info) info.settings = msg.settings;
      render(r);
    },
    onConnection: (state) => {
      connection.textContent = { connecting: "Connecting…", open: "Live", reconnecting: "Reconnecting…", closed: "Closed" }[state];
      connection.classList.toggle("is-warn", state !== "open");
    },
    onFatal: ({ code: closeCode }) => {
      if (leaving) return;
      saveHostToken(code, null);
      const notice = closeCode === 4410 ? "ended" : closeCode === 4404 ? "gone" : "token";
      location.replace(`/host?notice=${notice}`);
    },
  }).start();

  setInterval(() => {
    const t = room.client.timer();
    const own = room.stage?.hasCountdown();
    if (t && !own && room.status !== "lobby") clock.set(t.left, t.total, t.paused);
    else clock.set(null);
  }, 200);
}

const code = (params.get("code") || "").toUpperCase();
const token = code ? hostToken(code) : null;
if (code && token) screen(code, token);
else setup().catch((err) => replace(main, el("p", { class: "notice", role: "alert", text: `Could not load the games: ${err.message}` })));
