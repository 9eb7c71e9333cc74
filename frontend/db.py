"""The frontend's database handle: one engine per app, one SQLAlchemy session per request.

`init_app(app)` opens the database, refusing one whose schema this code does not know
(`common.schema.open_db` raises `SchemaMismatch`: run `scripts/ctl migrate`), and registers a teardown that
closes the request's session (rolling back anything uncommitted). Views call `session()`; they commit
what they change themselves. Nothing else here: the schema lives in `common.models`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from common.config import Settings
from common.models import session_factory
from common.schema import open_db


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Any]

    def dispose(self) -> None:
        """Close pooled connections (tests, and before a fork)."""
        self.engine.dispose()


def init_app(app: Flask) -> Database:
    settings: Settings = app.config["FELT_SETTINGS"]
    engine = open_db(settings.db_url())
    # Return the connection the schema check used: a gunicorn --preload fork must not inherit an open one.
    engine.dispose()
    database = Database(engine, session_factory(engine))
    app.extensions["felt_db"] = database
    app.teardown_appcontext(_close_session)
    return database


def database(app: Flask | None = None) -> Database:
    db: Database = (app or current_app).extensions["felt_db"]
    return db


def session() -> Session:
    """This request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    s: Session = g.db_session
    return s


def _close_session(_exc: BaseException | None) -> None:
    s: Session | None = g.pop("db_session", None)
    if s is not None:
        s.close()
