"""The browser client behind haproxy (one public port, as `scripts/run --haproxy` serves it): a whole game
over xhr-polling across a drain of the realtime process the page is on — the page goes back through
haproxy, lands on the other process and plays on at its seat — and a whole game over a websocket. Skipped
without haproxy (not under CI)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import expect  # noqa: E402

from tests.browser.conftest import make_stack  # noqa: E402
from tests.browser.test_transports import test_full_crazy_eights_game as full_game  # noqa: E402
from tests.integration.stack import ROOT, Stack  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from make_stack(tmp_path_factory, haproxy=True, FELT_BOT_DELAY="0.25")


def connections(stack: Stack, i: int) -> int:
    """Open connections of realtime process `i` (its /healthz, asked directly)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.realtime_ports[i]}/healthz", timeout=5) as resp:
        return int(json.loads(resp.read())["connections"])


def test_a_drain_behind_haproxy_moves_the_page_to_the_other_process(person, stack: Stack) -> None:
    kim = person("kim", transport="xhr-polling")
    assert kim.page.get_attribute("#conn", "data-url") == f"{stack.origin}/sockjs"
    kim.create_table("crazy_eights", seats=3)
    kim.fill_with_bots()
    kim.start()
    kim.play_one()
    kim.wait_ready()
    seat, table = kim.attr("seat"), kim.table_id
    kim.page.evaluate("window.__sameDocument = 'yes'")
    # the process haproxy chose (the first test of the module: no other page has connected before)
    index = next(i for i in range(2) if connections(stack, i) == 1)
    assert connections(stack, 1 - index) == 0

    drained = subprocess.run([sys.executable, "-m", "common.registry", "drain",
                              f"rt{stack.realtime_ports[index]}"], cwd=ROOT, env=stack.env,
                             capture_output=True, text=True, timeout=30)
    assert drained.returncode == 0, drained.stdout + drained.stderr
    assert stack.procs.pop(f"rt-{index}").wait(timeout=30) == 0, "the drained server exits, cleanly"
    kim.wait_connected()
    assert connections(stack, 1 - index) == 1, "back through haproxy, on the other process"
    assert kim.page.get_attribute("#conn", "data-url") == f"{stack.origin}/sockjs"
    assert kim.page.evaluate("window.__sameDocument") == "yes", "no reload"
    expect(kim.page.locator("#table-view")).to_have_attribute("data-table", table)
    expect(kim.page.locator("#table-view")).to_have_attribute("data-seat", seat)
    kim.play_until_over(120)
    assert re.search(r"won|tied", kim.result_text())
    assert not kim.errors, kim.errors
    stack.start_realtime(index)


def test_full_crazy_eights_game_over_a_websocket_through_haproxy(person) -> None:
    full_game(person, "websocket")  # (the drain test above plays a whole game over xhr-polling)
