// A form generated from a cartridge's settings JSON Schema: numbers, booleans, enums,
// strings, and lists typed as comma-separated text. Only changed fields are sent.

import { el, humanize } from "./dom.js";

function resolve(schema) {
  let node = schema || {};
  const seen = new Set();
  while (node.$ref && !seen.has(node.$ref)) {
    seen.add(node.$ref);
    const path = node.$ref.replace(/^#\//, "").split("/");
    node = path.reduce((at, key) => (at ? at[key] : undefined), schema) || {};
  }
  return node;
}

function kind(prop) {
  if (Array.isArray(prop.enum)) return "enum";
  const type = Array.isArray(prop.type) ? prop.type.find((t) => t !== "null") : prop.type;
  if (type === "array") return "list";
  return type || "string";
}

function fieldFor(key, prop, value, id) {
  const type = kind(prop);
  const described = prop.description || type === "list" ? `${id}-hint` : null;
  const common = { id, name: key, "aria-describedby": [described, `${id}-msg`].filter(Boolean).join(" ") };
  if (type === "boolean") {
    return el("input", { ...common, type: "checkbox", class: "check", checked: Boolean(value) });
  }
  if (type === "enum") {
    return el("select", { ...common, class: "input" },
      prop.enum.map((option) => el("option", { value: String(option), text: String(option), selected: option === value })));
  }
  if (type === "integer" || type === "number") {
    return el("input", {
      ...common, class: "input", type: "number", inputmode: type === "integer" ? "numeric" : "decimal",
      min: prop.minimum ?? prop.exclusiveMinimum, max: prop.maximum ?? prop.exclusiveMaximum,
      step: type === "integer" ? 1 : "any", value: value ?? "",
    });
  }
  if (type === "list") {
    return el("input", {
      ...common, class: "input", type: "text", placeholder: "default", value: Array.isArray(value) ? value.join(", ") : "",
    });
  }
  return el("input", { ...common, class: "input", type: "text", maxlength: prop.maxLength, value: value ?? "" });
}

function read(input, prop) {
  const type = kind(prop);
  if (type === "boolean") return input.checked;
  const raw = input.value.trim();
  if (type === "integer" || type === "number") return raw === "" ? undefined : Number(raw);
  if (type === "list") {
    if (!raw) return undefined;
    const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
    const itemType = prop.items ? kind(prop.items) : "string";
    return itemType === "integer" || itemType === "number" ? items.map(Number) : items;
  }
  if (type === "enum") return prop.enum.find((option) => String(option) === input.value);
  return raw === "" ? undefined : raw;
}

/**
 * @param {object} schema the settings JSON Schema
 * @param {{values?: object, prefix?: string}} [o] starting values (a preset's); id prefix
 * @returns {{node: HTMLElement, values(): object, showError(field: string|null, message: string): void, clearErrors(): void}}
 */
export function settingsForm(schema, { values = {}, prefix = "setting" } = {}) {
  const root = resolve(schema);
  const props = root.properties || {};
  const inputs = {};
  const rows = [];
  for (const [key, prop] of Object.entries(props)) {
    const id = `${prefix}-${key}`;
    const start = key in values ? values[key] : prop.default;
    const input = fieldFor(key, prop, start, id);
    inputs[key] = input;
    const label = el("label", { for: id, class: "label", text: prop.title || humanize(key) });
    const about = [prop.description, kind(prop) === "list" && "comma-separated"].filter(Boolean).join("; ");
    const hint = about ? el("p", { class: "hint", id: `${id}-hint`, text: about }) : null;
    const msg = el("p", { class: "field-msg", id: `${id}-msg`, "aria-live": "polite" });
    rows.push(kind(prop) === "boolean"
      ? el("div", { class: "field field-check" }, el("div", { class: "row" }, input, label), hint, msg)
      : el("div", { class: "field" }, label, input, hint, msg));
  }
  const general = el("p", { class: "field-msg", "aria-live": "polite" });
  const node = el("div", { class: "settings-grid" }, rows.length ? rows : el("p", { class: "hint", text: "This game has no settings." }), general);

  function clearErrors() {
    for (const m of node.querySelectorAll(".field-msg")) { m.textContent = ""; m.classList.remove("is-error"); }
    for (const i of Object.values(inputs)) i.removeAttribute("aria-invalid");
  }

  return {
    node,
    values() {
      const out = {};
      for (const [key, prop] of Object.entries(props)) {
        const value = read(inputs[key], prop);
        if (value === undefined) continue;
        const unchanged = JSON.stringify(value) === JSON.stringify(prop.default);
        if (unchanged && !(key in values)) continue;
        out[key] = value;
      }
      return out;
    },
    showError(field, message) {
      const key = field && field.split(/[.[]/)[0];
      const input = key && inputs[key];
      const box = input ? node.querySelector(`#${prefix}-${key}-msg`) : general;
      box.textContent = message;
      box.classList.add("is-error");
      if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    },
    clearErrors,
  };
}

/** Which setting an error is about: its `field`, or the name at the start of its message. */
export function errorField(err, schema) {
  if (err.field) return err.field;
  const props = resolve(schema).properties || {};
  const first = String(err.message || "").split(/[:\s]/)[0];
  return first in props ? first : null;
}
