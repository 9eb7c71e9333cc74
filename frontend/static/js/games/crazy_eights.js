// Crazy Eights at the table: stock and discard pile, the current suit, drawing, passing, naming a suit.

import { backFan, cardBack, cardFace, cardLabel, cardSlot, SUITS, sortHand, suitIcon } from "../cards.js";
import { h, listWords, plural } from "../dom.js";
import { actionOf, cardEntries, entryOf } from "../legal.js";
import { scoreTable, summarize } from "./common.js";

const MAX_DRAWS = 5;
const RANK_WORD = { T: "10", J: "jack", Q: "queen", K: "king", A: "ace" };

/** "a 7", "an 8", "an ace" */
function withArticle(word) {
  return `${/^(8|ace|11|18)/.test(word) ? "an" : "a"} ${word}`;
}

/** What may be played on this top card, in words: "a spade or an 8", "a heart, a king or an 8". */
function playableWords(view) {
  const rank = view.top[0];
  const parts = [withArticle(SUITS[view.suit].one)];
  if (rank !== "8" && view.suit === view.top[1]) parts.push(withArticle(RANK_WORD[rank] ?? rank));
  parts.push("an 8");
  return listWords(parts).replace(/ and ([^,]+)$/, " or $1");
}

/** What the view offers: card -> its play entry (with `suits` when an 8 names one), the draw and pass entries. */
function legalOf(view) {
  return { plays: cardEntries(view), draw: entryOf(view, "draw"), pass: entryOf(view, "pass") };
}

function myTurnNow(ctx) {
  return ctx.me !== null && ctx.frame.status === "playing" && ctx.view.turn === ctx.me && !ctx.view.over;
}

function draw(ctx) {
  const entry = legalOf(ctx.view).draw;
  if (myTurnNow(ctx) && entry && !ctx.busy) ctx.act(actionOf(entry));
}

function pass(ctx) {
  const entry = legalOf(ctx.view).pass;
  if (myTurnNow(ctx) && entry && !ctx.busy) ctx.act(actionOf(entry));
}

export default {
  name: "crazy_eights",
  title: "Crazy Eights",
  minSeats: 2,
  maxSeats: 5,
  defaultSeats: 3,
  keys: ["d", "p"], // draw, pass: not used as card keys
  dealFrom: "#stock",
  blurb: "Match the suit or rank; eights are wild. Lowest penalty wins.",
  options: [
    { key: "queen_skips", label: "Queens skip the next player", type: "bool", default: false },
    { key: "ace_reverses", label: "Aces reverse the direction", type: "bool", default: false },
    { key: "two_draws_two", label: "Twos make the next player draw two (stacking)", type: "bool", default: false },
  ],

  toAct(view) {
    return view.over || view.turn === null || view.turn === undefined ? [] : [view.turn];
  },

  seatTags(ctx, seat) {
    return ctx.view.dealer === seat ? ["dealer"] : [];
  },

  seatCards(ctx, seat) {
    if (ctx.isMe(seat)) return null;
    return backFan(ctx.view.counts?.[seat] ?? 0);
  },

  seatStats(ctx, seat) {
    const view = ctx.view;
    const out = [plural(view.counts?.[seat] ?? 0, "card")];
    if (view.scores) out.push(`${view.scores[seat]} pts`);
    return out;
  },

  center(ctx) {
    const view = ctx.view;
    const { draw: canDraw } = legalOf(view);
    const active = myTurnNow(ctx) && canDraw && !ctx.busy;
    const stockCard = view.stock > 0 ? cardBack() : cardSlot("empty");
    const stock = h(active ? "button" : "div", {
      class: ["pile", "stock", active && "active"], id: "stock", type: active ? "button" : undefined,
      title: active ? "Draw a card (D)" : undefined, "aria-label": `Stock: ${view.stock} cards${active ? "; draw" : ""}`,
      onclick: active ? () => draw(ctx) : undefined,
    }, stockCard, h("span", { class: "pile-label" }, `${view.stock} in stock`));
    const discards = view.discards ?? [view.top];
    const under = discards.slice(-4, -1);
    const pile = h("div", { class: "pile discard", id: "discard", "aria-label": `Discard pile, top card ${cardLabel(view.top)}` },
      h("div", { class: "stack" },
        under.map((card, i) => cardFace(card, { cls: `under u${under.length - i}` })),
        cardFace(view.top, { cls: "top", props: {
          "data-fly": `card:${view.top}`,
          "data-from": ctx.table.lastPlayedBy !== null ? `.seat[data-seat='${ctx.table.lastPlayedBy}']` : "#stock",
        } })),
      h("span", { class: "pile-label" }, `${plural(discards.length, "card")} played`));
    const named = view.top && view.suit !== view.top[1];
    const suitBox = h("div", { class: ["current-suit", named && "named"], id: "current-suit" },
      suitIcon(view.suit, "suit-icon big"),
      h("span", {}, named ? `${SUITS[view.suit].name} named` : `suit: ${SUITS[view.suit]?.name ?? "?"}`));
    const extra = [];
    if (view.options?.ace_reverses) {
      extra.push(h("span", { class: "chip-note" }, view.direction === 1 ? "↻ clockwise" : "↺ counter-clockwise"));
    }
    if (view.pending_draw) extra.push(h("span", { class: "chip-note warn" }, `+${view.pending_draw} to draw`));
    return h("div", { class: "c8-center" }, h("div", { class: "piles" }, stock, pile), suitBox,
      extra.length ? h("div", { class: "notes" }, extra) : null);
  },

  hand(ctx, myTurn) {
    if (ctx.me === null || !ctx.view.hand) return null;
    const { plays } = legalOf(ctx.view);
    const enabled = myTurn ? new Set(plays.keys()) : new Set();
    return {
      cards: sortHand(ctx.view.hand),
      enabled,
      onPick(card) {
        const entry = plays.get(card);
        if (!entry || !myTurn) return;
        if (!entry.suits?.length) ctx.act(actionOf(entry, { card }));
        else {
          ctx.table.picker = { card, entry, suits: entry.suits }; // the table asks for the suit
          ctx.table.render();
        }
      },
    };
  },

  controls(ctx, myTurn) {
    if (ctx.me === null) return null;
    const view = ctx.view;
    const legal = legalOf(view);
    const left = MAX_DRAWS - (view.drawn_this_turn ?? 0);
    const drawLabel = view.pending_draw ? `Draw ${view.pending_draw} (penalty)` : `Draw a card`;
    return h("div", { class: "game-controls" },
      h("button", { type: "button", id: "draw", class: "primary", disabled: !(myTurn && legal.draw) || ctx.busy,
        onclick: () => draw(ctx), title: "D" }, drawLabel,
      myTurn && legal.draw && !view.pending_draw ? h("small", {}, ` (${left} left)`) : null),
      h("button", { type: "button", id: "pass", disabled: !(myTurn && legal.pass) || ctx.busy,
        onclick: () => pass(ctx), title: "P" }, "Pass"));
  },

  prompt(ctx, myTurn) {
    const view = ctx.view;
    if (view.over) return "The hand is over.";
    if (!myTurn) {
      const who = ctx.name(view.turn);
      return ctx.me === null ? `${who} to play.` : `Waiting for ${who}…`;
    }
    const legal = legalOf(view);
    if (view.pending_draw) {
      return legal.plays.size ? `Answer with a 2, or draw ${view.pending_draw}.` : `Draw ${view.pending_draw} cards.`;
    }
    const options = playableWords(view);
    if (!legal.plays.size) return legal.draw ? `Your turn: nothing to play — draw.` : "Your turn: nothing to play — pass.";
    return `Your turn: play ${options}${legal.draw ? ", or draw" : ""}${legal.pass ? ", or pass" : ""}.`;
  },

  onKey(ctx, key) {
    if (key === "d" || key === "D") {
      draw(ctx);
      return true;
    }
    if (key === "p" || key === "P") {
      pass(ctx);
      return true;
    }
    return false;
  },

  describe(ev, ctx) {
    const who = ctx.name(ev.seat);
    switch (ev.kind) {
      case "started":
        return `${ctx.name(ev.dealer)} dealt; the starter is ${cardLabel(ev.starter)}.`;
      case "played":
        return ev.card[0] === "8" ? `${who} played ${cardLabel(ev.card)} and named ${SUITS[ev.suit].name}.`
          : `${who} played ${cardLabel(ev.card)}.`;
      case "drew":
        if (ev.card) return `${who} drew ${cardLabel(ev.card)}${ev.penalty ? " (penalty)" : ""}.`;
        return `${who} drew a card${ev.penalty ? " (penalty)" : ""}.`;
      case "passed":
        return `${who} passed.`;
      case "skipped":
        return `${who} ${ctx.isMe(ev.seat) ? "are" : "is"} skipped.`;
      case "reversed":
        return `${who} reversed the direction.`;
      case "penalty":
        return `${who} must draw ${ev.pending} or answer with a 2.`;
      case "hand_over":
        if (ev.reason === "out") return `${ctx.name(ev.went_out)} went out!`;
        if (ev.reason === "blocked") return "Nobody can play: the hand is blocked.";
        return "The hand reached its play limit.";
      default:
        return null;
    }
  },

  scores(ctx) {
    const view = ctx.view;
    if (!view.counts) return null;
    const rows = ctx.players.map((p, seat) => ({
      cls: [seat === ctx.me && "me", view.turn === seat && "turn"].filter(Boolean).join(" "),
      cells: [ctx.nameOf(seat), view.counts[seat], view.scores ? view.scores[seat] : "–"],
    }));
    return scoreTable(["Player", "Cards", "Penalty"], rows, { caption: "One hand; lowest penalty wins" });
  },

  result(ctx, over) {
    const summary = summarize(ctx, over, ctx.view.scores, { lowerIsBetter: true, scoreLabel: "Penalty points" });
    const out = ctx.view.went_out;
    summary.subtitle = out !== null && out !== undefined ? `${ctx.name(out)} went out.` : "Nobody went out.";
    return summary;
  },
};
