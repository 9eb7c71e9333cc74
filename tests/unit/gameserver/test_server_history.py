"""A game finished on the real game server leaves its record, its players' rows and their ratings in
one commit, and its replay (built off the loop) after; a private table's game rates nobody. Once no
server holds it, a request to it gets `game_over` and, for who may see it, the stored result."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from common import history as ch
from common import protocol as p
from common.db import make_engine
from common.models import FinishedGame, GamePlayer, Rating
from tests import dbs
from tests.unit.gameserver.frames import acked_table
from tests.unit.gameserver.harness import Harness


async def finished_by_bots(h: Harness, public: bool, spectator_delay: float = 0) -> str:
    """Users 1 and 2 sit down with a bot, start, and walk away: bots finish the game for them."""
    create = p.CreateTable(game="crazy_eights", seats=3, public=public, spectator_delay=spectator_delay)
    table = acked_table(await h.reply_to(h.forward(create)))
    invite = h.server.tables[table].config.invite or None  # a private table's code, from its creator
    await h.reply_to(h.forward(p.Join(table=table, invite=invite), user=2, conn="rtA:2"))
    await h.reply_to(h.forward(p.AddBot(table=table)))
    await h.reply_to(h.forward(p.Start(table=table)))
    await h.reply_to(h.forward(p.Leave(table=table)))
    await h.reply_to(h.forward(p.Leave(table=table), user=2, conn="rtA:2"))
    for _ in range(400):  # the bots' moves come a pass at a time; the record lands with the last one
        await h.drain(quiet=0.05)
        with h.engine.connect() as conn:
            if conn.execute(select(FinishedGame.table_id).where(FinishedGame.table_id == table)).first():
                return table
    pytest.fail("the game was not finished by the bots")


def test_a_finished_game_is_recorded_rated_and_replayable(tmp_path: Path) -> None:
    async def scenario() -> tuple[str, str]:
        async with Harness(tmp_path) as h:
            rated = await finished_by_bots(h, public=True)
            private = await finished_by_bots(h, public=False)
            with h.engine.connect() as conn:
                rows = conn.execute(select(GamePlayer.user_id, GamePlayer.game_id)).all()
                rated_users = set(conn.execute(select(Rating.user_id)).scalars())
            assert {(u, g.split(":")[0]) for u, g in rows} == {(1, rated), (2, rated), (1, private),
                                                                (2, private)}
            assert rated_users == {1, 2}, "the public table's game rated both people, the private one nobody"
        return rated, private

    rated, private = asyncio.run(scenario())
    engine = make_engine(dbs.database_url(tmp_path))  # a fresh look after the server stopped
    with engine.connect() as conn:
        games = {r.table_id: r for r in conn.execute(select(FinishedGame.__table__)).all()}
    engine.dispose()
    assert games[rated].rated and not games[private].rated and not games[private].public
    for record in games.values():
        assert record.replay is not None, "the replay was written, after the record"
        replay = ch.for_viewer(ch.unpack(record.replay), "0")
        assert replay["game_id"] == record.game_id and replay["steps"][0]["kind"] == "deal"
        assert replay["steps"][-1]["view"]["over"]


async def answers(h: Harness, body: Any, user: int) -> list[p.ServerMessage]:
    """Every frame sent to `user`'s connection in answer to `body`, in order."""
    conn = f"rtA:late{user}"
    h.forward(body, user=user, conn=conn)
    got: list[p.ServerMessage] = []
    while not any(isinstance(m, p.Error) for m in got):  # its answer; anything else comes in the same pass
        msg = await h.recv()
        if isinstance(msg, p.Deliver) and conn in msg.conns:
            got.append(p.decode_server(msg.frame))
    got += [p.decode_server(m.frame) for m in await h.drain(quiet=0.05)
            if isinstance(m, p.Deliver) and conn in m.conns]
    return got


def test_a_finished_table_no_server_holds_answers_with_its_result_to_who_may_see_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            public = await finished_by_bots(h, public=True)
            private = await finished_by_bots(h, public=False)
            delayed = await finished_by_bots(h, public=True, spectator_delay=30)
            for _ in range(100):  # nobody watches them: the next heartbeat forgets them
                if not {public, private, delayed} & h.server.tables.keys():
                    break
                await h.drain(quiet=0.05)
            assert not {public, private, delayed} & h.server.tables.keys()
            with h.engine.connect() as conn:
                scores = {r.table_id: list(r.scores) for r in conn.execute(select(FinishedGame.__table__))}

            def result(msgs: list[p.ServerMessage], table: str) -> list[int] | None:
                errors = [m for m in msgs if isinstance(m, p.Error)]
                assert [(m.code, m.req, m.table) for m in errors] == [(p.E_GAME_OVER, 7, table)], msgs
                over = [m for m in msgs if isinstance(m, p.GameOver)]
                return over[0].scores if over else None

            seated = await answers(h, p.Resume(table=private, last_seq=0, req=7), user=2)
            assert result(seated, private) == scores[private]
            assert result(await answers(h, p.Watch(table=public, req=7), user=9), public) == scores[public]
            assert result(await answers(h, p.Watch(table=delayed, req=7), user=9), delayed) is None, \
                "a spectator of a delayed table is not told the end early"
            assert result(await answers(h, p.Resume(table=delayed, last_seq=0, req=7), user=1),
                          delayed) == scores[delayed]
            assert result(await answers(h, p.Chat(table=public, text="gg", req=7), user=1), public) \
                == scores[public]
            stranger = await answers(h, p.Watch(table=private, req=7), user=9)
            assert [(type(m), getattr(m, "code", None)) for m in stranger] == [(p.Error, p.E_NO_TABLE)], \
                "a private table is, to a stranger, as if there were none"
            assert not {public, private, delayed} & h.server.tables.keys(), "answered from the database"

    asyncio.run(scenario())
