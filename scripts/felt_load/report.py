"""Bench results as a Markdown table and an SVG line chart (latency against load), with no dependency.

`markdown(results)` renders the tables `scripts/bench` prints and writes; `svg(results)` draws round-trip
and fan-out percentiles of Felt and the echo baselines against the achieved moves/s.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from scripts.felt_load.steps import load_core_full


def _f(v: Any, digits: int = 2) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.0f}%"


def _per_move(s: dict[str, Any]) -> str:
    """Frames a client received per acknowledged move (SockJS messages, not socket writes)."""
    return _f(s["frames_per_s"] / s["achieved"], 1) if s.get("achieved") else "–"


def _table_head(out: list[str], title: str, columns: list[str]) -> None:
    """A bold `title`, then a Markdown table's header of `columns`."""
    out.extend([title, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)])


def markdown(r: dict[str, Any]) -> str:
    out: list[str] = []
    meta = r["meta"]
    out.append(f"Run {meta['started']} ({meta['variant']}, {meta['repeats']} repeat(s), medians, "
               f"CurveZMQ {meta.get('curve', 'on')}), "
               f"{meta['machine']}; placement: {meta['placement_text']}.")
    out.append("")
    c = r.get("connections")
    if c:
        out.append("**Connections** (idle authenticated players on one realtime process)")
        out.append("")
        out.append("| players | connected | connect+auth /s | p50 / p99 connect ms "
                   "| realtime RSS KiB before → after "
                   "| RSS per player | lobby broadcast reached | broadcast done in |")
        out.append("|---|---|---|---|---|---|---|---|")
        lat = c["connect"]["latency_ms"]
        broadcast_s = c["broadcast"]["seconds"]
        out.append(f"| {c['players']} | {c['connect']['connected']} | {_f(c['connect']['rate'], 0)} | "
                   f"{_f(lat['p50'])} / {_f(lat['p99'])} | {c['rss_before_kib']} → {c['rss_after_kib']} | "
                   f"{_f(c['rss_per_player_kib'], 1)} KiB | "
                   f"{c['broadcast']['received']}/{c['broadcast']['subscribers']} | "
                   f"{_f(broadcast_s * 1e3 if broadcast_s is not None else None, 0)} ms |")
        out.append("")
    steps = r.get("moves")
    if steps:
        out.append("**Moves** (tables of 4, Crazy Eights; latency in ms; CPU as a share of one core)")
        out.append("")
        out.append("| target/s | players | achieved/s | frames/s | rtt p50 | rtt p95 | rtt p99 | fan-out p50 "
                   "| fan-out p99 | realtime CPU | gameserver CPU | Felt µs/move | loadgen CPU "
                   "| relay µs/frame | echo µs/frame | ratio | node µs/frame | errors | note |")
        out.append("|" + "---|" * 19)
        for s in steps:
            e, n = s.get("echo") or {}, s.get("node") or {}
            note = []
            if s["client_bound"]:
                note.append("client-bound")
            if s["achieved"] < 0.95 * s["target"]:
                note.append("below target")
            if load_core_full(s):
                note.append(f"game server's core full ({s['load_core_busy']:.0%}, shared with the load)")
            if (s.get("server_core_noise") or 0) > 0.25:
                note.append(f"core 0 noise {s['server_core_noise']:.0%}")
            out.append(
                f"| {s['target']:.0f} | {s['players']} | {s['achieved']:.0f} | {s['frames_per_s']:.0f} | "
                f"{_f(s['rtt']['p50'])} | {_f(s['rtt']['p95'])} | {_f(s['rtt']['p99'])} | "
                f"{_f(s['fanout']['p50'])} | {_f(s['fanout']['p99'])} | "
                f"{_pct(s['cpu'].get('realtime'))} | {_pct(s['cpu'].get('gameserver'))} | "
                f"{_f(s['felt_us_per_move'], 0)} | {_pct(s['loadgen_cpu'])} | "
                f"{_f(s['relay_us_per_frame'], 1)} | {_f(e.get('us_per_frame'), 1)} | "
                f"{_f(s.get('ratio_echo'), 2)} | {_f(n.get('us_per_frame'), 1)} | "
                f"{sum(s['errors'].values())} | {', '.join(note)} |")
        out.append("")
        out.append("Baselines at the same steps "
                   "(same client, same placement, frames padded to Felt's mean size):")
        out.append("")
        out.append("| target/s | echo achieved/s | echo rtt p50 / p99 | echo fan-out p99 | echo CPU "
                   "| relay µs/move · echo µs/move · ratio | node achieved/s | node rtt p50 / p99 "
                   "| node CPU |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for s in steps:
            e, n = s.get("echo") or {}, s.get("node") or {}
            out.append(
                f"| {s['target']:.0f} | {_f(e.get('achieved'), 0)} | {_f((e.get('rtt') or {}).get('p50'))} / "
                f"{_f((e.get('rtt') or {}).get('p99'))} | {_f((e.get('fanout') or {}).get('p99'))} | "
                f"{_pct((e.get('cpu') or {}).get('server'))} | {_f(s.get('relay_us_per_move'), 0)} · "
                f"{_f(e.get('us_per_move'), 0)} · {_f(s.get('ratio_echo_move'))} | "
                f"{_f(n.get('achieved'), 0)} | "
                f"{_f((n.get('rtt') or {}).get('p50'))} / "
                f"{_f((n.get('rtt') or {}).get('p99'))} | {_pct((n.get('cpu') or {}).get('server'))} |")
        out.append("")
    if steps and any(s.get("floor") for s in steps):
        _table_head(out, "**The hops' floor** (what a move's two round trips cost alone at the step's rate: "
                    "the client's websocket, as the sockjs-tornado echo above, and the tier link, as "
                    "`linkping`: a CurveZMQ DEALER on the realtime core, a ROUTER on the game server's, "
                    "one round trip in flight; no move can be faster or cheaper than both together)",
                    ["target/s", "link rtt p50 / p99", "link CPU µs/round trip",
                     "floor rtt p50 (echo + link)", "Felt rtt p50 over it", "floor CPU µs/move (echo + link)",
                     "Felt µs/move over it"])
        for s in steps:
            fl, link = s.get("floor"), s.get("link") or {}
            if not fl:
                continue
            out.append(
                f"| {s['target']:.0f} | {_f((link.get('rtt') or {}).get('p50'))} / "
                f"{_f((link.get('rtt') or {}).get('p99'))} | {_f(link.get('cpu_us_per_round_trip'), 0)} | "
                f"{_f(fl['rtt_p50'])} | {_f(fl['rtt_over'])} | {_f(fl['us_per_move'], 0)} | "
                f"{_f(fl['cpu_over'])} |")
        out.append("")
    if steps and any("plain" in s for s in steps):
        _table_head(out, "**What CurveZMQ costs** (the same steps on a second stack with `curve = false`, "
                    "measured right after)",
                    ["target/s", "achieved/s on / off", "rtt p50 on / off", "rtt p99 on / off",
                     "gameserver CPU on / off", "Felt µs/move on / off", "CPU ratio"])
        for s in steps:
            p = s.get("plain")
            if not p:
                continue
            out.append(
                f"| {s['target']:.0f} | {s['achieved']:.0f} / {p['achieved']:.0f} | "
                f"{_f(s['rtt']['p50'])} / {_f(p['rtt']['p50'])} | "
                f"{_f(s['rtt']['p99'])} / {_f(p['rtt']['p99'])} | "
                f"{_pct(s['cpu'].get('gameserver'))} / {_pct(p['cpu'].get('gameserver'))} | "
                f"{_f(s['felt_us_per_move'], 0)} / {_f(p['felt_us_per_move'], 0)} | "
                f"{_f(s.get('curve_cpu_ratio'), 3)} |")
        out.append("")
    if steps and any(s.get("baseline") for s in steps):
        out.append(f"**Against the baseline** ({r['meta'].get('baseline')}; the same steps on a second stack "
                   "running that code, measured right after; this run: "
                   f"{r['meta'].get('code')})")
        out.append("")
        out.append("| target/s | achieved/s now / before | rtt p50 now / before | rtt p99 now / before "
                   "| realtime CPU now / before | gameserver CPU now / before | Felt µs/move now / before "
                   "| CPU ratio | frames/move now / before |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for s in steps:
            b = s.get("baseline")
            if not b:
                continue
            out.append(
                f"| {s['target']:.0f} | {s['achieved']:.0f} / {b['achieved']:.0f} | "
                f"{_f(s['rtt']['p50'])} / {_f(b['rtt']['p50'])} | "
                f"{_f(s['rtt']['p99'])} / {_f(b['rtt']['p99'])} | "
                f"{_pct(s['cpu'].get('realtime'))} / {_pct(b['cpu'].get('realtime'))} | "
                f"{_pct(s['cpu'].get('gameserver'))} / {_pct(b['cpu'].get('gameserver'))} | "
                f"{_f(s['felt_us_per_move'], 0)} / {_f(b['felt_us_per_move'], 0)} | "
                f"{_f(s.get('baseline_cpu_ratio'), 3)} | {_per_move(s)} / {_per_move(b)} |")
        out.append("")
    if steps and any(s.get("hops") for s in steps):
        out.append("**CPU µs per move, by hop** (counted sections, `common/hotpath.py`; threads from /proc; "
                   "'before' where the baseline counts them too)")
        out.append("")
        names = next(list(s["hops"]) for s in steps if s.get("hops"))
        out.append("| hop | " + " | ".join(f"{s['target']:.0f}/s" for s in steps) + " |")
        out.append("|---|" + "---|" * len(steps))
        for name in names:
            cells = []
            for s in steps:
                now = (s.get("hops") or {}).get(name)
                before = ((s.get("baseline") or {}).get("hops") or {}).get(name)
                cells.append(_f(now, 1) + (f" / {_f(before, 1)}" if before is not None else ""))
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("| **all Felt processes** (from /proc) | " + " | ".join(
            _f(s["felt_us_per_move"], 0) for s in steps) + " |")
        out.append("")
    if steps and any(s.get("ceiling") for s in steps):
        _table_head(out, "**The game server against its no-network ceiling** (its loop thread's CPU per move "
                    "live, over `rulesbench --server-only` at the step's tables and moves per group commit, "
                    "back to back and paced at the live passes a second; issue 14's bound: 1.5x)",
                    ["target/s", "tables", "moves per commit", "live loop µs/move", "live process µs/move",
                     "ceiling µs/action", "ratio", "passes/s", "paced ceiling µs/action", "paced ratio"])
        for s in steps:
            c = s.get("ceiling")
            if c:
                out.append(f"| {s['target']:.0f} | {c['tables']} | {c['moves_per_commit']} | "
                           f"{_f(c['live_loop_us_per_move'], 0)} | {_f(c['live_process_us_per_move'], 0)} | "
                           f"{_f(c['ceiling_us_per_action'], 0)} | {_f(c['ratio'])} | "
                           f"{_f(c.get('paced_passes_per_s'), 0)} | {_f(c.get('paced_us_per_action'), 0)} | "
                           f"{_f(c.get('paced_ratio'))} |")
        out.append("")
    rules = r.get("rules")
    if rules:
        out.append("**Rules and one game server, no network** (actions/s, one core)")
        out.append("")
        out.append("| game | rules engine (apply) | table host (Table.handle + views) "
                   "| game server (handlers + SQLite) |")
        out.append("|---|---|---|---|")
        for game, v in rules.items():
            if not isinstance(v, dict) or "rules" not in v:
                continue
            server = v.get("server", {}).get("actions_per_s")
            out.append(f"| {game} | {v['rules']['actions_per_s']:,} | {v['table']['actions_per_s']:,} | "
                       f"{'–' if server is None else f'{server:,}'} |")
        out.append("")
    return "\n".join(out)


def svg(r: dict[str, Any], width: int = 760, height: int = 420, compare: dict[str, Any] | None = None,
        labels: tuple[str, str] = ("Felt", "Felt (compare)")) -> str:
    """Latency (ms, log scale) against achieved moves/s; `compare`: a second run's Felt curves."""
    steps = r.get("moves") or []
    series: list[tuple[str, str, str, list[tuple[float, float]]]] = []

    def pts(get: Any, steps: list[dict[str, Any]] = steps) -> list[tuple[float, float]]:
        out = []
        for s in steps:
            try:
                x, y = get(s)
            except (KeyError, TypeError):
                continue
            if x and y:
                out.append((float(x), float(y)))
        return out

    a, b = labels
    series.append((f"{a} round trip p50", "#1f77b4", "", pts(lambda s: (s["achieved"], s["rtt"]["p50"]))))
    series.append((f"{a} round trip p99", "#1f77b4", "6,3", pts(lambda s: (s["achieved"], s["rtt"]["p99"]))))
    series.append((f"{a} fan-out p99", "#d62728", "6,3", pts(lambda s: (s["achieved"], s["fanout"]["p99"]))))
    if compare is not None:
        other = compare.get("moves") or []
        series.append((f"{b} rtt p50", "#ff7f0e", "", pts(lambda s: (s["achieved"], s["rtt"]["p50"]), other)))
        series.append((f"{b} rtt p99", "#ff7f0e", "6,3",
                       pts(lambda s: (s["achieved"], s["rtt"]["p99"]), other)))
    series.append(("sockjs-tornado echo p99", "#2ca02c", "2,3",
                   pts(lambda s: (s["echo"]["achieved"], s["echo"]["rtt"]["p99"]))))
    series.append(("sockjs-node echo p99", "#9467bd", "2,3",
                   pts(lambda s: (s["node"]["achieved"], s["node"]["rtt"]["p99"]))))
    series = [s for s in series if s[3]]
    left, right, top, bottom = 64, 230, 30, 50
    pw, ph = width - left - right, height - top - bottom
    xs = [x for *_, p in series for x, _ in p] or [1.0]
    ys = [y for *_, p in series for _, y in p] or [1.0]
    xmax = max(xs) * 1.05
    ylo = 10 ** math.floor(math.log10(max(min(ys), 0.01)))
    yhi = 10 ** math.ceil(math.log10(max(max(ys), 30.0)))

    def X(x: float) -> float:
        return left + pw * x / xmax

    def Y(y: float) -> float:
        y = min(max(y, ylo), yhi)
        return top + ph * (1 - (math.log10(y) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo)))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{left}" y="18" font-size="14">Latency against load ({escape(r["meta"]["variant"])}, '
             f'{escape(r["meta"]["started"])})</text>']
    decade = ylo
    while decade <= yhi * 1.001:
        for mult in (1, 2, 5):
            v = decade * mult
            if ylo <= v <= yhi:
                y = Y(v)
                parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
                parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
        decade *= 10
    step = 10 ** math.floor(math.log10(xmax / 2)) if xmax > 2 else 1
    if xmax / step > 8:
        step *= 2
    x = 0.0
    while x <= xmax:
        parts.append(f'<line x1="{X(x):.1f}" y1="{top}" x2="{X(x):.1f}" y2="{top + ph}" stroke="#eee"/>')
        parts.append(f'<text x="{X(x):.1f}" y="{top + ph + 16}" text-anchor="middle">{x:g}</text>')
        x += step
    for target, label in ((5.0, "p99 target 5 ms"), (25.0, "p99 target 25 ms")):
        if ylo <= target <= yhi:
            parts.append(f'<line x1="{left}" y1="{Y(target):.1f}" x2="{left + pw}" y2="{Y(target):.1f}" '
                         f'stroke="#f90" stroke-dasharray="1,4"/>')
            parts.append(f'<text x="{left + pw - 4}" y="{Y(target) - 4:.1f}" text-anchor="end" fill="#c60">'
                         f'{label}</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 12}" text-anchor="middle">achieved moves/s '
                 f'(each delivered to 4 seats)</text>')
    parts.append(f'<text x="16" y="{top + ph / 2}" transform="rotate(-90 16 {top + ph / 2})" '
                 f'text-anchor="middle">ms (log scale)</text>')
    for i, (name, color, dash, p) in enumerate(series):
        p = sorted(p)
        path = " ".join(f"{'M' if j == 0 else 'L'}{X(px):.1f},{Y(py):.1f}" for j, (px, py) in enumerate(p))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"{dash_attr}/>')
        for px, py in p:
            parts.append(f'<circle cx="{X(px):.1f}" cy="{Y(py):.1f}" r="3" fill="{color}"/>')
        ly = top + 14 + 18 * i
        parts.append(f'<line x1="{left + pw + 12}" y1="{ly}" x2="{left + pw + 36}" y2="{ly}" '
                     f'stroke="{color}" stroke-width="2"{dash_attr}/>')
        parts.append(f'<text x="{left + pw + 40}" y="{ly + 4}">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
