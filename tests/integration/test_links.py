"""The realtime <-> game-server links against an attacker on the internal network, with real processes.

The attacker is this test process: it can reach every game server's port and, in some tests, holds a
realtime key of its own (a compromised or misconfigured realtime host), but not another process's key.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import zmq
from sqlalchemy import func, select

from common import curve
from common import protocol as p
from common.db import make_engine
from common.models import TableRecord
from tests.integration.conftest import created_table, run
from tests.integration.players import connect_player
from tests.integration.stack import ROOT, Stack, free_port


def keys(stack: Stack) -> Path:
    return stack.data_dir / "keys"


def close_all(ctx: zmq.Context[Any]) -> None:
    """Close every socket of `ctx` (each explicitly: one left to the collector warns), then end it."""
    for sock in list(ctx._sockets):
        if not sock.closed:
            sock.close(linger=0)
    ctx.term()


def dealer(ctx: zmq.Context[Any], stack: Stack, server: str, key: curve.Key | None,
           pinned: bytes | None = None) -> zmq.Socket[Any]:
    """A DEALER to a real game server: with `key` (a realtime key), a CurveZMQ client pinning the server's
    real key (or `pinned`); without, a plain one."""
    sock: zmq.Socket[Any] = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    if key is not None:
        assert key.secret is not None
        sock.curve_secretkey, sock.curve_publickey = key.secret, key.public
        sock.curve_serverkey = pinned or curve.server_key(keys(stack), server)
    sock.connect(stack.gameserver_endpoints[server])
    return sock


def received(sock: zmq.Socket[Any], seconds: float) -> list[p.InternalMessage]:
    """Everything `sock` receives within `seconds`."""
    got: list[p.InternalMessage] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if sock.poll(int(left * 1000) + 1):
            got.extend(p.decode_parts(sock.recv_multipart()))
    return got


def identity_of(stack: Stack, realtime: int) -> str:
    """The identity a realtime process gave for this start (its connections' prefix), from its log."""
    found = re.search(r"READY realtime (\S+)", stack.log(f"rt-{realtime}"))
    assert found, stack.log(f"rt-{realtime}")
    return found.group(1)


def tables_of(stack: Stack, user: int) -> int:
    engine = make_engine(stack.database_url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(TableRecord.__table__).where(
            TableRecord.__table__.c.creator == user)).scalar()
    engine.dispose()
    return int(count or 0)


def test_a_peer_without_an_allowed_key_gets_nothing_and_changes_nothing(stack, new_user) -> None:
    victim = new_user()
    user = victim.token()["user"]["id"]
    ctx = zmq.Context()
    try:
        stranger = curve.create(Path(stack.data_dir / "elsewhere"), "realtime", "rt1")  # not on the list
        for sock in (dealer(ctx, stack, "g1", None), dealer(ctx, stack, "g1", stranger)):
            body = p.CreateTable(game="holdem", seats=2, buy_in=10_000, req=1)
            for msg in (p.Heartbeat(sender="rt1.x"),
                        p.Forward(conn="rt1.x:1", user=user, name=victim.username, rid=1, body=body)):
                try:
                    sock.send(p.encode(msg), zmq.NOBLOCK)
                except zmq.Again:
                    pass  # no handshake, no pipe: nothing could be sent at all
            assert received(sock, 1.0) == [], "no heartbeat, no reply"
            sock.close(linger=0)
        assert tables_of(stack, user) == 0, "nothing it sent was applied"
    finally:
        close_all(ctx)


def test_a_known_realtime_key_speaks_only_for_its_own_connections_until_revoked(stack, new_user) -> None:
    ann, bob = new_user(), new_user()
    ctx = zmq.Context()

    async def scenario() -> None:
        a = await connect_player(stack.realtime_url(0), ann.token()["token"], stack.origin)
        try:
            table = created_table(await a.request(p.CreateTable(game="crazy_eights", seats=2)))
            server = table.partition("-")[0]
            rt0 = identity_of(stack, 0)
            # a new realtime key, provisioned while everything runs: accepted without a restart
            rogue_key = curve.create(keys(stack), "realtime", "rtrogue")
            rogue = dealer(ctx, stack, server, rogue_key)
            rogue.send(p.encode(p.Heartbeat(sender="rtrogue.1")))
            assert any(isinstance(m, p.Heartbeat) for m in received(rogue, 1.0)), "a new key is accepted live"
            bob_id = bob.token()["user"]["id"]
            own = p.Forward(conn="rtrogue.1:1", user=bob_id, name=bob.username, rid=7,
                            body=p.Join(table=table, req=7))
            rogue.send(p.encode(own))
            answers = [m for m in received(rogue, 1.0) if isinstance(m, p.Deliver) and m.rid == 7]
            assert answers and isinstance(p.decode_server(answers[0].frame), p.Ack), "its own connections"
            # ... but not rt-0's: not as ann, not to close her, not to resume her seat and see her hand
            ann_id = ann.token()["user"]["id"]
            for n in range(1, 40):
                conn = f"{rt0}:{n}"
                for body in (p.Resume(table=table, req=100 + n), p.Act(table=table, action=p.Draw(), req=n)):
                    rogue.send(p.encode(p.Forward(conn=conn, user=ann_id, name=ann.username, rid=1000 + n,
                                                  body=body)))
                rogue.send(p.encode(p.ConnClosed(conn=conn)))
            got = received(rogue, 1.5)
            delivered = [m for m in got if isinstance(m, p.Deliver)]
            assert not [m for m in delivered if any(c.startswith(rt0) for c in m.conns)]
            assert not [m for m in got if isinstance(m, p.Deliver) and (m.rid or 0) > 1000]
            assert isinstance(await a.request(p.Start(table=table)), p.Ack), "ann is still connected, seated"
            # revoked: within a heartbeat or two, nothing from that key is heard any more
            curve.revoke(keys(stack), "realtime", "rtrogue")
            await asyncio.sleep(1.0)  # the game servers re-read the allow-list every heartbeat (0.3 s)
            rogue.send(p.encode(p.Forward(conn="rtrogue.1:2", user=bob_id, name=bob.username, rid=8,
                                          body=p.ListTables(req=8))))
            after = received(rogue, 1.0)
            assert not [m for m in after if isinstance(m, p.Deliver)], "a revoked key is refused"
        finally:
            await a.close()
            close_all(ctx)

    run(scenario())


def test_a_routing_id_clash_does_not_divert_frames(stack, new_user) -> None:
    ann = new_user()
    ctx = zmq.Context()
    try:
        first, second = ctx.socket(zmq.DEALER), ctx.socket(zmq.DEALER)
        for sock, name in ((first, "rtone"), (second, "rttwo")):
            key = curve.create(keys(stack), "realtime", name)
            assert key.secret is not None
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.IDENTITY, b"rt-clash")  # both declare the same routing id
            sock.curve_secretkey, sock.curve_publickey = key.secret, key.public
            sock.curve_serverkey = curve.server_key(keys(stack), "g1")
            sock.connect(stack.gameserver_endpoints["g1"])
        user = ann.token()["user"]["id"]
        first.send(p.encode(p.Heartbeat(sender="rtone.1")))
        time.sleep(0.3)
        second.send(p.encode(p.Heartbeat(sender="rttwo.1")))
        first.send(p.encode(p.Forward(conn="rtone.1:1", user=user, name=ann.username, rid=5,
                                      body=p.ListTables(req=5))))
        to_second = received(second, 1.0)
        assert not [m for m in to_second if isinstance(m, p.Deliver)], "frames for rtone never reach rttwo"
        assert [m for m in received(first, 0.5) if isinstance(m, p.Deliver) and m.rid == 5]
    finally:
        close_all(ctx)


def test_a_fake_game_server_on_the_port_gets_nothing_and_reaches_nobody(stack, new_user) -> None:
    ann = new_user()
    ctx = zmq.Context()

    async def scenario() -> None:
        a = await connect_player(stack.realtime_url(0), ann.token()["token"], stack.origin)
        fake = None
        try:
            stack.kill("gs-g2")
            fake = ctx.socket(zmq.ROUTER)
            fake.setsockopt(zmq.LINGER, 0)
            own = curve.create(stack.data_dir / "fake-keys", "gameserver", "g2")  # not g2's key
            assert own.secret is not None
            fake.curve_secretkey, fake.curve_publickey, fake.curve_server = own.secret, own.public, True
            for _ in range(100):
                try:
                    fake.bind(stack.gameserver_endpoints["g2"])
                    break
                except zmq.ZMQError:
                    await asyncio.sleep(0.05)
            answer = await a.request(p.Chat(table="g2-0001", text="hello", req=1), timeout=8)
            assert isinstance(answer, p.Error) and answer.code in (p.E_UNAVAILABLE, p.E_TIMEOUT), answer
            assert not fake.poll(1000), "the fake game server received something"
            reached = [m for m in a.unmatched if isinstance(m, (p.ChatLine, p.View))]
            assert not reached, "nothing from the fake reached a client"
        finally:
            if fake is not None:
                fake.close(linger=0)
            await a.close()
            close_all(ctx)
            stack.start_gameserver("g2")

    run(scenario())


def test_a_game_server_whose_port_is_taken_says_so_and_exits(stack, tmp_path: Path) -> None:
    port = free_port()
    ctx = zmq.Context()
    squatter = ctx.socket(zmq.ROUTER)
    squatter.setsockopt(zmq.LINGER, 0)
    squatter.bind(f"tcp://127.0.0.1:{port}")
    try:
        env = {**stack.env, "FELT_DATA_DIR": str(tmp_path)}
        done = subprocess.run([sys.executable, "-m", "gameserver", "--name", "g9", "--endpoint",
                               f"tcp://127.0.0.1:{port}"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=30)
        assert done.returncode == 3, done
        assert f"tcp://127.0.0.1:{port} is already in use by another process" in done.stderr
    finally:
        close_all(ctx)
    assert os.path.exists(tmp_path / "keys" / "gameserver" / "g9")
