"""Login -> token -> SockJS auth -> create, join, start and play Crazy Eights to the end, for real: with the
browser talking to the frontend and the realtime processes directly, and with haproxy in front of them all
(one public port; skipped without haproxy, not under CI)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from common import protocol as p
from common.db import make_engine
from common.models import FinishedGame
from common.views import CrazyEightsView
from tests.integration.conftest import run, started_stack
from tests.integration.players import connect_player, play_until_over
from tests.integration.stack import Stack, require_haproxy


@pytest.fixture(scope="module", params=["direct", "haproxy", "asyncio-loop"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack as deployed (uvloop), behind haproxy, and on the standard library's event loop."""
    if request.param == "haproxy":
        require_haproxy()
    env = {"FELT_EVENT_LOOP": "asyncio"} if request.param == "asyncio-loop" else None
    yield from started_stack(tmp_path_factory, f"stack-{request.param}", haproxy=request.param == "haproxy",
                             env=env)


def test_the_servers_run_on_the_configured_event_loop(stack) -> None:
    loop = "asyncio" if stack.env.get("FELT_EVENT_LOOP") == "asyncio" else "uvloop"
    for key in ("gs-g1", "rt-0"):
        assert f"on the {loop} event loop" in stack.log(key), key


@pytest.mark.parametrize("transport", ["websocket", "xhr"])
def test_full_game_between_scripted_clients(stack, new_user, transport: str) -> None:
    users = [new_user() for _ in range(3)]
    tokens = [u.token() for u in users]

    # the host speaks protocol 2 (its moves answered by its views), the others 1 (an ack, then the view)
    protocols = [2, 1, 1]

    async def scenario() -> tuple[str, list[p.GameOver]]:
        clients = [await connect_player(t["url"], t["token"], stack.origin, transport, protocol=v)
                   for t, v in zip(tokens, protocols, strict=True)]
        assert all(t["url"].startswith(stack.origin) for t in tokens) == (stack.haproxy_port is not None)
        try:
            host = clients[0]
            created = await host.request(p.CreateTable(game="crazy_eights", seats=3))
            assert isinstance(created, p.Ack) and created.seat == 0, created
            table = created.table
            assert table is not None
            for seat, client in enumerate(clients[1:], start=1):
                joined = await client.request(p.Join(table=table))
                assert isinstance(joined, p.Ack) and joined.seat == seat, joined
            listed = await clients[2].request(p.ListTables())
            assert isinstance(listed, p.Tables)
            info = next(t for t in listed.tables if t.id == table)
            assert info.players == [u.username for u in users] and info.status == "waiting"
            started = await host.request(p.Start(table=table))
            assert isinstance(started, p.Ack), started
            answers: list[list[p.ServerMessage]] = [[] for _ in clients]
            results = await asyncio.gather(*(play_until_over(c, table, i, answers[i])
                                             for i, c in enumerate(clients)))
            for protocol, got in zip(protocols, answers, strict=True):
                assert got, "every seat moved"
                assert all(isinstance(a, p.View if protocol == 2 else p.Ack) for a in got), (protocol, got)
            for seat, (_, views) in enumerate(results):
                playing = [v for v in views if v.status != "waiting"]
                assert playing, f"seat {seat} saw no view of the game"
                # each seat's own view: its hand, the others' counts, and nothing else's cards
                for v in playing:
                    assert v.seat == seat and isinstance(v.view, CrazyEightsView) and v.view.hand is not None
                    assert len(v.view.counts) == 3
            return table, [over for over, _ in results]
        finally:
            for c in clients:
                await c.close()

    table, overs = run(scenario())
    assert all(o == overs[0] for o in overs), "every player gets the same final scores"
    assert overs[0].players == [u.username for u in users]
    assert min(overs[0].scores) == overs[0].scores[overs[0].winners[0]]

    engine = make_engine(stack.database_url)
    with engine.connect() as conn:
        record = conn.execute(select(FinishedGame.__table__).where(
            FinishedGame.__table__.c.table_id == table)).one()
    engine.dispose()
    assert record.game == "crazy_eights"
    assert record.scores == overs[0].scores
    assert [pl["name"] for pl in record.players] == [u.username for u in users]
    assert record.actions and all(a["t"] == "act" for a in record.actions)
