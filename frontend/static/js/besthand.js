// The best five cards of a Hold'em hand (for highlighting the winning hand; the server decides who wins).
// A five-card hand scores as [category, ranks…] compared left to right: 8 straight flush, 7 four of a kind,
// 6 full house, 5 flush, 4 straight, 3 three of a kind, 2 two pair, 1 pair, 0 high card.

const RANK = "23456789TJQKA";

function score(cards) {
  const ranks = cards.map((c) => RANK.indexOf(c[0])).sort((a, b) => b - a);
  const flush = cards.every((c) => c[1] === cards[0][1]);
  const unique = [...new Set(ranks)];
  let straightHigh = -1;
  if (unique.length === 5) {
    if (ranks[0] - ranks[4] === 4) straightHigh = ranks[0];
    else if (ranks[0] === 12 && ranks[1] === 3) straightHigh = 3; // A-2-3-4-5
  }
  const counts = new Map();
  for (const r of ranks) counts.set(r, (counts.get(r) ?? 0) + 1);
  const groups = [...counts.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0]);
  const byGroup = groups.map(([r]) => r);
  const shape = groups.map(([, n]) => n).join("");
  if (straightHigh >= 0 && flush) return [8, straightHigh];
  if (shape === "41") return [7, ...byGroup];
  if (shape === "32") return [6, ...byGroup];
  if (flush) return [5, ...ranks];
  if (straightHigh >= 0) return [4, straightHigh];
  if (shape === "311") return [3, ...byGroup];
  if (shape === "221") return [2, ...byGroup];
  if (shape === "2111") return [1, ...byGroup];
  return [0, ...ranks];
}

function better(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    if ((a[i] ?? -1) !== (b[i] ?? -1)) return (a[i] ?? -1) > (b[i] ?? -1);
  }
  return false;
}

/** The five cards of `cards` (5 to 7 codes) that make the best hand; [] with fewer than five. */
export function bestFive(cards) {
  if (cards.length < 5) return [];
  let best = null;
  let bestScore = null;
  const n = cards.length;
  const pick = (start, chosen) => {
    if (chosen.length === 5) {
      const s = score(chosen);
      if (!bestScore || better(s, bestScore)) {
        best = [...chosen];
        bestScore = s;
      }
      return;
    }
    for (let i = start; i <= n - (5 - chosen.length); i += 1) pick(i + 1, [...chosen, cards[i]]);
  };
  pick(0, []);
  return best ?? [];
}
