// No-Limit Hold'em at the table: hole cards, the board, pots, stacks and bets, and the betting controls
// with the legal range the view's `legal` entries carry (bet/raise min and max). The table's own facts
// (stacks between hands, the hand number, the next deal, buy-ins) come in the frame's `cash`.

import { bestFive } from "../besthand.js";
import { backFan, cardFace, cardLabel, cardName, cardSlot } from "../cards.js";
import { formatChips, h, listWords } from "../dom.js";
import { actionOf, amountEntry, clampAmount as clampTo, entryOf } from "../legal.js";
import { scoreTable, summarize } from "./common.js";
import { preActionButtons, runPreAction } from "./holdem_pre.js";
import { sitAndGoLine, sitAndGoOf, sitAndGoPlaces } from "./sitandgo.js";

const STREET_NAME = { preflop: "Pre-flop", flop: "Flop", turn: "Turn", river: "River", showdown: "Showdown",
  over: "Hand over" };

function legalOf(view) {
  return { fold: entryOf(view, "fold"), check: entryOf(view, "check"), call: entryOf(view, "call") };
}

function shownOf(view, seat) {
  const shown = view.shown ?? {};
  return shown[seat] ?? shown[String(seat)] ?? null;
}

function myTurnNow(ctx) {
  return ctx.me !== null && ctx.frame.status === "playing" && ctx.view.turn === ctx.me && !ctx.view.over;
}

/** The bet or raise entry (its `field`, `min` and `max`), or null. */
function raiseMove(view) {
  return amountEntry(view);
}

/** The amount chosen for this view's bet or raise (the minimum until one is chosen), kept in range. */
function clampAmount(ctx) {
  const move = raiseMove(ctx.view);
  if (!move) return null;
  const table = ctx.table;
  const chosen = table.betKey === `${ctx.frame.seq}` ? table.betAmount : null;
  table.betKey = `${ctx.frame.seq}`;
  table.betAmount = clampTo(move, chosen);
  return table.betAmount;
}

function doAction(ctx, type) {
  if (!myTurnNow(ctx) || ctx.busy) return;
  const view = ctx.view;
  const legal = legalOf(view);
  if (type === "fold" && legal.fold) ctx.act(actionOf(legal.fold));
  else if (type === "checkcall") {
    const entry = legal.check ?? legal.call;
    if (entry) ctx.act(actionOf(entry));
  } else if (type === "raise") {
    const move = raiseMove(view);
    if (move) ctx.act(actionOf(move, { amount: clampAmount(ctx) }));
  }
}

function inHand(view) {
  return typeof view.street === "string";
}

/** The cash table's facts ({} before the first frame that has them). */
function cashOf(ctx) {
  return ctx.frame.cash ?? {};
}

function stacksOf(ctx) {
  return inHand(ctx.view) ? ctx.view.stacks ?? [] : cashOf(ctx).table_stacks ?? [];
}

/** "Bot 1 won 300 · you −100": the last hand's result, from its game_over, while it is on the table. */
function handResult(ctx) {
  const last = ctx.table.lastResult;
  const view = ctx.view;
  const handNo = cashOf(ctx).hand_no;
  if (!last || (inHand(view) && !view.over) || (last.hand_no !== null && last.hand_no !== handNo)) return null;
  const parts = last.scores.map((change, seat) => (change ? `${ctx.name(seat)} ${change > 0 ? "+" : "−"}${formatChips(Math.abs(change))}` : null))
    .filter(Boolean);
  return h("div", { class: "hand-result", id: "hand-result" }, `Last hand: ${parts.join(" · ") || "no chips changed hands"}`);
}

/** Seats that won chips in a finished hand. */
function winnersOf(view) {
  return view.over && view.payouts ? view.payouts.map((p, seat) => (p > 0 ? seat : -1)).filter((s) => s >= 0) : [];
}

/** The winning five cards (board and shown hole cards), once a hand is over with cards shown. */
function winningCards(ctx) {
  const view = ctx.view;
  const out = new Set();
  for (const seat of winnersOf(view)) {
    const hole = shownOf(view, seat) ?? (ctx.isMe(seat) ? view.hole : null);
    if (!hole || (view.board ?? []).length < 3) continue;
    for (const card of bestFive([...hole, ...view.board])) out.add(card);
  }
  return out;
}

function startable(ctx) {
  const cash = cashOf(ctx);
  return ctx.me !== null && !inHand(ctx.view) && !cash.next_hand_at && !(cash.hand_no > 0)
    && (sitAndGoOf(ctx)?.state ?? "registering") === "registering";
}

export default {
  name: "holdem",
  title: "No-Limit Hold'em",
  cash: true, // a cash table: sit down and stand up any time, hands follow one another
  minSeats: 2,
  maxSeats: 9,
  defaultSeats: 6,
  keys: ["f", "c", "r", "b"], // fold, check/call, raise, bet
  dealFrom: "#pot",
  blurb: "Two hole cards, five on the board, no-limit betting.",
  options: [
    { key: "small_blind", label: "Small blind", type: "int", default: 50, min: 1, max: 1000000 },
    { key: "big_blind", label: "Big blind", type: "int", default: 100, min: 1, max: 1000000 },
    { key: "min_buy_in", label: "Minimum buy-in", type: "int", default: 2000, min: 1, max: 100000000 },
    { key: "max_buy_in", label: "Maximum buy-in", type: "int", default: 20000, min: 1, max: 100000000 },
  ],

  toAct(view) {
    return view.over || view.turn === null || view.turn === undefined ? [] : [view.turn];
  },

  seatTags(ctx, seat) {
    const view = ctx.view;
    const tags = [];
    if (view.button === seat) tags.push("BTN"); // the dealer button, as poker rooms write it (short on a phone)
    if (view.small_blind_seat === seat && view.street === "preflop") tags.push("SB");
    if (view.big_blind_seat === seat && view.street === "preflop") tags.push("BB");
    return tags;
  },

  seatCards(ctx, seat) {
    const view = ctx.view;
    if (!inHand(view) || ctx.frame.players[seat] === null) return null;
    if (!view.dealt_in?.[seat]) return h("span", { class: "muted small" }, "sitting out");
    const shown = shownOf(view, seat);
    if (shown) {
      const best = winningCards(ctx);
      return h("div", { class: "hole shown" }, shown.map((c) => cardFace(c, { cls: ["small", best.has(c) && "best"]
        .filter(Boolean).join(" ") })));
    }
    if (ctx.isMe(seat)) return null;
    if (view.folded?.[seat]) return h("span", { class: "muted small" }, "folded");
    return backFan(2);
  },

  seatStats(ctx, seat) {
    const view = ctx.view;
    if (ctx.frame.players[seat] === null) return [];
    const out = [`${formatChips(stacksOf(ctx)[seat] ?? 0)} chips`];
    if (view.all_in?.[seat]) out.push("all in");
    if (view.payouts?.[seat]) out.push(`won ${formatChips(view.payouts[seat])}`);
    return out;
  },

  /** This seat's bet in the current round, as a chip by its box (it flies to the pot when the round ends). */
  seatBet(ctx, seat) {
    const bet = ctx.view.bets?.[seat];
    if (!bet || !inHand(ctx.view)) return null;
    return h("div", { class: "seat-bet", "data-fly": `bet:${seat}`, "aria-label": `bet ${formatChips(bet)}` },
      h("span", { class: "chip-disc", "aria-hidden": "true" }), `bet ${formatChips(bet)}`);
  },

  winners(ctx) {
    return winnersOf(ctx.view);
  },

  autoAct(ctx) {
    return runPreAction(ctx);
  },

  center(ctx) {
    const view = ctx.view;
    const cash = cashOf(ctx);
    if (!inHand(view)) {
      const funded = stacksOf(ctx).filter((s) => s > 0).length;
      let text;
      const sng = sitAndGoOf(ctx);
      if (sng?.state === "finished") text = ["The sit-and-go is over."];
      else if (cash.next_hand_at) text = ["Next hand in ", ctx.table.countdown(cash.next_hand_at, 3)];
      else if (sng) text = ["Registering: the tournament starts when every seat is taken."];
      else if (funded < 2) text = ["Waiting for players: a hand needs two with chips."];
      else text = ["Ready: a seated player starts the first hand."];
      return h("div", { class: "waiting" }, h("p", { class: "big" }, text), handResult(ctx), sitAndGoLine(ctx),
        sitAndGoPlaces(ctx), cash.min_buy_in && !sng ? h("p", { class: "muted" },
          `Buy-in ${formatChips(cash.min_buy_in)}–${formatChips(cash.max_buy_in)} chips`) : null);
    }
    const board = view.board ?? [];
    const best = winningCards(ctx);
    const slots = Array.from({ length: 5 }, (_, i) => (board[i] ? cardFace(board[i], {
      cls: best.has(board[i]) ? "best" : "", props: { "data-fly": `card:${board[i]}`, "data-from": "#pot",
        "aria-label": `${cardName(board[i])}${best.has(board[i]) ? ", in the winning hand" : ""}` },
    }) : cardSlot()));
    const pots = view.pots?.length > 1
      ? h("div", { class: "side-pots" }, view.pots.map((p, i) => h("span", {}, `${i ? `side pot ${i}` : "main"} ${formatChips(p.amount)}`)))
      : null;
    return h("div", { class: "holdem-center" },
      h("div", { class: "board", id: "board", role: "group", "aria-label": "The board" }, slots),
      h("div", { class: "pot", id: "pot" }, h("span", { class: "chip-disc", "aria-hidden": "true" }),
        `Pot ${formatChips(view.pot)}`),
      pots,
      h("div", { class: "center-info" }, h("span", {}, STREET_NAME[view.street] ?? view.street),
        cash.hand_no ? h("span", {}, `hand ${cash.hand_no}`) : null,
        h("span", {}, `Blinds ${formatChips(view.small_blind)}/${formatChips(view.big_blind)}`)),
      sitAndGoLine(ctx), sitAndGoPlaces(ctx), handResult(ctx));
  },

  hand(ctx) {
    const view = ctx.view;
    if (ctx.me === null || !view.hole) return null;
    return { cards: view.hole, enabled: new Set(), static: true, best: winningCards(ctx), onPick() {} };
  },

  controls(ctx, myTurn) {
    if (ctx.me === null) return null;
    const view = ctx.view;
    if (startable(ctx)) {
      const free = ctx.frame.players.filter((p) => p === null).length;
      const funded = stacksOf(ctx).filter((s) => s > 0).length;
      return h("div", { class: "game-controls" },
        sitAndGoOf(ctx) ? null : h("button", { type: "button", class: "primary", id: "start",
          disabled: funded < 2 || ctx.busy, onclick: () => ctx.table.start() }, "Deal the first hand"),
        free && ctx.table.app.mayAddBots(ctx.table)
          ? h("button", { type: "button", id: "fill-bots", onclick: () => ctx.table.fillBots() },
            `Fill ${free} seat${free === 1 ? "" : "s"} with bots`) : null);
    }
    if (!myTurn) return preActionButtons(ctx);
    const legal = legalOf(view);
    const move = raiseMove(view);
    const busy = ctx.busy;
    const parts = [];
    if (legal.fold) parts.push(h("button", { type: "button", id: "fold", disabled: busy, title: "F",
      onclick: () => doAction(ctx, "fold") }, "Fold"));
    if (legal.check) parts.push(h("button", { type: "button", id: "check", class: "primary", disabled: busy, title: "C",
      onclick: () => doAction(ctx, "checkcall") }, "Check"));
    if (legal.call) parts.push(h("button", { type: "button", id: "call", class: "primary", disabled: busy, title: "C",
      onclick: () => doAction(ctx, "checkcall") }, `Call ${formatChips(legal.call.cost)}`));
    if (move) {
      const amount = clampAmount(ctx);
      const verb = move.type === "bet" ? "Bet" : "Raise to";
      // all in says so first and short, so the three buttons stay on one row on a phone
      const label = (value) => (value === move.max ? `All in ${formatChips(value)}` : `${verb} ${formatChips(value)}`);
      const confirm = h("button", { type: "button", id: "raise", class: "primary", disabled: busy, title: "R",
        onclick: () => doAction(ctx, "raise") }, label(amount));
      const set = (value) => {
        ctx.table.betAmount = value;
        const clamped = clampAmount(ctx);
        range.value = String(clamped);
        number.value = String(clamped);
        confirm.textContent = label(clamped);
      };
      const range = h("input", { type: "range", id: "bet-range", min: move.min, max: move.max, step: 1, value: amount,
        "aria-label": `${verb} amount` });
      range.addEventListener("input", () => set(Number(range.value)));
      const number = h("input", { type: "number", id: "bet-amount", min: move.min, max: move.max, step: 1, value: amount,
        "aria-label": `${verb} amount`, inputmode: "numeric" });
      number.addEventListener("change", () => set(Number(number.value)));
      const top = Math.max(...(view.bets ?? [0]));
      const potAfterCall = (view.pot ?? 0) + Math.max(0, top - (view.bets?.[ctx.me] ?? 0));
      const preset = (label, value) => h("button", { type: "button", class: "small", onclick: () => set(value) }, label);
      parts.push(confirm, h("div", { class: "raise-box" },
        h("div", { class: "presets" },
          preset("Min", move.min), preset("½ pot", top + Math.round(potAfterCall / 2)), preset("Pot", top + potAfterCall),
          preset("All in", move.max)),
        h("div", { class: "amount" }, range, number),
        h("small", { class: "muted range-note" }, `${formatChips(move.min)} – ${formatChips(move.max)}`)));
      set(amount);
    }
    return h("div", { class: "game-controls holdem-controls" }, parts);
  },

  prompt(ctx, myTurn) {
    const view = ctx.view;
    if (!inHand(view)) return ctx.me === null ? "Between hands." : startable(ctx) ? "Sit tight: deal when everyone is here." : "Between hands.";
    if (view.over) return "The hand is over.";
    if (!myTurn) return ctx.me === null ? `${ctx.name(view.turn)} to act.` : `Waiting for ${ctx.name(view.turn)}…`;
    return view.to_call ? `Your turn: ${formatChips(view.to_call)} to call.` : "Your turn: check or bet.";
  },

  onKey(ctx, key) {
    const k = key.toLowerCase();
    if (k === "f") doAction(ctx, "fold");
    else if (k === "c") doAction(ctx, "checkcall");
    else if (k === "r" || k === "b") doAction(ctx, "raise");
    else return false;
    return true;
  },

  describe(ev, ctx) {
    const who = ctx.name(ev.seat);
    switch (ev.kind) {
      case "hand_started":
        return `New hand: ${ctx.name(ev.button)} ${ctx.isMe(ev.button) ? "have" : "has"} the button.`;
      case "blind_posted":
        return `${who} posted the ${ev.blind} blind (${formatChips(ev.amount)})${ev.all_in ? ", all in" : ""}.`;
      case "hole_cards":
        return ev.cards ? `You were dealt ${ev.cards.map(cardLabel).join(" ")}.` : null;
      case "action": {
        const allIn = ev.all_in ? " (all in)" : "";
        if (ev.action === "fold") return `${who} folded.`;
        if (ev.action === "check") return `${who} checked.`;
        if (ev.action === "call") return `${who} called ${formatChips(ev.amount)}${allIn}.`;
        if (ev.action === "bet") return `${who} bet ${formatChips(ev.to)}${allIn}.`;
        return `${who} raised to ${formatChips(ev.to)}${allIn}.`;
      }
      case "street":
        return `${STREET_NAME[ev.street] ?? ev.street}: ${ev.cards.map(cardLabel).join(" ")}.`;
      case "uncalled_returned":
        return `${formatChips(ev.amount)} returned to ${who}.`;
      case "showdown":
        return `Showdown: ${listWords(ev.hands.map((x) => `${ctx.name(x.seat)} ${x.cards.map(cardLabel).join(" ")} (${x.hand})`))}.`;
      case "pot_awarded":
        return `${who} won ${formatChips(ev.amount)}${ev.pot ? ` (side pot ${ev.pot})` : ""}${ev.hand ? ` with ${ev.hand}` : ""}.`;
      case "hand_over":
        return "The hand is over.";
      default:
        return null;
    }
  },

  scores(ctx) {
    const view = ctx.view;
    const stacks = stacksOf(ctx);
    const last = ctx.table.lastResult;
    const rows = ctx.players.map((p, seat) => (p === null ? null : {
      cls: [seat === ctx.me && "me", view.folded?.[seat] && "folded"].filter(Boolean).join(" "),
      cells: [ctx.nameOf(seat), formatChips(stacks[seat] ?? 0), view.bets?.[seat] ? formatChips(view.bets[seat]) : "",
        last ? `${last.scores[seat] > 0 ? "+" : ""}${formatChips(last.scores[seat] ?? 0)}` : ""],
    })).filter(Boolean);
    return scoreTable(["Player", "Stack", "Bet", "Last hand"], rows);
  },

  result(ctx, over) {
    const sng = sitAndGoOf(ctx);
    if (sng?.state === "finished") { // the tournament's end: places and prizes
      const places = [...(sng.places ?? [])].sort((a, b) => a.place - b.place);
      return { title: "Tournament over", subtitle: `Sit & Go, ${sng.registered} players, pool ${formatChips(sng.pool)}`,
        scoreLabel: "Place · prize", rows: places.map((p) => ({ seat: p.seat, name: ctx.nameOf(p.seat),
          winner: p.place === 1, score: `${p.place} · ${p.prize ? formatChips(p.prize) : "—"}` })) };
    }
    const summary = summarize(ctx, over, null, {
      lowerIsBetter: false, scoreLabel: "Chips won or lost",
      format: (v) => (v > 0 ? `+${formatChips(v)}` : formatChips(v)),
    });
    if (ctx.view.board?.length) summary.subtitle = `Board: ${ctx.view.board.map(cardLabel).join(" ")}`;
    return summary;
  },
};
