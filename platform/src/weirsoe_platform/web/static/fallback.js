// The generic view for a cartridge without a UI: its view as readable JSON and, for players,
// a box to send any action as JSON. Enough to play any cartridge, pretty for none.

const EVENT_LOG = 8;

export function mount(root, ctx) {
  const { el } = ctx;
  const phase = el("p", { class: "generic-phase", text: "Waiting for the game…" });
  const dump = el("pre", { class: "generic-view", tabindex: "0", "aria-label": "Game state" });
  const who = el("p", { class: "hint generic-who" });
  const log = el("ol", { class: "generic-log", "aria-label": "Latest events" });
  const parts = [
    el("h2", { class: "generic-title", text: ctx.slug }),
    el("p", { class: "hint", text: "This game has no screen of its own yet: here is what the server says." }),
    phase,
    who,
    dump,
  ];
  if (ctx.role === "player") parts.push(actionBox(ctx));
  parts.push(el("h3", { class: "generic-sub", text: "Latest events" }), log);
  root.append(el("section", { class: "generic" }, parts));
  let pending = null;

  return {
    update(msg) {
      if (msg.type === "session.snapshot") {
        dump.textContent = JSON.stringify(msg.view, null, 2);
        phase.textContent = `Status: ${msg.status}`;
        // Views name players by id: say who is who.
        who.textContent = ctx.players().map((p) => `${p.id} = ${p.name}${p.id === ctx.playerId ? " (you)" : ""}`).join(" · ");
        return;
      }
      const { version, ts, deadline, type, ...fields } = msg;
      log.prepend(el("li", {}, el("strong", { text: type }), " ", JSON.stringify(fields)));
      while (log.children.length > EVENT_LOG) log.lastChild.remove();
      // Redraw the state from a fresh snapshot, once for a burst of events.
      if (!type.startsWith("session.") && !pending) pending = setTimeout(() => { pending = null; ctx.sync(); }, 120);
    },
    destroy() { clearTimeout(pending); },
  };
}

function actionBox(ctx) {
  const { el } = ctx;
  const input = el("textarea", {
    id: "generic-action",
    class: "input mono",
    rows: 3,
    spellcheck: "false",
    value: '{"type": ""}',
  });
  const status = el("p", { class: "field-msg", role: "status", "aria-live": "polite" });
  const send = el("button", { class: "btn btn-primary", type: "submit", text: "Send action" });
  const form = el(
    "form",
    {
      class: "generic-action stack",
      on: {
        async submit(e) {
          e.preventDefault();
          let action;
          try {
            action = JSON.parse(input.value);
          } catch {
            status.textContent = "That is not valid JSON.";
            status.className = "field-msg is-error";
            return;
          }
          send.disabled = true;
          try {
            const ack = await ctx.action(action);
            status.textContent = `Sent (version ${ack.version}).`;
            status.className = "field-msg is-ok";
          } catch (err) {
            status.textContent = `${err.code}: ${err.message}`;
            status.className = "field-msg is-error";
          } finally {
            send.disabled = false;
          }
        },
      },
    },
    el("label", { for: "generic-action", class: "label", text: "Action (JSON)" }),
    input,
    send,
    status,
  );
  return form;
}
