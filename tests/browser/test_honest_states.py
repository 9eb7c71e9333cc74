"""Every state a player is in is visible and honest.

Hearts on a phone: thirteen usable cards with a key each, the chosen three look chosen, the three received
are marked. Standing up mid-hand asks first and says what happens; the header balance follows the chips.
Others see who is away, and who is back; when the clock runs out twice a bot plays for you, your screen says
so, your log says which moves were not yours, and "I'm back" gives you the seat again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.conftest import make_stack  # noqa: E402
from tests.browser.layout import settle  # noqa: E402
from tests.integration.stack import Stack  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # bots at a human pace, so that a table with a player away does not race to its end meanwhile
    yield from make_stack(tmp_path_factory, FELT_BOT_DELAY="0.3")

PHONE_SMALL = {"width": 360, "height": 740}


def wait_for_line(page: Page, text: str, timeout: float = 15_000) -> None:
    """Wait until the table's log (all of it, not only the lines on screen) has a line with `text`."""
    page.wait_for_function("(t) => felt.current?.events.some(e => e.text.includes(t))", arg=text,
                           timeout=timeout)

BOX_JS = """(sel) => [...document.querySelectorAll(sel)].map((e) => {
  const r = e.getBoundingClientRect(); return [e.dataset.card, r.left, r.top, r.right, r.bottom]; })"""


def test_hearts_pass_on_a_phone_selected_and_received(person) -> None:
    kim = person("kim", viewport=PHONE_SMALL)
    page = kim.page
    kim.create_table("hearts")
    kim.fill_with_bots()
    kim.start()
    page.wait_for_selector("#pass-cards")
    settle(page)
    cards = page.locator("#hand button.playcard")
    expect(cards).to_have_count(13)
    keys = page.eval_on_selector_all("#hand button.playcard", "els => els.map(e => e.dataset.key || '')")
    assert len(set(keys)) == 13 and "" not in keys and "p" not in keys, keys  # a key for every card, not P
    boxes = page.evaluate(BOX_JS, "#hand button.playcard")
    for i, (card, left, top, right, bottom) in enumerate(boxes):
        assert right - left >= 40, f"{card} is a {right - left:.0f}px strip"
        assert right <= PHONE_SMALL["width"] and bottom <= PHONE_SMALL["height"], f"{card} is off screen"
        for other, l2, t2, r2, b2 in boxes[i + 1:]:  # no card covers another: all of each is usable
            assert not (left < r2 - 1 and l2 < right - 1 and top < b2 - 1 and t2 < bottom - 1), (card, other)
    before = kim.hand_cards()
    shadow_js = "e => getComputedStyle(e).boxShadow"
    styles_before = page.eval_on_selector(f"#hand [data-card='{before[12]}']", shadow_js)
    for key in keys[10:13]:  # the last three, by their keys (cards 11-13 had none before)
        page.keyboard.press(key)
    cards_of = "els => els.map(e => e.dataset.card)"
    chosen = page.eval_on_selector_all("#hand button.playcard.selected", cards_of)
    assert chosen == before[10:13]
    for card in chosen:
        button = page.locator(f"#hand [data-card='{card}']")
        expect(button).to_have_attribute("aria-pressed", "true")
        expect(button.locator(".mark.sel")).to_be_visible()
        assert "selected to pass" in (button.get_attribute("aria-label") or "")
    page.wait_for_function(  # the blue ring, not the playable one (once the re-render has settled)
        "([sel, before]) => { const s = getComputedStyle(document.querySelector(sel)).boxShadow;"
        " return s !== before && s.includes('27, 110, 243'); }",
        arg=[f"#hand [data-card='{chosen[-1]}']", styles_before], timeout=5_000)
    page.keyboard.press("p")
    page.wait_for_function("() => !document.getElementById('pass-cards') && "
                           "document.querySelectorAll('#hand .playcard').length === 13")
    after = kim.hand_cards()
    got = sorted(set(after) - (set(before) - set(chosen)))
    assert len(got) == 3
    marked = sorted(page.eval_on_selector_all("#hand .playcard.received", cards_of))
    assert marked == got
    expect(page.locator("#hand .playcard.received .mark.new")).to_have_count(3)
    assert not kim.errors, kim.errors


def test_standing_up_mid_hand_asks_and_the_balance_follows(person) -> None:
    lou = person("lou")
    mia = person("mia")
    page = lou.page
    # the buy-in is asked on create; one above the balance is refused inside the dialog, which stays open
    page.select_option("#create-game", "holdem")
    page.fill("#opt-max_buy_in", "20000")
    page.click("#create-submit")
    page.fill("#buy-in", "15000")
    page.click("#buy-in-ok")
    expect(page.locator("#buy-in-error")).to_contain_text("You have 10,000 chips")
    expect(page.locator("#buy-in-dialog")).to_be_visible()
    page.fill("#buy-in", "3000")
    page.click("#buy-in-ok")
    page.wait_for_selector("#table-view[data-status=waiting]")
    expect(page.locator("#chips")).to_have_attribute("data-chips", "7000")
    expect(page.locator("#chips-at-table")).to_contain_text("3,000 at the table")
    expect(page.locator("#table-status")).to_have_text("Not started")  # not "Playing" before the first hand
    table = lou.table_id
    lou.fill_with_bots()
    mia.page.locator(mia.lobby_row(table)).locator("button.watch").click()
    mia.page.wait_for_selector("#table-view[data-role=spectator]")
    page.click("#start")
    page.wait_for_selector("#board")
    page.wait_for_function("() => !document.querySelector('#felt .seat.me .muted')")  # dealt in
    page.click("#leave")
    dialog = page.locator("#leave-confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("checks or folds for you")
    page.click("#leave-confirm-cancel")  # changed our mind: still seated
    expect(dialog).to_have_count(0)
    assert lou.attr("role") == "player"
    page.click("#leave")
    page.click("#leave-confirm-ok")
    page.wait_for_selector("#lobby-view:not([hidden])")
    # the spectator sees who is leaving; then the seat empties and the balance comes back by itself
    seat = mia.page.locator("#felt .seat[data-seat='0']")
    expect(seat).to_contain_text(re.compile("leaving|Empty seat"))
    wait_for_line(mia.page, f"{lou.name} leaves after this hand")
    expect(seat).to_contain_text("Empty seat", timeout=30_000)
    page.wait_for_function("() => Number(document.getElementById('chips').dataset.chips) !== 7000",
                           timeout=30_000)
    assert not lou.errors and not mia.errors, lou.errors + mia.errors


def test_away_by_the_clock_im_back_and_what_others_see(person) -> None:
    ned = person("ned")
    oli = person("oli")
    page = ned.page
    # a table with the shortest clock the server allows and no time bank, made as the form does it (which
    # offers 10 s and up)
    table = page.evaluate("""async () => { const id = await felt.create({game: 'hearts', seats: 4,
        options: {}, clock: 5, public: true, policy: {time_bank: 0, bank_refill: 0}}); return id; }""")
    page.wait_for_selector("#table-view[data-status=waiting]")
    ned.fill_with_bots()
    oli.page.locator(oli.lobby_row(table)).locator("button.watch").click()
    oli.page.wait_for_selector("#table-view[data-role=spectator]")
    page.click("#start")
    # nobody moves for ned: the clock moves twice, then a bot plays for him, and his screen says so
    banner = page.locator("#away-banner")
    expect(banner).to_be_visible(timeout=30_000)
    expect(banner).to_contain_text("A bot is playing for you")
    lines = page.evaluate("felt.current.events.map(e => e.text)")
    assert any(re.match("Time ran out: You (passed|played)", line) for line in lines), lines
    wait_for_line(page, "A bot, for you: You played", timeout=30_000)
    expect(oli.page.locator("#felt .seat[data-seat='0'] .tag.away")).to_be_visible()  # others see it
    wait_for_line(oli.page, f"{ned.name} is away")
    sounds = page.evaluate("felt.sound.played.map(s => s.name)")
    assert "turn" in sounds and "clock" in sounds, sounds
    page.click("#im-back")
    expect(banner).to_be_hidden()
    expect(page.locator("#table-view")).to_have_attribute("data-away", "false")
    wait_for_line(oli.page, f"{ned.name} is back")
    assert not ned.errors and not oli.errors, ned.errors + oli.errors
