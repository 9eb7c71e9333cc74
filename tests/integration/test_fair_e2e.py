"""A provably fair deal through the real tiers: the clients contribute, the reveal verifies (in Python and
with the `verify` command), the cards each player saw are the ones the revealed deck deals, and the log
holds the reveal for exports."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator

import msgspec
import pytest
from sqlalchemy import select

from common import fairness
from common import protocol as p
from common.models import TableAction
from common.views import CrazyEightsView
from tests.integration.conftest import acked, created_table, run, started_stack
from tests.integration.players import connect_player, play_until_over
from tests.integration.stack import ROOT, Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack that waits long for contributions: each client's own value is used however slow the
    machine is (a deal never waits longer than its people take to answer)."""
    yield from started_stack(tmp_path_factory, "fair", env={"FELT_ENTROPY_WAIT": "10"})


def seen_by(views: list[p.View], seat: int, contribution: str) -> fairness.Seen:
    """What a player saw of the deal: the hand and starter of the first view that had cards, and each
    card they drew, at the stock size it left (a draw takes the top: the stock's last card)."""
    first = next(v.view for v in views if isinstance(v.view, CrazyEightsView))
    assert isinstance(first, CrazyEightsView) and first.hand is not None
    drawn: list[tuple[int, str]] = []
    for v in views:
        if not isinstance(v.view, CrazyEightsView):
            continue
        after = v.view.stock + sum(1 for ev in v.events if ev.get("kind") == "drew")
        for ev in v.events:
            if ev.get("kind") == "drew":
                after -= 1
                if ev.get("seat") == seat and ev.get("card"):
                    drawn.append((after, ev["card"]))
    return fairness.Seen(seat=seat, hand=first.hand, public=[first.discards[0]], drawn=drawn,
                         contribution=contribution)


def test_a_crazy_eights_game_is_dealt_fairly_and_verifies(stack, new_user) -> None:
    ann, bob = new_user(), new_user()

    async def scenario() -> tuple[str, list[list[p.View]], list[str]]:
        a = await connect_player(stack.realtime_url(0), ann.token()["token"], stack.origin)
        b = await connect_player(stack.realtime_url(1), bob.token()["token"], stack.origin, "xhr")
        try:
            table = created_table(await a.request(p.CreateTable(game="crazy_eights", seats=3)))
            assert acked(await b.request(p.Join(table=table))).seat == 1
            assert isinstance(await a.request(p.AddBot(table=table)), p.Ack)
            assert isinstance(await a.request(p.Start(table=table)), p.Ack)
            results = await asyncio.gather(play_until_over(a, table, 0), play_until_over(b, table, 1))
            mine = [a.contributions[(table, 1)], b.contributions[(table, 1)]]
            return table, [views for _, views in results], mine
        finally:
            for c in (a, b):
                await c.close()

    table, views, mine = run(scenario())
    announced = next(v.fair for v in views[0] if v.fair is not None)
    assert announced.deal == 1 and announced.seats == [0, 1, 2] and 2 in announced.server  # the bot
    assert all(v.reveal is None for v in views[0][:-1])  # nothing revealed before the end
    reveals = [v.reveal for seat_views in views for v in seat_views if v.reveal is not None]
    assert len(reveals) == 2 and reveals[0] == reveals[1]
    reveal = reveals[0]
    assert reveal.commitment == announced.commitment
    assert [(c.seat, c.by) for c in reveal.contributions] == [(0, "player"), (1, "player"), (2, "server")]
    assert [c.value for c in reveal.contributions[:2]] == mine  # each client's own value was used
    for seat in (0, 1):
        verdict = fairness.verify(reveal, seen_by(views[seat], seat, mine[seat]))
        assert verdict.ok and len(verdict.checked) >= 4, verdict
    # the log holds the commitment, both contributions and the reveal, in that order
    with stack.engine.connect() as conn:
        entries = [row.entry for row in conn.execute(select(TableAction.__table__).where(
            TableAction.__table__.c.table_id == table).order_by(TableAction.__table__.c.seq))]
    kinds = [x["t"] for x in entries if x["t"] in ("commit", "entropy", "start", "reveal")]
    assert kinds == ["commit", "entropy", "entropy", "start", "reveal"]
    assert not any(reveal.seed in json.dumps(x) for x in entries if x["t"] != "reveal")
    logged = next(x for x in entries if x["t"] == "reveal")
    done = subprocess.run([sys.executable, "-m", "common.fairness", "verify", json.dumps(logged)], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "VERIFIED" in done.stdout, done.stdout + done.stderr
    assert msgspec.convert(logged["reveal"], type(reveal)) == reveal
