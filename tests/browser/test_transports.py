"""The same full Crazy Eights game in the browser with the client forced onto each SockJS transport.

The page passes `?transport=<name>` to `new SockJS(url, null, {transports: [name]})`; the status in the
top bar names the transport in use (sockjs-client's `sock.transport`), which the test checks.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.browser

TRANSPORTS = ["websocket", "xhr-streaming", "xhr-polling", "eventsource", "iframe-eventsource",
              "iframe-xhr-polling"]


def _messages(frame: str | bytes) -> list[dict[str, Any]]:
    """The protocol messages of one SockJS frame received over a websocket (`a[...]`: JSON strings)."""
    text = frame if isinstance(frame, str) else frame.decode()
    return [json.loads(m) for m in json.loads(text[1:])] if text.startswith("a") else []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_full_crazy_eights_game(person, transport: str) -> None:
    received: list[dict[str, Any]] = []
    kim = person("kim", transport=transport)
    kim.page.on("websocket", lambda ws: ws.on("framereceived", lambda f: received.extend(_messages(f))))
    kim.page.reload()  # its connection opens again, now heard
    kim.wait_connected()
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
    # the page speaks protocol 2: each of its moves is answered by its own view, and never by an ack
    assert kim.page.evaluate("window.felt.net.welcome.protocol") == 2
    if transport == "websocket":
        answered = {m["req"] for m in received if m.get("msg") == "view" and "req" in m}
        assert len(answered) >= 3, received[-5:]
        assert not [m for m in received if m.get("msg") == "ack" and m.get("req") in answered]
