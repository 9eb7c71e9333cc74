// The layout measurement of tests/browser/layout.py, run in the page: a list of problems, [] when it holds.
((opts) => {
  const vw = window.innerWidth, vh = window.innerHeight;
  const out = [];
  const shown = (el) => { const r = el.getBoundingClientRect(); const cs = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && !el.closest('[hidden]'); };
  const name = (el) => el.id ? '#' + el.id : (el.dataset.seat !== undefined ? `seat ${el.dataset.seat}` :
    el.dataset.card ? `card ${el.dataset.card}` : el.className.toString().split(' ')[0]);
  const inside = (el, what) => { const r = el.getBoundingClientRect();
    if (r.left < -1 || r.top < -1 || r.right > vw + 1 || r.bottom > vh + 1)
      out.push(`${what} (${name(el)}) is outside the ${vw}x${vh} viewport: ` +
        `${Math.round(r.left)},${Math.round(r.top)} – ${Math.round(r.right)},${Math.round(r.bottom)}`); };
  if (window.scrollY !== 0 || window.scrollX !== 0) out.push(`page scrolled to ${window.scrollX},${window.scrollY}`);
  if (document.documentElement.scrollWidth > vw + 1) out.push(`page wider than the viewport: ${document.documentElement.scrollWidth}`);
  const need = (selector, what) => {
    const els = [...document.querySelectorAll(selector)].filter(shown);
    if (!els.length) { out.push(`no ${what} on screen (${selector})`); return; }
    for (const el of els) inside(el, what);
  };
  if (opts.hand) need('#hand .playcard', 'own card');
  if (opts.controls) need('#controls button, #controls input, #hand button.playcard.legal', 'action control');
  if (opts.turn) need('#felt .seat.turn', 'whose turn it is');
  if (opts.clock) need('#prompt .countdown, #felt .seat.turn .countdown', 'the clock');
  need('#prompt', 'the prompt');
  // a seat's name and its tags (YOU, BOT, away) keep one line: a long name is cut short instead
  for (const line of document.querySelectorAll('#felt .seat-name')) {
    const parts = [...line.children].filter(shown);
    const tops = parts.map((el) => el.getBoundingClientRect().top);
    if (tops.length > 1 && Math.max(...tops) - Math.min(...tops) > 3)
      out.push(`the name line of ${name(line.closest('.seat'))} wraps onto two lines`);
  }
  // pieces that must not overlap one another
  const groups = [
    ['seat', '#felt .seat'], ['board', '#board'], ['trick', '#trick'], ['piles', '.c8-center .piles'],
    ['pot', '#pot'], ['suit', '#current-suit'], ['toast', '#toasts .toast'],
    ['prompt', '#prompt'], ['controls', '#controls'], ['hand', '#hand:not([hidden])'], ['waiting', '#felt .waiting'],
  ];
  const boxes = [];
  for (const [kind, selector] of groups) {
    for (const el of document.querySelectorAll(selector)) {
      if (!shown(el)) continue;
      if (kind === 'controls' && !el.childElementCount) continue;
      const r = el.getBoundingClientRect();
      boxes.push({ kind, el, r, label: `${kind} ${name(el)}` });
    }
  }
  // bets belong to their seat box; they must not touch any other piece
  for (const el of document.querySelectorAll('#felt .seat-bet')) {
    if (shown(el)) boxes.push({ kind: 'bet', el, r: el.getBoundingClientRect(), label: `bet of ${name(el.closest('.seat'))}`,
      owner: el.closest('.seat') });
  }
  const t = 1;
  const hit = (a, b) => a.left + t < b.right && b.left + t < a.right && a.top + t < b.bottom && b.top + t < a.bottom;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.owner === b.el || b.owner === a.el) continue;
    if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
    if (hit(a.r, b.r)) out.push(`${a.label} overlaps ${b.label}`);
  }
  return out;
})
