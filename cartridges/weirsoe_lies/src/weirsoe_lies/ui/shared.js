// Small pieces the big screen and the phone share.

/** Icons for the awards that have no emoji of their own. */
export const AWARD_ICONS = { best_liar: "🎭", truth_seeker: "🔍", crowd_favourite: "⭐" };

/** A whole number with a thin space between thousands: 12 500. */
export function fmt(n) {
  return Math.round(Number(n) || 0).toString().replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
}

/** What an award's value means, in a few words (nodes for `el`'s children). */
export function awardLine(award, el) {
  const n = award.value;
  const times = (one, many) => `${n} ${n === 1 ? one : many}`;
  switch (award.key) {
    case "best_liar": return `fooled ${times("player", "players")}`;
    case "truth_seeker": return `found the truth ${times("time", "times")}`;
    case "crowd_favourite": return times("reaction", "reactions");
    default: return award.emoji ? [`${n} × `, el("span", { class: "emoji", text: award.emoji })] : String(n);
  }
}

/** Count a number up (or down) in `node` over `ms` milliseconds. */
export function countUp(node, from, to, ms) {
  if (ms <= 0 || from === to) { node.textContent = fmt(to); return; }
  const start = performance.now();
  const step = (now) => {
    const t = Math.min(1, (now - start) / ms);
    const eased = 1 - (1 - t) ** 3;
    node.textContent = fmt(from + (to - from) * eased);
    if (t < 1 && node.isConnected) requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}
