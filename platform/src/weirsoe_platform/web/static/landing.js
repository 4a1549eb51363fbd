// The landing page: join a room with its code and a name. A seat this browser already has in
// that room is taken back with its token, so a reload or a lost phone keeps score and seat.

import { api, saveSeat, seat } from "./api.js";
import { $ } from "./dom.js";

const NOTICES = {
  closed: "The host ended that room. Thanks for playing!",
  gone: "That room no longer exists.",
  token: "Your seat in that room is no longer valid. Join again with a name.",
  finished: "That game is over.",
};

const MESSAGES = {
  room_not_found: ["code", "No room with that code. Check the big screen."],
  rate_limited: ["code", "Too many tries. Wait a moment and try again."],
  name_taken: ["name", "Someone in this room already has that name."],
  room_full: ["code", "This room is full."],
  game_started: ["code", "This game has already started."],
  game_over: ["code", "This game has ended."],
  bad_name: ["name", null],
  name_profane: ["name", null],
  offline: ["code", null],
};

const MAX_NAME = 20; // the server's limit, in the server's words below
const NAME_RULE = `Names have 1 to ${MAX_NAME} characters.`;

const form = $("#join");
const code = $("#code");
const name = $("#name");
const button = $("#join-btn");

function show(field, text) {
  const input = field === "name" ? name : code;
  const box = $(`#${field}-msg`);
  box.textContent = text || "";
  box.classList.toggle("is-error", Boolean(text));
  input.setAttribute("aria-invalid", text ? "true" : "false");
}

function clear() {
  show("code", "");
  show("name", "");
}

function prefill() {
  const params = new URLSearchParams(location.search);
  const notice = NOTICES[params.get("notice")];
  if (notice) {
    const box = $("#notice");
    box.textContent = notice;
    box.hidden = false;
  }
  const given = (params.get("code") || "").trim().toUpperCase().slice(0, 4);
  if (given) code.value = given;
  const mine = given ? seat(given) : null;
  if (mine?.name) name.value = mine.name;
  (given ? name : code).focus();
}

async function join(event) {
  event.preventDefault();
  clear();
  const room = code.value.trim().toUpperCase();
  const who = name.value.trim();
  if (room.length !== 4) {
    const n = room.length;
    return show("code", n ? `That code has ${n} letter${n === 1 ? "" : "s"}; room codes have 4, like ABCD.` : "Type the 4 letters from the big screen, like ABCD.");
  }
  if (!who) return show("name", "Pick a name.");
  if ([...who].length > MAX_NAME) return show("name", NAME_RULE);
  button.disabled = true;
  button.textContent = "Joining…";
  const known = seat(room);
  try {
    const body = known?.token ? { name: who, token: known.token } : { name: who };
    const joined = await api(`/api/sessions/${encodeURIComponent(room)}/players`, { method: "POST", body });
    saveSeat(room, { player_id: joined.player_id, token: joined.token, name: joined.rejoined && known?.name ? known.name : who });
    location.assign(`/play/${encodeURIComponent(room)}`);
  } catch (err) {
    const [field, text] = MESSAGES[err.code] || [err.field === "name" ? "name" : "code", null];
    show(field, text || err.message);
    (field === "name" ? name : code).focus();
    button.disabled = false;
    button.textContent = "Join";
  }
}

code.addEventListener("input", () => {
  const upper = code.value.toUpperCase().replace(/[^A-Z]/g, "");
  const dropped = upper !== code.value.toUpperCase();
  if (upper !== code.value) code.value = upper;
  show("code", dropped ? "Room codes are only letters, like ABCD: no digits or symbols." : "");
});
// The name's limit as you type, in the same words as the server.
name.addEventListener("input", () => {
  const n = [...name.value.trim()].length;
  show("name", n > MAX_NAME ? `${NAME_RULE} This one has ${n}.` : "");
  button.disabled = n > MAX_NAME;
});
form.addEventListener("submit", join);
prefill();
