"""`scripts/ctl add gameserver|realtime` and `scripts/ctl deploy`: change the topology while people play.

**add** picks the next free name and port (g3 on 5603, rt8103 on 8103, ...: past every name the registry
and the configuration know, skipping ports in use), on the address this host's processes of that tier
listen on (a game server where the configured ones bind, a realtime server on `realtime_host`), writes
one supervisord program file into `<data_dir>/supervisor.d/` (which supervisord.conf includes), and has
supervisord `reread` and `update`, which starts the new program and touches no other. Then it waits
until the process is live in the registry: a game server gets new tables from then on, a realtime server
new clients. The file stays, so the process comes back with the next `scripts/run`; delete it (after
`scripts/ctl drain NAME`) to remove the process for good.

**deploy** restarts every process supervisord runs here on the code now checked out, one at a time, with
no hand ended: each game server is drained (its tables move to the others at a move boundary), started
again and waited for until it is live at the new version; then each realtime server the same way (its
clients move to the others and resume). A tier with a single process cannot hand over: that process is
restarted in place (its tables recover from the log; its players resume after a short pause), with a
warning.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from common.config import ROOT, load
from common.db import make_engine
from common.registry import DRAINING, LIVE, Registry

PROGRAM = """; added by scripts/ctl add {kind} ({when}); delete it to keep it from coming back
[program:{kind}-{name}]
command={python} -m {module}
directory={root}
autorestart=unexpected
exitcodes=0
startsecs=1
stopwaitsecs=15
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile={log}
"""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def gameserver_host(endpoints: dict[str, str]) -> str:
    """The address the configured game servers (`gameservers`) bind to, where a new one binds too: on a
    private host that is its internal address, which realtime processes on other hosts can reach
    (loopback if none is a TCP endpoint)."""
    for endpoint in endpoints.values():
        parts = urlsplit(endpoint)
        if parts.scheme == "tcp" and parts.hostname:
            return parts.hostname
    return "127.0.0.1"


def known_names(registry: Registry, confd: Path, configured: list[str]) -> set[str]:
    names = {s.name for s in registry.servers()} | set(configured)
    for conf in confd.glob("*.conf"):
        names |= set(re.findall(r"^\[program:\w+-(\w+)\]", conf.read_text(), re.M))
    return names


def next_number(names: set[str], prefix: str, start: int) -> int:
    numbers = [int(n[len(prefix):]) for n in names if re.fullmatch(rf"{prefix}\d+", n)]
    return max([start - 1, *numbers]) + 1


def supervisorctl(*args: str) -> subprocess.CompletedProcess[str]:
    ctl = [str(Path(sys.executable).parent / "supervisorctl"), "-c", str(ROOT / "supervisord.conf")]
    return subprocess.run([*ctl, *args], capture_output=True, text=True, timeout=120)


def add(kind: str, timeout: float) -> int:
    settings = load()
    confd = Path(settings.data_dir) / "supervisor.d"
    confd.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url())
    registry = Registry(engine, lease=settings.lease_seconds)
    try:
        names = known_names(registry, confd, list(settings.gameservers))
        if kind == "gameserver":
            host = gameserver_host(settings.gameservers)
            n = next_number(names, "g", 1)
            while not port_free(5600 + n, host):
                n += 1
            name, port = f"g{n}", 5600 + n
            address = f"[{host}]" if ":" in host else host
            module = f"gameserver --name {name} --endpoint tcp://{address}:{port}"
        else:
            port = next_number(names, "rt", settings.realtime_port)
            while not port_free(port, settings.realtime_host):
                port += 1
            name, module = f"rt{port}", f"realtime --port {port}"
        conf = confd / f"{kind}-{name}.conf"
        conf.write_text(PROGRAM.format(
            kind=kind, name=name, when=time.strftime("%Y-%m-%d %H:%M"), python=sys.executable,
            module=module, root=ROOT, log=Path(settings.data_dir) / "log" / f"{kind}-{name}.log"))
        for step in ("reread", "update"):
            done = supervisorctl(step)
            if done.returncode != 0:
                print(f"felt: supervisorctl {step} failed (is the stack running? scripts/run):\n"
                      f"{done.stdout}{done.stderr}", file=sys.stderr)
                conf.unlink()
                return 1
        print(f"started {kind} {name} (port {port}); waiting for it to be live in the registry …")
        if wait_live(registry, name, timeout):
            print(f"{name} is live")
            return 0
        print(f"felt: {name} did not become live within {timeout:g} s; see its log", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def wait_live(registry: Registry, name: str, timeout: float, boot_not: str | None = None) -> bool:
    """Until `name` is live in the registry (with a boot id other than `boot_not`), at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = next((s for s in registry.servers() if s.name == name), None)
        if row is not None and row.state(registry.clock()) == LIVE and row.boot != boot_not:
            return True
        time.sleep(0.3)
    return False


def programs() -> dict[str, str]:
    """Felt's processes supervisord runs here: registry name -> supervisor program name."""
    out: dict[str, str] = {}
    for line in supervisorctl("status").stdout.splitlines():
        program = line.split()[0] if line.split() else ""
        name = re.split(r"[:-]", program)[-1]
        if program.startswith(("gameserver", "realtime")):
            out[name] = program
    return out


def deploy(timeout: float) -> int:
    settings = load()
    engine = make_engine(settings.db_url())
    registry = Registry(engine, lease=settings.lease_seconds)
    try:
        here = programs()
        if not here:
            print("felt: supervisord runs no Felt process here (is the stack running? scripts/run)",
                  file=sys.stderr)
            return 1
        rows = {s.name: s for s in registry.servers()}
        for kind in ("gameserver", "realtime"):
            mine = sorted(n for n in here if n in rows and rows[n].kind == kind)
            live = [n for n in mine if rows[n].state(registry.clock()) == LIVE]
            for name in mine:
                old = rows[name]
                program = here[name]
                if len(live) > 1:
                    print(f"{name}: draining …", flush=True)
                    registry.set_state(name, DRAINING)
                    deadline = time.monotonic() + timeout
                    while "RUNNING" in supervisorctl("status", program).stdout:
                        if time.monotonic() > deadline:
                            print(f"felt: {name} did not finish draining in {timeout:g} s", file=sys.stderr)
                            return 1
                        time.sleep(0.3)
                    started = supervisorctl("start", program)
                else:
                    print(f"{name}: the only live {kind}; restarting it in place (its players resume after a "
                          "short pause)", flush=True)
                    started = supervisorctl("restart", program)
                if started.returncode != 0 or not wait_live(registry, name, timeout, boot_not=old.boot):
                    print(f"felt: {name} did not come back live: {started.stdout}{started.stderr}",
                          file=sys.stderr)
                    return 1
                now = next(s for s in registry.servers() if s.name == name)
                print(f"{name}: live again at {now.version} (was {old.version})", flush=True)
        print("deployed: every process runs the code checked out now")
        return 0
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/ctl", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    adding = sub.add_parser("add", help="one more game server or realtime process, started live")
    adding.add_argument("kind", choices=("gameserver", "realtime"))
    adding.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for it to be live")
    deploying = sub.add_parser("deploy", help="drain and restart every process here, one at a time")
    deploying.add_argument("--timeout", type=float, default=120.0, help="seconds allowed for each process")
    args = ap.parse_args(argv)
    if args.command == "add":
        return add(args.kind, args.timeout)
    return deploy(args.timeout)


if __name__ == "__main__":
    sys.exit(main())
