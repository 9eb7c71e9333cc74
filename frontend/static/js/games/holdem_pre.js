// Hold'em pre-actions, chosen while others act and sent by the client the moment this player's turn comes
// (nothing on the server: the table only ever sees an ordinary action, sent with the view's seq).
//   Check/fold       next turn: check if nothing is owed, else fold.
//   Call any         next turn: call whatever is owed (check if nothing is).
//   Fold to any bet  every turn until the hand ends: check when possible, fold to a bet.
// One at most is chosen; each is forgotten when the hand ends, and the first two after they are used.

import { h } from "../dom.js";
import { actionOf, entryOf } from "../legal.js";

const CHOICES = [
  { key: "checkfold", id: "pre-check-fold", label: "Check/fold" },
  { key: "callany", id: "pre-call-any", label: "Call any" },
  { key: "foldany", id: "pre-fold-any", label: "Fold to any bet" },
];

function handKey(ctx) {
  return `${ctx.frame.cash?.hand_no ?? 0}`;
}

/** The pre-action chosen for this hand, or null. */
export function chosen(ctx) {
  const pre = ctx.table.pre;
  return pre && pre.hand === handKey(ctx) ? pre.choice : null;
}

function choose(ctx, key) {
  const now = chosen(ctx);
  ctx.table.pre = now === key ? null : { hand: handKey(ctx), choice: key };
  ctx.table.render();
}

/** The toggle buttons, while it is someone else's turn in a hand this player is still in. The same
 *  element is kept from view to view while nothing about it changes, so a click is never lost to a redraw. */
export function preActionButtons(ctx) {
  const view = ctx.view;
  const me = ctx.me;
  if (me === null || typeof view.street !== "string" || view.over || !view.dealt_in?.[me] || view.folded?.[me] ||
    view.all_in?.[me] || view.turn === me) return null;
  const now = chosen(ctx);
  const table = ctx.table;
  const key = `${handKey(ctx)}:${now}`;
  if (table.preEl?.key === key) return table.preEl.el;
  const el = h("div", { class: "pre-actions", role: "group", "aria-label": "Act in advance" },
    CHOICES.map((c) => h("button", { type: "button", class: "small", id: c.id, "aria-pressed": String(now === c.key),
      onclick: () => choose(table.context(), c.key) }, c.label)));
  table.preEl = { key, el };
  return el;
}

/** On this player's turn: send the pre-chosen action, if any. True when one was sent. */
export function runPreAction(ctx) {
  const choice = chosen(ctx);
  if (!choice) return false;
  const view = ctx.view;
  const check = entryOf(view, "check");
  const call = entryOf(view, "call");
  const fold = entryOf(view, "fold");
  let entry = null;
  if (choice === "checkfold" || choice === "foldany") entry = check ?? fold;
  else if (choice === "callany") entry = call ?? check;
  if (!entry) return false;
  if (choice !== "foldany") ctx.table.pre = null;
  ctx.act(actionOf(entry));
  return true;
}
