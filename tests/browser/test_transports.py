"""The same full Crazy Eights game in the browser with the client forced onto each SockJS transport.

The page passes `?transport=<name>` to `new SockJS(url, null, {transports: [name]})`; the status in the
top bar names the transport in use (sockjs-client's `sock.transport`), which the test checks.
"""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.browser

TRANSPORTS = ["websocket", "xhr-streaming", "xhr-polling", "eventsource", "iframe-eventsource",
              "iframe-xhr-polling"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_full_crazy_eights_game(person, transport: str) -> None:
    kim = person("kim", transport=transport)
    assert kim.transport_in_use == transport
    expect(kim.page.locator("#conn")).to_contain_text("Connected")  # friendly; the transport: in the title
    expect(kim.page.locator("#conn")).to_have_attribute("title", re.compile(rf"\({re.escape(transport)}\)$"))
    kim.create_table("crazy_eights", seats=2)
    kim.fill_with_bots()
    kim.start()
    kim.chat(f"hello over {transport}")
    expect(kim.page.locator("#chat-lines")).to_contain_text(f"hello over {transport}")
    kim.play_until_over(90, keyboard_every=2)
    assert re.search(r"won|tied", kim.result_text())
    assert kim.transport_in_use == transport  # no silent fallback to another transport
    assert not kim.errors, kim.errors
