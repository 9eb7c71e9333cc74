// Hearts at the table: the pass (choose three cards), the trick in the middle, deal and match scores.

import { backFan, cardFace, cardLabel, cardName, SUITS, sortHand, suitIcon } from "../cards.js";
import { h, listWords, plural } from "../dom.js";
import { actionOf, cardEntries, entryOf } from "../legal.js";
import { scoreTable, summarize } from "./common.js";

const PASS_OFFSET = { left: 1, right: 3, across: 2 };

function passTarget(view, seat) {
  const offset = PASS_OFFSET[view.pass_direction];
  return offset === undefined ? null : (seat + offset) % 4;
}

/** The pass this seat may still choose (its cards and how many), or null. */
function passEntry(ctx) {
  return ctx.me !== null && ctx.view.phase === "passing" ? entryOf(ctx.view, "pass_cards") : null;
}

function choosing(ctx) {
  return passEntry(ctx) !== null;
}

function syncSelection(ctx) {
  const table = ctx.table;
  const key = `${ctx.view.deal_number}:${ctx.view.phase}`;
  if (table.passKey !== key) {
    table.passKey = key;
    table.passSel = new Set();
  }
  for (const card of [...table.passSel]) if (!ctx.view.hand?.includes(card)) table.passSel.delete(card);
  return table.passSel;
}

/** The cards this player was just passed, marked until the first trick of the deal is taken. */
function received(ctx) {
  const got = ctx.table.received;
  const view = ctx.view;
  if (!got || got.deal !== view.deal_number || view.phase !== "playing") return null;
  const tricks = (view.tricks_won ?? []).reduce((a, b) => a + b, 0);
  return tricks === 0 ? got.cards : null;
}

/** What tells one finished trick from another within a match (a deal's cards are all different). */
function trickKey(trick) {
  return trick.cards.map((t) => t.card).join(" ");
}

function submitPass(ctx) {
  const sel = syncSelection(ctx);
  const entry = passEntry(ctx);
  const action = entry && actionOf(entry, { cards: [...sel] });
  if (!action || ctx.busy) return;
  // No seq: the others pass at the same time, so the table's seq moves without changing this choice.
  ctx.act(action, { withSeq: false });
}

export default {
  name: "hearts",
  title: "Hearts",
  minSeats: 4,
  maxSeats: 4,
  defaultSeats: 4,
  keys: ["p"], // pass: not used as a card key
  blurb: "Four players; avoid hearts and the queen of spades. Lowest total wins.",
  options: [
    { key: "target", label: "Match ends when someone reaches", type: "int", default: 100, min: 1, max: 1000, suffix: "points" },
    { key: "pass_cards", label: "Pass three cards each deal", type: "bool", default: true },
    { key: "no_points_first_trick", label: "No points on the first trick", type: "bool", default: true },
    { key: "must_break_hearts", label: "Hearts must be broken before they are led", type: "bool", default: true },
    { key: "queen_breaks_hearts", label: "The Q♠ breaks hearts", type: "bool", default: true },
    { key: "any_club_first_lead", label: "Any club may lead the first trick", type: "bool", default: false },
    { key: "jack_of_diamonds", label: "The J♦ counts −10", type: "bool", default: false },
    { key: "no_trick_bonus", label: "Bonus for taking no tricks", type: "bool", default: false },
    { key: "lead_hearts_when_only_queen", label: "May lead hearts when the Q♠ is the only other card", type: "bool",
      default: false },
  ],

  /** Where a card that left the hand went: a passed card to the seat it was passed to. */
  sendTo(ctx, key) {
    const view = ctx.view;
    const card = key.slice(5);
    if (ctx.me === null || !view.my_pass?.includes(card)) return null;
    const to = passTarget(view, ctx.me);
    return to === null ? null : document.querySelector(`#felt .seat[data-seat='${to}']`);
  },

  toAct(view) {
    if (view.phase === "passing") return [0, 1, 2, 3].filter((s) => !view.passed?.[s]);
    if (view.phase === "playing" && view.turn !== null && view.turn !== undefined) return [view.turn];
    return [];
  },

  seatTags(ctx, seat) {
    const view = ctx.view;
    if (view.phase === "passing" && view.passed?.[seat]) return ["passed"];
    return [];
  },

  seatCards(ctx, seat) {
    if (ctx.isMe(seat)) return null;
    return backFan(ctx.view.counts?.[seat] ?? 0, 7);
  },

  seatStats(ctx, seat) {
    const view = ctx.view;
    return [`${view.deal_points?.[seat] ?? 0} this deal`, `${view.scores?.[seat] ?? 0} total`,
      plural(view.tricks_won?.[seat] ?? 0, "trick")];
  },

  /** The seat a finished trick on the table goes to when it is cleared (its winner), else null. */
  collectTarget(ctx) {
    const view = ctx.view;
    return !view.trick?.length && view.last_trick ? view.last_trick.winner : null;
  },

  center(ctx) {
    const view = ctx.view;
    const trick = view.trick ?? [];
    const n = ctx.players.length || 4;
    const rel = (seat) => (seat - (ctx.me ?? 0) + n) % n;
    const place = ({ seat, card }, cls, winner = null, fly = true) => h("div", {
      class: ["trick-card", cls, seat === winner && "won"], "data-rel": rel(seat), "data-seat": seat },
    cardFace(card, { props: { "aria-label": `${cardName(card)}, played by ${ctx.name(seat)}`,
      "data-fly": fly && `card:${card}`, "data-from": fly && `.seat[data-seat='${seat}']` } }));
    const last = view.last_trick;
    // While a trick is in play the one before it can be looked at again (its cards do not fly: a look
    // back, not a play); a new finished trick ends the look.
    const peekable = trick.length > 0 && !!last;
    const peeking = peekable && ctx.table.lastTrickShown === trickKey(last);
    let cards;
    let caption = null;
    if (peeking) {
      cards = last.cards.map((t) => place(t, "last", last.winner, false));
      caption = `Last trick: ${ctx.name(last.winner)} took it`;
    } else if (trick.length) {
      cards = trick.map((t) => place(t, null));
    } else if (last) {
      cards = last.cards.map((t) => place(t, "last", last.winner));
      caption = `${ctx.name(last.winner)} ${ctx.isMe(last.winner) ? "take" : "takes"} the trick`;
    } else cards = [];
    const info = [h("span", {}, `Deal ${view.deal_number + 1}`)];
    if (view.phase === "passing") info.push(h("span", {}, `pass ${view.pass_direction}`));
    if (view.hearts_broken) info.push(h("span", { class: "broken" }, suitIcon("H"), " broken"));
    if (peekable) {
      info.push(h("button", { type: "button", class: "last-trick-toggle", id: "last-trick",
        "aria-pressed": String(peeking),
        onclick: () => {
          ctx.table.lastTrickShown = peeking ? null : trickKey(last);
          ctx.table.render();
          document.getElementById("last-trick")?.focus();
        } }, peeking ? "Back to this trick" : "Last trick"));
    }
    return h("div", { class: "hearts-center" },
      h("div", { class: ["trick", peeking && "peeking"], id: "trick", role: "group",
        "aria-label": peeking ? "The last trick" : "The trick" }, cards),
      h("div", { class: "center-info" }, info, caption ? h("span", { class: "caption" }, caption) : null));
  },

  hand(ctx, myTurn) {
    const view = ctx.view;
    if (ctx.me === null || !view.hand) return null;
    const cards = sortHand(view.hand);
    if (view.phase === "passing") {
      const sel = syncSelection(ctx);
      const entry = passEntry(ctx);
      return {
        cards,
        enabled: new Set(entry?.cards ?? []),
        selected: sel,
        received: received(ctx),
        onPick(card) {
          if (!entry?.cards.includes(card)) return;
          if (sel.has(card)) sel.delete(card);
          else if (sel.size < entry.count) sel.add(card);
          ctx.table.render();
        },
      };
    }
    const plays = myTurn ? cardEntries(view) : new Map();
    return {
      cards,
      enabled: new Set(plays.keys()),
      received: received(ctx),
      onPick: (card) => plays.has(card) && ctx.act(actionOf(plays.get(card), { card })),
    };
  },

  controls(ctx) {
    const view = ctx.view;
    if (ctx.me === null || view.phase !== "passing") return null;
    const target = passTarget(view, ctx.me);
    if (!choosing(ctx)) {
      const mine = view.my_pass ?? [];
      return h("div", { class: "game-controls" },
        h("span", { class: "muted" }, mine.length ? `You passed ${mine.map(cardLabel).join(" ")}.` : ""));
    }
    const sel = syncSelection(ctx);
    const count = passEntry(ctx).count;
    return h("div", { class: "game-controls" },
      h("button", { type: "button", id: "pass-cards", class: "primary", disabled: sel.size !== count || ctx.busy,
        onclick: () => submitPass(ctx), title: "P" },
      `Pass ${sel.size}/${count} ${view.pass_direction} to ${ctx.nameOf(target)}`));
  },

  prompt(ctx, myTurn) {
    const view = ctx.view;
    if (view.phase === "over") return "The match is over.";
    if (view.phase === "dealing") return "The next deal is announced: shuffling with everyone's entropy…";
    if (view.phase === "passing") {
      if (ctx.me === null) return "Everyone is choosing three cards to pass.";
      if (choosing(ctx)) {
        return `Choose three cards to pass ${view.pass_direction} to ${ctx.nameOf(passTarget(view, ctx.me))}.`;
      }
      return "Waiting for the others to pass…";
    }
    if (!myTurn) return ctx.me === null ? `${ctx.name(view.turn)} to play.` : `Waiting for ${ctx.name(view.turn)}…`;
    const trick = view.trick ?? [];
    if (!trick.length) return view.hand?.includes("2C") ? "Your lead: the 2♣ opens the deal." : "Your lead.";
    const led = trick[0].card[1];
    return view.hand?.some((c) => c[1] === led) ? `Your turn: follow ${SUITS[led].name}.`
      : `Your turn: no ${SUITS[led].name}, play anything allowed.`;
  },

  onKey(ctx, key) {
    if ((key === "p" || key === "P" || key === "Enter") && choosing(ctx) &&
      syncSelection(ctx).size === passEntry(ctx).count) {
      submitPass(ctx);
      return true;
    }
    return false;
  },

  describe(ev, ctx) {
    const who = ctx.name(ev.seat);
    switch (ev.kind) {
      case "cards_passed":
        return ev.cards ? `${who} passed ${ev.cards.map(cardLabel).join(" ")} to ${ctx.name(ev.to_seat)}.`
          : `${who} passed three cards.`;
      case "cards_received":
        return ev.cards ? `${who} received ${ev.cards.map(cardLabel).join(" ")} from ${ctx.name(ev.from_seat)}.` : null;
      case "played":
        return `${who} played ${cardLabel(ev.card)}.`;
      case "hearts_broken":
        return "Hearts are broken.";
      case "trick_won":
        return `${who} took the trick${ev.points ? ` (${plural(ev.points, "point")})` : ""}.`;
      case "deal_scored": {
        if (ev.moon !== null && ev.moon !== undefined) return `${ctx.name(ev.moon)} shot the moon!`;
        const parts = ev.points.map((p, seat) => `${ctx.nameOf(seat)} ${p}`);
        return `Deal ${ev.deal + 1} scored: ${listWords(parts)}.`;
      }
      case "deal_started":
        return `Deal ${ev.deal + 1}${ev.pass_direction !== "none" ? `: pass ${ev.pass_direction}` : ": no passing"}.`;
      case "match_over":
        return "The match is over.";
      default:
        return null;
    }
  },

  scores(ctx) {
    const view = ctx.view;
    if (!view.scores) return null;
    const deals = view.deals ?? [];
    const head = ["Player", ...deals.map((_, i) => `D${i + 1}`), "This deal", "Total"];
    const rows = ctx.players.map((p, seat) => ({
      cls: seat === ctx.me ? "me" : "",
      cells: [ctx.nameOf(seat), ...deals.map((d) => d[seat]), view.phase === "over" ? "–" : view.deal_points[seat],
        view.scores[seat]],
    }));
    const target = ctx.info?.options?.target;
    return scoreTable(head, rows, { caption: target ? `Match to ${target} points; lowest wins` : "Lowest total wins" });
  },

  result(ctx, over) {
    return summarize(ctx, over, ctx.view.scores, { lowerIsBetter: true, scoreLabel: "Points" });
  },
};
