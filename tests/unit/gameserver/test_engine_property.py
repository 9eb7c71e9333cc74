"""The one reducer, checked on random play of every game (cash tables included).

Requests include the table policy's (sitting out and in, topping up), and turn clocks run out with
time banks to draw. After every entry: the live table's state == the state folded from the log entry
by entry == the state restored from a snapshot of it; at the end, and at random points, == the whole
log folded from the start. Every frame decodes as a typed server message and validates against the
exported JSON Schema (docs/schema/server-messages.json, what the browser client is written against), and
chips are conserved throughout.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import jsonschema
import pytest

from common import protocol as p
from gameserver import engine as en
from gameserver import entries as e
from gameserver.rules import games
from gameserver.table import Result, Sender
from tests.unit.gameserver.recording import RecordingCashTable, RecordingTable

GAMES = games()
CASES = [("crazy_eights", 2), ("crazy_eights", 4), ("hearts", 4), ("holdem", 2), ("holdem", 4)]
PEOPLE = [Sender(f"rt:{i}", i, f"p{i}") for i in range(1, 7)]
SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "schema" / "server-messages.json"
SCHEMA_SEEDS = 4  # the seeds whose frames are also validated against the schema
SERVER_MESSAGES = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))


def make(game: str, seats: int, seed: int) -> RecordingTable | RecordingCashTable:
    rules = GAMES[game]
    if game == "holdem":
        options = rules.check_options(seats, {"small_blind": 5, "big_blind": 10, "min_buy_in": 100,
                                              "max_buy_in": 400})
        table: RecordingTable | RecordingCashTable = RecordingCashTable(
            "g1-0001", rules, seats=seats, options=options, creator=1, seed=seed, bot_delay=0.5,
            hand_pause=1.0, bot_rng=random.Random(seed), clock=10.0)
    else:
        table = RecordingTable("g1-0001", rules, seats=seats, options=rules.check_options(seats, {}),
                               creator=1, seed=seed, bot_delay=0.5, bot_rng=random.Random(seed),
                               clock=10.0 if seed % 2 else None)
    table.journal = []
    return table


class Checker:
    """Folds the table's log alongside it and compares after every entry."""

    def __init__(self, table: RecordingTable | RecordingCashTable, validate: bool) -> None:
        self.table = table
        self.validate = validate  # against the JSON Schema too (slower: a few seeds of each case)
        self.validated = 0
        self.folded = en.new_state(table.config)
        self.seen = 0
        self.ledger = 0  # chips moved from balances (and the house) onto the table

    def check(self, result: Result) -> None:
        for item in result.out:
            p.decode_server(item.frame)  # every frame is a typed, valid server message
            if self.validate:
                SERVER_MESSAGES.validate(json.loads(item.frame))
                self.validated += 1
        self.ledger -= sum(delta for _, delta in result.chips)
        config = self.table.config
        for entry in self.table.journal[self.seen:]:
            self.folded, _ = en.evolve(config, self.folded, e.from_builtins(e.to_builtins(entry)))
        self.seen = len(self.table.journal)
        assert self.folded == self.table.state, "live state == the log folded entry by entry"
        assert en.restore(config, en.snapshot(self.folded)) == self.folded, "a snapshot restores exactly"
        assert en.chips_on_table(self.table.state) == self.ledger, "chips are conserved"

    def whole_log(self, cut: int) -> None:
        """The whole log folded from the start, and from a snapshot taken at entry `cut`, agree."""
        config, log = self.table.config, self.table.journal
        assert en.fold(config, en.new_state(config), log) == self.table.state
        at_cut = en.restore(config, en.snapshot(en.fold(config, en.new_state(config), log[:cut])))
        assert en.fold(config, at_cut, log[cut:]) == self.table.state


def play(game: str, seats: int, seed: int) -> Checker:
    rng = random.Random(seed)
    table = make(game, seats, seed)
    check = Checker(table, validate=seed < SCHEMA_SEEDS)
    now = 0.0
    people = PEOPLE[:seats + 1]
    for step in range(400):
        now += rng.random()
        who = rng.choice(people)
        roll = rng.random()
        state = table.game_state
        seat = table.seat_of(who.user)
        if roll < 0.25 and seat is None:
            req: p.TableRequest = p.Join(table=table.id, buy_in=rng.choice([100, 250, 400]))
        elif roll < 0.3:
            req = p.AddBot(table=table.id)
        elif roll < 0.35:
            req = p.Start(table=table.id)
        elif roll < 0.38:
            req = p.Leave(table=table.id)
        elif roll < 0.42:
            check.check(table.connection_lost(who.conn, now))
            continue
        elif roll < 0.46:
            req = p.Resume(table=table.id, last_seq=max(0, table.seq - rng.randrange(5)))
        elif roll < 0.48:  # the table policy: sitting out and back, topping up (refused mid-hand)
            req = p.SitOut(table=table.id)
        elif roll < 0.50:
            req = p.SitIn(table=table.id)
        elif roll < 0.52:
            req = p.TopUp(table=table.id, amount=rng.choice([0, 50, 150, 400]))
        elif roll < 0.85 and state is not None and table.state.to_act:
            mover = rng.choice(table.state.to_act)
            occupant = table.seats[mover]
            if occupant is None or occupant.bot:
                continue
            who = next((pp for pp in PEOPLE if pp.user == occupant.user), who)
            action = table.game.bot_move(state, mover, rng) if rng.random() < 0.9 else p.PassTurn()
            req = p.Act(table=table.id, action=action, seq=table.seq - rng.choice([0, 0, 0, 3]), req=step)
        else:
            when = table.wake_at()
            if when is not None:
                now = max(now, when)
            check.check(table.tick(now))
            continue
        check.check(table.handle(who, req, step, now))
        if table.over:
            break
    check.whole_log(rng.randrange(len(table.journal) + 1))
    return check


@pytest.mark.parametrize(("game", "seats"), CASES)
def test_live_state_equals_the_log_folded_and_a_snapshot_restored(game: str, seats: int) -> None:
    lengths, validated, kinds = [], 0, set()
    for seed in range(12):
        check = play(game, seats, seed)
        lengths.append(len(check.table.journal))
        validated += check.validated
        kinds |= {type(x) for x in check.table.journal}
    assert max(lengths) > 30, "the random play reaches real games, not just seating"
    policy = {e.SatOut, e.SatIn, e.Banked} | ({e.ToppedUp} if game == "holdem" else set())
    assert policy <= kinds, f"the policy's entries occur in random play: {policy - kinds} never did"
    assert validated > 100, "frames of real play were checked against the schema"


def test_a_move_that_changes_no_seat_keeps_the_seats_tuple_and_one_that_does_replaces_it() -> None:
    """The rosters (gameserver.admin_commands) skip a table whose seats tuple is the one they last saw,
    so a move must keep the tuple when no seat changed and replace it when one did."""
    kept = replaced = 0
    for seed in range(6):
        table = play("crazy_eights", 4, seed).table
        config = table.config
        state = en.new_state(config)
        for entry in table.journal:
            after, _ = en.evolve(config, state, entry)
            if isinstance(entry, e.Acted) and entry.by in ("player", "bot"):
                assert (after.seats is state.seats) == (after.seats == state.seats)
                kept += after.seats is state.seats
                replaced += after.seats is not state.seats
            state = after
    assert kept > 100 and replaced > 0, "both kinds of move occur in random play"
