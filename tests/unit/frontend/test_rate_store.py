"""The frontend's rate-limit counters in the database (frontend/rate_store.py), on the run's database.

Windows count up and start over when they lapse (by an injected clock); concurrent increments lose
nothing; keys are stored hashed; two apps on one database (two gunicorn workers, or two frontend hosts)
hold a login's account limit together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Engine

from common.models import RateCount
from frontend.rate_store import PRUNE_EVERY, DatabaseStorage

from .conftest import csrf_token


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now



def test_a_window_counts_up_and_starts_over_when_it_lapses(engine: Engine) -> None:
    clock = Clock()
    store = DatabaseStorage(engine=engine, clock=clock)
    assert store.get("k") == 0 and store.get_expiry("k") == clock.now
    assert [store.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert store.incr("k", 60, amount=2) == 5 and store.get("k") == 5
    assert store.get_expiry("k") == clock.now + 60
    assert store.get("other") == 0
    clock.now += 59.9
    assert store.incr("k", 60) == 6  # the window set by the first increment still holds
    clock.now += 0.1
    assert store.get("k") == 0  # ended
    assert store.incr("k", 60) == 1 and store.get_expiry("k") == clock.now + 60
    store.clear("k")
    assert store.get("k") == 0 and store.check()


def test_keys_are_stored_as_digests_and_ended_windows_are_pruned(engine: Engine) -> None:
    clock = Clock()
    store = DatabaseStorage(engine=engine, clock=clock)
    store.incr("LIMITER/127.0.0.9/account:alice", 60)
    for i in range(PRUNE_EVERY - 2):
        store.incr(f"short{i}", 1)
    with engine.connect() as connection:
        keys = connection.execute(select(RateCount.key)).scalars().all()
    assert len(keys) == PRUNE_EVERY - 1 and all(len(k) == 64 and "alice" not in k for k in keys)
    clock.now += 2
    store.incr("late", 60)  # the PRUNE_EVERY-th increment deletes what has ended
    with engine.connect() as connection:
        left = connection.execute(select(RateCount.key)).scalars().all()
    assert len(left) == 2 and store.get("LIMITER/127.0.0.9/account:alice") == 1
    assert store.reset() == 2 and store.get("late") == 0


def test_concurrent_increments_lose_no_count(engine: Engine) -> None:
    store = DatabaseStorage(engine=engine)
    seen: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        mine = [store.incr("shared", 600) for _ in range(40)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("shared") == 240
    assert sorted(seen) == list(range(1, 241))  # every increment saw its own count: none was lost


def test_an_unknown_database_or_no_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="engine"):
        DatabaseStorage()


def test_two_apps_on_one_database_share_an_accounts_failures(make_app: Callable[..., Flask], auth) -> None:
    """Two gunicorn workers (or frontend hosts) are two apps on one database: the 5 a minute hold for both."""
    auth.register("carol")
    workers = [make_app(login_account_limit="5 per minute").test_client() for _ in range(2)]
    statuses = []
    for i in range(8):
        client = workers[i % 2]
        response = client.post("/login", data={"username": "carol", "password": "wrong",
                                                "csrf_token": csrf_token(client, "/login")})
        statuses.append(response.status_code)
    assert statuses == [400] * 5 + [429] * 3, statuses
