// The fair-deal panel of a table: the commitment of the deal in play, who contributed, this browser's
// own contribution (sent as soon as a deal is announced), the cards this player saw of each deal, and
// the verification of each revealed deal (fairness.js) with its values. A reveal can also be pasted in
// (from `python -m common.fairness verify`'s input, or an export) and checked here.

import { h, listWords } from "./dom.js";
import { randomContribution, verify } from "./fairness.js";

const short = (hex) => `${hex.slice(0, 12)}…${hex.slice(-6)}`;

export class FairDeals {
  constructor(table) {
    this.table = table;
    this.commit = null; // the latest FairCommit the server sent
    this.watched = new Set(); // deals this browser saw announced (so it saw their cards dealt)
    this.sent = new Map(); // deal -> the value this browser contributed
    this.seen = new Map(); // deal -> {hand, public}
    this.reveal = null;
    this.verdict = null;
    this.pasted = null;
    this.open = false; // the details are re-rendered with each view: keep them as the user left them
    this.area = null; // the paste box, kept across renders (with what was typed in it)
  }

  /** A view arrived: note the cards of the deal in play, check a reveal, answer an announcement. */
  onFrame(frame) {
    const noted = new Set(); // each frame's cards and events are noted once, for the deal in play
    if (this.commit?.dealt) noted.add(this.commit.deal);
    if (frame.fair) {
      this.commit = frame.fair;
      if (!frame.fair.dealt) this.watched.add(frame.fair.deal);
      if (frame.fair.dealt) noted.add(frame.fair.deal);
    }
    for (const deal of noted) this.note(deal, frame);
    if (frame.reveal && frame.reveal.deal !== this.reveal?.deal) {
      this.reveal = frame.reveal;
      const seen = this.seen.get(frame.reveal.deal) ?? {};
      this.verdict = verify(frame.reveal, frame.seat === null || frame.seat === undefined ? null : {
        seat: frame.seat, hand: seen.hand ?? [], public: seen.public ?? [], others: seen.others ?? {},
        drawn: seen.drawn ?? [], contribution: this.sent.get(frame.reveal.deal) ?? null });
    }
    this.contribute(frame);
  }

  /** The cards of deal `deal` this player saw dealt (only if it saw the deal announced first). */
  note(deal, frame) {
    const view = frame.view;
    if (!view || !this.watched.has(deal) || frame.seat === null || frame.seat === undefined) return;
    const seen = this.seen.get(deal) ?? { hand: null, public: [], others: {}, drawn: [] };
    const hand = view.hole ?? view.hand;
    if (!seen.hand && hand?.length) seen.hand = [...hand];
    if (frame.game === "crazy_eights" && !seen.public.length && view.discards?.length) seen.public = [view.discards[0]];
    if (frame.game === "holdem" && (view.board?.length ?? 0) > seen.public.length) seen.public = [...view.board];
    for (const [seat, cards] of Object.entries(view.shown ?? {})) seen.others[seat] = [...cards]; // a showdown
    const events = frame.events ?? [];
    // Crazy Eights: a draw takes the stock's top, so the stock left after it is where the card was
    let after = (view.stock ?? 0) + events.filter((ev) => ev.kind === "drew").length;
    for (const event of events) {
      if (event.kind === "drew") {
        after -= 1;
        if (event.seat === frame.seat && event.card) seen.drawn.push([after, event.card]);
      }
      if (event.kind === "cards_received" && event.seat === frame.seat && event.cards) { // Hearts: from their hand
        seen.others[event.from_seat] = [...(seen.others[event.from_seat] ?? []), ...event.cards];
      }
    }
    this.seen.set(deal, seen);
  }

  contribute(frame) {
    const fair = frame.fair;
    const me = frame.seat;
    if (!fair || fair.dealt || me === null || me === undefined || !fair.seats.includes(me)) return;
    if ((fair.contributed ?? []).includes(me) || this.sent.has(fair.deal)) return;
    const value = randomContribution();
    this.sent.set(fair.deal, value);
    this.table.app.request({ msg: "entropy", table: this.table.id, deal: fair.deal, commitment: fair.commitment,
      value }, { quiet: true }).catch(() => {}); // too late (dealt at the end of the wait): the server's is used
  }

  render(ctx) {
    const out = [];
    const c = this.commit;
    if (!c) return [h("p", { class: "muted", id: "fair-commitment" }, "Each deal is announced here before its cards.")];
    const who = c.seats.map((seat) => {
      const by = (c.contributed ?? []).includes(seat) ? "✓" : (c.server ?? []).includes(seat) ? "server" : "…";
      return `${ctx.name(seat)} ${by}`;
    });
    out.push(h("p", { id: "fair-commitment", dataset: { deal: String(c.deal), commitment: c.commitment,
      dealt: String(!!c.dealt) }, title: c.commitment },
    `Deal ${c.deal} · commitment `, h("code", {}, short(c.commitment)), c.dealt ? " · dealt" : " · waiting for entropy"));
    out.push(h("p", { class: "small muted", id: "fair-contributors" }, `Entropy: ${listWords(who)}`));
    if (this.verdict && this.reveal) out.push(this.verdictLine(this.reveal, this.verdict, "fair-verdict"));
    else out.push(h("p", { class: "small muted", id: "fair-verdict", dataset: { state: "waiting" } },
      "Verified when the deal ends and its seed is revealed."));
    out.push(this.details());
    return out;
  }

  verdictLine(reveal, verdict, id) {
    const text = verdict.ok
      ? `✓ Deal ${reveal.deal} verified: ${listWords(verdict.checked)}.`
      : `✗ Deal ${reveal.deal} NOT verified: ${verdict.problems.join("; ")}.`;
    return h("p", { id, class: ["fair-verdict", verdict.ok ? "ok" : "bad"],
      dataset: { state: verdict.ok ? "verified" : "failed", deal: String(reveal.deal) }, role: "status" }, text);
  }

  details() {
    const parts = [h("summary", {}, "Revealed values and checker")];
    if (this.reveal) {
      const r = this.reveal;
      parts.push(h("dl", { class: "fair-values" },
        h("dt", {}, "Seed"), h("dd", {}, h("code", {}, r.seed)),
        h("dt", {}, "Nonce"), h("dd", {}, h("code", {}, r.nonce)),
        ...r.contributions.flatMap((x) => [h("dt", {}, `Seat ${x.seat + 1} (${x.by})`), h("dd", {}, h("code", {}, x.value))]),
        h("dt", {}, "Deck"), h("dd", {}, h("code", {}, (this.verdict?.deck ?? []).join(" ")))));
    }
    this.area ??= h("textarea", { id: "fair-paste", rows: 3, "aria-label": "A revealed deal as JSON",
      placeholder: "Paste a revealed deal or an exported game (JSON) to check it" });
    const area = this.area;
    const check = () => {
      try {
        const obj = JSON.parse(area.value);
        // an exported game (JSON replay) carries each deal with what its viewer saw: check them all
        const deals = obj.format === "felt-replay" ? (obj.fair ?? []) : [obj];
        if (!deals.length) throw new Error("this replay has no revealed deals");
        const results = deals.map((d) => ({ reveal: d.reveal ?? d, verdict: verify(d.reveal ?? d, d.seen ?? null) }));
        const failed = results.filter((r) => !r.verdict.ok);
        this.pasted = results.length === 1 ? results[0] : {
          reveal: { deal: results.map((r) => r.reveal.deal).join(", ") },
          verdict: failed.length
            ? { ok: false, problems: failed.map((r) => `deal ${r.reveal.deal}: ${r.verdict.problems.join("; ")}`) }
            : { ok: true, checked: [`all ${results.length} deals`, ...results[results.length - 1].verdict.checked] } };
      } catch (error) {
        this.pasted = { reveal: { deal: "?" }, verdict: { ok: false, problems: [`not a revealed deal (${error.message})`] } };
      }
      this.open = true;
      this.table.render();
    };
    parts.push(area, h("button", { type: "button", class: "small", onclick: check }, "Check"));
    if (this.pasted) parts.push(this.verdictLine(this.pasted.reveal, this.pasted.verdict, "fair-pasted"));
    const el = h("details", { class: "fair-details", open: this.open }, ...parts);
    el.addEventListener("toggle", () => { this.open = el.open; });
    return el;
  }
}
