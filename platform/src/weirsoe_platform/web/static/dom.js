// Small DOM helpers. Text always goes in through textContent: nothing here parses HTML.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Build an element. `attrs` keys: `class`, `text` (textContent), `on` ({event: fn}),
 * `style` ({prop: value}, set through the CSSOM), `dataset`, boolean/string attributes.
 * Children may be nodes, strings (become text nodes), arrays, or null/false (skipped).
 */
export function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:")
    ? document.createElementNS(SVG_NS, tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else if (key === "style") for (const [prop, v] of Object.entries(value)) node.style.setProperty(prop, String(v));
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "value" && "value" in node) node.value = value;
    else if (key === "checked" || key === "disabled" || key === "hidden" || key === "selected") node[key] = Boolean(value);
    else if (key.startsWith("on")) throw new Error("use the `on` map for listeners");
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace every child of `node`. */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** `document.querySelector`, throwing when the element is missing (a page bug). */
export function $(selector, root = document) {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`missing element ${selector}`);
  return found;
}

/** Say something to screen readers through the page's polite live region. */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A fresh text node after a tick makes screen readers read repeated messages too.
  setTimeout(() => { region.textContent = text; }, 30);
}

export const reducedMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;

/** "lie_seconds" → "Lie seconds". */
export function humanize(key) {
  const words = String(key).replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A whole number with thin grouping, e.g. 12 500. */
export function points(n) {
  return Number(n || 0).toLocaleString("en-US").replace(/,/g, "\u202f");
}

/** A countdown ring (SVG) with the seconds in the middle; `set(left, total, paused)`. */
export function ring({ size = 120, label = "Time left" } = {}) {
  const r = 44;
  const length = 2 * Math.PI * r;
  const track = el("svg:circle", { cx: 50, cy: 50, r, class: "ring-track" });
  const bar = el("svg:circle", { cx: 50, cy: 50, r, class: "ring-bar", "stroke-dasharray": length.toFixed(2) });
  const svg = el("svg:svg", { viewBox: "0 0 100 100", "aria-hidden": "true" }, track, bar);
  const digits = el("span", { class: "ring-digits" });
  const root = el("div", { class: "ring", role: "timer", "aria-label": label, style: { "--size": `${size}px` } }, svg, digits);
  let last = null;
  return {
    node: root,
    set(left, total, paused = false) {
      if (left === null || left === undefined) { root.hidden = true; return; }
      root.hidden = false;
      const fraction = total > 0 ? Math.max(0, Math.min(1, left / total)) : 0;
      bar.setAttribute("stroke-dashoffset", (length * (1 - fraction)).toFixed(2));
      root.classList.toggle("is-low", left <= 5 && total > 10 && !paused); // short steps stay calm
      root.classList.toggle("is-paused", paused);
      const whole = Math.ceil(left);
      if (`${whole}${paused}` !== last) {
        last = `${whole}${paused}`;
        digits.textContent = String(whole);
        root.setAttribute("aria-label", paused ? `${label}: paused with ${whole} seconds` : `${label}: ${whole} seconds`);
      }
    },
  };
}
