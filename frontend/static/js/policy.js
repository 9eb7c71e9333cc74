// The table's policy for time and absence, as this player meets it: each seat's time bank (counting down
// once the turn clock has run out), sitting out and "I'm back", and topping up or rebuying at a cash table.
//
// The server decides every rule (common/policy.py, gameserver/absence.py); this module only shows what the
// view says (`policy`, `time_banks`, `bank_ends`, `sitting_out`, `away`) and sends `sit_out`, `sit_in` and
// `top_up`. Nothing here counts time on its own but the display of a countdown.

import { buyInDialog } from "./dialogs.js";
import { formatChips, h } from "./dom.js";

/** The server's defaults (common/policy.py): a frame leaves out every setting at its default. */
export const DEFAULTS = { time_bank: 30, bank_refill: 5, bank_max: 60, disconnect_bank: 30, grace: 120, away_after: 2,
  sit_out_max: 600 };

/** The table's policy with the defaults filled in (null before a view or the lobby has named one). */
export function policyOf(table) {
  const given = table.frame?.policy ?? table.info?.policy;
  return given ? { ...DEFAULTS, ...given } : null;
}

/** Whether this table's seats show time banks: it has a turn clock and a policy with a bank. */
export function showsBanks(table) {
  const policy = policyOf(table);
  const clocked = !!(table.info?.clock || table.frame?.deadline);
  return !!(policy && table.frame && clocked && (policy.time_bank > 0 || policy.bank_refill > 0));
}

/** The time bank on a seat: seconds left, and while in use (the turn clock ran out) counting down. */
export function bankChip(table, seat) {
  const frame = table.frame;
  if (!showsBanks(table) || frame.players?.[seat] === null || (frame.bots ?? []).includes(seat)) return null;
  const left = frame.time_banks?.[seat] ?? 0;
  const end = frame.bank_ends?.[seat] ?? frame.bank_ends?.[String(seat)];
  const chip = h("small", { class: "time-bank", "data-bank": left, title: "Time bank: used when the turn clock runs out",
    "aria-label": "time bank" }, bankText(left));
  if (end !== undefined && frame.deadline) {
    chip.dataset.deadline = String(frame.deadline);
    chip.dataset.bankEnd = String(end);
  }
  return chip;
}

function bankText(seconds) {
  return `bank ${Math.ceil(Math.max(0, seconds))}s`;
}

/** Every second or so: a bank in use counts down (and says so); others show what is left. */
export function tickBanks(now) {
  for (const el of document.querySelectorAll(".time-bank[data-bank-end]")) {
    const using = now > Number(el.dataset.deadline);
    const left = using ? Math.max(0, Number(el.dataset.bankEnd) - now) : Number(el.dataset.bank);
    const text = bankText(left);
    if (el.textContent !== text) el.textContent = text;
    el.classList.toggle("in-use", using);
  }
}

/** The turn countdown's target: the turn clock, then (once it has run out) the end of this seat's bank. */
export function clockEnd(frame, seat, now) {
  const deadline = frame?.deadline;
  if (!deadline) return null;
  const end = frame.bank_ends?.[seat] ?? frame.bank_ends?.[String(seat)];
  return now > deadline && end !== undefined ? end : deadline;
}

/** The policy in a few words, for the table's badges: "30s bank +5s a hand". */
export function policyBadge(table) {
  const policy = policyOf(table);
  if (!policy || !showsBanks(table)) return null;
  const per = table.game?.cash ? "a hand" : "a deal";
  const text = `${policy.time_bank}s bank` + (policy.bank_refill ? ` +${policy.bank_refill}s ${per}` : "");
  const title = [`Time bank ${policy.time_bank}s, +${policy.bank_refill}s ${per}, up to ${policy.bank_max}s`,
    `disconnection bank ${policy.disconnect_bank}s`, `seat held ${policy.grace}s when disconnected`,
    `a bot plays after ${policy.away_after} time-outs in a row`,
    table.game?.cash ? `sitting out: stood up after ${Math.round(policy.sit_out_max / 60)} min` : null]
    .filter(Boolean).join("; ");
  return h("span", { class: "badge optional", id: "policy-badge", title }, text);
}

export function isSittingOut(frame, seat) {
  return seat !== null && seat !== undefined && (frame?.sitting_out ?? []).includes(seat);
}

/** Sit out / I'm back and, at a cash table, top up or rebuy: the buttons beside "Stand up". */
export function policyButtons(table, ctx) {
  const frame = table.frame;
  if (!frame || ctx.me === null || frame.status === "over") return [];
  const leaving = (frame.leaving ?? []).includes(ctx.me);
  if (leaving) return [];
  const out = [];
  const cash = !!table.game?.cash;
  const sittingOut = isSittingOut(frame, ctx.me);
  if (cash || frame.status === "playing") {
    out.push(sittingOut
      ? h("button", { type: "button", class: "ghost policy", id: "sit-in", onclick: () => sitIn(table) }, "I'm back")
      : h("button", { type: "button", class: "ghost policy", id: "sit-out", onclick: () => sitOut(table),
        "aria-label": cash ? "Sit out next hand" : "Sit out" },
      "Sit out", cash ? h("span", { class: "wide-only" }, " next hand") : null));
  }
  if (cash) {
    const stack = frame.cash?.table_stacks?.[ctx.me] ?? 0;
    const max = frame.cash?.max_buy_in ?? 0;
    const inHand = typeof ctx.view?.street === "string" && !ctx.view.over && ctx.view.dealt_in?.[ctx.me];
    const button = h("button", { type: "button", class: "ghost policy", id: "top-up", onclick: () => topUp(table) },
      stack > 0 ? "Top up" : "Rebuy");
    if (inHand || stack >= max) {
      button.disabled = true;
      button.title = inHand ? "Between hands only" : "Your stack is at the table's maximum";
    }
    out.push(button);
  }
  return out;
}

async function send(table, body, failure) {
  try {
    await table.app.request({ ...body, table: table.id }, { quiet: true });
    return true;
  } catch (error) {
    table.app.toast(error.text ?? failure);
    return false;
  }
}

export function sitOut(table) {
  return send(table, { msg: "sit_out" }, "Could not sit out.");
}

/** "I'm back": ends sitting out and stops a bot that stands in for this player. */
export function sitIn(table) {
  return send(table, { msg: "sit_in" }, "Could not take the seat back.");
}

/** The top-up (rebuy) dialog: within the table's limits for this stack, showing the balance. */
export async function topUp(table) {
  const frame = table.frame;
  const me = table.mySeat;
  const cash = frame?.cash;
  if (!cash || me === null) return null;
  const stack = cash.table_stacks?.[me] ?? 0;
  const low = Math.max(1, cash.min_buy_in - stack);
  const high = cash.max_buy_in - stack;
  const done = await buyInDialog({
    low, high, balance: table.app.knownBalance(), id: "topup", ok: stack > 0 ? "Top up" : "Rebuy",
    title: stack > 0 ? "Top up your stack" : "Rebuy",
    note: `You have ${formatChips(stack)} at the table; add ${formatChips(low)} to ${formatChips(high)} chips ` +
      `(a stack of ${formatChips(cash.min_buy_in)}–${formatChips(cash.max_buy_in)}).`,
    submit: (amount) => table.app.request({ msg: "top_up", table: table.id, amount }, { quiet: true }).then(() => true),
  });
  if (done) table.app.refreshMe();
  return done;
}

/** The banner while this player sits out (null when not): what it means here, and "I'm back". */
export function sittingOutBanner(table, ctx) {
  const frame = table.frame;
  if (!isSittingOut(frame, ctx.me) || frame.status === "over") return null;
  const policy = policyOf(table);
  const back = h("button", { type: "button", class: "primary", id: "im-back" }, "I'm back");
  back.addEventListener("click", async () => {
    back.disabled = true;
    if (!(await sitIn(table))) back.disabled = false;
  });
  const text = table.game?.cash
    ? "You are sitting out: you are dealt out of the next hands and pay no blinds." +
      (policy ? ` After ${Math.round(policy.sit_out_max / 60)} min you are stood up and your stack goes back ` +
        "to your balance." : "")
    : "You are sitting out: a bot plays for you until you are back.";
  return [h("span", { id: "sitting-out-text" }, text), back];
}
