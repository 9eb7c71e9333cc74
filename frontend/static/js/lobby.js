// The lobby page: proves the token flow end to end.
//
// Fetch a token from the frontend (/api/token), open SockJS to the realtime server it names, send
// {"msg": "auth", "token": ...}, show the welcome, ask for the tables, and log every frame received.
// Anything that came from a server is inserted with textContent only, never as HTML.

const MAX_LOG_LINES = 300;
const MAX_BACKOFF_S = 30;

const $ = (id) => document.getElementById(id);
const ui = {
  status: $("status"),
  welcome: $("welcome"),
  tables: $("tables"),
  noTables: $("no-tables"),
  refresh: $("refresh"),
  log: $("log"),
  clearLog: $("clear-log"),
};

let sock = null;
let nextReq = 1;
let failures = 0;
let reconnectTimer = null;

function setStatus(text, state) {
  ui.status.textContent = text;
  ui.status.dataset.state = state;
}

function log(kind, payload) {
  const line = document.createElement("div");
  line.className = `frame ${kind}`;
  const time = document.createElement("time");
  time.textContent = new Date().toLocaleTimeString();
  const arrow = document.createElement("span");
  arrow.className = "dir";
  arrow.textContent = { in: "←", out: "→" }[kind] ?? "•";
  const body = document.createElement("code");
  body.textContent = typeof payload === "string" ? payload : JSON.stringify(payload);
  line.append(time, arrow, body);

  const atBottom = ui.log.scrollTop + ui.log.clientHeight >= ui.log.scrollHeight - 4;
  ui.log.append(line);
  while (ui.log.childElementCount > MAX_LOG_LINES) ui.log.firstElementChild.remove();
  if (atBottom) ui.log.scrollTop = ui.log.scrollHeight;
}

function send(message) {
  if (!sock || sock.readyState !== 1) return;
  sock.send(JSON.stringify(message));
  // The token is a credential: keep it off the screen.
  log("out", message.msg === "auth" ? { ...message, token: "(hidden)" } : message);
}

function listTables() {
  send({ msg: "list_tables", req: nextReq++ });
}

function renderTables(tables) {
  const rows = tables.map((table) => {
    const row = document.createElement("tr");
    const players = (table.players ?? []).map((name) => name ?? "(free)").join(", ");
    for (const value of [table.id, table.game, table.seats, players, table.status]) {
      const cell = document.createElement("td");
      cell.textContent = String(value ?? "");
      row.append(cell);
    }
    return row;
  });
  ui.tables.tBodies[0].replaceChildren(...rows);
  ui.noTables.hidden = rows.length > 0;
}

function onFrame(raw) {
  let message;
  try {
    message = JSON.parse(raw);
  } catch {
    log("in", String(raw));
    return;
  }
  log("in", message);
  switch (message?.msg) {
    case "welcome":
      failures = 0;
      setStatus(`Connected as ${message.name}`, "ok");
      ui.welcome.textContent = `Welcome, ${message.name}! You are connected to the realtime server.`;
      ui.welcome.hidden = false;
      ui.refresh.disabled = false;
      listTables();
      break;
    case "tables":
      renderTables(Array.isArray(message.tables) ? message.tables : []);
      break;
    case "error":
      setStatus(`Server error: ${message.text ?? message.code}`, "error");
      break;
  }
}

async function fetchToken() {
  const response = await fetch("/api/token", {
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json" },
  });
  const body = await response.json().catch(() => null);
  if (response.status === 401) {
    window.location.assign("/login");
    throw new Error("not logged in");
  }
  if (!response.ok || !body?.token) {
    throw new Error(body?.error?.text ?? `HTTP ${response.status}`);
  }
  return body;
}

function scheduleReconnect() {
  if (reconnectTimer !== null) return;
  const delay = Math.min(MAX_BACKOFF_S, 2 ** failures);
  failures += 1;
  log("info", `reconnecting in ${delay} s`);
  reconnectTimer = setTimeout(() => {
    reconnectTimer = null;
    connect();
  }, delay * 1000);
}

async function connect() {
  if (typeof window.SockJS !== "function") {
    setStatus("Cannot connect: the SockJS client library is missing (see above).", "error");
    log("info", "SockJS is not loaded (frontend/static/vendor/sockjs.min.js is missing)");
    return;
  }
  setStatus("Fetching a token…", "busy");
  let grant;
  try {
    grant = await fetchToken();
  } catch (error) {
    setStatus(`Could not get a token: ${error.message}`, "error");
    scheduleReconnect();
    return;
  }
  const expires = new Date(grant.expires * 1000).toLocaleTimeString();
  log("info", `token for ${grant.user.name} (valid until ${expires}); connecting to ${grant.url}`);
  setStatus(`Connecting to ${grant.url}…`, "busy");

  sock = new window.SockJS(grant.url);
  sock.onopen = () => {
    log("info", `open via ${sock.transport ?? "sockjs"}`);
    setStatus("Authenticating…", "busy");
    send({ msg: "auth", token: grant.token });
  };
  sock.onmessage = (event) => onFrame(event.data);
  sock.onclose = (event) => {
    log("info", `closed: ${event.code} ${event.reason ?? ""}`.trim());
    setStatus(`Disconnected (${event.code}${event.reason ? `: ${event.reason}` : ""})`, "error");
    ui.refresh.disabled = true;
    sock = null;
    scheduleReconnect();
  };
}

ui.refresh.addEventListener("click", listTables);
ui.clearLog.addEventListener("click", () => ui.log.replaceChildren());
connect();
