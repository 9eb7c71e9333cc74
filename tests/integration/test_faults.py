"""Faults with real processes: a realtime process or a game server dies mid-game; a client drops.

Nothing acknowledged is lost, players resume where they were, and resumed views are exactly what a
client that never disconnected would see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from common.models import User
from tests.integration.conftest import run, started_stack, user_factory
from tests.integration.players import (
    GAMES,
    ResilientPlayer,
    finished,
    hang_up,
    legal_of,
    seat_players,
    wait_for,
)
from tests.integration.stack import Stack


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from started_stack(tmp_path_factory, "faults",
                             env={"FELT_GRACE_PERIOD": "2.5", "FELT_HAND_PAUSE": "0.2"})


@pytest.fixture
def new_user(fault_stack: Stack):
    """Users of this module's own stack (the shared `new_user` registers at the shared one)."""
    return user_factory(fault_stack)


def test_realtime_killed_mid_game_players_finish_through_another(fault_stack, new_user) -> None:
    stack = fault_stack

    async def scenario() -> list[ResilientPlayer]:
        players = await seat_players(stack, new_user, "crazy_eights")
        for player in players:  # everyone on realtime 0, the one that will die
            await hang_up(player)
            player.urls = [stack.realtime_url(0), stack.realtime_url(1)]
            token = player.user.token()
            from tests.integration.players import connect_player

            player.client = await connect_player(stack.realtime_url(0), token["token"], stack.origin)
            await player.resume()
        tasks = [asyncio.ensure_future(pl.play()) for pl in players]
        await wait_for(lambda: sum(len(pl.acked) for pl in players) >= 6)
        stack.kill("rt-0")  # SIGKILL, mid-game
        await asyncio.gather(*tasks)
        for player in players:
            await hang_up(player)
        return players

    try:
        players = run(scenario())
    finally:
        stack.start_realtime(0)
    assert all(pl.reconnects >= 1 for pl in players)
    overs = {tuple(pl.over.scores) for pl in players if pl.over}
    assert len(overs) == 1
    [record] = finished(stack, players[0].table)
    logged = {(a.get("user"), a.get("req")): a["action"] for a in record.actions if "req" in a}
    for pl in players:
        with stack.engine.connect() as conn:
            user_id = conn.execute(select(User.__table__.c.id).where(
                User.__table__.c.username == pl.user.username)).scalar_one()
        for req, action in pl.acked:  # every acknowledged move is in the stored log, as sent
            assert logged.get((user_id, req)) == action


@pytest.mark.parametrize("game", list(GAMES))
def test_game_server_killed_mid_hand_comes_back_exactly(fault_stack, new_user, game: str) -> None:
    stack = fault_stack

    async def scenario() -> None:
        players = await seat_players(stack, new_user, game)
        table = players[0].table
        server = table.partition("-")[0]
        tasks = [asyncio.ensure_future(pl.play(until_over=game != "holdem")) for pl in players]
        await wait_for(lambda: sum(len(pl.acked) for pl in players) >= 2)  # early: no game ends in two moves
        for pl in players:
            pl.paused = True
        await asyncio.sleep(0.5)  # everything in flight is answered: the table is still
        assert not any(pl.sent for pl in players), "every move sent was acknowledged"
        before = {pl.user.username: pl.last_view for pl in players}
        stack.kill(f"gs-{server}")  # SIGKILL mid-hand
        stack.start_gameserver(server)  # what supervisord does
        await wait_for(lambda: all(pl.last_view is not before[pl.user.username] for pl in players),
                       state=lambda: [(pl.last_view.seq if pl.last_view else None, pl.statuses, pl.reconnects,
                                       [t.done() and t.exception() for t in tasks], pl.seen[-8:])
                                      for pl in players])
        for pl in players:  # the resumed view is exactly the last one seen before the crash
            old, new = before[pl.user.username], pl.last_view
            assert new is not None and old is not None
            assert (new.seq, new.view, new.cash, new.players, new.seat) == (
                old.seq, old.view, old.cash, old.players, old.seat)
            assert any(st.available for st in pl.statuses)
            pl.paused = False
            if legal_of(new):  # it is this player's move: nudge it with the current view
                await pl.resume()
        if game == "holdem":  # a cash table never ends by itself: play on a little, then stop
            await wait_for(lambda: any(pl.last_view and pl.last_view.cash and pl.last_view.cash.hand_no >= 3
                                       for pl in players) or any(t.done() for t in tasks))
            for t in tasks:
                t.cancel()
        else:
            await asyncio.gather(*tasks)
            overs = {tuple(pl.over.scores) for pl in players if pl.over}
            assert len(overs) == 1
        for pl in players:
            await hang_up(pl)

    run(scenario())


def test_a_short_drop_keeps_the_seat_a_long_one_stands_the_player_up(fault_stack, new_user) -> None:
    stack = fault_stack  # grace period 2.5 s here

    async def scenario() -> None:
        players = await seat_players(stack, new_user, "crazy_eights")
        for pl in players:
            pl.paused = True  # nobody moves: only the drops change anything
        tasks = [asyncio.ensure_future(pl.play(until_over=False)) for pl in players]
        await wait_for(lambda: all(pl.last_view and pl.last_view.status == "playing" for pl in players))
        await asyncio.sleep(0.3)
        first_view = players[0].last_view
        assert first_view is not None and first_view.view is not None
        turn = first_view.view.turn
        short, long = [pl for pl in players if pl.seat != turn][:2]

        before = short.last_view
        assert before is not None
        await hang_up(short)
        tasks[players.index(short)].cancel()
        await asyncio.sleep(1.0)  # shorter than the grace period
        await short.connect()
        await short.resume()
        tasks.append(asyncio.ensure_future(short.play(until_over=False)))
        await wait_for(lambda: short.last_view is not before)
        after = short.last_view
        assert after is not None and after.seat == before.seat
        # exactly what a client that never disconnected sees
        assert (after.seq, after.view) == (before.seq, before.view)

        seat = long.seat
        await hang_up(long)
        tasks[players.index(long)].cancel()
        await asyncio.sleep(4.0)  # longer than the grace period: a bot has the seat for good
        await long.connect()
        await long.resume()
        tasks.append(asyncio.ensure_future(long.play(until_over=False)))
        await wait_for(lambda: long.last_view is not None and long.last_view.seat is None)
        assert long.last_view is not None and seat is not None
        assert long.last_view.players[seat] == f"{long.user.username} (bot)"
        for t in tasks:
            t.cancel()
        for pl in players:
            await hang_up(pl)

    run(scenario())
