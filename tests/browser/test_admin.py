"""The admin console in a real browser: an admin (made one with the CLI) sees every server and the open
tables with their players, closes a Hold'em table after confirming it, and sees the command go from
pending to done; the player at that table is told and has every chip back. Then kicks a player from
another table. Saves docs/screenshots/admin.png."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import expect  # noqa: E402
from sqlalchemy import select  # noqa: E402

from common.models import User  # noqa: E402
from tests.browser.conftest import make_stack  # noqa: E402
from tests.integration.stack import ROOT, Stack  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # bots at a human pace: a game of bots goes on while the console is looked at
    yield from make_stack(tmp_path_factory, FELT_BOT_DELAY="0.4")


def balance(stack: Stack, name: str) -> int:
    with stack.engine.connect() as conn:
        return int(conn.execute(select(User.chips).where(User.username == name)).scalar_one())


def test_an_admin_closes_a_table_from_the_console(person, stack: Stack) -> None:
    ann = person("ann")
    table = ann.create_table("holdem", seats=3, buy_in=5000)
    ann.fill_with_bots()
    start = balance(stack, ann.name) + 5000
    bob = person("bob")
    bobs = bob.create_table("hearts")  # a match of many deals: it outlasts the test
    bob.fill_with_bots()
    bob.start()
    bob.leave()  # a bot plays bob's seat: moves go on at that table

    root = person("root")
    made = subprocess.run([sys.executable, "-m", "frontend.cli", "set-admin", root.name], cwd=ROOT,
                          env=stack.env, capture_output=True, text=True, timeout=30)
    assert made.returncode == 0, made.stdout + made.stderr
    page = root.page
    page.reload()
    page.click("a.admin-link")
    page.wait_for_url(stack.frontend_url + "/admin")
    expect(page.locator("#admin")).to_have_attribute("data-loaded", "true")
    for name in ("g1", "g2", *(f"rt{port}" for port in stack.realtime_ports)):
        expect(page.locator(f"#servers tr[data-name='{name}']")).to_contain_text("live")
    row = page.locator(f"#tables tr[data-table='{table}']")
    expect(row).to_contain_text(ann.name, timeout=10_000)  # the roster: written at a heartbeat
    expect(row).to_contain_text("holdem")
    # ann and bob (the console itself holds no realtime connection)
    expect(page.locator("#count-players")).to_have_text("2", timeout=10_000)
    expect(page.locator("#count-tables")).to_have_text("2")

    row.locator("button[data-action=close]").click()
    dialog = page.locator("#admin-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text(f"Close table {table}?")
    page.fill("#admin-reason", "end of the tournament")
    page.click("#admin-confirm")
    entry = page.locator(f"#audit tr[data-action=close_table][data-target='{table}']")
    expect(entry).to_have_attribute("data-status", "done", timeout=15_000)
    expect(entry).to_contain_text("chips returned")
    expect(entry).to_contain_text("end of the tournament")
    expect(page.locator(f"#tables tr[data-table='{table}']")).to_have_count(0, timeout=10_000)

    expect(ann.page.locator(".toast")).to_contain_text("An admin closed this table: end of the tournament")
    assert balance(stack, ann.name) == start, "every chip back"
    expect(page.locator("#count-tables")).to_have_text("1")
    expect(page.locator("#count-moves")).not_to_have_text("0.0", timeout=10_000)
    for close in page.locator(".toast .close").all():
        close.click()
    page.mouse.move(0, 0)
    root.screenshot("admin")

    page.locator(f"#tables tr[data-table='{bobs}'] button[data-action=kick]").click()
    expect(dialog.locator("h2")).to_have_text(f"Kick {bob.name} from {bobs}?")
    page.click("#admin-confirm")
    kicked = page.locator(f"#audit tr[data-action=kick][data-target='{bobs}']")
    expect(kicked).to_have_attribute("data-status", "done", timeout=15_000)
    expect(kicked).to_contain_text(f"{bob.name} stood up; a bot plays the seat to the end of the game")
    for who in (ann, bob, root):
        assert not who.errors, who.errors
