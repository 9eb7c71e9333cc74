"""Fixtures for the browser tests: Debian's chromium through Playwright, against the real stack.

One `Stack` (frontend under gunicorn, 2 realtime servers, 2 game servers on loopback) per test module,
one chromium per session, and a fresh browser context (own cookies) for every person a test makes.
No browser is ever downloaded: chromium is launched from /usr/bin/chromium (.ci/run installs it).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.stack import Stack, require_haproxy

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

    from tests.browser.person import Person

CHROMIUM = "/usr/bin/chromium"
_names = itertools.count(1)


# Package scope: Playwright's sync API runs an event loop in this thread while it is open; it must be
# closed before the other test packages, which start event loops of their own.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    required = os.environ.get("FELT_REQUIRE_BROWSER") == "1"  # CI: a missing browser is a failure
    try:
        from playwright import sync_api
    except ImportError:
        if required:
            raise
        pytest.skip("playwright is not installed (requirements-dev.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        if required:
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    from tests.browser.person import CHROMIUM_ARGS

    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


def make_stack(tmp_path_factory: pytest.TempPathFactory, *, haproxy: bool = False,
               **env: str) -> Iterator[Stack]:
    """A module's stack (`haproxy`: behind haproxy, skipped without it; see tests/integration/stack.py)."""
    if haproxy:
        require_haproxy()
    s = Stack(Path(tmp_path_factory.mktemp("stack")), env=env or None, haproxy=haproxy)
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from make_stack(tmp_path_factory)


@pytest.fixture
def person(browser: Browser, stack: Stack) -> Iterator[Callable[..., Person]]:
    """`person(prefix, transport=None, viewport=..., name=None)`: a registered, logged-in person in their own
    context, named `prefix` and a counter (or exactly `name`, unique within the module's stack)."""
    made: list[Person] = []

    from tests.browser.person import Person

    def make(prefix: str = "player", *, transport: str | None = None, name: str | None = None,
             **context: Any) -> Person:
        name = name or f"{prefix}{next(_names)}"
        p = Person.open(browser, stack.frontend_url, name, transport=transport, **context)
        made.append(p)
        p.register()
        return p

    yield make
    for p in made:
        p.close()
