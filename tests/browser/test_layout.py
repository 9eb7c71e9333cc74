"""The table fits the window: at 1440×900, 1366×768, 390×844 and 360×740, in every game and phase, this
player's cards, the action controls, whose turn it is and the clock are on screen together without
scrolling, and no two pieces of the table overlap (measured with bounding boxes: tests/browser/layout.py).

One person plays one table of each game, resizing the same page through the four sizes at each phase
(waiting, playing; Hearts' passing; a Hold'em bet to face), and keeps a screenshot of each game at each
size in docs/screenshots/ (shown in the README).
"""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from tests.browser.layout import SIZES, problems, resize, settle  # noqa: E402
from tests.browser.person import Person  # noqa: E402

pytestmark = pytest.mark.browser


def check_sizes(p: Person, phase: str, *, shoot: str | None = None, **need: bool) -> None:
    """The layout holds at every size (a screenshot of each when `shoot` names the game)."""
    found: list[str] = []
    for width, height in SIZES:
        resize(p.page, width, height)
        found.extend(f"{phase} at {width}x{height}: {problem}" for problem in problems(p.page, **need))
        if shoot:
            p.screenshot(f"{shoot}-{width}x{height}", full_page=False)
    assert not found, "\n".join(found)


def wait_my_turn(p: Person, extra: str = "true") -> None:
    p.page.wait_for_function(f"""() => {{ const v = document.getElementById('table-view');
        return v.dataset.myTurn === 'true' && ({extra}); }}""", timeout=30_000)
    settle(p.page)


def test_every_game_fits_at_four_sizes(person) -> None:
    # a 5-character name of wide letters: with its YOU tag it once wrapped to two lines on a 360-wide
    # phone and, with a time bank showing (every clocked table has one), pushed the Hold'em hand below
    # the fold; the name now keeps one line, cut short with an ellipsis where it must be
    ann = person(name="WMWMW", viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
    page = ann.page

    # Crazy Eights: the waiting room, then a turn with the clock running
    ann.create_table("crazy_eights", seats=5, clock=60)
    check_sizes(ann, "crazy eights, waiting", hand=False, turn=False, clock=False)
    ann.fill_with_bots()
    ann.start()
    wait_my_turn(ann)
    page.evaluate("felt.toast('A notice at the table', 'info')")  # takes room; never covers controls
    check_sizes(ann, "crazy eights, my turn", shoot="crazy_eights")
    ann.back_to_lobby()

    # Hearts: choosing the pass, then a trick with cards on the table
    ann.create_table("hearts", clock=60)
    ann.fill_with_bots()
    ann.start()
    wait_my_turn(ann, "!!document.getElementById('pass-cards')")
    check_sizes(ann, "hearts, passing")
    for key in "123":
        page.keyboard.press(key)
    page.click("#pass-cards")
    wait_my_turn(ann, "!document.getElementById('pass-cards')")
    check_sizes(ann, "hearts, a trick", shoot="hearts")
    ann.back_to_lobby()

    # Hold'em, nine seats (the most crowded felt): a bet to face, the raise controls showing
    ann.create_table("holdem", seats=9, clock=60)
    ann.fill_with_bots()
    page.click("#start")
    wait_my_turn(ann, "!!document.getElementById('fold')")
    assert page.locator("#felt .seat.me .time-bank").count() == 1, "a time bank shows on my seat"
    check_sizes(ann, "hold'em, facing a bet", shoot="holdem")
    ann.back_to_lobby()
    assert not ann.errors, ann.errors
