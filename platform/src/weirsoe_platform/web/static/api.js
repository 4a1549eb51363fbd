// REST helpers and the little the browser remembers (seats and host tokens). A host's sign-in
// lives only in the server's HttpOnly cookie, out of reach of any script.

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `request failed (${status})`);
    this.status = status;
    this.code = err.code || `http_${status}`;
    this.field = err.field || null;
  }
}

/** fetch() a JSON API; resolves with the body, rejects with ApiError {status, code, message, field}. */
export async function api(path, { method = "GET", body, token } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, { error: { code: "offline", message: "cannot reach the server; check your connection" } });
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// -- what this browser remembers --------------------------------------------------------------
function read(store, key) {
  try { return JSON.parse(store.getItem(key) || "null"); } catch { return null; }
}

function write(store, key, value) {
  try {
    if (value === null) store.removeItem(key);
    else store.setItem(key, JSON.stringify(value));
  } catch { /* private mode: the seat lasts as long as the page */ }
}

/** This browser's seat in a room: {player_id, token, name} or null. */
export const seat = (code) => read(localStorage, `weirsoe.seat.${code.toUpperCase()}`);
export const saveSeat = (code, value) => write(localStorage, `weirsoe.seat.${code.toUpperCase()}`, value);

/** The host token of a room this browser opened, or null. */
export const hostToken = (code) => read(localStorage, `weirsoe.host.${code.toUpperCase()}`);
export const saveHostToken = (code, token) => write(localStorage, `weirsoe.host.${code.toUpperCase()}`, token);

/**
 * Accounts are optional: {available: false} where the server has none (404),
 * {available: true, user: null} when logged out, {available: true, user} when logged in.
 * Asks /api/auth/status first, so a page with nobody signed in logs no 401.
 */
export async function currentUser() {
  try {
    const status = await api("/api/auth/status");
    if (!status?.signed_in) return { available: true, user: null };
    const me = await api("/api/auth/me");
    const user = (me && (me.user || me)) || {};
    return { available: true, user: { ...user, name: user.username || user.name || "you" } };
  } catch (err) {
    if (err.status === 404 && err.code !== "user_not_found") return { available: false, user: null };
    return { available: err.status === 401 || err.status === 403, user: null };
  }
}

/** A notice carried to the landing page (why you were sent back). */
export function sendHome(notice, code) {
  const query = new URLSearchParams({ notice });
  if (code) query.set("code", code);
  location.replace(`/?${query}`);
}
