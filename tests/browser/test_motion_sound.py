"""Motion and sound: cards fly as they are dealt and played, a taken trick goes to its winner, bets go to
the pot and the pot to its winner, the winning five cards are highlighted; every animation is at most
300 ms and none runs under prefers-reduced-motion. Sounds (synthesised) for your turn, the clock running
low and a win, with a mute toggle that the browser remembers. Hold'em pre-actions act for you on your turn.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import expect  # noqa: E402

from tests.browser.conftest import make_stack  # noqa: E402
from tests.browser.person import Person  # noqa: E402
from tests.integration.stack import Stack  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # bots at a human pace: others' turns last long enough to choose a pre-action in
    yield from make_stack(tmp_path_factory, FELT_BOT_DELAY="0.3", FELT_HAND_PAUSE="1")

KINDS_JS = "() => [...new Set(felt.motion.log.map(m => m.kind))]"
LONGEST_JS = "() => Math.max(0, ...felt.motion.log.map(m => m.ms))"


def wait_for_motion(p: Person, kind: str, play: bool, limit_s: float = 60) -> None:
    """Play on (or just wait) until an animation of `kind` has run."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if kind in p.page.evaluate(KINDS_JS):
            return
        if play and p.attr("my-turn") == "true":
            p.play_one()
        else:
            p.page.wait_for_timeout(100)
    raise AssertionError(f"no {kind!r} animation within {limit_s}s: {p.page.evaluate(KINDS_JS)}")


def test_cards_and_chips_move_briefly(person) -> None:
    ann = person("ann")
    ann.create_table("hearts", options={"target": 30})
    ann.fill_with_bots()
    ann.start()
    ann.play_one()  # the pass: three cards fly off to the player on the left
    wait_for_motion(ann, "in", play=True)  # others' cards fly in from their seats
    wait_for_motion(ann, "out", play=True)  # a taken trick goes to its winner's seat
    assert {"move", "out"} <= set(ann.page.evaluate(KINDS_JS))  # our own card moved from the hand
    ann.back_to_lobby()
    ann.create_table("holdem", seats=3)
    ann.fill_with_bots()
    ann.page.click("#start")
    ann.play_hand(60)
    wait_for_motion(ann, "chip", play=False, limit_s=10)  # the pot to its winner
    longest = ann.page.evaluate(LONGEST_JS)
    assert 0 < longest <= 300, longest
    assert not ann.errors, ann.errors


def test_reduced_motion_sound_and_mute(person) -> None:
    bo = person("bo", reduced_motion="reduce")
    page = bo.page
    bo.create_table("crazy_eights", seats=3)
    bo.fill_with_bots()
    bo.start()
    for _ in range(3):
        bo.play_one()
    assert page.evaluate("felt.motion.log.length") == 0
    assert page.evaluate("felt.motion.skipped") > 0  # there was motion to show, and it was skipped
    while page.is_visible("#suit-picker"):  # an 8 waits for its suit
        bo.play_one()
    assert "turn" in page.evaluate("felt.sound.played.map(s => s.name)")
    # a win sounds too (the result of a finished game, as the server sends it)
    page.evaluate("felt.current.onGameOver({table: felt.current.id, scores: [0, 5, 9],"
                  " players: ['a', 'b', 'c'], winners: [felt.current.mySeat]})")
    assert page.evaluate("felt.sound.played.at(-1).name") == "win"
    # mute: remembered by the browser across a reload, and nothing plays meanwhile
    expect(page.locator("#mute")).to_have_attribute("aria-pressed", "false")
    page.click("#mute")
    expect(page.locator("#mute")).to_have_attribute("aria-pressed", "true")
    page.reload()
    bo.wait_connected()
    expect(page.locator("#mute")).to_have_attribute("aria-pressed", "true")
    page.wait_for_selector("#table-view[data-status]:not([data-status=loading])")
    bo.play_until_over(90)
    assert page.evaluate("felt.sound.played.length") == 0, "muted, yet a sound played"
    assert page.evaluate("felt.motion.log.length") == 0
    page.click("#review")  # the result covers the page; look at the table, then unmute
    page.click("#mute")
    expect(page.locator("#mute")).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("localStorage.getItem('felt.muted')") is None
    assert not bo.errors, bo.errors


def test_holdem_winning_hand_highlighted(person) -> None:
    """A finished hand from a view frame: the winner's seat and exactly the five winning cards are marked."""
    cy = person("cy")
    page = cy.page
    view = {"game": "holdem", "board": ["KH", "9C", "9D", "2S", "5H"], "pot": 0, "pots": [],
            "stacks": [900, 1300, 800], "bets": [0, 0, 0], "dealt_in": [True, True, True],
            "folded": [False, False, True], "all_in": [False, False, False], "button": 0,
            "small_blind_seat": 1, "big_blind_seat": 2, "small_blind": 10, "big_blind": 20, "street": "over",
            "turn": None, "to_call": 0, "legal": [], "over": True, "hole": ["QS", "JD"],
            "shown": {"0": ["QS", "JD"], "1": ["KC", "KD"]}, "payouts": [0, 400, 0]}
    frame = {"msg": "view", "table": "g9-0002", "seq": 30, "game": "holdem", "status": "playing",
             "players": ["cy", "Bot 1", "Bot 2"], "bots": [1, 2], "seat": 0, "events": [], "deadline": None,
             "cash": {"table_stacks": [900, 1300, 800], "hand_no": 3, "next_hand_at": None, "min_buy_in": 200,
                      "max_buy_in": 2000}, "view": view}
    page.evaluate("""(frame) => {
      felt.net.request = () => new Promise(() => {});
      felt.tableFor(frame.table).onView(frame);
      felt.openTable(frame.table, {push: false});
    }""", frame)
    expect(page.locator("#felt .seat.winner")).to_have_count(1)
    expect(page.locator("#felt .seat.winner")).to_have_attribute("data-seat", "1")
    best = page.eval_on_selector_all(".playcard.best", "els => els.map(e => e.dataset.card)")
    assert sorted(best) == sorted(["KC", "KD", "KH", "9C", "9D"]), best  # kings full of nines
    assert "winning hand" in (page.get_attribute("#board [data-card='KH']", "aria-label") or "")


def test_holdem_pre_actions(person) -> None:
    """Choose "Call any" while others act: on your turn the client calls (or checks) for you."""
    dan = person("dan")
    page = dan.page
    dan.create_table("holdem", seats=3)
    dan.fill_with_bots()
    page.click("#start")
    mine = "() => felt.current.events.filter(e => /^You (called|checked)/.test(e.text)).length"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page.wait_for_function("() => document.getElementById('pre-call-any') || "
                               "document.getElementById('table-view').dataset.myTurn === 'true'",
                               timeout=20_000)
        if dan.attr("my-turn") == "true":
            dan.play_one() if dan.page.is_visible("#check, #call") else page.click("#fold")
            continue
        before = page.evaluate(mine)
        page.click("#pre-call-any")
        expect(page.locator("#pre-call-any")).to_have_attribute("aria-pressed", "true")
        # our turn comes (or the hand ends first); on our turn the call goes out with no click
        page.wait_for_function(f"() => ({mine})() > {before} || !document.getElementById('pre-call-any')",
                               timeout=20_000)
        if page.evaluate(mine) > before:
            assert not page.is_visible("#call[disabled]")
            assert not dan.errors, dan.errors
            return
    raise AssertionError("no turn came to use the pre-action on")
