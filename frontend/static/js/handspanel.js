// The table's hand history: the last finished hands (Hold'em) or games (Hearts, Crazy Eights) at this
// table, newest first, and a replay of any of them without leaving the table.
//
// A side panel says how the last hand ended, with "All hands" and "Replay last hand"; both open a modal
// <dialog> (full screen on a phone; nothing of it stays on the page once closed, so it never covers the
// controls): the list, each hand with what happened street by street (or deal by deal, trick by trick),
// the board, the cards shown and the results, or the step-by-step replay (replayview.js, as on the
// replay page). Everything comes from GET /api/tables/<id>/hands and /history/<game>/replay.json, which
// the server cuts to what this player may see: nothing here hides a card, none is in what it gets.
// The list is fetched once a view shows that a hand or game has ended at this table (on opening it, or
// when its events say so; the replay is written a moment after: asked again until it is there), never
// before (there is nothing to list), and not for one who only watches a private table (its hands are
// for those who played them).

import { cardFace, cardLabel } from "./cards.js";
import { $, fill, formatChips, h, listWords } from "./dom.js";
import { fetchJSON, ServerError } from "./net.js";
import { eventText, ReplayStepper } from "./replayview.js";

const ENDED = new Set(["hand_over", "match_over"]);
const RETRY_MS = 700;
const RETRIES = 8;
const MISSING_RETRIES = 2;

const cardRow = (list) => h("span", { class: "cardrow" }, (list ?? []).map((c) => cardFace(c, { cls: "small" })));
const clock = (ts) => new Date(ts * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

export class HandsPanel {
  constructor(table) {
    this.table = table;
    this.hands = null; // the summaries, newest first (null: not fetched yet)
    this.failed = null;
    this.asked = 0;
    this.retry = null;
    this.body = null; // the side panel's contents
    this.dialog = null;
  }

  /** The side panel's contents, refilled whenever the list changes. */
  mount() {
    this.body = h("div", { class: "hh-side", id: "hands-side" });
    this.renderSide();
    return this.body;
  }

  /** A view arrived: a hand or game that ended shows in the list once its replay is written. */
  onFrame(frame) {
    this.watchingPrivate = frame.public === false && (frame.seat ?? null) === null;
    if (this.watchingPrivate) {
      this.renderSide();
      return;
    }
    const ended = (frame.events ?? []).some((ev) => ENDED.has(ev.kind));
    const before = frame.status === "over" || frame.view?.over === true || (frame.cash?.hand_no ?? 0) > 1;
    if (ended || (this.hands === null && !this.asked && before)) this.refresh({ newer: ended });
  }

  onGameOver() {
    if (!this.watchingPrivate) this.refresh({ newer: true });
  }

  get url() {
    const invite = this.table.app.invites?.get(this.table.id); // a private table's link lets its players ask
    return `/api/tables/${encodeURIComponent(this.table.id)}/hands${invite ? `?invite=${encodeURIComponent(invite)}` : ""}`;
  }

  /** Fetch the list; with `newer`, again (a few times) until it has a hand newer than the one it had. */
  async refresh({ newer = false, tries = 0 } = {}) {
    clearTimeout(this.retry);
    const ask = (this.asked += 1);
    const before = this.newest();
    let hands;
    try {
      hands = (await fetchJSON(this.url)).hands ?? [];
    } catch (error) {
      if (ask !== this.asked) return;
      // a private table shows its hands only to those who played one: until then there is none to show
      if (error instanceof ServerError && error.code === "no_table") hands = [];
      else {
        this.failed = error.message;
        this.render();
        return;
      }
    }
    if (ask !== this.asked) return; // a later ask is on its way
    this.hands = hands;
    this.failed = null;
    this.render();
    // the record of a game is written with the move that ended it, its replay a moment later (pending);
    // a hand missing altogether is rare (a spectator delay holds it back, or the write is in flight)
    const pending = hands.some((x) => x.pending);
    const missing = newer && this.newest() <= before && !pending;
    if ((pending && tries < RETRIES) || (missing && tries < MISSING_RETRIES)) {
      this.retry = setTimeout(() => this.refresh({ newer, tries: tries + 1 }), RETRY_MS * (tries + 1));
    }
  }

  newest() {
    return this.hands?.find((x) => !x.pending)?.number ?? 0;
  }

  render() {
    this.renderSide();
    if (this.dialog?.open && this.dialog.dataset.mode === "list") this.showList();
  }

  // ---- the side panel ------------------------------------------------------------------------------

  renderSide() {
    if (!this.body) return;
    const last = this.hands?.find((x) => !x.pending) ?? null;
    const word = this.word;
    let line;
    if (this.watchingPrivate) line = h("p", { class: "muted" }, `A private table's ${word}s are shown to those who played them.`);
    else if (this.failed) line = h("p", { class: "muted" }, `Could not load the hands: ${this.failed}`);
    else if (this.hands === null && this.asked) line = h("p", { class: "muted" }, "Loading…");
    else if (!last) line = h("p", { class: "muted" }, `No finished ${word}s at this table yet.`);
    else line = h("p", { id: "hands-last", "data-game-id": last.game_id }, h("b", {}, `${title(last)}: `), outcome(last));
    const count = this.hands?.filter((x) => !x.pending).length ?? 0;
    fill(this.body, line, h("div", { class: "hh-buttons" },
      h("button", { type: "button", class: "small", id: "hands-open", disabled: !count,
        onclick: () => this.open() }, `All ${word}s${count ? ` (${count})` : ""}`),
      h("button", { type: "button", class: "small", id: "replay-last", disabled: !last,
        onclick: () => last && this.open(last.game_id) }, `Replay last ${word}`)));
  }

  get word() {
    return this.table.game?.cash ? "hand" : "game";
  }

  // ---- the dialog ------------------------------------------------------------------------------------

  /** Open the list, or (`gameId`) that game's replay. */
  open(gameId = null) {
    if (!this.dialog) {
      this.back = document.activeElement;
      this.dialog = h("dialog", { class: "hands-dialog", id: "hands-dialog", "aria-labelledby": "hands-title" });
      this.dialog.addEventListener("close", () => this.closed());
      // on the document, not the dialog: a step button that turns disabled drops the focus to the body
      this.keys = (event) => {
        if (event.altKey || event.ctrlKey || event.metaKey || event.target instanceof HTMLInputElement) return;
        if (this.dialog?.dataset.mode === "replay") this.stepper?.onKey(event); // handled: prevented
      };
      document.addEventListener("keydown", this.keys, true);
      document.body.append(this.dialog);
      this.dialog.showModal();
    }
    if (gameId) this.showReplay(gameId);
    else this.showList();
  }

  close() {
    this.dialog?.close();
  }

  closed() {
    document.removeEventListener("keydown", this.keys, true);
    this.dialog?.remove();
    this.dialog = null;
    this.stepper = null;
    if (this.back instanceof HTMLElement && this.back.isConnected) this.back.focus({ preventScroll: true });
  }

  head(text, ...buttons) {
    return h("div", { class: "hh-head" }, h("h2", { id: "hands-title" }, text), ...buttons,
      h("button", { type: "button", class: "ghost", id: "hands-close", "aria-label": "Close", onclick: () => this.close() }, "×"));
  }

  showList() {
    const dialog = this.dialog;
    const focused = dialog.dataset.mode === "list" ? document.activeElement?.id : null;
    const scrolled = dialog.dataset.mode === "list" ? dialog.scrollTop : 0;
    dialog.dataset.mode = "list";
    const open = new Set([...dialog.querySelectorAll("details[open]")].map((d) => d.dataset.gameId));
    const items = (this.hands ?? []).map((x, i) => (x.pending
      ? h("li", { class: "hh-item pending", "data-game-id": x.game_id }, `${title(x)} · ${clock(x.finished)} · being written…`)
      : item(x, open.size ? open.has(x.game_id) : i === 0, (id) => this.showReplay(id))));
    fill(dialog, this.head(`${this.word === "hand" ? "Hands" : "Games"} at this table`),
      h("p", { class: "muted small" }, `The last ${items.length} ${this.word}${items.length === 1 ? "" : "s"}, newest first, as you saw them.`),
      h("ol", { class: "hh-list", id: "hands-list" }, items));
    dialog.scrollTop = scrolled;
    if (focused && $(focused)) $(focused).focus({ preventScroll: true });
    else $("hands-close")?.focus({ preventScroll: true });
  }

  async showReplay(gameId) {
    const dialog = this.dialog;
    const summary = this.hands?.find((x) => x.game_id === gameId);
    dialog.dataset.mode = "replay";
    const els = {
      root: h("div", { class: "hh-replay", id: "hands-replay", "data-game-id": gameId }),
      first: h("button", { type: "button", class: "ghost small", id: "hr-first", "aria-label": "First step" }, "« First"),
      prev: h("button", { type: "button", class: "small", id: "hr-prev", "aria-keyshortcuts": "ArrowLeft" }, "◀ Prev"),
      step: h("span", { class: "step", id: "hr-step", role: "status", "aria-live": "polite" }, "Loading…"),
      next: h("button", { type: "button", class: "small", id: "hr-next", "aria-keyshortcuts": "ArrowRight" }, "Next ▶"),
      last: h("button", { type: "button", class: "ghost small", id: "hr-last", "aria-label": "Last step" }, "Last »"),
      what: h("div", { class: "what", id: "hr-what" }),
      board: h("div", { class: "replay-board", id: "hr-board" }),
      hands: h("div", { class: "replay-hands", id: "hr-hands" }),
    };
    const back = h("button", { type: "button", class: "small", id: "hands-back", onclick: () => this.showList() },
      `← All ${this.word}s`);
    const page = h("a", { href: `/history/${encodeURIComponent(gameId)}`, target: "_blank", rel: "noopener",
      class: "small" }, "Open the replay page");
    fill(els.root, h("div", { class: "replay-controls" }, els.first, els.prev, els.step, els.next, els.last),
      h("p", { class: "muted keys" }, "Keys: ← and → step, Home and End jump. ", page), els.what, els.board, els.hands);
    fill(dialog, this.head(summary ? `Replay · ${title(summary)}` : "Replay", back), els.root);
    this.stepper = new ReplayStepper(els);
    els.next.focus();
    try {
      const replay = await fetchJSON(`/history/${encodeURIComponent(gameId)}/replay.json`);
      if (this.dialog === dialog && dialog.contains(els.root)) this.stepper.show(replay);
    } catch (error) {
      els.step.textContent = `Could not load the replay: ${error.message}`;
    }
  }
}

/** "Hand #12", "Game #3" */
function title(x) {
  return `${x.game === "holdem" ? "Hand" : "Game"} #${x.number}`;
}

function namer(x) {
  const me = x.viewer?.seat;
  return (seat) => (seat === me && me !== null && me !== undefined ? "You"
    : x.players.find((p) => p.seat === seat)?.name ?? `Seat ${Number(seat) + 1}`);
}

/** How it ended, in a few words: "Bot 2 won 45 with a pair of tens", "ann won (12 points)". */
function outcome(x) {
  const nameOf = namer(x);
  const winners = x.results.filter((r) => r.winner);
  if (x.game === "holdem") {
    const pots = x.rounds.flatMap((r) => r.actions).filter((a) => a.kind === "pot_awarded");
    return listWords(pots.map((a) => `${nameOf(a.seat)} won ${formatChips(a.amount)}${a.hand ? ` with ${a.hand.toLowerCase()}` : ""}`));
  }
  const points = (n) => `${n} point${n === 1 ? "" : "s"}`;
  return `${listWords(winners.map((r) => nameOf(r.seat)))} won (${listWords(winners.map((r) => points(r.score)))})`;
}

function actionLine(a, nameOf) {
  if (a.kind === "trick") {
    return h("li", { class: "hh-trick" }, a.plays.map((p, i) => [i ? ", " : "", `${nameOf(p.seat)} ${cardLabel(p.card)}`]),
      ` → ${nameOf(a.seat)} took it${a.points ? ` (${a.points} point${a.points === 1 ? "" : "s"})` : ""}`);
  }
  const by = a.by === "clock" ? " (time ran out)" : a.by === "bot" ? " (a bot, while away)" : "";
  return h("li", { class: `hh-ev ev-${a.kind}` }, `${eventText(a, nameOf)}${by}`);
}

/** One hand in the list: a <details> with its summary line and, inside, what happened and who won. */
function item(x, open, replay) {
  const nameOf = namer(x);
  const cash = x.game === "holdem";
  const body = [];
  if (x.mine?.length) body.push(h("p", { class: "hh-mine" }, h("b", {}, "Your cards "), cardRow(x.mine)));
  for (const round of x.rounds) {
    if (!round.actions.length && !round.cards.length) continue;
    body.push(h("div", { class: "hh-round", "data-round": round.name },
      h("h4", {}, round.name, round.cards.length ? [" ", cardRow(round.cards)] : null),
      h("ol", { class: "hh-actions" }, round.actions.map((a) => actionLine(a, nameOf)))));
  }
  if (cash) body.push(h("p", { class: "hh-board" }, h("b", {}, "Board "), x.board.length ? cardRow(x.board) : "none"));
  if (x.shown.length) {
    body.push(h("div", { class: "hh-shown" }, h("b", {}, "Shown "), x.shown.map((s) =>
      h("span", { class: "hh-shown-seat", "data-seat": s.seat }, `${nameOf(s.seat)} `, cardRow(s.cards),
        s.hand ? ` ${s.hand}` : ""))));
  }
  body.push(h("table", { class: "hh-results" },
    h("thead", {}, h("tr", {}, h("th", {}, "Player"), h("th", { class: "num" }, cash ? "Chips" : "Points"))),
    h("tbody", {}, x.results.map((r) => h("tr", { class: [r.winner && "winner"], "data-seat": r.seat },
      h("td", {}, r.winner ? "🏆 " : "", nameOf(r.seat)),
      h("td", { class: "num" }, cash && r.score > 0 ? `+${formatChips(r.score)}` : cash ? formatChips(r.score) : r.score))))));
  body.push(h("div", { class: "hh-buttons" },
    h("button", { type: "button", class: "small hh-replay-button", onclick: () => replay(x.game_id) }, "Replay"),
    h("a", { href: `/history/${encodeURIComponent(x.game_id)}`, target: "_blank", rel: "noopener", class: "small" },
      "Replay page")));
  return h("li", { class: "hh-item", "data-game-id": x.game_id, "data-number": x.number },
    h("details", { open, "data-game-id": x.game_id },
      h("summary", {}, h("b", {}, title(x)), ` · ${clock(x.finished)} · `, outcome(x)), body));
}
