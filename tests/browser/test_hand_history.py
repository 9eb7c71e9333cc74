"""The hand-history panel at a table: after a few Hold'em hands with bots it lists them, newest first,
with the actions street by street, the board, the cards shown and the results, and never a bot's hole
cards it did not show; "Replay last hand" steps through the last hand in the table's own overlay (buttons
and arrow keys); on a phone the list is a full-screen overlay that leaves nothing behind once closed."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import expect  # noqa: E402

from tests.browser.person import Person  # noqa: E402

pytestmark = pytest.mark.browser

HANDS = 3

FULL_HOLES_JS = """async (ids) => {
  const out = {};
  for (const id of ids) {
    const replay = await (await fetch(`/history/${encodeURIComponent(id)}/replay.json?full=1`)).json();
    const views = Object.entries(replay.steps[0].views);
    out[id] = Object.fromEntries(views.map(([seat, v]) => [seat, v.hole ?? []]));
  }
  return out;
}"""

ON_TOP_JS = """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
  return !!document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)?.closest(sel); }"""


def listed(p: Person) -> int:
    text = p.page.locator("#hands-open").inner_text()
    return int(text.split("(")[1].rstrip(")")) if "(" in text else 0


def play_hands(p: Person, hands: int, limit_s: float = 60) -> None:
    """Play until the panel lists `hands` finished hands (it refreshes itself as each ends): check when
    free to, else fold (a stack the bots cannot take, so the table plays on with us in it)."""
    page = p.page
    deadline = time.monotonic() + limit_s
    while listed(p) < hands:
        assert time.monotonic() < deadline, f"the panel lists {listed(p)} hands after {limit_s}s"
        if p.attr("my-turn") != "true" or p.attr("busy") != "false":
            page.wait_for_timeout(50)
            continue
        seq = p.attr("seq")
        for button in ("#check", "#fold"):
            if page.is_visible(button) and page.is_enabled(button):
                page.click(button)
                break
        else:
            raise AssertionError("my turn at hold'em, but neither check nor fold is offered")
        p._acted(seq)


def test_the_panel_lists_the_hands_and_replays_the_last(person) -> None:
    ann = person("hh")
    page = ann.page
    ann.create_table("holdem", seats=3)
    ann.fill_with_bots()
    expect(page.locator("#hands-side")).to_contain_text("No finished hands at this table yet")
    page.click("#start")
    play_hands(ann, HANDS)
    expect(page.locator("#hands-last")).to_contain_text("Hand #")

    page.click("#hands-open")
    dialog = page.locator("#hands-dialog[open]")
    expect(dialog).to_be_visible()
    items = dialog.locator("#hands-list > li.hh-item")
    numbers = [int(n) for n in items.evaluate_all("els => els.map(e => e.dataset.number)")]
    assert len(numbers) >= HANDS and numbers == list(range(len(numbers), 0, -1))  # newest first
    newest = items.first
    expect(newest.locator("details")).to_have_attribute("open", "")
    expect(newest.locator(".hh-round[data-round=Preflop]")).to_contain_text("posted the")
    expect(newest.locator(".hh-mine .playcard")).to_have_count(2)  # my own hole cards
    expect(newest.locator(".hh-board")).to_be_visible()
    expect(newest.locator(".hh-results tbody tr")).to_have_count(3)
    expect(newest.locator(".hh-results tr.winner")).not_to_have_count(0)

    # a bot's hole cards appear only where that bot showed them (the full replay: mine, the hand is over)
    ids = items.evaluate_all("els => els.map(e => e.dataset.gameId)")
    holes: dict[str, dict[str, list[str]]] = page.evaluate(FULL_HOLES_JS, ids)
    me = ann.attr("seat")
    for index, game_id in enumerate(ids):
        item = items.nth(index)
        if not item.locator("details[open]").count():
            item.locator("summary").click()
        shown_seats = set(item.locator(".hh-shown-seat").evaluate_all("els => els.map(e => e.dataset.seat)"))
        on_screen: set[Any] = set(item.locator(".playcard[data-card]").evaluate_all(
            "els => els.map(e => e.dataset.card)"))
        assert set(holes[game_id][me]) <= on_screen, "my cards are in my summary"
        for seat, cards in holes[game_id].items():
            if seat != me and seat not in shown_seats:
                assert not set(cards) & on_screen, f"{game_id}: seat {seat}'s hidden cards are shown"

    # from the list, a hand's replay, then back; the keyboard steps it
    newest.locator(".hh-replay-button").click()
    expect(page.locator("#hr-step")).to_contain_text("Step 1 of")
    expect(page.locator("#hands-replay")).to_have_attribute("data-viewer", me)
    page.keyboard.press("Escape")
    expect(page.locator("#hands-dialog")).to_have_count(0)

    page.click("#replay-last")
    expect(page.locator("#hands-replay")).to_have_attribute("data-game-id", ids[0])
    expect(page.locator("#hr-step")).to_contain_text("Step 1 of")
    expect(page.locator("#hr-prev")).to_be_disabled()
    expect(page.locator("#hr-hands")).to_contain_text("Your cards")
    page.click("#hr-next")
    expect(page.locator("#hr-step")).to_contain_text("Step 2 of")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#hr-step")).to_contain_text("Step 3 of")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#hands-replay")).to_have_attribute("data-step", "1")
    page.keyboard.press("End")
    expect(page.locator("#hr-next")).to_be_disabled()
    expect(page.locator("#hr-what")).to_contain_text("won")
    page.click("#hands-back")
    expect(page.locator("#hands-list > li.hh-item")).not_to_have_count(0)
    page.click("#hands-close")
    expect(page.locator("#hands-dialog")).to_have_count(0)

    # a phone: the list is an overlay inside the screen; closed, it leaves nothing over the controls
    page.set_viewport_size({"width": 360, "height": 740})
    page.click("#hands-open")
    box = page.locator("#hands-dialog").bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0
    assert box["x"] + box["width"] <= 361 and box["y"] + box["height"] <= 741
    page.keyboard.press("Escape")
    expect(page.locator("#hands-dialog")).to_have_count(0)
    page.wait_for_function("() => document.getElementById('table-view').dataset.layoutFor === '360x740'")
    page.evaluate("window.scrollTo(0, 0)")
    for piece in ("#prompt", "#hand"):  # what is under the middle of each is itself: nothing lies over it
        assert page.evaluate(ON_TOP_JS, piece), f"something lies over {piece}"
    assert not ann.errors, ann.errors
