// Stepping through one viewer's replay of a finished game: the words for each step's events, the table
// (board, trick or piles) and the cards this viewer held. Used by the replay page (replay.js) and by the
// in-table replay overlay (handspanel.js), each with its own elements. It shows only what the replay
// holds: the server cut it for this viewer, hidden cards are not in it.

import { cardFace, cardLabel } from "./cards.js";
import { fill, h } from "./dom.js";

const labels = (list) => list.map(cardLabel).join(" ");
const cards = (list, cls = "small") => h("span", { class: "cardrow" }, (list ?? []).map((c) => cardFace(c, { cls })));

/** Who `seat` is in `replay` (its players' names). */
export const nameIn = (replay, seat) => replay.players.find((p) => p.seat === seat)?.name ?? `Seat ${seat + 1}`;

/** One event of a replay (or of a hand summary: the same kinds and fields) in words. */
export function eventText(ev, nameOf) {
  const who = ev.seat === null || ev.seat === undefined ? "" : `${nameOf(ev.seat)} `;
  switch (ev.kind) {
    case "played": return `${who}played ${cardLabel(ev.card)}${ev.suit && ev.card?.[0] === "8" ? ` (names ${ev.suit})` : ""}`;
    case "drew": return `${who}drew ${ev.card ? cardLabel(ev.card) : "a card"}${ev.penalty ? " (penalty)" : ""}`;
    case "passed": return `${who}passed`;
    case "action": return `${who}${ev.action}${ev.to ? ` to ${ev.to}` : ev.amount ? ` ${ev.amount}` : ""}${ev.all_in ? " (all in)" : ""}`;
    case "blind_posted": return `${who}posted the ${ev.blind} blind (${ev.amount})`;
    case "uncalled_returned": return `${ev.amount} returned to ${nameOf(ev.seat)} (uncalled)`;
    case "hole_cards": return ev.cards ? `${who}was dealt ${labels(ev.cards)}` : `${who}was dealt two cards`;
    case "street": return `${ev.street}: ${labels(ev.cards)}`;
    case "showdown": return `showdown: ${ev.hands.map((s) => `${nameOf(s.seat)} ${labels(s.cards)} (${s.hand})`).join(", ")}`;
    case "pot_awarded": return `${who}won ${ev.amount}${ev.hand ? ` with ${ev.hand}` : ""}`;
    case "cards_passed": return `${who}passed ${ev.cards ? labels(ev.cards) : "three cards"} to ${nameOf(ev.to_seat)}`;
    case "cards_received": return `${who}received ${ev.cards ? labels(ev.cards) : "three cards"} from ${nameOf(ev.from_seat)}`;
    case "trick_won": return `${who}took the trick (${ev.points} points)`;
    case "deal_scored": return `deal ${ev.deal + 1} scored${ev.moon !== null && ev.moon !== undefined ? `: ${nameOf(ev.moon)} shot the moon` : ""}` +
      (ev.points ? ` (${ev.points.map((n, seat) => `${nameOf(seat)} ${n}`).join(", ")})` : "");
    case "started": return `${nameOf(ev.first)} leads; the starter is ${cardLabel(ev.starter)}`;
    case "hand_over": return ev.went_out !== undefined && ev.went_out !== null ? `${nameOf(ev.went_out)} went out`
      : ev.stacks ? "the hand is over" : "the game is over";
    case "hearts_broken": return `${who}broke hearts`;
    case "match_over": return "the match is over";
    default: return `${who}${String(ev.kind ?? "event").replace(/_/g, " ")}`;
  }
}

function ownCards(view) {
  return view?.hand ?? view?.hole ?? null;
}

/** Steps through `replay` into `els` ({step, prev, next, first, last, what, board, hands, root}). */
export class ReplayStepper {
  constructor(els) {
    this.els = els;
    this.replay = null;
    this.index = 0;
    els.prev.addEventListener("click", () => this.go(this.index - 1));
    els.next.addEventListener("click", () => this.go(this.index + 1));
    els.first.addEventListener("click", () => this.go(0));
    els.last.addEventListener("click", () => this.go(Infinity));
  }

  nameOf(seat) {
    return nameIn(this.replay, seat);
  }

  show(replay, index = 0) {
    this.replay = replay;
    this.index = index;
    this.els.root.dataset.viewer = replay.viewer.full ? "full" : replay.viewer.seat === null ? "spectator" : String(replay.viewer.seat);
    this.render();
  }

  go(to) {
    if (!this.replay) return;
    this.index = to;
    this.render();
  }

  /** The arrow keys, Home and End step; true when `event` was one of them. */
  onKey(event) {
    const moves = { ArrowLeft: this.index - 1, ArrowRight: this.index + 1, Home: 0, End: Infinity };
    if (!this.replay || !(event.key in moves)) return false;
    event.preventDefault();
    this.go(moves[event.key]);
    return true;
  }

  render() {
    const { els, replay } = this;
    const steps = replay.steps;
    this.index = Math.max(0, Math.min(this.index, steps.length - 1));
    const index = this.index;
    const step = steps[index];
    const view = replay.viewer.full ? step.views[String(step.seat ?? 0)] ?? Object.values(step.views)[0] : step.view;
    els.step.textContent = `Step ${index + 1} of ${steps.length}`;
    els.prev.disabled = index === 0;
    els.first.disabled = index === 0;
    els.next.disabled = index === steps.length - 1;
    els.last.disabled = index === steps.length - 1;
    const lines = step.events.map((ev) => eventText(ev, (seat) => this.nameOf(seat)));
    fill(els.what, step.kind === "deal" ? h("b", {}, "The deal. ") : null,
      h("ul", { class: "events" }, lines.map((line) => h("li", {}, line))));
    fill(els.board, this.table(view));
    fill(els.hands, this.hands(step));
    els.root.dataset.step = String(index);
  }

  table(view) {
    if (!view) return h("p", { class: "muted" }, "Nothing to show yet.");
    const nameOf = (seat) => this.nameOf(seat);
    const parts = [];
    if (view.game === "holdem") {
      parts.push(h("div", { class: "line" }, h("b", {}, "Board "), view.board.length ? cards(view.board, "") : "—",
        h("span", { class: "muted" }, ` pot ${view.pot}`)));
      parts.push(h("div", { class: "line" }, view.stacks.map((chips, seat) => view.dealt_in[seat]
        ? h("span", { class: ["chip-stack", view.folded[seat] ? "folded" : ""] }, `${nameOf(seat)}: ${chips}${view.bets[seat] ? ` (bet ${view.bets[seat]})` : ""}`)
        : null)));
      if (view.shown) {
        parts.push(h("div", { class: "line" }, h("b", {}, "Shown "), Object.entries(view.shown).map(([seat, c]) =>
          h("span", { class: "shown" }, `${nameOf(Number(seat))} `, cards(c)))));
      }
    } else if (view.game === "hearts") {
      parts.push(h("div", { class: "line" }, h("b", {}, "Trick "), view.trick.length
        ? view.trick.map((t) => h("span", { class: "played" }, `${nameOf(t.seat)} `, cardFace(t.card, { cls: "small" })))
        : "—"));
      parts.push(h("div", { class: "line" }, h("b", {}, "Scores "), view.scores.map((score, seat) => `${nameOf(seat)} ${score}`).join(" · ")));
    } else if (view.game === "crazy_eights") {
      parts.push(h("div", { class: "line" }, h("b", {}, "Top "), cardFace(view.top, { cls: "small" }),
        h("span", { class: "muted" }, ` suit ${view.suit} · stock ${view.stock}`)));
      parts.push(h("div", { class: "line" }, view.counts.map((n, seat) => `${nameOf(seat)}: ${n} card${n === 1 ? "" : "s"}`).join(" · ")));
    }
    return parts;
  }

  hands(step) {
    const replay = this.replay;
    if (replay.viewer.full) {
      return Object.entries(step.views).map(([seat, view]) => h("div", { class: "replay-hand", "data-seat": seat },
        h("b", {}, `${this.nameOf(Number(seat))} `), ownCards(view)?.length ? cards(ownCards(view)) : h("span", { class: "muted" }, "no cards")));
    }
    const mine = ownCards(step.view);
    if (replay.viewer.seat === null) return h("p", { class: "muted" }, "Spectator's view: players' cards only where they were shown.");
    return h("div", { class: "replay-hand", "data-seat": replay.viewer.seat }, h("b", {}, "Your cards "),
      mine?.length ? cards(mine) : h("span", { class: "muted" }, "none"));
  }
}
