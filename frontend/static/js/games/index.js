// The games the client knows how to show, by protocol name.

import crazyEights from "./crazy_eights.js";
import hearts from "./hearts.js";
import holdem from "./holdem.js";

export const GAMES = { crazy_eights: crazyEights, hearts, holdem };

export function gameOf(name) {
  return GAMES[name] ?? null;
}
