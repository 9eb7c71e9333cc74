"""Sit-and-go tournaments of Hold'em: the settings, the blind schedule and the prize table, all pure.

Owns `SitAndGo` (what a table is created with: buy-in, fee, starting stack, blind levels and their
length), `settings_problem` (the checks a decoder cannot make), `level_of` (the level in play for the
next hand, by the clock or by hands dealt), `prize_shares`/`prizes` (the documented table: 2–4 entrants,
winner takes all; 5–6: 65/35; 7–9: 50/30/20; what rounding leaves goes to first place) and `bust_places`
(the places of players who bust in the same hand).

Tournament chips are not balance chips: an entrant pays `buy_in + fee` from their balance; the pool is
`buy_in` times the entrants and is paid out as prizes, the fees go to the house when it ends.

Imports no tier: `common.protocol` carries `SitAndGo` in `create_table` and `TableInfo`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import msgspec

#: The most chips a buy-in, fee, stack or blind may name.
MAX_CHIPS = 10**9
MAX_LEVELS = 40


class BlindLevel(msgspec.Struct, frozen=True, array_like=True):
    """One level of the schedule: the small and the big blind."""

    small: Annotated[int, msgspec.Meta(ge=1, le=MAX_CHIPS)]
    big: Annotated[int, msgspec.Meta(ge=1, le=MAX_CHIPS)]


#: The default schedule (small/big): a standard turbo structure for a 1,500-chip stack.
DEFAULT_LEVELS: tuple[BlindLevel, ...] = tuple(BlindLevel(s, b) for s, b in (
    (10, 20), (15, 30), (25, 50), (50, 100), (75, 150), (100, 200), (150, 300), (200, 400),
    (300, 600), (400, 800), (500, 1000), (750, 1500), (1000, 2000), (1500, 3000), (2000, 4000)))
DEFAULT_STACK = 1500
DEFAULT_LEVEL_SECONDS = 300.0


class SitAndGo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A Hold'em sit-and-go's settings. The levels are each `level_seconds` long, or `level_hands`
    hands (give one of them; neither: 300 seconds); past the last level its blinds stay."""

    buy_in: Annotated[int, msgspec.Meta(ge=1, le=MAX_CHIPS)]
    fee: Annotated[int, msgspec.Meta(ge=0, le=MAX_CHIPS)] = 0
    stack: Annotated[int, msgspec.Meta(ge=1, le=MAX_CHIPS)] = DEFAULT_STACK
    levels: Annotated[list[BlindLevel], msgspec.Meta(max_length=MAX_LEVELS)] | None = None
    level_seconds: Annotated[float, msgspec.Meta(ge=1, le=86400)] | None = None
    level_hands: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None

    @property
    def schedule(self) -> tuple[BlindLevel, ...]:
        return tuple(self.levels) if self.levels else DEFAULT_LEVELS

    @property
    def seconds(self) -> float | None:
        """Seconds per level (None: levels are counted in hands)."""
        if self.level_hands is not None:
            return None
        return self.level_seconds if self.level_seconds is not None else DEFAULT_LEVEL_SECONDS

    @property
    def entry(self) -> int:
        """What one entrant pays from their balance."""
        return self.buy_in + self.fee


def settings_problem(settings: SitAndGo, seats: int) -> str | None:
    """Why these settings do not make a sit-and-go of `seats` seats, or None.

    >>> settings_problem(SitAndGo(buy_in=100, levels=[BlindLevel(20, 10)]), 6)
    'level 1: the small blind (20) cannot exceed the big blind (10)'
    """
    if not 2 <= seats <= 9:
        return f"a sit-and-go seats 2–9 players, not {seats}"
    if settings.level_seconds is not None and settings.level_hands is not None:
        return "give the level length in seconds or in hands, not both"
    if settings.levels is not None and not settings.levels:
        return "the blind schedule needs at least one level"
    schedule = settings.schedule
    for n, level in enumerate(schedule, 1):
        if level.small > level.big:
            return f"level {n}: the small blind ({level.small}) cannot exceed the big blind ({level.big})"
        if n > 1 and level.big < schedule[n - 2].big:
            return f"level {n}: the big blind ({level.big}) cannot fall below level {n - 1}'s"
    if settings.stack < 2 * schedule[0].big:
        return f"the starting stack ({settings.stack}) must be at least two big blinds of level 1 " \
               f"({2 * schedule[0].big})"
    return None


def level_of(settings: SitAndGo, *, started_at: float, now: float, hands_dealt: int) -> int:
    """The level (0 = the first) whose blinds the next hand posts: by the clock since the start, or by
    the hands dealt so far; the last level stays.

    >>> level_of(SitAndGo(buy_in=1, level_hands=3), started_at=0, now=0, hands_dealt=7)
    2
    """
    seconds = settings.seconds
    if seconds is None:
        assert settings.level_hands is not None
        level = hands_dealt // settings.level_hands
    else:
        level = int(max(0.0, now - started_at) // seconds)
    return min(level, len(settings.schedule) - 1)


def prize_shares(entrants: int) -> tuple[int, ...]:
    """Per cent of the pool for each paid place (the documented table).

    >>> prize_shares(4), prize_shares(6), prize_shares(9)
    ((100,), (65, 35), (50, 30, 20))
    """
    if entrants <= 4:
        return (100,)
    if entrants <= 6:
        return (65, 35)
    return (50, 30, 20)


def prizes(pool: int, entrants: int) -> list[int]:
    """Chips for each paid place, first first: each share rounded down, the remainder to first place,
    so they add up to the pool.

    >>> prizes(700, 7)
    [350, 210, 140]
    >>> prizes(1001, 5)
    [651, 350]
    """
    paid = [pool * share // 100 for share in prize_shares(entrants)]
    paid[0] += pool - sum(paid)
    return paid


def bust_places(remaining: int, busted: Sequence[tuple[int, int]]) -> dict[int, int]:
    """Places of the seats that busted in one hand, `busted` = (seat, stack it started the hand with),
    when `remaining` players (these included) were still in: the one who started with more chips
    places better; equal stacks: the lower seat number places better (one place each, no splits).

    >>> bust_places(5, [(2, 300), (4, 800)])
    {4: 4, 2: 5}
    """
    order = sorted(busted, key=lambda b: (-b[1], b[0]))
    return {seat: remaining - len(order) + 1 + i for i, (seat, _) in enumerate(order)}
