"""Exported games verify offline: every deal's reveal rides in the JSON replay (with what its viewer saw)
and in the Hold'em PHH, and `python -m common.fairness verify FILE` checks them all (common/fair_files.py).

Games are played on a real table host with people and bots (history_play); each seat's export must verify
with the viewer's own cards checked; a changed card, a changed seed or an export with no deals must not.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from common import fairness as f
from common import history as ch
from gameserver import history
from tests.unit.gameserver.history_play import play

CASES = [("crazy_eights", 3), ("hearts", 4), ("holdem", 4)]


def exports(game: str, seats: int, seed: int) -> list[dict[str, Any]]:
    played = play(game, seats, seed, people=2)
    assert played.records, "the game finished"
    return [history.build(played.table.config, record).replay for record in played.records]


@pytest.mark.parametrize(("game", "seats"), CASES)
def test_every_seats_export_verifies_with_the_cards_it_saw(game: str, seats: int) -> None:
    checked_hands = 0
    for stored in exports(game, seats, seed=3):
        deals_stored = stored["fair"]
        assert deals_stored and all(r["table"] == stored["table"] for r in deals_stored)
        for viewer in [*(str(s) for s in range(seats)), ch.SPECTATOR, ch.FULL]:
            export = ch.for_viewer(stored, viewer)
            deals = f.deals_in(json.dumps(export))
            assert [r.deal for r, _ in deals] == [r["deal"] for r in deals_stored]
            for reveal, seen in deals:
                verdict = f.verify(reveal, seen)
                assert verdict.ok, (viewer, verdict.problems)
                if viewer.isdigit() and seen is not None and seen.hand:
                    assert seen.seat == int(viewer)
                    assert any("dealt cards" in line for line in verdict.checked)
                    checked_hands += 1
                if not viewer.isdigit():
                    assert seen is None  # a spectator or the full replay: the commitment and deck only
    assert checked_hands >= 2


def test_a_changed_card_or_seed_does_not_verify() -> None:
    stored = exports("crazy_eights", 3, seed=4)[0]
    export = ch.for_viewer(stored, "0")
    forged = copy.deepcopy(export)
    seen = forged["fair"][0]["seen"]
    mine = set(seen["hand"])
    seen["hand"][0] = next(card for card in ("AS", "KH", "2C", "9D") if card not in mine)
    (reveal, seen_struct), = f.deals_in(json.dumps(forged))
    assert not f.verify(reveal, seen_struct).ok
    forged = copy.deepcopy(export)
    seed = forged["fair"][0]["reveal"]["seed"]
    forged["fair"][0]["reveal"]["seed"] = ("0" if seed[0] != "0" else "1") + seed[1:]
    (reveal, seen_struct), = f.deals_in(json.dumps(forged))
    problems = f.verify(reveal, seen_struct).problems
    assert any("commitment" in line for line in problems), problems


def test_phh_carries_its_hands_reveal_and_the_command_checks_files(tmp_path: Path, capsys) -> None:
    stored = exports("holdem", 3, seed=2)[0]
    phh = ch.phh_for(stored, "1")
    assert phh is not None and "_felt_fair_reveal" in phh
    (reveal, _), = f.deals_in(phh)
    assert reveal.deal == stored["fair"][0]["deal"] and reveal.game == "holdem"
    (tmp_path / "hand.phh").write_text(phh)
    (tmp_path / "hand.json").write_text(json.dumps(ch.for_viewer(stored, "1")))
    assert f.main(["verify", str(tmp_path / "hand.phh")]) == 0
    assert f.main(["verify", str(tmp_path / "hand.json")]) == 0
    assert "VERIFIED" in capsys.readouterr().out
    old = {k: v for k, v in ch.for_viewer(stored, "1").items() if k != "fair"}  # before fair deals
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert f.main(["verify", str(tmp_path / "old.json")]) == 2
    assert "no revealed deals" in capsys.readouterr().err
    (tmp_path / "old.phh").write_text("variant = \"NT\"\n")
    assert f.main(["verify", str(tmp_path / "old.phh")]) == 2


def test_a_multi_deal_export_reports_each_deal_and_fails_if_one_fails(tmp_path: Path, capsys) -> None:
    stored = next(s for s in exports("hearts", 4, seed=0) if len(s["fair"]) > 1)
    export = ch.for_viewer(stored, "2")
    export["fair"][-1]["reveal"]["nonce"] = "00" * 16
    (tmp_path / "match.json").write_text(json.dumps(export))
    assert f.main(["verify", str(tmp_path / "match.json")]) == 1
    out = capsys.readouterr().out
    n = len(export["fair"])
    assert out.count("NOT VERIFIED") == 1 and f"{n - 1} of {n} deals verified" in out
