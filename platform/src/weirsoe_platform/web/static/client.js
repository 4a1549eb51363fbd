// The one game client: a WebSocket to /ws/game/{code} that reconnects, keeps versions in
// order, resyncs on gaps, measures the server clock and turns actions into Promises.
// See docs/events.md for the protocol.

export const CLOSE = Object.freeze({
  TRY_AGAIN: 1013, // store unavailable: retry with backoff
  UNAUTHORIZED: 4401,
  FORBIDDEN: 4403,
  ROOM_NOT_FOUND: 4404,
  KICKED: 4408, // removed by the host: the token is revoked, so never reconnect
  ROOM_CLOSED: 4410,
});
const FATAL = new Set([CLOSE.UNAUTHORIZED, CLOSE.FORBIDDEN, CLOSE.ROOM_NOT_FOUND, CLOSE.KICKED, CLOSE.ROOM_CLOSED]);
const PING_EVERY_MS = 20_000;
const ACTION_TIMEOUT_MS = 20_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15_000;
const DIRECT = new Set(["pong", "ack", "error"]);

export class GameClient {
  /**
   * @param {object} o
   * @param {string} o.code room code
   * @param {"host"|"player"|"audience"} o.role
   * @param {string} [o.token]
   * @param {(msg: object) => void} o.onMessage every accepted snapshot or event, in order
   * @param {(state: "connecting"|"open"|"reconnecting"|"closed") => void} [o.onState]
   * @param {(close: {code: number, reason: string}) => void} [o.onFatal] 4401/4403/4404/4408/4410
   */
  constructor({ code, role, token, onMessage, onState = () => {}, onFatal = () => {} }) {
    Object.assign(this, { code, role, token, onMessage, onState, onFatal });
    this.version = 0;
    this.offsetMs = 0; // server clock minus local clock
    this.bestRtt = Infinity;
    this.pending = new Map(); // action id -> {resolve, reject, frame, timer}
    this.attempt = 0;
    this.seq = 0;
    this.prefix = Math.random().toString(36).slice(2, 8);
    this.stopped = false;
    this.deadline = null; // server seconds
    this.total = null;
    this.pausedLeft = null;
  }

  start() {
    this.stopped = false;
    this._open();
    window.addEventListener("online", this._wake);
    return this;
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this._wake);
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.ws?.close(1000, "bye");
    for (const p of this.pending.values()) this._settle(p, null, { code: "stopped", message: "the page closed the connection" });
  }

  /** Send a cartridge action; resolves with the `ack`, rejects with the `error` {code, message, field}. */
  action(action) {
    return this._request((id) => JSON.stringify({ type: "action", id, action }));
  }

  /** An audience member's vote in an open tally; resolves with the `ack`, rejects with the `error`. */
  vote(tally, choice) {
    return this._request((id) => JSON.stringify({ type: "vote", id, tally, choice }));
  }

  _request(build) {
    const id = `${this.prefix}-${++this.seq}`;
    const frame = build(id);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._settle(this.pending.get(id), null, { code: "timeout", message: "no answer from the server" });
      }, ACTION_TIMEOUT_MS);
      this.pending.set(id, { id, resolve, reject, frame, timer });
      this._send(frame); // if closed, it is sent again (same id, never applied twice) on reconnect
    });
  }

  /** Ask for a fresh snapshot. */
  sync() {
    this.syncing = true;
    this.buffer = [];
    this._send('{"type":"sync"}');
  }

  /** The server's clock, in seconds since the epoch. */
  now() {
    return (Date.now() + this.offsetMs) / 1000;
  }

  /** The running (or paused) deadline: {left, total, paused} in seconds, or null. */
  timer() {
    if (this.pausedLeft !== null) return { left: this.pausedLeft, total: this.total ?? this.pausedLeft, paused: true };
    if (this.deadline === null) return null;
    const left = Math.max(0, this.deadline - this.now());
    return { left, total: this.total ?? left, paused: false };
  }

  // -- connection ---------------------------------------------------------------------------
  _wake = () => {
    if (this.stopped || this.ws?.readyState === WebSocket.OPEN) return;
    clearTimeout(this.retryTimer);
    this._open();
  };

  _open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = new URLSearchParams({ role: this.role });
    if (this.token) query.set("token", this.token);
    const url = `${scheme}://${location.host}/ws/game/${encodeURIComponent(this.code)}?${query}`;
    this.onState(this.attempt ? "reconnecting" : "connecting");
    const ws = (this.ws = new WebSocket(url));
    this.fresh = true;
    this.syncing = false;
    this.buffer = [];
    ws.onopen = () => {
      this._ping();
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this._ping(), PING_EVERY_MS);
    };
    ws.onmessage = (e) => this._receive(e.data);
    ws.onclose = (e) => this._closed(ws, e.code, e.reason);
  }

  _closed(ws, code, reason) {
    if (ws !== this.ws) return;
    clearInterval(this.pingTimer);
    if (this.stopped) return;
    if (FATAL.has(code)) {
      this.stopped = true;
      this.onState("closed");
      for (const p of this.pending.values()) this._settle(p, null, { code: "closed", message: "the room is closed" });
      this.onFatal({ code, reason });
      return;
    }
    // 1013 (store unavailable), network loss, server restart: back off with jitter and retry.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt++);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.onState("reconnecting");
    this.retryTimer = setTimeout(() => this._open(), delay);
  }

  _send(frame) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  _ping() {
    this.pingSent = Date.now();
    this._send('{"type":"ping"}');
  }

  // -- messages -----------------------------------------------------------------------------
  _receive(raw) {
    let msg;
    try { msg = JSON.parse(raw); } catch { return; }
    if (DIRECT.has(msg.type)) this._direct(msg);
    else if (msg.type === "audience.tally") this.onMessage(msg); // progress: no version, never a gap
    else if (msg.type === "session.snapshot") this._snapshot(msg);
    else if (typeof msg.version === "number") this._event(msg);
  }

  _event(msg) {
    if (this.syncing) { this.buffer.push(msg); return; }
    // Several events may share one version; a version already covered by a snapshot is old.
    if (msg.version < this.version || (msg.version === this.version && this.fromSnapshot)) return;
    if (msg.version > this.version + 1) {
      this.buffer = [msg];
      this.syncing = true;
      this._send('{"type":"sync"}');
      return;
    }
    this._accept(msg, false);
  }

  _snapshot(msg) {
    if (!this.fresh && !this.syncing && msg.version < this.version) return;
    const buffered = this.buffer || [];
    const reconnected = this.fresh;
    this.fresh = this.syncing = false;
    this.buffer = [];
    this.attempt = 0;
    this._accept(msg, true);
    this.onState("open");
    if (reconnected) for (const p of this.pending.values()) this._send(p.frame);
    for (const m of buffered) if (m.version > msg.version) this._event(m);
  }

  _accept(msg, fromSnapshot) {
    this.version = msg.version;
    this.fromSnapshot = fromSnapshot;
    if (typeof msg.ts === "number" && this.bestRtt === Infinity) this.offsetMs = msg.ts * 1000 - Date.now();
    this._clock(msg);
    this.onMessage(msg);
  }

  _clock(msg) {
    const paused = msg.type === "session.paused" || (msg.type === "session.snapshot" && msg.status === "paused");
    if (paused) {
      this.pausedLeft = msg.remaining ?? null;
      this.deadline = null;
      return;
    }
    const deadline = msg.deadline ?? null;
    if (deadline !== null && deadline !== this.deadline) {
      // A resumed deadline keeps the length of its phase; a new one starts a new phase.
      if (this.pausedLeft === null || this.total === null) this.total = Math.max(0, deadline - msg.ts);
    }
    if (deadline === null) this.total = null;
    this.deadline = deadline;
    this.pausedLeft = null;
  }

  _direct(msg) {
    if (msg.type === "pong") {
      const rtt = Date.now() - this.pingSent;
      if (rtt <= this.bestRtt * 1.5 || rtt < 200) {
        this.bestRtt = Math.min(this.bestRtt, rtt);
        this.offsetMs = msg.ts * 1000 + rtt / 2 - Date.now();
      }
      return;
    }
    const p = msg.id ? this.pending.get(msg.id) : null;
    if (!p) {
      if (msg.type === "error") console.warn("server error", msg.code, msg.message);
      return;
    }
    if (msg.type === "ack") this._settle(p, msg, null);
    else this._settle(p, null, { code: msg.code, message: msg.message, field: msg.field ?? null });
  }

  _settle(p, ack, error) {
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(p.id);
    if (error) p.reject(Object.assign(new Error(error.message), error));
    else p.resolve(ack);
  }
}
