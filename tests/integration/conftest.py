"""Fixtures that start the real tiers once per test module and give tests web users and clients."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from common import protocol as p
from tests.integration.players import UserFactory
from tests.integration.stack import Stack, WebUser

_names = itertools.count(1)
T = TypeVar("T")



def started_stack(tmp_path_factory: pytest.TempPathFactory, name: str, **options: Any) -> Iterator[Stack]:
    """A module fixture's body: a `Stack(**options)` in a fresh directory, started, then stopped."""
    s = Stack(Path(tmp_path_factory.mktemp(name)), **options)
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from started_stack(tmp_path_factory, "stack")


def user_factory(stack: Stack) -> UserFactory:
    """make(prefix) registers (through the real form) a logged-in WebUser with a unique name."""

    def make(prefix: str = "player") -> WebUser:
        return WebUser(stack.frontend_url, f"{prefix}{next(_names)}").register()

    return make


@pytest.fixture
def new_user(stack: Stack) -> UserFactory:
    return user_factory(stack)


def acked(answer: p.ServerMessage) -> p.Ack:
    """`answer`, which must be an ack (a test fails on any other answer)."""
    assert isinstance(answer, p.Ack), answer
    return answer


def created_table(answer: p.ServerMessage) -> str:
    """The id of the table that `answer` (to a `create_table`) says was created."""
    table = acked(answer).table
    assert table is not None, answer
    return table


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion with an overall time limit, so a hang fails instead of blocking."""
    return asyncio.run(asyncio.wait_for(coro, 120))
