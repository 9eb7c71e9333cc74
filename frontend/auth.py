"""Accounts: registration, password login, logout, and who is logged in.

Owns the username and password rules, password hashing (werkzeug scrypt), the session cookie's
`user_id`, and `current_user()` / `login_required` for the other blueprints. New accounts get
`settings.starting_chips`. Usernames are unique regardless of case; the display name is the username.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from common.config import Settings
from common.models import Revocation, User
from frontend import db, throttle

USERNAME_RE = re.compile(r"[A-Za-z0-9_]{3,20}")
MIN_PASSWORD = 8
MAX_PASSWORD = 200
PASSWORD_METHOD = "scrypt"

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])


# ---- rules and storage -----------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def find_user(s: Session, username: str) -> User | None:
    """The user called `username`: an exact (indexed) match, else one differing only in case."""
    user = s.scalars(select(User).where(User.username == username)).first()
    if user is None:
        user = s.scalars(select(User).where(func.lower(User.username) == username.lower())).first()
    return user


def name_taken(s: Session, username: str) -> bool:
    return s.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None


def new_user(username: str, password_hash: str, chips: int) -> User:
    return User(username=username, display_name=username, password_hash=password_hash, chips=chips)


@functools.cache
def _dummy_hash() -> str:
    return hash_password("felt: no such user")


def check_login(s: Session, username: str, password: str) -> User | None:
    """The user if `password` is theirs. Unknown names cost a hash check too, so timing does not tell."""
    user = find_user(s, username)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def revoke(s: Session, user_id: int, now: float) -> None:
    """End every session of `user_id` and void its realtime tokens issued before `now` (not committed)."""
    row = s.get(Revocation, user_id)
    if row is None:
        s.add(Revocation(user_id=user_id, not_before=now))
    else:
        row.not_before = max(row.not_before, now)


def _session_valid(s: Session, user_id: int) -> bool:
    """Whether this session began after its user's last logout or password change."""
    row = s.get(Revocation, user_id)
    since = session.get("since", 0.0)
    return row is None or (isinstance(since, (int, float)) and since >= row.not_before)


def current_user() -> User | None:
    """The logged-in user of this request (looked up once), or None. A session that began before its user
    logged out (anywhere) or changed password is over: its cookie is refused and cleared."""
    if "user" not in g:
        user_id = session.get("user_id")
        s = db.session()
        g.user = s.get(User, user_id) if isinstance(user_id, int) else None
        if g.user is not None and not _session_valid(s, g.user.id):
            g.user = None
        if g.user is None and user_id is not None:
            session.clear()  # the account is gone, or the session was ended
    user: User | None = g.user
    return user


def login_required(view: F) -> F:
    """Pages only: redirect to the login page when nobody is logged in."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login"))
        return view(*args, **kwargs)

    return cast(F, wrapped)


@bp.app_context_processor
def inject_user() -> dict[str, Any]:
    return {"current_user": current_user()}


# ---- forms -----------------------------------------------------------------------------------------


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class RegisterForm(FlaskForm):
    username = StringField("Username", filters=[_strip], validators=[
        DataRequired("Choose a username."),
        Regexp(USERNAME_RE.pattern + r"\Z",
               message="Usernames are 3 to 20 characters: letters, digits and _ only.")])
    password = PasswordField("Password", validators=[
        DataRequired("Choose a password."),
        Length(min=MIN_PASSWORD, max=MAX_PASSWORD,
               message=f"Passwords are {MIN_PASSWORD} to {MAX_PASSWORD} characters long.")])
    confirm = PasswordField("Repeat password", validators=[
        DataRequired("Repeat the password."),
        EqualTo("password", message="The two passwords do not match.")])


class LoginForm(FlaskForm):
    username = StringField("Username", filters=[_strip], validators=[DataRequired("Enter your username.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


# ---- views -----------------------------------------------------------------------------------------


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    password = PasswordField("New password", validators=[
        DataRequired("Choose a new password."),
        Length(min=MIN_PASSWORD, max=MAX_PASSWORD,
               message=f"Passwords are {MIN_PASSWORD} to {MAX_PASSWORD} characters long.")])
    confirm = PasswordField("Repeat new password", validators=[
        DataRequired("Repeat the new password."),
        EqualTo("password", message="The two passwords do not match.")])


def _log_in(user: User, now: float | None = None) -> None:
    session.clear()
    session["user_id"] = user.id
    session["since"] = time.time() if now is None else now
    g.user = user


@bp.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    form = RegisterForm()
    if form.validate_on_submit():
        settings: Settings = current_app.config["FELT_SETTINGS"]
        username = (form.username.data or "").strip()
        s = db.session()
        if name_taken(s, username):
            form.username.errors = [*form.username.errors, "That username is taken; choose another."]
        else:
            user = new_user(username, hash_password(form.password.data or ""), settings.starting_chips)
            s.add(user)
            try:
                s.commit()
            except IntegrityError:  # registered concurrently under the same name
                s.rollback()
                form.username.errors = [*form.username.errors, "That username is taken; choose another."]
            else:
                _log_in(user)
                flash(f"Welcome, {user.display_name}! You start with {user.chips:,} chips.")
                response = redirect(url_for("client.index"))
                throttle.remember(response, user.username)
                return response
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        user = check_login(db.session(), (form.username.data or "").strip(), form.password.data or "")
        if user is not None:
            _log_in(user)
            response = redirect(url_for("client.index"))
            throttle.remember(response, user.username)
            return response
        form.form_errors.append("Unknown username or wrong password.")
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> ResponseReturnValue:
    """Change the password: every session and realtime token of the account ends, this one goes on."""
    form = PasswordForm()
    user = current_user()
    assert user is not None  # login_required
    if form.validate_on_submit():
        if not check_password_hash(user.password_hash, form.current.data or ""):
            form.current.errors = [*form.current.errors, "That is not your current password."]
        else:
            s = db.session()
            now = time.time()
            user.password_hash = hash_password(form.password.data or "")
            s.add(user)
            revoke(s, user.id, now)
            s.commit()
            _log_in(user, now)
            flash("Your password is changed; every other session of this account has ended.")
            return redirect(url_for("client.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """POST only, and CSRFProtect checks its token: another site cannot log people out. Ends every session
    of the account (a replayed cookie is refused) and its realtime tokens (game servers close its live
    connections within a heartbeat)."""
    user = current_user()
    if user is not None:
        s = db.session()
        revoke(s, user.id, time.time())
        s.commit()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("client.index"))
