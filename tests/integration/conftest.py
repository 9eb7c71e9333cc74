"""Fixtures that start the real tiers once per test module and give tests web users and clients."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.stack import Stack, WebUser

_names = itertools.count(1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(Path(tmp_path_factory.mktemp("stack")))
    try:
        s.start()
        yield s
    finally:
        s.stop()


def user_factory(stack: Stack):  # type: ignore[no-untyped-def]
    """make(prefix) registers (through the real form) a logged-in WebUser with a unique name."""

    def make(prefix: str = "player") -> WebUser:
        return WebUser(stack.frontend_url, f"{prefix}{next(_names)}").register()

    return make


@pytest.fixture
def new_user(stack: Stack):  # type: ignore[no-untyped-def]
    return user_factory(stack)


def run(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine to completion with an overall time limit, so a hang fails instead of blocking."""
    return asyncio.run(asyncio.wait_for(coro, 120))
