"""SQLite's WAL checkpoints off the loop (`gameserver.wal_checkpoints`): a store told to leave them
runs none in its commits, the checkpointer's thread copies the log back by itself, and the log then
starts again from its beginning instead of growing. PostgreSQL checkpoints by itself: nothing runs."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.engine import Engine

from gameserver import entries as e
from gameserver.store import Store
from gameserver.wal_checkpoints import WalCheckpointer
from tests.unit.gameserver.test_store import owning_a_table

#: Entries enough to pass SQLite's automatic checkpoint (1,000 pages of log) several times over.
BATCHES, PER_BATCH = 60, 40


def _write(store: Store, first: int) -> int:
    """Batches of large entries from seq `first`; the next seq."""
    seq = first
    for _ in range(BATCHES):
        store.append("g1-0001", seq, [e.Seated(seat=0, user=n, name="x" * 2000) for n in range(PER_BATCH)])
        seq += PER_BATCH
        store.flush()
    return seq


def _autocheckpoint(store: Store) -> int:
    assert store._conn is not None
    cursor = store._conn.connection.cursor()
    try:
        cursor.execute("PRAGMA wal_autocheckpoint")
        row = cursor.fetchone()
        assert row is not None
        return int(row[0])
    finally:
        cursor.close()


@pytest.fixture
def sqlite_engine(engine: Engine) -> Engine:
    if engine.dialect.name != "sqlite":
        assert not WalCheckpointer(engine).start(), "PostgreSQL checkpoints by itself"
        pytest.skip("SQLite's write-ahead log")
    return engine


def test_commits_leave_the_log_to_the_checkpointer_which_copies_it_back(sqlite_engine: Engine) -> None:
    store = owning_a_table(sqlite_engine)
    checkpoints = WalCheckpointer(sqlite_engine)
    busy, logged, copied = checkpoints.checkpoint() or (1, 0, 0)
    assert busy == 0 and logged == copied  # a clean start
    store.leave_checkpoints()
    assert _autocheckpoint(store) == 0
    seq = _write(store, 1)
    busy, logged, copied = checkpoints.checkpoint() or (1, 0, 0)
    assert logged > 1000, "no commit checkpointed: the log holds every batch since the start"
    assert busy == 0 and copied == logged
    _write(store, seq)
    again = checkpoints.checkpoint()
    assert again is not None and again[1] < logged * 1.5, "the log started again from its beginning"
    store.close()
    with sqlite_engine.connect() as conn:  # back in the pool, the connection checkpoints as others do
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000


def test_commits_that_keep_their_checkpoints_never_let_the_log_grow_that_long(sqlite_engine: Engine) -> None:
    store = owning_a_table(sqlite_engine)
    assert _autocheckpoint(store) == 1000
    _write(store, 1)
    checked = WalCheckpointer(sqlite_engine).checkpoint()
    assert checked is not None and checked[1] < 1000 + PER_BATCH * 2


def test_the_thread_checkpoints_by_itself_until_stopped(sqlite_engine: Engine) -> None:
    store = owning_a_table(sqlite_engine)
    store.leave_checkpoints()
    checkpoints = WalCheckpointer(sqlite_engine, interval=0.01)
    assert checkpoints.start()
    thread = checkpoints._thread
    assert thread is not None and thread.is_alive()
    assert not checkpoints.start(), "one thread"
    deadline = time.monotonic() + 10  # a bound, not a measurement: the thread runs every 10 ms
    while checkpoints.done < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    checkpoints.stop()
    assert checkpoints.done >= 2
    assert not thread.is_alive()
