"""A throw-away PostgreSQL server for the test run: Debian's binaries, its own data directory and port.

`PostgresServer().start()` runs `initdb` into a new directory under /tmp and starts `postgres` on a free
loopback port (no Unix socket), with a password (scram-sha-256) for its one role `felt`; `stop()` ends
that one process by its id (SIGINT: PostgreSQL's fast shutdown) and removes the directory.

PostgreSQL refuses to run as root. When the tests run as root (CI), both commands run as an unprivileged
user through `setpriv` (which execs, so the process id we hold is the postmaster's): Debian's `postgres`
system user, which the postgresql package creates, or `FELT_TEST_PG_USER`. The binaries are the newest
`/usr/lib/postgresql/*/bin`, or `FELT_TEST_PG_BIN`. Durability is off (fsync, synchronous_commit):
a test server's data is thrown away, and nothing here tests a crash of PostgreSQL itself.

On another (test) host: `host` is the address to listen on, `prefix` the command that runs a program
there (`ip netns exec <host>`), `allow` a subnet whose clients may log in too (pg_hba.conf), and `via`
runs this module's own connections there (`tests.netns.Netns.call`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg

ROLE = "felt"


class PostgresUnavailable(Exception):
    """No PostgreSQL binaries, or the server would not start; the message says why."""


def bin_dir() -> Path:
    configured = os.environ.get("FELT_TEST_PG_BIN")
    found = [Path(configured)] if configured else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if
        p.parent.name.isdigit() else 0)
    if not found or not (found[-1] / "postgres").exists():
        raise PostgresUnavailable("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin "
                                  "(apt-get install postgresql) and FELT_TEST_PG_BIN is not set")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _here(fn: Callable[[], Any]) -> Any:
    return fn()


class PostgresServer:
    def __init__(self, host: str = "127.0.0.1", prefix: Sequence[str] = (), allow: str | None = None,
                 via: Callable[[Callable[[], Any]], Any] = _here) -> None:
        self.host, self.prefix, self.allow, self.via = host, tuple(prefix), allow, via
        self.bin = bin_dir()
        self.user = os.environ.get("FELT_TEST_PG_USER", "postgres") if os.geteuid() == 0 else None
        self.password = os.urandom(12).hex()
        self.port = _free_port()
        self.base = Path(tempfile.mkdtemp(prefix="felt-pg-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def version(self) -> str:
        return self.bin.parent.name

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{ROLE}:{self.password}@{self.host}:{self.port}/{database}"

    def _as_user(self, argv: list[str]) -> list[str]:
        if self.user is None:
            return argv
        return ["setpriv", f"--reuid={self.user}", f"--regid={pwd.getpwnam(self.user).pw_gid}",
                "--init-groups", "--", *argv]

    def start(self) -> PostgresServer:
        if self.user is not None:
            try:
                owner = pwd.getpwnam(self.user)
            except KeyError:
                raise PostgresUnavailable(f"no user {self.user!r} to run PostgreSQL as (FELT_TEST_PG_USER; "
                                          "Debian's postgresql package creates 'postgres')") from None
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
        pwfile = self.base / "pw"
        pwfile.write_text(self.password)
        if self.user is not None:
            os.chown(pwfile, pwd.getpwnam(self.user).pw_uid, -1)
        pwfile.chmod(0o600)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        data = self.base / "data"
        done = subprocess.run(self._as_user([
            str(self.bin / "initdb"), "-D", str(data), "-U", ROLE, "--pwfile", str(pwfile),
            "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"]),
            env=env, capture_output=True, text=True, cwd=self.base)
        pwfile.unlink()
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        if self.allow is not None:
            with open(data / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {self.allow} scram-sha-256\n")
        log = open(self.base / "postgres.log", "ab")  # noqa: SIM115 - the server writes it
        self.proc = subprocess.Popen([*self.prefix, *self._as_user([
            str(self.bin / "postgres"), "-D", str(data), "-p", str(self.port),
            "-c", f"listen_addresses={self.host}", "-c", "unix_socket_directories=",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=400", "-c", "shared_buffers=64MB"])],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.base)
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60.0) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.via(lambda: psycopg.connect(self.url(driver="postgresql"), connect_timeout=2).close())
                return
            except psycopg.OperationalError as exc:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log = (self.base / "postgres.log").read_text(errors="replace")[-2000:]
                    self.stop()
                    raise PostgresUnavailable(f"PostgreSQL did not start ({exc}):\n{log}") from None
            time.sleep(0.05)

    def execute(self, sql: str, database: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE DATABASE cannot run in one)."""
        def run() -> None:
            with psycopg.connect(self.url(database, driver="postgresql"), autocommit=True) as conn:
                conn.execute(sql.encode())

        self.via(run)

    def stop(self) -> None:
        """End the server we started (by its id), wait for it, and remove its data directory."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)  # fast shutdown: roll back, close clients, stop
                try:
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            self.proc = None
        shutil.rmtree(self.base, ignore_errors=True)
