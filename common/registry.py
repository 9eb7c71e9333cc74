"""The live registry of Felt's processes, in the shared database (the same engine as everything else).

Every game server and realtime process registers when it starts (kind, name, endpoint, public key, boot
id, version, capacity) and renews a lease with each heartbeat, reporting its load. A row whose lease ran
out reads as `gone`; an admin drains a process by setting its row to `draining` (it sees that at its next
renewal). Realtime processes follow the game-server rows to open and close their links; the frontend hands
out the live, non-draining realtime rows, least loaded first; `scripts/ctl status` prints it all.

A name belongs to one process at a time: registering replaces whatever row had the name, and a renewal
names its boot id, so an older incarnation (a process paused past its lease while a new one started)
learns it was replaced (`Replaced`) instead of renewing over it.

Leases are wall-clock times (`time.time()`): processes on several hosts need synchronised clocks (NTP);
the lease (5 s by default) is long against clock error and a renewal is due every heartbeat (1 s).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from common.models import ServerRecord

KINDS = ("gameserver", "realtime")
LIVE, DRAINING, GONE = "live", "draining", "gone"
STATES = (LIVE, DRAINING, GONE)

_servers = cast(Table, ServerRecord.__table__)


class Replaced(Exception):
    """Another process registered under this name since: this one must stop serving as it."""


@dataclass(frozen=True)
class Server:
    """One row of the registry as read at `now`."""

    kind: str
    name: str
    endpoint: str
    public_key: str  # Z85 text, "" without CurveZMQ
    boot: str
    version: str
    capacity: int
    load: int
    stored_state: str
    started: float
    renewed: float
    lease_until: float
    rate: float = 0.0  # game servers: log entries per second over their last heartbeat

    def state(self, now: float) -> str:
        """`gone` once the lease ran out, whatever the row says."""
        return GONE if self.lease_until < now else self.stored_state

    def serving(self, now: float) -> bool:
        """Live and not draining: it takes new work (tables, clients)."""
        return self.state(now) == LIVE


def version() -> str:
    """This checkout's version: the git commit it runs (short), or "unknown" outside a git checkout."""
    git = Path(__file__).resolve().parent.parent / ".git"
    try:
        common = git
        if git.is_file():  # a linked worktree: ".git" names its own git dir, which names the shared one
            git = (git.parent / git.read_text().strip().removeprefix("gitdir: ")).resolve()
            common = (git / (git / "commondir").read_text().strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = head.removeprefix("ref: ")
            loose = common / ref
            if loose.exists():
                return loose.read_text().strip()[:10]
            for line in (common / "packed-refs").read_text().splitlines():
                if line.endswith(" " + ref):
                    return line[:10]
            return "unknown"
        return head[:10]
    except OSError:
        return "unknown"


class Registry:
    def __init__(self, engine: Engine, *, lease: float = 5.0, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.lease = lease
        self.clock = clock

    def register(self, kind: str, name: str, endpoint: str, *, boot: str, public_key: str = "",
                 capacity: int = 0, load: int = 0, ver: str | None = None) -> None:
        """Claim `name` for this process (boot id `boot`), live, with a fresh lease."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        now = self.clock()
        row = {"kind": kind, "endpoint": endpoint, "public_key": public_key, "boot": boot,
               "version": ver if ver is not None else version(), "capacity": capacity, "load": load,
               "state": LIVE, "started": now, "renewed": now, "lease_until": now + self.lease}
        for _ in range(3):
            with self.engine.begin() as conn:
                if conn.execute(update(_servers).where(_servers.c.name == name).values(**row)).rowcount:
                    return
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(_servers).values(name=name, **row))
                return
            except IntegrityError:
                continue  # registered by another process at the same moment: update that row
        raise RuntimeError(f"could not register {name} in the registry")

    def renew(self, name: str, boot: str, load: int, rate: float | None = None) -> str:
        """Extend this process's lease and report its load (and a game server's move `rate`); its stored
        state (`live` or `draining`). Raises `Replaced` when the name now belongs to another boot (or was
        removed)."""
        now = self.clock()
        values: dict[str, float] = {"renewed": now, "lease_until": now + self.lease, "load": load}
        if rate is not None:
            values["rate"] = rate
        with self.engine.begin() as conn:
            done = conn.execute(update(_servers).where(_servers.c.name == name, _servers.c.boot == boot)
                                .values(**values))
            if done.rowcount != 1:
                raise Replaced(f"{name} was registered again by another process")
            state = conn.execute(select(_servers.c.state).where(_servers.c.name == name)).scalar()
        return str(state)

    def leave(self, name: str, boot: str) -> None:
        """A clean exit: the row reads `gone` at once (kept, for `status`, until the name registers again)."""
        with self.engine.begin() as conn:
            conn.execute(update(_servers).where(_servers.c.name == name, _servers.c.boot == boot)
                         .values(state=GONE, lease_until=0.0))

    def set_state(self, name: str, state: str) -> bool:
        """An admin's change (`draining`, or `live` to undo a drain); False if there is no such server."""
        if state not in (LIVE, DRAINING):
            raise ValueError("state must be live or draining")
        with self.engine.begin() as conn:
            return bool(conn.execute(update(_servers).where(_servers.c.name == name)
                                     .values(state=state)).rowcount)

    def servers(self, kind: str | None = None) -> list[Server]:
        """Every row (of `kind`), by name."""
        query = select(_servers).order_by(_servers.c.name)
        if kind is not None:
            query = query.where(_servers.c.kind == kind)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [Server(kind=r.kind, name=r.name, endpoint=r.endpoint, public_key=r.public_key or "",
                       boot=r.boot, version=r.version, capacity=r.capacity, load=r.load, stored_state=r.state,
                       started=r.started, renewed=r.renewed, lease_until=r.lease_until, rate=r.rate or 0.0)
                for r in rows]

    def serving(self, kind: str) -> list[Server]:
        """The live, non-draining servers of `kind`, least loaded first."""
        now = self.clock()
        return sorted((s for s in self.servers(kind) if s.serving(now)), key=lambda s: (s.load, s.name))


# ---- the admin's view: `python -m common.registry status | drain NAME | undrain NAME` ------------------


def status_lines(servers: list[Server], now: float) -> list[str]:
    """The registry as a table: every server with kind, state, load, lease age and version."""
    rows = [("NAME", "KIND", "STATE", "LOAD", "CAPACITY", "RENEWED", "VERSION", "ENDPOINT")]
    for s in sorted(servers, key=lambda s: (s.kind, s.name)):
        age = now - s.renewed
        rows.append((s.name, s.kind, s.state(now), str(s.load), str(s.capacity) if s.capacity else "-",
                     f"{age:.1f}s ago" if age < 3600 else f"{age / 3600:.0f}h ago", s.version, s.endpoint))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def main(argv: list[str] | None = None) -> int:
    import argparse

    from common.config import load
    from common.db import make_engine

    ap = argparse.ArgumentParser(prog="scripts/ctl", description="Felt's live registry of processes.")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="every registered server: kind, state, load, lease age, version")
    for command, text in (("drain", "hand its work to the others, then exit"),
                          ("undrain", "take new work again (before it has exited)")):
        sub.add_parser(command, help=text).add_argument("name")
    args = ap.parse_args(argv)
    settings = load()
    engine = make_engine(settings.db_url())
    registry = Registry(engine, lease=settings.lease_seconds)
    try:
        if args.command == "status":
            servers = registry.servers()
            if not servers:
                print("no server has registered yet (is the stack running? scripts/run)")
            print("\n".join(status_lines(servers, registry.clock())) if servers else "")
            return 0
        known = {s.name: s for s in registry.servers()}
        server = known.get(args.name)
        if server is None:
            print(f"no server {args.name!r} in the registry; known: {', '.join(sorted(known)) or 'none'}")
            return 2
        if server.state(registry.clock()) == GONE:
            print(f"{args.name} is gone already")
            return 2
        registry.set_state(args.name, DRAINING if args.command == "drain" else LIVE)
        what = ("hands its tables to the other game servers, then exits" if server.kind == "gameserver"
                else "sends its clients to the other realtime servers, then exits")
        print(f"{args.name}: {'draining — it ' + what if args.command == 'drain' else 'live again'}"
              " (scripts/ctl status shows progress)")
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
