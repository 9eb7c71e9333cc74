"""The arithmetic of a measured move step (`scripts/bench`'s "moves"): medians over repeats, CPU per
move and per frame, and the CPU per move of each hop from the parts each process counts
(`common/hotpath.py`). Pure functions of the step's dict; no process, no I/O."""

from __future__ import annotations

import statistics
from typing import Any


def per_second(now: float | None, before: float | None, elapsed: float) -> float | None:
    return None if now is None or before is None else round((now - before) / elapsed, 5)


def median(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def median_step(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over repeated runs of one step."""
    first = runs[0]
    out = dict(first)
    for key in ("achieved", "frames_per_s", "bytes_per_frame", "loadgen_cpu", "loadgen_lag_p99_ms",
                "server_core_noise", "commits_per_s", "load_core_busy"):
        out[key] = median([r.get(key) for r in runs])
    for key in ("rtt", "rtt_view", "fanout"):
        out[key] = {q: median([r[key][q] for r in runs]) for q in first[key]}
    out["cpu"] = {k: median([r["cpu"].get(k) for r in runs]) for k in first["cpu"]}
    for key in ("threads", "hot"):
        out[key] = {proc: {k: median([r[key].get(proc, {}).get(k) for r in runs]) for k in by}
                    for proc, by in first.get(key, {}).items()}
    out["gc"] = {k: median([(r.get("gc") or {}).get(k) for r in runs]) for k in first.get("gc") or {}}
    out["core_busy"] = {k: median([r["core_busy"].get(k) for r in runs]) for k in first["core_busy"]}
    errors: dict[str, int] = {}
    for r in runs:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    out["errors"] = errors
    out["client_bound"] = sum(r["client_bound"] for r in runs) * 2 > len(runs)
    out["repeats"] = len(runs)
    return out


#: A core this busy had no room left: the step's rate was what it could carry, whatever the target.
CORE_FULL = 0.95


def load_core_full(step: dict[str, Any]) -> bool:
    """Whether the core the game server shares with the load workers was full in this step: then neither
    alone is the bottleneck, the core is (a step before this figure was kept says no)."""
    busy = step.get("load_core_busy")
    return busy is not None and busy >= CORE_FULL


def move_cost(step: dict[str, Any]) -> float | None:
    """CPU µs per acknowledged move over the realtime and game-server processes."""
    felt_cpu = sum(c for c in step["cpu"].values() if c is not None)
    return round(felt_cpu / step["achieved"] * 1e6, 1) if step["achieved"] else None


#: The hops of one move and the counted parts (common/hotpath.py) each is made of, by process.
HOPS: list[tuple[str, list[tuple[str, str]]]] = [
    ("edge in (SockJS frame -> validated request)", [("realtime", "edge_in")]),
    ("ZeroMQ to the game server (encode, send; receive, decode)",
     [("realtime", "to_gameserver"), ("gameserver", "from_realtime")]),
    ("the table (decide, evolve, views)", [("gameserver", "table")]),
    ("the group commit (SQLite, fenced)", [("gameserver", "commit")]),
    ("ZeroMQ back (send; receive, read headers)",
     [("gameserver", "to_realtime"), ("realtime", "from_gameserver")]),
    ("edge out (SockJS framing, socket writes)", [("realtime", "edge_out")]),
]


def hops(step: dict[str, Any]) -> dict[str, float | None] | None:
    """CPU µs per move of each hop, of libzmq's I/O threads (both ends, both ways: CurveZMQ and TCP), of
    the processes' other threads, and of the rest of each loop thread (epoll, timers, heartbeats, and
    what the counted sections do not cover: Tornado reading a websocket frame); None when the
    processes count no parts (an older version)."""
    moves = step["achieved"]
    hot, threads = step.get("hot") or {}, step.get("threads") or {}
    if not moves or not any(hot.values()):
        return None

    def us(share: float | None) -> float | None:
        return None if share is None else round(share / moves * 1e6, 1)

    out: dict[str, float | None] = {}
    for name, parts in HOPS:
        out[name] = us(sum(hot.get(proc, {}).get(part) or 0.0 for proc, part in parts))
    for proc in ("realtime", "gameserver"):
        main = (threads.get(proc) or {}).get("main")
        counted = sum(v or 0.0 for v in (hot.get(proc) or {}).values())
        out[f"{proc}: rest of its loop thread"] = us(main - counted) if main is not None else None
    out["libzmq I/O threads (both processes)"] = us(sum((threads.get(p) or {}).get("zmq") or 0.0
                                                        for p in ("realtime", "gameserver")))
    out["other threads (both processes)"] = us(sum((threads.get(p) or {}).get("other") or 0.0
                                                   for p in ("realtime", "gameserver")))
    collector = step.get("gc") or {}
    for proc in ("realtime", "gameserver"):
        out[f"{proc}: its garbage collector (within the rows above)"] = us(collector.get(proc))
    return out


def median_link(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure of the link's ping (`linkping`) over repeated runs of one step."""
    return {"achieved": median([r.get("achieved") for r in runs]),
            "cpu_us_per_round_trip": median([r.get("cpu_us_per_round_trip") for r in runs]),
            "rtt": {q: median([r["rtt"].get(q) for r in runs]) for q in runs[0]["rtt"]}}


def floor(step: dict[str, Any]) -> dict[str, float | None] | None:
    """What the hops alone cost a move at this step: the websocket's round trip (the sockjs-tornado echo,
    per move: one frame in, the move's frames out) and the tier link's (`linkping`), in rtt p50 and CPU
    µs; and Felt over that floor. None without both baselines."""
    echo, link = step.get("echo"), step.get("link")
    if not echo or not link:
        return None

    def both(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else round(a + b, 3)

    def over(felt: float | None, base: float | None) -> float | None:
        return round(felt / base, 2) if felt is not None and base else None

    rtt = both((echo.get("rtt") or {}).get("p50"), link["rtt"].get("p50"))
    cpu = both(echo.get("us_per_move"), link.get("cpu_us_per_round_trip"))
    return {"rtt_p50": rtt, "us_per_move": cpu, "rtt_over": over(step["rtt"].get("p50"), rtt),
            "cpu_over": over(step.get("felt_us_per_move"), cpu)}


def cpu_per_move(step: dict[str, Any], cpu_key: str) -> float | None:
    """CPU µs of one process (`cpu_key`) per move answered: a relay's cost that, unlike its cost per
    frame, does not rise when a move needs fewer frames."""
    cpu = step["cpu"].get(cpu_key)
    return round(cpu / step["achieved"] * 1e6, 1) if step["achieved"] and cpu is not None else None


def frame_cost(step: dict[str, Any], cpu_key: str) -> float | None:
    frames = step["frames_per_s"]
    cpu = step["cpu"].get(cpu_key)
    return round(cpu / frames * 1e6, 2) if frames and cpu is not None else None
