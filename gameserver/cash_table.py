"""A cash table: players buy in, hands follow one another, standing up cashes out.

For any game that declares `series = "cash"` (No-Limit Hold'em): the rules play one hand; this table
runs the series. It seats players with chips, moves the button, deals each hand from its own deck
(a provably fair deal: see `fair_host`), stands up who asked to once a hand ends,
and pauses before the next. It reads the game only through the `CashGame` interface (stacks, who is
dealt in, the next button), never its private state. Chips move only with entries: a `Seated` stack is
debited from the sitter's balance and an `Unseated` cashout credited (bots: the house), so the chips
at the table plus every balance and the house never change in total.
"""

from __future__ import annotations

from typing import Any

from common import protocol as p
from gameserver import engine as en
from gameserver import entries as e
from gameserver.table import Checkpoint, Refused, Result, Sender, Table


class CashTable(Table):
    def __init__(self, *args: Any, hand_pause: float = 3.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hand_pause = hand_pause
        self.next_hand_at: float | None = None

    @property
    def hand_no(self) -> int:
        return self.state.hand_no

    @property
    def button(self) -> int | None:
        return self.state.button

    def in_hand(self) -> bool:
        return en.in_hand(self.config, self.state)

    def stacks(self) -> list[int]:
        """Chips in front of each seat: live during a hand, settled between hands."""
        return en.stacks(self.config, self.state)

    # ---- seating -------------------------------------------------------------------------------

    def _seating_open(self) -> bool:
        return True  # sit down any time; you are dealt in from the next hand

    def buy_in_for(self, req: p.Join, balance: int) -> int:
        """The buy-in a join asks for (default: the table minimum), checked against limits and balance.

        The balance read here gives a clear answer early; the debit itself is conditional when it is
        written, so two servers seating the same chips at once cannot both succeed."""
        low, high = self.options["min_buy_in"], self.options["max_buy_in"]
        amount = req.buy_in if req.buy_in is not None else low
        if not low <= amount <= high:
            raise Refused(p.E_BAD_FIELD, f"buy in between {low} and {high} chips")
        if amount > balance:
            raise Refused(p.E_INSUFFICIENT_CHIPS, f"you have {balance} chips; this buy-in needs {amount}")
        return int(amount)

    def _seated(self, who: Sender, req: p.Join, seat: int) -> e.Seated:
        if req.buy_in is None:
            raise Refused(p.E_BAD_FIELD, "say how many chips to buy in with")
        return e.Seated(seat=seat, user=who.user, name=who.name, stack=req.buy_in)

    def _bot_stack(self) -> int:
        return int(self.options["min_buy_in"])

    def _leave_seat(self, seat: int) -> None:
        """Standing up: at once between hands, else when the hand ends (a bot folds it out meanwhile)."""
        if self.in_hand() and self.config.cash_game.dealt_in(self.state.game)[seat]:
            occupant = self.state.seats[seat]
            if occupant is not None and not occupant.leaving:
                self._add(e.Leaving(seat=seat))
        else:
            self._stand_up(seat)
        if len(en.funded(self.state)) < 2:
            self.next_hand_at = None

    def _stand_up(self, seat: int) -> None:
        occupant = self.state.seats[seat]
        assert occupant is not None
        self._add(e.Unseated(seat=seat, user=occupant.user, cashout=occupant.stack))

    def _before_close(self) -> None:
        """Every stack goes back (a hand in progress is void: its chips are still the seats' stacks)."""
        for seat, occupant in enumerate(self.state.seats):
            if occupant is not None:
                self._stand_up(seat)

    def _stand_up_absent(self, seat: int) -> None:
        """Grace period over: the seat is given up and the stack returned (after the hand it is in)."""
        self._leave_seat(seat)

    # ---- hands ---------------------------------------------------------------------------------

    def _on_start(self, who: Sender, req: p.Start, rid: int, now: float, result: Result) -> None:
        if self.seat_of(who.user) is None:
            raise Refused(p.E_NOT_SEATED, "only a seated player can start the game")
        if self.in_hand() or self.next_hand_at is not None or self.deal_due is not None:
            raise Refused(p.E_ALREADY_STARTED, "hands are already running at this table")
        if len(en.funded(self.state)) < 2:
            raise Refused(p.E_NOT_STARTED, "a hand needs at least two players with chips")
        self._ack(who, req, rid, result)
        self._deal_hand(now)

    def _deal_hand(self, now: float) -> None:
        """Announce the next hand's fair deal (it is dealt when the contributions are in)."""
        self.next_hand_at = None
        if len(en.funded(self.state)) >= 2 or en.pending_deal(self.state) is not None:
            self._announce_deal(now)

    def _contributors(self) -> list[int]:
        return en.funded(self.state)

    def _deal_entry(self, fair: int) -> e.AnyEntry | None:
        """The hand, with the stacks and button as they are when it is dealt (None: too few players)."""
        stacks = [s.stack if s is not None and not s.leaving else 0 for s in self.state.seats]
        if sum(1 for x in stacks if x > 0) < 2:
            return None
        button = self.config.cash_game.next_button(self.state.button, stacks)
        return e.HandDealt(n=self.state.hand_no + 1, stacks=stacks, button=button, fair=fair)

    def _after_game(self, now: float) -> None:
        for seat, occupant in enumerate(self.state.seats):
            if occupant is not None and (occupant.leaving or (occupant.bot and occupant.stack == 0)):
                self._stand_up(seat)
        self.next_hand_at = now + self.hand_pause if len(en.funded(self.state)) >= 2 else None

    def checkpoint(self) -> Checkpoint:
        saved = super().checkpoint()
        saved.extra = self.next_hand_at
        return saved

    def rollback(self, saved: Checkpoint, now: float) -> None:
        super().rollback(saved, now)
        self.next_hand_at = saved.extra

    def wake_at(self) -> float | None:
        times = [t for t in (super().wake_at(), self.next_hand_at) if t is not None]
        return min(times) if times else None

    def _on_tick(self, now: float) -> None:
        if self.next_hand_at is not None and now >= self.next_hand_at and not self.in_hand():
            self._deal_hand(now)
        super()._on_tick(now)

    def recovered(self, now: float, hold: float) -> None:
        """Rebuilt after a restart: between hands, deal the next one after the usual pause."""
        super().recovered(now, hold)
        if not self.in_hand() and len(en.funded(self.state)) >= 2 and self.state.hand_no:
            self.next_hand_at = now + self.hand_pause

    def _shared_view_fields(self) -> dict[str, Any]:
        return {"cash": p.CashInfo(table_stacks=self.stacks(), hand_no=self.state.hand_no,
                                   next_hand_at=self.next_hand_at, min_buy_in=self.options["min_buy_in"],
                                   max_buy_in=self.options["max_buy_in"])}
