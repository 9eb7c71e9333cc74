// Pieces the game modules share: score tables and the end-of-game summary.

import { h, listWords } from "../dom.js";

/** A small table: `head` is a list of column titles, `rows` lists of cells; `mark(seat)` adds classes. */
export function scoreTable(head, rows, { caption = null, numericFrom = 1 } = {}) {
  return h("table", { class: "score-table" },
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, head.map((t, i) => h("th", { class: i >= numericFrom ? "num" : "" }, t)))),
    h("tbody", {}, rows.map((row) => h("tr", { class: row.cls ?? "" },
      row.cells.map((c, i) => h("td", { class: i >= numericFrom ? "num" : "" }, c ?? ""))))));
}

/** The summary the result panel shows, from `game_over` (or, after a resume, from the final view). */
export function summarize(ctx, over, fallbackScores, { lowerIsBetter, scoreLabel, format = (v) => v }) {
  const players = over?.players?.length ? over.players : ctx.players.map((p, i) => p ?? `Seat ${i + 1}`);
  const scores = over?.scores ?? fallbackScores ?? [];
  let winners = over?.winners;
  if (!winners) {
    const best = lowerIsBetter ? Math.min(...scores) : Math.max(...scores);
    winners = scores.map((v, i) => (v === best ? i : -1)).filter((i) => i >= 0);
  }
  const me = ctx.me;
  const names = winners.map((seat) => (seat === me ? "you" : players[seat]));
  let title;
  if (me !== null && winners.includes(me)) title = winners.length > 1 ? "You tied for the win!" : "You won!";
  else title = winners.length ? `${listWords(names)} won` : "Game over";
  return {
    title,
    scoreLabel,
    rows: players.map((name, seat) => ({
      seat, name: seat === me ? `${name} (you)` : name, score: scores[seat] === undefined ? "" : format(scores[seat]),
      winner: winners.includes(seat),
    })),
  };
}
