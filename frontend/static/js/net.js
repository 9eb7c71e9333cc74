// The standing connection to a realtime server: token, SockJS, auth, requests and reconnects.
//
// `Connection` fetches a token from /api/token (which names the realtime server to use), opens SockJS
// to it, sends {"msg": "auth"} first, and then carries requests: each gets a fresh `req`, and the
// answer (`ack`, `tables`, `pong` or `error`; for a move, the view that carries its `req`) settles its
// promise. Everything else the server pushes
// goes to `onMessage`. When the connection drops it reconnects by itself with backoff, each time with a
// fresh token (which may name another realtime server), and calls `onReady(again=true)` so the app can
// resume its tables. A connection replaced by a newer login of the same user does not come back by
// itself (two tabs would steal it from each other forever); the user can take it back. A server that is
// draining says `move` (naming another server) and closes: the client goes there at once, with a fresh
// token, and resumes. Before its token expires it sends `auth` with a fresh one, so the server keeps it.

import { complete } from "./protocol.js";

const REPLY_KINDS = new Set(["ack", "tables", "pong", "error", "view"]);
// Protocol 2: a move that is applied is answered by this player's new view, carrying the move's `req`
// (no `ack` before it). The view settles the request and reaches the app like any other.
const PROTOCOL = 2;
const BACKOFF_S = [0.25, 0.5, 1, 2, 4, 8, 15];
const REQUEST_TIMEOUT_MS = 12000;
const PING_EVERY_MS = 20000;
const PING_TIMEOUT_MS = 10000;
const CLOSE_AUTH = 4001;
const CLOSE_REPLACED = 4002;
const CLOSE_MOVED = 4009;
const RENEW_AT = 0.8; // of the token's lifetime: fetch a fresh one and send it as `auth`

export class ServerError extends Error {
  constructor(code, text, frame = null) {
    super(text || code);
    this.code = code;
    this.text = text || code;
    this.frame = frame;
  }
}

export class LoggedOut extends Error {}

export async function fetchJSON(path) {
  const response = await fetch(path, {
    credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
  });
  const body = await response.json().catch(() => null);
  if (response.status === 401) throw new LoggedOut("not logged in");
  if (!response.ok) {
    throw new ServerError(body?.error?.code ?? "http", body?.error?.text ?? `HTTP ${response.status}`);
  }
  return body;
}

export class Connection {
  /**
   * @param {object} o
   * @param {string|null} o.transport  force one SockJS transport (e.g. "xhr-polling"), or null
   * @param {(msg: object) => void} o.onMessage  pushed frames (view, chat_line, lobby_update, …)
   * @param {(status: object) => void} o.onStatus  connection state changes, for the status display
   * @param {(welcome: object, again: boolean) => void} o.onReady  authenticated (again: after a drop)
   */
  constructor({ transport = null, onMessage, onStatus, onReady }) {
    this.transport = transport;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.onReady = onReady;
    this.sock = null;
    this.ready = false;
    this.everReady = false;
    this.nextReq = 1;
    this.pending = new Map();
    this.failures = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.status = { state: "idle", text: "Starting…" };
    window.addEventListener("online", () => this.retryNow());
  }

  start() {
    this._connect();
  }

  /** Send a request; resolves with the reply frame, rejects with a ServerError. */
  request(body, timeoutMs = REQUEST_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      if (!this.ready) {
        reject(new ServerError("offline", "Not connected to the server right now; it reconnects by itself."));
        return;
      }
      const req = this.nextReq++;
      const timer = setTimeout(() => {
        this.pending.delete(req);
        reject(new ServerError("timeout", "The server did not answer in time."));
      }, timeoutMs);
      this.pending.set(req, { resolve, reject, timer });
      this._send({ ...body, req });
    });
  }

  /** Reconnect at once (after a replaced connection, or to skip a backoff wait). */
  retryNow() {
    if (this.ready || this.sock || this.connecting) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.failures = 0;
    this._connect();
  }

  // ---- internals ---------------------------------------------------------------------------------

  _setStatus(state, text, extra = {}) {
    this.status = { state, text, transport: this.sock?.transport ?? null, url: this.url ?? null, ...extra };
    this.onStatus?.(this.status);
  }

  _send(message) {
    if (!this.sock || this.sock.readyState !== 1) return false;
    this.sock.send(JSON.stringify(message));
    return true;
  }

  async _connect() {
    if (this.connecting) return;
    this.connecting = true;
    try {
      await this._open();
    } finally {
      this.connecting = false;
    }
  }

  async _open() {
    if (typeof window.SockJS !== "function") {
      this._setStatus("error", "The SockJS client library is missing; cannot connect.");
      return;
    }
    this._setStatus(this.everReady ? "reconnecting" : "connecting",
      this.everReady ? "Reconnecting…" : "Connecting…", { attempt: this.failures });
    let grant;
    try {
      grant = await fetchJSON("/api/token");
    } catch (error) {
      if (error instanceof LoggedOut) {
        this._setStatus("error", "You are logged out.");
        window.location.assign("/login");
        return;
      }
      this._scheduleRetry(`Could not get a token (${error.message})`);
      return;
    }
    // the token names this user's realtime server first; after failures, try the others in turn; a
    // server that moved us named where to go
    const urls = grant.urls?.length ? grant.urls : [grant.url];
    this.url = this.moveTo ?? urls[this.failures % urls.length];
    this.moveTo = null;
    this.grant = grant;
    const options = this.transport ? { transports: [this.transport] } : {};
    const sock = new window.SockJS(this.url, null, options);
    this.sock = sock;
    let authError = null;
    sock.onopen = () => {
      if (this.sock !== sock) return;
      this._setStatus(this.everReady ? "reconnecting" : "connecting", "Signing in…");
      sock.send(JSON.stringify({ msg: "auth", token: grant.token, protocol: PROTOCOL }));
    };
    sock.onmessage = (event) => {
      if (this.sock !== sock) return;
      let msg;
      try {
        msg = complete(JSON.parse(event.data));
      } catch {
        return;
      }
      if (!this.ready) {
        if (msg?.msg === "welcome") this._welcome(msg);
        else if (msg?.msg === "error") authError = msg;
        return;
      }
      this._frame(msg);
    };
    sock.onclose = (event) => {
      if (this.sock !== sock) return;
      this.sock = null;
      const wasReady = this.ready;
      this.ready = false;
      clearInterval(this.pingTimer);
      for (const { reject, timer } of this.pending.values()) {
        clearTimeout(timer);
        reject(new ServerError("disconnected", "The connection dropped before the server answered."));
      }
      this.pending.clear();
      if (event.code === CLOSE_REPLACED) {
        this._setStatus("replaced", "You are signed in elsewhere (another tab or device).");
        return;
      }
      if (event.code === CLOSE_MOVED) { // the server is going away and said where to go: no backoff
        this._setStatus("reconnecting", "Moving to another server…");
        this.failures = 0;
        this._connect();
        return;
      }
      const why = authError?.text ?? (event.code === CLOSE_AUTH ? "sign-in refused" : "connection lost");
      this._scheduleRetry(wasReady ? "Connection lost" : `Could not connect (${why})`);
    };
  }

  _welcome(msg) {
    const again = this.everReady;
    this.ready = true;
    this.everReady = true;
    this.failures = 0;
    this.welcome = msg;
    this._setStatus("connected", "Connected");
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this._ping(), PING_EVERY_MS);
    this._scheduleRenewal();
    this.onReady?.(msg, again);
  }

  /** Before the token expires, send a fresh one as `auth`: the server keeps the connection. */
  _scheduleRenewal() {
    clearTimeout(this.renewTimer);
    const expires = this.grant?.expires;
    if (!expires) return;
    const inMs = Math.max(5000, (expires * 1000 - Date.now()) * RENEW_AT);
    this.renewTimer = setTimeout(async () => {
      try {
        const grant = await fetchJSON("/api/token");
        this.grant = grant;
        if (this.ready && this._send({ msg: "auth", token: grant.token, protocol: PROTOCOL })) {
          this._scheduleRenewal();
        }
      } catch {
        // logged out or unreachable: the server closes at expiry and the reconnect path takes over
      }
    }, inMs);
  }

  _ping() {
    const sock = this.sock;
    this.request({ msg: "ping" }, PING_TIMEOUT_MS).catch(() => {
      if (this.sock === sock && sock) sock.close(4000, "no answer to ping");
    });
  }

  _frame(msg) {
    if (msg?.msg === "move") {
      this.moveTo = msg.url;
      return;
    }
    if (msg?.msg === "welcome") return; // the answer to a renewal
    if (msg && REPLY_KINDS.has(msg.msg) && msg.req != null && this.pending.has(msg.req)) {
      const { resolve, reject, timer } = this.pending.get(msg.req);
      this.pending.delete(msg.req);
      clearTimeout(timer);
      if (msg.msg === "error") reject(new ServerError(msg.code, msg.text, msg));
      else resolve(msg);
      // acks also reach the app (they name the table and seat), and so does a view that answers a move
      if (msg.msg !== "ack" && msg.msg !== "view") return;
    }
    this.onMessage?.(msg);
  }

  _scheduleRetry(reason) {
    clearTimeout(this.retryTimer);
    const base = BACKOFF_S[Math.min(this.failures, BACKOFF_S.length - 1)];
    const delay = base * (0.8 + Math.random() * 0.4);
    this.failures += 1;
    const at = Date.now() + delay * 1000;
    this._setStatus("reconnecting", `${reason}; reconnecting…`, { retryAt: at, attempt: this.failures });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this._connect();
    }, delay * 1000);
  }
}
