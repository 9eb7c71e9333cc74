// The replay page: fetches this viewer's replay (the server decides which: a seat's own, every card for
// a player who sat at the game, or a spectator's) and steps through it with buttons and the keyboard.
// It shows only what the fetched replay holds: hidden cards are not in it.

import { cardFace, cardLabel } from "./cards.js";
import { $, fill, h } from "./dom.js";
import { fetchJSON } from "./net.js";

const root = $("replay");
let replay = null;
let index = 0;

const nameOf = (seat) => replay.players.find((p) => p.seat === seat)?.name ?? `Seat ${seat + 1}`;
const cards = (list, cls = "small") => h("span", { class: "cardrow" }, (list ?? []).map((c) => cardFace(c, { cls })));

const labels = (list) => list.map(cardLabel).join(" ");

function eventText(ev) {
  const who = ev.seat === null || ev.seat === undefined ? "" : `${nameOf(ev.seat)} `;
  switch (ev.kind) {
    case "played": return `${who}played ${cardLabel(ev.card)}${ev.suit && ev.card?.[0] === "8" ? ` (names ${ev.suit})` : ""}`;
    case "drew": return `${who}drew ${ev.card ? cardLabel(ev.card) : "a card"}${ev.penalty ? " (penalty)" : ""}`;
    case "passed": return `${who}passed`;
    case "action": return `${who}${ev.action}${ev.to ? ` to ${ev.to}` : ev.amount ? ` ${ev.amount}` : ""}`;
    case "blind_posted": return `${who}posted the ${ev.blind} blind (${ev.amount})`;
    case "hole_cards": return ev.cards ? `${who}was dealt ${labels(ev.cards)}` : `${who}was dealt two cards`;
    case "street": return `${ev.street}: ${labels(ev.cards)}`;
    case "showdown": return `showdown: ${ev.hands.map((s) => `${nameOf(s.seat)} ${labels(s.cards)} (${s.hand})`).join(", ")}`;
    case "pot_awarded": return `${who}won ${ev.amount}${ev.hand ? ` with ${ev.hand}` : ""}`;
    case "cards_passed": return `${who}passed ${ev.cards ? labels(ev.cards) : "three cards"} to ${nameOf(ev.to_seat)}`;
    case "cards_received": return `${who}received ${ev.cards ? labels(ev.cards) : "three cards"} from ${nameOf(ev.from_seat)}`;
    case "trick_won": return `${who}took the trick (${ev.points} points)`;
    case "deal_scored": return `deal ${ev.deal + 1} scored${ev.moon !== null && ev.moon !== undefined ? `: ${nameOf(ev.moon)} shot the moon` : ""}`;
    case "match_over": return "the match is over";
    default: return `${who}${String(ev.kind ?? "event").replace(/_/g, " ")}`;
  }
}

function ownCards(view) {
  return view?.hand ?? view?.hole ?? null;
}

function table(view) {
  if (!view) return h("p", { class: "muted" }, "Nothing to show yet.");
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

function hands(step) {
  if (replay.viewer.full) {
    return Object.entries(step.views).map(([seat, view]) => h("div", { class: "replay-hand", "data-seat": seat },
      h("b", {}, `${nameOf(Number(seat))} `), ownCards(view)?.length ? cards(ownCards(view)) : h("span", { class: "muted" }, "no cards")));
  }
  const mine = ownCards(step.view);
  if (replay.viewer.seat === null) return h("p", { class: "muted" }, "Spectator's view: players' cards only where they were shown.");
  return h("div", { class: "replay-hand", "data-seat": replay.viewer.seat }, h("b", {}, "Your cards "),
    mine?.length ? cards(mine) : h("span", { class: "muted" }, "none"));
}

function render() {
  const steps = replay.steps;
  index = Math.max(0, Math.min(index, steps.length - 1));
  const step = steps[index];
  const view = replay.viewer.full ? step.views[String(step.seat ?? 0)] ?? Object.values(step.views)[0] : step.view;
  $("step").textContent = `Step ${index + 1} of ${steps.length}`;
  $("prev").disabled = index === 0;
  $("first").disabled = index === 0;
  $("next").disabled = index === steps.length - 1;
  $("last").disabled = index === steps.length - 1;
  const lines = step.events.map(eventText);
  fill($("what"), step.kind === "deal" ? h("b", {}, "The deal. ") : null,
    h("ul", { class: "events" }, lines.map((line) => h("li", {}, line))));
  fill($("board"), table(view));
  fill($("hands"), hands(step));
  root.dataset.step = String(index);
}

async function load(full) {
  replay = await fetchJSON(root.dataset.src + (full ? "?full=1" : ""));
  root.dataset.viewer = replay.viewer.full ? "full" : replay.viewer.seat === null ? "spectator" : String(replay.viewer.seat);
  render();
}

function go(to) {
  if (!replay) return;
  index = to;
  render();
}

$("prev").addEventListener("click", () => go(index - 1));
$("next").addEventListener("click", () => go(index + 1));
$("first").addEventListener("click", () => go(0));
$("last").addEventListener("click", () => go(Infinity));
$("full")?.addEventListener("change", (event) => load(event.target.checked));
document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLInputElement || event.altKey || event.ctrlKey || event.metaKey) return;
  const moves = { ArrowLeft: index - 1, ArrowRight: index + 1, Home: 0, End: Infinity };
  if (event.key in moves) {
    event.preventDefault();
    go(moves[event.key]);
  }
});
load(false).catch((error) => { $("step").textContent = `Could not load the replay: ${error.message}`; });
