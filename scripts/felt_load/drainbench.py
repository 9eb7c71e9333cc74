"""The pause players see while a game server is drained: `python -m scripts.felt_load.drainbench`.

A stack with one realtime process and one game server; `--tables` heads-up Hold'em cash tables (two
scripted players each, moving after `--think` seconds) all on game server g1; then a second game server
joins, `g1` is drained (`python -m common.registry drain g1`), hands every table to g2 and exits, and the
players carry on without reconnecting (a scripted player whose connection drops fails the run). For each
table the pause is the longest gap between two views its players received across the drain, less that
table's usual gap (the median before the drain); the median and the maximum over all tables are
printed, with the drain's own duration (drain asked -> g1 exited) and how many tables got no view after
it. Loopback only; every process it starts is stopped by its id.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from typing import Any

from common import protocol as p
from realtime.client import FeltClient
from scripts.felt_load import run as R
from scripts.felt_load.procs import ROOT, BenchStack, python
from tests.integration.players import choose, legal_of
from tests.integration.stack import free_port


class Seat:
    """One scripted player: acts on its views after `think` s; resumes when told its table moved."""

    def __init__(self, client: FeltClient, think: float, views: list[float]) -> None:
        self.client, self.think, self.views = client, think, views
        self.table = ""
        self.errors: list[str] = []
        self._req = 0

    async def play(self) -> None:
        while True:
            msg = await self.client.recv(timeout=60)
            if isinstance(msg, p.View) and msg.table == self.table:
                self.views.append(time.monotonic())
                legal = legal_of(msg)
                if legal:
                    await asyncio.sleep(self.think)
                    self._req += 1
                    await self.client.send(p.Act(table=self.table, action=choose(legal), seq=msg.seq,
                                                 req=self._req))
            elif isinstance(msg, p.TableStatus) and msg.available:
                await self.client.send(p.Resume(table=self.table, last_seq=0))
            elif isinstance(msg, p.Error) and msg.code not in (p.E_STALE, p.E_NOT_YOUR_TURN):
                self.errors.append(msg.code)


async def bench(tables: int, think: float, settle: float) -> dict[str, Any]:
    home = ROOT / "var" / "bench"
    env = {"FELT_HAND_PAUSE": "0.2", "FELT_HEARTBEAT_INTERVAL": "0.5", "FELT_LEASE_SECONDS": "3"}
    stack = BenchStack(home, home / "runs" / time.strftime("drain-%Y%m%d-%H%M%S"), realtime=1,
                       gameservers=1, realtime_cpus=None, gameserver_cpus=None, env=env)
    seats: list[Seat] = []
    views: dict[str, list[float]] = {}
    try:
        stack.start(users=("bot", 2 * tables))
        tokens = R.get_tokens(stack.frontend_url, [f"bot{i}" for i in range(1, 2 * tables + 1)],
                              stack.PASSWORD, home / "sessions-bot.json")
        options = {"small_blind": 5, "big_blind": 10, "min_buy_in": 200, "max_buy_in": 1000}
        for t in range(tables):
            pair = []
            for token in tokens[2 * t:2 * t + 2]:
                client = await FeltClient.connect(token["url"], origin=stack.origin)
                assert isinstance(await client.auth(token["token"]), p.Welcome)
                pair.append(client)
            create = p.CreateTable(game="holdem", seats=2, options=options, buy_in=500)
            created = await pair[0].request(create)
            assert isinstance(created, p.Ack) and created.table, created
            joined = await pair[1].request(p.Join(table=created.table, buy_in=500))
            assert isinstance(joined, p.Ack), joined
            started = await pair[0].request(p.Start(table=created.table))
            assert isinstance(started, p.Ack), started
            views[created.table] = []
            for client in pair:
                seat = Seat(client, think, views[created.table])
                seat.table = created.table
                seats.append(seat)
        players = [asyncio.ensure_future(s.play()) for s in seats]
        endpoint = f"tcp://127.0.0.1:{free_port()}"
        stack.procs.spawn("gs-g2", [python(), "-m", "gameserver", "--name", "g2", "--endpoint", endpoint],
                          stack.env, ready="READY gameserver g2")
        await asyncio.sleep(settle)  # every table dealt and playing; g2 linked
        print(f"  draining g1 ({tables} tables) …", file=sys.stderr, flush=True)
        asked = time.monotonic()
        drain = [python(), "-m", "common.registry", "drain", "g1"]
        done = await asyncio.create_subprocess_exec(*drain, cwd=ROOT, env=stack.env,
                                                    stdout=asyncio.subprocess.DEVNULL)
        await done.wait()
        g1 = stack.procs.procs["gs-g1"]
        while g1.poll() is None and time.monotonic() - asked < 60:
            await asyncio.sleep(0.02)
        drained = time.monotonic() - asked
        await asyncio.sleep(settle)
        failed = [t.exception() for t in players if t.done() and not t.cancelled() and t.exception()]
        for task in players:
            task.cancel()
        if failed:
            raise RuntimeError(f"{len(failed)} scripted player(s) failed: {failed[0]!r}")
        for s in seats:
            await s.client.close()
    finally:
        stack.stop()
    pauses = []
    for times in views.values():
        gaps = list(zip(times, times[1:], strict=False))
        before = [b - a for a, b in gaps if b < asked]
        around = [b - a for a, b in gaps if b >= asked and a <= asked + drained + 1]
        if before and around:
            pauses.append(max(0.0, max(around) - statistics.median(before)))
    errors = [e for s in seats for e in s.errors]
    stalled = [s.table for s in seats if not any(t > asked for t in s.views)]
    return {"tables": tables, "tables_without_a_view_after_the_drain": len(set(stalled)),
            "think_s": think, "drain_s": round(drained, 3), "g1_exit": g1.returncode,
            "pause_ms": {"median": round(1000 * statistics.median(pauses), 1) if pauses else None,
                         "max": round(1000 * max(pauses), 1) if pauses else None,
                         "tables_measured": len(pauses)},
            "errors": errors[:20], "error_count": len(errors)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.felt_load.drainbench",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--tables", type=int, default=100)
    ap.add_argument("--think", type=float, default=0.3, help="seconds a player waits before each move")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds of play before and after the drain")
    args = ap.parse_args(argv)
    result = asyncio.run(bench(args.tables, args.think, args.settle))
    print(json.dumps(result, indent=2))
    out = ROOT / "var" / "bench" / "results" / time.strftime("drain-%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    stalled = result["tables_without_a_view_after_the_drain"]
    ok = result["g1_exit"] == 0 and not result["error_count"] and not stalled
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
