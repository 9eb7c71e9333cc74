"""The store's group commit, written through the driver's cursor: what it writes reads back the same
through SQLAlchemy, statuses land, and a write the database refuses (a second writer of an entry) fails
the whole batch as StoreFailed, with nothing of it stored."""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy import Table, event, insert, inspect, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from common.models import FinishedGame, TableRecord
from gameserver import entries as e
from gameserver.store import Store, StoreFailed
from tests import dbs


def owning_a_table(engine: Engine) -> Store:
    """g1's store, with its table g1-0001 written."""
    store = Store(engine, owner="g1")
    store.create_table(id="g1-0001", server="g1", game="crazy_eights", seats=2, options={}, clock=None,
                       public=True, creator=1, seed="1", status="waiting", created=1.0)
    store.flush()
    return store


def logged(engine: Engine, owner: str = "g1") -> list[int]:
    """The seqs of the entries written for `owner`'s table, read back from the database."""
    return [seq for seq, _ in Store(engine).open_tables(owner)[0].entries]


def test_a_batch_reads_back_as_written_and_a_refused_one_leaves_nothing(engine: Engine) -> None:
    store = owning_a_table(engine)
    seated = [e.Seated(seat=0, user=1, name='ann "the" \\ ü'), e.Seated(seat=1, user=2, name="bob")]
    store.append("g1-0001", 1, seated)
    store.set_status("g1-0001", "playing")
    store.flush()
    stored = Store(engine).open_tables("g1")
    assert [entry for _, entry in stored[0].entries] == seated
    assert [seq for seq, _ in stored[0].entries] == [1, 2]
    with engine.connect() as conn:
        assert conn.execute(select(TableRecord.__table__.c.status)).scalar() == "playing"
    store.append("g1-0001", 3, [e.Seated(seat=0, user=3, name="cy")])
    store.append("g1-0001", 2, [e.Seated(seat=1, user=4, name="di")])  # seq 2 is written already
    with pytest.raises(StoreFailed):
        store.flush()
    assert len(Store(engine).open_tables("g1")[0].entries) == 2, "nothing of the refused batch"
    assert not store.dirty


def test_batches_share_one_connection_and_a_dead_one_is_replaced_with_nothing_lost(engine: Engine) -> None:
    checkouts: list[object] = []
    event.listen(engine, "checkout", lambda *args: checkouts.append(args))
    store = owning_a_table(engine)
    for seq in range(1, 6):
        store.append("g1-0001", seq, [e.Seated(seat=0, user=seq, name=f"p{seq}")])
        store.flush()
    assert len(checkouts) == 1, "one connection for every batch, not a check-out a pass"
    assert store._conn is not None
    store._conn.connection.dbapi_connection.close()  # type: ignore[union-attr]  # the database went away
    store.append("g1-0001", 6, [e.Seated(seat=1, user=6, name="p6")])
    store.flush()  # found dead at the first statement: written again on a new connection
    assert len(checkouts) == 2
    assert logged(engine) == [1, 2, 3, 4, 5, 6]
    store.close()
    assert store._conn is None


def test_a_connection_lost_in_its_commit_fails_the_batch_instead_of_writing_it_twice(engine: Engine) -> None:
    store = owning_a_table(engine)
    store.append("g1-0001", 1, [e.Seated(seat=0, user=1, name="ann")])
    store.flush()

    def lose_it(conn: Connection) -> None:
        conn.connection.dbapi_connection.close()  # type: ignore[union-attr]

    event.listen(engine, "commit", lose_it)
    store.append("g1-0001", 2, [e.Seated(seat=1, user=2, name="bob")])
    with pytest.raises(StoreFailed):
        store.flush()  # whether the commit happened is unknown: the server must not assume either way
    event.remove(engine, "commit", lose_it)
    assert logged(engine) == [1]
    store.append("g1-0001", 2, [e.Seated(seat=1, user=2, name="bob")])
    store.flush()  # and the next batch opens a new connection
    assert logged(engine) == [1, 2]


def _takeover(engine: Engine, table: str, wait_ms: int) -> int:
    """What a game server taking `table` over runs (gameserver.ownership), waiting at most `wait_ms`
    for locks; the rows it changed."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        try:
            with conn.begin():
                conn.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}" if sqlite
                                     else f"SET LOCAL lock_timeout = '{wait_ms}ms'")
                done = conn.execute(update(TableRecord).where(
                    TableRecord.id == table, TableRecord.owner == "g1",
                    TableRecord.epoch == 1).values(owner="g2", epoch=2))
                return int(done.rowcount)
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout=10000")
                conn.commit()


def test_the_fence_holds_a_takeover_off_until_the_batch_is_written_and_then_fences_it(engine: Engine) -> None:
    store = owning_a_table(engine)
    tried: list[str] = []
    fence = store._fence

    def fence_then_try_a_takeover(conn: Connection, tables: set[str]) -> None:
        fence(conn, tables)
        try:
            tried.append(f"took {_takeover(engine, 'g1-0001', 100)}")
        except OperationalError:
            tried.append("waited")  # the batch's transaction held it off

    store._fence = fence_then_try_a_takeover  # type: ignore[method-assign]
    store.append("g1-0001", 1, [e.Seated(seat=0, user=1, name="ann")])
    store.flush()
    assert tried == ["waited"]
    store._fence = fence  # type: ignore[method-assign]
    assert _takeover(engine, "g1-0001", 5000) == 1, "after the commit the takeover goes through"
    store.append("g1-0001", 2, [e.Seated(seat=1, user=2, name="bob")])
    store.flush()  # written by g1 at epoch 1 after g2 took the table: fenced, dropped
    assert store.take_fenced() == {"g1-0001"}
    assert store._conn is not None, "a fence leaves the connection to the next batch"
    assert logged(engine, "g2") == [1]


def test_a_connection_the_server_ended_is_replaced_before_the_batch(engine: Engine) -> None:
    """What a PostgreSQL restart or an administrator's kill does to the batches' connection: the next
    batch finds it dead at its first statement and is written on a new one (SQLite has no server)."""
    if dbs.backend() != "postgresql":
        pytest.skip("a server-side end of a connection is PostgreSQL's")
    store = owning_a_table(engine)
    assert store._conn is not None
    backend = store._conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    store._conn.commit()
    with engine.connect() as admin:
        assert admin.exec_driver_sql(f"SELECT pg_terminate_backend({int(backend)})").scalar()
    store.append("g1-0001", 1, [e.Seated(seat=0, user=1, name="ann")])
    store.flush()
    assert logged(engine) == [1]


def _plan(engine: Engine, sql: str, params: list[object]) -> str:
    """How the database would run `sql` (PostgreSQL: as for a large table, where a scan is no choice)."""
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
        rows = conn.exec_driver_sql(explain + sql, tuple(params)).fetchall()
    return "\n".join(str(row[-1]) for row in rows)


def test_the_fence_finds_its_tables_by_key_however_many_the_server_owned(engine: Engine) -> None:
    """A server keeps owning the tables it closed: a fence that read them all (by the owner's index, as
    SQLite plans `owner = ?`) would cost a pass more the longer the server ran. It reads the batch's rows
    by their key, and still fences exactly the tables taken over."""
    store = Store(engine, owner="g1")
    for n in range(1, 401):
        store.create_table(id=f"g1-{n:04}", server="g1", game="crazy_eights", seats=2, options={},
                           clock=None, public=True, creator=1, seed="1",
                           status="playing" if n <= 3 else "over", created=1.0)
    store.flush()
    sql = store._sql
    pairs = [("g1-0001", 1), ("g1-0002", 1), ("g1-0003", 1)]
    plans = [_plan(engine, sql.fence(3), [t for t, _ in pairs])]
    if sql.sqlite:
        plans.append(_plan(engine, sql.fence_update(3), sql.fence_update_params("g1", pairs)))
    for plan in plans:
        assert "ix_tables_owner" not in plan and "Seq Scan" not in plan and "SCAN tables" not in plan, plan
        assert "sqlite_autoindex_tables_1" in plan or "tables_pkey" in plan, plan
    assert _takeover(engine, "g1-0002", 5000) == 1
    for seq, table in enumerate(("g1-0001", "g1-0002", "g1-0003"), start=1):
        store.append(table, 1, [e.Seated(seat=0, user=seq, name=f"p{seq}")])
    store.flush()
    assert store.take_fenced() == {"g1-0002"}
    stored = {t.record.id: [seq for seq, _ in t.entries] for t in Store(engine).open_tables("g1")}
    assert stored == {"g1-0001": [1], "g1-0003": [1]}


def test_a_tables_log_has_one_index_by_table_and_its_reads_use_it(engine: Engine) -> None:
    """Every move writes a page of each index of the log: it has one by table, the unique
    `(table_id, seq)`, and reading a table's entries after a point (recovery, replays) is planned on it."""
    indexes = inspect(engine).get_indexes("table_actions")
    assert [ix["column_names"] for ix in indexes if ix["column_names"][:1] == ["table_id"]
            and not ix.get("unique")] == []
    unique = [c["column_names"] for c in inspect(engine).get_unique_constraints("table_actions")]
    assert unique == [["table_id", "seq"]]
    store = owning_a_table(engine)
    store.append("g1-0001", 1, [e.Seated(seat=0, user=1, name="ann"), e.Seated(seat=1, user=2, name="bob")])
    store.flush()
    plan = _plan(engine, "SELECT seq, entry FROM table_actions WHERE table_id = ? AND seq > ? ORDER BY seq"
                 if engine.dialect.name == "sqlite" else
                 "SELECT seq, entry FROM table_actions WHERE table_id = %s AND seq > %s ORDER BY seq",
                 ["g1-0001", 0])
    assert "sqlite_autoindex_table_actions_1" in plan or "table_actions_table_id_seq_key" in plan, plan
    assert "SCAN table_actions" not in plan and "Seq Scan" not in plan and "TEMP B-TREE" not in plan, plan
    assert logged(engine) == [1, 2]


def test_a_new_tables_row_is_what_sqlalchemys_insert_writes_defaults_and_all(engine: Engine) -> None:
    """The store writes a new table's row on the driver's cursor, each column it is not given with the
    model's default: the row reads back as the same record inserted through SQLAlchemy does."""
    tables = cast(Table, TableRecord.__table__)
    record = {"server": "g1", "game": "holdem", "seats": 6, "options": {"blinds": [1, 2], "ante": None},
              "clock": 12.5, "public": False, "creator": 7, "seed": "42", "status": "waiting",
              "created": 1.25, "spectator_delay": "hand", "policy": {"sit_out": 3}}
    for fields in (record, {k: v for k, v in record.items()  # the defaults too
                            if k not in ("options", "clock", "public", "spectator_delay", "policy")}):
        store = Store(engine, owner="g1")
        store.create_table(id="g1-0001", **fields)
        store.flush()
        with engine.begin() as conn:
            conn.execute(insert(tables), [{"id": "g1-0002", **fields, "owner": "g1", "epoch": 1}])
            rows = {row.id: row._asdict() for row in conn.execute(select(tables))}
            conn.execute(tables.delete())
        store.close()
        ours, theirs = rows.pop("g1-0001"), rows.pop("g1-0002")
        ours.pop("id"), theirs.pop("id")
        assert ours == theirs
        assert ours["handover"] == {} and ours["roster"] is None and ours["epoch"] == 1


def test_a_record_with_a_field_the_database_has_no_column_for_fails_its_whole_batch(engine: Engine) -> None:
    store = owning_a_table(engine)
    store.append("g1-0001", 1, [e.Seated(seat=0, user=1, name="ann")])
    store.finish(None, table_id="g1-0001", game="crazy_eights", players=[], scores=[], winners=[],
                 actions=[], game_id="g1-0001:1", colour="red")
    with pytest.raises(StoreFailed, match="colour"):
        store.flush()
    store.create_table(id="g1-0002", server="g1", game="crazy_eights", seats=2, creator=1, seed="1",
                       status="waiting", created=1.0, colour="red")
    with pytest.raises(StoreFailed, match="colour"):
        store.flush()
    assert logged(engine) == [], "nothing of either batch"
    with engine.connect() as conn:
        assert [r.id for r in conn.execute(select(TableRecord.__table__.c.id))] == ["g1-0001"]
    store.append("g1-0001", 1, [e.Seated(seat=0, user=1, name="ann")])
    store.flush()  # and the store writes the next batch
    assert logged(engine) == [1]


def test_a_finished_games_record_is_what_sqlalchemys_insert_writes_defaults_and_all(engine: Engine) -> None:
    finished = cast(Table, FinishedGame.__table__)
    record = {"table_id": "g1-0001", "game": "hearts", "players": [{"seat": 0, "user": 1, "name": "ann"}],
              "scores": [3, 26], "winners": [0], "actions": [{"seat": 0, "card": "2C"}], "finished": 2.5}
    store = owning_a_table(engine)
    store.finish(None, **record, game_id="g1-0001:1")
    store.flush()
    with engine.begin() as conn:
        conn.execute(insert(finished), [{**record, "game_id": "g1-0001:2"}])
        rows = {row.game_id: row._asdict() for row in conn.execute(select(finished))}
    ours, theirs = rows["g1-0001:1"], rows["g1-0001:2"]
    for row in (ours, theirs):
        row.pop("id"), row.pop("game_id")
    assert ours == theirs
    assert ours["detail"] == {} and ours["public"] is True and ours["rated"] is False
    assert ours["replay"] is None
