"""The words for a hand's events (frontend/static/js/replayview.js `eventText`, shared by the replay page
and the table's hand history), run in node on the actions of summaries of games really played: every
kind a summary carries has its own words (none falls through to the bare kind), and an event without
the cards its viewer was not shown says so without them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from common import hand_summary as hs
from common import history as h
from gameserver import history
from tests.unit.gameserver.history_play import play

REPLAYVIEW_JS = Path(__file__).resolve().parents[3] / "frontend" / "static" / "js" / "replayview.js"
NODE = shutil.which("node")

SCRIPT = """
const { eventText } = await import(process.argv[1]);
let input = "";
for await (const chunk of process.stdin) input += chunk;
const cases = JSON.parse(input);
process.stdout.write(JSON.stringify(cases.map((ev) => eventText(ev, (seat) => `P${seat}`))));
"""


def words(events: list[dict[str, Any]]) -> list[str]:
    assert NODE is not None
    done = subprocess.run([NODE, "--input-type=module", "-e", SCRIPT, str(REPLAYVIEW_JS)],
                          input=json.dumps(events), capture_output=True, text=True, timeout=60, check=True)
    return list(json.loads(done.stdout))


def actions(game: str, seats: int, seed: int, hands: int) -> list[dict[str, Any]]:
    played = play(game, seats, seed, people=2, hands=hands)
    out = []
    for record in played.records:
        assert history.finished(played.table.config, record, 0.0).result is not None
        replay = h.for_viewer(h.unpack(history.replay_text(played.table.config, record)), "0")
        summary = hs.summarize(replay, number=1, finished=0.0)
        out += [a for r in summary["rounds"] for a in r["actions"] if a["kind"] != "trick"]
    return out


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_every_kind_of_summary_action_has_words() -> None:
    events = actions("holdem", 3, 7, 6) + actions("hearts", 4, 3, 1) + actions("crazy_eights", 3, 2, 1)
    kinds = {ev["kind"] for ev in events}
    assert {"blind_posted", "action", "pot_awarded", "cards_passed", "deal_scored", "played", "drew"} <= kinds
    for ev, text in zip(events, words(events), strict=True):
        who = "" if ev.get("seat") is None else f"P{ev['seat']} "
        fallback = who + ev["kind"].replace("_", " ")
        assert text.strip() and (text != fallback or ev["kind"] == "passed"), (ev, text)  # its own words
        if ev["kind"] == "drew" and "card" not in ev:
            assert text == f"P{ev['seat']} drew a card" + (" (penalty)" if ev.get("penalty") else "")
        if ev["kind"] == "cards_passed" and "cards" not in ev:
            assert text == f"P{ev['seat']} passed three cards to P{ev['to_seat']}"
