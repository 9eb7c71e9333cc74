"""The small things and accessibility.

Prompts in proper English, friendly table names and status text, the lobby's scroll not carried into a
table, the phone header fitting, a favicon and a styled 404; a visible focus ring on everything that takes
focus, announcements of what happened in a polite live region (never the whole log), trick cards labelled
with who played them, Hearts' last trick looked at again, and text contrast at WCAG AA (4.5:1, large
text 3:1) in the lobby and at a table.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.layout import SIZES, problems, resize, settle  # noqa: E402
from tests.browser.person import PHONE  # noqa: E402

pytestmark = pytest.mark.browser

CONTRAST_JS = (Path(__file__).parent / "contrast.js").read_text().split("\n", 1)[1]

FOCUS_JS = """() => { const e = document.activeElement; const cs = getComputedStyle(e);
  return [e.id || e.tagName, cs.outlineStyle, parseFloat(cs.outlineWidth), cs.outlineColor]; }"""


def crazy_eights_frame(top: str, suit: str, hand: list[str]) -> dict[str, object]:
    view = {"game": "crazy_eights", "seats": 2, "dealer": 1, "counts": [len(hand), 6], "top": top,
            "suit": suit,
            "turn": 0, "stock": 30, "drawn_this_turn": 0, "direction": 1, "pending_draw": 0, "plays": 3,
            "discards": [top], "over": False, "seat": 0, "hand": hand,
            "legal": [{"type": "play", "cards": hand[:1]}, {"type": "draw"}],
            "options": {"queen_skips": False, "ace_reverses": False, "two_draws_two": False}}
    return {"msg": "view", "table": "g9-0003", "seq": 4, "game": "crazy_eights", "status": "playing",
            "players": ["me", "Bot 1"], "bots": [1], "seat": 0, "events": [], "deadline": None, "view": view}


def show(page: Page, frame: dict[str, object]) -> None:
    page.evaluate("""(frame) => { felt.net.request = () => new Promise(() => {});
        felt.tableFor(frame.table).onView(frame); felt.openTable(frame.table, {push: false}); }""", frame)


def test_prompts_names_status_and_pages(person, stack) -> None:
    ann = person("ann")
    bea = person("bea")
    page = ann.page
    expect(page.locator("#conn-text")).to_have_text("Connected")  # friendly: the transport is in the title
    assert "websocket" in (page.get_attribute("#conn", "title") or "")
    icon = page.get_attribute("link[rel=icon]", "href")
    assert icon and urllib.request.urlopen(stack.frontend_url + icon).status == 200
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(stack.frontend_url + "/no/such/page")
    assert missing.value.code == 404
    body = missing.value.read().decode()
    assert "Page not found" in body and "error-page" in body and "felt.css" in body

    # the lobby scrolled down, then a table opened: it opens at its top, with a friendly name
    page.set_viewport_size({"width": 1280, "height": 500})
    page.evaluate("window.scrollTo(0, 400)")
    assert page.evaluate("window.scrollY") > 0
    table = ann.create_table("crazy_eights", seats=2)
    assert page.evaluate("window.scrollY") == 0
    title = page.inner_text("#table-view .table-title")
    assert re.match(r"Crazy Eights · [A-Z][a-z]+ [A-Z][a-z]+", title) and table in title, title
    name = title.split(" · ")[1].replace(table, "").strip()
    expect(bea.page.locator(bea.lobby_row(table))).to_contain_text(name)  # the same name in everyone's lobby
    ann.back_to_lobby()

    # prompts in proper English
    show(page, crazy_eights_frame("8S", "S", ["5S", "KH"]))
    expect(page.locator("#prompt")).to_contain_text("Your turn: play a spade or an 8, or draw.")
    show(page, crazy_eights_frame("AH", "H", ["5H", "KD"]))
    expect(page.locator("#prompt")).to_contain_text("Your turn: play a heart, an ace or an 8, or draw.")
    assert not ann.errors, ann.errors


def test_phone_header_fits(person) -> None:
    bea = person("bartholomew_", viewport={"width": 360, "height": 740})
    page = bea.page
    wide = "() => document.documentElement.scrollWidth - window.innerWidth"
    assert page.evaluate(wide) <= 0
    top = page.locator(".topbar").bounding_box()
    assert top and top["height"] < 60, top  # one line, not wrapped
    for selector in ("#chips", "#mute", "form.inline button", ".brand"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, (selector, box)
    bea.create_table("hearts")
    assert page.evaluate(wide) <= 0


def test_focus_live_region_labels_and_contrast(person) -> None:
    cy = person("cy")
    page = cy.page
    # every tab stop in the lobby shows a ring of at least 2px
    seen = []
    for _ in range(14):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS_JS)
        seen.append(focused)
        assert focused[1] != "none" and focused[2] >= 2, f"no visible focus ring on {focused}"
    assert len({f[0] for f in seen}) > 5, seen
    assert page.evaluate(CONTRAST_JS) == [], "lobby"

    cy.create_table("hearts", options={"target": 20})
    cy.fill_with_bots()
    cy.start()
    assert page.get_attribute("#events", "aria-live") is None  # the log is not a live region
    expect(page.locator("#announcer")).to_have_attribute("aria-live", "polite")
    cy.play_one()  # pass
    cy.wait_ready()
    cy.play_one()
    announced = page.eval_on_selector_all("#announcer p", "els => els.map(e => e.textContent)")
    assert 0 < len(announced) <= 3, announced  # the latest news only
    log = page.evaluate("felt.current.events.map(e => e.text)")
    for line in announced:  # each announcement is news from this frame: the log's newest lines, in words
        assert any(line.startswith(text) for text in log[-12:]), (line, log[-12:])
    page.wait_for_function("() => document.querySelectorAll('#trick .playcard').length > 0")
    labels = page.eval_on_selector_all("#trick .playcard",
                                       "els => els.map(e => e.getAttribute('aria-label'))")
    played_by = re.compile(r" of \w+, played by (You|Bot \d)$")
    assert labels and all(played_by.search(label or "") for label in labels), labels
    page.keyboard.press("Tab")  # focus rings at the table too (the felt's dark ground gets a light ring)
    assert page.evaluate(FOCUS_JS)[1] != "none"
    settle(page)  # text in mid-flight is faded on purpose; measure it where it lands
    problems = page.evaluate(CONTRAST_JS)
    assert problems == [], problems
    page.set_viewport_size(PHONE)
    settle(page)
    assert page.evaluate(CONTRAST_JS) == [], "table on a phone"
    assert not cy.errors, cy.errors


def test_hearts_last_trick_can_be_looked_at_again(person) -> None:
    eve = person("eve", viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
    page = eve.page
    eve.create_table("hearts", options={"target": 20})
    eve.fill_with_bots()
    eve.start()
    eve.play_one()  # pass
    for _ in range(13):  # on our turn with a trick in play after one finished, the last one can be seen
        eve.wait_ready()
        if page.is_visible("#last-trick"):
            break
        eve.play_one()
    toggle = page.locator("#last-trick")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    playing = page.eval_on_selector_all("#trick .trick-card", "els => els.map(e => e.dataset.seat)")
    assert 0 < len(playing) < 4, playing
    last = page.evaluate("felt.current.frame.view.last_trick")
    toggle.click()  # our turn: nothing moves on meanwhile
    assert page.evaluate("document.activeElement.id") == "last-trick"  # focus stays on the toggle
    expect(page.locator("#last-trick")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#trick")).to_have_attribute("aria-label", "The last trick")
    shown = page.eval_on_selector_all("#trick .trick-card.last .playcard",
                                      "els => els.map(e => e.dataset.card)")
    assert shown == [c["card"] for c in last["cards"]], (shown, last)
    found = []
    for width, height in SIZES:  # the look back fits at every size, the toggle on screen
        resize(page, width, height)
        found += [f"{width}x{height}: {problem}" for problem in problems(page, clock=False)]
        box = toggle.bounding_box()
        assert box and box["y"] + box["height"] <= height and box["x"] + box["width"] <= width, box
    assert not found, "\n".join(found)
    assert page.locator("#trick .trick-card.won").get_attribute("data-seat") == str(last["winner"])
    expect(page.locator(".center-info .caption")).to_contain_text("Last trick:")
    page.focus("#last-trick")
    page.keyboard.press("Enter")  # and back, by keyboard
    expect(page.locator("#last-trick")).to_have_attribute("aria-pressed", "false")
    back = page.eval_on_selector_all("#trick .trick-card", "els => els.map(e => e.dataset.seat)")
    assert back == playing
    resize(page, *SIZES[0])  # a phone's 13-card fan overlaps: play on where every card is whole
    eve.play_one()  # the game goes on
    assert not eve.errors, eve.errors
