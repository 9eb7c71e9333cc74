"""The game-server process loop over a real ZeroMQ ROUTER, driven by a DEALER playing a realtime process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from common import protocol as p
from common.db import make_engine
from common.models import FinishedGame, TableAction
from gameserver import socket_loop
from tests.unit.gameserver.frames import acked_table
from tests.unit.gameserver.harness import Harness


def test_requests_are_answered_and_each_ack_leaves_after_its_entry_is_committed(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            reader = make_engine(h.settings.db_url())  # its own connections: it sees committed rows only
            assert h.server.sock is not None
            send = h.server.sock.send_multipart
            committed_at_ack: list[int] = []

            def watching_send(parts: list[bytes], *args: Any, **kwargs: Any) -> Any:
                for msg in p.decode_parts(parts[1:]):
                    if isinstance(msg, p.Deliver) and isinstance(p.decode_server(msg.frame), p.Ack):
                        with reader.connect() as conn:
                            count = conn.execute(select(func.count()).select_from(TableAction.__table__))
                            committed_at_ack.append(int(count.scalar() or 0))
                return send(parts, *args, **kwargs)

            h.server.sock.send_multipart = watching_send  # type: ignore[method-assign,assignment]
            ack = await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2, req=1)))
            assert isinstance(ack, p.Ack) and ack.table == "g1-0001" and ack.seat == 0
            joined = await h.reply_to(h.forward(p.Join(table="g1-0001", req=3), user=2, conn="rtA:2"))
            assert isinstance(joined, p.Ack) and joined.seat == 1
            # at the moment each ack was sent, its entry (the creator's seat, then the joiner's) was durable
            assert committed_at_ack == [1, 2]
            reader.dispose()
            err = await h.reply_to(h.forward(p.Join(table="g1-0404", req=2)))
            assert isinstance(err, p.Error) and err.code == p.E_NO_TABLE and err.req == 2
            bad = await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2, clock=1.0)))
            assert isinstance(bad, p.Error) and bad.code == p.E_BAD_TABLE and "clock" in bad.text

    asyncio.run(scenario())


def test_bots_play_a_game_to_the_end_and_it_is_recorded(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            table = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=3))))
            for _ in range(2):
                await h.reply_to(h.forward(p.AddBot(table=table)))
            await h.reply_to(h.forward(p.Watch(table=table), user=9, conn="rtA:9"))  # someone watches
            await h.reply_to(h.forward(p.Start(table=table)))
            await h.reply_to(h.forward(p.Leave(table=table)))  # the creator walks away; a bot finishes
            for _ in range(400):
                msg = await h.recv(timeout=10)
                if isinstance(msg, p.Deliver) and '"msg":"game_over"' in msg.frame:
                    break
            else:
                pytest.fail("no game_over")
        with h.engine.connect() as conn:  # game_over is sent once the record is committed
            record = conn.execute(select(FinishedGame.__table__)).one()
        h.engine.dispose()  # the harness closed its pool; this read opened another
        assert record.table_id == table and len(record.scores) == 3 and record.actions

    asyncio.run(scenario())


def test_heartbeats_both_ways_and_a_silent_realtime_is_dropped(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            beat = await h.recv()
            assert isinstance(beat, p.Heartbeat) and beat.sender == "g1"
            table_id = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2))))
            table = h.server.tables[table_id]
            assert table.seats[0] is not None and table.conns[0] == "rtA:1"
            assert "rtA" in h.server.peers
            h.beating = False
            # a heartbeat round later than interval x liveness with no word from rtA
            h.server.heartbeat_round(h.server.clock() + 10 * h.settings.heartbeat_interval)
            assert "rtA" not in h.server.peers
            assert 0 not in table.conns and 0 in table.gone_since  # its players are marked disconnected

    asyncio.run(scenario())


def test_a_realtime_pass_of_requests_in_one_message_is_handled_part_by_part(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            beat = await h.recv()
            assert isinstance(beat, p.Heartbeat) and beat.batches, "it says it reads batches"
            first = p.Forward(conn="rtA:1", user=1, name="u1", rid=901, body=p.CreateTable(
                game="crazy_eights", seats=2, req=1))
            second = p.Forward(conn="rtA:2", user=2, name="u2", rid=902, body=p.CreateTable(
                game="no_such_game", seats=2, req=2))  # refused, with an answer
            h.dealer.send_multipart([p.encode(first), b"not a message", p.encode(second)])
            assert acked_table(await h.reply_to(901)).startswith("g1-")
            refused = await h.reply_to(902)
            assert isinstance(refused, p.Error) and refused.req == 2  # the bad part between hurt neither

    asyncio.run(scenario())


@pytest.mark.parametrize(("pass_seconds", "batch", "passes"), [
    (60.0, 256, [[1, 2, 3, 4, 5, 6]]),  # one message of six requests: one pass, one commit, one reply
    (0.0, 256, [[1], [2], [3], [4], [5], [6]]),  # a pass's time is up after each request
    (60.0, 2, [[1, 2], [3, 4], [5, 6]]),  # at most two requests a pass, though they came as one message
])
def test_a_pass_stops_at_its_bound_and_the_rest_of_a_message_follows_in_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pass_seconds: float, batch: int,
        passes: list[list[int]]) -> None:
    monkeypatch.setattr(socket_loop, "PASS_SECONDS", pass_seconds)
    monkeypatch.setattr(socket_loop, "BATCH", batch)

    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            await h.recv()  # its first heartbeat: it is serving
            assert h.server.sock is not None
            send = h.server.sock.send_multipart
            answered: list[list[int]] = []  # the requests each ZeroMQ message to us answered

            def watching_send(parts: list[bytes], *args: Any, **kwargs: Any) -> Any:
                rids = [m.rid for m in p.decode_parts(parts[1:]) if isinstance(m, p.Deliver) and m.rid]
                if rids:
                    answered.append(rids)
                return send(parts, *args, **kwargs)

            h.server.sock.send_multipart = watching_send  # type: ignore[method-assign,assignment]
            creates = [p.Forward(conn=f"rtA:{n}", user=n, name=f"u{n}", rid=n,
                                 body=p.CreateTable(game="crazy_eights", seats=2, req=n))
                       for n in range(1, 7)]
            h.dealer.send_multipart([p.encode(msg) for msg in creates])  # as a realtime process's loop pass
            for n in range(1, 7):
                assert acked_table(await h.reply_to(n)).startswith("g1-")
            assert answered == passes

    asyncio.run(scenario())


def test_tables_are_rebuilt_after_a_restart(tmp_path: Path) -> None:
    async def first() -> str:
        async with Harness(tmp_path) as h:
            table_id = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2))))
            await h.reply_to(h.forward(p.Join(table=table_id), user=2, conn="rtA:2"))
            await h.reply_to(h.forward(p.Start(table=table_id)))
            return table_id

    table_id = asyncio.run(first())
    again = Harness(tmp_path)
    table = again.server.tables[table_id]
    assert table.status == "playing" and table.players() == ["u1", "u2"]
    assert again.server._next_number == 1  # the next table gets a new id
    again.ctx.term()
    again.engine.dispose()


def test_a_table_everyone_left_is_closed_and_leaves_the_lobby(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            h.server.settings = h.settings.replace(grace_period=0.2)
            table_id = acked_table(await h.reply_to(h.forward(p.CreateTable(game="holdem", seats=3))))
            table = h.server.tables[table_id]
            table.grace_period = 0.2
            await h.reply_to(h.forward(p.AddBot(table=table_id)))
            h.send(p.ConnClosed(conn="rtA:1"))  # the creator's browser went away for good
            removed = None
            for _ in range(200):
                msg = await h.recv(timeout=5)
                if isinstance(msg, p.TablesChanged) and table_id in msg.removed:
                    removed = msg
                    break
            assert removed is not None and table_id not in h.server.tables
        with h.engine.connect() as conn:
            from common.models import TableRecord

            status = conn.execute(select(TableRecord.__table__.c.status)).scalar_one()
        h.engine.dispose()  # the harness closed its pool; this read opened another
        assert status == "closed"

    asyncio.run(scenario())


def test_chat_is_limited_rate_limited_stored_and_sent_as_text(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            table = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2))))
            long = await h.reply_to(h.forward(p.Chat(table=table, text="x" * 301, req=1)))
            assert isinstance(long, p.Error) and long.code == p.E_BAD_FIELD and "300" in long.text
            outsider = await h.reply_to(h.forward(p.Chat(table=table, text="hi"), user=5, conn="rtA:5"))
            assert isinstance(outsider, p.Error) and outsider.code == p.E_NOT_SEATED
            answers = [await h.reply_to(h.forward(p.Chat(table=table, text=f"<i>{i}</i>"))) for i in range(7)]
            assert [type(a).__name__ for a in answers[:5]] == ["Ack"] * 5  # a burst of five is fine
            assert isinstance(answers[-1], p.Error) and answers[-1].code == p.E_RATE_LIMITED
        with h.engine.connect() as conn:
            from common.models import ChatRecord

            texts = conn.execute(select(ChatRecord.__table__.c.text)).scalars().all()
        h.engine.dispose()  # the harness closed its pool; this read opened another
        assert texts[:5] == [f"<i>{i}</i>" for i in range(5)]  # stored as typed, shown as text by clients

    asyncio.run(scenario())


@pytest.mark.parametrize("endpoint", ["tcp://0.0.0.0:5601", "tcp://*:5601", "tcp://8.8.8.8:5601",
                                      "tcp://example.com:5601", "tcp://[::]:5601"])
def test_a_game_server_never_binds_a_public_address(endpoint: str) -> None:
    from gameserver.guards import check_private_endpoint

    with pytest.raises(ValueError, match="endpoint"):
        check_private_endpoint(endpoint)


@pytest.mark.parametrize("endpoint", ["tcp://127.0.0.1:5601", "tcp://10.1.2.3:5601", "tcp://192.168.0.9:1",
                                      "tcp://[::1]:5601", "ipc:///tmp/felt-g1"])
def test_loopback_and_internal_addresses_are_fine(endpoint: str) -> None:
    from gameserver.guards import check_private_endpoint

    check_private_endpoint(endpoint)
