// One table as this player sees it: seats, the game's middle, the hand, controls, scores, events, chat.
//
// A `TableController` holds what the server said about one table (the latest `view` frame, the events
// in words, chat, the `game_over` result, whether its game server is reachable) and renders it into the
// table view when it is the table on screen. Game-specific parts (the middle, controls, words for
// events, scores) come from the game's module in games/; the seats (seats.js), the hand (handview.js),
// fitting it all in the window (fit.js), the picker and result (overlays.js), the waiting room
// (waiting.js), motion (motion.js) and what the table says about itself (tablewords.js) have their own modules.
// Text from other players is inserted as text.

import { cardName } from "./cards.js";
import { confirmDialog } from "./dialogs.js";
import { FairDeals } from "./fairpanel.js";
import { $, fill, h } from "./dom.js";
import { GAMES, gameOf } from "./games/index.js";
import { HandsPanel } from "./handspanel.js";
import { renderHand } from "./handview.js";
import { actionOf, mayAct } from "./legal.js";
import { fitTable } from "./fit.js";
import { renderPicker, renderResult } from "./overlays.js";
import { bankChip, isSittingOut, policyButtons, sittingOutBanner } from "./policy.js";
import { seatBox, seatPositions, seatState } from "./seats.js";
import { awayBanner, badges, leaveQuestion, MOVE_KINDS, seatChanges, titleOf } from "./tablewords.js";
import { waitingCenter, waitingControls, waitingSeatButtons } from "./waiting.js";

const EVENTS_KEPT = 300;
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
    this.acting = false; // this player sent a move that no view has reflected yet
    this.passSel = new Set();
    this.passKey = "";
    this.received = null; // {deal, cards}: Hearts cards this player was just passed
    this.picker = null; // {card, entry, suits}: a card whose legal entry asks for a suit (a Crazy Eights 8)
    this.info = null; // TableInfo from the lobby, when known
    this.lastPlayedBy = null; // who played the card on top of the pile (for its flight)
    this.flights = []; // chips to fly on the next draw: [{from, to}] selectors
    this.wasMyTurn = false;
    this.lowWarned = null; // the deadline the clock-low sound was played for
    this.fair = new FairDeals(this); // commitments, this browser's entropy, and each deal verified
    this.handsPanel = new HandsPanel(this); // the last hands at this table, and their replays
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
    const before = this.frame;
    this.frame = frame;
    this.seq = frame.seq;
    if (frame.invite) this.app.invites.set(this.id, frame.invite); // the creator's view carries the code
    this.busy = false;
    this.available = true;
    this.statusText = "";
    try {
      this.fair.onFrame(frame);
    } catch (error) {
      console.error("fair-deal panel:", error); // reported, but the checker never stops the table
    }
    try {
      this.handsPanel.onFrame(frame);
    } catch (error) {
      console.error("hand history:", error); // the panel never stops the table
    }
    const ctx = this.context();
    const lines = [];
    if (!before && frame.status === "waiting") lines.push({ text: "You are at the table.", kind: "seat" });
    if (before) lines.push(...seatChanges(before, frame, ctx).map((text) => ({ text, kind: "seat" })));
    const wasAway = before ? seatState(before, frame.seat ?? -1).away : false;
    for (const event of frame.events ?? []) {
      let text = null;
      try {
        text = this.game?.describe(event, ctx) ?? null;
      } catch {
        text = null;
      }
      this.noteEvent(event, ctx);
      if (text && ctx.me !== null && event.seat === ctx.me && MOVE_KINDS.has(event.kind) && !this.acting) {
        text = `${wasAway ? "A bot, for you" : "Time ran out"}: ${text}`; // the clock's moves make one away
      }
      if (text) lines.push({ text, kind: event.kind });
    }
    this.acting = false;
    for (const line of lines) this.events.push({ ...line, seq: frame.seq });
    this.events.splice(0, Math.max(0, this.events.length - EVENTS_KEPT));
    if (this.isOnScreen()) this.app.announcer.say(lines.map((l) => l.text));
    if (frame.status !== "over") {
      this.over = null;
      this.resultDismissed = false;
    }
    this.render();
    this.afterView(ctx);
  }

  /** What an event means beyond its words: who played the top card, cards received, chips to a winner. */
  noteEvent(event, ctx) {
    if (event.kind === "played") this.lastPlayedBy = event.seat;
    if (event.kind === "cards_received" && event.seat === ctx.me && event.cards) {
      this.received = { deal: ctx.view.deal_number, cards: new Set(event.cards) };
    }
    if (event.kind === "pot_awarded" && this.isOnScreen()) {
      this.flights.push({ from: "#pot", to: `#felt .seat[data-seat='${event.seat}']` });
      if (event.seat === ctx.me) this.app.sound.play("win");
    }
  }

  /** Sounds for this player's turn, and pre-chosen actions (Hold'em) that this view lets run. */
  afterView(ctx) {
    const myTurn = this.myTurn(ctx);
    if (myTurn && !this.wasMyTurn && this.isOnScreen()) this.app.sound.play("turn");
    this.wasMyTurn = myTurn;
    if (myTurn && !this.busy) this.game?.autoAct?.(ctx);
  }

  myTurn(ctx = this.context()) {
    return !!(this.frame && this.frame.status === "playing" && ctx.me !== null && mayAct(ctx.view));
  }

  onGameOver(msg) {
    this.over = msg;
    this.lastResult = { ...msg, hand_no: this.frame?.cash?.hand_no ?? null };
    this.resultDismissed = false;
    this.handsPanel.onGameOver();
    const me = this.frame?.seat;
    if (!this.game?.cash && me !== null && me !== undefined && msg.winners?.includes(me)) this.app.sound.play("win");
    this.render();
    this.app.refreshMe();
  }

  onChat(msg) {
    this.chat.push(msg);
    this.chat.splice(0, Math.max(0, this.chat.length - CHAT_KEPT));
    if (this.isOnScreen()) {
      this.renderChat(true);
      this.app.announcer.say([`${msg.name} says: ${msg.text}`]);
    }
  }

  /** The table's recent chat, sent when this connection opened the table (a reload, a resume): it
   * replaces what this page holds, keeping any line newer than the history's last. Not announced. */
  onChatHistory(msg) {
    const lines = msg.lines ?? [];
    const last = lines.length ? lines[lines.length - 1].ts : -Infinity;
    this.chat = [...lines, ...this.chat.filter((line) => line.ts > last)].slice(-CHAT_KEPT);
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
    this.acting = false;
    if (msg.code === "stale") this.resume().catch(() => {});
    if (this.isOnScreen()) this.render();
  }

  /** Re-attach after a reconnect (or on opening the page at this table): missed events + the view.
   *  It is also "I'm back": the server stops the bot that stands in for this player. */
  resume() {
    const body = this.app.withInvite(this.id, { msg: "resume", table: this.id, last_seq: this.seq });
    return this.app.request(body, { quiet: true });
  }

  // ---- acting ------------------------------------------------------------------------------------

  /** Send a game action; `seq` guards against acting on a view the table has moved past. */
  async act(action, { withSeq = true } = {}) {
    if (this.busy) return;
    this.busy = true;
    this.acting = true;
    this.picker = null;
    this.render();
    const body = { msg: "act", table: this.id, action };
    if (withSeq) body.seq = this.seq;
    try {
      await this.app.request(body);
    } catch (error) {
      this.busy = false;
      this.acting = false;
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
    ui.back = h("button", { type: "button", class: "ghost back", onclick: () => this.leave() }, "← Lobby");
    ui.leave = h("div", { class: "head-actions" });
    ui.banner = h("p", { class: "banner warn", role: "alert", hidden: true });
    ui.away = h("div", { class: "banner away-banner", id: "away-banner", hidden: true });
    ui.invite = h("p", { class: "invite muted", hidden: true });
    ui.seats = h("div", { class: "seats" });
    ui.center = h("div", { class: "center" });
    ui.probe = h("span", { class: "ccw-probe", "aria-hidden": "true" });
    ui.felt = h("div", { class: "felt", id: "felt" }, ui.seats, ui.center, ui.probe);
    ui.prompt = h("div", { class: "prompt", id: "prompt" });
    ui.controls = h("div", { class: "controls", id: "controls" });
    ui.hand = h("div", { class: "hand", id: "hand", role: "toolbar", "aria-label": "Your hand" });
    ui.scores = h("div", { class: "scores", id: "scores" });
    ui.fair = h("div", { class: "fair", id: "fair-panel" });
    ui.events = h("ol", { class: "events", id: "events" });
    ui.chatLines = h("ol", { class: "chat-lines", id: "chat-lines" });
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
    ui.play = h("div", { class: "play-area", id: "play-area" }, ui.felt, this.app.toastBox(), ui.prompt, ui.controls,
      ui.hand);
    fill(root,
      h("div", { class: "table-head" }, ui.back, ui.title, ui.badges, ui.leave),
      ui.banner, ui.away, ui.invite,
      h("div", { class: "table-layout" },
        ui.play,
        h("aside", { class: "side", id: "side" },
          h("section", { class: "panel" }, h("h2", {}, "Scores"), ui.scores),
          h("section", { class: "panel hands-panel" }, h("h2", {}, "Hand history"), this.handsPanel.mount()),
          h("section", { class: "panel fair-deal" }, h("h2", {}, "Fair deal"), ui.fair),
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
    const before = this.app.motion.snapshot(ui.felt.parentElement);
    const trickWinner = this.collectTo;
    root.dataset.table = this.id;
    root.dataset.game = frame?.game ?? "";
    root.dataset.status = frame?.status ?? "loading";
    root.dataset.seq = String(this.seq);
    root.dataset.seat = ctx.me === null ? "" : String(ctx.me);
    root.dataset.role = ctx.me === null ? "spectator" : "player";
    const myTurn = this.myTurn(ctx);
    root.dataset.myTurn = String(myTurn && !this.busy);
    root.dataset.busy = String(this.busy);
    root.dataset.away = String(ctx.me !== null && seatState(frame ?? {}, ctx.me).away);

    fill(ui.title, titleOf(this), h("span", { class: "table-id" }, this.id));
    fill(ui.badges, ...badges(this, ctx));
    fill(ui.leave, ...(frame ? this.tableButtons(ctx) : []));
    this.renderBanner();
    if (!frame) {
      fill(ui.center, h("p", { class: "muted" }, "Loading the table…"));
      this.layout();
      return;
    }
    this.renderSeats(ctx);
    if (frame.status === "waiting" && !game?.cash) {
      fill(ui.center, this.waitingCenter(ctx));
      fill(ui.prompt, this.waitingPrompt(ctx));
      fill(ui.controls, ...this.waitingControls(ctx));
      fill(ui.hand);
      ui.hand.hidden = true;
    } else {
      fill(ui.center, game.center(ctx));
      fill(ui.prompt, this.prompt(ctx, myTurn));
      const controls = game.controls(ctx, myTurn);
      const same = controls && ui.controls.childElementCount === 1 && ui.controls.firstElementChild === controls;
      if (!same) fill(ui.controls, ...(controls ? [controls] : [])); // a kept element is left in place
      this.renderHand(ctx, myTurn);
    }
    fill(ui.scores, game?.scores(ctx) ?? "");
    fill(ui.fair, ...this.fair.render(ctx));
    this.renderEvents();
    this.renderPicker(ctx);
    this.renderResult(ctx);
    this.layout();
    this.collectTo = game?.collectTarget?.(ctx) ?? null; // where this trick goes once it is taken
    const flights = this.flights.splice(0).map(({ from, to }) => ({ from: document.querySelector(from),
      to: document.querySelector(to), make: () => h("span", { class: "chip-disc" }) }));
    const size = `${window.innerWidth}x${window.innerHeight}`;
    const resized = this.drawnFor !== size; // a new window size moves everything: that is not motion
    this.drawnFor = size;
    if (!resized) this.app.motion.play(ui.felt.parentElement, before, {
      flights,
      sendTo: (key, el) => {
        if (key.startsWith("bet:")) return $("pot");
        if (el?.closest?.("#trick") && trickWinner !== null && trickWinner !== undefined) {
          return ui.seats.querySelector(`.seat[data-seat='${trickWinner}']`);
        }
        return game?.sendTo?.(ctx, key) ?? null;
      },
    });
    this.app.renderBalance();
    this.app.tick();
  }

  /** The play area is as tall as what is left of the window; seats and the middle are fitted into it. */
  layout() {
    fitTable(this.ui);
  }

  renderBanner() {
    const ui = this.ui;
    ui.banner.hidden = this.available;
    ui.banner.textContent = this.available ? "" : `${this.statusText || "This table is unavailable."} ` +
      "It resumes by itself when the game server is back.";
    this.renderInvite();
    const state = this.frame && this.mySeat !== null ? seatState(this.frame, this.mySeat) : null;
    const sitting = isSittingOut(this.frame, this.mySeat);
    const key = `${state?.away}:${state?.leaving}:${sitting}:${this.frame?.status}`;
    if (ui.awayKey !== key) { // drawn again only when it changes, so its button stays put between views
      ui.awayKey = key;
      const ctx = this.context();
      const away = this.frame ? sittingOutBanner(this, ctx) ?? awayBanner(this, ctx) : null;
      ui.away.hidden = !away;
      fill(ui.away, ...(away ?? []));
    }
  }

  /** At a private table its creator sees the invite link with a Copy button; nobody else sees the code. */
  renderInvite() {
    const ui = this.ui;
    const link = this.frame?.invite ? this.app.inviteLink(this.id) : null;
    if (ui.inviteFor === link) return; // drawn again only when it changes (a selection survives views)
    ui.inviteFor = link;
    ui.invite.hidden = !link;
    if (!link) {
      fill(ui.invite);
      return;
    }
    const field = h("input", { type: "text", id: "invite-link", readonly: true, value: link,
      "aria-label": "Invite link", onfocus: (event) => event.target.select() });
    const copy = h("button", { type: "button", class: "small", id: "copy-invite" }, "Copy link");
    copy.addEventListener("click", async () => {
      field.select();
      let done = false;
      try {
        await navigator.clipboard.writeText(link);
        done = true;
      } catch {
        done = document.execCommand?.("copy") ?? false; // no clipboard API (plain HTTP): the selection
      }
      copy.textContent = done ? "Copied" : "Select and copy";
      this.app.announcer.say([done ? "Invite link copied." : "Select the link and copy it."]);
    });
    fill(ui.invite, h("span", {}, "Private table: only people with this link can watch and sit down."),
      field, copy);
  }

  renderSeats(ctx) {
    const frame = this.frame;
    const n = frame.players.length;
    const positions = seatPositions(n, ctx.me);
    this.positions = positions;
    const toAct = frame.status === "playing" ? this.game?.toAct(ctx.view) ?? [] : [];
    const winners = new Set(this.game?.winners?.(ctx) ?? []);
    const seats = frame.players.map((player, seat) => {
      const turn = toAct.includes(seat);
      const parts = { tags: this.game?.seatTags?.(ctx, seat) ?? [], turn, winner: winners.has(seat) };
      if (frame.status === "waiting" || (this.game?.cash && player === null)) {
        parts.buttons = this.waitingSeatButtons(ctx, seat, player);
        parts.turn = false;
      } else {
        parts.cards = this.game.seatCards(ctx, seat);
        parts.stats = this.game.seatStats(ctx, seat) ?? [];
        parts.bet = this.game.seatBet?.(ctx, seat) ?? null;
        parts.countdown = this.countdown(undefined, undefined, seat);
        parts.bank = bankChip(this, seat);
      }
      return seatBox(ctx, seat, positions[seat], parts);
    });
    fill(this.ui.seats, ...seats);
    this.ui.felt.dataset.seats = String(n);
  }

  /** The turn clock of `seat` (default: this player's); once it runs out, the seat's time bank counts on. */
  countdown(deadline = this.frame?.deadline, clock = this.info?.clock, seat = this.mySeat) {
    if (!deadline) return null;
    const end = this.frame?.bank_ends?.[seat];
    return h("span", { class: "countdown", "data-deadline": deadline, "data-clock": clock ?? "", role: "timer",
      "aria-label": "time left", "data-bank-end": end ?? undefined });
  }

  waitingSeatButtons(ctx, seat, player) {
    return waitingSeatButtons(this, ctx, seat, player);
  }

  waitingCenter() {
    return waitingCenter(this);
  }

  waitingPrompt(ctx) {
    return ctx.me === null ? "You are watching. Pick a free seat to play." : "Waiting for the game to start.";
  }

  waitingControls(ctx) {
    return waitingControls(this, ctx);
  }

  tableButtons(ctx) {
    const label = ctx.me === null ? "Stop watching" : this.game?.cash ? "Stand up" :
      this.frame?.status === "playing" ? "Leave table" : "Leave";
    return [...policyButtons(this, ctx),
      h("button", { type: "button", class: "ghost leave", id: "leave", onclick: () => this.leave() }, label)];
  }

  /** Leave or stand up; mid-hand it first says what happens to the hand and asks. */
  async leave() {
    const question = leaveQuestion(this, this.context());
    if (question && !(await confirmDialog({ ...question, id: "leave-confirm" }))) return;
    this.app.backToLobby({ midHand: !!question });
  }

  prompt(ctx, myTurn) {
    const frame = this.frame;
    if (frame.status === "over") return "The game is over.";
    const text = this.game.prompt(ctx, myTurn);
    const parts = [h("span", {}, text)];
    if (myTurn && frame.deadline) parts.push(" ", this.countdown());
    return parts;
  }

  renderHand(ctx, myTurn) {
    const hand = this.game.hand(ctx, myTurn);
    const ui = this.ui;
    if (!hand) {
      fill(ui.hand);
      ui.hand.hidden = ctx.me === null;
      return;
    }
    ui.hand.hidden = false;
    renderHand(ui.hand, hand, { busy: this.busy, active: myTurn, game: this.game, cardLabelOf: cardName });
    for (const card of ui.hand.querySelectorAll(".playcard[data-card]")) {
      card.dataset.fly = `card:${card.dataset.card}`;
      card.dataset.from = this.game.dealFrom ?? "#felt .center";
    }
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

  renderPicker() {
    renderPicker(this);
  }

  renderResult(ctx) {
    renderResult(this, ctx);
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
    if (key.length === 1) {
      const card = [...this.ui.hand.querySelectorAll("button.playcard[data-key]")]
        .find((b) => b.dataset.key === key.toLowerCase());
      if (card && !card.disabled) {
        card.focus();
        card.click();
        return true;
      }
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
