"""Issue 15's attacks, against real processes on loopback, each bounded in count and time: the attack is
refused (with a clear error and a counter) and everyone else is unaffected.

This module starts its own stack with small limits, so each attack trips its limit quickly.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from common import protocol as p
from common import tokens
from realtime.client import Closed, FeltClient
from tests.hostile import StalledWebSocket
from tests.integration.conftest import acked, created_table, run, started_stack
from tests.integration.players import UserFactory, connect_player, play_until_over
from tests.integration.stack import Stack, WebUser

LIMITS = {
    "FELT_MAX_OUT_BYTES": str(128 * 1024),
    "FELT_CLIENT_RATE": "1000",
    # the real defaults (the shared stack lifts them): each person here comes from their own address
    "FELT_LOGIN_ADDRESS_LIMIT": "20 per minute; 100 per hour",
    "FELT_LOGIN_ACCOUNT_LIMIT": "5 per minute; 20 per hour",
    "FELT_REGISTER_ADDRESS_LIMIT": "3 per minute; 10 per day",
    # small per-address session limits (the shared stack lifts them); connections wait long enough to sign
    # in that the auth timeout frees no place during a flood
    "FELT_MAX_UNAUTHENTICATED_PER_ADDRESS": "10",
    "FELT_NEW_SESSIONS_PER_ADDRESS": "1",
    "FELT_NEW_SESSIONS_BURST": "30",
    "FELT_AUTH_TIMEOUT": "30",
}
_people = itertools.count(1)


def address() -> str:
    """A loopback address nobody else in this module uses."""
    n = next(_people)
    return f"127.0.{n // 250 + 1}.{n % 250 + 1}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from started_stack(tmp_path_factory, "attacks", realtime=1, gameservers=1, env=LIMITS)


@pytest.fixture
def new_user(stack: Stack) -> UserFactory:
    """Registered users, each from an address of their own."""

    def make(prefix: str = "player") -> WebUser:
        return WebUser(stack.frontend_url, f"{prefix}{next(_people)}", source=address()).register()

    return make


def health(stack: Stack, i: int = 0) -> dict[str, Any]:
    url = stack.realtime_url(i).removesuffix("/sockjs") + "/healthz"
    with urllib.request.urlopen(url, timeout=5) as resp:
        body: dict[str, Any] = json.loads(resp.read())
    return body


def sockjs_path(stack: Stack, sid: str) -> tuple[int, str]:
    return stack.realtime_ports[0], f"/sockjs/000/{sid}/websocket"


async def pinger(client: FeltClient, stop: asyncio.Event, rtts: list[float]) -> None:
    """Ping every 50 ms until `stop`, recording each round trip."""
    while not stop.is_set():
        start = time.monotonic()
        pong = await client.request(p.Ping(), timeout=5)
        assert isinstance(pong, p.Pong), pong
        rtts.append(time.monotonic() - start)
        await asyncio.sleep(0.05)


def test_a_stalled_reader_is_cut_off_its_seat_held_and_others_unaffected(stack, new_user) -> None:
    """Issue 15: a client that never reads grew realtime memory without bound."""
    sam, hal = new_user("stalled"), new_user("healthy")

    async def scenario() -> None:
        port, path = sockjs_path(stack, "stalled1")
        stalled = await StalledWebSocket.open(port, path, stack.origin)
        healthy = await connect_player(stack.realtime_url(0), hal.token()["token"], stack.origin)
        try:
            stalled.send(json.dumps([p.encode_str(p.Auth(token=sam.token()["token"]))]))
            assert "welcome" in (await stalled.frame() or "")
            stalled.send(json.dumps([p.encode_str(p.CreateTable(game="crazy_eights", seats=2, req=1))]))
            ack = p.decode_server(json.loads((await stalled.frame() or "a[]")[1:])[0])
            table = created_table(ack)
            for _ in range(30):  # a long lobby makes every list_tables answer big
                created_table(await healthy.request(p.CreateTable(game="hearts", seats=4)))
            stop, rtts = asyncio.Event(), list[float]()
            ping = asyncio.ensure_future(pinger(healthy, stop, rtts))
            before = health(stack)["refused"].get("too_slow", 0)
            deadline = time.monotonic() + 30
            sent = 0
            while health(stack)["refused"].get("too_slow", 0) == before:
                assert time.monotonic() < deadline, f"not cut off after {sent} list_tables"
                batch = [p.encode_str(p.ListTables(req=10 + sent + i)) for i in range(100)]
                stalled.send(json.dumps(batch))
                sent += len(batch)
                await asyncio.sleep(0.1)
            stop.set()
            await ping
            assert rtts and max(rtts) < 1.0, f"others were held up: {max(rtts):.3f} s"
            # it was told why, after what it had not read, and closed with 4008
            frames = []
            while (frame := await stalled.frame(timeout=10)) is not None:
                frames.append(frame)
            last = [json.loads(f[1:]) for f in frames[-2:]]
            assert last[1] == [4008, "Too slow: fell behind reading"], frames[-2:]
            notice = p.decode_server(last[0][-1])
            assert isinstance(notice, p.Error) and notice.code == p.E_TOO_SLOW, notice
            # the seat is held: back with a fresh connection, resume finds it
            again = await connect_player(stack.realtime_url(0), sam.token()["token"], stack.origin)
            try:
                assert isinstance(await again.request(p.Resume(table=table)), p.Ack)
                view = await again.recv()
                while not isinstance(view, p.View):
                    view = await again.recv()
                assert view.seat == 0 and view.players[0] == sam.username
            finally:
                await again.close()
        finally:
            await stalled.close()
            await healthy.close()

    run(scenario())


SPOOFS = ["nul\x00", "bell\x07", "\x1b[2J\x1b[31mred", "evil\u202egnp.exe", "zero\u200bwidth", "bom\ufeff"]


def test_spoofing_in_chat_and_absurd_options_are_refused(stack, new_user) -> None:
    """Issue 15: NUL, BEL/ANSI, RTL overrides and zero-width characters were relayed; target 10**18 taken."""
    ann, bob = new_user("spoof"), new_user("reader")

    async def scenario() -> None:
        a = await connect_player(stack.realtime_url(0), ann.token()["token"], stack.origin)
        b = await connect_player(stack.realtime_url(0), bob.token()["token"], stack.origin, "xhr")
        try:
            err = await a.request(p.CreateTable(game="hearts", seats=4, options={"target": 10**18}))
            assert isinstance(err, p.Error) and err.code == p.E_BAD_TABLE and "target" in err.text, err
            table = created_table(await a.request(p.CreateTable(game="crazy_eights", seats=2)))
            assert isinstance(await b.request(p.Join(table=table)), p.Ack)
            for i, text in enumerate(SPOOFS):  # p.Chat refuses to build them: sent as an attacker would
                await a.send_raw(json.dumps({"msg": "chat", "table": table, "text": text, "req": 900 + i}))
                err = await a.recv()
                while not isinstance(err, p.Error):
                    err = await a.recv()
                assert isinstance(err, p.Error) and err.code == p.E_BAD_TEXT and "U+" in err.text, err
            assert isinstance(await a.request(p.Chat(table=table, text="clean")), p.Ack)
            while True:  # everything bob hears until the clean line: views, and no spoofed chat
                msg = await b.recv()
                if isinstance(msg, p.ChatLine):
                    assert msg.text == "clean", msg
                    break
        finally:
            await a.close()
            await b.close()

    run(scenario())


def test_login_is_throttled_per_address_and_account_and_the_owner_still_gets_in(stack, new_user) -> None:
    """Issue 15: 155 wrong passwords in 6 s from one address, no lockout or slow-down."""
    owner = new_user("owner")  # registered (logged in) from their browser: a known device
    attacker = WebUser(stack.frontend_url, owner.username, "wrong password!", source=address())
    tries = [attacker.post_form("/login", {"username": owner.username, "password": f"guess{i}"})
             for i in range(40)]
    answers = [status for status, _ in tries]
    # both gunicorn workers count in the database: exactly the account's 5 failures a minute are answered
    assert answers == [400] * 5 + [429] * 35, answers
    # the owner's right password from a stranger's browser is held back too: the account limit holds
    thief = WebUser(stack.frontend_url, owner.username, owner.password, source=address())
    assert all(thief.post_form("/login", {"username": owner.username, "password": owner.password})[0] == 429
               for _ in range(3))
    # ... but the owner, from the browser they logged in with before, gets in
    status, page = owner.post_form("/login", {"username": owner.username, "password": owner.password})
    assert status == 200 and owner.token()["user"]["name"] == owner.username
    # no enumeration: a name nobody has is answered alike, page for page
    prober = WebUser(stack.frontend_url, "nobody", source=address())
    probes = [prober.post_form("/login", {"username": "nobody_at_all", "password": f"g{i}"})
              for i in range(40)]
    probed = [status for status, _ in probes]
    assert probed == answers, probed
    assert {page for status, page in probes if status == 429} == {page for status, page in tries
                                                                   if status == 429}
    # one address flooding logins for many names hits the address limit
    flood = WebUser(stack.frontend_url, "x", source=address())
    statuses = [flood.post_form("/login", {"username": f"name{i}", "password": "x"})[0] for i in range(50)]
    assert statuses == [400] * 20 + [429] * 30, statuses
    # everyone else logs in as usual
    other = new_user("bystander")
    assert other.login().token()["user"]["name"] == other.username


def test_registration_is_rate_limited_per_address(stack, new_user) -> None:
    """Issue 15: 15 accounts in 1.3 s, each with 10,000 free chips."""
    source = address()
    made = []
    for _ in range(15):
        person = WebUser(stack.frontend_url, f"farm{next(_people)}", source=source)
        status, _ = person.post_form("/register", {"username": person.username, "password": person.password,
                                                   "confirm": person.password})
        made.append(status)
    assert made == [200] * 3 + [429] * 12, made
    assert new_user("elsewhere").token()["user"]["chips"] == 10_000  # another address registers as usual


KEYS = {"k1": "integration-test-secret"}


async def refused_then_closed(client: FeltClient, code: str, timeout: float = 5.0) -> None:
    """`client` hears an error `code` (whatever came before it) and then is closed."""
    with pytest.raises(Closed):
        while True:
            msg = await client.recv(timeout=timeout)
            if isinstance(msg, p.Error) and msg.code == code:
                code = ""  # seen: now the close
            elif isinstance(msg, p.Error) and code:
                raise AssertionError(msg)
    assert code == "", "closed without the error"


def test_logout_ends_the_session_its_tokens_and_its_live_connections(stack, new_user) -> None:
    """Issue 15: a cookie replayed after logout still got a token; tokens and connections outlived it."""
    ann, bystander = new_user("leaver"), new_user("stayer")
    old = ann.token()
    replay = WebUser(stack.frontend_url, ann.username, source=address())
    for cookie in ann.jar:
        replay.jar.set_cookie(cookie)

    async def scenario() -> None:
        live = await connect_player(stack.realtime_url(0), old["token"], stack.origin, "xhr_streaming")
        other = await connect_player(stack.realtime_url(0), bystander.token()["token"], stack.origin)
        try:
            assert isinstance(await live.request(p.Ping()), p.Pong)
            status, _ = ann.post_form("/logout", {}, form_page="/")
            assert status == 200
            await refused_then_closed(live, p.E_TOKEN_REVOKED)  # within a heartbeat or two
            assert replay.get("/api/token")[0] == 401  # the replayed cookie is refused
            again = await FeltClient.connect(stack.realtime_url(0), "websocket", origin=stack.origin)
            try:
                await again.send(p.Auth(token=old["token"]))
                await refused_then_closed(again, p.E_TOKEN_REVOKED)
            finally:
                await again.close()
            assert isinstance(await other.request(p.Ping()), p.Pong)  # nobody else noticed
            ann.login()
            fresh = await connect_player(stack.realtime_url(0), ann.token()["token"], stack.origin)
            assert isinstance(await fresh.request(p.ListTables()), p.Tables)
            await fresh.close()
        finally:
            await live.close()
            await other.close()

    run(scenario())


def test_password_change_ends_other_sessions(stack, new_user) -> None:
    bea = new_user("changer")
    laptop = WebUser(stack.frontend_url, bea.username, bea.password, source=address()).login()
    status, _ = bea.post_form("/password", {"current": "not it at all", "password": "new password 1",
                                            "confirm": "new password 1"})
    assert status == 400 and laptop.get("/api/token")[0] == 200  # a wrong current password changes nothing
    status, _ = bea.post_form("/password", {"current": bea.password, "password": "new password 1",
                                            "confirm": "new password 1"})
    assert status == 200
    assert bea.get("/api/token")[0] == 200  # this session goes on
    assert laptop.get("/api/token")[0] == 401  # the other one ended
    assert laptop.post_form("/login", {"username": bea.username, "password": bea.password})[0] == 400
    bea.password = "new password 1"
    assert WebUser(stack.frontend_url, bea.username, bea.password, source=address()).login().token()


def test_a_live_connection_ends_with_its_token_unless_renewed(stack, new_user) -> None:
    """Issue 15: a live connection outlived its token indefinitely."""
    cat = new_user("expiring")
    uid = cat.token()["user"]["id"]

    def short(ttl: float) -> str:
        return tokens.issue({"uid": uid, "name": cat.username}, KEYS, now=time.time(), ttl=ttl)

    async def scenario() -> None:
        lapsing = await connect_player(stack.realtime_url(0), short(1.5), stack.origin)
        try:
            await refused_then_closed(lapsing, p.E_TOKEN_EXPIRED)
        finally:
            await lapsing.close()
        renewed = await connect_player(stack.realtime_url(0), short(1.5), stack.origin, "xhr")
        try:
            welcome = await renewed.auth(short(60))  # a fresh token on the same connection extends it
            assert isinstance(welcome, p.Welcome), welcome
            await asyncio.sleep(2.0)  # past the first token's expiry (a real clock: the token's own)
            assert isinstance(await renewed.request(p.Ping()), p.Pong)
        finally:
            await renewed.close()

    run(scenario())


def refused_sessions(stack: Stack) -> dict[str, float]:
    """felt_realtime_sessions_refused_total by reason, from the realtime process's metrics endpoint."""
    with urllib.request.urlopen(stack.metrics_url("rt-0"), timeout=5) as resp:
        text = resp.read().decode()
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("felt_realtime_sessions_refused_total{"):
            labels, _, value = line.partition("} ")
            found[labels.split('reason="')[1].rstrip('"')] = float(value)
    return found


def test_a_flood_of_unauthenticated_sessions_is_refused_and_others_play_on(stack, new_user) -> None:
    """Issue 15: 7,671 unauthenticated websockets from one address in 4 s, then 7,046 xhr sessions, each
    held until the auth timeout; no per-address cap."""
    cap = int(LIMITS["FELT_MAX_UNAUTHENTICATED_PER_ADDRESS"])
    ann, bob = new_user("unflooded"), new_user("spinner")
    flooder, spinner = address(), address()

    async def scenario() -> None:
        url, origin = stack.realtime_url(0), stack.origin
        http = AsyncHTTPClient(force_instance=True)
        held: list[WebSocketClientConnection] = []
        kept: list[str] = []  # xhr sessions held open
        refused: list[tuple[str, int]] = []
        counted = health(stack)["refused"]
        player = await connect_player(url, ann.token()["token"], origin)
        try:
            table = created_table(await player.request(p.CreateTable(game="crazy_eights", seats=2)))
            acked(await player.request(p.AddBot(table=table)))
            for i in range(cap + 10):  # websockets and xhr sessions in turn, none signing in
                sid = f"flood{i}"
                if i % 2 == 0:
                    ws_url = url.replace("http://", "ws://") + f"/000/{sid}/websocket"
                    try:
                        ws = await websocket_connect(HTTPRequest(ws_url, headers={"Origin": origin},
                                                                 network_interface=flooder))
                    except HTTPClientError as exc:
                        refused.append(("websocket", exc.code))
                        continue
                    held.append(ws)
                    assert await ws.read_message() == "o"
                else:
                    resp = await http.fetch(f"{url}/000/{sid}/xhr", method="POST", body=b"",
                                            headers={"Origin": origin}, network_interface=flooder,
                                            raise_error=False)
                    if resp.code == 200:
                        kept.append(sid)
                    else:
                        refused.append(("xhr", resp.code))
                        assert resp.headers.get("Retry-After") and b"waiting to sign in" in resp.body
            assert len(held) + len(kept) == cap, (len(held), len(kept), refused)
            assert health(stack)["unauthenticated"] >= cap  # (another test may have one waiting too)
            assert refused == [("websocket", 429), ("xhr", 429)] * 5, refused
            assert health(stack)["refused"].get("refused_unauthenticated", 0) == \
                counted.get("refused_unauthenticated", 0) + 10

            # meanwhile, someone from another address signs in and plays a whole game, unaffected
            acked(await player.request(p.Start(table=table)))
            over, views = await play_until_over(player, table, 0)
            assert over.table == table and views

            # sessions that signed in do not count: one address may hold more than the cap of them
            signed_in = address()
            many = [await connect_player(url, tokens.issue({"uid": 900_000 + i, "name": f"many{i}"}, KEYS,
                                                           now=time.time(), ttl=60), origin, source=signed_in)
                    for i in range(cap + 2)]
            for client in many:
                assert isinstance(await client.request(p.Ping()), p.Pong)
                await client.close()

            # new sessions that do sign in still come at a rate per address: a fast enough spinner is
            # refused, even though none of its sessions stays unauthenticated
            token = bob.token()["token"]
            burst = int(LIMITS["FELT_NEW_SESSIONS_BURST"])
            rate = float(LIMITS["FELT_NEW_SESSIONS_PER_ADDRESS"])
            spun, started = 0, time.monotonic()
            while True:
                assert spun < 150, "a spinner opening sessions as fast as it can was never refused"
                try:
                    client = await connect_player(url, token, origin, source=spinner)
                except HTTPClientError as exc:
                    assert exc.code == 429
                    break
                spun += 1
                await client.close()
            # the whole burst, and no more than the rate added meanwhile (however slow this machine is)
            assert burst <= spun <= burst + rate * (time.monotonic() - started) + 1, spun
            reasons = refused_sessions(stack)
            assert reasons.get("unauthenticated", 0) >= 10 and reasons.get("new_sessions", 0) >= 1, reasons
            # and the player from another address is still served
            assert isinstance(await player.request(p.Ping()), p.Pong)
        finally:
            for ws in held:
                ws.close()
            http.close()
            await player.close()

    run(scenario())
