"""The chip ledger (gameserver/store.py) raced by several writers at once, on the run's database.

Each writer is a `Store` on an engine of its own (its own connections, as a game server process has),
on a thread; a barrier lets them all go at once, many rounds over. On SQLite and on PostgreSQL alike:
a balance is never overdrawn, exactly as many buy-ins succeed as it can pay, the refused ones write
nothing, and concurrent credits and debits lose no chip.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from common.db import make_engine
from common.models import House, TableAction, TableRecord, User
from gameserver import entries as e
from gameserver.store import InsufficientChips, Store
from tests import dbs

WRITERS = 6
ROUNDS = 8
_users, _house, _actions = User.__table__, House.__table__, TableAction.__table__


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[list[Engine]]:
    """One engine per writer, plus one (the last) to set up and read with; all disposed at the end."""
    url = dbs.database_url(tmp_path)
    made = [make_engine(url) for _ in range(WRITERS + 1)]
    with made[-1].begin() as conn:
        conn.execute(insert(User), [{"id": u, "username": f"u{u}", "display_name": f"u{u}",
                                     "password_hash": "x", "chips": 0} for u in range(1, 3)])
        conn.execute(insert(TableRecord), [{"id": f"t{w}", "server": "g1", "game": "holdem", "seats": 9,
                                            "creator": 1, "seed": "s"} for w in range(WRITERS)])
    yield made
    for engine in made:
        engine.dispose()


def race(work: Callable[[int], None]) -> list[BaseException]:
    """`work(writer)` on WRITERS threads released together; the exceptions they raised."""
    gate = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def run(writer: int) -> None:
        gate.wait(timeout=30)
        try:
            work(writer)
        except BaseException as exc:  # noqa: BLE001 - collected for the test to inspect
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return failures


def buy_in(user: int, amount: int) -> e.Seated:
    return e.Seated(seat=0, user=user, name=f"u{user}", stack=amount)


def chips(engine: Engine, user: int) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(_users.c.chips).where(_users.c.id == user)).scalar_one())


def test_racing_buy_ins_never_overdraw_and_exactly_the_affordable_ones_succeed(engines: list[Engine]) -> None:
    reader = engines[-1]
    stores = [Store(engine) for engine in engines[:WRITERS]]
    seq = [1] * WRITERS
    for round_ in range(ROUNDS):
        balance = 1000 * (round_ % 4)  # 0 to 3 of the 6 buy-ins can be paid
        with reader.begin() as conn:
            conn.execute(update(User).where(_users.c.id == 1).values(chips=balance))
        won: list[int] = []

        def debit(writer: int, won: list[int] = won) -> None:
            stores[writer].commit_debit(f"t{writer}", seq[writer], [buy_in(1, 1000)])
            won.append(writer)
            seq[writer] += 1

        failures = race(debit)
        assert all(isinstance(f, InsufficientChips) for f in failures), failures
        assert len(won) == balance // 1000 and len(failures) == WRITERS - len(won), round_
        assert chips(reader, 1) == balance - 1000 * len(won) >= 0
    with reader.connect() as conn:  # a refused buy-in wrote no log entry
        assert conn.execute(select(func.count()).select_from(_actions)).scalar() == sum(seq) - WRITERS


def test_racing_credits_and_debits_lose_no_chip(engines: list[Engine]) -> None:
    """Cash-outs (batched, unconditional) and buy-ins (conditional) of one user from every writer."""
    reader = engines[-1]
    stores = [Store(engine) for engine in engines[:WRITERS]]
    start = 5000
    with reader.begin() as conn:
        conn.execute(update(User).where(_users.c.id == 2).values(chips=start))
    seq = [1] * WRITERS
    paid: list[int] = []

    def traffic(writer: int) -> None:
        store = stores[writer]
        for _ in range(ROUNDS):
            if writer % 2:
                store.append(f"t{writer}", seq[writer], [e.Unseated(seat=0, user=2, cashout=300)])
                store.flush()
                paid.append(300)
            else:
                try:
                    store.commit_debit(f"t{writer}", seq[writer], [buy_in(2, 700)])
                    paid.append(-700)
                except InsufficientChips:
                    pass
            seq[writer] += 1

    assert race(traffic) == []
    assert chips(reader, 2) == start + sum(paid) >= 0


def test_racing_house_moves_add_up(engines: list[Engine]) -> None:
    """The house's row is one hot row every server's bots move chips through."""
    reader = engines[-1]
    stores = [Store(engine) for engine in engines[:WRITERS]]
    seq = [1] * WRITERS

    def bots(writer: int) -> None:
        for _ in range(ROUNDS):
            stores[writer].append(f"t{writer}", seq[writer], [e.Unseated(seat=0, user=e.HOUSE, cashout=10)])
            stores[writer].flush()
            seq[writer] += 1

    assert race(bots) == []
    with reader.connect() as conn:
        assert conn.execute(select(_house.c.chips)).scalar() == 10 * WRITERS * ROUNDS
