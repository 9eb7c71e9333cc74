"""The admins' audit log, which is also the queue of their table commands (the `audit` table).

Every action an admin takes in the console is one row: when, which admin, the action, its target (a
server name or a table id; a kick also names the player), the reason given, and how it ended. A drain is
done by the frontend itself (`common.registry.Registry.set_state`), so its row is written finished.
Closing a table and kicking a player need the table's game server (the frontend has no link to it): the
row is written `pending`, and the game server that owns the table finds it at its heartbeat, claims it
with a conditional UPDATE (`pending` -> `running`: exactly one claimant, whichever servers look), carries
it out through the table's own entries, and marks it `done` or `failed` with what happened. A server that
cannot finish (the database refused the write, or the table moved away meanwhile) puts it back to
`pending` for the next owner; a claim left `running` by a server that died is taken up again after
`STALE_CLAIM` seconds (carrying a command out twice is harmless: a closed table is not closed again, and
a player no longer seated is not kicked again; the result then says so).

Only SQL here: no Flask, no ZeroMQ. The frontend (frontend/admin.py) writes and reads rows, game servers
(gameserver/admin_commands.py) claim and finish them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.engine import Engine

from common.models import AuditRecord, TableRecord

DRAIN, UNDRAIN, CLOSE_TABLE, KICK = "drain", "undrain", "close_table", "kick"
ACTIONS = (DRAIN, UNDRAIN, CLOSE_TABLE, KICK)
#: Carried out by the table's game server, through the queue.
TABLE_COMMANDS = (CLOSE_TABLE, KICK)
PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
#: A claim this old was made by a server that died before finishing it: it is taken up again.
STALE_CLAIM = 30.0
MAX_REASON = 200
MAX_RESULT = 300

_audit = cast(Table, AuditRecord.__table__)
_tables = cast(Table, TableRecord.__table__)


@dataclass(frozen=True)
class Command:
    """A table command waiting for a game server, with its table's row as the database has it now."""

    id: int
    action: str
    table: str
    user: int | None
    user_name: str
    reason: str
    status: str  # pending, or running (a stale claim)
    claimed_at: float | None
    owner: str | None  # None: there is no such table
    table_status: str | None


def record(engine: Engine, *, admin: int, admin_name: str, action: str, target: str, now: float,
           reason: str = "", status: str = PENDING, result: str = "", user: int | None = None,
           user_name: str = "") -> int:
    """Write one admin action; returns its id."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    row = {"ts": now, "admin": admin, "admin_name": admin_name, "action": action, "target": target,
           "user": user, "user_name": user_name, "reason": reason[:MAX_REASON], "status": status,
           "result": result[:MAX_RESULT], "claimed_by": "", "done_at": None if status == PENDING else now}
    with engine.begin() as conn:
        key = conn.execute(insert(_audit).values(**row)).inserted_primary_key
    assert key is not None
    return int(key[0])


def waiting(engine: Engine, now: float) -> list[Command]:
    """Table commands nobody is carrying out: pending ones, and claims gone stale."""
    query = (select(_audit.c.id, _audit.c.action, _audit.c.target, _audit.c.user, _audit.c.user_name,
                    _audit.c.reason, _audit.c.status, _audit.c.claimed_at, _tables.c.owner,
                    _tables.c.status.label("table_status"))
             .select_from(_audit.outerjoin(_tables, _tables.c.id == _audit.c.target))
             .where(_audit.c.action.in_(TABLE_COMMANDS),
                    or_(_audit.c.status == PENDING,
                        (_audit.c.status == RUNNING) & (_audit.c.claimed_at < now - STALE_CLAIM)))
             .order_by(_audit.c.id))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [Command(id=r.id, action=r.action, table=r.target, user=r.user, user_name=r.user_name,
                    reason=r.reason, status=r.status, claimed_at=r.claimed_at, owner=r.owner,
                    table_status=r.table_status) for r in rows]


def claim(engine: Engine, command: Command, by: str, now: float) -> bool:
    """Take `command` for server `by`; False if another server took it first (it is theirs)."""
    at = _audit.c.claimed_at
    seen = (_audit.c.status == command.status) & (
        at.is_(None) if command.claimed_at is None else at == command.claimed_at)
    with engine.begin() as conn:
        done = conn.execute(update(_audit).where(_audit.c.id == command.id, seen)
                            .values(status=RUNNING, claimed_by=by, claimed_at=now))
    return done.rowcount == 1


def finish(engine: Engine, command_id: int, by: str, ok: bool, result: str, now: float) -> None:
    """A claimed command carried out (`ok`) or refused, with what happened."""
    with engine.begin() as conn:
        conn.execute(update(_audit).where(_audit.c.id == command_id, _audit.c.claimed_by == by,
                                          _audit.c.status == RUNNING)
                     .values(status=DONE if ok else FAILED, result=result[:MAX_RESULT], done_at=now))


def release(engine: Engine, command_id: int, by: str) -> None:
    """Give a claimed command back (not carried out): the table's owner, maybe another, takes it next."""
    with engine.begin() as conn:
        conn.execute(update(_audit).where(_audit.c.id == command_id, _audit.c.claimed_by == by,
                                          _audit.c.status == RUNNING)
                     .values(status=PENDING, claimed_by="", claimed_at=None))


def recent(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    """The latest `limit` actions, newest first, as the console shows them."""
    with engine.connect() as conn:
        rows = conn.execute(select(_audit).order_by(_audit.c.id.desc()).limit(limit)).all()
    return [{"id": r.id, "ts": r.ts, "admin": r.admin_name, "action": r.action, "target": r.target,
             "user": r.user, "user_name": r.user_name, "reason": r.reason, "status": r.status,
             "result": r.result, "by": r.claimed_by, "done_at": r.done_at} for r in rows]
