"""People play every game in the browser, by clicks and keys, through to the result.

Also: accounts (register, log in, log out), the live lobby, a spectator who never sees a hidden card,
chat between two browsers (kept across a reload), phone-sized screens, and the screenshots in
docs/screenshots/.
"""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

from playwright.sync_api import expect  # noqa: E402

from tests.browser.person import PHONE, Person, chips_of
from tests.integration.stack import WebUser

pytestmark = pytest.mark.browser


def test_register_log_out_and_in(person) -> None:
    ann = person("ann")
    page = ann.page
    expect(page.locator("#who")).to_contain_text(ann.name)
    assert chips_of(page.inner_text("#chips")) == 10_000
    expect(page.locator("#conn")).to_contain_text("Connected")
    ann.logout()
    expect(page.locator("nav a[href='/login']")).to_be_visible()
    assert page.locator("#lobby-view").count() == 0
    ann.login()
    expect(page.locator("#who")).to_contain_text(ann.name)
    expect(page.locator("#quick-buttons button")).to_have_count(3)


def test_quick_play_crazy_eights(person) -> None:
    cy = person("cy")
    cy.page.click("#quick-buttons button[data-game=crazy_eights]")
    cy.page.wait_for_selector("#table-view[data-status=playing]")
    assert cy.attr("seat") == "0"
    assert cy.page.locator("#felt .seat .tag.bot").count() == 2
    cy.play_until_over(60)
    assert re.search(r"won|tied", cy.result_text())
    first = cy.table_id
    cy.page.click("#rematch")  # a new table, same settings, the same number of bots, dealt at once
    cy.page.wait_for_function("(t) => { const v = document.getElementById('table-view');"
                              " return v.dataset.table !== t && v.dataset.status === 'playing'; }", arg=first)
    assert cy.page.locator("#felt .seat").count() == 3
    cy.leave()


def test_crazy_eights_with_a_spectator_and_chat(person) -> None:
    ann = person("ann")
    bea = person("bea")
    table = ann.create_table("crazy_eights", seats=3, options={"queen_skips": True})
    expect(ann.page.locator("#felt .seat")).to_have_count(3)
    ann.fill_with_bots()

    # the lobby of another person updates by itself: two bots sat down
    row = bea.page.locator(bea.lobby_row(table))
    expect(row).to_contain_text("3/3")
    expect(row.locator("td").nth(1)).to_contain_text(ann.name)
    row.locator("button.watch").click()
    bea.page.wait_for_selector("#table-view[data-role=spectator]")
    expect(ann.page.locator("#table-view .badge.watching")).to_have_count(0)

    ann.start()
    expect(bea.page.locator("#table-view")).to_have_attribute("data-status", "playing")

    # chat both ways, inserted as text (markup stays visible as characters)
    ann.chat("good luck <b>bea</b> & co")
    expect(bea.page.locator("#chat-lines")).to_contain_text("good luck <b>bea</b> & co")
    assert bea.page.locator("#chat-lines b").count() == 0
    bea.chat("thanks, ann!")
    expect(ann.page.locator("#chat-lines")).to_contain_text("thanks, ann!")
    expect(ann.page.locator("#chat-lines .who").last).to_have_text(bea.name)
    # a reload keeps the table's chat: the server sends its recent lines when the page resumes the table
    ann.page.reload()
    ann.wait_connected()
    ann.page.wait_for_selector("#table-view[data-status]:not([data-status=loading])")
    expect(ann.page.locator("#chat-lines .chat-line")).to_have_count(2)
    expect(ann.page.locator("#chat-lines .said").first).to_have_text("good luck <b>bea</b> & co")
    expect(ann.page.locator("#chat-lines .said").last).to_have_text("thanks, ann!")

    def spectator_sees_no_hidden_card(p: Person) -> None:
        assert bea.face_up_cards_in_seats() == []
        assert bea.hand_cards() == []
        assert ann.face_up_cards_in_seats() == []  # the player sees backs for the others too
        assert len(ann.hand_cards()) > 0 or ann.attr("status") == "over"

    ann.play_until_over(90, keyboard_every=3, each_move=spectator_sees_no_hidden_card)
    assert re.search(r"won|tied", ann.result_text())
    expect(bea.page.locator("#result")).to_be_visible()
    expect(bea.page.locator("#result")).to_contain_text("Penalty points")
    assert bea.face_up_cards_in_seats() == []
    # the spectator's lobby shows the finished table went away from the waiting list on leaving
    bea.page.click("#to-lobby")
    bea.page.wait_for_selector("#lobby-view:not([hidden])")
    assert not ann.errors and not bea.errors, ann.errors + bea.errors


def test_hearts_match_with_passing(person) -> None:
    dee = person("dee")
    dee.create_table("hearts", options={"target": 20})
    dee.fill_with_bots()
    dee.start()
    # the first deal passes left: three cards chosen, then passed
    expect(dee.page.locator("#prompt")).to_contain_text("Choose three cards to pass left")
    hand = dee.page.locator("#hand button.playcard")
    expect(hand).to_have_count(13)
    for i in range(3):
        hand.nth(i).click()
    expect(dee.page.locator("#hand button.playcard.selected")).to_have_count(3)
    dee.screenshot("hearts-passing")
    dee.page.click("#pass-cards")
    def snap(p: Person) -> None:
        assert p.face_up_cards_in_seats() == []

    dee.play_until_over(150, keyboard_every=4, each_move=snap)
    text = dee.result_text()
    assert re.search(r"won|tied", text)
    scores = [int(s) for s in dee.page.locator("#result tbody td.num").all_inner_texts()]
    assert len(scores) == 4 and max(scores) >= 20
    assert not dee.errors, dee.errors


def test_holdem_cash_table(person) -> None:
    eve = person("eve")
    gus = person("gus")
    table = eve.create_table("holdem", seats=3, options={"small_blind": 25, "big_blind": 50,
                                                         "min_buy_in": 1000, "max_buy_in": 5000})
    expect(eve.page.locator("#chips")).to_have_attribute("data-chips", str(10_000 - 1000))  # bought in

    # another person sits down from the lobby with a buy-in of their choice, then stands up again
    gus.page.locator(gus.lobby_row(table)).locator("button.join").click()
    gus.page.fill("#buy-in", "1500")
    gus.page.click("#buy-in-ok")
    gus.page.wait_for_selector(f"#table-view[data-table='{table}'][data-role=player]")
    expect(gus.page.locator("#chips")).to_have_attribute("data-chips", str(10_000 - 1500))
    expect(eve.page.locator("#felt .seat[data-seat='1']")).to_contain_text(gus.name)
    expect(eve.page.locator("#felt .seat[data-seat='1']")).to_contain_text("1,500 chips")
    gus.leave()  # between hands: at once, no question
    expect(gus.page.locator("#chips")).to_have_attribute("data-chips", "10000")
    expect(eve.page.locator("#felt .seat[data-seat='1']")).to_contain_text("Empty seat")

    eve.fill_with_bots()
    eve.page.click("#start")
    eve.page.wait_for_selector("#board")
    expect(eve.page.locator("#hand .playcard.face")).to_have_count(2)  # our hole cards, face up
    expect(eve.page.locator("#board .playcard")).to_have_count(5)  # five places on the board
    def look(p: Person) -> None:
        for seat in (1, 2):  # the bots' cards: backs, or both shown at a showdown
            assert p.page.locator(f"#felt .seat[data-seat='{seat}'] .playcard.face").count() in (0, 2)

    eve.play_hand(60, each_move=look)
    result = eve.page.inner_text("#hand-result")
    # (a pot split evenly between everyone changes nobody's stack)
    assert result.startswith("Last hand:") and re.search(r"[+−]\d|no chips changed hands", result), result
    stack = chips_of(eve.page.locator("#scores tr.me td").nth(1).inner_text())
    eve.leave()  # stand up: the stack goes back to the balance (after the hand, if one is on)
    eve.page.wait_for_function("""async (want) => {
        const r = await fetch('/api/me'); const me = (await r.json()).user;
        return me.chips !== want; }""", arg=10_000 - 1000, timeout=20_000)
    # the page shows the new balance once it asks again (an older answer may land first: ask until it shows)
    eve.page.wait_for_function("""async (want) => {
        await felt.refreshMe(); return document.querySelector('#chips').dataset.chips !== String(want); }""",
                               arg=10_000 - 1000, timeout=20_000)
    assert stack >= 0
    assert not eve.errors and not gus.errors, eve.errors + gus.errors


def test_phone_sized_screen(person) -> None:
    fay = person("fay", viewport=PHONE)
    overflow = "() => document.documentElement.scrollWidth - window.innerWidth"
    assert fay.page.evaluate(overflow) <= 0
    fay.create_table("crazy_eights", seats=4, clock=30)
    fay.fill_with_bots()
    fay.start()
    fay.wait_ready()
    if fay.attr("my-turn") == "true":  # the clock: a countdown next to whoever is to move
        expect(fay.page.locator("#prompt .countdown")).to_have_text(re.compile(r"^[1-3]?\d+s$"))
    expect(fay.page.locator("#felt .seat.turn .countdown")).to_have_count(1)
    assert fay.page.evaluate(overflow) <= 0
    fay.play_until_over(90)
    assert re.search(r"won|tied", fay.result_text())


def test_live_lobby_and_readable_errors(person, stack) -> None:
    ann = person("ann")
    bea = person("bea")
    cid = person("cid")
    hearts = ann.create_table("hearts", options={"target": 50}, clock=30)
    row = bea.page.locator(bea.lobby_row(hearts))
    expect(row).to_contain_text("1/4")  # appeared without a reload
    expect(row).to_contain_text("30s clock")
    ann.page.click("#felt .seat[data-seat='1'] .add-bot")
    expect(row).to_contain_text("2/4")
    row.locator("button.join").click()
    bea.page.wait_for_selector(f"#table-view[data-table='{hearts}'][data-seat='2']")
    expect(ann.page.locator("#felt .seat[data-seat='2']")).to_contain_text(bea.name)
    expect(cid.page.locator(cid.lobby_row(hearts))).to_contain_text("3/4")
    # the last seat: the start button waits for it
    expect(ann.page.locator("#start")).to_be_disabled()

    poker = cid.create_table("holdem", seats=6)
    cid.page.click("#fill-bots")
    expect(ann.page.locator("#table-view")).to_be_visible()
    dee = person("dee")
    expect(dee.page.locator(dee.lobby_row(poker))).to_contain_text("6/6")
    expect(dee.page.locator(dee.lobby_row(hearts))).to_contain_text("3/4")
    dee.page.locator(dee.lobby_row(poker)).locator("button.watch").click()
    dee.page.wait_for_selector("#table-view[data-role=spectator]")
    dee.back_to_lobby()
    dee.screenshot("lobby")

    # a refused request is shown in words, never silently
    dee.page.evaluate("felt.request({msg: 'join', table: 'g1-9999'}).catch(() => {})")
    expect(dee.page.locator("#toasts .toast").last).to_contain_text("no table g1-9999")
    bea.back_to_lobby()  # leaving a waiting table frees the seat, for everyone to see
    expect(ann.page.locator("#felt .seat[data-seat='2']")).to_contain_text("Empty seat")
    assert not any(p.errors for p in (ann, bea, cid, dee))


def test_table_page_needs_login(stack) -> None:
    """/table/<id> is the same client page (a link to a table works), for logged-in people only."""
    stranger = WebUser(stack.frontend_url, "nobody")
    status, page = stranger.get("/table/g1-0001")
    assert status == 200 and 'action="/login"' in page  # redirected to the login form
    user = WebUser(stack.frontend_url, "linkuser").register()
    status, page = user.get("/table/g1-0001")
    assert status == 200 and 'src="/static/js/lobby.js"' in page
    assert user.get("/table/bad%20id")[0] == 404


def test_hand_legal_cards_keys_and_the_suit_picker(person) -> None:
    """The table view from a given view frame: sorting, highlighting, keys, and naming a suit after an 8."""
    ivy = person("ivy")
    page = ivy.page
    page.evaluate("""() => {
      window.__sent = [];
      felt.net.request = (body) => { window.__sent.push(body); return new Promise(() => {}); };
      const legal = [{type: 'play', cards: ['5H', 'KH']}, {type: 'draw'},
                     {type: 'play', cards: ['8C'], suits: ['C', 'D', 'H', 'S']}];
      felt.tableFor('g9-0001').onView({msg: 'view', table: 'g9-0001', seq: 7, game: 'crazy_eights',
        status: 'playing', players: ['ivy', '<i>Rex</i>'], bots: [1], seat: 0, events: [], deadline: null,
        view: {game: 'crazy_eights', seats: 2, dealer: 1, counts: [5, 6], top: 'KD', suit: 'H', turn: 0,
               stock: 30, drawn_this_turn: 0, direction: 1, pending_draw: 0, plays: 3,
               discards: ['4D', 'KD'], over: false, seat: 0, hand: ['KH', '2S', '8C', '5H', 'AD'], legal,
               options: {queen_skips: false, ace_reverses: false, two_draws_two: false}}});
      felt.openTable('g9-0001', {push: false});
    }""")
    assert ivy.hand_cards() == ["8C", "AD", "2S", "5H", "KH"]  # sorted: clubs, diamonds, spades, hearts
    legal = page.eval_on_selector_all("#hand button.playcard:not([disabled])",
                                      "els => els.map(e => e.dataset.card)")
    assert legal == ["8C", "5H", "KH"]
    assert page.locator("#hand button.playcard[disabled]").count() == 2
    expect(page.locator("#felt .seat[data-seat='1'] .name")).to_have_text("<i>Rex</i>")  # a name is text
    assert ivy.face_up_cards_in_seats() == []
    page.keyboard.press("1")  # the first playable card is the 8: the suit picker opens
    expect(page.locator("#suit-picker")).to_be_visible()
    page.keyboard.press("h")
    sent = page.evaluate("window.__sent")
    assert sent[-1] == {"msg": "act", "table": "g9-0001",
                        "action": {"type": "play", "card": "8C", "suit": "H"}, "seq": 7}
    page.evaluate("felt.current.busy = false; felt.current.render()")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    assert page.evaluate("window.__sent")[-1]["action"] == {"type": "play", "card": "5H"}
    page.evaluate("felt.current.busy = false; felt.current.render()")
    page.keyboard.press("d")
    assert page.evaluate("window.__sent")[-1]["action"] == {"type": "draw"}
