"""The realtime tier's front door, with real processes: authentication on every transport, and bad input.

Every refusal is an `error` with a machine-readable code; auth failures close the connection (on
xhr-polling too); other bad input leaves the connection usable and the table unchanged.
"""

from __future__ import annotations

import time

import pytest

from common import protocol as p
from common import tokens
from common.views import CrazyEightsView
from realtime.client import Closed, FeltClient
from tests.integration.conftest import created_table, run
from tests.integration.players import connect_player

TRANSPORTS = ["websocket", "xhr_streaming", "xhr"]
KEYS = {"k1": "integration-test-secret"}


def forged(kind: str, real: str) -> str | None:
    now = time.time()
    if kind == "expired":
        return tokens.issue({"uid": 1, "name": "x"}, KEYS, now=now - 3600, ttl=60)
    if kind == "wrong_key":
        return tokens.issue({"uid": 1, "name": "x"}, {"k1": "some other secret"}, now=now, ttl=60)
    if kind == "unknown_kid":
        return tokens.issue({"uid": 1, "name": "x"}, {"k9": "integration-test-secret"}, now=now, ttl=60)
    if kind == "tampered":
        middle = len(real) // 2
        return real[:middle] + ("A" if real[middle] != "A" else "B") + real[middle + 1:]
    if kind == "garbage":
        return "not-a-token"
    return None  # missing


EXPECTED = {"expired": p.E_TOKEN_EXPIRED, "wrong_key": p.E_TOKEN_INVALID, "unknown_kid": p.E_TOKEN_INVALID,
            "tampered": p.E_TOKEN_INVALID, "garbage": p.E_TOKEN_INVALID, "missing": p.E_AUTH_REQUIRED}


async def expect_refusal(client: FeltClient, code: str) -> None:
    err = await client.recv()
    assert isinstance(err, p.Error) and err.code == code, err
    assert err.text and "integration-test-secret" not in err.text
    with pytest.raises(Closed):
        await client.recv(timeout=5)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", list(EXPECTED))
def test_bad_tokens_are_refused_and_closed(stack, new_user, transport: str, kind: str) -> None:
    real = new_user().token()["token"]

    async def scenario() -> None:
        client = await FeltClient.connect(stack.realtime_url(0), transport, origin=stack.origin)
        try:
            token = forged(kind, real)
            if token is None:
                await client.send_raw('{"msg": "auth"}')
            else:
                await client.send(p.Auth(token=token))
            await expect_refusal(client, EXPECTED[kind])
        finally:
            await client.close()

    run(scenario())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_anything_before_auth_is_refused_and_closed(stack, transport: str) -> None:
    async def scenario() -> None:
        client = await FeltClient.connect(stack.realtime_url(1), transport, origin=stack.origin)
        try:
            await client.send(p.ListTables(req=1))
            await expect_refusal(client, p.E_AUTH_REQUIRED)
            if transport == "xhr":  # B1: the closed polling session must not come back to life
                with pytest.raises(Exception):  # noqa: B017 - the session is gone: any refusal will do
                    await client.send(p.Ping(req=2))
                    await client.recv(timeout=2)
        finally:
            await client.close()

    run(scenario())


@pytest.mark.parametrize("transport", ["websocket", "xhr"])
def test_silence_after_connect_times_out(stack, transport: str) -> None:
    async def scenario() -> None:
        client = await FeltClient.connect(stack.realtime_url(0), transport, origin=stack.origin)
        try:
            await expect_refusal(client, p.E_AUTH_REQUIRED)  # FELT_AUTH_TIMEOUT is 1.5 s here
        finally:
            await client.close()

    run(scenario())


BAD_FRAMES = [
    ("{oops", p.E_BAD_JSON, None),
    ("[1,2,3]", p.E_NOT_OBJECT, None),
    ('{"msg": "teleport", "req": 41}', p.E_UNKNOWN_MSG, 41),
    ('{"req": 42}', p.E_UNKNOWN_MSG, 42),
    ('{"msg": "join", "req": 43}', p.E_BAD_FIELD, 43),
    ('{"msg": "join", "table": 5, "req": 44}', p.E_BAD_FIELD, 44),
    ('{"msg": "act", "table": "TABLE", "action": {"type": "play", "card": 7}, "req": 45}', p.E_BAD_FIELD, 45),
    ('{"msg": "chat", "table": "TABLE", "text": "' + "x" * 9000 + '", "req": 46}', p.E_TOO_LARGE, None),
    # auth again renews a live connection's token: a bad one is refused, the connection stays
    ('{"msg": "auth", "token": "again", "req": 47}', p.E_TOKEN_INVALID, None),
    ('{"msg": "act", "table": "g1-9999", "action": {"type": "draw"}, "req": 48}', p.E_NO_TABLE, 48),
    ('{"msg": "act", "table": "zz-0001", "action": {"type": "draw"}, "req": 49}', p.E_NO_TABLE, 49),
    ('{"msg": "act", "table": "TABLE", "action": {"type": "pass"}, "req": 50}', p.E_NOT_YOUR_TURN, 50),
    ('{"msg": "act", "table": "TABLE", "action": {"type": "draw"}, "req": 51}', p.E_NOT_YOUR_TURN, 51),
    ('{"msg": "start", "table": "TABLE", "req": 52}', p.E_ALREADY_STARTED, 52),
    ('{"msg": "create_table", "game": "chess", "seats": 2, "req": 53}', p.E_BAD_TABLE, 53),
    ('{"msg": "create_table", "game": "crazy_eights", "seats": 9, "req": 54}', p.E_BAD_TABLE, 54),
    ('{"msg": "create_table", "game": "crazy_eights", "seats": 2, "options": {"x": 1}, "req": 55}',
     p.E_BAD_TABLE, 55),
    # nested past max_json_depth: refused before any recursive decoder runs (it raised RecursionError)
    ('{"msg": "create_table", "game": "hearts", "seats": 4, "options": {"a": ' + "[" * 3000 + "]" * 3000
     + '}, "req": 56}', p.E_BAD_JSON, None),
    ('{"msg": "join", "table": "TABLE", "seat": [[[[[[[[[[1]]]]]]]]]], "req": 57}', p.E_BAD_JSON, None),
]


@pytest.mark.parametrize("transport", ["websocket", "xhr"])
def test_bad_input_gets_an_error_and_changes_nothing(stack, new_user, transport: str) -> None:
    ann, bob = new_user(), new_user()

    async def scenario() -> None:
        a = await connect_player(stack.realtime_url(0), ann.token()["token"], stack.origin, transport)
        b = await connect_player(stack.realtime_url(1), bob.token()["token"], stack.origin, transport)
        try:
            table = created_table(await a.request(p.CreateTable(game="crazy_eights", seats=2)))
            await b.request(p.Join(table=table))
            await a.request(p.Start(table=table))
            # whoever is not to move is the one sending bad input
            await a.request(p.Resume(table=table))
            view = None
            while view is None or view.status != "playing":
                msg = await a.recv()
                view = msg if isinstance(msg, p.View) else view
            assert view.view is not None
            sender = b if view.view.turn == 0 else a
            seq = view.seq
            for raw, code, req in BAD_FRAMES:
                await sender.send_raw(raw.replace("TABLE", table))
                while True:
                    err = await sender.recv()
                    if isinstance(err, p.Error):
                        break
                assert err.code == code and err.req == req, (raw[:60], err)
            # the player to move may not pass before drawing: illegal, and nothing changes either
            mover = a if sender is b else b
            err = await mover.request(p.Act(table=table, action=p.PassTurn()))
            assert isinstance(err, p.Error) and err.code == p.E_ILLEGAL_MOVE, err
            err = await mover.request(p.Act(table=table, action=p.Play(card="ZZ")))
            assert isinstance(err, p.Error) and err.code == p.E_ILLEGAL_MOVE, err
            pong = await sender.request(p.Ping())
            assert isinstance(pong, p.Pong)  # still usable
            after = await sender.request(p.Resume(table=table))
            assert isinstance(after, p.Ack)
            fresh = None
            while fresh is None:
                msg = await sender.recv()
                fresh = msg if isinstance(msg, p.View) else None
            assert fresh.seq == seq, "bad input must not change the table"
        finally:
            await a.close()
            await b.close()

    run(scenario())


def test_the_client_protocol_is_negotiated_in_auth_and_kept_for_the_connection(stack, new_user) -> None:
    """A client that names no protocol speaks 1; one that names a newer one than the server's gets the
    server's newest; at 2 a move is answered by the mover's view (its `req`), at 1 by an ack."""
    ann, bob, cy = new_user(), new_user(), new_user()

    async def welcome(user, protocol: int | None) -> tuple[FeltClient, p.Welcome]:
        client = await FeltClient.connect(stack.realtime_url(0), "websocket", origin=stack.origin)
        token = user.token()["token"]
        await client.send(p.Auth(token=token) if protocol is None else p.Auth(token=token, protocol=protocol))
        answer = await client.recv()
        assert isinstance(answer, p.Welcome), answer
        return client, answer

    async def draw(client: FeltClient, table: str) -> p.ServerMessage:
        """Resume, draw a card (the mover may draw several in one turn), and the answer to the draw."""
        await client.send(p.Resume(table=table, req=client.next_req()))
        view = None
        while view is None or not (view.view and view.view.legal):
            msg = await client.recv()
            view = msg if isinstance(msg, p.View) and msg.table == table else view
        req = client.next_req()
        await client.send(p.Act(table=table, action=p.Draw(), seq=view.seq, req=req))
        while True:
            msg = await client.recv()
            if getattr(msg, "req", None) == req:
                return msg

    async def scenario() -> None:
        (a, wa), (b, wb), (c, wc) = await welcome(ann, None), await welcome(bob, 2), await welcome(cy, 99)
        again: FeltClient | None = None
        try:
            assert (wa.protocol, wb.protocol, wc.protocol) == (1, 2, p.PROTOCOL_VERSION)
            renewed = await b.auth(bob.token()["token"], protocol=1)  # a fresh token; the protocol stays
            assert isinstance(renewed, p.Welcome) and renewed.protocol == 2
            table = created_table(await a.request(p.CreateTable(game="crazy_eights", seats=2)))
            await b.request(p.Join(table=table))
            await a.request(p.Start(table=table))
            turn = None
            while turn is None:
                msg = await a.recv()
                if isinstance(msg, p.View) and msg.table == table and msg.view is not None:
                    turn = msg.view.turn
            mover, user, protocol = (a, ann, 1) if turn == 0 else (b, bob, 2)
            answer = await draw(mover, table)
            assert isinstance(answer, p.Ack if protocol == 1 else p.View), answer
            # the same player on a new connection of the other protocol, still to move: the other answer
            again, _ = await welcome(user, 3 - protocol)
            answer = await draw(again, table)
            assert isinstance(answer, p.View if protocol == 1 else p.Ack), answer
            if isinstance(answer, p.View):  # the mover's own view: its seat, and its hand
                assert answer.seat == turn and isinstance(answer.view, CrazyEightsView) and answer.view.hand
        finally:
            for client in (a, b, c, again):
                if client is not None:
                    await client.close()

    run(scenario())
