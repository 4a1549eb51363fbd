// What the host screen and the controller share: the live client, the player list, the
// session status and the mounted cartridge stage. Pages render; this keeps the facts.

import { api } from "./api.js";
import { GameClient } from "./client.js";
import { mountStage } from "./stage.js";

const PLAYING = new Set(["running", "paused", "over"]);

export class Room {
  /**
   * @param {object} o
   * @param {string} o.code
   * @param {"host"|"player"|"audience"} o.role
   * @param {string} [o.token]
   * @param {HTMLElement} o.stageRoot where the cartridge UI goes
   * @param {(room: Room, msg: object) => void} o.onChange after every accepted message
   * @param {(state: string) => void} o.onConnection
   * @param {(close: {code: number, reason: string}) => void} o.onFatal
   */
  constructor({ code, role, token, stageRoot, onChange, onConnection, onFatal }) {
    Object.assign(this, { code, role, stageRoot, onChange });
    this.status = null;
    this.cartridge = null;
    this.playerId = null;
    this.roster = [];
    this.audience = null; // {enabled, members, watching, tallies, id?, ballots?}
    this.settings = null;
    this.stage = null;
    this.mounting = null;
    this.queue = [];
    this.client = new GameClient({
      code, role, token,
      onMessage: (msg) => this._message(msg),
      onState: onConnection,
      onFatal,
    });
    this.players = {
      list: () => this.roster.map((p) => ({ ...p })),
      name: (id) => this.roster.find((p) => p.id === id)?.name ?? "?",
    };
  }

  start() {
    this.client.start();
    return this;
  }

  stop() {
    this.client.stop();
    this.stage?.destroy();
  }

  _message(msg) {
    switch (msg.type) {
      case "session.snapshot":
        this.status = msg.status;
        this.cartridge = msg.cartridge;
        this.playerId = msg.player_id;
        this.roster = msg.players.map((p) => ({ ...p }));
        this.audience = msg.audience ?? null;
        break;
      case "audience.tally":
        this.audience = { ...(this.audience || {}), members: msg.members, watching: msg.watching, progress: msg.tallies };
        break;
      case "session.audience":
        this.audience = { ...(this.audience || {}), enabled: msg.enabled };
        break;
      case "session.player_joined":
        this._upsert(msg.player);
        break;
      case "session.player_reconnected":
        this._upsert({ id: msg.player_id, connected: true });
        break;
      case "session.player_left":
        this._upsert({ id: msg.player_id, connected: false });
        if (this.status === "lobby") this._refreshRoster(); // a lobby seat may be gone for good
        break;
      case "session.started":
        this.status = "running";
        this.roster = msg.players.map((p) => ({ ...p }));
        this.client.sync(); // the stage starts from a full snapshot of the first phase
        break;
      case "session.paused":
        this.status = "paused";
        break;
      case "session.resumed":
        this.status = "running";
        break;
      case "session.finished":
        this.status = "over";
        break;
      case "session.new_game":
        // "Same players": back to the lobby of this room; the next game mounts a fresh stage.
        this.status = "lobby";
        this.roster = msg.players.map((p) => ({ ...p }));
        this.settings = msg.settings;
        break;
      case "session.closed":
        this.status = "closed";
        break;
    }
    this._stage(msg);
    this.onChange(this, msg);
  }

  _upsert(player) {
    const known = this.roster.find((p) => p.id === player.id);
    if (known) Object.assign(known, player);
    else if (player.name !== undefined) this.roster.push({ connected: false, ...player });
  }

  async _refreshRoster() {
    try {
      const info = await api(`/api/sessions/${encodeURIComponent(this.code)}`);
      this.roster = info.players;
      this.onChange(this, { type: "roster" });
    } catch { /* the next event will tell */ }
  }

  _stage(msg) {
    const wanted = PLAYING.has(this.status) && this.cartridge;
    if (!wanted) {
      if (this.stage && this.status === "lobby") { this.stage.destroy(); this.stage = null; }
      return;
    }
    if (this.stage) { this.stage.update(msg); return; }
    this.queue.push(msg);
    if (this.mounting) return;
    this.mounting = mountStage(this.stageRoot, {
      slug: this.cartridge,
      role: this.role,
      playerId: this.playerId,
      client: this.client,
      players: this.players,
      audience: () => this.audience,
    }).then((stage) => {
      this.stage = stage;
      this.mounting = null;
      // Start from the newest snapshot in the queue; what came after it follows.
      // A game that has just started also hands over its session.started, so the stage can
      // tell a fresh start (an intro, say) from a reload mid-game.
      const from = this.queue.map((m) => m.type).lastIndexOf("session.snapshot");
      const started = this.queue.slice(0, Math.max(0, from)).filter((m) => m.type === "session.started").slice(-1);
      const pending = [...started, ...this.queue.slice(Math.max(0, from))];
      this.queue = [];
      for (const m of pending) stage.update(m);
      this.onChange(this, { type: "stage" });
    });
  }
}
