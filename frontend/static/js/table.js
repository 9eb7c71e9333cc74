// One table as this player sees it: seats, the game's middle, the hand, controls, scores, events, chat.
//
// A `TableController` holds what the server said about one table (the latest `view` frame, the events
// in words, chat, the `game_over` result, whether its game server is reachable) and renders it into the
// table view when it is the table on screen. Game-specific parts (the middle, controls, words for
// events, scores) come from the game's module in games/. Text from other players is inserted as text.

import { cardFace } from "./cards.js";
import { $, fill, h } from "./dom.js";
import { GAMES, gameOf } from "./games/index.js";
import { actionOf, mayAct } from "./legal.js";

const EVENTS_KEPT = 60;
const CHAT_KEPT = 200;

export class TableController {
  constructor(app, id) {
    this.app = app;
    this.id = id;
    this.frame = null;
    this.seq = 0;
    this.events = [];
    this.chat = [];
    this.over = null; // the game_over frame
    this.resultDismissed = false;
    this.available = true;
    this.statusText = "";
    this.busy = false; // an action was sent and its answer is not in yet
    this.passSel = new Set();
    this.passKey = "";
    this.picker = null; // {card, entry, suits}: a card whose legal entry asks for a suit (a Crazy Eights 8)
    this.info = null; // TableInfo from the lobby, when known
  }

  // ---- what the server says ----------------------------------------------------------------------

  get game() {
    return gameOf(this.frame?.game || this.info?.game);
  }

  get mySeat() {
    return this.frame?.seat ?? null;
  }

  onView(frame) {
    if (this.frame && frame.seq < this.seq) return; // older than what is on screen
    const first = !this.frame;
    this.frame = frame;
    this.seq = frame.seq;
    this.busy = false;
    this.available = true;
    this.statusText = "";
    const ctx = this.context();
    for (const event of frame.events ?? []) {
      let text = null;
      try {
        text = this.game?.describe(event, ctx) ?? null;
      } catch {
        text = null;
      }
      if (text) this.events.push({ text, kind: event.kind, seq: frame.seq });
    }
    if (first && frame.status === "waiting") this.events.push({ text: "You are at the table.", seq: frame.seq });
    this.events.splice(0, Math.max(0, this.events.length - EVENTS_KEPT));
    if (frame.status !== "over") {
      this.over = null;
      this.resultDismissed = false;
    }
    this.render();
  }

  onGameOver(msg) {
    this.over = msg;
    this.lastResult = { ...msg, hand_no: this.frame?.cash?.hand_no ?? null };
    this.resultDismissed = false;
    this.render();
    this.app.refreshMe();
  }

  onChat(msg) {
    this.chat.push(msg);
    this.chat.splice(0, Math.max(0, this.chat.length - CHAT_KEPT));
    if (this.isOnScreen()) this.renderChat(true);
  }

  onTableStatus(msg) {
    this.available = !!msg.available;
    this.statusText = msg.text || (msg.available ? "" : "This table's game server is not reachable.");
    if (this.isOnScreen()) this.renderBanner();
    if (msg.available) this.resume().catch(() => {});
  }

  onError(msg) {
    this.busy = false;
    if (msg.code === "stale") this.resume().catch(() => {});
    if (this.isOnScreen()) this.render();
  }

  /** Re-attach after a reconnect (or on opening the page at this table): missed events + the view. */
  resume() {
    return this.app.request({ msg: "resume", table: this.id, last_seq: this.seq }, { quiet: true });
  }

  // ---- acting ------------------------------------------------------------------------------------

  /** Send a game action; `seq` guards against acting on a view the table has moved past. */
  async act(action, { withSeq = true } = {}) {
    if (this.busy) return;
    this.busy = true;
    this.picker = null;
    this.render();
    const body = { msg: "act", table: this.id, action };
    if (withSeq) body.seq = this.seq;
    try {
      await this.app.request(body);
    } catch (error) {
      this.busy = false;
      if (error.code === "stale") this.resume().catch(() => {});
      this.render();
    }
  }

  context() {
    const frame = this.frame ?? { players: [], view: null, cash: null, bots: [] };
    const me = frame.seat ?? null;
    const players = frame.players ?? [];
    const name = (seat) => (seat === me && me !== null ? "You" : players[seat] ?? `Seat ${Number(seat) + 1}`);
    return {
      table: this,
      frame,
      view: frame.view ?? {}, // null before the game starts
      me,
      players,
      name,
      nameOf: (seat) => players[seat] ?? `Seat ${Number(seat) + 1}`,
      isMe: (seat) => me !== null && seat === me,
      act: (action, opts) => this.act(action, opts),
      busy: this.busy,
      info: this.info,
    };
  }

  isOnScreen() {
    return this.app.current === this && !$("table-view").hidden;
  }

  // ---- rendering -----------------------------------------------------------------------------------

  mount() {
    const root = $("table-view");
    const ui = {};
    ui.title = h("h1", { class: "table-title" });
    ui.badges = h("div", { class: "badges" });
    ui.back = h("button", { type: "button", class: "ghost back", onclick: () => this.app.backToLobby() }, "← Lobby");
    ui.banner = h("p", { class: "banner warn", role: "alert", hidden: true });
    ui.invite = h("p", { class: "invite muted", hidden: true });
    ui.seats = h("div", { class: "seats" });
    ui.center = h("div", { class: "center" });
    ui.felt = h("div", { class: "felt", id: "felt" }, ui.seats, ui.center);
    ui.prompt = h("div", { class: "prompt", id: "prompt", role: "status", "aria-live": "polite" });
    ui.controls = h("div", { class: "controls", id: "controls" });
    ui.hand = h("div", { class: "hand", id: "hand", role: "toolbar", "aria-label": "Your hand" });
    ui.scores = h("div", { class: "scores", id: "scores" });
    ui.events = h("ol", { class: "events", id: "events", "aria-live": "polite" });
    ui.chatLines = h("ol", { class: "chat-lines", id: "chat-lines", "aria-live": "polite" });
    ui.chatInput = h("input", { id: "chat-input", type: "text", maxlength: 300, autocomplete: "off",
      placeholder: "Say something…", "aria-label": "Chat message" });
    ui.chatForm = h("form", { class: "chat-form", id: "chat-form" }, ui.chatInput,
      h("button", { type: "submit" }, "Send"));
    ui.chatForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendChat();
    });
    ui.result = h("div", { class: "result", id: "result", hidden: true, role: "dialog",
      "aria-labelledby": "result-title" });
    ui.picker = h("div", { class: "picker", id: "suit-picker", hidden: true, role: "dialog",
      "aria-label": "Choose the new suit" });
    fill(root,
      h("div", { class: "table-head" }, ui.back, ui.title, ui.badges),
      ui.banner, ui.invite,
      h("div", { class: "table-layout" },
        h("div", { class: "play-area" }, ui.felt, ui.prompt, ui.controls, ui.hand),
        h("aside", { class: "side" },
          h("section", { class: "panel" }, h("h2", {}, "Scores"), ui.scores),
          h("section", { class: "panel" }, h("h2", {}, "What happened"), ui.events),
          h("section", { class: "panel chat" }, h("h2", {}, "Chat"), ui.chatLines, ui.chatForm))),
      ui.picker, ui.result);
    this.ui = ui;
    this.render();
    this.renderChat(false);
  }

  render() {
    if (!this.isOnScreen() || !this.ui) return;
    const ui = this.ui;
    const frame = this.frame;
    const game = this.game;
    const ctx = this.context();
    const root = $("table-view");
    root.dataset.table = this.id;
    root.dataset.game = frame?.game ?? "";
    root.dataset.status = frame?.status ?? "loading";
    root.dataset.seq = String(this.seq);
    root.dataset.seat = ctx.me === null ? "" : String(ctx.me);
    root.dataset.role = ctx.me === null ? "spectator" : "player";
    const myTurn = !!(frame && frame.status === "playing" && ctx.me !== null && mayAct(ctx.view));
    root.dataset.myTurn = String(myTurn && !this.busy);
    root.dataset.busy = String(this.busy);

    ui.title.textContent = `${game?.title ?? "Table"} · ${this.id}`;
    fill(ui.badges, ...this.badges(ctx));
    this.renderBanner();
    if (!frame) {
      fill(ui.center, h("p", { class: "muted" }, "Loading the table…"));
      return;
    }
    this.renderSeats(ctx);
    if (frame.status === "waiting" && !game?.cash) {
      fill(ui.center, this.waitingCenter(ctx));
      fill(ui.prompt, this.waitingPrompt(ctx));
      fill(ui.controls, ...this.waitingControls(ctx));
      fill(ui.hand);
    } else {
      fill(ui.center, game.center(ctx));
      fill(ui.prompt, this.prompt(ctx, myTurn));
      const controls = game.controls(ctx, myTurn);
      fill(ui.controls, ...(controls ? [controls] : []), ...this.tableButtons(ctx));
      this.renderHand(ctx, myTurn);
    }
    fill(ui.scores, game?.scores(ctx) ?? "");
    this.renderEvents();
    this.renderPicker(ctx);
    this.renderResult(ctx);
    this.app.tick();
  }

  badges(ctx) {
    const frame = this.frame;
    const out = [];
    if (frame) {
      const label = { waiting: "Waiting", playing: "Playing", over: "Finished" }[frame.status] ?? frame.status;
      out.push(h("span", { class: `badge status-${frame.status}` }, label));
    }
    if (frame && ctx.me === null) out.push(h("span", { class: "badge watching" }, "Watching"));
    if (this.info && this.info.public === false) out.push(h("span", { class: "badge" }, "Private"));
    const clock = this.info?.clock;
    if (clock) out.push(h("span", { class: "badge" }, `${clock}s clock`));
    return out;
  }

  renderBanner() {
    const ui = this.ui;
    ui.banner.hidden = this.available;
    ui.banner.textContent = this.available ? "" : `${this.statusText || "This table is unavailable."} ` +
      "It resumes by itself when the game server is back.";
    const priv = this.info && this.info.public === false;
    ui.invite.hidden = !priv;
    if (priv) {
      ui.invite.textContent = `Private table: invite friends with ${location.origin}/table/${this.id}`;
    }
  }

  seatPositions(n, me) {
    const base = me ?? 0;
    return Array.from({ length: n }, (_, seat) => {
      const rel = (seat - base + n) % n;
      const angle = Math.PI / 2 + (2 * Math.PI * rel) / n;
      return { rel, x: 50 + 42 * Math.cos(angle), y: 50 + 40 * Math.sin(angle), angle };
    });
  }

  renderSeats(ctx) {
    const frame = this.frame;
    const n = frame.players.length;
    const positions = this.seatPositions(n, ctx.me);
    this.positions = positions;
    const toAct = frame.status === "playing" ? this.game?.toAct(ctx.view) ?? [] : [];
    const bots = new Set(frame.bots ?? []);
    const seats = frame.players.map((player, seat) => {
      const pos = positions[seat];
      const mine = ctx.me === seat;
      const turn = toAct.includes(seat);
      const box = h("div", {
        class: ["seat", mine && "me", turn && "turn", player === null && "empty"],
        "data-seat": seat, "data-rel": pos.rel,
        style: { "--x": `${pos.x}%`, "--y": `${pos.y}%` },
      });
      const nameLine = h("div", { class: "seat-name" },
        h("span", { class: "name" }, player ?? "Empty seat"));
      if (mine) nameLine.append(h("span", { class: "tag you" }, "you"));
      if (player !== null && bots.has(seat)) nameLine.append(h("span", { class: "tag bot" }, "bot"));
      for (const tag of this.game?.seatTags?.(ctx, seat) ?? []) nameLine.append(h("span", { class: "tag" }, tag));
      box.append(nameLine);
      if (frame.status === "waiting" || (this.game?.cash && player === null)) {
        box.append(...this.waitingSeatButtons(ctx, seat, player));
      } else {
        const cards = this.game.seatCards(ctx, seat);
        if (cards) box.append(h("div", { class: "seat-cards" }, cards));
        const stats = this.game.seatStats(ctx, seat);
        if (stats?.length) box.append(h("div", { class: "seat-stats" }, stats.map((t) => h("span", {}, t))));
        if (turn) {
          box.append(h("div", { class: "seat-turn" }, h("span", {}, mine ? "your turn" : "to play"),
            this.countdown()));
        }
      }
      return box;
    });
    fill(this.ui.seats, ...seats);
    this.ui.felt.dataset.seats = String(n);
  }

  countdown(deadline = this.frame?.deadline, clock = this.info?.clock) {
    if (!deadline) return null;
    return h("span", { class: "countdown", "data-deadline": deadline, "data-clock": clock ?? "" });
  }

  waitingSeatButtons(ctx, seat, player) {
    if (player !== null) return [];
    const out = [];
    if (ctx.me === null) {
      out.push(h("button", { type: "button", class: "small primary sit", "data-seat": seat,
        onclick: () => this.app.join(this.id, seat) }, "Sit here"));
    } else if (this.app.mayAddBots(this)) {
      out.push(h("button", { type: "button", class: "small add-bot", "data-seat": seat,
        onclick: () => this.addBot(seat) }, "Add bot"));
    }
    return out;
  }

  waitingCenter(ctx) {
    const players = this.frame.players;
    const taken = players.filter((p) => p !== null).length;
    return h("div", { class: "waiting" },
      h("p", { class: "big" }, `${taken} of ${players.length} seats taken`),
      h("p", { class: "muted" }, taken < players.length
        ? "Waiting for players. The table's creator can add bots to the empty seats."
        : "Every seat is taken: a seated player can start the game."));
  }

  waitingPrompt(ctx) {
    return ctx.me === null ? "You are watching. Pick a free seat to play." : "Waiting for the game to start.";
  }

  waitingControls(ctx) {
    const players = this.frame.players;
    const free = players.filter((p) => p === null).length;
    const out = [];
    if (ctx.me !== null) {
      out.push(h("button", { type: "button", class: "primary", id: "start", disabled: free > 0 || this.busy,
        title: free ? "Fill every seat first" : "Deal the cards", onclick: () => this.start() }, "Start game"));
      if (free && this.app.mayAddBots(this)) {
        out.push(h("button", { type: "button", id: "fill-bots", onclick: () => this.fillBots() },
          `Fill ${free} seat${free === 1 ? "" : "s"} with bots`));
      }
    }
    out.push(...this.tableButtons(ctx));
    return out;
  }

  tableButtons(ctx) {
    const label = ctx.me === null ? "Stop watching" : this.game?.cash ? "Stand up" :
      this.frame?.status === "playing" ? "Leave table" : "Leave";
    return [h("button", { type: "button", class: "ghost leave", id: "leave", onclick: () => this.app.backToLobby() },
      label)];
  }

  prompt(ctx, myTurn) {
    const frame = this.frame;
    if (frame.status === "over") return "The game is over.";
    const game = this.game;
    const text = game.prompt(ctx, myTurn);
    const parts = [h("span", {}, text)];
    if (myTurn && frame.deadline) parts.push(" ", this.countdown());
    return parts;
  }

  renderHand(ctx, myTurn) {
    const hand = this.game.hand(ctx, myTurn);
    const ui = this.ui;
    const focused = document.activeElement?.closest?.("#hand") ? document.activeElement.dataset.card : null;
    if (!hand) {
      fill(ui.hand);
      ui.hand.hidden = true;
      return;
    }
    ui.hand.hidden = false;
    ui.hand.classList.toggle("static", !!hand.static);
    if (hand.static) {
      fill(ui.hand, ...hand.cards.map((card) => cardFace(card, { cls: "mine" })));
      return;
    }
    let number = 0;
    const buttons = hand.cards.map((card) => {
      const enabled = hand.enabled.has(card) && !this.busy;
      const selected = hand.selected?.has(card);
      const props = { disabled: !enabled, "aria-pressed": hand.selected ? String(!!selected) : undefined };
      const el = cardFace(card, { tag: "button", cls: [enabled ? "legal" : "illegal", selected && "selected"]
        .filter(Boolean).join(" "), props });
      if (enabled && number < 9) {
        number += 1;
        el.dataset.key = String(number);
        el.append(h("span", { class: "key", "aria-hidden": "true" }, String(number)));
      }
      el.tabIndex = -1;
      el.addEventListener("click", () => hand.onPick(card));
      return el;
    });
    fill(ui.hand, ...buttons);
    ui.hand.classList.toggle("active", !!myTurn);
    this.spreadHand(buttons.length);
    const enabled = buttons.filter((b) => !b.disabled);
    const target = enabled.find((b) => b.dataset.card === focused) ?? enabled[0] ?? null;
    if (target) target.tabIndex = 0;
    if (focused && target) target.focus({ preventScroll: true });
  }

  /** Spread the hand over the width it has: apart when there is room, overlapping when not. */
  spreadHand(n) {
    const hand = this.ui.hand;
    const first = hand.querySelector(".playcard");
    if (!first || n < 2) return;
    const cw = first.getBoundingClientRect().width;
    const room = hand.clientWidth - 32;
    const step = Math.max(cw * 0.28, Math.min(cw * 1.08, (room - cw) / (n - 1)));
    hand.style.setProperty("--gap", `${(step - cw).toFixed(1)}px`);
  }

  renderEvents() {
    const ui = this.ui;
    fill(ui.events, ...this.events.slice(-12).map((e) => h("li", { class: `ev ev-${e.kind ?? "info"}` }, e.text)));
    ui.events.scrollTop = ui.events.scrollHeight;
  }

  renderChat(scroll) {
    if (!this.ui) return;
    const lines = this.chat.map((line) => h("li", { class: "chat-line" },
      h("time", { text: new Date(line.ts * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) }),
      h("strong", { class: "who" }, line.name), " ", h("span", { class: "said" }, line.text)));
    fill(this.ui.chatLines, ...lines);
    if (scroll) this.ui.chatLines.scrollTop = this.ui.chatLines.scrollHeight;
  }

  renderPicker(ctx) {
    const ui = this.ui;
    if (!this.picker) {
      ui.picker.hidden = true;
      fill(ui.picker);
      return;
    }
    const { card, entry, suits } = this.picker;
    const names = { C: "Clubs", D: "Diamonds", H: "Hearts", S: "Spades" };
    const buttons = suits.map((suit, i) => {
      const b = h("button", { type: "button", class: `suit-choice suit-${suit}`, "data-suit": suit,
        onclick: () => this.act(actionOf(entry, { card, suit })) });
      b.append(this.app.suitIcon(suit), h("span", {}, `${names[suit]}`), h("kbd", {}, suit));
      return b;
    });
    fill(ui.picker,
      h("div", { class: "picker-box" },
        h("h2", {}, "Name the new suit"),
        h("p", { class: "muted" }, "Press C, D, H or S, or click one."),
        h("div", { class: "suit-choices" }, buttons),
        h("button", { type: "button", class: "ghost", onclick: () => { this.picker = null; this.render(); } },
          "Cancel")));
    ui.picker.hidden = false;
    if (!ui.picker.contains(document.activeElement)) buttons[0]?.focus();
  }

  renderResult(ctx) {
    const ui = this.ui;
    const frame = this.frame;
    if (!frame || frame.status !== "over" || this.resultDismissed) {
      ui.result.hidden = true;
      return;
    }
    const summary = this.game.result(ctx, this.over);
    const me = ctx.me;
    const rows = summary.rows.map((row) => h("tr", { class: [row.winner && "winner", row.seat === me && "me"] },
      h("td", {}, row.winner ? "🏆 " : "", row.name), h("td", { class: "num" }, row.score)));
    fill(ui.result,
      h("div", { class: "result-box" },
        h("h2", { id: "result-title" }, summary.title),
        summary.subtitle ? h("p", { class: "muted" }, summary.subtitle) : null,
        h("table", { class: "result-table" },
          h("thead", {}, h("tr", {}, h("th", {}, "Player"), h("th", { class: "num" }, summary.scoreLabel))),
          h("tbody", {}, rows)),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", id: "rematch", onclick: () => this.app.rematch(this) },
            "Rematch"),
          h("button", { type: "button", id: "to-lobby", onclick: () => this.app.backToLobby() }, "Back to lobby"),
          h("button", { type: "button", class: "ghost", id: "review",
            onclick: () => { this.resultDismissed = true; this.render(); } }, "Look at the table"))));
    ui.result.hidden = false;
  }

  // ---- commands ------------------------------------------------------------------------------------

  async start() {
    this.busy = true;
    this.render();
    try {
      await this.app.request({ msg: "start", table: this.id });
    } catch {
      /* shown by app.request */
    }
    this.busy = false;
    this.render();
  }

  async addBot(seat) {
    try {
      await this.app.request({ msg: "add_bot", table: this.id, seat });
    } catch {
      /* shown */
    }
  }

  async fillBots() {
    const free = (this.frame?.players ?? []).map((p, i) => (p === null ? i : -1)).filter((i) => i >= 0);
    for (const seat of free) {
      try {
        await this.app.request({ msg: "add_bot", table: this.id, seat });
      } catch {
        return;
      }
    }
  }

  async sendChat() {
    const input = this.ui.chatInput;
    const text = input.value.trim();
    if (!text) return;
    try {
      await this.app.request({ msg: "chat", table: this.id, text });
      input.value = "";
    } catch {
      /* shown */
    }
  }

  // ---- keyboard --------------------------------------------------------------------------------------

  onKey(event) {
    if (!this.frame) return false;
    const key = event.key;
    if (this.picker) {
      const suit = key.toUpperCase();
      if (this.picker.suits.includes(suit)) {
        this.act(actionOf(this.picker.entry, { card: this.picker.card, suit }));
        return true;
      }
      if (key === "Escape") {
        this.picker = null;
        this.render();
        return true;
      }
      if (key === "ArrowLeft" || key === "ArrowRight") return this.moveFocus(this.ui.picker, key, ".suit-choice");
      return false;
    }
    if (key === "Escape" && !this.ui.result.hidden) {
      this.resultDismissed = true;
      this.render();
      return true;
    }
    if (key === "ArrowLeft" || key === "ArrowRight") return this.moveFocus(this.ui.hand, key, "button.playcard");
    if (/^[1-9]$/.test(key)) {
      const card = this.ui.hand.querySelector(`button.playcard[data-key="${key}"]`);
      if (card && !card.disabled) {
        card.focus();
        card.click();
        return true;
      }
      return false;
    }
    return this.game?.onKey?.(this.context(), key) ?? false;
  }

  moveFocus(container, key, selector) {
    const items = [...container.querySelectorAll(selector)].filter((b) => !b.disabled);
    if (!items.length) return false;
    const index = items.indexOf(document.activeElement);
    const step = key === "ArrowLeft" ? -1 : 1;
    const next = items[index < 0 ? (step > 0 ? 0 : items.length - 1) : (index + step + items.length) % items.length];
    for (const item of items) item.tabIndex = item === next ? 0 : -1;
    next.focus();
    return true;
  }
}

export { GAMES };
