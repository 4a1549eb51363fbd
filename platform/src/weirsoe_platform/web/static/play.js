// The phone controller: the lobby, then the cartridge's controller module, with the
// connection state, pauses and the way home when the room ends.

import { saveSeat, seat, sendHome } from "./api.js";
import { $, announce, el, replace } from "./dom.js";
import { Room } from "./room.js";

const main = $("#main");
const code = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "").toUpperCase();
const mine = code ? seat(code) : null;

function start() {
  const who = el("span", { class: "me-name", id: "me-name", text: mine.name || "" });
  const connection = el("span", { class: "pill", id: "connection", role: "status", text: "Connecting…" });
  const lobbyList = el("ul", { class: "player-list", id: "lobby-players", "aria-label": "Players in the room" });
  const lobby = el("section", { class: "waiting", id: "lobby" },
    el("h2", { class: "waiting-title", text: "You're in!" }),
    el("p", { class: "waiting-sub", text: "Look at the big screen. The game starts when the host presses Play." }),
    el("div", { class: "spinner", "aria-hidden": "true" }),
    el("h2", { class: "label", text: "In the room" }),
    lobbyList);
  const stage = el("section", { class: "stage stage-phone", id: "stage", "aria-label": "Game" });
  const paused = el("div", { class: "paused-banner phone", id: "paused-banner", role: "status", hidden: true },
    el("span", { text: "Paused" }), el("small", { text: "The host paused the game." }));

  replace(main,
    el("header", { class: "phonebar" },
      el("h1", { class: "sr-only", text: `Weirsøe: room ${code}` }),
      el("span", { class: "room-tag", text: code }), who, connection),
    lobby, stage, paused);

  let lastStatus = null;
  const room = new Room({
    code, role: "player", token: mine.token, stageRoot: stage,
    onChange: (r) => {
      const s = r.status;
      document.body.dataset.status = s || "";
      lobby.hidden = s !== "lobby";
      stage.hidden = !["running", "paused", "over"].includes(s);
      paused.hidden = s !== "paused";
      const me = r.roster.find((p) => p.id === r.playerId);
      if (me && me.name !== who.textContent) { who.textContent = me.name; saveSeat(code, { ...mine, name: me.name }); }
      replace(lobbyList, r.roster.map((p) =>
        el("li", { class: ["player", p.connected ? "is-on" : "is-off", p.id === r.playerId && "is-me"] },
          el("span", { class: "dot", "aria-hidden": "true" }),
          el("span", { class: "player-name", text: p.name }),
          p.id === r.playerId ? el("span", { class: "tag", text: "you" }) : null)));
      if (s !== lastStatus) {
        const said = { paused: "The host paused the game", running: lastStatus === "paused" ? "The game goes on" : "The game has started", over: "Game over", lobby: lastStatus === "over" ? "Another game with the same players: wait for the host to press Play" : null }[s];
        if (said && lastStatus !== null) announce(said);
        lastStatus = s;
      }
    },
    onConnection: (state) => {
      connection.textContent = { connecting: "Connecting…", open: "Connected", reconnecting: "Reconnecting…", closed: "Disconnected" }[state];
      connection.classList.toggle("is-warn", state !== "open");
    },
    onFatal: ({ code: closeCode }) => {
      if (closeCode === 4410) return sendHome("closed");
      saveSeat(code, null);
      sendHome(closeCode === 4404 ? "gone" : "token", code);
    },
  });
  room.start();
}

if (!mine?.token) location.replace(`/?code=${encodeURIComponent(code)}`);
else start();
