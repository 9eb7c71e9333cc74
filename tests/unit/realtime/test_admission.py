"""realtime.admission: per-address limits on new and unauthenticated sessions, alone (a fake clock) and
in the SockJS adapter on a real Tornado server (websocket and xhr: HTTP 429 before any session exists)."""

from __future__ import annotations

from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from realtime.admission import TOO_MANY_NEW, TOO_MANY_UNAUTHENTICATED, Admission, address_key
from tests.unit.realtime.test_sockjs_adapter import Echo, Env, async_test, make_settings, new_sid, serve


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_unauthenticated_sessions_are_capped_per_address_until_they_authenticate_or_close() -> None:
    refusals: list[str] = []
    gate = Admission(max_unauthenticated=2, rate=1000, burst=1000, on_refused=refusals.append)
    for _ in range(2):
        assert gate.admit("10.0.0.1") is None
        gate.opened("10.0.0.1")
    assert gate.admit("10.0.0.1") == TOO_MANY_UNAUTHENTICATED
    assert gate.admit("10.0.0.2") is None, "another address is not affected"
    gate.authenticated("10.0.0.1")
    assert gate.admit("10.0.0.1") is None
    gate.opened("10.0.0.1")
    gate.closed("10.0.0.1")
    gate.closed("10.0.0.1")
    assert gate.unauthenticated == {}, "nothing is kept for an address with nothing open"
    assert refusals == [TOO_MANY_UNAUTHENTICATED]


def test_new_sessions_come_at_a_rate_per_address_in_bursts() -> None:
    clock = Clock()
    gate = Admission(max_unauthenticated=100, rate=2, burst=3, clock=clock)
    assert [gate.admit("10.0.0.1") for _ in range(4)] == [None, None, None, TOO_MANY_NEW]
    assert gate.admit("10.0.0.9") is None
    clock.now += 0.5  # one more at 2 a second
    assert [gate.admit("10.0.0.1") for _ in range(2)] == [None, TOO_MANY_NEW]
    clock.now += 60  # refills only to the burst
    assert [gate.admit("10.0.0.1") for _ in range(4)] == [None, None, None, TOO_MANY_NEW]
    assert gate.retry_after() == 1


def test_ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:10.1.2.3") == "10.1.2.3"
    gate = Admission(max_unauthenticated=1, rate=1000, burst=1000)
    gate.opened("2001:db8:1:2::1")
    assert gate.admit("2001:db8:1:2::77") == TOO_MANY_UNAUTHENTICATED


def test_remembered_addresses_are_bounded() -> None:
    clock = Clock()
    gate = Admission(max_unauthenticated=5, rate=1, burst=5, clock=clock)
    for i in range(30_000):
        gate.admit(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
    assert len(gate._buckets) <= 10_001


# ---- in the adapter: real server, real transports ------------------------------------------------------


class Signing(Echo):
    """Echo that counts as authenticated once the client says "auth"."""

    def on_message(self, text: str) -> None:
        if text == "auth":
            self.authenticated()
        super().on_message(text)


def limited(**changes: Any) -> Any:
    return make_settings(**({"max_unauthenticated_per_address": 3, "new_sessions_per_address": 1000,
                             "new_sessions_burst": 1000} | changes))


async def refused_ws(env: Env, source: str | None = None) -> HTTPClientError:
    url = f"ws://127.0.0.1:{env.port}/sockjs/000/{new_sid()}/websocket"
    with pytest.raises(HTTPClientError) as caught:
        ws = await websocket_connect(HTTPRequest(url, network_interface=source))
        env.opened.append(ws)
    return caught.value


async def open_ws(env: Env, source: str | None = None) -> Any:
    url = f"ws://127.0.0.1:{env.port}/sockjs/000/{new_sid()}/websocket"
    ws = await websocket_connect(HTTPRequest(url, network_interface=source))
    env.opened.append(ws)
    assert await ws.read_message() == "o"
    return ws


@async_test
async def test_websockets_past_the_cap_get_429_before_the_upgrade_others_do_not_notice() -> None:
    async with serve(limited(), Signing) as env:
        opened = [await open_ws(env) for _ in range(3)]
        refused = await refused_ws(env)
        assert refused.code == 429 and refused.response is not None
        assert refused.response.headers["Retry-After"] == "1"
        assert len(env.rec.conns) == 3, "no session was built for the refused one"
        assert env.router.counters["refused_unauthenticated"] == 1
        await open_ws(env, source="127.0.0.2")  # another address: its own count
        opened[0].write_message('["auth"]')
        assert await opened[0].read_message() == 'a["auth"]'
        fourth = await open_ws(env)  # one of the three signed in: there is room again
        fourth.close()
        await env.rec.until(lambda: sum(env.rec.closes.values()) == 1)
        await open_ws(env)  # and a closed one frees its place


@async_test
async def test_xhr_sessions_count_alike_and_an_open_one_keeps_polling() -> None:
    async with serve(limited(), Signing) as env:
        sids = [new_sid() for _ in range(3)]
        for sid in sids:
            resp = await env.fetch(f"/000/{sid}/xhr")
            assert resp.code == 200 and resp.body == b"o\n"
        refused = await env.fetch(f"/000/{new_sid()}/xhr")
        assert refused.code == 429 and b"waiting to sign in" in refused.body
        refused = await env.fetch(f"/000/{new_sid()}/xhr_streaming")
        assert refused.code == 429
        assert (await refused_ws(env)).code == 429, "websockets and xhr share the address's count"
        # the sessions already open are not new: sending and polling go on
        sent = await env.fetch(f"/000/{sids[0]}/xhr_send", body='["auth"]')
        assert sent.code == 204
        polled = await env.fetch(f"/000/{sids[0]}/xhr")
        assert polled.code == 200 and polled.body == b'a["auth"]\n'
        assert (await env.fetch(f"/000/{new_sid()}/xhr")).code == 200, "it signed in: room for one more"


@async_test
async def test_new_sessions_past_the_rate_get_429_on_every_transport() -> None:
    async with serve(limited(max_unauthenticated_per_address=100, new_sessions_per_address=0.001,
                             new_sessions_burst=2)) as env:
        await open_ws(env)
        assert (await env.fetch(f"/000/{new_sid()}/xhr")).code == 200
        too_fast = await env.fetch(f"/000/{new_sid()}/xhr")
        assert too_fast.code == 429 and b"Too many new connections" in too_fast.body
        assert too_fast.headers["Retry-After"] == "1000"
        assert (await refused_ws(env)).code == 429
        assert env.router.counters["refused_new_sessions"] == 2
        await open_ws(env, source="127.0.0.3")
