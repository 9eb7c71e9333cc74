// Modal dialogs: the buy-in, also used for a top-up or rebuy (stays open and shows the server's refusal
// inside it, e.g. a buy-in above the balance) and a confirmation that says what will happen (standing up mid-hand). Both are <dialog>s:
// Escape cancels, focus stays inside while open and goes back where it was after.

import { formatChips, h } from "./dom.js";

/**
 * Ask for a buy-in between `low` and `high`; `submit(amount)` does the request. Resolves with its result,
 * or null when cancelled. A refusal (a ServerError) is shown in the dialog, which stays open.
 */
export function buyInDialog({ low = 2000, high = 20000, balance = null, title = "Buy in", submit, id = "buy-in",
  ok: okText = "Sit down", note: noteText = null }) {
  return new Promise((resolve) => {
    const start = Math.min(high, Math.max(low, Math.min(balance ?? low, low)));
    const input = h("input", { type: "number", id, min: low, max: high, step: 1, value: start,
      required: true, inputmode: "numeric", "aria-describedby": `${id}-note ${id}-error` });
    const error = h("p", { class: "dialog-error", id: `${id}-error`, role: "alert", hidden: true });
    const ok = h("button", { type: "submit", class: "primary", id: `${id}-ok` }, okText);
    const cancel = h("button", { type: "button", id: `${id}-cancel` }, "Cancel");
    const have = balance === null ? "" : ` You have ${formatChips(balance)}.`;
    const form = h("form", { method: "dialog" },
      h("h2", {}, title),
      h("p", { class: "muted", id: `${id}-note` },
        `${noteText ?? `Bring ${formatChips(low)} to ${formatChips(high)} chips to the table.`}${have}`),
      h("label", {}, "Chips ", input),
      error,
      h("div", { class: "actions" }, ok, cancel));
    const dialog = h("dialog", { class: "buyin", id: `${id}-dialog`, "aria-labelledby": `${id}-title` }, form);
    form.querySelector("h2").id = `${id}-title`;
    const back = document.activeElement;
    let settled = false;
    const finish = (value) => {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      if (back instanceof HTMLElement) back.focus({ preventScroll: true });
      resolve(value);
    };
    const show = (text) => {
      error.textContent = text;
      error.hidden = !text;
    };
    cancel.addEventListener("click", () => finish(null));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const amount = Math.round(Number(input.value));
      if (!Number.isFinite(amount) || amount < low || amount > high) {
        show(`Choose between ${formatChips(low)} and ${formatChips(high)} chips.`);
        input.focus();
        return;
      }
      ok.disabled = true;
      show("");
      try {
        finish(await submit(amount));
      } catch (err) {
        show(friendly(err));
        input.focus();
        input.select();
      } finally {
        ok.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
    input.select();
  });
}

/** "you have 10000 chips; this buy-in needs 15000" -> "You have 10,000 chips; this buy-in needs 15,000." */
function friendly(err) {
  const text = String(err?.text ?? err?.message ?? err ?? "That did not work.");
  const sentence = text.replace(/\d{4,}/g, (n) => formatChips(Number(n)));
  return `${sentence[0].toUpperCase()}${sentence.slice(1)}${/[.!?]$/.test(sentence) ? "" : "."}`;
}

/** Ask before doing something: resolves true (confirmed) or false. */
export function confirmDialog({ title, text, ok = "OK", cancel = "Cancel", id = "confirm" }) {
  return new Promise((resolve) => {
    const yes = h("button", { type: "button", class: "primary", id: `${id}-ok` }, ok);
    const no = h("button", { type: "button", id: `${id}-cancel` }, cancel);
    const dialog = h("dialog", { class: "buyin confirm", id: `${id}-dialog`, "aria-labelledby": `${id}-title`,
      "aria-describedby": `${id}-text` },
      h("h2", { id: `${id}-title` }, title),
      ...[text].flat().map((line, i) => h("p", { id: i ? undefined : `${id}-text` }, line)),
      h("div", { class: "actions" }, yes, no));
    const back = document.activeElement;
    const finish = (value) => {
      dialog.close();
      dialog.remove();
      if (!value && back instanceof HTMLElement) back.focus({ preventScroll: true });
      resolve(value);
    };
    yes.addEventListener("click", () => finish(true));
    no.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}
