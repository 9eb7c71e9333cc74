"""Replays and exports of finished games (`gameserver.history`, `common.history`), against live play.

Games are played on a real table host with people, bots and a spectator, and every view each connection
was sent is kept. A replay must show each viewer exactly what they were shown live (step by step), never
a card another seat held unless it was shown; a Hold'em hand's PHH export, replayed by pokerkit (an
independent engine), must end with the same stacks as Felt's hand.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import msgspec
import pokerkit
import pytest

from common import history as ch
from gameserver import entries as e
from gameserver import history
from gameserver.table_types import tally
from tests.unit.gameserver.history_play import WATCHER, Played, make, play

CARD = re.compile(r'"([2-9TJQKA][CDHS])"')


def cards_in(value: Any) -> set[str]:
    import json

    return set(CARD.findall(json.dumps(value)))


def held(game: Any, seat: int) -> set[str]:
    """The cards `seat` holds in the rules' true state (hand, or Hold'em hole cards)."""
    if hasattr(game, "hole"):
        return set(game.hole[seat] or ())
    return set(game.hands[seat])


def replays(played: Played) -> list[tuple[Any, dict[str, Any]]]:
    return [(record, history.build(played.table.config, record).replay) for record in played.records]


CASES = [("crazy_eights", 3), ("crazy_eights", 5), ("hearts", 4), ("holdem", 2), ("holdem", 4), ("holdem", 6)]


@pytest.mark.parametrize(("game", "seats"), CASES)
def test_each_viewer_replays_exactly_the_views_they_were_sent(game: str, seats: int) -> None:
    for seed in range(3):
        played = play(game, seats, seed, people=2)
        assert played.records, "the game finished"
        by_seq: dict[str, dict[int, Any]] = {}
        for _, stored in replays(played):
            for key in [*(str(s) for s in range(seats)), ch.SPECTATOR]:
                for step in ch.for_viewer(stored, key)["steps"]:
                    by_seq.setdefault(key, {})[step["seq"]] = step["view"]
        compared = 0
        for conn, frames in played.frames.items():
            seat = next((s for s, c in played.table.conns.items() if c == conn), None)
            key = ch.SPECTATOR if conn == WATCHER.conn else str(seat)
            for frame in frames:
                if frame["seq"] in by_seq.get(key, {}) and frame["view"] is not None:
                    assert frame["view"] == by_seq[key][frame["seq"]], (conn, frame["seq"])
                    compared += 1
        assert compared > 5


@pytest.mark.parametrize(("game", "seats"), CASES)
def test_no_hidden_card_leaks_into_a_replay(game: str, seats: int) -> None:
    """Property over random games: every card in a seat's (or the spectator's) replay at a step was that
    seat's own at some point, or shown to the spectator by then; only the full replay shows the rest."""
    for seed in range(6):
        played = play(game, seats, 100 + seed, people=3 if seats > 2 else 2)
        config = played.table.config
        for record, stored in replays(played):
            states = [state for _, state, _ in history.fold_steps(config, record)]
            full = ch.for_viewer(stored, ch.FULL)
            spectator = ch.for_viewer(stored, ch.SPECTATOR)
            public: set[str] = set()
            owned: dict[int, set[str]] = {s: set() for s in range(seats)}
            hidden_somewhere = False
            for i, state in enumerate(states):
                public |= cards_in([spectator["steps"][i]["view"], spectator["steps"][i]["events"]])
                for seat in range(seats):
                    owned[seat] |= held(state.game, seat)
                for seat in range(seats):
                    mine = ch.for_viewer(stored, str(seat))["steps"][i]
                    leaked = cards_in([mine["view"], mine["events"]]) - owned[seat] - public
                    assert not leaked, (game, seed, i, seat, leaked)
                    others = set().union(*(held(state.game, s) for s in range(seats) if s != seat))
                    hidden_somewhere |= bool(others - public)
                step = full["steps"][i]
                everything = set().union(*(held(state.game, s) for s in range(seats)))
                assert everything <= cards_in(step["views"]), "the full replay shows every hand"
            assert hidden_somewhere, "the game had hidden cards to leak"


def test_a_viewer_of_a_private_table_or_nobody_gets_no_replay() -> None:
    assert ch.may_see(0, public=True, full=False) == "0"
    assert ch.may_see(0, public=False, full=True) == ch.FULL
    assert ch.may_see(None, public=True, full=True) == ch.SPECTATOR  # asks for all, gets less
    assert ch.may_see(None, public=False, full=False) is None


def test_the_stored_replay_packs_and_unpacks_and_passes_unknown_fields_through() -> None:
    played = play("crazy_eights", 3, 7)
    _, stored = replays(played)[0]
    stored["steps"][0]["commitment"] = "abc"  # a field some later entry kind may carry
    again = ch.unpack(ch.pack(stored))
    assert again == stored
    assert ch.for_viewer(again, "1")["steps"][0]["commitment"] == "abc"
    assert ch.for_viewer(again, "1")["version"] == ch.REPLAY_VERSION


def test_a_replay_is_stored_with_zstandard_and_one_stored_with_zlib_still_reads() -> None:
    """Rows written before Zstandard hold zlib's stream; both read back the same replay."""
    import base64
    import json
    import zlib

    _, stored = replays(play("hearts", 4, 3))[0]
    packed = base64.b64decode(ch.pack(stored))
    assert packed.startswith(b"\x28\xb5\x2f\xfd")  # a Zstandard frame
    raw = json.dumps(stored, separators=(",", ":")).encode()
    older = base64.b64encode(zlib.compress(raw, 6)).decode()
    assert ch.unpack(older) == ch.unpack(ch.pack(stored)) == stored


def test_a_stored_replay_that_claims_more_than_the_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _, stored = replays(play("crazy_eights", 3, 7))[0]
    text = ch.pack(stored)
    monkeypatch.setattr(ch, "MAX_REPLAY_BYTES", 1000)  # this replay is tens of KiB whole
    with pytest.raises(ValueError, match="larger than"):
        ch.unpack(text)


@pytest.mark.parametrize(("game", "seats"), [("crazy_eights", 4), ("hearts", 4), ("holdem", 6)])
def test_the_database_keeps_a_replay_compacted_and_gets_it_back_whole(game: str, seats: int) -> None:
    """What the game server writes is the compact form (each seat's view and events only where they
    differ from the spectator's), a fraction of the whole; unpacked, it is the whole form, every viewer's
    own view and events as `view` and `visible_to` give them."""
    import json

    def plain(value: Any) -> Any:
        return json.loads(msgspec.json.encode(value))

    played = play(game, seats, 3, people=2)
    config = played.table.config
    for record in played.records:
        folded = history.fold_steps(config, record)
        text = history.replay_text(config, record)
        compact = json.loads(history.build(config, record, folded).raw)
        assert compact["stored"] == ch.COMPACT
        whole = ch.unpack(text)
        assert "stored" not in whole
        assert len(json.dumps(compact)) * 2 < len(json.dumps(whole)), "a fraction of the whole form"
        assert len(whole["steps"]) == len(folded)
        for step, (_, state, events) in zip(whole["steps"], folded, strict=True):
            for key, seat in [*((str(s), s) for s in range(seats)), (ch.SPECTATOR, None)]:
                assert step["views"][key] == plain(config.game.view(state.game, seat))
                assert step["events"][key] == plain([ev.visible_to(seat) for ev in events])
            assert step["events"][ch.FULL] == plain([ev.visible_to(ev.seat) for ev in events])


# ---- PHH against pokerkit ----------------------------------------------------------------------------


def final_stacks(text: str) -> list[int]:
    hh = pokerkit.HandHistory.loads(text)
    state = None
    for state in hh:  # noqa: B007 (the last state is the hand's end)
        pass
    assert state is not None and not state.status, "pokerkit played the hand to its end"
    return list(state.stacks)


@pytest.mark.parametrize("seats", [2, 3, 6])
def test_phh_exports_replay_in_pokerkit_to_the_same_stacks(seats: int) -> None:
    hands = 0
    showdowns = 0
    for seed in range(8):
        played = play("holdem", seats, seed, people=min(seats, 3), hands=6)
        for record, stored in replays(played):
            phh = ch.phh_for(stored, ch.FULL)
            assert phh is not None
            hh = pokerkit.HandHistory.loads(phh)
            assert hh.finishing_stacks == final_stacks(phh), f"pokerkit agrees with Felt:\n{phh}"
            seats_of = [s - 1 for s in hh.seats or ()]
            payouts = record.outcome.detail["stacks"]
            assert hh.finishing_stacks == [payouts[s] for s in seats_of]
            hands += 1
            showdowns += " sm " in phh
            for viewer in [*(str(s) for s in range(seats)), ch.SPECTATOR]:
                partial = ch.phh_for(stored, viewer)
                assert partial is not None
                assert pokerkit.HandHistory.loads(partial).finishing_stacks == hh.finishing_stacks
    assert hands > 20 and showdowns > 3


def test_phh_hides_hole_cards_the_viewer_was_not_shown() -> None:
    played = play("holdem", 3, 3, people=3, hands=4)
    for _, stored in replays(played):
        full = ch.phh_for(stored, ch.FULL) or ""
        assert "????" not in full
        for viewer in ["0", "1", "2", ch.SPECTATOR]:
            text = ch.phh_for(stored, viewer) or ""
            dealt = re.findall(r'"d dh (p\d) (\S+)"', text)
            known = [cards for _, cards in dealt if cards != "????"]
            assert len(known) <= (0 if viewer == ch.SPECTATOR else 1), text  # their own, if dealt in
            shown = set(re.findall(r'"p\d sm (\S+)"', text))
            assert shown == set(re.findall(r'"p\d sm (\S+)"', full)), "shown hands are public"


@pytest.mark.parametrize(("game", "seats"), [("hearts", 4), ("holdem", 3)])
def test_a_game_recovered_without_its_dealt_state_replays_the_same(game: str, seats: int) -> None:
    """A table rebuilt from a snapshot taken after the deal no longer has the state the deal left: the
    deal is evolved again on a table with the game's players, and the replay is the same."""
    played = play(game, seats, 11, people=2, hands=3)
    for record in played.records:
        assert record.dealt is not None and record.entries
        again = dataclasses.replace(record, dealt=None)  # as recovery leaves it: the entries since the deal
        assert history.build(played.table.config, again).replay == history.build(played.table.config,
                                                                                 record).replay


def test_entries_that_show_nothing_pass_through_the_fold() -> None:
    """Seat changes in the middle of a game (a player away, then back) are folded but make no step."""
    from common import protocol as p
    from tests.unit.gameserver.history_play import PEOPLE

    fresh = make("crazy_eights", 3, 5)
    for who in PEOPLE[:2]:
        fresh.handle(who, p.Join(table=fresh.id), 0, 0.0)
    fresh.handle(PEOPLE[0], p.AddBot(table=fresh.id), 0, 0.0)
    fresh.handle(PEOPLE[0], p.Start(table=fresh.id), 0, 0.0)
    fresh.handle(PEOPLE[1], p.Leave(table=fresh.id), 0, 0.0)  # away: a bot plays for them
    now, ended = 0.0, None
    for _ in range(2000):
        if fresh.over:
            break
        to_act = fresh.state.to_act
        occupant = fresh.seats[to_act[0]] if to_act else None
        if occupant is not None and not occupant.bot and not occupant.away:
            legal = fresh.game.legal_moves(fresh.game_state, to_act[0])
            result = fresh.handle(PEOPLE[0], p.Act(table=fresh.id, action=legal[0], seq=fresh.seq), 0, now)
        else:
            when = fresh.wake_at()
            now = max(now, when or now)
            result = fresh.tick(now)
        ended = result.finished or ended
    assert ended is not None and any(isinstance(x, e.Away) for x in ended.entries)
    folded = history.fold_steps(fresh.config, ended)
    assert all(isinstance(entry, (e.Started, e.Acted)) for entry, _, _ in folded)
    assert len(folded) == 1 + sum(isinstance(x, e.Acted) for x in ended.entries)
    assert history.build(fresh.config, ended).replay["steps"][-1]["views"]["1"]["over"]


def test_profile_figures_come_from_the_games_events() -> None:
    """A Hold'em hand's payout is the seat's pot; a Hearts deal scored with a moon shooter counts for it."""
    from gameserver.rules.hearts_events import DealScored
    from gameserver.rules.holdem_state import HandOver

    stats: dict[int, dict[str, int]] = {}
    tally(stats, [HandOver(None, (0, 250, 90), (0, 150, 0))])
    tally(stats, [DealScored(None, 0, (26, 26, 0, 26), 2, (26, 26, 0, 26))])
    tally(stats, [DealScored(None, 1, (0, 26, 26, 26), 0, (26, 52, 26, 52))])
    tally(stats, [DealScored(None, 2, (20, 6, 0, 0), None, (46, 58, 26, 52))])
    assert stats == {1: {"pot": 150}, 2: {"moons": 1}, 0: {"moons": 1}}


@pytest.mark.parametrize(("game", "seats", "seed"),
                         [("hearts", 4, 40), ("holdem", 4, 5), ("crazy_eights", 3, 1)])
def test_a_games_result_comes_from_the_events_the_table_kept_and_matches_the_fold(
        game: str, seats: int, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The table host keeps the events a game's result counts as it plays (`GameRecord.tallied`), so
    `finished` folds nothing on the loop; its figures are the ones the whole fold gives. A record without
    them (recovered from a snapshot taken after the deal) is folded for them."""
    played = play(game, seats, seed, people=2, hands=4)
    config = played.table.config
    counted = 0
    for record in played.records:
        assert record.tallied is not None
        from_fold: dict[int, dict[str, int]] = {}
        for _, _, events in history.fold_steps(config, record):
            tally(from_fold, events)
        without = history.finished(config, dataclasses.replace(record, dealt=None, tallied=None), 0.0)
        with monkeypatch.context() as patched:
            patched.setattr(history, "fold_steps", _no_fold)
            made = history.finished(config, record, 0.0)
        assert made.result is not None and without.result is not None
        assert made.result.seats == without.result.seats
        assert {s.seat: {k: v for k, v in (("pot", s.pot), ("moons", s.moons)) if v}
                for s in made.result.seats if s.pot or s.moons} == from_fold
        counted += len(from_fold)
    if game != "crazy_eights":
        assert counted, "the games played had figures to count (a pot won, a moon shot)"


def _no_fold(*_: Any) -> Any:
    raise AssertionError("folded on the loop")


def _dealt_heads_up(table: Any) -> float:
    """Two people sit at a Hold'em `table` and start; its hand is dealt. The time then."""
    from common import protocol as p
    from tests.unit.gameserver.history_play import PEOPLE

    for who in PEOPLE[:2]:
        table.handle(who, p.Join(table=table.id, buy_in=100), 0, 0.0)
    table.handle(PEOPLE[0], p.Start(table=table.id), 0, 0.0)
    now = 0.0
    while table.state.game is None:
        now = table.wake_at() or now + 1
        table.tick(now)
    return float(now)


def _fold(table: Any, now: float) -> Any:
    """The seat to act folds (which ends a heads-up hand); the result."""
    from common import protocol as p
    from tests.unit.gameserver.history_play import PEOPLE

    to_act = table.state.to_act[0]
    fold = table.game.legal_moves(table.game_state, to_act)[0]
    assert type(fold).__name__ == "Fold"
    return table.handle(PEOPLE[to_act], p.Act(table=table.id, action=fold, seq=table.seq), 0, now)


def test_the_events_of_a_request_undone_are_not_kept_for_the_result() -> None:
    """A pass rolled back (its commit failed) forgets what its entries reported, as it forgets them."""
    table = make("holdem", 2, 4)
    now = _dealt_heads_up(table)
    saved = table.checkpoint()
    result = _fold(table, now)
    assert result.finished is not None and result.finished.tallied  # the fold ended the hand
    assert any(ev.kind == "hand_over" for _, ev in table.game_tallied)
    table.rollback(saved, now)
    assert table.game_tallied == [], "nothing the undone fold reported is kept"


def test_a_table_rebuilt_from_its_log_keeps_the_same_events_for_the_result() -> None:
    """Recovery folds the log after the snapshot (`rebuild`): a game dealt in that tail has the same
    events kept for its result as the table that played it live."""
    import random

    from gameserver import engine as en
    from gameserver.table import rebuild
    from tests.unit.gameserver.recording import RecordingCashTable

    def recording() -> RecordingCashTable:
        like = make("holdem", 2, 4)
        table = RecordingCashTable(like.id, like.game, seats=2, options=like.config.options, creator=1,
                                   seed=4, bot_delay=0.5, hand_pause=1.0, bot_rng=random.Random(4))
        table.journal = []
        return table

    table = recording()
    _fold(table, _dealt_heads_up(table))
    assert [ev.kind for _, ev in table.game_tallied] == ["hand_over"]
    copy = recording()
    rebuild(copy, en.new_state(copy.config), list(table.journal))
    assert copy.game_tallied == table.game_tallied


def test_a_person_a_bot_replaced_for_good_still_counts_with_their_seat() -> None:
    """Leaving does not save a rating: the person dealt into a seat has its result, even after the grace
    period gave the seat to a bot (`stood_up`); the bot that took it over is nobody."""
    import random

    from common import protocol as p
    from gameserver.table import Table
    from tests.unit.gameserver.history_play import GAMES, PEOPLE

    rules = GAMES["crazy_eights"]
    table = Table("g1-0002", rules, seats=3, options=rules.check_options(3, {}), creator=1, seed=3,
                  bot_delay=0.5, grace_period=1.0, bot_rng=random.Random(3))
    for who in PEOPLE[:2]:
        table.handle(who, p.Join(table=table.id), 0, 0.0)
    table.handle(PEOPLE[0], p.AddBot(table=table.id), 0, 0.0)
    table.handle(PEOPLE[0], p.Start(table=table.id), 0, 0.0)
    table.connection_lost(PEOPLE[1].conn, 0.0)  # gone: after a second a bot takes the seat for good
    now, ended = 0.0, None
    for _ in range(2000):
        if table.over:
            break
        seat = table.state.to_act[0] if table.state.to_act else None
        occupant = None if seat is None else table.seats[seat]
        if seat is not None and occupant is not None and occupant.user == 1:
            action = table.game.legal_moves(table.game_state, seat)[0]
            result = table.handle(PEOPLE[0], p.Act(table=table.id, action=action, seq=table.seq), 0, now)
        else:
            now = max(now, table.wake_at() or now)
            result = table.tick(now)
        ended = result.finished or ended
    assert ended is not None and any(isinstance(x, e.StoodUp) for x in ended.entries)
    assert [pl["bot"] for pl in ended.players] == [False, True, True]
    made = history.finished(table.config, ended, 0.0)
    assert made.result is not None
    assert [(s.seat, s.user) for s in made.result.seats] == [(0, 1), (1, 2), (2, 0)]
