// Motion: cards and chips move from where they were to where they are (dealing, playing, a trick going to
// its winner, bets to the pot, the pot to its winner). Every animation is short (at most MAX_MS) and none
// runs when the person asked for reduced motion (prefers-reduced-motion: reduce).
//
// The table marks what may move with `data-fly="<key>"` (a card's key is its code, so a card played from
// the hand flies from the hand to the trick) and, for something new, `data-from="<selector>"` (where it
// comes from: a seat, the stock). Before drawing, `snapshot` notes where every keyed element is; after,
// `play` moves each one from its old place, flies new ones in from their source, and sends removed ones
// (as ghosts) to the target the caller names for them. `log` keeps what ran, for the browser tests.

export const MAX_MS = 300;
const MOVE_MS = 260;

export class Motion {
  constructor() {
    this.query = window.matchMedia("(prefers-reduced-motion: reduce)");
    this.log = [];
    this.skipped = 0;
  }

  get reduced() {
    return this.query.matches;
  }

  snapshot(root) {
    const out = new Map();
    if (!root) return out;
    for (const el of root.querySelectorAll("[data-fly]")) out.set(el.dataset.fly, { el, rect: el.getBoundingClientRect() });
    return out;
  }

  /**
   * After a redraw: `before` from snapshot(); `sendTo(key)` names where a removed element goes (an
   * element, or null to let it vanish); `flights` are extra moves [{from, to, make}] (make() builds the
   * flying thing, e.g. a chip from the pot to a winner).
   */
  play(root, before, { sendTo = () => null, flights = [] } = {}) {
    if (!root) return;
    const now = new Map([...root.querySelectorAll("[data-fly]")].map((el) => [el.dataset.fly, el]));
    const jobs = [];
    for (const [key, el] of now) {
      const old = before.get(key);
      const rect = el.getBoundingClientRect();
      if (!rect.width) continue;
      if (old) {
        const dx = old.rect.left - rect.left;
        const dy = old.rect.top - rect.top;
        if (Math.hypot(dx, dy) > 3) jobs.push(() => this.move(el, "move", dx, dy, 1));
      } else if (before.size && el.dataset.from) {
        const source = root.querySelector(el.dataset.from) ?? document.querySelector(el.dataset.from);
        const from = source?.getBoundingClientRect();
        if (from?.width) {
          const dx = from.left + from.width / 2 - (rect.left + rect.width / 2);
          const dy = from.top + from.height / 2 - (rect.top + rect.height / 2);
          jobs.push(() => this.move(el, "in", dx, dy, 0.6));
        }
      }
    }
    for (const [key, old] of before) {
      if (now.has(key)) continue;
      const target = sendTo(key, old.el);
      if (target) jobs.push(() => this.ghost(old.el, old.rect, target.getBoundingClientRect(), "out"));
    }
    for (const flight of flights) {
      const from = flight.from?.getBoundingClientRect();
      const to = flight.to?.getBoundingClientRect();
      if (from?.width && to?.width) {
        const el = flight.make();
        const size = { left: from.left + from.width / 2 - 10, top: from.top + from.height / 2 - 10, width: 20, height: 20 };
        jobs.push(() => this.ghost(el, size, to, flight.kind ?? "chip", false));
      }
    }
    if (!jobs.length) return;
    if (this.reduced) {
      this.skipped += jobs.length;
      return;
    }
    for (const job of jobs) job();
  }

  move(el, kind, dx, dy, scale) {
    const anim = el.animate([
      { translate: `${dx}px ${dy}px`, scale: String(scale), opacity: kind === "in" ? 0.4 : 1 },
      { translate: "0px 0px", scale: "1", opacity: 1 },
    ], { duration: MOVE_MS, easing: "cubic-bezier(.2,.7,.3,1)" });
    this.note(kind, anim);
  }

  /** A copy of `el` at `rect` flies to the middle of `to` and fades (the original is already gone). */
  ghost(el, rect, to, kind, clone = true) {
    const ghost = clone ? el.cloneNode(true) : el;
    ghost.removeAttribute("data-fly");
    ghost.removeAttribute("id");
    ghost.classList.add("ghost-fly");
    ghost.setAttribute("aria-hidden", "true");
    Object.assign(ghost.style, { left: `${rect.left}px`, top: `${rect.top}px`, width: `${rect.width}px`,
      height: `${rect.height}px`, transform: "none" });
    ghost.style.setProperty("--cw", `${rect.width}px`);
    document.body.append(ghost);
    const dx = to.left + to.width / 2 - (rect.left + rect.width / 2);
    const dy = to.top + to.height / 2 - (rect.top + rect.height / 2);
    const anim = ghost.animate([
      { translate: "0px 0px", scale: "1", opacity: 1 },
      { translate: `${dx}px ${dy}px`, scale: "0.55", opacity: 0.25 },
    ], { duration: MOVE_MS, easing: "cubic-bezier(.4,0,.6,1)" });
    const done = () => ghost.remove();
    anim.finished.then(done, done);
    this.note(kind, anim);
  }

  note(kind, anim) {
    const ms = Number(anim.effect?.getTiming().duration) || 0;
    this.log.push({ kind, ms, at: Date.now() });
    this.log.splice(0, Math.max(0, this.log.length - 200));
  }
}
