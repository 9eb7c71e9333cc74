"""A cash table (No-Limit Hold'em): players buy in, hands follow one another, standing up cashes out.

The rules module plays one hand; this table runs the series: it seats players with chips, moves the
button, deals each hand from its own seed (derived from the table's secret seed and the hand number),
settles stacks when a hand ends, and pauses before the next. Chip movements to and from players'
balances are returned in `Result.chips`, so the server writes them in the same transaction as the log:
the chips on the table plus every balance never change in total. Bots buy in from the house (user 0).
"""

from __future__ import annotations

import random
from typing import Any

from common import protocol as p
from gameserver.rules.base import CashGame, Outcome
from gameserver.table import Refused, Result, Seat, Sender, Table


class CashTable(Table):
    game: CashGame[Any]

    def __init__(self, *args: Any, hand_pause: float = 3.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hand_pause = hand_pause
        self.hand_no = 0
        self.button: int | None = None
        self.next_hand_at: float | None = None

    # ---- the lobby's view ----------------------------------------------------------------------

    @property
    def status(self) -> str:
        return "playing" if self.in_hand() or len(self._funded()) >= 2 else "waiting"

    def in_hand(self) -> bool:
        return self.state is not None and self.game.outcome(self.state) is None

    def _funded(self) -> list[int]:
        return [i for i, s in enumerate(self.seats) if s is not None and s.stack > 0 and not s.leaving]

    def stacks(self) -> list[int]:
        """Chips in front of each seat: live during a hand, settled between hands."""
        if self.in_hand():
            return list(self.game.seat_stacks(self.state))
        return [s.stack if s else 0 for s in self.seats]

    # ---- seating -------------------------------------------------------------------------------

    def _seating_open(self) -> bool:
        return True  # sit down any time; you are dealt in from the next hand

    def buy_in_for(self, req: p.Join, balance: int) -> int:
        """The buy-in a join asks for (default: the table minimum), checked against limits and balance."""
        low, high = self.options["min_buy_in"], self.options["max_buy_in"]
        amount = req.buy_in if req.buy_in is not None else low
        if not low <= amount <= high:
            raise Refused(p.E_BAD_FIELD, f"buy in between {low} and {high} chips")
        if amount > balance:
            raise Refused(p.E_BAD_FIELD, f"you have {balance} chips; this buy-in needs {amount}")
        return amount

    def _new_seat(self, who: Sender, req: p.Join, result: Result) -> Seat:
        if req.buy_in is None:
            raise Refused(p.E_BAD_FIELD, "say how many chips to buy in with")
        result.chips.append((who.user, -req.buy_in))
        return Seat(user=who.user, name=who.name, conn=who.conn, stack=req.buy_in)

    def _new_bot(self, name: str) -> Seat:
        return Seat(user=0, name=name, bot=True, stack=self.options["min_buy_in"])

    def _leave_seat(self, result: Result, seat: int) -> None:
        """Standing up: at once between hands, else when the hand ends (a bot folds it out meanwhile)."""
        occupant = self.seats[seat]
        assert occupant is not None
        occupant.gone_since = None
        if self.in_hand() and self.game.dealt_in(self.state)[seat]:
            occupant.leaving, occupant.away, occupant.conn = True, True, None
            self._record(result, {"t": "away", "seat": seat})
        else:
            self._stand_up(result, seat)
        if len(self._funded()) < 2:
            self.next_hand_at = None

    def _stand_up(self, result: Result, seat: int) -> None:
        occupant = self.seats[seat]
        assert occupant is not None
        if occupant.stack and not occupant.bot:
            result.chips.append((occupant.user, occupant.stack))
        self.seats[seat] = None
        self._record(result, {"t": "unseat", "seat": seat, "cashout": occupant.stack})

    def _stand_up_absent(self, result: Result, seat: int, now: float) -> None:
        """Grace period over: the seat is given up and the stack returned (after the hand it is in)."""
        self._leave_seat(result, seat)
        self._changed(result, [], now)

    # ---- hands ---------------------------------------------------------------------------------

    def _on_start(self, who: Sender, req: p.Start, rid: int, now: float, result: Result) -> None:
        if self.seat_of(who.user) is None:
            raise Refused(p.E_NOT_SEATED, "only a seated player can start the game")
        if self.in_hand() or self.next_hand_at is not None:
            raise Refused(p.E_ALREADY_STARTED, "hands are already running at this table")
        if len(self._funded()) < 2:
            raise Refused(p.E_NOT_STARTED, "a hand needs at least two players with chips")
        self._ack(who, req, rid, result)
        self._deal_hand(result, now)

    def _deal_hand(self, result: Result, now: float) -> None:
        self.next_hand_at = None
        stacks = [s.stack if s is not None and not s.leaving else 0 for s in self.seats]
        if sum(1 for x in stacks if x > 0) < 2:
            self._changed(result, [], now)
            return
        self.button = self.game.next_button(self.button, stacks)
        self.hand_no += 1
        entry = {"t": "hand", "n": self.hand_no, "stacks": stacks, "button": self.button}
        self.state = self._setup_hand(entry)
        events = self.game.opening_events(self.state)
        self._record(result, entry, events)
        self._changed(result, events, now)

    def _setup_hand(self, entry: dict[str, Any]) -> Any:
        options = dict(self.options, stacks=entry["stacks"], button=entry["button"])
        rng = random.Random(f"{self._seed}:{entry['n']}")  # a new deck per hand; the seed stays secret
        return self.game.setup(len(self.seats), rng, options)

    def _after_game(self, result: Result, outcome: Outcome, now: float) -> None:
        self._settle(outcome)
        for seat, occupant in enumerate(self.seats):
            if occupant is not None and (occupant.leaving or (occupant.bot and occupant.stack == 0)):
                self._stand_up(result, seat)
        self.next_hand_at = now + self.hand_pause if len(self._funded()) >= 2 else None

    def _settle(self, outcome: Outcome) -> None:
        dealt = self.game.dealt_in(self.state)
        for seat, stack in enumerate(self.game.seat_stacks(self.state)):
            occupant = self.seats[seat]
            if occupant is not None and dealt[seat]:
                occupant.stack = stack

    def wake_at(self) -> float | None:
        times = [t for t in (super().wake_at(), self.next_hand_at) if t is not None]
        return min(times) if times else None

    def tick(self, now: float) -> Result:
        if self.next_hand_at is not None and now >= self.next_hand_at and not self.in_hand():
            result = Result()
            self._deal_hand(result, now)
            more = super().tick(now)
            result.out.extend(more.out)
            result.log.extend(more.log)
            result.chips.extend(more.chips)
            result.finished = more.finished
            return result
        return super().tick(now)

    def _cash_info(self) -> p.CashInfo:
        return p.CashInfo(table_stacks=self.stacks(), hand_no=self.hand_no, next_hand_at=self.next_hand_at,
                          min_buy_in=self.options["min_buy_in"], max_buy_in=self.options["max_buy_in"])

    # ---- recovery ------------------------------------------------------------------------------

    def _replay_entry(self, entry: dict[str, Any]) -> None:
        if entry["t"] == "hand":
            self.hand_no, self.button = entry["n"], entry["button"]
            self.state = self._setup_hand(entry)
        else:
            super()._replay_entry(entry)

    def after_recovery(self, now: float) -> None:
        """Rebuilt between hands: deal the next one after the usual pause."""
        if not self.in_hand() and len(self._funded()) >= 2 and self.hand_no:
            self.next_hand_at = now + self.hand_pause

    def _replayed_game_end(self, outcome: Outcome) -> None:
        self._settle(outcome)

    def replay(self, entries: list[dict[str, Any]]) -> None:
        super().replay(entries)
        for occupant in self.seats:
            if occupant is not None and occupant.away:
                occupant.leaving = True

