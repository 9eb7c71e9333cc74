"""The realtime process holding a player's websocket dies mid-game: the page reconnects by itself.

No reload: the client sees the drop, shows it, retries with backoff (a fresh token each time), signs in
again when the realtime server is back, resumes its seat from the last seq it saw (missed events and the
current view), and the game goes on to its end. Bots move a little slower here so that the game outlasts
the outage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import expect  # noqa: E402

from tests.browser.conftest import make_stack
from tests.integration.stack import Stack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from make_stack(tmp_path_factory, FELT_BOT_DELAY="0.25")


def test_realtime_server_dies_mid_game(person, stack: Stack) -> None:
    lee = person("lee")
    lee.create_table("crazy_eights", seats=3)
    lee.fill_with_bots()
    lee.start()
    for _ in range(2):
        lee.play_one()
    lee.wait_ready()
    assert lee.attr("status") == "playing"
    seat = lee.attr("seat")
    table = lee.table_id
    lee.page.evaluate("window.__sameDocument = 'yes'")

    url = lee.page.get_attribute("#conn", "data-url") or ""
    index = next(i for i in range(len(stack.realtime_ports)) if stack.realtime_url(i) == url)
    stack.kill(f"rt-{index}")
    expect(lee.page.locator("#conn")).to_have_attribute("data-state", "reconnecting", timeout=10_000)
    expect(lee.page.locator("#conn")).to_contain_text("econnect")
    stack.start_realtime(index)

    lee.wait_connected(timeout=30_000)
    assert lee.page.evaluate("window.__sameDocument") == "yes"  # no reload happened
    expect(lee.page.locator("#table-view")).to_have_attribute("data-table", table)
    expect(lee.page.locator("#table-view")).to_have_attribute("data-seat", seat)
    assert lee.page.locator("#hand .playcard").count() > 0 or lee.attr("status") == "over"
    lee.play_until_over(120)
    assert re.search(r"won|tied", lee.result_text())
    assert not lee.errors, lee.errors


def test_game_server_restarts_mid_game(person, stack: Stack) -> None:
    """`table_status` says the table's game server is gone, then back; the client resumes its seat."""
    mo = person("mo")
    mo.create_table("crazy_eights", seats=2)
    mo.fill_with_bots()
    mo.start()
    mo.play_one()
    mo.wait_ready()
    seat, table = mo.attr("seat"), mo.table_id
    server = table.partition("-")[0]
    mo.page.evaluate("window.__sameDocument = 'yes'")

    stack.kill(f"gs-{server}")
    banner = mo.page.locator("#table-view .banner.warn")
    expect(banner).to_be_visible(timeout=15_000)
    expect(banner).to_contain_text("resumes by itself")
    stack.start_gameserver(server)

    expect(banner).to_be_hidden(timeout=30_000)
    assert mo.page.evaluate("window.__sameDocument") == "yes"
    expect(mo.page.locator("#table-view")).to_have_attribute("data-seat", seat)
    mo.play_until_over(120)
    assert re.search(r"won|tied", mo.result_text())
    assert not mo.errors, mo.errors
