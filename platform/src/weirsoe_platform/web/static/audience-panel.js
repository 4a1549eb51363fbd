// The big screen's audience corner: a second QR code (watch and vote) and how many watch.
// Kept apart from host.js: host.js calls panel.update(room) after every message.

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
