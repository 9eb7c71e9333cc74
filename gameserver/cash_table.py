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
        self.sat_out_since: dict[int, float] = {}  # seat -> since when its player sits out

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
        self.sat_out_since.pop(seat, None)
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
        stacks = [s.stack if s is not None and not s.leaving and not s.sitting_out else 0
                  for s in self.state.seats]
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
        saved.extra = (self.next_hand_at, dict(self.sat_out_since))
        return saved

    def rollback(self, saved: Checkpoint, now: float) -> None:
        super().rollback(saved, now)
        self.next_hand_at, self.sat_out_since = saved.extra

    def wake_at(self) -> float | None:
        limit = self.config.policy.sit_out_max
        times = [t for t in (super().wake_at(), self.next_hand_at,
                             *(since + limit for since in self.sat_out_since.values())) if t is not None]
        return min(times) if times else None

    def _on_tick(self, now: float) -> None:
        if self.next_hand_at is not None and now >= self.next_hand_at and not self.in_hand():
            self._deal_hand(now)
        for seat, since in list(self.sat_out_since.items()):
            if now >= since + self.config.policy.sit_out_max:  # sat out too long: stood up, stack returned
                del self.sat_out_since[seat]
                self._leave_seat(seat)
        super()._on_tick(now)

    def recovered(self, now: float, hold: float) -> None:
        """Rebuilt after a restart: between hands, deal the next one after the usual pause; who sits
        out has the whole `sit_out_max` again from now."""
        super().recovered(now, hold)
        self.sat_out_since = {i: now for i, s in enumerate(self.state.seats)
                              if s is not None and s.sitting_out}
        if not self.in_hand() and len(en.funded(self.state)) >= 2 and self.state.hand_no:
            self.next_hand_at = now + self.hand_pause

    # ---- sitting out and topping up ------------------------------------------------------------

    def _sit_out(self, seat: int, now: float) -> None:
        """Dealt out from the next hand (the current one, if dealt in, is played out); no blinds."""
        occupant = self.state.seats[seat]
        assert occupant is not None
        if occupant.leaving:
            raise Refused(p.E_BAD_FIELD, "you are leaving this table")
        if not occupant.sitting_out:
            self._add(e.SatOut(seat=seat))
            self.sat_out_since[seat] = now
        if len(en.funded(self.state)) < 2:
            self.next_hand_at = None

    def _sit_in(self, seat: int, now: float) -> None:
        """Dealt into the next hand again (hands that stopped for want of players start again)."""
        occupant = self.state.seats[seat]
        assert occupant is not None
        if occupant.sitting_out:
            self._add(e.SatIn(seat=seat))
        self.sat_out_since.pop(seat, None)
        self._back(seat)
        if not self.in_hand() and self.next_hand_at is None and self.state.hand_no \
                and len(en.funded(self.state)) >= 2:
            self.next_hand_at = now + self.hand_pause

    def top_up_for(self, who: Sender, req: p.TopUp, balance: int) -> int:
        """The chips a top-up (or rebuy) adds, checked against the table (see `_top_up_seat`) and the
        balance. The balance read here gives a clear answer early; like a buy-in, the debit itself is
        conditional when it is written."""
        self._top_up_seat(who, req)
        if req.amount > balance:
            raise Refused(p.E_INSUFFICIENT_CHIPS, f"you have {balance} chips; this top-up needs {req.amount}")
        return int(req.amount)

    def _top_up_seat(self, who: Sender, req: p.TopUp) -> int:
        """The seat a top-up is for, checked: seated, not in the middle of a hand it is dealt into, not
        leaving, and the stack after it within the table's buy-in limits."""
        seat = self._my_seat(who)
        occupant = self.state.seats[seat]
        assert occupant is not None
        if self.in_hand() and self.config.cash_game.dealt_in(self.state.game)[seat]:
            raise Refused(p.E_ALREADY_STARTED, "you can top up between hands, not during one you are in")
        if occupant.leaving:
            raise Refused(p.E_BAD_FIELD, "you are leaving this table")
        low, high = int(self.options["min_buy_in"]), int(self.options["max_buy_in"])
        if req.amount <= 0:
            raise Refused(p.E_BAD_FIELD, "top up by at least one chip")
        if not low <= occupant.stack + req.amount <= high:
            most = max(0, high - occupant.stack)
            raise Refused(p.E_BAD_FIELD, f"your stack after a top-up must be {low}–{high} chips: you have "
                          f"{occupant.stack}, so add {max(1, low - occupant.stack)}–{most}" if most else
                          f"your stack is at the table's maximum ({high} chips)")
        return seat

    def _on_topup(self, who: Sender, req: p.TopUp, rid: int, now: float, result: Result) -> None:
        seat = self._top_up_seat(who, req)
        self._add(e.ToppedUp(seat=seat, user=who.user, amount=req.amount))
        self._ack(who, req, rid, result, seat)
        if not self.in_hand() and self.next_hand_at is None and self.state.hand_no \
                and len(en.funded(self.state)) >= 2:
            self.next_hand_at = now + self.hand_pause

    def _shared_view_fields(self) -> dict[str, Any]:
        return {"cash": p.CashInfo(table_stacks=self.stacks(), hand_no=self.state.hand_no,
                                   next_hand_at=self.next_hand_at, min_buy_in=self.options["min_buy_in"],
                                   max_buy_in=self.options["max_buy_in"])}
