"""The registry's leases, states and name ownership, on a real SQLite database with an injected clock."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from common import registry as r
from common.models import init_db


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[tuple[r.Registry, Clock]]:
    clock = Clock()
    engine = init_db(f"sqlite:///{tmp_path / 'felt.db'}")
    yield r.Registry(engine, lease=5.0, clock=clock), clock
    engine.dispose()


def test_a_lease_not_renewed_reads_gone_and_a_renewal_keeps_it_live(reg) -> None:
    registry, clock = reg
    registry.register("gameserver", "g1", "tcp://127.0.0.1:5601", boot="b1", public_key="k" * 40, capacity=50)
    [g1] = registry.servers()
    assert (g1.kind, g1.endpoint, g1.public_key, g1.capacity, g1.state(clock.now)) == \
        ("gameserver", "tcp://127.0.0.1:5601", "k" * 40, 50, r.LIVE)
    clock.now += 4.0
    assert registry.renew("g1", "b1", load=7) == r.LIVE
    clock.now += 4.0
    [g1] = registry.servers()
    assert g1.state(clock.now) == r.LIVE and g1.load == 7, "renewed 4 s ago: still live"
    clock.now += 1.5
    assert registry.servers()[0].state(clock.now) == r.GONE, "no renewal for 5.5 s: gone"


def test_a_newer_process_under_the_same_name_replaces_the_older_one(reg) -> None:
    registry, clock = reg
    registry.register("gameserver", "g1", "tcp://127.0.0.1:5601", boot="old")
    registry.register("gameserver", "g1", "tcp://127.0.0.1:5611", boot="new")
    with pytest.raises(r.Replaced):
        registry.renew("g1", "old", load=0)
    assert registry.renew("g1", "new", load=3) == r.LIVE
    registry.leave("g1", "old")  # the old one's exit does not end the new one's lease
    assert registry.servers()[0].state(clock.now) == r.LIVE
    registry.leave("g1", "new")
    assert registry.servers()[0].state(clock.now) == r.GONE


def test_drained_servers_take_no_new_work_and_the_least_loaded_comes_first(reg) -> None:
    registry, clock = reg
    for name, load in (("rt8101", 30), ("rt8102", 10), ("rt8103", 20)):
        registry.register("realtime", name, f"http://127.0.0.1:{name[2:]}/sockjs", boot=name, load=load)
    registry.register("gameserver", "g1", "tcp://127.0.0.1:5601", boot="g")
    assert [s.name for s in registry.serving("realtime")] == ["rt8102", "rt8103", "rt8101"]
    assert registry.set_state("rt8102", r.DRAINING)
    assert registry.renew("rt8102", "rt8102", load=9) == r.DRAINING, "the process hears of its drain"
    assert [s.name for s in registry.serving("realtime")] == ["rt8103", "rt8101"]
    assert registry.set_state("rt8102", r.LIVE)
    assert [s.name for s in registry.serving("realtime")][0] == "rt8102", "a drain can be undone"
    assert not registry.set_state("rt9999", r.DRAINING), "no such server"
    with pytest.raises(ValueError):
        registry.set_state("rt8101", r.GONE)
    with pytest.raises(ValueError):
        registry.register("database", "db", "x", boot="b")


def test_version_is_the_commit_this_checkout_runs() -> None:
    root = Path(r.__file__).resolve().parent.parent
    if not (root / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert r.version() == head[:10]
