"""Whole games played on a real table host with people and bots, every frame each viewer got recorded:
the live side that the replay tests compare `gameserver.history` with."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from common import protocol as p
from gameserver.cash_table import CashTable
from gameserver.rules import games
from gameserver.table import GameRecord, Result, Sender, Table

GAMES = games()
PEOPLE = [Sender(f"rt:{i}", i, f"p{i}") for i in range(1, 7)]
WATCHER = Sender("rt:watch", 99, "watcher")


@dataclass
class Played:
    table: Table
    records: list[GameRecord] = field(default_factory=list)
    #: connection -> the views it was sent (as JSON objects), in order
    frames: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def make(game: str, seats: int, seed: int) -> Table:
    rules = GAMES[game]
    if game == "holdem":
        options = rules.check_options(seats, {"small_blind": 5, "big_blind": 10, "min_buy_in": 20,
                                              "max_buy_in": 400})
        return CashTable("g1-0001", rules, seats=seats, options=options, creator=1, seed=seed,
                         bot_delay=0.5, hand_pause=1.0, bot_rng=random.Random(seed))
    options = rules.check_options(seats, {"target": 26} if game == "hearts" else {})
    return Table("g1-0001", rules, seats=seats, options=options, creator=1, seed=seed, bot_delay=0.5,
                 bot_rng=random.Random(seed))


def play(game: str, seats: int, seed: int, people: int = 2, hands: int = 3) -> Played:
    """`people` players (the rest bots) and a spectator play a match (or `hands` Hold'em hands) with
    random legal moves."""
    rng = random.Random(seed)
    table = make(game, seats, seed)
    out = Played(table)
    now = 0.0

    def run(result: Result) -> None:
        if result.finished is not None:
            out.records.append(result.finished)
        for item in result.out:
            msg = json.loads(item.frame)
            if msg.get("msg") == "view":
                for conn in item.conns:
                    out.frames.setdefault(conn, []).append(msg)

    for who in PEOPLE[:people]:
        buy_in = rng.choice([20, 150, 400]) if game == "holdem" else None
        run(table.handle(who, p.Join(table=table.id, buy_in=buy_in), 0, now))
    for _ in range(seats - people):
        run(table.handle(PEOPLE[0], p.AddBot(table=table.id), 0, now))
    run(table.handle(WATCHER, p.Watch(table=table.id), 0, now))
    run(table.handle(PEOPLE[0], p.Start(table=table.id), 0, now))
    for step in range(5000):
        if table.over or len(out.records) >= hands:
            break
        to_act = table.state.to_act
        person = next((s for s in to_act if (o := table.seats[s]) is not None and not o.bot), None)
        occupant = None if person is None else table.seats[person]
        if person is not None and occupant is not None and table.game_state is not None:
            who = next(x for x in PEOPLE if x.user == occupant.user)
            legal = table.game.legal_moves(table.game_state, person)
            run(table.handle(who, p.Act(table=table.id, action=rng.choice(legal), seq=table.seq, req=step),
                             step, now))
            continue
        when = table.wake_at()
        if when is None:
            break
        now = max(now, when)
        run(table.tick(now))
    return out
