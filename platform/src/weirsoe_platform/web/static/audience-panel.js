// The big screen's audience corner: a second QR code (watch and vote) and how many watch, and
// the host's "Audience: on/off" switch. Kept apart from host.js: host.js calls update(room)
// after every message.

import { el } from "./dom.js";

export function audiencePanel(code) {
  const count = el("span", { class: "audience-count", id: "audience-count", text: "0" });
  const node = el("div", { class: "audience-panel", id: "audience-panel" },
    el("img", {
      class: "qr-small", id: "watch-qr", width: 140, height: 140,
      src: `/api/sessions/${encodeURIComponent(code)}/qr.svg?for=watch`,
      alt: `QR code: watch and vote in room ${code}`,
    }),
    el("p", {}, "Audience: scan to watch and vote. ", count, " watching"));
  return {
    node,
    update(room) {
      const a = room.audience;
      if (!a) return;
      count.textContent = String(a.watching ?? 0);
      node.hidden = a.enabled === false;
    },
  };
}

// The host's switch: sends audience_off / audience_on through `control(action)` (host.js's
// POST /control with the host token) and shows the state the server announces
// (the snapshot's audience.enabled, then session.audience), never a guess.
export function audienceToggle(control) {
  let enabled = null;
  const node = el("button", {
    class: "btn btn-secondary", id: "ctl-audience", type: "button", hidden: true,
    title: "Let people watch and vote without a seat",
    on: {
      click: async () => {
        if (enabled === null) return;
        node.disabled = true;
        try { await control(enabled ? "audience_off" : "audience_on"); } finally { node.disabled = false; }
      },
    },
  });
  return {
    node,
    update(room) {
      const a = room.audience;
      if (!a || typeof a.enabled !== "boolean") return;
      enabled = a.enabled;
      node.hidden = false;
      node.textContent = enabled ? "Audience: on" : "Audience: off";
      node.setAttribute("aria-pressed", String(enabled));
    },
  };
}
