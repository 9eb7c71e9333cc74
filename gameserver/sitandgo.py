"""A sit-and-go table: Hold'em hands as a cash table deals them, played as a tournament.

`SitAndGoTable(CashTable)` registers players until the table fills (each `Seated` entry debits the
entry, buy-in plus fee, from the balance; leaving before the start refunds it with `Unseated`), starts
when the last seat is taken (`SitAndGoStarted`, which starts the blind clock), deals each hand at the
level the schedule gives (`HandDealt.level`/`blinds`), records who busts and their place (`Busted`),
and when one player holds every chip pays the prize table (`SitAndGoEnded`, which credits the prizes
and the house's fees in the same transaction as the entry). Tournament chips never leave the table.

Rules of absence once it runs: nobody cashes out. A player who leaves, stands up, sits out or stays
away past the grace period keeps the seat and the stack, marked away: their turns are checked or
folded for them (the game's time-out move, never a bot's bet) and their blinds are posted until they
come back (`join` again) or bust. An admin closing a running sit-and-go voids it: every entry is
refunded.

`options_for` checks a `create_table`'s settings. The finished tournament's record (places and prizes)
is handed to the server in `Result.tournament`, like a finished hand's.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from common import protocol as p
from common import sitandgo as sg
from common.views import SitAndGoInfo, SitAndGoPlace
from gameserver import engine as en
from gameserver import entries as e
from gameserver import sitandgo_state as sgs
from gameserver.cash_table import CashTable
from gameserver.rules.base import Game
from gameserver.table import Refused, Result, Sender


def options_for(game: Game[Any], seats: int, settings: sg.SitAndGo,
                options: dict[str, Any]) -> dict[str, Any]:
    """The options of a new sit-and-go table (the game's, level 1's blinds, and the settings under
    "sit_and_go"); ValueError with a reason a person can read when they do not hold together."""
    if game.series != "cash":
        raise ValueError(f"a sit-and-go is played at Hold'em, not {game.title}")
    problem = sg.settings_problem(settings, seats)
    if problem is not None:
        raise ValueError(problem)
    first = settings.schedule[0]
    own = ("small_blind", "big_blind", "min_buy_in", "max_buy_in")  # the sit-and-go's settings decide these
    asked = {k: v for k, v in options.items() if k not in own}
    checked = game.check_options(seats, {**asked, "small_blind": first.small, "big_blind": first.big,
                                         "min_buy_in": settings.stack, "max_buy_in": settings.stack})
    return {**checked, "sit_and_go": msgspec.to_builtins(settings)}


def is_sit_and_go(options: dict[str, Any]) -> bool:
    return "sit_and_go" in options


class SitAndGoTable(CashTable):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.config.sit_and_go
        if settings is None:
            raise ValueError("a sit-and-go table needs its settings in options['sit_and_go']")
        self.settings = settings
        self._now = 0.0  # the `now` of the pass that deals (a hand's level is decided by it)

    @property
    def tourney(self) -> sgs.SitAndGoState:
        assert self.state.tourney is not None
        return self.state.tourney

    def info(self) -> p.TableInfo:
        info = super().info()
        options = {k: v for k, v in info.options.items() if k != "sit_and_go"}
        return msgspec.structs.replace(info, options=options, sit_and_go=self.settings)

    # ---- registration --------------------------------------------------------------------------

    def _seating_open(self) -> bool:
        return not self.tourney.started

    def buy_in_for(self, req: p.Join, balance: int) -> int:
        """The entry (buy-in plus fee) a registration pays; refused once it runs or when the balance
        cannot pay (the debit itself is conditional when it is written)."""
        if self.tourney.started:
            raise Refused(p.E_ALREADY_STARTED, "this sit-and-go has started; you can watch it instead")
        cost = self.settings.entry
        if cost > balance:
            raise Refused(p.E_INSUFFICIENT_CHIPS, f"you have {balance} chips; this sit-and-go costs {cost}")
        return cost

    def _seated(self, who: Sender, req: p.Join, seat: int) -> e.Seated:
        return e.Seated(seat=seat, user=who.user, name=who.name, stack=self.settings.stack,
                        paid=self.settings.entry)

    def _bot_seated(self, seat: int, name: str) -> e.Seated:
        """A bot's entry is paid by the house (and a bot's prize goes back to it)."""
        return e.Seated(seat=seat, user=0, name=name, bot=True, stack=self.settings.stack,
                        paid=self.settings.entry)

    def _on_join(self, who: Sender, req: p.Join, rid: int, now: float, result: Result) -> None:
        super()._on_join(who, req, rid, now, result)
        self._start_if_full(now)

    def _on_addbot(self, who: Sender, req: p.AddBot, rid: int, now: float, result: Result) -> None:
        super()._on_addbot(who, req, rid, now, result)
        self._start_if_full(now)

    def _start_if_full(self, now: float) -> None:
        if not self.tourney.started and all(s is not None for s in self.state.seats):
            self._add(e.SitAndGoStarted(at=now))
            self._deal_hand(now)

    def _on_start(self, who: Sender, req: p.Start, rid: int, now: float, result: Result) -> None:
        raise Refused(p.E_NOT_STARTED if not self.tourney.started else p.E_ALREADY_STARTED,
                      "a sit-and-go starts by itself when its last seat is taken")

    # ---- leaving and absence -------------------------------------------------------------------

    def _refund(self, seat: int) -> None:
        entrant = self.tourney.entrants[seat]
        self._add(e.Unseated(seat=seat, user=entrant.user, cashout=entrant.paid))

    def _leave_seat(self, seat: int) -> None:
        """Before the start: the seat is freed and the entry refunded. Once it runs: the stack stays in
        play, marked away (checked or folded, blinds posted) until the player is back or busts."""
        if not self.tourney.started:
            self._refund(seat)
            return
        occupant = self.state.seats[seat]
        if occupant is not None and not occupant.bot and not occupant.away and not self.over:
            self._add(e.Away(seat=seat))

    def _stand_up_absent(self, seat: int) -> None:
        self._leave_seat(seat)

    def _before_close(self) -> None:
        """Closed before it ended: void, every entry refunded."""
        if not self.tourney.ended:
            for seat in sorted(self.tourney.entrants):
                self._refund(seat)

    def _sit_out(self, seat: int, now: float) -> None:
        if not self.tourney.started:
            raise Refused(p.E_NOT_STARTED, "the sit-and-go has not started: leave to unregister instead")
        self._leave_seat(seat)

    def _sit_in(self, seat: int, now: float) -> None:
        self._back(seat)

    def _top_up_seat(self, who: Sender, req: p.TopUp) -> int:
        raise Refused(p.E_BAD_FIELD, "a sit-and-go has no top-ups or rebuys")

    def _automatic_move(self, now: float) -> e.Acted | None:
        """A bot plays for a bot; for an absent person only the time-out move (check, else fold)."""
        entry = super()._automatic_move(now)
        if entry is not None and entry.by == "bot":
            occupant = self.state.seats[entry.seat]
            if occupant is not None and not occupant.bot:
                return e.Acted(seat=entry.seat, action=self.game.timeout_move(self.state.game, entry.seat),
                               by="bot")
        return entry

    # ---- hands, levels, busts ------------------------------------------------------------------

    def _deal_if_ready(self, now: float, force: bool = False) -> None:
        self._now = now
        super()._deal_if_ready(now, force)

    def _deal_entry(self, fair: int) -> e.AnyEntry | None:
        """The next hand at the level the schedule gives now: every entrant still in is dealt in."""
        tourney = self.tourney
        if not tourney.started or tourney.ended or tourney.started_at is None:
            return None
        stacks = [s.stack if s is not None else 0 for s in self.state.seats]
        if sum(1 for x in stacks if x > 0) < 2:
            return None
        level = sg.level_of(self.settings, started_at=tourney.started_at, now=self._now,
                            hands_dealt=tourney.hands)
        blinds = self.settings.schedule[level]
        return e.HandDealt(n=self.state.hand_no + 1, stacks=stacks,
                           button=self.config.cash_game.next_button(self.state.button, stacks), fair=fair,
                           level=level, blinds=[blinds.small, blinds.big])

    def _after_game(self, now: float) -> None:
        """A hand ended: who has no chips is out, in place order; the last one in wins it all."""
        tourney = self.tourney
        left = tourney.left_in()
        dealt = self.deal[1].stacks if self.deal is not None and isinstance(self.deal[1], e.HandDealt) \
            else [0] * self.config.seats
        busted = [(s, dealt[s]) for s in left if (o := self.state.seats[s]) is not None and o.stack == 0]
        for seat, place in sorted(sg.bust_places(len(left), busted).items(), key=lambda x: -x[1]):
            self._add(e.Busted(seat=seat, place=place))
        still = self.tourney.left_in()
        if len(still) == 1:
            self._add(sgs.ended_entry(self.settings, self.tourney, still[0]))
            self.next_hand_at = None
        else:
            self.next_hand_at = now + self.hand_pause

    def recovered(self, now: float, hold: float) -> None:
        super().recovered(now, hold)
        tourney = self.tourney
        if tourney.started and not tourney.ended and not self.in_hand() \
                and en.pending_deal(self.state) is None and self.next_hand_at is None:
            self.next_hand_at = now + self.hand_pause

    def _finish(self, result: Result, now: float) -> None:
        super()._finish(result, now)
        ended = [i for i, x in enumerate(result.log) if isinstance(x, e.SitAndGoEnded)]
        if ended:
            result.tournament = self._record(result.first_seq + ended[0], now)

    def _record(self, seq: int, now: float) -> dict[str, Any]:
        """The finished tournament's record for the finished games' history: each entrant's place (the
        score: lower is better) and prize."""
        tourney = self.tourney
        seats = sorted(tourney.entrants)
        return {"table_id": self.id, "game": self.game.name, "game_id": f"{self.id}:{seq}", "finished": now,
                "public": self.public, "rated": False,
                "players": [{"seat": s, "user": tourney.entrants[s].user, "name": tourney.entrants[s].name,
                             "bot": tourney.entrants[s].user == 0} for s in seats],
                "scores": [tourney.places[s] for s in seats],
                "winners": [s for s in seats if tourney.places[s] == 1], "actions": [],
                "detail": {"sit_and_go": {**msgspec.to_builtins(self._info()),
                                          "settings": msgspec.to_builtins(self.settings)}}}

    # ---- views ---------------------------------------------------------------------------------

    def _info(self) -> SitAndGoInfo:
        tourney, settings = self.tourney, self.settings
        entrants = len(tourney.entrants) if tourney.started else self.config.seats
        state: Literal["registering", "running", "finished"] = \
            "finished" if tourney.ended else "running" if tourney.started else "registering"
        level = settings.schedule[tourney.level]
        nxt = settings.schedule[tourney.level + 1] if tourney.level + 1 < len(settings.schedule) else None
        next_at = hands_to = None
        if tourney.started_at is not None and nxt is not None and not tourney.ended:
            if settings.seconds is not None:
                next_at = tourney.started_at + (tourney.level + 1) * settings.seconds
            elif settings.level_hands is not None:
                hands_to = max(0, (tourney.level + 1) * settings.level_hands - tourney.hands)
        places = [SitAndGoPlace(seat=s, name=tourney.entrants[s].name, place=place,
                                prize=tourney.prizes.get(s, 0))
                  for s, place in sorted(tourney.places.items(), key=lambda x: x[1])]
        pool = settings.buy_in * entrants
        return SitAndGoInfo(buy_in=settings.buy_in, fee=settings.fee, stack=settings.stack,
                            registered=len(tourney.entrants), seats=self.config.seats,
                            pool=pool, prizes=sg.prizes(pool, entrants), state=state, level=tourney.level + 1,
                            small_blind=level.small, big_blind=level.big,
                            next_level_at=next_at, hands_to_next_level=hands_to,
                            next_blinds=None if nxt is None else [nxt.small, nxt.big], places=places)

    def _shared_view_fields(self) -> dict[str, Any]:
        return {**super()._shared_view_fields(), "sit_and_go": self._info()}
