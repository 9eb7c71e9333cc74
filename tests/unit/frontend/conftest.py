"""Fixtures for the frontend: an app on a database of the test's own (tests/dbs.py), its client, `auth`.

CSRF protection stays ON: `auth` and `csrf_token()` fetch the form's token like a browser would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from common.config import Settings, load
from common.models import User
from frontend import create_app
from frontend.db import database
from tests import dbs

PASSWORD = "correct horse"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                   r'type="hidden" name="csrf_token" value="([^"]+)"')


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # tests register many people from one address; tests/unit/frontend/test_throttle.py sets real limits
    return load(env={}, data_dir=str(tmp_path), secret="test", register_address_limit="1000 per minute",
                login_address_limit="1000 per minute", database_url=dbs.database_url(tmp_path))


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Callable[..., Flask]]:
    """`make_app(**setting_changes)`: another app on the same temporary data dir."""
    apps: list[Flask] = []

    def make(**changes: object) -> Flask:
        app = create_app(settings.replace(**changes))
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield make
    for app in apps:
        database(app).dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session outside any request, to look at what the views stored."""
    with database(app).sessions() as s:
        yield s


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token a browser would find in the form at `path`."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no csrf_token in {path}"
    return match.group(1) or match.group(2)


def users(s: Session) -> list[User]:
    s.expire_all()
    return list(s.scalars(select(User).order_by(User.id)))


class AuthActions:
    """Register / log in / log out through the real forms (with their CSRF tokens)."""

    password = PASSWORD

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def register(self, username: str = "alice", password: str = PASSWORD,
                 confirm: str | None = None) -> TestResponse:
        token = csrf_token(self._client, "/register")
        return self._client.post("/register", data={
            "username": username, "password": password,
            "confirm": password if confirm is None else confirm, "csrf_token": token})

    def login(self, username: str = "alice", password: str = PASSWORD) -> TestResponse:
        token = csrf_token(self._client, "/login")
        return self._client.post("/login", data={
            "username": username, "password": password, "csrf_token": token})

    def logout(self) -> TestResponse:
        token = csrf_token(self._client, "/")
        return self._client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def people(auth: AuthActions, client: FlaskClient) -> AuthActions:
    """alice, bob and carol, registered (and logged out again)."""
    for name in ("alice", "bob", "carol"):
        auth.register(name)
        auth.logout()
    return auth


@pytest.fixture
def csrf(client: FlaskClient) -> Callable[[str], str]:
    """`csrf(path)`: the CSRF token of the form at `path`."""
    return lambda path: csrf_token(client, path)


@pytest.fixture
def stored_users(db: Session) -> Callable[[], list[User]]:
    """`stored_users()`: every user in the database, freshly read."""
    return lambda: users(db)
