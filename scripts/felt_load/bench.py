"""`scripts/bench [--full]`: Felt's benchmarks, with the echo baselines measured in the same run.

1. rules       actions/s of each game's rules engine, of the table host, and of one game server fed
               through its own socket handlers with no network (`rulesbench`), pinned to the load core.
2. connections N idle authenticated players on one realtime process (quick 1,000, full 10,000): RSS per
               player, connect+auth rate, and whether a lobby broadcast reaches every subscriber.
3. moves       tables of four playing Crazy Eights at rising target rates; each step is measured on Felt,
               then on a bare sockjs-tornado echo server (scripts/echo_server.py) and a bare sockjs-node
               echo server, same client, same placement, frames padded to Felt's mean frame size, so every
               figure is also a ratio against the echo measured minutes apart on the same core; then the
               tier link alone at the step's rate (`linkping`), which with the echo makes the hops' floor.
               After the sweep, the game server's CPU per move against its no-network ceiling at
               each step's shape (its tables and moves per group commit; `ceiling`).

Each move step also reports the CPU µs per move of each hop (edge in, ZeroMQ to the game server, the
table, the group commit, ZeroMQ back, edge out), from the time each process counts per part of its hot
path (common/hotpath.py, read from its metrics endpoint) and the CPU of its threads (/proc: the loop
thread, libzmq's I/O threads, the rest). `--baseline DIR` runs every move step a second time on a stack
running another checkout's code (e.g. `git worktree add --detach /tmp/felt-base main`), right after, so
before/after figures come from the same run.

Placement (2 cores): the server under test (realtime, or an echo server) alone on core 0; the game
server, the load workers and the rules bench on core 1; the frontend floats (it only hands out tokens).
Results: var/bench/results/<time>/results.json, results.md and latency.svg; the Markdown is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from scripts.felt_load import ceiling, linkping, report, steps
from scripts.felt_load import run as R
from scripts.felt_load.cli import client_bound
from scripts.felt_load.procs import (
    ROOT,
    BenchStack,
    CoreSampler,
    Procs,
    commit_count,
    cpu_seconds,
    gc_seconds,
    hot_seconds,
    ncpus,
    python,
    rulesbench,
    scrape,
    thread_cpu_seconds,
)
from scripts.felt_load.procs import rss_kib as proc_rss_kib
from tests.integration.stack import free_port

SERVER_CPU, LOAD_CPU = "0", "1"
COLLAPSED = 0.6

VARIANTS: dict[str, dict[str, Any]] = {
    # one set of 1,000 players for everything; think time set per step: (players / 4) / rate
    "quick": {"conn_players": 1000, "move_players": 1000, "cadence": None, "rates": [500, 1000, 2000, 3000],
              "warmup": 1.5, "duration": 5.0, "echo_warmup": 1.0, "echo_duration": 3.0, "repeats": 1,
              "rules_seconds": 1.0, "ceiling_seconds": 3.0, "workers": 2},
    # each player moves every `cadence` s (think cadence/4 at a table of four): players = rate x cadence
    "full": {"conn_players": 10000, "move_players": None, "cadence": 2.0,
             "rates": [250, 500, 1000, 2000, 3000, 4000], "warmup": 3.0, "duration": 15.0, "echo_warmup": 2.0,
             "echo_duration": 8.0, "repeats": 3, "rules_seconds": 3.0, "ceiling_seconds": 5.0, "workers": 2},
}


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            model = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{ncpus()} cores ({model}), {mem:.0f} GiB, Linux {platform.release()}, "
            f"Python {platform.python_version()}")


# ---- 1. rules ----------------------------------------------------------------------------------------


def rules(seconds: float) -> dict[str, Any]:
    return rulesbench(["--seconds", str(seconds)], LOAD_CPU)


# ---- 2. connections ------------------------------------------------------------------------------------


async def connections(stack: BenchStack, tokens: list[dict[str, Any]], workers: int) -> dict[str, Any]:
    rt = stack.procs.pid("rt-0")
    rss_before = proc_rss_kib(rt)
    load = R.Load(workers, LOAD_CPU, "connections")
    configs = R.worker_configs(tokens, ["websocket"] * len(tokens), workers, origin=stack.origin, seats=4,
                               concurrency=100, max_seconds=1800)
    await load.start(configs)
    try:
        log(f"  connecting {len(tokens)} players …")
        connected = await load.connect()
        await asyncio.sleep(1.0)
        rss_after = proc_rss_kib(rt)
        log(f"  {connected['connected']} connected at {connected['rate']}/s; subscribing them to the lobby …")
        subscribed = await load.all({"cmd": "lobby"}, "lobby_ready")
        await asyncio.sleep(0.5)
        rss_subscribed = proc_rss_kib(rt)
        await load.workers[0].send({"cmd": "probe"})
        probe = await load.workers[0].expect("probe", 30)
        await asyncio.sleep(2.0 + len(tokens) / 4000)
        reports = await load.all({"cmd": "lobby_report", "table": probe["table"]}, "lobby_report")
    finally:
        await load.stop()
    received = sum(r["received"] for r in reports)
    lasts = [r["last"] for r in reports if r["last"] is not None]
    n = max(1, connected["connected"])
    return {
        "players": len(tokens), "connect": connected,
        "rss_before_kib": rss_before, "rss_after_kib": rss_after, "rss_subscribed_kib": rss_subscribed,
        "rss_per_player_kib": round((rss_after - rss_before) / n, 2),
        "rss_per_subscribed_player_kib": round((rss_subscribed - rss_before) / n, 2),
        "broadcast": {"table": probe["table"], "subscribers": sum(s["subscribed"] for s in subscribed),
                      "received": received,
                      "seconds": round(max(lasts) - probe["sent"], 4) if lasts else None},
    }


# ---- 3. moves and the echo baselines ---------------------------------------------------------------------


async def measure(load: R.Load, groups: int, think: float, warmup: float, duration: float,
                  pids: dict[str, int], pad: int | None = None,
                  hot: dict[str, str] | None = None) -> dict[str, Any]:
    """One step: `groups` tables at `think` s per move; counters of the `duration` window after `warmup`.
    `hot`: the metrics URLs of the processes that count their hot path by part (common/hotpath.py)."""
    await load.play(groups, think, pad)
    await asyncio.sleep(warmup)
    await load.window()
    cpu0 = {k: cpu_seconds(pid) for k, pid in pids.items()}
    threads0 = {k: thread_cpu_seconds(pid) for k, pid in pids.items()}
    scraped0 = {k: scrape(url) for k, url in (hot or {}).items()}
    hot0 = {k: hot_seconds(text) for k, text in scraped0.items()}
    cores = CoreSampler()
    await asyncio.sleep(duration)
    w = await load.window()
    busy = cores.busy()
    elapsed = w["elapsed"]
    cpu = {k: round((cpu_seconds(pid) - cpu0[k]) / elapsed, 4) for k, pid in pids.items()}
    threads = {k: {kind: round((v - threads0[k][kind]) / elapsed, 4)
                   for kind, v in thread_cpu_seconds(pid).items()} for k, pid in pids.items()}
    scraped = {k: scrape(url) for k, url in (hot or {}).items()}
    parts = {k: {part: round((v - hot0[k].get(part, 0.0)) / elapsed, 5)
                 for part, v in hot_seconds(text).items()} for k, text in scraped.items()}
    collector = {k: steps.per_second(gc_seconds(text), gc_seconds(scraped0[k]), elapsed)
                 for k, text in scraped.items()}
    commits = steps.per_second(commit_count(scraped.get("gameserver", "")), commit_count(scraped0.get(
        "gameserver", "")), elapsed)
    await load.play(0, think, pad)
    await asyncio.sleep(0.3)
    await load.window()
    # client-bound: the load generator's own loop fell behind or a worker ran out of core; "noise": the
    # server's core was busy with something other than the server under test (this machine is shared)
    bound = client_bound(w)
    on_server_core = cpu.get("realtime", cpu.get("server", 0.0))
    noise = round(max(0.0, busy.get(f"cpu{SERVER_CPU}", 0.0) - on_server_core), 3)
    return {
        "target": round(groups / think, 1), "groups": groups, "think": think,
        "achieved": round(w["moves_acked"] / elapsed, 1), "frames_per_s": round(w["frames_in"] / elapsed, 1),
        "bytes_per_frame": round(w["bytes_in"] / max(1, w["frames_in"]), 1),
        "rtt": w["rtt"], "rtt_view": w["rtt_view"], "fanout": w["fanout"],
        "errors": w["errors"], "dropped": w["dropped"], "games": w["games"],
        "cpu": cpu, "threads": threads, "hot": parts, "gc": collector, "core_busy": busy,
        "loadgen_cpu": round(w["loadgen_cpu_s"] / elapsed, 3),
        "loadgen_cpu_max_worker": round(w["loadgen_cpu_max"], 3),
        "loadgen_lag_p99_ms": round(w["loadgen_lag_p99_ms"], 2),
        "commits_per_s": commits, "client_bound": bound, "server_core_noise": noise, "frames": w["frames_in"],
        "load_core_busy": busy.get(f"cpu{LOAD_CPU}"),  # the game server's core, shared with the load
        "moves": w["moves_acked"], "elapsed": elapsed,
    }


class EchoServer:
    def __init__(self, procs: Procs, kind: str) -> None:
        self.port = free_port()
        self.kind = kind
        if kind == "tornado":
            argv = [python(), str(ROOT / "scripts" / "echo_server.py"), "--port", str(self.port)]
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
        else:
            argv = ["node", str(ROOT / "scripts" / "felt_load" / "echo_node.js"), str(self.port)]
            env = {**os.environ, "SOCKJS_MODULE": str(node_sockjs())}
        self.key = f"echo-{kind}"
        procs.spawn(self.key, argv, env, cpus=SERVER_CPU, ready="READY echo")
        self.pid = procs.pid(self.key)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/echo"


def node_sockjs() -> Path:
    return ROOT / "var" / "bench" / "node" / "node_modules" / "sockjs"


def ensure_node_sockjs() -> bool:
    """sockjs for node in var/bench/node (npm, not committed); False when node or npm is missing."""
    if not shutil.which("node"):
        return False
    if node_sockjs().exists():
        return True
    if not shutil.which("npm"):
        return False
    target = node_sockjs().parents[1]
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(target),
                           "sockjs@0.3.24"], capture_output=True, text=True, timeout=300)
    return done.returncode == 0 and node_sockjs().exists()


async def moves(stack: BenchStack, tokens: list[dict[str, Any]], v: dict[str, Any], use_node: bool,
                workers: int, plain: BenchStack | None = None,
                baseline: BenchStack | None = None) -> list[dict[str, Any]]:
    """The sweep; `plain`: a second stack with CurveZMQ off, measured right after Felt at each step;
    `baseline`: a stack running another checkout's code (`--baseline`), measured right after Felt too."""
    plan = []
    for rate in v["rates"]:
        if v["cadence"]:
            think = v["cadence"] / 4
            groups = max(1, round(rate * think))
        else:
            groups = len(tokens) // 4
            think = groups / rate
        plan.append((rate, groups, think))
    max_groups = max(g for _, g, _ in plan)
    felt = R.Load(workers, LOAD_CPU, "felt")
    players = tokens[:4 * max_groups]
    await felt.start(R.worker_configs(players, ["websocket"] * len(players), workers, origin=stack.origin,
                                      seats=4, concurrency=100, max_seconds=7200,
                                      protocol=v.get("protocol", 2)))
    servers: list[EchoServer] = []
    echoes: dict[str, R.Load] = {}
    felt_plain = R.Load(workers, LOAD_CPU, "felt-plain") if plain else None
    felt_base = R.Load(workers, LOAD_CPU, "baseline") if baseline else None
    try:
        log(f"  connecting {len(players)} Felt players …")
        await felt.connect()
        if plain and felt_plain:
            # the same accounts and secret, so the same tokens, pointed at the plain stack's realtime
            repointed = [{**t, "url": plain.realtime_url()} for t in players]
            await felt_plain.start(R.worker_configs(repointed, ["websocket"] * len(players), workers,
                                                    origin=plain.origin, seats=4, concurrency=100,
                                                    max_seconds=7200, protocol=v.get("protocol", 2)))
            log(f"  connecting {len(players)} players to the stack with CurveZMQ off …")
            await felt_plain.connect()
        if baseline and felt_base:
            repointed = [{**t, "url": baseline.realtime_url()} for t in players]
            await felt_base.start(R.worker_configs(repointed, ["websocket"] * len(players), workers,
                                                   origin=baseline.origin, seats=4, concurrency=100,
                                                   max_seconds=7200, protocol=v.get("protocol", 2)))
            log(f"  connecting {len(players)} players to the baseline stack ({baseline.code}) …")
            await felt_base.connect()
        for kind in ("tornado", "node") if use_node else ("tornado",):
            server = EchoServer(stack.procs, kind)
            servers.append(server)
            load = R.Load(workers, LOAD_CPU, f"echo-{kind}")
            await load.start(R.echo_configs(server.url, 4 * max_groups, workers, origin=None, seats=4,
                                            concurrency=100, max_seconds=7200))
            log(f"  connecting {4 * max_groups} echo seats to sockjs-{kind} …")
            await load.connect()
            echoes[kind] = load
        loads = [felt, *([felt_plain] if felt_plain else []), *([felt_base] if felt_base else []),
                 *echoes.values()]
        for load in loads:
            load.start_progress()
        felt_pids = {"realtime": stack.procs.pid("rt-0"), "gameserver": stack.procs.pid("gs-g1")}
        felt_hot = {"realtime": stack.metrics_url("rt-0"), "gameserver": stack.metrics_url("gs-g1")}
        base_pids = {"realtime": baseline.procs.pid("rt-0"), "gameserver": baseline.procs.pid("gs-g1")} \
            if baseline else {}
        base_hot = {"realtime": baseline.metrics_url("rt-0"), "gameserver": baseline.metrics_url("gs-g1")} \
            if baseline else {}
        plain_pids = {"realtime": plain.procs.pid("rt-0"), "gameserver": plain.procs.pid("gs-g1")} if plain \
            else {}
        runs: dict[float, list[dict[str, Any]]] = {}
        # repeats of a step run back to back, and the sweep stops after a step Felt could not carry
        # (less than COLLAPSED of its target): past that point it is overloaded and does not recover
        # in time to measure anything higher (or the next repeat) cleanly
        for rate, groups, think in plan:
            runs[rate] = []
            for rep in range(v["repeats"]):
                log(f"  step {rate} moves/s ({groups} tables, think {think * 1e3:.0f} ms), run {rep + 1}")
                step = await measure(felt, groups, think, v["warmup"], v["duration"], felt_pids,
                                     hot=felt_hot)
                if felt_base:
                    step["baseline"] = await measure(felt_base, groups, think, v["warmup"], v["duration"],
                                                     base_pids, hot=base_hot)
                if felt_plain:
                    step["plain"] = await measure(felt_plain, groups, think, v["warmup"], v["duration"],
                                                  plain_pids)
                pad = max(0, int(step["bytes_per_frame"]) - 12)
                for kind, load in echoes.items():
                    server = next(s for s in servers if s.kind == kind)
                    step[kind if kind == "node" else "echo"] = await measure(
                        load, groups, think, v["echo_warmup"], v["echo_duration"], {"server": server.pid},
                        pad)
                # the tier link's own round trip at the step's rate, its ends on their tiers' cores
                step["link"] = await linkping.measured(groups / think, v["echo_duration"], v["echo_warmup"],
                                                       SERVER_CPU, LOAD_CPU)
                runs[rate].append(step)
            carried = steps.median_step(runs[rate])["achieved"]
            if carried < COLLAPSED * groups / think and not v.get("keep_going"):
                log(f"  Felt carried less than {COLLAPSED:.0%} of {rate} moves/s: the sweep stops here")
                break
    finally:
        for load in (felt, *([felt_plain] if felt_plain else []), *([felt_base] if felt_base else []),
                     *echoes.values()):
            await load.stop()
        for server in servers:
            stack.procs.stop(server.key)
    out = []
    for rate in runs:
        step = steps.median_step(runs[rate])
        step["players"] = 4 * step["groups"]
        for kind in ("echo", "node"):
            if kind in runs[rate][0]:
                step[kind] = steps.median_step([r[kind] for r in runs[rate]])
                step[kind]["us_per_frame"] = steps.frame_cost(step[kind], "server")
                step[kind]["us_per_move"] = steps.cpu_per_move(step[kind], "server")
        step["felt_us_per_move"] = steps.move_cost(step)
        step["hops"] = steps.hops(step)
        if "link" in runs[rate][0]:
            step["link"] = steps.median_link([r["link"] for r in runs[rate]])
        if "baseline" in runs[rate][0]:
            base = step["baseline"] = steps.median_step([r["baseline"] for r in runs[rate]])
            base["felt_us_per_move"] = steps.move_cost(base)
            base["hops"] = steps.hops(base)
            base["relay_us_per_frame"] = steps.frame_cost(base, "realtime")
            on, before = step["felt_us_per_move"], base["felt_us_per_move"]
            step["baseline_cpu_ratio"] = round(on / before, 3) if on and before else None
        if "plain" in runs[rate][0]:
            step["plain"] = steps.median_step([r["plain"] for r in runs[rate]])
            step["plain"]["felt_us_per_move"] = steps.move_cost(step["plain"])
            on, off = step["felt_us_per_move"], step["plain"]["felt_us_per_move"]
            step["curve_cpu_ratio"] = round(on / off, 3) if on and off else None
        step["relay_us_per_frame"] = steps.frame_cost(step, "realtime")
        echo_cost = (step.get("echo") or {}).get("us_per_frame")
        step["ratio_echo"] = round(step["relay_us_per_frame"] / echo_cost, 2) if echo_cost and step[
            "relay_us_per_frame"] else None
        step["relay_us_per_move"] = steps.cpu_per_move(step, "realtime")
        echo_move = (step.get("echo") or {}).get("us_per_move")
        step["ratio_echo_move"] = round(step["relay_us_per_move"] / echo_move, 2) if echo_move and step[
            "relay_us_per_move"] else None
        step["floor"] = steps.floor(step)
        out.append(step)
    return out


# ---- the run --------------------------------------------------------------------------------------------


async def bench(v: dict[str, Any], variant: str, only: set[str], use_node: bool,
                out_dir: Path, curve: str = "on", baseline_code: Path | None = None) -> dict[str, Any]:
    home = ROOT / "var" / "bench"
    started = time.strftime("%Y-%m-%d %H:%M")
    placement = {"realtime": SERVER_CPU, "echo servers": SERVER_CPU, "gameserver": LOAD_CPU,
                 "load workers": LOAD_CPU, "rules bench": LOAD_CPU, "frontend": "any"}
    result: dict[str, Any] = {"meta": {
        "variant": variant, "started": started, "machine": machine(), "repeats": v["repeats"], "curve": curve,
        "baseline": describe_code(baseline_code) if baseline_code else None, "code": describe_code(ROOT),
        "placement": placement, "config": v,
        "placement_text": (f"realtime and the echo servers alone on core {SERVER_CPU}; game server, "
                           f"{v['workers']} load workers and the rules bench on core {LOAD_CPU}; "
                           "frontend unpinned" if ncpus() > 1 else "one core: nothing pinned"),
    }}
    if "rules" in only:
        log("rules: actions/s with no network …")
        result["rules"] = rules(v["rules_seconds"])
    if not only & {"connections", "moves"}:
        return result
    needed = v["conn_players"] if "connections" in only else 0
    if "moves" in only:
        move_players = v["move_players"] or 4 * max(1, round(max(v["rates"]) * v["cadence"] / 4))
        needed = max(needed, move_players)
    rt_cpus, gs_cpus = (SERVER_CPU, LOAD_CPU) if ncpus() > 1 else (None, None)
    run_dir = home / "runs" / time.strftime("bench-%Y%m%d-%H%M%S")
    stack = BenchStack(home, run_dir, env={"FELT_CURVE": "false"} if curve == "off" else None,
                       realtime_cpus=rt_cpus, gameserver_cpus=gs_cpus)
    # --curve both: a second stack with CurveZMQ off, idle while the first is measured and vice versa
    plain = None
    if curve == "both" and "moves" in only:
        plain = BenchStack(home, run_dir.with_name(run_dir.name + "-plain"), env={"FELT_CURVE": "false"},
                           realtime_cpus=rt_cpus, gameserver_cpus=gs_cpus)
    base = None
    if baseline_code is not None and "moves" in only:
        base = BenchStack(home, run_dir.with_name(run_dir.name + "-baseline"), code=baseline_code,
                          env={"FELT_CURVE": "false"} if curve == "off" else None,
                          realtime_cpus=rt_cpus, gameserver_cpus=gs_cpus)
    try:
        log("starting the stack …")
        stack.start(users=("bot", needed))
        if base:
            log(f"starting a baseline stack from {baseline_code} …")
            base.start(users=("bot", needed))
        if plain:
            log("starting a second stack with CurveZMQ off …")
            plain.start(users=("bot", needed))
        log(f"tokens for {needed} players (login once, then the cached browser session) …")
        t0 = time.monotonic()
        tokens = R.get_tokens(stack.frontend_url, [f"bot{i}" for i in range(1, needed + 1)], stack.PASSWORD,
                              home / "sessions-bot.json")
        result["meta"]["token_seconds"] = round(time.monotonic() - t0, 1)
        if "connections" in only:
            log(f"connections: {v['conn_players']} idle players …")
            result["connections"] = await connections(stack, tokens[:v["conn_players"]], v["workers"])
            await asyncio.sleep(2.0)
        if "moves" in only:
            log("moves: rising rate, with the echo baselines …")
            result["moves"] = await moves(stack, tokens, v, use_node and ensure_node_sockjs(), v["workers"],
                                          plain, base)
    finally:
        stack.stop()
        if base:
            base.stop()
        if plain:
            plain.stop()
    if result.get("moves"):  # after the stacks, so the ceiling runs alone on the game server's core
        log("the game server against its no-network ceiling, at each step's shape …")
        ceiling.measure_steps(result["moves"], v["ceiling_seconds"], LOAD_CPU, log)
    return result


def describe_code(path: Path) -> str:
    """`path` and the commit it has checked out (with "+changes" when its tree differs from it)."""
    try:
        commit = subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return str(path)
    return f"{path} at {commit or '?'}{' +changes' if dirty else ''}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--full", action="store_true", help="10,000 idle players, 250-4,000 moves/s, 3 repeats")
    ap.add_argument("--repeat", type=int, help="repeats of each step (medians are reported)")
    ap.add_argument("--only", default="rules,connections,moves", help="comma-separated parts to run")
    ap.add_argument("--rates", help="comma-separated target moves/s (overrides the variant's)")
    ap.add_argument("--duration", type=float, help="seconds measured per Felt step")
    ap.add_argument("--players", type=int, help="players for the connections step (and, quick, the moves)")
    ap.add_argument("--no-node", action="store_true", help="skip the sockjs-node baseline")
    ap.add_argument("--out", help="results directory (default var/bench/results/<time>)")
    ap.add_argument("--curve", choices=("on", "off", "both"), default="on",
                    help="CurveZMQ on the links (the default), off, or both: each step measured on a second "
                         "stack with it off too, and the cost reported")
    ap.add_argument("--warmup", type=float, help="seconds played before each Felt step is measured")
    ap.add_argument("--keep-going", action="store_true", help="measure every step, even after one Felt "
                    "could not carry (on a busy shared machine a stall is not always overload)")
    ap.add_argument("--protocol", type=int, choices=(1, 2), default=2,
                    help="the client protocol Felt's players speak (2, as the browser: a move answered by "
                         "the mover's view; 1: an ack, then the view)")
    ap.add_argument("--baseline", type=Path, help="a checkout of another version (git worktree add DIR main):"
                    " each move step is measured on a stack running its code too, right after this one")
    args = ap.parse_args(argv)
    variant = "full" if args.full else "quick"
    v = dict(VARIANTS[variant])
    if args.repeat:
        v["repeats"] = args.repeat
    if args.rates:
        v["rates"] = [float(r) for r in args.rates.split(",")]
    if args.duration:
        v["duration"] = args.duration
    if args.warmup:
        v["warmup"] = args.warmup
    v["keep_going"] = args.keep_going
    v["protocol"] = args.protocol
    if args.players:
        v["conn_players"] = args.players
        if v["move_players"]:
            v["move_players"] = args.players
    results = ROOT / "var" / "bench" / "results"
    out_dir = Path(args.out) if args.out else results / time.strftime("%Y%m%d-%H%M%S")
    t0 = time.monotonic()
    baseline = args.baseline.resolve() if args.baseline else None
    if baseline is not None and not (baseline / "gameserver" / "__main__.py").exists():
        ap.error(f"--baseline {baseline}: not a Felt checkout")
    result = asyncio.run(bench(v, variant, set(args.only.split(",")), not args.no_node, out_dir, args.curve,
                               baseline))
    result["meta"]["seconds"] = round(time.monotonic() - t0, 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(result, indent=2))
    md = report.markdown(result)
    (out_dir / "results.md").write_text(md + "\n")
    if result.get("moves"):
        (out_dir / "latency.svg").write_text(report.svg(result))
    print(md)
    print(f"\n(results in {out_dir}; {result['meta']['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
