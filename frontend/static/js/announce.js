// The polite live region: short sentences about what just happened ("Bot 2 played the queen of spades"),
// read by screen readers once each. Only the newest lines are put in the region (it is never the whole
// log re-rendered), and a burst of lines in one frame is read as one announcement.

import { $ } from "./dom.js";

const KEPT = 3;

export class Announcer {
  constructor(id = "announcer") {
    this.id = id;
    this.lines = [];
  }

  /** Announce these sentences (nothing when empty). */
  say(texts) {
    const el = $(this.id);
    const fresh = texts.filter(Boolean);
    if (!el || !fresh.length) return;
    this.lines = [...this.lines, fresh.join(" ")].slice(-KEPT);
    const line = document.createElement("p");
    line.textContent = fresh.join(" ");
    el.append(line);
    while (el.childElementCount > KEPT) el.firstElementChild.remove();
  }
}
