"""frontend.admin and `frontend.cli set-admin`: the console is for admin accounts only (everyone else gets
the plain 404 on every endpoint, whatever they send), its actions are CSRF-checked, validated, and written
to the audit log with their result, and its state shows the registry, the open tables and the counters."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common import audit
from common.config import Settings
from common.models import AuditRecord, ServerRecord, TableRecord, User
from common.registry import DRAINING, Registry
from frontend import cli
from frontend.db import database
from gameserver.store import Store

AuthActions = Any  # the `auth` fixture (conftest.AuthActions)
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
#: The logout form's CSRF token: signed with the second it was made, so pages a second apart differ in it.
_CSRF_FIELD = re.compile(rb'(name="csrf_token" value=")[^"]*(")')


def _page(response: Any) -> bytes:
    """A page's bytes, its logout form's CSRF token left out."""
    return _CSRF_FIELD.sub(rb"\1\2", response.get_data())


ENDPOINTS = [("get", "/admin"), ("get", "/admin/state"), ("post", "/admin/drain"), ("post", "/admin/undrain"),
             ("post", "/admin/close"), ("post", "/admin/kick")]


def audit_rows(db: Session) -> list[AuditRecord]:
    db.expire_all()
    return list(db.scalars(select(AuditRecord).order_by(AuditRecord.id)))


@pytest.fixture
def admin(auth: AuthActions, client: FlaskClient, settings: Settings) -> Callable[..., Any]:
    """Log in as `root`, an admin (made one by the CLI); `admin(path, body)` posts with the page's token."""
    auth.register("root")
    assert cli.set_admin(settings, "ROOT") == "root"  # names match regardless of case
    page = client.get("/admin")
    assert page.status_code == 200
    match = _META.search(page.get_data(as_text=True))
    assert match
    token = match.group(1)

    def post(path: str, body: Any) -> Any:
        return client.post(path, json=body, headers={"X-CSRFToken": token})

    return post


@pytest.fixture
def world(app: Flask) -> dict[str, str]:
    """Two game servers and a realtime server in the registry; a Hold'em table on g1 with a roster."""
    engine = database(app).engine
    registry = Registry(engine)
    registry.register("gameserver", "g1", "tcp://127.0.0.1:5601", boot="b1", capacity=100, load=1)
    registry.register("gameserver", "g2", "tcp://127.0.0.1:5602", boot="b2", load=0)
    registry.register("realtime", "rt1", "http://127.0.0.1:8101", boot="r1", load=7)
    registry.renew("g1", "b1", 1, rate=12.5)
    store = Store(engine, owner="g1")
    store.create_table(id="g1-0001", server="g1", game="holdem", seats=3, options={}, clock=None,
                       public=True, creator=1, seed="1", status="playing", created=time.time() - 60)
    store.flush()
    roster = {"seats": [{"user": 1, "name": "root", "bot": False, "stack": 2000},
                        {"user": 0, "name": "Bot 1", "bot": True, "stack": 2000}, None], "spectators": 2}
    with engine.begin() as conn:
        conn.execute(update(TableRecord).values(roster=roster))
    return {"table": "g1-0001"}


def test_set_admin_from_the_command_line(auth: AuthActions, settings: Settings, db: Session,
                                         monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    auth.register("carol")
    monkeypatch.setenv("FELT_CONFIG", "")
    monkeypatch.setenv("FELT_DATA_DIR", settings.data_dir)
    monkeypatch.setenv("FELT_DATABASE_URL", settings.db_url())
    flag = lambda: db.scalars(select(User.admin).where(User.username == "carol")).one()  # noqa: E731
    assert cli.main(["set-admin", "carol"]) == 0
    assert "carol is an admin" in capsys.readouterr().out
    db.expire_all()
    assert flag() is True
    assert cli.main(["set-admin", "carol", "--revoke"]) == 0
    assert "no longer an admin" in capsys.readouterr().out
    db.expire_all()
    assert flag() is False
    assert cli.main(["set-admin", "nobody"]) == 2
    assert "no account 'nobody'" in capsys.readouterr().err


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_everyone_but_an_admin_gets_the_plain_404(auth: AuthActions, client: FlaskClient, db: Session,
                                                  world: dict[str, str], method: str, path: str) -> None:
    body = {"server": "g1", "table": world["table"], "user": 1}
    answers, token = [], None
    for who in ("anonymous", "mallory"):
        if who == "mallory":
            auth.register("mallory")  # logged in, not an admin
            token = _META.search(client.get("/").get_data(as_text=True))  # (and the welcome is shown)
        missing = getattr(client, method)("/admin/nothing-here")
        answers.append((getattr(client, method)(path, json=body), missing))
    for response, missing in answers:
        assert response.status_code == 404
        assert _page(response) == _page(missing), "the same page as for no page at all"
    assert token is None
    assert audit_rows(db) == []
    assert db.scalars(select(ServerRecord.state).where(ServerRecord.name == "g1")).one() == "live"


def test_an_admin_post_without_the_csrf_token_is_refused(admin: Any, client: FlaskClient, db: Session,
                                                         world: dict[str, str]) -> None:
    response = client.post("/admin/drain", json={"server": "g1"})
    assert response.status_code == 400 and "security token" in response.get_data(as_text=True)
    assert audit_rows(db) == []


def test_the_state_shows_servers_tables_counters_and_the_audit_log(admin: Any, client: FlaskClient,
                                                                    world: dict[str, str]) -> None:
    admin("/admin/close", {"table": world["table"], "reason": "tests"})
    response = client.get("/admin/state")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    state = response.get_json()
    assert state["counters"] == {"players_online": 7, "tables": 1, "moves_per_s": 12.5}
    servers = {s["name"]: s for s in state["servers"]}
    assert set(servers) == {"g1", "g2", "rt1"}
    assert servers["g1"]["kind"] == "gameserver" and servers["g1"]["state"] == "live"
    g1 = servers["g1"]
    assert g1["load"] == 1 and g1["capacity"] == 100 and g1["moves_per_s"] == 12.5
    assert 0 <= servers["g1"]["lease_age"] < 5 and servers["g1"]["version"]
    [table] = state["tables"]
    assert table["id"] == "g1-0001" and table["game"] == "holdem" and table["owner"] == "g1"
    assert table["seats"] == 3 and table["spectators"] == 2 and 59 <= table["age"] < 70
    assert [s and s["name"] for s in table["players"]] == ["root", "Bot 1", None]
    [row] = state["audit"]
    assert (row["action"], row["target"], row["admin"], row["status"], row["reason"]) == (
        "close_table", "g1-0001", "root", "pending", "tests")


def test_the_page_has_no_inline_script(admin: Any, client: FlaskClient) -> None:
    html = client.get("/admin").get_data(as_text=True)
    assert re.findall(r"<script[^>]*>", html) == [
        '<script type="module" src="/static/js/admin.js">']
    assert "script-src 'self'" in client.get("/admin").headers["Content-Security-Policy"]


def test_drain_sets_the_registry_state_and_is_audited(admin: Any, app: Flask, db: Session,
                                                      world: dict[str, str]) -> None:
    response = admin("/admin/drain", {"server": "g2", "reason": "kernel update"})
    assert response.status_code == 200 and response.get_json()["status"] == "done"
    registry = Registry(database(app).engine)
    assert {s.name: s.stored_state for s in registry.servers()}["g2"] == DRAINING
    registry.leave("g1", "b1")
    gone = admin("/admin/drain", {"server": "g1"})
    assert gone.status_code == 409 and gone.get_json()["result"] == "g1 is gone already"
    unknown = admin("/admin/drain", {"server": "g7"})
    assert unknown.status_code == 404
    rows = audit_rows(db)
    assert [(r.action, r.target, r.status, r.reason, r.admin_name) for r in rows] == [
        ("drain", "g2", "done", "kernel update", "root"), ("drain", "g1", "failed", "", "root")]
    assert "draining" in rows[0].result and rows[0].done_at is not None


def test_close_and_kick_are_queued_for_the_game_server(admin: Any, db: Session,
                                                       world: dict[str, str]) -> None:
    close = admin("/admin/close", {"table": world["table"]})
    assert close.status_code == 202 and close.get_json()["status"] == "pending"
    kick = admin("/admin/kick", {"table": world["table"], "user": 1, "reason": "abuse"})
    assert kick.status_code == 202
    rows = audit_rows(db)
    assert [(r.action, r.target, r.user, r.user_name, r.status) for r in rows] == [
        ("close_table", "g1-0001", None, "", audit.PENDING), ("kick", "g1-0001", 1, "root", audit.PENDING)]


@pytest.mark.parametrize(("path", "body", "status", "words"), [
    ("/admin/close", {"table": "g1-0099"}, 404, "no table"),
    ("/admin/close", ["g1-0001"], 400, "JSON object"),
    ("/admin/close", {"table": "g1-0001", "reason": "x" * 201}, 400, "at most 200"),
    ("/admin/close", {"table": "g1-0001", "reason": "bell\x07"}, 400, "may not contain"),
    ("/admin/drain", {"server": 5}, 400, "server must be"),
    ("/admin/kick", {"table": "g1-0001", "user": 0}, 409, "not seated"),  # a bot is nobody to kick
    ("/admin/kick", {"table": "g1-0001", "user": "1"}, 400, "player's id"),
    ("/admin/kick", {"table": "g1-0001", "user": True}, 400, "player's id"),
])
def test_bad_input_gets_a_clear_error_and_changes_nothing(admin: Any, db: Session, world: dict[str, str],
                                                          path: str, body: Any, status: int, words: str
                                                          ) -> None:
    response = admin(path, body)
    assert response.status_code == status
    assert words in response.get_json()["error"]["text"]
    assert audit_rows(db) == []


def test_a_closed_table_cannot_be_closed_again(admin: Any, app: Flask, db: Session,
                                               world: dict[str, str]) -> None:
    with database(app).engine.begin() as conn:
        conn.execute(update(TableRecord).values(status="closed"))
    response = admin("/admin/close", {"table": world["table"]})
    assert response.status_code == 409 and "closed already" in response.get_json()["error"]["text"]
    assert audit_rows(db) == []


def test_an_admin_sees_the_link_others_do_not(auth: AuthActions, client: FlaskClient,
                                              settings: Settings) -> None:
    auth.register("dave")
    assert 'href="/admin"' not in client.get("/").get_data(as_text=True)
    cli.set_admin(settings, "dave")
    assert 'href="/admin"' in client.get("/").get_data(as_text=True)
