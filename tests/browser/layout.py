"""Layout checks for the table view, measured in the page: what must be on screen, and what must not overlap.

`problems(page)` returns a list of readable problems (empty when the layout holds): each thing that must be
visible without scrolling (this player's cards, the action controls, whose turn it is, the clock) has a
bounding box inside the viewport with the page scrolled to the top; the pieces of the table (seats, the
board, the trick, the piles, bets, toasts, the prompt, the controls, the hand) do not intersect each other.
Boxes are the elements' own bounding rectangles (transforms included), shrunk by a pixel of tolerance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

SIZES = [(1440, 900), (1366, 768), (390, 844), (360, 740)]

# the function itself, without the file's comment line (Playwright calls a string that is a function)
MEASURE_JS = (Path(__file__).parent / "layout.js").read_text().split("\n", 1)[1]


def problems(page: Page, *, hand: bool = True, controls: bool = True, turn: bool = True,
             clock: bool = True) -> list[str]:
    opts: dict[str, Any] = {"hand": hand, "controls": controls, "turn": turn, "clock": clock}
    result = page.evaluate(MEASURE_JS, opts)
    return [str(p) for p in result]


def resize(page: Page, width: int, height: int) -> None:
    """Set the viewport and wait until the table has laid itself out for it."""
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_function("(want) => document.getElementById('table-view').dataset.layoutFor === want",
                           arg=f"{width}x{height}", timeout=5_000)
    page.evaluate("window.scrollTo(0, 0)")
    settle(page)


def settle(page: Page) -> None:
    """Wait until nothing on the page is moving (the motion is short: at most 300 ms a move)."""
    page.wait_for_function("() => document.getAnimations().length === 0", timeout=5_000)
