"""A sit-and-go in the browser: created from the lobby's form (buy-in, fee, stack, a steep schedule by
hands), filled with bots, the level and blinds shown at the table, and at the end every place and prize.
Tiny stacks and one hand a level keep it to a few seconds."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import expect  # noqa: E402

from tests.browser.conftest import make_stack  # noqa: E402
from tests.integration.stack import Stack  # noqa: E402

pytestmark = pytest.mark.browser

FINISHED = "() => felt.current.frame?.sit_and_go?.state === 'finished'"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from make_stack(tmp_path_factory, FELT_BOT_DELAY="0.05", FELT_HAND_PAUSE="0.3")


def test_a_sit_and_go_from_the_lobby_to_its_prizes(person) -> None:
    tia = person("tia")
    page = tia.page
    page.select_option("#create-game", "holdem")
    expect(page.locator("#create-sng")).to_be_visible()
    page.set_checked("#sng-on", True)
    page.fill("#create-seats", "3")
    expect(page.locator("#sng-fields")).to_be_visible()
    expect(page.locator("#create-options")).to_be_hidden()  # the tournament's settings decide the blinds
    page.fill("#sng-buy-in", "100")
    page.fill("#sng-fee", "10")
    page.fill("#sng-stack", "100")
    page.select_option("#sng-unit", "hands")
    page.fill("#sng-length", "1")
    page.fill("#sng-levels", "10/20, 20/40, 40/80")
    page.set_checked("#create-bots", True)
    page.click("#create-submit")
    page.wait_for_selector("#table-view:not([hidden])")
    expect(page.locator("#chips")).to_have_attribute("data-chips", "9890")  # the entry: buy-in and fee
    info = page.locator("#sng-info")
    expect(info).to_contain_text("Sit & Go")
    page.wait_for_function("() => ['running', 'finished'].includes(felt.current.frame?.sit_and_go?.state)")
    if page.evaluate("() => felt.current.frame.sit_and_go.state") == "running":
        expect(info).to_contain_text("level")
        expect(info).to_contain_text("blinds")
    # the lobby lists it as a sit-and-go (the table waits for tia meanwhile: there is no clock)
    table = tia.table_id
    tia.back_to_lobby()
    row = page.locator(f"#tables tr[data-table='{table}']")
    expect(row).to_have_attribute("data-kind", "sit_and_go")
    expect(row).to_contain_text("Sit & Go · buy-in 100 + 10")
    expect(row).to_contain_text("3/3 registered")
    row.locator("button.open").click()
    page.wait_for_selector("#table-view:not([hidden])")
    deadline = time.monotonic() + 60
    while not page.evaluate(FINISHED):  # check or call (fold when neither) until it is over
        assert time.monotonic() < deadline, "the sit-and-go did not end"
        page.wait_for_function(f"() => ({FINISHED})() || document.getElementById('table-view')"
                               ".dataset.myTurn === 'true'", timeout=20_000)
        for button in ("#check", "#call", "#fold"):
            if page.is_visible(button) and page.is_enabled(button):
                page.click(button)
                break
        page.wait_for_timeout(50)
    result = page.locator("#result")  # the end: places and prizes
    expect(result).to_contain_text("Tournament over")
    expect(result.locator("tbody tr")).to_have_count(3)
    expect(result.locator("tbody tr").first).to_contain_text("1 · 300")  # 3 entrants: winner takes all
    page.click("#review")
    places = page.locator("#sng-places")
    expect(places).to_contain_text("Tournament over")
    expect(places.locator("li")).to_have_count(3)
    expect(places).to_contain_text("wins 300")  # 3 entrants: the winner takes the pool of 300
    won = page.evaluate("() => felt.current.frame.sit_and_go.places"
                        ".find((p) => p.seat === felt.current.frame.seat).prize ?? 0")
    expect(page.locator("#chips")).to_have_attribute("data-chips", str(9890 + won))
    assert not tia.errors, tia.errors
