"""Two people finish a game (a bot fills the third seat), then each opens their history, steps through
the replay from their own seat (buttons and arrow keys), turns on every card, downloads the export, and
sees the leaderboard and a profile with the rating the game gave them."""

from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import expect  # noqa: E402

from tests.browser.person import Person  # noqa: E402

pytestmark = pytest.mark.browser


def play_out(people: list[Person], limit_s: float = 120) -> None:
    """Whoever's turn it is moves, until the game is over for everyone."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if all(p.attr("status") == "over" for p in people):
            return
        mover = next((p for p in people if p.attr("my-turn") == "true" and p.attr("busy") == "false"), None)
        if mover is None:
            people[0].page.wait_for_timeout(50)  # a bot or the other browser is moving
            continue
        mover.play_one()
    raise AssertionError(f"the game did not end within {limit_s}s")


def test_a_finished_game_in_history_replay_leaderboard_and_profile(person, tmp_path) -> None:
    ann = person("ann")
    bea = person("bea")
    table = ann.create_table("crazy_eights", seats=3)
    row = bea.page.locator(bea.lobby_row(table))
    expect(row).to_contain_text("1/3")
    row.locator("button.join").click()
    bea.page.wait_for_selector(f"#table-view[data-table='{table}'][data-seat='1']")
    ann.fill_with_bots()
    ann.start()
    bea.page.wait_for_selector("#table-view[data-status=playing]")
    play_out([ann, bea])

    page = ann.page
    page.goto(ann.url("/history"))
    game_row = page.locator("#games tbody tr").first
    expect(game_row).to_contain_text("Crazy Eights")
    expect(game_row).to_contain_text(bea.name)
    game_row.locator("a", has_text="Replay").click()
    replay = page.locator("#replay")
    expect(page.locator("#step")).to_contain_text("Step 1 of")
    expect(replay).to_have_attribute("data-viewer", "0")
    expect(page.locator("#hands")).to_contain_text("Your cards")
    first_hand = page.locator("#hands .playcard").count()
    assert first_hand > 0, "a player's replay shows their own cards"
    page.click("#next")
    expect(page.locator("#step")).to_contain_text("Step 2 of")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#step")).to_contain_text("Step 3 of")
    page.keyboard.press("ArrowLeft")
    expect(replay).to_have_attribute("data-step", "1")
    page.keyboard.press("End")
    expect(page.locator("#next")).to_be_disabled()
    page.check("#full")  # the game is over: the players who sat there may see every card
    expect(replay).to_have_attribute("data-viewer", "full")
    expect(page.locator("#hands .replay-hand")).to_have_count(3)
    page.screenshot(path=str(tmp_path / "replay.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#export-json-full")
    exported = json.loads(download.value.path().read_text())
    assert exported["format"] == "felt-replay" and exported["viewer"]["full"] is True

    # bea's replay is from her own seat
    bea.page.goto(bea.url("/history"))
    bea.page.locator("#games tbody tr").first.locator("a", has_text="Replay").click()
    expect(bea.page.locator("#replay")).to_have_attribute("data-viewer", "1")

    # a rated game between two people: both are on the leaderboard, with a rating history
    page.goto(ann.url("/leaderboard/crazy_eights"))
    board = page.locator("#board")
    expect(board).to_contain_text(ann.name)
    expect(board).to_contain_text(bea.name)
    page.locator("#board a", has_text=bea.name).click()
    expect(page.locator("h1")).to_contain_text(bea.name)
    expect(page.locator("#rating-history tbody tr")).to_have_count(1)
    expect(page.locator("#figures dd[data-game=crazy_eights]")).to_contain_text("1 game")
