// The lobby: the live list of tables, quick play, and the form that creates a table.
//
// It subscribes with {"msg": "lobby"}: the `tables` reply is the full list, then `lobby_update` pushes
// changed tables and removed ids. Names in the list come from other players: inserted as text.

import { $, fill, h, plural } from "./dom.js";
import { GAMES } from "./games/index.js";
import { tableName } from "./names.js";
import { delayWords } from "./tablewords.js";

const CLOCKS = [["", "Off"], ["10", "10 s"], ["20", "20 s"], ["30", "30 s"], ["60", "1 min"], ["120", "2 min"]];
// How late spectators see a table (the game server holds their frames back); "hand": one hand behind.
const DELAYS = [["0", "Live"], ["10", "10 s late"], ["30", "30 s late"], ["60", "1 min late"], ["hand", "One hand late"]];
// Time banks offered when creating a table (the server's defaults: 30 s, +5 s a hand, up to 60 s).
const BANKS = [["", "30 s, +5 s a hand (default)"], ["none", "None"], ["long", "60 s, +10 s a hand"]];
const BANK_POLICY = { none: { time_bank: 0, bank_refill: 0 }, long: { time_bank: 60, bank_refill: 10, bank_max: 120 } };
const STATUS_WORD = { waiting: "Waiting", playing: "Playing", over: "Finished" };

export class LobbyView {
  constructor(app) {
    this.app = app;
    this.tables = new Map();
    this.loaded = false;
  }

  // ---- data ----------------------------------------------------------------------------------------

  async subscribe() {
    try {
      const reply = await this.app.request({ msg: "lobby", subscribe: true });
      this.setTables(reply.tables ?? []);
    } catch {
      /* shown as a toast; the next reconnect subscribes again */
    }
  }

  setTables(list) {
    const fresh = new Map();
    for (const info of list) fresh.set(info.id, info);
    this.tables = fresh;
    this.loaded = true;
    this.syncInfo();
    this.render();
  }

  update({ tables = [], removed = [] }) {
    for (const info of tables) this.tables.set(info.id, info);
    for (const id of removed) this.tables.delete(id);
    this.syncInfo();
    this.render();
  }

  syncInfo() {
    for (const table of this.app.tables.values()) {
      const info = this.tables.get(table.id);
      if (info) table.info = info;
    }
  }

  info(id) {
    return this.tables.get(id) ?? null;
  }

  list() {
    return [...this.tables.values()];
  }

  // ---- the page ------------------------------------------------------------------------------------

  mount() {
    const quick = $("quick-buttons");
    fill(quick, ...Object.values(GAMES).map((game) => h("button", {
      type: "button", class: "quick", "data-game": game.name,
      onclick: (event) => this.run(event.currentTarget, () => this.app.quickPlay(game.name)),
    }, h("strong", {}, game.title), h("small", {}, game.blurb))));

    const form = $("create-form");
    const select = $("create-game");
    fill(select, ...Object.values(GAMES).map((game) => h("option", { value: game.name }, game.title)));
    fill($("create-clock"), ...CLOCKS.map(([value, label]) => h("option", { value }, label)));
    fill($("create-delay"), ...DELAYS.map(([value, label]) => h("option", { value }, label)));
    fill($("create-bank"), ...BANKS.map(([value, label]) => h("option", { value }, label)));
    select.addEventListener("change", () => this.renderOptions());
    $("sng-on").addEventListener("change", () => this.renderOptions());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run(form.querySelector("button[type=submit]"), () => this.submitCreate());
    });
    $("show-finished").addEventListener("change", () => this.render());
    // a private table is unrated unless its creator says otherwise
    $("create-public").addEventListener("change", (event) => { $("create-rated").checked = event.target.checked; });
    this.renderOptions();
    this.render();
  }

  /** Run a command from a button: disabled meanwhile; errors are already shown by app.request. */
  async run(button, fn) {
    if (button) button.disabled = true;
    try {
      await fn();
    } catch (error) {
      if (!error?.code) this.app.toast(error?.message ?? String(error));
    } finally {
      if (button) button.disabled = false;
    }
  }

  renderOptions() {
    const game = GAMES[$("create-game").value];
    const seats = $("create-seats");
    seats.min = String(game.minSeats);
    seats.max = String(game.maxSeats);
    seats.value = String(game.defaultSeats);
    seats.disabled = game.minSeats === game.maxSeats;
    const byHand = $("create-delay").querySelector("option[value=hand]");
    byHand.disabled = !game.cash; // only cash tables deal hand after hand
    if (byHand.disabled && byHand.selected) $("create-delay").value = "0";
    $("create-seats-range").textContent = game.minSeats === game.maxSeats ? `(always ${game.minSeats})`
      : `(${game.minSeats}–${game.maxSeats})`;
    // Hold'em offers a sit-and-go; its blinds and stacks come from the tournament's settings
    const sng = game.name === "holdem" && $("sng-on").checked;
    $("create-sng").hidden = game.name !== "holdem";
    $("sng-fields").hidden = !sng;
    $("create-options").hidden = sng;
    fill($("create-options"), ...game.options.map((opt) => {
      const id = `opt-${opt.key}`;
      if (opt.type === "bool") {
        return h("label", { class: "check" },
          h("input", { type: "checkbox", id, name: opt.key, checked: opt.default }), " ", opt.label);
      }
      return h("label", { class: "num-field", for: id }, h("span", {}, opt.label),
        h("input", { type: "number", id, name: opt.key, value: opt.default, min: opt.min, max: opt.max, step: 1,
          required: true }), opt.suffix ? h("small", {}, opt.suffix) : null);
    }));
  }

  readCreate() {
    const game = GAMES[$("create-game").value];
    const options = {};
    for (const opt of game.options) {
      const input = $(`opt-${opt.key}`);
      options[opt.key] = opt.type === "bool" ? input.checked : Math.round(Number(input.value));
    }
    const clock = $("create-clock").value;
    const delay = $("create-delay").value;
    const policy = BANK_POLICY[$("create-bank").value];
    const sitAndGo = game.name === "holdem" && $("sng-on").checked ? this.readSitAndGo() : null;
    return {
      game: game.name,
      seats: Math.round(Number($("create-seats").value)),
      ...(sitAndGo ? { sit_and_go: sitAndGo } : {}),
      options,
      clock: clock ? Number(clock) : null,
      public: $("create-public").checked,
      rated: $("create-rated").checked,
      spectator_delay: delay === "hand" ? "hand" : Number(delay),
      ...(policy ? { policy } : {}),
    };
  }

  /** The sit-and-go settings of the form (the server checks them and says what is wrong). */
  readSitAndGo() {
    const int = (id) => Math.round(Number($(id).value));
    const out = { buy_in: int("sng-buy-in"), fee: int("sng-fee"), stack: int("sng-stack") };
    out[$("sng-unit").value === "hands" ? "level_hands" : "level_seconds"] = int("sng-length");
    const text = $("sng-levels").value.trim();
    if (text) {
      out.levels = text.split(/[,;\s]+/).filter(Boolean).map((pair) => pair.split("/").map((x) => Math.round(Number(x))));
    }
    return out;
  }

  async submitCreate() {
    const settings = this.readCreate();
    const fillBots = $("create-bots").checked;
    const id = await this.app.create(settings);
    if (fillBots) {
      await this.app.addBots(id, settings.seats - 1);
    }
  }

  render() {
    const body = $("tables")?.tBodies[0];
    if (!body) return;
    const me = this.app.me?.name;
    const showOver = $("show-finished").checked;
    const order = { waiting: 0, playing: 1, over: 2 };
    const list = this.list().filter((t) => showOver || t.status !== "over" || t.players.includes(me));
    list.sort((a, b) => Number(b.players.includes(me)) - Number(a.players.includes(me)) ||
      (order[a.status] ?? 3) - (order[b.status] ?? 3) || a.id.localeCompare(b.id));
    const rows = list.map((info) => this.row(info, me));
    fill(body, ...rows);
    const empty = $("no-tables");
    empty.hidden = rows.length > 0;
    empty.textContent = this.loaded ? "No tables yet: create one, or use quick play." : "Loading tables…";
    $("lobby-view").dataset.tables = String(rows.length);
  }

  row(info, me) {
    const game = GAMES[info.game];
    const taken = info.players.filter((p) => p !== null).length;
    const free = info.seats - taken;
    const mine = me && info.players.includes(me);
    const players = info.players.map((name) => (name === null
      ? h("span", { class: "free" }, "free")
      : h("span", { class: ["player", name === me && "me"] }, name)));
    const actions = [];
    if (mine && info.status !== "over") {
      actions.push(h("button", { type: "button", class: "small primary open",
        onclick: () => this.app.openTable(info.id) }, "Open"));
    } else if ((info.status === "waiting" || (game?.cash && !info.sit_and_go)) && info.status !== "over" && free > 0) {
      actions.push(h("button", { type: "button", class: "small primary join",
        onclick: (e) => this.run(e.currentTarget, () => this.app.join(info.id)) }, "Join"));
    }
    if (!mine && info.status !== "over") {
      actions.push(h("button", { type: "button", class: "small watch",
        onclick: (e) => this.run(e.currentTarget, () => this.app.watch(info.id)) }, "Watch"));
    }
    const details = [];
    if (info.clock) details.push(`${info.clock}s clock`);
    if (info.spectator_delay) details.push(delayWords(info.spectator_delay));
    if (info.clock && info.policy?.time_bank) details.push(`${info.policy.time_bank}s bank`);
    const opts = info.options ?? {};
    if (info.game === "hearts" && opts.target) details.push(`to ${opts.target}`);
    const sng = info.sit_and_go;
    if (sng) {
      details.push(`Sit & Go · buy-in ${sng.buy_in}${sng.fee ? ` + ${sng.fee}` : ""}`,
        `${taken}/${info.seats} registered`);
    } else if (info.game === "holdem" && opts.big_blind) details.push(`blinds ${opts.small_blind}/${opts.big_blind}`);
    if (info.game === "crazy_eights") {
      for (const opt of game?.options ?? []) if (opts[opt.key]) details.push(opt.label.toLowerCase());
    }
    return h("tr", { "data-table": info.id, "data-game": info.game, "data-status": info.status, class: mine ? "mine" : "",
      "data-kind": sng ? "sit_and_go" : undefined },
      h("td", { "data-label": "Game" }, h("strong", {}, tableName(info.id)), " ",
        h("span", {}, game?.title ?? info.game), " ", h("small", { class: "muted id" }, info.id), details.length ? h("div", { class: "muted small" }, details.join(" · ")) : null),
      h("td", { "data-label": "Players" }, h("div", { class: "players" }, players)),
      h("td", { "data-label": "Seats", class: "num" }, `${taken}/${info.seats}`,
        free && info.status === "waiting" ? h("div", { class: "muted small" }, `${plural(free, "seat")} free`) : null),
      h("td", { "data-label": "Status" }, h("span", { class: `badge status-${info.status}` }, STATUS_WORD[info.status] ?? info.status)),
      h("td", { "data-label": "Watching", class: "num spectators" }, String(info.spectators ?? 0)),
      h("td", { class: "actions" }, h("div", { class: "row-actions" }, actions)));
  }
}
