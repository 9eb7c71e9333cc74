"""How every tier opens the database, and the one transaction rule both databases share.

Owns: building an engine from a URL (SQLite by default, PostgreSQL through psycopg 3), and `locked()`,
the transaction to use for any read-then-write (a lease, a ledger row). It knows no table: the schema is
`common.models`, its versions `common.schema`.

Both databases must behave alike under concurrent writers:

- A conditional UPDATE (`... SET chips = chips + :d WHERE id = :u AND chips + :d >= 0`) is atomic on both:
  PostgreSQL locks the row and re-checks the condition after a concurrent writer commits; SQLite lets
  one writer in at a time (WAL, with a busy timeout so the others wait instead of failing).
- A read-then-write needs the row locked from the read on: `with locked(engine) as conn:` and
  `select(...).with_for_update()`. PostgreSQL locks the selected rows; SQLite ignores FOR UPDATE, so
  `locked` begins with BEGIN IMMEDIATE there, taking the database's write lock before the read. Without
  it a SQLite transaction that read and then writes can fail with "database is locked" (its snapshot
  is stale), where PostgreSQL would have waited.

Other SQLite transactions keep the driver's behaviour: statements before the first write run on their
own, and the transaction begins (deferred) at the first write, which then waits out the busy timeout for
the write lock. (Beginning every transaction at its first read instead makes any read-then-write fail
at once whenever another process wrote in between: the frontend's registrations did, under load.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def shown(url: str | URL) -> str:
    """`url` fit for a log line or an error message: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")  # as PostgreSQL always does
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`. SQLite: WAL, a busy timeout, foreign keys on; its directory is created.
    PostgreSQL (`postgresql+psycopg://...`): checked connections, so a restarted server costs one
    failed ping, not a failed write."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_connect)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


@contextmanager
def locked(engine: Engine) -> Iterator[Connection]:
    """A transaction for read-then-write, committed at the end (rolled back on an exception).

    Select the rows you will change with `.with_for_update()`: on PostgreSQL that locks them until the
    end; on SQLite this transaction already holds the database's write lock (BEGIN IMMEDIATE). Either way
    a concurrent `locked` transaction on the same rows waits for this one, and then reads what it wrote.
    """
    with engine.connect() as conn, conn.begin():
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the driver begins nothing itself before a write
        yield conn
