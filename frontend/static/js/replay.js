// The replay page: fetches this viewer's replay (the server decides which: a seat's own, every card for
// a player who sat at the game, or a spectator's) and steps through it (replayview.js) with buttons and
// the keyboard.

import { $ } from "./dom.js";
import { fetchJSON } from "./net.js";
import { ReplayStepper } from "./replayview.js";

const root = $("replay");
const stepper = new ReplayStepper({ root, step: $("step"), prev: $("prev"), next: $("next"), first: $("first"),
  last: $("last"), what: $("what"), board: $("board"), hands: $("hands") });

async function load(full) {
  stepper.show(await fetchJSON(root.dataset.src + (full ? "?full=1" : "")), stepper.index);
}

$("full")?.addEventListener("change", (event) => load(event.target.checked));
document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLInputElement || event.altKey || event.ctrlKey || event.metaKey) return;
  stepper.onKey(event);
});
load(false).catch((error) => { $("step").textContent = `Could not load the replay: ${error.message}`; });
