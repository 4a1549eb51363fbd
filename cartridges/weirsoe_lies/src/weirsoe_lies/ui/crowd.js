// The audience in Weirsøe Lies, for every screen: its share of each answer at the reveal.

/** "Audience: 62% · the audience's pick" for a reveal step's `audience`, or null. */
export function audienceLine(el, share) {
  if (!share) return null;
  const pct = Math.round(share.share * 100);
  return el("p", { class: ["spot-audience", share.pick && "is-pick"], dataset: { audienceShare: String(pct) } },
    `Audience: ${pct}% (${share.votes} of ${share.total})`,
    share.pick ? el("strong", { text: " · the audience's pick" }) : null);
}
