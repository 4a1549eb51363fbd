// Mounts a cartridge's UI module (or the generic fallback) and gives it its `ctx`.
// The contract is documented in docs/cartridges/ui.md. No game logic lives here.

import { api } from "./api.js";
import { announce, el, reducedMotion, replace, ring } from "./dom.js";
import * as fallback from "./fallback.js";

let catalogue = null;
/** Whether a cartridge ships UI modules (asked once per page, so no 404 is ever requested). */
async function hasUi(slug) {
  catalogue ||= api("/api/cartridges")
    .then((r) => new Map(r.cartridges.map((c) => [c.slug, c.has_ui !== false])))
    .catch(() => new Map());
  return (await catalogue).get(slug) ?? true;
}

/** The modules a role renders with, first found wins: host.js for the big screen,
 * controller.js for phones, audience.js (else host.js) for the audience. */
const MODULES = { host: ["host.js"], audience: ["audience.js", "host.js"], player: ["controller.js"] };

async function load(slug, role) {
  if (!(await hasUi(slug))) return fallback;
  for (const file of MODULES[role]) {
    const url = `/cartridges/${encodeURIComponent(slug)}/ui/${file}`;
    try {
      const module = await import(url);
      if (typeof module.mount === "function") return module;
      console.warn(`${url} exports no mount(); using the generic view`);
    } catch (err) {
      // A cartridge without a UI (404) or with a broken one still plays: generic view.
      console.info(`no UI module at ${url}`, err?.message || err);
    }
  }
  return fallback;
}

/**
 * Mount the cartridge `slug` for this viewer into `root`.
 * @returns {Promise<{update(msg: object): void, destroy(): void}>}
 */
export async function mountStage(root, { slug, role, playerId, client, players, audience = () => null }) {
  const module = await load(slug, role);
  const rings = new Set();
  const links = [];
  const ctx = Object.freeze({
    slug,
    role,
    playerId: playerId ?? null,
    action: (action) => client.action(action),
    vote: (tally, choice) => client.vote(tally, choice),
    audience: () => audience(),
    sync: () => client.sync(),
    players: () => players.list(),
    name: (id) => players.name(id),
    clock: Object.freeze({ now: () => client.now(), timer: () => client.timer() }),
    el,
    replace,
    announce,
    reducedMotion,
    countdown(options = {}) {
      const r = ring(options);
      rings.add(r);
      const t = client.timer();
      if (t) r.set(t.left, t.total, t.paused);
      else r.set(null);
      return r.node;
    },
    css(href) {
      const link = el("link", { rel: "stylesheet", href: new URL(href, location.origin).href });
      links.push(link);
      const loaded = new Promise((resolve) => {
        link.addEventListener("load", resolve, { once: true });
        link.addEventListener("error", resolve, { once: true });
      });
      document.head.append(link);
      return loaded;
    },
  });
  replace(root);
  const view = module.mount(root, ctx) || {};
  const tick = setInterval(() => {
    const t = client.timer();
    for (const r of rings) {
      if (!r.node.isConnected) continue;
      if (t) r.set(t.left, t.total, t.paused);
      else r.set(null);
    }
  }, 200);
  return {
    generic: module === fallback,
    /** True while one of the cartridge's own countdowns is on screen. */
    hasCountdown: () => [...rings].some((r) => r.node.isConnected),
    update(msg) {
      try { view.update?.(msg); } catch (err) { console.error("cartridge UI failed on", msg.type, err); }
    },
    destroy() {
      clearInterval(tick);
      try { view.destroy?.(); } catch (err) { console.error(err); }
      for (const link of links) link.remove();
      replace(root);
    },
  };
}
