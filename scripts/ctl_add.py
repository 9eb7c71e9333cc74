"""`scripts/ctl add gameserver|realtime`: one more process under the running supervisord, nothing restarted.

It picks the next free name and port (g3 on 5603, rt8103 on 8103, ...: past every name the registry and
the configuration know, skipping ports in use), writes one supervisord program file into
`<data_dir>/supervisor.d/` (which supervisord.conf includes), and has supervisord `reread` and `update`,
which starts the new program and touches no other. Then it waits until the process is live in the
registry: a game server gets new tables from then on, a realtime server new clients. The file stays, so
the process comes back with the next `scripts/run`; delete it (after `scripts/ctl drain NAME`) to remove
the process for good.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from common.config import ROOT, load
from common.models import make_engine
from common.registry import LIVE, Registry

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


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def known_names(registry: Registry, confd: Path, configured: list[str]) -> set[str]:
    names = {s.name for s in registry.servers()} | set(configured)
    for conf in confd.glob("*.conf"):
        names |= set(re.findall(r"^\[program:\w+-(\w+)\]", conf.read_text(), re.M))
    return names


def next_number(names: set[str], prefix: str, start: int) -> int:
    numbers = [int(n[len(prefix):]) for n in names if re.fullmatch(rf"{prefix}\d+", n)]
    return max([start - 1, *numbers]) + 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/ctl add", description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=("gameserver", "realtime"))
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for it to be live")
    args = ap.parse_args(argv)
    settings = load()
    confd = Path(settings.data_dir) / "supervisor.d"
    confd.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url())
    registry = Registry(engine, lease=settings.lease_seconds)
    try:
        names = known_names(registry, confd, list(settings.gameservers))
        if args.kind == "gameserver":
            n = next_number(names, "g", 1)
            while not port_free(5600 + n):
                n += 1
            name, port = f"g{n}", 5600 + n
            module = f"gameserver --name {name} --endpoint tcp://127.0.0.1:{port}"
        else:
            port = next_number(names, "rt", settings.realtime_port)
            while not port_free(port):
                port += 1
            name, module = f"rt{port}", f"realtime --port {port}"
        conf = confd / f"{args.kind}-{name}.conf"
        conf.write_text(PROGRAM.format(
            kind=args.kind, name=name, when=time.strftime("%Y-%m-%d %H:%M"), python=sys.executable,
            module=module, root=ROOT, log=Path(settings.data_dir) / "log" / f"{args.kind}-{name}.log"))
        ctl = [str(Path(sys.executable).parent / "supervisorctl"), "-c", str(ROOT / "supervisord.conf")]
        for step in ("reread", "update"):
            done = subprocess.run([*ctl, step], capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                print(f"felt: supervisorctl {step} failed (is the stack running? scripts/run):\n"
                      f"{done.stdout}{done.stderr}", file=sys.stderr)
                conf.unlink()
                return 1
        print(f"started {args.kind} {name} (port {port}); waiting for it to be live in the registry …")
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            row = next((s for s in registry.servers(args.kind) if s.name == name), None)
            if row is not None and row.state(registry.clock()) == LIVE:
                print(f"{name} is live at {row.endpoint}")
                return 0
            time.sleep(0.3)
        print(f"felt: {name} did not become live within {args.timeout:g} s; see its log", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
