"""The processes a load run starts and measures: Felt's tiers, echo servers and load workers.

`Procs` starts each process (optionally pinned with `taskset -c`), waits for its readiness line, and stops
exactly the processes it started, by pid. `cpu_seconds`/`rss_kib` read /proc; `CoreSampler` reads the
per-core busy time from /proc/stat. `BenchStack` is Felt for a benchmark: one frontend (gunicorn), R
realtime servers and G game servers on free loopback ports. The bot accounts live in `home/users.db`,
kept across runs (with the secret, so their browser sessions stay valid); each run works on a fresh copy
of it in its own directory (game servers read chip balances from the same database), removed at the end.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.integration.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """User + system CPU of a process by kind of thread: "main" (the event loop), "zmq" (libzmq's I/O
    threads, where CurveZMQ and the TCP work of every link happen) and "other" (the ZAP authenticator, the
    database worker, ...)."""
    out = {"main": 0.0, "zmq": 0.0, "other": 0.0}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as fh:
                head, _, rest = fh.read().rpartition(")")
        except OSError:
            continue  # the thread ended meanwhile
        fields = rest.split()
        comm = head.partition("(")[2]
        kind = "main" if tid == str(pid) else "zmq" if comm.startswith("ZMQbg") else "other"
        out[kind] += (int(fields[11]) + int(fields[12])) / TICKS
    return out


def scrape(url: str) -> str:
    """The text a Felt process's metrics endpoint serves; empty when it serves none (metrics off)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return str(resp.read().decode())
    except OSError:
        return ""


def hot_seconds(text: str) -> dict[str, float]:
    """The `felt_*_hot_seconds_total{part}` counters in a `scrape` (common/hotpath.py), by part; empty
    when it has none (an older version, metrics off)."""
    out = {}
    for line in text.splitlines():
        found = _HOT.match(line)
        if found:
            out[found.group(1)] = float(found.group(2))
    return out


_HOT = re.compile(r'felt_\w+_hot_seconds_total\{part="([a-z_]+)"\} ([0-9.e+-]+)')


def gc_seconds(text: str) -> float | None:
    """The CPU seconds of the garbage collector's runs in a `scrape`, all generations
    (`felt_*_gc_seconds_total`, common/garbage.py); None when it has none (an older version)."""
    found = _GC.findall(text)
    return sum(float(v) for v in found) if found else None


_GC = re.compile(r'felt_\w+_gc_seconds_total\{generation="[0-9]"\} ([0-9.e+-]+)')


def commit_count(text: str) -> float | None:
    """A game server's group commits so far in a `scrape` (the count of its
    `felt_gameserver_log_commit_seconds` histogram); None when it has none."""
    found = _COMMITS.search(text)
    return float(found.group(1)) if found else None


_COMMITS = re.compile(r"^felt_gameserver_log_commit_seconds_count ([0-9.e+-]+)$", re.MULTILINE)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def core_times() -> dict[str, tuple[int, int]]:
    """(busy, total) jiffies per core from /proc/stat."""
    out = {}
    with open("/proc/stat") as fh:
        for line in fh:
            if line.startswith("cpu") and line[3].isdigit():
                name, *vals = line.split()
                nums = [int(v) for v in vals]
                idle = nums[3] + nums[4]
                out[name] = (sum(nums) - idle, sum(nums))
    return out


class CoreSampler:
    def __init__(self) -> None:
        self.start = core_times()

    def busy(self) -> dict[str, float]:
        """Fraction of each core busy since construction."""
        end = core_times()
        return {name: round((end[name][0] - b0) / max(1, end[name][1] - t0), 3)
                for name, (b0, t0) in self.start.items()}


def ncpus() -> int:
    return len(os.sched_getaffinity(0))


class Procs:
    """Processes started for a run; each is stopped by its own pid, never by name."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.cpus: dict[str, str | None] = {}

    def spawn(self, key: str, argv: list[str], env: dict[str, str], *, cpus: str | None = None,
              ready: str | None = None, timeout: float = 30.0, cwd: Path = ROOT) -> subprocess.Popen[bytes]:
        if cpus is not None and ncpus() > 1:
            argv = ["taskset", "-c", cpus, *argv]
        path = self.log_dir / f"{key}.log"
        with open(path, "wb") as log:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs[key] = proc
        self.cpus[key] = cpus
        if ready is not None:
            deadline = time.monotonic() + timeout
            while ready not in path.read_text(errors="replace"):
                if proc.poll() is not None:
                    raise RuntimeError(f"{key} exited early:\n{path.read_text(errors='replace')[-3000:]}")
                if time.monotonic() > deadline:
                    tail = path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{key} not ready in {timeout}s:\n{tail}")
                time.sleep(0.05)
        return proc

    def pid(self, key: str) -> int:
        return self.procs[key].pid

    def stop(self, key: str) -> None:
        proc = self.procs.pop(key, None)
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def stop_all(self) -> None:
        for key in list(self.procs):
            proc = self.procs[key]
            if proc.poll() is None:
                proc.terminate()
        for key in list(self.procs):
            self.stop(key)


def python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def rulesbench(args: list[str], cpu: str) -> dict[str, Any]:
    """`python -m scripts.felt_load.rulesbench ARGS` pinned to core `cpu` (when there are several): the
    JSON it prints last."""
    argv = [python(), "-m", "scripts.felt_load.rulesbench", *args]
    if ncpus() > 1:
        argv = ["taskset", "-c", cpu, *argv]
    done = subprocess.run(argv, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=600, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


class BenchStack:
    """Felt's tiers for a benchmark, pinned as asked; see the module docstring."""

    PASSWORD = "bench-bot-password"

    def __init__(self, home: Path, run_dir: Path, *, realtime: int = 1, gameservers: int = 1,
                 realtime_cpus: str | None = "0", gameserver_cpus: str | None = "1",
                 frontend_cpus: str | None = None, env: dict[str, str] | None = None,
                 code: Path = ROOT) -> None:
        self.home = home
        self.code = code  # the checkout whose tiers run (scripts/bench --baseline: another one)
        self.run_dir = run_dir
        home.mkdir(parents=True, exist_ok=True)
        run_dir.mkdir(parents=True, exist_ok=True)
        self.procs = Procs(run_dir / "log")
        self.frontend_port = free_port()
        self.realtime_ports = [free_port() for _ in range(realtime)]
        self.metrics_ports = {f"rt-{i}": free_port() for i in range(realtime)}
        self.gameserver_endpoints = {f"g{i + 1}": f"tcp://127.0.0.1:{free_port()}"
                                     for i in range(gameservers)}
        self.origin = f"http://127.0.0.1:{self.frontend_port}"
        self.cpus = {"realtime": realtime_cpus, "gameserver": gameserver_cpus, "frontend": frontend_cpus}
        secret_file = home / "secret"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(32))
            secret_file.chmod(0o600)
        self.users_path = home / "users.db"
        self.db_path = run_dir / "felt.db"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(code),
            "FELT_CONFIG": "",
            "FELT_DATA_DIR": str(run_dir),
            "FELT_SECRET": secret_file.read_text().strip(),
            "FELT_DATABASE_URL": f"sqlite:///{self.db_path}",
            "FELT_GAMESERVERS": json.dumps(self.gameserver_endpoints),
            "FELT_REALTIME_URLS": ",".join(self.realtime_url(i) for i in range(realtime)),
            "FELT_ALLOWED_ORIGINS": self.origin,
            "FELT_CLIENT_RATE": "1000",  # players are paced by think time; the limiter is not under test
            # thousands of bot logins from one loopback address: the throttles are not under test either
            "FELT_LOGIN_ADDRESS_LIMIT": "1000000 per minute",
            "FELT_LOGIN_ACCOUNT_LIMIT": "1000000 per minute",
            # ... and thousands of sessions from it, connecting at once
            "FELT_MAX_UNAUTHENTICATED_PER_ADDRESS": "1000000",
            "FELT_NEW_SESSIONS_PER_ADDRESS": "1000000",
            "FELT_NEW_SESSIONS_BURST": "1000000",
            "FELT_TOKEN_TTL": "3600",
            "FELT_AUTH_TIMEOUT": "60",
            "FELT_REQUEST_TIMEOUT": "10",
            "FELT_MAX_TABLES": "50000",
            "FELT_SOCKJS_HEARTBEAT": "25",
            # the simulated players send no entropy: their deals go ahead at once on the server's values
            "FELT_ENTROPY_WAIT": "0",
            **(env or {}),
        }

    def realtime_url(self, i: int = 0) -> str:
        return f"http://127.0.0.1:{self.realtime_ports[i]}/sockjs"

    @property
    def frontend_url(self) -> str:
        return self.origin

    def _migrate_for_code(self) -> None:
        """A baseline checkout's copy of the master, at its code's schema: migrated down by this
        checkout's migrations when the baseline is older, then by its own `init-db` (up, if newer)."""
        from alembic import command

        from common.schema import config, head, known_revisions, open_db

        theirs = subprocess.run([python(), "-c", "from common.schema import head; print(head())"],
                                cwd=self.code, check=True, capture_output=True, text=True).stdout.strip()
        if theirs != head() and theirs in known_revisions():
            engine = open_db(f"sqlite:///{self.db_path}")
            with engine.begin() as conn:
                command.downgrade(config(conn), theirs)
            engine.dispose()
        subprocess.run([python(), "-m", "frontend.cli", "init-db"], cwd=self.code, check=True,
                       env=self.env, capture_output=True)

    def start(self, users: tuple[str, int] | None = None) -> BenchStack:
        """Start every tier; first make sure the bot accounts `users` = (prefix, count) exist.

        Creating them is the documented setup step (`python -m frontend.cli create-users`, idempotent).
        """
        master = {**self.env, "FELT_DATABASE_URL": f"sqlite:///{self.users_path}"}
        if self.code == ROOT:  # a baseline's stack copies the master as this checkout left it
            subprocess.run([python(), "-m", "frontend.cli", "init-db"], cwd=self.code, env=master,
                           check=True, capture_output=True)
            if users is not None:
                subprocess.run([python(), "-m", "frontend.cli", "create-users", "--prefix", users[0],
                                "--count", str(users[1]), "--password", self.PASSWORD], cwd=self.code,
                               env=master, check=True, capture_output=True)
        with sqlite3.connect(self.users_path) as src, sqlite3.connect(self.db_path) as dst:
            src.backup(dst)
        src.close()
        dst.close()
        if self.code != ROOT:
            self._migrate_for_code()
        for name in self.gameserver_endpoints:
            self.metrics_ports[f"gs-{name}"] = port = free_port()
            self.procs.spawn(f"gs-{name}", [python(), "-m", "gameserver", "--name", name, "--metrics-port",
                                            str(port)], self.env, cpus=self.cpus["gameserver"],
                             ready=f"READY gameserver {name}", cwd=self.code)
        for i, port in enumerate(self.realtime_ports):
            self.procs.spawn(f"rt-{i}", [python(), "-m", "realtime", "--port", str(port), "--metrics-port",
                                         str(self.metrics_ports[f"rt-{i}"])], self.env,
                             cpus=self.cpus["realtime"], ready="READY realtime", cwd=self.code)
        gunicorn = str(Path(python()).parent / "gunicorn")
        self.procs.spawn("frontend", [gunicorn, "--workers", "2", "--bind", f"127.0.0.1:{self.frontend_port}",
                                      "frontend.wsgi:app"], self.env, cpus=self.cpus["frontend"],
                         ready="Booting worker", cwd=self.code)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.origin}/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("frontend did not answer /healthz") from None
                time.sleep(0.1)
        return self

    def felt_pids(self) -> dict[str, int]:
        """The realtime and game-server processes (the frontend is not on the move path)."""
        return {k: p.pid for k, p in self.procs.procs.items() if k.startswith(("rt-", "gs-"))}

    def metrics_url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.metrics_ports[key]}/metrics"

    def stop(self) -> None:
        self.procs.stop_all()
        for suffix in ("", "-wal", "-shm"):  # the run's copy of the database: actions of every move
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)


def placement(stack_cpus: dict[str, Any], loadgen_cpus: str | None) -> dict[str, Any]:
    return {"cores": ncpus(), **stack_cpus, "loadgen": loadgen_cpus}
