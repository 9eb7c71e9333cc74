// This player's own hand: the cards as buttons, which are playable, selected or just received, their keys,
// and how they spread over the width there is.
//
// Every enabled card gets a key: 1–9, 0, then q w e … (skipping the letters the game uses for its own
// commands), so all 13 Hearts cards can be chosen from the keyboard. A hand too wide for one row on a
// narrow screen goes on two rows of full-size cards rather than a fan of thin strips. Disabled cards are
// drawn opaque (greyed, never see-through), so overlapping cards do not show through each other.

import { cardFace } from "./cards.js";
import { fill, h } from "./dom.js";

const KEY_ORDER = "1234567890qwertyuiopasdfghjklzxcvbnm";

/** The keys for a game's cards, in order: KEY_ORDER without the game's own command letters. */
export function cardKeys(game) {
  const reserved = new Set((game?.keys ?? []).map((k) => k.toLowerCase()));
  return [...KEY_ORDER].filter((k) => !reserved.has(k));
}

/**
 * Draw `hand` ({cards, enabled, selected, received, static, onPick}) into `el`.
 * Returns the card buttons (empty for a static hand).
 */
export function renderHand(el, hand, { busy, active, game, cardLabelOf }) {
  const focused = document.activeElement?.closest?.("#hand") ? document.activeElement.dataset.card : null;
  el.classList.toggle("static", !!hand.static);
  el.classList.toggle("active", !!active);
  el.classList.toggle("choosing", !!hand.selected);
  if (hand.static) {
    fill(el, ...hand.cards.map((card) => cardFace(card, {
      cls: ["mine", hand.best?.has(card) && "best"].filter(Boolean).join(" "),
      props: { "aria-label": cardLabelOf(card) },
    })));
    spread(el, hand.cards.length);
    return [];
  }
  const keys = cardKeys(game);
  let number = 0;
  const buttons = hand.cards.map((card) => {
    const enabled = hand.enabled.has(card) && !busy;
    const selected = !!hand.selected?.has(card);
    const received = !!hand.received?.has(card);
    const words = [cardLabelOf(card), selected && "selected to pass", received && "just received"].filter(Boolean);
    const props = { disabled: !enabled, "aria-pressed": hand.selected ? String(selected) : undefined,
      "aria-label": words.join(", ") };
    const cls = [enabled ? "legal" : "illegal", selected && "selected", received && "received"].filter(Boolean);
    const button = cardFace(card, { tag: "button", cls: cls.join(" "), props });
    if (selected) button.append(h("span", { class: "mark sel", "aria-hidden": "true" }, "✓"));
    if (received) button.append(h("span", { class: "mark new", "aria-hidden": "true" }, "new"));
    if (enabled && number < keys.length) {
      const key = keys[number];
      number += 1;
      button.dataset.key = key;
      button.setAttribute("aria-keyshortcuts", key);
      button.append(h("span", { class: "key", "aria-hidden": "true" }, key.toUpperCase()));
    }
    button.tabIndex = -1;
    button.addEventListener("click", () => hand.onPick(card));
    return button;
  });
  fill(el, ...buttons);
  spread(el, buttons.length);
  const enabled = buttons.filter((b) => !b.disabled);
  const target = enabled.find((b) => b.dataset.card === focused) ?? enabled[0] ?? null;
  if (target) target.tabIndex = 0;
  if (focused && target) target.focus({ preventScroll: true });
  return buttons;
}

/** One row, apart when there is room and overlapping when not; two rows when one would be thin strips. */
function spread(el, n) {
  el.classList.remove("two-rows");
  el.style.removeProperty("--gap");
  el.style.removeProperty("--hcw");
  const first = el.querySelector(".playcard");
  if (!first || n < 2) return;
  const room = el.clientWidth - 16;
  let cw = first.getBoundingClientRect().width;
  let perRow = n;
  if ((room - cw) / (n - 1) < cw * 0.5 && n > 6) {
    perRow = Math.ceil(n / 2);
    cw = Math.min(cw, (room - 4 * (perRow - 1)) / perRow);
    el.classList.add("two-rows");
    el.style.setProperty("--hcw", `${cw.toFixed(1)}px`);
    el.style.setProperty("--per-row", String(perRow));
    return;
  }
  const step = Math.max(cw * 0.3, Math.min(cw * 1.08, (room - cw) / (n - 1)));
  el.style.setProperty("--gap", `${(step - cw).toFixed(1)}px`);
}
