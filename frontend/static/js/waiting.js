// The waiting room of a table before its game starts: how many seats are taken, "Sit here" and "Add bot"
// on the empty seats, and Start / Fill with bots.

import { h } from "./dom.js";

export function waitingSeatButtons(table, ctx, seat, player) {
  if (player !== null) return [];
  const out = [];
  if (ctx.me === null) {
    out.push(h("button", { type: "button", class: "small primary sit", "data-seat": seat,
      onclick: () => table.app.join(table.id, seat) }, "Sit here"));
  } else if (table.app.mayAddBots(table)) {
    out.push(h("button", { type: "button", class: "small add-bot", "data-seat": seat,
      onclick: () => table.addBot(seat) }, "Add bot"));
  }
  return out;
}

export function waitingCenter(table) {
  const players = table.frame.players;
  const taken = players.filter((p) => p !== null).length;
  return h("div", { class: "waiting" },
    h("p", { class: "big" }, `${taken} of ${players.length} seats taken`),
    h("p", { class: "muted" }, taken < players.length
      ? "Waiting for players. The table's creator can add bots to the empty seats."
      : "Every seat is taken: a seated player can start the game."));
}

export function waitingControls(table, ctx) {
  const players = table.frame.players;
  const free = players.filter((p) => p === null).length;
  const out = [];
  if (ctx.me !== null) {
    out.push(h("button", { type: "button", class: "primary", id: "start", disabled: free > 0 || table.busy,
      title: free ? "Fill every seat first" : "Deal the cards", onclick: () => table.start() }, "Start game"));
    if (free && table.app.mayAddBots(table)) {
      out.push(h("button", { type: "button", id: "fill-bots", onclick: () => table.fillBots() },
        `Fill ${free} seat${free === 1 ? "" : "s"} with bots`));
    }
  }
  return out;
}
