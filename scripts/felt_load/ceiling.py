"""The live game server against its own no-network ceiling, at the shape of each measured move step.

Issue 14 asks that a game server's CPU per move under load stay within 1.5x of what the same server costs
with no network in between. A ceiling is only comparable at the same work per pass: a group commit of
one move costs about what one of eight does. So each step's shape is read from the live server itself
(the tables the step played, and its moves per group commit: the `felt_gameserver_log_commit_seconds`
histogram's count over the window) and `rulesbench --server-only` is run at that shape, pinned to the
core the live server ran on, after the sweep, when nothing else of the bench runs.

Each shape is measured twice: back to back (passes one after another, each finding the caches the last
one left warm) and paced (`--pace`: as many passes a second as the live server committed, the thread
asleep in between, as the live one waits in epoll). A live server at a low rate wakes for every pass
with its caches cold, which the back-to-back run never does: at 500 moves/s the same SQLite statement
costs it two to three times what it costs back to back (README, Performance). The paced ratio is the
cost of the network and the loop alone; the back-to-back one is that and the idling together.

Both sides count the server's loop thread: the live one from /proc, the bench's with `time.thread_time`
around its handlers. The live process's other threads (libzmq's I/O, the replay thread, SQLite's
checkpoints) are shown beside it, not in the ratio: the bench has no network, so it has no I/O threads.
"""

from __future__ import annotations

from typing import Any

from scripts.felt_load import steps
from scripts.felt_load.procs import rulesbench

#: Issue 14's bound: the loop's CPU per move under load, over the no-network ceiling's at the same shape.
TARGET = 1.5


def shape(step: dict[str, Any]) -> tuple[int, int] | None:
    """(tables, moves per group commit) of a measured step, or None if the server counted no commits (an
    older version, metrics off) or the step moved nothing."""
    commits, moves = step.get("commits_per_s"), step.get("achieved")
    if not commits or not moves:
        return None
    return int(step["groups"]), max(1, round(moves / commits))


def pace(step: dict[str, Any]) -> float | None:
    """The live server's group commits a second in a measured step: the paced ceiling's passes a second."""
    commits = step.get("commits_per_s")
    return round(float(commits), 1) if commits else None


def run(tables: int, batch: int, seconds: float, cpu: str, paced: float | None = None) -> dict[str, Any]:
    """`rulesbench --server-only` at that shape, on core `cpu` (`paced`: at most that many passes a
    second): its JSON, and µs of loop CPU per action."""
    args = ["--server-only", "--seconds", str(seconds), "--tables", str(tables), "--batch", str(batch)]
    out = rulesbench([*args, "--pace", str(paced)] if paced else args, cpu)
    out["us_per_action"] = round(out["seconds"] / out["actions"] * 1e6, 1) if out.get("actions") else None
    return out


def _over(live: float | None, bound: float | None) -> float | None:
    return round(live / bound, 2) if live and bound else None


def compare(step: dict[str, Any], ceiling: dict[str, Any],
            paced: dict[str, Any] | None = None) -> dict[str, Any]:
    """The live server's CPU per move (its loop thread, and the whole process) against `ceiling`'s
    (back to back) and `paced`'s (at the live rate of passes)."""
    moves = step["achieved"]
    threads = (step.get("threads") or {}).get("gameserver") or {}
    loop = threads.get("main")
    live_loop = round(loop / moves * 1e6, 1) if loop is not None and moves else None
    live_process = steps.cpu_per_move(step, "gameserver")
    bound = ceiling.get("us_per_action")
    paced_bound = (paced or {}).get("us_per_action")
    return {
        "tables": ceiling["tables"], "moves_per_commit": ceiling["batch"],
        "live_loop_us_per_move": live_loop,
        "live_process_us_per_move": live_process,
        "ceiling_us_per_action": bound,
        "ratio": _over(live_loop, bound),
        "within_target": bool(live_loop and bound and live_loop / bound <= TARGET),
        "paced_passes_per_s": (paced or {}).get("pace"),
        "paced_us_per_action": paced_bound,
        "paced_ratio": _over(live_loop, paced_bound),
    }


def measure_steps(measured: list[dict[str, Any]], seconds: float, cpu: str, log: Any) -> None:
    """Add `ceiling` to each of the `measured` steps whose shape the live server gave: one bench run per
    distinct shape back to back, and one per step paced at its rate of commits."""
    runs: dict[tuple[int, int], dict[str, Any]] = {}
    for step in measured:
        found = shape(step)
        if found is None:
            continue
        tables, batch = found
        if found not in runs:
            log(f"  ceiling: the game server with no network, {tables} tables, {batch} move(s) a commit …")
            runs[found] = {**run(tables, batch, seconds, cpu), "batch": batch}
        rate = pace(step)
        paced = None
        if rate:
            log(f"  ceiling: the same, paced at {rate:g} passes a second …")
            paced = run(tables, batch, seconds, cpu, paced=rate)
        step["ceiling"] = compare(step, runs[found], paced)
