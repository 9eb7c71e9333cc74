"""Sit-and-go tournaments end to end on a real stack (frontend, realtime, two game servers): a person
and bots play one to its end — balance chips conserved (entries in = prizes + fees out), the prize table
paid to the balances, the finished tournament recorded; one whose owning game server is SIGKILLed in
the middle: another game server takes it over from its log and finishes it, chips conserved; and one
whose game server is drained in the middle: handed over at a move boundary and finished."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from common import protocol as p
from common import sitandgo as sg
from common.models import House, User
from tests.integration.conftest import run, started_stack, user_factory
from tests.integration.players import (
    ResilientPlayer,
    chips_total,
    database,
    finished,
    hang_up,
    owner_of,
    wait_for,
)
from tests.integration.stack import ROOT, Stack

STEEP = sg.SitAndGo(buy_in=100, fee=10, stack=200, level_hands=2,
                    levels=[sg.BlindLevel(10, 20), sg.BlindLevel(25, 50), sg.BlindLevel(50, 100),
                            sg.BlindLevel(100, 200)])


@pytest.fixture(scope="module")
def sng_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from started_stack(tmp_path_factory, "sitandgo", realtime=1, gameservers=2, env={
        "FELT_LEASE_SECONDS": "1.5", "FELT_HAND_PAUSE": "0.1", "FELT_BOT_DELAY": "0.02",
        "FELT_GRACE_PERIOD": "30"})


@pytest.fixture
def new_user(sng_stack: Stack):
    return user_factory(sng_stack)


def balance_of(stack: Stack, username: str) -> int:
    engine = database(stack)
    with engine.connect() as conn:
        users = User.__table__
        chips = conn.execute(select(users.c.chips).where(users.c.username == username)).scalar()
    engine.dispose()
    return int(chips or 0)


def house(stack: Stack) -> int:
    engine = database(stack)
    with engine.connect() as conn:
        chips = conn.execute(select(House.__table__.c.chips)).scalar()
    engine.dispose()
    return int(chips or 0)


async def open_sit_and_go(stack: Stack, user: Any, seats: int) -> ResilientPlayer:
    """A person creates a sit-and-go (registering themselves) and fills it with bots: it starts."""
    player = ResilientPlayer(user, [stack.realtime_url(0)], stack.origin)
    client = await player.connect()
    created = await client.request(p.CreateTable(game="holdem", seats=seats, sit_and_go=STEEP))
    assert isinstance(created, p.Ack), created
    player.table = str(created.table)
    for _ in range(seats - 1):
        assert isinstance(await client.request(p.AddBot(table=player.table)), p.Ack)
    return player


def finished_state(player: ResilientPlayer) -> str:
    view = player.last_view
    return view.sit_and_go.state if view is not None and view.sit_and_go is not None else ""


def check_the_result(stack: Stack, player: ResilientPlayer, seats: int, paid_before: int) -> None:
    view = player.last_view
    assert view is not None and view.sit_and_go is not None
    info = view.sit_and_go
    assert info.state == "finished" and sorted(x.place for x in info.places) == list(range(1, seats + 1))
    prizes = {x.place: x.prize for x in info.places if x.prize}
    assert [prizes[i + 1] for i in range(len(prizes))] == sg.prizes(100 * seats, seats), "the prize table"
    mine = next(x for x in info.places if x.seat == 0)
    assert balance_of(stack, player.user.username) == paid_before + mine.prize
    [record] = [r for r in finished(stack, player.table) if "sit_and_go" in r.detail]
    assert {x["seat"]: x["place"] for x in record.detail["sit_and_go"]["places"]} == {
        x.seat: x.place for x in info.places}


def test_a_sit_and_go_with_bots_is_played_to_its_end(sng_stack: Stack, new_user: Any) -> None:
    stack = sng_stack
    seats = 5
    user = new_user()
    before = chips_total(stack)
    house_before = house(stack)

    async def scenario() -> ResilientPlayer:
        player = await open_sit_and_go(stack, user, seats)
        task = asyncio.ensure_future(player.play(until_over=False))
        await wait_for(lambda: finished_state(player) == "finished", timeout=90,
                       state=lambda: (player.seen[-6:], player.last_view and player.last_view.sit_and_go))
        task.cancel()
        await hang_up(player)
        return player

    player = run(scenario())
    check_the_result(stack, player, seats, paid_before=10_000 - 110)
    assert chips_total(stack) == before, "balance chips: entries in = prizes + fees out"
    assert player.last_view is not None and player.last_view.sit_and_go is not None
    bots_won = sum(x.prize for x in player.last_view.sit_and_go.places if x.seat != 0)
    assert house(stack) == house_before - 110 * (seats - 1) + bots_won + 10 * seats


def test_a_sit_and_go_survives_a_sigkill_of_its_game_server(sng_stack: Stack, new_user: Any) -> None:
    stack = sng_stack
    seats = 4
    user = new_user()
    before = chips_total(stack)

    async def scenario() -> ResilientPlayer:
        player = await open_sit_and_go(stack, user, seats)
        source, epoch = owner_of(stack, player.table)
        task = asyncio.ensure_future(player.play(until_over=False))
        await wait_for(lambda: player.last_view is not None and player.last_view.cash is not None
                       and player.last_view.cash.hand_no >= 2 and finished_state(player) == "running")
        player.paused = True  # the table waits for the person: frozen mid-tournament
        await asyncio.sleep(0.5)
        mid = chips_total(stack)
        assert mid == before, "in the middle: the entries are held by the table"
        stack.kill(f"gs-{source}")  # SIGKILL, and nobody restarts it: the other server takes over
        await wait_for(lambda: owner_of(stack, player.table)[0] != source, timeout=15)
        assert owner_of(stack, player.table)[1] == epoch + 1
        player.paused = False
        await wait_for(lambda: any(st.available for st in player.statuses), timeout=15)
        await player.resume()
        await wait_for(lambda: finished_state(player) == "finished", timeout=90,
                       state=lambda: (player.seen[-6:], player.last_view and player.last_view.sit_and_go))
        task.cancel()
        await hang_up(player)
        stack.start_gameserver(source)
        return player

    player = run(scenario())
    check_the_result(stack, player, seats, paid_before=10_000 - 110)
    assert chips_total(stack) == before, "conserved across the crash and takeover"


def test_a_sit_and_go_is_handed_over_by_a_drain(sng_stack: Stack, new_user: Any) -> None:
    stack = sng_stack
    seats = 3
    user = new_user()
    before = chips_total(stack)

    async def scenario() -> ResilientPlayer:
        player = await open_sit_and_go(stack, user, seats)
        source, epoch = owner_of(stack, player.table)
        task = asyncio.ensure_future(player.play(until_over=False))
        await wait_for(lambda: player.last_view is not None and player.last_view.cash is not None
                       and player.last_view.cash.hand_no >= 1 and finished_state(player) == "running")
        player.paused = True  # the table waits for the person: the drain finds it mid-tournament
        await asyncio.sleep(0.3)
        drained = subprocess.run([sys.executable, "-m", "common.registry", "drain", source], cwd=ROOT,
                                 env=stack.env, capture_output=True, text=True, timeout=30)
        assert drained.returncode == 0, drained.stderr
        await wait_for(lambda: owner_of(stack, player.table)[0] != source, timeout=15)
        assert owner_of(stack, player.table)[1] == epoch + 1
        player.paused = False
        await player.resume()
        await wait_for(lambda: finished_state(player) == "finished", timeout=90,
                       state=lambda: (player.seen[-6:], player.last_view and player.last_view.sit_and_go))
        task.cancel()
        await hang_up(player)
        proc = stack.procs.pop(f"gs-{source}")
        assert proc.wait(timeout=15) == 0, "a drained game server exits by itself"
        stack.start_gameserver(source)
        return player

    player = run(scenario())
    check_the_result(stack, player, seats, paid_before=10_000 - 110)
    assert chips_total(stack) == before, "conserved across the hand-over"
