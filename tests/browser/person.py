"""A person at the browser client, driven through Playwright: the clicks and keys a player would use.

Every wait is bounded (Playwright timeouts and explicit deadlines), so a broken client fails a test
instead of hanging it. The play loops only use what the page shows: highlighted legal cards, enabled
buttons, `#table-view`'s data attributes (status, seq, my-turn).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
WIDE = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

#: true while it is this person's move (or pass), or the game is over, or an 8 wants its suit
READY_JS = """() => {
  const v = document.getElementById('table-view');
  return v.dataset.status === 'over' || v.dataset.myTurn === 'true' ||
    !document.getElementById('suit-picker')?.hidden;
}"""


class Person:
    def __init__(self, context: BrowserContext, page: Page, base: str, name: str,
                 transport: str | None) -> None:
        self.context = context
        self.page = page
        self.base = base
        self.name = name
        self.transport = transport
        self.errors: list[str] = []
        self.moves = 0
        page.on("pageerror", lambda exc: self.errors.append(f"{exc}"))
        page.on("console", self._console)

    @classmethod
    def open(cls, browser: Browser, base: str, name: str, *, transport: str | None = None,
             **context: Any) -> Person:
        ctx = browser.new_context(viewport=context.pop("viewport", WIDE), **context)
        ctx.set_default_timeout(15_000)
        return cls(ctx, ctx.new_page(), base, name, transport)

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type != "error" or "favicon" in (msg.location or {}).get("url", ""):
            return
        if "ERR_CONNECTION_REFUSED" in msg.text:
            return  # retrying while a server is down (the reconnect tests kill one on purpose)
        self.errors.append(f"console: {msg.text}")

    def close(self) -> None:
        self.context.close()

    # ---- pages ---------------------------------------------------------------------------------

    def url(self, path: str = "/") -> str:
        return self.base + path + (f"?transport={self.transport}" if self.transport else "")

    def register(self) -> Person:
        page = self.page
        page.goto(self.base + "/register")
        page.fill("#username", self.name)
        page.fill("#password", PASSWORD)
        page.fill("#confirm", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(self.base + "/")
        if self.transport:
            page.goto(self.url("/"))
        self.wait_connected()
        return self

    def login(self) -> Person:
        page = self.page
        page.goto(self.base + "/login")
        page.fill("#username", self.name)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(self.base + "/")
        self.wait_connected()
        return self

    def logout(self) -> None:
        self.page.click("form.inline button[type=submit]")
        self.page.wait_for_url(self.base + "/")

    def wait_connected(self, timeout: float = 20_000) -> None:
        self.page.wait_for_selector("#conn[data-state=connected]", timeout=timeout)
        self.page.wait_for_selector("#lobby-view:not([hidden]), #table-view:not([hidden])")

    @property
    def transport_in_use(self) -> str:
        return self.page.get_attribute("#conn", "data-transport") or ""

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
        return path

    # ---- lobby ---------------------------------------------------------------------------------

    def create_table(self, game: str, seats: int | None = None, options: dict[str, Any] | None = None,
                     clock: int | None = None, public: bool = True, bots: bool = False,
                     buy_in: int | None = None, spectator_delay: str | None = None) -> str:
        """Fill in the lobby's form and create; returns the new table's id (we are at its table view).
        Hold'em asks for the buy-in (default: the minimum the dialog offers)."""
        page = self.page
        page.select_option("#create-game", game)
        if seats is not None and page.is_enabled("#create-seats"):
            page.fill("#create-seats", str(seats))
        for key, value in (options or {}).items():
            if isinstance(value, bool):
                page.set_checked(f"#opt-{key}", value)
            else:
                page.fill(f"#opt-{key}", str(value))
        page.select_option("#create-clock", str(clock) if clock else "")
        page.select_option("#create-delay", spectator_delay or "0")
        page.set_checked("#create-public", public)
        page.set_checked("#create-bots", bots)
        page.click("#create-submit")
        if game == "holdem":
            page.wait_for_selector("#buy-in-dialog[open]")
            if buy_in is not None:
                page.fill("#buy-in", str(buy_in))
            page.click("#buy-in-ok")
        page.wait_for_selector("#table-view:not([hidden])[data-status=waiting]")
        return self.table_id

    @property
    def table_id(self) -> str:
        return self.page.get_attribute("#table-view", "data-table") or ""

    def fill_with_bots(self) -> None:
        self.page.click("#fill-bots")
        self.page.wait_for_selector("#start:not([disabled])")

    def start(self) -> None:
        self.page.click("#start")
        self.page.wait_for_selector("#table-view[data-status=playing]")

    def lobby_row(self, table: str) -> str:
        return f"#tables tr[data-table='{table}']"

    def back_to_lobby(self) -> None:
        self.page.click("#table-view .back")
        self.confirm_leave()

    def leave(self) -> None:
        """Leave, stand up or stop watching with the table's button (saying yes if it asks first)."""
        self.page.click("#leave")
        self.confirm_leave()

    def confirm_leave(self) -> None:
        """Mid-hand the table asks before letting go of the seat: say yes; then we are in the lobby."""
        self.page.wait_for_selector("#lobby-view:not([hidden]), #leave-confirm-dialog[open]")
        if self.page.locator("#leave-confirm-dialog[open]").count():
            self.page.click("#leave-confirm-ok")
        self.page.wait_for_selector("#lobby-view:not([hidden])")

    # ---- table ---------------------------------------------------------------------------------

    def attr(self, name: str) -> str:
        return self.page.get_attribute("#table-view", f"data-{name}") or ""

    def chat(self, text: str) -> None:
        self.page.fill("#chat-input", text)
        self.page.press("#chat-input", "Enter")

    def wait_ready(self, timeout: float = 20_000) -> None:
        self.page.wait_for_function(READY_JS, timeout=timeout)

    def _acted(self, before_seq: str, timeout: float = 15_000) -> None:
        """After a click: wait until the table moved on (new seq), the game ended, or an 8 asks its suit."""
        self.page.wait_for_function(
            """(seq) => { const v = document.getElementById('table-view');
              return v.dataset.status === 'over' || (v.dataset.seq !== seq && v.dataset.busy === 'false') ||
                (v.dataset.busy === 'false' && v.dataset.myTurn === 'true') ||
                !document.getElementById('suit-picker')?.hidden; }""", arg=before_seq, timeout=timeout)

    def play_one(self, *, keyboard: bool = False) -> bool:
        """Make one move if it is our turn; False when the game is over."""
        page = self.page
        self.wait_ready()
        if self.attr("status") == "over":
            return False
        seq = self.attr("seq")
        game = self.attr("game")
        if page.is_visible("#suit-picker"):
            if keyboard:
                page.keyboard.press("h")
            else:
                page.click("#suit-picker .suit-choice >> nth=0")
        elif game == "hearts" and page.is_visible("#pass-cards"):
            cards = page.locator("#hand button.playcard:not([disabled])")
            for i in range(3):
                if keyboard:
                    page.keyboard.press(str(i + 1))
                else:
                    tap_card(cards.nth(i))
            page.wait_for_selector("#pass-cards:not([disabled])")
            if keyboard:
                page.keyboard.press("p")
            else:
                page.click("#pass-cards")
        elif game == "holdem":
            for button in ("#check", "#call"):
                if page.is_visible(button) and page.is_enabled(button):
                    page.click(button)
                    break
            else:
                raise AssertionError("my turn at hold'em, but neither check nor call is offered")
        else:
            legal = page.locator("#hand button.playcard.legal:not([disabled])")
            if legal.count():
                if keyboard:
                    page.keyboard.press("1")
                else:
                    tap_card(legal.first)
            elif page.is_enabled("#draw"):
                page.keyboard.press("d") if keyboard else page.click("#draw")
            elif page.is_enabled("#pass"):
                page.keyboard.press("p") if keyboard else page.click("#pass")
            else:
                raise AssertionError(f"my turn but nothing to do: {page.inner_text('#prompt')}")
        self.moves += 1
        self._acted(seq)
        return self.attr("status") != "over"

    def play_until_over(self, limit_s: float = 90, *, keyboard_every: int = 0,
                        each_move: Any = None) -> None:
        """Play (by clicks; every `keyboard_every`-th move by keys) until the result shows."""
        deadline = time.monotonic() + limit_s
        n = 0
        while time.monotonic() < deadline:
            n += 1
            keyboard = bool(keyboard_every) and n % keyboard_every == 0
            if not self.play_one(keyboard=keyboard):
                self.page.wait_for_selector("#result:not([hidden])")
                return
            if each_move is not None:
                each_move(self)
        raise AssertionError(f"{self.name}: the game did not end within {limit_s}s ({self.moves} moves)")

    def play_hand(self, limit_s: float = 60, each_move: Any = None) -> None:
        """Hold'em: check or call until the hand's result shows (hands then follow by themselves)."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            self.page.wait_for_function("""() => document.getElementById('hand-result') ||
                document.getElementById('table-view').dataset.myTurn === 'true'""", timeout=20_000)
            if self.page.locator("#hand-result").count():
                return
            if each_move is not None:
                each_move(self)
            seq = self.attr("seq")
            for button in ("#check", "#call"):
                if self.page.is_visible(button) and self.page.is_enabled(button):
                    self.page.click(button)
                    break
            else:
                raise AssertionError("my turn at hold'em, but neither check nor call is offered")
            self.moves += 1
            self._acted(seq)
        raise AssertionError(f"{self.name}: no hand ended within {limit_s}s")

    def result_text(self) -> str:
        return self.page.inner_text("#result")

    def hand_cards(self) -> list[str]:
        return [c for c in self.page.eval_on_selector_all(
            "#hand .playcard.face", "els => els.map(e => e.dataset.card)") if c]

    def face_up_cards_in_seats(self, exclude_seat: int | None = None) -> list[str]:
        """Face-up card elements inside the seats (other players' hands must never be face up)."""
        selector = "#felt .seat .playcard.face"
        if exclude_seat is not None:
            selector = f"#felt .seat:not([data-seat='{exclude_seat}']) .playcard.face"
        cards = self.page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.card)")
        return [str(c) for c in cards]


def tap_card(card: Locator) -> None:
    """Tap a card of the hand where a player would: its top left corner. In a tight fan (a phone's) the
    next card covers a card's middle, and an illegal neighbour does not rise with it."""
    card.click(position={"x": 5, "y": 5})


def chips_of(text: str) -> int:
    return int(re.sub(r"[^0-9-]", "", text) or 0)
