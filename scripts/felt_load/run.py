"""The load generator's coordinator: tokens from the frontend, worker processes, progress, results.

`get_tokens` does what a browser does: log in through the real form (with its CSRF token) and GET
/api/token. Login is deliberately slow (scrypt), so a run keeps each bot's session cookie in a cache file
and, next time, only asks /api/token with it (a returning browser); a cookie the frontend no longer
accepts is replaced by logging in again.

`Load` starts worker processes (`scripts.felt_load.worker`), spreads the players over them (whole tables
per worker), sends commands, prints progress once a second (connections open, moves/s, p99 so far, the
load generator's own CPU) and aggregates what they measured.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from scripts.felt_load.hist import Hist
from scripts.felt_load.procs import ROOT, python
from scripts.felt_load.wsclient import check_loopback

# ---- tokens, the browser's way ---------------------------------------------------------------------


class _Browser:
    def __init__(self, base: str, cookie: str | None = None) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.cookie = cookie

    def _open(self, path: str, data: bytes | None = None) -> tuple[int, str]:
        req = urllib.request.Request(self.base + path, data=data)
        if self.cookie and not any(c.name == "session" for c in self.jar):
            req.add_header("Cookie", f"session={self.cookie}")
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def login(self, username: str, password: str) -> None:
        self.cookie = None
        _, page = self._open("/login")
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        body = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrf_token": match.group(1) if match else ""}).encode()
        status, _ = self._open("/login", body)
        session = next((c.value for c in self.jar if c.name == "session"), None)
        if status != 200 or session is None:
            raise RuntimeError(f"login of {username} failed ({status})")
        self.cookie = session

    def token(self) -> dict[str, Any] | None:
        status, body = self._open("/api/token")
        return dict(json.loads(body)) if status == 200 else None


def get_tokens(frontend: str, usernames: list[str], password: str, cache: Path | None = None,
               threads: int = 8, progress: bool = True) -> list[dict[str, Any]]:
    """A fresh token (with its realtime URL) for each user, via login + GET /api/token."""
    check_loopback(frontend)
    cookies: dict[str, str] = {}
    if cache is not None and cache.exists():
        try:
            cookies = json.loads(cache.read_text())
        except ValueError:
            cookies = {}
    lock = threading.Lock()
    logins = [0]

    def one(name: str) -> dict[str, Any]:
        browser = _Browser(frontend, cookies.get(name))
        answer = browser.token() if browser.cookie else None
        if answer is None:
            browser.login(name, password)
            with lock:
                logins[0] += 1
            answer = browser.token()
            if answer is None:
                raise RuntimeError(f"/api/token refused {name} right after login")
        with lock:
            cookies[name] = browser.cookie or ""
        return answer

    t0 = time.monotonic()
    out: list[dict[str, Any]] = []
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for i, answer in enumerate(pool.map(one, usernames), 1):
            out.append(answer)
            if cache is not None and logins[0] and i % 500 == 0:
                with lock:
                    cache.parent.mkdir(parents=True, exist_ok=True)
                    cache.write_text(json.dumps(cookies))
            if progress and (i % 500 == 0 or i == len(usernames)):
                print(f"  tokens {i}/{len(usernames)} ({logins[0]} logins, {time.monotonic() - t0:.0f}s)",
                      file=sys.stderr, flush=True)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(cookies))
    return out


def transport_mix(n: int, xhr_streaming: float, xhr: float) -> list[str]:
    """Transports for n players: whole tables of 4 share one; the shares are of tables, rounded."""
    tables = -(-n // 4)
    n_stream = round(xhr_streaming * tables)
    n_xhr = min(tables - n_stream, round(xhr * tables))
    kinds = ["xhr_streaming"] * n_stream + ["xhr"] * n_xhr
    kinds += ["websocket"] * (tables - len(kinds))
    return [kind for kind in kinds for _ in range(4)][:n]


# ---- the workers -------------------------------------------------------------------------------------


class WorkerProc:
    def __init__(self, index: int, proc: asyncio.subprocess.Process, config: dict[str, Any]) -> None:
        self.index = index
        self.proc = proc
        self.config = config
        self.groups = 0
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.last_tick: dict[str, Any] | None = None
        self.reader: asyncio.Task[None] | None = None

    async def read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                await self.events.put({"ev": "eof"})
                return
            try:
                event = json.loads(line)
            except ValueError:
                print(f"  worker {self.index}: {line.decode(errors='replace').rstrip()}", file=sys.stderr)
                continue
            if event.get("ev") == "tick":
                self.last_tick = event
            else:
                await self.events.put(event)

    async def send(self, cmd: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        await self.proc.stdin.drain()

    async def expect(self, ev: str, timeout: float = 600) -> dict[str, Any]:
        while True:
            event = await asyncio.wait_for(self.events.get(), timeout)
            if event.get("ev") == ev:
                return event
            if event.get("ev") == "eof":
                raise RuntimeError(f"worker {self.index} exited (waiting for {ev})")


class Load:
    """A set of worker processes and the players (or echo seats) spread over them."""

    def __init__(self, workers: int = 2, cpus: str | None = "1", label: str = "load",
                 progress: bool = True) -> None:
        self.n_workers = max(1, workers)
        self.cpus = cpus
        self.label = label
        self.progress = progress
        self.workers: list[WorkerProc] = []
        self._printer: asyncio.Task[None] | None = None
        self.target = 0.0
        self.stderr_lines = 0

    async def start(self, configs: list[dict[str, Any]]) -> None:
        from scripts.felt_load.procs import ncpus

        for i, config in enumerate(configs):
            argv = [python(), "-m", "scripts.felt_load.worker"]
            if self.cpus is not None and ncpus() > 1:
                argv = ["taskset", "-c", self.cpus, *argv]
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=str(ROOT), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, limit=1 << 26)
            worker = WorkerProc(i, proc, config)
            worker.groups = len(config.get("players", [])) // 4 or int(config.get("echo_players", 0)) // 4
            worker.reader = asyncio.ensure_future(worker.read())
            await worker.send(config)
            await worker.expect("hello", 60)
            self.workers.append(worker)

    @property
    def pids(self) -> list[int]:
        return [w.proc.pid for w in self.workers]

    @property
    def groups(self) -> int:
        return sum(w.groups for w in self.workers)

    async def all(self, cmd: dict[str, Any], ev: str | None, timeout: float = 600) -> list[dict[str, Any]]:
        for w in self.workers:
            await w.send(cmd)
        if ev is None:
            return []
        return list(await asyncio.gather(*(w.expect(ev, timeout) for w in self.workers)))

    async def connect(self) -> dict[str, Any]:
        replies = await self.all({"cmd": "connect"}, "connected")
        failed: dict[str, int] = {}
        for r in replies:
            for k, v in r["failed"].items():
                failed[k] = failed.get(k, 0) + v
        ok = sum(r["ok"] for r in replies)
        span = max(r["last"] for r in replies) - min(r["first"] for r in replies)
        hist = Hist.merged(Hist.from_json(r["hist"]) for r in replies)
        return {"connected": ok, "failed": failed, "seconds": round(span, 3),
                "rate": round(ok / span, 1) if span > 0 else None, "latency_ms": hist.summary(),
                "loadgen_rss_kib": sum(r["rss_kib"] for r in replies)}

    async def play(self, groups: int, think: float, pad: int | None = None) -> None:
        """Activate `groups` tables in total (spread evenly over the workers), `think` s per move."""
        self.target = groups / think if think > 0 else 0.0
        remaining = groups
        for i, w in enumerate(self.workers):
            share = min(w.groups, -(-remaining // (len(self.workers) - i)))
            remaining -= share
            await w.send({"cmd": "play", "groups": share, "think": think, "pad": pad})

    async def window(self) -> dict[str, Any]:
        """Close the current measuring window in every worker; the merged figures of that window."""
        replies = await self.all({"cmd": "window"}, "window", 60)
        return merge_windows(replies)

    def start_progress(self) -> None:
        if self.progress and self._printer is None:
            self._printer = asyncio.ensure_future(self._print_progress())

    async def _print_progress(self) -> None:
        prev: tuple[float, int, int, float] | None = None
        while True:
            await asyncio.sleep(1.0)
            ticks = [w.last_tick for w in self.workers if w.last_tick]
            if not ticks:
                continue
            merged = merge_windows(ticks)
            now = time.monotonic()
            moves, frames, cpu = merged["moves_acked"], merged["frames_in"], merged["loadgen_cpu_s"]
            if prev is not None and moves >= prev[1] and cpu >= prev[3] and (self.target or moves > prev[1]):
                dt = now - prev[0]
                rate = (moves - prev[1]) / dt
                fps = (frames - prev[2]) / dt
                cpu_pct = 100 * (cpu - prev[3]) / dt
                errors = sum(merged["errors"].values())
                print(f"  [{self.label}] open {merged['open']:>5} | moves/s {rate:7.0f} "
                      f"(target {self.target:5.0f}) | frames/s {fps:7.0f} | "
                      f"p99 rtt {_ms(merged['rtt']['p99'])} fan-out {_ms(merged['fanout']['p99'])} | "
                      f"errors {errors} | loadgen cpu {cpu_pct:3.0f}%",
                      file=sys.stderr, flush=True)
            prev = (now, moves, frames, cpu)

    async def stop(self) -> None:
        if self._printer is not None:
            self._printer.cancel()
            self._printer = None
        for w in self.workers:
            try:
                await w.send({"cmd": "stop"})
            except (ConnectionError, RuntimeError):
                pass
        for w in self.workers:
            try:
                await asyncio.wait_for(w.proc.wait(), 20)
            except TimeoutError:
                w.proc.kill()
                await w.proc.wait()
            if w.reader is not None:
                w.reader.cancel()
        self.workers = []


def _ms(v: float | None) -> str:
    return f"{v:6.2f}ms" if v is not None else "    - "


def merge_windows(replies: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the counters and merge the histograms of several workers' windows (or ticks)."""
    stats = [r["stats"] for r in replies]
    errors: dict[str, int] = {}
    for s in stats:
        for k, v in s["errors"].items():
            errors[k] = errors.get(k, 0) + v
    elapsed = max(s["elapsed"] for s in stats)
    lag = Hist.merged(Hist.from_json(r["lag"]) for r in replies)
    out: dict[str, Any] = {
        "elapsed": elapsed,
        **{k: sum(s[k] for s in stats) for k in ("moves_sent", "moves_acked", "frames_in", "bytes_in",
                                                   "frames_out", "views", "games", "tables_opened", "dropped",
                                                   "bad_frames")},
        "errors": errors,
        "rtt": Hist.merged(Hist.from_json(s["rtt"]) for s in stats).summary(),
        "rtt_view": Hist.merged(Hist.from_json(s["rtt_view"]) for s in stats).summary(),
        "fanout": Hist.merged(Hist.from_json(s["fanout"]) for s in stats).summary(),
        "loadgen_cpu_s": sum(r["cpu"] for r in replies),
        "loadgen_cpu_max": max(r["cpu"] for r in replies) / elapsed if elapsed else 0.0,
        "loadgen_lag_p99_ms": (lag.quantile(0.99) or 0.0) * 1e3,
        "loadgen_lag_max_ms": max(r["lag_max"] for r in replies) * 1e3,
        "open": sum(r["open"] for r in replies),
        "loadgen_rss_kib": sum(r["rss_kib"] for r in replies),
    }
    return out


def worker_configs(tokens: list[dict[str, Any]], transports: list[str], workers: int, **common: Any
                   ) -> list[dict[str, Any]]:
    """Whole tables of four per worker, dealt round-robin."""
    tables = [list(range(i, min(i + 4, len(tokens)))) for i in range(0, len(tokens) - len(tokens) % 4, 4)]
    configs = [{"players": [], "name": f"w{i}", "seed": 1000 + i, **common} for i in range(workers)]
    for t, seats in enumerate(tables):
        cfg = configs[t % workers]
        for s in seats:
            cfg["players"].append({"token": tokens[s]["token"], "url": tokens[s]["url"],
                                   "transport": transports[s]})
    return [c for c in configs if c["players"]]


def echo_configs(url: str, players: int, workers: int, **common: Any) -> list[dict[str, Any]]:
    tables = players // 4
    per = [tables // workers + (1 if i < tables % workers else 0) for i in range(workers)]
    return [{"mode": "echo", "echo_url": url, "echo_players": 4 * n, "name": f"e{i}", "seed": 2000 + i,
             **common} for i, n in enumerate(per) if n]
