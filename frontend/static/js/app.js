// The browser client: one connection, the lobby, and the tables this player is at.
//
// `App` owns the connection (net.js), routes between the lobby ("/") and a table ("/table/<id>") without
// reloading, dispatches pushed frames to the right table, shows the connection state and every server
// error as a readable message, and composes the multi-step commands (quick play, rematch). After a
// reconnect it subscribes to the lobby again and resumes every table it was at, from the last seq seen.
// It also holds what every table shares: the announcer (live region), motion, sound, and the balance.
// A private table's invite code comes from its link (`/table/<id>?invite=<code>`) or, for its creator,
// from the table's own view; every join, watch and resume of that table carries it.

import { Announcer } from "./announce.js";
import { suitIcon } from "./cards.js";
import { buyInDialog } from "./dialogs.js";
import { tickBanks } from "./policy.js";
import { $, formatChips, h } from "./dom.js";
import { GAMES } from "./games/index.js";
import { LobbyView } from "./lobbyview.js";
import { Motion } from "./motion.js";
import { Connection, fetchJSON, LoggedOut } from "./net.js";
import { Sound } from "./sound.js";
import { TableController } from "./table.js";

const TOASTS_SHOWN = 4;
const TOAST_MS = 7000;
const TABLE_PATH = /^\/table\/([A-Za-z0-9_-]+)\/?$/;
const CLOCK_LOW_S = 5;
const BALANCE_POLL_MS = 1500;
const BALANCE_POLL_FOR_MS = 120000;

export class App {
  constructor() {
    const params = new URLSearchParams(location.search);
    this.transport = params.get("transport") || null;
    this.debug = params.has("debug");
    this.tables = new Map(); // table id -> TableController, for every table this player is at
    this.current = null;
    this.me = null;
    this.settingsOf = new Map(); // table id -> the create_table settings, for rematches
    this.created = new Set(JSON.parse(sessionStorage.getItem("felt.created") ?? "[]"));
    this.invites = new Map(); // table id -> its invite code (private tables), from a link or its view
    this.net = new Connection({
      transport: this.transport,
      onMessage: (msg) => this.onMessage(msg),
      onStatus: (status) => this.showStatus(status),
      onReady: (welcome, again) => this.onReady(welcome, again),
    });
    this.lobby = new LobbyView(this);
    this.announcer = new Announcer();
    this.motion = new Motion();
    this.sound = new Sound();
    document.addEventListener("keydown", (event) => this.onKey(event));
    window.addEventListener("popstate", () => this.route(false));
    let resizing = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizing);
      resizing = setTimeout(() => this.current?.render(), 60);
    });
    setInterval(() => this.tick(), 250);
  }

  start() {
    this.lobby.mount();
    this.sound.mount();
    this.toastHome = $("toasts")?.parentElement ?? null;
    this.toastNext = $("toasts")?.nextSibling ?? null;
    $("conn-retry")?.addEventListener("click", () => this.net.retryNow());
    this.route(false);
    this.net.start();
    this.refreshMe();
  }

  // ---- connection ----------------------------------------------------------------------------------

  onReady(welcome, again) {
    this.me = { user: welcome.user, name: welcome.name };
    document.body.dataset.user = welcome.name;
    this.lobby.subscribe();
    for (const table of this.tables.values()) this.resumeTable(table);
    if (again) this.toast("Reconnected.", "info");
  }

  async resumeTable(table) {
    try {
      await table.resume();
    } catch (error) {
      if (["no_table", "not_seated"].includes(error.code)) {
        this.toast(`Table ${table.id}: ${error.text}`);
        this.forget(table.id);
        if (this.current === table) this.showLobby();
      } else if (error.code === "unavailable") {
        table.onTableStatus({ table: table.id, available: false, text: error.text });
      } else if (error.code !== "disconnected") {
        this.toast(`Could not resume ${table.id}: ${error.text}`);
      }
    }
  }

  showStatus(status) {
    const el = $("conn");
    if (!el) return;
    el.dataset.state = status.state;
    el.dataset.transport = status.transport ?? "";
    el.dataset.url = status.url ?? "";
    this.connStatus = status;
    this.renderStatus();
    const retry = $("conn-retry");
    if (retry) {
      retry.hidden = !(status.state === "replaced" || (status.state === "reconnecting" && status.retryAt));
      retry.textContent = status.state === "replaced" ? "Use here" : "Retry now";
    }
  }

  renderStatus() {
    const status = this.connStatus;
    const text = $("conn-text");
    if (!status || !text) return;
    let words = status.text;
    if (status.state === "connected") words = "Connected";
    else if (status.state === "reconnecting" && status.retryAt) {
      const secs = Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000));
      words = `${status.text} ${secs ? `in ${secs}s` : "now"}`;
    }
    if (text.textContent !== words) text.textContent = words;
    $("conn").title = status.url ? `Realtime server: ${status.url} (${status.transport ?? "sockjs"})` : "";
  }

  request(body, { quiet = false } = {}) {
    return this.net.request(body).catch((error) => {
      if (!quiet) this.toast(error.text ?? error.message);
      throw error;
    });
  }

  onMessage(msg) {
    if (this.debug) console.debug("felt ←", msg);
    switch (msg?.msg) {
      case "view":
        this.tableFor(msg.table).onView(msg);
        break;
      case "game_over":
        this.tables.get(msg.table)?.onGameOver(msg);
        break;
      case "chat_line":
        this.tables.get(msg.table)?.onChat(msg);
        break;
      case "chat_history":
        this.tables.get(msg.table)?.onChatHistory(msg);
        break;
      case "table_status":
        this.tables.get(msg.table)?.onTableStatus(msg);
        break;
      case "lobby_update":
        this.lobby.update(msg);
        break;
      case "tables":
        this.lobby.setTables(msg.tables ?? []);
        break;
      case "error":
        this.toast(msg.text ?? msg.code);
        if (msg.table) this.tables.get(msg.table)?.onError(msg);
        break;
      default:
        break;
    }
  }

  // ---- messages to the person ----------------------------------------------------------------------

  toast(text, kind = "error") {
    const box = $("toasts");
    if (!box) return;
    const close = h("button", { type: "button", class: "ghost close", "aria-label": "Dismiss" }, "×");
    const item = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" },
      h("span", {}, String(text)), close);
    close.addEventListener("click", () => item.remove());
    box.append(item);
    while (box.childElementCount > TOASTS_SHOWN) box.firstElementChild.remove();
    setTimeout(() => item.remove(), TOAST_MS);
  }

  async refreshMe() {
    const ask = (this.meAsked = (this.meAsked ?? 0) + 1);
    try {
      const { user } = await fetchJSON("/api/me");
      if (ask !== this.meAsked) return; // a later ask is on its way: its answer is the newer one
      this.balance = user.chips;
      this.renderBalance();
      return user.chips;
    } catch (error) {
      if (error instanceof LoggedOut) window.location.assign("/login");
      return null;
    }
  }

  /** The balance as last heard (the page's own figure until /api/me answers), or null. */
  knownBalance() {
    if (typeof this.balance === "number") return this.balance;
    const shown = Number($("chips")?.dataset.chips);
    return Number.isFinite(shown) ? shown : null;
  }

  /** The header: the account balance, and the chips in front of this player at the table on screen. */
  renderBalance() {
    const chips = $("chips");
    if (!chips) return;
    if (this.balance !== undefined) {
      chips.dataset.chips = String(this.balance);
      const text = `${formatChips(this.balance)} chips`;
      const main = chips.querySelector(".bal") ?? chips;
      if (main.textContent !== text) main.textContent = text;
    }
    const table = this.current;
    const frame = table?.frame;
    const stack = frame?.cash && frame.seat !== null && frame.seat !== undefined
      ? (typeof frame.view?.street === "string" ? frame.view.stacks?.[frame.seat] : frame.cash.table_stacks?.[frame.seat])
      : null;
    let at = $("chips-at-table");
    if (stack === null || stack === undefined) {
      at?.remove();
      return;
    }
    if (!at) {
      at = h("span", { class: "at-table", id: "chips-at-table" });
      chips.after(at);
    }
    at.dataset.chips = String(stack);
    at.textContent = `+ ${formatChips(stack)} at the table`;
  }

  /** After standing up mid-hand the stack comes back when the hand ends: ask until the balance moves. */
  async watchBalance(from) {
    const until = Date.now() + BALANCE_POLL_FOR_MS;
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, BALANCE_POLL_MS));
      const now = await this.refreshMe();
      if (now !== null && now !== from) return;
    }
  }

  /** The toasts' box: in the play area at a table (it takes room there, never covering the controls). */
  toastBox() {
    return $("toasts") ?? h("div", { id: "toasts", class: "toasts" });
  }

  suitIcon(suit) {
    return suitIcon(suit, "suit-icon big");
  }

  // ---- routing -------------------------------------------------------------------------------------

  route(push) {
    const match = TABLE_PATH.exec(location.pathname);
    const invite = new URLSearchParams(location.search).get("invite");
    if (match && invite) this.invites.set(match[1], invite);
    if (match) this.openTable(match[1], { push });
    else this.showLobby({ push });
  }

  /** `path` with this page's query (`?transport=`…), and a private table's invite code only with its page. */
  url(path, invite = null) {
    const params = new URLSearchParams(location.search);
    params.delete("invite");
    if (invite) params.set("invite", invite);
    const query = params.toString();
    return query ? `${path}?${query}` : path;
  }

  /** The link that lets someone into a private table (null while its code is unknown here). */
  inviteLink(id) {
    const code = this.invites.get(id);
    return code ? `${location.origin}/table/${id}?invite=${encodeURIComponent(code)}` : null;
  }

  /** A request about table `id`, with its invite code when this page has one. */
  withInvite(id, body) {
    const invite = this.invites.get(id);
    return invite ? { ...body, invite } : body;
  }

  tableFor(id) {
    let table = this.tables.get(id);
    if (!table) {
      table = new TableController(this, id);
      table.info = this.lobby.info(id);
      this.tables.set(id, table);
    }
    return table;
  }

  forget(id) {
    this.tables.delete(id);
    this.lobby.render();
  }

  openTable(id, { push = true } = {}) {
    const fresh = !this.tables.has(id);
    const table = this.tableFor(id);
    this.current = table;
    $("lobby-view").hidden = true;
    $("table-view").hidden = false;
    document.body.dataset.view = "table";
    if (push && location.pathname !== `/table/${id}`) {
      history.pushState({}, "", this.url(`/table/${id}`, this.invites.get(id)));
    }
    document.title = `${table.game?.title ?? "Table"} ${id} · Felt`;
    window.scrollTo(0, 0); // a table opens at its top, whatever the lobby's scroll was
    table.mount();
    if (fresh && this.net.ready && !table.frame) this.resumeTable(table);
    return table;
  }

  showLobby({ push = true } = {}) {
    this.current = null;
    $("table-view").hidden = true;
    $("lobby-view").hidden = false;
    document.body.dataset.view = "lobby";
    const toasts = $("toasts");
    if (toasts && this.toastHome && toasts.parentElement !== this.toastHome) this.toastHome.insertBefore(toasts, this.toastNext);
    $("chips-at-table")?.remove();
    if (push && location.pathname !== "/") history.pushState({}, "", this.url("/"));
    document.title = "Lobby · Felt";
    this.lobby.render();
  }

  /** Leave the table on screen (a seat mid-game is played by a bot until its player resumes). */
  async backToLobby({ midHand = false } = {}) {
    const table = this.current;
    this.showLobby();
    if (!table) return;
    this.forget(table.id);
    const cash = !!table.game?.cash && table.mySeat !== null;
    const before = this.balance;
    try {
      await this.request({ msg: "leave", table: table.id }, { quiet: true });
    } catch {
      /* not seated any more, or the table is gone: nothing to leave */
    }
    const now = await this.refreshMe();
    if (cash && midHand && now === before) {
      this.toast("You stand up when this hand ends; your chips come back to your balance then.", "info");
      this.watchBalance(now);
    }
  }

  // ---- commands --------------------------------------------------------------------------------------

  mayAddBots(table) {
    // the server names the creator in every view; older frames fall back to what this browser knows
    const creator = table.frame?.creator;
    if (creator) return creator === this.me?.user;
    return this.created.has(table.id) || table.mySeat === 0;
  }

  rememberCreated(id, settings) {
    this.created.add(id);
    this.settingsOf.set(id, settings);
    sessionStorage.setItem("felt.created", JSON.stringify([...this.created].slice(-50)));
  }

  /** Create a table; at a cash table the creator first chooses a buy-in (null if they cancel). */
  async create(settings) {
    const send = async (extra = {}) => {
      const balance = this.knownBalance();
      if (extra.buy_in !== undefined && balance !== null && extra.buy_in > balance) {
        // the server would make the table and seat nobody: say so here, before anything is made
        throw new Error(`You have ${formatChips(balance)} chips; this buy-in needs ${formatChips(extra.buy_in)}.`);
      }
      const reply = await this.request({ msg: "create_table", ...settings, ...extra }, { quiet: true });
      return reply.table;
    };
    let id;
    if (settings.sit_and_go) { // the entry (buy-in and fee) is fixed: no buy-in to choose
      const cost = settings.sit_and_go.buy_in + (settings.sit_and_go.fee ?? 0);
      const balance = this.knownBalance();
      if (balance !== null && cost > balance) {
        throw new Error(`You have ${formatChips(balance)} chips; this sit-and-go costs ${formatChips(cost)}.`);
      }
      id = await send().catch((error) => {
        this.toast(error.text ?? error.message);
        throw error;
      });
    } else if (GAMES[settings.game]?.cash) {
      const game = GAMES[settings.game];
      const option = (key) => settings.options?.[key] ?? game.options.find((o) => o.key === key)?.default;
      id = await buyInDialog({ low: option("min_buy_in"), high: option("max_buy_in"), balance: this.knownBalance(),
        title: "Buy in to your new table", submit: (amount) => send({ buy_in: amount }) });
      if (id === null) return null;
    } else {
      id = await send().catch((error) => {
        this.toast(error.text ?? error.message);
        throw error;
      });
    }
    this.rememberCreated(id, settings);
    this.openTable(id);
    this.refreshMe(); // a cash table takes the buy-in from the balance
    return id;
  }

  async join(id, seat = null) {
    const info = this.lobby.info(id) ?? this.tables.get(id)?.info;
    const body = this.withInvite(id, { msg: "join", table: id });
    if (seat !== null && seat !== undefined) body.seat = seat;
    const frame = this.tables.get(id)?.frame;
    if (GAMES[info?.game ?? frame?.game]?.cash && !(info?.sit_and_go ?? frame?.sit_and_go)) {
      const cash = frame?.cash ?? {};
      const done = await buyInDialog({ low: info?.options?.min_buy_in ?? cash.min_buy_in,
        high: info?.options?.max_buy_in ?? cash.max_buy_in, balance: this.knownBalance(),
        submit: (amount) => this.request({ ...body, buy_in: amount }, { quiet: true }).then(() => true) });
      if (done === null) return false;
    } else {
      await this.request(body);
    }
    this.openTable(id);
    this.refreshMe();
    return true;
  }

  async watch(id) {
    await this.request(this.withInvite(id, { msg: "watch", table: id }));
    this.openTable(id);
  }

  async addBots(id, count) {
    for (let i = 0; i < count; i += 1) await this.request({ msg: "add_bot", table: id });
  }

  async waitForView(id, test = () => true, ms = 3000) {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const frame = this.tables.get(id)?.frame;
      if (frame && test(frame)) return frame;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.tables.get(id)?.frame ?? null;
  }

  /** Quick play: sit at a waiting public table of this game, or make one, fill it with bots, start. */
  async quickPlay(game) {
    const meta = GAMES[game];
    const mine = this.me?.name;
    const open = this.lobby.list().filter((t) => t.game === game && t.public !== false && t.players.includes(null) &&
      !t.players.includes(mine) && (t.status === "waiting" || (meta.cash && t.status === "playing")));
    open.sort((a, b) => b.players.filter(Boolean).length - a.players.filter(Boolean).length);
    for (const info of open) {
      try {
        if (!(await this.join(info.id))) return;
      } catch {
        continue; // taken meanwhile: try the next one
      }
      const frame = await this.waitForView(info.id);
      if (meta.cash) await this.request({ msg: "start", table: info.id }, { quiet: true }).catch(() => {});
      else if (frame && !frame.players.includes(null)) await this.request({ msg: "start", table: info.id });
      return;
    }
    const settings = { game, seats: meta.quickSeats ?? meta.defaultSeats, options: {}, clock: null, public: true };
    const id = await this.create(settings);
    if (id === null) return;
    await this.addBots(id, settings.seats - 1);
    await this.request({ msg: "start", table: id });
  }

  /** A new table with the same settings; bots take the seats bots had; it starts when it is full. */
  async rematch(table) {
    const frame = table.frame;
    let settings = this.settingsOf.get(table.id);
    if (!settings) {
      let info = table.info ?? this.lobby.info(table.id);
      try {
        const reply = await this.request({ msg: "list_tables" }, { quiet: true });
        info = reply.tables.find((t) => t.id === table.id) ?? info;
      } catch {
        /* use what we have */
      }
      settings = { game: frame.game, seats: frame.players.length, options: info?.options ?? {},
        clock: info?.clock ?? null, public: info?.public ?? true };
    }
    const bots = (frame.bots ?? []).filter((seat) => seat !== frame.seat).length;
    const humans = frame.players.length - 1 - bots;
    this.forget(table.id);
    this.request({ msg: "leave", table: table.id }, { quiet: true }).catch(() => {});
    const id = await this.create(settings);
    if (id === null) return;
    await this.addBots(id, bots);
    if (humans === 0) await this.request({ msg: "start", table: id });
    else this.toast(`Rematch table ${id} is open: the other players can join it from the lobby.`, "info");
  }

  // ---- time and keys ---------------------------------------------------------------------------------

  tick() {
    const now = Date.now() / 1000;
    const table = this.current;
    const deadline = table?.frame?.deadline;
    if (deadline && table.myTurn() && deadline - now < CLOCK_LOW_S && deadline > now && table.lowWarned !== deadline) {
      table.lowWarned = deadline;
      this.sound.play("clock");
    }
    tickBanks(now);
    for (const el of document.querySelectorAll(".countdown[data-deadline]")) {
      const deadline = Number(el.dataset.deadline);
      const banked = now > deadline && !!el.dataset.bankEnd; // the turn clock ran out: the time bank runs
      el.classList.toggle("banked", banked);
      const left = Math.max(0, (banked ? Number(el.dataset.bankEnd) : deadline) - now);
      const text = `${Math.ceil(left)}s`;
      if (el.textContent !== text) el.textContent = text;
      el.classList.toggle("urgent", left < 5);
      const clock = Number(el.dataset.clock);
      if (clock > 0) el.style.setProperty("--left", String(Math.min(1, left / clock)));
    }
    if (this.connStatus?.state === "reconnecting") this.renderStatus();
  }

  onKey(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target instanceof HTMLElement && target.closest("input, textarea, select, dialog, [contenteditable]")) return;
    if (!this.current || $("table-view").hidden) return;
    if (this.current.onKey(event)) event.preventDefault();
  }
}


