"""The live topology with real processes: the registry, adding a game server, draining one, a game server
that dies for good, and one paused past its lease (fencing), while scripted people play.

In every case: every table finishes (or, a cash table, plays on), every acknowledged move is in the log
exactly once, chips are conserved, and no client reloads (the scripted players resume on the
`table_status` the realtime tier sends them, as the browser client does).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from common import protocol as p
from common.models import TableAction
from tests.integration.conftest import created_table, run, started_stack, user_factory
from tests.integration.players import (
    ResilientPlayer,
    UserFactory,
    chips_total,
    connect_player,
    finish,
    finished,
    hang_up,
    log_is_exact,
    owner_of,
    play_on,
    seat_players,
    wait_for,
)
from tests.integration.stack import ROOT, Stack

LEASE = 1.5  # seconds: a game server silent this long is gone and its tables are taken over


@pytest.fixture(scope="module")
def topo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from started_stack(tmp_path_factory, "topology", realtime=2, gameservers=2, env={
        "FELT_LEASE_SECONDS": str(LEASE), "FELT_HAND_PAUSE": "0.2", "FELT_GRACE_PERIOD": "30"})


@pytest.fixture
def new_user(topo: Stack) -> UserFactory:
    return user_factory(topo)


def ctl(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "common.registry", *args], cwd=ROOT, env=stack.env,
                          capture_output=True, text=True, timeout=30)


def registry_rows(stack: Stack) -> dict[str, list[str]]:
    """`scripts/ctl status`'s table, by server name."""
    out = ctl(stack, "status").stdout.splitlines()
    header = out[0].split()
    assert header[:3] == ["NAME", "KIND", "STATE"], out
    return {line.split()[0]: line.split() for line in out[1:]}


def test_the_registry_lists_every_process_and_ctl_status_prints_it(topo: Stack) -> None:
    rows = registry_rows(topo)
    names = {f"rt{port}" for port in topo.realtime_ports} | set(topo.gameserver_endpoints)
    assert names <= set(rows), rows
    for name in names:
        assert rows[name][2] == "live", rows[name]
    assert rows["g1"][1] == "gameserver" and rows[f"rt{topo.realtime_ports[0]}"][1] == "realtime"
    assert ctl(topo, "drain", "nobody").returncode == 2


def test_a_game_server_added_live_gets_new_tables(topo: Stack, new_user: UserFactory) -> None:
    topo.start_gameserver("g3")  # nothing else restarts

    async def scenario() -> set[str]:
        client = await connect_player(topo.realtime_url(0), new_user().token()["token"], topo.origin)
        servers: set[str] = set()
        tables: list[str] = []
        try:
            deadline = time.monotonic() + 10
            while "g3" not in servers and time.monotonic() < deadline:  # the others fill up meanwhile
                answer = await client.request(p.CreateTable(game="crazy_eights", seats=2))
                tables.append(created_table(answer))
                servers.add(tables[-1].partition("-")[0])
                await asyncio.sleep(0.2)
            for table in tables:
                await client.request(p.Leave(table=table))
        finally:
            await client.close()
        return servers

    assert "g3" in run(scenario()), "a new game server gets new tables within seconds"
    assert registry_rows(topo)["g3"][2] == "live"


@pytest.mark.parametrize("game", ["crazy_eights", "hearts", "holdem"])
def test_draining_a_game_server_hands_its_tables_over_while_they_play(topo: Stack, new_user: UserFactory,
                                                                      game: str) -> None:
    cash = game == "holdem"
    chips: list[int] = []

    async def scenario() -> list[ResilientPlayer]:
        players = await seat_players(topo, new_user, game, bots=1)  # a bot (buying in from the house) too
        chips.append(chips_total(topo))
        table = players[0].table
        source, epoch = owner_of(topo, table)
        tasks = await play_on(players, cash)
        await wait_for(lambda: sum(len(pl.acked) for pl in players) >= 4)
        assert ctl(topo, "drain", source).returncode == 0
        await wait_for(lambda: owner_of(topo, table)[0] != source, timeout=10)
        owner, new_epoch = owner_of(topo, table)
        assert new_epoch == epoch + 1, "a hand-over raises the epoch"
        acked = sum(len(pl.acked) for pl in players)
        await wait_for(lambda: sum(len(pl.acked) for pl in players) > acked + 2,
                       state=lambda: [pl.seen[-6:] for pl in players])  # play carries on at the new owner
        proc = topo.procs.pop(f"gs-{source}")
        assert proc.wait(timeout=15) == 0, "a drained game server exits by itself, cleanly"
        await finish(players, tasks, cash)
        assert registry_rows(topo)[source][2] == "gone"
        topo.start_gameserver(source)  # back for the next test
        assert all(pl.reconnects == 0 for pl in players), "nobody reconnected, nobody reloaded"
        return players

    players = run(scenario())
    log_is_exact(topo, players)
    if not cash:
        assert finished(topo, players[0].table)
    assert chips_total(topo) == chips[0], "not a chip made or lost"


def test_a_game_server_killed_for_good_has_its_tables_taken_over(topo: Stack, new_user: UserFactory) -> None:
    async def scenario() -> list[ResilientPlayer]:
        players = await seat_players(topo, new_user, "hearts")
        table = players[0].table
        source, epoch = owner_of(topo, table)
        tasks = await play_on(players, cash=False)
        await wait_for(lambda: sum(len(pl.acked) for pl in players) >= 4)
        killed = time.monotonic()
        topo.kill(f"gs-{source}")  # SIGKILL, and nobody restarts it
        await wait_for(lambda: owner_of(topo, table)[0] != source, timeout=10)
        acked = sum(len(pl.acked) for pl in players)
        await wait_for(lambda: sum(len(pl.acked) for pl in players) > acked, timeout=10)
        assert time.monotonic() - killed < 5 + 1, "the table carries on elsewhere within 5 s"
        assert owner_of(topo, table)[1] == epoch + 1
        await finish(players, tasks, cash=False)
        topo.start_gameserver(source)
        return players

    players = run(scenario())
    log_is_exact(topo, players)
    assert finished(topo, players[0].table)


def test_a_game_server_paused_past_its_lease_is_fenced_when_it_wakes(topo: Stack,
                                                                    new_user: UserFactory) -> None:
    async def scenario() -> tuple[list[ResilientPlayer], str, int]:
        players = await seat_players(topo, new_user, "crazy_eights")
        table = players[0].table
        source, epoch = owner_of(topo, table)
        tasks = await play_on(players, cash=False)
        await wait_for(lambda: sum(len(pl.acked) for pl in players) >= 4)
        proc = topo.procs[f"gs-{source}"]
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            await wait_for(lambda: owner_of(topo, table)[0] != source, timeout=10)
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        await wait_for(lambda: "fenced" in topo.log(f"gs-{source}"), timeout=10)
        await finish(players, tasks, cash=False)
        return players, source, epoch

    players, source, epoch = run(scenario())
    log_is_exact(topo, players)
    assert finished(topo, players[0].table)
    engine = topo.db()
    with engine.connect() as conn:
        actions = TableAction.__table__
        seen = list(conn.execute(select(actions.c.epoch).where(actions.c.table_id == players[0].table)
                                 .order_by(actions.c.seq)).scalars())
    engine.dispose()
    assert seen == sorted(seen) and seen[-1] == epoch + 1, "after the takeover only the new owner wrote"
    assert "table" in topo.log(f"gs-{source}") and source in registry_rows(topo)


def test_draining_a_realtime_server_moves_its_clients_and_they_play_on(topo: Stack,
                                                                      new_user: UserFactory) -> None:
    async def scenario() -> list[ResilientPlayer]:
        players = await seat_players(topo, new_user, "hearts", options={"target": 60})  # long enough
        for pl in players:  # everyone on realtime 0, the one to drain
            await hang_up(pl)
            pl.client = await connect_player(topo.realtime_url(0), pl.user.token()["token"], topo.origin)
            await pl.resume()
        tasks = await play_on(players, cash=False)
        await wait_for(lambda: sum(len(pl.acked) for pl in players) >= 4)
        name = f"rt{topo.realtime_ports[0]}"
        assert ctl(topo, "drain", name).returncode == 0
        proc = topo.procs.pop("rt-0")
        assert await asyncio.get_running_loop().run_in_executor(None, proc.wait, 30) == 0, "it exits, cleanly"
        def where() -> list[Any]:
            return [(pl.client and pl.client.base, pl.reconnects, pl.over is not None, pl.seen[-6:])
                    for pl in players]

        await wait_for(lambda: all(pl.client and pl.client.base == topo.realtime_url(1) for pl in players),
                       timeout=10, state=where)
        acked = sum(len(pl.acked) for pl in players)
        await wait_for(lambda: sum(len(pl.acked) for pl in players) > acked + 2, state=where)  # plays on
        await finish(players, tasks, cash=False)
        assert all(pl.reconnects >= 1 for pl in players), "each went elsewhere (a scripted player reconnects)"
        told = [int(n) for n in re.findall(r"draining: moving (\d+) client", topo.log("rt-0"))]
        assert told and told[0] >= len(players), f"each was told where to go ({told})"  # and any other client
        topo.start_realtime(0)
        return players

    players = run(scenario())
    log_is_exact(topo, players)
    assert finished(topo, players[0].table)
