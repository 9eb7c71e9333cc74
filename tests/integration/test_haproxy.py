"""haproxy in front of a real stack (scripts/haproxy.py following the registry), on loopback.

One public port: `/sockjs/...` reaches the realtime processes, everything else the frontend; a websocket
passes through; every request of an HTTP-transport SockJS session lands on the process that holds it, with
two behind; forwarded addresses count only from the trusted proxy (haproxy, 127.0.0.1), both for the
realtime tier's session binding and for the frontend's login throttle; a realtime process added or drained
in the registry changes haproxy's routing with no hand edit; a stopped one is taken out by its health check.
Skipped without haproxy, except under CI (`FELT_REQUIRE_BROWSER=1`).
"""

from __future__ import annotations

import http.client
import json
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families

from common import protocol as p
from common.registry import DRAINING, Registry
from tests.integration.conftest import run
from tests.integration.players import connect_player
from tests.integration.stack import ROOT, Stack, WebUser, free_port, require_haproxy
from tests.integration.test_run_command import ctl, launched

LOGIN_LIMIT = 2  # login POSTs per address per minute, per gunicorn worker (2)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_haproxy()
    s = Stack(Path(tmp_path_factory.mktemp("haproxy")), realtime=2, gameservers=1, haproxy=True, env={
        "FELT_LOGIN_ADDRESS_LIMIT": f"{LOGIN_LIMIT} per minute",
        "FELT_LOGIN_ACCOUNT_LIMIT": "1000 per minute",
        "FELT_AUTH_TIMEOUT": "30",  # the raw sessions below never authenticate
        # a killed realtime process stays `live` in the registry meanwhile: what takes it out of haproxy is
        # then its health check alone
        "FELT_LEASE_SECONDS": "30",
        "FELT_DRAIN_SPREAD": "3",  # a drained process moves its clients over 3 s, then exits
    })
    try:
        s.start()
        yield s
    finally:
        s.stop()


def request(url: str, *, method: str = "GET", source: str = "127.0.0.1",
            headers: dict[str, str] | None = None, body: str | None = None) -> tuple[int, str]:
    """One HTTP request from local address `source` (any of 127.0.0.0/8)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10,
                                      source_address=(source, 0))
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                     headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def new_session(base: str) -> str:
    """A fresh SockJS session URL under `base` (…/sockjs): /<server>/<session>."""
    return f"{base}/{secrets.randbelow(1000):03d}/{secrets.token_hex(8)}"


def opened(stack: Stack, i: int) -> float:
    """SockJS sessions realtime process `i` has opened so far (its metrics, every transport)."""
    with urllib.request.urlopen(stack.metrics_url(f"rt-{i}"), timeout=5) as resp:
        text = resp.read().decode()
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples if sample.name == "felt_realtime_connections_opened_total")


def name_of(stack: Stack, i: int) -> str:
    return f"rt{stack.realtime_ports[i]}"


def test_one_port_routes_sockjs_to_realtime_and_the_rest_to_the_frontend(stack) -> None:
    status, info = request(f"{stack.origin}/sockjs/info")
    assert status == 200 and json.loads(info)["websocket"] is True  # sockjs's info: a realtime process
    assert request(f"{stack.origin}/sockjs") == (200, "Welcome to SockJS!\n")
    assert request(f"{stack.origin}/healthz") == (200, "ok")  # the frontend's
    status, page = request(f"{stack.origin}/login")
    assert status == 200 and 'name="csrf_token"' in page
    status, _ = request(f"{stack.origin}/static/vendor/sockjs.min.js")
    assert status == 200  # what the iframe transports load, from the same origin
    assert request(f"{stack.origin}/sockjsfoo")[0] == 404  # not a SockJS path: the frontend's 404


def test_a_token_grants_haproxy_and_a_websocket_plays_through_it(stack) -> None:
    user = WebUser(stack.origin, f"ws{secrets.token_hex(3)}").register()
    grant = user.token()
    assert grant["url"] == grant["urls"][0] == f"{stack.origin}/sockjs"

    async def scenario() -> None:
        client = await connect_player(grant["url"], grant["token"], stack.origin, "websocket")
        try:
            assert client.transport == "websocket"
            created = await client.request(p.CreateTable(game="crazy_eights", seats=2))
            assert isinstance(created, p.Ack) and created.table, created
            listed = await client.request(p.ListTables())
            assert isinstance(listed, p.Tables) and created.table in [t.id for t in listed.tables]
        finally:
            await client.close()

    run(scenario())


def test_every_request_of_an_xhr_session_reaches_the_process_holding_it(stack) -> None:
    """24 sessions through haproxy, each: open, send, then poll for the answer. A request that reached the
    other process would find no session there (xhr_send: 404; a poll: a new session's `o`). And the
    sessions were spread over both processes."""
    before = [opened(stack, i) for i in range(2)]
    for _ in range(24):
        session = new_session(f"{stack.origin}/sockjs")
        assert request(f"{session}/xhr", method="POST") == (200, "o\n")
        assert request(f"{session}/xhr_send", method="POST", body='["not an auth message"]')[0] == 204
        status, frames = request(f"{session}/xhr", method="POST")
        assert status == 200 and frames.startswith(("a[", "c[")), frames  # never a new session's "o"
    after = [opened(stack, i) for i in range(2)]
    grew = [a - b for a, b in zip(after, before, strict=True)]
    assert sum(grew) == 24 and min(grew) > 0, grew


@pytest.mark.parametrize("transport", ["xhr", "xhr_streaming"])
def test_an_http_transport_client_plays_through_haproxy(stack, transport: str) -> None:
    user = WebUser(stack.origin, f"xp{secrets.token_hex(3)}").register()
    grant = user.token()

    async def scenario() -> None:
        client = await connect_player(grant["url"], grant["token"], stack.origin, transport)
        try:
            created = await client.request(p.CreateTable(game="hearts", seats=4))
            assert isinstance(created, p.Ack) and created.table, created
            for _ in range(5):  # more sends and receives, all at the process that holds the session
                listed = await client.request(p.ListTables())
                assert isinstance(listed, p.Tables) and created.table in [t.id for t in listed.tables]
        finally:
            await client.close()

    run(scenario())


def test_realtime_believes_forwarded_addresses_only_from_the_trusted_proxy(stack) -> None:
    """sockjs binds a session to its client's address: a request for it from another address is refused
    (xhr_send: 404). So which address a session is bound to shows whose word was taken."""
    direct = stack.realtime_url(0)
    forged = {"X-Forwarded-For": "203.0.113.77", "X-Real-IP": "203.0.113.77"}
    # an untrusted peer's claim is ignored: the session is bound to the address it connects from
    session = new_session(direct)
    assert request(f"{session}/xhr", method="POST", source="127.0.0.5", headers=forged) == (200, "o\n")
    assert request(f"{session}/xhr_send", method="POST", source="127.0.0.5", body='["x"]')[0] == 204
    assert request(f"{session}/xhr_send", method="POST", headers={"X-Forwarded-For": "203.0.113.77"},
                   body='["x"]')[0] == 404  # from the trusted proxy, naming the forged address: not it
    # the trusted proxy's word is taken
    session = new_session(direct)
    assert request(f"{session}/xhr", method="POST", headers=forged) == (200, "o\n")
    assert request(f"{session}/xhr_send", method="POST", headers=forged, body='["x"]')[0] == 204
    # and 127.0.0.1 is not that client
    assert request(f"{session}/xhr_send", method="POST", body='["x"]')[0] == 404
    # through haproxy: the address haproxy saw, whatever the client wrote in front of it
    session = new_session(f"{stack.origin}/sockjs")
    assert request(f"{session}/xhr", method="POST", source="127.0.0.6", headers=forged) == (200, "o\n")
    assert request(f"{session}/xhr_send", method="POST", source="127.0.0.6", body='["x"]')[0] == 204
    assert request(f"{session}/xhr_send", method="POST", source="127.0.0.7",
                   headers={"X-Forwarded-For": "127.0.0.6"}, body='["x"]')[0] == 404


def _failed_logins(base: str, count: int, source: str, forged: bool) -> list[int]:
    """`count` wrong-password logins from `source` (each with another made-up X-Forwarded-For)."""
    statuses = []
    for i in range(count):
        person = WebUser(base, f"nobody{secrets.token_hex(4)}", "wrong password!", source=source)
        if forged:
            person.opener.addheaders.append(("X-Forwarded-For", f"198.51.100.{i + 1}"))
        statuses.append(person.post_form("/login", {"username": person.username,
                                                    "password": person.password})[0])
    return statuses


def test_the_login_throttle_keys_on_the_client_address_haproxy_saw(stack) -> None:
    """Each of the 2 gunicorn workers allows LOGIN_LIMIT logins a minute per address: 2 × LOGIN_LIMIT + 1
    from one address meet a 429 for sure, LOGIN_LIMIT never do."""
    over = 2 * LOGIN_LIMIT + 1
    # straight to the frontend, from an untrusted address, a new made-up address each time: one bucket
    assert 429 in _failed_logins(stack.direct_origin, over, "127.0.0.8", forged=True)
    # through haproxy, made-up addresses too: haproxy appends the real one, which is what counts
    assert 429 in _failed_logins(stack.origin, over, "127.0.0.9", forged=True)
    # and another person behind the same haproxy is not held back by them: counted apart, not as haproxy
    statuses = _failed_logins(stack.origin, LOGIN_LIMIT, "127.0.0.10", forged=False)
    assert statuses == [400] * LOGIN_LIMIT, statuses
    # the trusted proxy itself, straight to the frontend, naming a new client each time: each counted apart
    statuses = _failed_logins(stack.direct_origin, over, "127.0.0.1", forged=True)
    assert 429 not in statuses, statuses


def test_adding_and_draining_a_realtime_server_changes_routing_with_no_hand_edit(stack) -> None:
    i = stack.add_realtime()  # registers itself; nothing is told to haproxy
    name = name_of(stack, i)
    stack.wait_haproxy(lambda servers: name in servers and servers[name].up)
    before = opened(stack, i)
    for _ in range(30):  # new sessions reach it too (each of the three takes about a third)
        assert request(f"{new_session(stack.origin + '/sockjs')}/xhr", method="POST") == (200, "o\n")
    assert opened(stack, i) > before

    user = WebUser(stack.origin, f"dr{secrets.token_hex(3)}").register()

    async def scenario() -> None:
        held = await connect_player(stack.realtime_url(i), user.token()["token"], stack.origin)
        try:
            Registry(stack.engine).set_state(name, DRAINING)
            stack.wait_haproxy(lambda servers: name in servers and servers[name].state == "drain")
            # its client is sent to haproxy's URL, and lands on another process
            move = await held.recv(timeout=10)
            assert isinstance(move, p.Move) and move.url == f"{stack.origin}/sockjs", move
            back = await connect_player(move.url, user.token()["token"], stack.origin, "xhr")
            assert isinstance(await back.request(p.ListTables()), p.Tables)
            await back.close()
        finally:
            await held.close()

    run(scenario())
    # no new session goes to the draining process (nor, once it has exited, to where it was)
    before = opened(stack, 0) + opened(stack, 1)
    for _ in range(20):
        assert request(f"{new_session(stack.origin + '/sockjs')}/xhr", method="POST") == (200, "o\n")
    assert opened(stack, 0) + opened(stack, 1) == before + 20
    # with no client left it exits and leaves the registry: haproxy drops it
    stack.wait_haproxy(lambda servers: name not in servers)
    stack.kill(f"rt-{i}", signal.SIGTERM)


def test_the_health_check_takes_a_stopped_realtime_process_out_and_back(stack) -> None:
    name = name_of(stack, 1)
    stack.kill("rt-1")  # SIGKILL: its registry row stays live (the lease is 30 s here)
    stack.wait_haproxy(lambda servers: not servers[name].up)
    assert name in stack.haproxy_servers()  # still listed (the registry says live): checks took it out
    before = opened(stack, 0)
    for _ in range(10):  # every new session goes to the process still up, none fails
        assert request(f"{new_session(stack.origin + '/sockjs')}/xhr", method="POST") == (200, "o\n")
    assert opened(stack, 0) == before + 10
    stack.start_realtime(1)  # the same name and port: the health check brings it back
    stack.wait_haproxy(lambda servers: servers[name].up)
    for _ in range(30):
        assert request(f"{new_session(stack.origin + '/sockjs')}/xhr", method="POST") == (200, "o\n")
    assert opened(stack, 1) > 0  # counted since its restart


def haproxy_health(env: dict[str, str]) -> dict[str, str]:
    """haproxy's realtime servers and their health, from `python -m scripts.haproxy status`."""
    out = subprocess.run([sys.executable, "-m", "scripts.haproxy", "status"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=30).stdout
    return {row.split()[0]: row.split()[2] for row in out.splitlines()[1:] if len(row.split()) == 4}


def test_scripts_run_with_haproxy_serves_everything_on_one_port(tmp_path: Path) -> None:
    """`scripts/run --haproxy`'s stack (FELT_HAPROXY=true): the printed URL is haproxy's, a token grants its
    SockJS URL, a websocket plays through it, and `scripts/ctl add realtime` reaches haproxy unaided."""
    require_haproxy()
    public = free_port()
    with launched(tmp_path, 1, 1, FELT_HAPROXY="true", FELT_PUBLIC_PORT=str(public)) as (env, frontend, _):
        origin = f"http://127.0.0.1:{public}"
        assert f"Open {origin}/" in (tmp_path / "run.out").read_text()
        deadline = time.monotonic() + 60
        while "up" not in haproxy_health(env).values():  # the realtime process registered and is up
            assert time.monotonic() < deadline, ctl(env, "status")
            time.sleep(0.3)
        while request(f"{origin}/healthz")[0] != 200:  # and the frontend passed its health checks
            assert time.monotonic() < deadline, ctl(env, "status")
            time.sleep(0.3)
        assert "HAPROXY" in ctl(env, "status")
        user = WebUser(origin, "behindhaproxy").register()
        grant = user.token()
        assert grant["url"] == f"{origin}/sockjs"

        async def scenario() -> None:
            client = await connect_player(grant["url"], grant["token"], origin, "websocket")
            assert isinstance(await client.request(p.ListTables()), p.Tables)
            await client.close()

        run(scenario())
        added = subprocess.run([str(ROOT / "scripts" / "ctl"), "add", "realtime"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
        assert added.returncode == 0, added.stdout + added.stderr
        name = added.stdout.split("started realtime ", 1)[1].split()[0]
        while haproxy_health(env).get(name) != "up":
            assert time.monotonic() < deadline, ctl(env, "status")
            time.sleep(0.3)
