"""The schema's versions (common/schema.py) on the run's database (SQLite, or PostgreSQL: tests/dbs.py).

The migrations must build exactly `common.models`: a model changed without a migration fails here, with
the command that writes one. A database at any other revision is refused with a message saying what to
do, and column limits hold before the database sees a value, the same on both databases.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Table, insert, inspect, select, text
from sqlalchemy.exc import StatementError

from common import schema
from common.db import make_engine
from common.models import INT32, Base, ChatRecord, House, Int, String, TableRecord, User
from tests import dbs


def test_the_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    url = dbs.empty_database_url(tmp_path)
    assert schema.migrate(url) == (None, schema.head())
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
            house = conn.execute(select(House.__table__.c.id, House.__table__.c.chips)).all()
    finally:
        engine.dispose()
    assert differences == [], ("common/models.py differs from the migrations: write one with "
                               "`scripts/ctl migrate revision -m 'what changed'` and read it")
    assert [tuple(row) for row in house] == [(1, 0)]  # the house's row comes with the schema


def test_the_migrations_are_one_line_with_one_head() -> None:
    assert len(schema.heads()) == 1
    files = sorted(p.name for p in (schema.MIGRATIONS / "versions").glob("v[0-9]*.py"))
    assert files[0] == "v0001_initial.py" and len({name[:5] for name in files}) == len(files)


def test_migrating_again_changes_nothing(tmp_path: Path) -> None:
    url = dbs.database_url(tmp_path)
    assert schema.migrate(url) == (schema.head(), schema.head())


def test_a_database_made_before_migrations_is_taken_over(tmp_path: Path) -> None:
    """What `create_all` made (scripts/run before migrations, with the registry's code: revision 0002's
    tables and no version table) is marked as that revision and upgraded from there."""
    url = dbs.empty_database_url(tmp_path)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(schema.config(conn), schema.REGISTRY)
            conn.execute(text("DROP TABLE alembic_version"))
            conn.execute(text("INSERT INTO users (id, username, display_name, password_hash, chips, created) "
                              "VALUES (7, 'old', 'old', 'x', 5, 0.0)"))
        assert schema.migrate(url) == ("none", schema.head())
        schema.check(engine)
        with engine.connect() as conn:
            assert conn.execute(select(User.__table__.c.chips)).scalar() == 5  # nothing lost
    finally:
        engine.dispose()


def test_an_empty_database_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(schema.SchemaMismatch, match=r"no Felt schema version.*run `scripts/ctl migrate`"):
        schema.open_db(dbs.empty_database_url(tmp_path))


def test_a_revision_this_code_does_not_know_is_refused(tmp_path: Path) -> None:
    url = dbs.database_url(tmp_path)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
        with pytest.raises(schema.SchemaMismatch, match="0999, which this Felt does not know"):
            schema.open_db(url)
        with pytest.raises(schema.SchemaMismatch, match="0999, which this Felt does not know"):
            schema.migrate(url)  # nor does it migrate what it does not know
    finally:
        engine.dispose()


def test_an_older_revision_is_refused_until_migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This code is made to want a revision after the newest there is."""
    url = dbs.database_url(tmp_path)
    have = schema.head()
    want = f"{int(have) + 1:04d}"
    monkeypatch.setattr(schema, "head", lambda: want)
    with pytest.raises(schema.SchemaMismatch, match=f"at schema revision {have}, this Felt needs {want}: run "
                                                    "`scripts/ctl migrate`"):
        schema.open_db(url)


def test_the_password_never_appears_in_a_refusal(tmp_path: Path) -> None:
    url = dbs.empty_database_url(tmp_path)
    with pytest.raises(schema.SchemaMismatch) as refused:
        schema.open_db(url)
    password = make_engine(url).url.password
    assert not password or str(password) not in str(refused.value)


@pytest.mark.parametrize(("table", "row", "problem"), [
    (User, {"username": "u" * 33, "display_name": "x", "password_hash": "x"}, "33 characters where at most"),
    (User, {"username": "nul\x00", "display_name": "x", "password_hash": "x"}, "NUL"),
    (User, {"username": "big", "display_name": "x", "password_hash": "x", "chips": 2**63}, "out of range"),
    (ChatRecord, {"table_id": "g1-1", "user": 1, "name": "a", "text": "a\x00b"}, "NUL"),
    (ChatRecord, {"table_id": "g1-1", "user": INT32[1] + 1, "name": "a", "text": "hi"}, "out of range"),
    (TableRecord, {"id": "g" * 41, "server": "g1", "game": "hearts", "seats": 4, "creator": 1, "seed": "s"},
     "41 characters where at most 40"),
])
def test_column_limits_hold_before_the_database_sees_a_value(tmp_path: Path, table: type[Base],
                                                             row: dict[str, object], problem: str) -> None:
    engine = make_engine(dbs.database_url(tmp_path))
    try:
        with pytest.raises(StatementError, match=problem) as refused, engine.begin() as conn:
            conn.execute(insert(table).values(**row))
        assert isinstance(refused.value.orig, ValueError)  # refused in Python, not by the database
        with engine.connect() as conn:
            assert conn.execute(select(table.__table__).limit(1)).first() is None
    finally:
        engine.dispose()


def test_values_at_the_limits_are_stored(tmp_path: Path) -> None:
    engine = make_engine(dbs.database_url(tmp_path))
    try:
        with engine.begin() as conn:
            conn.execute(insert(User).values(username="u" * 32, display_name="é" * 32, password_hash="x",
                                             chips=2**63 - 1))
        with engine.connect() as conn:
            assert conn.execute(select(User.__table__.c.display_name, User.__table__.c.chips)).one() == (
                "é" * 32, 2**63 - 1)
    finally:
        engine.dispose()


def test_a_new_migration_is_written_from_a_model_change_and_applies(tmp_path: Path) -> None:
    """What `scripts/ctl migrate revision -m ...` does, on a copy of the migrations: a table added to
    the models becomes the next revision, written with plain SQLAlchemy types, and migrating to it leaves no
    difference between the database and the models."""
    location = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, location, ignore=shutil.ignore_patterns("__pycache__"))
    probe = Table("lease_probe", Base.metadata, Column("table_id", String(40), primary_key=True),
                  Column("epoch", Int, nullable=False))
    last = schema.head()
    number = f"{int(last) + 1:04d}"
    try:
        path = Path(schema.new_revision("add lease probe", location=location))
        assert path.name == f"v{number}_add_lease_probe.py"
        written = path.read_text()
        assert "op.create_table('lease_probe'" in written and "sa.String(length=40)" in written
        assert "common.models" not in written and f"down_revision = '{last}'" in written
        url = dbs.empty_database_url(tmp_path)
        assert schema.migrate(url, location) == (None, number)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                assert compare_metadata(context, Base.metadata) == []
        finally:
            engine.dispose()
    finally:
        Base.metadata.remove(probe)


def test_tables_from_before_the_registry_belong_to_their_creator_after_migrating(tmp_path: Path) -> None:
    """0001 -> 0002 on a database with a live table and its log: the table is its creating server's, at
    epoch 1, with nothing handed over, and its entries keep their place."""
    from alembic import command

    url = dbs.empty_database_url(tmp_path)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(schema.config(conn), schema.INITIAL)
            conn.execute(text("INSERT INTO tables (id, server, game, seats, options, public, creator, seed, "
                              "status, created) VALUES ('g2-0001', 'g2', 'hearts', 4, '{}', TRUE, 1, 's', "
                              "'playing', 0)"))
            conn.execute(text("INSERT INTO table_actions (table_id, seq, entry, ts) VALUES "
                              "('g2-0001', 1, '{\"t\": \"start\"}', 0)"))
        assert schema.migrate(url) == (schema.INITIAL, schema.head())
        with engine.connect() as conn:
            tables = TableRecord.__table__
            row = conn.execute(select(tables).where(tables.c.id == "g2-0001")).one()
            assert (row.owner, row.epoch, row.handover) == ("g2", 1, {})
            assert conn.execute(text("SELECT seq, epoch FROM table_actions")).all() == [(1, 0)]
    finally:
        engine.dispose()


def test_a_tables_log_keeps_its_entries_and_loses_only_its_second_index_across_0009(tmp_path: Path) -> None:
    """0009 drops the log's index on `table_id` alone (its unique `(table_id, seq)` serves every lookup
    by table); a log written before it reads back whole, and going back down restores the index."""
    url = dbs.empty_database_url(tmp_path)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(schema.config(conn), "0008")
            conn.execute(text("INSERT INTO tables (id, server, game, seats, options, public, creator, seed, "
                              "status, created, owner, epoch) VALUES ('g1-0001', 'g1', 'crazy_eights', 2, "
                              "'{}', true, 1, '1', 'playing', 1.0, 'g1', 1)"))
            for seq in (1, 2, 3):
                conn.execute(text("INSERT INTO table_actions (table_id, seq, epoch, entry, ts) VALUES "
                                  "('g1-0001', :seq, 1, '{}', 1.0)"), {"seq": seq})

        def by_table() -> list[str | None]:
            with engine.connect() as conn:
                found = inspect(conn).get_indexes("table_actions")
            return [ix["name"] for ix in found if ix["column_names"] == ["table_id"]]

        assert by_table() == ["ix_table_actions_table_id"]
        with engine.begin() as conn:
            command.upgrade(schema.config(conn), "0009")
        assert by_table() == []
        with engine.connect() as conn:
            seqs = conn.execute(text("SELECT seq FROM table_actions WHERE table_id = 'g1-0001' ORDER BY seq"))
            assert [row[0] for row in seqs] == [1, 2, 3]
        with engine.begin() as conn:
            command.downgrade(schema.config(conn), "0008")
        assert by_table() == ["ix_table_actions_table_id"]
    finally:
        engine.dispose()
