"""The SQL schema (SQLAlchemy 2 ORM) and how every tier opens the database.

Owns: users and their chips, tables and their append-only action logs (with the secret seed, which never
leaves the game server tier), finished-game records, chat lines, the registry of live processes. SQLite
by default, in WAL mode so the frontend and several game servers can share it; any SQLAlchemy URL
(PostgreSQL) works the same way.
"""

from __future__ import annotations

import time
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(256))
    chips: Mapped[int] = mapped_column(BigInteger, default=0)
    created: Mapped[float] = mapped_column(Float, default=time.time)


class Revocation(Base):
    """A user's sessions and realtime tokens issued before `not_before` (epoch s) are void: set at logout
    and password change. The frontend checks it on every request, game servers on every relayed request
    (and poll it to close live connections). Its own table, so existing databases gain it at start."""

    __tablename__ = "revocations"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    not_before: Mapped[float] = mapped_column(Float, index=True)


class TableRecord(Base):
    """A table as its game server created it; `seed` is secret and read only by game servers."""

    __tablename__ = "tables"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    server: Mapped[str] = mapped_column(String(40), index=True)  # the game server that created it
    #: The game server serving it now, and since which hand-over (`gameserver.ownership`): every write
    #: for the table is fenced by both.
    owner: Mapped[str] = mapped_column(String(40), index=True, default="")
    epoch: Mapped[int] = mapped_column(Integer, default=1)
    #: What a hand-over carries besides the log (the turn clock's time left), for the next owner.
    handover: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    game: Mapped[str] = mapped_column(String(40))
    seats: Mapped[int] = mapped_column(Integer)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    clock: Mapped[float | None] = mapped_column(Float, nullable=True)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    creator: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    created: Mapped[float] = mapped_column(Float, default=time.time)


class TableAction(Base):
    """One entry of a table's append-only log (`gameserver.entries`): a seat change, a deal, a move.

    (table_id, seq) is unique: a second writer of the same entry fails instead of forking the log."""

    __tablename__ = "table_actions"
    __table_args__ = (UniqueConstraint("table_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    table_id: Mapped[str] = mapped_column(ForeignKey("tables.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    epoch: Mapped[int] = mapped_column(Integer, default=0)  # the owner's epoch that wrote it
    entry: Mapped[dict[str, Any]] = mapped_column(JSON)
    ts: Mapped[float] = mapped_column(Float, default=time.time)


class TableSnapshot(Base):
    """A table's whole state after entry `seq` (`gameserver.engine.snapshot`); secret like the seed.

    Recovery and replay start from the latest one and fold only the entries after it."""

    __tablename__ = "table_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    table_id: Mapped[str] = mapped_column(ForeignKey("tables.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    format: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(Text)
    ts: Mapped[float] = mapped_column(Float, default=time.time)


class House(Base):
    """The house's chips: bots buy in from it and cash out to it, so every chip stays accounted for."""

    __tablename__ = "house"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chips: Mapped[int] = mapped_column(BigInteger, default=0)


class FinishedGame(Base):
    """A completed game: who played, the scores, and the full action log (public record, no seed)."""

    __tablename__ = "finished_games"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    table_id: Mapped[str] = mapped_column(String(40), index=True)
    game: Mapped[str] = mapped_column(String(40))
    players: Mapped[list[Any]] = mapped_column(JSON)  # [{"seat", "user", "name", "bot"}]
    scores: Mapped[list[int]] = mapped_column(JSON)
    winners: Mapped[list[int]] = mapped_column(JSON)
    actions: Mapped[list[Any]] = mapped_column(JSON)  # the game's `act` log entries, in order
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # e.g. board, shown hands, payouts
    finished: Mapped[float] = mapped_column(Float, default=time.time)


class ServerRecord(Base):
    """A process of Felt in the live registry (`common.registry`): its lease, load and state."""

    __tablename__ = "servers"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    endpoint: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[str] = mapped_column(String(64), default="")
    boot: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40))
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    load: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16))
    started: Mapped[float] = mapped_column(Float)
    renewed: Mapped[float] = mapped_column(Float)
    lease_until: Mapped[float] = mapped_column(Float)


class ChatRecord(Base):
    __tablename__ = "chat"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    table_id: Mapped[str] = mapped_column(String(40), index=True)
    user: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    ts: Mapped[float] = mapped_column(Float, default=time.time)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so several processes can share it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def init_db(url: str) -> Engine:
    """Create the schema if missing and return the engine."""
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            house = cast(Table, House.__table__)
            if conn.execute(house.select()).first() is None:
                conn.execute(house.insert().values(id=1, chips=0))
    except IntegrityError:
        pass  # another process starting at the same moment made it
    return engine


def session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)
