"""`scripts/loadgen`: simulated players playing real games through Felt, until the duration is up.

    scripts/loadgen --players 400 --rate 1000 --duration 30    # starts its own stack (pinned), then stops it
    scripts/loadgen --frontend http://127.0.0.1:8000 --prefix bot --password ... --players 40 --think 0.5

Each player gets a token the browser's way (log in, GET /api/token), opens SockJS (websocket, or the
shares given to xhr-streaming / xhr-polling), authenticates, and plays at a table of four: create or join,
start, a legal move `think` seconds after each view that offers one, a new table when the game ends. With
`--rate R` the think time is set so the tables together aim at R moves/s. Progress prints every second;
the result (moves/s and frames/s against the target, round trip and fan-out percentiles, errors by code,
connections refused or dropped, the load generator's own CPU, and `client_bound` when it was saturated)
prints at the end and goes to `--json`. Loopback only; bounded by `--duration` (and a hard limit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from scripts.felt_load import run as R
from scripts.felt_load.procs import ROOT, BenchStack, CoreSampler, cpu_seconds

#: A run where one load worker used more than this share of a core, or its loop lagged past LAG_MS at
#: p99, measured the load generator, not Felt.
CLIENT_CPU_LIMIT = 0.85
LAG_MS = 5.0


def client_bound(window: dict[str, Any]) -> bool:
    return bool(window["loadgen_cpu_max"] >= CLIENT_CPU_LIMIT or window["loadgen_lag_p99_ms"] >= LAG_MS)


async def play_load(tokens: list[dict[str, Any]], origin: str, *, think: float, duration: float,
                    warmup: float = 1.0, workers: int = 2, cpus: str | None = None,
                    game: str = "crazy_eights", xhr_streaming: float = 0.0, xhr: float = 0.0,
                    server_pids: dict[str, int] | None = None,
                    progress: bool = True, label: str = "loadgen", protocol: int = 2) -> dict[str, Any]:
    """Connect every token's player, play for `duration` seconds after `warmup`, and report; players speak
    client `protocol` (2, as the browser; 1: every move answered by an `ack` before the view)."""
    transports = R.transport_mix(len(tokens), xhr_streaming, xhr)
    load = R.Load(workers, cpus, label, progress)
    hard_limit = duration + warmup + 600
    configs = R.worker_configs(tokens, transports, workers, origin=origin, game=game, seats=4,
                               max_seconds=hard_limit, concurrency=50, protocol=protocol)
    await load.start(configs)
    groups = load.groups
    try:
        connected = await load.connect()
        load.start_progress()
        await load.play(load.groups, think)
        await asyncio.sleep(warmup)
        await load.window()
        cpu0 = {k: cpu_seconds(pid) for k, pid in (server_pids or {}).items()}
        cores = CoreSampler()
        await asyncio.sleep(duration)
        window = await load.window()
        busy = cores.busy()
        server_cpu = {k: round((cpu_seconds(pid) - cpu0[k]) / window["elapsed"], 3)
                      for k, pid in (server_pids or {}).items()}
        await load.play(0, think)
        await asyncio.sleep(0.5)
        tail = await load.window()
    finally:
        await load.stop()
    elapsed = window["elapsed"]
    result = {
        "players": len(tokens), "tables": groups, "think_s": think,
        "target_moves_per_s": round(groups / think, 1) if think else None,
        "transports": {t: transports.count(t) for t in set(transports)},
        "connect": connected,
        "moves_per_s": round(window["moves_acked"] / elapsed, 1),
        "frames_per_s": round(window["frames_in"] / elapsed, 1),
        "bytes_per_frame": round(window["bytes_in"] / max(1, window["frames_in"]), 1),
        "games_completed": window["games"] + tail["games"],
        "errors": {k: window["errors"].get(k, 0) + tail["errors"].get(k, 0)
                   for k in {*window["errors"], *tail["errors"]}},
        "dropped": window["dropped"], "refused": sum(connected["failed"].values()),
        "rtt_ms": window["rtt"], "rtt_view_ms": window["rtt_view"], "fanout_ms": window["fanout"],
        "loadgen_cpu": round(window["loadgen_cpu_s"] / elapsed, 3),
        "loadgen_cpu_max_worker": round(window["loadgen_cpu_max"], 3),
        "loadgen_lag_p99_ms": round(window["loadgen_lag_p99_ms"], 2),
        "server_cpu": server_cpu, "core_busy": busy,
        "client_bound": client_bound(window), "window": window,
    }
    return result


def print_result(result: dict[str, Any]) -> None:
    r = result
    saturated = "  ** CLIENT-BOUND: the load generator was saturated; not a server figure **"
    flag = saturated if r["client_bound"] else ""
    print(f"players {r['players']} ({r['tables']} tables), think {r['think_s']:.3f}s: "
          f"{r['moves_per_s']} moves/s of {r['target_moves_per_s']} targeted, "
          f"{r['frames_per_s']} frames/s delivered{flag}")
    for name in ("rtt_ms", "rtt_view_ms", "fanout_ms"):
        h = r[name]
        print(f"  {name:12} n={h['n']:<7} p50 {h['p50']} p95 {h['p95']} p99 {h['p99']} max {h['max']}")
    print(f"  games completed {r['games_completed']}, errors {r['errors'] or 'none'}, "
          f"refused {r['refused']}, dropped {r['dropped']}")
    print(f"  CPU (share of one core): loadgen {r['loadgen_cpu']} "
          f"(busiest worker {r['loadgen_cpu_max_worker']}, loop lag p99 {r['loadgen_lag_p99_ms']} ms), "
          f"servers {r['server_cpu']}, cores busy {r['core_busy']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/loadgen", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--frontend", help="an already running frontend (loopback); default: start a bench stack")
    ap.add_argument("--prefix", default="bot", help="bot account prefix (accounts <prefix>1..N)")
    ap.add_argument("--password", default=BenchStack.PASSWORD)
    ap.add_argument("--players", type=int, default=40, help="players (whole tables of 4)")
    ap.add_argument("--rate", type=float, help="target moves/s over all tables (sets the think time)")
    ap.add_argument("--think", type=float, default=0.5, help="seconds per move when --rate is not given")
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--workers", type=int, default=2, help="load generator processes")
    ap.add_argument("--cpus", help="taskset CPU list for the load workers (default: 1 with our own stack)")
    ap.add_argument("--xhr-streaming", type=float, default=0.0, help="share of tables on xhr-streaming")
    ap.add_argument("--xhr", type=float, default=0.0, help="share of tables on xhr-polling")
    ap.add_argument("--game", default="crazy_eights")
    ap.add_argument("--protocol", type=int, choices=(1, 2), default=2,
                    help="the client protocol the players speak (2, as the browser: a move answered by the "
                         "mover's view; 1: by an ack, then the view)")
    ap.add_argument("--home", default=str(ROOT / "var" / "bench"), help="bot accounts and session cache")
    ap.add_argument("--json", help="write the result here")
    args = ap.parse_args(argv)
    players = max(4, args.players - args.players % 4)
    think = (players / 4) / args.rate if args.rate else args.think
    home = Path(args.home)
    stack: BenchStack | None = None
    try:
        if args.frontend:
            frontend, origin, pids, cpus = args.frontend, args.frontend, {}, args.cpus
        else:
            stack = BenchStack(home, home / "runs" / time.strftime("loadgen-%Y%m%d-%H%M%S"))
            stack.start(users=(args.prefix, players))
            frontend, origin, pids = stack.frontend_url, stack.origin, stack.felt_pids()
            cpus = args.cpus or "1"
        names = [f"{args.prefix}{i}" for i in range(1, players + 1)]
        tokens = R.get_tokens(frontend, names, args.password, home / f"sessions-{args.prefix}.json")
        result = asyncio.run(play_load(tokens, origin, think=think, duration=args.duration,
                                       warmup=args.warmup, workers=args.workers, cpus=cpus, game=args.game,
                                       xhr_streaming=args.xhr_streaming, xhr=args.xhr, server_pids=pids,
                                       protocol=args.protocol))
    finally:
        if stack is not None:
            stack.stop()
    print_result(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
