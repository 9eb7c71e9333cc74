"""Seeded random play of any game through its generic contract, for the contract tests.

`random_table(game, rng)` picks a seat count and options (Hold'em: random stacks, some short, some empty
seats); `walk(game, seed, moves)` plays from `setup` by choosing a random entry of `legal` and building the
action with `common.views.example_action`, as the generic consumers do, and yields every state on the way
(each finished game is followed by a new one until `moves` moves have been made).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from common.views import example_action
from gameserver.rules.base import Game


def random_table(game: Game[Any], rng: random.Random) -> tuple[int, dict[str, Any]]:
    """A seat count and valid options for `game`, varied by `rng`."""
    seats = rng.randint(game.min_seats, min(game.max_seats, 6))
    options: dict[str, Any] = {k: rng.random() < 0.5 for k, v in game.default_options.items()
                               if isinstance(v, bool)}
    if game.name == "hearts":
        options["target"] = rng.choice([1, 26, 60])
    if game.series == "cash":
        bb = rng.choice([2, 100])
        stacks = [rng.choice([0, rng.randint(1, 3 * bb), rng.randint(bb, 200 * bb)]) for _ in range(seats)]
        while sum(1 for s in stacks if s) < 2:
            stacks[rng.randrange(seats)] = rng.randint(1, 100 * bb)
        options.update(small_blind=rng.randint(1, bb), big_blind=bb, min_buy_in=bb, max_buy_in=200 * bb,
                       stacks=stacks, button=rng.choice([s for s in range(seats) if stacks[s]]))
    return seats, game.check_options(seats, options)


def walk(game: Game[Any], seed: int, moves: int) -> Iterator[tuple[int, Any]]:
    """(seats, state) after setup and after every move of random games, `moves` moves in all."""
    rng = random.Random(seed)
    made = 0
    while made < moves:
        seats, options = random_table(game, rng)
        state = game.setup(seats, rng, options)
        yield seats, state
        while game.outcome(state) is None and made < moves:
            seat = rng.choice(game.to_act(state))
            entry = rng.choice(game.legal(state, seat))
            state, _ = game.apply(state, seat, example_action(entry, rng))
            made += 1
            yield seats, state
