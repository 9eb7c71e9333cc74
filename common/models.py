"""The SQL schema (SQLAlchemy 2 ORM): the tables every tier shares.

Owns: users and their chips, tables and their append-only action logs (with the secret seed, which never
leaves the game server tier), finished-game records (with their replays and who sat there), ratings and
their history, chat lines, revocations, the registry of live processes, the admins' audit log (which
also queues their table commands for the game servers), and the frontend's rate-limit counters. Engines
come from `common.db`; the schema's versions (Alembic migrations) from `common.schema`: a change here
needs a migration (`scripts/ctl migrate revision -m "what changed"`), and
tests/unit/common/test_schema.py fails until the migrations build exactly these tables.

Column limits are checked in Python, before any database sees a value (`Text`, `Int`, `BigInt`): SQLite
would store an over-long string or a NUL character that PostgreSQL refuses, so both refuse it alike,
with the same error (a `ValueError`, raised by SQLAlchemy as a `StatementError`).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, UniqueConstraint
from sqlalchemy import BigInteger as _BigInteger
from sqlalchemy import Integer as _Integer
from sqlalchemy import String as _String
from sqlalchemy import Text as _Text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator, TypeEngine

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


class String(TypeDecorator[str]):
    """VARCHAR(n), with the limit and the absence of NUL (PostgreSQL stores none) checked in Python."""

    impl = _String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.limit = length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is not None:
            if len(value) > self.limit:
                raise ValueError(f"{len(value)} characters where at most {self.limit} fit: {value[:40]!r}…")
            if "\x00" in value:
                raise ValueError("a NUL character, which PostgreSQL cannot store")
        return value


class Text(TypeDecorator[str]):
    """TEXT, with NUL refused in Python (PostgreSQL cannot store it; SQLite would)."""

    impl = _Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("a NUL character, which PostgreSQL cannot store")
        return value


class _Bounded(TypeDecorator[int]):
    impl: TypeEngine[int] | type[TypeEngine[int]] = _Integer
    cache_ok = True
    bounds = INT32

    def process_bind_param(self, value: int | None, dialect: Dialect) -> int | None:
        if value is not None and not self.bounds[0] <= value <= self.bounds[1]:
            raise ValueError(f"{value} is out of range for a {self.impl_instance} column")
        return value


class Int(_Bounded):
    """INTEGER (32 bits on PostgreSQL), range-checked in Python: SQLite would take 64 bits."""

    cache_ok = True


class BigInt(_Bounded):
    """BIGINT, range-checked in Python (both databases hold 64 bits; the error is then the same)."""

    impl = _BigInteger
    cache_ok = True
    bounds = INT64


#: A surrogate key of a log that grows without end: BIGINT on PostgreSQL; INTEGER on SQLite, where only
#: an INTEGER PRIMARY KEY is the 64-bit rowid.
LogId = _BigInteger().with_variant(_Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(_Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(256))
    chips: Mapped[int] = mapped_column(BigInt, default=0)
    created: Mapped[float] = mapped_column(Float, default=time.time)
    #: May open the admin console (`python -m frontend.cli set-admin NAME`); nobody is by default.
    admin: Mapped[bool] = mapped_column(Boolean, default=False)


class Revocation(Base):
    """A user's sessions and realtime tokens issued before `not_before` (epoch s) are void: set at logout
    and password change. The frontend checks it on every request, game servers on every relayed request
    (and poll it to close live connections)."""

    __tablename__ = "revocations"

    user_id: Mapped[int] = mapped_column(_Integer, primary_key=True)
    not_before: Mapped[float] = mapped_column(Float, index=True)


class TableRecord(Base):
    """A table as its game server created it; `seed` is secret and read only by game servers."""

    __tablename__ = "tables"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    server: Mapped[str] = mapped_column(String(40), index=True)  # the game server that created it
    #: The game server serving it now, and since which hand-over (`gameserver.ownership`): every write
    #: for the table is fenced by both.
    owner: Mapped[str] = mapped_column(String(40), index=True, default="")
    epoch: Mapped[int] = mapped_column(Int, default=1)
    #: What a hand-over carries besides the log (the turn clock's time left), for the next owner.
    handover: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    game: Mapped[str] = mapped_column(String(40))
    seats: Mapped[int] = mapped_column(Int)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    clock: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: The table's policy for time and absence (`common.policy.TablePolicy`); {}: the defaults.
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Its finished games change ratings (`common.ratings`): by default, public tables are rated.
    rated: Mapped[bool] = mapped_column(Boolean, default=True)
    #: How late spectators see it (gameserver/spectating.py): seconds (0: live), or "hand".
    spectator_delay: Mapped[float | str] = mapped_column(JSON, default=0)
    creator: Mapped[int] = mapped_column(Int)
    seed: Mapped[str] = mapped_column(String(80))
    #: A private table's invite code (secret like the seed: only its creator's view carries it); "" for a
    #: public table.
    invite: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    created: Mapped[float] = mapped_column(Float, default=time.time)
    #: Who sits and how many watch, for the admin console: {"seats": [{"user", "name", "bot", "stack",
    #: "away"} | None], "spectators": n}, written by the owning game server at a heartbeat when it changed.
    roster: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class TableAction(Base):
    """One entry of a table's append-only log (`gameserver.entries`): a seat change, a deal, a move.

    (table_id, seq) is unique: a second writer of the same entry fails instead of forking the log. Its
    index is the log's only one by table (a second on `table_id` alone cost every move a page write)."""

    __tablename__ = "table_actions"
    __table_args__ = (UniqueConstraint("table_id", "seq"),)

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    table_id: Mapped[str] = mapped_column(ForeignKey("tables.id"))
    seq: Mapped[int] = mapped_column(Int)
    epoch: Mapped[int] = mapped_column(Int, default=0)  # the owner's epoch that wrote it
    entry: Mapped[dict[str, Any]] = mapped_column(JSON)
    ts: Mapped[float] = mapped_column(Float, default=time.time)


class TableSnapshot(Base):
    """A table's whole state after entry `seq` (`gameserver.engine.snapshot`); secret like the seed.

    Recovery and replay start from the latest one and fold only the entries after it."""

    __tablename__ = "table_snapshots"

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    table_id: Mapped[str] = mapped_column(ForeignKey("tables.id"), index=True)
    seq: Mapped[int] = mapped_column(Int)
    format: Mapped[int] = mapped_column(Int)
    state: Mapped[str] = mapped_column(Text)
    ts: Mapped[float] = mapped_column(Float, default=time.time)


class House(Base):
    """The house's chips: bots buy in from it and cash out to it, so every chip stays accounted for."""

    __tablename__ = "house"

    id: Mapped[int] = mapped_column(_Integer, primary_key=True)
    chips: Mapped[int] = mapped_column(BigInt, default=0)


class FinishedGame(Base):
    """A completed game: who played, the scores, and the full action log (public record, no seed)."""

    __tablename__ = "finished_games"
    __table_args__ = (Index("ix_finished_games_game_id", "game_id", unique=True),)

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    table_id: Mapped[str] = mapped_column(String(40), index=True)
    game: Mapped[str] = mapped_column(String(40))
    players: Mapped[list[Any]] = mapped_column(JSON)  # [{"seat", "user", "name", "bot"}]
    scores: Mapped[list[int]] = mapped_column(JSON)
    winners: Mapped[list[int]] = mapped_column(JSON)
    actions: Mapped[list[Any]] = mapped_column(JSON)  # the game's `act` log entries, in order
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # e.g. board, shown hands, payouts
    finished: Mapped[float] = mapped_column(Float, default=time.time)
    #: "<table>:<seq of its deal>" (`common.history.game_id`): one game, however often it is recovered.
    game_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    public: Mapped[bool] = mapped_column(Boolean, default=True)  # whether spectators may see its replay
    rated: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What every viewer saw at each step (`common.history.pack`); handed out per viewer only.
    replay: Mapped[str | None] = mapped_column(Text, nullable=True)


class GamePlayer(Base):
    """A person's seat in a finished game, for their history and profile (bots have none)."""

    __tablename__ = "game_players"
    __table_args__ = (Index("ix_game_players_user_finished", "user_id", "finished"),)

    game_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    seat: Mapped[int] = mapped_column(Int, primary_key=True)
    user_id: Mapped[int] = mapped_column(Int)
    game: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(BigInt, default=0)
    place: Mapped[int] = mapped_column(Int, default=0)  # 1 = first (ties share a place)
    pot: Mapped[int] = mapped_column(BigInt, default=0)  # Hold'em: the chips this hand paid them
    moons: Mapped[int] = mapped_column(Int, default=0)  # Hearts: deals they shot the moon
    finished: Mapped[float] = mapped_column(Float, default=time.time)


class Rating(Base):
    """A player's current OpenSkill rating in one game (`common.ratings`); `ordinal` = mu - 3 sigma."""

    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_game_ordinal", "game", "ordinal"),)

    game: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(Int, primary_key=True)
    mu: Mapped[float] = mapped_column(Float)
    sigma: Mapped[float] = mapped_column(Float)
    ordinal: Mapped[float] = mapped_column(Float)
    games: Mapped[int] = mapped_column(Int, default=0)
    updated: Mapped[float] = mapped_column(Float, default=time.time)


class RatingChange(Base):
    """One rated game's change of one player's rating; (game_id, user_id) is unique, so a game is never
    rated twice."""

    __tablename__ = "rating_history"
    __table_args__ = (UniqueConstraint("game_id", "user_id"),
                      Index("ix_rating_history_user_game_ts", "user_id", "game", "ts"))

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    game_id: Mapped[str] = mapped_column(String(60))
    game: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = mapped_column(Int)
    place: Mapped[int] = mapped_column(Int)
    mu_before: Mapped[float] = mapped_column(Float)
    sigma_before: Mapped[float] = mapped_column(Float)
    mu: Mapped[float] = mapped_column(Float)
    sigma: Mapped[float] = mapped_column(Float)
    ts: Mapped[float] = mapped_column(Float, default=time.time)


class ServerRecord(Base):
    """A process of Felt in the live registry (`common.registry`): its lease, load and state."""

    __tablename__ = "servers"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    endpoint: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[str] = mapped_column(String(64), default="")
    boot: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40))
    capacity: Mapped[int] = mapped_column(Int, default=0)
    load: Mapped[int] = mapped_column(Int, default=0)
    #: Game servers: entries their tables' logs gained per second over the last heartbeat (moves, mostly).
    rate: Mapped[float] = mapped_column(Float, default=0.0)
    state: Mapped[str] = mapped_column(String(16))
    started: Mapped[float] = mapped_column(Float)
    renewed: Mapped[float] = mapped_column(Float)
    lease_until: Mapped[float] = mapped_column(Float)


class AuditRecord(Base):
    """One admin action (`common.audit`): who did what to which server, table or player, why, and how it
    ended. Table commands (close, kick) wait here as `pending` until the table's game server claims one
    (`running`, a conditional UPDATE: exactly one claimant) and carries it out (`done` or `failed`)."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    ts: Mapped[float] = mapped_column(Float, default=time.time, index=True)
    admin: Mapped[int] = mapped_column(Int)  # the admin's user id
    admin_name: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))  # drain | undrain | close_table | kick
    target: Mapped[str] = mapped_column(String(40))  # a server name or a table id
    user: Mapped[int | None] = mapped_column(Int, nullable=True)  # kick: the player
    user_name: Mapped[str] = mapped_column(String(32), default="")
    reason: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | running | done | failed
    result: Mapped[str] = mapped_column(String(300), default="")
    claimed_by: Mapped[str] = mapped_column(String(40), default="")
    claimed_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    done_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class ChatRecord(Base):
    __tablename__ = "chat"

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    table_id: Mapped[str] = mapped_column(String(40), index=True)
    user: Mapped[int] = mapped_column(Int)
    name: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    ts: Mapped[float] = mapped_column(Float, default=time.time)


class RateCount(Base):
    """One fixed-window rate-limit counter of the frontend (`frontend.rate_store`), shared by every worker
    and frontend host: the key is a hash (no address or account name is stored), `expires` an epoch."""

    __tablename__ = "rate_counts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Int, default=0)
    expires: Mapped[float] = mapped_column(Float, index=True)


def session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)
