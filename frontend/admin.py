"""The admin console: live servers, open tables and counters, and the actions an admin may take.

Owns `/admin` (the page; its script polls `GET /admin/state` every few seconds) and the actions, each a
JSON `POST` with the page's CSRF token in the `X-CSRFToken` header: `/admin/drain` (a server hands its
work to the others and exits, as `scripts/ctl drain`; `/admin/undrain` takes that back), `/admin/close`
(a table closes, every seated player's chips back to their balance) and `/admin/kick` (a player stands
up, chips back). Every action is written to the audit log (`common.audit`) with its result; close and
kick wait there for the table's game server, which carries them out at its next heartbeat, so the page
shows them pending, then done.

Only accounts with the admin flag (`python -m frontend.cli set-admin NAME`) get anything here: everyone
else, logged in or not, gets the site's plain 404, the same as for an address that does not exist, and
the CSRF check comes after that (so a missing token tells a stranger nothing either).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Table, func, select

from common import audit
from common.config import Settings
from common.models import TableRecord, User
from common.protocol import text_problem
from common.registry import DRAINING, GONE, LIVE, Registry
from frontend import db
from frontend.auth import current_user
from frontend.responses import json_response as _json

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: How often the page asks for fresh figures (milliseconds; the page reads it from its markup).
POLL_MS = 2000
#: Open tables listed at most (newest first); the counter gives the whole number.
TABLES_SHOWN = 200
LIVE_TABLES = ("waiting", "playing")

_tables = cast(Table, TableRecord.__table__)
F = TypeVar("F", bound=Callable[..., Any])


class Refusal(Exception):
    def __init__(self, text: str, status: int = 400) -> None:
        super().__init__(text)
        self.text, self.status = text, status


def admin_only(view: F) -> F:
    """Admins only; anyone else gets 404 (not 403: nothing says there is something here)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None or not user.admin:
            abort(404)
        if request.method == "POST":
            csrf: CSRFProtect = current_app.extensions["csrf"]
            csrf.protect()  # the blueprint is exempt from the app-wide check, which would come first
        try:
            return view(*args, **kwargs)
        except Refusal as refusal:
            return _json({"error": {"code": "refused", "text": refusal.text}}, refusal.status)

    return cast(F, wrapped)


def _registry() -> Registry:
    settings: Settings = current_app.config["FELT_SETTINGS"]
    return Registry(db.database().engine, lease=settings.lease_seconds)


# ---- the page and its figures --------------------------------------------------------------------


@bp.get("")
@admin_only
def console() -> str:
    return render_template("admin.html", poll_ms=POLL_MS)


@bp.get("/state")
@admin_only
def state() -> Response:
    """Everything the page shows, as of now."""
    now = time.time()
    servers = _registry().servers()
    engine = db.database().engine
    with engine.connect() as conn:
        live = _tables.c.status.in_(LIVE_TABLES)
        open_tables = int(conn.execute(select(func.count()).select_from(_tables).where(live)).scalar() or 0)
        rows = conn.execute(select(_tables.c.id, _tables.c.game, _tables.c.seats, _tables.c.owner,
                                   _tables.c.status, _tables.c.created, _tables.c.public, _tables.c.roster)
                            .where(live).order_by(_tables.c.created.desc()).limit(TABLES_SHOWN)).all()
    up = [s for s in servers if s.state(now) != GONE]
    counters = {"players_online": sum(s.load for s in up if s.kind == "realtime"),
                "tables": open_tables,
                "moves_per_s": round(sum(s.rate for s in up if s.kind == "gameserver"), 1)}
    return _json({
        "now": now,
        "counters": counters,
        "servers": [{"name": s.name, "kind": s.kind, "state": s.state(now), "load": s.load,
                     "capacity": s.capacity, "lease_age": round(now - s.renewed, 1), "version": s.version,
                     "endpoint": s.endpoint, "moves_per_s": s.rate if s.kind == "gameserver" else None}
                    for s in sorted(servers, key=lambda s: (s.kind, s.name))],
        "tables": [{"id": r.id, "game": r.game, "seats": r.seats, "owner": r.owner, "status": r.status,
                    "age": round(now - r.created, 1), "public": r.public,
                    "players": (r.roster or {}).get("seats"),
                    "spectators": (r.roster or {}).get("spectators")}
                   for r in rows],
        "audit": audit.recent(engine),
    })


# ---- actions ---------------------------------------------------------------------------------------


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Refusal("send a JSON object")
    return body


def _name(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not 1 <= len(value) <= 40 or text_problem(value) is not None:
        raise Refusal(f"{field} must be a name of 1 to 40 plain characters")
    return value


def _reason(body: dict[str, Any]) -> str:
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > audit.MAX_REASON:
        raise Refusal(f"the reason is text of at most {audit.MAX_REASON} characters")
    reason = reason.strip()
    if (problem := text_problem(reason)) is not None:
        raise Refusal(f"the reason may not contain {problem}")
    return reason


def _record(action: str, target: str, reason: str, **fields: Any) -> int:
    admin = current_user()
    assert admin is not None  # admin_only
    return audit.record(db.database().engine, admin=admin.id, admin_name=admin.username, action=action,
                        target=target, reason=reason, now=time.time(), **fields)


def _set_state(action: str, to: str) -> Response:
    body = _body()
    name, reason = _name(body, "server"), _reason(body)
    registry = _registry()
    server = next((s for s in registry.servers() if s.name == name), None)
    if server is None:
        raise Refusal(f"there is no server {name!r} in the registry", 404)
    if server.state(registry.clock()) == GONE:
        result, ok = f"{name} is gone already", False
    elif not registry.set_state(name, to):
        result, ok = f"{name} left the registry meanwhile", False
    elif to == DRAINING:
        result, ok = (f"{name} is draining: it "
                      + ("hands its tables to the other game servers" if server.kind == "gameserver"
                         else "sends its clients to the other realtime servers") + ", then exits"), True
    else:
        result, ok = f"{name} takes new work again", True
    command = _record(action, name, reason, status=audit.DONE if ok else audit.FAILED, result=result)
    return _json({"id": command, "status": audit.DONE if ok else audit.FAILED, "result": result},
                 200 if ok else 409)


@bp.post("/drain")
@admin_only
def drain() -> Response:
    return _set_state(audit.DRAIN, DRAINING)


@bp.post("/undrain")
@admin_only
def undrain() -> Response:
    return _set_state(audit.UNDRAIN, LIVE)


def _open_table(body: dict[str, Any]) -> Any:
    table_id = _name(body, "table")
    with db.database().engine.connect() as conn:
        row = conn.execute(select(_tables.c.id, _tables.c.status, _tables.c.roster)
                           .where(_tables.c.id == table_id)).first()
    if row is None:
        raise Refusal(f"there is no table {table_id!r}", 404)
    if row.status not in LIVE_TABLES:
        raise Refusal(f"table {table_id} is {row.status} already", 409)
    return row


@bp.post("/close")
@admin_only
def close() -> Response:
    body = _body()
    table, reason = _open_table(body), _reason(body)
    command = _record(audit.CLOSE_TABLE, table.id, reason)
    return _json({"id": command, "status": audit.PENDING,
                  "result": "waiting for the table's game server (its next heartbeat)"}, 202)


@bp.post("/kick")
@admin_only
def kick() -> Response:
    body = _body()
    table, reason = _open_table(body), _reason(body)
    user_id = body.get("user")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise Refusal("user must be a player's id")
    seats = (table.roster or {}).get("seats") or []
    if not any(isinstance(s, dict) and s.get("user") == user_id and not s.get("bot") for s in seats):
        raise Refusal(f"that player is not seated at {table.id}", 409)
    user = db.session().get(User, user_id)
    name = user.username if user is not None else str(user_id)
    command = _record(audit.KICK, table.id, reason, user=user_id, user_name=name)
    return _json({"id": command, "status": audit.PENDING,
                  "result": "waiting for the table's game server (its next heartbeat)"}, 202)
