"""frontend.auth: registration, login, logout, CSRF, password storage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from common.config import Settings
from common.models import User

Users = Callable[[], list[User]]
AuthActions = Any  # the `auth` fixture (conftest.AuthActions)
PASSWORD = "correct horse"  # conftest.PASSWORD, what `auth` registers with by default


def test_pages_render(client: FlaskClient) -> None:
    for path in ("/", "/register", "/login"):
        response = client.get(path)
        assert response.status_code == 200
        assert b"felt.css" in response.data


def test_register(auth: AuthActions, client: FlaskClient, stored_users: Users, settings: Settings) -> None:
    response = auth.register("alice")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    [user] = stored_users()
    assert (user.username, user.display_name, user.chips) == ("alice", "alice", settings.starting_chips)
    page = client.get("/").get_data(as_text=True)  # logged in straight away
    assert "Lobby" in page and "alice" in page and f"{settings.starting_chips:,} chips" in page


def test_password_is_hashed_with_scrypt(auth: AuthActions, stored_users: Users) -> None:
    assert auth.password == PASSWORD
    auth.register("alice")
    [user] = stored_users()
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith("scrypt:")


def test_starting_chips_come_from_settings(make_app: Callable[..., Flask], auth: AuthActions) -> None:
    client = make_app(starting_chips=123).test_client()
    type(auth)(client).register("bob")
    assert client.get("/api/me").get_json()["user"]["chips"] == 123


def test_duplicate_name(auth: AuthActions, client: FlaskClient, stored_users: Users) -> None:
    auth.register("alice")
    auth.logout()
    for name in ("alice", "ALICE"):
        response = auth.register(name)
        assert response.status_code == 400
        assert "That username is taken" in response.get_data(as_text=True)
    assert [u.username for u in stored_users()] == ["alice"]


@pytest.mark.parametrize("name", ["ab", "a" * 21, "bad name", "semi;colon", "émile", "<script>", ""])
def test_bad_names(auth: AuthActions, stored_users: Users, name: str) -> None:
    response = auth.register(name)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert ("3 to 20 characters" in page) or ("Choose a username." in page)
    assert "<script>" not in page.split("<main>")[1]  # echoed input is escaped
    assert stored_users() == []


@pytest.mark.parametrize("name", ["abc", "a" * 20, "Bob_99", "___"])
def test_good_names(auth: AuthActions, stored_users: Users, name: str) -> None:
    assert auth.register(name).status_code == 302
    assert [u.username for u in stored_users()] == [name]


def test_short_password(auth: AuthActions, stored_users: Users) -> None:
    response = auth.register("alice", password="short")
    assert response.status_code == 400
    assert "Passwords are 8 to 200 characters long." in response.get_data(as_text=True)
    assert stored_users() == []


def test_mismatched_confirmation(auth: AuthActions, stored_users: Users) -> None:
    response = auth.register("alice", password=PASSWORD, confirm=PASSWORD + "!")
    assert response.status_code == 400
    assert "The two passwords do not match." in response.get_data(as_text=True)
    assert stored_users() == []


def test_register_without_csrf_is_rejected(client: FlaskClient, stored_users: Users) -> None:
    response = client.post("/register", data={
        "username": "mallory", "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert stored_users() == []


def test_register_with_forged_csrf_is_rejected(client: FlaskClient, stored_users: Users) -> None:
    response = client.post("/register", data={
        "username": "mallory", "password": PASSWORD, "confirm": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400
    assert stored_users() == []


def test_login(auth: AuthActions, client: FlaskClient) -> None:
    auth.register("alice")
    auth.logout()
    response = auth.login("alice")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/api/me").get_json()["user"]["name"] == "alice"


def test_login_ignores_case(auth: AuthActions, client: FlaskClient) -> None:
    auth.register("Alice")
    auth.logout()
    assert auth.login("alice").status_code == 302
    assert client.get("/api/me").get_json()["user"]["name"] == "Alice"


@pytest.mark.parametrize(("name", "password"), [("alice", "wrong password"), ("nobody", PASSWORD)])
def test_bad_login(auth: AuthActions, client: FlaskClient, name: str, password: str) -> None:
    auth.register("alice")
    auth.logout()
    response = auth.login(name, password)
    assert response.status_code == 400
    assert "Unknown username or wrong password." in response.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401


def test_login_without_csrf_is_rejected(auth: AuthActions, client: FlaskClient) -> None:
    auth.register("alice")
    auth.logout()
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/api/me").status_code == 401


def test_logout(auth: AuthActions, client: FlaskClient) -> None:
    auth.register("alice")
    assert client.get("/api/me").status_code == 200
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/api/me").status_code == 401
    assert "You are logged out." in client.get("/").get_data(as_text=True)


def test_logout_needs_post_and_csrf(auth: AuthActions, client: FlaskClient) -> None:
    auth.register("alice")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/api/me").status_code == 200


def test_session_cookie_flags(auth: AuthActions) -> None:
    response = auth.register("alice")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_deleted_account_is_logged_out(auth: AuthActions, client: FlaskClient, db: Session) -> None:
    auth.register("alice")
    db.execute(delete(User))
    db.commit()
    assert client.get("/api/me").status_code == 401
    assert "Create an account" in client.get("/").get_data(as_text=True)


def test_cli_create_users_is_idempotent_and_bots_can_log_in(
        settings: Settings, auth: AuthActions, client: FlaskClient, stored_users: Users) -> None:
    from frontend.cli import create_users

    assert create_users(settings, "bot", 5, "botpassword", chips=50) == (5, 0)
    assert create_users(settings, "bot", 7, "botpassword") == (2, 5)
    bots = stored_users()
    assert [u.username for u in bots] == [f"bot{n}" for n in range(1, 8)]
    assert [u.chips for u in bots] == [50] * 5 + [settings.starting_chips] * 2
    assert bots[0].password_hash.startswith("scrypt:") and "botpassword" not in bots[0].password_hash
    assert auth.login("bot3", "botpassword").status_code == 302
    assert client.get("/api/me").get_json()["user"]["name"] == "bot3"


@pytest.mark.parametrize(("prefix", "count", "password"), [
    ("b", 5, "botpassword"),  # b1 is too short
    ("averyveryverylongbot", 2, "botpassword"),
    ("bad-prefix", 2, "botpassword"),
    ("bot", 0, "botpassword"),
    ("bot", 2, "short"),
])
def test_cli_create_users_refuses_bad_input(settings: Settings, stored_users: Users, prefix: str,
                                            count: int, password: str) -> None:
    from frontend.cli import CliError, create_users

    with pytest.raises(CliError):
        create_users(settings, prefix, count, password)
    assert stored_users() == []
