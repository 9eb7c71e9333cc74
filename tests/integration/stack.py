"""Start Felt's real processes on free ports (loopback or test hosts); talk to the frontend as a browser.

`Stack` runs the frontend under gunicorn, N realtime servers and M game servers, each as its own process
with a private data directory and database (tests/dbs.py), waits until each says it is ready, and stops
only the processes it started, by their ids. By default everything runs here on loopback; `public` (the
frontend and realtime tier) and `private` (the game servers) may each be another `Host` — a network
namespace of tests/netns.py, with an address, a command prefix and a data directory of its own — and
`database_url` a database elsewhere; hosts with their own data directories get their CurveZMQ keys as
an admin provisions them (README, Security): each made on its host, only the public files copied.
`WebUser` registers and logs in through the real HTML forms (with CSRF) and asks for tokens. Shared by
the integration tests and the load generator.
"""

from __future__ import annotations

import functools
import http.client
import http.cookiejar
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from common import curve
from common.db import make_engine
from tests import dbs

ROOT = Path(__file__).resolve().parents[2]


_HANDED_OUT: set[int] = set()


def free_port(*, offsets: Sequence[int] = (0,)) -> int:
    """A port that is free now, with `port + offset` for each of `offsets` (a process that binds the
    ports after it), none of them handed out before by this process: a stack picks all its ports before
    it starts the processes that bind them, so a port that is merely free could be picked twice. Chosen
    below the kernel's ephemeral range: outgoing connections (of a load test, say) take ports from that
    range and could grab it before our server binds it."""
    for _ in range(500):
        port = random.randint(20000, 32000)
        wanted = [port + offset for offset in offsets]
        if _HANDED_OUT.isdisjoint(wanted) and all(_is_free(p) for p in wanted):
            _HANDED_OUT.update(wanted)
            return port
    raise RuntimeError("no free port found")


METRICS_OFFSET = 1000  # the default metrics_port_offset, which the frontend's gunicorn uses


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass(frozen=True)
class Host:
    """Where some of a stack's processes run: the address they listen on and are reached at, the command
    that runs a program there (none: here), and the name of its own data directory under the stack's
    ("": the stack's directory itself)."""

    address: str = "127.0.0.1"
    prefix: Sequence[str] = ()
    data: str = ""


HERE = Host()


def require_haproxy() -> None:
    """Skip the calling test (module, fixture) when haproxy is not installed; under CI
    (`FELT_REQUIRE_BROWSER=1`, set by .ci/run, which installs it) fail instead."""
    from scripts.haproxy import haproxy_binary

    if haproxy_binary() is None:
        import pytest

        if os.environ.get("FELT_REQUIRE_BROWSER") == "1":
            pytest.fail("haproxy is missing (apt-get install haproxy); .ci/run installs it")
        pytest.skip("haproxy is not installed (apt-get install haproxy): the tests through it are skipped")


class Stack:
    """`haproxy=True`: haproxy in front (scripts/haproxy.py, following the registry) on one public port of
    the public host, as `scripts/run --haproxy` runs it: `origin` is then haproxy's, tokens grant its SockJS
    URL, and the tiers trust haproxy's address for the client's; `direct_origin` is the frontend itself."""

    def __init__(self, data_dir: Path, *, realtime: int = 2, gameservers: int = 2,
                 env: dict[str, str] | None = None, public: Host = HERE, private: Host = HERE,
                 database_url: str | None = None, haproxy: bool = False) -> None:
        self.data_dir = data_dir
        self.public, self.private = public, private
        self.database_url = database_url or dbs.database_url(data_dir)
        self.frontend_port = free_port(offsets=(0, METRICS_OFFSET))  # gunicorn's metrics: port + offset
        self.metrics_ports: dict[str, int] = {"frontend": self.frontend_port + METRICS_OFFSET}
        self.realtime_ports = [free_port() for _ in range(realtime)]
        self.gameserver_endpoints = {f"g{i + 1}": f"tcp://{private.address}:{free_port()}"
                                     for i in range(gameservers)}
        self.direct_origin = f"http://{public.address}:{self.frontend_port}"
        self.haproxy_port: int | None = None
        while haproxy and self.haproxy_port in (None, self.frontend_port, *self.realtime_ports):
            self.haproxy_port = free_port()
        self.origin = f"http://{public.address}:{self.haproxy_port}" if haproxy else self.direct_origin
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._engine: Engine | None = None
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "FELT_CONFIG": "",
            "FELT_DATA_DIR": str(data_dir),
            "FELT_DATABASE_URL": self.database_url,
            "FELT_SECRET": "integration-test-secret",
            "FELT_GAMESERVERS": json.dumps(self.gameserver_endpoints),
            "FELT_REALTIME_URLS": (f"{self.origin}/sockjs" if haproxy else
                                   ",".join(self.realtime_url(i) for i in range(realtime))),
            "FELT_ALLOWED_ORIGINS": self.origin,
            **({"FELT_REALTIME_PROXY_URL": f"{self.origin}/sockjs",
                "FELT_TRUSTED_PROXIES": ",".join(dict.fromkeys(["127.0.0.1", public.address]))}
               if haproxy else {}),
            "FELT_BOT_DELAY": "0.02",
            # the scripted players contribute to every fair deal at once; a raw client that does not is
            # dealt without its value after this
            "FELT_ENTROPY_WAIT": "0.3",
            "FELT_HEARTBEAT_INTERVAL": "0.3",
            "FELT_AUTH_TIMEOUT": "1.5",
            # tests register and log in many people from one address (tests/integration/test_attacks.py
            # runs its own stack with the real limits)
            "FELT_LOGIN_ADDRESS_LIMIT": "100000 per minute",
            "FELT_REGISTER_ADDRESS_LIMIT": "100000 per minute",
            # ... and open many sessions from it (test_attacks.py tries the per-address session limits)
            "FELT_MAX_UNAUTHENTICATED_PER_ADDRESS": "100000",
            "FELT_NEW_SESSIONS_PER_ADDRESS": "100000",
            "FELT_NEW_SESSIONS_BURST": "100000",
            **(env or {}),
        }

    def metrics_port(self, key: str) -> int:
        """The metrics port of process `key` ("frontend", "rt-0", "gs-g1", ...), the same after restarts."""
        if key not in self.metrics_ports:
            self.metrics_ports[key] = free_port()
        return self.metrics_ports[key]

    def metrics_url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.metrics_port(key)}/metrics"

    def add_realtime(self) -> int:
        """Start one more realtime process (it registers; haproxy, if in front, follows); its index."""
        self.realtime_ports.append(free_port())
        self.start_realtime(len(self.realtime_ports) - 1)
        return len(self.realtime_ports) - 1

    def realtime_url(self, i: int = 0) -> str:
        return f"http://{self.public.address}:{self.realtime_ports[i]}/sockjs"

    def data_of(self, host: Host) -> Path:
        return self.data_dir / host.data if host.data else self.data_dir

    def env_of(self, host: Host) -> dict[str, str]:
        """The environment of a process on `host`."""
        return {**self.env, "FELT_DATA_DIR": str(self.data_of(host))}

    @property
    def engine(self) -> Engine:
        """An engine on the stack's database, to read what the processes stored; `stop()` disposes it."""
        if self._engine is None:
            self._engine = self.db()
        return self._engine

    @property
    def frontend_url(self) -> str:
        return self.origin

    # ---- processes -----------------------------------------------------------------------------

    def start(self) -> Stack:
        # as scripts/run does (a no-op where tests.dbs made it migrated)
        subprocess.run([*self.public.prefix, sys.executable, "-m", "common.schema", "upgrade"], cwd=ROOT,
                       env=self.env_of(self.public), check=True, capture_output=True)
        if self.data_of(self.public) != self.data_of(self.private):
            self.provision_keys()
        for name in self.gameserver_endpoints:
            self.start_gameserver(name)
        for i in range(len(self.realtime_ports)):
            self.start_realtime(i)
        self.start_frontend()
        if self.haproxy_port is not None:
            self.start_haproxy()
        return self

    @property
    def haproxy_socket(self) -> Path:
        return self.data_of(self.public) / "haproxy.sock"

    def start_haproxy(self) -> None:
        """haproxy in front on the public host, as `scripts/run --haproxy` starts it; waits until it routes
        to every realtime process started so far and to the frontend."""
        self._truncate("haproxy")
        address = self.public.address
        self._spawn("haproxy", [sys.executable, "-m", "scripts.haproxy", "run",
                                "--bind", f"{address}:{self.haproxy_port}",
                                "--frontend", f"{address}:{self.frontend_port}", "--check-interval", "0.3",
                                "--admin-socket", str(self.haproxy_socket)], "READY haproxy", self.public)
        self.wait_haproxy(lambda servers: len([s for s in servers.values() if s.up])
                          >= len([k for k in self.procs if k.startswith("rt-")]))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.origin}/healthz", timeout=2) as resp:
                    resp.read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("haproxy did not forward /healthz to the frontend")

    def haproxy_servers(self) -> dict[str, Any]:
        """haproxy's realtime servers now, by name (scripts.haproxy.Current: id, host, port, state, up)."""
        from scripts.haproxy import Admin, servers_state

        return servers_state(Admin(str(self.haproxy_socket)).command("show servers state realtime"))

    def wait_haproxy(self, condition: Any, timeout: float = 20.0) -> dict[str, Any]:
        """Until `condition(haproxy_servers())` holds (at most `timeout` s); the servers then."""
        deadline = time.monotonic() + timeout
        while True:
            servers = self.haproxy_servers()
            if condition(servers):
                return servers
            if time.monotonic() > deadline:
                raise AssertionError(f"haproxy's realtime servers did not get there: {servers}\n"
                                     f"{self.log('haproxy')[-3000:]}")
            time.sleep(0.05)

    def provision_keys(self) -> None:
        """Each process's CurveZMQ keypair made on its own host; the public files alone copied to the
        hosts that need them (realtime keys to the game servers' allow-list, game-server keys to pin)."""
        public_keys, private_keys = self.data_of(self.public) / "keys", self.data_of(self.private) / "keys"
        for port in self.realtime_ports:
            _copy_public(curve.own_key(public_keys, "realtime", f"rt{port}"), private_keys)
        for name in self.gameserver_endpoints:
            _copy_public(curve.own_key(private_keys, "gameserver", name), public_keys)

    def _spawn(self, key: str, argv: list[str], ready: str, host: Host = HERE) -> None:
        log = open(self.data_dir / f"{key}.log", "ab")  # noqa: SIM115 - owned by the process entry
        proc = subprocess.Popen([*host.prefix, *argv], cwd=ROOT, env=self.env_of(host), stdout=log,
                                stderr=subprocess.STDOUT)
        log.close()
        self.procs[key] = proc
        self._wait_for(key, ready)

    def _wait_for(self, key: str, ready: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        path = self.data_dir / f"{key}.log"
        while time.monotonic() < deadline:
            if ready in path.read_text(errors="replace"):
                return
            if self.procs[key].poll() is not None:
                raise RuntimeError(f"{key} exited early:\n{path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"{key} not ready in {timeout}s:\n{path.read_text(errors='replace')[-3000:]}")

    def start_gameserver(self, name: str) -> None:
        """Start game server `name` (one more, live, if it is new: it registers and gets tables)."""
        if name not in self.gameserver_endpoints:
            self.gameserver_endpoints[name] = f"tcp://{self.private.address}:{free_port()}"
        self._truncate(f"gs-{name}")
        self._spawn(f"gs-{name}", [sys.executable, "-m", "gameserver", "--name", name, "--endpoint",
                                   self.gameserver_endpoints[name],
                                   "--metrics-port", str(self.metrics_port(f"gs-{name}"))],
                    f"READY gameserver {name}", self.private)

    def db(self) -> Any:
        """An engine on the stack's database (dispose it after use)."""
        return make_engine(self.database_url)

    def start_realtime(self, i: int) -> None:
        self._truncate(f"rt-{i}")
        self._spawn(f"rt-{i}", [sys.executable, "-m", "realtime", "--host", self.public.address,
                                "--port", str(self.realtime_ports[i]),
                                "--metrics-port", str(self.metrics_port(f"rt-{i}"))], "READY realtime",
                    self.public)

    def start_frontend(self) -> None:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self._spawn("frontend", [gunicorn, "-c", "python:frontend.gunicorn_conf", "--workers", "2",
                                 "--bind", f"{self.public.address}:{self.frontend_port}",
                                 "frontend.wsgi:app"],
                    "Booting worker", self.public)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.direct_origin}/healthz", timeout=2) as resp:
                    resp.read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("frontend did not answer /healthz")

    def _truncate(self, key: str) -> None:
        (self.data_dir / f"{key}.log").write_bytes(b"")

    def kill(self, key: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(key)
        proc.send_signal(sig)
        proc.wait(timeout=15)

    def log(self, key: str) -> str:
        return (self.data_dir / f"{key}.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.procs.clear()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _copy_public(key: curve.Key, keys_dir: Path) -> None:
    """Key `key`'s public file (never its secret) into the same place under another host's `keys_dir`."""
    into = keys_dir / key.kind / key.name
    into.mkdir(parents=True, exist_ok=True, mode=0o700)
    (into / key.path.name).write_bytes(key.path.read_bytes())


class _FromAddress(urllib.request.HTTPHandler):
    """Plain HTTP from a chosen local address (any of 127.0.0.0/8 on loopback): another "person's" address."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(http.client.HTTPConnection, source_address=(self.source, 0)),
                            req)


class WebUser:
    """A person at the frontend: a cookie jar, the real forms, and the token API. `source`: the loopback
    address they come from (127.0.0.1 unless given)."""

    def __init__(self, base: str, username: str, password: str = "correct horse battery",
                 source: str | None = None) -> None:
        self.base = base
        self.username = username
        self.password = password
        self.jar = http.cookiejar.CookieJar()
        handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPCookieProcessor(self.jar)]
        if source is not None:
            handlers.append(_FromAddress(source))
        self.opener = urllib.request.build_opener(*handlers)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read().decode()

    def post_form(self, path: str, fields: dict[str, str], form_page: str | None = None) -> tuple[int, str]:
        """POST the form at `path` (found on `form_page`, default `path` itself) with its CSRF token."""
        _, page = self.get(form_page or path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        data = dict(fields, csrf_token=match.group(1) if match else "")
        body = urllib.parse.urlencode(data).encode()
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read().decode()

    def register(self) -> WebUser:
        status, page = self.post_form("/register", {"username": self.username, "password": self.password,
                                                    "confirm": self.password})
        if status != 200:
            raise RuntimeError(f"register {self.username} failed ({status}): {page[:500]}")
        return self

    def login(self) -> WebUser:
        status, page = self.post_form("/login", {"username": self.username, "password": self.password})
        if status != 200:
            raise RuntimeError(f"login {self.username} failed ({status})")
        return self

    def token(self) -> dict[str, Any]:
        status, body = self.get("/api/token")
        if status != 200:
            raise RuntimeError(f"/api/token: {status} {body}")
        return dict(json.loads(body))
