// What the big screen and the phone share: the snapshot-driven loop and small formatters.
// Decide nothing here: every rule is the server's, and its view is the whole truth.

/** A whole number with a thin space between thousands: 12 500. */
export function fmt(n) {
  return Math.round(Number(n) || 0).toString().replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
}

export const AWARD_ICONS = { most_votes: "🗳️", clean_sweeps: "🧹", crowd_favourite: "⭐" };

export const PHASE_NAMES = {
  write: "Writing", vote: "Vote", result: "Result", final_vote: "Final vote",
  scoreboard: "Scores", over: "Game over",
};

/** Redraw from snapshots only: an event of this game (or a player coming or going) asks for a
 * fresh snapshot, which then redraws. ``draw(view, msg)`` runs when what it shows changed. */
export function snapshotLoop(ctx, draw, signature) {
  let last = null;
  let pending = false;
  return (msg) => {
    if (msg.type === "session.snapshot") {
      pending = false;
      const view = msg.view || {};
      const key = signature(view);
      if (key !== last) { last = key; draw(view, msg, true); } else { draw(view, msg, false); }
      return;
    }
    if (!pending && (msg.type.startsWith(`${ctx.slug}.`) || msg.type.startsWith("session.player"))) {
      pending = true;
      queueMicrotask(() => ctx.sync());
    }
  };
}

export function roundLine(view) {
  if (!view.round) return "";
  return view.final ? "Final round · ×3" : `Round ${view.round} of ${view.rounds} · ×${view.multiplier}`;
}
