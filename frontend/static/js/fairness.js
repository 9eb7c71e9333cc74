// Provably fair deals, checked in the browser: the "felt-shuffle-v1" scheme of the README, written
// again here (with its own SHA-256 and HMAC, so it needs no secure context) as a checker independent of
// the server's code. `verify(reveal, seen)` recomputes the deck from the revealed seed, nonce and
// contributions, checks the commitment shown before the deal, the server's contributions (fixed by the
// seed) and the cards this player saw. Pure: no DOM, no network.

export const SCHEME = "felt-shuffle-v1";

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const rotr = (x, n) => (x >>> n) | (x << (32 - n));

/** SHA-256 of a Uint8Array. */
export function sha256(bytes) {
  const length = bytes.length;
  const padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
  padded.set(bytes);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
  view.setUint32(padded.length - 4, (length << 3) >>> 0);
  const hash = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(block + 4 * i);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = hash;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    const next = [a, b, c, d, e, f, g, hh];
    for (let i = 0; i < 8; i++) hash[i] = (hash[i] + next[i]) >>> 0;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) outView.setUint32(4 * i, hash[i]);
  return out;
}

const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

/** HMAC-SHA256(key, msg). */
export function hmac(key, msg) {
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? sha256(key) : key);
  const inner = block.map((b) => b ^ 0x36);
  const outer = block.map((b) => b ^ 0x5c);
  return sha256(concat(outer, sha256(concat(inner, msg))));
}

export function fromHex(hex) {
  if (typeof hex !== "string" || !/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error("not hex");
  return new Uint8Array(hex.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);
}

export const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const ascii = (text) => new TextEncoder().encode(text);

/** 32 fresh random bytes as hex: this client's contribution to a deal. */
export function randomContribution() {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** The deal's counter-mode stream: 32-bit big-endian words of HMAC-SHA256(key, counter). */
class Stream {
  constructor(key) {
    this.key = key;
    this.counter = 0;
    this.words = [];
  }

  word() {
    if (!this.words.length) {
      const counter = new Uint8Array(8);
      new DataView(counter.buffer).setUint32(4, this.counter++);
      const block = new DataView(hmac(this.key, counter).buffer);
      for (let i = 0; i < 8; i++) this.words.push(block.getUint32(4 * i));
    }
    return this.words.shift();
  }

  below(n) {
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const u = this.word();
      if (u < limit) return u % n;
    }
  }
}

export const FULL_DECK = [..."CDHS"].flatMap((suit) => [..."23456789TJQKA"].map((rank) => rank + suit));

/** Each seat's cards as dealt and the public cards, as the game's rules deal from the key. */
export function dealtCards(game, key, context) {
  const stream = new Stream(key);
  const cards = [...FULL_DECK];
  for (let i = cards.length - 1; i > 0; i--) {
    const j = stream.below(i + 1);
    [cards[i], cards[j]] = [cards[j], cards[i]];
  }
  const deck = [...cards];
  const seats = Number(context.seats);
  const hands = {};
  if (game === "crazy_eights") { // the top is the END of the deck; the dealer is the next draw
    const dealer = stream.below(seats);
    for (let s = 0; s < seats; s++) hands[s] = [];
    for (let round = 0; round < (seats === 2 ? 7 : 5); round++) {
      for (let i = 0; i < seats; i++) hands[(dealer + 1 + i) % seats].push(cards.pop());
    }
    let starter = cards.pop();
    while (starter[0] === "8") {
      cards.unshift(starter);
      starter = cards.pop();
    }
    return { deck, hands, public: [starter], stock: cards };
  }
  if (game === "hearts") {
    for (let s = 0; s < 4; s++) hands[s] = cards.filter((_, i) => i % 4 === s);
    return { deck, hands, public: [] };
  }
  if (game === "holdem") {
    const order = [];
    for (let s = context.button + 1; s < context.button + 1 + seats; s++) {
      if (context.dealt[s % seats]) order.push(s % seats);
    }
    const n = order.length;
    order.forEach((seat, i) => { hands[seat] = [cards[i], cards[n + i]]; });
    const at = 2 * n;
    return { deck, hands, public: [...cards.slice(at + 1, at + 4), cards[at + 5], cards[at + 7]] };
  }
  throw new Error(`no deal is known for ${game}`);
}

const sorted = (cards) => [...cards].sort().join(" ");

/**
 * Check a revealed deal. `seen`: {seat, hand, public, contribution} as this client recorded them.
 * @returns {{ok: boolean, problems: string[], checked: string[], deck: string[]}}
 */
export function verify(reveal, seen = null) {
  const problems = [];
  const checked = [];
  if (reveal?.scheme !== SCHEME) return { ok: false, problems: [`unknown scheme ${reveal?.scheme}`], checked, deck: [] };
  let seed;
  let nonce;
  let values;
  try {
    seed = fromHex(reveal.seed);
    nonce = fromHex(reveal.nonce);
    values = [...reveal.contributions].sort((a, b) => a.seat - b.seat).map((c) => fromHex(c.value));
  } catch {
    return { ok: false, problems: ["a revealed value is not hex"], checked, deck: [] };
  }
  if (seed.length !== 32 || nonce.length !== 16 || values.some((v) => v.length !== 32)) {
    return { ok: false, problems: ["a revealed value has the wrong length"], checked, deck: [] };
  }
  if (toHex(sha256(concat(seed, nonce))) !== String(reveal.commitment).toLowerCase()) {
    problems.push("SHA-256(seed ‖ nonce) is not the commitment shown before the deal");
  } else {
    checked.push("the seed and nonce match the commitment");
  }
  for (const c of reveal.contributions) {
    if (c.by === "server" && toHex(hmac(seed, ascii(`server:${c.seat}`))) !== c.value.toLowerCase()) {
      problems.push(`seat ${c.seat}'s server contribution is not the one the seed fixes`);
    }
  }
  const key = hmac(seed, concat(...values));
  const dealt = dealtCards(reveal.game, key, reveal.context ?? {});
  if (seen && seen.seat !== null && seen.seat !== undefined) {
    const mine = reveal.contributions.find((c) => c.seat === seen.seat);
    if (seen.contribution && mine?.by === "server") {
      checked.push("your value came after the deal, so the server's stood in for your seat");
    } else if (seen.contribution) {
      if (!mine || mine.value.toLowerCase() !== seen.contribution.toLowerCase()) {
        problems.push("the contribution this browser sent was not used");
      } else checked.push("your contribution was used");
    }
    if (seen.hand?.length) {
      const expected = dealt.hands[seen.seat] ?? [];
      if (sorted(seen.hand) !== sorted(expected)) {
        problems.push(`you were dealt ${seen.hand.join(" ")}; this deck deals ${expected.join(" ")}`);
      } else checked.push(`your ${seen.hand.length} dealt cards`);
    }
    if (seen.public?.length) {
      const expected = dealt.public.slice(0, seen.public.length);
      if (seen.public.join(" ") !== expected.join(" ")) {
        problems.push(`the table showed ${seen.public.join(" ")}; this deck gives ${expected.join(" ")}`);
      } else checked.push(`${seen.public.length} public card${seen.public.length === 1 ? "" : "s"}`);
    }
    const others = Object.entries(seen.others ?? {}).flatMap(([seat, cards]) => cards.map((card) => [Number(seat), card]));
    const wrong = others.filter(([seat, card]) => !(dealt.hands[seat] ?? []).includes(card));
    if (wrong.length) {
      problems.push(`cards seen in other hands that this deck did not deal them: ${wrong.map(([s, c]) => `${c} (seat ${s + 1})`).join(" ")}`);
    } else if (others.length) checked.push(`${others.length} card${others.length === 1 ? "" : "s"} seen in other hands`);
    const stock = dealt.stock ?? [];
    const misdrawn = (seen.drawn ?? []).filter(([left, card]) => stock[left] !== card);
    if (misdrawn.length) {
      problems.push(`you drew ${misdrawn.map(([, c]) => c).join(" ")}, which this deck's stock did not hold there`);
    } else if (seen.drawn?.length) checked.push(`${seen.drawn.length} card${seen.drawn.length === 1 ? "" : "s"} you drew`);
  }
  return { ok: problems.length === 0, problems, checked, deck: dealt.deck };
}
