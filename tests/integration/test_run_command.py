"""The README's run command, for real: scripts/run starts every tier under supervisord; a game is played;
supervisord restarts a game server killed mid-game and the game goes on; Ctrl-C stops every process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from common import protocol as p
from tests.integration.conftest import created_table, run
from tests.integration.players import ResilientPlayer, finish, finished, log_is_exact, play_on, wait_for
from tests.integration.stack import METRICS_OFFSET, ROOT, WebUser, free_port


def served_ports(count: int = 1) -> int:
    """The first of `count` consecutive free ports, each with its metrics port (+ METRICS_OFFSET) free:
    `scripts/run` binds them all."""
    return free_port(offsets=[*range(count), *range(METRICS_OFFSET, METRICS_OFFSET + count)])


def ctl(env: dict[str, str], *args: str) -> str:
    return subprocess.run([str(ROOT / "scripts" / "ctl"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=30).stdout


@contextlib.contextmanager
def launched(tmp_path: Path, gameservers: int, realtime_procs: int,
             **settings: str) -> Iterator[tuple[dict[str, str], int, int]]:
    """`scripts/run` in `tmp_path` with that many game servers and realtime processes, until every one
    is RUNNING: (env, frontend port, first realtime port); Ctrl-C at the end."""
    frontend, realtime = served_ports(), served_ports(realtime_procs)
    env = {**os.environ, "FELT_DATA_DIR": str(tmp_path), "FELT_FRONTEND_PORT": str(frontend),
           "FELT_REALTIME_PORT": str(realtime), "FELT_REALTIME_PROCS": str(realtime_procs),
           "FELT_GAMESERVER_PROCS": str(gameservers), "FELT_CONFIG": "",
           "FELT_GAMESERVERS": json.dumps({f"g{i}": f"tcp://127.0.0.1:{served_ports()}"
                                           for i in range(1, gameservers + 1)}), **settings}
    out = open(tmp_path / "run.out", "wb")  # noqa: SIM115
    proc = subprocess.Popen([str(ROOT / "scripts" / "run")], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while ctl(env, "status").count("RUNNING") < 1 + gameservers + realtime_procs:
            assert proc.poll() is None, (tmp_path / "run.out").read_text()
            assert time.monotonic() < deadline, ctl(env, "status")
            time.sleep(0.3)
        wait_linked(realtime, realtime_procs, deadline)
        yield env, frontend, realtime
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        proc.wait(timeout=60)
        out.close()


def wait_linked(realtime: int, count: int, deadline: float) -> None:
    """Until each of the `count` realtime processes from port `realtime` on hears every game server it
    knows (its /healthz): RUNNING in supervisord is before the first heartbeats, and a request then is
    refused, rightly, as "no game server is available; try again shortly"."""
    for port in range(realtime, realtime + count):
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    links = json.loads(resp.read())["gameservers"]
                if links and all(links.values()):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"realtime on port {port} never heard its game servers"
            time.sleep(0.2)


def tier_pids(env: dict[str, str]) -> dict[str, str]:
    """supervisord's running game-server and realtime programs and their pids."""
    return {line.split()[0]: line.split()[3].rstrip(",") for line in ctl(env, "status").splitlines()
            if "RUNNING" in line and line.startswith(("gameserver", "realtime"))}


def test_scripts_run_serves_a_game_and_survives_a_game_server_crash(tmp_path: Path) -> None:
    frontend, realtime = served_ports(), served_ports(2)
    env = {**os.environ, "FELT_DATA_DIR": str(tmp_path), "FELT_FRONTEND_PORT": str(frontend),
           "FELT_REALTIME_PORT": str(realtime), "FELT_CONFIG": "", "FELT_BOT_DELAY": "0.05",
           "FELT_RESUME_WINDOW": "1",
           "FELT_GAMESERVERS": json.dumps({"g1": f"tcp://127.0.0.1:{served_ports()}",
                                           "g2": f"tcp://127.0.0.1:{served_ports()}"})}
    out = open(tmp_path / "run.out", "wb")  # noqa: SIM115
    proc = subprocess.Popen([str(ROOT / "scripts" / "run")], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT)
    origin = f"http://127.0.0.1:{frontend}"
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while f"Open {origin}/" not in (tmp_path / "run.out").read_text():
            assert proc.poll() is None, (tmp_path / "run.out").read_text()
            assert time.monotonic() < deadline, "scripts/run printed no URL"
            time.sleep(0.2)
        while "RUNNING" not in ctl(env, "status", "frontend") or ctl(env, "status").count("RUNNING") < 5:
            assert time.monotonic() < deadline, ctl(env, "status")
            time.sleep(0.3)
        wait_linked(realtime, 2, deadline)
        user = None
        while user is None:
            try:
                user = WebUser(origin, "runner").register()
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.3)

        async def scenario() -> p.GameOver:
            urls = [f"http://127.0.0.1:{realtime + i}/sockjs" for i in range(2)]
            player = ResilientPlayer(user, urls, origin)
            client = await player.connect()
            player.table = created_table(await client.request(p.CreateTable(game="crazy_eights", seats=3)))
            for _ in range(2):
                await client.request(p.AddBot(table=player.table))
            await client.request(p.Start(table=player.table))
            task = asyncio.ensure_future(player.play())
            await asyncio.sleep(0.5)
            server = player.table.partition("-")[0]
            pid = int(ctl(env, "pid", f"gameserver:{server}").strip())
            os.kill(pid, signal.SIGKILL)  # a process we started (through scripts/run)
            for _ in range(100):  # supervisord brings it back under a new pid
                await asyncio.sleep(0.2)
                new = ctl(env, "pid", f"gameserver:{server}").strip()
                if new.isdigit() and int(new) not in (0, pid):
                    break
            else:
                pytest.fail("supervisord did not restart the game server")
            over = await asyncio.wait_for(task, 60)
            await client.close()
            assert over is not None, "the game did not end"
            return over

        over = run(scenario())
        assert len(over.scores) == 3
        pids = [int(x) for x in ctl(env, "pid", "all").split() if x.isdigit()]
        assert len(pids) == 5
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        proc.wait(timeout=60)
        out.close()
    for pid in pids:  # every process is gone
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_ctl_adds_processes_live_and_a_drained_one_stays_stopped(tmp_path: Path) -> None:
    with launched(tmp_path, gameservers=1, realtime_procs=1) as (env, frontend, realtime):
        pids = tier_pids(env)
        added = subprocess.run([str(ROOT / "scripts" / "ctl"), "add", "gameserver"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
        assert added.returncode == 0 and "g2 is live" in added.stdout, added.stdout + added.stderr
        added = subprocess.run([str(ROOT / "scripts" / "ctl"), "add", "realtime"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
        assert added.returncode == 0 and f"rt{realtime + 1} is live" in added.stdout, \
            added.stdout + added.stderr
        status = ctl(env, "status")
        for name, pid in pids.items():  # nothing that ran before was restarted
            assert any(line.startswith(name) and f"pid {pid}," in line
                       for line in status.splitlines()), status
        user = WebUser(f"http://127.0.0.1:{frontend}", "adder").register()
        assert f"http://127.0.0.1:{realtime + 1}/sockjs" in user.token()["urls"], "new clients can get it"
        assert "draining" in ctl(env, "drain", "g2")
        deadline = time.monotonic() + 60
        while "EXITED" not in ctl(env, "status", "gameserver-g2:"):
            assert time.monotonic() < deadline, ctl(env, "status")
            time.sleep(0.3)
        time.sleep(1.5)  # supervisord would have restarted it by now (startsecs=1)
        assert "EXITED" in ctl(env, "status", "gameserver-g2:"), "a drained game server is not restarted"
        assert "gone" in next(line for line in ctl(env, "status").splitlines() if line.startswith("g2 "))


def test_a_rolling_deploy_restarts_every_process_and_ends_no_game(tmp_path: Path) -> None:
    with launched(tmp_path, gameservers=2, realtime_procs=2, FELT_BOT_DELAY="0.05",
                  FELT_REGISTER_ADDRESS_LIMIT="100 per minute",  # four players sign up from one address
                  ) as (env, frontend, realtime):
        origin = f"http://127.0.0.1:{frontend}"
        before = tier_pids(env)
        assert len(before) == 4

        async def scenario() -> tuple[list[ResilientPlayer], subprocess.CompletedProcess[str]]:
            urls = [f"http://127.0.0.1:{realtime + i}/sockjs" for i in range(2)]
            players = [ResilientPlayer(WebUser(origin, f"deployer{i}").register(), urls, origin)
                       for i in range(4)]
            for pl in players:
                await pl.connect()
            host = players[0].client
            assert host is not None
            table = created_table(await host.request(p.CreateTable(game="hearts", seats=4,
                                                                   options={"target": 20})))
            for pl in players:
                pl.table = table
            for pl in players[1:]:
                assert pl.client is not None
                assert isinstance(await pl.client.request(p.Join(table=table)), p.Ack)
            assert isinstance(await host.request(p.Start(table=table)), p.Ack)
            tasks = await play_on(players, cash=False)
            await wait_for(lambda: sum(len(pl.acked) for pl in players) >= 4)
            loop = asyncio.get_running_loop()
            deployed = await loop.run_in_executor(None, lambda: subprocess.run(
                [str(ROOT / "scripts" / "ctl"), "deploy"], cwd=ROOT, env=env, capture_output=True, text=True,
                timeout=300))
            await finish(players, tasks, cash=False)
            return players, deployed

        players, deployed = run(scenario())
        assert deployed.returncode == 0 and "deployed" in deployed.stdout, deployed.stdout + deployed.stderr
        after = tier_pids(env)
        assert after.keys() == before.keys() and not set(after.values()) & set(before.values()), \
            "every game server and realtime process was restarted"
        log_is_exact(tmp_path, players)
        assert finished(tmp_path, players[0].table), "the game played on to its end through the deploy"
