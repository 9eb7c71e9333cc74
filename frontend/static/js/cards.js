// Playing cards drawn with our own CSS and the suit symbols of the page's SVG sprite (#suit-C …).
// Card codes are rank then suit: "QS", "TD" (ten), "2C".

import { h, s } from "./dom.js";

export const SUIT_ORDER = "CDSH"; // clubs, diamonds, spades, hearts: colours alternate in a sorted hand
export const RANKS = "23456789TJQKA";
export const SUITS = {
  C: { name: "clubs", one: "club", symbol: "♣", red: false },
  D: { name: "diamonds", one: "diamond", symbol: "♦", red: true },
  H: { name: "hearts", one: "heart", symbol: "♥", red: true },
  S: { name: "spades", one: "spade", symbol: "♠", red: false },
};
const RANK_LABEL = { T: "10" };
const RANK_NAME = { T: "10", J: "jack", Q: "queen", K: "king", A: "ace" };

// Pip positions (x %, y %) inside the pip area for the number cards; pips below the middle are turned.
const PIPS = {
  2: [[50, 0], [50, 100]],
  3: [[50, 0], [50, 50], [50, 100]],
  4: [[0, 0], [100, 0], [0, 100], [100, 100]],
  5: [[0, 0], [100, 0], [50, 50], [0, 100], [100, 100]],
  6: [[0, 0], [100, 0], [0, 50], [100, 50], [0, 100], [100, 100]],
  7: [[0, 0], [100, 0], [50, 25], [0, 50], [100, 50], [0, 100], [100, 100]],
  8: [[0, 0], [100, 0], [50, 25], [0, 50], [100, 50], [50, 75], [0, 100], [100, 100]],
  9: [[0, 0], [100, 0], [0, 33.3], [100, 33.3], [50, 50], [0, 66.7], [100, 66.7], [0, 100], [100, 100]],
  10: [[0, 0], [100, 0], [50, 16.7], [0, 33.3], [100, 33.3], [0, 66.7], [100, 66.7], [50, 83.3], [0, 100],
    [100, 100]],
};

export const rankOf = (card) => card[0];
export const suitOf = (card) => card[1];
export const isCard = (card) => typeof card === "string" && card.length === 2 && RANKS.includes(card[0]) &&
  card[1] in SUITS;

/** "Q♠", "10♥" */
export function cardLabel(card) {
  return `${RANK_LABEL[card[0]] ?? card[0]}${SUITS[card[1]]?.symbol ?? "?"}`;
}

/** "queen of spades" */
export function cardName(card) {
  return `${RANK_NAME[card[0]] ?? card[0]} of ${SUITS[card[1]]?.name ?? "?"}`;
}

/** A hand sorted by suit (♣ ♦ ♠ ♥) then rank, ace high. */
export function sortHand(cards) {
  return [...cards].sort((a, b) => SUIT_ORDER.indexOf(a[1]) - SUIT_ORDER.indexOf(b[1]) ||
    RANKS.indexOf(a[0]) - RANKS.indexOf(b[0]));
}

/** One suit symbol as inline SVG (a reference to the page's sprite). */
export function suitIcon(suit, cls = "suit-icon") {
  const names = cls === "suit-icon" ? cls : `suit-icon ${cls}`;
  return s("svg", { class: `${names} ${SUITS[suit]?.red ? "red" : "black"}`, viewBox: "0 0 100 100",
    "aria-hidden": "true", focusable: "false" }, s("use", { href: `#suit-${suit}` }));
}

function corner(card, where) {
  return h("span", { class: `corner ${where}`, "aria-hidden": "true" },
    h("span", { class: "idx", text: RANK_LABEL[card[0]] ?? card[0] }), suitIcon(card[1], "corner-suit"));
}

function middle(card) {
  const rank = card[0];
  const suit = card[1];
  if (rank === "A") return h("span", { class: "middle ace" }, suitIcon(suit, "pip big"));
  if ("JQK".includes(rank)) {
    return h("span", { class: "middle court" },
      h("span", { class: "court-frame" },
        suitIcon(suit, "pip court-suit top"),
        h("span", { class: "court-letter", text: rank }),
        suitIcon(suit, "pip court-suit bottom")));
  }
  const n = rank === "T" ? 10 : Number(rank);
  return h("span", { class: "middle pips" }, PIPS[n].map(([x, y]) => {
    const pip = suitIcon(suit, `pip${y > 50 ? " flip" : ""}`);
    pip.style.setProperty("left", `${x}%`);
    pip.style.setProperty("top", `${y}%`);
    return pip;
  }));
}

/**
 * A face-up card. `tag` "button" makes it playable (the caller wires clicks); `props` are extra
 * attributes (class is merged).
 */
export function cardFace(card, { tag = "div", cls = "", props = {} } = {}) {
  const el = h(tag, {
    ...props,
    class: ["playcard", "face", SUITS[card[1]]?.red ? "red" : "black", cls],
    "data-card": card,
    "aria-label": props["aria-label"] ?? cardName(card),
    role: tag === "div" ? "img" : undefined,
  }, corner(card, "tl"), middle(card), corner(card, "br"));
  if (tag === "button") el.type = "button";
  return el;
}

/** A face-down card: nothing about it is known here. */
export function cardBack({ cls = "", props = {} } = {}) {
  return h("div", { ...props, class: ["playcard", "back", cls], "aria-hidden": "true" });
}

/** An empty place for a card (board slots, an empty pile). */
export function cardSlot(label = "") {
  return h("div", { class: "playcard slot", "aria-hidden": "true" }, label ? h("span", { text: label }) : null);
}

/** A fan of `n` face-down cards, for another player's hand (never their faces). */
export function backFan(n, max = 8) {
  const shown = Math.min(n, max);
  return h("div", { class: "fan", "aria-label": `${n} card${n === 1 ? "" : "s"}`, role: "img" },
    Array.from({ length: shown }, () => cardBack({ cls: "mini" })));
}
