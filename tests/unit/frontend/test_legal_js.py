"""The browser client's one reading of `legal` (frontend/static/js/legal.js), run in node on real entries:
every action it builds for an entry, with the first choices and with each choice a player can click, is
allowed by the entry and accepted by the rules; a choice the entry does not offer builds nothing."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest

from common import protocol as p
from common.views import allows
from gameserver.rules import games
from gameserver.rules.base import IllegalMove
from tests.unit.random_play import walk

LEGAL_JS = Path(__file__).resolve().parents[3] / "frontend" / "static" / "js" / "legal.js"
NODE = shutil.which("node")

# For each case {entry, choice}: what actionOf builds (null when it refuses the choice).
SCRIPT = """
const { actionOf } = await import(process.argv[1]);
let input = "";
for await (const chunk of process.stdin) input += chunk;
const cases = JSON.parse(input);
process.stdout.write(JSON.stringify(cases.map(({ entry, choice }) => actionOf(entry, choice))));
"""


def build(cases: list[dict[str, Any]]) -> list[Any]:
    assert NODE is not None
    done = subprocess.run([NODE, "--input-type=module", "-e", SCRIPT, str(LEGAL_JS)], input=json.dumps(cases),
                          capture_output=True, text=True, timeout=60, check=True)
    return list(json.loads(done.stdout))


def choices(entry: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """The choices a player can make on the page for this entry (and none: the defaults)."""
    out: list[dict[str, Any]] = [{}]
    cards = entry.get("cards")
    if cards and entry.get("count") is None:
        suits = entry.get("suits") or [None]
        out += [{"card": c, **({"suit": s} if s else {})} for c in cards for s in suits]
    elif cards:
        out += [{"cards": rng.sample(cards, entry["count"])} for _ in range(3)]
    if entry.get("field"):
        out += [{"amount": a} for a in (entry["min"], entry["max"], (entry["min"] + entry["max"]) / 2 + 0.4,
                                        entry["max"] + 1000, "")]
    return out


@pytest.mark.skipif(NODE is None, reason="node is not installed (apt-get install nodejs)")
@pytest.mark.parametrize("name", sorted(games()))
def test_actions_built_in_the_browser_are_legal(name: str) -> None:
    game = games()[name]
    rng = random.Random(4)
    cases: list[dict[str, Any]] = []
    where: list[tuple[Any, int, Any]] = []
    for _, state in walk(game, seed=8, moves=150):
        for seat in game.to_act(state):
            for entry in game.legal(state, seat):
                data = msgspec.to_builtins(entry)
                for choice in choices(data, rng):
                    cases.append({"entry": data, "choice": choice})
                    where.append((state, seat, entry))
    built = build(cases)
    assert len(built) == len(cases) > 150
    for case, action, (state, seat, entry) in zip(cases, built, where, strict=True):
        assert action is not None, case
        typed = p.action_from_builtins(action)
        assert allows(entry, typed), (case, action)
        try:
            game.apply(state, seat, typed)
        except IllegalMove as exc:
            raise AssertionError(f"{case} built {action}: {exc}") from None
    refused = build([
        {"entry": {"type": "play", "cards": ["5H"]}, "choice": {"card": "QS"}},
        {"entry": {"type": "play", "cards": ["8C"], "suits": ["C", "D"]}, "choice": {"suit": "H"}},
        {"entry": {"type": "pass_cards", "cards": ["2C", "3C", "4C"], "count": 3},
         "choice": {"cards": ["2C"]}},
    ])
    assert refused == [None, None, None]
