"""`python -m scripts.haproxy run|render`: haproxy in front of Felt, following the registry.

**run** writes haproxy.cfg (scripts/haproxy_config.py) with the realtime servers the registry has now, starts
haproxy on it (a child process: `haproxy -db`), and then, every `heartbeat_interval`, makes haproxy's
realtime backend match the registry through haproxy's admin socket (the runtime API): a realtime process
that registers is added, one set `draining` is put in drain state (no new sessions; its own go on until
it has moved them), one `gone` is taken out and deleted, one back to `live` is made ready. Nothing is
edited by hand and haproxy is never reloaded, so no connection is dropped by a change. If haproxy exits,
so does this process (supervisord starts both again, with a fresh configuration); SIGTERM stops both.

**status** prints haproxy's realtime servers as it routes now (state, health), for `scripts/ctl status`.

**render** prints the configuration for explicit addresses (`--realtime NAME=HOST:PORT`, repeatable), or
for the registry's realtime servers without them: for a haproxy run by other means (another host's init
system), or to read.

run and render take `--bind HOST:PORT` (the one public port; default `frontend_host:frontend_port`) and
`--frontend HOST:PORT` (repeatable: the frontend processes behind it). haproxy's state is this process's
to set: a server put in maintenance by hand through the admin socket is made ready again at the next round
while the registry says it is live (drain it with `scripts/ctl drain NAME` instead).
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError

from common.config import Settings, load
from common.db import make_engine
from common.registry import DRAINING, GONE, Registry
from scripts.haproxy_config import DRAIN, READY, Backend, render, server_id, server_options

log = logging.getLogger("felt.haproxy")

#: haproxy's admin-state bits (`show servers state`): forced maintenance, forced drain
_FMAINT, _FDRAIN = 0x01, 0x08


def haproxy_binary() -> str | None:
    """The haproxy executable (Debian: /usr/sbin/haproxy), or None if it is not installed."""
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.access(p, os.X_OK)), None)


def host_port(text: str) -> tuple[str, int]:
    """'127.0.0.1:8000' or '[::1]:8000' -> (host, port); ValueError if it is neither."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def _numeric(host: str) -> str:
    """`host` as an IP address (haproxy reports addresses as numbers)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return str(socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][4][0])


# ---- the runtime API -----------------------------------------------------------------------------


class Admin:
    """haproxy's admin socket: one command per connection (the CLI's non-interactive mode)."""

    def __init__(self, path: str, timeout: float = 5.0) -> None:
        self.path = path
        self.timeout = timeout

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(self.timeout)
            s.connect(self.path)
            s.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")

    def answers(self) -> bool:
        try:
            self.command("show info")
        except OSError:
            return False
        return True


@dataclass(frozen=True)
class Current:
    """A server as haproxy has it now (`show servers state`)."""

    name: str
    id: int
    host: str
    port: int
    admin: int  # admin-state bits
    up: bool  # its health checks pass (operational state "running")

    @property
    def state(self) -> str:
        return DRAIN if self.admin & _FDRAIN and not self.admin & _FMAINT else (
            "maint" if self.admin & _FMAINT else READY)


def servers_state(text: str) -> dict[str, Current]:
    """Parse `show servers state <backend>` (a version line, a `#` header, one line per server)."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = next((line.lstrip("# ").split() for line in lines if line.startswith("#")), [])
    out: dict[str, Current] = {}
    for line in lines:
        fields = line.split()
        if line.startswith("#") or len(fields) != len(header):
            continue
        row = dict(zip(header, fields, strict=True))
        out[row["srv_name"]] = Current(name=row["srv_name"], id=int(row["srv_id"]), host=row["srv_addr"],
                                       port=int(row["srv_port"]), admin=int(row["srv_admin_state"]),
                                       up=row["srv_op_state"] == "2")
    return out


def plan(current: dict[str, Current], desired: list[Backend], *, backend: str = "realtime",
         check_interval: float = 1.0) -> list[str]:
    """The admin commands that make `current` match `desired` (empty when they match)."""
    commands: list[str] = []
    used = {c.id for c in current.values()}
    wanted = {b.name: b for b in desired}
    for b in desired:
        server = f"{backend}/{b.name}"
        have = current.get(b.name)
        if have is None:
            sid = server_id(b.name)
            while sid in used:
                sid += 1
            used.add(sid)
            commands += [f"add server {server} {b.address} id {sid} {server_options(check_interval)}",
                         f"enable health {server}", f"set server {server} state {b.state}"]
            continue
        if (have.host, have.port) != (b.host, b.port):  # a new process under the name, elsewhere
            commands += [f"set server {server} state maint",
                         f"set server {server} addr {b.host} port {b.port}"]
            have = Current(have.name, have.id, b.host, b.port, _FMAINT, have.up)
        if have.state != b.state:
            commands.append(f"set server {server} state {b.state}")
    for name, have in sorted(current.items()):
        if name not in wanted:
            server = f"{backend}/{name}"
            if have.state != "maint":
                commands.append(f"set server {server} state maint")
            commands += [f"shutdown sessions server {server}", f"del server {server}"]
    return commands


# ---- the registry's view -------------------------------------------------------------------------


def realtime_backends(registry: Registry, *, public: tuple[str, int] | None = None) -> list[Backend]:
    """The registry's realtime processes haproxy should forward to: live ones ready, draining ones in
    drain; gone ones not at all. Each is reached at its registered URL's host and port."""
    now = registry.clock()
    out: list[Backend] = []
    for s in registry.servers("realtime"):
        state = s.state(now)
        if state == GONE:
            continue
        url = urlsplit(s.endpoint)
        if url.hostname is None or url.port is None:
            log.warning("%s registered %r: no host and port to forward to; left out", s.name, s.endpoint)
            continue
        try:
            host = _numeric(url.hostname)
        except OSError as exc:
            log.warning("%s: cannot resolve %s (%s); left out", s.name, url.hostname, exc)
            continue
        if public is not None and (url.port == public[1] and host in (_numeric(public[0]), "0.0.0.0")):
            log.warning("%s registered this proxy's own address (%s) as its own: set realtime_proxy_url, "
                        "not realtime_public_url, to the proxy's URL; left out", s.name, s.endpoint)
            continue
        out.append(Backend(s.name, host, url.port, DRAIN if state == DRAINING else READY))
    return out


# ---- running it ----------------------------------------------------------------------------------


class Follower:
    """Keeps haproxy's realtime backend equal to the registry's, one `sync` at a time."""

    def __init__(self, registry: Registry, admin: Admin, public: tuple[str, int],
                 check_interval: float) -> None:
        self.registry = registry
        self.admin = admin
        self.public = public
        self.check_interval = check_interval

    def sync(self) -> list[str]:
        """One round: read both, apply the difference; the commands sent (logged)."""
        desired = realtime_backends(self.registry, public=self.public)
        current = servers_state(self.admin.command("show servers state realtime"))
        commands = plan(current, desired, check_interval=self.check_interval)
        for command in commands:
            answer = self.admin.command(command).strip()
            log.info("%s%s", command, f": {answer}" if answer else "")
        return commands


def run(args: argparse.Namespace) -> int:
    settings = load()
    binary = haproxy_binary()
    if binary is None:
        print("felt: haproxy is not installed (Debian: apt-get install haproxy)", file=sys.stderr)
        return 2
    data = Path(settings.data_dir)
    config = Path(args.config or data / "haproxy.cfg")
    admin_path = args.admin_socket or str(data / "haproxy.sock")
    public = host_port(args.bind or f"{settings.frontend_host}:{settings.frontend_port}")
    engine = make_engine(settings.db_url())
    registry = Registry(engine, lease=settings.lease_seconds)
    try:
        realtime = realtime_backends(registry, public=public)
    except SQLAlchemyError as exc:
        log.warning("cannot read the registry (%s); starting with no realtime server",
                    str(exc).splitlines()[0])
        realtime = []
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(render(bind=_bind(public), frontends=frontend_backends(args.frontend, settings),
                             realtime=realtime, admin_socket=admin_path, check_interval=args.check_interval,
                             bind_options=args.bind_options))
    Path(admin_path).unlink(missing_ok=True)
    proxy = subprocess.Popen([binary, "-db", "-f", str(config)], preexec_fn=_die_with_parent)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    admin = Admin(admin_path)
    follower = Follower(registry, admin, public, args.check_interval)
    try:
        deadline = time.monotonic() + 20
        while not admin.answers():
            if proxy.poll() is not None or time.monotonic() > deadline or stop.is_set():
                print(f"felt: haproxy did not start (exit {proxy.poll()}); see above", file=sys.stderr)
                return 1
            time.sleep(0.05)
        _sync(follower)
        print(f"READY haproxy http://{_bind(public)} ({len(realtime)} realtime server(s); config {config})",
              flush=True)
        while not stop.wait(settings.heartbeat_interval):
            if proxy.poll() is not None:
                print(f"felt: haproxy exited ({proxy.returncode})", file=sys.stderr, flush=True)
                return 1
            _sync(follower)
        return 0
    finally:
        if proxy.poll() is None:
            proxy.terminate()
            try:
                proxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proxy.kill()
                proxy.wait()
        Path(admin_path).unlink(missing_ok=True)  # so nobody takes a stale socket for a running haproxy
        engine.dispose()


def _sync(follower: Follower) -> None:
    try:
        follower.sync()
    except (SQLAlchemyError, OSError) as exc:
        log.warning("could not follow the registry this round: %s", str(exc).splitlines()[0])


def _die_with_parent() -> None:
    """In haproxy's process before it starts: SIGTERM when this process dies, however it dies (Linux), so
    no orphaned haproxy keeps the public port from the next start."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _bind(public: tuple[str, int]) -> str:
    host, port = public
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def frontend_backends(entries: list[str] | None, settings: Settings) -> list[Backend]:
    addresses = entries or [f"{settings.frontend_host}:{settings.frontend_port}"]
    return [Backend(f"web{i}", *host_port(a)) for i, a in enumerate(addresses, start=1)]


def render_command(args: argparse.Namespace) -> int:
    settings = load()
    public = host_port(args.bind or f"{settings.frontend_host}:{settings.frontend_port}")
    if args.realtime:
        realtime = []
        for entry in args.realtime:
            name, sep, address = entry.partition("=")
            if not sep:
                raise SystemExit(f"--realtime: expected NAME=HOST:PORT, got {entry!r}")
            realtime.append(Backend(name, *host_port(address)))
    else:
        engine = make_engine(settings.db_url())
        try:
            realtime = realtime_backends(Registry(engine, lease=settings.lease_seconds), public=public)
        finally:
            engine.dispose()
    print(render(bind=_bind(public), frontends=frontend_backends(args.frontend, settings), realtime=realtime,
                 admin_socket=args.admin_socket or str(Path(settings.data_dir) / "haproxy.sock"),
                 check_interval=args.check_interval, bind_options=args.bind_options), end="")
    return 0


def status_command(args: argparse.Namespace) -> int:
    """haproxy's realtime servers as it routes to them now (for `scripts/ctl status`)."""
    settings = load()
    admin = Admin(args.admin_socket or str(Path(settings.data_dir) / "haproxy.sock"))
    try:
        servers = servers_state(admin.command("show servers state realtime"))
    except OSError as exc:
        print(f"haproxy: no answer on {admin.path} ({exc})")
        return 1
    rows = [("HAPROXY", "STATE", "HEALTH", "ADDRESS")] + [
        (s.name, s.state, "up" if s.up else "down", f"{s.host}:{s.port}") for s in servers.values()]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.haproxy", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    for name, text in (("run", "start haproxy and keep it to the registry"),
                       ("render", "print the configuration")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--bind", help="the public HOST:PORT (default: frontend_host:frontend_port)")
        cmd.add_argument("--frontend", action="append", metavar="HOST:PORT", help="a frontend process "
                         "behind it (repeatable; default: frontend_host:frontend_port)")
        cmd.add_argument("--admin-socket", help="haproxy's admin socket (default: <data_dir>/haproxy.sock)")
        cmd.add_argument("--check-interval", type=float, default=1.0, help="seconds between health checks")
        cmd.add_argument("--bind-options", default="", help='the rest of the bind line, e.g. "ssl crt '
                         '/etc/haproxy/felt.pem" (TLS)')
    sub.add_parser("status", help="haproxy's realtime servers now").add_argument(
        "--admin-socket", help="haproxy's admin socket (default: <data_dir>/haproxy.sock)")
    sub.choices["run"].add_argument("--config", help="where to write haproxy.cfg (default: "
                                    "<data_dir>/haproxy.cfg)")
    sub.choices["render"].add_argument("--realtime", action="append", metavar="NAME=HOST:PORT",
                                       help="a realtime process (repeatable; default: the registry's)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    commands = {"run": run, "render": render_command, "status": status_command}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
