"""The table host's time (a part of `gameserver.table`): when it next wants a tick, and what a tick does.

Owns `wake_at` and `tick`: due bots move, the clock moves for a player whose time ran out, and who stayed
away past the grace period is stood up (or, before the game, loses the seat); and `_schedule`, which re-arms
the turn clock when the seats to act change and the bot timer when a bot must move. Like the rest of the
host it reads no clock: the server passes `now`.

Mixed into `Table` as its first base; what it uses of the table is declared here (methods for the type
checker only, so no stub can stand in for another base's real method).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from gameserver import engine as en
from gameserver import entries as e
from gameserver.rules.base import Event, Game
from gameserver.spectating import DelayLine
from gameserver.table_types import Outbound, Result


class TableTime:
    """Mixed into `Table`: what it needs from the table is declared here."""

    config: en.TableConfig
    state: en.TableState
    game: Game[Any]
    conns: dict[int, str]
    gone_since: dict[int, float]
    deal_due: float | None
    deadline: float | None
    clock: float | None
    bot_delay: float
    hold_bots_until: float
    spectator_line: DelayLine | None
    _bot_due: float | None
    _armed_for: tuple[int, ...] | None
    _bot_rng: random.Random
    _pending: list[e.AnyEntry]
    _steps: list[tuple[int, list[Event]]]
    _ended: Any

    if TYPE_CHECKING:
        @property
        def grace_period(self) -> float: ...
        @property
        def seq(self) -> int: ...
        @property
        def over(self) -> bool: ...
        def _add(self, entry: e.AnyEntry) -> list[Event]: ...
        def _finish(self, result: Result, now: float) -> None: ...
        def _clock_due(self, seat: int) -> float | None: ...
        def _bot_ready(self, seat: int, now: float) -> float: ...
        def _banked(self, seat: int, now: float, by: str) -> e.Banked | None: ...
        def _arm_banks(self, now: float) -> None: ...
        def _deal_if_ready(self, now: float, force: bool = False) -> None: ...
        def _seating_open(self) -> bool: ...
        def release_to_spectators(self, now: float) -> list[Outbound]: ...

    def wake_at(self) -> float | None:
        """When `tick` should next run (a bot or absent player to move, the clock, a grace period)."""
        if self.state.closed:
            return None
        times = [since + self.grace_period for since in self.gone_since.values()]
        if self.deal_due is not None:
            times.append(self.deal_due)
        if en.in_hand(self.config, self.state):
            clocks = (self._bot_due, *map(self._clock_due, self.state.to_act))
            times.extend(t for t in clocks if t is not None)
        if self.spectator_line is not None and (due := self.spectator_line.next_due()) is not None:
            times.append(due)
        return min(times) if times else None

    def tick(self, now: float) -> Result:
        """Let due bots move, act for players whose clock ran out, and stand up who stayed away."""
        self._pending, self._steps, self._ended = [], [], None
        result = Result(first_seq=self.seq + 1)
        if not self.state.closed:
            self._on_tick(now)
            self._finish(result, now)
        result.out.extend(self.release_to_spectators(now))
        return result

    def _on_tick(self, now: float) -> None:
        if self.deal_due is not None and now >= self.deal_due:
            self._deal_if_ready(now, force=True)
        for seat, since in list(self.gone_since.items()):
            if now >= since + self.grace_period:
                del self.gone_since[seat]
                self._stand_up_absent(seat)
        self._automatic_moves(now)

    def _automatic_moves(self, now: float) -> None:
        for _ in range(64):  # bounded: a few automatic moves per tick at most
            if not en.in_hand(self.config, self.state):
                return
            entry = self._automatic_move(now)
            if entry is None:
                return
            banked = self._banked(entry.seat, now, entry.by)
            if banked is not None:
                self._add(banked)
            self._add(entry)
            self._schedule(now)

    def _stand_up_absent(self, seat: int) -> None:
        """Grace period over: before the game the seat is freed; during it a bot takes the seat for good."""
        if self._seating_open():
            self._add(e.Unseated(seat=seat))
        elif not self.over:
            self._add(e.StoodUp(seat=seat))

    def _automatic_move(self, now: float) -> e.Acted | None:
        to_act = self.state.to_act
        game = self.state.game
        if self._bot_due is not None and now >= self._bot_due:
            for seat in to_act:
                if self._needs_bot(seat) and now >= self._bot_ready(seat, now):
                    occupant = self.state.seats[seat]
                    if occupant is not None and occupant.leaving:  # standing up: never puts more in for them
                        return e.Acted(seat=seat, action=self.game.timeout_move(game, seat), by="bot")
                    return e.Acted(seat=seat, action=self.game.bot_move(game, seat, self._bot_rng), by="bot")
        for seat in to_act:
            due = self._clock_due(seat)
            if due is not None and now >= due:
                return e.Acted(seat=seat, action=self.game.timeout_move(game, seat), by="clock")
        return None

    def _needs_bot(self, seat: int) -> bool:
        occupant = self.state.seats[seat]
        return occupant is not None and (occupant.bot or occupant.away or seat not in self.conns)

    def _schedule(self, now: float) -> None:
        """Re-arm the clock when the seats to act change, and the bot timer when a bot must move."""
        if not en.in_hand(self.config, self.state):
            self.deadline = self._bot_due = None
            self._armed_for = None
            return
        to_act = self.state.to_act
        # a new turn (not just fewer seats left to act in a simultaneous phase) gets a fresh clock
        if self._armed_for is None or not set(to_act) <= set(self._armed_for):
            self.deadline = now + self.clock if self.clock else None
            self._arm_banks(now)
        self._armed_for = to_act
        needy = [s for s in to_act if self._needs_bot(s)]
        if not needy:
            self._bot_due = None
        elif all(occupant is not None and occupant.bot for occupant in (self.state.seats[s] for s in needy)):
            self._bot_due = now + self.bot_delay
        else:  # standing in for a person: not while they are given time to come back
            self._bot_due = max(now + self.bot_delay, self.hold_bots_until,
                                min(self._bot_ready(s, now) for s in needy))
