"""The database every test runs on: SQLite files by default, PostgreSQL with FELT_TEST_DATABASE=postgresql.

`database_url(data_dir)` is the URL of a database, migrated to the latest schema, that belongs to that
test directory: the same one on every call (a restarted game server finds its tables again), a new one
for each directory. On SQLite it is `<data_dir>/felt.db`, made by the migrations (`common.schema.migrate`),
as `scripts/run` makes it. On PostgreSQL the first call starts a server of the run's own
(`tests.pgserver`), migrates a template database once, and gives each directory a copy of it (CREATE
DATABASE ... TEMPLATE: milliseconds); `shutdown()`, called when pytest ends (tests/conftest.py), stops it.

`read_only(data_dir)` makes that database refuse writes for a while, the same fault on both: the SQLite
files made immutable, or PostgreSQL's read-only default set on the database and its sessions ended.
Shared by the tests and the integration stack; nothing here imports pytest.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from common.schema import migrate
from tests.pgserver import PostgresServer

POSTGRESQL = "postgresql"
TEMPLATE = "felt_template"

_server: PostgresServer | None = None
_sqlite_template: Path | None = None
_urls: dict[Path, str] = {}
_numbers = itertools.count(1)


def backend() -> str:
    """The database the tests run on: "sqlite" or "postgresql" (FELT_TEST_DATABASE)."""
    name = os.environ.get("FELT_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
    if name not in ("sqlite", POSTGRESQL):
        raise ValueError(f"FELT_TEST_DATABASE={name!r}: expected sqlite or postgresql")
    return name


def server() -> PostgresServer:
    """The run's PostgreSQL server, started on first use with a migrated template database."""
    global _server
    if _server is None:
        started = PostgresServer().start()
        try:
            started.execute(f"CREATE DATABASE {TEMPLATE}")
            migrate(started.url(TEMPLATE))
        except BaseException:
            started.stop()
            raise
        _server = started
    return _server


def _sqlite_copy(target: Path) -> None:
    """A migrated SQLite database at `target`: a copy of one migrated once per run."""
    global _sqlite_template
    if _sqlite_template is None:
        made = Path(tempfile.mkdtemp(prefix="felt-sqlite-template-")) / "felt.db"
        migrate(f"sqlite:///{made}")  # the last connection closed: no WAL left beside it
        _sqlite_template = made
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template, target)


def database_url(data_dir: Path) -> str:
    """A migrated database of `data_dir`'s own (see the module docstring)."""
    data_dir = Path(data_dir).resolve()
    if data_dir not in _urls:
        if backend() == POSTGRESQL:
            name = f"felt_{next(_numbers)}"
            server().execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
            _urls[data_dir] = server().url(name)
        else:
            path = data_dir / "felt.db"
            if not path.exists():
                _sqlite_copy(path)
            _urls[data_dir] = f"sqlite:///{path}"
    return _urls[data_dir]


def empty_database_url(data_dir: Path) -> str:
    """A database with no schema at all (for tests of migrating and of refusing to start)."""
    if backend() == POSTGRESQL:
        name = f"felt_empty_{next(_numbers)}"
        server().execute(f"CREATE DATABASE {name}")
        return server().url(name)
    return f"sqlite:///{Path(data_dir).resolve() / 'empty.db'}"


@contextlib.contextmanager
def read_only(data_dir: Path) -> Iterator[None]:
    """`data_dir`'s database refuses every write for the duration, then takes them again."""
    url = database_url(data_dir)
    if backend() == POSTGRESQL:
        name = url.rsplit("/", 1)[1]
        _set_read_only(name, True)
        try:
            yield
        finally:
            _set_read_only(name, False)
        return
    # The SQLite database and its write-ahead log made immutable (even root cannot write them). Not the
    # shared-memory index: SQLite maps it, and a write to a mapped immutable page is a bus error, a crash
    # rather than a refused write.
    files = [str(f) for f in sorted(Path(data_dir).glob("felt.db*")) if not f.name.endswith("-shm")]
    done = subprocess.run(["chattr", "+i", *files], capture_output=True, text=True)
    if done.returncode != 0:
        raise PermissionError(f"cannot make the database unwritable here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *files], check=True)


def _set_read_only(name: str, on: bool) -> None:
    """Every session of database `name` ended, and new ones read-only (or not): what a replica that a
    failover demoted looks like to its clients."""
    pg = server()
    pg.execute(f"ALTER DATABASE {name} SET default_transaction_read_only = {'on' if on else 'off'}")
    pg.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
               "AND pid <> pg_backend_pid()")


def describe() -> str:
    """One line for pytest's header."""
    if backend() != POSTGRESQL:
        return "database: SQLite (FELT_TEST_DATABASE=postgresql runs the suite on PostgreSQL)"
    return "database: PostgreSQL (a server of this run's own, started at the first test that needs it)"


def shutdown() -> None:
    """Stop the run's PostgreSQL server, if one was started, and drop the SQLite template."""
    global _server, _sqlite_template
    if _server is not None:
        _server.stop()
        _server = None
    if _sqlite_template is not None:
        shutil.rmtree(_sqlite_template.parent, ignore_errors=True)
        _sqlite_template = None
    _urls.clear()
