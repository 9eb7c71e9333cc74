// The overlays of a table: the suit picker after an 8 (keys C D H S, or click), and the result at the end,
// with Rematch, Back to lobby and "Look at the table". Focus goes into each when it opens.

import { $, fill, h } from "./dom.js";
import { actionOf } from "./legal.js";

export function renderPicker(table) {
  const ui = table.ui;
  if (!table.picker) {
    ui.picker.hidden = true;
    fill(ui.picker);
    return;
  }
  const { card, entry, suits } = table.picker;
  const names = { C: "Clubs", D: "Diamonds", H: "Hearts", S: "Spades" };
  const buttons = suits.map((suit) => {
    const b = h("button", { type: "button", class: `suit-choice suit-${suit}`, "data-suit": suit,
      onclick: () => table.act(actionOf(entry, { card, suit })) });
    b.append(table.app.suitIcon(suit), h("span", {}, `${names[suit]}`), h("kbd", {}, suit));
    return b;
  });
  fill(ui.picker,
    h("div", { class: "picker-box" },
      h("h2", {}, "Name the new suit"),
      h("p", { class: "muted" }, "Press C, D, H or S, or click one."),
      h("div", { class: "suit-choices" }, buttons),
      h("button", { type: "button", class: "ghost", onclick: () => { table.picker = null; table.render(); } },
        "Cancel")));
  ui.picker.hidden = false;
  if (!ui.picker.contains(document.activeElement)) buttons[0]?.focus();
}

export function renderResult(table, ctx) {
  const ui = table.ui;
  const frame = table.frame;
  if (!frame || frame.status !== "over" || table.resultDismissed) {
    ui.result.hidden = true;
    return;
  }
  const summary = table.game.result(ctx, table.over);
  const me = ctx.me;
  const rows = summary.rows.map((row) => h("tr", { class: [row.winner && "winner", row.seat === me && "me"] },
    h("td", {}, row.winner ? "🏆 " : "", row.name), h("td", { class: "num" }, row.score)));
  const wasHidden = ui.result.hidden;
  fill(ui.result,
    h("div", { class: "result-box" },
      h("h2", { id: "result-title" }, summary.title),
      summary.subtitle ? h("p", { class: "muted" }, summary.subtitle) : null,
      h("table", { class: "result-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Player"), h("th", { class: "num" }, summary.scoreLabel))),
        h("tbody", {}, rows)),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", id: "rematch", onclick: () => table.app.rematch(table) },
          "Rematch"),
        h("button", { type: "button", id: "to-lobby", onclick: () => table.app.backToLobby() }, "Back to lobby"),
        h("button", { type: "button", class: "ghost", id: "review",
          onclick: () => { table.resultDismissed = true; table.render(); } }, "Look at the table"))));
  ui.result.hidden = false;
  if (wasHidden) $("rematch")?.focus({ preventScroll: true });
}
