"""A table host's part in provably fair deals: announce a deal's commitment, take each seat's contribution
until the deal, deal from their combined stream, reveal once the deal is over.

Before each deal (a Crazy Eights game, each Hearts deal, each Hold'em hand) the host adds a `Committed`
entry; every view then shows the commitment, and each seated player's client answers with an `entropy`
request carrying its own random value (`Contributed`). The deal waits until every seat it waits for has
sent one — a person at the table with a live connection, not away — or `entropy_wait` seconds at most;
seats that sent none (bots, absent players, late clients) get the server's value, which the seed fixes.
The deal entry names the fair deal, and `engine.evolve` derives its rng (so recovery and replay deal the
same cards). When the deal is over a `Revealed` entry publishes its seed, nonce and contributions.
The seed is only ever computed inside `engine`; nothing here puts it in a frame before `Revealed`.
"""

from __future__ import annotations

from common import protocol as p
from common.fairness import SCHEME
from common.views import FairCommit
from gameserver import engine as en
from gameserver import entries as e
from gameserver.rules.base import Event
from gameserver.table_types import Refused, Result, Sender

#: Entries whose pass carries the fair-deal facts in every view (otherwise only while one is announced).
FAIR_ENTRIES = (e.Committed, e.Contributed, e.Started, e.HandDealt, e.Redealt, e.Revealed)


class FairDealing:
    """Mixed into `Table`: what it needs from the host is declared here."""

    config: en.TableConfig
    state: en.TableState
    conns: dict[int, str]
    id: str
    entropy_wait: float
    #: When an announced deal is dealt even without every contribution (the host's `now` timebase).
    deal_due: float | None

    def _add(self, entry: e.AnyEntry) -> list[Event]:
        raise NotImplementedError

    def _ack(self, who: Sender, req: p.Entropy, rid: int, result: Result, seat: int | None = None) -> None:
        raise NotImplementedError

    def seat_of(self, user: int) -> int | None:
        raise NotImplementedError

    # ---- the host's hooks ------------------------------------------------------------------------

    def _contributors(self) -> list[int]:
        """The seats that contribute to the next deal (a match: every seat)."""
        return [i for i, s in enumerate(self.state.seats) if s is not None]

    def _deal_entry(self, fair: int) -> e.AnyEntry | None:
        """The entry that deals from fair deal `fair` now, or None if no deal can be made."""
        if self.state.game is None:
            return e.Started(fair=fair)
        redeals = self.config.redeals
        if redeals is not None and redeals.awaiting_deal(self.state.game):
            return e.Redealt(fair=fair)
        return None

    # ---- the steps ---------------------------------------------------------------------------------

    def _announce_deal(self, now: float) -> None:
        """Commit to the next deal; deal at once if nobody is to be waited for."""
        if en.pending_deal(self.state) is not None:  # announced already (its deal could not be made then)
            if self.deal_due is None:
                self.deal_due = now + self.entropy_wait
            self._deal_if_ready(now)
            return
        deal = en.next_deal_number(self.state)
        self._add(e.Committed(deal=deal, commitment=en.commitment_of(self.config, deal),
                              seats=self._contributors()))
        self.deal_due = now + self.entropy_wait
        self._deal_if_ready(now)

    def _awaited(self, fair: en.FairDeal) -> list[int]:
        """Seats whose client may still send its value: a person with a live connection, not away."""
        return [s for s in fair.seats if s not in fair.values and s in self.conns and self._person_here(s)]

    def _person_here(self, seat: int) -> bool:
        occupant = self.state.seats[seat]
        return occupant is not None and not occupant.bot and not occupant.away

    def _deal_if_ready(self, now: float, force: bool = False) -> None:
        fair = en.pending_deal(self.state)
        if fair is None:
            self.deal_due = None
            return
        if not force and self._awaited(fair) and (self.deal_due is None or now < self.deal_due):
            return
        entry = self._deal_entry(fair.deal)
        self.deal_due = None
        if entry is not None:
            self._add(entry)

    def _reveal_if_over(self, ended: bool) -> None:
        """After a move (`ended`: it ended the game or hand): once the dealt cards are all played, the
        deal's secret is published."""
        fair = self.state.fair
        if fair is None or not fair.dealt or fair.revealed:
            return
        redeals = self.config.redeals
        if ended or (redeals is not None and redeals.awaiting_deal(self.state.game)):
            self._add(e.Revealed(reveal=en.reveal_of(self.config, fair)))

    def _redeal_if_waiting(self, now: float) -> None:
        """A match waiting for its next deal (Hearts) gets that deal announced."""
        redeals, state = self.config.redeals, self.state
        if redeals is not None and en.in_hand(self.config, state) and redeals.awaiting_deal(state.game) \
                and en.pending_deal(state) is None:
            self._announce_deal(now)

    def _on_entropy(self, who: Sender, req: p.Entropy, rid: int, now: float, result: Result) -> None:
        seat = self.seat_of(who.user)
        if seat is None:
            raise Refused(p.E_NOT_SEATED, "only a seated player contributes to a deal")
        current, fair = self.state.fair, en.pending_deal(self.state)
        if fair is None or fair.deal != req.deal or fair.commitment != req.commitment:
            if current is not None and current.deal == req.deal and current.dealt:
                text = f"deal {req.deal} is already dealt: contributions are taken only before the deal"
            elif current is not None and current.deal == req.deal:
                text = f"that is not the commitment of deal {req.deal}"
            else:
                at = f"the current one is deal {current.deal}" if current is not None else "there is none yet"
                text = f"no commitment for deal {req.deal} at this table ({at})"
            raise Refused(p.E_NO_COMMITMENT, text)
        if seat not in fair.seats:
            raise Refused(p.E_NOT_SEATED, f"your seat does not contribute to deal {fair.deal} "
                          "(you sat down after it was announced)")
        if seat in fair.values:
            raise Refused(p.E_ALREADY_CONTRIBUTED, f"you already contributed to deal {fair.deal}")
        self._add(e.Contributed(deal=fair.deal, seat=seat, value=req.value))
        self._ack(who, req, rid, result, seat)
        self._deal_if_ready(now)

    def _fair_view(self, full: bool, pending: list[e.AnyEntry]) -> dict[str, object]:
        """The fair-deal fields of this pass's views: while a deal is announced, in a pass that changed
        one, and in a full view (join, resume, watch); the reveal only in those last two."""
        fair = self.state.fair
        if fair is None:
            return {}
        changed = any(isinstance(x, FAIR_ENTRIES) for x in pending)
        out: dict[str, object] = {}
        if full or changed or not fair.dealt:
            server = [s for s in fair.seats
                      if s not in fair.values and (fair.dealt or not self._person_here(s))]
            out["fair"] = FairCommit(scheme=SCHEME, deal=fair.deal, commitment=fair.commitment,
                                     seats=list(fair.seats), contributed=sorted(fair.values), server=server,
                                     dealt=fair.dealt)
        if self.state.reveal is not None and (full or any(isinstance(x, e.Revealed) for x in pending)):
            out["reveal"] = self.state.reveal
        return out
