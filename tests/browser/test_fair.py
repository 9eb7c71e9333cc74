"""Fair deals in the browser: the commitment is on the table before the cards, the browser contributes
its own entropy, and once the game ends the panel verifies the revealed deal against the commitment and
the cards this player saw; a pasted reveal is checked too, and a tampered one is refused."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import expect  # noqa: E402
from sqlalchemy import select  # noqa: E402

from common.models import FinishedGame, TableAction  # noqa: E402
from tests.browser.conftest import make_stack  # noqa: E402
from tests.integration.stack import Stack  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Deals wait long for the browser's entropy: its own value is used however slow the machine is."""
    yield from make_stack(tmp_path_factory, FELT_ENTROPY_WAIT="10")


def test_the_commitment_is_shown_and_the_deal_verifies(person, stack) -> None:
    ann = person("ann")
    page = ann.page
    page.click("#quick-buttons button[data-game=crazy_eights]")
    page.wait_for_selector("#table-view[data-status=playing]")
    shown = page.locator("#fair-commitment")
    expect(shown).to_have_attribute("data-dealt", "true")
    commitment = shown.get_attribute("data-commitment") or ""
    assert re.fullmatch("[0-9a-f]{64}", commitment)
    expect(shown).to_contain_text(commitment[:12])
    expect(page.locator("#fair-contributors")).to_contain_text("You ✓")
    expect(page.locator("#fair-contributors")).to_contain_text("server")  # the bots' values
    expect(page.locator("#fair-verdict")).to_have_attribute("data-state", "waiting")

    ann.play_until_over(60)
    verdict = page.locator("#fair-verdict")
    expect(verdict).to_have_attribute("data-state", "verified")
    expect(verdict).to_contain_text("the seed and nonce match the commitment")
    expect(verdict).to_contain_text("your contribution was used")
    expect(verdict).to_contain_text("your 5 dealt cards")

    with stack.engine.connect() as conn:
        entries = [row.entry for row in conn.execute(select(TableAction.__table__).where(
            TableAction.__table__.c.table_id == ann.table_id))]
    logged = next(x for x in entries if x["t"] == "reveal")
    assert logged["reveal"]["commitment"] == commitment
    # the checker of the panel takes a reveal pasted in (an export, say), and refuses a tampered one
    page.click("#review")  # the result aside: look at the table again
    page.click("#fair-panel summary")
    page.fill("#fair-paste", json.dumps(logged))
    page.click("#fair-panel details button")
    expect(page.locator("#fair-pasted")).to_have_attribute("data-state", "verified")
    logged["reveal"]["seed"] = "00" * 32
    page.fill("#fair-paste", json.dumps(logged))
    page.click("#fair-panel details button")
    expect(page.locator("#fair-pasted")).to_have_attribute("data-state", "failed")
    expect(page.locator("#fair-pasted")).to_contain_text("not the commitment")
    # a downloaded export (the game's JSON replay) carries every deal with the cards ann saw: all verify
    export = None
    deadline = time.monotonic() + 30  # the replay is written just after the game's record
    while export is None and time.monotonic() < deadline:
        with stack.engine.connect() as conn:
            game_id = conn.execute(select(FinishedGame.game_id).where(
                FinishedGame.table_id == ann.table_id, FinishedGame.replay.is_not(None))).scalar()
        if game_id is None:
            page.wait_for_timeout(200)  # polls the server's database, not a guess at how long it takes
            continue
        answer = page.context.request.get(f"{stack.frontend_url}/history/{game_id}/export.json")
        assert answer.ok, answer.status
        export = answer.json()
    assert export is not None and export["fair"] and export["fair"][0]["seen"]["seat"] is not None
    page.fill("#fair-paste", json.dumps(export))
    page.click("#fair-panel details button")
    expect(page.locator("#fair-pasted")).to_have_attribute("data-state", "verified")
    expect(page.locator("#fair-pasted")).to_contain_text("your 5 dealt cards")

