"""The typed entries of a table's log: the only record of what changed, one struct per kind of change.

A table's log is a list of these, in `seq` order. `engine.evolve` applies one entry to a table's state;
live play, recovery, replay and hand-over all fold the same entries with it. Entries are versioned by
`LOG_FORMAT` (stored with each snapshot) and tagged by their `t` field; the stored JSON of an entry is
what `encode` gives. Entries hold no secret that the seed does not already give (the seed and the
snapshots, which hold dealt cards, stay in the game-server tier); a fair deal's seed is in the log only
in its `Revealed` entry, written once the deal is over.

Chips move only with entries: `chip_move(entry)` says which balance (a user's, or the house's for a
bot) an entry debits or credits, so the store writes the ledger in the same transaction as the log.
"""

from __future__ import annotations

from typing import Any

import msgspec

from common import tagged
from common.protocol import Action
from common.views import FairReveal

#: Version of the entry and snapshot formats; bumped when an entry's meaning changes.
LOG_FORMAT = 1
#: The account bots buy in from and cash out to.
HOUSE = 0


class Entry(msgspec.Struct, tag_field="t", frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Base of every log entry."""


class Seated(Entry, tag="seat", frozen=True):
    """A person or a bot sat down with `stack` chips (cash tables: bought in from the balance). At a
    sit-and-go, `paid` (the buy-in and fee) came from the balance and `stack` is tournament chips."""

    seat: int
    user: int  # 0 for a bot
    name: str
    bot: bool = False
    stack: int = 0
    paid: int | None = None


class Unseated(Entry, tag="unseat", frozen=True):
    """The seat was freed; `cashout` chips went back to `user`'s balance (user 0: the house, for a bot)."""

    seat: int
    user: int = HOUSE
    cashout: int = 0


class Away(Entry, tag="away", frozen=True):
    """The player left a game in progress: a bot plays the seat until the player is back."""

    seat: int


class Back(Entry, tag="back", frozen=True):
    """The player is back at a seat a bot was playing for them."""

    seat: int


class Leaving(Entry, tag="leaving", frozen=True):
    """Cash tables: the player stands up when the current hand ends (a bot folds it out meanwhile)."""

    seat: int


class StoodUp(Entry, tag="stood_up", frozen=True):
    """A match in progress: the absent player's seat went to a bot for good."""

    seat: int


class SatOut(Entry, tag="sat_out", frozen=True):
    """The player sits out: at a cash table dealt out from the next hand on (no blinds) until they sit
    in again; at a match table a bot plays the seat (marked away) until they are back."""

    seat: int


class SatIn(Entry, tag="sat_in", frozen=True):
    """The player who sat out is back: dealt into the next hand."""

    seat: int


class Banked(Entry, tag="banked", frozen=True):
    """Seconds `seat` drew this turn from its time bank (its turn clock had run out) and from its
    disconnection bank (its turn waited for it while it was disconnected)."""

    seat: int
    time: float = 0.0
    disconnect: float = 0.0


class ToppedUp(Entry, tag="topped_up", frozen=True):
    """Cash tables, between hands: `user` added `amount` chips from their balance to the seat's stack
    (a rebuy when the stack was empty)."""

    seat: int
    user: int
    amount: int


class Started(Entry, tag="start", frozen=True):
    """The match was dealt: from deal `fair`'s derived deck (`common.fairness`), or, in logs from before
    fair deals, from the table's seed."""

    fair: int | None = None


class HandDealt(Entry, tag="hand", frozen=True):
    """Cash tables: hand `n` was dealt from the seed, with these stacks and this button."""

    n: int
    stacks: list[int]
    button: int
    fair: int | None = None  # the fair deal whose deck this hand is dealt from (None: older logs)
    level: int | None = None  # a sit-and-go: the blind level (0 = the first) this hand posts
    blinds: list[int] | None = None  # [small, big] of that level (None: the table's options)


class Redealt(Entry, tag="deal", frozen=True):
    """A match that deals again (Hearts' next deal) was dealt from deal `fair`'s deck."""

    fair: int


class Committed(Entry, tag="commit", frozen=True):
    """Fair deal `deal` was announced before its cards: `commitment` = SHA-256(seed || nonce), the seed and
    nonce derived from the table's secret (`common.fairness.deal_secret`, so no secret is in the log);
    `seats` contribute a random value each, in this order."""

    deal: int
    commitment: str
    seats: list[int]


class Contributed(Entry, tag="entropy", frozen=True):
    """`seat`'s client sent its random value (64 hex digits) for deal `deal`, before the deal."""

    deal: int
    seat: int
    value: str


class Revealed(Entry, tag="reveal", frozen=True):
    """Deal `reveal.deal` ended: its seed, nonce and every contribution are public (what an export shows
    and `python -m common.fairness verify` checks)."""

    reveal: FairReveal


class Acted(Entry, tag="act", frozen=True):
    """`seat` took `action`. `by` says who decided it: the player, a bot, or the turn clock.

    A player's move carries their `user`, request id `req` and the `from_seq` they acted on, so a retry
    of the same request is answered instead of applied twice.
    """

    seat: int
    action: Action
    by: str = "player"  # "player" | "bot" | "clock"
    user: int | None = None
    req: int | None = None
    from_seq: int | None = None


class SitAndGoStarted(Entry, tag="sng_start", frozen=True):
    """A sit-and-go's last seat was taken: registration is closed and the blind levels count from `at`
    (wall-clock seconds)."""

    at: float


class Busted(Entry, tag="busted", frozen=True):
    """A sit-and-go entrant ran out of chips and finished in `place`; the seat stays, dealt out."""

    seat: int
    place: int


class Prize(msgspec.Struct, frozen=True):
    seat: int
    user: int  # 0: a bot's prize goes to the house, which paid its entry
    place: int
    amount: int


class SitAndGoEnded(Entry, tag="sng_end", frozen=True):
    """The sit-and-go ended with `winner` holding every chip: `prizes` are credited to balances and
    `fee` (every entrant's) to the house, out of what the entrants paid."""

    winner: int
    prizes: list[Prize]
    fee: int = 0


class Closed(Entry, tag="closed", frozen=True):
    """The table closed (everybody left); a closed table never gets another entry."""

    reason: str = ""


AnyEntry = (Seated | Unseated | Away | Back | Leaving | StoodUp | Started | HandDealt | Acted | Closed
            | Redealt | Committed | Contributed | Revealed | SatOut | SatIn | Banked | ToppedUp
            | SitAndGoStarted | Busted | SitAndGoEnded)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AnyEntry)


def encode(entry: Entry) -> bytes:
    return _encoder.encode(entry)


def decode(raw: bytes | str) -> AnyEntry:
    entry: AnyEntry = _decoder.decode(raw)
    return entry


def to_builtins(entry: Entry) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(entry)
    return out


_to_entry = tagged.converter(AnyEntry)


def from_builtins(obj: Any) -> AnyEntry:
    """An entry from its stored JSON object (older rows stored before `by` existed read as a player's)."""
    entry: AnyEntry = _to_entry(obj)
    return entry


def chip_moves(entry: Entry) -> list[tuple[int, int]]:
    """Every (account, +/- chips) this entry moves between balances and the table: `chip_move`'s, or a
    sit-and-go's end: each prize and the fees to the house."""
    if isinstance(entry, SitAndGoEnded):
        moves = [(prize.user, prize.amount) for prize in entry.prizes if prize.amount]
        return moves + [(HOUSE, entry.fee)] if entry.fee else moves
    move = chip_move(entry)
    return [] if move is None else [move]


def chip_move(entry: Entry) -> tuple[int, int] | None:
    """(account, +/- chips) this entry moves between a balance and the table, if any (one at most: see
    `chip_moves` for the entry that moves several).

    A `Seated` stack (a sit-and-go's `paid` instead) and a `ToppedUp` amount are debits of the player's
    balance, an `Unseated` cashout a credit; account 0 is the house, which bots buy in from.
    """
    if isinstance(entry, Seated) and entry.paid is not None:
        return (entry.user, -entry.paid) if entry.paid else None
    if isinstance(entry, Seated) and entry.stack:
        return (entry.user, -entry.stack)
    if isinstance(entry, Unseated) and entry.cashout:
        return (entry.user, entry.cashout)
    if isinstance(entry, ToppedUp) and entry.amount:
        return (entry.user, -entry.amount)
    return None
