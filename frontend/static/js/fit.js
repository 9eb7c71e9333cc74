// Fitting a table into the window: the play area gets exactly the height the window has left (so the hand,
// controls, whose turn it is and the clock never need scrolling), the seats are placed inside the felt,
// and the cards in the middle shrink until the middle clears every seat and the hand fits.

import { $ } from "./dom.js";
import { placeSeats } from "./seats.js";

const CENTER_PIECES = "#board, #trick, .piles, #pot, #current-suit, .waiting, .hand-result, .center-info";

/** Lay out the table view whose parts are in `ui` (table.js mount()). */
export function fitTable(ui) {
  const top = ui.play.getBoundingClientRect().top + window.scrollY;
  const height = Math.max(320, window.innerHeight - top - 6);
  document.documentElement.style.setProperty("--play-h", `${Math.floor(height)}px`);
  placeSeats(ui.felt, ui.seats);
  fitCenter(ui);
  $("table-view").dataset.layoutFor = `${window.innerWidth}x${window.innerHeight}`;
}

/** Shrink the cards in the middle (--ccw) until the middle clears every seat and the hand fits the window. */
function fitCenter(ui) {
  const felt = ui.felt;
  felt.style.removeProperty("--ccw");
  const seats = [...ui.seats.querySelectorAll(".seat")].map((el) => el.getBoundingClientRect());
  const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const bad = () => {
    const last = ui.hand.hidden ? ui.controls : ui.hand;
    if (last.getBoundingClientRect().bottom > window.innerHeight) return true;
    const boxes = [...ui.center.querySelectorAll(CENTER_PIECES)].map((el) => el.getBoundingClientRect());
    return boxes.some((box) => seats.some((seat) => hit(box, seat)));
  };
  let width = ui.probe.getBoundingClientRect().width; // what --ccw comes to here
  for (let i = 0; i < 6 && width > 24 && bad(); i += 1) {
    width *= 0.86;
    felt.style.setProperty("--ccw", `${width.toFixed(1)}px`);
  }
}
