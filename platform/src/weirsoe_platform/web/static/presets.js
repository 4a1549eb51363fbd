// Preset management: a host's saved settings per game. List, create, edit, delete.

import { api, currentUser } from "./api.js";
import { $, el, replace } from "./dom.js";
import { errorField, settingsForm } from "./settings-form.js";

const main = $("#main");
let cartridges = [];

function header(sub) {
  return el("header", { class: "brand brand-row" },
    el("div", {},
      el("p", { class: "wordmark", "aria-hidden": "true", text: "Weirsøe" }),
      el("h1", { class: "brand-title", text: "Presets" }),
      el("p", { class: "brand-sub", text: sub })),
    el("nav", { class: "account", "aria-label": "More" }, el("a", { href: "/host", text: "Host a game" }), el("a", { href: "/login", text: "Account" })));
}

async function list() {
  const status = el("p", { class: "field-msg", role: "alert" });
  let presets = [];
  try {
    presets = (await api("/api/presets")).presets || [];
  } catch (err) {
    status.textContent = err.message;
  }
  const titleOf = (slug) => cartridges.find((c) => c.slug === slug)?.title || slug;
  const rows = presets.map((p) =>
    el("li", { class: "preset-row" },
      el("div", { class: "preset-info" },
        el("span", { class: "preset-name", text: p.name }),
        el("span", { class: "hint", text: titleOf(p.cartridge) + (p.available === false ? " · not installed here" : "") })),
      el("div", { class: "row" },
        el("button", { class: "btn btn-secondary btn-sm", text: "Edit", "aria-label": `Edit ${p.name}`, on: { click: () => editor(p) } }),
        el("button", { class: "btn btn-danger btn-sm", text: "Delete", "aria-label": `Delete ${p.name}`, on: { click: () => remove(p, status) } }))));
  replace(main, header("Saved settings you can start a room from."),
    el("section", { class: "card stack" },
      el("div", { class: "row between" },
        el("h2", { class: "card-title", text: "Your presets" }),
        el("button", { class: "btn btn-primary", id: "new-preset", text: "New preset", on: { click: () => editor(null) } })),
      rows.length ? el("ul", { class: "preset-list" }, rows) : el("p", { class: "hint", text: "No presets yet." }),
      status));
}

function remove(preset, status) {
  const dialog = $("#confirm-delete");
  $("#confirm-delete-name").textContent = `“${preset.name}” will be gone for good.`;
  dialog.returnValue = "";
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "delete") return;
    try {
      await api(`/api/presets/${encodeURIComponent(preset.id)}`, { method: "DELETE" });
      list();
    } catch (err) {
      status.textContent = err.message;
    }
  }, { once: true });
  dialog.showModal();
}

function editor(preset) {
  let slug = preset?.cartridge || cartridges[0]?.slug;
  let form = null;
  const box = el("div", { class: "settings-box" });
  const name = el("input", { class: "input", id: "preset-name", value: preset?.name || "", required: true, maxlength: 80, "aria-describedby": "preset-name-msg" });
  const nameMsg = el("p", { class: "field-msg", id: "preset-name-msg", "aria-live": "polite" });
  const status = el("p", { class: "field-msg", role: "alert" });
  const draw = () => {
    const cartridge = cartridges.find((c) => c.slug === slug);
    form = cartridge ? settingsForm(cartridge.settings_schema, { values: preset && preset.cartridge === slug ? preset.settings || {} : {}, prefix: "p" }) : null;
    replace(box, form ? form.node : el("p", { class: "hint", text: "This game is not installed on this server." }));
  };
  const select = el("select", { class: "input", id: "preset-cartridge", disabled: Boolean(preset), on: { change: () => { slug = select.value; draw(); } } },
    cartridges.map((c) => el("option", { value: c.slug, text: c.title, selected: c.slug === slug })));

  async function save(e) {
    e.preventDefault();
    status.textContent = nameMsg.textContent = "";
    form?.clearErrors();
    const body = { cartridge: slug, name: name.value.trim(), settings: form ? form.values() : {} };
    if (!body.name) { nameMsg.textContent = "Give the preset a name."; nameMsg.classList.add("is-error"); name.focus(); return; }
    try {
      if (!preset) await api("/api/presets", { method: "POST", body });
      else {
        const path = `/api/presets/${encodeURIComponent(preset.id)}`;
        try { await api(path, { method: "PUT", body }); } catch (err) {
          if (err.status !== 405) throw err;
          await api(path, { method: "PATCH", body });
        }
      }
      list();
    } catch (err) {
      const field = errorField(err, cartridges.find((c) => c.slug === slug)?.settings_schema);
      if (field === "name") { nameMsg.textContent = err.message; nameMsg.classList.add("is-error"); }
      else if (field && form) form.showError(field.replace(/^settings\./, ""), err.message);
      else status.textContent = err.message;
    }
  }

  replace(main, header(preset ? "Change a preset." : "Save settings for next time."),
    el("form", { class: "card stack", id: "preset-form", novalidate: true, on: { submit: save } },
      el("h2", { class: "card-title", text: preset ? `Edit “${preset.name}”` : "New preset" }),
      el("div", { class: "field" }, el("label", { class: "label", for: "preset-name", text: "Name" }), name, nameMsg),
      el("div", { class: "field" }, el("label", { class: "label", for: "preset-cartridge", text: "Game" }), select),
      box, status,
      el("div", { class: "row end" },
        el("button", { class: "btn btn-ghost", type: "button", text: "Cancel", on: { click: list } }),
        el("button", { class: "btn btn-primary", type: "submit", text: "Save preset" }))));
  draw();
  name.focus();
}

const [{ available, user }, catalogue] = await Promise.all([currentUser(), api("/api/cartridges")]);
cartridges = catalogue.cartridges;
if (!available) {
  replace(main, header("This server has no host accounts, so there are no presets."));
} else if (!user) {
  location.replace("/login?next=/presets");
} else {
  list();
}
