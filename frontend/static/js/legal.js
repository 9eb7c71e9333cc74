// The one reading of a view's `legal` list, the same for every game (common/views.py `LegalAction`):
// which kinds of action are offered, which cards or suits or amounts each leaves open, and the action to
// send for a choice. The game modules draw the choices; none of them builds an action by hand.
//
// An entry has `type`, and: `cards` without `count` (name one of them as `card`), `cards` with `count`
// (name exactly `count` of them as `cards`), `suits` (name one as `suit`), `field` with `min`/`max` (an
// amount, sent under the name `field`), `cost` (chips it puts in, for the label).

/** The entries of a view's `legal` list ([] when there is none). */
export function entriesOf(view) {
  return Array.isArray(view?.legal) ? view.legal : [];
}

/** True when the view offers this viewer something to do. */
export function mayAct(view) {
  return entriesOf(view).length > 0;
}

/** The first entry of kind `type`, or null. */
export function entryOf(view, type) {
  return entriesOf(view).find((entry) => entry.type === type) ?? null;
}

/** The entry that takes an amount (a bet or a raise), or null. */
export function amountEntry(view) {
  return entriesOf(view).find((entry) => entry.field) ?? null;
}

/** card -> the entry of kind `type` that names that one card (a play). */
export function cardEntries(view, type = "play") {
  const out = new Map();
  for (const entry of entriesOf(view)) {
    if (entry.type !== type || !entry.cards || entry.count != null) continue;
    for (const card of entry.cards) if (!out.has(card)) out.set(card, entry);
  }
  return out;
}

/** `amount` as the entry allows it: rounded, and within its min and max (the min when not a number). */
export function clampAmount(entry, amount) {
  const value = Number(amount);
  if (amount === null || amount === undefined || amount === "" || !Number.isFinite(value)) return entry.min;
  return Math.round(Math.min(entry.max, Math.max(entry.min, value)));
}

/**
 * The action to send for `entry` with the choices made ({card, cards, suit, amount}); a choice left out
 * takes the entry's first option (its first card or cards, its first suit, its least amount). Null when a
 * choice is not one the entry offers.
 */
export function actionOf(entry, choice = {}) {
  if (!entry) return null;
  const action = { type: entry.type };
  if (entry.cards) {
    if (entry.count == null) {
      const card = choice.card ?? entry.cards[0];
      if (!entry.cards.includes(card)) return null;
      action.card = card;
    } else {
      const cards = choice.cards ? [...choice.cards] : entry.cards.slice(0, entry.count);
      if (cards.length !== entry.count || new Set(cards).size !== cards.length ||
        !cards.every((card) => entry.cards.includes(card))) return null;
      action.cards = cards;
    }
  }
  if (entry.suits?.length) {
    const suit = choice.suit ?? entry.suits[0];
    if (!entry.suits.includes(suit)) return null;
    action.suit = suit;
  }
  if (entry.field) action[entry.field] = clampAmount(entry, choice.amount);
  return action;
}
