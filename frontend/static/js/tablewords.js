// What a table says about itself, in plain words: its title and status badges, who sat down, left, went
// away or came back (worked out by comparing two views), the banner when a bot is playing for this
// player (with "I'm back"), and the question asked before leaving mid-hand, which says what happens.

import { h } from "./dom.js";
import { tableName } from "./names.js";
import { policyBadge, sitIn } from "./policy.js";
import { seatState } from "./seats.js";

/** Event kinds that are a seat's own move (so one this player did not send was made for them). */
export const MOVE_KINDS = new Set(["played", "drew", "passed", "cards_passed", "action"]);

export function titleOf(table) {
  const game = table.game;
  return `${game?.title ?? "Table"} · ${tableName(table.id)}`;
}

/** Status words: no "Playing" at a cash table before its first hand. */
function statusWord(table) {
  const frame = table.frame;
  if (table.game?.cash) {
    const cash = frame.cash ?? {};
    const inHand = typeof frame.view?.street === "string" && !frame.view.over;
    if (inHand) return ["playing", `Hand ${cash.hand_no ?? ""}`.trim()];
    if (cash.next_hand_at) return ["playing", "Between hands"];
    return ["waiting", cash.hand_no ? "Between hands" : "Not started"];
  }
  if (frame.status === "waiting") {
    return ["waiting", frame.players.includes(null) ? "Waiting for players" : "Ready to start"];
  }
  return frame.status === "over" ? ["over", "Finished"] : ["playing", "In play"];
}

export function badges(table, ctx) {
  const frame = table.frame;
  const out = [];
  if (frame) {
    const [cls, word] = statusWord(table);
    out.push(h("span", { class: `badge status-${cls}`, id: "table-status" }, word));
  }
  if (frame && ctx.me === null) out.push(h("span", { class: "badge watching" }, "Watching"));
  if (frame?.public === false || table.info?.public === false) {
    out.push(h("span", { class: "badge private", id: "private-badge" }, "Private"));
  }
  const clock = table.info?.clock;
  if (clock) out.push(h("span", { class: "badge optional" }, `${clock}s clock`));
  const delay = frame?.spectator_delay || table.info?.spectator_delay; // the view says so from its first frame
  if (delay) {
    out.push(h("span", { class: "badge", id: "delay-badge", title: "The game server holds spectators' view back" },
      ctx.me === null ? `You watch ${delay === "hand" ? "a hand" : `${delay} s`} behind` : delayWords(delay)));
  }
  const policy = policyBadge(table);
  if (policy) out.push(policy);
  return out;
}

/** "spectators 30 s late", "spectators a hand late" */
export function delayWords(delay) {
  return `spectators ${delay === "hand" ? "a hand" : `${delay} s`} late`;
}

/** "ann sat down", "Bot 2 left", "bea is away: a bot plays for her", "bea is back", between two views. */
export function seatChanges(before, after, ctx) {
  const out = [];
  const n = Math.max(before.players?.length ?? 0, after.players?.length ?? 0);
  for (let seat = 0; seat < n; seat += 1) {
    const was = seatState(before, seat);
    const now = seatState(after, seat);
    const mine = seat === after.seat;
    if (was.player !== now.player) {
      if (was.player !== null && now.player !== null && now.bot && now.player.startsWith(was.player)) {
        out.push(mine ? "A bot took your seat for good." : `${was.player} gave up the seat: a bot plays it.`);
      } else {
        if (was.player !== null) out.push(`${was.player} left.`);
        if (now.player !== null && !mine) out.push(`${now.player} sat down.`);
      }
      continue;
    }
    if (now.player === null) continue;
    if (!was.sittingOut && now.sittingOut) {
      out.push(mine ? (ctx.table?.game?.cash ? "You sit out from the next hand." : "You sit out: a bot plays for you.")
        : `${now.player} sits out.`);
      continue;
    }
    if (was.sittingOut && !now.sittingOut) {
      out.push(mine ? "You are back in." : `${now.player} is back in.`);
      continue;
    }
    if (!was.away && now.away) {
      if (mine) out.push(now.leaving ? "You leave when this hand ends." : "You are away: a bot plays for you.");
      else out.push(now.leaving ? `${now.player} leaves after this hand.` : `${now.player} is away: a bot plays for them.`);
    } else if (was.away && !now.away) {
      out.push(mine ? "You are back." : `${now.player} is back.`);
    }
  }
  return out;
}

/** The banner when a bot is playing for this player (null when not): why, and "I'm back". */
export function awayBanner(table, ctx) {
  if (ctx.me === null || !table.frame || table.frame.status === "over") return null;
  const state = seatState(table.frame, ctx.me);
  if (!state.away) return null;
  if (state.leaving) {
    return [h("span", {}, "You are leaving: a bot checks or folds for you until this hand ends, then your stack " +
      "goes back to your balance.")];
  }
  const back = h("button", { type: "button", class: "primary", id: "im-back" }, "I'm back");
  back.addEventListener("click", async () => {
    back.disabled = true;
    if (!(await sitIn(table))) back.disabled = false;
  });
  return [h("span", {}, "A bot is playing for you (the clock ran out, or you were away). " +
    "It stops when you are back."), back];
}

/** The question before leaving mid-hand ({title, text, ok}), or null when leaving needs no asking. */
export function leaveQuestion(table, ctx) {
  const frame = table.frame;
  if (!frame || ctx.me === null || frame.status !== "playing") return null;
  const view = ctx.view;
  if (table.game?.cash) {
    const inHand = typeof view.street === "string" && !view.over && view.dealt_in?.[ctx.me] && !view.folded?.[ctx.me];
    if (!inHand) return null;
    return {
      title: "Stand up during this hand?",
      text: ["You are in this hand. If you stand up now, a bot checks or folds for you until it ends " +
        "(it never puts more chips in).",
      "Then your stack goes back to your balance and the seat is free."],
      ok: "Stand up after this hand",
    };
  }
  return {
    title: "Leave this game?",
    text: ["The game goes on: a bot plays your seat from now on, and it can win or lose for you.",
      "You can come back to your seat from the lobby (Open) while the game lasts."],
    ok: "Leave the table",
  };
}
