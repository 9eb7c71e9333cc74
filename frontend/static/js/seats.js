// The seats around the felt: who sits where, whose turn it is, who is away or a bot, and where each box goes.
//
// Wide screens: seats on an ellipse with this player at the bottom; after drawing, `placeSeats` measures
// each box and keeps it inside the felt (a box never hangs over the rim, so it cannot cover the middle's
// edge either). Phones: the stylesheet lays the boxes out in a grid (no floating), and only their order
// and the column count come from here. Names come from other players: inserted as text.

import { h } from "./dom.js";

/** Ellipse positions (percent of the felt) for `n` seats, seat `me` (or 0) at the bottom. */
export function seatPositions(n, me) {
  const base = me ?? 0;
  return Array.from({ length: n }, (_, seat) => {
    const rel = (seat - base + n) % n;
    const angle = Math.PI / 2 + (2 * Math.PI * rel) / n;
    return { rel, x: 50 + 43 * Math.cos(angle), y: 50 + 41 * Math.sin(angle), angle };
  });
}

/** Seats a bot plays for: the `away` list names the people among them (a server that predates it: none). */
export function seatState(frame, seat) {
  const bots = new Set(frame.bots ?? []);
  const away = new Set(frame.away ?? []);
  const player = frame.players?.[seat] ?? null;
  return {
    player,
    away: player !== null && away.has(seat),
    bot: player !== null && bots.has(seat) && !away.has(seat),
    leaving: (frame.leaving ?? []).includes(seat),
    sittingOut: player !== null && (frame.sitting_out ?? []).includes(seat),
  };
}

/** One seat's box. `parts` has the game's cards, stats, bet and tags for it; `turn` and `countdown` the clock. */
export function seatBox(ctx, seat, pos, { tags = [], cards = null, stats = [], bet = null, turn = false,
  countdown = null, buttons = [], winner = false, bank = null } = {}) {
  const frame = ctx.frame;
  const state = seatState(frame, seat);
  const mine = ctx.me === seat;
  const n = frame.players.length;
  const box = h("div", {
    class: ["seat", mine && "me", turn && "turn", state.player === null && "empty", state.away && "away",
      winner && "winner"],
    "data-seat": seat, "data-rel": pos.rel,
    style: { "--x": `${pos.x}%`, "--y": `${pos.y}%`, "--order": mine ? n : pos.rel },
  });
  const nameLine = h("div", { class: "seat-name" }, h("span", { class: "name", title: state.player ?? undefined },
    state.player ?? "Empty seat")); // a long name is cut short on screen: the title has it whole
  if (mine) nameLine.append(h("span", { class: "tag you" }, "you"));
  if (state.bot) nameLine.append(h("span", { class: "tag bot" }, "bot"));
  if (state.sittingOut) {
    nameLine.append(h("span", { class: "tag away sitting-out", title: "Sitting out until they are back" },
      "sitting out"));
  } else if (state.away) {
    nameLine.append(h("span", { class: "tag away", title: "Away: a bot plays for them until they are back" },
      state.leaving ? "leaving" : "away"));
  }
  for (const tag of tags) nameLine.append(h("span", { class: "tag" }, tag));
  box.append(nameLine);
  if (buttons.length) box.append(...buttons);
  if (cards) box.append(h("div", { class: "seat-cards" }, cards));
  if (stats.length || bank) box.append(h("div", { class: "seat-stats" }, stats.map((t) => h("span", {}, t)), bank));
  if (bet) box.append(bet);
  if (turn) {
    box.append(h("div", { class: "seat-turn" }, h("span", {}, mine ? "your turn" : "to play"), countdown));
  }
  return box;
}

/** Wide screens: keep every seat box inside the felt (centred on its ellipse point where it fits); when
 *  boxes would touch on a crowded felt, draw them compact (no card backs) and place them again. */
export function placeSeats(felt, container) {
  felt.classList.remove("crowded");
  if (place(felt, container)) return;
  felt.classList.add("crowded");
  place(felt, container);
}

/** Place the boxes; true when no two of them overlap. */
function place(felt, container) {
  const seats = [...container.querySelectorAll(".seat")];
  if (!seats.length || getComputedStyle(seats[0]).position !== "absolute") {
    for (const seat of seats) seat.classList.remove("placed");
    container.style.setProperty("--cols", String(phoneColumns(seats.length)));
    return true;
  }
  const width = felt.clientWidth;
  const height = felt.clientHeight;
  const pad = 6;
  for (const seat of seats) {
    seat.style.left = "0px"; // measured at the corner, where nothing squeezes the box
    seat.style.top = "0px";
    seat.classList.add("placed");
  }
  const sizes = seats.map((seat) => [seat.offsetWidth, seat.offsetHeight]);
  for (const [i, seat] of seats.entries()) {
    const [w, hgt] = sizes[i];
    const x = (parseFloat(seat.style.getPropertyValue("--x")) / 100) * width;
    const y = (parseFloat(seat.style.getPropertyValue("--y")) / 100) * height;
    const left = Math.min(width - w - pad, Math.max(pad, x - w / 2));
    const top = Math.min(height - hgt - pad, Math.max(pad, y - hgt / 2));
    seat.style.left = `${left}px`;
    seat.style.top = `${top}px`;
  }
  const boxes = seats.map((seat) => seat.getBoundingClientRect());
  return !boxes.some((a, i) => boxes.slice(i + 1).some((b) =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom));
}

function phoneColumns(n) {
  if (n <= 4) return n;
  if (n <= 6) return 3;
  return 4;
}
