"""What a finished game's replay costs: `python -m scripts.felt_load.replaybench [--games N]`.

Bots play whole games on a real table host (Hearts matches to 100, Crazy Eights at five seats, six-seat
Hold'em hands); for each finished game it times, in CPU time of this thread (`time.thread_time`), the two
halves of `gameserver.history`: `finished` (the record's columns and each seat's result, from the events
the table host tallied: on the game server's loop with the move that ended the game) and `replay_text`
(the fold of the game's entries, every viewer's view at every step, encoded and compressed: on the
replay worker thread), the stored size, and reading the game's entries back from their stored JSON
objects (`entries.from_builtins`, as a game server taking the table over or recovering it reads its log
since the game's start). Prints the median and the maximum of each. Pure computation, no network, no
database.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from common import protocol as p
from gameserver import entries as e
from gameserver import history
from gameserver.cash_table import CashTable
from gameserver.rules import games
from gameserver.table import GameRecord, Sender, Table

CASES = [("hearts", 4, "Hearts match to 100"), ("crazy_eights", 5, "Crazy Eights, 5 seats"),
         ("holdem", 6, "Hold'em hand, 6 seats")]


def played(game: str, seats: int, seed: int, hands: int = 3) -> tuple[Table, list[GameRecord]]:
    """A table of bots played to the end (Hold'em: `hands` hands): its creator sits down, fills it with
    bots, starts and leaves (a bot plays the seat, or at Hold'em it stands up after the first hand)."""
    rules = games()[game]
    creator = Sender("rt:1", 1, "p1")
    if rules.series == "cash":
        table: Table = CashTable(f"b-{seed}", rules, seats=seats, options=rules.check_options(seats, {}),
                                 creator=1, seed=seed, bot_delay=0.1, hand_pause=0.1,
                                 bot_rng=random.Random(seed))
    else:
        table = Table(f"b-{seed}", rules, seats=seats, options=rules.check_options(seats, {}), creator=1,
                      seed=seed, bot_delay=0.1, bot_rng=random.Random(seed))
    buy_in = table.options["min_buy_in"] if rules.series == "cash" else None
    table.handle(creator, p.Join(table=table.id, buy_in=buy_in), 0, 0.0)
    for _ in range(seats - 1):
        table.handle(creator, p.AddBot(table=table.id), 0, 0.0)
    table.handle(creator, p.Start(table=table.id), 0, 0.0)
    table.handle(creator, p.Leave(table=table.id), 0, 0.0)
    records: list[GameRecord] = []
    now = 0.0
    while not table.over and len(records) < hands:
        when = table.wake_at()
        if when is None:
            break
        now = max(now, when)
        result = table.tick(now)
        if result.finished is not None:
            records.append(result.finished)
    return table, records


def show(xs: list[Any], unit: str) -> str:
    return f"{statistics.median(xs):.2f} {unit} (max {max(xs):.2f})"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m scripts.felt_load.replaybench", description=__doc__)
    ap.add_argument("--games", type=int, default=5, help="games (or Hold'em tables of 3 hands) per case")
    args = ap.parse_args(argv)
    for game, seats, label in CASES:
        fold_ms: list[float] = []
        build_ms: list[float] = []
        sizes: list[int] = []
        steps: list[int] = []
        read_ms: list[float] = []
        for seed in range(args.games):
            table, records = played(game, seats, seed)
            for record in records:
                started = time.thread_time()
                made = history.finished(table.config, record, 0.0)
                middle = time.thread_time()
                text = history.replay_text(table.config, record)
                done = time.thread_time()
                fold_ms.append((middle - started) * 1000)
                build_ms.append((done - middle) * 1000)
                sizes.append(len(text))
                steps.append(len(history.fold_steps(table.config, record)))
                assert made.result is not None
                stored = [e.to_builtins(x) for x in record.entries]
                started = time.thread_time()
                for obj in stored:
                    e.from_builtins(obj)
                read_ms.append((time.thread_time() - started) * 1000)
        print(f"{label}: {len(steps)} games, {statistics.median(steps):.0f} steps; on the loop "
              f"{show(fold_ms, 'ms')}; replay {show(build_ms, 'ms')}; stored "
              f"{show([s / 1024 for s in sizes], 'KiB')}; its entries read back {show(read_ms, 'ms')}")


if __name__ == "__main__":
    main()
