"""The table policy in the browser: sitting out and "I'm back", the top-up dialog (within the table's
limits, showing the balance, a refusal shown inside it), and the time bank on the seats, counting down
once the turn clock has run out, for the player and for a spectator."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.conftest import make_stack  # noqa: E402
from tests.integration.stack import Stack  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # bots at a human pace, so that hands do not race by between two looks
    yield from make_stack(tmp_path_factory, FELT_BOT_DELAY="0.3", FELT_HAND_PAUSE="1.0")


def dealt_in(page: Page) -> bool:
    return bool(page.evaluate("() => { const f = felt.current.frame; "
                              "return !!f?.view?.dealt_in?.[f.seat]; }"))


def test_sit_out_and_top_up_at_a_cash_table(person) -> None:
    lou = person("lou")
    page = lou.page
    lou.create_table("holdem", seats=3, options={"max_buy_in": 20000}, buy_in=3000)
    expect(page.locator("#chips")).to_have_attribute("data-chips", "7000")
    # top up between hands: the dialog shows the limits for this stack and the balance
    page.click("#top-up")
    dialog = page.locator("#topup-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("You have 3,000 at the table")
    expect(dialog).to_contain_text("You have 7,000")
    page.fill("#topup", "8000")  # within the table's limit, over the balance: refused, and it stays open
    page.click("#topup-ok")
    expect(page.locator("#topup-error")).to_contain_text("You have 7,000 chips; this top-up needs 8,000")
    expect(dialog).to_be_visible()
    page.fill("#topup", "2000")
    page.click("#topup-ok")
    expect(dialog).to_have_count(0)
    expect(page.locator("#chips")).to_have_attribute("data-chips", "5000")
    expect(page.locator("#chips-at-table")).to_contain_text("5,000 at the table")
    # sit out before the first hand: the hands go on without lou, and lou pays no blind
    lou.fill_with_bots()
    page.click("#sit-out")
    expect(page.locator("#felt .seat.me .tag.sitting-out")).to_be_visible()
    expect(page.locator("#sitting-out-text")).to_contain_text("pay no blinds")
    page.click("#start")
    page.wait_for_function("() => felt.current.frame?.cash?.hand_no >= 1 && felt.current.frame.view")
    assert not dealt_in(page)
    assert page.evaluate("() => felt.current.frame.cash.table_stacks[felt.current.frame.seat]") == 5000
    page.click("#im-back")
    expect(page.locator("#felt .seat.me .tag.sitting-out")).to_have_count(0)
    expect(page.locator("#sit-out")).to_be_visible()
    page.wait_for_function("() => { const f = felt.current.frame; return !!f?.view?.dealt_in?.[f.seat] && "
                           "!f.view.over; }", timeout=30_000)
    expect(page.locator("#top-up")).to_be_disabled()  # in a hand: between hands only
    assert not lou.errors, lou.errors


def test_the_time_bank_on_the_seats_counts_down_once_the_clock_runs_out(person) -> None:
    ned = person("ned")
    oli = person("oli")
    page = ned.page
    table = page.evaluate("""async () => felt.create({game: 'hearts', seats: 4, options: {}, clock: 5,
        public: true, policy: {time_bank: 8, bank_refill: 0}})""")
    page.wait_for_selector("#table-view[data-status=waiting]")
    ned.fill_with_bots()
    oli.page.locator(oli.lobby_row(table)).locator("button.watch").click()
    oli.page.wait_for_selector("#table-view[data-role=spectator]")
    page.click("#start")
    bank = page.locator("#felt .seat.me .time-bank")
    expect(bank).to_have_text("bank 8s")
    expect(page.locator("#policy-badge")).to_contain_text("8s bank")
    # the turn clock (5 s) runs out: ned's time bank is drawn, counting down on his seat and the spectator's
    expect(bank).to_have_class(re.compile("in-use"), timeout=10_000)
    expect(bank).to_have_text(re.compile(r"bank [0-7]s"))
    expect(page.locator("#prompt .countdown.banked")).to_be_visible()
    expect(oli.page.locator("#felt .seat[data-seat='0'] .time-bank.in-use")).to_be_visible()
    # used up: the clock moved for ned, and the seat shows an empty bank from the server's own figure
    page.wait_for_function("() => felt.current.frame.time_banks[0] === 0", timeout=15_000)
    expect(oli.page.locator("#felt .seat[data-seat='0'] .time-bank")).to_have_text("bank 0s")
    # sitting out of a match: a bot plays, everyone sees it, and "I'm back" ends it
    page.click("#sit-out")
    expect(page.locator("#sitting-out-text")).to_contain_text("a bot plays for you")
    expect(oli.page.locator("#felt .seat[data-seat='0'] .tag.sitting-out")).to_be_visible()
    oli.page.wait_for_function("(t) => felt.current.events.some(e => e.text.includes(t))",
                               arg=f"{ned.name} sits out")
    page.click("#im-back")
    expect(page.locator("#sitting-out-text")).to_have_count(0)
    expect(oli.page.locator("#felt .seat[data-seat='0'] .tag.sitting-out")).to_have_count(0)
    assert not ned.errors and not oli.errors, ned.errors + oli.errors
