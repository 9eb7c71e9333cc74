// A sit-and-go's own facts at a Hold'em table (the frame's `sit_and_go`): the entry, who is registered,
// the level and blinds with the time or hands to the next level, and at the end every place and prize.

import { formatChips, h } from "../dom.js";

/** The frame's sit-and-go facts, or null at a cash table. */
export function sitAndGoOf(ctx) {
  return ctx.frame.sit_and_go ?? null;
}

/** One line under the board: "Sit & Go · level 2 · blinds 25/50 · next 50/100 in 0:41 · prizes …". */
export function sitAndGoLine(ctx) {
  const info = sitAndGoOf(ctx);
  if (!info) return null;
  const parts = [h("strong", {}, "Sit & Go"), `buy-in ${formatChips(info.buy_in)}${info.fee ? ` + ${formatChips(info.fee)}` : ""}`];
  if ((info.state ?? "registering") === "registering") {
    parts.push(`${info.registered}/${info.seats} registered`, "starts when the last seat is taken");
  } else if (info.state === "running") {
    parts.push(h("span", { class: "sng-level" }, `level ${info.level ?? 1}`),
      h("span", { class: "sng-blinds" }, `blinds ${formatChips(info.small_blind)}/${formatChips(info.big_blind)}`));
    if (info.next_blinds) {
      const next = `next ${formatChips(info.next_blinds[0])}/${formatChips(info.next_blinds[1])}`;
      if (info.next_level_at) parts.push(h("span", {}, `${next} in `, ctx.table.countdown(info.next_level_at, 0)));
      else if (info.hands_to_next_level !== null && info.hands_to_next_level !== undefined) {
        parts.push(`${next} in ${info.hands_to_next_level} hand${info.hands_to_next_level === 1 ? "" : "s"}`);
      }
    }
  }
  if (info.state !== "finished") {
    parts.push(`prizes ${info.prizes.map((p) => formatChips(p)).join(" / ")}`);
  }
  const items = parts.flatMap((part, i) => (i ? [" · ", part] : [part]));
  return h("p", { class: "sng-info muted small", id: "sng-info", "data-state": info.state ?? "registering" }, items);
}

/** The places decided so far (at the end: everyone's, with the prizes). */
export function sitAndGoPlaces(ctx) {
  const info = sitAndGoOf(ctx);
  if (!info || !(info.places ?? []).length) return null;
  const done = info.state === "finished";
  return h("div", { class: "sng-places", id: "sng-places" },
    h("p", { class: done ? "big" : "muted small" }, done ? "Tournament over" : "Out so far"),
    h("ol", {}, [...info.places].sort((a, b) => a.place - b.place).map((p) => h("li", { "data-place": p.place },
      `${p.place}. ${p.name}`, p.prize ? h("strong", {}, ` wins ${formatChips(p.prize)}`) : null))));
}
