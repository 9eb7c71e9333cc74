"""An admin drains the realtime server a page is connected to: the page moves and carries on at its seat.

The server sends `move` (naming another live realtime server) and closes; the page reconnects there at
once with a fresh token, resumes its table, and the game goes on — no reload, no backoff wait.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import expect  # noqa: E402

from tests.browser.conftest import make_stack
from tests.integration.stack import ROOT, Stack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from make_stack(tmp_path_factory, FELT_BOT_DELAY="0.25")


def test_a_drained_realtime_server_moves_the_page_to_another(person, stack: Stack) -> None:
    kim = person("kim")
    kim.create_table("crazy_eights", seats=3)
    kim.fill_with_bots()
    kim.start()
    kim.play_one()
    kim.wait_ready()
    seat, table = kim.attr("seat"), kim.table_id
    kim.page.evaluate("window.__sameDocument = 'yes'")
    url = kim.page.get_attribute("#conn", "data-url") or ""
    index = next(i for i in range(len(stack.realtime_ports)) if stack.realtime_url(i) == url)

    drained = subprocess.run([sys.executable, "-m", "common.registry", "drain",
                              f"rt{stack.realtime_ports[index]}"], cwd=ROOT, env=stack.env,
                             capture_output=True, text=True, timeout=30)
    assert drained.returncode == 0, drained.stdout + drained.stderr
    other = stack.realtime_url(1 - index)
    expect(kim.page.locator("#conn")).to_have_attribute("data-url", other, timeout=15_000)
    kim.wait_connected()
    assert stack.procs.pop(f"rt-{index}").wait(timeout=30) == 0, "the drained server exits, cleanly"

    assert kim.page.evaluate("window.__sameDocument") == "yes", "no reload"
    expect(kim.page.locator("#table-view")).to_have_attribute("data-table", table)
    expect(kim.page.locator("#table-view")).to_have_attribute("data-seat", seat)
    kim.play_until_over(120)
    assert re.search(r"won|tied", kim.result_text())
    assert not kim.errors, kim.errors
    stack.start_realtime(index)
