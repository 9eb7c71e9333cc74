// The admin console (/admin): polls /admin/state every few seconds and renders the servers, the open
// tables, the live counters and the audit log. Each action (drain or undrain a server, close a table, kick
// a player) is confirmed in a dialog that names its target and asks for a reason, then POSTed with the
// page's CSRF token; close and kick show as pending until the table's game server has carried them out.

import { $, fill, h } from "./dom.js";

const root = $("admin");
const POLL_MS = Number(root?.dataset.pollMs) || 2000;
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
let timer = null;

function ago(seconds) {
  if (seconds < 1) return "just now";
  if (seconds < 90) return `${Math.round(seconds)}s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function age(seconds) {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function clock(ts) {
  return new Date(ts * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function toast(text, kind = "error") {
  const box = $("toasts");
  const close = h("button", { type: "button", class: "ghost close", "aria-label": "Dismiss" }, "×");
  const item = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, h("span", {}, text), close);
  close.addEventListener("click", () => item.remove());
  box.append(item);
  setTimeout(() => item.remove(), 8000);
}

/** Ask before acting: resolves with the reason typed (maybe ""), or null when cancelled. */
function confirmAction({ title, text, confirm }) {
  return new Promise((resolve) => {
    const reason = h("input", { type: "text", id: "admin-reason", maxlength: 200, autocomplete: "off",
      placeholder: "optional; kept in the audit log" });
    const ok = h("button", { type: "submit", class: "primary danger", id: "admin-confirm" }, confirm);
    const cancel = h("button", { type: "button", id: "admin-cancel" }, "Cancel");
    const form = h("form", { method: "dialog" },
      h("h2", { id: "admin-dialog-title" }, title),
      h("p", { id: "admin-dialog-text" }, text),
      h("label", {}, "Reason ", reason),
      h("div", { class: "actions" }, ok, cancel));
    const dialog = h("dialog", { class: "admin-dialog", id: "admin-dialog", "aria-labelledby": "admin-dialog-title",
      "aria-describedby": "admin-dialog-text" }, form);
    const back = document.activeElement;
    const finish = (value) => {
      dialog.close();
      dialog.remove();
      if (back instanceof HTMLElement && back.isConnected) back.focus({ preventScroll: true });
      resolve(value);
    };
    cancel.addEventListener("click", () => finish(null));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      finish(reason.value.trim());
    });
    document.body.append(dialog);
    dialog.showModal();
    reason.focus();
  });
}

async function act(path, body, what) {
  const reason = await confirmAction(what);
  if (reason === null) return;
  try {
    const response = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ ...body, reason }),
    });
    const answer = await response.json().catch(() => null);
    if (answer?.error) toast(answer.error.text);
    else if (!answer) toast(`Refused (HTTP ${response.status}): the page may have expired; reload it and try again.`);
    else toast(answer.result, answer.status === "failed" ? "error" : "info");
  } catch (error) {
    toast(`The request did not go through: ${error.message}`);
  }
  refresh();
}

function serverRow(server) {
  const actions = [];
  if (server.state === "live") {
    actions.push(h("button", { type: "button", class: "small danger", "data-action": "drain",
      onclick: () => act("/admin/drain", { server: server.name }, {
        title: `Drain ${server.name}?`,
        text: server.kind === "gameserver"
          ? `${server.name} hands each of its tables to another game server at a move boundary, then exits.`
          : `${server.name} sends its clients to the other realtime servers, then exits.`,
        confirm: `Drain ${server.name}`,
      }) }, "Drain"));
  } else if (server.state === "draining") {
    actions.push(h("button", { type: "button", class: "small", "data-action": "undrain",
      onclick: () => act("/admin/undrain", { server: server.name }, {
        title: `Undrain ${server.name}?`,
        text: `${server.name} takes new work again (if it has not exited yet).`,
        confirm: `Undrain ${server.name}`,
      }) }, "Undrain"));
  }
  const load = server.capacity ? `${server.load} / ${server.capacity}` : String(server.load);
  return h("tr", { dataset: { name: server.name, state: server.state } },
    h("td", { class: "mono" }, server.name),
    h("td", {}, server.kind === "gameserver" ? "game server" : "realtime"),
    h("td", {}, h("span", { class: `state ${server.state}` }, server.state)),
    h("td", { class: "num" }, load),
    h("td", { class: "num" }, server.moves_per_s === null ? "–" : server.moves_per_s.toFixed(1)),
    h("td", {}, ago(server.lease_age)),
    h("td", { class: "mono" }, server.version),
    h("td", { class: "mono small" }, server.endpoint),
    h("td", { class: "row-actions" }, actions));
}

function tableRow(table) {
  const seats = table.players ?? [];
  const people = seats.map((seat) => {
    if (!seat) return null;
    const label = seat.bot ? `${seat.name} (bot)` : seat.away ? `${seat.name} (away: a bot plays)` : seat.name;
    const stack = seat.stack ? ` · ${seat.stack.toLocaleString()}` : "";
    const kick = seat.bot ? null : h("button", { type: "button", class: "small ghost danger", "data-action": "kick",
      "data-user": seat.user, "aria-label": `Kick ${seat.name}`,
      onclick: () => act("/admin/kick", { table: table.id, user: seat.user }, {
        title: `Kick ${seat.name} from ${table.id}?`,
        text: `${seat.name} is stood up (a bot finishes a game in progress); chips at the table go back to their balance.`,
        confirm: `Kick ${seat.name}`,
      }) }, "Kick");
    return h("li", {}, h("span", {}, label + stack), kick);
  });
  const filled = seats.filter(Boolean).length;
  const close = h("button", { type: "button", class: "small danger", "data-action": "close",
    onclick: () => act("/admin/close", { table: table.id }, {
      title: `Close table ${table.id}?`,
      text: `Table ${table.id} (${table.game}) closes for good: every seated player's chips go back to their balance and everyone watching is told.`,
      confirm: `Close ${table.id}`,
    }) }, "Close");
  return h("tr", { dataset: { table: table.id } },
    h("td", { class: "mono" }, table.id, table.public ? null : h("span", { class: "tag" }, "private")),
    h("td", {}, table.game),
    h("td", {}, table.status),
    h("td", { class: "num" }, `${filled} / ${table.seats}`),
    h("td", {}, table.players ? h("ul", { class: "players" }, people) : h("span", { class: "muted" }, "not reported yet")),
    h("td", { class: "num" }, table.spectators ?? "–"),
    h("td", {}, age(table.age)),
    h("td", { class: "mono" }, table.owner),
    h("td", { class: "row-actions" }, close));
}

const ACTION_WORDS = { drain: "drain", undrain: "undrain", close_table: "close table", kick: "kick" };

function auditRow(row) {
  const target = row.action === "kick" ? `${row.user_name} at ${row.target}` : row.target;
  return h("tr", { dataset: { id: row.id, action: row.action, target: row.target, status: row.status } },
    h("td", {}, clock(row.ts)),
    h("td", {}, row.admin),
    h("td", {}, ACTION_WORDS[row.action] ?? row.action),
    h("td", { class: "mono" }, target),
    h("td", {}, row.reason || h("span", { class: "muted" }, "–")),
    h("td", {}, h("span", { class: `status ${row.status}` }, row.status)),
    h("td", {}, row.result || (row.status === "pending" ? "waiting for the table's game server" : "")));
}

function render(state) {
  $("count-players").textContent = state.counters.players_online.toLocaleString();
  $("count-tables").textContent = state.counters.tables.toLocaleString();
  $("count-moves").textContent = state.counters.moves_per_s.toFixed(1);
  fill($("servers").tBodies[0], state.servers.map(serverRow));
  const tables = state.tables.length
    ? state.tables.map(tableRow)
    : [h("tr", {}, h("td", { colspan: 9, class: "muted" }, "No table is open."))];
  if (state.tables.length < state.counters.tables) {
    tables.push(h("tr", {}, h("td", { colspan: 9, class: "muted" },
      `The newest ${state.tables.length} of ${state.counters.tables.toLocaleString()} open tables are shown.`)));
  }
  fill($("tables").tBodies[0], tables);
  const audit = state.audit.length
    ? state.audit.map(auditRow)
    : [h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No admin action yet."))];
  fill($("audit").tBodies[0], audit);
  $("admin-updated").textContent = `Updated ${clock(state.now)} · every ${POLL_MS / 1000}s`;
  root.dataset.loaded = "true";
}

async function refresh() {
  clearTimeout(timer);
  try {
    const response = await fetch("/admin/state", { credentials: "same-origin", cache: "no-store" });
    if (response.status === 404) {
      window.location.assign("/"); // no longer an admin, or logged out
      return;
    }
    render(await response.json());
  } catch (error) {
    $("admin-updated").textContent = `Could not refresh (${error.message}); trying again`;
  }
  timer = setTimeout(refresh, POLL_MS);
}

if (root) refresh();
