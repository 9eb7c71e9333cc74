"""Engines and the read-then-write transaction (common/db.py) on the run's database (tests/dbs.py).

`locked()` must behave the same on SQLite and PostgreSQL: a row read with FOR UPDATE inside it stays
locked against another `locked()` until the end, and racing read-modify-write transactions lose nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from common.db import is_sqlite, locked, make_engine, shown
from common.models import House
from tests import dbs

_house = House.__table__


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    url = dbs.database_url(tmp_path)
    first, second = make_engine(url), make_engine(url)
    yield first, second
    first.dispose()
    second.dispose()


def impatient(conn_engine: Engine) -> None:
    """Make the engine's next connection give up on a lock after 0.3 s instead of waiting for it."""
    sql = "PRAGMA busy_timeout=300" if is_sqlite(conn_engine.url) else "SET lock_timeout = '300ms'"

    def on_connect(dbapi_conn: object, _record: object) -> None:
        cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
        cur.execute(sql)
        cur.close()

    from sqlalchemy import event

    event.listen(conn_engine, "connect", on_connect)


def test_a_row_read_for_update_stays_locked_until_the_end(two: tuple[Engine, Engine]) -> None:
    holder, other = two
    impatient(other)
    with locked(holder) as conn:
        conn.execute(select(_house.c.chips).where(_house.c.id == 1).with_for_update()).scalar_one()
        # nothing written yet, and still the other writer cannot take the row
        with pytest.raises(OperationalError), locked(other) as blocked:
            blocked.execute(select(_house.c.chips).where(_house.c.id == 1).with_for_update()).scalar_one()
        conn.execute(update(House).where(_house.c.id == 1).values(chips=5))
    with locked(other) as conn:  # released at the end: the other one now reads what was written
        assert conn.execute(select(_house.c.chips).with_for_update()).scalar_one() == 5


def test_racing_read_modify_writes_lose_nothing(two: tuple[Engine, Engine], tmp_path: Path) -> None:
    url = dbs.database_url(tmp_path)
    engines = [make_engine(url) for _ in range(4)]
    gate = threading.Barrier(len(engines))
    failures: list[BaseException] = []

    def bump(engine: Engine) -> None:
        gate.wait(timeout=30)
        try:
            for _ in range(25):
                with locked(engine) as conn:
                    now = conn.execute(select(_house.c.chips).with_for_update()).scalar_one()
                    conn.execute(update(House).values(chips=now + 1))
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            failures.append(exc)

    threads = [threading.Thread(target=bump, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert failures == []
        with engines[0].connect() as conn:
            assert conn.execute(select(_house.c.chips)).scalar_one() == 100
    finally:
        for engine in engines:
            engine.dispose()


def test_a_failed_locked_transaction_writes_nothing(two: tuple[Engine, Engine]) -> None:
    engine, _ = two
    with pytest.raises(ZeroDivisionError), locked(engine) as conn:
        conn.execute(update(House).values(chips=99))
        raise ZeroDivisionError
    with engine.connect() as conn:
        assert conn.execute(select(_house.c.chips)).scalar_one() == 0


def test_an_ordinary_transaction_that_reads_then_writes_waits_for_another_writer(
        two: tuple[Engine, Engine]) -> None:
    """Outside `locked`, a read takes no lock and does not pin a snapshot that a later write would
    find stale: a writer that read before another process committed still writes (it waits for the
    lock instead of failing at once)."""
    first, second = two
    with first.begin() as conn:
        assert conn.execute(select(_house.c.chips)).scalar_one() == 0
        with second.begin() as other:  # another process writes and commits meanwhile
            other.execute(update(House).values(chips=3))
        conn.execute(update(House).values(chips=_house.c.chips + 1))
    with first.connect() as conn:
        assert conn.execute(select(_house.c.chips)).scalar_one() == 4
    if is_sqlite(first.url):
        with first.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_shown_url_hides_the_password() -> None:
    assert shown("postgresql+psycopg://felt:s3cret@db:5432/felt") == "postgresql+psycopg://felt:***@db:5432/felt"
