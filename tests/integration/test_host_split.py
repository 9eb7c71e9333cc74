"""Felt on three hosts, as README's "Operations: several hosts" lays them out, made of network namespaces
with veth links (tests/netns.py): the frontend and two realtime processes on a public host, two game
servers on a private host only the internal LAN reaches, PostgreSQL on a database host. Scripted players
connect from outside (this machine) to the public host's outside address, over CurveZMQ links provisioned
as an admin would (each key made on its host, only public files copied).

Checked: from outside only the public host's ports answer, the game servers' and the database's do not
(while they do from the LAN), and with nftables the game servers admit the public host alone; a game is
played to its end through all of it; the private host's game server that owns the table, killed
(SIGKILL), is taken over by the other after its lease, the game finishes, every acknowledged move is in
the log once, and no chip is made or lost.

Needs root and iproute2: skipped without them, except in CI (`FELT_REQUIRE_BROWSER=1`), which must run
it. It always runs PostgreSQL on its database host (tests/pgserver.py), whatever FELT_TEST_DATABASE says.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from tests import netns
from tests.integration.conftest import run, user_factory
from tests.integration.players import (
    ResilientPlayer,
    UserFactory,
    chips_total,
    finish,
    finished,
    log_is_exact,
    owner_of,
    play_on,
    seat_players,
    wait_for,
)
from tests.integration.stack import ROOT, Host, Stack, WebUser
from tests.pgserver import PostgresServer, PostgresUnavailable, bin_dir

LEASE = 1.5  # seconds: a game server silent this long is gone and its tables are taken over
PROBE = 1.0  # seconds a connection attempt from outside may take before it counts as failed


def _cannot(reason: str) -> None:
    if os.environ.get("FELT_REQUIRE_BROWSER") == "1":  # CI must run it
        pytest.fail(f"the host-split test cannot run: {reason}")
    pytest.skip(reason)


class SplitStack(Stack):
    """A stack whose database the test reads from the public host, as an admin there would: this machine
    (the outside) cannot reach the database host."""

    def __init__(self, *args: Any, admin: netns.Netns, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admin = admin

    def db(self) -> Engine:
        conninfo = self.database_url.replace("postgresql+psycopg://", "postgresql://", 1)

        def connect() -> psycopg.Connection[Any]:  # made on the public host, then used from here
            return self.admin.call(lambda: psycopg.connect(conninfo, connect_timeout=5))

        return create_engine(self.database_url, creator=connect)


@pytest.fixture(scope="module")
def hosts() -> Iterator[netns.HostSplit]:
    why = netns.unavailable()
    if why is not None:
        _cannot(why)
    try:
        bin_dir()
    except PostgresUnavailable as exc:
        _cannot(str(exc))
    split = netns.HostSplit.create()
    try:
        yield split
    finally:
        split.destroy()


@pytest.fixture(scope="module")
def stack(hosts: netns.HostSplit, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SplitStack]:
    pg = PostgresServer(host=hosts.database.address, prefix=hosts.database.prefix, allow=hosts.lan_subnet,
                        via=hosts.public.call)
    started: SplitStack | None = None
    try:
        pg.start()
        pg.execute("CREATE DATABASE felt")
        started = SplitStack(
            Path(tmp_path_factory.mktemp("split")), admin=hosts.public, database_url=pg.url("felt"),
            public=Host(hosts.public.address, hosts.public.prefix, "public"),
            private=Host(hosts.private.address, hosts.private.prefix, "private"),
            env={"FELT_LEASE_SECONDS": str(LEASE), "FELT_HAND_PAUSE": "0.2", "FELT_GRACE_PERIOD": "30"})
        started.start()
        yield started
    finally:
        if started is not None:
            started.stop()
        pg.stop()


@pytest.fixture
def new_user(stack: Stack) -> UserFactory:
    return user_factory(stack)


def probe(address: str, port: int, timeout: float = PROBE) -> None:
    """Open a TCP connection and close it; OSError (TimeoutError among them) if none can be made."""
    socket.create_connection((address, port), timeout=timeout).close()


def refused_from_outside(address: str, port: int) -> float:
    """How long an attempt from outside took to fail (it must fail)."""
    started = time.monotonic()
    with pytest.raises(OSError):
        probe(address, port)
    return time.monotonic() - started


def test_from_outside_only_the_public_host_answers(hosts: netns.HostSplit, stack: SplitStack) -> None:
    assert WebUser(stack.frontend_url, "nobody").get("/healthz")[0] == 200
    for i in range(len(stack.realtime_ports)):
        probe(hosts.public.address, stack.realtime_ports[i])
    for endpoint in stack.gameserver_endpoints.values():
        parts = urlsplit(endpoint)
        assert parts.hostname == hosts.private.address and parts.port is not None
        port: int = parts.port
        hosts.public.call(lambda: probe(hosts.private.address, port))  # noqa: B023 - called at once
        # ... open to the public host's LAN side, closed to the outside:
        assert refused_from_outside(hosts.private.address, port) < PROBE + 1, "fails fast"
    db_port = int(urlsplit(stack.database_url).port or 0)
    hosts.private.call(lambda: probe(hosts.database.address, db_port))
    refused_from_outside(hosts.database.address, db_port)

    status = subprocess.run(hosts.public.argv([sys.executable, "-m", "common.registry", "status"]), cwd=ROOT,
                            env=stack.env_of(stack.public), capture_output=True, text=True, timeout=30)
    rows = {line.split()[0]: line.split() for line in status.stdout.splitlines()[1:]}
    assert {rows[name][-1] for name in stack.gameserver_endpoints} == set(stack.gameserver_endpoints.values())
    for i, port in enumerate(stack.realtime_ports):
        assert rows[f"rt{port}"][-1] == stack.realtime_url(i), "browsers are sent to the outside address"
    assert all(rows[name][2] == "live" for name in rows), status.stdout

    secrets_on = {host: {p.parent.parent.name for p in (stack.data_of(host) / "keys").rglob("*.key_secret")}
                  for host in (stack.public, stack.private)}
    assert secrets_on == {stack.public: {"realtime"}, stack.private: {"gameserver"}}, "no secret left home"
    for name in stack.gameserver_endpoints:  # CURVE on, admitting the realtime keys copied over
        assert f"{len(stack.realtime_ports)} realtime key(s) allowed" in stack.log(f"gs-{name}")
    for i in range(len(stack.realtime_ports)):
        assert "CurveZMQ on" in stack.log(f"rt-{i}")


def test_the_private_host_admits_the_public_host_alone(hosts: netns.HostSplit, stack: SplitStack) -> None:
    if not hosts.firewalled:
        _cannot("nft is missing (apt-get install nftables): the private host has no firewall")
    for endpoint in stack.gameserver_endpoints.values():
        port = int(urlsplit(endpoint).port or 0)
        hosts.public.call(lambda: probe(hosts.private.address, port))  # noqa: B023 - called at once
        with pytest.raises(OSError):
            hosts.database.call(lambda: probe(hosts.private.address, port))  # noqa: B023 - called at once


@pytest.mark.parametrize("game", ["crazy_eights", "holdem"])
def test_a_game_across_the_hosts_survives_its_game_server_killed(stack: SplitStack, new_user: UserFactory,
                                                                 game: str) -> None:
    cash = game == "holdem"
    chips: list[int] = []

    async def scenario() -> tuple[list[ResilientPlayer], str]:
        players = await seat_players(stack, new_user, game)
        chips.append(chips_total(stack))
        table = players[0].table
        source, epoch = owner_of(stack, table)
        tasks = await play_on(players, cash)
        await wait_for(lambda: sum(len(pl.acked) for pl in players) >= 4)
        pid = stack.procs[f"gs-{source}"].pid
        assert b"gameserver" in Path(f"/proc/{pid}/cmdline").read_bytes(), "the pid is the game server's own"
        stack.kill(f"gs-{source}")  # SIGKILL, and nobody restarts it
        await wait_for(lambda: owner_of(stack, table)[0] != source, timeout=10)
        assert owner_of(stack, table)[1] == epoch + 1, "a takeover raises the epoch"
        acked = sum(len(pl.acked) for pl in players)
        await wait_for(lambda: sum(len(pl.acked) for pl in players) > acked, timeout=10,
                       state=lambda: [pl.seen[-6:] for pl in players])  # play carries on at the survivor
        await finish(players, tasks, cash)
        return players, source

    players, source = run(scenario())
    stack.start_gameserver(source)  # back on the private host for the next test
    log_is_exact(stack, players)
    if not cash:
        assert finished(stack, players[0].table), "the game finished"
    assert chips_total(stack) == chips[0], "not a chip made or lost"
