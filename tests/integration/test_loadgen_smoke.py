"""The load generator, briefly, against the real stack: games complete, no error frames, every transport.

A smoke test, not a benchmark: a few players for a few seconds, and no assertion on any time.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys

import pytest

from common import protocol as p
from common.views import allows
from gameserver.rules import games
from scripts.felt_load import run as R
from scripts.felt_load import strategy
from scripts.felt_load.cli import play_load
from tests.integration.stack import ROOT
from tests.unit.random_play import random_table

PASSWORD = "smoke-test-password"


def test_loadgen_plays_games_without_errors(stack) -> None:
    subprocess.run([sys.executable, "-m", "frontend.cli", "create-users", "--prefix", "smoke",
                    "--count", "12", "--password", PASSWORD],
                   cwd=ROOT, env=stack.env, check=True, capture_output=True)
    tokens = R.get_tokens(stack.frontend_url, [f"smoke{i}" for i in range(1, 13)], PASSWORD, cache=None,
                          progress=False)
    result = asyncio.run(asyncio.wait_for(play_load(
        tokens, stack.origin, think=0.03, duration=4.0, warmup=0.5, workers=2, cpus=None,
        xhr_streaming=1 / 3, xhr=1 / 3, progress=False), 120))
    assert result["transports"] == {"websocket": 4, "xhr_streaming": 4, "xhr": 4}
    assert result["connect"]["connected"] == 12 and result["refused"] == 0
    assert result["errors"] == {}, result["errors"]
    assert result["dropped"] == 0
    assert result["games_completed"] >= 1, result
    assert result["rtt_ms"]["n"] > 0 and result["fanout_ms"]["n"] > 0
    assert result["window"]["bad_frames"] == 0


@pytest.mark.parametrize("name", sorted(games()))
def test_lean_decoder_and_strategy_follow_the_protocol_and_rules(name: str) -> None:
    """On real frames of every game, the lean decoder reads what common.protocol does, and the one
    generic strategy picks an action the rules accept (and its games finish)."""
    game = games()[name]
    rng = random.Random(3)
    for _ in range(10):
        seats, options = random_table(game, rng)
        state = game.setup(seats, rng, options)
        while game.outcome(state) is None:
            seat = rng.choice(game.to_act(state))
            frame = p.encode_str(p.View(table="g1-0001", seq=7, view=game.view(state, seat), game=game.name,
                                        status="playing", seat=seat, events=[{"kind": "x", "cards": ["QS"]}]))
            full, lean = p.decode_server(frame), strategy.decode(frame)
            assert isinstance(full, p.View) and isinstance(lean, strategy.View) and full.view is not None
            assert (lean.table, lean.seq, lean.seat) == (full.table, full.seq, full.seat)
            assert lean.status == full.status
            assert lean.legal == full.view.legal == game.legal(state, seat) != []
            action = strategy.choose(lean.legal, rng)
            assert action is not None and any(allows(entry, action) for entry in full.view.legal)
            state, _ = game.apply(state, seat, action)
    before = strategy.decode(p.encode_str(p.View(table="g1-0001", seq=1, game=name)))
    assert isinstance(before, strategy.View) and before.view is None and before.legal == []
    assert strategy.choose([], rng) is None
    for msg in (p.Ack(req=3, table="g1-0001", seat=2), p.Error(code="stale", text="x", req=4),
                p.GameOver(table="g1-0001", seq=9, scores=[1], players=["a"], winners=[0]),
                p.Welcome(user=5, name="n")):
        lean = strategy.decode(p.encode_str(msg))
        assert type(lean).__name__ == type(msg).__name__
