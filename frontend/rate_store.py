"""A `limits` storage in Felt's own database, so the frontend's rate limits count across every gunicorn
worker and every frontend host (memory storage counted per worker: a login's failures spread over two
workers were allowed twice, and an attacker's tries that one worker took left the other's counts low).

Owns `DatabaseStorage`, registered with `limits` as the `felt-db://` scheme and built by Flask-Limiter
with `storage_options={"engine": engine}`. It serves the fixed-window strategy (Flask-Limiter's default):
one row per window key in `rate_counts`, counted up by one atomic upsert (`INSERT ... ON CONFLICT DO
UPDATE ... RETURNING`, the same on SQLite and PostgreSQL), so concurrent workers never lose a count.
Keys are stored as SHA-256 digests: the table never holds a client's address or an account's name.
Expired rows are deleted every `PRUNE_EVERY` increments.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from limits.storage import Storage
from sqlalchemy import Table, case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from common.models import RateCount

PRUNE_EVERY = 500  # increments between deletions of expired windows
_counts: Table = RateCount.__table__  # type: ignore[assignment]


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class DatabaseStorage(Storage):
    """Fixed-window counters in the `rate_counts` table of `engine` (SQLite or PostgreSQL)."""

    STORAGE_SCHEME = ["felt-db"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, *,
                 engine: Engine | None = None, clock: Callable[[], float] = time.time,
                 **options: Any) -> None:
        if engine is None:
            raise ValueError("felt-db:// needs storage_options={'engine': <a SQLAlchemy engine>}")
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"felt-db:// supports SQLite and PostgreSQL, not {dialect}")
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.engine = engine
        self.clock = clock
        self._insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        self._since_prune = 0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = self.clock()
        fresh = self._insert(_counts).values(key=digest(key), count=amount, expires=now + expiry)
        lapsed = _counts.c.expires <= now  # an old window: start over (the right-hand sides see the old row)
        statement = fresh.on_conflict_do_update(
            index_elements=[_counts.c.key],
            set_={"count": case((lapsed, fresh.excluded.count), else_=_counts.c.count + fresh.excluded.count),
                  "expires": case((lapsed, fresh.excluded.expires), else_=_counts.c.expires)},
        ).returning(_counts.c.count)
        with self.engine.begin() as connection:
            count = int(connection.execute(statement).scalar_one())
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self._since_prune = 0
            self.prune(now)
        return count

    def get(self, key: str) -> int:
        query = select(_counts.c.count).where(_counts.c.key == digest(key), _counts.c.expires > self.clock())
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)

    def get_expiry(self, key: str) -> float:
        now = self.clock()
        query = select(_counts.c.expires).where(_counts.c.key == digest(key), _counts.c.expires > now)
        with self.engine.connect() as connection:
            expires = connection.execute(query).scalar()
        return float(expires) if expires is not None else now

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return connection.execute(delete(_counts)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(_counts).where(_counts.c.key == digest(key)))

    def prune(self, now: float | None = None) -> int:
        """Delete the windows that have ended; how many."""
        moment = self.clock() if now is None else now
        with self.engine.begin() as connection:
            return connection.execute(delete(_counts).where(_counts.c.expires <= moment)).rowcount
