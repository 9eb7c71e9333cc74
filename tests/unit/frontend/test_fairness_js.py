"""The browser's checker of fair deals (frontend/static/js/fairness.js, its own SHA-256 and HMAC), run in
node against reveals the game server's scheme (common.fairness) made: it rebuilds the same deck and deals,
verifies honest reveals with every card seen, and refuses a changed seed, a chosen server contribution
and cards the deck did not deal."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest

from common import fairness as f
from common.views import FairReveal

FAIRNESS_JS = Path(__file__).resolve().parents[3] / "frontend" / "static" / "js" / "fairness.js"
NODE = shutil.which("node")

SCRIPT = """
const { verify } = await import(process.argv[1]);
let input = "";
for await (const chunk of process.stdin) input += chunk;
const cases = JSON.parse(input);
process.stdout.write(JSON.stringify(cases.map(({ reveal, seen }) => verify(reveal, seen))));
"""


def run_js(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert NODE is not None
    done = subprocess.run([NODE, "--input-type=module", "-e", SCRIPT, str(FAIRNESS_JS)],
                          input=json.dumps(cases), capture_output=True, text=True, timeout=60, check=True)
    return list(json.loads(done.stdout))


def reveal(rng: random.Random, game: str) -> FairReveal:
    seats = {"crazy_eights": rng.randint(2, 5), "hearts": 4, "holdem": rng.randint(2, 9)}[game]
    seed, nonce = rng.randbytes(32), rng.randbytes(16)
    players = {s: rng.randbytes(32).hex() for s in range(seats) if rng.random() < 0.6}
    context: dict[str, Any] = {"seats": seats}
    if game == "holdem":
        dealt = [True, True] + [rng.random() < 0.7 for _ in range(seats - 2)]
        rng.shuffle(dealt)
        context.update(button=rng.choice([s for s in range(seats) if dealt[s]]), dealt=dealt)
    return FairReveal(scheme=f.SCHEME, table="g1-0001", deal=rng.randint(1, 99), game=game,
                      commitment=f.commitment(seed, nonce), seed=seed.hex(), nonce=nonce.hex(),
                      contributions=f.contributions_of(seed, range(seats), players), context=context)


@pytest.mark.skipif(NODE is None, reason="node is not installed (apt-get install nodejs)")
def test_the_browser_checker_agrees_with_the_scheme() -> None:
    rng = random.Random(17)
    cases: list[dict[str, Any]] = []
    expected: list[tuple[bool, list[str]]] = []
    for i in range(36):
        r = reveal(rng, ("crazy_eights", "hearts", "holdem")[i % 3])
        key = f.reveal_key(r)
        dealt = f.dealt_cards(r.game, key, r.context)
        seat = rng.choice(sorted(dealt.hands))
        neighbour = next(s for s in sorted(dealt.hands) if s != seat)
        seen: dict[str, Any] = {"seat": seat, "hand": sorted(dealt.hands[seat]),
                                "public": dealt.public[:rng.randint(0, 5)],
                                "others": {neighbour: dealt.hands[neighbour][:1]},
                                "drawn": [[len(dealt.stock) - 1, dealt.stock[-1]]] if dealt.stock else []}
        honest = msgspec.to_builtins(r)
        cases.append({"reveal": honest, "seen": seen})
        expected.append((True, f.deck(key)))
        other = dict(honest, seed=rng.randbytes(32).hex())  # a seed chosen after the contributions
        cases.append({"reveal": other, "seen": None})
        expected.append((False, f.deck(f.reveal_key(msgspec.convert(other, FairReveal)))))
        wrong = dict(seen, others={neighbour: dealt.hands[seat][:1]}) if i % 2 else dict(
            seen, hand=sorted(dealt.hands[seat])[1:] + ["XX"])
        cases.append({"reveal": honest, "seen": wrong})
        expected.append((False, f.deck(key)))
    results = run_js(cases)
    for case, result, (ok, deck) in zip(cases, results, expected, strict=True):
        assert result["ok"] is ok, (case, result)
        assert result["deck"] == deck
    # a "server" contribution other than the one the seed fixes (chosen after the players') is refused
    chosen = msgspec.to_builtins(reveal(random.Random(1), "hearts"))
    chosen["contributions"][0] = dict(chosen["contributions"][0], value="00" * 32, by="server")
    assert run_js([{"reveal": chosen, "seen": None}])[0]["ok"] is False


@pytest.mark.skipif(NODE is None, reason="node is not installed (apt-get install nodejs)")
def test_the_browser_checker_verifies_exported_games_deals() -> None:
    """The `fair` list of a JSON export, as a browser would read the downloaded file (seat keys as text)."""
    from common import history as ch
    from gameserver import history
    from tests.unit.gameserver.history_play import play

    cases = []
    for game, seats in (("crazy_eights", 3), ("hearts", 4), ("holdem", 3)):
        played = play(game, seats, 5, people=2)
        stored = history.build(played.table.config, played.records[0]).replay
        export = json.loads(json.dumps(ch.for_viewer(stored, "0")))
        cases += [deal for deal in export["fair"] if "seen" in deal]
    assert len(cases) >= 3
    results = run_js(cases)
    assert all(result["ok"] for result in results), results
    assert all(any("dealt cards" in line for line in result["checked"]) for result in results)
