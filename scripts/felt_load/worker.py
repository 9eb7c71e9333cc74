"""One load-generator process: `python -m scripts.felt_load.worker` (started by the coordinator).

Reads its configuration as the first JSON line on stdin, then commands, one JSON object a line:
  connect                      open and authenticate every player (or echo seat), `concurrency` at a time
  lobby                        subscribe every player to lobby updates
  probe                        the first player creates a table (to trigger a lobby broadcast); reply its id
  lobby_report {table}         how many players saw that table in a lobby_update, and when
  play {groups, think}         the first `groups` tables play with `think` seconds per move; the rest idle
  window                       reply this window's counters and histograms, and start a new window
  stop                         close everything and exit
and writes events as JSON lines on stdout (`ev`: hello, connected, lobby_ready, probe, lobby_report, tick
every second, window, bye). It measures its own CPU and event-loop lag, so the coordinator can tell a
client-bound run from a server-bound one. It never runs longer than `max_seconds`.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import sys
import time
from typing import Any

from common import loops
from common import protocol as p
from scripts.felt_load.hist import Hist
from scripts.felt_load.players import EchoGroup, EchoSeat, Group, Seat, Stats, clock


def rss_kib(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Worker:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.stats = Stats()
        self.rng = random.Random(config.get("seed"))
        self.origin: str | None = config.get("origin")
        self.mode = config.get("mode", "felt")
        self.seats: list[Any] = []
        self.groups: list[Any] = []
        seats_per_table = int(config.get("seats", 4))
        if self.mode == "echo":
            url, count = config["echo_url"], int(config["echo_players"])
            self.seats = [EchoSeat(url, self.stats) for _ in range(count)]
            for i in range(0, count - count % seats_per_table, seats_per_table):
                room = f"{config.get('name', 'w')}-{i // seats_per_table}"
                self.groups.append(EchoGroup(self.seats[i:i + seats_per_table], room, self.stats, self.rng,
                                             int(config.get("pad", 600))))
        else:
            protocol = int(config.get("protocol", 2))
            self.seats = [Seat(pl["token"], pl["url"], pl.get("transport", "websocket"), self.stats, protocol)
                          for pl in config["players"]]
            n = len(self.seats)
            game = config.get("game", "crazy_eights")
            for i in range(0, n - n % seats_per_table, seats_per_table):
                self.groups.append(Group(self.seats[i:i + seats_per_table], game, self.stats, self.rng))
        self.lobby_seen: dict[str, list[float]] = {}
        self.lag = Hist()
        self.lag_max = 0.0
        self.cpu0 = time.process_time()
        self.window_cpu0 = self.cpu0
        self.connected = 0
        self.active_groups = 0
        self.think = 1.0
        self.done = asyncio.Event()

    def emit(self, ev: str, **data: Any) -> None:
        sys.stdout.write(json.dumps({"ev": ev, **data}) + "\n")
        sys.stdout.flush()

    # ---- commands ------------------------------------------------------------------------------

    async def connect(self) -> None:
        sem = asyncio.Semaphore(int(self.config.get("concurrency", 50)))
        hist = Hist()
        failures: dict[str, int] = {}
        first = clock()

        async def one(seat: Any) -> None:
            async with sem:
                try:
                    hist.add(await seat.connect(self.origin))
                    self.connected += 1
                except Exception as exc:  # refused, reset, timed out, auth refused
                    key = type(exc).__name__
                    failures[key] = failures.get(key, 0) + 1
                    seat.conn = None

        await asyncio.gather(*(one(s) for s in self.seats))
        last = clock()
        if self.mode == "echo":
            for group in self.groups:
                group.join()
            await asyncio.sleep(0.2)
        gc.collect()
        gc.freeze()  # the connections live until the end: keep them out of every later collection
        self.emit("connected", ok=self.connected, failed=failures, first=first, last=last,
                  hist=hist.to_json(), rss_kib=rss_kib())

    async def lobby(self) -> None:
        loop = asyncio.get_running_loop()
        live = [s for s in self.seats if s.conn is not None and not s.conn.closed]
        for seat in live:
            seat.lobby_ready = loop.create_future()
            seat.on_lobby = self._on_lobby
            seat.request(p.Lobby(subscribe=True), "lobby")
        done, pending = (await asyncio.wait([s.lobby_ready for s in live], timeout=60)
                         if live else (set(), set()))
        self.emit("lobby_ready", subscribed=len(done), missing=len(pending))

    def _on_lobby(self, seat: Seat, update: Any, now: float) -> None:
        for info in update.tables:
            self.lobby_seen.setdefault(info.id, []).append(now)

    async def probe(self) -> None:
        seat = next(s for s in self.seats if s.conn is not None and not s.conn.closed)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()
        original = seat.group
        seat.group = None

        def on_ack(text: str, _orig: Any = seat.conn.on_message) -> None:
            _orig(text)
            try:
                msg = json.loads(text)
            except ValueError:
                return
            if msg.get("req") == req and not answer.done():
                answer.set_result(msg)

        seat.conn.on_message = on_ack
        sent = clock()
        req = seat.request(p.CreateTable(game=self.config.get("game", "crazy_eights"), seats=4), "probe")
        try:
            reply = await asyncio.wait_for(answer, 10)
        finally:
            seat.conn.on_message = seat.on_message
            seat.group = original
        self.emit("probe", table=reply.get("table"), sent=sent, reply=reply)

    def lobby_report(self, table: str) -> None:
        times = sorted(self.lobby_seen.get(table, []))
        self.emit("lobby_report", table=table, received=len(times), first=times[0] if times else None,
                  last=times[-1] if times else None, median=times[len(times) // 2] if times else None)

    def play(self, groups: int, think: float, pad: int | None = None) -> None:
        self.active_groups, self.think = groups, think
        for i, group in enumerate(self.groups):
            if pad is not None and isinstance(group, EchoGroup):
                group.pad = "x" * max(0, pad)
            group.set_active(i < groups, think)

    def window(self) -> None:
        self.emit("window", **self._snapshot())
        self.stats.reset()
        self.lag = Hist()
        self.lag_max = 0.0
        self.window_cpu0 = time.process_time()

    def _snapshot(self) -> dict[str, Any]:
        open_conns = sum(1 for s in self.seats if s.conn is not None and not s.conn.closed)
        return {"stats": self.stats.to_json(), "cpu": time.process_time() - self.window_cpu0,
                "lag": self.lag.to_json(), "lag_max": self.lag_max, "open": open_conns,
                "active_groups": self.active_groups, "rss_kib": rss_kib()}

    async def stop(self) -> None:
        for group in self.groups:
            group.set_active(False, 1.0)
        await asyncio.sleep(0.2)
        for seat in self.seats:
            seat.close()
        await asyncio.sleep(0.2)
        self.emit("bye", cpu_total=time.process_time() - self.cpu0)
        self.done.set()

    # ---- background ----------------------------------------------------------------------------

    async def _ticker(self) -> None:
        interval = 0.05
        expected = clock() + interval
        next_tick = clock() + 1.0
        while True:
            await asyncio.sleep(interval)
            now = clock()
            lag = max(0.0, now - expected)
            self.lag.add(lag + 1e-6)
            self.lag_max = max(self.lag_max, lag)
            expected = now + interval
            if now >= next_tick:
                next_tick = now + 1.0
                self.emit("tick", **self._snapshot())
                for group in self.groups:
                    group.watchdog(now, float(self.config.get("stall_after", 10.0)))

    async def run(self, reader: asyncio.StreamReader) -> None:
        ticker = asyncio.ensure_future(self._ticker())
        self.emit("hello", pid=os.getpid(), seats=len(self.seats), groups=len(self.groups))
        try:
            while not self.done.is_set():
                line = await reader.readline()
                if not line:
                    await self.stop()
                    break
                cmd = json.loads(line)
                name = cmd.get("cmd")
                if name == "connect":
                    await self.connect()
                elif name == "lobby":
                    await self.lobby()
                elif name == "probe":
                    await self.probe()
                elif name == "lobby_report":
                    self.lobby_report(cmd["table"])
                elif name == "play":
                    self.play(int(cmd["groups"]), float(cmd["think"]), cmd.get("pad"))
                elif name == "window":
                    self.window()
                elif name == "stop":
                    await self.stop()
        finally:
            ticker.cancel()


async def amain() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 28)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    config = json.loads(await reader.readline())
    worker = Worker(config)
    await asyncio.wait_for(worker.run(reader), float(config.get("max_seconds", 3600)))


def main() -> int:
    loops.run(amain(), "uvloop")  # the client's loop costs less on uvloop: more load per worker
    return 0


if __name__ == "__main__":
    sys.exit(main())
